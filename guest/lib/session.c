// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dtlib: the guest side of the host oracle (docs/guest-protocol.rst),
 * shared by dt-pin and dt-pagemap-hazard: the device opened for a session,
 * tagged buffers, their translation, page moves, and the "@dt wait"
 * handshake with the host.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/mempolicy.h>

#include <dtlib/mem.h>
#include <dtlib/parse.h>
#include <dtlib/session.h>
#include <dtlib/tool.h>

struct dmatd_session dmatd_sess = {
	.mode = DMATD_VFIO_CDEV,
	.backing = DMATD_BACKING_4K,
	.len = 1 << 20,
	.node = -1,
};

/*
 * While we wait, the host scans all of guest RAM for page tags (at page
 * starts) and for words of the pattern (anywhere).  A copy of a pattern
 * word that this process leaves behind would look like a misdirected DMA,
 * and the kernel keeps more of them than one would think:
 *  - dead stack frames of the functions that wrote or checked them (all
 *    the more at -O0): wiped;
 *  - registers, saved into guest RAM by the kernel: the GPRs into pt_regs
 *    on the task stack when we block in read(), the vector registers into
 *    the task's XSAVE area, and the GPRs of the last interrupt taken in
 *    user mode on each CPU into that CPU's entry stack (measured: a timer
 *    tick in dmatd_pattern_csum() left r9 = seed << 32 there).
 * The functions that handle pattern words are noinline, so the
 * callee-saved registers of the frames still active hold none.  Here the
 * caller-saved GPRs are zeroed and the vector registers loaded with a
 * harmless non-zero value (XSAVEOPT skips registers in their initial, all
 * zero, state, which would leave the old contents in memory), and then a
 * page fault is taken from user mode on every CPU, which overwrites each
 * entry stack with these registers.
 */
