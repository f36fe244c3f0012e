/*
 * dma-testdev: a DMA-capable PCI reference device for testing DMA address
 * handling in guests (e.g. Linux's no-IOMMU IOMMU_IOAS_NOIOMMU_GET_PA).
 *
 * The guest hands the device lists of (address, length) segments; the
 * device writes or checks a position-tagged pattern, copies or fills, and
 * reports precisely what went wrong and where.  Every transaction is kept
 * in a bounded DMA log that the host reads through QOM, so a test outside
 * the guest can check where each DMA really went.
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
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/pcie.h"
#include "migration/vmstate.h"
#include "system/dma.h"
#include "hw/misc/dma-testdev.h"
#include "trace.h"

OBJECT_DECLARE_SIMPLE_TYPE(DmaTestdevState, DMA_TESTDEV)

/*
 * Data moves through guest RAM mapped in place; this buffer is only used
 * for targets that cannot be mapped (MMIO, ROM writes, unassigned space),
 * so that every access there goes through a checked pci_dma_read/write.
 */
#define DT_BOUNCE_SIZE          (64 * KiB)
/* How far "x-misdirect-offset" sends its word: one page. */
#define DT_MISDIRECT_DELTA      (4 * KiB)

#define DT_DEFAULT_MAX_SEGS     65536
#define DT_LIMIT_MAX_SEGS       (1u << 20)
#define DT_DEFAULT_MAX_XFER     (1 * GiB)
/* Holds one COPY of two full lists plus their list reads. */
#define DT_DEFAULT_LOG_SIZE     (4 * DT_DEFAULT_MAX_SEGS)
#define DT_LIMIT_LOG_SIZE       (1u << 24)

/* What a DMA log entry describes. */
typedef enum {
    DT_LOG_SRC_LIST,
    DT_LOG_DST_LIST,
    DT_LOG_SRC,
    DT_LOG_DST,
} DmaTestdevLogKind;

typedef struct DmaTestdevLogEntry {
    uint64_t seq;
    uint64_t cmd;
    uint64_t addr;
    uint64_t len;
    uint64_t done;
    uint32_t index;
    uint8_t op;
    uint8_t kind;
    uint8_t result;             /* MemTxResult-derived DT_ERR_* or 0 */
} DmaTestdevLogEntry;

struct DmaTestdevState {
    PCIDevice parent_obj;

    MemoryRegion mmio;

    /* Properties */
    uint8_t addr_bits;
    uint32_t max_segs;
    uint64_t max_xfer;
    uint32_t log_size;
    uint64_t misdirect_off;     /* negative control for DMA oracles */

    /* Command registers */
    uint32_t cmd;
    uint32_t seed;
    uint64_t src_list;
    uint32_t src_count;
    uint64_t dst_list;
    uint32_t dst_count;
    uint64_t fill;

    /* Result registers */
    uint32_t status;
    uint32_t error;
    uint32_t err_seg;
    uint32_t err_list;
    uint64_t err_addr;
    uint64_t bytes_done;
    uint32_t mismatch_seg;
    uint32_t mismatch_count;
    uint64_t mismatch_off;
    uint64_t mismatch_exp;
    uint64_t mismatch_got;
    uint64_t checksum;
    uint64_t cmd_seq;

    /* DMA log: a ring of the newest log_size entries */
    DmaTestdevLogEntry *log;
    uint32_t log_head;          /* next slot to write */
    uint32_t log_count;
    uint64_t log_seq;

    uint8_t *bounce;
};

/* One segment list being walked. */
typedef struct DmaTestdevCursor {
    uint8_t list;               /* DT_LIST_SRC or DT_LIST_DST */
    uint64_t base;
    uint32_t count;
    uint32_t index;             /* current segment */
    uint64_t seg_addr;
    uint32_t seg_len;
    uint32_t seg_pos;           /* bytes of it done */
    uint64_t total;             /* sum of lengths seen so far */
    uint32_t list_dma_err;      /* DT_ERR_DMA_* of a failed list read */
} DmaTestdevCursor;

/* The data stream of one command, in transfer order. */
typedef struct DmaTestdevStream {
    uint64_t off;               /* transfer offset of the next byte */
    uint64_t csum;
    uint64_t word;              /* the word being assembled */
    uint32_t word_seg;          /* segment holding the word's first byte */
    bool verify;
} DmaTestdevStream;

static const char *const dt_op_names[] = {
    [DT_OP_NONE] = "none",
    [DT_OP_WRITE_PATTERN] = "write-pattern",
    [DT_OP_VERIFY_PATTERN] = "verify-pattern",
    [DT_OP_COPY] = "copy",
    [DT_OP_FILL] = "fill",
};

static const char *const dt_log_kind_names[] = {
    [DT_LOG_SRC_LIST] = "src-list",
    [DT_LOG_DST_LIST] = "dst-list",
    [DT_LOG_SRC] = "src",
    [DT_LOG_DST] = "dst",
};

