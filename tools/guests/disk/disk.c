/*
 * disk: drives a virtio-blk-pci disk (modern transport) through the
 * runtime's driver (runtime/pci.c, runtime/virtio.c), polling with
 * interrupts off.
 *
 * Command line (all optional; see README.md):
 *   mode=verify|write|read|loop   what to do (default verify)
 *   start=S sectors=N             the range, in 512-byte sectors (0, 2048)
 *   seed=K                        selects the data pattern (1)
 *   depth=D                       requests in flight, 1..16 (8)
 *   verbose=1                     also print the device's PCI layout
 *   unassign=1|2                  first clear the device's memory BARs (1) or
 *                                 move them above 4 GiB (2), so that the
 *                                 driver has to assign them itself
 *
 * Every sector of the pattern is a function of (seed, sector number), so a
 * later run (another boot, after migration, or the host looking at the
 * image) can check it. The checksum is FNV-1a over the bytes of the range
 * in sector order. Nothing printed depends on addresses or timing.
 */
#include "rt.h"
#include "pattern.h"
#include "virtio.h"

#define SECTOR 512u
#define MAX_DEPTH 16
#define MAX_REQ_SECTORS 64
#define ZONE_SECTORS 72         /* discard / write-zeroes test region */

struct slot {
    struct vblk_req req;
    uint64_t sector;
    uint32_t count;
    uint8_t buf[MAX_REQ_SECTORS * SECTOR] __attribute__((aligned(4096)));
};

static struct vblk blk;
static struct slot slots[MAX_DEPTH];
static struct vblk_req misc_req;
static uint8_t misc_buf[8 * SECTOR] __attribute__((aligned(4096)));
static uint8_t expect_buf[MAX_REQ_SECTORS * SECTOR] __attribute__((aligned(16)));

static uint32_t depth = 8;
static uint32_t unit = 1;           /* sectors per logical block */
static int failures;

/* ---- output helpers --------------------------------------------------- */

static void request_failed(uint32_t type, uint64_t sector, int status)
{
    if (status < 0)
        printf("request %s sector %s timed out\n", vblk_type_name(type), u64str(sector));
    else
        printf("request %s sector %s failed status %d\n", vblk_type_name(type), u64str(sector), status);
}

/* ---- command line ----------------------------------------------------- */

static int is_space(char c) { return c == ' ' || c == '\t'; }

/* Copies the value of "key=WORD" into out (size n); 1 if present. */
static int cmdline_word(const struct multiboot_info *mbi, const char *key, char *out, size_t n)
{
    if (!(mbi->flags & MBI_FLAG_CMDLINE) || !mbi->cmdline)
        return 0;
    const char *p = (const char *)(uintptr_t)mbi->cmdline;
    size_t klen = strlen(key);
    while (*p) {
        while (is_space(*p))
            p++;
        if (!strncmp(p, key, klen) && p[klen] == '=') {
            const char *q = p + klen + 1;
            size_t i = 0;
            while (*q && !is_space(*q) && i + 1 < n)
                out[i++] = *q++;
            out[i] = 0;
            return 1;
        }
        while (*p && !is_space(*p))
            p++;
    }
    return 0;
}

/* ---- pattern and checksum --------------------------------------------- */

static void pattern_fill(uint8_t *buf, uint64_t sector, uint32_t count, uint32_t seed)
{
    for (uint32_t i = 0; i < count; i++)
        pattern_sector((uint32_t *)(buf + i * SECTOR), sector + i, seed);
}

/* ---- request building ------------------------------------------------- */

/* Splits count sectors of buf into data descriptors: 4 KiB pieces for big
 * requests, 1 KiB for small ones, so multi-descriptor chains are common. */
