#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build QEMU (x86_64-softmmu) with dma-testdev overlaid, plus the qtest
# binaries, in a build tree under the cache keyed by QEMU version and build
# configuration.  A warm run after a device edit recompiles one file.
#
# Usage: scripts/build-qemu.sh [--variant NAME] [--target T ...]
#   --variant plain|asan|fuzz   build configuration (default: plain, or
#                          $DMA_TESTDEV_QEMU_VARIANT)
#       asan: gcc, AddressSanitizer + UndefinedBehaviorSanitizer; same
#             targets as plain
#       fuzz: clang-14, libFuzzer + ASan + UBSan + source-based coverage
#             (-fprofile-instr-generate -fcoverage-mapping); builds only
#             qemu-fuzz-x86_64 (scripts/fuzz.sh)
#   --target T             extra ninja target (repeatable)
# Environment:
#   DMA_TESTDEV_QEMU_SRC=DIR   use your own QEMU checkout (overlaid in place)
#   DMA_TESTDEV_QEMU_SUITE=S   Debian suite of the QEMU source (trixie)
#   DMA_TESTDEV_QEMU_DEVICES=minimal|default
#                              minimal (the default): only the devices and
#                              features the tests, the developer VM and the
#                              fuzz targets use (configs/devices/); default:
#                              QEMU's full set, for other -device options
#
# Prints key=value lines on stdout: qemu_version, qemu_src, qemu_build,
# qemu_variant, and qemu_binary (qemu-system-x86_64) or, for the fuzz
# variant, qemu_fuzz (qemu-fuzz-x86_64).

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/debian-apt.sh
source "$DT_ROOT/scripts/lib/debian-apt.sh"
# shellcheck source=scripts/lib/meson.sh
source "$DT_ROOT/scripts/lib/meson.sh"

variant=${DMA_TESTDEV_QEMU_VARIANT:-plain}
extra_targets=()
while [ $# -gt 0 ]; do
    case $1 in
    --variant) variant=$2; shift 2 ;;
    --target) extra_targets+=("$2"); shift 2 ;;
    *) dt_die "unknown option $1 (see the header of $0)" ;;
    esac
done

"$DT_ROOT/scripts/install-deps.sh" qemu
if [ "$variant" = fuzz ]; then
    "$DT_ROOT/scripts/install-deps.sh" fuzz
fi
src=$("$DT_ROOT/scripts/prepare-qemu.sh")

# A QEMU newer than the host's meson gets Debian's newer meson from the
# cache, through PYTHONPATH, for configure and every ninja run below.
dt_qemu_meson "$src"
meson_key=()
if [ -n "$DT_QEMU_MESON_PYTHONPATH" ]; then
    export PYTHONPATH=$DT_QEMU_MESON_PYTHONPATH${PYTHONPATH:+:$PYTHONPATH}
    meson_key=("meson $DT_QEMU_MESON_VERSION")
fi

qemu_version=$(cat "$src/VERSION")
if [ -f "$src/debian/changelog" ]; then
    qemu_version="$qemu_version (Debian $(dpkg-parsechangelog -l "$src/debian/changelog" -S Version))"
fi

