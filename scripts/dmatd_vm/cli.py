# SPDX-License-Identifier: GPL-2.0-or-later
"""Options of the developer VM (scripts/vm.sh passes them through)."""

import argparse
import os
import re
import sys
from typing import List, Optional


DESCRIPTION = """\
The developer VM: boot a Linux >= 7.3 guest on QEMU q35 with dma-testdev
behind a PCIe root port, two NUMA nodes and no IOMMU, run the pin + DMA
check in it (dt-pin: pin a buffer through iommufd, translate it with
IOMMU_IOAS_NOIOMMU_GET_PA, DMA into it with the device), and print a
report: versions, accelerator and why, what was pinned, the runs
(iova -> pa), the device's DMA log (read over QMP), the guest tool's
checks, pass/fail and boot-to-result time.  Exit 0 only on pass, 1 on a
failed run, 2 on bad options.  scripts/vm.sh builds whatever is missing
(QEMU, kernel, initramfs) first."""

EPILOG = """\
Environment: DMA_TESTDEV_ACCEL (default of --accel), DMA_TESTDEV_KVM_CPU
(scripts/lib/accel.sh), DMA_TESTDEV_CACHE (scripts/lib/common.sh).
Output: the report on stdout (with --json -: the JSON on stdout, the
report on stderr); progress on stderr.  Runs are kept in
$DMA_TESTDEV_CACHE/vm/runs/ (the last 20)."""

DEFAULT_RUN = 'dt-pin --mode cdev --backing 4k --len 1M'


