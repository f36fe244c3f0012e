/*
 * dma-testdev device qtests: the checksum (DMATD_REG_CHECKSUM).
 *
 * What the contract promises about it, tested against the definition in
 * include/hw/misc/dma-testdev.h: known answers, the corruptions it must
 * detect, and that the device's data path (eight words at a time with
 * AVX-512, four with AVX2, one otherwise; dma-testdev-datapath.c)
 * computes exactly the definition on each of its paths.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "dma-testdev/framework.h"

/*
 * Known answers: the worked example of docs/system/devices/dma-testdev.rst
 * (seed 0x12345678, 20 bytes), as found by WRITE_PATTERN and by
 * VERIFY_PATTERN after byte 0x13 became 0x55.  A driver that implements
 * the checksum checks itself against the same values.
 */
static void test_csum_known_answers(void)
{
    uint8_t buf[20] = { 0 };

    g_assert_cmphex(dmatd_csum_buf(buf, 0), ==, 0);
    dmatd_pattern(buf, 0x12345678, 0, sizeof(buf));
    g_assert_cmphex(dmatd_csum_term(0x1234567800000000ULL, 0), ==,
                    0xbefa85e2b0c534bdULL);
    g_assert_cmphex(dmatd_csum_buf(buf, 16), ==, 0x07288ed8c80c74c6ULL);
    g_assert_cmphex(dmatd_csum_buf(buf, 20), ==, 0xc17f2371dde96eafULL);
    buf[0x13] = 0x55;
    g_assert_cmphex(dmatd_csum_buf(buf, 20), ==, 0xc053e8ae2dc198f9ULL);
}

/*
 * The corruptions the contract names, each everywhere in a 1 KiB buffer:
 * every single flipped bit, every word replaced (by 0, all ones and its
 * neighbour's value), every pair of different words swapped, and every
 * word written over another one.  Twice: on the pattern, and on data
 * that is mostly zero (structured data is where weak sums fail).
 * Returns how many changes @csum missed.
 */
#define CSUM_WORDS 128

typedef uint64_t (*CsumFn)(const uint64_t *w);

static uint64_t csum_contract(const uint64_t *w)
{
    return dmatd_csum_buf((const uint8_t *)w, CSUM_WORDS * 8);
}

/* The negative control: the same terms without the word's index. */
static uint64_t csum_without_index(const uint64_t *w)
{
    uint64_t sum = 0;
    int i;

    for (i = 0; i < CSUM_WORDS; i++) {
        sum += dmatd_csum_term(le64_to_cpu(w[i]), 0);
    }
    return sum;
}

static uint64_t csum_corrupt_all(CsumFn csum, const uint64_t *orig,
                                 const char *what, bool report)
{
    uint64_t w[CSUM_WORDS], good = csum(orig), i, j, b;
    uint64_t missed = 0, tried = 0;

#define CSUM_TRY(label, change)                                         \
    do {                                                                \
        memcpy(w, orig, sizeof(w));                                     \
        change;                                                         \
        if (memcmp(w, orig, sizeof(w))) {                               \
            tried++;                                                    \
            if (csum(w) == good) {                                      \
                if (report) {                                           \
                    dmatd_report("%s: checksum missed %s at words "     \
                                 "%" PRIu64 ", %" PRIu64, what, label,  \
                                 i, j);                                 \
                }                                                       \
                missed++;                                               \
            }                                                           \
        }                                                               \
    } while (0)

    for (i = 0; i < CSUM_WORDS; i++) {
        j = i;
        for (b = 0; b < 64; b++) {
            CSUM_TRY("bit flip", w[i] ^= cpu_to_le64(1ULL << b));
        }
        CSUM_TRY("word zeroed", w[i] = 0);
        CSUM_TRY("word all ones", w[i] = ~0ULL);
        CSUM_TRY("word replaced by its neighbour",
                 w[i] = orig[(i + 1) % CSUM_WORDS]);
        for (j = 0; j < CSUM_WORDS; j++) {
            if (j > i) {
                CSUM_TRY("words swapped", (w[i] = orig[j], w[j] = orig[i]));
            }
            if (j != i) {
                CSUM_TRY("word written at the wrong offset", w[j] = orig[i]);
            }
        }
    }
#undef CSUM_TRY
    g_test_message("%s: %" PRIu64 " corruptions, %" PRIu64 " missed", what,
                   tried, missed);
    g_assert_cmpuint(tried, >, 8000);
    return missed;
}

