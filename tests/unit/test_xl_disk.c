/* DISKSPEC strings (xl-disk-configuration(5)) and Xen device numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/domain_config.h"

struct result {
	struct xl_disk d;
	struct xl_msgs m;
	int rc;
};

static struct result *parse(const char *spec)
{
	struct result *r = calloc(1, sizeof(*r));
	struct xl_spec_ctx ctx = { &r->m, { "g.cfg", 7, 12 }, "disk[1]" };

	xl_msgs_init(&r->m);
	r->rc = xl_disk_parse(&r->d, spec, &ctx);
	return r;
}

static void done(struct result *r)
{
	xl_disk_free(&r->d);
	xl_msgs_free(&r->m);
	free(r);
}

/* SPEC parses without messages; its fields. */
static struct result *ok(const char *spec)
{
	struct result *r = parse(spec);

	if (r->rc != 0 || r->m.n != 0) {
		for (size_t i = 0; i < r->m.n; i++)
			print_message("%s\n", r->m.v[i].text);
		fail();
	}
	return r;
}

static void check(const char *spec, const char *target, enum xl_disk_format f,
		  enum xl_disk_backend b, const char *vdev, uint32_t devnum,
		  bool ro, bool cdrom)
{
	struct result *r = ok(spec);

	if (target)
		assert_string_equal(r->d.target, target);
	else
		assert_null(r->d.target);
	assert_int_equal(r->d.format, f);
	assert_int_equal(r->d.backend, b);
	assert_string_equal(r->d.vdev, vdev);
	assert_int_equal(r->d.devnum, devnum);
	assert_int_equal(r->d.readonly, ro);
	assert_int_equal(r->d.is_cdrom, cdrom);
	assert_string_equal(r->d.spec, spec);
	done(r);
}

/* SPEC fails with the one error "g.cfg:7:12: disk[1]: 'SPEC': WHY". */
static void bad(const char *spec, const char *why)
{
	struct result *r = parse(spec);
	char want[512];

	snprintf(want, sizeof(want), "g.cfg:7:12: disk[1]: '%s': %s", spec, why);
	assert_int_equal(r->rc, -1);
	assert_int_equal(r->m.errors, 1);
	assert_string_equal(r->m.v[r->m.n - 1].text, want);
	assert_null(r->d.spec);            /* emptied on failure */
	done(r);
}

static void test_vdev_numbers(void **state)
{
	static const struct { const char *vdev; uint32_t num; } good[] = {
		{ "xvda", 51712 }, { "xvdb", 51712 + 16 }, { "xvdb1", 51729 },
		{ "xvda15", 51712 + 15 }, { "xvdp", 202 << 8 | 15 << 4 },
		{ "xvdq", 1u << 28 | 16 << 8 }, { "xvdz", 1u << 28 | 25 << 8 },
		{ "xvdaa", 1u << 28 | 26 << 8 }, { "xvdab3", 1u << 28 | 27 << 8 | 3 },
		{ "xvda16", 1u << 28 | 16 }, { "xvda255", 1u << 28 | 255 },
		{ "hda", 768 }, { "hdb", 832 }, { "hdc", 5632 }, { "hdd", 5696 },
		{ "hda1", 769 }, { "hdc63", 5632 + 63 },
		{ "sda", 2048 }, { "sdb1", 2065 }, { "sdp15", 2048 + 255 },
		{ "d0p1", 51713 }, { "d16p0", 1u << 28 | 16 << 8 },
		{ "51712", 51712 },
	};
	static const char *const bad_vdevs[] = {
		"", "xvd", "xvda0", "xvdA", "xvda256", "xvda01", "hde", "hda64",
		"sdq", "sda16", "vda", "xvd1", "d1048576p0", "d0p256", "d0",
		"2147483648", "xvda-1", "/dev/xvda",
	};
	uint32_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		n = 0;
		if (xl_vdev_number(good[i].vdev, &n) != 0 || n != good[i].num) {
			print_message("%s: got %u, want %u\n", good[i].vdev, n,
				      good[i].num);
			fail();
		}
	}
	for (size_t i = 0; i < sizeof(bad_vdevs) / sizeof(bad_vdevs[0]); i++) {
		if (xl_vdev_number(bad_vdevs[i], &n) == 0) {
			print_message("'%s' accepted as %u\n", bad_vdevs[i], n);
			fail();
		}
	}
}

