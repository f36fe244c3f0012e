#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Debian's DPDK for the guest's DPDK program (guest/dpdk/dt-dpdk.c):
# install libdpdk-dev from the machine's own release, fetch the source
# package of exactly the installed version into the cache, and print
#
#   dpdk_version=22.11.11-0+deb12u1
#   dpdk_sdk=DIR       the driver SDK headers Debian does not install
#                      (DPDK's -Denable_driver_sdk is off there)
#
# A PCI driver registers with the EAL through struct rte_pci_driver
# (RTE_PMD_REGISTER_PCI), which only the SDK header bus_pci_driver.h
# defines.  Taking it from the source of the very version whose libraries
# are installed keeps the struct's layout the one those libraries use.
#
# Usage: scripts/fetch-dpdk.sh

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/debian-apt.sh
source "$(dirname "$0")/lib/debian-apt.sh"

[ $# -eq 0 ] || dt_die "usage: $0"

"$DT_ROOT/scripts/install-deps.sh" dpdk
version=$(dpkg-query -W -f '${Version}' libdpdk-dev)
pkgconf_version=$(pkg-config --modversion libdpdk) ||
    dt_die "pkg-config finds no libdpdk although libdpdk-dev $version is installed"

src=$DT_CACHE/src/dpdk-${version#*:}
# The headers a PCI driver outside DPDK's tree needs, beyond the installed
# ones: the PCI bus's driver interface and the generic bus/device ones it
# includes.
sdk_headers=(drivers/bus/pci/bus_pci_driver.h lib/eal/include/bus_driver.h
    lib/eal/include/dev_driver.h)
sdk=$src/dt-sdk-include

if [ ! -f "$src/.dt-complete" ]; then
    dt_apt_private_setup
    dl=$DT_CACHE/src/dl-dpdk-${version#*:}
    rm -rf "$src" "$dl"
    mkdir -p "$dl"
    dt_log "download dpdk ${version#*:} source (the installed libdpdk-dev's) ..."
    (cd "$dl" && dt_apt_private -qq --download-only source "dpdk=$version") >&2 ||
        dt_die "the mirror does not serve the source of dpdk $version" \
            "(deb-src of this machine's release, through the private apt lists" \
            "of scripts/lib/debian-apt.sh)"
    (cd "$dl" && dt_step "unpack dpdk ${version#*:} with Debian's patches" \
        dpkg-source --no-check -x ./*.dsc "$src") >&2
    rm -rf "$dl"
    mkdir -p "$sdk"
    for h in "${sdk_headers[@]}"; do
        [ -f "$src/$h" ] || dt_die "dpdk $version source has no $h"
        cp "$src/$h" "$sdk/"
    done
    touch "$src/.dt-complete"
fi

printf 'dpdk_version=%s\ndpdk_pkgconfig_version=%s\ndpdk_sdk=%s\n' \
    "$version" "$pkgconf_version" "$sdk"
