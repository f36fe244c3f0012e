// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dt-bench: what guest user space sees of dma-testdev's speed.
 *
 *  --rtt    round trip of one small queue command (a 64-byte
 *           WRITE_PATTERN), SQ_TAIL doorbell to completion, seen by
 *           polling the completion's phase bit and by waiting for its
 *           MSI-X interrupt on a VFIO eventfd; against the round trip of a
 *           bare MMIO read of DMATD_REG_ID.  Median and 99th percentile.
 *  --pin    IOMMU_IOAS_MAP plus the IOMMU_IOAS_NOIOMMU_GET_PA loop over
 *           buffers of 4 KiB pages, against reading /proc/self/pagemap
 *           for the same pages, mlock()ed; pages per second.
 *  --whole  allocate, pin, translate, WRITE_PATTERN and VERIFY_PATTERN a
 *           buffer (1 GiB), wall time of each step and of the whole.
 *
 * With none of them, all three run.  Every result is one line
 * "bench: what=NAME key=value ..." for scripts/bench.sh, which boots this
 * in the developer VM (scripts/vm.sh --run "dt-bench").  Short intervals
 * are timed with the TSC, calibrated against CLOCK_MONOTONIC: a guest
 * whose clocksource is the HPET (TCG marks the TSC unstable) pays an MMIO
 * read for every clock_gettime(), which would swamp what is measured.
 *
 * Exit status 0 when every measurement ran and every command succeeded,
 * 2 otherwise.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include <dtlib/log.h>
#include <dtlib/parse.h>
#include <dtlib/testdev.h>
#include <dtlib/tool.h>

#define SEED		0xbe4c0001u
/* The small command of the round trip: one 64-byte segment. */
#define SMALL_LEN	64
/* A command that has not completed after this long has failed. */
#define WAIT_NS		(10ULL * 1000 * 1000 * 1000)

struct opts {
	const char *bdf;
	bool rtt;
	bool pin;
	bool whole;
	unsigned int n;		/* commands (and MMIO reads) per --rtt figure */
	unsigned int qsize;
	uint64_t pin_max;	/* largest --pin size */
	uint64_t whole_len;
	enum dmatd_backing backing;	/* of the --whole buffer */
};

static struct opts opt = {
	.n = 5000,
	.qsize = 64,
	.pin_max = 1ULL << 30,
	.whole_len = 1ULL << 30,
	.backing = DMATD_BACKING_4K,
};

static struct dmatd_dev dev;
static double tsc_per_ns;
static int bench_cpu;		/* the CPU main() pinned us to */

/* --- Output ------------------------------------------------------------- */

static void __printf(1, 2) out(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("bench: %s\n", line);
}

static void report_fatal(const char *msg)
{
	out("what=error msg=%s", msg);
}

/* --- Time --------------------------------------------------------------- */

static inline uint64_t tsc(void)
{
	uint64_t t;

	_mm_lfence();
	t = __rdtsc();
	_mm_lfence();
	return t;
}

static uint64_t clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static double tsc_ns(uint64_t ticks)
{
	return ticks / tsc_per_ns;
}

static double since_s(uint64_t t0)
{
	return tsc_ns(tsc() - t0) / 1e9;
}

/* TSC ticks per nanosecond, over a quarter of a second of CLOCK_MONOTONIC. */
static void calibrate(void)
{
	struct timespec quarter = { .tv_nsec = 250 * 1000 * 1000 };
	uint64_t c0, c1, t0, t1;

	t0 = clock_ns();
	c0 = tsc();
	nanosleep(&quarter, NULL);
	t1 = clock_ns();
	c1 = tsc();
	if (t1 <= t0 || c1 <= c0)
		dmatd_fatal("TSC calibration: clock went from %" PRIu64 " to %" PRIu64 " ns, TSC from %" PRIu64 " to %" PRIu64,
		      t0, t1, c0, c1);
	tsc_per_ns = (double)(c1 - c0) / (t1 - t0);
}

/* --- Statistics ---------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct stats {
	double median;	/* ns */
	double p99;
	double min;
	double max;
};

/* Sorts @s (TSC ticks). */
static struct stats stats_of(uint64_t *s, size_t n)
{
	struct stats st;
	size_t i99 = (n * 99 + 99) / 100 - 1;

