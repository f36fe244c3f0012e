// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dtlib: DMA buffers, /proc/self/pagemap, page migration, memory blocks.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/mempolicy.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dtlib/log.h>
#include <dtlib/mem.h>
#include <dtlib/parse.h>
#include <dtlib/pci.h>

#define PM_PRESENT	(1ULL << 63)
#define PM_PFN_MASK	((1ULL << 55) - 1)

#define MEMORY_SYSFS	"/sys/devices/system/memory"

static const char *const backing_names[] = {
	[DMATD_BACKING_4K] = "4k",
	[DMATD_BACKING_THP] = "thp",
	[DMATD_BACKING_HUGETLB] = "hugetlb",
	[DMATD_BACKING_MEMFD] = "memfd",
	[DMATD_BACKING_MEMFD_HUGETLB] = "memfd-hugetlb",
	[DMATD_BACKING_HUGETLB_1G] = "hugetlb-1g",
};

const char *dmatd_backing_name(enum dmatd_backing backing)
{
	return backing_names[backing];
}

int dmatd_backing_parse(const char *name, enum dmatd_backing *backing)
{
	int i = dmatd_parse_name(name, backing_names,
				 ARRAY_SIZE(backing_names));

	if (i >= 0) {
		*backing = i;
		return 0;
	}
	return dmatd_fail(EINVAL, "unknown backing '%s' (4k, thp, hugetlb, memfd, memfd-hugetlb, hugetlb-1g)",
			  name);
}

/*
 * Ask for 4 KiB pages.  madvise() is ENOSYS in a kernel without
 * ADVISE_SYSCALLS; PR_SET_THP_DISABLE then does the same for the process.
 */
static int no_thp(void *p, size_t len)
{
	if (!madvise(p, len, MADV_NOHUGEPAGE))
		return 0;
	if (errno != ENOSYS && errno != EINVAL)
		return dmatd_err(errno, "madvise MADV_NOHUGEPAGE %p+0x%zx", p, len);
	dmatd_log("madvise MADV_NOHUGEPAGE: %s; using PR_SET_THP_DISABLE",
		  strerror(errno));
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		return dmatd_err(errno, "prctl PR_SET_THP_DISABLE");
	return 0;
}

/* MADV_HUGEPAGE does nothing while THP is "never". */
static int thp_usable(void)
{
	const char *path = "/sys/kernel/mm/transparent_hugepage/enabled";
	char buf[128];
	int ret;

	if (access(path, F_OK))
		return dmatd_fail(EOPNOTSUPP, "no %s: is CONFIG_TRANSPARENT_HUGEPAGE set?",
				  path);
	ret = dmatd_sysfs_read(path, buf, sizeof(buf));
	if (ret)
		return ret;
	if (strstr(buf, "[never]"))
		return dmatd_fail(EOPNOTSUPP, "%s is '%s' (Linux turns THP off below 512 MiB of RAM): write madvise to it",
				  path, buf);
	return 0;
}

/* A 2 MiB aligned anonymous mapping: over-allocate, trim both ends. */
static void *mmap_aligned(size_t len, size_t align)
{
	uint8_t *p, *start;
	size_t head;

	p = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return p;
	start = (uint8_t *)DMATD_ALIGN((uintptr_t)p, align);
	head = start - p;
	if (head)
		munmap(p, head);
	if (align - head)
		munmap(start + len, align - head);
	return start;
}

/*
 * @len bytes (a multiple of 1 GiB) of gigantic pages at @map, laid out in
 * physical address order: each page is mapped and faulted on its own,
 * its address read from pagemap, and then moved (mremap) to its place.
 * The boot-time pool holds adjacent pages, but hands them out in an order
 * of its own; in address order, adjacent pages make one run of several
 * GiB (what GET_PA must then return whole).
 */
