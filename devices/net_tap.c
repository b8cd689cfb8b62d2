/*
 * TAP devices for virtio-net: open or create, vnet header, offloads, MTU,
 * link up and bridge attachment.  Every failure names the vif and the
 * interface, and says what to do where the kernel's errno alone would be
 * cryptic (a busy TAP, a name taken by another kind of interface).
 */
#include "devices/net_tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"

#define TUN_PATH "/dev/net/tun"
#define DEFAULT_NAME "xenon-tap%d"

_Static_assert(NET_TAP_F_CSUM == TUN_F_CSUM && NET_TAP_F_TSO4 == TUN_F_TSO4 &&
	       NET_TAP_F_TSO6 == TUN_F_TSO6 && NET_TAP_F_TSO_ECN == TUN_F_TSO_ECN &&
	       NET_TAP_F_UFO == TUN_F_UFO, "TUNSETOFFLOAD bits");

static int open_tun(const char *what)
{
	int fd = open(TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
		log_error("%s: %s: %s (is the tun module loaded?)", what,
			  TUN_PATH, strerror(errno));
	else
		log_error("%s: %s: %s (TAP devices need CAP_NET_ADMIN or a "
			  "persistent TAP owned by this user)", what, TUN_PATH,
			  strerror(errno));
	return -1;
}

/* Why TUNSETIFF refused an existing or new interface, in words. */
static void attach_error(const char *what, const char *name, bool existed,
			 int err)
{
	if (err == EBUSY)
		log_error("%s: TAP device %s is busy: another process has it "
			  "open", what, name);
	else if (err == EINVAL && existed)
		log_error("%s: interface %s exists but is not a single-queue "
			  "TAP device", what, name);
	else if (err == EPERM || err == EACCES)
		log_error("%s: TAP device %s: %s (it belongs to another user, "
			  "or CAP_NET_ADMIN is needed)", what, name, strerror(err));
	else
		log_error("%s: cannot %s TAP device %s: %s", what,
			  existed ? "attach to" : "create", name, strerror(err));
}

static int attach(struct net_tap *t, const char *name, const char *what)
{
	struct ifreq ifr;
	bool existed = strchr(name, '%') == NULL && if_nametoindex(name) != 0;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		attach_error(what, name, existed, errno);
		return -1;
	}
	snprintf(t->ifname, sizeof(t->ifname), "%s", ifr.ifr_name);
	t->created = !existed;
	t->ifindex = (int)if_nametoindex(t->ifname);
	return 0;
}

/* Which offload combinations does this kernel's tun accept? */
static unsigned probe_offloads(int fd)
{
	static const unsigned sets[] = {
		TUN_F_CSUM,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
		TUN_F_CSUM | TUN_F_UFO,
		TUN_F_CSUM | NET_TAP_F_USO4 | NET_TAP_F_USO6,
	};
	unsigned ok = 0;

	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)sets[i]) == 0)
			ok |= sets[i];
	ioctl(fd, TUNSETOFFLOAD, 0UL);
	return ok;
}

int net_tap_open(struct net_tap *t, const char *ifname, const char *what)
{
	int hdr_len = NET_TAP_VNET_HDR_LEN;
	unsigned features = 0;

	memset(t, 0, sizeof(*t));
	t->fd = open_tun(what);
	if (t->fd < 0)
		return -1;
	if (ioctl(t->fd, TUNGETFEATURES, &features) == 0 &&
	    !(features & IFF_VNET_HDR)) {
		log_error("%s: this kernel's TAP devices lack IFF_VNET_HDR", what);
		goto fail;
	}
	if (attach(t, ifname ? ifname : DEFAULT_NAME, what) < 0)
		goto fail;
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
		log_error("%s: %s: cannot set the vnet header size: %s", what,
			  t->ifname, strerror(errno));
		goto fail;
	}
	t->offloads = probe_offloads(t->fd);
	log_debug("%s: TAP %s %s, offloads 0x%x", what, t->ifname,
		  t->created ? "created" : "opened", t->offloads);
	return 0;
fail:
	net_tap_close(t);
	return -1;
}

void net_tap_close(struct net_tap *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

int net_tap_set_offload(struct net_tap *t, unsigned flags)
{
	if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)(flags & t->offloads)) < 0) {
		log_warn("%s: TUNSETOFFLOAD 0x%x: %s", t->ifname, flags,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* An interface ioctl by name, in this process's network namespace. */
static int if_ioctl(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc, err;

	if (s < 0)
		return -1;
	rc = ioctl(s, req, ifr);
	err = errno;
	close(s);
	errno = err;
	return rc;
}

int net_tap_set_mtu(struct net_tap *t, unsigned mtu, const char *what)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", t->ifname);
	ifr.ifr_mtu = (int)mtu;
	if (if_ioctl(SIOCSIFMTU, &ifr) < 0) {
		log_error("%s: %s: cannot set MTU %u: %s", what, t->ifname, mtu,
			  strerror(errno));
		return -1;
	}
	return 0;
}

int net_tap_up(struct net_tap *t, const char *what)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", t->ifname);
	if (if_ioctl(SIOCGIFFLAGS, &ifr) < 0)
		goto fail;
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags |= IFF_UP;
	if (if_ioctl(SIOCSIFFLAGS, &ifr) == 0)
		return 0;
fail:
	log_error("%s: %s: cannot set the link up: %s", what, t->ifname,
		  strerror(errno));
	return -1;
}

int net_tap_attach_bridge(struct net_tap *t, const char *bridge,
			  const char *what)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", bridge);
	ifr.ifr_ifindex = t->ifindex;
	if (if_ioctl(SIOCBRADDIF, &ifr) == 0) {
		log_info("%s: %s attached to bridge %s", what, t->ifname, bridge);
		return 1;
	}
	if (errno == ENODEV) {
		log_debug("%s: no bridge %s here; %s left unattached", what,
			  bridge, t->ifname);
		return 0;
	}
	if (errno == EOPNOTSUPP || errno == EINVAL) {
		log_error("%s: bridge=%s: %s is not a Linux bridge", what, bridge,
			  bridge);
		return -1;
	}
	log_error("%s: cannot attach %s to bridge %s: %s", what, t->ifname,
		  bridge, strerror(errno));
	return -1;
}
