# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Shared helpers for dma-testdev scripts.  Sourced, never executed.
#
# Everything expensive (Debian sources, QEMU and kernel build trees) lives
# under $DT_CACHE, outside the checkout, so that a fresh clone reuses it and
# `git clean` never throws away an hour of building.

DT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DT_CACHE=${DMA_TESTDEV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dma-testdev}
DT_JOBS=${DMA_TESTDEV_JOBS:-$(nproc)}

# Debian's QEMU source package that is the default device host.  The suite
# selects the QEMU major version: trixie = 10.0.x.
DT_QEMU_SUITE=${DMA_TESTDEV_QEMU_SUITE:-trixie}

export DT_ROOT DT_CACHE DT_JOBS DT_QEMU_SUITE

dt_log() {
    printf '[dma-testdev] %s\n' "$*" >&2
}

dt_die() {
    printf '[dma-testdev] error: %s\n' "$*" >&2
    exit 1
}

# The files a patch (-p1) changes, from its "+++ b/PATH" lines.
dt_patch_files() {
    sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$1" | sort -u
}

# dt_patched_copy SRC DEST PATCH...: DEST becomes SRC with the patches
# applied, in order.  Hard links (a real copy where they cannot cross
# filesystems), but every file a patch touches is made a private copy
# first, so that patch(1) never writes through a link into SRC.  A patch
# SRC already has (a tree of your own with the fix merged: it reverses
# cleanly) is left out, and the log says so.
dt_patched_copy() {
    local src=$1 dest=$2 p f
    shift 2
    rm -rf "$dest"
    cp -al "$src" "$dest" 2> /dev/null || { rm -rf "$dest"; cp -a "$src" "$dest"; }
    for p in "$@"; do
        while IFS= read -r f; do
            [ ! -f "$src/$f" ] || cp --remove-destination "$src/$f" "$dest/$f"
        done < <(dt_patch_files "$p")
    done
    for p in "$@"; do
        if patch -d "$dest" -p1 -s -R --forward --dry-run < "$p" > /dev/null 2>&1; then
            dt_log "$(basename "$p") is already in $src: not applied again"
            continue
        fi
        patch -d "$dest" -p1 -s --forward --batch --no-backup-if-mismatch < "$p" ||
            dt_die "$(basename "$p") does not apply to $src"
    done
}

# Run a long step, showing its name and how long it took.
dt_step() {
    local what=$1 start rc=0
    shift
    start=$(date +%s)
    dt_log "$what ..."
    "$@" || rc=$?
    if [ "$rc" -ne 0 ]; then
        dt_die "$what failed (exit $rc)"
    fi
    dt_log "$what: done in $(( $(date +%s) - start )) s"
}

dt_need_root_for_apt() {
    if [ "$(id -u)" -ne 0 ]; then
        dt_die "installing packages needs root: re-run as root, or install: $*"
    fi
}

# The Python that sees Debian's packages.  On machines with pyenv, the
# `python3` on PATH is a shim that cannot import them, and QEMU's configure
# would then try to reach PyPI.
DT_PYTHON=${DMA_TESTDEV_PYTHON:-/usr/bin/python3}
export DT_PYTHON
