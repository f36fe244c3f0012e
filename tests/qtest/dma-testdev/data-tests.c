/*
 * dma-testdev device qtests: the data operations, the pin model, the DMA
 * log ring and the MMIO access rules.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "dma-testdev/framework.h"

static void test_identity(const void *data)
{
    const DmatdMachine *m = data;
    DmatdDev *d = dmatd_start(m, "", "");
    uint32_t bar0;
    uint8_t cap;

    g_assert_cmphex(qpci_config_readw(d->dev, PCI_VENDOR_ID), ==,
                    DMA_TESTDEV_VENDOR_ID);
    g_assert_cmphex(qpci_config_readw(d->dev, PCI_DEVICE_ID), ==,
                    DMA_TESTDEV_DEVICE_ID);
    g_assert_cmphex(qpci_config_readb(d->dev, PCI_REVISION_ID), ==,
                    DMA_TESTDEV_REVISION);
    g_assert_cmphex(qpci_config_readw(d->dev, PCI_CLASS_DEVICE), ==, 0x00ff);
    g_assert_cmphex(qpci_config_readb(d->dev, PCI_CLASS_PROG), ==, 0);
    g_assert_cmphex(qpci_config_readb(d->dev, PCI_HEADER_TYPE) & 0x7f, ==,
                    PCI_HEADER_TYPE_NORMAL);
    /* Immediate Readiness, read-only. */
    g_assert_true(qpci_config_readw(d->dev, PCI_STATUS) &
                  PCI_STATUS_IMM_READY);
    qpci_config_writew(d->dev, PCI_STATUS, 0);
    g_assert_true(qpci_config_readw(d->dev, PCI_STATUS) &
                  PCI_STATUS_IMM_READY);

    /* BAR0: 4 KiB of memory space, now where qpci_iomap put it. */
    g_assert_cmphex(d->bar_size, ==, DMA_TESTDEV_BAR0_SIZE);
    bar0 = qpci_config_readl(d->dev, PCI_BASE_ADDRESS_0);
    g_assert_cmphex(bar0 & PCI_BASE_ADDRESS_SPACE, ==,
                    PCI_BASE_ADDRESS_SPACE_MEMORY);
    g_assert_true((bar0 & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
                  PCI_BASE_ADDRESS_MEM_TYPE_32 ||
                  (bar0 & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
                  PCI_BASE_ADDRESS_MEM_TYPE_64);
    g_assert_cmphex(bar0 & PCI_BASE_ADDRESS_MEM_MASK, ==, d->bar.addr);

    cap = dmatd_find_cap(d->dev, PCI_CAP_ID_EXP);
    if (m->pcie) {
        g_assert_cmphex(cap, !=, 0);
        g_assert_cmphex((qpci_config_readw(d->dev, cap + PCI_EXP_FLAGS) &
                         PCI_EXP_FLAGS_TYPE) >> 4, ==, PCI_EXP_TYPE_ENDPOINT);
    } else {
        g_assert_cmphex(cap, ==, 0);
    }

    DMATD_CHECK_REG(d, DMATD_REG_ID, DMA_TESTDEV_ID_VALUE);
    DMATD_CHECK_REG(d, DMATD_REG_VERSION, DMA_TESTDEV_VERSION_VALUE);
    DMATD_CHECK_REG(d, DMATD_REG_CAPS, DMATD_ALL_OPS | DMATD_CAP_QUEUE);
    DMATD_CHECK_REG(d, DMATD_REG_ADDR_BITS, 64);
    DMATD_CHECK_REG(d, DMATD_REG_MAX_SEGS, 65536);
    DMATD_CHECK_REG64(d, DMATD_REG_MAX_XFER_LO, 1 * GiB);
    DMATD_CHECK_REG(d, DMATD_REG_STATUS, 0);
    DMATD_CHECK_REG(d, DMATD_REG_ERROR, DMATD_ERR_NONE);
    DMATD_CHECK_REG(d, DMATD_REG_CMD, DMATD_OP_NONE);
    DMATD_CHECK_REG64(d, DMATD_REG_CMD_SEQ_LO, 0);

    dmatd_stop(d);
}

static void test_identity_props(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",addr-bits=32,max-segments=8,"
                              "max-transfer=0x123456789", "");

    DMATD_CHECK_REG(d, DMATD_REG_ID, DMA_TESTDEV_ID_VALUE);
    DMATD_CHECK_REG(d, DMATD_REG_ADDR_BITS, 32);
    DMATD_CHECK_REG(d, DMATD_REG_MAX_SEGS, 8);
    DMATD_CHECK_REG64(d, DMATD_REG_MAX_XFER_LO, 0x123456789ULL);
    dmatd_stop(d);
}