static void csum_data(uint64_t *w, bool mostly_zero)
{
    int i;

    for (i = 0; i < CSUM_WORDS; i++) {
        w[i] = mostly_zero ? 0 : cpu_to_le64(dmatd_pattern_word(DMATD_SEED,
                                                                i * 8));
    }
    if (mostly_zero) {
        w[5] = cpu_to_le64(1);
        w[77] = cpu_to_le64(1);
        w[100] = cpu_to_le64(0x8000000000000000ULL);
    }
}

static void test_csum_strength(void)
{
    uint64_t w[CSUM_WORDS];

    csum_data(w, false);
    g_assert_cmpuint(csum_corrupt_all(csum_contract, w, "pattern", true), ==,
                     0);
    csum_data(w, true);
    g_assert_cmpuint(csum_corrupt_all(csum_contract, w, "mostly zero", true),
                     ==, 0);
}

/* The same test on a sum blind to word order must fail, or it tests nothing. */
static void test_csum_strength_control(void)
{
    uint64_t w[CSUM_WORDS];

    csum_data(w, false);
    g_assert_cmpuint(csum_corrupt_all(csum_without_index, w,
                                      "pattern, without the index", false),
                     >, 0);
}

/*
 * The device's data path against the definition: large and odd
 * transfers through each of its loops (one word at a time, four or eight
 * at a time, and COPY's non-temporal stores from 4 MiB on), at word-aligned
 * and unaligned addresses (COPY first aligns the destination to 64 bytes
 * for those stores, and uses ordinary ones when the destination is not
 * at a word boundary).
 */
typedef struct CsumXfer {
    uint64_t len;
    uint64_t src_skew;          /* bytes after a 64-byte boundary */
    uint64_t dst_skew;
} CsumXfer;

static const CsumXfer csum_xfers[] = {
    { 24, 0, 0 },
    { 4 * KiB + 5, 3, 11 },
    { 4 * KiB + 64 + 5, 5, 1 }, /* 65 blocks of 8 words, and a tail */
    { 5 * MiB, 0, 8 },          /* COPY: aligned after 7 words */
    { 5 * MiB + 3, 1, 3 },      /* COPY: never aligned, ordinary stores */
    { 65 * MiB, 40, 24 },       /* COPY: aligned after 5 words */
};

/* A word at transfer offset @off of @d's memory at @addr, as found. */
static void csum_check_word(DmatdDev *d, const char *what, uint64_t addr,
                            uint64_t off, uint64_t len)
{
    uint8_t got[8], exp[8];
    uint64_t n = MIN(8, len - off), i;

    qtest_memread(d->qts, addr + off, got, n);
    dmatd_pattern(exp, DMATD_SEED, off, n);
    for (i = 0; i < n; i++) {
        dmatd_check_u64(what, addr + off + i, exp[i], got[i]);
    }
}

/*
 * The loops the device should choose with x-datapath-max-lanes=@max
 * (dmatd_words_lanes_best()): words a block.
 */
static unsigned csum_host_lanes(unsigned max)
{
#if defined(CONFIG_AVX512BW_OPT) && defined(CONFIG_AVX2_OPT) && \
    defined(HOST_X86_64)
    if (max >= 8 && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512dq")) {
        return 8;
    }
    if (max >= 4 && __builtin_cpu_supports("avx2")) {
        return 4;
    }
#endif
    return 1;
}

