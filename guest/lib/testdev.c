// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dtlib: a user-space driver for dma-testdev.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dtlib/log.h>
#include <dtlib/testdev.h>

/* Commands run for at most this long (TCG, 1 GiB transfers). */
#define DMATD_CMD_TIMEOUT_S	300

/*
 * BAR0 takes aligned 4-byte accesses; 64-bit registers are written as two
 * halves, low first, which the contract allows.
 */
uint32_t dmatd_readl(struct dmatd_dev *dev, uint32_t reg)
{
	return le32toh(*(volatile uint32_t *)(dev->regs + reg));
}

void dmatd_writel(struct dmatd_dev *dev, uint32_t reg, uint32_t val)
{
	*(volatile uint32_t *)(dev->regs + reg) = htole32(val);
}

uint64_t dmatd_readq(struct dmatd_dev *dev, uint32_t reg)
{
	uint64_t lo = dmatd_readl(dev, reg);

	return lo | (uint64_t)dmatd_readl(dev, reg + 4) << 32;
}

void dmatd_writeq(struct dmatd_dev *dev, uint32_t reg, uint64_t val)
{
	dmatd_writel(dev, reg, (uint32_t)val);
	dmatd_writel(dev, reg + 4, val >> 32);
}

/*
 * A segment list buffer: 2 MiB of THP so that a full list (65536
 * segments, 1 MiB) is physically contiguous; what is contiguous is
 * measured, not assumed, and limits the list.
 */
/* Where the list is now, and how much of it is contiguous from there. */
static int seglist_locate(struct dmatd_dev *dev, struct dmatd_seglist *l)
{
	size_t want = (size_t)dev->max_segs * DMATD_SEG_SIZE;
	struct dmatd_run *runs = NULL;
	size_t nr = 0;
	int ret;

	ret = dmatd_dma_runs(&dev->vfio, &l->map, 0, want, &runs, &nr);
	if (ret)
		return ret;
	l->pa = runs[0].pa;
	l->cap = runs[0].len / DMATD_SEG_SIZE;
	if (l->cap > dev->max_segs)
		l->cap = dev->max_segs;
	if (nr > 1)
		dmatd_log("segment list at pa 0x%" PRIx64 ": only %u of %u segments are physically contiguous (no THP?)",
			  l->pa, l->cap, dev->max_segs);
	free(runs);
	return 0;
}

static int seglist_init(struct dmatd_dev *dev, struct dmatd_seglist *l)
{
	size_t want = (size_t)dev->max_segs * DMATD_SEG_SIZE;
	int ret;

	memset(l, 0, sizeof(*l));
	l->buf.memfd = -1;
	ret = dmatd_buf_alloc(&l->buf, DMATD_BACKING_THP, want, 0);
	if (ret)
		return ret;
	ret = dmatd_dma_map(&dev->vfio, &l->buf, &l->map, NULL);
	if (ret)
		return ret;
	return seglist_locate(dev, l);
}

int dmatd_dev_relocate_lists(struct dmatd_dev *dev)
{
	uint64_t src = dev->src.pa, dst = dev->dst.pa;
	int ret;

	if (dev->vfio.mode != DMATD_VFIO_LEGACY)
		return 0;
	ret = seglist_locate(dev, &dev->src);
	if (!ret)
		ret = seglist_locate(dev, &dev->dst);
	if (ret)
		return ret;
	return (src != dev->src.pa) + (dst != dev->dst.pa);
}

static void seglist_fini(struct dmatd_dev *dev, struct dmatd_seglist *l)
{
	if (l->map.mapped)
		dmatd_dma_unmap(&dev->vfio, &l->map);
	dmatd_buf_free(&l->buf);
}

