/*
 * bootinfo: the machine state the multiboot loader hands over, as _start
 * recorded it before touching anything (boot_state, see rt.h), and the
 * multiboot information structure.
 *
 * Some of this is promised by the Multiboot spec (EAX magic, EBX pointing
 * at the info, flat 4 GiB CS/DS/ES/FS/GS/SS, PE on, PG off, IF off); the
 * rest is what QEMU's loader happens to do (selectors 0x08/0x10, CR0 and
 * EFLAGS values, the info at 0x9500, the map at 0x9000, the command line in
 * the page after the image). All of it is printed, so an emulator that
 * loads multiboot kernels itself can be compared with QEMU; README.md says
 * which lines are which. Values that vary between QEMU runs or builds (the
 * loader's ESP and scratch registers, the path of the kernel file, where
 * the loader's GDT is) are not printed.
 *
 * Run with QEMU's default 128 MiB; the memory lines change with -m.
 */
#include "rt.h"

extern char __image_end[];

/* Decode a GDT descriptor read through the loader's GDTR (leaving out the
 * accessed bit: QEMU sets it when loading data segments but not CS). */
static void show_segment(const char *name, uint16_t sel)
{
    const uint32_t *gdt = (const uint32_t *)(uintptr_t)boot_state.gdtr_base;
    if ((sel & ~7u) + 7 > boot_state.gdtr_limit || (sel & 4)) {
        printf("%s=%04x (not in the GDT)\n", name, sel);
        return;
    }
    uint32_t lo = gdt[(sel >> 3) * 2], hi = gdt[(sel >> 3) * 2 + 1];
    uint32_t base = (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000u);
    uint32_t limit = (lo & 0xFFFF) | (hi & 0x000F0000u);
    if (hi & (1u << 23))
        limit = (limit << 12) | 0xFFF;
    printf("%s=%04x base=%08x limit=%08x %s-bit %s dpl=%u present=%u\n", name, sel, base, limit,
           (hi & (1u << 22)) ? "32" : "16", (hi & (1u << 11)) ? "code" : "data", (hi >> 13) & 3,
           (hi >> 15) & 1);
}

int kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    const struct boot_state *b = &boot_state;
    printf("bootinfo guest\n");
    printf("eax=%08x ebx=%08x\n", b->eax, b->ebx);
    printf("eflags=%08x (if=%u df=%u tf=%u vm=%u iopl=%u)\n", b->eflags, (b->eflags >> 9) & 1,
           (b->eflags >> 10) & 1, (b->eflags >> 8) & 1, (b->eflags >> 17) & 1, (b->eflags >> 12) & 3);
    printf("cr0=%08x cr4=%08x\n", b->cr0, b->cr4);
    printf("gdtr.limit=%04x idtr.base=%08x idtr.limit=%04x\n", b->gdtr_limit, b->idtr_base, b->idtr_limit);
    show_segment("cs", b->cs);
    show_segment("ds", b->ds);
    show_segment("es", b->es);
    show_segment("fs", b->fs);
    show_segment("gs", b->gs);
    show_segment("ss", b->ss);

    /* A20: with it off, 0x100000 would alias 0. */
    volatile uint32_t *lo = (volatile uint32_t *)0x600, *hi = (volatile uint32_t *)0x100600;
    uint32_t save_lo = *lo, save_hi = *hi;
    *lo = 0x11111111;
    *hi = 0x22222222;
    printf("a20=%s\n", *lo == 0x11111111 ? "on" : "off");
    *lo = save_lo;
    *hi = save_hi;

    printf("magic=%08x mbi=%08x flags=%08x\n", magic, (uint32_t)(uintptr_t)mbi, mbi->flags);
    printf("mem_lower=%u mem_upper=%u boot_device=%08x\n", mbi->mem_lower, mbi->mem_upper,
           mbi->boot_device);

    /* QEMU's command line is "KERNEL-FILE ARGS"; print only the ARGS. */
    const char *cmd = (const char *)(uintptr_t)mbi->cmdline;
    const char *args = cmd;
    while (*args && *args != ' ')
        args++;
    uint32_t page_after_image = ((uint32_t)(uintptr_t)__image_end + 4095) & ~4095u;
    printf("cmdline: first word is the kernel file (%s), args \"%s\"\n",
           args != cmd ? "yes" : "no", *args ? args + 1 : "");
    printf("cmdline at image end rounded up to a page + %u; mods_count=%u mods_addr at + %u\n",
           mbi->cmdline - page_after_image, mbi->mods_count, mbi->mods_addr - page_after_image);
    if (mbi->flags & MBI_FLAG_LOADER)
        printf("boot_loader_name=\"%s\" right after the cmdline's NUL: %s\n",
               (const char *)(uintptr_t)mbi->boot_loader_name,
               mbi->boot_loader_name == mbi->cmdline + strlen(cmd) + 1 ? "yes" : "no");

    printf("mmap_addr=%08x mmap_length=%u\n", mbi->mmap_addr, mbi->mmap_length);
    for (uint32_t p = mbi->mmap_addr; p < mbi->mmap_addr + mbi->mmap_length;) {
        const struct multiboot_mmap_entry *e = (const void *)(uintptr_t)p;
        printf("  size=%u base=%08x%08x length=%08x%08x type=%u\n", e->size, e->addr_hi, e->addr_lo,
               e->len_hi, e->len_lo, e->type);
        p += e->size + 4;
    }
    int ok = magic == MULTIBOOT_BOOTLOADER_MAGIC && b->eax == magic && b->ebx == (uint32_t)(uintptr_t)mbi &&
             (b->cr0 & 0x80000001u) == 1 && !(b->eflags & ((1u << 9) | (1u << 17)));
    printf(ok ? "PASS\n" : "FAIL\n");
    return ok ? 0 : 1;
}
