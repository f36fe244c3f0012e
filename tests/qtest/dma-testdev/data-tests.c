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

    DT_CHECK_REG(d, DT_REG_ID, DMA_TESTDEV_ID_VALUE);
    DT_CHECK_REG(d, DT_REG_VERSION, DMA_TESTDEV_VERSION_VALUE);
    DT_CHECK_REG(d, DT_REG_CAPS, DT_ALL_OPS | DT_CAP_QUEUE);
    DT_CHECK_REG(d, DT_REG_ADDR_BITS, 64);
    DT_CHECK_REG(d, DT_REG_MAX_SEGS, 65536);
    DT_CHECK_REG64(d, DT_REG_MAX_XFER_LO, 1 * GiB);
    DT_CHECK_REG(d, DT_REG_STATUS, 0);
    DT_CHECK_REG(d, DT_REG_ERROR, DT_ERR_NONE);
    DT_CHECK_REG(d, DT_REG_CMD, DT_OP_NONE);
    DT_CHECK_REG64(d, DT_REG_CMD_SEQ_LO, 0);

    dmatd_stop(d);
}

static void test_identity_props(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",addr-bits=32,max-segments=8,"
                        "max-transfer=0x123456789", "");

    DT_CHECK_REG(d, DT_REG_ID, DMA_TESTDEV_ID_VALUE);
    DT_CHECK_REG(d, DT_REG_ADDR_BITS, 32);
    DT_CHECK_REG(d, DT_REG_MAX_SEGS, 8);
    DT_CHECK_REG64(d, DT_REG_MAX_XFER_LO, 0x123456789ULL);
    dmatd_stop(d);
}

static void test_write_pattern(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    DtSeg segs[DT_ODD_NSEGS];
    uint64_t base = dt_region(d, DT_ODD_REGION);
    uint64_t total, list, cmd;
    g_autofree uint8_t *stream = NULL;

    dt_odd_layout(base, segs);
    total = dt_total(segs, DT_ODD_NSEGS);
    stream = g_malloc(total);
    dt_pattern(stream, DT_SEED, 0, total);

    list = dt_put_list(d, segs, DT_ODD_NSEGS);
    dt_set_dst(d, list, DT_ODD_NSEGS);
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    g_assert_cmpuint(cmd, ==, 1);
    dt_check_ok(d, total, dt_csum_buf(stream, total));
    dt_check_image(d, "write-pattern", base, DT_ODD_REGION, segs,
                   DT_ODD_NSEGS, stream, DT_GUARD);
    dt_check_log_single(d, cmd, "write-pattern", "dst", list, segs,
                        DT_ODD_NSEGS);

    /* Again with another seed: every byte changes, the guards do not. */
    dmatd_wr(d, DT_REG_SEED, ~DT_SEED);
    dt_pattern(stream, ~DT_SEED, 0, total);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_ok(d, total, dt_csum_buf(stream, total));
    dt_check_image(d, "write-pattern, second seed", base, DT_ODD_REGION,
                   segs, DT_ODD_NSEGS, stream, DT_GUARD);
    dt_check_log_single(d, cmd, "write-pattern", "dst", list, segs,
                        DT_ODD_NSEGS);
    dmatd_stop(d);
}

