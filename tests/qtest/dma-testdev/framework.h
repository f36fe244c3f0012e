/*
 * dma-testdev device qtests: the framework every *-tests.c file uses
 * (helpers that play the driver and check results against the
 * contract in include/hw/misc/dma-testdev.h).
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef DMA_TESTDEV_QTEST_FRAMEWORK_H
#define DMA_TESTDEV_QTEST_FRAMEWORK_H

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

/* A segment descriptor in host byte order (lists hold it little-endian). */
typedef struct dma_testdev_seg DtSeg;

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

#define DT_CHECK_REG(d, reg, exp) dt_check_reg(d, reg, #reg, exp, false)
#define DT_CHECK_REG64(d, reg, exp) dt_check_reg(d, reg, #reg, exp, true)

/*
 * Six segments of odd sizes and alignments in a 16 KiB region, in
 * descending and ascending address order, with guard bytes around each.
 * Words of the transfer are split across segments, and the total is not a
 * multiple of 8.
 */
#define DT_ODD_REGION       0x4000
#define DT_ODD_NSEGS        6

#define DT_MSI_DATA         0x4a00u

typedef struct DtQueue {
    uint64_t sq;
    uint64_t cq;
    uint32_t size;
    uint32_t tail;              /* next SQ slot the test fills */
    uint32_t cq_head;           /* next CQ slot the test reads */
    bool phase;                 /* phase bit expected there */
} DtQueue;

/* Queue entries in host byte order; the rings hold them little-endian. */
typedef struct dma_testdev_sqe DtSqe;
typedef struct dma_testdev_cqe DtCqe;

/*
 * Many commands in flight, paced in virtual time: with latency-ns L and
 * step-size 4 KiB, an 8 KiB command takes three steps (16 bytes of list,
 * then 4080, 4096 and 16 data bytes), each L after the previous one.
 */
#define DT_LAT              1000
#define DT_INFLIGHT         100

/* Queue entries that must fail alone, with the error they must get. */
typedef struct DtBadSqe {
    const char *name;
    uint32_t op, flags, vector, rsvd0, rsvd1;
    uint32_t error;
} DtBadSqe;

#define DT_NR_BAD_SQES      9
extern const DtBadSqe dt_bad_sqes[DT_NR_BAD_SQES];

void G_GNUC_PRINTF(1, 2) dt_report(const char *fmt, ...);

void dt_check_u64(const char *what, uint64_t addr, uint64_t exp,
                  uint64_t got);

void dt_check_reg(DmatdDev *d, uint32_t reg, const char *name,
                  uint64_t exp, bool wide);

void dt_set_dst(DmatdDev *d, uint64_t list, uint32_t count);

void dt_set_src(DmatdDev *d, uint64_t list, uint32_t count);

uint64_t dt_cmd(DmatdDev *d, uint32_t op);

void dt_check_no_mismatch(DmatdDev *d);

void dt_check_ok(DmatdDev *d, uint64_t bytes, uint64_t csum);

void dt_check_error(DmatdDev *d, uint32_t err, uint32_t list,
                    uint32_t seg, uint64_t addr, uint64_t bytes);

void dt_check_mismatch(DmatdDev *d, uint64_t bytes, uint32_t count,
                       uint32_t seg, uint64_t off, uint64_t exp,
                       uint64_t got);

void dt_pattern(uint8_t *buf, uint32_t seed, uint64_t off,
                uint64_t len);

void dt_fill_stream(uint8_t *buf, uint64_t fill, uint64_t len);

void dt_csum_start(DtCsum *c);

void dt_csum_feed(DtCsum *c, const uint8_t *buf, uint64_t len);

uint64_t dt_csum_end(DtCsum *c);

uint64_t dt_csum_buf(const uint8_t *buf, uint64_t len);

uint64_t dt_pattern_csum(uint32_t seed, uint64_t len);

uint64_t dt_total(const DtSeg *segs, size_t n);

void dt_put_list_at(DmatdDev *d, uint64_t at, const DtSeg *segs,
                    size_t n);

uint64_t dt_put_list(DmatdDev *d, const DtSeg *segs, size_t n);

void dt_scatter(DmatdDev *d, const DtSeg *segs, size_t n,
                const uint8_t *stream);

void dt_check_image(DmatdDev *d, const char *what, uint64_t base,
                    uint64_t size, const DtSeg *segs, size_t n,
                    const uint8_t *stream, uint8_t guard);

void dt_check_untouched(DmatdDev *d, const char *what, uint64_t addr,
                        uint64_t len, uint8_t guard);

uint64_t dt_qdict_uint(QDict *e, const char *key);

void dt_qdict_str(QDict *e, const char *key, char *buf, size_t size);

GArray *dt_log_get(DmatdDev *d, uint64_t cmd);

void dt_check_log(const DtLogEntry *e, const char *op,
                  const char *list, uint32_t index, const char *dir,
                  uint64_t addr, uint64_t len, uint64_t done,
                  const char *result);

void dt_check_log_seqs(GArray *log);

void dt_check_log_segs(GArray *log, guint from, const char *op,
                       const char *list, const DtSeg *segs, size_t n);

void dt_check_log_single(DmatdDev *d, uint64_t cmd, const char *op,
                         const char *list, uint64_t list_addr,
                         const DtSeg *segs, size_t n);

guint dt_check_log_no_data(DmatdDev *d, uint64_t cmd);

void dt_odd_layout(uint64_t base, DtSeg *segs);

uint64_t dt_region(DmatdDev *d, uint64_t size);

bool dt_intx_level(DmatdDev *d);

void dt_quick_cmd(DmatdDev *d, uint64_t list);

uint64_t dt_quick_list(DmatdDev *d);

void dt_msi_enable(DmatdDev *d, uint64_t addr, unsigned nvec);

void dt_q_init(DmatdDev *d, DtQueue *q, uint32_t size);

void dt_q_put(DmatdDev *d, DtQueue *q, const DtSqe *e);

void dt_q_ring(DmatdDev *d, DtQueue *q);

void dt_q_read(DmatdDev *d, DtQueue *q, uint32_t slot, DtCqe *c);

bool dt_q_peek(DmatdDev *d, DtQueue *q, DtCqe *c);

void dt_q_pop(DmatdDev *d, DtQueue *q, DtCqe *c);

void dt_q_wait(DmatdDev *d, DtQueue *q, DtCqe *c, int64_t ns,
               int max_steps);

void dt_check_cqe(const DtCqe *c, uint64_t tag, uint32_t status,
                  uint32_t error, uint64_t bytes, uint64_t csum);

DtSqe dt_sqe_write(DmatdDev *d, uint64_t addr, uint32_t len,
                   uint32_t seed, uint64_t tag);

void dt_check_pattern_at(DmatdDev *d, const char *what, uint64_t addr,
                         uint32_t len, uint32_t seed);

void dt_wait_word(DmatdDev *d, uint64_t addr, uint64_t word);

DtSqe dt_sqe_spoil(const DtSqe *good, size_t i);

/* Register @fn as dma-testdev/MACHINE/@name on q35, and on pc if @pc. */
void dt_add(const char *name, void (*fn)(const void *), bool pc);

/* Each *-tests.c file registers its tests. */
void dt_add_data_tests(void);
void dt_add_err_tests(void);
void dt_add_big_tests(void);
void dt_add_intr_tests(void);
void dt_add_queue_tests(void);
void dt_add_reset_tests(void);
void dt_add_migration_tests(void);
void dt_add_bad_input_tests(void);
void dt_add_epf_tests(void);

#endif
