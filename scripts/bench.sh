#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Benchmarks: measure, compare each figure with a limit measured in the
# same run, and print one table (what, figure, limit, ratio, target,
# PASS/MISS, the command that reproduces the row).  docs/benchmarks.rst
# explains every row and the last measured table.
#
#   1. bulk DMA throughput of the register path, host-driven (accel qtest,
#      tests/qtest/dma-testdev-bench), timed by the device itself (its
#      trace event dma_testdev_callback): WRITE_PATTERN, VERIFY_PATTERN
#      and COPY against memset, a read pass and memcpy on the host, and
#      beside them the device's own loop on host memory (no DMA around
#      it): what the contract's checksum allows on this host
#   2. small-command round trip in a guest (dt-bench --rtt): doorbell to
#      completion, polled and by MSI-X eventfd, against an MMIO read
#   3. pin + translate (dt-bench --pin) against /proc/self/pagemap, and
#      pin + translate + WRITE + VERIFY of 1 GiB end to end (--whole)
#   4. developer VM boot to result (scripts/vm.sh), TCG; KVM where the
#      probe says it boots Linux
#   5. the test command: warm wall time, rebuild after a one-line device
#      edit, (--cold) the README's two commands on an empty cache,
#      (--ci) CI's job in a fresh clone on this machine's warm cache,
#      and (--kernel-loop) a kernel developer's edit-to-test loop
#
# Usage: scripts/bench.sh [options]
#   --runs N          repetitions of every repeated measurement; the table
#                     shows medians (3)
#   --suite-runs N    warm runs of scripts/test.sh (1; 0 skips the row)
#   --cold [LIST]     also time the README's commands, each with
#                     DMA_TESTDEV_CACHE at an empty directory of its own:
#                     main (scripts/vm.sh, ~13 min), test (scripts/test.sh,
#                     ~30 min), comma separated (default: main,test).
#                     The packages install-deps.sh installed stay: only
#                     the project's cache is cold.
#   --ci              also time .ci/run (all tests, the main job, all tests
#                     on ASan + UBSan) in a fresh clone of this checkout's
#                     HEAD in a new folder, as CI runs it, with the warm
#                     cache (~12 min); commit first: the clone has only
#                     what HEAD has
#   --kernel-loop     also time a kernel developer's loop: a one-line edit
#                     of drivers/iommu/iommufd/ioas.c in a tree of one's
#                     own (a hard-link copy of the guest kernel's source,
#                     kept in the cache), then scripts/test.sh --suite
#                     guest guest/cdev/4k-1M up to its first test; that
#                     case boots the default kernel, the only one built
#                     (lib/build.sh); the first run builds it from
#                     nothing once (~11 min, not timed)
#   --only LIST       rows to measure, comma separated: bulk, rtt, pin,
#                     boot, suite (all)
#   --format text|rst the table as text (default) or an RST list-table
#   --keep            keep the raw outputs (their directory is printed)
#   -h, --help        this text
# Environment: as scripts/test.sh and scripts/vm.sh (DMA_TESTDEV_CACHE,
#   DMA_TESTDEV_ACCEL, ...).  Progress goes to stderr, the table to
#   stdout.
#
# The machine should be otherwise idle: the figures are wall times.

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/build.sh
source "$DT_ROOT/scripts/lib/build.sh"

usage() {
    sed -n '/^# Usage:/,/^# The machine/{/^# The machine/d;s/^# \{0,1\}//;p}' "$0"
}

runs=3 suite_runs=1 cold='' ci=0 kloop=0 only='bulk,rtt,pin,boot,suite' format=text keep=0
while [ $# -gt 0 ]; do
    case $1 in
    --runs | --suite-runs | --only | --format)
        [ $# -ge 2 ] || dt_die "$1 needs an argument (see --help)"
        ;;
    esac
    case $1 in
    --runs) runs=$2; shift 2 ;;
    --suite-runs) suite_runs=$2; shift 2 ;;
    --cold)
        if [ $# -ge 2 ] && [[ $2 =~ ^(main|test)(,(main|test))*$ ]]; then
            cold=$2; shift 2
        else
            cold=main,test; shift
        fi
        ;;
    --ci) ci=1; shift ;;
    --kernel-loop) kloop=1; shift ;;
    --only) only=$2; shift 2 ;;
    --format) format=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) dt_die "unknown option '$1' (see scripts/bench.sh --help)" ;;
    esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || dt_die "--runs $runs: a number >= 1"
[[ $suite_runs =~ ^[0-9]+$ ]] || dt_die "--suite-runs $suite_runs: a number"
case $format in text | rst) ;; *) dt_die "--format $format: text or rst" ;; esac
for w in ${only//,/ }; do
    case $w in bulk | rtt | pin | boot | suite) ;; *) dt_die "--only: unknown row group '$w'" ;; esac
done
want() {
    [[ ,$only, == *,$1,* ]]
}

