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

typedef struct DmatdMatrix {
    DmatdDev *d;
    FILE *log;                  /* QEMU's -D file, read as it grows */
    unsigned cases;
    unsigned by_kind[4];
    uint64_t list;              /* a one-page list for register commands */
    uint64_t buf;
} DmatdMatrix;

enum { DMATD_MX_MMIO, DMATD_MX_CMD, DMATD_MX_QUEUE, DMATD_MX_SQE };

static const char *const dmatd_mx_kinds[] = {
    "MMIO accesses", "register commands", "queue setup and doorbells",
    "queue entries",
};

/* The new part of QEMU's log must mention the device. */
static void dmatd_mx_logged(DmatdMatrix *x, const char *name)
{
    char line[512];
    bool found = false;

    while (fgets(line, sizeof(line), x->log)) {
        found |= !!strstr(line, TYPE_DMA_TESTDEV ":");
    }
    clearerr(x->log);
    if (!found) {
        dmatd_report("bad input '%s': no LOG_GUEST_ERROR message", name);
    }
}

static void dmatd_mx_case(DmatdMatrix *x, int kind, const char *name)
{
    dmatd_mx_logged(x, name);
    x->cases++;
    x->by_kind[kind]++;
}

/* One bad MMIO access: BAD_COUNT goes up by one and BAD_INFO names it. */
static void dmatd_mx_access(DmatdMatrix *x, uint32_t off, unsigned size,
                            bool is_write, uint32_t reason)
{
    DmatdDev *d = x->d;
    uint64_t a = d->bar.addr + off;
    uint32_t before = dmatd_rd(d, DMATD_REG_BAD_COUNT);
    uint64_t seq = dmatd_rd64(d, DMATD_REG_CMD_SEQ_LO);
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
    info = dmatd_rd(d, DMATD_REG_BAD_INFO);
    if (dmatd_rd(d, DMATD_REG_BAD_COUNT) != before + 1 ||
        DMATD_BAD_INFO_REASON(info) != reason ||
        DMATD_BAD_INFO_OFFSET(info) != off ||
        DMATD_BAD_INFO_SIZE(info) != size ||
        !!(info & DMATD_BAD_INFO_WRITE) != is_write) {
        dmatd_report("bad input '%s': expected BAD_COUNT %u reason %u, found "
                     "BAD_COUNT %u BAD_INFO 0x%08x", name, before + 1, reason,
                     dmatd_rd(d, DMATD_REG_BAD_COUNT), info);
    }
    /* No bad access ever starts a command. */
    DMATD_CHECK_REG64(d, DMATD_REG_CMD_SEQ_LO, seq);
    dmatd_mx_case(x, DMATD_MX_MMIO, name);
}

