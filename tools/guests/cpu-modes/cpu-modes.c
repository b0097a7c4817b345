/*
 * cpu-modes: segmentation and privilege levels.
 *
 *  - 16-bit protected-mode code: operand/address size, wraparound, far
 *    JMP/CALL/RET between 16- and 32-bit code segments (modes.S)
 *  - a real-mode round trip (CR0.PE off and on again)
 *  - segment bases, LAR/LSL/VERR/VERW, segment limit violations
 *  - ring 3 through IRET with a TSS, back to ring 0 through an INT 0x80
 *    interrupt gate and through a call gate, with the stack switches checked
 *  - privileged operations from ring 3 (#GP with the right error code)
 *
 * Everything printed is position independent (selectors, offsets from known
 * stack tops, values), so the output does not change when code moves.
 */
#include "rt.h"

/* GDT entries of this guest (index << 3 = selector) */
#define SEL_CODE16   0x30
#define SEL_DATA16   0x38
#define SEL_LIMITED  0x40   /* 32-bit data, base = limbuf, limit 0xFF bytes */
#define SEL_STACKLIM 0x48   /* 32-bit stack segment whose limit ends at a guard */
#define SEL_CALLGATE 0x50
#define SEL_BASED    0x58   /* 32-bit data, base = based_buf */
#define SEL_RMCODE   0x60
#define SEL_RMDATA   0x68
#define SEL_PROBE    0x78   /* never loaded: LAR sees the accessed bit clear */

static int failures;

static void check(const char *what, int ok)
{
    printf("%-44s %s\n", what, ok ? "ok" : "MISMATCH");
    if (!ok)
        failures++;
}

/* ---- 16-bit code and real mode (modes.S) ------------------------------ */
extern char code16_start[], code16_end[];
extern uint32_t code16_esp_delta;
void run_code16(void);
uint32_t call_code16(uint32_t eax);
void run_realmode(void);
extern struct { uint16_t cs, pad; uint32_t cr0, hma; } rm_results;

static volatile uint8_t data16[32] __attribute__((aligned(16)));

static void test_code16(void)
{
    run_code16();
    uint16_t flags_ax = *(volatile uint16_t *)&data16[0];
    uint32_t op32 = *(volatile uint32_t *)&data16[4];
    uint16_t sub = *(volatile uint16_t *)&data16[8];
    uint32_t ecx = *(volatile uint32_t *)&data16[12];
    uint16_t wrap = *(volatile uint16_t *)&data16[16];
    printf("16-bit: inc 0xffff -> ax=%04x (lahf) ; 66 mov -> %08x\n", flags_ax, op32);
    check("16-bit: 0xffff+1 = 0 with ZF AF PF (ah=56)", flags_ax == 0x5600);
    check("16-bit: operand-size prefix, 32-bit move", op32 == 0x12345678);
    printf("16-bit: [bx+si] bx=fff0 si=0020 wrote at offset 0010: %04x\n", wrap);
    check("16-bit: effective address wraps at 64 KiB", wrap == 0xBEEF);
    check("16-bit: near call/ret, 2-byte return address", sub == 0x55AA && code16_esp_delta == 0);
    printf("16-bit: loop with ecx=00010003 leaves ecx=%08x\n", ecx);
    check("16-bit: LOOP decrements CX only", ecx == 0x00010000);

    uint32_t r = call_code16(0xAAAA0000u);
    printf("lcall 0x30:c16_func / lretl -> eax=%08x\n", r);
    check("far call 32->16, 32-bit far return", r == 0xAAAA1616u);
}

static void test_realmode(void)
{
    volatile uint16_t *target = (volatile uint16_t *)0x12346;
    *target = 0;
    run_realmode();
    printf("real mode: cs=%04x cr0=%08x [1234:0006]=%04x [ffff:0010]=%08x\n",
           rm_results.cs, rm_results.cr0, *target, rm_results.hma);
    check("real mode: CR0.PE clear, CS=0700", (rm_results.cr0 & 1) == 0 && rm_results.cs == 0x0700);
    check("real mode: segment*16+offset addressing", *target == 0xA5A5);
    check("real mode: ffff:0010 reaches 1 MiB (A20 on)", rm_results.hma == MULTIBOOT_HEADER_MAGIC);
}

