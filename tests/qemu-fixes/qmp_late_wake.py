# SPDX-License-Identifier: GPL-2.0-or-later
"""QEMU's QMP dispatcher, woken after it ended, must not crash QEMU.

The regression test of patches/qemu/0004 (monitor/qmp: keep the
dispatcher busy when it ends on shutdown).  A QMP monitor on a socket
reads requests in its I/O thread, which queues each one and then wakes
the dispatcher coroutine in the main thread.  The dispatcher may answer
the request before that wake, and QEMU may be told to terminate and end
the dispatcher before it too; without the fix, the late wake is
aio_co_wake(NULL) and QEMU dies of SIGSEGV.  Found as a one-off crash
of the migration-corrupt shards (a QEMU terminated right after a QMP
answer, hundreds of times a run, on a loaded host).

Timing is not left to chance: QEMU runs under gdb in non-stop mode,
which stops one thread at a time.

 1. The main thread stops after answering a request (qmp_request_free).
 2. A second request comes; the I/O thread queues it and stops at
    qmp_dispatcher_co_wake(), before it wakes anybody.
 3. The main thread goes on, takes the request from the queue and
    answers it: the client has its answer, the wake is still to come.
 4. SIGTERM.  The main thread ends the dispatcher and stops at
    iothread_stop(): qmp_dispatcher_co is NULL by then.
 5. Both threads go on.  QEMU must exit normally.

Each step checks that it happened, so the test cannot pass without
setting the race up.  The negative control is QEMU without the patch:
step 5 ends in SIGSEGV at aio_co_wake().

Usage: qmp_late_wake.py [QEMU_BINARY]   (default: $QTEST_QEMU_BINARY)
Needs gdb and a QEMU built with debug information.  Exit 0 on success.
"""

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

TIMEOUT = 60.0


class TestFailure(Exception):
    """A step did not happen as it must."""


