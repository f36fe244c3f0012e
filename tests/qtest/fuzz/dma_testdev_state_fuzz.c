/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dma-testdev-state: fuzz what generic-fuzz cannot reach in dma-testdev,
 * the device's life around its registers: properties and realize, a
 * command interrupted by unplug, reading the DMA log, and above all the
 * migration stream, which is untrusted input like any guest access.
 *
 * Every input hot-plugs one device below a PCIe root port with
 * properties chosen by the input, drives it with a small program (register
 * writes, segment lists pointing at RAM, at ECAM, at the device itself or
 * at nothing, queue setup, config writes to the device, its root port and
 * the MCH, clock steps, resets, DMA-log reads), saves its state, applies
 * the input's edits to the saved bytes, unplugs it and loads the edited
 * stream into a fresh device with the same properties.  Two properties
 * are checked besides the sanitizers:
 *  - a stream the device saved itself, unedited, loads;
 *  - a device that accepted a stream and then ran for a while saves a
 *    stream that loads again: post_load never accepts a state from which
 *    the device wanders into one it would itself refuse.
 * A violation aborts, so libFuzzer keeps the input as a crash.
 *
 * Input layout, all little-endian, each field taken while bytes last:
 *   13 bytes     one per property, an index into its table below
 *                (0: leave the default);
 *   program      opcodes (byte % DMATD_FZ_OP_MAX) and their arguments, up to
 *                DMATD_FZ_OP_SAVE or the end of the input;
 *   edits        3 bytes each: a 16-bit offset into the saved stream
 *                (modulo its length) and the byte to put there.
 * tests/qtest/fuzz/dma-testdev-state-seeds.py writes a seed corpus in
 * this layout; scripts/fuzz.sh --target dma-testdev-state runs it.
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "qobject/qdict.h"
#include "qobject/qobject.h"
#include "qom/object.h"
#include "qom/qom-qobject.h"
#include "hw/qdev-core.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/pci_host.h"
#include "hw/pci/pci_regs.h"
/* QEMU 10.1 moved it from exec/ (see hw/misc/dma-testdev-compat.h). */
#if __has_include("system/address-spaces.h")
#include "system/address-spaces.h"
#else
#include "exec/address-spaces.h"
#endif
#include "hw/misc/dma-testdev.h"
#include "monitor/qdev.h"
#include "migration/vmstate.h"
#include "migration/qemu-file.h"
#include "migration/savevm.h"
#include "io/channel-buffer.h"
#include "tests/qtest/libqtest.h"
#include "fuzz.h"

/* The machine: q35 with ECAM where firmware puts it, one root port. */
#define DMATD_FZ_ECAM       0xb0000000ULL
#define DMATD_FZ_WINDOW     0xe0000000ULL   /* root port memory window */
#define DMATD_FZ_WINDOW_END 0xe0ffffffULL
#define DMATD_FZ_BAR0       DMATD_FZ_WINDOW
#define DMATD_FZ_BAR1       (DMATD_FZ_WINDOW + 0x100000)
#define DMATD_FZ_MSI_ADDR   0xfee00000ULL
#define DMATD_FZ_NOWHERE    0xfd000000ULL   /* nothing decodes it */

/* Guest RAM the programs use; cleared before every input. */
#define DMATD_FZ_SRC_LIST   0x100000ULL
#define DMATD_FZ_DST_LIST   0x101000ULL
#define DMATD_FZ_SQ         0x110000ULL
#define DMATD_FZ_CQ         0x120000ULL
#define DMATD_FZ_DATA_A     0x200000ULL
#define DMATD_FZ_DATA_B     0x300000ULL
#define DMATD_FZ_RAM_END    0x400000ULL

#define DMATD_FZ_MAX_SEGS   8
#define DMATD_FZ_MAX_QUEUE  64
#define DMATD_FZ_MAX_EDITS  64

/*
 * Property values: index 0 leaves the default, the others mix valid
 * values with each kind of invalid one realize must refuse.  The largest
 * valid sizes are left out: a 16 Mi-entry log per input would make the
 * campaign crawl without reaching anything new.
 */