config=(
    --target-list=x86_64-softmmu
    --python="$DT_PYTHON"
    --disable-download
    --disable-install-blobs
    --disable-docs
    --disable-fdt
    --disable-tools
    --disable-guest-agent
    --disable-gtk --disable-sdl --disable-vnc --disable-opengl
    --enable-kvm
    --enable-slirp
    # Features configure would switch on when their libraries happen to be
    # installed: the dpdk group (test.sh) brings libnuma and libbpf, which
    # vm.sh's first build on a fresh machine did not have.  A clone's build
    # then differed from the checkout's (config-host.h), missed ccache on
    # every file and compiled QEMU again.  No test uses them (guest NUMA
    # nodes need no libnuma).
    --disable-numa --disable-bpf --disable-af-xdp --disable-libdw
)
# Build only what is used: 1148 files to compile instead of 1478 on a cold
# cache.  The device list is configs/devices/x86_64-softmmu/dma-testdev.mak
# (overlaid by scripts/overlay-qemu.sh); the features below are those this
# host's libraries would otherwise switch on that no test, VM or fuzz
# target reaches (other displays, audio, block formats and exports,
# vhost back ends, TPM, plugins, RDMA, replication).  Nothing the guest
# sees changes: the two machines keep the devices they create by default.
devices=${DMA_TESTDEV_QEMU_DEVICES:-minimal}
case $devices in
minimal)
    config+=(--without-default-devices --with-devices-x86_64=dma-testdev
        --disable-dbus-display --disable-curses --audio-drv-list=
        --disable-plugins --disable-multiprocess --disable-tpm
        --disable-rdma --disable-replication --disable-hv-balloon
        --disable-l2tpv3 --disable-vhost-crypto --disable-vhost-vdpa
        --disable-vhost-user-blk-server --disable-vduse-blk-export
        --disable-libvduse
        --disable-bochs --disable-cloop --disable-dmg --disable-qcow1
        --disable-vdi --disable-vhdx --disable-vmdk --disable-vpc
        --disable-vvfat --disable-qed --disable-parallels)
    ;;
default) ;;
*) dt_die "DMA_TESTDEV_QEMU_DEVICES=$devices: minimal or default" ;;
esac
cc=cc cxx=c++
targets=(qemu-system-x86_64 tests/qtest/dma-testdev-test
    tests/qtest/dma-testdev-hardening-test
    tests/qtest/dma-testdev-guest-test tests/qtest/dma-testdev-bench)
case $variant in
plain)
    # Line tables only (-g1, after meson's -g): backtraces keep their
    # file:line, and compiling takes about a fifth less than with full
    # debug information (hw/pci/pci.c 1.30 -> 0.93 s, target/i386/tcg/
    # translate.c 5.95 -> 4.55 s).  The sanitizer variants keep -g: their
    # job is diagnosis.
    config+=(--extra-cflags=-g1)
    ;;
asan)
    # No --disable-pie: Debian's gcc links PIE by default and QEMU's
    # configure cannot undo that, so non-PIE objects fail to link.  The
    # objects stay position independent, but the programs link as
    # position-dependent executables (-no-pie): a PIE's 32 MB of ASan and
    # UBSan data (global descriptors, source locations: 0.9 MB in the
    # plain build) is relocated, so copied page by page, at every start.
    # Measured on QEMU's start and quit: 0.40 -> 0.31 s, 24,100 -> 16,200
    # page faults; the hardening test starts QEMU 649 times.
    config+=(--enable-asan --enable-ubsan --extra-ldflags=-no-pie)
    ;;
fuzz)
    # One build serves fuzzing and coverage: libFuzzer's edge feedback
    # (-fsanitize=fuzzer-no-link, added by --enable-fuzzing) and clang's
    # profile counters are independent instrumentations.
    cc=clang-14 cxx=clang++-14
    config+=(--enable-fuzzing --enable-asan --enable-ubsan
        "--extra-cflags=-fprofile-instr-generate -fcoverage-mapping"
        --extra-ldflags=-fprofile-instr-generate)
    targets=(qemu-fuzz-x86_64)
    ;;
*) dt_die "unknown variant '$variant' (plain, asan or fuzz)" ;;
esac
if command -v ccache > /dev/null; then
    config+=(--cc="ccache $cc" --cxx="ccache $cxx")
    export CCACHE_DIR=$DT_CACHE/ccache
    # Trees of different checkouts share compiled objects: paths under
    # the cache are hashed relative to the build tree, which is not hashed.
    export CCACHE_BASEDIR=$DT_CACHE CCACHE_NOHASHDIR=1
    # Depend mode: a miss compiles once and hashes the headers the
    # compiler's own -MD file names, instead of running the preprocessor
    # first to hash its output.  On an empty cache that is a sixth of each
    # compile (hw/pci/pci.c: 1.17 s with ccache's default, 0.97 s in depend
    # mode, 0.93 s without ccache); a hit is as quick either way.
    export CCACHE_DEPEND=1
