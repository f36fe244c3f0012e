// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dt-dpdk: DPDK's own no-IOMMU path under the host oracle.
 *
 * A DPDK program as a DPDK user writes one: a PCI driver for dma-testdev
 * registered with the EAL (RTE_PMD_REGISTER_PCI), the EAL in IOVA-as-PA
 * mode binding the device through vfio-pci no-IOMMU (the legacy group,
 * /dev/vfio/noiommu-N), buffers from DPDK's hugepage memory (rte_malloc),
 * and device addresses from DPDK's own memory map: rte_malloc_virt2iova(),
 * which is also what memzones and mempools (mbuf->buf_iova) hand to
 * drivers.  In PA mode the EAL reads a hugepage's address from
 * /proc/self/pagemap once, when it allocates the page, and keeps it:
 * nothing pins the page.  (rte_mem_virt2iova() reads pagemap again at
 * each call; drivers do not use it for their rings and buffers.)
 *
 * --iova dpdk (default)   addresses from DPDK's memory map
 * --iova iommufd          the same program and memory, but the device is
 *                         bound through its no-IOMMU cdev, the buffer pinned
 *                         with IOMMU_IOAS_MAP and its addresses taken from
 *                         IOMMU_IOAS_NOIOMMU_GET_PA (DPDK 22.11 cannot do
 *                         that itself: the EAL only gets the memory)
 * --move                  move the buffer's hugepages to the other NUMA
 *                         node (move_pages) after the addresses were taken
 *
 * Without --move the device writes the pattern into the buffer and
 * verifies it.  With --move and DPDK's addresses the pages move, DPDK's
 * addresses go stale, and the device copies from them into a second
 * buffer: it reads the old data from frames that are no longer the
 * buffer's (the host oracle flags every such read).  With --move and
 * iommufd, the pinned pages do not move, and the write and verify that
 * follow land where the CPU sees the buffer.
 *
 * TAP and the "@dt" lines of docs/guest-protocol.rst on stdout: mode=legacy
 * for DPDK's addresses (page by page, "pfn" lines), mode=cdev for iommufd's
 * ("run" lines).  Runs only with the host's root filesystem (the developer
 * VM's --rootfs host): it links with the host's DPDK libraries.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_bus_pci.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_memzone.h>
#include <rte_version.h>
#include <rte_vfio.h>
#include <bus_pci_driver.h>

#include <dtlib/hazard.h>
#include <dtlib/pci.h>
#include <dtlib/session.h>
#include <dtlib/tool.h>

enum iova_source { IOVA_DPDK, IOVA_IOMMUFD };

static struct {
	enum iova_source iova;
	bool move;
	int eal_argc;		/* what follows "--": more EAL arguments */
	char **eal_argv;
} opt;

/* --- The PCI driver the EAL probes ------------------------------------ */

static struct rte_pci_device *probed;

static int dt_probe(struct rte_pci_driver *drv, struct rte_pci_device *pdev)
{
	(void)drv;
	if (probed)
		return -EEXIST;	/* one device per run: the first one */
	probed = pdev;
	return 0;
}

static int dt_remove(struct rte_pci_device *pdev)
{
	if (probed == pdev)
		probed = NULL;
	return 0;
}

static const struct rte_pci_id dt_pci_ids[] = {
	{ RTE_PCI_DEVICE(DMA_TESTDEV_VENDOR_ID, DMA_TESTDEV_DEVICE_ID) },
	{ .vendor_id = 0 },
};

/* NEED_MAPPING: the EAL maps BAR0 through VFIO before the probe. */
static struct rte_pci_driver dt_pci_driver = {
	.id_table = dt_pci_ids,
	.drv_flags = RTE_PCI_DRV_NEED_MAPPING,
	.probe = dt_probe,
	.remove = dt_remove,
};

RTE_PMD_REGISTER_PCI(dma_testdev, dt_pci_driver);

/* --- The EAL ---------------------------------------------------------- */

