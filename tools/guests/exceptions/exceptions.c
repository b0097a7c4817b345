/*
 * exceptions: raise the CPU exceptions one at a time and check what the
 * handler sees: the vector, the error code and the saved EIP, the latter as
 * an offset from the start of the faulting sequence (trap_site), so the
 * output does not depend on where the linker put the code.
 *
 * Faults (#DE #UD #BR #GP #NP #SS #NM #DF) save the EIP of the faulting
 * instruction (offset 0); traps (#BP #OF, single-step #DB) save the EIP of
 * the next one.
 */
#include "rt.h"

static int failures;

#define SEL_NOTPRESENT 0x30   /* GDT[6]: a data segment with P=0 */
#define SEL_BEYOND     0x100  /* past the GDT limit (32 entries) */

static void report(const char *name, uint32_t vector, uint32_t err, uint32_t off)
{
    int trapped = last_trap.vector != TRAP_NONE;
    uint32_t got_off = last_trap.eip - trap_site;
    int ok = trapped && last_trap.vector == vector && last_trap.err == err && got_off == off;
    if (trapped)
        printf("%-34s vector=%u err=%04x eip=site+%u %s\n", name, last_trap.vector,
               last_trap.err, got_off, ok ? "ok" : "MISMATCH");
    else
        printf("%-34s no exception MISMATCH\n", name);
    if (!ok)
        failures++;
}

static void report_none(const char *name)
{
    int ok = last_trap.vector == TRAP_NONE;
    printf("%-34s %s\n", name, ok ? "no exception ok" : "unexpected exception MISMATCH");
    if (!ok)
        failures++;
}

static void test_de(void)
{
    uint32_t a = 1, d = 0;
    trap_reset();
    __asm__ volatile(TRAP_BEGIN "divl %2" TRAP_END : "+a"(a), "+d"(d) : "r"(0) : "memory");
    report("#DE divl by zero", 0, 0, 0);

    /* +2^31 / 1 does not fit in a signed 32-bit quotient: also #DE.
     * (Not INT64_MIN / -1: QEMU 7.2 computes that on the host and dies of
     * SIGFPE.) */
    a = 0x80000000u;
    d = 0;
    trap_reset();
    __asm__ volatile(TRAP_BEGIN "idivl %2" TRAP_END : "+a"(a), "+d"(d) : "r"(1) : "memory");
    report("#DE idivl overflow", 0, 0, 0);

    a = 77;
    trap_reset();
    __asm__ volatile(TRAP_BEGIN "aam $0" TRAP_END : "+a"(a) : : "memory", "cc");
    report("#DE aam 0", 0, 0, 0);
}

static void test_ud(void)
{
    trap_reset();
    __asm__ volatile(TRAP_BEGIN "ud2" TRAP_END ::: "memory");
    report("#UD ud2", 6, 0, 0);

    /* MOV to CS does not exist (8E /1). */
    trap_reset();
    __asm__ volatile(TRAP_BEGIN ".byte 0x8e, 0xc8" TRAP_END ::: "memory");
    report("#UD mov %eax,%cs", 6, 0, 0);

    /* LOCK on an instruction without a memory destination. */
    trap_reset();
    __asm__ volatile(TRAP_BEGIN ".byte 0xf0; addl %%eax, %%eax" TRAP_END ::: "memory", "eax", "cc");
    report("#UD lock add reg,reg", 6, 0, 0);
}

static void test_bp(void)
{
    trap_reset();
    __asm__ volatile(TRAP_BEGIN "int3" TRAP_END ::: "memory");
    report("#BP int3 (CC)", 3, 0, 1);

    trap_reset();
    __asm__ volatile(TRAP_BEGIN ".byte 0xcd, 0x03" TRAP_END ::: "memory");
    report("#BP int $3 (CD 03)", 3, 0, 2);
}

static void test_of(void)
{
    /* TRAP_BEGIN's MOVs leave the flags of the ADD alone. */
    uint32_t v = 0x7FFFFFFF;
    trap_reset();
    __asm__ volatile("addl $1, %0\n\t" TRAP_BEGIN "into" TRAP_END : "+r"(v) : : "memory", "cc");
    report("#OF into with OF=1", 4, 0, 1);

    v = 1;
    trap_reset();
    __asm__ volatile("addl $1, %0\n\t" TRAP_BEGIN "into" TRAP_END : "+r"(v) : : "memory", "cc");
    report_none("into with OF=0");
}