static void add_segments(struct vblk_req *r, uint8_t *buf, uint32_t count)
{
    uint32_t bytes = count * SECTOR;
    uint32_t piece = count > 8 ? 4096 : 1024;
    if (blk.size_max && piece > blk.size_max)
        piece = blk.size_max & ~(SECTOR - 1);
    if (piece < SECTOR * unit)
        piece = SECTOR * unit;
    /* Chains, indirect ones included, may not be longer than the queue. */
    uint32_t limit = VBLK_MAX_SEGS;
    if (blk.seg_max && blk.seg_max < limit)
        limit = blk.seg_max;
    if ((uint32_t)blk.q[0].size - 2 < limit)
        limit = (uint32_t)blk.q[0].size - 2;
    /* Too many pieces: the last one takes the rest (only with odd limits). */
    for (uint32_t off = 0; off < bytes; off += piece) {
        if ((uint32_t)r->nseg + 1 == limit || bytes - off < piece)
            piece = bytes - off;
        vblk_req_add(r, buf + off, piece);
    }
}

static int can_indirect(void) { return virtio_has(&blk.vp, VIRTIO_F_INDIRECT_DESC); }

/* A single request, synchronously, on queue 0 (direct). */
static int simple_request(uint32_t type, uint64_t sector, uint8_t *buf, uint32_t count)
{
    vblk_req_init(&misc_req, type, sector);
    if (buf && count)
        add_segments(&misc_req, buf, count);
    return vblk_do(&blk, &misc_req, 0, VBLK_SUBMIT_DIRECT);
}

static int range_request(uint32_t type, uint64_t sector, uint32_t count, uint32_t flags)
{
    static struct virtio_blk_discard_write_zeroes range __attribute__((aligned(16)));
    range.sector = sector;
    range.num_sectors = count;
    range.flags = flags;
    vblk_req_init(&misc_req, type, 0);
    vblk_req_add(&misc_req, &range, sizeof range);
    return vblk_do(&blk, &misc_req, 0, can_indirect() ? VBLK_SUBMIT_INDIRECT : VBLK_SUBMIT_DIRECT);
}

/* ---- streaming a range ------------------------------------------------ */

static const uint32_t write_sizes[] = { 1, 8, 64, 1, 64, 8 };
static const uint32_t read_sizes[] = { 64, 8, 1, 8, 64, 1, 64 };
#define N_WRITE_SIZES ((int)(sizeof write_sizes / sizeof write_sizes[0]))
#define N_READ_SIZES ((int)(sizeof read_sizes / sizeof read_sizes[0]))

struct pass_result {
    uint32_t requests, direct, indirect;
    uint32_t mismatched;            /* sectors that differ from the pattern */
    uint64_t first_bad;
    uint32_t hash;
    int failed;                     /* a request failed or timed out */
};

/*
 * Writes (the pattern for seed) or reads (checking it) [first, first+count)
 * with up to 'depth' requests in flight over all queues, request sizes
 * cycling through sizes[] and alternating between direct chains and
 * indirect tables. Requests complete in any order, but are retired oldest
 * first so that the hash sees the range in sector order.
 */
