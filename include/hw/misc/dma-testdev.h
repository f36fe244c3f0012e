/*
 * dma-testdev: register-level contract of the DMA reference device.
 *
 * This header is the single definition of the guest-visible interface.  It
 * is included by the QEMU device model, by the qtests and by guest tools,
 * so it must stay free of QEMU-internal headers: only <stdint.h> and
 * <stdbool.h> types.
 * docs/specs/dma-testdev.rst describes the behaviour behind every value.
 * Its names start with DMATD_ or dmatd_, a prefix nothing in QEMU or Linux
 * uses; comments leave the prefix out where the meaning is clear.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_DMA_TESTDEV_H
#define HW_MISC_DMA_TESTDEV_H

#include <stdbool.h>
#include <stdint.h>

#define TYPE_DMA_TESTDEV "dma-testdev"

/* From the experimental range of QEMU's docs/specs/pci-ids.rst. */
#define DMA_TESTDEV_VENDOR_ID       0x1af4
#define DMA_TESTDEV_DEVICE_ID       0x10f0
#define DMA_TESTDEV_REVISION        0x01

/* BAR0 holds the registers; a page, so that vfio-pci can mmap it. */
#define DMA_TESTDEV_BAR0_SIZE       0x1000

/* Value of DMATD_REG_ID: device ID in the high half, vendor ID in the low. */
#define DMA_TESTDEV_ID_VALUE \
    (((uint32_t)DMA_TESTDEV_DEVICE_ID << 16) | DMA_TESTDEV_VENDOR_ID)
/* DMATD_REG_VERSION: major in bits 31:16, minor in bits 15:0. */
#define DMA_TESTDEV_VERSION_MAJOR   2
#define DMA_TESTDEV_VERSION_MINOR   0
#define DMA_TESTDEV_VERSION_VALUE \
    (((uint32_t)DMA_TESTDEV_VERSION_MAJOR << 16) | DMA_TESTDEV_VERSION_MINOR)

/*
 * BAR0 register map.  All registers are 32 bits wide and little-endian.
 * 64-bit quantities are split into _LO/_HI halves at consecutive offsets;
 * an aligned 8-byte access to a _LO offset reads or writes both halves
 * (as two 4-byte accesses, low half first).  Any other access size or an
 * unaligned access is ignored (reads return 0) and logged as a guest error.
 */
enum {
    /* Identification and limits, read-only. */
    DMATD_REG_ID              = 0x000,
    DMATD_REG_VERSION         = 0x004,
    DMATD_REG_CAPS            = 0x008,  /* DMATD_CAP_* */
    DMATD_REG_ADDR_BITS       = 0x00c,  /* DMA address width in bits */
    DMATD_REG_MAX_SEGS        = 0x010,  /* max segments in one list */
    DMATD_REG_MAX_XFER_LO     = 0x018,  /* max bytes per command */
    DMATD_REG_MAX_XFER_HI     = 0x01c,

    /* Command parameters, read/write. */
    DMATD_REG_CMD             = 0x020,  /* write: start an OP; read: last */
    DMATD_REG_SEED            = 0x028,  /* seed of DMATD_PATTERN_WORD */
    DMATD_REG_SRC_LIST_LO     = 0x030,  /* segment list the device reads from */
    DMATD_REG_SRC_LIST_HI     = 0x034,
    DMATD_REG_SRC_COUNT       = 0x038,  /* number of segments in it */
    DMATD_REG_DST_LIST_LO     = 0x040,  /* segment list the device writes to */
    DMATD_REG_DST_LIST_HI     = 0x044,
    DMATD_REG_DST_COUNT       = 0x048,
    DMATD_REG_FILL_LO         = 0x050,  /* word repeated by OP_FILL */
    DMATD_REG_FILL_HI         = 0x054,

