/*
 * libqos helpers for dma-testdev (see dma-testdev.h).
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "../libqtest.h"
#include "pci.h"
#include "pci-pc.h"
#include "malloc-pc.h"
#include "dma-testdev.h"
#include "qemu/bswap.h"
#include "hw/misc/dma-testdev.h"
#include "hw/pci/pci_regs.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"

const DmatdMachine dmatd_q35 = { .name = "q35", .pcie = true };
const DmatdMachine dmatd_pc = { .name = "pc", .pcie = false };

/* MCH config space: PCIEXBAR, bit 0 enables the window (256 MiB). */
#define DMATD_MCH_PCIEXBAR   0x60

uint8_t dmatd_find_cap(QPCIDevice *dev, uint8_t id)
{
    uint8_t ptr;
    int i;

    if (!(qpci_config_readw(dev, PCI_STATUS) & PCI_STATUS_CAP_LIST)) {
        return 0;
    }
    ptr = qpci_config_readb(dev, PCI_CAPABILITY_LIST) & ~3;
    for (i = 0; ptr && i < 48; i++) {
        if (qpci_config_readb(dev, ptr + PCI_CAP_LIST_ID) == id) {
            return ptr;
        }
        ptr = qpci_config_readb(dev, ptr + PCI_CAP_LIST_NEXT) & ~3;
    }
    return 0;
}

/*
 * No firmware runs under qtest, so do what it would have done for the
 * root port: give it bus 1 and a memory window around the device's BAR.
 */
static void dmatd_root_port_init(QPCIDevice *rp)
{
    qpci_config_writeb(rp, PCI_PRIMARY_BUS, 0);
    qpci_config_writeb(rp, PCI_SECONDARY_BUS, 1);
    qpci_config_writeb(rp, PCI_SUBORDINATE_BUS, 1);
}

