/*
 * dma-testdev: the data path's loops over whole 64-bit words.
 *
 * Every operation folds each word it moves into the contract's checksum
 * (dmatd_csum_term() in include/hw/misc/dma-testdev.h), so these loops are
 * what bounds the device's bulk throughput.  They move and hash in one
 * pass: COPY loads each word once, stores it and hashes the value it
 * stored; WRITE_PATTERN hashes the value it generated; VERIFY_PATTERN
 * compares and hashes the value it loaded.  A racing guest therefore
 * cannot make the checksum describe other data than what was moved.
 *
 * The checksum's terms are independent of each other, so on x86 hosts
 * with AVX-512 the loops run eight words at a time (the 64-bit multiplies
 * of the mixer need AVX512DQ).  Everywhere else they run one word at a
 * time.  Both give the same results: dma-testdev-test checks the device's
 * checksums against the scalar definition on either.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "dma-testdev-compat.h"
#include "hw/misc/dma-testdev.h"
#include "dma-testdev-internal.h"

#if defined(CONFIG_AVX512BW_OPT) && defined(HOST_X86_64)
#include <immintrin.h>
#include "host/cpuinfo.h"
#define DMATD_HAVE_LANES 1
#endif

static uint64_t dmatd_words_csum_1(const uint8_t *src, uint64_t n,
                                   uint64_t idx)
{
    uint64_t csum = 0, i;

    for (i = 0; i < n; i++) {
        csum += dmatd_csum_term(ldq_le_p(src + i * 8), idx + i);
    }
    return csum;
}

static uint64_t dmatd_words_copy_1(uint8_t *dst, const uint8_t *src,
                                   uint64_t n, uint64_t idx)
{
    uint64_t csum = 0, i;

    for (i = 0; i < n; i++) {
        uint64_t w = ldq_le_p(src + i * 8);

        stq_le_p(dst + i * 8, w);
        csum += dmatd_csum_term(w, idx + i);
    }
    return csum;
}

static uint64_t dmatd_words_generate_1(uint8_t *dst, uint64_t n, uint64_t idx,
                                       const DmatdWordGen *g)
{
    uint64_t csum = 0, i;

    for (i = 0; i < n; i++) {
        uint64_t w = dmatd_gen_word(g, idx + i);

        stq_le_p(dst + i * 8, w);
        csum += dmatd_csum_term(w, idx + i);
    }
    return csum;
}

static uint64_t dmatd_words_verify_1(const uint8_t *src, uint64_t n,
                                     uint64_t idx, const DmatdWordGen *g,
                                     bool *differs)
{
    uint64_t csum = 0, diff = 0, i;

    for (i = 0; i < n; i++) {
        uint64_t w = ldq_le_p(src + i * 8);

        diff |= w ^ dmatd_gen_word(g, idx + i);
        csum += dmatd_csum_term(w, idx + i);
    }
    *differs = diff != 0;
    return csum;
}

#ifdef DMATD_HAVE_LANES

#define DMATD_LANES 8
#define DMATD_ATTR_LANES __attribute__((target("avx512f,avx512dq")))

/*
 * One AVX-512 register of words.  GCC's and clang's vector extensions keep
 * this plain C: the compiler picks the instructions.  Values of this type
 * never cross a function boundary that is not inlined, which keeps the
 * ABI out of it.
 */
typedef uint64_t DmatdLanes __attribute__((vector_size(DMATD_LANES * 8)));