work=$(mktemp -d "${TMPDIR:-/tmp}/dt-bench.XXXXXX")
restore_cmd=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    if [ ${#restore_cmd[@]} -gt 0 ]; then
        "${restore_cmd[@]}" || true
    fi
    if [ "$keep" -eq 1 ]; then
        dt_log "raw outputs kept in $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# ---- Small helpers ------------------------------------------------------

# calc EXPR: floating point arithmetic (awk), printed with %.6g.
calc() {
    awk "BEGIN { printf \"%.6g\", $1 }"
}

# fmt VALUE DIGITS: a number with that many decimals.
fmt() {
    awk -v v="$1" -v d="$2" 'BEGIN { printf "%.*f", d, v }'
}

# median of the numbers on stdin.
median() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "nan"; exit }
        if (NR % 2) print v[(NR + 1) / 2]
        else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# kv KEY LINE: the value of key=value in LINE.
kv() {
    sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<< " $2"
}

# judge VALUE OP TARGET: PASS or MISS (OP is one of < <= >= >).
judge() {
    awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
        ok = (op == "<") ? v < t : (op == "<=") ? v <= t : (op == ">=") ? v >= t : v > t
        print ok ? "PASS" : "MISS" }'
}

size_name() {
    local b=$1
    if [ "$b" -ge $((1 << 30)) ] && [ $((b % (1 << 30))) -eq 0 ]; then
        echo "$((b >> 30)) GiB"
    elif [ "$b" -ge $((1 << 20)) ] && [ $((b % (1 << 20))) -eq 0 ]; then
        echo "$((b >> 20)) MiB"
    else
        echo "$((b >> 10)) KiB"
    fi
}

R_WHAT=() R_FIG=() R_LIMIT=() R_RATIO=() R_TARGET=() R_RESULT=() R_CMD=()
row() {
    R_WHAT+=("$1") R_FIG+=("$2") R_LIMIT+=("$3") R_RATIO+=("$4")
    R_TARGET+=("$5") R_RESULT+=("$6") R_CMD+=("$7")
}

# Wall time of a command in seconds (its output goes to $2).
timed() {
    local out=$1 t0 t1 rc=0
    shift
    t0=$(date +%s.%N)
    "$@" > "$out" 2>&1 || rc=$?
    t1=$(date +%s.%N)
    calc "$t1 - $t0"
    return "$rc"
}

# stamp_lines: each line of stdin with the second it came in front.
stamp_lines() {
    local line
    while IFS= read -r line; do
        printf '%(%s)T %s\n' -1 "$line"
    done
}

# cold_run OUT COMMAND: the wall time of COMMAND with DMA_TESTDEV_CACHE at
# an empty directory of its own, removed afterwards; the output goes to OUT,
# and to OUT.stamped with the second each line came (the builds run side by
# side, so which seconds had a compile running comes from these).
cold_run() {
    local out=$1 cache t0 t1 rc=0
    shift
    cache=$(mktemp -d "${TMPDIR:-/tmp}/dt-cold-cache.XXXXXX")
    dt_log "cold: $(rel "$1") with DMA_TESTDEV_CACHE=$cache (empty)"
    t0=$(date +%s.%N)
    DMA_TESTDEV_CACHE=$cache "$@" 2>&1 | stamp_lines > "$out.stamped" || rc=$?
    t1=$(date +%s.%N)
    cut -d' ' -f2- "$out.stamped" > "$out"
    rm -rf "$cache"
    calc "$t1 - $t0"
    return "$rc"
}

# A step's last line: "NAME: done in N s, CPU M s" (scripts/lib/common.sh).
done_re='done in ([0-9]+) s, CPU ([0-9]+) s$'

# compiling_s STAMPED: the seconds in which QEMU's ninja or the kernel's
# make bzImage ran, a second in which both ran counted once (from each
# step's "done in N s" line and the second it came).
compiling_s() {
    sed -nE "s/^([0-9]+) .*(build QEMU: .*|make bzImage -j[0-9]+): $done_re/\\1 \\3/p" "$1" |
        awk '{ print $1 - $2, $1 }' | sort -n | awk '
        $1 > end { total += end - start; start = $1; end = $2; next }
        $2 > end { end = $2 }
        END { print total + end - start }'
}

# ---- Build (warm) ---------------------------------------------------------

