// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dt-pin-abi: the ABI of IOMMU_IOAS_NOIOMMU_GET_PA and the life of the
 * memory it pins, on a dma-testdev bound to vfio-pci through the no-IOMMU
 * cdev: every errno of the ioctl, its output lengths, IOVA edges and
 * aliases, IOMMU_IOAS_COPY, GET_PA racing UNMAP, MADV_DONTNEED, mremap(),
 * munmap() and MADV_COLLAPSE under a pin, RLIMIT_MEMLOCK accounting,
 * CAP_SYS_RAWIO, and that closing the iommufd unpins.
 *
 * Built on the kernel's kselftest_harness.h: one test per probe, each in a
 * process of its own with the device opened afresh (FIXTURE_SETUP), and
 * KTAP on stdout ("ok N fixture.probe", a failure's messages in "# "
 * lines before its "not ok").  Run alone, or with the harness's options
 * (-l lists the tests, -t NAME runs one).
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>

#include "kselftest_harness.h"

#include <dtlib/log.h>
#include <dtlib/testdev.h>
#include <dtlib/tool.h>

/* The buffer every test has mapped (4 KiB pages). */
#define BUF_LEN		(1UL << 20)
#define LIFE_PAGES	16
#define MEMLOCK_PAGES	16
#define COLLAPSE_PAGES	(DMATD_HPAGE_SIZE / DMATD_PAGE_SIZE)
#define UNMAP_RACE_SECONDS	2

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif

/* A library call must succeed, else the test ends with its message. */
static void call_ok(struct __test_metadata *_metadata, long ret)
{
	ASSERT_LE(0, ret) TH_LOG("%s", dmatd_last_error());
}

/* One check of the old dt-pin --errno, by its name: fails with @fmt. */
static void __printf(4, 5) probe(struct __test_metadata *_metadata,
				 const char *name, bool ok,
				 const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	EXPECT_TRUE(ok) TH_LOG("%s: %s", name, msg);
}

/* GET_PA answered @ret (0 or -errno); @want is a positive errno or 0. */
static void probe_errno(struct __test_metadata *_metadata, const char *name,
			int ret, int want,
			const struct iommu_ioas_noiommu_get_pa *cmd)
{
	probe(_metadata, name, ret == -want,
	      "got %s, want %s; size=%u flags=0x%x ioas=%u reserved=0x%x iova=0x%llx length=0x%llx",
	      dmatd_errname(ret), want ? strerror(want) : "success",
	      cmd->size, cmd->flags, cmd->ioas_id, cmd->__reserved,
	      (unsigned long long)cmd->iova, (unsigned long long)cmd->length);
}

/* Library messages as KTAP comments, in order with the harness's. */
static void lib_log(const char *msg)
{
	ksft_print_msg("dtlib: %s\n", msg);
}

/* The device, opened through the cdev, and a buffer mapped in its IOAS. */
struct pinned {
	struct dmatd_dev dev;
	bool open;
	struct dmatd_buf buf;
	struct dmatd_mapping map;
	struct iommu_ioas_noiommu_get_pa base;	/* GET_PA of the buffer */
	uint64_t page0_pa;			/* pagemap's PA of its page 0 */
	uint64_t hole;		/* an IOVA 1 GiB above every mapping */
	int fd;			/* the iommufd */
};

static void pinned_setup(struct __test_metadata *_metadata, struct pinned *p)
{
	char bdf[DMATD_BDF_LEN];
	uint64_t hole;
	int cpu, pm;

	memset(p, 0, sizeof(*p));
	p->buf.memfd = -1;
	dmatd_set_log_fn(lib_log);
	/* As dt-pin: one CPU, its per-CPU lists (MADV_COLLAPSE's LRU). */
	call_ok(_metadata, dmatd_pin_cpu(&cpu));
	call_ok(_metadata, dmatd_pci_find(DMA_TESTDEV_VENDOR_ID, DMA_TESTDEV_DEVICE_ID,
			       bdf, sizeof(bdf)));
	call_ok(_metadata, dmatd_dev_open(&p->dev, bdf, DMATD_VFIO_CDEV));
	p->open = true;
	p->fd = p->dev.vfio.iommufd;
	call_ok(_metadata, dmatd_buf_alloc(&p->buf, DMATD_BACKING_4K, BUF_LEN, 0));
	call_ok(_metadata, dmatd_dma_map(&p->dev.vfio, &p->buf, &p->map, NULL));
	pm = dmatd_vfio_pagemap(&p->dev.vfio);
	call_ok(_metadata, pm);
	call_ok(_metadata, dmatd_pagemap_pa(pm, dmatd_buf_page(&p->buf, 0), 1,
				 &p->page0_pa));
	p->base = (struct iommu_ioas_noiommu_get_pa) {
		.size = sizeof(p->base),
		.ioas_id = p->dev.vfio.ioas_id,
		.iova = p->map.iova + p->buf.offset,
		.length = p->buf.len,
	};
	/* Above every mapping of ours: the buffer and both segment lists. */
	hole = p->map.iova + p->buf.map_len;
	if (p->dev.src.map.iova + p->dev.src.buf.map_len > hole)
		hole = p->dev.src.map.iova + p->dev.src.buf.map_len;
	if (p->dev.dst.map.iova + p->dev.dst.buf.map_len > hole)
		hole = p->dev.dst.map.iova + p->dev.dst.buf.map_len;
	p->hole = DMATD_ALIGN(hole, 1ULL << 30) + (1ULL << 30);
}

