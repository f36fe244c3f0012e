# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Build everything the tests and the developer VM need, reusing whatever
# the cache already holds.  Sourced after lib/common.sh; scripts/test.sh
# and scripts/vm.sh share it so that they always test the same things.
#
#   dt_build_all [all|tests|device-only]
#
# sets DT_QEMU_VERSION DT_QEMU_BUILD DT_QEMU_BINARY DT_QEMU_VARIANT
# DT_QEMU_SRC (its python/ is QEMU's Python library), and
# unless "device-only": DT_KERNEL_VERSION DT_BZIMAGE DT_GUEST_BOOT (what the
# guests boot: the kernel's vmlinux through PVH, or the bzImage given as
# DMA_TESTDEV_BZIMAGE) DT_UAPI DT_KERNEL_SRC
# DT_INITRD DT_ACCEL; always DT_MESON_BUILD (our meson build tree: tests and
# guest tools).  "tests" also builds the second guest kernel, where iommufd
# serves the legacy VFIO container (scripts/build-kernel.sh --variant
# iommufd-container): DT_GUEST_BOOT_COMPAT, and the third, for Linux's
# iommufd selftest (--variant iommufd-selftest): DT_GUEST_BOOT_SELFTEST; both
# empty with DMA_TESTDEV_BZIMAGE.
#
# DMA_TESTDEV_QEMU_VARIANT=asan builds and uses QEMU and the qtests with
# ASan + UBSan (scripts/build-qemu.sh --variant asan) and exports the
# sanitizer options of lib/sanitizers.sh, so that any report fails.

# shellcheck source=scripts/lib/accel.sh
source "$DT_ROOT/scripts/lib/accel.sh"
# shellcheck source=scripts/lib/sanitizers.sh
source "$DT_ROOT/scripts/lib/sanitizers.sh"

_dt_var() {
    sed -n "s/^$1=//p" <<< "$2"
}

