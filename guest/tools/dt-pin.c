// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dt-pin: check no-IOMMU DMA to pinned user memory with dma-testdev.
 *
 * The tool pins a buffer for DMA (cdev: IOMMU_IOAS_MAP, addresses from
 * IOMMU_IOAS_NOIOMMU_GET_PA; legacy: mlock() and /proc/self/pagemap),
 * makes the device write and verify a pattern through the addresses it
 * got, and checks the result.  It prints TAP for a human or a harness,
 * and the "@dt" lines of docs/guest-protocol.rst for the host oracle,
 * which checks from outside the guest where every page and every DMA
 * really was.  With --handshake it stops at each "@dt wait" until the
 * host writes "go" on stdin.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/mempolicy.h>

#include <dtlib/log.h>
#include <dtlib/parse.h>
#include <dtlib/testdev.h>

#define MAX_MAPS	64
/* Scatter: fragment at most this much memory. */
#define FRAG_MAX	(512UL << 20)
#define COMPACT_FRAG_MIN	(64UL << 20)

struct opts {
	const char *bdf;
	enum dmatd_vfio_mode mode;
	bool mode_set;
	enum dmatd_backing backing;
	uint64_t len;
	uint64_t offset;
	bool fixed;
	uint64_t fixed_iova;
	unsigned int maps;
	bool scatter;
	bool handshake;
	bool migrate;
	bool compact;
	bool fork;
	enum { DECOY_NONE, DECOY_STRAYS, DECOY_TAG } decoy;
	int node;
	bool movable;
	uint64_t file_off;
	bool errno_cases;
	bool hazard;
	/* u64: never a pattern word's high half in memory, see scrub_cpu() */
	uint64_t seed;
	bool seed_set;
};

/*
 * One buffer under test.  The host scans all guest RAM for page tags
 * (DMATD_PAGE_TAG_SIZE) and for words of the pattern, so this process keeps
 * no pattern word in a form it could find: the seed in a u64.  The nonce
 * needs no such care: alone, without its page's check word, it is no tag.
 */
struct buffer {
	struct dmatd_buf buf;
	struct dmatd_mapping map;
	uint64_t nonce;		/* in the page tags now */
	uint64_t old_nonce;	/* in the page tags before the last renonce() */
	uint64_t seed;
	char name[32];
	struct dmatd_run *runs;
	size_t nr;
};

static struct opts opt = {
	.mode = DMATD_VFIO_CDEV,
	.backing = DMATD_BACKING_4K,
	.len = 1 << 20,
	.maps = 1,
	.node = -1,
};

static struct dmatd_dev dev;
static char bdf[DMATD_BDF_LEN];
/* The CPU the tool runs on, see main() and scrub_cpu(). */
static int tool_cpu;

/* --- Output: TAP and the @dt protocol ----------------------------------- */

static unsigned int tap_n, tap_pass, tap_fail;
static const char *cur_case;
static bool cur_failed;

/* One whole line at a time, so that lines never interleave on the console. */
static void vline(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	printf("%s%s\n", prefix, line);
}

static void __printf(1, 2) diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("# ", fmt, ap);
	va_end(ap);
}

static void __printf(1, 2) proto(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("@dt ", fmt, ap);
	va_end(ap);
}

static void lib_log(const char *msg)
{
	diag("dtlib: %s", msg);
}

/*
 * Record one check: a TAP test line, and an "@dt check" line for the host.
 * Returns @ok so that callers can stop when a check they depend on fails.
 */
static bool __printf(3, 4) check(const char *name, bool ok,
				  const char *fmt, ...)
{
	char detail[768] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	proto("check name=%s result=%s%s%s", name, ok ? "ok" : "fail",
	      detail[0] ? " " : "", detail);
	tap_n++;
	printf("%sok %u %s/%s\n", ok ? "" : "not ", tap_n,
	       cur_case ? cur_case : "setup", name);
	if (detail[0] && !ok)
		diag("%s: %s", name, detail);
	if (ok) {
		tap_pass++;
	} else {
		tap_fail++;
		cur_failed = true;
	}
	return ok;
}

static noinline void begin_case(const char *name, const struct buffer *b)
{
	cur_case = name;
	cur_failed = false;
	/* The offset into the buffer's first 4 KiB page (page 0). */
	proto("begin case=%s mode=%s backing=%s len=0x%zx offset=0x%" PRIxPTR " nonce=0x%016" PRIx64,
	      name, dmatd_vfio_mode_name(opt.mode),
	      dmatd_backing_name(b->buf.backing), b->buf.len,
	      (uintptr_t)b->buf.va & (DMATD_PAGE_SIZE - 1), b->nonce);
}

static void end_case(void)
{
	const char *result = cur_failed ? "fail" : "pass";

	proto("end case=%s result=%s", cur_case, result);
	cur_case = NULL;
}

static void report_fatal(const char *msg)
{
	proto("fatal msg=%s", msg);
	if (cur_case)
		proto("end case=%s result=fail", cur_case);
	printf("Bail out! %s\n", msg);
}

/* The tool cannot go on: say so in its protocol and exit with status 2. */
#define fatal(...)	dmatd_die(report_fatal, __VA_ARGS__)

/* A library call failed: its message names the call and the errno. */
#define CHECK_CALL(expr)						\
	do {								\
		if ((expr) < 0)						\
			fatal("%s", dmatd_last_error());			\
	} while (0)

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
	cpu_set_t set;
	long c;

	if (!zero_page) {
		void *p = mmap(NULL, DMATD_PAGE_SIZE, PROT_READ,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			fatal("mmap a page to fault on: %s (errno %d)",
			      strerror(errno), errno);
		zero_page = p;
	}
	for (c = 0; c < ncpu && c < CPU_SETSIZE; c++) {
		CPU_ZERO(&set);
		CPU_SET(c, &set);
		/* Offline CPUs refuse: nothing of ours ran there. */
		if (sched_setaffinity(0, sizeof(set), &set))
			continue;
		if (madvise((void *)zero_page, DMATD_PAGE_SIZE, MADV_DONTNEED))
			fatal("madvise MADV_DONTNEED %p: %s (errno %d)",
			      zero_page, strerror(errno), errno);
		clobber_regs();
		(void)*zero_page;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fatal("sched_setaffinity back to CPU %d: %s (errno %d)", cpu,
		      strerror(errno), errno);
}

static noinline void scrub_cpu(void)
{
	char junk[512 << 10];

	explicit_bzero(junk, sizeof(junk));
	__asm__ volatile("" : : "r"(junk) : "memory");
	fault_on_every_cpu(tool_cpu);
	clobber_regs();
}

/*
 * "@dt wait what=@what", then wait for "go".  With @b the line names the
 * nonce the host must look for now (after renonce()).
 *
 * The scrub runs from the caller's frame, as a macro: the frame of a
 * function that scrubbed for itself would overlay, unwiped, the dead
 * frames it should have wiped.
 */
#define wait_go(what, b)						\
	do {								\
		if (opt.handshake)					\
			scrub_cpu();					\
		do_wait_go(what, b);					\
	} while (0)

static noinline void do_wait_go(const char *what, const struct buffer *b)
{
	static char line[256];

	if (!opt.handshake)
		return;
	if (b)
		proto("wait what=%s nonce=0x%016" PRIx64, what, b->nonce);
	else
		proto("wait what=%s", what);
	fflush(stdout);
	for (;;) {
		size_t n;

		if (!fgets(line, sizeof(line), stdin)) {
			if (ferror(stdin))
				fatal("reading 'go' from stdin: %s (errno %d)",
				      strerror(errno), errno);
			fatal("stdin closed while waiting for 'go' after @dt wait what=%s",
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

static noinline uint64_t random64(void)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		v = ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ getpid();
	}
	return v;
}

/* splitmix64: a cheap, good 64-bit mixer for content that is not pattern. */
static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Physical addresses of every 4 KiB page the buffer touches. */
static uint64_t *buffer_page_pas(struct buffer *b, size_t *npages)
{
	size_t n = dmatd_buf_pages(&b->buf);
	uint64_t *pa = calloc(n, sizeof(*pa));
	int fd;

	if (!pa)
		fatal("calloc %zu page addresses: %s", n, strerror(ENOMEM));
	fd = dmatd_vfio_pagemap(&dev.vfio);
	CHECK_CALL(fd);
	CHECK_CALL(dmatd_pagemap_pa(fd, dmatd_buf_page(&b->buf, 0), n, pa));
	*npages = n;
	return pa;
}

/* Physical address of buffer page @i according to the runs. */
static bool runs_page_pa(const struct buffer *b, size_t i, uint64_t *pa)
{
	uint64_t va = (uintptr_t)dmatd_buf_page(&b->buf, i);
	uint64_t off = va - (uintptr_t)b->buf.map;	/* from map start */
	uint64_t iova = b->map.iova + off;
	size_t r;

	/* Page 0 may start before the buffer: look up its first byte. */
	if (i == 0)
		iova = b->map.iova + b->buf.offset;
	for (r = 0; r < b->nr; r++) {
		const struct dmatd_run *run = &b->runs[r];

		if (iova >= run->iova && iova < run->iova + run->len) {
			*pa = (run->pa + (iova - run->iova)) &
			      ~(DMATD_PAGE_SIZE - 1);
			return true;
		}
	}
	return false;
}

/* --- Buffers ------------------------------------------------------------ */

/* The page tag (see the contract header) at the start of every page. */
static noinline void write_tags(struct buffer *b)
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
		v = random64();
	} while (!v || !~v);
	return v;
}

/*
 * A page that moved leaves its old frame behind, tag and all: give the
 * pages a new nonce so that the host finds each of them exactly once.
 */
static noinline void renonce(struct buffer *b)
{
	b->old_nonce = b->nonce;
	b->nonce = random_nonzero();
	write_tags(b);
}

static noinline void buffer_alloc(struct buffer *b, enum dmatd_backing backing,
				  const char *name, unsigned int idx)
{
	memset(b, 0, sizeof(*b));
	if (backing == DMATD_BACKING_MEMFD ||
	    backing == DMATD_BACKING_MEMFD_HUGETLB)
		CHECK_CALL(dmatd_buf_alloc_file(&b->buf, backing, opt.len,
						opt.offset, opt.file_off));
	else
		CHECK_CALL(dmatd_buf_alloc(&b->buf, backing, opt.len,
					   opt.offset));
	snprintf(b->name, sizeof(b->name), "%s", name);
	b->nonce = random_nonzero();
	b->old_nonce = b->nonce;
	/* A seed per buffer: the host tells their patterns apart. */
	b->seed = (uint32_t)(opt.seed + idx);
	if (!b->seed)
		b->seed = 1;
	write_tags(b);
}

static void buffer_free(struct buffer *b)
{
	if (b->map.mapped)
		dmatd_dma_unmap(&dev.vfio, &b->map);
	dmatd_buf_free(&b->buf);
	free(b->runs);
	b->runs = NULL;
}

static void translate(struct buffer *b)
{
	free(b->runs);
	b->runs = NULL;
	CHECK_CALL(dmatd_dma_runs(&dev.vfio, &b->map, b->buf.offset, b->buf.len,
				  &b->runs, &b->nr));
}

/* The runs (cdev) or page addresses (legacy) as protocol lines. */
static void report_translation(struct buffer *b)
{
	size_t i, n;
	uint64_t *pa;

	if (opt.mode == DMATD_VFIO_CDEV) {
		for (i = 0; i < b->nr; i++)
			proto("run index=%zu iova=0x%" PRIx64 " pa=0x%" PRIx64 " len=0x%" PRIx64,
			      i, b->runs[i].iova, b->runs[i].pa,
			      b->runs[i].len);
		return;
	}
	pa = buffer_page_pas(b, &n);
	for (i = 0; i < n; i++)
		proto("pfn page=%zu pa=0x%" PRIx64, i, pa[i]);
	free(pa);
}

/* --- Checks on the translation ----------------------------------------- */

static void check_runs(struct buffer *b)
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
	check("runs-cover", bad == SIZE_MAX && sum == b->buf.len,
	      "runs=%zu bytes=0x%" PRIx64 " want=0x%zx first-bad-run=%zd",
	      b->nr, sum, b->buf.len, bad == SIZE_MAX ? -1 : (ssize_t)bad);
	check("runs-first-offset", b->nr &&
	      (b->runs[0].pa & (DMATD_PAGE_SIZE - 1)) == first_off,
	      "pa=0x%" PRIx64 " page-offset=0x%" PRIx64,
	      b->nr ? b->runs[0].pa : 0, first_off);
	/*
	 * In cdev mode every run comes from one GET_PA call, which returns a
	 * maximal contiguous run: two adjacent runs that are contiguous
	 * mean the kernel split one.  The legacy runs are merged by us.
	 */
	if (opt.mode == DMATD_VFIO_CDEV)
		check("runs-maximal", !merged,
		      "%zu run boundaries are physically contiguous", merged);
	diag("%s: %zu physically contiguous run(s), largest 0x%" PRIx64 " bytes",
	     b->name, b->nr, b->nr ? b->runs[largest].len : 0);
}