static void test_verify_pattern(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    DtSeg segs[DT_ODD_NSEGS];
    uint64_t base = dt_region(d, DT_ODD_REGION);
    uint64_t total, list, cmd, tail, exp;
    g_autofree uint8_t *good = NULL;
    g_autofree uint8_t *bad = NULL;

    dt_odd_layout(base, segs);
    total = dt_total(segs, DT_ODD_NSEGS);
    good = g_malloc(total);
    dt_pattern(good, DT_SEED, 0, total);
    bad = g_memdup2(good, total);

    /* Good data, put there by the test itself. */
    dt_scatter(d, segs, DT_ODD_NSEGS, good);
    list = dt_put_list(d, segs, DT_ODD_NSEGS);
    dt_set_src(d, list, DT_ODD_NSEGS);
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    cmd = dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_ok(d, total, dt_csum_buf(good, total));
    dt_check_log_single(d, cmd, "verify-pattern", "src", list, segs,
                        DT_ODD_NSEGS);
    /* VERIFY only reads. */
    dt_check_image(d, "verify-pattern", base, DT_ODD_REGION, segs,
                   DT_ODD_NSEGS, good, DT_GUARD);

    /*
     * One byte flipped at transfer offset 5: word 0 is bad, and it starts
     * in segment 0 although the bad byte sits in segment 1.
     */
    bad[5] ^= 0x40;
    dt_scatter(d, segs, DT_ODD_NSEGS, bad);
    dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_mismatch(d, total, 1, 0, 0, dt_pattern_word(DT_SEED, 0),
                      ldq_le_p(bad));
    DT_CHECK_REG64(d, DT_REG_CHECKSUM_LO, dt_csum_buf(bad, total));
    bad[5] = good[5];

    /* Two bad words: the first (offset 4096, segment 2) is reported. */
    bad[4100] ^= 0x01;
    bad[total - 2] ^= 0x80;
    dt_scatter(d, segs, DT_ODD_NSEGS, bad);
    dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_mismatch(d, total, 2, 2, 4096, dt_pattern_word(DT_SEED, 4096),
                      ldq_le_p(bad + 4096));
    DT_CHECK_REG64(d, DT_REG_CHECKSUM_LO, dt_csum_buf(bad, total));
    bad[4100] = good[4100];

    /*
     * Only the final partial word is bad: both sides are its present
     * bytes, zero-padded.
     */
    dt_scatter(d, segs, DT_ODD_NSEGS, bad);
    tail = total & ~7ULL;
    g_assert_cmpuint(total - tail, ==, 7);
    exp = dt_pattern_word(DT_SEED, tail) & MAKE_64BIT_MASK(0, 56);
    dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_mismatch(d, total, 1, DT_ODD_NSEGS - 1, tail, exp,
                      exp ^ (0x80ULL << 40));
    bad[total - 2] = good[total - 2];

    /* The wrong seed: every word is bad, word 0 reported. */
    dt_scatter(d, segs, DT_ODD_NSEGS, good);
    dmatd_wr(d, DT_REG_SEED, DT_SEED + 1);
    dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_mismatch(d, total, DIV_ROUND_UP(total, 8), 0, 0,
                      dt_pattern_word(DT_SEED + 1, 0),
                      dt_pattern_word(DT_SEED, 0));

    /* And good again. */
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_ok(d, total, dt_csum_buf(good, total));
    dmatd_stop(d);
}

/* Copy segments: different splits on each side, same total (6419). */
#define DT_COPY_NSRC        6
#define DT_COPY_NDST        4

static void dt_copy_layout(uint64_t src_base, uint64_t dst_base,
                           DtSeg *src, DtSeg *dst)
{
    static const DtSeg src_layout[DT_COPY_NSRC] = {
        { 0x2003, 5 }, { 0x0800, 4096 }, { 0x1ff1, 1 },
        { 0x3100, 300 }, { 0x1801, 2000 }, { 0x0011, 17 },
    };
    static const DtSeg dst_layout[DT_COPY_NDST] = {
        { 0x2805, 1000 }, { 0x0009, 3 }, { 0x1000, 4096 }, { 0x0101, 1320 },
    };
    int i;

    for (i = 0; i < DT_COPY_NSRC; i++) {
        src[i] = src_layout[i];
        src[i].addr += src_base;
    }
    for (i = 0; i < DT_COPY_NDST; i++) {
        dst[i] = dst_layout[i];
        dst[i].addr += dst_base;
    }
}

