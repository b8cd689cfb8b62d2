/* VIFSPEC strings (xl-network-configuration(5)), MACs and rates. */
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
	struct xl_vif v;
	struct xl_msgs m;
	int rc;
};

static struct result *parse(const char *spec)
{
	struct result *r = calloc(1, sizeof(*r));
	struct xl_spec_ctx ctx = { &r->m, { "g.cfg", 3, 9 }, "vif[0]" };

	xl_msgs_init(&r->m);
	r->rc = xl_vif_parse(&r->v, spec, &ctx);
	return r;
}

static void done(struct result *r)
{
	xl_vif_free(&r->v);
	xl_msgs_free(&r->m);
	free(r);
}

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

static void bad(const char *spec, const char *why)
{
	struct result *r = parse(spec);
	char want[512];

	snprintf(want, sizeof(want), "g.cfg:3:9: vif[0]: '%s': %s", spec, why);
	assert_int_equal(r->rc, -1);
	assert_int_equal(r->m.errors, 1);
	assert_string_equal(r->m.v[r->m.n - 1].text, want);
	assert_null(r->v.spec);
	done(r);
}

static void test_defaults(void **state)
{
	static const char *const empty[] = { "", " ", ",", " , ,", "\t" };

	(void)state;
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		struct result *r = ok(empty[i]);

		assert_string_equal(r->v.bridge, XL_DEFAULT_BRIDGE);
		assert_false(r->v.mac_given);
		assert_int_equal(r->v.devid, -1);
		assert_int_equal(r->v.type, XL_VIF_TYPE_DEFAULT);
		assert_null(r->v.model);
		assert_null(r->v.script);
		assert_int_equal(r->v.mtu, 0);
		assert_true(r->v.rate_bytes_per_sec == 0);
		assert_true(r->v.trusted);
		done(r);
	}
}

static void test_all_options(void **state)
{
	struct result *r = ok("mac=00:16:3E:74:3d:76, bridge=xenbr1,"
			      "gatewaydev=eth1,type=ioemu,model=e1000,"
			      "vifname=web0,script=vif-route,"
			      "ip=192.0.2.10 2001:db8::1/64,backend=Domain-0,"
			      "rate=10Mb/s,devid=3,mtu=9000,untrusted");
	char mac[18];

	(void)state;
	xl_mac_format(r->v.mac, mac);
	assert_string_equal(mac, "00:16:3e:74:3d:76");
	assert_true(r->v.mac_given);
	assert_string_equal(r->v.bridge, "xenbr1");
	assert_string_equal(r->v.gatewaydev, "eth1");
	assert_int_equal(r->v.type, XL_VIF_TYPE_IOEMU);
	assert_string_equal(r->v.model, "e1000");
	assert_string_equal(r->v.vifname, "web0");
	assert_string_equal(r->v.script, "vif-route");
	assert_string_equal(r->v.ip, "192.0.2.10 2001:db8::1/64");
	assert_true(r->v.rate_bytes_per_sec == 1250000);
	assert_int_equal(r->v.rate_interval_us, 50000);
	assert_int_equal(r->v.devid, 3);
	assert_int_equal(r->v.mtu, 9000);
	assert_false(r->v.trusted);
	done(r);
	r = ok("type=vif,trusted,backend=0");
	assert_int_equal(r->v.type, XL_VIF_TYPE_VIF);
	assert_true(r->v.trusted);
	done(r);
	r = ok("type=ioemu,bridge=eth0");       /* the tutorial's HVM vif */
	assert_int_equal(r->v.type, XL_VIF_TYPE_IOEMU);
	assert_string_equal(r->v.bridge, "eth0");
	done(r);
}

static void test_netdev_alias_warns(void **state)
{
	struct result *r = parse("netdev=eth2");

	(void)state;
	assert_int_equal(r->rc, 0);
	assert_string_equal(r->v.gatewaydev, "eth2");
	assert_int_equal(r->m.n, 1);
	assert_int_equal(r->m.v[0].severity, XL_WARNING);
	assert_string_equal(r->m.v[0].text, "g.cfg:3:9: vif[0]: 'netdev=eth2': "
			    "netdev is deprecated; use gatewaydev");
	done(r);
}

static void rate(const char *s, uint64_t bps, uint32_t us)
{
	uint64_t got_bps = 0;
	uint32_t got_us = 0;
	const char *why = NULL;

	if (xl_rate_parse(s, &got_bps, &got_us, &why) != 0 ||
	    got_bps != bps || got_us != us) {
		print_message("%s: %llu B/s every %u us (%s)\n", s,
			      (unsigned long long)got_bps, got_us,
			      why ? why : "ok");
		fail();
	}
}

static void bad_rate(const char *s, const char *want_why)
{
	uint64_t bps;
	uint32_t us;
	const char *why = NULL;

	assert_int_equal(xl_rate_parse(s, &bps, &us, &why), -1);
	assert_string_equal(why, want_why);
}