static void dmatd_root_port_window(QPCIDevice *rp, uint64_t addr,
                                   uint64_t size)
{
    /* Bits 15:4 of the window registers are address bits 31:20. */
    uint16_t base = (addr >> 16) & 0xfff0;
    uint16_t limit = ((addr + size - 1) >> 16) & 0xfff0;
    uint16_t cmd;

    g_assert_cmphex(addr + size - 1, <=, UINT32_MAX);

    /* I/O window closed (base above limit). */
    qpci_config_writeb(rp, PCI_IO_BASE, 0xf0);
    qpci_config_writeb(rp, PCI_IO_LIMIT, 0x00);
    /* The prefetchable window closed, the other one around the BARs. */
    qpci_config_writew(rp, PCI_PREF_MEMORY_BASE, 0xfff0);
    qpci_config_writew(rp, PCI_PREF_MEMORY_LIMIT, 0x0000);
    qpci_config_writel(rp, PCI_PREF_BASE_UPPER32, 0);
    qpci_config_writel(rp, PCI_PREF_LIMIT_UPPER32, 0);
    qpci_config_writew(rp, PCI_MEMORY_BASE, base);
    qpci_config_writew(rp, PCI_MEMORY_LIMIT, limit);

    cmd = qpci_config_readw(rp, PCI_COMMAND);
    qpci_config_writew(rp, PCI_COMMAND,
                       cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static void dmatd_find(DmatdDev *d)
{
    if (d->machine->pcie) {
        d->rp = qpci_device_find(d->bus, QPCI_DEVFN(DMATD_RP_SLOT, 0));
        g_assert_nonnull(d->rp);
        d->dev = qpci_device_find(d->bus, DMATD_BDF(1, 0, 0));
    } else {
        d->dev = qpci_device_find(d->bus, QPCI_DEVFN(DMATD_PC_SLOT, 0));
    }
    g_assert_nonnull(d->dev);
}

/* The root port's window around the device's BARs. */
static void dmatd_window(DmatdDev *d)
{
    uint64_t end = d->msix_bar_size ? d->msix_bar.addr + d->msix_bar_size
                                    : d->bar.addr + d->bar_size;

    dmatd_root_port_window(d->rp, d->bar.addr, end - d->bar.addr);
}

static QTestState *dmatd_qemu(const DmatdMachine *m, const char *props,
                              const char *extra)
{
    if (m->pcie) {
        return qtest_initf("-machine q35 -nodefaults %s "
                           "-device pcie-root-port,id=rp0,bus=pcie.0,"
                           "chassis=1,addr=0x%x "
                           "-device dma-testdev,id=dt0,bus=rp0%s",
                           extra, DMATD_RP_SLOT, props);
    }
    return qtest_initf("-machine pc -nodefaults %s "
                       "-device dma-testdev,id=dt0,addr=0x%x%s",
                       extra, DMATD_PC_SLOT, props);
}

DmatdDev *dmatd_start(const DmatdMachine *m, const char *props,
                      const char *extra)
{
    DmatdDev *d = g_new0(DmatdDev, 1);
    uint32_t bar0;

    d->machine = m;
    d->props = g_strdup(props);
    d->extra = g_strdup(extra);
    d->qts = dmatd_qemu(m, props, extra);
    pc_alloc_init(&d->alloc, d->qts, ALLOC_NO_FLAGS);
    d->bus = qpci_new_pc(d->qts, &d->alloc);

    if (m->pcie) {
        d->rp = qpci_device_find(d->bus, QPCI_DEVFN(DMATD_RP_SLOT, 0));
        g_assert_nonnull(d->rp);
        dmatd_root_port_init(d->rp);
        g_free(d->rp);
    }
    dmatd_find(d);

    d->bar = qpci_iomap(d->dev, 0, &d->bar_size);
    g_assert_false(d->bar.is_io);
    if (dmatd_find_cap(d->dev, PCI_CAP_ID_MSIX)) {
        d->msix_bar = qpci_iomap(d->dev, 1, &d->msix_bar_size);
    }
    if (d->rp) {
        /* libqos hands out BARs upwards: BAR1 lies above BAR0. */
        bar0 = qpci_config_readl(d->dev, PCI_BASE_ADDRESS_0);
        g_assert_false(bar0 & PCI_BASE_ADDRESS_MEM_PREFETCH);
        dmatd_window(d);
    }
    qpci_device_enable(d->dev);
    return d;
}

void dmatd_rediscover(DmatdDev *d)
{
    g_free(d->dev);
    g_free(d->rp);
    d->rp = NULL;
    qpci_free_pc(d->bus);
    d->bus = qpci_new_pc(d->qts, &d->alloc);
    dmatd_find(d);
}

void dmatd_reprogram(DmatdDev *d)
{
    if (d->rp) {
        dmatd_root_port_init(d->rp);
    }
    qpci_config_writel(d->dev, PCI_BASE_ADDRESS_0, d->bar.addr);
    if (d->msix_bar_size) {
        qpci_config_writel(d->dev, PCI_BASE_ADDRESS_1, d->msix_bar.addr);
    }
    if (d->rp) {
        dmatd_window(d);
    }
    qpci_device_enable(d->dev);
}

/*
 * qtest_quit() without its tenth of a second: libqtest sends SIGTERM and
 * then polls waitpid() every 100 ms, while QEMU is gone in about 10 ms.
 * With hundreds of QEMUs a run (the hardening test's migration loads
 * alone start 650), that wait was most of their cost.  Here QEMU is
 * reaped as soon as it exits; qtest_quit() then finds it gone and checks
 * its exit status as ever.
 */
void dmatd_qtest_quit(QTestState *qts)
{
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    if (qtest_probe_child(qts) && qtest_pid(qts) > 0) {
        kill(qtest_pid(qts), SIGTERM);
        while (qtest_probe_child(qts) && g_get_monotonic_time() < end) {
            g_usleep(1000);
        }
    }
    qtest_quit(qts);
}

void dmatd_stop(DmatdDev *d)
{
    g_free(d->dev);
    g_free(d->rp);
    qpci_free_pc(d->bus);
    alloc_destroy(&d->alloc);
    dmatd_qtest_quit(d->qts);
    g_free(d->props);
    g_free(d->extra);
    g_free(d);
}

/* Run QMP command @cmd with a "uri" argument; it must succeed. */
static void dmatd_qmp_uri(QTestState *qts, const char *cmd, const char *uri)
{
    QDict *resp = qtest_qmp(qts, "{'execute': %s, 'arguments': "
                            "{'uri': %s}}", cmd, uri);

    if (qdict_haskey(resp, "error")) {
        g_error("QMP %s failed: %s", cmd,
                qdict_get_str(qdict_get_qdict(resp, "error"), "desc"));
    }
    qobject_unref(resp);
}

static void dmatd_wait_migration(QTestState *qts)
{
    int i;

    for (i = 0; i < 6000; i++) {
        QDict *resp = qtest_qmp(qts, "{'execute': 'query-migrate'}");
        QDict *ret = qdict_get_qdict(resp, "return");
        const char *status = qdict_get_try_str(ret, "status");
        bool done = status && !strcmp(status, "completed");

        if (status && !strcmp(status, "failed")) {
            g_error("migration failed: %s",
                    qdict_get_try_str(ret, "error-desc"));
        }
        qobject_unref(resp);
        if (done) {
            return;
        }
        g_usleep(10 * 1000);
    }
    g_error("migration did not complete in 60 s");
}

void dmatd_migrate(DmatdDev *d)
{
    g_autofree char *file = g_strdup_printf("%s/dmatd-migrate-XXXXXX",
                                            g_get_tmp_dir());
    g_autofree char *extra = g_strdup_printf("%s -incoming defer",
                                             d->extra);
    g_autofree char *uri = NULL;
    QDict *resp;
    int fd;

    fd = g_mkstemp(file);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    uri = g_strdup_printf("file:%s", file);

    /* Save; the source stops for good. */
    dmatd_qmp_uri(d->qts, "migrate", uri);
    dmatd_wait_migration(d->qts);
    dmatd_qtest_quit(d->qts);

    /* Restore into a fresh QEMU that sees the same devices. */
    d->qts = dmatd_qemu(d->machine, d->props, extra);
    dmatd_qmp_uri(d->qts, "migrate-incoming", uri);
    dmatd_wait_migration(d->qts);
    resp = qtest_qmp(d->qts, "{'execute': 'query-status'}");
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(resp, "return"), "status"),
                    ==, "running");
    qobject_unref(resp);
    unlink(file);
    dmatd_rediscover(d);
}

