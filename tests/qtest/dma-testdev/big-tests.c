/*
 * dma-testdev device qtests: large transfers (the most segments, 64 MiB
 * and 1 GiB).
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "dma-testdev/framework.h"

/*
 * Big commands (q35)
 */

/* 65536 segments of 8 or 16 bytes, scattered in shuffled order. */
static void test_big_max_segments(const void *data)
{
    const uint32_t n = 65536;
    const uint64_t region = (uint64_t)n * 32;
    DmatdDev *d = dmatd_start(data, "", "");
    g_autoptr(GRand) rand = g_rand_new_with_seed(0x65536);
    g_autofree uint32_t *slot = g_new(uint32_t, n);
    g_autofree DmatdSeg *segs = g_new(DmatdSeg, n);
    g_autofree uint8_t *stream = NULL;
    uint64_t base = dmatd_region(d, region);
    uint64_t total, list;
    uint32_t i, j, t;

    for (i = 0; i < n; i++) {
        slot[i] = i;
    }
    for (i = n - 1; i > 0; i--) {
        j = g_rand_int_range(rand, 0, i + 1);
        t = slot[i];
        slot[i] = slot[j];
        slot[j] = t;
    }
    for (i = 0; i < n; i++) {
        segs[i] = (DmatdSeg) {
            .addr = base + (uint64_t)slot[i] * 32 + (i * 5) % 17,
            .len = (i & 1) ? 8 : 16,
        };
    }
    total = dmatd_total(segs, n);
    stream = g_malloc(total);
    dmatd_pattern(stream, DMATD_SEED, 0, total);

    list = dmatd_put_list(d, segs, n);
    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    dmatd_set_dst(d, list, n);
    dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_ok(d, total, dmatd_csum_buf(stream, total));
    dmatd_check_image(d, "65536 segments", base, region, segs, n, stream,
                      DMATD_GUARD);

    dmatd_set_src(d, list, n);
    dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
    dmatd_check_ok(d, total, dmatd_csum_buf(stream, total));

    /* One more than the default max-segments. */
    dmatd_set_dst(d, list, n + 1);
    dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_error(d, DMATD_ERR_TOO_MANY_SEGS, DMATD_LIST_DST, 0, list, 0);
    dmatd_stop(d);
}

/* 64 MiB in 16 segments, checked by checksum and spot reads. */
static void test_big_64m(const void *data)
{
    const uint64_t total = 64 * MiB;
    const uint64_t stride = 4 * MiB + 64 * KiB;
    DmatdDev *d = dmatd_start(data, "", "-m 256M");
    uint64_t region = 16 * stride;
    uint64_t base = dmatd_region(d, region);
    uint64_t list, off, exp, got, addr;
    DmatdSeg segs[16];
    uint8_t buf[16];
    int i, j;

    for (i = 0; i < 16; i++) {
        segs[i] = (DmatdSeg) { base + i * stride + 16 + 3 * i, 4 * MiB };
    }
    segs[0].len -= 3;
    segs[15].len += 3;
    g_assert_cmpuint(dmatd_total(segs, 16), ==, total);

    list = dmatd_put_list(d, segs, 16);
    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    dmatd_set_dst(d, list, 16);
    dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_ok(d, total, dmatd_pattern_csum(DMATD_SEED, total));
    dmatd_check_log_single(d, dmatd_rd64(d, DMATD_REG_CMD_SEQ_LO),
                           "write-pattern",
                           "dst", list, segs, 16);

    /* Each segment's first and last bytes, and the guards around it. */
    for (i = 0, off = 0; i < 16; off += segs[i].len, i++) {
        uint8_t exp_buf[16];

        qtest_memread(d->qts, segs[i].addr - 4, buf, 12);
        memset(exp_buf, DMATD_GUARD, 4);
        dmatd_pattern(exp_buf + 4, DMATD_SEED, off, 8);
        for (j = 0; j < 12; j++) {
            dmatd_check_u64("segment start", segs[i].addr - 4 + j, exp_buf[j],
                            buf[j]);
        }
        qtest_memread(d->qts, segs[i].addr + segs[i].len - 8, buf, 12);
        dmatd_pattern(exp_buf, DMATD_SEED, off + segs[i].len - 8, 8);
        memset(exp_buf + 8, DMATD_GUARD, 4);
        for (j = 0; j < 12; j++) {
            dmatd_check_u64("segment end", segs[i].addr + segs[i].len - 8 + j,
                            exp_buf[j], buf[j]);
        }
    }

    dmatd_set_src(d, list, 16);
    dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
    dmatd_check_ok(d, total, dmatd_pattern_csum(DMATD_SEED, total));

    /* A bad word deep inside segment 9 is found. */
    off = 9 * 4 * MiB + 123456 * 8;
    addr = segs[9].addr + (off - (9 * 4 * MiB - 3));
    exp = dmatd_pattern_word(DMATD_SEED, off);
    got = ~exp;
    /* The transfer offset is word-aligned, the address is not. */
    qtest_memread(d->qts, addr, buf, 8);
    dmatd_check_u64("word to flip", addr, exp, ldq_le_p(buf));
    stq_le_p(buf, got);
    qtest_memwrite(d->qts, addr, buf, 8);
    dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
    dmatd_check_mismatch(d, total, 1, 9, off, exp, got);
    dmatd_stop(d);
}

/*
 * A 1 GiB command (the default max-transfer) in 256 segments that all
 * cover the same 4 MiB of guest memory.
 */
