/*
 * Guest-level qtest for dma-testdev: a real Linux guest pins memory with
 * IOMMU_IOAS_NOIOMMU_GET_PA (or, for the legacy path, mlock + pagemap) and
 * programs the device, while this test, outside the guest, is the oracle
 * that says where every DMA really landed.
 *
 * The oracle does not trust the guest.  It finds the buffer's pages in
 * guest physical memory on its own: the guest tool writes a page tag (a
 * nonce, the page index, a check word) into every page, and the test scans
 * guest RAM (shared memory
 * backends it maps) with the VM stopped.  Against that map it checks the
 * runs the ioctl returned, every word of the position-tagged pattern the
 * device wrote, and every address in the device's DMA log.  The console
 * protocol is docs/guest-protocol.rst.
 *
 * Environment: DT_GUEST_KERNEL (bzImage), DT_GUEST_INITRD (initramfs with
 * the guest tools), DT_GUEST_ACCEL (tcg or kvm, default tcg: pass exactly
 * one; on some hosts KVM initialises but cannot boot Linux, see
 * scripts/vm.sh),
 * DT_GUEST_EVIDENCE (where a failed case leaves its console, findings and
 * DMA log), DT_GUEST_CASE_TIMEOUT (seconds a case may take, default 600),
 * DT_GUEST_KERNEL_COMPAT (the second kernel, for the compat/ cases),
 * DT_GUEST_KERNEL_SELFTEST (the third, with IOMMUFD_TEST, for iommufd/);
 * which cases run: see DmatdSelection.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "libqos/dma-testdev.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "qobject/qstring.h"
#include "hw/misc/dma-testdev.h"
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <poll.h>

#define DMATD_PAGE              ((uint64_t)4096)
#define DMATD_NODES             2
#define DMATD_NONE              UINT64_MAX
/* q35 puts RAM above this in the PCI hole at 4 GiB instead. */
#define DMATD_Q35_LOWMEM_SMALL  0xb0000000ULL
#define DMATD_Q35_LOWMEM_LARGE  0x80000000ULL
/* A guest case is one boot; TCG boots a tiny kernel in seconds. */
#define DMATD_CASE_TIMEOUT_S    600
/* The word that "x-misdirect-offset" sends one page too far. */
#define DMATD_MISDIRECT_OFF     ((uint64_t)0x1008)
/* What the kernel prints last, before it powers off (kernel/reboot.c). */
#define DMATD_LAST_RECORD       "reboot: Power down"
/* What the console reader takes in one read(). */
#define DMATD_CONSOLE_CHUNK     4096
/* What the console pipe holds unread: all a case here ever prints. */
#define DMATD_CONSOLE_PIPE      (1 * MiB)
/*
 * The console burst: user lines "dt-console uN F" and kernel records
 * "dt-console kN F", N below DMATD_BURST_LINES: 100 KiB in all, more than
 * a default pipe (64 KiB) holds.
 */
#define DMATD_BURST_LINES       600
#define DMATD_BURST_FILL        "0123456789abcdefghijklmnopqrstuvwxyz" \
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
/* The guest's shell prints it (guest/initramfs/init runs dt.run). */
#define DMATD_BURST_RUN \
    "f=" DMATD_BURST_FILL "; i=0; " \
    "while [ $i -lt " stringify(DMATD_BURST_LINES) " ]; do " \
    "echo dt-console u$i $f; " \
    "echo \\<4\\>dt-console k$i $f >/dev/kmsg; " \
    "i=$((i + 1)); done"

typedef enum {
    DMATD_EXPECT_PASS,             /* the oracle finds nothing wrong */
    DMATD_EXPECT_MISDIRECT,        /* negative control: exactly one word */
    DMATD_EXPECT_LEGACY_HAZARD,    /* DMA hit frames the buffer left */
    DMATD_EXPECT_EPF,              /* Linux's pci_endpoint kselftest passes */
    DMATD_EXPECT_EPF_MISDIRECT,    /* negative control of the EPF oracle */
    DMATD_EXPECT_READ_FAIL,        /* negative control of dt-remap-race */
    DMATD_EXPECT_STRAYS,           /* pass, having ignored the strays */
    DMATD_EXPECT_TAG_TWICE,        /* negative control of the page scan */
    DMATD_EXPECT_LIST_DECOY,       /* negative control of the list check */
    DMATD_EXPECT_KERNEL_WARNING,   /* negative control of the kernel check */
    DMATD_EXPECT_IOMMUFD_SELFTEST, /* Linux's iommufd selftest passes */
    DMATD_EXPECT_KTAP_FAIL,        /* negative control of the KTAP reader */
    DMATD_EXPECT_VFIO_SELFTEST,    /* Linux's VFIO selftests, no-IOMMU mode */
    DMATD_EXPECT_VFIO_MISDIRECT,   /* negative control of their DMA oracle */
    DMATD_EXPECT_VFIO_IGB,         /* the same driver test on QEMU's igb */
    DMATD_EXPECT_KSELFTEST,        /* every test of a harness tool passes */
    DMATD_EXPECT_CONSOLE_WHOLE,    /* a burst read late arrives whole */
    DMATD_EXPECT_CONSOLE_LOSS,     /* negative control: over a socket */
} DmatdExpect;

/* dt-pin-abi's tests (kselftest_harness.h), when this test was written. */
#define DMATD_ABI_TESTS         29

typedef struct DmatdGuestCase {
    const char *name;
    const char *tool;           /* run with --handshake (default dt-pin) */
    const char *tool_args;      /* its options, unless @run is given */
    const char *run;            /* another guest command */
    uint64_t node_mb;           /* RAM per NUMA node */
    unsigned hugepages;         /* 2 MiB pages reserved at boot */
    const char *device_props;
    const char *extra_args;     /* more of QEMU's command line */
    const char *kernel_args;    /* more of the guest kernel's */
    DmatdExpect expect;
    bool above_4g;              /* every page of the buffer above 4 GiB */
    bool compat_kernel;         /* boot DT_GUEST_KERNEL_COMPAT */
    bool selftest_kernel;       /* boot DT_GUEST_KERNEL_SELFTEST */
    const char *container;      /* legacy: who must serve /dev/vfio/vfio */
    bool rootfs_host;           /* the host's / in the guest (virtio-9p) */
    bool console_socket;        /* the console over a socket, not a pipe */
} DmatdGuestCase;

typedef struct DmatdRun {
    uint64_t iova;
    uint64_t pa;
    uint64_t len;
} DmatdRun;

/* A command the tool ran, by its "@dt dma" line. */
typedef struct DmatdCmd {
    uint64_t seq;               /* the device's command number: "cmd" */
    uint64_t list_pa;           /* its segment list, as the tool said */
    uint64_t list_len;
} DmatdCmd;

/* One buffer, from "@dt begin" to "@dt end". */
typedef struct DmatdBuf {
    char *name;
    bool legacy;
    uint64_t len;
    uint64_t offset;
    uint64_t nonce;             /* from "@dt begin" */
    uint64_t lone_nonces;       /* nonces at page starts that were no tag */
    uint64_t chance_words;      /* seed-shaped words the device never wrote */
    GArray *writes;             /* DmatdRun (pa, len): the device's writes */
    bool writes_complete;       /* the log still held all of them */
    uint64_t npages;
    uint64_t *page_gpa;         /* current location of each page */
    uint64_t *first_gpa;        /* location when first found */
    GArray *runs;               /* DmatdRun, from the ioctl */
    GArray *moved;              /* uint64_t page indexes the tool moved */
    GArray *cmds;               /* DmatdCmd: the tool's "@dt dma" lines */
    uint32_t seed;
    bool wrote;                 /* a WRITE_PATTERN was reported */
    uint64_t log_seq;           /* DMA log entries after this are ours */
    uint64_t log_checked;       /* of them, how many were checked */
    bool passed;                /* the tool's own verdict */
} DmatdBuf;

/* A buffer the guest kernel's DMA API mapped (dma:dma_map_phys). */
typedef struct DmatdDmaMap {
    char dev[32];
    char dir[16];
    uint64_t addr;
    uint64_t size;
} DmatdDmaMap;

typedef struct DmatdVm {
    const DmatdGuestCase *gcase;  /* NULL: no guest (the console test) */
    QTestState *qts;
    int console_fd;             /* what the guest's serial port sends */
    int input_fd;               /* what it receives (socket: the same fd) */
    char *mem_path[DMATD_NODES];
    uint8_t *ram[DMATD_NODES];
    int ram_fd[DMATD_NODES];    /* for SEEK_DATA: see dmatd_ram_extents() */
    uint64_t node_size;
    uint64_t below_4g;
    GString *console;           /* everything the guest printed, as is */
    GString *output;            /* user space's lines: kernel records out */
    GString *kmsg;              /* the kernel's records, a line each */
    GString *cut;               /* user text a kernel record broke off */
    GString *dma_log;           /* DMA log entries read, JSON lines */
    GString *pending;           /* an incomplete console line */
    GPtrArray *errors;          /* oracle findings */
    GPtrArray *bufs;            /* DmatdBuf *, finished */
    DmatdBuf *cur;
    GArray *maps;               /* DmatdDmaMap */
    int64_t map_overrun;        /* trace events lost, -1: no report */
    GArray *ranges;             /* DmatdRun (pa, len): "@dt dma-range" */
    unsigned selftests;         /* "@dt selftest" lines: suites that ran */
    int tool_status;
    char *container;            /* "@dt container backend=" */
    gint64 deadline;
    bool stalled;               /* the console burst: the reader stalled */
    double stall_s;             /* for so long */
    int stall_queued;           /* while the console queued this much */
} DmatdVm;

static const char *dmatd_kernel;
static const char *dmatd_kernel_compat;
static const char *dmatd_kernel_selftest;
static const char *dmatd_initrd;
static const char *dmatd_dpdk_tool;     /* DT_GUEST_DPDK: dt-dpdk */
static const char *dmatd_accel;
static unsigned dmatd_timeout_s = DMATD_CASE_TIMEOUT_S;

/*
 * g_test_message(), also from the subprocess a case runs in: GLib starts
 * it with -q, which silences g_test_message() there.  "# " lines are TAP
 * comments, which the parent's TAP stream carries as they are.
 */
static void G_GNUC_PRINTF(1, 2) dmatd_msg(const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (!g_test_subprocess()) {
        g_test_message("%s", msg);
        return;
    }
    printf("# %s\n", msg);
    fflush(stdout);
}

