/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dtlib: iommufd IOAS calls used in no-IOMMU mode.
 *
 * Functions named __dt_* issue one ioctl and return 0 or -errno without
 * logging anything: they are for tests that expect a failure.  The
 * others log every failure.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#ifndef DTLIB_IOMMUFD_H
#define DTLIB_IOMMUFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/iommufd.h>

/* One physically contiguous run of a mapping. */
struct dmatd_run {
	uint64_t iova;	/* cdev: IOVA; legacy: user virtual address */
	uint64_t pa;	/* CPU physical (= DMA) address */
	uint64_t len;	/* bytes */
};

/* Open /dev/iommu; returns the fd or -errno. */
int dmatd_iommufd_open(void);

int dmatd_ioas_alloc(int iommufd, uint32_t *ioas_id);

/* IOMMU_DESTROY of any iommufd object (an IOAS here). */
int dmatd_iommufd_destroy(int iommufd, uint32_t id);

/*
 * Map @len bytes at @va (both page aligned) for device reads and writes.
 * With @fixed the mapping is placed at *@iova, else the kernel chooses
 * and *@iova returns its choice.  This pins the pages.
 */
int dmatd_ioas_map(int iommufd, uint32_t ioas_id, void *va, uint64_t len,
		   uint64_t *iova, bool fixed);

/* The same for @len bytes of the memfd @fd from byte @start. */
int dmatd_ioas_map_file(int iommufd, uint32_t ioas_id, int fd, uint64_t start,
			uint64_t len, uint64_t *iova, bool fixed);

/*
 * IOMMU_IOAS_COPY: map in @dst the pages that @src maps at
 * [@src_iova, @src_iova + @len) (exactly one earlier map's range), at
 * *@dst_iova with @fixed, else where the kernel chooses.
 */
int dmatd_ioas_copy(int iommufd, uint32_t dst, uint32_t src,
		    uint64_t src_iova, uint64_t len, uint64_t *dst_iova,
		    bool fixed);

/* Unmap [@iova, @iova + @len); *@unmapped (may be NULL) gets the bytes. */
int dmatd_ioas_unmap(int iommufd, uint32_t ioas_id, uint64_t iova, uint64_t len,
		     uint64_t *unmapped);

/* IOMMU_IOAS_NOIOMMU_GET_PA on a caller-filled @cmd, no logging. */
int __dt_get_pa(int iommufd, struct iommu_ioas_noiommu_get_pa *cmd);

/*
 * Physical address of @iova and the number of physically contiguous
 * bytes from there (at most @len) in *@run_len.
 */
int dmatd_get_pa(int iommufd, uint32_t ioas_id, uint64_t iova, uint64_t len,
		 uint64_t *pa, uint64_t *run_len);

/*
 * Translate [@iova, @iova + @len) into physically contiguous runs, in IOVA
 * order, by calling IOMMU_IOAS_NOIOMMU_GET_PA until the range is covered.
 * *@runs is allocated (free() it) and *@nr set.
 */
int dmatd_get_pa_runs(int iommufd, uint32_t ioas_id, uint64_t iova,
		      uint64_t len, struct dmatd_run **runs, size_t *nr);

/* Append a run to a growing array, merging it with the previous one. */
int dmatd_runs_add(struct dmatd_run **runs, size_t *nr, size_t *cap,
		   uint64_t iova, uint64_t pa, uint64_t len, bool merge);

#endif /* DTLIB_IOMMUFD_H */