static int map_gigantic(uint8_t *map, size_t len)
{
	size_t n = len / DMATD_GPAGE_SIZE, i, j;
	uint8_t *page[64];
	uint64_t pa[64];
	int fd, ret = 0;

	if (n > ARRAY_SIZE(page))
		return dmatd_fail(E2BIG, "%zu gigantic pages, at most %zu",
				  n, ARRAY_SIZE(page));
	fd = dmatd_pagemap_open();
	if (fd < 0)
		return fd;
	for (i = 0; i < n; i++) {
		page[i] = mmap(NULL, DMATD_GPAGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
			       (30 << MAP_HUGE_SHIFT), -1, 0);
		if (page[i] == MAP_FAILED) {
			ret = dmatd_err(errno, "mmap MAP_HUGETLB|MAP_HUGE_1GB page %zu of %zu (boot with hugepagesz=1G hugepages=N)",
					i, n);
			break;
		}
		page[i][0] = 0;
		ret = dmatd_pagemap_pa(fd, page[i], 1, &pa[i]);
		if (ret) {
			munmap(page[i], DMATD_GPAGE_SIZE);
			break;
		}
	}
	close(fd);
	if (ret) {
		while (i--)
			munmap(page[i], DMATD_GPAGE_SIZE);
		return ret;
	}
	/* Lowest physical address first, onto @map page by page. */
	for (i = 0; i < n; i++) {
		size_t low = i;
		uint8_t *va;

		for (j = i + 1; j < n; j++)
			if (pa[j] < pa[low])
				low = j;
		va = page[low];
		page[low] = page[i];
		pa[low] = pa[i];
		if (mremap(va, DMATD_GPAGE_SIZE, DMATD_GPAGE_SIZE,
			   MREMAP_MAYMOVE | MREMAP_FIXED,
			   map + i * DMATD_GPAGE_SIZE) == MAP_FAILED) {
			ret = dmatd_err(errno, "mremap a gigantic page to %p",
					map + i * DMATD_GPAGE_SIZE);
			/* Those not moved yet; @map's go with the buffer. */
			munmap(va, DMATD_GPAGE_SIZE);
			for (j = i + 1; j < n; j++)
				munmap(page[j], DMATD_GPAGE_SIZE);
			return ret;
		}
	}
	return 0;
}