else
    config+=(--cc="$cc" --cxx="$cxx")
fi

key=$(printf '%s\n' "$qemu_version" "$src" "${config[@]}" "${meson_key[@]}" |
    sha256sum | cut -c1-12)
if [ -n "${DMA_TESTDEV_QEMU_SRC:-}" ]; then
    build=$DT_CACHE/build/qemu-$(basename "$src")-$variant-$key
else
    # Beside this checkout's overlay (see scripts/prepare-qemu.sh): the
    # compile commands then read the same in every checkout, and a fresh
    # clone (a CI run in a new folder) compiles QEMU from ccache.
    build=$(dirname "$src")/build-$variant-$key
fi

if [ ! -f "$build/build.ninja" ] || [ ! -f "$build/.dt-configured" ]; then
    rm -rf "$build"
    mkdir -p "$build"
    (cd "$build" && dt_step "configure QEMU $qemu_version ($variant)" \
        "$src/configure" "${config[@]}" > "$build/configure.log" 2>&1) ||
        dt_die "configure failed: see $build/configure.log" \
            "(with DMA_TESTDEV_QEMU_DEVICES=$devices; a QEMU whose Kconfig" \
            "names differ builds its full set with DMA_TESTDEV_QEMU_DEVICES=default)"
    touch "$build/.dt-configured"
fi
if [ -n "$DT_QEMU_MESON_PYTHONPATH" ]; then
    # ninja re-runs meson from QEMU's venv when a meson.build changes; make
    # that venv find the same meson even where our PYTHONPATH is not set
    # (without it, an older host meson would silently regenerate the tree).
    for site in "$build"/pyvenv/lib/python3*/site-packages; do
        printf 'import sys; sys.path.insert(0, %s)\n' \
            "'$DT_QEMU_MESON_PYTHONPATH'" > "$site/dt-meson.pth"
    done
fi

# QEMU run from its build tree only looks for firmware in qemu-bundle:
# point it at Debian's seabios and ipxe and the unpacked qemu-system-data.
fw_dir=$build/qemu-bundle/usr/local/share/qemu
mkdir -p "$fw_dir"
for dir in /usr/share/seabios /usr/lib/ipxe/qemu \
    "$DT_CACHE/firmware/qemu-system-data-$DT_QEMU_SUITE/root/usr/share/qemu"; do
    [ -d "$dir" ] || continue
    for f in "$dir"/*; do
        [ -e "$fw_dir/${f##*/}" ] || ln -s "$f" "$fw_dir/"
    done
done
[ -e "$fw_dir/bios-256k.bin" ] ||
    dt_die "no bios-256k.bin for QEMU: install the seabios package (scripts/install-deps.sh)"

targets+=("${extra_targets[@]}")
log=$build/ninja.log.txt
# ninja prints a line per step: keep the whole log, show every 250th line
# and anything that went wrong.
run_ninja() {
    ninja -C "$build" -j"$DT_JOBS" "${targets[@]}" 2>&1 | tee "$log" |
        awk 'NR % 250 == 1 || /FAILED|error:|warning:/ { print; fflush() }' >&2
}
if ! (dt_step "build QEMU: ${targets[*]}" run_ninja); then
    dt_die "QEMU build failed: see $log"
fi
# Our code must build without warnings (QEMU's Debian tree is not -Werror).
if grep -A3 -E '(dma-testdev)[^ ]*:[0-9]+:[0-9]+: warning' "$log" >&2; then
    dt_die "dma-testdev code compiled with warnings (see above)"
fi

echo "qemu_version=$qemu_version"
echo "qemu_src=$src"
echo "qemu_build=$build"
echo "qemu_variant=$variant"
if [ "$variant" = fuzz ]; then
    echo "qemu_fuzz=$build/qemu-fuzz-x86_64"
else
    echo "qemu_binary=$build/qemu-system-x86_64"
fi
