/*
 * dma-testdev device qtests: command errors, each bad segment list or
 * address with what the device reports.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "dma-testdev/framework.h"

/*
 * Error paths (q35): every one checks the result registers and that no
 * memory was written that should not have been.
 */

static void test_err_bad_opcode(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dmatd_region(d, DMATD_PAGE);
    DmatdSeg seg = { base + 0x100, 64 };
    uint64_t list = dmatd_put_list(d, &seg, 1);
    g_autofree uint8_t *stream = g_malloc(64);
    uint64_t cmd;

    /* A valid list is programmed: a bad opcode must not use it. */
    dmatd_set_dst(d, list, 1);
    dmatd_set_src(d, list, 1);
    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    cmd = dmatd_cmd(d, DMATD_OP_NONE);
    g_assert_cmpuint(cmd, ==, 1);
    dmatd_check_error(d, DMATD_ERR_BAD_OPCODE, DMATD_LIST_NONE, 0, 0, 0);
    DMATD_CHECK_REG64(d, DMATD_REG_CHECKSUM_LO, 0);
    g_assert_cmpuint(dmatd_check_log_no_data(d, cmd), ==, 0);
    dmatd_check_untouched(d, "opcode 0", base, DMATD_PAGE, DMATD_GUARD);

    /* Results of an earlier command are cleared by the next one. */
    dmatd_pattern(stream, DMATD_SEED, 0, 64);
    dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_ok(d, 64, dmatd_csum_buf(stream, 64));
    cmd = dmatd_cmd(d, 99);
    g_assert_cmpuint(cmd, ==, 3);
    dmatd_check_error(d, DMATD_ERR_BAD_OPCODE, DMATD_LIST_NONE, 0, 0, 0);
    DMATD_CHECK_REG64(d, DMATD_REG_CHECKSUM_LO, 0);
    g_assert_cmpuint(dmatd_check_log_no_data(d, cmd), ==, 0);

    /* ... mismatch results too. */
    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED + 1);
    dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
    DMATD_CHECK_REG(d, DMATD_REG_MISMATCH_COUNT, 8);
    dmatd_cmd(d, DMATD_OP_MAX + 1);
    dmatd_check_error(d, DMATD_ERR_BAD_OPCODE, DMATD_LIST_NONE, 0, 0, 0);
    dmatd_check_image(d, "after bad opcodes", base, DMATD_PAGE, &seg, 1, stream,
                      DMATD_GUARD);
    dmatd_stop(d);
}

static void test_err_no_segments(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dmatd_region(d, DMATD_PAGE);
    DmatdSeg seg = { base + 0x100, 64 };
    uint64_t list = dmatd_put_list(d, &seg, 1);
    uint64_t cmd;

    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    dmatd_set_dst(d, list, 0);
    cmd = dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_error(d, DMATD_ERR_NO_SEGMENTS, DMATD_LIST_DST, 0, list, 0);
    g_assert_cmpuint(dmatd_check_log_no_data(d, cmd), ==, 0);

    dmatd_cmd(d, DMATD_OP_FILL);
    dmatd_check_error(d, DMATD_ERR_NO_SEGMENTS, DMATD_LIST_DST, 0, list, 0);

    dmatd_set_src(d, list + 0x100, 0);
    dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
    dmatd_check_error(d, DMATD_ERR_NO_SEGMENTS, DMATD_LIST_SRC, 0, list + 0x100,
                      0);

    /* COPY checks the source list first. */
    dmatd_cmd(d, DMATD_OP_COPY);
    dmatd_check_error(d, DMATD_ERR_NO_SEGMENTS, DMATD_LIST_SRC, 0, list + 0x100,
                      0);
    dmatd_set_src(d, list, 1);
    cmd = dmatd_cmd(d, DMATD_OP_COPY);
    dmatd_check_error(d, DMATD_ERR_NO_SEGMENTS, DMATD_LIST_DST, 0, list, 0);
    g_assert_cmpuint(dmatd_check_log_no_data(d, cmd), ==, 1);

    /* A count of 0 is reported before a misaligned list. */
    dmatd_set_dst(d, list + 4, 0);
    dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_error(d, DMATD_ERR_NO_SEGMENTS, DMATD_LIST_DST, 0, list + 4, 0);

    dmatd_check_untouched(d, "no segments", base, DMATD_PAGE, DMATD_GUARD);
    dmatd_stop(d);
}

