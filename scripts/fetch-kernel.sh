#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Fetch the guest kernel's source into the cache and print the tree's path
# on stdout (logs go to stderr).
#
# The source is Debian's binary package linux-source-7.N (N >= 3, the first
# release with IOMMU_IOAS_NOIOMMU_GET_PA), the newest one found in sid or
# experimental.  It is a .deb with a tarball inside; `apt-get source linux`
# from experimental is not used because the mirror 404s on it.
#
# Usage: scripts/fetch-kernel.sh
#
# With DMA_TESTDEV_KERNEL_SRC=/path/to/linux nothing is fetched: that tree
# is used as it is (a developer's own checkout).

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/debian-apt.sh
source "$(dirname "$0")/lib/debian-apt.sh"

# The oldest kernel series that has the ioctl under test.
min_minor=3

if [ -n "${DMA_TESTDEV_KERNEL_SRC:-}" ]; then
    if [ ! -f "$DMA_TESTDEV_KERNEL_SRC/Makefile" ] ||
        [ ! -d "$DMA_TESTDEV_KERNEL_SRC/drivers/iommu" ]; then
        dt_die "DMA_TESTDEV_KERNEL_SRC=$DMA_TESTDEV_KERNEL_SRC is not a Linux source tree"
    fi
    cd "$DMA_TESTDEV_KERNEL_SRC" && pwd
    exit 0
fi

command -v dpkg-deb > /dev/null || dt_die "dpkg-deb not found (package dpkg)"
command -v xz > /dev/null || dt_die "xz not found: run scripts/install-deps.sh (package xz-utils)"

dt_apt_private_setup

# Pick the highest version of any linux-source-7.N (N >= min_minor) across
# sid and experimental.  Experimental is NotAutomatic, so apt's own
# candidate would prefer an older sid package: compare versions here and
# ask for the exact one.
best_pkg='' best_ver=''
while read -r pkg; do
    minor=${pkg#linux-source-7.}
    case $minor in '' | *[!0-9]*) continue ;; esac
    [ "$minor" -ge "$min_minor" ] || continue
    while read -r ver; do
        if [ -z "$best_ver" ] || dpkg --compare-versions "$ver" gt "$best_ver"; then
            best_pkg=$pkg best_ver=$ver
        fi
    done < <(dt_apt_cache_private madison "$pkg" |
        awk -F' *[|] *' '$1 ~ /^ *linux-source-/ && $3 ~ / (sid|experimental)\/main .* Packages$/ { print $2 }')
done < <(dt_apt_cache_private pkgnames linux-source-7. | sort)

[ -n "$best_ver" ] ||
    dt_die "no linux-source-7.N (N >= $min_minor) in Debian sid or experimental: set DMA_TESTDEV_KERNEL_SRC to a Linux >= 7.$min_minor tree"
dt_log "guest kernel source: $best_pkg $best_ver (Debian)"

src=$DT_CACHE/src/linux-$best_ver
if [ ! -f "$src/.dt-complete" ]; then
    dl=$DT_CACHE/src/dl-linux-$best_ver
    rm -rf "$src" "$dl"
    mkdir -p "$dl" "$src"
    (
        cd "$dl"
        # apt checks the .deb against the signed Packages index.
        dt_step "download $best_pkg $best_ver" \
            dt_apt_private -qq download "$best_pkg=$best_ver"
        dpkg-deb -x ./"${best_pkg}"_*.deb root
        tarball=$(find root/usr/src -maxdepth 1 -name "$best_pkg.tar.*" | head -n1)
        [ -n "$tarball" ] || dt_die "no $best_pkg.tar.* inside the .deb"
        # Strip the top directory so that the tree is named by the full
        # Debian version, not just by the series.
        dt_step "extract $(basename "$tarball")" \
            tar -xf "$tarball" -C "$src" --strip-components=1
    ) >&2
    rm -rf "$dl"
    printf 'package=%s\nversion=%s\n' "$best_pkg" "$best_ver" > "$src/.dt-complete"
fi

echo "$src"