    /* Results of the last command, read-only. */
    DMATD_REG_STATUS          = 0x060,  /* DMATD_STATUS_* */
    DMATD_REG_ERROR           = 0x064,  /* DMATD_ERR_* */
    DMATD_REG_ERR_SEG         = 0x068,  /* index of the failing segment */
    DMATD_REG_ERR_LIST        = 0x06c,  /* DMATD_LIST_* holding that segment */
    DMATD_REG_ERR_ADDR_LO     = 0x070,  /* guest address that failed */
    DMATD_REG_ERR_ADDR_HI     = 0x074,
    DMATD_REG_BYTES_DONE_LO   = 0x078,  /* data bytes moved */
    DMATD_REG_BYTES_DONE_HI   = 0x07c,
    DMATD_REG_MISMATCH_SEG    = 0x080,  /* VERIFY: segment of 1st bad word */
    DMATD_REG_MISMATCH_COUNT  = 0x084,  /* VERIFY: bad words (saturates) */
    DMATD_REG_MISMATCH_OFF_LO = 0x088,  /* VERIFY: transfer offset of it */
    DMATD_REG_MISMATCH_OFF_HI = 0x08c,
    DMATD_REG_MISMATCH_EXP_LO = 0x090,  /* VERIFY: expected word */
    DMATD_REG_MISMATCH_EXP_HI = 0x094,
    DMATD_REG_MISMATCH_GOT_LO = 0x098,  /* VERIFY: word found */
    DMATD_REG_MISMATCH_GOT_HI = 0x09c,
    DMATD_REG_CHECKSUM_LO     = 0x0a0,  /* VERIFY, COPY: CSUM of all read */
    DMATD_REG_CHECKSUM_HI     = 0x0a4,
    DMATD_REG_CMD_SEQ_LO      = 0x0a8,  /* sequence number of last command */
    DMATD_REG_CMD_SEQ_HI      = 0x0ac,

    /* Interrupts. */
    DMATD_REG_INTR_STATUS     = 0x0b0,  /* INTR_*; write 1s to acknowledge */
    DMATD_REG_INTR_ENABLE     = 0x0b4,  /* INTR_* that signal an interrupt */
    DMATD_REG_INTR_VECTOR     = 0x0b8,  /* vector of CMD_DONE and QUEUE_ERROR */
    DMATD_REG_INTR_INFO       = 0x0bc,  /* RO: DMATD_INTR_INFO_* */

    /* Command queue (see struct dma_testdev_sqe and dma_testdev_cqe). */
    DMATD_REG_Q_CTRL          = 0x0c0,  /* DMATD_QCTRL_* */
    DMATD_REG_Q_STATUS        = 0x0c4,  /* RO: DMATD_QSTATUS_* */
    DMATD_REG_Q_SIZE          = 0x0c8,  /* entries per ring, 2 .. Q_MAX_SIZE */
    DMATD_REG_Q_ERROR         = 0x0cc,  /* RO: DMATD_QERR_* that halted it */
    DMATD_REG_SQ_BASE_LO      = 0x0d0,  /* submission ring, DMATD_Q_ALIGN */
    DMATD_REG_SQ_BASE_HI      = 0x0d4,
    DMATD_REG_CQ_BASE_LO      = 0x0d8,  /* completion ring, DMATD_Q_ALIGN */
    DMATD_REG_CQ_BASE_HI      = 0x0dc,
    DMATD_REG_SQ_TAIL         = 0x0e0,  /* doorbell: index after last posted */
    DMATD_REG_SQ_HEAD         = 0x0e4,  /* RO: next entry the device fetches */
    DMATD_REG_CQ_HEAD         = 0x0e8,  /* doorbell: after last consumed */
    DMATD_REG_CQ_TAIL         = 0x0ec,  /* RO: next entry the device writes */
    DMATD_REG_Q_ERR_ADDR_LO   = 0x0f0,  /* RO: ring address that failed */
    DMATD_REG_Q_ERR_ADDR_HI   = 0x0f4,
    DMATD_REG_Q_ERR_CAUSE     = 0x0f8,  /* RO: ERR_DMA_* behind SQ/CQ errors */
    DMATD_REG_Q_MAX_SIZE      = 0x0fc,  /* RO: largest Q_SIZE */
    DMATD_REG_Q_DONE_LO       = 0x100,  /* RO: completions posted */
    DMATD_REG_Q_DONE_HI       = 0x104,