dt_log "load before: $(cut -d' ' -f1-3 /proc/loadavg) (nproc $(nproc)); the figures are wall times"
dt_build_all all
qemu_src=$(sed -n 's/^SRC_PATH=//p' "$DT_QEMU_BUILD/config-host.mak")
bench_bin=$DT_QEMU_BUILD/tests/qtest/dma-testdev-bench
[ -x "$bench_bin" ] || dt_die "no $bench_bin: scripts/build-qemu.sh builds it"
rel() {
    local p=$1
    p=${p/#$DT_CACHE/\$DMA_TESTDEV_CACHE}
    echo "${p/#$DT_ROOT\//}"
}

# ---- 1. Bulk DMA, register path, accel qtest --------------------------------

if want bulk; then
    dt_log "bulk DMA: $runs runs of $(rel "$bench_bin") (sizes up to 256 MiB)"
    for r in $(seq "$runs"); do
        QTEST_QEMU_BINARY=$DT_QEMU_BINARY DT_BENCH_MAX_MIB=256 \
            "$bench_bin" --tap > "$work/bulk.$r" 2>&1 ||
            { cat "$work/bulk.$r" >&2; dt_die "dma-testdev-bench failed (run $r)"; }
    done
    bulk_cmd="B=\$(scripts/build-qemu.sh | sed -n s/^qemu_build=//p) && QTEST_QEMU_BINARY=\$B/qemu-system-x86_64 DT_BENCH_MAX_MIB=256 \$B/tests/qtest/dma-testdev-bench --tap"
    writel=$({ grep -hs '^# bench op=qtest-writel' "$work"/bulk.* || true; } |
        while read -r l; do kv us "$l"; done | median)
    lanes=$({ grep -hs '^# bench op=qtest-writel' "$work"/bulk.* || true; } |
        head -n1 | while read -r l; do kv datapath_lanes "$l"; done)
    case $lanes in
    8) lanes="eight words at a time (AVX-512)" ;;
    4) lanes="four words at a time (AVX2)" ;;
    *) lanes="one word at a time" ;;
    esac
    for op in write-pattern verify-pattern copy; do
        case $op in
        write-pattern) opname=WRITE_PATTERN host='memset' target=0.5 ;;
        verify-pattern) opname=VERIFY_PATTERN host='read pass (sum of 64-bit words)' target=0.5 ;;
        copy) opname=COPY host='memcpy' target=0.8 ;;
        esac
        for size in 4096 65536 1048576 16777216 268435456; do
            lines=$(grep -hs "^# bench op=$op size=$size " "$work"/bulk.*) || continue
            own=$(while read -r l; do kv own_gbps "$l"; done <<< "$lines" | median)
            dev=$(while read -r l; do kv dev_gbps "$l"; done <<< "$lines" | median)
            hst=$(while read -r l; do kv host_gbps "$l"; done <<< "$lines" | median)
            csum=$(while read -r l; do kv host_csum1_gbps "$l"; done <<< "$lines" | median)
            loop=$(while read -r l; do kv loop_gbps "$l"; done <<< "$lines" | median)
            ratio=$(calc "$own / $hst")
            if [ "$size" -ge 1048576 ]; then
                tgt=">= $target" res=$(judge "$ratio" '>=' "$target")
            else
                tgt="-" res=info
            fi
            row "bulk $opname $(size_name "$size"), 1 segment, device GB/s (with the qtest round trip: $(fmt "$dev" 2))" \
                "$(fmt "$own" 2)" "$host $(fmt "$hst" 2) (the device's loop alone: $(fmt "$loop" 2), $(fmt "$(calc "$loop / $hst")" 2)x; checksum one word at a time: $(fmt "$csum" 2))" \
                "$(fmt "$ratio" 3)" "$tgt" "$res" "$bulk_cmd"
        done
    done
    row "  the qtest round trip of a register write, us (in no device figure: the device times itself)" \
        "$(fmt "$writel" 1)" "-" "-" "-" "info" "$bulk_cmd"
    row "  the device's data path on this host: $lanes" "-" "-" "-" "-" "info" "$bulk_cmd"
fi

# ---- 2 + 3. In the guest: round trips, pin + translate, 1 GiB end to end ---

vm_console() {
    sed -n 's/^  console log  //p' "$1"
}

# guest_runs TAG CMD [vm.sh options]: boot the developer VM --runs times
# with 3 GiB of RAM and dt-bench CMD in it; its "bench:" lines go to
# $work/TAG.N.  The VM's own report may fail for reasons of its own (e.g.
# a TAP plan or exit status it expects from dt-pin): what counts is that
# dt-bench finished.
guest_runs() {
    local tag=$1 cmd=$2 r con
    shift 2
    dt_log "guest: $runs boots of scripts/vm.sh --mem 3G $* --run \"$cmd\""
    for r in $(seq "$runs"); do
        "$DT_ROOT/scripts/vm.sh" --mem 3G "$@" --run "$cmd" > "$work/$tag.$r.report" \
            2> "$work/$tag.$r.err" ||
            dt_log "warning: scripts/vm.sh reported a failure (run $r): $(grep -A1 '^RESULT' "$work/$tag.$r.report" | tail -n1)"
        con=$(vm_console "$work/$tag.$r.report")
        [ -f "$con" ] || { cat "$work/$tag.$r.err" >&2; dt_die "no console log for '$cmd' (run $r)"; }
        grep -a '^bench: ' "$con" | tr -d '\r' > "$work/$tag.$r"
        if grep -q 'what=error' "$work/$tag.$r" || ! grep -q 'what=done' "$work/$tag.$r"; then
            grep -a -B5 'what=error' "$con" >&2 || tail -n 20 "$con" >&2
            dt_die "dt-bench failed (run $r): see $con"
        fi
    done
}

