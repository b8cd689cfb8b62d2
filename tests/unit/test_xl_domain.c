/* struct domain_config from config text: defaults, every key, the checks
 * across keys, and the JSON form. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/domain_config.h"

#define BASE "name = 'd'\nkernel = '/k'\n"   /* lines 1 and 2 */

struct result {
	struct domain_config dc;
	struct xl_msgs m;
	int rc;
};

static struct result *load_with(const char *text, const char *const *ov,
				size_t n_ov)
{
	struct result *r = calloc(1, sizeof(*r));

	xl_msgs_init(&r->m);
	r->rc = domain_config_load_text(&r->dc, "d.cfg", text, strlen(text), ov,
					n_ov, &r->m);
	return r;
}

static struct result *load(const char *text)
{
	return load_with(text, NULL, 0);
}

static void done(struct result *r)
{
	domain_config_free(&r->dc);
	domain_config_free(&r->dc);       /* twice is harmless */
	xl_msgs_free(&r->m);
	free(r);
}

static void show(const struct result *r)
{
	for (size_t i = 0; i < r->m.n; i++)
		print_message("  %s\n", r->m.v[i].text);
}

/* Loads with no message at all. */
static struct result *clean(const char *text)
{
	struct result *r = load(text);

	if (r->rc != 0 || r->m.n != 0) {
		show(r);
		fail();
	}
	return r;
}

/* Loads (or not, per OK) with exactly the one message WANT. */
static struct result *one(const char *text, int ok, const char *want)
{
	struct result *r = load(text);

	if (r->rc != (ok ? 0 : -1) || r->m.n != 1 ||
	    strcmp(r->m.v[0].text, want) != 0) {
		show(r);
		print_message("wanted: %s\n", want);
		fail();
	}
	assert_int_equal(r->m.v[0].severity, ok ? XL_WARNING : XL_ERROR);
	return r;
}

static void error(const char *text, const char *want)
{
	done(one(text, 0, want));
}

static void test_tutorial_pv(void **state)
{
	struct result *r = clean(
		"kernel=\"/boot/vmlinuz-2.6.24-16-xen\"\n"
		"ramdisk=\"/boot/initrd.img-2.6.24-16-xen\"\n"
		"memory=512\nname=\"pv\"\nvif=['']\n"
		"disk=['tap:aio:/xen/para.partition,xvda1,w']\n"
		"root=\"/dev/xvda1\"\nextra=\"4\"\n");
	const struct domain_config *dc = &r->dc;

	(void)state;
	assert_string_equal(dc->name, "pv");
	assert_int_equal(dc->type, DOMAIN_PV);
	assert_string_equal(dc->kernel, "/boot/vmlinuz-2.6.24-16-xen");
	assert_string_equal(dc->ramdisk, "/boot/initrd.img-2.6.24-16-xen");
	assert_string_equal(dc->cmdline, "root=/dev/xvda1 4");
	assert_true(dc->memory_mb == 512 && dc->maxmem_mb == 512);
	assert_int_equal(dc->n_disks, 1);
	assert_int_equal(dc->disks[0].backend, XL_BACKEND_TAP_AIO);
	assert_int_equal(dc->disks[0].devnum, 51713);
	assert_int_equal(dc->n_vifs, 1);
	assert_int_equal(dc->vifs[0].type, XL_VIF_TYPE_VIF);
	assert_int_equal(dc->vifs[0].devid, 0);
	assert_null(dc->vifs[0].model);
	done(r);
}

static void test_tutorial_hvm(void **state)
{
	struct result *r = one(
		"kernel=\"/usr/lib64/xen/boot/hvmloader\"\nbuilder=\"hvm\"\n"
		"device_model=\"/usr/lib64/xen/bin/qemu-dm\"\nmemory=512\n"
		"name=\"hvm\"\nvif=['type=ioemu,bridge=eth0']\n"
		"disk=['phy:/xen/images/hvm.disk,hda,w',"
		"'phy:/dev/cdrom,hdc:cdrom,r']\nboot=\"dc\"\nsdl=1\n",
		1, "d.cfg:2:1: builder: deprecated; use type = \"hvm\" instead");
	const struct domain_config *dc = &r->dc;

	(void)state;
	assert_int_equal(dc->type, DOMAIN_HVM);
	assert_null(dc->kernel);
	assert_string_equal(dc->hvmloader, "/usr/lib64/xen/boot/hvmloader");
	assert_string_equal(dc->device_model, "/usr/lib64/xen/bin/qemu-dm");
	assert_string_equal(dc->boot, "dc");
	assert_true(dc->sdl);
	assert_true(dc->vnc);               /* xl's HVM default */
	assert_int_equal(dc->n_disks, 2);
	assert_string_equal(dc->disks[0].vdev, "hda");
	assert_false(dc->disks[0].readonly);
	assert_string_equal(dc->disks[1].vdev, "hdc");
	assert_true(dc->disks[1].is_cdrom && dc->disks[1].readonly);
	assert_int_equal(dc->vifs[0].type, XL_VIF_TYPE_IOEMU);
	assert_string_equal(dc->vifs[0].model, "rtl8139");
	assert_string_equal(dc->vifs[0].bridge, "eth0");
	assert_null(dc->cmdline);
	done(r);
}