static noinline void clobber_regs(void)
{
#ifdef __x86_64__
	static const uint64_t one[8] __aligned(64) = {
		1, 1, 1, 1, 1, 1, 1, 1,
	};

	if (__builtin_cpu_supports("avx512f"))
		__asm__ volatile(
			"vmovdqa64 %0, %%zmm16\n\t"
			"vmovdqa64 %%zmm16, %%zmm17\n\t"
			"vmovdqa64 %%zmm16, %%zmm18\n\t"
			"vmovdqa64 %%zmm16, %%zmm19\n\t"
			"vmovdqa64 %%zmm16, %%zmm20\n\t"
			"vmovdqa64 %%zmm16, %%zmm21\n\t"
			"vmovdqa64 %%zmm16, %%zmm22\n\t"
			"vmovdqa64 %%zmm16, %%zmm23\n\t"
			"vmovdqa64 %%zmm16, %%zmm24\n\t"
			"vmovdqa64 %%zmm16, %%zmm25\n\t"
			"vmovdqa64 %%zmm16, %%zmm26\n\t"
			"vmovdqa64 %%zmm16, %%zmm27\n\t"
			"vmovdqa64 %%zmm16, %%zmm28\n\t"
			"vmovdqa64 %%zmm16, %%zmm29\n\t"
			"vmovdqa64 %%zmm16, %%zmm30\n\t"
			"vmovdqa64 %%zmm16, %%zmm31\n\t"
			"vmovdqa64 %%zmm16, %%zmm0\n\t"
			"vmovdqa64 %%zmm16, %%zmm1\n\t"
			"vmovdqa64 %%zmm16, %%zmm2\n\t"
			"vmovdqa64 %%zmm16, %%zmm3\n\t"
			"vmovdqa64 %%zmm16, %%zmm4\n\t"
			"vmovdqa64 %%zmm16, %%zmm5\n\t"
			"vmovdqa64 %%zmm16, %%zmm6\n\t"
			"vmovdqa64 %%zmm16, %%zmm7\n\t"
			"vmovdqa64 %%zmm16, %%zmm8\n\t"
			"vmovdqa64 %%zmm16, %%zmm9\n\t"
			"vmovdqa64 %%zmm16, %%zmm10\n\t"
			"vmovdqa64 %%zmm16, %%zmm11\n\t"
			"vmovdqa64 %%zmm16, %%zmm12\n\t"
			"vmovdqa64 %%zmm16, %%zmm13\n\t"
			"vmovdqa64 %%zmm16, %%zmm14\n\t"
			"vmovdqa64 %%zmm16, %%zmm15"
			: : "m"(one) : "memory");
	else if (__builtin_cpu_supports("avx"))
		__asm__ volatile(
			"vmovdqa %0, %%ymm0\n\t"
			"vmovdqa %%ymm0, %%ymm1\n\t"
			"vmovdqa %%ymm0, %%ymm2\n\t"
			"vmovdqa %%ymm0, %%ymm3\n\t"
			"vmovdqa %%ymm0, %%ymm4\n\t"
			"vmovdqa %%ymm0, %%ymm5\n\t"
			"vmovdqa %%ymm0, %%ymm6\n\t"
			"vmovdqa %%ymm0, %%ymm7\n\t"
			"vmovdqa %%ymm0, %%ymm8\n\t"
			"vmovdqa %%ymm0, %%ymm9\n\t"
			"vmovdqa %%ymm0, %%ymm10\n\t"
			"vmovdqa %%ymm0, %%ymm11\n\t"
			"vmovdqa %%ymm0, %%ymm12\n\t"
			"vmovdqa %%ymm0, %%ymm13\n\t"
			"vmovdqa %%ymm0, %%ymm14\n\t"
			"vmovdqa %%ymm0, %%ymm15"
			: : "m"(one) : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
			  "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
			  "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory");
	else
		__asm__ volatile(
			"movdqa %0, %%xmm0\n\t"
			"movdqa %%xmm0, %%xmm1\n\t"
			"movdqa %%xmm0, %%xmm2\n\t"
			"movdqa %%xmm0, %%xmm3\n\t"
			"movdqa %%xmm0, %%xmm4\n\t"
			"movdqa %%xmm0, %%xmm5\n\t"
			"movdqa %%xmm0, %%xmm6\n\t"
			"movdqa %%xmm0, %%xmm7\n\t"
			"movdqa %%xmm0, %%xmm8\n\t"
			"movdqa %%xmm0, %%xmm9\n\t"
			"movdqa %%xmm0, %%xmm10\n\t"
			"movdqa %%xmm0, %%xmm11\n\t"
			"movdqa %%xmm0, %%xmm12\n\t"
			"movdqa %%xmm0, %%xmm13\n\t"
			"movdqa %%xmm0, %%xmm14\n\t"
			"movdqa %%xmm0, %%xmm15"
			: : "m"(one) : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
			  "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
			  "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory");
	__asm__ volatile(
		"xor %%eax, %%eax\n\t"
		"xor %%ecx, %%ecx\n\t"
		"xor %%edx, %%edx\n\t"
		"xor %%esi, %%esi\n\t"
		"xor %%edi, %%edi\n\t"
		"xor %%r8d, %%r8d\n\t"
		"xor %%r9d, %%r9d\n\t"
		"xor %%r10d, %%r10d\n\t"
		"xor %%r11d, %%r11d"
		: : : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",
		  "r11", "cc", "memory");
#endif
}

/*
 * A fault from user mode on each CPU: see above.  Back on @cpu after.
 * It must not allocate memory: a frame just freed by a page move would be
 * handed straight back (--legacy-hazard reads those frames).  So it is a
 * read fault on a page never written, which maps the shared zero page,
 * and MADV_DONTNEED (which keeps the page table) arms it again.
 */
static void fault_on_every_cpu(int cpu)
{
	static volatile uint8_t *zero_page;
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	long c;
	int ret;

	if (!zero_page) {
		void *p = mmap(NULL, DMATD_PAGE_SIZE, PROT_READ,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			dmatd_fatal("mmap a page to fault on: %s (errno %d)",
			      strerror(errno), errno);
		zero_page = p;
	}
	for (c = 0; c < ncpu && c < CPU_SETSIZE; c++) {
		/* Offline CPUs refuse: nothing of ours ran there. */
		if (dmatd_try_cpu(c))
			continue;
		if (madvise((void *)zero_page, DMATD_PAGE_SIZE, MADV_DONTNEED))
			dmatd_fatal("madvise MADV_DONTNEED %p: %s (errno %d)",
			      zero_page, strerror(errno), errno);
		clobber_regs();
		(void)*zero_page;
	}
	ret = dmatd_try_cpu(cpu);
	if (ret)
		dmatd_fatal("sched_setaffinity back to CPU %d: %s (errno %d)", cpu,
		      strerror(-ret), -ret);
}

noinline void dmatd_scrub_cpu(void)
{
	char junk[512 << 10];

	explicit_bzero(junk, sizeof(junk));
	__asm__ volatile("" : : "r"(junk) : "memory");
	fault_on_every_cpu(dmatd_sess.cpu);
	clobber_regs();
}

noinline void dmatd_do_wait_go(const char *what, const struct dmatd_tbuf *b)
{
	static char line[256];

	if (!dmatd_sess.handshake)
		return;
	if (b)
		dmatd_proto("wait what=%s nonce=0x%016" PRIx64, what, b->nonce);
	else
		dmatd_proto("wait what=%s", what);
	fflush(stdout);
	for (;;) {
		size_t n;

		if (!fgets(line, sizeof(line), stdin)) {
			if (ferror(stdin))
				dmatd_fatal("reading 'go' from stdin: %s (errno %d)",
				      strerror(errno), errno);
			dmatd_fatal("stdin closed while waiting for 'go' after @dt wait what=%s",
			      what);
		}
		n = strlen(line);
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
			     line[n - 1] == ' '))
			line[--n] = '\0';
		if (!strcmp(line, "go"))
			return;
		/* The console echoes; anything but "go" is not for us. */
	}
}

