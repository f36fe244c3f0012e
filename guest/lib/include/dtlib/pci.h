/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dtlib: PCI devices through sysfs.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#ifndef DTLIB_PCI_H
#define DTLIB_PCI_H

#include <stddef.h>
#include <stdint.h>

/* Longest BDF we accept: "dddd:bb:dd.f" plus room. */
#define DMATD_BDF_LEN	32

/*
 * Find the PCI device with @vendor:@device.  With several, the lowest BDF
 * is taken (and the others are logged), so that runs are reproducible.
 */
int dmatd_pci_find(uint16_t vendor, uint16_t device, char *bdf, size_t size);

/* Name of the driver bound to @bdf in @name, or "" when there is none. */
int dmatd_pci_driver(const char *bdf, char *name, size_t size);

/*
 * Bind @bdf to vfio-pci: driver_override, unbind from the current driver,
 * drivers_probe.  Nothing is done when it is bound to vfio-pci already.
 */
int dmatd_pci_bind_vfio(const char *bdf);

/*
 * Path of the no-IOMMU VFIO device cdev of @bdf
 * (/dev/vfio/devices/noiommu-vfioN).  -EOPNOTSUPP when the device has a
 * cdev that is not a no-IOMMU one, -ENOENT when it has none.
 */
int dmatd_pci_noiommu_cdev(const char *bdf, char *path, size_t size);

/* IOMMU group number of @bdf (for /dev/vfio/noiommu-N). */
int dmatd_pci_iommu_group(const char *bdf, int *group);

/* Read a small sysfs (or procfs) file into @buf, without the newline. */
int dmatd_sysfs_read(const char *path, char *buf, size_t size);

/* Write @val to a sysfs (or procfs) file. */
int dmatd_sysfs_write(const char *path, const char *val);

#endif /* DTLIB_PCI_H */
