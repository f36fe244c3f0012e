#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Style gate: each side of the project checked by its own upstream's tool.
#
#   QEMU-side C (hw/, include/, tests/qtest/)  QEMU's scripts/checkpatch.pl
#   patches/qemu/ (our QEMU patches)          QEMU's checkpatch.pl
#   guest-side C (guest/)                      Linux's scripts/checkpatch.pl
#   patches/linux/*/ (our kernel patches)     Linux's checkpatch.pl --strict
#   shell (scripts/, .ci/run, the initramfs init and the guest's shell
#          tools)                               shellcheck
#   Python (scripts/, tests/qtest/fuzz/)      flake8; and pylint for the
#                                              developer VM (scripts/dmatd_vm)
#   the register reference and usage page     scripts/lib/check_docs.py
#     against the contract header, and its negative control (--self-test)
#
# Usage: scripts/lint.sh --qemu-src DIR [--kernel-src DIR]
#   --qemu-src DIR     a QEMU source tree (scripts/build-qemu.sh prints it)
#   --kernel-src DIR   a Linux source tree (scripts/build-kernel.sh prints
#                      it); without it guest-side C is not checked, and the
#                      run says so
# Exit status 1 if any file has an error or a warning.  scripts/test.sh
# runs this as the meson test "style"; scripts/install-deps.sh lint
# installs shellcheck, flake8 and pylint.
#
# A check that passed is remembered in $DMA_TESTDEV_CACHE/lint, keyed by
# the command, the tool's version and the content of every file its
# verdict depends on, so that a warm run checks only what changed.  A
# failure is never remembered: its report is printed every time.
# DMA_TESTDEV_LINT_CACHE=0 checks everything.

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"

qemu_src=''
kernel_src=''
while [ $# -gt 0 ]; do
    case $1 in
    --qemu-src) qemu_src=$2; shift 2 ;;
    --kernel-src) kernel_src=$2; shift 2 ;;
    *) dt_die "usage: $0 --qemu-src DIR [--kernel-src DIR]" ;;
    esac
done
[ -f "$qemu_src/scripts/checkpatch.pl" ] ||
    dt_die "no QEMU checkpatch.pl under '$qemu_src': pass --qemu-src, the qemu_src= line of scripts/build-qemu.sh"
for tool in shellcheck flake8 pylint; do
    if ! command -v "$tool" > /dev/null; then
        dt_die "$tool is missing: run scripts/install-deps.sh lint (as root)"
    fi
done

cd "$DT_ROOT"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
bad=0
checked=0

# Files, sorted, one per line, from the checkout (not the build trees).
files() {
    find "$@" -type f | LC_ALL=C sort
}

lint_cache=''
if [ "${DMA_TESTDEV_LINT_CACHE:-1}" != 0 ]; then
    lint_cache=$DT_CACHE/lint
    mkdir -p "$lint_cache"
fi
remembered=0
# What decides every verdict besides the files: the tools' versions.
tools_id=$( {
    shellcheck --version
    flake8 --version
    pylint --version
    perl --version | head -n 2
} 2> /dev/null | sha256sum | cut -c1-16)

# check LABEL DEPS... -- COMMAND...: a file fails if the tool exits
# non-zero.  DEPS are the files the verdict depends on (the checked file,
# the checker script, what the tool reads besides), for the cache.
check() {
    local label=$1 out key=''
    shift
    local deps=()
    while [ "$1" != -- ]; do
        deps+=("$1")
        shift
    done
    shift
    checked=$((checked + 1))
    if [ -n "$lint_cache" ]; then
        # Not the scratch directory's name, new on every run, nor where
        # this checkout and its QEMU copy are: a fresh clone in a new
        # folder (as CI makes) remembers what an earlier one checked.  What
        # the verdict reads is in DEPS, by content.
        local args=("${@//"$scratch"/SCRATCH}")
        args=("${args[@]//"$DT_ROOT"/ROOT}")
        args=("${args[@]//"$qemu_src"/QEMU_SRC}")
        key=$( {
            printf '%s\n' "$tools_id" "$label" "${args[@]}"
            cat "${deps[@]}"
        } | sha256sum | cut -c1-32)
        if [ -f "$lint_cache/$key" ]; then
            remembered=$((remembered + 1))
            return 0
        fi
    fi
    if ! out=$("$@" 2>&1); then
        printf '%s\n' "$out"
        echo "# style: $label: FAIL"
        bad=$((bad + 1))
    elif [ -n "$key" ]; then
        touch "$lint_cache/$key"
    fi
}

# checkpatch DIR PERL_ARGS...: run a checkpatch.pl in DIR and fail on any
# warning (checkpatch.pl itself exits 0 on warnings).  DIR matters: QEMU's
# applies rules by the file's path relative to the top (tests/ differs),
# and Linux's leaves a cache file in a git checkout's top, so it runs in a
# scratch directory.  Reports are blocks separated by blank lines; the one
# known false positive is dropped: QEMU's checkpatch takes __has_include()
# (which follows QEMU's header moves, see hw/misc/dma-testdev-compat.h)
# for an architecture-specific define.
checkpatch() {
    local dir=$1 out
    shift
    out=$(cd "$dir" && perl "$@" 2>&1) || true
    out=$(printf '%s\n' "$out" | awk -v RS= -v ORS='\n\n' \
        '!(/architecture specific defines/ && /__has_include\(/)')
    if printf '%s\n' "$out" | grep -q -E '^(WARNING|ERROR)'; then
        printf '%s\n' "$out"
        return 1
    fi
}

