#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The test command: build whatever is missing (QEMU with dma-testdev
# overlaid, the guest kernel, the guest tools and initramfs), then run
# every test through `meson test` and print a summary.
#
# Usage: scripts/test.sh [--suite device|guest|dpdk|style|unit] [other meson test args]
#   --suite device    device-level qtests only (accel qtest); builds no
#                     guest kernel
# Environment: see scripts/build-qemu.sh (your own QEMU tree),
# scripts/build-kernel.sh (your own kernel), scripts/lib/accel.sh, and
#   CI=true           a skipped test counts as a failure
#   DMA_TESTDEV_QEMU_VARIANT=asan   run on QEMU and qtests built with ASan +
#                     UBSan; any sanitizer report in the test log fails
#                     the run (scripts/test-sanitizers.sh wraps this)

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/build.sh
source "$DT_ROOT/scripts/lib/build.sh"

start=$(date +%s)
if [ "$*" = "--suite device" ]; then
    dt_build_all device-only
else
    # The selection decides which guest kernels are built.
    dt_build_all tests "$@"
    dt_log "guest tests use accelerator: $DT_ACCEL"
fi

summary_args=()
if [ "${CI:-}" = true ]; then
    summary_args+=(--no-skip)
fi

# Tests at once: one per CPU, but at most one per 8 GiB of RAM and of
# /dev/shm, where the guest cases keep their RAM (guest/cdev/run-4g, the
# largest, maps 10 GiB and writes 4.3 GiB of it; pages never written
# cost nothing).  MESON_TESTTHREADS overrides.
if [ -z "${MESON_TESTTHREADS:-}" ]; then
    mem_kib=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
    shm_kib=$(df -k --output=size /dev/shm | tail -n1 | tr -d ' ')
    jobs=$(( (mem_kib < shm_kib ? mem_kib : shm_kib) / (8 * 1024 * 1024) ))
    jobs=$(( jobs < $(nproc) ? jobs : $(nproc) ))
    export MESON_TESTTHREADS=$(( jobs > 0 ? jobs : 1 ))
fi
dt_log "tests at once: $MESON_TESTTHREADS"

# A QEMU that dies of a fault mid-test leaves the test nothing but "QEMU
# death from signal 11".  The kernel logs each such fault with the
# faulting instruction's offset in the program's file; after the run
# that line is printed with the function and source line it is in
# (addr2line), so that a rare crash is named by the first run that meets
# it.  QEMU and the qtests are PIE binaries whose code is mapped at the
# address equal to its file offset, so the offset is what addr2line takes.
read -r uptime_start _ < /proc/uptime

report_faults() {
    local kernel_log line prog off bin
    kernel_log=$(dmesg 2> /dev/null) || {
        dt_log "cannot read the kernel log (dmesg): crashes are not located"
        return 0
    }
    while IFS= read -r line; do
        dt_log "a process died of a fault: $line"
        # "... in PROGRAM[OFFSET,START+SIZE]": both empty when absent.
        read -r prog off < <(sed -n \
            's/.* in \([^[ ]*\)\[\([0-9a-f]*\),.*/\1 \2/p' <<< "$line") || true
        case $prog in
        qemu-system-x86_64) bin=$DT_QEMU_BINARY ;;
        dma-testdev-*) bin=$DT_QEMU_BUILD/tests/qtest/$prog ;;
        *) continue ;;
        esac
        if [ -n "$off" ] && [ -x "$bin" ]; then
            dt_log "  at: $(addr2line -f -i -p -e "$bin" "0x$off" | tr '\n' ' ')"
        fi
    done < <(awk -v t="$uptime_start" -F'[][]' \
        '$2 + 0 > t && / (segfault|general protection|trap) /' \
        <<< "$kernel_log")
}

rc=0
# Failed guest cases leave their console, findings and DMA log here.
evidence=$DT_MESON_BUILD/meson-logs/guest-evidence
rm -rf "$evidence"
# A run that stops before its first test (a name that matches none) must
# not be summarised from the previous run's log.
logs=$DT_MESON_BUILD/meson-logs
rm -f "$logs/testlog.json" "$logs/testlog.txt" "$logs/testlog.junit.xml"
meson test -C "$DT_MESON_BUILD" --print-errorlogs "$@" || rc=$?
report_faults
# A passing case removes its files, but not the directories of its name
# (guest/cdev/...): only a file left behind is evidence.
if [ -d "$evidence" ]; then
    find "$evidence" -depth -type d -empty -delete
fi
if [ -d "$evidence" ]; then
    dt_log "evidence of failed guest cases (console.log, findings.txt," \
        "dma-log.jsonl): $evidence/*"
fi
if [ -f "$logs/testlog.json" ]; then
    "$DT_PYTHON" "$DT_ROOT/scripts/lib/test-summary.py" \
        "$logs/testlog.json" "${summary_args[@]}" || rc=1
else
    dt_log "meson test ran no test (see above)"
    rc=1
fi
if [ "$DT_QEMU_VARIANT" != plain ]; then
    # A report fails the run even where a test did not notice it.
    if dt_sanitizer_reports "$logs/testlog.txt" >&2; then
        dt_log "sanitizer reports found (above): failing"
        rc=1
    else
        dt_log "sanitizer reports ($DT_QEMU_VARIANT build): none"
    fi
fi
dt_log "test run took $(( $(date +%s) - start )) s" \
    "(log: $logs/testlog.txt)"
dt_log "for CI: JUnit $logs/testlog.junit.xml," \
    "JSON testlog.json beside it"
exit "$rc"
