/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dtlib: the guest side of the host oracle (docs/guest-protocol.rst),
 * shared by the tools that the guest-level qtest checks from outside:
 * dt-pin and dt-pagemap-hazard.
 *
 * One session per process (dmatd_sess): the options every such tool
 * takes, the device, the CPU the tool stays on.  Buffers carry a page tag
 * (DMATD_PAGE_TAG_SIZE) in every page for the host's scan; at each
 * "@dt wait" (--handshake) the tool stops until the host says "go".
 * Failures end the tool through dmatd_fatal() (dtlib/tool.h).
 *
 * Copyright (c) 2026 The dma-testdev authors
 */
#ifndef DTLIB_SESSION_H
#define DTLIB_SESSION_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtlib/testdev.h>

struct dmatd_session {
	struct dmatd_dev dev;
	char bdf[DMATD_BDF_LEN];
	const char *bdf_opt;	/* --dev, else the first dma-testdev */
	enum dmatd_vfio_mode mode;
	bool mode_set;
	enum dmatd_backing backing;
	uint64_t len;
	uint64_t offset;
	uint64_t file_off;
	bool handshake;
	int node;
	/* u64: never a pattern word's high half in memory, see scrub_cpu() */
	uint64_t seed;
	bool seed_set;
	int cpu;		/* the CPU the tool runs on, see scrub_cpu() */
};

extern struct dmatd_session dmatd_sess;

/* The options of every session tool, for getopt_long()'s table. */
enum {
	DMATD_OPT_DEV = 256, DMATD_OPT_MODE, DMATD_OPT_BACKING, DMATD_OPT_LEN,
	DMATD_OPT_OFFSET, DMATD_OPT_FILE_OFF, DMATD_OPT_HANDSHAKE,
	DMATD_OPT_SEED, DMATD_OPT_NODE, DMATD_OPT_HELP, DMATD_OPT_TOOL,
};

/*
 * getopt_long()'s table: the session's options (DMATD_OPT_*), then the
 * tool's own @extra (values from DMATD_OPT_TOOL on, NULL-terminated).
 */
struct option *dmatd_session_longopts(const struct option *extra);

/* Their lines of the usage text. */
#define DMATD_SESSION_USAGE						\
	"  --dev BDF            PCI device (default: the 1af4:10f0)\n"	\
	"  --mode cdev|legacy   VFIO path\n"				\
	"  --backing 4k|thp|hugetlb|memfd|memfd-hugetlb\n"		\
	"                       buffer memory (default 4k)\n"		\
	"  --len BYTES          buffer length, K/M/G suffixes\n"	\
	"  --offset BYTES       start the buffer this far into its page\n" \
	"  --file-offset BYTES  memfd: map the file from here (page aligned)\n" \
	"  --handshake          stop at each '@dt wait' until 'go'\n"	\
	"  --seed HEX           pattern seed (default random)\n"	\
	"  --node N             allocate from NUMA node N only\n"	\
	"  --help\n"

/*
 * Take option @c of getopt_long() if it is one of the session's; false
 * for the tool's own.  Bad values end the tool (dmatd_bad_arg()).
 */
bool dmatd_session_opt(int c, const char *arg);

/* After the options: the checks between them that every tool shares. */
void dmatd_session_opts_done(int argc, char **argv);

/*
 * "TAP version 13", the seed, this thread kept on its CPU, the device's
 * address (--dev, else the first dma-testdev) in dmatd_sess.bdf.
 */
void dmatd_session_start(void);

/*
 * dmatd_session_start(), then the device opened in dmatd_sess.mode,
 * --node; the session in a comment.
 */
void dmatd_session_open(void);

/*
 * Close the device and check that it let go: cdev, no page stays pinned
 * (close-releases-pins); legacy, the no-IOMMU group opens only with
 * CAP_SYS_RAWIO (no-cap-sys-rawio-group-open).  Then the TAP totals;
 * returns the exit status.
 */
int dmatd_session_close(void);

/*
 * One buffer under test.  The host scans all guest RAM for page tags
 * (DMATD_PAGE_TAG_SIZE) and for words of the pattern, so this process keeps
 * no pattern word in a form it could find: the seed in a u64.  The nonce
 * needs no such care: alone, without its page's check word, it is no tag.
 */
struct dmatd_tbuf {
	struct dmatd_buf buf;
	struct dmatd_mapping map;
	uint64_t nonce;		/* in the page tags now */
	uint64_t old_nonce;	/* in the page tags before the last renonce() */
	uint64_t seed;
	char name[32];
	struct dmatd_run *runs;
	size_t nr;
};

/* A random 64-bit value (getrandom(), else the clock). */
uint64_t dmatd_random64(void);