static void pinned_teardown(struct pinned *p)
{
	if (p->open && p->map.mapped)
		dmatd_dma_unmap(&p->dev.vfio, &p->map);
	dmatd_buf_free(&p->buf);
	if (p->open)
		dmatd_dev_close(&p->dev);
}

FIXTURE(get_pa) {
	struct pinned p;
};

FIXTURE_SETUP(get_pa)
{
	pinned_setup(_metadata, &self->p);
}

FIXTURE_TEARDOWN(get_pa)
{
	pinned_teardown(&self->p);
}

/* --- Arguments: one GET_PA with one field wrong, and its errno ---------- */

FIXTURE(get_pa_arg) {
	struct pinned p;
};

/* Which field of the GET_PA a variant gets wrong, and how. */
enum arg_edit {
	EDIT_FLAGS,		/* flags 1 */
	EDIT_RESERVED,		/* __reserved 1 */
	EDIT_LENGTH_ZERO,	/* length 0 */
	EDIT_IOVA_HOLE,		/* an IOVA nothing is mapped at */
	EDIT_IOVA_MAX,		/* ~0: no length fits after it */
	EDIT_IOAS_UNKNOWN,	/* an IOAS id that does not exist */
	EDIT_SIZE_SHORT,	/* the struct without its outputs */
};

FIXTURE_VARIANT(get_pa_arg) {
	const char *check;	/* the check's name in the old dt-pin */
	enum arg_edit edit;
	int want;
};

FIXTURE_SETUP(get_pa_arg)
{
	pinned_setup(_metadata, &self->p);
}

FIXTURE_TEARDOWN(get_pa_arg)
{
	pinned_teardown(&self->p);
}

static void edit_arg(struct iommu_ioas_noiommu_get_pa *cmd,
		     const struct pinned *p, enum arg_edit edit)
{
	switch (edit) {
	case EDIT_FLAGS:
		cmd->flags = 1;
		break;
	case EDIT_RESERVED:
		cmd->__reserved = 1;
		break;
	case EDIT_LENGTH_ZERO:
		cmd->length = 0;
		break;
	case EDIT_IOVA_HOLE:
		cmd->iova = p->hole;
		break;
	case EDIT_IOVA_MAX:
		cmd->iova = ~0ULL;
		break;
	case EDIT_IOAS_UNKNOWN:
		cmd->ioas_id = p->dev.vfio.ioas_id + 1000;
		break;
	case EDIT_SIZE_SHORT:
		cmd->size = offsetof(struct iommu_ioas_noiommu_get_pa, out_phys);
		break;
	}
}

FIXTURE_VARIANT_ADD(get_pa_arg, flags_nonzero) {
	.check = "flags-nonzero", .edit = EDIT_FLAGS, .want = EOPNOTSUPP,
};

FIXTURE_VARIANT_ADD(get_pa_arg, reserved_nonzero) {
	.check = "reserved-nonzero", .edit = EDIT_RESERVED, .want = EOPNOTSUPP,
};

FIXTURE_VARIANT_ADD(get_pa_arg, length_zero) {
	.check = "length-zero", .edit = EDIT_LENGTH_ZERO, .want = EINVAL,
};

FIXTURE_VARIANT_ADD(get_pa_arg, iova_unmapped) {
	.check = "iova-unmapped", .edit = EDIT_IOVA_HOLE, .want = ENOENT,
};

FIXTURE_VARIANT_ADD(get_pa_arg, iova_max) {
	.check = "iova-max", .edit = EDIT_IOVA_MAX, .want = EOVERFLOW,
};

FIXTURE_VARIANT_ADD(get_pa_arg, ioas_unknown) {
	.check = "ioas-unknown", .edit = EDIT_IOAS_UNKNOWN, .want = ENOENT,
};

FIXTURE_VARIANT_ADD(get_pa_arg, size_short) {
	.check = "size-short", .edit = EDIT_SIZE_SHORT, .want = EINVAL,
};

TEST_F(get_pa_arg, rejected)
{
	struct iommu_ioas_noiommu_get_pa cmd = self->p.base;
	int ret;

	edit_arg(&cmd, &self->p, variant->edit);
	ret = __dt_get_pa(self->p.fd, &cmd);
	probe_errno(_metadata, variant->check, ret, variant->want, &cmd);
}

/* --- The answer --------------------------------------------------------- */

TEST_F(get_pa, valid)
{
	struct iommu_ioas_noiommu_get_pa cmd = self->p.base;
	int ret = __dt_get_pa(self->p.fd, &cmd);

	probe_errno(_metadata, "valid", ret, 0, &self->p.base);
	probe(_metadata, "valid-pa", !ret &&
	      (cmd.out_phys & ~(DMATD_PAGE_SIZE - 1)) == self->p.page0_pa &&
	      cmd.length && cmd.length <= self->p.buf.len,
	      "out_phys=0x%llx pagemap=0x%" PRIx64 " length=0x%llx",
	      (unsigned long long)cmd.out_phys, self->p.page0_pa,
	      (unsigned long long)cmd.length);
}