static void test_defaults(void **state)
{
	struct result *r = clean(BASE);
	const struct domain_config *dc = &r->dc;

	(void)state;
	assert_int_equal(dc->type, DOMAIN_PV);
	assert_true(dc->memory_mb == DOMAIN_DEFAULT_MEMORY_MB);
	assert_true(dc->maxmem_mb == DOMAIN_DEFAULT_MEMORY_MB);
	assert_int_equal(dc->vcpus, 1);
	assert_int_equal(dc->maxvcpus, 1);
	assert_int_equal(dc->cpus.n, 0);
	assert_int_equal(dc->cpu_weight, 256);
	assert_int_equal(dc->cap, 0);
	assert_int_equal(dc->on_poweroff, ACTION_DESTROY);
	assert_int_equal(dc->on_reboot, ACTION_RESTART);
	assert_int_equal(dc->on_crash, ACTION_DESTROY);
	assert_false(dc->uuid_given);
	assert_int_equal(dc->uuid[6] >> 4, 4);          /* version 4 */
	assert_int_equal(dc->uuid[8] >> 6, 2);          /* RFC 4122 */
	assert_true(dc->acpi && dc->apic && dc->pae);
	assert_false(dc->vnc || dc->sdl);
	assert_int_equal(dc->vncdisplay, -1);
	assert_null(dc->boot);
	assert_null(dc->cmdline);
	assert_int_equal(dc->n_disks + dc->n_vifs + dc->n_serial, 0);
	done(r);
}

static void test_type_and_builder(void **state)
{
	static const struct { const char *text; enum domain_type t; } cases[] = {
		{ "type = 'pv'", DOMAIN_PV }, { "type = 'pvh'", DOMAIN_PVH },
		{ "type = 'hvm'", DOMAIN_HVM },
	};
	struct result *r;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		char text[128];

		snprintf(text, sizeof(text), BASE "%s\n", cases[i].text);
		r = clean(text);
		assert_int_equal(r->dc.type, cases[i].t);
		done(r);
	}
	r = one(BASE "builder = 'generic'\n", 1, "d.cfg:3:1: builder: "
		"deprecated; use type = \"pv\" instead");
	assert_int_equal(r->dc.type, DOMAIN_PV);
	done(r);
	r = one(BASE "builder = 'linux'\n", 1, "d.cfg:3:1: builder: "
		"deprecated; use type = \"pv\" instead");
	done(r);
	r = load(BASE "type = 'pv'\nbuilder = 'hvm'\n");
	assert_int_equal(r->rc, -1);
	assert_string_equal(r->m.v[1].text, "d.cfg:4:11: builder: disagrees "
			    "with type = \"pv\"");
	done(r);
	error(BASE "type = 'xen'\n", "d.cfg:3:8: type: bad value 'xen' "
	      "(expected pv, pvh or hvm)");
	error(BASE "type = ['pv']\n", "d.cfg:3:8: type: expected a string, found "
	      "a list");
}

static void cmdline(const char *text, const char *want)
{
	struct result *r = clean(text);

	if (want)
		assert_string_equal(r->dc.cmdline, want);
	else
		assert_null(r->dc.cmdline);
	done(r);
}

