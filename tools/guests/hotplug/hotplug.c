/*
 * hotplug: services PCI Express native hot-plug slots the way an OS's
 * pciehp driver does, polling with interrupts off, and uses the virtio-blk
 * disks plugged into them through the runtime's driver.
 *
 * Slots: every PCI-PCI bridge with a PCI Express capability of type root
 * port or downstream port whose Slot Capabilities say Hot-Plug Capable
 * (QEMU's pcie-root-port is 1b36:000c, class 0604). At start the guest
 * numbers the buses if the firmware has not, gives each slot's port a
 * memory and a prefetchable window (2 MiB each) if it has none, enables
 * memory and bus mastering on it, clears stale slot events and enables the
 * hot-plug events in Slot Control, waiting for Command Completed after every
 * Slot Control write. Then it polls Slot Status:
 *
 *   Presence Detect Changed, presence 1: power the slot on (Power Controller
 *     Control 0, power indicator on), wait for Data Link Layer Link Active
 *     (when the port reports it) and for the function to answer, assign its
 *     BARs inside the port's windows, initialise the virtio-blk driver, read
 *     the range and print capacity and checksum; then keep reads in flight
 *     ("busy") until the device is removed.
 *   Attention Button Pressed on a powered slot (QEMU's device_del): power
 *     indicator blinking, then either refuse (refuse=1: indicator back on,
 *     slot stays powered) or quiesce (stop submitting, wait for the reads in
 *     flight, reset the virtio device, clear its command register) and power
 *     the slot off (Power Controller Control 1, power and attention
 *     indicators off).
 *   Presence Detect Changed, presence 0: the slot is empty.
 *
 * Command line (all optional):
 *   events=N        after N handled events (insertion, removal, refusal)
 *                   print PASS (or FAIL) and exit; 0 (default): run forever
 *   start=S sectors=N  the range read from each disk (0, 64)
 *   seed=K          also check the range against the disk guest's pattern
 *   refuse=1        refuse every unplug request
 *   button_delay=MS after an unplug request keep the power indicator
 *                   blinking for MS milliseconds before acting; a second
 *                   press meanwhile cancels the request (PCIe 6.7.1.5; Linux
 *                   waits 5000 ms). Default 0: act at once
 *   busy=0          no reads in flight between events (default 1)
 *   depth=D         reads in flight while busy, 1..8 (4)
 *   reassign=1      renumber the buses and reassign windows and BARs even if
 *                   the firmware did
 *   linger=MS       wait MS milliseconds (PIT) between printing PASS and
 *                   exiting, so that the host still sees what it does after
 *                   the last event (QEMU sends DEVICE_DELETED only once the
 *                   device is finalized, some 50 ms after the power-off)
 *   verbose=1       also print register values (not byte-for-byte stable
 *                   across machines: for investigating)
 *   probe=1         with verbose=1: also try how the port treats a Slot
 *                   Status write with a 1 in a clear event bit
 *
 * The default output has no addresses, bus numbers or times; one line per
 * event (an insertion prints capacity, checksum and, with seed=, the
 * pattern check).
 */
#include "rt.h"
#include "pattern.h"
#include "virtio.h"

#define SECTOR 512u
#define MAX_SLOTS 4
#define MAX_DEPTH 8
#define BG_SECTORS 8            /* per background read */
#define CHUNK_SECTORS 64        /* per read of the initial pass */
#define WINDOW_SIZE 0x200000u   /* what the guest gives a port without windows */
#define SPIN_LIMIT 2000000u     /* polls before a wait counts as timed out */

enum slot_state {
    SLOT_EMPTY,     /* nothing in use (the slot may hold an unpowered card) */
    SLOT_ACTIVE,    /* powered, the function is in use */
    SLOT_OFF,       /* powered off after an unplug request, card still present */
};

struct bg_read {
    struct vblk_req req;
    uint32_t sector, count;
    int inflight;
};

struct hslot {
    int index;
    struct pci_dev port;
    uint8_t cap;                /* PCI Express capability */
    uint32_t sltcap, lnkcap;
    uint8_t secondary;
    enum slot_state state;
    struct pci_dev dev;
    int is_blk;
    struct vblk *blk;
    uint32_t unit;              /* sectors per logical block */
    int stopping;
    uint32_t bg_next;           /* next background sector (offset in the range) */
    uint32_t bg_failed, bg_mismatched, bg_done;
    struct bg_read bg[MAX_DEPTH];
    uint8_t (*bg_buf)[BG_SECTORS * SECTOR];
};

static struct vblk blks[MAX_SLOTS];
static uint8_t bg_bufs[MAX_SLOTS][MAX_DEPTH][BG_SECTORS * SECTOR] __attribute__((aligned(4096)));
static uint8_t chunk_buf[CHUNK_SECTORS * SECTOR] __attribute__((aligned(4096)));
static uint8_t expect_buf[SECTOR] __attribute__((aligned(16)));
static struct vblk_req sync_req;

static struct hslot slots[MAX_SLOTS];
static int nslots;

static uint32_t range_start, range_sectors, seed, depth, button_delay;
static int have_seed, refuse, busy, verbose, reassign, probe;
static uint32_t handled;
static int failures;