class Gdb:
    """gdb's machine interface, with its output read by a thread."""

    def __init__(self):
        try:
            self.proc = subprocess.Popen(
                ['gdb', '--interpreter=mi3', '-nx', '-q'],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, bufsize=1)
        except FileNotFoundError as e:
            raise TestFailure('gdb is not installed: run '
                              'scripts/install-deps.sh qemu') from e
        self.lines = queue.Queue()
        self.log = []
        self.token = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip('\n'))
        self.lines.put(None)

    def wait(self, pattern, what):
        """The next output line matching @pattern (a regex)."""
        end = time.monotonic() + TIMEOUT
        while True:
            try:
                line = self.lines.get(timeout=max(0, end - time.monotonic()))
            except queue.Empty as e:
                raise TestFailure('timed out waiting for ' + what) from e
            if line is None:
                raise TestFailure('gdb ended waiting for ' + what)
            self.log.append(line)
            if re.match(r'\d*\^error', line):
                raise TestFailure('gdb: %s (waiting for %s)' % (line, what))
            if re.search(pattern, line):
                return line

    def cmd(self, command, what=None):
        """Run an MI command; its result line (^done or ^running).

        Numbered, so that a result still unread from an earlier command
        (-exec-run's ^running comes after the line with the pid) is never
        taken for this one's.
        """
        self.token += 1
        self.proc.stdin.write('%d%s\n' % (self.token, command))
        self.proc.stdin.flush()
        return self.wait(r'^%d\^(done|running)' % self.token,
                         what or command)

    def stopped(self, reason, what):
        """Wait for a thread to stop for @reason; (thread id, function)."""
        line = self.wait(r'^\*stopped,reason="%s"' % reason, what)
        tid = re.search(r'thread-id="(\d+)"', line)
        func = re.search(r'func="([^"]*)"', line)
        return (tid.group(1) if tid else None,
                func.group(1) if func else None)

    def start(self, program, arguments):
        """Run @program in non-stop mode: a stop stops one thread only.

        Signals go to the program unseen.  Returns its pid.
        """
        self.cmd('-gdb-set non-stop on')
        self.cmd('-gdb-set mi-async on')
        for sig in ('SIGTERM', 'SIGPIPE', 'SIGUSR1'):
            self.cmd('-interpreter-exec console "handle %s nostop noprint '
                     'pass"' % sig)
        self.cmd('-file-exec-and-symbols ' + program)
        self.cmd('-exec-arguments ' + arguments)
        self.cmd('-exec-run', 'QEMU to start')
        return int(re.search(r'pid="(\d+)"', next(
            line for line in self.log
            if line.startswith('=thread-group-started'))).group(1))

    def value(self, expression):
        """An expression's value, as gdb prints it."""
        line = self.cmd('-data-evaluate-expression "%s"' % expression)
        return re.search(r'value="([^"]*)"', line).group(1)

    def describe_signal(self, line):
        """The signal of a *stopped @line, its thread and innermost frames."""
        tid = re.search(r'thread-id="(\d+)"', line).group(1)
        frames = self.cmd('-stack-list-frames --thread %s 0 5' % tid)
        where = ['%s (%s:%s)' % m for m in re.findall(
            r'func="([^"]*)",.*?file="([^"]*)",.*?line="(\d+)"',
            frames.replace('frame=', '\n'))]
        return '%s in thread %s: %s' % (
            re.search(r'signal-name="(\w+)"', line).group(1), tid,
            ' <- '.join(where))

    def program_output(self):
        """What QEMU printed (it shares gdb's output)."""
        return [line for line in self.log
                if line and line[0] not in '~&=*^(' and not
                line[0].isdigit()]

    def close(self):
        """Kill the debuggee, if any, and gdb."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Qmp:
    """A bare QMP client: one request at a time, events skipped."""

    def __init__(self, path):
        end = time.monotonic() + TIMEOUT
        self.sock = socket.socket(socket.AF_UNIX)
        while True:
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError) as e:
                if time.monotonic() > end:
                    raise TestFailure('QEMU never listened on ' +
                                      path) from e
                time.sleep(0.01)
        self.sock.settimeout(TIMEOUT)
        self.file = self.sock.makefile('rwb', buffering=0)
        self.answer('the QMP greeting')

    def send(self, command):
        """Send @command without waiting."""
        self.file.write(json.dumps({'execute': command}).encode() + b'\n')

    def answer(self, what):
        """The next message that is not an event."""
        while True:
            try:
                line = self.file.readline()
            except socket.timeout as e:
                raise TestFailure('no answer to ' + what) from e
            if not line:
                raise TestFailure('QMP closed before ' + what)
            msg = json.loads(line)
            if 'event' not in msg:
                return msg


def step(text):
    """Say what the test has seen, for the log."""
    print('ok:', text, flush=True)


def run(qemu, tmp):
    """The race, step by step (see the module's description)."""
    sock = os.path.join(tmp, 'qmp.sock')
    # A QEMU built with ASan (scripts/test-sanitizers.sh): LeakSanitizer's
    # exit check attaches to every thread, which a traced process refuses,
    # and it would fail QEMU's exit.  The other tests check for leaks.
    os.environ['ASAN_OPTIONS'] = ':'.join(
        filter(None, [os.environ.get('ASAN_OPTIONS'), 'detect_leaks=0']))
    gdb = Gdb()
    try:
        pid = gdb.start(qemu, '-machine none -nodefaults -display none '
                        '-qmp unix:%s,server=on,wait=off' % sock)
        qmp = Qmp(sock)
        qmp.send('qmp_capabilities')
        qmp.answer('qmp_capabilities')

        gdb.cmd('-break-insert qmp_request_free')
        qmp.send('query-status')
        main_tid, func = gdb.stopped('breakpoint-hit', 'the first answer')
        qmp.answer('the first query-status')
        step('1. the main thread (%s) stopped in %s after answering'
             % (main_tid, func))

        gdb.cmd('-break-insert qmp_dispatcher_co_wake')
        qmp.send('query-status')
        io_thread, func = gdb.stopped('breakpoint-hit',
                                      'the monitor thread')
        if io_thread == main_tid:
            raise TestFailure('the main thread woke the dispatcher: is '
                              'the monitor not in an I/O thread?')
        step('2. the monitor thread (%s) queued a request and stopped in '
             '%s' % (io_thread, func))

        gdb.cmd('-break-delete')
        gdb.cmd('-exec-continue --thread ' + main_tid)
        qmp.answer('the second query-status')
        step('3. the dispatcher answered it before being woken')

        gdb.cmd('-break-insert iothread_stop')
        os.kill(pid, signal.SIGTERM)
        tid, func = gdb.stopped('breakpoint-hit', 'QEMU to shut down')
        dispatcher = gdb.value('(void *)qmp_dispatcher_co')
        if tid != main_tid or gdb.value('qmp_dispatcher_co == 0') != '1':
            raise TestFailure('thread %s stopped in %s with qmp_dispatcher_co '
                              '= %s: the dispatcher did not end at shutdown'
                              % (tid, func, dispatcher))
        # A static bool of monitor/qmp.c: gdb wants its type spelt out.
        busy = gdb.value('(int)*(char *)&qmp_dispatcher_co_busy')
        step('4. terminated: the dispatcher has ended (qmp_dispatcher_co '
             '= %s, qmp_dispatcher_co_busy = %s), the wake is still to come'
             % (dispatcher, busy))

        gdb.cmd('-break-delete')
        gdb.cmd('-exec-continue --all')
        line = gdb.wait(r'^\*stopped,reason="(exited|signal-received)',
                        'QEMU to end')
        if 'reason="exited-normally"' not in line:
            if 'signal-received' in line:
                raise TestFailure('QEMU died: ' + gdb.describe_signal(line))
            raise TestFailure('QEMU failed: ' + line)
        step('5. QEMU exited with status 0 after the late wake')
    except TestFailure:
        for line in gdb.program_output():
            print('QEMU:', line)
        raise
    finally:
        gdb.close()


def main():
    """The program; returns the exit status."""
    qemu = sys.argv[1] if len(sys.argv) > 1 else \
        os.environ.get('QTEST_QEMU_BINARY', '')
    if not qemu:
        sys.stderr.write('usage: %s QEMU_BINARY (or set QTEST_QEMU_BINARY)\n'
                         % sys.argv[0])
        return 2
    with tempfile.TemporaryDirectory(prefix='dt-qmp-') as tmp:
        try:
            run(qemu, tmp)
        except TestFailure as e:
            print('FAIL:', e, flush=True)
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
