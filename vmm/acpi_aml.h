/*
 * A small AML (ACPI Machine Language) byte-code builder, enough for the
 * DSDT of the Xenon platform: scopes, devices, methods, names, packages,
 * buffers, integers, strings, EISA ids and the resource descriptors of
 * _CRS.  Encodings follow ACPI 6.x chapter 20 (AML) and 6.4 (resources).
 *
 * Objects with a PkgLength (Scope, Device, Method, Package, Buffer) are
 * opened with aml_*_begin() and closed with aml_end(); the length is only
 * known at the end, so it is inserted then, in its shortest encoding.
 * Errors (out of memory, unbalanced nesting, bad names) are sticky: the
 * builder stops appending and aml_finish() reports them once.
 */
#ifndef XENON_ACPI_AML_H
#define XENON_ACPI_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 16

enum aml_kind { AML_SCOPE, AML_DEVICE, AML_METHOD, AML_PACKAGE, AML_BUFFER };

struct aml {
	uint8_t *data;
	size_t len, cap;
	struct {
		enum aml_kind kind;
		size_t start;   /* first byte after the opcode */
	} open[AML_MAX_DEPTH];
	unsigned depth;
	const char *error;  /* first error, or NULL */
};

void aml_init(struct aml *a);
void aml_free(struct aml *a);
/* 0 with the byte code in a->data / a->len, or -1 after logging why. */
int aml_finish(struct aml *a);

/* Raw bytes. */
void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);

/* "\\_SB.PCI0", "^FOO", "_HID": segments shorter than 4 are padded with '_'. */
void aml_name_string(struct aml *a, const char *path);
/* Shortest encoding: Zero, One, Ones, Byte/Word/DWord/QWord prefix. */
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
/* "PNP0A03" -> the compressed EISA id as a DWord integer. */
void aml_eisaid(struct aml *a, const char *id);
uint32_t aml_eisaid_value(const char *id);

/* Name(path, <object that follows>) */
void aml_name(struct aml *a, const char *path);

void aml_scope_begin(struct aml *a, const char *path);
void aml_device_begin(struct aml *a, const char *path);
void aml_method_begin(struct aml *a, const char *path, unsigned nargs,
		      bool serialized);
void aml_package_begin(struct aml *a, unsigned nelems);
void aml_buffer_begin(struct aml *a);
void aml_end(struct aml *a);

/* Return(<object that follows>) */
void aml_return(struct aml *a);

/* ---- Resource descriptors (inside aml_buffer_begin .. aml_end) -------- */
void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align,
		uint8_t len);
void aml_res_irq_noflags(struct aml *a, uint16_t irq_mask);
void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max);
void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max);
void aml_res_dword_mem(struct aml *a, uint32_t min, uint32_t max);
void aml_res_end(struct aml *a);

#endif
