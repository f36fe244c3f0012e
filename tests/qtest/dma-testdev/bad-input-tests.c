/*
 * dma-testdev device qtests: the bad-input matrix.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "dma-testdev/framework.h"

/*
 * The bad-input matrix: every register with every bad access, reserved
 * bits, queue setup at the wrong time, segment lists, data and rings
 * aimed at MMIO, the device's own BARs, ROM, unassigned space and beyond
 * the address width, wrapping and huge values, and doorbells while busy
 * or halted.  Each case must give its documented status and a
 * LOG_GUEST_ERROR line (the log goes to a file the test reads), and QEMU
 * must still answer afterwards.  The summary says how many cases ran.
 */

typedef struct DtMatrix {
    DmatdDev *d;
    FILE *log;                  /* QEMU's -D file, read as it grows */
    unsigned cases;
    unsigned by_kind[4];
    uint64_t list;              /* a one-page list for register commands */
    uint64_t buf;
} DtMatrix;

enum { DT_MX_MMIO, DT_MX_CMD, DT_MX_QUEUE, DT_MX_SQE };

static const char *const dt_mx_kinds[] = {
    "MMIO accesses", "register commands", "queue setup and doorbells",
    "queue entries",
};

/* The new part of QEMU's log must mention the device. */
static void dt_mx_logged(DtMatrix *x, const char *name)
{
    char line[512];
    bool found = false;

    while (fgets(line, sizeof(line), x->log)) {
        found |= !!strstr(line, TYPE_DMA_TESTDEV ":");
    }
    clearerr(x->log);
    if (!found) {
        dt_report("bad input '%s': no LOG_GUEST_ERROR message", name);
    }
}

static void dt_mx_case(DtMatrix *x, int kind, const char *name)
{
    dt_mx_logged(x, name);
    x->cases++;
    x->by_kind[kind]++;
}

/* One bad MMIO access: BAD_COUNT goes up by one and BAD_INFO names it. */
static void dt_mx_access(DtMatrix *x, uint32_t off, unsigned size,
                         bool is_write, uint32_t reason)
{
    DmatdDev *d = x->d;
    uint64_t a = d->bar.addr + off;
    uint32_t before = dmatd_rd(d, DT_REG_BAD_COUNT);
    uint64_t seq = dmatd_rd64(d, DT_REG_CMD_SEQ_LO);
    g_autofree char *name = g_strdup_printf("%u-byte %s at 0x%03x", size,
                                            is_write ? "write" : "read", off);
    uint32_t info;
    uint64_t val = 0;

    if (is_write) {
        switch (size) {
        case 1:
            qtest_writeb(d->qts, a, 0xff);
            break;
        case 2:
            qtest_writew(d->qts, a, 0xffff);
            break;
        case 4:
            qtest_writel(d->qts, a, 0xffffffff);
            break;
        default:
            qtest_writeq(d->qts, a, ~0ULL);
            break;
        }
    } else {
        switch (size) {
        case 1:
            val = qtest_readb(d->qts, a);
            break;
        case 2:
            val = qtest_readw(d->qts, a);
            break;
        case 4:
            val = qtest_readl(d->qts, a);
            break;
        default:
            val = qtest_readq(d->qts, a);
            break;
        }
        g_assert_cmphex(val, ==, 0);
    }
    info = dmatd_rd(d, DT_REG_BAD_INFO);
    if (dmatd_rd(d, DT_REG_BAD_COUNT) != before + 1 ||
        DT_BAD_INFO_REASON(info) != reason ||
        DT_BAD_INFO_OFFSET(info) != off ||
        DT_BAD_INFO_SIZE(info) != size ||
        !!(info & DT_BAD_INFO_WRITE) != is_write) {
        dt_report("bad input '%s': expected BAD_COUNT %u reason %u, found "
                  "BAD_COUNT %u BAD_INFO 0x%08x", name, before + 1, reason,
                  dmatd_rd(d, DT_REG_BAD_COUNT), info);
    }
    /* No bad access ever starts a command. */
    DT_CHECK_REG64(d, DT_REG_CMD_SEQ_LO, seq);
    dt_mx_case(x, DT_MX_MMIO, name);
}