static void test_cmdline(void **state)
{
	struct result *r;

	(void)state;
	cmdline(BASE, NULL);
	cmdline(BASE "root = '/dev/sda1'\n", "root=/dev/sda1");
	cmdline(BASE "root = 'root=/dev/sda1'\n", "root=/dev/sda1");
	cmdline(BASE "extra = 'quiet'\n", "quiet");
	cmdline(BASE "root = '/dev/xvda1 ro'\nextra = 'console=hvc0'\n",
		"root=/dev/xvda1 ro console=hvc0");
	cmdline(BASE "cmdline = 'a b c'\n", "a b c");
	cmdline(BASE "root = '/dev/nfs'\ndhcp = 'dhcp'\nextra = 'x'\n",
		"root=/dev/nfs ip=:127.0.255.255::::eth0:dhcp x");
	cmdline(BASE "ip = '192.0.2.5'\ngateway = '192.0.2.1'\n"
		"netmask = '255.255.255.0'\nhostname = 'vm1'\n",
		"ip=192.0.2.5:127.0.255.255:192.0.2.1:255.255.255.0:vm1:eth0:off");
	cmdline(BASE "dhcp = 'off'\nextra = 'x'\n", "x");
	r = one(BASE "root = '/dev/sda'\ncmdline = 'console=ttyS0'\n"
		"extra = '1'\n", 1, "d.cfg:4:1: cmdline: given, so root=, extra= "
		"and the ip settings are ignored");
	assert_string_equal(r->dc.cmdline, "console=ttyS0");
	done(r);
	error(BASE "dhcp = 'yes'\n", "d.cfg:3:8: dhcp: bad value 'yes' "
	      "(expected dhcp or off)");
	error(BASE "ip = '1.2.3'\n", "d.cfg:3:6: ip: bad IPv4 address '1.2.3'");
	error(BASE "netmask = 'ff'\n", "d.cfg:3:11: netmask: bad IPv4 address "
	      "'ff'");
	error(BASE "hostname = 'a:b'\n", "d.cfg:3:12: hostname: 'a:b' may not "
	      "contain ':' or blanks");
}

static void test_memory(void **state)
{
	struct result *r;

	(void)state;
	r = clean(BASE "memory = 512\nmaxmem = 1024\n");
	assert_true(r->dc.memory_mb == 512 && r->dc.maxmem_mb == 1024);
	done(r);
	r = clean(BASE "memory = '384'\n");
	assert_true(r->dc.memory_mb == 384 && r->dc.maxmem_mb == 384);
	done(r);
	error(BASE "memory = 0\n", "d.cfg:3:10: memory: 0 MiB is too small (at "
	      "least 1 MiB)");
	error(BASE "memory = -5\n", "d.cfg:3:10: memory: -5 MiB is too small (at "
	      "least 1 MiB)");
	error(BASE "memory = 0x40000001\n", "d.cfg:3:10: memory: 1073741825 MiB "
	      "is too large (at most 1073741824 MiB)");
	error(BASE "memory = 'lots'\n", "d.cfg:3:10: memory: expected a number, "
	      "found 'lots'");
	error(BASE "memory = [512]\n", "d.cfg:3:10: memory: expected a number, "
	      "found a list");
	error(BASE "memory = 512\nmaxmem = 256\n", "d.cfg:4:10: maxmem: 256 MiB "
	      "is less than memory (512 MiB)");
}

static void test_vcpus_and_scheduling(void **state)
{
	struct result *r;

	(void)state;
	r = clean(BASE "vcpus = 2\nmaxvcpus = 4\ncpu_weight = 512\ncap = 400\n");
	assert_int_equal(r->dc.vcpus, 2);
	assert_int_equal(r->dc.maxvcpus, 4);
	assert_int_equal(r->dc.cpu_weight, 512);
	assert_int_equal(r->dc.cap, 400);
	done(r);
	error(BASE "vcpus = 0\n", "d.cfg:3:9: vcpus: 0 is too small (at least 1)");
	error(BASE "vcpus = 129\n", "d.cfg:3:9: vcpus: 129 is too large (at most "
	      "128)");
	error(BASE "vcpus = 4\nmaxvcpus = 2\n", "d.cfg:4:12: maxvcpus: 2 is less "
	      "than vcpus (4)");
	error(BASE "cpu_weight = 0\n", "d.cfg:3:14: cpu_weight: 0 is too small "
	      "(at least 1)");
	error(BASE "cpu_weight = 65536\n", "d.cfg:3:14: cpu_weight: 65536 is too "
	      "large (at most 65535)");
	error(BASE "cap = -1\n", "d.cfg:3:7: cap: -1% is too small (at least "
	      "0%)");
	error(BASE "vcpus = 2\ncap = 201\n", "d.cfg:4:7: cap: 201% is more than "
	      "100% for each of the 2 vCPUs");
}

