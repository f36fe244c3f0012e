/*
 * dma-testdev device qtests: the framework (see framework.h).
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "dma-testdev/framework.h"

/*
 * Failure reporting
 */

void G_GNUC_PRINTF(1, 2) dmatd_report(const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_assertion_message(G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
}

void dmatd_check_u64(const char *what, uint64_t addr, uint64_t exp,
                     uint64_t got)
{
    if (exp != got) {
        dmatd_report("%s: addr 0x%" PRIx64 ": expected 0x%" PRIx64
                     " found 0x%" PRIx64, what, addr, exp, got);
    }
}

void dmatd_check_reg(DmatdDev *d, uint32_t reg, const char *name,
                     uint64_t exp, bool wide)
{
    uint64_t got = wide ? dmatd_rd64(d, reg) : dmatd_rd(d, reg);

    if (got != exp) {
        dmatd_report("register %s (BAR0+0x%03x): addr 0x%" PRIx64
                     ": expected 0x%" PRIx64 " found 0x%" PRIx64,
                     name, reg, d->bar.addr + reg, exp, got);
    }
}

void dmatd_set_dst(DmatdDev *d, uint64_t list, uint32_t count)
{
    dmatd_wr64(d, DMATD_REG_DST_LIST_LO, list);
    dmatd_wr(d, DMATD_REG_DST_COUNT, count);
}

void dmatd_set_src(DmatdDev *d, uint64_t list, uint32_t count)
{
    dmatd_wr64(d, DMATD_REG_SRC_LIST_LO, list);
    dmatd_wr(d, DMATD_REG_SRC_COUNT, count);
}

/*
 * Start a command.  It completes before the register write returns, and
 * every command write counts in CMD_SEQ.  Returns the new CMD_SEQ.
 */
uint64_t dmatd_cmd(DmatdDev *d, uint32_t op)
{
    uint64_t seq = dmatd_rd64(d, DMATD_REG_CMD_SEQ_LO);

    dmatd_wr(d, DMATD_REG_CMD, op);
    DMATD_CHECK_REG64(d, DMATD_REG_CMD_SEQ_LO, seq + 1);
    DMATD_CHECK_REG(d, DMATD_REG_CMD, op);
    return seq + 1;
}

void dmatd_check_no_mismatch(DmatdDev *d)
{
    DMATD_CHECK_REG(d, DMATD_REG_MISMATCH_COUNT, 0);
    DMATD_CHECK_REG(d, DMATD_REG_MISMATCH_SEG, 0);
    DMATD_CHECK_REG64(d, DMATD_REG_MISMATCH_OFF_LO, 0);
    DMATD_CHECK_REG64(d, DMATD_REG_MISMATCH_EXP_LO, 0);
    DMATD_CHECK_REG64(d, DMATD_REG_MISMATCH_GOT_LO, 0);
}

/* The last command succeeded, moved @bytes and summed them to @csum. */
void dmatd_check_ok(DmatdDev *d, uint64_t bytes, uint64_t csum)
{
    DMATD_CHECK_REG(d, DMATD_REG_STATUS, DMATD_STATUS_DONE);
    DMATD_CHECK_REG(d, DMATD_REG_ERROR, DMATD_ERR_NONE);
    DMATD_CHECK_REG(d, DMATD_REG_ERR_LIST, DMATD_LIST_NONE);
    DMATD_CHECK_REG(d, DMATD_REG_ERR_SEG, 0);
    DMATD_CHECK_REG64(d, DMATD_REG_ERR_ADDR_LO, 0);
    DMATD_CHECK_REG64(d, DMATD_REG_BYTES_DONE_LO, bytes);
    DMATD_CHECK_REG64(d, DMATD_REG_CHECKSUM_LO, csum);
    dmatd_check_no_mismatch(d);
}

/* The last command failed with @err at @list/@seg/@addr after @bytes. */
void dmatd_check_error(DmatdDev *d, uint32_t err, uint32_t list,
                       uint32_t seg, uint64_t addr, uint64_t bytes)
{
    DMATD_CHECK_REG(d, DMATD_REG_STATUS,
                    DMATD_STATUS_DONE | DMATD_STATUS_ERROR);
    DMATD_CHECK_REG(d, DMATD_REG_ERROR, err);
    DMATD_CHECK_REG(d, DMATD_REG_ERR_LIST, list);
    DMATD_CHECK_REG(d, DMATD_REG_ERR_SEG, seg);
    DMATD_CHECK_REG64(d, DMATD_REG_ERR_ADDR_LO, addr);
    DMATD_CHECK_REG64(d, DMATD_REG_BYTES_DONE_LO, bytes);
    dmatd_check_no_mismatch(d);
}

/* The last VERIFY found @count bad words, the first one as given. */
void dmatd_check_mismatch(DmatdDev *d, uint64_t bytes, uint32_t count,
                          uint32_t seg, uint64_t off, uint64_t exp,
                          uint64_t got)
{
    DMATD_CHECK_REG(d, DMATD_REG_STATUS,
                    DMATD_STATUS_DONE | DMATD_STATUS_MISMATCH);
    DMATD_CHECK_REG(d, DMATD_REG_ERROR, DMATD_ERR_NONE);
    DMATD_CHECK_REG(d, DMATD_REG_ERR_LIST, DMATD_LIST_NONE);
    DMATD_CHECK_REG(d, DMATD_REG_ERR_SEG, 0);
    DMATD_CHECK_REG64(d, DMATD_REG_ERR_ADDR_LO, 0);
    DMATD_CHECK_REG64(d, DMATD_REG_BYTES_DONE_LO, bytes);
    DMATD_CHECK_REG(d, DMATD_REG_MISMATCH_COUNT, count);
    DMATD_CHECK_REG(d, DMATD_REG_MISMATCH_SEG, seg);
    DMATD_CHECK_REG64(d, DMATD_REG_MISMATCH_OFF_LO, off);
    DMATD_CHECK_REG64(d, DMATD_REG_MISMATCH_EXP_LO, exp);
    DMATD_CHECK_REG64(d, DMATD_REG_MISMATCH_GOT_LO, got);
}

/*
 * Data: pattern, checksum, segment lists, guest memory images
 */

void dmatd_pattern(uint8_t *buf, uint32_t seed, uint64_t off,
                   uint64_t len)
{
    uint64_t i;

    for (i = 0; i < len; i++) {
        buf[i] = dmatd_pattern_byte(seed, off + i);
    }
}

void dmatd_fill_stream(uint8_t *buf, uint64_t fill, uint64_t len)
{
    uint64_t i;

    for (i = 0; i < len; i++) {
        buf[i] = fill >> ((i & 7) * 8);
    }
}

void dmatd_csum_start(DmatdCsum *c)
{
    *c = (DmatdCsum) { .csum = DMATD_CSUM_INIT };
}

void dmatd_csum_feed(DmatdCsum *c, const uint8_t *buf, uint64_t len)
{
    uint64_t i;

    for (i = 0; i < len; i++) {
        c->word |= (uint64_t)buf[i] << ((c->off & 7) * 8);
        if (!(++c->off & 7)) {
            c->csum += dmatd_csum_term(c->word, c->off / 8 - 1);
            c->word = 0;
        }
    }
}

uint64_t dmatd_csum_end(DmatdCsum *c)
{
    return (c->off & 7) ? c->csum + dmatd_csum_term(c->word, c->off / 8)
                        : c->csum;
}

uint64_t dmatd_csum_buf(const uint8_t *buf, uint64_t len)
{
    DmatdCsum c;

    dmatd_csum_start(&c);
    dmatd_csum_feed(&c, buf, len);
    return dmatd_csum_end(&c);
}

/* The checksum of the pattern of @seed over transfer offsets [0, len). */
uint64_t dmatd_pattern_csum(uint32_t seed, uint64_t len)
{
    uint64_t csum = DMATD_CSUM_INIT;
    uint64_t off;

    for (off = 0; off + 8 <= len; off += 8) {
        csum += dmatd_csum_term(dmatd_pattern_word(seed, off), off / 8);
    }
    if (off < len) {
        csum += dmatd_csum_term(dmatd_pattern_word(seed, off) &
                                MAKE_64BIT_MASK(0, (len - off) * 8), off / 8);
    }
    return csum;
}

uint64_t dmatd_total(const DmatdSeg *segs, size_t n)
{
    uint64_t total = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        total += segs[i].len;
    }
    return total;
}

