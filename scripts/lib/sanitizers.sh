# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Sanitizer settings shared by the ASan/UBSan test run (scripts/test.sh
# with DMA_TESTDEV_QEMU_VARIANT=asan, scripts/test-sanitizers.sh) and the
# fuzzer (scripts/fuzz.sh).  Sourced after lib/common.sh.

# A line that starts or sums up a sanitizer report, in any log.
DT_SANITIZER_RE='ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer'

# dt_sanitizer_env: make the first report fatal and loud.  ASan stops at
# its first error anyway; UBSan only does with halt_on_error=1.
# abort_on_error=1 makes the process die of SIGABRT, which libqtest reports
# as QEMU's death and libFuzzer as a crash.  Leak checks are on: QEMU run
# by qtest exits through its normal shutdown on SIGTERM, LeakSanitizer's
# exit check does run there (its tracer attaches to every QEMU thread) and
# reports nothing for the device and guest suites.  The caller's own
# ASAN_OPTIONS / UBSAN_OPTIONS come last and win.
# The guest-level cases the sanitizer run boots (meson test names; the
# guest qtest's case names): one per path through QEMU's code, not per
# guest-kernel behaviour, which the sanitizers do not see.  The console
# reader (no guest); the register path with single and scattered,
# unaligned segment lists; 64-bit addresses above 4 GiB; the misdirect
# property; COPY (the legacy hazard); BARs remapped under MMIO; the
# command queue, MSI-X and Linux's VFIO selftests; the epf-test
# personality (its DMA, MSI and INTx); virtio-9p (the host's root,
# DPDK).  The plain run boots every case.
# shellcheck disable=SC2034  # scripts/test-sanitizers.sh uses it
DT_SANITIZER_GUEST_CASES=(guest/console/interleaved
    guest/cdev/4k-1M guest/cdev/scatter-offset guest/cdev/above-4g
    guest/negative/misdirect guest/legacy/hazard guest/mmio/remap-race
    guest/vfio/selftests guest/epf/kselftest dpdk/pa)

dt_sanitizer_env() {
    local common=halt_on_error=1:abort_on_error=1:print_stacktrace=1
    local symbolizer=/usr/lib/llvm-14/bin/llvm-symbolizer
    ASAN_OPTIONS=$common:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}
    UBSAN_OPTIONS=$common${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}
    export ASAN_OPTIONS UBSAN_OPTIONS
    if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && [ -x "$symbolizer" ]; then
        export ASAN_SYMBOLIZER_PATH=$symbolizer
    fi
}

# dt_sanitizer_reports FILE...: print the report lines found in the files
# (prefixed with the file name); exit status 0 if there is any.
dt_sanitizer_reports() {
    grep -HE "$DT_SANITIZER_RE" "$@"
}
