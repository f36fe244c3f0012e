#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The test command: build everything that is missing (QEMU with dma-testdev
# overlaid), then run every test through `meson test` and print a summary.
#
# Usage: scripts/test.sh [--suite NAME] [meson test args...]
#   --suite device    device-level qtests only (accel qtest)
# Environment: see scripts/build-qemu.sh (own QEMU tree), and
#   CI=true           skipped tests count as failures

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"

start=$(date +%s)

qemu_vars=$("$DT_ROOT/scripts/build-qemu.sh")
qemu_build=$(sed -n 's/^qemu_build=//p' <<< "$qemu_vars")
dt_log "QEMU: $(sed -n 's/^qemu_version=//p' <<< "$qemu_vars")"

key=$(printf '%s\n' "$DT_ROOT" "$qemu_build" | sha256sum | cut -c1-12)
build=$DT_CACHE/build/dma-testdev-$key
setup_args=(-Dqemu_build="$qemu_build")
if [ -f "$build/build.ninja" ]; then
    meson setup --reconfigure "${setup_args[@]}" "$build" "$DT_ROOT" > /dev/null
else
    meson setup "${setup_args[@]}" "$build" "$DT_ROOT" > /dev/null
fi

summary_args=()
if [ "${CI:-}" = true ]; then
    summary_args+=(--no-skip)
fi

rc=0
meson test -C "$build" --print-errorlogs "$@" || rc=$?
"$DT_PYTHON" "$DT_ROOT/scripts/lib/test-summary.py" \
    "$build/meson-logs/testlog.json" "${summary_args[@]}" || rc=1
dt_log "test run took $(( $(date +%s) - start )) s (log: $build/meson-logs/testlog.txt)"
exit "$rc"