/* Every defined register, and whether the guest may write it. */
static const struct {
    uint32_t off;
    bool writable;
} dmatd_mx_regs[] = {
    { DMATD_REG_ID, false }, { DMATD_REG_VERSION, false },
    { DMATD_REG_CAPS, false },
    { DMATD_REG_ADDR_BITS, false }, { DMATD_REG_MAX_SEGS, false },
    { DMATD_REG_MAX_XFER_LO, false }, { DMATD_REG_MAX_XFER_HI, false },
    { DMATD_REG_CMD, true }, { DMATD_REG_SEED, true },
    { DMATD_REG_SRC_LIST_LO, true }, { DMATD_REG_SRC_LIST_HI, true },
    { DMATD_REG_SRC_COUNT, true }, { DMATD_REG_DST_LIST_LO, true },
    { DMATD_REG_DST_LIST_HI, true }, { DMATD_REG_DST_COUNT, true },
    { DMATD_REG_FILL_LO, true }, { DMATD_REG_FILL_HI, true },
    { DMATD_REG_STATUS, false }, { DMATD_REG_ERROR, false },
    { DMATD_REG_ERR_SEG, false }, { DMATD_REG_ERR_LIST, false },
    { DMATD_REG_ERR_ADDR_LO, false }, { DMATD_REG_ERR_ADDR_HI, false },
    { DMATD_REG_BYTES_DONE_LO, false }, { DMATD_REG_BYTES_DONE_HI, false },
    { DMATD_REG_MISMATCH_SEG, false }, { DMATD_REG_MISMATCH_COUNT, false },
    { DMATD_REG_MISMATCH_OFF_LO, false }, { DMATD_REG_MISMATCH_OFF_HI, false },
    { DMATD_REG_MISMATCH_EXP_LO, false }, { DMATD_REG_MISMATCH_EXP_HI, false },
    { DMATD_REG_MISMATCH_GOT_LO, false }, { DMATD_REG_MISMATCH_GOT_HI, false },
    { DMATD_REG_CHECKSUM_LO, false }, { DMATD_REG_CHECKSUM_HI, false },
    { DMATD_REG_CMD_SEQ_LO, false }, { DMATD_REG_CMD_SEQ_HI, false },
    { DMATD_REG_INTR_STATUS, true }, { DMATD_REG_INTR_ENABLE, true },
    { DMATD_REG_INTR_VECTOR, true }, { DMATD_REG_INTR_INFO, false },
    { DMATD_REG_Q_CTRL, true }, { DMATD_REG_Q_STATUS, false },
    { DMATD_REG_Q_SIZE, true }, { DMATD_REG_Q_ERROR, false },
    { DMATD_REG_SQ_BASE_LO, true }, { DMATD_REG_SQ_BASE_HI, true },
    { DMATD_REG_CQ_BASE_LO, true }, { DMATD_REG_CQ_BASE_HI, true },
    { DMATD_REG_SQ_TAIL, true }, { DMATD_REG_SQ_HEAD, false },
    { DMATD_REG_CQ_HEAD, true }, { DMATD_REG_CQ_TAIL, false },
    { DMATD_REG_Q_ERR_ADDR_LO, false }, { DMATD_REG_Q_ERR_ADDR_HI, false },
    { DMATD_REG_Q_ERR_CAUSE, false }, { DMATD_REG_Q_MAX_SIZE, false },
    { DMATD_REG_Q_DONE_LO, false }, { DMATD_REG_Q_DONE_HI, false },
    { DMATD_REG_BAD_COUNT, false }, { DMATD_REG_BAD_INFO, false },
};

/* Offsets inside BAR0 with no register. */
static const uint32_t dmatd_mx_holes[] = {
    0x014, 0x024, 0x02c, 0x03c, 0x04c, 0x058, 0x05c, 0x108, 0x10c, 0x118,
    0x200, 0x800, DMA_TESTDEV_BAR0_SIZE - 4,
};

static void dmatd_mx_mmio(DmatdMatrix *x)
{
    size_t i;
    int w;

    for (i = 0; i < ARRAY_SIZE(dmatd_mx_regs); i++) {
        uint32_t r = dmatd_mx_regs[i].off;

        for (w = 0; w < 2; w++) {
            dmatd_mx_access(x, r, 1, w, DMATD_BAD_ACCESS_SIZE);
            dmatd_mx_access(x, r + 3, 1, w, DMATD_BAD_ACCESS_SIZE);
            dmatd_mx_access(x, r, 2, w, DMATD_BAD_ACCESS_SIZE);
            dmatd_mx_access(x, r + 1, 2, w, DMATD_BAD_ACCESS_SIZE);
            dmatd_mx_access(x, r + 2, 4, w, DMATD_BAD_ACCESS_SIZE);
            if (r % 8) {
                dmatd_mx_access(x, r, 8, w, DMATD_BAD_ACCESS_SIZE);
            }
        }
        if (!dmatd_mx_regs[i].writable) {
            uint32_t val = dmatd_rd(x->d, r);

            dmatd_mx_access(x, r, 4, true, DMATD_BAD_READ_ONLY);
            /* The BAD_* registers change by design: they record this. */
            if (r != DMATD_REG_BAD_COUNT && r != DMATD_REG_BAD_INFO) {
                g_assert_cmphex(dmatd_rd(x->d, r), ==, val);
            }
        }
    }
    for (i = 0; i < ARRAY_SIZE(dmatd_mx_holes); i++) {
        dmatd_mx_access(x, dmatd_mx_holes[i], 4, false, DMATD_BAD_UNKNOWN_REG);
        dmatd_mx_access(x, dmatd_mx_holes[i], 4, true, DMATD_BAD_UNKNOWN_REG);
    }
}