void dmatd_put_list_at(DmatdDev *d, uint64_t at, const DmatdSeg *segs,
                       size_t n)
{
    g_autofree DmatdSeg *le = g_new(DmatdSeg, n);
    size_t i;

    for (i = 0; i < n; i++) {
        le[i] = (DmatdSeg) {
            .addr = cpu_to_le64(segs[i].addr),
            .len = cpu_to_le32(segs[i].len),
            .flags = cpu_to_le32(segs[i].flags),
        };
    }
    qtest_bufwrite(d->qts, at, le, n * sizeof(*le));
}

/* Put a segment list into freshly allocated guest memory. */
uint64_t dmatd_put_list(DmatdDev *d, const DmatdSeg *segs, size_t n)
{
    uint64_t at = guest_alloc(&d->alloc, n * DMATD_SEG_SIZE);

    g_assert_cmphex(at % DMATD_SEG_ALIGN, ==, 0);
    dmatd_put_list_at(d, at, segs, n);
    return at;
}

/* Write @stream into the segments, in transfer order, from the host. */
void dmatd_scatter(DmatdDev *d, const DmatdSeg *segs, size_t n,
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
void dmatd_check_image(DmatdDev *d, const char *what, uint64_t base,
                       uint64_t size, const DmatdSeg *segs, size_t n,
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
        dmatd_report("%s: addr 0x%" PRIx64 " (segment %zu, transfer offset "
                     "0x%" PRIx64 "): expected 0x%02x found 0x%02x "
                  "(%" PRIu64 " bad bytes in 0x%" PRIx64 "+0x%" PRIx64 ")",
                  what, base + first, s,
                  off + (base + first - segs[s].addr), exp[first],
                  got[first], bad, base, size);
    } else {
        dmatd_report("%s: addr 0x%" PRIx64 " (guard byte): expected 0x%02x "
                     "found 0x%02x (%" PRIu64 " bad bytes in 0x%" PRIx64
                  "+0x%" PRIx64 ")", what, base + first, exp[first],
                  got[first], bad, base, size);
    }
}