/* ---- helpers -------------------------------------------------------------- */

/* Sectors of buf (count, starting at 'sector') that differ from the pattern. */
static uint32_t pattern_mismatches(const uint8_t *buf, uint32_t sector, uint32_t count, uint32_t *first_bad)
{
    uint32_t bad = 0;
    for (uint32_t i = 0; i < count; i++) {
        pattern_sector((uint32_t *)expect_buf, sector + i, seed);
        if (memcmp(expect_buf, buf + i * SECTOR, SECTOR)) {
            if (!bad++ && first_bad)
                *first_bad = sector + i;
        }
    }
    return bad;
}

static int cmdline_has(const struct multiboot_info *mbi, const char *key)
{
    return cmdline_uint(mbi, key, 0) == cmdline_uint(mbi, key, 1);
}

static void count_event(void) { handled++; }

/*
 * Milliseconds from the PIT, polled: channel 0 in mode 2 with the longest
 * period (65536 ticks, 55 ms), so that differences of successive counter
 * reads, taken modulo 65536, add up to the elapsed ticks as long as the
 * reads are less than 55 ms apart.
 */
struct pit_clock {
    uint16_t prev;
    uint32_t ticks;     /* not yet converted to milliseconds */
};

static void clock_start(struct pit_clock *c)
{
    pit_start(18, 2);   /* divisor > 65535: programmed as 0 = 65536 */
    c->prev = pit_read_counter();
    c->ticks = 0;
}

/* Milliseconds elapsed since the last call. */
static uint32_t clock_ms(struct pit_clock *c)
{
    uint16_t cur = pit_read_counter();
    c->ticks += (uint16_t)(c->prev - cur);
    c->prev = cur;
    uint32_t ms = c->ticks / 1193u;         /* 1193.182 ticks per ms */
    c->ticks -= ms * 1193u;
    return ms;
}

static void delay_ms(uint32_t ms)
{
    struct pit_clock c;
    clock_start(&c);
    for (uint32_t t = 0; t < ms;)
        t += clock_ms(&c);
}

/* ---- slot registers ------------------------------------------------------- */

static uint16_t slot_status(struct hslot *s) { return pci_read16(&s->port, (uint8_t)(s->cap + PCI_EXP_SLTSTA)); }
static uint16_t slot_control(struct hslot *s) { return pci_read16(&s->port, (uint8_t)(s->cap + PCI_EXP_SLTCTL)); }
static uint16_t link_status(struct hslot *s) { return pci_read16(&s->port, (uint8_t)(s->cap + PCI_EXP_LNKSTA)); }

/* Writes 1 to exactly the status bits given (RW1C): never to a bit that was
 * not read as set, so no event that arrives meanwhile is lost. */
static void slot_ack(struct hslot *s, uint16_t bits)
{
    if (bits)
        pci_write16(&s->port, (uint8_t)(s->cap + PCI_EXP_SLTSTA), bits);
}

/* The IRR bit of the port's INTx line, if it goes to the 8259s. */
static int intx_level(struct hslot *s)
{
    uint8_t line = pci_read8(&s->port, PCI_INTERRUPT_LINE);
    if (line >= 16)
        return -1;
    return (pic_read_irr(line >= 8) >> (line & 7)) & 1;
}

/*
 * One Slot Control command: read-modify-write of the fields in 'mask', then
 * the command-completed handshake (PCIe 6.7.3.2): wait for Command
 * Completed and clear it. Only one command may be outstanding, so every
 * write waits. Returns 0, or -1 if the port never completed it.
 */
static int slot_command(struct hslot *s, uint16_t mask, uint16_t value)
{
    uint16_t ctl = (uint16_t)((slot_control(s) & ~mask) | (value & mask));
    pci_write16(&s->port, (uint8_t)(s->cap + PCI_EXP_SLTCTL), ctl);
    if (s->sltcap & PCI_EXP_SLTCAP_NCCS)
        return 0;
    for (uint32_t i = 0; i < SPIN_LIMIT; i++) {
        if (slot_status(s) & PCI_EXP_SLTSTA_CC) {
            slot_ack(s, PCI_EXP_SLTSTA_CC);
            if (verbose)
                printf("slot %d:   SLTCTL <- %04x, command completed after %u polls, SLTCTL %04x\n", s->index, ctl,
                       i + 1, slot_control(s));
            return 0;
        }
    }
    printf("slot %d: Slot Control write %04x never completed\n", s->index, ctl);
    failures++;
    return -1;
}

static void indicators(struct hslot *s, uint16_t mask, uint16_t value)
{
    /* Fields the slot does not implement are left alone. */
    if (!(s->sltcap & PCI_EXP_SLTCAP_PIP))
        mask &= (uint16_t)~PCI_EXP_SLTCTL_PIC;
    if (!(s->sltcap & PCI_EXP_SLTCAP_AIP))
        mask &= (uint16_t)~PCI_EXP_SLTCTL_AIC;
    if (mask)
        slot_command(s, mask, value);
}

/* ---- bus numbers and windows ---------------------------------------------- */

struct dev_list {
    struct pci_dev d[64];
    int n;
};

