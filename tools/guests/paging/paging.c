/*
 * paging: 32-bit (non-PAE) paging with 4 KiB pages and 4 MiB PSE pages.
 *
 * Address space:
 *   0x00000000-0x003FFFFF  4 KiB pages, identity, user+writable; page 0 not
 *                          present (catches NULL). The kernel lives here.
 *   0x00400000-0x00FFFFFF  4 MiB PSE pages, identity, supervisor only
 *   0x80000000-0x803FFFFF  test page table (pt_test), PDE user+writable
 *   0x80400000-0x807FFFFF  4 MiB PSE page -> physical 0x00800000, supervisor
 *   0x80800000-0x80BFFFFF  pt_test again, PDE supervisor (user denied there)
 *   0x80C00000-0x80FFFFFF  pt_test again, PDE user but read-only
 *
 * Test pages (pt_test index -> physical frame):
 *   0 V_RW    -> FRAME_A  supervisor, writable   (accessed/dirty bits)
 *   1 V_RO    -> FRAME_B  supervisor, read-only  (CR0.WP)
 *   2 V_NP       not present
 *   3 V_URO   -> FRAME_C  user, read-only
 *   4 V_URW   -> FRAME_A  user, writable
 *   5 V_SWAP  -> FRAME_A, later FRAME_B          (INVLPG, CR3 reload)
 *   6 V_NX       not present, jumped to          (instruction fetch)
 *
 * CR2 values and error codes are printed: the addresses are fixed by this
 * layout, not by the linker.
 */
#include "rt.h"

#define PG_P    0x001
#define PG_RW   0x002
#define PG_US   0x004
#define PG_A    0x020
#define PG_D    0x040
#define PG_PS   0x080   /* in a PDE: 4 MiB page */

#define CR0_WP  (1u << 16)
#define CR0_PG  (1u << 31)
#define CR4_PSE (1u << 4)

#define FRAME_A 0x00A00000u
#define FRAME_B 0x00A01000u
#define FRAME_C 0x00A02000u

#define V_BASE  0x80000000u
#define V_RW    (V_BASE + 0x0000)
#define V_RO    (V_BASE + 0x1000)
#define V_NP    (V_BASE + 0x2000)
#define V_URO   (V_BASE + 0x3000)
#define V_URW   (V_BASE + 0x4000)
#define V_SWAP  (V_BASE + 0x5000)
#define V_NX    (V_BASE + 0x6000)
#define V_BIG   0x80400000u          /* 4 MiB page over physical 0x00800000 */
#define V_SUPPDE (0x80800000u + 0x4000) /* V_URW's PTE under a supervisor PDE */
#define V_ROPDE  (0x80C00000u + 0x4000) /* V_URW's PTE under a read-only PDE */

static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint32_t pt_low[1024] __attribute__((aligned(4096)));
static uint32_t pt_test[1024] __attribute__((aligned(4096)));

static int failures;

static void check(const char *what, int ok)
{
    printf("%-48s %s\n", what, ok ? "ok" : "MISMATCH");
    if (!ok)
        failures++;
}

