/* virtio-net: the header rules, the rate limiter, and the device itself on
 * a fake TAP (a datagram socketpair) driven through the PCI transport:
 * frames both ways, split headers, mergeable receive buffers, dropped
 * oversized frames, backpressure, and hostile chains. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/net_rate_limit.h"
#include "devices/virtio_net_hdr.h"
#include "lib/log.h"
#include "vm_stubs.h"
#include "vnet_harness.h"

#define F(b) (1ULL << (b))
#define NEEDS_RESET 0x40

/* ---- header rules ------------------------------------------------------------ */

static void test_effective_features(void **state)
{
	(void)state;
	/* Segmentation without its checksum bit is dropped, ECN without TSO. */
	assert_int_equal(vnet_effective_features(F(VIRTIO_NET_F_HOST_TSO4)), 0);
	assert_int_equal(vnet_effective_features(F(VIRTIO_NET_F_GUEST_TSO6) |
						 F(VIRTIO_NET_F_MAC)),
			 F(VIRTIO_NET_F_MAC));
	assert_int_equal(vnet_effective_features(F(VIRTIO_NET_F_CSUM) |
						 F(VIRTIO_NET_F_HOST_ECN)),
			 F(VIRTIO_NET_F_CSUM));
	uint64_t full = F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) |
			F(VIRTIO_NET_F_GUEST_ECN);
	assert_int_equal(vnet_effective_features(full), full);
	assert_true(vnet_guest_gso(full));
	assert_false(vnet_guest_gso(F(VIRTIO_NET_F_GUEST_CSUM)));
}

static void test_tap_offloads(void **state)
{
	(void)state;
	assert_int_equal(vnet_tap_offloads(F(VIRTIO_NET_F_GUEST_TSO4)), 0);
	assert_int_equal(vnet_tap_offloads(F(VIRTIO_NET_F_GUEST_CSUM)),
			 NET_TAP_F_CSUM);
	assert_int_equal(vnet_tap_offloads(F(VIRTIO_NET_F_GUEST_CSUM) |
					   F(VIRTIO_NET_F_GUEST_TSO4) |
					   F(VIRTIO_NET_F_GUEST_TSO6) |
					   F(VIRTIO_NET_F_GUEST_ECN)),
			 NET_TAP_F_CSUM | NET_TAP_F_TSO4 | NET_TAP_F_TSO6 |
			 NET_TAP_F_TSO_ECN);
	/* tun takes USO for both families or not at all. */
	assert_int_equal(vnet_tap_offloads(F(VIRTIO_NET_F_GUEST_CSUM) |
					   F(VIRTIO_NET_F_GUEST_USO4)),
			 NET_TAP_F_CSUM);
	assert_int_equal(vnet_tap_offloads(F(VIRTIO_NET_F_GUEST_CSUM) |
					   F(VIRTIO_NET_F_GUEST_USO4) |
					   F(VIRTIO_NET_F_GUEST_USO6)),
			 NET_TAP_F_CSUM | NET_TAP_F_USO4 | NET_TAP_F_USO6);
}

static const char *check(uint8_t flags, uint8_t gso, uint16_t gso_size,
			 uint16_t cstart, uint16_t coff, uint32_t len,
			 uint64_t features)
{
	static char why[128];
	struct virtio_net_hdr_v1 h = { .flags = flags, .gso_type = gso,
				       .hdr_len = 54, .gso_size = gso_size,
				       .csum_start = cstart, .csum_offset = coff };

	return vnet_tx_hdr_check(&h, len, vnet_effective_features(features),
				 why, sizeof(why));
}

static void test_tx_header_check(void **state)
{
	uint64_t csum = F(VIRTIO_NET_F_CSUM);
	uint64_t tso = csum | F(VIRTIO_NET_F_HOST_TSO4);

	(void)state;
	assert_null(check(0, 0, 0, 0, 0, 60, 0));
	assert_null(check(1, 0, 0, 34, 6, 60, csum));
	assert_null(check(1, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16, 9000, tso));
	assert_non_null(strstr(check(1, 0, 0, 34, 6, 60, 0), "NEEDS_CSUM"));
	assert_non_null(strstr(check(1, 0, 0, 50, 9, 60, csum), "beyond"));
	assert_non_null(strstr(check(2, 0, 0, 0, 0, 60, csum), "flags 0x2"));
	assert_non_null(strstr(check(1, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16,
				     9000, csum), "feature bit 11"));
	assert_non_null(strstr(check(0, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16,
				     9000, tso), "without NEEDS_CSUM"));
	assert_non_null(strstr(check(1, VIRTIO_NET_HDR_GSO_TCPV4, 0, 34, 16,
				     9000, tso), "gso_size 0"));
	assert_non_null(strstr(check(1, VIRTIO_NET_HDR_GSO_TCPV4 |
				     VIRTIO_NET_HDR_GSO_ECN, 1448, 34, 16, 9000,
				     tso), "HOST_ECN"));
	assert_non_null(strstr(check(1, 2, 1448, 34, 16, 9000, tso),
			       "unknown gso_type 2"));
	/* hdr_len beyond the frame. */
	assert_non_null(strstr(check(1, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 14, 6,
				     40, tso), "hdr_len"));
}

