# SPDX-License-Identifier: GPL-2.0-or-later
"""The developer VM's QEMU: its command line, and one run of it.

The run goes through QEMU's own Python library (python/qemu in the QEMU
source tree: qemu.machine.QEMUMachine and its QMP client), the one QEMU's
functional tests use.  QEMU starts with -no-shutdown: after the guest
powers off it stays up, stopped, so that the device's DMA log can still
be read over QMP; then it is told to quit.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional

from .cli import DEFAULT_RUN


def log(msg: str) -> None:
    """Progress on stderr, as the bash scripts print it."""
    sys.stderr.write('[dma-testdev] %s\n' % msg)
    sys.stderr.flush()


class VmError(Exception):
    """The run cannot start (missing file, unusable QEMU)."""


def python_dir_of(binary: Optional[str]) -> Optional[str]:
    """The python/ directory of the source tree a QEMU binary was built
    from (its build tree's meson-info), None if that is not known."""
    if not binary:
        return None
    info = os.path.join(os.path.dirname(binary), 'meson-info',
                        'meson-info.json')
    try:
        with open(info, encoding='utf-8') as f:
            src = json.load(f)['directories']['source']
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return os.path.join(src, 'python')


def import_qemu(python_dir: Optional[str]) -> Any:
    """Import qemu.machine from a QEMU source tree's python/ directory."""
    if not python_dir:
        raise VmError("no QEMU python/ directory: give --qemu-python DIR (a "
                      "QEMU source tree's python/, e.g. under the qemu_src= "
                      'of scripts/build-qemu.sh)')
    if not os.path.isfile(os.path.join(python_dir, 'qemu', 'machine',
                                       '__init__.py')):
        raise VmError('--qemu-python %s: no qemu/machine/ there (give a QEMU '
                      "source tree's python/ directory)" % python_dir)
    sys.path.insert(0, os.path.abspath(python_dir))
    # QEMUMachine with its exceptions (VMLaunchFailure, AbnormalShutdown).
    # pylint: disable=import-outside-toplevel
    from qemu.machine import machine
    return machine


# No i8042: nothing in the guest uses a PS/2 keyboard or mouse, and
# Linux's probe of them costs 0.2 s of emulated CPU at every boot.  No
# SATA controller and no SMM: nothing in the guest uses either, and
# SeaBIOS probes the AHCI ports and sets SMM up at every boot (the first
# console byte 0.48 -> 0.31 s after QEMU's start, median of five, TCG).
# The guest-level qtests boot the same machine.
MACHINE = 'q35,i8042=off,sata=off,smm=off'


def kernel_cmdline(args: argparse.Namespace) -> str:
    """The guest kernel's command line."""
    # loglevel=5, as the guest-level qtests: the console shows the kernel's
    # warnings and worse (a WARN() too, which quiet would hide).  Each
    # console byte is an emulated UART write; the notice and info messages
    # of a boot cost about 0.15 s of it under TCG.  guest/initramfs/init
    # prints them after a failed command; --append loglevel=8 shows them
    # all.
    line = ('console=ttyS0 loglevel=5 vfio.enable_unsafe_noiommu_mode=1 '
            'panic=-1 hugepages=%d' % args.hugepages)
    # After ours, so that the kernel takes the user's value of a parameter.
    for extra in args.append:
        line += ' ' + extra
    if args.rootfs == 'host':
        # guest/initramfs/init mounts it and runs the command there.
        line += ' dt.rootfs=host dt.cwd=%s' % os.getcwd()
        if args.tools_dir:
            line += ' dt.path=%s' % os.path.abspath(args.tools_dir)
    if args.shell:
        # The guest's /init runs dt.run and powers off, before any shell.
        return line + ' dt.shell=1'
    return line + ' dt.run="%s"' % (args.run or DEFAULT_RUN)


def qemu_args(args: argparse.Namespace) -> List[str]:
    """QEMU's arguments, but for the console and the monitor."""
    node0 = args.mem // 2
    dt_dev = ','.join(['dma-testdev,id=dt0,bus=rp0'] + args.dt_prop)
    out = [
        '-nodefaults', '-no-reboot',
        '-machine', MACHINE, '-accel', args.accel, '-cpu', args.cpu,
        '-m', '%dM' % args.mem,
        # One vCPU per socket and node: plain -smp 2 draws an llc-sibling
        # warning from the guest with this NUMA layout.
        '-smp', '2,sockets=2,cores=1,threads=1',
        '-object', 'memory-backend-ram,id=m0,size=%dM' % node0,
        '-numa', 'node,nodeid=0,cpus=0,memdev=m0',
        '-object', 'memory-backend-ram,id=m1,size=%dM' % (args.mem - node0),
        '-numa', 'node,nodeid=1,cpus=1,memdev=m1',
        '-kernel', args.kernel, '-initrd', args.initrd,
        '-append', kernel_cmdline(args),
        # PCIe device behind a root port, as on real machines.
        '-device', 'pcie-root-port,id=rp0,chassis=1,slot=1',
        '-device', dt_dev,
    ]
    if args.rootfs == 'host':
        # 9p: QEMU serves it itself (virtiofs needs virtiofsd, which
        # bookworm lacks).  Read-only: the guest's writes go to a tmpfs
        # overlay; multidevs=remap keeps inode numbers of the host's
        # mounts apart.
        out += ['-fsdev', 'local,id=hostroot,path=/,security_model=none,'
                'readonly=on,multidevs=remap',
                '-device', 'virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot']
    for dev in args.device:
        out += ['-device', dev]
    if args.net:
        netdev = 'user,id=n0'
        # Only ever on the loopback interface: the guest runs as root with
        # no password and must not be reachable from the network.
        if args.ssh_port:
            netdev += ',hostfwd=tcp:127.0.0.1:%d-:22' % args.ssh_port
        out += ['-netdev', netdev,
                '-device', 'pcie-root-port,id=rp1,chassis=2,slot=2',
                '-device', 'virtio-net-pci,netdev=n0,bus=rp1']
    return out


def check_qemu(args: argparse.Namespace) -> str:
    """Check the binary and the files; return QEMU's version."""
    for what, path in (('--qemu', args.qemu), ('--kernel', args.kernel),
                       ('--initrd', args.initrd)):
        if not path or not os.path.isfile(path):
            raise VmError('%s %s: no such file (scripts/vm.sh builds it)'
                          % (what, path))
    if not os.access(args.qemu, os.X_OK):
        raise VmError('--qemu %s is not executable' % args.qemu)
    # scripts/vm.sh passes the probe's model; max is its first choice.
    # TCG runs REP STOSB/MOVSB a byte at a time; without ERMS and FSRM
    # the guest zeroes and copies pages with wider moves (as
    # scripts/lib/accel.sh's dt_accel_cpu chooses).
    args.cpu = args.cpu or ('max,erms=off,fsrm=off' if args.accel == 'tcg'
                            else 'max')
    if args.accel == 'auto':
        raise VmError('--accel auto: the probe is scripts/vm.sh\'s; give '
                      'kvm or tcg')
    out = subprocess.run([args.qemu, '-device', 'help'], check=False,
                         capture_output=True, text=True).stdout
    if '"dma-testdev"' not in out:
        raise VmError('%s has no dma-testdev device: use the binary of '
                      'scripts/build-qemu.sh, or give --qemu a QEMU source '
                      'tree (it is overlaid and built)' % args.qemu)
    for dev in args.device:
        driver = dev.split(',', 1)[0]
        if driver != 'help' and '"%s"' % driver not in out:
            raise VmError('--device %s: %s has no device "%s" (scripts/'
                          'build-qemu.sh builds only the devices the tests '
                          'use; DMA_TESTDEV_QEMU_DEVICES=default builds '
                          'QEMU\'s full set)' % (dev, args.qemu, driver))
    if args.rootfs == 'host' and '"virtio-9p-pci"' not in out:
        raise VmError('--rootfs host: %s has no virtio-9p-pci (QEMU was '
                      'configured without virtfs)' % args.qemu)
    if args.net:
        out = subprocess.run([args.qemu, '-netdev', 'help'], check=False,
                             capture_output=True, text=True).stdout
        if 'user' not in out.split():
            raise VmError('%s has no user-mode networking (built without '
                          'slirp: install libslirp-dev and rebuild)'
                          % args.qemu)
        kconfig = os.path.join(os.path.dirname(args.kernel), '..', '..',
                               '..', '.config')
        if os.path.isfile(kconfig):
            with open(kconfig, encoding='utf-8', errors='replace') as f:
                if 'CONFIG_VIRTIO_NET=y' not in f.read().split('\n'):
                    log('warning: the guest kernel has no virtio-net driver '
                        '(CONFIG_NET, CONFIG_INET, CONFIG_VIRTIO_PCI and '
                        'CONFIG_VIRTIO_NET are not in guest/kernel/'
                        'dma-testdev.config): the NIC is there, the guest '
                        'will not see it')
    ver = subprocess.run([args.qemu, '--version'], check=False,
                         capture_output=True, text=True).stdout
    first = ver.split('\n', 1)[0]
    return first.replace('QEMU emulator version ', '', 1) or 'unknown'


class ConsoleTail:
    """Follows the console log file as QEMU writes it."""
    # pylint: disable=too-few-public-methods

    def __init__(self, path: str, echo: bool):
        self.path = path
        self.echo = echo
        self.pos = 0
        self.pending = b''
        self.exit_seen = False

    def scan(self) -> None:
        """Read what is new; note the "@dt exit" line."""
        try:
            with open(self.path, 'rb') as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return
        self.pos += len(data)
        if self.echo and data:
            sys.stderr.write(data.decode('utf-8', 'replace'))
            sys.stderr.flush()
        self.pending += data
        *lines, self.pending = self.pending.split(b'\n')
        if any(b'@dt exit' in line for line in lines):
            self.exit_seen = True


def read_dma_log(vm: Any, path: str) -> List[Dict[str, Any]]:
    """The device's whole DMA log, oldest first.

    QOM "dma-log" returns one bounded page from "dma-log-from" on (so that
    no read holds QEMU's lock for long); pages follow each other until
    one comes back empty (docs/specs/dma-testdev.rst).
    """
    entries: List[Dict[str, Any]] = []
    first = 0
    while True:
        vm.cmd('qom-set', {'path': path, 'property': 'dma-log-from',
                           'value': first})
        page = vm.cmd('qom-get', {'path': path, 'property': 'dma-log'})
        if not page:
            return entries
        if page[0]['seq'] < first:
            raise VmError('DMA log page starts at seq %d, before %d'
                          % (page[0]['seq'], first))
        entries.extend(page)
        first = page[-1]['seq'] + 1


def _watch(vm: Any, tail: ConsoleTail, out: Dict[str, Any],
           timeout: float, silence: float, start: float) -> None:
    """Follow the run until the guest powers off, QEMU stops on an error,
    exits, or time runs out; fills OUT."""
    def now() -> float:
        return round(time.monotonic() - start, 2)

    while True:
        tail.scan()
        if tail.exit_seen and out['result_s'] is None:
            out['result_s'] = now()
        if now() > timeout:
            out.update(outcome='timeout',
                       reason='no power-off within %d s' % timeout)
            return
        if tail.pos == 0 and now() > silence:
            out.update(outcome='silent', reason='the guest printed nothing '
                       'in %d s (the accelerator cannot run it?)' % silence)
            return
        if not vm.is_running():
            # The QMP connection of a dead QEMU just stays quiet.
            out.update(outcome='qemu-exit', reason='QEMU exited during the '
                       'run (status %s)' % vm.exitcode(), end_s=now())
            return
        try:
            # The console is scanned between waits: a short one, so that
            # the time of "@dt exit" is the time it reached the console
            # (a poll at 0.2 s stretched it by up to 0.2 s).
            ev = vm.get_qmp_event(wait=0.02)
        except asyncio.TimeoutError:
            continue
        if ev is None:
            continue
        name, data = ev['event'], ev.get('data', {})
        if name == 'SHUTDOWN':
            out.update(outcome='shutdown', reason=data.get('reason', ''))
        elif name == 'GUEST_PANICKED':
            out.update(outcome='panic', reason='guest panicked')
        elif name == 'STOP':
            status = vm.cmd('query-status')['status']
            if status not in ('internal-error', 'guest-panicked',
                              'io-error'):
                continue
            out.update(outcome='stopped',
                       reason='QEMU stopped the guest: ' + status)
        else:
            continue
        out['end_s'] = now()
        return


def run(args: argparse.Namespace, run_dir: str,
        console: str) -> Dict[str, Any]:
    """Boot, follow and end one non-interactive run.

    Returns what happened: outcome and reason (shutdown, panic,
    stopped, timeout, silent, qemu-exit), query-kvm's answer,
    result_s (QEMU start to the "@dt exit" line), end_s, the run state
    at the end, the DMA log (None if it could not be read) and QEMU's
    exit status.
    """
    machine = import_qemu(args.qemu_python)
    qmp_error = sys.modules['qemu.qmp'].QMPError
    out: Dict[str, Any] = {
        'outcome': 'unknown', 'reason': '', 'accel_kvm': None,
        'result_s': None, 'end_s': None, 'status': None, 'dma_log': None,
        'dma_log_error': None, 'qemu_rc': None}
    vm = machine.QEMUMachine(
        args.qemu, name='qemu', log_dir=run_dir, base_temp_dir=run_dir,
        args=qemu_args(args) + ['-no-shutdown', '-serial',
                                'file:' + console])
    tail = ConsoleTail(console, args.verbose)
    start = time.monotonic()
    try:
        vm.launch()
    except machine.VMLaunchFailure as e:
        out.update(outcome='qemu-exit', reason='QEMU did not start',
                   qemu_rc=e.exitcode, end_s=0.0)
        out['qemu_log'] = e.output or ''
        return out
    try:
        try:
            out['accel_kvm'] = vm.cmd('query-kvm')['enabled']
        except qmp_error:
            pass
        _watch(vm, tail, out, args.timeout, 30, start)
        if out['end_s'] is None:
            out['end_s'] = round(time.monotonic() - start, 2)
        # Let the last console lines (written before the power-off) land.
        time.sleep(0.1)
        tail.scan()
        if tail.exit_seen and out['result_s'] is None:
            out['result_s'] = out['end_s']
        if out['outcome'] != 'qemu-exit':
            out['status'] = vm.cmd('query-status')['status']
            try:
                out['dma_log'] = read_dma_log(vm, '/machine/peripheral/dt0')
            except (qmp_error, VmError) as e:
                out['dma_log_error'] = str(e)
    except (qmp_error, OSError, EOFError) as e:
        tail.scan()
        time.sleep(0.2)
        why = str(e) or type(e).__name__
        out.update(outcome='qemu-exit',
                   end_s=round(time.monotonic() - start, 2),
                   reason='QEMU exited during the run' if not
                   vm.is_running() else 'QMP: ' + why)
    finally:
        try:
            vm.shutdown(timeout=10)
        except machine.AbnormalShutdown:
            if out['outcome'] != 'qemu-exit':
                log('warning: QEMU did not quit when asked: killed')
        out['qemu_rc'] = vm.exitcode()
        out['qemu_log'] = vm.get_log() or ''
    return out


def show_command(args: argparse.Namespace, console: str) -> List[str]:
    """The command line of a non-interactive run, monitor included as
    QEMUMachine gives it (a socket pair, here a placeholder)."""
    return ([args.qemu, '-display', 'none', '-vga', 'none',
             '-chardev', 'socket,id=mon,fd=<QMP socketpair>',
             '-mon', 'chardev=mon,mode=control'] + qemu_args(args) +
            ['-no-shutdown', '-serial', 'file:' + console])


def run_shell(args: argparse.Namespace, run_dir: str, console: str) -> int:
    """The interactive shell: QEMU on this terminal, no report."""
    qmp_sock = os.path.join(run_dir, 'qmp.sock')
    sock_dir = None
    if len(qmp_sock) > 100:
        # A unix socket path is limited to 107 bytes.
        sock_dir = os.path.join('/tmp', 'dt-vm.%d' % os.getpid())
        os.makedirs(sock_dir, exist_ok=True)
        qmp_sock = os.path.join(sock_dir, 'qmp.sock')
    log('shell on the serial console: \'poweroff -f\' or Ctrl-A x ends it; '
        'QMP: %s' % qmp_sock)
    if args.ssh_port:
        log('ssh: 127.0.0.1:%d -> guest port 22' % args.ssh_port)
    cmd = [args.qemu, '-display', 'none'] + qemu_args(args) + [
        '-qmp', 'unix:%s,server=on,wait=off' % qmp_sock,
        # mux: the console and the QEMU monitor share stdio (Ctrl-A c);
        # logfile keeps the session like the non-interactive console log.
        '-chardev', 'stdio,id=con0,mux=on,signal=off,logfile=' + console,
        '-serial', 'chardev:con0', '-mon', 'chardev=con0,mode=readline']
    qemu_log = os.path.join(run_dir, 'qemu.log')
    with open(qemu_log, 'w', encoding='utf-8') as err:
        rc = subprocess.run(cmd, stderr=err, check=False).returncode
    with open(qemu_log, encoding='utf-8', errors='replace') as f:
        sys.stderr.write(f.read())
    for path in (qmp_sock, sock_dir):
        try:
            if path == sock_dir and path:
                os.rmdir(path)
            elif path:
                os.remove(path)
        except OSError:
            pass
    log('QEMU exited with status %d; console log: %s' % (rc, console))
    return rc
