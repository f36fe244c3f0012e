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
static void dmatd_settle(DmatdDev *d)
{
    int i;

    for (i = 0; i < 20; i++) {
        dmatd_rd(d, DMATD_REG_Q_STATUS);
        g_usleep(1000);
    }
}

/* All four operations through the queue, checked like register commands. */
static void test_queue_ops(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dmatd_region(d, DMATD_ODD_REGION);
    uint64_t copy = dmatd_region(d, DMATD_ODD_REGION);
    DmatdSeg segs[DMATD_ODD_NSEGS], csegs[DMATD_ODD_NSEGS];
    uint64_t len, list, clist, seq0;
    g_autofree uint8_t *stream = NULL;
    g_autofree uint8_t *fill = NULL;
    DmatdQueue q;
    DmatdCqe c;
    int i;

    dmatd_odd_layout(base, segs);
    dmatd_odd_layout(copy, csegs);
    len = dmatd_total(segs, DMATD_ODD_NSEGS);
    list = dmatd_put_list(d, segs, DMATD_ODD_NSEGS);
    clist = dmatd_put_list(d, csegs, DMATD_ODD_NSEGS);
    stream = g_malloc(len);
    fill = g_malloc(len);
    dmatd_pattern(stream, DMATD_SEED, 0, len);
    dmatd_fill_stream(fill, 0x0123456789abcdefULL, len);

    dmatd_queue_init(d, &q, 64);
    g_assert_true(dmatd_rd(d, DMATD_REG_CAPS) & DMATD_CAP_QUEUE);
    g_assert_cmpuint(dmatd_rd(d, DMATD_REG_Q_MAX_SIZE), ==, DMATD_Q_MAX_SIZE);
    seq0 = dmatd_rd64(d, DMATD_REG_CMD_SEQ_LO);

    /* Four commands, one doorbell: write, verify, copy, then fill. */
    dmatd_queue_put(d, &q, &(DmatdSqe) { .op = DMATD_OP_WRITE_PATTERN,
                    .seed = DMATD_SEED,
                               .dst_list = list, .dst_count = DMATD_ODD_NSEGS,
                               .tag = 0x1001 });
    dmatd_queue_put(d, &q, &(DmatdSqe) { .op = DMATD_OP_VERIFY_PATTERN,
                    .seed = DMATD_SEED,
                               .src_list = list, .src_count = DMATD_ODD_NSEGS,
                               .tag = 0x1002 });
    dmatd_queue_put(d, &q, &(DmatdSqe) { .op = DMATD_OP_COPY,
                               .src_list = list, .src_count = DMATD_ODD_NSEGS,
                               .dst_list = clist, .dst_count = DMATD_ODD_NSEGS,
                               .tag = 0x1003 });
    dmatd_queue_put(d, &q, &(DmatdSqe) { .op = DMATD_OP_FILL,
                               .fill = 0x0123456789abcdefULL,
                               .dst_list = list, .dst_count = DMATD_ODD_NSEGS,
                               .tag = 0x1004 });
    dmatd_queue_ring(d, &q);

    for (i = 0; i < 4; i++) {
        dmatd_queue_wait(d, &q, &c, 0, 100);
        g_assert_cmpuint(c.cmd_seq, ==, seq0 + 1 + i);
        g_assert_cmpuint(c.mismatch_count, ==, 0);
        dmatd_check_cqe(&c, 0x1001 + i, DMATD_STATUS_DONE, DMATD_ERR_NONE, len,
                        dmatd_csum_buf(i == 3 ? fill : stream, len));
    }
    DMATD_CHECK_REG64(d, DMATD_REG_Q_DONE_LO, 4);
    DMATD_CHECK_REG(d, DMATD_REG_SQ_HEAD, 4);
    DMATD_CHECK_REG(d, DMATD_REG_CQ_TAIL, 4);
    DMATD_CHECK_REG(d, DMATD_REG_Q_STATUS, DMATD_QSTATUS_ENABLED);
    dmatd_check_image(d, "queue fill", base, DMATD_ODD_REGION, segs,
                      DMATD_ODD_NSEGS,
                      fill, DMATD_GUARD);
    dmatd_check_image(d, "queue copy", copy, DMATD_ODD_REGION, csegs,
                      DMATD_ODD_NSEGS, stream, DMATD_GUARD);

    /* The register path is untouched by queue commands. */
    DMATD_CHECK_REG(d, DMATD_REG_STATUS, 0);
    DMATD_CHECK_REG64(d, DMATD_REG_BYTES_DONE_LO, 0);

    /* The log names the ring accesses too. */
    {
        g_autoptr(GArray) log = dmatd_log_get(d, seq0 + 1);
        DmatdLogEntry *first = &g_array_index(log, DmatdLogEntry, 0);
        DmatdLogEntry *last = &g_array_index(log, DmatdLogEntry, log->len - 1);

        dmatd_check_log(first, "write-pattern", "sq", 0, "read", q.sq,
                        DMATD_SQE_SIZE, DMATD_SQE_SIZE, "ok");
        dmatd_check_log(last, "write-pattern", "cq", 0, "write", q.cq,
                        DMATD_CQE_SIZE, DMATD_CQE_SIZE, "ok");
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
    uint64_t buf = dmatd_region(d, 16 * DMATD_PAGE);
    DmatdQueue q;
    DmatdCqe c;
    int i;

    dmatd_queue_init(d, &q, 4);
    for (i = 0; i < 16; i++) {
        DmatdSqe e = dmatd_sqe_pattern(d, buf + i * DMATD_PAGE, DMATD_PAGE,
                                       DMATD_SEED + i, i);

        dmatd_queue_put(d, &q, &e);
        dmatd_queue_ring(d, &q);
        dmatd_queue_wait(d, &q, &c, 0, 100);
        dmatd_check_cqe(&c, i, DMATD_STATUS_DONE, DMATD_ERR_NONE, DMATD_PAGE,
                        dmatd_pattern_csum(DMATD_SEED + i, DMATD_PAGE));
        dmatd_check_pattern_at(d, "wrapped queue", buf + i * DMATD_PAGE,
                               DMATD_PAGE, DMATD_SEED + i);
    }
    /* 16 completions in a ring of 4: four passes, the phase is 1 again. */
    g_assert_cmpuint(q.cq_head, ==, 0);
    g_assert_true(q.phase);

    /* Three completions fill the ring; a fourth command waits for room. */
    for (i = 0; i < 3; i++) {
        DmatdSqe e = dmatd_sqe_pattern(d, buf + i * DMATD_PAGE, DMATD_PAGE,
                                       7 + i, 100 + i);

        dmatd_queue_put(d, &q, &e);
    }
    dmatd_queue_ring(d, &q);
    dmatd_settle(d);
    DMATD_CHECK_REG(d, DMATD_REG_CQ_TAIL, (q.cq_head + 3) % 4);
    {
        DmatdSqe e = dmatd_sqe_pattern(d, buf + 3 * DMATD_PAGE, DMATD_PAGE, 10,
                                       103);

        dmatd_queue_put(d, &q, &e);
        dmatd_queue_ring(d, &q);
    }
    dmatd_settle(d);
    DMATD_CHECK_REG(d, DMATD_REG_Q_STATUS,
                    DMATD_QSTATUS_ENABLED | DMATD_QSTATUS_BUSY |
                    DMATD_QSTATUS_CQ_FULL);
    /* Its data moved; only the completion waits. */
    dmatd_check_pattern_at(d, "held completion", buf + 3 * DMATD_PAGE,
                           DMATD_PAGE, 10);
    for (i = 0; i < 4; i++) {
        dmatd_queue_wait(d, &q, &c, 0, 100);
        dmatd_check_cqe(&c, 100 + i, DMATD_STATUS_DONE, DMATD_ERR_NONE,
                        DMATD_PAGE, 0);
    }
    DMATD_CHECK_REG(d, DMATD_REG_Q_STATUS, DMATD_QSTATUS_ENABLED);
    DMATD_CHECK_REG64(d, DMATD_REG_Q_DONE_LO, 20);
    dmatd_stop(d);
}

static void test_queue_inflight(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",latency-ns=1000,step-size=4096", "");
    uint64_t buf = dmatd_region(d, DMATD_INFLIGHT * 2 * DMATD_PAGE);
    uint64_t rlist = dmatd_quick_list(d);
    DmatdQueue q;
    DmatdCqe c;
    int i;

    dmatd_queue_init(d, &q, 128);
    for (i = 0; i < DMATD_INFLIGHT; i++) {
        DmatdSqe e = dmatd_sqe_pattern(d, buf + i * 2 * DMATD_PAGE,
                                       2 * DMATD_PAGE,
                               DMATD_SEED + i, i);

        e.flags = DMATD_SQE_F_INTR;
        dmatd_queue_put(d, &q, &e);
    }
    dmatd_wr(d, DMATD_REG_INTR_ENABLE, DMATD_INTR_QUEUE_CMPL);
    dmatd_queue_ring(d, &q);
    DMATD_CHECK_REG(d, DMATD_REG_SQ_TAIL, DMATD_INFLIGHT);

    /* Nothing before the first latency has passed. */
    qtest_clock_step(d->qts, DMATD_LAT - 1);
    DMATD_CHECK_REG(d, DMATD_REG_SQ_HEAD, 0);
    DMATD_CHECK_REG(d, DMATD_REG_Q_STATUS, DMATD_QSTATUS_ENABLED);

    /* Step 1 fetches and writes 4080 bytes, step 2 up to 8176. */
    qtest_clock_step(d->qts, 1);
    dmatd_wait_word(d, buf + 4072, dmatd_pattern_word(DMATD_SEED, 4072));
    DMATD_CHECK_REG(d, DMATD_REG_SQ_HEAD, 1);
    DMATD_CHECK_REG(d, DMATD_REG_Q_STATUS,
                    DMATD_QSTATUS_ENABLED | DMATD_QSTATUS_BUSY);
    g_assert_cmphex(qtest_readq(d->qts, buf + 4080), ==,
                    0xa5a5a5a5a5a5a5a5ULL);

    /* A register command meanwhile is refused as busy, and harmless. */
    dmatd_set_dst(d, rlist, 1);
    dmatd_wr(d, DMATD_REG_CMD, DMATD_OP_WRITE_PATTERN);
    DMATD_CHECK_REG(d, DMATD_REG_STATUS,
                    DMATD_STATUS_DONE | DMATD_STATUS_ERROR);
    DMATD_CHECK_REG(d, DMATD_REG_ERROR, DMATD_ERR_BUSY);

    qtest_clock_step(d->qts, DMATD_LAT);
    dmatd_wait_word(d, buf + 8168, dmatd_pattern_word(DMATD_SEED, 8168));
    g_assert_false(dmatd_queue_peek(d, &q, &c));
    g_assert_false(dmatd_intx_level(d));
    qtest_clock_step(d->qts, DMATD_LAT);
    for (i = 0; i < 10000 && !dmatd_queue_peek(d, &q, &c); i++) {
        g_usleep(100);
    }
    dmatd_queue_pop(d, &q, &c);
    dmatd_check_cqe(&c, 0, DMATD_STATUS_DONE, DMATD_ERR_NONE, 2 * DMATD_PAGE,
                    dmatd_pattern_csum(DMATD_SEED, 2 * DMATD_PAGE));
    g_assert_true(dmatd_intx_level(d));
    /* The refused register command finished too, with an error. */
    DMATD_CHECK_REG(d, DMATD_REG_INTR_STATUS,
                    DMATD_INTR_CMD_DONE | DMATD_INTR_QUEUE_CMPL);
    dmatd_wr(d, DMATD_REG_INTR_STATUS,
             DMATD_INTR_CMD_DONE | DMATD_INTR_QUEUE_CMPL);

    /* 99 to go, all posted at once; they complete in order. */
    for (i = 1; i < DMATD_INFLIGHT; i++) {
        dmatd_queue_wait(d, &q, &c, DMATD_LAT, 100);
        dmatd_check_cqe(&c, i, DMATD_STATUS_DONE, DMATD_ERR_NONE,
                        2 * DMATD_PAGE,
                        dmatd_pattern_csum(DMATD_SEED + i, 2 * DMATD_PAGE));
    }
    for (i = 0; i < DMATD_INFLIGHT; i++) {
        dmatd_check_pattern_at(d, "in-flight command", buf + i * 2 * DMATD_PAGE,
                               2 * DMATD_PAGE, DMATD_SEED + i);
    }
    DMATD_CHECK_REG(d, DMATD_REG_Q_STATUS, DMATD_QSTATUS_ENABLED);

    /* Now idle, the register path works again. */
    dmatd_quick_cmd(d, rlist);
    dmatd_stop(d);
}