/* cdev: every page's GET_PA address is where pagemap says it is. */
static void check_pagemap_agrees(struct buffer *b)
{
	size_t i, n, bad = 0, first = SIZE_MAX;
	uint64_t *pa = buffer_page_pas(b, &n), rpa = 0;

	for (i = 0; i < n; i++) {
		if (!runs_page_pa(b, i, &rpa) || rpa != pa[i]) {
			if (first == SIZE_MAX)
				first = i;
			bad++;
		}
	}
	if (first != SIZE_MAX)
		runs_page_pa(b, first, &rpa);
	check("get-pa-matches-pagemap", !bad,
	      "pages=%zu differ=%zu first=%zd get-pa=0x%" PRIx64 " pagemap=0x%" PRIx64,
	      n, bad, first == SIZE_MAX ? -1 : (ssize_t)first,
	      first == SIZE_MAX ? 0 : rpa,
	      first == SIZE_MAX ? 0 : pa[first]);
	free(pa);
}

/* thp/hugetlb: each 2 MiB of the mapping is one aligned physical block. */
static void check_huge(struct buffer *b)
{
	size_t i, n = b->buf.map_len / DMATD_PAGE_SIZE, bad = 0;
	const size_t per = DMATD_HPAGE_SIZE / DMATD_PAGE_SIZE;
	uint64_t *pa = calloc(n, sizeof(*pa));
	int fd;

	if (!pa)
		fatal("calloc %zu page addresses: %s", n, strerror(ENOMEM));
	fd = dmatd_vfio_pagemap(&dev.vfio);
	CHECK_CALL(fd);
	CHECK_CALL(dmatd_pagemap_pa(fd, b->buf.map, n, pa));
	for (i = 0; i < n; i += per) {
		size_t j;

		if (pa[i] & (DMATD_HPAGE_SIZE - 1)) {
			bad++;
			continue;
		}
		for (j = 1; j < per; j++) {
			if (pa[i + j] != pa[i] + j * DMATD_PAGE_SIZE) {
				bad++;
				break;
			}
		}
	}
	check("huge-backing", !bad, "%zu of %zu 2 MiB blocks are not huge pages",
	      bad, n / per);
	free(pa);
}

/* --- DMA through the device -------------------------------------------- */

static void report_dma(uint32_t op, uint64_t seed, struct dmatd_seglist *l,
		       const struct dmatd_result *r)
{
	proto("dma op=%s seed=0x%08" PRIx64 " segs=%u status=0x%x error=%u bytes=0x%" PRIx64 " seq=0x%" PRIx64 " list=0x%" PRIx64,
	      dmatd_op_name(op), seed, l->count, r->status, r->error, r->bytes_done,
	      r->cmd_seq, l->pa);
}

static bool check_dma_ok(const char *name, const struct dmatd_result *r,
			 uint64_t len)
{
	return check(name, r->status == DMATD_STATUS_DONE &&
		     r->error == DMATD_ERR_NONE && r->bytes_done == len,
		     "status=0x%x error=%s err-seg=%u err-list=%u err-addr=0x%" PRIx64 " bytes=0x%" PRIx64 " want=0x%" PRIx64,
		     r->status, dmatd_error_name(r->error), r->err_seg,
		     r->err_list, r->err_addr, r->bytes_done, len);
}

/* The CPU reads the pattern back through its own mapping. */
static noinline void check_cpu_pattern(struct buffer *b)
{
	uint64_t base = (uintptr_t)b->buf.va & (DMATD_PAGE_SIZE - 1);
	uint64_t off, bad = 0, first = UINT64_MAX, got = 0, want = 0;
	const uint8_t *p = b->buf.va;

	for (off = 0; off < b->buf.len; off += 8) {
		uint64_t w = 0, e = dmatd_pattern_word(b->seed, off);
		size_t n = b->buf.len - off < 8 ? b->buf.len - off : 8;

		memcpy(&w, p + off, n);
		if (n < 8)
			e &= (1ULL << (n * 8)) - 1;
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
		check("cpu-sees-pattern", true, "words=%" PRIu64,
		      (b->buf.len + 7) / 8);
		return;
	}
	check("cpu-sees-pattern", false,
	      "bad-words=%" PRIu64 " first: page=%" PRIu64 " page-offset=0x%" PRIx64 " transfer-offset=0x%" PRIx64 " got=0x%016" PRIx64 " want=0x%016" PRIx64,
	      bad, (base + first) / DMATD_PAGE_SIZE,
	      (base + first) & (DMATD_PAGE_SIZE - 1), first, got, want);
}

static noinline void dma_write_verify(struct buffer *b)
{
	struct dmatd_result r;

	CHECK_CALL(dmatd_seglist_set(&dev, &dev.dst, b->runs, b->nr));
	CHECK_CALL(dmatd_dev_cmd(&dev, DMATD_OP_WRITE_PATTERN, b->seed, 0, NULL,
				 &dev.dst, &r));
	report_dma(DMATD_OP_WRITE_PATTERN, b->seed, &dev.dst, &r);
	check_dma_ok("dma-write", &r, b->buf.len);
	check_cpu_pattern(b);

	CHECK_CALL(dmatd_seglist_set(&dev, &dev.src, b->runs, b->nr));
	CHECK_CALL(dmatd_dev_cmd(&dev, DMATD_OP_VERIFY_PATTERN, b->seed, 0,
				 &dev.src, NULL, &r));
	report_dma(DMATD_OP_VERIFY_PATTERN, b->seed, &dev.src, &r);
	check_dma_ok("dma-verify", &r, b->buf.len);
	check("dma-verify-match", !(r.status & DMATD_STATUS_MISMATCH) &&
	      !r.mismatch_count &&
	      r.checksum == dmatd_pattern_csum(b->seed, b->buf.len),
	      "mismatches=%u seg=%u offset=0x%" PRIx64 " want=0x%016" PRIx64 " got=0x%016" PRIx64 " checksum=0x%016" PRIx64 " want=0x%016" PRIx64,
	      r.mismatch_count, r.mismatch_seg, r.mismatch_off,
	      r.mismatch_exp, r.mismatch_got, r.checksum,
	      dmatd_pattern_csum(b->seed, b->buf.len));
}

/* --- Page migration ----------------------------------------------------- */

/* The unit move_pages() moves: one address per THP or huge page. */
static size_t unit_size(const struct buffer *b)
{
	return b->buf.page_size;
}

struct move {
	size_t count;
	void **addr;
	int *status;
	int *nodes;
	long ret;
	int target;
};

static void move_prepare(struct buffer *b, struct move *mv)
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
		fatal("calloc for %zu pages to move: %s", mv->count,
		      strerror(ENOMEM));
	for (i = 0; i < mv->count; i++)
		mv->addr[i] = (void *)(start + i * unit);
	if (nodes < 2)
		fatal("moving pages needs 2 NUMA nodes, the guest has %d (QEMU -numa, CONFIG_NUMA)",
		      nodes);
	/* Where the first page is now: move_pages() with no nodes asks. */
	mv->ret = dmatd_move_pages(1, mv->addr, NULL, mv->status, 0);
	if (mv->ret < 0)
		fatal("move_pages query of %p: %s (errno %ld)", mv->addr[0],
		      strerror(-mv->ret), -mv->ret);
	cur = mv->status[0];
	if (cur < 0)
		fatal("move_pages query of %p: page status %d (%s)",
		      mv->addr[0], cur, strerror(-cur));
	mv->target = (cur + 1) % nodes;
	for (i = 0; i < mv->count; i++)
		mv->nodes[i] = mv->target;
	diag("%s: moving %zu page(s) of 0x%" PRIx64 " bytes from node %d to node %d",
	     b->name, mv->count, unit, cur, mv->target);
}

/*
 * move_pages() leaves the status of a page it did not migrate (a pinned
 * one) unwritten: preset every slot to a sentinel to see that.
 */
static void move_run(struct move *mv)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;
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
		int next = (tool_cpu + 1) % ncpu;

		CPU_ZERO(&set);
		CPU_SET(next, &set);
		if (!sched_setaffinity(0, sizeof(set), &set))
			tool_cpu = next;
	}
	if (mv->ret < 0)
		fatal("move_pages of %zu pages to node %d: %s (errno %ld)",
		      mv->count, mv->target, strerror(-mv->ret), -mv->ret);
}

static void move_free(struct move *mv)
{
	free(mv->addr);
	free(mv->status);
	free(mv->nodes);
}

/* Status of the move of the unit holding buffer page @i. */
static int move_status(const struct buffer *b, const struct move *mv,
		       size_t i)
{
	uintptr_t va = (uintptr_t)dmatd_buf_page(&b->buf, i);
	size_t u = (va - (uintptr_t)mv->addr[0]) / unit_size(b);

	return u < mv->count ? mv->status[u] : INT_MIN;
}

/* Print "@dt moved" for every page whose PA changed; count them. */
static size_t report_moved(const struct buffer *b, const uint64_t *before,
			   const uint64_t *after, size_t n,
			   const struct move *mv, bool proto_lines)
{
	size_t i, moved = 0;

	for (i = 0; i < n; i++) {
		int st = mv ? move_status(b, mv, i) : -1;

		if (before[i] == after[i])
			continue;
		moved++;
		if (proto_lines)
			proto("moved page=%zu old=0x%" PRIx64 " new=0x%" PRIx64 " status=%d",
			      i, before[i], after[i], st);
		else if (moved <= 3)
			diag("control: page %zu moved 0x%" PRIx64 " -> 0x%" PRIx64 " status %d",
			     i, before[i], after[i], st);
	}
	if (!proto_lines && moved > 3)
		diag("control: ... %zu pages moved in all", moved);
	return moved;
}