/* A newer, larger struct is fine as long as the tail is zero. */
struct get_pa_long {
	struct iommu_ioas_noiommu_get_pa cmd;
	uint64_t tail;
};

TEST_F(get_pa, size_long_zero_tail)
{
	struct get_pa_long big = { .cmd = self->p.base };

	big.cmd.size = sizeof(big);
	probe_errno(_metadata, "size-long-zero-tail", __dt_get_pa(self->p.fd, &big.cmd),
		    0, &big.cmd);
}

TEST_F(get_pa, size_long_nonzero_tail)
{
	struct get_pa_long big = { .cmd = self->p.base, .tail = 1 };

	big.cmd.size = sizeof(big);
	probe_errno(_metadata, "size-long-nonzero-tail",
		    __dt_get_pa(self->p.fd, &big.cmd), E2BIG, &big.cmd);
}

/* Output length: capped by the input length ... */
TEST_F(get_pa, length_capped_by_input)
{
	struct iommu_ioas_noiommu_get_pa cmd = self->p.base;
	int ret;

	cmd.length = 1;
	ret = __dt_get_pa(self->p.fd, &cmd);
	probe(_metadata, "length-capped-by-input", !ret && cmd.length == 1,
	      "%s, length 0x%llx", dmatd_errname(ret),
	      (unsigned long long)cmd.length);
}

/* ... and by the end of the mapping. */
TEST_F(get_pa, length_capped_by_mapping)
{
	struct iommu_ioas_noiommu_get_pa cmd = self->p.base;
	int ret;

	cmd.iova = self->p.map.iova + self->p.buf.map_len - DMATD_PAGE_SIZE;
	cmd.length = 1ULL << 40;
	ret = __dt_get_pa(self->p.fd, &cmd);
	probe(_metadata, "length-capped-by-mapping", !ret && cmd.length == DMATD_PAGE_SIZE,
	      "%s, length 0x%llx", dmatd_errname(ret),
	      (unsigned long long)cmd.length);
}

/* An IOVA inside a page translates to the same offset in the frame. */
TEST_F(get_pa, iova_unaligned)
{
	struct iommu_ioas_noiommu_get_pa cmd = self->p.base;
	int ret;

	cmd.iova = (self->p.map.iova + self->p.buf.offset) &
		   ~(DMATD_PAGE_SIZE - 1);
	cmd.iova += 0x123;
	cmd.length = 8;
	ret = __dt_get_pa(self->p.fd, &cmd);
	probe(_metadata, "iova-unaligned", !ret &&
	      cmd.out_phys == self->p.page0_pa + 0x123,
	      "%s, out_phys 0x%llx, page 0x%" PRIx64, dmatd_errname(ret),
	      (unsigned long long)cmd.out_phys, self->p.page0_pa);
}

/* --- Other IOASes, aliases, edges --------------------------------------- */

/* The buffer mapped in a new IOAS, which no device is attached to. */
static void second_ioas(struct __test_metadata *_metadata, struct pinned *p,
			uint32_t *ioas2, uint64_t *iova2)
{
	*iova2 = 0;
	call_ok(_metadata, dmatd_ioas_alloc(p->fd, ioas2));
	call_ok(_metadata, dmatd_ioas_map(p->fd, *ioas2, p->buf.map, p->buf.map_len,
			       iova2, false));
}

/* Mapped, but in an IOAS no no-IOMMU device is attached to. */
TEST_F(get_pa, ioas_without_device)
{
	struct iommu_ioas_noiommu_get_pa cmd = self->p.base;
	uint64_t iova2;
	uint32_t ioas2;

	second_ioas(_metadata, &self->p, &ioas2, &iova2);
	cmd.ioas_id = ioas2;
	cmd.iova = iova2;
	probe_errno(_metadata, "ioas-without-device", __dt_get_pa(self->p.fd, &cmd),
		    EOPNOTSUPP, &cmd);
}

/*
 * GET_PA of the buffer moved to @iova, another IOVA of the same pages,
 * must give the answer @first gave at the buffer's own IOVA.
 */
static bool same_translation(const struct pinned *p,
			     const struct iommu_ioas_noiommu_get_pa *first,
			     uint64_t iova, char *why, size_t size)
{
	struct iommu_ioas_noiommu_get_pa cmd = p->base;
	int ret;

	cmd.iova = iova;
	ret = __dt_get_pa(p->fd, &cmd);
	snprintf(why, size,
		 "at iova 0x%" PRIx64 ": %s, pa 0x%llx len 0x%llx; at 0x%llx: pa 0x%llx len 0x%llx",
		 iova, dmatd_errname(ret), (unsigned long long)cmd.out_phys,
		 (unsigned long long)cmd.length,
		 (unsigned long long)p->base.iova,
		 (unsigned long long)first->out_phys,
		 (unsigned long long)first->length);
	return !ret && cmd.out_phys == first->out_phys &&
	       cmd.length == first->length;
}

