/*
 * QTest testcase for dma-testdev, the DMA reference PCI device
 *
 * Drives the device through its BAR0 registers the way a guest driver
 * would: segment lists are built in guest memory, a command is started and
 * its result registers, the guest memory it touched (and the guard bytes
 * around it) and the device's DMA log (QOM property "dma-log") are checked
 * against values the test computes on its own from the contract in
 * include/hw/misc/dma-testdev.h.  The whole suite runs on q35, where the
 * device is a PCI Express endpoint behind a pcie-root-port, and a subset
 * runs on pc, where it is a conventional PCI device on bus 0.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "qemu/bswap.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "libqos/pci.h"
#include "libqos/pci-pc.h"
#include "libqos/malloc-pc.h"
#include "libqos/dma-testdev.h"
#include "hw/pci/pci_regs.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "hw/misc/dma-testdev.h"

#define DT_PAGE             4096
#define DT_SEED             0x5eedc0deu
#define DT_GUARD            0xa5
/* Nothing decodes 64 GiB on these small-memory machines. */
#define DT_UNASSIGNED       0x1000000000ULL
/* The end of RAM with "-m 128M". */
#define DT_RAM_END_128M     0x8000000ULL
/* The BIOS ROM's last page. */
#define DT_ROM_PAGE         0xfffff000ULL
#define DT_ALL_OPS \
    (DT_CAP_OP(DT_OP_WRITE_PATTERN) | DT_CAP_OP(DT_OP_VERIFY_PATTERN) | \
     DT_CAP_OP(DT_OP_COPY) | DT_CAP_OP(DT_OP_FILL))

/* A segment descriptor as the test builds it. */
typedef struct DtSeg {
    uint64_t addr;
    uint32_t len;
    uint32_t flags;
} DtSeg;

/* One entry of the device's DMA log. */
typedef struct DtLogEntry {
    uint64_t seq;
    uint64_t cmd;
    char op[24];
    char list[16];
    uint32_t index;
    char dir[8];
    uint64_t addr;
    uint64_t len;
    uint64_t done;
    char result[24];
} DtLogEntry;

/* Checksum of a data stream, fed in pieces. */
typedef struct DtCsum {
    uint64_t csum;
    uint64_t word;
    uint64_t off;
} DtCsum;

/*
 * Failure reporting
 */

static void G_GNUC_PRINTF(1, 2) dt_report(const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_assertion_message(G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
}

static void dt_check_u64(const char *what, uint64_t addr, uint64_t exp,
                         uint64_t got)
{
    if (exp != got) {
        dt_report("%s: addr 0x%" PRIx64 ": expected 0x%" PRIx64
                  " found 0x%" PRIx64, what, addr, exp, got);
    }
}

static void dt_check_reg(DmatdDev *d, uint32_t reg, const char *name,
                         uint64_t exp, bool wide)
{
    uint64_t got = wide ? dmatd_rd64(d, reg) : dmatd_rd(d, reg);

    if (got != exp) {
        dt_report("register %s (BAR0+0x%03x): addr 0x%" PRIx64
                  ": expected 0x%" PRIx64 " found 0x%" PRIx64,
                  name, reg, d->bar.addr + reg, exp, got);
    }
}

#define DT_CHECK_REG(d, reg, exp) dt_check_reg(d, reg, #reg, exp, false)
#define DT_CHECK_REG64(d, reg, exp) dt_check_reg(d, reg, #reg, exp, true)

static void dt_set_dst(DmatdDev *d, uint64_t list, uint32_t count)
{
    dmatd_wr64(d, DT_REG_DST_LIST_LO, list);
    dmatd_wr(d, DT_REG_DST_COUNT, count);
}

static void dt_set_src(DmatdDev *d, uint64_t list, uint32_t count)
{
    dmatd_wr64(d, DT_REG_SRC_LIST_LO, list);
    dmatd_wr(d, DT_REG_SRC_COUNT, count);
}

/*
 * Start a command.  It completes before the register write returns, and
 * every command write counts in CMD_SEQ.  Returns the new CMD_SEQ.
 */
static uint64_t dt_cmd(DmatdDev *d, uint32_t op)
{
    uint64_t seq = dmatd_rd64(d, DT_REG_CMD_SEQ_LO);

    dmatd_wr(d, DT_REG_CMD, op);
    DT_CHECK_REG64(d, DT_REG_CMD_SEQ_LO, seq + 1);
    DT_CHECK_REG(d, DT_REG_CMD, op);
    return seq + 1;
}

static void dt_check_no_mismatch(DmatdDev *d)
{
    DT_CHECK_REG(d, DT_REG_MISMATCH_COUNT, 0);
    DT_CHECK_REG(d, DT_REG_MISMATCH_SEG, 0);
    DT_CHECK_REG64(d, DT_REG_MISMATCH_OFF_LO, 0);
    DT_CHECK_REG64(d, DT_REG_MISMATCH_EXP_LO, 0);
    DT_CHECK_REG64(d, DT_REG_MISMATCH_GOT_LO, 0);
}

/* The last command succeeded, moved @bytes and summed them to @csum. */
static void dt_check_ok(DmatdDev *d, uint64_t bytes, uint64_t csum)
{
    DT_CHECK_REG(d, DT_REG_STATUS, DT_STATUS_DONE);
    DT_CHECK_REG(d, DT_REG_ERROR, DT_ERR_NONE);
    DT_CHECK_REG(d, DT_REG_ERR_LIST, DT_LIST_NONE);
    DT_CHECK_REG(d, DT_REG_ERR_SEG, 0);
    DT_CHECK_REG64(d, DT_REG_ERR_ADDR_LO, 0);
    DT_CHECK_REG64(d, DT_REG_BYTES_DONE_LO, bytes);
    DT_CHECK_REG64(d, DT_REG_CHECKSUM_LO, csum);
    dt_check_no_mismatch(d);
}

/* The last command failed with @err at @list/@seg/@addr after @bytes. */
static void dt_check_error(DmatdDev *d, uint32_t err, uint32_t list,
                           uint32_t seg, uint64_t addr, uint64_t bytes)
{
    DT_CHECK_REG(d, DT_REG_STATUS, DT_STATUS_DONE | DT_STATUS_ERROR);
    DT_CHECK_REG(d, DT_REG_ERROR, err);
    DT_CHECK_REG(d, DT_REG_ERR_LIST, list);
    DT_CHECK_REG(d, DT_REG_ERR_SEG, seg);
    DT_CHECK_REG64(d, DT_REG_ERR_ADDR_LO, addr);
    DT_CHECK_REG64(d, DT_REG_BYTES_DONE_LO, bytes);
    dt_check_no_mismatch(d);
}

/* The last VERIFY found @count bad words, the first one as given. */
static void dt_check_mismatch(DmatdDev *d, uint64_t bytes, uint32_t count,
                              uint32_t seg, uint64_t off, uint64_t exp,
                              uint64_t got)
{
    DT_CHECK_REG(d, DT_REG_STATUS, DT_STATUS_DONE | DT_STATUS_MISMATCH);
    DT_CHECK_REG(d, DT_REG_ERROR, DT_ERR_NONE);
    DT_CHECK_REG(d, DT_REG_ERR_LIST, DT_LIST_NONE);
    DT_CHECK_REG(d, DT_REG_ERR_SEG, 0);
    DT_CHECK_REG64(d, DT_REG_ERR_ADDR_LO, 0);
    DT_CHECK_REG64(d, DT_REG_BYTES_DONE_LO, bytes);
    DT_CHECK_REG(d, DT_REG_MISMATCH_COUNT, count);
    DT_CHECK_REG(d, DT_REG_MISMATCH_SEG, seg);
    DT_CHECK_REG64(d, DT_REG_MISMATCH_OFF_LO, off);
    DT_CHECK_REG64(d, DT_REG_MISMATCH_EXP_LO, exp);
    DT_CHECK_REG64(d, DT_REG_MISMATCH_GOT_LO, got);
}

/*
 * Data: pattern, checksum, segment lists, guest memory images
 */

static void dt_pattern(uint8_t *buf, uint32_t seed, uint64_t off,
                       uint64_t len)
{
    uint64_t i;

    for (i = 0; i < len; i++) {
        buf[i] = dt_pattern_byte(seed, off + i);
    }
}

static void dt_fill_stream(uint8_t *buf, uint64_t fill, uint64_t len)
{
    uint64_t i;

    for (i = 0; i < len; i++) {
        buf[i] = fill >> ((i & 7) * 8);
    }
}

static void dt_csum_start(DtCsum *c)
{
    *c = (DtCsum) { .csum = DT_CSUM_INIT };
}

static void dt_csum_feed(DtCsum *c, const uint8_t *buf, uint64_t len)
{
    uint64_t i;

    for (i = 0; i < len; i++) {
        c->word |= (uint64_t)buf[i] << ((c->off & 7) * 8);
        if (!(++c->off & 7)) {
            c->csum = dt_csum_word(c->csum, c->word);
            c->word = 0;
        }
    }
}

static uint64_t dt_csum_end(DtCsum *c)
{
    return (c->off & 7) ? dt_csum_word(c->csum, c->word) : c->csum;
}

static uint64_t dt_csum_buf(const uint8_t *buf, uint64_t len)
{
    DtCsum c;

    dt_csum_start(&c);
    dt_csum_feed(&c, buf, len);
    return dt_csum_end(&c);
}

/* The checksum of the pattern of @seed over transfer offsets [0, len). */
static uint64_t dt_pattern_csum(uint32_t seed, uint64_t len)
{
    uint64_t csum = DT_CSUM_INIT;
    uint64_t off;

    for (off = 0; off + 8 <= len; off += 8) {
        csum = dt_csum_word(csum, dt_pattern_word(seed, off));
    }
    if (off < len) {
        csum = dt_csum_word(csum, dt_pattern_word(seed, off) &
                            MAKE_64BIT_MASK(0, (len - off) * 8));
    }
    return csum;
}

static uint64_t dt_total(const DtSeg *segs, size_t n)
{
    uint64_t total = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        total += segs[i].len;
    }
    return total;
}

static void dt_put_list_at(DmatdDev *d, uint64_t at, const DtSeg *segs,
                           size_t n)
{
    g_autofree uint8_t *buf = g_malloc(n * DT_SEG_SIZE);
    size_t i;

    for (i = 0; i < n; i++) {
        stq_le_p(buf + i * DT_SEG_SIZE, segs[i].addr);
        stl_le_p(buf + i * DT_SEG_SIZE + 8, segs[i].len);
        stl_le_p(buf + i * DT_SEG_SIZE + 12, segs[i].flags);
    }
    qtest_bufwrite(d->qts, at, buf, n * DT_SEG_SIZE);
}

/* Put a segment list into freshly allocated guest memory. */
static uint64_t dt_put_list(DmatdDev *d, const DtSeg *segs, size_t n)
{
    uint64_t at = guest_alloc(&d->alloc, n * DT_SEG_SIZE);

    g_assert_cmphex(at % DT_SEG_ALIGN, ==, 0);
    dt_put_list_at(d, at, segs, n);
    return at;
}

/* Write @stream into the segments, in transfer order, from the host. */
static void dt_scatter(DmatdDev *d, const DtSeg *segs, size_t n,
                       const uint8_t *stream)
{
    uint64_t off = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        qtest_bufwrite(d->qts, segs[i].addr, stream + off, segs[i].len);
        off += segs[i].len;
    }
}

/*
 * Check guest memory [base, base + size): each byte covered by a segment
 * holds the byte of @stream at its transfer offset (later segments win
 * where segments overlap), each other byte still holds @guard.
 */
static void dt_check_image(DmatdDev *d, const char *what, uint64_t base,
                           uint64_t size, const DtSeg *segs, size_t n,
                           const uint8_t *stream, uint8_t guard)
{
    g_autofree uint8_t *exp = g_malloc(size);
    g_autofree uint8_t *got = g_malloc(size);
    uint64_t off = 0, i, bad = 0, first = 0;
    size_t s;

    memset(exp, guard, size);
    for (s = 0; s < n; s++) {
        g_assert_cmphex(segs[s].addr, >=, base);
        g_assert_cmphex(segs[s].addr + segs[s].len, <=, base + size);
        memcpy(exp + (segs[s].addr - base), stream + off, segs[s].len);
        off += segs[s].len;
    }
    qtest_bufread(d->qts, base, got, size);
    if (!memcmp(exp, got, size)) {
        return;
    }

    for (i = 0; i < size; i++) {
        if (exp[i] != got[i]) {
            if (!bad++) {
                first = i;
            }
        }
    }
    /* Say what the first bad byte is: which segment, or a guard byte. */
    off = 0;
    for (s = 0; s < n; s++) {
        uint64_t a = base + first;

        if (a >= segs[s].addr && a < segs[s].addr + segs[s].len) {
            break;
        }
        off += segs[s].len;
    }
    if (s < n) {
        dt_report("%s: addr 0x%" PRIx64 " (segment %zu, transfer offset "
                  "0x%" PRIx64 "): expected 0x%02x found 0x%02x "
                  "(%" PRIu64 " bad bytes in 0x%" PRIx64 "+0x%" PRIx64 ")",
                  what, base + first, s,
                  off + (base + first - segs[s].addr), exp[first],
                  got[first], bad, base, size);
    } else {
        dt_report("%s: addr 0x%" PRIx64 " (guard byte): expected 0x%02x "
                  "found 0x%02x (%" PRIu64 " bad bytes in 0x%" PRIx64
                  "+0x%" PRIx64 ")", what, base + first, exp[first],
                  got[first], bad, base, size);
    }
}

/* Check that [addr, addr + len) still holds @guard. */
static void dt_check_untouched(DmatdDev *d, const char *what, uint64_t addr,
                               uint64_t len, uint8_t guard)
{
    dt_check_image(d, what, addr, len, NULL, 0, NULL, guard);
}

/*
 * The DMA log
 */

static uint64_t dt_qdict_uint(QDict *e, const char *key)
{
    QNum *n = qobject_to(QNum, qdict_get(e, key));
    uint64_t val = 0;

    if (!n || !qnum_get_try_uint(n, &val)) {
        dt_report("DMA log entry: no unsigned integer '%s'", key);
    }
    return val;
}

static void dt_qdict_str(QDict *e, const char *key, char *buf, size_t size)
{
    const char *s = qdict_get_try_str(e, key);

    if (!s) {
        dt_report("DMA log entry: no string '%s'", key);
        return;
    }
    g_strlcpy(buf, s, size);
}

/* The DMA log entries of command @cmd (0: all), oldest first. */
static GArray *dt_log_get(DmatdDev *d, uint64_t cmd)
{
    GArray *log = g_array_new(false, true, sizeof(DtLogEntry));
    QList *list = dmatd_log_read(d->qts, "dt0", 0);
    QListEntry *le;

    QLIST_FOREACH_ENTRY(list, le) {
        QDict *e = qobject_to(QDict, qlist_entry_obj(le));
        DtLogEntry ent = { 0 };

        g_assert_nonnull(e);
        ent.cmd = dt_qdict_uint(e, "cmd");
        if (cmd && ent.cmd != cmd) {
            continue;
        }
        ent.seq = dt_qdict_uint(e, "seq");
        ent.index = dt_qdict_uint(e, "index");
        ent.addr = dt_qdict_uint(e, "addr");
        ent.len = dt_qdict_uint(e, "len");
        ent.done = dt_qdict_uint(e, "done");
        dt_qdict_str(e, "op", ent.op, sizeof(ent.op));
        dt_qdict_str(e, "list", ent.list, sizeof(ent.list));
        dt_qdict_str(e, "dir", ent.dir, sizeof(ent.dir));
        dt_qdict_str(e, "result", ent.result, sizeof(ent.result));
        g_array_append_val(log, ent);
    }
    qobject_unref(list);
    return log;
}

static void dt_check_log(const DtLogEntry *e, const char *op,
                         const char *list, uint32_t index, const char *dir,
                         uint64_t addr, uint64_t len, uint64_t done,
                         const char *result)
{
    if (strcmp(e->op, op) || strcmp(e->list, list) || e->index != index ||
        strcmp(e->dir, dir) || e->addr != addr || e->len != len ||
        e->done != done || strcmp(e->result, result)) {
        dt_report("DMA log entry seq %" PRIu64 " (cmd %" PRIu64 "): "
                  "expected %s %s[%u] %s addr 0x%" PRIx64 " len 0x%" PRIx64
                  " done 0x%" PRIx64 " %s, found %s %s[%u] %s addr 0x%"
                  PRIx64 " len 0x%" PRIx64 " done 0x%" PRIx64 " %s",
                  e->seq, e->cmd, op, list, index, dir, addr, len, done,
                  result, e->op, e->list, e->index, e->dir, e->addr,
                  e->len, e->done, e->result);
    }
}

static void dt_check_log_seqs(GArray *log)
{
    guint i;

    for (i = 1; i < log->len; i++) {
        g_assert_cmpuint(g_array_index(log, DtLogEntry, i).seq, ==,
                         g_array_index(log, DtLogEntry, i - 1).seq + 1);
    }
}

/* Check the data entries of @list ("src"/"dst") in @log from @from on. */
static void dt_check_log_segs(GArray *log, guint from, const char *op,
                              const char *list, const DtSeg *segs, size_t n)
{
    const char *dir = !strcmp(list, "dst") ? "write" : "read";
    size_t seen = 0;
    guint i;

    for (i = from; i < log->len; i++) {
        DtLogEntry *e = &g_array_index(log, DtLogEntry, i);

        if (strcmp(e->list, list)) {
            continue;
        }
        g_assert_cmpuint(seen, <, n);
        dt_check_log(e, op, list, seen, dir, segs[seen].addr,
                     segs[seen].len, segs[seen].len, "ok");
        seen++;
    }
    g_assert_cmpuint(seen, ==, n);
}

/*
 * The log of a successful single-list command: the list read, then one
 * entry per segment.
 */
static void dt_check_log_single(DmatdDev *d, uint64_t cmd, const char *op,
                                const char *list, uint64_t list_addr,
                                const DtSeg *segs, size_t n)
{
    g_autoptr(GArray) log = dt_log_get(d, cmd);
    g_autofree char *list_kind = g_strdup_printf("%s-list", list);

    g_assert_cmpuint(log->len, ==, n + 1);
    dt_check_log_seqs(log);
    dt_check_log(&g_array_index(log, DtLogEntry, 0), op, list_kind, 0,
                 "read", list_addr, n * DT_SEG_SIZE, n * DT_SEG_SIZE, "ok");
    dt_check_log_segs(log, 1, op, list, segs, n);
}

