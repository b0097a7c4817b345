/*
 * interrupts: the 8254 PIT through the 8259 PIC.
 *
 * Counts timer interrupts with HLT between them, masks IRQ0 in the IMR and
 * checks that nothing arrives (while IRR shows the request pending) and that
 * the pending request is delivered right after unmasking; leaves one
 * interrupt without EOI and checks that the in-service bit blocks the next
 * ones until the EOI; reads the PIT back; checks no spurious IRQ7/IRQ15.
 *
 * Only facts that do not depend on timing are printed: never tick counts
 * that could differ between runs, only "at least N" checks and
 * before/after differences measured in a window too short for a period.
 */
#include "rt.h"

#define HZ 100
#define WANT 10

static volatile uint32_t ticks;
static volatile int skip_eoi;      /* the next interrupt leaves ISR set */
static volatile int mask_in_irq;   /* the next interrupt masks IRQ0 */
static int failures;

static void check(const char *what, int ok)
{
    printf("%-52s %s\n", what, ok ? "ok" : "MISMATCH");
    if (!ok)
        failures++;
}

static void timer_irq(struct regs *r)
{
    (void)r;
    ticks++;
    if (mask_in_irq) {
        mask_in_irq = 0;
        pic_mask(0);
    }
    if (skip_eoi)
        skip_eoi = 0;
    else
        pic_eoi(0);
}

/* Busy-wait (interrupts as they are) for at least n counter wrap-arounds,
 * and then until the PIC has latched IRQ0 in IRR (for at most 100 more
 * periods). Channel 0 counts down, so a value larger than the last one is a
 * reload. The second condition matters on a loaded host: QEMU computes the
 * count from the clock but raises the IRQ line from a timer callback, which
 * can run late. */
static void wait_reloads(int n)
{
    uint16_t prev = pit_read_counter();
    while (n > 0 || !(pic_read_irr(0) & 1)) {
        uint16_t c = pit_read_counter();
        if (c > prev && --n < -100)
            break;
        prev = c;
    }
}

/* A window in which a pending interrupt is taken: the STI shadow ends after
 * the NOP, so the interrupt is delivered before CLI. The handler masks IRQ0,
 * so a second period elapsing meanwhile (a slow host) cannot add another. */
static uint32_t open_window(void)
{
    uint32_t before = ticks;
    mask_in_irq = 1;
    __asm__ volatile("sti\n\tnop\n\tcli" ::: "memory");
    mask_in_irq = 0;
    pic_unmask(0);
    return ticks - before;
}

/* 8254 read-back command: latch status of channel 0. Bits 5:0 are the
 * access mode and counting mode as programmed; bit 7 (OUT) and bit 6
 * (null count) depend on timing and are masked off. */
static uint8_t pit_status(void)
{
    outb(0x43, 0xE2);               /* read-back, don't latch count, latch status, ch 0 */
    return inb(0x40) & 0x3F;
}

static void count_ticks(const char *what)
{
    ticks = 0;
    while (ticks < WANT)
        sti_hlt();                  /* one interrupt per wakeup */
    cli();
    printf("%s: got %u timer interrupts\n", what, WANT);
}

int kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    (void)mbi;
    printf("interrupts guest\n");
    printf("PIC remapped to 0x%02x/0x%02x, IMR %02x %02x\n", IRQ_BASE, IRQ_BASE + 8,
           inb(PIC1_DATA), inb(PIC2_DATA));

    set_trap_handler(IRQ_BASE + 0, timer_irq);
    uint16_t div = pit_start(HZ, 2);
    printf("PIT channel 0: mode 2, divisor %u, status %02x\n", div, pit_status());
    uint16_t c = pit_read_counter();
    check("latched count is below the divisor", c < div);
    pic_unmask(0);
    count_ticks("mode 2");

    /* Masked: the request is latched in IRR but not delivered. */
    pic_mask(0);
    uint32_t before = ticks;
    sti();
    wait_reloads(5);
    cli();
    printf("IRQ0 masked for 5 PIT periods: %u interrupts, IRR bit 0 = %u\n", ticks - before,
           pic_read_irr(0) & 1);
    check("no interrupt while masked, request pending", ticks == before && (pic_read_irr(0) & 1));
    pic_unmask(0);
    uint32_t got = open_window();
    printf("after unmasking: %u interrupt at once\n", got);
    check("pending IRQ0 delivered on unmask", got == 1);

    /* No EOI: IRQ0 stays in service and blocks itself. */
    skip_eoi = 1;
    before = ticks;
    while (ticks == before)
        sti_hlt();
    cli();
    printf("interrupt without EOI: ISR = %02x\n", pic_read_isr(0));
    check("ISR bit 0 set until EOI", pic_read_isr(0) == 0x01);
    before = ticks;
    sti();
    wait_reloads(5);
    cli();
    printf("5 PIT periods without EOI: %u interrupts, IRR bit 0 = %u\n", ticks - before,
           pic_read_irr(0) & 1);
    check("in-service IRQ0 blocks further IRQ0", ticks == before && (pic_read_irr(0) & 1));
    outb(PIC1_CMD, 0x60);           /* specific EOI for IRQ0 */
    printf("after specific EOI: ISR = %02x\n", pic_read_isr(0));
    check("specific EOI clears ISR bit 0", pic_read_isr(0) == 0);
    got = open_window();
    check("pending IRQ0 delivered after EOI", got == 1);

    /* Square wave mode. */
    div = pit_start(HZ, 3);
    printf("PIT channel 0: mode 3, divisor %u, status %02x\n", div, pit_status());
    count_ticks("mode 3");

    pic_mask(0);
    printf("spurious IRQ7/IRQ15: %u\n", spurious_irqs);
    check("no spurious interrupts", spurious_irqs == 0);
    printf(failures ? "FAIL\n" : "PASS\n");
    return failures ? 1 : 0;
}