static void stream(int write, uint64_t first, uint64_t count, const uint32_t *sizes, int nsizes, uint32_t seed,
                   int check, struct pass_result *res)
{
    uint32_t type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
    uint64_t next = first, end = first + count;
    uint32_t head = 0, inflight = 0, reqno = 0;
    memset(res, 0, sizeof *res);
    res->hash = FNV_OFFSET;

    while (next < end || inflight) {
        while (next < end && inflight < depth) {
            struct slot *s = &slots[(head + inflight) % depth];
            uint32_t n = sizes[reqno % (uint32_t)nsizes] * unit;
            if (n > MAX_REQ_SECTORS)
                n = MAX_REQ_SECTORS;    /* big logical blocks: fewer sizes */
            if (n > end - next)
                n = (uint32_t)(end - next);
            int how = can_indirect() && (reqno & 1) ? VBLK_SUBMIT_INDIRECT : VBLK_SUBMIT_DIRECT;
            vblk_req_init(&s->req, type, next);
            add_segments(&s->req, s->buf, n);
            if (write)
                pattern_fill(s->buf, next, n, seed);
            int rc = vblk_submit(&blk, &s->req, (int)(reqno % (uint32_t)blk.nqueues), how);
            if (rc == -1 && inflight)
                break;                  /* ring full: retire the oldest first */
            if (rc < 0) {
                printf("request %s sector %s cannot be submitted (%d)\n", vblk_type_name(type), u64str(next), rc);
                res->failed = 1;
                return;
            }
            if (write)
                res->hash = fnv1a(res->hash, s->buf, n * SECTOR);
            s->sector = next;
            s->count = n;
            if (s->req.used_indirect)
                res->indirect++;
            else
                res->direct++;
            res->requests++;
            inflight++;
            next += n;
            reqno++;
        }
        vblk_kick(&blk);

        struct slot *s = &slots[head];
        int status = vblk_wait(&blk, &s->req);
        if (status != VIRTIO_BLK_S_OK) {
            request_failed(type, s->sector, status);
            res->failed = 1;
            if (status < 0)
                return;                 /* the device may still own the buffers */
        } else if (!write) {
            res->hash = fnv1a(res->hash, s->buf, s->count * SECTOR);
            for (uint32_t i = 0; check && i < s->count; i++) {
                pattern_sector((uint32_t *)expect_buf, s->sector + i, seed);
                if (memcmp(expect_buf, s->buf + i * SECTOR, SECTOR)) {
                    if (!res->mismatched++)
                        res->first_bad = s->sector + i;
                }
            }
        }
        head = (head + 1) % depth;
        inflight--;
    }
}

static void print_pass(const char *what, uint64_t count, const struct pass_result *r)
{
    printf("%s: %s sectors in %u requests (%u direct, %u indirect)", what, u64str(count), r->requests, r->direct,
           r->indirect);
    if (r->failed)
        printf(", FAILED\n");
    else
        printf("\n");
}

static int flush(void)
{
    if (!virtio_has(&blk.vp, VIRTIO_BLK_F_FLUSH))
        return 0;
    int status = simple_request(VIRTIO_BLK_T_FLUSH, 0, NULL, 0);
    if (status != VIRTIO_BLK_S_OK) {
        request_failed(VIRTIO_BLK_T_FLUSH, 0, status);
        return -1;
    }
    return 0;
}

/* ---- device description ----------------------------------------------- */

static void print_features(const char *label, uint64_t f)
{
    printf("virtio-blk: %s", label);
    for (int bit = 0; bit < 64; bit++) {
        if (!((f >> bit) & 1))
            continue;
        const char *name = vblk_feature_name(bit);
        if (name)
            printf(" %s", name);
        else
            printf(" bit%d", bit);
    }
    printf("\n");
}

/* Undo the firmware's BAR assignment, to exercise pci_map_bar's. */
static void unassign_bars(const struct pci_dev *d, int above_4g)
{
    pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) & (uint16_t)~PCI_COMMAND_MEMORY);
    for (int i = 0; i < 6; i++) {
        struct pci_bar b;
        if (!pci_bar_info(d, i, &b))
            continue;
        uint8_t reg = (uint8_t)(PCI_BAR0 + 4 * i);
        if (!b.is_io && !above_4g)
            pci_write32(d, reg, 0);
        if (b.is_64)
            pci_write32(d, (uint8_t)(reg + 4), above_4g ? 1 : 0);
        if (b.is_64)
            i++;
    }
    printf("test: memory BARs %s\n", above_4g ? "moved above 4 GiB (64-bit ones)" : "cleared");
}

/* BAR registers before the driver ran, to tell which ones it assigned. */
static uint32_t bars_before[6];

static void save_bars(const struct pci_dev *d)
{
    for (int i = 0; i < 6; i++)
        bars_before[i] = pci_read32(d, (uint8_t)(PCI_BAR0 + 4 * i));
}

static int bar_changed(const struct pci_dev *d, int i, int is_64)
{
    return pci_read32(d, (uint8_t)(PCI_BAR0 + 4 * i)) != bars_before[i] ||
           (is_64 && pci_read32(d, (uint8_t)(PCI_BAR0 + 4 * i + 4)) != bars_before[i + 1]);
}