/* WRITE_PATTERN with @seed over the odd layout: data, checksum, guards, log. */
static void dmatd_write_odd(DmatdDev *d, uint64_t base, const DmatdSeg *segs,
                            uint64_t list, uint32_t seed, const char *what)
{
    uint64_t total = dmatd_total(segs, DMATD_ODD_NSEGS);
    g_autofree uint8_t *stream = g_malloc(total);
    uint64_t cmd;

    dmatd_pattern(stream, seed, 0, total);
    dmatd_wr(d, DMATD_REG_SEED, seed);
    cmd = dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_ok(d, total, dmatd_csum_buf(stream, total));
    dmatd_check_image(d, what, base, DMATD_ODD_REGION, segs, DMATD_ODD_NSEGS,
                      stream, DMATD_GUARD);
    dmatd_check_log_single(d, cmd, "write-pattern", "dst", list, segs,
                           DMATD_ODD_NSEGS);
}

static void test_write_pattern(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    DmatdSeg segs[DMATD_ODD_NSEGS];
    uint64_t base = dmatd_region(d, DMATD_ODD_REGION);
    uint64_t list;

    dmatd_odd_layout(base, segs);
    list = dmatd_put_list(d, segs, DMATD_ODD_NSEGS);
    dmatd_set_dst(d, list, DMATD_ODD_NSEGS);
    dmatd_write_odd(d, base, segs, list, DMATD_SEED, "write-pattern");
    g_assert_cmpuint(dmatd_rd64(d, DMATD_REG_CMD_SEQ_LO), ==, 1);

    /* Again with another seed: every byte changes, the guards do not. */
    dmatd_write_odd(d, base, segs, list, ~DMATD_SEED,
                    "write-pattern, second seed");
    dmatd_stop(d);
}

static void test_verify_pattern(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    DmatdSeg segs[DMATD_ODD_NSEGS];
    uint64_t base = dmatd_region(d, DMATD_ODD_REGION);
    uint64_t total, list, cmd, tail, exp;
    g_autofree uint8_t *good = NULL;
    g_autofree uint8_t *bad = NULL;

    dmatd_odd_layout(base, segs);
    total = dmatd_total(segs, DMATD_ODD_NSEGS);
    good = g_malloc(total);
    dmatd_pattern(good, DMATD_SEED, 0, total);
    bad = g_memdup2(good, total);

    /* Good data, put there by the test itself. */
    dmatd_scatter(d, segs, DMATD_ODD_NSEGS, good);
    list = dmatd_put_list(d, segs, DMATD_ODD_NSEGS);
    dmatd_set_src(d, list, DMATD_ODD_NSEGS);
    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    cmd = dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
    dmatd_check_ok(d, total, dmatd_csum_buf(good, total));
    dmatd_check_log_single(d, cmd, "verify-pattern", "src", list, segs,
                           DMATD_ODD_NSEGS);
    /* VERIFY only reads. */
    dmatd_check_image(d, "verify-pattern", base, DMATD_ODD_REGION, segs,
                      DMATD_ODD_NSEGS, good, DMATD_GUARD);

    /*
     * One byte flipped at transfer offset 5: word 0 is bad, and it starts
     * in segment 0 although the bad byte sits in segment 1.
     */
    bad[5] ^= 0x40;
    dmatd_scatter(d, segs, DMATD_ODD_NSEGS, bad);
    dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
    dmatd_check_mismatch(d, total, 1, 0, 0, dmatd_pattern_word(DMATD_SEED, 0),
                         ldq_le_p(bad));
    DMATD_CHECK_REG64(d, DMATD_REG_CHECKSUM_LO, dmatd_csum_buf(bad, total));
    bad[5] = good[5];

    /* Two bad words: the first (offset 4096, segment 2) is reported. */
    bad[4100] ^= 0x01;
    bad[total - 2] ^= 0x80;
    dmatd_scatter(d, segs, DMATD_ODD_NSEGS, bad);
    dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
    dmatd_check_mismatch(d, total, 2, 2, 4096,
                         dmatd_pattern_word(DMATD_SEED, 4096),
                         ldq_le_p(bad + 4096));
    DMATD_CHECK_REG64(d, DMATD_REG_CHECKSUM_LO, dmatd_csum_buf(bad, total));
    bad[4100] = good[4100];

    /*
     * Only the final partial word is bad: both sides are its present
     * bytes, zero-padded.
     */
    dmatd_scatter(d, segs, DMATD_ODD_NSEGS, bad);
    tail = total & ~7ULL;
    g_assert_cmpuint(total - tail, ==, 7);
    exp = dmatd_pattern_word(DMATD_SEED, tail) & MAKE_64BIT_MASK(0, 56);
    dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
    dmatd_check_mismatch(d, total, 1, DMATD_ODD_NSEGS - 1, tail, exp,
                         exp ^ (0x80ULL << 40));
    bad[total - 2] = good[total - 2];

    /* The wrong seed: every word is bad, word 0 reported. */
    dmatd_scatter(d, segs, DMATD_ODD_NSEGS, good);
    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED + 1);
    dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
    dmatd_check_mismatch(d, total, DIV_ROUND_UP(total, 8), 0, 0,
                         dmatd_pattern_word(DMATD_SEED + 1, 0),
                         dmatd_pattern_word(DMATD_SEED, 0));

    /* And good again. */
    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
    dmatd_check_ok(d, total, dmatd_csum_buf(good, total));
    dmatd_stop(d);
}

