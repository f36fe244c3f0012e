#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The developer VM: boot a Linux >= 7.3 guest on QEMU q35 with dma-testdev
# behind a PCIe root port, two NUMA nodes and no IOMMU, run the pin + DMA
# check in it (dt-pin: pin a buffer through iommufd, translate it with
# IOMMU_IOAS_NOIOMMU_GET_PA, DMA into it with the device), and print a
# report: versions, accelerator and why, what was pinned, the runs
# (iova -> pa), where the device's DMA really landed (its DMA log, read
# over QMP), pass/fail and boot-to-result time.  Exit 0 only on pass.
# Whatever is missing (QEMU, kernel, initramfs) is built first.
#
# Usage: scripts/vm.sh [options]
#   --kernel PATH     a bzImage to boot, or a Linux source tree to build with
#                     guest/kernel/dma-testdev.config
#   --qemu PATH       a qemu-system-x86_64 binary (with dma-testdev), or a
#                     QEMU source tree to overlay and build
#   --accel A         auto (default: probe KVM, else TCG), kvm or tcg
#   --cpu MODEL       -cpu model (default: max under TCG, the model the
#                     probe booted under KVM), e.g. max,erms=off,fsrm=off
#   --mem SIZE        guest RAM, split over the 2 NUMA nodes (default 1G)
#   --hugepages N     2 MiB hugepages reserved at boot (default: RAM/32)
#   --device ARGS     one more QEMU -device (repeatable)
#   --dt-prop K=V     one more dma-testdev property, e.g.
#                     x-misdirect-offset=0 (a negative control: the report
#                     must then show DMA outside the pinned runs)
#   --run "CMD"       guest command instead of the default check
#   --shell           interactive shell on the serial console (Ctrl-A x
#                     quits QEMU; Ctrl-A c is the QEMU monitor)
#   --net             user-mode networking (a virtio-net NIC)
#   --ssh-port PORT   with --net: forward 127.0.0.1:PORT to guest port 22
#   --timeout S       give up on a non-interactive run after S s (600)
#   --verbose         copy the guest console to stderr while it runs
#   --keep            keep the whole run directory (the DMA log as JSON,
#                     the watcher's state); otherwise only the console
#                     log, the report and QEMU's stderr (if any) are kept
#   -h, --help        this text
# Environment: DMA_TESTDEV_ACCEL, DMA_TESTDEV_KVM_CPU (lib/accel.sh),
#   DMA_TESTDEV_CACHE (lib/common.sh).
#
# Output: the report on stdout; build progress and logs on stderr.  Runs
# are kept in $DMA_TESTDEV_CACHE/vm/runs/ (the last 20).

set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/build.sh
source "$DT_ROOT/scripts/lib/build.sh"

usage() {
    sed -n '/^# Usage:/,/^# Output:/{/^# Output:/d;s/^# \{0,1\}//;p}' "$0"
}

kernel_arg='' qemu_arg='' probed_accel='' accel=${DMA_TESTDEV_ACCEL:-auto} mem=1G
cpu_arg=''
hugepages='' run_cmd='' shell=0 net=0 ssh_port='' keep=0 verbose=0
timeout_s=600
extra_devices=() dt_props=()
while [ $# -gt 0 ]; do
    case $1 in
    --kernel | --qemu | --accel | --cpu | --mem | --hugepages | --device | --dt-prop | \
        --run | --ssh-port | --timeout)
        [ $# -ge 2 ] || dt_die "$1 needs an argument (see --help)"
        ;;
    esac
    case $1 in
    --kernel) kernel_arg=$2; shift 2 ;;
    --qemu) qemu_arg=$2; shift 2 ;;
    --accel) accel=$2; shift 2 ;;
    --cpu) cpu_arg=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --hugepages) hugepages=$2; shift 2 ;;
    --device) extra_devices+=("$2"); shift 2 ;;
    --dt-prop) dt_props+=("$2"); shift 2 ;;
    --run) run_cmd=$2; shift 2 ;;
    --shell) shell=1; shift ;;
    --net) net=1; shift ;;
    --ssh-port) ssh_port=$2; net=1; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --verbose) verbose=1; shift ;;
    --keep) keep=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) dt_die "unknown option '$1' (see scripts/vm.sh --help)" ;;
    esac
done

