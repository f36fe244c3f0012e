/*
 * QTest benchmark for dma-testdev: bulk DMA throughput of the register path
 *
 * The test plays the driver (accel qtest) on q35, where the device is a
 * PCI Express endpoint behind a pcie-root-port.  For every operation and
 * size it runs the command through DMATD_REG_CMD, whose MMIO write runs
 * the whole command before it returns.  The device's own time for it
 * comes from the device: its trace event dma_testdev_callback reports the
 * host time of every step, read here from QEMU's trace log (-trace, -D),
 * to the nanosecond and without the qtest protocol's round trip.  That
 * round trip (27 us or so on this project's machines, as long as a 1 MiB
 * command) is in the interval the test itself times around the write with
 * g_get_monotonic_time(); both are printed.  Each transfer is one segment.
 * In the same process and for the same size it times what the host CPU
 * does with memory of its own:
 *
 *   WRITE_PATTERN   memset() of a non-zero byte (the pattern is never 0)
 *   VERIFY_PATTERN  a read pass: the sum of all 64-bit words
 *   COPY            memcpy()
 *
 * and the device's own loop for the operation (dma-testdev-datapath.c,
 * linked in: generate, verify or copy, each folding every word into the
 * checksum) on memory of its own, at the device's width:
 * the most any command could reach on this host, without the DMA around
 * it.  That loop's checksum must be the device's.  It prints one "# bench"
 * line per (operation, size) with the medians, so that scripts/bench.sh
 * can put them in its table.
 *
 * Environment: DT_BENCH_MAX_MIB, the largest size in MiB (256; 1 unless
 * "-m slow" when unset, so that a plain qtest run stays short);
 * DT_BENCH_MAX_LANES, the device's x-datapath-max-lanes (4 measures the
 * AVX2 loops, 1 the one-word loops, on a host with AVX-512).
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "qemu/bswap.h"
#include "qemu/madvise.h"
#include "qemu/memalign.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "libqos/dma-testdev.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "hw/misc/dma-testdev.h"
#include "../../hw/misc/dma-testdev-datapath.h"

#define BENCH_SEED          0x5eedbe4cu
/* A host timing batch lasts at least this many bytes of work. */
#define BENCH_HOST_BATCH    (4 * MiB)

static const uint64_t bench_sizes[] = {
    4 * KiB, 64 * KiB, 1 * MiB, 16 * MiB, 256 * MiB,
};

typedef struct Bench {
    DmatdDev *d;
    uint64_t max;               /* largest size */
    uint64_t a;                 /* guest region the pattern is written to */
    uint64_t b;                 /* guest region COPY writes to */
    uint64_t list_a;            /* one-segment lists for them */
    uint64_t list_b;
    uint8_t *host_a;            /* the host's own buffers */
    uint8_t *host_b;
    unsigned lanes;             /* words a block of the device's loops */
    char *trace_path;           /* QEMU's trace log (-D) */
    FILE *trace;                /* read as QEMU appends to it */
} Bench;

/* Defeats dead-store elimination of the host's memset/memcpy. */
static volatile uint64_t bench_sink;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/* Median of @n samples (sorts them). */
static double median(int64_t *s, size_t n)
{
    qsort(s, n, sizeof(*s), cmp_i64);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
}

/*
 * One line of QEMU's trace log, if it is the device's dma_testdev_callback
 * event: who ran the step ("register", "queue", "epf"), the command's
 * sequence number, the bytes it moved and its host time in nanoseconds.
 */
static bool callback_scan(const char *line, char who[16], uint64_t *cmd,
                          uint64_t *bytes, uint64_t *ns)
{
    const char *p = strstr(line, "dma_testdev_callback ");

    return p && sscanf(p, "dma_testdev_callback %15s cmd %" SCNu64
                       " moved %" SCNu64 " bytes in %" SCNu64 " ns",
                       who, cmd, bytes, ns) == 4;
}

