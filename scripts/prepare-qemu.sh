#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Print the path of a QEMU source tree with this checkout's dma-testdev
# overlaid, ready to build.
#
# The source fetched from Debian stays as it is; each checkout of this
# repository overlays its own copy of it (~400 MB, ~10 s), so that two
# checkouts (a worktree, a CI clone next to a developer's tree) never
# build each other's device.  A real copy, not hard links: anything
# writing into a shared file would change every tree at once.
#
# The copy is DT_CACHE/qemu/VERSION-ID/src, its file "checkout" names the
# checkout it belongs to, and build-qemu.sh puts its build trees beside it
# (build-VARIANT-KEY): seen from any build tree the source is ../src, in
# every checkout, so that ccache (whose base directory is DT_CACHE) finds
# the objects another checkout compiled.
#
# A checkout that is gone (a CI clone, a removed worktree) leaves its
# copy behind, and its file "overlay" says what was overlaid.  A new
# checkout whose files are the same (CI's fresh clone of a commit run
# here before) takes that copy over with its build trees, configured and
# built: about 70 s of copying, configuring and ccache per build tree
# saved.  Failing that, a leftover with the same QEMU patches (its file
# "qemu-patches") is taken over too, and the overlay brings the files
# that differ (CI's clone of a commit that changed the device).  The
# newest leftover stays for that; older ones go.
#
# Usage: scripts/prepare-qemu.sh
# Environment: DMA_TESTDEV_QEMU_SRC=DIR overlays your own QEMU tree in
# place instead; DMA_TESTDEV_QEMU_SUITE as for scripts/fetch-qemu.sh.

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"

# A hash of what scripts/overlay-qemu.sh puts into QEMU's tree: every
# file under the folders it copies and patches from, and the script.
overlay_inputs() {
    (cd "$DT_ROOT" &&
        find hw include tests/qtest docs/specs docs/system configs \
            patches/qemu scripts/overlay-qemu.sh -type f -print0 |
        sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16
}

pristine=$("$DT_ROOT/scripts/fetch-qemu.sh")
if [ -n "${DMA_TESTDEV_QEMU_SRC:-}" ]; then
    src=$pristine
    "$DT_ROOT/scripts/overlay-qemu.sh" "$src" >&2
else
    version=$(basename "$pristine")
    mkdir -p "$DT_CACHE/qemu"
    overlay=$(overlay_inputs)
    # Choosing, taking over and removing copies is one step at a time:
    # checkouts prepare side by side (CI, worktrees).
    exec {lock}> "$DT_CACHE/qemu/.copies.lock"
    flock "$lock"
    # Our fixes to QEMU: the overlay applies them but never takes one
    # back, so a copy serves another checkout only with the same ones.
    qemu_patches=$(cat "$DT_ROOT"/patches/qemu/*.patch 2> /dev/null |
        sha256sum | cut -c1-16)
    # And the files they touch (qemu-patched-files, below).
    patched_files=$(for p in "$DT_ROOT"/patches/qemu/*.patch; do
        [ ! -f "$p" ] || dt_patch_files "$p"
    done | sort -u)
    # This checkout's copy; else a gone checkout's with the same files;
    # else one with the same QEMU patches: the overlay brings the files
    # that differ, and ninja rebuilds what reads them, as it does for a
    # checkout's own copy after an edit (CI's fresh clone of a commit
    # that changed the device: no configure, ccache for the rest).
    home='' spare='' near=''
    for dir in "$DT_CACHE/qemu/$version"-*/; do
        checkout=$(cat "$dir/checkout" 2> /dev/null) || continue
        if [ "$checkout" = "$DT_ROOT" ]; then
            home=${dir%/}
            break
        fi
        if [ -e "$checkout" ] || [ ! -f "$dir/src/.dt-complete" ]; then
            continue
        fi
        if [ -z "$spare" ] &&
            [ "$(cat "$dir/overlay" 2> /dev/null)" = "$overlay" ]; then
            spare=${dir%/} spare_of=$checkout
        elif [ -z "$near" ] &&
            [ "$(cat "$dir/qemu-patches" 2> /dev/null)" = "$qemu_patches" ]; then
            near=${dir%/} near_of=$checkout
        fi
    done
    if [ -z "$home" ] && [ -n "$spare" ]; then
        home=$spare
        dt_log "taking over $home (its checkout $spare_of is gone;" \
            "same files, built trees)"
    elif [ -z "$home" ] && [ -n "$near" ]; then
        home=$near
        dt_log "taking over $home (its checkout $near_of is gone;" \
            "the same QEMU patches: the overlay brings the files that differ)"
    fi
    if [ -z "$home" ]; then
        home=$(mktemp -d "$DT_CACHE/qemu/$version-XXXXXXXX")
    fi
    printf '%s\n' "$DT_ROOT" > "$home/checkout"
    # Leftovers of gone checkouts (~1.3 GB each: the copy, a plain and an
    # ASan build): the newest stays for the next fresh clone, older go.
    kept=''
    while read -r mark; do
        dir=${mark%/checkout}
        checkout=$(cat "$mark")
        [ ! -e "$checkout" ] || continue
        if [ -z "$kept" ]; then
            kept=$dir
            continue
        fi
        dt_log "removing $dir: its checkout $checkout is gone"
        rm -rf "$dir"
    done < <(ls -t "$DT_CACHE"/qemu/*/checkout 2> /dev/null)
    flock -u "$lock"

    src=$home/src
    if [ ! -f "$src/.dt-complete" ]; then
        rm -rf "$src"
        dt_step "copy QEMU source for this checkout ($DT_ROOT)" \
            cp -a "$pristine" "$src" >&2
        touch "$src/.dt-complete"
    fi
    # The marker is written once the overlay is done: a copy that has it
    # holds these files already, and a warm run skips the overlay's
    # comparisons and patch checks (0.7 s).  Otherwise, until the overlay
    # is done, the tree matches no checkout's files.
    if [ "$(cat "$home/overlay" 2> /dev/null)" != "$overlay" ]; then
        # A QEMU patch edited since this copy was overlaid: the old one is
        # applied, and the new one neither reverses nor applies over it.
        # Every file the patches touched then (qemu-patched-files) or
        # touch now comes back from the pristine tree, and the overlay
        # applies them all again.  Also after an overlay that failed half
        # way (it removes qemu-patches first); not for a new copy.
        if { [ -f "$home/qemu-patches" ] || [ -f "$home/qemu-patched-files" ]; } &&
            [ "$(cat "$home/qemu-patches" 2> /dev/null)" != "$qemu_patches" ]; then
            while IFS= read -r f; do
                if [ -f "$pristine/$f" ]; then
                    cp --remove-destination "$pristine/$f" "$src/$f"
                else
                    rm -f "$src/$f"
                fi
            done < <({ cat "$home/qemu-patched-files" 2> /dev/null || true
                       echo "$patched_files"; } | sed '/^$/d' | sort -u)
            dt_log "the QEMU patches changed: their files restored from $pristine"
        fi
        rm -f "$home/overlay" "$home/qemu-patches"
        "$DT_ROOT/scripts/overlay-qemu.sh" "$src" >&2
        printf '%s\n' "$overlay" > "$home/overlay"
    fi
    # (Also for a copy overlaid before these files existed.)
    printf '%s\n' "$qemu_patches" > "$home/qemu-patches"
    printf '%s\n' "$patched_files" > "$home/qemu-patched-files"
fi
echo "$src"
