/*
 * dma-testdev: a DMA-capable PCI reference device for testing DMA address
 * handling in guests (e.g. Linux's no-IOMMU IOMMU_IOAS_NOIOMMU_GET_PA).
 *
 * The guest hands the device lists of (address, length) segments; the
 * device writes or checks a position-tagged pattern, copies or fills, and
 * reports precisely what went wrong and where.  Commands are started
 * either synchronously through registers or through a command queue in
 * guest memory, whose commands run in steps from a bottom half, paced in
 * virtual time, and complete with a record written back by DMA and an
 * INTx, MSI or MSI-X interrupt.  Every transaction is kept in a bounded
 * DMA log that the host reads through QOM, so a test outside the guest can
 * check where each DMA really went.
 *
 * The guest-visible contract is include/hw/misc/dma-testdev.h; the spec is
 * docs/specs/dma-testdev.rst.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "dma-testdev-compat.h"
#include "qemu/log.h"
#include "qemu/units.h"
#include "qemu/bswap.h"
#include "qemu/rcu.h"
#include "qemu/bitops.h"
#include "qemu/host-utils.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "qemu/error-report.h"
#include "qemu/madvise.h"
#include "qemu/memalign.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/pcie.h"
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "migration/vmstate.h"
#include "system/dma.h"
#include "system/runstate.h"
#include "hw/misc/dma-testdev.h"
#include "dma-testdev-internal.h"
#include "trace.h"

static const char *const dmatd_bad_names[] = {
    [DMATD_BAD_NONE] = "none",
    [DMATD_BAD_ACCESS_SIZE] = "access size or alignment",
    [DMATD_BAD_READ_ONLY] = "read-only register",
    [DMATD_BAD_UNKNOWN_REG] = "no such register",
    [DMATD_BAD_RESERVED_BITS] = "reserved bits set",
    [DMATD_BAD_QUEUE_ENABLED] = "queue setup while the queue is enabled",
    [DMATD_BAD_QUEUE_DISABLED] = "doorbell while the queue is not running",
};

static const char *dmatd_list_name(uint8_t list)
{
    return list == DMATD_LIST_SRC ? "src" :
           list == DMATD_LIST_DST ? "dst" : "none";
}

/*
 * Guest programming errors that have no command to fail: counted and kept
 * in DMATD_REG_BAD_COUNT/INFO so that the guest sees them too.
 */
void dmatd_bad(DmaTestdevState *s, hwaddr addr, unsigned size, bool is_write,
               uint32_t reason, const char *fmt, ...)
{
    g_autofree char *what = NULL;
    va_list ap;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);

    if (s->bad_count < UINT32_MAX) {
        s->bad_count++;
    }
    s->bad_info = (addr & 0xfff) | (MIN(size, 15) << 12) |
                  (is_write ? DMATD_BAD_INFO_WRITE : 0) | (reason << 24);
    qemu_log_mask(LOG_GUEST_ERROR, "%s: %u-byte %s at 0x%03" HWADDR_PRIx
                  ": %s: %s\n", TYPE_DMA_TESTDEV, size,
                  is_write ? "write" : "read", addr, dmatd_bad_names[reason],
                  what);
    trace_dma_testdev_bad_access(addr, size, is_write, dmatd_bad_names[reason]);
}

/*
 * DMA log
 */

void dmatd_log_add(DmaTestdevState *s, const DmaTestdevCmd *c,
                   uint8_t kind, uint32_t index, uint64_t addr,
                   uint64_t len, uint64_t done, uint32_t result)
{
    DmaTestdevLogEntry *e = &s->log[s->log_head];

    *e = (DmaTestdevLogEntry) {
        .seq = ++s->log_seq,
        .cmd = c->seq,
        .addr = addr,
        .len = len,
        .done = done,
        .index = index,
        .op = c->op <= DMATD_OP_MAX || (s->epf && c->op <= DMATD_LOG_OP_MAX)
              ? c->op : UINT8_MAX,
        .kind = kind,
        .result = result,
    };
    s->log_head = (s->log_head + 1) % s->log_size;
    s->log_count = MIN(s->log_count + 1, s->log_size);

    trace_dma_testdev_dma(c->seq, dmatd_log_kind_name(kind), index,
                          dmatd_log_kind_is_write(kind) ? "write" : "read",
                          addr, len, done, dmatd_error_name(result));
}

/*
 * The command engine.  A command is validated and run in steps, each
 * limited by a byte budget; the register path runs one unlimited step,
 * the queue runs "step-size" bytes per step.
 */

/*
 * Record a failed command.  Only the first error of a command is kept:
 * it is the one that stopped it.
 */
static void dmatd_fail(DmaTestdevCmd *c, uint32_t err, uint8_t list,
                       uint32_t seg, uint64_t addr)
{
    if (c->res.error != DMATD_ERR_NONE || c->abandoned) {
        return;
    }
    c->res.error = err;
    c->res.err_list = list;
    c->res.err_seg = seg;
    c->res.err_addr = addr;
    qemu_log_mask(LOG_GUEST_ERROR,
                  "%s: command %" PRIu64 " (%s) failed: %s, %s segment %u, "
                  "address 0x%" PRIx64 "\n", TYPE_DMA_TESTDEV, c->seq,
                  dmatd_op_name(c->op), dmatd_error_name(err),
                  dmatd_list_name(list), seg, addr);
    trace_dma_testdev_error(c->seq, dmatd_error_name(err),
                            dmatd_list_name(list), seg, addr);
}

uint32_t dmatd_memtx_error(MemTxResult res)
{
    return res == MEMTX_DECODE_ERROR ? DMATD_ERR_DMA_UNASSIGNED
                                     : DMATD_ERR_DMA_ACCESS;
}

/* Is [addr, addr + len) free of wrap-around and within the address width? */
uint32_t dmatd_check_range(DmaTestdevState *s, uint64_t addr, uint64_t len)
{
    uint64_t last;

    if (uadd64_overflow(addr, len - 1, &last)) {
        return DMATD_ERR_ADDR_OVERFLOW;
    }
    if (s->addr_bits < 64 && (last >> s->addr_bits)) {
        return DMATD_ERR_ADDR_WIDTH;
    }
    return DMATD_ERR_NONE;
}

/*
 * Steps and the device's own DMA.
 *
 * Any DMA or interrupt message of the device may land in config space
 * (ECAM) or in another device, and from there reset the device (FLR,
 * Secondary Bus Reset, a system reset) or unplug it (slot power off after
 * device_del) while the step that issued it is still on the stack.  A
 * step therefore works on its own copy of the command, holds a reference
 * to the device, and checks the device's epoch after every access: if a
 * reset or unplug happened, the copy is dropped and the step returns
 * without touching anything else.  What the guest sees is that of the
 * reset or unplug alone.  Bus Master off and moved BARs need nothing of
 * this: DMA then fails like any other, and the engine does not use BARs.
 */
void dmatd_step_begin(DmaTestdevState *s, DmaTestdevCmd *c)
{
    s->step_start_ns = get_clock();
    object_ref(OBJECT(s));
    s->in_step = true;
    s->step_abort = 0;
    c->epoch = s->epoch;
    c->abandoned = false;
}

/*
 * The last thing a step does: it may free the device.  @bytes is the data
 * it moved; the trace event says how long the BQL was held for it.
 */
void dmatd_step_end(DmaTestdevState *s, const char *who, const DmaTestdevCmd *c,
                    uint64_t bytes)
{
    trace_dma_testdev_callback(who, c->seq, bytes,
                               get_clock() - s->step_start_ns);
    s->in_step = false;
    object_unref(OBJECT(s));
}

/* A reset or unplug: whatever step is running must stop. */
static void dmatd_abort(DmaTestdevState *s, uint32_t why)
{
    s->epoch++;
    s->step_abort |= why;
    trace_dma_testdev_abort(why, s->in_step);
}

/*
 * Every DMA of a command goes through here.  Once the device was reset or
 * unplugged under the command, nothing more is issued for it.
 */
MemTxResult dmatd_dma(DmaTestdevState *s, DmaTestdevCmd *c, uint64_t addr,
                      void *buf, uint64_t len, DMADirection dir)
{
    MemTxResult res;

    if (c->abandoned) {
        return MEMTX_ERROR;
    }
    res = pci_dma_rw(PCI_DEVICE(s), addr, buf, len, dir,
                     MEMTXATTRS_UNSPECIFIED);
    if (s->epoch != c->epoch) {
        c->abandoned = true;
    }
    return res;
}

static void dmatd_cursor_init(DmaTestdevCursor *cur, uint8_t list,
                              uint64_t base, uint32_t count)
{
    *cur = (DmaTestdevCursor) {
        .list = list,
        .base = base,
        .count = count,
    };
}

/*
 * Load and check segment cur->index.  Used both when validating a whole
 * list before any data moves and again while moving data, because the
 * guest may rewrite the list in between.
 */
static uint32_t dmatd_load_seg(DmaTestdevState *s, DmaTestdevCmd *c,
                               DmaTestdevCursor *cur, uint64_t *fail_addr)
{
    uint64_t desc_addr = cur->base + (uint64_t)cur->index * DMATD_SEG_SIZE;
    struct dma_testdev_seg seg;
    MemTxResult res;
    uint32_t err;

    res = dmatd_dma(s, c, desc_addr, &seg, sizeof(seg),
                    DMA_DIRECTION_TO_DEVICE);
    if (c->abandoned) {
        return DMATD_ERR_NONE;
    }
    if (res != MEMTX_OK) {
        *fail_addr = desc_addr;
        cur->list_dma_err = dmatd_memtx_error(res);
        return DMATD_ERR_LIST_READ;
    }
    cur->seg_addr = le64_to_cpu(seg.addr);
    cur->seg_len = le32_to_cpu(seg.len);
    cur->seg_pos = 0;
    *fail_addr = cur->seg_addr;

    if (seg.flags) {
        return DMATD_ERR_SEG_FLAGS;
    }
    if (!cur->seg_len) {
        return DMATD_ERR_ZERO_LENGTH;
    }
    err = dmatd_check_range(s, cur->seg_addr, cur->seg_len);
    if (err) {
        return err;
    }
    cur->total += cur->seg_len;
    if (cur->total > s->max_xfer) {
        return DMATD_ERR_XFER_TOO_LARGE;
    }
    return DMATD_ERR_NONE;
}

/* The checks a list passes before any descriptor of it is read. */
static bool dmatd_list_begin(DmaTestdevState *s, DmaTestdevCmd *c,
                             DmaTestdevCursor *cur, uint8_t list, uint64_t base,
                             uint32_t count)
{
    uint32_t err;

    dmatd_cursor_init(cur, list, base, count);
    if (!count) {
        err = DMATD_ERR_NO_SEGMENTS;
    } else if (count > s->max_segs) {
        err = DMATD_ERR_TOO_MANY_SEGS;
    } else if (base % DMATD_SEG_ALIGN) {
        err = DMATD_ERR_LIST_ALIGN;
    } else {
        err = dmatd_check_range(s, base, (uint64_t)count * DMATD_SEG_SIZE);
    }
    if (err) {
        dmatd_fail(c, err, list, 0, base);
        return false;
    }
    return true;
}

/*
 * Check the descriptors of a list before any data moves, so that a
 * malformed command fails without having written anything.  Each
 * descriptor costs DMATD_SEG_SIZE of the budget.  Returns true once the list
 * is checked or has failed, false when the budget ran out first.
 */
static bool dmatd_list_check(DmaTestdevState *s, DmaTestdevCmd *c,
                             DmaTestdevCursor *cur, uint64_t *budget)
{
    uint8_t kind = cur->list == DMATD_LIST_SRC ? DMATD_LOG_SRC_LIST
                                               : DMATD_LOG_DST_LIST;
    uint64_t list_len = (uint64_t)cur->count * DMATD_SEG_SIZE;
    uint64_t fail_addr;
    uint32_t err;

    for (; cur->index < cur->count; cur->index++) {
        if (*budget < DMATD_SEG_SIZE) {
            return false;
        }
        *budget -= DMATD_SEG_SIZE;
        err = dmatd_load_seg(s, c, cur, &fail_addr);
        if (c->abandoned) {
            return true;
        }
        if (err) {
            dmatd_log_add(s, c, kind, 0, cur->base, list_len,
                          (uint64_t)cur->index * DMATD_SEG_SIZE,
                          err == DMATD_ERR_LIST_READ ? cur->list_dma_err : 0);
            dmatd_fail(c, err, cur->list, cur->index, fail_addr);
            return true;
        }
    }
    dmatd_log_add(s, c, kind, 0, cur->base, list_len, list_len, DMATD_ERR_NONE);
    return true;
}

/*
 * Make the cursor point at a segment with bytes left, loading the next
 * descriptor when the current one is used up.  Returns false at the end of
 * the list or on error (recorded).
 */