static void eal_init(const char *bdf, int cpu)
{
	char lcore[16], *argv[32 + 64];
	int argc = 0, i, ret;

	snprintf(lcore, sizeof(lcore), "%d", cpu);
	argv[argc++] = "dt-dpdk";
	argv[argc++] = "-l";
	argv[argc++] = lcore;
	/* DPDK's no-IOMMU mode: the device gets physical addresses. */
	argv[argc++] = "--iova-mode=pa";
	/* No files in /dev/hugepages or /var/run/dpdk, no IPC socket. */
	argv[argc++] = "--in-memory";
	argv[argc++] = "--no-telemetry";
	if (opt.iova == IOVA_DPDK) {
		argv[argc++] = "-a";
		argv[argc++] = (char *)bdf;
	} else {
		/* The device is ours (cdev): the EAL must not touch it. */
		argv[argc++] = "--no-pci";
	}
	if (opt.eal_argc > 64)
		dmatd_bad_arg("EAL arguments (at most 64)", opt.eal_argv[0]);
	for (i = 0; i < opt.eal_argc; i++)
		argv[argc++] = opt.eal_argv[i];
	argv[argc] = NULL;

	fflush(stdout);
	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		dmatd_fatal("rte_eal_init: %s (rte_errno %d; the EAL's messages above say why)",
			    rte_strerror(rte_errno), rte_errno);
	dmatd_diag("EAL: %s, IOVA mode %s, vfio no-IOMMU %s, main lcore %u",
		   rte_version(), rte_eal_iova_mode() == RTE_IOVA_PA ? "PA" :
		   rte_eal_iova_mode() == RTE_IOVA_VA ? "VA" : "DC",
		   rte_vfio_noiommu_is_enabled() == 1 ? "on" : "off",
		   rte_get_main_lcore());
	dmatd_check("eal-iova-as-pa", rte_eal_iova_mode() == RTE_IOVA_PA,
		    "rte_eal_iova_mode() is %d, want RTE_IOVA_PA (%d)",
		    rte_eal_iova_mode(), RTE_IOVA_PA);
}

/*
 * A segment list of the device in DPDK memory: a memzone, which unlike
 * rte_malloc() can be asked to be contiguous in IOVA space.
 */
static void seglist_from_memzone(struct dmatd_dev *dev, struct dmatd_seglist *l,
				 const char *name)
{
	uint32_t segs = dev->max_segs < 4096 ? dev->max_segs : 4096;
	const struct rte_memzone *mz;

	mz = rte_memzone_reserve_aligned(name, (size_t)segs * DMATD_SEG_SIZE,
					 SOCKET_ID_ANY, RTE_MEMZONE_IOVA_CONTIG,
					 DMATD_PAGE_SIZE);
	if (!mz)
		dmatd_fatal("rte_memzone_reserve_aligned %s, %u segments: %s",
			    name, segs, rte_strerror(rte_errno));
	memset(l, 0, sizeof(*l));
	l->buf.memfd = -1;
	l->buf.backing = DMATD_BACKING_HUGETLB;
	l->buf.map = l->buf.va = mz->addr;
	l->buf.len = l->buf.map_len = mz->len;
	l->buf.page_size = mz->hugepage_sz;
	l->pa = mz->iova;
	l->cap = segs;
}