/* Check that [addr, addr + len) still holds @guard. */
void dmatd_check_untouched(DmatdDev *d, const char *what, uint64_t addr,
                           uint64_t len, uint8_t guard)
{
    dmatd_check_image(d, what, addr, len, NULL, 0, NULL, guard);
}

/*
 * The DMA log
 */

void dmatd_qdict_str(QDict *e, const char *key, char *buf, size_t size)
{
    const char *s = qdict_get_try_str(e, key);

    if (!s) {
        dmatd_report("DMA log entry: no string '%s'", key);
        return;
    }
    g_strlcpy(buf, s, size);
}

/* The DMA log entries of command @cmd (0: all), oldest first. */
GArray *dmatd_log_get(DmatdDev *d, uint64_t cmd)
{
    GArray *log = g_array_new(false, true, sizeof(DmatdLogEntry));
    QList *list = dmatd_log_read(d->qts, "dt0", 0);
    QListEntry *le;

    QLIST_FOREACH_ENTRY(list, le) {
        QDict *e = qobject_to(QDict, qlist_entry_obj(le));
        DmatdLogEntry ent = { 0 };

        g_assert_nonnull(e);
        ent.cmd = dmatd_qdict_uint(e, "cmd");
        if (cmd && ent.cmd != cmd) {
            continue;
        }
        ent.seq = dmatd_qdict_uint(e, "seq");
        ent.index = dmatd_qdict_uint(e, "index");
        ent.addr = dmatd_qdict_uint(e, "addr");
        ent.len = dmatd_qdict_uint(e, "len");
        ent.done = dmatd_qdict_uint(e, "done");
        dmatd_qdict_str(e, "op", ent.op, sizeof(ent.op));
        dmatd_qdict_str(e, "list", ent.list, sizeof(ent.list));
        dmatd_qdict_str(e, "dir", ent.dir, sizeof(ent.dir));
        dmatd_qdict_str(e, "result", ent.result, sizeof(ent.result));
        g_array_append_val(log, ent);
    }
    qobject_unref(list);
    return log;
}

