/* Virtio-pci (modern), split virtqueues and virtio-blk (see virtio.h). */
#include "rt.h"
#include "virtio.h"

/* x86 keeps stores in order and loads in order, so between the driver and
 * the device only the compiler needs restraining, except for store -> load
 * (publishing avail->idx, then reading the device's notification
 * suppression), which needs a full fence; LOCK OR is one on every i686. */
#define barrier() __asm__ volatile("" ::: "memory")
static inline void full_fence(void) { __asm__ volatile("lock; orl $0, (%%esp)" ::: "memory", "cc"); }

/* ---- virtio-pci common configuration (4.1.4.3) ----------------------- */

#define COMMON_DFSELECT      0x00
#define COMMON_DF            0x04
#define COMMON_GFSELECT      0x08
#define COMMON_GF            0x0C
#define COMMON_MSIX          0x10
#define COMMON_NUMQ          0x12
#define COMMON_STATUS        0x14
#define COMMON_CFGGENERATION 0x15
#define COMMON_Q_SELECT      0x16
#define COMMON_Q_SIZE        0x18
#define COMMON_Q_MSIX        0x1A
#define COMMON_Q_ENABLE      0x1C
#define COMMON_Q_NOFF        0x1E
#define COMMON_Q_DESCLO      0x20
#define COMMON_Q_DESCHI      0x24
#define COMMON_Q_AVAILLO     0x28
#define COMMON_Q_AVAILHI     0x2C
#define COMMON_Q_USEDLO      0x30
#define COMMON_Q_USEDHI      0x34

#define VIRTIO_MSI_NO_VECTOR 0xFFFF

static inline uint8_t rd8(volatile uint8_t *base, uint32_t off) { return *(volatile uint8_t *)(base + off); }
static inline uint16_t rd16(volatile uint8_t *base, uint32_t off) { return *(volatile uint16_t *)(base + off); }
static inline uint32_t rd32(volatile uint8_t *base, uint32_t off) { return *(volatile uint32_t *)(base + off); }
static inline void wr8(volatile uint8_t *base, uint32_t off, uint8_t v) { *(volatile uint8_t *)(base + off) = v; }
static inline void wr16(volatile uint8_t *base, uint32_t off, uint16_t v) { *(volatile uint16_t *)(base + off) = v; }
static inline void wr32(volatile uint8_t *base, uint32_t off, uint32_t v) { *(volatile uint32_t *)(base + off) = v; }

/* struct virtio_pci_cap: cap_vndr, cap_next, cap_len, cfg_type, bar, id,
 * padding[2], offset, length; the notify capability adds the multiplier. */
#define VCAP_CFG_TYPE 3
#define VCAP_BAR      4
#define VCAP_OFFSET   8
#define VCAP_LENGTH   12
#define VCAP_NOTIFY_MULT 16

