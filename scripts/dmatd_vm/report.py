# SPDX-License-Identifier: GPL-2.0-or-later
"""The developer VM's report: what the guest decided, and the facts.

One oracle: whether the DMA went where it should is decided by the guest
tool's own checks (dt-pin: cpu-sees-pattern, dma-verify, dma-verify-match
and the others, as "@dt check" and TAP lines), exactly what the guest
qtest's runs of the tool also require.  The checks from outside the guest
(a tag scan of guest RAM, every DMA log address inside a run) are the
guest qtest's (tests/qtest/dma-testdev-guest-test.c, scripts/test.sh
--suite guest); this report does not repeat them.  It shows the device's
DMA log as facts (entries, addresses, bytes, results) beside the runs.

Besides the guest's verdict, a run fails when it could not be trusted:
QEMU ended abnormally, the kernel printed a BUG/WARNING/Oops/panic, the
guest never reported an exit status, the protocol was malformed, or the
DMA log could not be read.  Those are findings about the run, not about
where DMA landed.
"""

from typing import Any, Dict, List, Optional

from . import protocol
from .protocol import Line


MAX_ROWS = 16   # runs or DMA log entries shown per case before "... N more"
SCHEMA = 'dma-testdev-vm-report/1'


def size(n: Optional[int]) -> str:
    """1048576 -> '1 MiB'; None -> '?'."""
    if n is None:
        return '?'
    for unit, div in (('MiB', 1 << 20), ('KiB', 1 << 10)):
        if n >= div and n % div == 0:
            return '%d %s' % (n // div, unit)
    return '%d B' % n


def _check(c: Line) -> Dict[str, Any]:
    return {'name': c.get('name'), 'result': c.get('result'),
            'detail': c.detail()}


def _commands(entries: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The DMA log per device command: facts only."""
    by_cmd: Dict[int, List[Dict[str, Any]]] = {}
    for e in entries:
        by_cmd.setdefault(e['cmd'], []).append(e)
    out = []
    for cmd, es in sorted(by_cmd.items()):
        data = [e for e in es if e['list'] in ('src', 'dst')]
        results: Dict[str, int] = {}
        for e in es:
            results[e['result']] = results.get(e['result'], 0) + 1
        out.append({
            'cmd': cmd, 'op': es[0]['op'], 'entries': len(es),
            'data_segments': len(data),
            'bytes_written': sum(e['done'] for e in data
                                 if e['dir'] == 'write'),
            'bytes_read': sum(e['done'] for e in data if e['dir'] == 'read'),
            'other_entries': len(es) - len(data),
            'results': results, 'log': es})
    return out


def _case(c: protocol.Case, commands: List[Dict[str, Any]]
          ) -> Dict[str, Any]:
    b = c.begin
    seqs = [d.num('seq') for d in c.dmas]
    return {
        'name': c.name, 'result': c.result,
        'mode': b.get('mode') if b else None,
        'backing': b.get('backing') if b else None,
        'len': b.num('len') if b else None,
        'offset': b.num('offset') if b else None,
        'runs': [{'index': r.num('index'), 'iova': r.num('iova'),
                  'pa': r.num('pa'), 'len': r.num('len')} for r in c.runs],
        'pfns': [{'page': r.num('page'), 'pa': r.num('pa')}
                 for r in c.pfns],
        'moved': [m.fields() for m in c.moved],
        'dma': [dict(d.fields(), seq=d.num('seq')) for d in c.dmas],
        'checks': [_check(k) for k in c.checks],
        'device_commands': [k for k in commands if k['cmd'] in seqs],
    }


def _health(facts: Dict[str, Any], con: protocol.Console,
            run: Dict[str, Any]) -> List[str]:
    """Findings that make the run itself untrustworthy."""
    # pylint: disable=too-many-branches
    out = list(con.problems)
    for f in con.fatals:
        out.append('guest tool fatal: ' + f)
    for line in con.kernel_bad[:5]:
        out.append('kernel: ' + line)
    kvm = run.get('accel_kvm')
    if kvm is not None and kvm != (facts['accel'] == 'kvm'):
        out.append('QEMU runs with query-kvm enabled=%s, not %s'
                   % (str(kvm).lower(), facts['accel']))
    if run['outcome'] != 'shutdown':
        out.append('QEMU: %s: %s' % (run['outcome'], run['reason']))
        errs = [ln for ln in (run.get('qemu_log') or '').splitlines()
                if ln.strip() and 'warning:' not in ln
                and 'terminating on' not in ln]
        if errs:
            out.append('QEMU (exit status %s) said: %s'
                       % (run.get('qemu_rc'), errs[0].strip()))
        if facts['accel'] == 'kvm':
            out.append('KVM may not run this guest here: try --accel auto '
                       '(probes KVM) or --accel tcg')
    elif run['reason'] != 'guest-shutdown':
        out.append('the guest did not power off cleanly (%s)'
                   % run['reason'])
    if run.get('dma_log') is None and any(c.dmas for c in con.cases):
        out.append('the device DMA log could not be read (%s)'
                   % (run.get('dma_log_error') or 'QEMU gone'))
    if con.exit_status is None:
        out.append("the guest never printed '@dt exit' (see the console "
                   'log)')
    return out


def _guest_verdict(con: protocol.Console) -> List[str]:
    """What the guest tool decided against the run: its failed checks,
    failed cases, TAP and exit status."""
    out = []
    for c in con.cases:
        if c.result != 'pass':
            out.append('case %s: %s' % (c.name, c.result or 'no end line'))
    failed = [k.get('name') for k in con.all_checks()
              if k.get('result') != 'ok']
    if failed:
        out.append('guest checks failed: ' + ', '.join(
            str(n) for n in failed))
    nots = con.tap_failed()
    if nots:
        out.append('%d TAP tests failed' % len(nots))
    if con.tap_plan is not None and con.tap_plan != len(con.tap):
        out.append('TAP plan 1..%d but %d results'
                   % (con.tap_plan, len(con.tap)))
    for b in con.bail_out:
        out.append('TAP: ' + b)
    if con.exit_status not in (None, 0):
        out.append('guest command exit status %d' % con.exit_status)
    return out


def build(facts: Dict[str, Any], console_text: str,
          run: Dict[str, Any]) -> Dict[str, Any]:
    """The report as a dict (what --json writes)."""
    con = protocol.parse(console_text)
    entries = run.get('dma_log')
    commands = _commands(entries or [])
    guest = _guest_verdict(con)
    health = _health(facts, con, run)
    checks = con.all_checks()
    nfail = sum(1 for k in checks if k.get('result') != 'ok')
    tool = facts['command'].split()[0] if facts['command'] else '?'
    if con.exit_status is None and not checks and not con.tap:
        decided = ("the run's findings (the guest tool (%s) reported no "
                   'result)' % tool)
    else:
        decided = ('the guest tool (%s): %d checks ok, %d failed, %d TAP '
                   'ok, exit status %s%s'
                   % (tool, len(checks) - nfail, nfail,
                      len(con.tap) - len(con.tap_failed()),
                      'none' if con.exit_status is None
                      else con.exit_status,
                      "; and the run's findings" if health else ''))
    seen = {s for c in con.cases for s in (d.num('seq') for d in c.dmas)}
    return {
        'schema': SCHEMA,
        'verdict': 'fail' if guest or health else 'pass',
        'decided_by': decided,
        'findings': {'guest': guest, 'run': health},
        'versions': {'kernel': facts['kernel_version'],
                     'kernel_image': facts['kernel'],
                     'qemu': facts['qemu_version'],
                     'qemu_binary': facts['qemu'],
                     'qemu_python': facts['qemu_python']},
        'accelerator': {'name': facts['accel'], 'cpu': facts['cpu'],
                        'why': facts['accel_why'],
                        'query_kvm_enabled': run.get('accel_kvm')},
        'guest': {'vcpus': 2, 'numa_nodes': 2, 'mem_mib': facts['mem'],
                  'hugepages': facts['hugepages'],
                  'command': facts['command'],
                  'default_command': facts['command'] ==
                  facts['default_command'],
                  'dt_props': facts['dt_props'],
                  'devices': facts['devices']},
        'cases': [_case(c, commands) for c in con.cases],
        'other_checks': [_check(k) for k in con.checks],
        'tap': {'plan': con.tap_plan,
                'ok': len(con.tap) - len(con.tap_failed()),
                'not_ok': con.tap_failed()},
        'guest_exit': con.exit_status,
        'output': con.output,
        'dma_log': {'read': entries is not None,
                    'error': run.get('dma_log_error'),
                    'entries': len(entries or []),
                    'commands': commands,
                    'commands_not_in_a_case': [k['cmd'] for k in commands
                                               if k['cmd'] not in seen]},
        'qemu': {'outcome': run['outcome'], 'reason': run['reason'],
                 'state': run.get('status'), 'exit_status': run['qemu_rc']},
        'timings': {'prerequisites_s': facts['prereq_s'],
                    'boot_to_result_s': run.get('result_s'),
                    'end_s': run.get('end_s'),
                    'total_s': facts.get('total_s')},
        'console_log': facts['console'],
        'run_dir': facts['run_dir'],
    }


def _hx(n: Optional[int]) -> str:
    return '?' if n is None else '0x%x' % n


def _text_commands(w: Any, cmds: List[Dict[str, Any]],
                   entries: bool) -> None:
    for k in cmds:
        moved = ', '.join(x for x in (
            '%s written' % size(k['bytes_written'])
            if k['bytes_written'] else '',
            '%s read' % size(k['bytes_read']) if k['bytes_read'] else '')
            if x) or 'no data'
        w('    device     command %d %s: %d segments, %s; results %s%s'
          % (k['cmd'], k['op'], k['data_segments'], moved,
             ', '.join('%s %d' % kv for kv in sorted(k['results'].items())),
             ' (+%d segment-list reads)' % k['other_entries']
             if k['other_entries'] else ''))
        if not entries:
            continue
        data = [e for e in k['log'] if e['list'] in ('src', 'dst')]
        for e in data[:MAX_ROWS]:
            w('      %s' % _entry(e))
        if len(data) > MAX_ROWS:
            w('      ... %d more (all of them: --json)'
              % (len(data) - MAX_ROWS))


def _entry(e: Dict[str, Any]) -> str:
    """One data entry of the DMA log: 'write dst[3] 0x1000+0x1000'."""
    return '%s %s[%d] 0x%x+0x%x%s' % (
        e['dir'], e['list'], e['index'], e['addr'], e['done'],
        '' if e['result'] == 'ok' else ' [%s]' % e['result'])


def _by_segment(cmds: List[Dict[str, Any]]) -> Dict[int, List[str]]:
    """The data entries of these commands by segment index."""
    out: Dict[int, List[str]] = {}
    for k in cmds:
        for e in k['log']:
            if e['list'] in ('src', 'dst'):
                out.setdefault(e['index'], []).append(_entry(e))
    return out


def text(rep: Dict[str, Any]) -> str:
    """The report as text (what scripts/vm.sh prints)."""
    # pylint: disable=too-many-locals,too-many-statements,too-many-branches
    out: List[str] = []
    w = out.append
    v, a, g = rep['versions'], rep['accelerator'], rep['guest']
    w('dma-testdev developer VM')
    w('  kernel       %s  (%s)' % (v['kernel'], v['kernel_image']))
    w('  QEMU         %s  (%s)' % (v['qemu'], v['qemu_binary']))
    kvm = a['query_kvm_enabled']
    w('  accelerator  %s, -cpu %s (QMP query-kvm: enabled=%s)'
      % (a['name'], a['cpu'], 'unknown' if kvm is None else
         str(kvm).lower()))
    w('               why: %s' % a['why'])
    w('  guest        2 vCPUs, %d MiB RAM on 2 NUMA nodes, %d hugepages '
      '(2 MiB)' % (g['mem_mib'], g['hugepages']))
    w('  command      dt.run="%s"' % g['command'])
    if g['dt_props']:
        w('  dma-testdev  %s' % ' '.join(g['dt_props']))
    for c in rep['cases']:
        w('')
        w('  case %s: %s' % (c['name'], (c['result'] or 'no end line')
                             .upper()))
        w('    pinned     mode=%s backing=%s, %s (%s) at page offset %s'
          % (c['mode'], c['backing'], size(c['len']), _hx(c['len']),
             _hx(c['offset'])))
        for d in c['dma']:
            w('    guest DMA  op=%s segs=%s bytes=%s error=%s (device '
              'command %s)' % (d.get('op'), d.get('segs'), d.get('bytes'),
                               d.get('error'), d.get('seq') or '?'))
        _text_commands(w, c['device_commands'], not c['runs'])
        segs = _by_segment(c['device_commands'])
        w('    runs       %d from IOMMU_IOAS_NOIOMMU_GET_PA%s'
          % (len(c['runs']), '; beside each, the DMA log entries of the '
             'segment with its index' if segs else ''))
        for r in c['runs'][:MAX_ROWS]:
            w('      %2s  iova %-10s -> pa %-11s len %-8s %-10s %s'
              % (r['index'], _hx(r['iova']), _hx(r['pa']), _hx(r['len']),
                 '(%s)' % size(r['len']),
                 ', '.join(segs.get(r['index'], []))))
        if len(c['runs']) > MAX_ROWS:
            w('      ... %d more runs (all of them: --json)'
              % (len(c['runs']) - MAX_ROWS))
        if c['pfns']:
            w('    pfns       %d pages from /proc/self/pagemap'
              % len(c['pfns']))
        for mv in c['moved']:
            w('    moved      page %s: %s -> %s (status %s)'
              % (mv.get('page'), mv.get('old'), mv.get('new'),
                 mv.get('status')))
        _text_checks(w, 'checks    ', c['checks'])
    if rep['other_checks']:
        w('')
        _text_checks(w, 'other checks', rep['other_checks'], indent='  ')
    dl = rep['dma_log']
    if not dl['read']:
        w('')
        w('  device DMA log: not read (%s)' % (dl['error'] or 'QEMU gone'))
    elif not dl['entries']:
        w('')
        w('  device DMA log: empty (the device did no DMA)')
    elif dl['commands_not_in_a_case']:
        w('')
        w('  device DMA log: commands no case names: %s'
          % ', '.join(str(n) for n in dl['commands_not_in_a_case']))
        loose = [k for k in dl['commands']
                 if k['cmd'] in dl['commands_not_in_a_case']]
        _text_commands(w, loose, True)
    if not g['default_command']:
        shown = rep['output']
        w('')
        more = ' (the last 40)' if len(shown) > 40 else ''
        w('  output       %d lines%s' % (len(shown), more))
        for line in shown[-40:]:
            w('    | ' + line)
    w('')
    t = rep['tap']
    if t['ok'] or t['not_ok'] or t['plan'] is not None:
        w('  TAP          %d ok, %d not ok%s'
          % (t['ok'], len(t['not_ok']), '' if t['plan'] is None
             else ' (plan 1..%d)' % t['plan']))
        for s in t['not_ok']:
            w('    ' + s)
    ex = rep['guest_exit']
    w('  guest exit   %s' % ('none' if ex is None else 'status %d' % ex))
    tm = rep['timings']
    w('  time         boot-to-result %s s (QEMU start to "@dt exit"), end '
      '%s s; prerequisites checked/built in %s s'
      % (_s(tm['boot_to_result_s'], 2), _s(tm['end_s'], 2),
         _s(tm['prerequisites_s'])))
    w('  console log  %s' % rep['console_log'])
    w('')
    w('RESULT: %s  (decided by %s)'
      % (rep['verdict'].upper(), rep['decided_by']))
    for f in rep['findings']['guest'] + rep['findings']['run']:
        w('  - ' + f)
    return '\n'.join(out) + '\n'


def _s(x: Optional[float], digits: int = 1) -> str:
    return '-' if x is None else ('%.*f' % (digits, x)
                                  if isinstance(x, float) else str(x))


def _text_checks(w: Any, label: str, checks: List[Dict[str, Any]],
                 indent: str = '    ') -> None:
    fails = [k for k in checks if k['result'] != 'ok']
    w('%s%s %d ok, %d failed' % (indent, label, len(checks) - len(fails),
                                 len(fails)))
    for k in fails:
        w('%s  FAIL %s: %s' % (indent, k['name'], k['detail'][:160]))