static bool dmatd_cursor_next(DmaTestdevState *s, DmaTestdevCmd *c,
                              DmaTestdevCursor *cur)
{
    uint8_t kind = cur->list == DMATD_LIST_SRC ? DMATD_LOG_SRC
                                               : DMATD_LOG_DST;
    uint64_t fail_addr;
    uint32_t err;

    if (cur->seg_len && cur->seg_pos < cur->seg_len) {
        return true;
    }
    if (cur->seg_len) {
        dmatd_log_add(s, c, kind, cur->index, cur->seg_addr, cur->seg_len,
                      cur->seg_len, DMATD_ERR_NONE);
        cur->index++;
        cur->seg_len = 0;
    }
    if (cur->index >= cur->count) {
        return false;
    }
    err = dmatd_load_seg(s, c, cur, &fail_addr);
    if (c->abandoned) {
        return false;
    }
    if (err) {
        dmatd_fail(c, err, cur->list, cur->index, fail_addr);
        cur->seg_len = 0;
        return false;
    }
    return true;
}

/* Log the segment a failed command was working on, if it had started. */
static void dmatd_cursor_abandon(DmaTestdevState *s, DmaTestdevCmd *c,
                                 DmaTestdevCursor *cur)
{
    if (cur->seg_len && cur->seg_pos) {
        dmatd_log_add(s, c,
                      cur->list == DMATD_LIST_SRC ? DMATD_LOG_SRC
                                                  : DMATD_LOG_DST,
                      cur->index, cur->seg_addr, cur->seg_len, cur->seg_pos,
                      DMATD_ERR_NONE);
    }
}

/*
 * The DMATD_ERR_* of a failed DMA.  The memory core refuses a write to ROM as
 * a decode error, but to the guest that memory exists: the access was
 * refused, not unanswered.
 */
uint32_t dmatd_dma_error(DmaTestdevState *s, uint64_t addr, MemTxResult res,
                         bool is_write)
{
    uint32_t err = dmatd_memtx_error(res);

    if (err == DMATD_ERR_DMA_UNASSIGNED && is_write) {
        WITH_RCU_READ_LOCK_GUARD() {
            hwaddr xlat, plen = 1;
            MemoryRegion *mr;

            mr = address_space_translate(pci_get_address_space(PCI_DEVICE(s)),
                                         addr, &xlat, &plen, true,
                                         MEMTXATTRS_UNSPECIFIED);
            if (memory_region_is_ram(mr) || memory_region_is_romd(mr)) {
                err = DMATD_ERR_DMA_ACCESS;
            }
        }
    }
    return err;
}

static void dmatd_cursor_fail(DmaTestdevState *s, DmaTestdevCmd *c,
                              DmaTestdevCursor *cur, MemTxResult res)
{
    uint64_t addr = cur->seg_addr + cur->seg_pos;
    uint32_t err = dmatd_dma_error(s, addr, res, cur->list == DMATD_LIST_DST);

    dmatd_log_add(s, c,
                  cur->list == DMATD_LIST_SRC ? DMATD_LOG_SRC : DMATD_LOG_DST,
                  cur->index, cur->seg_addr, cur->seg_len, cur->seg_pos, err);
    dmatd_fail(c, err, cur->list, cur->index, addr);
}

/* Fold one complete (or final, zero-padded) word into the stream state. */
static void dmatd_stream_word(DmaTestdevCmd *c, uint64_t word,
                              uint64_t word_off, unsigned nbytes)
{
    DmaTestdevStream *st = &c->st;
    DmaTestdevResult *r = &c->res;

    st->csum += dmatd_csum_term(word, word_off / 8);
    if (st->verify) {
        uint64_t exp = dmatd_pattern_word(c->seed, word_off);

        if (nbytes < 8) {
            exp &= MAKE_64BIT_MASK(0, nbytes * 8);
        }
        if (word != exp) {
            if (!r->mismatch_count) {
                r->mismatch_seg = st->word_seg;
                r->mismatch_off = word_off;
                r->mismatch_exp = exp;
                r->mismatch_got = word;
            }
            if (r->mismatch_count < UINT32_MAX) {
                r->mismatch_count++;
            }
        }
    }
}

/* What WRITE_PATTERN or FILL writes, and VERIFY_PATTERN expects. */
static DmatdWordGen dmatd_word_gen(const DmaTestdevCmd *c)
{
    if (c->op == DMATD_OP_FILL) {
        return (DmatdWordGen) { .base = c->fill, .mask = 0 };
    }
    return (DmatdWordGen) {
        .base = dmatd_pattern_word(c->seed, 0),
        .mask = UINT32_MAX,
    };
}

/* Whole words at the stream's (aligned) offset, read from @buf. */
static void dmatd_stream_words(DmaTestdevState *s, DmaTestdevCmd *c,
                               const uint8_t *buf, uint64_t n)
{
    DmaTestdevStream *st = &c->st;
    uint64_t csum, i;

    if (st->verify) {
        DmatdWordGen g = dmatd_word_gen(c);
        bool differs;

        csum = dmatd_words_verify(s->lanes, buf, n, st->off / 8, &g,
                                  &differs);
        if (differs) {
            /* Rare: count and report mismatches word by word. */
            for (i = 0; i < n; i++) {
                dmatd_stream_word(c, ldq_le_p(buf + i * 8), st->off + i * 8,
                                  8);
            }
            csum = 0;
        }
    } else {
        csum = dmatd_words_csum(s->lanes, buf, n, st->off / 8);
    }
    st->csum += csum;
    st->off += n * 8;
}

/* Account for @len bytes of the stream, which sit in segment @seg. */
static void dmatd_stream_feed(DmaTestdevState *s, DmaTestdevCmd *c,
                              const uint8_t *buf, uint64_t len, uint32_t seg)
{
    DmaTestdevStream *st = &c->st;

    while (len) {
        unsigned pos = st->off & 7;

        if (!pos) {
            st->word_seg = seg;
            st->word = 0;
            if (len >= 8) {
                /* The common case: whole aligned words. */
                uint64_t n = len / 8;

                dmatd_stream_words(s, c, buf, n);
                buf += n * 8;
                len -= n * 8;
                continue;
            }
        }
        st->word |= (uint64_t)*buf << (pos * 8);
        st->off++;
        buf++;
        len--;
        if (!(st->off & 7)) {
            dmatd_stream_word(c, st->word, st->off - 8, 8);
        }
    }
}

static void dmatd_stream_finish(DmaTestdevCmd *c)
{
    unsigned pos = c->st.off & 7;

    if (pos) {
        dmatd_stream_word(c, c->st.word, c->st.off - pos, pos);
    }
    c->res.checksum = c->st.csum;
}

/* Produce the data WRITE_PATTERN or FILL puts at transfer offset @off. */
static void dmatd_generate(const DmaTestdevCmd *c, uint8_t *buf, uint64_t off,
                           uint64_t len)
{
    DmatdWordGen g = dmatd_word_gen(c);
    uint64_t i;

    for (i = 0; i < len; i++) {
        buf[i] = dmatd_gen_word(&g, (off + i) / 8) >> (((off + i) & 7) * 8);
    }
}

/*
 * The bytes of the stream before the next word boundary, or all of @len if
 * that comes first: what dmatd_stream_generate() and dmatd_stream_copy()
 * pass through dmatd_stream_feed() one byte at a time.
 */
static uint64_t dmatd_stream_head(const DmaTestdevCmd *c, uint64_t len)
{
    return MIN(len, (8 - (c->st.off & 7)) & 7);
}

/* @n whole words of segment @seg, whose terms sum to @csum, are done. */
static void dmatd_stream_took_words(DmaTestdevCmd *c, uint32_t seg,
                                    uint64_t n, uint64_t csum)
{
    c->st.word_seg = seg;
    c->st.word = 0;
    c->st.csum += csum;
    c->st.off += n * 8;
}

/*
 * WRITE_PATTERN and FILL into RAM: write @len bytes of the stream to @buf
 * and fold in what was written, in one pass for the whole words.
 */
static void dmatd_stream_generate(DmaTestdevState *s, DmaTestdevCmd *c,
                                  uint8_t *buf, uint64_t len, uint32_t seg)
{
    DmatdWordGen g = dmatd_word_gen(c);
    uint8_t part[8];
    uint64_t k = dmatd_stream_head(c, len), n;

    for (;;) {
        /* A partial word goes through @part: fold in what was written. */
        dmatd_generate(c, part, c->st.off, k);
        memcpy(buf, part, k);
        dmatd_stream_feed(s, c, part, k, seg);
        buf += k;
        len -= k;
        n = len / 8;
        if (n) {
            dmatd_stream_took_words(c, seg, n,
                                    dmatd_words_generate(s->lanes, buf, n,
                                                         c->st.off / 8, &g));
            buf += n * 8;
            len -= n * 8;
        }
        if (!len) {
            return;
        }
        k = len;                /* the last, partial word */
    }
}

/*
 * COPY into RAM: move @len bytes from @src to @dst and fold them in as
 * read, loading each word once.  The two must not overlap (see
 * dmatd_run_copy()).
 */
static void dmatd_stream_copy(DmaTestdevState *s, DmaTestdevCmd *c,
                              uint8_t *dst, const uint8_t *src, uint64_t len,
                              uint32_t seg)
{
    uint8_t part[8];
    uint64_t k, n;

    assert(dst >= src + len || src >= dst + len);
    for (k = dmatd_stream_head(c, len);; k = len) {
        memcpy(part, src, k);
        memcpy(dst, part, k);
        dmatd_stream_feed(s, c, part, k, seg);
        src += k;
        dst += k;
        len -= k;
        n = len / 8;
        if (n) {
            dmatd_stream_took_words(c, seg, n,
                                    dmatd_words_copy(s->lanes, dst, src, n,
                                                     c->st.off / 8));
            src += n * 8;
            dst += n * 8;
            len -= n * 8;
        }
        if (!len) {
            return;
        }
    }
}

/*
 * Map [addr, addr + *len) for direct access if, and only if, it is RAM the
 * device may access that way.  Anything else (MMIO, ROM on writes,
 * unassigned space) returns NULL and must go through pci_dma_read/write,
 * whose MemTxResult tells exactly what failed; address_space_map would
 * hide those errors behind its own bounce buffer.  On return *len is the
 * length mapped, or the length of the region to bounce through.
 */
static void *dmatd_map_ram(DmaTestdevState *s, uint64_t addr, uint64_t *len,
                           DMADirection dir)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    bool is_write = dir == DMA_DIRECTION_FROM_DEVICE;
    MemoryRegion *mr;
    hwaddr xlat, plen = *len;
    dma_addr_t mlen;
    bool direct;
    void *p;

    WITH_RCU_READ_LOCK_GUARD() {
        mr = address_space_translate(pci_get_address_space(pdev), addr, &xlat,
                                     &plen, is_write, MEMTXATTRS_UNSPECIFIED);
        direct = memory_access_is_direct(mr, is_write, MEMTXATTRS_UNSPECIFIED);
    }
    *len = MAX(MIN(plen, *len), 1);
    if (!direct) {
        return NULL;
    }
    mlen = *len;
    p = pci_dma_map(pdev, addr, &mlen, dir);
    if (!p || !mlen) {
        /* Never spin on a failed map: bounce instead. */
        if (p) {
            pci_dma_unmap(pdev, p, mlen, dir, 0);
        }
        return NULL;
    }
    *len = mlen;
    return p;
}

/*
 * Negative control for oracles outside the guest ("x-misdirect-offset"):
 * the word at that transfer offset of a WRITE_PATTERN lands one page
 * further than programmed, and its home keeps its old content.  A test
 * whose oracle does not catch this is not testing anything.  Only words
 * wholly inside one mapped chunk are redirected.
 */
static void dmatd_misdirect(DmaTestdevState *s, DmaTestdevCmd *c,
                            DmaTestdevCursor *cur, uint8_t *p,
                            uint64_t chunk_off, const uint8_t *saved)
{
    uint64_t pos = s->misdirect_off - chunk_off;
    uint64_t target = cur->seg_addr + cur->seg_pos + pos +
                      DMATD_MISDIRECT_DELTA;
    MemTxResult res;

    res = dmatd_dma(s, c, target, p + pos, 8, DMA_DIRECTION_FROM_DEVICE);
    memcpy(p + pos, saved, 8);
    if (c->abandoned) {
        return;
    }
    dmatd_log_add(s, c, DMATD_LOG_DST, cur->index, target, 8, 8,
                  res == MEMTX_OK ? DMATD_ERR_NONE : dmatd_memtx_error(res));
}

static bool dmatd_misdirect_hits(DmaTestdevState *s, const DmaTestdevCmd *c,
                                 uint64_t chunk_off, uint64_t n)
{
    return c->op == DMATD_OP_WRITE_PATTERN && n >= 8 &&
           s->misdirect_off >= chunk_off &&
           s->misdirect_off - chunk_off <= n - 8;
}

/*
 * WRITE_PATTERN, FILL and VERIFY_PATTERN: one list, one direction.
 * Returns true when the command is finished (or failed), false when the
 * budget ran out first.
 */
