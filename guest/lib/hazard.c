// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dtlib: the two generations of a moving buffer's content.
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <dtlib/hazard.h>
#include <dtlib/log.h>
#include <dtlib/mem.h>
#include <dtlib/tool.h>

/* splitmix64: a cheap, good 64-bit mixer for content that is not pattern. */
static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/*
 * The byte at buffer offset @off in generation @gen: the page tag at the
 * start of each 4 KiB page, else bytes of a keyed hash.
 */
static noinline uint8_t hazard_byte(const struct dmatd_tbuf *b, int gen,
				    uint64_t off)
{
	uint64_t pos = b->buf.offset + off;	/* from the mapping start */
	uint64_t in_page = ((uintptr_t)b->buf.map + pos) & (DMATD_PAGE_SIZE - 1);
	uint64_t w;

	if (in_page < DMATD_PAGE_TAG_SIZE) {
		uint64_t page = (pos - (b->buf.offset & ~(DMATD_PAGE_SIZE - 1))) /
				DMATD_PAGE_SIZE;
		uint64_t nonce = gen ? b->nonce : b->old_nonce;

		w = in_page < 8 ? nonce : in_page < 16 ? page :
			dmatd_page_tag_check(nonce, page);
		return w >> ((in_page & 7) * 8);
	}
	w = mix64(b->old_nonce ^ (gen ? 0x6e6577ULL : 0x6f6c64ULL) ^
		  (off >> 3));
	return w >> ((off & 7) * 8);
}

noinline void dmatd_hazard_fill(struct dmatd_tbuf *b, int gen)
{
	uint64_t off;

	for (off = 0; off < b->buf.len; off++)
		b->buf.va[off] = hazard_byte(b, gen, off);
}

noinline size_t dmatd_hazard_pages_match(const struct dmatd_tbuf *b,
					 const uint8_t *p, int gen,
					 size_t *first_bad)
{
	size_t pages = dmatd_buf_pages(&b->buf), good = 0, i;
	uint64_t base = (uintptr_t)b->buf.va & (DMATD_PAGE_SIZE - 1);

	*first_bad = SIZE_MAX;
	for (i = 0; i < pages; i++) {
		uint64_t s = i ? i * DMATD_PAGE_SIZE - base : 0;
		uint64_t e = (i + 1) * DMATD_PAGE_SIZE - base, off;
		bool ok = true;

		if (e > b->buf.len)
			e = b->buf.len;
		for (off = s; off < e && ok; off++)
			ok = p[off] == hazard_byte(b, gen, off);
		if (ok)
			good++;
		else if (*first_bad == SIZE_MAX)
			*first_bad = i;
	}
	return good;
}

void dmatd_hazard_copy_stale(struct dmatd_tbuf *b, struct dmatd_tbuf *d)
{
	struct dmatd_dev *dev = &dmatd_sess.dev;
	size_t pages = dmatd_buf_pages(&b->buf), good, other, first_bad;
	struct dmatd_result r;

	DMATD_CHECK_CALL(dmatd_seglist_set(dev, &dev->src, b->runs, b->nr));
	DMATD_CHECK_CALL(dmatd_seglist_set(dev, &dev->dst, d->runs, d->nr));
	DMATD_CHECK_CALL(dmatd_dev_cmd(dev, DMATD_OP_COPY, 0, 0, &dev->src,
				       &dev->dst, &r));
	dmatd_report_dma(DMATD_OP_COPY, 0, &dev->src, &r);
	dmatd_check_dma_ok("dma-copy", &r, b->buf.len);

	good = dmatd_hazard_pages_match(b, b->buf.va, 1, &first_bad);
	dmatd_check("cpu-sees-new-data", good == pages,
		    "%zu of %zu pages, first bad %zd", good, pages,
		    first_bad == SIZE_MAX ? -1 : (ssize_t)first_bad);
	good = dmatd_hazard_pages_match(b, d->buf.va, 0, &first_bad);
	other = dmatd_hazard_pages_match(b, d->buf.va, 1, &(size_t){ 0 });
	dmatd_check("device-reads-stale-data", good == pages,
		    "%zu of %zu pages the device read hold the old data, %zu the new, first with other data: page %zd",
		    good, pages, other,
		    first_bad == SIZE_MAX ? -1 : (ssize_t)first_bad);
	dmatd_check("device-checksum-old-data",
		    r.checksum == dmatd_buf_csum(d->buf.va, d->buf.len),
		    "checksum=0x%016" PRIx64 " of-copy=0x%016" PRIx64, r.checksum,
		    dmatd_buf_csum(d->buf.va, d->buf.len));
}
