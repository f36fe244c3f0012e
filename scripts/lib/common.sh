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

# The files a patch (-p1) changes, from its "--- a/PATH" and "+++ b/PATH"
# lines (a file it creates has only the second, one it deletes the first).
dt_patch_files() {
    sed -n 's|^--- a/\([^[:space:]]*\).*|\1|p; s|^+++ b/\([^[:space:]]*\).*|\1|p' "$1" |
        sort -u
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

# The time a build directory was last used: its .dt-used, or for one made
# before that stamp existed, its own.
_dt_used_stamp() {
    if [ -e "$1/.dt-used" ]; then echo "$1/.dt-used"; else echo "$1"; fi
}

# dt_keep_recent_builds WHAT NAME CURRENT: of the build directories
# $DT_CACHE/build/NAME-<version>-<key> (one kind, keyed by their inputs:
# a change of fragment, tree or compiler makes a new one and leaves the
# old; .seeding and .removing ones are another run's work in progress,
# not theirs), keep CURRENT, the
# $DMA_TESTDEV_KEEP_BUILDS (9) most recently used others and any used in
# the last day, and remove the rest.  Each run touches its directory's
# .dt-used when it starts using it (and a seed's before copying it); one
# without the stamp (made before it existed) counts from its own time.
# The day covers runs that boot a kernel long after building it, and
# runs side by side: each stamp is read again just before its directory
# goes.  A directory is renamed before it is removed, so no run finds it
# half gone; one left renamed by a run that died is removed here.  Going
# back to a fragment whose build was removed builds it again (the kernel
# from a copy of the newest default build: a minute, not ten).
dt_keep_recent_builds() {
    local what=$1 name=$2 current=$3 keep=${DMA_TESTDEV_KEEP_BUILDS:-9}
    local d t n=0 removed=0 kib=0 pid
    # The test command boots three kernels, each from its own build.
    if ! [[ $keep =~ ^[0-9]+$ ]] || [ "$keep" -lt 2 ]; then
        dt_die "DMA_TESTDEV_KEEP_BUILDS=$keep: give a number of directories, at least 2 (the test command uses three kernel builds at once)"
    fi
    for d in "$DT_CACHE/build"/*.removing.*; do
        pid=${d##*.}
        if [[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2> /dev/null; then
            rm -rf "$d"
        fi
    done
    while IFS=$'\t' read -r t d; do
        [ "$d" != "$current" ] || continue
        n=$((n + 1))
        [ "$n" -gt "$keep" ] || continue
        t=$(_dt_used_stamp "$d")
        [ -z "$(find "$t" -maxdepth 0 -mmin -1440 2> /dev/null)" ] || continue
        mv "$d" "$d.removing.$$" 2> /dev/null || continue
        # What removing it frees: not the files linked from elsewhere (a
        # patched source copy shares its tree's).
        kib=$((kib + $( { find "$d.removing.$$" -type f -links 1 \
            -printf '%k\n' 2> /dev/null || true; } |
            awk '{ s += $1 } END { print s + 0 }')))
        rm -rf "$d.removing.$$"
        removed=$((removed + 1))
    done < <(for d in "$DT_CACHE/build/$name-"*; do
                 if [ ! -d "$d" ] || ! [[ ${d##*/} =~ ^$name-.+-[0-9a-f]{12}$ ]]; then
                     continue
                 fi
                 printf '%s\t%s\n' "$(stat -c %Y "$(_dt_used_stamp "$d")")" "$d"
             done | sort -rn)
    [ "$removed" -eq 0 ] ||
        dt_log "removed the $removed least recently used $what ($((kib / 1024)) MiB); kept: the one in use, the $keep most recently used others (DMA_TESTDEV_KEEP_BUILDS) and any used in the last day"
}

# dt_cpu_mark: set DT_CPU_TICKS to the processor time (user + system, in
# clock ticks) of this shell's children that have ended and been waited
# for, /proc's cutime and cstime: a step's own is the difference across it,
# its commands' descendants included (each waits for its own).  Called
# directly, never in $(...): $BASHPID must be the shell that runs the step.
dt_cpu_mark() {
    local stat fields
    read -r stat < "/proc/$BASHPID/stat"
    # The fields after "(comm)", from the third (state) on.
    read -r -a fields <<< "${stat##*) }"
    DT_CPU_TICKS=$(( fields[13] + fields[14] ))
}
DT_CLK_TCK=$(getconf CLK_TCK)

# dt_cpu_s TICKS: set DT_CPU_S to TICKS clock ticks in seconds, rounded.
dt_cpu_s() {
    DT_CPU_S=$(( ($1 + DT_CLK_TCK / 2) / DT_CLK_TCK ))
}

# dt_cpu_since TICKS: set DT_CPU_S to the seconds used since the mark
# TICKS (directly too, as dt_cpu_mark).
dt_cpu_since() {
    dt_cpu_mark
    dt_cpu_s $(( DT_CPU_TICKS - $1 ))
}

# Run a long step, showing its name, how long it took and the processor
# time it used (on two cores a compile's CPU seconds, halved, are the
# least time it can take).  The CPU figure also counts a background job of
# this shell that ends during the step; where one can, run the step in a
# subshell, as build-qemu.sh does (or measure as build-kernel.sh's
# logged() does).
dt_step() {
    local what=$1 start rc=0 ticks
    shift
    start=$(date +%s)
    dt_cpu_mark
    ticks=$DT_CPU_TICKS
    dt_log "$what ..."
    "$@" || rc=$?
    if [ "$rc" -ne 0 ]; then
        dt_die "$what failed (exit $rc)"
    fi
    dt_cpu_since "$ticks"
    dt_log "$what: done in $(( $(date +%s) - start )) s, CPU $DT_CPU_S s"
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