/* A register write whose reserved bits are dropped and reported. */
#define DMATD_MX_UNCHANGED  (-1)

static void dmatd_mx_reserved(DmatdMatrix *x, uint32_t reg, uint32_t val,
                              uint32_t reason, int64_t expect)
{
    DmatdDev *d = x->d;
    uint32_t before = dmatd_rd(d, DMATD_REG_BAD_COUNT);
    uint32_t old = dmatd_rd(d, reg);
    g_autofree char *name = g_strdup_printf("0x%x to register 0x%03x", val,
                                            reg);

    dmatd_wr(d, reg, val);
    g_assert_cmpuint(dmatd_rd(d, DMATD_REG_BAD_COUNT), ==, before + 1);
    g_assert_cmpuint(DMATD_BAD_INFO_REASON(dmatd_rd(d, DMATD_REG_BAD_INFO)), ==,
                     reason);
    g_assert_cmpuint(DMATD_BAD_INFO_OFFSET(dmatd_rd(d, DMATD_REG_BAD_INFO)), ==,
                     reg);
    DMATD_CHECK_REG(d, reg, expect == DMATD_MX_UNCHANGED ? old : expect);
    dmatd_mx_case(x, DMATD_MX_MMIO, name);
}

/* One register command that must fail with @err. */
typedef struct DmatdMxCmd {
    const char *name;
    uint32_t op;
    bool src;                   /* the list is the source list */
    uint64_t list;              /* 0: a list of the segments below */
    uint32_t count;             /* list entries (0: as many as segs) */
    DmatdSeg seg[2];
    uint32_t nseg;
    uint32_t err;
} DmatdMxCmd;

static void dmatd_mx_cmd(DmatdMatrix *x, const DmatdMxCmd *c)
{
    DmatdDev *d = x->d;
    uint64_t list = c->list;
    uint32_t count = c->count ? c->count : c->nseg;

    if (!list) {
        list = dmatd_put_list(d, c->seg, c->nseg);
    }
    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    if (c->op == DMATD_OP_COPY) {
        /* The bad side is one list, the other a good page. */
        DmatdSeg good = { x->buf, c->nseg ? (uint32_t)dmatd_total(c->seg,
                                                                  c->nseg)
                                       : DMATD_PAGE };
        uint64_t other = dmatd_put_list(d, &good, 1);

        dmatd_set_src(d, c->src ? list : other, c->src ? count : 1);
        dmatd_set_dst(d, c->src ? other : list, c->src ? 1 : count);
    } else if (c->src) {
        dmatd_set_src(d, list, count);
    } else {
        dmatd_set_dst(d, list, count);
    }
    dmatd_wr(d, DMATD_REG_CMD, c->op);
    if (dmatd_rd(d, DMATD_REG_STATUS) !=
        (DMATD_STATUS_DONE | DMATD_STATUS_ERROR) ||
        dmatd_rd(d, DMATD_REG_ERROR) != c->err) {
        dmatd_report("bad input '%s': expected STATUS 0x%x ERROR %u (%s), "
                     "found STATUS 0x%x ERROR %u (%s)", c->name,
                     DMATD_STATUS_DONE | DMATD_STATUS_ERROR, c->err,
                     dmatd_error_name(c->err), dmatd_rd(d, DMATD_REG_STATUS),
                     dmatd_rd(d, DMATD_REG_ERROR),
                     dmatd_error_name(dmatd_rd(d, DMATD_REG_ERROR)));
    }
    dmatd_mx_case(x, DMATD_MX_CMD, c->name);
}