static const char *dt_op_name(uint32_t op)
{
    return op < ARRAY_SIZE(dt_op_names) ? dt_op_names[op] : "invalid";
}

static const char *dt_list_name(uint8_t list)
{
    return list == DT_LIST_SRC ? "src" : list == DT_LIST_DST ? "dst" : "none";
}

static void dt_log_add(DmaTestdevState *s, DmaTestdevLogKind kind,
                       uint32_t index, uint64_t addr, uint64_t len,
                       uint64_t done, uint32_t result)
{
    DmaTestdevLogEntry *e = &s->log[s->log_head];
    bool is_write = kind == DT_LOG_DST;

    *e = (DmaTestdevLogEntry) {
        .seq = ++s->log_seq,
        .cmd = s->cmd_seq,
        .addr = addr,
        .len = len,
        .done = done,
        .index = index,
        .op = s->cmd,
        .kind = kind,
        .result = result,
    };
    s->log_head = (s->log_head + 1) % s->log_size;
    s->log_count = MIN(s->log_count + 1, s->log_size);

    trace_dma_testdev_dma(s->cmd_seq, dt_log_kind_names[kind], index,
                          is_write ? "write" : "read", addr, len, done,
                          dt_error_name(result));
}

/*
 * Record a failed command.  Only the first error of a command is kept:
 * it is the one that stopped it.
 */
static void dt_fail(DmaTestdevState *s, uint32_t err, uint8_t list,
                    uint32_t seg, uint64_t addr)
{
    if (s->error != DT_ERR_NONE) {
        return;
    }
    s->error = err;
    s->err_list = list;
    s->err_seg = seg;
    s->err_addr = addr;
    qemu_log_mask(LOG_GUEST_ERROR,
                  "%s: command %" PRIu64 " (%s) failed: %s, %s segment %u, "
                  "address 0x%" PRIx64 "\n", TYPE_DMA_TESTDEV, s->cmd_seq,
                  dt_op_name(s->cmd), dt_error_name(err), dt_list_name(list),
                  seg, addr);
    trace_dma_testdev_error(s->cmd_seq, dt_error_name(err), dt_list_name(list),
                            seg, addr);
}

static uint32_t dt_memtx_error(MemTxResult res)
{
    return res == MEMTX_DECODE_ERROR ? DT_ERR_DMA_UNASSIGNED
                                     : DT_ERR_DMA_ACCESS;
}

/* Is [addr, addr + len) free of wrap-around and within the address width? */
static uint32_t dt_check_range(DmaTestdevState *s, uint64_t addr,
                               uint64_t len)
{
    uint64_t last;

    if (uadd64_overflow(addr, len - 1, &last)) {
        return DT_ERR_ADDR_OVERFLOW;
    }
    if (s->addr_bits < 64 && (last >> s->addr_bits)) {
        return DT_ERR_ADDR_WIDTH;
    }
    return DT_ERR_NONE;
}

/*
 * Load and check segment c->index.  Used both when validating a whole list
 * before any data moves and again while moving data, because the guest
 * may rewrite the list in between.
 */
static uint32_t dt_load_seg(DmaTestdevState *s, DmaTestdevCursor *c,
                            uint64_t *fail_addr)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    uint64_t desc_addr = c->base + (uint64_t)c->index * DT_SEG_SIZE;
    uint8_t raw[DT_SEG_SIZE];
    MemTxResult res;
    uint32_t flags, err;

    res = pci_dma_read(pdev, desc_addr, raw, sizeof(raw));
    if (res != MEMTX_OK) {
        *fail_addr = desc_addr;
        c->list_dma_err = dt_memtx_error(res);
        return DT_ERR_LIST_READ;
    }
    c->seg_addr = ldq_le_p(raw);
    c->seg_len = ldl_le_p(raw + 8);
    flags = ldl_le_p(raw + 12);
    c->seg_pos = 0;
    *fail_addr = c->seg_addr;

    if (flags) {
        return DT_ERR_SEG_FLAGS;
    }
    if (!c->seg_len) {
        return DT_ERR_ZERO_LENGTH;
    }
    err = dt_check_range(s, c->seg_addr, c->seg_len);
    if (err) {
        return err;
    }
    c->total += c->seg_len;
    if (c->total > s->max_xfer) {
        return DT_ERR_XFER_TOO_LARGE;
    }
    return DT_ERR_NONE;
}

static void dt_cursor_init(DmaTestdevCursor *c, uint8_t list, uint64_t base,
                           uint32_t count)
{
    *c = (DmaTestdevCursor) {
        .list = list,
        .base = base,
        .count = count,
    };
}

/*
 * Check a whole segment list before any data moves, so that a malformed
 * command fails without having written anything.  Returns the total
 * transfer length, or 0 on error (with the error recorded).
 */