/*
 * IOMMU_IOAS_COPY from an IOAS without a device: the copy in the device's
 * IOAS pins the same pages, and translates to the same frames.
 */
TEST_F(get_pa, ioas_copy)
{
	struct iommu_ioas_noiommu_get_pa first = self->p.base;
	struct pinned *p = &self->p;
	uint64_t iova2, iova = p->hole;
	uint32_t ioas2;
	char why[256];
	int ret;

	second_ioas(_metadata, p, &ioas2, &iova2);
	call_ok(_metadata, __dt_get_pa(p->fd, &first));
	ret = dmatd_ioas_copy(p->fd, p->dev.vfio.ioas_id, ioas2, iova2,
			      p->buf.map_len, &iova, true);
	probe(_metadata, "ioas-copy", !ret,
	      "IOMMU_IOAS_COPY to fixed iova 0x%" PRIx64 ": %s", p->hole,
	      dmatd_errname(ret));
	ASSERT_EQ(0, ret);
	probe(_metadata, "copy-same-pa", same_translation(p, &first,
					       p->hole + p->buf.offset,
					       why, sizeof(why)),
	      "%s", why);
}

/*
 * The edges of a mapping: the buffer mapped a second time at a fixed IOVA
 * (the hole) with nothing below it.
 */
static void map_alias(struct __test_metadata *_metadata, struct pinned *p,
		      struct dmatd_mapping *alias)
{
	uint64_t hole = p->hole;

	call_ok(_metadata, dmatd_dma_map(&p->dev.vfio, &p->buf, alias, &hole));
}

/* A range that starts in the hole and reaches the mapping is not mapped. */
TEST_F(get_pa, hole_reaching_mapping)
{
	struct iommu_ioas_noiommu_get_pa cmd = self->p.base;
	struct dmatd_mapping alias;
	uint64_t hole = self->p.hole;
	int ret;

	map_alias(_metadata, &self->p, &alias);
	cmd.iova = hole - DMATD_PAGE_SIZE;
	cmd.length = 2 * DMATD_PAGE_SIZE;
	ret = __dt_get_pa(self->p.fd, &cmd);
	probe(_metadata, "hole-reaching-mapping", ret == -ENOENT,
	      "GET_PA 0x%" PRIx64 "+0x%llx, one page below a mapping: %s (pa 0x%llx len 0x%llx), want %s",
	      hole - DMATD_PAGE_SIZE, 2ULL * DMATD_PAGE_SIZE,
	      dmatd_errname(ret), (unsigned long long)cmd.out_phys,
	      (unsigned long long)cmd.length, strerror(ENOENT));
}

/* The alias translates to the same frames. */
TEST_F(get_pa, alias_same_pa)
{
	struct iommu_ioas_noiommu_get_pa first = self->p.base;
	struct dmatd_mapping alias;
	char why[256];

	map_alias(_metadata, &self->p, &alias);
	call_ok(_metadata, __dt_get_pa(self->p.fd, &first));
	probe(_metadata, "alias-same-pa", same_translation(&self->p, &first,
						self->p.hole +
						self->p.buf.offset,
						why, sizeof(why)),
	      "%s", why);
}

/* An UNMAP of part of the mapping fails and leaves it whole. */
TEST_F(get_pa, unmap_partial)
{
	struct iommu_ioas_noiommu_get_pa cmd = self->p.base;
	struct pinned *p = &self->p;
	struct dmatd_mapping alias;
	uint64_t unmapped = 0;
	int ret;

	ASSERT_LT(DMATD_PAGE_SIZE, p->buf.map_len);
	map_alias(_metadata, p, &alias);
	ret = dmatd_ioas_unmap(p->fd, p->dev.vfio.ioas_id, p->hole,
			       DMATD_PAGE_SIZE, &unmapped);
	probe(_metadata, "unmap-partial", ret == -ENOENT,
	      "IOMMU_IOAS_UNMAP of the first page of a 0x%zx-byte mapping: %s, unmapped 0x%" PRIx64 ", want %s",
	      p->buf.map_len, dmatd_errname(ret), unmapped, strerror(ENOENT));
	cmd.iova = p->hole + p->buf.map_len - DMATD_PAGE_SIZE;
	cmd.length = DMATD_PAGE_SIZE;
	ret = __dt_get_pa(p->fd, &cmd);
	probe(_metadata, "unmap-partial-keeps-mapping", !ret &&
	      cmd.length == DMATD_PAGE_SIZE,
	      "GET_PA of the mapping's last page after it: %s",
	      dmatd_errname(ret));
}

/* Once unmapped, the IOVA range is free: the same fixed IOVA maps anew. */
TEST_F(get_pa, fixed_iova_reuse)
{
	struct dmatd_mapping alias;
	uint64_t hole = self->p.hole;
	int ret;

	map_alias(_metadata, &self->p, &alias);
	call_ok(_metadata, dmatd_dma_unmap(&self->p.dev.vfio, &alias));
	ret = dmatd_dma_map(&self->p.dev.vfio, &self->p.buf, &alias, &hole);
	probe(_metadata, "fixed-iova-reuse", !ret && alias.iova == self->p.hole,
	      "IOMMU_IOAS_MAP at fixed iova 0x%" PRIx64 " after its unmap: %s",
	      self->p.hole, dmatd_errname(ret));
}

