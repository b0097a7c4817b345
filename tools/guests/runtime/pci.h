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
#define PCI_SECONDARY_BUS  0x19 /* type 1 (bridge) */
#define PCI_SUBSYSTEM_ID   0x2E
#define PCI_CAP_PTR        0x34
#define PCI_INTERRUPT_LINE 0x3C
#define PCI_INTERRUPT_PIN  0x3D

#define PCI_COMMAND_IO     0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_CAP_LIST 0x0010

#define PCI_CAP_ID_MSIX    0x11
#define PCI_CAP_ID_VENDOR  0x09

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
 * naturally aligned address from a window starting at PCI_MMIO_WINDOW that
 * no other memory BAR on the scanned buses uses; only done for functions on
 * bus 0 (behind a bridge the bridge's window would have to move too). Then
 * enables memory decoding. Returns the BAR's physical address, or 0 on
 * failure; *out (may be NULL) gets the details.
 */
#define PCI_MMIO_WINDOW 0xE0000000u
uint32_t pci_map_bar(const struct pci_dev *d, int bar, struct pci_bar *out);

/* Sets bits in the command register (memory, bus master, ...). */
void pci_enable(const struct pci_dev *d, uint16_t command_bits);

#endif