static void test_copy(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    DtSeg src[DT_COPY_NSRC], dst[DT_COPY_NDST], dst_long[DT_COPY_NDST];
    uint64_t src_base = dt_region(d, DT_ODD_REGION);
    uint64_t dst_base = dt_region(d, DT_ODD_REGION);
    uint64_t total, src_list, dst_list, cmd;
    g_autoptr(GRand) rand = g_rand_new_with_seed(0xc0b1);
    g_autofree uint8_t *stream = NULL;
    g_autoptr(GArray) log = NULL;
    uint64_t i;

    dt_copy_layout(src_base, dst_base, src, dst);
    total = dt_total(src, DT_COPY_NSRC);
    g_assert_cmpuint(total, ==, dt_total(dst, DT_COPY_NDST));
    stream = g_malloc(total);
    for (i = 0; i < total; i++) {
        stream[i] = g_rand_int(rand);
    }
    dt_scatter(d, src, DT_COPY_NSRC, stream);

    src_list = dt_put_list(d, src, DT_COPY_NSRC);
    dst_list = dt_put_list(d, dst, DT_COPY_NDST);
    dt_set_src(d, src_list, DT_COPY_NSRC);
    dt_set_dst(d, dst_list, DT_COPY_NDST);
    cmd = dt_cmd(d, DT_OP_COPY);
    dt_check_ok(d, total, dt_csum_buf(stream, total));
    dt_check_image(d, "copy destination", dst_base, DT_ODD_REGION, dst,
                   DT_COPY_NDST, stream, DT_GUARD);
    dt_check_image(d, "copy source", src_base, DT_ODD_REGION, src,
                   DT_COPY_NSRC, stream, DT_GUARD);

    /* Both list reads first (source first), then the data segments. */
    log = dt_log_get(d, cmd);
    g_assert_cmpuint(log->len, ==, 2 + DT_COPY_NSRC + DT_COPY_NDST);
    dt_check_log_seqs(log);
    dt_check_log(&g_array_index(log, DtLogEntry, 0), "copy", "src-list", 0,
                 "read", src_list, DT_COPY_NSRC * DT_SEG_SIZE,
                 DT_COPY_NSRC * DT_SEG_SIZE, "ok");
    dt_check_log(&g_array_index(log, DtLogEntry, 1), "copy", "dst-list", 0,
                 "read", dst_list, DT_COPY_NDST * DT_SEG_SIZE,
                 DT_COPY_NDST * DT_SEG_SIZE, "ok");
    dt_check_log_segs(log, 2, "copy", "src", src, DT_COPY_NSRC);
    dt_check_log_segs(log, 2, "copy", "dst", dst, DT_COPY_NDST);

    /* One byte more on the destination side: nothing is copied. */
    qtest_memset(d->qts, dst_base, DT_GUARD, DT_ODD_REGION);
    memcpy(dst_long, dst, sizeof(dst));
    dst_long[DT_COPY_NDST - 1].len++;
    dst_list = dt_put_list(d, dst_long, DT_COPY_NDST);
    dt_set_dst(d, dst_list, DT_COPY_NDST);
    cmd = dt_cmd(d, DT_OP_COPY);
    dt_check_error(d, DT_ERR_LENGTH_MISMATCH, DT_LIST_NONE, 0, 0, 0);
    dt_check_untouched(d, "copy length mismatch", dst_base, DT_ODD_REGION,
                       DT_GUARD);
    g_assert_cmpuint(dt_check_log_no_data(d, cmd), ==, 2);
    dmatd_stop(d);
}

static void test_fill(const void *data)
{
    const uint64_t fill = 0x0123456789abcdefULL;
    DmatdDev *d = dmatd_start(data, "", "");
    DtSeg segs[DT_ODD_NSEGS];
    uint64_t base = dt_region(d, DT_ODD_REGION);
    uint64_t total, list, cmd;
    g_autofree uint8_t *stream = NULL;

    dt_odd_layout(base, segs);
    total = dt_total(segs, DT_ODD_NSEGS);
    stream = g_malloc(total);
    dt_fill_stream(stream, fill, total);

    list = dt_put_list(d, segs, DT_ODD_NSEGS);
    dt_set_dst(d, list, DT_ODD_NSEGS);
    dmatd_wr64(d, DT_REG_FILL_LO, fill);
    DT_CHECK_REG64(d, DT_REG_FILL_LO, fill);
    cmd = dt_cmd(d, DT_OP_FILL);
    dt_check_ok(d, total, dt_csum_buf(stream, total));
    dt_check_image(d, "fill", base, DT_ODD_REGION, segs, DT_ODD_NSEGS,
                   stream, DT_GUARD);
    dt_check_log_single(d, cmd, "fill", "dst", list, segs, DT_ODD_NSEGS);
    dmatd_stop(d);
}

/*
 * The "x-misdirect-offset" negative control that guest-level oracles rely
 * on: exactly one word of a WRITE_PATTERN lands one page further than
 * programmed, its home keeps its old content, and the DMA log shows the
 * stray write.
 */
#define DT_MISDIRECT_OFF    0x1008

