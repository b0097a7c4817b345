/*
 * demo: the default guest. Prints a banner with what the boot loader told
 * it, wires the ACPI power button, then prints "heartbeat N" once a second
 * forever, halting between timer interrupts (so an idle machine stays idle).
 *
 * Power button: QEMU's pc machine (PIIX4 PM) fixed-hardware power button,
 * the same one an ACPI OS uses, at the PM I/O base SeaBIOS programs (0x600):
 *
 *   setup   outb 0xB2 <- 0xF1           SMI_CMD = ACPI_ENABLE
 *           inw  0x604 until bit 0      PM1_CNT.SCI_EN reads 1
 *           outw 0x600 <- 0x0100        PM1_STS: clear a stale PWRBTN_STS (write 1 to clear)
 *           outb 0x4D1 |= 0x02          ELCR2: IRQ9 level triggered (SeaBIOS leaves it edge)
 *           outw 0x602 <- 0x0100        PM1_EN = PWRBTN_EN only
 *           unmask IRQ9 on the slave PIC (and the cascade, IRQ2, on the master)
 *   on SCI  inw  0x600                  PM1_STS; if PWRBTN_STS (bit 8):
 *   (IRQ9)  outw 0x600 <- 0x0100        clear it (drops the level SCI) ...
 *           EOI slave, EOI master       ... before the EOI, so IRQ9 does not fire again
 *           on_power_button():
 *           outw 0x604 <- (PM1_CNT & ~0x3C00) | 0x2000   SLP_TYP 0 (S5) + SLP_EN
 *
 * QEMU answers the last write with SHUTDOWN {"guest":true,"reason":"guest-shutdown"}
 * and exits 0. See README.md, "demo and the power button".
 */
#include "rt.h"

#define TICK_HZ 100

#define SMI_CMD      0xB2    /* APM control port; the FADT's SMI_CMD on QEMU's pc */
#define ACPI_ENABLE  0xF1    /* the FADT's ACPI_ENABLE value on QEMU's pc */
#define PM_BASE      0x600   /* PMBA as SeaBIOS programs it (PIIX4 function 3, reg 0x40) */
#define PM1_STS      (PM_BASE + 0)
#define PM1_EN       (PM_BASE + 2)
#define PM1_CNT      (PM_BASE + 4)
#define PWRBTN       (1u << 8)    /* PWRBTN_STS in PM1_STS, PWRBTN_EN in PM1_EN */
#define SCI_EN       (1u << 0)    /* PM1_CNT */
#define SLP_TYP_MASK (7u << 10)   /* PM1_CNT; 0 is S5 (soft off) in QEMU's DSDT */
#define SLP_EN       (1u << 13)   /* PM1_CNT */
#define SCI_IRQ      9
#define ELCR2        0x4D1        /* edge/level control for IRQ8-15 */

/* The reaction to the power button: announce it and enter S5 (soft off). */
void on_power_button(void) __attribute__((noreturn, used));
void on_power_button(void)
{
    printf("power button: shutting down\n");
    uint16_t cnt = inw(PM1_CNT);               /* keep SCI_EN, as an ACPI OS does */
    cnt = (uint16_t)((cnt & ~(SLP_TYP_MASK | SLP_EN)) | (0u << 10) | SLP_EN);
    outw(PM1_CNT, cnt);
    halt_forever();                            /* the machine powers off around us */
}

/* SCI: the PM1 events we enabled (only the power button) raise IRQ9. */
static void sci_irq(struct regs *r)
{
    (void)r;
    uint16_t sts = inw(PM1_STS);
    if (sts & PWRBTN) {
        outw(PM1_STS, PWRBTN);                 /* write 1 to clear; the SCI line drops */
        pic_eoi(SCI_IRQ);
        on_power_button();
    }
    pic_eoi(SCI_IRQ);
}

/* Switch to ACPI mode and route the power button to sci_irq. Returns 0 when
 * the machine has no PIIX4-style PM block (SCI_EN never reads 1). */
static int power_button_init(void)
{
    outb(SMI_CMD, ACPI_ENABLE);
    int on = 0;
    for (int i = 0; i < 100000 && !on; i++) {
        uint16_t cnt = inw(PM1_CNT);
        on = cnt != 0xFFFF && (cnt & SCI_EN);  /* 0xFFFF: nothing decodes the port */
    }
    if (!on)
        return 0;
    outw(PM1_STS, PWRBTN);                     /* forget a press from before we listened */
    outb(ELCR2, inb(ELCR2) | (1u << (SCI_IRQ - 8)));
    set_trap_handler(IRQ_BASE + SCI_IRQ, sci_irq);
    outw(PM1_EN, PWRBTN);
    pic_unmask(2);
    pic_unmask(SCI_IRQ);
    return 1;
}

int kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    printf("qmpd demo guest\n");
    if (mbi->flags & MBI_FLAG_MEM)
        printf("memory: %u KiB low, %u KiB high (about %u MiB)\n",
               mbi->mem_lower, mbi->mem_upper, (mbi->mem_upper + 1024 + 512) / 1024);
    else
        printf("memory: not reported\n");
    if ((mbi->flags & MBI_FLAG_CMDLINE) && mbi->cmdline)
        printf("command line: \"%s\"\n", (const char *)(uintptr_t)mbi->cmdline);
    else
        printf("command line: none\n");

    if (power_button_init())
        printf("power button: ACPI SCI on IRQ %d\n", SCI_IRQ);
    else
        printf("power button: none (PM1_CNT.SCI_EN stays 0 after ACPI_ENABLE)\n");

    timer_start(TICK_HZ, 2);
    uint32_t beats = 0;
    for (;;) {
        sti_hlt();                       /* sleep until the next interrupt */
        cli();
        /* ticks only grow; a whole second may pass while we are slow */
        while (timer_ticks >= (beats + 1) * TICK_HZ) {
            beats++;
            printf("heartbeat %u\n", beats);
        }
    }
}
