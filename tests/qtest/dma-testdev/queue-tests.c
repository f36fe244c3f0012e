/*
 * dma-testdev device qtests: the command queue.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "dma-testdev/framework.h"

/*
 * Command queue (q35 and pc)
 */

/* Give a latency-ns=0 device time to do whatever it is going to do. */
static void dt_settle(DmatdDev *d)
{
    int i;

    for (i = 0; i < 20; i++) {
        dmatd_rd(d, DT_REG_Q_STATUS);
        g_usleep(1000);
    }
}

/* All four operations through the queue, checked like register commands. */
static void test_queue_ops(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dt_region(d, DT_ODD_REGION);
    uint64_t copy = dt_region(d, DT_ODD_REGION);
    DtSeg segs[DT_ODD_NSEGS], csegs[DT_ODD_NSEGS];
    uint64_t len, list, clist, seq0;
    g_autofree uint8_t *stream = NULL;
    g_autofree uint8_t *fill = NULL;
    DtQueue q;
    DtCqe c;
    int i;

    dt_odd_layout(base, segs);
    dt_odd_layout(copy, csegs);
    len = dt_total(segs, DT_ODD_NSEGS);
    list = dt_put_list(d, segs, DT_ODD_NSEGS);
    clist = dt_put_list(d, csegs, DT_ODD_NSEGS);
    stream = g_malloc(len);
    fill = g_malloc(len);
    dt_pattern(stream, DT_SEED, 0, len);
    dt_fill_stream(fill, 0x0123456789abcdefULL, len);

    dt_q_init(d, &q, 64);
    g_assert_true(dmatd_rd(d, DT_REG_CAPS) & DT_CAP_QUEUE);
    g_assert_cmpuint(dmatd_rd(d, DT_REG_Q_MAX_SIZE), ==, DT_Q_MAX_SIZE);
    seq0 = dmatd_rd64(d, DT_REG_CMD_SEQ_LO);

    /* Four commands, one doorbell: write, verify, copy, then fill. */
    dt_q_put(d, &q, &(DtSqe) { .op = DT_OP_WRITE_PATTERN, .seed = DT_SEED,
                               .dst_list = list, .dst_count = DT_ODD_NSEGS,
                               .tag = 0x1001 });
    dt_q_put(d, &q, &(DtSqe) { .op = DT_OP_VERIFY_PATTERN, .seed = DT_SEED,
                               .src_list = list, .src_count = DT_ODD_NSEGS,
                               .tag = 0x1002 });
    dt_q_put(d, &q, &(DtSqe) { .op = DT_OP_COPY,
                               .src_list = list, .src_count = DT_ODD_NSEGS,
                               .dst_list = clist, .dst_count = DT_ODD_NSEGS,
                               .tag = 0x1003 });
    dt_q_put(d, &q, &(DtSqe) { .op = DT_OP_FILL,
                               .fill = 0x0123456789abcdefULL,
                               .dst_list = list, .dst_count = DT_ODD_NSEGS,
                               .tag = 0x1004 });
    dt_q_ring(d, &q);

    for (i = 0; i < 4; i++) {
        dt_q_wait(d, &q, &c, 0, 100);
        g_assert_cmpuint(c.cmd_seq, ==, seq0 + 1 + i);
        g_assert_cmpuint(c.mismatch_count, ==, 0);
        dt_check_cqe(&c, 0x1001 + i, DT_STATUS_DONE, DT_ERR_NONE, len,
                     dt_csum_buf(i == 3 ? fill : stream, len));
    }
    DT_CHECK_REG64(d, DT_REG_Q_DONE_LO, 4);
    DT_CHECK_REG(d, DT_REG_SQ_HEAD, 4);
    DT_CHECK_REG(d, DT_REG_CQ_TAIL, 4);
    DT_CHECK_REG(d, DT_REG_Q_STATUS, DT_QSTATUS_ENABLED);
    dt_check_image(d, "queue fill", base, DT_ODD_REGION, segs, DT_ODD_NSEGS,
                   fill, DT_GUARD);
    dt_check_image(d, "queue copy", copy, DT_ODD_REGION, csegs,
                   DT_ODD_NSEGS, stream, DT_GUARD);

    /* The register path is untouched by queue commands. */
    DT_CHECK_REG(d, DT_REG_STATUS, 0);
    DT_CHECK_REG64(d, DT_REG_BYTES_DONE_LO, 0);

    /* The log names the ring accesses too. */
    {
        g_autoptr(GArray) log = dt_log_get(d, seq0 + 1);
        DtLogEntry *first = &g_array_index(log, DtLogEntry, 0);
        DtLogEntry *last = &g_array_index(log, DtLogEntry, log->len - 1);

        dt_check_log(first, "write-pattern", "sq", 0, "read", q.sq,
                     DT_SQE_SIZE, DT_SQE_SIZE, "ok");
        dt_check_log(last, "write-pattern", "cq", 0, "write", q.cq,
                     DT_CQE_SIZE, DT_CQE_SIZE, "ok");
    }
    dmatd_stop(d);
}

