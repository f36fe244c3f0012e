/*
 * dma-testdev: register-level contract of the DMA reference device.
 *
 * This header is the single definition of the guest-visible interface.  It
 * is included by the QEMU device model, by the qtests and by guest tools,
 * so it must stay free of QEMU-internal headers: only <stdint.h> types.
 * docs/specs/dma-testdev.rst describes the behaviour behind every value.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_DMA_TESTDEV_H
#define HW_MISC_DMA_TESTDEV_H

#include <stdint.h>

#define TYPE_DMA_TESTDEV "dma-testdev"

/* From the experimental range of QEMU's docs/specs/pci-ids.rst. */
#define DMA_TESTDEV_VENDOR_ID       0x1af4
#define DMA_TESTDEV_DEVICE_ID       0x10f0
#define DMA_TESTDEV_REVISION        0x01

/* BAR0 holds the registers; a page, so that vfio-pci can mmap it. */
#define DMA_TESTDEV_BAR0_SIZE       0x1000

/* Value of DT_REG_ID: device ID in the high half, vendor ID in the low. */
#define DMA_TESTDEV_ID_VALUE \
    (((uint32_t)DMA_TESTDEV_DEVICE_ID << 16) | DMA_TESTDEV_VENDOR_ID)
/* DT_REG_VERSION: major in bits 31:16, minor in bits 15:0. */
#define DMA_TESTDEV_VERSION_MAJOR   1
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
    DT_REG_ID               = 0x000,
    DT_REG_VERSION          = 0x004,
    DT_REG_CAPS             = 0x008,  /* DT_CAP_* */
    DT_REG_ADDR_BITS        = 0x00c,  /* DMA address width in bits */
    DT_REG_MAX_SEGS         = 0x010,  /* max segments in one list */
    DT_REG_MAX_XFER_LO      = 0x018,  /* max bytes per command */
    DT_REG_MAX_XFER_HI      = 0x01c,

    /* Command parameters, read/write. */
    DT_REG_CMD              = 0x020,  /* write: start DT_OP_*; read: last */
    DT_REG_SEED             = 0x028,  /* pattern seed, see DT_PATTERN_WORD */
    DT_REG_SRC_LIST_LO      = 0x030,  /* segment list the device reads from */
    DT_REG_SRC_LIST_HI      = 0x034,
    DT_REG_SRC_COUNT        = 0x038,  /* number of segments in it */
    DT_REG_DST_LIST_LO      = 0x040,  /* segment list the device writes to */
    DT_REG_DST_LIST_HI      = 0x044,
    DT_REG_DST_COUNT        = 0x048,
    DT_REG_FILL_LO          = 0x050,  /* 64-bit word repeated by DT_OP_FILL */
    DT_REG_FILL_HI          = 0x054,

    /* Results of the last command, read-only. */
    DT_REG_STATUS           = 0x060,  /* DT_STATUS_* */
    DT_REG_ERROR            = 0x064,  /* DT_ERR_* */
    DT_REG_ERR_SEG          = 0x068,  /* index of the failing segment */
    DT_REG_ERR_LIST         = 0x06c,  /* DT_LIST_* holding that segment */
    DT_REG_ERR_ADDR_LO      = 0x070,  /* guest address that failed */
    DT_REG_ERR_ADDR_HI      = 0x074,
    DT_REG_BYTES_DONE_LO    = 0x078,  /* data bytes moved */
    DT_REG_BYTES_DONE_HI    = 0x07c,
    DT_REG_MISMATCH_SEG     = 0x080,  /* VERIFY: segment of 1st bad word */
    DT_REG_MISMATCH_COUNT   = 0x084,  /* VERIFY: bad words (saturates) */
    DT_REG_MISMATCH_OFF_LO  = 0x088,  /* VERIFY: transfer offset of it */
    DT_REG_MISMATCH_OFF_HI  = 0x08c,
    DT_REG_MISMATCH_EXP_LO  = 0x090,  /* VERIFY: expected word */
    DT_REG_MISMATCH_EXP_HI  = 0x094,
    DT_REG_MISMATCH_GOT_LO  = 0x098,  /* VERIFY: word found */
    DT_REG_MISMATCH_GOT_HI  = 0x09c,
    DT_REG_CHECKSUM_LO      = 0x0a0,  /* VERIFY, COPY: DT_CSUM of all read */
    DT_REG_CHECKSUM_HI      = 0x0a4,
    DT_REG_CMD_SEQ_LO       = 0x0a8,  /* sequence number of last command */
    DT_REG_CMD_SEQ_HI       = 0x0ac,
};

/* Operations, written to DT_REG_CMD. */
enum {
    DT_OP_NONE              = 0,
    DT_OP_WRITE_PATTERN     = 1,  /* DST list <- pattern(SEED) */
    DT_OP_VERIFY_PATTERN    = 2,  /* SRC list checked against pattern(SEED) */
    DT_OP_COPY              = 3,  /* DST list <- SRC list, equal totals */
    DT_OP_FILL              = 4,  /* DST list <- FILL word repeated */
    DT_OP_MAX               = DT_OP_FILL,
};

/* DT_REG_CAPS: bit (1 << op) for every operation the device implements. */
#define DT_CAP_OP(op)               (1u << (op))

