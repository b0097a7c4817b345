#include "pattern.h"

/* Words from a 32-bit LCG whose start depends on the seed and the sector; the
 * first two words are the sector and the seed in clear, which makes a
 * misplaced sector easy to spot in a hex dump. */
void pattern_sector(uint32_t *w, uint64_t sector, uint32_t seed)
{
    uint32_t x = seed * 0x9E3779B1u ^ (uint32_t)sector * 0x85EBCA77u ^ (uint32_t)(sector >> 32) * 0xC2B2AE3Du;
    w[0] = (uint32_t)sector;
    w[1] = seed;
    for (unsigned i = 2; i < PATTERN_SECTOR / 4; i++) {
        x = x * 1664525u + 1013904223u;
        w[i] = x ^ (x >> 15);
    }
}

uint32_t fnv1a(uint32_t h, const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x01000193u;
    return h;
}

/* There is no libgcc for 64-bit division: divide four 16-bit limbs by 10 with 32-bit arithmetic. */
const char *u64str(uint64_t v)
{
    static char bufs[4][24];
    static int which;
    char *end = bufs[which++ & 3] + 23, *p = end;
    uint32_t limb[4] = { (uint32_t)(v >> 48), (uint32_t)(v >> 32) & 0xFFFF, (uint32_t)(v >> 16) & 0xFFFF,
                         (uint32_t)v & 0xFFFF };
    *p = 0;
    do {
        uint32_t rem = 0;
        for (int i = 0; i < 4; i++) {
            uint32_t cur = rem << 16 | limb[i];
            limb[i] = cur / 10;
            rem = cur % 10;
        }
        *--p = (char)('0' + rem);
    } while (limb[0] | limb[1] | limb[2] | limb[3]);
    return p;
}
