/* The xenon-vmm command line. */
#include "vmm/options.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/domain_config.h"
#include "lib/log.h"

enum { OPT_SERIAL = 256, OPT_VCONSOLE, OPT_CONTROL, OPT_PTY_LINK, OPT_PAUSED,
       OPT_XENSTORE, OPT_DISK };
enum { OPT_EXIT_FILE = 300, OPT_VIF, OPT_UUID, OPT_RESTORE, OPT_INCOMING,
       OPT_INCOMING_KEY, OPT_INCOMING_TIMEOUT, OPT_NO_VERIFY_RAM, OPT_VERIFY_RAM,
       OPT_SAVE_INFO };

static const struct option long_opts[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "ramdisk", required_argument, NULL, 'i' },
	{ "cmdline", required_argument, NULL, 'a' },
	{ "memory", required_argument, NULL, 'm' },
	{ "vcpus", required_argument, NULL, 'c' },
	{ "name", required_argument, NULL, 'n' },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "vconsole", required_argument, NULL, OPT_VCONSOLE },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "pty-link", required_argument, NULL, OPT_PTY_LINK },
	{ "paused", no_argument, NULL, OPT_PAUSED },
	{ "exit-file", required_argument, NULL, OPT_EXIT_FILE },
	{ "xenstore", required_argument, NULL, OPT_XENSTORE },
	{ "vif", required_argument, NULL, OPT_VIF },
	{ "uuid", required_argument, NULL, OPT_UUID },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "restore", required_argument, NULL, OPT_RESTORE },
	{ "incoming", required_argument, NULL, OPT_INCOMING },
	{ "incoming-key-file", required_argument, NULL, OPT_INCOMING_KEY },
	{ "incoming-timeout", required_argument, NULL, OPT_INCOMING_TIMEOUT },
	{ "no-verify-ram", no_argument, NULL, OPT_NO_VERIFY_RAM },
	{ "verify-ram", required_argument, NULL, OPT_VERIFY_RAM },
	{ "save-info", required_argument, NULL, OPT_SAVE_INFO },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

void vmm_usage(FILE *out)
{
	fputs("usage: xenon-vmm --kernel FILE [options]\n"
	      "Run one domain under KVM.\n\n"
	      "  -k, --kernel FILE     ELF kernel with a PVH note, or Linux bzImage\n"
	      "  -i, --initrd FILE     initial ramdisk (also --ramdisk)\n"
	      "  -a, --cmdline TEXT    kernel command line\n"
	      "  -m, --memory SIZE     guest RAM in MiB, or with a M/G suffix (default 128)\n"
	      "  -c, --vcpus N         virtual CPUs (default 1)\n"
	      "  -n, --name NAME       domain name, for messages\n"
	      "      --serial SPEC     COM1 console: stdio, pty, file:PATH or null\n"
	      "                        (default stdio)\n"
	      "      --vconsole SPEC   virtio-console: stdio, pty, file:PATH or null\n"
	      "                        (default: no device)\n"
	      "      --control PATH    control socket (JSON lines: status, pause,\n"
	      "                        resume, stop, power-button)\n"
	      "      --pty-link PATH   symlink to the console pty\n"
	      "      --xenstore unix:PATH\n"
	      "                        xenstore channel (a virtio console with PCI\n"
	      "                        subsystem 1af4:5853) relayed to xenond's socket\n"
	      "                        for this domain; reconnects if xenond restarts\n"
	      "      --paused          create the domain paused\n"
	      "      --exit-file PATH  write why the domain ended (poweroff,\n"
	      "                        reboot, crash, internal, stopped, error)\n"
	      "      --vif SPEC        virtio-net on a TAP device; SPEC is an xl vif\n"
	      "                        spec (mac=,vifname=,rate=,mtu=,bridge=...);\n"
	      "                        repeat for more interfaces\n"
	      "      --uuid UUID       domain UUID (seeds generated MAC addresses)\n"
	      "      --disk SPEC       a virtio-blk disk; SPEC is an xl disk spec\n"
	      "                        (xl-disk-configuration(5)), e.g.\n"
	      "                        'format=raw, vdev=xvda, access=rw, target=IMG'\n"
	      "                        or 'phy:/dev/loop0,xvdb,r'; repeatable\n"
	      "      --restore FILE    rebuild a domain from a save file\n"
	      "      --save-info FILE  check a save file completely and print its\n"
	      "                        config as one JSON line, then exit\n"
	      "      --verify-ram MODE with --restore, when the RAM image's checksums\n"
	      "                        are checked: 'eager' (default: all before the\n"
	      "                        guest runs), 'lazy' (each 1 MiB chunk before\n"
	      "                        the guest first sees it, pages brought in by\n"
	      "                        userfaultfd: restore time stays flat; a bad\n"
	      "                        chunk stops the domain) or 'none'\n"
	      "      --no-verify-ram   the same as --verify-ram=none\n"
	      "      --incoming tcp:HOST:PORT | fd:N\n"
	      "                        receive a migrating domain\n"
	      "      --incoming-key-file FILE\n"
	      "                        shared secret for --incoming\n"
	      "      --incoming-timeout MS\n"
	      "                        give up when the source is silent this long\n"
	      "                        (default 10000)\n"
	      "  -v, --verbose         debug messages\n"
	      "  -h, --help            this text\n\n"
	      "Exit status: 0 guest powered off, 1 bad input or start failure,\n"
	      "3 guest reboot, 4 guest crash, 5 KVM internal error, 6 stopped,\n"
	      "7 saved or migrated away.\n",
	      out);
}

