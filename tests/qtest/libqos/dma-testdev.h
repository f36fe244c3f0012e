/*
 * libqos helpers for dma-testdev: bring the device up on q35 (behind a
 * PCIe root port, as firmware would) or pc, reach its registers, and read
 * its DMA log.  Used by every dma-testdev qtest, so that each test is only
 * the driver it plays.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef LIBQOS_DMA_TESTDEV_H
#define LIBQOS_DMA_TESTDEV_H

#include "../libqtest.h"
#include "pci.h"
#include "libqos-malloc.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "hw/misc/dma-testdev.h"

/* Where the device sits: behind a root port in this slot on q35. */
#define DMATD_RP_SLOT        2
/* In this slot of bus 0 on pc. */
#define DMATD_PC_SLOT        4
/* libqos config accessors take the bus number in bits 15:8 of devfn. */
#define DMATD_BDF(bus, dev, fn) (((bus) << 8) | QPCI_DEVFN(dev, fn))
/* q35's ECAM window where firmware puts it (dmatd_ecam_enable). */
#define DMATD_ECAM_BASE      0xb0000000ULL
#define DMATD_ECAM_ADDR(bus, dev, fn, off) \
    (DMATD_ECAM_BASE + ((uint64_t)(bus) << 20) + ((dev) << 15) + \
     ((fn) << 12) + (off))

typedef struct DmatdMachine {
    const char *name;
    bool pcie;
} DmatdMachine;

extern const DmatdMachine dmatd_q35;
extern const DmatdMachine dmatd_pc;

/* One running QEMU with one dma-testdev (id "dt0"), as a driver sees it. */
typedef struct DmatdDev {
    const DmatdMachine *machine;
    QTestState *qts;
    QGuestAllocator alloc;
    QPCIBus *bus;
    QPCIDevice *rp;             /* the pcie-root-port on q35, else NULL */
    QPCIDevice *dev;
    QPCIBar bar;
    uint64_t bar_size;
    QPCIBar msix_bar;           /* BAR1, when the device has MSI-X */
    uint64_t msix_bar_size;
    char *props, *extra;        /* as given to dmatd_start() */
} DmatdDev;

/*
 * Start QEMU with one dma-testdev.  @props is appended to its -device
 * option (",addr-bits=32"), @extra to the command line ("-m 128M").
 * The root port gets bus 1 and a memory window around the BARs; the
 * device gets its BARs, Memory Space and Bus Master.
 */
DmatdDev *dmatd_start(const DmatdMachine *m, const char *props,
                      const char *extra);
/*
 * Migrate: save the running QEMU to a file, quit it, start it again with
 * the same command line and -incoming defer, restore there and point @d
 * at the new QEMU (nothing reprogrammed).  Any failure fails the test.
 */
void dmatd_migrate(DmatdDev *d);
void dmatd_stop(DmatdDev *d);
void dmatd_qtest_quit(QTestState *qts);
/* After a reset wiped config space: the same BARs and window again. */
void dmatd_reprogram(DmatdDev *d);
/* Find the devices again after @d->qts was replaced (e.g. by migration). */
void dmatd_rediscover(DmatdDev *d);

uint8_t dmatd_find_cap(QPCIDevice *dev, uint8_t id);

/* BAR0 registers, 32 bits; 64-bit ones as two 32-bit accesses. */
uint32_t dmatd_rd(DmatdDev *d, uint32_t reg);
void dmatd_wr(DmatdDev *d, uint32_t reg, uint32_t val);
uint64_t dmatd_rd64(DmatdDev *d, uint32_t reg_lo);
void dmatd_wr64(DmatdDev *d, uint32_t reg_lo, uint64_t val);

/*
 * q35: map ECAM at DMATD_ECAM_BASE as firmware does (MCH PCIEXBAR), so
 * that memory accesses, the device's DMA included, reach config space.
 */
void dmatd_ecam_enable(DmatdDev *d);

/*
 * The device's DMA log: every entry with "seq" >= @from, oldest first,
 * read page by page (QOM "dma-log-from" and "dma-log").  A new reference
 * for the caller.
 */
QList *dmatd_log_read(QTestState *qts, const char *id, uint64_t from);
/* The sequence number of the newest DMA log entry (0: none yet). */
uint64_t dmatd_log_seq(QTestState *qts, const char *id);
/* An unsigned integer member of a dict (a DMA log entry); it must exist. */
uint64_t dmatd_qdict_uint(QDict *d, const char *key);

/* MSI-X: the capability, one table entry, and MSI-X on. */
uint8_t dmatd_msix_cap(DmatdDev *d);
void dmatd_msix_vector(DmatdDev *d, unsigned v, uint64_t addr, uint32_t data,
                       bool masked);
void dmatd_msix_enable(DmatdDev *d);

/*
 * One queue entry at guest address @addr, given and returned in host byte
 * order (the ring holds it little-endian, as the contract says).
 */
void dmatd_sqe_write(DmatdDev *d, uint64_t addr,
                     const struct dma_testdev_sqe *e);
void dmatd_cqe_load(DmatdDev *d, uint64_t addr, struct dma_testdev_cqe *c);

/* The command queue, as a driver keeps it. */
typedef struct DmatdQueue {
    uint64_t sq;
    uint64_t cq;
    uint32_t size;
    uint32_t tail;              /* next SQ slot the driver fills */
    uint32_t cq_head;           /* next CQ slot the driver reads */
    bool phase;                 /* phase bit expected there */
} DmatdQueue;

/* Rings of @size entries at fresh addresses; the queue enabled. */
void dmatd_queue_init(DmatdDev *d, DmatdQueue *q, uint32_t size);
/* Fill the next SQ slot with @e (host byte order); no doorbell. */
void dmatd_queue_put(DmatdDev *d, DmatdQueue *q,
                     const struct dma_testdev_sqe *e);
/* Ring the SQ doorbell: everything put so far is posted. */
void dmatd_queue_ring(DmatdDev *d, DmatdQueue *q);
/* Put and ring. */
void dmatd_queue_submit(DmatdDev *d, DmatdQueue *q,
                        const struct dma_testdev_sqe *e);
/* CQ slot @slot, in host byte order (phase bit included). */
void dmatd_cqe_read(DmatdDev *d, DmatdQueue *q, uint32_t slot,
                    struct dma_testdev_cqe *c);
/* Is the next completion there?  Copies it out if so. */
bool dmatd_queue_peek(DmatdDev *d, DmatdQueue *q, struct dma_testdev_cqe *c);
/* Consume the next completion, which must be there (phase bit cleared). */
void dmatd_queue_pop(DmatdDev *d, DmatdQueue *q, struct dma_testdev_cqe *c);
/*
 * Wait for the next completion, letting @ns of virtual time pass between
 * looks, at most @max_steps times, and consume it.  With latency-ns=0
 * (@ns 0) the device needs no virtual time, only a turn of the main loop.
 */
void dmatd_queue_wait(DmatdDev *d, DmatdQueue *q, struct dma_testdev_cqe *c,
                      int64_t ns, int max_steps);

/* A segment list in fresh guest memory; returns its address. */
uint64_t dmatd_put_segs(DmatdDev *d, const struct dma_testdev_seg *segs,
                        unsigned n);

/* Does QEMU still answer QMP? */
bool dmatd_qemu_alive(QTestState *qts);

#endif /* LIBQOS_DMA_TESTDEV_H */