/* Every defined register, and whether the guest may write it. */
static const struct {
    uint32_t off;
    bool writable;
} dt_mx_regs[] = {
    { DT_REG_ID, false }, { DT_REG_VERSION, false }, { DT_REG_CAPS, false },
    { DT_REG_ADDR_BITS, false }, { DT_REG_MAX_SEGS, false },
    { DT_REG_MAX_XFER_LO, false }, { DT_REG_MAX_XFER_HI, false },
    { DT_REG_CMD, true }, { DT_REG_SEED, true },
    { DT_REG_SRC_LIST_LO, true }, { DT_REG_SRC_LIST_HI, true },
    { DT_REG_SRC_COUNT, true }, { DT_REG_DST_LIST_LO, true },
    { DT_REG_DST_LIST_HI, true }, { DT_REG_DST_COUNT, true },
    { DT_REG_FILL_LO, true }, { DT_REG_FILL_HI, true },
    { DT_REG_STATUS, false }, { DT_REG_ERROR, false },
    { DT_REG_ERR_SEG, false }, { DT_REG_ERR_LIST, false },
    { DT_REG_ERR_ADDR_LO, false }, { DT_REG_ERR_ADDR_HI, false },
    { DT_REG_BYTES_DONE_LO, false }, { DT_REG_BYTES_DONE_HI, false },
    { DT_REG_MISMATCH_SEG, false }, { DT_REG_MISMATCH_COUNT, false },
    { DT_REG_MISMATCH_OFF_LO, false }, { DT_REG_MISMATCH_OFF_HI, false },
    { DT_REG_MISMATCH_EXP_LO, false }, { DT_REG_MISMATCH_EXP_HI, false },
    { DT_REG_MISMATCH_GOT_LO, false }, { DT_REG_MISMATCH_GOT_HI, false },
    { DT_REG_CHECKSUM_LO, false }, { DT_REG_CHECKSUM_HI, false },
    { DT_REG_CMD_SEQ_LO, false }, { DT_REG_CMD_SEQ_HI, false },
    { DT_REG_INTR_STATUS, true }, { DT_REG_INTR_ENABLE, true },
    { DT_REG_INTR_VECTOR, true }, { DT_REG_INTR_INFO, false },
    { DT_REG_Q_CTRL, true }, { DT_REG_Q_STATUS, false },
    { DT_REG_Q_SIZE, true }, { DT_REG_Q_ERROR, false },
    { DT_REG_SQ_BASE_LO, true }, { DT_REG_SQ_BASE_HI, true },
    { DT_REG_CQ_BASE_LO, true }, { DT_REG_CQ_BASE_HI, true },
    { DT_REG_SQ_TAIL, true }, { DT_REG_SQ_HEAD, false },
    { DT_REG_CQ_HEAD, true }, { DT_REG_CQ_TAIL, false },
    { DT_REG_Q_ERR_ADDR_LO, false }, { DT_REG_Q_ERR_ADDR_HI, false },
    { DT_REG_Q_ERR_CAUSE, false }, { DT_REG_Q_MAX_SIZE, false },
    { DT_REG_Q_DONE_LO, false }, { DT_REG_Q_DONE_HI, false },
    { DT_REG_BAD_COUNT, false }, { DT_REG_BAD_INFO, false },
};

/* Offsets inside BAR0 with no register. */
static const uint32_t dt_mx_holes[] = {
    0x014, 0x024, 0x02c, 0x03c, 0x04c, 0x058, 0x05c, 0x108, 0x10c, 0x118,
    0x200, 0x800, DMA_TESTDEV_BAR0_SIZE - 4,
};