	qsort(s, n, sizeof(*s), cmp_u64);
	st.median = tsc_ns(n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2);
	st.p99 = tsc_ns(s[i99 < n ? i99 : n - 1]);
	st.min = tsc_ns(s[0]);
	st.max = tsc_ns(s[n - 1]);
	return st;
}

static void out_stats(const char *what, const char *extra, uint64_t *s,
		      size_t n)
{
	struct stats st = stats_of(s, n);

	out("what=%s n=%zu median_ns=%.0f p99_ns=%.0f min_ns=%.0f max_ns=%.0f%s",
	    what, n, st.median, st.p99, st.min, st.max, extra);
}

/* --- Round trips --------------------------------------------------------- */

static void rtt_mmio(uint64_t *s, unsigned int n)
{
	uint32_t id = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint64_t c0 = tsc();

		id |= dmatd_readl(&dev, DMATD_REG_ID);
		s[i] = tsc() - c0;
	}
	if (id != DMA_TESTDEV_ID_VALUE)
		dmatd_fatal("DMATD_REG_ID read 0x%08x", id);
}

/* Two back-to-back TSC reads: what every sample includes on top. */
static void rtt_tsc(uint64_t *s, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint64_t c0 = tsc();

		s[i] = tsc() - c0;
	}
}

enum wait_how {
	WAIT_POLL,	/* spin on the phase bit */
	WAIT_MSIX,	/* block in read() on the vector's eventfd */
};

/* A 64-byte pinned target and the one-segment list that points at it. */
struct small {
	struct dmatd_buf buf;
	struct dmatd_mapping map;
	uint64_t pa;
};

static void small_init(struct small *sm)
{
	struct dmatd_run *runs = NULL, run;
	size_t nr = 0;

	DMATD_CHECK_CALL(dmatd_buf_alloc(&sm->buf, DMATD_BACKING_4K, DMATD_PAGE_SIZE, 0));
	DMATD_CHECK_CALL(dmatd_dma_map(&dev.vfio, &sm->buf, &sm->map, NULL));
	DMATD_CHECK_CALL(dmatd_dma_runs(&dev.vfio, &sm->map, 0, DMATD_PAGE_SIZE, &runs,
				  &nr));
	sm->pa = runs[0].pa;
	free(runs);
	run = (struct dmatd_run){ .iova = sm->map.iova, .pa = sm->pa,
			       .len = SMALL_LEN };
	DMATD_CHECK_CALL(dmatd_seglist_set(&dev, &dev.dst, &run, 1));
}

static void small_fini(struct small *sm)
{
	dmatd_dma_unmap(&dev.vfio, &sm->map);
	dmatd_buf_free(&sm->buf);
}

/*
 * One small command through the queue: post, ring, wait @how, take the
 * completion.  Returns the TSC ticks from the doorbell to the moment the
 * completion was seen; the CQ_HEAD write that follows is not included.
 */
static uint64_t queue_cmd(struct dmatd_queue *q, int efd, enum wait_how how,
			  uint64_t tag)
{
	struct dma_testdev_sqe e = {
		.op = DMATD_OP_WRITE_PATTERN,
		.seed = SEED,
		.dst_list = dev.dst.pa,
		.dst_count = dev.dst.count,
		.tag = tag,
	};
	uint64_t deadline, c0, c1, cnt;
	struct dma_testdev_cqe c;

	if (how == WAIT_MSIX)
		e.flags = DMATD_SQE_F_INTR;
	DMATD_CHECK_CALL(dmatd_queue_post(q, &e));

	c0 = tsc();
	dmatd_queue_ring(&dev, q);
	if (how == WAIT_POLL) {
		deadline = c0 + WAIT_NS * tsc_per_ns;
		/*
		 * No PAUSE in the loop: under TCG it leaves the translated
		 * code for the vCPU loop on every iteration (helper_pause).
		 */
		while (!dmatd_queue_ready(q)) {
			if (tsc() > deadline)
				dmatd_fatal("queue command %" PRIu64 ": no completion after %llu s (Q_STATUS 0x%x Q_ERROR %s)",
				      tag, WAIT_NS / 1000000000ULL,
				      dmatd_readl(&dev, DMATD_REG_Q_STATUS),
				      dmatd_qerror_name(dmatd_readl(&dev,
								    DMATD_REG_Q_ERROR)));
		}
	} else if (read(efd, &cnt, sizeof(cnt)) != sizeof(cnt)) {
		dmatd_fatal("read MSI-X eventfd: %s (errno %d)", strerror(errno),
		      errno);
	}
	c1 = tsc();

	/* The completion is written before the interrupt is sent. */
	if (dmatd_queue_pop(&dev, q, &c, true))
		dmatd_fatal("queue command %" PRIu64 ": interrupt before completion (phase %d at cq[%u])",
		      tag, q->phase, q->cq_head);
	if (c.tag != tag || c.status != DMATD_STATUS_DONE || c.error ||
	    c.bytes_done != SMALL_LEN)
		dmatd_fatal("queue command %" PRIu64 ": completion tag %" PRIu64 " status 0x%x error %s bytes %" PRIu64,
		      tag, c.tag, c.status,
		      dmatd_error_name(DMATD_CQE_ERROR(c.error)), c.bytes_done);
	return c1 - c0;
}