/* The device as the EAL probed and mapped it. */
static void dev_from_eal(struct dmatd_dev *dev, const char *bdf)
{
	const struct rte_mem_resource *bar;
	uint32_t id, version;

	if (!probed)
		dmatd_fatal("the EAL did not probe %s with the dma_testdev driver (bound to vfio-pci? vfio no-IOMMU on? see the EAL's messages above)",
			    bdf);
	bar = &probed->mem_resource[0];
	if (!bar->addr || bar->len < DMA_TESTDEV_BAR0_SIZE)
		dmatd_fatal("%s: BAR0 mapped by the EAL at %p, 0x%" PRIx64 " bytes: want 0x%x",
			    bdf, bar->addr, bar->len, DMA_TESTDEV_BAR0_SIZE);
	memset(dev, 0, sizeof(*dev));
	dev->vfio.mode = DMATD_VFIO_LEGACY;
	dev->vfio.device_fd = -1;
	dev->vfio.iommufd = -1;
	dev->vfio.container_fd = -1;
	dev->vfio.group_fd = -1;
	dev->vfio.pagemap_fd = -1;
	if (snprintf(dev->vfio.bdf, sizeof(dev->vfio.bdf), "%s", bdf) >=
	    (int)sizeof(dev->vfio.bdf))
		dmatd_fatal("%s: the EAL's device name is no PCI address", bdf);
	dev->regs = bar->addr;
	dev->regs_len = bar->len;
	id = dmatd_readl(dev, DMATD_REG_ID);
	version = dmatd_readl(dev, DMATD_REG_VERSION);
	if (id != DMA_TESTDEV_ID_VALUE ||
	    version >> 16 != DMA_TESTDEV_VERSION_MAJOR)
		dmatd_fatal("%s: ID 0x%08x version 0x%08x: not a dma-testdev %u.x",
			    bdf, id, version, DMA_TESTDEV_VERSION_MAJOR);
	dev->caps = dmatd_readl(dev, DMATD_REG_CAPS);
	dev->addr_bits = dmatd_readl(dev, DMATD_REG_ADDR_BITS);
	dev->max_segs = dmatd_readl(dev, DMATD_REG_MAX_SEGS);
	dev->max_xfer = dmatd_readq(dev, DMATD_REG_MAX_XFER_LO);
	if (!dev->max_segs)
		dmatd_fatal("%s: MAX_SEGS is 0", bdf);
	if (rte_pci_set_bus_master(probed, true))
		dmatd_fatal("%s: rte_pci_set_bus_master: %s", bdf,
			    rte_strerror(rte_errno));
	seglist_from_memzone(dev, &dev->src, "dt-src-list");
	seglist_from_memzone(dev, &dev->dst, "dt-dst-list");
}

/* --- Buffers in DPDK memory ------------------------------------------- */

/*
 * --len bytes at --offset from rte_malloc(), in hugepages of their own
 * (aligned to and sized in whole hugepages): moving them moves nothing
 * else of DPDK's.
 */
static void *tbuf_dpdk(struct dmatd_tbuf *b, const char *name, unsigned int idx)
{
	size_t span = DMATD_ALIGN(dmatd_sess.offset + dmatd_sess.len,
				  DMATD_PAGE_SIZE);
	const struct rte_memseg *ms;
	void *p;

	p = rte_malloc_socket(name, DMATD_ALIGN(span, DMATD_HPAGE_SIZE),
			      DMATD_HPAGE_SIZE, (int)rte_socket_id());
	if (!p)
		dmatd_fatal("rte_malloc_socket %s, 0x%zx bytes on socket %u: %s",
			    name, span, rte_socket_id(), rte_strerror(rte_errno));
	ms = rte_mem_virt2memseg(p, NULL);
	if (!ms)
		dmatd_fatal("rte_mem_virt2memseg(%p): not DPDK memory", p);
	memset(b, 0, sizeof(*b));
	b->buf.backing = DMATD_BACKING_HUGETLB;
	b->buf.memfd = -1;
	b->buf.map = p;
	b->buf.map_len = span;
	b->buf.page_size = ms->hugepage_sz;
	b->buf.va = b->buf.map + dmatd_sess.offset;
	b->buf.len = dmatd_sess.len;
	b->buf.offset = dmatd_sess.offset;
	dmatd_tbuf_adopt(b, name, idx);
	return p;
}

/*
 * DPDK's IOVA of @va as its memory map records it: the hugepage's IOVA,
 * read from pagemap once when the EAL allocated it, plus the offset.
 * This is what rte_malloc_virt2iova() computes, and what memzones
 * (mz->iova) and mempools (mbuf->buf_iova) hand to drivers.
 * rte_mem_virt2iova() differs in PA mode: it reads pagemap each time.
 */