static void test_br(void)
{
    static int32_t bounds[2] = { 0, 10 };
    int32_t idx = 10;
    trap_reset();
    __asm__ volatile(TRAP_BEGIN "boundl %0, %1" TRAP_END : : "r"(idx), "m"(bounds) : "memory");
    report_none("bound 10 in [0,10]");

    idx = 11;
    trap_reset();
    __asm__ volatile(TRAP_BEGIN "boundl %0, %1" TRAP_END : : "r"(idx), "m"(bounds) : "memory");
    report("#BR bound 11 in [0,10]", 5, 0, 0);

    idx = -1;
    trap_reset();
    __asm__ volatile(TRAP_BEGIN "boundl %0, %1" TRAP_END : : "r"(idx), "m"(bounds) : "memory");
    report("#BR bound -1 in [0,10]", 5, 0, 0);
}

/* Load DS with a selector; the stub restores the old DS after a fault. */
#define LOAD_DS(sel) \
    __asm__ volatile("movw %0, %%ax\n\t" TRAP_BEGIN "movw %%ax, %%ds" TRAP_END \
                     "movw $0x10, %%ax\n\tmovw %%ax, %%ds" : : "i"(sel) : "eax", "memory")

static void test_gp(void)
{
    trap_reset();
    LOAD_DS(SEL_BEYOND);
    report("#GP ds <- selector past GDT limit", 13, SEL_BEYOND, 0);

    /* An LDT selector with a null LDTR. */
    __asm__ volatile("lldt %w0" : : "r"(0));
    trap_reset();
    LOAD_DS(0x0C);
    report("#GP ds <- LDT selector, no LDT", 13, 0x0C, 0);

    trap_reset();
    LOAD_DS(SEL_TSS);
    report("#GP ds <- TSS selector", 13, SEL_TSS, 0);

    /* RPL 3 on a DPL 0 segment: max(CPL, RPL) > DPL. The error code is the
     * selector with the RPL bits cleared. */
    trap_reset();
    LOAD_DS(SEL_KDATA | 3);
    report("#GP ds <- 0x13 (RPL 3 > DPL 0)", 13, SEL_KDATA, 0);

    /* SS cannot hold a code segment, nor the null selector. */
    trap_reset();
    __asm__ volatile("movw %0, %%ax\n\t" TRAP_BEGIN "movw %%ax, %%ss" TRAP_END : : "i"(SEL_KCODE) : "eax", "memory");
    report("#GP ss <- code selector", 13, SEL_KCODE, 0);
    trap_reset();
    __asm__ volatile("xorl %%eax, %%eax\n\t" TRAP_BEGIN "movw %%ax, %%ss" TRAP_END : : : "eax", "memory");
    report("#GP ss <- null selector", 13, 0, 0);
}

static void test_np_ss(void)
{
    trap_reset();
    LOAD_DS(SEL_NOTPRESENT);
    report("#NP ds <- not-present segment", 11, SEL_NOTPRESENT, 0);

    /* The same descriptor into SS is a stack fault instead. */
    trap_reset();
    __asm__ volatile("movw %0, %%ax\n\t" TRAP_BEGIN "movw %%ax, %%ss" TRAP_END : : "i"(SEL_NOTPRESENT) : "eax", "memory");
    report("#SS ss <- not-present segment", 12, SEL_NOTPRESENT, 0);

    /* INT through a not-present gate: error code = vector*8 + 2 (IDT bit). */
    idt_set_gate(0x41, 0, SEL_KCODE, GATE_INT32, 0, 0);
    trap_reset();
    __asm__ volatile(TRAP_BEGIN "int $0x41" TRAP_END ::: "memory");
    report("#NP int $0x41, gate not present", 11, 0x41 * 8 + 2, 0);
    idt_set_stub(0x41, 0);
}

