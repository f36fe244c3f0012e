#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The developer VM: boot a Linux >= 7.3 guest on QEMU q35 with dma-testdev,
# run the pin + DMA check in it (dt-pin) and print a report.  Exit 0 only
# on pass, 1 on a failed run, 2 on bad options.
#
# Usage: scripts/vm.sh [options]     (scripts/vm.sh --help lists them)
#
# This script only does the build stages: whatever is missing (QEMU, the
# guest kernel, the guest tools and initramfs) is built as for
# scripts/test.sh (lib/build.sh), and the accelerator is probed
# (lib/accel.sh).  Then it hands over to the Python program
# scripts/dmatd_vm (python3 -m dmatd_vm), which parses the options, boots
# QEMU through the QEMU source tree's own python/qemu library
# (QEMUMachine, QMP) and prints the report.  The options are parsed there
# first (a bad one stops the run before any build), then passed on again
# with the resolved files appended (later options win).

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/build.sh
source "$DT_ROOT/scripts/lib/build.sh"

command -v "$DT_PYTHON" > /dev/null ||
    dt_die "$DT_PYTHON not found: install python3 (apt-get install python3)"
vm_py=(env "PYTHONPATH=$DT_ROOT/scripts${PYTHONPATH:+:$PYTHONPATH}"
    PYTHONDONTWRITEBYTECODE=1 "$DT_PYTHON" -m dmatd_vm)

# ---- Options (parsed and checked by the Python program) --------------

rc=0
vars=$("${vm_py[@]}" --x-build-vars "$@") || rc=$?
[ "$rc" -eq 0 ] || exit "$rc"
if [ "$(_dt_var help "$vars")" = 1 ]; then
    exec "${vm_py[@]}" --help
fi
kernel_arg=$(_dt_var kernel "$vars")
qemu_arg=$(_dt_var qemu "$vars")
accel=$(_dt_var accel "$vars")
cpu_arg=$(_dt_var cpu "$vars")
rootfs=$(_dt_var rootfs "$vars")
# The host's / in the guest: Debian's DPDK and dt-dpdk, which links with it.
if [ "$rootfs" = host ]; then
    DT_WANT_DPDK=1
fi
probed_accel='' qemu_src=''

# ---- Build stages -----------------------------------------------------

start_all=$(date +%s)

# Kernel: build-kernel.sh takes a foreign bzImage or source tree from the
# environment and still provides the UAPI headers the guest tools need.
if [ -n "$kernel_arg" ]; then
    if [ -f "$kernel_arg" ]; then
        DMA_TESTDEV_BZIMAGE=$(cd "$(dirname "$kernel_arg")" && pwd)/$(basename "$kernel_arg")
        export DMA_TESTDEV_BZIMAGE
    elif [ -d "$kernel_arg" ]; then
        DMA_TESTDEV_KERNEL_SRC=$(cd "$kernel_arg" && pwd)
        export DMA_TESTDEV_KERNEL_SRC
    else
        dt_die "--kernel $kernel_arg: no such bzImage or kernel source tree"
    fi
fi

