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
struct dt_seglist {
	struct dt_buf buf;
	struct dt_mapping map;
	uint64_t pa;		/* physical address of segment 0 */
	uint32_t cap;		/* segments usable */
	uint32_t count;		/* segments written */
};

struct dt_dev {
	struct dt_vfio vfio;
	volatile uint8_t *regs;	/* BAR0 */
	size_t regs_len;
	uint32_t caps;
	uint32_t addr_bits;
	uint32_t max_segs;
	uint64_t max_xfer;
	struct dt_seglist src;
	struct dt_seglist dst;
};

/* The result registers after a command. */
struct dt_result {
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
#define DT_SEG_MAX_LEN	(1U << 31)

/*
 * Bind and open the device in @mode, map BAR0, check its identity, enable
 * DMA, read its limits and set up both segment lists.
 */
int dt_dev_open(struct dt_dev *dev, const char *bdf, enum dt_vfio_mode mode);
void dt_dev_close(struct dt_dev *dev);

uint32_t dt_readl(struct dt_dev *dev, uint32_t reg);
void dt_writel(struct dt_dev *dev, uint32_t reg, uint32_t val);
uint64_t dt_readq(struct dt_dev *dev, uint32_t reg);
void dt_writeq(struct dt_dev *dev, uint32_t reg, uint64_t val);

/* Fill @l with segments covering @runs in order. */
int dt_seglist_set(struct dt_dev *dev, struct dt_seglist *l,
		   const struct dt_run *runs, size_t nr);

/*
 * Run DT_OP_@op with the segment lists as they are set (NULL: count 0)
 * and wait for it to finish.  Returns 0 once the device says DONE (look at
 * @res for errors), -ETIMEDOUT if it never does.
 */
int dt_dev_cmd(struct dt_dev *dev, uint32_t op, uint32_t seed, uint64_t fill,
	       struct dt_seglist *src, struct dt_seglist *dst,
	       struct dt_result *res);

const char *dt_op_name(uint32_t op);

/*
 * The command queue: a submission and a completion ring in one pinned
 * buffer, each physically contiguous (checked, not assumed).  The device
 * writes a completion's status word last, with the phase bit it flips on
 * every pass through the ring.
 */
struct dt_queue {
	struct dt_buf buf;
	struct dt_mapping map;
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
int dt_queue_init(struct dt_dev *dev, struct dt_queue *q, uint32_t size);

/* Disable the queue and free its rings. */
void dt_queue_fini(struct dt_dev *dev, struct dt_queue *q);

/*
 * Write @e into the next submission slot, without ringing the doorbell;
 * -ENOSPC when size - 1 commands are posted whose completions were not
 * taken yet.
 */
int dt_queue_post(struct dt_queue *q, const struct dma_testdev_sqe *e);

/* Make the posted entries visible, then write SQ_TAIL. */
void dt_queue_ring(struct dt_dev *dev, struct dt_queue *q);

/* Is the next completion there?  Cheap: reads one word of guest RAM. */
static inline bool dt_queue_ready(const struct dt_queue *q)
{
	uint32_t status = __atomic_load_n(&q->cq[q->cq_head].status,
					  __ATOMIC_ACQUIRE);

	return !!(le32toh(status) & DT_CQE_PHASE) == q->phase;
}

/*
 * Take the next completion into @c (status without the phase bit):
 * -EAGAIN if it is not there yet.  With @doorbell, CQ_HEAD is written
 * (the slot goes back to the device); else dt_queue_release() does it.
 */
int dt_queue_pop(struct dt_dev *dev, struct dt_queue *q,
		 struct dma_testdev_cqe *c, bool doorbell);

/* Give every completion read so far back to the device (CQ_HEAD). */
void dt_queue_release(struct dt_dev *dev, struct dt_queue *q);

/* DT_REG_CHECKSUM of @len bytes of the pattern of @seed. */
uint64_t dt_pattern_csum(uint32_t seed, uint64_t len);

/* DT_REG_CHECKSUM of @len bytes at @p. */
uint64_t dt_buf_csum(const uint8_t *p, uint64_t len);

#endif /* DTLIB_TESTDEV_H */
