/*
 * smc: self-modifying code. x86 requires a store to code to be seen by the
 * next execution of that code, even when the code is in the block being
 * executed (the prefetched instructions are discarded). A translating
 * emulator has to notice such writes and drop or retranslate its code.
 *
 *  - rewrite an immediate of a function between calls, many times
 *  - rewrite an opcode's ModRM byte (add -> sub -> xor -> or)
 *  - a store to an instruction a few bytes ahead in the running block
 *  - a store to the very next instruction
 *  - a loop rewriting an instruction of its own body every iteration
 *  - REP STOSB overwriting the instruction right after it
 *  - code generated into a data buffer, called, regenerated, called again
 */
#include "rt.h"

extern uint8_t smc_ret_imm[], smc_op[], smc_op_modrm[], smc_ahead[], smc_next[], smc_next_insn[];
extern uint8_t smc_loop[], smc_stos[], smc_stos_jmp[], smc_template[], smc_template_end[];

typedef uint32_t (*fn0_t)(void);
typedef uint32_t (*fn1_t)(uint32_t);

static int failures;

static void check(const char *what, int ok)
{
    printf("%-52s %s\n", what, ok ? "ok" : "MISMATCH");
    if (!ok)
        failures++;
}

/* Stores go through volatile pointers: the compiler must not keep or
 * reorder them past the calls. */
static void poke8(uint8_t *p, uint8_t v) { *(volatile uint8_t *)p = v; }
static void poke32(uint8_t *p, uint32_t v) { *(volatile uint32_t *)(void *)p = v; }

static uint8_t codebuf[64] __attribute__((aligned(16)));

int kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    (void)mbi;
    printf("smc guest\n");

    /* 1. Immediate rewritten between calls. */
    fn0_t ret_imm = (fn0_t)(uintptr_t)smc_ret_imm;
    int bad = 0;
    uint32_t sum = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        uint32_t want = i * 2654435761u;
        poke32(smc_ret_imm + 1, want);
        uint32_t got = ret_imm();
        sum += got;
        if (got != want)
            bad++;
    }
    printf("immediate rewritten 1000 times: %u stale, sum %08x\n", bad, sum);
    check("rewritten immediate seen by every call", bad == 0);

    /* 2. ModRM rewritten: the operation changes. */
    fn1_t op = (fn1_t)(uintptr_t)smc_op;
    static const struct { uint8_t modrm; const char *name; uint32_t want; } ops[] = {
        { 0xC0, "add", 12 + 5 }, { 0xE8, "sub", 12 - 5 }, { 0xF0, "xor", 12 ^ 5 },
        { 0xC8, "or", 12 | 5 }, { 0xC0, "add", 12 + 5 },
    };
    bad = 0;
    for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        poke8(smc_op_modrm, ops[i].modrm);
        uint32_t got = op(12);
        printf("modrm %02x: 12 %s 5 = %u\n", ops[i].modrm, ops[i].name, got);
        if (got != ops[i].want)
            bad++;
    }
    check("ModRM rewrite changes the operation", bad == 0);

    /* 3. Store into an instruction ahead in the executing block. */
    fn1_t ahead = (fn1_t)(uintptr_t)smc_ahead;
    bad = 0;
    for (uint32_t i = 1; i <= 100; i++)
        if (ahead(i * 3) != i * 3)
            bad++;
    printf("store three instructions ahead, 100 calls: %u stale\n", bad);
    check("store ahead in the running block is seen", bad == 0);

    /* 4. Store into the very next instruction. */
    fn0_t next = (fn0_t)(uintptr_t)smc_next;
    bad = 0;
    for (int i = 0; i < 100; i++) {
        poke8(smc_next_insn, 0x48);          /* DEC EAX back */
        if (next() != 1)
            bad++;
    }
    printf("store into the next instruction, 100 calls: %u stale\n", bad);
    check("rewritten next instruction runs", bad == 0);

    /* 5. A loop body rewriting itself every iteration. */
    fn1_t loop = (fn1_t)(uintptr_t)smc_loop;
    uint32_t s = loop(1000);
    printf("self-rewriting loop: sum 1..1000 = %u\n", s);
    check("every iteration sees its own rewrite", s == 500500);

    /* 6. REP STOSB over the following instruction. */
    fn0_t stos = (fn0_t)(uintptr_t)smc_stos;
    uint8_t jmp0 = smc_stos_jmp[0], jmp1 = smc_stos_jmp[1];
    bad = 0;
    for (int i = 0; i < 10; i++) {
        poke8(smc_stos_jmp, jmp0);
        poke8(smc_stos_jmp + 1, jmp1);
        if (stos() != 2)
            bad++;
    }
    printf("rep stosb over the next instruction, 10 calls: %u stale\n", bad);
    check("instruction overwritten by a string store runs", bad == 0);

    /* 7. Generated code in a data buffer. */
    fn1_t gen = (fn1_t)(uintptr_t)codebuf;
    memcpy(codebuf, smc_template, (size_t)(smc_template_end - smc_template));
    uint32_t g1 = gen(2);
    bad = 0;
    /* Regenerate in place: mov $imm32, %eax; ret */
    for (uint32_t i = 0; i < 50; i++) {
        poke8(codebuf, 0xB8);
        poke32(codebuf + 1, 0xC0DE0000u + i);
        poke8(codebuf + 5, 0xC3);
        if (gen(0) != 0xC0DE0000u + i)
            bad++;
        memcpy(codebuf, smc_template, (size_t)(smc_template_end - smc_template));
        if (gen(i) != 3 * i + 0x7E50)
            bad++;
    }
    printf("generated code: template(2) = %08x, 100 regenerations: %u stale\n", g1, bad);
    check("code written to a buffer runs as written", g1 == 0x7E56 && bad == 0);

    printf(failures ? "FAIL\n" : "PASS\n");
    return failures ? 1 : 0;
}