static bool runs_equal(const struct buffer *b, const struct dmatd_run *runs,
		       size_t nr)
{
	return nr == b->nr && !memcmp(runs, b->runs, nr * sizeof(*runs));
}

/*
 * cdev: pinned pages must not move.  The kernel reports them as not
 * migrated (a positive count) and leaves their status slots alone.
 */
static void migrate_pinned(struct buffer *b)
{
	size_t n, i, written = 0, moved;
	uint64_t *before, *after;
	struct dmatd_run *runs0;
	struct move mv;
	size_t nr0;

	before = buffer_page_pas(b, &n);
	move_prepare(b, &mv);
	move_run(&mv);
	after = buffer_page_pas(b, &n);
	for (i = 0; i < mv.count; i++)
		written += mv.status[i] != INT_MIN;
	moved = report_moved(b, before, after, n, &mv, true);
	check("pinned-move-pages-refused", mv.ret == (long)mv.count,
	      "move_pages returned %ld for %zu pages", mv.ret, mv.count);
	check("pinned-status-unwritten", !written,
	      "%zu of %zu status slots written (first %d)", written, mv.count,
	      mv.status[0]);
	check("pinned-pfn-unchanged", !moved, "%zu of %zu pages moved", moved,
	      n);

	runs0 = b->runs;
	nr0 = b->nr;
	b->runs = NULL;
	translate(b);
	check("pinned-get-pa-unchanged", runs_equal(b, runs0, nr0),
	      "runs before=%zu after=%zu", nr0, b->nr);
	free(runs0);
	free(before);
	free(after);
	move_free(&mv);
}

/* cdev control: once unmapped, the same pages do move. */
static void migrate_unpinned(struct buffer *b)
{
	size_t n, i, ok = 0, moved;
	uint64_t *before, *after;
	struct move mv;

	CHECK_CALL(dmatd_dma_unmap(&dev.vfio, &b->map));
	before = buffer_page_pas(b, &n);
	move_prepare(b, &mv);
	move_run(&mv);
	after = buffer_page_pas(b, &n);
	for (i = 0; i < mv.count; i++)
		ok += mv.status[i] == mv.target;
	moved = report_moved(b, before, after, n, &mv, false);
	check("unpinned-pages-move", !mv.ret && ok == mv.count && moved == n,
	      "move_pages returned %ld, %zu of %zu at node %d, %zu of %zu pages moved",
	      mv.ret, ok, mv.count, mv.target, moved, n);
	free(before);
	free(after);
	move_free(&mv);
}

/* Legacy: mlock()ed pages move; report each with its old and new PA. */
static void migrate_locked(struct buffer *b, const uint64_t *before)
{
	size_t n, i, ok = 0, moved;
	uint64_t *after;
	struct move mv;

	move_prepare(b, &mv);
	move_run(&mv);
	after = buffer_page_pas(b, &n);
	for (i = 0; i < mv.count; i++)
		ok += mv.status[i] == mv.target;
	moved = report_moved(b, before, after, n, &mv, true);
	check("locked-pages-move", !mv.ret && ok == mv.count,
	      "move_pages returned %ld, %zu of %zu at node %d",
	      mv.ret, ok, mv.count, mv.target);
	check("locked-pfn-changed", moved == n, "%zu of %zu pages moved",
	      moved, n);
	free(after);
	move_free(&mv);
}

/* --- Compaction --------------------------------------------------------- */

static struct dmatd_frag frag;

static void fragment(size_t len)
{
	if (len > FRAG_MAX)
		len = FRAG_MAX;
	/* Pinned to one CPU (main()): we allocate from the lists we free to. */
	CHECK_CALL(dmatd_frag_make(&frag, len));
	diag("fragmented 0x%zx bytes: every other 4 KiB page freed",
	     frag.len);
}

/* PAs of the fragment's pages that are still in use (the even ones). */
static uint64_t *frag_pas(size_t *n)
{
	size_t i, cnt = frag.len / DMATD_PAGE_SIZE;
	uint64_t *pa = calloc(cnt, sizeof(*pa)), *even;
	int fd = dmatd_vfio_pagemap(&dev.vfio);

	even = calloc(cnt / 2 + 1, sizeof(*even));
	if (!pa || !even)
		fatal("calloc %zu page addresses: %s", cnt, strerror(ENOMEM));
	CHECK_CALL(fd);
	CHECK_CALL(dmatd_pagemap_pa(fd, frag.map, cnt, pa));
	for (i = 0; i < cnt; i += 2)
		even[i / 2] = pa[i];
	free(pa);
	*n = cnt / 2;
	return even;
}

static void compact(struct buffer *b)
{
	uint64_t *before, *after, *fb, *fa;
	size_t n, fn, i, moved, fmoved = 0;

	if (!frag.map)
		fatal("compaction needs the fragmentation made before the buffer");
	before = buffer_page_pas(b, &n);
	fb = frag_pas(&fn);
	CHECK_CALL(dmatd_sysfs_write("/proc/sys/vm/compact_memory", "1"));
	after = buffer_page_pas(b, &n);
	fa = frag_pas(&fn);
	for (i = 0; i < fn; i++)
		fmoved += fb[i] != fa[i];
	diag("compaction moved %zu of %zu unpinned fragment pages", fmoved,
	     fn);
	moved = report_moved(b, before, after, n, NULL, true);
	if (opt.mode == DMATD_VFIO_CDEV) {
		/* Only this is asserted: how much compaction moves varies. */
		if (!fmoved)
			diag("compaction moved no unpinned page either: the next check proves little");
		check("pinned-not-compacted", !moved,
		      "%zu of %zu pinned pages moved (%zu of %zu unpinned)",
		      moved, n, fmoved, fn);
	} else {
		diag("%s: compaction moved %zu of %zu mlocked pages", b->name,
		     moved, n);
	}
	free(before);
	free(after);
	free(fb);
	free(fa);
}

/* --- Fork ---------------------------------------------------------------- */

/* Write one byte of every page of @b, after its tag. */
static void touch_pages(struct buffer *b)
{
	size_t i, n = dmatd_buf_pages(&b->buf);

	for (i = 0; i < n; i++)
		((volatile uint8_t *)dmatd_buf_page(&b->buf, i))[DMATD_PAGE_TAG_SIZE] ^= 0x5a;
}

static void sync_byte(int fd, bool write_it)
{
	char c = 'x';
	ssize_t r = write_it ? write(fd, &c, 1) : read(fd, &c, 1);

	if (r != 1)
		fatal("fork handshake %s: %s", write_it ? "write" : "read",
		      r < 0 ? strerror(errno) : "end of file");
}

/*
 * --fork: fork with the buffer pinned (cdev) or mlocked (legacy); while
 * the child still maps the buffer, the parent writes every page; then the
 * child writes its own and exits.  A pinned page must not move: fork gave
 * the child a copy at once (folio_needs_cow_for_dma()), so the parent's
 * page is not shared and its write needs no copy-on-write.  An mlocked
 * page is shared with the child, and the parent's write copies it: it
 * moves, away from the address a device still has (the hazard of DPDK's
 * legacy path after a fork(), e.g. by system()).
 */
static void fork_and_write(struct buffer *b)
{
	uint64_t *before, *after;
	int to_child[2], to_parent[2], status;
	size_t n, moved;
	pid_t pid;

	before = buffer_page_pas(b, &n);
	if (pipe(to_child) || pipe(to_parent))
		fatal("pipe: %s (errno %d)", strerror(errno), errno);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		fatal("fork: %s (errno %d)", strerror(errno), errno);
	if (!pid) {
		sync_byte(to_child[0], false);
		touch_pages(b);
		sync_byte(to_parent[1], true);
		_exit(0);
	}
	touch_pages(b);
	after = buffer_page_pas(b, &n);
	sync_byte(to_child[1], true);
	sync_byte(to_parent[0], false);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		fatal("the child of fork() ended with status 0x%x", status);
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
	moved = report_moved(b, before, after, n, NULL, true);
	if (opt.mode == DMATD_VFIO_CDEV)
		check("fork-keeps-pinned-frames", !moved,
		      "%zu of %zu pinned pages moved when the parent wrote after fork()",
		      moved, n);
	else
		check("fork-moves-mlocked-pages", moved == n,
		      "%zu of %zu mlocked pages moved when the parent wrote after fork()",
		      moved, n);
	free(before);
	free(after);
}

/* --- The pin case ------------------------------------------------------- */

/*
 * --movable: a long-term pin (FOLL_LONGTERM) must not leave a page in
 * ZONE_MOVABLE, which exists to be emptied (memory offline, huge page
 * allocation): the pin migrates such pages out first.  The buffer's pages
 * must start there, else the case proves nothing; after the pin every
 * page the runs name must lie outside it.  The host's tag scan checks
 * the runs against where the pages really went.
 */
static struct dmatd_zone_ranges movable;

static void movable_before_pin(struct buffer *b)
{
	size_t i, n, in = 0;
	uint64_t *pa;

	CHECK_CALL(dmatd_zone_ranges("Movable", &movable));
	if (!movable.n)
		fatal("--movable: no ZONE_MOVABLE (boot with movablecore=)");
	pa = buffer_page_pas(b, &n);
	for (i = 0; i < n; i++)
		in += dmatd_in_zone(&movable, pa[i]);
	check("movable-before-pin", in > 0,
	      "%zu of %zu pages in ZONE_MOVABLE before the pin", in, n);
	free(pa);
}

static void check_outside_movable(struct buffer *b)
{
	size_t i, n = dmatd_buf_pages(&b->buf), bad = 0;
	uint64_t pa, first = 0;

	for (i = 0; i < n; i++) {
		if (!runs_page_pa(b, i, &pa) || !dmatd_in_zone(&movable, pa))
			continue;
		if (!bad++)
			first = pa;
	}
	check("pinned-outside-movable", !bad,
	      "%zu of %zu pinned pages in ZONE_MOVABLE, the first at 0x%" PRIx64,
	      bad, n, first);
}

/*
 * --x-decoy, the controls of the host's scans.  Before the host first
 * looks for the pages, a page of ours outside the buffer gets either
 * strays, which the host must ignore: at its start page 0's nonce and
 * index without the check word (what a stray copy of the printed nonce
 * looks like), further on two words of the pattern's shape that the
 * device never wrote (one of an offset inside the transfer, one past it:
 * what a chance match or a CPU copy looks like); or a whole copy of page
 * 0's tag, which the host must report as page 0 found twice.
 */