typedef struct DmatdFzProp {
    const char *name;
    const char *values[8];
} DmatdFzProp;

static const DmatdFzProp dmatd_fz_props[] = {
    { "personality", { NULL, "native", "epf-test", "bogus" } },
    { "addr-bits", { NULL, "12", "32", "40", "64", "11", "65" } },
    { "max-segments", { "1024", "1", "4", "0", "1048577" } },
    { "max-transfer", { "16777216", "4096", "65536", "0" } },
    { "dma-log-size", { NULL, "1", "4", "64", "0", "16777217" } },
    { "dma-log-page", { NULL, "1", "3", "0", "16385" } },
    { "msi-vectors", { NULL, "0", "1", "8", "3", "64" } },
    { "msix-vectors", { NULL, "0", "1", "32", "33", "96" } },
    { "latency-ns", { NULL, "0", "1000", "100000", "10000000001" } },
    { "step-size", { NULL, "0", "4096", "65536", "1" } },
    { "x-misdirect-offset", { NULL, "0", "4096" } },
    { "x-bad-seed-every", { NULL, "0", "1", "3" } },
    /* Each of the data path's loops (AVX-512, AVX2, one word at a time). */
    { "x-datapath-max-lanes", { NULL, "1", "4", "8", "0", "2", "16" } },
};
#define DMATD_FZ_NR_PROPS ARRAY_SIZE(dmatd_fz_props)

enum {
    DMATD_FZ_OP_REG,    /* u8 register index, u32 value */
    DMATD_FZ_OP_LISTS,  /* u8 nsrc, u8 ndst, per segment an address, u16 */
    DMATD_FZ_OP_CMD,    /* u8 op: DMATD_REG_CMD */
    DMATD_FZ_OP_QUEUE,  /* u8 size, u8 entries, then u8 op + u8 flags each */
    DMATD_FZ_OP_CLOCK,  /* u16: step the clock by 64 ns times (it + 1) */
    DMATD_FZ_OP_CONFIG, /* u8 who, u8 offset, u8 length, u32 value */
    DMATD_FZ_OP_EPF,    /* u8 cmd, irq type, irq nr, flags, 2 addresses, u32 */
    DMATD_FZ_OP_LOG,    /* u16 dma-log-from, then read dma-log */
    DMATD_FZ_OP_RESET,  /* cold reset of the device */
    DMATD_FZ_OP_SAVE,   /* end of the program */
    DMATD_FZ_OP_MAX,
};

/* Where a segment or an epf-test transfer points: u8 class, u16 offset. */
enum {
    DMATD_FZ_AT_RAM_A,
    DMATD_FZ_AT_RAM_B,
    DMATD_FZ_AT_ECAM_DEV,  /* the device's own config space */
    DMATD_FZ_AT_ECAM_RP,   /* its root port's */
    DMATD_FZ_AT_BAR0,      /* its own registers */
    DMATD_FZ_AT_MSI,
    DMATD_FZ_AT_NOWHERE,
    DMATD_FZ_AT_RINGS,     /* the queue's rings */
    DMATD_FZ_AT_MAX,
};

typedef struct DmatdFzInput {
    const uint8_t *p;
    size_t left;
} DmatdFzInput;

typedef struct DmatdFzRun {
    QTestState *qts;
    DmatdFzInput in;
    QDict *opts;            /* the device's properties, for every copy */
    DeviceState *dev;
    bool epf;
    uint32_t nsrc, ndst;
} DmatdFzRun;

static PCIDevice *dmatd_fz_root_port;
static PCIDevice *dmatd_fz_mch;

static uint64_t dmatd_fz_take(DmatdFzInput *in, unsigned bytes)
{
    uint64_t v = 0;
    unsigned i;

    for (i = 0; i < bytes && in->left; i++, in->left--) {
        v |= (uint64_t)*in->p++ << (8 * i);
    }
    return v;
}