/* GET_PA in a loop on another thread while the mapping comes and goes. */
struct unmap_race {
	int fd;
	struct iommu_ioas_noiommu_get_pa q;	/* the query, at the alias */
	uint64_t want_pa;	/* what it answers while mapped */
	volatile bool stop;
	unsigned long calls, mapped, unmapped, bad;
	int bad_ret;
	uint64_t bad_pa, bad_len;
};

static void *unmap_race_get_pa(void *arg)
{
	struct unmap_race *r = arg;

	while (!r->stop) {
		struct iommu_ioas_noiommu_get_pa cmd = r->q;
		int ret = __dt_get_pa(r->fd, &cmd);

		r->calls++;
		if (!ret && cmd.out_phys == r->want_pa && cmd.length &&
		    cmd.length <= r->q.length) {
			r->mapped++;
		} else if (ret == -ENOENT) {
			r->unmapped++;
		} else if (!r->bad++) {
			r->bad_ret = ret;
			r->bad_pa = cmd.out_phys;
			r->bad_len = cmd.length;
		}
	}
	return NULL;
}

/*
 * GET_PA racing IOMMU_IOAS_UNMAP: the buffer's alias at the hole is
 * mapped and unmapped again and again while another thread, on any CPU,
 * asks GET_PA at it.  Each answer must be the buffer's frame (the main
 * mapping keeps the pages pinned) or ENOENT, never anything else; both
 * must have been seen, else the race was not run.
 */
TEST_F(get_pa, get_pa_races_unmap)
{
	struct pinned *p = &self->p;
	struct unmap_race r = { .fd = p->fd, .q = p->base };
	struct iommu_ioas_noiommu_get_pa first = p->base;
	struct dmatd_mapping alias;
	unsigned long rounds = 0;
	struct timespec t0, t;
	pthread_attr_t attr;
	uint64_t hole;
	cpu_set_t all;
	pthread_t th;
	int i;

	call_ok(_metadata, __dt_get_pa(p->fd, &first));
	r.q.iova = p->hole + p->buf.offset;
	r.want_pa = first.out_phys;
	CPU_ZERO(&all);
	for (i = 0; i < CPU_SETSIZE; i++)
		CPU_SET(i, &all);
	ASSERT_EQ(0, pthread_attr_init(&attr));
	ASSERT_EQ(0, pthread_attr_setaffinity_np(&attr, sizeof(all), &all));
	ASSERT_EQ(0, pthread_create(&th, &attr, unmap_race_get_pa, &r));
	pthread_attr_destroy(&attr);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		hole = p->hole;
		call_ok(_metadata, dmatd_dma_map(&p->dev.vfio, &p->buf, &alias, &hole));
		call_ok(_metadata, dmatd_dma_unmap(&p->dev.vfio, &alias));
		rounds++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < UNMAP_RACE_SECONDS);
	r.stop = true;
	pthread_join(th, NULL);
	probe(_metadata, "get-pa-races-unmap", !r.bad && r.mapped && r.unmapped,
	      "%lu map/unmap rounds, %lu GET_PA: %lu the frame, %lu ENOENT, %lu other (first: %s, pa 0x%" PRIx64 " len 0x%" PRIx64 ")",
	      rounds, r.calls, r.mapped, r.unmapped, r.bad,
	      r.bad ? dmatd_errname(r.bad_ret) : "none", r.bad_pa, r.bad_len);
}

/* --- The life of pinned memory ----------------------------------------- */

/*
 * The pin holds the frames, not the virtual range; GET_PA's PA of each of
 * @n pages from @iova, -1 where it fails.
 */
static void get_pa_pages(const struct pinned *p, uint64_t iova, size_t n,
			 uint64_t *pa)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct iommu_ioas_noiommu_get_pa cmd = {
			.size = sizeof(cmd),
			.ioas_id = p->dev.vfio.ioas_id,
			.iova = iova + i * DMATD_PAGE_SIZE,
			.length = DMATD_PAGE_SIZE,
		};

		pa[i] = __dt_get_pa(p->fd, &cmd) ? (uint64_t)-1 :
			cmd.out_phys;
	}
}

static size_t count_differ(const uint64_t *a, const uint64_t *b, size_t n)
{
	size_t i, d = 0;

	for (i = 0; i < n; i++)
		d += a[i] != b[i];
	return d;
}

/* LIFE_PAGES pages, written, mapped; their GET_PA addresses in @pa. */
static void life_map(struct __test_metadata *_metadata, struct pinned *p,
		     struct dmatd_buf *buf, struct dmatd_mapping *m,
		     uint64_t *pa)
{
	const size_t len = LIFE_PAGES * DMATD_PAGE_SIZE;

	call_ok(_metadata, dmatd_buf_alloc(buf, DMATD_BACKING_4K, len, 0));
	memset(buf->map, 1, len);
	call_ok(_metadata, dmatd_dma_map(&p->dev.vfio, buf, m, NULL));
	get_pa_pages(p, m->iova, LIFE_PAGES, pa);
}