static uint64_t dt_validate_list(DmaTestdevState *s, uint8_t list,
                                 uint64_t base, uint32_t count)
{
    DmaTestdevLogKind kind = list == DT_LIST_SRC ? DT_LOG_SRC_LIST
                                                 : DT_LOG_DST_LIST;
    DmaTestdevCursor c;
    uint64_t fail_addr;
    uint32_t err;

    if (!count) {
        dt_fail(s, DT_ERR_NO_SEGMENTS, list, 0, base);
        return 0;
    }
    if (count > s->max_segs) {
        dt_fail(s, DT_ERR_TOO_MANY_SEGS, list, 0, base);
        return 0;
    }
    if (base % DT_SEG_ALIGN) {
        dt_fail(s, DT_ERR_LIST_ALIGN, list, 0, base);
        return 0;
    }
    err = dt_check_range(s, base, (uint64_t)count * DT_SEG_SIZE);
    if (err) {
        dt_fail(s, err, list, 0, base);
        return 0;
    }

    dt_cursor_init(&c, list, base, count);
    for (; c.index < count; c.index++) {
        err = dt_load_seg(s, &c, &fail_addr);
        if (err) {
            dt_log_add(s, kind, 0, base, (uint64_t)count * DT_SEG_SIZE,
                       (uint64_t)c.index * DT_SEG_SIZE,
                       err == DT_ERR_LIST_READ ? c.list_dma_err : 0);
            dt_fail(s, err, list, c.index, fail_addr);
            return 0;
        }
    }
    dt_log_add(s, kind, 0, base, (uint64_t)count * DT_SEG_SIZE,
               (uint64_t)count * DT_SEG_SIZE, DT_ERR_NONE);
    return c.total;
}

/*
 * Make the cursor point at a segment with bytes left, loading the next
 * descriptor when the current one is used up.  Returns false at the end of
 * the list or on error (recorded).
 */
static bool dt_cursor_next(DmaTestdevState *s, DmaTestdevCursor *c)
{
    DmaTestdevLogKind kind = c->list == DT_LIST_SRC ? DT_LOG_SRC : DT_LOG_DST;
    uint64_t fail_addr;
    uint32_t err;

    if (c->seg_len && c->seg_pos < c->seg_len) {
        return true;
    }
    if (c->seg_len) {
        dt_log_add(s, kind, c->index, c->seg_addr, c->seg_len, c->seg_len,
                   DT_ERR_NONE);
        c->index++;
        c->seg_len = 0;
    }
    if (c->index >= c->count) {
        return false;
    }
    err = dt_load_seg(s, c, &fail_addr);
    if (err) {
        dt_fail(s, err, c->list, c->index, fail_addr);
        c->seg_len = 0;
        return false;
    }
    return true;
}

static void dt_cursor_fail(DmaTestdevState *s, DmaTestdevCursor *c,
                           MemTxResult res)
{
    uint64_t addr = c->seg_addr + c->seg_pos;
    uint32_t err = dt_memtx_error(res);

    /*
     * The memory core refuses a write to ROM as a decode error, but to the
     * guest that memory exists: the access was refused, not unanswered.
     */
    if (err == DT_ERR_DMA_UNASSIGNED && c->list == DT_LIST_DST) {
        WITH_RCU_READ_LOCK_GUARD() {
            hwaddr xlat, plen = 1;
            MemoryRegion *mr;

            mr = address_space_translate(pci_get_address_space(PCI_DEVICE(s)),
                                         addr, &xlat, &plen, true,
                                         MEMTXATTRS_UNSPECIFIED);
            if (memory_region_is_ram(mr) || memory_region_is_romd(mr)) {
                err = DT_ERR_DMA_ACCESS;
            }
        }
    }

    dt_log_add(s, c->list == DT_LIST_SRC ? DT_LOG_SRC : DT_LOG_DST,
               c->index, c->seg_addr, c->seg_len, c->seg_pos, err);
    dt_fail(s, err, c->list, c->index, addr);
}

/* Fold one complete (or final, zero-padded) word into the stream state. */
static void dt_stream_word(DmaTestdevState *s, DmaTestdevStream *st,
                           uint64_t word, uint64_t word_off, unsigned nbytes)
{
    st->csum = dt_csum_word(st->csum, word);
    if (st->verify) {
        uint64_t exp = dt_pattern_word(s->seed, word_off);

        if (nbytes < 8) {
            exp &= MAKE_64BIT_MASK(0, nbytes * 8);
        }
        if (word != exp) {
            if (!s->mismatch_count) {
                s->mismatch_seg = st->word_seg;
                s->mismatch_off = word_off;
                s->mismatch_exp = exp;
                s->mismatch_got = word;
            }
            if (s->mismatch_count < UINT32_MAX) {
                s->mismatch_count++;
            }
        }
    }
}