/* Copy segments: different splits on each side, same total (6419). */
#define DMATD_COPY_NSRC     6
#define DMATD_COPY_NDST     4

static void dmatd_copy_layout(uint64_t src_base, uint64_t dst_base,
                              DmatdSeg *src, DmatdSeg *dst)
{
    static const DmatdSeg src_layout[DMATD_COPY_NSRC] = {
        { 0x2003, 5 }, { 0x0800, 4096 }, { 0x1ff1, 1 },
        { 0x3100, 300 }, { 0x1801, 2000 }, { 0x0011, 17 },
    };
    static const DmatdSeg dst_layout[DMATD_COPY_NDST] = {
        { 0x2805, 1000 }, { 0x0009, 3 }, { 0x1000, 4096 }, { 0x0101, 1320 },
    };
    int i;

    for (i = 0; i < DMATD_COPY_NSRC; i++) {
        src[i] = src_layout[i];
        src[i].addr += src_base;
    }
    for (i = 0; i < DMATD_COPY_NDST; i++) {
        dst[i] = dst_layout[i];
        dst[i].addr += dst_base;
    }
}

static void test_copy(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    DmatdSeg src[DMATD_COPY_NSRC], dst[DMATD_COPY_NDST];
    DmatdSeg dst_long[DMATD_COPY_NDST];
    uint64_t src_base = dmatd_region(d, DMATD_ODD_REGION);
    uint64_t dst_base = dmatd_region(d, DMATD_ODD_REGION);
    uint64_t total, src_list, dst_list, cmd;
    g_autoptr(GRand) rand = g_rand_new_with_seed(0xc0b1);
    g_autofree uint8_t *stream = NULL;
    g_autoptr(GArray) log = NULL;
    uint64_t i;

    dmatd_copy_layout(src_base, dst_base, src, dst);
    total = dmatd_total(src, DMATD_COPY_NSRC);
    g_assert_cmpuint(total, ==, dmatd_total(dst, DMATD_COPY_NDST));
    stream = g_malloc(total);
    for (i = 0; i < total; i++) {
        stream[i] = g_rand_int(rand);
    }
    dmatd_scatter(d, src, DMATD_COPY_NSRC, stream);

    src_list = dmatd_put_list(d, src, DMATD_COPY_NSRC);
    dst_list = dmatd_put_list(d, dst, DMATD_COPY_NDST);
    dmatd_set_src(d, src_list, DMATD_COPY_NSRC);
    dmatd_set_dst(d, dst_list, DMATD_COPY_NDST);
    cmd = dmatd_cmd(d, DMATD_OP_COPY);
    dmatd_check_ok(d, total, dmatd_csum_buf(stream, total));
    dmatd_check_image(d, "copy destination", dst_base, DMATD_ODD_REGION, dst,
                      DMATD_COPY_NDST, stream, DMATD_GUARD);
    dmatd_check_image(d, "copy source", src_base, DMATD_ODD_REGION, src,
                      DMATD_COPY_NSRC, stream, DMATD_GUARD);

    /* Both list reads first (source first), then the data segments. */
    log = dmatd_log_get(d, cmd);
    g_assert_cmpuint(log->len, ==, 2 + DMATD_COPY_NSRC + DMATD_COPY_NDST);
    dmatd_check_log_seqs(log);
    dmatd_check_log(&g_array_index(log, DmatdLogEntry, 0), "copy", "src-list",
                    0, "read", src_list, DMATD_COPY_NSRC * DMATD_SEG_SIZE,
                    DMATD_COPY_NSRC * DMATD_SEG_SIZE, "ok");
    dmatd_check_log(&g_array_index(log, DmatdLogEntry, 1), "copy", "dst-list",
                    0, "read", dst_list, DMATD_COPY_NDST * DMATD_SEG_SIZE,
                    DMATD_COPY_NDST * DMATD_SEG_SIZE, "ok");
    dmatd_check_log_segs(log, 2, "copy", "src", src, DMATD_COPY_NSRC);
    dmatd_check_log_segs(log, 2, "copy", "dst", dst, DMATD_COPY_NDST);

    /* One byte more on the destination side: nothing is copied. */
    qtest_memset(d->qts, dst_base, DMATD_GUARD, DMATD_ODD_REGION);
    memcpy(dst_long, dst, sizeof(dst));
    dst_long[DMATD_COPY_NDST - 1].len++;
    dst_list = dmatd_put_list(d, dst_long, DMATD_COPY_NDST);
    dmatd_set_dst(d, dst_list, DMATD_COPY_NDST);
    cmd = dmatd_cmd(d, DMATD_OP_COPY);
    dmatd_check_error(d, DMATD_ERR_LENGTH_MISMATCH, DMATD_LIST_NONE, 0, 0, 0);
    dmatd_check_untouched(d, "copy length mismatch", dst_base, DMATD_ODD_REGION,
                          DMATD_GUARD);
    g_assert_cmpuint(dmatd_check_log_no_data(d, cmd), ==, 2);
    dmatd_stop(d);
}

