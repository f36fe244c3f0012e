# SPDX-License-Identifier: GPL-2.0-or-later
"""Tests of dmatd_vm.protocol: the guest console's "@dt" lines and TAP."""

import unittest

from dmatd_vm import protocol


CONSOLE = """\
[    1.000000] Linux version 7.3.0-rc7
dt-init: running: dt-pin --mode cdev --backing 4k --len 1M
TAP version 13
@dt begin case=pin mode=cdev backing=4k len=0x100000 offset=0x0 nonce=0x1
@dt run index=0 iova=0x1000 pa=0x3f233000 len=0x1000
@dt run index=1 iova=0x2000 pa=[    2.500000] random: crng init done
0x5000 len=0xff000
@dt check name=runs-cover result=ok runs=2 bytes=0x100000
ok 1 pin/runs-cover
@dt dma op=write-pattern seed=0xf2 segs=2 status=0x2 error=0 bytes=0x100000 \
seq=0x1 list=0x22400000
@dt check name=dma-verify-match result=fail mismatches=2 seg=1 want=0x1 got=0x2
not ok 2 pin/dma-verify-match
# dma-verify-match: mismatches=2
@dt end case=pin result=fail
@dt check name=unmap-releases result=ok GET_PA after UNMAP: No such file
ok 3 setup/unmap-releases
ok 4 setup/skipped # SKIP no hugepages
1..4
@dt exit status=1
[    3.000000] reboot: Power down
"""


class LineTest(unittest.TestCase):
    """One protocol line."""

    def test_text_before(self) -> None:
        """Text before "@dt " on the same line is skipped."""
        pl = protocol.protocol_line('x: @dt run index=1 pa=0x5000')
        assert pl is not None
        self.assertEqual(pl.keyword, 'run')
        self.assertEqual(pl.num('pa'), 0x5000)

    def test_not_a_line(self) -> None:
        """A keyword must end in a space or the line; unknown ones and
        lines without "@dt " are no protocol lines."""
        for text in ("  --handshake   stop at each '@dt wait' until 'go'",
                     '@dt waiting what=x', '@dt bogus a=1', 'dt begin x=1',
                     '@dtbegin case=x'):
            self.assertIsNone(protocol.protocol_line(text), text)
        pl = protocol.protocol_line('@dt exit')
        assert pl is not None
        self.assertEqual(pl.keyword, 'exit')
        self.assertIsNone(pl.num('status'))

    def test_fields(self) -> None:
        """Fields as the guest qtest reads them: " KEY=", first one wins,
        up to the next blank; numbers hex or decimal."""
        pl = protocol.protocol_line(
            '@dt check name=dma-verify result=fail status=0xa seg=3 '
            'free text seg=9 xname=bad')
        assert pl is not None
        self.assertEqual(pl.get('name'), 'dma-verify')
        self.assertEqual(pl.get('seg'), '3')
        self.assertEqual(pl.num('status'), 10)
        self.assertIsNone(pl.get('missing'))
        self.assertIsNone(pl.num('name'))
        self.assertEqual(pl.fields()['seg'], '3')
        self.assertEqual(pl.detail(),
                         'status=0xa seg=3 free text seg=9 xname=bad')

    def test_fatal_msg(self) -> None:
        """A fatal line's msg is the rest of the line, blanks and all."""
        pl = protocol.protocol_line('@dt fatal msg=open /dev/vfio: No such '
                                    'file (errno 2)')
        assert pl is not None
        self.assertEqual(pl.get('msg'),
                         'open /dev/vfio: No such file (errno 2)')

    def test_to_int(self) -> None:
        """Numbers: 0x.. or decimal; anything else is None."""
        self.assertEqual(protocol.to_int('0x10'), 16)
        self.assertEqual(protocol.to_int('10'), 10)
        self.assertIsNone(protocol.to_int('ten'))
        self.assertIsNone(protocol.to_int(None))


