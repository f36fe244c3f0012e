#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Summarise a `meson test` run from its testlog.json.

Counts the TAP subtests of every test binary (meson itself only counts
binaries), prints failures and skips by name, and a closing line
"N passed, N failed, N skipped".  Exit status 1 if anything failed, or if
skips are forbidden (--no-skip, used by CI) and something was skipped.
"""

import json
import re
import sys

TAP = re.compile(r'^(not ok|ok)\b\s*\d*\s*-?\s*(.*?)'
                 r'(\s+#\s*(SKIP|TODO)\b.*)?$')


def main():
    path = sys.argv[1]
    no_skip = '--no-skip' in sys.argv[2:]
    passed, failed, skipped = [], [], []
    with open(path, encoding='utf-8') as f:
        for line in f:
            t = json.loads(line)
            name = t['name']
            subtests = 0
            for out in (t.get('stdout') or '').splitlines():
                m = TAP.match(out.strip())
                if not m:
                    continue
                subtests += 1
                what = '%s: %s' % (name, m.group(2).strip())
                if m.group(4) == 'SKIP':
                    skipped.append(what)
                elif m.group(1) == 'ok':
                    passed.append(what)
                else:
                    failed.append(what)
            # A binary that crashed or timed out may have printed no TAP.
            if t['result'] not in ('OK', 'SKIP', 'EXPECTEDFAIL') and \
                    not any(x.startswith(name + ':') for x in failed):
                failed.append('%s: %s' % (name, t['result']))
            elif t['result'] == 'SKIP' and not subtests:
                skipped.append('%s: skipped' % name)
            elif t['result'] == 'OK' and not subtests:
                # A test without TAP (the style check) counts once.
                passed.append(name)
    for what in failed:
        print('FAIL: ' + what)
    for what in skipped:
        print('SKIP: ' + what)
    print('%d passed, %d failed, %d skipped'
          % (len(passed), len(failed), len(skipped)))
    if failed:
        return 1
    if skipped and no_skip:
        print('error: skipped tests are not allowed here (CI): each must run')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
