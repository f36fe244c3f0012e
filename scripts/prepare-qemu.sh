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
    tree=$(printf '%s\n' "$DT_ROOT" | sha256sum | cut -c1-8)
    src=$DT_CACHE/src/overlay/$(basename "$pristine")-$tree
    if [ ! -f "$src/.dt-complete" ]; then
        rm -rf "$src"
        mkdir -p "$(dirname "$src")"
        dt_step "copy QEMU source for this checkout ($DT_ROOT)" \
            cp -a "$pristine" "$src" >&2
        touch "$src/.dt-complete"
    fi
fi
"$DT_ROOT/scripts/overlay-qemu.sh" "$src" >&2
echo "$src"
