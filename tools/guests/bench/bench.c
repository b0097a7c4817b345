/*
 * bench: a fixed, compute-bound integer workload for comparing emulators.
 *
 * Each iteration (seeded by its number) fills a buffer from a PRNG, takes
 * its CRC-32 and Adler-32, quicksorts an array of pseudo-random integers,
 * runs a sieve of Eratosthenes, and tokenizes a generated text with
 * strlen/strcmp/memcpy-style loops and a hash table. All results are folded
 * into one checksum, which depends only on the iteration count.
 *
 * The count comes from the command line ("iterations=N") or defaults to
 * DEFAULT_ITERATIONS, about 2e9 guest instructions (see README.md). No
 * timing is measured inside the guest: time the whole run from outside.
 */
#include "rt.h"

#ifndef DEFAULT_ITERATIONS
#define DEFAULT_ITERATIONS 243
#endif

#define BUF_SIZE   65536
#define SORT_N     8192
#define SIEVE_N    200000
#define TEXT_SIZE  32768
#define HASH_SIZE  4096     /* power of two, > the 1884 possible words */
#define MAX_WORD   16

static uint8_t buf[BUF_SIZE];
static uint32_t ints[SORT_N];
static uint8_t composite[SIEVE_N];
static char text[TEXT_SIZE + 1];
static uint32_t crc_table[256];

