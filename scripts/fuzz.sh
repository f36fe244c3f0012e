#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Fuzz dma-testdev for a bounded time (libFuzzer, on a clang build with
# ASan, UBSan and source-based coverage: scripts/build-qemu.sh --variant
# fuzz), then report executions, findings and the line coverage of
# hw/misc/dma-testdev.c, dma-testdev-datapath.c and dma-testdev-epf.c.
# Targets:
#   generic-fuzz-dma-testdev, generic-fuzz-dma-testdev-epf
#       QEMU's generic-fuzz on each personality (config:
#       tests/qtest/fuzz/dma-testdev-fuzz-config.h); an empty corpus is
#       seeded by tests/qtest/fuzz/dma-testdev-seeds.py (whole commands:
#       segment lists, queue entries, doorbells, interrupts, FLR, ECAM),
#       and libFuzzer gets tests/qtest/fuzz/dma-testdev.dict;
#   dma-testdev-state
#       properties, unplug mid-command, the DMA log and the migration
#       stream (tests/qtest/fuzz/dma_testdev_state_fuzz.c), seeded by
#       tests/qtest/fuzz/dma-testdev-state-seeds.py.
#
# Usage: scripts/fuzz.sh [--time SECONDS] [-- LIBFUZZER_ARGS ...]
#        scripts/fuzz.sh --reproduce FILE
#   --time S          campaign length (default: $DMA_TESTDEV_FUZZ_TIME or 600)
#   --target T        generic-fuzz-dma-testdev (default),
#                     generic-fuzz-dma-testdev-epf or dma-testdev-state
#   --no-seeds        leave an empty corpus empty (a baseline to compare
#                     the seeds' coverage with)
#   --corpus DIR      corpus directory (default: $DT_CACHE/fuzz/corpus/TARGET)
#   --reproduce FILE  run one input (a crash-* file, a corpus entry) with
#                     QTEST_LOG and print the qtest trace it produces and
#                     reproducers (bash with qemu-system-x86_64 -qtest
#                     stdio, and a libqtest C function), with QEMU's
#                     scripts/oss-fuzz/ tools; exit status 1 if it crashes
#   -- ARGS           passed on to libFuzzer (e.g. -seed=1, -runs=N)
# Environment: see scripts/build-qemu.sh (DMA_TESTDEV_QEMU_SRC, ...).
#
# Under $DT_CACHE/fuzz: corpus/TARGET/ (kept from run to run),
# artifacts/STAMP/ (crash-*, timeout-*, leak-*, oom-* and the log fuzz.log),
# coverage/STAMP/ (raw profiles, coverage.txt, html/).  Exit status 1 if
# there is any finding: an artifact, or a sanitizer report in the log.
# STAMP is DATE-TARGET-PID.

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/sanitizers.sh
source "$DT_ROOT/scripts/lib/sanitizers.sh"

target=generic-fuzz-dma-testdev
time=${DMA_TESTDEV_FUZZ_TIME:-600}
reproduce=
seeds=1
corpus=
fuzz_args=()
while [ $# -gt 0 ]; do
    case $1 in
    --time) time=$2; shift 2 ;;
    --target) target=$2; shift 2 ;;
    --reproduce) reproduce=$2; shift 2 ;;
    --no-seeds) seeds=; shift ;;
    --corpus) corpus=$(realpath -m "$2"); shift 2 ;;
    --) shift; fuzz_args=("$@"); break ;;
    *) dt_die "unknown option $1 (see the header of $0)" ;;
    esac
done
if ! [[ $time =~ ^[1-9][0-9]*$ ]]; then
    dt_die "--time wants a number of seconds, not '$time'"
fi
if [ -n "$reproduce" ]; then
    [ -f "$reproduce" ] || dt_die "no such input: $reproduce"
    reproduce=$(realpath "$reproduce")
fi

case $target in
generic-fuzz-dma-testdev|generic-fuzz-dma-testdev-epf)
    seed_gen=("$DT_ROOT/tests/qtest/fuzz/dma-testdev-seeds.py" --target "$target")
    dict=(-dict="$DT_ROOT/tests/qtest/fuzz/dma-testdev.dict") ;;
