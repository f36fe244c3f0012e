/*
 * dma-testdev, "personality=epf-test": the register protocol of Linux's
 * PCI endpoint test function (drivers/pci/endpoint/functions/
 * pci-epf-test.c), so that the stock host driver
 * (drivers/misc/pci_endpoint_test.c) and its kselftest
 * (tools/testing/selftests/pci_endpoint) run against this device in one
 * VM, with no endpoint board.  The behaviour follows the endpoint
 * function: a command clears COMMAND and STATUS, runs, sets its success
 * or failure bit and IRQ_RAISED, then signals exactly one interrupt of
 * the type in IRQ_TYPE.  Transfers are DMA like in the native
 * personality: checked, logged in the DMA log and traced.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/bswap.h"
#include "qapi/error.h"
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "system/dma.h"
#include "migration/vmstate.h"
#include "dma-testdev-internal.h"
#include "trace.h"

#include <zlib.h>

/*
 * CAPS: unaligned buffers, MSI, MSI-X, INTx.  Not offered: BAR subrange
 * mapping and the doorbell (dynamic inbound mapping); the host driver
 * then skips those tests; docs/system/devices/dma-testdev.rst says why.
 */
#define DMATD_EPF_CAPS_VALUE    0x0f
#define DMATD_EPF_NO_BAR        0xffffffffu

/* BAR0 as the contract header lays it out; BARs 1..5 are plain RAM. */
static const uint64_t dmatd_epf_bar_size[DMATD_EPF_NR_BARS] = {
    DMATD_EPF_BAR0_SIZE, 4 * KiB, 8 * KiB, 16 * KiB, 128 * KiB, 1 * MiB,
};

static const char *dmatd_epf_reg_name(hwaddr addr)
{
    static const char *const names[] = {
        "MAGIC", "COMMAND", "STATUS", "SRC_LO", "SRC_HI", "DST_LO",
        "DST_HI", "SIZE", "CHECKSUM", "IRQ_TYPE", "IRQ_NUMBER", "FLAGS",
        "CAPS", "DB_BAR", "DB_OFFSET", "DB_DATA",
    };

    return addr / 4 < ARRAY_SIZE(names) ? names[addr / 4] : "unknown";
}

/* INTx is held until the host reads STATUS, as its handler does. */
static void dmatd_epf_intx(DmaTestdevState *s, bool level)
{
    s->epf_regs.intx = level;
    pci_set_irq(PCI_DEVICE(s), level);
}

static void dmatd_epf_raise(DmaTestdevState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    DmaTestdevEpf *r = &s->epf_regs;
    unsigned nr = 0, vector = r->irq_number - 1;

    trace_dma_testdev_epf_irq(r->irq_type, r->irq_number);
    switch (r->irq_type) {
    case DMATD_EPF_IRQ_INTX:
        dmatd_epf_intx(s, true);
        return;
    case DMATD_EPF_IRQ_MSI:
        nr = msi_enabled(pdev) ? msi_nr_vectors_allocated(pdev) : 0;
        break;
    case DMATD_EPF_IRQ_MSIX:
        nr = msix_enabled(pdev) ? pdev->msix_entries_nr : 0;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: epf-test: IRQ_TYPE %u is not "
                      "INTx (0), MSI (1) or MSI-X (2): no interrupt\n",
                      TYPE_DMA_TESTDEV, r->irq_type);
        return;
    }
    if (!r->irq_number || r->irq_number > nr) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: epf-test: IRQ_NUMBER %u of %s "
                      "is not enabled (%u vectors): no interrupt\n",
                      TYPE_DMA_TESTDEV, r->irq_number,
                      r->irq_type == DMATD_EPF_IRQ_MSI ? "MSI" : "MSI-X", nr);
        return;
    }
    if (r->irq_type == DMATD_EPF_IRQ_MSI) {
        msi_notify(pdev, vector);
    } else {
        msix_notify(pdev, vector);
    }
}

/*
 * Negative control for oracles ("x-misdirect-offset"): in an endpoint
 * READ, the 8 bytes at that transfer offset are fetched from one page
 * past the end of the source buffer instead.  Only a read is
 * misdirected, so the control never corrupts the guest; the CRC then
 * fails, and the stray read shows in the DMA log outside any buffer the
 * kernel mapped.
 */