static void dt_mx_mmio(DtMatrix *x)
{
    size_t i;
    int w;

    for (i = 0; i < ARRAY_SIZE(dt_mx_regs); i++) {
        uint32_t r = dt_mx_regs[i].off;

        for (w = 0; w < 2; w++) {
            dt_mx_access(x, r, 1, w, DT_BAD_ACCESS_SIZE);
            dt_mx_access(x, r + 3, 1, w, DT_BAD_ACCESS_SIZE);
            dt_mx_access(x, r, 2, w, DT_BAD_ACCESS_SIZE);
            dt_mx_access(x, r + 1, 2, w, DT_BAD_ACCESS_SIZE);
            dt_mx_access(x, r + 2, 4, w, DT_BAD_ACCESS_SIZE);
            if (r % 8) {
                dt_mx_access(x, r, 8, w, DT_BAD_ACCESS_SIZE);
            }
        }
        if (!dt_mx_regs[i].writable) {
            uint32_t val = dmatd_rd(x->d, r);

            dt_mx_access(x, r, 4, true, DT_BAD_READ_ONLY);
            /* The BAD_* registers change by design: they record this. */
            if (r != DT_REG_BAD_COUNT && r != DT_REG_BAD_INFO) {
                g_assert_cmphex(dmatd_rd(x->d, r), ==, val);
            }
        }
    }
    for (i = 0; i < ARRAY_SIZE(dt_mx_holes); i++) {
        dt_mx_access(x, dt_mx_holes[i], 4, false, DT_BAD_UNKNOWN_REG);
        dt_mx_access(x, dt_mx_holes[i], 4, true, DT_BAD_UNKNOWN_REG);
    }
}

/* A register write whose reserved bits are dropped and reported. */
#define DT_MX_UNCHANGED     (-1)

static void dt_mx_reserved(DtMatrix *x, uint32_t reg, uint32_t val,
                           uint32_t reason, int64_t expect)
{
    DmatdDev *d = x->d;
    uint32_t before = dmatd_rd(d, DT_REG_BAD_COUNT);
    uint32_t old = dmatd_rd(d, reg);
    g_autofree char *name = g_strdup_printf("0x%x to register 0x%03x", val,
                                            reg);

    dmatd_wr(d, reg, val);
    g_assert_cmpuint(dmatd_rd(d, DT_REG_BAD_COUNT), ==, before + 1);
    g_assert_cmpuint(DT_BAD_INFO_REASON(dmatd_rd(d, DT_REG_BAD_INFO)), ==,
                     reason);
    g_assert_cmpuint(DT_BAD_INFO_OFFSET(dmatd_rd(d, DT_REG_BAD_INFO)), ==, reg);
    DT_CHECK_REG(d, reg, expect == DT_MX_UNCHANGED ? old : expect);
    dt_mx_case(x, DT_MX_MMIO, name);
}

/* One register command that must fail with @err. */
typedef struct DtMxCmd {
    const char *name;
    uint32_t op;
    bool src;                   /* the list is the source list */
    uint64_t list;              /* 0: a list of the segments below */
    uint32_t count;             /* list entries (0: as many as segs) */
    DtSeg seg[2];
    uint32_t nseg;
    uint32_t err;
} DtMxCmd;