dt_build_all() {
    local what=${1:-all} vars key setup_args=()

    DT_QEMU_VARIANT=${DMA_TESTDEV_QEMU_VARIANT:-plain}
    case $DT_QEMU_VARIANT in
    plain) ;;
    asan) dt_sanitizer_env ;;
    *) dt_die "DMA_TESTDEV_QEMU_VARIANT=$DT_QEMU_VARIANT: tests run on plain or asan" \
        "(the fuzz variant is scripts/fuzz.sh's)" ;;
    esac
    vars=$("$DT_ROOT/scripts/build-qemu.sh" --variant "$DT_QEMU_VARIANT")
    DT_QEMU_VERSION=$(_dt_var qemu_version "$vars")
    DT_QEMU_BUILD=$(_dt_var qemu_build "$vars")
    DT_QEMU_BINARY=$(_dt_var qemu_binary "$vars")
    DT_QEMU_SRC=$(_dt_var qemu_src "$vars")
    dt_log "QEMU: $DT_QEMU_VERSION ($DT_QEMU_VARIANT: $DT_QEMU_BINARY)"
    setup_args+=(-Dqemu_build="$DT_QEMU_BUILD"
        -Dqemu_src="$DT_QEMU_SRC")
    "$DT_ROOT/scripts/install-deps.sh" lint

    if [ "$what" != device-only ]; then
        "$DT_ROOT/scripts/install-deps.sh" kernel
        vars=$("$DT_ROOT/scripts/build-kernel.sh")
        DT_KERNEL_VERSION=$(_dt_var kernel_version "$vars")
        DT_BZIMAGE=$(_dt_var bzimage "$vars")
        # vmlinux through PVH: no decompressor running under TCG (about
        # 1 s of every boot).  QEMU's PVH note reader needs
        # patches/qemu/0002-* for UBSan.
        DT_GUEST_BOOT=$(_dt_var boot "$vars")
        DT_UAPI=$(_dt_var uapi "$vars")
        DT_KERNEL_SRC=$(_dt_var kernel_src "$vars")
        dt_log "guest kernel: $DT_KERNEL_VERSION ($DT_BZIMAGE)"
        DT_ACCEL=$(dt_probe_accel "$DT_QEMU_BINARY" "$DT_BZIMAGE")
        setup_args+=(-Dkernel_uapi="$DT_UAPI" -Dkernel_src="$DT_KERNEL_SRC"
            -Dguest_kernel="$DT_GUEST_BOOT"
            -Dguest_accel="$DT_ACCEL")
    fi
    DT_GUEST_BOOT_COMPAT='' DT_GUEST_BOOT_SELFTEST=''
    if [ "$what" = tests ] && [ -z "${DMA_TESTDEV_BZIMAGE:-}" ]; then
        vars=$("$DT_ROOT/scripts/build-kernel.sh" --variant iommufd-container)
        DT_GUEST_BOOT_COMPAT=$(_dt_var boot "$vars")
        dt_log "second guest kernel (iommufd serves the VFIO container): $DT_GUEST_BOOT_COMPAT"
        vars=$("$DT_ROOT/scripts/build-kernel.sh" --variant iommufd-selftest)
        DT_GUEST_BOOT_SELFTEST=$(_dt_var boot "$vars")
        dt_log "third guest kernel (IOMMUFD_TEST, for iommufd's selftest): $DT_GUEST_BOOT_SELFTEST"
    fi
    setup_args+=(-Dguest_kernel_compat="$DT_GUEST_BOOT_COMPAT"
        -Dguest_kernel_selftest="$DT_GUEST_BOOT_SELFTEST")
    # Debian's DPDK and its driver SDK headers: guest/tools/dt-dpdk and
    # the dpdk suite (on the host's root filesystem in the guest).
    DT_DPDK_SDK=''
    if [ "$what" = tests ] || [ -n "${DT_WANT_DPDK:-}" ]; then
        vars=$("$DT_ROOT/scripts/fetch-dpdk.sh")
        DT_DPDK_SDK=$(_dt_var dpdk_sdk "$vars")
        dt_log "DPDK: $(_dt_var dpdk_version "$vars") (driver SDK headers: $DT_DPDK_SDK)"
    fi
    setup_args+=(-Ddpdk_sdk="$DT_DPDK_SDK")

    key=$(printf '%s\n' "$DT_ROOT" "$DT_QEMU_BUILD" | sha256sum | cut -c1-12)
    DT_MESON_BUILD=$DT_CACHE/build/dma-testdev-$key
    if [ -f "$DT_MESON_BUILD/build.ninja" ]; then
        meson setup --reconfigure "${setup_args[@]}" "$DT_MESON_BUILD" \
            "$DT_ROOT" > "$DT_MESON_BUILD/setup.log" 2>&1 ||
            { cat "$DT_MESON_BUILD/setup.log" >&2; dt_die "meson setup failed"; }
    else
        mkdir -p "$DT_MESON_BUILD"
        meson setup "${setup_args[@]}" "$DT_MESON_BUILD" "$DT_ROOT" \
            > "$DT_CACHE/build/setup-$key.log" 2>&1 ||
            { cat "$DT_CACHE/build/setup-$key.log" >&2; dt_die "meson setup failed"; }
    fi
    dt_step "build guest tools and initramfs" \
        meson compile -C "$DT_MESON_BUILD" > /dev/null
    if [ "$what" != device-only ]; then
        DT_INITRD=$DT_MESON_BUILD/guest/initramfs.cpio
        [ -f "$DT_INITRD" ] || dt_die "initramfs was not built: $DT_INITRD"
    fi
    export DT_QEMU_VERSION DT_QEMU_BUILD DT_QEMU_BINARY DT_QEMU_VARIANT DT_QEMU_SRC
    export DT_MESON_BUILD
    export DT_KERNEL_VERSION DT_BZIMAGE DT_GUEST_BOOT DT_UAPI DT_KERNEL_SRC
    export DT_INITRD DT_ACCEL
    export DT_GUEST_BOOT_COMPAT DT_GUEST_BOOT_SELFTEST
}
