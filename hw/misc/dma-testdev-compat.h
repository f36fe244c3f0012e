/*
 * dma-testdev: the seam between QEMU releases.
 *
 * The device is built against Debian trixie's QEMU 10.0 and against newer
 * QEMU from Debian sid.  The QEMU APIs it uses differ between them in a
 * few places; this header hides those differences so that the device has
 * no version checks of its own.  Include it right after "qemu/osdep.h"
 * (which brings config-host.h and its QEMU_VERSION_MAJOR/MINOR), instead
 * of the headers it includes below.
 *
 * Add a difference here only when the device (or a qtest) meets it, with
 * the release that introduced it.  Prefer __has_include() for headers that
 * moved, and a version check for changed signatures.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_DMA_TESTDEV_COMPAT_H
#define HW_MISC_DMA_TESTDEV_COMPAT_H

#define DMATD_QEMU_AT_LEAST(major, minor)                          \
    (QEMU_VERSION_MAJOR > (major) ||                                \
     (QEMU_VERSION_MAJOR == (major) && QEMU_VERSION_MINOR >= (minor)))

/*
 * QEMU 11.0 moved the qdev core headers from include/hw/ to
 * include/hw/core/ (hw/qdev-core.h became hw/core/qdev.h; irq.h, sysbus.h,
 * qdev-clock.h and others moved the same way, without compatibility
 * stubs).  __has_include() also follows a development tree in which the
 * move happened between two version numbers (checkpatch.pl takes it for
 * an architecture-specific define).
 */
#if __has_include("hw/core/qdev-properties.h")
#include "hw/core/qdev-properties.h"
#include "hw/core/resettable.h"
#else
#include "hw/qdev-properties.h"
#include "hw/resettable.h"
#endif

/*
 * QEMU 10.1 made TypeInfo::class_init take "const void *data" (and
 * TypeInfo::interfaces point to const InterfaceInfo, which a non-const
 * array still converts to, so InterfaceInfo arrays need no seam).
 */
#if DMATD_QEMU_AT_LEAST(10, 1)
#define DMATD_CLASS_INIT_DATA const void *
#else
#define DMATD_CLASS_INIT_DATA void *
#endif

#endif
