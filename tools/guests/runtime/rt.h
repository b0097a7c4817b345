/*
 * The guests' runtime: everything a test kernel needs besides its test.
 *
 * Boot sequence: entry.S (_start) sets up a stack, clears BSS and calls
 * rt_start(magic, mbi), which initialises the UART, GDT/TSS, IDT and PICs
 * (all IRQs masked, interrupts off) and then calls the guest's
 *
 *     int kmain(uint32_t magic, const struct multiboot_info *mbi);
 *
 * Its return value becomes the exit code (0 = pass, 1 = fail), written to
 * QEMU's isa-debug-exit port; QEMU then exits with status (code << 1) | 1.
 */
#ifndef GUEST_RT_H
#define GUEST_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "multiboot.h"

/* ---- the guest's entry point ---------------------------------------- */
int kmain(uint32_t magic, const struct multiboot_info *mbi);

/* ---- port I/O and small CPU helpers ---------------------------------- */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
/* sti;hlt as a pair: the STI shadow guarantees no interrupt slips in between. */
static inline void sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline uint32_t read_eflags(void)
{
    uint32_t f;
    __asm__ volatile("pushfl; popl %0" : "=r"(f));
    return f;
}
static inline uint32_t read_cr0(void) { uint32_t v; __asm__ volatile("movl %%cr0, %0" : "=r"(v)); return v; }
static inline uint32_t read_cr2(void) { uint32_t v; __asm__ volatile("movl %%cr2, %0" : "=r"(v)); return v; }
static inline uint32_t read_cr3(void) { uint32_t v; __asm__ volatile("movl %%cr3, %0" : "=r"(v)); return v; }
static inline uint32_t read_cr4(void) { uint32_t v; __asm__ volatile("movl %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(uint32_t v) { __asm__ volatile("movl %0, %%cr0" : : "r"(v) : "memory"); }
static inline void write_cr3(uint32_t v) { __asm__ volatile("movl %0, %%cr3" : : "r"(v) : "memory"); }
static inline void write_cr4(uint32_t v) { __asm__ volatile("movl %0, %%cr4" : : "r"(v) : "memory"); }

#define EFLAGS_CF  (1u << 0)
#define EFLAGS_ZF  (1u << 6)
#define EFLAGS_TF  (1u << 8)
#define EFLAGS_IF  (1u << 9)
#define EFLAGS_OF  (1u << 11)

/* ---- serial console (COM1) and formatted output ----------------------- */
#define COM1 0x3F8
void serial_init(void);
void serial_putc(char c);           /* '\n' is sent as-is (no CR) */
void puts(const char *s);           /* no newline appended */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);

/* ---- exit ------------------------------------------------------------ */
#define DEBUG_EXIT_PORT 0xF4
void exit(int code) __attribute__((noreturn));  /* debug-exit, else halts */
void halt_forever(void) __attribute__((noreturn)); /* cli; hlt loop */

/* ---- string helpers (also what gcc may emit calls to) ---------------- */
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* ---- descriptors ------------------------------------------------------ */
/* Runtime GDT layout (same code/data selectors as QEMU's multiboot loader). */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1B   /* 0x18 | RPL 3 */
#define SEL_UDATA 0x23   /* 0x20 | RPL 3 */
#define SEL_TSS   0x28
#define GDT_FIRST_FREE 6 /* guests may use entries 6 .. GDT_ENTRIES-1 */
#define GDT_ENTRIES 32

/* access byte bits */
#define ACC_P      0x80
#define ACC_DPL(n) ((n) << 5)
#define ACC_S      0x10  /* code/data (not system) */
#define ACC_CODE   0x0A  /* execute/read */
#define ACC_CONF   0x04  /* conforming (code) */
#define ACC_DATA   0x02  /* read/write */
#define ACC_DOWN   0x04  /* expand-down (data) */
/* flags nibble */
#define FLG_G      0x8   /* 4 KiB granularity */
#define FLG_DB     0x4   /* 32-bit default size */

void gdt_set(int index, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
/* A call gate in the GDT: target selector:offset, DPL, dword param count. */
void gdt_set_call_gate(int index, uint16_t sel, uint32_t offset, int dpl, int params);
uint64_t gdt_get(int index);
void gdt_put(int index, uint64_t raw);

/* IDT gate types */
#define GATE_INT32  0xE
#define GATE_TRAP32 0xF
void idt_set_gate(int vector, uint32_t offset, uint16_t sel, int type, int dpl, int present);
/* Point a vector back at the runtime's stub (interrupt gate, DPL given). */
void idt_set_stub(int vector, int dpl);

struct tss32 {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs, ldt;
    uint16_t trap, iomap_base;
} __attribute__((packed));
extern struct tss32 rt_tss;
extern uint8_t ring0_stack_top[];   /* TSS.esp0: the stack for ring 3 -> 0 */

/* ---- traps ----------------------------------------------------------- */
/* Frame built by isr.S; the CPU part starts at 'eip'. useresp/ss only
 * exist when the trap came from ring 3. */
struct regs {
    uint32_t gs, fs, es, ds;
    uint32_t edi, esi, ebp, esp_at_pusha, ebx, edx, ecx, eax;
    uint32_t vector, err;
    uint32_t eip, cs, eflags;
    uint32_t useresp, ss;
};
typedef void (*trap_handler_t)(struct regs *r);
void set_trap_handler(int vector, trap_handler_t h);

/*
 * Expected faults. A test arms a resume address; the next CPU exception
 * (vector < 32) is recorded in last_trap and execution continues at the
 * resume address with all registers as they were at the fault. Use:
 *
 *   asm volatile(TRAP_BEGIN "the faulting instruction" TRAP_END ...);
 *
 * trap_site holds the address of the first instruction after TRAP_BEGIN, so
 * last_trap.eip - trap_site is a position-independent EIP offset. If no
 * fault happens, TRAP_END disarms and last_trap.vector stays TRAP_NONE.
 */
#define TRAP_NONE 0xFFFFFFFFu
struct trap_info {
    uint32_t vector, err, eip, cs, eflags, cr2;
    uint32_t esp;       /* ESP at the time of the trap (ring 3: user ESP) */
    uint32_t ss;        /* only meaningful for traps from ring 3 */
    uint32_t count;     /* total expected traps taken */
};
extern volatile struct trap_info last_trap;
extern volatile uint32_t trap_resume, trap_site;
#define TRAP_BEGIN "movl $8f, trap_site\n\tmovl $9f, trap_resume\n8:\n\t"
#define TRAP_END   "\n9:\n\tmovl $0, trap_resume\n\t"
static inline void trap_reset(void) { last_trap.vector = TRAP_NONE; last_trap.err = 0; }

/* ---- 8259 PIC pair and 8254 PIT --------------------------------------- */
#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define IRQ_BASE 0x20      /* master: 0x20-0x27, slave: 0x28-0x2F */
void pic_remap(void);       /* done by the runtime; leaves all IRQs masked */
void pic_mask(int irq);
void pic_unmask(int irq);
void pic_eoi(int irq);
uint8_t pic_read_isr(int slave);
uint8_t pic_read_irr(int slave);
extern volatile uint32_t spurious_irqs; /* IRQ7/IRQ15 without ISR bit */

#define PIT_HZ 1193182u
/* Program channel 0 (mode 2 or 3) for the given rate; returns the divisor. */
uint16_t pit_start(uint32_t hz, int mode);
uint16_t pit_read_counter(void);    /* latched channel 0 count */
/* Install the tick counter on IRQ0 and unmask it (does not STI). */
void timer_start(uint32_t hz, int mode);
extern volatile uint32_t timer_ticks;

/* ---- ring 3 ----------------------------------------------------------- */
/* Run fn in ring 3 (CS=0x1B, SS=DS=0x23) on the given stack; returns fn's
 * value once fn returns (through INT 0x80, function SYS_EXIT). */
int run_user(int (*fn)(void), void *user_stack_top);
#define SYSCALL_VECTOR 0x80
#define SYS_EXIT 0   /* ebx = return value */
#define SYS_PUTS 1   /* ebx = string */
/* Called for INT 0x80 with other EAX values; may edit r (e.g. r->eax). */
extern void (*syscall_hook)(struct regs *r);
static inline void user_puts(const char *s)
{
    __asm__ volatile("int $0x80" : : "a"(SYS_PUTS), "b"(s) : "memory");
}

/* ---- state at entry --------------------------------------------------- */
/* Registers as the boot loader left them, saved by _start before it touched
 * anything (EFLAGS is read right after switching to the runtime's stack). */
struct boot_state {
    uint32_t eax, ebx, ecx, edx, esi, edi, ebp, esp, eflags;
    uint16_t cs, ds, es, fs, gs, ss;
    uint32_t cr0, cr4;
    uint16_t gdtr_limit; uint32_t gdtr_base; uint16_t pad0;
    uint16_t idtr_limit; uint32_t idtr_base; uint16_t pad1;
} __attribute__((packed));
extern struct boot_state boot_state;

/* ---- multiboot command line ------------------------------------------ */
/* Value of "key=NUMBER" on the command line, or def if absent. */
uint32_t cmdline_uint(const struct multiboot_info *mbi, const char *key, uint32_t def);

#endif