/* Account for @len bytes of the stream, which sit in segment @seg. */
static void dt_stream_feed(DmaTestdevState *s, DmaTestdevStream *st,
                           const uint8_t *buf, uint64_t len, uint32_t seg)
{
    while (len) {
        unsigned pos = st->off & 7;

        if (!pos) {
            st->word_seg = seg;
            st->word = 0;
            if (len >= 8) {
                /* The common case: whole aligned words. */
                uint64_t n = len & ~7ULL, i;

                for (i = 0; i < n; i += 8) {
                    dt_stream_word(s, st, ldq_le_p(buf + i), st->off + i, 8);
                }
                st->off += n;
                buf += n;
                len -= n;
                continue;
            }
        }
        st->word |= (uint64_t)*buf << (pos * 8);
        st->off++;
        buf++;
        len--;
        if (!(st->off & 7)) {
            dt_stream_word(s, st, st->word, st->off - 8, 8);
        }
    }
}

static void dt_stream_finish(DmaTestdevState *s, DmaTestdevStream *st)
{
    unsigned pos = st->off & 7;

    if (pos) {
        dt_stream_word(s, st, st->word, st->off - pos, pos);
    }
    s->checksum = st->csum;
}

/* Produce the data WRITE_PATTERN or FILL puts at transfer offset @off. */
static void dt_generate(DmaTestdevState *s, uint8_t *buf, uint64_t off,
                        uint64_t len)
{
    bool fill = s->cmd == DT_OP_FILL;
    uint64_t i = 0;

    for (; i < len && ((off + i) & 7); i++) {
        buf[i] = fill ? s->fill >> (((off + i) & 7) * 8)
                      : dt_pattern_byte(s->seed, off + i);
    }
    for (; i + 8 <= len; i += 8) {
        stq_le_p(buf + i, fill ? s->fill : dt_pattern_word(s->seed, off + i));
    }
    for (; i < len; i++) {
        buf[i] = fill ? s->fill >> (((off + i) & 7) * 8)
                      : dt_pattern_byte(s->seed, off + i);
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
static void *dt_map_ram(DmaTestdevState *s, uint64_t addr, uint64_t *len,
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
static void dt_misdirect(DmaTestdevState *s, DmaTestdevCursor *c,
                         uint8_t *p, uint64_t chunk_off, uint64_t n,
                         const uint8_t *saved)
{
    uint64_t pos = s->misdirect_off - chunk_off;
    uint64_t target = c->seg_addr + c->seg_pos + pos + DT_MISDIRECT_DELTA;
    MemTxResult res;

    res = pci_dma_write(PCI_DEVICE(s), target, p + pos, 8);
    memcpy(p + pos, saved, 8);
    dt_log_add(s, DT_LOG_DST, c->index, target, 8, 8,
               res == MEMTX_OK ? DT_ERR_NONE : dt_memtx_error(res));
}

static bool dt_misdirect_hits(DmaTestdevState *s, uint64_t chunk_off,
                              uint64_t n)
{
    return s->cmd == DT_OP_WRITE_PATTERN && n >= 8 &&
           s->misdirect_off >= chunk_off &&
           s->misdirect_off - chunk_off <= n - 8;
}

/* WRITE_PATTERN, FILL and VERIFY_PATTERN: one list, one direction. */
static void dt_run_single(DmaTestdevState *s, DmaTestdevCursor *c,
                          DMADirection dir)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    DmaTestdevStream st = {
        .csum = DT_CSUM_INIT,
        .verify = s->cmd == DT_OP_VERIFY_PATTERN,
    };
    bool to_mem = dir == DMA_DIRECTION_FROM_DEVICE;

    while (dt_cursor_next(s, c)) {
        uint64_t addr = c->seg_addr + c->seg_pos;
        uint64_t n = c->seg_len - c->seg_pos;
        uint8_t *p = dt_map_ram(s, addr, &n, dir);

        if (p) {
            uint8_t saved[8];
            bool misdirect = dt_misdirect_hits(s, st.off, n);

            if (misdirect) {
                memcpy(saved, p + (s->misdirect_off - st.off), 8);
            }
            if (to_mem) {
                dt_generate(s, p, st.off, n);
            }
            dt_stream_feed(s, &st, p, n, c->index);
            if (misdirect) {
                dt_misdirect(s, c, p, st.off - n, n, saved);
            }
            pci_dma_unmap(pdev, p, n, dir, n);
        } else {
            MemTxResult res;

            n = MIN(n, DT_BOUNCE_SIZE);
            if (to_mem) {
                dt_generate(s, s->bounce, st.off, n);
                res = pci_dma_write(pdev, addr, s->bounce, n);
            } else {
                res = pci_dma_read(pdev, addr, s->bounce, n);
            }
            if (res != MEMTX_OK) {
                dt_cursor_fail(s, c, res);
                break;
            }
            dt_stream_feed(s, &st, s->bounce, n, c->index);
        }
        c->seg_pos += n;
        s->bytes_done += n;
    }
    if (s->error == DT_ERR_NONE) {
        dt_stream_finish(s, &st);
    }
}

static void dt_run_copy(DmaTestdevState *s, DmaTestdevCursor *src,
                        DmaTestdevCursor *dst)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    DmaTestdevStream st = { .csum = DT_CSUM_INIT };

    for (;;) {
        bool have_src = dt_cursor_next(s, src);
        bool have_dst = s->error == DT_ERR_NONE && dt_cursor_next(s, dst);
        uint64_t saddr, daddr, n, dn;
        uint8_t *sp, *dp;
        MemTxResult res;

        if (s->error != DT_ERR_NONE) {
            return;
        }
        if (!have_src || !have_dst) {
            if (have_src || have_dst) {
                /* The guest changed the lists after validation. */
                dt_fail(s, DT_ERR_LENGTH_MISMATCH, DT_LIST_NONE, 0, 0);
                return;
            }
            break;
        }

        saddr = src->seg_addr + src->seg_pos;
        daddr = dst->seg_addr + dst->seg_pos;
        n = MIN(src->seg_len - src->seg_pos, dst->seg_len - dst->seg_pos);
        n = MIN(n, DT_BOUNCE_SIZE);

        sp = dt_map_ram(s, saddr, &n, DMA_DIRECTION_TO_DEVICE);
        if (!sp) {
            res = pci_dma_read(pdev, saddr, s->bounce, n);
            if (res != MEMTX_OK) {
                dt_cursor_fail(s, src, res);
                return;
            }
        }
        dn = n;
        dp = dt_map_ram(s, daddr, &dn, DMA_DIRECTION_FROM_DEVICE);
        if (dp) {
            memmove(dp, sp ? sp : s->bounce, dn);
            pci_dma_unmap(pdev, dp, dn, DMA_DIRECTION_FROM_DEVICE, dn);
        } else {
            dn = MIN(dn, n);
            res = pci_dma_write(pdev, daddr, sp ? sp : s->bounce, dn);
            if (res != MEMTX_OK) {
                if (sp) {
                    pci_dma_unmap(pdev, sp, n, DMA_DIRECTION_TO_DEVICE, 0);
                }
                dt_cursor_fail(s, dst, res);
                return;
            }
        }
        dt_stream_feed(s, &st, sp ? sp : s->bounce, dn, src->index);
        if (sp) {
            pci_dma_unmap(pdev, sp, n, DMA_DIRECTION_TO_DEVICE, dn);
        }
        src->seg_pos += dn;
        dst->seg_pos += dn;
        s->bytes_done += dn;
    }
    dt_stream_finish(s, &st);
}

static void dt_clear_results(DmaTestdevState *s)
{
    s->status = 0;
    s->error = DT_ERR_NONE;
    s->err_seg = 0;
    s->err_list = DT_LIST_NONE;
    s->err_addr = 0;
    s->bytes_done = 0;
    s->mismatch_seg = 0;
    s->mismatch_count = 0;
    s->mismatch_off = 0;
    s->mismatch_exp = 0;
    s->mismatch_got = 0;
    s->checksum = 0;
}

static void dt_execute(DmaTestdevState *s)
{
    DmaTestdevCursor src, dst;
    uint64_t src_total = 0, dst_total = 0;

    switch (s->cmd) {
    case DT_OP_WRITE_PATTERN:
    case DT_OP_FILL:
        dst_total = dt_validate_list(s, DT_LIST_DST, s->dst_list,
                                     s->dst_count);
        if (dst_total) {
            dt_cursor_init(&dst, DT_LIST_DST, s->dst_list, s->dst_count);
            dt_run_single(s, &dst, DMA_DIRECTION_FROM_DEVICE);
        }
        break;
    case DT_OP_VERIFY_PATTERN:
        src_total = dt_validate_list(s, DT_LIST_SRC, s->src_list,
                                     s->src_count);
        if (src_total) {
            dt_cursor_init(&src, DT_LIST_SRC, s->src_list, s->src_count);
            dt_run_single(s, &src, DMA_DIRECTION_TO_DEVICE);
        }
        break;
    case DT_OP_COPY:
        src_total = dt_validate_list(s, DT_LIST_SRC, s->src_list,
                                     s->src_count);
        if (src_total) {
            dst_total = dt_validate_list(s, DT_LIST_DST, s->dst_list,
                                         s->dst_count);
        }
        if (!src_total || !dst_total) {
            break;
        }
        if (src_total != dst_total) {
            dt_fail(s, DT_ERR_LENGTH_MISMATCH, DT_LIST_NONE, 0, 0);
            break;
        }
        dt_cursor_init(&src, DT_LIST_SRC, s->src_list, s->src_count);
        dt_cursor_init(&dst, DT_LIST_DST, s->dst_list, s->dst_count);
        dt_run_copy(s, &src, &dst);
        break;
    default:
        dt_fail(s, DT_ERR_BAD_OPCODE, DT_LIST_NONE, 0, 0);
        break;
    }
}

static void dt_start(DmaTestdevState *s, uint32_t op)
{
    if (s->status & DT_STATUS_BUSY) {
        /* Unreachable while commands complete synchronously. */
        qemu_log_mask(LOG_GUEST_ERROR, "%s: command %u while busy\n",
                      TYPE_DMA_TESTDEV, op);
        s->error = DT_ERR_BUSY;
        s->status |= DT_STATUS_ERROR;
        return;
    }

    dt_clear_results(s);
    s->cmd = op;
    s->cmd_seq++;
    s->status = DT_STATUS_BUSY;
    trace_dma_testdev_cmd_start(s->cmd_seq, dt_op_name(op), s->seed,
                                s->src_list, s->src_count, s->dst_list,
                                s->dst_count);

    dt_execute(s);

    s->status = DT_STATUS_DONE;
    if (s->error != DT_ERR_NONE) {
        s->status |= DT_STATUS_ERROR;
    }
    if (s->mismatch_count) {
        s->status |= DT_STATUS_MISMATCH;
    }
    trace_dma_testdev_cmd_done(s->cmd_seq, s->status, dt_error_name(s->error),
                               s->bytes_done, s->mismatch_count, s->checksum);
}

static uint32_t dt_reg_read(DmaTestdevState *s, hwaddr addr)
{
    switch (addr) {
    case DT_REG_ID:
        return DMA_TESTDEV_ID_VALUE;
    case DT_REG_VERSION:
        return DMA_TESTDEV_VERSION_VALUE;
    case DT_REG_CAPS:
        return DT_CAP_OP(DT_OP_WRITE_PATTERN) |
               DT_CAP_OP(DT_OP_VERIFY_PATTERN) |
               DT_CAP_OP(DT_OP_COPY) | DT_CAP_OP(DT_OP_FILL);
    case DT_REG_ADDR_BITS:
        return s->addr_bits;
    case DT_REG_MAX_SEGS:
        return s->max_segs;
    case DT_REG_MAX_XFER_LO:
        return s->max_xfer;
    case DT_REG_MAX_XFER_HI:
        return s->max_xfer >> 32;
    case DT_REG_CMD:
        return s->cmd;
    case DT_REG_SEED:
        return s->seed;
    case DT_REG_SRC_LIST_LO:
        return s->src_list;
    case DT_REG_SRC_LIST_HI:
        return s->src_list >> 32;
    case DT_REG_SRC_COUNT:
        return s->src_count;
    case DT_REG_DST_LIST_LO:
        return s->dst_list;
    case DT_REG_DST_LIST_HI:
        return s->dst_list >> 32;
    case DT_REG_DST_COUNT:
        return s->dst_count;
    case DT_REG_FILL_LO:
        return s->fill;
    case DT_REG_FILL_HI:
        return s->fill >> 32;
    case DT_REG_STATUS:
        return s->status;
    case DT_REG_ERROR:
        return s->error;
    case DT_REG_ERR_SEG:
        return s->err_seg;
    case DT_REG_ERR_LIST:
        return s->err_list;
    case DT_REG_ERR_ADDR_LO:
        return s->err_addr;
    case DT_REG_ERR_ADDR_HI:
        return s->err_addr >> 32;
    case DT_REG_BYTES_DONE_LO:
        return s->bytes_done;
    case DT_REG_BYTES_DONE_HI:
        return s->bytes_done >> 32;
    case DT_REG_MISMATCH_SEG:
        return s->mismatch_seg;
    case DT_REG_MISMATCH_COUNT:
        return s->mismatch_count;
    case DT_REG_MISMATCH_OFF_LO:
        return s->mismatch_off;
    case DT_REG_MISMATCH_OFF_HI:
        return s->mismatch_off >> 32;
    case DT_REG_MISMATCH_EXP_LO:
        return s->mismatch_exp;
    case DT_REG_MISMATCH_EXP_HI:
        return s->mismatch_exp >> 32;
    case DT_REG_MISMATCH_GOT_LO:
        return s->mismatch_got;
    case DT_REG_MISMATCH_GOT_HI:
        return s->mismatch_got >> 32;
    case DT_REG_CHECKSUM_LO:
        return s->checksum;
    case DT_REG_CHECKSUM_HI:
        return s->checksum >> 32;
    case DT_REG_CMD_SEQ_LO:
        return s->cmd_seq;
    case DT_REG_CMD_SEQ_HI:
        return s->cmd_seq >> 32;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: read of unknown register 0x%"
                      HWADDR_PRIx "\n", TYPE_DMA_TESTDEV, addr);
        return 0;
    }
}