static void write_decoy(const struct buffer *b)
{
	static uint64_t *decoy;

	if (!decoy) {
		void *p = mmap(NULL, DMATD_PAGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			fatal("mmap a decoy page: %s (errno %d)",
			      strerror(errno), errno);
		decoy = p;
	}
	decoy[0] = b->nonce;
	decoy[1] = 0;
	decoy[2] = opt.decoy == DECOY_TAG ?
		   dmatd_page_tag_check(b->nonce, 0) : 0;
	if (opt.decoy == DECOY_STRAYS) {
		decoy[8] = dmatd_pattern_word(b->seed, 8);
		decoy[9] = dmatd_pattern_word(b->seed, 0x7fffff80ULL);
	}
	diag("%s: decoy at va %p: %s", b->name, (void *)decoy,
	     opt.decoy == DECOY_TAG ? "a copy of page 0's tag" :
	     "page 0's nonce without its check word, two pattern words");
}

static void run_buffer(struct buffer *b)
{
	/* Legacy DMA after a move would hit freed frames: not here. */
	bool moves = opt.migrate || opt.compact || opt.fork;
	bool dma = !(opt.mode == DMATD_VFIO_LEGACY && moves);
	uint64_t *before = NULL;
	size_t n;

	/*
	 * A page may have moved between its first nonce and the pin (kcompactd,
	 * or the pin migrating it), leaving a stale copy in the frame it left.
	 * Pinned now, the pages are tagged afresh, so that the host finds each
	 * exactly once, where it stays.
	 */
	if (opt.mode == DMATD_VFIO_CDEV)
		renonce(b);
	begin_case(b->name, b);
	translate(b);
	if (opt.mode == DMATD_VFIO_LEGACY)
		before = buffer_page_pas(b, &n);
	if (opt.decoy)
		write_decoy(b);
	wait_go("pinned", NULL);
	report_translation(b);
	check_runs(b);
	if (opt.mode == DMATD_VFIO_CDEV)
		check_pagemap_agrees(b);
	if (b->buf.backing == DMATD_BACKING_THP ||
	    b->buf.backing == DMATD_BACKING_HUGETLB ||
	    b->buf.backing == DMATD_BACKING_MEMFD_HUGETLB)
		check_huge(b);
	if (opt.scatter)
		check("scattered", b->nr > 1, "runs=%zu", b->nr);
	if (opt.movable)
		check_outside_movable(b);

	if (opt.migrate) {
		if (opt.mode == DMATD_VFIO_CDEV)
			migrate_pinned(b);
		else
			migrate_locked(b, before);
	}
	if (opt.compact)
		compact(b);
	if (opt.fork)
		fork_and_write(b);
	if (moves) {
		/*
		 * The host locates the pages again: the legacy ones that
		 * moved, and the pinned ones that must not have.
		 */
		renonce(b);
		wait_go("moved", b);
	}
	if (dma)
		dma_write_verify(b);
	/* Still mapped and pinned: the host checks the pattern and log. */
	wait_go("checked", NULL);
	if (opt.migrate && opt.mode == DMATD_VFIO_CDEV)
		migrate_unpinned(b);
	free(before);
	end_case();
}

static void check_unmapped(struct buffer *b)
{
	struct iommu_ioas_noiommu_get_pa cmd = {
		.size = sizeof(cmd),
		.ioas_id = dev.vfio.ioas_id,
		.iova = b->map.iova,
		.length = b->buf.map_len,
	};
	int ret;

	if (!b->map.mapped)
		return;
	CHECK_CALL(dmatd_dma_unmap(&dev.vfio, &b->map));
	if (opt.mode != DMATD_VFIO_CDEV)
		return;
	ret = __dt_get_pa(dev.vfio.iommufd, &cmd);
	check("unmap-releases", ret == -ENOENT,
	      "GET_PA after IOMMU_IOAS_UNMAP: %s (pa 0x%llx len 0x%llx)",
	      ret ? strerror(-ret) : "success",
	      (unsigned long long)cmd.out_phys,
	      (unsigned long long)cmd.length);
}

static void case_pin(void)
{
	struct buffer *bufs = calloc(opt.maps, sizeof(*bufs));
	uint64_t stride = 0;
	unsigned int i, j;

	if (!bufs)
		fatal("calloc %u buffers: %s", opt.maps, strerror(ENOMEM));
	if (opt.scatter || opt.compact) {
		size_t len = 2 * DMATD_ALIGN(opt.offset + opt.len, DMATD_PAGE_SIZE) *
			     opt.maps;

		/* Compaction needs enough movable pages around to act. */
		if (opt.compact && len < COMPACT_FRAG_MIN)
			len = COMPACT_FRAG_MIN;
		fragment(len);
	}
	for (i = 0; i < opt.maps; i++) {
		char name[32];
		const char *base = opt.migrate ? "migrate" :
				   opt.compact ? "compact" :
				   opt.fork ? "fork" :
				   opt.scatter ? "scatter" : "pin";

		if (opt.maps > 1)
			snprintf(name, sizeof(name), "%s.%u", base, i);
		else
			snprintf(name, sizeof(name), "%s", base);
		buffer_alloc(&bufs[i], opt.backing, name, i);
	}
	/* The holes are used; the rest of the fragment stays for compact. */
	if (!opt.compact)
		dmatd_frag_free(&frag);

	for (i = 0; opt.movable && i < opt.maps; i++)
		movable_before_pin(&bufs[i]);
	for (i = 0; i < opt.maps; i++) {
		uint64_t iova;

		if (!opt.fixed) {
			CHECK_CALL(dmatd_dma_map(&dev.vfio, &bufs[i].buf,
						 &bufs[i].map, NULL));
			continue;
		}
		/* A 2 MiB gap between fixed mappings. */
		stride = DMATD_ALIGN(bufs[i].buf.map_len, DMATD_HPAGE_SIZE) +
			 DMATD_HPAGE_SIZE;
		iova = opt.fixed_iova + i * stride;
		CHECK_CALL(dmatd_dma_map(&dev.vfio, &bufs[i].buf, &bufs[i].map,
					 &iova));
		if (bufs[i].map.iova != iova)
			fatal("IOMMU_IOAS_MAP_FIXED_IOVA 0x%" PRIx64 " returned iova 0x%" PRIx64,
			      iova, bufs[i].map.iova);
	}
	for (i = 0; i < opt.maps; i++)
		diag("%s: va %p map 0x%zx bytes at %s 0x%" PRIx64,
		     bufs[i].name, bufs[i].buf.map, bufs[i].buf.map_len,
		     opt.mode == DMATD_VFIO_CDEV ? "iova" : "va",
		     bufs[i].map.iova);
	if (opt.maps > 1 && opt.mode == DMATD_VFIO_CDEV) {
		bool disjoint = true;

		for (i = 0; i < opt.maps; i++)
			for (j = i + 1; j < opt.maps; j++)
				if (bufs[i].map.iova < bufs[j].map.iova +
				    bufs[j].buf.map_len &&
				    bufs[j].map.iova < bufs[i].map.iova +
				    bufs[i].buf.map_len)
					disjoint = false;
		cur_case = "maps";
		check("iovas-disjoint", disjoint, "%u mappings in IOAS %u",
		      opt.maps, dev.vfio.ioas_id);
		cur_case = NULL;
	}

	for (i = 0; i < opt.maps; i++)
		run_buffer(&bufs[i]);

	cur_case = "unmap";
	for (i = 0; i < opt.maps; i++)
		check_unmapped(&bufs[i]);
	cur_case = NULL;
	for (i = 0; i < opt.maps; i++)
		buffer_free(&bufs[i]);
	dmatd_frag_free(&frag);
	free(bufs);
}

/* --- The errno case ----------------------------------------------------- */

/* Raise or drop @cap (below 32) in the effective set; it stays permitted. */
static int set_cap(int cap, bool on)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data))
		return dmatd_err(errno, "capget");
	if (on)
		data[0].effective |= 1U << cap;
	else
		data[0].effective &= ~(1U << cap);
	if (syscall(SYS_capset, &hdr, data))
		return dmatd_err(errno, "capset %s capability %d",
				 on ? "raising" : "dropping", cap);
	return 0;
}

static const char *errname(int ret)
{
	static char buf[64];

	if (!ret)
		return "success";
	snprintf(buf, sizeof(buf), "%s (errno %d)", strerror(-ret), -ret);
	return buf;
}

static bool expect_errno(const char *name, int ret, int want,
			 const struct iommu_ioas_noiommu_get_pa *cmd)
{
	return check(name, ret == -want,
		     "got %s, want %s; size=%u flags=0x%x ioas=%u reserved=0x%x iova=0x%llx length=0x%llx",
		     errname(ret), want ? strerror(want) : "success",
		     cmd->size, cmd->flags, cmd->ioas_id, cmd->__reserved,
		     (unsigned long long)cmd->iova,
		     (unsigned long long)cmd->length);
}

/* A "Vm...:" field of /proc/self/status, in kB; -1 if it is missing. */
static long status_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "re");
	size_t n = strlen(field);
	char line[256];
	long kb = -1;

	if (!f)
		fatal("open /proc/self/status: %s (errno %d)", strerror(errno),
		      errno);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			kb = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return kb;
}

/*
 * GET_PA of @base moved to @iova, another IOVA of the same buffer, must
 * give the answer @first gave for @base.
 */
static void check_same_translation(const char *name,
				   const struct iommu_ioas_noiommu_get_pa *base,
				   const struct iommu_ioas_noiommu_get_pa *first,
				   uint64_t iova)
{
	struct iommu_ioas_noiommu_get_pa cmd = *base;
	int ret;

	cmd.iova = iova;
	ret = __dt_get_pa(dev.vfio.iommufd, &cmd);
	check(name, !ret && cmd.out_phys == first->out_phys &&
	      cmd.length == first->length,
	      "at iova 0x%" PRIx64 ": %s, pa 0x%llx len 0x%llx; at 0x%llx: pa 0x%llx len 0x%llx",
	      iova, errname(ret), (unsigned long long)cmd.out_phys,
	      (unsigned long long)cmd.length,
	      (unsigned long long)base->iova,
	      (unsigned long long)first->out_phys,
	      (unsigned long long)first->length);
}

/*
 * The edges of a mapping: the buffer mapped a second time at a fixed IOVA
 * @hole with nothing below it.  A range that starts in the hole and reaches
 * the mapping is not mapped; the alias translates to the same frames; an
 * UNMAP of part of the mapping fails and leaves it whole.
 */