static bool dmatd_run_single(DmaTestdevState *s, DmaTestdevCmd *c,
                             DmaTestdevCursor *cur, uint64_t *budget)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    bool to_mem = cur->list == DMATD_LIST_DST;
    DMADirection dir = to_mem ? DMA_DIRECTION_FROM_DEVICE
                              : DMA_DIRECTION_TO_DEVICE;

    while (dmatd_cursor_next(s, c, cur)) {
        uint64_t addr = cur->seg_addr + cur->seg_pos;
        uint64_t n = MIN(cur->seg_len - cur->seg_pos, *budget);
        uint8_t *p;

        if (!n) {
            return false;
        }
        p = dmatd_map_ram(s, addr, &n, dir);
        if (p) {
            uint8_t saved[8];
            bool misdirect = dmatd_misdirect_hits(s, c, c->st.off, n);

            if (misdirect) {
                memcpy(saved, p + (s->misdirect_off - c->st.off), 8);
            }
            if (to_mem) {
                dmatd_stream_generate(s, c, p, n, cur->index);
            } else {
                dmatd_stream_feed(s, c, p, n, cur->index);
            }
            if (misdirect) {
                dmatd_misdirect(s, c, cur, p, c->st.off - n, saved);
            }
            pci_dma_unmap(pdev, p, n, dir, n);
        } else {
            MemTxResult res;

            n = MIN(n, DMATD_BOUNCE_SIZE);
            if (to_mem) {
                dmatd_generate(c, s->bounce, c->st.off, n);
            }
            res = dmatd_dma(s, c, addr, s->bounce, n, dir);
            if (res != MEMTX_OK) {
                if (!c->abandoned) {
                    dmatd_cursor_fail(s, c, cur, res);
                }
                return true;
            }
            dmatd_stream_feed(s, c, s->bounce, n, cur->index);
        }
        /* Moved, even if it reset the device: the log keeps it. */
        cur->seg_pos += n;
        c->res.bytes_done += n;
        *budget -= n;
        if (c->abandoned) {
            return true;
        }
    }
    if (c->res.error == DMATD_ERR_NONE && !c->abandoned) {
        dmatd_stream_finish(c);
    }
    return true;
}

/* COPY; returns as dmatd_run_single does. */
static bool dmatd_run_copy(DmaTestdevState *s, DmaTestdevCmd *c,
                           uint64_t *budget)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    DmaTestdevCursor *src = &c->src, *dst = &c->dst;

    for (;;) {
        bool have_src = dmatd_cursor_next(s, c, src);
        bool have_dst = c->res.error == DMATD_ERR_NONE && !c->abandoned &&
                        dmatd_cursor_next(s, c, dst);
        uint64_t saddr, daddr, n, dn, dmapped;
        uint8_t *sp, *dp, *from;
        MemTxResult res;

        if (c->abandoned) {
            return true;
        }
        if (c->res.error != DMATD_ERR_NONE) {
            dmatd_cursor_abandon(s, c, have_src ? src : dst);
            return true;
        }
        if (!have_src || !have_dst) {
            if (have_src || have_dst) {
                /* The guest changed the lists after validation. */
                dmatd_cursor_abandon(s, c, have_src ? src : dst);
                dmatd_fail(c, DMATD_ERR_LENGTH_MISMATCH, DMATD_LIST_NONE, 0, 0);
                return true;
            }
            break;
        }
        if (!*budget) {
            return false;
        }

        saddr = src->seg_addr + src->seg_pos;
        daddr = dst->seg_addr + dst->seg_pos;
        n = MIN(src->seg_len - src->seg_pos, dst->seg_len - dst->seg_pos);
        n = MIN(n, *budget);

        sp = dmatd_map_ram(s, saddr, &n, DMA_DIRECTION_TO_DEVICE);
        if (!sp) {
            /* Only what is not RAM goes through the bounce buffer. */
            n = MIN(n, DMATD_BOUNCE_SIZE);
            res = dmatd_dma(s, c, saddr, s->bounce, n, DMA_DIRECTION_TO_DEVICE);
            if (c->abandoned) {
                return true;
            }
            if (res != MEMTX_OK) {
                dmatd_cursor_fail(s, c, src, res);
                dmatd_cursor_abandon(s, c, dst);
                return true;
            }
        }
        dn = n;
        dp = dmatd_map_ram(s, daddr, &dn, DMA_DIRECTION_FROM_DEVICE);
        dmapped = dn;
        if (!dp) {
            dn = MIN(MIN(dn, n), DMATD_BOUNCE_SIZE);
        }
        from = sp ? sp : s->bounce;
        if (sp && (!dp || (dp < sp + dn && sp < dp + dn))) {
            /*
             * Read the source once, into the bounce buffer, and write and
             * hash that: the write to a destination that is not RAM (a
             * doorbell, say) or one that overlaps the source cannot then
             * make the checksum describe other bytes than those written.
             * Overlap within the piece is safe, as with memmove().
             */
            dn = MIN(dn, DMATD_BOUNCE_SIZE);
            memcpy(s->bounce, sp, dn);
            from = s->bounce;
        }
        if (dp) {
            dmatd_stream_copy(s, c, dp, from, dn, src->index);
            pci_dma_unmap(pdev, dp, dmapped, DMA_DIRECTION_FROM_DEVICE, dn);
        } else {
            res = dmatd_dma(s, c, daddr, from, dn, DMA_DIRECTION_FROM_DEVICE);
            if (res != MEMTX_OK) {
                if (sp) {
                    pci_dma_unmap(pdev, sp, n, DMA_DIRECTION_TO_DEVICE, 0);
                }
                if (!c->abandoned) {
                    dmatd_cursor_fail(s, c, dst, res);
                    dmatd_cursor_abandon(s, c, src);
                }
                return true;
            }
            dmatd_stream_feed(s, c, from, dn, src->index);
        }
        if (sp) {
            pci_dma_unmap(pdev, sp, n, DMA_DIRECTION_TO_DEVICE, dn);
        }
        /* Moved, even if it reset the device: the log keeps it. */
        src->seg_pos += dn;
        dst->seg_pos += dn;
        c->res.bytes_done += dn;
        *budget -= dn;
        if (c->abandoned) {
            return true;
        }
    }
    dmatd_stream_finish(c);
    return true;
}

static void dmatd_cmd_init(DmaTestdevState *s, DmaTestdevCmd *c, uint32_t op)
{
    *c = (DmaTestdevCmd) {
        .op = op,
        .seq = ++s->cmd_seq,
        .phase = DMATD_PHASE_START,
        .res.status = DMATD_STATUS_BUSY,
    };
}

static void dmatd_cmd_started(const DmaTestdevCmd *c)
{
    trace_dma_testdev_cmd_start(c->seq, dmatd_op_name(c->op), c->seed,
                                c->src_list, c->src_count, c->dst_list,
                                c->dst_count);
}

static void dmatd_run_begin(DmaTestdevCmd *c)
{
    dmatd_cursor_init(&c->src, DMATD_LIST_SRC, c->src_list, c->src_count);
    dmatd_cursor_init(&c->dst, DMATD_LIST_DST, c->dst_list, c->dst_count);
    c->st = (DmaTestdevStream) {
        .csum = DMATD_CSUM_INIT,
        .verify = c->op == DMATD_OP_VERIFY_PATTERN,
    };
    c->phase = DMATD_PHASE_RUN;
}

/*
 * Advance a command by at most *@budget bytes (descriptor reads count
 * DMATD_SEG_SIZE each), leaving in *@budget what it did not use.  Returns
 * true once it is done, with c->res final, or abandoned (c->abandoned).
 */
static bool dmatd_cmd_step(DmaTestdevState *s, DmaTestdevCmd *c,
                           uint64_t *budget)
{
    bool copy = c->op == DMATD_OP_COPY;

    for (;;) {
        if (c->abandoned) {
            return true;
        }
        switch (c->phase) {
        case DMATD_PHASE_START:
            switch (c->op) {
            case DMATD_OP_WRITE_PATTERN:
            case DMATD_OP_FILL:
                c->phase = dmatd_list_begin(s, c, &c->dst, DMATD_LIST_DST,
                                            c->dst_list, c->dst_count)
                           ? DMATD_PHASE_CHECK_DST : DMATD_PHASE_DONE;
                break;
            case DMATD_OP_VERIFY_PATTERN:
            case DMATD_OP_COPY:
                c->phase = dmatd_list_begin(s, c, &c->src, DMATD_LIST_SRC,
                                            c->src_list, c->src_count)
                           ? DMATD_PHASE_CHECK_SRC : DMATD_PHASE_DONE;
                break;
            default:
                dmatd_fail(c, DMATD_ERR_BAD_OPCODE, DMATD_LIST_NONE, 0, 0);
                c->phase = DMATD_PHASE_DONE;
                break;
            }
            break;
        case DMATD_PHASE_CHECK_SRC:
            if (!dmatd_list_check(s, c, &c->src, budget)) {
                return false;
            }
            c->src_total = c->src.total;
            if (c->res.error != DMATD_ERR_NONE) {
                c->phase = DMATD_PHASE_DONE;
            } else if (copy) {
                c->phase = dmatd_list_begin(s, c, &c->dst, DMATD_LIST_DST,
                                            c->dst_list, c->dst_count)
                           ? DMATD_PHASE_CHECK_DST : DMATD_PHASE_DONE;
            } else {
                dmatd_run_begin(c);
            }
            break;
        case DMATD_PHASE_CHECK_DST:
            if (!dmatd_list_check(s, c, &c->dst, budget)) {
                return false;
            }
            if (c->res.error != DMATD_ERR_NONE) {
                c->phase = DMATD_PHASE_DONE;
            } else if (copy && c->dst.total != c->src_total) {
                dmatd_fail(c, DMATD_ERR_LENGTH_MISMATCH, DMATD_LIST_NONE, 0, 0);
                c->phase = DMATD_PHASE_DONE;
            } else {
                dmatd_run_begin(c);
            }
            break;
        case DMATD_PHASE_RUN:
            if (!(copy ? dmatd_run_copy(s, c, budget)
                       : dmatd_run_single(s, c,
                                          c->op == DMATD_OP_VERIFY_PATTERN
                                       ? &c->src : &c->dst, budget))) {
                return false;
            }
            if (!c->abandoned) {
                c->phase = DMATD_PHASE_DONE;
            }
            break;
        case DMATD_PHASE_DONE:
            if (c->res.status & DMATD_STATUS_BUSY) {
                c->res.status = DMATD_STATUS_DONE;
                if (c->res.error != DMATD_ERR_NONE) {
                    c->res.status |= DMATD_STATUS_ERROR;
                }
                if (c->res.mismatch_count) {
                    c->res.status |= DMATD_STATUS_MISMATCH;
                }
                trace_dma_testdev_cmd_done(c->seq, c->res.status,
                                           dmatd_error_name(c->res.error),
                                           c->res.bytes_done,
                                           c->res.mismatch_count,
                                           c->res.checksum);
            }
            return true;
        default:
            g_assert_not_reached();
        }
    }
}

/*
 * Interrupts
 */

static unsigned dmatd_intr_mode(DmaTestdevState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);

    if (msix_enabled(pdev)) {
        return DMATD_INTR_MODE_MSIX;
    }
    if (msi_enabled(pdev)) {
        return DMATD_INTR_MODE_MSI;
    }
    return DMATD_INTR_MODE_INTX;
}

/* INTx is a level: asserted while an enabled cause is latched. */
static void dmatd_intx_update(DmaTestdevState *s)
{
    bool level = dmatd_intr_mode(s) == DMATD_INTR_MODE_INTX &&
                 (s->intr_status & s->intr_enable & DMATD_INTR_CAUSES);

    pci_set_irq(PCI_DEVICE(s), level);
}

static void dmatd_irq_raise(DmaTestdevState *s, uint32_t cause, uint32_t vector)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    unsigned mode = dmatd_intr_mode(s);
    unsigned nr;

    s->intr_status |= cause;
    if (!(s->intr_enable & cause)) {
        return;
    }
    if (mode == DMATD_INTR_MODE_INTX) {
        trace_dma_testdev_irq(cause, "intx", 0);
        dmatd_intx_update(s);
        return;
    }

    nr = mode == DMATD_INTR_MODE_MSIX ? pdev->msix_entries_nr
                                   : msi_nr_vectors_allocated(pdev);
    if (vector >= nr) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: interrupt vector %u is not "
                      "enabled (%u vectors): using vector 0\n",
                      TYPE_DMA_TESTDEV, vector, nr);
        s->intr_status |= DMATD_INTR_VECTOR_FALLBACK;
        vector = 0;
    }
    if (mode == DMATD_INTR_MODE_MSIX) {
        trace_dma_testdev_irq(cause, "msix", vector);
        msix_notify(pdev, vector);
    } else {
        trace_dma_testdev_irq(cause, "msi", vector);
        msi_notify(pdev, vector);
    }
}

/*
 * Command queue
 */

static bool dmatd_queue_running(DmaTestdevState *s)
{
    return (s->q_status & DMATD_QSTATUS_ENABLED) &&
           !(s->q_status & DMATD_QSTATUS_ERROR);
}

/* Drop whatever the queue was doing; no DMA happens for it afterwards. */
static void dmatd_queue_stop(DmaTestdevState *s)
{
    timer_del(s->timer);
    qemu_bh_cancel(s->bh);
    s->q_scheduled = false;
    s->q_budget = 0;
    /*
     * The log keeps the part of each segment that was moved.  A step that
     * is running has the current cursors (q_cmd is its stale copy): it
     * logs and traces them itself (dmatd_queue_abandoned).
     */
    if (s->q_active && !s->in_step) {
        if (s->q_cmd.phase == DMATD_PHASE_RUN) {
            dmatd_cursor_abandon(s, &s->q_cmd, &s->q_cmd.src);
            dmatd_cursor_abandon(s, &s->q_cmd, &s->q_cmd.dst);
        }
        trace_dma_testdev_queue_abandon(s->q_cmd.seq, s->q_cmd.phase,
                                        s->q_cmd.res.bytes_done);
    }
    s->q_active = false;
    s->q_status &= ~(DMATD_QSTATUS_BUSY | DMATD_QSTATUS_CQ_FULL);
}

