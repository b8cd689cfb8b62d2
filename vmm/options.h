/* The xenon-vmm command line, parsed once in vmm/options.c. */
#ifndef XENON_OPTIONS_H
#define XENON_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct ram_image;

/* --verify-ram: when a restore checks the RAM image's chunk CRCs. */
enum verify_ram { VERIFY_RAM_EAGER, VERIFY_RAM_LAZY, VERIFY_RAM_NONE };

enum chardev_kind { CHARDEV_NONE, CHARDEV_NULL, CHARDEV_STDIO, CHARDEV_PTY,
		    CHARDEV_FILE, CHARDEV_UNIX };

/* Where a console's bytes go: "null", "stdio", "pty" or "file:PATH". */
struct chardev_spec {
	enum chardev_kind kind;
	const char *path;        /* CHARDEV_FILE, CHARDEV_UNIX */
};

#define VMM_MAX_VIFS 16
/* One PCI slot each on bus 0 (slot 0 is the host bridge). */
#define VMM_MAX_DISKS 31

struct vmm_options {
	const char *name;
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	uint64_t mem_mib;
	unsigned vcpus;
	struct chardev_spec serial;      /* 16550 COM1 */
	struct chardev_spec vconsole;    /* virtio-console; NONE = no device */
	const char *control_path;        /* control socket; NULL = none */
	struct chardev_spec xenstore;    /* xenstore channel: NONE or UNIX */
	const char *pty_link;            /* symlink made to a pty console */
	const char *exit_file;           /* why the domain ended, for xenond */
	bool start_paused;
	bool verbose;
	/* Network interfaces: xl vif specs, one virtio-net device each. */
	const char *vifs[VMM_MAX_VIFS];
	unsigned n_vifs;
	const char *uuid;                /* domain UUID text; NULL = random */
	/* --disk SPEC, xl disk specs in command-line order (devices/disks.c) */
	const char *disks[VMM_MAX_DISKS];
	unsigned n_disks;

	/* Save/restore and migration (docs/save-format.md). */
	const char *restore;             /* --restore FILE */
	const char *incoming;            /* --incoming tcp:HOST:PORT | fd:N */
	const char *incoming_key_file;   /* shared migration secret */
	unsigned incoming_timeout_ms;    /* I/O timeout of the incoming stream */
	enum verify_ram verify_ram;      /* --restore: when RAM CRCs are checked */
	bool verify_ram_given;
	bool save_info;                  /* --save-info FILE: check, describe, exit */
	bool serial_given, vconsole_given; /* explicitly on the command line */
	bool machine_given;              /* kernel/initrd/cmdline/memory/vcpus */
	/* The command line that built the device model (argv[0] excluded):
	 * ours, or the saved one when restoring; recorded in save streams. */
	int model_argc;
	char *const *model_argv;
	/* Guest RAM comes from a save file's image instead of a new memfd. */
	const struct ram_image *ram_image;
};

/* Returns 0 and fills opts, or prints a clear message and returns -1. */
int vmm_options_parse(struct vmm_options *opts, int argc, char **argv);
/* For --restore/--incoming: the machine from the saved command line
 * (saved_argv, argv[0] excluded), the host side (control socket,
 * consoles, name, paused, verbose) from cli.  -1 with a message. */
int vmm_options_merge_saved(struct vmm_options *out,
			    const struct vmm_options *cli, int saved_argc,
			    char **saved_argv);
void vmm_usage(FILE *out);

#endif