    /* Guest programming errors that have no command to fail. */
    DMATD_REG_BAD_COUNT       = 0x110,  /* RO: number of them (saturates) */
    DMATD_REG_BAD_INFO        = 0x114,  /* RO: the last one, DMATD_BAD_INFO() */
};

/* Operations, written to DMATD_REG_CMD. */
enum {
    DMATD_OP_NONE           = 0,
    DMATD_OP_WRITE_PATTERN  = 1,  /* DST list <- pattern(SEED) */
    DMATD_OP_VERIFY_PATTERN = 2,  /* SRC list checked against pattern(SEED) */
    DMATD_OP_COPY           = 3,  /* DST list <- SRC list, equal totals */
    DMATD_OP_FILL           = 4,  /* DST list <- FILL word repeated */
    DMATD_OP_MAX            = DMATD_OP_FILL,
};

/*
 * DMA log "op" values beyond DMATD_OP_*: transfers of the pci-epf-test
 * personality, which has no opcodes of its own.
 */
enum {
    DMATD_LOG_OP_EPF_READ  = 16,
    DMATD_LOG_OP_EPF_WRITE = 17,
    DMATD_LOG_OP_EPF_COPY  = 18,
    DMATD_LOG_OP_MAX       = DMATD_LOG_OP_EPF_COPY,
};

/*
 * The one spelling of every operation: the DMA log's "op", the trace
 * events, the guest tools' reports and the docs all use these words.
 * NULL for a value that names no operation.
 */
static inline const char *dmatd_op_name_or_null(uint32_t op)
{
    switch (op) {
    case DMATD_OP_NONE:                return "none";
    case DMATD_OP_WRITE_PATTERN:       return "write-pattern";
    case DMATD_OP_VERIFY_PATTERN:      return "verify-pattern";
    case DMATD_OP_COPY:                return "copy";
    case DMATD_OP_FILL:                return "fill";
    case DMATD_LOG_OP_EPF_READ:        return "epf-read";
    case DMATD_LOG_OP_EPF_WRITE:       return "epf-write";
    case DMATD_LOG_OP_EPF_COPY:        return "epf-copy";
    default:                           return NULL;
    }
}

static inline const char *dmatd_op_name(uint32_t op)
{
    const char *name = dmatd_op_name_or_null(op);

    return name ? name : "invalid";
}

/* What a DMA log entry describes: its "list". */
enum {
    DMATD_LOG_SRC_LIST = 0,  /* reading the source segment list */
    DMATD_LOG_DST_LIST = 1,  /* reading the destination list */
    DMATD_LOG_SRC      = 2,  /* reading source data */
    DMATD_LOG_DST      = 3,  /* writing destination data */
    DMATD_LOG_SQ       = 4,  /* reading a submission queue entry */
    DMATD_LOG_CQ       = 5,  /* writing a completion queue entry */
    DMATD_LOG_KIND_MAX = DMATD_LOG_CQ,
};

static inline const char *dmatd_log_kind_name(uint32_t kind)
{
    switch (kind) {
    case DMATD_LOG_SRC_LIST:           return "src-list";
    case DMATD_LOG_DST_LIST:           return "dst-list";
    case DMATD_LOG_SRC:                return "src";
    case DMATD_LOG_DST:                return "dst";
    case DMATD_LOG_SQ:                 return "sq";
    case DMATD_LOG_CQ:                 return "cq";
    default:                           return "invalid";
    }
}