/*
 * COPY whose destination overlaps its source, behind it and ahead of it,
 * in one piece and in several.  The spec defines the result: front to
 * back, in pieces of at most 64 KiB where the two overlap, each copied as
 * by memmove(), the checksum over the bytes each piece read.  The model
 * below does exactly that to a copy of the region; the device must leave
 * the region as the model does and report the model's checksum.
 */
#define DMATD_OVERLAP_PIECE (64 * KiB)

static void test_copy_overlap(const void *data)
{
    static const struct {
        uint64_t len;
        int64_t shift;          /* destination - source */
    } cases[] = {
        { 40000, 1000 }, { 40000, -1000 }, { 200000, 1000 },
        { 200000, -4099 }, { 200000, 100003 }, { 3 * DMATD_OVERLAP_PIECE, 8 },
    };
    DmatdDev *d = dmatd_start(data, "", "");
    g_autoptr(GRand) rand = g_rand_new_with_seed(0x0e11a9);
    size_t i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        uint64_t len = cases[i].len, gap = ABS(cases[i].shift), p, j;
        uint64_t size = len + gap, base = dmatd_region(d, size);
        /* The lower of the two starts at the region's base. */
        uint64_t soff = (cases[i].shift < 0) * gap, doff = gap - soff;
        g_autofree uint8_t *model = g_malloc(size);
        g_autofree uint8_t *whole = g_malloc(size);
        g_autofree uint8_t *got = g_malloc(size);
        g_autofree uint8_t *piece = g_malloc(DMATD_OVERLAP_PIECE);
        DmatdSeg src = { base + soff, len }, dst = { base + doff, len };
        DmatdCsum csum;

        for (j = 0; j < size; j++) {
            model[j] = g_rand_int(rand);
        }
        qtest_memwrite(d->qts, base, model, size);
        memcpy(whole, model, size);
        memmove(whole + doff, whole + soff, len);

        dmatd_csum_start(&csum);
        for (p = 0; p < len; p += DMATD_OVERLAP_PIECE) {
            uint64_t k = MIN(DMATD_OVERLAP_PIECE, len - p);

            memcpy(piece, model + soff + p, k);
            dmatd_csum_feed(&csum, piece, k);
            memcpy(model + doff + p, piece, k);
        }
        /*
         * Ahead of the source, in several pieces, the first piece writes
         * where a later one reads: then not the same as one memmove().
         */
        g_assert_true((len > DMATD_OVERLAP_PIECE && cases[i].shift > 0) ==
                      (memcmp(model, whole, size) != 0));

        dmatd_set_src(d, dmatd_put_list(d, &src, 1), 1);
        dmatd_set_dst(d, dmatd_put_list(d, &dst, 1), 1);
        dmatd_cmd(d, DMATD_OP_COPY);
        dmatd_check_ok(d, len, dmatd_csum_end(&csum));
        qtest_memread(d->qts, base, got, size);
        j = 0;
        while (j < size && got[j] == model[j]) {
            j++;
        }
        if (j < size) {
            dmatd_report("copy len %" PRIu64 " shift %" PRId64 ": byte %"
                         PRIu64 " is 0x%02x, expected 0x%02x", len,
                         cases[i].shift, j, got[j], model[j]);
        }
        g_assert_cmpuint(j, ==, size);
    }
    dmatd_stop(d);
}