static void dt_mx_cmd(DtMatrix *x, const DtMxCmd *c)
{
    DmatdDev *d = x->d;
    uint64_t list = c->list;
    uint32_t count = c->count ? c->count : c->nseg;

    if (!list) {
        list = dt_put_list(d, c->seg, c->nseg);
    }
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    if (c->op == DT_OP_COPY) {
        /* The bad side is one list, the other a good page. */
        DtSeg good = { x->buf, c->nseg ? (uint32_t)dt_total(c->seg, c->nseg)
                                       : DT_PAGE };
        uint64_t other = dt_put_list(d, &good, 1);

        dt_set_src(d, c->src ? list : other, c->src ? count : 1);
        dt_set_dst(d, c->src ? other : list, c->src ? 1 : count);
    } else if (c->src) {
        dt_set_src(d, list, count);
    } else {
        dt_set_dst(d, list, count);
    }
    dmatd_wr(d, DT_REG_CMD, c->op);
    if (dmatd_rd(d, DT_REG_STATUS) != (DT_STATUS_DONE | DT_STATUS_ERROR) ||
        dmatd_rd(d, DT_REG_ERROR) != c->err) {
        dt_report("bad input '%s': expected STATUS 0x%x ERROR %u (%s), "
                  "found STATUS 0x%x ERROR %u (%s)", c->name,
                  DT_STATUS_DONE | DT_STATUS_ERROR, c->err,
                  dt_error_name(c->err), dmatd_rd(d, DT_REG_STATUS),
                  dmatd_rd(d, DT_REG_ERROR),
                  dt_error_name(dmatd_rd(d, DT_REG_ERROR)));
    }
    dt_mx_case(x, DT_MX_CMD, c->name);
}

static void dt_mx_cmds(DtMatrix *x)
{
    DmatdDev *d = x->d;
    uint64_t bar = d->bar.addr, msix = d->msix_bar.addr, b = x->buf;
    uint64_t top = 1ULL << 40;          /* the matrix runs addr-bits=40 */
    const DtMxCmd cases[] = {
        { "opcode 0", DT_OP_NONE, .list = x->list, .count = 1,
          .err = DT_ERR_BAD_OPCODE },
        { "opcode 5", DT_OP_MAX + 1, .list = x->list, .count = 1,
          .err = DT_ERR_BAD_OPCODE },
        { "opcode ~0", UINT32_MAX, .list = x->list, .count = 1,
          .err = DT_ERR_BAD_OPCODE },
        { "count 0", DT_OP_WRITE_PATTERN, .list = x->list, .count = 0,
          .nseg = 0, .err = DT_ERR_NO_SEGMENTS },
        { "count 2^32-1", DT_OP_WRITE_PATTERN, .list = x->list,
          .count = UINT32_MAX, .err = DT_ERR_TOO_MANY_SEGS },
        { "count max+1", DT_OP_VERIFY_PATTERN, true, .list = x->list,
          .count = 65537, .err = DT_ERR_TOO_MANY_SEGS },
        { "list misaligned", DT_OP_WRITE_PATTERN, .list = x->list + 8,
          .count = 1, .err = DT_ERR_LIST_ALIGN },
        { "list in own BAR0", DT_OP_WRITE_PATTERN, .list = bar, .count = 1,
          .err = DT_ERR_LIST_READ },
        { "list in own MSI-X BAR", DT_OP_VERIFY_PATTERN, true, .list = msix,
          .count = 1, .err = DT_ERR_LIST_READ },
        { "list unassigned", DT_OP_COPY, true, .list = DT_UNASSIGNED,
          .count = 1, .err = DT_ERR_LIST_READ },
        { "list beyond address width", DT_OP_WRITE_PATTERN, .list = top,
          .count = 1, .err = DT_ERR_ADDR_WIDTH },
        { "list wraps 2^64", DT_OP_WRITE_PATTERN, .list = -16ULL,
          .count = 2, .err = DT_ERR_ADDR_OVERFLOW },
        { "segment flags", DT_OP_WRITE_PATTERN,
          .seg = { { b, 8, 1 } }, .nseg = 1, .err = DT_ERR_SEG_FLAGS },
        { "segment length 0", DT_OP_FILL,
          .seg = { { b, 8 }, { b, 0 } }, .nseg = 2,
          .err = DT_ERR_ZERO_LENGTH },
        { "segment wraps 2^64", DT_OP_WRITE_PATTERN,
          .seg = { { -4096ULL, 8192 } }, .nseg = 1,
          .err = DT_ERR_ADDR_OVERFLOW },
        { "segment beyond address width", DT_OP_VERIFY_PATTERN, true,
          .seg = { { top - 8, 16 } }, .nseg = 1, .err = DT_ERR_ADDR_WIDTH },
        { "transfer over max-transfer", DT_OP_WRITE_PATTERN,
          .seg = { { b, UINT32_MAX }, { b, 2 } }, .nseg = 2,
          .err = DT_ERR_XFER_TOO_LARGE },
        { "write into own BAR0", DT_OP_WRITE_PATTERN,
          .seg = { { bar + DT_REG_SEED, 4 } }, .nseg = 1,
          .err = DT_ERR_DMA_ACCESS },
        { "read from own BAR0", DT_OP_VERIFY_PATTERN, true,
          .seg = { { bar, 64 } }, .nseg = 1, .err = DT_ERR_DMA_ACCESS },
        { "write into own MSI-X table", DT_OP_FILL,
          .seg = { { msix, 16 } }, .nseg = 1, .err = DT_ERR_DMA_ACCESS },
        { "copy from own MSI-X table", DT_OP_COPY, true,
          .seg = { { msix, 16 } }, .nseg = 1, .err = DT_ERR_DMA_ACCESS },
        { "write into BIOS ROM", DT_OP_WRITE_PATTERN,
          .seg = { { DT_ROM_PAGE, 64 } }, .nseg = 1,
          .err = DT_ERR_DMA_ACCESS },
        { "copy into BIOS ROM", DT_OP_COPY,
          .seg = { { DT_ROM_PAGE, 64 } }, .nseg = 1,
          .err = DT_ERR_DMA_ACCESS },
        { "write unassigned", DT_OP_WRITE_PATTERN,
          .seg = { { DT_UNASSIGNED, 64 } }, .nseg = 1,
          .err = DT_ERR_DMA_UNASSIGNED },
        { "read unassigned", DT_OP_VERIFY_PATTERN, true,
          .seg = { { DT_UNASSIGNED, 64 } }, .nseg = 1,
          .err = DT_ERR_DMA_UNASSIGNED },
        { "write past end of RAM", DT_OP_FILL,
          .seg = { { DT_RAM_END_128M - 8, 64 } }, .nseg = 1,
          .err = DT_ERR_DMA_UNASSIGNED },
        { "copy length mismatch", DT_OP_COPY, .list = x->list, .count = 1,
          .seg = { { b, 8 } }, .nseg = 1, .err = DT_ERR_LENGTH_MISMATCH },
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        dt_mx_cmd(x, &cases[i]);
    }
}