static uint64_t dmatd_fz_addr(DmatdFzRun *r)
{
    unsigned cls = dmatd_fz_take(&r->in, 1) % DMATD_FZ_AT_MAX;
    uint64_t off = dmatd_fz_take(&r->in, 2);

    switch (cls) {
    case DMATD_FZ_AT_RAM_A:
        return DMATD_FZ_DATA_A + off;
    case DMATD_FZ_AT_RAM_B:
        return DMATD_FZ_DATA_B + off;
    case DMATD_FZ_AT_ECAM_DEV:
        return DMATD_FZ_ECAM + (1 << 20) + (off & 0xfff);
    case DMATD_FZ_AT_ECAM_RP:
        return DMATD_FZ_ECAM + (PCI_DEVFN(2, 0) << 12) + (off & 0xfff);
    case DMATD_FZ_AT_BAR0:
        return DMATD_FZ_BAR0 + (off & 0xfff);
    case DMATD_FZ_AT_MSI:
        return DMATD_FZ_MSI_ADDR + (off & 0xfff);
    case DMATD_FZ_AT_NOWHERE:
        return DMATD_FZ_NOWHERE + off;
    default:
        return DMATD_FZ_SQ + (off & 0x1ffff);
    }
}

static void dmatd_fz_config(PCIDevice *pdev, uint32_t off, uint32_t val,
                            unsigned len)
{
    pci_host_config_write_common(pdev, off, pci_config_size(pdev), val, len);
}

/* The state every input starts from, whatever the last one left. */
static void dmatd_fz_machine_reset(void)
{
    PCIDevice *rp = dmatd_fz_root_port;

    /* ECAM off (an input may turn it on), the root port as firmware sets it. */
    dmatd_fz_config(dmatd_fz_mch, 0x60, 0, 4);
    dmatd_fz_config(dmatd_fz_mch, 0x64, 0, 4);
    device_cold_reset(DEVICE(rp));
    dmatd_fz_config(rp, PCI_PRIMARY_BUS, 0, 1);
    dmatd_fz_config(rp, PCI_SECONDARY_BUS, 1, 1);
    dmatd_fz_config(rp, PCI_SUBORDINATE_BUS, 1, 1);
    dmatd_fz_config(rp, PCI_MEMORY_BASE, DMATD_FZ_WINDOW >> 16, 2);
    dmatd_fz_config(rp, PCI_MEMORY_LIMIT, DMATD_FZ_WINDOW_END >> 16, 2);
    dmatd_fz_config(rp, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
                    2);
    /* Not qtest_memset(): its fuzz wrapper leaks the buffer in QEMU 10.0. */
    address_space_set(&address_space_memory, DMATD_FZ_SRC_LIST, 0,
                      DMATD_FZ_RAM_END - DMATD_FZ_SRC_LIST,
                      MEMTXATTRS_UNSPECIFIED);
}

static DeviceState *dmatd_fz_plug(DmatdFzRun *r)
{
    Error *err = NULL;
    DeviceState *dev = qdev_device_add_from_qdict(r->opts, false, &err);

    if (!dev) {
        /* Refused properties are part of what is fuzzed. */
        error_free(err);
        return NULL;
    }
    return dev;
}

static void dmatd_fz_unplug(DeviceState *dev)
{
    object_unparent(OBJECT(dev));
    object_unref(OBJECT(dev));
}

/*
 * What a guest does after a hot-plug: power the slot on (the root port
 * came out of reset empty, so powered off), then give the BARs the root
 * port's window and turn memory decoding and bus mastering on.
 */
static void dmatd_fz_enable(DmatdFzRun *r)
{
    PCIDevice *rp = dmatd_fz_root_port;
    PCIDevice *pdev = PCI_DEVICE(r->dev);
    uint32_t sltctl = rp->exp.exp_cap + PCI_EXP_SLTCTL;

    dmatd_fz_config(rp, sltctl,
                    pci_get_word(rp->config + sltctl) & ~PCI_EXP_SLTCTL_PCC, 2);
    dmatd_fz_config(pdev, PCI_BASE_ADDRESS_0, DMATD_FZ_BAR0, 4);
    dmatd_fz_config(pdev, PCI_BASE_ADDRESS_1, DMATD_FZ_BAR1, 4);
    dmatd_fz_config(pdev, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
                    2);
    /* Not a finding of the device: this harness would be testing nothing. */
    if (!pdev->enabled || pci_get_bar_addr(pdev, 0) != DMATD_FZ_BAR0) {
        fprintf(stderr, "dma-testdev-state: the device is not reachable "
                "after plug (harness setup)\n");
        abort();
    }
}

