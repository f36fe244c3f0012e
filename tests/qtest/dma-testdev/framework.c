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

void G_GNUC_PRINTF(1, 2) dt_report(const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_assertion_message(G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
}

void dt_check_u64(const char *what, uint64_t addr, uint64_t exp,
                  uint64_t got)
{
    if (exp != got) {
        dt_report("%s: addr 0x%" PRIx64 ": expected 0x%" PRIx64
                  " found 0x%" PRIx64, what, addr, exp, got);
    }
}

void dt_check_reg(DmatdDev *d, uint32_t reg, const char *name,
                  uint64_t exp, bool wide)
{
    uint64_t got = wide ? dmatd_rd64(d, reg) : dmatd_rd(d, reg);

    if (got != exp) {
        dt_report("register %s (BAR0+0x%03x): addr 0x%" PRIx64
                  ": expected 0x%" PRIx64 " found 0x%" PRIx64,
                  name, reg, d->bar.addr + reg, exp, got);
    }
}

void dt_set_dst(DmatdDev *d, uint64_t list, uint32_t count)
{
    dmatd_wr64(d, DT_REG_DST_LIST_LO, list);
    dmatd_wr(d, DT_REG_DST_COUNT, count);
}

void dt_set_src(DmatdDev *d, uint64_t list, uint32_t count)
{
    dmatd_wr64(d, DT_REG_SRC_LIST_LO, list);
    dmatd_wr(d, DT_REG_SRC_COUNT, count);
}

/*
 * Start a command.  It completes before the register write returns, and
 * every command write counts in CMD_SEQ.  Returns the new CMD_SEQ.
 */
uint64_t dt_cmd(DmatdDev *d, uint32_t op)
{
    uint64_t seq = dmatd_rd64(d, DT_REG_CMD_SEQ_LO);

    dmatd_wr(d, DT_REG_CMD, op);
    DT_CHECK_REG64(d, DT_REG_CMD_SEQ_LO, seq + 1);
    DT_CHECK_REG(d, DT_REG_CMD, op);
    return seq + 1;
}

void dt_check_no_mismatch(DmatdDev *d)
{
    DT_CHECK_REG(d, DT_REG_MISMATCH_COUNT, 0);
    DT_CHECK_REG(d, DT_REG_MISMATCH_SEG, 0);
    DT_CHECK_REG64(d, DT_REG_MISMATCH_OFF_LO, 0);
    DT_CHECK_REG64(d, DT_REG_MISMATCH_EXP_LO, 0);
    DT_CHECK_REG64(d, DT_REG_MISMATCH_GOT_LO, 0);
}

/* The last command succeeded, moved @bytes and summed them to @csum. */
void dt_check_ok(DmatdDev *d, uint64_t bytes, uint64_t csum)
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
void dt_check_error(DmatdDev *d, uint32_t err, uint32_t list,
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
void dt_check_mismatch(DmatdDev *d, uint64_t bytes, uint32_t count,
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

void dt_pattern(uint8_t *buf, uint32_t seed, uint64_t off,
                uint64_t len)
{
    uint64_t i;

    for (i = 0; i < len; i++) {
        buf[i] = dt_pattern_byte(seed, off + i);
    }
}

void dt_fill_stream(uint8_t *buf, uint64_t fill, uint64_t len)
{
    uint64_t i;

    for (i = 0; i < len; i++) {
        buf[i] = fill >> ((i & 7) * 8);
    }
}

void dt_csum_start(DtCsum *c)
{
    *c = (DtCsum) { .csum = DT_CSUM_INIT };
}

void dt_csum_feed(DtCsum *c, const uint8_t *buf, uint64_t len)
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

uint64_t dt_csum_end(DtCsum *c)
{
    return (c->off & 7) ? dt_csum_word(c->csum, c->word) : c->csum;
}

uint64_t dt_csum_buf(const uint8_t *buf, uint64_t len)
{
    DtCsum c;

    dt_csum_start(&c);
    dt_csum_feed(&c, buf, len);
    return dt_csum_end(&c);
}

/* The checksum of the pattern of @seed over transfer offsets [0, len). */
uint64_t dt_pattern_csum(uint32_t seed, uint64_t len)
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

uint64_t dt_total(const DtSeg *segs, size_t n)
{
    uint64_t total = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        total += segs[i].len;
    }
    return total;
}

void dt_put_list_at(DmatdDev *d, uint64_t at, const DtSeg *segs,
                    size_t n)
{
    g_autofree DtSeg *le = g_new(DtSeg, n);
    size_t i;

    for (i = 0; i < n; i++) {
        le[i] = (DtSeg) {
            .addr = cpu_to_le64(segs[i].addr),
            .len = cpu_to_le32(segs[i].len),
            .flags = cpu_to_le32(segs[i].flags),
        };
    }
    qtest_bufwrite(d->qts, at, le, n * sizeof(*le));
}

/* Put a segment list into freshly allocated guest memory. */
uint64_t dt_put_list(DmatdDev *d, const DtSeg *segs, size_t n)
{
    uint64_t at = guest_alloc(&d->alloc, n * DT_SEG_SIZE);

    g_assert_cmphex(at % DT_SEG_ALIGN, ==, 0);
    dt_put_list_at(d, at, segs, n);
    return at;
}

/* Write @stream into the segments, in transfer order, from the host. */
void dt_scatter(DmatdDev *d, const DtSeg *segs, size_t n,
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
void dt_check_image(DmatdDev *d, const char *what, uint64_t base,
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
void dt_check_untouched(DmatdDev *d, const char *what, uint64_t addr,
                        uint64_t len, uint8_t guard)
{
    dt_check_image(d, what, addr, len, NULL, 0, NULL, guard);
}

/*
 * The DMA log
 */

uint64_t dt_qdict_uint(QDict *e, const char *key)
{
    QNum *n = qobject_to(QNum, qdict_get(e, key));
    uint64_t val = 0;

    if (!n || !qnum_get_try_uint(n, &val)) {
        dt_report("DMA log entry: no unsigned integer '%s'", key);
    }
    return val;
}

void dt_qdict_str(QDict *e, const char *key, char *buf, size_t size)
{
    const char *s = qdict_get_try_str(e, key);

    if (!s) {
        dt_report("DMA log entry: no string '%s'", key);
        return;
    }
    g_strlcpy(buf, s, size);
}

/* The DMA log entries of command @cmd (0: all), oldest first. */
GArray *dt_log_get(DmatdDev *d, uint64_t cmd)
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

void dt_check_log(const DtLogEntry *e, const char *op,
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

void dt_check_log_seqs(GArray *log)
{
    guint i;

    for (i = 1; i < log->len; i++) {
        g_assert_cmpuint(g_array_index(log, DtLogEntry, i).seq, ==,
                         g_array_index(log, DtLogEntry, i - 1).seq + 1);
    }
}

/* Check the data entries of @list ("src"/"dst") in @log from @from on. */
void dt_check_log_segs(GArray *log, guint from, const char *op,
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
void dt_check_log_single(DmatdDev *d, uint64_t cmd, const char *op,
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
guint dt_check_log_no_data(DmatdDev *d, uint64_t cmd)
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

void dt_odd_layout(uint64_t base, DtSeg *segs)
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
uint64_t dt_region(DmatdDev *d, uint64_t size)
{
    uint64_t base = guest_alloc(&d->alloc, size);

    qtest_memset(d->qts, base, DT_GUARD, size);
    return base;
}

/*
 * Functional tests (q35 and pc)
 */

bool dt_intx_level(DmatdDev *d)
{
    return qpci_config_readw(d->dev, PCI_STATUS) & PCI_STATUS_INTERRUPT;
}

/* Run a one-page WRITE_PATTERN through the registers. */
void dt_quick_cmd(DmatdDev *d, uint64_t list)
{
    dt_set_dst(d, list, 1);
    dmatd_wr(d, DT_REG_SEED, DT_SEED);
    dt_cmd(d, DT_OP_WRITE_PATTERN);
    DT_CHECK_REG(d, DT_REG_STATUS, DT_STATUS_DONE);
}

uint64_t dt_quick_list(DmatdDev *d)
{
    DtSeg seg = { dt_region(d, DT_PAGE), DT_PAGE };

    return dt_put_list(d, &seg, 1);
}

/* Program the MSI capability: @nvec vectors (a power of 2) at @addr. */
void dt_msi_enable(DmatdDev *d, uint64_t addr, unsigned nvec)
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

/* Set up and enable a queue of @size entries at fresh addresses. */
void dt_q_init(DmatdDev *d, DtQueue *q, uint32_t size)
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
void dt_q_put(DmatdDev *d, DtQueue *q, const DtSqe *e)
{
    dmatd_sqe_write(d, q->sq + q->tail * DT_SQE_SIZE, e);
    q->tail = (q->tail + 1) % q->size;
}

void dt_q_ring(DmatdDev *d, DtQueue *q)
{
    dmatd_wr(d, DT_REG_SQ_TAIL, q->tail);
}

void dt_q_read(DmatdDev *d, DtQueue *q, uint32_t slot, DtCqe *c)
{
    dmatd_cqe_load(d, q->cq + slot * DT_CQE_SIZE, c);
}

/* Is the next completion there?  Copies it out if so. */
bool dt_q_peek(DmatdDev *d, DtQueue *q, DtCqe *c)
{
    dt_q_read(d, q, q->cq_head, c);
    return !!(c->status & DT_CQE_PHASE) == q->phase;
}

/* Consume the next completion, which must be there. */
void dt_q_pop(DmatdDev *d, DtQueue *q, DtCqe *c)
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
void dt_q_wait(DmatdDev *d, DtQueue *q, DtCqe *c, int64_t ns,
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

void dt_check_cqe(const DtCqe *c, uint64_t tag, uint32_t status,
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
DtSqe dt_sqe_write(DmatdDev *d, uint64_t addr, uint32_t len,
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

void dt_check_pattern_at(DmatdDev *d, const char *what, uint64_t addr,
                         uint32_t len, uint32_t seed)
{
    g_autofree uint8_t *exp = g_malloc(len);
    DtSeg seg = { addr, len };

    dt_pattern(exp, seed, 0, len);
    dt_check_image(d, what, addr, len, &seg, 1, exp, 0);
}

/*
 * Poll (without letting virtual time pass) until the pattern word at
 * @addr is there: the bottom half that runs a step has had its turn.
 */
void dt_wait_word(DmatdDev *d, uint64_t addr, uint64_t word)
{
    int i;

    for (i = 0; i < 10000 && qtest_readq(d->qts, addr) != word; i++) {
        g_usleep(100);
    }
    g_assert_cmphex(qtest_readq(d->qts, addr), ==, word);
}

const DtBadSqe dt_bad_sqes[DT_NR_BAD_SQES] = {
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
DtSqe dt_sqe_spoil(const DtSqe *good, size_t i)
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

void dt_add(const char *name, void (*fn)(const void *), bool pc)
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
