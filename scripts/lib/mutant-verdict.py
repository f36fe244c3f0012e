#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Read the TAP log of one guest-test run on a mutated kernel; say whether
the mutant was caught, and by which case and which check.

Usage: mutant-verdict.py TAP_LOG

Prints one line "verdict=V cases=F/N" (V: caught, missed, crash, timeout
or error; F of N cases failed), then one line per failed case:
"CASE KIND: DETAIL".  KIND is what failed first in that case:
  oracle    a finding of the host oracle (the first one is shown)
  kernel    a kernel WARNING/BUG/oops line (dmatd_check_kernel)
  tool      a check of the guest tool (its name and detail), or the
            reason it could not go on ("fatal: ..."), e.g. an answer of the
            kernel it refuses to use, with the values
  assertion another assertion of the guest test
  crash     the guest or QEMU died (console closed, QEMU killed)
  timeout   the case did not finish in time
A mutant counts as caught when at least one case failed by a named check
(oracle, kernel, tool, assertion); by crashes and timeouts alone it is
not caught, only noticed.
"""

import re
import sys

RESULT = re.compile(r'^(not ok|ok) \d+ /x86_64/dma-testdev/guest/(\S+)')
TOOL_FAIL = re.compile(r'@dt check name=(\S+) result=fail ?(.*)')
TOOL_FATAL = re.compile(r'@dt fatal msg=(.*)')
ASSERTION = re.compile(r'assertion failed (.*)$')
NAMED = ('oracle', 'kernel', 'tool', 'assertion')


def first_match(block, rules):
    """KIND and DETAIL of the first rule with a matching line, in rule
    order; a rule is (kind, function of a line giving the detail or
    None)."""
    for kind, detail_of in rules:
        for line in block:
            detail = detail_of(line)
            if detail is not None:
                return kind, detail
    return None


def classify(block):
    """KIND and DETAIL of one failed case, from its lines."""
    text = '\n'.join(block)
    if 'guest did not finish within' in text:
        return 'timeout', 'the guest did not finish in time'
    rules = [
        ('kernel', lambda s: s[len('# oracle: kernel: '):]
         if s.startswith('# oracle: kernel: ') else None),
        ('oracle', lambda s: s[len('# oracle: '):]
         if s.startswith('# oracle: ') and 'findings in all' not in s
         else None),
        ('tool', lambda s: ' '.join(TOOL_FAIL.search(s).groups()).strip()
         if TOOL_FAIL.search(s) else None),
        ('tool', lambda s: 'fatal: ' + TOOL_FATAL.search(s).group(1).strip()
         if TOOL_FATAL.search(s) else None),
    ]
    found = first_match(block, rules)
    if found:
        return found
    if ('console closed before' in text or 'QEMU death' in text or
            'killed by signal' in text):
        return 'crash', 'the guest or QEMU died before the tool finished'
    return first_match(block, [
        ('assertion', lambda s: ASSERTION.search(s).group(1)
         if ASSERTION.search(s) else None),
    ]) or ('assertion', 'the case failed (see the log)')


def verdict(lines):
    """The verdict line and one line per failed case."""
    block, failed, total = [], [], 0
    for line in lines:
        match = RESULT.match(line)
        if not match:
            block.append(line.rstrip('\n'))
            continue
        total += 1
        if match.group(1) == 'not ok':
            kind, detail = classify(block)
            failed.append(f'{match.group(2)} {kind}: {detail[:300]}')
        block = []
    if not total:
        head = 'error'
    elif any(f.split()[1].rstrip(':') in NAMED for f in failed):
        head = 'caught'
    elif any(' timeout: ' in f for f in failed) and \
            not any(' crash: ' in f for f in failed):
        head = 'timeout'
    elif failed:
        head = 'crash'
    else:
        head = 'missed'
    return [f'verdict={head} cases={len(failed)}/{total}'] + failed


def main():
    """Entry point."""
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding='utf-8', errors='replace') as log:
        print('\n'.join(verdict(log)))


if __name__ == '__main__':
    main()