static void dmatd_epf_misdirect(DmaTestdevState *s, DmaTestdevCmd *c,
                                const DmaTestdevEpf *x, uint64_t n)
{
    uint64_t off = x->xfer_off;
    uint64_t pos = s->misdirect_off - off;
    uint64_t from = x->xfer_src + x->xfer_size + DMATD_MISDIRECT_DELTA;
    MemTxResult res;

    if (x->xfer_size < 8 || s->misdirect_off > x->xfer_size - 8 ||
        s->misdirect_off < off || n < 8 || pos > n - 8) {
        return;
    }
    res = dmatd_dma(s, c, from, s->bounce + pos, 8, DMA_DIRECTION_TO_DEVICE);
    if (!c->abandoned) {
        dmatd_log_add(s, c, DMATD_LOG_SRC, 0, from, 8, res == MEMTX_OK ? 8 : 0,
                      res == MEMTX_OK ? DMATD_ERR_NONE
                                      : dmatd_memtx_error(res));
    }
}

static uint8_t dmatd_epf_log_op(uint32_t cmd)
{
    return cmd == DMATD_EPF_CMD_READ ? DMATD_LOG_OP_EPF_READ :
           cmd == DMATD_EPF_CMD_WRITE ? DMATD_LOG_OP_EPF_WRITE :
           DMATD_LOG_OP_EPF_COPY;
}

/*
 * Log what a transfer moved, once it ended (@bad: the failed-address
 * status bit, with @err and @bad_addr) or was cut short by a reset.
 */
static void dmatd_epf_log(DmaTestdevState *s, DmaTestdevCmd *c,
                          const DmaTestdevEpf *x, uint32_t bad, uint32_t err,
                          uint64_t bad_addr)
{
    bool read_src = x->xfer_cmd != DMATD_EPF_CMD_WRITE;
    bool write_dst = x->xfer_cmd != DMATD_EPF_CMD_READ;

    if (read_src) {
        dmatd_log_add(s, c, DMATD_LOG_SRC, 0, x->xfer_src, x->xfer_size,
                      bad == DMATD_EPF_ST_SRC_INVALID ? bad_addr - x->xfer_src
                                                : x->xfer_off,
                   bad == DMATD_EPF_ST_SRC_INVALID ? err : DMATD_ERR_NONE);
    }
    if (write_dst) {
        dmatd_log_add(s, c, DMATD_LOG_DST, 0, x->xfer_dst, x->xfer_size,
                      bad == DMATD_EPF_ST_DST_INVALID ? bad_addr - x->xfer_dst
                                                : x->xfer_off,
                   bad == DMATD_EPF_ST_DST_INVALID ? err : DMATD_ERR_NONE);
    }
}

/*
 * Take a READ, WRITE or COPY from the registers, as the endpoint function
 * does when it picks the command up.  A size of 0 or a range that does
 * not fit is refused at once.  Returns the failed-address status bit, or
 * 0 if the transfer is now in progress.
 */
static uint32_t dmatd_epf_start(DmaTestdevState *s, DmaTestdevEpf *x,
                                uint32_t cmd, uint32_t *err, uint64_t *bad_addr)
{
    bool read_src = cmd != DMATD_EPF_CMD_WRITE;
    bool write_dst = cmd != DMATD_EPF_CMD_READ;

    x->xfer_cmd = cmd;
    x->xfer_seq = ++s->cmd_seq;
    x->xfer_src = x->src;
    x->xfer_dst = x->dst;
    x->xfer_size = x->size;
    x->xfer_off = 0;
    x->xfer_crc = crc32(0L, Z_NULL, 0);

    *err = DMATD_ERR_NONE;
    if (read_src && (!x->size || dmatd_check_range(s, x->src, x->size))) {
        *bad_addr = x->src;
        *err = x->size ? dmatd_check_range(s, x->src, x->size)
                       : DMATD_ERR_ZERO_LENGTH;
        return DMATD_EPF_ST_SRC_INVALID;
    }
    if (write_dst && (!x->size || dmatd_check_range(s, x->dst, x->size))) {
        *bad_addr = x->dst;
        *err = x->size ? dmatd_check_range(s, x->dst, x->size)
                       : DMATD_ERR_ZERO_LENGTH;
        return DMATD_EPF_ST_DST_INVALID;
    }
    return 0;
}

/*
 * Move at most DMATD_CALLBACK_MAX_BYTES of the transfer in progress, through
 * the bounce buffer with every MemTxResult checked.  WRITE produces the
 * position-tagged pattern seeded with the command's sequence number (the
 * endpoint function writes random bytes; a pattern lets an oracle outside
 * the guest recognise every word).  The CRC is Linux's
 * crc32_le(~0, buf, size), i.e. zlib's CRC without the final inversion.
 * Returns the failed-address status bit, or 0.
 */