static void test_fill(const void *data)
{
    const uint64_t fill = 0x0123456789abcdefULL;
    DmatdDev *d = dmatd_start(data, "", "");
    DmatdSeg segs[DMATD_ODD_NSEGS];
    uint64_t base = dmatd_region(d, DMATD_ODD_REGION);
    uint64_t total, list, cmd;
    g_autofree uint8_t *stream = NULL;

    dmatd_odd_layout(base, segs);
    total = dmatd_total(segs, DMATD_ODD_NSEGS);
    stream = g_malloc(total);
    dmatd_fill_stream(stream, fill, total);

    list = dmatd_put_list(d, segs, DMATD_ODD_NSEGS);
    dmatd_set_dst(d, list, DMATD_ODD_NSEGS);
    dmatd_wr64(d, DMATD_REG_FILL_LO, fill);
    DMATD_CHECK_REG64(d, DMATD_REG_FILL_LO, fill);
    cmd = dmatd_cmd(d, DMATD_OP_FILL);
    dmatd_check_ok(d, total, dmatd_csum_buf(stream, total));
    dmatd_check_image(d, "fill", base, DMATD_ODD_REGION, segs, DMATD_ODD_NSEGS,
                      stream, DMATD_GUARD);
    dmatd_check_log_single(d, cmd, "fill", "dst", list, segs, DMATD_ODD_NSEGS);
    dmatd_stop(d);
}

/*
 * The "x-misdirect-offset" negative control that guest-level oracles rely
 * on: exactly one word of a WRITE_PATTERN lands one page further than
 * programmed, its home keeps its old content, and the DMA log shows the
 * stray write.
 */
#define DMATD_MISDIRECT_OFF 0x1008

static void test_misdirect(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",x-misdirect-offset=0x1008", "");
    uint64_t base = dmatd_region(d, 3 * DMATD_PAGE);
    DmatdSeg seg = { base, 3 * DMATD_PAGE };
    uint64_t list = dmatd_put_list(d, &seg, 1);
    g_autofree uint8_t *got = g_malloc(3 * DMATD_PAGE);
    g_autoptr(GArray) log = NULL;
    uint64_t cmd, t;

    dmatd_set_dst(d, list, 1);
    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    cmd = dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_ok(d, 3 * DMATD_PAGE,
                   dmatd_pattern_csum(DMATD_SEED, 3 * DMATD_PAGE));

    qtest_memread(d->qts, base, got, 3 * DMATD_PAGE);
    for (t = 0; t < 3 * DMATD_PAGE; t += 8) {
        uint64_t exp = dmatd_pattern_word(DMATD_SEED, t);

        if (t == DMATD_MISDIRECT_OFF) {
            exp = 0x0101010101010101ULL * DMATD_GUARD;
        } else if (t == DMATD_MISDIRECT_OFF + DMATD_PAGE) {
            exp = dmatd_pattern_word(DMATD_SEED, DMATD_MISDIRECT_OFF);
        }
        dmatd_check_u64("misdirect", base + t, exp, ldq_le_p(got + t));
    }

    log = dmatd_log_get(d, cmd);
    g_assert_cmpuint(log->len, ==, 3);
    dmatd_check_log(&g_array_index(log, DmatdLogEntry, 1), "write-pattern",
                    "dst", 0, "write",
                    base + DMATD_MISDIRECT_OFF + DMATD_PAGE, 8, 8, "ok");
    dmatd_check_log(&g_array_index(log, DmatdLogEntry, 2), "write-pattern",
                    "dst", 0, "write", base, 3 * DMATD_PAGE, 3 * DMATD_PAGE,
                    "ok");
    dmatd_stop(d);
}

