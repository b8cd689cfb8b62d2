/*
 * The rate= limit of a vif (xl-network-configuration(5)), applied to the
 * guest's transmit direction as Xen's netback does: a token bucket that
 * fills at the configured bytes per second.  The bucket holds one credit
 * interval's worth (rate x interval, 50 ms by default) or one largest
 * frame, whichever is more, so a frame can always go eventually and an
 * idle guest cannot save up more than that for a burst.
 *
 * Pure arithmetic on the caller's clock, so the device owns the timer and
 * the unit tests own time.
 */
#ifndef XENON_NET_RATE_LIMIT_H
#define XENON_NET_RATE_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct net_rate_limit {
	uint64_t bytes_per_sec;   /* 0: unlimited */
	uint64_t burst;           /* bucket size in bytes */
	uint64_t tokens;          /* bytes that may go now */
	uint64_t last_ns;         /* when tokens was brought up to date */
	uint64_t rem;             /* sub-byte remainder, in byte-nanoseconds */
};

/* Start full of one interval's credit (at most `burst`). */
void net_rate_init(struct net_rate_limit *rl, uint64_t bytes_per_sec,
		   uint32_t interval_us, uint32_t max_frame, uint64_t now_ns);
static inline bool net_rate_enabled(const struct net_rate_limit *rl)
{
	return rl->bytes_per_sec != 0;
}
/*
 * May a frame of len bytes go at now_ns?  0: yes, and it is charged.
 * Otherwise the nanoseconds until it may (nothing is charged).
 */
uint64_t net_rate_take(struct net_rate_limit *rl, uint32_t len,
		       uint64_t now_ns);
/* Give back what a frame that could not be sent after all was charged. */
void net_rate_refund(struct net_rate_limit *rl, uint32_t len);

#endif