static uint32_t dmatd_epf_step(DmaTestdevState *s, DmaTestdevCmd *c,
                               DmaTestdevEpf *x, uint32_t *err,
                               uint64_t *bad_addr)
{
    bool read_src = x->xfer_cmd != DMATD_EPF_CMD_WRITE;
    bool write_dst = x->xfer_cmd != DMATD_EPF_CMD_READ;
    uint64_t budget = DMATD_CALLBACK_MAX_BYTES;

    while (budget && x->xfer_off < x->xfer_size) {
        uint64_t n = MIN(MIN(x->xfer_size - x->xfer_off, DMATD_BOUNCE_SIZE),
                         budget);
        MemTxResult res;

        if (read_src) {
            res = dmatd_dma(s, c, x->xfer_src + x->xfer_off, s->bounce, n,
                            DMA_DIRECTION_TO_DEVICE);
            if (c->abandoned) {
                return 0;
            }
            if (res != MEMTX_OK) {
                *bad_addr = x->xfer_src + x->xfer_off;
                *err = dmatd_dma_error(s, *bad_addr, res, false);
                return DMATD_EPF_ST_SRC_INVALID;
            }
            if (!write_dst) {
                dmatd_epf_misdirect(s, c, x, n);
                if (c->abandoned) {
                    return 0;
                }
            }
        } else {
            uint64_t i;

            for (i = 0; i < n; i++) {
                s->bounce[i] = dmatd_pattern_byte(x->xfer_seq, x->xfer_off + i);
            }
        }
        x->xfer_crc = crc32(x->xfer_crc, s->bounce, n);
        if (write_dst) {
            res = dmatd_dma(s, c, x->xfer_dst + x->xfer_off, s->bounce, n,
                            DMA_DIRECTION_FROM_DEVICE);
            if (c->abandoned) {
                return 0;
            }
            if (res != MEMTX_OK) {
                *bad_addr = x->xfer_dst + x->xfer_off;
                *err = dmatd_dma_error(s, *bad_addr, res, true);
                return DMATD_EPF_ST_DST_INVALID;
            }
        }
        x->xfer_off += n;
        budget -= n;
    }
    return 0;
}

/* The transfer ended: its status, as the endpoint function reports it. */
static uint32_t dmatd_epf_finish(DmaTestdevState *s, DmaTestdevCmd *c,
                                 DmaTestdevEpf *x, uint32_t bad, uint32_t err,
                                 uint64_t bad_addr)
{
    uint32_t crc = ~x->xfer_crc, status;

    dmatd_epf_log(s, c, x, bad, err, bad_addr);
    if (bad) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: epf-test: command %" PRIu64
                      ": %s address 0x%" PRIx64 " (size %u) failed: %s\n",
                      TYPE_DMA_TESTDEV, c->seq,
                      bad == DMATD_EPF_ST_SRC_INVALID ? "source"
                                                      : "destination",
                      bad_addr, x->xfer_size, dmatd_error_name(err));
        trace_dma_testdev_error(c->seq, dmatd_error_name(err), bad ==
                                DMATD_EPF_ST_SRC_INVALID ? "src" : "dst", 0,
                                bad_addr);
    }
    switch (x->xfer_cmd) {
    case DMATD_EPF_CMD_READ:
        status = bad | (!bad && crc == x->checksum ? DMATD_EPF_ST_READ_OK
                                                   : DMATD_EPF_ST_READ_FAIL);
        break;
    case DMATD_EPF_CMD_WRITE:
        x->checksum = crc;
        status = bad | (bad ? DMATD_EPF_ST_WRITE_FAIL : DMATD_EPF_ST_WRITE_OK);
        break;
    default:
        status = bad | (bad ? DMATD_EPF_ST_COPY_FAIL : DMATD_EPF_ST_COPY_OK);
        break;
    }
    x->xfer_cmd = 0;
    return status;
}

/*
 * Pick up the command in COMMAND, or go on with the transfer in progress:
 * one callback, from the guarded bottom half.  @x is this step's copy of
 * the registers, written back only if the step was not abandoned.
 * Returns true if the command finished, with its STATUS in *status.
 */
