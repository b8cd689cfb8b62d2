/*
 * libFuzzer harness for virtio-net's request parsing: the device on a fake
 * TAP (a datagram socketpair), a driver that has negotiated the features
 * the input picks, and then a stream of operations: descriptors with any
 * address, length, flags and next, raw ring and buffer bytes, available
 * ring entries, kicks, frames from the host with any header, resets.
 * ASan/UBSan watch every access the device makes (guest RAM is one heap
 * block, so a write past a checked range is caught).
 *
 *   make fuzz-virtio-net           (clang, 20 s; FUZZ_TIME=secs to change)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "../unit/vm_stubs.h"
#include "../unit/vnet_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	memcpy(&v, p, n);
	return v;
}

static void host_frame(struct vnet_h *h, uint16_t len, uint64_t val)
{
	static uint8_t buf[12 + 4096];

	len %= sizeof(buf);
	memset(buf, (int)(val >> 56), len);
	memcpy(buf, &val, len < 8 ? len : 8);
	(void)!send(h->peer, buf, len, MSG_DONTWAIT);
}

static void drain(struct vnet_h *h)
{
	static uint8_t buf[70000];

	while (recv(h->peer, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static void op(struct vnet_h *h, uint8_t code, uint16_t off, uint64_t val)
{
	unsigned q = off & 1;

	switch (code % 8) {
	case 0:     /* raw bytes into rings and buffers */
		memcpy(vh_ptr(h, 0x1000u + off % (H_RAM - 0x1000u - 8)), &val, 8);
		break;
	case 1:     /* a descriptor, mostly pointing at the buffer area */
		vh_desc(h, q, (uint16_t)((off >> 1) % H_QSIZE),
			off & 0x8000 ? val : H_BUF + (val & 0xffff),
			(uint32_t)(val >> 16 & 0x1ffff), (uint16_t)(val >> 40 & 7),
			(uint16_t)((val >> 48) % (H_QSIZE + 2)));
		break;
	case 2:
		vh_publish(h, q, (uint16_t)(val % (H_QSIZE + 1)));
		break;
	case 3:
		vh_kick(h, q);
		break;
	case 4:
		host_frame(h, off, val);
		break;
	case 5:
		drain(h);
		break;
	case 6:
		vh_driver_init(h, val);
		break;
	case 7:     /* any BAR 0 register */
		vh_wr(h, off % VIRTIO_PCI_BAR_SIZE, val, 1u << (val >> 62));
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct virtio_net_params p = { .name = "virtio-net-fuzz",
				       .mac = { 0, 0x16, 0x3e, 1, 2, 3 } };
	struct vnet_h h;

	if (!init) {
		log_init("fuzz", LOG_ERROR);
		log_set_file(fopen("/dev/null", "w"));
		main_loop_init();
		init = true;
	}
	if (size < 8 || vh_create(&h, &p) < 0)
		return 0;
	vh_driver_init(&h, get(data, 8));
	for (size_t i = 8; i + 11 <= size; i += 11)
		op(&h, data[i], (uint16_t)get(data + i + 1, 2), get(data + i + 3, 8));
	vh_kick(&h, 0);
	vh_kick(&h, 1);
	vh_destroy(&h);
	return 0;
}
