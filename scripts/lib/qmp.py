#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A small QMP client for the dma-testdev scripts (stdlib only).

Usage:
  qmp.py exec SOCKET COMMAND [JSON-ARGUMENTS]
      Run one QMP command and print its "return" as JSON.  Exit 1 on a
      QMP error or when QEMU cannot be reached.
  qmp.py watch SOCKET --pid PID --console FILE --out DIR [options]
      Follow a non-interactive guest run of QEMU started with
      `-no-shutdown -serial file:FILE -qmp unix:SOCKET,server=on,wait=off`
      until the guest powers off, QEMU stops on an error, QEMU exits or a
      time limit passes.  Then (if QEMU still answers) save the DMA log of
      --dt-id as DIR/dma-log.json, quit QEMU, and write key=value lines to
      DIR/watch.env (and stdout): outcome, reason, accel_kvm,
      result_s (start to the "@dt exit" line), end_s, status.
      Options: --start EPOCH (QEMU start time, default now),
      --timeout S (whole run, default 300), --silence S (fail when the
      guest printed nothing at all after S seconds, default 30),
      --dt-id ID (default dt0), --echo (copy the console to stderr).

Why QMP rather than parsing QEMU's stderr: the run state (shutdown,
internal-error, running) and the DMA log are only available there, and
with -no-shutdown QEMU keeps the device alive after the guest's power-off
so the log can still be read.
"""

import argparse
import json
import os
import socket
import sys
import time


class QMPError(Exception):
    pass


class QMP:
    """One QMP connection; events are queued while waiting for replies."""

    def __init__(self, path, connect_timeout=10.0, pid=None):
        deadline = time.monotonic() + connect_timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                self.sock.close()
                # QEMU creates the socket a moment after it starts; it may
                # also have died on a command-line or accelerator error.
                if pid and not pid_alive(pid):
                    raise QMPError('QEMU exited before its QMP socket opened')
                if time.monotonic() > deadline:
                    raise QMPError('cannot connect to QMP socket %s' % path)
                time.sleep(0.05)
        self.buf = b''
        self.events = []
        self._read_msg(timeout=connect_timeout)  # the greeting
        self.cmd('qmp_capabilities')

    def _read_msg(self, timeout):
        self.sock.settimeout(timeout)
        while b'\n' not in self.buf:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not data:
                raise QMPError('QMP connection closed')
            self.buf += data
        line, self.buf = self.buf.split(b'\n', 1)
        return json.loads(line)

    def cmd(self, name, args=None, timeout=30.0):
        msg = {'execute': name}
        if args:
            msg['arguments'] = args
        self.sock.sendall(json.dumps(msg).encode() + b'\n')
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise QMPError('no answer to %s' % name)
            reply = self._read_msg(left)
            if reply is None:
                continue
            if 'event' in reply:
                self.events.append(reply)
            elif 'error' in reply:
                raise QMPError('%s: %s' % (name, reply['error'].get('desc')))
            elif 'return' in reply:
                return reply['return']

    def next_event(self, timeout):
        if self.events:
            return self.events.pop(0)
        reply = self._read_msg(timeout)
        if reply is not None and 'event' in reply:
            return reply
        return None

    def close(self):
        self.sock.close()


def read_dma_log(q, path, first=0):
    """The device's DMA log from sequence number FIRST on, oldest first.

    QOM "dma-log" returns one bounded page from "dma-log-from" on, so
    that no read holds QEMU's lock for long; pages follow each other
    until one comes back empty.
    """
    log = []
    while True:
        q.cmd('qom-set', {'path': path, 'property': 'dma-log-from',
                          'value': first})
        page = q.cmd('qom-get', {'path': path, 'property': 'dma-log'},
                     timeout=60)
        if not page:
            return log
        if page[0]['seq'] < first:
            raise QMPError('DMA log page starts at seq %d, before %d'
                           % (page[0]['seq'], first))
        log.extend(page)
        first = page[-1]['seq'] + 1


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by the shell) counts as gone.
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def do_exec(args):
    try:
        q = QMP(args.socket, connect_timeout=args.connect_timeout)
        ret = q.cmd(args.command, json.loads(args.arguments)
                    if args.arguments else None)
        q.close()
    except (QMPError, OSError, ValueError) as e:
        print('qmp.py: %s' % e, file=sys.stderr)
        return 1
    print(json.dumps(ret))
    return 0


def do_watch(args):
    start = args.start if args.start else time.time()
    out = {'outcome': 'unknown', 'reason': '', 'accel_kvm': 'unknown',
           'result_s': '', 'end_s': '', 'status': ''}
    console_pos = 0
    console_bytes = 0
    pending = b''

    def elapsed():
        return time.time() - start

    def scan_console():
        """Read new console output; note when the result line appears."""
        nonlocal console_pos, console_bytes, pending
        try:
            with open(args.console, 'rb') as f:
                f.seek(console_pos)
                data = f.read()
        except FileNotFoundError:
            return
        console_pos += len(data)
        console_bytes += len(data)
        if args.echo and data:
            sys.stderr.write(data.decode('utf-8', 'replace'))
            sys.stderr.flush()
        pending += data
        *lines, pending = pending.split(b'\n')
        for line in lines:
            if b'@dt exit' in line and not out['result_s']:
                # Seen only after the power-off event: the line was
                # printed before it, so the power-off time bounds it.
                out['result_s'] = out['end_s'] or '%.1f' % elapsed()

    q = None
    try:
        q = QMP(args.socket, connect_timeout=10, pid=args.pid)
        try:
            out['accel_kvm'] = str(q.cmd('query-kvm')['enabled']).lower()
        except QMPError:
            pass
        while True:
            scan_console()
            if elapsed() > args.timeout:
                out['outcome'] = 'timeout'
                out['reason'] = 'no power-off within %d s' % args.timeout
                break
            if console_bytes == 0 and elapsed() > args.silence:
                out['outcome'] = 'silent'
                out['reason'] = ('the guest printed nothing in %d s (the '
                                 'accelerator cannot run it?)' % args.silence)
                break
            ev = q.next_event(timeout=0.2)
            if ev is None:
                continue
            out['end_s'] = '%.1f' % elapsed()
            name = ev['event']
            data = ev.get('data', {})
            if name == 'SHUTDOWN':
                out['outcome'] = 'shutdown'
                out['reason'] = data.get('reason', '')
                break
            if name == 'GUEST_PANICKED':
                out['outcome'] = 'panic'
                out['reason'] = 'guest panicked'
                break
            if name == 'STOP':
                status = q.cmd('query-status')['status']
                if status in ('internal-error', 'guest-panicked',
                              'io-error'):
                    out['outcome'] = 'stopped'
                    out['reason'] = 'QEMU stopped the guest: ' + status
                    break
            out['end_s'] = ''
        if not out['end_s']:
            out['end_s'] = '%.1f' % elapsed()
        # Let the last console lines (written before the power-off) land.
        time.sleep(0.1)
        scan_console()
        try:
            out['status'] = q.cmd('query-status')['status']
        except QMPError:
            pass
        try:
            log = read_dma_log(q, '/machine/peripheral/' + args.dt_id)
            with open(os.path.join(args.out, 'dma-log.json'), 'w') as f:
                json.dump(log, f)
        except QMPError as e:
            out['dma_log_error'] = str(e)
        try:
            q.cmd('quit', timeout=5)
        except (QMPError, OSError):
            pass  # QEMU closes the connection while quitting
    except (QMPError, OSError) as e:
        scan_console()
        out['outcome'] = 'qemu-exit'
        # A dead QEMU shows up as a reset or closed socket: say what it is.
        time.sleep(0.2)
        out['reason'] = ('QEMU exited during the run'
                         if not pid_alive(args.pid) else str(e))
        out['end_s'] = '%.1f' % elapsed()
    finally:
        if q:
            q.close()

    lines = ''.join('%s=%s\n' % (k, str(v).replace('\n', ' '))
                    for k, v in out.items())
    with open(os.path.join(args.out, 'watch.env'), 'w') as f:
        f.write(lines)
    sys.stdout.write(lines)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = p.add_subparsers(dest='mode', required=True)
    e = sub.add_parser('exec')
    e.add_argument('socket')
    e.add_argument('command')
    e.add_argument('arguments', nargs='?')
    e.add_argument('--connect-timeout', type=float, default=5.0)
    w = sub.add_parser('watch')
    w.add_argument('socket')
    w.add_argument('--pid', type=int, required=True)
    w.add_argument('--console', required=True)
    w.add_argument('--out', required=True)
    w.add_argument('--start', type=float)
    w.add_argument('--timeout', type=float, default=300)
    w.add_argument('--silence', type=float, default=30)
    w.add_argument('--dt-id', default='dt0')
    w.add_argument('--echo', action='store_true')
    args = p.parse_args()
    return do_exec(args) if args.mode == 'exec' else do_watch(args)


if __name__ == '__main__':
    sys.exit(main())