static void dmatd_fz_writel(DmatdFzRun *r, uint32_t reg, uint32_t val)
{
    qtest_writel(r->qts, DMATD_FZ_BAR0 + reg, val);
}

static void dmatd_fz_writeq(DmatdFzRun *r, uint32_t reg, uint64_t val)
{
    dmatd_fz_writel(r, reg, val);
    dmatd_fz_writel(r, reg + 4, val >> 32);
}

static void dmatd_fz_clock(DmatdFzRun *r, int64_t ns)
{
    flush_events(r->qts);
    qtest_clock_step(r->qts, ns);
    flush_events(r->qts);
}

static void dmatd_fz_list(DmatdFzRun *r, uint64_t list, uint32_t n)
{
    struct dma_testdev_seg seg = { 0 };
    uint32_t i;

    for (i = 0; i < n; i++) {
        seg.addr = cpu_to_le64(dmatd_fz_addr(r));
        seg.len = cpu_to_le32(dmatd_fz_take(&r->in, 2) + 1);
        qtest_memwrite(r->qts, list + i * DMATD_SEG_SIZE, &seg, sizeof(seg));
    }
}

static void dmatd_fz_op_lists(DmatdFzRun *r)
{
    r->nsrc = dmatd_fz_take(&r->in, 1) % (DMATD_FZ_MAX_SEGS + 1);
    r->ndst = dmatd_fz_take(&r->in, 1) % (DMATD_FZ_MAX_SEGS + 1);
    dmatd_fz_list(r, DMATD_FZ_SRC_LIST, r->nsrc);
    dmatd_fz_list(r, DMATD_FZ_DST_LIST, r->ndst);
    dmatd_fz_writeq(r, DMATD_REG_SRC_LIST_LO, DMATD_FZ_SRC_LIST);
    dmatd_fz_writel(r, DMATD_REG_SRC_COUNT, r->nsrc);
    dmatd_fz_writeq(r, DMATD_REG_DST_LIST_LO, DMATD_FZ_DST_LIST);
    dmatd_fz_writel(r, DMATD_REG_DST_COUNT, r->ndst);
    dmatd_fz_writel(r, DMATD_REG_SEED, 0x5eed);
}

/* Q_SIZE 0 .. DMATD_FZ_MAX_QUEUE + 1: the sizes the device refuses too. */
static void dmatd_fz_op_queue(DmatdFzRun *r)
{
    uint32_t size = dmatd_fz_take(&r->in, 1) % (DMATD_FZ_MAX_QUEUE + 2);
    uint32_t n = dmatd_fz_take(&r->in, 1) % DMATD_FZ_MAX_QUEUE;
    struct dma_testdev_sqe sqe = { 0 };
    uint32_t i;

    for (i = 0; i < n; i++) {
        sqe.op = cpu_to_le32(dmatd_fz_take(&r->in, 1) % (DMATD_OP_MAX + 2));
        sqe.flags = cpu_to_le32(dmatd_fz_take(&r->in, 1) & 3);
        sqe.seed = cpu_to_le32(i);
        sqe.vector = cpu_to_le32(i % 40);
        sqe.src_list = cpu_to_le64(DMATD_FZ_SRC_LIST);
        sqe.src_count = cpu_to_le32(r->nsrc);
        sqe.dst_list = cpu_to_le64(DMATD_FZ_DST_LIST);
        sqe.dst_count = cpu_to_le32(r->ndst);
        sqe.tag = cpu_to_le64(i);
        qtest_memwrite(r->qts, DMATD_FZ_SQ + i * DMATD_SQE_SIZE, &sqe,
                       sizeof(sqe));
    }
    dmatd_fz_writel(r, DMATD_REG_Q_SIZE, size);
    dmatd_fz_writeq(r, DMATD_REG_SQ_BASE_LO, DMATD_FZ_SQ);
    dmatd_fz_writeq(r, DMATD_REG_CQ_BASE_LO, DMATD_FZ_CQ);
    dmatd_fz_writel(r, DMATD_REG_INTR_ENABLE, DMATD_INTR_CAUSES);
    dmatd_fz_writel(r, DMATD_REG_Q_CTRL, DMATD_QCTRL_ENABLE);
    dmatd_fz_writel(r, DMATD_REG_SQ_TAIL, size ? n % size : n);
}