static void dmatd_queue_halt(DmaTestdevState *s, uint32_t qerr, uint64_t addr,
                             uint32_t cause)
{
    dmatd_queue_stop(s);
    s->q_status |= DMATD_QSTATUS_ERROR;
    s->q_error = qerr;
    s->q_err_addr = addr;
    s->q_err_cause = cause;
    qemu_log_mask(LOG_GUEST_ERROR, "%s: command queue halted: %s, address "
                  "0x%" PRIx64 "%s%s\n", TYPE_DMA_TESTDEV,
                  dmatd_qerror_name(qerr), addr, cause ? ", " : "",
                  cause ? dmatd_error_name(cause) : "");
    trace_dma_testdev_queue_error(dmatd_qerror_name(qerr), addr,
                                  dmatd_error_name(cause));
    dmatd_irq_raise(s, DMATD_INTR_QUEUE_ERROR, s->intr_vector);
}

/*
 * Arm the next step, "latency-ns" of virtual time from now.  Steps run
 * only from the timer, so the device moves no data while the VM is
 * stopped, and from a bottom half behind the re-entrancy guard, so that
 * DMA aimed at our own BAR is refused like it is for the register path.
 */
static void dmatd_queue_kick(DmaTestdevState *s)
{
    if (!dmatd_queue_running(s) || s->q_scheduled) {
        return;
    }
    if (!s->q_active && s->sq_head == s->sq_tail) {
        return;
    }
    s->q_scheduled = true;
    timer_mod(s->timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                        s->latency_ns);
}

static void dmatd_queue_timer(void *opaque)
{
    DmaTestdevState *s = opaque;

    qemu_bh_schedule(s->bh);
}

/* Read the entry at SQ_HEAD into @c; false if the queue halted. */
static bool dmatd_queue_fetch(DmaTestdevState *s, DmaTestdevCmd *c)
{
    uint64_t addr = s->sq_base + (uint64_t)s->sq_head * DMATD_SQE_SIZE;
    struct dma_testdev_sqe sqe;
    MemTxResult res;
    uint32_t epoch = c->epoch;

    res = dmatd_dma(s, c, addr, &sqe, sizeof(sqe), DMA_DIRECTION_TO_DEVICE);
    if (c->abandoned) {
        return false;
    }
    if (res != MEMTX_OK) {
        DmaTestdevCmd none = { .seq = 0 };

        dmatd_log_add(s, &none, DMATD_LOG_SQ, s->sq_head, addr, DMATD_SQE_SIZE,
                      0, dmatd_memtx_error(res));
        dmatd_queue_halt(s, DMATD_QERR_SQ_READ, addr, dmatd_memtx_error(res));
        return false;
    }

    dmatd_cmd_init(s, c, le32_to_cpu(sqe.op));
    c->epoch = epoch;
    c->flags = le32_to_cpu(sqe.flags);
    c->seed = le32_to_cpu(sqe.seed);
    c->vector = le32_to_cpu(sqe.vector);
    c->src_list = le64_to_cpu(sqe.src_list);
    c->src_count = le32_to_cpu(sqe.src_count);
    c->dst_list = le64_to_cpu(sqe.dst_list);
    c->dst_count = le32_to_cpu(sqe.dst_count);
    c->fill = le64_to_cpu(sqe.fill);
    c->tag = le64_to_cpu(sqe.tag);
    dmatd_log_add(s, c, DMATD_LOG_SQ, s->sq_head, addr, DMATD_SQE_SIZE,
                  DMATD_SQE_SIZE, DMATD_ERR_NONE);
    trace_dma_testdev_queue_fetch(s->sq_head, c->seq, c->tag);
    dmatd_cmd_started(c);

    s->sq_head = (s->sq_head + 1) % s->q_size;
    s->q_active = true;
    s->q_status |= DMATD_QSTATUS_BUSY;

    if (sqe.rsvd0 || sqe.rsvd1 || (c->flags & ~DMATD_SQE_F_INTR)) {
        dmatd_fail(c, DMATD_ERR_SQE_RESERVED, DMATD_LIST_NONE, 0, addr);
        c->phase = DMATD_PHASE_DONE;
    } else if (c->vector >= DMATD_MAX_VECTORS) {
        dmatd_fail(c, DMATD_ERR_BAD_VECTOR, DMATD_LIST_NONE, 0, addr);
        c->phase = DMATD_PHASE_DONE;
    }
    return true;
}

/*
 * Write @c's completion entry.  Returns true once it is posted; false if
 * the CQ is full, the write failed (the queue halted) or the write reset
 * or unplugged the device (c->abandoned).
 */
static bool dmatd_queue_complete(DmaTestdevState *s, DmaTestdevCmd *c)
{
    DmaTestdevResult *r = &c->res;
    uint64_t addr = s->cq_base + (uint64_t)s->cq_tail * DMATD_CQE_SIZE;
    struct dma_testdev_cqe cqe;
    const size_t status_off = offsetof(struct dma_testdev_cqe, status);
    MemTxResult res;
    uint32_t err;

    if ((s->cq_tail + 1) % s->q_size == s->cq_head) {
        if (!(s->q_status & DMATD_QSTATUS_CQ_FULL)) {
            trace_dma_testdev_queue_cq_full(c->seq, s->cq_tail);
        }
        s->q_status |= DMATD_QSTATUS_CQ_FULL;
        return false;
    }
    s->q_status &= ~DMATD_QSTATUS_CQ_FULL;

    cqe = (struct dma_testdev_cqe) {
        .tag = cpu_to_le64(c->tag),
        .cmd_seq = cpu_to_le64(c->seq),
        .bytes_done = cpu_to_le64(r->bytes_done),
        .checksum = cpu_to_le64(r->checksum),
        .err_addr = cpu_to_le64(r->err_addr),
        .mismatch_off = cpu_to_le64(r->mismatch_off),
        .error = cpu_to_le32(r->error | (r->err_list << 16)),
        .err_seg = cpu_to_le32(r->err_seg),
        .mismatch_count = cpu_to_le32(r->mismatch_count),
        .status = cpu_to_le32(r->status | (s->cq_phase ? DMATD_CQE_PHASE : 0)),
    };

    /* The status word goes last: once it is visible, the entry is. */
    res = dmatd_dma(s, c, addr, &cqe, status_off, DMA_DIRECTION_FROM_DEVICE);
    if (res == MEMTX_OK) {
        res = dmatd_dma(s, c, addr + status_off, &cqe.status,
                        sizeof(cqe.status), DMA_DIRECTION_FROM_DEVICE);
    }
    if (c->abandoned) {
        return false;
    }
    err = res == MEMTX_OK ? DMATD_ERR_NONE
                          : dmatd_dma_error(s, addr, res, true);
    dmatd_log_add(s, c, DMATD_LOG_CQ, s->cq_tail, addr, DMATD_CQE_SIZE,
                  res == MEMTX_OK ? DMATD_CQE_SIZE : 0, err);
    if (res != MEMTX_OK) {
        dmatd_queue_halt(s, DMATD_QERR_CQ_WRITE, addr, err);
        return false;
    }
    trace_dma_testdev_queue_complete(c->seq, s->cq_tail, r->status);

    s->cq_tail = (s->cq_tail + 1) % s->q_size;
    if (!s->cq_tail) {
        s->cq_phase = !s->cq_phase;
    }
    s->q_done++;
    s->q_active = false;
    s->q_status &= ~DMATD_QSTATUS_BUSY;
    if (c->flags & DMATD_SQE_F_INTR) {
        /* The message too may reset or unplug the device. */
        dmatd_irq_raise(s, DMATD_INTR_QUEUE_CMPL, c->vector);
        if (s->epoch != c->epoch) {
            c->abandoned = true;
            return false;
        }
    }
    return true;
}

/*
 * A step of the queue found the device reset or unplugged under it: the
 * reset (or unplug) already stopped the queue.  Keep in the log the part
 * of each segment that was moved, and drop the command.
 */
static void dmatd_queue_abandoned(DmaTestdevState *s, DmaTestdevCmd *c)
{
    if (c->phase == DMATD_PHASE_RUN) {
        dmatd_cursor_abandon(s, c, &c->src);
        dmatd_cursor_abandon(s, c, &c->dst);
    }
    trace_dma_testdev_queue_abandon(c->seq, c->phase, c->res.bytes_done);
}

/*
 * One callback of the queue: fetch if idle, advance, complete if done.
 * A paced step of "step-size" bytes may take several callbacks (at most
 * DMATD_CALLBACK_MAX_BYTES each) at the same virtual time.
 */
