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
 * host writes "go" on stdin.  The ioctl's ABI has its own tool
 * (dt-pin-abi), the legacy path's hazard too (dt-pagemap-hazard).
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <dirent.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dtlib/parse.h>
#include <dtlib/session.h>
#include <dtlib/tool.h>

#define MAX_MAPS	64
/* Scatter: fragment at most this much memory. */
#define FRAG_MAX	(512UL << 20)
#define COMPACT_FRAG_MIN	(64UL << 20)
/* --numa-balancing: how long balancing gets to move the control. */
#define NUMAB_TIMEOUT_MS	60000
/* ... and how much longer the pinned buffer is touched after that. */
#define NUMAB_AFTER_MS		2000
#define NUMAB_CONTROL_PAGES	64
#define NUMAB_SYSCTL		"/proc/sys/kernel/numa_balancing"

/* The options of the pin case; the session's are in dmatd_sess. */
static struct {
	bool fixed;
	uint64_t fixed_iova;
	unsigned int maps;
	bool scatter;
	bool migrate;
	bool compact;
	bool fork;
	bool offline;
	bool numa_balancing;
	enum { DECOY_NONE, DECOY_STRAYS, DECOY_TAG, DECOY_LIST } decoy;
	bool movable;
	uint64_t min_run;	/* the longest run must be at least this */
} opt = {
	.maps = 1,
};

/* --- Checks on the translation ----------------------------------------- */

/* Physical address of buffer page @i according to the runs. */
static bool runs_page_pa(const struct dmatd_tbuf *b, size_t i, uint64_t *pa)
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

/* cdev: every page's GET_PA address is where pagemap says it is. */
static void check_pagemap_agrees(struct dmatd_tbuf *b)
{
	size_t i, n, bad = 0, first = SIZE_MAX;
	uint64_t *pa = dmatd_tbuf_page_pas(b, &n), rpa = 0;

	for (i = 0; i < n; i++) {
		if (!runs_page_pa(b, i, &rpa) || rpa != pa[i]) {
			if (first == SIZE_MAX)
				first = i;
			bad++;
		}
	}
	if (first != SIZE_MAX)
		runs_page_pa(b, first, &rpa);
	dmatd_check("get-pa-matches-pagemap", !bad,
	      "pages=%zu differ=%zu first=%zd get-pa=0x%" PRIx64 " pagemap=0x%" PRIx64,
	      n, bad, first == SIZE_MAX ? -1 : (ssize_t)first,
	      first == SIZE_MAX ? 0 : rpa,
	      first == SIZE_MAX ? 0 : pa[first]);
	free(pa);
}

/* thp/hugetlb: each 2 MiB of the mapping is one aligned physical block. */
static void check_huge(struct dmatd_tbuf *b)
{
	size_t i, n = b->buf.map_len / DMATD_PAGE_SIZE, bad = 0;
	const size_t per = DMATD_HPAGE_SIZE / DMATD_PAGE_SIZE;
	uint64_t *pa = dmatd_page_pas(b->buf.map, n);

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
	dmatd_check("huge-backing", !bad, "%zu of %zu 2 MiB blocks are not huge pages",
	      bad, n / per);
	free(pa);
}

/*
 * --min-run: one run at least this long.  A run of 4 GiB or more is where
 * a length or address kept in 32 bits somewhere on the path shows: the
 * host checks every run against the pages it found.
 */
static void check_min_run(struct dmatd_tbuf *b)
{
	uint64_t largest = 0;
	size_t i;

	for (i = 0; i < b->nr; i++)
		if (b->runs[i].len > largest)
			largest = b->runs[i].len;
	dmatd_check("min-run", largest >= opt.min_run,
		    "longest run 0x%" PRIx64 " bytes of %zu runs, want at least 0x%" PRIx64,
		    largest, b->nr, opt.min_run);
}

/* --- DMA through the device -------------------------------------------- */

/*
 * "@dt dma" for the host.  --x-decoy list, the control of the host's
 * check of segment-list reads: report each list a page away from where
 * it is, so that every list read the device logged must be flagged.
 */
static void report_dma(uint32_t op, uint64_t seed,
		       const struct dmatd_seglist *l,
		       const struct dmatd_result *r)
{
	struct dmatd_seglist shown = *l;

	if (opt.decoy == DECOY_LIST)
		shown.pa += DMATD_PAGE_SIZE;
	dmatd_report_dma(op, seed, &shown, r);
}

/* --- Page migration ----------------------------------------------------- */

static bool runs_equal(const struct dmatd_tbuf *b, const struct dmatd_run *runs,
		       size_t nr)
{
	return nr == b->nr && !memcmp(runs, b->runs, nr * sizeof(*runs));
}

/* pinned-get-pa-unchanged: GET_PA asked again gives the same runs. */
static void check_get_pa_unchanged(struct dmatd_tbuf *b)
{
	struct dmatd_run *runs0 = b->runs;
	size_t nr0 = b->nr;

	b->runs = NULL;
	dmatd_tbuf_translate(b);
	dmatd_check("pinned-get-pa-unchanged", runs_equal(b, runs0, nr0),
		    "runs before=%zu after=%zu", nr0, b->nr);
	free(runs0);
}

/*
 * cdev: pinned pages must not move.  The kernel reports them as not
 * migrated (a positive count) and leaves their status slots alone.
 */
static void migrate_pinned(struct dmatd_tbuf *b)
{
	size_t n, i, written = 0, moved;
	uint64_t *before, *after;
	struct dmatd_move mv;

	before = dmatd_tbuf_page_pas(b, &n);
	dmatd_move_prepare(b, &mv);
	dmatd_move_run(&mv);
	after = dmatd_tbuf_page_pas(b, &n);
	for (i = 0; i < mv.count; i++)
		written += mv.status[i] != INT_MIN;
	moved = dmatd_report_moved(b, before, after, n, &mv, true);
	dmatd_check("pinned-move-pages-refused", mv.ret == (long)mv.count,
	      "move_pages returned %ld for %zu pages", mv.ret, mv.count);
	dmatd_check("pinned-status-unwritten", !written,
	      "%zu of %zu status slots written (first %d)", written, mv.count,
	      mv.status[0]);
	dmatd_check("pinned-pfn-unchanged", !moved, "%zu of %zu pages moved", moved,
	      n);

	check_get_pa_unchanged(b);
	free(before);
	free(after);
	dmatd_move_free(&mv);
}