/* Rewrite the one-segment list at @list (reused for every size). */
static void bench_put_seg(Bench *b, uint64_t list, uint64_t addr,
                          uint64_t len)
{
    struct dma_testdev_seg seg = {
        .addr = cpu_to_le64(addr),
        .len = cpu_to_le32(len),
    };

    qtest_bufwrite(b->d->qts, list, &seg, sizeof(seg));
}

/*
 * Host memory as guest RAM is: QEMU asks for transparent huge pages for
 * it (MADV_HUGEPAGE).  On 4 KiB pages from g_malloc(), memset() of 1 MiB
 * ran at 100-108 GB/s in some runs and at 140-150 in others (likely the
 * scattered pages filling the 1 MiB L2 unevenly); on huge pages at
 * 140-145 in each.
 */
static uint8_t *bench_host_alloc(uint64_t size)
{
    uint8_t *p = qemu_memalign(2 * MiB, ROUND_UP(size, 2 * MiB));

    qemu_madvise(p, ROUND_UP(size, 2 * MiB), QEMU_MADV_HUGEPAGE);
    return p;
}

static Bench *bench_start(uint64_t max)
{
    Bench *b = g_new0(Bench, 1);
    /* Both regions, the lists and what libqos needs, rounded up. */
    uint64_t mem_mib = MAX(256, (2 * max + 64 * MiB) / MiB);
    g_autofree char *extra = NULL, *props = NULL;
    const char *lanes = g_getenv("DT_BENCH_MAX_LANES");
    QGuestAllocator *alloc;

    b->max = max;
    /* The narrower loops on a host that has wider ones: 4 (AVX2) or 1. */
    props = lanes ? g_strdup_printf(",x-datapath-max-lanes=%s", lanes) :
                    g_strdup("");
    b->trace_path = g_strdup_printf("%s/dt-bench-%d.log", g_get_tmp_dir(),
                                    getpid());
    extra = g_strdup_printf("-m %" PRIu64 "M -trace dma_testdev_callback"
                            " -D %s", mem_mib, b->trace_path);
    b->d = dmatd_start(&dmatd_q35, props, extra);
    /* QEMU opened (and emptied) it before it answered the first qtest. */
    b->trace = fopen(b->trace_path, "r");
    g_assert_nonnull(b->trace);
    alloc = &b->d->alloc;
    b->a = guest_alloc(alloc, max);
    b->b = guest_alloc(alloc, max);
    b->list_a = guest_alloc(alloc, DMATD_SEG_SIZE);
    b->list_b = guest_alloc(alloc, DMATD_SEG_SIZE);
    g_assert_cmphex(b->list_a % DMATD_SEG_ALIGN, ==, 0);
    g_assert_cmphex(b->list_b % DMATD_SEG_ALIGN, ==, 0);

    b->host_a = bench_host_alloc(max);
    b->host_b = bench_host_alloc(max);
    /* Give the host buffers their pages before anything is timed. */
    memset(b->host_a, 1, max);
    memset(b->host_b, 2, max);
    return b;
}

static void bench_stop(Bench *b)
{
    qemu_vfree(b->host_a);
    qemu_vfree(b->host_b);
    dmatd_stop(b->d);
    fclose(b->trace);
    unlink(b->trace_path);
    g_free(b->trace_path);
    g_free(b);
}

/*
 * The device's own time for register command @seq, in nanoseconds.  The
 * device writes its trace line (and QEMU flushes the log) inside the MMIO
 * write that ran the command, so the line is there once the write has
 * returned.
 */
static uint64_t bench_device_ns(Bench *b, uint64_t seq, uint64_t size)
{
    char line[512], who[16];
    uint64_t cmd, bytes, ns;

    clearerr(b->trace);         /* end of file is sticky in glibc */
    while (fgets(line, sizeof(line), b->trace)) {
        if (callback_scan(line, who, &cmd, &bytes, &ns) &&
            !strcmp(who, "register") && cmd == seq) {
            g_assert_cmpuint(bytes, ==, size);
            return ns;
        }
    }
    g_error("no dma_testdev_callback line for register command %" PRIu64
            " in %s", seq, b->trace_path);
}