static void test_err_too_many_segs(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",max-segments=8", "");
    uint64_t base = dmatd_region(d, DMATD_PAGE);
    g_autofree uint8_t *stream = g_malloc(9 * 16);
    DmatdSeg segs[9];
    uint64_t list, cmd;
    int i;

    for (i = 0; i < 9; i++) {
        segs[i] = (DmatdSeg) { base + 0x100 + i * 0x20, 16 };
    }
    list = dmatd_put_list(d, segs, 9);
    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    dmatd_set_dst(d, list, 9);
    cmd = dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_error(d, DMATD_ERR_TOO_MANY_SEGS, DMATD_LIST_DST, 0, list, 0);
    g_assert_cmpuint(dmatd_check_log_no_data(d, cmd), ==, 0);
    dmatd_check_untouched(d, "too many segments", base, DMATD_PAGE,
                          DMATD_GUARD);

    dmatd_set_src(d, list, 9);
    dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
    dmatd_check_error(d, DMATD_ERR_TOO_MANY_SEGS, DMATD_LIST_SRC, 0, list, 0);

    /* ... before a misaligned list. */
    dmatd_set_dst(d, list + 8, 9);
    dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_error(d, DMATD_ERR_TOO_MANY_SEGS, DMATD_LIST_DST, 0, list + 8,
                      0);

    /* Exactly max-segments is fine. */
    dmatd_set_dst(d, list, 8);
    dmatd_pattern(stream, DMATD_SEED, 0, 8 * 16);
    cmd = dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_ok(d, 8 * 16, dmatd_csum_buf(stream, 8 * 16));
    dmatd_check_image(d, "max-segments", base, DMATD_PAGE, segs, 8, stream,
                      DMATD_GUARD);
    dmatd_check_log_single(d, cmd, "write-pattern", "dst", list, segs, 8);
    dmatd_stop(d);
}

static void test_err_list_align(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dmatd_region(d, DMATD_PAGE);
    DmatdSeg segs[2] = { { base + 0x100, 32 }, { base + 0x200, 32 } };
    uint64_t area = guest_alloc(&d->alloc, DMATD_PAGE);
    uint64_t cmd;
    int mis;

    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    for (mis = 1; mis < DMATD_SEG_ALIGN; mis += 7) {
        /* A list that would be valid where it is, but misaligned. */
        dmatd_put_list_at(d, area + mis, segs, 2);
        dmatd_set_dst(d, area + mis, 2);
        cmd = dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
        dmatd_check_error(d, DMATD_ERR_LIST_ALIGN, DMATD_LIST_DST, 0,
                          area + mis, 0);
        g_assert_cmpuint(dmatd_check_log_no_data(d, cmd), ==, 0);

        dmatd_set_src(d, area + mis, 2);
        dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
        dmatd_check_error(d, DMATD_ERR_LIST_ALIGN, DMATD_LIST_SRC, 0,
                          area + mis, 0);
    }
    dmatd_check_untouched(d, "misaligned list", base, DMATD_PAGE, DMATD_GUARD);
    dmatd_stop(d);
}

static void test_err_list_read(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "-m 128M");
    uint64_t base = dmatd_region(d, DMATD_PAGE);
    DmatdSeg segs[2] = { { base + 0x100, 32 }, { base + 0x200, 32 } };
    const uint64_t straddle = DMATD_RAM_END_128M - DMATD_SEG_SIZE;
    g_autoptr(GArray) log = NULL;
    uint64_t cmd;

    /* The whole list in unassigned space. */
    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    dmatd_set_dst(d, DMATD_UNASSIGNED, 2);
    cmd = dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_error(d, DMATD_ERR_LIST_READ, DMATD_LIST_DST, 0,
                      DMATD_UNASSIGNED, 0);
    log = dmatd_log_get(d, cmd);
    g_assert_cmpuint(log->len, ==, 1);
    dmatd_check_log(&g_array_index(log, DmatdLogEntry, 0), "write-pattern",
                    "dst-list", 0, "read", DMATD_UNASSIGNED,
                    2 * DMATD_SEG_SIZE, 0, "decode-error");
    g_clear_pointer(&log, g_array_unref);

    /* Descriptor 0 in the last bytes of RAM, descriptor 1 past its end. */
    dmatd_put_list_at(d, straddle, segs, 1);
    dmatd_set_dst(d, straddle, 2);
    cmd = dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_error(d, DMATD_ERR_LIST_READ, DMATD_LIST_DST, 1,
                      DMATD_RAM_END_128M, 0);
    log = dmatd_log_get(d, cmd);
    g_assert_cmpuint(log->len, ==, 1);
    dmatd_check_log(&g_array_index(log, DmatdLogEntry, 0), "write-pattern",
                    "dst-list", 0, "read", straddle, 2 * DMATD_SEG_SIZE,
                    DMATD_SEG_SIZE, "decode-error");
    g_clear_pointer(&log, g_array_unref);

    dmatd_set_src(d, straddle, 2);
    dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
    dmatd_check_error(d, DMATD_ERR_LIST_READ, DMATD_LIST_SRC, 1,
                      DMATD_RAM_END_128M, 0);

    /* One descriptor, ending exactly at 2^64: nothing decodes it. */
    dmatd_set_dst(d, 0xfffffffffffffff0ULL, 1);
    dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_error(d, DMATD_ERR_LIST_READ, DMATD_LIST_DST, 0,
                      0xfffffffffffffff0ULL, 0);

    dmatd_check_untouched(d, "unreadable list", base, DMATD_PAGE, DMATD_GUARD);
    dmatd_stop(d);
}