static void rtt_queue(struct dmatd_queue *q, int efd, enum wait_how how,
		      uint64_t *s, unsigned int n, uint64_t *tag)
{
	unsigned int i;

	/* Untimed warm-up: code paths, TLBs, host threads. */
	for (i = 0; i < 100; i++)
		queue_cmd(q, efd, how, (*tag)++);
	for (i = 0; i < n; i++)
		s[i] = queue_cmd(q, efd, how, (*tag)++);
}

/*
 * Steer MSI-X vector 0's interrupt to @cpu, as a latency benchmark sets it
 * up: the device completes inside the doorbell write, and its interrupt
 * is then taken on the CPU that waits.  On the other CPU the round trip
 * also pays for waking that vCPU from HLT and then this one, tens of us
 * each on a host that is itself a VM.  Returns the Linux IRQ, or -errno.
 */
static int steer_msix_irq(int cpu)
{
	char want[64], path[64], *line = NULL;
	int irq = -ENOENT, err;
	size_t cap = 0;
	FILE *f;

	snprintf(want, sizeof(want), "vfio-msix[0](%s)", dev.vfio.bdf);
	f = fopen("/proc/interrupts", "r");
	if (!f)
		return -errno;
	/* Whole lines: one has a column per CPU before the name. */
	while (getline(&line, &cap, f) > 0) {
		if (strstr(line, want)) {
			irq = atoi(line);
			break;
		}
	}
	free(line);
	fclose(f);
	if (irq < 0)
		return irq;
	snprintf(path, sizeof(path), "/proc/irq/%d/smp_affinity_list", irq);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	err = fprintf(f, "%d\n", cpu) < 0 ? -EIO : 0;
	if (fclose(f) && !err)
		err = -errno;
	return err ? err : irq;
}

static void bench_rtt(void)
{
	uint64_t *s = calloc(opt.n, sizeof(*s));
	uint64_t tag = 1;
	struct dmatd_queue q;
	struct small sm;
	char extra[128];
	uint32_t info;
	int efd = -1, irq;

	if (!s)
		dmatd_fatal("calloc %u samples", opt.n);

	rtt_tsc(s, opt.n);
	out_stats("tsc-pair", "", s, opt.n);
	rtt_mmio(s, opt.n < 1000 ? opt.n : 1000);
	rtt_mmio(s, opt.n);
	out_stats("mmio-read", " reg=ID", s, opt.n);

	small_init(&sm);
	DMATD_CHECK_CALL(dmatd_queue_init(&dev, &q, opt.qsize));
	snprintf(extra, sizeof(extra),
		 " op=%s len=%d qsize=%u latency-ns=0 step-size=0",
		 dmatd_op_name(DMATD_OP_WRITE_PATTERN), SMALL_LEN, opt.qsize);
	rtt_queue(&q, -1, WAIT_POLL, s, opt.n, &tag);
	out_stats("queue-poll", extra, s, opt.n);

	DMATD_CHECK_CALL(dmatd_vfio_msix_enable(&dev.vfio, 1, &efd));
	irq = steer_msix_irq(bench_cpu);
	if (irq < 0)
		dmatd_fatal("MSI-X vector 0 of %s to CPU %d (/proc/interrupts, /proc/irq/N/smp_affinity_list): %s (errno %d)",
		      dev.vfio.bdf, bench_cpu, strerror(-irq), -irq);
	snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
		 " irq=%d irq-cpu=%d", irq, bench_cpu);
	info = dmatd_readl(&dev, DMATD_REG_INTR_INFO);
	if (DMATD_INTR_INFO_MODE(info) != DMATD_INTR_MODE_MSIX)
		dmatd_fatal("INTR_INFO 0x%08x: MSI-X is not on after VFIO_DEVICE_SET_IRQS",
		      info);
	dmatd_writel(&dev, DMATD_REG_INTR_ENABLE, DMATD_INTR_QUEUE_CMPL);
	rtt_queue(&q, efd, WAIT_MSIX, s, opt.n, &tag);
	out_stats("queue-msix", extra, s, opt.n);
	dmatd_writel(&dev, DMATD_REG_INTR_ENABLE, 0);
	dmatd_writel(&dev, DMATD_REG_INTR_STATUS, DMATD_INTR_STATUS_MASK);
	DMATD_CHECK_CALL(dmatd_vfio_msix_disable(&dev.vfio, 1, &efd));

	dmatd_queue_fini(&dev, &q);
	small_fini(&sm);
	free(s);
}