/* Nothing but list reads was logged for @cmd; returns how many. */
static guint dt_check_log_no_data(DmatdDev *d, uint64_t cmd)
{
    g_autoptr(GArray) log = dt_log_get(d, cmd);
    guint i;

    for (i = 0; i < log->len; i++) {
        DtLogEntry *e = &g_array_index(log, DtLogEntry, i);

        if (!g_str_has_suffix(e->list, "-list")) {
            dt_report("DMA log entry seq %" PRIu64 ": cmd %" PRIu64
                      " moved no data, but %s[%u] addr 0x%" PRIx64
                      " was logged", e->seq, cmd, e->list, e->index,
                      e->addr);
        }
    }
    return log->len;
}

/*
 * Segment layouts
 */

/*
 * Six segments of odd sizes and alignments in a 16 KiB region, in
 * descending and ascending address order, with guard bytes around each.
 * Words of the transfer are split across segments, and the total is not a
 * multiple of 8.
 */
#define DT_ODD_REGION       0x4000
#define DT_ODD_NSEGS        6

static void dt_odd_layout(uint64_t base, DtSeg *segs)
{
    static const DtSeg layout[DT_ODD_NSEGS] = {
        { 0x3011, 1 },          /* transfer offset 0 */
        { 0x0103, 7 },          /* 1: odd address, rest of word 0 */
        { 0x1000, 4096 },       /* 8: a whole page */
        { 0x2009, 3 },          /* 4104 */
        { 0x0205, 13 },         /* 4107: spans words both ways */
        { 0x2401, 3071 },       /* 4120: ends in a partial word */
    };
    int i;

    for (i = 0; i < DT_ODD_NSEGS; i++) {
        segs[i] = layout[i];
        segs[i].addr += base;
    }
}

/* A region of guest memory filled with DT_GUARD. */
static uint64_t dt_region(DmatdDev *d, uint64_t size)
{
    uint64_t base = guest_alloc(&d->alloc, size);

    qtest_memset(d->qts, base, DT_GUARD, size);
    return base;
}

/*
 * Functional tests (q35 and pc)
 */

static void test_identity(const void *data)
{
    const DmatdMachine *m = data;
    DmatdDev *d = dmatd_start(m, "", "");
    uint32_t bar0;
    uint8_t cap;

    g_assert_cmphex(qpci_config_readw(d->dev, PCI_VENDOR_ID), ==,
                    DMA_TESTDEV_VENDOR_ID);
    g_assert_cmphex(qpci_config_readw(d->dev, PCI_DEVICE_ID), ==,
                    DMA_TESTDEV_DEVICE_ID);
    g_assert_cmphex(qpci_config_readb(d->dev, PCI_REVISION_ID), ==,
                    DMA_TESTDEV_REVISION);
    g_assert_cmphex(qpci_config_readw(d->dev, PCI_CLASS_DEVICE), ==, 0x00ff);
    g_assert_cmphex(qpci_config_readb(d->dev, PCI_CLASS_PROG), ==, 0);
    g_assert_cmphex(qpci_config_readb(d->dev, PCI_HEADER_TYPE) & 0x7f, ==,
                    PCI_HEADER_TYPE_NORMAL);

    /* BAR0: 4 KiB of memory space, now where qpci_iomap put it. */
    g_assert_cmphex(d->bar_size, ==, DMA_TESTDEV_BAR0_SIZE);
    bar0 = qpci_config_readl(d->dev, PCI_BASE_ADDRESS_0);
    g_assert_cmphex(bar0 & PCI_BASE_ADDRESS_SPACE, ==,
                    PCI_BASE_ADDRESS_SPACE_MEMORY);
    g_assert_true((bar0 & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
                  PCI_BASE_ADDRESS_MEM_TYPE_32 ||
                  (bar0 & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
                  PCI_BASE_ADDRESS_MEM_TYPE_64);
    g_assert_cmphex(bar0 & PCI_BASE_ADDRESS_MEM_MASK, ==, d->bar.addr);

    cap = dmatd_find_cap(d->dev, PCI_CAP_ID_EXP);
    if (m->pcie) {
        g_assert_cmphex(cap, !=, 0);
        g_assert_cmphex((qpci_config_readw(d->dev, cap + PCI_EXP_FLAGS) &
                         PCI_EXP_FLAGS_TYPE) >> 4, ==, PCI_EXP_TYPE_ENDPOINT);
    } else {
        g_assert_cmphex(cap, ==, 0);
    }

    DT_CHECK_REG(d, DT_REG_ID, DMA_TESTDEV_ID_VALUE);
    DT_CHECK_REG(d, DT_REG_VERSION, DMA_TESTDEV_VERSION_VALUE);
    DT_CHECK_REG(d, DT_REG_CAPS, DT_ALL_OPS | DT_CAP_QUEUE);
    DT_CHECK_REG(d, DT_REG_ADDR_BITS, 64);
    DT_CHECK_REG(d, DT_REG_MAX_SEGS, 65536);
    DT_CHECK_REG64(d, DT_REG_MAX_XFER_LO, 1 * GiB);
    DT_CHECK_REG(d, DT_REG_STATUS, 0);
    DT_CHECK_REG(d, DT_REG_ERROR, DT_ERR_NONE);
    DT_CHECK_REG(d, DT_REG_CMD, DT_OP_NONE);
    DT_CHECK_REG64(d, DT_REG_CMD_SEQ_LO, 0);

    dmatd_stop(d);
}

static void test_identity_props(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",addr-bits=32,max-segments=8,"
                        "max-transfer=0x123456789", "");

    DT_CHECK_REG(d, DT_REG_ID, DMA_TESTDEV_ID_VALUE);
    DT_CHECK_REG(d, DT_REG_ADDR_BITS, 32);
    DT_CHECK_REG(d, DT_REG_MAX_SEGS, 8);
    DT_CHECK_REG64(d, DT_REG_MAX_XFER_LO, 0x123456789ULL);
    dmatd_stop(d);
}

static void test_write_pattern(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    DtSeg segs[DT_ODD_NSEGS];
    uint64_t base = dt_region(d, DT_ODD_REGION);
    uint64_t total, list, cmd;
    g_autofree uint8_t *stream = NULL;

    dt_odd_layout(base, segs);
    total = dt_total(segs, DT_ODD_NSEGS);
    stream = g_malloc(total);
    dt_pattern(stream, DT_SEED, 0, total);

    list = dt_put_list(d, segs, DT_ODD_NSEGS);
    dt_set_dst(d, list, DT_ODD_NSEGS);
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    g_assert_cmpuint(cmd, ==, 1);
    dt_check_ok(d, total, dt_csum_buf(stream, total));
    dt_check_image(d, "write-pattern", base, DT_ODD_REGION, segs,
                   DT_ODD_NSEGS, stream, DT_GUARD);
    dt_check_log_single(d, cmd, "write-pattern", "dst", list, segs,
                        DT_ODD_NSEGS);

    /* Again with another seed: every byte changes, the guards do not. */
    dmatd_wr(d, DT_REG_SEED, ~DT_SEED);
    dt_pattern(stream, ~DT_SEED, 0, total);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_ok(d, total, dt_csum_buf(stream, total));
    dt_check_image(d, "write-pattern, second seed", base, DT_ODD_REGION,
                   segs, DT_ODD_NSEGS, stream, DT_GUARD);
    dt_check_log_single(d, cmd, "write-pattern", "dst", list, segs,
                        DT_ODD_NSEGS);
    dmatd_stop(d);
}

static void test_verify_pattern(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    DtSeg segs[DT_ODD_NSEGS];
    uint64_t base = dt_region(d, DT_ODD_REGION);
    uint64_t total, list, cmd, tail, exp;
    g_autofree uint8_t *good = NULL;
    g_autofree uint8_t *bad = NULL;

    dt_odd_layout(base, segs);
    total = dt_total(segs, DT_ODD_NSEGS);
    good = g_malloc(total);
    dt_pattern(good, DT_SEED, 0, total);
    bad = g_memdup2(good, total);

    /* Good data, put there by the test itself. */
    dt_scatter(d, segs, DT_ODD_NSEGS, good);
    list = dt_put_list(d, segs, DT_ODD_NSEGS);
    dt_set_src(d, list, DT_ODD_NSEGS);
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    cmd = dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_ok(d, total, dt_csum_buf(good, total));
    dt_check_log_single(d, cmd, "verify-pattern", "src", list, segs,
                        DT_ODD_NSEGS);
    /* VERIFY only reads. */
    dt_check_image(d, "verify-pattern", base, DT_ODD_REGION, segs,
                   DT_ODD_NSEGS, good, DT_GUARD);

    /*
     * One byte flipped at transfer offset 5: word 0 is bad, and it starts
     * in segment 0 although the bad byte sits in segment 1.
     */
    bad[5] ^= 0x40;
    dt_scatter(d, segs, DT_ODD_NSEGS, bad);
    dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_mismatch(d, total, 1, 0, 0, dt_pattern_word(DT_SEED, 0),
                      ldq_le_p(bad));
    DT_CHECK_REG64(d, DT_REG_CHECKSUM_LO, dt_csum_buf(bad, total));
    bad[5] = good[5];

    /* Two bad words: the first (offset 4096, segment 2) is reported. */
    bad[4100] ^= 0x01;
    bad[total - 2] ^= 0x80;
    dt_scatter(d, segs, DT_ODD_NSEGS, bad);
    dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_mismatch(d, total, 2, 2, 4096, dt_pattern_word(DT_SEED, 4096),
                      ldq_le_p(bad + 4096));
    DT_CHECK_REG64(d, DT_REG_CHECKSUM_LO, dt_csum_buf(bad, total));
    bad[4100] = good[4100];

    /*
     * Only the final partial word is bad: both sides are its present
     * bytes, zero-padded.
     */
    dt_scatter(d, segs, DT_ODD_NSEGS, bad);
    tail = total & ~7ULL;
    g_assert_cmpuint(total - tail, ==, 7);
    exp = dt_pattern_word(DT_SEED, tail) & MAKE_64BIT_MASK(0, 56);
    dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_mismatch(d, total, 1, DT_ODD_NSEGS - 1, tail, exp,
                      exp ^ (0x80ULL << 40));
    bad[total - 2] = good[total - 2];

    /* The wrong seed: every word is bad, word 0 reported. */
    dt_scatter(d, segs, DT_ODD_NSEGS, good);
    dmatd_wr(d, DT_REG_SEED, DT_SEED + 1);
    dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_mismatch(d, total, DIV_ROUND_UP(total, 8), 0, 0,
                      dt_pattern_word(DT_SEED + 1, 0),
                      dt_pattern_word(DT_SEED, 0));

    /* And good again. */
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_ok(d, total, dt_csum_buf(good, total));
    dmatd_stop(d);
}

/* Copy segments: different splits on each side, same total (6419). */
#define DT_COPY_NSRC        6
#define DT_COPY_NDST        4

static void dt_copy_layout(uint64_t src_base, uint64_t dst_base,
                           DtSeg *src, DtSeg *dst)
{
    static const DtSeg src_layout[DT_COPY_NSRC] = {
        { 0x2003, 5 }, { 0x0800, 4096 }, { 0x1ff1, 1 },
        { 0x3100, 300 }, { 0x1801, 2000 }, { 0x0011, 17 },
    };
    static const DtSeg dst_layout[DT_COPY_NDST] = {
        { 0x2805, 1000 }, { 0x0009, 3 }, { 0x1000, 4096 }, { 0x0101, 1320 },
    };
    int i;

    for (i = 0; i < DT_COPY_NSRC; i++) {
        src[i] = src_layout[i];
        src[i].addr += src_base;
    }
    for (i = 0; i < DT_COPY_NDST; i++) {
        dst[i] = dst_layout[i];
        dst[i].addr += dst_base;
    }
}

static void test_copy(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    DtSeg src[DT_COPY_NSRC], dst[DT_COPY_NDST], dst_long[DT_COPY_NDST];
    uint64_t src_base = dt_region(d, DT_ODD_REGION);
    uint64_t dst_base = dt_region(d, DT_ODD_REGION);
    uint64_t total, src_list, dst_list, cmd;
    g_autoptr(GRand) rand = g_rand_new_with_seed(0xc0b1);
    g_autofree uint8_t *stream = NULL;
    g_autoptr(GArray) log = NULL;
    uint64_t i;

    dt_copy_layout(src_base, dst_base, src, dst);
    total = dt_total(src, DT_COPY_NSRC);
    g_assert_cmpuint(total, ==, dt_total(dst, DT_COPY_NDST));
    stream = g_malloc(total);
    for (i = 0; i < total; i++) {
        stream[i] = g_rand_int(rand);
    }
    dt_scatter(d, src, DT_COPY_NSRC, stream);

    src_list = dt_put_list(d, src, DT_COPY_NSRC);
    dst_list = dt_put_list(d, dst, DT_COPY_NDST);
    dt_set_src(d, src_list, DT_COPY_NSRC);
    dt_set_dst(d, dst_list, DT_COPY_NDST);
    cmd = dt_cmd(d, DT_OP_COPY);
    dt_check_ok(d, total, dt_csum_buf(stream, total));
    dt_check_image(d, "copy destination", dst_base, DT_ODD_REGION, dst,
                   DT_COPY_NDST, stream, DT_GUARD);
    dt_check_image(d, "copy source", src_base, DT_ODD_REGION, src,
                   DT_COPY_NSRC, stream, DT_GUARD);

    /* Both list reads first (source first), then the data segments. */
    log = dt_log_get(d, cmd);
    g_assert_cmpuint(log->len, ==, 2 + DT_COPY_NSRC + DT_COPY_NDST);
    dt_check_log_seqs(log);
    dt_check_log(&g_array_index(log, DtLogEntry, 0), "copy", "src-list", 0,
                 "read", src_list, DT_COPY_NSRC * DT_SEG_SIZE,
                 DT_COPY_NSRC * DT_SEG_SIZE, "ok");
    dt_check_log(&g_array_index(log, DtLogEntry, 1), "copy", "dst-list", 0,
                 "read", dst_list, DT_COPY_NDST * DT_SEG_SIZE,
                 DT_COPY_NDST * DT_SEG_SIZE, "ok");
    dt_check_log_segs(log, 2, "copy", "src", src, DT_COPY_NSRC);
    dt_check_log_segs(log, 2, "copy", "dst", dst, DT_COPY_NDST);

    /* One byte more on the destination side: nothing is copied. */
    qtest_memset(d->qts, dst_base, DT_GUARD, DT_ODD_REGION);
    memcpy(dst_long, dst, sizeof(dst));
    dst_long[DT_COPY_NDST - 1].len++;
    dst_list = dt_put_list(d, dst_long, DT_COPY_NDST);
    dt_set_dst(d, dst_list, DT_COPY_NDST);
    cmd = dt_cmd(d, DT_OP_COPY);
    dt_check_error(d, DT_ERR_LENGTH_MISMATCH, DT_LIST_NONE, 0, 0, 0);
    dt_check_untouched(d, "copy length mismatch", dst_base, DT_ODD_REGION,
                       DT_GUARD);
    g_assert_cmpuint(dt_check_log_no_data(d, cmd), ==, 2);
    dmatd_stop(d);
}

static void test_fill(const void *data)
{
    const uint64_t fill = 0x0123456789abcdefULL;
    DmatdDev *d = dmatd_start(data, "", "");
    DtSeg segs[DT_ODD_NSEGS];
    uint64_t base = dt_region(d, DT_ODD_REGION);
    uint64_t total, list, cmd;
    g_autofree uint8_t *stream = NULL;

    dt_odd_layout(base, segs);
    total = dt_total(segs, DT_ODD_NSEGS);
    stream = g_malloc(total);
    dt_fill_stream(stream, fill, total);

    list = dt_put_list(d, segs, DT_ODD_NSEGS);
    dt_set_dst(d, list, DT_ODD_NSEGS);
    dmatd_wr64(d, DT_REG_FILL_LO, fill);
    DT_CHECK_REG64(d, DT_REG_FILL_LO, fill);
    cmd = dt_cmd(d, DT_OP_FILL);
    dt_check_ok(d, total, dt_csum_buf(stream, total));
    dt_check_image(d, "fill", base, DT_ODD_REGION, segs, DT_ODD_NSEGS,
                   stream, DT_GUARD);
    dt_check_log_single(d, cmd, "fill", "dst", list, segs, DT_ODD_NSEGS);
    dmatd_stop(d);
}

/*
 * The "x-misdirect-offset" negative control that guest-level oracles rely
 * on: exactly one word of a WRITE_PATTERN lands one page further than
 * programmed, its home keeps its old content, and the DMA log shows the
 * stray write.
 */
#define DT_MISDIRECT_OFF    0x1008

static void test_misdirect(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",x-misdirect-offset=0x1008", "");
    uint64_t base = dt_region(d, 3 * DT_PAGE);
    DtSeg seg = { base, 3 * DT_PAGE };
    uint64_t list = dt_put_list(d, &seg, 1);
    g_autofree uint8_t *got = g_malloc(3 * DT_PAGE);
    g_autoptr(GArray) log = NULL;
    uint64_t cmd, t;

    dt_set_dst(d, list, 1);
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_ok(d, 3 * DT_PAGE, dt_pattern_csum(DT_SEED, 3 * DT_PAGE));

    qtest_memread(d->qts, base, got, 3 * DT_PAGE);
    for (t = 0; t < 3 * DT_PAGE; t += 8) {
        uint64_t exp = dt_pattern_word(DT_SEED, t);

        if (t == DT_MISDIRECT_OFF) {
            exp = 0x0101010101010101ULL * DT_GUARD;
        } else if (t == DT_MISDIRECT_OFF + DT_PAGE) {
            exp = dt_pattern_word(DT_SEED, DT_MISDIRECT_OFF);
        }
        dt_check_u64("misdirect", base + t, exp, ldq_le_p(got + t));
    }

    log = dt_log_get(d, cmd);
    g_assert_cmpuint(log->len, ==, 3);
    dt_check_log(&g_array_index(log, DtLogEntry, 1), "write-pattern", "dst",
                 0, "write", base + DT_MISDIRECT_OFF + DT_PAGE, 8, 8, "ok");
    dt_check_log(&g_array_index(log, DtLogEntry, 2), "write-pattern", "dst",
                 0, "write", base, 3 * DT_PAGE, 3 * DT_PAGE, "ok");
    dmatd_stop(d);
}

/*
 * The pin ioctl model: a 64-page user buffer whose pages the kernel
 * pinned at scattered physical addresses, some in physically contiguous
 * runs.  IOMMU_IOAS_NOIOMMU_GET_PA reports one segment per contiguous run,
 * and that is the list the device gets.
 */
#define DT_PIN_PAGES        64
#define DT_PIN_SLOTS        160     /* pool size in pages */