dma-testdev-state)
    seed_gen=("$DT_ROOT/tests/qtest/fuzz/dma-testdev-state-seeds.py")
    dict=() ;;
*) dt_die "unknown target $target (see the header of $0)" ;;
esac

profdata=llvm-profdata-14
llvm_cov=llvm-cov-14

build_start=$(date +%s)
vars=$("$DT_ROOT/scripts/build-qemu.sh" --variant fuzz)
build_time=$(( $(date +%s) - build_start ))
var() { sed -n "s/^$1=//p" <<< "$vars"; }
fuzzer=$(var qemu_fuzz)
src=$(var qemu_src)
build=$(var qemu_build)
[ -x "$fuzzer" ] || dt_die "no fuzzer binary: $fuzzer"
device_srcs=("$src/hw/misc/dma-testdev.c" "$src/hw/misc/dma-testdev-datapath.c"
             "$src/hw/misc/dma-testdev-epf.c")

# The first ASan/UBSan report aborts; libFuzzer then writes the crash-*
# file.  With leak checks on, libFuzzer runs LeakSanitizer after an input
# that malloc()ed more than it free()d (a leak-* file).  One known hang:
# on out-of-memory libFuzzer prints a heap profile from its RSS thread,
# stopping every thread like LeakSanitizer, and in qemu-fuzz that can
# deadlock (seen once in three here); the timeout below ends it and the
# log's "ERROR: libFuzzer: out-of-memory" counts, but no oom-* file is
# written (re-run with ASAN_OPTIONS=detect_leaks=0 to get one).
dt_sanitizer_env
# Should the fuzzer hang anyway, this ends it (and counts as a finding).
grace=120

# --- reproduce one input -------------------------------------------------
# replay_verdict RC LOG: say whether the replayed input crashed (the
# fuzzer's exit status, or a sanitizer report in its LOG), show the
# report (a dma-testdev-state oracle names itself "dma-testdev-state:"),
# and exit 1 if it did, 0 if not.
replay_verdict() {
    local rc=$1 log=$2
    if [ "$rc" -ne 0 ] || dt_sanitizer_reports "$log" > /dev/null; then
        echo "# the input crashes (fuzzer exit $rc); its report:"
        grep -E -B2 -A30 "$DT_SANITIZER_RE|deadly signal|==ERROR|dma-testdev-state:" \
            "$log" | head -n 60 || true
        exit 1
    fi
    echo "# the input runs cleanly"
    exit 0
}

# dma-testdev-state acts in-process (device_add, vmstate): no qtest trace
# would replay it, so only the replay itself and its report.
if [ -n "$reproduce" ] && [ "$target" = dma-testdev-state ]; then
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
    rc=0
    LLVM_PROFILE_FILE=$out/%p.profraw timeout -k 10 $(( 25 + grace )) \
        "$fuzzer" --fuzz-target="$target" -timeout=25 "$reproduce" \
        > "$out/log" 2>&1 || rc=$?
    replay_verdict "$rc" "$out/log"
