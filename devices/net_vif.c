/*
 * --vif SPEC -> virtio-net on a TAP.  The spec is parsed by the same code
 * as a vif = [...] entry of a domain config (lib/xl_vif.c), so the daemon
 * can pass what the user wrote.  What the monitor does with it:
 *
 *   mac=      the guest's MAC (config space); without it one is generated
 *             in Xen's 00:16:3e OUI from the domain UUID (--uuid, else a
 *             random one) and the devid, as xl does
 *   vifname=  the TAP: opened if it exists (the daemon may have made it),
 *             else created; without it the kernel names one xenon-tapN
 *   rate=     limit on the guest's transmit rate (as Xen's netback)
 *   mtu=      the TAP's MTU, advertised to the guest (VIRTIO_NET_F_MTU)
 *   bridge=   the TAP joins that Linux bridge if it exists; if not, it is
 *             left alone (bridges are the daemon's business)
 *
 * script=, ip= and gatewaydev= belong to the hotplug scripts the daemon
 * runs, and model= can only be virtio-net here: they are accepted and
 * noted at debug level.
 */
#include "devices/net_vif.h"

#include <stdio.h>
#include <string.h>

#include "devices/net_tap.h"
#include "devices/virtio_net.h"
#include "lib/domain_config.h"
#include "lib/log.h"
#include "vmm/vm.h"

static struct virtio_net *nets[VMM_MAX_VIFS];

static void print_msgs(const struct xl_msgs *m)
{
	for (size_t i = 0; i < m->n; i++) {
		if (m->v[i].severity == XL_ERROR)
			log_error("%s", m->v[i].text);
		else
			log_warn("%s", m->v[i].text);
	}
}

static int parse_spec(struct xl_vif *vif, const char *spec, unsigned index)
{
	char what[16];
	struct xl_msgs msgs;
	struct xl_spec_ctx ctx = { .msgs = &msgs, .what = what };
	int rc;

	snprintf(what, sizeof(what), "vif[%u]", index);
	xl_msgs_init(&msgs);
	rc = xl_vif_parse(vif, spec, &ctx);
	print_msgs(&msgs);
	xl_msgs_free(&msgs);
	return rc;
}

/* The domain UUID seeds generated MACs; one per monitor run. */
static const uint8_t *domain_uuid(const struct vmm_options *o)
{
	static uint8_t uuid[16];
	static bool have;

	if (!have) {
		if (!o->uuid || xl_uuid_parse(o->uuid, uuid) < 0)
			xl_uuid_generate(uuid);
		have = true;
	}
	return uuid;
}

static void note_ignored(const struct xl_vif *v, const char *what)
{
	if (v->model && strcmp(v->model, "virtio-net") && strcmp(v->model, "virtio"))
		log_debug("%s: model=%s: Xenon's interfaces are virtio-net", what,
			  v->model);
	if (v->script || v->ip || v->gatewaydev)
		log_debug("%s: script=, ip= and gatewaydev= are for the "
			  "toolstack's hotplug scripts", what);
}

/* TAP set-up the spec asks for: MTU, link up, bridge. */
static int setup_tap(struct net_tap *tap, const struct xl_vif *v,
		     const char *what)
{
	if (v->mtu && net_tap_set_mtu(tap, v->mtu, what) < 0)
		return -1;
	if (net_tap_up(tap, what) < 0)
		return -1;
	if (v->bridge && net_tap_attach_bridge(tap, v->bridge, what) < 0)
		return -1;
	return 0;
}

static int create_one(struct vm *vm, struct pci_bus *bus, unsigned i)
{
	const char *spec = vm->opts->vifs[i];
	struct virtio_net_params p = { 0 };
	struct xl_vif v;
	struct net_tap tap;
	char what[64 + 16], name[24], mac[18];

	if (parse_spec(&v, spec, i) < 0)
		return -1;
	snprintf(what, sizeof(what), "vif[%u]: '%.64s'", i, spec);
	snprintf(name, sizeof(name), "virtio-net[%u]", i);
	note_ignored(&v, what);
	if (v.mac_given)
		memcpy(p.mac, v.mac, sizeof(p.mac));
	else
		xl_mac_generate(domain_uuid(vm->opts),
				v.devid >= 0 ? (unsigned)v.devid : i, p.mac);
	p.name = name;
	p.mtu = v.mtu;
	p.rate_bytes_per_sec = v.rate_bytes_per_sec;
	p.rate_interval_us = v.rate_interval_us;
	if (net_tap_open(&tap, v.vifname, what) < 0 ||
	    setup_tap(&tap, &v, what) < 0) {
		net_tap_close(&tap);
		xl_vif_free(&v);
		return -1;
	}
	xl_mac_format(p.mac, mac);
	log_info("vif[%u]: virtio-net %s on TAP %s%s", i, mac, tap.ifname,
		 v.rate_bytes_per_sec ? " (rate limited)" : "");
	xl_vif_free(&v);
	nets[i] = virtio_net_create(vm, bus, &tap, &p);
	return nets[i] ? 0 : -1;
}

int net_vifs_create(struct vm *vm, struct pci_bus *bus)
{
	for (unsigned i = 0; i < vm->opts->n_vifs; i++)
		if (create_one(vm, bus, i) < 0)
			return -1;
	return 0;
}

void net_vifs_destroy(void)
{
	for (unsigned i = 0; i < VMM_MAX_VIFS; i++) {
		virtio_net_destroy(nets[i]);
		nets[i] = NULL;
	}
}
