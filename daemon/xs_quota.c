#include "daemon/xs_quota.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void xs_quota_defaults(struct xs_quota *q)
{
	q->nodes = 1000;
	q->watches = 128;
	q->transactions = 10;
	q->value_size = 2048;
	q->perms = 5;
	q->tx_nodes = 1024;
	q->queue_bytes = 4u << 20;
}

static const char *const names[] = {
	"nodes", "watches", "transactions", "value-size", "perms",
	"tx-nodes", "queue-bytes",
};
#define NNAMES (sizeof(names) / sizeof(names[0]))

/* The field behind names[i]. */
static void store(struct xs_quota *q, size_t i, unsigned long v)
{
	switch (i) {
	case 0: q->nodes = (unsigned)v; break;
	case 1: q->watches = (unsigned)v; break;
	case 2: q->transactions = (unsigned)v; break;
	case 3: q->value_size = (unsigned)v; break;
	case 4: q->perms = (unsigned)v; break;
	case 5: q->tx_nodes = (unsigned)v; break;
	default: q->queue_bytes = v; break;
	}
}

static unsigned long load(const struct xs_quota *q, size_t i)
{
	const unsigned long v[NNAMES] = {
		q->nodes, q->watches, q->transactions, q->value_size,
		q->perms, q->tx_nodes, q->queue_bytes,
	};
	return v[i];
}

/* Compare a quota name, accepting '_' for '-'. */
static bool name_is(const char *s, size_t len, const char *name)
{
	if (strlen(name) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] != name[i] && !(s[i] == '_' && name[i] == '-'))
			return false;
	return true;
}

int xs_quota_set(struct xs_quota *q, const char *assignment, char *err,
		 size_t errlen)
{
	const char *eq = strchr(assignment, '=');
	unsigned long v;
	char *end;

	if (!eq) {
		snprintf(err, errlen, "quota '%s' is not NAME=VALUE",
			 assignment);
		return -1;
	}
	errno = 0;
	v = strtoul(eq + 1, &end, 10);
	if (eq[1] == '\0' || *end || errno || v > 0xffffffffUL ||
	    eq[1] == '-') {
		snprintf(err, errlen, "quota '%s': value is not a number "
			 "from 0 to 4294967295", assignment);
		return -1;
	}
	for (size_t i = 0; i < NNAMES; i++) {
		if (name_is(assignment, (size_t)(eq - assignment), names[i])) {
			store(q, i, v);
			return 0;
		}
	}
	snprintf(err, errlen, "unknown quota '%.*s' (known: nodes, watches, "
		 "transactions, value-size, perms, tx-nodes, queue-bytes)",
		 (int)(eq - assignment), assignment);
	return -1;
}

size_t xs_quota_format(const struct xs_quota *q, char *buf, size_t cap)
{
	size_t used = 0;

	if (cap)
		buf[0] = '\0';
	for (size_t i = 0; i < NNAMES && used < cap; i++) {
		int n = snprintf(buf + used, cap - used, "%s=%lu\n", names[i],
				 load(q, i));
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return used < cap ? used : (cap ? cap - 1 : 0);
}