static void G_GNUC_PRINTF(2, 3) dmatd_error(DmatdVm *vm, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_ptr_array_add(vm->errors, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

/*
 * Guest physical memory, as the test sees it
 */

static uint8_t *dmatd_gpa_ptr(DmatdVm *vm, uint64_t gpa, uint64_t len)
{
    uint64_t ram_off;

    if (gpa < vm->below_4g) {
        ram_off = gpa;
    } else if (gpa >= 4 * GiB) {
        ram_off = gpa - 4 * GiB + vm->below_4g;
    } else {
        return NULL;
    }
    if (ram_off / vm->node_size != (ram_off + len - 1) / vm->node_size ||
        ram_off + len > DMATD_NODES * vm->node_size) {
        return NULL;
    }
    return vm->ram[ram_off / vm->node_size] + ram_off % vm->node_size;
}

static uint64_t dmatd_ram_off_to_gpa(DmatdVm *vm, uint64_t ram_off)
{
    return ram_off < vm->below_4g ? ram_off
                                  : ram_off - vm->below_4g + 4 * GiB;
}

/* [start, end) of a node's RAM, offsets into its backing file. */
typedef struct DmatdExtent {
    uint64_t start;
    uint64_t end;
} DmatdExtent;

/*
 * The parts of @node's RAM the guest ever wrote, from the backing file's
 * SEEK_DATA/SEEK_HOLE.  A page never written is a hole in the tmpfs file
 * and reads as zeros: no tag and no pattern word can be there.  Reading
 * it through the mapping would allocate it, which for a 4 GiB case on
 * 10 GiB of RAM cost 20 s and 10 GiB.  Where the file system cannot say,
 * the whole node is one extent.
 */
static GArray *dmatd_ram_extents(DmatdVm *vm, int node)
{
    GArray *ext = g_array_new(false, false, sizeof(DmatdExtent));
    off_t pos = 0;

    while (pos < vm->node_size) {
        DmatdExtent x;
        off_t data = lseek(vm->ram_fd[node], pos, SEEK_DATA), hole;

        if (data < 0 && errno == ENXIO) {
            break;                      /* only holes from @pos on */
        }
        if (data < 0) {
            g_array_set_size(ext, 0);
            x = (DmatdExtent) { 0, vm->node_size };
            g_array_append_val(ext, x);
            break;
        }
        hole = lseek(vm->ram_fd[node], data, SEEK_HOLE);
        /* Pages, as tmpfs gives them: no page is scanned twice. */
        x = (DmatdExtent) {
            QEMU_ALIGN_DOWN(data, DMATD_PAGE),
            hole <= data ? vm->node_size :
            MIN(QEMU_ALIGN_UP(hole, DMATD_PAGE), vm->node_size)
        };
        g_array_append_val(ext, x);
        pos = x.end;
    }
    return ext;
}

/* The page at @off of @node: a tag of @b's buffer, or not. */
static void dmatd_scan_tag_at(DmatdVm *vm, DmatdBuf *b, uint64_t nonce,
                              uint64_t node, uint64_t off)
{
    const uint8_t *p = vm->ram[node] + off;
    uint64_t idx, gpa;

    if (ldq_le_p(p) != nonce) {
        return;
    }
    idx = ldq_le_p(p + 8);
    gpa = dmatd_ram_off_to_gpa(vm, node * vm->node_size + off);
    if (ldq_le_p(p + 16) != dmatd_page_tag_check(nonce, idx)) {
        b->lone_nonces++;
        dmatd_msg("%s: the nonce at 0x%" PRIx64 " is no page tag (no check "
                  "word): ignored", b->name, gpa);
        return;
    }
    if (idx >= b->npages) {
        dmatd_error(vm, "%s: tag at 0x%" PRIx64 " names page %" PRIu64
                    " of a %" PRIu64 "-page buffer", b->name, gpa, idx,
                    b->npages);
    } else if (b->page_gpa[idx] != DMATD_NONE) {
        dmatd_error(vm, "%s: page %" PRIu64 " found twice, at 0x%" PRIx64
                    " and 0x%" PRIx64, b->name, idx, b->page_gpa[idx], gpa);
    } else {
        b->page_gpa[idx] = gpa;
    }
}

/*
 * Locate every page of the buffer by its tag (DMATD_PAGE_TAG_SIZE).  Runs
 * with the VM stopped, so nothing moves while it looks.  The nonce alone
 * is no tag: the tool printed it, and copies of it sit in stacks and
 * buffers, one of them now and then at a page start.
 */
static void dmatd_scan_tags(DmatdVm *vm, DmatdBuf *b, uint64_t nonce)
{
    uint64_t i, node, off;

    for (i = 0; i < b->npages; i++) {
        b->page_gpa[i] = DMATD_NONE;
    }
    for (node = 0; node < DMATD_NODES; node++) {
        g_autoptr(GArray) ext = dmatd_ram_extents(vm, node);

        for (i = 0; i < ext->len; i++) {
            const DmatdExtent *e = &g_array_index(ext, DmatdExtent, i);

            for (off = e->start; off < e->end; off += DMATD_PAGE) {
                dmatd_scan_tag_at(vm, b, nonce, node, off);
            }
        }
    }
    for (i = 0; i < b->npages; i++) {
        if (b->page_gpa[i] == DMATD_NONE) {
            dmatd_error(vm, "%s: page %" PRIu64 " not found in guest RAM",
                        b->name, i);
        }
        if (b->first_gpa[i] == DMATD_NONE) {
            b->first_gpa[i] = b->page_gpa[i];
        }
    }
}

/* Where byte @b of the buffer really is, by the nonce map. */
static uint64_t dmatd_buf_gpa(DmatdBuf *b, uint64_t byte)
{
    uint64_t pos = b->offset + byte;
    uint64_t page = b->page_gpa[pos / DMATD_PAGE];

    return page == DMATD_NONE ? DMATD_NONE : page + pos % DMATD_PAGE;
}

/*
 * The runs GET_PA returned must cover the buffer exactly, in IOVA order,
 * and each must be physically contiguous: every page inside a run must be
 * where the run says.  A PA one page off, or a run merged across a
 * discontinuity, fails here naming the page.
 */
static void dmatd_check_runs(DmatdVm *vm, DmatdBuf *b)
{
    uint64_t byte = 0, i;

    for (i = 0; i < b->runs->len; i++) {
        DmatdRun *r = &g_array_index(b->runs, DmatdRun, i);
        uint64_t end = byte + r->len, pos;

        if (r->iova != g_array_index(b->runs, DmatdRun, 0).iova + byte) {
            dmatd_error(vm, "%s: run %" PRIu64 " starts at IOVA 0x%" PRIx64
                        ", expected 0x%" PRIx64, b->name, i, r->iova,
                        g_array_index(b->runs, DmatdRun, 0).iova + byte);
        }
        if (end > b->len) {
            dmatd_error(vm, "%s: run %" PRIu64 " ends at buffer byte 0x%"
                        PRIx64 ", past its length 0x%" PRIx64, b->name, i, end,
                        b->len);
            return;
        }
        /* One check per page the run touches. */
        for (pos = byte; pos < end;
             pos = QEMU_ALIGN_DOWN(b->offset + pos, DMATD_PAGE) + DMATD_PAGE -
                   b->offset) {
            uint64_t real = dmatd_buf_gpa(b, pos);
            uint64_t said = r->pa + (pos - byte);

            if (real != said) {
                dmatd_error(vm, "%s: page %" PRIu64 " (buffer byte 0x%" PRIx64
                            "): run %" PRIu64 " says PA 0x%" PRIx64
                         ", the page is at 0x%" PRIx64, b->name,
                         (b->offset + pos) / DMATD_PAGE, pos, i, said, real);
            }
        }
        byte = end;
    }
    if (byte != b->len) {
        dmatd_error(vm, "%s: runs cover 0x%" PRIx64 " bytes of 0x%" PRIx64,
                    b->name, byte, b->len);
    }
}

static bool dmatd_in_runs(DmatdBuf *b, uint64_t addr, uint64_t len)
{
    uint64_t i;

    for (i = 0; i < b->runs->len; i++) {
        DmatdRun *r = &g_array_index(b->runs, DmatdRun, i);

        if (addr >= r->pa && addr + len <= r->pa + r->len) {
            return true;
        }
    }
    return false;
}

/* Which page of the buffer, by the current nonce map, holds @gpa? */
static uint64_t dmatd_page_at(DmatdBuf *b, uint64_t gpa)
{
    uint64_t i;

    for (i = 0; i < b->npages; i++) {
        if (b->page_gpa[i] != DMATD_NONE && gpa >= b->page_gpa[i] &&
            gpa < b->page_gpa[i] + DMATD_PAGE) {
            return i;
        }
    }
    return DMATD_NONE;
}

static uint64_t dmatd_get_u64(QDict *d, const char *key)
{
    QNum *n = qobject_to(QNum, qdict_get(d, key));

    g_assert_nonnull(n);
    return qnum_get_uint(n);
}

/*
 * Where the device wrote since the buffer began, by its DMA log.  If the
 * log no longer holds the first of those entries, writes_complete stays
 * false and every address counts as written.
 */
static void dmatd_collect_writes(DmatdBuf *b, QList *log)
{
    QListEntry *e;
    bool first = true;

    g_array_set_size(b->writes, 0);
    b->writes_complete = true;
    QLIST_FOREACH_ENTRY(log, e) {
        QDict *d = qobject_to(QDict, qlist_entry_obj(e));
        DmatdRun w = {
            .pa = dmatd_get_u64(d, "addr"),
            .len = dmatd_get_u64(d, "len"),
        };

        if (first && dmatd_get_u64(d, "seq") != b->log_seq + 1) {
            b->writes_complete = false;
        }
        first = false;
        if (!strcmp(qdict_get_str(d, "dir"), "write")) {
            g_array_append_val(b->writes, w);
        }
    }
}

static bool dmatd_device_wrote(DmatdBuf *b, uint64_t gpa)
{
    guint i;

    if (!b->writes_complete) {
        return true;
    }
    for (i = 0; i < b->writes->len; i++) {
        DmatdRun *w = &g_array_index(b->writes, DmatdRun, i);

        if (gpa >= w->pa && gpa + 8 <= w->pa + w->len) {
            return true;
        }
    }
    return false;
}

/*
 * The word at @off of @node, if it has the seed's shape: where it belongs
 * and whether it is there.  Returns true for a word in its place.
 */
static bool dmatd_check_word_at(DmatdVm *vm, DmatdBuf *b, uint64_t node,
                                uint64_t off)
{
    uint64_t w = ldq_le_p(vm->ram[node] + off), t, gpa, exp;

    if ((uint32_t)(w >> 32) != b->seed) {
        return false;
    }
    t = (uint64_t)(uint32_t)w * 8;
    gpa = dmatd_ram_off_to_gpa(vm, node * vm->node_size + off);
    if ((t + 8 > b->len || gpa != dmatd_buf_gpa(b, t)) &&
        !dmatd_device_wrote(b, gpa)) {
        b->chance_words++;
        return false;
    }
    if (t + 8 > b->len) {
        dmatd_error(vm, "%s: word 0x%016" PRIx64 " at 0x%" PRIx64 " is past "
                    "the transfer (offset 0x%" PRIx64 ")", b->name, w, gpa, t);
        return false;
    }
    exp = dmatd_buf_gpa(b, t);
    if (gpa != exp) {
        dmatd_error(vm, "%s: word for transfer offset 0x%" PRIx64 " (page %"
                    PRIu64 ") found at 0x%" PRIx64 ", expected at 0x%" PRIx64,
                    b->name, t, (b->offset + t) / DMATD_PAGE, gpa, exp);
        return false;
    }
    return true;
}

/*
 * Every word of the pattern must be on the page, and at the offset, it
 * belongs to; none the device wrote may be anywhere else in guest RAM.
 * Words split across two pages are the guest tool's to check.
 *
 * A word of the seed's shape that lies outside every write the device
 * logged is not a DMA finding: about one word in 2^32 of what RAM holds
 * (code, compressed data) has the seed in its upper half by chance (one
 * in the BIOS did, in a mutation run), and the CPU may have copied one.
 * Such words are counted and reported, not flagged.
 */
static void dmatd_check_pattern(DmatdVm *vm, DmatdBuf *b, QList *log)
{
    uint64_t phase = b->offset % 8, node, off, nwords = 0, found = 0, t;
    guint i;

    dmatd_collect_writes(b, log);
    for (node = 0; node < DMATD_NODES; node++) {
        g_autoptr(GArray) ext = dmatd_ram_extents(vm, node);

        for (i = 0; i < ext->len; i++) {
            const DmatdExtent *e = &g_array_index(ext, DmatdExtent, i);
            /* From the first word at @phase that reaches into the extent. */
            uint64_t lo = e->start > 7 ? e->start - 7 : 0;

            for (off = lo + (phase + 8 - lo % 8) % 8;
                 off < e->end && off + 8 <= vm->node_size; off += 8) {
                found += dmatd_check_word_at(vm, b, node, off);
            }
        }
    }
    /* Then every word that should be there, by its expected address. */
    for (t = 0; t + 8 <= b->len; t += 8) {
        uint64_t gpa = dmatd_buf_gpa(b, t);
        const uint8_t *p;

        if ((b->offset + t) / DMATD_PAGE != (b->offset + t + 7) / DMATD_PAGE) {
            continue;
        }
        nwords++;
        p = gpa == DMATD_NONE ? NULL : dmatd_gpa_ptr(vm, gpa, 8);
        if (!p || ldq_le_p(p) != dmatd_pattern_word(b->seed, t)) {
            dmatd_error(vm, "%s: transfer offset 0x%" PRIx64 " (page %" PRIu64
                        ") at 0x%" PRIx64 ": expected 0x%016" PRIx64
                     " found 0x%016" PRIx64, b->name, t,
                     (b->offset + t) / DMATD_PAGE, gpa,
                     dmatd_pattern_word(b->seed, t), p ? ldq_le_p(p) : 0);
        }
    }
    dmatd_msg("%s: %" PRIu64 " of %" PRIu64 " pattern words in place",
              b->name, found, nwords);
    if (b->chance_words) {
        dmatd_msg("%s: %" PRIu64 " words of the seed's shape outside every "
                  "write the device logged (chance, or CPU copies): ignored",
                  b->name, b->chance_words);
    }
}

/* The device's DMA log from sequence number @from on. */
static QList *dmatd_dma_log(DmatdVm *vm, uint64_t from)
{
    QList *log = dmatd_log_read(vm->qts, "dt0", from);
    QListEntry *e;

    /* Kept for the evidence of a failed case. */
    QLIST_FOREACH_ENTRY(log, e) {
        g_autoptr(GString) json = qobject_to_json(qlist_entry_obj(e));

        g_string_append_printf(vm->dma_log, "%s\n", json->str);
    }
    return log;
}

/* The segment list the tool said command @seq used; NULL if none. */
static const DmatdCmd *dmatd_find_cmd(DmatdBuf *b, uint64_t seq)
{
    guint i;

    for (i = 0; i < b->cmds->len; i++) {
        if (g_array_index(b->cmds, DmatdCmd, i).seq == seq) {
            return &g_array_index(b->cmds, DmatdCmd, i);
        }
    }
    return NULL;
}

/*
 * cdev: every entry of the log since the buffer began, of every kind.
 * Data (src, dst, of any op) only inside the runs the ioctl returned;
 * segment-list reads only inside the list the tool reported for that
 * command ("@dt dma ... seq= list= segs="); no queue entries at all (the
 * tool uses the register path).
 */
static void dmatd_check_cdev_entry(DmatdVm *vm, DmatdBuf *b, QDict *d)
{
    const char *list = qdict_get_str(d, "list");
    uint64_t cmd = dmatd_get_u64(d, "cmd");
    uint64_t addr = dmatd_get_u64(d, "addr");
    uint64_t len = dmatd_get_u64(d, "len");
    const DmatdCmd *c;

    if (!strcmp(list, "src") || !strcmp(list, "dst")) {
        if (!dmatd_in_runs(b, addr, len)) {
            dmatd_error(vm, "%s: DMA log: cmd %" PRIu64 " %s %s 0x%" PRIx64
                        "+0x%" PRIx64 ", outside every run the ioctl "
                        "returned", b->name, cmd, qdict_get_str(d, "op"),
                        list, addr, len);
        }
    } else if (g_str_has_suffix(list, "-list")) {
        c = dmatd_find_cmd(b, cmd);
        if (!c || addr < c->list_pa ||
            addr + len > c->list_pa + c->list_len) {
            dmatd_error(vm, "%s: DMA log: cmd %" PRIu64 " read its %s at "
                        "0x%" PRIx64 "+0x%" PRIx64 ", outside the segment "
                        "list the tool reported (0x%" PRIx64 "+0x%" PRIx64
                        ")", b->name, cmd, list, addr, len,
                        c ? c->list_pa : 0, c ? c->list_len : 0);
        }
    } else {
        dmatd_error(vm, "%s: DMA log: cmd %" PRIu64 " %s at 0x%" PRIx64
                    ": a queue access, but the tool used no queue", b->name,
                    cmd, list, addr);
    }
}

/*
 * The device's own record of what it did since the buffer began (@log,
 * read once per check): on the cdev path every entry must lie where the
 * tool was entitled to send the device, and any DMA that read or wrote
 * at an mlocked address must hit a frame that still holds the buffer's
 * page.
 */
static void dmatd_check_log(DmatdVm *vm, DmatdBuf *b, QList *log)
{
    QListEntry *e;

    QLIST_FOREACH_ENTRY(log, e) {
        QDict *d = qobject_to(QDict, qlist_entry_obj(e));
        const char *list = qdict_get_str(d, "list");
        uint64_t addr = dmatd_get_u64(d, "addr");
        uint64_t len = dmatd_get_u64(d, "len");
        uint64_t first, i;

        if (dmatd_get_u64(d, "seq") <= b->log_seq) {
            continue;
        }
        b->log_checked++;
        if (!b->legacy) {
            dmatd_check_cdev_entry(vm, b, d);
            continue;
        }
        if (g_str_has_suffix(list, "-list")) {
            continue;
        }
        /* Legacy: the addresses came from pagemap; are they still ours? */
        for (i = 0; i < b->npages; i++) {
            first = b->first_gpa[i];
            if (first == DMATD_NONE || addr >= first + DMATD_PAGE ||
                addr + len <= first) {
                continue;
            }
            if (dmatd_page_at(b, first) != i) {
                dmatd_error(vm, "%s: DMA log: cmd %" PRIu64 " %s 0x%" PRIx64
                            "+0x%" PRIx64 ": page %" PRIu64 " left 0x%" PRIx64
                         " (now at 0x%" PRIx64 "): the DMA hit memory that "
                         "is no longer the buffer's", b->name,
                         dmatd_get_u64(d, "cmd"), list, addr, len, i, first,
                         b->page_gpa[i]);
            }
        }
    }
}

/*
 * The console
 */

static char *dmatd_field(const char *line, const char *key)
{
    g_autofree char *pat = g_strdup_printf(" %s=", key);
    const char *p = strstr(line, pat);
    size_t n;

    if (!p) {
        return NULL;
    }
    p += strlen(pat);
    n = strcspn(p, " \r\n");
    return g_strndup(p, n);
}

static uint64_t dmatd_field_u64(DmatdVm *vm, const char *line, const char *key)
{
    g_autofree char *v = dmatd_field(line, key);
    uint64_t n;

    if (!v || qemu_strtou64(v, NULL, 0, &n)) {
        dmatd_error(vm, "protocol: no number %s= in '%s'", key, line);
        return 0;
    }
    return n;
}

static void dmatd_send(DmatdVm *vm, const char *s)
{
    size_t len = strlen(s), done = 0;

    while (done < len) {
        ssize_t n = write(vm->input_fd, s + done, len - done);

        g_assert_cmpint(n, >, 0);
        done += n;
    }
}

static void dmatd_buf_free(gpointer p)
{
    DmatdBuf *b = p;

    g_free(b->name);
    g_free(b->page_gpa);
    g_free(b->first_gpa);
    g_array_free(b->runs, true);
    g_array_free(b->moved, true);
    g_array_free(b->cmds, true);
    g_array_free(b->writes, true);
    g_free(b);
}

static void dmatd_begin(DmatdVm *vm, const char *line)
{
    g_autofree char *mode = dmatd_field(line, "mode");
    DmatdBuf *b = g_new0(DmatdBuf, 1);
    uint64_t i;

    b->name = dmatd_field(line, "case");
    b->name = b->name ? b->name : g_strdup("?");
    b->legacy = mode && !strcmp(mode, "legacy");
    b->len = dmatd_field_u64(vm, line, "len");
    b->offset = dmatd_field_u64(vm, line, "offset");
    b->nonce = dmatd_field_u64(vm, line, "nonce");
    g_assert_cmpuint(b->offset, <, DMATD_PAGE);
    b->npages = DIV_ROUND_UP(b->offset + b->len, DMATD_PAGE);
    b->page_gpa = g_new(uint64_t, b->npages);
    b->first_gpa = g_new(uint64_t, b->npages);
    for (i = 0; i < b->npages; i++) {
        b->page_gpa[i] = b->first_gpa[i] = DMATD_NONE;
    }
    b->runs = g_array_new(false, false, sizeof(DmatdRun));
    b->moved = g_array_new(false, false, sizeof(uint64_t));
    b->cmds = g_array_new(false, false, sizeof(DmatdCmd));
    b->writes = g_array_new(false, false, sizeof(DmatdRun));
    b->log_seq = dmatd_log_seq(vm->qts, "dt0");
    vm->cur = b;
}

/* "@dt wait": stop the VM, look, let it go on. */
static void dmatd_wait(DmatdVm *vm, const char *line)
{
    g_autofree char *what = dmatd_field(line, "what");
    g_autofree char *nonce_s = dmatd_field(line, "nonce");
    DmatdBuf *b = vm->cur;

    g_assert_nonnull(b);
    qtest_qmp_assert_success(vm->qts, "{'execute': 'stop'}");
    if (what && !strcmp(what, "checked")) {
        /* One read of the log: the pattern scan and the log check agree. */
        g_autoptr(QList) log = dmatd_dma_log(vm, b->log_seq + 1);

        if (!b->legacy) {
            dmatd_check_runs(vm, b);
        }
        if (b->wrote) {
            dmatd_check_pattern(vm, b, log);
        }
        dmatd_check_log(vm, b, log);
    } else {
        /* After moving pages the tool rewrites them with a new nonce. */
        dmatd_scan_tags(vm, b, nonce_s ? dmatd_field_u64(vm, line, "nonce")
                                     : b->nonce);
    }
    qtest_qmp_assert_success(vm->qts, "{'execute': 'cont'}");
    dmatd_send(vm, "go\n");
}

static void dmatd_line(DmatdVm *vm, const char *line)
{
    const char *p = strstr(line, "@dt ");
    DmatdBuf *b = vm->cur;

    if (!p) {
        return;
    }
    p += 4;
    if (g_str_has_prefix(p, "begin ")) {
        g_assert_null(vm->cur);
        dmatd_begin(vm, p - 1);
    } else if (g_str_has_prefix(p, "wait ")) {
        dmatd_wait(vm, p - 1);
    } else if (g_str_has_prefix(p, "run ") && b) {
        DmatdRun r = {
            .iova = dmatd_field_u64(vm, p - 1, "iova"),
            .pa = dmatd_field_u64(vm, p - 1, "pa"),
            .len = dmatd_field_u64(vm, p - 1, "len"),
        };

        g_array_append_val(b->runs, r);
    } else if (g_str_has_prefix(p, "moved ") && b) {
        uint64_t page = dmatd_field_u64(vm, p - 1, "page");

        g_array_append_val(b->moved, page);
    } else if (g_str_has_prefix(p, "dma ") && b) {
        g_autofree char *op = dmatd_field(p - 1, "op");
        DmatdCmd cmd = {
            .seq = dmatd_field_u64(vm, p - 1, "seq"),
            .list_pa = dmatd_field_u64(vm, p - 1, "list"),
            .list_len = dmatd_field_u64(vm, p - 1, "segs") * DMATD_SEG_SIZE,
        };

        g_array_append_val(b->cmds, cmd);
        if (op && !strcmp(op, dmatd_op_name(DMATD_OP_WRITE_PATTERN))) {
            b->wrote = true;
            b->seed = dmatd_field_u64(vm, p - 1, "seed");
        }
    } else if (g_str_has_prefix(p, "end ") && b) {
        g_autofree char *result = dmatd_field(p - 1, "result");

        b->passed = result && !strcmp(result, "pass");
        g_ptr_array_add(vm->bufs, b);
        vm->cur = NULL;
    } else if (g_str_has_prefix(p, "dma-map ")) {
        g_autofree char *dev = dmatd_field(p - 1, "dev");
        g_autofree char *dir = dmatd_field(p - 1, "dir");
        DmatdDmaMap m = {
            .addr = dmatd_field_u64(vm, p - 1, "addr"),
            .size = dmatd_field_u64(vm, p - 1, "size"),
        };

        g_strlcpy(m.dev, dev ?: "", sizeof(m.dev));
        g_strlcpy(m.dir, dir ?: "", sizeof(m.dir));
        g_array_append_val(vm->maps, m);
    } else if (g_str_has_prefix(p, "dma-range ")) {
        DmatdRun r = {
            .pa = dmatd_field_u64(vm, p - 1, "pa"),
            .len = dmatd_field_u64(vm, p - 1, "len"),
        };

        g_array_append_val(vm->ranges, r);
    } else if (g_str_has_prefix(p, "selftest ")) {
        vm->selftests++;
    } else if (g_str_has_prefix(p, "dma-map-done ")) {
        vm->map_overrun = dmatd_field_u64(vm, p - 1, "overrun");
    } else if (g_str_has_prefix(p, "container ")) {
        g_free(vm->container);
        vm->container = dmatd_field(p - 1, "backend");
        dmatd_msg("legacy VFIO container served by %s", vm->container);
    } else if (g_str_has_prefix(p, "exit ")) {
        vm->tool_status = dmatd_field_u64(vm, p - 1, "status");
    } else if (g_str_has_prefix(p, "check name=remap-race ")) {
        /* The figures, on success too: how hard the race was tried. */
        dmatd_msg("%s", p);
    }
}

/* The guest's console, a line per message, for a failure's context. */
static void dmatd_dump_console(DmatdVm *vm)
{
    g_auto(GStrv) lines = g_strsplit(vm->console->str, "\n", -1);
    char **l;

    for (l = lines; *l; l++) {
        dmatd_msg("console: %s", *l);
    }
}

static void dmatd_keep_evidence(DmatdVm *vm, const DmatdGuestCase *c);

/*
 * Where a kernel record starts in a console line: "[%5lu.%06lu] "
 * (PRINTK_TIME), at any column; NULL if the line has none.
 */
static const char *dmatd_kernel_record(const char *line)
{
    const char *p;

    for (p = strchr(line, '['); p; p = strchr(p + 1, '[')) {
        const char *q = p + 1;
        size_t frac;

        q += strspn(q, " ");
        if (!g_ascii_isdigit(*q)) {
            continue;
        }
        q += strspn(q, "0123456789");
        if (*q != '.') {
            continue;
        }
        frac = strspn(q + 1, "0123456789");
        if (frac == 6 && g_str_has_prefix(q + 1 + frac, "] ")) {
            return p;
        }
    }
    return NULL;
}

static bool dmatd_burst_case(const DmatdVm *vm)
{
    return vm->gcase && (vm->gcase->expect == DMATD_EXPECT_CONSOLE_WHOLE ||
                         vm->gcase->expect == DMATD_EXPECT_CONSOLE_LOSS);
}

/*
 * What the console burst prints after its first line, at least: the user
 * lines with their CR LF, and the kernel records with a timestamp of at
 * least "[%5lu.%06lu] ".
 */
static size_t dmatd_burst_rest(void)
{
    size_t n = 0;
    unsigned i;

    for (i = 0; i < DMATD_BURST_LINES; i++) {
        size_t digits = snprintf(NULL, 0, "%u", i);
        size_t text = strlen("dt-console u ") + digits +
                      strlen(DMATD_BURST_FILL) + 2;

        n += (i ? text : 0) + strlen("[    0.000000] ") + text;
    }
    return n;
}

/*
 * The console burst: at its first line, stop reading, as a reader busy
 * with a slow check would.  Over the console pipe, until the pipe holds
 * the rest of the burst unread (less what the last read already took):
 * the guest never waited for this reader.  Over a socket, until the
 * socket has taken nothing more for DMATD_STALL_FULL_S: it is full, the
 * guest waits, and meanwhile the kernel's records overrun the UART's
 * FIFO (see dmatd_console_open()).  At most DMATD_STALL_MAX_S either way.
 */
#define DMATD_STALL_FULL_S  3
#define DMATD_STALL_MAX_S   60

static void dmatd_console_stall(DmatdVm *vm)
{
    gint64 start = g_get_monotonic_time(), now = start, grew = start;
    size_t want = dmatd_burst_rest() - DMATD_CONSOLE_CHUNK;
    int queued = 0, was = -1;

    vm->stalled = true;
    while (now - start < DMATD_STALL_MAX_S * G_USEC_PER_SEC) {
        g_assert_cmpint(ioctl(vm->console_fd, FIONREAD, &queued), ==, 0);
        if (queued >= want) {
            break;
        }
        if (queued != was) {
            was = queued;
            grew = now;
        } else if (vm->gcase->console_socket &&
                   now - grew >= DMATD_STALL_FULL_S * G_USEC_PER_SEC) {
            break;
        }
        g_usleep(10 * 1000);
        now = g_get_monotonic_time();
    }
    vm->stall_s = (g_get_monotonic_time() - start) / 1e6;
    vm->stall_queued = queued;
    dmatd_msg("console: the reader stalled %.2f s while the console queued "
              "%d bytes (the burst's rest: %zu or more)", vm->stall_s,
              queued, want);
}

/*
 * One console line, sorted.  The kernel and the guest's user space share
 * the serial console, and a kernel record can land in the middle of a
 * line the tool is still writing: the console then reads "ok 33 name #
 * SKIP rea[   21.02] vfio-pci ...: resetting\r\n" and "son\r\n".  A
 * record is printed whole (under the port lock) and ends its console line,
 * so the text before it is the start of a user line that goes on in the
 * next console line.  The tool's lines and the kernel's are each read
 * whole from vm->output and vm->kmsg; vm->console keeps the bytes as they
 * came, for the evidence.
 */
static void dmatd_console_line(DmatdVm *vm, const char *line)
{
    const char *rec = dmatd_kernel_record(line);

    if (rec) {
        g_string_append_len(vm->cut, line, rec - line);
        g_string_append_printf(vm->kmsg, "%s\n", rec);
        return;
    }
    g_string_append(vm->cut, line);
    if (dmatd_burst_case(vm) && !vm->stalled &&
        g_str_has_prefix(vm->cut->str, "dt-console u0 ")) {
        dmatd_console_stall(vm);
    }
    g_string_append_printf(vm->output, "%s\n", vm->cut->str);
    dmatd_line(vm, vm->cut->str);
    g_string_truncate(vm->cut, 0);
}

/* Console bytes: keep them, and act on every whole line. */
static void dmatd_feed(DmatdVm *vm, const char *buf, size_t n)
{
    char *nl;

    g_string_append_len(vm->console, buf, n);
    g_string_append_len(vm->pending, buf, n);
    while ((nl = memchr(vm->pending->str, '\n', vm->pending->len))) {
        g_autofree char *line = g_strndup(vm->pending->str,
                                          nl - vm->pending->str);

        g_string_erase(vm->pending, 0, nl - vm->pending->str + 1);
        dmatd_console_line(vm, line);
    }
}

/* Take in whatever the console holds now, without waiting. */
static void dmatd_drain_console(DmatdVm *vm)
{
    struct pollfd pfd = { .fd = vm->console_fd, .events = POLLIN };
    char buf[DMATD_CONSOLE_CHUNK];
    ssize_t n;

    while (poll(&pfd, 1, 0) > 0 &&
           (n = read(vm->console_fd, buf, sizeof(buf))) > 0) {
        dmatd_feed(vm, buf, n);
    }
}

/*
 * A guest power-off (or a panic: -no-reboot makes it one) pauses QEMU
 * instead of ending it (-action shutdown=pause), so that the device's DMA
 * log can still be read after "@dt exit", however long it takes.  Returns
 * whether the guest is off, with everything it printed read; a power-off
 * before "@dt exit" is a dead guest: say so at once.
 */
static bool dmatd_powered_off(DmatdVm *vm, const DmatdGuestCase *c)
{
    g_autoptr(QDict) resp = qtest_qmp(vm->qts,
                                      "{'execute': 'query-status'}");
    QDict *ret = qdict_get_qdict(resp, "return");

    if (!ret || strcmp(qdict_get_str(ret, "status"), "shutdown")) {
        return false;
    }
    /*
     * The UART hands each byte to the pipe as the guest writes it: all
     * the guest printed is there now.
     */
    dmatd_drain_console(vm);
    if (vm->tool_status >= 0) {
        return true;
    }
    dmatd_dump_console(vm);
    dmatd_keep_evidence(vm, c);
    g_error("guest powered off before the tool exited");
}

/*
 * Read the console until the guest is off, not only until "@dt exit".
 * The kernel's console printer runs behind, in a thread of its own (7.3's
 * 8250 is an nbcon console): records from before the tool's end, a WARN
 * in a release path at its exit among them, reach the console after that
 * line, and the kernel prints them all before it powers off.  The console
 * is then quiet: once the tool has exited, every pause in it longer than
 * DMATD_QUIET_MS asks QEMU whether the guest is off.
 */
#define DMATD_QUIET_MS 20

static void dmatd_run_console(DmatdVm *vm, const DmatdGuestCase *c)
{
    char buf[DMATD_CONSOLE_CHUNK];

    for (;;) {
        struct pollfd pfd = { .fd = vm->console_fd, .events = POLLIN };
        int left = (vm->deadline - g_get_monotonic_time()) / 1000;
        int quiet = vm->tool_status < 0 ? 1000 : DMATD_QUIET_MS;
        ssize_t n;

        if (left <= 0) {
            dmatd_dump_console(vm);
            dmatd_keep_evidence(vm, c);
            g_error("guest did not finish within %u s", dmatd_timeout_s);
        }
        if (poll(&pfd, 1, MIN(left, quiet)) <= 0) {
            if (dmatd_powered_off(vm, c)) {
                return;
            }
            continue;
        }
        n = read(vm->console_fd, buf, sizeof(buf));
        if (n <= 0) {
            dmatd_dump_console(vm);
            dmatd_keep_evidence(vm, c);
            g_error("guest console closed before the guest powered off");
        }
        dmatd_feed(vm, buf, n);
    }
}

/*
 * The guest's console, before QEMU starts: its far end here, and the
 * -chardev that QEMU opens (id ser0).  Returns the socket to accept() on,
 * or -1 for a pipe.
 *
 * QEMU's 16550 gives the chardev a byte per write().  When the chardev
 * takes no more, the UART keeps 16 bytes in its FIFO, and the kernel's
 * console waits for room for only about 16 character times before it
 * writes anyway: the UART then drops the FIFO's oldest byte, which may be
 * user space's.  A unix socket is full after about 280 one-byte writes
 * (each is an skb of its own, counted at its true size against the send
 * buffer): a reader busy elsewhere for as long as the guest takes to
 * print 280 bytes lost console bytes.  A pipe merges small writes into its
 * pages; at DMATD_CONSOLE_PIPE it holds all a case prints, and the guest
 * never waits for this reader.  The socket stays for the negative control
 * (negative/console-socket).
 */
static char *dmatd_console_open(DmatdVm *vm, const char *dir, int *listen_fd)
{
    g_autofree char *base = g_build_filename(dir, "console", NULL);
    g_autofree char *in = g_strconcat(base, ".in", NULL);
    g_autofree char *out = g_strconcat(base, ".out", NULL);

    if (vm->gcase->console_socket) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        g_autofree char *path = g_strconcat(base, ".sock", NULL);

        g_assert_cmpuint(strlen(path), <, sizeof(sa.sun_path));
        strcpy(sa.sun_path, path);
        *listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
        g_assert_cmpint(*listen_fd, >=, 0);
        g_assert_cmpint(bind(*listen_fd, (struct sockaddr *)&sa,
                             sizeof(sa)), ==, 0);
        g_assert_cmpint(listen(*listen_fd, 1), ==, 0);
        return g_strdup_printf("socket,id=ser0,path=%s", path);
    }

    *listen_fd = -1;
    g_assert_cmpint(mkfifo(in, 0600), ==, 0);
    g_assert_cmpint(mkfifo(out, 0600), ==, 0);
    /*
     * Neither open waits for QEMU: O_NONBLOCK for the end we read (then
     * reads block again), O_RDWR for the one we write.  QEMU opens both
     * O_RDWR; it is then the only writer of console.out, so its exit is
     * an end of file here.
     */
    vm->console_fd = open(out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    g_assert_cmpint(vm->console_fd, >=, 0);
    g_assert_cmpint(fcntl(vm->console_fd, F_SETFL, 0), ==, 0);
    vm->input_fd = open(in, O_RDWR | O_CLOEXEC);
    g_assert_cmpint(vm->input_fd, >=, 0);
    if (fcntl(vm->console_fd, F_SETPIPE_SZ, DMATD_CONSOLE_PIPE) < 0) {
        dmatd_msg("console: the pipe stays %d bytes, not %d: %s (raise "
                  "/proc/sys/fs/pipe-max-size)",
                  fcntl(vm->console_fd, F_GETPIPE_SZ), (int)DMATD_CONSOLE_PIPE,
                  g_strerror(errno));
    }
    return g_strdup_printf("pipe,id=ser0,path=%s", base);
}

/* Once QEMU runs: its socket connection, and the names go. */
static void dmatd_console_connect(DmatdVm *vm, const char *dir, int listen_fd)
{
    static const char *const names[] = {
        "console.in", "console.out", "console.sock",
    };
    size_t i;

    if (listen_fd >= 0) {
        vm->console_fd = accept(listen_fd, NULL, NULL);
        g_assert_cmpint(vm->console_fd, >=, 0);
        vm->input_fd = vm->console_fd;
        close(listen_fd);
    }
    for (i = 0; i < ARRAY_SIZE(names); i++) {
        g_autofree char *path = g_build_filename(dir, names[i], NULL);

        unlink(path);
    }
}

static uint8_t *dmatd_map_node(const char *path, uint64_t size, int *fd)
{
    void *p;

    *fd = open(path, O_RDONLY);
    g_assert_cmpint(*fd, >=, 0);
    p = mmap(NULL, size, PROT_READ, MAP_SHARED, *fd, 0);
    g_assert(p != MAP_FAILED);
    return p;
}

/* What the test reads from a guest, before it boots one. */
static void dmatd_vm_init_state(DmatdVm *vm)
{
    vm->console = g_string_new(NULL);
    vm->output = g_string_new(NULL);
    vm->kmsg = g_string_new(NULL);
    vm->cut = g_string_new(NULL);
    vm->dma_log = g_string_new(NULL);
    vm->pending = g_string_new(NULL);
    vm->errors = g_ptr_array_new_with_free_func(g_free);
    vm->bufs = g_ptr_array_new_with_free_func(dmatd_buf_free);
    vm->tool_status = -1;
    vm->maps = g_array_new(false, true, sizeof(DmatdDmaMap));
    vm->ranges = g_array_new(false, true, sizeof(DmatdRun));
    vm->map_overrun = -1;
}

static void dmatd_vm_free_state(DmatdVm *vm)
{
    g_string_free(vm->console, true);
    g_string_free(vm->output, true);
    g_string_free(vm->kmsg, true);
    g_string_free(vm->cut, true);
    g_string_free(vm->dma_log, true);
    g_string_free(vm->pending, true);
    g_ptr_array_free(vm->errors, true);
    g_ptr_array_free(vm->bufs, true);
    g_array_free(vm->maps, true);
    g_array_free(vm->ranges, true);
    g_free(vm->container);
    if (vm->cur) {
        dmatd_buf_free(vm->cur);
    }
}

static DmatdVm *dmatd_vm_start(const DmatdGuestCase *c)
{
    DmatdVm *vm = g_new0(DmatdVm, 1);
    g_autofree char *dir = g_dir_make_tmp("dt-guest-XXXXXX", NULL);
    g_autofree char *append = NULL;
    g_autofree char *run = NULL;
    g_autofree char *rootfs_args = NULL;
    g_autofree char *rootfs_append = NULL;
    g_autofree char *console = NULL;
    QDict *rsp;
    int i, listen_fd;

    vm->node_size = c->node_mb * MiB;
    vm->below_4g = MIN(DMATD_NODES * vm->node_size,
                       DMATD_NODES * vm->node_size >= DMATD_Q35_LOWMEM_SMALL ?
                       DMATD_Q35_LOWMEM_LARGE : DMATD_Q35_LOWMEM_SMALL);
    vm->gcase = c;
    dmatd_vm_init_state(vm);
    vm->deadline = g_get_monotonic_time() +
                   (gint64)dmatd_timeout_s * G_USEC_PER_SEC;

    /* Ready before QEMU starts: nothing it prints at boot is lost. */
    console = dmatd_console_open(vm, dir, &listen_fd);

    /* Guest RAM in files the oracle can map and scan at memory speed. */
    for (i = 0; i < DMATD_NODES; i++) {
        vm->mem_path[i] = g_strdup_printf("/dev/shm/dt-guest-%d-%d",
                                          getpid(), i);
    }

    run = c->run ? g_strdup(c->run)
                 : g_strdup_printf("%s --handshake %s", c->tool ?: "dt-pin",
                                   c->tool_args);
    /*
     * The host's / read-only over virtio-9p, as the developer VM's
     * --rootfs host does (guest/initramfs/init); dt-dpdk's directory on
     * PATH.
     */
    if (c->rootfs_host) {
        g_autofree char *tool_dir = g_path_get_dirname(dmatd_dpdk_tool);

        rootfs_args = g_strdup("-fsdev local,id=hostroot,path=/,"
                               "security_model=none,readonly=on,"
                               "multidevs=remap "
                               "-device virtio-9p-pci,fsdev=hostroot,"
                               "mount_tag=hostroot");
        rootfs_append = g_strdup_printf("dt.rootfs=host dt.path=%s",
                                        tool_dir);
    }
    /* loglevel=5: warnings reach the console (quiet would hide WARN()). */
    append = g_strdup_printf("console=ttyS0 panic=-1 loglevel=5 "
                             "vfio.enable_unsafe_noiommu_mode=1 "
                             "hugepages=%u %s %s dt.run=\"%s\"",
                             c->hugepages, c->kernel_args ?: "",
                             rootfs_append ?: "", run);
    /*
     * The developer VM's machine (scripts/dmatd_vm/machine.py): no i8042
     * (Linux's PS/2 probe costs 0.2 s of each boot under TCG), no SATA
     * and no SMM (SeaBIOS's AHCI probe and SMM set-up: 0.17 s).
     */
    vm->qts = qtest_initf(
        "-accel %s -machine q35,i8042=off,sata=off,smm=off -cpu %s "
        "-nodefaults "
        "-m %" PRIu64 "M -smp 2,sockets=2,cores=1,threads=1 "
        "-object memory-backend-file,id=m0,size=%" PRIu64 "M,"
        "mem-path=%s,share=on "
        "-object memory-backend-file,id=m1,size=%" PRIu64 "M,"
        "mem-path=%s,share=on "
        "-numa node,nodeid=0,cpus=0,memdev=m0 "
        "-numa node,nodeid=1,cpus=1,memdev=m1 "
        "-chardev %s -serial chardev:ser0 "
        "-device pcie-root-port,id=rp0,bus=pcie.0,chassis=1 "
        "-device dma-testdev,id=dt0,bus=rp0%s %s %s "
        "-kernel %s -initrd %s -append '%s' -no-reboot "
        "-action shutdown=pause",
        /*
         * TCG runs REP STOSB/MOVSB a byte at a time: without ERMS and
         * FSRM the guest zeroes and copies pages with wider moves.
         */
        dmatd_accel,
        strcmp(dmatd_accel, "tcg") ? "max" : "max,erms=off,fsrm=off",
        DMATD_NODES * c->node_mb, c->node_mb, vm->mem_path[0],
        c->node_mb, vm->mem_path[1], console,
        c->device_props ? c->device_props : "",
        c->extra_args ? c->extra_args : "", rootfs_args ?: "",
        c->selftest_kernel ? dmatd_kernel_selftest :
        c->compat_kernel ? dmatd_kernel_compat : dmatd_kernel, dmatd_initrd,
        append);
    dmatd_console_connect(vm, dir, listen_fd);

    for (i = 0; i < DMATD_NODES; i++) {
        vm->ram[i] = dmatd_map_node(vm->mem_path[i], vm->node_size,
                                    &vm->ram_fd[i]);
        unlink(vm->mem_path[i]);
    }
    rmdir(dir);

    /* Say which accelerator really runs the guest. */
    rsp = qtest_qmp(vm->qts, "{'execute': 'query-kvm'}");
    dmatd_msg("accelerator: %s (asked for %s)",
              qdict_get_bool(qdict_get_qdict(rsp, "return"), "enabled") ?
              "kvm" : "tcg", dmatd_accel);
    qobject_unref(rsp);
    return vm;
}

static void dmatd_vm_stop(DmatdVm *vm)
{
    int i;

    dmatd_qtest_quit(vm->qts);
    for (i = 0; i < DMATD_NODES; i++) {
        munmap(vm->ram[i], vm->node_size);
        close(vm->ram_fd[i]);
        g_free(vm->mem_path[i]);
    }
    if (vm->input_fd != vm->console_fd) {
        close(vm->input_fd);
    }
    close(vm->console_fd);
    dmatd_vm_free_state(vm);
    g_free(vm);
}

/*
 * Before every verdict: the findings so far, on stdout and in the
 * evidence, which an assertion after this may be the last chance to
 * write (the checks of a case's kind run after dmatd_run_case() first
 * wrote it).
 */
static void dmatd_report_errors(DmatdVm *vm)
{
    guint i;

    /* The first findings name the problem; thousands more bury it. */
    for (i = 0; i < vm->errors->len && i < 64; i++) {
        dmatd_msg("oracle: %s", (char *)vm->errors->pdata[i]);
    }
    if (vm->errors->len) {
        dmatd_msg("oracle: %u findings in all", vm->errors->len);
    }
    if (vm->gcase) {
        dmatd_keep_evidence(vm, vm->gcase);
    }
}

/* Did the oracle name exactly this transfer offset, and nothing else? */
static bool dmatd_errors_only_offsets(DmatdVm *vm, uint64_t a, uint64_t b)
{
    g_autofree char *sa = g_strdup_printf("offset 0x%" PRIx64 " ", a);
    g_autofree char *sb = g_strdup_printf("offset 0x%" PRIx64 " ", b);
    bool seen_a = false;
    guint i;

    for (i = 0; i < vm->errors->len; i++) {
        const char *e = vm->errors->pdata[i];

        if (strstr(e, sa)) {
            seen_a = true;
        } else if (!strstr(e, sb)) {
            return false;
        }
    }
    return seen_a;
}

/*
 * Oracle for Linux's pci_endpoint kselftest (personality=epf-test)
 */

/* The device's PCI address in the guest: behind rp0, bus 1. */
#define DMATD_GUEST_BDF         "0000:01:00.0"

/*
 * Skips that are allowed, each for a reason
 * docs/system/devices/dma-testdev.rst explains: one MSI vector without
 * interrupt remapping on x86, MSI-X vectors past the table, and the two
 * features the personality does not offer (BAR subrange mapping, the
 * doorbell).
 */
static bool dmatd_epf_skip_ok(const char *name, const char *reason)
{
    unsigned n;

    if (g_str_has_suffix(name, ".MSI_TEST")) {
        return sscanf(reason, "MSI%u is disabled", &n) == 1 && n >= 2;
    }
    if (g_str_has_suffix(name, ".MSIX_TEST")) {
        return sscanf(reason, "MSI-X%u is disabled", &n) == 1 && n >= 2;
    }
    if (g_str_has_suffix(name, ".BAR_SUBRANGE_TEST")) {
        return !strcmp(reason, "Subrange map is not supported");
    }
    if (g_str_has_suffix(name, ".DOORBELL_TEST")) {
        return !strcmp(reason, "Doorbell test is not supported");
    }
    return false;
}

/*
 * Read a kselftest's KTAP in @text: every case must pass, or skip for a
 * reason @skip_ok allows, and no sub-step may have failed (a SKIP after a
 * failed MSI vector would hide the failure); no @skip_ok: no skip is
 * allowed.  A failed case's finding carries the "# " lines it printed
 * since its "#  RUN" line (the harness's and its own messages).  Stops at
 * an "@dt selftest name=" line.  Returns the cases.
 */
typedef bool DmatdSkipOk(const char *name, const char *reason);

/*
 * Where @suite's output starts: its last "@dt selftest-begin" line, of
 * exactly that name ("iommufd", not "iommufd_fail_nth"); else the whole
 * console.
 */
static const char *dmatd_suite_start(DmatdVm *vm, const char *suite)
{
    g_autofree char *begin = g_strdup_printf("@dt selftest-begin name=%s",
                                             suite);
    const char *from = vm->output->str, *p;

    for (p = strstr(vm->output->str, begin); p;
         p = strstr(p + 1, begin)) {
        if (strchr("\r\n", p[strlen(begin)])) {
            from = p;
        }
    }
    return from;
}

static unsigned dmatd_read_ktap(DmatdVm *vm, const char *text,
                                const char *suite, DmatdSkipOk *skip_ok)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autoptr(GString) msgs = g_string_new(NULL);
    unsigned cases = 0, passed = 0, skipped = 0;
    const char *totals = NULL;
    char **l;

    for (l = lines; *l; l++) {
        /* The serial console ends lines with CR LF. */
        const char *line = g_strchomp(*l), *name, *skip;
        g_autofree char *id = NULL;
        bool ok;

        if (g_str_has_prefix(line, "@dt selftest name=")) {
            break;
        }
        if (strstr(line, "# Totals:")) {
            totals = strstr(line, "# Totals:");
        }
        if (strstr(line, "Test failed for") || strstr(line, "test failed")) {
            dmatd_error(vm, "kselftest %s: %s", suite, line);
        }
        if (g_str_has_prefix(line, "#  RUN ")) {
            g_string_truncate(msgs, 0);
            continue;
        }
        if (g_str_has_prefix(line, "# ") && !strstr(line, "  OK  ") &&
            !strstr(line, "  FAIL  ")) {
            g_string_append_printf(msgs, "%s%s", msgs->len ? " | " : "",
                                   line + 2);
            continue;
        }
        ok = g_str_has_prefix(line, "ok ");
        if (!ok && !g_str_has_prefix(line, "not ok ")) {
            continue;
        }
        name = strchr(line + (ok ? 3 : 7), ' ');
        if (!name) {
            continue;
        }
        name++;
        skip = strstr(name, " # SKIP");
        id = g_strstrip(skip ? g_strndup(name, skip - name) : g_strdup(name));
        cases++;
        if (!ok) {
            dmatd_error(vm, "kselftest %s: %s failed%s%s", suite, id,
                        msgs->len ? ": " : "", msgs->str);
        } else if (skip) {
            g_autofree char *reason = g_strstrip(g_strdup(skip + 7));

            skipped++;
            if (!skip_ok || !skip_ok(id, reason)) {
                dmatd_error(vm, "kselftest %s: %s skipped (%s), which is not "
                            "an allowed skip", suite, id, reason);
            }
        } else {
            passed++;
        }
        g_string_truncate(msgs, 0);
    }
    if (!totals) {
        totals = "no Totals line";
    }
    dmatd_msg("kselftest %s: %u cases, %u passed, %u skipped; %s", suite,
              cases, passed, skipped, totals);
    if (!g_str_has_prefix(totals, "# Totals:")) {
        dmatd_error(vm, "kselftest %s: no '# Totals:' line: it did not "
                    "finish", suite);
    }
    return cases;
}

/* @suite's KTAP, as the guest printed it (see dmatd_read_ktap()). */
static unsigned dmatd_check_ktap(DmatdVm *vm, const char *suite,
                                 DmatdSkipOk *skip_ok)
{
    return dmatd_read_ktap(vm, dmatd_suite_start(vm, suite), suite, skip_ok);
}

/* N of the KTAP plan "1..N" on the console; 0 if there is none. */
static unsigned dmatd_ktap_plan(DmatdVm *vm)
{
    const char *p = strstr(vm->output->str, "\n1..");

    return p ? atoi(p + 4) : 0;
}

static unsigned dmatd_epf_check_tap(DmatdVm *vm)
{
    return dmatd_check_ktap(vm, "pci_endpoint", dmatd_epf_skip_ok);
}

/*
 * Linux's iommufd selftest (iommufd/ cases), on the kernel built with
 * IOMMUFD_TEST.  It drives iommufd's mock IOMMU, not dma-testdev: what
 * this adds is that a kernel under test also passes iommufd's own suite,
 * and the kernel check (no WARN, no leak report) over all of it.  The
 * skips it may take, each for a reason docs/user-guide.rst lists.
 */
static bool dmatd_iommufd_skip_ok(const char *name, const char *reason)
{
    /* The suite's own design: these cases need a vIOMMU variant. */
    return g_str_has_prefix(name, "iommufd_viommu.no_viommu.") &&
           !strcmp(reason, "Skipping test for variant no_viommu");
}

static bool dmatd_epf_dir_ok(const char *map_dir, bool is_write)
{
    return !strcmp(map_dir, "BIDIRECTIONAL") ||
           !strcmp(map_dir, is_write ? "FROM_DEVICE" : "TO_DEVICE");
}

/*
 * Every transfer the device logged must lie inside a buffer the guest
 * kernel's DMA API mapped for this device, in a direction that allows
 * it: then the addresses are the ones the kernel handed out, and nothing
 * was read or written outside them.  Returns the transfers checked.
 */
static unsigned dmatd_epf_check_dma(DmatdVm *vm)
{
    g_autoptr(QList) log = dmatd_dma_log(vm, 1);
    unsigned checked = 0, maps = 0;
    QListEntry *le;
    guint i;

    for (i = 0; i < vm->maps->len; i++) {
        maps += !strcmp(g_array_index(vm->maps, DmatdDmaMap, i).dev,
                        DMATD_GUEST_BDF);
    }
    if (vm->map_overrun) {
        dmatd_error(vm, "dma: the guest's trace lost events (overrun %" PRId64
                    "): the DMA API record is incomplete", vm->map_overrun);
    }
    QLIST_FOREACH_ENTRY(log, le) {
        QDict *e = qobject_to(QDict, qlist_entry_obj(le));
        const char *op = qdict_get_str(e, "op");
        bool is_write = !strcmp(qdict_get_str(e, "dir"), "write");
        uint64_t addr = dmatd_get_u64(e, "addr"), len = dmatd_get_u64(e, "len");
        bool covered = false;

        if (!g_str_has_prefix(op, "epf-")) {
            continue;
        }
        checked++;
        for (i = 0; i < vm->maps->len && !covered; i++) {
            DmatdDmaMap *m = &g_array_index(vm->maps, DmatdDmaMap, i);

            covered = !strcmp(m->dev, DMATD_GUEST_BDF) && addr >= m->addr &&
                      addr + len <= m->addr + m->size &&
                      dmatd_epf_dir_ok(m->dir, is_write);
        }
        if (!covered) {
            dmatd_error(vm, "dma: cmd %" PRIu64 " %s %s 0x%" PRIx64 " len %"
                        PRIu64 ": outside every buffer the kernel mapped for "
                     DMATD_GUEST_BDF, dmatd_get_u64(e, "cmd"), op,
                     is_write ? "write" : "read", addr, len);
        }
    }
    dmatd_msg("dma: %u device transfers checked against %u DMA API "
              "mappings of " DMATD_GUEST_BDF, checked, maps);
    return checked;
}

/*
 * Linux's VFIO selftests in no-IOMMU mode (patches/linux/vfio-selftests,
 * guest/tools/dt-vfio-selftest).  Each test prints its KTAP nested one
 * level ("# " before each line): read it with that level taken off.  The
 * skips allowed, each for a reason docs/user-guide.rst lists: the IOMMU
 * modes a device without an IOMMU cannot serve, and 1 GiB hugetlb pages,
 * which the guest does not reserve.
 */
static bool dmatd_vfio_skip_ok(const char *name, const char *reason)
{
    return g_str_has_suffix(reason, ": this IOMMU mode needs an IOMMU") ||
           (strstr(name, "hugetlb_1gb") &&
            g_str_has_prefix(reason, "mmap() failed"));
}

static unsigned dmatd_vfio_check_ktap(DmatdVm *vm)
{
    g_auto(GStrv) lines = g_strsplit(vm->output->str, "\n", -1);
    g_autoptr(GString) inner = g_string_new(NULL);
    char **l;

    /* Un-nest: "# ok 3 name" is a case, "ok 1 selftests: ..." is not. */
    for (l = lines; *l; l++) {
        if (g_str_has_prefix(*l, "# ")) {
            g_string_append_printf(inner, "%s\n", *l + 2);
        }
    }
    return dmatd_read_ktap(vm, inner->str, "vfio", dmatd_vfio_skip_ok);
}

/*
 * Every transfer in the device's DMA log, of every kind (data, segment
 * lists, queue entries, completions), must lie inside a range the
 * selftest library gave the device: the "@dt dma-range" lines, each a
 * part of an IOMMU_IOAS_NOIOMMU_GET_PA run of memory it pinned.  Returns
 * the entries checked; *@copies counts the COPY commands among them.
 */
static unsigned dmatd_vfio_check_dma(DmatdVm *vm, unsigned *copies)
{
    g_autoptr(QList) log = dmatd_dma_log(vm, 1);
    g_autoptr(GHashTable) copy_cmds = g_hash_table_new(NULL, NULL);
    unsigned checked = 0, outside = 0;
    QListEntry *le;
    guint i;

    QLIST_FOREACH_ENTRY(log, le) {
        QDict *e = qobject_to(QDict, qlist_entry_obj(le));
        uint64_t addr = dmatd_get_u64(e, "addr"), len = dmatd_get_u64(e, "len");
        uint64_t cmd = dmatd_get_u64(e, "cmd");
        bool covered = false;

        if (!checked && dmatd_get_u64(e, "seq") != 1) {
            dmatd_error(vm, "dma: the DMA log lost its first entries (it "
                        "starts at seq %" PRIu64 "): give the device a "
                        "larger dma-log-size", dmatd_get_u64(e, "seq"));
        }
        checked++;
        if (!strcmp(qdict_get_str(e, "op"), dmatd_op_name(DMATD_OP_COPY))) {
            g_hash_table_add(copy_cmds, GUINT_TO_POINTER(cmd + 1));
        }
        for (i = 0; i < vm->ranges->len && !covered; i++) {
            DmatdRun *r = &g_array_index(vm->ranges, DmatdRun, i);

            covered = addr >= r->pa && addr + len <= r->pa + r->len;
        }
        if (!covered) {
            outside++;
            dmatd_error(vm, "dma: cmd %" PRIu64 " %s %s %s 0x%" PRIx64
                        "+0x%" PRIx64 ": outside every range the selftest "
                        "library gave the device", cmd,
                        qdict_get_str(e, "op"), qdict_get_str(e, "list"),
                        qdict_get_str(e, "dir"), addr, len);
        }
    }
    *copies = g_hash_table_size(copy_cmds);
    dmatd_msg("dma: %u device transfers (%u COPY commands) checked against "
              "%u ranges of %u tests: %u outside", checked, *copies,
              vm->ranges->len, vm->selftests, outside);
    return checked;
}

/*
 * What the guest kernel itself reported: a WARN(), BUG(), oops, panic,
 * refcount or list corruption, lockup, stall or leak on the console fails
 * the case whatever the tools said.
 */
static void dmatd_check_kernel(DmatdVm *vm)
{
    /*
     * WARN() in 7.3 prints "WARNING: <file>:<line> at <func>, CPU#<n>:
     * <comm>/<pid>" (older kernels "WARNING: CPU: <n> PID: ..."), after
     * a "cut here" line: a message that starts with "WARNING: " is one.
     */
    static const char *const markers[] = {
        "[ cut here ]", "BUG: ", "Oops: ", "Oops - ", "Kernel panic",
        "general protection fault", "refcount_t: ", "UBSAN: ",
        "new suspected memory leak", "list_add corruption",
        "list_del corruption", "blocked for more than", "detected stall",
        "Bad page",
    };
    g_auto(GStrv) lines = g_strsplit(vm->kmsg->str, "\n", -1);
    guint found = 0, i;
    char **l;

    /* Every record, also one that broke into a line of the tool's. */
    for (l = lines; *l; l++) {
        const char *msg = strstr(*l, "] ");

        if (!msg) {
            continue;
        }
        for (i = 0; i < ARRAY_SIZE(markers); i++) {
            if (strstr(msg, markers[i])) {
                break;
            }
        }
        if (i == ARRAY_SIZE(markers) && !g_str_has_prefix(msg + 2,
                                                          "WARNING: ")) {
            continue;
        }
        if (found++ < 8) {
            dmatd_error(vm, "kernel: %s", g_strchomp(*l));
        }
    }
    if (found > 8) {
        dmatd_error(vm, "kernel: %u such lines in all", found);
    }
}

/*
 * The case exists to put the buffer where a PA needs more than 32 bits:
 * the tag scan must have found every page there, else it proves nothing.
 */
static void dmatd_check_above_4g(DmatdVm *vm)
{
    guint i;
    uint64_t p;

    if (!vm->bufs->len) {
        dmatd_error(vm, "above 4 GiB: no buffer was checked");
    }
    for (i = 0; i < vm->bufs->len; i++) {
        DmatdBuf *b = vm->bufs->pdata[i];

        for (p = 0; p < b->npages; p++) {
            if (b->page_gpa[p] == DMATD_NONE || b->page_gpa[p] < 4 * GiB) {
                dmatd_error(vm, "%s: page %" PRIu64 " at 0x%" PRIx64 ", not "
                            "above 4 GiB", b->name, p, b->page_gpa[p]);
            }
        }
        dmatd_msg("%s: all %" PRIu64 " pages above 4 GiB, the first at "
                  "0x%" PRIx64, b->name, b->npages, b->page_gpa[0]);
    }
}

/* Where a failed case leaves its console, findings and DMA log. */
static char *dmatd_evidence_dir(const DmatdGuestCase *c)
{
    const char *base = getenv("DT_GUEST_EVIDENCE");
    g_autofree char *name = g_strdelimit(g_strdup(c->name), "/", '-');

    return g_build_filename(base ?: g_get_tmp_dir(),
                            base ? name : "dma-testdev-evidence",
                            base ? NULL : name, NULL);
}

static void dmatd_keep_evidence(DmatdVm *vm, const DmatdGuestCase *c)
{
    g_autofree char *dir = dmatd_evidence_dir(c);
    g_autofree char *console = g_build_filename(dir, "console.log", NULL);
    g_autofree char *findings = g_build_filename(dir, "findings.txt", NULL);
    g_autofree char *log = g_build_filename(dir, "dma-log.jsonl", NULL);
    g_autoptr(GString) text = g_string_new(NULL);
    guint i;

    for (i = 0; i < vm->errors->len; i++) {
        g_string_append_printf(text, "%s\n", (char *)vm->errors->pdata[i]);
    }
    if (g_mkdir_with_parents(dir, 0755) ||
        !g_file_set_contents(console, vm->console->str, vm->console->len,
                             NULL) ||
        !g_file_set_contents(findings, text->str, text->len, NULL) ||
        !g_file_set_contents(log, vm->dma_log->str, vm->dma_log->len, NULL)) {
        dmatd_msg("evidence: cannot write %s: %s", dir, strerror(errno));
    }
}

static void dmatd_drop_evidence(const DmatdGuestCase *c)
{
    g_autofree char *dir = dmatd_evidence_dir(c);
    static const char *const files[] = {
        "console.log", "findings.txt", "dma-log.jsonl",
    };
    guint i;

    for (i = 0; i < ARRAY_SIZE(files); i++) {
        g_autofree char *f = g_build_filename(dir, files[i], NULL);

        unlink(f);
    }
    rmdir(dir);
}

/* A line of the console burst: count it. */
static void dmatd_burst_seen(GHashTable *seen, const char *line)
{
    g_autofree char *l = g_strchomp(g_strdup(line));
    guint n;

    if (g_str_has_prefix(l, "dt-console ")) {
        n = GPOINTER_TO_UINT(g_hash_table_lookup(seen, l));
        g_hash_table_insert(seen, g_steal_pointer(&l),
                            GUINT_TO_POINTER(n + 1));
    }
}

/*
 * The console burst: each of its user lines and kernel records must have
 * arrived exactly once, whole.  One finding says how many did not.
 */
static unsigned dmatd_check_console_burst(DmatdVm *vm)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash,
                                                       g_str_equal,
                                                       g_free, NULL);
    g_auto(GStrv) out = g_strsplit(vm->output->str, "\n", -1);
    g_auto(GStrv) kmsg = g_strsplit(vm->kmsg->str, "\n", -1);
    g_autofree char *first = NULL;
    unsigned bad = 0, i;
    char **l;

    for (l = out; *l; l++) {
        dmatd_burst_seen(seen, *l);
    }
    for (l = kmsg; *l; l++) {
        const char *text = strstr(*l, "] ");

        if (text) {
            dmatd_burst_seen(seen, text + 2);
        }
    }
    for (i = 0; i < 2 * DMATD_BURST_LINES; i++) {
        g_autofree char *want = g_strdup_printf("dt-console %c%u %s",
                                                i % 2 ? 'k' : 'u', i / 2,
                                                DMATD_BURST_FILL);
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(seen, want));

        if (n != 1) {
            bad++;
            if (!first) {
                first = g_strdup_printf("'%s' %u times", want, n);
            }
        }
    }
    if (bad) {
        dmatd_error(vm, "console: %u of %u lines of the burst did not arrive "
                    "whole, once (first: %s)", bad, 2 * DMATD_BURST_LINES,
                    first);
    }
    return bad;
}