/* --- Pin and translate --------------------------------------------------- */

static double median_of(uint64_t *s, size_t n)
{
	return stats_of(s, n).median;
}

static void bench_pin_one(uint64_t len, unsigned int reps)
{
	uint64_t *t_map = calloc(reps, sizeof(uint64_t));
	uint64_t *t_pa = calloc(reps, sizeof(uint64_t));
	uint64_t *t_pm = calloc(reps, sizeof(uint64_t));
	size_t npages = len / DMATD_PAGE_SIZE, nr = 0, i, agree = 0;
	uint64_t *pa = calloc(npages, sizeof(uint64_t));
	struct dmatd_run *runs = NULL;
	struct dmatd_mapping m;
	double map, getpa, pm;
	struct dmatd_buf b;
	uint64_t c0;
	unsigned int r;
	int fd;

	if (!t_map || !t_pa || !t_pm || !pa)
		dmatd_fatal("calloc for %zu pages", npages);
	/* Every page has its frame before anything is timed. */
	DMATD_CHECK_CALL(dmatd_buf_alloc(&b, DMATD_BACKING_4K, len, 0));

	for (r = 0; r < reps; r++) {
		free(runs);
		runs = NULL;
		c0 = tsc();
		DMATD_CHECK_CALL(dmatd_dma_map(&dev.vfio, &b, &m, NULL));
		t_map[r] = tsc() - c0;
		c0 = tsc();
		DMATD_CHECK_CALL(dmatd_dma_runs(&dev.vfio, &m, 0, len, &runs, &nr));
		t_pa[r] = tsc() - c0;
		if (r + 1 < reps)
			DMATD_CHECK_CALL(dmatd_dma_unmap(&dev.vfio, &m));
	}

	/* The legacy way: mlock(), then pagemap; the pin is still held. */
	c0 = tsc();
	DMATD_CHECK_CALL(dmatd_buf_lock(&b));
	c0 = tsc() - c0;
	fd = dmatd_pagemap_open();
	DMATD_CHECK_CALL(fd);
	for (r = 0; r < reps; r++) {
		uint64_t t = tsc();

		DMATD_CHECK_CALL(dmatd_pagemap_pa(fd, b.map, npages, pa));
		t_pm[r] = tsc() - t;
	}
	close(fd);

	/* Both ways must name the same frames. */
	for (i = 0; i < nr; i++) {
		uint64_t off;

		for (off = 0; off < runs[i].len; off += DMATD_PAGE_SIZE) {
			size_t pg = (runs[i].iova - m.iova + off) /
				    DMATD_PAGE_SIZE;

			agree += pg < npages && pa[pg] == runs[i].pa + off;
		}
	}
	DMATD_CHECK_CALL(dmatd_dma_unmap(&dev.vfio, &m));

	map = median_of(t_map, reps);
	getpa = median_of(t_pa, reps);
	pm = median_of(t_pm, reps);
	out("what=pin len=%" PRIu64 " pages=%zu reps=%u runs=%zu map_ns=%.0f getpa_ns=%.0f pin_ns=%.0f pin_pps=%.0f pagemap_ns=%.0f pagemap_pps=%.0f mlock_ns=%.0f agree=%zu",
	    len, npages, reps, nr, map, getpa, map + getpa,
	    npages / ((map + getpa) / 1e9), pm, npages / (pm / 1e9),
	    tsc_ns(c0), agree);
	if (agree != npages)
		dmatd_fatal("pin %" PRIu64 ": GET_PA and pagemap agree on %zu of %zu pages",
		      len, agree, npages);

	free(runs);
	dmatd_buf_free(&b);
	free(pa);
	free(t_map);
	free(t_pa);
	free(t_pm);
}