static void dmatd_mx_cmds(DmatdMatrix *x)
{
    DmatdDev *d = x->d;
    uint64_t bar = d->bar.addr, msix = d->msix_bar.addr, b = x->buf;
    uint64_t top = 1ULL << 40;          /* the matrix runs addr-bits=40 */
    const DmatdMxCmd cases[] = {
        { "opcode 0", DMATD_OP_NONE, .list = x->list, .count = 1,
          .err = DMATD_ERR_BAD_OPCODE },
        { "opcode 5", DMATD_OP_MAX + 1, .list = x->list, .count = 1,
          .err = DMATD_ERR_BAD_OPCODE },
        { "opcode ~0", UINT32_MAX, .list = x->list, .count = 1,
          .err = DMATD_ERR_BAD_OPCODE },
        { "count 0", DMATD_OP_WRITE_PATTERN, .list = x->list, .count = 0,
          .nseg = 0, .err = DMATD_ERR_NO_SEGMENTS },
        { "count 2^32-1", DMATD_OP_WRITE_PATTERN, .list = x->list,
          .count = UINT32_MAX, .err = DMATD_ERR_TOO_MANY_SEGS },
        { "count max+1", DMATD_OP_VERIFY_PATTERN, true, .list = x->list,
          .count = 65537, .err = DMATD_ERR_TOO_MANY_SEGS },
        { "list misaligned", DMATD_OP_WRITE_PATTERN, .list = x->list + 8,
          .count = 1, .err = DMATD_ERR_LIST_ALIGN },
        { "list in own BAR0", DMATD_OP_WRITE_PATTERN, .list = bar, .count = 1,
          .err = DMATD_ERR_LIST_READ },
        { "list in own MSI-X BAR", DMATD_OP_VERIFY_PATTERN, true, .list = msix,
          .count = 1, .err = DMATD_ERR_LIST_READ },
        { "list unassigned", DMATD_OP_COPY, true, .list = DMATD_UNASSIGNED,
          .count = 1, .err = DMATD_ERR_LIST_READ },
        { "list beyond address width", DMATD_OP_WRITE_PATTERN, .list = top,
          .count = 1, .err = DMATD_ERR_ADDR_WIDTH },
        { "list wraps 2^64", DMATD_OP_WRITE_PATTERN, .list = -16ULL,
          .count = 2, .err = DMATD_ERR_ADDR_OVERFLOW },
        { "segment flags", DMATD_OP_WRITE_PATTERN,
          .seg = { { b, 8, 1 } }, .nseg = 1, .err = DMATD_ERR_SEG_FLAGS },
        { "segment length 0", DMATD_OP_FILL,
          .seg = { { b, 8 }, { b, 0 } }, .nseg = 2,
          .err = DMATD_ERR_ZERO_LENGTH },
        { "segment wraps 2^64", DMATD_OP_WRITE_PATTERN,
          .seg = { { -4096ULL, 8192 } }, .nseg = 1,
          .err = DMATD_ERR_ADDR_OVERFLOW },
        { "segment beyond address width", DMATD_OP_VERIFY_PATTERN, true,
          .seg = { { top - 8, 16 } }, .nseg = 1, .err = DMATD_ERR_ADDR_WIDTH },
        { "transfer over max-transfer", DMATD_OP_WRITE_PATTERN,
          .seg = { { b, UINT32_MAX }, { b, 2 } }, .nseg = 2,
          .err = DMATD_ERR_XFER_TOO_LARGE },
        { "write into own BAR0", DMATD_OP_WRITE_PATTERN,
          .seg = { { bar + DMATD_REG_SEED, 4 } }, .nseg = 1,
          .err = DMATD_ERR_DMA_ACCESS },
        { "read from own BAR0", DMATD_OP_VERIFY_PATTERN, true,
          .seg = { { bar, 64 } }, .nseg = 1, .err = DMATD_ERR_DMA_ACCESS },
        { "write into own MSI-X table", DMATD_OP_FILL,
          .seg = { { msix, 16 } }, .nseg = 1, .err = DMATD_ERR_DMA_ACCESS },
        { "copy from own MSI-X table", DMATD_OP_COPY, true,
          .seg = { { msix, 16 } }, .nseg = 1, .err = DMATD_ERR_DMA_ACCESS },
        { "write into BIOS ROM", DMATD_OP_WRITE_PATTERN,
          .seg = { { DMATD_ROM_PAGE, 64 } }, .nseg = 1,
          .err = DMATD_ERR_DMA_ACCESS },
        { "copy into BIOS ROM", DMATD_OP_COPY,
          .seg = { { DMATD_ROM_PAGE, 64 } }, .nseg = 1,
          .err = DMATD_ERR_DMA_ACCESS },
        { "write unassigned", DMATD_OP_WRITE_PATTERN,
          .seg = { { DMATD_UNASSIGNED, 64 } }, .nseg = 1,
          .err = DMATD_ERR_DMA_UNASSIGNED },
        { "read unassigned", DMATD_OP_VERIFY_PATTERN, true,
          .seg = { { DMATD_UNASSIGNED, 64 } }, .nseg = 1,
          .err = DMATD_ERR_DMA_UNASSIGNED },
        { "write past end of RAM", DMATD_OP_FILL,
          .seg = { { DMATD_RAM_END_128M - 8, 64 } }, .nseg = 1,
          .err = DMATD_ERR_DMA_UNASSIGNED },
        { "copy length mismatch", DMATD_OP_COPY, .list = x->list, .count = 1,
          .seg = { { b, 8 } }, .nseg = 1, .err = DMATD_ERR_LENGTH_MISMATCH },
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        dmatd_mx_cmd(x, &cases[i]);
    }
}

