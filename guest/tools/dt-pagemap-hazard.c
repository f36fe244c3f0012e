// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dt-pagemap-hazard: why mlock() + /proc/self/pagemap (DPDK's legacy
 * no-IOMMU path) is unsafe, shown with dma-testdev.
 *
 * A buffer is mlock()ed and its physical addresses read from pagemap,
 * as a driver does once and keeps; then its pages are migrated to the
 * other NUMA node (mlock() allows that), the CPU writes new data, and
 * the device copies from the addresses the driver still has: it reads
 * the old data from frames that are no longer the buffer's.  TAP and the
 * "@dt" lines of docs/guest-protocol.rst on stdout; the host oracle
 * flags every DMA that hit a moved page.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dtlib/hazard.h>
#include <dtlib/session.h>
#include <dtlib/tool.h>

static void case_legacy_hazard(void)
{
	struct dmatd_tbuf b, d;
	uint64_t *stale;
	size_t n;

	/*
	 * Everything the copy needs is allocated before the move: frames
	 * the move frees could otherwise be handed straight back to us.
	 */
	dmatd_tbuf_alloc(&d, DMATD_BACKING_4K, "hazard-dst", 1);
	DMATD_CHECK_CALL(dmatd_dma_map(&dmatd_sess.dev.vfio, &d.buf, &d.map, NULL));
	dmatd_tbuf_translate(&d);

	dmatd_tbuf_alloc(&b, dmatd_sess.backing, "legacy-hazard", 0);
	DMATD_CHECK_CALL(dmatd_dma_map(&dmatd_sess.dev.vfio, &b.buf, &b.map, NULL));
	dmatd_hazard_fill(&b, 0);

	dmatd_tbuf_begin("legacy-hazard", &b);
	/* What a DPDK-style driver reads once and keeps using. */
	dmatd_tbuf_translate(&b);
	stale = dmatd_tbuf_page_pas(&b, &n);
	dmatd_wait_go("pinned", NULL);
	dmatd_tbuf_report_translation(&b);
	dmatd_tbuf_check_runs(&b);

	dmatd_migrate_locked(&b, stale);

	/* The CPU now writes new data (new nonce): the new frames get it. */
	dmatd_tbuf_renonce(&b);
	dmatd_hazard_fill(&b, 1);
	dmatd_wait_go("moved", &b);

	/* The device reads the addresses the driver still has. */
	dmatd_hazard_copy_stale(&b, &d);
	dmatd_wait_go("checked", NULL);
	dmatd_end_case();
	free(stale);
	dmatd_tbuf_free(&b);
	dmatd_tbuf_free(&d);
}

/* --- main --------------------------------------------------------------- */

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: dt-pagemap-hazard [options]\n"
		"  mlock() a buffer, read its PAs from pagemap, migrate it,\n"
		"  and let the device read the stale addresses\n"
		DMATD_SESSION_USAGE
		"                       (defaults: --mode legacy, the only one\n"
		"                       it takes, --len 1M)\n");
}

int main(int argc, char **argv)
{
	struct option *long_opts;
	int c;

	dmatd_tool_init("dt-pagemap-hazard", print_usage, dmatd_tap_fatal);
	dmatd_sess.mode = DMATD_VFIO_LEGACY;
	long_opts = dmatd_session_longopts(NULL);
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1)
		if (!dmatd_session_opt(c, optarg))
			dmatd_usage_error();
	free(long_opts);
	dmatd_session_opts_done(argc, argv);
	if (dmatd_sess.mode != DMATD_VFIO_LEGACY)
		dmatd_bad_arg("--mode (the hazard is the legacy path's)",
			      dmatd_vfio_mode_name(dmatd_sess.mode));
	dmatd_session_open();
	case_legacy_hazard();
	return dmatd_session_close();
}