/* DT_REG_STATUS bits. */
#define DT_STATUS_BUSY              (1u << 0)  /* command in progress */
#define DT_STATUS_DONE              (1u << 1)  /* last command finished */
#define DT_STATUS_ERROR             (1u << 2)  /* ... with DT_REG_ERROR set */
#define DT_STATUS_MISMATCH          (1u << 3)  /* VERIFY found bad words */

/* DT_REG_ERROR codes.  Only DT_ERR_NONE goes without DT_STATUS_ERROR. */
enum {
    DT_ERR_NONE             = 0,
    DT_ERR_BAD_OPCODE       = 1,  /* unknown value written to DT_REG_CMD */
    DT_ERR_BUSY             = 2,  /* command started while one runs */
    DT_ERR_NO_SEGMENTS      = 3,  /* segment count is 0 */
    DT_ERR_TOO_MANY_SEGS    = 4,  /* segment count > DT_REG_MAX_SEGS */
    DT_ERR_LIST_ALIGN       = 5,  /* list address not DT_SEG_ALIGN aligned */
    DT_ERR_LIST_READ        = 6,  /* list unreadable (see ERR_ADDR) */
    DT_ERR_SEG_FLAGS        = 7,  /* reserved segment flags not zero */
    DT_ERR_ZERO_LENGTH      = 8,  /* a segment has length 0 */
    DT_ERR_ADDR_OVERFLOW    = 9,  /* address + length wraps past 2^64 */
    DT_ERR_ADDR_WIDTH       = 10, /* beyond DT_REG_ADDR_BITS */
    DT_ERR_XFER_TOO_LARGE   = 11, /* total length > max transfer */
    DT_ERR_LENGTH_MISMATCH  = 12, /* COPY: SRC and DST totals differ */
    DT_ERR_DMA_UNASSIGNED   = 13, /* nothing decodes the address */
    DT_ERR_DMA_ACCESS       = 14, /* target refused the access (e.g. the */
                                  /* device's own BAR, a ROM write) */
    DT_ERR_MAX              = DT_ERR_DMA_ACCESS,
};

/*
 * Short names of the error codes, as the DMA log's "result" field and the
 * trace events spell them; shared so that every tool reads the same words.
 */
static inline const char *dt_error_name(uint32_t err)
{
    switch (err) {
    case DT_ERR_NONE:               return "ok";
    case DT_ERR_BAD_OPCODE:         return "bad-opcode";
    case DT_ERR_BUSY:               return "busy";
    case DT_ERR_NO_SEGMENTS:        return "no-segments";
    case DT_ERR_TOO_MANY_SEGS:      return "too-many-segments";
    case DT_ERR_LIST_ALIGN:         return "list-align";
    case DT_ERR_LIST_READ:          return "list-read";
    case DT_ERR_SEG_FLAGS:          return "segment-flags";
    case DT_ERR_ZERO_LENGTH:        return "zero-length";
    case DT_ERR_ADDR_OVERFLOW:      return "address-overflow";
    case DT_ERR_ADDR_WIDTH:         return "address-width";
    case DT_ERR_XFER_TOO_LARGE:     return "transfer-too-large";
    case DT_ERR_LENGTH_MISMATCH:    return "length-mismatch";
    case DT_ERR_DMA_UNASSIGNED:     return "decode-error";
    case DT_ERR_DMA_ACCESS:         return "access-error";
    default:                        return "unknown";
    }
}

/* DT_REG_ERR_LIST values. */
enum {
    DT_LIST_NONE            = 0,
    DT_LIST_SRC             = 1,
    DT_LIST_DST             = 2,
};

/*
 * A segment list is an array of these in guest memory, little-endian,
 * aligned to DT_SEG_ALIGN.  The segments of a list form one transfer:
 * byte offsets ("transfer offsets") run on across segment boundaries.
 */
struct dma_testdev_seg {
    uint64_t addr;
    uint32_t len;       /* bytes, 1 .. 2^32-1 */
    uint32_t flags;     /* reserved, must be 0 */
};
#define DT_SEG_SIZE                 16
#define DT_SEG_ALIGN                16

/*
 * The position-tagged pattern.  The 8-byte little-endian word at transfer
 * offset @off (a multiple of 8) carries the 32-bit seed in its high half
 * and the word index (@off / 8) in its low half.  A byte at any offset is
 * the corresponding byte of the word containing it, so segments of any
 * length and alignment are covered.  Any such word found anywhere in
 * memory says which transfer (seed) and which offset it belongs to; use a
 * seed that is unlikely to occur in memory by chance (not 0).
 */
static inline uint64_t dt_pattern_word(uint32_t seed, uint64_t off)
{
    return ((uint64_t)seed << 32) | (uint32_t)(off >> 3);
}

static inline uint8_t dt_pattern_byte(uint32_t seed, uint64_t off)
{
    return (uint8_t)(dt_pattern_word(seed, off & ~7ULL) >> ((off & 7) * 8));
}

/*
 * DT_REG_CHECKSUM: FNV-1a over the transfer taken as 64-bit little-endian
 * words, the last partial word zero-padded.
 */
#define DT_CSUM_INIT                0xcbf29ce484222325ULL
#define DT_CSUM_PRIME               0x100000001b3ULL

static inline uint64_t dt_csum_word(uint64_t csum, uint64_t word)
{
    return (csum ^ word) * DT_CSUM_PRIME;
}

#endif /* HW_MISC_DMA_TESTDEV_H */