static void dt_set_lo(uint64_t *reg, uint32_t val)
{
    *reg = deposit64(*reg, 0, 32, val);
}

static void dt_set_hi(uint64_t *reg, uint32_t val)
{
    *reg = deposit64(*reg, 32, 32, val);
}

static void dt_reg_write(DmaTestdevState *s, hwaddr addr, uint32_t val)
{
    switch (addr) {
    case DT_REG_CMD:
        dt_start(s, val);
        break;
    case DT_REG_SEED:
        s->seed = val;
        break;
    case DT_REG_SRC_LIST_LO:
        dt_set_lo(&s->src_list, val);
        break;
    case DT_REG_SRC_LIST_HI:
        dt_set_hi(&s->src_list, val);
        break;
    case DT_REG_SRC_COUNT:
        s->src_count = val;
        break;
    case DT_REG_DST_LIST_LO:
        dt_set_lo(&s->dst_list, val);
        break;
    case DT_REG_DST_LIST_HI:
        dt_set_hi(&s->dst_list, val);
        break;
    case DT_REG_DST_COUNT:
        s->dst_count = val;
        break;
    case DT_REG_FILL_LO:
        dt_set_lo(&s->fill, val);
        break;
    case DT_REG_FILL_HI:
        dt_set_hi(&s->fill, val);
        break;
    case DT_REG_ID ... DT_REG_MAX_XFER_HI:
    case DT_REG_STATUS ... DT_REG_CMD_SEQ_HI:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: write 0x%x to read-only register "
                      "0x%" HWADDR_PRIx " ignored\n", TYPE_DMA_TESTDEV, val,
                      addr);
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "%s: write 0x%x to unknown register "
                      "0x%" HWADDR_PRIx " ignored\n", TYPE_DMA_TESTDEV, val,
                      addr);
        break;
    }
}