/* A two- or three-segment list whose last segment is @bad. */
static uint64_t dmatd_err_list(DmatdDev *d, uint64_t base, DmatdSeg bad, int n)
{
    DmatdSeg segs[3] = { { base + 0x100, 32 }, { base + 0x200, 32 }, bad };

    segs[n - 1] = bad;
    return dmatd_put_list(d, segs, n);
}

/* Start @op with the list as DST (or SRC for VERIFY), expect an error. */
static void dmatd_expect_seg_error(DmatdDev *d, uint32_t op, uint64_t list,
                                   int n, uint32_t err, uint32_t seg,
                                   uint64_t addr)
{
    uint32_t which = op == DMATD_OP_VERIFY_PATTERN ? DMATD_LIST_SRC
                                                   : DMATD_LIST_DST;
    uint64_t cmd;

    if (which == DMATD_LIST_SRC) {
        dmatd_set_src(d, list, n);
    } else {
        dmatd_set_dst(d, list, n);
    }
    cmd = dmatd_cmd(d, op);
    dmatd_check_error(d, err, which, seg, addr, 0);
    g_assert_cmpuint(dmatd_check_log_no_data(d, cmd), ==, 1);
}

static void test_err_seg_flags(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dmatd_region(d, DMATD_PAGE);
    uint64_t list;

    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    list = dmatd_err_list(d, base, (DmatdSeg) { base + 0x300, 32, 1 }, 3);
    dmatd_expect_seg_error(d, DMATD_OP_WRITE_PATTERN, list, 3,
                           DMATD_ERR_SEG_FLAGS,
                           2, base + 0x300);
    dmatd_expect_seg_error(d, DMATD_OP_FILL, list, 3, DMATD_ERR_SEG_FLAGS, 2,
                           base + 0x300);
    dmatd_expect_seg_error(d, DMATD_OP_VERIFY_PATTERN, list, 3,
                           DMATD_ERR_SEG_FLAGS,
                           2, base + 0x300);

    /* The top flag bit, in segment 0; flags come before a zero length. */
    list = dmatd_err_list(d, base, (DmatdSeg) { base + 0x400, 0, 0x80000000 },
                          1);
    dmatd_expect_seg_error(d, DMATD_OP_WRITE_PATTERN, list, 1,
                           DMATD_ERR_SEG_FLAGS,
                           0, base + 0x400);

    dmatd_check_untouched(d, "segment flags", base, DMATD_PAGE, DMATD_GUARD);
    dmatd_stop(d);
}

static void test_err_zero_length(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dmatd_region(d, DMATD_PAGE);
    uint64_t list;

    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    list = dmatd_err_list(d, base, (DmatdSeg) { base + 0x300, 0 }, 3);
    dmatd_expect_seg_error(d, DMATD_OP_WRITE_PATTERN, list, 3,
                           DMATD_ERR_ZERO_LENGTH,
                           2, base + 0x300);
    dmatd_expect_seg_error(d, DMATD_OP_VERIFY_PATTERN, list, 3,
                           DMATD_ERR_ZERO_LENGTH, 2, base + 0x300);

    /* A zero length is reported before an address that would overflow. */
    list = dmatd_err_list(d, base, (DmatdSeg) { UINT64_MAX, 0 }, 2);
    dmatd_expect_seg_error(d, DMATD_OP_WRITE_PATTERN, list, 2,
                           DMATD_ERR_ZERO_LENGTH,
                           1, UINT64_MAX);

    dmatd_check_untouched(d, "zero length", base, DMATD_PAGE, DMATD_GUARD);
    dmatd_stop(d);
}

