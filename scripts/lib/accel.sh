# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Choose the accelerator for guests that boot Linux: KVM only where it has
# been seen to boot Linux, TCG otherwise.  Sourced after lib/common.sh.
#
#   dt_probe_accel QEMU_BINARY KERNEL   prints kvm or tcg on stdout, the
#                                       reason on stderr
#   dt_accel_cpu ACCEL QEMU KERNEL      prints the -cpu model to use
#
# Environment:
#   DMA_TESTDEV_ACCEL=kvm|tcg|auto  skip the probe (auto or unset: probe)
#   DMA_TESTDEV_KVM_CPU=MODEL       the only -cpu model to use under KVM
#
# Why a real boot and not "is /dev/kvm there": on some machines /dev/kvm
# is a software hypervisor (e.g. kvm_pvm) that initialises fine, then the
# guest dies on an emulation failure (or stalls) and QEMU sits paused
# forever.  QEMU's own "-accel kvm -accel tcg" falls back only when KVM
# initialisation fails, so it does not help there and is never used.
#
# The verdict is cached in $DT_CACHE/accel-probe/, keyed by what decides
# it: the host (its kernel release and this boot of it), /dev/kvm's state,
# the QEMU binary (path and mtime) and the probe's settings.  Not by the
# guest kernel: whether KVM on this host runs Linux does not change with
# the bzImage, and a kernel developer's every rebuild would otherwise pay
# the probe again (up to ~40 s when KVM hangs).  The kernel given is only
# what the probe boots.

# The -cpu model under TCG (see dt_accel_cpu).
DT_TCG_CPU=max,erms=off,fsrm=off
# Seconds a probe boot may take: a tiny kernel reaches init in ~1 s under
# KVM and ~1.5 s under TCG; 20 s is far beyond a working KVM.
DT_ACCEL_PROBE_TIMEOUT=${DT_ACCEL_PROBE_TIMEOUT:-20}

# Console lines that show the kernel got to the hand-off to user space
# (with no initrd it then panics for want of init: that still proves the
# accelerator runs Linux).
_DT_ACCEL_BOOTED='Freeing unused kernel|Run /init|Run /sbin/init|No working init found|Unable to mount root fs'

# -cpu models tried under KVM, best first.  "max" (= host under KVM)
# exposes the most; some hypervisors reject its MSRs (QEMU then aborts on
# MSR 0x10a), so a baseline model is tried as well.
_dt_kvm_cpus() {
    if [ -n "${DMA_TESTDEV_KVM_CPU:-}" ]; then
        echo "$DMA_TESTDEV_KVM_CPU"
    else
        echo max qemu64
    fi
}