/*
 * MADV_DONTNEED: GET_PA still gives the pinned frames, while the CPU,
 * touching the range again, gets new ones (device and CPU diverge: the
 * documented behaviour, the user's mistake to make).
 */
TEST_F(get_pa, dontneed)
{
	uint64_t before[LIFE_PAGES], after[LIFE_PAGES], cpu[LIFE_PAGES];
	const size_t len = LIFE_PAGES * DMATD_PAGE_SIZE;
	struct dmatd_mapping m;
	struct dmatd_buf buf;
	int pm = dmatd_vfio_pagemap(&self->p.dev.vfio);

	call_ok(_metadata, pm);
	life_map(_metadata, &self->p, &buf, &m, before);
	ASSERT_EQ(0, madvise(buf.map, len, MADV_DONTNEED))
		TH_LOG("madvise MADV_DONTNEED: %s", strerror(errno));
	memset(buf.map, 2, len);
	get_pa_pages(&self->p, m.iova, LIFE_PAGES, after);
	call_ok(_metadata, dmatd_pagemap_pa(pm, buf.map, LIFE_PAGES, cpu));
	probe(_metadata, "dontneed-keeps-pin", !count_differ(before, after, LIFE_PAGES),
	      "%zu of %d pages translate elsewhere after MADV_DONTNEED",
	      count_differ(before, after, LIFE_PAGES), LIFE_PAGES);
	probe(_metadata, "dontneed-cpu-diverges",
	      count_differ(before, cpu, LIFE_PAGES) == LIFE_PAGES,
	      "%zu of %d pages the CPU touches again are the pinned frames",
	      LIFE_PAGES - count_differ(before, cpu, LIFE_PAGES), LIFE_PAGES);
}

/*
 * mremap() to another address: the frames go with the range, so the CPU
 * at the new address still sees what the device targets.
 */
TEST_F(get_pa, mremap_keeps_frames)
{
	uint64_t before[LIFE_PAGES], after[LIFE_PAGES], cpu[LIFE_PAGES];
	const size_t len = LIFE_PAGES * DMATD_PAGE_SIZE;
	struct dmatd_mapping m;
	struct dmatd_buf buf;
	int pm = dmatd_vfio_pagemap(&self->p.dev.vfio);
	void *moved;

	call_ok(_metadata, pm);
	life_map(_metadata, &self->p, &buf, &m, before);
	/* Grow it: the kernel must find it a new place. */
	moved = mremap(buf.map, len, 2 * len, MREMAP_MAYMOVE);
	ASSERT_NE(MAP_FAILED, moved) TH_LOG("mremap: %s", strerror(errno));
	call_ok(_metadata, dmatd_pagemap_pa(pm, moved, LIFE_PAGES, cpu));
	get_pa_pages(&self->p, m.iova, LIFE_PAGES, after);
	probe(_metadata, "mremap-keeps-frames", !count_differ(before, cpu, LIFE_PAGES) &&
	      !count_differ(before, after, LIFE_PAGES),
	      "moved from %p to %p: %zu of %d pages on other frames for the CPU, %zu for GET_PA",
	      (void *)buf.map, moved, count_differ(before, cpu, LIFE_PAGES),
	      LIFE_PAGES, count_differ(before, after, LIFE_PAGES));
}

/* VmPin of this process, in kB. */
static long vmpin(struct __test_metadata *_metadata)
{
	long kb = dmatd_status_kb("VmPin");

	EXPECT_LE(0, kb) TH_LOG("VmPin: %s", kb == -1 ?
				"no such field in /proc/self/status" :
				dmatd_last_error());
	return kb;
}

/*
 * munmap(): the frames stay pinned (VmPin unchanged) until
 * IOMMU_IOAS_UNMAP, which gives them back.
 */
TEST_F(get_pa, munmap_keeps_pin)
{
	uint64_t before[LIFE_PAGES], after[LIFE_PAGES];
	struct dmatd_mapping m;
	struct dmatd_buf buf;
	long pin0, pin;

	pin0 = vmpin(_metadata);
	life_map(_metadata, &self->p, &buf, &m, before);
	munmap(buf.map, buf.map_len);
	get_pa_pages(&self->p, m.iova, LIFE_PAGES, after);
	pin = vmpin(_metadata);
	probe(_metadata, "munmap-keeps-pin", !count_differ(before, after, LIFE_PAGES) &&
	      pin == pin0 + LIFE_PAGES * 4,
	      "after munmap: %zu of %d pages translate elsewhere; VmPin %ld kB, %ld kB before the map",
	      count_differ(before, after, LIFE_PAGES), LIFE_PAGES, pin, pin0);
	call_ok(_metadata, dmatd_dma_unmap(&self->p.dev.vfio, &m));
	pin = vmpin(_metadata);
	probe(_metadata, "unmap-after-munmap-unpins", pin == pin0,
	      "VmPin %ld kB, %ld kB before the map", pin, pin0);
}