static const unsigned dt_pin_runs[] = {
    2, 1, 1, 8, 1, 3, 1, 1, 16, 1, 2, 1, 1, 4, 1, 1, 5, 1, 1, 1, 2, 1,
    1, 1, 3, 1, 1, 1,
};

static void test_pin_model(const void *data)
{
    const unsigned nruns = ARRAY_SIZE(dt_pin_runs);
    DmatdDev *d = dmatd_start(data, "", "");
    g_autoptr(GRand) rand = g_rand_new_with_seed(0x9a9e5);
    uint64_t pool = dt_region(d, DT_PIN_SLOTS * DT_PAGE);
    const uint64_t total = DT_PIN_PAGES * DT_PAGE;
    uint64_t pa[DT_PIN_PAGES], seg_off[DT_PIN_PAGES];
    unsigned order[ARRAY_SIZE(dt_pin_runs)];
    unsigned run_page[ARRAY_SIZE(dt_pin_runs)];
    DtSeg segs[DT_PIN_PAGES];
    g_autofree uint8_t *stream = g_malloc(total);
    uint64_t list, cmd, off, exp, got, addr;
    unsigned i, j, slot, page, nsegs, k, w, s;
    bool sorted = true;

    /* The user buffer's pages, run by run, in user order. */
    for (i = 0, page = 0; i < nruns; i++) {
        run_page[i] = page;
        page += dt_pin_runs[i];
        order[i] = i;
    }
    g_assert_cmpuint(page, ==, DT_PIN_PAGES);

    /* Place the runs in the pool in shuffled order, guard pages between. */
    for (i = nruns - 1; i > 0; i--) {
        j = g_rand_int_range(rand, 0, i + 1);
        k = order[i];
        order[i] = order[j];
        order[j] = k;
    }
    for (i = 0, slot = 1; i < nruns; i++) {
        unsigned r = order[i];

        sorted &= i == 0 || order[i] > order[i - 1];
        for (j = 0; j < dt_pin_runs[r]; j++) {
            pa[run_page[r] + j] = pool + (uint64_t)(slot + j) * DT_PAGE;
        }
        slot += dt_pin_runs[r] + 1 + g_rand_int_range(rand, 0, 2);
    }
    g_assert_cmpuint(slot, <=, DT_PIN_SLOTS);
    g_assert_false(sorted);

    /* What GET_PA reports: physically contiguous pages merged. */
    for (i = 0, nsegs = 0; i < DT_PIN_PAGES; i++) {
        if (nsegs && pa[i] == segs[nsegs - 1].addr + segs[nsegs - 1].len) {
            segs[nsegs - 1].len += DT_PAGE;
        } else {
            seg_off[nsegs] = (uint64_t)i * DT_PAGE;
            segs[nsegs++] = (DtSeg) { .addr = pa[i], .len = DT_PAGE };
        }
    }
    g_assert_cmpuint(nsegs, ==, nruns);

    /* WRITE: every page holds the words of its place in the buffer. */
    dt_pattern(stream, DT_SEED, 0, total);
    list = dt_put_list(d, segs, nsegs);
    dt_set_dst(d, list, nsegs);
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_ok(d, total, dt_pattern_csum(DT_SEED, total));
    dt_check_image(d, "pinned pages", pool, DT_PIN_SLOTS * DT_PAGE, segs,
                   nsegs, stream, DT_GUARD);
    for (i = 0; i < DT_PIN_PAGES; i += 9) {
        /* The same, word-wise, as a reader of the page would see it. */
        off = (uint64_t)i * DT_PAGE + 8 * i;
        dt_check_u64("pinned page word", pa[i] + 8 * i,
                     dt_pattern_word(DT_SEED, off),
                     qtest_readq(d->qts, pa[i] + 8 * i));
    }
    dt_check_log_single(d, cmd, "write-pattern", "dst", list, segs, nsegs);

    /* VERIFY passes. */
    dt_set_src(d, list, nsegs);
    cmd = dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_ok(d, total, dt_pattern_csum(DT_SEED, total));
    dt_check_log_single(d, cmd, "verify-pattern", "src", list, segs, nsegs);

    /* One bad word in the middle of the 16-page run is pinpointed. */
    k = run_page[8] + 5;
    w = 77;
    addr = pa[k] + 8 * w;
    off = (uint64_t)k * DT_PAGE + 8 * w;
    exp = dt_pattern_word(DT_SEED, off);
    got = exp ^ 0x0000010000000400ULL;
    dt_check_u64("word to flip", addr, exp, qtest_readq(d->qts, addr));
    qtest_writeq(d->qts, addr, got);
    stq_le_p(stream + off, got);
    for (s = 0; s < nsegs; s++) {
        if (off < seg_off[s] + segs[s].len) {
            break;
        }
    }
    g_assert_cmpuint(s, ==, 8);
    cmd = dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_mismatch(d, total, 1, s, off, exp, got);
    DT_CHECK_REG64(d, DT_REG_CHECKSUM_LO, dt_csum_buf(stream, total));
    dt_check_log_single(d, cmd, "verify-pattern", "src", list, segs, nsegs);
    dmatd_stop(d);
}

/*
 * DMA log ring and register access (q35)
 */

static void test_dma_log_ring(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",dma-log-size=4", "");
    uint64_t base = dt_region(d, DT_PAGE);
    DtSeg segs[3] = {
        { base + 0x10, 8 }, { base + 0x100, 3 }, { base + 0x201, 100 },
    };
    uint64_t list = dt_put_list(d, segs, 3);
    g_autoptr(GArray) log = NULL;
    guint i;

    dt_set_dst(d, list, 3);
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_cmd(d, DT_OP_WRITE_PATTERN);

    /* 8 entries were logged; the ring keeps the newest 4. */
    log = dt_log_get(d, 0);
    g_assert_cmpuint(log->len, ==, 4);
    for (i = 0; i < 4; i++) {
        DtLogEntry *e = &g_array_index(log, DtLogEntry, i);

        g_assert_cmpuint(e->seq, ==, 5 + i);
        g_assert_cmpuint(e->cmd, ==, 2);
    }
    dt_check_log(&g_array_index(log, DtLogEntry, 0), "write-pattern",
                 "dst-list", 0, "read", list, 3 * DT_SEG_SIZE,
                 3 * DT_SEG_SIZE, "ok");
    dt_check_log_segs(log, 1, "write-pattern", "dst", segs, 3);
    dmatd_stop(d);
}

static void test_mmio_access(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    QTestState *qts = d->qts;
    uint64_t bar = d->bar.addr;

    /* 1- and 2-byte and unaligned accesses are ignored and read as 0. */
    g_assert_cmphex(qtest_readb(qts, bar + DT_REG_ID), ==, 0);
    g_assert_cmphex(qtest_readb(qts, bar + DT_REG_ID + 1), ==, 0);
    g_assert_cmphex(qtest_readw(qts, bar + DT_REG_ID), ==, 0);
    g_assert_cmphex(qtest_readw(qts, bar + DT_REG_ID + 2), ==, 0);
    g_assert_cmphex(qtest_readl(qts, bar + DT_REG_ID + 2), ==, 0);
    g_assert_cmphex(qtest_readq(qts, bar + DT_REG_VERSION), ==, 0);
    g_assert_cmphex(qtest_readl(qts, bar + DT_REG_ID), ==,
                    DMA_TESTDEV_ID_VALUE);

    dmatd_wr(d, DT_REG_SEED, 0x11223344);
    qtest_writeb(qts, bar + DT_REG_SEED, 0xff);
    qtest_writew(qts, bar + DT_REG_SEED + 2, 0xffff);
    qtest_writel(qts, bar + DT_REG_SEED + 1, 0xffffffff);
    qtest_writeq(qts, bar + DT_REG_SEED + 4, ~0ULL);
    DT_CHECK_REG(d, DT_REG_SEED, 0x11223344);
    DT_CHECK_REG64(d, DT_REG_SRC_LIST_LO, 0);

    /* Aligned 8-byte accesses at a _LO offset cover both halves. */
    dmatd_wr(d, DT_REG_SRC_LIST_LO, 0x89abcdef);
    dmatd_wr(d, DT_REG_SRC_LIST_HI, 0x01234567);
    g_assert_cmphex(qtest_readq(qts, bar + DT_REG_SRC_LIST_LO), ==,
                    0x0123456789abcdefULL);
    qtest_writeq(qts, bar + DT_REG_DST_LIST_LO, 0xfedcba9876543210ULL);
    DT_CHECK_REG(d, DT_REG_DST_LIST_LO, 0x76543210);
    DT_CHECK_REG(d, DT_REG_DST_LIST_HI, 0xfedcba98);
    g_assert_cmphex(qtest_readq(qts, bar + DT_REG_MAX_XFER_LO), ==, 1 * GiB);
    qtest_writeq(qts, bar + DT_REG_FILL_LO, 0x0102030405060708ULL);
    DT_CHECK_REG(d, DT_REG_FILL_LO, 0x05060708);
    DT_CHECK_REG(d, DT_REG_FILL_HI, 0x01020304);

    /* Read-only registers ignore writes. */
    dmatd_wr(d, DT_REG_ID, 0);
    dmatd_wr(d, DT_REG_ADDR_BITS, 12);
    dmatd_wr(d, DT_REG_MAX_SEGS, 1);
    dmatd_wr64(d, DT_REG_CMD_SEQ_LO, 1000);
    dmatd_wr(d, DT_REG_STATUS, DT_STATUS_ERROR);
    DT_CHECK_REG(d, DT_REG_ID, DMA_TESTDEV_ID_VALUE);
    DT_CHECK_REG(d, DT_REG_ADDR_BITS, 64);
    DT_CHECK_REG(d, DT_REG_MAX_SEGS, 65536);
    DT_CHECK_REG64(d, DT_REG_CMD_SEQ_LO, 0);
    DT_CHECK_REG(d, DT_REG_STATUS, 0);

    /* Unknown registers read as 0. */
    DT_CHECK_REG(d, 0x800, 0);
    DT_CHECK_REG(d, DMA_TESTDEV_BAR0_SIZE - 4, 0);

    /* A CMD byte write does not start a command. */
    qtest_writeb(qts, bar + DT_REG_CMD, DT_OP_WRITE_PATTERN);
    DT_CHECK_REG64(d, DT_REG_CMD_SEQ_LO, 0);
    DT_CHECK_REG(d, DT_REG_STATUS, 0);
    dmatd_stop(d);
}

/*
 * Error paths (q35): every one checks the result registers and that no
 * memory was written that should not have been.
 */

static void test_err_bad_opcode(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dt_region(d, DT_PAGE);
    DtSeg seg = { base + 0x100, 64 };
    uint64_t list = dt_put_list(d, &seg, 1);
    g_autofree uint8_t *stream = g_malloc(64);
    uint64_t cmd;

    /* A valid list is programmed: a bad opcode must not use it. */
    dt_set_dst(d, list, 1);
    dt_set_src(d, list, 1);
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    cmd = dt_cmd(d, DT_OP_NONE);
    g_assert_cmpuint(cmd, ==, 1);
    dt_check_error(d, DT_ERR_BAD_OPCODE, DT_LIST_NONE, 0, 0, 0);
    DT_CHECK_REG64(d, DT_REG_CHECKSUM_LO, 0);
    g_assert_cmpuint(dt_check_log_no_data(d, cmd), ==, 0);
    dt_check_untouched(d, "opcode 0", base, DT_PAGE, DT_GUARD);

    /* Results of an earlier command are cleared by the next one. */
    dt_pattern(stream, DT_SEED, 0, 64);
    dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_ok(d, 64, dt_csum_buf(stream, 64));
    cmd = dt_cmd(d, 99);
    g_assert_cmpuint(cmd, ==, 3);
    dt_check_error(d, DT_ERR_BAD_OPCODE, DT_LIST_NONE, 0, 0, 0);
    DT_CHECK_REG64(d, DT_REG_CHECKSUM_LO, 0);
    g_assert_cmpuint(dt_check_log_no_data(d, cmd), ==, 0);

    /* ... mismatch results too. */
    dmatd_wr(d, DT_REG_SEED, DT_SEED + 1);
    dt_cmd(d, DT_OP_VERIFY_PATTERN);
    DT_CHECK_REG(d, DT_REG_MISMATCH_COUNT, 8);
    dt_cmd(d, DT_OP_MAX + 1);
    dt_check_error(d, DT_ERR_BAD_OPCODE, DT_LIST_NONE, 0, 0, 0);
    dt_check_image(d, "after bad opcodes", base, DT_PAGE, &seg, 1, stream,
                   DT_GUARD);
    dmatd_stop(d);
}

static void test_err_no_segments(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dt_region(d, DT_PAGE);
    DtSeg seg = { base + 0x100, 64 };
    uint64_t list = dt_put_list(d, &seg, 1);
    uint64_t cmd;

    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    dt_set_dst(d, list, 0);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_error(d, DT_ERR_NO_SEGMENTS, DT_LIST_DST, 0, list, 0);
    g_assert_cmpuint(dt_check_log_no_data(d, cmd), ==, 0);

    dt_cmd(d, DT_OP_FILL);
    dt_check_error(d, DT_ERR_NO_SEGMENTS, DT_LIST_DST, 0, list, 0);

    dt_set_src(d, list + 0x100, 0);
    dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_error(d, DT_ERR_NO_SEGMENTS, DT_LIST_SRC, 0, list + 0x100, 0);

    /* COPY checks the source list first. */
    dt_cmd(d, DT_OP_COPY);
    dt_check_error(d, DT_ERR_NO_SEGMENTS, DT_LIST_SRC, 0, list + 0x100, 0);
    dt_set_src(d, list, 1);
    cmd = dt_cmd(d, DT_OP_COPY);
    dt_check_error(d, DT_ERR_NO_SEGMENTS, DT_LIST_DST, 0, list, 0);
    g_assert_cmpuint(dt_check_log_no_data(d, cmd), ==, 1);

    /* A count of 0 is reported before a misaligned list. */
    dt_set_dst(d, list + 4, 0);
    dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_error(d, DT_ERR_NO_SEGMENTS, DT_LIST_DST, 0, list + 4, 0);

    dt_check_untouched(d, "no segments", base, DT_PAGE, DT_GUARD);
    dmatd_stop(d);
}

static void test_err_too_many_segs(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",max-segments=8", "");
    uint64_t base = dt_region(d, DT_PAGE);
    g_autofree uint8_t *stream = g_malloc(9 * 16);
    DtSeg segs[9];
    uint64_t list, cmd;
    int i;

    for (i = 0; i < 9; i++) {
        segs[i] = (DtSeg) { base + 0x100 + i * 0x20, 16 };
    }
    list = dt_put_list(d, segs, 9);
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    dt_set_dst(d, list, 9);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_error(d, DT_ERR_TOO_MANY_SEGS, DT_LIST_DST, 0, list, 0);
    g_assert_cmpuint(dt_check_log_no_data(d, cmd), ==, 0);
    dt_check_untouched(d, "too many segments", base, DT_PAGE, DT_GUARD);

    dt_set_src(d, list, 9);
    dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_error(d, DT_ERR_TOO_MANY_SEGS, DT_LIST_SRC, 0, list, 0);

    /* ... before a misaligned list. */
    dt_set_dst(d, list + 8, 9);
    dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_error(d, DT_ERR_TOO_MANY_SEGS, DT_LIST_DST, 0, list + 8, 0);

    /* Exactly max-segments is fine. */
    dt_set_dst(d, list, 8);
    dt_pattern(stream, DT_SEED, 0, 8 * 16);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_ok(d, 8 * 16, dt_csum_buf(stream, 8 * 16));
    dt_check_image(d, "max-segments", base, DT_PAGE, segs, 8, stream,
                   DT_GUARD);
    dt_check_log_single(d, cmd, "write-pattern", "dst", list, segs, 8);
    dmatd_stop(d);
}

static void test_err_list_align(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dt_region(d, DT_PAGE);
    DtSeg segs[2] = { { base + 0x100, 32 }, { base + 0x200, 32 } };
    uint64_t area = guest_alloc(&d->alloc, DT_PAGE);
    uint64_t cmd;
    int mis;

    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    for (mis = 1; mis < DT_SEG_ALIGN; mis += 7) {
        /* A list that would be valid where it is, but misaligned. */
        dt_put_list_at(d, area + mis, segs, 2);
        dt_set_dst(d, area + mis, 2);
        cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
        dt_check_error(d, DT_ERR_LIST_ALIGN, DT_LIST_DST, 0, area + mis, 0);
        g_assert_cmpuint(dt_check_log_no_data(d, cmd), ==, 0);

        dt_set_src(d, area + mis, 2);
        dt_cmd(d, DT_OP_VERIFY_PATTERN);
        dt_check_error(d, DT_ERR_LIST_ALIGN, DT_LIST_SRC, 0, area + mis, 0);
    }
    dt_check_untouched(d, "misaligned list", base, DT_PAGE, DT_GUARD);
    dmatd_stop(d);
}

static void test_err_list_read(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "-m 128M");
    uint64_t base = dt_region(d, DT_PAGE);
    DtSeg segs[2] = { { base + 0x100, 32 }, { base + 0x200, 32 } };
    const uint64_t straddle = DT_RAM_END_128M - DT_SEG_SIZE;
    g_autoptr(GArray) log = NULL;
    uint64_t cmd;

    /* The whole list in unassigned space. */
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    dt_set_dst(d, DT_UNASSIGNED, 2);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_error(d, DT_ERR_LIST_READ, DT_LIST_DST, 0, DT_UNASSIGNED, 0);
    log = dt_log_get(d, cmd);
    g_assert_cmpuint(log->len, ==, 1);
    dt_check_log(&g_array_index(log, DtLogEntry, 0), "write-pattern",
                 "dst-list", 0, "read", DT_UNASSIGNED, 2 * DT_SEG_SIZE, 0,
                 "decode-error");
    g_clear_pointer(&log, g_array_unref);

    /* Descriptor 0 in the last bytes of RAM, descriptor 1 past its end. */
    dt_put_list_at(d, straddle, segs, 1);
    dt_set_dst(d, straddle, 2);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_error(d, DT_ERR_LIST_READ, DT_LIST_DST, 1, DT_RAM_END_128M, 0);
    log = dt_log_get(d, cmd);
    g_assert_cmpuint(log->len, ==, 1);
    dt_check_log(&g_array_index(log, DtLogEntry, 0), "write-pattern",
                 "dst-list", 0, "read", straddle, 2 * DT_SEG_SIZE,
                 DT_SEG_SIZE, "decode-error");
    g_clear_pointer(&log, g_array_unref);

    dt_set_src(d, straddle, 2);
    dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_error(d, DT_ERR_LIST_READ, DT_LIST_SRC, 1, DT_RAM_END_128M, 0);

    /* One descriptor, ending exactly at 2^64: nothing decodes it. */
    dt_set_dst(d, 0xfffffffffffffff0ULL, 1);
    dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_error(d, DT_ERR_LIST_READ, DT_LIST_DST, 0,
                   0xfffffffffffffff0ULL, 0);

    dt_check_untouched(d, "unreadable list", base, DT_PAGE, DT_GUARD);
    dmatd_stop(d);
}