static void print_layout(const struct pci_dev *d, uint16_t boot_command, int boot_status)
{
    static const char *const cap_names[] = { "", "common", "notify", "isr", "device", "pci-cfg" };
    struct virtio_pci *vp = &blk.vp;
    printf("pci: command %04x at boot, %04x now, interrupt pin %u line %u, subsystem %04x:%04x, class %06x\n",
           boot_command, pci_read16(d, PCI_COMMAND), pci_read8(d, PCI_INTERRUPT_PIN), pci_read8(d, PCI_INTERRUPT_LINE),
           pci_read16(d, 0x2C), pci_read16(d, PCI_SUBSYSTEM_ID), pci_read32(d, PCI_CLASS_REVISION) >> 8);
    for (int i = 0; i < 6; i++) {
        struct pci_bar b;
        if (!pci_bar_info(d, i, &b))
            continue;
        printf("pci: BAR%d %s%s%s, %u %s, %s\n", i, b.is_io ? "io" : "mem", b.is_64 ? "64" : b.is_io ? "" : "32",
               b.prefetchable ? " prefetchable" : "", b.size < 1024 ? (uint32_t)b.size : (uint32_t)(b.size >> 10),
               b.size < 1024 ? "bytes" : "KiB",
               bar_changed(d, i, b.is_64) ? "assigned by the driver" : b.addr ? "preassigned" : "unassigned");
        if (b.is_64)
            i++;
    }
    for (uint8_t cap = pci_find_cap(d, PCI_CAP_ID_MSIX, 0); cap; cap = 0)
        printf("pci: cap 0x%02x MSI-X, %u vectors\n", cap, (pci_read16(d, (uint8_t)(cap + 2)) & 0x7FF) + 1);
    for (int t = 1; t <= 5; t++) {
        const struct virtio_pci_region *r = &vp->regions[t];
        if (r->cap)
            printf("pci: cap 0x%02x virtio %s: BAR%u offset 0x%x length 0x%x\n", r->cap, cap_names[t], r->bar,
                   r->offset, r->length);
    }
    if (boot_status >= 0)
        printf("virtio: device status %02x before the driver's reset\n", boot_status);
    printf("virtio: notify_off_multiplier %u, common num_queues %u\n", vp->notify_off_multiplier,
           virtio_num_queues(vp));
    for (int i = 0; i < blk.nqueues; i++) {
        struct virtq *q = &blk.q[i];
        printf("virtio: queue %d: notify offset 0x%x\n", i,
               (uint32_t)((const volatile uint8_t *)q->notify_addr - vp->notify));
    }
    printf("virtio: offered 0x%08x%08x\n", (uint32_t)(vp->offered >> 32), (uint32_t)vp->offered);
    print_features("offered", vp->offered);
}

static void print_config(void)
{
    printf("virtio-blk: capacity %s sectors (%u MiB)\n", u64str(blk.capacity), (uint32_t)(blk.capacity >> 11));
    if (virtio_has(&blk.vp, VIRTIO_BLK_F_SIZE_MAX))
        printf("virtio-blk: size_max %u\n", blk.size_max);
    if (virtio_has(&blk.vp, VIRTIO_BLK_F_SEG_MAX))
        printf("virtio-blk: seg_max %u\n", blk.seg_max);
    if (virtio_has(&blk.vp, VIRTIO_BLK_F_BLK_SIZE))
        printf("virtio-blk: blk_size %u\n", blk.blk_size);
    if (virtio_has(&blk.vp, VIRTIO_BLK_F_MQ))
        printf("virtio-blk: num_queues %u\n", blk.num_queues);
    if (virtio_has(&blk.vp, VIRTIO_BLK_F_DISCARD))
        printf("virtio-blk: max_discard_sectors %u, max_discard_seg %u, discard_sector_alignment %u\n",
               blk.max_discard_sectors, blk.max_discard_seg, blk.discard_sector_alignment);
    if (virtio_has(&blk.vp, VIRTIO_BLK_F_WRITE_ZEROES))
        printf("virtio-blk: max_write_zeroes_sectors %u, max_write_zeroes_seg %u, write_zeroes_may_unmap %u\n",
               blk.max_write_zeroes_sectors, blk.max_write_zeroes_seg, blk.write_zeroes_may_unmap);
    printf("virtio-blk: %d queue%s of %u descriptors\n", blk.nqueues, blk.nqueues == 1 ? "" : "s", blk.q[0].size);
}