static void dmatd_fz_op_config(DmatdFzRun *r)
{
    static const unsigned lens[] = { 1, 2, 4 };
    unsigned who = dmatd_fz_take(&r->in, 1) % 3;
    uint32_t off = dmatd_fz_take(&r->in, 1);
    unsigned len = lens[dmatd_fz_take(&r->in, 1) % 3];
    uint32_t val = dmatd_fz_take(&r->in, 4);
    PCIDevice *pdev = who == 0 ? PCI_DEVICE(r->dev) : dmatd_fz_root_port;

    if (who == 2) {
        /*
         * Of the MCH only PCIEXBAR, which turns ECAM on: its other
         * registers (PAM, SMRAM) would outlive the input.
         */
        pdev = dmatd_fz_mch;
        off = 0x60 + (off & 7);
    }
    off &= ~(len - 1);
    dmatd_fz_config(pdev, off, val, len);
}

static void dmatd_fz_op_epf(DmatdFzRun *r)
{
    uint32_t cmd = dmatd_fz_take(&r->in, 1);
    uint32_t irq_type = dmatd_fz_take(&r->in, 1) % 4;
    uint32_t irq_nr = dmatd_fz_take(&r->in, 1) % 40;
    uint32_t flags = dmatd_fz_take(&r->in, 1) & 3;
    uint64_t src = dmatd_fz_addr(r);
    uint64_t dst = dmatd_fz_addr(r);
    uint32_t size = dmatd_fz_take(&r->in, 4);

    dmatd_fz_writeq(r, DMATD_EPF_SRC_LO, src);
    dmatd_fz_writeq(r, DMATD_EPF_DST_LO, dst);
    dmatd_fz_writel(r, DMATD_EPF_SIZE, size);
    dmatd_fz_writel(r, DMATD_EPF_IRQ_TYPE, irq_type);
    dmatd_fz_writel(r, DMATD_EPF_IRQ_NUMBER, irq_nr);
    dmatd_fz_writel(r, DMATD_EPF_FLAGS, flags);
    dmatd_fz_writel(r, DMATD_EPF_COMMAND, cmd);
}

static void dmatd_fz_read_log(DeviceState *dev, uint64_t from)
{
    QObject *log;

    object_property_set_uint(OBJECT(dev), "dma-log-from", from,
                             &error_abort);
    log = object_property_get_qobject(OBJECT(dev), "dma-log", &error_abort);
    qobject_unref(log);
}

