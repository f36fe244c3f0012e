/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dtlib: DMA buffers, /proc/self/pagemap, page migration, memory blocks.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#ifndef DTLIB_MEM_H
#define DTLIB_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DMATD_PAGE_SIZE	4096UL
#define DMATD_HPAGE_SIZE	(2UL << 20)
#define DMATD_GPAGE_SIZE	(1UL << 30)
#define DMATD_ALIGN(x, a)	(((x) + (a) - 1) & ~((uint64_t)(a) - 1))

enum dmatd_backing {
	DMATD_BACKING_4K,		/* anonymous, MADV_NOHUGEPAGE */
	DMATD_BACKING_THP,		/* anonymous, 2 MiB aligned, THP */
	DMATD_BACKING_HUGETLB,	/* anonymous MAP_HUGETLB, 2 MiB pages */
	DMATD_BACKING_MEMFD,	/* shared mapping of a memfd (shmem) */
	DMATD_BACKING_MEMFD_HUGETLB,	/* the same, MFD_HUGETLB: 2 MiB pages */
	DMATD_BACKING_HUGETLB_1G,	/* anonymous MAP_HUGETLB, 1 GiB pages */
};

struct dmatd_buf {
	enum dmatd_backing backing;
	uint8_t *map;		/* the mapping: page aligned */
	size_t map_len;		/* a multiple of page_size */
	size_t page_size;	/* DMATD_PAGE_SIZE, or DMATD_HPAGE_SIZE */
	uint8_t *va;		/* the buffer: map + offset */
	size_t len;
	size_t offset;
	int memfd;		/* the memfd backings, else -1 */
	uint64_t file_off;	/* memfd: where in the file the mapping starts */
	bool locked;
};

const char *dmatd_backing_name(enum dmatd_backing backing);
int dmatd_backing_parse(const char *name, enum dmatd_backing *backing);

/*
 * Allocate a buffer of @len bytes starting @offset bytes into a mapping of
 * the given backing, and fault every page in (so that it has its frames
 * before anything is pinned or looked up).
 */
int dmatd_buf_alloc(struct dmatd_buf *b, enum dmatd_backing backing, size_t len,
		    size_t offset);

/*
 * The same for a memfd buffer (@backing DMATD_BACKING_MEMFD or _HUGETLB)
 * mapped from @file_off (aligned to its page size) on.
 */
int dmatd_buf_alloc_file(struct dmatd_buf *b, enum dmatd_backing backing,
			 size_t len, size_t offset, uint64_t file_off);
void dmatd_buf_free(struct dmatd_buf *b);

/* mlock() the whole mapping (legacy path). */
int dmatd_buf_lock(struct dmatd_buf *b);

/* Number of 4 KiB pages the buffer touches; page 0 holds its first byte. */
size_t dmatd_buf_pages(const struct dmatd_buf *b);

/* Address of the start of the buffer's 4 KiB page @i. */
uint8_t *dmatd_buf_page(const struct dmatd_buf *b, size_t i);

/* Open /proc/self/pagemap; returns the fd or -errno. */
int dmatd_pagemap_open(void);

/*
 * Physical addresses of @n 4 KiB pages from @va (page aligned) into @pa.
 * A page that is not present gets 0; all-zero PFNs of present pages mean
 * the caller lacks CAP_SYS_ADMIN and are reported as -EPERM.
 */
int dmatd_pagemap_pa(int fd, const void *va, size_t n, uint64_t *pa);

/* Number of NUMA nodes online (from /sys/devices/system/node/online). */
int dmatd_numa_nodes(void);

/*
 * Allocate this process's memory from now on from NUMA node @node only
 * (set_mempolicy(MPOL_BIND)): pages touched later land there.
 */
int dmatd_bind_node(int node);

/*
 * Back to the default policy (MPOL_DEFAULT): local allocation, and pages
 * that NUMA balancing may move (a bound task's pages it leaves alone).
 */
int dmatd_unbind_node(void);

/* The first CPU of NUMA node @node (its sysfs cpulist) in *@cpu. */
int dmatd_node_first_cpu(int node, int *cpu);

/* Physical address ranges [start, end) of one kind of zone. */
struct dmatd_zone_ranges {
	size_t n;
	uint64_t start[16];
	uint64_t end[16];
};

/*
 * Every node's zone @name ("Movable", "Normal", "DMA32", ...) that has
 * pages, from /proc/zoneinfo (start_pfn and spanned).
 */
int dmatd_zone_ranges(const char *name, struct dmatd_zone_ranges *z);

/* Is @pa inside one of @z's ranges? */
bool dmatd_in_zone(const struct dmatd_zone_ranges *z, uint64_t pa);

/* move_pages(2) on this process: the raw return value, or -errno. */
long dmatd_move_pages(unsigned long count, void **pages, const int *nodes,
		      int *status, int flags);

/*
 * Fragment free memory on purpose: fault in @len bytes of 4 KiB pages,
 * then give every other page back to the kernel.  Pages allocated next
 * (from this CPU) come from the holes, so they are physically scattered.
 */
struct dmatd_frag {
	uint8_t *map;
	size_t len;
};

int dmatd_frag_make(struct dmatd_frag *f, size_t len);
void dmatd_frag_free(struct dmatd_frag *f);

/* Keep this thread on the CPU it runs on now (per-CPU free lists). */
int dmatd_pin_cpu(int *cpu);

/* Move this thread to CPU @cpu, and keep it there. */
int dmatd_move_to_cpu(int cpu);

/* The same, but quiet: -errno, and nothing said (the CPU may be offline). */
int dmatd_try_cpu(int cpu);

/*
 * Memory blocks (/sys/devices/system/memory, CONFIG_MEMORY_HOTPLUG): the
 * unit in which Linux takes memory offline and online again.  Offlining a
 * block migrates every page it holds elsewhere, so it moves a buffer's
 * pages as move_pages() does, for reasons of its own (a DIMM or virtio-mem
 * unplug, a balloon).
 */

/* The size of a memory block (block_size_bytes), a power of two. */
int dmatd_memblock_size(uint64_t *size);

/*
 * The memory blocks holding the @n physical addresses @pa (0 is a page
 * that is not present: skipped), each once, in ascending order, into
 * @blocks (room for @max).  Returns how many, or -E2BIG.
 */
int dmatd_memblocks_of(const uint64_t *pa, size_t n, uint64_t block_size,
		       uint64_t *blocks, size_t max);

/*
 * Attribute @attr ("state", "valid_zones", ...) of memory block @block
 * into @buf, without the newline.
 */
int dmatd_memblock_read(uint64_t block, const char *attr, char *buf,
			size_t size);

/*
 * Write @state ("offline", "online_movable", ...) to memory block @block.
 * Offlining retries the migration of a page that will not move (a pinned
 * one) until the writer has a signal pending (any signal in Linux 7.3; a
 * fatal one whatever it checks), so the write runs in a child that shares
 * our memory (no copy-on-write moves our pages), killed after @timeout_ms.  Returns 0, the write's -errno (the kernel's answer, not
 * logged: the caller reports it), -ETIMEDOUT when the child was killed, or
 * another -errno (logged) when the write could not be tried.
 */
int dmatd_memblock_set_state(uint64_t block, const char *state,
			     unsigned int timeout_ms);

#endif /* DTLIB_MEM_H */