static void bench_pin(void)
{
	static const struct {
		uint64_t len;
		unsigned int reps;
	} sizes[] = {
		{ 4096, 200 },
		{ 2ULL << 20, 20 },
		{ 64ULL << 20, 5 },
		{ 1ULL << 30, 3 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes) && sizes[i].len <= opt.pin_max; i++)
		bench_pin_one(sizes[i].len, sizes[i].reps);
}

/* --- Pin, translate, DMA and verify, end to end -------------------------- */

/*
 * The runs cut into pieces the device takes (segments of at most
 * DMATD_SEG_MAX_LEN, commands of at most max-transfer bytes and as many
 * segments as a list holds), and the commands that cover them.
 */
struct cmd_plan {
	size_t first;	/* index of its first piece */
	size_t n;	/* pieces */
	uint64_t off;	/* buffer offset of its first byte */
	uint64_t len;
};

static size_t plan_cmds(const struct dmatd_run *runs, size_t nr,
			struct dmatd_run **pieces, struct cmd_plan **cmds)
{
	uint64_t max = dev.max_xfer < DMATD_SEG_MAX_LEN ? dev.max_xfer :
		       DMATD_SEG_MAX_LEN;
	uint32_t cap = dev.src.cap < dev.dst.cap ? dev.src.cap : dev.dst.cap;
	size_t np = 0, nc = 0, i, cap_p = nr, cap_c = 1;
	struct dmatd_run *p = malloc(cap_p * sizeof(*p));
	struct cmd_plan *c = calloc(cap_c, sizeof(*c));
	uint64_t off = 0;

	if (!p || !c)
		dmatd_fatal("malloc for the command plan of %zu runs", nr);
	for (i = 0; i < nr; i++) {
		uint64_t done;

		for (done = 0; done < runs[i].len;) {
			uint64_t len = runs[i].len - done < max ?
				       runs[i].len - done : max;

			if (np == cap_p) {
				cap_p *= 2;
				p = realloc(p, cap_p * sizeof(*p));
				if (!p)
					dmatd_fatal("realloc %zu pieces", cap_p);
			}
			p[np++] = (struct dmatd_run){ .iova = runs[i].iova + done,
						   .pa = runs[i].pa + done,
						   .len = len };
			done += len;
		}
	}
	for (i = 0; i < np; i++) {
		struct cmd_plan *cur = &c[nc ? nc - 1 : 0];

		if (!nc || cur->n == cap || cur->len + p[i].len > dev.max_xfer) {
			if (nc == cap_c) {
				cap_c *= 2;
				c = realloc(c, cap_c * sizeof(*c));
				if (!c)
					dmatd_fatal("realloc %zu commands", cap_c);
			}
			c[nc++] = (struct cmd_plan){ .first = i, .off = off };
			cur = &c[nc - 1];
		}
		cur->n++;
		cur->len += p[i].len;
		off += p[i].len;
	}
	*pieces = p;
	*cmds = c;
	return nc;
}

static void run_cmds(uint32_t op, const struct dmatd_run *pieces,
		     const struct cmd_plan *cmds, size_t nc, uint64_t *csum)
{
	struct dmatd_seglist *l = op == DMATD_OP_WRITE_PATTERN ? &dev.dst : &dev.src;
	struct dmatd_result res;
	size_t k;

	for (k = 0; k < nc; k++) {
		uint32_t seed = SEED + 1 + k;

		DMATD_CHECK_CALL(dmatd_seglist_set(&dev, l, pieces + cmds[k].first,
					     cmds[k].n));
		DMATD_CHECK_CALL(dmatd_dev_cmd(&dev, op, seed, 0,
					 op == DMATD_OP_WRITE_PATTERN ? NULL : l,
					 op == DMATD_OP_WRITE_PATTERN ? l : NULL,
					 &res));
		if (res.status != DMATD_STATUS_DONE || res.error ||
		    res.bytes_done != cmds[k].len)
			dmatd_fatal("%s command %zu of %zu: status 0x%x error %s at 0x%" PRIx64 " bytes %" PRIu64 " of %" PRIu64 " mismatches %u",
			      dmatd_op_name(op), k + 1, nc, res.status,
			      dmatd_error_name(res.error), res.err_addr,
			      res.bytes_done, cmds[k].len,
			      res.mismatch_count);
		if (op == DMATD_OP_WRITE_PATTERN)
			csum[k] = res.checksum;
		else if (res.checksum != csum[k])
			dmatd_fatal("verify command %zu: checksum 0x%016" PRIx64 ", the write's was 0x%016" PRIx64,
			      k + 1, res.checksum, csum[k]);
	}
}

