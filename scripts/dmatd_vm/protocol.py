# SPDX-License-Identifier: GPL-2.0-or-later
"""Parse a guest console log: the "@dt" protocol and the tool's TAP.

The protocol is docs/guest-protocol.rst.  The rules follow the guest
qtest's reader (tests/qtest/dma-testdev-guest/console.c, dmatd_line()
and dmatd_field()), so that both hosts read a console the same way:

* the kernel and the guest's user space share the console, and a kernel
  record ("[%5lu.%06lu] " and its text, printed whole) can land in the
  middle of a line a tool is still writing.  A record runs to the end of
  its console line; the text before it continues in the next console
  line.  split_console() puts each user line and each record back
  together before anything else reads them;
* a protocol line is the text from the first "@dt " in a user line; the
  keyword must be followed by a space or end the line, so "'@dt wait'
  until" in a help text is not one;
* a field is " KEY=VALUE", VALUE up to the next blank; the first
  occurrence of a key counts;
* "@dt fatal msg=TEXT": TEXT is the rest of the line.

Nothing here judges a run: parse() only collects what the guest said.
"""

import re
from typing import Dict, List, Optional, Tuple


KEYWORDS = ('begin', 'wait', 'run', 'pfn', 'moved', 'dma', 'check', 'end',
            'fatal', 'exit', 'container', 'dma-map', 'dma-map-done',
            'dma-range', 'selftest-begin', 'selftest')
# Reported, not part of a case (dt-epf-test, dt-*-selftest).
OTHER = ('container', 'dma-map', 'dma-map-done', 'dma-range',
         'selftest-begin', 'selftest')

_KEY = re.compile(r'^[A-Za-z_][\w-]*$')
_TAP = re.compile(r'^(not ok|ok)\b\s*(\d*)\s*-?\s*(.*)$')
_PLAN = re.compile(r'^1\.\.(\d+)')
_KERNEL_BAD = re.compile(r'Kernel panic|\bBUG:|Oops:|WARNING:')
_KERNEL_RECORD = re.compile(r'\[ *\d+\.\d{6}\] ')


class Line:
    """One protocol line: its keyword and the text after it."""

    def __init__(self, keyword: str, text: str, lineno: int = 0):
        self.keyword = keyword
        self.text = text
        self.lineno = lineno

    def __repr__(self) -> str:
        return 'Line(%r, %r)' % (self.keyword, self.text)

    def get(self, key: str) -> Optional[str]:
        """The value of KEY, None when the line has no such field."""
        if self.keyword == 'fatal' and key == 'msg':
            pos = (' ' + self.text).find(' msg=')
            return None if pos < 0 else self.text[pos + 4:].rstrip()
        pos = (' ' + self.text).find(' %s=' % key)
        if pos < 0:
            return None
        value = self.text[pos + len(key) + 1:]
        return re.split(r'\s', value, maxsplit=1)[0]

    def num(self, key: str) -> Optional[int]:
        """KEY as a number (0x.. hex or decimal), None if absent or bad."""
        return to_int(self.get(key))

    def fields(self) -> Dict[str, str]:
        """Every KEY=VALUE field, in order (first occurrence wins)."""
        out: Dict[str, str] = {}
        for word in self.text.split():
            key, sep, value = word.partition('=')
            if sep and _KEY.match(key) and key not in out:
                out[key] = value
        return out

    def detail(self, skip: Tuple[str, ...] = ('name', 'result')) -> str:
        """The line without the fields in SKIP: a check's detail."""
        words = [w for w in self.text.split()
                 if w.partition('=')[0] not in skip or '=' not in w]
        return ' '.join(words)


def to_int(text: Optional[str]) -> Optional[int]:
    """'0x1f' or '31' as an int; None for None or anything else."""
    if text is None:
        return None
    try:
        return int(text, 0)
    except ValueError:
        return None


def protocol_line(line: str, lineno: int = 0) -> Optional[Line]:
    """The protocol line in one console line, or None."""
    pos = line.find('@dt ')
    if pos < 0:
        return None
    rest = line[pos + 4:].rstrip('\r\n')
    keyword, _, text = rest.partition(' ')
    if keyword not in KEYWORDS:
        return None
    return Line(keyword, text.strip(), lineno)


