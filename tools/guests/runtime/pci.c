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

/* Calls fn for every function found; stops early when fn returns nonzero.
 * depth < 0: this bus only. */
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
            if (d.header_type == 1 && depth >= 0 && depth < 8) {
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

int pci_for_each(pci_visit_fn fn, void *ctx) { return scan_bus(0, 0, fn, ctx); }
int pci_for_each_on_bus(uint8_t bus, pci_visit_fn fn, void *ctx) { return scan_bus(bus, -1, fn, ctx); }

/* ---- bridges ------------------------------------------------------------ */

int pci_bridge_window(const struct pci_dev *b, int prefetchable, struct pci_window *out)
{
    memset(out, 0, sizeof *out);
    if (b->header_type != 1)
        return 0;
    uint8_t breg = prefetchable ? PCI_PREF_MEMORY_BASE : PCI_MEMORY_BASE;
    uint16_t lo = pci_read16(b, breg), hi = pci_read16(b, (uint8_t)(breg + 2));
    uint64_t base = (uint64_t)(lo & 0xFFF0u) << 16;
    uint64_t limit = (uint64_t)(hi & 0xFFF0u) << 16 | 0xFFFFFu;
    if (prefetchable && (lo & 0xF) == 1) {
        out->is_64 = 1;
        base |= (uint64_t)pci_read32(b, PCI_PREF_BASE_UPPER32) << 32;
        limit |= (uint64_t)pci_read32(b, PCI_PREF_LIMIT_UPPER32) << 32;
    }
    if (base == 0 || base > limit)
        return 0;
    out->base = base;
    out->size = limit - base + 1;
    return 1;
}

void pci_bridge_set_window(const struct pci_dev *b, int prefetchable, uint64_t base, uint64_t size)
{
    uint8_t breg = prefetchable ? PCI_PREF_MEMORY_BASE : PCI_MEMORY_BASE;
    uint64_t limit = base + size - 1;
    if (size == 0) {                /* closed: base above limit */
        base = 0xFFF00000u;
        limit = 0;
    }
    int is_64 = prefetchable && (pci_read16(b, breg) & 0xF) == 1;
    if (is_64) {
        /* Close first so that the window never spans a half-written range. */
        pci_write16(b, breg, 0xFFF0);
        pci_write16(b, (uint8_t)(breg + 2), 0);
        pci_write32(b, PCI_PREF_BASE_UPPER32, (uint32_t)(base >> 32));
        pci_write32(b, PCI_PREF_LIMIT_UPPER32, (uint32_t)(limit >> 32));
    }
    pci_write16(b, breg, (uint16_t)((base >> 16) & 0xFFF0u));
    pci_write16(b, (uint8_t)(breg + 2), (uint16_t)((limit >> 16) & 0xFFF0u));
}

struct to_bus_ctx {
    uint8_t bus;
    struct pci_dev *out;
};

static int to_bus_visit(const struct pci_dev *d, void *p)
{
    struct to_bus_ctx *c = p;
    if (d->header_type != 1 || pci_read8(d, PCI_SECONDARY_BUS) != c->bus)
        return 0;
    *c->out = *d;
    return 1;
}

int pci_bridge_to_bus(uint8_t bus, struct pci_dev *out)
{
    struct to_bus_ctx c = { bus, out };
    return bus != 0 && pci_for_each(to_bus_visit, &c);
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
    uint8_t bus;            /* windows of bridges on this bus count too */
    uint64_t base, size;
    int hit;
};

static int same_dev(const struct pci_dev *a, const struct pci_dev *b)
{
    return a->bus == b->bus && a->slot == b->slot && a->func == b->func;
}

static int overlaps(const struct overlap_ctx *c, uint64_t base, uint64_t size)
{
    return base < c->base + c->size && c->base < base + size;
}

static int overlap_visit(const struct pci_dev *d, void *p)
{
    struct overlap_ctx *c = p;
    int nbars = d->header_type == 0 ? 6 : d->header_type == 1 ? 2 : 0;
    int self = c->self && same_dev(d, c->self);
    for (int i = 0; i < nbars; i++) {
        struct pci_bar b;
        if (!pci_bar_info(d, i, &b))
            continue;
        int skip = b.is_io || b.addr == 0 || (self && i == c->self_bar);
        if (b.is_64)
            i++;
        if (!skip && overlaps(c, b.addr, b.size)) {
            c->hit = 1;
            return 1;
        }
    }
    /* The windows of the bridges on the bus (a bridge whose window is being
     * placed has closed that one first). */
    if (d->header_type == 1 && d->bus == c->bus) {
        for (int pref = 0; pref < 2; pref++) {
            struct pci_window w;
            if (pci_bridge_window(d, pref, &w) && overlaps(c, w.base, w.size)) {
                c->hit = 1;
                return 1;
            }
        }
    }
    return 0;
}

uint32_t pci_alloc_mmio(uint8_t bus, const struct pci_dev *self, int self_bar, uint64_t size, uint32_t from,
                        uint32_t to)
{
    if (size == 0 || (size & (size - 1)))
        return 0;
    uint64_t base = ((uint64_t)from + size - 1) & ~(size - 1);
    for (; base + size <= to; base += size) {
        struct overlap_ctx c = { self, self_bar, bus, base, size, 0 };
        pci_for_each(overlap_visit, &c);
        if (!c.hit)
            return (uint32_t)base;
    }
    return 0;
}

/* Where a BAR of a function behind a bridge may go: the bridge's
 * prefetchable window for a prefetchable BAR if open and below 4 GiB, else
 * its memory window. 0 if there is none. */
static int bar_window(const struct pci_dev *d, const struct pci_bar *b, uint32_t *from, uint32_t *to)
{
    struct pci_dev bridge;
    struct pci_window w;
    if (!pci_bridge_to_bus(d->bus, &bridge))
        return 0;
    if (!(b->prefetchable && pci_bridge_window(&bridge, 1, &w) && w.base + w.size <= 0x100000000ull) &&
        !pci_bridge_window(&bridge, 0, &w))
        return 0;
    *from = (uint32_t)w.base;
    *to = (uint32_t)(w.base + w.size - 1) + 1u;     /* 0 for a window ending at 4 GiB */
    if (*to == 0)
        *to = 0xFFFFF000u;
    return 1;
}

/* Gives a memory BAR that is 0 or (64-bit) above 4 GiB an address below
 * 4 GiB. Memory decoding must be off. 0 on success. */
static int assign_bar(const struct pci_dev *d, int bar, struct pci_bar *b)
{
    if (b->is_io || (b->addr != 0 && b->addr + b->size <= 0x100000000ull))
        return 0;
    if (b->size > 0x10000000u)
        return -1;
    uint32_t from = PCI_MMIO_WINDOW, to = PCI_MMIO_LIMIT;
    if (d->bus != 0 && !bar_window(d, b, &from, &to))
        return -1;
    uint32_t base = pci_alloc_mmio(d->bus, d, bar, b->size < 16 ? 16 : b->size, from, to);
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
