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
# The newest qemu version the suite's index lists is taken.  An index may
# list a version whose files the mirror does not serve (yet): then the next
# newest version of the same suite that downloads is used, with a warning.
# DMA_TESTDEV_QEMU_VERSION=V asks for exactly that Debian version (epoch
# optional) and fails if it cannot be had.
#
# With DMA_TESTDEV_QEMU_SRC=/path/to/qemu nothing is fetched: that tree is
# used as it is (a developer's own checkout).

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/debian-apt.sh
source "$(dirname "$0")/lib/debian-apt.sh"

suite=${1:-$DT_QEMU_SUITE}
want=${DMA_TESTDEV_QEMU_VERSION:-}

if [ -n "${DMA_TESTDEV_QEMU_SRC:-}" ]; then
    [ -f "$DMA_TESTDEV_QEMU_SRC/VERSION" ] ||
        dt_die "DMA_TESTDEV_QEMU_SRC=$DMA_TESTDEV_QEMU_SRC is not a QEMU source tree (no VERSION file)"
    cd "$DMA_TESTDEV_QEMU_SRC" && pwd
    exit 0
fi

command -v dpkg-source > /dev/null ||
    dt_die "dpkg-source not found: run scripts/install-deps.sh (package dpkg-dev)"

dt_apt_private_setup
mapfile -t versions < <(dt_apt_versions qemu "$suite" Sources)
[ ${#versions[@]} -gt 0 ] || dt_die "no qemu source package in Debian suite '$suite'"
if [ -n "$want" ]; then
    match=''
    for v in "${versions[@]}"; do
        if [ "$v" = "$want" ] || [ "${v#*:}" = "$want" ]; then
            match=$v
        fi
    done
    [ -n "$match" ] ||
        dt_die "DMA_TESTDEV_QEMU_VERSION=$want: suite '$suite' lists qemu ${versions[*]}"
    versions=("$match")
fi

# Download and unpack one version; fails (without exiting) if the mirror
# does not serve its files.
fetch_source() {
    local version=$1 src=$2 dl
    if [ -z "$want" ] && dt_apt_unserved "qemu=$version"; then
        return 1
    fi
    dl=$DT_CACHE/src/dl-qemu-${version#*:}
    rm -rf "$src" "$dl"
    mkdir -p "$dl"
    dt_log "download qemu ${version#*:} source ($suite) ..."
    if ! (cd "$dl" && dt_apt_private -qq --download-only source "qemu=$version") >&2; then
        rm -rf "$dl"
        dt_apt_mark_unserved "qemu=$version"
        return 1
    fi
    # dpkg-source names every patch it applies: its log is shown only if
    # unpacking fails.
    (cd "$dl" && dt_step "unpack qemu ${version#*:} with Debian's patches" \
        dpkg-source --no-check -x ./*.dsc "$src" > "$dl/unpack.log" 2>&1) ||
        { cat "$dl/unpack.log" >&2; dt_die "unpacking qemu ${version#*:} failed"; }
    rm -rf "$dl"
    touch "$src/.dt-complete"
}

src=''
newest=${versions[0]}
for version in "${versions[@]}"; do
    candidate=$DT_CACHE/src/qemu-${version#*:}
    if [ -f "$candidate/.dt-complete" ]; then
        src=$candidate
    else
        if fetch_source "$version" "$candidate"; then
            src=$candidate
        else
            dt_log "warning: Debian $suite lists qemu $version but the mirror does not serve it" \
                "(not asked again before the next update of the private apt lists)"
        fi
    fi
    if [ -n "$src" ]; then
        break
    fi
done
[ -n "$src" ] || dt_die "no qemu source of suite '$suite' could be downloaded (tried: ${versions[*]})"
if [ "$version" != "$newest" ]; then
    dt_log "warning: using qemu $version, not $suite's newest $newest" \
        "(set DMA_TESTDEV_QEMU_VERSION to insist on one)"
fi

# Firmware is stripped from the +ds source; Debian ships it as an arch:all
# package that is unpacked here, never installed: the one of the same
# version when the suite still has it, else the suite's own.
fw_version=''
mapfile -t fw_versions < <(dt_apt_versions qemu-system-data "$suite" Packages)
for v in "${fw_versions[@]}"; do
    if [ "$v" = "$version" ]; then
        fw_version=$v
    fi
done
fw_version=${fw_version:-${fw_versions[0]:-}}
[ -n "$fw_version" ] || dt_die "no qemu-system-data package in Debian suite '$suite'"
fw=$DT_CACHE/firmware/qemu-system-data-$suite
if [ ! -f "$fw/.dt-complete" ] || [ "$(cat "$fw/.dt-complete")" != "$fw_version" ]; then
    # Unpacked aside and swapped in, so that a QEMU running from another
    # build tree loses its firmware links for as short a time as possible.
    rm -rf "$fw.new"
    mkdir -p "$fw.new"
    (
        cd "$fw.new"
        dt_step "download qemu-system-data $fw_version ($suite)" \
            dt_apt_private -qq download "qemu-system-data=$fw_version"
        dpkg-deb -x ./qemu-system-data_*.deb root
        rm -f ./*.deb
    ) >&2
    printf '%s\n' "$fw_version" > "$fw.new/.dt-complete"
    rm -rf "$fw"
    mv "$fw.new" "$fw"
fi

echo "$src"