static void probe_edges(struct buffer *b,
			const struct iommu_ioas_noiommu_get_pa *base,
			uint64_t hole)
{
	struct iommu_ioas_noiommu_get_pa cmd, first = *base;
	int fd = dev.vfio.iommufd, ret;
	struct dmatd_mapping alias;
	uint64_t unmapped = 0;

	CHECK_CALL(dmatd_dma_map(&dev.vfio, &b->buf, &alias, &hole));
	CHECK_CALL(__dt_get_pa(fd, &first));

	cmd = *base;
	cmd.iova = hole - DMATD_PAGE_SIZE;
	cmd.length = 2 * DMATD_PAGE_SIZE;
	ret = __dt_get_pa(fd, &cmd);
	check("hole-reaching-mapping", ret == -ENOENT,
	      "GET_PA 0x%" PRIx64 "+0x%llx, one page below a mapping: %s (pa 0x%llx len 0x%llx), want %s",
	      hole - DMATD_PAGE_SIZE, 2ULL * DMATD_PAGE_SIZE, errname(ret),
	      (unsigned long long)cmd.out_phys,
	      (unsigned long long)cmd.length, strerror(ENOENT));

	check_same_translation("alias-same-pa", base, &first,
			       hole + b->buf.offset);

	if (b->buf.map_len > DMATD_PAGE_SIZE) {
		ret = dmatd_ioas_unmap(fd, dev.vfio.ioas_id, hole,
				       DMATD_PAGE_SIZE, &unmapped);
		check("unmap-partial", ret == -ENOENT,
		      "IOMMU_IOAS_UNMAP of the first page of a 0x%zx-byte mapping: %s, unmapped 0x%" PRIx64 ", want %s",
		      b->buf.map_len, errname(ret), unmapped, strerror(ENOENT));
		cmd = *base;
		cmd.iova = hole + b->buf.map_len - DMATD_PAGE_SIZE;
		cmd.length = DMATD_PAGE_SIZE;
		ret = __dt_get_pa(fd, &cmd);
		check("unmap-partial-keeps-mapping", !ret &&
		      cmd.length == DMATD_PAGE_SIZE,
		      "GET_PA of the mapping's last page after it: %s",
		      errname(ret));
	}
	CHECK_CALL(dmatd_dma_unmap(&dev.vfio, &alias));

	/* The IOVA range is free again: the same fixed IOVA maps anew. */
	ret = dmatd_dma_map(&dev.vfio, &b->buf, &alias, &hole);
	check("fixed-iova-reuse", !ret && alias.iova == hole,
	      "IOMMU_IOAS_MAP at fixed iova 0x%" PRIx64 " after its unmap: %s",
	      hole, errname(ret));
	if (!ret)
		CHECK_CALL(dmatd_dma_unmap(&dev.vfio, &alias));
}

/*
 * IOMMU_IOAS_COPY from an IOAS without a device: the copy in the device's
 * IOAS pins the same pages, and translates to the same frames.
 */
static void probe_copy(struct buffer *b,
		       const struct iommu_ioas_noiommu_get_pa *base,
		       uint32_t src, uint64_t src_iova, uint64_t hole)
{
	struct iommu_ioas_noiommu_get_pa first = *base;
	int fd = dev.vfio.iommufd, ret;
	uint64_t iova = hole;

	CHECK_CALL(__dt_get_pa(fd, &first));
	ret = dmatd_ioas_copy(fd, dev.vfio.ioas_id, src, src_iova,
			      b->buf.map_len, &iova, true);
	check("ioas-copy", !ret, "IOMMU_IOAS_COPY to fixed iova 0x%" PRIx64 ": %s",
	      hole, errname(ret));
	if (ret)
		return;
	check_same_translation("copy-same-pa", base, &first,
			       hole + b->buf.offset);
	CHECK_CALL(dmatd_ioas_unmap(fd, dev.vfio.ioas_id, hole, b->buf.map_len,
				    NULL));
}

/* GET_PA in a loop on another thread while the mapping comes and goes. */
struct unmap_race {
	struct iommu_ioas_noiommu_get_pa q;	/* the query, at the alias */
	uint64_t want_pa;	/* what it answers while mapped */
	volatile bool stop;
	unsigned long calls, mapped, unmapped, bad;
	int bad_ret;
	uint64_t bad_pa, bad_len;
};

static void *unmap_race_get_pa(void *arg)
{
	struct unmap_race *r = arg;

	while (!r->stop) {
		struct iommu_ioas_noiommu_get_pa cmd = r->q;
		int ret = __dt_get_pa(dev.vfio.iommufd, &cmd);

		r->calls++;
		if (!ret && cmd.out_phys == r->want_pa && cmd.length &&
		    cmd.length <= r->q.length) {
			r->mapped++;
		} else if (ret == -ENOENT) {
			r->unmapped++;
		} else if (!r->bad++) {
			r->bad_ret = ret;
			r->bad_pa = cmd.out_phys;
			r->bad_len = cmd.length;
		}
	}
	return NULL;
}

#define UNMAP_RACE_SECONDS	2

/*
 * GET_PA racing IOMMU_IOAS_UNMAP: the buffer's alias at @hole is mapped
 * and unmapped again and again while another thread, on any CPU, asks
 * GET_PA at it.  Each answer must be the buffer's frame (the main mapping
 * keeps the pages pinned) or ENOENT, never anything else; both must have
 * been seen, else the race was not run.
 */
static void probe_unmap_race(struct buffer *b,
			     const struct iommu_ioas_noiommu_get_pa *base,
			     uint64_t hole)
{
	struct unmap_race r = { .q = *base };
	struct iommu_ioas_noiommu_get_pa first = *base;
	struct dmatd_mapping alias;
	unsigned long rounds = 0;
	struct timespec t0, t;
	pthread_attr_t attr;
	cpu_set_t all;
	pthread_t th;
	int i;

	CHECK_CALL(__dt_get_pa(dev.vfio.iommufd, &first));
	r.q.iova = hole + b->buf.offset;
	r.want_pa = first.out_phys;
	CPU_ZERO(&all);
	for (i = 0; i < CPU_SETSIZE; i++)
		CPU_SET(i, &all);
	if (pthread_attr_init(&attr) ||
	    pthread_attr_setaffinity_np(&attr, sizeof(all), &all) ||
	    pthread_create(&th, &attr, unmap_race_get_pa, &r))
		fatal("start the GET_PA thread: %s", strerror(errno));
	pthread_attr_destroy(&attr);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		CHECK_CALL(dmatd_dma_map(&dev.vfio, &b->buf, &alias, &hole));
		CHECK_CALL(dmatd_dma_unmap(&dev.vfio, &alias));
		rounds++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < UNMAP_RACE_SECONDS);
	r.stop = true;
	pthread_join(th, NULL);
	check("get-pa-races-unmap", !r.bad && r.mapped && r.unmapped,
	      "%lu map/unmap rounds, %lu GET_PA: %lu the frame, %lu ENOENT, %lu other (first: %s, pa 0x%" PRIx64 " len 0x%" PRIx64 ")",
	      rounds, r.calls, r.mapped, r.unmapped, r.bad,
	      r.bad ? errname(r.bad_ret) : "none", r.bad_pa, r.bad_len);
}

#define LIFE_PAGES	16

/* GET_PA's PA of each page of @len bytes at @iova; -1 where it fails. */
static void get_pa_pages(uint64_t iova, size_t n, uint64_t *pa)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct iommu_ioas_noiommu_get_pa cmd = {
			.size = sizeof(cmd),
			.ioas_id = dev.vfio.ioas_id,
			.iova = iova + i * DMATD_PAGE_SIZE,
			.length = DMATD_PAGE_SIZE,
		};

		pa[i] = __dt_get_pa(dev.vfio.iommufd, &cmd) ? (uint64_t)-1 :
			cmd.out_phys;
	}
}

static size_t count_differ(const uint64_t *a, const uint64_t *b, size_t n)
{
	size_t i, d = 0;

	for (i = 0; i < n; i++)
		d += a[i] != b[i];
	return d;
}

#define COLLAPSE_PAGES	(DMATD_HPAGE_SIZE / DMATD_PAGE_SIZE)

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif

/* 2 MiB, 2 MiB aligned, of 4 KiB pages; *@raw is what to munmap. */
static uint8_t *small_pages_2m(uint8_t **raw)
{
	*raw = mmap(NULL, 2 * DMATD_HPAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*raw == MAP_FAILED)
		fatal("mmap 4 MiB: %s (errno %d)", strerror(errno), errno);
	/* THP is "madvise" in the guest: these faults get 4 KiB pages. */
	memset((uint8_t *)DMATD_ALIGN((uintptr_t)*raw, DMATD_HPAGE_SIZE), 1,
	       DMATD_HPAGE_SIZE);
	return (uint8_t *)DMATD_ALIGN((uintptr_t)*raw, DMATD_HPAGE_SIZE);
}

static int collapse(uint8_t *p)
{
	if (madvise(p, DMATD_HPAGE_SIZE, MADV_HUGEPAGE) ||
	    madvise(p, DMATD_HPAGE_SIZE, MADV_COLLAPSE))
		return -errno;
	return 0;
}

/*
 * A 2 MiB-aligned range of 4 KiB pages, pinned, then collapsed into a
 * huge page on demand (MADV_COLLAPSE, what khugepaged does in the
 * background): collapsing copies the pages into a new huge page, so a
 * pinned range must be left on its frames (the kernel refuses, or skips
 * the pinned pages).  The control: the same on a range nobody pinned
 * collapses, into one 2 MiB frame.
 */
static void probe_collapse(int pagemap_fd)
{
	static uint64_t before[COLLAPSE_PAGES], after[COLLAPSE_PAGES];
	static uint64_t cpu[COLLAPSE_PAGES];
	struct dmatd_mapping m = { 0 };
	struct dmatd_buf buf = { .memfd = -1 };
	size_t i, huge = 0;
	uint8_t *raw, *p;
	int ret;

	p = small_pages_2m(&raw);
	/* EAGAIN is transient (a page still in a per-CPU LRU batch). */
	for (i = 0; i < 3 && (ret = collapse(p)) == -EAGAIN; i++)
		usleep(10000);
	CHECK_CALL(dmatd_pagemap_pa(pagemap_fd, p, COLLAPSE_PAGES, cpu));
	for (i = 0; i < COLLAPSE_PAGES; i++)
		huge += cpu[i] == cpu[0] + i * DMATD_PAGE_SIZE;
	check("collapse-control-unpinned", !ret && huge == COLLAPSE_PAGES &&
	      !(cpu[0] & (DMATD_HPAGE_SIZE - 1)),
	      "MADV_COLLAPSE: %s; %zu of %zu pages in one 2 MiB frame at 0x%" PRIx64,
	      errname(ret), huge, (size_t)COLLAPSE_PAGES, cpu[0]);
	munmap(raw, 2 * DMATD_HPAGE_SIZE);

	p = small_pages_2m(&raw);
	buf.backing = DMATD_BACKING_4K;
	buf.map = buf.va = p;
	buf.map_len = buf.len = DMATD_HPAGE_SIZE;
	buf.page_size = DMATD_PAGE_SIZE;
	CHECK_CALL(dmatd_dma_map(&dev.vfio, &buf, &m, NULL));
	get_pa_pages(m.iova, COLLAPSE_PAGES, before);
	ret = collapse(p);
	get_pa_pages(m.iova, COLLAPSE_PAGES, after);
	CHECK_CALL(dmatd_pagemap_pa(pagemap_fd, p, COLLAPSE_PAGES, cpu));
	check("collapse-keeps-pinned-frames",
	      !count_differ(before, after, COLLAPSE_PAGES) &&
	      !count_differ(before, cpu, COLLAPSE_PAGES),
	      "MADV_COLLAPSE: %s; %zu of %zu pages on other frames for the CPU, %zu for GET_PA",
	      errname(ret), count_differ(before, cpu, COLLAPSE_PAGES),
	      (size_t)COLLAPSE_PAGES, count_differ(before, after, COLLAPSE_PAGES));
	CHECK_CALL(dmatd_dma_unmap(&dev.vfio, &m));
	munmap(raw, 2 * DMATD_HPAGE_SIZE);
}

/*
 * The life of pinned memory when its process changes the mapping under
 * it.  The pin holds the frames, not the virtual range, so:
 *  - MADV_DONTNEED: GET_PA still gives the pinned frames, while the CPU,
 *    touching the range again, gets new ones (device and CPU diverge: the
 *    documented behaviour, the user's mistake to make);
 *  - mremap() to another address: the frames go with the range, so the
 *    CPU at the new address still sees what the device targets;
 *  - munmap(): the frames stay pinned (VmPin unchanged) until
 *    IOMMU_IOAS_UNMAP, which gives them back.
 */