static int buf_alloc(struct dmatd_buf *b, enum dmatd_backing backing,
		     size_t len, size_t offset, uint64_t file_off)
{
	const int prot = PROT_READ | PROT_WRITE;
	size_t i;
	void *p;
	int ret;

	memset(b, 0, sizeof(*b));
	b->memfd = -1;
	b->backing = backing;
	b->len = len;
	b->offset = offset;
	b->page_size = DMATD_PAGE_SIZE;
	if (backing == DMATD_BACKING_THP || backing == DMATD_BACKING_HUGETLB ||
	    backing == DMATD_BACKING_MEMFD_HUGETLB)
		b->page_size = DMATD_HPAGE_SIZE;
	if (backing == DMATD_BACKING_HUGETLB_1G)
		b->page_size = DMATD_GPAGE_SIZE;
	if (!len)
		return dmatd_fail(EINVAL, "buffer length 0");
	b->map_len = DMATD_ALIGN(offset + len, b->page_size);

	switch (backing) {
	case DMATD_BACKING_4K:
		p = mmap(NULL, b->map_len, prot, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
		if (p == MAP_FAILED)
			return dmatd_err(errno, "mmap 0x%zx bytes", b->map_len);
		b->map = p;
		ret = no_thp(p, b->map_len);
		if (ret)
			goto fail;
		break;
	case DMATD_BACKING_THP:
		ret = thp_usable();
		if (ret)
			return ret;
		p = mmap_aligned(b->map_len, DMATD_HPAGE_SIZE);
		if (p == MAP_FAILED)
			return dmatd_err(errno, "mmap 0x%zx bytes (2 MiB aligned)",
					 b->map_len);
		b->map = p;
		if (madvise(p, b->map_len, MADV_HUGEPAGE)) {
			ret = dmatd_err(errno, "madvise MADV_HUGEPAGE %p+0x%zx (is CONFIG_TRANSPARENT_HUGEPAGE set?)",
					p, b->map_len);
			goto fail;
		}
		break;
	case DMATD_BACKING_HUGETLB:
		p = mmap(NULL, b->map_len, prot,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (p == MAP_FAILED)
			return dmatd_err(errno, "mmap MAP_HUGETLB 0x%zx bytes (enough free 2 MiB pages in vm.nr_hugepages?)",
					 b->map_len);
		b->map = p;
		break;
	case DMATD_BACKING_HUGETLB_1G:
		/* The address range, 1 GiB aligned, then the pages in it. */
		p = mmap_aligned(b->map_len, DMATD_GPAGE_SIZE);
		if (p == MAP_FAILED)
			return dmatd_err(errno, "mmap 0x%zx bytes (1 GiB aligned)",
					 b->map_len);
		b->map = p;
		ret = map_gigantic(p, b->map_len);
		if (ret)
			goto fail;
		break;
	case DMATD_BACKING_MEMFD:
	case DMATD_BACKING_MEMFD_HUGETLB:
		b->memfd = memfd_create("dt-buf", MFD_CLOEXEC |
					(backing == DMATD_BACKING_MEMFD ? 0 :
					 MFD_HUGETLB));
		if (b->memfd < 0)
			return dmatd_err(errno, "memfd_create");
		/* The file's pages before @file_off stay holes. */
		b->file_off = file_off;
		if (ftruncate(b->memfd, file_off + b->map_len)) {
			ret = dmatd_err(errno, "ftruncate memfd to 0x%" PRIx64,
					file_off + b->map_len);
			goto fail;
		}
		p = mmap(NULL, b->map_len, prot, MAP_SHARED, b->memfd,
			 file_off);
		if (p == MAP_FAILED) {
			ret = dmatd_err(errno, "mmap memfd 0x%zx bytes",
					b->map_len);
			goto fail;
		}
		b->map = p;
		break;
	default:
		return dmatd_fail(EINVAL, "bad backing %d", backing);
	}

	b->va = b->map + offset;
	/* Give every page its frame now, before anything looks it up. */
	for (i = 0; i < b->map_len; i += DMATD_PAGE_SIZE)
		b->map[i] = 0;
	return 0;
fail:
	dmatd_buf_free(b);
	return ret;
}

int dmatd_buf_alloc(struct dmatd_buf *b, enum dmatd_backing backing, size_t len,
		    size_t offset)
{
	if (backing == DMATD_BACKING_MEMFD ||
	    backing == DMATD_BACKING_MEMFD_HUGETLB)
		return dmatd_buf_alloc_file(b, backing, len, offset, 0);
	return buf_alloc(b, backing, len, offset, 0);
}

int dmatd_buf_alloc_file(struct dmatd_buf *b, enum dmatd_backing backing,
			 size_t len, size_t offset, uint64_t file_off)
{
	size_t page = backing == DMATD_BACKING_MEMFD ? DMATD_PAGE_SIZE :
		      DMATD_HPAGE_SIZE;

	if (backing != DMATD_BACKING_MEMFD &&
	    backing != DMATD_BACKING_MEMFD_HUGETLB)
		return dmatd_fail(EINVAL, "backing %s is no memfd",
				  dmatd_backing_name(backing));
	if (file_off & (page - 1))
		return dmatd_fail(EINVAL, "file offset 0x%" PRIx64 " is not aligned to 0x%zx",
				  file_off, page);
	return buf_alloc(b, backing, len, offset, file_off);
}

void dmatd_buf_free(struct dmatd_buf *b)
{
	if (b->map)
		munmap(b->map, b->map_len);
	if (b->memfd >= 0)
		close(b->memfd);
	b->map = NULL;
	b->va = NULL;
	b->memfd = -1;
}

int dmatd_buf_lock(struct dmatd_buf *b)
{
	if (mlock(b->map, b->map_len))
		return dmatd_err(errno, "mlock %p+0x%zx", b->map, b->map_len);
	b->locked = true;
	return 0;
}

size_t dmatd_buf_pages(const struct dmatd_buf *b)
{
	uintptr_t first = (uintptr_t)b->va & ~(DMATD_PAGE_SIZE - 1);
	uintptr_t end = (uintptr_t)b->va + b->len;

	return (DMATD_ALIGN(end, DMATD_PAGE_SIZE) - first) / DMATD_PAGE_SIZE;
}

uint8_t *dmatd_buf_page(const struct dmatd_buf *b, size_t i)
{
	uintptr_t first = (uintptr_t)b->va & ~(DMATD_PAGE_SIZE - 1);

	return (uint8_t *)(first + i * DMATD_PAGE_SIZE);
}

int dmatd_pagemap_open(void)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return dmatd_err(errno, "open /proc/self/pagemap (is CONFIG_PROC_PAGE_MONITOR set?)");
	return fd;
}

int dmatd_pagemap_pa(int fd, const void *va, size_t n, uint64_t *pa)
{
	uint64_t first = (uintptr_t)va / DMATD_PAGE_SIZE;
	const size_t chunk = 4096;
	uint64_t ent[4096];
	size_t i, done;

	for (done = 0; done < n; done += chunk) {
		size_t cnt = n - done < chunk ? n - done : chunk;
		off_t off = (first + done) * sizeof(uint64_t);
		ssize_t got = pread(fd, ent, cnt * sizeof(uint64_t), off);

		if (got != (ssize_t)(cnt * sizeof(uint64_t)))
			return dmatd_err(got < 0 ? errno : EIO,
					 "pread /proc/self/pagemap for %zu pages at %p",
					 cnt, (const uint8_t *)va +
					 done * DMATD_PAGE_SIZE);
		for (i = 0; i < cnt; i++) {
			uint64_t e = ent[i];

			if (!(e & PM_PRESENT)) {
				pa[done + i] = 0;
				continue;
			}
			if (!(e & PM_PFN_MASK))
				return dmatd_fail(EPERM, "/proc/self/pagemap hides PFNs: needs CAP_SYS_ADMIN");
			pa[done + i] = (e & PM_PFN_MASK) * DMATD_PAGE_SIZE;
		}
	}
	return 0;
}

int dmatd_numa_nodes(void)
{
	const char *path = "/sys/devices/system/node/online";
	char buf[64], *p = buf;
	int nodes = 0;

	if (access(path, F_OK))
		return 1;
	if (dmatd_sysfs_read(path, buf, sizeof(buf)))
		return -EIO;
	/* A list of ranges: "0", "0-1", "0,2-3". */
	while (*p) {
		char *end;
		long a = strtol(p, &end, 10), z = a;

		if (end == p)
			break;
		p = end;
		if (*p == '-') {
			z = strtol(p + 1, &end, 10);
			p = end;
		}
		nodes += z - a + 1;
		if (*p == ',')
			p++;
	}
	return nodes ? nodes : 1;
}

int dmatd_bind_node(int node)
{
	unsigned long mask[64 / sizeof(unsigned long)] = { 0 };
	const unsigned long bits = 8 * sizeof(mask[0]);

	if (node < 0 || (unsigned long)node >= bits * ARRAY_SIZE(mask))
		return dmatd_fail(EINVAL, "NUMA node %d out of range", node);
	mask[node / bits] = 1UL << (node % bits);
	/* maxnode counts one past the last bit the kernel should read. */
	if (syscall(SYS_set_mempolicy, MPOL_BIND, mask,
		    bits * ARRAY_SIZE(mask) + 1))
		return dmatd_err(errno, "set_mempolicy MPOL_BIND node %d", node);
	return 0;
}

int dmatd_unbind_node(void)
{
	if (syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0))
		return dmatd_err(errno, "set_mempolicy MPOL_DEFAULT");
	return 0;
}