static void test_cpus(void **state)
{
	struct result *r;
	json_t *j;

	(void)state;
	r = clean(BASE "cpus = '0-3,^2'\n");
	assert_int_equal(r->dc.cpus.n, 1);
	assert_false(r->dc.cpus.per_vcpu);
	assert_true(cpumap_test(&r->dc.cpus.maps[0], 0));
	assert_true(cpumap_test(&r->dc.cpus.maps[0], 1));
	assert_false(cpumap_test(&r->dc.cpus.maps[0], 2));
	assert_true(cpumap_test(&r->dc.cpus.maps[0], 3));
	assert_false(cpumap_test(&r->dc.cpus.maps[0], 4));
	j = domain_config_to_json(&r->dc);
	assert_string_equal(json_string_value(json_object_get(j, "cpus")),
			    "0-1,3");
	json_decref(j);
	done(r);
	r = clean(BASE "vcpus = 2\ncpus = [ '2', '3-8,^5' ]\n");
	assert_true(r->dc.cpus.per_vcpu);
	assert_int_equal(r->dc.cpus.n, 2);
	assert_true(cpumap_test(&r->dc.cpus.maps[1], 8));
	assert_false(cpumap_test(&r->dc.cpus.maps[1], 5));
	done(r);
	r = clean(BASE "cpus = 'all,^1'\n");
	assert_true(cpumap_test(&r->dc.cpus.maps[0], 1023));
	assert_false(cpumap_test(&r->dc.cpus.maps[0], 1));
	done(r);
	r = clean(BASE "cpus = 5\n");
	assert_true(cpumap_test(&r->dc.cpus.maps[0], 5));
	done(r);
	error(BASE "cpus = '3-1'\n", "d.cfg:3:8: cpus: '3-1': a range must go "
	      "upwards (like 2-5)");
	error(BASE "cpus = '^2'\n", "d.cfg:3:8: cpus: '^2': it selects no CPU at "
	      "all");
	error(BASE "cpus = 'nodes:0-1'\n", "d.cfg:3:8: cpus: 'nodes:0-1': NUMA "
	      "node affinity (node:/nodes:) is not supported by Xenon yet");
	error(BASE "cpus = '1024'\n", "d.cfg:3:8: cpus: '1024': CPU number too "
	      "large (Xenon handles CPUs 0 to 1023)");
	error(BASE "cpus = '1;2'\n", "d.cfg:3:8: cpus: '1;2': expected ',' "
	      "between items");
	error(BASE "cpus = 'x'\n", "d.cfg:3:8: cpus: 'x': expected a CPU number, "
	      "a range like 2-5, or 'all'");
	error(BASE "cpus = -1\n", "d.cfg:3:8: cpus: CPU -1 is out of range (0 "
	      "to 1023)");
	error(BASE "vcpus = 2\ncpus = [ '1', [ 2 ] ]\n", "d.cfg:4:15: cpus[1]: expected a "
	      "CPU list like \"0-3,^2\", found a list");
	error(BASE "cpus = [ '1', '2' ]\n", "d.cfg:3:8: cpus: 2 entries, but the "
	      "domain has only 1 vCPUs");
}

static void test_uuid(void **state)
{
	struct result *r;
	char text[37];

	(void)state;
	r = clean(BASE "uuid = '4B1C2D3E-0000-4000-8000-00163E000001'\n");
	assert_true(r->dc.uuid_given);
	xl_uuid_format(r->dc.uuid, text);
	assert_string_equal(text, "4b1c2d3e-0000-4000-8000-00163e000001");
	done(r);
	error(BASE "uuid = '4b1c2d3e00004000800000163e000001'\n", "d.cfg:3:8: "
	      "uuid: bad UUID '4b1c2d3e00004000800000163e000001' (expected 32 "
	      "hex digits as 8-4-4-4-12, like "
	      "4b1c2d3e-0000-4000-8000-00163e000001)");
	error(BASE "uuid = '4b1c2d3e-0000-4000-8000-00163e00000g'\n", "d.cfg:3:8: "
	      "uuid: bad UUID '4b1c2d3e-0000-4000-8000-00163e00000g' (expected "
	      "32 hex digits as 8-4-4-4-12, like "
	      "4b1c2d3e-0000-4000-8000-00163e000001)");
	error(BASE "uuid = '00000000-0000-0000-0000-000000000000'\n", "d.cfg:3:8: "
	      "uuid: the nil UUID cannot name a domain");
}

