/*
 * The TAP back end of virtio-net: a Linux tun/tap device opened with a
 * virtio-net header on every frame (IFF_VNET_HDR, 12-byte header, the
 * layout of struct virtio_net_hdr_v1), so offloaded frames pass between
 * the guest and the host's stack unchanged.  The descriptor is
 * non-blocking; the device polls it on the monitor's main loop.
 */
#ifndef XENON_NET_TAP_H
#define XENON_NET_TAP_H

#include <net/if.h>
#include <stdbool.h>

/* TUNSETOFFLOAD bits (linux/if_tun.h), for callers that map features. */
#define NET_TAP_F_CSUM    0x01
#define NET_TAP_F_TSO4    0x02
#define NET_TAP_F_TSO6    0x04
#define NET_TAP_F_TSO_ECN 0x08
#define NET_TAP_F_UFO     0x10
#define NET_TAP_F_USO4    0x20
#define NET_TAP_F_USO6    0x40

#define NET_TAP_VNET_HDR_LEN 12

struct net_tap {
	int fd;
	char ifname[IFNAMSIZ];
	int ifindex;
	bool created;             /* we made the interface (it goes with us) */
	unsigned offloads;        /* NET_TAP_F_* the kernel accepts */
};

/*
 * Open the TAP device `ifname`, or create it when it does not exist
 * (NULL: a new "xenon-tap%d").  `what` prefixes every message
 * ("vif[0]: 'vifname=tap0'").  Returns 0, or -1 after a clear error.
 */
int net_tap_open(struct net_tap *t, const char *ifname, const char *what);
void net_tap_close(struct net_tap *t);

/* Tell the kernel which offloads the guest can take (NET_TAP_F_*). */
int net_tap_set_offload(struct net_tap *t, unsigned flags);
/* Interface MTU (mtu= of the vif spec). */
int net_tap_set_mtu(struct net_tap *t, unsigned mtu, const char *what);
/* Set the link up, as Xen's vif hotplug script does. */
int net_tap_up(struct net_tap *t, const char *what);
/* Enslave to an existing Linux bridge; 1 if attached, 0 if there is no
 * such bridge (the daemon handles bridges), -1 on error. */
int net_tap_attach_bridge(struct net_tap *t, const char *bridge,
			  const char *what);

#endif