static int parse_size_mib(const char *s, uint64_t *mib)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	if (*end == 'G' || *end == 'g') {
		if (v > (UINT64_MAX >> 10))
			return -1;
		v <<= 10;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		end++;
	}
	if (*end == 'i' && (end[-1] == 'G' || end[-1] == 'M'))
		end++;
	if (*end)
		return -1;
	*mib = v;
	return 0;
}

static int parse_uint(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > 1000000)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_chardev(const char *opt, const char *s, struct chardev_spec *c)
{
	if (!strcmp(s, "stdio"))
		c->kind = CHARDEV_STDIO;
	else if (!strcmp(s, "pty"))
		c->kind = CHARDEV_PTY;
	else if (!strcmp(s, "null"))
		c->kind = CHARDEV_NULL;
	else if (!strcmp(s, "none"))
		c->kind = CHARDEV_NONE;
	else if (!strncmp(s, "file:", 5) && s[5]) {
		c->kind = CHARDEV_FILE;
		c->path = s + 5;
	} else {
		log_error("--%s: '%s' is not one of stdio, pty, file:PATH, null, none",
			  opt, s);
		return -1;
	}
	return 0;
}

/* --xenstore unix:PATH (the only kind that makes sense for a channel). */
static int parse_xenstore(const char *s, struct chardev_spec *c)
{
	if (!strncmp(s, "unix:", 5) && s[5]) {
		c->kind = CHARDEV_UNIX;
		c->path = s + 5;
		return 0;
	}
	if (!strcmp(s, "none")) {
		c->kind = CHARDEV_NONE;
		return 0;
	}
	log_error("--xenstore: '%s' is not unix:PATH", s);
	return -1;
}

/* The spec's syntax is checked here; devices/disks.c opens it. */
static int add_disk(struct vmm_options *o, const char *spec)
{
	struct xl_msgs msgs;
	struct xl_disk d;
	char what[32];
	struct xl_spec_ctx ctx = { &msgs, { NULL, 0, 0 }, what };
	int rc;

	if (o->n_disks == VMM_MAX_DISKS) {
		log_error("--disk: at most %d disks", VMM_MAX_DISKS);
		return -1;
	}
	snprintf(what, sizeof(what), "disk[%u]", o->n_disks);
	xl_msgs_init(&msgs);
	rc = xl_disk_parse(&d, spec, &ctx);
	for (size_t i = 0; rc < 0 && i < msgs.n; i++)
		log_error("%s", msgs.v[i].text);
	xl_msgs_free(&msgs);
	xl_disk_free(&d);
	if (rc == 0)
		o->disks[o->n_disks++] = spec;
	return rc;
}

