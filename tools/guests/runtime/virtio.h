/*
 * Virtio 1.x over PCI (the modern transport, VIRTIO 1.1 section 4.1), split
 * virtqueues (2.6) and a virtio-blk driver (5.2), for guests running with
 * paging off and interrupts off: buffers are passed by their (physical =
 * linear) addresses and completions are found by polling the used rings.
 *
 * Typical use:
 *
 *     struct pci_dev pd;  static struct vblk blk;  static struct vblk_req r;
 *     if (!vblk_find(0, &pd) || vblk_init(&blk, &pd, VBLK_WANTED_FEATURES) < 0) ...
 *     vblk_req_init(&r, VIRTIO_BLK_T_IN, sector);
 *     vblk_req_add(&r, buffer, 4096);
 *     int status = vblk_do(&blk, &r, 0, VBLK_SUBMIT_DIRECT);   // VIRTIO_BLK_S_*
 *
 * or vblk_submit() several requests (on several queues), vblk_kick(), and
 * vblk_wait() / vblk_poll() for them.
 */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include <stdint.h>

#include "pci.h"

#define VIRTIO_PCI_VENDOR         0x1AF4
#define VIRTIO_PCI_ID_BLK_MODERN  0x1042   /* 0x1040 + device type 2 */
#define VIRTIO_PCI_ID_BLK_LEGACY  0x1001   /* transitional */

/* ---- virtio-pci transport -------------------------------------------- */

/* Vendor capability cfg_type values (4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG    3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG    5

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE        1
#define VIRTIO_STATUS_DRIVER             2
#define VIRTIO_STATUS_DRIVER_OK          4
#define VIRTIO_STATUS_FEATURES_OK        8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED             128

/* Transport feature bits (6). */
#define VIRTIO_F_INDIRECT_DESC   28
#define VIRTIO_F_EVENT_IDX       29
#define VIRTIO_F_VERSION_1       32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED     34
#define VIRTIO_F_IN_ORDER        35
#define VIRTIO_F_ORDER_PLATFORM  36
#define VIRTIO_F_SR_IOV          37
#define VIRTIO_F_NOTIFICATION_DATA 38

#define VIRTIO_BIT(n) (1ull << (n))

/* Where one capability points: BAR index, offset and length in that BAR. */
struct virtio_pci_region {
    uint8_t cap;            /* offset of the capability in config space (0: absent) */
    uint8_t bar;
    uint32_t offset, length;
};

struct virtio_pci {
    struct pci_dev pci;
    volatile uint8_t *common, *notify, *isr, *device;
    uint32_t notify_off_multiplier;
    struct virtio_pci_region regions[6];    /* indexed by cfg_type; [0] unused */
    struct pci_bar bars[6];                 /* as found / programmed */
    uint64_t offered, negotiated;
};

/* Locates the capabilities and maps the BARs they use. 0 on success. */
int virtio_pci_init(struct virtio_pci *vp, const struct pci_dev *d);

/*
 * Reset, ACKNOWLEDGE, DRIVER, reads the offered features, writes
 * offered & wanted (VERSION_1 must be offered), sets FEATURES_OK and checks
 * that it stuck. 0 on success; on failure the device is left FAILED.
 */
int virtio_negotiate(struct virtio_pci *vp, uint64_t wanted);
/* Writes status 0 and waits for it to read back 0: the device forgets its
 * queues and features and stops using guest memory. 0, or -1 on timeout. */
int virtio_reset(struct virtio_pci *vp);
void virtio_driver_ok(struct virtio_pci *vp);
void virtio_set_failed(struct virtio_pci *vp);
uint8_t virtio_get_status(struct virtio_pci *vp);
uint16_t virtio_num_queues(struct virtio_pci *vp);      /* common cfg num_queues */
uint16_t virtio_max_queue_size(struct virtio_pci *vp, uint16_t index);
uint8_t virtio_read_isr(struct virtio_pci *vp);          /* reading acknowledges */