case $accel in
auto | kvm | tcg) ;;
*) dt_die "--accel $accel: use auto, kvm or tcg" ;;
esac
[[ $timeout_s =~ ^[0-9]+$ ]] || dt_die "--timeout $timeout_s: a number of seconds"
[ -z "$hugepages" ] || [[ $hugepages =~ ^[0-9]+$ ]] || dt_die "--hugepages $hugepages: a number"
[ -z "$ssh_port" ] || [[ $ssh_port =~ ^[0-9]+$ ]] || dt_die "--ssh-port $ssh_port: a port number"
# The guest's /init runs dt.run and powers off before it would start a
# shell.
[ "$shell" -eq 0 ] || [ -z "$run_cmd" ] ||
    dt_die "--shell and --run exclude each other (run the command in the shell)"
# The command travels as dt.run="..." on the kernel command line, which
# has no escape for a double quote.
case $run_cmd in *'"'*) dt_die "--run: the command cannot contain '\"' (it goes on the kernel command line)" ;; esac

# RAM in MiB, split in two for the two NUMA nodes.
mem_mib=''
if [[ $mem =~ ^([0-9]{1,7})([GgMm]?)$ ]]; then
    mem_mib=${BASH_REMATCH[1]}
    [[ ${BASH_REMATCH[2]} != [Gg] ]] || mem_mib=$((mem_mib * 1024))
fi
if [ -z "$mem_mib" ] || [ "$mem_mib" -lt 256 ]; then
    dt_die "--mem $mem: give a size like 1G or 768M (at least 256M)"
fi
node0_mib=$((mem_mib / 2))
node1_mib=$((mem_mib - node0_mib))
# A few percent of RAM as 2 MiB hugepages: enough for hugetlb-backed test
# buffers, little enough to leave THP and 4 KiB allocations room.
hugepages=${hugepages:-$((mem_mib / 32))}

# ---- Prerequisites ----------------------------------------------------

command -v "$DT_PYTHON" > /dev/null ||
    dt_die "$DT_PYTHON not found: install python3 (apt-get install python3)"

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
    qemu_version=$("$qemu_binary" --version | sed -n '1s/^QEMU emulator version //p')
    vars=$("$DT_ROOT/scripts/build-kernel.sh") ||
        dt_die "building the guest kernel failed (see above); scripts/build-kernel.sh alone reproduces it"
    bzimage=$(sed -n 's/^bzimage=//p' <<< "$vars")
    kernel_version=$(sed -n 's/^kernel_version=//p' <<< "$vars")
    uapi=$(sed -n 's/^uapi=//p' <<< "$vars")
    kernel_src=$(sed -n 's/^kernel_src=//p' <<< "$vars")
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
    "${setup[@]}" -Dkernel_uapi="$uapi" -Dkernel_src="$kernel_src" \
        "$guest_build" "$DT_ROOT" > "$guest_build/setup.log" 2>&1 ||
        { cat "$guest_build/setup.log" >&2; dt_die "meson setup of the guest tools failed"; }
    dt_step "build the guest tools and initramfs" \
        meson compile -C "$guest_build" > /dev/null
    initrd=$guest_build/guest/initramfs.cpio.gz
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
    qemu_binary=$DT_QEMU_BINARY qemu_version=$DT_QEMU_VERSION
    bzimage=$DT_BZIMAGE kernel_version=$DT_KERNEL_VERSION initrd=$DT_INITRD
    probed_accel=$DT_ACCEL
fi
[ -f "$bzimage" ] || dt_die "no guest kernel: $bzimage (scripts/build-kernel.sh)"
[ -s "$initrd" ] || dt_die "no initramfs: $initrd (scripts/make-initramfs.sh)"
"$qemu_binary" -device help 2> /dev/null | grep -q '"dma-testdev"' ||
    dt_die "$qemu_binary has no dma-testdev device: use the binary of scripts/build-qemu.sh, or give --qemu a QEMU source tree (it is overlaid and built)"
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

# ---- Run directory ----------------------------------------------------