/* Set up the queue with @size entries at @sq/@cq and enable it. */
static void dt_mx_queue_setup(DmatdDev *d, uint32_t size, uint64_t sq,
                              uint64_t cq)
{
    dmatd_wr(d, DT_REG_Q_CTRL, 0);
    dmatd_wr(d, DT_REG_Q_SIZE, size);
    dmatd_wr64(d, DT_REG_SQ_BASE_LO, sq);
    dmatd_wr64(d, DT_REG_CQ_BASE_LO, cq);
    dmatd_wr(d, DT_REG_Q_CTRL, DT_QCTRL_ENABLE);
}

static void dt_mx_qerror(DtMatrix *x, const char *name, uint32_t qerr,
                         uint64_t addr, uint32_t cause)
{
    DmatdDev *d = x->d;
    int i;

    for (i = 0; i < 100 && !(dmatd_rd(d, DT_REG_Q_STATUS) & DT_QSTATUS_ERROR);
         i++) {
        g_usleep(1000);
    }
    if (dmatd_rd(d, DT_REG_Q_STATUS) !=
        (DT_QSTATUS_ENABLED | DT_QSTATUS_ERROR) ||
        dmatd_rd(d, DT_REG_Q_ERROR) != qerr ||
        dmatd_rd64(d, DT_REG_Q_ERR_ADDR_LO) != addr ||
        dmatd_rd(d, DT_REG_Q_ERR_CAUSE) != cause) {
        dt_report("bad input '%s': expected Q_ERROR %u (%s) addr 0x%" PRIx64
                  " cause %u, found Q_STATUS 0x%x Q_ERROR %u addr 0x%" PRIx64
                  " cause %u", name, qerr, dt_qerror_name(qerr), addr, cause,
                  dmatd_rd(d, DT_REG_Q_STATUS), dmatd_rd(d, DT_REG_Q_ERROR),
                  dmatd_rd64(d, DT_REG_Q_ERR_ADDR_LO),
                  dmatd_rd(d, DT_REG_Q_ERR_CAUSE));
    }
    g_assert_true(dmatd_rd(d, DT_REG_INTR_STATUS) & DT_INTR_QUEUE_ERROR);
    dmatd_wr(d, DT_REG_INTR_STATUS, DT_INTR_QUEUE_ERROR);

    /* Halted: doorbells are refused until the queue is disabled. */
    dt_mx_case(x, DT_MX_QUEUE, name);
    dt_mx_reserved(x, DT_REG_SQ_TAIL, 1, DT_BAD_QUEUE_DISABLED,
                   DT_MX_UNCHANGED);
    dmatd_wr(d, DT_REG_Q_CTRL, 0);
    DT_CHECK_REG(d, DT_REG_Q_STATUS, 0);
}

