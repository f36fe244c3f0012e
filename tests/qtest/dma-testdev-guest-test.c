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
#include "dma-testdev-guest/guest.h"

const char *dmatd_kernel;
const char *dmatd_kernel_compat;
const char *dmatd_kernel_selftest;
const char *dmatd_initrd;
const char *dmatd_dpdk_tool;     /* DT_GUEST_DPDK: dt-dpdk */
const char *dmatd_accel;
unsigned dmatd_timeout_s = DMATD_CASE_TIMEOUT_S;

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