/* A case that must pass: no finding, and the tool itself exited 0. */
static void dmatd_assert_clean(DmatdVm *vm)
{
    dmatd_report_errors(vm);
    if (vm->tool_status || vm->errors->len) {
        dmatd_dump_console(vm);
    }
    g_assert_cmpuint(vm->errors->len, ==, 0);
    g_assert_cmpint(vm->tool_status, ==, 0);
}

/*
 * A negative control's findings: each that starts with "dma: " must match
 * the glob @dma_what (what the control made the device do), every other
 * one contain @other (what the tool reported of it).  The tool must have
 * failed.  Returns the DMA findings, at least one.
 */
static unsigned dmatd_assert_dma_control(DmatdVm *vm, const char *dma_what,
                                         const char *other)
{
    unsigned dma_errors = 0;
    guint i;

    dmatd_report_errors(vm);
    for (i = 0; i < vm->errors->len; i++) {
        const char *e = vm->errors->pdata[i];

        if (g_str_has_prefix(e, "dma: ")) {
            g_assert_true(g_pattern_match_simple(dma_what, e));
            dma_errors++;
        } else {
            g_assert_nonnull(strstr(e, other));
        }
    }
    g_assert_cmpuint(dma_errors, >, 0);
    g_assert_cmpint(vm->tool_status, !=, 0);
    return dma_errors;
}