static void test_misdirect(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",x-misdirect-offset=0x1008", "");
    uint64_t base = dt_region(d, 3 * DT_PAGE);
    DtSeg seg = { base, 3 * DT_PAGE };
    uint64_t list = dt_put_list(d, &seg, 1);
    g_autofree uint8_t *got = g_malloc(3 * DT_PAGE);
    g_autoptr(GArray) log = NULL;
    uint64_t cmd, t;

    dt_set_dst(d, list, 1);
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_ok(d, 3 * DT_PAGE, dt_pattern_csum(DT_SEED, 3 * DT_PAGE));

    qtest_memread(d->qts, base, got, 3 * DT_PAGE);
    for (t = 0; t < 3 * DT_PAGE; t += 8) {
        uint64_t exp = dt_pattern_word(DT_SEED, t);

        if (t == DT_MISDIRECT_OFF) {
            exp = 0x0101010101010101ULL * DT_GUARD;
        } else if (t == DT_MISDIRECT_OFF + DT_PAGE) {
            exp = dt_pattern_word(DT_SEED, DT_MISDIRECT_OFF);
        }
        dt_check_u64("misdirect", base + t, exp, ldq_le_p(got + t));
    }

    log = dt_log_get(d, cmd);
    g_assert_cmpuint(log->len, ==, 3);
    dt_check_log(&g_array_index(log, DtLogEntry, 1), "write-pattern", "dst",
                 0, "write", base + DT_MISDIRECT_OFF + DT_PAGE, 8, 8, "ok");
    dt_check_log(&g_array_index(log, DtLogEntry, 2), "write-pattern", "dst",
                 0, "write", base, 3 * DT_PAGE, 3 * DT_PAGE, "ok");
    dmatd_stop(d);
}

/*
 * The pin ioctl model: a 64-page user buffer whose pages the kernel
 * pinned at scattered physical addresses, some in physically contiguous
 * runs.  IOMMU_IOAS_NOIOMMU_GET_PA reports one segment per contiguous run,
 * and that is the list the device gets.
 */
#define DT_PIN_PAGES        64
#define DT_PIN_SLOTS        160     /* pool size in pages */

static const unsigned dt_pin_runs[] = {
    2, 1, 1, 8, 1, 3, 1, 1, 16, 1, 2, 1, 1, 4, 1, 1, 5, 1, 1, 1, 2, 1,
    1, 1, 3, 1, 1, 1,
};