/* cdev control: once unmapped, the same pages do move. */
static void migrate_unpinned(struct dmatd_tbuf *b)
{
	size_t n, i, ok = 0, moved;
	uint64_t *before, *after;
	struct dmatd_move mv;

	DMATD_CHECK_CALL(dmatd_dma_unmap(&dmatd_sess.dev.vfio, &b->map));
	before = dmatd_tbuf_page_pas(b, &n);
	dmatd_move_prepare(b, &mv);
	dmatd_move_run(&mv);
	after = dmatd_tbuf_page_pas(b, &n);
	for (i = 0; i < mv.count; i++)
		ok += mv.status[i] == mv.target;
	moved = dmatd_report_moved(b, before, after, n, &mv, false);
	dmatd_check("unpinned-pages-move", !mv.ret && ok == mv.count && moved == n,
	      "move_pages returned %ld, %zu of %zu at node %d, %zu of %zu pages moved",
	      mv.ret, ok, mv.count, mv.target, moved, n);
	free(before);
	free(after);
	dmatd_move_free(&mv);
}

/* --- Compaction --------------------------------------------------------- */

static struct dmatd_frag frag;

static void fragment(size_t len)
{
	if (len > FRAG_MAX)
		len = FRAG_MAX;
	/* Pinned to one CPU (main()): we allocate from the lists we free to. */
	DMATD_CHECK_CALL(dmatd_frag_make(&frag, len));
	dmatd_diag("fragmented 0x%zx bytes: every other 4 KiB page freed",
	     frag.len);
}

/* PAs of the fragment's pages that are still in use (the even ones). */
static uint64_t *frag_pas(size_t *n)
{
	size_t i, cnt = frag.len / DMATD_PAGE_SIZE;
	uint64_t *pa = dmatd_page_pas(frag.map, cnt), *even;

	even = calloc(cnt / 2 + 1, sizeof(*even));
	if (!even)
		dmatd_fatal("calloc %zu page addresses: %s", cnt, strerror(ENOMEM));
	for (i = 0; i < cnt; i += 2)
		even[i / 2] = pa[i];
	free(pa);
	*n = cnt / 2;
	return even;
}

static void compact(struct dmatd_tbuf *b)
{
	uint64_t *before, *after, *fb, *fa;
	size_t n, fn, i, moved, fmoved = 0;

	if (!frag.map)
		dmatd_fatal("compaction needs the fragmentation made before the buffer");
	before = dmatd_tbuf_page_pas(b, &n);
	fb = frag_pas(&fn);
	DMATD_CHECK_CALL(dmatd_sysfs_write("/proc/sys/vm/compact_memory", "1"));
	after = dmatd_tbuf_page_pas(b, &n);
	fa = frag_pas(&fn);
	for (i = 0; i < fn; i++)
		fmoved += fb[i] != fa[i];
	dmatd_diag("compaction moved %zu of %zu unpinned fragment pages", fmoved,
	     fn);
	moved = dmatd_report_moved(b, before, after, n, NULL, true);
	if (dmatd_sess.mode == DMATD_VFIO_CDEV) {
		/* Only this is asserted: how much compaction moves varies. */
		if (!fmoved)
			dmatd_diag("compaction moved no unpinned page either: the next check proves little");
		dmatd_check("pinned-not-compacted", !moved,
		      "%zu of %zu pinned pages moved (%zu of %zu unpinned)",
		      moved, n, fmoved, fn);
	} else {
		dmatd_diag("%s: compaction moved %zu of %zu mlocked pages", b->name,
		     moved, n);
	}
	free(before);
	free(after);
	free(fb);
	free(fa);
}

/* --- Fork ---------------------------------------------------------------- */