/*
 * Device: one command; checks its result outside the timing.  Returns the
 * interval around the MMIO write (the command plus one qtest round trip),
 * in microseconds, and in *@own_ns the device's own time for it.
 */
static int64_t bench_cmd(Bench *b, uint32_t op, uint64_t size,
                         uint64_t csum, int64_t *own_ns)
{
    int64_t t0, t1;
    uint32_t status;

    t0 = g_get_monotonic_time();
    dmatd_wr(b->d, DMATD_REG_CMD, op);
    t1 = g_get_monotonic_time();

    status = dmatd_rd(b->d, DMATD_REG_STATUS);
    if (status != DMATD_STATUS_DONE) {
        g_error("op %u size %" PRIu64 ": status 0x%x error %s", op, size,
                status, dmatd_error_name(dmatd_rd(b->d, DMATD_REG_ERROR)));
    }
    g_assert_cmpuint(dmatd_rd64(b->d, DMATD_REG_BYTES_DONE_LO), ==, size);
    if (csum) {
        g_assert_cmphex(dmatd_rd64(b->d, DMATD_REG_CHECKSUM_LO), ==, csum);
    }
    *own_ns = bench_device_ns(b, dmatd_rd64(b->d, DMATD_REG_CMD_SEQ_LO),
                              size);
    return t1 - t0;
}

/* Host: the CPU's own pass over @size bytes, per call, in microseconds. */
static double bench_host_once(Bench *b, uint32_t op, uint64_t size,
                              uint64_t calls)
{
    const uint64_t *w = (const uint64_t *)b->host_a;
    int64_t t0, t1;
    uint64_t i, j, sum = 0;

    t0 = g_get_monotonic_time();
    for (i = 0; i < calls; i++) {
        switch (op) {
        case DMATD_OP_WRITE_PATTERN:
            /*
             * Never 0: on the project's machines (AMD EPYC) a large
             * memset() of zeros runs 1.7 times as fast as one of any
             * other byte (256 MiB: 66-73 GB/s against 37-42 GB/s), and
             * the device never writes a pattern of zeros.
             */
            memset(b->host_a, 0x5a ^ (int)(i & 15), size);
            break;
        case DMATD_OP_VERIFY_PATTERN:
            for (j = 0; j < size / 8; j++) {
                sum += w[j];
            }
            break;
        default:
            memcpy(b->host_b, b->host_a, size);
            break;
        }
        barrier();
    }
    t1 = g_get_monotonic_time();
    bench_sink += sum + b->host_a[size - 1] + b->host_b[size - 1];
    return (double)(t1 - t0) / calls;
}

/*
 * Host: the contract's checksum (dmatd_csum_term() over 64-bit words, see
 * DMATD_REG_CHECKSUM) over @size bytes, one word at a time, per call, in
 * microseconds.  The device's data path runs eight words at a time where
 * the host has AVX-512 (dma-testdev-datapath.c); this is the speed of the
 * definition without that, which is what hosts without it get.
 */
static double bench_host_csum(Bench *b, uint64_t size, uint64_t calls)
{
    int64_t t0, t1;
    uint64_t i, j, csum = DMATD_CSUM_INIT;

    t0 = g_get_monotonic_time();
    for (i = 0; i < calls; i++) {
        for (j = 0; j < size; j += 8) {
            csum += dmatd_csum_term(ldq_le_p(b->host_a + j), j / 8);
        }
    }
    t1 = g_get_monotonic_time();
    bench_sink += csum;
    return (double)(t1 - t0) / calls;
}

/*
 * Host: the device's own loop for @op (dma-testdev-datapath.c) over @size
 * bytes of the host's memory, at the device's width, per call, in
 * microseconds; @csum is what the device's CHECKSUM said for the same
 * words, and the loop must say the same.  The host's own passes before it
 * overwrote the buffers: the pattern is put back before the clock starts
 * (VERIFY_PATTERN compares against it, COPY copies it).
 */
