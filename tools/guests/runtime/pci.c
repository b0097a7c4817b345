/* PCI configuration mechanism #1, enumeration and BAR mapping (see pci.h). */
#include "rt.h"
#include "pci.h"

static uint32_t cfg_address(const struct pci_dev *d, uint8_t off)
{
    return 0x80000000u | (uint32_t)d->bus << 16 | (uint32_t)d->slot << 11 | (uint32_t)d->func << 8 | (off & 0xFCu);
}

/* Narrow accesses go to the matching byte lanes of 0xCFC, as on hardware. */
uint8_t pci_read8(const struct pci_dev *d, uint8_t off)
{
    outl(PCI_CONFIG_ADDRESS, cfg_address(d, off));
    return inb((uint16_t)(PCI_CONFIG_DATA + (off & 3)));
}

uint16_t pci_read16(const struct pci_dev *d, uint8_t off)
{
    outl(PCI_CONFIG_ADDRESS, cfg_address(d, off));
    return inw((uint16_t)(PCI_CONFIG_DATA + (off & 2)));
}

uint32_t pci_read32(const struct pci_dev *d, uint8_t off)
{
    outl(PCI_CONFIG_ADDRESS, cfg_address(d, off));
    return inl(PCI_CONFIG_DATA);
}

void pci_write8(const struct pci_dev *d, uint8_t off, uint8_t v)
{
    outl(PCI_CONFIG_ADDRESS, cfg_address(d, off));
    outb((uint16_t)(PCI_CONFIG_DATA + (off & 3)), v);
}

void pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v)
{
    outl(PCI_CONFIG_ADDRESS, cfg_address(d, off));
    outw((uint16_t)(PCI_CONFIG_DATA + (off & 2)), v);
}

void pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v)
{
    outl(PCI_CONFIG_ADDRESS, cfg_address(d, off));
    outl(PCI_CONFIG_DATA, v);
}

void pci_enable(const struct pci_dev *d, uint16_t command_bits)
{
    pci_write16(d, PCI_COMMAND, (uint16_t)(pci_read16(d, PCI_COMMAND) | command_bits));
}

/* Calls fn for every function found; stops early when fn returns nonzero. */
typedef int (*pci_visit_fn)(const struct pci_dev *d, void *ctx);

static int scan_bus(uint8_t bus, int depth, pci_visit_fn fn, void *ctx)
{
    for (uint8_t slot = 0; slot < 32; slot++) {
        struct pci_dev d = { .bus = bus, .slot = slot, .func = 0 };
        if (pci_read16(&d, PCI_VENDOR_ID) == 0xFFFF)
            continue;
        int nfunc = (pci_read8(&d, PCI_HEADER_TYPE) & 0x80) ? 8 : 1;
        for (uint8_t func = 0; func < nfunc; func++) {
            d.func = func;
            uint32_t id = pci_read32(&d, PCI_VENDOR_ID);
            if ((id & 0xFFFF) == 0xFFFF)
                continue;
            d.vendor = (uint16_t)id;
            d.device = (uint16_t)(id >> 16);
            d.header_type = pci_read8(&d, PCI_HEADER_TYPE) & 0x7F;
            if (fn(&d, ctx))
                return 1;
            /* A bridge the firmware numbered: its secondary bus is above ours
             * (the check also stops loops through a misprogrammed bridge). */
            if (d.header_type == 1 && depth < 8) {
                uint8_t secondary = pci_read8(&d, PCI_SECONDARY_BUS);
                if (secondary > bus && scan_bus(secondary, depth + 1, fn, ctx))
                    return 1;
            }
        }
    }
    return 0;
}

struct find_ctx {
    uint16_t vendor;
    const uint16_t *ids;
    int n_ids, index;
    struct pci_dev *out;
};

static int find_visit(const struct pci_dev *d, void *p)
{
    struct find_ctx *c = p;
    if (d->vendor != c->vendor)
        return 0;
    for (int i = 0; i < c->n_ids; i++) {
        if (d->device == c->ids[i]) {
            if (c->index-- == 0) {
                *c->out = *d;
                return 1;
            }
            break;
        }
    }
    return 0;
}

int pci_find(uint16_t vendor, const uint16_t *device_ids, int n_ids, int index, struct pci_dev *out)
{
    struct find_ctx c = { vendor, device_ids, n_ids, index, out };
    return scan_bus(0, 0, find_visit, &c);
}

uint8_t pci_find_cap(const struct pci_dev *d, uint8_t cap_id, uint8_t after)
{
    if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
        return 0;
    uint8_t off = after ? pci_read8(d, (uint8_t)(after + 1)) : pci_read8(d, PCI_CAP_PTR);
    /* 48 hops at most: a list that loops must not hang the guest. */
    for (int hops = 0; off >= 0x40 && hops < 48; hops++) {
        off &= 0xFC;
        if (pci_read8(d, off) == cap_id)
            return off;
        off = pci_read8(d, (uint8_t)(off + 1));
    }
    return 0;
}