int dmatd_dev_open(struct dmatd_dev *dev, const char *bdf, enum dmatd_vfio_mode mode)
{
	void *regs;
	uint32_t id, version;
	int ret;

	memset(dev, 0, sizeof(*dev));
	dev->src.buf.memfd = -1;
	dev->dst.buf.memfd = -1;
	ret = dmatd_vfio_open(&dev->vfio, bdf, mode);
	if (ret)
		return ret;
	ret = dmatd_vfio_map_bar(&dev->vfio, 0, &regs, &dev->regs_len);
	if (ret)
		goto fail;
	dev->regs = regs;
	if (dev->regs_len < DMA_TESTDEV_BAR0_SIZE) {
		ret = dmatd_fail(ENODEV, "%s: BAR0 is 0x%zx bytes, want 0x%x",
				 bdf, dev->regs_len, DMA_TESTDEV_BAR0_SIZE);
		goto fail;
	}
	id = dmatd_readl(dev, DMATD_REG_ID);
	version = dmatd_readl(dev, DMATD_REG_VERSION);
	if (id != DMA_TESTDEV_ID_VALUE ||
	    version >> 16 != DMA_TESTDEV_VERSION_MAJOR) {
		ret = dmatd_fail(ENODEV, "%s: ID 0x%08x version 0x%08x: not a dma-testdev %u.x",
				 bdf, id, version, DMA_TESTDEV_VERSION_MAJOR);
		goto fail;
	}
	dev->caps = dmatd_readl(dev, DMATD_REG_CAPS);
	dev->addr_bits = dmatd_readl(dev, DMATD_REG_ADDR_BITS);
	dev->max_segs = dmatd_readl(dev, DMATD_REG_MAX_SEGS);
	dev->max_xfer = dmatd_readq(dev, DMATD_REG_MAX_XFER_LO);
	if (!dev->max_segs) {
		ret = dmatd_fail(ENODEV, "%s: MAX_SEGS is 0", bdf);
		goto fail;
	}

	ret = dmatd_vfio_enable_dma(&dev->vfio);
	if (ret)
		goto fail;
	ret = seglist_init(dev, &dev->src);
	if (ret)
		goto fail;
	ret = seglist_init(dev, &dev->dst);
	if (ret)
		goto fail;
	return 0;
fail:
	dmatd_dev_close(dev);
	return ret;
}

void dmatd_dev_close(struct dmatd_dev *dev)
{
	seglist_fini(dev, &dev->src);
	seglist_fini(dev, &dev->dst);
	dmatd_vfio_unmap_bar((void *)dev->regs, dev->regs_len);
	dev->regs = NULL;
	dmatd_vfio_close(&dev->vfio);
}