# gmed TAG WHAT KEY [FILTER]: median over the runs of KEY in the
# "what=WHAT" lines of guest_runs TAG.
gmed() {
    local r
    for r in $(seq "$runs"); do
        grep -hs "what=$2 ${4:-}" "$work/$1.$r" || true
    done | while read -r l; do kv "$3" "$l"; done | median
}

# The guests' default under TCG is max,erms=off,fsrm=off (lib/accel.sh);
# plain max, for comparison, has TCG run REP STOSB a byte at a time.
erms_cpu=max
if want rtt || want pin; then
    args=()
    want rtt && args+=(--rtt)
    want pin && args+=(--pin)
    guest_runs g "dt-bench ${args[*]}"
    guest_cmd="scripts/vm.sh --mem 3G --run \"dt-bench ${args[*]}\""
fi
if want pin; then
    # The end-to-end run on a freshly booted guest, as a user would do it.
    guest_runs whole "dt-bench --whole"
    guest_runs whole-erms "dt-bench --whole" --cpu "$erms_cpu"
    whole_cmd="scripts/vm.sh --mem 3G --run \"dt-bench --whole\""
fi

if want rtt; then
    # Targets (issue 14): the median against the MMIO read, 10x when the
    # guest polls and 20x through MSI-X; the 99th percentile against the
    # same method's median, 3x.
    mmio=$(gmed g mmio-read median_ns)
    mmio99=$(gmed g mmio-read p99_ns)
    for how in poll msix; do
        case $how in
        poll) what='poll the CQ phase bit' target=10 ;;
        msix) what='MSI-X via VFIO eventfd' target=20 ;;
        esac
        med=$(gmed g "queue-$how" median_ns)
        p99=$(gmed g "queue-$how" p99_ns)
        ratio=$(calc "$med / $mmio")
        row "queue round trip, 64 B WRITE_PATTERN, $what, median, us" \
            "$(fmt "$(calc "$med / 1000")" 2)" \
            "MMIO read of DMATD_REG_ID, median: $(fmt "$(calc "$mmio / 1000")" 3) us" \
            "$(fmt "$ratio" 1)" "<= $target" "$(judge "$ratio" '<=' "$target")" "$guest_cmd"
        ratio=$(calc "$p99 / $med")
        row "queue round trip, 64 B WRITE_PATTERN, $what, p99, us" \
            "$(fmt "$(calc "$p99 / 1000")" 2)" \
            "its median: $(fmt "$(calc "$med / 1000")" 2) us (MMIO read p99: $(fmt "$(calc "$mmio99 / 1000")" 3) us)" \
            "$(fmt "$ratio" 1)" "<= 3" "$(judge "$ratio" '<=' 3)" "$guest_cmd"
    done
fi

if want pin; then
    for len in 4096 2097152 67108864 1073741824; do
        f="len=$len "
        grep -qs "what=pin $f" "$work"/g.1 || continue
        pin=$(gmed g pin pin_pps "$f")
        pm=$(gmed g pin pagemap_pps "$f")
        nruns=$(gmed g pin runs "$f")
        nruns=$(fmt "$nruns" 0)
        [ "$nruns" = 1 ] && nruns='1 run' || nruns+=' runs'
        row "pin IOAS_MAP + GET_PA loop, $(size_name "$len") of 4 KiB pages ($nruns), pages/s" \
            "$(fmt "$pin" 0)" "pagemap read of the same mlocked pages: $(fmt "$pm" 0)" \
            "$(fmt "$(calc "$pin / $pm")" 3)" "-" "info" "$guest_cmd"
    done
    # Without the allocation: the buffer exists (faulted in) already.
    for tag in whole whole-erms; do
        for r in $(seq "$runs"); do
            l=$(grep -h 'what=whole' "$work/$tag.$r")
            calc "$(kv map_s "$l") + $(kv getpa_s "$l") + $(kv write_s "$l") + $(kv verify_s "$l") + $(kv check_s "$l")"
            echo
        done > "$work/$tag.nalloc"
    done
    nalloc=$(median < "$work/whole.nalloc")
    row "pin + GET_PA + WRITE_PATTERN + VERIFY, 1 GiB of 4 KiB pages already faulted in, TCG, s" \
        "$(fmt "$nalloc" 2)" "-" "-" "< 10" "$(judge "$nalloc" '<' 10)" "$whole_cmd"
    total=$(gmed whole whole total_s)
    row "the same, including allocating + faulting in the buffer (fresh guest, -cpu $DT_TCG_CPU), s" \
        "$(fmt "$total" 2)" "-" "-" "<= 5" "$(judge "$total" '<=' 5)" "$whole_cmd"
    for step in alloc map getpa write verify; do
        case $step in
        alloc) what='allocate and fault in (guest kernel zeroes 1 GiB)' ;;
        map) what='IOMMU_IOAS_MAP (pin)' ;;
        getpa) what="IOMMU_IOAS_NOIOMMU_GET_PA loop ($(fmt "$(gmed whole whole runs)" 0) runs)" ;;
        write) what='WRITE_PATTERN (register path)' ;;
        verify) what='VERIFY_PATTERN (register path)' ;;
        esac
        row "  of which: $what, s" "$(fmt "$(gmed whole whole "${step}_s")" 3)" \
            "-" "-" "-" "info" "$whole_cmd"
    done
    row "  the same with -cpu $erms_cpu (REP STOSB, a byte loop under TCG), s" \
        "$(fmt "$(gmed whole-erms whole total_s)" 2)" "-" "-" "< 10" "info" \
        "scripts/vm.sh --mem 3G --cpu $erms_cpu --run \"dt-bench --whole\""
