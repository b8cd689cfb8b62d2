/* The boot-timer port (see boot_timer.h).  Only the first one-byte write
 * of the magic value counts; everything else is ignored, and reads float
 * (all ones) as if nothing were there. */
#include "devices/boot_timer.h"

#include "lib/log.h"
#include "lib/platform.h"
#include "vmm/vm.h"

static void boot_timer_io(void *opaque, uint64_t offset, uint8_t *data,
			  uint32_t len, bool is_write)
{
	struct vm *vm = opaque;
	uint_fast64_t unset = 0, now;

	(void)offset;
	if (!is_write) {
		for (uint32_t i = 0; i < len; i++)
			data[i] = 0xff;
		return;
	}
	if (len != 1 || data[0] != PLAT_BOOT_TIMER_MAGIC)
		return;
	now = monotonic_ns();
	/* First signal only: a guest that writes it again (a reboot inside
	 * the same domain, a second init) does not move the mark. */
	if (!atomic_compare_exchange_strong(&vm->boot_done_ns, &unset, now))
		return;
	log_info("guest boot time: %llu us since monitor start",
		 (unsigned long long)((now - vm->start_ns) / 1000));
}

int boot_timer_create(struct vm *vm)
{
	if (io_bus_register(&vm->pio, PLAT_PORT_BOOT_TIMER, 1, boot_timer_io,
			    vm) < 0) {
		log_errno("boot-timer: cannot claim port 0x%x",
			  PLAT_PORT_BOOT_TIMER);
		return -1;
	}
	return 0;
}

void boot_timer_destroy(struct vm *vm)
{
	io_bus_unregister(&vm->pio, PLAT_PORT_BOOT_TIMER);
}
