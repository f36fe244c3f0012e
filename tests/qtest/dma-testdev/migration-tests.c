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

/* Run QMP command @cmd with a "uri" argument; it must succeed. */
static void dt_qmp_uri(QTestState *qts, const char *cmd, const char *uri)
{
    QDict *resp = qtest_qmp(qts, "{'execute': %s, 'arguments': "
                            "{'uri': %s}}", cmd, uri);

    if (qdict_haskey(resp, "error")) {
        dt_report("QMP %s failed: %s", cmd,
                  qdict_get_str(qdict_get_qdict(resp, "error"), "desc"));
    }
    qobject_unref(resp);
}

static void dt_wait_migration(QTestState *qts)
{
    int i;

    for (i = 0; i < 6000; i++) {
        QDict *resp = qtest_qmp(qts, "{'execute': 'query-migrate'}");
        QDict *ret = qdict_get_qdict(resp, "return");
        const char *status = qdict_get_try_str(ret, "status");
        bool done = status && !strcmp(status, "completed");

        if (status && !strcmp(status, "failed")) {
            dt_report("migration failed: %s",
                      qdict_get_try_str(ret, "error-desc"));
        }
        qobject_unref(resp);
        if (done) {
            return;
        }
        g_usleep(10 * 1000);
    }
    dt_report("migration did not complete in 60 s");
}

static void test_migrate_mid_command(const void *data)
{
    const DmatdMachine *m = data;
    DmatdDev *d = dmatd_start(m, ",latency-ns=1000,step-size=4096", "-m 128M");
    g_autofree char *file = g_strdup_printf("%s/dt-migrate-XXXXXX",
                                            g_get_tmp_dir());
    g_autofree char *uri = NULL;
    uint32_t len = 256 * DT_PAGE;
    uint64_t buf = dt_region(d, len);
    uint64_t vbuf = dt_region(d, DT_PAGE);
    DtSqe w = dt_sqe_write(d, buf, len, DT_SEED, 0xaa);
    DtSqe v = { .op = DT_OP_VERIFY_PATTERN, .seed = DT_SEED,
                .src_list = w.dst_list, .src_count = 1, .tag = 0xbb };
    DtSqe w2 = dt_sqe_write(d, vbuf, DT_PAGE, 5, 0xcc);
    g_autoptr(GArray) log_before = NULL;
    g_autoptr(GArray) log_after = NULL;
    g_autoptr(GArray) log_end = NULL;
    QTestState *src = d->qts;
    QDict *resp;
    uint64_t word_before;
    DtQueue q;
    DtCqe c;
    int fd, i;

    fd = g_mkstemp(file);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    uri = g_strdup_printf("file:%s", file);

    dt_q_init(d, &q, 8);
    dt_q_put(d, &q, &w);
    dt_q_put(d, &q, &v);
    dt_q_put(d, &q, &w2);
    dt_q_ring(d, &q);
    for (i = 0; i < 100; i++) {
        qtest_clock_step(d->qts, DT_LAT);
        dt_wait_word(d, buf + (i + 1) * DT_PAGE - 24,
                     dt_pattern_word(DT_SEED, (i + 1) * DT_PAGE - 24));
    }
    g_assert_cmphex(qtest_readq(d->qts, buf + len - 8), ==,
                    0xa5a5a5a5a5a5a5a5ULL);
    log_before = dt_log_get(d, 0);
    word_before = qtest_readq(d->qts, buf + 100 * DT_PAGE);

    /* Save mid-command; the source stops for good. */
    dt_qmp_uri(src, "migrate", uri);
    dt_wait_migration(src);
    qtest_quit(src);

    /* Restore into a fresh QEMU that sees the same devices. */
    if (m->pcie) {
        d->qts = qtest_initf("-machine q35 -nodefaults -m 128M "
                             "-device pcie-root-port,id=rp0,bus=pcie.0,"
                             "chassis=1,addr=0x%x -device dma-testdev,id=dt0,"
                             "bus=rp0,latency-ns=1000,step-size=4096 "
                             "-incoming defer", DMATD_RP_SLOT);
    } else {
        d->qts = qtest_initf("-machine pc -nodefaults -m 128M "
                             "-device dma-testdev,id=dt0,addr=0x%x,"
                             "latency-ns=1000,step-size=4096 "
                             "-incoming defer", DMATD_PC_SLOT);
    }
    dt_qmp_uri(d->qts, "migrate-incoming", uri);
    dt_wait_migration(d->qts);
    resp = qtest_qmp(d->qts, "{'execute': 'query-status'}");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(resp, "return"), "status"),
                    ==, "running");
    qobject_unref(resp);
    unlink(file);

    /* Point our libqos view at the new QEMU, without reprogramming. */
    dmatd_rediscover(d);

    /* State arrived: mid-command, same place, same log. */
    DT_CHECK_REG(d, DT_REG_Q_STATUS, DT_QSTATUS_ENABLED | DT_QSTATUS_BUSY);
    DT_CHECK_REG(d, DT_REG_SQ_HEAD, 1);
    g_assert_cmphex(qtest_readq(d->qts, buf + 100 * DT_PAGE), ==,
                    word_before);
    log_after = dt_log_get(d, 0);
    g_assert_cmpuint(log_after->len, ==, log_before->len);
    for (i = 0; i < log_before->len; i++) {
        DtLogEntry *a = &g_array_index(log_before, DtLogEntry, i);
        DtLogEntry *b = &g_array_index(log_after, DtLogEntry, i);

        g_assert_cmpuint(a->seq, ==, b->seq);
        g_assert_cmphex(a->addr, ==, b->addr);
        g_assert_cmpstr(a->list, ==, b->list);
    }

    /* ...and it finishes there, followed by the rest of the queue. */
    dt_q_wait(d, &q, &c, DT_LAT, 1000);
    dt_check_cqe(&c, 0xaa, DT_STATUS_DONE, DT_ERR_NONE, len,
                 dt_pattern_csum(DT_SEED, len));
    dt_q_wait(d, &q, &c, DT_LAT, 1000);
    dt_check_cqe(&c, 0xbb, DT_STATUS_DONE, DT_ERR_NONE, len,
                 dt_pattern_csum(DT_SEED, len));
    g_assert_cmpuint(c.mismatch_count, ==, 0);
    dt_q_wait(d, &q, &c, DT_LAT, 1000);
    dt_check_cqe(&c, 0xcc, DT_STATUS_DONE, DT_ERR_NONE, DT_PAGE,
                 dt_pattern_csum(5, DT_PAGE));
    dt_check_pattern_at(d, "migrated command", buf, len, DT_SEED);
    log_end = dt_log_get(d, 0);
    dt_check_log_seqs(log_end);
    g_assert_cmpuint(g_array_index(log_end, DtLogEntry, log_end->len - 1).seq,
                     ==, log_end->len);
    dmatd_stop(d);
}

void dt_add_migration_tests(void)
{
    dt_add("migrate/mid-command", test_migrate_mid_command, true);
}