static int parse_verify_ram(const char *arg, enum verify_ram *mode)
{
	static const char *const names[] = {
		[VERIFY_RAM_EAGER] = "eager", [VERIFY_RAM_LAZY] = "lazy",
		[VERIFY_RAM_NONE] = "none",
	};

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(arg, names[i])) {
			*mode = (enum verify_ram)i;
			return 0;
		}
	log_error("--verify-ram: '%s': expected eager, lazy or none", arg);
	return -1;
}

static int parse_one(struct vmm_options *o, int c, const char *arg)
{
	if (c > 0 && c < 128 && strchr("kiamc", c))
		o->machine_given = true;
	switch (c) {
	case 'k': o->kernel = arg; return 0;
	case 'i': o->initrd = arg; return 0;
	case 'a': o->cmdline = arg; return 0;
	case 'n': o->name = arg; return 0;
	case 'v': o->verbose = true; return 0;
	case OPT_CONTROL: o->control_path = arg; return 0;
	case OPT_PTY_LINK: o->pty_link = arg; return 0;
	case OPT_PAUSED: o->start_paused = true; return 0;
	case OPT_EXIT_FILE: o->exit_file = arg; return 0;
	case OPT_UUID: o->uuid = arg; return 0;
	case OPT_VIF:
		if (o->n_vifs < VMM_MAX_VIFS) {
			o->vifs[o->n_vifs++] = arg;
			return 0;
		}
		log_error("--vif: more than %d interfaces", VMM_MAX_VIFS);
		return -1;
	case OPT_XENSTORE: return parse_xenstore(arg, &o->xenstore);
	case OPT_DISK: return add_disk(o, arg);
	case OPT_SERIAL:
		o->serial_given = true;
		return parse_chardev("serial", arg, &o->serial);
	case OPT_VCONSOLE:
		o->vconsole_given = true;
		return parse_chardev("vconsole", arg, &o->vconsole);
	case OPT_RESTORE: o->restore = arg; return 0;
	case OPT_NO_VERIFY_RAM:
		o->verify_ram_given = true;
		o->verify_ram = VERIFY_RAM_NONE;
		return 0;
	case OPT_VERIFY_RAM:
		o->verify_ram_given = true;
		return parse_verify_ram(arg, &o->verify_ram);
	case OPT_SAVE_INFO:
		o->save_info = true;
		o->restore = arg;
		return 0;
	case OPT_INCOMING: o->incoming = arg; return 0;
	case OPT_INCOMING_KEY: o->incoming_key_file = arg; return 0;
	case OPT_INCOMING_TIMEOUT:
		if (parse_uint(arg, &o->incoming_timeout_ms) == 0 &&
		    o->incoming_timeout_ms >= 100)
			return 0;
		log_error("--incoming-timeout: '%s' is not a number of "
			  "milliseconds (at least 100)", arg);
		return -1;
	case 'm':
		if (parse_size_mib(arg, &o->mem_mib) == 0)
			return 0;
		log_error("--memory: '%s' is not a size in MiB", arg);
		return -1;
	case 'c':
		if (parse_uint(arg, &o->vcpus) == 0)
			return 0;
		log_error("--vcpus: '%s' is not a number", arg);
		return -1;
	default:
		return -1;
	}
}

/* With --restore/--incoming the machine comes from the stream: options
 * that would describe another one are refused rather than ignored. */
static int check_restore_options(const struct vmm_options *o)
{
	const char *what = o->restore ? "--restore" : "--incoming";

	if (o->restore && o->incoming) {
		log_error("--restore and --incoming cannot be used together");
		return -1;
	}
	if (o->machine_given) {
		log_error("%s: the kernel, command line, memory and vCPUs come "
			  "from the saved domain and cannot be given", what);
		return -1;
	}
	return 0;
}