/* 2 MiB, 2 MiB aligned, of 4 KiB pages (THP is "madvise" in the guest). */
static uint8_t *small_pages_2m(struct __test_metadata *_metadata)
{
	uint8_t *raw = mmap(NULL, 2 * DMATD_HPAGE_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *p;

	EXPECT_NE(MAP_FAILED, raw) TH_LOG("mmap 4 MiB: %s", strerror(errno));
	if (raw == MAP_FAILED)
		return NULL;
	p = (uint8_t *)DMATD_ALIGN((uintptr_t)raw, DMATD_HPAGE_SIZE);
	memset(p, 1, DMATD_HPAGE_SIZE);
	return p;
}

static int collapse(uint8_t *p)
{
	if (madvise(p, DMATD_HPAGE_SIZE, MADV_HUGEPAGE) ||
	    madvise(p, DMATD_HPAGE_SIZE, MADV_COLLAPSE))
		return -errno;
	return 0;
}

/*
 * A 2 MiB-aligned range of 4 KiB pages collapsed into a huge page on
 * demand (MADV_COLLAPSE, what khugepaged does in the background): the
 * control of the next test, nobody pinned it, and it collapses into one
 * 2 MiB frame.
 */
TEST_F(get_pa, collapse_control_unpinned)
{
	static uint64_t cpu[COLLAPSE_PAGES];
	int pm = dmatd_vfio_pagemap(&self->p.dev.vfio), ret;
	size_t i, huge = 0;
	uint8_t *p;

	call_ok(_metadata, pm);
	p = small_pages_2m(_metadata);
	ASSERT_NE(NULL, p);
	/* EAGAIN is transient (a page still in a per-CPU LRU batch). */
	for (i = 0; i < 3 && (ret = collapse(p)) == -EAGAIN; i++)
		usleep(10000);
	call_ok(_metadata, dmatd_pagemap_pa(pm, p, COLLAPSE_PAGES, cpu));
	for (i = 0; i < COLLAPSE_PAGES; i++)
		huge += cpu[i] == cpu[0] + i * DMATD_PAGE_SIZE;
	probe(_metadata, "collapse-control-unpinned", !ret && huge == COLLAPSE_PAGES &&
	      !(cpu[0] & (DMATD_HPAGE_SIZE - 1)),
	      "MADV_COLLAPSE: %s; %zu of %zu pages in one 2 MiB frame at 0x%" PRIx64,
	      dmatd_errname(ret), huge, (size_t)COLLAPSE_PAGES, cpu[0]);
}

/*
 * The same range pinned first: collapsing copies the pages into a new
 * huge page, so a pinned range must be left on its frames (the kernel
 * refuses, or skips the pinned pages).
 */
TEST_F(get_pa, collapse_keeps_pinned_frames)
{
	static uint64_t before[COLLAPSE_PAGES], after[COLLAPSE_PAGES];
	static uint64_t cpu[COLLAPSE_PAGES];
	struct dmatd_buf buf = { .memfd = -1 };
	int pm = dmatd_vfio_pagemap(&self->p.dev.vfio), ret;
	struct dmatd_mapping m = { 0 };
	uint8_t *p;

	call_ok(_metadata, pm);
	p = small_pages_2m(_metadata);
	ASSERT_NE(NULL, p);
	buf.backing = DMATD_BACKING_4K;
	buf.map = buf.va = p;
	buf.map_len = buf.len = DMATD_HPAGE_SIZE;
	buf.page_size = DMATD_PAGE_SIZE;
	call_ok(_metadata, dmatd_dma_map(&self->p.dev.vfio, &buf, &m, NULL));
	get_pa_pages(&self->p, m.iova, COLLAPSE_PAGES, before);
	ret = collapse(p);
	get_pa_pages(&self->p, m.iova, COLLAPSE_PAGES, after);
	call_ok(_metadata, dmatd_pagemap_pa(pm, p, COLLAPSE_PAGES, cpu));
	probe(_metadata, "collapse-keeps-pinned-frames",
	      !count_differ(before, after, COLLAPSE_PAGES) &&
	      !count_differ(before, cpu, COLLAPSE_PAGES),
	      "MADV_COLLAPSE: %s; %zu of %zu pages on other frames for the CPU, %zu for GET_PA",
	      dmatd_errname(ret), count_differ(before, cpu, COLLAPSE_PAGES),
	      (size_t)COLLAPSE_PAGES, count_differ(before, after, COLLAPSE_PAGES));
}

/* --- Accounting, privileges, the end of a pin --------------------------- */

/*
 * Pinned-memory accounting (drivers/iommu/iommufd/pages.c).  Every pin
 * counts in the process's VmPin.  Without CAP_IPC_LOCK the pinned pages
 * are charged to the user's locked_vm against RLIMIT_MEMLOCK: a map up to
 * the limit succeeds, one page more fails with ENOMEM, and an unmap gives
 * the charge back.  Nothing else of the test's is charged there: its
 * other maps were made with CAP_IPC_LOCK.
 */
TEST_F(get_pa, memlock)
{
	struct dmatd_buf a, one;
	struct dmatd_mapping ma = { 0 }, mone;
	struct dmatd_vfio *v = &self->p.dev.vfio;
	struct rlimit lim;
	long pin0, pin;
	int ret;

	call_ok(_metadata, dmatd_buf_alloc(&a, DMATD_BACKING_4K,
				MEMLOCK_PAGES * DMATD_PAGE_SIZE, 0));
	call_ok(_metadata, dmatd_buf_alloc(&one, DMATD_BACKING_4K, DMATD_PAGE_SIZE, 0));
	memset(a.map, 1, a.map_len);
	memset(one.map, 1, one.map_len);
	pin0 = vmpin(_metadata);
	ASSERT_EQ(0, getrlimit(RLIMIT_MEMLOCK, &lim));
	lim.rlim_cur = MEMLOCK_PAGES * DMATD_PAGE_SIZE;
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &lim))
		TH_LOG("setrlimit RLIMIT_MEMLOCK: %s", strerror(errno));
	call_ok(_metadata, dmatd_set_cap(CAP_IPC_LOCK, false));

	ret = dmatd_dma_map(v, &a, &ma, NULL);
	probe(_metadata, "memlock-within-limit", !ret,
	      "IOMMU_IOAS_MAP of %d pages, RLIMIT_MEMLOCK %d pages, no CAP_IPC_LOCK: %s",
	      MEMLOCK_PAGES, MEMLOCK_PAGES, dmatd_errname(ret));
	pin = vmpin(_metadata);
	probe(_metadata, "vmpin-counts-pins", pin == pin0 + MEMLOCK_PAGES * 4,
	      "VmPin %ld kB, was %ld kB, %d pages pinned", pin, pin0,
	      MEMLOCK_PAGES);
	ret = dmatd_dma_map(v, &one, &mone, NULL);
	probe(_metadata, "memlock-over-limit", ret == -ENOMEM,
	      "IOMMU_IOAS_MAP of one page more: %s, want %s",
	      dmatd_errname(ret), strerror(ENOMEM));
	if (!ret)
		call_ok(_metadata, dmatd_dma_unmap(v, &mone));
	if (ma.mapped)
		call_ok(_metadata, dmatd_dma_unmap(v, &ma));
	pin = vmpin(_metadata);
	probe(_metadata, "vmpin-after-unmap", pin == pin0, "VmPin %ld kB, was %ld kB",
	      pin, pin0);
	ret = dmatd_dma_map(v, &one, &mone, NULL);
	probe(_metadata, "memlock-charge-returned", !ret,
	      "IOMMU_IOAS_MAP of one page after the unmap: %s",
	      dmatd_errname(ret));
	if (!ret)
		call_ok(_metadata, dmatd_dma_unmap(v, &mone));
	dmatd_buf_free(&a);
	dmatd_buf_free(&one);
}

