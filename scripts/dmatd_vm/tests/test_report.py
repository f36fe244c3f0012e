# SPDX-License-Identifier: GPL-2.0-or-later
"""Tests of dmatd_vm.report: one oracle, the guest tool's."""

import json
from typing import Any, Dict, List
import unittest

from dmatd_vm import report


GOOD = """\
@dt begin case=pin mode=cdev backing=4k len=0x2000 offset=0x0 nonce=0x1
@dt run index=0 iova=0x1000 pa=0x10000 len=0x2000
@dt dma op=write-pattern seed=0x5 segs=1 status=0x2 error=0 bytes=0x2000 \
seq=0x1 list=0x9000
@dt check name=dma-verify-match result=ok mismatches=0
ok 1 pin/dma-verify-match
@dt end case=pin result=pass
1..1
@dt exit status=0
"""

# x-misdirect-offset: the guest's own verify sees the word missing.
MISDIRECTED = GOOD.replace(
    'dma-verify-match result=ok mismatches=0',
    'dma-verify-match result=fail mismatches=1 offset=0x1008').replace(
    'ok 1 pin', 'not ok 1 pin').replace(
    'result=pass', 'result=fail').replace('status=0\n', 'status=1\n')


def entry(seq: int, lst: str, index: int, addr: int, n: int,
          direction: str = 'write') -> Dict[str, Any]:
    """One DMA log entry as the device's QOM property gives it."""
    return {'seq': seq, 'cmd': 1, 'op': 'write-pattern', 'list': lst,
            'index': index, 'dir': direction, 'addr': addr, 'len': n,
            'done': n, 'result': 'ok'}


LOG = [entry(1, 'dst-list', 0, 0x9000, 16, 'read'),
       entry(2, 'dst', 0, 0x10000, 0x2000)]


def facts() -> Dict[str, Any]:
    """What main.py knows before the run."""
    return {'kernel': '/k/bzImage', 'kernel_version': '7.3.0',
            'qemu': '/q/qemu-system-x86_64', 'qemu_version': '10.0.13',
            'qemu_python': '/q/python', 'accel': 'tcg', 'cpu': 'max',
            'accel_why': 'asked for', 'mem': 1024, 'hugepages': 32,
            'command': 'dt-pin --len 8K', 'default_command': 'dt-pin',
            'dt_props': [], 'devices': [], 'prereq_s': 1.0,
            'console': '/r/console.log', 'run_dir': '/r'}


def run(log: Any = None, **kw: Any) -> Dict[str, Any]:
    """What machine.run() returns for a clean power-off."""
    out = {'outcome': 'shutdown', 'reason': 'guest-shutdown',
           'accel_kvm': False, 'result_s': 4.2, 'end_s': 4.3,
           'status': 'shutdown', 'dma_log': LOG if log is None else log,
           'dma_log_error': None, 'qemu_rc': 0, 'qemu_log': ''}
    out.update(kw)
    return out


class VerdictTest(unittest.TestCase):
    """Who decides, and on what."""

    def test_pass(self) -> None:
        """The guest passed, the run was clean: PASS."""
        rep = report.build(facts(), GOOD, run())
        self.assertEqual(rep['verdict'], 'pass')
        self.assertEqual(rep['findings'], {'guest': [], 'run': []})
        self.assertIn('the guest tool (dt-pin): 1 checks ok, 0 failed',
                      rep['decided_by'])
        txt = report.text(rep)
        self.assertIn('RESULT: PASS', txt)
        self.assertIn('write dst[0] 0x10000+0x2000', txt)
        json.dumps(rep)   # what --json writes must serialise

    def test_negative_control(self) -> None:
        """The misdirect control fails through the guest's own checks."""
        rep = report.build(facts(), MISDIRECTED, run())
        self.assertEqual(rep['verdict'], 'fail')
        self.assertIn('guest checks failed: dma-verify-match',
                      rep['findings']['guest'])
        self.assertIn('guest command exit status 1',
                      rep['findings']['guest'])
        self.assertIn('RESULT: FAIL', report.text(rep))

    def test_no_second_oracle(self) -> None:
        """A log entry outside every run is shown, not judged: placement
        is the guest qtest's oracle, and the guest tool's here."""
        stray = LOG + [entry(3, 'dst', 0, 0x7777000, 8)]
        rep = report.build(facts(), GOOD, run(stray))
        self.assertEqual(rep['verdict'], 'pass')
        self.assertIn('write dst[0] 0x7777000+0x8', report.text(rep))
        self.assertEqual(rep['dma_log']['entries'], 3)

    def test_run_findings(self) -> None:
        """A run that cannot be trusted fails whatever the guest said."""
        cases: List[Dict[str, Any]] = [
            {'outcome': 'timeout', 'reason': 'no power-off within 5 s'},
            {'reason': 'host-qmp-quit'},
            {'accel_kvm': True},
            {'dma_log': None, 'dma_log_error': 'QMP gone'},
        ]
        for kw in cases:
            rep = report.build(facts(), GOOD, run(**kw))
            self.assertEqual(rep['verdict'], 'fail', kw)
            self.assertEqual(len(rep['findings']['run']), 1, rep)
        for text in (GOOD.replace('@dt exit status=0\n', ''),
                     GOOD + '[ 9.0] Oops: 0000 [#1]\n',
                     GOOD.replace('@dt end case=pin result=pass\n', '')):
            rep = report.build(facts(), text, run())
            self.assertEqual(rep['verdict'], 'fail', text)

    def test_no_guest_result(self) -> None:
        """When the guest said nothing, the run's findings decided."""
        rep = report.build(facts(), '', run(
            outcome='qemu-exit', reason='QEMU did not start', log=[]))
        self.assertEqual(rep['verdict'], 'fail')
        self.assertTrue(rep['decided_by'].startswith("the run's findings"))
        self.assertIn('RESULT: FAIL', report.text(rep))

    def test_tap_plan(self) -> None:
        """Fewer TAP results than planned is a failure of the guest's."""
        rep = report.build(facts(), GOOD.replace('1..1', '1..2'), run())
        self.assertEqual(rep['findings']['guest'],
                         ['TAP plan 1..2 but 1 results'])

    def test_facts(self) -> None:
        """The DMA log per command: bytes, segments, results."""
        rep = report.build(facts(), GOOD, run())
        cmd = rep['cases'][0]['device_commands'][0]
        self.assertEqual((cmd['cmd'], cmd['data_segments'],
                          cmd['bytes_written'], cmd['other_entries']),
                         (1, 1, 0x2000, 1))
        self.assertEqual(rep['cases'][0]['runs'][0]['pa'], 0x10000)
        self.assertEqual(report.size(0x100000), '1 MiB')
        self.assertEqual(report.size(1048584), '1048584 B')
        self.assertEqual(report.size(None), '?')


if __name__ == '__main__':
    unittest.main()