static void test_pin_model(const void *data)
{
    const unsigned nruns = ARRAY_SIZE(dt_pin_runs);
    DmatdDev *d = dmatd_start(data, "", "");
    g_autoptr(GRand) rand = g_rand_new_with_seed(0x9a9e5);
    uint64_t pool = dt_region(d, DT_PIN_SLOTS * DT_PAGE);
    const uint64_t total = DT_PIN_PAGES * DT_PAGE;
    uint64_t pa[DT_PIN_PAGES], seg_off[DT_PIN_PAGES];
    unsigned order[ARRAY_SIZE(dt_pin_runs)];
    unsigned run_page[ARRAY_SIZE(dt_pin_runs)];
    DtSeg segs[DT_PIN_PAGES];
    g_autofree uint8_t *stream = g_malloc(total);
    uint64_t list, cmd, off, exp, got, addr;
    unsigned i, j, slot, page, nsegs, k, w, s;
    bool sorted = true;

    /* The user buffer's pages, run by run, in user order. */
    for (i = 0, page = 0; i < nruns; i++) {
        run_page[i] = page;
        page += dt_pin_runs[i];
        order[i] = i;
    }
    g_assert_cmpuint(page, ==, DT_PIN_PAGES);

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
        for (j = 0; j < dt_pin_runs[r]; j++) {
            pa[run_page[r] + j] = pool + (uint64_t)(slot + j) * DT_PAGE;
        }
        slot += dt_pin_runs[r] + 1 + g_rand_int_range(rand, 0, 2);
    }
    g_assert_cmpuint(slot, <=, DT_PIN_SLOTS);
    g_assert_false(sorted);

    /* What GET_PA reports: physically contiguous pages merged. */
    for (i = 0, nsegs = 0; i < DT_PIN_PAGES; i++) {
        if (nsegs && pa[i] == segs[nsegs - 1].addr + segs[nsegs - 1].len) {
            segs[nsegs - 1].len += DT_PAGE;
        } else {
            seg_off[nsegs] = (uint64_t)i * DT_PAGE;
            segs[nsegs++] = (DtSeg) { .addr = pa[i], .len = DT_PAGE };
        }
    }
    g_assert_cmpuint(nsegs, ==, nruns);

    /* WRITE: every page holds the words of its place in the buffer. */
    dt_pattern(stream, DT_SEED, 0, total);
    list = dt_put_list(d, segs, nsegs);
    dt_set_dst(d, list, nsegs);
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_ok(d, total, dt_pattern_csum(DT_SEED, total));
    dt_check_image(d, "pinned pages", pool, DT_PIN_SLOTS * DT_PAGE, segs,
                   nsegs, stream, DT_GUARD);
    for (i = 0; i < DT_PIN_PAGES; i += 9) {
        /* The same, word-wise, as a reader of the page would see it. */
        off = (uint64_t)i * DT_PAGE + 8 * i;
        dt_check_u64("pinned page word", pa[i] + 8 * i,
                     dt_pattern_word(DT_SEED, off),
                     qtest_readq(d->qts, pa[i] + 8 * i));
    }
    dt_check_log_single(d, cmd, "write-pattern", "dst", list, segs, nsegs);

    /* VERIFY passes. */
    dt_set_src(d, list, nsegs);
    cmd = dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_ok(d, total, dt_pattern_csum(DT_SEED, total));
    dt_check_log_single(d, cmd, "verify-pattern", "src", list, segs, nsegs);

    /* One bad word in the middle of the 16-page run is pinpointed. */
    k = run_page[8] + 5;
    w = 77;
    addr = pa[k] + 8 * w;
    off = (uint64_t)k * DT_PAGE + 8 * w;
    exp = dt_pattern_word(DT_SEED, off);
    got = exp ^ 0x0000010000000400ULL;
    dt_check_u64("word to flip", addr, exp, qtest_readq(d->qts, addr));
    qtest_writeq(d->qts, addr, got);
    stq_le_p(stream + off, got);
    for (s = 0; s < nsegs; s++) {
        if (off < seg_off[s] + segs[s].len) {
            break;
        }
    }
    g_assert_cmpuint(s, ==, 8);
    cmd = dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_mismatch(d, total, 1, s, off, exp, got);
    DT_CHECK_REG64(d, DT_REG_CHECKSUM_LO, dt_csum_buf(stream, total));
    dt_check_log_single(d, cmd, "verify-pattern", "src", list, segs, nsegs);
    dmatd_stop(d);
}

/*
 * DMA log ring and register access (q35)
 */

static void test_dma_log_ring(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",dma-log-size=4", "");
    uint64_t base = dt_region(d, DT_PAGE);
    DtSeg segs[3] = {
        { base + 0x10, 8 }, { base + 0x100, 3 }, { base + 0x201, 100 },
    };
    uint64_t list = dt_put_list(d, segs, 3);
    g_autoptr(GArray) log = NULL;
    guint i;

    dt_set_dst(d, list, 3);
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_cmd(d, DT_OP_WRITE_PATTERN);

    /* 8 entries were logged; the ring keeps the newest 4. */
    log = dt_log_get(d, 0);
    g_assert_cmpuint(log->len, ==, 4);
    for (i = 0; i < 4; i++) {
        DtLogEntry *e = &g_array_index(log, DtLogEntry, i);

        g_assert_cmpuint(e->seq, ==, 5 + i);
        g_assert_cmpuint(e->cmd, ==, 2);
    }
    dt_check_log(&g_array_index(log, DtLogEntry, 0), "write-pattern",
                 "dst-list", 0, "read", list, 3 * DT_SEG_SIZE,
                 3 * DT_SEG_SIZE, "ok");
    dt_check_log_segs(log, 1, "write-pattern", "dst", segs, 3);
    dmatd_stop(d);
}