uint32_t dmatd_rd(DmatdDev *d, uint32_t reg)
{
    return qpci_io_readl(d->dev, d->bar, reg);
}

void dmatd_wr(DmatdDev *d, uint32_t reg, uint32_t val)
{
    qpci_io_writel(d->dev, d->bar, reg, val);
}

uint64_t dmatd_rd64(DmatdDev *d, uint32_t reg_lo)
{
    return dmatd_rd(d, reg_lo) | (uint64_t)dmatd_rd(d, reg_lo + 4) << 32;
}

void dmatd_wr64(DmatdDev *d, uint32_t reg_lo, uint64_t val)
{
    dmatd_wr(d, reg_lo, val);
    dmatd_wr(d, reg_lo + 4, val >> 32);
}

void dmatd_ecam_enable(DmatdDev *d)
{
    QPCIDevice *mch = qpci_device_find(d->bus, QPCI_DEVFN(0, 0));

    g_assert_true(d->machine->pcie);
    g_assert_nonnull(mch);
    qpci_config_writel(mch, DMATD_MCH_PCIEXBAR + 4, 0);
    qpci_config_writel(mch, DMATD_MCH_PCIEXBAR, DMATD_ECAM_BASE | 1);
    g_free(mch);
    /* The device's vendor and device ID, read through the window. */
    g_assert_cmphex(qtest_readl(d->qts, DMATD_ECAM_ADDR(1, 0, 0, 0)), ==,
                    qpci_config_readl(d->dev, PCI_VENDOR_ID));
}