/* A two- or three-segment list whose last segment is @bad. */
static uint64_t dt_err_list(DmatdDev *d, uint64_t base, DtSeg bad, int n)
{
    DtSeg segs[3] = { { base + 0x100, 32 }, { base + 0x200, 32 }, bad };

    segs[n - 1] = bad;
    return dt_put_list(d, segs, n);
}

/* Start @op with the list as DST (or SRC for VERIFY), expect an error. */
static void dt_expect_seg_error(DmatdDev *d, uint32_t op, uint64_t list, int n,
                                uint32_t err, uint32_t seg, uint64_t addr)
{
    uint32_t which = op == DT_OP_VERIFY_PATTERN ? DT_LIST_SRC : DT_LIST_DST;
    uint64_t cmd;

    if (which == DT_LIST_SRC) {
        dt_set_src(d, list, n);
    } else {
        dt_set_dst(d, list, n);
    }
    cmd = dt_cmd(d, op);
    dt_check_error(d, err, which, seg, addr, 0);
    g_assert_cmpuint(dt_check_log_no_data(d, cmd), ==, 1);
}

static void test_err_seg_flags(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dt_region(d, DT_PAGE);
    uint64_t list;

    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    list = dt_err_list(d, base, (DtSeg) { base + 0x300, 32, 1 }, 3);
    dt_expect_seg_error(d, DT_OP_WRITE_PATTERN, list, 3, DT_ERR_SEG_FLAGS,
                        2, base + 0x300);
    dt_expect_seg_error(d, DT_OP_FILL, list, 3, DT_ERR_SEG_FLAGS, 2,
                        base + 0x300);
    dt_expect_seg_error(d, DT_OP_VERIFY_PATTERN, list, 3, DT_ERR_SEG_FLAGS,
                        2, base + 0x300);

    /* The top flag bit, in segment 0; flags come before a zero length. */
    list = dt_err_list(d, base, (DtSeg) { base + 0x400, 0, 0x80000000 }, 1);
    dt_expect_seg_error(d, DT_OP_WRITE_PATTERN, list, 1, DT_ERR_SEG_FLAGS,
                        0, base + 0x400);

    dt_check_untouched(d, "segment flags", base, DT_PAGE, DT_GUARD);
    dmatd_stop(d);
}

static void test_err_zero_length(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dt_region(d, DT_PAGE);
    uint64_t list;

    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    list = dt_err_list(d, base, (DtSeg) { base + 0x300, 0 }, 3);
    dt_expect_seg_error(d, DT_OP_WRITE_PATTERN, list, 3, DT_ERR_ZERO_LENGTH,
                        2, base + 0x300);
    dt_expect_seg_error(d, DT_OP_VERIFY_PATTERN, list, 3,
                        DT_ERR_ZERO_LENGTH, 2, base + 0x300);

    /* A zero length is reported before an address that would overflow. */
    list = dt_err_list(d, base, (DtSeg) { UINT64_MAX, 0 }, 2);
    dt_expect_seg_error(d, DT_OP_WRITE_PATTERN, list, 2, DT_ERR_ZERO_LENGTH,
                        1, UINT64_MAX);

    dt_check_untouched(d, "zero length", base, DT_PAGE, DT_GUARD);
    dmatd_stop(d);
}

static void test_err_addr_overflow(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dt_region(d, DT_PAGE);
    uint64_t list, cmd;

    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    list = dt_err_list(d, base, (DtSeg) { 0xfffffffffffff000ULL, 0x2000 },
                       2);
    dt_expect_seg_error(d, DT_OP_WRITE_PATTERN, list, 2,
                        DT_ERR_ADDR_OVERFLOW, 1, 0xfffffffffffff000ULL);
    dt_expect_seg_error(d, DT_OP_VERIFY_PATTERN, list, 2,
                        DT_ERR_ADDR_OVERFLOW, 1, 0xfffffffffffff000ULL);

    /* Wrapping by a single byte. */
    list = dt_err_list(d, base, (DtSeg) { UINT64_MAX, 2 }, 3);
    dt_expect_seg_error(d, DT_OP_WRITE_PATTERN, list, 3,
                        DT_ERR_ADDR_OVERFLOW, 2, UINT64_MAX);

    /* A list whose end wraps. */
    dt_set_dst(d, 0xfffffffffffffff0ULL, 2);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_error(d, DT_ERR_ADDR_OVERFLOW, DT_LIST_DST, 0,
                   0xfffffffffffffff0ULL, 0);
    g_assert_cmpuint(dt_check_log_no_data(d, cmd), ==, 0);

    dt_check_untouched(d, "address overflow", base, DT_PAGE, DT_GUARD);
    dmatd_stop(d);
}

static void test_err_addr_width(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",addr-bits=32", "");
    uint64_t base = dt_region(d, DT_PAGE);
    uint64_t list;

    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    list = dt_err_list(d, base, (DtSeg) { 0x100000000ULL, 16 }, 2);
    dt_expect_seg_error(d, DT_OP_WRITE_PATTERN, list, 2, DT_ERR_ADDR_WIDTH,
                        1, 0x100000000ULL);
    dt_expect_seg_error(d, DT_OP_VERIFY_PATTERN, list, 2, DT_ERR_ADDR_WIDTH,
                        1, 0x100000000ULL);

    /* Starting below 4 GiB but with the last byte above. */
    list = dt_err_list(d, base, (DtSeg) { 0xfffffff8ULL, 16 }, 3);
    dt_expect_seg_error(d, DT_OP_WRITE_PATTERN, list, 3, DT_ERR_ADDR_WIDTH,
                        2, 0xfffffff8ULL);

    /* Overflow is checked before the width. */
    list = dt_err_list(d, base, (DtSeg) { UINT64_MAX, 2 }, 2);
    dt_expect_seg_error(d, DT_OP_WRITE_PATTERN, list, 2,
                        DT_ERR_ADDR_OVERFLOW, 1, UINT64_MAX);

    dt_check_untouched(d, "address width", base, DT_PAGE, DT_GUARD);
    dmatd_stop(d);
}

static void test_err_list_width(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",addr-bits=32", "");
    uint64_t base = dt_region(d, DT_PAGE);
    uint64_t cmd;

    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    dt_set_dst(d, 0x100000000ULL, 1);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_error(d, DT_ERR_ADDR_WIDTH, DT_LIST_DST, 0, 0x100000000ULL, 0);
    g_assert_cmpuint(dt_check_log_no_data(d, cmd), ==, 0);

    /* The list's last byte is above 4 GiB. */
    dt_set_src(d, 0xfffffff0ULL, 2);
    cmd = dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_error(d, DT_ERR_ADDR_WIDTH, DT_LIST_SRC, 0, 0xfffffff0ULL, 0);
    g_assert_cmpuint(dt_check_log_no_data(d, cmd), ==, 0);

    dt_check_untouched(d, "list width", base, DT_PAGE, DT_GUARD);
    dmatd_stop(d);
}

static void test_err_xfer_too_large(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",max-transfer=8192", "");
    uint64_t base = dt_region(d, 4 * DT_PAGE);
    DtSeg segs[2] = { { base + 0x10, 4097 }, { base + 0x2000, 4097 } };
    g_autofree uint8_t *stream = g_malloc(8192);
    uint64_t list, other, cmd;

    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    list = dt_put_list(d, segs, 2);
    dt_expect_seg_error(d, DT_OP_WRITE_PATTERN, list, 2,
                        DT_ERR_XFER_TOO_LARGE, 1, base + 0x2000);
    dt_expect_seg_error(d, DT_OP_VERIFY_PATTERN, list, 2,
                        DT_ERR_XFER_TOO_LARGE, 1, base + 0x2000);

    /* COPY: the source list is too large, the destination fine. */
    segs[1].len = 4095;
    other = dt_put_list(d, segs, 2);
    dt_set_src(d, list, 2);
    dt_set_dst(d, other, 2);
    cmd = dt_cmd(d, DT_OP_COPY);
    dt_check_error(d, DT_ERR_XFER_TOO_LARGE, DT_LIST_SRC, 1, base + 0x2000,
                   0);
    g_assert_cmpuint(dt_check_log_no_data(d, cmd), ==, 1);
    dt_check_untouched(d, "transfer too large", base, 4 * DT_PAGE,
                       DT_GUARD);

    /* Exactly max-transfer is fine. */
    segs[0].len = 4096;
    segs[1].len = 4096;
    list = dt_put_list(d, segs, 2);
    dt_set_dst(d, list, 2);
    dt_pattern(stream, DT_SEED, 0, 8192);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_ok(d, 8192, dt_csum_buf(stream, 8192));
    dt_check_image(d, "max-transfer", base, 4 * DT_PAGE, segs, 2, stream,
                   DT_GUARD);
    dt_check_log_single(d, cmd, "write-pattern", "dst", list, segs, 2);
    dmatd_stop(d);
}

static void test_err_length_mismatch(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t src_base = dt_region(d, DT_PAGE);
    uint64_t dst_base = dt_region(d, DT_PAGE);
    DtSeg src[2] = { { src_base + 0x10, 100 }, { src_base + 0x200, 28 } };
    DtSeg dst[1] = { { dst_base + 0x10, 127 } };
    uint64_t src_list = dt_put_list(d, src, 2);
    uint64_t dst_list, cmd;
    g_autoptr(GArray) log = NULL;
    int extra;

    dt_set_src(d, src_list, 2);
    /* One byte short, then one byte long. */
    for (extra = 0; extra < 3; extra += 2) {
        dst[0].len = 127 + extra;
        dst_list = dt_put_list(d, dst, 1);
        dt_set_dst(d, dst_list, 1);
        cmd = dt_cmd(d, DT_OP_COPY);
        dt_check_error(d, DT_ERR_LENGTH_MISMATCH, DT_LIST_NONE, 0, 0, 0);
        log = dt_log_get(d, cmd);
        g_assert_cmpuint(log->len, ==, 2);
        dt_check_log(&g_array_index(log, DtLogEntry, 0), "copy", "src-list",
                     0, "read", src_list, 2 * DT_SEG_SIZE, 2 * DT_SEG_SIZE,
                     "ok");
        dt_check_log(&g_array_index(log, DtLogEntry, 1), "copy", "dst-list",
                     0, "read", dst_list, DT_SEG_SIZE, DT_SEG_SIZE, "ok");
        g_clear_pointer(&log, g_array_unref);
    }
    dt_check_untouched(d, "copy length mismatch", dst_base, DT_PAGE,
                       DT_GUARD);
    dt_check_untouched(d, "copy source", src_base, DT_PAGE, DT_GUARD);
    dmatd_stop(d);
}

/*
 * A data-phase failure of @op at segment @seg of @list ("src"/"dst").
 * The segments before it are logged as done, the failing one with
 * @done bytes and @result, the ones after it not at all.
 */
static void dt_check_log_failed(DmatdDev *d, uint64_t cmd, const char *op,
                                const char *list, const DtSeg *segs,
                                uint32_t seg, uint64_t done,
                                const char *result)
{
    g_autoptr(GArray) log = dt_log_get(d, cmd);
    const char *dir = !strcmp(list, "dst") ? "write" : "read";
    uint32_t seen = 0;
    guint i;

    for (i = 0; i < log->len; i++) {
        DtLogEntry *e = &g_array_index(log, DtLogEntry, i);

        if (strcmp(e->list, list)) {
            continue;
        }
        g_assert_cmpuint(seen, <=, seg);
        dt_check_log(e, op, list, seen, dir, segs[seen].addr,
                     segs[seen].len, seen < seg ? segs[seen].len : done,
                     seen < seg ? "ok" : result);
        seen++;
    }
    g_assert_cmpuint(seen, ==, seg + 1);
}

static void test_err_dma_unassigned(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dt_region(d, DT_PAGE);
    DtSeg segs[3] = {
        { base + 0x10, 100 }, { DT_UNASSIGNED, 64 }, { base + 0x200, 8 },
    };
    g_autofree uint8_t *stream = g_malloc(100);
    uint64_t list, cmd;

    /* WRITE: segment 0 is written, segment 2 not. */
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    list = dt_put_list(d, segs, 3);
    dt_set_dst(d, list, 3);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_error(d, DT_ERR_DMA_UNASSIGNED, DT_LIST_DST, 1, DT_UNASSIGNED,
                   100);
    dt_pattern(stream, DT_SEED, 0, 100);
    dt_check_image(d, "write to unassigned", base, DT_PAGE, segs, 1, stream,
                   DT_GUARD);
    dt_check_log_failed(d, cmd, "write-pattern", "dst", segs, 1, 0,
                        "decode-error");

    /* VERIFY reads segment 0 (good data) and fails on segment 1. */
    dt_set_src(d, list, 3);
    cmd = dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_error(d, DT_ERR_DMA_UNASSIGNED, DT_LIST_SRC, 1, DT_UNASSIGNED,
                   100);
    dt_check_log_failed(d, cmd, "verify-pattern", "src", segs, 1, 0,
                        "decode-error");

    /* A segment that ends exactly at 2^64 is valid; nothing decodes it. */
    qtest_memset(d->qts, base, DT_GUARD, DT_PAGE);
    segs[1] = (DtSeg) { 0xfffffffffffff000ULL, 0x1000 };
    list = dt_put_list(d, segs, 3);
    dt_set_dst(d, list, 3);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_error(d, DT_ERR_DMA_UNASSIGNED, DT_LIST_DST, 1,
                   0xfffffffffffff000ULL, 100);
    dt_check_image(d, "write up to 2^64", base, DT_PAGE, segs, 1, stream,
                   DT_GUARD);
    dt_check_log_failed(d, cmd, "write-pattern", "dst", segs, 1, 0,
                        "decode-error");
    dmatd_stop(d);
}

static void test_err_dma_unassigned_copy(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t src_base = dt_region(d, DT_PAGE);
    uint64_t dst_base = dt_region(d, DT_PAGE);
    DtSeg src[2] = { { src_base + 0x10, 40 }, { src_base + 0x100, 24 } };
    DtSeg dst[2] = { { dst_base + 0x10, 40 }, { DT_UNASSIGNED, 24 } };
    g_autofree uint8_t *stream = g_malloc(64);
    uint64_t src_list, dst_list, cmd;
    int i;

    for (i = 0; i < 64; i++) {
        stream[i] = 0x30 + i;
    }
    dt_scatter(d, src, 2, stream);
    src_list = dt_put_list(d, src, 2);
    dst_list = dt_put_list(d, dst, 2);

    /* The destination's segment 1 fails, its segment 0 was copied. */
    dt_set_src(d, src_list, 2);
    dt_set_dst(d, dst_list, 2);
    cmd = dt_cmd(d, DT_OP_COPY);
    dt_check_error(d, DT_ERR_DMA_UNASSIGNED, DT_LIST_DST, 1, DT_UNASSIGNED,
                   40);
    dt_check_image(d, "copy to unassigned", dst_base, DT_PAGE, dst, 1,
                   stream, DT_GUARD);
    dt_check_log_failed(d, cmd, "copy", "dst", dst, 1, 0, "decode-error");

    /* The source's segment 1 fails: only its segment 0 reaches DST. */
    qtest_memset(d->qts, dst_base, DT_GUARD, DT_PAGE);
    src[1].addr = DT_UNASSIGNED;
    dst[1].addr = dst_base + 0x100;
    src_list = dt_put_list(d, src, 2);
    dst_list = dt_put_list(d, dst, 2);
    dt_set_src(d, src_list, 2);
    dt_set_dst(d, dst_list, 2);
    cmd = dt_cmd(d, DT_OP_COPY);
    dt_check_error(d, DT_ERR_DMA_UNASSIGNED, DT_LIST_SRC, 1, DT_UNASSIGNED,
                   40);
    dt_check_image(d, "copy from unassigned", dst_base, DT_PAGE, dst, 1,
                   stream, DT_GUARD);
    dt_check_log_failed(d, cmd, "copy", "src", src, 1, 0, "decode-error");
    dmatd_stop(d);
}

static void test_err_dma_own_bar(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dt_region(d, DT_PAGE);
    uint64_t target = d->bar.addr + 0x800;
    DtSeg segs[3] = {
        { base + 0x10, 32 }, { target, 16 }, { base + 0x200, 8 },
    };
    g_autofree uint8_t *stream = g_malloc(32);
    uint64_t list, cmd;
    g_autoptr(GArray) log = NULL;

    /* Writes into the device's own registers are refused. */
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    list = dt_put_list(d, segs, 3);
    dt_set_dst(d, list, 3);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_error(d, DT_ERR_DMA_ACCESS, DT_LIST_DST, 1, target, 32);
    dt_pattern(stream, DT_SEED, 0, 32);
    dt_check_image(d, "write to own BAR", base, DT_PAGE, segs, 1, stream,
                   DT_GUARD);
    dt_check_log_failed(d, cmd, "write-pattern", "dst", segs, 1, 0,
                        "access-error");
    DT_CHECK_REG(d, DT_REG_ID, DMA_TESTDEV_ID_VALUE);
    DT_CHECK_REG(d, DT_REG_SEED, DT_SEED);

    /* So are reads, here of the ID register. */
    segs[1].addr = d->bar.addr + DT_REG_ID;
    list = dt_put_list(d, segs, 3);
    dt_set_src(d, list, 3);
    cmd = dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_error(d, DT_ERR_DMA_ACCESS, DT_LIST_SRC, 1,
                   d->bar.addr + DT_REG_ID, 32);
    dt_check_log_failed(d, cmd, "verify-pattern", "src", segs, 1, 0,
                        "access-error");

    /* And a segment list in the BAR cannot be read. */
    dt_set_dst(d, target, 1);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_error(d, DT_ERR_LIST_READ, DT_LIST_DST, 0, target, 0);
    log = dt_log_get(d, cmd);
    g_assert_cmpuint(log->len, ==, 1);
    dt_check_log(&g_array_index(log, DtLogEntry, 0), "write-pattern",
                 "dst-list", 0, "read", target, DT_SEG_SIZE, 0,
                 "access-error");
    dmatd_stop(d);
}