if [ -n "$qemu_arg" ] && [ -f "$qemu_arg" ]; then
    # A ready QEMU binary: build only the guest side, without the meson
    # tree of the tests (which needs a QEMU build tree).
    [ -x "$qemu_arg" ] || dt_die "--qemu $qemu_arg is not executable"
    qemu_binary=$(cd "$(dirname "$qemu_arg")" && pwd)/$(basename "$qemu_arg")
    vars=$("$DT_ROOT/scripts/build-kernel.sh") ||
        dt_die "building the guest kernel failed (see above); scripts/build-kernel.sh alone reproduces it"
    bzimage=$(_dt_var bzimage "$vars")
    boot=$(_dt_var boot "$vars")
    kernel_version=$(_dt_var kernel_version "$vars")
    uapi=$(_dt_var uapi "$vars")
    kernel_src=$(_dt_var kernel_src "$vars")
    # The project's meson tree, guest side only (no QEMU build tree).
    guest_build=$DT_CACHE/build/guest-tools-$(printf '%s\n' "$DT_ROOT" "$uapi" |
        sha256sum | cut -c1-12)
    setup=(meson setup)
    if [ -f "$guest_build/build.ninja" ]; then
        setup+=(--reconfigure)
    else
        rm -rf "$guest_build"   # not a meson tree (an older cache layout)
    fi
    mkdir -p "$guest_build"
    dpdk_sdk=''
    if [ -n "${DT_WANT_DPDK:-}" ]; then
        vars=$("$DT_ROOT/scripts/fetch-dpdk.sh")
        dpdk_sdk=$(_dt_var dpdk_sdk "$vars")
    fi
    "${setup[@]}" -Dkernel_uapi="$uapi" -Dkernel_src="$kernel_src" \
        -Ddpdk_sdk="$dpdk_sdk" \
        "$guest_build" "$DT_ROOT" > "$guest_build/setup.log" 2>&1 ||
        { cat "$guest_build/setup.log" >&2; dt_die "meson setup of the guest tools failed"; }
    dt_step "build the guest tools and initramfs" \
        meson compile -C "$guest_build" > /dev/null
    initrd=$guest_build/guest/initramfs.cpio
    tools_dir=$guest_build/guest
    # QEMU's python/ (qemu.machine, qemu.qmp): that of the source tree the
    # binary was built from (found by the Python program in the build
    # tree's meson-info), else the fetched Debian QEMU source's.
    if [ ! -f "$(dirname "$qemu_binary")/meson-info/meson-info.json" ]; then
        qemu_src=$("$DT_ROOT/scripts/fetch-qemu.sh") ||
            dt_die "fetching QEMU's source (for its python/qemu library) failed"
    fi
else
    if [ -n "$qemu_arg" ]; then
        [ -d "$qemu_arg" ] ||
            dt_die "--qemu $qemu_arg: neither a qemu-system-x86_64 binary nor a QEMU source tree"
        DMA_TESTDEV_QEMU_SRC=$(cd "$qemu_arg" && pwd)
        export DMA_TESTDEV_QEMU_SRC
    fi
    # The same builds as scripts/test.sh (QEMU, kernel, guest tools,
    # initramfs), each a no-op when its cached result is current; it also
    # runs the accelerator probe (lib/accel.sh) unless --accel says.
    DMA_TESTDEV_ACCEL=$accel dt_build_all all
    qemu_binary=$DT_QEMU_BINARY qemu_src=$DT_QEMU_SRC
    bzimage=$DT_BZIMAGE boot=$DT_GUEST_BOOT kernel_version=$DT_KERNEL_VERSION
    initrd=$DT_INITRD
    tools_dir=$DT_MESON_BUILD/guest
    probed_accel=$DT_ACCEL
fi
[ -f "$bzimage" ] || dt_die "no guest kernel: $bzimage (scripts/build-kernel.sh)"
[ -s "$initrd" ] || dt_die "no initramfs: $initrd (scripts/make-initramfs.sh)"
build_s=$(($(date +%s) - start_all))

# ---- Accelerator ------------------------------------------------------

if [ "$accel" = auto ]; then
    accel=${probed_accel:-$(DMA_TESTDEV_ACCEL=auto dt_probe_accel "$qemu_binary" "$bzimage")}
    accel_why=$(dt_accel_reason "$qemu_binary" "$bzimage")
else
    accel_why="asked for with --accel $accel (or DMA_TESTDEV_ACCEL)"
    [ -n "$probed_accel" ] || dt_log "accelerator: $accel ($accel_why)"
fi
cpu=${cpu_arg:-$(dt_accel_cpu "$accel" "$qemu_binary" "$bzimage")}

# ---- The VM: the Python program, with the resolved files --------------

resolved=(--qemu "$qemu_binary" --kernel "$boot"
    --kernel-version "$kernel_version" --initrd "$initrd"
    --accel "$accel" --cpu "$cpu" --accel-why "$accel_why"
    --prereq-seconds "$build_s" --tools-dir "$tools_dir")
[ -z "$qemu_src" ] || resolved+=(--qemu-python "$qemu_src/python")
exec "${vm_py[@]}" "$@" "${resolved[@]}"