static void test_big_1g(const void *data)
{
    const uint64_t chunk = 4 * MiB;
    const uint32_t n = GiB / chunk;
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dmatd_region(d, chunk + 2 * DMATD_PAGE) + DMATD_PAGE;
    g_autofree DmatdSeg *segs = g_new(DmatdSeg, n + 1);
    uint64_t list, csum, w, off;
    uint32_t i;

    for (i = 0; i < n; i++) {
        segs[i] = (DmatdSeg) { base, chunk };
    }
    segs[n] = (DmatdSeg) { base, 1 };
    list = dmatd_put_list(d, segs, n + 1);

    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    dmatd_set_dst(d, list, n);
    dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_ok(d, GiB, dmatd_pattern_csum(DMATD_SEED, GiB));
    /* The memory holds the last pass. */
    for (off = 0; off < chunk; off += chunk / 4 - 8) {
        dmatd_check_u64("last pass", base + off,
                        dmatd_pattern_word(DMATD_SEED, GiB - chunk + off),
                        qtest_readq(d->qts, base + off));
    }
    dmatd_check_untouched(d, "below 1 GiB region", base - DMATD_PAGE,
                          DMATD_PAGE, DMATD_GUARD);
    dmatd_check_untouched(d, "above 1 GiB region", base + chunk, DMATD_PAGE,
                          DMATD_GUARD);

    /* One byte more is too much, and nothing is written. */
    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED + 1);
    dmatd_set_dst(d, list, n + 1);
    dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_error(d, DMATD_ERR_XFER_TOO_LARGE, DMATD_LIST_DST, n, base, 0);
    dmatd_check_u64("after too large", base,
                    dmatd_pattern_word(DMATD_SEED, GiB - chunk),
                    qtest_readq(d->qts, base));

    /*
     * VERIFY over the same list: only the last pass matches, so every
     * word of the 255 others is bad.
     */
    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    dmatd_set_src(d, list, n);
    dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
    dmatd_check_mismatch(d, GiB, (n - 1) * (chunk / 8), 0, 0,
                         dmatd_pattern_word(DMATD_SEED, 0),
                         dmatd_pattern_word(DMATD_SEED, GiB - chunk));
    csum = DMATD_CSUM_INIT;
    for (i = 0; i < n; i++) {
        for (w = 0; w < chunk; w += 8) {
            csum += dmatd_csum_term(dmatd_pattern_word(DMATD_SEED,
                                                       GiB - chunk + w),
                                    (i * chunk + w) / 8);
        }
    }
    DMATD_CHECK_REG64(d, DMATD_REG_CHECKSUM_LO, csum);
    dmatd_stop(d);
}

/*
 * The pattern keeps the low 32 bits of the word index (dmatd_pattern_word()),
 * so it wraps every 32 GiB of a transfer.  The device's vector loops step
 * the pattern by an add and end a run at that wrap
 * (dma-testdev-datapath.c), which only a transfer above the default
 * max-transfer reaches: here 16385 segments over the same 2 MiB.  The
 * first is three words short, so the wrap falls 24 bytes into the last
 * one, inside a run of the loop, and the memory must hold that segment's
 * words, whose index goes 2^32 - 3, -2, -1, 0, 1, ...  The words the
 * device hashed are the words it stored, so this checks the checksum's
 * input too; the checksum itself would take the test 2^32 terms.
 */
static void test_big_index_wrap(const void *data)
{
    const uint64_t chunk = 2 * MiB;
    const uint32_t n = 16385;
    const uint64_t total = (uint64_t)n * chunk - 24;
    const uint64_t last = total - chunk;
    g_autofree char *props = g_strdup_printf(
        ",max-transfer=%" PRIu64 ",max-segments=%u", 64 * GiB, n);
    DmatdDev *d = dmatd_start(data, props, "");
    uint64_t base = dmatd_region(d, chunk + 2 * DMATD_PAGE) + DMATD_PAGE;
    g_autofree DmatdSeg *segs = g_new(DmatdSeg, n);
    g_autofree uint8_t *got = g_malloc(chunk);
    uint64_t list, off;
    uint32_t i;

    g_assert_cmphex(last, ==, 32 * GiB - 24);
    segs[0] = (DmatdSeg) { base, chunk - 24 };
    for (i = 1; i < n; i++) {
        segs[i] = (DmatdSeg) { base, chunk };
    }
    list = dmatd_put_list(d, segs, n);

    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    dmatd_set_dst(d, list, n);
    dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    DMATD_CHECK_REG(d, DMATD_REG_STATUS, DMATD_STATUS_DONE);
    DMATD_CHECK_REG(d, DMATD_REG_ERROR, DMATD_ERR_NONE);
    DMATD_CHECK_REG64(d, DMATD_REG_BYTES_DONE_LO, total);

    qtest_bufread(d->qts, base, got, chunk);
    for (off = 0; off < chunk; off += 8) {
        dmatd_check_u64("across the index wrap", base + off,
                        dmatd_pattern_word(DMATD_SEED, last + off),
                        ldq_le_p(got + off));
    }
    g_assert_cmphex(dmatd_pattern_word(DMATD_SEED, last + 24), ==,
                    (uint64_t)DMATD_SEED << 32);
    dmatd_check_untouched(d, "above the region", base + chunk, DMATD_PAGE,
                          DMATD_GUARD);
    dmatd_stop(d);
}

void dmatd_add_big_tests(void)
{
    dmatd_add("big/max-segments", test_big_max_segments, false);
    dmatd_add("big/64m", test_big_64m, false);
    dmatd_add("big/1g", test_big_1g, false);
    dmatd_add("big/index-wrap", test_big_index_wrap, false);
}