/* Run the program, up to DMATD_FZ_OP_SAVE or the end of the input. */
static void dmatd_fz_program(DmatdFzRun *r)
{
    while (r->in.left) {
        switch (dmatd_fz_take(&r->in, 1) % DMATD_FZ_OP_MAX) {
        case DMATD_FZ_OP_REG: {
            uint32_t reg = dmatd_fz_take(&r->in, 1) * 4 %
                           DMA_TESTDEV_BAR0_SIZE;

            dmatd_fz_writel(r, reg, dmatd_fz_take(&r->in, 4));
            break;
        }
        case DMATD_FZ_OP_LISTS:
            dmatd_fz_op_lists(r);
            break;
        case DMATD_FZ_OP_CMD:
            /* DMATD_OP_MAX + 1: a bad opcode. */
            dmatd_fz_writel(r, DMATD_REG_CMD,
                            dmatd_fz_take(&r->in, 1) % (DMATD_OP_MAX + 2));
            break;
        case DMATD_FZ_OP_QUEUE:
            dmatd_fz_op_queue(r);
            break;
        case DMATD_FZ_OP_CLOCK:
            /* 64 ns to 4 ms: qtest refuses a step of 0. */
            dmatd_fz_clock(r, (dmatd_fz_take(&r->in, 2) + 1) * 64);
            break;
        case DMATD_FZ_OP_CONFIG:
            dmatd_fz_op_config(r);
            break;
        case DMATD_FZ_OP_EPF:
            dmatd_fz_op_epf(r);
            break;
        case DMATD_FZ_OP_LOG:
            dmatd_fz_read_log(r->dev, dmatd_fz_take(&r->in, 2));
            break;
        case DMATD_FZ_OP_RESET:
            device_cold_reset(r->dev);
            break;
        default:
            return;
        }
        flush_events(r->qts);
    }
}

static GByteArray *dmatd_fz_save(DeviceState *dev)
{
    const VMStateDescription *vmsd = DEVICE_GET_CLASS(dev)->vmsd;
    g_autoptr(QIOChannelBuffer) bioc = qio_channel_buffer_new(4096);
    g_autoptr(QEMUFile) f = qemu_file_new_output(QIO_CHANNEL(bioc));
    GByteArray *stream = g_byte_array_new();

    if (vmstate_save_state(f, vmsd, dev, NULL) || qemu_fflush(f)) {
        fprintf(stderr, "dma-testdev-state: saving the device failed\n");
        abort();
    }
    g_byte_array_append(stream, bioc->data, bioc->usage);
    return stream;
}

static bool dmatd_fz_load(DeviceState *dev, GByteArray *stream)
{
    const VMStateDescription *vmsd = DEVICE_GET_CLASS(dev)->vmsd;
    g_autoptr(QIOChannelBuffer) bioc = qio_channel_buffer_new(stream->len);
    g_autoptr(QEMUFile) out = qemu_file_new_output(QIO_CHANNEL(bioc));
    g_autoptr(QEMUFile) in = NULL;
    int ret;

    qemu_put_buffer(out, stream->data, stream->len);
    /*
     * What follows a device's state in a real stream: without it, looking
     * for a subsection would read past the end, an error of the file.
     */
    qemu_put_byte(out, QEMU_VM_SECTION_FOOTER);
    if (qemu_fflush(out)) {
        abort();
    }
    qio_channel_io_seek(QIO_CHANNEL(bioc), 0, 0, NULL);
    in = qemu_file_new_input(QIO_CHANNEL(bioc));
    ret = vmstate_load_state(in, vmsd, dev, vmsd->version_id);
    return !ret && !qemu_file_get_error(in);
}

/* What a guest does after migration: look, let it run, ring, look again. */
static void dmatd_fz_after_load(DmatdFzRun *r)
{
    uint32_t reg, v;
    int i;

    for (reg = 0; reg < DMATD_REG_BAD_INFO + 4; reg += 4) {
        qtest_readl(r->qts, DMATD_FZ_BAR0 + reg);
    }
    for (i = 0; i < 4; i++) {
        dmatd_fz_clock(r, 4096);
    }
    if (!r->epf) {
        v = qtest_readl(r->qts, DMATD_FZ_BAR0 + DMATD_REG_CQ_TAIL);
        dmatd_fz_writel(r, DMATD_REG_CQ_HEAD, v);
        v = qtest_readl(r->qts, DMATD_FZ_BAR0 + DMATD_REG_SQ_HEAD);
        dmatd_fz_writel(r, DMATD_REG_SQ_TAIL, v + 1);
    }
    dmatd_fz_clock(r, 100000);
    dmatd_fz_read_log(r->dev, 0);
}

static void dmatd_fz_check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "dma-testdev-state: %s\n", what);
        abort();
    }
}