/* ---- segment bases, LAR/LSL/VERR/VERW, limits -------------------------- */
static volatile uint32_t based_buf[4];
static volatile uint8_t limbuf[256] __attribute__((aligned(16)));

static void test_base(void)
{
    based_buf[2] = 0;
    __asm__ volatile("movw %0, %%ax\n\tmovw %%ax, %%fs\n\t"
                     "movl $0xCAFEBABE, %%fs:8\n\t"
                     "movw $0x10, %%ax\n\tmovw %%ax, %%fs"
                     : : "i"(SEL_BASED) : "eax", "memory");
    check("segment base is added: fs:8 -> based_buf[2]", based_buf[2] == 0xCAFEBABE);
}

static uint32_t lar(uint32_t sel, int *zf)
{
    uint32_t v = 0xDEAD;
    uint8_t z;
    __asm__ volatile("larl %2, %0\n\tsetz %1" : "+r"(v), "=q"(z) : "r"(sel) : "cc");
    *zf = z;
    return v;
}

static uint32_t lsl(uint32_t sel, int *zf)
{
    uint32_t v = 0xDEAD;
    uint8_t z;
    __asm__ volatile("lsll %2, %0\n\tsetz %1" : "+r"(v), "=q"(z) : "r"(sel) : "cc");
    *zf = z;
    return v;
}

static int verr(uint16_t sel)
{
    uint8_t z;
    __asm__ volatile("verr %1\n\tsetz %0" : "=q"(z) : "r"(sel) : "cc");
    return z;
}

static int verw(uint16_t sel)
{
    uint8_t z;
    __asm__ volatile("verw %1\n\tsetz %0" : "=q"(z) : "r"(sel) : "cc");
    return z;
}

static void test_descriptor_insns(void)
{
    int z1, z2, z3, z4, z5;
    uint32_t a = lar(SEL_PROBE, &z1);
    uint32_t t = lar(SEL_TSS, &z2);
    uint32_t g = lar(SEL_CALLGATE, &z3);
    lar(0, &z4);
    /* LAR masks with 0x00F0FF00; for a gate, bits 20-23 are offset bits,
     * so only the low half is position independent. */
    g &= 0xFFFF;
    printf("lar: data dpl3 %08x, tss %08x, call gate ....%04x, null zf=%d\n", a, t, g, z4);
    check("lar: 4 KiB DPL3 data, accessed bit clear", z1 && a == 0x00C0F200);
    check("lar: TSS is busy after LTR (type 0xB)", z2 && t == 0x00008B00);
    check("lar: call gate is valid (type 0xC, DPL3)", z3 && g == 0xEC00);
    check("lar: null selector sets ZF=0", !z4);

    uint32_t l1 = lsl(SEL_LIMITED, &z1);
    uint32_t l2 = lsl(SEL_KCODE, &z2);
    lsl(SEL_CALLGATE, &z3);
    printf("lsl: limited %08x, flat 4 KiB %08x, call gate zf=%d\n", l1, l2, z3);
    check("lsl: byte and page granular limits", z1 && l1 == 0xFF && z2 && l2 == 0xFFFFFFFF);
    check("lsl: call gate has no limit (ZF=0)", !z3);

    z1 = verr(SEL_KCODE);
    z2 = verw(SEL_KCODE);
    z3 = verw(SEL_KDATA);
    z4 = verr(SEL_TSS);
    z5 = verw(SEL_UDATA);
    printf("verr code=%d verw code=%d verw data=%d verr tss=%d verw udata=%d\n", z1, z2, z3, z4, z5);
    check("verr/verw: code readable not writable", z1 && !z2);
    check("verr/verw: data writable, TSS not readable", z3 && !z4 && z5);
}