int dmatd_node_first_cpu(int node, int *cpu)
{
	char path[64], buf[256], *end;
	long c;
	int ret;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist",
		 node);
	ret = dmatd_sysfs_read(path, buf, sizeof(buf));
	if (ret)
		return ret;
	errno = 0;
	c = strtol(buf, &end, 10);
	if (errno || end == buf || c < 0 || c >= CPU_SETSIZE)
		return dmatd_fail(ENOENT, "NUMA node %d has no CPU (%s: '%s')",
				  node, path, buf);
	*cpu = c;
	return 0;
}

int dmatd_zone_ranges(const char *name, struct dmatd_zone_ranges *z)
{
	FILE *f = fopen("/proc/zoneinfo", "re");
	char line[256], zone[32];
	unsigned long long start = 0, spanned;
	bool in = false;
	int node;

	memset(z, 0, sizeof(*z));
	if (!f)
		return dmatd_err(errno, "open /proc/zoneinfo");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone %31s", &node, zone) == 2) {
			in = !strcmp(zone, name);
			continue;
		}
		if (!in)
			continue;
		if (sscanf(line, " spanned %llu", &spanned) == 1) {
			if (!spanned)
				in = false;
			continue;
		}
		if (sscanf(line, " start_pfn: %llu", &start) != 1)
			continue;
		in = false;
		if (z->n == ARRAY_SIZE(z->start)) {
			fclose(f);
			return dmatd_fail(E2BIG, "more than %zu %s zones",
					  ARRAY_SIZE(z->start), name);
		}
		z->start[z->n] = (uint64_t)start * DMATD_PAGE_SIZE;
		z->end[z->n] = (uint64_t)(start + spanned) * DMATD_PAGE_SIZE;
		z->n++;
	}
	fclose(f);
	return 0;
}