_dt_kvm_state() {
    if [ ! -e /dev/kvm ]; then
        echo absent
    elif [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
        echo usable
    else
        echo no-access
    fi
}

_dt_accel_cache_file() {
    local qemu=$1 key boot
    boot=$(cat /proc/sys/kernel/random/boot_id 2> /dev/null || echo unknown)
    key=$(printf '%s\n' v3 "$(uname -r)" "$boot" "$(_dt_kvm_state)" \
        "$qemu" "$(stat -Lc %Y "$qemu" 2> /dev/null)" \
        "${DMA_TESTDEV_KVM_CPU:-}" "$DT_ACCEL_PROBE_TIMEOUT" |
        sha256sum | cut -c1-16)
    echo "$DT_CACHE/accel-probe/$key"
}

# One probe boot under KVM with -cpu $3.  Prints "ok SECONDS", or
# "fail REASON".  Never leaves QEMU running: timeout -k kills it even when
# KVM has paused it on an internal error.
_dt_accel_try_kvm() {
    local qemu=$1 kernel=$2 cpu=$3 dir pid start now rc=0 status=''
    dir=$(mktemp -d "${TMPDIR:-/tmp}/dt-accel.XXXXXX")
    start=$(date +%s%N)
    timeout -k 5 "$DT_ACCEL_PROBE_TIMEOUT" "$qemu" -nodefaults -machine q35 \
        -accel kvm -cpu "$cpu" -m 256M -display none -no-reboot \
        -serial "file:$dir/console.log" -qmp "unix:$dir/qmp.sock,server=on,wait=off" \
        -kernel "$kernel" -append 'console=ttyS0 panic=-1' \
        > "$dir/qemu.log" 2>&1 &
    pid=$!
    # Poll rather than wait for the timeout: a working KVM answers in ~1 s.
    while kill -0 "$pid" 2> /dev/null; do
        if grep -qE "$_DT_ACCEL_BOOTED" "$dir/console.log" 2> /dev/null; then
            kill "$pid" 2> /dev/null || true
            break
        fi
        if grep -qiE 'emulation failure|internal error' "$dir/qemu.log"; then
            break
        fi
        now=$(date +%s%N)
        # Ask QEMU why it is quiet just before the timeout kills it.
        if [ $(((now - start) / 1000000000)) -ge $((DT_ACCEL_PROBE_TIMEOUT - 2)) ] &&
            [ -z "$status" ]; then
            status=$(PYTHONPATH="$DT_ROOT/scripts" "$DT_PYTHON" -m dmatd_vm.qmp \
                --qemu "$qemu" --timeout 1 "$dir/qmp.sock" query-status 2> /dev/null |
                sed -n 's/.*"status": "\([^"]*\)".*/\1/p') || true
            status=${status:-unknown}
        fi
        sleep 0.2
    done
    kill "$pid" 2> /dev/null || true
    wait "$pid" || rc=$?
    now=$(date +%s%N)

    local secs
    secs=$(awk -v ns=$((now - start)) 'BEGIN { printf "%.1f", ns / 1e9 }')
    if grep -qE "$_DT_ACCEL_BOOTED" "$dir/console.log" 2> /dev/null; then
        echo "ok $secs"
    elif grep -qiE 'could not access KVM|failed to initialize kvm|kvm.*not supported' "$dir/qemu.log"; then
        echo "noinit KVM does not initialise ($(grep -m1 -iE 'kvm' "$dir/qemu.log" | cut -c1-100))"
    elif grep -qiE 'emulation failure|internal error' "$dir/qemu.log"; then
        echo "fail -cpu $cpu: emulation failure"
    elif grep -q 'failed to set MSR' "$dir/qemu.log"; then
        echo "fail -cpu $cpu: QEMU aborts ($(grep -m1 -o 'failed to set MSR [^ ]*' "$dir/qemu.log"))"
    elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        local got=nothing
        [ -s "$dir/console.log" ] &&
            got="only up to '$(grep -v '^[[:space:]]*$' "$dir/console.log" | tail -n1 | cut -c1-60)'"
        echo "fail -cpu $cpu: the guest printed $got in ${DT_ACCEL_PROBE_TIMEOUT} s (state: ${status:-unknown})"
    else
        echo "fail -cpu $cpu: QEMU exited with status $rc ($(tail -n1 "$dir/qemu.log" | cut -c1-100))"
    fi
    rm -rf "$dir"
}

# dt_probe_accel QEMU_BINARY KERNEL
dt_probe_accel() {
    local qemu=$1 kernel=$2 cache verdict cpu r reasons=''
    case ${DMA_TESTDEV_ACCEL:-auto} in
    kvm | tcg)
        dt_log "accelerator: $DMA_TESTDEV_ACCEL (from DMA_TESTDEV_ACCEL)"
        echo "$DMA_TESTDEV_ACCEL"
        return 0
        ;;
    auto) ;;
    *) dt_die "DMA_TESTDEV_ACCEL=$DMA_TESTDEV_ACCEL: use kvm, tcg or auto" ;;
    esac

    case $(_dt_kvm_state) in
    absent)
        dt_log "accelerator: tcg (no /dev/kvm)"
        echo tcg
        return 0
        ;;
    no-access)
        dt_log "accelerator: tcg (/dev/kvm is not readable and writable by $(id -un))"
        echo tcg
        return 0
        ;;
    esac

    [ -x "$qemu" ] || dt_die "accelerator probe: no QEMU binary $qemu"
    [ -f "$kernel" ] || dt_die "accelerator probe: no kernel $kernel"
    cache=$(_dt_accel_cache_file "$qemu")
    if [ -f "$cache" ]; then
        verdict=$(sed -n 's/^accel=//p' "$cache")
        dt_log "accelerator: $verdict: $(sed -n 's/^reason=//p' "$cache") (cached probe)"
        echo "$verdict"
        return 0
    fi

    dt_log "probing KVM: booting $(basename "$kernel") under KVM (up to ${DT_ACCEL_PROBE_TIMEOUT} s per CPU model) ..."
    verdict=tcg
    for cpu in $(_dt_kvm_cpus); do
        r=$(_dt_accel_try_kvm "$qemu" "$kernel" "$cpu")
        case $r in
        ok\ *)
            verdict=kvm
            reasons="KVM booted Linux to init in ${r#ok } s with -cpu $cpu: using KVM"
            break
            ;;
        noinit\ *)
            # Without KVM initialising, no other CPU model will do better.
            reasons="${r#noinit }: using TCG"
            break
            ;;
        esac
        reasons="${reasons:+$reasons; }${r#fail }"
    done
    if [ "$verdict" = tcg ] && [[ $reasons != *'using TCG' ]]; then
        local what='cannot boot Linux here'
        [[ $reasons != *'emulation failure'* ]] || what+=' (emulation failure)'
        reasons="KVM initialises but $what: $reasons: using TCG"
    fi

    mkdir -p "$(dirname "$cache")"
    [ "$verdict" = kvm ] || cpu=''
    printf 'accel=%s\ncpu=%s\nreason=%s\n' "$verdict" "$cpu" "$reasons" > "$cache.tmp"
    mv "$cache.tmp" "$cache"
    dt_log "accelerator: $verdict: $reasons"
    echo "$verdict"
}

# dt_accel_reason QEMU KERNEL: why auto chose what it chose (the cached
# probe's verdict, or the state of /dev/kvm that made a probe pointless).
dt_accel_reason() {
    local cache
    case $(_dt_kvm_state) in
    absent) echo "no /dev/kvm: using TCG" ;;
    no-access) echo "/dev/kvm is not readable and writable by $(id -un): using TCG" ;;
    *)
        cache=$(_dt_accel_cache_file "$1")
        [ ! -f "$cache" ] || sed -n 's/^reason=//p' "$cache"
        ;;
    esac
}

# dt_accel_cpu ACCEL QEMU KERNEL: the -cpu model for that accelerator.
# TCG: max (all the features TCG emulates, e.g. cmpxchg16b, which a 7.x
# kernel wants).  KVM: the model the probe booted with, else the first
# candidate.
dt_accel_cpu() {
    local accel=$1 cache cpu=''
    if [ "$accel" = tcg ]; then
        # TCG runs REP STOSB/MOVSB a byte at a time: without ERMS and
        # FSRM the guest kernel zeroes and copies pages with REP STOSQ and
        # wider moves instead (1 GiB allocated 1.5 s sooner, boot 0.2 s).
        echo "$DT_TCG_CPU"
        return 0
    fi
    cache=$(_dt_accel_cache_file "$2")
    [ -f "$cache" ] && cpu=$(sed -n 's/^cpu=//p' "$cache")
    if [ -z "$cpu" ]; then
        read -r cpu _ <<< "$(_dt_kvm_cpus)"
    fi
    echo "$cpu"
}