/* Device-specific configuration, read so that a field spanning several
 * accesses is consistent (config_generation unchanged around it). */
uint8_t virtio_cfg8(struct virtio_pci *vp, uint32_t off);
uint16_t virtio_cfg16(struct virtio_pci *vp, uint32_t off);
uint32_t virtio_cfg32(struct virtio_pci *vp, uint32_t off);
uint64_t virtio_cfg64(struct virtio_pci *vp, uint32_t off);

static inline int virtio_has(const struct virtio_pci *vp, int bit) { return (vp->negotiated >> bit) & 1; }

/* ---- split virtqueues ------------------------------------------------- */

#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY     1

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

/* Largest queue this driver sets up (the device may offer more). */
#define VIRTQ_MAX_SIZE 256

struct virtq_avail {
    uint16_t flags, idx;
    uint16_t ring[VIRTQ_MAX_SIZE + 1];      /* ring[size] is used_event */
};

struct virtq_used_elem {
    uint32_t id, len;
};

struct virtq_used {
    uint16_t flags, idx;
    struct virtq_used_elem ring[VIRTQ_MAX_SIZE];
    uint16_t avail_event_room;  /* avail_event is at ring[size]: room for size = MAX */
};

struct virtq {
    uint16_t index, size;
    volatile uint16_t *notify_addr;
    volatile struct virtq_desc *desc;
    volatile struct virtq_avail *avail;
    volatile struct virtq_used *used;
    uint16_t free_head, num_free;
    uint16_t avail_idx;         /* next avail->idx to publish */
    uint16_t kicked_idx;        /* avail->idx at the last notification decision */
    uint16_t last_used;         /* used->idx already consumed */
    uint32_t notifications;     /* queue notifications actually written */
    void *cookie[VIRTQ_MAX_SIZE];   /* per chain head: the caller's token */
};

/*
 * Sets up queue 'index' with at most max_size entries (a power of two; the
 * device's maximum is used if smaller) in the caller's memory: 'mem' must be
 * 4096-byte aligned and VIRTQ_MEM_SIZE bytes long. Returns 0 on success.
 */
#define VIRTQ_MEM_SIZE (3 * 4096)
int virtq_setup(struct virtio_pci *vp, struct virtq *q, uint16_t index, uint16_t max_size, void *mem);

/* ---- virtio-blk ------------------------------------------------------- */

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX     1
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_GEOMETRY     4
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_TOPOLOGY     10
#define VIRTIO_BLK_F_CONFIG_WCE   11
#define VIRTIO_BLK_F_MQ           12
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* What vblk_init negotiates by default: everything this driver understands. */
#define VBLK_WANTED_FEATURES                                                        \
    (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |          \
     VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) |           \
     VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_RO) |               \
     VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |           \
     VIRTIO_BIT(VIRTIO_BLK_F_MQ) | VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) |               \
     VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES))

/* Name of a feature bit for messages ("VERSION_1", "FLUSH", ...), or NULL. */
const char *vblk_feature_name(int bit);

/* Request types and status values (5.2.6). */
#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1

/* "IN", "OUT", ... for messages; "UNKNOWN" for other types. */
const char *vblk_type_name(uint32_t type);

struct virtio_blk_outhdr {
    uint32_t type, reserved;
    uint64_t sector;
};

struct virtio_blk_discard_write_zeroes {
    uint64_t sector;
    uint32_t num_sectors, flags;
};

/* Device configuration offsets (struct virtio_blk_config). */
#define VBLK_CFG_CAPACITY          0x00
#define VBLK_CFG_SIZE_MAX          0x08
#define VBLK_CFG_SEG_MAX           0x0C
#define VBLK_CFG_BLK_SIZE          0x14
#define VBLK_CFG_NUM_QUEUES        0x22
#define VBLK_CFG_MAX_DISCARD_SECTORS 0x24
#define VBLK_CFG_MAX_DISCARD_SEG     0x28
#define VBLK_CFG_DISCARD_ALIGNMENT   0x2C
#define VBLK_CFG_MAX_WZ_SECTORS      0x30
#define VBLK_CFG_MAX_WZ_SEG          0x34
#define VBLK_CFG_WZ_MAY_UNMAP        0x38