/* Write one byte of every page of @b, after its tag. */
static void touch_pages(struct dmatd_tbuf *b)
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
		dmatd_fatal("fork handshake %s: %s", write_it ? "write" : "read",
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
static void fork_and_write(struct dmatd_tbuf *b)
{
	uint64_t *before, *after;
	int to_child[2], to_parent[2], status;
	size_t n, moved;
	pid_t pid;

	before = dmatd_tbuf_page_pas(b, &n);
	if (pipe(to_child) || pipe(to_parent))
		dmatd_fatal("pipe: %s (errno %d)", strerror(errno), errno);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		dmatd_fatal("fork: %s (errno %d)", strerror(errno), errno);
	if (!pid) {
		sync_byte(to_child[0], false);
		touch_pages(b);
		sync_byte(to_parent[1], true);
		_exit(0);
	}
	touch_pages(b);
	after = dmatd_tbuf_page_pas(b, &n);
	sync_byte(to_child[1], true);
	sync_byte(to_parent[0], false);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		dmatd_fatal("the child of fork() ended with status 0x%x", status);
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
	moved = dmatd_report_moved(b, before, after, n, NULL, true);
	if (dmatd_sess.mode == DMATD_VFIO_CDEV)
		dmatd_check("fork-keeps-pinned-frames", !moved,
		      "%zu of %zu pinned pages moved when the parent wrote after fork()",
		      moved, n);
	else
		dmatd_check("fork-moves-mlocked-pages", moved == n,
		      "%zu of %zu mlocked pages moved when the parent wrote after fork()",
		      moved, n);
	free(before);
	free(after);
}

/* --- NUMA balancing ------------------------------------------------------ */

/*
 * --numa-balancing: the kernel's automatic NUMA balancing moves a page to
 * the node of the CPU that touches it.  It makes the page's PTE
 * inaccessible (task_numa_work()), and the next touch takes a NUMA
 * hinting fault that migrates the page (migrate_misplaced_folio()).  No
 * system call of the program asks for it: a legacy driver's addresses
 * go stale on their own.
 *
 * The buffer starts on --node N.  The tool drops its NUMA binding (a
 * bound task's pages are never moved), goes to a CPU of the next node,
 * turns balancing on (CONFIG_NUMA_BALANCING, off by default in the
 * guests) and reads every page until a control buffer of plain
 * anonymous pages, made on node N with the buffer, has moved: until then
 * balancing has not acted, and the case would prove nothing.  Pinned
 * pages must keep their frames (folio_can_map_prot_numa() skips them,
 * and migration could not move them anyway); mlock()ed pages must move,
 * as mlock() does not stop migration.
 */
static struct {
	uint8_t *map;
	void *addr[NUMAB_CONTROL_PAGES];
	int status[NUMAB_CONTROL_PAGES];
} numab;

/* Milliseconds since @t0 (CLOCK_MONOTONIC). */
static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The counter @name of /proc/vmstat, or -1 if it has none. */
static long long vm_event_count(const char *name)
{
	FILE *f = fopen("/proc/vmstat", "re");
	char key[64];
	long long v, found = -1;

	if (!f)
		dmatd_fatal("open /proc/vmstat: %s (errno %d)", strerror(errno),
			    errno);
	while (fscanf(f, "%63s %lld", key, &v) == 2) {
		if (!strcmp(key, name)) {
			found = v;
			break;
		}
	}
	fclose(f);
	return found;
}

/* Made before the pin, on the buffer's node (the task is still bound). */
static void numab_control_alloc(void)
{
	size_t i;

	numab.map = mmap(NULL, NUMAB_CONTROL_PAGES * DMATD_PAGE_SIZE,
			 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	if (numab.map == MAP_FAILED)
		dmatd_fatal("mmap the NUMA balancing control: %s (errno %d)",
			    strerror(errno), errno);
	madvise(numab.map, NUMAB_CONTROL_PAGES * DMATD_PAGE_SIZE,
		MADV_NOHUGEPAGE);
	for (i = 0; i < NUMAB_CONTROL_PAGES; i++) {
		numab.addr[i] = numab.map + i * DMATD_PAGE_SIZE;
		*(volatile uint8_t *)numab.addr[i] = 1;
	}
}

/* How many control pages are on @node now. */
static size_t numab_control_on(int node)
{
	size_t i, on = 0;
	long ret;

	ret = dmatd_move_pages(NUMAB_CONTROL_PAGES, numab.addr, NULL,
			       numab.status, 0);
	if (ret < 0)
		dmatd_fatal("move_pages query of the control: %s (errno %ld)",
			    strerror(-ret), -ret);
	for (i = 0; i < NUMAB_CONTROL_PAGES; i++)
		on += numab.status[i] == node;
	return on;
}

/* One read of every page of @b and of the control: the hinting faults. */
static void numab_touch(const struct dmatd_tbuf *b)
{
	size_t i, n = dmatd_buf_pages(&b->buf);

	for (i = 0; i < n; i++)
		(void)*(volatile uint8_t *)dmatd_buf_page(&b->buf, i);
	for (i = 0; i < NUMAB_CONTROL_PAGES; i++)
		(void)*(volatile uint8_t *)numab.addr[i];
}

static void numa_balance(struct dmatd_tbuf *b, const uint64_t *before)
{
	int nodes = dmatd_numa_nodes(), target, cpu;
	long long faults0 = vm_event_count("numa_hint_faults");
	long long migrated0 = vm_event_count("numa_pages_migrated");
	struct timespec start;
	long moved_ms = -1;	/* when the whole control had moved */
	uint64_t *after;
	size_t n, on = 0, moved;

	if (nodes < 2)
		dmatd_fatal("--numa-balancing needs 2 NUMA nodes, the guest has %d",
			    nodes);
	if (access(NUMAB_SYSCTL, W_OK))
		dmatd_fatal("%s: %s (the kernel lacks CONFIG_NUMA_BALANCING?)",
			    NUMAB_SYSCTL, strerror(errno));
	target = (dmatd_sess.node + 1) % nodes;
	DMATD_CHECK_CALL(dmatd_node_first_cpu(target, &cpu));
	on = numab_control_on(dmatd_sess.node);
	dmatd_check("numa-control-on-node", on == NUMAB_CONTROL_PAGES,
		    "%zu of %d control pages on node %d before balancing", on,
		    NUMAB_CONTROL_PAGES, dmatd_sess.node);
	DMATD_CHECK_CALL(dmatd_unbind_node());
	DMATD_CHECK_CALL(dmatd_move_to_cpu(cpu));
	dmatd_sess.cpu = cpu;
	DMATD_CHECK_CALL(dmatd_sysfs_write(NUMAB_SYSCTL, "1"));
	dmatd_diag("%s: NUMA balancing on; reading every page from CPU %d (node %d)",
		   b->name, cpu, target);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (ms_since(&start) < NUMAB_TIMEOUT_MS) {
		numab_touch(b);
		if (moved_ms < 0) {
			on = numab_control_on(target);
			if (on == NUMAB_CONTROL_PAGES)
				moved_ms = ms_since(&start);
		} else if (ms_since(&start) - moved_ms >= NUMAB_AFTER_MS) {
			break;
		}
	}
	DMATD_CHECK_CALL(dmatd_sysfs_write(NUMAB_SYSCTL, "0"));
	/* Later allocations (the host's go-lines) from the buffer's node. */
	DMATD_CHECK_CALL(dmatd_bind_node(dmatd_sess.node));
	dmatd_diag("%s: %s after %ld ms", b->name,
		   moved_ms >= 0 ? "the control moved" : "gave up",
		   moved_ms >= 0 ? moved_ms : ms_since(&start));
	/* The counters exist with CONFIG_VM_EVENT_COUNTERS only. */
	if (faults0 >= 0)
		dmatd_diag("%s: %lld NUMA hinting faults, %lld pages migrated",
			   b->name, vm_event_count("numa_hint_faults") - faults0,
			   vm_event_count("numa_pages_migrated") - migrated0);
	dmatd_check("numa-balancing-moves-control", on == NUMAB_CONTROL_PAGES,
		    "%zu of %d unpinned control pages moved to node %d (limit %d ms)",
		    on, NUMAB_CONTROL_PAGES, target, NUMAB_TIMEOUT_MS);

	after = dmatd_tbuf_page_pas(b, &n);
	moved = dmatd_report_moved(b, before, after, n, NULL, true);
	if (dmatd_sess.mode == DMATD_VFIO_CDEV) {
		dmatd_check("numa-balancing-keeps-pinned-frames", !moved,
			    "%zu of %zu pinned pages moved", moved, n);
		check_get_pa_unchanged(b);
	} else {
		dmatd_check("numa-balancing-moves-mlocked-pages", moved == n,
			    "%zu of %zu mlocked pages moved", moved, n);
	}
	free(after);
	munmap(numab.map, NUMAB_CONTROL_PAGES * DMATD_PAGE_SIZE);
}

/* --- Memory offline --------------------------------------------------- */

/*
 * Offlining a block retries a page that will not move (a pinned one) until
 * the writer has a signal pending: give up after this long.  A block that
 * can go offline does so in well under a second here, under TCG too.
 */
#define OFFLINE_TIMEOUT_MS	20000
#define OFFLINE_MAX_BLOCKS	16

/* The memory blocks under some of a buffer's pages, and what became of them. */
struct offline {
	size_t n;
	uint64_t block[OFFLINE_MAX_BLOCKS];
	char zone[OFFLINE_MAX_BLOCKS][32];	/* valid_zones while online */
	int ret[OFFLINE_MAX_BLOCKS];		/* the answer to "offline" */
};

static uint64_t block_size;

/* "success", the errno, or the timeout, for a line of the report. */
static const char *offline_answer(int ret)
{
	static char buf[64];

	if (ret != -ETIMEDOUT)
		return dmatd_errname(ret);
	snprintf(buf, sizeof(buf), "no answer within %u ms, writer killed",
		 OFFLINE_TIMEOUT_MS);
	return buf;
}

/* The blocks holding the @n pages at @pa, and the zone each is in. */
static void offline_find(struct offline *o, const uint64_t *pa, size_t n)
{
	size_t i;
	int nr;

	memset(o, 0, sizeof(*o));
	if (!block_size)
		DMATD_CHECK_CALL(dmatd_memblock_size(&block_size));
	nr = dmatd_memblocks_of(pa, n, block_size, o->block,
				OFFLINE_MAX_BLOCKS);
	DMATD_CHECK_CALL(nr);
	o->n = nr;
	for (i = 0; i < o->n; i++) {
		/* "Movable", "Normal"...; "none" if it spans two zones. */
		if (dmatd_memblock_read(o->block[i], "valid_zones", o->zone[i],
					sizeof(o->zone[i])))
			snprintf(o->zone[i], sizeof(o->zone[i]), "(unreadable)");
	}
}

/* How many of @o's blocks are in zone @zone. */
static size_t offline_in_zone(const struct offline *o, const char *zone)
{
	size_t i, in = 0;

	for (i = 0; i < o->n; i++)
		in += !strcmp(o->zone[i], zone);
	return in;
}

/* Keep only @o's blocks in zone @zone; a comment names the others. */
static void offline_keep_zone(struct offline *o, const char *zone,
			      const char *what)
{
	size_t i, kept = 0;

	for (i = 0; i < o->n; i++) {
		if (strcmp(o->zone[i], zone)) {
			dmatd_diag("%s: memory block %" PRIu64 " is in zone %s, not %s: left alone",
				   what, o->block[i], o->zone[i], zone);
			continue;
		}
		o->block[kept] = o->block[i];
		memcpy(o->zone[kept], o->zone[i], sizeof(o->zone[kept]));
		kept++;
	}
	o->n = kept;
}

/*
 * Write "offline" to every block of @o; each answer in o->ret and in a
 * comment.  Returns how many blocks went offline; *@first_bad is the
 * first that did not (o->n if none).
 */
static size_t offline_blocks(struct offline *o, const char *what,
			     size_t *first_bad)
{
	size_t i, off = 0;

	*first_bad = o->n;
	for (i = 0; i < o->n; i++) {
		struct timespec t0;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		o->ret[i] = dmatd_memblock_set_state(o->block[i], "offline",
						     OFFLINE_TIMEOUT_MS);
		dmatd_diag("%s: memory block %" PRIu64 " (pa 0x%" PRIx64 "+0x%" PRIx64 ", zone %s): offline: %s, %ld ms",
			   what, o->block[i], o->block[i] * block_size,
			   block_size, o->zone[i], offline_answer(o->ret[i]),
			   ms_since(&t0));
		if (!o->ret[i])
			off++;
		else if (*first_bad == o->n)
			*first_bad = i;
	}
	return off;
}

/*
 * Online again every block of @o that went offline, into the zone it was
 * in: a plain "online" may pick another (the zone shrank around it).
 */
static void online_blocks(struct offline *o, const char *what)
{
	size_t i, want = 0, back = 0;
	int ret, first_err = 0;

	for (i = 0; i < o->n; i++) {
		const char *state = !strcmp(o->zone[i], "Movable") ?
				    "online_movable" :
				    !strcmp(o->zone[i], "Normal") ?
				    "online_kernel" : "online";
		char zone[32] = "";

		if (o->ret[i])
			continue;
		want++;
		ret = dmatd_memblock_set_state(o->block[i], state,
					       OFFLINE_TIMEOUT_MS);
		if (!ret) {
			back++;
			o->ret[i] = -EAGAIN;	/* not ours to online any more */
		} else if (!first_err) {
			first_err = ret;
		}
		dmatd_memblock_read(o->block[i], "valid_zones", zone,
				    sizeof(zone));
		dmatd_diag("%s: memory block %" PRIu64 ": %s: %s, zone now %s",
			   what, o->block[i], state, offline_answer(ret), zone);
	}
	if (want)
		dmatd_check("offline-blocks-online-again", back == want,
			    "%zu of %zu memory blocks online again, first error: %s",
			    back, want, offline_answer(first_err));
}

/*
 * Legacy: offline the blocks under the mlock()ed buffer.  They must be in
 * ZONE_MOVABLE (movablecore=), which exists to be emptied: the kernel
 * migrates every page, mlock() or not, and the addresses the driver read
 * from pagemap (@before) are stale.  The frames they name stay offline,
 * nobody's, until online_blocks().
 */
static void offline_locked(struct dmatd_tbuf *b, const uint64_t *before,
			   struct offline *o)
{
	size_t n = dmatd_buf_pages(&b->buf), off, moved, bad;
	uint64_t *after;
	int lists;

	offline_find(o, before, n);
	dmatd_check("offline-blocks-movable",
		    offline_in_zone(o, "Movable") == o->n,
		    "%zu of %zu memory blocks under the buffer in ZONE_MOVABLE (the first is %" PRIu64 ", zone %s)",
		    offline_in_zone(o, "Movable"), o->n, o->block[0],
		    o->zone[0]);
	off = offline_blocks(o, b->name, &bad);
	after = dmatd_tbuf_page_pas(b, &n);
	moved = dmatd_report_moved(b, before, after, n, NULL, true);
	dmatd_check("offline-succeeds", off == o->n,
		    "%zu of %zu memory blocks went offline; block %" PRIu64 ": %s",
		    off, o->n, bad < o->n ? o->block[bad] : 0,
		    bad < o->n ? offline_answer(o->ret[bad]) : "-");
	dmatd_check("locked-pfn-changed", moved == n,
		    "%zu of %zu pages moved", moved, n);
	free(after);
	/* Our own segment lists are locked pages too: follow them. */
	lists = dmatd_dev_relocate_lists(&dmatd_sess.dev);
	DMATD_CHECK_CALL(lists);
	if (lists)
		dmatd_diag("%s: %d of the device's segment lists moved too: read again",
			   b->name, lists);
}

/*
 * cdev: the pin moved the pages out of ZONE_MOVABLE (--movable, which
 * --offline implies).  The blocks they left (@prepin, where they were
 * before the pin) go offline: that is the unplug ZONE_MOVABLE is for, and
 * the proof that offlining works here.  The blocks that hold them now
 * must not: a pinned page cannot move.  Either way no pinned page moves.
 */
static void offline_pinned(struct dmatd_tbuf *b, const uint64_t *prepin)
{
	size_t n, was_off, now_off, moved, bad_was, bad_now;
	struct offline was, now;
	uint64_t *before, *after;

	before = dmatd_tbuf_page_pas(b, &n);
	offline_find(&was, prepin, n);
	/* Only ZONE_MOVABLE is sure to be emptied by the pin. */
	offline_keep_zone(&was, "Movable", "left by the pin");
	was_off = offline_blocks(&was, "left by the pin", &bad_was);
	dmatd_check("offline-left-blocks", was.n && was_off == was.n,
		    "%zu of %zu memory blocks the pin emptied went offline; block %" PRIu64 ": %s",
		    was_off, was.n, bad_was < was.n ? was.block[bad_was] : 0,
		    bad_was < was.n ? offline_answer(was.ret[bad_was]) : "-");

	offline_find(&now, before, n);
	now_off = offline_blocks(&now, "pinned", &bad_now);
	dmatd_check("offline-pinned-refused", now.n && !now_off,
		    "%zu of %zu memory blocks under pinned pages went offline; block %" PRIu64 ": %s",
		    now_off, now.n, now.block[0],
		    offline_answer(now.ret[0]));

	after = dmatd_tbuf_page_pas(b, &n);
	moved = dmatd_report_moved(b, before, after, n, NULL, true);
	dmatd_check("pinned-pfn-unchanged", !moved, "%zu of %zu pages moved",
		    moved, n);
	check_get_pa_unchanged(b);
	free(before);
	free(after);
	online_blocks(&now, "pinned");
	online_blocks(&was, "left by the pin");
}

/*
 * --offline: the buffer must start in a memory block that can go offline,
 * else the case shows nothing.  The top block of each node holds the
 * node's own boot allocations (NODE_DATA, its memmap) or the e820 hole
 * below 4 GiB, and the allocator hands out those same top addresses first
 * (measured), so a buffer allocated as it comes lands where offlining is
 * refused for reasons of the kernel's own.  So: find a ZONE_MOVABLE block
 * of --node that does go offline (online again, into the tail of the free
 * lists, it is all free), then take ballast until the pages we get come
 * from it; the buffer comes next.  The ballast stays until the case ends.
 */
#define BALLAST_CHUNK	(1UL << 20)
#define BALLAST_MAX	(512UL << 20)

static struct {
	uint8_t *map[BALLAST_MAX / BALLAST_CHUNK];
	size_t n;
	uint64_t block;
} place;

static void place_find_block(void)
{
	char path[64], zone[32];
	struct dirent *d;
	uint64_t m, best = UINT64_MAX;
	DIR *dir;
	int ret;

	if (!block_size)
		DMATD_CHECK_CALL(dmatd_memblock_size(&block_size));
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d",
		 dmatd_sess.node);
	dir = opendir(path);
	if (!dir)
		dmatd_fatal("opendir %s: %s (errno %d)", path, strerror(errno),
			    errno);
	/* The lowest block that goes offline: the top one will not. */
	while ((d = readdir(dir))) {
		if (sscanf(d->d_name, "memory%" SCNu64, &m) != 1 || m >= best)
			continue;
		if (dmatd_memblock_read(m, "valid_zones", zone, sizeof(zone)) ||
		    strcmp(zone, "Movable"))
			continue;
		ret = dmatd_memblock_set_state(m, "offline", OFFLINE_TIMEOUT_MS);
		dmatd_diag("placing: memory block %" PRIu64 " (node %d, Movable): offline: %s",
			   m, dmatd_sess.node, offline_answer(ret));
		if (ret)
			continue;
		ret = dmatd_memblock_set_state(m, "online_movable",
					       OFFLINE_TIMEOUT_MS);
		if (ret)
			dmatd_fatal("memory block %" PRIu64 ": online_movable: %s",
				    m, offline_answer(ret));
		best = m;
	}
	closedir(dir);
	if (best == UINT64_MAX)
		dmatd_fatal("--offline: no ZONE_MOVABLE memory block of node %d goes offline (boot with kernelcore= or movablecore=)",
			    dmatd_sess.node);
	place.block = best;
}

static void place_ballast(void)
{
	size_t i, in;
	uint64_t *pa;
	uint8_t *p;

	place_find_block();
	while (place.n < ARRAY_SIZE(place.map)) {
		p = mmap(NULL, BALLAST_CHUNK, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			dmatd_fatal("mmap ballast: %s (errno %d)", strerror(errno),
				    errno);
		madvise(p, BALLAST_CHUNK, MADV_NOHUGEPAGE);
		place.map[place.n++] = p;
		for (i = 0; i < BALLAST_CHUNK; i += DMATD_PAGE_SIZE)
			p[i] = 1;
		pa = dmatd_page_pas(p, BALLAST_CHUNK / DMATD_PAGE_SIZE);
		for (i = 0, in = 0; i < BALLAST_CHUNK / DMATD_PAGE_SIZE; i++)
			in += pa[i] / block_size == place.block;
		free(pa);
		if (in == BALLAST_CHUNK / DMATD_PAGE_SIZE)
			break;
	}
	dmatd_diag("placing: %zu MiB of ballast until the pages came from memory block %" PRIu64,
		   place.n, place.block);
}

static void place_free(void)
{
	while (place.n)
		munmap(place.map[--place.n], BALLAST_CHUNK);
}

/* The CPU writes the pattern into the buffer, through its own mapping. */
static noinline void cpu_write_pattern(struct dmatd_tbuf *b)
{
	uint64_t off, whole = b->buf.len & ~7ULL;
	uint8_t *p = b->buf.va;

	/* Whole words are one store each (see dmatd_tbuf_check_cpu_pattern). */
	for (off = 0; off < whole; off += 8) {
		uint64_t w = dmatd_pattern_word(b->seed, off);

		memcpy(p + off, &w, 8);
	}
	if (off < b->buf.len) {
		uint64_t w = dmatd_pattern_word(b->seed, off);

		memcpy(p + off, &w, b->buf.len - off);
	}
}

/*
 * Legacy, after the offline: the CPU writes the pattern into the buffer
 * (its new frames), and the device verifies it through the addresses the
 * driver read before (b->runs).  They lie in the offline blocks, which
 * nobody owns until they go online again, so unlike after --migrate the
 * device may go there.  It must find none of what the CPU wrote; the host
 * flags every page it read as one the buffer left.
 */
static noinline void dma_verify_stale(struct dmatd_tbuf *b)
{
	uint64_t words = (b->buf.len + 7) / 8;
	struct dmatd_result r;

	cpu_write_pattern(b);
	dmatd_tbuf_check_cpu_pattern(b);
	DMATD_CHECK_CALL(dmatd_seglist_set(&dmatd_sess.dev, &dmatd_sess.dev.src,
					   b->runs, b->nr));
	DMATD_CHECK_CALL(dmatd_dev_cmd(&dmatd_sess.dev, DMATD_OP_VERIFY_PATTERN,
				       b->seed, 0, &dmatd_sess.dev.src, NULL,
				       &r));
	report_dma(DMATD_OP_VERIFY_PATTERN, b->seed, &dmatd_sess.dev.src, &r);
	dmatd_check("dma-verify-stale-ran",
		    (r.status & DMATD_STATUS_DONE) &&
		    !(r.status & DMATD_STATUS_ERROR) && !r.error &&
		    r.bytes_done == b->buf.len,
		    "status=0x%x error=%s err-addr=0x%" PRIx64 " bytes=0x%" PRIx64 " want=0x%zx",
		    r.status, dmatd_error_name(r.error), r.err_addr,
		    r.bytes_done, b->buf.len);
	dmatd_check("device-misses-cpu-data",
		    (r.status & DMATD_STATUS_MISMATCH) &&
		    r.mismatch_count == words,
		    "%u of %" PRIu64 " words read through the stale addresses differ from what the CPU wrote; first at offset 0x%" PRIx64 ": got 0x%016" PRIx64 " want 0x%016" PRIx64,
		    r.mismatch_count, words, r.mismatch_off, r.mismatch_got,
		    r.mismatch_exp);
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

static void movable_before_pin(struct dmatd_tbuf *b)
{
	size_t i, n, in = 0;
	uint64_t *pa;

	DMATD_CHECK_CALL(dmatd_zone_ranges("Movable", &movable));
	if (!movable.n)
		dmatd_fatal("--movable: no ZONE_MOVABLE (boot with movablecore=)");
	pa = dmatd_tbuf_page_pas(b, &n);
	for (i = 0; i < n; i++)
		in += dmatd_in_zone(&movable, pa[i]);
	dmatd_check("movable-before-pin", in > 0,
	      "%zu of %zu pages in ZONE_MOVABLE before the pin", in, n);
	free(pa);
}

static void check_outside_movable(struct dmatd_tbuf *b)
{
	size_t i, n = dmatd_buf_pages(&b->buf), bad = 0;
	uint64_t pa, first = 0;

	for (i = 0; i < n; i++) {
		if (!runs_page_pa(b, i, &pa) || !dmatd_in_zone(&movable, pa))
			continue;
		if (!bad++)
			first = pa;
	}
	dmatd_check("pinned-outside-movable", !bad,
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
static void write_decoy(const struct dmatd_tbuf *b)
{
	static uint64_t *decoy;

	if (!decoy) {
		void *p = mmap(NULL, DMATD_PAGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			dmatd_fatal("mmap a decoy page: %s (errno %d)",
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
	dmatd_diag("%s: decoy at va %p: %s", b->name, (void *)decoy,
	     opt.decoy == DECOY_TAG ? "a copy of page 0's tag" :
	     "page 0's nonce without its check word, two pattern words");
}

/* @prepin: with --offline in cdev mode, where the pages were before the pin. */
static void run_buffer(struct dmatd_tbuf *b, const uint64_t *prepin)
{
	/* Legacy DMA after a move would hit freed frames: not here. */
	bool moves = opt.migrate || opt.compact || opt.fork || opt.offline ||
		     opt.numa_balancing;
	bool dma = !(dmatd_sess.mode == DMATD_VFIO_LEGACY && moves);
	struct offline off = { 0 };
	uint64_t *before = NULL;
	size_t n;

	/*
	 * A page may have moved between its first nonce and the pin (kcompactd,
	 * or the pin migrating it), leaving a stale copy in the frame it left.
	 * Pinned now, the pages are tagged afresh, so that the host finds each
	 * exactly once, where it stays.
	 */
	if (dmatd_sess.mode == DMATD_VFIO_CDEV)
		dmatd_tbuf_renonce(b);
	dmatd_tbuf_begin(b->name, b);
	dmatd_tbuf_translate(b);
	if (dmatd_sess.mode == DMATD_VFIO_LEGACY || opt.numa_balancing)
		before = dmatd_tbuf_page_pas(b, &n);
	if (opt.decoy == DECOY_STRAYS || opt.decoy == DECOY_TAG)
		write_decoy(b);
	dmatd_wait_go("pinned", NULL);
	dmatd_tbuf_report_translation(b);
	dmatd_tbuf_check_runs(b);
	if (dmatd_sess.mode == DMATD_VFIO_CDEV)
		check_pagemap_agrees(b);
	if (b->buf.backing == DMATD_BACKING_THP ||
	    b->buf.backing == DMATD_BACKING_HUGETLB ||
	    b->buf.backing == DMATD_BACKING_MEMFD_HUGETLB ||
	    b->buf.backing == DMATD_BACKING_HUGETLB_1G)
		check_huge(b);
	if (opt.min_run)
		check_min_run(b);
	if (opt.scatter)
		dmatd_check("scattered", b->nr > 1, "runs=%zu", b->nr);
	if (opt.movable)
		check_outside_movable(b);

	if (opt.migrate) {
		if (dmatd_sess.mode == DMATD_VFIO_CDEV)
			migrate_pinned(b);
		else
			dmatd_migrate_locked(b, before);
	}
	if (opt.compact)
		compact(b);
	if (opt.fork)
		fork_and_write(b);
	if (opt.offline) {
		if (dmatd_sess.mode == DMATD_VFIO_CDEV)
			offline_pinned(b, prepin);
		else
			offline_locked(b, before, &off);
	}
	if (opt.numa_balancing)
		numa_balance(b, before);
	if (moves) {
		/*
		 * The host locates the pages again: the legacy ones that
		 * moved, and the pinned ones that must not have.
		 */
		dmatd_tbuf_renonce(b);
		dmatd_wait_go("moved", b);
	}
	if (dma)
		dmatd_tbuf_write_verify(b, report_dma);
	else if (opt.offline)
		dma_verify_stale(b);
	/* Still mapped and pinned: the host checks the pattern and log. */
	dmatd_wait_go("checked", NULL);
	/* Legacy: the stale frames were kept offline until the host looked. */
	online_blocks(&off, b->name);
	if (opt.migrate && dmatd_sess.mode == DMATD_VFIO_CDEV)
		migrate_unpinned(b);
	free(before);
	dmatd_end_case();
}

static void check_unmapped(struct dmatd_tbuf *b)
{
	struct iommu_ioas_noiommu_get_pa cmd = {
		.size = sizeof(cmd),
		.ioas_id = dmatd_sess.dev.vfio.ioas_id,
		.iova = b->map.iova,
		.length = b->buf.map_len,
	};
	int ret;

	if (!b->map.mapped)
		return;
	DMATD_CHECK_CALL(dmatd_dma_unmap(&dmatd_sess.dev.vfio, &b->map));
	if (dmatd_sess.mode != DMATD_VFIO_CDEV)
		return;
	ret = __dt_get_pa(dmatd_sess.dev.vfio.iommufd, &cmd);
	dmatd_check("unmap-releases", ret == -ENOENT,
	      "GET_PA after IOMMU_IOAS_UNMAP: %s (pa 0x%llx len 0x%llx)",
	      ret ? strerror(-ret) : "success",
	      (unsigned long long)cmd.out_phys,
	      (unsigned long long)cmd.length);
}

static void case_pin(void)
{
	struct dmatd_tbuf *bufs = calloc(opt.maps, sizeof(*bufs));
	uint64_t *prepin[MAX_MAPS] = { NULL };
	uint64_t stride = 0;
	unsigned int i, j;
	size_t n;

	if (!bufs)
		dmatd_fatal("calloc %u buffers: %s", opt.maps, strerror(ENOMEM));
	if (opt.scatter || opt.compact) {
		size_t len = 2 * DMATD_ALIGN(dmatd_sess.offset + dmatd_sess.len, DMATD_PAGE_SIZE) *
			     opt.maps;

		/* Compaction needs enough movable pages around to act. */
		if (opt.compact && len < COMPACT_FRAG_MIN)
			len = COMPACT_FRAG_MIN;
		fragment(len);
	}
	if (opt.offline)
		place_ballast();
	if (opt.numa_balancing)
		numab_control_alloc();
	for (i = 0; i < opt.maps; i++) {
		char name[32];
		const char *base = opt.migrate ? "migrate" :
				   opt.compact ? "compact" :
				   opt.fork ? "fork" :
				   opt.offline ? "offline" :
				   opt.numa_balancing ? "numa-balancing" :
				   opt.scatter ? "scatter" : "pin";

		if (opt.maps > 1)
			snprintf(name, sizeof(name), "%s.%u", base, i);
		else
			snprintf(name, sizeof(name), "%s", base);
		dmatd_tbuf_alloc(&bufs[i], dmatd_sess.backing, name, i);
	}
	/* The holes are used; the rest of the fragment stays for compact. */
	if (!opt.compact)
		dmatd_frag_free(&frag);

	for (i = 0; opt.movable && i < opt.maps; i++)
		movable_before_pin(&bufs[i]);
	/* The blocks the pin empties, offlined in offline_pinned(). */
	for (i = 0; opt.offline && dmatd_sess.mode == DMATD_VFIO_CDEV &&
	     i < opt.maps; i++)
		prepin[i] = dmatd_tbuf_page_pas(&bufs[i], &n);
	for (i = 0; i < opt.maps; i++) {
		uint64_t iova;

		if (!opt.fixed) {
			DMATD_CHECK_CALL(dmatd_dma_map(&dmatd_sess.dev.vfio, &bufs[i].buf,
						 &bufs[i].map, NULL));
			continue;
		}
		/* A 2 MiB gap between fixed mappings. */
		stride = DMATD_ALIGN(bufs[i].buf.map_len, DMATD_HPAGE_SIZE) +
			 DMATD_HPAGE_SIZE;
		iova = opt.fixed_iova + i * stride;
		DMATD_CHECK_CALL(dmatd_dma_map(&dmatd_sess.dev.vfio, &bufs[i].buf, &bufs[i].map,
					 &iova));
		if (bufs[i].map.iova != iova)
			dmatd_fatal("IOMMU_IOAS_MAP_FIXED_IOVA 0x%" PRIx64 " returned iova 0x%" PRIx64,
			      iova, bufs[i].map.iova);
	}
	for (i = 0; i < opt.maps; i++)
		dmatd_diag("%s: va %p map 0x%zx bytes at %s 0x%" PRIx64,
		     bufs[i].name, bufs[i].buf.map, bufs[i].buf.map_len,
		     dmatd_sess.mode == DMATD_VFIO_CDEV ? "iova" : "va",
		     bufs[i].map.iova);
	if (opt.maps > 1 && dmatd_sess.mode == DMATD_VFIO_CDEV) {
		bool disjoint = true;

		for (i = 0; i < opt.maps; i++)
			for (j = i + 1; j < opt.maps; j++)
				if (bufs[i].map.iova < bufs[j].map.iova +
				    bufs[j].buf.map_len &&
				    bufs[j].map.iova < bufs[i].map.iova +
				    bufs[i].buf.map_len)
					disjoint = false;
		dmatd_set_case("maps");
		dmatd_check("iovas-disjoint", disjoint, "%u mappings in IOAS %u",
		      opt.maps, dmatd_sess.dev.vfio.ioas_id);
		dmatd_set_case(NULL);
	}

	for (i = 0; i < opt.maps; i++)
		run_buffer(&bufs[i], prepin[i]);

	dmatd_set_case("unmap");
	for (i = 0; i < opt.maps; i++)
		check_unmapped(&bufs[i]);
	dmatd_set_case(NULL);
	for (i = 0; i < opt.maps; i++)
		dmatd_tbuf_free(&bufs[i]);
	dmatd_frag_free(&frag);
	for (i = 0; i < opt.maps; i++)
		free(prepin[i]);
	place_free();
	free(bufs);
}

/* --- main --------------------------------------------------------------- */

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: dt-pin [options]\n"
		"  pin buffers, make the device write and verify through the\n"
		"  addresses the kernel gave; TAP and @dt lines on stdout\n"
		DMATD_SESSION_USAGE
		"                       (defaults: --mode cdev --len 1M)\n"
		"  --fixed-iova ADDR    map at this IOVA (cdev)\n"
		"  --maps N             N buffers, N mappings in one IOAS\n"
		"  --scatter            make the buffer physically scattered\n"
		"  --migrate            move the pinned pages to another node\n"
		"  --compact            fragment, then compact memory\n"
		"  --fork               fork, then child and parent write\n"
		"  --offline            offline the memory blocks under the\n"
		"                       buffer (legacy), or the ones the pin\n"
		"                       emptied and the ones it holds (cdev,\n"
		"                       implies --movable); needs --node\n"
		"  --numa-balancing     turn NUMA balancing on and read the\n"
		"                       buffer from another node's CPU: pinned\n"
		"                       pages stay, mlocked ones move; needs\n"
		"                       --node\n"
		"  --min-run BYTES      the longest physically contiguous run\n"
		"                       must be at least this long (--backing\n"
		"                       hugetlb-1g: runs of several GiB)\n"
		"  --movable            buffers start in ZONE_MOVABLE; the pin\n"
		"                       must move them out (movablecore=)\n"
		"  --x-decoy strays|tag|list  controls of the host's checks: a\n"
		"                       lone nonce and stray pattern words\n"
		"                       (ignored), a tag copy (reported), or\n"
		"                       segment lists reported a page off\n");
}

enum {
	OPT_FIXED = DMATD_OPT_TOOL, OPT_MAPS, OPT_SCATTER, OPT_MIGRATE,
	OPT_COMPACT, OPT_DECOY, OPT_MOVABLE, OPT_FORK, OPT_OFFLINE,
	OPT_MIN_RUN, OPT_NUMA_BALANCING,
};

static const struct option pin_opts[] = {
	{ "fixed-iova", required_argument, NULL, OPT_FIXED },
	{ "maps", required_argument, NULL, OPT_MAPS },
	{ "scatter", no_argument, NULL, OPT_SCATTER },
	{ "migrate", no_argument, NULL, OPT_MIGRATE },
	{ "compact", no_argument, NULL, OPT_COMPACT },
	{ "x-decoy", required_argument, NULL, OPT_DECOY },
	{ "movable", no_argument, NULL, OPT_MOVABLE },
	{ "fork", no_argument, NULL, OPT_FORK },
	{ "offline", no_argument, NULL, OPT_OFFLINE },
	{ "min-run", required_argument, NULL, OPT_MIN_RUN },
	{ "numa-balancing", no_argument, NULL, OPT_NUMA_BALANCING },
	{ NULL, 0, NULL, 0 },
};

static void parse_args(int argc, char **argv)
{
	static const char *const decoys[] = {
		[DECOY_STRAYS] = "strays", [DECOY_TAG] = "tag",
		[DECOY_LIST] = "list",
	};
	struct option *long_opts = dmatd_session_longopts(pin_opts);
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (dmatd_session_opt(c, optarg))
			continue;
		switch (c) {
		case OPT_FIXED:
			if (dmatd_parse_u64(optarg, &opt.fixed_iova, true, 0) ||
			    opt.fixed_iova & (DMATD_PAGE_SIZE - 1))
				dmatd_bad_arg("--fixed-iova (page aligned)", optarg);
			opt.fixed = true;
			break;
		case OPT_MAPS:
			if (dmatd_parse_u64(optarg, &v, false, 10) || !v ||
			    v > MAX_MAPS)
				dmatd_bad_arg("--maps (1..64)", optarg);
			opt.maps = v;
			break;
		case OPT_SCATTER:
			opt.scatter = true;
			break;
		case OPT_MIGRATE:
			opt.migrate = true;
			break;
		case OPT_COMPACT:
			opt.compact = true;
			break;
		case OPT_DECOY:
			opt.decoy = dmatd_arg_name("--x-decoy (strays, tag or list)",
						   optarg, decoys,
						   ARRAY_SIZE(decoys));
			break;
		case OPT_MOVABLE:
			opt.movable = true;
			break;
		case OPT_FORK:
			opt.fork = true;
			break;
		case OPT_OFFLINE:
			opt.offline = true;
			break;
		case OPT_NUMA_BALANCING:
			opt.numa_balancing = true;
			break;
		case OPT_MIN_RUN:
			if (dmatd_parse_u64(optarg, &opt.min_run, true, 0) ||
			    !opt.min_run)
				dmatd_bad_arg("--min-run", optarg);
			break;
		default:
			dmatd_usage_error();
		}
	}
	free(long_opts);
	dmatd_session_opts_done(argc, argv);
	if (opt.fixed && dmatd_sess.mode != DMATD_VFIO_CDEV)
		dmatd_bad_arg("--fixed-iova with --mode", "legacy");
	if (opt.offline && (dmatd_sess.node < 0 || opt.maps > 1))
		dmatd_bad_arg("--offline (with --node, one buffer) with",
			      dmatd_sess.node < 0 ? "no --node" : "--maps");
	if (opt.numa_balancing && (dmatd_sess.node < 0 || opt.maps > 1))
		dmatd_bad_arg("--numa-balancing (with --node, one buffer) with",
			      dmatd_sess.node < 0 ? "no --node" : "--maps");
	/* The blocks the pin empties must be ZONE_MOVABLE's. */
	if (opt.offline && dmatd_sess.mode == DMATD_VFIO_CDEV)
		opt.movable = true;
	if (opt.decoy && !dmatd_sess.handshake)
		dmatd_bad_arg("--x-decoy (with --handshake) with",
			      "no --handshake");
}

int main(int argc, char **argv)
{
	dmatd_tool_init("dt-pin", print_usage, dmatd_tap_fatal);
	parse_args(argc, argv);
	dmatd_session_open();
	case_pin();
	return dmatd_session_close();
}