static void dmatd_run_case(const DmatdGuestCase *c)
{
    DmatdVm *vm;
    DmatdBuf *b;
    guint i, nbufs, twice = 0;
    /* Counted first, asserted after the findings are reported and kept. */
    unsigned cases, transfers;

    vm = dmatd_vm_start(c);
    dmatd_run_console(vm, c);
    /*
     * The kernel's last record (kernel_power_off()): the console was read
     * to its end, so no record before it can have been missed.
     */
    if (!strstr(vm->kmsg->str, "] " DMATD_LAST_RECORD)) {
        dmatd_error(vm, "console: the guest's last record, \"%s\", never "
                    "came", DMATD_LAST_RECORD);
    }
    nbufs = vm->bufs->len;
    if (c->expect != DMATD_EXPECT_KERNEL_WARNING) {
        dmatd_check_kernel(vm);
    }
    if (c->above_4g) {
        dmatd_check_above_4g(vm);
    }
    if (c->container && g_strcmp0(vm->container, c->container)) {
        dmatd_error(vm, "the legacy container was served by %s, not by %s",
                    vm->container ?: "(no report)", c->container);
    }
    /* Written now: a failed assertion below ends the process. */
    dmatd_keep_evidence(vm, c);

    switch (c->expect) {
    case DMATD_EXPECT_PASS:
        dmatd_report_errors(vm);
        if (vm->tool_status) {
            dmatd_dump_console(vm);
        }
        g_assert_cmpint(vm->tool_status, ==, 0);
        g_assert_cmpuint(vm->errors->len, ==, 0);
        for (i = 0; i < nbufs; i++) {
            b = vm->bufs->pdata[i];
            g_assert_true(b->passed);
            dmatd_msg("%s: 0x%" PRIx64 " bytes, %u runs, pass", b->name,
                      b->len, b->runs->len);
        }
        break;
    case DMATD_EXPECT_MISDIRECT:
        /*
         * Negative control: the device sent the word at DMATD_MISDIRECT_OFF
         * one page too far, over the word that belongs there.  The oracle
         * must name exactly those two offsets.
         */
        dmatd_report_errors(vm);
        g_assert_cmpuint(nbufs, ==, 1);
        g_assert_cmpuint(vm->errors->len, >, 0);
        g_assert_true(dmatd_errors_only_offsets(
            vm, DMATD_MISDIRECT_OFF, DMATD_MISDIRECT_OFF + DMATD_PAGE));
        break;
    case DMATD_EXPECT_EPF:
        /*
         * The unmodified kselftest passes, and the device's DMA log shows
         * only transfers inside what the kernel's DMA API mapped.  Its 6
         * data cases move 5 sizes each, COPY reading and writing.
         */
        cases = dmatd_epf_check_tap(vm);
        transfers = dmatd_epf_check_dma(vm);
        dmatd_assert_clean(vm);
        g_assert_cmpuint(cases, >=, 23);
        g_assert_cmpuint(transfers, >=, 40);
        break;
    case DMATD_EXPECT_EPF_MISDIRECT: {
        unsigned dma_errors;

        /*
         * Negative control: endpoint READs fetch one word from a page
         * past the source buffer.  The DMA oracle must flag exactly those
         * 8-byte reads, and the kselftest its WRITE_TEST (the CRC breaks).
         */
        dmatd_epf_check_tap(vm);
        dmatd_epf_check_dma(vm);
        dma_errors = dmatd_assert_dma_control(
            vm, "dma: cmd * epf-read read 0x* len 8: *", "WRITE_TEST");
        dmatd_msg("negative control: %u stray reads flagged",
                  dma_errors);
        break;
    }
    case DMATD_EXPECT_IOMMUFD_SELFTEST:
        cases = dmatd_check_ktap(vm, "iommufd", dmatd_iommufd_skip_ok);
        dmatd_assert_clean(vm);
        g_assert_cmpuint(cases, >=, 100);
        break;
    case DMATD_EXPECT_KTAP_FAIL:
        /*
         * Negative control of the KTAP reader: iommufd's suite on a kernel
         * without IOMMUFD_TEST, where its mock-domain cases fail.  Every
         * finding must be a failed case, and there must be some.
         */
        dmatd_check_ktap(vm, "iommufd", dmatd_iommufd_skip_ok);
        dmatd_report_errors(vm);
        g_assert_cmpuint(vm->errors->len, >, 0);
        for (i = 0; i < vm->errors->len; i++) {
            const char *e = vm->errors->pdata[i];

            g_assert_true(g_str_has_prefix(e, "kselftest iommufd: "));
            g_assert_true(g_str_has_suffix(e, " failed") ||
                          strstr(e, " failed: "));
        }
        g_assert_cmpint(vm->tool_status, !=, 0);
        dmatd_msg("negative control: %u failed cases seen", vm->errors->len);
        break;
    case DMATD_EXPECT_VFIO_SELFTEST: {
        unsigned copies;

        /*
         * The four tests pass in no-IOMMU mode, and every DMA the device
         * did went where the library pointed it, inside pinned memory.
         */
        cases = dmatd_vfio_check_ktap(vm);
        transfers = dmatd_vfio_check_dma(vm, &copies);
        dmatd_assert_clean(vm);
        g_assert_cmpuint(transfers, >=, 100);
        g_assert_cmpuint(vm->selftests, ==, 4);
        g_assert_cmpuint(cases, >=, 23);
        g_assert_cmpuint(copies, >=, 100);
        break;
    }
    case DMATD_EXPECT_VFIO_IGB: {
        unsigned copies;

        /*
         * The driver test with the stock igb driver on QEMU's 82576, in
         * no-IOMMU mode.  igb keeps no DMA log: its copies are checked
         * only by the selftest (memcmp); dma-testdev, idle, must have
         * done nothing at all.
         */
        cases = dmatd_vfio_check_ktap(vm);
        transfers = dmatd_vfio_check_dma(vm, &copies);
        dmatd_assert_clean(vm);
        g_assert_cmpuint(cases, >=, 7);
        g_assert_cmpuint(transfers, ==, 0);
        g_assert_cmpuint(vm->selftests, ==, 1);
        break;
    }
    case DMATD_EXPECT_VFIO_MISDIRECT: {
        unsigned copies, dma_errors = 0;
        bool send_msi_failed = false;

        /*
         * Negative control: the word send_msi's WRITE_PATTERN puts lands
         * one page too far.  The selftest must fail send_msi (and
         * mix_and_match, which sends one too), read through its KTAP: that
         * part is certain.  The DMA-log check sees the word only if the
         * next page lies outside every range of the run; the ranges are
         * merged and the driver test pins 1 GiB per case, so that is
         * chance (measured both ways).  Any DMA finding must be that
         * write, never a read or a copy.
         */
        dmatd_vfio_check_ktap(vm);
        dmatd_vfio_check_dma(vm, &copies);
        dmatd_report_errors(vm);
        for (i = 0; i < vm->errors->len; i++) {
            const char *e = vm->errors->pdata[i];

            if (g_str_has_prefix(e, "dma: ")) {
                g_assert_true(g_pattern_match_simple(
                    "dma: cmd * write-pattern dst write *", e));
                dma_errors++;
            } else if (!g_str_has_prefix(e, "kernel: ")) {
                /* A word out of every range may hit the kernel's memory. */
                g_assert_true(g_str_has_prefix(e, "kselftest vfio: "));
                send_msi_failed |= !!strstr(e, ".send_msi failed");
            }
        }
        g_assert_true(send_msi_failed);
        g_assert_cmpint(vm->tool_status, !=, 0);
        dmatd_msg("negative control: send_msi failed; %u misdirected "
                  "writes outside every range", dma_errors);
        break;
    }
    case DMATD_EXPECT_KSELFTEST: {
        unsigned tests;

        /*
         * Every test of dt-pin-abi passes: a failed one is a finding with
         * its messages, a skip is one too.  All of them ran: as many as
         * its plan said, and no fewer than when this test was written.
         */
        tests = dmatd_check_ktap(vm, "dt-pin-abi", NULL);
        dmatd_assert_clean(vm);
        g_assert_cmpuint(tests, ==, dmatd_ktap_plan(vm));
        g_assert_cmpuint(tests, >=, DMATD_ABI_TESTS);
        break;
    }
    case DMATD_EXPECT_STRAYS:
        /*
         * The tool put, in a page outside the buffer, page 0's nonce
         * without its check word (as a stray copy of the printed nonce
         * sometimes is) and two words of the pattern's shape that the
         * device never wrote (as a chance match is): the scans must have
         * seen them, and ignored them.
         */
        dmatd_report_errors(vm);
        g_assert_cmpint(vm->tool_status, ==, 0);
        g_assert_cmpuint(vm->errors->len, ==, 0);
        g_assert_cmpuint(nbufs, ==, 1);
        b = vm->bufs->pdata[0];
        g_assert_true(b->passed);
        g_assert_cmpuint(b->lone_nonces, >, 0);
        g_assert_cmpuint(b->chance_words, >=, 2);
        dmatd_msg("ignored: %" PRIu64 " lone nonces, %" PRIu64 " stray "
                  "pattern words", b->lone_nonces, b->chance_words);
        break;
    case DMATD_EXPECT_LIST_DECOY:
        /*
         * Negative control of the DMA-log check: the tool reported each
         * segment list a page away from where it is.  Every list read the
         * device logged (write and verify read one each) must be flagged,
         * and nothing else: the tool itself passed.
         */
        dmatd_report_errors(vm);
        g_assert_cmpint(vm->tool_status, ==, 0);
        g_assert_cmpuint(nbufs, ==, 1);
        g_assert_cmpuint(vm->errors->len, >=, 2);
        for (i = 0; i < vm->errors->len; i++) {
            g_assert_true(g_pattern_match_simple(
                "*: DMA log: cmd * read its *-list at 0x*, outside the "
                "segment list the tool reported (*)", vm->errors->pdata[i]));
        }
        dmatd_msg("negative control: %u list reads flagged of %" PRIu64
                  " log entries checked", vm->errors->len,
                  ((DmatdBuf *)vm->bufs->pdata[0])->log_checked);
        break;
    case DMATD_EXPECT_TAG_TWICE:
        /*
         * Negative control of the scan: a whole copy of page 0's tag
         * outside the buffer.  Page 0 is found twice, and every finding
         * is about page 0 (its run and its words are then checked
         * against whichever copy came first).
         */
        dmatd_report_errors(vm);
        g_assert_cmpuint(nbufs, ==, 1);
        g_assert_cmpuint(vm->errors->len, >, 0);
        for (i = 0; i < vm->errors->len; i++) {
            const char *e = vm->errors->pdata[i];

            g_assert_true(strstr(e, ": page 0 ") || strstr(e, "(page 0)"));
            twice += !!strstr(e, ": page 0 found twice, ");
        }
        g_assert_cmpuint(twice, >, 0);
        dmatd_msg("negative control: page 0 found twice %u times, "
                  "%u findings in all", twice, vm->errors->len);
        break;
    case DMATD_EXPECT_CONSOLE_WHOLE:
        /*
         * The reader stalled over the whole burst (the console queued all
         * of it unread), and still every line arrived whole.
         */
        dmatd_check_console_burst(vm);
        dmatd_assert_clean(vm);
        g_assert_true(vm->stalled);
        g_assert_cmpint(vm->stall_queued, >=,
                        dmatd_burst_rest() - DMATD_CONSOLE_CHUNK);
        dmatd_msg("console: %u lines whole after a %.2f s stall",
                  2 * DMATD_BURST_LINES, vm->stall_s);
        break;
    case DMATD_EXPECT_CONSOLE_LOSS: {
        unsigned bad;

        /*
         * Negative control of the burst check: over a socket, the same
         * stall loses console bytes, and that is the only finding.  The
         * socket filled long before the burst's end.
         */
        bad = dmatd_check_console_burst(vm);
        dmatd_report_errors(vm);
        g_assert_true(vm->stalled);
        g_assert_cmpint(vm->stall_queued, <,
                        dmatd_burst_rest() - DMATD_CONSOLE_CHUNK);
        g_assert_cmpint(vm->tool_status, ==, 0);
        g_assert_cmpuint(bad, >, 0);
        g_assert_cmpuint(vm->errors->len, ==, 1);
        dmatd_msg("negative control: %u of %u lines lost or damaged", bad,
                  2 * DMATD_BURST_LINES);
        break;
    }
    case DMATD_EXPECT_KERNEL_WARNING:
        /*
         * Negative control of dmatd_check_kernel(): a WARNING line on the
         * console (written to /dev/kmsg before the tool ran) fails a case
         * whose tool passed, and it is the only finding.
         */
        g_assert_cmpint(vm->tool_status, ==, 0);
        g_assert_cmpuint(vm->errors->len, ==, 0);
        dmatd_check_kernel(vm);
        dmatd_report_errors(vm);
        g_assert_cmpuint(vm->errors->len, ==, 1);
        g_assert_nonnull(strstr(vm->errors->pdata[0],
                                "] WARNING: drivers/misc/dma-testdev.c:1 at "
                                "dmatd_negative_control"));
        break;
    case DMATD_EXPECT_READ_FAIL:
        /*
         * Negative control: the device itself returned wrong SEED values;
         * the tool must count them and fail, and only for that reason.
         */
        g_assert_cmpint(vm->tool_status, ==, 1);
        g_assert_nonnull(strstr(vm->output->str,
                                "check name=remap-race result=fail"));
        g_assert_null(strstr(vm->output->str, " wrong=0 "));
        break;
    case DMATD_EXPECT_LEGACY_HAZARD: {
        uint64_t p;
        guint flagged = 0;

        /*
         * mlock() does not stop migration: the pages moved, pagemap's PA
         * went stale, and the device still read there.  The oracle must
         * flag every moved page, and only those: this is the bug
         * IOMMU_IOAS_NOIOMMU_GET_PA exists to fix.
         */
        dmatd_report_errors(vm);
        g_assert_cmpuint(nbufs, ==, 1);
        b = vm->bufs->pdata[0];
        /* The tool saw the hazard too (the pages moved, stale data). */
        g_assert_true(b->passed);
        g_assert_cmpuint(b->moved->len, >, 0);
        for (i = 0; i < b->moved->len; i++) {
            g_autofree char *needle = NULL;
            guint j;

            p = g_array_index(b->moved, uint64_t, i);
            g_assert_cmphex(b->first_gpa[p], !=, b->page_gpa[p]);
            needle = g_strdup_printf(": page %" PRIu64 " left ", p);
            for (j = 0; j < vm->errors->len; j++) {
                if (strstr(vm->errors->pdata[j], needle)) {
                    break;
                }
            }
            g_assert_cmpuint(j, <, vm->errors->len);
        }
        for (i = 0; i < vm->errors->len; i++) {
            g_assert_nonnull(strstr(vm->errors->pdata[i], " left "));
            flagged++;
        }
        dmatd_msg("legacy hazard: %u pages moved, %u DMA log findings",
                  b->moved->len, flagged);
        break;
    }
    }
    dmatd_vm_stop(vm);
    dmatd_drop_evidence(c);
}