/*
 * Limit violations. Hardware raises #GP(0) for a data access past a DS/ES/
 * FS/GS limit and #SS(0) past the SS limit; QEMU's TCG does not check data
 * segment limits (nor null selectors or code segments used for data) at
 * all. So that QEMU and a stricter emulator print the
 * same thing, an access that is not faulted is accepted; a fault must carry
 * the right vector and error code.
 */
static void limit_case(const char *what, uint32_t vector)
{
    int ok = last_trap.vector == TRAP_NONE ||
             (last_trap.vector == vector && last_trap.err == 0 && last_trap.eip == trap_site);
    printf("%-44s %s\n", what, ok ? "ok (fault or unchecked)" : "MISMATCH");
    if (!ok)
        failures++;
}

static uint8_t limit_stack[8192] __attribute__((aligned(4096)));

static void test_limits(void)
{
    uint32_t v;
    trap_reset();
    __asm__ volatile("movw %1, %%ax\n\tmovw %%ax, %%es\n\t" TRAP_BEGIN "movl %%es:0xFC, %0" TRAP_END
                     "movw $0x10, %%ax\n\tmovw %%ax, %%es" : "=r"(v) : "i"(SEL_LIMITED) : "eax", "memory");
    check("es:0xfc dword, last one inside limit 0xff", last_trap.vector == TRAP_NONE);

    trap_reset();
    __asm__ volatile("movw %1, %%ax\n\tmovw %%ax, %%es\n\t" TRAP_BEGIN "movl %%es:0xFD, %0" TRAP_END
                     "movw $0x10, %%ax\n\tmovw %%ax, %%es" : "=r"(v) : "i"(SEL_LIMITED) : "eax", "memory");
    limit_case("es:0xfd dword crosses limit 0xff: #GP(0)", 13);

    /* A null selector may be loaded into a data segment register, but not
     * used; a code segment may be read through, but not written. */
    static volatile uint32_t word = 5;
    trap_reset();
    __asm__ volatile("xorl %%eax, %%eax\n\tmovw %%ax, %%es\n\t" TRAP_BEGIN "movl %%es:%0, %%eax" TRAP_END
                     "movw $0x10, %%ax\n\tmovw %%ax, %%es" : : "m"(word) : "eax", "memory");
    limit_case("read through null ES: #GP(0)", 13);
    trap_reset();
    __asm__ volatile("movw $0x08, %%ax\n\tmovw %%ax, %%es\n\t" TRAP_BEGIN "movl $1, %%es:%0" TRAP_END
                     "movw $0x10, %%ax\n\tmovw %%ax, %%es" : "=m"(word) : : "eax", "memory");
    limit_case("write through code-segment ES: #GP(0)", 13);

    /* SS limit: a flat-based stack segment whose limit is limit_stack+4095;
     * the stack itself (ESP) is below it, the access 4 KiB above is not. */
    uint32_t top = (uint32_t)(uintptr_t)limit_stack + 4096;
    /* The limit field has 20 bits: above 1 MiB it must count 4 KiB pages (G). */
    gdt_set(SEL_STACKLIM >> 3, 0, (top - 1) >> 12, ACC_P | ACC_S | ACC_DATA, FLG_DB | FLG_G);
    trap_reset();
    __asm__ volatile(
        "movl %%esp, %%edi\n\t"
        "movl %1, %%esp\n\t"                  /* switch to limit_stack, inside the limit */
        "movw %2, %%ax\n\tmovw %%ax, %%ss\n\t"
        TRAP_BEGIN "movl 0x1000(%%esp), %0" TRAP_END
        "movw $0x10, %%ax\n\tmovw %%ax, %%ss\n\t"
        "movl %%edi, %%esp"
        : "=r"(v) : "r"(top - 64), "i"(SEL_STACKLIM) : "eax", "edi", "memory");
    limit_case("ss-relative read past SS limit: #SS(0)", 12);
}

/* ---- ring 3 ------------------------------------------------------------ */
static uint8_t user_stack[8192] __attribute__((aligned(16)));

