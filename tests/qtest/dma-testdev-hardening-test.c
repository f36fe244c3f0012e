/*
 * QTest testcase for dma-testdev: nothing a guest does, and nothing in a
 * migration stream, may crash, hang or stall QEMU.
 *
 * Routes: the device's own DMA, or its own interrupt message, is aimed
 * at config space through ECAM (set up as firmware does on q35) and
 * resets the device (FLR, Secondary Bus Reset through the root port),
 * unplugs it (slot power off), turns Bus Master or Memory Space off, or
 * moves its BAR, in the middle of a command, on every path: register
 * commands, queue commands, and the epf-test personality.  Each case
 * checks that QEMU lives and that the outcome documented in
 * docs/specs/dma-testdev.rst ("When the device's own DMA changes the
 * device") happened.  On pc, which has no ECAM, the test itself turns Bus
 * Master off or moves the BAR between two steps of a queued command.
 *
 * Migration: a real stream saved mid-command is loaded back with every
 * field of the device's section corrupted in turn, the fields found from
 * the stream's own VMState description (its JSON trailer), three bad
 * values each; each load fails cleanly or leaves a device that passes a
 * consistency check and runs the next command.
 *
 * Cost: the DMA log reads in bounded pages; the epf-test personality
 * moves data in paced steps.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "libqos/pci.h"
#include "libqos/pci-pc.h"
#include "libqos/malloc-pc.h"
#include "libqos/dma-testdev.h"
#include "hw/pci/pci_regs.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "qobject/qstring.h"
#include "hw/misc/dma-testdev.h"

#define HD_GUARD            0xa5
#define HD_SEED             0x4a7d0001u
#define HD_LAT              1000
/* Root port window bytes 1 MiB up, where a BAR is moved to. */
#define HD_BAR_MOVE         0x80000
/*
 * q35 hotplugs through ACPI by default: the root port's slot then has no
 * presence and powering it off only cuts power (the device is reset and
 * disabled).  With native PCIe hotplug, power off unplugs the device.
 */
#define HD_NATIVE_HOTPLUG   "-m 256M -global " \
    "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off"

/* Which path runs the command whose DMA does the damage. */
typedef enum {
    HD_REGISTER,                /* native, DMATD_REG_CMD */
    HD_QUEUE,                   /* native, the command queue */
    HD_REGISTER_MSI,            /* native, the CMD_DONE MSI-X message */
    HD_QUEUE_MSI,               /* native, a completion's MSI-X message */
    HD_EPF,                     /* epf-test COPY */
    HD_EPF_MSI,                 /* epf-test RAISE_MSIX */
} HdPath;

/* What the DMA hits. */
typedef enum {
    HD_FLR,                     /* own Device Control: FLR */
    HD_SBR,                     /* root port Bridge Control: bus reset */
    HD_UNPLUG,                  /* Slot Control power off, native hotplug */
    HD_POWER_OFF,               /* the same, ACPI hotplug: power cut only */
    HD_BUS_MASTER_OFF,          /* own COMMAND: Memory Space only */
    HD_MEMORY_OFF,              /* own COMMAND: Bus Master only */
    HD_BAR_MOVED,               /* own BAR0 */
} HdTarget;

static const char *const hd_path_names[] = {
    [HD_REGISTER] = "register", [HD_QUEUE] = "queue",
    [HD_REGISTER_MSI] = "register-msix", [HD_QUEUE_MSI] = "queue-msix",
    [HD_EPF] = "epf", [HD_EPF_MSI] = "epf-msix",
};

static const char *const hd_target_names[] = {
    [HD_FLR] = "flr", [HD_SBR] = "bus-reset", [HD_UNPLUG] = "unplug",
    [HD_POWER_OFF] = "slot-power-off",
    [HD_BUS_MASTER_OFF] = "bus-master-off", [HD_MEMORY_OFF] = "memory-off",
    [HD_BAR_MOVED] = "bar-moved",
};

typedef struct HdRoute {
    HdPath path;
    HdTarget target;
} HdRoute;

static bool hd_is_epf(HdPath p)
{
    return p == HD_EPF || p == HD_EPF_MSI;
}

static bool hd_is_msi(HdPath p)
{
    return p == HD_REGISTER_MSI || p == HD_QUEUE_MSI || p == HD_EPF_MSI;
}

/* The ECAM address and the value that hit @t, and how many bytes. */
static void hd_target(DmatdDev *d, HdTarget t, uint64_t *addr,
                      uint32_t *val, unsigned *len)
{
    uint8_t exp = dmatd_find_cap(d->dev, PCI_CAP_ID_EXP);
    uint8_t rp_exp = dmatd_find_cap(d->rp, PCI_CAP_ID_EXP);
    uint16_t sltctl;

    g_assert_cmpuint(exp, !=, 0);
    g_assert_cmpuint(rp_exp, !=, 0);
    *len = 2;
    switch (t) {
    case HD_FLR:
        *addr = DMATD_ECAM_ADDR(1, 0, 0, exp + PCI_EXP_DEVCTL);
        *val = qpci_config_readw(d->dev, exp + PCI_EXP_DEVCTL) |
               PCI_EXP_DEVCTL_BCR_FLR;
        break;
    case HD_SBR:
        *addr = DMATD_ECAM_ADDR(0, DMATD_RP_SLOT, 0, PCI_BRIDGE_CONTROL);
        *val = qpci_config_readw(d->rp, PCI_BRIDGE_CONTROL) |
               PCI_BRIDGE_CTL_BUS_RESET;
        break;
    case HD_UNPLUG:
    case HD_POWER_OFF:
        sltctl = qpci_config_readw(d->rp, rp_exp + PCI_EXP_SLTCTL);
        *addr = DMATD_ECAM_ADDR(0, DMATD_RP_SLOT, 0, rp_exp + PCI_EXP_SLTCTL);
        *val = (sltctl & ~(PCI_EXP_SLTCTL_PIC | PCI_EXP_SLTCTL_PCC)) |
               PCI_EXP_SLTCTL_PWR_IND_OFF | PCI_EXP_SLTCTL_PWR_OFF;
        break;
    case HD_BUS_MASTER_OFF:
        *addr = DMATD_ECAM_ADDR(1, 0, 0, PCI_COMMAND);
        *val = PCI_COMMAND_MEMORY;
        break;
    case HD_MEMORY_OFF:
        *addr = DMATD_ECAM_ADDR(1, 0, 0, PCI_COMMAND);
        *val = PCI_COMMAND_MASTER;
        break;
    case HD_BAR_MOVED:
        *addr = DMATD_ECAM_ADDR(1, 0, 0, PCI_BASE_ADDRESS_0);
        *val = d->bar.addr + HD_BAR_MOVE;
        *len = 4;
        break;
    default:
        g_assert_not_reached();
    }
}

