/*
 * The disk test pattern and checksum the disk and hotplug guests share (and
 * the functional tests recompute on the host): README.md documents them.
 */
#ifndef GUEST_PATTERN_H
#define GUEST_PATTERN_H

#include <stdint.h>

#define PATTERN_SECTOR 512
#define FNV_OFFSET 0x811C9DC5u

/* One 512-byte sector of the pattern for (sector, seed). */
void pattern_sector(uint32_t *w, uint64_t sector, uint32_t seed);

/* FNV-1a over n bytes, continuing from h (start with FNV_OFFSET). */
uint32_t fnv1a(uint32_t h, const uint8_t *p, uint32_t n);

/* Decimal text of a 64-bit value (printf has no 64-bit conversions); four rotating buffers. */
const char *u64str(uint64_t v);

#endif
