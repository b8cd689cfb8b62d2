/*
 * Constants shared by the assembly files and C: GDT selectors, control
 * register bits, page-table flags, the AP trampoline's place.  Plain
 * #defines only, so .S files can include it.
 */
#ifndef GUEST_LAYOUT_H
#define GUEST_LAYOUT_H

#define GDT_CODE64  0x08
#define GDT_DATA    0x10
#define GDT_CODE32  0x18
#define GDT_UCODE64 0x20  /* ring 3, for user_call() (user.S) */
#define GDT_UDATA   0x28
#define GDT_TSS     0x30  /* 16 bytes: the TSS holds the ring-0 stack */
#define GDT_BYTES   64

#define CR0_PE      0x00000001
#define CR0_PG      0x80000000
#define CR4_PAE     0x00000020
#define MSR_EFER    0xc0000080
#define EFER_LME    0x00000100

#define PTE_P       0x001
#define PTE_W       0x002
#define PTE_U       0x004  /* everything is user-accessible: see user.S */
#define PTE_PWT     0x008
#define PTE_PCD     0x010
#define PTE_PS      0x080

#define CPUID_PDPE1GB_BIT 26  /* CPUID 0x80000001 EDX */

#define BOOT_STACK_SIZE 16384
#define AP_STACK_SIZE   8192
#define USER_STACK_SIZE 16384
#define RING0_STACK_SIZE 8192  /* exceptions taken in ring 3 land here */

/* The real-mode AP trampoline: SIPI vector 0x10 starts APs at 0x10000. */
#define TRAMPOLINE_ADDR 0x10000
#define SIPI_VECTOR     (TRAMPOLINE_ADDR >> 12)

#endif