static void dmatd_queue_run(DmaTestdevState *s, DmaTestdevCmd *c)
{
    uint64_t budget, left;
    bool cut;

    if (!s->q_active) {
        if (s->sq_head == s->sq_tail || !dmatd_queue_fetch(s, c)) {
            return;
        }
    } else {
        *c = s->q_cmd;
        c->epoch = s->epoch;
    }
    if (!s->q_budget) {
        s->q_budget = s->step_size ? s->step_size : UINT64_MAX;
    }
    budget = MIN(s->q_budget, DMATD_CALLBACK_MAX_BYTES);
    cut = budget < s->q_budget;
    left = budget;
    if (!dmatd_cmd_step(s, c, &left)) {
        s->q_cmd = *c;
        trace_dma_testdev_queue_step(c->seq, c->phase, c->res.bytes_done);
        if (cut) {
            /* The rest of this step, at the same virtual time. */
            s->q_budget -= budget - left;
            s->q_scheduled = true;
            timer_mod(s->timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
        } else {
            s->q_budget = 0;
            dmatd_queue_kick(s);
        }
        return;
    }
    if (c->abandoned) {
        return;
    }
    s->q_cmd = *c;
    s->q_budget = 0;
    if (dmatd_queue_complete(s, c)) {
        dmatd_queue_kick(s);
    }
}

static void dmatd_queue_bh(void *opaque)
{
    DmaTestdevState *s = opaque;
    DmaTestdevCmd c = { 0 };
    uint64_t before;

    s->q_scheduled = false;
    if (!dmatd_queue_running(s)) {
        return;
    }
    dmatd_step_begin(s, &c);
    before = s->q_active ? s->q_cmd.res.bytes_done : 0;
    dmatd_queue_run(s, &c);
    if (c.abandoned) {
        dmatd_queue_abandoned(s, &c);
    }
    dmatd_step_end(s, "queue", &c, c.res.bytes_done - before);
}

/*
 * A doorbell.  Without pacing ("latency-ns" 0) the device has no reason to
 * wait for the main loop: the first callback runs at once, inside the MMIO
 * write, as a register command does, behind the same re-entrancy guard (a
 * doorbell is an MMIO write to BAR0, so DMA aimed at BAR0 is refused here
 * as it is in the bottom half).  A guest polling the completion queue then
 * sees its entry after one MMIO exit instead of a wake-up of the main loop
 * and a bottom half.  What the callback leaves (the next entries, the rest
 * of a long command) goes through the timer and the bottom half as before,
 * so no doorbell holds the vCPU longer than one callback.  With pacing, or
 * while the VM is not running (a debugger's write), the timer decides.
 */
static void dmatd_queue_doorbell(DmaTestdevState *s)
{
    if (s->latency_ns || s->in_step || s->q_scheduled ||
        !runstate_is_running()) {
        dmatd_queue_kick(s);
        return;
    }
    if (dmatd_queue_running(s) && (s->q_active || s->sq_head != s->sq_tail)) {
        dmatd_queue_bh(s);
    }
}

static void dmatd_queue_enable(DmaTestdevState *s)
{
    uint64_t sq_len = (uint64_t)s->q_size * DMATD_SQE_SIZE;
    uint64_t cq_len = (uint64_t)s->q_size * DMATD_CQE_SIZE;

    s->q_status = DMATD_QSTATUS_ENABLED;
    s->q_error = DMATD_QERR_NONE;
    s->q_err_addr = 0;
    s->q_err_cause = 0;
    s->sq_head = s->sq_tail = s->cq_head = s->cq_tail = 0;
    s->cq_phase = true;

    if (s->q_size < 2 || s->q_size > DMATD_Q_MAX_SIZE) {
        dmatd_queue_halt(s, DMATD_QERR_SIZE, s->q_size, 0);
    } else if (s->sq_base % DMATD_Q_ALIGN) {
        dmatd_queue_halt(s, DMATD_QERR_ALIGN, s->sq_base, 0);
    } else if (s->cq_base % DMATD_Q_ALIGN) {
        dmatd_queue_halt(s, DMATD_QERR_ALIGN, s->cq_base, 0);
    } else if (dmatd_check_range(s, s->sq_base, sq_len)) {
        dmatd_queue_halt(s, DMATD_QERR_RANGE, s->sq_base, 0);
    } else if (dmatd_check_range(s, s->cq_base, cq_len)) {
        dmatd_queue_halt(s, DMATD_QERR_RANGE, s->cq_base, 0);
    } else {
        trace_dma_testdev_queue_enable(s->sq_base, s->cq_base, s->q_size);
    }
}

static void dmatd_queue_ctrl(DmaTestdevState *s, hwaddr addr, uint32_t val)
{
    bool was = s->q_ctrl & DMATD_QCTRL_ENABLE;

    if (val & ~DMATD_QCTRL_ENABLE) {
        dmatd_bad(s, addr, 4, true, DMATD_BAD_RESERVED_BITS, "Q_CTRL 0x%x",
                  val);
    }
    s->q_ctrl = val & DMATD_QCTRL_ENABLE;
    if (!was && s->q_ctrl) {
        dmatd_queue_enable(s);
    } else if (was && !s->q_ctrl) {
        dmatd_queue_stop(s);
        s->q_status = 0;
        trace_dma_testdev_queue_disable(s->q_done);
    }
}

static void dmatd_queue_sq_doorbell(DmaTestdevState *s, hwaddr addr,
                                    uint32_t val)
{
    if (!dmatd_queue_running(s)) {
        dmatd_bad(s, addr, 4, true, DMATD_BAD_QUEUE_DISABLED, "SQ_TAIL %u",
                  val);
        return;
    }
    if (val >= s->q_size) {
        dmatd_queue_halt(s, DMATD_QERR_SQ_DOORBELL, val, 0);
        return;
    }
    s->sq_tail = val;
    dmatd_queue_doorbell(s);
}

static void dmatd_queue_cq_doorbell(DmaTestdevState *s, hwaddr addr,
                                    uint32_t val)
{
    uint32_t posted, consumed;

    if (!dmatd_queue_running(s)) {
        dmatd_bad(s, addr, 4, true, DMATD_BAD_QUEUE_DISABLED, "CQ_HEAD %u",
                  val);
        return;
    }
    posted = (s->cq_tail + s->q_size - s->cq_head) % s->q_size;
    consumed = (val + s->q_size - s->cq_head) % s->q_size;
    if (val >= s->q_size || consumed > posted) {
        dmatd_queue_halt(s, DMATD_QERR_CQ_DOORBELL, val, 0);
        return;
    }
    s->cq_head = val;
    dmatd_queue_doorbell(s);
}

/*
 * Register path
 */

/*
 * A command written to DMATD_REG_CMD runs to completion before it returns,
 * unless its own DMA reset or unplugged the device: then the result
 * registers keep their reset values and no interrupt is sent.
 */
static void dmatd_reg_command(DmaTestdevState *s, uint32_t op)
{
    DmaTestdevCmd c = { 0 };
    uint64_t budget = UINT64_MAX;

    s->cmd = op;
    if (s->q_active) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: command %u (%s) refused: queue "
                      "command %" PRIu64 " is in flight\n", TYPE_DMA_TESTDEV,
                      op, dmatd_op_name(op), s->q_cmd.seq);
        /* A refused command gets no sequence number: 0 in the trace. */
        trace_dma_testdev_error(0, dmatd_error_name(DMATD_ERR_BUSY), "none",
                                0, 0);
        s->result = (DmaTestdevResult) {
            .status = DMATD_STATUS_DONE | DMATD_STATUS_ERROR,
            .error = DMATD_ERR_BUSY,
        };
    } else {
        dmatd_cmd_init(s, &c, op);
        c.seed = s->seed;
        c.src_list = s->src_list;
        c.src_count = s->src_count;
        c.dst_list = s->dst_list;
        c.dst_count = s->dst_count;
        c.fill = s->fill;
        dmatd_cmd_started(&c);
        s->result.status = DMATD_STATUS_BUSY;
        dmatd_step_begin(s, &c);
        /* An unlimited budget: the step ends with the command. */
        dmatd_cmd_step(s, &c, &budget);
        if (c.abandoned) {
            dmatd_cursor_abandon(s, &c, &c.src);
            dmatd_cursor_abandon(s, &c, &c.dst);
            trace_dma_testdev_queue_abandon(c.seq, c.phase,
                                            c.res.bytes_done);
            dmatd_step_end(s, "register", &c, c.res.bytes_done);
            return;
        }
        s->result = c.res;
        /* The message may reset or unplug the device: the last access. */
        dmatd_irq_raise(s, DMATD_INTR_CMD_DONE, s->intr_vector);
        dmatd_step_end(s, "register", &c, c.res.bytes_done);
        return;
    }
    dmatd_irq_raise(s, DMATD_INTR_CMD_DONE, s->intr_vector);
}

static uint32_t dmatd_reg_read(DmaTestdevState *s, hwaddr addr, unsigned size)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    DmaTestdevResult *r = &s->result;

    switch (addr) {
    case DMATD_REG_ID:
        return DMA_TESTDEV_ID_VALUE;
    case DMATD_REG_VERSION:
        return DMA_TESTDEV_VERSION_VALUE;
    case DMATD_REG_CAPS:
        return DMATD_CAP_OP(DMATD_OP_WRITE_PATTERN) |
               DMATD_CAP_OP(DMATD_OP_VERIFY_PATTERN) |
               DMATD_CAP_OP(DMATD_OP_COPY) | DMATD_CAP_OP(DMATD_OP_FILL) |
               DMATD_CAP_QUEUE;
    case DMATD_REG_ADDR_BITS:
        return s->addr_bits;
    case DMATD_REG_MAX_SEGS:
        return s->max_segs;
    case DMATD_REG_MAX_XFER_LO:
        return s->max_xfer;
    case DMATD_REG_MAX_XFER_HI:
        return s->max_xfer >> 32;
    case DMATD_REG_CMD:
        return s->cmd;
    case DMATD_REG_SEED:
        /*
         * "x-bad-seed-every": the read oracle (dt-remap-race) must catch
         * a register read that returns something else.
         */
        if (s->bad_seed_every && ++s->seed_reads >= s->bad_seed_every) {
            s->seed_reads = 0;
            return ~s->seed;
        }
        return s->seed;
    case DMATD_REG_SRC_LIST_LO:
        return s->src_list;
    case DMATD_REG_SRC_LIST_HI:
        return s->src_list >> 32;
    case DMATD_REG_SRC_COUNT:
        return s->src_count;
    case DMATD_REG_DST_LIST_LO:
        return s->dst_list;
    case DMATD_REG_DST_LIST_HI:
        return s->dst_list >> 32;
    case DMATD_REG_DST_COUNT:
        return s->dst_count;
    case DMATD_REG_FILL_LO:
        return s->fill;
    case DMATD_REG_FILL_HI:
        return s->fill >> 32;
    case DMATD_REG_STATUS:
        return r->status;
    case DMATD_REG_ERROR:
        return r->error;
    case DMATD_REG_ERR_SEG:
        return r->err_seg;
    case DMATD_REG_ERR_LIST:
        return r->err_list;
    case DMATD_REG_ERR_ADDR_LO:
        return r->err_addr;
    case DMATD_REG_ERR_ADDR_HI:
        return r->err_addr >> 32;
    case DMATD_REG_BYTES_DONE_LO:
        return r->bytes_done;
    case DMATD_REG_BYTES_DONE_HI:
        return r->bytes_done >> 32;
    case DMATD_REG_MISMATCH_SEG:
        return r->mismatch_seg;
    case DMATD_REG_MISMATCH_COUNT:
        return r->mismatch_count;
    case DMATD_REG_MISMATCH_OFF_LO:
        return r->mismatch_off;
    case DMATD_REG_MISMATCH_OFF_HI:
        return r->mismatch_off >> 32;
    case DMATD_REG_MISMATCH_EXP_LO:
        return r->mismatch_exp;
    case DMATD_REG_MISMATCH_EXP_HI:
        return r->mismatch_exp >> 32;
    case DMATD_REG_MISMATCH_GOT_LO:
        return r->mismatch_got;
    case DMATD_REG_MISMATCH_GOT_HI:
        return r->mismatch_got >> 32;
    case DMATD_REG_CHECKSUM_LO:
        return r->checksum;
    case DMATD_REG_CHECKSUM_HI:
        return r->checksum >> 32;
    case DMATD_REG_CMD_SEQ_LO:
        return s->cmd_seq;
    case DMATD_REG_CMD_SEQ_HI:
        return s->cmd_seq >> 32;
    case DMATD_REG_INTR_STATUS:
        return s->intr_status;
    case DMATD_REG_INTR_ENABLE:
        return s->intr_enable;
    case DMATD_REG_INTR_VECTOR:
        return s->intr_vector;
    case DMATD_REG_INTR_INFO:
        return (msi_present(pdev) ? s->msi_vectors : 0) |
               (msix_present(pdev) ? s->msix_vectors << 8 : 0) |
               dmatd_intr_mode(s) << 16;
    case DMATD_REG_Q_CTRL:
        return s->q_ctrl;
    case DMATD_REG_Q_STATUS:
        return s->q_status;
    case DMATD_REG_Q_SIZE:
        return s->q_size;
    case DMATD_REG_Q_ERROR:
        return s->q_error;
    case DMATD_REG_SQ_BASE_LO:
        return s->sq_base;
    case DMATD_REG_SQ_BASE_HI:
        return s->sq_base >> 32;
    case DMATD_REG_CQ_BASE_LO:
        return s->cq_base;
    case DMATD_REG_CQ_BASE_HI:
        return s->cq_base >> 32;
    case DMATD_REG_SQ_TAIL:
        return s->sq_tail;
    case DMATD_REG_SQ_HEAD:
        return s->sq_head;
    case DMATD_REG_CQ_HEAD:
        return s->cq_head;
    case DMATD_REG_CQ_TAIL:
        return s->cq_tail;
    case DMATD_REG_Q_ERR_ADDR_LO:
        return s->q_err_addr;
    case DMATD_REG_Q_ERR_ADDR_HI:
        return s->q_err_addr >> 32;
    case DMATD_REG_Q_ERR_CAUSE:
        return s->q_err_cause;
    case DMATD_REG_Q_MAX_SIZE:
        return DMATD_Q_MAX_SIZE;
    case DMATD_REG_Q_DONE_LO:
        return s->q_done;
    case DMATD_REG_Q_DONE_HI:
        return s->q_done >> 32;
    case DMATD_REG_BAD_COUNT:
        return s->bad_count;
    case DMATD_REG_BAD_INFO:
        return s->bad_info;
    default:
        dmatd_bad(s, addr, size, false, DMATD_BAD_UNKNOWN_REG, "reads as 0");
        return 0;
    }
}

static void dmatd_set_lo(uint64_t *reg, uint32_t val)
{
    *reg = deposit64(*reg, 0, 32, val);
}

static void dmatd_set_hi(uint64_t *reg, uint32_t val)
{
    *reg = deposit64(*reg, 32, 32, val);
}

/* Queue setup may only change while the queue is disabled. */
static bool dmatd_queue_setup_ok(DmaTestdevState *s, hwaddr addr, uint32_t val)
{
    if (s->q_ctrl & DMATD_QCTRL_ENABLE) {
        dmatd_bad(s, addr, 4, true, DMATD_BAD_QUEUE_ENABLED, "0x%x ignored",
                  val);
        return false;
    }
    return true;
}