/* --- Helpers ------------------------------------------------------------ */

noinline uint64_t dmatd_random64(void)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		v = ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ getpid();
	}
	return v;
}

uint64_t *dmatd_page_pas(const void *va, size_t n)
{
	uint64_t *pa = calloc(n, sizeof(*pa));
	int fd;

	if (!pa)
		dmatd_fatal("calloc %zu page addresses: %s", n, strerror(ENOMEM));
	fd = dmatd_vfio_pagemap(&dmatd_sess.dev.vfio);
	DMATD_CHECK_CALL(fd);
	DMATD_CHECK_CALL(dmatd_pagemap_pa(fd, va, n, pa));
	return pa;
}

/* Physical addresses of every 4 KiB page the buffer touches. */
uint64_t *dmatd_tbuf_page_pas(struct dmatd_tbuf *b, size_t *npages)
{
	*npages = dmatd_buf_pages(&b->buf);
	return dmatd_page_pas(dmatd_buf_page(&b->buf, 0), *npages);
}

/* --- Buffers ------------------------------------------------------------ */

/* The page tag (see the contract header) at the start of every page. */
static noinline void write_tags(struct dmatd_tbuf *b)
{
	size_t i, n = dmatd_buf_pages(&b->buf);

	for (i = 0; i < n; i++) {
		uint64_t *tag = (uint64_t *)dmatd_buf_page(&b->buf, i);

		tag[0] = b->nonce;
		tag[1] = i;
		tag[2] = dmatd_page_tag_check(b->nonce, i);
	}
}

static noinline uint64_t random_nonzero(void)
{
	uint64_t v;

	do {
		v = dmatd_random64();
	} while (!v || !~v);
	return v;
}

/*
 * A page that moved leaves its old frame behind, tag and all: give the
 * pages a new nonce so that the host finds each of them exactly once.
 */
noinline void dmatd_tbuf_renonce(struct dmatd_tbuf *b)
{
	b->old_nonce = b->nonce;
	b->nonce = random_nonzero();
	write_tags(b);
}

noinline void dmatd_tbuf_adopt(struct dmatd_tbuf *b, const char *name,
				  unsigned int idx)
{
	snprintf(b->name, sizeof(b->name), "%s", name);
	b->nonce = random_nonzero();
	b->old_nonce = b->nonce;
	/* A seed per buffer: the host tells their patterns apart. */
	b->seed = (uint32_t)(dmatd_sess.seed + idx);
	if (!b->seed)
		b->seed = 1;
	write_tags(b);
}

noinline void dmatd_tbuf_alloc(struct dmatd_tbuf *b, enum dmatd_backing backing,
				  const char *name, unsigned int idx)
{
	memset(b, 0, sizeof(*b));
	if (backing == DMATD_BACKING_MEMFD ||
	    backing == DMATD_BACKING_MEMFD_HUGETLB)
		DMATD_CHECK_CALL(dmatd_buf_alloc_file(&b->buf, backing, dmatd_sess.len,
						dmatd_sess.offset, dmatd_sess.file_off));
	else
		DMATD_CHECK_CALL(dmatd_buf_alloc(&b->buf, backing, dmatd_sess.len,
					   dmatd_sess.offset));
	dmatd_tbuf_adopt(b, name, idx);
}

void dmatd_tbuf_free(struct dmatd_tbuf *b)
{
	if (b->map.mapped)
		dmatd_dma_unmap(&dmatd_sess.dev.vfio, &b->map);
	dmatd_buf_free(&b->buf);
	free(b->runs);
	b->runs = NULL;
}

