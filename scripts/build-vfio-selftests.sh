#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build Linux's VFIO selftests (tools/testing/selftests/vfio) with our
# patches (patches/linux/vfio-selftests/: a no-IOMMU mode and a driver for
# dma-testdev), static, for the guest initramfs.
#
# The kernel source is never written to: a hard-link copy of it, in the
# cache, gets private copies of the files the patches touch, then the
# patches; the build goes to a directory keyed on the kernel version and
# the contents of the patches, the contract header and this script.
#
# Usage: scripts/build-vfio-selftests.sh --kernel-src DIR --uapi DIR
#            [--out DIR] [--patches DIR]
#   --kernel-src DIR  a Linux >= 7.3 source tree (read only)
#   --uapi DIR        its installed UAPI headers (build-kernel.sh's uapi=)
#   --out DIR         copy the test binaries here as well
#   --patches DIR     the series to apply (default patches/linux/vfio-selftests)
# Prints "vfio_selftests=<dir of the binaries>" on stdout.

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"

# The tests the guest runs (the others are built too, and left out).
tests=(vfio_pci_driver_test vfio_pci_device_test vfio_iommufd_setup_test
       vfio_dma_mapping_test)

usage() {
    sed -n '/^# Usage:/,/^# Prints/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

ksrc='' uapi='' out='' patches=$DT_ROOT/patches/linux/vfio-selftests
while [ $# -gt 0 ]; do
    case $1 in
    --kernel-src | --uapi | --out | --patches)
        [ $# -ge 2 ] || dt_die "$1 needs a value"
        case $1 in
        --kernel-src) ksrc=$2 ;;
        --uapi) uapi=$2 ;;
        --out) out=$2 ;;
        --patches) patches=$2 ;;
        esac
        shift 2 ;;
    -h | --help) usage ;;
    *) dt_die "unknown argument '$1' (see --help)" ;;
    esac
done
if [ -z "$ksrc" ] || [ -z "$uapi" ]; then
    usage
fi
[ -f "$ksrc/tools/testing/selftests/vfio/Makefile" ] ||
    dt_die "--kernel-src $ksrc: no tools/testing/selftests/vfio (needs Linux >= 7.3)"
grep -q '^#define IOMMU_IOAS_NOIOMMU_GET_PA\b' "$uapi/linux/iommufd.h" 2> /dev/null ||
    dt_die "--uapi $uapi: linux/iommufd.h there lacks IOMMU_IOAS_NOIOMMU_GET_PA (needs Linux >= 7.3 headers)"
header=$DT_ROOT/include/hw/misc/dma-testdev.h
[ -f "$header" ] || dt_die "missing $header"
mapfile -t series < <(find "$patches" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' \
    ! -name '0000-*' | sort)
[ ${#series[@]} -gt 0 ] || dt_die "no patches in $patches"
ksrc=$(cd "$ksrc" && pwd)
uapi=$(cd "$uapi" && pwd)

kver=$(make -s -C "$ksrc" kernelversion 2> /dev/null) ||
    dt_die "cannot read the kernel version of $ksrc"
# Keyed by what goes in, contents included: a tree of your own changes
# under the same path (size and time of every file the selftests build
# from: their directory, the kselftest headers, tools/include, the UAPI).
inputs=$(find "$ksrc/tools/testing/selftests/vfio" "$ksrc/tools/include" \
    "$ksrc"/tools/testing/selftests/kselftest*.h "$uapi/linux" -type f \
    -printf '%T@ %s %p\n' | LC_ALL=C sort | sha256sum)
key=$(cat "${series[@]}" "$header" "$0" <(printf '%s\n' "$ksrc" "$uapi" "$inputs") |
      sha256sum | cut -c1-12)
ws=$DT_CACHE/build/vfio-selftests-$kver-$key
bin=$ws/out

if [ ! -f "$ws/.complete" ]; then
    rm -rf "$ws"
    mkdir -p "$ws"
    dt_step "copy of $ksrc with the series" \
        dt_patched_copy "$ksrc" "$ws/src" "${series[@]}"
    mkdir -p "$bin"
    # Static (the initramfs has no libc); the kernel's own UAPI headers;
    # our contract header for the dma-testdev driver.
    if ! make -C "$ws/src/tools/testing/selftests/vfio" -j"$DT_JOBS" \
            OUTPUT="$bin" KHDR_INCLUDES="-isystem $uapi" \
            EXTRA_CFLAGS=-static DMA_TESTDEV_INCLUDE="$DT_ROOT/include" \
            > "$ws/build.log" 2>&1; then
        tail -n 30 "$ws/build.log" >&2
        dt_die "building the VFIO selftests failed (log: $ws/build.log)"
    fi
    touch "$ws/.complete"
fi
touch "$ws/.dt-used"
dt_keep_recent_builds "VFIO selftest builds" vfio-selftests "$ws"

for t in "${tests[@]}"; do
    [ -x "$bin/$t" ] || dt_die "$bin/$t was not built (log: $ws/build.log)"
    # Only a changed binary is written: meson runs this on every build
    # (it cannot see the cache's key), and ninja rebuilds the initramfs
    # only if an output's time changed.
    if [ -n "$out" ] && ! cmp -s "$bin/$t" "$out/$t"; then
        mkdir -p "$out"
        cp "$bin/$t" "$out/$t.tmp"
        mv -f "$out/$t.tmp" "$out/$t"
    fi
done
printf 'vfio_selftests=%s\n' "$bin"
