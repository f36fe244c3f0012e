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
 * the loops run a vector register's worth of words at a time: eight with
 * AVX-512 (the 64-bit multiplies of the mixer need AVX512DQ), else four
 * with AVX2 (dma-testdev-lanes.c.inc, once per width).  Everywhere else
 * they run one word at a time.  All give the same results:
 * dma-testdev-test checks the device's checksums against the scalar
 * definition with each.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/units.h"
#include "hw/misc/dma-testdev.h"
#include "dma-testdev-datapath.h"

#if defined(CONFIG_AVX512BW_OPT) && defined(CONFIG_AVX2_OPT) && \
    defined(HOST_X86_64)
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

/* AVX-512: eight words a block; the mixer's 64-bit multiplies need DQ. */
#define DMATD_LANES 8
#define DMATD_ATTR_LANES __attribute__((target("avx512f,avx512dq")))
#define DMATD_LANES_NAME(name) name##_avx512
#define DMATD_LANES_STREAM(p, w) \
    _mm512_stream_si512((void *)(p), (__m512i)(w))
#include "dma-testdev-lanes.c.inc"

/*
 * AVX2 (x86 hosts without AVX-512): four words a block.  AVX2 has no
 * 64-bit multiply, so the compiler builds each of the mixer's from 32-bit
 * ones; still well ahead of one word at a time.
 */
#define DMATD_LANES 4
#define DMATD_ATTR_LANES __attribute__((target("avx2")))
#define DMATD_LANES_NAME(name) name##_avx2
#define DMATD_LANES_STREAM(p, w) \
    _mm256_stream_si256((void *)(p), (__m256i)(w))
#include "dma-testdev-lanes.c.inc"

#endif

/*
 * The entry points.  @lanes is how many words a block the loops take: 8
 * (AVX-512), 4 (AVX2) or 1.  The device passes dmatd_words_lanes_best(),
 * at most its "x-datapath-max-lanes", which lets one host test them all.
 */

unsigned dmatd_words_lanes_best(unsigned max)
{
#ifdef DMATD_HAVE_LANES
    unsigned avx512 = CPUINFO_AVX512F | CPUINFO_AVX512DQ;

    if (max >= 8 && (cpuinfo & avx512) == avx512) {
        return 8;
    }
    if (max >= 4 && (cpuinfo & CPUINFO_AVX2)) {
        return 4;
    }
#endif
    return 1;
}

uint64_t dmatd_words_csum(unsigned lanes, const uint8_t *src, uint64_t n,
                          uint64_t idx)
{
#ifdef DMATD_HAVE_LANES
    if (lanes == 8) {
        return dmatd_words_csum_lanes_avx512(src, n, idx);
    }
    if (lanes == 4) {
        return dmatd_words_csum_lanes_avx2(src, n, idx);
    }
#endif
    return dmatd_words_csum_1(src, n, idx);
}

uint64_t dmatd_words_copy(unsigned lanes, uint8_t *dst, const uint8_t *src,
                          uint64_t n, uint64_t idx)
{
#ifdef DMATD_HAVE_LANES
    if (lanes == 8) {
        return dmatd_words_copy_lanes_avx512(dst, src, n, idx);
    }
    if (lanes == 4) {
        return dmatd_words_copy_lanes_avx2(dst, src, n, idx);
    }
#endif
    return dmatd_words_copy_1(dst, src, n, idx);
}

uint64_t dmatd_words_generate(unsigned lanes, uint8_t *dst, uint64_t n,
                              uint64_t idx, const DmatdWordGen *g)
{
#ifdef DMATD_HAVE_LANES
    if (lanes == 8) {
        return dmatd_words_generate_lanes_avx512(dst, n, idx, g);
    }
    if (lanes == 4) {
        return dmatd_words_generate_lanes_avx2(dst, n, idx, g);
    }
#endif
    return dmatd_words_generate_1(dst, n, idx, g);
}

uint64_t dmatd_words_verify(unsigned lanes, const uint8_t *src, uint64_t n,
                            uint64_t idx, const DmatdWordGen *g,
                            bool *differs)
{
#ifdef DMATD_HAVE_LANES
    if (lanes == 8) {
        return dmatd_words_verify_lanes_avx512(src, n, idx, g, differs);
    }
    if (lanes == 4) {
        return dmatd_words_verify_lanes_avx2(src, n, idx, g, differs);
    }
#endif
    return dmatd_words_verify_1(src, n, idx, g, differs);
}
