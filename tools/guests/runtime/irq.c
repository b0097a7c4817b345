/* 8259A PIC pair and 8254 PIT channel 0. */
#include "rt.h"

volatile uint32_t spurious_irqs;
volatile uint32_t timer_ticks;

/* Reinitialise both PICs: the BIOS leaves the master at vector 8, on top of
 * the CPU exceptions. ICW1 0x11 = edge triggered, cascade, ICW4 follows. */
void pic_remap(void)
{
    outb(PIC1_CMD, 0x11);
    outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, IRQ_BASE);       /* ICW2: vector base */
    outb(PIC2_DATA, IRQ_BASE + 8);
    outb(PIC1_DATA, 0x04);           /* ICW3: slave on IRQ2 */
    outb(PIC2_DATA, 0x02);           /* ICW3: slave identity 2 */
    outb(PIC1_DATA, 0x01);           /* ICW4: 8086 mode, normal EOI */
    outb(PIC2_DATA, 0x01);
    outb(PIC1_DATA, 0xFB);           /* mask all but the cascade */
    outb(PIC2_DATA, 0xFF);
}

void pic_mask(int irq)
{
    uint16_t port = irq < 8 ? PIC1_DATA : PIC2_DATA;
    outb(port, inb(port) | (uint8_t)(1u << (irq & 7)));
}

void pic_unmask(int irq)
{
    uint16_t port = irq < 8 ? PIC1_DATA : PIC2_DATA;
    outb(port, inb(port) & (uint8_t)~(1u << (irq & 7)));
}

void pic_eoi(int irq)
{
    if (irq >= 8)
        outb(PIC2_CMD, 0x20);        /* non-specific EOI */
    outb(PIC1_CMD, 0x20);
}

/* OCW3: 0x0B selects the in-service register for the next read, 0x0A the
 * request register. Both are restored to IRR afterwards (the reset default). */
uint8_t pic_read_isr(int slave)
{
    uint16_t port = slave ? PIC2_CMD : PIC1_CMD;
    outb(port, 0x0B);
    uint8_t v = inb(port);
    outb(port, 0x0A);
    return v;
}

uint8_t pic_read_irr(int slave)
{
    uint16_t port = slave ? PIC2_CMD : PIC1_CMD;
    outb(port, 0x0A);
    return inb(port);
}

uint16_t pit_start(uint32_t hz, int mode)
{
    uint32_t div = (PIT_HZ + hz / 2) / hz;
    if (div > 0xFFFF)
        div = 0;                     /* 0 means 65536 */
    /* control word: channel 0, access lobyte/hibyte, mode, binary */
    outb(0x43, (uint8_t)(0x30 | ((mode & 7) << 1)));
    outb(0x40, (uint8_t)div);
    outb(0x40, (uint8_t)(div >> 8));
    return (uint16_t)div;
}

uint16_t pit_read_counter(void)
{
    outb(0x43, 0x00);                /* counter latch command, channel 0 */
    uint8_t lo = inb(0x40);
    uint8_t hi = inb(0x40);
    return (uint16_t)(lo | (hi << 8));
}

static void timer_irq(struct regs *r)
{
    (void)r;
    timer_ticks++;
    pic_eoi(0);
}

void timer_start(uint32_t hz, int mode)
{
    set_trap_handler(IRQ_BASE + 0, timer_irq);
    pit_start(hz, mode);
    pic_unmask(0);
}
