#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Would the guest tests catch this kernel bug?  Apply each patch (a
# "mutant") to a throwaway copy of the guest kernel tree, rebuild it
# incrementally, run the guest-level qtests on it, and say for each
# mutant whether a test caught it, and which case and check did.
#
# Usage: scripts/mutate.sh [--cases LIST] [--timeout S] [--no-baseline]
#                          [--list] [PATCH ...]
#   PATCH         kernel patches (-p1, from the tree's root) to try; by
#                 default every tests/mutants/linux/*.patch
#   --cases LIST  comma-separated guest cases or groups to run on each
#                 mutant, as named under /x86_64/dma-testdev/guest/
#                 (default: cdev,legacy)
#   --timeout S   seconds a guest case may take (default 240): a mutant
#                 that hangs the guest costs this, not 600 s
#   --no-baseline skip the run on the unmutated tree that proves the
#                 selected cases pass without a mutant
#   --list        list the catalogue and exit
# Environment: DMA_TESTDEV_KERNEL_SRC=DIR mutates your own tree instead of
# Debian's (as scripts/build-kernel.sh); DMA_TESTDEV_QEMU_VARIANT as for
# scripts/test.sh.
#
# The cached kernel source is never written.  The copy lives under
# $DT_CACHE/mutate/, keyed like the kernel build: its files are hard links
# to the cached source, and a file a patch touches is first replaced by a
# private copy (patch(1) would otherwise write through the link).  After
# each mutant the touched files get fresh private copies of the original,
# newer than their objects, so the next build compiles them back.  The
# copy's build tree is its own: the first run builds the whole kernel
# once (about 4 minutes on 2 cores), later mutants rebuild only what they
# touch.
#
# Verdicts: caught (a case failed on a named check: the oracle, the kernel
# check, a guest tool check or another assertion), missed (every case
# passed), crash or timeout (cases failed only by dying or hanging: the
# bug was noticed but not named), no-apply, no-build.  Each mutant's
# logs: $DT_CACHE/mutate/<key>/logs/<mutant>/.  The table is also written
# to $DT_CACHE/mutate/<key>/report.txt.  Exit status: 0 when every mutant
# was caught, 1 otherwise, 2 on a usage or setup error.

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/build.sh
source "$DT_ROOT/scripts/lib/build.sh"

usage() {
    sed -n '/^# Usage:/,/^# Environment:/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

cases=cdev,legacy
timeout=240
baseline=1
list=0
patches=()
while [ $# -gt 0 ]; do
    case $1 in
    --cases) [ $# -ge 2 ] || usage; cases=$2; shift 2 ;;
    --timeout) [ $# -ge 2 ] || usage; timeout=$2; shift 2 ;;
    --no-baseline) baseline=0; shift ;;
    --list) list=1; shift ;;
    -h|--help) usage ;;
    -*) dt_log "unknown option $1"; usage ;;
    *) patches+=("$1"); shift ;;
    esac
done
[[ $timeout =~ ^[1-9][0-9]*$ ]] || dt_die "--timeout $timeout: seconds, > 0"