/* ---- rate limiter ------------------------------------------------------------ */

#define MS 1000000ULL

static void test_rate_unlimited(void **state)
{
	struct net_rate_limit rl;

	(void)state;
	net_rate_init(&rl, 0, 50000, 1514, 0);
	assert_false(net_rate_enabled(&rl));
	for (int i = 0; i < 1000; i++)
		assert_int_equal(net_rate_take(&rl, 65000, 0), 0);
}

static void test_rate_bucket(void **state)
{
	struct net_rate_limit rl;
	uint64_t wait, t = 1000 * MS;

	(void)state;
	/* 1000 B/s, 50 ms credit: starts with 50 bytes, holds up to 1500. */
	net_rate_init(&rl, 1000, 50000, 1500, t);
	assert_int_equal(net_rate_take(&rl, 40, t), 0);
	wait = net_rate_take(&rl, 40, t);
	assert_true(wait >= 30 * MS && wait <= 31 * MS);
	assert_true(net_rate_take(&rl, 40, t + wait - MS) > 0);
	assert_int_equal(net_rate_take(&rl, 40, t + wait), 0);
	/* Idle: the bucket fills to its size and no further. */
	t += 100000 * MS;
	assert_int_equal(net_rate_take(&rl, 1500, t), 0);
	assert_true(net_rate_take(&rl, 1, t) > 0);
	/* A refund makes the frame go after all. */
	net_rate_refund(&rl, 1500);
	assert_int_equal(net_rate_take(&rl, 1500, t), 0);
}

static void test_rate_long_run(void **state)
{
	struct net_rate_limit rl;
	uint64_t t = 0, sent = 0;

	(void)state;
	/* 1 MB/s for 10 simulated seconds of 1000-byte frames. */
	net_rate_init(&rl, 1000000, 50000, 1514, 0);
	while (t < 10000 * MS) {
		uint64_t wait = net_rate_take(&rl, 1000, t);

		if (wait)
			t += wait;
		else
			sent += 1000;
	}
	assert_true(sent >= 9950000 && sent <= 10060000);
}

/* ---- the device on a fake TAP ------------------------------------------------------ */

static const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0x11, 0x22, 0x33 };

static int setup(void **state)
{
	struct vnet_h *h = malloc(sizeof(*h));
	struct virtio_net_params p = { .name = "virtio-net[0]" };

	memcpy(p.mac, mac, 6);
	if (!h || vh_create(h, &p) < 0)
		return -1;
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	vh_destroy(*state);
	free(*state);
	return 0;
}