/*
 * CAP_SYS_RAWIO is checked by capable(), i.e. in the effective set: drop
 * it from there (it stays permitted), and neither GET_PA nor opening the
 * cdev works; raise it again, and GET_PA does.
 */
TEST_F(get_pa, no_cap_sys_rawio)
{
	struct iommu_ioas_noiommu_get_pa cmd = self->p.base;
	int ret, cfd, cerr;

	call_ok(_metadata, dmatd_set_cap(CAP_SYS_RAWIO, false));
	ret = __dt_get_pa(self->p.fd, &cmd);
	cfd = open(self->p.dev.vfio.cdev, O_RDWR | O_CLOEXEC);
	cerr = cfd < 0 ? -errno : 0;
	if (cfd >= 0)
		close(cfd);
	call_ok(_metadata, dmatd_set_cap(CAP_SYS_RAWIO, true));
	probe_errno(_metadata, "no-cap-sys-rawio", ret, EPERM, &cmd);
	probe(_metadata, "no-cap-sys-rawio-cdev-open", cerr == -EPERM, "open %s: %s",
	      self->p.dev.vfio.cdev, dmatd_errname(cerr));
	cmd = self->p.base;
	probe_errno(_metadata, "cap-sys-rawio-restored", __dt_get_pa(self->p.fd, &cmd), 0,
		    &cmd);
}

TEST_F(get_pa, after_unmap)
{
	struct iommu_ioas_noiommu_get_pa cmd = self->p.base;
	int ret;

	call_ok(_metadata, dmatd_dma_unmap(&self->p.dev.vfio, &self->p.map));
	ret = __dt_get_pa(self->p.fd, &cmd);
	probe(_metadata, "after-unmap", ret == -ENOENT,
	      "got %s (pa 0x%llx len 0x%llx), want %s", dmatd_errname(ret),
	      (unsigned long long)cmd.out_phys, (unsigned long long)cmd.length,
	      strerror(ENOENT));
}

/* A buffer left mapped: closing the device and the iommufd unpins it. */
TEST_F(get_pa, close_releases_pins)
{
	struct dmatd_mapping left_map;
	struct dmatd_buf left;
	long pin;

	call_ok(_metadata, dmatd_buf_alloc(&left, DMATD_BACKING_4K, 4 * DMATD_PAGE_SIZE,
				0));
	memset(left.map, 1, left.map_len);
	call_ok(_metadata, dmatd_dma_map(&self->p.dev.vfio, &left, &left_map, NULL));
	ASSERT_LT(0, vmpin(_metadata));
	dmatd_dev_close(&self->p.dev);
	self->p.open = false;
	pin = vmpin(_metadata);
	probe(_metadata, "close-releases-pins", !pin,
	      "VmPin %ld kB after closing the device and the iommufd", pin);
}

TEST_HARNESS_MAIN