static void test_legacy_forms(void **state)
{
	(void)state;
	check("phy:/dev/vg/lv,xvda,w", "/dev/vg/lv", XL_FORMAT_RAW,
	      XL_BACKEND_PHY, "xvda", 51712, false, false);
	check("tap:aio:/xen/para.partition,xvda1,w", "/xen/para.partition",
	      XL_FORMAT_RAW, XL_BACKEND_TAP_AIO, "xvda1", 51713, false, false);
	check("tap:qcow2:/p/x.qcow2,xvdb,w", "/p/x.qcow2", XL_FORMAT_QCOW2,
	      XL_BACKEND_QCOW2, "xvdb", 51728, false, false);
	check("qcow2:/p/x.qcow2,xvdb,r", "/p/x.qcow2", XL_FORMAT_QCOW2,
	      XL_BACKEND_QCOW2, "xvdb", 51728, true, false);
	check("phy:/dev/cdrom,hdc:cdrom,r", "/dev/cdrom", XL_FORMAT_RAW,
	      XL_BACKEND_PHY, "hdc", 5632, true, true);
	check("phy:/dev/cdrom,cdrom:hdc,r", "/dev/cdrom", XL_FORMAT_RAW,
	      XL_BACKEND_PHY, "hdc", 5632, true, true);
	check("phy:/dev/sdb,hdb:disk,w", "/dev/sdb", XL_FORMAT_RAW,
	      XL_BACKEND_PHY, "hdb", 832, false, false);
	check(",hdc:cdrom,r", NULL, XL_FORMAT_EMPTY, XL_BACKEND_PHY, "hdc", 5632,
	      true, true);
	check("phy:,hdc:cdrom,r", NULL, XL_FORMAT_EMPTY, XL_BACKEND_PHY, "hdc",
	      5632, true, true);
}

static void test_bare_device(void **state)
{
	(void)state;
	/* phy:sda means /dev/sda; the rest of this spec is the usual kind. */
	check("phy:sda,xvda,w", "/dev/sda", XL_FORMAT_RAW, XL_BACKEND_PHY,
	      "xvda", 51712, false, false);
	check("sdb,,xvdb", "/dev/sdb", XL_FORMAT_RAW, XL_BACKEND_PHY, "xvdb",
	      51728, false, false);
	check("raw:/dev/vg/guest-volume,hda,w", "/dev/vg/guest-volume",
	      XL_FORMAT_RAW, XL_BACKEND_PHY, "hda", 768, false, false);
}

static void test_file_prefix_warns(void **state)
{
	struct result *r = parse("file:/img/a.img,hda,w");

	(void)state;
	assert_int_equal(r->rc, 0);
	assert_int_equal(r->d.backend, XL_BACKEND_FILE);
	assert_string_equal(r->d.target, "/img/a.img");
	assert_int_equal(r->m.n, 1);
	assert_int_equal(r->m.v[0].severity, XL_WARNING);
	assert_string_equal(r->m.v[0].text, "g.cfg:7:12: disk[1]: "
			    "'file:/img/a.img,hda,w': the file: prefix is "
			    "deprecated; write 'PATH,raw,VDEV,ACCESS' instead");
	done(r);
}

static void test_script_prefix(void **state)
{
	struct result *r = ok("iscsi:iqn.2001-04.com.example:disk1,xvda,w");

	(void)state;
	assert_string_equal(r->d.script, "block-iscsi");
	assert_string_equal(r->d.target, "iqn.2001-04.com.example:disk1");
	done(r);
	r = ok("nbd:host:10809,xvdb,r");
	assert_string_equal(r->d.script, "block-nbd");
	assert_string_equal(r->d.target, "host:10809");
	done(r);
}

