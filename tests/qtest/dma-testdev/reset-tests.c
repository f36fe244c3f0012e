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

static void dmatd_check_reset_state(DmatdDev *d, uint64_t cmd_seq)
{
    DMATD_CHECK_REG(d, DMATD_REG_ID, DMA_TESTDEV_ID_VALUE);
    DMATD_CHECK_REG(d, DMATD_REG_Q_CTRL, 0);
    DMATD_CHECK_REG(d, DMATD_REG_Q_STATUS, 0);
    DMATD_CHECK_REG(d, DMATD_REG_Q_SIZE, 0);
    DMATD_CHECK_REG(d, DMATD_REG_Q_ERROR, 0);
    DMATD_CHECK_REG64(d, DMATD_REG_SQ_BASE_LO, 0);
    DMATD_CHECK_REG64(d, DMATD_REG_CQ_BASE_LO, 0);
    DMATD_CHECK_REG(d, DMATD_REG_SQ_HEAD, 0);
    DMATD_CHECK_REG(d, DMATD_REG_SQ_TAIL, 0);
    DMATD_CHECK_REG(d, DMATD_REG_CQ_HEAD, 0);
    DMATD_CHECK_REG(d, DMATD_REG_CQ_TAIL, 0);
    DMATD_CHECK_REG64(d, DMATD_REG_Q_DONE_LO, 0);
    DMATD_CHECK_REG(d, DMATD_REG_INTR_STATUS, 0);
    DMATD_CHECK_REG(d, DMATD_REG_INTR_ENABLE, 0);
    DMATD_CHECK_REG(d, DMATD_REG_INTR_VECTOR, 0);
    DMATD_CHECK_REG(d, DMATD_REG_STATUS, 0);
    DMATD_CHECK_REG(d, DMATD_REG_CMD, 0);
    DMATD_CHECK_REG64(d, DMATD_REG_DST_LIST_LO, 0);
    DMATD_CHECK_REG(d, DMATD_REG_BAD_COUNT, 0);
    /* Kept, so that DMA log entries stay unambiguous. */
    DMATD_CHECK_REG64(d, DMATD_REG_CMD_SEQ_LO, cmd_seq);
    g_assert_false(dmatd_intx_level(d));
}

static void dmatd_reset_mid_command(DmatdDev *d, bool flr)
{
    uint32_t len = 64 * DMATD_PAGE;
    uint64_t buf = dmatd_region(d, len);
    DmatdSqe e = dmatd_sqe_pattern(d, buf, len, DMATD_SEED, 1);
    g_autofree uint8_t *before = g_malloc(len);
    g_autofree uint8_t *after = g_malloc(len);
    g_autoptr(GArray) log = NULL;
    uint64_t seq, cq;
    DmatdQueue q;
    int i;

    dmatd_queue_init(d, &q, 8);
    cq = q.cq;
    e.flags = DMATD_SQE_F_INTR;
    dmatd_queue_put(d, &q, &e);
    dmatd_wr(d, DMATD_REG_INTR_ENABLE, DMATD_INTR_CAUSES);
    dmatd_queue_ring(d, &q);
    for (i = 0; i < 5; i++) {
        qtest_clock_step(d->qts, DMATD_LAT);
        dmatd_wait_word(d, buf + (i + 1) * DMATD_PAGE - 24,
                        dmatd_pattern_word(DMATD_SEED,
                                           (i + 1) * DMATD_PAGE - 24));
    }
    seq = dmatd_rd64(d, DMATD_REG_CMD_SEQ_LO);
    DMATD_CHECK_REG(d, DMATD_REG_Q_STATUS,
                    DMATD_QSTATUS_ENABLED | DMATD_QSTATUS_BUSY);

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
    g_assert_cmphex(ldq_le_p(before + 5 * DMATD_PAGE - 24), ==,
                    dmatd_pattern_word(DMATD_SEED, 5 * DMATD_PAGE - 24));
    g_assert_cmphex(before[len - 1], ==, DMATD_GUARD);

    /* Far more time than the command needed: nothing moves any more. */
    for (i = 0; i < 100; i++) {
        qtest_clock_step(d->qts, DMATD_LAT);
    }
    qtest_bufread(d->qts, buf, after, len);
    g_assert_true(memcmp(before, after, len) == 0);
    dmatd_check_untouched(d, "completion ring after reset", cq,
                          8 * DMATD_CQE_SIZE, 0);
    /* The log ends with the part of the segment that was written. */
    log = dmatd_log_get(d, seq);
    g_assert_cmpuint(log->len, ==, 3);
    dmatd_check_log(&g_array_index(log, DmatdLogEntry, 0), "write-pattern",
                    "sq", 0, "read", q.sq, DMATD_SQE_SIZE, DMATD_SQE_SIZE,
                    "ok");
    dmatd_check_log(&g_array_index(log, DmatdLogEntry, 2), "write-pattern",
                    "dst", 0, "write", buf, len,
                    5 * DMATD_PAGE - DMATD_SEG_SIZE, "ok");

    /*
     * Immediate Readiness holds: the command stopped and the device
     * answers at once, with no time for it to settle.
     */
    g_assert_true(qpci_config_readw(d->dev, PCI_STATUS) &
                  PCI_STATUS_IMM_READY);
    dmatd_reprogram(d);
    dmatd_check_reset_state(d, seq);

    /* And it works again from scratch. */
    dmatd_queue_init(d, &q, 8);
    {
        DmatdSqe again = dmatd_sqe_pattern(d, buf, DMATD_PAGE, 77, 2);
        DmatdCqe c;

        dmatd_queue_put(d, &q, &again);
        dmatd_queue_ring(d, &q);
        dmatd_queue_wait(d, &q, &c, DMATD_LAT, 1000);
        dmatd_check_cqe(&c, 2, DMATD_STATUS_DONE, DMATD_ERR_NONE, DMATD_PAGE,
                        dmatd_pattern_csum(77, DMATD_PAGE));
    }
}

static void test_reset_flr(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",latency-ns=1000,step-size=4096", "");

    dmatd_reset_mid_command(d, true);
    dmatd_stop(d);
}

static void test_reset_system(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",latency-ns=1000,step-size=4096", "");

    dmatd_reset_mid_command(d, false);
    dmatd_stop(d);
}

void dmatd_add_reset_tests(void)
{
    dmatd_add("reset/flr-mid-command", test_reset_flr, false);
    dmatd_add("reset/system-mid-command", test_reset_system, true);
}