static void test_err_dma_rom(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dt_region(d, DT_PAGE);
    DtSeg segs[2] = { { base + 0x10, 32 }, { DT_ROM_PAGE + 0x80, 64 } };
    uint8_t rom_before[256], rom_after[256];
    g_autofree uint8_t *stream = g_malloc(32);
    uint64_t list, cmd;

    /* The contract: a write the ROM refuses is an access error. */
    qtest_memread(d->qts, DT_ROM_PAGE, rom_before, sizeof(rom_before));
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    list = dt_put_list(d, segs, 2);
    dt_set_dst(d, list, 2);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_error(d, DT_ERR_DMA_ACCESS, DT_LIST_DST, 1, DT_ROM_PAGE + 0x80,
                   32);
    dt_check_log_failed(d, cmd, "write-pattern", "dst", segs, 1, 0,
                        "access-error");
    dt_pattern(stream, DT_SEED, 0, 32);
    dt_check_image(d, "before ROM write", base, DT_PAGE, segs, 1, stream,
                   DT_GUARD);
    qtest_memread(d->qts, DT_ROM_PAGE, rom_after, sizeof(rom_after));
    g_assert_true(!memcmp(rom_before, rom_after, sizeof(rom_before)));

    /* Reading the ROM is fine. */
    dt_set_src(d, list, 2);
    dt_cmd(d, DT_OP_VERIFY_PATTERN);
    DT_CHECK_REG(d, DT_REG_ERROR, DT_ERR_NONE);
    DT_CHECK_REG64(d, DT_REG_BYTES_DONE_LO, 96);
    dmatd_stop(d);
}

/* A segment that starts in RAM and runs past its end (q35 and pc). */
static void test_err_past_ram_end(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "-m 128M");
    uint64_t base = dt_region(d, DT_PAGE);
    const uint64_t tail = DT_RAM_END_128M - 0x300;
    DtSeg segs[3] = {
        { base + 0x10, 64 }, { tail, 0x400 }, { base + 0x200, 8 },
    };
    g_autofree uint8_t *stream = g_malloc(64 + 0x300);
    uint64_t list, cmd;

    qtest_memset(d->qts, tail - DT_PAGE, DT_GUARD, DT_PAGE + 0x300);
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    list = dt_put_list(d, segs, 3);
    dt_set_dst(d, list, 3);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_error(d, DT_ERR_DMA_UNASSIGNED, DT_LIST_DST, 1,
                   DT_RAM_END_128M, 64 + 0x300);
    dt_pattern(stream, DT_SEED, 0, 64 + 0x300);
    dt_check_image(d, "segment 0", base, DT_PAGE, segs, 1, stream,
                   DT_GUARD);
    /* The part of segment 1 in RAM was written, up to the last byte. */
    dt_check_image(d, "end of RAM", tail - DT_PAGE, DT_PAGE + 0x300,
                   (DtSeg[]) { { tail, 0x300 } }, 1, stream + 64, DT_GUARD);
    dt_check_log_failed(d, cmd, "write-pattern", "dst", segs, 1, 0x300,
                        "decode-error");

    /* VERIFY reads to the end of RAM, the data there is good. */
    dt_set_src(d, list, 3);
    cmd = dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_error(d, DT_ERR_DMA_UNASSIGNED, DT_LIST_SRC, 1,
                   DT_RAM_END_128M, 64 + 0x300);
    dt_check_log_failed(d, cmd, "verify-pattern", "src", segs, 1, 0x300,
                        "decode-error");
    dmatd_stop(d);
}

static void test_err_bus_master_off(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dt_region(d, DT_PAGE);
    DtSeg seg = { base + 0x10, 64 };
    uint64_t list = dt_put_list(d, &seg, 1);
    g_autofree uint8_t *stream = g_malloc(64);
    g_autoptr(GArray) log = NULL;
    uint16_t cmdreg;
    uint64_t cmd;

    cmdreg = qpci_config_readw(d->dev, PCI_COMMAND);
    qpci_config_writew(d->dev, PCI_COMMAND, cmdreg & ~PCI_COMMAND_MASTER);

    /* No DMA at all: already the segment list cannot be read. */
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    dt_set_dst(d, list, 1);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_error(d, DT_ERR_LIST_READ, DT_LIST_DST, 0, list, 0);
    log = dt_log_get(d, cmd);
    g_assert_cmpuint(log->len, ==, 1);
    dt_check_log(&g_array_index(log, DtLogEntry, 0), "write-pattern",
                 "dst-list", 0, "read", list, DT_SEG_SIZE, 0,
                 "decode-error");
    dt_check_untouched(d, "bus master off", base, DT_PAGE, DT_GUARD);

    /* Bus master back on, all is well. */
    qpci_config_writew(d->dev, PCI_COMMAND, cmdreg);
    dt_pattern(stream, DT_SEED, 0, 64);
    cmd = dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_ok(d, 64, dt_csum_buf(stream, 64));
    dt_check_image(d, "bus master on", base, DT_PAGE, &seg, 1, stream,
                   DT_GUARD);
    dt_check_log_single(d, cmd, "write-pattern", "dst", list, &seg, 1);
    dmatd_stop(d);
}

/*
 * Big commands (q35)
 */

/* 65536 segments of 8 or 16 bytes, scattered in shuffled order. */
static void test_big_max_segments(const void *data)
{
    const uint32_t n = 65536;
    const uint64_t region = (uint64_t)n * 32;
    DmatdDev *d = dmatd_start(data, "", "");
    g_autoptr(GRand) rand = g_rand_new_with_seed(0x65536);
    g_autofree uint32_t *slot = g_new(uint32_t, n);
    g_autofree DtSeg *segs = g_new(DtSeg, n);
    g_autofree uint8_t *stream = NULL;
    uint64_t base = dt_region(d, region);
    uint64_t total, list;
    uint32_t i, j, t;

    for (i = 0; i < n; i++) {
        slot[i] = i;
    }
    for (i = n - 1; i > 0; i--) {
        j = g_rand_int_range(rand, 0, i + 1);
        t = slot[i];
        slot[i] = slot[j];
        slot[j] = t;
    }
    for (i = 0; i < n; i++) {
        segs[i] = (DtSeg) {
            .addr = base + (uint64_t)slot[i] * 32 + (i * 5) % 17,
            .len = (i & 1) ? 8 : 16,
        };
    }
    total = dt_total(segs, n);
    stream = g_malloc(total);
    dt_pattern(stream, DT_SEED, 0, total);

    list = dt_put_list(d, segs, n);
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    dt_set_dst(d, list, n);
    dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_ok(d, total, dt_csum_buf(stream, total));
    dt_check_image(d, "65536 segments", base, region, segs, n, stream,
                   DT_GUARD);

    dt_set_src(d, list, n);
    dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_ok(d, total, dt_csum_buf(stream, total));

    /* One more than the default max-segments. */
    dt_set_dst(d, list, n + 1);
    dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_error(d, DT_ERR_TOO_MANY_SEGS, DT_LIST_DST, 0, list, 0);
    dmatd_stop(d);
}

/* 64 MiB in 16 segments, checked by checksum and spot reads. */
static void test_big_64m(const void *data)
{
    const uint64_t total = 64 * MiB;
    const uint64_t stride = 4 * MiB + 64 * KiB;
    DmatdDev *d = dmatd_start(data, "", "-m 256M");
    uint64_t region = 16 * stride;
    uint64_t base = dt_region(d, region);
    uint64_t list, off, exp, got, addr;
    DtSeg segs[16];
    uint8_t buf[16];
    int i, j;

    for (i = 0; i < 16; i++) {
        segs[i] = (DtSeg) { base + i * stride + 16 + 3 * i, 4 * MiB };
    }
    segs[0].len -= 3;
    segs[15].len += 3;
    g_assert_cmpuint(dt_total(segs, 16), ==, total);

    list = dt_put_list(d, segs, 16);
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    dt_set_dst(d, list, 16);
    dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_ok(d, total, dt_pattern_csum(DT_SEED, total));
    dt_check_log_single(d, dmatd_rd64(d, DT_REG_CMD_SEQ_LO), "write-pattern",
                        "dst", list, segs, 16);

    /* Each segment's first and last bytes, and the guards around it. */
    for (i = 0, off = 0; i < 16; off += segs[i].len, i++) {
        uint8_t exp_buf[16];

        qtest_memread(d->qts, segs[i].addr - 4, buf, 12);
        memset(exp_buf, DT_GUARD, 4);
        dt_pattern(exp_buf + 4, DT_SEED, off, 8);
        for (j = 0; j < 12; j++) {
            dt_check_u64("segment start", segs[i].addr - 4 + j, exp_buf[j],
                         buf[j]);
        }
        qtest_memread(d->qts, segs[i].addr + segs[i].len - 8, buf, 12);
        dt_pattern(exp_buf, DT_SEED, off + segs[i].len - 8, 8);
        memset(exp_buf + 8, DT_GUARD, 4);
        for (j = 0; j < 12; j++) {
            dt_check_u64("segment end", segs[i].addr + segs[i].len - 8 + j,
                         exp_buf[j], buf[j]);
        }
    }

    dt_set_src(d, list, 16);
    dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_ok(d, total, dt_pattern_csum(DT_SEED, total));

    /* A bad word deep inside segment 9 is found. */
    off = 9 * 4 * MiB + 123456 * 8;
    addr = segs[9].addr + (off - (9 * 4 * MiB - 3));
    exp = dt_pattern_word(DT_SEED, off);
    got = ~exp;
    /* The transfer offset is word-aligned, the address is not. */
    qtest_memread(d->qts, addr, buf, 8);
    dt_check_u64("word to flip", addr, exp, ldq_le_p(buf));
    stq_le_p(buf, got);
    qtest_memwrite(d->qts, addr, buf, 8);
    dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_mismatch(d, total, 1, 9, off, exp, got);
    dmatd_stop(d);
}

/*
 * A 1 GiB command (the default max-transfer) in 256 segments that all
 * cover the same 4 MiB of guest memory.
 */
static void test_big_1g(const void *data)
{
    const uint64_t chunk = 4 * MiB;
    const uint32_t n = GiB / chunk;
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t base = dt_region(d, chunk + 2 * DT_PAGE) + DT_PAGE;
    g_autofree DtSeg *segs = g_new(DtSeg, n + 1);
    uint64_t list, csum, w, off;
    uint32_t i;

    for (i = 0; i < n; i++) {
        segs[i] = (DtSeg) { base, chunk };
    }
    segs[n] = (DtSeg) { base, 1 };
    list = dt_put_list(d, segs, n + 1);

    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    dt_set_dst(d, list, n);
    dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_ok(d, GiB, dt_pattern_csum(DT_SEED, GiB));
    /* The memory holds the last pass. */
    for (off = 0; off < chunk; off += chunk / 4 - 8) {
        dt_check_u64("last pass", base + off,
                     dt_pattern_word(DT_SEED, GiB - chunk + off),
                     qtest_readq(d->qts, base + off));
    }
    dt_check_untouched(d, "below 1 GiB region", base - DT_PAGE, DT_PAGE,
                       DT_GUARD);
    dt_check_untouched(d, "above 1 GiB region", base + chunk, DT_PAGE,
                       DT_GUARD);

    /* One byte more is too much, and nothing is written. */
    dmatd_wr(d, DT_REG_SEED, DT_SEED + 1);
    dt_set_dst(d, list, n + 1);
    dt_cmd(d, DT_OP_WRITE_PATTERN);
    dt_check_error(d, DT_ERR_XFER_TOO_LARGE, DT_LIST_DST, n, base, 0);
    dt_check_u64("after too large", base,
                 dt_pattern_word(DT_SEED, GiB - chunk),
                 qtest_readq(d->qts, base));

    /*
     * VERIFY over the same list: only the last pass matches, so every
     * word of the 255 others is bad.
     */
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    dt_set_src(d, list, n);
    dt_cmd(d, DT_OP_VERIFY_PATTERN);
    dt_check_mismatch(d, GiB, (n - 1) * (chunk / 8), 0, 0,
                      dt_pattern_word(DT_SEED, 0),
                      dt_pattern_word(DT_SEED, GiB - chunk));
    csum = DT_CSUM_INIT;
    for (i = 0; i < n; i++) {
        for (w = 0; w < chunk; w += 8) {
            csum = dt_csum_word(csum,
                                dt_pattern_word(DT_SEED, GiB - chunk + w));
        }
    }
    DT_CHECK_REG64(d, DT_REG_CHECKSUM_LO, csum);
    dmatd_stop(d);
}

/*
 * Interrupts (q35 and pc)
 *
 * MSI and MSI-X messages are memory writes: the tests point them at guest
 * RAM and watch the data word arrive, so each vector is told apart by its
 * address or data.  INTx is seen in PCI_STATUS_INTERRUPT, which mirrors
 * the function's INTx level.
 */

#define DT_MSI_DATA         0x4a00u

static bool dt_intx_level(DmatdDev *d)
{
    return qpci_config_readw(d->dev, PCI_STATUS) & PCI_STATUS_INTERRUPT;
}

/* Run a one-page WRITE_PATTERN through the registers. */
static void dt_quick_cmd(DmatdDev *d, uint64_t list)
{
    dt_set_dst(d, list, 1);
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    dt_cmd(d, DT_OP_WRITE_PATTERN);
    DT_CHECK_REG(d, DT_REG_STATUS, DT_STATUS_DONE);
}

static uint64_t dt_quick_list(DmatdDev *d)
{
    DtSeg seg = { dt_region(d, DT_PAGE), DT_PAGE };

    return dt_put_list(d, &seg, 1);
}

static void test_intr_intx(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t list = dt_quick_list(d);
    uint32_t info = dmatd_rd(d, DT_REG_INTR_INFO);

    g_assert_cmpuint(qpci_config_readb(d->dev, PCI_INTERRUPT_PIN), ==, 1);
    g_assert_cmpuint(DT_INTR_INFO_MSI(info), ==, 8);
    g_assert_cmpuint(DT_INTR_INFO_MSIX(info), ==, 8);
    g_assert_cmpuint(DT_INTR_INFO_MODE(info), ==, DT_INTR_MODE_INTX);

    /* Latched but not enabled: no interrupt. */
    dt_quick_cmd(d, list);
    DT_CHECK_REG(d, DT_REG_INTR_STATUS, DT_INTR_CMD_DONE);
    g_assert_false(dt_intx_level(d));

    /* Enabling a latched cause asserts the level at once. */
    dmatd_wr(d, DT_REG_INTR_ENABLE, DT_INTR_CMD_DONE);
    g_assert_true(dt_intx_level(d));
    dmatd_wr(d, DT_REG_INTR_STATUS, DT_INTR_CMD_DONE);
    DT_CHECK_REG(d, DT_REG_INTR_STATUS, 0);
    g_assert_false(dt_intx_level(d));

    /* A new command asserts it again; a wrong acknowledge does not clear. */
    dt_quick_cmd(d, list);
    g_assert_true(dt_intx_level(d));
    dmatd_wr(d, DT_REG_INTR_STATUS, DT_INTR_QUEUE_CMPL);
    g_assert_true(dt_intx_level(d));
    dmatd_wr(d, DT_REG_INTR_ENABLE, 0);
    g_assert_false(dt_intx_level(d));
    dmatd_wr(d, DT_REG_INTR_ENABLE, DT_INTR_CMD_DONE);
    g_assert_true(dt_intx_level(d));
    dmatd_wr(d, DT_REG_INTR_STATUS, DT_INTR_CMD_DONE);
    g_assert_false(dt_intx_level(d));
    dmatd_stop(d);
}

/* Program the MSI capability: @nvec vectors (a power of 2) at @addr. */
static void dt_msi_enable(DmatdDev *d, uint64_t addr, unsigned nvec)
{
    uint8_t cap = dmatd_find_cap(d->dev, PCI_CAP_ID_MSI);
    uint16_t flags;

    g_assert_cmpuint(cap, !=, 0);
    flags = qpci_config_readw(d->dev, cap + PCI_MSI_FLAGS);
    g_assert_true(flags & PCI_MSI_FLAGS_64BIT);
    g_assert_true(flags & PCI_MSI_FLAGS_MASKBIT);
    g_assert_cmpuint((flags & PCI_MSI_FLAGS_QMASK) >> 1, ==, 3);
    qpci_config_writel(d->dev, cap + PCI_MSI_ADDRESS_LO, addr);
    qpci_config_writel(d->dev, cap + PCI_MSI_ADDRESS_HI, addr >> 32);
    qpci_config_writew(d->dev, cap + PCI_MSI_DATA_64, DT_MSI_DATA);
    flags &= ~PCI_MSI_FLAGS_QSIZE;
    flags |= (ctz32(nvec) << 4) | PCI_MSI_FLAGS_ENABLE;
    qpci_config_writew(d->dev, cap + PCI_MSI_FLAGS, flags);
}

static void dt_msi_mask(DmatdDev *d, uint32_t mask)
{
    uint8_t cap = dmatd_find_cap(d->dev, PCI_CAP_ID_MSI);

    qpci_config_writel(d->dev, cap + PCI_MSI_MASK_64, mask);
}

static uint32_t dt_msi_pending(DmatdDev *d)
{
    uint8_t cap = dmatd_find_cap(d->dev, PCI_CAP_ID_MSI);

    return qpci_config_readl(d->dev, cap + PCI_MSI_PENDING_64);
}

static void test_intr_msi(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t list = dt_quick_list(d);
    uint64_t msg = guest_alloc(&d->alloc, 4);
    unsigned v;

    dt_msi_enable(d, msg, 8);
    g_assert_cmpuint(DT_INTR_INFO_MODE(dmatd_rd(d, DT_REG_INTR_INFO)), ==,
                     DT_INTR_MODE_MSI);
    dmatd_wr(d, DT_REG_INTR_ENABLE, DT_INTR_CMD_DONE);

    /* Every vector delivers its own data word; INTx stays quiet. */
    for (v = 0; v < 8; v++) {
        qtest_writel(d->qts, msg, 0);
        dmatd_wr(d, DT_REG_INTR_VECTOR, v);
        dt_quick_cmd(d, list);
        g_assert_cmphex(qtest_readl(d->qts, msg), ==, DT_MSI_DATA | v);
        g_assert_false(dt_intx_level(d));
    }
    DT_CHECK_REG(d, DT_REG_INTR_STATUS, DT_INTR_CMD_DONE);

    /* A masked vector becomes pending and is delivered on unmask. */
    qtest_writel(d->qts, msg, 0);
    dt_msi_mask(d, 1u << 5);
    dmatd_wr(d, DT_REG_INTR_VECTOR, 5);
    dt_quick_cmd(d, list);
    g_assert_cmphex(qtest_readl(d->qts, msg), ==, 0);
    g_assert_cmphex(dt_msi_pending(d), ==, 1u << 5);
    dt_msi_mask(d, 0);
    g_assert_cmphex(qtest_readl(d->qts, msg), ==, DT_MSI_DATA | 5);
    g_assert_cmphex(dt_msi_pending(d), ==, 0);

    /* Only 2 vectors granted: vector 5 falls back to 0, and says so. */
    dt_msi_enable(d, msg, 2);
    qtest_writel(d->qts, msg, 0);
    dmatd_wr(d, DT_REG_INTR_STATUS, DT_INTR_STATUS_MASK);
    dt_quick_cmd(d, list);
    g_assert_cmphex(qtest_readl(d->qts, msg), ==, DT_MSI_DATA);
    DT_CHECK_REG(d, DT_REG_INTR_STATUS,
                 DT_INTR_CMD_DONE | DT_INTR_VECTOR_FALLBACK);
    dmatd_stop(d);
}