fi
if [ -n "$reproduce" ]; then
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
    rc=0
    # FUZZ_SERIALIZE_QTEST sends every command through the qtest text
    # protocol, QTEST_LOG logs it ([R +t] lines, [DMA] fills) on stderr.
    LLVM_PROFILE_FILE=$out/%p.profraw QTEST_LOG=1 FUZZ_SERIALIZE_QTEST=1 timeout -k 10 $(( 25 + grace )) \
        "$fuzzer" --fuzz-target="$target" -timeout=25 "$reproduce" \
        > "$out/stdout" 2> "$out/stderr" || rc=$?
    # "Starting BINARY with Arguments: ARGS -qtest /dev/null"
    args=$(sed -n 's/^Starting [^ ]* with Arguments: //p' "$out/stdout" |
        sed 's/ *-qtest \/dev\/null *$//; s/  */ /g; s/accel=qtest, /accel=qtest /')
    [ -n "$args" ] || { cat "$out/stdout" "$out/stderr" >&2; dt_die "the fuzzer did not start"; }
    "$DT_PYTHON" "$src/scripts/oss-fuzz/reorder_fuzzer_qtest_trace.py" \
        "$out/stderr" > "$out/trace"
    echo "# qtest trace of $reproduce ($(wc -l < "$out/trace") commands):"
    cat "$out/trace"
    echo
    echo "# bash reproducer (qemu-system-x86_64 of any build with dma-testdev):"
    QEMU_PATH=qemu-system-x86_64 QEMU_ARGS="$args" \
        "$DT_PYTHON" "$src/scripts/oss-fuzz/output_reproducer.py" -bash "$out/trace"
    echo
    echo "# libqtest C reproducer:"
    QEMU_PATH=qemu-system-x86_64 QEMU_ARGS="$args" \
        "$DT_PYTHON" "$src/scripts/oss-fuzz/output_reproducer.py" -c \
        -no_comment -name test_fuzz_repro "$out/trace"
    echo
    replay_verdict "$rc" "$out/stderr"
fi

# --- campaign ------------------------------------------------------------
# Target and PID in the name: two campaigns started in the same second
# (one per target, side by side) must not share findings or coverage.
stamp=$(date +%Y%m%d-%H%M%S)-$target-$$
corpus=${corpus:-$DT_CACHE/fuzz/corpus/$target}
artifacts=$DT_CACHE/fuzz/artifacts/$stamp
cov=$DT_CACHE/fuzz/coverage/$stamp
mkdir -p "$corpus" "$artifacts" "$cov/raw"
log=$artifacts/fuzz.log
if [ -n "$seeds" ] && [ -z "$(find "$corpus" -type f -print -quit)" ]; then
    "$DT_PYTHON" "${seed_gen[@]}" "$corpus"
    dt_log "seeded the empty corpus with $(find "$corpus" -type f | wc -l) inputs (${seed_gen[0]})"
fi

# Every process writes its own raw profile (%p), and %m keeps profiles of
# different binaries apart.  generic-fuzz in QEMU 10.0 runs every input in
# the one process (it resets the machine between inputs, no fork), but
# libFuzzer's own -fork/-jobs modes and the corpus replay below are
# separate processes.  A process that dies of a finding writes no profile:
# the replay of the corpus then still gives the coverage.
export LLVM_PROFILE_FILE=$cov/raw/%p-%m.profraw

