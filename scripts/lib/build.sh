# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Build everything the tests and the developer VM need, reusing whatever
# the cache already holds.  Sourced after lib/common.sh; scripts/test.sh
# and scripts/vm.sh share it so that they always test the same things.
#
#   dt_build_all [all|tests|device-only] [MESON-TEST-ARGS...]
#
# With "tests" and meson test's arguments that select tests (names,
# globs, --suite), only the guest kernels the selected cases boot are
# built: a kernel developer's loop on guest/cdev/* pays for one kernel,
# not three.
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
# shellcheck source=scripts/lib/debian-apt.sh
source "$DT_ROOT/scripts/lib/debian-apt.sh"
# shellcheck source=scripts/lib/sanitizers.sh
source "$DT_ROOT/scripts/lib/sanitizers.sh"

_dt_var() {
    sed -n "s/^$1=//p" <<< "$2"
}

# _dt_build_kernels DIR FIRST VARIANT...: scripts/build-kernel.sh for each
# variant, its key=value lines in DIR/VARIANT.  FIRST (if not empty)
# builds alone, the others side by side after it: a variant of the same
# tree starts from the first one's build (build-kernel.sh), and two makes
# on two cores overlap each other's single-threaded parts (Kbuild's walk
# of the tree, the links).  Killed (TERM), it takes the running builds
# with it.
_dt_build_kernels() {
    local dir=$1 first=$2 variant pids=() rc=0 pid
    shift 2
    trap 'kill "${pids[@]}" 2> /dev/null; exit 143' TERM
    if [ -n "$first" ]; then
        DT_KERNEL_UAPI_READY=$dir/$first.uapi \
            "$DT_ROOT/scripts/build-kernel.sh" --variant "$first" > "$dir/$first" &
        pids=($!)
        wait "${pids[0]}" || return
        pids=()
    fi
    for variant in "$@"; do
        "$DT_ROOT/scripts/build-kernel.sh" --variant "$variant" \
            > "$dir/$variant" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do
        wait "$pid" || rc=$?
    done
    return "$rc"
}

# _dt_guest_early READY KEY: while the guest kernel still compiles, set up
# DT_MESON_BUILD and build it (the guest tools and initramfs) in the
# background at the lowest priority; early_pid is its pid, or 0 if READY
# (written by build-kernel.sh once the UAPI headers are in place) is not
# there yet.  They need nothing else of the kernel, and its make leaves a
# core idle at times, above all in the final link of vmlinux: they take
# that, not the kernel's cores.  After the kernel, the setup only adds
# the guest kernel and the accelerator (meson reconfigures in 1 s and
# recompiles nothing), and the same ninja finds nothing left; if this
# build failed, that one fails the same way and says so.
_dt_guest_early() {
    local ready=$1 key=$2 log=$DT_CACHE/build/early-$2.log
    early_pid=0
    [ -s "$ready" ] || return 0
    dt_log "guest tools and initramfs: building beside the kernel, at the lowest priority (log: $log)"
    (
        renice -n 19 -p "$BASHPID" > /dev/null
        _dt_meson_setup "$key" -Dkernel_uapi="$(_dt_var uapi "$(cat "$ready")")" \
            -Dkernel_src="$(_dt_var kernel_src "$(cat "$ready")")"
        exec ninja -C "$DT_MESON_BUILD"
    ) > "$log" 2>&1 &
    early_pid=$!
}

# ninja itself (meson compile would add a Python start, 0.3 s), its
# output in a log whose end is shown when a step fails.
_dt_ninja() {
    ninja -C "$1" > "$1/ninja.log.txt" 2>&1 ||
        { tail -n 40 "$1/ninja.log.txt" >&2; return 1; }
}