static void test_actions(void **state)
{
	struct result *r;

	(void)state;
	r = clean(BASE "on_poweroff = 'preserve'\non_reboot = 'rename-restart'\n"
		  "on_crash = 'coredump-restart'\n");
	assert_int_equal(r->dc.on_poweroff, ACTION_PRESERVE);
	assert_int_equal(r->dc.on_reboot, ACTION_RENAME_RESTART);
	assert_int_equal(r->dc.on_crash, ACTION_COREDUMP_RESTART);
	done(r);
	r = clean(BASE "on_crash = 'coredump-destroy'\non_reboot = 'destroy'\n");
	assert_int_equal(r->dc.on_crash, ACTION_COREDUMP_DESTROY);
	assert_int_equal(r->dc.on_reboot, ACTION_DESTROY);
	done(r);
	error(BASE "on_crash = 'explode'\n", "d.cfg:3:12: on_crash: bad value "
	      "'explode' (expected destroy, restart, rename-restart, preserve, "
	      "coredump-destroy or coredump-restart)");
	error(BASE "on_reboot = 'soft-reset'\n", "d.cfg:3:13: on_reboot: "
	      "soft-reset is not supported yet");
	assert_string_equal(domain_action_name(ACTION_COREDUMP_DESTROY),
			    "coredump-destroy");
	assert_string_equal(domain_type_name(DOMAIN_PVH), "pvh");
}

static void test_name(void **state)
{
	(void)state;
	error("kernel = '/k'\n", "d.cfg: no name = \"...\" (every domain needs "
	      "a name)");
	error("name = 'a b'\nkernel = '/k'\n", "d.cfg:1:8: name: 'a b' has a "
	      "'/', a blank or a control character");
	error("name = 'a/b'\nkernel = '/k'\n", "d.cfg:1:8: name: 'a/b' has a "
	      "'/', a blank or a control character");
	error("name = ''\nkernel = '/k'\n", "d.cfg:1:8: name: must be 1 to 64 "
	      "characters long");
	error("name = 42\nkernel = '/k'\n", "d.cfg:1:8: name: '42' is reserved "
	      "(all digits would read as a domain ID)");
	error("name = 'Domain-0'\nkernel = '/k'\n", "d.cfg:1:8: name: "
	      "'Domain-0' is reserved (it names the host)");
	error("name = 'x'\n", "d.cfg: no kernel = \"...\" (a pv guest boots its "
	      "kernel directly)");
}

static void test_unknown_and_unsupported(void **state)
{
	(void)state;
	done(one(BASE "memroy = 512\n", 1, "d.cfg:3:1: memroy: unknown key, "
		 "ignored (did you mean 'memory'?)"));
	done(one(BASE "vpcus = 2\n", 1, "d.cfg:3:1: vpcus: unknown key, ignored "
		 "(did you mean 'vcpus'?)"));
	done(one(BASE "str = 1\n", 1, "d.cfg:3:1: str: unknown key, ignored"));
	done(one(BASE "on_watchdog = 'destroy'\n", 1, "d.cfg:3:1: on_watchdog: "
		 "unknown key, ignored"));
	error(BASE "bootloader = 'pygrub'\n", "d.cfg:3:1: bootloader: running a "
	      "bootloader such as pygrub is not supported yet; give kernel= (and "
	      "ramdisk=) to boot the guest's kernel directly");
	error(BASE "pci = [ '0000:01:00.0' ]\n", "d.cfg:3:1: pci: PCI "
	      "passthrough is not supported yet");
	error(BASE "vtpm = [ 'backend=vtpm' ]\n", "d.cfg:3:1: vtpm: virtual TPMs "
	      "are not supported yet");
	error(BASE "vif = [ 'backend=dd' ]\n", "d.cfg:3:9: vif[0]: 'backend=dd': "
	      "backend=dd: driver domains (backends outside Domain-0) are not "
	      "supported yet");
}