static inline void invlpg(uint32_t va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static inline uint32_t rd32(uint32_t a) { return *(volatile uint32_t *)(uintptr_t)a; }
static inline void wr32(uint32_t a, uint32_t v) { *(volatile uint32_t *)(uintptr_t)a = v; }

/* Expected page faults: read or write one dword, record vector/err/cr2. */
static void try_read(uint32_t va)
{
    uint32_t v;
    trap_reset();
    __asm__ volatile(TRAP_BEGIN "movl (%1), %0" TRAP_END : "=r"(v) : "r"(va) : "memory");
}

static void try_write(uint32_t va, uint32_t v)
{
    trap_reset();
    __asm__ volatile(TRAP_BEGIN "movl %1, (%0)" TRAP_END : : "r"(va), "r"(v) : "memory");
}

static void expect_pf(const char *what, uint32_t err, uint32_t cr2)
{
    int ok = last_trap.vector == 14 && last_trap.err == err && last_trap.cr2 == cr2;
    if (last_trap.vector == TRAP_NONE)
        printf("%-48s no fault MISMATCH\n", what);
    else
        printf("%-48s vector=%u err=%x cr2=%08x %s\n", what, last_trap.vector, last_trap.err,
               last_trap.cr2, ok ? "ok" : "MISMATCH");
    if (!ok)
        failures++;
}

static void expect_no_fault(const char *what)
{
    check(what, last_trap.vector == TRAP_NONE);
}

static void setup_tables(void)
{
    for (int i = 0; i < 1024; i++)
        pt_low[i] = (uint32_t)i * 4096 | PG_P | PG_RW | PG_US;
    pt_low[0] = 0;                                        /* NULL guard */
    pd[0] = (uint32_t)(uintptr_t)pt_low | PG_P | PG_RW | PG_US;
    for (int i = 1; i < 4; i++)
        pd[i] = (uint32_t)i << 22 | PG_PS | PG_P | PG_RW;   /* 4..16 MiB */

    pt_test[0] = FRAME_A | PG_P | PG_RW;
    pt_test[1] = FRAME_B | PG_P;
    pt_test[2] = 0;
    pt_test[3] = FRAME_C | PG_P | PG_US;
    pt_test[4] = FRAME_A | PG_P | PG_RW | PG_US;
    pt_test[5] = FRAME_A | PG_P | PG_RW;
    pt_test[6] = 0;
    uint32_t pt = (uint32_t)(uintptr_t)pt_test;
    pd[V_BASE >> 22] = pt | PG_P | PG_RW | PG_US;
    pd[V_BIG >> 22] = 0x00800000u | PG_PS | PG_P | PG_RW;
    pd[0x80800000u >> 22] = pt | PG_P | PG_RW;            /* supervisor PDE */
    pd[0x80C00000u >> 22] = pt | PG_P | PG_US;            /* read-only PDE */

    /* Recognisable contents, written while paging is still off. */
    wr32(FRAME_A, 0xAAAA0001);
    wr32(FRAME_B, 0xBBBB0002);
    wr32(FRAME_C, 0xCCCC0003);
}

static void enable_paging(void)
{
    write_cr4(read_cr4() | CR4_PSE);
    write_cr3((uint32_t)(uintptr_t)pd);
    write_cr0(read_cr0() | CR0_PG);        /* WP stays 0 for now */
    uint32_t cr0 = read_cr0();
    printf("paging on: cr0.pg=%u cr0.wp=%u cr4.pse=%u\n", cr0 >> 31, (cr0 >> 16) & 1,
           (read_cr4() >> 4) & 1);
    check("identity-mapped kernel still runs", 1);
}

static void test_translation(void)
{
    check("4 KiB page: V_RW reads frame A", rd32(V_RW) == 0xAAAA0001);
    check("4 KiB page: V_RO reads frame B", rd32(V_RO) == 0xBBBB0002);
    wr32(V_RW + 8, 0x12345678);
    check("4 KiB page: write via V_RW lands in frame A", rd32(FRAME_A + 8) == 0x12345678);
    /* FRAME_A is 2 MiB into the 4 MiB page at V_BIG. */
    check("4 MiB page: V_BIG+0x200000 reads frame A", rd32(V_BIG + 0x200000) == 0xAAAA0001);
    wr32(V_BIG + 0x200010, 0x0B16F00D);
    check("4 MiB page: write lands at phys+offset", rd32(FRAME_A + 0x10) == 0x0B16F00D);
}

static void print_ad(const char *what, uint32_t e)
{
    printf("%-48s A=%u D=%u\n", what, (e >> 5) & 1, (e >> 6) & 1);
}

static void test_accessed_dirty(void)
{
    volatile uint32_t *pte = &pt_test[0];
    volatile uint32_t *pde = &pd[V_BASE >> 22];
    volatile uint32_t *big = &pd[V_BIG >> 22];

    /* Clear A/D and flush: the next access must walk the tables again. */
    *pte &= ~(uint32_t)(PG_A | PG_D);
    *pde &= ~(uint32_t)(PG_A | PG_D);
    invlpg(V_RW);
    print_ad("4 KiB PTE after clearing:", *pte);
    (void)rd32(V_RW);
    print_ad("4 KiB PTE after a read:", *pte);
    check("read sets A, not D", (*pte & (PG_A | PG_D)) == PG_A);
    check("PDE A set by the walk", (*pde & PG_A) != 0);
    wr32(V_RW + 4, 1);
    print_ad("4 KiB PTE after a write:", *pte);
    check("write sets D", (*pte & (PG_A | PG_D)) == (PG_A | PG_D));

    *big &= ~(uint32_t)(PG_A | PG_D);
    invlpg(V_BIG);
    (void)rd32(V_BIG);
    print_ad("4 MiB PDE after a read:", *big);
    check("4 MiB page: read sets A, not D", (*big & (PG_A | PG_D)) == PG_A);
    wr32(V_BIG + 4, 2);
    print_ad("4 MiB PDE after a write:", *big);
    check("4 MiB page: write sets D", (*big & (PG_A | PG_D)) == (PG_A | PG_D));
}

static void test_supervisor_faults(void)
{
    try_read(V_NP);
    expect_pf("read not-present page", 0x0, V_NP);
    try_write(V_NP + 0x123, 7);
    expect_pf("write not-present page", 0x2, V_NP + 0x123);
    try_read(0);
    expect_pf("read NULL (page 0 not present)", 0x0, 0);
    try_read(V_NP - 2);          /* straddles V_RO (present) and V_NP */
    expect_pf("read straddling into not-present page", 0x0, V_NP);

    /* Jump to a not-present page: CR2 = EIP = the target. Without NX, the
     * error code has no instruction-fetch bit. */
    trap_reset();
    __asm__ volatile(TRAP_BEGIN "jmp *%0" TRAP_END : : "r"(V_NX) : "memory");
    expect_pf("jump to not-present page", 0x0, V_NX);
    check("  saved EIP is the target", last_trap.eip == V_NX);

    /* CR0.WP=0: ring 0 ignores read-only. CR0.WP=1: it does not. */
    try_write(V_RO + 12, 0x5EED);
    expect_no_fault("ring 0 write to read-only page, WP=0");
    check("  the write happened", rd32(FRAME_B + 12) == 0x5EED);
    write_cr0(read_cr0() | CR0_WP);
    try_write(V_RO + 12, 0x6EED);
    expect_pf("ring 0 write to read-only page, WP=1", 0x3, V_RO + 12);
    check("  the write did not happen", rd32(FRAME_B + 12) == 0x5EED);
    try_write(V_ROPDE, 0x6EED);
    expect_pf("ring 0 write via read-only PDE, WP=1", 0x3, V_ROPDE);
    write_cr0(read_cr0() & ~CR0_WP);
    try_write(V_RO + 12, 0x7EED);
    expect_no_fault("ring 0 write to read-only page, WP=0 again");
}

/* Ring 3 side: each access is attempted in user mode; results land in
 * user_res (kernel memory is user-accessible in the low 4 MiB). */
static volatile struct trap_info user_res[8];
static volatile uint32_t user_val;
static uint8_t user_stack[8192] __attribute__((aligned(16)));

static void u_read(int i, uint32_t va)
{
    try_read(va);
    user_res[i] = last_trap;
}

static void u_write(int i, uint32_t va, uint32_t v)
{
    try_write(va, v);
    user_res[i] = last_trap;
}

static int user_main(void)
{
    u_read(0, V_RW);          /* supervisor page */
    u_read(1, V_NP);          /* not present */
    u_write(2, V_URO, 1);     /* user read-only */
    u_read(3, V_URO);         /* allowed */
    u_write(4, V_URW + 16, 0xFEED);   /* allowed */
    u_read(5, V_BIG);         /* supervisor 4 MiB page */
    u_read(6, V_SUPPDE);      /* user PTE under a supervisor PDE */
    u_write(7, V_ROPDE, 1);   /* writable PTE under a read-only PDE */
    user_val = rd32(V_URO);
    return 0;
}

static void user_expect(int i, const char *what, uint32_t err, uint32_t cr2)
{
    last_trap = user_res[i];
    if (err == 0xFFFFFFFFu)
        expect_no_fault(what);
    else
        expect_pf(what, err, cr2);
}

static void test_user_faults(void)
{
    run_user(user_main, user_stack + sizeof user_stack);
    user_expect(0, "ring 3 read supervisor page", 0x5, V_RW);
    user_expect(1, "ring 3 read not-present page", 0x4, V_NP);
    user_expect(2, "ring 3 write user read-only page", 0x7, V_URO);
    user_expect(3, "ring 3 read user read-only page", 0xFFFFFFFFu, 0);
    user_expect(4, "ring 3 write user writable page", 0xFFFFFFFFu, 0);
    check("  the write landed in frame A", rd32(FRAME_A + 16) == 0xFEED);
    user_expect(5, "ring 3 read supervisor 4 MiB page", 0x5, V_BIG);
    user_expect(6, "ring 3 read user PTE, supervisor PDE", 0x5, V_SUPPDE);
    user_expect(7, "ring 3 write writable PTE, read-only PDE", 0x7, V_ROPDE);
    check("ring 3 read value from frame C", user_val == 0xCCCC0003);
}

static void test_invlpg(void)
{
    check("V_SWAP maps frame A", rd32(V_SWAP) == 0xAAAA0001);
    /* Remap, then flush just that page. (What a read would return between
     * the two is up to the TLB, so nothing is read there.) */
    pt_test[5] = FRAME_B | PG_P | PG_RW;
    invlpg(V_SWAP);
    check("after PTE change + INVLPG: frame B", rd32(V_SWAP) == 0xBBBB0002);
    pt_test[5] = FRAME_C | PG_P | PG_RW;
    write_cr3(read_cr3());
    check("after PTE change + CR3 reload: frame C", rd32(V_SWAP) == 0xCCCC0003);
    pt_test[5] = 0;
    invlpg(V_SWAP);
    try_read(V_SWAP);
    expect_pf("after unmapping + INVLPG: not present", 0x0, V_SWAP);
}

static void disable_paging(void)
{
    write_cr0(read_cr0() & ~CR0_PG);
    check("paging off again: physical frame A readable", rd32(FRAME_A) == 0xAAAA0001);
}

int kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    printf("paging guest\n");
    if (!(mbi->flags & MBI_FLAG_MEM) || mbi->mem_upper < 15 * 1024) {
        printf("needs at least 16 MiB of RAM\nFAIL\n");
        return 1;
    }
    setup_tables();
    enable_paging();
    test_translation();
    test_accessed_dirty();
    test_supervisor_faults();
    test_user_faults();
    test_invlpg();
    disable_paging();

    printf("%u page faults taken\n", last_trap.count);
    printf(failures ? "FAIL\n" : "PASS\n");
    return failures ? 1 : 0;
}
