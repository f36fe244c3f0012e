/*
 * dma-testdev: state and helpers shared by the files of the device model
 * (dma-testdev.c, the native personality; dma-testdev-epf.c, the
 * pci-epf-test compatible one; dma-testdev-datapath.c, the word loops of
 * the native data path).  Not a guest interface: that is
 * include/hw/misc/dma-testdev.h.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_DMA_TESTDEV_INTERNAL_H
#define HW_MISC_DMA_TESTDEV_INTERNAL_H

#include "qemu/units.h"
#include "qemu/timer.h"
#include "hw/pci/pci_device.h"
#include "migration/vmstate.h"
#include "hw/misc/dma-testdev.h"
#include "dma-testdev-datapath.h"

OBJECT_DECLARE_SIMPLE_TYPE(DmaTestdevState, DMA_TESTDEV)

/*
 * Data moves through guest RAM mapped in place; this buffer is only used
 * for targets that cannot be mapped (MMIO, ROM writes, unassigned space),
 * so that every access there goes through a checked pci_dma_read/write.
 */
#define DMATD_BOUNCE_SIZE       (64 * KiB)
/* How far "x-misdirect-offset" sends its word: one page. */
#define DMATD_MISDIRECT_DELTA   (4 * KiB)

#define DMATD_DEFAULT_MAX_SEGS  65536
#define DMATD_LIMIT_MAX_SEGS    (1u << 20)
#define DMATD_DEFAULT_MAX_XFER  (1 * GiB)
/* Holds one COPY of two full lists plus their list reads. */
#define DMATD_DEFAULT_LOG_SIZE  (4 * DMATD_DEFAULT_MAX_SEGS)
#define DMATD_LIMIT_LOG_SIZE    (1u << 24)
/* A step must at least read one descriptor, so that it always progresses. */
#define DMATD_MIN_STEP_SIZE     64
/*
 * Both personalities take every access size and alignment from the memory
 * core, so that the device, not the core, decides (and reports) what a
 * bad access does.
 */
#define DMATD_MMIO_ANY_ACCESS { \
    .min_access_size = 1, \
    .max_access_size = 8, \
    .unaligned = true, \
}

/*
 * The most data one main-loop callback of the device moves: a step
 * larger than this ("step-size" 0 is unlimited) runs as several
 * callbacks at the same virtual time, so that no callback holds the BQL
 * for long (docs/system/devices/dma-testdev.rst, "Cost under the BQL").
 */
#define DMATD_CALLBACK_MAX_BYTES   (1 * MiB)
/*
 * Entries one read of the QOM property "dma-log" returns at most.  The
 * limit keeps a page within what QEMU's own JSON parser (and so libqtest)
 * accepts: about 42 tokens an entry, 2 M tokens a message.
 */
#define DMATD_DEFAULT_LOG_PAGE  1024
#define DMATD_LIMIT_LOG_PAGE    16384

/* Ten seconds per step is slow enough for any test, and cannot overflow. */
#define DMATD_LIMIT_LATENCY_NS  (10 * NANOSECONDS_PER_SECOND)
#define DMATD_MSI_CAP_OFFSET    0x50
#define DMATD_PCIE_CAP_OFFSET   0x80

typedef struct DmaTestdevLogEntry {
    uint64_t seq;
    uint64_t cmd;
    uint64_t addr;
    uint64_t len;
    uint64_t done;
    uint32_t index;
    uint8_t op;
    uint8_t kind;
    uint8_t result;             /* MemTxResult-derived DMATD_ERR_* or 0 */
} DmaTestdevLogEntry;

/* One segment list being walked. */
typedef struct DmaTestdevCursor {
    uint8_t list;               /* DMATD_LIST_SRC or DMATD_LIST_DST */
    uint64_t base;
    uint32_t count;
    uint32_t index;             /* current segment */
    uint64_t seg_addr;
    uint32_t seg_len;
    uint32_t seg_pos;           /* bytes of it done */
    uint64_t total;             /* sum of lengths seen so far */
    uint32_t list_dma_err;      /* DMATD_ERR_DMA_* of a failed list read */
} DmaTestdevCursor;