static void dmatd_reg_write(DmaTestdevState *s, hwaddr addr, uint32_t val)
{
    switch (addr) {
    case DMATD_REG_CMD:
        dmatd_reg_command(s, val);
        break;
    case DMATD_REG_SEED:
        s->seed = val;
        break;
    case DMATD_REG_SRC_LIST_LO:
        dmatd_set_lo(&s->src_list, val);
        break;
    case DMATD_REG_SRC_LIST_HI:
        dmatd_set_hi(&s->src_list, val);
        break;
    case DMATD_REG_SRC_COUNT:
        s->src_count = val;
        break;
    case DMATD_REG_DST_LIST_LO:
        dmatd_set_lo(&s->dst_list, val);
        break;
    case DMATD_REG_DST_LIST_HI:
        dmatd_set_hi(&s->dst_list, val);
        break;
    case DMATD_REG_DST_COUNT:
        s->dst_count = val;
        break;
    case DMATD_REG_FILL_LO:
        dmatd_set_lo(&s->fill, val);
        break;
    case DMATD_REG_FILL_HI:
        dmatd_set_hi(&s->fill, val);
        break;
    case DMATD_REG_INTR_STATUS:
        if (val & ~DMATD_INTR_STATUS_MASK) {
            dmatd_bad(s, addr, 4, true, DMATD_BAD_RESERVED_BITS,
                      "INTR_STATUS 0x%x", val);
        }
        s->intr_status &= ~val;
        dmatd_intx_update(s);
        break;
    case DMATD_REG_INTR_ENABLE:
        if (val & ~DMATD_INTR_CAUSES) {
            dmatd_bad(s, addr, 4, true, DMATD_BAD_RESERVED_BITS,
                      "INTR_ENABLE 0x%x", val);
        }
        s->intr_enable = val & DMATD_INTR_CAUSES;
        dmatd_intx_update(s);
        break;
    case DMATD_REG_INTR_VECTOR:
        if (val >= DMATD_MAX_VECTORS) {
            dmatd_bad(s, addr, 4, true, DMATD_BAD_RESERVED_BITS,
                      "INTR_VECTOR %u", val);
        }
        s->intr_vector = val % DMATD_MAX_VECTORS;
        break;
    case DMATD_REG_Q_CTRL:
        dmatd_queue_ctrl(s, addr, val);
        break;
    case DMATD_REG_Q_SIZE:
        if (dmatd_queue_setup_ok(s, addr, val)) {
            s->q_size = val;
        }
        break;
    case DMATD_REG_SQ_BASE_LO:
        if (dmatd_queue_setup_ok(s, addr, val)) {
            dmatd_set_lo(&s->sq_base, val);
        }
        break;
    case DMATD_REG_SQ_BASE_HI:
        if (dmatd_queue_setup_ok(s, addr, val)) {
            dmatd_set_hi(&s->sq_base, val);
        }
        break;
    case DMATD_REG_CQ_BASE_LO:
        if (dmatd_queue_setup_ok(s, addr, val)) {
            dmatd_set_lo(&s->cq_base, val);
        }
        break;
    case DMATD_REG_CQ_BASE_HI:
        if (dmatd_queue_setup_ok(s, addr, val)) {
            dmatd_set_hi(&s->cq_base, val);
        }
        break;
    case DMATD_REG_SQ_TAIL:
        dmatd_queue_sq_doorbell(s, addr, val);
        break;
    case DMATD_REG_CQ_HEAD:
        dmatd_queue_cq_doorbell(s, addr, val);
        break;
    case DMATD_REG_ID ... DMATD_REG_MAX_SEGS:
    case DMATD_REG_MAX_XFER_LO:
    case DMATD_REG_MAX_XFER_HI:
    case DMATD_REG_STATUS ... DMATD_REG_CMD_SEQ_HI:
    case DMATD_REG_INTR_INFO:
    case DMATD_REG_Q_STATUS:
    case DMATD_REG_Q_ERROR:
    case DMATD_REG_SQ_HEAD:
    case DMATD_REG_CQ_TAIL:
    case DMATD_REG_Q_ERR_ADDR_LO ... DMATD_REG_Q_DONE_HI:
    case DMATD_REG_BAD_COUNT:
    case DMATD_REG_BAD_INFO:
        dmatd_bad(s, addr, 4, true, DMATD_BAD_READ_ONLY, "0x%x ignored", val);
        break;
    default:
        dmatd_bad(s, addr, 4, true, DMATD_BAD_UNKNOWN_REG, "0x%x ignored", val);
        break;
    }
}

/*
 * The memory core delivers every size from 1 to 8 bytes so that the
 * device, not the core, decides what a bad access does: it is ignored and
 * reported, and never reaches a register half.
 */
static bool dmatd_access_ok(DmaTestdevState *s, hwaddr addr, unsigned size,
                            bool is_write)
{
    if ((size == 4 || size == 8) && !(addr & (size - 1))) {
        return true;
    }
    dmatd_bad(s, addr, size, is_write, DMATD_BAD_ACCESS_SIZE,
              "registers take aligned 4- or 8-byte accesses");
    return false;
}

static uint64_t dmatd_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    DmaTestdevState *s = opaque;
    uint64_t val;

    if (!dmatd_access_ok(s, addr, size, false)) {
        return 0;
    }
    val = dmatd_reg_read(s, addr, size);
    if (size == 8) {
        val |= (uint64_t)dmatd_reg_read(s, addr + 4, size) << 32;
    }
    trace_dma_testdev_mmio_read(addr, size, val);
    return val;
}

static void dmatd_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                             unsigned size)
{
    DmaTestdevState *s = opaque;
    uint32_t epoch = s->epoch;

    if (!dmatd_access_ok(s, addr, size, true)) {
        return;
    }
    trace_dma_testdev_mmio_write(addr, size, val);
    dmatd_reg_write(s, addr, val);
    /* Not into a device that the low half's command reset or unplugged. */
    if (size == 8 && s->epoch == epoch) {
        dmatd_reg_write(s, addr + 4, val >> 32);
    }
}

static const MemoryRegionOps dmatd_mmio_ops = {
    .read = dmatd_mmio_read,
    .write = dmatd_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = DMATD_MMIO_ANY_ACCESS,
    .impl = DMATD_MMIO_ANY_ACCESS,
};

/*
 * QOM getter of "dma-log": one page of the ring as a list of dicts, oldest
 * first: at most "dma-log-page" entries from sequence number
 * "dma-log-from" on (or from the oldest entry kept, if that is newer).
 * Sequence numbers in the ring are consecutive, so the first slot is
 * found without a search and a read costs O(page), never O(ring): a
 * reader pages through a log by setting "dma-log-from" to one past the
 * last "seq" it got, until a page comes back empty.
 */
static void dmatd_get_dma_log(Object *obj, Visitor *v, const char *name,
                              void *opaque, Error **errp)
{
    DmaTestdevState *s = DMA_TESTDEV(obj);
    uint64_t oldest = s->log_seq - s->log_count + 1;
    uint64_t skip = 0;
    uint32_t i, n = 0;

    if (s->log_count && s->log_from <= s->log_seq) {
        skip = s->log_from > oldest ? s->log_from - oldest : 0;
        n = MIN(s->log_count - skip, s->log_page);
    }
    if (!visit_start_list(v, name, NULL, 0, errp)) {
        return;
    }
    for (i = 0; i < n; i++) {
        uint32_t slot = (s->log_head + s->log_size - s->log_count + skip + i) %
                        s->log_size;
        DmaTestdevLogEntry *e = &s->log[slot];
        char *op = (char *)dmatd_op_name(e->op);
        char *list = (char *)dmatd_log_kind_name(e->kind);
        char *dir = (char *)(dmatd_log_kind_is_write(e->kind) ? "write"
                                                          : "read");
        char *result = (char *)dmatd_error_name(e->result);
        uint32_t index = e->index;

        if (!visit_start_struct(v, NULL, NULL, 0, errp)) {
            return;
        }
        if (!visit_type_uint64(v, "seq", &e->seq, errp) ||
            !visit_type_uint64(v, "cmd", &e->cmd, errp) ||
            !visit_type_str(v, "op", &op, errp) ||
            !visit_type_str(v, "list", &list, errp) ||
            !visit_type_uint32(v, "index", &index, errp) ||
            !visit_type_str(v, "dir", &dir, errp) ||
            !visit_type_uint64(v, "addr", &e->addr, errp) ||
            !visit_type_uint64(v, "len", &e->len, errp) ||
            !visit_type_uint64(v, "done", &e->done, errp) ||
            !visit_type_str(v, "result", &result, errp) ||
            !visit_check_struct(v, errp)) {
            visit_end_struct(v, NULL);
            return;
        }
        visit_end_struct(v, NULL);
    }
    if (visit_check_list(v, errp)) {
        visit_end_list(v, NULL);
    }
}

/*
 * Reset: the queue stops at once (nothing is written for the command in
 * flight afterwards) and every register returns to its reset value.
 * CMD_SEQ and the DMA log survive, so that log entries stay unambiguous
 * across guest reboots.
 */
static void dmatd_reset_hold(Object *obj, ResetType type)
{
    DmaTestdevState *s = DMA_TESTDEV(obj);
    uint64_t cmd_seq = s->cmd_seq;

    trace_dma_testdev_reset(s->q_active, s->q_active ? s->q_cmd.seq : 0);
    /* This may run inside a step, from the step's own DMA: stop it. */
    dmatd_abort(s, DMATD_ABORT_RESET);
    dmatd_queue_stop(s);

    s->cmd = DMATD_OP_NONE;
    s->seed = 0;
    s->src_list = 0;
    s->src_count = 0;
    s->dst_list = 0;
    s->dst_count = 0;
    s->fill = 0;
    s->result = (DmaTestdevResult) { 0 };
    s->intr_status = 0;
    s->intr_enable = 0;
    s->intr_vector = 0;
    s->bad_count = 0;
    s->bad_info = 0;
    s->q_ctrl = 0;
    s->q_status = 0;
    s->q_size = 0;
    s->q_error = DMATD_QERR_NONE;
    s->q_err_cause = 0;
    s->q_err_addr = 0;
    s->sq_base = 0;
    s->cq_base = 0;
    s->sq_tail = s->sq_head = s->cq_head = s->cq_tail = 0;
    s->cq_phase = true;
    s->q_done = 0;
    s->q_budget = 0;
    s->q_cmd = (DmaTestdevCmd) { 0 };
    s->cmd_seq = cmd_seq;
    dmatd_epf_reset(s);
}

static void dmatd_config_write(PCIDevice *pdev, uint32_t addr, uint32_t val,
                               int len)
{
    pci_default_write_config(pdev, addr, val, len);
    if (pci_is_express(pdev)) {
        pcie_cap_flr_write_config(pdev, addr, val, len);
    }
    /*
     * Turning MSI or MSI-X on or off moves the interrupt to or from INTx.
     * The epf-test personality holds INTx until STATUS is read instead.
     */
    if (!DMA_TESTDEV(pdev)->epf) {
        dmatd_intx_update(DMA_TESTDEV(pdev));
    }
}

static void dmatd_realize(PCIDevice *pdev, Error **errp)
{
    DmaTestdevState *s = DMA_TESTDEV(pdev);
    size_t log_bytes;
    unsigned i;

    if (s->addr_bits < 12 || s->addr_bits > 64) {
        error_setg(errp, "addr-bits must be between 12 and 64, not %u",
                   s->addr_bits);
        return;
    }
    if (!s->max_segs || s->max_segs > DMATD_LIMIT_MAX_SEGS) {
        error_setg(errp, "max-segments must be between 1 and %u, not %u",
                   DMATD_LIMIT_MAX_SEGS, s->max_segs);
        return;
    }
    if (!s->max_xfer) {
        error_setg(errp, "max-transfer must not be 0");
        return;
    }
    if (!s->log_size || s->log_size > DMATD_LIMIT_LOG_SIZE) {
        error_setg(errp, "dma-log-size must be between 1 and %u, not %u",
                   DMATD_LIMIT_LOG_SIZE, s->log_size);
        return;
    }
    if (!s->log_page || s->log_page > DMATD_LIMIT_LOG_PAGE) {
        error_setg(errp, "dma-log-page must be between 1 and %u, not %u",
                   DMATD_LIMIT_LOG_PAGE, s->log_page);
        return;
    }
    if (s->msi_vectors > DMATD_MAX_VECTORS ||
        (s->msi_vectors & (s->msi_vectors - 1))) {
        error_setg(errp, "msi-vectors must be 0 or a power of 2 up to %u, "
                   "not %u", DMATD_MAX_VECTORS, s->msi_vectors);
        return;
    }
    if (s->msix_vectors > DMATD_MAX_VECTORS) {
        error_setg(errp, "msix-vectors must be between 0 and %u, not %u",
                   DMATD_MAX_VECTORS, s->msix_vectors);
        return;
    }
    if (s->datapath_max_lanes != 1 && s->datapath_max_lanes != 4 &&
        s->datapath_max_lanes != 8) {
        error_setg(errp, "x-datapath-max-lanes must be 1, 4 or 8, not %u",
                   s->datapath_max_lanes);
        return;
    }
    if (!s->personality || !strcmp(s->personality, "native")) {
        s->epf = false;
    } else if (!strcmp(s->personality, "epf-test")) {
        s->epf = true;
    } else {
        error_setg(errp, "personality must be 'native' or 'epf-test', not "
                   "'%s'", s->personality);
        return;
    }
    if (s->latency_ns > DMATD_LIMIT_LATENCY_NS) {
        error_setg(errp, "latency-ns must be at most %" PRIu64 ", not %"
                   PRIu64, (uint64_t)DMATD_LIMIT_LATENCY_NS, s->latency_ns);
        return;
    }
    if (s->step_size && s->step_size < DMATD_MIN_STEP_SIZE) {
        error_setg(errp, "step-size must be 0 (no limit) or at least %u, "
                   "not %" PRIu64, DMATD_MIN_STEP_SIZE, s->step_size);
        return;
    }

    pci_config_set_interrupt_pin(pdev->config, 1);
    /*
     * Immediate Readiness: the device completes an FLR or a reset the
     * moment it is asked for, and takes any request right after.  Saying
     * so spares the guest the 100 ms that PCIe grants a function to come
     * back from an FLR (Linux's pcie_flr() skips it), which vfio-pci pays
     * at every open.  Read-only: a guest cannot clear it.
     */
    pci_word_test_and_set_mask(pdev->config + PCI_STATUS,
                               PCI_STATUS_IMM_READY);

    if (pci_bus_is_express(pci_get_bus(pdev))) {
        if (pcie_endpoint_cap_init(pdev, DMATD_PCIE_CAP_OFFSET) < 0) {
            error_setg(errp, "failed to add the PCI Express capability");
            return;
        }
        pcie_cap_flr_init(pdev);
    } else {
        /* Conventional PCI on a conventional bus, e.g. on "pc". */
        pdev->cap_present &= ~QEMU_PCI_CAP_EXPRESS;
    }

    if (s->msi_vectors) {
        Error *err = NULL;
        int ret = msi_init(pdev, DMATD_MSI_CAP_OFFSET, s->msi_vectors, true,
                           true, &err);

        /* -ENOTSUP: the machine has no working MSI; INTx still works. */
        if (ret == -ENOTSUP) {
            error_free(err);
        } else if (ret < 0) {
            error_propagate(errp, err);
            return;
        }
    }
    if (s->epf) {
        if (!dmatd_epf_realize(s, errp)) {
            return;
        }
    } else {
        memory_region_init_io(&s->mmio, OBJECT(s), &dmatd_mmio_ops, s,
                              "dma-testdev-mmio", DMA_TESTDEV_BAR0_SIZE);
        pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);
        if (s->msix_vectors &&
            msix_init_exclusive_bar(pdev, s->msix_vectors, 1, errp) < 0) {
            return;
        }
    }
    for (i = 0; i < s->msix_vectors; i++) {
        msix_vector_use(pdev, i);
    }

    s->timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, dmatd_queue_timer, s);
    s->bh = qemu_bh_new_guarded(s->epf ? dmatd_epf_bh : dmatd_queue_bh, s,
                                &DEVICE(s)->mem_reentrancy_guard);
    /*
     * The log is written in order, and the first write to each host page
     * of it is a page fault.  With 4 KiB pages that is one every 21 queue
     * commands (four entries each), about 13 us on a host that is itself
     * a VM: 1 % of the queue round trips took 15 us instead of 1 us.
     * Transparent huge pages, where the host has them, make it one fault
     * per 2 MiB.  Only entries the device wrote are ever read.
     */
    log_bytes = (size_t)s->log_size * sizeof(*s->log);
    if (log_bytes >= QEMU_VMALLOC_ALIGN) {
        s->log = qemu_memalign(QEMU_VMALLOC_ALIGN, log_bytes);
        qemu_madvise(s->log, log_bytes, QEMU_MADV_HUGEPAGE);
    } else {
        s->log = qemu_memalign(64, log_bytes);
    }
    s->bounce = g_malloc(DMATD_BOUNCE_SIZE);
    s->lanes = dmatd_words_lanes_best(s->datapath_max_lanes);
    s->cq_phase = true;
}

