/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dtlib: DMA buffers, /proc/self/pagemap, page migration.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#ifndef DTLIB_MEM_H
#define DTLIB_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DT_PAGE_SIZE	4096UL
#define DT_HPAGE_SIZE	(2UL << 20)
#define DT_ALIGN(x, a)	(((x) + (a) - 1) & ~((uint64_t)(a) - 1))

enum dt_backing {
	DT_BACKING_4K,		/* anonymous, MADV_NOHUGEPAGE */
	DT_BACKING_THP,		/* anonymous, 2 MiB aligned, THP */
	DT_BACKING_HUGETLB,	/* anonymous MAP_HUGETLB, 2 MiB pages */
	DT_BACKING_MEMFD,	/* shared mapping of a memfd (shmem) */
};

struct dt_buf {
	enum dt_backing backing;
	uint8_t *map;		/* the mapping: page aligned */
	size_t map_len;		/* a multiple of page_size */
	size_t page_size;	/* DT_PAGE_SIZE, or DT_HPAGE_SIZE */
	uint8_t *va;		/* the buffer: map + offset */
	size_t len;
	size_t offset;
	int memfd;		/* DT_BACKING_MEMFD, else -1 */
	bool locked;
};

const char *dt_backing_name(enum dt_backing backing);
int dt_backing_parse(const char *name, enum dt_backing *backing);

/*
 * Allocate a buffer of @len bytes starting @offset bytes into a mapping of
 * the given backing, and fault every page in (so that it has its frames
 * before anything is pinned or looked up).
 */
int dt_buf_alloc(struct dt_buf *b, enum dt_backing backing, size_t len,
		 size_t offset);
void dt_buf_free(struct dt_buf *b);

/* mlock() the whole mapping (legacy path). */
int dt_buf_lock(struct dt_buf *b);

/* Number of 4 KiB pages the buffer touches; page 0 holds its first byte. */
size_t dt_buf_pages(const struct dt_buf *b);

/* Address of the start of the buffer's 4 KiB page @i. */
uint8_t *dt_buf_page(const struct dt_buf *b, size_t i);

/* Open /proc/self/pagemap; returns the fd or -errno. */
int dt_pagemap_open(void);

/*
 * Physical addresses of @n 4 KiB pages from @va (page aligned) into @pa.
 * A page that is not present gets 0; all-zero PFNs of present pages mean
 * the caller lacks CAP_SYS_ADMIN and are reported as -EPERM.
 */
int dt_pagemap_pa(int fd, const void *va, size_t n, uint64_t *pa);

/* Number of NUMA nodes online (from /sys/devices/system/node/online). */
int dt_numa_nodes(void);

/* move_pages(2) on this process: the raw return value, or -errno. */
long dt_move_pages(unsigned long count, void **pages, const int *nodes,
		   int *status, int flags);

/*
 * Fragment free memory on purpose: fault in @len bytes of 4 KiB pages,
 * then give every other page back to the kernel.  Pages allocated next
 * (from this CPU) come from the holes, so they are physically scattered.
 */
struct dt_frag {
	uint8_t *map;
	size_t len;
};

int dt_frag_make(struct dt_frag *f, size_t len);
void dt_frag_free(struct dt_frag *f);

/* Keep this thread on the CPU it runs on now (per-CPU free lists). */
int dt_pin_cpu(int *cpu);

#endif /* DTLIB_MEM_H */