/*
 * The pin ioctl model: a 64-page user buffer whose pages the kernel
 * pinned at scattered physical addresses, some in physically contiguous
 * runs.  IOMMU_IOAS_NOIOMMU_GET_PA reports one segment per contiguous run,
 * and that is the list the device gets.
 */
#define DMATD_PIN_PAGES     64
#define DMATD_PIN_SLOTS     160     /* pool size in pages */

static const unsigned dmatd_pin_runs[] = {
    2, 1, 1, 8, 1, 3, 1, 1, 16, 1, 2, 1, 1, 4, 1, 1, 5, 1, 1, 1, 2, 1,
    1, 1, 3, 1, 1, 1,
};

static void test_pin_model(const void *data)
{
    const unsigned nruns = ARRAY_SIZE(dmatd_pin_runs);
    DmatdDev *d = dmatd_start(data, "", "");
    g_autoptr(GRand) rand = g_rand_new_with_seed(0x9a9e5);
    uint64_t pool = dmatd_region(d, DMATD_PIN_SLOTS * DMATD_PAGE);
    const uint64_t total = DMATD_PIN_PAGES * DMATD_PAGE;
    uint64_t pa[DMATD_PIN_PAGES], seg_off[DMATD_PIN_PAGES];
    unsigned order[ARRAY_SIZE(dmatd_pin_runs)];
    unsigned run_page[ARRAY_SIZE(dmatd_pin_runs)];
    DmatdSeg segs[DMATD_PIN_PAGES];
    g_autofree uint8_t *stream = g_malloc(total);
    uint64_t list, cmd, off, exp, got, addr;
    unsigned i, j, slot, page, nsegs, k, w, s;
    bool sorted = true;

    /* The user buffer's pages, run by run, in user order. */
    for (i = 0, page = 0; i < nruns; i++) {
        run_page[i] = page;
        page += dmatd_pin_runs[i];
        order[i] = i;
    }
    g_assert_cmpuint(page, ==, DMATD_PIN_PAGES);

    /* Place the runs in the pool in shuffled order, guard pages between. */
    for (i = nruns - 1; i > 0; i--) {
        j = g_rand_int_range(rand, 0, i + 1);
        k = order[i];
        order[i] = order[j];
        order[j] = k;
    }
    for (i = 0, slot = 1; i < nruns; i++) {
        unsigned r = order[i];

        sorted &= i == 0 || order[i] > order[i - 1];
        for (j = 0; j < dmatd_pin_runs[r]; j++) {
            pa[run_page[r] + j] = pool + (uint64_t)(slot + j) * DMATD_PAGE;
        }
        slot += dmatd_pin_runs[r] + 1 + g_rand_int_range(rand, 0, 2);
    }
    g_assert_cmpuint(slot, <=, DMATD_PIN_SLOTS);
    g_assert_false(sorted);

    /* What GET_PA reports: physically contiguous pages merged. */
    for (i = 0, nsegs = 0; i < DMATD_PIN_PAGES; i++) {
        if (nsegs && pa[i] == segs[nsegs - 1].addr + segs[nsegs - 1].len) {
            segs[nsegs - 1].len += DMATD_PAGE;
        } else {
            seg_off[nsegs] = (uint64_t)i * DMATD_PAGE;
            segs[nsegs++] = (DmatdSeg) { .addr = pa[i], .len = DMATD_PAGE };
        }
    }
    g_assert_cmpuint(nsegs, ==, nruns);

    /* WRITE: every page holds the words of its place in the buffer. */
    dmatd_pattern(stream, DMATD_SEED, 0, total);
    list = dmatd_put_list(d, segs, nsegs);
    dmatd_set_dst(d, list, nsegs);
    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    cmd = dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_check_ok(d, total, dmatd_pattern_csum(DMATD_SEED, total));
    dmatd_check_image(d, "pinned pages", pool, DMATD_PIN_SLOTS * DMATD_PAGE,
                      segs, nsegs, stream, DMATD_GUARD);
    for (i = 0; i < DMATD_PIN_PAGES; i += 9) {
        /* The same, word-wise, as a reader of the page would see it. */
        off = (uint64_t)i * DMATD_PAGE + 8 * i;
        dmatd_check_u64("pinned page word", pa[i] + 8 * i,
                        dmatd_pattern_word(DMATD_SEED, off),
                        qtest_readq(d->qts, pa[i] + 8 * i));
    }
    dmatd_check_log_single(d, cmd, "write-pattern", "dst", list, segs, nsegs);

    /* VERIFY passes. */
    dmatd_set_src(d, list, nsegs);
    cmd = dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
    dmatd_check_ok(d, total, dmatd_pattern_csum(DMATD_SEED, total));
    dmatd_check_log_single(d, cmd, "verify-pattern", "src", list, segs, nsegs);

    /* One bad word in the middle of the 16-page run is pinpointed. */
    k = run_page[8] + 5;
    w = 77;
    addr = pa[k] + 8 * w;
    off = (uint64_t)k * DMATD_PAGE + 8 * w;
    exp = dmatd_pattern_word(DMATD_SEED, off);
    got = exp ^ 0x0000010000000400ULL;
    dmatd_check_u64("word to flip", addr, exp, qtest_readq(d->qts, addr));
    qtest_writeq(d->qts, addr, got);
    stq_le_p(stream + off, got);
    for (s = 0; s < nsegs; s++) {
        if (off < seg_off[s] + segs[s].len) {
            break;
        }
    }
    g_assert_cmpuint(s, ==, 8);
    cmd = dmatd_cmd(d, DMATD_OP_VERIFY_PATTERN);
    dmatd_check_mismatch(d, total, 1, s, off, exp, got);
    DMATD_CHECK_REG64(d, DMATD_REG_CHECKSUM_LO, dmatd_csum_buf(stream, total));
    dmatd_check_log_single(d, cmd, "verify-pattern", "src", list, segs, nsegs);
    dmatd_stop(d);
}