/* Set up the queue with @size entries at @sq/@cq and enable it. */
static void dmatd_mx_queue_setup(DmatdDev *d, uint32_t size, uint64_t sq,
                                 uint64_t cq)
{
    dmatd_wr(d, DMATD_REG_Q_CTRL, 0);
    dmatd_wr(d, DMATD_REG_Q_SIZE, size);
    dmatd_wr64(d, DMATD_REG_SQ_BASE_LO, sq);
    dmatd_wr64(d, DMATD_REG_CQ_BASE_LO, cq);
    dmatd_wr(d, DMATD_REG_Q_CTRL, DMATD_QCTRL_ENABLE);
}

static void dmatd_mx_qerror(DmatdMatrix *x, const char *name, uint32_t qerr,
                            uint64_t addr, uint32_t cause)
{
    DmatdDev *d = x->d;
    int i;

    for (i = 0; i < 100 &&
         !(dmatd_rd(d, DMATD_REG_Q_STATUS) & DMATD_QSTATUS_ERROR); i++) {
        g_usleep(1000);
    }
    if (dmatd_rd(d, DMATD_REG_Q_STATUS) !=
        (DMATD_QSTATUS_ENABLED | DMATD_QSTATUS_ERROR) ||
        dmatd_rd(d, DMATD_REG_Q_ERROR) != qerr ||
        dmatd_rd64(d, DMATD_REG_Q_ERR_ADDR_LO) != addr ||
        dmatd_rd(d, DMATD_REG_Q_ERR_CAUSE) != cause) {
        dmatd_report("bad input '%s': expected Q_ERROR %u (%s) addr 0x%" PRIx64
                     " cause %u, found Q_STATUS 0x%x Q_ERROR %u addr 0x%" PRIx64
                  " cause %u", name, qerr, dmatd_qerror_name(qerr), addr, cause,
                  dmatd_rd(d, DMATD_REG_Q_STATUS), dmatd_rd(d,
                                                            DMATD_REG_Q_ERROR),
                  dmatd_rd64(d, DMATD_REG_Q_ERR_ADDR_LO),
                  dmatd_rd(d, DMATD_REG_Q_ERR_CAUSE));
    }
    g_assert_true(dmatd_rd(d, DMATD_REG_INTR_STATUS) & DMATD_INTR_QUEUE_ERROR);
    dmatd_wr(d, DMATD_REG_INTR_STATUS, DMATD_INTR_QUEUE_ERROR);

    /* Halted: doorbells are refused until the queue is disabled. */
    dmatd_mx_case(x, DMATD_MX_QUEUE, name);
    dmatd_mx_reserved(x, DMATD_REG_SQ_TAIL, 1, DMATD_BAD_QUEUE_DISABLED,
                      DMATD_MX_UNCHANGED);
    dmatd_wr(d, DMATD_REG_Q_CTRL, 0);
    DMATD_CHECK_REG(d, DMATD_REG_Q_STATUS, 0);
}