static rte_iova_t memseg_iova(const void *va)
{
	const struct rte_memseg *ms = rte_mem_virt2memseg(va, NULL);

	if (!ms || ms->iova == RTE_BAD_IOVA)
		dmatd_fatal("rte_mem_virt2memseg(%p): no IOVA", va);
	return ms->iova + RTE_PTR_DIFF(va, ms->addr);
}

/*
 * What a DPDK driver programs: the memseg IOVA of every 4 KiB page the
 * buffer touches (@iova, page aligned), and b->runs, the pages merged
 * where their IOVAs are contiguous (a run's "iova" is the buffer's
 * virtual address, as on the legacy path).
 */
static void translate_dpdk(struct dmatd_tbuf *b, uint64_t **iova)
{
	size_t n = dmatd_buf_pages(&b->buf), i;
	uintptr_t end = (uintptr_t)b->buf.va + b->buf.len;

	*iova = calloc(n, sizeof(**iova));
	free(b->runs);
	b->runs = calloc(n, sizeof(*b->runs));
	if (!*iova || !b->runs)
		dmatd_fatal("calloc for %zu pages: %s", n, strerror(ENOMEM));
	b->nr = 0;
	b->map.buf = &b->buf;
	b->map.iova = (uintptr_t)b->buf.map;
	for (i = 0; i < n; i++) {
		uintptr_t va = i ? (uintptr_t)dmatd_buf_page(&b->buf, i) :
			       (uintptr_t)b->buf.va;
		uintptr_t next = (uintptr_t)dmatd_buf_page(&b->buf, i) +
				 DMATD_PAGE_SIZE;
		rte_iova_t pa = memseg_iova((void *)va);
		struct dmatd_run *r = &b->runs[b->nr];
		uint64_t len = (next < end ? next : end) - va;

		(*iova)[i] = pa & ~(DMATD_PAGE_SIZE - 1);
		if (b->nr && r[-1].pa + r[-1].len == pa) {
			r[-1].len += len;
			continue;
		}
		r->iova = va;
		r->pa = pa;
		r->len = len;
		b->nr++;
	}
}

/* DPDK's addresses of the pages, as the legacy path reports them. */
static void report_pfns(const uint64_t *iova, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dmatd_proto("pfn page=%zu pa=0x%" PRIx64, i, iova[i]);
}

/* Pages whose DPDK address is not where pagemap says they are. */
static size_t iova_mismatches(const uint64_t *iova, const uint64_t *pa,
			      size_t n, size_t *first)
{
	size_t i, bad = 0;

	*first = SIZE_MAX;
	for (i = 0; i < n; i++) {
		if (iova[i] == pa[i])
			continue;
		if (*first == SIZE_MAX)
			*first = i;
		bad++;
	}
	return bad;
}

/* b->runs and the "@dt" report of them, by the --iova source. */
static void translate(struct dmatd_tbuf *b, uint64_t **iova)
{
	if (opt.iova == IOVA_DPDK) {
		translate_dpdk(b, iova);
		return;
	}
	*iova = NULL;
	dmatd_tbuf_translate(b);
}

static void report_translation(struct dmatd_tbuf *b, const uint64_t *iova)
{
	if (opt.iova == IOVA_DPDK)
		report_pfns(iova, dmatd_buf_pages(&b->buf));
	else
		dmatd_tbuf_report_translation(b);
	dmatd_tbuf_check_runs(b);
}

static void map_buffer(struct dmatd_tbuf *b)
{
	if (opt.iova == IOVA_IOMMUFD)
		DMATD_CHECK_CALL(dmatd_dma_map(&dmatd_sess.dev.vfio, &b->buf,
					       &b->map, NULL));
}

static void unmap_buffer(struct dmatd_tbuf *b)
{
	if (b->map.mapped)
		dmatd_dma_unmap(&dmatd_sess.dev.vfio, &b->map);
	free(b->runs);
	b->runs = NULL;
}