static void test_mmio_access(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    QTestState *qts = d->qts;
    uint64_t bar = d->bar.addr;

    /* 1- and 2-byte and unaligned accesses are ignored and read as 0. */
    g_assert_cmphex(qtest_readb(qts, bar + DT_REG_ID), ==, 0);
    g_assert_cmphex(qtest_readb(qts, bar + DT_REG_ID + 1), ==, 0);
    g_assert_cmphex(qtest_readw(qts, bar + DT_REG_ID), ==, 0);
    g_assert_cmphex(qtest_readw(qts, bar + DT_REG_ID + 2), ==, 0);
    g_assert_cmphex(qtest_readl(qts, bar + DT_REG_ID + 2), ==, 0);
    g_assert_cmphex(qtest_readq(qts, bar + DT_REG_VERSION), ==, 0);
    g_assert_cmphex(qtest_readl(qts, bar + DT_REG_ID), ==,
                    DMA_TESTDEV_ID_VALUE);

    dmatd_wr(d, DT_REG_SEED, 0x11223344);
    qtest_writeb(qts, bar + DT_REG_SEED, 0xff);
    qtest_writew(qts, bar + DT_REG_SEED + 2, 0xffff);
    qtest_writel(qts, bar + DT_REG_SEED + 1, 0xffffffff);
    qtest_writeq(qts, bar + DT_REG_SEED + 4, ~0ULL);
    DT_CHECK_REG(d, DT_REG_SEED, 0x11223344);
    DT_CHECK_REG64(d, DT_REG_SRC_LIST_LO, 0);

    /* Aligned 8-byte accesses at a _LO offset cover both halves. */
    dmatd_wr(d, DT_REG_SRC_LIST_LO, 0x89abcdef);
    dmatd_wr(d, DT_REG_SRC_LIST_HI, 0x01234567);
    g_assert_cmphex(qtest_readq(qts, bar + DT_REG_SRC_LIST_LO), ==,
                    0x0123456789abcdefULL);
    qtest_writeq(qts, bar + DT_REG_DST_LIST_LO, 0xfedcba9876543210ULL);
    DT_CHECK_REG(d, DT_REG_DST_LIST_LO, 0x76543210);
    DT_CHECK_REG(d, DT_REG_DST_LIST_HI, 0xfedcba98);
    g_assert_cmphex(qtest_readq(qts, bar + DT_REG_MAX_XFER_LO), ==, 1 * GiB);
    qtest_writeq(qts, bar + DT_REG_FILL_LO, 0x0102030405060708ULL);
    DT_CHECK_REG(d, DT_REG_FILL_LO, 0x05060708);
    DT_CHECK_REG(d, DT_REG_FILL_HI, 0x01020304);

    /* Read-only registers ignore writes. */
    dmatd_wr(d, DT_REG_ID, 0);
    dmatd_wr(d, DT_REG_ADDR_BITS, 12);
    dmatd_wr(d, DT_REG_MAX_SEGS, 1);
    dmatd_wr64(d, DT_REG_CMD_SEQ_LO, 1000);
    dmatd_wr(d, DT_REG_STATUS, DT_STATUS_ERROR);
    DT_CHECK_REG(d, DT_REG_ID, DMA_TESTDEV_ID_VALUE);
    DT_CHECK_REG(d, DT_REG_ADDR_BITS, 64);
    DT_CHECK_REG(d, DT_REG_MAX_SEGS, 65536);
    DT_CHECK_REG64(d, DT_REG_CMD_SEQ_LO, 0);
    DT_CHECK_REG(d, DT_REG_STATUS, 0);

    /* Unknown registers read as 0. */
    DT_CHECK_REG(d, 0x800, 0);
    DT_CHECK_REG(d, DMA_TESTDEV_BAR0_SIZE - 4, 0);

    /* A CMD byte write does not start a command. */
    qtest_writeb(qts, bar + DT_REG_CMD, DT_OP_WRITE_PATTERN);
    DT_CHECK_REG64(d, DT_REG_CMD_SEQ_LO, 0);
    DT_CHECK_REG(d, DT_REG_STATUS, 0);
    dmatd_stop(d);
}

void dt_add_data_tests(void)
{
    dt_add("identity", test_identity, true);
    dt_add("identity-props", test_identity_props, true);
    dt_add("write-pattern", test_write_pattern, true);
    dt_add("verify-pattern", test_verify_pattern, true);
    dt_add("copy", test_copy, true);
    dt_add("fill", test_fill, true);
    dt_add("pin-model", test_pin_model, true);
    dt_add("misdirect", test_misdirect, false);
    dt_add("dma-log-ring", test_dma_log_ring, false);
    dt_add("mmio-access", test_mmio_access, false);
}