#define VBLK_MAX_QUEUES 4
#define VBLK_MAX_SEGS   16      /* data buffers per request */

/*
 * One request: header, data segments, status byte and room for an indirect
 * table. It must stay in place (and untouched) from vblk_submit until it is
 * done.
 */
struct vblk_req {
    struct virtq_desc indirect[VBLK_MAX_SEGS + 2];  /* first: 16-byte aligned */
    struct virtio_blk_outhdr hdr;
    struct { uint32_t addr, len; } seg[VBLK_MAX_SEGS];
    int nseg;
    volatile uint8_t status;
    volatile uint8_t done;
    uint8_t used_indirect;      /* how it was submitted */
    uint8_t queue;
    uint16_t head;
    uint32_t used_len;          /* bytes the device reported writing */
} __attribute__((aligned(16)));

struct vblk {
    /* The rings, page-aligned: a static struct vblk costs nothing to guests
     * that do not use the driver. */
    uint8_t queue_mem[VBLK_MAX_QUEUES][VIRTQ_MEM_SIZE] __attribute__((aligned(4096)));
    struct virtio_pci vp;
    struct virtq q[VBLK_MAX_QUEUES];
    int nqueues;
    /* configuration, 0 where the feature is absent */
    uint64_t capacity;                      /* 512-byte sectors */
    uint32_t size_max, seg_max, blk_size;
    uint16_t num_queues;                    /* device's config (MQ) */
    uint32_t max_discard_sectors, max_discard_seg, discard_sector_alignment;
    uint32_t max_write_zeroes_sectors, max_write_zeroes_seg;
    uint8_t write_zeroes_may_unmap;
    uint32_t direct_submits, indirect_submits;
};

/* The index-th virtio-blk PCI function (modern 0x1042 or transitional
 * 0x1001 with the modern capabilities). 1 if found. */
int vblk_find(int index, struct pci_dev *out);

/*
 * Brings the device up: transport, features (offered & wanted), the
 * configuration, min(num_queues, VBLK_MAX_QUEUES) queues, DRIVER_OK.
 * Returns 0, or a negative value after printing nothing (see vblk_error).
 */
int vblk_init(struct vblk *b, const struct pci_dev *d, uint64_t wanted);
extern const char *vblk_error;  /* why vblk_init failed */

void vblk_req_init(struct vblk_req *r, uint32_t type, uint64_t sector);
/* Appends a data buffer; returns 0, or -1 if VBLK_MAX_SEGS are in use. */
int vblk_req_add(struct vblk_req *r, void *buf, uint32_t len);

#define VBLK_SUBMIT_DIRECT   0
#define VBLK_SUBMIT_INDIRECT 1  /* needs VIRTIO_F_INDIRECT_DESC */

/*
 * Puts the request on queue 'queue' (not yet notified: see vblk_kick).
 * Returns 0, -1 if the queue lacks free descriptors right now (poll and
 * retry), -2 if the request can never fit (too many segments, no indirect).
 */
int vblk_submit(struct vblk *b, struct vblk_req *r, int queue, int how);
/* Notifies the device about new requests on every queue, honouring
 * VIRTQ_USED_F_NO_NOTIFY or, with EVENT_IDX, avail_event. */
void vblk_kick(struct vblk *b);
/* Collects completions from every queue; returns how many. */
int vblk_poll(struct vblk *b);
/* Polls until r is done or about 2^28 polls pass; returns its status, or -1
 * on timeout. */
int vblk_wait(struct vblk *b, struct vblk_req *r);
/* submit + kick + wait (retrying while the queue is full). */
int vblk_do(struct vblk *b, struct vblk_req *r, int queue, int how);

#endif