static volatile uint16_t u_cs, u_ss, u_ds;
static volatile uint32_t u_esp_before, u_esp_after, u_gate_ret;
static volatile struct { uint32_t cs, ss, esp, user_esp, frame_top, eflags; } sc;

#define SYS_REPORT 0x100
static void report_hook(struct regs *r)
{
    if (r->eax != SYS_REPORT) {
        printf("unknown system call %u\nFAIL\n", r->eax);
        exit(1);
    }
    sc.cs = r->cs;
    sc.ss = r->ss;
    sc.esp = r->useresp;
    sc.user_esp = r->edx;                      /* ESP as the caller saw it */
    sc.frame_top = (uint32_t)(uintptr_t)(&r->ss + 1);  /* end of the CPU frame */
    sc.eflags = r->eflags;
    r->eax = 0x5CA11;                          /* return value */
}

extern char callgate_entry[];
extern volatile struct { uint32_t eip, cs, param, esp, ss; } cg_frame;
extern volatile uint32_t cg_esp, cg_cs;

/* A ring-3 trap: records vector/error code, resumes after the instruction. */
struct ring3_result { uint32_t vector, err, cs; };
static volatile struct ring3_result r3[8];

#define R3_TRY(i, insn, ...)                                                     \
    do {                                                                         \
        trap_reset();                                                            \
        __asm__ volatile(TRAP_BEGIN insn TRAP_END : : __VA_ARGS__);              \
        r3[i].vector = last_trap.vector;                                         \
        r3[i].err = last_trap.err;                                               \
        r3[i].cs = last_trap.cs;                                                 \
    } while (0)

static int user_main(void)
{
    __asm__ volatile("movw %%cs, %0\n\tmovw %%ss, %1\n\tmovw %%ds, %2" : "=m"(u_cs), "=m"(u_ss), "=m"(u_ds));
    user_puts("hello from ring 3 (INT 0x80 puts)\n");

    /* INT 0x80 through a DPL-3 interrupt gate: EDX carries our ESP. */
    uint32_t ret;
    __asm__ volatile("movl %%esp, %%edx\n\tint $0x80" : "=a"(ret) : "a"(SYS_REPORT) : "edx", "memory");
    if (ret != 0x5CA11)
        return 1;

    /* Far call through the call gate with one dword parameter. */
    __asm__ volatile("movl %%esp, %1\n\t"
                     "pushl $0xCAFE1234\n\t"
                     "lcall %3, $0\n\t"
                     "movl %%esp, %2"
                     : "=a"(u_gate_ret), "=m"(u_esp_before), "=m"(u_esp_after)
                     : "i"(SEL_CALLGATE | 3) : "memory");

    /* Privileged operations (IOPL 0, CPL 3): each must #GP. */
    R3_TRY(0, "cli", "i"(0) : "memory");
    R3_TRY(1, "hlt", "i"(0) : "memory");
    R3_TRY(2, "movl %%cr0, %%eax", "i"(0) : "eax", "memory");
    R3_TRY(3, "inb $0x60, %%al", "i"(0) : "eax", "memory");
    R3_TRY(4, "movw %0, %%ax\n\tmovw %%ax, %%ds", "i"(SEL_KDATA) : "eax", "memory");
    R3_TRY(5, "int $0x41", "i"(0) : "memory");
    R3_TRY(6, "ljmp %0, $0", "i"(SEL_KCODE) : "memory");
    R3_TRY(7, "lgdt (%%esp)", "i"(0) : "memory");
    return 42;
}