/* A log entry's "dir": the device writes DST data and CQ entries. */
static inline bool dmatd_log_kind_is_write(uint32_t kind)
{
    return kind == DMATD_LOG_DST || kind == DMATD_LOG_CQ;
}

/* DMATD_REG_CAPS: bit (1 << op) for every operation the device implements. */
#define DMATD_CAP_OP(op)            (1u << (op))
#define DMATD_CAP_QUEUE             (1u << 16)  /* the command queue */

/* DMATD_REG_STATUS bits. */
#define DMATD_STATUS_BUSY           (1u << 0)  /* command in progress */
#define DMATD_STATUS_DONE           (1u << 1)  /* last command finished */
#define DMATD_STATUS_ERROR          (1u << 2)  /* ... with REG_ERROR set */
#define DMATD_STATUS_MISMATCH       (1u << 3)  /* VERIFY found bad words */

/* DMATD_REG_ERROR codes.  Only ERR_NONE goes without STATUS_ERROR. */
enum {
    DMATD_ERR_NONE            = 0,
    DMATD_ERR_BAD_OPCODE      = 1,  /* unknown value written to DMATD_REG_CMD */
    DMATD_ERR_BUSY            = 2,  /* command started while one runs */
    DMATD_ERR_NO_SEGMENTS     = 3,  /* segment count is 0 */
    DMATD_ERR_TOO_MANY_SEGS   = 4,  /* segment count > DMATD_REG_MAX_SEGS */
    DMATD_ERR_LIST_ALIGN      = 5,  /* list address not SEG_ALIGN aligned */
    DMATD_ERR_LIST_READ       = 6,  /* list unreadable (see ERR_ADDR) */
    DMATD_ERR_SEG_FLAGS       = 7,  /* reserved segment flags not zero */
    DMATD_ERR_ZERO_LENGTH     = 8,  /* a segment has length 0 */
    DMATD_ERR_ADDR_OVERFLOW   = 9,  /* address + length wraps past 2^64 */
    DMATD_ERR_ADDR_WIDTH      = 10, /* beyond DMATD_REG_ADDR_BITS */
    DMATD_ERR_XFER_TOO_LARGE  = 11, /* total length > max transfer */
    DMATD_ERR_LENGTH_MISMATCH = 12, /* COPY: SRC and DST totals differ */
    DMATD_ERR_DMA_UNASSIGNED  = 13, /* nothing decodes the address */
    DMATD_ERR_DMA_ACCESS      = 14, /* target refused the access (e.g. the */
                                    /* device's own BAR, a ROM write) */
    DMATD_ERR_SQE_RESERVED    = 15, /* queue entry: reserved field not zero */
    DMATD_ERR_BAD_VECTOR      = 16, /* queue entry: vector >= MAX_VECTORS */
    DMATD_ERR_MAX             = DMATD_ERR_BAD_VECTOR,
};

/*
 * Short names of the error codes, as the DMA log's "result" field and the
 * trace events spell them; shared so that every tool reads the same words.
 */
static inline const char *dmatd_error_name(uint32_t err)
{
    switch (err) {
    case DMATD_ERR_NONE:               return "ok";
    case DMATD_ERR_BAD_OPCODE:         return "bad-opcode";
    case DMATD_ERR_BUSY:               return "busy";
    case DMATD_ERR_NO_SEGMENTS:        return "no-segments";
    case DMATD_ERR_TOO_MANY_SEGS:      return "too-many-segments";
    case DMATD_ERR_LIST_ALIGN:         return "list-align";
    case DMATD_ERR_LIST_READ:          return "list-read";
    case DMATD_ERR_SEG_FLAGS:          return "segment-flags";
    case DMATD_ERR_ZERO_LENGTH:        return "zero-length";
    case DMATD_ERR_ADDR_OVERFLOW:      return "address-overflow";
    case DMATD_ERR_ADDR_WIDTH:         return "address-width";
    case DMATD_ERR_XFER_TOO_LARGE:     return "transfer-too-large";
    case DMATD_ERR_LENGTH_MISMATCH:    return "length-mismatch";
    case DMATD_ERR_DMA_UNASSIGNED:     return "decode-error";
    case DMATD_ERR_DMA_ACCESS:         return "access-error";
    case DMATD_ERR_SQE_RESERVED:       return "sqe-reserved";
    case DMATD_ERR_BAD_VECTOR:         return "bad-vector";
    default:                           return "unknown";
    }
}