static int collect_bridge(const struct pci_dev *d, void *p)
{
    struct dev_list *l = p;
    if (d->header_type == 1 && l->n < 64)
        l->d[l->n++] = *d;
    return 0;
}

static int unnumbered_visit(const struct pci_dev *d, void *p)
{
    if (d->header_type != 1)
        return 0;
    uint8_t sec = pci_read8(d, PCI_SECONDARY_BUS), sub = pci_read8(d, PCI_SUBORDINATE_BUS);
    if (sec <= d->bus || sub < sec) {
        *(int *)p = 1;
        return 1;
    }
    return 0;
}

/* Clears the bus numbers of every bridge below 'bus', deepest first. */
static void clear_buses(uint8_t bus, int level)
{
    static struct dev_list lists[8];
    struct dev_list *l = &lists[level];
    l->n = 0;
    pci_for_each_on_bus(bus, collect_bridge, l);
    for (int i = 0; i < l->n; i++) {
        struct pci_dev *b = &l->d[i];
        uint8_t sec = pci_read8(b, PCI_SECONDARY_BUS);
        if (sec > bus && level < 7)
            clear_buses(sec, level + 1);
        pci_write32(b, PCI_PRIMARY_BUS, pci_read32(b, PCI_PRIMARY_BUS) & 0xFF000000u);
    }
}

static uint8_t last_bus;

/* Depth-first numbering, as firmware does: each bridge gets the next bus
 * number, its subordinate number is the last one used below it. */
static void number_buses(uint8_t bus, int level)
{
    static struct dev_list lists[8];
    struct dev_list *l = &lists[level];
    l->n = 0;
    pci_for_each_on_bus(bus, collect_bridge, l);
    for (int i = 0; i < l->n && last_bus < 0xFF; i++) {
        struct pci_dev *b = &l->d[i];
        uint8_t sec = ++last_bus;
        uint32_t v = pci_read32(b, PCI_PRIMARY_BUS) & 0xFF000000u;
        pci_write32(b, PCI_PRIMARY_BUS, v | 0xFFu << 16 | (uint32_t)sec << 8 | bus);
        if (level < 7)
            number_buses(sec, level + 1);
        pci_write8(b, PCI_SUBORDINATE_BUS, last_bus);
    }
}

static int buses_numbered_by_us;

static void setup_buses(void)
{
    int unnumbered = 0;
    pci_for_each(unnumbered_visit, &unnumbered);
    if (!unnumbered && !reassign)
        return;
    clear_buses(0, 0);
    last_bus = 0;
    number_buses(0, 0);
    buses_numbered_by_us = 1;
}

static int window_usable(const struct pci_dev *port, int pref, struct pci_window *w)
{
    return pci_bridge_window(port, pref, w) && w->base + w->size <= 0x100000000ull;
}

/* Clears the memory BARs of a function (decoding off first). */
static void clear_mem_bars(const struct pci_dev *d)
{
    pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) & (uint16_t)~PCI_COMMAND_MEMORY);
    int nbars = d->header_type == 0 ? 6 : 2;
    for (int i = 0; i < nbars; i++) {
        struct pci_bar b;
        if (!pci_bar_info(d, i, &b))
            continue;
        uint8_t reg = (uint8_t)(PCI_BAR0 + 4 * i);
        if (!b.is_io)
            pci_write32(d, reg, 0);
        if (b.is_64) {
            pci_write32(d, (uint8_t)(reg + 4), 0);
            i++;
        }
    }
}

/* Memory BARs of the function on the slot's bus that lie outside both
 * windows (left from before a reassignment) are cleared for reassignment. */
static void sanitize_bars(struct hslot *s, const struct pci_dev *d)
{
    struct pci_window w[2];
    int open[2] = { pci_bridge_window(&s->port, 0, &w[0]), pci_bridge_window(&s->port, 1, &w[1]) };
    int bad = 0;
    for (int i = 0; i < 6; i++) {
        struct pci_bar b;
        if (!pci_bar_info(d, i, &b))
            continue;
        if (b.is_64)
            i++;
        if (b.is_io || b.addr == 0)
            continue;
        int inside = 0;
        for (int k = 0; k < 2; k++)
            if (open[k] && b.addr >= w[k].base && b.addr + b.size <= w[k].base + w[k].size)
                inside = 1;
        if (!inside)
            bad = 1;
    }
    if (bad)
        clear_mem_bars(d);
}

static void print_window(struct hslot *s, const char *what, int pref, int ours)
{
    struct pci_window w;
    if (pci_bridge_window(&s->port, pref, &w))
        printf("slot %d:   %s window %08x-%08x%s (%s)\n", s->index, what, (uint32_t)w.base,
               (uint32_t)(w.base + w.size - 1), w.is_64 ? ", 64-bit" : "", ours ? "assigned by the guest" : "firmware");
    else
        printf("slot %d:   %s window closed\n", s->index, what);
}

