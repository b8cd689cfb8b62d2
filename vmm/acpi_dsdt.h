/* The DSDT's AML body (the definition block after the table header). */
#ifndef XENON_ACPI_DSDT_H
#define XENON_ACPI_DSDT_H

#include <stdbool.h>

#include "vmm/acpi_aml.h"

struct dsdt_config {
	unsigned nr_vcpus;
	bool com1;          /* the 16550 at 0x3f8 exists (--serial) */
};

/* Appends the namespace to a; errors are left in a (see aml_finish). */
void dsdt_build(struct aml *a, const struct dsdt_config *cfg);

#endif