/* --- The cases -------------------------------------------------------- */

/* DPDK's addresses are where the pages are, before anything moved. */
static void check_iova_is_pa(struct dmatd_tbuf *b, const uint64_t *iova)
{
	size_t n, bad, first;
	uint64_t *pa;

	if (opt.iova != IOVA_DPDK)
		return;
	pa = dmatd_tbuf_page_pas(b, &n);
	bad = iova_mismatches(iova, pa, n, &first);
	dmatd_check("dpdk-iova-is-pa", !bad,
		    "%zu of %zu pages: DPDK's IOVA differs from pagemap, first page %zd",
		    bad, n, first == SIZE_MAX ? -1 : (ssize_t)first);
	/* The public API agrees with the memseg lookup above. */
	dmatd_check("dpdk-malloc-virt2iova", rte_malloc_virt2iova(b->buf.map) ==
		    memseg_iova(b->buf.map),
		    "rte_malloc_virt2iova(%p)=0x%" PRIx64 " memseg IOVA 0x%" PRIx64,
		    (void *)b->buf.map, rte_malloc_virt2iova(b->buf.map),
		    memseg_iova(b->buf.map));
	free(pa);
}

/* The device writes the pattern into the buffer, then verifies it. */
static void case_write_verify(void)
{
	struct dmatd_tbuf b;
	uint64_t *iova;
	void *mem;

	mem = tbuf_dpdk(&b, "dpdk", 0);
	map_buffer(&b);
	/* Pinned (iommufd) now: tag afresh, see dt-pin's run_buffer(). */
	dmatd_tbuf_renonce(&b);
	dmatd_tbuf_begin(b.name, &b);
	translate(&b, &iova);
	dmatd_wait_go("pinned", NULL);
	report_translation(&b, iova);
	check_iova_is_pa(&b, iova);
	dmatd_tbuf_write_verify(&b, NULL);
	dmatd_wait_go("checked", NULL);
	dmatd_end_case();
	unmap_buffer(&b);
	free(iova);
	rte_free(mem);
}

/*
 * DPDK's hazard: the pages move, DPDK's addresses do not change, and the
 * device reads the old frames.  The stale-read form: a stale write would
 * land in frames the kernel has freed.
 */
static void move_dpdk(struct dmatd_tbuf *b, const uint64_t *iova,
		      const uint64_t *before, struct dmatd_move *mv)
{
	size_t n, i, at_target = 0, moved, still;
	uint64_t *after, *iova_now;

	dmatd_move_run(mv);
	after = dmatd_tbuf_page_pas(b, &n);
	for (i = 0; i < mv->count; i++)
		at_target += mv->status[i] == mv->target;
	moved = dmatd_report_moved(b, before, after, n, mv, true);
	dmatd_check("hugepages-move", !mv->ret && at_target == mv->count,
		    "move_pages returned %ld, %zu of %zu hugepages at node %d",
		    mv->ret, at_target, mv->count, mv->target);
	dmatd_check("pfn-changed", moved == n, "%zu of %zu pages moved",
		    moved, n);
	/* What DPDK says now: the address it took at allocation. */
	translate_dpdk(b, &iova_now);
	still = n - iova_mismatches(iova_now, iova, n, &i);
	dmatd_check("dpdk-iova-stale", still == n,
		    "%zu of %zu pages: DPDK's IOVA (memseg) is still the old address",
		    still, n);
	/* Its pagemap lookup sees the move; nothing hands that to drivers. */
	dmatd_diag("page 0: memseg IOVA 0x%" PRIx64 ", rte_mem_virt2iova() 0x%" PRIx64 ", pagemap 0x%" PRIx64,
		   iova_now[0], rte_mem_virt2iova(dmatd_buf_page(&b->buf, 0)),
		   after[0]);
	free(iova_now);
	free(after);
}