void dmatd_tbuf_translate(struct dmatd_tbuf *b)
{
	free(b->runs);
	b->runs = NULL;
	DMATD_CHECK_CALL(dmatd_dma_runs(&dmatd_sess.dev.vfio, &b->map, b->buf.offset, b->buf.len,
				  &b->runs, &b->nr));
}

/* The runs (cdev) or page addresses (legacy) as protocol lines. */
void dmatd_tbuf_report_translation(struct dmatd_tbuf *b)
{
	size_t i, n;
	uint64_t *pa;

	if (dmatd_sess.mode == DMATD_VFIO_CDEV) {
		for (i = 0; i < b->nr; i++)
			dmatd_proto("run index=%zu iova=0x%" PRIx64 " pa=0x%" PRIx64 " len=0x%" PRIx64,
			      i, b->runs[i].iova, b->runs[i].pa,
			      b->runs[i].len);
		return;
	}
	pa = dmatd_tbuf_page_pas(b, &n);
	for (i = 0; i < n; i++)
		dmatd_proto("pfn page=%zu pa=0x%" PRIx64, i, pa[i]);
	free(pa);
}

/* --- Checks on the translation ----------------------------------------- */

void dmatd_tbuf_check_runs(struct dmatd_tbuf *b)
{
	uint64_t sum = 0, expect_iova = b->map.iova + b->buf.offset;
	uint64_t first_off = (uintptr_t)b->buf.va & (DMATD_PAGE_SIZE - 1);
	size_t i, merged = 0, bad = SIZE_MAX, largest = 0;

	for (i = 0; i < b->nr; i++) {
		const struct dmatd_run *r = &b->runs[i];

		if (!r->len || r->iova != expect_iova) {
			if (bad == SIZE_MAX)
				bad = i;
		}
		if (i && b->runs[i - 1].pa + b->runs[i - 1].len == r->pa)
			merged++;
		if (r->len > b->runs[largest].len)
			largest = i;
		expect_iova = r->iova + r->len;
		sum += r->len;
	}
	dmatd_check("runs-cover", bad == SIZE_MAX && sum == b->buf.len,
	      "runs=%zu bytes=0x%" PRIx64 " want=0x%zx first-bad-run=%zd",
	      b->nr, sum, b->buf.len, bad == SIZE_MAX ? -1 : (ssize_t)bad);
	dmatd_check("runs-first-offset", b->nr &&
	      (b->runs[0].pa & (DMATD_PAGE_SIZE - 1)) == first_off,
	      "pa=0x%" PRIx64 " page-offset=0x%" PRIx64,
	      b->nr ? b->runs[0].pa : 0, first_off);
	/*
	 * In cdev mode every run comes from one GET_PA call, which returns a
	 * maximal contiguous run: two adjacent runs that are contiguous
	 * mean the kernel split one.  The legacy runs are merged by us.
	 */
	if (dmatd_sess.mode == DMATD_VFIO_CDEV)
		dmatd_check("runs-maximal", !merged,
		      "%zu run boundaries are physically contiguous", merged);
	dmatd_diag("%s: %zu physically contiguous run(s), largest 0x%" PRIx64 " bytes",
	     b->name, b->nr, b->nr ? b->runs[largest].len : 0);
}

/* --- DMA through the device -------------------------------------------- */

void dmatd_report_dma(uint32_t op, uint64_t seed, const struct dmatd_seglist *l,
		       const struct dmatd_result *r)
{
	dmatd_proto("dma op=%s seed=0x%08" PRIx64 " segs=%u status=0x%x error=%u bytes=0x%" PRIx64 " seq=0x%" PRIx64 " list=0x%" PRIx64,
	      dmatd_op_name(op), seed, l->count, r->status, r->error, r->bytes_done,
	      r->cmd_seq, l->pa);
}

bool dmatd_check_dma_ok(const char *name, const struct dmatd_result *r,
			 uint64_t len)
{
	return dmatd_check(name, r->status == DMATD_STATUS_DONE &&
		     r->error == DMATD_ERR_NONE && r->bytes_done == len,
		     "status=0x%x error=%s err-seg=%u err-list=%u err-addr=0x%" PRIx64 " bytes=0x%" PRIx64 " want=0x%" PRIx64,
		     r->status, dmatd_error_name(r->error), r->err_seg,
		     r->err_list, r->err_addr, r->bytes_done, len);
}