int dmatd_seglist_set(struct dmatd_dev *dev, struct dmatd_seglist *l,
		      const struct dmatd_run *runs, size_t nr)
{
	struct dma_testdev_seg *seg = (struct dma_testdev_seg *)l->buf.va;
	uint32_t n = 0;
	size_t i;

	for (i = 0; i < nr; i++) {
		uint64_t pa = runs[i].pa, left = runs[i].len;

		if (pa + left - 1 < pa || (dev->addr_bits < 64 &&
		    (pa + left - 1) >> dev->addr_bits))
			return dmatd_fail(ERANGE, "run pa 0x%" PRIx64 " len 0x%" PRIx64 " is beyond the device's %u address bits",
					  pa, left, dev->addr_bits);
		while (left) {
			uint64_t len = left < DMATD_SEG_MAX_LEN ? left :
				       DMATD_SEG_MAX_LEN;

			if (n == l->cap)
				return dmatd_fail(E2BIG, "segment list full at %u segments (device max %u): run %zu of %zu",
						  l->cap, dev->max_segs, i, nr);
			seg[n].addr = htole64(pa);
			seg[n].len = htole32((uint32_t)len);
			seg[n].flags = 0;
			n++;
			pa += len;
			left -= len;
		}
	}
	l->count = n;
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int dmatd_dev_cmd(struct dmatd_dev *dev, uint32_t op, uint32_t seed, uint64_t fill,
		  struct dmatd_seglist *src, struct dmatd_seglist *dst,
		  struct dmatd_result *res)
{
	double deadline;
	uint32_t status;

	dmatd_writel(dev, DMATD_REG_SEED, seed);
	dmatd_writeq(dev, DMATD_REG_FILL_LO, fill);
	dmatd_writeq(dev, DMATD_REG_SRC_LIST_LO, src ? src->pa : 0);
	dmatd_writel(dev, DMATD_REG_SRC_COUNT, src ? src->count : 0);
	dmatd_writeq(dev, DMATD_REG_DST_LIST_LO, dst ? dst->pa : 0);
	dmatd_writel(dev, DMATD_REG_DST_COUNT, dst ? dst->count : 0);
	/* The lists must be in memory before the device is told to go. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	dmatd_writel(dev, DMATD_REG_CMD, op);

	deadline = now() + DMATD_CMD_TIMEOUT_S;
	while ((status = dmatd_readl(dev, DMATD_REG_STATUS)) & DMATD_STATUS_BUSY) {
		if (now() > deadline)
			return dmatd_fail(ETIMEDOUT, "%s: command %s still busy after %d s (status 0x%x)",
					  dev->vfio.bdf, dmatd_op_name(op),
					  DMATD_CMD_TIMEOUT_S, status);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	memset(res, 0, sizeof(*res));
	res->status = status;
	res->error = dmatd_readl(dev, DMATD_REG_ERROR);
	res->err_seg = dmatd_readl(dev, DMATD_REG_ERR_SEG);
	res->err_list = dmatd_readl(dev, DMATD_REG_ERR_LIST);
	res->err_addr = dmatd_readq(dev, DMATD_REG_ERR_ADDR_LO);
	res->bytes_done = dmatd_readq(dev, DMATD_REG_BYTES_DONE_LO);
	res->mismatch_seg = dmatd_readl(dev, DMATD_REG_MISMATCH_SEG);
	res->mismatch_count = dmatd_readl(dev, DMATD_REG_MISMATCH_COUNT);
	res->mismatch_off = dmatd_readq(dev, DMATD_REG_MISMATCH_OFF_LO);
	res->mismatch_exp = dmatd_readq(dev, DMATD_REG_MISMATCH_EXP_LO);
	res->mismatch_got = dmatd_readq(dev, DMATD_REG_MISMATCH_GOT_LO);
	res->checksum = dmatd_readq(dev, DMATD_REG_CHECKSUM_LO);
	res->cmd_seq = dmatd_readq(dev, DMATD_REG_CMD_SEQ_LO);
	if (!(status & DMATD_STATUS_DONE))
		return dmatd_fail(EIO, "%s: command %s finished without DONE (status 0x%x)",
				  dev->vfio.bdf, dmatd_op_name(op), status);
	return 0;
}

uint64_t dmatd_pattern_csum(uint32_t seed, uint64_t len)
{
	uint64_t csum = DMATD_CSUM_INIT, off;

	for (off = 0; off + 8 <= len; off += 8)
		csum += dmatd_csum_term(dmatd_pattern_word(seed, off), off / 8);
	if (off < len) {
		uint64_t mask = (1ULL << ((len - off) * 8)) - 1;

		csum += dmatd_csum_term(dmatd_pattern_word(seed, off) & mask,
					off / 8);
	}
	return csum;
}

uint64_t dmatd_buf_csum(const uint8_t *p, uint64_t len)
{
	uint64_t csum = DMATD_CSUM_INIT, off, w;

	for (off = 0; off + 8 <= len; off += 8) {
		memcpy(&w, p + off, 8);
		csum += dmatd_csum_term(le64toh(w), off / 8);
	}
	if (off < len) {
		w = 0;
		memcpy(&w, p + off, len - off);
		csum += dmatd_csum_term(le64toh(w), off / 8);
	}
	return csum;
}

/*
 * Command queue.  Rings of up to a page each come from 4 KiB pages, larger
 * ones from a THP; either way each ring must be physically contiguous,
 * which GET_PA (or pagemap) says.
 */
static int ring_pa(struct dmatd_dev *dev, struct dmatd_queue *q, uint64_t off,
		   uint64_t len, uint64_t *pa)
{
	struct dmatd_run *runs = NULL;
	size_t nr = 0;
	int ret;

	ret = dmatd_dma_runs(&dev->vfio, &q->map, off, len, &runs, &nr);
	if (ret)
		return ret;
	*pa = runs[0].pa;
	if (runs[0].len < len)
		ret = dmatd_fail(EFAULT, "queue ring at offset 0x%" PRIx64 ": only 0x%" PRIx64 " of 0x%" PRIx64 " bytes are physically contiguous",
				 off, runs[0].len, len);
	free(runs);
	return ret;
}

int dmatd_queue_init(struct dmatd_dev *dev, struct dmatd_queue *q, uint32_t size)
{
	uint64_t ring = (uint64_t)size * DMATD_SQE_SIZE;
	uint64_t cq_off = DMATD_ALIGN(ring, DMATD_PAGE_SIZE);
	enum dmatd_backing backing = DMATD_BACKING_4K;
	uint32_t max = dmatd_readl(dev, DMATD_REG_Q_MAX_SIZE);
	int ret;

	memset(q, 0, sizeof(*q));
	q->buf.memfd = -1;
	if (!(dev->caps & DMATD_CAP_QUEUE))
		return dmatd_fail(EOPNOTSUPP, "%s: no command queue (CAPS 0x%x)",
				  dev->vfio.bdf, dev->caps);
	if (size < 2 || size > max)
		return dmatd_fail(EINVAL, "queue size %u: the device takes 2 .. %u",
				  size, max);
	if (ring > DMATD_PAGE_SIZE)
		backing = DMATD_BACKING_THP;
	ret = dmatd_buf_alloc(&q->buf, backing, 2 * cq_off, 0);
	if (ret)
		return ret;
	ret = dmatd_dma_map(&dev->vfio, &q->buf, &q->map, NULL);
	if (ret)
		goto fail;
	ret = ring_pa(dev, q, 0, ring, &q->sq_pa);
	if (!ret)
		ret = ring_pa(dev, q, cq_off, ring, &q->cq_pa);
	if (ret)
		goto fail;
	/* A zeroed CQ: no entry has the first pass's phase bit (1) yet. */
	memset(q->buf.va, 0, 2 * cq_off);
	q->sq = (struct dma_testdev_sqe *)q->buf.va;
	q->cq = (struct dma_testdev_cqe *)(q->buf.va + cq_off);
	q->size = size;
	q->phase = true;

	dmatd_writel(dev, DMATD_REG_Q_CTRL, 0);
	dmatd_writeq(dev, DMATD_REG_SQ_BASE_LO, q->sq_pa);
	dmatd_writeq(dev, DMATD_REG_CQ_BASE_LO, q->cq_pa);
	dmatd_writel(dev, DMATD_REG_Q_SIZE, size);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	dmatd_writel(dev, DMATD_REG_Q_CTRL, DMATD_QCTRL_ENABLE);
	if (dmatd_readl(dev, DMATD_REG_Q_STATUS) != DMATD_QSTATUS_ENABLED) {
		uint32_t err = dmatd_readl(dev, DMATD_REG_Q_ERROR);

		ret = dmatd_fail(EIO, "%s: queue did not start: Q_STATUS 0x%x Q_ERROR %s, sq 0x%" PRIx64 " cq 0x%" PRIx64 " size %u",
				 dev->vfio.bdf, dmatd_readl(dev, DMATD_REG_Q_STATUS),
				 dmatd_qerror_name(err), q->sq_pa, q->cq_pa, size);
		dmatd_writel(dev, DMATD_REG_Q_CTRL, 0);
		goto fail;
	}
	return 0;
fail:
	dmatd_queue_fini(dev, q);
	return ret;
}

void dmatd_queue_fini(struct dmatd_dev *dev, struct dmatd_queue *q)
{
	if (q->sq)
		dmatd_writel(dev, DMATD_REG_Q_CTRL, 0);
	q->sq = NULL;
	q->cq = NULL;
	if (q->map.mapped)
		dmatd_dma_unmap(&dev->vfio, &q->map);
	dmatd_buf_free(&q->buf);
}

int dmatd_queue_post(struct dmatd_queue *q, const struct dma_testdev_sqe *e)
{
	struct dma_testdev_sqe *s = &q->sq[q->sq_tail];

	/*
	 * At most size - 1 commands without their completion taken: the SQ
	 * slot of each is free again by then (the device fetched it), and
	 * the CQ has room for all of them.
	 */
	if (q->busy >= q->size - 1)
		return -ENOSPC;
	s->op = htole32(e->op);
	s->flags = htole32(e->flags);
	s->seed = htole32(e->seed);
	s->vector = htole32(e->vector);
	s->src_list = htole64(e->src_list);
	s->src_count = htole32(e->src_count);
	s->rsvd0 = 0;
	s->dst_list = htole64(e->dst_list);
	s->dst_count = htole32(e->dst_count);
	s->rsvd1 = 0;
	s->fill = htole64(e->fill);
	s->tag = htole64(e->tag);
	q->sq_tail = (q->sq_tail + 1) % q->size;
	q->busy++;
	return 0;
}

void dmatd_queue_ring(struct dmatd_dev *dev, struct dmatd_queue *q)
{
	/* The entries must be in memory before the device is told. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	dmatd_writel(dev, DMATD_REG_SQ_TAIL, q->sq_tail);
}

int dmatd_queue_pop(struct dmatd_dev *dev, struct dmatd_queue *q,
		    struct dma_testdev_cqe *c, bool doorbell)
{
	const struct dma_testdev_cqe *e = &q->cq[q->cq_head];

	/* The status word first (an acquire), then the rest of the entry. */
	if (!dmatd_queue_ready(q))
		return -EAGAIN;
	c->tag = le64toh(e->tag);
	c->cmd_seq = le64toh(e->cmd_seq);
	c->bytes_done = le64toh(e->bytes_done);
	c->checksum = le64toh(e->checksum);
	c->err_addr = le64toh(e->err_addr);
	c->mismatch_off = le64toh(e->mismatch_off);
	c->error = le32toh(e->error);
	c->err_seg = le32toh(e->err_seg);
	c->mismatch_count = le32toh(e->mismatch_count);
	c->status = le32toh(e->status) & ~DMATD_CQE_PHASE;
	q->cq_head = (q->cq_head + 1) % q->size;
	if (!q->cq_head)
		q->phase = !q->phase;
	q->busy--;
	if (doorbell)
		dmatd_queue_release(dev, q);
	return 0;
}

void dmatd_queue_release(struct dmatd_dev *dev, struct dmatd_queue *q)
{
	dmatd_writel(dev, DMATD_REG_CQ_HEAD, q->cq_head);
}