/* The QOM path of the device with qdev id @id. */
static char *dmatd_path(const char *id)
{
    return g_strdup_printf("/machine/peripheral/%s", id);
}

/* One page of the DMA log, from "dma-log-from" on. */
static QList *dmatd_log_read_page(QTestState *qts, const char *id)
{
    g_autofree char *path = dmatd_path(id);
    QDict *resp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': "
                            "{'path': %s, 'property': 'dma-log'}}", path);
    QList *list;

    if (!qdict_haskey(resp, "return")) {
        g_error("qom-get dma-log of %s failed", id);
    }
    list = qlist_copy(qdict_get_qlist(resp, "return"));
    qobject_unref(resp);
    return list;
}

static uint64_t dmatd_entry_seq(QObject *obj)
{
    QDict *e = qobject_to(QDict, obj);
    QNum *n = e ? qobject_to(QNum, qdict_get(e, "seq")) : NULL;
    uint64_t seq;

    if (!n || !qnum_get_try_uint(n, &seq)) {
        g_error("DMA log entry without a 'seq'");
    }
    return seq;
}

QList *dmatd_log_read(QTestState *qts, const char *id, uint64_t from)
{
    g_autofree char *path = dmatd_path(id);
    QList *all = qlist_new();

    for (;;) {
        QList *page;
        QObject *obj;
        uint64_t next = from;

        qtest_qmp_assert_success(qts, "{'execute': 'qom-set', 'arguments': "
                                 "{'path': %s, 'property': 'dma-log-from', "
                                 "'value': %" PRIu64 "}}", path, from);
        page = dmatd_log_read_page(qts, id);
        if (qlist_empty(page)) {
            qobject_unref(page);
            return all;
        }
        while ((obj = qlist_pop(page))) {
            uint64_t seq = dmatd_entry_seq(obj);

            /* Pages follow each other: a gap or a repeat is a bug. */
            if (seq < next) {
                g_error("DMA log page out of order: seq %" PRIu64
                        " after %" PRIu64, seq, next - 1);
            }
            next = seq + 1;
            qlist_append_obj(all, obj);
        }
        qobject_unref(page);
        from = next;
    }
}

uint64_t dmatd_log_seq(QTestState *qts, const char *id)
{
    g_autofree char *path = dmatd_path(id);
    QDict *resp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': "
                            "{'path': %s, 'property': 'dma-log-seq'}}", path);
    QNum *n = qobject_to(QNum, qdict_get(resp, "return"));
    uint64_t seq;

    if (!n || !qnum_get_try_uint(n, &seq)) {
        g_error("qom-get dma-log-seq of %s failed", id);
    }
    qobject_unref(resp);
    return seq;
}

uint64_t dmatd_qdict_uint(QDict *d, const char *key)
{
    QNum *n = qobject_to(QNum, qdict_get(d, key));
    uint64_t val;

    if (!n || !qnum_get_try_uint(n, &val)) {
        g_error("no unsigned integer '%s' in the dict", key);
    }
    return val;
}

uint8_t dmatd_msix_cap(DmatdDev *d)
{
    uint8_t cap = dmatd_find_cap(d->dev, PCI_CAP_ID_MSIX);

    g_assert_cmpuint(cap, !=, 0);
    g_assert_cmpuint(d->msix_bar_size, !=, 0);
    return cap;
}

void dmatd_msix_vector(DmatdDev *d, unsigned v, uint64_t addr, uint32_t data,
                       bool masked)
{
    uint32_t table = qpci_config_readl(d->dev,
                                       dmatd_msix_cap(d) + PCI_MSIX_TABLE);
    unsigned bir = table & PCI_MSIX_FLAGS_BIRMASK;
    QPCIBar bar = bir ? d->msix_bar : d->bar;
    uint64_t e = (table & ~PCI_MSIX_FLAGS_BIRMASK) + v * PCI_MSIX_ENTRY_SIZE;

    g_assert_cmpuint(bir, <=, 1);
    qpci_io_writel(d->dev, bar, e + PCI_MSIX_ENTRY_LOWER_ADDR, addr);
    qpci_io_writel(d->dev, bar, e + PCI_MSIX_ENTRY_UPPER_ADDR, addr >> 32);
    qpci_io_writel(d->dev, bar, e + PCI_MSIX_ENTRY_DATA, data);
    qpci_io_writel(d->dev, bar, e + PCI_MSIX_ENTRY_VECTOR_CTRL,
                   masked ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0);
}