static void test_err_addr_overflow(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dmatd_region(d, DMATD_PAGE);
    uint64_t list, cmd;

    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    list = dmatd_err_list(d, base, (DmatdSeg) { 0xfffffffffffff000ULL, 0x2000 },
                          2);
    dmatd_expect_seg_error(d, DMATD_OP_WRITE_PATTERN, list, 2,
                           DMATD_ERR_ADDR_OVERFLOW, 1, 0xfffffffffffff000ULL);
    dmatd_expect_seg_error(d, DMATD_OP_VERIFY_PATTERN, list, 2,
                           DMATD_ERR_ADDR_OVERFLOW, 1, 0xfffffffffffff000ULL);

    /* Wrapping by a single byte. */
    list = dmatd_err_list(d, base, (DmatdSeg) { UINT64_MAX, 2 }, 3);
    dmatd_expect_seg_error(d, DMATD_OP_WRITE_PATTERN, list, 3,
                           DMATD_ERR_ADDR_OVERFLOW, 2, UINT64_MAX);

    /* A list whose end wraps. */
    dmatd_set_dst(d, 0xfffffffffffffff0ULL, 2);
    cmd = dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_error(d, DMATD_ERR_ADDR_OVERFLOW, DMATD_LIST_DST, 0,
                      0xfffffffffffffff0ULL, 0);
    g_assert_cmpuint(dmatd_check_log_no_data(d, cmd), ==, 0);

    dmatd_check_untouched(d, "address overflow", base, DMATD_PAGE, DMATD_GUARD);
    dmatd_stop(d);
}

static void test_err_addr_width(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",addr-bits=32", "");
    uint64_t base = dmatd_region(d, DMATD_PAGE);
    uint64_t list;

    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    list = dmatd_err_list(d, base, (DmatdSeg) { 0x100000000ULL, 16 }, 2);
    dmatd_expect_seg_error(d, DMATD_OP_WRITE_PATTERN, list, 2,
                           DMATD_ERR_ADDR_WIDTH,
                           1, 0x100000000ULL);
    dmatd_expect_seg_error(d, DMATD_OP_VERIFY_PATTERN, list, 2,
                           DMATD_ERR_ADDR_WIDTH,
                           1, 0x100000000ULL);

    /* Starting below 4 GiB but with the last byte above. */
    list = dmatd_err_list(d, base, (DmatdSeg) { 0xfffffff8ULL, 16 }, 3);
    dmatd_expect_seg_error(d, DMATD_OP_WRITE_PATTERN, list, 3,
                           DMATD_ERR_ADDR_WIDTH,
                           2, 0xfffffff8ULL);

    /* Overflow is checked before the width. */
    list = dmatd_err_list(d, base, (DmatdSeg) { UINT64_MAX, 2 }, 2);
    dmatd_expect_seg_error(d, DMATD_OP_WRITE_PATTERN, list, 2,
                           DMATD_ERR_ADDR_OVERFLOW, 1, UINT64_MAX);

    dmatd_check_untouched(d, "address width", base, DMATD_PAGE, DMATD_GUARD);
    dmatd_stop(d);
}

static void test_err_list_width(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",addr-bits=32", "");
    uint64_t base = dmatd_region(d, DMATD_PAGE);
    uint64_t cmd;

    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    dmatd_set_dst(d, 0x100000000ULL, 1);
    cmd = dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_error(d, DMATD_ERR_ADDR_WIDTH, DMATD_LIST_DST, 0,
                      0x100000000ULL, 0);
    g_assert_cmpuint(dmatd_check_log_no_data(d, cmd), ==, 0);

    /* The list's last byte is above 4 GiB. */
    dmatd_set_src(d, 0xfffffff0ULL, 2);
    cmd = dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
    dmatd_check_error(d, DMATD_ERR_ADDR_WIDTH, DMATD_LIST_SRC, 0, 0xfffffff0ULL,
                      0);
    g_assert_cmpuint(dmatd_check_log_no_data(d, cmd), ==, 0);

    dmatd_check_untouched(d, "list width", base, DMATD_PAGE, DMATD_GUARD);
    dmatd_stop(d);
}