/* Command errors end up in the completion; the queue goes on. */
static void test_queue_cmd_errors(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t buf = dmatd_region(d, DMATD_PAGE);
    DmatdSqe good = dmatd_sqe_pattern(d, buf, DMATD_PAGE, DMATD_SEED, 0x99);
    DmatdSqe unassigned = dmatd_sqe_pattern(d, DMATD_UNASSIGNED, DMATD_PAGE, 1,
                                            0x55);
    DmatdQueue q;
    DmatdCqe c;
    size_t i;

    dmatd_queue_init(d, &q, 16);
    for (i = 0; i < dmatd_nr_bad_sqes; i++) {
        DmatdSqe e = dmatd_sqe_spoil(&good, i);

        dmatd_queue_put(d, &q, &e);
    }
    dmatd_queue_put(d, &q, &unassigned);
    dmatd_queue_put(d, &q, &good);
    dmatd_queue_ring(d, &q);

    for (i = 0; i < dmatd_nr_bad_sqes; i++) {
        dmatd_queue_wait(d, &q, &c, 0, 100);
        dmatd_check_spoiled_cqe(&c, i);
    }
    dmatd_queue_wait(d, &q, &c, 0, 100);
    dmatd_check_cqe(&c, 0x55, DMATD_STATUS_DONE | DMATD_STATUS_ERROR,
                    DMATD_ERR_DMA_UNASSIGNED, 0, 0);
    g_assert_cmpuint(DMATD_CQE_ERR_LIST(c.error), ==, DMATD_LIST_DST);
    g_assert_cmphex(c.err_addr, ==, DMATD_UNASSIGNED);
    dmatd_queue_wait(d, &q, &c, 0, 100);
    dmatd_check_cqe(&c, 0x99, DMATD_STATUS_DONE, DMATD_ERR_NONE, DMATD_PAGE,
                    dmatd_pattern_csum(DMATD_SEED, DMATD_PAGE));
    DMATD_CHECK_REG(d, DMATD_REG_Q_STATUS, DMATD_QSTATUS_ENABLED);
    dmatd_stop(d);
}

void dmatd_add_queue_tests(void)
{
    dmatd_add("queue/ops", test_queue_ops, true);
    dmatd_add("queue/wrap", test_queue_wrap, false);
    dmatd_add("queue/in-flight", test_queue_inflight, true);
    dmatd_add("queue/cmd-errors", test_queue_cmd_errors, false);
}