bool dmatd_in_zone(const struct dmatd_zone_ranges *z, uint64_t pa)
{
	size_t i;

	for (i = 0; i < z->n; i++)
		if (pa >= z->start[i] && pa < z->end[i])
			return true;
	return false;
}

long dmatd_move_pages(unsigned long count, void **pages, const int *nodes,
		      int *status, int flags)
{
	long ret = syscall(SYS_move_pages, 0, count, pages, nodes, status,
			   flags);

	return ret < 0 ? -errno : ret;
}

int dmatd_frag_make(struct dmatd_frag *f, size_t len)
{
	size_t i;
	int ret;

	f->len = DMATD_ALIGN(len, 2 * DMATD_PAGE_SIZE);
	f->map = mmap(NULL, f->len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->map == MAP_FAILED) {
		f->map = NULL;
		return dmatd_err(errno, "mmap 0x%zx bytes to fragment", f->len);
	}
	ret = no_thp(f->map, f->len);
	if (ret)
		goto fail;
	for (i = 0; i < f->len; i += DMATD_PAGE_SIZE)
		f->map[i] = 1;
	/*
	 * Free every other page: each freed frame's buddy stays in use, so
	 * the frames cannot merge back into larger free blocks.
	 */
	for (i = DMATD_PAGE_SIZE; i < f->len; i += 2 * DMATD_PAGE_SIZE) {
		if (madvise(f->map + i, DMATD_PAGE_SIZE, MADV_DONTNEED)) {
			ret = dmatd_err(errno, "madvise MADV_DONTNEED %p",
					f->map + i);
			goto fail;
		}
	}
	return 0;
fail:
	dmatd_frag_free(f);
	return ret;
}

void dmatd_frag_free(struct dmatd_frag *f)
{
	if (f->map)
		munmap(f->map, f->len);
	f->map = NULL;
}

int dmatd_try_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return -EINVAL;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -errno;
	return 0;
}

int dmatd_move_to_cpu(int cpu)
{
	int ret = dmatd_try_cpu(cpu);

	if (ret)
		return dmatd_err(-ret, "sched_setaffinity to CPU %d", cpu);
	return 0;
}

int dmatd_pin_cpu(int *cpu)
{
	int c = sched_getcpu(), ret;

	if (c < 0)
		return dmatd_err(errno, "sched_getcpu");
	ret = dmatd_move_to_cpu(c);
	if (ret)
		return ret;
	if (cpu)
		*cpu = c;
	return 0;
}

int dmatd_memblock_size(uint64_t *size)
{
	const char *path = MEMORY_SYSFS "/block_size_bytes";
	unsigned long long v;
	char buf[64], *end;
	int ret;

	if (access(path, F_OK))
		return dmatd_fail(ENOENT, "no %s: is CONFIG_MEMORY_HOTPLUG set?",
				  path);
	ret = dmatd_sysfs_read(path, buf, sizeof(buf));
	if (ret)
		return ret;
	/* Hex without "0x". */
	errno = 0;
	v = strtoull(buf, &end, 16);
	if (errno || end == buf || *end || v < DMATD_PAGE_SIZE || (v & (v - 1)))
		return dmatd_fail(EINVAL, "%s: '%s' is no power of two of at least a page",
				  path, buf);
	*size = v;
	return 0;
}