static void test_rates(void **state)
{
	(void)state;
	rate("10Mb/s", 1250000, 50000);
	rate("10240KB/s", 10240000, 50000);
	rate("1Gb/s@20ms", 125000000, 20000);
	rate("250KB/s", 250000, 50000);
	rate("1MB/s@20ms", 1000000, 20000);
	rate("100B/s@1s", 100, 1000000);
	rate("8b/s@500us", 1, 500);
	rate("4294967295KB/s", 4294967295000ULL, 50000);
	rate("4294967295GB/s@1us", 4294967295000000000ULL, 1);
	bad_rate("4294967295GB/s", "rate too high");
	bad_rate("10Mbps", "expected a rate like 10Mb/s, 250KB/s or 1GB/s");
	bad_rate("10 Mb/s", "expected a rate like 10Mb/s, 250KB/s or 1GB/s");
	bad_rate("Mb/s", "expected a rate like 10Mb/s, 250KB/s or 1GB/s");
	bad_rate("10mb/s", "expected a rate like 10Mb/s, 250KB/s or 1GB/s");
	bad_rate("10Mb/s/s", "expected a rate like 10Mb/s, 250KB/s or 1GB/s");
	bad_rate("4294967296B/s", "expected a rate like 10Mb/s, 250KB/s or 1GB/s");
	bad_rate("0Mb/s", "the rate must be above zero");
	bad_rate("7b/s", "the rate must be above zero");
	bad_rate("10Mb/s@", "expected an interval like 20ms, 500us or 1s after '@'");
	bad_rate("10Mb/s@20", "expected an interval like 20ms, 500us or 1s after '@'");
	bad_rate("10Mb/s@20m", "expected an interval like 20ms, 500us or 1s after '@'");
	bad_rate("10Mb/s@0ms", "the interval must be above zero");
	bad_rate("10Mb/s@5000s", "interval too long");
	bad_rate("", "expected a rate like 10Mb/s, 250KB/s or 1GB/s");
}

static void test_mac(void **state)
{
	static const uint8_t uuid_a[16] = { 1, 2, 3 }, uuid_b[16] = { 1, 2, 4 };
	uint8_t m1[6], m2[6], m3[6], m4[6];
	char text[18];

	(void)state;
	assert_int_equal(xl_mac_parse("00:16:3e:AA:bb:0C", m1), 0);
	xl_mac_format(m1, text);
	assert_string_equal(text, "00:16:3e:aa:bb:0c");
	assert_int_equal(xl_mac_parse("00:16:3e:aa:bb", m1), -1);
	assert_int_equal(xl_mac_parse("00:16:3e:aa:bb:0c:", m1), -1);
	assert_int_equal(xl_mac_parse("00-16-3e-aa-bb-0c", m1), -1);
	assert_int_equal(xl_mac_parse("0:16:3e:aa:bb:0cc", m1), -1);
	assert_int_equal(xl_mac_parse("g0:16:3e:aa:bb:0c", m1), -1);

	xl_mac_generate(uuid_a, 0, m1);
	xl_mac_generate(uuid_a, 0, m2);
	xl_mac_generate(uuid_a, 1, m3);
	xl_mac_generate(uuid_b, 0, m4);
	assert_memory_equal(m1, m2, 6);              /* stable */
	assert_memory_not_equal(m1, m3, 6);          /* per devid */
	assert_memory_not_equal(m1, m4, 6);          /* per domain */
	for (int i = 0; i < 3; i++) {
		const uint8_t *m = i == 0 ? m1 : i == 1 ? m3 : m4;

		assert_int_equal(m[0], 0x00);        /* Xen's OUI */
		assert_int_equal(m[1], 0x16);
		assert_int_equal(m[2], 0x3e);
		assert_true(m[3] < 0x80);
	}
}

static void test_errors(void **state)
{
	(void)state;
	bad("mac=00:16:3e:zz:00:01", "bad MAC address '00:16:3e:zz:00:01' "
	    "(expected six pairs of hex digits like 00:16:3e:12:34:56)");
	bad("mac=01:16:3e:00:00:01", "MAC address '01:16:3e:00:00:01' is a "
	    "multicast address (the first byte must be even)");
	bad("mac=00:00:00:00:00:00", "MAC address '00:00:00:00:00:00' is all "
	    "zeros");
	bad("type=netfront2", "bad type 'netfront2' (expected ioemu or vif)");
	bad("mtu=67", "bad mtu '67' (expected 68 to 65535)");
	bad("mtu=big", "bad mtu 'big' (expected 68 to 65535)");
	bad("mtu=", "bad mtu '' (expected 68 to 65535)");
	bad("devid=-1", "bad devid '-1' (expected 0 to 65535)");
	bad("devid=65536", "bad devid '65536' (expected 0 to 65535)");
	bad("vifname=averyveryverylongname", "bad vifname "
	    "'averyveryverylongname' (a host interface name: 1 to 15 "
	    "characters, no '/', ':' or blanks)");
	bad("vifname=a/b", "bad vifname 'a/b' (a host interface name: 1 to 15 "
	    "characters, no '/', ':' or blanks)");
	bad("ip=300.1.1.1", "bad IP address '300.1.1.1'");
	bad("ip=10.0.0.1/33", "bad IP address '10.0.0.1/33'");
	bad("ip=10.0.0.1 fe80::zz", "bad IP address 'fe80::zz'");
	bad("ip=", "ip= is empty");
	bad("bridge=", "bridge= is empty");
	bad("rate=fast", "bad rate 'fast': expected a rate like 10Mb/s, 250KB/s "
	    "or 1GB/s");
	bad("colour=blue", "unknown option 'colour'");
	bad("bridge", "expected KEY=VALUE, found 'bridge'");
	bad("bridge=a,bridge=b", "bridge given twice");
	bad("netdev=a,gatewaydev=b", "gatewaydev given twice");
	bad("backend=drv", "backend=drv: driver domains (backends outside "
	    "Domain-0) are not supported yet");
	bad("accel=netfront", "accel: accelerated vifs are not supported");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_options),
		cmocka_unit_test(test_netdev_alias_warns),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