static inline __attribute__((always_inline)) DMATD_ATTR_LANES
DmatdLanes dmatd_lanes_mix(DmatdLanes x)
{
    /* dmatd_mix64(), lane by lane. */
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Lane l of the result is @start + l. */
static inline __attribute__((always_inline)) DMATD_ATTR_LANES
DmatdLanes dmatd_lanes_iota(uint64_t start)
{
    DmatdLanes v;
    int l;

    for (l = 0; l < DMATD_LANES; l++) {
        v[l] = start + l;
    }
    return v;
}

static inline __attribute__((always_inline)) DMATD_ATTR_LANES
uint64_t dmatd_lanes_sum(DmatdLanes v)
{
    uint64_t sum = 0;
    int l;

    for (l = 0; l < DMATD_LANES; l++) {
        sum += v[l];
    }
    return sum;
}

/*
 * The checksum keys of the words at @idx .. @idx + 7 (the index times
 * DMATD_CSUM_INDEX_KEY) step by 8 keys per block: an add, not a multiply.
 */
#define DMATD_LANES_KEY_STEP (DMATD_LANES * DMATD_CSUM_INDEX_KEY)

static DMATD_ATTR_LANES uint64_t
dmatd_words_csum_8(const uint8_t *src, uint64_t n, uint64_t idx)
{
    DmatdLanes acc = { 0 };
    DmatdLanes key = dmatd_lanes_iota(idx) * DMATD_CSUM_INDEX_KEY;
    uint64_t i;

    for (i = 0; i + DMATD_LANES <= n; i += DMATD_LANES) {
        DmatdLanes w;

        memcpy(&w, src + i * 8, sizeof(w));
        acc += dmatd_lanes_mix(w ^ key);
        key += DMATD_LANES_KEY_STEP;
    }
    return dmatd_lanes_sum(acc) +
           dmatd_words_csum_1(src + i * 8, n - i, idx + i);
}

/*
 * Large copies write with non-temporal stores, as the C library's memcpy
 * does above its own threshold: the device does not read its output
 * back, and a store that skips the cache does not first read the line it
 * overwrites.  Measured in this device on the project's machine (AMD
 * EPYC, AVX-512, dma-testdev-bench, two runs each): COPY of 16 MiB in
 * 0.52-0.56 ms against 0.62-0.78 ms, of 256 MiB 17.5-21.5 against 17.2 ms.
 * WRITE_PATTERN keeps ordinary stores: with non-temporal ones 256 MiB
 * took 15.6 ms against 9.2-11.4 ms.  In words.
 */
#define DMATD_STREAM_COPY_MIN       (4 * MiB / 8)

/*
 * Words of @n to write with ordinary stores before @dst is 64-byte aligned
 * for non-temporal ones, or UINT64_MAX for no non-temporal stores at all:
 * @n is below @min, or @dst is not at a word boundary and never will be.
 */
static uint64_t dmatd_words_to_align(const uint8_t *dst, uint64_t n,
                                     uint64_t min)
{
    uintptr_t mis = -(uintptr_t)dst & 63;

    return n < min || mis % 8 ? UINT64_MAX : mis / 8;
}

static inline __attribute__((always_inline)) DMATD_ATTR_LANES
void dmatd_lanes_store(uint8_t *dst, DmatdLanes w, bool nontemporal)
{
    if (nontemporal) {
        _mm512_stream_si512((void *)dst, (__m512i)w);
    } else {
        memcpy(dst, &w, sizeof(w));
    }
}

static DMATD_ATTR_LANES uint64_t
dmatd_words_copy_8(uint8_t *dst, const uint8_t *src, uint64_t n, uint64_t idx)
{
    DmatdLanes acc = { 0 }, key;
    uint64_t i, csum = 0;
    uint64_t head = dmatd_words_to_align(dst, n, DMATD_STREAM_COPY_MIN);

    if (head != UINT64_MAX) {
        csum = dmatd_words_copy_1(dst, src, head, idx);
        dst += head * 8;
        src += head * 8;
        n -= head;
        idx += head;
    }
    key = dmatd_lanes_iota(idx) * DMATD_CSUM_INDEX_KEY;
    for (i = 0; i + DMATD_LANES <= n; i += DMATD_LANES) {
        DmatdLanes w;

        memcpy(&w, src + i * 8, sizeof(w));
        dmatd_lanes_store(dst + i * 8, w, head != UINT64_MAX);
        acc += dmatd_lanes_mix(w ^ key);
        key += DMATD_LANES_KEY_STEP;
    }
    if (head != UINT64_MAX) {
        _mm_sfence();
    }
    return csum + dmatd_lanes_sum(acc) +
           dmatd_words_copy_1(dst + i * 8, src + i * 8, n - i, idx + i);
}

/*
 * How many of the @n words from index @idx on the generator gives by
 * adding a constant per word: up to the wrap of the index bits it keeps
 * (@g->mask is a run of low bits, or 0 for one word everywhere).  Within
 * such a run the loops below step the words by an add instead of
 * recomputing them: two vector operations a block fewer.
 */
static uint64_t dmatd_gen_run(const DmatdWordGen *g, uint64_t idx,
                              uint64_t n)
{
    return g->mask ? MIN(n, g->mask - (idx & g->mask) + 1) : n;
}

/* The generator's words at @idx .. @idx + 7, and its step per block. */
static inline __attribute__((always_inline)) DMATD_ATTR_LANES
DmatdLanes dmatd_lanes_gen(const DmatdWordGen *g, uint64_t idx,
                           DmatdLanes *step)
{
    DmatdLanes zero = { 0 };

    *step = zero + (g->mask ? DMATD_LANES : 0);
    return (dmatd_lanes_iota(idx) & g->mask) | g->base;
}

/*
 * One run of dmatd_gen_run(), two blocks a turn with two sums: a block is
 * then twelve vector operations (eight of them the mixer's) and a store,
 * which is what bounds it.  On the project's machine, WRITE_PATTERN of
 * 1 MiB (dma-testdev-bench, the device's own time): 52.9 GB/s recomputing
 * the words, 58.7 stepping them, 61.0 two blocks a turn; memset() of the
 * same buffer 145-150 GB/s.
 */
static DMATD_ATTR_LANES uint64_t
dmatd_words_generate_8(uint8_t *dst, uint64_t n, uint64_t idx,
                       const DmatdWordGen *g)
{
    DmatdLanes acc = { 0 }, acc2 = { 0 }, step;
    DmatdLanes w = dmatd_lanes_gen(g, idx, &step);
    DmatdLanes key = dmatd_lanes_iota(idx) * DMATD_CSUM_INDEX_KEY;
    uint64_t i;

    for (i = 0; i + 2 * DMATD_LANES <= n; i += 2 * DMATD_LANES) {
        memcpy(dst + i * 8, &w, sizeof(w));
        acc += dmatd_lanes_mix(w ^ key);
        key += DMATD_LANES_KEY_STEP;
        w += step;
        memcpy(dst + i * 8 + 64, &w, sizeof(w));
        acc2 += dmatd_lanes_mix(w ^ key);
        key += DMATD_LANES_KEY_STEP;
        w += step;
    }
    return dmatd_lanes_sum(acc + acc2) +
           dmatd_words_generate_1(dst + i * 8, n - i, idx + i, g);
}

/* One run of dmatd_gen_run(). */
static DMATD_ATTR_LANES uint64_t
dmatd_words_verify_8(const uint8_t *src, uint64_t n, uint64_t idx,
                     const DmatdWordGen *g, bool *differs)
{
    DmatdLanes acc = { 0 }, diff = { 0 }, step;
    DmatdLanes want = dmatd_lanes_gen(g, idx, &step);
    DmatdLanes key = dmatd_lanes_iota(idx) * DMATD_CSUM_INDEX_KEY;
    uint64_t i, csum;
    int l;

    for (i = 0; i + DMATD_LANES <= n; i += DMATD_LANES) {
        DmatdLanes w;

        memcpy(&w, src + i * 8, sizeof(w));
        diff |= w ^ want;
        acc += dmatd_lanes_mix(w ^ key);
        key += DMATD_LANES_KEY_STEP;
        want += step;
    }
    csum = dmatd_lanes_sum(acc) +
           dmatd_words_verify_1(src + i * 8, n - i, idx + i, g, differs);
    for (l = 0; l < DMATD_LANES; l++) {
        *differs |= diff[l] != 0;
    }
    return csum;
}

static bool dmatd_use_lanes(void)
{
    unsigned need = CPUINFO_AVX512F | CPUINFO_AVX512DQ;

    return (cpuinfo & need) == need;
}

#else

static bool dmatd_use_lanes(void)
{
    return false;
}

#endif

/*
 * The entry points.  @lanes asks for the eight-word loops; the device
 * passes dmatd_words_lanes_available() unless its "x-datapath-scalar"
 * property asks for the one-word loops, which lets one host test both.
 */

bool dmatd_words_lanes_available(void)
{
    return dmatd_use_lanes();
}

uint64_t dmatd_words_csum(bool lanes, const uint8_t *src, uint64_t n,
                          uint64_t idx)
{
#ifdef DMATD_HAVE_LANES
    if (lanes) {
        return dmatd_words_csum_8(src, n, idx);
    }
#endif
    return dmatd_words_csum_1(src, n, idx);
}

uint64_t dmatd_words_copy(bool lanes, uint8_t *dst, const uint8_t *src,
                          uint64_t n, uint64_t idx)
{
#ifdef DMATD_HAVE_LANES
    if (lanes) {
        return dmatd_words_copy_8(dst, src, n, idx);
    }
#endif
    return dmatd_words_copy_1(dst, src, n, idx);
}

uint64_t dmatd_words_generate(bool lanes, uint8_t *dst, uint64_t n,
                              uint64_t idx, const DmatdWordGen *g)
{
#ifdef DMATD_HAVE_LANES
    if (lanes) {
        uint64_t csum = 0, run;

        for (; n; dst += run * 8, idx += run, n -= run) {
            run = dmatd_gen_run(g, idx, n);
            csum += dmatd_words_generate_8(dst, run, idx, g);
        }
        return csum;
    }
#endif
    return dmatd_words_generate_1(dst, n, idx, g);
}

uint64_t dmatd_words_verify(bool lanes, const uint8_t *src, uint64_t n,
                            uint64_t idx, const DmatdWordGen *g,
                            bool *differs)
{
#ifdef DMATD_HAVE_LANES
    if (lanes) {
        uint64_t csum = 0, run;
        bool run_differs;

        *differs = false;
        for (; n; src += run * 8, idx += run, n -= run) {
            run = dmatd_gen_run(g, idx, n);
            csum += dmatd_words_verify_8(src, run, idx, g, &run_differs);
            *differs |= run_differs;
        }
        return csum;
    }
#endif
    return dmatd_words_verify_1(src, n, idx, g, differs);
}