/*
 * Whether case C needs the kernel KIND (default, compat or selftest): the
 * one it boots, and for negative/iommufd-ktap also the selftest kernel,
 * beside which its default kernel is sure to lack IOMMUFD_TEST.
 */
static bool dmatd_needs_kernel(const DmatdGuestCase *c, const char *kind)
{
    const char *boots = c->selftest_kernel ? "selftest" :
                        c->compat_kernel ? "compat" : "default";

    return !strcmp(kind, boots) ||
           (c->expect == DMATD_EXPECT_KTAP_FAIL && !strcmp(kind, "selftest"));
}

/*
 * Each case runs in a process of its own: a failed assertion ends that
 * case only, and every other case still runs and reports.  A kernel
 * developer sees the whole matrix, not the first failure.
 */
static void test_guest_case(const void *data)
{
    if (!dmatd_kernel || !dmatd_initrd) {
        g_test_skip("DT_GUEST_KERNEL and DT_GUEST_INITRD are not set");
        return;
    }
    if (dmatd_needs_kernel(data, "compat") && !dmatd_kernel_compat) {
        g_test_skip("DT_GUEST_KERNEL_COMPAT is not set");
        return;
    }
    if (dmatd_needs_kernel(data, "selftest") && !dmatd_kernel_selftest) {
        g_test_skip("DT_GUEST_KERNEL_SELFTEST is not set");
        return;
    }
    if (((const DmatdGuestCase *)data)->rootfs_host && !dmatd_dpdk_tool) {
        g_test_skip("DT_GUEST_DPDK is not set (meson -Ddpdk_sdk: "
                    "scripts/fetch-dpdk.sh)");
        return;
    }
    if (g_test_subprocess()) {
        dmatd_run_case(data);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT |
                                    G_TEST_SUBPROCESS_INHERIT_STDERR);
    if (!g_test_trap_has_passed()) {
        g_autofree char *dir = dmatd_evidence_dir(data);

        dmatd_msg("evidence: %s (console.log, findings.txt, dma-log.jsonl)",
                  dir);
    }
    g_test_trap_assert_passed();
}