# _dt_meson_setup KEY [ARG...]: set up DT_MESON_BUILD with dt_build_all's
# setup_args, the ARGs and the variant kernels' options (KEY names the
# first setup's log).  Again (0.9 s) only when something that setting up reads
# changed: an option, meson itself, or what meson.build reads at
# configure time (the two qtests' -l listings, the VFIO selftest patches'
# names).  ninja runs meson again by itself when a meson.build changes.
_dt_meson_setup() {
    local key=$1 args stamp
    shift
    args=("${setup_args[@]}" "$@"
        -Dguest_kernel_compat="${DT_GUEST_BOOT_COMPAT:-}"
        -Dguest_kernel_selftest="${DT_GUEST_BOOT_SELFTEST:-}")
    stamp=$(printf '%s\n' "${args[@]}"
        stat -L -c '%n %s %Y' "$(command -v meson)" \
            "$DT_QEMU_BUILD/tests/qtest/dma-testdev-guest-test" \
            "$DT_QEMU_BUILD/tests/qtest/dma-testdev-hardening-test" 2>&1
        ls "$DT_ROOT/patches/linux/vfio-selftests")
    if [ -f "$DT_MESON_BUILD/build.ninja" ] &&
       [ "$(cat "$DT_MESON_BUILD/.dt-setup" 2> /dev/null)" = "$stamp" ]; then
        return 0
    fi
    if [ -f "$DT_MESON_BUILD/build.ninja" ]; then
        rm -f "$DT_MESON_BUILD/.dt-setup"
        meson setup --reconfigure "${args[@]}" "$DT_MESON_BUILD" \
            "$DT_ROOT" > "$DT_MESON_BUILD/setup.log" 2>&1 ||
            { cat "$DT_MESON_BUILD/setup.log" >&2; dt_die "meson setup failed"; }
    else
        mkdir -p "$DT_MESON_BUILD"
        meson setup "${args[@]}" "$DT_MESON_BUILD" "$DT_ROOT" \
            > "$DT_CACHE/build/setup-$key.log" 2>&1 ||
            { cat "$DT_CACHE/build/setup-$key.log" >&2; dt_die "meson setup failed"; }
    fi
    printf '%s\n' "$stamp" > "$DT_MESON_BUILD/.dt-setup"
}