static double bench_host_loop(Bench *b, uint32_t op, uint64_t size,
                              uint64_t calls, uint64_t csum)
{
    const DmatdWordGen gen = {
        .base = dmatd_pattern_word(BENCH_SEED, 0), .mask = UINT32_MAX,
    };
    uint64_t i, n = size / 8, got = 0;
    bool differs = false;
    int64_t t0, t1;

    g_assert_cmpuint(dmatd_words_generate(b->lanes, b->host_a, n, 0, &gen),
                     ==, csum);
    t0 = g_get_monotonic_time();
    for (i = 0; i < calls; i++) {
        switch (op) {
        case DMATD_OP_WRITE_PATTERN:
            got = dmatd_words_generate(b->lanes, b->host_a, n, 0, &gen);
            break;
        case DMATD_OP_VERIFY_PATTERN:
            got = dmatd_words_verify(b->lanes, b->host_a, n, 0, &gen,
                                     &differs);
            break;
        default:
            got = dmatd_words_copy(b->lanes, b->host_b, b->host_a, n, 0);
            break;
        }
        barrier();
    }
    t1 = g_get_monotonic_time();
    g_assert_cmpuint(got, ==, csum);
    g_assert_false(differs);
    return (double)(t1 - t0) / calls;
}

static const char *host_name(uint32_t op)
{
    switch (op) {
    case DMATD_OP_WRITE_PATTERN:
        return "memset";
    case DMATD_OP_VERIFY_PATTERN:
        return "read-sum64";
    default:
        return "memcpy";
    }
}

static double gbps(uint64_t size, double us)
{
    return us > 0 ? size / us / 1e3 : 0;
}

/* Time @op on @size bytes on the device and on the host; print a line. */
static void bench_one(Bench *b, uint32_t op, uint64_t size, uint64_t csum)
{
    /* Enough repetitions for a stable median, bounded in total time. */
    uint64_t reps = MAX(7, MIN(200, 256 * MiB / size));
    uint64_t calls = MAX(1, BENCH_HOST_BATCH / size);
    g_autofree int64_t *dev_us = g_new(int64_t, reps);
    g_autofree int64_t *own_ns = g_new(int64_t, reps);
    g_autofree int64_t *host_ns = g_new(int64_t, reps);
    g_autofree int64_t *csum_ns = g_new(int64_t, reps);
    g_autofree int64_t *loop_ns = g_new(int64_t, reps);
    double dev, own, host, csum1, loop;
    uint64_t i;

    /* One untimed round each: faults guest and host pages in, warms up. */
    bench_cmd(b, op, size, csum, &own_ns[0]);
    bench_host_once(b, op, size, 1);

    for (i = 0; i < reps; i++) {
        dev_us[i] = bench_cmd(b, op, size, csum, &own_ns[i]);
    }
    for (i = 0; i < reps; i++) {
        host_ns[i] = bench_host_once(b, op, size, calls) * 1000;
    }
    for (i = 0; i < reps; i++) {
        csum_ns[i] = bench_host_csum(b, size, calls) * 1000;
    }
    bench_host_loop(b, op, size, 1, csum);
    for (i = 0; i < reps; i++) {
        loop_ns[i] = bench_host_loop(b, op, size, calls, csum) * 1000;
    }
    dev = median(dev_us, reps);
    own = median(own_ns, reps) / 1000;
    host = median(host_ns, reps) / 1000;
    csum1 = median(csum_ns, reps) / 1000;
    loop = median(loop_ns, reps) / 1000;
    printf("# bench op=%s size=%" PRIu64 " segments=1 reps=%" PRIu64
           " dev_us=%.2f dev_gbps=%.3f own_us=%.3f own_gbps=%.3f"
           " host=%s host_calls=%" PRIu64
           " host_us=%.3f host_gbps=%.3f ratio=%.3f"
           " host_csum1_us=%.3f host_csum1_gbps=%.3f"
           " loop_lanes=%u loop_us=%.3f loop_gbps=%.3f\n",
           dmatd_op_name(op), size, reps, dev, gbps(size, dev), own,
           gbps(size, own), host_name(op), calls, host, gbps(size, host),
           host > 0 ? gbps(size, own) / gbps(size, host) : 0, csum1,
           gbps(size, csum1), b->lanes, loop, gbps(size, loop));
    fflush(stdout);
}

