/*
 * Telling the network where a guest is after a restore or a migration:
 * one RARP broadcast per MAC from the backend (what QEMU's announce and
 * Xen's netfront do), so that switches and bridges learn the new port.
 * The VMM knows the guest's MAC but not its IP address, hence RARP.
 */
#ifndef XENON_NET_ANNOUNCE_H
#define XENON_NET_ANNOUNCE_H

#include <stddef.h>
#include <stdint.h>

#define NET_RARP_FRAME_LEN 60   /* the Ethernet minimum, padded */
#define NET_ETH_P_RARP 0x8035

/* Build the RARP request "who is mac" from mac into buf. */
void net_rarp_frame(uint8_t buf[NET_RARP_FRAME_LEN], const uint8_t mac[6]);

/* Write it to a TAP opened with a vnet_hdr_len-byte virtio-net header;
 * 0, or -1 with errno (logged by the caller). */
int net_announce_tap(int fd, size_t vnet_hdr_len, const uint8_t mac[6]);

#endif