/*
 * Unplug.  This may run inside a step, whose own DMA powered the slot
 * off: the step stops at its next check (dmatd_dma), and what it uses (the
 * log, the bounce buffer) lives until dmatd_instance_finalize.
 */
static void dmatd_exit(PCIDevice *pdev)
{
    DmaTestdevState *s = DMA_TESTDEV(pdev);

    dmatd_abort(s, DMATD_ABORT_UNPLUG);
    dmatd_queue_stop(s);
    s->q_ctrl = 0;
    s->q_status = 0;
    s->epf_regs.xfer_cmd = 0;
    timer_free(s->timer);
    s->timer = NULL;
    qemu_bh_delete(s->bh);
    s->bh = NULL;
    if (msix_present(pdev)) {
        if (s->epf) {
            msix_uninit(pdev, &s->epf_bar0, &s->epf_bar0);
        } else {
            msix_uninit_exclusive_bar(pdev);
        }
    }
    msi_uninit(pdev);
    if (s->epf) {
        dmatd_epf_unrealize(s);
    }
}

static void dmatd_instance_finalize(Object *obj)
{
    DmaTestdevState *s = DMA_TESTDEV(obj);

    qemu_vfree(s->log);
    g_free(s->bounce);
}

static void dmatd_get_log_from(Object *obj, Visitor *v, const char *name,
                               void *opaque, Error **errp)
{
    visit_type_uint64(v, name, &DMA_TESTDEV(obj)->log_from, errp);
}

static void dmatd_set_log_from(Object *obj, Visitor *v, const char *name,
                               void *opaque, Error **errp)
{
    visit_type_uint64(v, name, &DMA_TESTDEV(obj)->log_from, errp);
}

static void dmatd_get_log_seq(Object *obj, Visitor *v, const char *name,
                              void *opaque, Error **errp)
{
    visit_type_uint64(v, name, &DMA_TESTDEV(obj)->log_seq, errp);
}

/* Which loops the data path runs: tests and benchmarks report it. */
static void dmatd_get_lanes(Object *obj, Visitor *v, const char *name,
                            void *opaque, Error **errp)
{
    visit_type_uint8(v, name, &DMA_TESTDEV(obj)->lanes, errp);
}

static void dmatd_instance_init(Object *obj)
{
    /* Sized for PCIe config space; cleared in realize on a PCI bus. */
    PCI_DEVICE(obj)->cap_present |= QEMU_PCI_CAP_EXPRESS;

    object_property_add(obj, "dma-log", "DmaTestdevLog", dmatd_get_dma_log,
                        NULL, NULL, NULL);
    object_property_add(obj, "dma-log-from", "uint64", dmatd_get_log_from,
                        dmatd_set_log_from, NULL, NULL);
    object_property_add(obj, "dma-log-seq", "uint64", dmatd_get_log_seq,
                        NULL, NULL, NULL);
    object_property_add(obj, "x-datapath-lanes", "uint8", dmatd_get_lanes,
                        NULL, NULL, NULL);
}

/*
 * Migration.  Everything is migrated, including the command in flight
 * (cursors, partial word, checksum so far), the step timer and the DMA
 * log, so that a command interrupted by migration completes afterwards
 * exactly as it would have.
 */

