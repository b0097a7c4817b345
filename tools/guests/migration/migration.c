/*
 * migration: a dirtying workload for live-migration tests, after QEMU's
 * migration test guest (tests/qtest/migration, a-b-bootblock). It owns one
 * byte at the start of every 4 KiB page of a region [start, end) and keeps
 * incrementing them, page by page in ascending order, pass after pass; after
 * every `every` passes it prints a marker 'B' on COM1.
 *
 * Because the incrementer walks the pages in order, memory seen with the
 * guest stopped at any instant satisfies the single-step invariant that
 * tests check on a migration's destination (MigrationGuestCheck in
 * tests/Qmp.Functional.Tests): every page's byte equals the previous page's,
 * except at most once, where it is exactly one less (mod 256) - the point the
 * incrementer had reached. A page lost or sent stale by the migration breaks it.
 *
 * Command line (Multiboot, QEMU's -append), all optional:
 *   start=N   first MiB of the region (default 2; the kernel image sits at 1 MiB)
 *   end=N     MiB where it ends, exclusive (default 100; clamped to the RAM
 *             contiguous from 1 MiB)
 *   every=N   passes per marker (default 1; QEMU's guest uses 64)
 *   passes=N  stop after N passes, check every byte is N mod 256, print PASS
 *             or FAIL and exit (default 0: run forever)
 *
 * Output:  "migration guest: pages S MiB - E MiB (P pages)\n" then "A", then
 * one 'B' per `every` passes; with passes=N a newline and PASS/FAIL at the end.
 */
#include "rt.h"

#define MIB (1024u * 1024u)
#define PAGE 4096u

extern uint8_t __image_end[];

/* Zero then increment: the compiler must not merge or drop these stores. */
static void fill(uint32_t start, uint32_t end, uint8_t v)
{
    for (uint32_t p = start; p < end; p += PAGE)
        *(volatile uint8_t *)(uintptr_t)p = v;
}

static void pass(uint32_t start, uint32_t end)
{
    for (uint32_t p = start; p < end; p += PAGE)
        (*(volatile uint8_t *)(uintptr_t)p)++;
}

int kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    uint32_t start_mib = cmdline_uint(mbi, "start", 2);
    uint32_t end_mib = cmdline_uint(mbi, "end", 100);
    uint32_t every = cmdline_uint(mbi, "every", 1);
    uint32_t passes = cmdline_uint(mbi, "passes", 0);
    if (every == 0)
        every = 1;

    /* The top of the RAM that is contiguous from 1 MiB, whole MiB only. */
    uint32_t top_mib = (mbi->flags & MBI_FLAG_MEM) ? 1 + mbi->mem_upper / 1024 : 16;
    if (end_mib > top_mib)
        end_mib = top_mib;
    uint32_t image_end = (uint32_t)(uintptr_t)__image_end;
    if (start_mib * MIB < image_end || start_mib >= end_mib) {
        printf("migration guest: bad region %u MiB - %u MiB (image ends at %x, RAM at %u MiB)\nFAIL\n",
               start_mib, end_mib, image_end, top_mib);
        return 1;
    }
    uint32_t start = start_mib * MIB, end = end_mib * MIB;
    printf("migration guest: pages %u MiB - %u MiB (%u pages)\n", start_mib, end_mib, (end - start) / PAGE);

    fill(start, end, 0);
    serial_putc('A');
    for (uint32_t n = 1; passes == 0 || n <= passes; n++) {
        pass(start, end);
        if (n % every == 0)
            serial_putc('B');
    }

    /* Finite run: every byte must have been incremented exactly `passes` times. */
    uint32_t bad = 0;
    for (uint32_t p = start; p < end; p += PAGE)
        bad += *(volatile uint8_t *)(uintptr_t)p != (uint8_t)passes;
    printf("\n%u passes, %u bad pages\n%s\n", passes, bad, bad ? "FAIL" : "PASS");
    return bad ? 1 : 0;
}
