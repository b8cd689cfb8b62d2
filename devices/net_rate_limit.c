/* Token bucket for a vif's rate= (see net_rate_limit.h for the policy). */
#include "devices/net_rate_limit.h"

#define NS_PER_SEC 1000000000ULL

void net_rate_init(struct net_rate_limit *rl, uint64_t bytes_per_sec,
		   uint32_t interval_us, uint32_t max_frame, uint64_t now_ns)
{
	uint64_t credit;

	*rl = (struct net_rate_limit){ .bytes_per_sec = bytes_per_sec,
				       .last_ns = now_ns };
	if (!bytes_per_sec)
		return;
	/* xl_rate_parse() keeps rate x interval within 64 bits. */
	credit = bytes_per_sec * interval_us / 1000000;
	if (credit == 0)
		credit = 1;
	rl->burst = credit > max_frame ? credit : max_frame;
	rl->tokens = credit;
}

/* Credit for the time since last_ns, at most up to the bucket size.
 * Byte-nanoseconds in 128 bits: no rate or gap can overflow. */
static void refill(struct net_rate_limit *rl, uint64_t now_ns)
{
	unsigned __int128 credit;
	uint64_t dt;

	if (now_ns <= rl->last_ns)
		return;
	dt = now_ns - rl->last_ns;
	rl->last_ns = now_ns;
	credit = (unsigned __int128)dt * rl->bytes_per_sec + rl->rem;
	if (credit / NS_PER_SEC >= rl->burst - rl->tokens) {
		rl->tokens = rl->burst;
		rl->rem = 0;
		return;
	}
	rl->tokens += (uint64_t)(credit / NS_PER_SEC);
	rl->rem = (uint64_t)(credit % NS_PER_SEC);
}

uint64_t net_rate_take(struct net_rate_limit *rl, uint32_t len,
		       uint64_t now_ns)
{
	uint64_t need;

	if (!rl->bytes_per_sec)
		return 0;
	refill(rl, now_ns);
	if (len > rl->burst)
		len = (uint32_t)rl->burst;  /* cannot happen: burst >= max frame */
	if (rl->tokens >= len) {
		rl->tokens -= len;
		return 0;
	}
	need = len - rl->tokens;
	/* Round up, and never 0, so the caller's timer makes progress. */
	return (need * NS_PER_SEC - rl->rem + rl->bytes_per_sec - 1) /
	       rl->bytes_per_sec + 1;
}

void net_rate_refund(struct net_rate_limit *rl, uint32_t len)
{
	if (!rl->bytes_per_sec)
		return;
	rl->tokens = rl->burst - rl->tokens < len ? rl->burst : rl->tokens + len;
}
