/* GDT, TSS and IDT. */
#include "rt.h"

static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
static uint64_t idt[256] __attribute__((aligned(16)));
struct tss32 rt_tss __attribute__((aligned(16)));

extern uint8_t isr_stubs[];   /* isr.S: 256 stubs, 16 bytes apart */

struct __attribute__((packed)) dtr {
    uint16_t limit;
    uint32_t base;
};

void gdt_set(int i, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    uint64_t d = 0;
    d |= limit & 0xFFFFu;
    d |= (uint64_t)(base & 0xFFFFFFu) << 16;
    d |= (uint64_t)access << 40;
    d |= (uint64_t)((limit >> 16) & 0xF) << 48;
    d |= (uint64_t)(flags & 0xF) << 52;
    d |= (uint64_t)(base >> 24) << 56;
    gdt[i] = d;
}

void gdt_set_call_gate(int i, uint16_t sel, uint32_t offset, int dpl, int params)
{
    uint64_t d = 0;
    d |= offset & 0xFFFFu;
    d |= (uint64_t)sel << 16;
    d |= (uint64_t)(params & 0x1F) << 32;
    d |= (uint64_t)(ACC_P | ACC_DPL(dpl) | 0x0C) << 40;   /* type 0xC: 32-bit call gate */
    d |= (uint64_t)(offset >> 16) << 48;
    gdt[i] = d;
}

uint64_t gdt_get(int i) { return gdt[i]; }
void gdt_put(int i, uint64_t raw) { gdt[i] = raw; }

void idt_set_gate(int v, uint32_t offset, uint16_t sel, int type, int dpl, int present)
{
    uint64_t d = 0;
    d |= offset & 0xFFFFu;
    d |= (uint64_t)sel << 16;
    d |= (uint64_t)((present ? 0x80 : 0) | (dpl << 5) | type) << 40;
    d |= (uint64_t)(offset >> 16) << 48;
    idt[v] = d;
}

void idt_set_stub(int v, int dpl)
{
    idt_set_gate(v, (uint32_t)(uintptr_t)(isr_stubs + 16 * v), SEL_KCODE, GATE_INT32, dpl, 1);
}

void desc_init(void)
{
    gdt[0] = 0;
    gdt_set(1, 0, 0xFFFFF, ACC_P | ACC_S | ACC_CODE, FLG_G | FLG_DB);               /* 0x08 */
    gdt_set(2, 0, 0xFFFFF, ACC_P | ACC_S | ACC_DATA, FLG_G | FLG_DB);               /* 0x10 */
    gdt_set(3, 0, 0xFFFFF, ACC_P | ACC_DPL(3) | ACC_S | ACC_CODE, FLG_G | FLG_DB);  /* 0x18 */
    gdt_set(4, 0, 0xFFFFF, ACC_P | ACC_DPL(3) | ACC_S | ACC_DATA, FLG_G | FLG_DB);  /* 0x20 */

    /* TSS: only SS0:ESP0 matter (no hardware task switching). An I/O map
     * base past the limit means "no I/O permission bitmap". */
    memset(&rt_tss, 0, sizeof rt_tss);
    rt_tss.ss0 = SEL_KDATA;
    rt_tss.esp0 = (uint32_t)(uintptr_t)ring0_stack_top;  /* entry.S */
    rt_tss.iomap_base = sizeof rt_tss;
    gdt_set(5, (uint32_t)(uintptr_t)&rt_tss, sizeof rt_tss - 1, ACC_P | 0x09, 0);  /* 0x28: available 32-bit TSS */

    struct dtr g = { sizeof gdt - 1, (uint32_t)(uintptr_t)gdt };
    __asm__ volatile(
        "lgdt %0\n\t"
        "ljmp $0x08, $1f\n"
        "1:\n\t"
        "movw $0x10, %%ax\n\t"
        "movw %%ax, %%ds\n\t"
        "movw %%ax, %%es\n\t"
        "movw %%ax, %%fs\n\t"
        "movw %%ax, %%gs\n\t"
        "movw %%ax, %%ss\n\t"
        "movw $0x28, %%ax\n\t"
        "ltr %%ax"
        : : "m"(g) : "eax", "memory");

    /* Every vector goes to the runtime's dispatcher; only INT 0x80 may be
     * used from ring 3. */
    for (int v = 0; v < 256; v++)
        idt_set_stub(v, v == SYSCALL_VECTOR ? 3 : 0);
    struct dtr i = { sizeof idt - 1, (uint32_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" : : "m"(i) : "memory");
}
