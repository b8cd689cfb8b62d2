/*
 * Guests misusing the store.  xenstore-flood: using more of it than its
 * quotas allow (nodes, value size, watches, transactions) must be refused
 * with Xen's errors, and the store must go on answering it afterwards.
 * xenstore-bad: a request header announcing more than 4096 bytes breaks
 * the channel device (NEEDS_RESET) in the monitor, which carries on.
 */
#include "guest/memory.h"
#include "guest/scenario.h"
#include "guest/string.h"
#include "guest/timer.h"
#include "guest/x86.h"
#include "guest/xenstore.h"
#include "guest/xs_channel.h"
#include "lib/xs_wire.h"

#define MAX_NODES   5000
#define MAX_WATCHES 1000
#define MAX_TX      100

static char big[XS_VALUE_MAX] NOINIT;

static bool is_quota_error(int err)
{
	return err == XS_ENOSPC || err == XS_EQUOTA || err == XS_E2BIG;
}

/* Create nodes until refused; *err is the refusal. */
static unsigned flood_nodes(int *err)
{
	char path[40];
	unsigned n;

	for (n = 0; n < MAX_NODES; n++) {
		snprintf(path, sizeof(path), "data/flood/n%u", n);
		if ((*err = xs_write_str(0, path, "x")) != XS_OK)
			break;
	}
	return n;
}

/* Largest value accepted from growing sizes. */
static unsigned flood_value(int *err)
{
	static const unsigned sizes[] = { 256, 1024, 2048, 2049, 3000, 4000 };
	unsigned best = 0;

	memset(big, 'v', sizeof(big));
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		if ((*err = xs_write(0, "data/big", big, sizes[i])) != XS_OK)
			break;
		best = sizes[i];
	}
	return best;
}

static unsigned flood_watches(int *err)
{
	char path[32];
	unsigned n;

	for (n = 0; n < MAX_WATCHES; n++) {
		snprintf(path, sizeof(path), "data/w%u", n);
		if ((*err = xs_watch(path, path)) != XS_OK)
			break;
	}
	return n;
}

static unsigned flood_transactions(int *err)
{
	uint32_t ids[MAX_TX];
	unsigned n;

	for (n = 0; n < MAX_TX; n++)
		if ((*err = xs_transaction_start(&ids[n])) != XS_OK)
			break;
	for (unsigned i = 0; i < n; i++)
		xs_transaction_end(ids[i], false);
	return n;
}

/* After all that the store still serves this guest. */
static bool still_answers(void)
{
	char v[16];

	return xs_read(0, "domid", v, sizeof(v), NULL) == XS_OK &&
	       xs_rm(0, "data/flood") == XS_OK &&
	       xs_write_str(0, "data/after-flood", "ok") == XS_OK &&
	       xs_read(0, "data/after-flood", v, sizeof(v), NULL) == XS_OK &&
	       !strcmp(v, "ok");
}

void scn_xenstore_flood(void)
{
	int e_nodes = XS_OK, e_value = XS_OK, e_watch = XS_OK, e_tx = XS_OK;
	unsigned nodes, value, watches, txs;
	int err = xs_init();
	uint64_t t0, us;
	bool answers;

	if (err) {
		result(false, "reason=init err=%s", xs_error_name(err));
		return;
	}
	/* The value first: once the node quota is used up, no new node
	 * could hold it. */
	value = flood_value(&e_value);
	t0 = rdtsc();
	nodes = flood_nodes(&e_nodes);
	/* One request at a time over the channel: a round-trip figure. */
	us = (rdtsc() - t0) * 1000000 / tsc_hz();
	printk("xenstore-flood: %u writes in %lu us (%lu us each)\n", nodes + 1,
	       (unsigned long)us, (unsigned long)(us / (nodes + 1)));
	watches = flood_watches(&e_watch);
	txs = flood_transactions(&e_tx);
	answers = still_answers();
	printk("xenstore-flood: nodes=%u (%s) value=%u (%s) watches=%u (%s) "
	       "transactions=%u (%s) answers=%s\n", nodes,
	       xs_error_name(e_nodes), value, xs_error_name(e_value), watches,
	       xs_error_name(e_watch), txs, xs_error_name(e_tx),
	       answers ? "yes" : "no");
	result(is_quota_error(e_nodes) && is_quota_error(e_value) &&
	       is_quota_error(e_watch) && is_quota_error(e_tx) && answers,
	       "nodes=%u nodes_err=%s value_max=%u value_err=%s watches=%u "
	       "watches_err=%s transactions=%u transactions_err=%s answers=%s",
	       nodes, xs_error_name(e_nodes), value, xs_error_name(e_value),
	       watches, xs_error_name(e_watch), txs, xs_error_name(e_tx),
	       answers ? "yes" : "no");
}

void scn_xenstore_bad(void)
{
	const struct xsd_sockmsg h = { XS_WRITE, 1, 0, XENSTORE_PAYLOAD_MAX + 1 };
	int err = xs_init();
	bool broken = false;

	if (err) {
		result(false, "reason=init err=%s", xs_error_name(err));
		return;
	}
	xsc_send(&h, sizeof(h));
	/* No config interrupt is set up: look every 10 ms for a second. */
	for (int i = 0; i < 100 && !(broken = xsc_needs_reset()); i++)
		sleep_until(tsc_after_us(10000));
	printk("xenstore-bad: device %s\n", broken ? "needs reset" : "still fine");
	result(broken, "needs_reset=%s", broken ? "yes" : "no");
}