void dmatd_check_log(const DmatdLogEntry *e, const char *op,
                     const char *list, uint32_t index, const char *dir,
                     uint64_t addr, uint64_t len, uint64_t done,
                     const char *result)
{
    if (strcmp(e->op, op) || strcmp(e->list, list) || e->index != index ||
        strcmp(e->dir, dir) || e->addr != addr || e->len != len ||
        e->done != done || strcmp(e->result, result)) {
        dmatd_report("DMA log entry seq %" PRIu64 " (cmd %" PRIu64 "): "
                     "expected %s %s[%u] %s addr 0x%" PRIx64 " len 0x%" PRIx64
                  " done 0x%" PRIx64 " %s, found %s %s[%u] %s addr 0x%"
                  PRIx64 " len 0x%" PRIx64 " done 0x%" PRIx64 " %s",
                  e->seq, e->cmd, op, list, index, dir, addr, len, done,
                  result, e->op, e->list, e->index, e->dir, e->addr,
                  e->len, e->done, e->result);
    }
}

void dmatd_check_log_seqs(GArray *log)
{
    guint i;

    for (i = 1; i < log->len; i++) {
        g_assert_cmpuint(g_array_index(log, DmatdLogEntry, i).seq, ==,
                         g_array_index(log, DmatdLogEntry, i - 1).seq + 1);
    }
}

/* Check the data entries of @list ("src"/"dst") in @log from @from on. */
void dmatd_check_log_segs(GArray *log, guint from, const char *op,
                          const char *list, const DmatdSeg *segs, size_t n)
{
    const char *dir = !strcmp(list, "dst") ? "write" : "read";
    size_t seen = 0;
    guint i;

    for (i = from; i < log->len; i++) {
        DmatdLogEntry *e = &g_array_index(log, DmatdLogEntry, i);

        if (strcmp(e->list, list)) {
            continue;
        }
        g_assert_cmpuint(seen, <, n);
        dmatd_check_log(e, op, list, seen, dir, segs[seen].addr,
                        segs[seen].len, segs[seen].len, "ok");
        seen++;
    }
    g_assert_cmpuint(seen, ==, n);
}

/*
 * The log of a successful single-list command: the list read, then one
 * entry per segment.
 */
void dmatd_check_log_single(DmatdDev *d, uint64_t cmd, const char *op,
                            const char *list, uint64_t list_addr,
                            const DmatdSeg *segs, size_t n)
{
    g_autoptr(GArray) log = dmatd_log_get(d, cmd);
    g_autofree char *list_kind = g_strdup_printf("%s-list", list);

    g_assert_cmpuint(log->len, ==, n + 1);
    dmatd_check_log_seqs(log);
    dmatd_check_log(&g_array_index(log, DmatdLogEntry, 0), op, list_kind, 0,
                    "read", list_addr, n * DMATD_SEG_SIZE, n * DMATD_SEG_SIZE,
                    "ok");
    dmatd_check_log_segs(log, 1, op, list, segs, n);
}