fi

# ---- 4. Developer VM boot to result ------------------------------------------

# boot_runs TAG [vm.sh options]: the default check --runs times; prints
# the median boot-to-result time.  A run whose report says FAIL is counted
# (in $work/TAG.fails) and shown, its time still counts.
boot_runs() {
    local tag=$1 r
    shift
    : > "$work/$tag.fails"
    for r in $(seq "$runs"); do
        if ! "$DT_ROOT/scripts/vm.sh" "$@" > "$work/$tag.$r" 2> "$work/$tag.$r.err"; then
            grep -A1 '^RESULT' "$work/$tag.$r" | tail -n1 | sed 's/^ *- //' >> "$work/$tag.fails"
            dt_log "warning: scripts/vm.sh $* reported FAIL (run $r): $(tail -n1 "$work/$tag.fails")"
        fi
        grep -q 'boot-to-result [0-9]' "$work/$tag.$r" ||
            { tail -n 30 "$work/$tag.$r" "$work/$tag.$r.err" >&2; dt_die "scripts/vm.sh $* gave no boot-to-result time (run $r)"; }
    done
    for r in $(seq "$runs"); do
        sed -n 's/.*boot-to-result \([0-9.]*\) s.*/\1/p' "$work/$tag.$r"
    done | median
}

# " (k of N reports said FAIL: first reason)", or nothing.
boot_fails() {
    local n
    n=$(wc -l < "$work/$1.fails")
    [ "$n" -eq 0 ] || printf ' (%d of %d reports said FAIL: %s)' "$n" "$runs" "$(head -n1 "$work/$1.fails")"
}

if want boot; then
    dt_log "boot: $runs runs of scripts/vm.sh"
    boot=$(boot_runs boot)
    accel=$(sed -n 's/^  accelerator  \([a-z]*\).*/\1/p' "$work/boot.1")
    row "developer VM boot to result ($accel), median of $runs warm runs$(boot_fails boot), s" \
        "$(fmt "$boot" 2)" "-" "-" "<= 2.0" "$(judge "$boot" '<=' 2.0)" "scripts/vm.sh"
    if [ "$DT_ACCEL" = kvm ]; then
        kvm=$(boot_runs kvm --accel kvm)
        row "developer VM boot to result (kvm), median of $runs warm runs$(boot_fails kvm), s" \
            "$(fmt "$kvm" 2)" "-" "-" "< 5" "$(judge "$kvm" '<' 5)" "scripts/vm.sh --accel kvm"
    else
        why=$(dt_accel_reason "$DT_QEMU_BINARY" "$DT_BZIMAGE")
        why=${why:-no verdict}
        # The verdict without its details (docs/benchmarks.rst has them).
        row "developer VM boot to result (kvm), s" "n/a (probe: ${why%%: *})" \
            "-" "-" "< 5" "n/a" "scripts/vm.sh --accel kvm"
    fi
fi

# ---- 5. The test command ---------------------------------------------------------

# The rebuild after a one-line device edit: a comment line appended to the
# copy of hw/misc/dma-testdev.c in the QEMU source tree (never to ours),
# ninja on qemu-system-x86_64 without ccache (a comment changes nothing
# the compiler sees, so ccache would hit and hide the compile), then the
# file is restored and rebuilt.
restore_device() {
    cat "$work/dma-testdev.c.orig" > "$qemu_src/hw/misc/dma-testdev.c"
    ninja -C "$DT_QEMU_BUILD" qemu-system-x86_64 > "$work/restore.log" 2>&1
}

rebuild_once() {
    local t
    printf '/* scripts/bench.sh: one-line edit %s */\n' "$(date +%s%N)" \
        >> "$qemu_src/hw/misc/dma-testdev.c"
    t=$(CCACHE_DISABLE=1 timed "$work/rebuild.log" \
        ninja -C "$DT_QEMU_BUILD" qemu-system-x86_64) ||
        { restore_device; dt_die "rebuild after the edit failed: $(tail -n 5 "$work/rebuild.log")"; }
    restore_device ||
        dt_die "rebuilding the restored device failed: see $work/restore.log"
    grep -q 'dma-testdev.c' "$work/rebuild.log" ||
        dt_die "the edit did not recompile hw/misc/dma-testdev.c (see $work/rebuild.log)"
    echo "$t"
}

