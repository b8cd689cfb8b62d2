/*
 * A guest's configuration as Xenon uses it, built from a parsed Xen config
 * file (lib/xl_config.h): every key of the 2008 Xen tutorial and the core
 * of xl.cfg(5), checked, with xl's defaults filled in.  Also the device
 * spec grammars (xl-disk-configuration(5), xl-network-configuration(5)),
 * the CPU list, UUID and MAC helpers, and the JSON form printed by
 * `xm create -n` (schema: docs/config-files.md).
 */
#ifndef XENON_DOMAIN_CONFIG_H
#define XENON_DOMAIN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/xl_config.h"

#define DOMAIN_MAX_VCPUS          128
#define DOMAIN_MAX_MEMORY_MB      (1ULL << 30)  /* as xenon-vmm --memory */
#define DOMAIN_MAX_HOST_CPUS      1024          /* CPUs a cpus= list can name */
#define DOMAIN_MAX_DISKS          256
#define DOMAIN_MAX_VIFS           64
#define DOMAIN_DEFAULT_MEMORY_MB  128
#define DOMAIN_DEFAULT_CPU_WEIGHT 256
#define XL_DEFAULT_BRIDGE         "xenbr0"

enum domain_type { DOMAIN_PV, DOMAIN_PVH, DOMAIN_HVM };

enum domain_action {
	ACTION_DESTROY, ACTION_RESTART, ACTION_RENAME_RESTART, ACTION_PRESERVE,
	ACTION_COREDUMP_DESTROY, ACTION_COREDUMP_RESTART,
};

/* ---- Host CPU sets (cpus=) ----------------------------------------------- */

struct cpumap {
	uint64_t bits[DOMAIN_MAX_HOST_CPUS / 64];
};

bool cpumap_test(const struct cpumap *m, unsigned cpu);
void cpumap_set(struct cpumap *m, unsigned cpu);
/* "all", "0-3,5,^1", "all,^7" (xl.cfg(5) CPULIST; NUMA node forms are
 * refused).  Returns 0, or -1 with *why set. */
int xl_cpulist_parse(const char *s, struct cpumap *m, const char **why);
/* Canonical ranges, "0-2,5"; malloc'd. */
char *cpumap_format(const struct cpumap *m);

struct domain_cpus {
	size_t n;             /* 0: no pinning */
	struct cpumap *maps;  /* per_vcpu ? maps[i] for vCPU i : maps[0] for all */
	bool per_vcpu;
};

/* ---- Disks: xl-disk-configuration(5) ------------------------------------ */

enum xl_disk_format {
	XL_FORMAT_RAW, XL_FORMAT_QCOW, XL_FORMAT_QCOW2, XL_FORMAT_VHD,
	XL_FORMAT_QED, XL_FORMAT_EMPTY,          /* EMPTY: cdrom with no media */
};

/* How the host side reaches the data. */
enum xl_disk_backend {
	XL_BACKEND_PHY,       /* a host block device */
	XL_BACKEND_FILE,      /* a raw image file */
	XL_BACKEND_TAP_AIO,   /* a raw image file, asynchronous I/O (tap:aio:) */
	XL_BACKEND_QCOW2,     /* a qcow2 image */
};

/* loc, in xl_disk and xl_vif, says where the spec was written; its file
 * name belongs to the struct xl_config parsed, so it is cleared when
 * domain_config_load_*() free theirs. */
struct xl_disk {
	char *spec;           /* as written, for messages */
	struct xl_loc loc;
	char *target;         /* NULL for an empty cdrom drive */
	enum xl_disk_format format;
	enum xl_disk_backend backend;
	char *vdev;           /* "xvda", "hdc", ... */
	uint32_t devnum;      /* Xen's virtual device number for vdev */
	bool readonly;
	bool is_cdrom;
	bool discard;         /* advertise discard (default true) */
	bool direct_io_safe;
	bool trusted;         /* default true */
	char *script;         /* block hotplug script, NULL for none */
};

/* Where a device spec came from, for its messages:
 * "guest.cfg:7:12: disk[1]: 'SPEC': ..." */
struct xl_spec_ctx {
	struct xl_msgs *msgs;
	struct xl_loc loc;
	const char *what;     /* "disk[1]" */
};

/* Parse one DISKSPEC.  Returns 0, or -1 after adding errors; *disk is then
 * empty.  Either way xl_disk_free() is safe. */
int xl_disk_parse(struct xl_disk *disk, const char *spec,
		  const struct xl_spec_ctx *ctx);
void xl_disk_free(struct xl_disk *disk);
/* Xen's device number for a vdev name (xvda = 51712, hdc = 5632, sda1 =
 * 2049, xvdq = (1 << 28) | (16 << 8), "d0p1", or a plain number).
 * Returns 0 or -1. */
int xl_vdev_number(const char *vdev, uint32_t *devnum);
const char *xl_disk_format_name(enum xl_disk_format f);
const char *xl_disk_backend_name(enum xl_disk_backend b);

/* ---- Network interfaces: xl-network-configuration(5) -------------------- */

enum xl_vif_type { XL_VIF_TYPE_DEFAULT, XL_VIF_TYPE_VIF, XL_VIF_TYPE_IOEMU };