/* The data stream of one command, in transfer order. */
typedef struct DmaTestdevStream {
    uint64_t off;               /* transfer offset of the next byte */
    uint64_t csum;
    uint64_t word;              /* the word being assembled */
    uint32_t word_seg;          /* segment holding the word's first byte */
    bool verify;
} DmaTestdevStream;

/* What a command reports: the result registers, or a completion entry. */
typedef struct DmaTestdevResult {
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
} DmaTestdevResult;

/* Where a command is; it may stop between any two steps. */
typedef enum {
    DMATD_PHASE_START,
    DMATD_PHASE_CHECK_SRC,         /* validating the source list */
    DMATD_PHASE_CHECK_DST,         /* validating the destination list */
    DMATD_PHASE_RUN,               /* moving data */
    DMATD_PHASE_DONE,
    DMATD_PHASE_MAX = DMATD_PHASE_DONE,
} DmaTestdevPhase;

/* One command, from either path, with all of its progress. */
/* Registers of the pci-epf-test compatible personality. */
typedef struct DmaTestdevEpf {
    uint32_t magic;
    uint32_t command;
    uint32_t status;
    uint64_t src;
    uint64_t dst;
    uint32_t size;
    uint32_t checksum;
    uint32_t irq_type;
    uint32_t irq_number;
    uint32_t flags;
    bool intx;                  /* INTx asserted until STATUS is read */

    /*
     * The transfer in progress, run in steps like the native engine's.
     * Its parameters are taken from the registers when it starts, as the
     * endpoint function does.
     */
    uint32_t xfer_cmd;          /* DMATD_EPF_CMD_READ/WRITE/COPY, 0: idle */
    uint64_t xfer_seq;          /* CMD_SEQ of it: log "cmd", pattern seed */
    uint64_t xfer_src;
    uint64_t xfer_dst;
    uint32_t xfer_size;
    uint64_t xfer_off;          /* bytes done */
    uint32_t xfer_crc;          /* zlib crc32 of those bytes */
} DmaTestdevEpf;

/* BARs of that personality: BAR0 holds the registers, 1..5 are RAM. */
#define DMATD_EPF_NR_BARS       6

typedef struct DmaTestdevCmd {
    uint32_t op;
    uint32_t seed;
    uint64_t src_list;
    uint32_t src_count;
    uint64_t dst_list;
    uint32_t dst_count;
    uint64_t fill;
    uint64_t seq;
    /* Queue commands only */
    uint64_t tag;
    uint32_t vector;
    uint32_t flags;

    uint32_t phase;             /* DmaTestdevPhase */
    DmaTestdevCursor src;
    DmaTestdevCursor dst;
    DmaTestdevStream st;
    uint64_t src_total;
    DmaTestdevResult res;

    /* Per step, not migrated: see dmatd_step_begin(). */
    uint32_t epoch;             /* the device's epoch when the step began */
    bool abandoned;             /* the device was reset or unplugged */
} DmaTestdevCmd;

/*
 * Why a step was abandoned: its own DMA or interrupt message (or anything
 * else that ran meanwhile) reset or unplugged the device.
 */
#define DMATD_ABORT_RESET       (1u << 0)
#define DMATD_ABORT_UNPLUG      (1u << 1)

struct DmaTestdevState {
    PCIDevice parent_obj;

    MemoryRegion mmio;
    QEMUTimer *timer;           /* paces queue steps in virtual time */
    QEMUBH *bh;                 /* runs them, under the re-entrancy guard */

    /* Properties */
    uint8_t addr_bits;
    uint32_t max_segs;
    uint64_t max_xfer;
    uint32_t log_size;
    uint32_t msi_vectors;
    uint32_t msix_vectors;
    uint64_t latency_ns;
    uint64_t step_size;
    uint64_t misdirect_off;     /* negative control for DMA oracles */
    uint8_t datapath_max_lanes; /* test-only: 1 or 4 for narrower loops */
    uint8_t lanes;              /* words a block the data path takes */
    /* Negative control for MMIO read oracles: every Nth DMATD_REG_SEED read. */
    uint32_t bad_seed_every;
    uint32_t seed_reads;
    uint32_t log_page;          /* entries per read of "dma-log" */

