/*
 * nmi: waits, halted with interrupts off, for an NMI from the host (QMP inject-nmi).
 *
 * On QEMU's pc an injected NMI arrives through the local APIC's LINT1 pin (as
 * on real boards), so the guest programs LVT LINT1 for NMI delivery first, as
 * firmware does. It prints "waiting for NMI" when ready; the NMI handler prints
 * the vector and exits with PASS. An NMI before the line, or any other wake-up,
 * is a failure.
 */
#include "rt.h"

#define APIC_BASE       0xFEE00000u
#define APIC_SVR        0x0F0
#define APIC_LVT_LINT1  0x360
#define LVT_DELIVERY_NMI (4u << 8)

static volatile int ready;

static void apic_write(uint32_t reg, uint32_t value) { *(volatile uint32_t *)(APIC_BASE + reg) = value; }

static void on_nmi(struct regs *r)
{
    printf("NMI: vector %u %s\n", r->vector, ready ? "while halted" : "too early");
    printf(ready && r->vector == 2 ? "PASS\n" : "FAIL\n");
    exit(ready && r->vector == 2 ? 0 : 1);
}

int kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    (void)mbi;
    printf("nmi guest\n");
    set_trap_handler(2, on_nmi);
    apic_write(APIC_SVR, 0x1FF);              /* software-enable the APIC, spurious vector 0xFF */
    apic_write(APIC_LVT_LINT1, LVT_DELIVERY_NMI);
    cli();
    ready = 1;
    printf("waiting for NMI\n");
    for (;;)
        __asm__ volatile("hlt");
}