/*
 * The qtest round trip of a register write that starts nothing: what the
 * interval around a command's write holds besides the command.
 */
static void bench_mmio_rtt(Bench *b)
{
    QDict *rsp;
    int64_t us[200];
    int64_t t0;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(us); i++) {
        t0 = g_get_monotonic_time();
        dmatd_wr(b->d, DMATD_REG_SEED, BENCH_SEED);
        us[i] = g_get_monotonic_time() - t0;
    }
    rsp = qtest_qmp(b->d->qts, "{ 'execute': 'qom-get', 'arguments': {"
                    " 'path': '/machine/peripheral/dt0',"
                    " 'property': 'x-datapath-lanes' } }");
    g_assert_true(qdict_haskey(rsp, "return"));
    b->lanes = qdict_get_int(rsp, "return");
    printf("# bench op=qtest-writel reps=%zu us=%.2f datapath_lanes=%u\n",
           ARRAY_SIZE(us), median(us, ARRAY_SIZE(us)), b->lanes);
    qobject_unref(rsp);
    fflush(stdout);
}

static void test_bulk(void)
{
    const char *env = g_getenv("DT_BENCH_MAX_MIB");
    uint64_t max = (env ? g_ascii_strtoull(env, NULL, 10) :
                    g_test_slow() ? 256 : 1) * MiB;
    Bench *b;
    size_t i;

    g_assert_cmpuint(max, >=, bench_sizes[0]);
    g_assert_cmpuint(max, <=, 1 * GiB);
    b = bench_start(max);
    bench_mmio_rtt(b);

    for (i = 0; i < ARRAY_SIZE(bench_sizes) && bench_sizes[i] <= max; i++) {
        uint64_t size = bench_sizes[i], csum;

        /*
         * WRITE_PATTERN fills A, VERIFY_PATTERN checks A, COPY copies A to
         * B; the checksum of the pattern is the same for all three.
         */
        bench_put_seg(b, b->list_a, b->a, size);
        bench_put_seg(b, b->list_b, b->b, size);
        dmatd_wr(b->d, DMATD_REG_SEED, BENCH_SEED);
        dmatd_wr64(b->d, DMATD_REG_DST_LIST_LO, b->list_a);
        dmatd_wr(b->d, DMATD_REG_DST_COUNT, 1);
        dmatd_wr(b->d, DMATD_REG_CMD, DMATD_OP_WRITE_PATTERN);
        g_assert_cmphex(dmatd_rd(b->d, DMATD_REG_STATUS), ==,
                        DMATD_STATUS_DONE);
        csum = dmatd_rd64(b->d, DMATD_REG_CHECKSUM_LO);
        bench_one(b, DMATD_OP_WRITE_PATTERN, size, csum);

        dmatd_wr64(b->d, DMATD_REG_SRC_LIST_LO, b->list_a);
        dmatd_wr(b->d, DMATD_REG_SRC_COUNT, 1);
        bench_one(b, DMATD_OP_VERIFY_PATTERN, size, csum);

        dmatd_wr64(b->d, DMATD_REG_DST_LIST_LO, b->list_b);
        bench_one(b, DMATD_OP_COPY, size, csum);
    }
    bench_stop(b);
}

/*
 * How long one main-loop callback of the device holds the BQL: the
 * device's trace event dma_testdev_callback reports the host time of
 * each queue step and each epf-test step.  Large commands (latency-ns 0,
 * step-size 0: no pacing at all) run through both; the largest callback
 * and the median are printed per path, with the register path's whole
 * command for comparison (it runs inside the MMIO write, by contract).
 */
typedef struct CallbackStats {
    GArray *ns[3];              /* queue, epf, register */
    uint64_t bytes[3];
} CallbackStats;

static const char *const callback_who[] = { "queue", "epf", "register" };

