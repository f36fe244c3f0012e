#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run the tests on QEMU and qtests built with AddressSanitizer and
# UndefinedBehaviorSanitizer (scripts/build-qemu.sh --variant asan, gcc),
# the first report aborting the process (options in lib/sanitizers.sh),
# and print a summary.  Fails if a test fails or if any sanitizer report
# appears in the test log.
#
# Usage: scripts/test-sanitizers.sh [--suite device|guest|dpdk] [meson test args]
#   (as scripts/test.sh; without arguments: the device, hardening and
#   qemu-fixes tests and the guest-level cases DT_SANITIZER_GUEST_CASES of
#   lib/sanitizers.sh, one per path through QEMU's code;
#   `--no-suite style --no-suite unit` boots every case)

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"

export DMA_TESTDEV_QEMU_VARIANT=asan

start=$(date +%s)
# Build first, on its own, so that the summary tells build and test time
# apart (scripts/test.sh then finds the build up to date).
dt_step "build QEMU and qtests with ASan + UBSan" \
    "$DT_ROOT/scripts/build-qemu.sh" --variant asan > /dev/null
built=$(date +%s)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0
# The style and unit suites run no QEMU: the plain run has them.
if [ $# -eq 0 ]; then
    # shellcheck source=scripts/lib/sanitizers.sh
    source "$DT_ROOT/scripts/lib/sanitizers.sh"
    set -- device 'hardening*' 'qemu-fixes/*' "${DT_SANITIZER_GUEST_CASES[@]}"
fi
"$DT_ROOT/scripts/test.sh" "$@" 2>&1 | tee "$log" || rc=$?
done_at=$(date +%s)

dt_log "--- sanitizer test summary (ASan + UBSan, gcc) ---"
dt_log "build: $(( built - start )) s; tests (incl. guest kernel and tool checks): $(( done_at - built )) s"
dt_log "tests: $(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -n1 || echo 'no summary line')"
dt_log "$(grep -E 'sanitizer reports' "$log" | tail -n1 | sed 's/^\[dma-testdev\] //' || true)"
if [ "$rc" -ne 0 ]; then
    dt_die "sanitizer test run failed (exit $rc)"
fi
dt_log "sanitizer test run passed"