static void dt_mx_queue(DtMatrix *x)
{
    DmatdDev *d = x->d;
    uint64_t sq = guest_alloc(&d->alloc, 4 * DT_SQE_SIZE);
    uint64_t cq = guest_alloc(&d->alloc, 4 * DT_CQE_SIZE);
    uint64_t top = 1ULL << 40, bar = d->bar.addr;
    DtQueue q = { .sq = sq, .cq = cq, .size = 4, .phase = true };
    DtSqe e = dt_sqe_write(d, x->buf, DT_PAGE, DT_SEED, 1);
    static const uint32_t bad_sizes[] = { 0, 1, DT_Q_MAX_SIZE + 1,
                                          UINT32_MAX };
    size_t i;

    /* Enabling a queue that cannot work. */
    for (i = 0; i < ARRAY_SIZE(bad_sizes); i++) {
        dt_mx_queue_setup(d, bad_sizes[i], sq, cq);
        dt_mx_qerror(x, "queue size", DT_QERR_SIZE, bad_sizes[i], 0);
    }
    dt_mx_queue_setup(d, 4, sq + 32, cq);
    dt_mx_qerror(x, "SQ misaligned", DT_QERR_ALIGN, sq + 32, 0);
    dt_mx_queue_setup(d, 4, sq, cq + 8);
    dt_mx_qerror(x, "CQ misaligned", DT_QERR_ALIGN, cq + 8, 0);
    dt_mx_queue_setup(d, 4, top, cq);
    dt_mx_qerror(x, "SQ beyond address width", DT_QERR_RANGE, top, 0);
    dt_mx_queue_setup(d, 4, sq, -128ULL);
    dt_mx_qerror(x, "CQ wraps 2^64", DT_QERR_RANGE, -128ULL, 0);

    /* Rings the device cannot use. */
    dt_mx_queue_setup(d, 4, DT_UNASSIGNED, cq);
    dmatd_wr(d, DT_REG_SQ_TAIL, 1);
    dt_mx_qerror(x, "SQ unassigned", DT_QERR_SQ_READ, DT_UNASSIGNED,
                 DT_ERR_DMA_UNASSIGNED);
    dt_mx_queue_setup(d, 4, bar, cq);
    dmatd_wr(d, DT_REG_SQ_TAIL, 1);
    dt_mx_qerror(x, "SQ in own BAR0", DT_QERR_SQ_READ, bar,
                 DT_ERR_DMA_ACCESS);
    q.tail = 0;
    dt_q_put(d, &q, &e);
    dt_mx_queue_setup(d, 4, sq, DT_ROM_PAGE);
    dmatd_wr(d, DT_REG_SQ_TAIL, 1);
    dt_mx_qerror(x, "CQ in BIOS ROM", DT_QERR_CQ_WRITE, DT_ROM_PAGE,
                 DT_ERR_DMA_ACCESS);
    dt_mx_queue_setup(d, 4, sq, d->msix_bar.addr);
    dmatd_wr(d, DT_REG_SQ_TAIL, 1);
    dt_mx_qerror(x, "CQ in own MSI-X BAR", DT_QERR_CQ_WRITE,
                 d->msix_bar.addr, DT_ERR_DMA_ACCESS);
    dt_mx_queue_setup(d, 4, sq, DT_UNASSIGNED);
    dmatd_wr(d, DT_REG_SQ_TAIL, 1);
    dt_mx_qerror(x, "CQ unassigned", DT_QERR_CQ_WRITE, DT_UNASSIGNED,
                 DT_ERR_DMA_UNASSIGNED);

    /* Doorbells out of range, including while a command runs. */
    dt_mx_queue_setup(d, 4, sq, cq);
    dmatd_wr(d, DT_REG_SQ_TAIL, 4);
    dt_mx_qerror(x, "SQ_TAIL = size", DT_QERR_SQ_DOORBELL, 4, 0);
    dt_mx_queue_setup(d, 4, sq, cq);
    dmatd_wr(d, DT_REG_SQ_TAIL, UINT32_MAX);
    dt_mx_qerror(x, "SQ_TAIL = 2^32-1", DT_QERR_SQ_DOORBELL, UINT32_MAX, 0);
    dt_mx_queue_setup(d, 4, sq, cq);
    dmatd_wr(d, DT_REG_CQ_HEAD, 9);
    dt_mx_qerror(x, "CQ_HEAD past size", DT_QERR_CQ_DOORBELL, 9, 0);
    dt_mx_queue_setup(d, 4, sq, cq);
    dmatd_wr(d, DT_REG_CQ_HEAD, 1);
    dt_mx_qerror(x, "CQ_HEAD past CQ_TAIL", DT_QERR_CQ_DOORBELL, 1, 0);
    dt_mx_queue_setup(d, 4, sq, cq);
    dmatd_wr(d, DT_REG_SQ_TAIL, 1);
    dmatd_wr(d, DT_REG_SQ_TAIL, 7);
    dt_mx_qerror(x, "SQ_TAIL bad while busy", DT_QERR_SQ_DOORBELL, 7, 0);

    /* Setup written while enabled, reserved bits, doorbells while off. */
    dt_mx_queue_setup(d, 4, sq, cq);
    dt_mx_reserved(x, DT_REG_Q_SIZE, 8, DT_BAD_QUEUE_ENABLED, 4);
    dt_mx_reserved(x, DT_REG_SQ_BASE_LO, 0, DT_BAD_QUEUE_ENABLED, sq);
    dt_mx_reserved(x, DT_REG_SQ_BASE_HI, 1, DT_BAD_QUEUE_ENABLED, sq >> 32);
    dt_mx_reserved(x, DT_REG_CQ_BASE_LO, 0, DT_BAD_QUEUE_ENABLED, cq);
    dt_mx_reserved(x, DT_REG_CQ_BASE_HI, 1, DT_BAD_QUEUE_ENABLED, cq >> 32);
    dt_mx_reserved(x, DT_REG_Q_CTRL, DT_QCTRL_ENABLE | 2,
                   DT_BAD_RESERVED_BITS, DT_QCTRL_ENABLE);
    DT_CHECK_REG(d, DT_REG_Q_STATUS, DT_QSTATUS_ENABLED);
    dmatd_wr(d, DT_REG_Q_CTRL, 0);
    dt_mx_reserved(x, DT_REG_SQ_TAIL, 1, DT_BAD_QUEUE_DISABLED,
                   DT_MX_UNCHANGED);
    dt_mx_reserved(x, DT_REG_CQ_HEAD, 1, DT_BAD_QUEUE_DISABLED,
                   DT_MX_UNCHANGED);
    dt_mx_reserved(x, DT_REG_INTR_STATUS, 1u << 9, DT_BAD_RESERVED_BITS,
                   DT_MX_UNCHANGED);
    dt_mx_reserved(x, DT_REG_INTR_ENABLE, UINT32_MAX, DT_BAD_RESERVED_BITS,
                   DT_INTR_CAUSES);
    dt_mx_reserved(x, DT_REG_INTR_VECTOR, DT_MAX_VECTORS + 3,
                   DT_BAD_RESERVED_BITS, 3);
    dmatd_wr(d, DT_REG_INTR_ENABLE, 0);
    dmatd_wr(d, DT_REG_INTR_VECTOR, 0);
}

