/* C side of the entry: initialise the machine, run kmain, exit. */
#include "rt.h"

void desc_init(void);   /* desc.c */

void rt_start(uint32_t magic, const struct multiboot_info *mbi) __attribute__((noreturn));
void rt_start(uint32_t magic, const struct multiboot_info *mbi)
{
    serial_init();
    desc_init();
    pic_remap();
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
        printf("not started by a multiboot loader (eax=%08x)\nFAIL\n", magic);
        exit(1);
    }
    exit(kmain(magic, mbi));
}

/* QEMU's isa-debug-exit device: writing v to its port makes QEMU exit with
 * status (v << 1) | 1. Elsewhere the write is ignored and we halt. */
void exit(int code)
{
    cli();
    outb(DEBUG_EXIT_PORT, (uint8_t)code);
    halt_forever();
}

static int is_space(char c) { return c == ' ' || c == '\t'; }

uint32_t cmdline_uint(const struct multiboot_info *mbi, const char *key, uint32_t def)
{
    if (!(mbi->flags & MBI_FLAG_CMDLINE) || !mbi->cmdline)
        return def;
    const char *p = (const char *)(uintptr_t)mbi->cmdline;
    size_t klen = strlen(key);
    /* QEMU passes "KERNEL-PATH ARGS": look at every word, not just the first. */
    while (*p) {
        while (is_space(*p))
            p++;
        if (!strncmp(p, key, klen) && p[klen] == '=') {
            const char *q = p + klen + 1;
            uint32_t v = 0;
            int digits = 0;
            while (*q >= '0' && *q <= '9')
                v = v * 10 + (uint32_t)(*q++ - '0'), digits++;
            if (digits && (!*q || is_space(*q)))
                return v;
        }
        while (*p && !is_space(*p))
            p++;
    }
    return def;
}
