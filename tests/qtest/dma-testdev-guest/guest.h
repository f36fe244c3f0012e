/*
 * dma-testdev guest-level qtest: what its parts share.
 *
 *   ../dma-testdev-guest-test.c  the cases, their verdicts, main()
 *   vm.c         the guest's VM, the findings, the evidence
 *   console.c    the console and the protocol lines
 *   oracle.c     where each DMA landed; the kernel check
 *   selftests.c  Linux's own selftests: their KTAP and their DMA
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef DMA_TESTDEV_GUEST_H
#define DMA_TESTDEV_GUEST_H

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

/* Whether a kselftest case (KTAP) may skip for @reason. */
typedef bool DmatdSkipOk(const char *name, const char *reason);

extern const char *dmatd_kernel;
extern const char *dmatd_kernel_compat;
extern const char *dmatd_kernel_selftest;
extern const char *dmatd_initrd;
extern const char *dmatd_dpdk_tool;     /* DT_GUEST_DPDK: dt-dpdk */
extern const char *dmatd_accel;
extern unsigned dmatd_timeout_s;

/* vm.c */
void G_GNUC_PRINTF(1, 2) dmatd_msg(const char *fmt, ...);
void G_GNUC_PRINTF(2, 3) dmatd_error(DmatdVm *vm, const char *fmt, ...);
void dmatd_keep_evidence(DmatdVm *vm, const DmatdGuestCase *c);
void dmatd_vm_init_state(DmatdVm *vm);
void dmatd_vm_free_state(DmatdVm *vm);
DmatdVm *dmatd_vm_start(const DmatdGuestCase *c);
void dmatd_vm_stop(DmatdVm *vm);
void dmatd_report_errors(DmatdVm *vm);
bool dmatd_errors_only_offsets(DmatdVm *vm, uint64_t a, uint64_t b);
char *dmatd_evidence_dir(const DmatdGuestCase *c);
void dmatd_drop_evidence(const DmatdGuestCase *c);

/* console.c */
void dmatd_buf_free(gpointer p);
void dmatd_dump_console(DmatdVm *vm);
size_t dmatd_burst_rest(void);
char *dmatd_console_open(DmatdVm *vm, const char *dir, int *listen_fd);
void dmatd_feed(DmatdVm *vm, const char *buf, size_t n);
void dmatd_run_console(DmatdVm *vm, const DmatdGuestCase *c);
void dmatd_console_connect(DmatdVm *vm, const char *dir, int listen_fd);
unsigned dmatd_check_console_burst(DmatdVm *vm);

/* oracle.c */
void dmatd_scan_tags(DmatdVm *vm, DmatdBuf *b, uint64_t nonce);
void dmatd_check_runs(DmatdVm *vm, DmatdBuf *b);
uint64_t dmatd_get_u64(QDict *d, const char *key);
void dmatd_check_pattern(DmatdVm *vm, DmatdBuf *b, QList *log);
QList *dmatd_dma_log(DmatdVm *vm, uint64_t from);
void dmatd_check_log(DmatdVm *vm, DmatdBuf *b, QList *log);
void dmatd_check_kernel(DmatdVm *vm);
void dmatd_check_above_4g(DmatdVm *vm);

/* selftests.c */
unsigned dmatd_check_ktap(DmatdVm *vm, const char *suite,
                          DmatdSkipOk *skip_ok);
unsigned dmatd_ktap_plan(DmatdVm *vm);
unsigned dmatd_epf_check_tap(DmatdVm *vm);
bool dmatd_iommufd_skip_ok(const char *name, const char *reason);
unsigned dmatd_epf_check_dma(DmatdVm *vm);
unsigned dmatd_vfio_check_ktap(DmatdVm *vm);
unsigned dmatd_vfio_check_dma(DmatdVm *vm, unsigned *copies);

#endif