/* MSI-X through BAR1, with the tests' own view of the table. */
static uint32_t dt_msix_pba_off(DmatdDev *d)
{
    uint32_t pba = qpci_config_readl(d->dev, dmatd_msix_cap(d) + PCI_MSIX_PBA);

    g_assert_cmpuint(pba & PCI_MSIX_FLAGS_BIRMASK, ==, 1);
    return pba & ~PCI_MSIX_FLAGS_BIRMASK;
}

static void dt_msix_enable(DmatdDev *d)
{
    uint8_t cap = dmatd_msix_cap(d);

    g_assert_cmpuint((qpci_config_readw(d->dev, cap + PCI_MSIX_FLAGS) &
                      PCI_MSIX_FLAGS_QSIZE) + 1, ==, 8);
    dmatd_msix_enable(d);
}

static void test_intr_msix(const void *data)
{
    DmatdDev *d = dmatd_start(data, "", "");
    uint64_t list = dt_quick_list(d);
    uint64_t msg = guest_alloc(&d->alloc, 8 * 4);
    uint32_t pba = dt_msix_pba_off(d);
    unsigned v, w;

    /* MSI is on as well: MSI-X takes precedence. */
    dt_msi_enable(d, msg, 8);
    for (v = 0; v < 8; v++) {
        dmatd_msix_vector(d, v, msg + v * 4, 0xc0de0000 | v, false);
    }
    dt_msix_enable(d);
    g_assert_cmpuint(DT_INTR_INFO_MODE(dmatd_rd(d, DT_REG_INTR_INFO)), ==,
                     DT_INTR_MODE_MSIX);
    dmatd_wr(d, DT_REG_INTR_ENABLE, DT_INTR_CMD_DONE);

    for (v = 0; v < 8; v++) {
        qtest_memset(d->qts, msg, 0, 8 * 4);
        dmatd_wr(d, DT_REG_INTR_VECTOR, v);
        dt_quick_cmd(d, list);
        for (w = 0; w < 8; w++) {
            g_assert_cmphex(qtest_readl(d->qts, msg + w * 4), ==,
                            w == v ? 0xc0de0000 | v : 0);
        }
        g_assert_false(dt_intx_level(d));
    }

    /* A masked vector sets its pending bit and fires on unmask. */
    qtest_memset(d->qts, msg, 0, 8 * 4);
    dmatd_msix_vector(d, 3, msg + 3 * 4, 0xc0de0003, true);
    dmatd_wr(d, DT_REG_INTR_VECTOR, 3);
    dt_quick_cmd(d, list);
    g_assert_cmphex(qtest_readl(d->qts, msg + 3 * 4), ==, 0);
    g_assert_cmphex(qpci_io_readl(d->dev, d->msix_bar, pba), ==, 1u << 3);
    dmatd_msix_vector(d, 3, msg + 3 * 4, 0xc0de0003, false);
    g_assert_cmphex(qtest_readl(d->qts, msg + 3 * 4), ==, 0xc0de0003);
    g_assert_cmphex(qpci_io_readl(d->dev, d->msix_bar, pba), ==, 0);

    /* A vector past the table falls back to vector 0. */
    qtest_memset(d->qts, msg, 0, 8 * 4);
    dmatd_wr(d, DT_REG_INTR_VECTOR, 20);
    dt_quick_cmd(d, list);
    g_assert_cmphex(qtest_readl(d->qts, msg), ==, 0xc0de0000);
    g_assert_true(dmatd_rd(d, DT_REG_INTR_STATUS) & DT_INTR_VECTOR_FALLBACK);
    dmatd_stop(d);
}

/*
 * Command queue (q35 and pc)
 */

typedef struct DtQueue {
    uint64_t sq;
    uint64_t cq;
    uint32_t size;
    uint32_t tail;              /* next SQ slot the test fills */
    uint32_t cq_head;           /* next CQ slot the test reads */
    bool phase;                 /* phase bit expected there */
} DtQueue;

typedef struct DtSqe {
    uint32_t op;
    uint32_t flags;
    uint32_t seed;
    uint32_t vector;
    uint64_t src_list;
    uint32_t src_count;
    uint32_t rsvd0;
    uint64_t dst_list;
    uint32_t dst_count;
    uint32_t rsvd1;
    uint64_t fill;
    uint64_t tag;
} DtSqe;

typedef struct DtCqe {
    uint64_t tag;
    uint64_t cmd_seq;
    uint64_t bytes_done;
    uint64_t checksum;
    uint64_t err_addr;
    uint64_t mismatch_off;
    uint32_t error;
    uint32_t err_seg;
    uint32_t mismatch_count;
    uint32_t status;
} DtCqe;

/* Set up and enable a queue of @size entries at fresh addresses. */
static void dt_q_init(DmatdDev *d, DtQueue *q, uint32_t size)
{
    DmatdQueue dq;

    dmatd_queue_init(d, &dq, size);
    *q = (DtQueue) {
        .sq = dq.sq,
        .cq = dq.cq,
        .size = size,
        .phase = true,
    };
    DT_CHECK_REG(d, DT_REG_Q_ERROR, DT_QERR_NONE);
}

/* Fill the next SQ slot; the doorbell is separate (dt_q_ring). */
static void dt_q_put(DmatdDev *d, DtQueue *q, const DtSqe *e)
{
    uint8_t raw[DT_SQE_SIZE];

    stl_le_p(raw, e->op);
    stl_le_p(raw + 4, e->flags);
    stl_le_p(raw + 8, e->seed);
    stl_le_p(raw + 12, e->vector);
    stq_le_p(raw + 16, e->src_list);
    stl_le_p(raw + 24, e->src_count);
    stl_le_p(raw + 28, e->rsvd0);
    stq_le_p(raw + 32, e->dst_list);
    stl_le_p(raw + 40, e->dst_count);
    stl_le_p(raw + 44, e->rsvd1);
    stq_le_p(raw + 48, e->fill);
    stq_le_p(raw + 56, e->tag);
    qtest_bufwrite(d->qts, q->sq + q->tail * DT_SQE_SIZE, raw, sizeof(raw));
    q->tail = (q->tail + 1) % q->size;
}

static void dt_q_ring(DmatdDev *d, DtQueue *q)
{
    dmatd_wr(d, DT_REG_SQ_TAIL, q->tail);
}

static void dt_q_read(DmatdDev *d, DtQueue *q, uint32_t slot, DtCqe *c)
{
    uint8_t raw[DT_CQE_SIZE];

    qtest_bufread(d->qts, q->cq + slot * DT_CQE_SIZE, raw, sizeof(raw));
    *c = (DtCqe) {
        .tag = ldq_le_p(raw),
        .cmd_seq = ldq_le_p(raw + 8),
        .bytes_done = ldq_le_p(raw + 16),
        .checksum = ldq_le_p(raw + 24),
        .err_addr = ldq_le_p(raw + 32),
        .mismatch_off = ldq_le_p(raw + 40),
        .error = ldl_le_p(raw + 48),
        .err_seg = ldl_le_p(raw + 52),
        .mismatch_count = ldl_le_p(raw + 56),
        .status = ldl_le_p(raw + 60),
    };
}

/* Is the next completion there?  Copies it out if so. */
static bool dt_q_peek(DmatdDev *d, DtQueue *q, DtCqe *c)
{
    dt_q_read(d, q, q->cq_head, c);
    return !!(c->status & DT_CQE_PHASE) == q->phase;
}

/* Consume the next completion, which must be there. */
static void dt_q_pop(DmatdDev *d, DtQueue *q, DtCqe *c)
{
    if (!dt_q_peek(d, q, c)) {
        dt_report("no completion in cq[%u] (phase %d expected): CQ_TAIL %u "
                  "SQ_HEAD %u Q_STATUS 0x%x Q_ERROR %u", q->cq_head,
                  q->phase, dmatd_rd(d, DT_REG_CQ_TAIL),
                  dmatd_rd(d, DT_REG_SQ_HEAD), dmatd_rd(d, DT_REG_Q_STATUS),
                  dmatd_rd(d, DT_REG_Q_ERROR));
    }
    c->status &= ~DT_CQE_PHASE;
    q->cq_head = (q->cq_head + 1) % q->size;
    if (!q->cq_head) {
        q->phase = !q->phase;
    }
    dmatd_wr(d, DT_REG_CQ_HEAD, q->cq_head);
}

/*
 * Wait for the next completion, letting @ns of virtual time pass between
 * looks, at most @max_steps times.  With latency-ns=0 (@ns 0) the device
 * needs no virtual time, only a turn of the main loop.
 */
static void dt_q_wait(DmatdDev *d, DtQueue *q, DtCqe *c, int64_t ns,
                      int max_steps)
{
    int i;

    for (i = 0; i < max_steps && !dt_q_peek(d, q, c); i++) {
        if (ns) {
            qtest_clock_step(d->qts, ns);
        } else {
            g_usleep(1000);
        }
    }
    dt_q_pop(d, q, c);
}

/* Give a latency-ns=0 device time to do whatever it is going to do. */
static void dt_settle(DmatdDev *d)
{
    int i;

    for (i = 0; i < 20; i++) {
        dmatd_rd(d, DT_REG_Q_STATUS);
        g_usleep(1000);
    }
}

static void dt_check_cqe(const DtCqe *c, uint64_t tag, uint32_t status,
                         uint32_t error, uint64_t bytes, uint64_t csum)
{
    if (c->tag != tag || c->status != status ||
        DT_CQE_ERROR(c->error) != error || c->bytes_done != bytes ||
        (csum && c->checksum != csum)) {
        dt_report("completion (cmd %" PRIu64 "): expected tag 0x%" PRIx64
                  " status 0x%x error %u bytes %" PRIu64 " csum 0x%" PRIx64
                  ", found tag 0x%" PRIx64 " status 0x%x error %u (%s) "
                  "bytes %" PRIu64 " csum 0x%" PRIx64, c->cmd_seq, tag,
                  status, error, bytes, csum, c->tag, c->status,
                  DT_CQE_ERROR(c->error),
                  dt_error_name(DT_CQE_ERROR(c->error)), c->bytes_done,
                  c->checksum);
    }
}

/* A WRITE_PATTERN of one segment [addr, addr + len). */
static DtSqe dt_sqe_write(DmatdDev *d, uint64_t addr, uint32_t len,
                          uint32_t seed, uint64_t tag)
{
    DtSeg seg = { addr, len };

    return (DtSqe) {
        .op = DT_OP_WRITE_PATTERN,
        .seed = seed,
        .dst_list = dt_put_list(d, &seg, 1),
        .dst_count = 1,
        .tag = tag,
    };
}