static void dmatd_mx_queue(DmatdMatrix *x)
{
    DmatdDev *d = x->d;
    uint64_t sq = guest_alloc(&d->alloc, 4 * DMATD_SQE_SIZE);
    uint64_t cq = guest_alloc(&d->alloc, 4 * DMATD_CQE_SIZE);
    uint64_t top = 1ULL << 40, bar = d->bar.addr;
    DmatdQueue q = { .sq = sq, .cq = cq, .size = 4, .phase = true };
    DmatdSqe e = dmatd_sqe_pattern(d, x->buf, DMATD_PAGE, DMATD_SEED, 1);
    static const uint32_t bad_sizes[] = { 0, 1, DMATD_Q_MAX_SIZE + 1,
                                          UINT32_MAX };
    size_t i;

    /* Enabling a queue that cannot work. */
    for (i = 0; i < ARRAY_SIZE(bad_sizes); i++) {
        dmatd_mx_queue_setup(d, bad_sizes[i], sq, cq);
        dmatd_mx_qerror(x, "queue size", DMATD_QERR_SIZE, bad_sizes[i], 0);
    }
    dmatd_mx_queue_setup(d, 4, sq + 32, cq);
    dmatd_mx_qerror(x, "SQ misaligned", DMATD_QERR_ALIGN, sq + 32, 0);
    dmatd_mx_queue_setup(d, 4, sq, cq + 8);
    dmatd_mx_qerror(x, "CQ misaligned", DMATD_QERR_ALIGN, cq + 8, 0);
    dmatd_mx_queue_setup(d, 4, top, cq);
    dmatd_mx_qerror(x, "SQ beyond address width", DMATD_QERR_RANGE, top, 0);
    dmatd_mx_queue_setup(d, 4, sq, -128ULL);
    dmatd_mx_qerror(x, "CQ wraps 2^64", DMATD_QERR_RANGE, -128ULL, 0);

    /* Rings the device cannot use. */
    dmatd_mx_queue_setup(d, 4, DMATD_UNASSIGNED, cq);
    dmatd_wr(d, DMATD_REG_SQ_TAIL, 1);
    dmatd_mx_qerror(x, "SQ unassigned", DMATD_QERR_SQ_READ, DMATD_UNASSIGNED,
                    DMATD_ERR_DMA_UNASSIGNED);
    dmatd_mx_queue_setup(d, 4, bar, cq);
    dmatd_wr(d, DMATD_REG_SQ_TAIL, 1);
    dmatd_mx_qerror(x, "SQ in own BAR0", DMATD_QERR_SQ_READ, bar,
                    DMATD_ERR_DMA_ACCESS);
    q.tail = 0;
    dmatd_queue_put(d, &q, &e);
    dmatd_mx_queue_setup(d, 4, sq, DMATD_ROM_PAGE);
    dmatd_wr(d, DMATD_REG_SQ_TAIL, 1);
    dmatd_mx_qerror(x, "CQ in BIOS ROM", DMATD_QERR_CQ_WRITE, DMATD_ROM_PAGE,
                    DMATD_ERR_DMA_ACCESS);
    dmatd_mx_queue_setup(d, 4, sq, d->msix_bar.addr);
    dmatd_wr(d, DMATD_REG_SQ_TAIL, 1);
    dmatd_mx_qerror(x, "CQ in own MSI-X BAR", DMATD_QERR_CQ_WRITE,
                    d->msix_bar.addr, DMATD_ERR_DMA_ACCESS);
    dmatd_mx_queue_setup(d, 4, sq, DMATD_UNASSIGNED);
    dmatd_wr(d, DMATD_REG_SQ_TAIL, 1);
    dmatd_mx_qerror(x, "CQ unassigned", DMATD_QERR_CQ_WRITE, DMATD_UNASSIGNED,
                    DMATD_ERR_DMA_UNASSIGNED);

    /* Doorbells out of range, including while a command runs. */
    dmatd_mx_queue_setup(d, 4, sq, cq);
    dmatd_wr(d, DMATD_REG_SQ_TAIL, 4);
    dmatd_mx_qerror(x, "SQ_TAIL = size", DMATD_QERR_SQ_DOORBELL, 4, 0);
    dmatd_mx_queue_setup(d, 4, sq, cq);
    dmatd_wr(d, DMATD_REG_SQ_TAIL, UINT32_MAX);
    dmatd_mx_qerror(x, "SQ_TAIL = 2^32-1", DMATD_QERR_SQ_DOORBELL, UINT32_MAX,
                    0);
    dmatd_mx_queue_setup(d, 4, sq, cq);
    dmatd_wr(d, DMATD_REG_CQ_HEAD, 9);
    dmatd_mx_qerror(x, "CQ_HEAD past size", DMATD_QERR_CQ_DOORBELL, 9, 0);
    dmatd_mx_queue_setup(d, 4, sq, cq);
    dmatd_wr(d, DMATD_REG_CQ_HEAD, 1);
    dmatd_mx_qerror(x, "CQ_HEAD past CQ_TAIL", DMATD_QERR_CQ_DOORBELL, 1, 0);
    dmatd_mx_queue_setup(d, 4, sq, cq);
    dmatd_wr(d, DMATD_REG_SQ_TAIL, 1);
    dmatd_wr(d, DMATD_REG_SQ_TAIL, 7);
    dmatd_mx_qerror(x, "SQ_TAIL bad while busy", DMATD_QERR_SQ_DOORBELL, 7, 0);

    /* Setup written while enabled, reserved bits, doorbells while off. */
    dmatd_mx_queue_setup(d, 4, sq, cq);
    dmatd_mx_reserved(x, DMATD_REG_Q_SIZE, 8, DMATD_BAD_QUEUE_ENABLED, 4);
    dmatd_mx_reserved(x, DMATD_REG_SQ_BASE_LO, 0, DMATD_BAD_QUEUE_ENABLED, sq);
    dmatd_mx_reserved(x, DMATD_REG_SQ_BASE_HI, 1, DMATD_BAD_QUEUE_ENABLED,
                      sq >> 32);
    dmatd_mx_reserved(x, DMATD_REG_CQ_BASE_LO, 0, DMATD_BAD_QUEUE_ENABLED, cq);
    dmatd_mx_reserved(x, DMATD_REG_CQ_BASE_HI, 1, DMATD_BAD_QUEUE_ENABLED,
                      cq >> 32);
    dmatd_mx_reserved(x, DMATD_REG_Q_CTRL, DMATD_QCTRL_ENABLE | 2,
                      DMATD_BAD_RESERVED_BITS, DMATD_QCTRL_ENABLE);
    DMATD_CHECK_REG(d, DMATD_REG_Q_STATUS, DMATD_QSTATUS_ENABLED);
    dmatd_wr(d, DMATD_REG_Q_CTRL, 0);
    dmatd_mx_reserved(x, DMATD_REG_SQ_TAIL, 1, DMATD_BAD_QUEUE_DISABLED,
                      DMATD_MX_UNCHANGED);
    dmatd_mx_reserved(x, DMATD_REG_CQ_HEAD, 1, DMATD_BAD_QUEUE_DISABLED,
                      DMATD_MX_UNCHANGED);
    dmatd_mx_reserved(x, DMATD_REG_INTR_STATUS, 1u << 9,
                      DMATD_BAD_RESERVED_BITS,
                      DMATD_MX_UNCHANGED);
    dmatd_mx_reserved(x, DMATD_REG_INTR_ENABLE, UINT32_MAX,
                      DMATD_BAD_RESERVED_BITS,
                      DMATD_INTR_CAUSES);
    dmatd_mx_reserved(x, DMATD_REG_INTR_VECTOR, DMATD_MAX_VECTORS + 3,
                      DMATD_BAD_RESERVED_BITS, 3);
    dmatd_wr(d, DMATD_REG_INTR_ENABLE, 0);
    dmatd_wr(d, DMATD_REG_INTR_VECTOR, 0);
}