/* The CPU reads the pattern back through its own mapping. */
noinline void dmatd_tbuf_check_cpu_pattern(struct dmatd_tbuf *b)
{
	uint64_t base = (uintptr_t)b->buf.va & (DMATD_PAGE_SIZE - 1);
	uint64_t off, bad = 0, first = UINT64_MAX, got = 0, want = 0;
	uint64_t whole = b->buf.len & ~7ULL;
	const uint8_t *p = b->buf.va;

	for (off = 0; off < b->buf.len; off += 8) {
		uint64_t w = 0, e = dmatd_pattern_word(b->seed, off);

		/*
		 * A whole word is one load: a memcpy() of variable size is a
		 * call per word, and under TCG each return costs a lookup
		 * (4 GiB took 90 s that way).
		 */
		if (off < whole) {
			memcpy(&w, p + off, 8);
		} else {
			memcpy(&w, p + off, b->buf.len - off);
			e &= (1ULL << ((b->buf.len - off) * 8)) - 1;
		}
		if (w != e) {
			if (first == UINT64_MAX) {
				first = off;
				got = w;
				want = e;
			}
			bad++;
		}
	}
	if (first == UINT64_MAX) {
		dmatd_check("cpu-sees-pattern", true, "words=%" PRIu64,
		      (b->buf.len + 7) / 8);
		return;
	}
	dmatd_check("cpu-sees-pattern", false,
	      "bad-words=%" PRIu64 " first: page=%" PRIu64 " page-offset=0x%" PRIx64 " transfer-offset=0x%" PRIx64 " got=0x%016" PRIx64 " want=0x%016" PRIx64,
	      bad, (base + first) / DMATD_PAGE_SIZE,
	      (base + first) & (DMATD_PAGE_SIZE - 1), first, got, want);
}

noinline void dmatd_tbuf_write_verify(struct dmatd_tbuf *b, dmatd_report_dma_fn report)
{
	struct dmatd_result r;

	if (!report)
		report = dmatd_report_dma;

	DMATD_CHECK_CALL(dmatd_seglist_set(&dmatd_sess.dev, &dmatd_sess.dev.dst, b->runs, b->nr));
	DMATD_CHECK_CALL(dmatd_dev_cmd(&dmatd_sess.dev, DMATD_OP_WRITE_PATTERN, b->seed, 0, NULL,
				 &dmatd_sess.dev.dst, &r));
	report(DMATD_OP_WRITE_PATTERN, b->seed, &dmatd_sess.dev.dst, &r);
	dmatd_check_dma_ok("dma-write", &r, b->buf.len);
	dmatd_tbuf_check_cpu_pattern(b);

	DMATD_CHECK_CALL(dmatd_seglist_set(&dmatd_sess.dev, &dmatd_sess.dev.src, b->runs, b->nr));
	DMATD_CHECK_CALL(dmatd_dev_cmd(&dmatd_sess.dev, DMATD_OP_VERIFY_PATTERN, b->seed, 0,
				 &dmatd_sess.dev.src, NULL, &r));
	report(DMATD_OP_VERIFY_PATTERN, b->seed, &dmatd_sess.dev.src, &r);
	dmatd_check_dma_ok("dma-verify", &r, b->buf.len);
	dmatd_check("dma-verify-match", !(r.status & DMATD_STATUS_MISMATCH) &&
	      !r.mismatch_count &&
	      r.checksum == dmatd_pattern_csum(b->seed, b->buf.len),
	      "mismatches=%u seg=%u offset=0x%" PRIx64 " want=0x%016" PRIx64 " got=0x%016" PRIx64 " checksum=0x%016" PRIx64 " want=0x%016" PRIx64,
	      r.mismatch_count, r.mismatch_seg, r.mismatch_off,
	      r.mismatch_exp, r.mismatch_got, r.checksum,
	      dmatd_pattern_csum(b->seed, b->buf.len));
}

/* --- Page migration ----------------------------------------------------- */

/* The unit move_pages() moves: one address per THP or huge page. */
static size_t unit_size(const struct dmatd_tbuf *b)
{
	return b->buf.page_size;
}