/*
 * A small ring wraps several times: the phase bit flips on every pass,
 * and a full completion ring holds the device back until CQ_HEAD moves.
 */
static void test_queue_wrap(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t buf = dt_region(d, 16 * DT_PAGE);
    DtQueue q;
    DtCqe c;
    int i;

    dt_q_init(d, &q, 4);
    for (i = 0; i < 16; i++) {
        DtSqe e = dt_sqe_write(d, buf + i * DT_PAGE, DT_PAGE, DT_SEED + i, i);

        dt_q_put(d, &q, &e);
        dt_q_ring(d, &q);
        dt_q_wait(d, &q, &c, 0, 100);
        dt_check_cqe(&c, i, DT_STATUS_DONE, DT_ERR_NONE, DT_PAGE,
                     dt_pattern_csum(DT_SEED + i, DT_PAGE));
        dt_check_pattern_at(d, "wrapped queue", buf + i * DT_PAGE, DT_PAGE,
                            DT_SEED + i);
    }
    /* 16 completions in a ring of 4: four passes, the phase is 1 again. */
    g_assert_cmpuint(q.cq_head, ==, 0);
    g_assert_true(q.phase);

    /* Three completions fill the ring; a fourth command waits for room. */
    for (i = 0; i < 3; i++) {
        DtSqe e = dt_sqe_write(d, buf + i * DT_PAGE, DT_PAGE, 7 + i, 100 + i);

        dt_q_put(d, &q, &e);
    }
    dt_q_ring(d, &q);
    dt_settle(d);
    DT_CHECK_REG(d, DT_REG_CQ_TAIL, (q.cq_head + 3) % 4);
    {
        DtSqe e = dt_sqe_write(d, buf + 3 * DT_PAGE, DT_PAGE, 10, 103);

        dt_q_put(d, &q, &e);
        dt_q_ring(d, &q);
    }
    dt_settle(d);
    DT_CHECK_REG(d, DT_REG_Q_STATUS, DT_QSTATUS_ENABLED | DT_QSTATUS_BUSY |
                 DT_QSTATUS_CQ_FULL);
    /* Its data moved; only the completion waits. */
    dt_check_pattern_at(d, "held completion", buf + 3 * DT_PAGE, DT_PAGE, 10);
    for (i = 0; i < 4; i++) {
        dt_q_wait(d, &q, &c, 0, 100);
        dt_check_cqe(&c, 100 + i, DT_STATUS_DONE, DT_ERR_NONE, DT_PAGE, 0);
    }
    DT_CHECK_REG(d, DT_REG_Q_STATUS, DT_QSTATUS_ENABLED);
    DT_CHECK_REG64(d, DT_REG_Q_DONE_LO, 20);
    dmatd_stop(d);
}