/*
 * The memory core delivers every size from 1 to 8 bytes so that the
 * device, not the core, decides what a bad access does: it is ignored and
 * reported, and never reaches a register half.
 */
static bool dt_access_ok(hwaddr addr, unsigned size, bool is_write)
{
    if ((size == 4 || size == 8) && !(addr & (size - 1))) {
        return true;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "%s: %u-byte %s at 0x%" HWADDR_PRIx
                  " ignored: registers take aligned 4- or 8-byte accesses\n",
                  TYPE_DMA_TESTDEV, size, is_write ? "write" : "read", addr);
    trace_dma_testdev_bad_access(addr, size, is_write);
    return false;
}

static uint64_t dt_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    DmaTestdevState *s = opaque;
    uint64_t val;

    if (!dt_access_ok(addr, size, false)) {
        return 0;
    }
    val = dt_reg_read(s, addr);
    if (size == 8) {
        val |= (uint64_t)dt_reg_read(s, addr + 4) << 32;
    }
    trace_dma_testdev_mmio_read(addr, size, val);
    return val;
}

static void dt_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                          unsigned size)
{
    DmaTestdevState *s = opaque;

    if (!dt_access_ok(addr, size, true)) {
        return;
    }
    trace_dma_testdev_mmio_write(addr, size, val);
    dt_reg_write(s, addr, val);
    if (size == 8) {
        dt_reg_write(s, addr + 4, val >> 32);
    }
}