class Case:
    """One buffer's case, "@dt begin" to "@dt end"."""

    def __init__(self, begin: Optional[Line]):
        self.begin = begin
        self.name = (begin.get('case') if begin else None) or '?'
        self.runs: List[Line] = []
        self.pfns: List[Line] = []
        self.moved: List[Line] = []
        self.dmas: List[Line] = []
        self.checks: List[Line] = []
        self.waits: List[Line] = []
        self.end: Optional[Line] = None

    @property
    def result(self) -> Optional[str]:
        """'pass' or 'fail' from the end line, None without one."""
        return self.end.get('result') if self.end else None

    def failed_checks(self) -> List[Line]:
        """The check lines whose result is not ok."""
        return [c for c in self.checks if c.get('result') != 'ok']


class Console:
    """What a guest console says: protocol cases, TAP, kernel trouble."""

    def __init__(self) -> None:
        self.cases: List[Case] = []
        self.checks: List[Line] = []      # checks outside begin/end
        self.other: List[Line] = []       # container, dma-map, ...
        self.fatals: List[str] = []
        self.exit_status: Optional[int] = None
        self.tap: List[Tuple[bool, str]] = []
        self.tap_plan: Optional[int] = None
        self.bail_out: List[str] = []
        self.kernel_bad: List[str] = []
        self.problems: List[str] = []     # protocol errors
        self.output: List[str] = []       # what the guest command printed

    def tap_failed(self) -> List[str]:
        """The "not ok" lines (a "# SKIP" counts as ok)."""
        return [text for ok, text in self.tap if not ok]

    def all_checks(self) -> List[Line]:
        """Every check line, in and outside cases."""
        return [c for case in self.cases for c in case.checks] + self.checks


def _add(console: Console, cur: Optional[Case], pl: Line) -> Optional[Case]:
    """File one protocol line; returns the case open after it."""
    # pylint: disable=too-many-branches
    kw = pl.keyword
    if kw == 'begin':
        if cur is not None:
            console.problems.append('line %d: case %s begins before case %s '
                                    'ended' % (pl.lineno, pl.get('case'),
                                               cur.name))
        cur = Case(pl)
        console.cases.append(cur)
    elif kw == 'exit':
        console.exit_status = pl.num('status')
    elif kw == 'fatal':
        console.fatals.append(pl.get('msg') or pl.text)
    elif kw == 'check':
        (cur.checks if cur else console.checks).append(pl)
    elif kw in OTHER:
        console.other.append(pl)
    elif cur is None:
        console.problems.append('line %d: "@dt %s" outside a case'
                                % (pl.lineno, kw))
    elif kw == 'end':
        cur.end = pl
        cur = None
    else:
        {'run': cur.runs, 'pfn': cur.pfns, 'moved': cur.moved,
         'dma': cur.dmas, 'wait': cur.waits}[kw].append(pl)
    return cur


def split_console(text: str) -> Tuple[List[Tuple[int, str]], List[str]]:
    """The guest user space's lines, each with the number of the console
    line it ends on, and the kernel's records, each whole (see above)."""
    user: List[Tuple[int, str]] = []
    kernel: List[str] = []
    cut = ''
    lineno = 0
    for lineno, raw in enumerate(text.replace('\r', '').split('\n'), 1):
        m = _KERNEL_RECORD.search(raw)
        if m:
            cut += raw[:m.start()]
            kernel.append(raw[m.start():])
        else:
            user.append((lineno, cut + raw))
            cut = ''
    if cut:
        user.append((lineno, cut))
    return user, kernel


def parse(text: str) -> Console:
    """Parse a whole console log."""
    console = Console()
    cur: Optional[Case] = None
    running = False
    user, kernel = split_console(text)
    # Without PRINTK_TIME (a kernel of one's own) its lines are all "user".
    console.kernel_bad = [line.strip() for line in kernel
                          if _KERNEL_BAD.search(line)]
    for lineno, raw in user:
        pl = protocol_line(raw, lineno)
        if pl is not None:
            cur = _add(console, cur, pl)
            if pl.keyword == 'exit':
                running = False
            continue
        if 'dt-init: running:' in raw:
            running = True
            continue
        if _KERNEL_BAD.search(raw):
            console.kernel_bad.append(raw.strip())
        if running:
            console.output.append(raw)
        _tap(console, raw.strip())
    if cur is not None:
        console.problems.append('case %s has no end line' % cur.name)
    return console


def _tap(console: Console, line: str) -> None:
    m = _PLAN.match(line)
    if m:
        console.tap_plan = int(m.group(1))
        return
    if line.startswith('Bail out!'):
        console.bail_out.append(line)
        return
    m = _TAP.match(line)
    if m:
        console.tap.append((m.group(1) == 'ok' or '# SKIP' in line.upper(),
                            line))