static void print_serial(void)
{
    static char id[VIRTIO_BLK_ID_BYTES + 1];
    memset(id, 0, sizeof id);
    vblk_req_init(&misc_req, VIRTIO_BLK_T_GET_ID, 0);
    vblk_req_add(&misc_req, id, VIRTIO_BLK_ID_BYTES);
    int status = vblk_do(&blk, &misc_req, 0, VBLK_SUBMIT_DIRECT);
    if (status != VIRTIO_BLK_S_OK) {
        printf("virtio-blk: serial unavailable (status %d)\n", status);
        return;
    }
    /* Up to 20 bytes, NUL-terminated only when shorter. */
    printf("virtio-blk: serial \"");
    for (int i = 0; i < VIRTIO_BLK_ID_BYTES && id[i]; i++) {
        uint8_t c = (uint8_t)id[i];
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\')
            printf("%c", c);
        else
            printf("\\x%02x", c);
    }
    printf("\"\n");
}

/* ---- verify-mode extras ----------------------------------------------- */

static void expect_status(const char *what, int status, int want)
{
    printf("%s: status %d %s\n", what, status, status == want ? "ok" : "MISMATCH");
    if (status != want)
        failures++;
}

/* Requests the device must refuse: beyond the end (IOERR) and an unknown
 * type (UNSUPP). */
static void error_paths(void)
{
    int status = simple_request(VIRTIO_BLK_T_IN, blk.capacity, misc_buf, unit);
    expect_status("read at the capacity (past the end)", status, VIRTIO_BLK_S_IOERR);
    vblk_req_init(&misc_req, 0x20, 0);
    status = vblk_do(&blk, &misc_req, 0, VBLK_SUBMIT_DIRECT);
    expect_status("request of unknown type 0x20", status, VIRTIO_BLK_S_UNSUPP);
}

/* Sectors [from, to) of zone[] (the region starting at zone_start) should
 * read back as zeroes, the rest as the pattern. */
static int zone_matches(uint64_t zone_start, const uint8_t *zone, uint32_t from, uint32_t to, uint32_t seed)
{
    static const uint8_t zero[SECTOR];
    for (uint32_t i = 0; i < ZONE_SECTORS; i++) {
        const uint8_t *want = zero;
        if (i < from || i >= to) {
            pattern_sector((uint32_t *)expect_buf, zone_start + i, seed);
            want = expect_buf;
        }
        if (memcmp(want, zone + i * SECTOR, SECTOR))
            return 0;
    }
    return 1;
}

/*
 * Write-zeroes (with and without the unmap flag) in the middle of a patterned
 * region, read back: zeroes inside, pattern around. Then a discard, whose
 * data afterwards is unspecified, so only its status counts. The main pass
 * overwrites the region afterwards.
 */
