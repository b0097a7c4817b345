/* Trap dispatch: expected faults, registered handlers, the INT 0x80
 * system calls of run_user, and a loud default for everything else. */
#include "rt.h"

static trap_handler_t handlers[256];
volatile struct trap_info last_trap = { .vector = TRAP_NONE };
volatile uint32_t trap_resume, trap_site;
void (*syscall_hook)(struct regs *r);

void run_user_return(int value) __attribute__((noreturn));  /* entry.S */

static const char *const exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
    "#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "r15",
    "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "r22", "r23",
    "r24", "r25", "r26", "r27", "r28", "r29", "r30", "r31",
};

void set_trap_handler(int vector, trap_handler_t h) { handlers[vector] = h; }

/* A trap from ring 3 has the outer SS:ESP in the frame; from ring 0 the
 * handler runs on the same stack, right above the frame. */
static uint32_t trap_esp(const struct regs *r)
{
    if (r->cs & 3)
        return r->useresp;
    return (uint32_t)(uintptr_t)&r->useresp;
}

static void unexpected(struct regs *r)
{
    if (r->vector < 32)
        printf("unexpected exception %u (%s) err=%08x eip=%08x cs=%04x eflags=%08x",
               r->vector, exc_names[r->vector], r->err, r->eip, r->cs, r->eflags);
    else
        printf("unexpected interrupt %u eip=%08x cs=%04x", r->vector, r->eip, r->cs);
    if (r->vector == 14)
        printf(" cr2=%08x", read_cr2());
    printf("\nFAIL\n");
    exit(1);
}

static void syscall(struct regs *r)
{
    switch (r->eax) {
    case SYS_EXIT:
        run_user_return((int)r->ebx);
    case SYS_PUTS:
        puts((const char *)(uintptr_t)r->ebx);
        return;
    default:
        if (syscall_hook)
            syscall_hook(r);
        else
            unexpected(r);
    }
}

/* IRQ vectors without a handler: recognise 8259 spurious interrupts (IRQ7 or
 * IRQ15 raised with no ISR bit set) and count them; anything else is a bug. */
static void default_irq(struct regs *r)
{
    int irq = (int)r->vector - IRQ_BASE;
    if (irq == 7 && !(pic_read_isr(0) & 0x80)) {
        spurious_irqs++;
        return;                         /* no EOI for a spurious IRQ */
    }
    if (irq == 15 && !(pic_read_isr(1) & 0x80)) {
        spurious_irqs++;
        pic_eoi(2);                     /* the master did see the cascade */
        return;
    }
    unexpected(r);
}

void trap_dispatch(struct regs *r)
{
    uint32_t v = r->vector;

    if (v < 32 && trap_resume) {
        last_trap.vector = v;
        last_trap.err = r->err;
        last_trap.eip = r->eip;
        last_trap.cs = r->cs;
        last_trap.eflags = r->eflags;
        last_trap.cr2 = v == 14 ? read_cr2() : 0;
        last_trap.esp = trap_esp(r);
        last_trap.ss = (r->cs & 3) ? r->ss : 0;
        last_trap.count++;
        r->eip = trap_resume;
        trap_resume = 0;
        return;
    }
    if (handlers[v]) {
        handlers[v](r);
        return;
    }
    if (v == SYSCALL_VECTOR) {
        syscall(r);
        return;
    }
    if (v >= IRQ_BASE && v < IRQ_BASE + 16) {
        default_irq(r);
        return;
    }
    unexpected(r);
}