catalogue=$DT_ROOT/tests/mutants/linux
if [ ${#patches[@]} -eq 0 ]; then
    shopt -s nullglob
    patches=("$catalogue"/*.patch)
    shopt -u nullglob
    [ ${#patches[@]} -gt 0 ] || dt_die "no patches given and none in $catalogue"
fi
for p in "${patches[@]}"; do
    [ -f "$p" ] || dt_die "$p: no such patch"
done

subject() {
    sed -n 's/^Subject: //p' "$1" | head -n1
}

if [ "$list" -eq 1 ]; then
    for p in "${patches[@]}"; do
        printf '%-40s %s\n' "$(basename "$p" .patch)" "$(subject "$p")"
    done
    exit 0
fi

# QEMU, the unmutated kernel (its .config and source), the initramfs.
dt_build_all all
kbuild=${DT_BZIMAGE%/arch/x86/boot/bzImage}
[ -f "$kbuild/.config" ] ||
    dt_die "no .config in $kbuild: DMA_TESTDEV_BZIMAGE cannot be mutated, give a source tree"
src=$DT_KERNEL_SRC
ws=$DT_CACHE/mutate/$(basename "$kbuild")
guest_test=$DT_QEMU_BUILD/tests/qtest/dma-testdev-guest-test

# The copy of the tree: hard links, made once.
if [ ! -f "$ws/.dt-src-complete" ]; then
    rm -rf "$ws/src"
    mkdir -p "$ws"
    dt_step "hard-link copy of $src" cp -al "$src" "$ws/src"
    touch "$ws/.dt-src-complete"
fi
mkdir -p "$ws/build" "$ws/logs"
if ! cmp -s "$kbuild/.config" "$ws/build/.config"; then
    cp "$kbuild/.config" "$ws/build/.config"
fi

# Give each file a private copy of the original: never a write through a
# link, and newer than its object, so that make compiles it again.
unlink_files() {
    local f
    for f in "$@"; do
        [ -f "$src/$f" ] || continue
        cp --remove-destination "$src/$f" "$ws/src/$f"
    done
}

kmake() {
    make -C "$ws/src" O="$ws/build" ARCH=x86_64 -j"$DT_JOBS" bzImage
}

# Run the selected cases on the copy's kernel (its vmlinux, through PVH,
# as the guest tests boot theirs); $1: log directory.
run_cases() {
    local dir=$1 c args=()
    IFS=, read -r -a sel <<< "$cases"
    for c in "${sel[@]}"; do
        args+=(-p "/x86_64/dma-testdev/guest/$c")
    done
    rm -rf "$dir/evidence"
    DT_GUEST_KERNEL=$ws/build/vmlinux \
    DT_GUEST_INITRD=$DT_INITRD DT_GUEST_ACCEL=$DT_ACCEL \
    DT_GUEST_CASE_TIMEOUT=$timeout DT_GUEST_EVIDENCE=$dir/evidence \
    QTEST_QEMU_BINARY=$DT_QEMU_BINARY \
        "$guest_test" --tap -k "${args[@]}" > "$dir/tests.log" 2>&1 || true
    "$DT_PYTHON" "$DT_ROOT/scripts/lib/mutant-verdict.py" "$dir/tests.log"
}

report=$ws/report.txt
: > "$report"
row() {
    printf '%-36s %-9s %s\n' "$1" "$2" "$3" | tee -a "$report"
}

# Whatever a killed run left patched goes back first.
if [ -f "$ws/touched" ]; then
    mapfile -t files < "$ws/touched"
    unlink_files "${files[@]}"
    rm -f "$ws/touched"
fi

if [ "$baseline" -eq 1 ]; then
    dir=$ws/logs/baseline
    mkdir -p "$dir"
    dt_step "build the unmutated copy (the first time: the whole kernel)" \
        kmake > "$dir/build.log" 2>&1
    dt_log "baseline: running $cases ..."
    out=$(run_cases "$dir")
    head=$(head -n1 <<< "$out")
    [[ $head == verdict=missed* ]] ||
        dt_die "the unmutated kernel fails the selected cases ($head); see $dir/tests.log"
    dt_log "baseline: every selected case passes (${head#* })"
fi

dt_log "mutants: ${#patches[@]}, cases: $cases"
row mutant verdict "caught by (case kind: first finding)"
caught=0
for p in "${patches[@]}"; do
    name=$(basename "$p" .patch)
    dir=$ws/logs/$name
    rm -rf "$dir"
    mkdir -p "$dir"
    mapfile -t files < <(dt_patch_files "$p")
    [ ${#files[@]} -gt 0 ] || dt_die "$p touches no file (no '+++ b/' lines)"
    printf '%s\n' "${files[@]}" > "$ws/touched"
    unlink_files "${files[@]}"
    start=$(date +%s)
    if ! patch -p1 -s --no-backup-if-mismatch -d "$ws/src" < "$p" \
            > "$dir/patch.log" 2>&1; then
        row "$name" no-apply "$(head -n1 "$dir/patch.log")"
        unlink_files "${files[@]}"
        continue
    fi
    if ! kmake > "$dir/build.log" 2>&1; then
        row "$name" no-build "$(grep -m1 'error:' "$dir/build.log" || true)"
        unlink_files "${files[@]}"
        continue
    fi
    built=$(( $(date +%s) - start ))
    out=$(run_cases "$dir")
    unlink_files "${files[@]}"
    rm -f "$ws/touched"
    head=$(head -n1 <<< "$out")
    verdict=${head#verdict=}
    verdict=${verdict%% *}
    first=$(sed -n 2p <<< "$out")
    row "$name" "$verdict" "${first:-${head#* }}"
    sed -n '3,$p' <<< "$out" | sed 's/^/                                               /' |
        tee -a "$report"
    [ "$verdict" = caught ] && caught=$((caught + 1))
    dt_log "$name: built in $built s, tested in $(( $(date +%s) - start - built )) s"
done
dt_log "caught $caught of ${#patches[@]} mutants (report: $report)"
# The copy is back to the unmutated tree; its objects follow on the next build.
[ "$caught" -eq "${#patches[@]}" ]