static void csum_run_datapath(const void *data, unsigned max_lanes)
{
    g_autofree char *prop = g_strdup_printf(",x-datapath-max-lanes=%u",
                                            max_lanes);
    DmatdDev *d = dmatd_start(data, prop, "-m 256M");
    uint64_t region = 66 * MiB + 128;
    uint64_t src = dmatd_region(d, region), dst = dmatd_region(d, region);
    g_autoptr(QDict) rsp = NULL;
    size_t i;

    rsp = qtest_qmp(d->qts, "{ 'execute': 'qom-get', 'arguments': {"
                    " 'path': '/machine/peripheral/dt0',"
                    " 'property': 'x-datapath-lanes' } }");
    g_test_message("data path: words a block %" PRId64 " (at most %u)",
                   qdict_get_int(rsp, "return"), max_lanes);
    /* The loops under test are the ones this host should get. */
    g_assert_cmpint(qdict_get_int(rsp, "return"), ==,
                    csum_host_lanes(max_lanes));

    for (i = 0; i < ARRAY_SIZE(csum_xfers); i++) {
        const CsumXfer *x = &csum_xfers[i];
        DmatdSeg s = { QEMU_ALIGN_UP(src, 64) + x->src_skew, x->len };
        DmatdSeg t = { QEMU_ALIGN_UP(dst, 64) + x->dst_skew, x->len };
        uint64_t csum = dmatd_pattern_csum(DMATD_SEED, x->len);
        uint64_t ls = dmatd_put_list(d, &s, 1), lt = dmatd_put_list(d, &t, 1);
        uint64_t off;

        dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
        dmatd_set_dst(d, ls, 1);
        dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
        dmatd_check_ok(d, x->len, csum);
        dmatd_set_src(d, ls, 1);
        dmatd_set_dst(d, lt, 1);
        dmatd_cmd(d, DMATD_OP_COPY);
        dmatd_check_ok(d, x->len, csum);
        dmatd_set_src(d, lt, 1);
        dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
        dmatd_check_ok(d, x->len, csum);
        /* The loops' seams: the first words, 64 bytes on, the end. */
        for (off = 0; off < MIN(x->len, 80); off += 8) {
            csum_check_word(d, "copy", t.addr, off, x->len);
        }
        csum_check_word(d, "copy", t.addr, x->len - 1 - (x->len - 1) % 8,
                        x->len);

        /* One changed word in the middle: VERIFY's checksum follows. */
        if (x->len >= 64) {
            uint8_t b = 0x5a;
            uint8_t *found = g_malloc(x->len);

            qtest_memwrite(d->qts, t.addr + x->len / 2, &b, 1);
            dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
            g_assert_cmpuint(dmatd_rd(d, DMATD_REG_MISMATCH_COUNT), ==, 1);
            dmatd_pattern(found, DMATD_SEED, 0, x->len);
            found[x->len / 2] = b;
            DMATD_CHECK_REG64(d, DMATD_REG_CHECKSUM_LO,
                              dmatd_csum_buf(found, x->len));
            g_assert_cmphex(dmatd_rd64(d, DMATD_REG_CHECKSUM_LO), !=, csum);
            g_free(found);
        }
    }
    dmatd_stop(d);
}

static void test_csum_datapath(const void *data)
{
    csum_run_datapath(data, 8);
}

/* Hosts with AVX-512 test the AVX2 and one-word loops too. */
static void test_csum_datapath_avx2(const void *data)
{
    csum_run_datapath(data, 4);
}

static void test_csum_datapath_scalar(const void *data)
{
    csum_run_datapath(data, 1);
}

void dmatd_add_checksum_tests(void)
{
    qtest_add_func("dma-testdev/checksum/known-answers",
                   test_csum_known_answers);
    qtest_add_func("dma-testdev/checksum/strength", test_csum_strength);
    qtest_add_func("dma-testdev/checksum/strength-control",
                   test_csum_strength_control);
    dmatd_add("checksum/datapath", test_csum_datapath, false);
    dmatd_add("checksum/datapath-avx2", test_csum_datapath_avx2, false);
    dmatd_add("checksum/datapath-scalar", test_csum_datapath_scalar, false);
}