int dmatd_memblocks_of(const uint64_t *pa, size_t n, uint64_t block_size,
		       uint64_t *blocks, size_t max)
{
	size_t i, j, nr = 0;

	for (i = 0; i < n; i++) {
		uint64_t blk;

		if (!pa[i])
			continue;
		blk = pa[i] / block_size;
		for (j = 0; j < nr && blocks[j] < blk; j++)
			;
		if (j < nr && blocks[j] == blk)
			continue;
		if (nr == max)
			return dmatd_fail(E2BIG, "the pages lie in more than %zu memory blocks",
					  max);
		memmove(blocks + j + 1, blocks + j, (nr - j) * sizeof(*blocks));
		blocks[j] = blk;
		nr++;
	}
	return nr;
}

int dmatd_memblock_read(uint64_t block, const char *attr, char *buf,
			size_t size)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), MEMORY_SYSFS "/memory%" PRIu64 "/%s",
		 block, attr);
	return dmatd_sysfs_read(path, buf, size);
}

struct state_write {
	int fd;
	const char *state;
};

/*
 * The child that writes the state.  It shares our memory, errno included
 * (it has no thread-local storage of its own), so its answer leaves as
 * its exit status; meanwhile the parent only polls and sleeps, calls that
 * do not fail and leave errno alone.
 */
static int state_writer(void *arg)
{
	const struct state_write *w = arg;
	size_t len = strlen(w->state);
	ssize_t n = write(w->fd, w->state, len);

	if (n < 0)
		return errno & 0xff;
	return (size_t)n == len ? 0 : EIO;
}

int dmatd_memblock_set_state(uint64_t block, const char *state,
			     unsigned int timeout_ms)
{
	const struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
	const size_t stack_size = 64 << 10;
	struct state_write w = { .state = state };
	unsigned int waited = 0;
	char path[PATH_MAX];
	int status = 0, ret;
	bool killed = false;
	pid_t pid, got;
	char *stack;

	snprintf(path, sizeof(path), MEMORY_SYSFS "/memory%" PRIu64 "/state",
		 block);
	w.fd = open(path, O_WRONLY | O_CLOEXEC);
	if (w.fd < 0)
		return dmatd_err(errno, "open %s", path);
	stack = malloc(stack_size);
	if (!stack) {
		ret = dmatd_err(ENOMEM, "malloc a stack to write %s", path);
		goto out_close;
	}
	/*
	 * Not fork(): our pages would become copy-on-write, and the next
	 * write to one of them (a locked buffer's) would move it.
	 */
	pid = clone(state_writer, stack + stack_size, CLONE_VM | SIGCHLD, &w);
	if (pid < 0) {
		ret = dmatd_err(errno, "clone a writer of '%s' to %s", state,
				path);
		goto out_free;
	}
	for (;;) {
		got = waitpid(pid, &status, WNOHANG);
		if (got == pid || (got < 0 && errno != EINTR))
			break;
		if (waited >= timeout_ms) {
			/* A signal is what ends the kernel's retries. */
			kill(pid, SIGKILL);
			do {
				got = waitpid(pid, &status, 0);
			} while (got < 0 && errno == EINTR);
			killed = true;
			break;
		}
		nanosleep(&tick, NULL);
		waited += 10;
	}
	if (got != pid)
		ret = dmatd_err(errno, "waitpid for the writer of '%s' to %s",
				state, path);
	else if (WIFEXITED(status))
		ret = -WEXITSTATUS(status);
	else if (killed && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		ret = -ETIMEDOUT;
	else
		ret = dmatd_fail(EIO, "the writer of '%s' to %s ended with status 0x%x",
				 state, path, status);
out_free:
	free(stack);
out_close:
	close(w.fd);
	return ret;
}