mapfile -t qemu_c < <(files hw include tests/qtest \( -name '*.c' -o -name '*.h' -o -name '*.c.inc' \))
for f in "${qemu_c[@]}"; do
    check "$f (QEMU checkpatch)" "$f" "$qemu_src/scripts/checkpatch.pl" -- \
        checkpatch "$DT_ROOT" "$qemu_src/scripts/checkpatch.pl" --no-tree -q -f "$f"
done

# Our patches to QEMU (patches/qemu/), as QEMU checks a patch.
mapfile -t qpatches < <(files patches/qemu -name '*.patch')
for f in "${qpatches[@]}"; do
    check "$f (QEMU checkpatch)" "$f" "$qemu_src/scripts/checkpatch.pl" -- \
        checkpatch "$DT_ROOT" "$qemu_src/scripts/checkpatch.pl" --no-tree -q "$f"
done

# User space, not kernel code: no __printf/__aligned here (they are the
# kernel's macros), registers are volatile MMIO pointers (no readl), and
# ENOSYS is what the tools test a syscall's absence with.
kernel_ignore=PREFER_DEFINED_ATTRIBUTE_MACRO,VOLATILE,ENOSYS
mapfile -t guest_c < <(files guest \( -name '*.c' -o -name '*.h' \))
if [ -n "$kernel_src" ]; then
    [ -f "$kernel_src/scripts/checkpatch.pl" ] ||
        dt_die "no Linux checkpatch.pl under '$kernel_src'"
    for f in "${guest_c[@]}"; do
        check "$f (Linux checkpatch)" "$f" "$kernel_src/scripts/checkpatch.pl" -- \
            checkpatch "$scratch" "$kernel_src/scripts/checkpatch.pl" --no-tree -q \
            --ignore "$kernel_ignore" -f "$DT_ROOT/$f"
    done
    # Our patches to Linux (patches/linux/*/), as the kernel checks a
    # patch: --strict, against the kernel tree.
    mapfile -t kpatches < <(files patches/linux -name '[0-9][0-9][0-9][1-9]-*.patch')
    for f in "${kpatches[@]}"; do
        # Checked against the tree (--root): its Makefile names its version.
        check "$f (Linux checkpatch --strict)" "$f" \
            "$kernel_src/scripts/checkpatch.pl" "$kernel_src/Makefile" -- \
            checkpatch "$scratch" "$kernel_src/scripts/checkpatch.pl" \
            --root="$kernel_src" --strict -q "$DT_ROOT/$f"
    done
else
    echo "# style: guest-side C and kernel patches not checked: no --kernel-src"
fi

mapfile -t shell < <(files scripts -name '*.sh')
shell+=(.ci/run guest/initramfs/init guest/tools/dt-vfio-selftest
    guest/tools/dt-iommufd-selftest guest/tools/dt-epf-test)
# -x follows what a script sources: any shell file may change a verdict.
for f in "${shell[@]}"; do
    check "$f (shellcheck)" "$f" "${shell[@]}" -- shellcheck -x "$f"
done

mapfile -t python < <(files scripts tests -name '*.py')
for f in "${python[@]}"; do
    check "$f (flake8)" "$f" -- flake8 "$f"
done
# The developer VM's package imports QEMU's python/qemu (its qemu.machine
# and qemu.qmp) from the QEMU tree, as it does when it runs.
mapfile -t vm_py < <(files scripts/dmatd_vm "$qemu_src/python/qemu" -name '*.py')
check "scripts/dmatd_vm (pylint)" "${vm_py[@]}" scripts/dmatd_vm/pylintrc -- \
    env PYTHONPATH="$qemu_src/python" \
    PYTHONDONTWRITEBYTECODE=1 pylint --rcfile scripts/dmatd_vm/pylintrc \
    --score=n scripts/dmatd_vm

# Quick, and they read more than the header and the docs: always run.
lint_cache_saved=$lint_cache lint_cache=''
check "docs against include/hw/misc/dma-testdev.h (check_docs.py)" -- \
    "$DT_PYTHON" scripts/lib/check_docs.py "$DT_ROOT"
check "check_docs.py finds planted errors (--self-test)" -- \
    "$DT_PYTHON" scripts/lib/check_docs.py --self-test "$DT_ROOT"
lint_cache=$lint_cache_saved

echo "# style: $checked files checked (${#qemu_c[@]} QEMU C, ${#qpatches[@]} QEMU patches," \
    "$([ -n "$kernel_src" ] && echo "${#guest_c[@]}" || echo 0) guest C," \
    "$([ -n "$kernel_src" ] && echo "${#kpatches[@]}" || echo 0) kernel patches," \
    "${#shell[@]} shell, ${#python[@]} Python, 2 docs checks):" \
    "$bad with findings; $remembered passed before unchanged" \
    "(${lint_cache:-no cache})"
[ "$bad" -eq 0 ]