#define DMATD_PIN(n, args, mb, exp) \
    { .name = (n), .tool_args = (args), .node_mb = (mb), .expect = (exp) }

static const DmatdGuestCase dmatd_cases[] = {
    DMATD_PIN("cdev/4k-page", "--len 4K", 256, DMATD_EXPECT_PASS),
    DMATD_PIN("cdev/4k-1M", "--len 1M", 256, DMATD_EXPECT_PASS),
    DMATD_PIN("cdev/offset", "--len 10001 --offset 1234", 256,
              DMATD_EXPECT_PASS),
    DMATD_PIN("cdev/fixed-iova", "--len 256K --fixed-iova 0x40000000", 256,
              DMATD_EXPECT_PASS),
    DMATD_PIN("cdev/thp", "--backing thp --len 4M", 256, DMATD_EXPECT_PASS),
    { .name = "cdev/hugetlb", .tool_args = "--backing hugetlb --len 4M",
      .node_mb = 256, .hugepages = 8, .expect = DMATD_EXPECT_PASS },
    DMATD_PIN("cdev/memfd", "--backing memfd --len 1M", 256, DMATD_EXPECT_PASS),
    /* IOMMU_IOAS_MAP_FILE from a non-zero file offset; hugetlb folios. */
    DMATD_PIN("cdev/memfd-offset", "--backing memfd --len 1M --file-offset 3M",
              256, DMATD_EXPECT_PASS),
    { .name = "cdev/memfd-hugetlb",
      .tool_args = "--backing memfd-hugetlb --len 4M --file-offset 2M",
      .node_mb = 256, .hugepages = 8, .expect = DMATD_EXPECT_PASS },
    DMATD_PIN("cdev/maps", "--len 64K --maps 3", 256, DMATD_EXPECT_PASS),
    DMATD_PIN("cdev/scatter", "--scatter --len 1M", 256, DMATD_EXPECT_PASS),
    /* Partial first and last pages on physically scattered frames. */
    DMATD_PIN("cdev/scatter-offset", "--scatter --len 1M --offset 1234", 256,
              DMATD_EXPECT_PASS),
    /* The pin must move the pages out of ZONE_MOVABLE (FOLL_LONGTERM). */
    { .name = "cdev/movable", .tool_args = "--len 1M --movable",
      .node_mb = 256, .kernel_args = "movablecore=50%",
      .expect = DMATD_EXPECT_PASS },
    DMATD_PIN("cdev/migrate", "--len 1M --migrate", 256, DMATD_EXPECT_PASS),
    DMATD_PIN("cdev/compact", "--len 1M --compact", 256, DMATD_EXPECT_PASS),
    /* Fork, then the parent writes: its pinned pages must stay put. */
    DMATD_PIN("cdev/fork", "--len 1M --fork", 256, DMATD_EXPECT_PASS),
    /*
     * Automatic NUMA balancing, read from node 1's CPU: pinned pages keep
     * their frames while a control buffer of plain pages moves.
     */
    DMATD_PIN("cdev/numa-balancing", "--len 1M --node 0 --numa-balancing",
              256, DMATD_EXPECT_PASS),
    /*
     * Memory offline: the ZONE_MOVABLE block the pin emptied goes offline,
     * the block under the pinned pages must not, and no page moves.
     * 384 MiB per node, kernelcore=255M: each node's ZONE_MOVABLE is two
     * whole blocks, the lower one free of boot allocations (measured).
     * Node 1: the pinned pages' block has no hole, so that the kernel's
     * answer is the page isolation's (block 0 would say EINVAL, holes).
     */
    { .name = "cdev/offline", .tool_args = "--len 1M --offline --node 1",
      .node_mb = 384, .kernel_args = "kernelcore=255M",
      .expect = DMATD_EXPECT_PASS },
    DMATD_PIN("cdev/256M", "--len 256M", 1024, DMATD_EXPECT_PASS),
    /*
     * One physically contiguous run of 4 GiB: four 1 GiB pages reserved
     * at boot on node 1 (all above 4 GiB), handed out lowest first.
     * Where a length or an address is kept in 32 bits on the pin,
     * translate or DMA path, this run shows it: the host checks the run
     * against the pages it found, and every pattern word of the one
     * 4 GiB WRITE_PATTERN.
     */
    { .name = "cdev/run-4g",
      .tool_args = "--backing hugetlb-1g --len 4G --node 1 --min-run 4G",
      .node_mb = 5120, .kernel_args = "hugepagesz=1G hugepages=1:4",
      .device_props = ",max-transfer=0x100000000",
      .expect = DMATD_EXPECT_PASS },
    /* 4 GiB of RAM: node 1 is all above 4 GiB (q35's PCI hole). */
    { .name = "cdev/above-4g", .tool_args = "--len 1M --node 1",
      .node_mb = 2048, .expect = DMATD_EXPECT_PASS, .above_4g = true },
    /* A line like WARN()'s, as 7.3 prints it (kernel/panic.c). */
    { .name = "negative/kernel-warning", .node_mb = 256,
      .run = "echo \\<4\\>WARNING: drivers/misc/dma-testdev.c:1 at "
             "dmatd_negative_control+0x0/0x10, CPU#0: sh/1 >/dev/kmsg; "
             "dt-pin --handshake --len 4K",
      .expect = DMATD_EXPECT_KERNEL_WARNING },
    /*
     * The console itself: a burst of user lines and kernel records (at
     * warning level, so that the console shows them), read late.  The
     * kernel rate-limits /dev/kmsg unless printk.devkmsg=on.
     */
    { .name = "console/burst", .run = DMATD_BURST_RUN, .node_mb = 256,
      .kernel_args = "printk.devkmsg=on",
      .expect = DMATD_EXPECT_CONSOLE_WHOLE },
    { .name = "negative/console-socket", .run = DMATD_BURST_RUN,
      .node_mb = 256, .kernel_args = "printk.devkmsg=on",
      .console_socket = true, .expect = DMATD_EXPECT_CONSOLE_LOSS },
    /* The ioctl's ABI and the life of pinned memory, a test per probe. */
    { .name = "cdev/errno", .run = "dt-pin-abi", .node_mb = 256,
      .expect = DMATD_EXPECT_KSELFTEST },
    /* The scans' controls: strays ignored, a copied tag reported. */
    DMATD_PIN("cdev/strays", "--len 64K --x-decoy strays", 256,
              DMATD_EXPECT_STRAYS),
    DMATD_PIN("negative/tag-twice", "--len 64K --x-decoy tag", 256,
              DMATD_EXPECT_TAG_TWICE),
    DMATD_PIN("negative/list-decoy", "--len 64K --x-decoy list", 256,
              DMATD_EXPECT_LIST_DECOY),
    /* THP: the page the stray word lands on is the buffer's next page. */
    { .name = "negative/misdirect", .tool_args = "--backing thp --len 64K",
      .node_mb = 256, .device_props = ",x-misdirect-offset=0x1008",
      .expect = DMATD_EXPECT_MISDIRECT },
    { .name = "legacy/hazard",
      .tool = "dt-pagemap-hazard", .tool_args = "--len 64K", .node_mb = 256,
      .container = "vfio", .expect = DMATD_EXPECT_LEGACY_HAZARD },
    /* The same with mlock(): every page moves (the tool's own check). */
    { .name = "legacy/fork", .tool_args = "--mode legacy --len 256K --fork",
      .node_mb = 256, .container = "vfio", .expect = DMATD_EXPECT_PASS },
    /* NUMA balancing moves mlocked pages: nobody asked, they go stale. */
    { .name = "legacy/numa-balancing",
      .tool_args = "--mode legacy --len 256K --node 0 --numa-balancing",
      .node_mb = 256, .container = "vfio", .expect = DMATD_EXPECT_PASS },
    /*
     * The hazard through memory offline: the mlocked buffer's block goes
     * offline, its pages move, and the device reads the stale addresses
     * (offline frames, nobody's): every page must be flagged.  The
     * layout of cdev/offline.
     */
    { .name = "legacy/offline",
      .tool_args = "--mode legacy --len 256K --offline --node 0",
      .node_mb = 384, .kernel_args = "kernelcore=255M", .container = "vfio",
      .expect = DMATD_EXPECT_LEGACY_HAZARD },
    /*
     * The second kernel: iommufd's emulation of the container
     * (IOMMUFD_VFIO_CONTAINER) serves the legacy path.
     */
    { .name = "compat/pin", .tool_args = "--mode legacy --len 1M",
      .node_mb = 256, .compat_kernel = true, .container = "iommufd",
      .expect = DMATD_EXPECT_PASS },
    { .name = "compat/hazard",
      .tool = "dt-pagemap-hazard", .tool_args = "--len 64K", .node_mb = 256,
      .compat_kernel = true, .container = "iommufd",
      .expect = DMATD_EXPECT_LEGACY_HAZARD },
    { .name = "compat/fork", .tool_args = "--mode legacy --len 256K --fork",
      .node_mb = 256, .compat_kernel = true, .container = "iommufd",
      .expect = DMATD_EXPECT_PASS },
    /*
     * MMIO reads of one function on one vCPU while the other vCPU turns
     * the second function's Memory Space off and on: no read may land
     * anywhere but its register, and QEMU must live through it.
     */
    { .name = "mmio/remap-race", .run = "dt-remap-race --seconds 20",
      .node_mb = 256,
      .extra_args = "-device pcie-root-port,id=rp1,bus=pcie.0,chassis=2 "
                    "-device dma-testdev,id=dt1,bus=rp1",
      .expect = DMATD_EXPECT_PASS },
    /* Its negative control: both functions corrupt reads of SEED. */
    { .name = "negative/remap-race", .run = "dt-remap-race --seconds 3",
      .node_mb = 256, .device_props = ",x-bad-seed-every=10000",
      .extra_args = "-device pcie-root-port,id=rp1,bus=pcie.0,chassis=2 "
                    "-device dma-testdev,id=dt1,bus=rp1,"
                    "x-bad-seed-every=10000",
      .expect = DMATD_EXPECT_READ_FAIL },
    /*
     * Linux's iommufd selftest on the kernel with IOMMUFD_TEST, and its
     * negative control: the same suite on the first kernel, which lacks
     * the mock IOMMU, so that its cases fail and the reader must say so.
     */
    { .name = "iommufd/selftest", .run = "dt-iommufd-selftest iommufd",
      .node_mb = 512, .kernel_args = "dt.hugepages=160",
      .selftest_kernel = true,
      .expect = DMATD_EXPECT_IOMMUFD_SELFTEST },
    { .name = "negative/iommufd-ktap", .run = "iommufd -f iommufd",
      .node_mb = 256, .expect = DMATD_EXPECT_KTAP_FAIL },
    /*
     * Linux's VFIO selftests, patched for no-IOMMU mode with a driver for
     * dma-testdev, and their negative control.  3 GiB: the driver test
     * pins 1 GiB per case.  The log must hold every transfer.
     */
    { .name = "vfio/selftests", .run = "dt-vfio-selftest --all",
      .node_mb = 1536, .kernel_args = "dt.hugepages=128",
      .device_props = ",dma-log-size=65536",
      .expect = DMATD_EXPECT_VFIO_SELFTEST },
    { .name = "vfio/igb", .run = "dt-vfio-selftest --id 8086:10c9 --all",
      .node_mb = 1536, .kernel_args = "dt.hugepages=128",
      .extra_args = "-device pcie-root-port,id=rp1,bus=pcie.0,chassis=2 "
                    "-device igb,bus=rp1",
      .expect = DMATD_EXPECT_VFIO_IGB },
    { .name = "negative/vfio-misdirect", .run = "dt-vfio-selftest --all",
      .node_mb = 1536, .kernel_args = "dt.hugepages=128",
      .device_props = ",dma-log-size=65536,x-misdirect-offset=0",
      .expect = DMATD_EXPECT_VFIO_MISDIRECT },
    { .name = "epf/kselftest", .run = "dt-epf-test", .node_mb = 256,
      .device_props = ",personality=epf-test", .expect = DMATD_EXPECT_EPF },
    { .name = "negative/epf-misdirect", .run = "dt-epf-test", .node_mb = 256,
      .device_props = ",personality=epf-test,x-misdirect-offset=0x1008",
      .expect = DMATD_EXPECT_EPF_MISDIRECT },
};