class Parser(argparse.ArgumentParser):
    """argparse, with errors that name scripts/vm.sh --help."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write('[dma-testdev] error: %s (see scripts/vm.sh '
                         '--help)\n' % message)
        sys.exit(2)


def _size_mib(text: str) -> int:
    m = re.fullmatch(r'(\d{1,7})([GgMm]?)', text)
    mib = 0
    if m:
        mib = int(m.group(1)) * (1024 if m.group(2) in ('G', 'g') else 1)
    if mib < 256:
        raise argparse.ArgumentTypeError(
            '%s: give a size like 1G or 768M (at least 256M)' % text)
    return mib


def _count(text: str) -> int:
    if not re.fullmatch(r'\d+', text):
        raise argparse.ArgumentTypeError('%s: a number' % text)
    return int(text)


def _port(text: str) -> int:
    if not re.fullmatch(r'\d+', text) or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError('%s: a port number' % text)
    return int(text)


def _run_cmd(text: str) -> str:
    # It travels as dt.run="..." on the kernel command line, which has no
    # escape for a double quote.
    if '"' in text or '\n' in text:
        raise argparse.ArgumentTypeError(
            'the command cannot contain \'"\' or a newline (it goes on the '
            'kernel command line)')
    return text


def _kernel_params(text: str) -> str:
    # The kernel reads a quote as the start of a value with spaces.  The
    # VM's own parameters that a second one would not replace have their
    # options: /init reads the first dt.*, Linux ignores a second
    # hugepages= and adds a console for a second console=.
    words = (' ' + text).split(' ')
    owned = [w for w in words
             if w.startswith(('dt.', 'hugepages=', 'console='))]
    if '\n' in text or text.count('"') % 2 or owned:
        raise argparse.ArgumentTypeError(
            '%r: kernel parameters without a newline, unbalanced quotes, '
            'dt.* (--run, --shell, --rootfs), hugepages= (--hugepages) or '
            'console=' % text)
    return text.strip()


def _path(text: str) -> str:
    if '\n' in text or not text:
        raise argparse.ArgumentTypeError('%r: not a usable path' % text)
    return text


def build_parser() -> Parser:
    """The parser, with its option groups."""
    p = Parser(prog='scripts/vm.sh', description=DESCRIPTION, epilog=EPILOG,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group('what to boot')
    g.add_argument('--kernel', metavar='PATH', type=_path,
                   help='a bzImage to boot, or a Linux source tree to build '
                   'with guest/kernel/dma-testdev.config')
    g.add_argument('--qemu', metavar='PATH', type=_path,
                   help='a qemu-system-x86_64 binary (with dma-testdev), or '
                   'a QEMU source tree to overlay and build')
    g = p.add_argument_group('the machine')
    g.add_argument('--accel', choices=('auto', 'kvm', 'tcg'),
                   default=os.environ.get('DMA_TESTDEV_ACCEL') or 'auto',
                   help='auto (default: probe KVM, else TCG), kvm or tcg')
    g.add_argument('--cpu', metavar='MODEL',
                   help='-cpu model (default: max,erms=off,fsrm=off under '
                   'TCG, which runs REP STOSB a byte at a time; the model '
                   'the probe booted under KVM), e.g. max')
    g.add_argument('--mem', metavar='SIZE', type=_size_mib, default=1024,
                   help='guest RAM, split over the 2 NUMA nodes (default 1G)')
    g.add_argument('--hugepages', metavar='N', type=_count,
                   help='2 MiB hugepages reserved at boot (default: RAM/32)')
    g.add_argument('--device', metavar='ARGS', action='append', default=[],
                   help='one more QEMU -device (repeatable)')
    g.add_argument('--dt-prop', metavar='K=V', action='append', default=[],
                   help='one more dma-testdev property, e.g. '
                   'x-misdirect-offset=0 (a negative control: the guest '
                   "tool's verify must then fail)")
    g.add_argument('--net', action='store_true',
                   help='user-mode networking (a virtio-net NIC)')
    g.add_argument('--ssh-port', metavar='PORT', type=_port,
                   help='with --net (implied): forward 127.0.0.1:PORT to '
                   'guest port 22')
    g = p.add_argument_group('what the guest does')
    g.add_argument('--run', metavar='"CMD"', type=_run_cmd,
                   help='guest command instead of the default check (%s)'
                   % DEFAULT_RUN)
    g.add_argument('--rootfs', choices=('initramfs', 'host'),
                   default='initramfs',
                   help="initramfs (default: busybox and the guest tools, "
                   "fast) or host: this machine's / read-only over "
                   "virtio-9p with a RAM overlay for writes, the guest "
                   "tools first on PATH, --run starting in the current "
                   "directory; any host program runs (e.g. --run dt-dpdk)")
    g.add_argument('--shell', action='store_true',
                   help='interactive shell on the serial console (Ctrl-A x '
                   'quits QEMU; Ctrl-A c is the QEMU monitor)')
    g.add_argument('--append', metavar='"PARAMS"', type=_kernel_params,
                   action='append', default=[],
                   help='more guest kernel parameters, after the VM\'s own '
                   '(repeatable), e.g. "loglevel=8 initcall_debug": the '
                   'console shows warnings and worse by default')
    g.add_argument('--timeout', metavar='S', type=_count, default=600,
                   help='give up on a non-interactive run after S s (600)')
    g = p.add_argument_group('output')
    g.add_argument('--verbose', action='store_true',
                   help='copy the guest console to stderr while it runs')
    g.add_argument('--keep', action='store_true',
                   help="keep the whole run directory (the raw DMA log, "
                   "QEMU's log); otherwise the console log, report.txt, "
                   "report.json and QEMU's stderr (if any) are kept")
    g.add_argument('--json', metavar='FILE', type=_path,
                   help='also write the report as JSON to FILE (- : JSON on '
                   'stdout, the text report on stderr)')
    g.add_argument('--dry-run', '--show-command', dest='dry_run',
                   action='store_true',
                   help='print the QEMU command line and exit (the '
                   'prerequisites are still resolved, and built if missing)')
    g = p.add_argument_group(
        'resolved by scripts/vm.sh',
        'set by vm.sh after its build stages (later options win); give\n'
        'them yourself to run the Python program on ready-made files\n'
        '(PYTHONPATH=scripts python3 -m dmatd_vm --qemu BINARY --kernel\n'
        'BZIMAGE --initrd FILE --qemu-python DIR --accel tcg)')
    g.add_argument('--initrd', metavar='FILE', type=_path,
                   help='the initramfs (guest/initramfs.cpio)')
    g.add_argument('--qemu-python', metavar='DIR', type=_path,
                   help="a QEMU source tree's python/ directory "
                   '(qemu.machine, qemu.qmp)')
    g.add_argument('--kernel-version', metavar='V', default='unknown',
                   help=argparse.SUPPRESS)
    g.add_argument('--accel-why', metavar='TEXT', default='',
                   help=argparse.SUPPRESS)
    g.add_argument('--prereq-seconds', metavar='S', type=float, default=0.0,
                   help=argparse.SUPPRESS)
    g.add_argument('--tools-dir', metavar='DIR', type=_path,
                   help='with --rootfs host: the built guest tools, put on '
                   "the guest's PATH (dt-dpdk lives there)")
    g.add_argument('--x-build-vars', action='store_true',
                   help=argparse.SUPPRESS)
    return p


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse and cross-check the options; exit 2 on a bad one."""
    p = build_parser()
    args = p.parse_args(argv)
    if args.ssh_port is not None:
        args.net = True
    if args.shell and args.run is not None:
        p.error('--shell and --run exclude each other (run the command in '
                'the shell)')
    if args.shell and args.json:
        p.error('--json needs a non-interactive run (not --shell)')
    if args.hugepages is None:
        # A few percent of RAM as 2 MiB hugepages: enough for
        # hugetlb-backed test buffers, little enough to leave THP and
        # 4 KiB allocations room.
        args.hugepages = args.mem // 32
    for prop in args.dt_prop:
        if '=' not in prop or ',' in prop:
            p.error('--dt-prop %s: give one KEY=VALUE' % prop)
    if args.rootfs == 'host':
        # Both go on the kernel command line, which splits at blanks.
        for what, path in (('the current directory', os.getcwd()),
                           ('--tools-dir', args.tools_dir or '')):
            if any(c.isspace() or c == '"' for c in path):
                p.error('--rootfs host: %s %r has a blank or a quote, which '
                        'the kernel command line cannot carry' % (what, path))
    return args


def build_vars(args: argparse.Namespace) -> str:
    """key=value lines for the build stages of scripts/vm.sh."""
    return ''.join('%s=%s\n' % kv for kv in (
        ('kernel', args.kernel or ''), ('qemu', args.qemu or ''),
        ('accel', args.accel), ('cpu', args.cpu or ''),
        ('rootfs', args.rootfs)))
