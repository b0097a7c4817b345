/* Multiboot (version 1) boot information, as the loader hands it over in EBX. */
#ifndef GUEST_MULTIBOOT_H
#define GUEST_MULTIBOOT_H

#include <stdint.h>

#define MULTIBOOT_HEADER_MAGIC     0x1BADB002u /* in the kernel image */
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u /* in EAX at entry */

/* mbi->flags bits: which fields below are valid. */
#define MBI_FLAG_MEM      (1u << 0) /* mem_lower, mem_upper */
#define MBI_FLAG_BOOTDEV  (1u << 1)
#define MBI_FLAG_CMDLINE  (1u << 2)
#define MBI_FLAG_MODS     (1u << 3)
#define MBI_FLAG_MMAP     (1u << 6)
#define MBI_FLAG_LOADER   (1u << 9) /* boot_loader_name */

struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower;   /* KiB below 1 MiB */
    uint32_t mem_upper;   /* KiB from 1 MiB to the first hole */
    uint32_t boot_device;
    uint32_t cmdline;     /* physical address of a NUL-terminated string */
    uint32_t mods_count;
    uint32_t mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length;
    uint32_t mmap_addr;
    uint32_t drives_length;
    uint32_t drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
    uint32_t apm_table;
} __attribute__((packed));

/* One memory-map entry; 'size' does not count itself. */
struct multiboot_mmap_entry {
    uint32_t size;
    uint32_t addr_lo, addr_hi;
    uint32_t len_lo, len_hi;
    uint32_t type;        /* 1 = usable RAM */
} __attribute__((packed));

#endif