static bool dmatd_epf_run(DmaTestdevState *s, DmaTestdevCmd *c,
                          DmaTestdevEpf *x, uint32_t *status)
{
    uint32_t cmd = x->command, bad = 0, err = DMATD_ERR_NONE;
    uint64_t bad_addr = 0;

    if (!x->xfer_cmd) {
        x->command = 0;
        x->status = 0;
        if (x->intx) {
            dmatd_epf_intx(s, false);
            x->intx = false;
        }
        switch (cmd) {
        case DMATD_EPF_CMD_RAISE_INTX:
        case DMATD_EPF_CMD_RAISE_MSI:
        case DMATD_EPF_CMD_RAISE_MSIX:
            *status = 0;
            return true;
        case DMATD_EPF_CMD_READ:
        case DMATD_EPF_CMD_WRITE:
        case DMATD_EPF_CMD_COPY:
            bad = dmatd_epf_start(s, x, cmd, &err, &bad_addr);
            break;
        default:
            /* Like the endpoint function: no status, no interrupt. */
            qemu_log_mask(LOG_GUEST_ERROR, "%s: epf-test: COMMAND 0x%x is "
                          "not one supported command: ignored\n",
                          TYPE_DMA_TESTDEV, cmd);
            trace_dma_testdev_epf_cmd(cmd, 0);
            return false;
        }
    }
    c->op = dmatd_epf_log_op(x->xfer_cmd);
    c->seq = x->xfer_seq;
    if (!bad) {
        bad = dmatd_epf_step(s, c, x, &err, &bad_addr);
        if (c->abandoned) {
            return false;
        }
        if (!bad && x->xfer_off < x->xfer_size) {
            return false;
        }
    }
    *status = dmatd_epf_finish(s, c, x, bad, err, bad_addr);
    return true;
}