static const VMStateDescription vmstate_dmatd_cursor = {
    .name = TYPE_DMA_TESTDEV "/cursor",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8(list, DmaTestdevCursor),
        VMSTATE_UINT64(base, DmaTestdevCursor),
        VMSTATE_UINT32(count, DmaTestdevCursor),
        VMSTATE_UINT32(index, DmaTestdevCursor),
        VMSTATE_UINT64(seg_addr, DmaTestdevCursor),
        VMSTATE_UINT32(seg_len, DmaTestdevCursor),
        VMSTATE_UINT32(seg_pos, DmaTestdevCursor),
        VMSTATE_UINT64(total, DmaTestdevCursor),
        VMSTATE_UINT32(list_dma_err, DmaTestdevCursor),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_dmatd_stream = {
    .name = TYPE_DMA_TESTDEV "/stream",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(off, DmaTestdevStream),
        VMSTATE_UINT64(csum, DmaTestdevStream),
        VMSTATE_UINT64(word, DmaTestdevStream),
        VMSTATE_UINT32(word_seg, DmaTestdevStream),
        VMSTATE_BOOL(verify, DmaTestdevStream),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_dmatd_result = {
    .name = TYPE_DMA_TESTDEV "/result",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(status, DmaTestdevResult),
        VMSTATE_UINT32(error, DmaTestdevResult),
        VMSTATE_UINT32(err_seg, DmaTestdevResult),
        VMSTATE_UINT32(err_list, DmaTestdevResult),
        VMSTATE_UINT64(err_addr, DmaTestdevResult),
        VMSTATE_UINT64(bytes_done, DmaTestdevResult),
        VMSTATE_UINT32(mismatch_seg, DmaTestdevResult),
        VMSTATE_UINT32(mismatch_count, DmaTestdevResult),
        VMSTATE_UINT64(mismatch_off, DmaTestdevResult),
        VMSTATE_UINT64(mismatch_exp, DmaTestdevResult),
        VMSTATE_UINT64(mismatch_got, DmaTestdevResult),
        VMSTATE_UINT64(checksum, DmaTestdevResult),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_dmatd_cmd = {
    .name = TYPE_DMA_TESTDEV "/cmd",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(op, DmaTestdevCmd),
        VMSTATE_UINT32(seed, DmaTestdevCmd),
        VMSTATE_UINT64(src_list, DmaTestdevCmd),
        VMSTATE_UINT32(src_count, DmaTestdevCmd),
        VMSTATE_UINT64(dst_list, DmaTestdevCmd),
        VMSTATE_UINT32(dst_count, DmaTestdevCmd),
        VMSTATE_UINT64(fill, DmaTestdevCmd),
        VMSTATE_UINT64(seq, DmaTestdevCmd),
        VMSTATE_UINT64(tag, DmaTestdevCmd),
        VMSTATE_UINT32(vector, DmaTestdevCmd),
        VMSTATE_UINT32(flags, DmaTestdevCmd),
        VMSTATE_UINT32(phase, DmaTestdevCmd),
        VMSTATE_STRUCT(src, DmaTestdevCmd, 1, vmstate_dmatd_cursor,
                       DmaTestdevCursor),
        VMSTATE_STRUCT(dst, DmaTestdevCmd, 1, vmstate_dmatd_cursor,
                       DmaTestdevCursor),
        VMSTATE_STRUCT(st, DmaTestdevCmd, 1, vmstate_dmatd_stream,
                       DmaTestdevStream),
        VMSTATE_UINT64(src_total, DmaTestdevCmd),
        VMSTATE_STRUCT(res, DmaTestdevCmd, 1, vmstate_dmatd_result,
                       DmaTestdevResult),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_dmatd_log_entry = {
    .name = TYPE_DMA_TESTDEV "/log-entry",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(seq, DmaTestdevLogEntry),
        VMSTATE_UINT64(cmd, DmaTestdevLogEntry),
        VMSTATE_UINT64(addr, DmaTestdevLogEntry),
        VMSTATE_UINT64(len, DmaTestdevLogEntry),
        VMSTATE_UINT64(done, DmaTestdevLogEntry),
        VMSTATE_UINT32(index, DmaTestdevLogEntry),
        VMSTATE_UINT8(op, DmaTestdevLogEntry),
        VMSTATE_UINT8(kind, DmaTestdevLogEntry),
        VMSTATE_UINT8(result, DmaTestdevLogEntry),
        VMSTATE_END_OF_LIST()
    },
};

/* Send the log oldest first from slot 0, so only used slots travel. */
static int dmatd_pre_save(void *opaque)
{
    DmaTestdevState *s = opaque;
    uint32_t first = (s->log_head + s->log_size - s->log_count) %
                     s->log_size;

    if (first) {
        g_autofree DmaTestdevLogEntry *tmp =
            g_new(DmaTestdevLogEntry, s->log_count);
        uint32_t i;

        for (i = 0; i < s->log_count; i++) {
            tmp[i] = s->log[(first + i) % s->log_size];
        }
        memcpy(s->log, tmp, s->log_count * sizeof(*tmp));
    }
    s->log_head = s->log_count % s->log_size;
    return 0;
}

static bool dmatd_log_fits(void *opaque, int version_id)
{
    DmaTestdevState *s = opaque;

    return s->log_count <= s->log_size;
}

/*
 * Migration-stream checks.  Each returns NULL if the state is consistent,
 * or what is wrong with it; the device must never run on a state that its
 * own operation cannot produce.
 */

static const char *dmatd_check_log(DmaTestdevState *s)
{
    uint32_t i;

    if (s->log_count > s->log_seq) {
        return "DMA log: more entries than sequence numbers";
    }
    for (i = 0; i < s->log_count; i++) {
        const DmaTestdevLogEntry *e = &s->log[i];

        if (e->seq != s->log_seq - s->log_count + 1 + i) {
            return "DMA log: sequence numbers not consecutive";
        }
        if (e->kind > DMATD_LOG_KIND_MAX) {
            return "DMA log: entry kind";
        }
        if (e->op != UINT8_MAX && !dmatd_op_name_or_null(e->op)) {
            return "DMA log: entry op";
        }
        if (e->result > DMATD_ERR_MAX || e->done > e->len ||
            e->cmd > s->cmd_seq) {
            return "DMA log: entry result, length or command";
        }
    }
    return NULL;
}

static const char *dmatd_check_result(const DmaTestdevResult *r)
{
    const uint32_t known = DMATD_STATUS_BUSY | DMATD_STATUS_DONE |
                           DMATD_STATUS_ERROR | DMATD_STATUS_MISMATCH;

    if ((r->status & ~known) || r->error > DMATD_ERR_MAX ||
        r->err_list > DMATD_LIST_DST) {
        return "result: status, error or list";
    }
    if (!!(r->status & DMATD_STATUS_ERROR) != (r->error != DMATD_ERR_NONE) &&
        !(r->status & DMATD_STATUS_BUSY)) {
        return "result: ERROR bit and error code disagree";
    }
    return NULL;
}

static bool dmatd_cursor_valid(DmaTestdevState *s, const DmaTestdevCursor *cur,
                               uint8_t list, uint64_t base, uint32_t count)
{
    if (cur->list != list || cur->base != base || cur->count != count ||
        cur->count > s->max_segs || cur->index > cur->count ||
        cur->seg_pos > cur->seg_len || cur->total > s->max_xfer ||
        cur->list_dma_err > DMATD_ERR_MAX) {
        return false;
    }
    /* A loaded segment passed dmatd_load_seg's checks. */
    return !cur->seg_len ||
           dmatd_check_range(s, cur->seg_addr, cur->seg_len) == DMATD_ERR_NONE;
}

/* The queue command in flight, if any. */
static const char *dmatd_check_cmd(DmaTestdevState *s, const DmaTestdevCmd *c)
{
    bool copy = c->op == DMATD_OP_COPY;
    bool checked_src = c->phase >= DMATD_PHASE_CHECK_SRC &&
                       (c->op == DMATD_OP_VERIFY_PATTERN || copy);
    bool checked_dst = c->phase >= DMATD_PHASE_CHECK_DST &&
                       c->op != DMATD_OP_VERIFY_PATTERN;

    if (c->phase > DMATD_PHASE_MAX || c->seq == 0 || c->seq > s->cmd_seq) {
        return "command: phase or sequence number";
    }
    if (c->phase == DMATD_PHASE_DONE) {
        /* Finished (maybe failed before it started), waiting for the CQ. */
        return c->res.status & DMATD_STATUS_BUSY ? "command: done but busy"
                                              : dmatd_check_result(&c->res);
    }
    if (c->op == DMATD_OP_NONE || c->op > DMATD_OP_MAX ||
        (c->flags & ~DMATD_SQE_F_INTR) || c->vector >= DMATD_MAX_VECTORS ||
        c->res.status != DMATD_STATUS_BUSY || c->res.error != DMATD_ERR_NONE) {
        return "command: op, flags, vector or result of a running command";
    }
    if (c->phase == DMATD_PHASE_START) {
        return NULL;
    }
    if ((c->phase == DMATD_PHASE_CHECK_SRC && !checked_src) ||
        (c->phase == DMATD_PHASE_CHECK_DST && !checked_dst)) {
        return "command: phase does not fit the op";
    }
    if (checked_src &&
        !dmatd_cursor_valid(s, &c->src, DMATD_LIST_SRC, c->src_list,
                            c->src_count)) {
        return "command: source cursor";
    }
    if (checked_dst &&
        !dmatd_cursor_valid(s, &c->dst, DMATD_LIST_DST, c->dst_list,
                            c->dst_count)) {
        return "command: destination cursor";
    }
    if (c->phase == DMATD_PHASE_RUN) {
        uint64_t total = copy || c->op == DMATD_OP_VERIFY_PATTERN ? c->src_total
                                                               : c->dst.total;

        if (c->st.off != c->res.bytes_done || c->res.bytes_done > total ||
            c->st.verify != (c->op == DMATD_OP_VERIFY_PATTERN) ||
            c->st.word_seg > MAX(c->src.index, c->dst.index)) {
            return "command: data stream";
        }
    }
    return NULL;
}

static const char *dmatd_check_queue(DmaTestdevState *s)
{
    const uint32_t known = DMATD_QSTATUS_ENABLED | DMATD_QSTATUS_BUSY |
                           DMATD_QSTATUS_ERROR | DMATD_QSTATUS_CQ_FULL;
    bool enabled = s->q_ctrl & DMATD_QCTRL_ENABLE;
    uint32_t posted;

    if ((s->q_ctrl & ~DMATD_QCTRL_ENABLE) || (s->q_status & ~known) ||
        enabled != !!(s->q_status & DMATD_QSTATUS_ENABLED) ||
        s->q_error > DMATD_QERR_MAX || s->q_err_cause > DMATD_ERR_MAX ||
        (s->q_error != DMATD_QERR_NONE) !=
        !!(s->q_status & DMATD_QSTATUS_ERROR)) {
        return "queue: Q_CTRL, Q_STATUS and Q_ERROR disagree";
    }
    if (s->q_size > DMATD_Q_MAX_SIZE || s->intr_vector >= DMATD_MAX_VECTORS ||
        (s->intr_status & ~DMATD_INTR_STATUS_MASK) ||
        (s->intr_enable & ~DMATD_INTR_CAUSES) ||
        DMATD_BAD_INFO_REASON(s->bad_info) > DMATD_BAD_QUEUE_DISABLED) {
        return "registers: Q_SIZE, interrupts or BAD_INFO";
    }
    if (!dmatd_queue_running(s)) {
        /* Stopped: no command, nothing armed, no busy bits. */
        if (s->q_active || s->q_scheduled || s->q_budget ||
            (s->q_status & (DMATD_QSTATUS_BUSY | DMATD_QSTATUS_CQ_FULL))) {
            return "queue: stopped but busy";
        }
        return NULL;
    }
    /* Running: what dmatd_queue_enable accepted, and indices inside it. */
    if (s->q_size < 2 || s->sq_base % DMATD_Q_ALIGN ||
        s->cq_base % DMATD_Q_ALIGN ||
        dmatd_check_range(s, s->sq_base,
                          (uint64_t)s->q_size * DMATD_SQE_SIZE) ||
        dmatd_check_range(s, s->cq_base,
                          (uint64_t)s->q_size * DMATD_CQE_SIZE)) {
        return "queue: ring size, alignment or range";
    }
    if (s->sq_head >= s->q_size || s->sq_tail >= s->q_size ||
        s->cq_head >= s->q_size || s->cq_tail >= s->q_size) {
        return "queue: ring index";
    }
    posted = (s->cq_tail + s->q_size - s->cq_head) % s->q_size;
    if (s->q_active != !!(s->q_status & DMATD_QSTATUS_BUSY) ||
        ((s->q_status & DMATD_QSTATUS_CQ_FULL) && !s->q_active) ||
        (s->q_budget && !s->q_active) ||
        (s->step_size && s->q_budget > s->step_size)) {
        return "queue: busy, CQ full or step budget";
    }
    if (s->q_done < posted) {
        return "queue: fewer completions than entries posted";
    }
    return s->q_active ? dmatd_check_cmd(s, &s->q_cmd) : NULL;
}

static int dmatd_post_load(void *opaque, int version_id)
{
    DmaTestdevState *s = opaque;
    const DmaTestdevCmd *c = &s->q_cmd;
    const char *bad;

    s->log_head = s->log_count % s->log_size;
    bad = dmatd_check_log(s);
    if (!bad) {
        bad = dmatd_check_result(&s->result);
    }
    if (!bad && s->result.status & DMATD_STATUS_BUSY) {
        /* Register commands finish before the register write returns. */
        bad = "result: busy outside a command";
    }
    if (!bad) {
        bad = dmatd_check_queue(s);
    }
    if (!bad && PCI_DEVICE(s)->config[PCI_INTERRUPT_PIN] != 1) {
        /* Config space loads unchecked here; pci_set_irq asserts on it. */
        bad = "interrupt pin is not INTA";
    }
    if (!bad && s->epf && (s->q_ctrl || s->q_status)) {
        bad = "the epf-test personality has no command queue";
    }
    if (!bad && !dmatd_epf_post_load(s)) {
        bad = "epf-test transfer state";
    }
    if (bad) {
        error_report("%s: inconsistent migration state: %s", TYPE_DMA_TESTDEV,
                     bad);
        return -EINVAL;
    }
    /* A pending bottom half is not migrated: re-arm it as a timer. */
    if ((s->q_scheduled || (s->epf && (s->epf_regs.command ||
                                       s->epf_regs.xfer_cmd))) &&
        !timer_pending(s->timer)) {
        timer_mod(s->timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
    }
    trace_dma_testdev_post_load(s->q_active, c->seq, c->res.bytes_done,
                                s->log_count);
    return 0;
}

static bool dmatd_has_msix(void *opaque, int version_id)
{
    return msix_present(PCI_DEVICE(opaque));
}

/*
 * Version 4: contract 2.0's checksum.  A command in flight carries its
 * checksum so far, which a version 3 stream computed the 1.x way.
 */
static const VMStateDescription vmstate_dma_testdev = {
    .name = TYPE_DMA_TESTDEV,
    .version_id = 4,
    .minimum_version_id = 4,
    .pre_save = dmatd_pre_save,
    .post_load = dmatd_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, DmaTestdevState),
        VMSTATE_MSIX_TEST(parent_obj, DmaTestdevState, dmatd_has_msix),
        VMSTATE_UINT32(cmd, DmaTestdevState),
        VMSTATE_UINT32(seed, DmaTestdevState),
        VMSTATE_UINT64(src_list, DmaTestdevState),
        VMSTATE_UINT32(src_count, DmaTestdevState),
        VMSTATE_UINT64(dst_list, DmaTestdevState),
        VMSTATE_UINT32(dst_count, DmaTestdevState),
        VMSTATE_UINT64(fill, DmaTestdevState),
        VMSTATE_STRUCT(result, DmaTestdevState, 1, vmstate_dmatd_result,
                       DmaTestdevResult),
        VMSTATE_UINT64(cmd_seq, DmaTestdevState),
        VMSTATE_UINT32(intr_status, DmaTestdevState),
        VMSTATE_UINT32(intr_enable, DmaTestdevState),
        VMSTATE_UINT32(intr_vector, DmaTestdevState),
        VMSTATE_UINT32(bad_count, DmaTestdevState),
        VMSTATE_UINT32(bad_info, DmaTestdevState),
        VMSTATE_UINT32(q_ctrl, DmaTestdevState),
        VMSTATE_UINT32(q_status, DmaTestdevState),
        VMSTATE_UINT32(q_size, DmaTestdevState),
        VMSTATE_UINT32(q_error, DmaTestdevState),
        VMSTATE_UINT32(q_err_cause, DmaTestdevState),
        VMSTATE_UINT64(q_err_addr, DmaTestdevState),
        VMSTATE_UINT64(sq_base, DmaTestdevState),
        VMSTATE_UINT64(cq_base, DmaTestdevState),
        VMSTATE_UINT32(sq_tail, DmaTestdevState),
        VMSTATE_UINT32(sq_head, DmaTestdevState),
        VMSTATE_UINT32(cq_head, DmaTestdevState),
        VMSTATE_UINT32(cq_tail, DmaTestdevState),
        VMSTATE_BOOL(cq_phase, DmaTestdevState),
        VMSTATE_UINT64(q_done, DmaTestdevState),
        VMSTATE_BOOL(q_active, DmaTestdevState),
        VMSTATE_BOOL(q_scheduled, DmaTestdevState),
        VMSTATE_UINT64(q_budget, DmaTestdevState),
        VMSTATE_STRUCT(q_cmd, DmaTestdevState, 1, vmstate_dmatd_cmd,
                       DmaTestdevCmd),
        VMSTATE_TIMER_PTR(timer, DmaTestdevState),
        VMSTATE_STRUCT(epf_regs, DmaTestdevState, 2, vmstate_dmatd_epf,
                       DmaTestdevEpf),
        VMSTATE_UINT64(log_seq, DmaTestdevState),
        VMSTATE_UINT32(log_count, DmaTestdevState),
        VMSTATE_VALIDATE("dma-log fits dma-log-size", dmatd_log_fits),
        VMSTATE_STRUCT_VARRAY_POINTER_UINT32(log, DmaTestdevState, log_count,
                                             vmstate_dmatd_log_entry,
                                             DmaTestdevLogEntry),
        VMSTATE_END_OF_LIST()
    },
};

static const Property dmatd_properties[] = {
    DEFINE_PROP_UINT8("addr-bits", DmaTestdevState, addr_bits, 64),
    DEFINE_PROP_UINT32("max-segments", DmaTestdevState, max_segs,
                       DMATD_DEFAULT_MAX_SEGS),
    DEFINE_PROP_UINT64("max-transfer", DmaTestdevState, max_xfer,
                       DMATD_DEFAULT_MAX_XFER),
    DEFINE_PROP_UINT32("dma-log-size", DmaTestdevState, log_size,
                       DMATD_DEFAULT_LOG_SIZE),
    DEFINE_PROP_UINT32("dma-log-page", DmaTestdevState, log_page,
                       DMATD_DEFAULT_LOG_PAGE),
    DEFINE_PROP_UINT32("msi-vectors", DmaTestdevState, msi_vectors, 8),
    DEFINE_PROP_UINT32("msix-vectors", DmaTestdevState, msix_vectors, 8),
    DEFINE_PROP_UINT64("latency-ns", DmaTestdevState, latency_ns, 0),
    DEFINE_PROP_UINT64("step-size", DmaTestdevState, step_size, 0),
    DEFINE_PROP_STRING("personality", DmaTestdevState, personality),
    DEFINE_PROP_UINT64("x-misdirect-offset", DmaTestdevState, misdirect_off,
                       UINT64_MAX),
    DEFINE_PROP_UINT32("x-bad-seed-every", DmaTestdevState, bad_seed_every,
                       0),
    /* Lets a host with AVX-512 test the AVX2 and one-word loops too. */
    DEFINE_PROP_UINT8("x-datapath-max-lanes", DmaTestdevState,
                      datapath_max_lanes, 8),
};

static void dmatd_class_init(ObjectClass *klass, DMATD_CLASS_INIT_DATA data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    k->realize = dmatd_realize;
    k->exit = dmatd_exit;
    k->config_write = dmatd_config_write;
    k->vendor_id = DMA_TESTDEV_VENDOR_ID;
    k->device_id = DMA_TESTDEV_DEVICE_ID;
    k->revision = DMA_TESTDEV_REVISION;
    k->class_id = PCI_CLASS_OTHERS;
    rc->phases.hold = dmatd_reset_hold;
    dc->desc = "DMA reference device for testing guest DMA addressing";
    dc->vmsd = &vmstate_dma_testdev;
    device_class_set_props(dc, dmatd_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static InterfaceInfo dmatd_interfaces[] = {
    { INTERFACE_PCIE_DEVICE },
    { INTERFACE_CONVENTIONAL_PCI_DEVICE },
    { }
};

static const TypeInfo dmatd_info = {
    .name = TYPE_DMA_TESTDEV,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(DmaTestdevState),
    .instance_init = dmatd_instance_init,
    .instance_finalize = dmatd_instance_finalize,
    .class_init = dmatd_class_init,
    .interfaces = dmatd_interfaces,
};

static void dmatd_register_types(void)
{
    type_register_static(&dmatd_info);
}

type_init(dmatd_register_types)
