/*
 * dma-testdev device qtests: migration in the middle of a command.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "dma-testdev/framework.h"

/*
 * Migration in the middle of a long command: save to a file, restore
 * into a second QEMU, and the command completes there with exactly the
 * data and the completion it would have had.
 */

static void test_migrate_mid_command(const void *data)
{
    const DmatdMachine *m = data;
    DmatdDev *d = dmatd_start(m, ",latency-ns=1000,step-size=4096", "-m 128M");
    uint32_t len = 256 * DMATD_PAGE;
    uint64_t buf = dmatd_region(d, len);
    uint64_t vbuf = dmatd_region(d, DMATD_PAGE);
    DmatdSqe w = dmatd_sqe_pattern(d, buf, len, DMATD_SEED, 0xaa);
    DmatdSqe v = { .op = DMATD_OP_VERIFY_PATTERN, .seed = DMATD_SEED,
                   .src_list = w.dst_list, .src_count = 1, .tag = 0xbb };
    DmatdSqe w2 = dmatd_sqe_pattern(d, vbuf, DMATD_PAGE, 5, 0xcc);
    g_autoptr(GArray) log_before = NULL;
    g_autoptr(GArray) log_after = NULL;
    g_autoptr(GArray) log_end = NULL;
    uint64_t word_before;
    DmatdQueue q;
    DmatdCqe c;
    int i;

    dmatd_queue_init(d, &q, 8);
    dmatd_queue_put(d, &q, &w);
    dmatd_queue_put(d, &q, &v);
    dmatd_queue_put(d, &q, &w2);
    dmatd_queue_ring(d, &q);
    for (i = 0; i < 100; i++) {
        qtest_clock_step(d->qts, DMATD_LAT);
        dmatd_wait_word(d, buf + (i + 1) * DMATD_PAGE - 24,
                        dmatd_pattern_word(DMATD_SEED,
                                           (i + 1) * DMATD_PAGE - 24));
    }
    g_assert_cmphex(qtest_readq(d->qts, buf + len - 8), ==,
                    0xa5a5a5a5a5a5a5a5ULL);
    log_before = dmatd_log_get(d, 0);
    word_before = qtest_readq(d->qts, buf + 100 * DMATD_PAGE);

    /* Save mid-command, restore into a fresh QEMU. */
    dmatd_migrate(d);

    /* State arrived: mid-command, same place, same log. */
    DMATD_CHECK_REG(d, DMATD_REG_Q_STATUS,
                    DMATD_QSTATUS_ENABLED | DMATD_QSTATUS_BUSY);
    DMATD_CHECK_REG(d, DMATD_REG_SQ_HEAD, 1);
    g_assert_cmphex(qtest_readq(d->qts, buf + 100 * DMATD_PAGE), ==,
                    word_before);
    log_after = dmatd_log_get(d, 0);
    g_assert_cmpuint(log_after->len, ==, log_before->len);
    for (i = 0; i < log_before->len; i++) {
        DmatdLogEntry *a = &g_array_index(log_before, DmatdLogEntry, i);
        DmatdLogEntry *b = &g_array_index(log_after, DmatdLogEntry, i);

        g_assert_cmpuint(a->seq, ==, b->seq);
        g_assert_cmphex(a->addr, ==, b->addr);
        g_assert_cmpstr(a->list, ==, b->list);
    }

    /* ...and it finishes there, followed by the rest of the queue. */
    dmatd_queue_wait(d, &q, &c, DMATD_LAT, 1000);
    dmatd_check_cqe(&c, 0xaa, DMATD_STATUS_DONE, DMATD_ERR_NONE, len,
                    dmatd_pattern_csum(DMATD_SEED, len));
    dmatd_queue_wait(d, &q, &c, DMATD_LAT, 1000);
    dmatd_check_cqe(&c, 0xbb, DMATD_STATUS_DONE, DMATD_ERR_NONE, len,
                    dmatd_pattern_csum(DMATD_SEED, len));
    g_assert_cmpuint(c.mismatch_count, ==, 0);
    dmatd_queue_wait(d, &q, &c, DMATD_LAT, 1000);
    dmatd_check_cqe(&c, 0xcc, DMATD_STATUS_DONE, DMATD_ERR_NONE, DMATD_PAGE,
                    dmatd_pattern_csum(5, DMATD_PAGE));
    dmatd_check_pattern_at(d, "migrated command", buf, len, DMATD_SEED);
    log_end = dmatd_log_get(d, 0);
    dmatd_check_log_seqs(log_end);
    g_assert_cmpuint(
        g_array_index(log_end, DmatdLogEntry, log_end->len - 1).seq,
        ==, log_end->len);
    dmatd_stop(d);
}

void dmatd_add_migration_tests(void)
{
    dmatd_add("migrate/mid-command", test_migrate_mid_command, true);
}
