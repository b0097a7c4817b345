/*
 * PCI configuration space through configuration mechanism #1 (ports 0xCF8 /
 * 0xCFC), device enumeration and BAR mapping for guests running with paging
 * off (a BAR's physical address is the pointer).
 */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdint.h>

#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA    0xCFC

/* Configuration header offsets (type 0 unless noted). */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_CLASS_REVISION 0x08
#define PCI_HEADER_TYPE    0x0E
#define PCI_BAR0           0x10
#define PCI_PRIMARY_BUS    0x18 /* type 1 (bridge) from here */
#define PCI_SECONDARY_BUS  0x19
#define PCI_SUBORDINATE_BUS 0x1A
#define PCI_IO_BASE        0x1C
#define PCI_IO_LIMIT       0x1D
#define PCI_MEMORY_BASE    0x20 /* bits 15:4 = address bits 31:20 */
#define PCI_MEMORY_LIMIT   0x22
#define PCI_PREF_MEMORY_BASE  0x24 /* bits 3:0 = 1: 64-bit (upper halves below) */
#define PCI_PREF_MEMORY_LIMIT 0x26
#define PCI_PREF_BASE_UPPER32  0x28
#define PCI_PREF_LIMIT_UPPER32 0x2C
#define PCI_BRIDGE_CONTROL 0x3E
#define PCI_SUBSYSTEM_ID   0x2E
#define PCI_CAP_PTR        0x34
#define PCI_INTERRUPT_LINE 0x3C
#define PCI_INTERRUPT_PIN  0x3D

#define PCI_COMMAND_IO     0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_CAP_LIST 0x0010

#define PCI_CAP_ID_MSI     0x05
#define PCI_CAP_ID_VENDOR  0x09
#define PCI_CAP_ID_EXP     0x10
#define PCI_CAP_ID_MSIX    0x11

/* MSI / MSI-X message control (capability + 2): the enable bits. */
#define PCI_MSI_FLAGS       0x02
#define PCI_MSI_FLAGS_ENABLE  0x0001
#define PCI_MSIX_FLAGS_ENABLE 0x8000

/* PCI Express capability (PCIe Base 4.0, 7.5.3): offsets from the capability. */
#define PCI_EXP_FLAGS       0x02
#define PCI_EXP_FLAGS_TYPE(f) (((f) >> 4) & 0xF)   /* device/port type */
#define PCI_EXP_TYPE_ENDPOINT   0x0
#define PCI_EXP_TYPE_ROOT_PORT  0x4
#define PCI_EXP_TYPE_UPSTREAM   0x5
#define PCI_EXP_TYPE_DOWNSTREAM 0x6
#define PCI_EXP_FLAGS_SLOT  0x0100                  /* slot implemented */
#define PCI_EXP_LNKCAP      0x0C
#define PCI_EXP_LNKCAP_DLLLARC 0x00100000           /* DL Link Active reporting capable */
#define PCI_EXP_LNKCTL      0x10
#define PCI_EXP_LNKSTA      0x12
#define PCI_EXP_LNKSTA_DLLLA 0x2000                 /* Data Link Layer link active */
#define PCI_EXP_SLTCAP      0x14
#define PCI_EXP_SLTCAP_ABP  0x00000001  /* attention button present */
#define PCI_EXP_SLTCAP_PCP  0x00000002  /* power controller present */
#define PCI_EXP_SLTCAP_MRLSP 0x00000004 /* MRL sensor present */
#define PCI_EXP_SLTCAP_AIP  0x00000008  /* attention indicator present */
#define PCI_EXP_SLTCAP_PIP  0x00000010  /* power indicator present */
#define PCI_EXP_SLTCAP_HPS  0x00000020  /* hot-plug surprise */
#define PCI_EXP_SLTCAP_HPC  0x00000040  /* hot-plug capable */
#define PCI_EXP_SLTCAP_EIP  0x00020000  /* electromechanical interlock present */
#define PCI_EXP_SLTCAP_NCCS 0x00040000  /* no command completed support */
#define PCI_EXP_SLTCAP_PSN(c) ((c) >> 19) /* physical slot number */
#define PCI_EXP_SLTCTL      0x18
#define PCI_EXP_SLTCTL_ABPE 0x0001      /* attention button pressed enable */
#define PCI_EXP_SLTCTL_PFDE 0x0002      /* power fault detected enable */
#define PCI_EXP_SLTCTL_MRLSCE 0x0004    /* MRL sensor changed enable */
#define PCI_EXP_SLTCTL_PDCE 0x0008      /* presence detect changed enable */
#define PCI_EXP_SLTCTL_CCIE 0x0010      /* command completed interrupt enable */
#define PCI_EXP_SLTCTL_HPIE 0x0020      /* hot-plug interrupt enable */
#define PCI_EXP_SLTCTL_AIC  0x00C0      /* attention indicator control */
#define PCI_EXP_SLTCTL_AIC_ON    0x0040
#define PCI_EXP_SLTCTL_AIC_BLINK 0x0080
#define PCI_EXP_SLTCTL_AIC_OFF   0x00C0
#define PCI_EXP_SLTCTL_PIC  0x0300      /* power indicator control */
#define PCI_EXP_SLTCTL_PIC_ON    0x0100
#define PCI_EXP_SLTCTL_PIC_BLINK 0x0200
#define PCI_EXP_SLTCTL_PIC_OFF   0x0300
#define PCI_EXP_SLTCTL_PCC  0x0400      /* power controller control: 1 = off */
#define PCI_EXP_SLTCTL_EIC  0x0800      /* electromechanical interlock control */
#define PCI_EXP_SLTCTL_DLLSCE 0x1000    /* DLL state changed enable */
#define PCI_EXP_SLTSTA      0x1A
#define PCI_EXP_SLTSTA_ABP  0x0001      /* attention button pressed */
#define PCI_EXP_SLTSTA_PFD  0x0002      /* power fault detected */
#define PCI_EXP_SLTSTA_MRLSC 0x0004     /* MRL sensor changed */
#define PCI_EXP_SLTSTA_PDC  0x0008      /* presence detect changed */
#define PCI_EXP_SLTSTA_CC   0x0010      /* command completed */
#define PCI_EXP_SLTSTA_MRLSS 0x0020     /* MRL sensor state */
#define PCI_EXP_SLTSTA_PDS  0x0040      /* presence detect state */
#define PCI_EXP_SLTSTA_EIS  0x0080      /* electromechanical interlock status */
#define PCI_EXP_SLTSTA_DLLSC 0x0100     /* DLL state changed */
#define PCI_EXP_SLTSTA_EVENTS 0x011F    /* the RW1C event bits */