static void test_err_xfer_too_large(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",max-transfer=8192", "");
    uint64_t base = dmatd_region(d, 4 * DMATD_PAGE);
    DmatdSeg segs[2] = { { base + 0x10, 4097 }, { base + 0x2000, 4097 } };
    g_autofree uint8_t *stream = g_malloc(8192);
    uint64_t list, other, cmd;

    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    list = dmatd_put_list(d, segs, 2);
    dmatd_expect_seg_error(d, DMATD_OP_WRITE_PATTERN, list, 2,
                           DMATD_ERR_XFER_TOO_LARGE, 1, base + 0x2000);
    dmatd_expect_seg_error(d, DMATD_OP_VERIFY_PATTERN, list, 2,
                           DMATD_ERR_XFER_TOO_LARGE, 1, base + 0x2000);

    /* COPY: the source list is too large, the destination fine. */
    segs[1].len = 4095;
    other = dmatd_put_list(d, segs, 2);
    dmatd_set_src(d, list, 2);
    dmatd_set_dst(d, other, 2);
    cmd = dmatd_cmd(d, DMATD_OP_COPY);
    dmatd_check_error(d, DMATD_ERR_XFER_TOO_LARGE, DMATD_LIST_SRC, 1,
                      base + 0x2000, 0);
    g_assert_cmpuint(dmatd_check_log_no_data(d, cmd), ==, 1);
    dmatd_check_untouched(d, "transfer too large", base, 4 * DMATD_PAGE,
                          DMATD_GUARD);

    /* Exactly max-transfer is fine. */
    segs[0].len = 4096;
    segs[1].len = 4096;
    list = dmatd_put_list(d, segs, 2);
    dmatd_set_dst(d, list, 2);
    dmatd_pattern(stream, DMATD_SEED, 0, 8192);
    cmd = dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_ok(d, 8192, dmatd_csum_buf(stream, 8192));
    dmatd_check_image(d, "max-transfer", base, 4 * DMATD_PAGE, segs, 2, stream,
                      DMATD_GUARD);
    dmatd_check_log_single(d, cmd, "write-pattern", "dst", list, segs, 2);
    dmatd_stop(d);
}

static void test_err_length_mismatch(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t src_base = dmatd_region(d, DMATD_PAGE);
    uint64_t dst_base = dmatd_region(d, DMATD_PAGE);
    DmatdSeg src[2] = { { src_base + 0x10, 100 }, { src_base + 0x200, 28 } };
    DmatdSeg dst[1] = { { dst_base + 0x10, 127 } };
    uint64_t src_list = dmatd_put_list(d, src, 2);
    uint64_t dst_list, cmd;
    g_autoptr(GArray) log = NULL;
    int extra;

    dmatd_set_src(d, src_list, 2);
    /* One byte short, then one byte long. */
    for (extra = 0; extra < 3; extra += 2) {
        dst[0].len = 127 + extra;
        dst_list = dmatd_put_list(d, dst, 1);
        dmatd_set_dst(d, dst_list, 1);
        cmd = dmatd_cmd(d, DMATD_OP_COPY);
        dmatd_check_error(d, DMATD_ERR_LENGTH_MISMATCH, DMATD_LIST_NONE, 0, 0,
                          0);
        log = dmatd_log_get(d, cmd);
        g_assert_cmpuint(log->len, ==, 2);
        dmatd_check_log(&g_array_index(log, DmatdLogEntry, 0), "copy",
                        "src-list", 0, "read", src_list,
                        2 * DMATD_SEG_SIZE, 2 * DMATD_SEG_SIZE, "ok");
        dmatd_check_log(&g_array_index(log, DmatdLogEntry, 1), "copy",
                        "dst-list", 0, "read", dst_list, DMATD_SEG_SIZE,
                        DMATD_SEG_SIZE, "ok");
        g_clear_pointer(&log, g_array_unref);
    }
    dmatd_check_untouched(d, "copy length mismatch", dst_base, DMATD_PAGE,
                          DMATD_GUARD);
    dmatd_check_untouched(d, "copy source", src_base, DMATD_PAGE, DMATD_GUARD);
    dmatd_stop(d);
}

/*
 * A data-phase failure of @op at segment @seg of @list ("src"/"dst").
 * The segments before it are logged as done, the failing one with
 * @done bytes and @result, the ones after it not at all.
 */
static void dmatd_check_log_failed(DmatdDev *d, uint64_t cmd, const char *op,
                                   const char *list, const DmatdSeg *segs,
                                   uint32_t seg, uint64_t done,
                                   const char *result)
{
    g_autoptr(GArray) log = dmatd_log_get(d, cmd);
    const char *dir = !strcmp(list, "dst") ? "write" : "read";
    uint32_t seen = 0;
    guint i;

    for (i = 0; i < log->len; i++) {
        DmatdLogEntry *e = &g_array_index(log, DmatdLogEntry, i);

        if (strcmp(e->list, list)) {
            continue;
        }
        g_assert_cmpuint(seen, <=, seg);
        dmatd_check_log(e, op, list, seen, dir, segs[seen].addr,
                        segs[seen].len, seen < seg ? segs[seen].len : done,
                        seen < seg ? "ok" : result);
        seen++;
    }
    g_assert_cmpuint(seen, ==, seg + 1);
}

