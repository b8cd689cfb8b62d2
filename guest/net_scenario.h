/* What the network scenarios (scenarios_net*.c) share. */
#ifndef GUEST_NET_SCENARIO_H
#define GUEST_NET_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/net_stack.h"

#define US_PER_S 1000000ULL

struct peer {
	uint32_t ip;
	uint16_t port;
	uint8_t mac[ETH_ALEN];
};

/* The numeric value of key= on the command line, or dflt. */
uint64_t cmdline_uint(const char *key, uint64_t dflt);
/* Start the device with ip= from the command line and checksum offload
 * (unless csum=0) plus `extra` features (unless gso=0); prints the MAC
 * line, or a failed result and false. */
bool net_setup(uint64_t extra);
/* The peer's MAC by ARP (frames arriving meanwhile are answered). */
bool net_resolve(struct peer *p, uint64_t deadline);

#endif