void dmatd_msix_enable(DmatdDev *d)
{
    uint8_t cap = dmatd_msix_cap(d);
    uint16_t flags = qpci_config_readw(d->dev, cap + PCI_MSIX_FLAGS);

    qpci_config_writew(d->dev, cap + PCI_MSIX_FLAGS,
                       (flags & ~PCI_MSIX_FLAGS_MASKALL) |
                       PCI_MSIX_FLAGS_ENABLE);
}

void dmatd_queue_init(DmatdDev *d, DmatdQueue *q, uint32_t size)
{
    *q = (DmatdQueue) {
        .sq = guest_alloc(&d->alloc, size * DMATD_SQE_SIZE),
        .cq = guest_alloc(&d->alloc, size * DMATD_CQE_SIZE),
        .size = size,
        .phase = true,
    };
    g_assert_cmphex(q->sq % DMATD_Q_ALIGN, ==, 0);
    g_assert_cmphex(q->cq % DMATD_Q_ALIGN, ==, 0);
    qtest_memset(d->qts, q->sq, 0, size * DMATD_SQE_SIZE);
    qtest_memset(d->qts, q->cq, 0, size * DMATD_CQE_SIZE);
    dmatd_wr(d, DMATD_REG_Q_CTRL, 0);
    dmatd_wr64(d, DMATD_REG_SQ_BASE_LO, q->sq);
    dmatd_wr64(d, DMATD_REG_CQ_BASE_LO, q->cq);
    dmatd_wr(d, DMATD_REG_Q_SIZE, size);
    dmatd_wr(d, DMATD_REG_Q_CTRL, DMATD_QCTRL_ENABLE);
    g_assert_cmphex(dmatd_rd(d, DMATD_REG_Q_STATUS), ==, DMATD_QSTATUS_ENABLED);
    g_assert_cmpuint(dmatd_rd(d, DMATD_REG_Q_ERROR), ==, DMATD_QERR_NONE);
}

void dmatd_sqe_write(DmatdDev *d, uint64_t addr,
                     const struct dma_testdev_sqe *e)
{
    struct dma_testdev_sqe le = {
        .op = cpu_to_le32(e->op),
        .flags = cpu_to_le32(e->flags),
        .seed = cpu_to_le32(e->seed),
        .vector = cpu_to_le32(e->vector),
        .src_list = cpu_to_le64(e->src_list),
        .src_count = cpu_to_le32(e->src_count),
        .rsvd0 = cpu_to_le32(e->rsvd0),
        .dst_list = cpu_to_le64(e->dst_list),
        .dst_count = cpu_to_le32(e->dst_count),
        .rsvd1 = cpu_to_le32(e->rsvd1),
        .fill = cpu_to_le64(e->fill),
        .tag = cpu_to_le64(e->tag),
    };

    qtest_memwrite(d->qts, addr, &le, sizeof(le));
}

void dmatd_cqe_load(DmatdDev *d, uint64_t addr, struct dma_testdev_cqe *c)
{
    struct dma_testdev_cqe le;

    qtest_memread(d->qts, addr, &le, sizeof(le));
    *c = (struct dma_testdev_cqe) {
        .tag = le64_to_cpu(le.tag),
        .cmd_seq = le64_to_cpu(le.cmd_seq),
        .bytes_done = le64_to_cpu(le.bytes_done),
        .checksum = le64_to_cpu(le.checksum),
        .err_addr = le64_to_cpu(le.err_addr),
        .mismatch_off = le64_to_cpu(le.mismatch_off),
        .error = le32_to_cpu(le.error),
        .err_seg = le32_to_cpu(le.err_seg),
        .mismatch_count = le32_to_cpu(le.mismatch_count),
        .status = le32_to_cpu(le.status),
    };
}