static void test_ring3(void)
{
    syscall_hook = report_hook;
    int ret = run_user(user_main, user_stack + sizeof user_stack);
    syscall_hook = 0;
    uint32_t esp0 = rt_tss.esp0;

    printf("run_user returned %d\n", ret);
    check("IRET to ring 3 and back via SYS_EXIT", ret == 42);
    printf("ring 3: cs=%04x ss=%04x ds=%04x\n", u_cs, u_ss, u_ds);
    check("ring 3 selectors have RPL 3", u_cs == SEL_UCODE && u_ss == SEL_UDATA && u_ds == SEL_UDATA);

    /* (ESP values relative to the user stack would depend on the compiler's
     * frame layout, so those are compared, not printed.) */
    printf("int 0x80: frame cs=%04x ss=%04x eflags.if=%u, frame ends at esp0-%u\n",
           sc.cs, sc.ss, (sc.eflags >> 9) & 1, esp0 - sc.frame_top);
    check("int 0x80: saved SS:ESP is the caller's", sc.cs == SEL_UCODE && sc.ss == SEL_UDATA && sc.esp == sc.user_esp);
    check("int 0x80: ring-0 frame is at TSS.esp0", sc.frame_top == esp0);

    printf("call gate: ring-0 cs=%04x esp=esp0-%u, caller cs=%04x ss=%04x param=%08x\n",
           cg_cs, esp0 - cg_esp, cg_frame.cs, cg_frame.ss, cg_frame.param);
    check("call gate: CPL 0 on the TSS stack, 5 dwords", cg_cs == SEL_KCODE && cg_esp == esp0 - 20);
    check("call gate: parameter copied, caller SS:ESP saved",
          cg_frame.cs == SEL_UCODE && cg_frame.ss == SEL_UDATA && cg_frame.param == 0xCAFE1234 &&
          cg_frame.esp == u_esp_before - 4);
    check("call gate: lret $4 pops the parameter", u_gate_ret == 0x600D && u_esp_after == u_esp_before);

    static const char *const names[8] = {
        "ring 3 cli", "ring 3 hlt", "ring 3 mov cr0", "ring 3 in port 0x60",
        "ring 3 ds <- kernel data 0x10", "ring 3 int $0x41 (DPL 0 gate)",
        "ring 3 ljmp to kernel code 0x08", "ring 3 lgdt",
    };
    static const uint32_t want_err[8] = { 0, 0, 0, 0, SEL_KDATA, 0x41 * 8 + 2, SEL_KCODE, 0 };
    for (int i = 0; i < 8; i++) {
        int ok = r3[i].vector == 13 && r3[i].err == want_err[i] && r3[i].cs == SEL_UCODE;
        printf("%-34s vector=%u err=%04x cs=%04x %s\n", names[i], r3[i].vector, r3[i].err,
               r3[i].cs, ok ? "ok" : "MISMATCH");
        if (!ok)
            failures++;
    }
}

int kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    (void)mbi;
    printf("cpu-modes guest\n");

    uint32_t c16 = (uint32_t)(uintptr_t)code16_start;
    gdt_set(SEL_CODE16 >> 3, c16, 0xFFFF, ACC_P | ACC_S | ACC_CODE, 0);
    gdt_set(SEL_DATA16 >> 3, (uint32_t)(uintptr_t)data16, 0xFFFF, ACC_P | ACC_S | ACC_DATA, 0);
    gdt_set(SEL_LIMITED >> 3, (uint32_t)(uintptr_t)limbuf, 0xFF, ACC_P | ACC_S | ACC_DATA, FLG_DB);
    gdt_set_call_gate(SEL_CALLGATE >> 3, SEL_KCODE, (uint32_t)(uintptr_t)callgate_entry, 3, 1);
    gdt_set(SEL_BASED >> 3, (uint32_t)(uintptr_t)based_buf, 0xFFFFF, ACC_P | ACC_S | ACC_DATA, FLG_G | FLG_DB);
    gdt_set(SEL_RMCODE >> 3, 0x7000, 0xFFFF, ACC_P | ACC_S | ACC_CODE, 0);
    gdt_set(SEL_RMDATA >> 3, 0, 0xFFFF, ACC_P | ACC_S | ACC_DATA, 0);
    gdt_set(SEL_PROBE >> 3, 0, 0xFFFFF, ACC_P | ACC_DPL(3) | ACC_S | ACC_DATA, FLG_G | FLG_DB);

    test_code16();
    test_realmode();
    test_base();
    test_descriptor_insns();
    test_limits();
    test_ring3();

    printf(failures ? "FAIL\n" : "PASS\n");
    return failures ? 1 : 0;
}
