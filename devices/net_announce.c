/* RARP announcements after restore/migration (see net_announce.h). */
#include "devices/net_announce.h"

#include <string.h>
#include <sys/uio.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void net_rarp_frame(uint8_t buf[NET_RARP_FRAME_LEN], const uint8_t mac[6])
{
	uint8_t *arp = buf + 14;

	memset(buf, 0, NET_RARP_FRAME_LEN);
	memset(buf, 0xff, 6);                  /* broadcast */
	memcpy(buf + 6, mac, 6);
	put16(buf + 12, NET_ETH_P_RARP);
	put16(arp, 1);                         /* Ethernet */
	put16(arp + 2, 0x0800);                /* IPv4 */
	arp[4] = 6;
	arp[5] = 4;
	put16(arp + 6, 3);                     /* reverse request */
	memcpy(arp + 8, mac, 6);               /* sender: the guest, IP 0 */
	memcpy(arp + 18, mac, 6);              /* target: the guest, IP 0 */
}

int net_announce_tap(int fd, size_t vnet_hdr_len, const uint8_t mac[6])
{
	uint8_t hdr[32] = { 0 }, frame[NET_RARP_FRAME_LEN];
	struct iovec iov[2] = {
		{ hdr, vnet_hdr_len < sizeof(hdr) ? vnet_hdr_len : sizeof(hdr) },
		{ frame, sizeof(frame) },
	};

	net_rarp_frame(frame, mac);
	return writev(fd, iov, 2) < 0 ? -1 : 0;
}