/*
 * DMATD_REG_INTR_STATUS and DMATD_REG_INTR_ENABLE bits.  A cause is latched in
 * INTR_STATUS whether or not it is enabled.  INTx is asserted while
 * (INTR_STATUS & INTR_ENABLE) != 0 and neither MSI nor MSI-X is on; with
 * MSI or MSI-X every enabled event sends one message on its vector.
 */
#define DMATD_INTR_CMD_DONE         (1u << 0)  /* register command finished */
#define DMATD_INTR_QUEUE_CMPL       (1u << 1)  /* completion with SQE_F_INTR */
#define DMATD_INTR_QUEUE_ERROR      (1u << 2)  /* the queue halted */
#define DMATD_INTR_CAUSES \
    (DMATD_INTR_CMD_DONE | DMATD_INTR_QUEUE_CMPL | DMATD_INTR_QUEUE_ERROR)
/* Status only, never an interrupt: a vector was not enabled, 0 was used. */
#define DMATD_INTR_VECTOR_FALLBACK  (1u << 8)
#define DMATD_INTR_STATUS_MASK \
    (DMATD_INTR_CAUSES | DMATD_INTR_VECTOR_FALLBACK)

/* Vectors a command may name; MSI and MSI-X offer a prefix of them. */
#define DMATD_MAX_VECTORS           32

/* DMATD_REG_INTR_INFO: vectors the device offers, and the mode in use. */
#define DMATD_INTR_INFO_MSI(v)      ((v) & 0xff)          /* MSI vectors */
#define DMATD_INTR_INFO_MSIX(v)     (((v) >> 8) & 0xff)   /* MSI-X vectors */
#define DMATD_INTR_INFO_MODE(v)     (((v) >> 16) & 0xff)  /* INTR_MODE_* */
enum {
    DMATD_INTR_MODE_INTX = 0,
    DMATD_INTR_MODE_MSI  = 1,
    DMATD_INTR_MODE_MSIX = 2,
};

/* DMATD_REG_Q_CTRL bits. */
#define DMATD_QCTRL_ENABLE          (1u << 0)

/* DMATD_REG_Q_STATUS bits. */
#define DMATD_QSTATUS_ENABLED       (1u << 0)  /* accepting doorbells */
#define DMATD_QSTATUS_BUSY          (1u << 1)  /* a command is in flight */
#define DMATD_QSTATUS_ERROR         (1u << 2)  /* halted: see REG_Q_ERROR */
#define DMATD_QSTATUS_CQ_FULL       (1u << 3)  /* waiting for CQ_HEAD */

/* DMATD_REG_Q_ERROR codes: each halts the queue until it is disabled. */
enum {
    DMATD_QERR_NONE        = 0,
    DMATD_QERR_SIZE        = 1,  /* Q_SIZE not in 2 .. Q_MAX_SIZE */
    DMATD_QERR_ALIGN       = 2,  /* a ring base not DMATD_Q_ALIGN aligned */
    DMATD_QERR_RANGE       = 3,  /* a ring wraps or is beyond ADDR_BITS */
    DMATD_QERR_SQ_READ     = 4,  /* an SQ entry could not be read */
    DMATD_QERR_CQ_WRITE    = 5,  /* a CQ entry could not be written */
    DMATD_QERR_SQ_DOORBELL = 6,  /* SQ_TAIL >= Q_SIZE */
    DMATD_QERR_CQ_DOORBELL = 7,  /* CQ_HEAD >= Q_SIZE or past CQ_TAIL */
    DMATD_QERR_MAX         = DMATD_QERR_CQ_DOORBELL,
};