/* Bad queue entries fail alone, one at a time; the queue carries on. */
static void dmatd_mx_sqes(DmatdMatrix *x)
{
    DmatdDev *d = x->d;
    DmatdSqe good = dmatd_sqe_pattern(d, x->buf, DMATD_PAGE, DMATD_SEED, 0x99);
    DmatdQueue q;
    DmatdCqe c;
    size_t i;

    dmatd_queue_init(d, &q, 16);
    for (i = 0; i < dmatd_nr_bad_sqes; i++) {
        DmatdSqe e = dmatd_sqe_spoil(&good, i);

        dmatd_queue_put(d, &q, &e);
        dmatd_queue_ring(d, &q);
        dmatd_queue_wait(d, &q, &c, 0, 100);
        dmatd_check_spoiled_cqe(&c, i);
        dmatd_mx_case(x, DMATD_MX_SQE, dmatd_bad_sqes[i].name);
    }
    dmatd_queue_put(d, &q, &good);
    dmatd_queue_ring(d, &q);
    dmatd_queue_wait(d, &q, &c, 0, 100);
    dmatd_check_cqe(&c, 0x99, DMATD_STATUS_DONE, DMATD_ERR_NONE, DMATD_PAGE, 0);
    dmatd_wr(d, DMATD_REG_Q_CTRL, 0);
}