static void test_deprecated(void **state)
{
	struct result *r;

	(void)state;
	r = load(BASE "type = 'hvm'\ncdrom = '/iso/x.iso'\nvif = ['']\nnics = 3\n");
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->m.n, 2);
	assert_string_equal(r->m.v[0].text, "d.cfg:4:1: cdrom: deprecated; use "
			    "disk = [ ..., '/iso/x.iso,,hdc,cdrom' ] instead");
	assert_string_equal(r->m.v[1].text, "d.cfg:6:1: nics: deprecated; use "
			    "vif with one entry per interface (vif = [ '', '' ]) "
			    "instead");
	assert_int_equal(r->dc.n_disks, 1);
	assert_string_equal(r->dc.disks[0].vdev, "hdc");
	assert_true(r->dc.disks[0].is_cdrom && r->dc.disks[0].readonly);
	assert_string_equal(r->dc.disks[0].target, "/iso/x.iso");
	assert_int_equal(r->dc.n_vifs, 3);
	assert_int_equal(r->dc.vifs[2].devid, 2);
	done(r);
	r = load(BASE "disk = [ 'phy:/dev/sr0,hdc:cdrom,r' ]\ncdrom = '/x.iso'\n");
	assert_int_equal(r->rc, -1);
	assert_string_equal(r->m.v[1].text, "d.cfg:4:9: disk: "
			    "'vdev=hdc,devtype=cdrom,target=/x.iso': vdev hdc is "
			    "already used by 'phy:/dev/sr0,hdc:cdrom,r' at "
			    "d.cfg:3:10");
	done(r);
}

static void test_disks(void **state)
{
	struct result *r;

	(void)state;
	/* Sorted by device number, whatever the config order. */
	r = clean(BASE "disk = [ 'phy:/dev/b,xvdb,w', 'phy:/dev/c,hdc,w', "
		  "'phy:/dev/a,xvda,w', 'phy:/dev/s,sda,w', 'phy:/dev/h,hda,w' ]\n");
	assert_int_equal(r->dc.n_disks, 5);
	assert_string_equal(r->dc.disks[0].vdev, "hda");
	assert_string_equal(r->dc.disks[1].vdev, "sda");
	assert_string_equal(r->dc.disks[2].vdev, "hdc");
	assert_string_equal(r->dc.disks[3].vdev, "xvda");
	assert_string_equal(r->dc.disks[4].vdev, "xvdb");
	done(r);
	r = clean(BASE "disk = 'phy:/dev/a,xvda,w'\n");    /* one string */
	assert_int_equal(r->dc.n_disks, 1);
	done(r);
	error(BASE "disk = [ 'phy:/dev/a,xvda,w', 'phy:/dev/b,51712,w' ]\n",
	      "d.cfg:3:31: disk: 'phy:/dev/b,51712,w': vdev 51712 is already "
	      "used by 'phy:/dev/a,xvda,w' at d.cfg:3:10");
	r = load(BASE "disk = [ 'phy:/dev/a,xvda,q', 'bad', 'phy:/dev/b,xvdb,w' ]\n");
	assert_int_equal(r->rc, -1);
	assert_int_equal(r->m.errors, 2);                 /* each bad one */
	assert_string_equal(r->m.v[1].text, "d.cfg:3:31: disk[1]: 'bad': no "
			    "vdev (the guest's name for the disk, like xvda or "
			    "hdc)");
	assert_int_equal(r->dc.n_disks, 0);               /* emptied */
	done(r);
}