void dmatd_move_prepare(struct dmatd_tbuf *b, struct dmatd_move *mv)
{
	uint64_t unit = unit_size(b);
	uintptr_t start = (uintptr_t)b->buf.va & ~(unit - 1);
	uintptr_t end = DMATD_ALIGN((uintptr_t)b->buf.va + b->buf.len, unit);
	int nodes = dmatd_numa_nodes(), cur;
	size_t i;

	mv->count = (end - start) / unit;
	mv->addr = calloc(mv->count, sizeof(*mv->addr));
	mv->status = calloc(mv->count, sizeof(*mv->status));
	mv->nodes = calloc(mv->count, sizeof(*mv->nodes));
	if (!mv->addr || !mv->status || !mv->nodes)
		dmatd_fatal("calloc for %zu pages to move: %s", mv->count,
		      strerror(ENOMEM));
	for (i = 0; i < mv->count; i++)
		mv->addr[i] = (void *)(start + i * unit);
	if (nodes < 2)
		dmatd_fatal("moving pages needs 2 NUMA nodes, the guest has %d (QEMU -numa, CONFIG_NUMA)",
		      nodes);
	/* Where the first page is now: move_pages() with no nodes asks. */
	mv->ret = dmatd_move_pages(1, mv->addr, NULL, mv->status, 0);
	if (mv->ret < 0)
		dmatd_fatal("move_pages query of %p: %s (errno %ld)", mv->addr[0],
		      strerror(-mv->ret), -mv->ret);
	cur = mv->status[0];
	if (cur < 0)
		dmatd_fatal("move_pages query of %p: page status %d (%s)",
		      mv->addr[0], cur, strerror(-cur));
	mv->target = (cur + 1) % nodes;
	for (i = 0; i < mv->count; i++)
		mv->nodes[i] = mv->target;
	dmatd_diag("%s: moving %zu page(s) of 0x%" PRIx64 " bytes from node %d to node %d",
	     b->name, mv->count, unit, cur, mv->target);
}

/*
 * move_pages() leaves the status of a page it did not migrate (a pinned
 * one) unwritten: preset every slot to a sentinel to see that.
 */
void dmatd_move_run(struct dmatd_move *mv)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t i;

	for (i = 0; i < mv->count; i++)
		mv->status[i] = INT_MIN;
	mv->ret = dmatd_move_pages(mv->count, mv->addr, mv->nodes, mv->status,
				   MPOL_MF_MOVE);
	/*
	 * The frames the pages left are on this CPU's free list, first in
	 * line for its next allocation (ours, or the kernel's on our
	 * behalf).  Go on from another CPU, so that they stay as they were
	 * until the device has read them (--legacy-hazard).
	 */
	if (ncpu > 1) {
		int next = (dmatd_sess.cpu + 1) % ncpu;

		if (!dmatd_try_cpu(next))
			dmatd_sess.cpu = next;
	}
	if (mv->ret < 0)
		dmatd_fatal("move_pages of %zu pages to node %d: %s (errno %ld)",
		      mv->count, mv->target, strerror(-mv->ret), -mv->ret);
}

void dmatd_move_free(struct dmatd_move *mv)
{
	free(mv->addr);
	free(mv->status);
	free(mv->nodes);
}

/* Status of the move of the unit holding buffer page @i. */
static int move_status(const struct dmatd_tbuf *b, const struct dmatd_move *mv,
		       size_t i)
{
	uintptr_t va = (uintptr_t)dmatd_buf_page(&b->buf, i);
	size_t u = (va - (uintptr_t)mv->addr[0]) / unit_size(b);

	return u < mv->count ? mv->status[u] : INT_MIN;
}

/* Print "@dt moved" for every page whose PA changed; count them. */
size_t dmatd_report_moved(const struct dmatd_tbuf *b, const uint64_t *before,
			   const uint64_t *after, size_t n,
			   const struct dmatd_move *mv, bool proto_lines)
{
	size_t i, moved = 0;

	for (i = 0; i < n; i++) {
		int st = mv ? move_status(b, mv, i) : -1;

		if (before[i] == after[i])
			continue;
		moved++;
		if (proto_lines)
			dmatd_proto("moved page=%zu old=0x%" PRIx64 " new=0x%" PRIx64 " status=%d",
			      i, before[i], after[i], st);
		else if (moved <= 3)
			dmatd_diag("control: page %zu moved 0x%" PRIx64 " -> 0x%" PRIx64 " status %d",
			     i, before[i], after[i], st);
	}
	if (!proto_lines && moved > 3)
		dmatd_diag("control: ... %zu pages moved in all", moved);
	return moved;
}


/* Legacy: mlock()ed pages move; report each with its old and new PA. */
void dmatd_migrate_locked(struct dmatd_tbuf *b, const uint64_t *before)
{
	size_t n, i, ok = 0, moved;
	uint64_t *after;
	struct dmatd_move mv;

	dmatd_move_prepare(b, &mv);
	dmatd_move_run(&mv);
	after = dmatd_tbuf_page_pas(b, &n);
	for (i = 0; i < mv.count; i++)
		ok += mv.status[i] == mv.target;
	moved = dmatd_report_moved(b, before, after, n, &mv, true);
	dmatd_check("locked-pages-move", !mv.ret && ok == mv.count,
	      "move_pages returned %ld, %zu of %zu at node %d",
	      mv.ret, ok, mv.count, mv.target);
	dmatd_check("locked-pfn-changed", moved == n, "%zu of %zu pages moved",
	      moved, n);
	free(after);
	dmatd_move_free(&mv);
}