static void test_config_space(void **state)
{
	struct vnet_h *h = *state;
	uint8_t got[6];

	for (unsigned i = 0; i < 6; i++)
		got[i] = (uint8_t)vh_rd(h, VIRTIO_PCI_DEVICE_OFF + i, 1);
	assert_memory_equal(got, mac, 6);
	assert_int_equal(vh_rd(h, VIRTIO_PCI_DEVICE_OFF + 6, 2), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(vh_rd(h, VIRTIO_PCI_DEVICE_OFF + 8, 2), 1);
	vh_wr(h, 0x00, 0, 4);      /* device_feature_select */
	uint32_t f = (uint32_t)vh_rd(h, 0x04, 4);
	assert_true(f & F(VIRTIO_NET_F_MAC));
	assert_true(f & F(VIRTIO_NET_F_STATUS));
	assert_true(f & F(VIRTIO_NET_F_MRG_RXBUF));
	assert_true(f & F(VIRTIO_NET_F_CSUM));
	assert_true(f & F(VIRTIO_NET_F_GUEST_CSUM));
	assert_false(f & F(VIRTIO_NET_F_MTU));   /* no mtu= */
}

static void test_tx_split_header(void **state)
{
	struct vnet_h *h = *state;
	uint8_t frame[12 + 60], got[256];
	struct virtio_net_hdr_v1 hdr = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					 .csum_start = 34, .csum_offset = 6 };

	assert_int_equal(vh_driver_init(h, F(VIRTIO_NET_F_CSUM)), 0x0f);
	memcpy(frame, &hdr, 12);
	for (unsigned i = 12; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	memcpy(vh_ptr(h, H_BUF), frame, sizeof(frame));
	/* The header split across two descriptors, the frame in the second. */
	vh_desc(h, 1, 0, H_BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	vh_desc(h, 1, 1, H_BUF + 8, sizeof(frame) - 8, 0, 0);
	vh_publish(h, 1, 0);
	vh_kick(h, 1);
	assert_int_equal(recv(h->peer, got, sizeof(got), 0), sizeof(frame));
	assert_memory_equal(got, frame, sizeof(frame));
	assert_int_equal(vh_used(h, 1)->idx, 1);
	assert_int_equal(vh_used(h, 1)->ring[0].id, 0);
	assert_int_equal(vh_rd(h, H_STATUS, 1), 0x0f);
}

static void test_tx_runt_dropped_not_fatal(void **state)
{
	struct vnet_h *h = *state;
	uint8_t got[64];

	vh_driver_init(h, 0);
	vh_desc(h, 1, 0, H_BUF, 12 + 10, 0, 0);
	vh_publish(h, 1, 0);
	vh_kick(h, 1);
	assert_int_equal(vh_used(h, 1)->idx, 1);
	assert_int_equal(recv(h->peer, got, sizeof(got), 0), -1);
	assert_int_equal(vh_rd(h, H_STATUS, 1), 0x0f);
}

static void test_tx_needs_csum_not_negotiated(void **state)
{
	struct vnet_h *h = *state;
	struct virtio_net_hdr_v1 hdr = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					 .csum_start = 34, .csum_offset = 6 };

	vh_driver_init(h, 0);
	memcpy(vh_ptr(h, H_BUF), &hdr, 12);
	vh_desc(h, 1, 0, H_BUF, 12 + 60, 0, 0);
	vh_publish(h, 1, 0);
	vh_kick(h, 1);
	assert_true(vh_rd(h, H_STATUS, 1) & NEEDS_RESET);
	assert_int_equal(vh_used(h, 1)->idx, 0);
	/* A reset brings it back. */
	assert_int_equal(vh_driver_init(h, 0), 0x0f);
}

static void test_tx_writable_buffer_fatal(void **state)
{
	struct vnet_h *h = *state;

	vh_driver_init(h, 0);
	vh_desc(h, 1, 0, H_BUF, 12 + 60, VIRTQ_DESC_F_NEXT, 1);
	vh_desc(h, 1, 1, H_BUF + 0x100, 16, VIRTQ_DESC_F_WRITE, 0);
	vh_publish(h, 1, 0);
	vh_kick(h, 1);
	assert_true(vh_rd(h, H_STATUS, 1) & NEEDS_RESET);
}

/* Host -> guest: one frame of len bytes with this header. */
static void inject(struct vnet_h *h, uint8_t flags, uint32_t len, uint8_t fill)
{
	uint8_t buf[12 + 2048];
	struct virtio_net_hdr_v1 hdr = { .flags = flags, .num_buffers = 0xeeee };

	memcpy(buf, &hdr, 12);
	memset(buf + 12, fill, len);
	assert_int_equal(send(h->peer, buf, 12 + len, 0), 12 + len);
}

static void post_rx(struct vnet_h *h, unsigned n, uint32_t size)
{
	for (uint16_t i = 0; i < n; i++) {
		vh_desc(h, 0, i, H_BUF + 0x1000u * i, size, VIRTQ_DESC_F_WRITE, 0);
		vh_publish(h, 0, i);
	}
}

static struct virtio_net_hdr_v1 *rx_hdr(struct vnet_h *h, unsigned i)
{
	return vh_ptr(h, H_BUF + 0x1000u * i);
}

static void test_rx_header_and_flags(void **state)
{
	struct vnet_h *h = *state;

	vh_driver_init(h, 0);
	post_rx(h, 2, 2048);
	inject(h, VIRTIO_NET_HDR_F_DATA_VALID, 100, 0xab);
	vh_kick(h, 0);
	assert_int_equal(vh_used(h, 0)->idx, 1);
	assert_int_equal(vh_used(h, 0)->ring[0].len, 112);
	assert_int_equal(rx_hdr(h, 0)->num_buffers, 1);
	assert_int_equal(rx_hdr(h, 0)->flags, 0);   /* no GUEST_CSUM */
	assert_int_equal(((uint8_t *)vh_ptr(h, H_BUF))[12 + 99], 0xab);

	vh_driver_init(h, F(VIRTIO_NET_F_GUEST_CSUM));
	post_rx(h, 2, 2048);
	inject(h, VIRTIO_NET_HDR_F_DATA_VALID, 100, 0xcd);
	vh_kick(h, 0);
	assert_int_equal(vh_used(h, 0)->idx, 1);
	assert_int_equal(rx_hdr(h, 0)->flags, VIRTIO_NET_HDR_F_DATA_VALID);
}

static void test_rx_mergeable(void **state)
{
	struct vnet_h *h = *state;
	struct virtq_used *u = vh_used(h, 0);

	vh_driver_init(h, F(VIRTIO_NET_F_MRG_RXBUF));
	post_rx(h, 6, 512);
	inject(h, 0, 1400, 0x5a);
	inject(h, 0, 60, 0x5b);
	vh_kick(h, 0);
	assert_int_equal(u->idx, 4);
	assert_int_equal(u->ring[0].len, 512);
	assert_int_equal(u->ring[1].len, 512);
	assert_int_equal(u->ring[2].len, 1412 - 1024);
	assert_int_equal(rx_hdr(h, 0)->num_buffers, 3);
	assert_int_equal(((uint8_t *)vh_ptr(h, H_BUF + 0x2000))[1412 - 1024 - 1], 0x5a);
	/* The next frame starts in the next buffer. */
	assert_int_equal(u->ring[3].id, 3);
	assert_int_equal(u->ring[3].len, 72);
	assert_int_equal(rx_hdr(h, 3)->num_buffers, 1);
}

static void test_rx_mergeable_waits_for_room(void **state)
{
	struct vnet_h *h = *state;

	vh_driver_init(h, F(VIRTIO_NET_F_MRG_RXBUF));
	post_rx(h, 2, 512);              /* 1024 bytes: not a full frame's room */
	inject(h, 0, 100, 7);
	vh_kick(h, 0);
	assert_int_equal(vh_used(h, 0)->idx, 0);
	for (uint16_t i = 2; i < 4; i++) {
		vh_desc(h, 0, i, H_BUF + 0x1000u * i, 512, VIRTQ_DESC_F_WRITE, 0);
		vh_publish(h, 0, i);
	}
	vh_kick(h, 0);
	assert_int_equal(vh_used(h, 0)->idx, 1);
	assert_int_equal(vh_used(h, 0)->ring[0].len, 112);
	assert_int_equal(((uint8_t *)vh_ptr(h, H_BUF))[12], 7);
}

static void test_rx_backpressure_keeps_frames(void **state)
{
	struct vnet_h *h = *state;

	vh_driver_init(h, 0);
	for (uint8_t i = 0; i < 3; i++)
		inject(h, 0, 64, i);
	vh_kick(h, 0);                   /* nothing posted: nothing taken */
	assert_int_equal(vh_used(h, 0)->idx, 0);
	post_rx(h, 4, 2048);
	vh_kick(h, 0);
	assert_int_equal(vh_used(h, 0)->idx, 3);
	for (uint8_t i = 0; i < 3; i++)
		assert_int_equal(((uint8_t *)vh_ptr(h, H_BUF + 0x1000u * i))[12], i);
}

static void test_rx_too_big_for_buffer_dropped(void **state)
{
	struct vnet_h *h = *state;

	vh_driver_init(h, 0);            /* no MRG_RXBUF: a frame per buffer */
	post_rx(h, 1, 256);
	inject(h, 0, 1000, 1);           /* does not fit: dropped */
	inject(h, 0, 100, 2);            /* fits the same buffer */
	vh_kick(h, 0);
	assert_int_equal(vh_used(h, 0)->idx, 1);
	assert_int_equal(vh_used(h, 0)->ring[0].len, 112);
	assert_int_equal(((uint8_t *)vh_ptr(h, H_BUF))[12], 2);
	assert_int_equal(vh_rd(h, H_STATUS, 1), 0x0f);
}

static void test_rx_readable_chain_fatal(void **state)
{
	struct vnet_h *h = *state;

	vh_driver_init(h, 0);
	vh_desc(h, 0, 0, H_BUF, 2048, 0, 0);
	vh_publish(h, 0, 0);
	vh_kick(h, 0);
	assert_true(vh_rd(h, H_STATUS, 1) & NEEDS_RESET);
}

static int group_setup(void **state)
{
	(void)state;
	log_init("test", LOG_ERROR);
	return main_loop_init();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_effective_features),
		cmocka_unit_test(test_tap_offloads),
		cmocka_unit_test(test_tx_header_check),
		cmocka_unit_test(test_rate_unlimited),
		cmocka_unit_test(test_rate_bucket),
		cmocka_unit_test(test_rate_long_run),
		cmocka_unit_test_setup_teardown(test_config_space, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_split_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_runt_dropped_not_fatal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_needs_csum_not_negotiated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_writable_buffer_fatal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_header_and_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_mergeable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_mergeable_waits_for_room, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_backpressure_keeps_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_too_big_for_buffer_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_readable_chain_fatal, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