int virtio_pci_init(struct virtio_pci *vp, const struct pci_dev *d)
{
    memset(vp, 0, sizeof *vp);
    vp->pci = *d;
    /* The first capability of each type wins (4.1.4: the device may offer
     * alternatives later in the list; a driver uses the first it supports). */
    for (uint8_t cap = pci_find_cap(d, PCI_CAP_ID_VENDOR, 0); cap; cap = pci_find_cap(d, PCI_CAP_ID_VENDOR, cap)) {
        uint8_t type = pci_read8(d, (uint8_t)(cap + VCAP_CFG_TYPE));
        uint8_t bar = pci_read8(d, (uint8_t)(cap + VCAP_BAR));
        if (type < VIRTIO_PCI_CAP_COMMON_CFG || type > VIRTIO_PCI_CAP_PCI_CFG || vp->regions[type].cap || bar > 5)
            continue;
        struct virtio_pci_region *r = &vp->regions[type];
        r->cap = cap;
        r->bar = bar;
        r->offset = pci_read32(d, (uint8_t)(cap + VCAP_OFFSET));
        r->length = pci_read32(d, (uint8_t)(cap + VCAP_LENGTH));
        if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
            vp->notify_off_multiplier = pci_read32(d, (uint8_t)(cap + VCAP_NOTIFY_MULT));
    }
    volatile uint8_t **ptr[5] = { 0, &vp->common, &vp->notify, &vp->isr, &vp->device };
    for (int type = VIRTIO_PCI_CAP_COMMON_CFG; type <= VIRTIO_PCI_CAP_DEVICE_CFG; type++) {
        struct virtio_pci_region *r = &vp->regions[type];
        if (!r->cap) {
            if (type == VIRTIO_PCI_CAP_DEVICE_CFG)
                continue;       /* optional: some device types have no config */
            return -1;
        }
        struct pci_bar *b = &vp->bars[r->bar];
        if (!b->addr && !pci_map_bar(d, r->bar, b))
            return -1;
        if ((uint64_t)r->offset + r->length > b->size)
            return -1;
        *ptr[type] = (volatile uint8_t *)(uintptr_t)(b->addr + r->offset);
    }
    pci_enable(d, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    return 0;
}

uint8_t virtio_get_status(struct virtio_pci *vp) { return rd8(vp->common, COMMON_STATUS); }
static void add_status(struct virtio_pci *vp, uint8_t bits) { wr8(vp->common, COMMON_STATUS, (uint8_t)(virtio_get_status(vp) | bits)); }
void virtio_set_failed(struct virtio_pci *vp) { add_status(vp, VIRTIO_STATUS_FAILED); }
void virtio_driver_ok(struct virtio_pci *vp) { add_status(vp, VIRTIO_STATUS_DRIVER_OK); }
uint16_t virtio_num_queues(struct virtio_pci *vp) { return rd16(vp->common, COMMON_NUMQ); }
uint8_t virtio_read_isr(struct virtio_pci *vp) { return rd8(vp->isr, 0); }

uint16_t virtio_max_queue_size(struct virtio_pci *vp, uint16_t index)
{
    wr16(vp->common, COMMON_Q_SELECT, index);
    return rd16(vp->common, COMMON_Q_SIZE);
}

int virtio_reset(struct virtio_pci *vp)
{
    /* Reset completes when the status reads back 0 (4.1.4.3.2). */
    wr8(vp->common, COMMON_STATUS, 0);
    for (int i = 0; virtio_get_status(vp) != 0; i++)
        if (i > 1000000)
            return -1;
    return 0;
}

int virtio_negotiate(struct virtio_pci *vp, uint64_t wanted)
{
    if (virtio_reset(vp) < 0)
        return -1;
    add_status(vp, VIRTIO_STATUS_ACKNOWLEDGE);
    add_status(vp, VIRTIO_STATUS_DRIVER);

    wr32(vp->common, COMMON_DFSELECT, 0);
    uint32_t lo = rd32(vp->common, COMMON_DF);
    wr32(vp->common, COMMON_DFSELECT, 1);
    uint32_t hi = rd32(vp->common, COMMON_DF);
    vp->offered = (uint64_t)hi << 32 | lo;
    if (!(vp->offered & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
        virtio_set_failed(vp);
        return -1;
    }
    vp->negotiated = vp->offered & wanted;
    wr32(vp->common, COMMON_GFSELECT, 0);
    wr32(vp->common, COMMON_GF, (uint32_t)vp->negotiated);
    wr32(vp->common, COMMON_GFSELECT, 1);
    wr32(vp->common, COMMON_GF, (uint32_t)(vp->negotiated >> 32));

    add_status(vp, VIRTIO_STATUS_FEATURES_OK);
    if (!(virtio_get_status(vp) & VIRTIO_STATUS_FEATURES_OK)) {
        virtio_set_failed(vp);
        return -1;
    }
    return 0;
}

/* Reads repeat until config_generation is the same before and after, so a
 * multi-access field is never torn by a concurrent change (4.1.4.3.1). */
#define CFG_READ(expr)                                                   \
    do {                                                                 \
        uint8_t gen;                                                     \
        do {                                                             \
            gen = rd8(vp->common, COMMON_CFGGENERATION);                 \
            barrier();                                                   \
            v = (expr);                                                  \
            barrier();                                                   \
        } while (gen != rd8(vp->common, COMMON_CFGGENERATION));          \
    } while (0)

uint8_t virtio_cfg8(struct virtio_pci *vp, uint32_t off) { uint8_t v; CFG_READ(rd8(vp->device, off)); return v; }
uint16_t virtio_cfg16(struct virtio_pci *vp, uint32_t off) { uint16_t v; CFG_READ(rd16(vp->device, off)); return v; }
uint32_t virtio_cfg32(struct virtio_pci *vp, uint32_t off) { uint32_t v; CFG_READ(rd32(vp->device, off)); return v; }
uint64_t virtio_cfg64(struct virtio_pci *vp, uint32_t off)
{
    uint64_t v;
    CFG_READ(rd32(vp->device, off) | (uint64_t)rd32(vp->device, off + 4) << 32);
    return v;
}

/* ---- split virtqueues (2.6) ------------------------------------------ */

static volatile uint16_t *used_event(struct virtq *q) { return &q->avail->ring[q->size]; }
static volatile uint16_t *avail_event(struct virtq *q) { return (volatile uint16_t *)&q->used->ring[q->size]; }

int virtq_setup(struct virtio_pci *vp, struct virtq *q, uint16_t index, uint16_t max_size, void *mem)
{
    uint16_t dev_max = virtio_max_queue_size(vp, index);   /* also selects the queue */
    if (dev_max == 0 || rd16(vp->common, COMMON_Q_ENABLE))
        return -1;
    uint16_t size = max_size > VIRTQ_MAX_SIZE ? VIRTQ_MAX_SIZE : max_size;
    if (dev_max < size)
        size = dev_max;
    while (size & (size - 1))       /* split rings may be any size, but keep it a power of two */
        size &= (uint16_t)(size - 1);

    memset(q, 0, sizeof *q);
    memset(mem, 0, VIRTQ_MEM_SIZE);
    q->index = index;
    q->size = size;
    q->desc = (volatile struct virtq_desc *)mem;
    q->avail = (volatile struct virtq_avail *)((uint8_t *)mem + 4096);
    q->used = (volatile struct virtq_used *)((uint8_t *)mem + 8192);
    for (uint16_t i = 0; i < size; i++)
        q->desc[i].next = (uint16_t)(i + 1);
    q->free_head = 0;
    q->num_free = size;

    /* We poll: ask the device not to interrupt (a hint only). With EVENT_IDX
     * the flag is ignored and used_event rules; vblk_poll keeps it behind. */
    q->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    *used_event(q) = 0xFFFF;

    wr16(vp->common, COMMON_Q_SIZE, size);
    wr16(vp->common, COMMON_Q_MSIX, VIRTIO_MSI_NO_VECTOR);
    wr32(vp->common, COMMON_Q_DESCLO, (uint32_t)(uintptr_t)q->desc);
    wr32(vp->common, COMMON_Q_DESCHI, 0);
    wr32(vp->common, COMMON_Q_AVAILLO, (uint32_t)(uintptr_t)q->avail);
    wr32(vp->common, COMMON_Q_AVAILHI, 0);
    wr32(vp->common, COMMON_Q_USEDLO, (uint32_t)(uintptr_t)q->used);
    wr32(vp->common, COMMON_Q_USEDHI, 0);
    uint16_t noff = rd16(vp->common, COMMON_Q_NOFF);
    uint64_t nbyte = (uint64_t)noff * vp->notify_off_multiplier;
    if (nbyte + 2 > vp->regions[VIRTIO_PCI_CAP_NOTIFY_CFG].length)
        return -1;
    q->notify_addr = (volatile uint16_t *)(vp->notify + (uint32_t)nbyte);
    wr16(vp->common, COMMON_Q_ENABLE, 1);
    return 0;
}

static uint16_t alloc_desc(struct virtq *q)
{
    uint16_t i = q->free_head;
    q->free_head = q->desc[i].next;
    q->num_free--;
    return i;
}

/* Returns a chain to the free list, following NEXT from head. */
static void free_chain(struct virtq *q, uint16_t head)
{
    uint16_t i = head;
    q->num_free++;
    while (q->desc[i].flags & VIRTQ_DESC_F_NEXT) {
        i = q->desc[i].next;
        q->num_free++;
    }
    q->desc[i].next = q->free_head;
    q->free_head = head;
}

static void publish(struct virtq *q, uint16_t head)
{
    q->avail->ring[q->avail_idx & (q->size - 1)] = head;
    barrier();                      /* ring entry before the index the device reads */
    q->avail_idx++;
    q->avail->idx = q->avail_idx;
}

/* 2.6.7.2 / 2.6.10.1: notify if new_idx has moved past event since old_idx. */
static int need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

static void virtq_kick(struct virtio_pci *vp, struct virtq *q)
{
    if (q->kicked_idx == q->avail_idx)
        return;
    full_fence();                   /* avail->idx visible before reading the suppression */
    int notify;
    if (virtio_has(vp, VIRTIO_F_EVENT_IDX))
        notify = need_event(*avail_event(q), q->avail_idx, q->kicked_idx);
    else
        notify = !(q->used->flags & VIRTQ_USED_F_NO_NOTIFY);
    q->kicked_idx = q->avail_idx;
    if (notify) {
        *q->notify_addr = q->index;
        q->notifications++;
    }
}

/* ---- virtio-blk ------------------------------------------------------- */

const char *vblk_error = "";

static const char *const feature_names[64] = {
    [VIRTIO_BLK_F_SIZE_MAX] = "SIZE_MAX",
    [VIRTIO_BLK_F_SEG_MAX] = "SEG_MAX",
    [VIRTIO_BLK_F_GEOMETRY] = "GEOMETRY",
    [VIRTIO_BLK_F_RO] = "RO",
    [VIRTIO_BLK_F_BLK_SIZE] = "BLK_SIZE",
    [VIRTIO_BLK_F_FLUSH] = "FLUSH",
    [VIRTIO_BLK_F_TOPOLOGY] = "TOPOLOGY",
    [VIRTIO_BLK_F_CONFIG_WCE] = "CONFIG_WCE",
    [VIRTIO_BLK_F_MQ] = "MQ",
    [VIRTIO_BLK_F_DISCARD] = "DISCARD",
    [VIRTIO_BLK_F_WRITE_ZEROES] = "WRITE_ZEROES",
    [24] = "NOTIFY_ON_EMPTY",
    [27] = "ANY_LAYOUT",
    [VIRTIO_F_INDIRECT_DESC] = "INDIRECT_DESC",
    [VIRTIO_F_EVENT_IDX] = "EVENT_IDX",
    [VIRTIO_F_VERSION_1] = "VERSION_1",
    [VIRTIO_F_ACCESS_PLATFORM] = "ACCESS_PLATFORM",
    [VIRTIO_F_RING_PACKED] = "RING_PACKED",
    [VIRTIO_F_IN_ORDER] = "IN_ORDER",
    [VIRTIO_F_ORDER_PLATFORM] = "ORDER_PLATFORM",
    [VIRTIO_F_SR_IOV] = "SR_IOV",
    [VIRTIO_F_NOTIFICATION_DATA] = "NOTIFICATION_DATA",
    [39] = "NOTIF_CONFIG_DATA",
    [40] = "RING_RESET",
};

const char *vblk_feature_name(int bit) { return bit >= 0 && bit < 64 ? feature_names[bit] : NULL; }

const char *vblk_type_name(uint32_t type)
{
    switch (type) {
    case VIRTIO_BLK_T_IN: return "IN";
    case VIRTIO_BLK_T_OUT: return "OUT";
    case VIRTIO_BLK_T_FLUSH: return "FLUSH";
    case VIRTIO_BLK_T_GET_ID: return "GET_ID";
    case VIRTIO_BLK_T_DISCARD: return "DISCARD";
    case VIRTIO_BLK_T_WRITE_ZEROES: return "WRITE_ZEROES";
    default: return "UNKNOWN";
    }
}

int vblk_find(int index, struct pci_dev *out)
{
    static const uint16_t ids[] = { VIRTIO_PCI_ID_BLK_MODERN, VIRTIO_PCI_ID_BLK_LEGACY };
    /* A transitional device is only usable here through its modern
     * capabilities; those without one (legacy-only) are skipped. */
    for (int i = 0; pci_find(VIRTIO_PCI_VENDOR, ids, 2, i, out); i++) {
        if (out->device == VIRTIO_PCI_ID_BLK_LEGACY && pci_read16(out, PCI_SUBSYSTEM_ID) != 2)
            continue;
        int modern = 0;
        for (uint8_t cap = pci_find_cap(out, PCI_CAP_ID_VENDOR, 0); cap; cap = pci_find_cap(out, PCI_CAP_ID_VENDOR, cap))
            if (pci_read8(out, (uint8_t)(cap + VCAP_CFG_TYPE)) == VIRTIO_PCI_CAP_COMMON_CFG)
                modern = 1;
        if (modern && index-- == 0)
            return 1;
    }
    return 0;
}

int vblk_init(struct vblk *b, const struct pci_dev *d, uint64_t wanted)
{
    memset(b, 0, sizeof *b);
    struct virtio_pci *vp = &b->vp;
    if (virtio_pci_init(vp, d) < 0) {
        vblk_error = "missing virtio-pci capability or unusable BAR";
        return -1;
    }
    if (virtio_negotiate(vp, wanted) < 0) {
        vblk_error = "feature negotiation failed";
        return -1;
    }
    b->capacity = virtio_cfg64(vp, VBLK_CFG_CAPACITY);
    if (virtio_has(vp, VIRTIO_BLK_F_SIZE_MAX))
        b->size_max = virtio_cfg32(vp, VBLK_CFG_SIZE_MAX);
    if (virtio_has(vp, VIRTIO_BLK_F_SEG_MAX))
        b->seg_max = virtio_cfg32(vp, VBLK_CFG_SEG_MAX);
    if (virtio_has(vp, VIRTIO_BLK_F_BLK_SIZE))
        b->blk_size = virtio_cfg32(vp, VBLK_CFG_BLK_SIZE);
    if (virtio_has(vp, VIRTIO_BLK_F_MQ))
        b->num_queues = virtio_cfg16(vp, VBLK_CFG_NUM_QUEUES);
    if (virtio_has(vp, VIRTIO_BLK_F_DISCARD)) {
        b->max_discard_sectors = virtio_cfg32(vp, VBLK_CFG_MAX_DISCARD_SECTORS);
        b->max_discard_seg = virtio_cfg32(vp, VBLK_CFG_MAX_DISCARD_SEG);
        b->discard_sector_alignment = virtio_cfg32(vp, VBLK_CFG_DISCARD_ALIGNMENT);
    }
    if (virtio_has(vp, VIRTIO_BLK_F_WRITE_ZEROES)) {
        b->max_write_zeroes_sectors = virtio_cfg32(vp, VBLK_CFG_MAX_WZ_SECTORS);
        b->max_write_zeroes_seg = virtio_cfg32(vp, VBLK_CFG_MAX_WZ_SEG);
        b->write_zeroes_may_unmap = virtio_cfg8(vp, VBLK_CFG_WZ_MAY_UNMAP);
    }

    int nq = b->num_queues ? b->num_queues : 1;
    if (nq > virtio_num_queues(vp))
        nq = virtio_num_queues(vp);
    if (nq > VBLK_MAX_QUEUES)
        nq = VBLK_MAX_QUEUES;
    for (int i = 0; i < nq; i++) {
        if (virtq_setup(vp, &b->q[i], (uint16_t)i, VIRTQ_MAX_SIZE, b->queue_mem[i]) < 0) {
            vblk_error = "virtqueue setup failed";
            virtio_set_failed(vp);
            return -1;
        }
    }
    b->nqueues = nq;
    virtio_driver_ok(vp);
    if (virtio_get_status(vp) & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED)) {
        vblk_error = "device refused DRIVER_OK";
        return -1;
    }
    return 0;
}

void vblk_req_init(struct vblk_req *r, uint32_t type, uint64_t sector)
{
    r->hdr.type = type;
    r->hdr.reserved = 0;
    r->hdr.sector = sector;
    r->nseg = 0;
    r->status = 0xFF;       /* a device that never writes it is caught */
    r->done = 0;
    r->used_len = 0;
}

int vblk_req_add(struct vblk_req *r, void *buf, uint32_t len)
{
    if (r->nseg >= VBLK_MAX_SEGS)
        return -1;
    r->seg[r->nseg].addr = (uint32_t)(uintptr_t)buf;
    r->seg[r->nseg].len = len;
    r->nseg++;
    return 0;
}

/* Data flows to the device for OUT, DISCARD and WRITE_ZEROES (and unknown
 * types: they are only ever used to provoke UNSUPP). */
static int data_is_written_by_device(uint32_t type)
{
    return type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
}

/* Fills n descriptors header, data..., status, linked by index next. */
static void fill_desc(volatile struct virtq_desc *d, uint16_t first, const uint16_t *next_of, struct vblk_req *r)
{
    uint16_t dflag = data_is_written_by_device(r->hdr.type) ? VIRTQ_DESC_F_WRITE : 0;
    int n = r->nseg + 2;
    for (int i = 0; i < n; i++) {
        volatile struct virtq_desc *e = &d[next_of ? next_of[i] : (uint16_t)(first + i)];
        if (i == 0) {
            e->addr = (uint32_t)(uintptr_t)&r->hdr;
            e->len = sizeof r->hdr;
            e->flags = 0;
        } else if (i == n - 1) {
            e->addr = (uint32_t)(uintptr_t)&r->status;
            e->len = 1;
            e->flags = VIRTQ_DESC_F_WRITE;
        } else {
            e->addr = r->seg[i - 1].addr;
            e->len = r->seg[i - 1].len;
            e->flags = dflag;
        }
        if (i < n - 1) {
            e->flags |= VIRTQ_DESC_F_NEXT;
            e->next = next_of ? next_of[i + 1] : (uint16_t)(first + i + 1);
        } else {
            e->next = 0;
        }
    }
}

int vblk_submit(struct vblk *b, struct vblk_req *r, int queue, int how)
{
    if (queue < 0 || queue >= b->nqueues)
        return -2;
    struct virtq *q = &b->q[queue];
    int n = r->nseg + 2;
    /* Also for indirect tables: no chain may be longer than the queue (2.6.5.3.1). */
    if ((b->seg_max && (uint32_t)r->nseg > b->seg_max) || n > q->size)
        return -2;
    r->queue = (uint8_t)queue;
    r->done = 0;
    barrier();

    uint16_t head;
    if (how == VBLK_SUBMIT_INDIRECT) {
        if (!virtio_has(&b->vp, VIRTIO_F_INDIRECT_DESC))
            return -2;
        if (q->num_free < 1)
            return -1;
        /* The table's own entries are numbered 0..n-1 (2.6.5.3.1). */
        fill_desc(r->indirect, 0, NULL, r);
        head = alloc_desc(q);
        q->desc[head].addr = (uint32_t)(uintptr_t)r->indirect;
        q->desc[head].len = (uint32_t)(n * sizeof(struct virtq_desc));
        q->desc[head].flags = VIRTQ_DESC_F_INDIRECT;
        r->used_indirect = 1;
        b->indirect_submits++;
    } else {
        if (q->num_free < n)
            return -1;
        uint16_t idx[VBLK_MAX_SEGS + 2];
        for (int i = 0; i < n; i++)
            idx[i] = alloc_desc(q);
        fill_desc(q->desc, 0, idx, r);
        head = idx[0];
        r->used_indirect = 0;
        b->direct_submits++;
    }
    r->head = head;
    q->cookie[head] = r;
    barrier();                      /* descriptors before the avail entry */
    publish(q, head);
    return 0;
}

void vblk_kick(struct vblk *b)
{
    for (int i = 0; i < b->nqueues; i++)
        virtq_kick(&b->vp, &b->q[i]);
}

int vblk_poll(struct vblk *b)
{
    int completed = 0;
    for (int i = 0; i < b->nqueues; i++) {
        struct virtq *q = &b->q[i];
        while (q->last_used != q->used->idx) {
            barrier();              /* the index before the entry it covers */
            volatile struct virtq_used_elem *e = &q->used->ring[q->last_used & (q->size - 1)];
            uint32_t id = e->id;
            uint32_t len = e->len;
            q->last_used++;
            if (id >= q->size || !q->cookie[id])
                continue;           /* a bogus id from the device: drop it */
            struct vblk_req *r = q->cookie[id];
            q->cookie[id] = NULL;
            /* An indirect request holds one ring descriptor without NEXT. */
            free_chain(q, (uint16_t)id);
            r->used_len = len;
            barrier();
            r->done = 1;
            completed++;
        }
        /* Keep used_event just behind: no interrupt wanted (we poll). */
        *used_event(q) = (uint16_t)(q->last_used - 1);
    }
    return completed;
}

int vblk_wait(struct vblk *b, struct vblk_req *r)
{
    for (uint32_t spins = 0; !r->done; spins++) {
        if (spins >= (1u << 28))
            return -1;
        if (!vblk_poll(b))
            __asm__ volatile("pause");
    }
    return r->status;
}

int vblk_do(struct vblk *b, struct vblk_req *r, int queue, int how)
{
    int rc;
    for (uint32_t spins = 0; (rc = vblk_submit(b, r, queue, how)) == -1; spins++) {
        if (spins >= (1u << 28))
            return -1;
        vblk_poll(b);
    }
    if (rc < 0)
        return rc;
    vblk_kick(b);
    return vblk_wait(b, r);
}