noinline void dmatd_tbuf_begin(const char *name, const struct dmatd_tbuf *b)
{
	dmatd_set_case(name);
	/* The offset into the buffer's first 4 KiB page (page 0). */
	dmatd_proto("begin case=%s mode=%s backing=%s len=0x%zx offset=0x%" PRIxPTR " nonce=0x%016" PRIx64,
		    name, dmatd_vfio_mode_name(dmatd_sess.mode),
		    dmatd_backing_name(b->buf.backing), b->buf.len,
		    (uintptr_t)b->buf.va & (DMATD_PAGE_SIZE - 1), b->nonce);
}

/* --- The session ------------------------------------------------------- */

static const struct option session_opts[] = {
	{ "dev", required_argument, NULL, DMATD_OPT_DEV },
	{ "mode", required_argument, NULL, DMATD_OPT_MODE },
	{ "backing", required_argument, NULL, DMATD_OPT_BACKING },
	{ "len", required_argument, NULL, DMATD_OPT_LEN },
	{ "offset", required_argument, NULL, DMATD_OPT_OFFSET },
	{ "file-offset", required_argument, NULL, DMATD_OPT_FILE_OFF },
	{ "handshake", no_argument, NULL, DMATD_OPT_HANDSHAKE },
	{ "seed", required_argument, NULL, DMATD_OPT_SEED },
	{ "node", required_argument, NULL, DMATD_OPT_NODE },
	{ "help", no_argument, NULL, DMATD_OPT_HELP },
};

struct option *dmatd_session_longopts(const struct option *extra)
{
	size_t n = 0;
	struct option *all;

	while (extra && extra[n].name)
		n++;
	all = calloc(ARRAY_SIZE(session_opts) + n + 1, sizeof(*all));
	if (!all)
		dmatd_fatal("calloc %zu options: %s", n, strerror(ENOMEM));
	memcpy(all, session_opts, sizeof(session_opts));
	if (n)
		memcpy(all + ARRAY_SIZE(session_opts), extra, n * sizeof(*all));
	return all;
}

bool dmatd_session_opt(int c, const char *arg)
{
	static const char *const modes[] = {
		[DMATD_VFIO_CDEV] = "cdev", [DMATD_VFIO_LEGACY] = "legacy",
	};
	uint64_t v;

	switch (c) {
	case DMATD_OPT_DEV:
		dmatd_sess.bdf_opt = arg;
		break;
	case DMATD_OPT_MODE:
		dmatd_sess.mode = dmatd_arg_name("--mode", arg, modes,
						 ARRAY_SIZE(modes));
		dmatd_sess.mode_set = true;
		break;
	case DMATD_OPT_BACKING:
		if (dmatd_backing_parse(arg, &dmatd_sess.backing))
			dmatd_bad_arg("--backing", arg);
		break;
	case DMATD_OPT_LEN:
		if (dmatd_parse_u64(arg, &dmatd_sess.len, true, 0) ||
		    !dmatd_sess.len)
			dmatd_bad_arg("--len", arg);
		break;
	case DMATD_OPT_OFFSET:
		if (dmatd_parse_u64(arg, &dmatd_sess.offset, true, 0))
			dmatd_bad_arg("--offset", arg);
		break;
	case DMATD_OPT_FILE_OFF:
		if (dmatd_parse_u64(arg, &dmatd_sess.file_off, true, 0) ||
		    dmatd_sess.file_off & (DMATD_PAGE_SIZE - 1))
			dmatd_bad_arg("--file-offset (page aligned)", arg);
		break;
	case DMATD_OPT_HANDSHAKE:
		dmatd_sess.handshake = true;
		break;
	case DMATD_OPT_SEED:
		if (dmatd_parse_u64(arg, &v, false, 16) || !v ||
		    v > UINT32_MAX)
			dmatd_bad_arg("--seed (32-bit hex, not 0)", arg);
		dmatd_sess.seed = v;
		dmatd_sess.seed_set = true;
		break;
	case DMATD_OPT_NODE:
		if (dmatd_parse_u64(arg, &v, false, 10) || v > 255)
			dmatd_bad_arg("--node (0..255)", arg);
		dmatd_sess.node = v;
		break;
	case DMATD_OPT_HELP:
		dmatd_usage_help();
	default:
		return false;
	}
	return true;
}

