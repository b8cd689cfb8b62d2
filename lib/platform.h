/*
 * The Xenon virtual platform: addresses, ports and magic numbers shared by
 * the monitor (vmm/, devices/) and the test guest (guest/).  Plain #defines
 * only, so the freestanding guest can include it too.
 */
#ifndef XENON_PLATFORM_H
#define XENON_PLATFORM_H

/* ---- Guest physical memory map ---------------------------------------- */
#define PLAT_GDT_ADDR          0x00000500ULL /* boot GDT (PVH and 64-bit entry) */
#define PLAT_START_INFO_ADDR   0x00001000ULL /* PVH hvm_start_info */
#define PLAT_MEMMAP_ADDR       0x00002000ULL /* PVH memmap entries (max 128) */
#define PLAT_MODLIST_ADDR      0x00003000ULL /* PVH module list */
#define PLAT_BOOT_PARAMS_ADDR  0x00007000ULL /* Linux zero page (bzImage path) */
#define PLAT_PML4_ADDR         0x00009000ULL /* identity page tables (64-bit entry) */
#define PLAT_PDPT_ADDR         0x0000a000ULL
#define PLAT_PD_ADDR           0x0000b000ULL /* 4 pages: first 4 GiB in 2 MiB pages */
#define PLAT_CMDLINE_ADDR      0x00020000ULL
#define PLAT_CMDLINE_MAX       0x00010000ULL /* 64 KiB, NUL included */
#define PLAT_EBDA_START        0x0009fc00ULL /* low RAM ends here in the e820 */
#define PLAT_ACPI_ADDR         0x000e0000ULL /* RSDP + tables, 0xe0000-0xfffff */
#define PLAT_ACPI_SIZE         0x00020000ULL
#define PLAT_HIGH_RAM_START    0x00100000ULL /* kernels load at or above 1 MiB */

#define PLAT_MMIO_HOLE_START   0xc0000000ULL /* RAM above this moves past 4 GiB */
#define PLAT_PCI_MMIO_START    0xc0000000ULL /* 32-bit PCI BAR window */
#define PLAT_PCI_MMIO_SIZE     0x20000000ULL
#define PLAT_PCI_ECAM_START    0xe0000000ULL /* PCIe MMCONFIG, bus 0 only */
#define PLAT_PCI_ECAM_SIZE     0x00100000ULL
#define PLAT_IOAPIC_ADDR       0xfec00000ULL
#define PLAT_LAPIC_ADDR        0xfee00000ULL
#define PLAT_HIGH_RAM_4G       0x100000000ULL

/* ---- I/O ports --------------------------------------------------------- */
#define PLAT_PORT_COM1         0x3f8
#define PLAT_IRQ_COM1          4
#define PLAT_PORT_BOOT_TIMER   0x3f0 /* write PLAT_BOOT_TIMER_MAGIC: boot done */
#define PLAT_BOOT_TIMER_MAGIC  123   /* as Firecracker's boot timer */
#define PLAT_PORT_PCI_ADDR     0xcf8
#define PLAT_PORT_PCI_DATA     0xcfc
#define PLAT_PORT_RESET        0xcf9 /* write 0x06 or 0x0e: hard reset */
#define PLAT_PORT_I8042_CMD    0x64  /* 0xfe: pulse reset line */
#define PLAT_PORT_ACPI_PM      0x600 /* PM1a_EVT 0x600..3, PM1a_CNT 0x604..5 */
#define PLAT_PORT_PM1A_EVT     0x600
#define PLAT_PORT_PM1A_CNT     0x604
#define PLAT_PORT_PM_TMR       0x608
#define PLAT_PORT_GPE0         0x620 /* GPE0 block, 4 bytes (2 STS + 2 EN) */
#define PLAT_IRQ_SCI           9
#define PLAT_SLP_TYP_S5        5     /* \_S5 value written to PM1a_CNT.SLP_TYP */

/* ---- PCI --------------------------------------------------------------- */
#define PLAT_PCI_MAX_SLOTS     32
#define PLAT_PCI_INTX_GSI_BASE 16 /* INTx of slot n -> GSI 16 + (n % 8) */
/* The xenstore channel: a virtio console (1af4:1043) with this subsystem
 * ID instead of 1af4:0003 (devices/xs_channel.c, docs/xenstore.md). */
#define PLAT_XS_CHANNEL_SUBSYS_VENDOR 0x1af4
#define PLAT_XS_CHANNEL_SUBSYS_ID     0x5853 /* "XS" */

/* ---- Platform devices (devices/platform.c and friends) ----------------- */
#define PLAT_PORT_I8042_DATA   0x60
#define PLAT_IRQ_I8042_KBD     1
#define PLAT_PORT_RTC          0x70  /* index (bit 7: NMI disable); 0x71 data */
#define PLAT_IRQ_RTC           8
#define PLAT_RTC_CENTURY       0x32  /* CMOS index of the century (FADT) */

#endif