/* The equivalent spellings of xl-disk-configuration(5)'s examples. */
static void test_manual_examples(void **state)
{
	static const char *const disk[] = {
		"/dev/vg/guest-volume,,hda",
		"/dev/vg/guest-volume,raw,hda,rw",
		"format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume",
		"raw:/dev/vg/guest-volume,hda,w",
	};
	static const char *const cdrom[] = {
		"/root/image.iso,,hdc,cdrom",
		"/root/image.iso,,hdc,,cdrom",
		"/root/image.iso,raw,hdc,devtype=cdrom",
		"format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/root/image.iso",
		"raw:/root/image.iso,hdc:cdrom,ro",
	};

	(void)state;
	for (size_t i = 0; i < 4; i++)
		check(disk[i], "/dev/vg/guest-volume", XL_FORMAT_RAW,
		      XL_BACKEND_PHY, "hda", 768, false, false);
	for (size_t i = 0; i < 5; i++)
		check(cdrom[i], "/root/image.iso", XL_FORMAT_RAW,
		      XL_BACKEND_FILE, "hdc", 5632, true, true);
}

static void test_keyword_form(void **state)
{
	struct result *r;

	(void)state;
	check("format=qcow2,vdev=hdb,access=rw,target=/path/x.qcow2",
	      "/path/x.qcow2", XL_FORMAT_QCOW2, XL_BACKEND_QCOW2, "hdb", 832,
	      false, false);
	/* target= takes the rest: commas, and trailing blanks too. */
	check("vdev=xvda,target=/odd,name with, commas ", "/odd,name with, commas ",
	      XL_FORMAT_RAW, XL_BACKEND_FILE, "xvda", 51712, false, false);
	check(",,xvdc,,target=/img/c.img", "/img/c.img", XL_FORMAT_RAW,
	      XL_BACKEND_FILE, "xvdc", 51744, false, false);
	check("vdev=xvda,devtype=cdrom", NULL, XL_FORMAT_EMPTY, XL_BACKEND_PHY,
	      "xvda", 51712, true, true);
	check("/img/a.img,raw,xvda,rw,backendtype=phy", "/img/a.img",
	      XL_FORMAT_RAW, XL_BACKEND_PHY, "xvda", 51712, false, false);
	check("/img/a.img,raw,xvda,rw,backendtype=tap", "/img/a.img",
	      XL_FORMAT_RAW, XL_BACKEND_TAP_AIO, "xvda", 51712, false, false);
	check("/dev/sda,raw,xvda,rw,backendtype=qdisk", "/dev/sda",
	      XL_FORMAT_RAW, XL_BACKEND_FILE, "xvda", 51712, false, false);
	check("/img/a.img,,xvda,backend=0,specification=virtio", "/img/a.img",
	      XL_FORMAT_RAW, XL_BACKEND_FILE, "xvda", 51712, false, false);
	r = ok("  /img/a.img , raw , xvda , rw , no-discard , direct-io-safe ,"
	       " untrusted , script=block-drbd");
	assert_false(r->d.discard);
	assert_true(r->d.direct_io_safe);
	assert_false(r->d.trusted);
	assert_string_equal(r->d.script, "block-drbd");
	assert_string_equal(r->d.target, "/img/a.img");
	done(r);
	r = ok("/img/a.img,,xvda,discard,trusted");
	assert_true(r->d.discard);
	assert_true(r->d.trusted);
	assert_false(r->d.direct_io_safe);
	assert_null(r->d.script);
	done(r);
}

