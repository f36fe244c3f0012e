/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dtlib: the content of a buffer whose pages move under a device (the
 * legacy mlock() + pagemap hazard, dt-pagemap-hazard; DPDK's, dt-dpdk).
 *
 * Two generations of content: what the buffer holds before its pages
 * move (0) and what the CPU writes after (1).  Neither is the pattern of
 * any seed, and every 4 KiB page keeps its page tag with the nonce of
 * that generation (old_nonce for 0, nonce for 1), so that the host scan
 * still finds each page.  After the move, a device reading the stale
 * addresses gets generation 0; the buffer the CPU sees holds 1.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#ifndef DTLIB_HAZARD_H
#define DTLIB_HAZARD_H

#include <stddef.h>
#include <stdint.h>

#include <dtlib/session.h>

/* Write generation @gen (0 or 1) into the whole buffer. */
void dmatd_hazard_fill(struct dmatd_tbuf *b, int gen);

/*
 * How many of @b's 4 KiB pages hold generation @gen in @p, a copy laid
 * out like the buffer (the buffer itself, or what the device copied of
 * it); *@first_bad: the first page that does not, SIZE_MAX if none.
 */
size_t dmatd_hazard_pages_match(const struct dmatd_tbuf *b, const uint8_t *p,
				int gen, size_t *first_bad);

/*
 * After the move, with generation 1 written: the device copies @b from
 * b->runs, the addresses taken before the move, into @d (d->runs),
 * reported as "@dt dma op=copy"; then dma-copy, cpu-sees-new-data,
 * device-reads-stale-data and device-checksum-old-data (the device's
 * checksum is that of what it read).
 */
void dmatd_hazard_copy_stale(struct dmatd_tbuf *b, struct dmatd_tbuf *d);

#endif /* DTLIB_HAZARD_H */