static void probe_life(void)
{
	uint64_t before[LIFE_PAGES], after[LIFE_PAGES], cpu[LIFE_PAGES];
	const size_t len = LIFE_PAGES * DMATD_PAGE_SIZE;
	struct dmatd_mapping m;
	struct dmatd_buf buf;
	long pin0, pin;
	void *moved;
	int fd;

	fd = dmatd_vfio_pagemap(&dev.vfio);
	CHECK_CALL(fd);

	/* MADV_DONTNEED */
	CHECK_CALL(dmatd_buf_alloc(&buf, DMATD_BACKING_4K, len, 0));
	memset(buf.map, 1, len);
	CHECK_CALL(dmatd_dma_map(&dev.vfio, &buf, &m, NULL));
	get_pa_pages(m.iova, LIFE_PAGES, before);
	if (madvise(buf.map, len, MADV_DONTNEED))
		fatal("madvise MADV_DONTNEED: %s (errno %d)", strerror(errno),
		      errno);
	memset(buf.map, 2, len);
	get_pa_pages(m.iova, LIFE_PAGES, after);
	CHECK_CALL(dmatd_pagemap_pa(fd, buf.map, LIFE_PAGES, cpu));
	check("dontneed-keeps-pin", !count_differ(before, after, LIFE_PAGES),
	      "%zu of %d pages translate elsewhere after MADV_DONTNEED",
	      count_differ(before, after, LIFE_PAGES), LIFE_PAGES);
	check("dontneed-cpu-diverges",
	      count_differ(before, cpu, LIFE_PAGES) == LIFE_PAGES,
	      "%zu of %d pages the CPU touches again are the pinned frames",
	      LIFE_PAGES - count_differ(before, cpu, LIFE_PAGES), LIFE_PAGES);
	CHECK_CALL(dmatd_dma_unmap(&dev.vfio, &m));
	dmatd_buf_free(&buf);

	/* mremap() */
	CHECK_CALL(dmatd_buf_alloc(&buf, DMATD_BACKING_4K, len, 0));
	memset(buf.map, 1, len);
	CHECK_CALL(dmatd_dma_map(&dev.vfio, &buf, &m, NULL));
	get_pa_pages(m.iova, LIFE_PAGES, before);
	/* Grow it: the kernel must find it a new place. */
	moved = mremap(buf.map, len, 2 * len, MREMAP_MAYMOVE);
	if (moved == MAP_FAILED)
		fatal("mremap: %s (errno %d)", strerror(errno), errno);
	CHECK_CALL(dmatd_pagemap_pa(fd, moved, LIFE_PAGES, cpu));
	get_pa_pages(m.iova, LIFE_PAGES, after);
	check("mremap-keeps-frames", !count_differ(before, cpu, LIFE_PAGES) &&
	      !count_differ(before, after, LIFE_PAGES),
	      "moved from %p to %p: %zu of %d pages on other frames for the CPU, %zu for GET_PA",
	      (void *)buf.map, moved, count_differ(before, cpu, LIFE_PAGES),
	      LIFE_PAGES, count_differ(before, after, LIFE_PAGES));
	CHECK_CALL(dmatd_dma_unmap(&dev.vfio, &m));
	munmap(moved, 2 * len);
	buf.map = NULL;

	/* munmap() */
	CHECK_CALL(dmatd_buf_alloc(&buf, DMATD_BACKING_4K, len, 0));
	memset(buf.map, 1, len);
	pin0 = status_kb("VmPin");
	CHECK_CALL(dmatd_dma_map(&dev.vfio, &buf, &m, NULL));
	get_pa_pages(m.iova, LIFE_PAGES, before);
	munmap(buf.map, buf.map_len);
	buf.map = NULL;
	get_pa_pages(m.iova, LIFE_PAGES, after);
	pin = status_kb("VmPin");
	check("munmap-keeps-pin", !count_differ(before, after, LIFE_PAGES) &&
	      pin == pin0 + LIFE_PAGES * 4,
	      "after munmap: %zu of %d pages translate elsewhere; VmPin %ld kB, %ld kB before the map",
	      count_differ(before, after, LIFE_PAGES), LIFE_PAGES, pin, pin0);
	CHECK_CALL(dmatd_dma_unmap(&dev.vfio, &m));
	pin = status_kb("VmPin");
	check("unmap-after-munmap-unpins", pin == pin0,
	      "VmPin %ld kB, %ld kB before the map", pin, pin0);
	dmatd_buf_free(&buf);

	probe_collapse(fd);
}

#define MEMLOCK_PAGES	16

/*
 * Pinned-memory accounting (drivers/iommu/iommufd/pages.c).  Every pin
 * counts in the process's VmPin.  Without CAP_IPC_LOCK the pinned pages
 * are charged to the user's locked_vm against RLIMIT_MEMLOCK: a map up to
 * the limit succeeds, one page more fails with ENOMEM, and an unmap gives
 * the charge back.  Nothing else of the tool's is charged there: its
 * other maps were made with CAP_IPC_LOCK.
 */
static void probe_accounting(void)
{
	struct dmatd_buf a, one;
	struct dmatd_mapping ma, mone;
	struct rlimit old, lim;
	long pin0, pin;
	int ret;

	CHECK_CALL(dmatd_buf_alloc(&a, DMATD_BACKING_4K,
				   MEMLOCK_PAGES * DMATD_PAGE_SIZE, 0));
	CHECK_CALL(dmatd_buf_alloc(&one, DMATD_BACKING_4K, DMATD_PAGE_SIZE, 0));
	memset(a.map, 1, a.map_len);
	memset(one.map, 1, one.map_len);
	pin0 = status_kb("VmPin");
	if (getrlimit(RLIMIT_MEMLOCK, &old))
		fatal("getrlimit RLIMIT_MEMLOCK: %s", strerror(errno));
	lim = old;
	lim.rlim_cur = MEMLOCK_PAGES * DMATD_PAGE_SIZE;
	if (setrlimit(RLIMIT_MEMLOCK, &lim))
		fatal("setrlimit RLIMIT_MEMLOCK: %s", strerror(errno));
	CHECK_CALL(set_cap(CAP_IPC_LOCK, false));

	ret = dmatd_dma_map(&dev.vfio, &a, &ma, NULL);
	check("memlock-within-limit", !ret,
	      "IOMMU_IOAS_MAP of %d pages, RLIMIT_MEMLOCK %d pages, no CAP_IPC_LOCK: %s",
	      MEMLOCK_PAGES, MEMLOCK_PAGES, errname(ret));
	pin = status_kb("VmPin");
	check("vmpin-counts-pins", pin == pin0 + MEMLOCK_PAGES * 4,
	      "VmPin %ld kB, was %ld kB, %d pages pinned", pin, pin0,
	      MEMLOCK_PAGES);
	ret = dmatd_dma_map(&dev.vfio, &one, &mone, NULL);
	check("memlock-over-limit", ret == -ENOMEM,
	      "IOMMU_IOAS_MAP of one page more: %s, want %s", errname(ret),
	      strerror(ENOMEM));
	if (!ret)
		CHECK_CALL(dmatd_dma_unmap(&dev.vfio, &mone));
	if (ma.mapped)
		CHECK_CALL(dmatd_dma_unmap(&dev.vfio, &ma));
	pin = status_kb("VmPin");
	check("vmpin-after-unmap", pin == pin0, "VmPin %ld kB, was %ld kB",
	      pin, pin0);
	ret = dmatd_dma_map(&dev.vfio, &one, &mone, NULL);
	check("memlock-charge-returned", !ret,
	      "IOMMU_IOAS_MAP of one page after the unmap: %s", errname(ret));
	if (!ret)
		CHECK_CALL(dmatd_dma_unmap(&dev.vfio, &mone));

	CHECK_CALL(set_cap(CAP_IPC_LOCK, true));
	if (setrlimit(RLIMIT_MEMLOCK, &old))
		fatal("setrlimit RLIMIT_MEMLOCK back: %s", strerror(errno));
	dmatd_buf_free(&a);
	dmatd_buf_free(&one);
}

