/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dtlib: a user-space driver for dma-testdev (include/hw/misc/dma-testdev.h)
 * on top of dtlib/vfio.h.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#ifndef DTLIB_TESTDEV_H
#define DTLIB_TESTDEV_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>

#include <hw/misc/dma-testdev.h>

#include <dtlib/vfio.h>

/*
 * A segment list lives in its own small buffer, pinned (cdev) or locked
 * (legacy) like any other DMA buffer.  The device reads it as one
 * physically contiguous array, so only the part of it that is physically
 * contiguous from its start can be used: @cap.
 */
struct dmatd_seglist {
	struct dmatd_buf buf;
	struct dmatd_mapping map;
	uint64_t pa;		/* physical address of segment 0 */
	uint32_t cap;		/* segments usable */
	uint32_t count;		/* segments written */
};

struct dmatd_dev {
	struct dmatd_vfio vfio;
	volatile uint8_t *regs;	/* BAR0 */
	size_t regs_len;
	uint32_t caps;
	uint32_t addr_bits;
	uint32_t max_segs;
	uint64_t max_xfer;
	struct dmatd_seglist src;
	struct dmatd_seglist dst;
};

/* The result registers after a command. */
struct dmatd_result {
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
};

/* Longest segment we build: page aligned, below the 32-bit limit. */
#define DMATD_SEG_MAX_LEN	(1U << 31)

/*
 * Bind and open the device in @mode, map BAR0, check its identity, enable
 * DMA, read its limits and set up both segment lists.
 */
int dmatd_dev_open(struct dmatd_dev *dev, const char *bdf, enum dmatd_vfio_mode mode);
void dmatd_dev_close(struct dmatd_dev *dev);

/*
 * Legacy: read the segment lists' physical addresses again, after
 * something (a memory block going offline) may have moved their locked
 * pages.  Returns how many of the two moved, or -errno.  cdev: pinned
 * lists do not move, 0.
 */
int dmatd_dev_relocate_lists(struct dmatd_dev *dev);

uint32_t dmatd_readl(struct dmatd_dev *dev, uint32_t reg);
void dmatd_writel(struct dmatd_dev *dev, uint32_t reg, uint32_t val);
uint64_t dmatd_readq(struct dmatd_dev *dev, uint32_t reg);
void dmatd_writeq(struct dmatd_dev *dev, uint32_t reg, uint64_t val);

/* Fill @l with segments covering @runs in order. */
int dmatd_seglist_set(struct dmatd_dev *dev, struct dmatd_seglist *l,
		      const struct dmatd_run *runs, size_t nr);

/*
 * Run DMATD_OP_@op with the segment lists as they are set (NULL: count 0)
 * and wait for it to finish.  Returns 0 once the device says DONE (look at
 * @res for errors), -ETIMEDOUT if it never does.
 */
int dmatd_dev_cmd(struct dmatd_dev *dev, uint32_t op, uint32_t seed, uint64_t fill,
		  struct dmatd_seglist *src, struct dmatd_seglist *dst,
		  struct dmatd_result *res);

/*
 * The command queue: a submission and a completion ring in one pinned
 * buffer, each physically contiguous (checked, not assumed).  The device
 * writes a completion's status word last, with the phase bit it flips on
 * every pass through the ring.
 */
struct dmatd_queue {
	struct dmatd_buf buf;
	struct dmatd_mapping map;
	struct dma_testdev_sqe *sq;
	struct dma_testdev_cqe *cq;
	uint64_t sq_pa;
	uint64_t cq_pa;
	uint32_t size;		/* entries per ring */
	uint32_t sq_tail;	/* next slot we fill */
	uint32_t cq_head;	/* next completion we read */
	uint32_t busy;		/* posted, completion not taken yet */
	bool phase;		/* phase bit a new completion there has */
};

/* Set up @size (2 .. Q_MAX_SIZE) entry rings and enable the queue. */
int dmatd_queue_init(struct dmatd_dev *dev, struct dmatd_queue *q, uint32_t size);

/* Disable the queue and free its rings. */
void dmatd_queue_fini(struct dmatd_dev *dev, struct dmatd_queue *q);

/*
 * Write @e into the next submission slot, without ringing the doorbell;
 * -ENOSPC when size - 1 commands are posted whose completions were not
 * taken yet.
 */
int dmatd_queue_post(struct dmatd_queue *q, const struct dma_testdev_sqe *e);

/* Make the posted entries visible, then write SQ_TAIL. */
void dmatd_queue_ring(struct dmatd_dev *dev, struct dmatd_queue *q);

/* Is the next completion there?  Cheap: reads one word of guest RAM. */
static inline bool dmatd_queue_ready(const struct dmatd_queue *q)
{
	uint32_t status = __atomic_load_n(&q->cq[q->cq_head].status,
					  __ATOMIC_ACQUIRE);

	return !!(le32toh(status) & DMATD_CQE_PHASE) == q->phase;
}

/*
 * Take the next completion into @c (status without the phase bit):
 * -EAGAIN if it is not there yet.  With @doorbell, CQ_HEAD is written
 * (the slot goes back to the device); else dmatd_queue_release() does it.
 */
int dmatd_queue_pop(struct dmatd_dev *dev, struct dmatd_queue *q,
		    struct dma_testdev_cqe *c, bool doorbell);

/* Give every completion read so far back to the device (CQ_HEAD). */
void dmatd_queue_release(struct dmatd_dev *dev, struct dmatd_queue *q);

/* DMATD_REG_CHECKSUM of @len bytes of the pattern of @seed. */
uint64_t dmatd_pattern_csum(uint32_t seed, uint64_t len);

/* DMATD_REG_CHECKSUM of @len bytes at @p. */
uint64_t dmatd_buf_csum(const uint8_t *p, uint64_t len);

#endif /* DTLIB_TESTDEV_H */
