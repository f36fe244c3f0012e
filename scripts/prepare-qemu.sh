#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Print the path of a QEMU source tree with this checkout's dma-testdev
# overlaid, ready to build.
#
# The source fetched from Debian stays as it is; each checkout of this
# repository overlays its own copy of it (~400 MB, ~5 s), keyed by the
# checkout's path, so that two checkouts (a worktree, a CI clone next to a
# developer's tree) never build each other's device.  A real copy, not
# hard links: anything writing into a shared file would change every
# tree at once.
#
# The copy is DT_CACHE/qemu/VERSION-CHECKOUT/src, and build-qemu.sh puts
# its build trees beside it (build-VARIANT-KEY): seen from any build tree
# the source is ../src, in every checkout, so that ccache (whose base
# directory is DT_CACHE) finds the objects another checkout compiled.
#
# Usage: scripts/prepare-qemu.sh
# Environment: DMA_TESTDEV_QEMU_SRC=DIR overlays your own QEMU tree in
# place instead; DMA_TESTDEV_QEMU_SUITE as for scripts/fetch-qemu.sh.

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"

pristine=$("$DT_ROOT/scripts/fetch-qemu.sh")
if [ -n "${DMA_TESTDEV_QEMU_SRC:-}" ]; then
    src=$pristine
else
    # A checkout that is gone (a CI clone, a removed worktree) leaves
    # ~1.3 GB here (the copy, a plain and an ASan build): it goes now.
    for home in "$DT_CACHE"/qemu/*/; do
        [ -f "$home/checkout" ] || continue
        checkout=$(cat "$home/checkout")
        [ ! -e "$checkout" ] || continue
        dt_log "removing ${home%/}: its checkout $checkout is gone"
        rm -rf "$home"
    done
    tree=$(printf '%s\n' "$DT_ROOT" | sha256sum | cut -c1-8)
    src=$DT_CACHE/qemu/$(basename "$pristine")-$tree/src
    if [ ! -f "$src/.dt-complete" ]; then
        rm -rf "$src"
        mkdir -p "$(dirname "$src")"
        dt_step "copy QEMU source for this checkout ($DT_ROOT)" \
            cp -a "$pristine" "$src" >&2
        touch "$src/.dt-complete"
    fi
    printf '%s\n' "$DT_ROOT" > "$(dirname "$src")/checkout"
fi
"$DT_ROOT/scripts/overlay-qemu.sh" "$src" >&2
echo "$src"