static void spot_word(const struct dmatd_buf *b, const struct cmd_plan *cmd,
		      uint32_t seed, uint64_t off)
{
	uint64_t got, want = dmatd_pattern_word(seed, off);

	memcpy(&got, b->va + cmd->off + off, sizeof(got));
	if (le64toh(got) != want)
		dmatd_fatal("CPU read 0x%016" PRIx64 " at buffer offset 0x%" PRIx64 ", want 0x%016" PRIx64,
		      le64toh(got), cmd->off + off, want);
}

/* The CPU reads a word every MiB, and the last one, of each command. */
static size_t spot_check(const struct dmatd_buf *b, const struct cmd_plan *cmds,
			 size_t nc)
{
	size_t k, checked = 0;

	for (k = 0; k < nc; k++) {
		uint64_t off;

		for (off = 0; off < cmds[k].len; off += 1 << 20) {
			spot_word(b, &cmds[k], SEED + 1 + k, off);
			checked++;
		}
		spot_word(b, &cmds[k], SEED + 1 + k, cmds[k].len - 8);
		checked++;
	}
	return checked;
}

static void bench_whole(void)
{
	struct dmatd_run *runs = NULL, *pieces = NULL;
	struct cmd_plan *cmds = NULL;
	double s_alloc, s_map, s_pa, s_write, s_verify, s_check, total;
	uint64_t t0, t, *csum;
	size_t nr = 0, nc, checked;
	struct dmatd_mapping m;
	struct dmatd_buf b;

	t0 = tsc();
	DMATD_CHECK_CALL(dmatd_buf_alloc(&b, opt.backing, opt.whole_len, 0));
	s_alloc = since_s(t0);
	t = tsc();
	DMATD_CHECK_CALL(dmatd_dma_map(&dev.vfio, &b, &m, NULL));
	s_map = since_s(t);
	t = tsc();
	DMATD_CHECK_CALL(dmatd_dma_runs(&dev.vfio, &m, 0, opt.whole_len, &runs, &nr));
	s_pa = since_s(t);

	t = tsc();
	nc = plan_cmds(runs, nr, &pieces, &cmds);
	csum = calloc(nc, sizeof(*csum));
	if (!csum)
		dmatd_fatal("calloc %zu checksums", nc);
	run_cmds(DMATD_OP_WRITE_PATTERN, pieces, cmds, nc, csum);
	s_write = since_s(t);
	t = tsc();
	run_cmds(DMATD_OP_VERIFY_PATTERN, pieces, cmds, nc, csum);
	s_verify = since_s(t);
	t = tsc();
	checked = spot_check(&b, cmds, nc);
	s_check = since_s(t);
	total = since_s(t0);

	out("what=whole len=%" PRIu64 " backing=%s runs=%zu segments=%zu cmds=%zu alloc_s=%.3f map_s=%.3f getpa_s=%.3f write_s=%.3f verify_s=%.3f check_s=%.3f total_s=%.3f cpu_words=%zu",
	    opt.whole_len, dmatd_backing_name(opt.backing), nr,
	    cmds[nc - 1].first + cmds[nc - 1].n, nc,
	    s_alloc, s_map, s_pa, s_write, s_verify, s_check, total, checked);

	DMATD_CHECK_CALL(dmatd_dma_unmap(&dev.vfio, &m));
	dmatd_buf_free(&b);
	free(csum);
	free(cmds);
	free(pieces);
	free(runs);
}

/* --- main ---------------------------------------------------------------- */

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: dt-bench [options]   (none of --rtt/--pin/--whole: all)\n"
		"  --dev BDF        PCI device (default: the 1af4:10f0)\n"
		"  --rtt            queue round trip vs MMIO read\n"
		"  --pin            IOAS_MAP + GET_PA vs pagemap\n"
		"  --whole          pin + translate + WRITE + VERIFY\n"
		"  --n N            samples per round-trip figure (5000)\n"
		"  --qsize N        queue entries (64)\n"
		"  --pin-max BYTES  largest --pin buffer, K/M/G (1G)\n"
		"  --len BYTES      --whole buffer, K/M/G (1G)\n"
		"  --backing 4k|thp|hugetlb|memfd  --whole buffer memory (4k)\n"
		"  --help\n");
}