static int check_options(const struct vmm_options *o)
{
	uint8_t uuid[16];

	if (o->verify_ram_given && !o->restore) {
		log_error("--verify-ram/--no-verify-ram need --restore");
		return -1;
	}
	if ((o->incoming_key_file || o->incoming_timeout_ms) && !o->incoming) {
		log_error("--incoming-key-file and --incoming-timeout need --incoming");
		return -1;
	}
	if (o->restore || o->incoming)
		return check_restore_options(o);
	if (!o->kernel) {
		log_error("no kernel given (--kernel FILE)");
		return -1;
	}
	if (o->mem_mib < 4) {
		log_error("memory: %" PRIu64 " MiB is too small (at least 4 MiB)",
			  o->mem_mib);
		return -1;
	}
	if (o->mem_mib > (1ULL << 30)) {
		log_error("memory: %" PRIu64 " MiB is too large", o->mem_mib);
		return -1;
	}
	if (o->vcpus == 0) {
		log_error("vcpus: 0 is out of range (at least 1)");
		return -1;
	}
	if (o->uuid && xl_uuid_parse(o->uuid, uuid) < 0) {
		log_error("--uuid: '%s' is not a UUID "
			  "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", o->uuid);
		return -1;
	}
	return 0;
}

int vmm_options_parse(struct vmm_options *o, int argc, char **argv)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->model_argc = argc > 0 ? argc - 1 : 0;
	o->model_argv = argc > 0 ? argv + 1 : argv;
	optind = 0;     /* parsed more than once when restoring */
	o->mem_mib = 128;
	o->vcpus = 1;
	o->serial.kind = CHARDEV_STDIO;
	o->vconsole.kind = CHARDEV_NONE;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:i:a:m:c:n:vh", long_opts, NULL)) != -1) {
		if (c == 'h') {
			vmm_usage(stdout);
			exit(0);
		}
		if (c == '?') {
			log_error("unknown option '%s' (see --help)", argv[optind - 1]);
			return -1;
		}
		if (c == ':') {
			log_error("option '%s' needs a value", argv[optind - 1]);
			return -1;
		}
		if (parse_one(o, c, optarg) < 0)
			return -1;
	}
	if (optind < argc) {
		log_error("unexpected argument '%s' (see --help)", argv[optind]);
		return -1;
	}
	return check_options(o);
}

/* Kept for the life of the process: the options point into it. */
static char **merged_argv;

int vmm_options_merge_saved(struct vmm_options *out,
			    const struct vmm_options *cli, int saved_argc,
			    char **saved_argv)
{
	char **argv = calloc((size_t)saved_argc + 2, sizeof(*argv));
	int ret;

	if (!argv)
		return -1;
	argv[0] = "xenon-vmm";
	for (int i = 0; i < saved_argc; i++)
		argv[i + 1] = saved_argv[i];
	ret = vmm_options_parse(out, saved_argc + 1, argv);
	if (ret == 0 && (out->restore || out->incoming)) {
		log_error("saved command line: it asks for a restore itself");
		ret = -1;
	}
	if (ret < 0) {
		free(argv);
		return -1;
	}
	free(merged_argv);
	merged_argv = argv;
	out->control_path = cli->control_path;
	out->pty_link = cli->pty_link;
	out->start_paused = cli->start_paused;
	out->verbose = cli->verbose;
	out->restore = cli->restore;
	out->incoming = cli->incoming;
	out->incoming_key_file = cli->incoming_key_file;
	out->incoming_timeout_ms = cli->incoming_timeout_ms;
	out->verify_ram = cli->verify_ram;
	if (cli->name)
		out->name = cli->name;
	if (cli->serial_given)
		out->serial = cli->serial;
	if (cli->vconsole_given)
		out->vconsole = cli->vconsole;
	/* Where this run reports and reaches xenond (a restored domain may
	 * live in another directory than the saved one). */
	if (cli->exit_file)
		out->exit_file = cli->exit_file;
	if (cli->xenstore.kind != CHARDEV_NONE)
		out->xenstore = cli->xenstore;
	return 0;
}