class ParseTest(unittest.TestCase):
    """A whole console."""

    def test_console(self) -> None:
        """Cases, runs, DMA, checks in and outside cases, TAP, exit."""
        con = protocol.parse(CONSOLE)
        self.assertEqual(con.problems, [])
        self.assertEqual(len(con.cases), 1)
        case = con.cases[0]
        self.assertEqual(case.name, 'pin')
        self.assertEqual(case.result, 'fail')
        self.assertEqual([r.num('pa') for r in case.runs],
                         [0x3f233000, 0x5000])
        self.assertEqual(case.dmas[0].num('seq'), 1)
        self.assertEqual([c.get('name') for c in case.failed_checks()],
                         ['dma-verify-match'])
        self.assertEqual([c.get('name') for c in con.checks],
                         ['unmap-releases'])
        self.assertEqual(len(con.all_checks()), 3)
        self.assertEqual(con.tap_plan, 4)
        self.assertEqual(len(con.tap), 4)
        self.assertEqual(con.tap_failed(), ['not ok 2 pin/dma-verify-match'])
        self.assertEqual(con.exit_status, 1)
        self.assertEqual(con.kernel_bad, [])
        # The command's own output: no protocol and no kernel lines.
        self.assertIn('# dma-verify-match: mismatches=2', con.output)
        self.assertNotIn('[    3.000000] reboot: Power down', con.output)
        self.assertFalse(any('@dt' in line for line in con.output))

    def test_help_text_is_no_case(self) -> None:
        """dt-pin --help mentions '@dt wait': no case, no problem (the
        old report made a case of it and failed)."""
        con = protocol.parse("dt-init: running: dt-pin --help\n"
                             "  --handshake  stop at each '@dt wait' "
                             "until 'go'\n@dt exit status=0\n")
        self.assertEqual(con.cases, [])
        self.assertEqual(con.problems, [])
        self.assertEqual(con.exit_status, 0)
        self.assertEqual(len(con.output), 1)

    def test_malformed(self) -> None:
        """Protocol errors are reported, not guessed around."""
        con = protocol.parse('@dt run index=0 pa=0x1 len=0x1000\n'
                             '@dt begin case=a len=0x1\n'
                             '@dt begin case=b len=0x1\n')
        self.assertEqual(len(con.problems), 3, con.problems)
        self.assertIn('outside a case', con.problems[0])
        self.assertIn('begins before case a ended', con.problems[1])
        self.assertIn('case b has no end line', con.problems[2])
        self.assertIsNone(con.exit_status)

    def test_kernel_trouble(self) -> None:
        """Kernel BUG/WARNING/Oops/panic lines are collected."""
        con = protocol.parse('[    1.000000] WARNING: CPU: 0 PID: 1 at x\n'
                             '[    1.100000] BUG: kernel NULL pointer\n'
                             '[    1.200000] nothing wrong\n'
                             'Bail out! no device\n')
        self.assertEqual(len(con.kernel_bad), 2)
        self.assertEqual(con.bail_out, ['Bail out! no device'])

    def test_interleaved(self) -> None:
        """Kernel records that broke into the tool's lines (as on a real
        console, CR LF and all): each user line reads whole, each record
        reaches the kernel check, and neither is lost."""
        text = ('dt-init: running: dt-vfio-selftest\r\n'
                'ok 1 a.b # SKIP needs an IOMMU[   21.025068] vfio-pci '
                '0000:01:00.0: resetting\r\n\r\n'
                '@dt dma-range pa=0x1000 len[   21.100000] WARNING: x.c:1 '
                'at f, CPU#0: sh/1\r\n'
                '[   21.100001] second record, same gap\r\n=0x2000\r\n'
                'ok 2 a.c\r[   21.200000] reset done\r\n\n'
                '1..2\r\n@dt exit status=0\r\n')
        user, kernel = protocol.split_console(text)
        self.assertEqual([line for _, line in user],
                         ['dt-init: running: dt-vfio-selftest',
                          'ok 1 a.b # SKIP needs an IOMMU',
                          '@dt dma-range pa=0x1000 len=0x2000',
                          'ok 2 a.c', '1..2', '@dt exit status=0', ''])
        self.assertEqual(len(kernel), 4)
        con = protocol.parse(text)
        self.assertEqual(con.problems, [])
        self.assertEqual([pl.num('len') for pl in con.other], [0x2000])
        self.assertEqual([t for _, t in con.tap],
                         ['ok 1 a.b # SKIP needs an IOMMU', 'ok 2 a.c'])
        self.assertEqual(len(con.kernel_bad), 1)
        self.assertIn('WARNING: x.c:1', con.kernel_bad[0])
        self.assertEqual(con.exit_status, 0)
        # The control: read line by line, the range loses its length.
        pl = protocol.protocol_line(text.split('\r\n')[3])
        assert pl is not None
        self.assertIsNone(pl.num('len'))


if __name__ == '__main__':
    unittest.main()