static void test_err_dma_unassigned(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dmatd_region(d, DMATD_PAGE);
    DmatdSeg segs[3] = {
        { base + 0x10, 100 }, { DMATD_UNASSIGNED, 64 }, { base + 0x200, 8 },
    };
    g_autofree uint8_t *stream = g_malloc(100);
    uint64_t list, cmd;

    /* WRITE: segment 0 is written, segment 2 not. */
    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    list = dmatd_put_list(d, segs, 3);
    dmatd_set_dst(d, list, 3);
    cmd = dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_error(d, DMATD_ERR_DMA_UNASSIGNED, DMATD_LIST_DST, 1,
                      DMATD_UNASSIGNED,
                      100);
    dmatd_pattern(stream, DMATD_SEED, 0, 100);
    dmatd_check_image(d, "write to unassigned", base, DMATD_PAGE, segs, 1,
                      stream, DMATD_GUARD);
    dmatd_check_log_failed(d, cmd, "write-pattern", "dst", segs, 1, 0,
                           "decode-error");

    /* VERIFY reads segment 0 (good data) and fails on segment 1. */
    dmatd_set_src(d, list, 3);
    cmd = dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
    dmatd_check_error(d, DMATD_ERR_DMA_UNASSIGNED, DMATD_LIST_SRC, 1,
                      DMATD_UNASSIGNED,
                      100);
    dmatd_check_log_failed(d, cmd, "verify-pattern", "src", segs, 1, 0,
                           "decode-error");

    /* A segment that ends exactly at 2^64 is valid; nothing decodes it. */
    qtest_memset(d->qts, base, DMATD_GUARD, DMATD_PAGE);
    segs[1] = (DmatdSeg) { 0xfffffffffffff000ULL, 0x1000 };
    list = dmatd_put_list(d, segs, 3);
    dmatd_set_dst(d, list, 3);
    cmd = dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_error(d, DMATD_ERR_DMA_UNASSIGNED, DMATD_LIST_DST, 1,
                      0xfffffffffffff000ULL, 100);
    dmatd_check_image(d, "write up to 2^64", base, DMATD_PAGE, segs, 1, stream,
                      DMATD_GUARD);
    dmatd_check_log_failed(d, cmd, "write-pattern", "dst", segs, 1, 0,
                           "decode-error");
    dmatd_stop(d);
}

static void test_err_dma_unassigned_copy(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t src_base = dmatd_region(d, DMATD_PAGE);
    uint64_t dst_base = dmatd_region(d, DMATD_PAGE);
    DmatdSeg src[2] = { { src_base + 0x10, 40 }, { src_base + 0x100, 24 } };
    DmatdSeg dst[2] = { { dst_base + 0x10, 40 }, { DMATD_UNASSIGNED, 24 } };
    g_autofree uint8_t *stream = g_malloc(64);
    uint64_t src_list, dst_list, cmd;
    int i;

    for (i = 0; i < 64; i++) {
        stream[i] = 0x30 + i;
    }
    dmatd_scatter(d, src, 2, stream);
    src_list = dmatd_put_list(d, src, 2);
    dst_list = dmatd_put_list(d, dst, 2);

    /* The destination's segment 1 fails, its segment 0 was copied. */
    dmatd_set_src(d, src_list, 2);
    dmatd_set_dst(d, dst_list, 2);
    cmd = dmatd_cmd(d, DMATD_OP_COPY);
    dmatd_check_error(d, DMATD_ERR_DMA_UNASSIGNED, DMATD_LIST_DST, 1,
                      DMATD_UNASSIGNED,
                      40);
    dmatd_check_image(d, "copy to unassigned", dst_base, DMATD_PAGE, dst, 1,
                      stream, DMATD_GUARD);
    dmatd_check_log_failed(d, cmd, "copy", "dst", dst, 1, 0, "decode-error");

    /* The source's segment 1 fails: only its segment 0 reaches DST. */
    qtest_memset(d->qts, dst_base, DMATD_GUARD, DMATD_PAGE);
    src[1].addr = DMATD_UNASSIGNED;
    dst[1].addr = dst_base + 0x100;
    src_list = dmatd_put_list(d, src, 2);
    dst_list = dmatd_put_list(d, dst, 2);
    dmatd_set_src(d, src_list, 2);
    dmatd_set_dst(d, dst_list, 2);
    cmd = dmatd_cmd(d, DMATD_OP_COPY);
    dmatd_check_error(d, DMATD_ERR_DMA_UNASSIGNED, DMATD_LIST_SRC, 1,
                      DMATD_UNASSIGNED,
                      40);
    dmatd_check_image(d, "copy from unassigned", dst_base, DMATD_PAGE, dst, 1,
                      stream, DMATD_GUARD);
    dmatd_check_log_failed(d, cmd, "copy", "src", src, 1, 0, "decode-error");
    dmatd_stop(d);
}

