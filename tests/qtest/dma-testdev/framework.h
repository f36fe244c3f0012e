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

#define DMATD_PAGE          4096
#define DMATD_SEED          0x5eedc0deu
#define DMATD_GUARD         0xa5
/* Nothing decodes 64 GiB on these small-memory machines. */
#define DMATD_UNASSIGNED    0x1000000000ULL
/* The end of RAM with "-m 128M". */
#define DMATD_RAM_END_128M  0x8000000ULL
/* The BIOS ROM's last page. */
#define DMATD_ROM_PAGE      0xfffff000ULL
#define DMATD_ALL_OPS \
    (DMATD_CAP_OP(DMATD_OP_WRITE_PATTERN) | \
     DMATD_CAP_OP(DMATD_OP_VERIFY_PATTERN) | \
     DMATD_CAP_OP(DMATD_OP_COPY) | DMATD_CAP_OP(DMATD_OP_FILL))

/* A segment descriptor in host byte order (lists hold it little-endian). */
typedef struct dma_testdev_seg DmatdSeg;

/* One entry of the device's DMA log. */
typedef struct DmatdLogEntry {
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
} DmatdLogEntry;

/* Checksum of a data stream, fed in pieces. */
typedef struct DmatdCsum {
    uint64_t csum;
    uint64_t word;
    uint64_t off;
} DmatdCsum;

#define DMATD_CHECK_REG(d, reg, exp) dmatd_check_reg(d, reg, #reg, exp, false)
#define DMATD_CHECK_REG64(d, reg, exp) dmatd_check_reg(d, reg, #reg, exp, true)

/*
 * Six segments of odd sizes and alignments in a 16 KiB region, in
 * descending and ascending address order, with guard bytes around each.
 * Words of the transfer are split across segments, and the total is not a
 * multiple of 8.
 */
#define DMATD_ODD_REGION    0x4000
#define DMATD_ODD_NSEGS     6

#define DMATD_MSI_DATA      0x4a00u


/* Queue entries in host byte order; the rings hold them little-endian. */
typedef struct dma_testdev_sqe DmatdSqe;
typedef struct dma_testdev_cqe DmatdCqe;

/*
 * Many commands in flight, paced in virtual time: with latency-ns L and
 * step-size 4 KiB, an 8 KiB command takes three steps (16 bytes of list,
 * then 4080, 4096 and 16 data bytes), each L after the previous one.
 */
#define DMATD_LAT           1000
#define DMATD_INFLIGHT      100

/* Queue entries that must fail alone, with the error they must get. */
typedef struct DmatdBadSqe {
    const char *name;
    uint32_t op, flags, vector, rsvd0, rsvd1;
    uint32_t error;
} DmatdBadSqe;

extern const DmatdBadSqe dmatd_bad_sqes[];
extern const size_t dmatd_nr_bad_sqes;

void G_GNUC_PRINTF(1, 2) dmatd_report(const char *fmt, ...);

void dmatd_check_u64(const char *what, uint64_t addr, uint64_t exp,
                     uint64_t got);

void dmatd_check_reg(DmatdDev *d, uint32_t reg, const char *name,
                     uint64_t exp, bool wide);

void dmatd_set_dst(DmatdDev *d, uint64_t list, uint32_t count);

void dmatd_set_src(DmatdDev *d, uint64_t list, uint32_t count);

uint64_t dmatd_cmd(DmatdDev *d, uint32_t op);

void dmatd_check_no_mismatch(DmatdDev *d);

void dmatd_check_ok(DmatdDev *d, uint64_t bytes, uint64_t csum);

void dmatd_check_error(DmatdDev *d, uint32_t err, uint32_t list,
                       uint32_t seg, uint64_t addr, uint64_t bytes);

void dmatd_check_mismatch(DmatdDev *d, uint64_t bytes, uint32_t count,
                          uint32_t seg, uint64_t off, uint64_t exp,
                          uint64_t got);

void dmatd_pattern(uint8_t *buf, uint32_t seed, uint64_t off,
                   uint64_t len);