/* ---- PRNG: xorshift32 --------------------------------------------------- */
static uint32_t rng_state;
static void rng_seed(uint32_t s) { rng_state = s * 2654435761u + 0x9E3779B9u; if (!rng_state) rng_state = 1; }
static uint32_t rng(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

static uint32_t rotl(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }
static uint32_t mix(uint32_t acc, uint32_t v) { return rotl(acc ^ v, 7) * 0x01000193u + 0x7F4A7C15u; }

/* ---- checksums ------------------------------------------------------------ */
static void crc32_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n--)
        c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static uint32_t adler32(const uint8_t *p, size_t n)
{
    uint32_t a = 1, b = 0;
    while (n) {
        /* 5552 is the largest run for which b cannot overflow 32 bits */
        size_t run = n < 5552 ? n : 5552;
        n -= run;
        while (run--) {
            a += *p++;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    return (b << 16) | a;
}

/* ---- quicksort ------------------------------------------------------------ */
static void insertion_sort(uint32_t *a, int n)
{
    for (int i = 1; i < n; i++) {
        uint32_t v = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void swap_u32(uint32_t *x, uint32_t *y)
{
    uint32_t t = *x;
    *x = *y;
    *y = t;
}

/* Hoare partitioning around the median of first, middle and last; the
 * pivot sits at the lower middle, which guarantees both halves shrink. */
static void quicksort(uint32_t *a, int n)
{
    while (n > 16) {
        int m = (n - 1) / 2;
        if (a[m] < a[0])
            swap_u32(&a[m], &a[0]);
        if (a[n - 1] < a[0])
            swap_u32(&a[n - 1], &a[0]);
        if (a[n - 1] < a[m])
            swap_u32(&a[n - 1], &a[m]);
        uint32_t pivot = a[m];
        int i = -1, j = n;
        for (;;) {
            do
                i++;
            while (a[i] < pivot);
            do
                j--;
            while (a[j] > pivot);
            if (i >= j)
                break;
            swap_u32(&a[i], &a[j]);
        }
        /* [0, j] and [j+1, n): recurse into the smaller, loop on the larger
         * (bounded stack depth) */
        int left = j + 1;
        if (left < n - left) {
            quicksort(a, left);
            a += left;
            n -= left;
        } else {
            quicksort(a + left, n - left);
            n = left;
        }
    }
    insertion_sort(a, n);
}

static uint32_t sort_round(void)
{
    for (int i = 0; i < SORT_N; i++)
        ints[i] = rng();
    quicksort(ints, SORT_N);
    uint32_t h = 0;
    for (int i = 0; i < SORT_N; i++) {
        if (i && ints[i - 1] > ints[i])
            return 0xBAD5047u;          /* not sorted: poisons the checksum */
        if ((i & 255) == 0)
            h = mix(h, ints[i]);
    }
    return h;
}

/* ---- sieve ---------------------------------------------------------------- */
static uint32_t sieve(uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        composite[i] = 0;
    uint32_t count = 0;
    for (uint32_t i = 2; i < n; i++) {
        if (composite[i])
            continue;
        count++;
        for (uint32_t j = i * i; j < n && i < 65536; j += i)
            composite[j] = 1;
    }
    return count;
}

/* ---- strings -------------------------------------------------------------- */
static size_t my_strlen(const char *s)
{
    const char *p = s;
    while (*p)
        p++;
    return (size_t)(p - s);
}

static int my_strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

static void my_memcpy(char *d, const char *s, size_t n)
{
    while (n--)
        *d++ = *s++;
}

static int is_delim(char c) { return c == ' ' || c == ',' || c == '.' || c == '\n'; }

/* Words of 1-3 syllables from a 12-syllable alphabet: they repeat, and at
 * most 12 + 144 + 1728 distinct ones exist, so the hash table never fills. */
static void make_text(void)
{
    static const char *const syl[] = { "ka", "lo", "mi", "ne", "qu", "ra", "st", "ve", "xo", "zu", "bri", "tha" };
    static const char delims[] = "    ,.\n";
    size_t pos = 0;
    while (pos < TEXT_SIZE - 16) {
        int n = 1 + (int)(rng() % 3);
        for (int k = 0; k < n; k++) {
            const char *s = syl[rng() % 12];
            while (*s)
                text[pos++] = *s++;
        }
        text[pos++] = delims[rng() % 7];
    }
    text[pos] = 0;
}

struct word_slot {
    char word[MAX_WORD];
    uint32_t count;
};
static struct word_slot table[HASH_SIZE];

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 0x811C9DC5u;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 0x01000193u;
    return h;
}

static uint32_t strings_round(void)
{
    make_text();
    for (int i = 0; i < HASH_SIZE; i++)
        table[i].word[0] = 0, table[i].count = 0;

    char word[MAX_WORD], prev[MAX_WORD] = "";
    uint32_t words = 0, distinct = 0, ordered = 0, total_len = 0;
    const char *p = text;
    size_t len = my_strlen(text);
    const char *end = text + len;
    while (p < end) {
        while (p < end && is_delim(*p))
            p++;
        const char *start = p;
        while (p < end && !is_delim(*p))
            p++;
        size_t wl = (size_t)(p - start);
        if (!wl)
            continue;
        if (wl >= MAX_WORD)
            wl = MAX_WORD - 1;
        my_memcpy(word, start, wl);
        word[wl] = 0;
        words++;
        total_len += (uint32_t)my_strlen(word);
        if (my_strcmp(prev, word) < 0)
            ordered++;
        my_memcpy(prev, word, wl + 1);

        uint32_t h = fnv1a(word) & (HASH_SIZE - 1);
        while (table[h].word[0] && my_strcmp(table[h].word, word) != 0)
            h = (h + 1) & (HASH_SIZE - 1);
        if (!table[h].word[0]) {
            my_memcpy(table[h].word, word, wl + 1);
            distinct++;
        }
        table[h].count++;
    }
    uint32_t acc = mix(mix(mix(words, distinct), ordered), total_len);
    for (int i = 0; i < HASH_SIZE; i += 7)
        acc = mix(acc, table[i].count);
    return acc;
}

/* ---- driver --------------------------------------------------------------- */
struct results {
    uint32_t crc, adler, sort, primes, strings;
};

static void iteration(uint32_t it, struct results *r)
{
    rng_seed(it);
    for (int i = 0; i < BUF_SIZE; i += 4) {
        uint32_t v = rng();
        buf[i] = (uint8_t)v;
        buf[i + 1] = (uint8_t)(v >> 8);
        buf[i + 2] = (uint8_t)(v >> 16);
        buf[i + 3] = (uint8_t)(v >> 24);
    }
    r->crc = crc32(buf, BUF_SIZE);
    r->adler = adler32(buf, BUF_SIZE);
    r->sort = sort_round();
    r->primes = sieve(SIEVE_N - (it % 64) * 1000);
    r->strings = strings_round();
}

static int self_test(void)
{
    static const uint8_t digits[] = "123456789";
    static const uint8_t wiki[] = "Wikipedia";
    uint32_t c = crc32(digits, 9), a = adler32(wiki, 9), p = sieve(SIEVE_N);
    int ok = c == 0xCBF43926u && a == 0x11E60398u && p == 17984;
    printf("self-test: crc32(\"123456789\")=%08x adler32(\"Wikipedia\")=%08x primes<%u=%u %s\n", c, a,
           SIEVE_N, p, ok ? "ok" : "MISMATCH");
    return ok;
}

int kmain(uint32_t magic, const struct multiboot_info *mbi)
{
    (void)magic;
    uint32_t n = cmdline_uint(mbi, "iterations", DEFAULT_ITERATIONS);
    printf("bench guest\niterations: %u\n", n);
    crc32_init();
    int ok = self_test();

    uint32_t acc = 0;
    for (uint32_t it = 0; it < n; it++) {
        struct results r;
        iteration(it, &r);
        if (it == 0)
            printf("iteration 0: crc32=%08x adler32=%08x sort=%08x primes=%u strings=%08x\n", r.crc,
                   r.adler, r.sort, r.primes, r.strings);
        acc = mix(acc, r.crc);
        acc = mix(acc, r.adler);
        acc = mix(acc, r.sort);
        acc = mix(acc, r.primes);
        acc = mix(acc, r.strings);
    }
    printf("checksum: %08x\n", acc);
    printf(ok ? "PASS\n" : "FAIL\n");
    return ok ? 0 : 1;
}