static void test_vifs(void **state)
{
	static const char uuid[] = "uuid = '4b1c2d3e-0000-4000-8000-00163e000001'\n";
	struct result *r, *again;
	char text[512];

	(void)state;
	snprintf(text, sizeof(text), BASE "%svif = [ 'devid=0', '', "
		 "'mac=00:16:3e:00:00:01', 'devid=5', '' ]\n", uuid);
	r = clean(text);
	assert_int_equal(r->dc.n_vifs, 5);
	assert_int_equal(r->dc.vifs[0].devid, 0);
	assert_int_equal(r->dc.vifs[1].devid, 1);
	assert_int_equal(r->dc.vifs[2].devid, 2);
	assert_int_equal(r->dc.vifs[3].devid, 5);
	assert_int_equal(r->dc.vifs[4].devid, 3);
	assert_false(r->dc.vifs[1].mac_given);
	assert_true(r->dc.vifs[2].mac_given);
	/* The same domain gets the same generated MACs every time. */
	again = clean(text);
	assert_memory_equal(r->dc.vifs[1].mac, again->dc.vifs[1].mac, 6);
	assert_memory_not_equal(r->dc.vifs[0].mac, r->dc.vifs[1].mac, 6);
	done(again);
	done(r);
	error(BASE "vif = [ 'devid=1', 'devid=1' ]\n", "d.cfg:3:20: vif: "
	      "'devid=1': devid 1 is already used by 'devid=1'");
	error(BASE "vif = [ 'mac=00:16:3e:00:00:01', 'mac=00:16:3E:00:00:01' ]\n",
	      "d.cfg:3:34: vif: 'mac=00:16:3E:00:00:01': MAC 00:16:3e:00:00:01 "
	      "is already used by 'mac=00:16:3e:00:00:01'");
	error(BASE "vif = [ 'vifname=v0', 'vifname=v0' ]\n", "d.cfg:3:23: vif: "
	      "'vifname=v0': vifname v0 is already used by 'vifname=v0'");
	error(BASE "vif = [ ['bridge=br0'] ]\n", "d.cfg:3:9: vif[0]: expected a "
	      "string, found a list");
	r = one(BASE "vif = [ 'type=ioemu' ]\n", 1, "d.cfg:3:9: vif: "
		"'type=ioemu': type=ioemu only applies to HVM guests; ignored");
	assert_int_equal(r->dc.vifs[0].type, XL_VIF_TYPE_VIF);
	done(r);
	r = clean(BASE "type = 'hvm'\nvif = [ 'type=vif', 'model=e1000' ]\n");
	assert_int_equal(r->dc.vifs[0].type, XL_VIF_TYPE_VIF);
	assert_null(r->dc.vifs[0].model);
	assert_int_equal(r->dc.vifs[1].type, XL_VIF_TYPE_IOEMU);
	assert_string_equal(r->dc.vifs[1].model, "e1000");
	done(r);
}

static void test_device_limits(void **state)
{
	char text[2048] = BASE "vif = [";

	(void)state;
	for (int i = 0; i < 65; i++)
		strcat(text, "'',");
	strcat(text, "]\n");
	error(text, "d.cfg:3:7: vif: 65 entries, at most 64");
	strcpy(text, BASE "disk = [");
	for (int i = 0; i < 257; i++)
		strcat(text, "'',");
	strcat(text, "]\n");
	error(text, "d.cfg:3:8: disk: 257 entries, at most 256");
}

static void test_hvm_and_display(void **state)
{
	struct result *r;

	(void)state;
	r = clean("name = 'h'\ntype = 'hvm'\nacpi = 0\napic = 0\npae = 0\n"
		  "vnc = 0\nsdl = 1\nserial = 'pty'\nboot = 'ndc'\n"
		  "vnclisten = '0.0.0.0'\nvncdisplay = 7\nvncunused = 1\n");
	assert_false(r->dc.acpi || r->dc.apic || r->dc.pae || r->dc.vnc);
	assert_true(r->dc.sdl && r->dc.vncunused);
	assert_int_equal(r->dc.n_serial, 1);
	assert_string_equal(r->dc.serial[0], "pty");
	assert_string_equal(r->dc.boot, "ndc");
	assert_string_equal(r->dc.vnclisten, "0.0.0.0");
	assert_int_equal(r->dc.vncdisplay, 7);
	assert_string_equal(r->dc.boot, "ndc");
	done(r);
	r = clean(BASE "serial = [ 'pty', 'file:/tmp/s1' ]\n");
	assert_int_equal(r->dc.n_serial, 2);
	assert_string_equal(r->dc.serial[1], "file:/tmp/s1");
	done(r);
	error("name = 'h'\ntype = 'hvm'\nboot = 'x'\n", "d.cfg:3:8: boot: bad "
	      "boot order 'x' (letters c for disk, d for cdrom, n for network, "
	      "like \"dc\")");
	error(BASE "vncdisplay = 60000\n", "d.cfg:3:14: vncdisplay: 60000 is too "
	      "large (at most 59635)");
	error(BASE "sdl = 'yes'\n", "d.cfg:3:7: sdl: expected a number, found "
	      "'yes'");
	error(BASE "serial = [ [ 'pty' ] ]\n", "d.cfg:3:12: serial[0]: expected "
	      "a string, found a list");
	done(one(BASE "boot = 'c'\n", 1, "d.cfg:3:1: boot: only used by HVM "
		 "guests; ignored"));
	done(one(BASE "device_model = '/qemu'\n", 1, "d.cfg:3:1: device_model: "
		 "only used by HVM guests; ignored"));
}