/* Pinned pages stay: move_pages() leaves their status slots unwritten. */
static void move_pinned(struct dmatd_tbuf *b, const uint64_t *before,
			struct dmatd_move *mv)
{
	size_t n, i, at_target = 0, moved;
	uint64_t *after;

	dmatd_move_run(mv);
	after = dmatd_tbuf_page_pas(b, &n);
	for (i = 0; i < mv->count; i++)
		at_target += mv->status[i] == mv->target;
	moved = dmatd_report_moved(b, before, after, n, mv, true);
	dmatd_check("pinned-hugepages-stay", !at_target && !moved,
		    "move_pages returned %ld, %zu of %zu hugepages at node %d, %zu of %zu pages moved",
		    mv->ret, at_target, mv->count, mv->target, moved, n);
	free(after);
}

static void case_move(void)
{
	struct dmatd_tbuf b, d;
	void *mem, *dmem = NULL;
	struct dmatd_move mv;
	uint64_t *iova, *diova = NULL, *before;
	size_t n;

	/*
	 * DPDK's addresses: the device copies into a second buffer.  It
	 * comes before the move: frames the move frees could otherwise be
	 * handed straight back to us.
	 */
	if (opt.iova == IOVA_DPDK) {
		dmem = tbuf_dpdk(&d, "dpdk-move-dst", 1);
		translate(&d, &diova);
	}
	mem = tbuf_dpdk(&b, "dpdk-move", 0);
	map_buffer(&b);
	dmatd_hazard_fill(&b, 0);

	dmatd_tbuf_begin(b.name, &b);
	translate(&b, &iova);
	before = dmatd_tbuf_page_pas(&b, &n);
	dmatd_move_prepare(&b, &mv);
	dmatd_wait_go("pinned", NULL);
	report_translation(&b, iova);
	check_iova_is_pa(&b, iova);

	if (opt.iova == IOVA_DPDK)
		move_dpdk(&b, iova, before, &mv);
	else
		move_pinned(&b, before, &mv);

	/* The CPU now writes new data (new nonce): the buffer's frames get it. */
	dmatd_tbuf_renonce(&b);
	dmatd_hazard_fill(&b, 1);
	dmatd_wait_go("moved", &b);

	if (opt.iova == IOVA_IOMMUFD) {
		/* The addresses GET_PA gave still hold: the oracle checks. */
		dmatd_tbuf_write_verify(&b, NULL);
	} else {
		/* The device reads the addresses DPDK still has. */
		dmatd_hazard_copy_stale(&b, &d);
	}
	dmatd_wait_go("checked", NULL);
	dmatd_end_case();
	dmatd_move_free(&mv);
	free(before);
	free(iova);
	free(diova);
	unmap_buffer(&b);
	rte_free(mem);
	if (dmem) {
		unmap_buffer(&d);
		rte_free(dmem);
	}
}

/* --- main ------------------------------------------------------------- */

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: dt-dpdk [options] [-- EAL-ARGS]\n"
		"  a DPDK program (EAL, PA mode, vfio-pci no-IOMMU) that has\n"
		"  dma-testdev write and verify a pattern in DPDK's hugepage\n"
		"  memory, at the addresses DPDK gives (or iommufd's)\n"
		"  --iova dpdk|iommufd   device addresses from DPDK's memory map\n"
		"                       (rte_malloc_virt2iova(), default), or from\n"
		"                       IOMMU_IOAS_NOIOMMU_GET_PA\n"
		"  --move               move the hugepages after taking the addresses\n"
		"  --dev BDF            PCI device (default: the 1af4:10f0)\n"
		"  --len BYTES          buffer length, K/M/G suffixes (default 64K)\n"
		"  --offset BYTES       start the buffer this far into its page\n"
		"  --handshake          stop at each '@dt wait' until 'go'\n"
		"  --seed HEX           pattern seed (default random)\n"
		"  --help\n"
		"  EAL-ARGS are added to the EAL's: -l CPU --iova-mode=pa\n"
		"  --in-memory --no-telemetry, and -a BDF (or --no-pci)\n");
}