/*
 * DPDK's own no-IOMMU path (guest/tools/dt-dpdk.c: the EAL in PA mode, a
 * PCI driver for dma-testdev, DPDK's hugepage memory and its addresses)
 * on the host's root filesystem, where Debian's DPDK is.  The oracle is
 * the one of the cases above: DPDK's run is a legacy one (addresses from
 * pagemap), the iommufd one a cdev one.  32 hugepages, half on each
 * node: DPDK's memory on node 0, room on node 1 for the pages that move.
 * 512 MiB per node: the host's libraries fill the guest's page cache.
 */
#define DMATD_DPDK(n, args, ctr, exp) \
    { .name = (n), .tool = "dt-dpdk", .tool_args = (args), .node_mb = 512, \
      .hugepages = 32, .rootfs_host = true, .container = (ctr), \
      .expect = (exp) }

static const DmatdGuestCase dmatd_dpdk_cases[] = {
    /* The device writes and verifies at DPDK's addresses. */
    DMATD_DPDK("pa", "--len 64K --offset 1234", "vfio", DMATD_EXPECT_PASS),
    /* The hugepage moves; DPDK's addresses stay; the device reads there. */
    DMATD_DPDK("hazard", "--len 64K --move", "vfio",
               DMATD_EXPECT_LEGACY_HAZARD),
    /* The same program pinning with iommufd: nothing moves, all lands. */
    DMATD_DPDK("iommufd", "--iova iommufd --len 64K --move", NULL,
               DMATD_EXPECT_PASS),
};

