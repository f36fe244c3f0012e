#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Fetch Debian's QEMU source package (Debian patches applied) and the
# matching firmware package into the cache, and print the source tree's
# path on stdout.
#
# Usage: scripts/fetch-qemu.sh [SUITE]     (default: $DMA_TESTDEV_QEMU_SUITE
#                                          or trixie, i.e. QEMU 10.0.x)
#
# With DMA_TESTDEV_QEMU_SRC=/path/to/qemu nothing is fetched: that tree is
# used as it is (a developer's own checkout).

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/debian-apt.sh
source "$(dirname "$0")/lib/debian-apt.sh"

suite=${1:-$DT_QEMU_SUITE}

if [ -n "${DMA_TESTDEV_QEMU_SRC:-}" ]; then
    [ -f "$DMA_TESTDEV_QEMU_SRC/VERSION" ] ||
        dt_die "DMA_TESTDEV_QEMU_SRC=$DMA_TESTDEV_QEMU_SRC is not a QEMU source tree (no VERSION file)"
    cd "$DMA_TESTDEV_QEMU_SRC" && pwd
    exit 0
fi

command -v dpkg-source > /dev/null ||
    dt_die "dpkg-source not found: run scripts/install-deps.sh (package dpkg-dev)"

dt_apt_private_setup
version=$(dt_apt_source_version qemu "$suite")
[ -n "$version" ] || dt_die "no qemu source package in Debian suite '$suite'"

src=$DT_CACHE/src/qemu-$version
if [ ! -f "$src/.dt-complete" ]; then
    dl=$DT_CACHE/src/dl-qemu-$version
    rm -rf "$src" "$dl"
    mkdir -p "$dl"
    (
        cd "$dl"
        dt_step "download qemu $version source ($suite)" \
            dt_apt_private -qq --download-only source "qemu=1:$version" ||
            dt_apt_private -qq --download-only source "qemu=$version"
        dt_step "unpack qemu $version with Debian's patches" \
            dpkg-source --no-check -x ./*.dsc "$src"
    ) >&2
    rm -rf "$dl"
    touch "$src/.dt-complete"
fi

# Firmware is stripped from the +ds source; Debian ships it as an arch:all
# package that is unpacked here, never installed.
fw=$DT_CACHE/firmware/qemu-system-data-$suite
if [ ! -f "$fw/.dt-complete" ]; then
    rm -rf "$fw"
    mkdir -p "$fw"
    (
        cd "$fw"
        dt_step "download qemu-system-data ($suite)" \
            dt_apt_private -qq download "qemu-system-data/$suite"
        dpkg-deb -x ./qemu-system-data_*.deb root
        rm -f ./*.deb
    ) >&2
    touch "$fw/.dt-complete"
fi

echo "$src"