    /*
     * The device's DMA and interrupt messages may land anywhere, config
     * space included, and reset or unplug the device while a step runs.
     * Both bump @epoch; a step compares it after every access it makes
     * (dmatd_dma) and stops at once if it moved.  Not migrated: no step
     * runs across a migration.
     */
    uint32_t epoch;
    uint32_t step_abort;        /* DMATD_ABORT_* seen by the running step */
    bool in_step;
    int64_t step_start_ns;      /* host clock, for the callback trace */

    /* Register path: parameters and the result of the last command */
    uint32_t cmd;
    uint32_t seed;
    uint64_t src_list;
    uint32_t src_count;
    uint64_t dst_list;
    uint32_t dst_count;
    uint64_t fill;
    DmaTestdevResult result;
    uint64_t cmd_seq;           /* shared by both paths */

    /* Interrupts */
    uint32_t intr_status;
    uint32_t intr_enable;
    uint32_t intr_vector;

    /* Guest programming errors without a command */
    uint32_t bad_count;
    uint32_t bad_info;

    /* Command queue */
    uint32_t q_ctrl;
    uint32_t q_status;
    uint32_t q_size;
    uint32_t q_error;
    uint32_t q_err_cause;
    uint64_t q_err_addr;
    uint64_t sq_base;
    uint64_t cq_base;
    uint32_t sq_tail;
    uint32_t sq_head;
    uint32_t cq_head;
    uint32_t cq_tail;
    bool cq_phase;
    uint64_t q_done;
    bool q_active;              /* q_cmd is in flight */
    bool q_scheduled;           /* the timer or the bottom half is armed */
    uint64_t q_budget;          /* bytes left of a step cut into callbacks */
    DmaTestdevCmd q_cmd;

    /* DMA log: a ring of the newest log_size entries */
    DmaTestdevLogEntry *log;
    uint32_t log_head;          /* next slot to write */
    uint32_t log_count;
    uint64_t log_seq;
    uint64_t log_from;          /* "dma-log-from": first seq "dma-log" shows */

    uint8_t *bounce;

    /* The pci-epf-test compatible personality ("personality=epf-test") */
    char *personality;
    bool epf;
    DmaTestdevEpf epf_regs;
    MemoryRegion epf_bar0;
    MemoryRegion epf_mmio;
    MemoryRegion epf_ram[DMATD_EPF_NR_BARS];
};

/* dma-testdev.c */
void dmatd_step_begin(DmaTestdevState *s, DmaTestdevCmd *c);
void dmatd_step_end(DmaTestdevState *s, const char *who, const DmaTestdevCmd *c,
                    uint64_t bytes);
MemTxResult dmatd_dma(DmaTestdevState *s, DmaTestdevCmd *c, uint64_t addr,
                      void *buf, uint64_t len, DMADirection dir);
void dmatd_log_add(DmaTestdevState *s, const DmaTestdevCmd *c,
                   uint8_t kind, uint32_t index, uint64_t addr,
                   uint64_t len, uint64_t done, uint32_t result);
uint32_t dmatd_check_range(DmaTestdevState *s, uint64_t addr, uint64_t len);
uint32_t dmatd_memtx_error(MemTxResult res);
uint32_t dmatd_dma_error(DmaTestdevState *s, uint64_t addr, MemTxResult res,
                         bool is_write);
void G_GNUC_PRINTF(6, 7) dmatd_bad(DmaTestdevState *s, hwaddr addr,
                                   unsigned size, bool is_write,
                                   uint32_t reason, const char *fmt, ...);

/* dma-testdev-datapath.c: see dma-testdev-datapath.h. */

/* dma-testdev-epf.c */
extern const VMStateDescription vmstate_dmatd_epf;
bool dmatd_epf_realize(DmaTestdevState *s, Error **errp);
void dmatd_epf_unrealize(DmaTestdevState *s);
void dmatd_epf_reset(DmaTestdevState *s);
void dmatd_epf_bh(void *opaque);
bool dmatd_epf_post_load(DmaTestdevState *s);

#endif /* HW_MISC_DMA_TESTDEV_INTERNAL_H */