enum { OPT_IOVA = DMATD_OPT_TOOL, OPT_MOVE };

static const struct option dpdk_opts[] = {
	{ "iova", required_argument, NULL, OPT_IOVA },
	{ "move", no_argument, NULL, OPT_MOVE },
	{ NULL, 0, NULL, 0 },
};

static void parse_args(int argc, char **argv)
{
	static const char *const sources[] = {
		[IOVA_DPDK] = "dpdk", [IOVA_IOMMUFD] = "iommufd",
	};
	struct option *long_opts = dmatd_session_longopts(dpdk_opts);
	int c, i;

	/* EAL arguments after "--": getopt must not see them. */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			opt.eal_argc = argc - i - 1;
			opt.eal_argv = argv + i + 1;
			argc = i;
			break;
		}
	}
	dmatd_sess.len = 64 << 10;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_IOVA:
			opt.iova = dmatd_arg_name("--iova", optarg, sources,
						  ARRAY_SIZE(sources));
			break;
		case OPT_MOVE:
			opt.move = true;
			break;
		case DMATD_OPT_MODE:
			dmatd_bad_arg("--mode (dt-dpdk takes --iova)", optarg);
		case DMATD_OPT_BACKING:
			dmatd_bad_arg("--backing (DPDK's memory is its hugepages)",
				      optarg);
		case DMATD_OPT_FILE_OFF:
		case DMATD_OPT_NODE:
			dmatd_bad_arg("option (DPDK allocates the memory)",
				      optarg);
		default:
			if (!dmatd_session_opt(c, optarg))
				dmatd_usage_error();
		}
	}
	free(long_opts);
	dmatd_session_opts_done(argc, argv);
	if (dmatd_sess.offset >= DMATD_PAGE_SIZE)
		dmatd_bad_arg("--offset (below 4K)", "");
	dmatd_sess.backing = DMATD_BACKING_HUGETLB;
	dmatd_sess.mode = opt.iova == IOVA_DPDK ? DMATD_VFIO_LEGACY :
						  DMATD_VFIO_CDEV;
}

int main(int argc, char **argv)
{
	struct dmatd_session *s = &dmatd_sess;
	int ret;

	dmatd_tool_init("dt-dpdk", print_usage, dmatd_tap_fatal);
	parse_args(argc, argv);

	dmatd_session_start();
	/* What dpdk-devbind.py does: the EAL takes only vfio-pci devices. */
	if (opt.iova == IOVA_DPDK)
		DMATD_CHECK_CALL(dmatd_pci_bind_vfio(s->bdf));
	eal_init(s->bdf, s->cpu);
	if (opt.iova == IOVA_DPDK) {
		const char *backend;

		dev_from_eal(&s->dev, s->bdf);
		/* The EAL opened /dev/vfio/vfio: who serves it, by the log. */
		backend = dmatd_vfio_container_backend();
		dmatd_proto("container backend=%s", backend ?: "unknown");
	} else
		DMATD_CHECK_CALL(dmatd_dev_open(&s->dev, s->bdf, DMATD_VFIO_CDEV));
	dmatd_diag("%s: cpu %d, addresses from %s, addr-bits %u, lists at pa 0x%" PRIx64 "/0x%" PRIx64 ", seed 0x%08" PRIx64,
		   s->bdf, s->cpu, opt.iova == IOVA_DPDK ?
		   "DPDK's memory map" : "IOMMU_IOAS_NOIOMMU_GET_PA",
		   s->dev.addr_bits, s->dev.src.pa, s->dev.dst.pa, s->seed);

	if (opt.move)
		case_move();
	else
		case_write_verify();

	if (opt.iova == IOVA_IOMMUFD) {
		/* Closes the device; close-releases-pins; the totals. */
		ret = dmatd_session_close();
	} else {
		ret = dmatd_tap_done();
	}
	rte_eal_cleanup();
	return ret;
}