void dmatd_epf_bh(void *opaque)
{
    DmaTestdevState *s = opaque;
    DmaTestdevCmd c = { 0 };
    DmaTestdevEpf x = s->epf_regs;
    uint32_t cmd = x.xfer_cmd ? x.xfer_cmd : x.command, status;
    uint64_t before = x.xfer_cmd ? x.xfer_off : 0;

    dmatd_step_begin(s, &c);
    if (!dmatd_epf_run(s, &c, &x, &status)) {
        if (c.abandoned) {
            /* Reset or unplugged under the transfer: keep what it moved. */
            dmatd_epf_log(s, &c, &x, 0, DMATD_ERR_NONE, 0);
        } else {
            s->epf_regs = x;
            if (x.xfer_cmd) {
                /* The rest in later callbacks, paced like queue steps. */
                timer_mod(s->timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                                    s->latency_ns);
            }
        }
        dmatd_step_end(s, "epf", &c, x.xfer_off - before);
        return;
    }
    x.status = status | DMATD_EPF_ST_IRQ_RAISED;
    s->epf_regs = x;
    trace_dma_testdev_epf_cmd(cmd, x.status);
    if (x.command) {
        /* The host wrote the next command while this one ran. */
        timer_mod(s->timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
    }
    /* The last access of the step: the message may reset the device. */
    dmatd_epf_raise(s);
    dmatd_step_end(s, "epf", &c, x.xfer_off - before);
}

/*
 * A transfer in progress in a migration stream must be one that
 * dmatd_epf_start accepted.
 */
bool dmatd_epf_post_load(DmaTestdevState *s)
{
    const DmaTestdevEpf *x = &s->epf_regs;

    if (!x->xfer_cmd) {
        /* Idle: what the last transfer left, done bytes of its size. */
        return x->xfer_off <= x->xfer_size;
    }
    if (!s->epf || x->xfer_seq == 0 || x->xfer_seq > s->cmd_seq ||
        x->xfer_off > x->xfer_size || !x->xfer_size) {
        return false;
    }
    switch (x->xfer_cmd) {
    case DMATD_EPF_CMD_READ:
        return !dmatd_check_range(s, x->xfer_src, x->xfer_size);
    case DMATD_EPF_CMD_WRITE:
        return !dmatd_check_range(s, x->xfer_dst, x->xfer_size);
    case DMATD_EPF_CMD_COPY:
        return !dmatd_check_range(s, x->xfer_src, x->xfer_size) &&
               !dmatd_check_range(s, x->xfer_dst, x->xfer_size);
    default:
        return false;
    }
}

static uint64_t dmatd_epf_read(void *opaque, hwaddr addr, unsigned size)
{
    DmaTestdevState *s = opaque;
    DmaTestdevEpf *r = &s->epf_regs;
    uint32_t val;

    if (size != 4 || (addr & 3)) {
        dmatd_bad(s, addr, size, false, DMATD_BAD_ACCESS_SIZE,
                  "epf-test registers take aligned 4-byte accesses");
        return 0;
    }
    switch (addr) {
    case DMATD_EPF_MAGIC:
        val = r->magic;
        break;
    case DMATD_EPF_COMMAND:
        val = r->command;
        break;
    case DMATD_EPF_STATUS:
        val = r->status;
        if (r->intx) {
            dmatd_epf_intx(s, false);
        }
        break;
    case DMATD_EPF_SRC_LO:
        val = r->src;
        break;
    case DMATD_EPF_SRC_HI:
        val = r->src >> 32;
        break;
    case DMATD_EPF_DST_LO:
        val = r->dst;
        break;
    case DMATD_EPF_DST_HI:
        val = r->dst >> 32;
        break;
    case DMATD_EPF_SIZE:
        val = r->size;
        break;
    case DMATD_EPF_CHECKSUM:
        val = r->checksum;
        break;
    case DMATD_EPF_IRQ_TYPE:
        val = r->irq_type;
        break;
    case DMATD_EPF_IRQ_NUMBER:
        val = r->irq_number;
        break;
    case DMATD_EPF_FLAGS:
        val = r->flags;
        break;
    case DMATD_EPF_CAPS:
        val = DMATD_EPF_CAPS_VALUE;
        break;
    case DMATD_EPF_DB_BAR:
        val = DMATD_EPF_NO_BAR;
        break;
    case DMATD_EPF_DB_OFFSET:
    case DMATD_EPF_DB_DATA:
        val = 0;
        break;
    default:
        dmatd_bad(s, addr, size, false, DMATD_BAD_UNKNOWN_REG, "reads as 0");
        return 0;
    }
    trace_dma_testdev_mmio_read(addr, size, val);
    return val;
}

static void dmatd_epf_write(void *opaque, hwaddr addr, uint64_t val,
                            unsigned size)
{
    DmaTestdevState *s = opaque;
    DmaTestdevEpf *r = &s->epf_regs;

    if (size != 4 || (addr & 3)) {
        dmatd_bad(s, addr, size, true, DMATD_BAD_ACCESS_SIZE,
                  "epf-test registers take aligned 4-byte accesses");
        return;
    }
    trace_dma_testdev_mmio_write(addr, size, val);
    switch (addr) {
    case DMATD_EPF_MAGIC:
        r->magic = val;
        break;
    case DMATD_EPF_COMMAND:
        /*
         * The endpoint function picks commands up asynchronously; so do
         * we, from a bottom half behind the re-entrancy guard, via the
         * virtual-clock timer so that nothing moves while the VM is
         * stopped.
         */
        r->command = val;
        timer_mod(s->timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
        break;
    case DMATD_EPF_STATUS:
        r->status = val;
        break;
    case DMATD_EPF_SRC_LO:
        r->src = deposit64(r->src, 0, 32, val);
        break;
    case DMATD_EPF_SRC_HI:
        r->src = deposit64(r->src, 32, 32, val);
        break;
    case DMATD_EPF_DST_LO:
        r->dst = deposit64(r->dst, 0, 32, val);
        break;
    case DMATD_EPF_DST_HI:
        r->dst = deposit64(r->dst, 32, 32, val);
        break;
    case DMATD_EPF_SIZE:
        r->size = val;
        break;
    case DMATD_EPF_CHECKSUM:
        r->checksum = val;
        break;
    case DMATD_EPF_IRQ_TYPE:
        r->irq_type = val;
        break;
    case DMATD_EPF_IRQ_NUMBER:
        r->irq_number = val;
        break;
    case DMATD_EPF_FLAGS:
        /* FLAG_USE_DMA: every transfer here is device DMA anyway. */
        r->flags = val;
        break;
    case DMATD_EPF_CAPS:
    case DMATD_EPF_DB_BAR:
    case DMATD_EPF_DB_OFFSET:
    case DMATD_EPF_DB_DATA:
        dmatd_bad(s, addr, size, true, DMATD_BAD_READ_ONLY, "%s: 0x%x ignored",
                  dmatd_epf_reg_name(addr), (uint32_t)val);
        break;
    default:
        dmatd_bad(s, addr, size, true, DMATD_BAD_UNKNOWN_REG, "0x%x ignored",
                  (uint32_t)val);
        break;
    }
}

static const MemoryRegionOps dmatd_epf_ops = {
    .read = dmatd_epf_read,
    .write = dmatd_epf_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = DMATD_MMIO_ANY_ACCESS,
    .impl = DMATD_MMIO_ANY_ACCESS,
};

bool dmatd_epf_realize(DmaTestdevState *s, Error **errp)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    unsigned max_msix = (DMATD_EPF_MSIX_PBA - DMATD_EPF_MSIX_TABLE) /
                        PCI_MSIX_ENTRY_SIZE;
    int i;

    if (s->msix_vectors > max_msix) {
        error_setg(errp, "msix-vectors: at most %u with personality=epf-test",
                   max_msix);
        return false;
    }

    memory_region_init(&s->epf_bar0, OBJECT(s), "dma-testdev-epf-bar0",
                       DMATD_EPF_BAR0_SIZE);
    memory_region_init_io(&s->epf_mmio, OBJECT(s), &dmatd_epf_ops, s,
                          "dma-testdev-epf-regs", DMATD_EPF_REGS_SIZE);
    memory_region_add_subregion(&s->epf_bar0, 0, &s->epf_mmio);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->epf_bar0);
    if (s->msix_vectors &&
        msix_init(pdev, s->msix_vectors, &s->epf_bar0, 0, DMATD_EPF_MSIX_TABLE,
                  &s->epf_bar0, 0, DMATD_EPF_MSIX_PBA, 0, errp) < 0) {
        return false;
    }

    for (i = 1; i < DMATD_EPF_NR_BARS; i++) {
        g_autofree char *name = g_strdup_printf("dma-testdev-epf-bar%d", i);

        if (!memory_region_init_ram(&s->epf_ram[i], OBJECT(s), name,
                                    dmatd_epf_bar_size[i], errp)) {
            return false;
        }
        pci_register_bar(pdev, i, PCI_BASE_ADDRESS_SPACE_MEMORY,
                         &s->epf_ram[i]);
    }
    return true;
}

