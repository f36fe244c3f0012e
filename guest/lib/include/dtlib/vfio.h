/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dtlib: a PCI device opened through VFIO in no-IOMMU mode.
 *
 * Two ways in:
 *  - cdev: /dev/vfio/devices/noiommu-vfioN bound to an iommufd; memory
 *    for DMA is pinned by IOMMU_IOAS_MAP into an IOAS the device is
 *    attached to, and IOMMU_IOAS_NOIOMMU_GET_PA returns its physical
 *    addresses (Linux >= 7.3);
 *  - legacy: the group /dev/vfio/noiommu-N in a container of type
 *    VFIO_NOIOMMU_IOMMU, which has no DMA mapping calls at all: memory is
 *    mlock()ed and its physical addresses read from /proc/self/pagemap,
 *    as DPDK does.  mlock() does not stop migration: see dt-pin
 *    --legacy-hazard.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#ifndef DTLIB_VFIO_H
#define DTLIB_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/vfio.h>

#include <dtlib/iommufd.h>
#include <dtlib/mem.h>
#include <dtlib/pci.h>

enum dmatd_vfio_mode {
	DMATD_VFIO_CDEV,
	DMATD_VFIO_LEGACY,
};

struct dmatd_vfio {
	enum dmatd_vfio_mode mode;
	char bdf[DMATD_BDF_LEN];
	int device_fd;

	/* cdev mode */
	char cdev[64];
	int iommufd;
	uint32_t ioas_id;
	uint32_t devid;

	/* legacy mode */
	int container_fd;
	int group_fd;
	int group;

	/* /proc/self/pagemap, opened on first use */
	int pagemap_fd;
};

/* A buffer made visible to the device. */
struct dmatd_mapping {
	struct dmatd_buf *buf;
	uint64_t iova;	/* cdev: IOVA of buf->map; legacy: its address */
	bool mapped;
};

const char *dmatd_vfio_mode_name(enum dmatd_vfio_mode mode);

/* Bind @bdf to vfio-pci and open it in @mode. */
int dmatd_vfio_open(struct dmatd_vfio *v, const char *bdf, enum dmatd_vfio_mode mode);
void dmatd_vfio_close(struct dmatd_vfio *v);

/*
 * Which kernel code serves the legacy container /dev/vfio/vfio once it has
 * been opened: "iommufd" (IOMMUFD_VFIO_CONTAINER, which logs so at its
 * first open) or "vfio" (VFIO_CONTAINER); NULL if the kernel log cannot be
 * read.
 */
const char *dmatd_vfio_container_backend(void);

int dmatd_vfio_region_info(struct dmatd_vfio *v, uint32_t index,
			   struct vfio_region_info *info);

/* mmap() the whole of BAR @index. */
int dmatd_vfio_map_bar(struct dmatd_vfio *v, uint32_t index, void **addr,
		       size_t *size);
void dmatd_vfio_unmap_bar(void *addr, size_t size);

/* Config space through the VFIO config region. */
int dmatd_vfio_config_read(struct dmatd_vfio *v, uint32_t off, void *val,
			   size_t size);
int dmatd_vfio_config_write(struct dmatd_vfio *v, uint32_t off, const void *val,
			    size_t size);

/* Set Memory Space and Bus Master Enable: without BME no DMA happens. */
int dmatd_vfio_enable_dma(struct dmatd_vfio *v);

/*
 * Make @m->buf reachable by DMA.  cdev: IOMMU_IOAS_MAP (MAP_FILE for a
 * memfd buffer), at *@fixed_iova if it is not NULL, which pins the pages.
 * Legacy: mlock(), which does not.
 */
int dmatd_dma_map(struct dmatd_vfio *v, struct dmatd_buf *b, struct dmatd_mapping *m,
		  const uint64_t *fixed_iova);
int dmatd_dma_unmap(struct dmatd_vfio *v, struct dmatd_mapping *m);

/*
 * Physically contiguous runs of [@off, @off + @len) of the mapping (@off
 * from the start of buf->map): GET_PA in cdev mode, pagemap in legacy.
 */
int dmatd_dma_runs(struct dmatd_vfio *v, struct dmatd_mapping *m, uint64_t off,
		   uint64_t len, struct dmatd_run **runs, size_t *nr);

/* VFIO_DEVICE_GET_IRQ_INFO for @index (VFIO_PCI_*_IRQ_INDEX). */
int dmatd_vfio_irq_info(struct dmatd_vfio *v, uint32_t index,
			struct vfio_irq_info *info);

/*
 * VFIO_DEVICE_SET_IRQS: signal the eventfds @fds[0 .. @count - 1] for the
 * vectors @start .. @start + @count - 1 of @index.  @count 0 turns the
 * whole index off again (the device's MSI-X, say, is disabled).
 */
int dmatd_vfio_irq_set(struct dmatd_vfio *v, uint32_t index, uint32_t start,
		       uint32_t count, const int *fds);

/*
 * Enable @nvec MSI-X vectors, each signalling a new eventfd, returned in
 * @fds.  Works in no-IOMMU mode: the kernel, not user space, owns the
 * MSI-X table.
 */
int dmatd_vfio_msix_enable(struct dmatd_vfio *v, uint32_t nvec, int *fds);

/* Disable MSI-X and close the @nvec eventfds (set to -1). */
int dmatd_vfio_msix_disable(struct dmatd_vfio *v, uint32_t nvec, int *fds);

/* The process's /proc/self/pagemap fd (opened on first use). */
int dmatd_vfio_pagemap(struct dmatd_vfio *v);

#endif /* DTLIB_VFIO_H */
