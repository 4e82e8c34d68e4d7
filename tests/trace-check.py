#!/usr/bin/env python3
"""tests/trace-check.py CHECK TRACE [ARGS] - facts about a pfs trace
(common/trace.h, docs/profiling.md) for tests/trace.bats to compare with
exact values.  The JSON is read with python's json module: a trace that is
not valid JSON fails every check (exit 1 and the reason); an array left
unterminated (a program killed by a signal; the format allows it) is closed
first.

  format TRACE        "ok": the documented format, else the first problem
  lifetime TRACE      number of spans outside their process's "process" span
  chunks TRACE PROC SPAN  "FIRST LAST COUNT DISTINCT" of the chunk args of
                      the SPAN spans of process PROC (its name, or the
                      merged label "N: prog ...")
  blocked TRACE PROC  "IN OUT": seconds of blocked-in / blocked-out spans
  busy TRACE PROC     seconds of busy time: on each thread, the time inside
                      busy spans and not inside blocked spans, summed
  cpu TRACE PROC      seconds of CPU time in busy spans (their tdur, the
                      thread clock), summed
  startcpu TRACE PROC seconds of CPU time the process had used when its
                      trace began (the process span's cpu_before_us)
  proccpu TRACE PROC  seconds of CPU time of the whole process: the process
                      span's cpu_before_us + cpu_us
  procs TRACE         the process names, in sort order, one per line
  threads TRACE PROC  the thread names of PROC, in sort order
"""
import json
import sys

PHASES = {'M', 'X', 'C'}
META = {'process_name', 'process_sort_index', 'thread_name',
        'thread_sort_index'}
SPANS = {'busy': {'setup', 'read', 'stream', 'transform', 'order', 'write',
                  'chunk'},
         'blocked': {'blocked-in', 'blocked-out'},
         'process': {'process'}}
COUNTERS = {'in flight', 'MB/s'}


def load(path):
    with open(path) as f:
        text = f.read()
    if text.startswith('[') and not text.rstrip().endswith(']'):
        # the JSON Array Format may be left unterminated (a program killed
        # by a signal): close it as the trace viewers do
        text = text.rstrip().rstrip(',') + ']'
    doc = json.loads(text)
    if isinstance(doc, dict):
        return doc['traceEvents']
    return doc


def names(ev):
    pn, ps = {}, {}
    for e in ev:
        if e['ph'] == 'M' and e['name'] == 'process_name':
            pn[e['pid']] = e['args']['name']
        if e['ph'] == 'M' and e['name'] == 'process_sort_index':
            ps[e['pid']] = e['args']['sort_index']
    return pn, ps


def pid_of(ev, proc):
    pn, _ = names(ev)
    pids = [p for p, n in pn.items() if n == proc]
    if len(pids) != 1:
        sys.exit('no single process named %r (have %r)' % (proc, sorted(pn.values())))
    return pids[0]


def check_format(ev):
    for i, e in enumerate(ev):
        where = 'event %d %r' % (i, e)
        if e.get('ph') not in PHASES:
            return where + ': bad ph'
        if not isinstance(e.get('pid'), int):
            return where + ': pid not an integer'
        if e['ph'] == 'M':
            if e['name'] not in META or 'args' not in e:
                return where + ': bad metadata'
            continue
        if not isinstance(e.get('ts'), (int, float)) or e['ts'] <= 0:
            return where + ': bad ts'
        if e['ph'] == 'C':
            if e['name'] not in COUNTERS or not e.get('args'):
                return where + ': bad counter'
            continue
        if not isinstance(e.get('tid'), int):
            return where + ': tid not an integer'
        if e.get('cat') not in SPANS or e['name'] not in SPANS[e['cat']]:
            return where + ': unknown span'
        if not isinstance(e.get('dur'), (int, float)) or e['dur'] < 0:
            return where + ': bad dur'
        if e['cat'] == 'process':
            a = e.get('args', {})
            if not all(isinstance(a.get(k), (int, float)) and a[k] >= 0
                       for k in ('cpu_before_us', 'cpu_us')):
                return where + ': process span without cpu_before_us/cpu_us'
        if e['cat'] == 'busy':
            a = e.get('args', {})
            if not isinstance(a.get('in'), int) or not isinstance(a.get('out'), int):
                return where + ': busy span without in/out bytes'
            if not isinstance(e.get('tdur'), (int, float)) or e['tdur'] < 0 \
                    or not isinstance(e.get('tts'), (int, float)):
                return where + ': busy span without tts/tdur'
    pn, _ = names(ev)
    pids = {e['pid'] for e in ev}
    if pids - set(pn):
        return 'processes without a name: %r' % sorted(pids - set(pn))
    for p in pids:
        # none: killed before it could end its trace (SIGPIPE)
        if sum(1 for e in ev if e['pid'] == p and e['ph'] == 'X'
               and e['cat'] == 'process') > 1:
            return 'process %d: more than one process span' % p
    return 'ok'


