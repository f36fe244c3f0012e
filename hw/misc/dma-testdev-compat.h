/*
 * dma-testdev: the one place that absorbs QEMU API differences between
 * the QEMU releases the device is built against (10.0 and 11.x).
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_DMA_TESTDEV_COMPAT_H
#define HW_MISC_DMA_TESTDEV_COMPAT_H

/* QEMU 10.1 made class_init's data and TypeInfo.interfaces const. */
#if QEMU_VERSION_MAJOR > 10 || \
    (QEMU_VERSION_MAJOR == 10 && QEMU_VERSION_MINOR >= 1)
#define DT_CLASS_INIT_DATA      const void *
#define DT_INTERFACE_INFO       const InterfaceInfo
#else
#define DT_CLASS_INIT_DATA      void *
#define DT_INTERFACE_INFO       InterfaceInfo
#endif

#endif /* HW_MISC_DMA_TESTDEV_COMPAT_H */