/* Bad queue entries fail alone, one at a time; the queue carries on. */
static void dt_mx_sqes(DtMatrix *x)
{
    DmatdDev *d = x->d;
    DtSqe good = dt_sqe_write(d, x->buf, DT_PAGE, DT_SEED, 0x99);
    DtQueue q;
    DtCqe c;
    size_t i;

    dt_q_init(d, &q, 16);
    for (i = 0; i < ARRAY_SIZE(dt_bad_sqes); i++) {
        DtSqe e = dt_sqe_spoil(&good, i);

        dt_q_put(d, &q, &e);
        dt_q_ring(d, &q);
        dt_q_wait(d, &q, &c, 0, 100);
        dt_check_cqe(&c, i, DT_STATUS_DONE | DT_STATUS_ERROR,
                     dt_bad_sqes[i].error, 0, 0);
        dt_mx_case(x, DT_MX_SQE, dt_bad_sqes[i].name);
    }
    dt_q_put(d, &q, &good);
    dt_q_ring(d, &q);
    dt_q_wait(d, &q, &c, 0, 100);
    dt_check_cqe(&c, 0x99, DT_STATUS_DONE, DT_ERR_NONE, DT_PAGE, 0);
    dmatd_wr(d, DT_REG_Q_CTRL, 0);
}