static void test_err_dma_own_bar(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dmatd_region(d, DMATD_PAGE);
    uint64_t target = d->bar.addr + 0x800;
    DmatdSeg segs[3] = {
        { base + 0x10, 32 }, { target, 16 }, { base + 0x200, 8 },
    };
    g_autofree uint8_t *stream = g_malloc(32);
    uint64_t list, cmd;
    g_autoptr(GArray) log = NULL;

    /* Writes into the device's own registers are refused. */
    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    list = dmatd_put_list(d, segs, 3);
    dmatd_set_dst(d, list, 3);
    cmd = dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_error(d, DMATD_ERR_DMA_ACCESS, DMATD_LIST_DST, 1, target, 32);
    dmatd_pattern(stream, DMATD_SEED, 0, 32);
    dmatd_check_image(d, "write to own BAR", base, DMATD_PAGE, segs, 1, stream,
                      DMATD_GUARD);
    dmatd_check_log_failed(d, cmd, "write-pattern", "dst", segs, 1, 0,
                           "access-error");
    DMATD_CHECK_REG(d, DMATD_REG_ID, DMA_TESTDEV_ID_VALUE);
    DMATD_CHECK_REG(d, DMATD_REG_SEED, DMATD_SEED);

    /* So are reads, here of the ID register. */
    segs[1].addr = d->bar.addr + DMATD_REG_ID;
    list = dmatd_put_list(d, segs, 3);
    dmatd_set_src(d, list, 3);
    cmd = dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
    dmatd_check_error(d, DMATD_ERR_DMA_ACCESS, DMATD_LIST_SRC, 1,
                      d->bar.addr + DMATD_REG_ID, 32);
    dmatd_check_log_failed(d, cmd, "verify-pattern", "src", segs, 1, 0,
                           "access-error");

    /* And a segment list in the BAR cannot be read. */
    dmatd_set_dst(d, target, 1);
    cmd = dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_error(d, DMATD_ERR_LIST_READ, DMATD_LIST_DST, 0, target, 0);
    log = dmatd_log_get(d, cmd);
    g_assert_cmpuint(log->len, ==, 1);
    dmatd_check_log(&g_array_index(log, DmatdLogEntry, 0), "write-pattern",
                    "dst-list", 0, "read", target, DMATD_SEG_SIZE, 0,
                    "access-error");
    dmatd_stop(d);
}

static void test_err_dma_rom(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dmatd_region(d, DMATD_PAGE);
    DmatdSeg segs[2] = { { base + 0x10, 32 }, { DMATD_ROM_PAGE + 0x80, 64 } };
    uint8_t rom_before[256], rom_after[256];
    g_autofree uint8_t *stream = g_malloc(32);
    uint64_t list, cmd;

    /* The contract: a write the ROM refuses is an access error. */
    qtest_memread(d->qts, DMATD_ROM_PAGE, rom_before, sizeof(rom_before));
    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    list = dmatd_put_list(d, segs, 2);
    dmatd_set_dst(d, list, 2);
    cmd = dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_error(d, DMATD_ERR_DMA_ACCESS, DMATD_LIST_DST, 1,
                      DMATD_ROM_PAGE + 0x80,
                      32);
    dmatd_check_log_failed(d, cmd, "write-pattern", "dst", segs, 1, 0,
                           "access-error");
    dmatd_pattern(stream, DMATD_SEED, 0, 32);
    dmatd_check_image(d, "before ROM write", base, DMATD_PAGE, segs, 1, stream,
                      DMATD_GUARD);
    qtest_memread(d->qts, DMATD_ROM_PAGE, rom_after, sizeof(rom_after));
    g_assert_true(!memcmp(rom_before, rom_after, sizeof(rom_before)));

    /* Reading the ROM is fine. */
    dmatd_set_src(d, list, 2);
    dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
    DMATD_CHECK_REG(d, DMATD_REG_ERROR, DMATD_ERR_NONE);
    DMATD_CHECK_REG64(d, DMATD_REG_BYTES_DONE_LO, 96);
    dmatd_stop(d);
}