static void test_df(void)
{
    /* #GP whose own gate is not present: delivering it raises #NP, and a
     * contributory fault during a contributory fault is a double fault. */
    idt_set_gate(13, 0, SEL_KCODE, GATE_INT32, 0, 0);
    trap_reset();
    LOAD_DS(SEL_BEYOND);
    report("#DF #GP with not-present #GP gate", 8, 0, 0);
    idt_set_stub(13, 0);

    /* #DE is contributory too, so a missing #DE gate also escalates. */
    idt_set_gate(0, 0, SEL_KCODE, GATE_INT32, 0, 0);
    uint32_t a = 1, d = 0;
    trap_reset();
    __asm__ volatile(TRAP_BEGIN "divl %2" TRAP_END : "+a"(a), "+d"(d) : "r"(0) : "memory");
    report("#DF #DE with not-present #DE gate", 8, 0, 0);
    idt_set_stub(0, 0);

    /* #BP is benign (and INT3 a software interrupt): a missing gate gives
     * a plain #NP, error code vector*8 + 2 without the EXT bit. */
    idt_set_gate(3, 0, SEL_KCODE, GATE_INT32, 0, 0);
    trap_reset();
    __asm__ volatile(TRAP_BEGIN "int3" TRAP_END ::: "memory");
    report("#NP int3 with not-present #BP gate", 11, 3 * 8 + 2, 0);
    idt_set_stub(3, 0);
}

static void test_nm(void)
{
    /* CR0.TS set: the first x87 instruction faults so an OS could switch
     * FPU state lazily. */
    write_cr0(read_cr0() | 0x8);
    trap_reset();
    __asm__ volatile(TRAP_BEGIN "fninit" TRAP_END ::: "memory");
    report("#NM fninit with CR0.TS=1", 7, 0, 0);
    __asm__ volatile("clts");
    /* TS clear: an x87 (QEMU's) runs it; a CPU whose CPUID says it has no FPU
     * (qmpd's, for now) raises #UD instead. The line is the same either way. */
    uint32_t eax = 1, ebx, ecx = 0, edx;
    __asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
    int fpu = edx & 1;
    trap_reset();
    __asm__ volatile(TRAP_BEGIN "fninit" TRAP_END ::: "memory");
    int ok = fpu ? last_trap.vector == TRAP_NONE : last_trap.vector == 6;
    if (!fpu && last_trap.vector != TRAP_NONE)
        last_trap.count--;              /* keep the total comparable with an x87 */
    printf("%-34s %s\n", "fninit with CR0.TS=0", ok ? "as CPUID.FPU says ok" : "MISMATCH");
    if (!ok)
        failures++;
}

/* Single-step: with TF set, #DB after every instruction. */
static volatile uint32_t db_count, db_dr6;
extern char step_start[], step_end[];
static void db_handler(struct regs *r)
{
    db_count++;
    __asm__ volatile("movl %%dr6, %0" : "=r"(db_dr6));
    __asm__ volatile("movl %0, %%dr6" : : "r"(0));
    if (r->eip == (uint32_t)(uintptr_t)step_end)
        r->eflags &= ~EFLAGS_TF;
}

static void test_db(void)
{
    set_trap_handler(1, db_handler);
    db_count = 0;
    /* POPF sets TF; the first trap comes after the instruction following
     * POPF, so the five instructions from step_start each trap once. */
    __asm__ volatile(
        "pushfl\n\t"
        "orl $0x100, (%%esp)\n\t"
        "popfl\n"
        "step_start:\n\t"
        "movl $1, %%eax\n\t"
        "addl %%eax, %%eax\n\t"
        "nop\n\t"
        "xchgl %%eax, %%ecx\n\t"
        "leal 3(%%ecx), %%eax\n"
        "step_end:\n\t"
        : : : "eax", "ecx", "memory", "cc");
    set_trap_handler(1, 0);
    int ok = db_count == 5 && (db_dr6 & 0x4000);
    printf("%-34s traps=%u dr6.bs=%u %s\n", "#DB single-step 5 instructions", db_count,
           (db_dr6 >> 14) & 1, ok ? "ok" : "MISMATCH");
    if (!ok)
        failures++;
}

int kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    (void)mbi;
    printf("exceptions guest\n");
    gdt_set(SEL_NOTPRESENT >> 3, 0, 0xFFFFF, ACC_S | ACC_DATA, FLG_G | FLG_DB);  /* P=0 */

    test_de();
    test_db();
    test_bp();
    test_of();
    test_br();
    test_ud();
    test_nm();
    test_np_ss();
    test_gp();
    test_df();

    printf("%u expected exceptions taken\n", last_trap.count);
    printf(failures ? "FAIL\n" : "PASS\n");
    return failures ? 1 : 0;
}