dt_log "fuzzing $target for $time s (corpus $corpus, $(find "$corpus" -type f | wc -l) inputs)"
start=$(date +%s)
rc=0
# At tens of executions per second libFuzzer's slow growth of the input
# length would keep inputs at a few bytes (one or two generic-fuzz
# commands) for minutes: allow up to 512 bytes from the start.
(cd "$artifacts" && timeout -k 10 $(( time + grace )) \
    "$fuzzer" --fuzz-target="$target" \
    -max_total_time="$time" -timeout=25 -len_control=0 -max_len=512 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" \
    "${fuzz_args[@]}" "$corpus") > "$log" 2>&1 || rc=$?
fuzz_time=$(( $(date +%s) - start ))
dt_log "campaign ended after $fuzz_time s (libFuzzer exit $rc; log $log)"

# Replay the corpus once, for the coverage of everything kept.
replay_rc=0
(cd "$artifacts" && timeout -k 10 $(( grace + $(find "$corpus" -type f | wc -l) )) \
    "$fuzzer" --fuzz-target="$target" -runs=0 "$corpus") \
    > "$artifacts/replay.log" 2>&1 || replay_rc=$?

# --- report --------------------------------------------------------------
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
if [ -z "$runs" ]; then
    # "Done N runs in S second(s)"
    runs=$(sed -n 's/^Done \([0-9]*\) runs in .*/\1/p' "$log" | tail -n1)
fi
if [ -z "$rate" ] && [ -n "$runs" ] && [ "$fuzz_time" -gt 0 ]; then
    rate=$(( runs / fuzz_time ))
fi
cov_line=$(grep -E '^#[0-9]+' "$log" | tail -n1 || true)

mapfile -t files < <(find "$artifacts" -maxdepth 1 -type f \
    \( -name 'crash-*' -o -name 'timeout-*' -o -name 'leak-*' -o -name 'oom-*' \) | sort)
# libFuzzer's own "ERROR: libFuzzer: deadly signal|timeout|out-of-memory"
# too: it is all there is when the fuzzer hung before writing the file.
reports=$(cat "$log" "$artifacts/replay.log" |
    { grep -cE "$DT_SANITIZER_RE|ERROR: libFuzzer" || true; })
findings=$(( ${#files[@]} + reports ))
if [ "$rc" -ne 0 ] && [ "$findings" -eq 0 ]; then
    # libFuzzer stopped early without leaving an artifact: still a failure.
    findings=1
fi

coverage=()
shopt -s nullglob
raws=("$cov"/raw/*.profraw)
shopt -u nullglob
if [ ${#raws[@]} -gt 0 ]; then
    "$profdata" merge -sparse -o "$cov/merged.profdata" "${raws[@]}"
    rm -f "${raws[@]}"    # ~13 MB each; merged.profdata keeps their counts
    # The coverage mapping names files as the compiler saw them, relative
    # to the build tree (BUILD/../../SRC/hw/...): map them back to SRC.
    cov_args=(-instr-profile="$cov/merged.profdata"
        -path-equivalence="$build/$(realpath --relative-to="$build" "$src"),$src")
    mapfile -t coverage < <("$llvm_cov" export "$fuzzer" "${cov_args[@]}" \
        -summary-only "${device_srcs[@]}" | "$DT_PYTHON" -c '
import json, os, sys
for f in sorted(json.load(sys.stdin)["data"][0]["files"],
                key=lambda f: f["filename"]):
    s = f["summary"]
    print("%s: lines %.1f%% (%d/%d), functions %.1f%% (%d/%d), "
          "regions %.1f%%" % (
        os.path.basename(f["filename"]), s["lines"]["percent"],
        s["lines"]["covered"], s["lines"]["count"],
        s["functions"]["percent"], s["functions"]["covered"],
        s["functions"]["count"], s["regions"]["percent"]))
')
    if [ ${#coverage[@]} -gt 0 ]; then
        "$llvm_cov" report "$fuzzer" "${cov_args[@]}" "${device_srcs[@]}" \
            > "$cov/coverage.txt"
        for f in "${device_srcs[@]}"; do
            "$llvm_cov" show "$fuzzer" "${cov_args[@]}" -format=text \
                "$f" > "$cov/$(basename "$f").txt"
        done
        "$llvm_cov" show "$fuzzer" "${cov_args[@]}" -format=html \
            -output-dir="$cov/html" "${device_srcs[@]}"
    else
        coverage=("n/a (hw/misc/dma-testdev*.c are not in the coverage mapping)")
    fi
else
    coverage=("n/a (no profile data)")
fi

dt_log "--- fuzz summary: $target, $(var qemu_version) ---"
dt_log "fuzzer build/check: $build_time s ($fuzzer)"
dt_log "campaign: $fuzz_time s, ${runs:-?} executions, ${rate:-?} exec/s"
dt_log "libFuzzer: ${cov_line:-no status line}"
dt_log "corpus: $(find "$corpus" -type f | wc -l) inputs in $corpus"
for line in "${coverage[@]}"; do
    dt_log "coverage of hw/misc/$line"
done
dt_log "coverage report: $cov/coverage.txt, $cov/dma-testdev*.c.txt, $cov/html/index.html"
dt_log "findings: $findings (${#files[@]} artifacts, $reports sanitizer or libFuzzer error lines; log $log)"
for f in "${files[@]}"; do
    dt_log "  $f  (scripts/fuzz.sh --reproduce $f)"
done
if [ "$replay_rc" -ne 0 ]; then
    dt_log "corpus replay failed (exit $replay_rc): see $artifacts/replay.log"
    findings=$(( findings + 1 ))
fi
[ "$findings" -eq 0 ] || dt_die "fuzzing found $findings problem(s)"
dt_log "no findings"