/* A segment that starts in RAM and runs past its end (q35 and pc). */
static void test_err_past_ram_end(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "-m 128M");
    uint64_t base = dmatd_region(d, DMATD_PAGE);
    const uint64_t tail = DMATD_RAM_END_128M - 0x300;
    DmatdSeg segs[3] = {
        { base + 0x10, 64 }, { tail, 0x400 }, { base + 0x200, 8 },
    };
    g_autofree uint8_t *stream = g_malloc(64 + 0x300);
    uint64_t list, cmd;

    qtest_memset(d->qts, tail - DMATD_PAGE, DMATD_GUARD, DMATD_PAGE + 0x300);
    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    list = dmatd_put_list(d, segs, 3);
    dmatd_set_dst(d, list, 3);
    cmd = dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_error(d, DMATD_ERR_DMA_UNASSIGNED, DMATD_LIST_DST, 1,
                      DMATD_RAM_END_128M, 64 + 0x300);
    dmatd_pattern(stream, DMATD_SEED, 0, 64 + 0x300);
    dmatd_check_image(d, "segment 0", base, DMATD_PAGE, segs, 1, stream,
                      DMATD_GUARD);
    /* The part of segment 1 in RAM was written, up to the last byte. */
    dmatd_check_image(d, "end of RAM", tail - DMATD_PAGE, DMATD_PAGE + 0x300,
                      (DmatdSeg[]) { { tail, 0x300 } }, 1, stream + 64,
                      DMATD_GUARD);
    dmatd_check_log_failed(d, cmd, "write-pattern", "dst", segs, 1, 0x300,
                           "decode-error");

    /* VERIFY reads to the end of RAM, the data there is good. */
    dmatd_set_src(d, list, 3);
    cmd = dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
    dmatd_check_error(d, DMATD_ERR_DMA_UNASSIGNED, DMATD_LIST_SRC, 1,
                      DMATD_RAM_END_128M, 64 + 0x300);
    dmatd_check_log_failed(d, cmd, "verify-pattern", "src", segs, 1, 0x300,
                           "decode-error");
    dmatd_stop(d);
}

static void test_err_bus_master_off(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dmatd_region(d, DMATD_PAGE);
    DmatdSeg seg = { base + 0x10, 64 };
    uint64_t list = dmatd_put_list(d, &seg, 1);
    g_autofree uint8_t *stream = g_malloc(64);
    g_autoptr(GArray) log = NULL;
    uint16_t cmdreg;
    uint64_t cmd;

    cmdreg = qpci_config_readw(d->dev, PCI_COMMAND);
    qpci_config_writew(d->dev, PCI_COMMAND, cmdreg & ~PCI_COMMAND_MASTER);

    /* No DMA at all: already the segment list cannot be read. */
    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    dmatd_set_dst(d, list, 1);
    cmd = dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_error(d, DMATD_ERR_LIST_READ, DMATD_LIST_DST, 0, list, 0);
    log = dmatd_log_get(d, cmd);
    g_assert_cmpuint(log->len, ==, 1);
    dmatd_check_log(&g_array_index(log, DmatdLogEntry, 0), "write-pattern",
                    "dst-list", 0, "read", list, DMATD_SEG_SIZE, 0,
                    "decode-error");
    dmatd_check_untouched(d, "bus master off", base, DMATD_PAGE, DMATD_GUARD);

    /* Bus master back on, all is well. */
    qpci_config_writew(d->dev, PCI_COMMAND, cmdreg);
    dmatd_pattern(stream, DMATD_SEED, 0, 64);
    cmd = dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_ok(d, 64, dmatd_csum_buf(stream, 64));
    dmatd_check_image(d, "bus master on", base, DMATD_PAGE, &seg, 1, stream,
                      DMATD_GUARD);
    dmatd_check_log_single(d, cmd, "write-pattern", "dst", list, &seg, 1);
    dmatd_stop(d);
}

void dmatd_add_err_tests(void)
{
    dmatd_add("err/bad-opcode", test_err_bad_opcode, false);
    dmatd_add("err/no-segments", test_err_no_segments, false);
    dmatd_add("err/too-many-segments", test_err_too_many_segs, false);
    dmatd_add("err/list-align", test_err_list_align, false);
    dmatd_add("err/list-read", test_err_list_read, false);
    dmatd_add("err/seg-flags", test_err_seg_flags, false);
    dmatd_add("err/zero-length", test_err_zero_length, false);
    dmatd_add("err/addr-overflow", test_err_addr_overflow, false);
    dmatd_add("err/addr-width", test_err_addr_width, false);
    dmatd_add("err/list-width", test_err_list_width, false);
    dmatd_add("err/xfer-too-large", test_err_xfer_too_large, false);
    dmatd_add("err/length-mismatch", test_err_length_mismatch, false);
    dmatd_add("err/dma-unassigned", test_err_dma_unassigned, false);
    dmatd_add("err/dma-unassigned-copy", test_err_dma_unassigned_copy, false);
    dmatd_add("err/dma-own-bar", test_err_dma_own_bar, false);
    dmatd_add("err/dma-rom-write", test_err_dma_rom, false);
    dmatd_add("err/past-ram-end", test_err_past_ram_end, true);
    dmatd_add("err/bus-master-off", test_err_bus_master_off, false);
}
