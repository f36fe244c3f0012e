/*
 * dma-testdev guest-level qtest: the guest's VM.  Starting it (its RAM
 * in files the oracle maps) and stopping it, the findings, and the
 * evidence a failed case leaves.
 *
 * Copyright (c) 2026 The dma-testdev authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "guest.h"

/*
 * g_test_message(), also from the subprocess a case runs in: GLib starts
 * it with -q, which silences g_test_message() there.  "# " lines are TAP
 * comments, which the parent's TAP stream carries as they are.
 */
void G_GNUC_PRINTF(1, 2) dmatd_msg(const char *fmt, ...)
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

void G_GNUC_PRINTF(2, 3) dmatd_error(DmatdVm *vm, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_ptr_array_add(vm->errors, g_strdup_vprintf(fmt, ap));
    va_end(ap);
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
void dmatd_vm_init_state(DmatdVm *vm)
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

void dmatd_vm_free_state(DmatdVm *vm)
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

DmatdVm *dmatd_vm_start(const DmatdGuestCase *c)
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

void dmatd_vm_stop(DmatdVm *vm)
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
void dmatd_report_errors(DmatdVm *vm)
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
bool dmatd_errors_only_offsets(DmatdVm *vm, uint64_t a, uint64_t b)
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

/* Where a failed case leaves its console, findings and DMA log. */
char *dmatd_evidence_dir(const DmatdGuestCase *c)
{
    const char *base = getenv("DT_GUEST_EVIDENCE");
    g_autofree char *name = g_strdelimit(g_strdup(c->name), "/", '-');

    return g_build_filename(base ?: g_get_tmp_dir(),
                            base ? name : "dma-testdev-evidence",
                            base ? NULL : name, NULL);
}

void dmatd_keep_evidence(DmatdVm *vm, const DmatdGuestCase *c)
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

void dmatd_drop_evidence(const DmatdGuestCase *c)
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