struct xl_vif {
	char *spec;
	struct xl_loc loc;
	uint8_t mac[6];
	bool mac_given;       /* false: made by xl_mac_generate() */
	int devid;            /* -1 until domain_config assigns one */
	enum xl_vif_type type;
	char *bridge;         /* default XL_DEFAULT_BRIDGE */
	char *gatewaydev, *model, *vifname, *script, *ip;
	uint64_t rate_bytes_per_sec;   /* 0: unlimited */
	uint32_t rate_interval_us;
	unsigned mtu;         /* 0: the bridge's */
	bool trusted;
};

int xl_vif_parse(struct xl_vif *vif, const char *spec,
		 const struct xl_spec_ctx *ctx);
void xl_vif_free(struct xl_vif *vif);
/* "00:16:3e:12:34:56" (two hex digits per byte, any case).  Returns 0 or
 * -1. */
int xl_mac_parse(const char *s, uint8_t mac[6]);
void xl_mac_format(const uint8_t mac[6], char out[18]);
/* A MAC in Xen's OUI 00:16:3e whose low three bytes are a hash of the
 * domain UUID and the devid: random across domains (the UUID is random
 * unless given), yet the same every time the same domain is created. */
void xl_mac_generate(const uint8_t uuid[16], unsigned devid, uint8_t mac[6]);
/* "10Mb/s", "250KB/s", "1MB/s@20ms" -> bytes per second and the credit
 * interval (default 50 ms).  Returns 0, or -1 with *why set. */
int xl_rate_parse(const char *s, uint64_t *bytes_per_sec,
		  uint32_t *interval_us, const char **why);

/* ---- UUIDs --------------------------------------------------------------- */

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", any case.  Returns 0 or -1. */
int xl_uuid_parse(const char *s, uint8_t uuid[16]);
void xl_uuid_format(const uint8_t uuid[16], char out[37]);
/* A random (version 4) UUID. */
void xl_uuid_generate(uint8_t uuid[16]);

/* ---- Keys Xenon reads but cannot honour yet ------------------------------ */

/* One table (lib/xl_unsupported.c) so that each feature that lands deletes
 * its line.  sub is NULL for a whole key, else an option inside a device
 * spec ("vif", "backend"). */
struct xl_unsupported {
	const char *key;
	const char *sub;
	const char *why;
};

const struct xl_unsupported *xl_unsupported_find(const char *key,
						 const char *sub);

/* ---- The domain ---------------------------------------------------------- */

struct domain_config {
	char *name;
	uint8_t uuid[16];
	bool uuid_given;              /* false: generated */
	enum domain_type type;

	/* Boot.  cmdline is what the guest gets: cmdline= if given, else
	 * xm's ip= (from dhcp/ip/...), root= and extra= joined as xl does. */
	char *kernel, *ramdisk, *cmdline;
	char *root, *extra;           /* as written */
	char *bootloader;
	char *hvmloader;              /* HVM: xm's kernel=".../hvmloader" */
	char *dhcp, *ip, *gateway, *netmask, *hostname;

	uint64_t memory_mb, maxmem_mb;
	unsigned vcpus, maxvcpus;
	struct domain_cpus cpus;
	unsigned cpu_weight;          /* 1..65535 */
	unsigned cap;                 /* percent of one CPU, 0 = no cap */
	enum domain_action on_poweroff, on_reboot, on_crash;

	struct xl_disk *disks;        /* sorted by devnum */
	size_t n_disks;
	struct xl_vif *vifs;          /* in config order */
	size_t n_vifs;
	char **serial;
	size_t n_serial;

	/* HVM */
	char *device_model;
	char *boot;                   /* boot order, "cd" by default */
	bool acpi, apic, pae;

	/* Display */
	bool sdl, vnc, vncunused;
	char *vnclisten, *vncpasswd;
	int vncdisplay;               /* -1: not set */
};

void domain_config_init(struct domain_config *dc);
void domain_config_free(struct domain_config *dc);

/*
 * Build DC from a parsed config: unknown keys and deprecated ones warn,
 * bad values and keys Xenon cannot honour are errors.  Returns 0, or -1
 * if any error was added (DC is then empty; freeing it is harmless).
 */
int domain_config_from_xl(struct domain_config *dc,
			  const struct xl_config *cfg, struct xl_msgs *msgs);

/* Parse TEXT (named SOURCE), apply KEY=VALUE overrides, build DC. */
int domain_config_load_text(struct domain_config *dc, const char *source,
			    const char *text, size_t len,
			    const char *const *overrides, size_t n_overrides,
			    struct xl_msgs *msgs);
/* The same for a file. */
int domain_config_load_file(struct domain_config *dc, const char *path,
			    const char *const *overrides, size_t n_overrides,
			    struct xl_msgs *msgs);

/* The JSON form (a new reference; link with -ljansson), and the same as
 * indented text (malloc'd). */
struct json_t *domain_config_to_json(const struct domain_config *dc);
char *domain_config_to_json_text(const struct domain_config *dc);

const char *domain_type_name(enum domain_type t);
const char *domain_action_name(enum domain_action a);

#endif