static void dt_check_pattern_at(DmatdDev *d, const char *what, uint64_t addr,
                                uint32_t len, uint32_t seed)
{
    g_autofree uint8_t *exp = g_malloc(len);
    DtSeg seg = { addr, len };

    dt_pattern(exp, seed, 0, len);
    dt_check_image(d, what, addr, len, &seg, 1, exp, 0);
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

/*
 * Poll (without letting virtual time pass) until the pattern word at
 * @addr is there: the bottom half that runs a step has had its turn.
 */
static void dt_wait_word(DmatdDev *d, uint64_t addr, uint64_t word)
{
    int i;

    for (i = 0; i < 10000 && qtest_readq(d->qts, addr) != word; i++) {
        g_usleep(100);
    }
    g_assert_cmphex(qtest_readq(d->qts, addr), ==, word);
}

/*
 * Many commands in flight, paced in virtual time: with latency-ns L and
 * step-size 4 KiB, an 8 KiB command takes three steps (16 bytes of list,
 * then 4080, 4096 and 16 data bytes), each L after the previous one.
 */
#define DT_LAT              1000
#define DT_INFLIGHT         100

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

/* Queue entries that must fail alone, with the error they must get. */
static const struct {
    const char *name;
    uint32_t op, flags, vector, rsvd0, rsvd1;
    uint32_t error;
} dt_bad_sqes[] = {
    { "SQE opcode 0", DT_OP_NONE, 0, 0, 0, 0, DT_ERR_BAD_OPCODE },
    { "SQE opcode 5", DT_OP_MAX + 1, 0, 0, 0, 0, DT_ERR_BAD_OPCODE },
    { "SQE opcode ~0", UINT32_MAX, 0, 0, 0, 0, DT_ERR_BAD_OPCODE },
    { "SQE reserved flag 1", DT_OP_WRITE_PATTERN, 1u << 1, 0, 0, 0,
      DT_ERR_SQE_RESERVED },
    { "SQE reserved flag 31", DT_OP_FILL, 1u << 31, 0, 0, 0,
      DT_ERR_SQE_RESERVED },
    { "SQE reserved word 0", DT_OP_FILL, 0, 0, 1, 0, DT_ERR_SQE_RESERVED },
    { "SQE reserved word 1", DT_OP_WRITE_PATTERN, 0, 0, 0, 0x80000000,
      DT_ERR_SQE_RESERVED },
    { "SQE vector 32", DT_OP_FILL, DT_SQE_F_INTR, DT_MAX_VECTORS, 0, 0,
      DT_ERR_BAD_VECTOR },
    { "SQE vector ~0", DT_OP_WRITE_PATTERN, 0, UINT32_MAX, 0, 0,
      DT_ERR_BAD_VECTOR },
};

/* @good with the bad fields of dt_bad_sqes[@i], tagged @i. */
static DtSqe dt_sqe_spoil(const DtSqe *good, size_t i)
{
    DtSqe e = *good;

    e.op = dt_bad_sqes[i].op;
    e.flags = dt_bad_sqes[i].flags;
    e.vector = dt_bad_sqes[i].vector;
    e.rsvd0 = dt_bad_sqes[i].rsvd0;
    e.rsvd1 = dt_bad_sqes[i].rsvd1;
    e.tag = i;
    return e;
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

/*
 * The bad-input matrix: every register with every bad access, reserved
 * bits, queue setup at the wrong time, segment lists, data and rings
 * aimed at MMIO, the device's own BARs, ROM, unassigned space and beyond
 * the address width, wrapping and huge values, and doorbells while busy
 * or halted.  Each case must give its documented status and a
 * LOG_GUEST_ERROR line (the log goes to a file the test reads), and QEMU
 * must still answer afterwards.  The summary says how many cases ran.
 */

typedef struct DtMatrix {
    DmatdDev *d;
    FILE *log;                  /* QEMU's -D file, read as it grows */
    unsigned cases;
    unsigned by_kind[4];
    uint64_t list;              /* a one-page list for register commands */
    uint64_t buf;
} DtMatrix;

enum { DT_MX_MMIO, DT_MX_CMD, DT_MX_QUEUE, DT_MX_SQE };

static const char *const dt_mx_kinds[] = {
    "MMIO accesses", "register commands", "queue setup and doorbells",
    "queue entries",
};

/* The new part of QEMU's log must mention the device. */
static void dt_mx_logged(DtMatrix *x, const char *name)
{
    char line[512];
    bool found = false;

    while (fgets(line, sizeof(line), x->log)) {
        found |= !!strstr(line, TYPE_DMA_TESTDEV ":");
    }
    clearerr(x->log);
    if (!found) {
        dt_report("bad input '%s': no LOG_GUEST_ERROR message", name);
    }
}

static void dt_mx_case(DtMatrix *x, int kind, const char *name)
{
    dt_mx_logged(x, name);
    x->cases++;
    x->by_kind[kind]++;
}

/* One bad MMIO access: BAD_COUNT goes up by one and BAD_INFO names it. */
static void dt_mx_access(DtMatrix *x, uint32_t off, unsigned size,
                         bool is_write, uint32_t reason)
{
    DmatdDev *d = x->d;
    uint64_t a = d->bar.addr + off;
    uint32_t before = dmatd_rd(d, DT_REG_BAD_COUNT);
    uint64_t seq = dmatd_rd64(d, DT_REG_CMD_SEQ_LO);
    g_autofree char *name = g_strdup_printf("%u-byte %s at 0x%03x", size,
                                            is_write ? "write" : "read", off);
    uint32_t info;
    uint64_t val = 0;

    if (is_write) {
        switch (size) {
        case 1:
            qtest_writeb(d->qts, a, 0xff);
            break;
        case 2:
            qtest_writew(d->qts, a, 0xffff);
            break;
        case 4:
            qtest_writel(d->qts, a, 0xffffffff);
            break;
        default:
            qtest_writeq(d->qts, a, ~0ULL);
            break;
        }
    } else {
        switch (size) {
        case 1:
            val = qtest_readb(d->qts, a);
            break;
        case 2:
            val = qtest_readw(d->qts, a);
            break;
        case 4:
            val = qtest_readl(d->qts, a);
            break;
        default:
            val = qtest_readq(d->qts, a);
            break;
        }
        g_assert_cmphex(val, ==, 0);
    }
    info = dmatd_rd(d, DT_REG_BAD_INFO);
    if (dmatd_rd(d, DT_REG_BAD_COUNT) != before + 1 ||
        DT_BAD_INFO_REASON(info) != reason ||
        DT_BAD_INFO_OFFSET(info) != off ||
        DT_BAD_INFO_SIZE(info) != size ||
        !!(info & DT_BAD_INFO_WRITE) != is_write) {
        dt_report("bad input '%s': expected BAD_COUNT %u reason %u, found "
                  "BAD_COUNT %u BAD_INFO 0x%08x", name, before + 1, reason,
                  dmatd_rd(d, DT_REG_BAD_COUNT), info);
    }
    /* No bad access ever starts a command. */
    DT_CHECK_REG64(d, DT_REG_CMD_SEQ_LO, seq);
    dt_mx_case(x, DT_MX_MMIO, name);
}

/* Every defined register, and whether the guest may write it. */
static const struct {
    uint32_t off;
    bool writable;
} dt_mx_regs[] = {
    { DT_REG_ID, false }, { DT_REG_VERSION, false }, { DT_REG_CAPS, false },
    { DT_REG_ADDR_BITS, false }, { DT_REG_MAX_SEGS, false },
    { DT_REG_MAX_XFER_LO, false }, { DT_REG_MAX_XFER_HI, false },
    { DT_REG_CMD, true }, { DT_REG_SEED, true },
    { DT_REG_SRC_LIST_LO, true }, { DT_REG_SRC_LIST_HI, true },
    { DT_REG_SRC_COUNT, true }, { DT_REG_DST_LIST_LO, true },
    { DT_REG_DST_LIST_HI, true }, { DT_REG_DST_COUNT, true },
    { DT_REG_FILL_LO, true }, { DT_REG_FILL_HI, true },
    { DT_REG_STATUS, false }, { DT_REG_ERROR, false },
    { DT_REG_ERR_SEG, false }, { DT_REG_ERR_LIST, false },
    { DT_REG_ERR_ADDR_LO, false }, { DT_REG_ERR_ADDR_HI, false },
    { DT_REG_BYTES_DONE_LO, false }, { DT_REG_BYTES_DONE_HI, false },
    { DT_REG_MISMATCH_SEG, false }, { DT_REG_MISMATCH_COUNT, false },
    { DT_REG_MISMATCH_OFF_LO, false }, { DT_REG_MISMATCH_OFF_HI, false },
    { DT_REG_MISMATCH_EXP_LO, false }, { DT_REG_MISMATCH_EXP_HI, false },
    { DT_REG_MISMATCH_GOT_LO, false }, { DT_REG_MISMATCH_GOT_HI, false },
    { DT_REG_CHECKSUM_LO, false }, { DT_REG_CHECKSUM_HI, false },
    { DT_REG_CMD_SEQ_LO, false }, { DT_REG_CMD_SEQ_HI, false },
    { DT_REG_INTR_STATUS, true }, { DT_REG_INTR_ENABLE, true },
    { DT_REG_INTR_VECTOR, true }, { DT_REG_INTR_INFO, false },
    { DT_REG_Q_CTRL, true }, { DT_REG_Q_STATUS, false },
    { DT_REG_Q_SIZE, true }, { DT_REG_Q_ERROR, false },
    { DT_REG_SQ_BASE_LO, true }, { DT_REG_SQ_BASE_HI, true },
    { DT_REG_CQ_BASE_LO, true }, { DT_REG_CQ_BASE_HI, true },
    { DT_REG_SQ_TAIL, true }, { DT_REG_SQ_HEAD, false },
    { DT_REG_CQ_HEAD, true }, { DT_REG_CQ_TAIL, false },
    { DT_REG_Q_ERR_ADDR_LO, false }, { DT_REG_Q_ERR_ADDR_HI, false },
    { DT_REG_Q_ERR_CAUSE, false }, { DT_REG_Q_MAX_SIZE, false },
    { DT_REG_Q_DONE_LO, false }, { DT_REG_Q_DONE_HI, false },
    { DT_REG_BAD_COUNT, false }, { DT_REG_BAD_INFO, false },
};

/* Offsets inside BAR0 with no register. */
static const uint32_t dt_mx_holes[] = {
    0x014, 0x024, 0x02c, 0x03c, 0x04c, 0x058, 0x05c, 0x108, 0x10c, 0x118,
    0x200, 0x800, DMA_TESTDEV_BAR0_SIZE - 4,
};

static void dt_mx_mmio(DtMatrix *x)
{
    size_t i;
    int w;

    for (i = 0; i < ARRAY_SIZE(dt_mx_regs); i++) {
        uint32_t r = dt_mx_regs[i].off;

        for (w = 0; w < 2; w++) {
            dt_mx_access(x, r, 1, w, DT_BAD_ACCESS_SIZE);
            dt_mx_access(x, r + 3, 1, w, DT_BAD_ACCESS_SIZE);
            dt_mx_access(x, r, 2, w, DT_BAD_ACCESS_SIZE);
            dt_mx_access(x, r + 1, 2, w, DT_BAD_ACCESS_SIZE);
            dt_mx_access(x, r + 2, 4, w, DT_BAD_ACCESS_SIZE);
            if (r % 8) {
                dt_mx_access(x, r, 8, w, DT_BAD_ACCESS_SIZE);
            }
        }
        if (!dt_mx_regs[i].writable) {
            uint32_t val = dmatd_rd(x->d, r);

            dt_mx_access(x, r, 4, true, DT_BAD_READ_ONLY);
            /* The BAD_* registers change by design: they record this. */
            if (r != DT_REG_BAD_COUNT && r != DT_REG_BAD_INFO) {
                g_assert_cmphex(dmatd_rd(x->d, r), ==, val);
            }
        }
    }
    for (i = 0; i < ARRAY_SIZE(dt_mx_holes); i++) {
        dt_mx_access(x, dt_mx_holes[i], 4, false, DT_BAD_UNKNOWN_REG);
        dt_mx_access(x, dt_mx_holes[i], 4, true, DT_BAD_UNKNOWN_REG);
    }
}

/* A register write whose reserved bits are dropped and reported. */
#define DT_MX_UNCHANGED     (-1)

static void dt_mx_reserved(DtMatrix *x, uint32_t reg, uint32_t val,
                           uint32_t reason, int64_t expect)
{
    DmatdDev *d = x->d;
    uint32_t before = dmatd_rd(d, DT_REG_BAD_COUNT);
    uint32_t old = dmatd_rd(d, reg);
    g_autofree char *name = g_strdup_printf("0x%x to register 0x%03x", val,
                                            reg);

    dmatd_wr(d, reg, val);
    g_assert_cmpuint(dmatd_rd(d, DT_REG_BAD_COUNT), ==, before + 1);
    g_assert_cmpuint(DT_BAD_INFO_REASON(dmatd_rd(d, DT_REG_BAD_INFO)), ==,
                     reason);
    g_assert_cmpuint(DT_BAD_INFO_OFFSET(dmatd_rd(d, DT_REG_BAD_INFO)), ==, reg);
    DT_CHECK_REG(d, reg, expect == DT_MX_UNCHANGED ? old : expect);
    dt_mx_case(x, DT_MX_MMIO, name);
}

/* One register command that must fail with @err. */
typedef struct DtMxCmd {
    const char *name;
    uint32_t op;
    bool src;                   /* the list is the source list */
    uint64_t list;              /* 0: a list of the segments below */
    uint32_t count;             /* list entries (0: as many as segs) */
    DtSeg seg[2];
    uint32_t nseg;
    uint32_t err;
} DtMxCmd;

static void dt_mx_cmd(DtMatrix *x, const DtMxCmd *c)
{
    DmatdDev *d = x->d;
    uint64_t list = c->list;
    uint32_t count = c->count ? c->count : c->nseg;

    if (!list) {
        list = dt_put_list(d, c->seg, c->nseg);
    }
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    if (c->op == DT_OP_COPY) {
        /* The bad side is one list, the other a good page. */
        DtSeg good = { x->buf, c->nseg ? (uint32_t)dt_total(c->seg, c->nseg)
                                       : DT_PAGE };
        uint64_t other = dt_put_list(d, &good, 1);

        dt_set_src(d, c->src ? list : other, c->src ? count : 1);
        dt_set_dst(d, c->src ? other : list, c->src ? 1 : count);
    } else if (c->src) {
        dt_set_src(d, list, count);
    } else {
        dt_set_dst(d, list, count);
    }
    dmatd_wr(d, DT_REG_CMD, c->op);
    if (dmatd_rd(d, DT_REG_STATUS) != (DT_STATUS_DONE | DT_STATUS_ERROR) ||
        dmatd_rd(d, DT_REG_ERROR) != c->err) {
        dt_report("bad input '%s': expected STATUS 0x%x ERROR %u (%s), "
                  "found STATUS 0x%x ERROR %u (%s)", c->name,
                  DT_STATUS_DONE | DT_STATUS_ERROR, c->err,
                  dt_error_name(c->err), dmatd_rd(d, DT_REG_STATUS),
                  dmatd_rd(d, DT_REG_ERROR),
                  dt_error_name(dmatd_rd(d, DT_REG_ERROR)));
    }
    dt_mx_case(x, DT_MX_CMD, c->name);
}

static void dt_mx_cmds(DtMatrix *x)
{
    DmatdDev *d = x->d;
    uint64_t bar = d->bar.addr, msix = d->msix_bar.addr, b = x->buf;
    uint64_t top = 1ULL << 40;          /* the matrix runs addr-bits=40 */
    const DtMxCmd cases[] = {
        { "opcode 0", DT_OP_NONE, .list = x->list, .count = 1,
          .err = DT_ERR_BAD_OPCODE },
        { "opcode 5", DT_OP_MAX + 1, .list = x->list, .count = 1,
          .err = DT_ERR_BAD_OPCODE },
        { "opcode ~0", UINT32_MAX, .list = x->list, .count = 1,
          .err = DT_ERR_BAD_OPCODE },
        { "count 0", DT_OP_WRITE_PATTERN, .list = x->list, .count = 0,
          .nseg = 0, .err = DT_ERR_NO_SEGMENTS },
        { "count 2^32-1", DT_OP_WRITE_PATTERN, .list = x->list,
          .count = UINT32_MAX, .err = DT_ERR_TOO_MANY_SEGS },
        { "count max+1", DT_OP_VERIFY_PATTERN, true, .list = x->list,
          .count = 65537, .err = DT_ERR_TOO_MANY_SEGS },
        { "list misaligned", DT_OP_WRITE_PATTERN, .list = x->list + 8,
          .count = 1, .err = DT_ERR_LIST_ALIGN },
        { "list in own BAR0", DT_OP_WRITE_PATTERN, .list = bar, .count = 1,
          .err = DT_ERR_LIST_READ },
        { "list in own MSI-X BAR", DT_OP_VERIFY_PATTERN, true, .list = msix,
          .count = 1, .err = DT_ERR_LIST_READ },
        { "list unassigned", DT_OP_COPY, true, .list = DT_UNASSIGNED,
          .count = 1, .err = DT_ERR_LIST_READ },
        { "list beyond address width", DT_OP_WRITE_PATTERN, .list = top,
          .count = 1, .err = DT_ERR_ADDR_WIDTH },
        { "list wraps 2^64", DT_OP_WRITE_PATTERN, .list = -16ULL,
          .count = 2, .err = DT_ERR_ADDR_OVERFLOW },
        { "segment flags", DT_OP_WRITE_PATTERN,
          .seg = { { b, 8, 1 } }, .nseg = 1, .err = DT_ERR_SEG_FLAGS },
        { "segment length 0", DT_OP_FILL,
          .seg = { { b, 8 }, { b, 0 } }, .nseg = 2,
          .err = DT_ERR_ZERO_LENGTH },
        { "segment wraps 2^64", DT_OP_WRITE_PATTERN,
          .seg = { { -4096ULL, 8192 } }, .nseg = 1,
          .err = DT_ERR_ADDR_OVERFLOW },
        { "segment beyond address width", DT_OP_VERIFY_PATTERN, true,
          .seg = { { top - 8, 16 } }, .nseg = 1, .err = DT_ERR_ADDR_WIDTH },
        { "transfer over max-transfer", DT_OP_WRITE_PATTERN,
          .seg = { { b, UINT32_MAX }, { b, 2 } }, .nseg = 2,
          .err = DT_ERR_XFER_TOO_LARGE },
        { "write into own BAR0", DT_OP_WRITE_PATTERN,
          .seg = { { bar + DT_REG_SEED, 4 } }, .nseg = 1,
          .err = DT_ERR_DMA_ACCESS },
        { "read from own BAR0", DT_OP_VERIFY_PATTERN, true,
          .seg = { { bar, 64 } }, .nseg = 1, .err = DT_ERR_DMA_ACCESS },
        { "write into own MSI-X table", DT_OP_FILL,
          .seg = { { msix, 16 } }, .nseg = 1, .err = DT_ERR_DMA_ACCESS },
        { "copy from own MSI-X table", DT_OP_COPY, true,
          .seg = { { msix, 16 } }, .nseg = 1, .err = DT_ERR_DMA_ACCESS },
        { "write into BIOS ROM", DT_OP_WRITE_PATTERN,
          .seg = { { DT_ROM_PAGE, 64 } }, .nseg = 1,
          .err = DT_ERR_DMA_ACCESS },
        { "copy into BIOS ROM", DT_OP_COPY,
          .seg = { { DT_ROM_PAGE, 64 } }, .nseg = 1,
          .err = DT_ERR_DMA_ACCESS },
        { "write unassigned", DT_OP_WRITE_PATTERN,
          .seg = { { DT_UNASSIGNED, 64 } }, .nseg = 1,
          .err = DT_ERR_DMA_UNASSIGNED },
        { "read unassigned", DT_OP_VERIFY_PATTERN, true,
          .seg = { { DT_UNASSIGNED, 64 } }, .nseg = 1,
          .err = DT_ERR_DMA_UNASSIGNED },
        { "write past end of RAM", DT_OP_FILL,
          .seg = { { DT_RAM_END_128M - 8, 64 } }, .nseg = 1,
          .err = DT_ERR_DMA_UNASSIGNED },
        { "copy length mismatch", DT_OP_COPY, .list = x->list, .count = 1,
          .seg = { { b, 8 } }, .nseg = 1, .err = DT_ERR_LENGTH_MISMATCH },
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        dt_mx_cmd(x, &cases[i]);
    }
}

/* Set up the queue with @size entries at @sq/@cq and enable it. */
static void dt_mx_queue_setup(DmatdDev *d, uint32_t size, uint64_t sq,
                              uint64_t cq)
{
    dmatd_wr(d, DT_REG_Q_CTRL, 0);
    dmatd_wr(d, DT_REG_Q_SIZE, size);
    dmatd_wr64(d, DT_REG_SQ_BASE_LO, sq);
    dmatd_wr64(d, DT_REG_CQ_BASE_LO, cq);
    dmatd_wr(d, DT_REG_Q_CTRL, DT_QCTRL_ENABLE);
}

static void dt_mx_qerror(DtMatrix *x, const char *name, uint32_t qerr,
                         uint64_t addr, uint32_t cause)
{
    DmatdDev *d = x->d;
    int i;

    for (i = 0; i < 100 && !(dmatd_rd(d, DT_REG_Q_STATUS) & DT_QSTATUS_ERROR);
         i++) {
        g_usleep(1000);
    }
    if (dmatd_rd(d, DT_REG_Q_STATUS) !=
        (DT_QSTATUS_ENABLED | DT_QSTATUS_ERROR) ||
        dmatd_rd(d, DT_REG_Q_ERROR) != qerr ||
        dmatd_rd64(d, DT_REG_Q_ERR_ADDR_LO) != addr ||
        dmatd_rd(d, DT_REG_Q_ERR_CAUSE) != cause) {
        dt_report("bad input '%s': expected Q_ERROR %u (%s) addr 0x%" PRIx64
                  " cause %u, found Q_STATUS 0x%x Q_ERROR %u addr 0x%" PRIx64
                  " cause %u", name, qerr, dt_qerror_name(qerr), addr, cause,
                  dmatd_rd(d, DT_REG_Q_STATUS), dmatd_rd(d, DT_REG_Q_ERROR),
                  dmatd_rd64(d, DT_REG_Q_ERR_ADDR_LO),
                  dmatd_rd(d, DT_REG_Q_ERR_CAUSE));
    }
    g_assert_true(dmatd_rd(d, DT_REG_INTR_STATUS) & DT_INTR_QUEUE_ERROR);
    dmatd_wr(d, DT_REG_INTR_STATUS, DT_INTR_QUEUE_ERROR);

    /* Halted: doorbells are refused until the queue is disabled. */
    dt_mx_case(x, DT_MX_QUEUE, name);
    dt_mx_reserved(x, DT_REG_SQ_TAIL, 1, DT_BAD_QUEUE_DISABLED,
                   DT_MX_UNCHANGED);
    dmatd_wr(d, DT_REG_Q_CTRL, 0);
    DT_CHECK_REG(d, DT_REG_Q_STATUS, 0);
}

static void dt_mx_queue(DtMatrix *x)
{
    DmatdDev *d = x->d;
    uint64_t sq = guest_alloc(&d->alloc, 4 * DT_SQE_SIZE);
    uint64_t cq = guest_alloc(&d->alloc, 4 * DT_CQE_SIZE);
    uint64_t top = 1ULL << 40, bar = d->bar.addr;
    DtQueue q = { .sq = sq, .cq = cq, .size = 4, .phase = true };
    DtSqe e = dt_sqe_write(d, x->buf, DT_PAGE, DT_SEED, 1);
    static const uint32_t bad_sizes[] = { 0, 1, DT_Q_MAX_SIZE + 1,
                                          UINT32_MAX };
    size_t i;

    /* Enabling a queue that cannot work. */
    for (i = 0; i < ARRAY_SIZE(bad_sizes); i++) {
        dt_mx_queue_setup(d, bad_sizes[i], sq, cq);
        dt_mx_qerror(x, "queue size", DT_QERR_SIZE, bad_sizes[i], 0);
    }
    dt_mx_queue_setup(d, 4, sq + 32, cq);
    dt_mx_qerror(x, "SQ misaligned", DT_QERR_ALIGN, sq + 32, 0);
    dt_mx_queue_setup(d, 4, sq, cq + 8);
    dt_mx_qerror(x, "CQ misaligned", DT_QERR_ALIGN, cq + 8, 0);
    dt_mx_queue_setup(d, 4, top, cq);
    dt_mx_qerror(x, "SQ beyond address width", DT_QERR_RANGE, top, 0);
    dt_mx_queue_setup(d, 4, sq, -128ULL);
    dt_mx_qerror(x, "CQ wraps 2^64", DT_QERR_RANGE, -128ULL, 0);

    /* Rings the device cannot use. */
    dt_mx_queue_setup(d, 4, DT_UNASSIGNED, cq);
    dmatd_wr(d, DT_REG_SQ_TAIL, 1);
    dt_mx_qerror(x, "SQ unassigned", DT_QERR_SQ_READ, DT_UNASSIGNED,
                 DT_ERR_DMA_UNASSIGNED);
    dt_mx_queue_setup(d, 4, bar, cq);
    dmatd_wr(d, DT_REG_SQ_TAIL, 1);
    dt_mx_qerror(x, "SQ in own BAR0", DT_QERR_SQ_READ, bar,
                 DT_ERR_DMA_ACCESS);
    q.tail = 0;
    dt_q_put(d, &q, &e);
    dt_mx_queue_setup(d, 4, sq, DT_ROM_PAGE);
    dmatd_wr(d, DT_REG_SQ_TAIL, 1);
    dt_mx_qerror(x, "CQ in BIOS ROM", DT_QERR_CQ_WRITE, DT_ROM_PAGE,
                 DT_ERR_DMA_ACCESS);
    dt_mx_queue_setup(d, 4, sq, d->msix_bar.addr);
    dmatd_wr(d, DT_REG_SQ_TAIL, 1);
    dt_mx_qerror(x, "CQ in own MSI-X BAR", DT_QERR_CQ_WRITE,
                 d->msix_bar.addr, DT_ERR_DMA_ACCESS);
    dt_mx_queue_setup(d, 4, sq, DT_UNASSIGNED);
    dmatd_wr(d, DT_REG_SQ_TAIL, 1);
    dt_mx_qerror(x, "CQ unassigned", DT_QERR_CQ_WRITE, DT_UNASSIGNED,
                 DT_ERR_DMA_UNASSIGNED);

    /* Doorbells out of range, including while a command runs. */
    dt_mx_queue_setup(d, 4, sq, cq);
    dmatd_wr(d, DT_REG_SQ_TAIL, 4);
    dt_mx_qerror(x, "SQ_TAIL = size", DT_QERR_SQ_DOORBELL, 4, 0);
    dt_mx_queue_setup(d, 4, sq, cq);
    dmatd_wr(d, DT_REG_SQ_TAIL, UINT32_MAX);
    dt_mx_qerror(x, "SQ_TAIL = 2^32-1", DT_QERR_SQ_DOORBELL, UINT32_MAX, 0);
    dt_mx_queue_setup(d, 4, sq, cq);
    dmatd_wr(d, DT_REG_CQ_HEAD, 9);
    dt_mx_qerror(x, "CQ_HEAD past size", DT_QERR_CQ_DOORBELL, 9, 0);
    dt_mx_queue_setup(d, 4, sq, cq);
    dmatd_wr(d, DT_REG_CQ_HEAD, 1);
    dt_mx_qerror(x, "CQ_HEAD past CQ_TAIL", DT_QERR_CQ_DOORBELL, 1, 0);
    dt_mx_queue_setup(d, 4, sq, cq);
    dmatd_wr(d, DT_REG_SQ_TAIL, 1);
    dmatd_wr(d, DT_REG_SQ_TAIL, 7);
    dt_mx_qerror(x, "SQ_TAIL bad while busy", DT_QERR_SQ_DOORBELL, 7, 0);

    /* Setup written while enabled, reserved bits, doorbells while off. */
    dt_mx_queue_setup(d, 4, sq, cq);
    dt_mx_reserved(x, DT_REG_Q_SIZE, 8, DT_BAD_QUEUE_ENABLED, 4);
    dt_mx_reserved(x, DT_REG_SQ_BASE_LO, 0, DT_BAD_QUEUE_ENABLED, sq);
    dt_mx_reserved(x, DT_REG_SQ_BASE_HI, 1, DT_BAD_QUEUE_ENABLED, sq >> 32);
    dt_mx_reserved(x, DT_REG_CQ_BASE_LO, 0, DT_BAD_QUEUE_ENABLED, cq);
    dt_mx_reserved(x, DT_REG_CQ_BASE_HI, 1, DT_BAD_QUEUE_ENABLED, cq >> 32);
    dt_mx_reserved(x, DT_REG_Q_CTRL, DT_QCTRL_ENABLE | 2,
                   DT_BAD_RESERVED_BITS, DT_QCTRL_ENABLE);
    DT_CHECK_REG(d, DT_REG_Q_STATUS, DT_QSTATUS_ENABLED);
    dmatd_wr(d, DT_REG_Q_CTRL, 0);
    dt_mx_reserved(x, DT_REG_SQ_TAIL, 1, DT_BAD_QUEUE_DISABLED,
                   DT_MX_UNCHANGED);
    dt_mx_reserved(x, DT_REG_CQ_HEAD, 1, DT_BAD_QUEUE_DISABLED,
                   DT_MX_UNCHANGED);
    dt_mx_reserved(x, DT_REG_INTR_STATUS, 1u << 9, DT_BAD_RESERVED_BITS,
                   DT_MX_UNCHANGED);
    dt_mx_reserved(x, DT_REG_INTR_ENABLE, UINT32_MAX, DT_BAD_RESERVED_BITS,
                   DT_INTR_CAUSES);
    dt_mx_reserved(x, DT_REG_INTR_VECTOR, DT_MAX_VECTORS + 3,
                   DT_BAD_RESERVED_BITS, 3);
    dmatd_wr(d, DT_REG_INTR_ENABLE, 0);
    dmatd_wr(d, DT_REG_INTR_VECTOR, 0);
}

/* Bad queue entries fail alone, one at a time; the queue carries on. */
static void dt_mx_sqes(DtMatrix *x)
{
    DmatdDev *d = x->d;
    DtSqe good = dt_sqe_write(d, x->buf, DT_PAGE, DT_SEED, 0x99);
    DtQueue q;
    DtCqe c;
    size_t i;

    dt_q_init(d, &q, 16);
    for (i = 0; i < ARRAY_SIZE(dt_bad_sqes); i++) {
        DtSqe e = dt_sqe_spoil(&good, i);

        dt_q_put(d, &q, &e);
        dt_q_ring(d, &q);
        dt_q_wait(d, &q, &c, 0, 100);
        dt_check_cqe(&c, i, DT_STATUS_DONE | DT_STATUS_ERROR,
                     dt_bad_sqes[i].error, 0, 0);
        dt_mx_case(x, DT_MX_SQE, dt_bad_sqes[i].name);
    }
    dt_q_put(d, &q, &good);
    dt_q_ring(d, &q);
    dt_q_wait(d, &q, &c, 0, 100);
    dt_check_cqe(&c, 0x99, DT_STATUS_DONE, DT_ERR_NONE, DT_PAGE, 0);
    dmatd_wr(d, DT_REG_Q_CTRL, 0);
}

static void test_bad_input_matrix(const void *data)
{
    g_autofree char *logname = g_strdup_printf("%s/dt-matrix-XXXXXX",
                                               g_get_tmp_dir());
    g_autofree char *extra = NULL;
    DtMatrix x = { 0 };
    int fd = g_mkstemp(logname);
    unsigned k;

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    extra = g_strdup_printf("-d guest_errors -D %s", logname);
    x.d = dmatd_start(data, ",addr-bits=40", extra);
    x.log = fopen(logname, "r");
    g_assert_nonnull(x.log);
    x.buf = dt_region(x.d, DT_PAGE);
    x.list = dt_quick_list(x.d);

    dt_mx_mmio(&x);
    dt_mx_cmds(&x);
    dt_mx_queue(&x);
    dt_mx_sqes(&x);

    /* QEMU is alive and the device still works. */
    dt_quick_cmd(x.d, x.list);
    for (k = 0; k < ARRAY_SIZE(dt_mx_kinds); k++) {
        g_test_message("bad-input matrix: %u %s", x.by_kind[k],
                       dt_mx_kinds[k]);
    }
    g_test_message("bad-input matrix: %u cases, each with its documented "
                   "status and a LOG_GUEST_ERROR message", x.cases);
    fclose(x.log);
    unlink(logname);
    dmatd_stop(x.d);
}


/*
 * The pci-epf-test personality (q35 and pc): the register protocol of
 * Linux's PCI endpoint test function, checked the way its host driver
 * uses it.
 */

/* Linux's crc32_le(~0, buf, len): reflected, seed ~0, no final xor. */
static uint32_t dt_crc32_le(const uint8_t *buf, size_t len)
{
    uint32_t crc = ~0u;
    size_t i;
    int b;

    for (i = 0; i < len; i++) {
        crc ^= buf[i];
        for (b = 0; b < 8; b++) {
            crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
        }
    }
    return crc;
}

static void dt_epf_wr(DmatdDev *d, uint32_t reg, uint32_t val)
{
    qpci_io_writel(d->dev, d->bar, reg, val);
}

static uint32_t dt_epf_rd(DmatdDev *d, uint32_t reg)
{
    return qpci_io_readl(d->dev, d->bar, reg);
}

/* Issue @cmd and wait for the bottom half to have taken it. */
static void dt_epf_run(DmatdDev *d, uint32_t cmd)
{
    int i;

    dt_epf_wr(d, DT_EPF_COMMAND, cmd);
    for (i = 0; i < 1000 && dt_epf_rd(d, DT_EPF_COMMAND); i++) {
        g_usleep(1000);
    }
    g_assert_cmphex(dt_epf_rd(d, DT_EPF_COMMAND), ==, 0);
}

/* ...and return STATUS (which, like the host's handler, ends INTx). */
static uint32_t dt_epf_cmd(DmatdDev *d, uint32_t cmd)
{
    dt_epf_run(d, cmd);
    return dt_epf_rd(d, DT_EPF_STATUS);
}

static void test_epf(const void *data)
{
    DmatdDev *d = dmatd_start(data, ",personality=epf-test", "");
    static const uint64_t sizes[] = { 4096, 4096, 8192, 16384, 131072,
                                      1048576 };
    uint32_t len = 1025, seq;
    uint64_t src = guest_alloc(&d->alloc, len + 8) + 3;
    uint64_t dst = guest_alloc(&d->alloc, len + 8) + 5;
    uint64_t msg = guest_alloc(&d->alloc, 4);
    g_autofree uint8_t *buf = g_malloc(len);
    g_autofree uint8_t *exp = g_malloc(len);
    g_autoptr(GArray) log = NULL;
    QPCIBar bar;
    uint64_t size;
    int i;

    /* BAR0: registers; BARs 1-5: memory the host's BAR tests fill. */
    g_assert_cmpuint(d->bar_size, ==, sizes[0]);
    dt_epf_wr(d, DT_EPF_MAGIC, 0xa0a0a0a0);
    g_assert_cmphex(dt_epf_rd(d, DT_EPF_MAGIC), ==, 0xa0a0a0a0);
    g_assert_cmphex(dt_epf_rd(d, DT_EPF_CAPS), ==, 0x0f);
    g_assert_cmphex(dt_epf_rd(d, DT_EPF_DB_BAR), ==, 0xffffffff);
    if (!d->rp) {
        for (i = 1; i < 6; i++) {
            bar = qpci_iomap(d->dev, i, &size);
            g_assert_cmpuint(size, ==, sizes[i]);
            qpci_io_writel(d->dev, bar, size - 4, 0xa0000000 | i);
            qpci_io_writel(d->dev, bar, 0, 0xa1000000 | i);
            g_assert_cmphex(qpci_io_readl(d->dev, bar, size - 4), ==,
                            0xa0000000 | i);
            g_assert_cmphex(qpci_io_readl(d->dev, bar, 0), ==,
                            0xa1000000 | i);
        }
    }

    /* Endpoint WRITE: the device fills DST and reports the CRC. */
    dt_epf_wr(d, DT_EPF_IRQ_TYPE, DT_EPF_IRQ_INTX);
    dt_epf_wr(d, DT_EPF_DST_LO, dst);
    dt_epf_wr(d, DT_EPF_DST_HI, dst >> 32);
    dt_epf_wr(d, DT_EPF_SIZE, len);
    dt_epf_wr(d, DT_EPF_FLAGS, DT_EPF_FLAG_USE_DMA);
    dt_epf_run(d, DT_EPF_CMD_WRITE);
    /* INTx is held until STATUS is read, as the host's handler does. */
    g_assert_true(dt_intx_level(d));
    g_assert_cmphex(dt_epf_rd(d, DT_EPF_STATUS), ==,
                    DT_EPF_ST_WRITE_OK | DT_EPF_ST_IRQ_RAISED);
    g_assert_false(dt_intx_level(d));
    log = dt_log_get(d, 0);
    g_assert_cmpuint(log->len, ==, 1);
    dt_check_log(&g_array_index(log, DtLogEntry, 0), "epf-write", "dst", 0,
                 "write", dst, len, len, "ok");
    seq = g_array_index(log, DtLogEntry, 0).cmd;
    qtest_bufread(d->qts, dst, buf, len);
    dt_pattern(exp, seq, 0, len);
    g_assert_true(memcmp(buf, exp, len) == 0);
    g_assert_cmphex(dt_epf_rd(d, DT_EPF_CHECKSUM), ==, dt_crc32_le(buf, len));


    /* Endpoint READ: the device checks the host's CRC. */
    for (i = 0; i < len; i++) {
        buf[i] = i * 7 + 1;
    }
    qtest_bufwrite(d->qts, src, buf, len);
    dt_epf_wr(d, DT_EPF_SRC_LO, src);
    dt_epf_wr(d, DT_EPF_SRC_HI, src >> 32);
    dt_epf_wr(d, DT_EPF_CHECKSUM, dt_crc32_le(buf, len));
    g_assert_cmphex(dt_epf_cmd(d, DT_EPF_CMD_READ), ==,
                    DT_EPF_ST_READ_OK | DT_EPF_ST_IRQ_RAISED);
    dt_epf_wr(d, DT_EPF_CHECKSUM, dt_crc32_le(buf, len) ^ 1);
    g_assert_cmphex(dt_epf_cmd(d, DT_EPF_CMD_READ), ==,
                    DT_EPF_ST_READ_FAIL | DT_EPF_ST_IRQ_RAISED);

    /* COPY, signalled by MSI vector 1 (IRQ_NUMBER is 1-based). */
    dt_msi_enable(d, msg, 1);
    qtest_writel(d->qts, msg, 0);
    dt_epf_wr(d, DT_EPF_IRQ_TYPE, DT_EPF_IRQ_MSI);
    dt_epf_wr(d, DT_EPF_IRQ_NUMBER, 1);
    g_assert_cmphex(dt_epf_cmd(d, DT_EPF_CMD_COPY), ==,
                    DT_EPF_ST_COPY_OK | DT_EPF_ST_IRQ_RAISED);
    g_assert_cmphex(qtest_readl(d->qts, msg), ==, DT_MSI_DATA);
    qtest_bufread(d->qts, dst, exp, len);
    g_assert_true(memcmp(buf, exp, len) == 0);

    /* A vector the host did not enable: status, but no message. */
    qtest_writel(d->qts, msg, 0);
    dt_epf_wr(d, DT_EPF_IRQ_NUMBER, 2);
    g_assert_cmphex(dt_epf_cmd(d, DT_EPF_CMD_RAISE_MSI), ==,
                    DT_EPF_ST_IRQ_RAISED);
    g_assert_cmphex(qtest_readl(d->qts, msg), ==, 0);

    /* An unassigned source fails, says which side, and is logged. */
    dt_epf_wr(d, DT_EPF_IRQ_NUMBER, 1);
    dt_epf_wr(d, DT_EPF_SRC_LO, 0);
    dt_epf_wr(d, DT_EPF_SRC_HI, DT_UNASSIGNED >> 32);
    g_assert_cmphex(dt_epf_cmd(d, DT_EPF_CMD_READ), ==,
                    DT_EPF_ST_READ_FAIL | DT_EPF_ST_SRC_INVALID |
                    DT_EPF_ST_IRQ_RAISED);
    g_array_unref(log);
    log = dt_log_get(d, 0);
    dt_check_log(&g_array_index(log, DtLogEntry, log->len - 1), "epf-read",
                 "src", 0, "read", DT_UNASSIGNED, len, 0, "decode-error");

    /* Two command bits at once: ignored, no status, no interrupt. */
    qtest_writel(d->qts, msg, 0);
    g_assert_cmphex(dt_epf_cmd(d, DT_EPF_CMD_READ | DT_EPF_CMD_WRITE), ==, 0);
    g_assert_cmphex(qtest_readl(d->qts, msg), ==, 0);
    dmatd_stop(d);
}

/*
 * Registration
 */

static void dt_add(const DmatdMachine *m, const char *name,
                   void (*fn)(const void *))
{
    g_autofree char *path = g_strdup_printf("dma-testdev/%s/%s", m->name,
                                            name);

    qtest_add_data_func(path, m, fn);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(const void *);
        bool pc;                /* also on pc */
    } tests[] = {
        { "identity", test_identity, true },
        { "identity-props", test_identity_props, true },
        { "write-pattern", test_write_pattern, true },
        { "verify-pattern", test_verify_pattern, true },
        { "copy", test_copy, true },
        { "fill", test_fill, true },
        { "pin-model", test_pin_model, true },
        { "misdirect", test_misdirect, false },
        { "dma-log-ring", test_dma_log_ring, false },
        { "mmio-access", test_mmio_access, false },
        { "err/bad-opcode", test_err_bad_opcode, false },
        { "err/no-segments", test_err_no_segments, false },
        { "err/too-many-segments", test_err_too_many_segs, false },
        { "err/list-align", test_err_list_align, false },
        { "err/list-read", test_err_list_read, false },
        { "err/seg-flags", test_err_seg_flags, false },
        { "err/zero-length", test_err_zero_length, false },
        { "err/addr-overflow", test_err_addr_overflow, false },
        { "err/addr-width", test_err_addr_width, false },
        { "err/list-width", test_err_list_width, false },
        { "err/xfer-too-large", test_err_xfer_too_large, false },
        { "err/length-mismatch", test_err_length_mismatch, false },
        { "err/dma-unassigned", test_err_dma_unassigned, false },
        { "err/dma-unassigned-copy", test_err_dma_unassigned_copy, false },
        { "err/dma-own-bar", test_err_dma_own_bar, false },
        { "err/dma-rom-write", test_err_dma_rom, false },
        { "err/past-ram-end", test_err_past_ram_end, true },
        { "err/bus-master-off", test_err_bus_master_off, false },
        { "big/max-segments", test_big_max_segments, false },
        { "big/64m", test_big_64m, false },
        { "big/1g", test_big_1g, false },
        { "intr/intx", test_intr_intx, true },
        { "intr/msi", test_intr_msi, true },
        { "intr/msix", test_intr_msix, true },
        { "queue/ops", test_queue_ops, true },
        { "queue/wrap", test_queue_wrap, false },
        { "queue/in-flight", test_queue_inflight, true },
        { "queue/cmd-errors", test_queue_cmd_errors, false },
        { "reset/flr-mid-command", test_reset_flr, false },
        { "reset/system-mid-command", test_reset_system, true },
        { "migrate/mid-command", test_migrate_mid_command, true },
        { "bad-input-matrix", test_bad_input_matrix, false },
        { "epf-test", test_epf, true },
    };
    size_t i;

    g_test_init(&argc, &argv, NULL);

    for (i = 0; i < ARRAY_SIZE(tests); i++) {
        if (qtest_has_machine("q35")) {
            dt_add(&dmatd_q35, tests[i].name, tests[i].fn);
        }
        if (tests[i].pc && qtest_has_machine("pc")) {
            dt_add(&dmatd_pc, tests[i].name, tests[i].fn);
        }
    }
    return g_test_run();
}