/* A page of guard bytes in guest RAM. */
static uint64_t hd_region(DmatdDev *d, uint64_t size)
{
    uint64_t base = guest_alloc(&d->alloc, size);

    qtest_memset(d->qts, base, HD_GUARD, size);
    return base;
}

static void hd_check_guard(DmatdDev *d, const char *what, uint64_t addr,
                           uint64_t len)
{
    g_autofree uint8_t *buf = g_malloc(len);
    uint64_t i;

    qtest_memread(d->qts, addr, buf, len);
    for (i = 0; i < len; i++) {
        if (buf[i] != HD_GUARD) {
            g_error("%s: byte at 0x%" PRIx64 " is 0x%02x, expected untouched "
                    "(0x%02x)", what, addr + i, buf[i], HD_GUARD);
        }
    }
}

/* Every byte of [addr, addr + len) holds the FILL word's byte there. */
static void hd_check_fill(DmatdDev *d, uint64_t addr, uint64_t len,
                          uint64_t fill, uint64_t stream_off)
{
    g_autofree uint8_t *buf = g_malloc(len);
    uint64_t i;

    qtest_memread(d->qts, addr, buf, len);
    for (i = 0; i < len; i++) {
        uint8_t exp = fill >> (((stream_off + i) & 7) * 8);

        if (buf[i] != exp) {
            g_error("FILL data at 0x%" PRIx64 ": 0x%02x, expected 0x%02x",
                    addr + i, buf[i], exp);
        }
    }
}

static void hd_assert_alive(DmatdDev *d)
{
    if (!dmatd_qemu_alive(d->qts)) {
        g_error("QEMU stopped answering");
    }
}

/* Is dt0 still in the QOM tree? */
static bool hd_plugged(DmatdDev *d)
{
    QDict *resp = qtest_qmp(d->qts, "{'execute': 'qom-get', 'arguments': "
                            "{'path': '/machine/peripheral/dt0', "
                            "'property': 'type'}}");
    bool present = qdict_haskey(resp, "return");

    qobject_unref(resp);
    return present;
}

/* Let queued steps and epf callbacks run for @n latencies. */
static void hd_run(DmatdDev *d, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        qtest_clock_step(d->qts, HD_LAT);
        /* A read is a round trip: the main loop ran the bottom half. */
        dmatd_qemu_alive(d->qts);
    }
}

/* Wait (in real time) until the byte at @addr is no longer the guard. */
static void hd_wait_written(DmatdDev *d, uint64_t addr)
{
    int i;

    for (i = 0; i < 5000 && qtest_readb(d->qts, addr) == HD_GUARD; i++) {
        g_usleep(1000);
    }
    g_assert_cmphex(qtest_readb(d->qts, addr), !=, HD_GUARD);
}

/* Wait until register @reg reads @val. */
static void hd_wait_reg(DmatdDev *d, uint32_t reg, uint32_t val)
{
    int i;

    for (i = 0; i < 5000 && dmatd_rd(d, reg) != val; i++) {
        g_usleep(1000);
    }
    g_assert_cmphex(dmatd_rd(d, reg), ==, val);
}

/*
 * The registers after a reset, reached again after dmatd_reprogram: the
 * command that did it left nothing behind but CMD_SEQ and the DMA log.
 */
static void hd_check_native_reset(DmatdDev *d)
{
    g_assert_cmphex(dmatd_rd(d, DMATD_REG_STATUS), ==, 0);
    g_assert_cmphex(dmatd_rd(d, DMATD_REG_CMD), ==, 0);
    g_assert_cmphex(dmatd_rd(d, DMATD_REG_Q_CTRL), ==, 0);
    g_assert_cmphex(dmatd_rd(d, DMATD_REG_Q_STATUS), ==, 0);
    g_assert_cmphex(dmatd_rd(d, DMATD_REG_Q_SIZE), ==, 0);
    g_assert_cmphex(dmatd_rd(d, DMATD_REG_CQ_TAIL), ==, 0);
    g_assert_cmphex(dmatd_rd(d, DMATD_REG_INTR_STATUS), ==, 0);
}

/* After the damage: the device runs a plain WRITE_PATTERN correctly. */
static void hd_check_native_works(DmatdDev *d)
{
    uint64_t buf = hd_region(d, 256);
    struct dma_testdev_seg seg = { .addr = buf, .len = 256 };
    uint64_t list = dmatd_put_segs(d, &seg, 1);
    uint64_t i;

    dmatd_wr(d, DMATD_REG_SEED, HD_SEED);
    dmatd_wr64(d, DMATD_REG_DST_LIST_LO, list);
    dmatd_wr(d, DMATD_REG_DST_COUNT, 1);
    dmatd_wr(d, DMATD_REG_CMD, DMATD_OP_WRITE_PATTERN);
    g_assert_cmphex(dmatd_rd(d, DMATD_REG_STATUS), ==, DMATD_STATUS_DONE);
    for (i = 0; i < 256; i += 8) {
        g_assert_cmphex(qtest_readq(d->qts, buf + i), ==,
                        dmatd_pattern_word(HD_SEED, i));
    }
}

static void hd_check_epf_works(DmatdDev *d)
{
    uint64_t src = hd_region(d, 64), dst = hd_region(d, 64);
    int i;

    qtest_memset(d->qts, src, 0x3c, 64);
    dmatd_wr64(d, DMATD_EPF_SRC_LO, src);
    dmatd_wr64(d, DMATD_EPF_DST_LO, dst);
    dmatd_wr(d, DMATD_EPF_SIZE, 64);
    dmatd_wr(d, DMATD_EPF_IRQ_TYPE, DMATD_EPF_IRQ_INTX);
    dmatd_wr(d, DMATD_EPF_COMMAND, DMATD_EPF_CMD_COPY);
    for (i = 0; i < 1000 && !dmatd_rd(d, DMATD_EPF_STATUS); i++) {
        hd_run(d, 1);
    }
    g_assert_cmphex(dmatd_rd(d, DMATD_EPF_STATUS), ==,
                    DMATD_EPF_ST_COPY_OK | DMATD_EPF_ST_IRQ_RAISED);
    g_assert_cmphex(qtest_readq(d->qts, dst + 56), ==, 0x3c3c3c3c3c3c3c3cULL);
}

/*
 * Aim MSI-X vector 0 at @addr, with a message that writes @val there:
 * a message is a 4-byte write to a dword address, so the other bytes of
 * that dword get what config space holds now.
 */
static void hd_msix_at(DmatdDev *d, uint64_t addr, uint32_t val,
                       unsigned len)
{
    uint64_t dword = addr & ~3ULL;
    unsigned shift = (addr & 3) * 8;
    uint32_t mask = (len == 4 ? UINT32_MAX : (1u << (len * 8)) - 1) << shift;
    uint32_t data = (qtest_readl(d->qts, dword) & ~mask) | (val << shift);

    g_assert_cmpuint((addr & 3) + len, <=, 4);
    dmatd_msix_vector(d, 0, dword, data, false);
    dmatd_msix_enable(d);
}