static void test_bad_input_matrix(const void *data)
{
    g_autofree char *logname = g_strdup_printf("%s/dt-matrix-XXXXXX",
                                               g_get_tmp_dir());
    g_autofree char *extra = NULL;
    DtMatrix x = { 0 };
    int fd = g_mkstemp(logname);
    unsigned k;

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    extra = g_strdup_printf("-d guest_errors -D %s", logname);
    x.d = dmatd_start(data, ",addr-bits=40", extra);
    x.log = fopen(logname, "r");
    g_assert_nonnull(x.log);
    x.buf = dt_region(x.d, DT_PAGE);
    x.list = dt_quick_list(x.d);

    dt_mx_mmio(&x);
    dt_mx_cmds(&x);
    dt_mx_queue(&x);
    dt_mx_sqes(&x);

    /* QEMU is alive and the device still works. */
    dt_quick_cmd(x.d, x.list);
    for (k = 0; k < ARRAY_SIZE(dt_mx_kinds); k++) {
        g_test_message("bad-input matrix: %u %s", x.by_kind[k],
                       dt_mx_kinds[k]);
    }
    g_test_message("bad-input matrix: %u cases, each with its documented "
                   "status and a LOG_GUEST_ERROR message", x.cases);
    fclose(x.log);
    unlink(logname);
    dmatd_stop(x.d);
}

void dt_add_bad_input_tests(void)
{
    dt_add("bad-input-matrix", test_bad_input_matrix, false);
}