/*
 * DMA log ring and register access (q35)
 */

static void test_dma_log_ring(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",dma-log-size=4", "");
    uint64_t base = dmatd_region(d, DMATD_PAGE);
    DmatdSeg segs[3] = {
        { base + 0x10, 8 }, { base + 0x100, 3 }, { base + 0x201, 100 },
    };
    uint64_t list = dmatd_put_list(d, segs, 3);
    g_autoptr(GArray) log = NULL;
    guint i;

    dmatd_set_dst(d, list, 3);
    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);

    /* 8 entries were logged; the ring keeps the newest 4. */
    log = dmatd_log_get(d, 0);
    g_assert_cmpuint(log->len, ==, 4);
    for (i = 0; i < 4; i++) {
        DmatdLogEntry *e = &g_array_index(log, DmatdLogEntry, i);

        g_assert_cmpuint(e->seq, ==, 5 + i);
        g_assert_cmpuint(e->cmd, ==, 2);
    }
    dmatd_check_log(&g_array_index(log, DmatdLogEntry, 0), "write-pattern",
                    "dst-list", 0, "read", list, 3 * DMATD_SEG_SIZE,
                    3 * DMATD_SEG_SIZE, "ok");
    dmatd_check_log_segs(log, 1, "write-pattern", "dst", segs, 3);
    dmatd_stop(d);
}