/* Nothing but list reads was logged for @cmd; returns how many. */
guint dmatd_check_log_no_data(DmatdDev *d, uint64_t cmd)
{
    g_autoptr(GArray) log = dmatd_log_get(d, cmd);
    guint i;

    for (i = 0; i < log->len; i++) {
        DmatdLogEntry *e = &g_array_index(log, DmatdLogEntry, i);

        if (!g_str_has_suffix(e->list, "-list")) {
            dmatd_report("DMA log entry seq %" PRIu64 ": cmd %" PRIu64
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

void dmatd_odd_layout(uint64_t base, DmatdSeg *segs)
{
    static const DmatdSeg layout[DMATD_ODD_NSEGS] = {
        { 0x3011, 1 },          /* transfer offset 0 */
        { 0x0103, 7 },          /* 1: odd address, rest of word 0 */
        { 0x1000, 4096 },       /* 8: a whole page */
        { 0x2009, 3 },          /* 4104 */
        { 0x0205, 13 },         /* 4107: spans words both ways */
        { 0x2401, 3071 },       /* 4120: ends in a partial word */
    };
    int i;

    for (i = 0; i < DMATD_ODD_NSEGS; i++) {
        segs[i] = layout[i];
        segs[i].addr += base;
    }
}

/* A region of guest memory filled with DMATD_GUARD. */
uint64_t dmatd_region(DmatdDev *d, uint64_t size)
{
    uint64_t base = guest_alloc(&d->alloc, size);

    qtest_memset(d->qts, base, DMATD_GUARD, size);
    return base;
}

/*
 * Functional tests (q35 and pc)
 */

bool dmatd_intx_level(DmatdDev *d)
{
    return qpci_config_readw(d->dev, PCI_STATUS) & PCI_STATUS_INTERRUPT;
}

/* Run a one-page WRITE_PATTERN through the registers. */
void dmatd_quick_cmd(DmatdDev *d, uint64_t list)
{
    dmatd_set_dst(d, list, 1);
    dmatd_wr(d, DMATD_REG_SEED, DMATD_SEED);
    dmatd_cmd(d, DMATD_OP_WRITE_PATTERN);
    DMATD_CHECK_REG(d, DMATD_REG_STATUS, DMATD_STATUS_DONE);
}

uint64_t dmatd_quick_list(DmatdDev *d)
{
    DmatdSeg seg = { dmatd_region(d, DMATD_PAGE), DMATD_PAGE };

    return dmatd_put_list(d, &seg, 1);
}

/* Program the MSI capability: @nvec vectors (a power of 2) at @addr. */
void dmatd_msi_enable(DmatdDev *d, uint64_t addr, unsigned nvec)
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
    qpci_config_writew(d->dev, cap + PCI_MSI_DATA_64, DMATD_MSI_DATA);
    flags &= ~PCI_MSI_FLAGS_QSIZE;
    flags |= (ctz32(nvec) << 4) | PCI_MSI_FLAGS_ENABLE;
    qpci_config_writew(d->dev, cap + PCI_MSI_FLAGS, flags);
}

void dmatd_check_cqe(const DmatdCqe *c, uint64_t tag, uint32_t status,
                     uint32_t error, uint64_t bytes, uint64_t csum)
{
    if (c->tag != tag || c->status != status ||
        DMATD_CQE_ERROR(c->error) != error || c->bytes_done != bytes ||
        (csum && c->checksum != csum)) {
        dmatd_report("completion (cmd %" PRIu64 "): expected tag 0x%" PRIx64
                     " status 0x%x error %u bytes %" PRIu64 " csum 0x%" PRIx64
                  ", found tag 0x%" PRIx64 " status 0x%x error %u (%s) "
                  "bytes %" PRIu64 " csum 0x%" PRIx64, c->cmd_seq, tag,
                  status, error, bytes, csum, c->tag, c->status,
                  DMATD_CQE_ERROR(c->error),
                  dmatd_error_name(DMATD_CQE_ERROR(c->error)), c->bytes_done,
                  c->checksum);
    }
}

/* A WRITE_PATTERN of one segment [addr, addr + len). */
DmatdSqe dmatd_sqe_pattern(DmatdDev *d, uint64_t addr, uint32_t len,
                   uint32_t seed, uint64_t tag)
{
    DmatdSeg seg = { addr, len };

    return (DmatdSqe) {
        .op = DMATD_OP_WRITE_PATTERN,
        .seed = seed,
        .dst_list = dmatd_put_list(d, &seg, 1),
        .dst_count = 1,
        .tag = tag,
    };
}

void dmatd_check_pattern_at(DmatdDev *d, const char *what, uint64_t addr,
                            uint32_t len, uint32_t seed)
{
    g_autofree uint8_t *exp = g_malloc(len);
    DmatdSeg seg = { addr, len };

    dmatd_pattern(exp, seed, 0, len);
    dmatd_check_image(d, what, addr, len, &seg, 1, exp, 0);
}

/*
 * Poll (without letting virtual time pass) until the pattern word at
 * @addr is there: the bottom half that runs a step has had its turn.
 */
void dmatd_wait_word(DmatdDev *d, uint64_t addr, uint64_t word)
{
    int i;

    for (i = 0; i < 10000 && qtest_readq(d->qts, addr) != word; i++) {
        g_usleep(100);
    }
    g_assert_cmphex(qtest_readq(d->qts, addr), ==, word);
}

const DmatdBadSqe dmatd_bad_sqes[] = {
    { "SQE opcode 0", DMATD_OP_NONE, 0, 0, 0, 0, DMATD_ERR_BAD_OPCODE },
    { "SQE opcode 5", DMATD_OP_MAX + 1, 0, 0, 0, 0, DMATD_ERR_BAD_OPCODE },
    { "SQE opcode ~0", UINT32_MAX, 0, 0, 0, 0, DMATD_ERR_BAD_OPCODE },
    { "SQE reserved flag 1", DMATD_OP_WRITE_PATTERN, 1u << 1, 0, 0, 0,
      DMATD_ERR_SQE_RESERVED },
    { "SQE reserved flag 31", DMATD_OP_FILL, 1u << 31, 0, 0, 0,
      DMATD_ERR_SQE_RESERVED },
    { "SQE reserved word 0", DMATD_OP_FILL, 0, 0, 1, 0,
      DMATD_ERR_SQE_RESERVED },
    { "SQE reserved word 1", DMATD_OP_WRITE_PATTERN, 0, 0, 0, 0x80000000,
      DMATD_ERR_SQE_RESERVED },
    { "SQE vector 32", DMATD_OP_FILL, DMATD_SQE_F_INTR, DMATD_MAX_VECTORS, 0, 0,
      DMATD_ERR_BAD_VECTOR },
    { "SQE vector ~0", DMATD_OP_WRITE_PATTERN, 0, UINT32_MAX, 0, 0,
      DMATD_ERR_BAD_VECTOR },
};
const size_t dmatd_nr_bad_sqes = ARRAY_SIZE(dmatd_bad_sqes);

/* @good with the bad fields of dmatd_bad_sqes[@i], tagged @i. */
DmatdSqe dmatd_sqe_spoil(const DmatdSqe *good, size_t i)
{
    DmatdSqe e = *good;

    e.op = dmatd_bad_sqes[i].op;
    e.flags = dmatd_bad_sqes[i].flags;
    e.vector = dmatd_bad_sqes[i].vector;
    e.rsvd0 = dmatd_bad_sqes[i].rsvd0;
    e.rsvd1 = dmatd_bad_sqes[i].rsvd1;
    e.tag = i;
    return e;
}

void dmatd_check_spoiled_cqe(const DmatdCqe *c, size_t i)
{
    dmatd_check_cqe(c, i, DMATD_STATUS_DONE | DMATD_STATUS_ERROR,
                    dmatd_bad_sqes[i].error,
                    0, 0);
}

void dmatd_add(const char *name, void (*fn)(const void *), bool pc)
{
    g_autofree char *q35 = g_strdup_printf("dma-testdev/q35/%s", name);
    g_autofree char *i440fx = g_strdup_printf("dma-testdev/pc/%s", name);

    if (qtest_has_machine("q35")) {
        qtest_add_data_func(q35, &dmatd_q35, fn);
    }
    if (pc && qtest_has_machine("pc")) {
        qtest_add_data_func(i440fx, &dmatd_pc, fn);
    }
}