struct pci_dev {
    uint8_t bus, slot, func;
    uint16_t vendor, device;
    uint8_t header_type;    /* without the multifunction bit */
};

uint8_t pci_read8(const struct pci_dev *d, uint8_t off);
uint16_t pci_read16(const struct pci_dev *d, uint8_t off);
uint32_t pci_read32(const struct pci_dev *d, uint8_t off);
void pci_write8(const struct pci_dev *d, uint8_t off, uint8_t v);
void pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v);
void pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v);

/*
 * Enumerates bus 0 and the buses behind PCI-PCI bridges whose secondary bus
 * number the firmware has set, in (bus, slot, function) order, and returns
 * the index-th device (0-based) with the given vendor and one of the device
 * IDs. Returns 1 and fills *out when found, else 0.
 */
int pci_find(uint16_t vendor, const uint16_t *device_ids, int n_ids, int index, struct pci_dev *out);

/*
 * Calls fn for every function pci_find would visit, in the same order;
 * stops early, returning 1, when fn returns nonzero. The scan descends into
 * a bridge's secondary bus right after visiting the bridge.
 */
typedef int (*pci_visit_fn)(const struct pci_dev *d, void *ctx);
int pci_for_each(pci_visit_fn fn, void *ctx);
/* The same for the functions of one bus only (no descent). */
int pci_for_each_on_bus(uint8_t bus, pci_visit_fn fn, void *ctx);

/* Offset of the first capability with this ID at or after the one whose
 * offset is 'after' (0: from the start of the list), or 0 if none. */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t cap_id, uint8_t after);

struct pci_bar {
    uint64_t addr;          /* base as programmed (0 if unassigned) */
    uint64_t size;          /* 0: BAR not implemented */
    uint8_t is_io, is_64, prefetchable;
    uint8_t assigned_by_us; /* pci_map_bar had to (re)program it */
};

/* Decodes BAR 'bar' (0-5), sizing it by writing all ones; decoding of the
 * device is switched off while the BAR holds the probe value. */
int pci_bar_info(const struct pci_dev *d, int bar, struct pci_bar *out);

/*
 * Makes memory BAR 'bar' usable with paging off. Every memory BAR of the
 * function that is unassigned (0) or lies above 4 GiB is programmed with a
 * naturally aligned address that no other memory BAR on the scanned buses
 * uses: on bus 0 from PCI_MMIO_WINDOW up to PCI_MMIO_LIMIT (also avoiding
 * the windows of bridges on bus 0); behind a bridge inside that bridge's
 * memory window (prefetchable BARs in its prefetchable window when that is
 * open and below 4 GiB), which must already be open. Then enables memory
 * decoding. Returns the BAR's physical address, or 0 on failure; *out (may
 * be NULL) gets the details.
 */
#define PCI_MMIO_WINDOW 0xE0000000u
#define PCI_MMIO_LIMIT  0xFEC00000u /* above: I/O APIC, HPET, local APIC, BIOS */
uint32_t pci_map_bar(const struct pci_dev *d, int bar, struct pci_bar *out);

/* Sets bits in the command register (memory, bus master, ...). */
void pci_enable(const struct pci_dev *d, uint16_t command_bits);

/* ---- bridges (header type 1) ------------------------------------------ */

/*
 * A bridge's memory window (prefetchable: the prefetchable one), decoded
 * from its base/limit registers. Returns 1 and fills *out if the window is
 * open (base <= limit and base != 0: the reset value 0/0 counts as closed),
 * else 0. Windows are 1 MiB granular.
 */
struct pci_window {
    uint64_t base, size;
    uint8_t is_64;          /* prefetchable window with 64-bit base/limit */
};
int pci_bridge_window(const struct pci_dev *bridge, int prefetchable, struct pci_window *out);
/* Programs a window (base and size multiples of 1 MiB); size 0 closes it. */
void pci_bridge_set_window(const struct pci_dev *bridge, int prefetchable, uint64_t base, uint64_t size);
/* The bridge whose secondary bus is 'bus' (found by pci_for_each). 1 if found. */
int pci_bridge_to_bus(uint8_t bus, struct pci_dev *out);

/*
 * A naturally aligned range of 'size' bytes (a power of two) inside
 * [from, to) that overlaps no assigned memory BAR of any function the scan
 * finds (except BAR 'self_bar' of 'self') and no open memory window of a
 * bridge on bus 'bus'. For a BAR of a function on bus N pass N; for a window
 * of bridge 'self' pass self_bar = -1 and the bridge's own bus, after
 * closing the window being placed (its other windows count). 0 if none.
 */
uint32_t pci_alloc_mmio(uint8_t bus, const struct pci_dev *self, int self_bar, uint64_t size, uint32_t from,
                        uint32_t to);

#endif
