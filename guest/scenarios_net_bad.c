/*
 * net-bad: a hostile virtio-net driver.  Each case starts the device
 * afresh, posts one malformed chain (or ring update) and waits for the
 * device to set NEEDS_RESET; the monitor must log it and carry on.  Then
 * the device is reset and must work again: ARP for peer= gets an answer.
 */
#include "guest/bootinfo.h"
#include "guest/net_scenario.h"
#include "guest/scenario.h"
#include "guest/string.h"
#include "guest/timer.h"
#include "guest/virtio_net.h"
#include "guest/x86.h"

#define NEEDS_RESET 0x40

/* A transmit chain from buffer id: fix up its descriptor, then post. */
static void tx_writable(uint16_t id)
{
	vnet.tx.q.desc[id].flags = VRING_DESC_F_WRITE;
	vr_tx_post(&vnet.tx, id, 64);
}

static void tx_short(uint16_t id)
{
	vr_tx_post(&vnet.tx, id, 4);
}

static void tx_gso(uint16_t id)
{
	struct vnet_hdr *h = (struct vnet_hdr *)(vnet.tx.bufs + id * VNET_BUF_SIZE);

	*h = (struct vnet_hdr){ .flags = VNET_HDR_F_NEEDS_CSUM, .gso_type = 1,
				.hdr_len = 54, .gso_size = 1400,
				.csum_start = 34, .csum_offset = 16 };
	vr_tx_post(&vnet.tx, id, VNET_HDR_LEN + 60);
}

static void tx_outside_ram(uint16_t id)
{
	vnet.tx.q.desc[id].addr = 0x7ff000000000ULL;
	vr_tx_post(&vnet.tx, id, 100);
}

static void tx_loop(uint16_t id)
{
	vnet.tx.q.desc[id].flags = VRING_DESC_F_NEXT;
	vnet.tx.q.desc[id].next = id;
	vr_tx_post(&vnet.tx, id, 100);
}

static void tx_huge(uint16_t id)
{
	vr_tx_post(&vnet.tx, 0, 128 * 1024);  /* buffer 0 and what follows */
	(void)id;
}

static void avail_jump(uint16_t id)
{
	(void)id;
	vnet.tx.q.avail->idx = (uint16_t)(vnet.tx.avail + 300);
}

/* Receive cases corrupt descriptor 0 before DRIVER_OK: the device takes
 * it as soon as the driver is up. */
static void rx_readable_hook(void)
{
	vnet.rx.q.desc[0].flags = 0;
}

static void rx_tiny_hook(void)
{
	vnet.rx.q.desc[0].len = 4;
}

struct bad_case {
	const char *name;
	void (*tx)(uint16_t id);
	void (*hook)(void);
};

static const struct bad_case cases[] = {
	{ "tx-writable", tx_writable, NULL },
	{ "tx-short-header", tx_short, NULL },
	{ "tx-gso-not-negotiated", tx_gso, NULL },
	{ "tx-outside-ram", tx_outside_ram, NULL },
	{ "tx-loop", tx_loop, NULL },
	{ "tx-frame-too-big", tx_huge, NULL },
	{ "tx-avail-jump", avail_jump, NULL },
	{ "rx-readable", NULL, rx_readable_hook },
	{ "rx-too-small", NULL, rx_tiny_hook },
};

static bool wait_needs_reset(uint64_t us)
{
	uint64_t deadline = tsc_after_us(us);

	while (rdtsc() < deadline) {
		if (vnet_status() & NEEDS_RESET)
			return true;
		udelay(1000);
	}
	return false;
}

static bool run_case(const struct bad_case *c)
{
	uint16_t id;
	bool broke;

	vnet_before_driver_ok = c->hook;
	if (!vnet_init(VNET_F_CSUM | VNET_F_GUEST_CSUM))
		return false;
	vnet_before_driver_ok = NULL;
	if (c->tx) {
		if (!vr_tx_alloc(&vnet.tx, &id))
			return false;
		c->tx(id);
		vnet_kick_now(&vnet.tx);
	}
	broke = wait_needs_reset(US_PER_S);
	printk("xenon-guest: net-bad case=%s needs-reset=%s\n", c->name,
	       broke ? "yes" : "no");
	return broke;
}

void scn_net_bad(void)
{
	char buf[32];
	struct peer p = { 0 };
	unsigned broken = 0;
	bool recovered;

	if (!cmdline_value("peer", buf, sizeof(buf)) ||
	    !net_parse_ip_port(buf, &p.ip, &p.port)) {
		result(false, "reason=need-peer=IP:PORT");
		return;
	}
	if (!net_setup(0))
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		broken += run_case(&cases[i]);
	/* A reset brings the device back. */
	recovered = net_setup(0) && net_resolve(&p, tsc_after_us(5 * US_PER_S));
	result(broken == ARRAY_SIZE(cases) && recovered,
	       "cases=%u broken=%u recovered=%s", (unsigned)ARRAY_SIZE(cases),
	       broken, recovered ? "yes" : "no");
}