static void case_errno(void)
{
	static struct dmatd_buf left;
	static struct dmatd_mapping left_map;
	struct iommu_ioas_noiommu_get_pa cmd, base;
	int fd = dev.vfio.iommufd, ret;
	uint64_t iova2 = 0, pa = 0, len = 0, hole, *page_pa;
	struct buffer b;
	uint32_t ioas2;
	size_t n;
	struct {
		struct iommu_ioas_noiommu_get_pa cmd;
		uint64_t tail;
	} big;

	if (opt.mode != DMATD_VFIO_CDEV)
		fatal("--errno tests the cdev ioctl: use --mode cdev");
	buffer_alloc(&b, opt.backing, "errno", 0);
	CHECK_CALL(dmatd_dma_map(&dev.vfio, &b.buf, &b.map, NULL));
	begin_case("errno", &b);
	page_pa = buffer_page_pas(&b, &n);

	base = (struct iommu_ioas_noiommu_get_pa) {
		.size = sizeof(base),
		.ioas_id = dev.vfio.ioas_id,
		.iova = b.map.iova + b.buf.offset,
		.length = b.buf.len,
	};

	cmd = base;
	ret = __dt_get_pa(fd, &cmd);
	expect_errno("valid", ret, 0, &base);
	check("valid-pa", !ret && (cmd.out_phys & ~(DMATD_PAGE_SIZE - 1)) ==
	      page_pa[0] && cmd.length && cmd.length <= b.buf.len,
	      "out_phys=0x%llx pagemap=0x%" PRIx64 " length=0x%llx",
	      (unsigned long long)cmd.out_phys, page_pa[0],
	      (unsigned long long)cmd.length);

	cmd = base;
	cmd.flags = 1;
	expect_errno("flags-nonzero", __dt_get_pa(fd, &cmd), EOPNOTSUPP, &cmd);

	cmd = base;
	cmd.__reserved = 1;
	expect_errno("reserved-nonzero", __dt_get_pa(fd, &cmd), EOPNOTSUPP,
		     &cmd);

	cmd = base;
	cmd.length = 0;
	expect_errno("length-zero", __dt_get_pa(fd, &cmd), EINVAL, &cmd);

	/* Above every mapping of ours: the buffer and both segment lists. */
	hole = b.map.iova + b.buf.map_len;
	if (dev.src.map.iova + dev.src.buf.map_len > hole)
		hole = dev.src.map.iova + dev.src.buf.map_len;
	if (dev.dst.map.iova + dev.dst.buf.map_len > hole)
		hole = dev.dst.map.iova + dev.dst.buf.map_len;
	hole = DMATD_ALIGN(hole, 1ULL << 30) + (1ULL << 30);
	cmd = base;
	cmd.iova = hole;
	expect_errno("iova-unmapped", __dt_get_pa(fd, &cmd), ENOENT, &cmd);

	cmd = base;
	cmd.iova = ~0ULL;
	expect_errno("iova-max", __dt_get_pa(fd, &cmd), EOVERFLOW, &cmd);

	cmd = base;
	cmd.ioas_id = dev.vfio.ioas_id + 1000;
	expect_errno("ioas-unknown", __dt_get_pa(fd, &cmd), ENOENT, &cmd);

	cmd = base;
	cmd.size = offsetof(struct iommu_ioas_noiommu_get_pa, out_phys);
	expect_errno("size-short", __dt_get_pa(fd, &cmd), EINVAL, &cmd);

	/* A newer, larger struct is fine as long as the tail is zero. */
	memset(&big, 0, sizeof(big));
	big.cmd = base;
	big.cmd.size = sizeof(big);
	expect_errno("size-long-zero-tail", __dt_get_pa(fd, &big.cmd), 0,
		     &big.cmd);
	big.cmd = base;
	big.cmd.size = sizeof(big);
	big.tail = 1;
	expect_errno("size-long-nonzero-tail", __dt_get_pa(fd, &big.cmd),
		     E2BIG, &big.cmd);

	/* Output length: capped by the input length ... */
	cmd = base;
	cmd.length = 1;
	ret = __dt_get_pa(fd, &cmd);
	check("length-capped-by-input", !ret && cmd.length == 1,
	      "%s, length 0x%llx", errname(ret),
	      (unsigned long long)cmd.length);

	/* ... and by the end of the mapping. */
	cmd = base;
	cmd.iova = b.map.iova + b.buf.map_len - DMATD_PAGE_SIZE;
	cmd.length = 1ULL << 40;
	ret = __dt_get_pa(fd, &cmd);
	check("length-capped-by-mapping", !ret && cmd.length == DMATD_PAGE_SIZE,
	      "%s, length 0x%llx", errname(ret),
	      (unsigned long long)cmd.length);

	/* An IOVA inside a page translates to the same offset in the frame. */
	cmd = base;
	cmd.iova = (b.map.iova + b.buf.offset) & ~(DMATD_PAGE_SIZE - 1);
	cmd.iova += 0x123;
	cmd.length = 8;
	ret = __dt_get_pa(fd, &cmd);
	check("iova-unaligned", !ret && cmd.out_phys == page_pa[0] + 0x123,
	      "%s, out_phys 0x%llx, page 0x%" PRIx64, errname(ret),
	      (unsigned long long)cmd.out_phys, page_pa[0]);

	/* Mapped, but in an IOAS no no-IOMMU device is attached to. */
	CHECK_CALL(dmatd_ioas_alloc(fd, &ioas2));
	if (b.buf.memfd >= 0)
		CHECK_CALL(dmatd_ioas_map_file(fd, ioas2, b.buf.memfd,
					       b.buf.file_off,
					       b.buf.map_len, &iova2, false));
	else
		CHECK_CALL(dmatd_ioas_map(fd, ioas2, b.buf.map, b.buf.map_len,
					  &iova2, false));
	cmd = base;
	cmd.ioas_id = ioas2;
	cmd.iova = iova2;
	expect_errno("ioas-without-device", __dt_get_pa(fd, &cmd), EOPNOTSUPP,
		     &cmd);
	probe_copy(&b, &base, ioas2, iova2, hole);
	CHECK_CALL(dmatd_ioas_unmap(fd, ioas2, iova2, b.buf.map_len, NULL));
	CHECK_CALL(dmatd_iommufd_destroy(fd, ioas2));

	probe_edges(&b, &base, hole);
	probe_unmap_race(&b, &base, hole);
	probe_life();
	probe_accounting();

	/*
	 * CAP_SYS_RAWIO is checked by capable(), i.e. in the effective set:
	 * drop it from there (it stays permitted) and raise it again.
	 */
	CHECK_CALL(set_cap(CAP_SYS_RAWIO, false));
	cmd = base;
	ret = __dt_get_pa(fd, &cmd);
	{
		int cfd = open(dev.vfio.cdev, O_RDWR | O_CLOEXEC);
		int cerr = cfd < 0 ? -errno : 0;

		if (cfd >= 0)
			close(cfd);
		CHECK_CALL(set_cap(CAP_SYS_RAWIO, true));
		expect_errno("no-cap-sys-rawio", ret, EPERM, &cmd);
		check("no-cap-sys-rawio-cdev-open", cerr == -EPERM,
		      "open %s: %s", dev.vfio.cdev, errname(cerr));
	}
	cmd = base;
	expect_errno("cap-sys-rawio-restored", __dt_get_pa(fd, &cmd), 0,
		     &cmd);

	CHECK_CALL(dmatd_dma_unmap(&dev.vfio, &b.map));
	cmd = base;
	ret = __dt_get_pa(fd, &cmd);
	pa = cmd.out_phys;
	len = cmd.length;
	check("after-unmap", ret == -ENOENT,
	      "got %s (pa 0x%" PRIx64 " len 0x%" PRIx64 "), want %s",
	      errname(ret), pa, len, strerror(ENOENT));

	/* Left mapped: closing the iommufd must unpin it (close-releases-pins). */
	CHECK_CALL(dmatd_buf_alloc(&left, DMATD_BACKING_4K, 4 * DMATD_PAGE_SIZE,
				   0));
	memset(left.map, 1, left.map_len);
	CHECK_CALL(dmatd_dma_map(&dev.vfio, &left, &left_map, NULL));
	free(page_pa);
	end_case();
	buffer_free(&b);
}

/* --- The legacy hazard case --------------------------------------------- */

/*
 * What the buffer holds before (@gen 0) and after (@gen 1) the move, at
 * buffer offset @off: the page tag at the start of each 4 KiB page, else
 * bytes of a keyed hash.  Neither is the pattern of any seed.
 */
static noinline uint8_t hazard_byte(const struct buffer *b, int gen,
				    uint64_t off)
{
	uint64_t pos = b->buf.offset + off;	/* from the mapping start */
	uint64_t in_page = ((uintptr_t)b->buf.map + pos) & (DMATD_PAGE_SIZE - 1);
	uint64_t w;

	if (in_page < DMATD_PAGE_TAG_SIZE) {
		uint64_t page = (pos - (b->buf.offset & ~(DMATD_PAGE_SIZE - 1))) /
				DMATD_PAGE_SIZE;
		uint64_t nonce = gen ? b->nonce : b->old_nonce;

		w = in_page < 8 ? nonce : in_page < 16 ? page :
			dmatd_page_tag_check(nonce, page);
		return w >> ((in_page & 7) * 8);
	}
	w = mix64(b->old_nonce ^ (gen ? 0x6e6577ULL : 0x6f6c64ULL) ^
		  (off >> 3));
	return w >> ((off & 7) * 8);
}

static noinline void hazard_fill(struct buffer *b, int gen)
{
	uint64_t off;

	for (off = 0; off < b->buf.len; off++)
		b->buf.va[off] = hazard_byte(b, gen, off);
}

/* Pages of @p (laid out like @b) that hold generation @gen. */
static noinline size_t hazard_pages_match(const struct buffer *b,
					  const uint8_t *p, int gen,
					  size_t *first_bad)
{
	size_t pages = dmatd_buf_pages(&b->buf), good = 0, i;
	uint64_t base = (uintptr_t)b->buf.va & (DMATD_PAGE_SIZE - 1);

	*first_bad = SIZE_MAX;
	for (i = 0; i < pages; i++) {
		uint64_t s = i ? i * DMATD_PAGE_SIZE - base : 0;
		uint64_t e = (i + 1) * DMATD_PAGE_SIZE - base, off;
		bool ok = true;

		if (e > b->buf.len)
			e = b->buf.len;
		for (off = s; off < e && ok; off++)
			ok = p[off] == hazard_byte(b, gen, off);
		if (ok)
			good++;
		else if (*first_bad == SIZE_MAX)
			*first_bad = i;
	}
	return good;
}

static void case_legacy_hazard(void)
{
	struct buffer b, d;
	uint64_t *stale;
	struct dmatd_result r;
	size_t n, old_pages, new_pages, first_bad, reused, pages;

	if (opt.mode != DMATD_VFIO_LEGACY)
		fatal("--legacy-hazard needs --mode legacy");

	/*
	 * Everything the copy needs is allocated before the move: frames
	 * the move frees could otherwise be handed straight back to us.
	 */
	buffer_alloc(&d, DMATD_BACKING_4K, "hazard-dst", 1);
	CHECK_CALL(dmatd_dma_map(&dev.vfio, &d.buf, &d.map, NULL));
	translate(&d);

	buffer_alloc(&b, opt.backing, "legacy-hazard", 0);
	CHECK_CALL(dmatd_dma_map(&dev.vfio, &b.buf, &b.map, NULL));
	hazard_fill(&b, 0);
	pages = dmatd_buf_pages(&b.buf);

	begin_case("legacy-hazard", &b);
	/* What a DPDK-style driver reads once and keeps using. */
	translate(&b);
	stale = buffer_page_pas(&b, &n);
	wait_go("pinned", NULL);
	report_translation(&b);
	check_runs(&b);

	migrate_locked(&b, stale);

	/* The CPU now writes new data (new nonce): the new frames get it. */
	renonce(&b);
	hazard_fill(&b, 1);
	wait_go("moved", &b);

	/* The device reads the addresses the driver still has. */
	CHECK_CALL(dmatd_seglist_set(&dev, &dev.src, b.runs, b.nr));
	CHECK_CALL(dmatd_seglist_set(&dev, &dev.dst, d.runs, d.nr));
	CHECK_CALL(dmatd_dev_cmd(&dev, DMATD_OP_COPY, 0, 0, &dev.src, &dev.dst, &r));
	report_dma(DMATD_OP_COPY, 0, &dev.src, &r);
	check_dma_ok("dma-copy", &r, b.buf.len);

	new_pages = hazard_pages_match(&b, b.buf.va, 1, &first_bad);
	check("cpu-sees-new-data", new_pages == pages,
	      "%zu of %zu pages, first bad %zd", new_pages, pages,
	      first_bad == SIZE_MAX ? -1 : (ssize_t)first_bad);
	old_pages = hazard_pages_match(&b, d.buf.va, 0, &first_bad);
	new_pages = hazard_pages_match(&b, d.buf.va, 1, &reused);
	check("device-reads-stale-data", old_pages == pages,
	      "%zu of %zu pages the device read hold the old data, %zu the new, first with other data: page %zd",
	      old_pages, pages, new_pages,
	      first_bad == SIZE_MAX ? -1 : (ssize_t)first_bad);
	check("device-checksum-old-data", r.checksum ==
	      dmatd_buf_csum(d.buf.va, d.buf.len),
	      "checksum=0x%016" PRIx64 " of-copy=0x%016" PRIx64, r.checksum,
	      dmatd_buf_csum(d.buf.va, d.buf.len));
	wait_go("checked", NULL);
	end_case();
	free(stale);
	buffer_free(&b);
	buffer_free(&d);
}