if want suite; then
    if [ "$suite_runs" -gt 0 ]; then
        dt_log "test command: $suite_runs warm runs of scripts/test.sh"
        # A failed run still took the time it took: it is counted, and
        # its summary shown in the row.
        fails='' summary=''
        for r in $(seq "$suite_runs"); do
            rc=0
            t=$(timed "$work/suite.$r" "$DT_ROOT/scripts/test.sh") || rc=$?
            echo "$t" >> "$work/suite.times"
            sum=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$work/suite.$r" | tail -n1)
            if [ "$rc" -ne 0 ]; then
                dt_log "warning: scripts/test.sh failed (run $r): ${sum:-no summary}; $(grep -m1 '^FAIL' "$work/suite.$r" || true)"
                fails+="; run $r FAILED: ${sum:-no summary}"
            else
                summary=$sum
            fi
        done
        suite=$(median < "$work/suite.times")
        row "test command, warm (${summary:-no run passed}$fails), median of $suite_runs, s" \
            "$(fmt "$suite" 1)" "-" "-" "< 300" "$(judge "$suite" '<' 300)" "scripts/test.sh"
    fi

    f=$qemu_src/hw/misc/dma-testdev.c
    [ -f "$f" ] || dt_die "no $f"
    # Someone else's ninja on the same tree would race with the edit.
    for _ in $(seq 60); do
        ps -eo args= | awk -v p="ninja -C $DT_QEMU_BUILD" \
            'index($0, p) == 1 { busy = 1 } END { exit !busy }' || break
        dt_log "waiting for another ninja on $DT_QEMU_BUILD ..."
        sleep 10
    done
    cp "$f" "$work/dma-testdev.c.orig"
    restore_cmd=(restore_device)
    dt_log "rebuild after a one-line edit of $(rel "$f"): $runs runs"
    for r in $(seq "$runs"); do
        rebuild_once >> "$work/rebuild.times"
    done
    restore_cmd=()
    cmp -s "$f" "$work/dma-testdev.c.orig" || dt_die "$f was not restored"
    rebuild=$(median < "$work/rebuild.times")
    row "rebuild qemu-system-x86_64 after a one-line device edit (no ccache), s" \
        "$(fmt "$rebuild" 2)" "-" "-" "< 5" "$(judge "$rebuild" '<' 5)" \
        "scripts/bench.sh --only suite --suite-runs 0"

    if [[ ,$cold, == *,main,* ]]; then
        # The main job on an empty cache: QEMU and the guest kernel
        # compiled from nothing (ccache is in the cache too).  Its log
        # says how long each compile took; the rest (downloads, unpacking,
        # configure, the accelerator probe, the initramfs, the boot and the
        # test) is what no faster compiler would shorten.
        rc=0
        t=$(cold_run "$work/cold-main" "$DT_ROOT/scripts/vm.sh") || rc=$?
        # "WALL CPU" of each compile.
        qemu_s=$(sed -nE "s/.*build QEMU: .*: $done_re/\\1 \\2/p" "$work/cold-main" | tail -n1)
        kernel_s=$(sed -nE "s/.*make bzImage -j[0-9]+: $done_re/\\1 \\2/p" "$work/cold-main" | tail -n1)
        qemu_cpu=${qemu_s#* } qemu_s=${qemu_s% *}
        kernel_cpu=${kernel_s#* } kernel_s=${kernel_s% *}
        verdict=$(sed -nE 's/^RESULT: ([A-Z]+).*/\1/p' "$work/cold-main" | tail -n1)
        if [ "$rc" -ne 0 ] || [ -z "$qemu_s" ] || [ -z "$kernel_s" ]; then
            tail -n 20 "$work/cold-main" >&2
            verdict="FAILED, exit $rc"
        fi
        row "main job, cold: scripts/vm.sh on an empty cache (${verdict:-no verdict}), s" \
            "$(fmt "$t" 0)" "-" "-" "<= 480" "$(judge "$t" '<=' 480)" \
            "DMA_TESTDEV_CACHE=\$(mktemp -d) scripts/vm.sh"
        row "... of which compiling QEMU (ninja), s (CPU s)" \
            "${qemu_s:-?} ($qemu_cpu)" "-" "-" "-" "info" "(the same run)"
        row "... of which compiling the guest kernel (make bzImage), s (CPU s)" \
            "${kernel_s:-?} ($kernel_cpu)" "-" "-" "-" "info" "(the same run)"
        # The two compiles overlap (lib/build.sh): the rest is what is
        # left of the wall time once every second with a compile running
        # is taken out.
        compiling=$(compiling_s "$work/cold-main.stamped")
        row "... compiling QEMU or the kernel or both, s" "$compiling" \
            "-" "-" "-" "info" "(the same run)"
        rest=$(calc "$t - $compiling")
        row "... the rest: downloads, configure, probe, initramfs, boot, test, s" \
            "$(fmt "$rest" 0)" "-" "-" "<= 60" "$(judge "$rest" '<=' 60)" \
            "(the same run)"
        # The physical limit of this run's work: its compiles cannot take
        # less than their processor time spread over every core, and the
        # rest as measured comes on top.
        if [ -n "$qemu_cpu" ] && [ -n "$kernel_cpu" ]; then
            floor=$(calc "($qemu_cpu + $kernel_cpu) / $(nproc) + $rest")
            row "... the least this work takes here: compile CPU / $(nproc) cores + the rest, s" \
                "$(fmt "$floor" 0)" "-" "-" "-" "info" "(the same run)"
        fi
    else
        row "main job, cold: empty cache, s" "not run (use --cold main)" "-" "-" \
            "<= 480" "n/a" "scripts/bench.sh --cold main"
    fi
    if [[ ,$cold, == *,test,* ]]; then
        rc=0
        t=$(cold_run "$work/cold" "$DT_ROOT/scripts/test.sh") || rc=$?
        summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$work/cold" | tail -n1 || true)
        [ "$rc" -eq 0 ] || { tail -n 20 "$work/cold" >&2; summary="FAILED: ${summary:-no summary}"; }
        row "test command, cold: empty cache (${summary:-no summary}), s" \
            "$(fmt "$t" 0)" "-" "-" "<= 720" "$(judge "$t" '<=' 720)" \
            "DMA_TESTDEV_CACHE=\$(mktemp -d) scripts/test.sh"
    else
        row "test command, cold: empty cache, s" "not run (use --cold test)" "-" "-" \
            "<= 720" "n/a" "scripts/bench.sh --cold test"
    fi
    if [ "$ci" -eq 1 ]; then
        # CI clones into a folder it has not used before: the meson
        # build tree keyed by the checkout's path is new; the QEMU copy
        # is taken over from a gone checkout with the same files, if the
        # cache has one (scripts/prepare-qemu.sh), and what is shared by
        # content (ccache, the guest kernels, the downloads) is warm.
        [ -z "$(git -C "$DT_ROOT" status --porcelain --untracked-files=no)" ] ||
            dt_log "warning: uncommitted changes are not in the clone (--ci measures HEAD)"
        clone=$(mktemp -d "${TMPDIR:-/tmp}/dt-ci-clone.XXXXXX")
        git clone -q "$DT_ROOT" "$clone/dma-testdev"
        dt_log "CI: .ci/run in $clone/dma-testdev ($(git -C "$clone/dma-testdev" log -1 --format=%h))"
        rc=0
        t=$(timed "$work/ci" bash "$clone/dma-testdev/.ci/run") || rc=$?
        rm -rf "$clone"
        mapfile -t sums < <(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$work/ci")
        verdict="plain: ${sums[0]:-no summary}; ASan: ${sums[1]:-no summary}"
        [ "$rc" -eq 0 ] || { tail -n 20 "$work/ci" >&2; verdict="FAILED, exit $rc; $verdict"; }
        row "CI, warm cache, fresh clone: .ci/run ($verdict), s" \
            "$(fmt "$t" 0)" "-" "-" "<= 900" "$(judge "$t" '<=' 900)" \
            "scripts/bench.sh --only suite --suite-runs 0 --ci"
        # test.sh and vm.sh build the plain QEMU, test-sanitizers.sh the
        # ASan one: each "build QEMU" step, in that order.
        mapfile -t built < <(sed -nE "s/.*build QEMU: .*: $done_re/\\1/p" "$work/ci")
        row "... of which building QEMU (each build-qemu.sh run, in order), s" \
            "${built[*]:-?}" "-" "-" "-" "info" "(the same run)"
    else
        row "CI, warm cache, fresh clone: .ci/run, s" "not run (use --ci)" "-" "-" \
            "<= 900" "n/a" "scripts/bench.sh --only suite --suite-runs 0 --ci"
    fi
    kloop_cmd="scripts/bench.sh --only suite --suite-runs 0 --kernel-loop"
    if [ "$kloop" -eq 1 ]; then
        # The tree of one's own: hard links to the guest kernel's source,
        # at a fixed place so that its build directories (keyed by the
        # tree's path) stay warm from one bench run to the next.
        tree=$DT_CACHE/bench/linux-own-tree
        if [ ! -f "$tree.complete" ]; then
            rm -rf "$tree"
            mkdir -p "$(dirname "$tree")"
            dt_step "a kernel tree of one's own: hard-link copy of $DT_KERNEL_SRC" \
                cp -al "$DT_KERNEL_SRC" "$tree"
            touch "$tree.complete"
        fi
        ioas=drivers/iommu/iommufd/ioas.c
        loop_test=(--suite guest guest/cdev/4k-1M)
        dt_log "kernel loop: bring $tree's kernels up to date (the first time: the kernel its test boots, from nothing)"
        DMA_TESTDEV_KERNEL_SRC=$tree "$DT_ROOT/scripts/test.sh" "${loop_test[@]}" \
            > "$work/kloop-warm" 2>&1 ||
            { tail -n 30 "$work/kloop-warm" >&2; dt_die "scripts/test.sh on $tree failed (see above)"; }
        # The edit: a private copy of the file (never a write through the
        # link into the cached source) with one line more.
        cp --remove-destination "$DT_KERNEL_SRC/$ioas" "$tree/$ioas"
        echo "/* dt-bench: a one-line edit */" >> "$tree/$ioas"
        rc=0
        t0=$(date +%s.%N)
        DMA_TESTDEV_KERNEL_SRC=$tree "$DT_ROOT/scripts/test.sh" "${loop_test[@]}" 2>&1 |
            stamp_lines > "$work/kloop.stamped" || rc=$?
        cp --remove-destination "$DT_KERNEL_SRC/$ioas" "$tree/$ioas"
        # Up to meson's first test: scripts/test.sh says "tests at once"
        # right before it.
        first=$(awk '/tests at once:/ { print $1; exit }' "$work/kloop.stamped")
        if [ "$rc" -ne 0 ] || [ -z "$first" ]; then
            tail -n 30 "$work/kloop.stamped" >&2
            dt_die "the kernel loop's test run failed (above)"
        fi
        loop=$(calc "$first - $t0")
        # Each kernel's make log since the edit must show the file compiled.
        recompiled=0
        while IFS= read -r log; do
            awk '/^=== / { part = "" } { part = part $0 "\n" } END { printf "%s", part }' "$log" |
                grep -q "CC .*${ioas%.c}\.o" && recompiled=$((recompiled + 1))
        done < <(find "$DT_CACHE/build" -maxdepth 2 -name build.log -newermt "@${t0%.*}")
        [ "$recompiled" -gt 0 ] ||
            dt_die "the edit of $ioas recompiled it in no kernel (see the build.log files)"
        row "kernel developer's loop: one-line edit of $ioas, scripts/test.sh to its first guest test, s" \
            "$(fmt "$loop" 0)" "-" "-" "<= 30" "$(judge "$loop" '<=' 30)" "$kloop_cmd"
        # "default=N iommufd-container=N ...": build-kernel.sh names the
        # variants in their progress lines, the default one not.
        made=$(sed -nE "s/.*\\] (([a-z-]+) kernel: )?make bzImage -j[0-9]+: $done_re/\\2=\\3/p" \
            "$work/kloop.stamped" | sed 's/^=/default=/' | paste -sd' ')
        row "... of which make bzImage per kernel ($recompiled recompiled the file), s" \
            "${made:-?}" "-" "-" "-" "info" "(the same run)"
    else
        row "kernel developer's loop: one-line kernel edit to the first guest test, s" \
            "not run (use --kernel-loop)" "-" "-" "<= 30" "n/a" "$kloop_cmd"
    fi
fi

# ---- The table ----------------------------------------------------------------

dt_log "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
header=("measured" "figure" "limit (same run)" "ratio" "target" "result" "reproduce")
if [ "$format" = rst ]; then
    echo ".. list-table::"
    echo "   :header-rows: 1"
    echo ""
    for i in $(seq -1 $((${#R_WHAT[@]} - 1))); do
        if [ "$i" -lt 0 ]; then
            cells=("${header[@]}")
        else
            cells=("${R_WHAT[$i]}" "${R_FIG[$i]}" "${R_LIMIT[$i]}" "${R_RATIO[$i]}"
                "${R_TARGET[$i]}" "${R_RESULT[$i]}" "\`\`${R_CMD[$i]}\`\`")
        fi
        printf '   * - %s\n' "${cells[0]## }"
        for c in "${cells[@]:1}"; do
            printf '     - %s\n' "$c"
        done
    done
else
    {
        printf '%s\t' "${header[@]}"
        printf '\n'
        for i in "${!R_WHAT[@]}"; do
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${R_WHAT[$i]}" "${R_FIG[$i]}" \
                "${R_LIMIT[$i]}" "${R_RATIO[$i]}" "${R_TARGET[$i]}" \
                "${R_RESULT[$i]}" "${R_CMD[$i]}"
        done
    } | awk -F'\t' '
        { for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n = NR; nf = NF }
        END {
            for (r = 1; r <= n; r++) {
                line = ""
                for (i = 1; i <= nf; i++) {
                    line = line (i < nf ? sprintf("%-*s | ", w[i], c[r, i]) : c[r, i])
                }
                print line
                if (r == 1) {
                    sep = ""
                    for (i = 1; i <= nf; i++) {
                        s = sprintf("%*s", w[i], ""); gsub(/ /, "-", s)
                        sep = sep s (i < nf ? "-+-" : "")
                    }
                    print sep
                }
            }
        }'
fi