static void test_errors(void **state)
{
	(void)state;
	bad("phy:/dev/vg0/x,xvda,q", "bad access mode 'q' (expected r, ro, w "
	    "or rw)");
	bad("/dev/x,qcow3,xvda", "bad format 'qcow3' (expected raw, qcow, "
	    "qcow2, vhd or qed)");
	bad("/dev/vg/lv,xvda,w", "bad format 'xvda' (expected raw, qcow, qcow2, "
	    "vhd or qed); for the old form TARGET,VDEV,ACCESS start the target "
	    "with a prefix such as phy:");
	bad("phy:/dev/sda", "no vdev (the guest's name for the disk, like xvda "
	    "or hdc)");
	bad("", "no vdev (the guest's name for the disk, like xvda or hdc)");
	bad("phy:/dev/sda,vda,w", "bad vdev 'vda' (expected a name like xvda, "
	    "xvdb1, hda, hdc or sda)");
	bad(",xvda,w", "bad format 'xvda' (expected raw, qcow, qcow2, vhd or "
	    "qed); for the old form TARGET,VDEV,ACCESS start the target with a "
	    "prefix such as phy:");
	bad("phy:,xvda,w", "no target (only a cdrom drive may be empty)");
	bad("phy:/dev/cdrom,hdc:cdrom,w", "a cdrom cannot be writable");
	bad("phy:/dev/sda,xvda,w,extra", "too many positional parameters at "
	    "'extra'");
	bad("/dev/sda,raw,xvda,format=raw", "format given twice");
	bad("vdev=xvda,vdev=xvdb,target=/x", "vdev given twice");
	bad("/x,,xvda,rw,access=ro", "access given twice");
	bad("/x,,xvda,target=/y", "target given twice");
	bad("/x,,xvda,colour=red", "unknown option 'colour'");
	bad("foo:/x,xvda,w", "unknown prefix 'foo:' (known: phy, file, tap, aio, "
	    "raw, qcow2, vhd, iscsi, nbd, drbd)");
	bad("/x,,xvda,devtype=floppy", "bad devtype 'floppy' (expected cdrom)");
	bad("phy:/x,hdc:floppy,r", "bad device type 'floppy' in 'hdc:floppy' "
	    "(expected cdrom or disk)");
	bad("/x,,xvda,backendtype=nbd", "bad backendtype 'nbd' (expected phy, "
	    "qdisk or tap)");
	bad("/x,,xvda,specification=scsi", "bad specification 'scsi' (expected "
	    "xen or virtio)");
	bad("phy:/x.qcow2,xvda,w,format=qcow2", "a phy: disk is a raw block "
	    "device; a qcow2 image needs tap:qcow2: or format=qcow2");
	bad("qcow2:/x.qcow2,xvda,w,format=raw", "format given twice");
	bad("/x.qcow2,qcow2,xvda,backendtype=phy", "a phy: disk is a raw block "
	    "device; a qcow2 image needs tap:qcow2: or format=qcow2");
	bad("/x,empty,xvda", "format 'empty' with a target");
}

/* Options Xenon reads but cannot honour: clear errors, from the table. */
static void test_unsupported(void **state)
{
	(void)state;
	bad("/x,raw,xvda,backendtype=standalone", "backendtype=standalone: the "
	    "standalone backend is not supported");
	bad("/x.vhd,vhd,xvda", "format=vhd: only raw and qcow2 images are "
	    "supported");
	bad("vhd:/x.vhd,xvda,w", "format=vhd: only raw and qcow2 images are "
	    "supported");
	bad("/x,,xvda,backend=driverdom", "backend: driver domains (backends "
	    "outside Domain-0) are not supported yet");
	bad("/x,,xvda,colo", "colo: COLO replication is not supported");
	bad("/x,,xvda,colo-host=10.0.0.2", "colo: COLO replication is not "
	    "supported");
	assert_null(xl_unsupported_find("disk", "format=raw"));
	assert_non_null(xl_unsupported_find("pci", NULL));
	assert_null(xl_unsupported_find("memory", NULL));
	assert_null(xl_unsupported_find("disk", NULL));
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(xl_disk_format_name(XL_FORMAT_QCOW2), "qcow2");
	assert_string_equal(xl_disk_format_name(XL_FORMAT_EMPTY), "empty");
	assert_string_equal(xl_disk_backend_name(XL_BACKEND_TAP_AIO), "tap-aio");
	assert_string_equal(xl_disk_backend_name(XL_BACKEND_PHY), "phy");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vdev_numbers),
		cmocka_unit_test(test_legacy_forms),
		cmocka_unit_test(test_bare_device),
		cmocka_unit_test(test_file_prefix_warns),
		cmocka_unit_test(test_script_prefix),
		cmocka_unit_test(test_manual_examples),
		cmocka_unit_test(test_keyword_form),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