static inline const char *dmatd_qerror_name(uint32_t err)
{
    switch (err) {
    case DMATD_QERR_NONE:              return "ok";
    case DMATD_QERR_SIZE:              return "size";
    case DMATD_QERR_ALIGN:             return "ring-align";
    case DMATD_QERR_RANGE:             return "ring-range";
    case DMATD_QERR_SQ_READ:           return "sq-read";
    case DMATD_QERR_CQ_WRITE:          return "cq-write";
    case DMATD_QERR_SQ_DOORBELL:       return "sq-doorbell";
    case DMATD_QERR_CQ_DOORBELL:       return "cq-doorbell";
    default:                           return "unknown";
    }
}

#define DMATD_Q_ALIGN               64
#define DMATD_Q_MAX_SIZE            4096

/*
 * Submission queue entry, 64 bytes, little-endian.  The fields mean what
 * the registers of the same name mean for the register path.
 */
struct dma_testdev_sqe {
    uint32_t op;            /* DMATD_OP_* */
    uint32_t flags;         /* DMATD_SQE_F_*; other bits reserved, must be 0 */
    uint32_t seed;
    uint32_t vector;        /* interrupt vector of the completion */
    uint64_t src_list;
    uint32_t src_count;
    uint32_t rsvd0;         /* must be 0 */
    uint64_t dst_list;
    uint32_t dst_count;
    uint32_t rsvd1;         /* must be 0 */
    uint64_t fill;
    uint64_t tag;           /* copied to the completion */
};
#define DMATD_SQE_SIZE              64
_Static_assert(sizeof(struct dma_testdev_sqe) == DMATD_SQE_SIZE,
               "struct dma_testdev_sqe is the 64-byte SQE");
#define DMATD_SQE_F_INTR            (1u << 0)  /* signal INTR_QUEUE_CMPL */

/*
 * Completion queue entry, 64 bytes, little-endian.  The device writes
 * bytes 0..59 first and the status word last, so an entry whose phase bit
 * matches the one the guest expects is complete.  The phase bit is 1 on
 * the first pass through the ring, 0 on the second, and so on.
 */
struct dma_testdev_cqe {
    uint64_t tag;
    uint64_t cmd_seq;
    uint64_t bytes_done;
    uint64_t checksum;
    uint64_t err_addr;
    uint64_t mismatch_off;
    uint32_t error;         /* DMATD_ERR_* */
    uint32_t err_seg;
    uint32_t mismatch_count;
    uint32_t status;        /* DMATD_STATUS_* | DMATD_CQE_PHASE; written last */
};
#define DMATD_CQE_SIZE              64
_Static_assert(sizeof(struct dma_testdev_cqe) == DMATD_CQE_SIZE,
               "struct dma_testdev_cqe is the 64-byte CQE");
#define DMATD_CQE_PHASE             (1u << 31)
/* err_list is in bits 23:16 of the error word. */
#define DMATD_CQE_ERROR(e)          ((e) & 0xffff)
#define DMATD_CQE_ERR_LIST(e)       (((e) >> 16) & 0xff)

/*
 * DMATD_REG_BAD_INFO: the last guest programming error that is not a command
 * error: register offset, access size, direction and DMATD_BAD_*.
 */