/*
 * The console reader, without a guest: kernel records that broke into
 * the tool's lines, as in a real run (see dmatd_console_line()), fed in
 * pieces of every size.  The tool's lines must read whole, the records
 * must all reach the kernel check, and nothing may be lost.
 */
static const char dmatd_interleaved_console[] =
    "[    1.000000] Linux version 7.3.0\r\n"
    "dt-init: running: dt-vfio-selftest --all\r\n"
    "@dt selftest-begin name=vfio_dma_mapping_test\r\n"
    "# ok 1 t.iommufd.overflow # SKIP device is bound in VFIO no-IOMMU "
    "mode: this IOMMU mode needs an IOMMU[   21.025068] vfio-pci "
    "0000:01:00.0: resetting\r\n"
    "\r\n"
    "@dt dma-range pa=0x1000 len[   21.100000] WARNING: drivers/x.c:1 at "
    "f+0x0/0x10, CPU#0: sh/1\r\n"
    "[   21.100001] second record, same gap\r\n"
    "=0x2000\r\n"
    "# ok 2 t.iommufd_noiommu.overflow\r"
    "[   21.200000] vfio-pci 0000:01:00.0: reset done\r\n"
    "\n"
    "# # Totals: pass:1 fail:0 xfail:0 xpass:0 skip:1 error:0\r\n"
    "@dt selftest name=vfio_dma_mapping_test status=0\r\n"
    "@dt exit status=0\r\n";

static void test_console_interleaved(void)
{
    static const size_t chunks[] = { sizeof(dmatd_interleaved_console), 1, 3,
                                     7, 64 };
    const char *text = dmatd_interleaved_console;
    size_t len = strlen(text), i, off;
    g_autofree char *first_output = NULL;

    /* The fixture does what a real console did: records inside lines. */
    g_assert_nonnull(strstr(text, "IOMMU[   21.025068] "));
    g_assert_nonnull(strstr(text, "len[   21.100000] WARNING: "));

    for (i = 0; i < ARRAY_SIZE(chunks); i++) {
        g_auto(GStrv) kmsg = NULL;
        DmatdVm vm = { 0 };
        DmatdRun *r;

        dmatd_vm_init_state(&vm);
        for (off = 0; off < len; off += chunks[i]) {
            dmatd_feed(&vm, text + off, MIN(chunks[i], len - off));
        }
        g_assert_cmpstr(vm.console->str, ==, text);
        g_assert_cmpint(vm.tool_status, ==, 0);
        g_assert_cmpuint(vm.ranges->len, ==, 1);
        r = &g_array_index(vm.ranges, DmatdRun, 0);
        g_assert_cmphex(r->pa, ==, 0x1000);
        g_assert_cmphex(r->len, ==, 0x2000);
        g_assert_cmpuint(dmatd_vfio_check_ktap(&vm), ==, 2);
        g_assert_cmpuint(vm.errors->len, ==, 0);

        /* Five records, a line each; the WARNING is the one finding. */
        kmsg = g_strsplit(vm.kmsg->str, "\n", -1);
        g_assert_cmpuint(g_strv_length(kmsg), ==, 6);
        g_assert_cmpstr(kmsg[5], ==, "");
        dmatd_check_kernel(&vm);
        g_assert_cmpuint(vm.errors->len, ==, 1);
        g_assert_nonnull(strstr(vm.errors->pdata[0],
                                "] WARNING: drivers/x.c:1 at f+0x0/0x10"));
        g_assert_null(strstr(vm.output->str, "[   21."));
        if (!first_output) {
            first_output = g_strdup(vm.output->str);
        }
        g_assert_cmpstr(vm.output->str, ==, first_output);
        dmatd_vm_free_state(&vm);
    }
}

/*
 * Which cases this run registers.  DT_GUEST_GROUP=guest|dpdk: one group
 * (meson's two suites).  DT_GUEST_CASE=guest/cdev/4k-1M: that case alone;
 * meson declares every case as a test of its own (meson.build lists them
 * with -l), so that it runs several at a time and times each.
 * DT_GUEST_CASES="guest/cdev/4k-1M,dpdk/pa,...": only these, the subset
 * of a run (the sanitizer run's, scripts/lib/sanitizers.sh); a meson test
 * of a case it does not name then registers nothing and is reported
 * skipped.  Every name must be a case: a typo must not shrink a run
 * silently.  DT_GUEST_KERNEL_KIND=default|compat|selftest: only the cases
 * that need that kernel (dmatd_needs_kernel()); with -l,
 * scripts/lib/build.sh learns which of the kernels a selection of tests
 * needs, and builds only those.
 */
typedef struct DmatdSelection {
    const char *group;          /* NULL: both */
    const char *one;            /* DT_GUEST_CASE, or NULL */
    const char *kernel;         /* DT_GUEST_KERNEL_KIND, or NULL: any */
    GHashTable *wanted;         /* DT_GUEST_CASES, or NULL: all */
    GHashTable *known;          /* every case's name */
} DmatdSelection;

/* C == NULL: a case that boots no guest. */
static bool dmatd_selected(DmatdSelection *sel, const char *group,
                           const char *name, const DmatdGuestCase *c)
{
    g_hash_table_add(sel->known, g_strdup(name));
    return (!sel->group || !strcmp(sel->group, group)) &&
           (!sel->one || !strcmp(sel->one, name)) &&
           (!sel->kernel || (c && dmatd_needs_kernel(c, sel->kernel))) &&
           (!sel->wanted || g_hash_table_contains(sel->wanted, name));
}

static void dmatd_add_cases(DmatdSelection *sel, const char *group,
                            const DmatdGuestCase *cases, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        g_autofree char *name = g_strdup_printf("%s/%s", group,
                                                cases[i].name);
        g_autofree char *path = g_strdup_printf("dma-testdev/%s", name);

        if (dmatd_selected(sel, group, name, &cases[i])) {
            qtest_add_data_func(path, &cases[i], test_guest_case);
        }
    }
}

/* A name the selection uses that is no case: say which, and fail. */
static bool dmatd_unknown_case(DmatdSelection *sel)
{
    g_autoptr(GString) bad = g_string_new(NULL);
    GHashTableIter it;
    gpointer n;

    if (sel->wanted) {
        g_hash_table_iter_init(&it, sel->wanted);
        while (g_hash_table_iter_next(&it, &n, NULL)) {
            if (!g_hash_table_contains(sel->known, n)) {
                g_string_append_printf(bad, "%s%s", bad->len ? ", " : "",
                                       (char *)n);
            }
        }
    }
    if (sel->one && !g_hash_table_contains(sel->known, sel->one)) {
        g_string_append_printf(bad, "%s%s (DT_GUEST_CASE)",
                               bad->len ? ", " : "", sel->one);
    }
    if (bad->len) {
        fprintf(stderr, "no such guest case: %s\n", bad->str);
    }
    return bad->len;
}

int main(int argc, char **argv)
{
    const char *one = getenv("DT_GUEST_CASE");
    const char *list = getenv("DT_GUEST_CASES");
    const char *kernel = getenv("DT_GUEST_KERNEL_KIND");
    DmatdSelection sel = {
        .group = getenv("DT_GUEST_GROUP"),
        .one = one && *one ? one : NULL,
        .kernel = kernel && *kernel ? kernel : NULL,
        .known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
    };
    int rc;

    g_test_init(&argc, &argv, NULL);
    /* Only g_test_trap_assert_passed() runs here: a failure goes on. */
    if (!g_test_subprocess()) {
        g_test_set_nonfatal_assertions();
    }
    dmatd_kernel = getenv("DT_GUEST_KERNEL");
    dmatd_kernel_compat = getenv("DT_GUEST_KERNEL_COMPAT");
    dmatd_kernel_selftest = getenv("DT_GUEST_KERNEL_SELFTEST");
    dmatd_initrd = getenv("DT_GUEST_INITRD");
    dmatd_dpdk_tool = getenv("DT_GUEST_DPDK");
    dmatd_accel = getenv("DT_GUEST_ACCEL") ?: "tcg";
    /* scripts/mutate.sh: a mutant that hangs the guest costs less. */
    if (getenv("DT_GUEST_CASE_TIMEOUT")) {
        dmatd_timeout_s = atoi(getenv("DT_GUEST_CASE_TIMEOUT"));
        g_assert(dmatd_timeout_s > 0);
    }
    g_assert(!strcmp(dmatd_accel, "tcg") || !strcmp(dmatd_accel, "kvm"));
    /*
     * Not -p for the group: GLib's -p with a suite runs only the cases
     * directly in it, and the guest group's are a level further down.
     */
    g_assert(!sel.group || !strcmp(sel.group, "guest") ||
             !strcmp(sel.group, "dpdk"));
    g_assert(!sel.kernel || !strcmp(sel.kernel, "default") ||
             !strcmp(sel.kernel, "compat") || !strcmp(sel.kernel, "selftest"));
    if (list && *list) {
        g_auto(GStrv) names = g_strsplit(list, ",", -1);
        size_t i;

        sel.wanted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                           NULL);
        for (i = 0; names[i]; i++) {
            if (*g_strstrip(names[i])) {
                g_hash_table_add(sel.wanted, g_strdup(names[i]));
            }
        }
    }

    /*
     * No guest: it costs nothing, so a run of the whole group has it, and
     * it boots no kernel, so no DT_GUEST_KERNEL_KIND list names it.
     */
    if (dmatd_selected(&sel, "guest", "guest/console/interleaved", NULL)) {
        qtest_add_func("dma-testdev/guest/console/interleaved",
                       test_console_interleaved);
    }
    dmatd_add_cases(&sel, "guest", dmatd_cases, ARRAY_SIZE(dmatd_cases));
    dmatd_add_cases(&sel, "dpdk", dmatd_dpdk_cases,
                    ARRAY_SIZE(dmatd_dpdk_cases));
    rc = dmatd_unknown_case(&sel) ? 2 : g_test_run();
    g_hash_table_destroy(sel.known);
    if (sel.wanted) {
        g_hash_table_destroy(sel.wanted);
    }
    return rc;
}
