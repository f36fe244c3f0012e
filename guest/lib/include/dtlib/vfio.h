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

enum dt_vfio_mode {
	DT_VFIO_CDEV,
	DT_VFIO_LEGACY,
};

struct dt_vfio {
	enum dt_vfio_mode mode;
	char bdf[DT_BDF_LEN];
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
struct dt_mapping {
	struct dt_buf *buf;
	uint64_t iova;	/* cdev: IOVA of buf->map; legacy: its address */
	bool mapped;
};

const char *dt_vfio_mode_name(enum dt_vfio_mode mode);

/* Bind @bdf to vfio-pci and open it in @mode. */
int dt_vfio_open(struct dt_vfio *v, const char *bdf, enum dt_vfio_mode mode);
void dt_vfio_close(struct dt_vfio *v);

int dt_vfio_region_info(struct dt_vfio *v, uint32_t index,
			struct vfio_region_info *info);

/* mmap() the whole of BAR @index. */
int dt_vfio_map_bar(struct dt_vfio *v, uint32_t index, void **addr,
		    size_t *size);
void dt_vfio_unmap_bar(void *addr, size_t size);

/* Config space through the VFIO config region. */
int dt_vfio_config_read(struct dt_vfio *v, uint32_t off, void *val,
			size_t size);
int dt_vfio_config_write(struct dt_vfio *v, uint32_t off, const void *val,
			 size_t size);

/* Set Memory Space and Bus Master Enable: without BME no DMA happens. */
int dt_vfio_enable_dma(struct dt_vfio *v);

/*
 * Make @m->buf reachable by DMA.  cdev: IOMMU_IOAS_MAP (MAP_FILE for a
 * memfd buffer), at *@fixed_iova if it is not NULL, which pins the pages.
 * Legacy: mlock(), which does not.
 */
int dt_dma_map(struct dt_vfio *v, struct dt_buf *b, struct dt_mapping *m,
	       const uint64_t *fixed_iova);
int dt_dma_unmap(struct dt_vfio *v, struct dt_mapping *m);

/*
 * Physically contiguous runs of [@off, @off + @len) of the mapping (@off
 * from the start of buf->map): GET_PA in cdev mode, pagemap in legacy.
 */
int dt_dma_runs(struct dt_vfio *v, struct dt_mapping *m, uint64_t off,
		uint64_t len, struct dt_run **runs, size_t *nr);

/* VFIO_DEVICE_GET_IRQ_INFO for @index (VFIO_PCI_*_IRQ_INDEX). */
int dt_vfio_irq_info(struct dt_vfio *v, uint32_t index,
		     struct vfio_irq_info *info);

/*
 * VFIO_DEVICE_SET_IRQS: signal the eventfds @fds[0 .. @count - 1] for the
 * vectors @start .. @start + @count - 1 of @index.  @count 0 turns the
 * whole index off again (the device's MSI-X, say, is disabled).
 */
int dt_vfio_irq_set(struct dt_vfio *v, uint32_t index, uint32_t start,
		    uint32_t count, const int *fds);

/*
 * Enable @nvec MSI-X vectors, each signalling a new eventfd, returned in
 * @fds.  Works in no-IOMMU mode: the kernel, not user space, owns the
 * MSI-X table.
 */
int dt_vfio_msix_enable(struct dt_vfio *v, uint32_t nvec, int *fds);

/* Disable MSI-X and close the @nvec eventfds (set to -1). */
int dt_vfio_msix_disable(struct dt_vfio *v, uint32_t nvec, int *fds);

/* The process's /proc/self/pagemap fd (opened on first use). */
int dt_vfio_pagemap(struct dt_vfio *v);

#endif /* DTLIB_VFIO_H */
