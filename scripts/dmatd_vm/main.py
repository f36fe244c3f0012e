# SPDX-License-Identifier: GPL-2.0-or-later
"""The developer VM program: options, run directory, run, report."""

import argparse
import json
import os
import shlex
import shutil
import sys
import time
from typing import Any, Dict, List, Optional

from . import cli, machine, report


KEEP_RUNS = 20


def _run_dir() -> str:
    cache = os.environ.get('DT_CACHE') or os.environ.get(
        'DMA_TESTDEV_CACHE') or os.path.join(
            os.environ.get('XDG_CACHE_HOME') or
            os.path.expanduser('~/.cache'), 'dma-testdev')
    runs = os.path.join(cache, 'vm', 'runs')
    os.makedirs(runs, exist_ok=True)
    name = '%s-%d' % (time.strftime('%Y%m%d-%H%M%S'), os.getpid())
    path = os.path.join(runs, name)
    os.mkdir(path)
    # Keep the last runs: console logs are small and useful for comparing.
    old = sorted(d for d in os.listdir(runs)
                 if os.path.isdir(os.path.join(runs, d)))
    for d in old[:-KEEP_RUNS]:
        shutil.rmtree(os.path.join(runs, d), ignore_errors=True)
    return path


def _facts(args: argparse.Namespace, qemu_version: str, run_dir: str,
           console: str) -> Dict[str, Any]:
    return {
        'kernel': args.kernel, 'kernel_version': args.kernel_version,
        'qemu': args.qemu, 'qemu_version': qemu_version,
        'qemu_python': os.path.abspath(args.qemu_python or ''),
        'accel': args.accel, 'cpu': args.cpu,
        'accel_why': args.accel_why or 'asked for with --accel %s'
        % args.accel,
        'mem': args.mem, 'hugepages': args.hugepages,
        'command': args.run or cli.DEFAULT_RUN,
        'default_command': cli.DEFAULT_RUN,
        'dt_props': args.dt_prop, 'devices': args.device,
        'prereq_s': args.prereq_seconds, 'console': console,
        'run_dir': run_dir}


def _write(path: str, data: str) -> None:
    with open(path, 'w', encoding='utf-8') as f:
        f.write(data)


def _finish(args: argparse.Namespace, facts: Dict[str, Any],
            run: Dict[str, Any], started: float) -> int:
    run_dir = facts['run_dir']
    try:
        with open(facts['console'], encoding='utf-8',
                  errors='replace') as f:
            console_text = f.read()
    except FileNotFoundError:
        console_text = ''
    facts['total_s'] = round(time.monotonic() - started +
                             facts['prereq_s'], 1)
    rep = report.build(facts, console_text, run)
    txt = report.text(rep)
    doc = json.dumps(rep, indent=1) + '\n'
    _write(os.path.join(run_dir, 'report.txt'), txt)
    _write(os.path.join(run_dir, 'report.json'), doc)
    qemu_log = run.get('qemu_log') or ''
    if qemu_log.strip():
        _write(os.path.join(run_dir, 'qemu.log'), qemu_log)
    else:
        _remove(os.path.join(run_dir, 'qemu.log'))
    if args.keep and run.get('dma_log') is not None:
        _write(os.path.join(run_dir, 'dma-log.json'),
               json.dumps(run['dma_log']))
    if args.json == '-':
        sys.stderr.write(txt)
        sys.stdout.write(doc)
    else:
        sys.stdout.write(txt)
        if args.json:
            _write(args.json, doc)
    sys.stdout.flush()
    if rep['verdict'] != 'pass' and qemu_log.strip():
        machine.log("QEMU's stderr (%s/qemu.log):" % run_dir)
        sys.stderr.write('\n'.join(qemu_log.splitlines()[-20:]) + '\n')
    return 0 if rep['verdict'] == 'pass' else 1


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def main(argv: Optional[List[str]] = None) -> int:
    """The program; returns the exit status (0 only on pass)."""
    argv = sys.argv[1:] if argv is None else argv
    if '--x-build-vars' in argv and ('-h' in argv or '--help' in argv):
        print('help=1')
        return 0
    args = cli.parse_args(argv)
    if args.x_build_vars:
        sys.stdout.write(cli.build_vars(args))
        return 0
    started = time.monotonic()
    args.qemu_python = args.qemu_python or machine.python_dir_of(args.qemu)
    try:
        qemu_version = machine.check_qemu(args)
        if args.dry_run:
            print(shlex.join(machine.show_command(args, 'console.log')))
            machine.log('dry run: QEMU not started (QEMUMachine adds the '
                        'QMP monitor on a socket pair; the console log '
                        'goes to a new run directory)')
            return 0
        machine.import_qemu(args.qemu_python)
    except machine.VmError as e:
        sys.stderr.write('[dma-testdev] error: %s\n' % e)
        return 1
    run_dir = _run_dir()
    console = os.path.join(run_dir, 'console.log')
    if args.shell:
        machine.log('kernel %s, QEMU %s, accel %s' % (
            args.kernel_version, qemu_version, args.accel))
        return machine.run_shell(args, run_dir, console)
    machine.log('booting: kernel %s, accel %s (-cpu %s), %d MiB on 2 NUMA '
                'nodes; console: %s' % (args.kernel_version, args.accel,
                                        args.cpu, args.mem, console))
    facts = _facts(args, qemu_version, run_dir, console)
    run = machine.run(args, run_dir, console)
    return _finish(args, facts, run, started)