static void test_mmio_access(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    QTestState *qts = d->qts;
    uint64_t bar = d->bar.addr;

    /* 1- and 2-byte and unaligned accesses are ignored and read as 0. */
    g_assert_cmphex(qtest_readb(qts, bar + DMATD_REG_ID), ==, 0);
    g_assert_cmphex(qtest_readb(qts, bar + DMATD_REG_ID + 1), ==, 0);
    g_assert_cmphex(qtest_readw(qts, bar + DMATD_REG_ID), ==, 0);
    g_assert_cmphex(qtest_readw(qts, bar + DMATD_REG_ID + 2), ==, 0);
    g_assert_cmphex(qtest_readl(qts, bar + DMATD_REG_ID + 2), ==, 0);
    g_assert_cmphex(qtest_readq(qts, bar + DMATD_REG_VERSION), ==, 0);
    g_assert_cmphex(qtest_readl(qts, bar + DMATD_REG_ID), ==,
                    DMA_TESTDEV_ID_VALUE);

    dmatd_wr(d, DMATD_REG_SEED, 0x11223344);
    qtest_writeb(qts, bar + DMATD_REG_SEED, 0xff);
    qtest_writew(qts, bar + DMATD_REG_SEED + 2, 0xffff);
    qtest_writel(qts, bar + DMATD_REG_SEED + 1, 0xffffffff);
    qtest_writeq(qts, bar + DMATD_REG_SEED + 4, ~0ULL);
    DMATD_CHECK_REG(d, DMATD_REG_SEED, 0x11223344);
    DMATD_CHECK_REG64(d, DMATD_REG_SRC_LIST_LO, 0);

    /* Aligned 8-byte accesses at a _LO offset cover both halves. */
    dmatd_wr(d, DMATD_REG_SRC_LIST_LO, 0x89abcdef);
    dmatd_wr(d, DMATD_REG_SRC_LIST_HI, 0x01234567);
    g_assert_cmphex(qtest_readq(qts, bar + DMATD_REG_SRC_LIST_LO), ==,
                    0x0123456789abcdefULL);
    qtest_writeq(qts, bar + DMATD_REG_DST_LIST_LO, 0xfedcba9876543210ULL);
    DMATD_CHECK_REG(d, DMATD_REG_DST_LIST_LO, 0x76543210);
    DMATD_CHECK_REG(d, DMATD_REG_DST_LIST_HI, 0xfedcba98);
    g_assert_cmphex(qtest_readq(qts, bar + DMATD_REG_MAX_XFER_LO), ==, 1 * GiB);
    qtest_writeq(qts, bar + DMATD_REG_FILL_LO, 0x0102030405060708ULL);
    DMATD_CHECK_REG(d, DMATD_REG_FILL_LO, 0x05060708);
    DMATD_CHECK_REG(d, DMATD_REG_FILL_HI, 0x01020304);

    /* Read-only registers ignore writes. */
    dmatd_wr(d, DMATD_REG_ID, 0);
    dmatd_wr(d, DMATD_REG_ADDR_BITS, 12);
    dmatd_wr(d, DMATD_REG_MAX_SEGS, 1);
    dmatd_wr64(d, DMATD_REG_CMD_SEQ_LO, 1000);
    dmatd_wr(d, DMATD_REG_STATUS, DMATD_STATUS_ERROR);
    DMATD_CHECK_REG(d, DMATD_REG_ID, DMA_TESTDEV_ID_VALUE);
    DMATD_CHECK_REG(d, DMATD_REG_ADDR_BITS, 64);
    DMATD_CHECK_REG(d, DMATD_REG_MAX_SEGS, 65536);
    DMATD_CHECK_REG64(d, DMATD_REG_CMD_SEQ_LO, 0);
    DMATD_CHECK_REG(d, DMATD_REG_STATUS, 0);

    /* Unknown registers read as 0. */
    DMATD_CHECK_REG(d, 0x800, 0);
    DMATD_CHECK_REG(d, DMA_TESTDEV_BAR0_SIZE - 4, 0);

    /* A CMD byte write does not start a command. */
    qtest_writeb(qts, bar + DMATD_REG_CMD, DMATD_OP_WRITE_PATTERN);
    DMATD_CHECK_REG64(d, DMATD_REG_CMD_SEQ_LO, 0);
    DMATD_CHECK_REG(d, DMATD_REG_STATUS, 0);
    dmatd_stop(d);
}

void dmatd_add_data_tests(void)
{
    dmatd_add("identity", test_identity, true);
    dmatd_add("identity-props", test_identity_props, true);
    dmatd_add("write-pattern", test_write_pattern, true);
    dmatd_add("verify-pattern", test_verify_pattern, true);
    dmatd_add("copy", test_copy, true);
    dmatd_add("copy-overlap", test_copy_overlap, false);
    dmatd_add("fill", test_fill, true);
    dmatd_add("pin-model", test_pin_model, true);
    dmatd_add("misdirect", test_misdirect, false);
    dmatd_add("dma-log-ring", test_dma_log_ring, false);
    dmatd_add("mmio-access", test_mmio_access, false);
}