enum {
	OPT_DEV = 256, OPT_RTT, OPT_PIN, OPT_WHOLE, OPT_N, OPT_QSIZE,
	OPT_PIN_MAX, OPT_LEN, OPT_BACKING, OPT_HELP,
};

static const struct option long_opts[] = {
	{ "dev", required_argument, NULL, OPT_DEV },
	{ "rtt", no_argument, NULL, OPT_RTT },
	{ "pin", no_argument, NULL, OPT_PIN },
	{ "whole", no_argument, NULL, OPT_WHOLE },
	{ "n", required_argument, NULL, OPT_N },
	{ "qsize", required_argument, NULL, OPT_QSIZE },
	{ "pin-max", required_argument, NULL, OPT_PIN_MAX },
	{ "len", required_argument, NULL, OPT_LEN },
	{ "backing", required_argument, NULL, OPT_BACKING },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static void parse_args(int argc, char **argv)
{
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_DEV:
			opt.bdf = optarg;
			break;
		case OPT_RTT:
			opt.rtt = true;
			break;
		case OPT_PIN:
			opt.pin = true;
			break;
		case OPT_WHOLE:
			opt.whole = true;
			break;
		case OPT_N:
			if (dmatd_parse_u64(optarg, &v, true, 0) || v < 100 || v > 1000000)
				dmatd_bad_arg("--n (100 .. 1000000)", optarg);
			opt.n = v;
			break;
		case OPT_QSIZE:
			if (dmatd_parse_u64(optarg, &v, true, 0) || v < 2 ||
			    v > DMATD_Q_MAX_SIZE)
				dmatd_bad_arg("--qsize (2 .. 4096)", optarg);
			opt.qsize = v;
			break;
		case OPT_PIN_MAX:
			if (dmatd_parse_u64(optarg, &opt.pin_max, true, 0))
				dmatd_bad_arg("--pin-max", optarg);
			break;
		case OPT_LEN:
			if (dmatd_parse_u64(optarg, &opt.whole_len, true, 0) ||
			    !opt.whole_len || opt.whole_len % DMATD_PAGE_SIZE)
				dmatd_bad_arg("--len (whole pages)", optarg);
			break;
		case OPT_BACKING:
			if (dmatd_backing_parse(optarg, &opt.backing))
				dmatd_bad_arg("--backing", optarg);
			break;
		case OPT_HELP:
			dmatd_usage_help();
		default:
			dmatd_usage_error();
		}
	}
	if (optind < argc)
		dmatd_bad_arg("argument", argv[optind]);
	if (!opt.rtt && !opt.pin && !opt.whole)
		opt.rtt = opt.pin = opt.whole = true;
}

int main(int argc, char **argv)
{
	char bdf[DMATD_BDF_LEN];
	struct utsname u;
	uint64_t t0;
	int cpu;

	dmatd_tool_init("dt-bench", print_usage, report_fatal);
	parse_args(argc, argv);

	/* One CPU throughout: one TSC, no migration between samples. */
	DMATD_CHECK_CALL(dmatd_pin_cpu(&cpu));
	bench_cpu = cpu;
	calibrate();
	t0 = tsc();
	if (opt.bdf)
		snprintf(bdf, sizeof(bdf), "%s", opt.bdf);
	else
		DMATD_CHECK_CALL(dmatd_pci_find(DMA_TESTDEV_VENDOR_ID,
					  DMA_TESTDEV_DEVICE_ID, bdf,
					  sizeof(bdf)));
	DMATD_CHECK_CALL(dmatd_dev_open(&dev, bdf, DMATD_VFIO_CDEV));
	out("what=env dev=%s cdev=%s cpu=%d ncpu=%ld tsc_mhz=%.1f kernel=%s",
	    bdf, dev.vfio.cdev, cpu, sysconf(_SC_NPROCESSORS_ONLN),
	    tsc_per_ns * 1e3, uname(&u) ? "?" : u.release);

	/*
	 * --whole before --pin: its buffer then gets memory the guest has
	 * never touched, as on a freshly booted machine.
	 */
	if (opt.rtt)
		bench_rtt();
	if (opt.whole)
		bench_whole();
	if (opt.pin)
		bench_pin();

	dmatd_dev_close(&dev);
	out("what=done s=%.2f", since_s(t0));
	return 0;
}