void dmatd_fill_stream(uint8_t *buf, uint64_t fill, uint64_t len);

void dmatd_csum_start(DmatdCsum *c);

void dmatd_csum_feed(DmatdCsum *c, const uint8_t *buf, uint64_t len);

uint64_t dmatd_csum_end(DmatdCsum *c);

uint64_t dmatd_csum_buf(const uint8_t *buf, uint64_t len);

uint64_t dmatd_pattern_csum(uint32_t seed, uint64_t len);

uint64_t dmatd_total(const DmatdSeg *segs, size_t n);

void dmatd_put_list_at(DmatdDev *d, uint64_t at, const DmatdSeg *segs,
                       size_t n);

uint64_t dmatd_put_list(DmatdDev *d, const DmatdSeg *segs, size_t n);

void dmatd_scatter(DmatdDev *d, const DmatdSeg *segs, size_t n,
                   const uint8_t *stream);

void dmatd_check_image(DmatdDev *d, const char *what, uint64_t base,
                       uint64_t size, const DmatdSeg *segs, size_t n,
                       const uint8_t *stream, uint8_t guard);

void dmatd_check_untouched(DmatdDev *d, const char *what, uint64_t addr,
                           uint64_t len, uint8_t guard);

void dmatd_qdict_str(QDict *e, const char *key, char *buf, size_t size);

GArray *dmatd_log_get(DmatdDev *d, uint64_t cmd);

void dmatd_check_log(const DmatdLogEntry *e, const char *op,
                     const char *list, uint32_t index, const char *dir,
                     uint64_t addr, uint64_t len, uint64_t done,
                     const char *result);

void dmatd_check_log_seqs(GArray *log);

void dmatd_check_log_segs(GArray *log, guint from, const char *op,
                          const char *list, const DmatdSeg *segs, size_t n);

void dmatd_check_log_single(DmatdDev *d, uint64_t cmd, const char *op,
                            const char *list, uint64_t list_addr,
                            const DmatdSeg *segs, size_t n);

guint dmatd_check_log_no_data(DmatdDev *d, uint64_t cmd);

void dmatd_odd_layout(uint64_t base, DmatdSeg *segs);

uint64_t dmatd_region(DmatdDev *d, uint64_t size);

bool dmatd_intx_level(DmatdDev *d);

void dmatd_quick_cmd(DmatdDev *d, uint64_t list);

uint64_t dmatd_quick_list(DmatdDev *d);

void dmatd_msi_enable(DmatdDev *d, uint64_t addr, unsigned nvec);

void dmatd_check_cqe(const DmatdCqe *c, uint64_t tag, uint32_t status,
                     uint32_t error, uint64_t bytes, uint64_t csum);

DmatdSqe dmatd_sqe_pattern(DmatdDev *d, uint64_t addr, uint32_t len,
                   uint32_t seed, uint64_t tag);

void dmatd_check_pattern_at(DmatdDev *d, const char *what, uint64_t addr,
                            uint32_t len, uint32_t seed);

void dmatd_wait_word(DmatdDev *d, uint64_t addr, uint64_t word);

DmatdSqe dmatd_sqe_spoil(const DmatdSqe *good, size_t i);
/* @c is the completion of dmatd_sqe_spoil(..., @i): failed alone. */
void dmatd_check_spoiled_cqe(const DmatdCqe *c, size_t i);

/* Register @fn as dma-testdev/MACHINE/@name on q35, and on pc if @pc. */
void dmatd_add(const char *name, void (*fn)(const void *), bool pc);

/* Each *-tests.c file registers its tests. */
void dmatd_add_data_tests(void);
void dmatd_add_err_tests(void);
void dmatd_add_big_tests(void);
void dmatd_add_intr_tests(void);
void dmatd_add_queue_tests(void);
void dmatd_add_reset_tests(void);
void dmatd_add_migration_tests(void);
void dmatd_add_bad_input_tests(void);
void dmatd_add_epf_tests(void);
void dmatd_add_checksum_tests(void);

#endif