# _dt_kernels_for MESON-TEST-ARGS...: the variant kernels that the tests
# these arguments select boot, one per line.  meson says which tests the
# arguments select (--list), the guest qtest which of its cases boot
# which kernel (DT_GUEST_KERNEL_KIND with -l).
_dt_kernels_for() {
    local names list kind variant
    names=$(meson test -C "$DT_MESON_BUILD" --list "$@" 2> /dev/null |
        sed 's|^.* / ||') || return 0
    for kind in compat:iommufd-container selftest:iommufd-selftest; do
        variant=${kind#*:}
        list=$(QTEST_QEMU_BINARY=$DT_QEMU_BINARY DT_GUEST_KERNEL_KIND=${kind%%:*} \
            "$DT_QEMU_BUILD/tests/qtest/dma-testdev-guest-test" -l |
            sed -n 's|^/x86_64/dma-testdev/||p')
        if [ -n "$list" ] && grep -qxF -f <(printf '%s\n' "$list") <<< "$names"; then
            echo "$variant"
        fi
    done
}

# DT_GUEST_BOOT_COMPAT and DT_GUEST_BOOT_SELFTEST from the variants that
# _dt_build_kernels built into DIR.
_dt_variant_boots() {
    if [ -f "$1/iommufd-container" ]; then
        DT_GUEST_BOOT_COMPAT=$(_dt_var boot "$(cat "$1/iommufd-container")")
        dt_log "second guest kernel (iommufd serves the VFIO container): $DT_GUEST_BOOT_COMPAT"
    fi
    if [ -f "$1/iommufd-selftest" ]; then
        DT_GUEST_BOOT_SELFTEST=$(_dt_var boot "$(cat "$1/iommufd-selftest")")
        dt_log "third guest kernel (IOMMUFD_TEST, for iommufd's selftest): $DT_GUEST_BOOT_SELFTEST"
    fi
}

# Meson trees whose QEMU build tree is gone can never be used again: their
# key holds that build tree's path (a gone checkout's QEMU copy, which
# prepare-qemu.sh removes, or a build tree removed by hand).  31 MB each,
# one or two per CI clone, and nothing removed them.
_dt_prune_meson_trees() {
    local d q
    for d in "$DT_CACHE"/build/dma-testdev-*/; do
        d=${d%/}
        q=$(sed -n 's/^qemu_build = //p' "$d/meson-private/cmd_line.txt" \
            2> /dev/null) || continue
        if [ -z "$q" ] || [ -d "$q" ]; then
            continue
        fi
        rm -rf "$d" "$DT_CACHE/build/setup-${d##*/dma-testdev-}.log" \
            "$DT_CACHE/build/early-${d##*/dma-testdev-}.log"
    done
}

dt_build_all() {
    local what=${1:-all} vars key setup_args=() groups=(qemu lint)
    local kernels=() kdir='' kpid=0 krc=0 exit_trap select_later=0 variants
    local early_pid=0
    [ $# -eq 0 ] || shift

    DT_QEMU_VARIANT=${DMA_TESTDEV_QEMU_VARIANT:-plain}
    case $DT_QEMU_VARIANT in
    plain) ;;
    asan) dt_sanitizer_env ;;
    *) dt_die "DMA_TESTDEV_QEMU_VARIANT=$DT_QEMU_VARIANT: tests run on plain or asan" \
        "(the fuzz variant is scripts/fuzz.sh's)" ;;
    esac
    # Every Debian package first, in one apt-get call, and the private apt
    # lists refreshed: what follows runs side by side.
    [ "$what" = device-only ] || groups+=(kernel)
    if [ "$what" = tests ] || [ -n "${DT_WANT_DPDK:-}" ]; then
        groups+=(dpdk)
    fi
    "$DT_ROOT/scripts/install-deps.sh" "${groups[@]}"
    dt_apt_private_setup

    # The guest kernels build in the background while QEMU builds.  On two
    # cores both compiles are CPU-bound, so this gains the steps that use
    # one core or none (downloads, unpacking, configure, Kconfig, links,
    # headers_install); see docs/benchmarks.rst for what it measured.  A
    # warm run finds both cached at once.  Their progress lines interleave;
    # each names its step.
    if [ "$what" != device-only ]; then
        kernels=(default)
        if [ "$what" = tests ] && [ -z "${DMA_TESTDEV_BZIMAGE:-}" ]; then
            if [ $# -eq 0 ]; then
                kernels+=(iommufd-container iommufd-selftest)
            else
                # Which of the other two: once meson knows the tests.
                select_later=1
            fi
        fi
        kdir=$(mktemp -d "${TMPDIR:-/tmp}/dt-kernels.XXXXXX")
        _dt_build_kernels "$kdir" "${kernels[@]}" &
        kpid=$!
        # If QEMU's build fails, the script exits: stop the kernel build
        # with it (the caller's own EXIT trap comes back afterwards).
        exit_trap=$(trap -p EXIT)
        # shellcheck disable=SC2064 # expanded now: the pid and directory
        trap "kill $kpid 2> /dev/null; wait $kpid 2> /dev/null; rm -rf '$kdir'" EXIT
    fi

    vars=$("$DT_ROOT/scripts/build-qemu.sh" --variant "$DT_QEMU_VARIANT")
    DT_QEMU_VERSION=$(_dt_var qemu_version "$vars")
    DT_QEMU_BUILD=$(_dt_var qemu_build "$vars")
    DT_QEMU_BINARY=$(_dt_var qemu_binary "$vars")
    DT_QEMU_SRC=$(_dt_var qemu_src "$vars")
    dt_log "QEMU: $DT_QEMU_VERSION ($DT_QEMU_VARIANT: $DT_QEMU_BINARY)"
    setup_args+=(-Dqemu_build="$DT_QEMU_BUILD"
        -Dqemu_src="$DT_QEMU_SRC")
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
    _dt_prune_meson_trees

    if [ "$what" != device-only ]; then
        if kill -0 "$kpid" 2> /dev/null; then
            dt_log "QEMU is built; waiting for the guest kernel build ..."
            _dt_guest_early "$kdir/default.uapi" "$key"
            if [ "$early_pid" -ne 0 ]; then
                # shellcheck disable=SC2064 # expanded now: the pids and directory
                trap "kill $kpid $early_pid 2> /dev/null; wait $kpid $early_pid 2> /dev/null; rm -rf '$kdir'" EXIT
            fi
        fi
        wait "$kpid" || krc=$?
        if [ "$early_pid" -ne 0 ]; then
            [ "$krc" -eq 0 ] || kill "$early_pid" 2> /dev/null || true
            if wait "$early_pid" 2> /dev/null; then
                dt_log "guest tools and initramfs: built beside the kernel"
            elif [ "$krc" -eq 0 ]; then
                dt_log "guest tools and initramfs: their build beside the kernel failed; again now"
            fi
        fi
        if [ -n "$exit_trap" ]; then eval "$exit_trap"; else trap - EXIT; fi
        if [ "$krc" -ne 0 ]; then
            rm -rf "$kdir"
            dt_die "building the guest kernel failed (above);" \
                "scripts/build-kernel.sh reproduces it alone"
        fi
        vars=$(cat "$kdir/default")
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
    [ -z "$kdir" ] || _dt_variant_boots "$kdir"
    [ -z "$kdir" ] || rm -rf "$kdir"
    _dt_meson_setup "$key"
    if [ "$select_later" -eq 1 ]; then
        mapfile -t variants < <(_dt_kernels_for "$@")
        if [ ${#variants[@]} -eq 0 ]; then
            dt_log "the selected tests boot only the default guest kernel:" \
                "the other two are not built"
        else
            kdir=$(mktemp -d "${TMPDIR:-/tmp}/dt-kernels.XXXXXX")
            # shellcheck disable=SC2064 # expanded now: the directory
            trap "rm -rf '$kdir'" EXIT
            (_dt_build_kernels "$kdir" "" "${variants[@]}") || krc=$?
            if [ -n "$exit_trap" ]; then eval "$exit_trap"; else trap - EXIT; fi
            [ "$krc" -eq 0 ] || { rm -rf "$kdir"; dt_die "building a guest kernel failed (above)"; }
            _dt_variant_boots "$kdir"
            rm -rf "$kdir"
            _dt_meson_setup "$key"
        fi
    fi
    dt_step "build guest tools and initramfs" _dt_ninja "$DT_MESON_BUILD"
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