int pci_bar_info(const struct pci_dev *d, int bar, struct pci_bar *out)
{
    uint8_t reg = (uint8_t)(PCI_BAR0 + 4 * bar);
    memset(out, 0, sizeof *out);
    int nbars = d->header_type == 0 ? 6 : d->header_type == 1 ? 2 : 0;
    if (bar < 0 || bar >= nbars)
        return 0;

    uint16_t cmd = pci_read16(d, PCI_COMMAND);
    pci_write16(d, PCI_COMMAND, cmd & (uint16_t)~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));

    uint32_t lo = pci_read32(d, reg);
    pci_write32(d, reg, 0xFFFFFFFFu);
    uint32_t lo_mask = pci_read32(d, reg);
    pci_write32(d, reg, lo);

    uint64_t mask;
    if (lo & 1) {
        out->is_io = 1;
        out->addr = lo & ~3u;
        mask = 0xFFFF0000u | (lo_mask & ~3u);     /* I/O BARs may hard-wire the top half */
        mask |= 0xFFFFFFFF00000000ull;
    } else {
        out->prefetchable = (lo >> 3) & 1;
        out->addr = lo & ~15u;
        mask = lo_mask & ~15u;
        if (((lo >> 1) & 3) == 2 && bar + 1 < nbars) {
            out->is_64 = 1;
            uint32_t hi = pci_read32(d, (uint8_t)(reg + 4));
            pci_write32(d, (uint8_t)(reg + 4), 0xFFFFFFFFu);
            uint32_t hi_mask = pci_read32(d, (uint8_t)(reg + 4));
            pci_write32(d, (uint8_t)(reg + 4), hi);
            out->addr |= (uint64_t)hi << 32;
            mask |= (uint64_t)hi_mask << 32;
        } else {
            mask |= 0xFFFFFFFF00000000ull;
        }
    }
    pci_write16(d, PCI_COMMAND, cmd);
    out->size = (lo_mask == 0 || lo_mask == 0xFFFFFFFFu) && !out->is_64 ? 0 : ~mask + 1;
    return out->size != 0;
}

/* ---- choosing an address for an unassigned BAR ----------------------- */

struct overlap_ctx {
    const struct pci_dev *self;
    int self_bar;
    uint64_t base, size;
    int hit;
};

static int same_dev(const struct pci_dev *a, const struct pci_dev *b)
{
    return a->bus == b->bus && a->slot == b->slot && a->func == b->func;
}

static int overlap_visit(const struct pci_dev *d, void *p)
{
    struct overlap_ctx *c = p;
    int nbars = d->header_type == 0 ? 6 : d->header_type == 1 ? 2 : 0;
    for (int i = 0; i < nbars; i++) {
        struct pci_bar b;
        if (!pci_bar_info(d, i, &b))
            continue;
        int skip = b.is_io || b.addr == 0 || (same_dev(d, c->self) && i == c->self_bar);
        if (b.is_64)
            i++;
        if (!skip && b.addr < c->base + c->size && c->base < b.addr + b.size) {
            c->hit = 1;
            return 1;
        }
    }
    return 0;
}

/* Above this the pc machine has the I/O APIC, HPET, local APIC and BIOS. */
#define PCI_MMIO_LIMIT 0xFEC00000u

static uint32_t alloc_mmio(const struct pci_dev *self, int bar, uint64_t size)
{
    for (uint64_t base = PCI_MMIO_WINDOW; base + size <= PCI_MMIO_LIMIT; base += size) {
        struct overlap_ctx c = { self, bar, base, size, 0 };
        scan_bus(0, 0, overlap_visit, &c);
        if (!c.hit)
            return (uint32_t)base;
    }
    return 0;
}

/* Gives a memory BAR that is 0 or (64-bit) above 4 GiB an address below
 * 4 GiB. Memory decoding must be off. 0 on success. */
static int assign_bar(const struct pci_dev *d, int bar, struct pci_bar *b)
{
    if (b->is_io || (b->addr != 0 && b->addr + b->size <= 0x100000000ull))
        return 0;
    if (d->bus != 0 || b->size > 0x10000000u)
        return -1;
    uint32_t base = alloc_mmio(d, bar, b->size < 16 ? 16 : b->size);
    if (!base)
        return -1;
    uint8_t reg = (uint8_t)(PCI_BAR0 + 4 * bar);
    pci_write32(d, reg, base | (pci_read32(d, reg) & 15u));
    if (b->is_64)
        pci_write32(d, (uint8_t)(reg + 4), 0);
    b->addr = base;
    b->assigned_by_us = 1;
    return 0;
}

uint32_t pci_map_bar(const struct pci_dev *d, int bar, struct pci_bar *out)
{
    struct pci_bar want;
    if (!pci_bar_info(d, bar, &want) || want.is_io)
        return 0;
    /* Every memory BAR of the function decodes once memory space is on, so
     * an unassigned one (0) would shadow low RAM: assign them all. */
    uint16_t cmd = pci_read16(d, PCI_COMMAND);
    pci_write16(d, PCI_COMMAND, cmd & (uint16_t)~PCI_COMMAND_MEMORY);
    int nbars = d->header_type == 0 ? 6 : d->header_type == 1 ? 2 : 0;
    int ok = 1;
    for (int i = 0; i < nbars; i++) {
        struct pci_bar b;
        if (!pci_bar_info(d, i, &b))
            continue;
        if (assign_bar(d, i, &b) < 0)
            ok = 0;
        if (i == bar)
            want = b;
        if (b.is_64)
            i++;
    }
    if (!ok) {
        pci_write16(d, PCI_COMMAND, cmd);
        return 0;
    }
    pci_write16(d, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY);
    if (out)
        *out = want;
    return (uint32_t)want.addr;
}