/* --- main --------------------------------------------------------------- */

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: dt-pin [options]\n"
		"  --dev BDF            PCI device (default: the 1af4:10f0)\n"
		"  --mode cdev|legacy   VFIO path (default cdev)\n"
		"  --backing 4k|thp|hugetlb|memfd|memfd-hugetlb\n"
		"                       buffer memory (default 4k)\n"
		"  --len BYTES          buffer length, K/M/G suffixes (default 1M)\n"
		"  --offset BYTES       start the buffer this far into its page\n"
		"  --file-offset BYTES  memfd: map the file from here (page aligned)\n"
		"  --fixed-iova ADDR    map at this IOVA (cdev)\n"
		"  --maps N             N buffers, N mappings in one IOAS\n"
		"  --scatter            make the buffer physically scattered\n"
		"  --handshake          stop at each '@dt wait' until 'go'\n"
		"  --seed HEX           pattern seed (default random)\n"
		"  --migrate            move the pinned pages to another node\n"
		"  --compact            fragment, then compact memory\n"
		"  --fork               fork, then child and parent write\n"
		"  --node N             allocate from NUMA node N only\n"
		"  --movable            buffers start in ZONE_MOVABLE; the pin\n"
		"                       must move them out (movablecore=)\n"
		"  --errno              every errno case of GET_PA (cdev)\n"
		"  --legacy-hazard      legacy: a page moves under the device\n"
		"  --x-decoy strays|tag controls of the host's scans: a lone\n"
		"                       nonce and stray pattern words (ignored)\n"
		"                       or a tag copy (reported)\n"
		"  --help\n");
}

enum {
	OPT_DEV = 256, OPT_MODE, OPT_BACKING, OPT_LEN, OPT_OFFSET,
	OPT_FIXED, OPT_MAPS, OPT_SCATTER, OPT_HANDSHAKE, OPT_SEED,
	OPT_MIGRATE, OPT_COMPACT, OPT_ERRNO, OPT_HAZARD, OPT_DECOY, OPT_NODE,
	OPT_MOVABLE, OPT_FORK, OPT_FILE_OFF, OPT_HELP,
};

static const struct option long_opts[] = {
	{ "dev", required_argument, NULL, OPT_DEV },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "backing", required_argument, NULL, OPT_BACKING },
	{ "len", required_argument, NULL, OPT_LEN },
	{ "offset", required_argument, NULL, OPT_OFFSET },
	{ "fixed-iova", required_argument, NULL, OPT_FIXED },
	{ "maps", required_argument, NULL, OPT_MAPS },
	{ "scatter", no_argument, NULL, OPT_SCATTER },
	{ "handshake", no_argument, NULL, OPT_HANDSHAKE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "migrate", no_argument, NULL, OPT_MIGRATE },
	{ "compact", no_argument, NULL, OPT_COMPACT },
	{ "errno", no_argument, NULL, OPT_ERRNO },
	{ "legacy-hazard", no_argument, NULL, OPT_HAZARD },
	{ "x-decoy", required_argument, NULL, OPT_DECOY },
	{ "node", required_argument, NULL, OPT_NODE },
	{ "movable", no_argument, NULL, OPT_MOVABLE },
	{ "fork", no_argument, NULL, OPT_FORK },
	{ "file-offset", required_argument, NULL, OPT_FILE_OFF },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static void __noreturn bad_arg(const char *what, const char *arg)
{
	fprintf(stderr, "dt-pin: bad %s '%s'\n", what, arg);
	print_usage(stderr);
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_DEV:
			opt.bdf = optarg;
			break;
		case OPT_MODE:
			if (!strcmp(optarg, "cdev"))
				opt.mode = DMATD_VFIO_CDEV;
			else if (!strcmp(optarg, "legacy"))
				opt.mode = DMATD_VFIO_LEGACY;
			else
				bad_arg("--mode", optarg);
			opt.mode_set = true;
			break;
		case OPT_BACKING:
			if (dmatd_backing_parse(optarg, &opt.backing))
				bad_arg("--backing", optarg);
			break;
		case OPT_LEN:
			if (dmatd_parse_u64(optarg, &opt.len, true, 0) || !opt.len)
				bad_arg("--len", optarg);
			break;
		case OPT_OFFSET:
			if (dmatd_parse_u64(optarg, &opt.offset, true, 0))
				bad_arg("--offset", optarg);
			break;
		case OPT_FIXED:
			if (dmatd_parse_u64(optarg, &opt.fixed_iova, true, 0) ||
			    opt.fixed_iova & (DMATD_PAGE_SIZE - 1))
				bad_arg("--fixed-iova (page aligned)", optarg);
			opt.fixed = true;
			break;
		case OPT_MAPS:
			if (dmatd_parse_u64(optarg, &v, false, 10) || !v ||
			    v > MAX_MAPS)
				bad_arg("--maps (1..64)", optarg);
			opt.maps = v;
			break;
		case OPT_SCATTER:
			opt.scatter = true;
			break;
		case OPT_HANDSHAKE:
			opt.handshake = true;
			break;
		case OPT_SEED:
			if (dmatd_parse_u64(optarg, &v, false, 16) || !v ||
			    v > UINT32_MAX)
				bad_arg("--seed (32-bit hex, not 0)", optarg);
			opt.seed = v;
			opt.seed_set = true;
			break;
		case OPT_MIGRATE:
			opt.migrate = true;
			break;
		case OPT_COMPACT:
			opt.compact = true;
			break;
		case OPT_ERRNO:
			opt.errno_cases = true;
			break;
		case OPT_HAZARD:
			opt.hazard = true;
			break;
		case OPT_DECOY:
			if (!strcmp(optarg, "strays"))
				opt.decoy = DECOY_STRAYS;
			else if (!strcmp(optarg, "tag"))
				opt.decoy = DECOY_TAG;
			else
				bad_arg("--x-decoy (strays or tag)", optarg);
			break;
		case OPT_NODE:
			if (dmatd_parse_u64(optarg, &v, false, 10) || v > 255)
				bad_arg("--node (0..255)", optarg);
			opt.node = v;
			break;
		case OPT_MOVABLE:
			opt.movable = true;
			break;
		case OPT_FORK:
			opt.fork = true;
			break;
		case OPT_FILE_OFF:
			if (dmatd_parse_u64(optarg, &opt.file_off, true, 0) ||
			    opt.file_off & (DMATD_PAGE_SIZE - 1))
				bad_arg("--file-offset (page aligned)", optarg);
			break;
		case OPT_HELP:
			print_usage(stdout);
			exit(0);
		default:
			print_usage(stderr);
			exit(2);
		}
	}
	if (optind < argc)
		bad_arg("argument", argv[optind]);
	if (opt.hazard && !opt.mode_set)
		opt.mode = DMATD_VFIO_LEGACY;
	if (opt.fixed && opt.mode != DMATD_VFIO_CDEV)
		bad_arg("--fixed-iova with --mode", "legacy");
	if (opt.errno_cases && opt.mode != DMATD_VFIO_CDEV)
		bad_arg("--errno (tests the cdev ioctl) with --mode", "legacy");
	if (opt.hazard && opt.mode != DMATD_VFIO_LEGACY)
		bad_arg("--legacy-hazard with --mode", "cdev");
	if (opt.file_off && opt.backing != DMATD_BACKING_MEMFD &&
	    opt.backing != DMATD_BACKING_MEMFD_HUGETLB)
		bad_arg("--file-offset without --backing", "memfd");
	if (opt.decoy && (opt.errno_cases || opt.hazard || !opt.handshake))
		bad_arg("--x-decoy (with --handshake, in a pin case) with",
			opt.errno_cases ? "--errno" : opt.hazard ?
			"--legacy-hazard" : "no --handshake");
	if (opt.errno_cases + opt.hazard +
	    (opt.migrate || opt.compact || opt.fork) > 1)
		bad_arg("combination",
			"--errno, --legacy-hazard, --migrate/--compact/--fork");
}

int main(int argc, char **argv)
{
	struct utsname u;
	double t0;
	struct timespec ts;

	parse_args(argc, argv);
	/* Whole lines, in order with the host's reads: line buffered. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	dmatd_set_log_fn(lib_log);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec + ts.tv_nsec / 1e9;

	printf("TAP version 13\n");
	if (!opt.seed_set) {
		do {
			opt.seed = (uint32_t)random64();
		} while (!opt.seed);
	}
	if (!uname(&u))
		diag("kernel %s %s", u.release, u.version);

	/*
	 * One CPU throughout: its per-CPU free lists (--scatter) and its
	 * interrupt entry stack (scrub_cpu()) are then the ones that matter.
	 */
	CHECK_CALL(dmatd_pin_cpu(&tool_cpu));
	if (opt.bdf)
		snprintf(bdf, sizeof(bdf), "%s", opt.bdf);
	else
		CHECK_CALL(dmatd_pci_find(DMA_TESTDEV_VENDOR_ID,
					  DMA_TESTDEV_DEVICE_ID, bdf,
					  sizeof(bdf)));
	CHECK_CALL(dmatd_dev_open(&dev, bdf, opt.mode));
	if (opt.mode == DMATD_VFIO_LEGACY) {
		const char *backend = dmatd_vfio_container_backend();

		proto("container backend=%s", backend ?: "unknown");
		diag("legacy container served by %s",
		     backend ? backend : "an unknown backend (no kernel log)");
	}
	/* After the device's own buffers: only ours follow the policy. */
	if (opt.node >= 0) {
		CHECK_CALL(dmatd_bind_node(opt.node));
		diag("memory from NUMA node %d only", opt.node);
	}
	diag("%s: cpu %d, mode %s%s%s, addr-bits %u, max-segments %u, max-transfer 0x%" PRIx64 ", lists at pa 0x%" PRIx64 "/0x%" PRIx64 " (%u/%u segments), seed 0x%08" PRIx64,
	     bdf, tool_cpu, dmatd_vfio_mode_name(opt.mode),
	     opt.mode == DMATD_VFIO_CDEV ? " " : "",
	     opt.mode == DMATD_VFIO_CDEV ? dev.vfio.cdev : "",
	     dev.addr_bits, dev.max_segs, dev.max_xfer, dev.src.pa,
	     dev.dst.pa, dev.src.cap, dev.dst.cap, opt.seed);

	if (opt.errno_cases)
		case_errno();
	else if (opt.hazard)
		case_legacy_hazard();
	else
		case_pin();

	dmatd_dev_close(&dev);
	if (opt.mode == DMATD_VFIO_CDEV) {
		long pin = status_kb("VmPin");

		/* --errno leaves a buffer mapped: the close unpins it too. */
		check("close-releases-pins", !pin,
		      "VmPin %ld kB after closing the device and the iommufd",
		      pin);
	} else {
		/*
		 * The legacy twin of no-cap-sys-rawio-cdev-open: a no-IOMMU
		 * group (closed again now) opens only with CAP_SYS_RAWIO.
		 */
		char path[64];
		int gfd, err;

		snprintf(path, sizeof(path), "/dev/vfio/noiommu-%d",
			 dev.vfio.group);
		CHECK_CALL(set_cap(CAP_SYS_RAWIO, false));
		gfd = open(path, O_RDWR | O_CLOEXEC);
		err = gfd < 0 ? -errno : 0;
		if (gfd >= 0)
			close(gfd);
		CHECK_CALL(set_cap(CAP_SYS_RAWIO, true));
		check("no-cap-sys-rawio-group-open", err == -EPERM,
		      "open %s without CAP_SYS_RAWIO: %s", path, errname(err));
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("1..%u\n", tap_n);
	diag("Totals: pass:%u fail:%u xfail:0 xpass:0 skip:0 error:0 (%.2f s)",
	     tap_pass, tap_fail, ts.tv_sec + ts.tv_nsec / 1e9 - t0);
	return tap_fail ? 1 : 0;
}