static void test_overrides(void **state)
{
	static const char *const ov[] = { "name=foo", "memory=256",
					  "vif=['bridge=br1']" };
	static const char *const bad_ov[] = { "memory=256", "name='open" };
	static const char *const bad_value[] = { "memory=lots" };
	struct result *r;

	(void)state;
	r = load_with(BASE "memory = 128\n", ov, 3);
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->m.n, 0);
	assert_string_equal(r->dc.name, "foo");
	assert_true(r->dc.memory_mb == 256);
	assert_string_equal(r->dc.vifs[0].bridge, "br1");
	assert_null(r->dc.vifs[0].loc.file);      /* the config is gone */
	done(r);
	r = load_with(BASE, bad_ov, 2);
	assert_int_equal(r->rc, -1);
	assert_string_equal(r->m.v[0].text, "command line:2:6: unterminated "
			    "string: no closing ' before the end of the input");
	assert_null(r->dc.name);
	done(r);
	r = load_with(BASE, bad_value, 1);
	assert_int_equal(r->rc, -1);
	assert_string_equal(r->m.v[0].text, "command line:1:8: memory: expected "
			    "a number, found 'lots'");
	done(r);
}

static void test_json(void **state)
{
	struct result *r = clean(
		"name = 'j'\nkernel = '/k'\nuuid = "
		"'4b1c2d3e-0000-4000-8000-00163e000001'\n"
		"vif = [ 'mac=00:16:3e:01:02:03,rate=1MB/s@20ms,mtu=1400' ]\n"
		"disk = [ 'format=qcow2,vdev=xvdb,target=/i.qcow2' ]\n"
		"vncpasswd = 'secret'\nextra = 'bad \\xff byte'\n");
	json_t *j = domain_config_to_json(&r->dc), *v, *rate;
	char *text = domain_config_to_json_text(&r->dc);

	(void)state;
	assert_string_equal(json_string_value(json_object_get(j, "name")), "j");
	assert_string_equal(json_string_value(json_object_get(j, "uuid")),
			    "4b1c2d3e-0000-4000-8000-00163e000001");
	assert_string_equal(json_string_value(json_object_get(j, "type")), "pv");
	assert_int_equal(json_integer_value(json_object_get(j, "memory_mib")),
			 128);
	assert_true(json_is_null(json_object_get(j, "cpus")));
	assert_true(json_is_null(json_object_get(j, "vncdisplay")));
	assert_true(json_is_true(json_object_get(j, "vncpasswd_set")));
	assert_null(strstr(text, "secret"));
	assert_string_equal(json_string_value(json_object_get(j, "extra")),
			    "bad ? byte");
	v = json_array_get(json_object_get(j, "vifs"), 0);
	assert_string_equal(json_string_value(json_object_get(v, "mac")),
			    "00:16:3e:01:02:03");
	assert_int_equal(json_integer_value(json_object_get(v, "mtu")), 1400);
	rate = json_object_get(v, "rate");
	assert_int_equal(json_integer_value(json_object_get(rate,
				"bytes_per_sec")), 1000000);
	assert_int_equal(json_integer_value(json_object_get(rate,
				"interval_usecs")), 20000);
	assert_int_equal(json_integer_value(json_object_get(rate,
				"bytes_per_interval")), 20000);
	v = json_array_get(json_object_get(j, "disks"), 0);
	assert_string_equal(json_string_value(json_object_get(v, "format")),
			    "qcow2");
	assert_int_equal(json_integer_value(json_object_get(v, "devnum")), 51728);
	assert_string_equal(json_string_value(json_object_get(v, "access")), "rw");
	assert_non_null(strstr(text, "\"name\": \"j\""));
	free(text);
	json_decref(j);
	done(r);
}

static void test_file_loading(void **state)
{
	struct domain_config dc;
	struct xl_msgs m;

	(void)state;
	xl_msgs_init(&m);
	assert_int_equal(domain_config_load_file(&dc, "/nonexistent/x.cfg", NULL,
						 0, &m), -1);
	assert_string_equal(m.v[0].text, "/nonexistent/x.cfg: cannot open: No "
			    "such file or directory");
	assert_null(dc.name);
	domain_config_free(&dc);
	xl_msgs_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tutorial_pv),
		cmocka_unit_test(test_tutorial_hvm),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_type_and_builder),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_vcpus_and_scheduling),
		cmocka_unit_test(test_cpus),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_unknown_and_unsupported),
		cmocka_unit_test(test_deprecated),
		cmocka_unit_test(test_disks),
		cmocka_unit_test(test_vifs),
		cmocka_unit_test(test_device_limits),
		cmocka_unit_test(test_hvm_and_display),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_file_loading),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