/*
 * Start the command whose DMA (or interrupt) writes @val to @addr, then
 * (for native DMA paths) 64 bytes to @buf.  Returns once it ran.
 */
static void hd_fire(DmatdDev *d, HdPath path, uint64_t addr, uint32_t val,
                    unsigned len, uint64_t buf)
{
    struct dma_testdev_seg segs[2] = {
        { .addr = addr, .len = len },
        { .addr = buf, .len = 64 },
    };
    /* An MSI path writes only RAM; the message does the damage. */
    bool msi = hd_is_msi(path);
    uint64_t list = msi ? dmatd_put_segs(d, &segs[1], 1)
                        : dmatd_put_segs(d, segs, 2);
    uint32_t count = msi ? 1 : 2;
    DmatdQueue q;

    if (msi) {
        hd_msix_at(d, addr, val, len);
    }
    switch (path) {
    case HD_REGISTER:
    case HD_REGISTER_MSI:
        dmatd_wr64(d, DMATD_REG_FILL_LO, val);
        dmatd_wr64(d, DMATD_REG_DST_LIST_LO, list);
        dmatd_wr(d, DMATD_REG_DST_COUNT, count);
        if (msi) {
            dmatd_wr(d, DMATD_REG_INTR_ENABLE, DMATD_INTR_CMD_DONE);
        }
        dmatd_wr(d, DMATD_REG_CMD, DMATD_OP_FILL);
        break;
    case HD_QUEUE:
    case HD_QUEUE_MSI: {
        struct dma_testdev_sqe e = {
            .op = DMATD_OP_FILL, .dst_list = list, .dst_count = count,
            .fill = val, .tag = 0x7a9, .flags = msi ? DMATD_SQE_F_INTR : 0,
        };

        dmatd_queue_init(d, &q, 4);
        if (msi) {
            dmatd_wr(d, DMATD_REG_INTR_ENABLE, DMATD_INTR_QUEUE_CMPL);
        }
        dmatd_queue_submit(d, &q, &e);
        hd_run(d, 20);
        break;
    }
    default:
        g_assert_not_reached();
    }
}

static void hd_fire_epf(DmatdDev *d, HdPath path, uint64_t addr,
                        uint32_t val, unsigned len)
{
    uint64_t src = hd_region(d, 8);

    if (path == HD_EPF_MSI) {
        hd_msix_at(d, addr, val, len);
        dmatd_wr(d, DMATD_EPF_IRQ_TYPE, DMATD_EPF_IRQ_MSIX);
        dmatd_wr(d, DMATD_EPF_IRQ_NUMBER, 1);
        dmatd_wr(d, DMATD_EPF_COMMAND, DMATD_EPF_CMD_RAISE_MSIX);
    } else {
        qtest_writel(d->qts, src, val);
        dmatd_wr64(d, DMATD_EPF_SRC_LO, src);
        dmatd_wr64(d, DMATD_EPF_DST_LO, addr);
        dmatd_wr(d, DMATD_EPF_SIZE, len);
        dmatd_wr(d, DMATD_EPF_IRQ_TYPE, DMATD_EPF_IRQ_INTX);
        dmatd_wr(d, DMATD_EPF_COMMAND, DMATD_EPF_CMD_COPY);
    }
    hd_run(d, 20);
}

/*
 * One route: the device's own DMA or message hits @route->target in the
 * middle of a command on @route->path.
 */