runs=$DT_CACHE/vm/runs
mkdir -p "$runs"
run=$runs/$(date +%Y%m%d-%H%M%S)-$$
mkdir "$run"
console=$run/console.log
# Keep the last 20 runs: console logs are small and useful for comparing.
# shellcheck disable=SC2012 # names are ours: date-pid, no odd characters
ls -1d "$runs"/*/ 2> /dev/null | sort | head -n -20 | xargs -r rm -rf

# A unix socket path is limited to 107 bytes: a deep cache dir gets one in
# /tmp instead.
qmp_sock=$run/qmp.sock
sock_dir=''
if [ ${#qmp_sock} -gt 100 ]; then
    sock_dir=$(mktemp -d "${TMPDIR:-/tmp}/dt-vm.XXXXXX")
    qmp_sock=$sock_dir/qmp.sock
fi

qemu_pid=''
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2> /dev/null; then
        kill "$qemu_pid" 2> /dev/null || true
    fi
    if [ "$keep" -eq 0 ]; then
        rm -f "$run/dma-log.json" "$run/watch.env"
        [ -s "$run/qemu.log" ] || rm -f "$run/qemu.log"
    fi
    rm -f "$qmp_sock"
    [ -z "$sock_dir" ] || rmdir "$sock_dir" 2> /dev/null || true
}
trap cleanup EXIT

# ---- QEMU command line ------------------------------------------------

# The check: pin 1 MiB of 4 KiB pages through the iommufd cdev, translate
# it with GET_PA, have the device write and verify a pattern there.
default_run='dt-pin --mode cdev --backing 4k --len 1M'
cmdline="console=ttyS0 vfio.enable_unsafe_noiommu_mode=1 panic=-1 hugepages=$hugepages"
if [ "$shell" -eq 1 ]; then
    # The guest's /init runs dt.run and powers off, before any shell.
    cmdline+=" dt.shell=1"
else
    cmdline+=" dt.run=\"${run_cmd:-$default_run}\""
fi

dt_dev="dma-testdev,id=dt0,bus=rp0"
for p in "${dt_props[@]}"; do
    dt_dev+=",$p"
done

qemu_args=(
    -nodefaults -display none -no-reboot
    -machine q35 -accel "$accel" -cpu "$cpu"
    -m "${mem_mib}M"
    # One vCPU per socket and node: plain -smp 2 draws an llc-sibling
    # warning from the guest with this NUMA layout.
    -smp "2,sockets=2,cores=1,threads=1"
    -object "memory-backend-ram,id=m0,size=${node0_mib}M"
    -numa "node,nodeid=0,cpus=0,memdev=m0"
    -object "memory-backend-ram,id=m1,size=${node1_mib}M"
    -numa "node,nodeid=1,cpus=1,memdev=m1"
    -kernel "$bzimage" -initrd "$initrd" -append "$cmdline"
    # PCIe device behind a root port, as on real machines.
    -device "pcie-root-port,id=rp0,chassis=1,slot=1"
    -device "$dt_dev"
    -qmp "unix:$qmp_sock,server=on,wait=off"
)
for d in "${extra_devices[@]}"; do
    qemu_args+=(-device "$d")
done

if [ "$net" -eq 1 ]; then
    "$qemu_binary" -netdev help 2> /dev/null | grep -qx user ||
        dt_die "$qemu_binary has no user-mode networking (built without slirp: install libslirp-dev and rebuild)"
    netdev=user,id=n0
    # Only ever on the loopback interface: the guest runs as root with no
    # password and must not be reachable from the network.
    [ -z "$ssh_port" ] || netdev+=",hostfwd=tcp:127.0.0.1:$ssh_port-:22"
    qemu_args+=(-netdev "$netdev"
        -device "pcie-root-port,id=rp1,chassis=2,slot=2"
        -device "virtio-net-pci,netdev=n0,bus=rp1")
    kconfig=$(dirname "$bzimage")/../../../.config
    if [ -f "$kconfig" ] && ! grep -q '^CONFIG_VIRTIO_NET=y' "$kconfig"; then
        dt_log "warning: the guest kernel has no virtio-net driver (CONFIG_NET, CONFIG_INET, CONFIG_VIRTIO_PCI and CONFIG_VIRTIO_NET are not in guest/kernel/dma-testdev.config): the NIC is there, the guest will not see it"
    fi
fi

# ---- Interactive shell ------------------------------------------------

if [ "$shell" -eq 1 ]; then
    dt_log "kernel $kernel_version, QEMU $qemu_version, accel $accel"
    dt_log "shell on the serial console: 'poweroff -f' or Ctrl-A x ends it; QMP: $qmp_sock"
    [ -z "$ssh_port" ] || dt_log "ssh: 127.0.0.1:$ssh_port -> guest port 22"
    rc=0
    # mux: the console and the QEMU monitor share stdio (Ctrl-A c);
    # logfile keeps the session like the non-interactive console log.
    "$qemu_binary" "${qemu_args[@]}" \
        -chardev "stdio,id=con0,mux=on,signal=off,logfile=$console" \
        -serial chardev:con0 -mon chardev=con0,mode=readline 2> "$run/qemu.log" || rc=$?
    [ ! -s "$run/qemu.log" ] || cat "$run/qemu.log" >&2
    dt_log "QEMU exited with status $rc; console log: $console"
    exit "$rc"
fi

# ---- Non-interactive run ----------------------------------------------

# -no-shutdown: after the guest powers off QEMU stays up (stopped), so the
# device's DMA log can still be read over QMP; the watcher then quits it.
dt_log "booting: kernel $kernel_version, accel $accel (-cpu $cpu), ${mem_mib} MiB on 2 NUMA nodes; console: $console"
start_ns=$(date +%s.%N)
"$qemu_binary" "${qemu_args[@]}" -no-shutdown -serial "file:$console" \
    > "$run/qemu.log" 2>&1 &
qemu_pid=$!
watch_args=(watch "$qmp_sock" --pid "$qemu_pid" --console "$console"
    --out "$run" --start "$start_ns" --timeout "$timeout_s")
[ "$verbose" -eq 0 ] || watch_args+=(--echo)
"$DT_PYTHON" "$DT_ROOT/scripts/lib/qmp.py" "${watch_args[@]}" > /dev/null ||
    dt_log "warning: the QMP watcher failed"
# The watcher quit QEMU through QMP; a QEMU that no longer answers is
# killed here rather than left behind.
for _ in $(seq 50); do
    kill -0 "$qemu_pid" 2> /dev/null || break
    sleep 0.1
done
kill "$qemu_pid" 2> /dev/null || true
qemu_rc=0
wait "$qemu_pid" || qemu_rc=$?
qemu_pid=''

# ---- Report -----------------------------------------------------------

report_rc=0
"$DT_PYTHON" - "$run" \
    "kernel_version=$kernel_version" "bzimage=$bzimage" \
    "qemu_version=$qemu_version" "qemu_binary=$qemu_binary" \
    "qemu_rc=$qemu_rc" "accel=$accel" "cpu=$cpu" "accel_why=$accel_why" \
    "mem_mib=$mem_mib" "hugepages=$hugepages" "build_s=$build_s" \
    "run_cmd=${run_cmd:-$default_run}" "default_run=$default_run" \
    "console=$console" \
    "dt_props=${dt_props[*]}" <<'EOF_PY' > "$run/report.txt" || report_rc=$?
# SPDX-License-Identifier: GPL-2.0-or-later
# The report of scripts/vm.sh: parse the guest console (@dt lines of
# docs/guest-protocol.rst, and TAP), check the device's DMA log (read over
# QMP) against the runs the guest pinned, print it, exit 0 only on pass.
import json
import os
import re
import sys

MAX_ROWS = 16   # runs or DMA segments shown per case before "... N more"

run_dir = sys.argv[1]
p = dict(a.split('=', 1) for a in sys.argv[2:])


def read(name):
    try:
        with open(os.path.join(run_dir, name), encoding='utf-8',
                  errors='replace') as f:
            return f.read()
    except FileNotFoundError:
        return ''


watch = dict(l.split('=', 1) for l in read('watch.env').splitlines()
             if '=' in l)
console = read('console.log').replace('\r', '')
try:
    dma_log = json.loads(read('dma-log.json'))
except ValueError:
    dma_log = None


def fields(text):
    """key=value fields; words that follow a value without '=' are kept
    as free text ("detail") rather than glued to that value."""
    out, free = {}, []
    for part in re.split(r'\s+(?=[A-Za-z_][\w-]*=)', text.strip()):
        if '=' not in part:
            free.append(part)
            continue
        k, v = part.split('=', 1)
        if k == 'msg':
            out[k] = v
        else:
            v, _, rest = v.partition(' ')
            out[k] = v
            if rest.strip():
                free.append(rest.strip())
    out['detail'] = ' '.join(f for f in free if f)
    out['raw'] = text.strip()
    return out


def num(v):
    try:
        return int(v, 0)
    except (TypeError, ValueError):
        return None


def size(n):
    if n is None:
        return '?'
    for unit, div in (('MiB', 1 << 20), ('KiB', 1 << 10)):
        if n >= div and n % div == 0:
            return '%d %s' % (n // div, unit)
    return '%d B' % n


cases, tap, fatals, problems = [], [], [], []
plan = exit_status = None
case = None
DT = re.compile(r'@dt (\w+)(.*)')
TAP = re.compile(r'^(not ok|ok)\b\s*(\d*)\s*-?\s*(.*)$')
for line in console.splitlines():
    m = DT.search(line)
    if m:
        kind, f = m.group(1), fields(m.group(2))
        if kind == 'begin':
            case = {'begin': f, 'runs': [], 'dmas': [], 'checks': [],
                    'end': None, 'moved': []}
            cases.append(case)
        elif kind == 'exit':
            exit_status = num(f.get('status'))
        elif kind == 'fatal':
            fatals.append(f.get('msg', m.group(2).strip()))
        else:
            if case is None:   # protocol lines outside begin/end
                case = {'begin': {'case': '(no begin line)'}, 'runs': [],
                        'dmas': [], 'checks': [], 'end': None, 'moved': []}
                cases.append(case)
            if kind == 'run':
                case['runs'].append(f)
            elif kind == 'dma':
                case['dmas'].append(f)
            elif kind == 'check':
                case['checks'].append(f)
            elif kind == 'moved':
                case['moved'].append(f)
            elif kind == 'end':
                case['end'] = f
        continue
    s = line.strip()
    m = re.match(r'^1\.\.(\d+)', s)
    if m:
        plan = int(m.group(1))
        continue
    m = TAP.match(s)
    if m:
        tap.append((m.group(1) == 'ok' or '# SKIP' in s.upper(), s))

kernel_bad = [l.strip() for l in console.splitlines()
              if re.search(r'Kernel panic|\bBUG:|Oops:|WARNING:', l)]

# ---- Map the device's commands to the cases that issued them ----------
# "@dt dma" lines carry the device's command number (seq=, the "cmd" of
# the log entries).  Without it, commands are matched to the lines in
# order, which holds when the guest did nothing else with the device.
cmds = sorted({e['cmd'] for e in dma_log or []})
dma_lines = [(ci, d) for ci, c in enumerate(cases) for d in c['dmas']]
cmd_case = {}
if dma_lines and all(num(d.get('seq')) is not None for _, d in dma_lines):
    for ci, d in dma_lines:
        cmd_case[num(d['seq'])] = ci
elif len(cmds) == len(dma_lines):
    for cmd, (ci, _) in zip(cmds, dma_lines):
        cmd_case[cmd] = ci


def find_run(addr, n, runs):
    """Index of the run holding [addr, addr+n), -1 if it spans adjacent
    runs, None if it is (partly) outside every run."""
    for i, r in enumerate(runs):
        pa, ln = num(r.get('pa')), num(r.get('len'))
        if pa is not None and ln and pa <= addr and addr + n <= pa + ln:
            return i
    spans = sorted((num(r.get('pa')), num(r.get('pa')) + num(r.get('len')))
                   for r in runs if num(r.get('pa')) is not None
                   and num(r.get('len')))
    lo = hi = None
    for a, b in spans:
        if hi is not None and a <= hi:
            hi = max(hi, b)
        else:
            lo, hi = a, b
        if lo <= addr and addr + n <= hi:
            return -1
    return None


all_runs = [r for c in cases for r in c['runs']]
per_case = {i: [] for i in range(len(cases))}
unmatched = []
for e in dma_log or []:
    ci = cmd_case.get(e['cmd'])
    (per_case[ci] if ci is not None else unmatched).append(e)

# ---- Print ---------------------------------------------------------------
out = []
w = out.append
w('dma-testdev developer VM')
w('  kernel       %s  (%s)' % (p['kernel_version'], p['bzimage']))
w('  QEMU         %s  (%s)' % (p['qemu_version'], p['qemu_binary']))
kvm_seen = watch.get('accel_kvm', 'unknown')
w('  accelerator  %s, -cpu %s (QMP query-kvm: enabled=%s)'
  % (p['accel'], p['cpu'], kvm_seen))
w('               why: %s' % p['accel_why'])
if kvm_seen in ('true', 'false') and (kvm_seen == 'true') != (p['accel'] == 'kvm'):
    problems.append('QEMU runs with query-kvm enabled=%s, not %s'
                    % (kvm_seen, p['accel']))
w('  guest        2 vCPUs, %s MiB RAM on 2 NUMA nodes, %s hugepages (2 MiB)'
  % (p['mem_mib'], p['hugepages']))
w('  command      dt.run="%s"' % p['run_cmd'])
if p['dt_props']:
    w('  dma-testdev  %s' % p['dt_props'])


def check_entries(entries, runs, per_run):
    """Summarise the data segments of the device's DMA log per command and
    list every one that is not wholly inside a run or that failed; add the
    bytes moved to per_run[run index] = [written, read].  Returns the
    number of segments outside the runs."""
    outside = 0
    by_cmd = {}
    for e in entries:
        by_cmd.setdefault(e['cmd'], []).append(e)
    for cmd, es in sorted(by_cmd.items()):
        data = [e for e in es if e['list'] in ('src', 'dst')]
        nlist = len(es) - len(data)
        wrote = sum(e['done'] for e in data if e['dir'] == 'write')
        read_ = sum(e['done'] for e in data if e['dir'] == 'read')
        bad = []
        for e in data:
            n = e['done']
            ri = find_run(e['addr'], n, runs) if n else -2
            if ri is None:
                outside += 1
            if ri is not None and ri >= 0:
                per_run.setdefault(ri, [0, 0])[e['dir'] == 'read'] += n
            if ri is None or e['result'] != 'ok':
                bad.append((e, ri))
        moved = ', '.join(x for x in (
            '%s written' % size(wrote) if wrote else '',
            '%s read' % size(read_) if read_ else '') if x) or 'no data'
        verdict = ('all inside the pinned runs' if not bad else
                   '%d outside the pinned runs' % outside if outside else
                   'errors')
        w('    device     command %d %s: %d segments, %s: %s%s'
          % (cmd, es[0]['op'], len(data), moved, verdict,
             ' (+%d segment-list reads)' % nlist if nlist else ''))
        for e, ri in bad[:MAX_ROWS]:
            w('      %s %s[%d] pa 0x%x + 0x%x -> %s%s'
              % (e['dir'], e['list'], e['index'], e['addr'], e['done'],
                 'OUTSIDE the pinned runs' if ri is None else
                 'nothing transferred' if ri == -2 else 'inside',
                 '' if e['result'] == 'ok' else '  [%s]' % e['result']))
        if len(bad) > MAX_ROWS:
            w('      ... %d more' % (len(bad) - MAX_ROWS))
    return outside


for ci, c in enumerate(cases):
    b, end = c['begin'], c['end']
    result = end.get('result', '?') if end else 'no end line'
    w('')
    w('  case %s: %s' % (b.get('case', '?'), result.upper()))
    w('    pinned     mode=%s backing=%s, %s (%s) at page offset %s'
      % (b.get('mode', '?'), b.get('backing', '?'), size(num(b.get('len'))),
         b.get('len', '?'), b.get('offset', '?')))
    for d in c['dmas']:
        w('    guest DMA  op=%s segs=%s bytes=%s error=%s (device command %s)'
          % (d.get('op'), d.get('segs'), d.get('bytes'), d.get('error'),
             num(d.get('seq')) if d.get('seq') else '?'))
    per_run = {}
    if per_case[ci]:
        n = check_entries(per_case[ci], c['runs'], per_run)
        if n:
            problems.append('case %s: %d DMA segments landed outside the '
                            'pinned runs' % (b.get('case'), n))
    elif c['dmas'] and dma_log is not None:
        problems.append('case %s: the guest did DMA but the device log has '
                        'nothing for it' % b.get('case'))
    w('    runs       %d from IOMMU_IOAS_NOIOMMU_GET_PA, and the DMA the '
      'device log shows in each' % len(c['runs']))
    for k, r in enumerate(c['runs']):
        if k == MAX_ROWS and len(c['runs']) > MAX_ROWS + 1:
            rest = range(MAX_ROWS, len(c['runs']))
            wr = sum(per_run.get(i, [0, 0])[0] for i in rest)
            rd = sum(per_run.get(i, [0, 0])[1] for i in rest)
            w('      ... %d more runs (%s written, %s read by the device)'
              % (len(rest), size(wr), size(rd)))
            break
        wr, rd = per_run.get(k, [0, 0])
        dma = ', '.join(x for x in ('wrote %s' % size(wr) if wr else '',
                                    'read %s' % size(rd) if rd else '') if x)
        w('      %2d  iova %-12s -> pa %-12s len %-8s %-9s %s'
          % (k, r.get('iova', '?'), r.get('pa', '?'), r.get('len', '?'),
             '(%s)' % size(num(r.get('len'))), dma))
    for mv in c['moved']:
        w('    moved      page %s: %s -> %s (status %s)'
          % (mv.get('page'), mv.get('old'), mv.get('new'), mv.get('status')))
    fails = [k for k in c['checks'] if k.get('result') != 'ok']
    w('    checks     %d ok, %d failed%s'
      % (len(c['checks']) - len(fails), len(fails),
         ''.join('\n      FAIL %s: %s' % (k.get('name'), re.sub(
             r'\b(name|result)=\S+\s*', '', k['raw'])[:160]) for k in fails)))
    if result != 'pass':
        problems.append('case %s: %s' % (b.get('case'), result))

if unmatched:
    w('')
    w('  device DMA log: %d entries not matched to a case: checked against '
      'all the runs' % len(unmatched))
    n = check_entries(unmatched, all_runs, {})
    if n and all_runs:
        problems.append('%d DMA segments landed outside every pinned run' % n)
if dma_log is None:
    w('')
    w('  device DMA log: not read (%s)' % watch.get('dma_log_error',
                                                   'QEMU gone'))
    if dma_lines:
        problems.append('the device DMA log could not be read')
elif not dma_log:
    w('')
    w('  device DMA log: empty (the device did no DMA)')

# A command of one's own: show what it printed (without kernel messages
# and protocol lines, which the report covers).
if p['run_cmd'] != p['default_run']:
    shown, on = [], False
    for line in console.splitlines():
        if 'dt-init: running:' in line:
            on = True
        elif '@dt exit' in line:
            on = False
        elif on and not re.match(r'\s*(\[\s*\d+\.\d+\]|@dt )', line):
            shown.append(line)
    w('')
    w('  output       %d lines%s' % (len(shown), ' (the last 40)'
                                    if len(shown) > 40 else ''))
    for line in shown[-40:]:
        w('    | ' + line)

w('')
oks = sum(1 for ok, _ in tap if ok)
nots = [s for ok, s in tap if not ok]
if tap or plan is not None:
    w('  TAP          %d ok, %d not ok%s' % (oks, len(nots), '' if plan is None
                                             else ' (plan 1..%d)' % plan))
    for s in nots:
        w('    ' + s)
    if nots:
        problems.append('%d TAP tests failed' % len(nots))
    if plan is not None and plan != len(tap):
        problems.append('TAP plan 1..%d but %d results' % (plan, len(tap)))
for f in fatals:
    problems.append('guest tool fatal: ' + f)
for l in kernel_bad[:5]:
    problems.append('kernel: ' + l)

outcome, why = watch.get('outcome', 'unknown'), watch.get('reason', '')
if outcome != 'shutdown':
    problems.append('QEMU: %s: %s' % (outcome, why))
    errs = [l for l in read('qemu.log').splitlines()
            if l.strip() and 'warning:' not in l and 'terminating on' not in l]
    if errs:
        problems.append('QEMU (exit status %s) said: %s'
                        % (p['qemu_rc'], errs[0].strip()))
    if p['accel'] == 'kvm':
        problems.append('KVM may not run this guest here: try --accel auto '
                        '(probes KVM) or --accel tcg')
elif why != 'guest-shutdown':
    problems.append('the guest did not power off cleanly (%s)' % why)
if exit_status is None:
    problems.append("the guest never printed '@dt exit' (see the console log)")
elif exit_status != 0:
    problems.append('guest command exit status %d' % exit_status)

w('  guest exit   %s' % ('status %d' % exit_status if exit_status is not None
                         else 'none'))
w('  time         boot-to-result %s s (QEMU start to "@dt exit"), end %s s;'
  ' prerequisites checked/built in %s s'
  % (watch.get('result_s') or '-', watch.get('end_s') or '-', p['build_s']))
w('  console log  %s' % p['console'])
w('')
if problems:
    w('RESULT: FAIL')
    for pr in problems:
        w('  - ' + pr)
else:
    w('RESULT: PASS')
print('\n'.join(out))
sys.exit(1 if problems else 0)
EOF_PY
cat "$run/report.txt"
if [ "$report_rc" -ne 0 ] && [ -s "$run/qemu.log" ]; then
    dt_log "QEMU's stderr ($run/qemu.log):"
    tail -n 20 "$run/qemu.log" >&2
fi
exit "$report_rc"