/* Windows, the port's own BARs, command register; 0 on success. */
static int setup_port(struct hslot *s)
{
    struct pci_window w;
    int ours[2] = { 0, 0 };
    for (int pref = 0; pref < 2; pref++) {
        if (window_usable(&s->port, pref, &w))
            continue;
        if (s->port.bus != 0) {
            printf("slot %d: port has no usable %s window and is not on bus 0\n", s->index,
                   pref ? "prefetchable" : "memory");
            return -1;
        }
        pci_bridge_set_window(&s->port, pref, 0, 0);     /* closed while placing it */
        uint32_t base = pci_alloc_mmio(s->port.bus, &s->port, -1, WINDOW_SIZE, PCI_MMIO_WINDOW, PCI_MMIO_LIMIT);
        if (!base) {
            printf("slot %d: no free range for a window\n", s->index);
            return -1;
        }
        pci_bridge_set_window(&s->port, pref, base, WINDOW_SIZE);
        ours[pref] = 1;
    }
    /* The port's own BAR (QEMU: the MSI-X table) must not decode at 0 once
     * memory space is on. */
    struct pci_bar b;
    int bar0 = pci_bar_info(&s->port, 0, &b) && !b.is_io;
    if (bar0 && !pci_map_bar(&s->port, 0, &b)) {
        printf("slot %d: cannot assign the port's BAR0\n", s->index);
        return -1;
    }
    pci_enable(&s->port, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    if (verbose) {
        printf("slot %d:   buses primary %u secondary %u subordinate %u (%s)\n", s->index,
               pci_read8(&s->port, PCI_PRIMARY_BUS), pci_read8(&s->port, PCI_SECONDARY_BUS),
               pci_read8(&s->port, PCI_SUBORDINATE_BUS), buses_numbered_by_us ? "numbered by the guest" : "firmware");
        print_window(s, "memory", 0, ours[0]);
        print_window(s, "prefetchable", 1, ours[1]);
        uint8_t iob = pci_read8(&s->port, PCI_IO_BASE), iol = pci_read8(&s->port, PCI_IO_LIMIT);
        printf("slot %d:   I/O base/limit %02x/%02x (%s)\n", s->index, iob, iol,
               (iob & 0xF0) > (iol & 0xF0) ? "closed" : "open");
        if (bar0)
            printf("slot %d:   BAR0 mem%s %u KiB at %08x (%s)\n", s->index, b.is_64 ? "64" : "32",
                   (uint32_t)(b.size >> 10), (uint32_t)b.addr, b.assigned_by_us ? "assigned by the guest" : "firmware");
        printf("slot %d:   command %04x, bridge control %04x\n", s->index, pci_read16(&s->port, PCI_COMMAND),
               pci_read16(&s->port, PCI_BRIDGE_CONTROL));
    }
    return 0;
}

/* Interrupts stay off: MSI and MSI-X disabled, so the port signals INTx. */
static void msi_off(struct hslot *s)
{
    uint8_t msi = pci_find_cap(&s->port, PCI_CAP_ID_MSI, 0);
    uint8_t msix = pci_find_cap(&s->port, PCI_CAP_ID_MSIX, 0);
    uint16_t f_msi = msi ? pci_read16(&s->port, (uint8_t)(msi + PCI_MSI_FLAGS)) : 0;
    uint16_t f_msix = msix ? pci_read16(&s->port, (uint8_t)(msix + PCI_MSI_FLAGS)) : 0;
    if (f_msi & PCI_MSI_FLAGS_ENABLE)
        pci_write16(&s->port, (uint8_t)(msi + PCI_MSI_FLAGS), f_msi & (uint16_t)~PCI_MSI_FLAGS_ENABLE);
    if (f_msix & PCI_MSIX_FLAGS_ENABLE)
        pci_write16(&s->port, (uint8_t)(msix + PCI_MSI_FLAGS), f_msix & (uint16_t)~PCI_MSIX_FLAGS_ENABLE);
    if (verbose) {
        printf("slot %d:   interrupt pin %u line %u; ", s->index, pci_read8(&s->port, PCI_INTERRUPT_PIN),
               pci_read8(&s->port, PCI_INTERRUPT_LINE));
        if (msi)
            printf("MSI cap 0x%02x flags %04x; ", msi, f_msi);
        else
            printf("no MSI cap; ");
        if (msix)
            printf("MSI-X cap 0x%02x flags %04x (%u vectors)\n", msix, f_msix, (f_msix & 0x7FF) + 1);
        else
            printf("no MSI-X cap\n");
    }
}

/* ---- finding the slots ---------------------------------------------------- */

static int slot_visit(const struct pci_dev *d, void *p)
{
    (void)p;
    if (d->header_type != 1 || nslots >= MAX_SLOTS)
        return 0;
    uint8_t cap = pci_find_cap(d, PCI_CAP_ID_EXP, 0);
    if (!cap)
        return 0;
    uint16_t flags = pci_read16(d, (uint8_t)(cap + PCI_EXP_FLAGS));
    int type = PCI_EXP_FLAGS_TYPE(flags);
    if ((type != PCI_EXP_TYPE_ROOT_PORT && type != PCI_EXP_TYPE_DOWNSTREAM) || !(flags & PCI_EXP_FLAGS_SLOT))
        return 0;
    uint32_t sltcap = pci_read32(d, (uint8_t)(cap + PCI_EXP_SLTCAP));
    if (!(sltcap & PCI_EXP_SLTCAP_HPC))
        return 0;
    struct hslot *s = &slots[nslots];
    s->index = nslots++;
    s->port = *d;
    s->cap = cap;
    s->sltcap = sltcap;
    s->lnkcap = pci_read32(d, (uint8_t)(cap + PCI_EXP_LNKCAP));
    s->blk = &blks[s->index];
    s->bg_buf = bg_bufs[s->index];
    return 0;
}

/* ---- the device in a slot ------------------------------------------------- */

static int read_sync(struct hslot *s, uint32_t sector, uint8_t *buf, uint32_t count)
{
    vblk_req_init(&sync_req, VIRTIO_BLK_T_IN, sector);
    for (uint32_t off = 0; off < count * SECTOR; off += 4096)
        vblk_req_add(&sync_req, buf + off, count * SECTOR - off < 4096 ? count * SECTOR - off : 4096);
    return vblk_do(s->blk, &sync_req, 0, VBLK_SUBMIT_DIRECT);
}

static void bg_submit(struct hslot *s, int i)
{
    struct bg_read *r = &s->bg[i];
    uint32_t n = BG_SECTORS;
    if (n > range_sectors - s->bg_next)
        n = range_sectors - s->bg_next;
    r->sector = range_start + s->bg_next;
    r->count = n;
    s->bg_next = (s->bg_next + n) % range_sectors;
    vblk_req_init(&r->req, VIRTIO_BLK_T_IN, r->sector);
    vblk_req_add(&r->req, s->bg_buf[i], n * SECTOR);
    if (vblk_submit(s->blk, &r->req, 0, VBLK_SUBMIT_DIRECT) == 0)
        r->inflight = 1;
}

static void bg_complete(struct hslot *s, struct bg_read *r, int i)
{
    r->inflight = 0;
    s->bg_done++;
    if (r->req.status != VIRTIO_BLK_S_OK)
        s->bg_failed++;
    else if (have_seed)
        s->bg_mismatched += pattern_mismatches(s->bg_buf[i], r->sector, r->count, NULL);
}

/* Keeps 'depth' reads in flight over the range while the slot is active. */
static void bg_service(struct hslot *s)
{
    if (s->state != SLOT_ACTIVE || !s->is_blk || !busy)
        return;
    vblk_poll(s->blk);
    int submitted = 0;
    for (uint32_t i = 0; i < depth; i++) {
        struct bg_read *r = &s->bg[i];
        if (r->inflight && r->req.done)
            bg_complete(s, r, (int)i);
        if (!r->inflight && !s->stopping) {
            bg_submit(s, (int)i);
            submitted = 1;
        }
    }
    if (submitted)
        vblk_kick(s->blk);
}

/* Stop submitting, wait for what is in flight, reset the device (it stops
 * using guest memory) and turn its decoding and bus mastering off. */
static void quiesce(struct hslot *s)
{
    s->stopping = 1;
    if (s->is_blk) {
        for (uint32_t i = 0; i < depth; i++) {
            struct bg_read *r = &s->bg[i];
            if (!r->inflight)
                continue;
            if (vblk_wait(s->blk, &r->req) < 0) {
                printf("slot %d: a read in flight never completed\n", s->index);
                failures++;
            }
            bg_complete(s, r, (int)i);
        }
        if (virtio_reset(&s->blk->vp) < 0) {
            printf("slot %d: virtio reset did not complete\n", s->index);
            failures++;
        }
        if (s->bg_failed || s->bg_mismatched) {
            printf("slot %d: %u background reads failed, %u sectors read differed from the pattern\n", s->index,
                   s->bg_failed, s->bg_mismatched);
            failures++;
        }
        if (verbose)
            printf("slot %d:   quiesced after %u background reads\n", s->index, s->bg_done);
    }
    pci_write16(&s->dev, PCI_COMMAND,
                pci_read16(&s->dev, PCI_COMMAND) &
                    (uint16_t)~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
}

static void attach_blk(struct hslot *s)
{
    struct vblk *b = s->blk;
    uint32_t bars_before[6];
    for (int i = 0; i < 6; i++)
        bars_before[i] = pci_read32(&s->dev, (uint8_t)(PCI_BAR0 + 4 * i));
    if (vblk_init(b, &s->dev, VBLK_WANTED_FEATURES) < 0) {
        printf("slot %d: virtio-blk: %s\n", s->index, vblk_error);
        failures++;
        return;
    }
    /* Polled: the function's INTx stays quiet (the port's is what counts). */
    pci_enable(&s->dev, PCI_COMMAND_INTX_DISABLE);
    s->is_blk = 1;
    printf("slot %d: virtio-blk inserted, capacity %s sectors\n", s->index, u64str(b->capacity));
    if (verbose) {
        for (int i = 0; i < 6; i++) {
            struct pci_bar bar;
            if (!pci_bar_info(&s->dev, i, &bar))
                continue;
            printf("slot %d:   device BAR%d %s%s %u KiB at %08x (%s)\n", s->index, i,
                   bar.is_io ? "io" : bar.is_64 ? "mem64" : "mem32", bar.prefetchable ? " prefetchable" : "",
                   (uint32_t)(bar.size >> 10), (uint32_t)bar.addr,
                   pci_read32(&s->dev, (uint8_t)(PCI_BAR0 + 4 * i)) != bars_before[i] ? "assigned by the guest"
                                                                                     : "as found");
            if (bar.is_64)
                i++;
        }
        printf("slot %d:   device command %04x, interrupt pin %u\n", s->index, pci_read16(&s->dev, PCI_COMMAND),
               pci_read8(&s->dev, PCI_INTERRUPT_PIN));
    }
    s->unit = 1;
    if (b->blk_size > SECTOR && !(b->blk_size & (b->blk_size - 1)) && b->blk_size <= 8 * SECTOR)
        s->unit = b->blk_size / SECTOR;
    if ((uint64_t)range_start + range_sectors > b->capacity || range_start % s->unit || range_sectors % s->unit) {
        printf("slot %d: range %u+%u does not fit the disk in whole blocks\n", s->index, range_start, range_sectors);
        failures++;
        s->is_blk = 0;      /* nothing to read; still serviced as a device */
        return;
    }

    uint32_t hash = FNV_OFFSET, bad = 0, first_bad = 0;
    for (uint32_t done = 0; done < range_sectors;) {
        uint32_t n = range_sectors - done < CHUNK_SECTORS ? range_sectors - done : CHUNK_SECTORS;
        int status = read_sync(s, range_start + done, chunk_buf, n);
        if (status != VIRTIO_BLK_S_OK) {
            printf("slot %d: read of sector %u failed (status %d)\n", s->index, range_start + done, status);
            failures++;
            return;
        }
        hash = fnv1a(hash, chunk_buf, n * SECTOR);
        if (have_seed) {
            uint32_t fb = 0, nb = pattern_mismatches(chunk_buf, range_start + done, n, &fb);
            if (nb && !bad)
                first_bad = fb;
            bad += nb;
        }
        done += n;
    }
    printf("slot %d: checksum %u-%u = 0x%08x\n", s->index, range_start, range_start + range_sectors - 1, hash);
    if (have_seed) {
        if (bad) {
            printf("slot %d: %u sectors differ from the pattern for seed %u, the first is sector %u\n", s->index, bad,
                   seed, first_bad);
            failures++;
        } else {
            printf("slot %d: data matches the pattern for seed %u\n", s->index, seed);
        }
    }
    s->stopping = 0;
    s->bg_next = 0;
    s->bg_failed = s->bg_mismatched = s->bg_done = 0;
    memset(s->bg, 0, sizeof s->bg);
}

static void power_off(struct hslot *s)
{
    slot_command(s, PCI_EXP_SLTCTL_PCC | PCI_EXP_SLTCTL_PIC | PCI_EXP_SLTCTL_AIC,
                 PCI_EXP_SLTCTL_PCC | PCI_EXP_SLTCTL_PIC_OFF | PCI_EXP_SLTCTL_AIC_OFF);
}

/* Presence detected: power on, wait for the link and the function, use it. */
static void insert(struct hslot *s)
{
    struct pci_dev d = { .bus = s->secondary, .slot = 0, .func = 0 };
    if (verbose)
        printf("slot %d:   before power on: SLTCTL %04x SLTSTA %04x LNKSTA %04x, function 0 vendor reads %04x\n",
               s->index, slot_control(s), slot_status(s), link_status(s), pci_read16(&d, PCI_VENDOR_ID));
    slot_command(s, PCI_EXP_SLTCTL_PCC | PCI_EXP_SLTCTL_PIC, PCI_EXP_SLTCTL_PIC_ON);

    if (s->lnkcap & PCI_EXP_LNKCAP_DLLLARC) {
        uint32_t i = 0;
        while (!(link_status(s) & PCI_EXP_LNKSTA_DLLLA) && ++i < SPIN_LIMIT)
            ;
        if (i == SPIN_LIMIT) {
            printf("slot %d: link did not come up after power on\n", s->index);
            failures++;
            power_off(s);
            s->state = SLOT_EMPTY;
            count_event();
            return;
        }
    }
    /* The function answers configuration requests once it is ready. */
    uint32_t i = 0;
    uint32_t id;
    while ((id = pci_read32(&d, PCI_VENDOR_ID)) == 0xFFFFFFFFu && ++i < SPIN_LIMIT)
        ;
    if (verbose)
        printf("slot %d:   after power on: SLTCTL %04x SLTSTA %04x LNKSTA %04x, function 0 %04x:%04x\n", s->index,
               slot_control(s), slot_status(s), link_status(s), id & 0xFFFF, id >> 16);
    if (id == 0xFFFFFFFFu) {
        printf("slot %d: no function answers after power on\n", s->index);
        failures++;
        power_off(s);
        s->state = SLOT_EMPTY;
        count_event();
        return;
    }
    d.vendor = (uint16_t)id;
    d.device = (uint16_t)(id >> 16);
    d.header_type = pci_read8(&d, PCI_HEADER_TYPE) & 0x7F;
    s->dev = d;
    s->is_blk = 0;
    s->state = SLOT_ACTIVE;
    count_event();

    int modern = 0;
    if (d.vendor == VIRTIO_PCI_VENDOR &&
        (d.device == VIRTIO_PCI_ID_BLK_MODERN ||
         (d.device == VIRTIO_PCI_ID_BLK_LEGACY && pci_read16(&d, PCI_SUBSYSTEM_ID) == 2)))
        for (uint8_t cap = pci_find_cap(&d, PCI_CAP_ID_VENDOR, 0); cap; cap = pci_find_cap(&d, PCI_CAP_ID_VENDOR, cap))
            if (pci_read8(&d, (uint8_t)(cap + 3)) == VIRTIO_PCI_CAP_COMMON_CFG)
                modern = 1;
    if (!modern) {
        printf("slot %d: device %04x:%04x inserted (no driver)\n", s->index, d.vendor, d.device);
        return;
    }
    sanitize_bars(s, &d);
    attach_blk(s);
}

/* Waits ms milliseconds (PIT) for a second attention button press, keeping
 * the reads going. 1 if it came (then acknowledged). */
static int second_press(struct hslot *s, uint32_t ms)
{
    struct pit_clock c;
    clock_start(&c);
    for (uint32_t t = 0; t < ms; t += clock_ms(&c)) {
        if (slot_status(s) & PCI_EXP_SLTSTA_ABP) {
            slot_ack(s, PCI_EXP_SLTSTA_ABP);
            return 1;
        }
        bg_service(s);
    }
    return 0;
}

/* Attention button on a powered slot: the host asks for the card. */
static void unplug_request(struct hslot *s)
{
    indicators(s, PCI_EXP_SLTCTL_PIC, PCI_EXP_SLTCTL_PIC_BLINK);
    if (button_delay && second_press(s, button_delay)) {
        indicators(s, PCI_EXP_SLTCTL_PIC, PCI_EXP_SLTCTL_PIC_ON);
        printf("slot %d: unplug cancelled\n", s->index);
        count_event();
        return;
    }
    if (refuse) {
        indicators(s, PCI_EXP_SLTCTL_PIC, PCI_EXP_SLTCTL_PIC_ON);
        printf("slot %d: unplug refused\n", s->index);
        count_event();
        return;
    }
    quiesce(s);
    power_off(s);
    s->state = SLOT_OFF;
    s->is_blk = 0;
    printf("slot %d: powered off\n", s->index);
    if (verbose)
        printf("slot %d:   after power off: SLTCTL %04x SLTSTA %04x LNKSTA %04x\n", s->index, slot_control(s),
               slot_status(s), link_status(s));
}

static void gone(struct hslot *s)
{
    if (s->state == SLOT_ACTIVE) {
        /* Surprise removal: nothing left to quiesce on the device. */
        printf("slot %d: card removed while in use\n", s->index);
        s->is_blk = 0;
        power_off(s);
    }
    s->state = SLOT_EMPTY;
    printf("slot %d: empty\n", s->index);
    count_event();
}

static const char *event_names(uint16_t ev)
{
    static char buf[64];
    static const char *const names[9] = { "ABP", "PFD", "MRLSC", "PDC", "CC", "", "", "", "DLLSC" };
    buf[0] = 0;
    size_t n = 0;
    for (int bit = 0; bit < 9; bit++) {
        if (!((ev >> bit) & 1) || !names[bit][0])
            continue;
        size_t l = strlen(names[bit]);
        if (n + l + 2 >= sizeof buf)
            break;
        if (n)
            buf[n++] = ' ';
        memcpy(buf + n, names[bit], l + 1);
        n += l;
    }
    return buf;
}

static void service(struct hslot *s)
{
    uint16_t sta = slot_status(s);
    uint16_t ev = sta & PCI_EXP_SLTSTA_EVENTS;
    if (!ev)
        return;
    int level = verbose ? intx_level(s) : -1;
    slot_ack(s, ev);
    sta = slot_status(s);
    int present = (sta & PCI_EXP_SLTSTA_PDS) != 0;
    if (verbose)
        printf("slot %d:   events %s; SLTSTA now %04x LNKSTA %04x, INTx (IRR) %d before the ack, %d after\n",
               s->index, event_names(ev), sta, link_status(s), level, intx_level(s));

    if (ev & (PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_DLLSC)) {
        if (present && s->state == SLOT_EMPTY) {
            insert(s);
            ev &= (uint16_t)~PCI_EXP_SLTSTA_ABP;    /* QEMU signals a plug as PDC + ABP */
        } else if (!present && s->state != SLOT_EMPTY) {
            gone(s);
        }
    }
    if (ev & PCI_EXP_SLTSTA_ABP) {
        if (s->state == SLOT_ACTIVE)
            unplug_request(s);
        else if (s->state == SLOT_EMPTY && present)
            insert(s);              /* the button asks to power a present card on */
    }
}

/* ---- main ----------------------------------------------------------------- */

int kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    printf("hotplug guest\n");
    uint32_t events = cmdline_uint(mbi, "events", 0);
    range_start = cmdline_uint(mbi, "start", 0);
    range_sectors = cmdline_uint(mbi, "sectors", 64);
    have_seed = cmdline_has(mbi, "seed");
    seed = cmdline_uint(mbi, "seed", 1);
    refuse = cmdline_uint(mbi, "refuse", 0) != 0;
    button_delay = cmdline_uint(mbi, "button_delay", 0);
    busy = cmdline_uint(mbi, "busy", 1) != 0;
    depth = cmdline_uint(mbi, "depth", 4);
    verbose = cmdline_uint(mbi, "verbose", 0) != 0;
    probe = verbose && cmdline_uint(mbi, "probe", 0) != 0;
    uint32_t linger = cmdline_uint(mbi, "linger", 0);
    reassign = cmdline_uint(mbi, "reassign", 0) != 0;
    if (depth < 1 || depth > MAX_DEPTH || range_sectors == 0) {
        printf("depth must be 1..%u and sectors at least 1\nFAIL\n", MAX_DEPTH);
        return 1;
    }

    setup_buses();
    pci_for_each(slot_visit, NULL);
    if (!nslots) {
        printf("no hot-plug capable PCI Express port (e.g. pcie-root-port, 1b36:000c)\nFAIL\n");
        return 1;
    }
    if (reassign) {
        /* Forget the firmware's windows and the ports' BARs (and those of
         * cards behind them, which sanitize_bars will then reassign). */
        for (int i = 0; i < nslots; i++) {
            pci_write16(&slots[i].port, PCI_COMMAND,
                        pci_read16(&slots[i].port, PCI_COMMAND) & (uint16_t)~PCI_COMMAND_MEMORY);
            pci_bridge_set_window(&slots[i].port, 0, 0, 0);
            pci_bridge_set_window(&slots[i].port, 1, 0, 0);
            clear_mem_bars(&slots[i].port);
        }
    }

    for (int i = 0; i < nslots; i++) {
        struct hslot *s = &slots[i];
        s->secondary = pci_read8(&s->port, PCI_SECONDARY_BUS);
        if (verbose) {
            printf("slot %d: port %02x:%02x.%u %04x:%04x class %06x, PCIe type %u, physical slot %u\n", i, s->port.bus,
                   s->port.slot, s->port.func, s->port.vendor, s->port.device,
                   pci_read32(&s->port, PCI_CLASS_REVISION) >> 8,
                   PCI_EXP_FLAGS_TYPE(pci_read16(&s->port, (uint8_t)(s->cap + PCI_EXP_FLAGS))),
                   PCI_EXP_SLTCAP_PSN(s->sltcap));
            printf("slot %d:   at start: SLTCAP %08x SLTCTL %04x SLTSTA %04x LNKCAP %08x LNKSTA %04x\n", i, s->sltcap,
                   slot_control(s), slot_status(s), s->lnkcap, link_status(s));
        }
        if (setup_port(s) < 0) {
            printf("FAIL\n");
            return 1;
        }
        msi_off(s);
        /* Stale events from before: clear them (presence is looked at below). */
        slot_ack(s, slot_status(s) & PCI_EXP_SLTSTA_EVENTS);
        uint16_t enable = PCI_EXP_SLTCTL_PDCE | PCI_EXP_SLTCTL_HPIE;
        if (s->sltcap & PCI_EXP_SLTCAP_ABP)
            enable |= PCI_EXP_SLTCTL_ABPE;
        if (!(s->sltcap & PCI_EXP_SLTCAP_NCCS))
            enable |= PCI_EXP_SLTCTL_CCIE;
        if (s->lnkcap & PCI_EXP_LNKCAP_DLLLARC)
            enable |= PCI_EXP_SLTCTL_DLLSCE;
        slot_command(s, enable, enable);
        if (verbose)
            printf("slot %d:   events enabled: wrote %04x, SLTCTL reads %04x\n", i, enable, slot_control(s));
        if (probe) {
            /* A Slot Control write sets CC; then acknowledge CC together
             * with ABP, which is clear: does CC get cleared? */
            pci_write16(&s->port, (uint8_t)(s->cap + PCI_EXP_SLTCTL), slot_control(s));
            uint16_t a = slot_status(s);
            pci_write16(&s->port, (uint8_t)(s->cap + PCI_EXP_SLTSTA), PCI_EXP_SLTSTA_CC | PCI_EXP_SLTSTA_ABP);
            uint16_t b = slot_status(s);
            slot_ack(s, PCI_EXP_SLTSTA_CC);
            printf("slot %d:   probe: SLTSTA %04x after a Slot Control write, %04x after writing CC|ABP, %04x after "
                   "writing CC\n", i, a, b, slot_status(s));
        }
        int present = (slot_status(s) & PCI_EXP_SLTSTA_PDS) != 0;
        printf("slot %d: PCI Express hot-plug slot, %s\n", i, present ? "occupied" : "empty");
    }
    /* Cards present from the start (cold-plugged, or added before now). */
    for (int i = 0; i < nslots; i++)
        if (slot_status(&slots[i]) & PCI_EXP_SLTSTA_PDS)
            insert(&slots[i]);
    printf("waiting for events\n");

    while (!events || handled < events) {
        for (int i = 0; i < nslots; i++) {
            service(&slots[i]);
            bg_service(&slots[i]);
        }
        __asm__ volatile("pause");
    }
    printf(failures ? "FAIL\n" : "PASS\n");
    if (linger)
        delay_ms(linger);
    return failures ? 1 : 0;
}
