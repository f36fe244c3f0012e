/*
 * dma-testdev device qtests: reset and FLR in the middle of a command.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "dma-testdev/framework.h"

/*
 * Reset in the middle of a queued command: DMA stops, nothing is written
 * afterwards, and the registers are at their reset values.
 */

static void dt_check_reset_state(DmatdDev *d, uint64_t cmd_seq)
{
    DT_CHECK_REG(d, DT_REG_ID, DMA_TESTDEV_ID_VALUE);
    DT_CHECK_REG(d, DT_REG_Q_CTRL, 0);
    DT_CHECK_REG(d, DT_REG_Q_STATUS, 0);
    DT_CHECK_REG(d, DT_REG_Q_SIZE, 0);
    DT_CHECK_REG(d, DT_REG_Q_ERROR, 0);
    DT_CHECK_REG64(d, DT_REG_SQ_BASE_LO, 0);
    DT_CHECK_REG64(d, DT_REG_CQ_BASE_LO, 0);
    DT_CHECK_REG(d, DT_REG_SQ_HEAD, 0);
    DT_CHECK_REG(d, DT_REG_SQ_TAIL, 0);
    DT_CHECK_REG(d, DT_REG_CQ_HEAD, 0);
    DT_CHECK_REG(d, DT_REG_CQ_TAIL, 0);
    DT_CHECK_REG64(d, DT_REG_Q_DONE_LO, 0);
    DT_CHECK_REG(d, DT_REG_INTR_STATUS, 0);
    DT_CHECK_REG(d, DT_REG_INTR_ENABLE, 0);
    DT_CHECK_REG(d, DT_REG_INTR_VECTOR, 0);
    DT_CHECK_REG(d, DT_REG_STATUS, 0);
    DT_CHECK_REG(d, DT_REG_CMD, 0);
    DT_CHECK_REG64(d, DT_REG_DST_LIST_LO, 0);
    DT_CHECK_REG(d, DT_REG_BAD_COUNT, 0);
    /* Kept, so that DMA log entries stay unambiguous. */
    DT_CHECK_REG64(d, DT_REG_CMD_SEQ_LO, cmd_seq);
    g_assert_false(dt_intx_level(d));
}

static void dt_reset_mid_command(DmatdDev *d, bool flr)
{
    uint32_t len = 64 * DT_PAGE;
    uint64_t buf = dt_region(d, len);
    DtSqe e = dt_sqe_write(d, buf, len, DT_SEED, 1);
    g_autofree uint8_t *before = g_malloc(len);
    g_autofree uint8_t *after = g_malloc(len);
    g_autoptr(GArray) log = NULL;
    uint64_t seq, cq;
    DtQueue q;
    int i;

    dt_q_init(d, &q, 8);
    cq = q.cq;
    e.flags = DT_SQE_F_INTR;
    dt_q_put(d, &q, &e);
    dmatd_wr(d, DT_REG_INTR_ENABLE, DT_INTR_CAUSES);
    dt_q_ring(d, &q);
    for (i = 0; i < 5; i++) {
        qtest_clock_step(d->qts, DT_LAT);
        dt_wait_word(d, buf + (i + 1) * DT_PAGE - 24,
                     dt_pattern_word(DT_SEED, (i + 1) * DT_PAGE - 24));
    }
    seq = dmatd_rd64(d, DT_REG_CMD_SEQ_LO);
    DT_CHECK_REG(d, DT_REG_Q_STATUS, DT_QSTATUS_ENABLED | DT_QSTATUS_BUSY);

    if (flr) {
        uint8_t exp = dmatd_find_cap(d->dev, PCI_CAP_ID_EXP);

        g_assert_true(qpci_config_readl(d->dev, exp + PCI_EXP_DEVCAP) &
                      PCI_EXP_DEVCAP_FLR);
        qpci_config_writew(d->dev, exp + PCI_EXP_DEVCTL,
                           qpci_config_readw(d->dev, exp + PCI_EXP_DEVCTL) |
                           PCI_EXP_DEVCTL_BCR_FLR);
    } else {
        qtest_system_reset(d->qts);
    }
    qtest_bufread(d->qts, buf, before, len);
    g_assert_cmphex(ldq_le_p(before + 5 * DT_PAGE - 24), ==,
                    dt_pattern_word(DT_SEED, 5 * DT_PAGE - 24));
    g_assert_cmphex(before[len - 1], ==, DT_GUARD);

    /* Far more time than the command needed: nothing moves any more. */
    for (i = 0; i < 100; i++) {
        qtest_clock_step(d->qts, DT_LAT);
    }
    qtest_bufread(d->qts, buf, after, len);
    g_assert_true(memcmp(before, after, len) == 0);
    dt_check_untouched(d, "completion ring after reset", cq,
                       8 * DT_CQE_SIZE, 0);
    /* The log ends with the part of the segment that was written. */
    log = dt_log_get(d, seq);
    g_assert_cmpuint(log->len, ==, 3);
    dt_check_log(&g_array_index(log, DtLogEntry, 0), "write-pattern", "sq",
                 0, "read", q.sq, DT_SQE_SIZE, DT_SQE_SIZE, "ok");
    dt_check_log(&g_array_index(log, DtLogEntry, 2), "write-pattern", "dst",
                 0, "write", buf, len, 5 * DT_PAGE - DT_SEG_SIZE, "ok");

    dmatd_reprogram(d);
    dt_check_reset_state(d, seq);

    /* And it works again from scratch. */
    dt_q_init(d, &q, 8);
    {
        DtSqe again = dt_sqe_write(d, buf, DT_PAGE, 77, 2);
        DtCqe c;

        dt_q_put(d, &q, &again);
        dt_q_ring(d, &q);
        dt_q_wait(d, &q, &c, DT_LAT, 1000);
        dt_check_cqe(&c, 2, DT_STATUS_DONE, DT_ERR_NONE, DT_PAGE,
                     dt_pattern_csum(77, DT_PAGE));
    }
}

static void test_reset_flr(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",latency-ns=1000,step-size=4096", "");

    dt_reset_mid_command(d, true);
    dmatd_stop(d);
}

static void test_reset_system(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",latency-ns=1000,step-size=4096", "");

    dt_reset_mid_command(d, false);
    dmatd_stop(d);
}

void dt_add_reset_tests(void)
{
    dt_add("reset/flr-mid-command", test_reset_flr, false);
    dt_add("reset/system-mid-command", test_reset_system, true);
}