def lifetime(ev):
    life = {e['pid']: (e['ts'], e['ts'] + e['dur']) for e in ev
            if e['ph'] == 'X' and e['cat'] == 'process'}
    bad = 0
    for e in ev:
        if e['ph'] not in ('X', 'C') or e.get('cat') == 'process':
            continue
        if e['pid'] not in life:
            continue
        a, b = life[e['pid']]
        if e['ts'] < a or e['ts'] + e.get('dur', 0) > b:
            bad += 1
    return bad


def union(iv):
    out = []
    for a, b in sorted(iv):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def minus(a, b):
    """length of the union a minus the union b (both sorted, disjoint)"""
    total = sum(y - x for x, y in a)
    for x, y in a:
        for u, v in b:
            lo, hi = max(x, u), min(y, v)
            if hi > lo:
                total -= hi - lo
    return total


def main():
    check, path = sys.argv[1], sys.argv[2]
    ev = load(path)
    if check == 'format':
        print(check_format(ev))
    elif check == 'lifetime':
        print(lifetime(ev))
    elif check == 'procs':
        pn, ps = names(ev)
        for p in sorted(pn, key=lambda p: (ps.get(p, 1 << 30), p)):
            print(pn[p])
    elif check == 'threads':
        pid = pid_of(ev, sys.argv[3])
        tn, ts = {}, {}
        for e in ev:
            if e['ph'] == 'M' and e['pid'] == pid and e['name'] == 'thread_name':
                tn[e['tid']] = e['args']['name']
            if e['ph'] == 'M' and e['pid'] == pid and e['name'] == 'thread_sort_index':
                ts[e['tid']] = e['args']['sort_index']
        for t in sorted(tn, key=lambda t: (ts.get(t, 0), t)):
            print(tn[t])
    elif check == 'chunks':
        pid = pid_of(ev, sys.argv[3])
        c = [e['args']['chunk'] for e in ev if e['ph'] == 'X' and e['pid'] == pid
             and e['name'] == sys.argv[4] and 'chunk' in e.get('args', {})]
        if not c:
            sys.exit('no %s spans with a chunk' % sys.argv[4])
        print(min(c), max(c), len(c), len(set(c)))
    elif check == 'blocked':
        pid = pid_of(ev, sys.argv[3])
        s = {n: sum(e['dur'] for e in ev if e['ph'] == 'X' and e['pid'] == pid
                    and e['name'] == n) / 1e6 for n in ('blocked-in', 'blocked-out')}
        print('%.6f %.6f' % (s['blocked-in'], s['blocked-out']))
    elif check == 'cpu':
        pid = pid_of(ev, sys.argv[3])
        print('%.6f' % (sum(e['tdur'] for e in ev if e['ph'] == 'X' and
                            e['pid'] == pid and e['cat'] == 'busy') / 1e6))
    elif check in ('startcpu', 'proccpu'):
        pid = pid_of(ev, sys.argv[3])
        a = [e['args'] for e in ev if e['ph'] == 'X' and e['pid'] == pid
             and e['cat'] == 'process'][0]
        us = a['cpu_before_us'] + (a['cpu_us'] if check == 'proccpu' else 0)
        print('%.6f' % (us / 1e6))
    elif check == 'busy':
        pid = pid_of(ev, sys.argv[3])
        total = 0.0
        for t in {e['tid'] for e in ev if e['ph'] == 'X' and e['pid'] == pid}:
            sp = [e for e in ev if e['ph'] == 'X' and e['pid'] == pid and e['tid'] == t]
            busy = union([(e['ts'], e['ts'] + e['dur']) for e in sp if e['cat'] == 'busy'])
            blk = union([(e['ts'], e['ts'] + e['dur']) for e in sp if e['cat'] == 'blocked'])
            total += minus(busy, blk)
        print('%.6f' % (total / 1e6))
    else:
        sys.exit('unknown check ' + check)


if __name__ == '__main__':
    main()