/*
 * Unplug: the RAM BARs give up their migration names now, not when the
 * device is finally freed (after RCU, and after whatever still holds a
 * reference): a device plugged into the same slot meanwhile registers the
 * same names, which QEMU refuses with an abort.
 */
void dmatd_epf_unrealize(DmaTestdevState *s)
{
    int i;

    for (i = 1; i < DMATD_EPF_NR_BARS; i++) {
        vmstate_unregister_ram(&s->epf_ram[i], DEVICE(s));
    }
}

/*
 * A transfer in progress stops at once.  Between two of its steps, the
 * log keeps what it moved; a running step does that itself.
 */
void dmatd_epf_reset(DmaTestdevState *s)
{
    DmaTestdevEpf *x = &s->epf_regs;

    if (x->xfer_cmd && !s->in_step) {
        DmaTestdevCmd c = {
            .op = dmatd_epf_log_op(x->xfer_cmd),
            .seq = x->xfer_seq,
        };

        dmatd_epf_log(s, &c, x, 0, DMATD_ERR_NONE, 0);
    }
    *x = (DmaTestdevEpf) { 0 };
}

const VMStateDescription vmstate_dmatd_epf = {
    .name = TYPE_DMA_TESTDEV "/epf",
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(magic, DmaTestdevEpf),
        VMSTATE_UINT32(command, DmaTestdevEpf),
        VMSTATE_UINT32(status, DmaTestdevEpf),
        VMSTATE_UINT64(src, DmaTestdevEpf),
        VMSTATE_UINT64(dst, DmaTestdevEpf),
        VMSTATE_UINT32(size, DmaTestdevEpf),
        VMSTATE_UINT32(checksum, DmaTestdevEpf),
        VMSTATE_UINT32(irq_type, DmaTestdevEpf),
        VMSTATE_UINT32(irq_number, DmaTestdevEpf),
        VMSTATE_UINT32(flags, DmaTestdevEpf),
        VMSTATE_BOOL(intx, DmaTestdevEpf),
        VMSTATE_UINT32(xfer_cmd, DmaTestdevEpf),
        VMSTATE_UINT64(xfer_seq, DmaTestdevEpf),
        VMSTATE_UINT64(xfer_src, DmaTestdevEpf),
        VMSTATE_UINT64(xfer_dst, DmaTestdevEpf),
        VMSTATE_UINT32(xfer_size, DmaTestdevEpf),
        VMSTATE_UINT64(xfer_off, DmaTestdevEpf),
        VMSTATE_UINT32(xfer_crc, DmaTestdevEpf),
        VMSTATE_END_OF_LIST()
    },
};