#define DMATD_BAD_INFO_OFFSET(v)    ((v) & 0xfff)
#define DMATD_BAD_INFO_SIZE(v)      (((v) >> 12) & 0xf)
#define DMATD_BAD_INFO_WRITE        (1u << 16)
#define DMATD_BAD_INFO_REASON(v)    (((v) >> 24) & 0xff)
enum {
    DMATD_BAD_NONE           = 0,
    DMATD_BAD_ACCESS_SIZE    = 1,  /* not an aligned 4- or 8-byte access */
    DMATD_BAD_READ_ONLY      = 2,  /* write to a read-only register */
    DMATD_BAD_UNKNOWN_REG    = 3,  /* no register at that offset */
    DMATD_BAD_RESERVED_BITS  = 4,  /* reserved bits set; they were dropped */
    DMATD_BAD_QUEUE_ENABLED  = 5,  /* queue setup written while enabled */
    DMATD_BAD_QUEUE_DISABLED = 6,  /* doorbell rung while disabled/halted */
};

/* DMATD_REG_ERR_LIST values. */
enum {
    DMATD_LIST_NONE = 0,
    DMATD_LIST_SRC  = 1,
    DMATD_LIST_DST  = 2,
};

/*
 * A segment list is an array of these in guest memory, little-endian,
 * aligned to DMATD_SEG_ALIGN.  The segments of a list form one transfer:
 * byte offsets ("transfer offsets") run on across segment boundaries.
 */
struct dma_testdev_seg {
    uint64_t addr;
    uint32_t len;       /* bytes, 1 .. 2^32-1 */
    uint32_t flags;     /* reserved, must be 0 */
};
#define DMATD_SEG_SIZE              16
_Static_assert(sizeof(struct dma_testdev_seg) == DMATD_SEG_SIZE,
               "struct dma_testdev_seg is the 16-byte descriptor");
#define DMATD_SEG_ALIGN             16

/*
 * The position-tagged pattern.  The 8-byte little-endian word at transfer
 * offset @off (a multiple of 8) carries the 32-bit seed in its high half
 * and the word index (@off / 8) in its low half.  A byte at any offset is
 * the corresponding byte of the word containing it, so segments of any
 * length and alignment are covered.  Any such word found anywhere in
 * memory says which transfer (seed) and which offset it belongs to; use a
 * seed that is unlikely to occur in memory by chance (not 0).
 */
static inline uint64_t dmatd_pattern_word(uint32_t seed, uint64_t off)
{
    return ((uint64_t)seed << 32) | (uint32_t)(off >> 3);
}

static inline uint8_t dmatd_pattern_byte(uint32_t seed, uint64_t off)
{
    return (uint8_t)(dmatd_pattern_word(seed, off & ~7ULL) >> ((off & 7) * 8));
}

/*
 * The page tag.  The device never reads or writes it: guest tools write it
 * with the CPU at the start of every 4 KiB page of a buffer, so that an
 * oracle outside the guest can find each page in guest RAM without asking
 * the guest kernel where it is.  Three little-endian words: a random 64-bit
 * nonce, the page's index in the buffer, and a check word of both.  The
 * check word is what makes a tag: the nonce alone also sits in registers,
 * stacks and kernel buffers of the tool that printed it, and such a lone
 * copy, at a page start by chance, must not pass for the page.
 */
#define DMATD_PAGE_TAG_SIZE         24

/*
 * splitmix64's finalizer.  A bijection of 64-bit words in which every
 * input bit changes about half of the output bits: the mixer of both the
 * page tag and the checksum.
 */
