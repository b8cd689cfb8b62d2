/*
 * Scenarios that use the store: xenstore (the client's operations and
 * the shutdown protocol), domu (what a daemon-managed test domain does)
 * and xenstore-flood (quotas).  Xen's shutdown protocol: the toolstack
 * writes "poweroff" or "reboot" to control/shutdown; the guest clears it
 * and does it.
 */
#include "guest/power.h"
#include "guest/power_button.h"
#include "guest/scenario.h"
#include "guest/string.h"
#include "guest/timer.h"
#include "guest/x86.h"
#include "guest/xenstore.h"

#define SHUTDOWN_NODE   "control/shutdown"
#define SHUTDOWN_TOKEN  "shutdown"
#define HEARTBEAT_US    1000000ULL
#define SUMMARY_MAX     512

static char summary[SUMMARY_MAX];

/* Fail the scenario on an unexpected error, naming the step. */
static bool check(int err, const char *step)
{
	if (err == XS_OK)
		return true;
	result(false, "reason=%s err=%s", step, xs_error_name(err));
	return false;
}

/* Read control/shutdown and clear it in one transaction, as Linux does,
 * so that a request is taken exactly once.  val is "" when empty.
 * ENOENT inside the transaction means the node is missing or xenond lost
 * the transaction in a restart (its id is unknown now); the commit tells
 * which, and a lost transaction is started again like a conflicting one.
 * A commit xenond carried out before dying still answers OK. */
static int take_request(char *val, size_t cap)
{
	for (int tries = 0; tries < 10; tries++) {
		uint32_t tx;
		int err = xs_transaction_start(&tx);

		if (err)
			return err;
		err = xs_read(tx, SHUTDOWN_NODE, val, cap, NULL);
		if (err == XS_ENOENT) {
			val[0] = '\0';
			err = XS_OK;
		}
		if (!err && val[0])
			err = xs_write_str(tx, SHUTDOWN_NODE, "");
		if (err) {
			xs_transaction_end(tx, false);
			if (err == XS_ENOENT)	/* a write: the tx is gone */
				continue;
			return err;
		}
		err = xs_transaction_end(tx, true);
		if (err != XS_EAGAIN && err != XS_ENOENT)
			return err;
	}
	return XS_EAGAIN;
}

/* Carry out a request; returns only for ones we do not act on. */
static void act(const char *req, const char *who)
{
	if (!strcmp(req, "poweroff") || !strcmp(req, "halt")) {
		result(true, "%s action=poweroff", summary);
		poweroff();
	}
	if (!strcmp(req, "reboot")) {
		result(true, "%s action=reboot", summary);
		reboot();
	}
	if (!strcmp(req, "suspend"))
		printk("%s: suspend is not supported; ignored\n", who);
	else if (req[0])
		printk("%s: unknown shutdown request '%s'; ignored\n", who, req);
}

static bool button_stop(void)
{
	return power_button_pressed();
}

/*
 * Wait for shutdown requests (and, with a heartbeat, write
 * data/heartbeat every second), halted between events.  Returns only on
 * a store error; power-off and reboot never return.
 */
static void serve(const char *who, bool heartbeat)
{
	uint64_t period = tsc_hz() * HEARTBEAT_US / 1000000, next = 0;
	unsigned beats = 0;
	bool button = power_button_init();
	struct xs_event ev;
	char val[64], num[16];
	int err;

	if (!check(xs_watch(SHUTDOWN_NODE, SHUTDOWN_TOKEN), "watch"))
		return;
	printk("%s: ready%s\n", who, button ? " (power button armed)" : "");
	if (heartbeat)
		next = rdtsc() + period;
	for (;;) {
		err = xs_wait_event(&ev, next, button ? button_stop : NULL);
		if (err == XS_ESTOPPED) {
			printk("%s: power button pressed\n", who);
			result(true, "%s action=power-button", summary);
			poweroff();
		}
		if (err == XS_ETIMEDOUT && heartbeat) {
			snprintf(num, sizeof(num), "%u", ++beats);
			if (!check(xs_write_str(0, "data/heartbeat", num),
				   "heartbeat"))
				return;
			next += period;
			if (rdtsc() > next)
				next = rdtsc() + period;  /* paused: skip */
			continue;
		}
		if (!check(err, "wait"))
			return;
		if (strcmp(ev.token, SHUTDOWN_TOKEN) != 0)
			continue;
		if (!check(take_request(val, sizeof(val)), "take-request"))
			return;
		act(val, who);
	}
}

/* A transaction whose read is overwritten before it commits must fail
 * with EAGAIN and succeed when retried. */