static const MemoryRegionOps dt_mmio_ops = {
    .read = dt_mmio_read,
    .write = dt_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
        .unaligned = true,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
        .unaligned = true,
    },
};

/* QOM getter of "dma-log": the ring, oldest first, as a list of dicts. */
static void dt_get_dma_log(Object *obj, Visitor *v, const char *name,
                           void *opaque, Error **errp)
{
    DmaTestdevState *s = DMA_TESTDEV(obj);
    uint32_t i;

    if (!visit_start_list(v, name, NULL, 0, errp)) {
        return;
    }
    for (i = 0; i < s->log_count; i++) {
        uint32_t slot = (s->log_head + s->log_size - s->log_count + i) %
                        s->log_size;
        DmaTestdevLogEntry *e = &s->log[slot];
        char *op = (char *)dt_op_name(e->op);
        char *list = (char *)dt_log_kind_names[e->kind];
        char *dir = (char *)(e->kind == DT_LOG_DST ? "write" : "read");
        char *result = (char *)dt_error_name(e->result);
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

static void dt_reset_hold(Object *obj, ResetType type)
{
    DmaTestdevState *s = DMA_TESTDEV(obj);

    /*
     * CMD_SEQ and the DMA log survive reset so that log entries stay
     * unambiguous across guest reboots.
     */
    dt_clear_results(s);
    s->cmd = DT_OP_NONE;
    s->seed = 0;
    s->src_list = 0;
    s->src_count = 0;
    s->dst_list = 0;
    s->dst_count = 0;
    s->fill = 0;
}

static void dt_realize(PCIDevice *pdev, Error **errp)
{
    DmaTestdevState *s = DMA_TESTDEV(pdev);

    if (s->addr_bits < 12 || s->addr_bits > 64) {
        error_setg(errp, "addr-bits must be between 12 and 64, not %u",
                   s->addr_bits);
        return;
    }
    if (!s->max_segs || s->max_segs > DT_LIMIT_MAX_SEGS) {
        error_setg(errp, "max-segments must be between 1 and %u, not %u",
                   DT_LIMIT_MAX_SEGS, s->max_segs);
        return;
    }
    if (!s->max_xfer) {
        error_setg(errp, "max-transfer must not be 0");
        return;
    }
    if (!s->log_size || s->log_size > DT_LIMIT_LOG_SIZE) {
        error_setg(errp, "dma-log-size must be between 1 and %u, not %u",
                   DT_LIMIT_LOG_SIZE, s->log_size);
        return;
    }

    if (pci_bus_is_express(pci_get_bus(pdev))) {
        if (pcie_endpoint_cap_init(pdev, 0x80) < 0) {
            error_setg(errp, "failed to add the PCI Express capability");
            return;
        }
    } else {
        /* Conventional PCI on a conventional bus, e.g. on "pc". */
        pdev->cap_present &= ~QEMU_PCI_CAP_EXPRESS;
    }

    memory_region_init_io(&s->mmio, OBJECT(s), &dt_mmio_ops, s,
                          "dma-testdev-mmio", DMA_TESTDEV_BAR0_SIZE);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);

    s->log = g_new0(DmaTestdevLogEntry, s->log_size);
    s->bounce = g_malloc(DT_BOUNCE_SIZE);
}

static void dt_exit(PCIDevice *pdev)
{
    DmaTestdevState *s = DMA_TESTDEV(pdev);

    g_free(s->log);
    s->log = NULL;
    g_free(s->bounce);
    s->bounce = NULL;
}

static void dt_instance_init(Object *obj)
{
    /* Sized for PCIe config space; cleared in realize on a PCI bus. */
    PCI_DEVICE(obj)->cap_present |= QEMU_PCI_CAP_EXPRESS;

    object_property_add(obj, "dma-log", "DmaTestdevLog", dt_get_dma_log,
                        NULL, NULL, NULL);
}

static const VMStateDescription vmstate_dma_testdev = {
    .name = TYPE_DMA_TESTDEV,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, DmaTestdevState),
        VMSTATE_UINT32(cmd, DmaTestdevState),
        VMSTATE_UINT32(seed, DmaTestdevState),
        VMSTATE_UINT64(src_list, DmaTestdevState),
        VMSTATE_UINT32(src_count, DmaTestdevState),
        VMSTATE_UINT64(dst_list, DmaTestdevState),
        VMSTATE_UINT32(dst_count, DmaTestdevState),
        VMSTATE_UINT64(fill, DmaTestdevState),
        VMSTATE_UINT32(status, DmaTestdevState),
        VMSTATE_UINT32(error, DmaTestdevState),
        VMSTATE_UINT32(err_seg, DmaTestdevState),
        VMSTATE_UINT32(err_list, DmaTestdevState),
        VMSTATE_UINT64(err_addr, DmaTestdevState),
        VMSTATE_UINT64(bytes_done, DmaTestdevState),
        VMSTATE_UINT32(mismatch_seg, DmaTestdevState),
        VMSTATE_UINT32(mismatch_count, DmaTestdevState),
        VMSTATE_UINT64(mismatch_off, DmaTestdevState),
        VMSTATE_UINT64(mismatch_exp, DmaTestdevState),
        VMSTATE_UINT64(mismatch_got, DmaTestdevState),
        VMSTATE_UINT64(checksum, DmaTestdevState),
        VMSTATE_UINT64(cmd_seq, DmaTestdevState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property dt_properties[] = {
    DEFINE_PROP_UINT8("addr-bits", DmaTestdevState, addr_bits, 64),
    DEFINE_PROP_UINT32("max-segments", DmaTestdevState, max_segs,
                       DT_DEFAULT_MAX_SEGS),
    DEFINE_PROP_UINT64("max-transfer", DmaTestdevState, max_xfer,
                       DT_DEFAULT_MAX_XFER),
    DEFINE_PROP_UINT32("dma-log-size", DmaTestdevState, log_size,
                       DT_DEFAULT_LOG_SIZE),
    DEFINE_PROP_UINT64("x-misdirect-offset", DmaTestdevState, misdirect_off,
                       UINT64_MAX),
};

static void dt_class_init(ObjectClass *klass, DT_CLASS_INIT_DATA data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    k->realize = dt_realize;
    k->exit = dt_exit;
    k->vendor_id = DMA_TESTDEV_VENDOR_ID;
    k->device_id = DMA_TESTDEV_DEVICE_ID;
    k->revision = DMA_TESTDEV_REVISION;
    k->class_id = PCI_CLASS_OTHERS;
    rc->phases.hold = dt_reset_hold;
    dc->desc = "DMA reference device for testing guest DMA addressing";
    dc->vmsd = &vmstate_dma_testdev;
    device_class_set_props(dc, dt_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static InterfaceInfo dt_interfaces[] = {
    { INTERFACE_PCIE_DEVICE },
    { INTERFACE_CONVENTIONAL_PCI_DEVICE },
    { }
};

static const TypeInfo dt_info = {
    .name = TYPE_DMA_TESTDEV,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(DmaTestdevState),
    .instance_init = dt_instance_init,
    .class_init = dt_class_init,
    .interfaces = dt_interfaces,
};

static void dt_register_types(void)
{
    type_register_static(&dt_info);
}

type_init(dt_register_types)