static inline uint64_t dmatd_mix64(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static inline uint64_t dmatd_page_tag_check(uint64_t nonce, uint64_t index)
{
    /* Mixed over both: no word of the tag predicts it. */
    return dmatd_mix64(nonce ^ (index * 0x9e3779b97f4a7c15ULL) ^
                       0x706167657461670aULL);
}

/*
 * DMATD_REG_CHECKSUM: the sum modulo 2^64 of one term per 64-bit
 * little-endian word of the transfer, the last partial word zero-padded.
 * The term of the word at transfer offset 8 * @index is
 * dmatd_csum_term(word, index).
 *
 * Why this shape: the terms are independent of each other, so a host adds
 * them in any grouping, in as many lanes as its vector unit has, at
 * memory speed (FNV-1a, the checksum of contract 1.x, was one dependent
 * multiply per word).  What it detects: for a fixed index the term is a
 * bijection of the word, so a change confined to one word always changes
 * the sum.  Swapped words, a word at the wrong offset and anything larger
 * change it unless the mixed terms cancel by chance, about 2^-64.
 */
#define DMATD_CSUM_INIT             0
#define DMATD_CSUM_INDEX_KEY        0x9e3779b97f4a7c15ULL

static inline uint64_t dmatd_csum_term(uint64_t word, uint64_t index)
{
    return dmatd_mix64(word ^ (index * DMATD_CSUM_INDEX_KEY));
}

/*
 * personality=epf-test: BAR0 is the register block of Linux's PCI endpoint
 * test function (drivers/misc/pci_endpoint_test.c drives it), followed by
 * the MSI-X table and PBA.  All registers are 32 bits wide.
 */
#define DMATD_EPF_MAGIC             0x00
#define DMATD_EPF_COMMAND           0x04
#define DMATD_EPF_STATUS            0x08
#define DMATD_EPF_SRC_LO            0x0c
#define DMATD_EPF_SRC_HI            0x10
#define DMATD_EPF_DST_LO            0x14
#define DMATD_EPF_DST_HI            0x18
#define DMATD_EPF_SIZE              0x1c
#define DMATD_EPF_CHECKSUM          0x20
#define DMATD_EPF_IRQ_TYPE          0x24
#define DMATD_EPF_IRQ_NUMBER        0x28
#define DMATD_EPF_FLAGS             0x2c
#define DMATD_EPF_CAPS              0x30
#define DMATD_EPF_DB_BAR            0x34
#define DMATD_EPF_DB_OFFSET         0x38
#define DMATD_EPF_DB_DATA           0x3c
/* The endpoint function rounds its 0x40 bytes of registers up to this. */
#define DMATD_EPF_REGS_SIZE         0x80
#define DMATD_EPF_BAR0_SIZE         0x1000
#define DMATD_EPF_MSIX_TABLE        DMATD_EPF_REGS_SIZE
#define DMATD_EPF_MSIX_PBA          0x800

/* DMATD_EPF_COMMAND bits: one transfer or one interrupt per command. */
#define DMATD_EPF_CMD_RAISE_INTX    (1u << 0)
#define DMATD_EPF_CMD_RAISE_MSI     (1u << 1)
#define DMATD_EPF_CMD_RAISE_MSIX    (1u << 2)
#define DMATD_EPF_CMD_READ          (1u << 3)   /* device reads SRC */
#define DMATD_EPF_CMD_WRITE         (1u << 4)   /* device writes DST */
#define DMATD_EPF_CMD_COPY          (1u << 5)

/* DMATD_EPF_STATUS bits. */
#define DMATD_EPF_ST_READ_OK        (1u << 0)
#define DMATD_EPF_ST_READ_FAIL      (1u << 1)
#define DMATD_EPF_ST_WRITE_OK       (1u << 2)
#define DMATD_EPF_ST_WRITE_FAIL     (1u << 3)
#define DMATD_EPF_ST_COPY_OK        (1u << 4)
#define DMATD_EPF_ST_COPY_FAIL      (1u << 5)
#define DMATD_EPF_ST_IRQ_RAISED     (1u << 6)
#define DMATD_EPF_ST_SRC_INVALID    (1u << 7)
#define DMATD_EPF_ST_DST_INVALID    (1u << 8)

/* DMATD_EPF_IRQ_TYPE values. */
#define DMATD_EPF_IRQ_INTX          0
#define DMATD_EPF_IRQ_MSI           1
#define DMATD_EPF_IRQ_MSIX          2

/* DMATD_EPF_FLAGS: the host asks for DMA; every transfer here is DMA anyway. */
#define DMATD_EPF_FLAG_USE_DMA      (1u << 0)

#endif /* HW_MISC_DMA_TESTDEV_H */