static void test_bad_input_matrix(const void *data)
{
    g_autofree char *logname = g_strdup_printf("%s/dt-matrix-XXXXXX",
                                               g_get_tmp_dir());
    g_autofree char *extra = NULL;
    DmatdMatrix x = { 0 };
    int fd = g_mkstemp(logname);
    unsigned k;

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    extra = g_strdup_printf("-d guest_errors -D %s", logname);
    x.d = dmatd_start(data, ",addr-bits=40", extra);
    x.log = fopen(logname, "r");
    g_assert_nonnull(x.log);
    x.buf = dmatd_region(x.d, DMATD_PAGE);
    x.list = dmatd_quick_list(x.d);

    dmatd_mx_mmio(&x);
    dmatd_mx_cmds(&x);
    dmatd_mx_queue(&x);
    dmatd_mx_sqes(&x);

    /* QEMU is alive and the device still works. */
    dmatd_quick_cmd(x.d, x.list);
    for (k = 0; k < ARRAY_SIZE(dmatd_mx_kinds); k++) {
        g_test_message("bad-input matrix: %u %s", x.by_kind[k],
                       dmatd_mx_kinds[k]);
    }
    g_test_message("bad-input matrix: %u cases, each with its documented "
                   "status and a LOG_GUEST_ERROR message", x.cases);
    fclose(x.log);
    unlink(logname);
    dmatd_stop(x.d);
}

void dmatd_add_bad_input_tests(void)
{
    dmatd_add("bad-input-matrix", test_bad_input_matrix, false);
}