void dmatd_queue_put(DmatdDev *d, DmatdQueue *q,
                     const struct dma_testdev_sqe *e)
{
    dmatd_sqe_write(d, q->sq + q->tail * DMATD_SQE_SIZE, e);
    q->tail = (q->tail + 1) % q->size;
}

void dmatd_queue_ring(DmatdDev *d, DmatdQueue *q)
{
    dmatd_wr(d, DMATD_REG_SQ_TAIL, q->tail);
}

void dmatd_queue_submit(DmatdDev *d, DmatdQueue *q,
                        const struct dma_testdev_sqe *e)
{
    dmatd_queue_put(d, q, e);
    dmatd_queue_ring(d, q);
}

void dmatd_cqe_read(DmatdDev *d, DmatdQueue *q, uint32_t slot,
                    struct dma_testdev_cqe *c)
{
    dmatd_cqe_load(d, q->cq + slot * DMATD_CQE_SIZE, c);
}

bool dmatd_queue_peek(DmatdDev *d, DmatdQueue *q, struct dma_testdev_cqe *c)
{
    dmatd_cqe_read(d, q, q->cq_head, c);
    return !!(c->status & DMATD_CQE_PHASE) == q->phase;
}

void dmatd_queue_pop(DmatdDev *d, DmatdQueue *q, struct dma_testdev_cqe *c)
{
    if (!dmatd_queue_peek(d, q, c)) {
        g_autofree char *msg = g_strdup_printf(
            "no completion in cq[%u] (phase %d expected): CQ_TAIL %u "
            "SQ_HEAD %u Q_STATUS 0x%x Q_ERROR %u", q->cq_head, q->phase,
            dmatd_rd(d, DMATD_REG_CQ_TAIL), dmatd_rd(d, DMATD_REG_SQ_HEAD),
            dmatd_rd(d, DMATD_REG_Q_STATUS), dmatd_rd(d, DMATD_REG_Q_ERROR));

        g_assertion_message(G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
    }
    c->status &= ~DMATD_CQE_PHASE;
    q->cq_head = (q->cq_head + 1) % q->size;
    if (!q->cq_head) {
        q->phase = !q->phase;
    }
    dmatd_wr(d, DMATD_REG_CQ_HEAD, q->cq_head);
}

void dmatd_queue_wait(DmatdDev *d, DmatdQueue *q, struct dma_testdev_cqe *c,
                      int64_t ns, int max_steps)
{
    int i;

    for (i = 0; i < max_steps && !dmatd_queue_peek(d, q, c); i++) {
        if (ns) {
            qtest_clock_step(d->qts, ns);
        } else {
            g_usleep(1000);
        }
    }
    dmatd_queue_pop(d, q, c);
}

uint64_t dmatd_put_segs(DmatdDev *d, const struct dma_testdev_seg *segs,
                        unsigned n)
{
    uint64_t list = guest_alloc(&d->alloc, n * DMATD_SEG_SIZE);
    unsigned i;

    g_assert_cmphex(list % DMATD_SEG_ALIGN, ==, 0);
    for (i = 0; i < n; i++) {
        struct dma_testdev_seg le = {
            .addr = cpu_to_le64(segs[i].addr),
            .len = cpu_to_le32(segs[i].len),
            .flags = cpu_to_le32(segs[i].flags),
        };

        qtest_memwrite(d->qts, list + i * DMATD_SEG_SIZE, &le, sizeof(le));
    }
    return list;
}

bool dmatd_qemu_alive(QTestState *qts)
{
    QDict *resp = qtest_qmp(qts, "{'execute': 'query-status'}");
    bool alive = resp && qdict_haskey(resp, "return");

    qobject_unref(resp);
    return alive;
}