static void dmatd_fz_pick_props(DmatdFzRun *r)
{
    unsigned i, n;

    r->opts = qdict_new();
    qdict_put_str(r->opts, "driver", TYPE_DMA_TESTDEV);
    qdict_put_str(r->opts, "bus", "rp0");
    for (i = 0; i < DMATD_FZ_NR_PROPS; i++) {
        const DmatdFzProp *p = &dmatd_fz_props[i];
        const char *v;

        /* values[0] may be NULL (the default); the list ends at a NULL. */
        for (n = 1; n < ARRAY_SIZE(p->values) && p->values[n]; n++) {
            continue;
        }
        v = p->values[dmatd_fz_take(&r->in, 1) % n];
        if (v) {
            qdict_put_str(r->opts, p->name, v);
        }
    }
    r->epf = !g_strcmp0(qdict_get_try_str(r->opts, "personality"),
                        "epf-test");
}

static void dmatd_fz_state(QTestState *qts, const unsigned char *data,
                           size_t size)
{
    DmatdFzRun r = { .qts = qts, .in = { data, size } };
    g_autoptr(GByteArray) stream = NULL;
    g_autoptr(GByteArray) again = NULL;
    unsigned edits = 0;
    bool loaded;

    dmatd_fz_machine_reset();
    dmatd_fz_pick_props(&r);
    r.dev = dmatd_fz_plug(&r);
    if (!r.dev) {
        goto out;
    }
    dmatd_fz_enable(&r);
    dmatd_fz_program(&r);
    stream = dmatd_fz_save(r.dev);
    while (r.in.left >= 3 && edits++ < DMATD_FZ_MAX_EDITS) {
        uint32_t off = dmatd_fz_take(&r.in, 2);

        stream->data[off % stream->len] = dmatd_fz_take(&r.in, 1);
    }
    /* Unplugged mid-command, like a device_del the guest acknowledged. */
    dmatd_fz_unplug(r.dev);
    flush_events(qts);

    r.dev = dmatd_fz_plug(&r);
    dmatd_fz_check(r.dev != NULL, "a second device with the same properties "
                   "failed to realize");
    loaded = dmatd_fz_load(r.dev, stream);
    dmatd_fz_check(loaded || edits,
                   "the device refused a stream it saved itself");
    if (loaded) {
        dmatd_fz_after_load(&r);
        again = dmatd_fz_save(r.dev);
    }
    dmatd_fz_unplug(r.dev);
    flush_events(qts);

    if (again) {
        r.dev = dmatd_fz_plug(&r);
        dmatd_fz_check(r.dev != NULL, "a third device failed to realize");
        dmatd_fz_check(dmatd_fz_load(r.dev, again),
                       "a device that accepted a stream, then ran, saved a "
                       "stream it refuses");
        dmatd_fz_unplug(r.dev);
        flush_events(qts);
    }
out:
    qobject_unref(r.opts);
}

static void dmatd_fz_pre_fuzz(QTestState *qts)
{
    dmatd_fz_root_port =
        PCI_DEVICE(object_resolve_path("/machine/peripheral/rp0", NULL));
    dmatd_fz_mch = PCI_DEVICE(object_resolve_path_type("", "mch", NULL));
    g_assert(dmatd_fz_root_port && dmatd_fz_mch);
}

static GString *dmatd_fz_cmdline(FuzzTarget *t)
{
    return g_string_new(TARGET_NAME " -machine q35,accel=qtest -m 512M "
                        "-nodefaults -display none "
                        "-device pcie-root-port,id=rp0,chassis=1,addr=2.0");
}

static void dmatd_fz_register(void)
{
    fuzz_add_target(&(FuzzTarget) {
        .name = "dma-testdev-state",
        .description = "dma-testdev's properties, unplug, DMA log and "
                       "migration stream (save, edit, load, run, save, "
                       "load)",
        .get_init_cmdline = dmatd_fz_cmdline,
        .pre_fuzz = dmatd_fz_pre_fuzz,
        .fuzz = dmatd_fz_state,
    });
}

fuzz_target_init(dmatd_fz_register);