static void test_route(const void *data)
{
    const HdRoute *r = data;
    bool epf = hd_is_epf(r->path), msi = hd_is_msi(r->path);
    DmatdDev *d = dmatd_start(&dmatd_q35,
                              epf ? ",personality=epf-test" : "",
                              r->target == HD_UNPLUG ? HD_NATIVE_HOTPLUG
                                                     : "-m 256M");
    uint64_t buf = hd_region(d, 64);
    uint64_t addr, seq;
    uint32_t val;
    unsigned len;
    bool reset = r->target == HD_FLR || r->target == HD_SBR ||
                 r->target == HD_POWER_OFF;

    dmatd_ecam_enable(d);
    hd_target(d, r->target, &addr, &val, &len);
    if (r->target == HD_UNPLUG) {
        /* As a user would: ask first, then the "guest" powers it off. */
        qtest_qmp_assert_success(d->qts, "{'execute': 'device_del', "
                                 "'arguments': {'id': 'dt0'}}");
        g_assert_true(hd_plugged(d));
    }
    seq = epf ? 0 : dmatd_rd64(d, DMATD_REG_CMD_SEQ_LO);
    if (epf) {
        hd_fire_epf(d, r->path, addr, val, len);
    } else {
        hd_fire(d, r->path, addr, val, len, buf);
    }
    hd_assert_alive(d);

    if (r->target == HD_UNPLUG) {
        /* Gone, mid-command, and QEMU carries on without it. */
        g_assert_false(hd_plugged(d));
        if (!msi && !epf) {
            hd_check_guard(d, "data after the unplug", buf, 64);
        }
        hd_run(d, 50);
        hd_assert_alive(d);
        /*
         * The slot is free at once: a device with the same properties
         * plugs in there although the old one may not be freed yet (its
         * RAM BARs' migration names once clashed, and QEMU aborted).
         */
        qtest_qmp_assert_success(d->qts, "{'execute': 'device_add', "
                                 "'arguments': {'driver': 'dma-testdev', "
                                 "'id': 'dt1', 'bus': 'rp0', "
                                 "'personality': %s}}",
                                 epf ? "epf-test" : "native");
        qtest_qmp_assert_success(d->qts, "{'execute': 'qom-get', "
                                 "'arguments': {'path': "
                                 "'/machine/peripheral/dt1', "
                                 "'property': 'personality'}}");
        hd_assert_alive(d);
        dmatd_stop(d);
        return;
    }
    g_assert_true(hd_plugged(d));

    if (reset) {
        if (r->target == HD_SBR) {
            qpci_config_writew(d->rp, PCI_BRIDGE_CONTROL,
                               qpci_config_readw(d->rp, PCI_BRIDGE_CONTROL) &
                               ~PCI_BRIDGE_CTL_BUS_RESET);
        }
        if (r->target == HD_POWER_OFF) {
            uint8_t rp_exp = dmatd_find_cap(d->rp, PCI_CAP_ID_EXP);
            uint16_t sltctl = qpci_config_readw(d->rp,
                                                rp_exp + PCI_EXP_SLTCTL);

            /* Powered off, it stays reset; power it on again. */
            hd_run(d, 20);
            qpci_config_writew(d->rp, rp_exp + PCI_EXP_SLTCTL,
                               (sltctl & ~(PCI_EXP_SLTCTL_PIC |
                                           PCI_EXP_SLTCTL_PCC)) |
                                           PCI_EXP_SLTCTL_PWR_IND_ON |
                                           PCI_EXP_SLTCTL_PWR_ON);
        }
        dmatd_reprogram(d);
        if (epf) {
            g_assert_cmphex(dmatd_rd(d, DMATD_EPF_STATUS), ==, 0);
            g_assert_cmphex(dmatd_rd(d, DMATD_EPF_SIZE), ==, 0);
        } else {
            hd_check_native_reset(d);
            /* The message came after the data; the reset before it. */
            if (msi) {
                hd_check_fill(d, buf, 64, val, 0);
            } else {
                hd_check_guard(d, "data after the reset", buf, 64);
            }
            /* One command ran (or was cut short); CMD_SEQ survived. */
            g_assert_cmpuint(dmatd_rd64(d, DMATD_REG_CMD_SEQ_LO), ==, seq + 1);
        }
        /* Far more time than the command needed: nothing moves. */
        hd_run(d, 50);
        if (!epf && !msi) {
            hd_check_guard(d, "data long after the reset", buf, 64);
        }
    } else {
        /* Bus Master, Memory Space, BAR0: restore, then read results. */
        if (r->target == HD_BAR_MOVED) {
            qpci_config_writel(d->dev, PCI_BASE_ADDRESS_0, d->bar.addr);
        }
        qpci_config_writew(d->dev, PCI_COMMAND,
                           PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
        if (epf) {
            uint32_t st = dmatd_rd(d, DMATD_EPF_STATUS);

            /* The COPY's one write or the message went out; it ended. */
            g_assert_true(st & DMATD_EPF_ST_IRQ_RAISED);
        } else if (r->target == HD_BUS_MASTER_OFF && !msi) {
            /*
             * The next DMA, the read of the second descriptor, failed
             * like any DMA with Bus Master off; the RAM was not written.
             */
            hd_check_guard(d, "data with bus master off", buf, 64);
            if (r->path == HD_REGISTER) {
                g_assert_cmphex(dmatd_rd(d, DMATD_REG_STATUS), ==,
                                DMATD_STATUS_DONE | DMATD_STATUS_ERROR);
                g_assert_cmphex(dmatd_rd(d, DMATD_REG_ERROR), ==,
                                DMATD_ERR_LIST_READ);
                g_assert_cmphex(dmatd_rd(d, DMATD_REG_ERR_SEG), ==, 1);
            } else {
                /* ...and the completion could not be written either. */
                g_assert_cmphex(dmatd_rd(d, DMATD_REG_Q_ERROR), ==,
                                DMATD_QERR_CQ_WRITE);
            }
        } else {
            /* Nothing in the engine depends on these: it completed. */
            hd_check_fill(d, buf, 64, val, msi ? 0 : len);
            if (r->path == HD_REGISTER || r->path == HD_REGISTER_MSI) {
                g_assert_cmphex(dmatd_rd(d, DMATD_REG_STATUS), ==,
                                DMATD_STATUS_DONE);
            } else {
                g_assert_cmphex(dmatd_rd(d, DMATD_REG_Q_STATUS), ==,
                                DMATD_QSTATUS_ENABLED);
                g_assert_cmpuint(dmatd_rd(d, DMATD_REG_CQ_TAIL), ==, 1);
            }
        }
    }

    /* Whatever happened, the device works again afterwards. */
    if (epf) {
        hd_check_epf_works(d);
    } else {
        dmatd_wr(d, DMATD_REG_Q_CTRL, 0);
        dmatd_wr(d, DMATD_REG_INTR_ENABLE, 0);
        hd_check_native_works(d);
    }
    dmatd_stop(d);
}

/*
 * The completion queue itself placed over the device's own config space:
 * the first 60 bytes of the entry land on COMMAND (tag 0: all off), the
 * BARs and the rest; the status word then cannot be written (Bus Master
 * is off) and the queue halts with CQ_WRITE.
 */
static void test_cq_over_ecam(const void *data)
{
    DmatdDev *d = dmatd_start(&dmatd_q35, "", "-m 256M");
    uint64_t buf = hd_region(d, 64);
    struct dma_testdev_seg seg = { .addr = buf, .len = 64 };
    struct dma_testdev_sqe e = {
        .op = DMATD_OP_WRITE_PATTERN, .seed = HD_SEED,
        .dst_list = dmatd_put_segs(d, &seg, 1), .dst_count = 1,
    };
    uint64_t sq = guest_alloc(&d->alloc, 4 * DMATD_SQE_SIZE);
    DmatdQueue q = { .sq = sq, .cq = DMATD_ECAM_ADDR(1, 0, 0, 0), .size = 4 };

    dmatd_ecam_enable(d);
    qtest_memset(d->qts, sq, 0, 4 * DMATD_SQE_SIZE);
    dmatd_wr64(d, DMATD_REG_SQ_BASE_LO, q.sq);
    dmatd_wr64(d, DMATD_REG_CQ_BASE_LO, q.cq);
    dmatd_wr(d, DMATD_REG_Q_SIZE, 4);
    dmatd_wr(d, DMATD_REG_Q_CTRL, DMATD_QCTRL_ENABLE);
    dmatd_queue_submit(d, &q, &e);
    hd_run(d, 20);
    hd_assert_alive(d);

    /* Config space was overwritten: firmware's job again. */
    dmatd_reprogram(d);
    g_assert_cmphex(dmatd_rd(d, DMATD_REG_Q_STATUS), ==,
                    DMATD_QSTATUS_ENABLED | DMATD_QSTATUS_ERROR);
    g_assert_cmphex(dmatd_rd(d, DMATD_REG_Q_ERROR), ==, DMATD_QERR_CQ_WRITE);
    g_assert_cmphex(qtest_readq(d->qts, buf + 56), ==,
                    dmatd_pattern_word(HD_SEED, 56));
    dmatd_wr(d, DMATD_REG_Q_CTRL, 0);
    hd_check_native_works(d);
    dmatd_stop(d);
}

/*
 * pc (no ECAM) and q35: the test turns Bus Master off, or moves BAR0,
 * between two paced steps of a queued command.
 */
static void test_between_steps(const void *data)
{
    const DmatdMachine *m = data;
    DmatdDev *d = dmatd_start(m, ",latency-ns=1000,step-size=4096", "");
    uint64_t buf = hd_region(d, 4 * 4096);
    struct dma_testdev_seg seg = { .addr = buf, .len = 4 * 4096 };
    struct dma_testdev_sqe e = {
        .op = DMATD_OP_WRITE_PATTERN, .seed = HD_SEED,
        .dst_list = dmatd_put_segs(d, &seg, 1), .dst_count = 1, .tag = 1,
    };
    struct dma_testdev_cqe c;
    DmatdQueue q;

    /* BAR0 moved after the first step: the command goes on. */
    dmatd_queue_init(d, &q, 4);
    dmatd_queue_submit(d, &q, &e);
    qtest_clock_step(d->qts, HD_LAT);
    hd_wait_written(d, buf + 4096 - 32);
    g_assert_cmphex(dmatd_rd(d, DMATD_REG_Q_STATUS), ==,
                    DMATD_QSTATUS_ENABLED | DMATD_QSTATUS_BUSY);
    qpci_config_writel(d->dev, PCI_BASE_ADDRESS_0, d->bar.addr + 0x100000);
    hd_run(d, 10);
    qpci_config_writel(d->dev, PCI_BASE_ADDRESS_0, d->bar.addr);
    hd_wait_reg(d, DMATD_REG_CQ_TAIL, 1);
    dmatd_cqe_read(d, &q, 0, &c);
    g_assert_cmphex(c.status, ==, DMATD_STATUS_DONE | DMATD_CQE_PHASE);
    g_assert_cmphex(qtest_readq(d->qts, buf + 4 * 4096 - 8), ==,
                    dmatd_pattern_word(HD_SEED, 4 * 4096 - 8));

    /* Bus Master off after the first step: the next DMA fails. */
    qtest_memset(d->qts, buf, HD_GUARD, 4 * 4096);
    e.tag = 2;
    dmatd_queue_submit(d, &q, &e);
    qtest_clock_step(d->qts, HD_LAT);
    hd_wait_written(d, buf + 4096 - 32);
    g_assert_cmphex(dmatd_rd(d, DMATD_REG_Q_STATUS), ==,
                    DMATD_QSTATUS_ENABLED | DMATD_QSTATUS_BUSY);
    qpci_config_writew(d->dev, PCI_COMMAND, PCI_COMMAND_MEMORY);
    hd_run(d, 10);
    hd_assert_alive(d);
    hd_wait_reg(d, DMATD_REG_Q_ERROR, DMATD_QERR_CQ_WRITE);
    hd_check_guard(d, "the second page, bus master off", buf + 4096, 4096);
    qpci_config_writew(d->dev, PCI_COMMAND,
                       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);

    dmatd_wr(d, DMATD_REG_Q_CTRL, 0);
    hd_check_native_works(d);
    dmatd_stop(d);
}

/*
 * The epf-test personality moves data in paced steps: with latency-ns
 * L, a 4 MiB WRITE lands one DMATD_CALLBACK_MAX_BYTES (1 MiB) step per L;
 * an FLR between two steps stops it there and logs what moved.
 */
static void test_epf_paced(const void *data)
{
    DmatdDev *d = dmatd_start(&dmatd_q35,
                              ",personality=epf-test,latency-ns=1000",
                              "-m 256M");
    uint64_t size = 4 * MiB;
    uint64_t buf = hd_region(d, size + 4096);
    uint8_t exp = dmatd_find_cap(d->dev, PCI_CAP_ID_EXP);
    QListEntry *e;
    QList *log;
    QDict *last;

    dmatd_wr64(d, DMATD_EPF_DST_LO, buf);
    dmatd_wr(d, DMATD_EPF_SIZE, size);
    dmatd_wr(d, DMATD_EPF_COMMAND, DMATD_EPF_CMD_WRITE);
    /* Picked up at once: the first step. */
    hd_wait_written(d, buf + MiB - 1);
    g_assert_cmphex(qtest_readb(d->qts, buf + MiB), ==, HD_GUARD);
    g_assert_cmphex(dmatd_rd(d, DMATD_EPF_STATUS), ==, 0);
    /* The second one, a latency later. */
    qtest_clock_step(d->qts, HD_LAT);
    hd_wait_written(d, buf + 2 * MiB - 1);
    g_assert_cmphex(qtest_readb(d->qts, buf + 2 * MiB), ==, HD_GUARD);

    /* FLR now: nothing more moves, STATUS stays 0, the log says 2 MiB. */
    qpci_config_writew(d->dev, exp + PCI_EXP_DEVCTL,
                       qpci_config_readw(d->dev, exp + PCI_EXP_DEVCTL) |
                       PCI_EXP_DEVCTL_BCR_FLR);
    hd_run(d, 20);
    hd_check_guard(d, "epf WRITE after the FLR", buf + 2 * MiB, 2 * MiB);
    log = dmatd_log_read(d->qts, "dt0", 0);
    last = NULL;
    QLIST_FOREACH_ENTRY(log, e) {
        last = qobject_to(QDict, qlist_entry_obj(e));
    }
    g_assert_nonnull(last);
    g_assert_cmpstr(qdict_get_str(last, "op"), ==, "epf-write");
    g_assert_cmpuint(dmatd_qdict_uint(last, "len"), ==, size);
    g_assert_cmpuint(dmatd_qdict_uint(last, "done"), ==, 2 * MiB);
    qobject_unref(log);
    dmatd_reprogram(d);
    g_assert_cmphex(dmatd_rd(d, DMATD_EPF_STATUS), ==, 0);
    hd_check_epf_works(d);
    dmatd_stop(d);
}

/*
 * The DMA log reads in pages: dma-log-page entries per qom-get, from
 * dma-log-from on, across the ring's wrap, and the pages add up to the
 * whole ring.
 */
static void test_dma_log_pages(const void *data)
{
    DmatdDev *d = dmatd_start(&dmatd_q35, ",dma-log-size=100,dma-log-page=7",
                              "");
    uint64_t buf = hd_region(d, 4096);
    struct dma_testdev_seg seg = { .addr = buf, .len = 8 };
    uint64_t list = dmatd_put_segs(d, &seg, 1);
    QList *log;
    QListEntry *e;
    uint64_t expect;
    int i;

    /* 2 entries per command (list, data): 150 commands wrap the ring. */
    dmatd_wr64(d, DMATD_REG_DST_LIST_LO, list);
    dmatd_wr(d, DMATD_REG_DST_COUNT, 1);
    for (i = 0; i < 150; i++) {
        dmatd_wr(d, DMATD_REG_CMD, DMATD_OP_FILL);
    }
    g_assert_cmpuint(dmatd_log_seq(d->qts, "dt0"), ==, 300);

    /* From 0: the 100 newest, in 15 pages, consecutive. */
    log = dmatd_log_read(d->qts, "dt0", 0);
    g_assert_cmpuint(qlist_size(log), ==, 100);
    expect = 201;
    QLIST_FOREACH_ENTRY(log, e) {
        QDict *entry = qobject_to(QDict, qlist_entry_obj(e));

        g_assert_cmpuint(dmatd_qdict_uint(entry, "seq"), ==, expect++);
    }
    qobject_unref(log);

    /* From inside the ring, from its newest, and past it. */
    log = dmatd_log_read(d->qts, "dt0", 290);
    g_assert_cmpuint(qlist_size(log), ==, 11);
    qobject_unref(log);
    log = dmatd_log_read(d->qts, "dt0", 300);
    g_assert_cmpuint(qlist_size(log), ==, 1);
    qobject_unref(log);
    log = dmatd_log_read(d->qts, "dt0", 301);
    g_assert_cmpuint(qlist_size(log), ==, 0);
    qobject_unref(log);
    dmatd_stop(d);
}

/*
 * Corrupted migration streams
 */

/* The bytes of the device's section in a saved stream, and its fields. */
typedef struct HdField {
    char *name;                 /* dotted path, e.g. "q_cmd.src.count" */
    uint64_t off;               /* from the start of the stream file */
    uint64_t size;
} HdField;

typedef struct HdStream {
    uint8_t *buf;
    size_t len;
    GArray *fields;             /* HdField, in stream order */
} HdStream;

/* How much of a buffer field (config space: header and capabilities). */
#define HD_BUFFER_SAMPLE        0xc0

/* QEMU_VM_* section types of the stream (migration/savevm.c). */
#define HD_VM_SECTION_FULL      0x04
#define HD_VM_VMDESCRIPTION     0x06

/*
 * Walk one VMState description from the JSON trailer, adding every
 * scalar field with its offset.  Returns the bytes it covers.
 */
static uint64_t hd_walk_fields(HdStream *st, QList *fields, uint64_t off,
                               const char *prefix);

static uint64_t hd_walk_vmsd(HdStream *st, QDict *vmsd, uint64_t off,
                             const char *prefix)
{
    QList *fields = qdict_get_qlist(vmsd, "fields");
    QList *subs = qdict_get_qlist(vmsd, "subsections");
    uint64_t start = off;
    QListEntry *e;

    if (fields) {
        off += hd_walk_fields(st, fields, off, prefix);
    }
    if (!subs) {
        return off - start;
    }
    /* Each subsection: 0x05, name length, name, version (be32), fields. */
    QLIST_FOREACH_ENTRY(subs, e) {
        QDict *sub = qobject_to(QDict, qlist_entry_obj(e));
        const char *name = qdict_get_str(sub, "vmsd_name");

        off += 1 + 1 + strlen(name) + 4;
        off += hd_walk_vmsd(st, sub, off, prefix);
    }
    /* The end-of-subsections marker is not in the description. */
    return off - start;
}

static uint64_t hd_walk_fields(HdStream *st, QList *fields, uint64_t off,
                               const char *prefix)
{
    uint64_t start = off;
    QListEntry *e;

    QLIST_FOREACH_ENTRY(fields, e) {
        QDict *f = qobject_to(QDict, qlist_entry_obj(e));
        const char *name = qdict_get_str(f, "name");
        const char *type = qdict_get_str(f, "type");
        uint64_t size = qdict_get_int(f, "size");
        int64_t n = qdict_haskey(f, "array_len") ?
                    qdict_get_int(f, "array_len") : 1;
        int64_t first = qdict_haskey(f, "index") ? qdict_get_int(f, "index")
                                                 : 0;
        int64_t i;

        for (i = 0; i < n; i++) {
            g_autofree char *full = n > 1 || first ?
                g_strdup_printf("%s%s[%" PRId64 "]", prefix, name, first + i) :
                g_strdup_printf("%s%s", prefix, name);

            if (!strcmp(type, "struct")) {
                g_autofree char *sub = g_strdup_printf("%s.", full);

                /* Of a long array (the DMA log), the first and the last. */
                if (i == 0 || i == n - 1) {
                    hd_walk_vmsd(st, qdict_get_qdict(f, "struct"), off, sub);
                }
            } else if (!size) {
                /* A VMSTATE_VALIDATE: nothing in the stream. */
            } else if (size <= 8) {
                HdField fld = {
                    .name = g_strdup(full), .off = off, .size = size,
                };

                g_array_append_val(st->fields, fld);
            } else {
                /*
                 * A buffer (PCI config space, the MSI-X table): every
                 * word of its first HD_BUFFER_SAMPLE bytes, which hold
                 * the header and the device's capabilities.
                 */
                uint64_t at;

                for (at = 0; at < MIN(size, HD_BUFFER_SAMPLE); at += 4) {
                    HdField fld = {
                        .name = g_strdup_printf("%s+0x%" PRIx64, full, at),
                        .off = off + at, .size = MIN(4, size - at),
                    };

                    g_array_append_val(st->fields, fld);
                }
            }
            off += size;
        }
    }
    return off - start;
}

/* Find the device's section and list its fields. */
static void hd_parse_stream(HdStream *st, const char *file)
{
    g_autoptr(GError) err = NULL;
    const char suffix[] = "/dma-testdev";
    g_autofree char *idstr = NULL;
    QObject *desc = NULL;
    QList *devices;
    QListEntry *e;
    uint32_t jlen;
    size_t i, hdr = 0;
    gsize len;

    g_assert_true(g_file_get_contents(file, (char **)&st->buf, &len, &err));
    st->len = len;
    st->fields = g_array_new(false, false, sizeof(HdField));

    /* The JSON trailer: VMDESCRIPTION, be32 length, the text, at the end. */
    for (i = st->len - 1; i > 5; i--) {
        if (st->buf[i - 5] == HD_VM_VMDESCRIPTION && st->buf[i - 4] == 0 &&
            st->buf[i] == '{') {
            jlen = ldl_be_p(st->buf + i - 4);
            if (i + jlen <= st->len) {
                g_autofree char *json = g_strndup((char *)st->buf + i, jlen);

                desc = qobject_from_json(json, NULL);
                if (desc) {
                    break;
                }
            }
        }
    }
    g_assert_nonnull(desc);

    /*
     * FULL section: type, be32 id, idstr length and idstr (the device's
     * path, ending in "/dma-testdev"), be32 instance, be32 version, then
     * the fields.
     */
    for (i = 0; i + 6 + 255 + 8 < st->len; i++) {
        uint8_t n = st->buf[i + 5];

        if (st->buf[i] == HD_VM_SECTION_FULL && n > strlen(suffix) &&
            !memcmp(st->buf + i + 6 + n - strlen(suffix), suffix,
                    strlen(suffix))) {
            idstr = g_strndup((char *)st->buf + i + 6, n);
            hdr = i + 6 + n + 8;
            break;
        }
    }
    g_assert_nonnull(idstr);

    devices = qdict_get_qlist(qobject_to(QDict, desc), "devices");
    QLIST_FOREACH_ENTRY(devices, e) {
        QDict *dev = qobject_to(QDict, qlist_entry_obj(e));

        if (!strcmp(qdict_get_str(dev, "name"), idstr)) {
            hd_walk_vmsd(st, dev, hdr, "");
            qobject_unref(desc);
            return;
        }
    }
    g_error("no dma-testdev in the stream's description");
}

static void hd_stream_free(HdStream *st)
{
    guint i;

    for (i = 0; i < st->fields->len; i++) {
        g_free(g_array_index(st->fields, HdField, i).name);
    }
    g_array_free(st->fields, true);
    g_free(st->buf);
}

/* "completed", "failed" or NULL if the wait ran out; a new string. */
static char *hd_wait_migration(QTestState *qts)
{
    int i;

    for (i = 0; i < 3000; i++) {
        QDict *resp = qtest_qmp(qts, "{'execute': 'query-migrate'}");
        const char *status = qdict_get_try_str(qdict_get_qdict(resp,
                                                                "return"),
                                                "status");
        char *done = NULL;

        if (status && (!strcmp(status, "completed") ||
                       !strcmp(status, "failed"))) {
            done = g_strdup(status);
        }
        qobject_unref(resp);
        if (done) {
            return done;
        }
        g_usleep(2000);
    }
    return NULL;
}

/*
 * The saving and the loading QEMU: q35 with the device behind its root
 * port, as everywhere, but small, because a load is mostly QEMU's start
 * (about 650 of them a run).  No SATA controller (its buffers were a
 * fifth of the start's page faults) and 16 MiB of RAM (each load reads
 * all of it to find the zero pages).  Nothing of the device's section
 * depends on either.
 */
#define HD_MIG_MACHINE "-machine q35,sata=off -m 16M"
#define HD_MIG_ARGS HD_MIG_MACHINE " -nodefaults " \
    "-device pcie-root-port,id=rp0,bus=pcie.0,chassis=1,addr=0x2 " \
    "-device dma-testdev,id=dt0,bus=rp0,latency-ns=1000,step-size=4096"

/*
 * After a load that succeeded: the registers agree with each other, QEMU
 * lives through time passing, and the device (reset by the test, as a
 * driver would) runs a command.
 */
static void hd_check_loaded(DmatdDev *d)
{
    uint32_t qs = dmatd_rd(d, DMATD_REG_Q_STATUS);
    uint32_t size = dmatd_rd(d, DMATD_REG_Q_SIZE);

    if (qs & DMATD_QSTATUS_ENABLED && !(qs & DMATD_QSTATUS_ERROR)) {
        g_assert_cmpuint(size, >=, 2);
        g_assert_cmpuint(size, <=, DMATD_Q_MAX_SIZE);
        g_assert_cmpuint(dmatd_rd(d, DMATD_REG_SQ_HEAD), <, size);
        g_assert_cmpuint(dmatd_rd(d, DMATD_REG_CQ_TAIL), <, size);
    }
    g_assert_cmpuint(!!(qs & DMATD_QSTATUS_ENABLED), ==,
                     dmatd_rd(d, DMATD_REG_Q_CTRL) & DMATD_QCTRL_ENABLE);
    /* The doorbells that once divided by zero. */
    dmatd_wr(d, DMATD_REG_CQ_HEAD, 0);
    dmatd_wr(d, DMATD_REG_SQ_TAIL, 1);
    hd_run(d, 30);
    hd_assert_alive(d);
    dmatd_wr(d, DMATD_REG_Q_CTRL, 0);
    hd_check_native_works(d);
}

static unsigned hd_loads, hd_loads_failed;
/* Where the saving QEMU had the BARs; a load gets them back. */
static QPCIBar hd_src_bar, hd_src_msix_bar;
static uint64_t hd_src_msix_bar_size;

/* Load @buf into a fresh QEMU; true if the device came up with it. */
static bool hd_load(const char *file, const uint8_t *buf, size_t len,
                    const char *what)
{
    g_autofree char *uri = g_strdup_printf("file:%s", file);
    g_autofree char *status = NULL;
    g_autoptr(GError) err = NULL;
    DmatdDev *d;

    g_assert_true(g_file_set_contents(file, (const char *)buf, len, &err));
    d = g_new0(DmatdDev, 1);
    d->machine = &dmatd_q35;
    d->qts = qtest_initf(HD_MIG_ARGS " -incoming defer");
    /* exit-on-error off: a refused stream must leave QEMU answering. */
    qtest_qmp_assert_success(d->qts, "{'execute': 'migrate-incoming', "
                             "'arguments': {'uri': %s, "
                             "'exit-on-error': false}}", uri);
    status = hd_wait_migration(d->qts);
    if (!status) {
        g_error("%s: the load neither completed nor failed", what);
    }
    hd_loads++;
    if (!strcmp(status, "failed")) {
        /* Refused cleanly: QEMU is still there to say so. */
        hd_assert_alive(d);
        hd_loads_failed++;
        dmatd_qtest_quit(d->qts);
        g_free(d);
        return false;
    }
    /* Firmware's part again: the stream may have moved or disabled BARs. */
    pc_alloc_init(&d->alloc, d->qts, ALLOC_NO_FLAGS);
    d->bus = qpci_new_pc(d->qts, &d->alloc);
    d->rp = qpci_device_find(d->bus, QPCI_DEVFN(DMATD_RP_SLOT, 0));
    d->dev = qpci_device_find(d->bus, DMATD_BDF(1, 0, 0));
    g_assert_nonnull(d->dev);
    d->bar = hd_src_bar;
    d->bar_size = DMA_TESTDEV_BAR0_SIZE;
    d->msix_bar = hd_src_msix_bar;
    d->msix_bar_size = hd_src_msix_bar_size;
    dmatd_reprogram(d);
    hd_check_loaded(d);
    dmatd_stop(d);
    return true;
}

/* Three bad values for a field of @size bytes holding @orig. */
static void hd_bad_values(uint64_t orig, unsigned size, uint64_t out[3])
{
    uint64_t mask = size >= 8 ? UINT64_MAX : (1ULL << (size * 8)) - 1;

    out[0] = mask;                          /* all ones */
    out[1] = orig ^ (1ULL << (size * 8 - 1));   /* top bit flipped */
    out[2] = (orig + 1) & mask;             /* one more */
    if (out[2] == out[0] || out[2] == orig) {
        out[2] = (orig + 2) & mask;
    }
}

/*
 * The corrupted loads are split into shards, each a test of its own (one
 * QEMU per load makes the whole the longest test by far, ~650 loads):
 * meson runs the shards side by side.  Each shard saves its own stream
 * and takes every HD_MIG_SHARDS-th field of it.
 */
#define HD_MIG_SHARDS 4

static void test_migration_corrupt(const void *data)
{
    guint shard = GPOINTER_TO_UINT(data);
    DmatdDev *d = dmatd_start(&dmatd_q35, ",latency-ns=1000,step-size=4096",
                              HD_MIG_MACHINE);
    g_autofree char *file = g_strdup_printf("%s/dt-corrupt-XXXXXX",
                                            g_get_tmp_dir());
    g_autofree char *uri = NULL;
    g_autofree char *status = NULL;
    uint64_t buf = hd_region(d, 16 * 4096);
    struct dma_testdev_seg segs[2] = {
        { .addr = buf, .len = 8 * 4096 },
        { .addr = buf + 8 * 4096, .len = 8 * 4096 },
    };
    struct dma_testdev_sqe e = {
        .op = DMATD_OP_COPY, .src_list = dmatd_put_segs(d, segs, 1),
        .src_count = 1, .dst_list = dmatd_put_segs(d, segs + 1, 1),
        .dst_count = 1, .flags = DMATD_SQE_F_INTR, .vector = 1, .tag = 0x11,
    };
    HdStream st;
    DmatdQueue q;
    guint i, fields = 0;
    int fd;

    fd = g_mkstemp(file);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    uri = g_strdup_printf("file:%s", file);
    hd_loads = hd_loads_failed = 0;

    /* Mid-command: a COPY halfway, a second one queued, errors counted. */
    dmatd_wr(d, DMATD_REG_INTR_ENABLE, DMATD_INTR_CAUSES);
    dmatd_wr(d, 0x3fc, 1);
    dmatd_queue_init(d, &q, 8);
    dmatd_queue_submit(d, &q, &e);
    dmatd_queue_submit(d, &q, &e);
    hd_run(d, 4);
    g_assert_cmphex(dmatd_rd(d, DMATD_REG_Q_STATUS), ==,
                    DMATD_QSTATUS_ENABLED | DMATD_QSTATUS_BUSY);
    qtest_qmp_assert_success(d->qts, "{'execute': 'migrate', "
                             "'arguments': {'uri': %s}}", uri);
    status = hd_wait_migration(d->qts);
    g_assert_cmpstr(status, ==, "completed");
    hd_src_bar = d->bar;
    hd_src_msix_bar = d->msix_bar;
    hd_src_msix_bar_size = d->msix_bar_size;
    dmatd_stop(d);

    hd_parse_stream(&st, file);
    g_assert_cmpuint(st.fields->len, >, 60);
    /* The stream as saved loads, and the device works. */
    g_assert_true(hd_load(file, st.buf, st.len, "the saved stream"));

    for (i = 0; i < st.fields->len; i++) {
        HdField *f = &g_array_index(st.fields, HdField, i);
        uint64_t orig = 0, bad[3];
        unsigned b, k;

        if (i % HD_MIG_SHARDS != shard) {
            continue;
        }
        g_assert_cmpuint(f->off + f->size, <=, st.len);
        for (b = 0; b < f->size; b++) {
            orig = orig << 8 | st.buf[f->off + b];
        }
        hd_bad_values(orig, f->size, bad);
        for (k = 0; k < 3; k++) {
            g_autofree uint8_t *copy = g_memdup2(st.buf, st.len);
            g_autofree char *what = g_strdup_printf("%s = 0x%" PRIx64,
                                                    f->name, bad[k]);

            /* The stream is big-endian. */
            for (b = 0; b < f->size; b++) {
                copy[f->off + b] = bad[k] >> ((f->size - 1 - b) * 8);
            }
            hd_load(file, copy, st.len, what);
        }
        fields++;
    }
    g_test_message("shard %u of %u: corrupted %u of the %u fields of the "
                   "device's section, %u loads, %u refused cleanly, %u "
                   "loaded and checked", shard, HD_MIG_SHARDS, fields,
                   st.fields->len, hd_loads, hd_loads_failed,
                   hd_loads - hd_loads_failed);
    unlink(file);
    hd_stream_free(&st);
    g_assert_cmpuint(fields, >, 0);
}

int main(int argc, char **argv)
{
    static HdRoute routes[] = {
        { HD_REGISTER, HD_FLR }, { HD_QUEUE, HD_FLR },
        { HD_REGISTER_MSI, HD_FLR }, { HD_QUEUE_MSI, HD_FLR },
        { HD_EPF, HD_FLR }, { HD_EPF_MSI, HD_FLR },
        { HD_REGISTER, HD_SBR }, { HD_QUEUE, HD_SBR },
        { HD_QUEUE_MSI, HD_SBR }, { HD_EPF, HD_SBR },
        { HD_REGISTER, HD_UNPLUG }, { HD_QUEUE, HD_UNPLUG },
        { HD_REGISTER, HD_POWER_OFF }, { HD_QUEUE, HD_POWER_OFF },
        { HD_QUEUE_MSI, HD_POWER_OFF }, { HD_EPF, HD_POWER_OFF },
        { HD_QUEUE_MSI, HD_UNPLUG }, { HD_EPF, HD_UNPLUG },
        { HD_EPF_MSI, HD_UNPLUG },
        { HD_REGISTER, HD_BUS_MASTER_OFF }, { HD_QUEUE, HD_BUS_MASTER_OFF },
        { HD_EPF, HD_BUS_MASTER_OFF },
        { HD_REGISTER, HD_MEMORY_OFF }, { HD_QUEUE, HD_MEMORY_OFF },
        { HD_REGISTER, HD_BAR_MOVED }, { HD_QUEUE, HD_BAR_MOVED },
        { HD_QUEUE_MSI, HD_BAR_MOVED }, { HD_EPF, HD_BAR_MOVED },
    };
    size_t i;

    g_test_init(&argc, &argv, NULL);
    if (!qtest_has_machine("q35")) {
        g_test_skip("no q35 machine");
        return g_test_run();
    }
    for (i = 0; i < ARRAY_SIZE(routes); i++) {
        g_autofree char *path = g_strdup_printf(
            "dma-testdev/hardening/route/%s/%s",
            hd_path_names[routes[i].path], hd_target_names[routes[i].target]);

        qtest_add_data_func(path, &routes[i], test_route);
    }
    qtest_add_data_func("dma-testdev/hardening/route/queue/cq-over-ecam",
                        NULL, test_cq_over_ecam);
    qtest_add_data_func("dma-testdev/hardening/q35/between-steps",
                        &dmatd_q35, test_between_steps);
    if (qtest_has_machine("pc")) {
        qtest_add_data_func("dma-testdev/hardening/pc/between-steps",
                            &dmatd_pc, test_between_steps);
    }
    qtest_add_data_func("dma-testdev/hardening/epf-paced", NULL,
                        test_epf_paced);
    qtest_add_data_func("dma-testdev/hardening/dma-log-pages", NULL,
                        test_dma_log_pages);
    for (i = 0; i < HD_MIG_SHARDS; i++) {
        g_autofree char *path = g_strdup_printf(
            "dma-testdev/migration-corrupt/%zu", i);

        qtest_add_data_func(path, GUINT_TO_POINTER(i), test_migration_corrupt);
    }
    return g_test_run();
}
