/*
 * dma-testdev guest-level qtest: the oracles of Linux's own selftests
 * run in the guest: their KTAP, and the DMA each made the device do
 * (pci_endpoint's kselftest on personality=epf-test, iommufd's, VFIO's).
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "guest.h"

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

/*
 * Read a kselftest's KTAP in @text: every case must pass, or skip for a
 * reason @skip_ok allows, and no sub-step may have failed (a SKIP after a
 * failed MSI vector would hide the failure); no @skip_ok: no skip is
 * allowed.  A failed case's finding carries the "# " lines it printed
 * since its "#  RUN" line (the harness's and its own messages).  Stops at
 * an "@dt selftest name=" line.  Returns the cases.
 */
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
unsigned dmatd_check_ktap(DmatdVm *vm, const char *suite,
                          DmatdSkipOk *skip_ok)
{
    return dmatd_read_ktap(vm, dmatd_suite_start(vm, suite), suite, skip_ok);
}

/* N of the KTAP plan "1..N" on the console; 0 if there is none. */
unsigned dmatd_ktap_plan(DmatdVm *vm)
{
    const char *p = strstr(vm->output->str, "\n1..");

    return p ? atoi(p + 4) : 0;
}

unsigned dmatd_epf_check_tap(DmatdVm *vm)
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
bool dmatd_iommufd_skip_ok(const char *name, const char *reason)
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
unsigned dmatd_epf_check_dma(DmatdVm *vm)
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

unsigned dmatd_vfio_check_ktap(DmatdVm *vm)
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
unsigned dmatd_vfio_check_dma(DmatdVm *vm, unsigned *copies)
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