static void zero_and_discard(uint64_t start, uint32_t seed)
{
    int have_wz = virtio_has(&blk.vp, VIRTIO_BLK_F_WRITE_ZEROES);
    int have_discard = virtio_has(&blk.vp, VIRTIO_BLK_F_DISCARD);
    if (!have_wz && !have_discard)
        return;

    if (have_wz) {
        static uint8_t zone[ZONE_SECTORS * SECTOR] __attribute__((aligned(4096)));
        pattern_fill(zone, start, ZONE_SECTORS, seed);
        int status = simple_request(VIRTIO_BLK_T_OUT, start, zone, ZONE_SECTORS);
        if (status != VIRTIO_BLK_S_OK) {
            request_failed(VIRTIO_BLK_T_OUT, start, status);
            failures++;
            return;
        }
        /* Multiples of 8 sectors, so 4 KiB logical blocks work too. */
        int s1 = range_request(VIRTIO_BLK_T_WRITE_ZEROES, start + 8, 24, 0);
        int s2 = range_request(VIRTIO_BLK_T_WRITE_ZEROES, start + 32, 32, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
        if (s1 != VIRTIO_BLK_S_OK)
            request_failed(VIRTIO_BLK_T_WRITE_ZEROES, start + 8, s1);
        if (s2 != VIRTIO_BLK_S_OK)
            request_failed(VIRTIO_BLK_T_WRITE_ZEROES, start + 32, s2);
        memset(zone, 0xA5, sizeof zone);
        int s3 = simple_request(VIRTIO_BLK_T_IN, start, zone, ZONE_SECTORS);
        if (s3 != VIRTIO_BLK_S_OK)
            request_failed(VIRTIO_BLK_T_IN, start, s3);
        int ok = s1 == VIRTIO_BLK_S_OK && s2 == VIRTIO_BLK_S_OK && s3 == VIRTIO_BLK_S_OK &&
                 zone_matches(start, zone, 8, 64, seed);
        printf("write-zeroes sectors %s-%s, %s-%s with unmap: %s\n", u64str(start + 8), u64str(start + 31),
               u64str(start + 32), u64str(start + 63),
               ok ? "zeroes read back, neighbours intact" : "MISMATCH");
        if (!ok)
            failures++;
    }

    if (have_discard) {
        /* Keep to the device's granularity. */
        uint32_t align = blk.discard_sector_alignment ? blk.discard_sector_alignment : 1;
        uint64_t from = start, to = start + ZONE_SECTORS;
        if (align & (align - 1))
            align = 1;                  /* not a power of two: do not bother */
        uint32_t mis = (uint32_t)from & (align - 1);
        if (mis)
            from += align - mis;
        to &= ~(uint64_t)(align - 1);
        if (to <= from) {
            printf("discard: region too small for alignment %u, skipped\n", align);
            return;
        }
        uint32_t n = (uint32_t)(to - from);
        if (blk.max_discard_sectors && n > blk.max_discard_sectors)
            n = blk.max_discard_sectors;
        int status = range_request(VIRTIO_BLK_T_DISCARD, from, n, 0);
        printf("discard sectors %s-%s: %s\n", u64str(from), u64str(from + n - 1),
               status == VIRTIO_BLK_S_OK ? "ok" : "FAILED");
        if (status != VIRTIO_BLK_S_OK) {
            request_failed(VIRTIO_BLK_T_DISCARD, from, status);
            failures++;
        }
    }
}

/* ---- main ------------------------------------------------------------- */

enum mode { MODE_VERIFY, MODE_WRITE, MODE_READ, MODE_LOOP };

int kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    printf("disk guest\n");

    char word[16] = "verify";
    cmdline_word(mbi, "mode", word, sizeof word);
    enum mode mode;
    if (!strcmp(word, "verify"))
        mode = MODE_VERIFY;
    else if (!strcmp(word, "write"))
        mode = MODE_WRITE;
    else if (!strcmp(word, "read"))
        mode = MODE_READ;
    else if (!strcmp(word, "loop"))
        mode = MODE_LOOP;
    else {
        printf("unknown mode \"%s\" (verify, write, read or loop)\nFAIL\n", word);
        return 1;
    }
    uint64_t start = cmdline_uint(mbi, "start", 0);
    uint64_t count = cmdline_uint(mbi, "sectors", 2048);
    uint32_t seed = cmdline_uint(mbi, "seed", 1);
    depth = cmdline_uint(mbi, "depth", 8);
    if (depth < 1 || depth > MAX_DEPTH) {
        printf("depth must be 1..%u\nFAIL\n", MAX_DEPTH);
        return 1;
    }
    int verbose = cmdline_uint(mbi, "verbose", 0) != 0;

    struct pci_dev d;
    if (!vblk_find(0, &d)) {
        printf("no virtio-blk PCI device (1af4:1042, or 1af4:1001 with modern capabilities)\nFAIL\n");
        return 1;
    }
    printf("virtio-blk: PCI %02x:%02x.%u %04x:%04x\n", d.bus, d.slot, d.func, d.vendor, d.device);
    uint16_t boot_command = pci_read16(&d, PCI_COMMAND);
    uint32_t unassign = cmdline_uint(mbi, "unassign", 0);
    if (unassign)
        unassign_bars(&d, unassign == 2);
    save_bars(&d);
    /* What the firmware left behind (SeaBIOS drives the disk itself). */
    int boot_status = -1;
    if (verbose && !unassign && virtio_pci_init(&blk.vp, &d) == 0)
        boot_status = virtio_get_status(&blk.vp);
    if (vblk_init(&blk, &d, VBLK_WANTED_FEATURES) < 0) {
        printf("virtio-blk: %s (status %02x)\nFAIL\n", vblk_error, blk.vp.common ? virtio_get_status(&blk.vp) : 0);
        return 1;
    }
    if (verbose)
        print_layout(&d, boot_command, boot_status);
    print_features("negotiated", blk.vp.negotiated);
    print_config();
    print_serial();

    if (blk.blk_size > SECTOR && !(blk.blk_size & (blk.blk_size - 1)) && blk.blk_size <= 8 * SECTOR)
        unit = blk.blk_size / SECTOR;
    if (count == 0 || start + count > blk.capacity || (uint32_t)start % unit || (uint32_t)count % unit) {
        printf("range %s+%s does not fit the disk in whole blocks\nFAIL\n", u64str(start), u64str(count));
        return 1;
    }
    int readonly = virtio_has(&blk.vp, VIRTIO_BLK_F_RO);
    if (readonly && mode != MODE_READ) {
        printf("the disk is read-only; mode=%s writes\nFAIL\n", word);
        return 1;
    }
    printf("mode %s, sectors %s-%s, seed %u\n", word, u64str(start), u64str(start + count - 1), seed);

    struct pass_result w, r;
    if (mode == MODE_LOOP) {
        /* Each pass writes different data, so a copy taken during the
         * run (a block job) is never trivially equal to the previous one. */
        for (uint32_t gen = 0;; gen++) {
            stream(1, start, count, write_sizes, N_WRITE_SIZES, seed + gen * 0x9E3779B9u, 0, &w);
            if (w.failed || flush() < 0) {
                printf("FAIL\n");
                return 1;
            }
            printf("pass %u\n", gen + 1);
        }
    }

    if (mode == MODE_VERIFY) {
        error_paths();
        if (count >= ZONE_SECTORS)
            zero_and_discard(start, seed);
    }

    uint32_t hash = FNV_OFFSET;
    if (mode == MODE_VERIFY || mode == MODE_WRITE) {
        stream(1, start, count, write_sizes, N_WRITE_SIZES, seed, 0, &w);
        print_pass("write", count, &w);
        if (w.failed)
            failures++;
        int fl = flush();
        if (virtio_has(&blk.vp, VIRTIO_BLK_F_FLUSH))
            printf("flush: %s\n", fl < 0 ? "FAILED" : "ok");
        if (fl < 0)
            failures++;
        hash = w.hash;
    }
    if (mode == MODE_VERIFY || mode == MODE_READ) {
        stream(0, start, count, read_sizes, N_READ_SIZES, seed, 1, &r);
        print_pass("read", count, &r);
        if (r.failed)
            failures++;
        if (r.mismatched) {
            printf("%u sectors differ from the pattern, the first is sector %s\n", r.mismatched, u64str(r.first_bad));
            failures++;
        } else if (!r.failed) {
            printf("data matches the pattern\n");
        }
        if (mode == MODE_VERIFY && !r.failed && r.hash != hash) {
            printf("read checksum 0x%08x differs from the written one 0x%08x\n", r.hash, hash);
            failures++;
        }
        hash = r.hash;
    }
    printf("checksum %s-%s = 0x%08x\n", u64str(start), u64str(start + count - 1), hash);
    printf(failures ? "FAIL\n" : "PASS\n");
    return failures ? 1 : 0;
}