static void test_queue_inflight(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",latency-ns=1000,step-size=4096", "");
    uint64_t buf = dt_region(d, DT_INFLIGHT * 2 * DT_PAGE);
    uint64_t rlist = dt_quick_list(d);
    DtQueue q;
    DtCqe c;
    int i;

    dt_q_init(d, &q, 128);
    for (i = 0; i < DT_INFLIGHT; i++) {
        DtSqe e = dt_sqe_write(d, buf + i * 2 * DT_PAGE, 2 * DT_PAGE,
                               DT_SEED + i, i);

        e.flags = DT_SQE_F_INTR;
        dt_q_put(d, &q, &e);
    }
    dmatd_wr(d, DT_REG_INTR_ENABLE, DT_INTR_QUEUE_CMPL);
    dt_q_ring(d, &q);
    DT_CHECK_REG(d, DT_REG_SQ_TAIL, DT_INFLIGHT);

    /* Nothing before the first latency has passed. */
    qtest_clock_step(d->qts, DT_LAT - 1);
    DT_CHECK_REG(d, DT_REG_SQ_HEAD, 0);
    DT_CHECK_REG(d, DT_REG_Q_STATUS, DT_QSTATUS_ENABLED);

    /* Step 1 fetches and writes 4080 bytes, step 2 up to 8176. */
    qtest_clock_step(d->qts, 1);
    dt_wait_word(d, buf + 4072, dt_pattern_word(DT_SEED, 4072));
    DT_CHECK_REG(d, DT_REG_SQ_HEAD, 1);
    DT_CHECK_REG(d, DT_REG_Q_STATUS, DT_QSTATUS_ENABLED | DT_QSTATUS_BUSY);
    g_assert_cmphex(qtest_readq(d->qts, buf + 4080), ==,
                    0xa5a5a5a5a5a5a5a5ULL);

    /* A register command meanwhile is refused as busy, and harmless. */
    dt_set_dst(d, rlist, 1);
    dmatd_wr(d, DT_REG_CMD, DT_OP_WRITE_PATTERN);
    DT_CHECK_REG(d, DT_REG_STATUS, DT_STATUS_DONE | DT_STATUS_ERROR);
    DT_CHECK_REG(d, DT_REG_ERROR, DT_ERR_BUSY);

    qtest_clock_step(d->qts, DT_LAT);
    dt_wait_word(d, buf + 8168, dt_pattern_word(DT_SEED, 8168));
    g_assert_false(dt_q_peek(d, &q, &c));
    g_assert_false(dt_intx_level(d));
    qtest_clock_step(d->qts, DT_LAT);
    for (i = 0; i < 10000 && !dt_q_peek(d, &q, &c); i++) {
        g_usleep(100);
    }
    dt_q_pop(d, &q, &c);
    dt_check_cqe(&c, 0, DT_STATUS_DONE, DT_ERR_NONE, 2 * DT_PAGE,
                 dt_pattern_csum(DT_SEED, 2 * DT_PAGE));
    g_assert_true(dt_intx_level(d));
    /* The refused register command finished too, with an error. */
    DT_CHECK_REG(d, DT_REG_INTR_STATUS,
                 DT_INTR_CMD_DONE | DT_INTR_QUEUE_CMPL);
    dmatd_wr(d, DT_REG_INTR_STATUS, DT_INTR_CMD_DONE | DT_INTR_QUEUE_CMPL);

    /* 99 to go, all posted at once; they complete in order. */
    for (i = 1; i < DT_INFLIGHT; i++) {
        dt_q_wait(d, &q, &c, DT_LAT, 100);
        dt_check_cqe(&c, i, DT_STATUS_DONE, DT_ERR_NONE, 2 * DT_PAGE,
                     dt_pattern_csum(DT_SEED + i, 2 * DT_PAGE));
    }
    for (i = 0; i < DT_INFLIGHT; i++) {
        dt_check_pattern_at(d, "in-flight command", buf + i * 2 * DT_PAGE,
                            2 * DT_PAGE, DT_SEED + i);
    }
    DT_CHECK_REG(d, DT_REG_Q_STATUS, DT_QSTATUS_ENABLED);

    /* Now idle, the register path works again. */
    dt_quick_cmd(d, rlist);
    dmatd_stop(d);
}

/* Command errors end up in the completion; the queue goes on. */
static void test_queue_cmd_errors(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t buf = dt_region(d, DT_PAGE);
    DtSqe good = dt_sqe_write(d, buf, DT_PAGE, DT_SEED, 0x99);
    DtSqe unassigned = dt_sqe_write(d, DT_UNASSIGNED, DT_PAGE, 1, 0x55);
    DtQueue q;
    DtCqe c;
    size_t i;

    dt_q_init(d, &q, 16);
    for (i = 0; i < ARRAY_SIZE(dt_bad_sqes); i++) {
        DtSqe e = dt_sqe_spoil(&good, i);

        dt_q_put(d, &q, &e);
    }
    dt_q_put(d, &q, &unassigned);
    dt_q_put(d, &q, &good);
    dt_q_ring(d, &q);

    for (i = 0; i < ARRAY_SIZE(dt_bad_sqes); i++) {
        dt_q_wait(d, &q, &c, 0, 100);
        dt_check_cqe(&c, i, DT_STATUS_DONE | DT_STATUS_ERROR,
                     dt_bad_sqes[i].error, 0, 0);
    }
    dt_q_wait(d, &q, &c, 0, 100);
    dt_check_cqe(&c, 0x55, DT_STATUS_DONE | DT_STATUS_ERROR,
                 DT_ERR_DMA_UNASSIGNED, 0, 0);
    g_assert_cmpuint(DT_CQE_ERR_LIST(c.error), ==, DT_LIST_DST);
    g_assert_cmphex(c.err_addr, ==, DT_UNASSIGNED);
    dt_q_wait(d, &q, &c, 0, 100);
    dt_check_cqe(&c, 0x99, DT_STATUS_DONE, DT_ERR_NONE, DT_PAGE,
                 dt_pattern_csum(DT_SEED, DT_PAGE));
    DT_CHECK_REG(d, DT_REG_Q_STATUS, DT_QSTATUS_ENABLED);
    dmatd_stop(d);
}

void dt_add_queue_tests(void)
{
    dt_add("queue/ops", test_queue_ops, true);
    dt_add("queue/wrap", test_queue_wrap, false);
    dt_add("queue/in-flight", test_queue_inflight, true);
    dt_add("queue/cmd-errors", test_queue_cmd_errors, false);
}