void dmatd_session_opts_done(int argc, char **argv)
{
	if (optind < argc)
		dmatd_bad_arg("argument", argv[optind]);
	if (dmatd_sess.file_off && dmatd_sess.backing != DMATD_BACKING_MEMFD &&
	    dmatd_sess.backing != DMATD_BACKING_MEMFD_HUGETLB)
		dmatd_bad_arg("--file-offset without --backing", "memfd");
}

void dmatd_session_start(void)
{
	struct dmatd_session *s = &dmatd_sess;

	dmatd_tap_start();
	if (!s->seed_set) {
		do {
			s->seed = (uint32_t)dmatd_random64();
		} while (!s->seed);
	}
	/*
	 * One CPU throughout: its per-CPU free lists (--scatter) and its
	 * interrupt entry stack (scrub_cpu()) are then the ones that matter.
	 */
	DMATD_CHECK_CALL(dmatd_pin_cpu(&s->cpu));
	if (s->bdf_opt)
		snprintf(s->bdf, sizeof(s->bdf), "%s", s->bdf_opt);
	else
		DMATD_CHECK_CALL(dmatd_pci_find(DMA_TESTDEV_VENDOR_ID,
						DMA_TESTDEV_DEVICE_ID, s->bdf,
						sizeof(s->bdf)));
}

void dmatd_session_open(void)
{
	struct dmatd_session *s = &dmatd_sess;

	dmatd_session_start();
	DMATD_CHECK_CALL(dmatd_dev_open(&s->dev, s->bdf, s->mode));
	if (s->mode == DMATD_VFIO_LEGACY) {
		const char *backend = dmatd_vfio_container_backend();

		dmatd_proto("container backend=%s", backend ?: "unknown");
		dmatd_diag("legacy container served by %s",
			   backend ? backend : "an unknown backend (no kernel log)");
	}
	/* After the device's own buffers: only ours follow the policy. */
	if (s->node >= 0) {
		DMATD_CHECK_CALL(dmatd_bind_node(s->node));
		dmatd_diag("memory from NUMA node %d only", s->node);
	}
	dmatd_diag("%s: cpu %d, mode %s%s%s, addr-bits %u, max-segments %u, max-transfer 0x%" PRIx64 ", lists at pa 0x%" PRIx64 "/0x%" PRIx64 " (%u/%u segments), seed 0x%08" PRIx64,
		   s->bdf, s->cpu, dmatd_vfio_mode_name(s->mode),
		   s->mode == DMATD_VFIO_CDEV ? " " : "",
		   s->mode == DMATD_VFIO_CDEV ? s->dev.vfio.cdev : "",
		   s->dev.addr_bits, s->dev.max_segs, s->dev.max_xfer,
		   s->dev.src.pa, s->dev.dst.pa, s->dev.src.cap,
		   s->dev.dst.cap, s->seed);
}

int dmatd_session_close(void)
{
	struct dmatd_session *s = &dmatd_sess;
	char path[64];
	int gfd, err;
	long pin;

	dmatd_dev_close(&s->dev);
	if (s->mode == DMATD_VFIO_CDEV) {
		pin = dmatd_status_kb("VmPin");
		if (pin < -1)
			dmatd_fatal("%s", dmatd_last_error());
		dmatd_check("close-releases-pins", !pin,
			    "VmPin %ld kB after closing the device and the iommufd",
			    pin);
		return dmatd_tap_done();
	}
	/*
	 * The legacy twin of dt-pin-abi's no-cap-sys-rawio-cdev-open: a
	 * no-IOMMU group (closed again now) opens only with CAP_SYS_RAWIO.
	 */
	snprintf(path, sizeof(path), "/dev/vfio/noiommu-%d", s->dev.vfio.group);
	DMATD_CHECK_CALL(dmatd_set_cap(CAP_SYS_RAWIO, false));
	gfd = open(path, O_RDWR | O_CLOEXEC);
	err = gfd < 0 ? -errno : 0;
	if (gfd >= 0)
		close(gfd);
	DMATD_CHECK_CALL(dmatd_set_cap(CAP_SYS_RAWIO, true));
	dmatd_check("no-cap-sys-rawio-group-open", err == -EPERM,
		    "open %s without CAP_SYS_RAWIO: %s", path, dmatd_errname(err));
	return dmatd_tap_done();
}