/*
 * --len bytes at --offset of @backing (memfd: from --file-offset), every
 * page tagged with a fresh nonce; pattern seed --seed + @idx.
 */
void dmatd_tbuf_alloc(struct dmatd_tbuf *b, enum dmatd_backing backing,
		      const char *name, unsigned int idx);
void dmatd_tbuf_free(struct dmatd_tbuf *b);

/*
 * A buffer the caller allocated (@b->buf set, e.g. from DPDK's memory):
 * name, nonce, pattern seed --seed + @idx, and every page tagged.
 */
void dmatd_tbuf_adopt(struct dmatd_tbuf *b, const char *name, unsigned int idx);

/*
 * A page that moved leaves its old frame behind, tag and all: give the
 * pages a new nonce so that the host finds each of them exactly once.
 */
void dmatd_tbuf_renonce(struct dmatd_tbuf *b);

/* "@dt begin case=@name ..." for @b; its checks belong to @name. */
void dmatd_tbuf_begin(const char *name, const struct dmatd_tbuf *b);

/* Physical addresses (pagemap) of @n 4 KiB pages from @va, calloc()ed. */
uint64_t *dmatd_page_pas(const void *va, size_t n);

/* Physical addresses (pagemap) of every 4 KiB page the buffer touches. */
uint64_t *dmatd_tbuf_page_pas(struct dmatd_tbuf *b, size_t *npages);

/* b->runs: where the device must go, by the session's VFIO path. */
void dmatd_tbuf_translate(struct dmatd_tbuf *b);

/* The runs (cdev) or page addresses (legacy) as protocol lines. */
void dmatd_tbuf_report_translation(struct dmatd_tbuf *b);

/* runs-cover, runs-first-offset, and in cdev mode runs-maximal. */
void dmatd_tbuf_check_runs(struct dmatd_tbuf *b);

/* "@dt dma ..." for a command on list @l. */
void dmatd_report_dma(uint32_t op, uint64_t seed, const struct dmatd_seglist *l,
		      const struct dmatd_result *r);

typedef void (*dmatd_report_dma_fn)(uint32_t op, uint64_t seed,
				    const struct dmatd_seglist *l,
				    const struct dmatd_result *r);

/* cpu-sees-pattern: the buffer holds the pattern of b->seed. */
void dmatd_tbuf_check_cpu_pattern(struct dmatd_tbuf *b);

/*
 * WRITE_PATTERN over b->runs, then VERIFY_PATTERN, each reported through
 * @report (NULL: dmatd_report_dma()) and checked: dma-write,
 * cpu-sees-pattern, dma-verify, dma-verify-match.
 */
void dmatd_tbuf_write_verify(struct dmatd_tbuf *b, dmatd_report_dma_fn report);

/* The command completed without error, all @len bytes. */
bool dmatd_check_dma_ok(const char *name, const struct dmatd_result *r,
			uint64_t len);

/* Moving a buffer's pages to the next NUMA node with move_pages(). */
struct dmatd_move {
	size_t count;
	void **addr;
	int *status;
	int *nodes;
	long ret;
	int target;
};

void dmatd_move_prepare(struct dmatd_tbuf *b, struct dmatd_move *mv);

/*
 * move_pages() leaves the status of a page it did not migrate (a pinned
 * one) unwritten: every slot is preset to INT_MIN to see that.  Goes on
 * from another CPU: the frames the pages left stay as they were.
 */
void dmatd_move_run(struct dmatd_move *mv);
void dmatd_move_free(struct dmatd_move *mv);

/*
 * "@dt moved" (@proto_lines, else up to 3 comments) for every page whose
 * PA changed from @before to @after; returns how many did.  @mv may be
 * NULL (the page moved by other means).
 */
size_t dmatd_report_moved(const struct dmatd_tbuf *b, const uint64_t *before,
			  const uint64_t *after, size_t n,
			  const struct dmatd_move *mv, bool proto_lines);

/* Legacy: mlock()ed pages move; report each with its old and new PA. */
void dmatd_migrate_locked(struct dmatd_tbuf *b, const uint64_t *before);

/*
 * "@dt wait what=@what" (with @b: the nonce the host must look for now),
 * then wait for "go" on stdin; only with --handshake.
 *
 * The scrub runs from the caller's frame, as a macro: the frame of a
 * function that scrubbed for itself would overlay, unwiped, the dead
 * frames it should have wiped.
 */
#define dmatd_wait_go(what, b)						\
	do {								\
		if (dmatd_sess.handshake)				\
			dmatd_scrub_cpu();				\
		dmatd_do_wait_go(what, b);				\
	} while (0)

void dmatd_scrub_cpu(void);
void dmatd_do_wait_go(const char *what, const struct dmatd_tbuf *b);

#endif /* DTLIB_SESSION_H */