static bool conflict_retried(unsigned *retries)
{
	char v[16];
	uint32_t tx;
	int err = xs_write_str(0, "data/counter", "0");

	*retries = 0;
	for (int attempt = 0; !err && attempt < 5; attempt++) {
		unsigned n = 0;

		err = xs_transaction_start(&tx);
		if (!err)
			err = xs_read(tx, "data/counter", v, sizeof(v), NULL);
		if (err)
			break;
		for (const char *p = v; *p >= '0' && *p <= '9'; p++)
			n = n * 10 + (unsigned)(*p - '0');
		if (attempt == 0)	/* someone else gets in first */
			err = xs_write_str(0, "data/counter", "100");
		snprintf(v, sizeof(v), "%u", n + 1);
		if (!err)
			err = xs_write_str(tx, "data/counter", v);
		if (err) {
			xs_transaction_end(tx, false);
			break;
		}
		err = xs_transaction_end(tx, true);
		if (err != XS_EAGAIN)
			break;
		++*retries;
		err = XS_OK;
	}
	if (!check(err, "transaction") ||
	    !check(xs_read(0, "data/counter", v, sizeof(v), NULL), "counter"))
		return false;
	if (strcmp(v, "101") != 0 || *retries != 1) {
		result(false, "reason=transaction counter=%s retries=%u", v,
		       *retries);
		return false;
	}
	return true;
}

static bool tree_ops(void)
{
	char list[64];
	unsigned n;
	int err;

	if (!check(xs_mkdir(0, "data/dir"), "mkdir") ||
	    !check(xs_write_str(0, "data/dir/a", "1"), "write") ||
	    !check(xs_write_str(0, "data/dir/b", "2"), "write") ||
	    !check(xs_directory(0, "data/dir", list, sizeof(list), &n),
		   "directory"))
		return false;
	if (n != 2 || strcmp(list, "a") != 0) {
		result(false, "reason=directory count=%u", n);
		return false;
	}
	if (!check(xs_rm(0, "data/dir"), "rm"))
		return false;
	err = xs_read(0, "data/dir/a", list, sizeof(list), NULL);
	if (err != XS_ENOENT) {
		result(false, "reason=rm-left err=%s", xs_error_name(err));
		return false;
	}
	return true;
}

void scn_xenstore(void)
{
	char name[64], greeting[96], back[96];
	unsigned retries;
	int err = xs_init(), refused;

	if (err == XS_EIO && !xs_present()) {
		result(false, "reason=no-xenstore-channel");
		return;
	}
	if (!check(err, "init") ||
	    !check(xs_read(0, "name", name, sizeof(name), NULL), "read-name"))
		return;
	printk("xenstore: name=%s domid=%u home=%s\n", name, xs_domid(),
	       xs_home());
	snprintf(greeting, sizeof(greeting), "hello from %s", name);
	if (!check(xs_write_str(0, "data/greeting", greeting), "write") ||
	    !check(xs_read(0, "data/greeting", back, sizeof(back), NULL),
		   "read-back") || !tree_ops() || !conflict_retried(&retries))
		return;
	if (strcmp(back, greeting) != 0) {
		result(false, "reason=read-back");
		return;
	}
	/* Outside its own subtree a guest may not write. */
	refused = xs_write_str(0, "/local/domain/0/data/intruder", "x");
	printk("xenstore: write outside home: %s\n", xs_error_name(refused));
	if (refused != XS_EACCES) {
		result(false, "reason=not-refused err=%s",
		       xs_error_name(refused));
		return;
	}
	snprintf(summary, sizeof(summary),
		 "name=%s domid=%u refused=%s tx_retries=%u", name, xs_domid(),
		 xs_error_name(refused), retries);
	serve("xenstore", false);
}

static bool pressed(void *ctx)
{
	(void)ctx;
	return power_button_pressed();
}

/* Halted until the SCI says the button was pressed. */
static void sleep_until_button(void)
{
	wait_event_until(0, pressed, NULL);
	printk("domu: power button pressed\n");
	result(true, "%s action=power-button", summary);
	poweroff();
}

/* Without a store: honour the power button only. */
static void idle_without_store(void)
{
	snprintf(summary, sizeof(summary), "xenstore=no");
	if (!power_button_init()) {
		printk("domu: no xenstore channel, no ACPI: idling\n");
		halt_forever();
	}
	printk("domu: no xenstore channel; ready (power button armed)\n");
	sleep_until_button();
}

void scn_domu(void)
{
	int err;

	timer_init();
	/* Listen to the power button first: xenond presses it when the
	 * guest has not advertised control/feature-poweroff yet, as while
	 * the requests below wait for a restarted xenond; serve() acts on
	 * such a press once the guest is up. */
	power_button_init();
	err = xs_init();
	if (err == XS_EIO && !xs_present()) {
		idle_without_store();
		return;
	}
	if (!check(err, "init") ||
	    !check(xs_write_str(0, "data/status", "running"), "status") ||
	    !check(xs_write_str(0, "control/feature-poweroff", "1"),
		   "feature") ||
	    !check(xs_write_str(0, "control/feature-reboot", "1"), "feature"))
		return;
	snprintf(summary, sizeof(summary), "xenstore=yes domid=%u",
		 xs_domid());
	serve("domu", true);
}