static void callback_parse(const char *file, CallbackStats *st)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    size_t i, w;

    g_assert_true(g_file_get_contents(file, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    for (i = 0; lines[i]; i++) {
        char who[16];
        uint64_t cmd, bytes, ns;

        if (!callback_scan(lines[i], who, &cmd, &bytes, &ns)) {
            continue;
        }
        for (w = 0; w < ARRAY_SIZE(callback_who); w++) {
            if (!strcmp(who, callback_who[w])) {
                g_array_append_val(st->ns[w], ns);
                st->bytes[w] = MAX(st->bytes[w], bytes);
            }
        }
    }
}

static void test_callback(void)
{
    const char *env = g_getenv("DT_BENCH_MAX_MIB");
    uint64_t size = (env ? g_ascii_strtoull(env, NULL, 10) :
                     g_test_slow() ? 256 : 16) * MiB;
    g_autofree char *log = g_strdup_printf("%s/dt-callback-%d.log",
                                           g_get_tmp_dir(), getpid());
    g_autofree char *extra = g_strdup_printf(
        "-m %" PRIu64 "M -trace dma_testdev_callback -D %s",
        3 * size / MiB + 64, log);
    CallbackStats st = { 0 };
    DmatdDev *d;
    DmatdQueue q;
    struct dma_testdev_seg seg;
    uint64_t a, b, la, lb;
    unsigned op;
    size_t w;
    int i;

    for (w = 0; w < ARRAY_SIZE(st.ns); w++) {
        st.ns[w] = g_array_new(false, false, sizeof(int64_t));
    }

    /* Native: every op through the queue, then through the registers. */
    d = dmatd_start(&dmatd_q35, "", extra);
    a = guest_alloc(&d->alloc, size);
    b = guest_alloc(&d->alloc, size);
    seg = (struct dma_testdev_seg) { .addr = a, .len = size };
    la = dmatd_put_segs(d, &seg, 1);
    seg.addr = b;
    lb = dmatd_put_segs(d, &seg, 1);
    dmatd_queue_init(d, &q, 8);
    for (op = DMATD_OP_WRITE_PATTERN; op <= DMATD_OP_FILL; op++) {
        struct dma_testdev_sqe e = {
            .op = op, .seed = BENCH_SEED, .src_list = la, .src_count = 1,
            .dst_list = op == DMATD_OP_COPY ? lb : la, .dst_count = 1,
        };

        dmatd_queue_submit(d, &q, &e);
    }
    for (i = 0; i < 100000 && dmatd_rd(d, DMATD_REG_CQ_TAIL) != 4; i++) {
        g_usleep(1000);
    }
    g_assert_cmpuint(dmatd_rd(d, DMATD_REG_CQ_TAIL), ==, 4);
    dmatd_wr(d, DMATD_REG_Q_CTRL, 0);
    dmatd_wr(d, DMATD_REG_SEED, BENCH_SEED);
    dmatd_wr64(d, DMATD_REG_DST_LIST_LO, la);
    dmatd_wr(d, DMATD_REG_DST_COUNT, 1);
    dmatd_wr(d, DMATD_REG_CMD, DMATD_OP_WRITE_PATTERN);
    g_assert_cmphex(dmatd_rd(d, DMATD_REG_STATUS), ==, DMATD_STATUS_DONE);
    dmatd_stop(d);
    callback_parse(log, &st);
    unlink(log);

    /* epf-test: WRITE, READ and COPY of the same size. */
    d = dmatd_start(&dmatd_q35, ",personality=epf-test", extra);
    a = guest_alloc(&d->alloc, size);
    b = guest_alloc(&d->alloc, size);
    dmatd_wr64(d, DMATD_EPF_SRC_LO, a);
    dmatd_wr64(d, DMATD_EPF_DST_LO, b);
    dmatd_wr(d, DMATD_EPF_SIZE, size);
    for (op = DMATD_EPF_CMD_READ; op <= DMATD_EPF_CMD_COPY; op <<= 1) {
        dmatd_wr(d, DMATD_EPF_COMMAND, op);
        for (i = 0; i < 100000 && !dmatd_rd(d, DMATD_EPF_STATUS); i++) {
            g_usleep(1000);
        }
        g_assert_cmphex(dmatd_rd(d, DMATD_EPF_STATUS) & DMATD_EPF_ST_IRQ_RAISED,
                        !=, 0);
    }
    dmatd_stop(d);
    callback_parse(log, &st);
    unlink(log);

    for (w = 0; w < ARRAY_SIZE(st.ns); w++) {
        GArray *ns = st.ns[w];

        g_assert_cmpuint(ns->len, >, 0);
        g_array_sort(ns, cmp_i64);
        printf("# bench callback=%s size=%" PRIu64 " calls=%u "
               "max_bytes=%" PRIu64 " median_us=%.1f p99_us=%.1f "
               "max_us=%.1f\n",
               callback_who[w], size, ns->len, st.bytes[w],
               g_array_index(ns, int64_t, ns->len / 2) / 1000.0,
               g_array_index(ns, int64_t, ns->len * 99 / 100) / 1000.0,
               g_array_index(ns, int64_t, ns->len - 1) / 1000.0);
        g_array_free(ns, true);
    }
    fflush(stdout);
}

/*
 * The cost of one read of the DMA log, on the largest ring the device
 * allows, full: a qom-get of one page (dma-log-page entries), timed
 * around the QMP round trip, for the default page and the largest.
 */
static void test_log_read(void)
{
    const uint32_t ring = 16777216, segs = 65536;
    static const uint32_t pages[] = { 1024, 4096, 16384 };
    DmatdDev *d;
    struct dma_testdev_seg *list;
    uint64_t buf, la;
    int64_t t0, us;
    size_t p;
    uint32_t i;

    for (p = 0; p < ARRAY_SIZE(pages); p++) {
        g_autofree char *props = g_strdup_printf(
            ",dma-log-size=%u,dma-log-page=%u,max-segments=%u", ring,
            pages[p], segs);
        QDict *resp;

        d = dmatd_start(&dmatd_q35, props, "-m 512M");
        buf = guest_alloc(&d->alloc, segs * 8);
        list = g_new(struct dma_testdev_seg, segs);
        for (i = 0; i < segs; i++) {
            list[i] = (struct dma_testdev_seg) { .addr = buf + i * 8,
                                                 .len = 8 };
        }
        la = dmatd_put_segs(d, list, segs);
        g_free(list);
        dmatd_wr(d, DMATD_REG_SEED, BENCH_SEED);
        dmatd_wr64(d, DMATD_REG_DST_LIST_LO, la);
        dmatd_wr(d, DMATD_REG_DST_COUNT, segs);
        /* segs + 1 entries a command: enough commands to fill the ring. */
        for (i = 0; i <= ring / (segs + 1); i++) {
            dmatd_wr(d, DMATD_REG_CMD, DMATD_OP_WRITE_PATTERN);
        }
        g_assert_cmpuint(dmatd_log_seq(d->qts, "dt0"), >=, ring);

        t0 = g_get_monotonic_time();
        resp = qtest_qmp(d->qts, "{'execute': 'qom-get', 'arguments': "
                         "{'path': '/machine/peripheral/dt0', "
                         "'property': 'dma-log'}}");
        us = g_get_monotonic_time() - t0;
        g_assert_cmpuint(qlist_size(qdict_get_qlist(resp, "return")), ==,
                         pages[p]);
        qobject_unref(resp);
        printf("# bench dma-log-read ring=%u page=%u us=%" PRId64 "\n",
               ring, pages[p], us);
        fflush(stdout);
        dmatd_stop(d);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (qtest_has_machine("q35")) {
        qtest_add_func("/dma-testdev/bench/q35/bulk", test_bulk);
        qtest_add_func("/dma-testdev/bench/q35/callback", test_callback);
        if (g_test_slow()) {
            qtest_add_func("/dma-testdev/bench/q35/log-read", test_log_read);
        }
    }
    return g_test_run();
}
