#!/usr/bin/env bash
# bench/trace-chart.sh TRACE OUT [TITLE] - a pfs trace (--trace, PFS_TRACE
# or pipeline --trace; Chrome Trace Event Format, common/trace.h) drawn as a
# timeline without a browser: one row per thread of every stage (reader,
# workers, writer), time in seconds from the first event across; busy spans
# (setup, read, stream, transform, order, write, chunk) green, blocked-in red, blocked-out
# blue, and nothing where a thread waits for another thread.  A stage whose
# rows are mostly red is starved by the stage before it; mostly blue, held
# back by the stage after it; the stage that is green is the bottleneck.
#
#   pipeline --trace t.json process -o big.pfs big.bin
#   bash bench/trace-chart.sh t.json t.png "zstd -19 on 2 cores"
#
# OUT ends in .png (pngcairo) or .svg.  Needs python3 (reads the JSON) and
# gnuplot (Debian gnuplot-nox; tests/deps.sh bench).  The data gnuplot
# plots is kept next to OUT as OUT.dat (rows: y, start s, end s, kind
# 0 busy / 1 blocked-in / 2 blocked-out); the row labels as OUT.rows.
# Exit status 1 on failure, 2 on bad usage.
set -euo pipefail

die() { echo "trace-chart: $*" >&2; exit 1; }
[ $# -ge 2 ] && [ $# -le 3 ] || { echo "usage: trace-chart.sh TRACE OUT.png|OUT.svg [TITLE]" >&2; exit 2; }
TRACE=$1 OUT=$2 TITLE=${3:-$(basename "$1")}
case $OUT in
*.png) TERM_SPEC="pngcairo size 1000,ROWSPX font 'sans,9'" ;;
*.svg) TERM_SPEC="svg size 1000,ROWSPX font 'sans,9'" ;;
*) echo "trace-chart: $OUT: give a name ending in .png or .svg" >&2; exit 2 ;;
esac
[ -r "$TRACE" ] || die "$TRACE: cannot read"
OUTDIR=$(dirname -- "$OUT")
[ -d "$OUTDIR" ] && [ -w "$OUTDIR" ] || die "$OUT: cannot write in $OUTDIR"
command -v gnuplot >/dev/null || die "gnuplot not found (apt-get install gnuplot-nox)"
command -v python3 >/dev/null || die "python3 not found"

DAT=$OUT.dat ROWS=$OUT.rows
python3 - "$TRACE" "$DAT" "$ROWS" 2> /dev/null <<'EOF' || die "$TRACE: not a pfs trace (no spans in Chrome trace JSON)"
import json, sys
src, dat, rows = sys.argv[1:4]
with open(src) as f:
    text = f.read().strip()
if text.startswith('[') and not text.endswith(']'):
    text = text.rstrip(',') + ']'        # an unterminated array is allowed
doc = json.loads(text)
ev = doc['traceEvents'] if isinstance(doc, dict) else doc
pname, psort, tname, tsort = {}, {}, {}, {}
for e in ev:
    if e.get('ph') != 'M':
        continue
    a = e.get('args', {})
    if e['name'] == 'process_name': pname[e['pid']] = a['name']
    if e['name'] == 'process_sort_index': psort[e['pid']] = a['sort_index']
    if e['name'] == 'thread_name': tname[(e['pid'], e['tid'])] = a['name']
    if e['name'] == 'thread_sort_index': tsort[(e['pid'], e['tid'])] = a['sort_index']
spans = [e for e in ev if e.get('ph') == 'X' and e.get('cat') in ('busy', 'blocked')]
if not spans:
    sys.exit('no spans')
t0 = min(e['ts'] for e in spans)
keys = sorted({(e['pid'], e['tid']) for e in spans},
              key=lambda k: (psort.get(k[0], k[0]), tsort.get(k, 0), k[1]))
row = {k: len(keys) - i for i, k in enumerate(keys)}   # first on top
kind = {'busy': 0, 'blocked-in': 1, 'blocked-out': 2}
with open(dat, 'w') as f:
    for k in (0, 1, 2):   # busy first: the blocked spans inside are drawn over it
        for e in spans:
            n = 0 if e['cat'] == 'busy' else kind[e['name']]
            if n == k:
                s = (e['ts'] - t0) / 1e6
                f.write('%d %.6f %.6f %d\n' % (row[(e['pid'], e['tid'])], s,
                                                s + e['dur'] / 1e6, n))
with open(rows, 'w') as f:
    for k in keys:
        f.write('%d "%s  %s"\n' % (row[k], pname.get(k[0], str(k[0])).replace('"', "'"),
                                   tname.get(k, str(k[1]))))
EOF
NROWS=$(wc -l < "$ROWS")
TERM_SPEC=${TERM_SPEC/ROWSPX/$((120 + 22 * NROWS))}
YTICS=$(awk '{ $1 = $1; r = $1; $1 = ""; sub(/^ /, ""); printf "%s%s %s", (NR > 1 ? ", " : ""), $0, r }' "$ROWS")
gnuplot 2> "$OUT.gnuplot.err" <<EOF || die "gnuplot failed: $(cat "$OUT.gnuplot.err")"
set terminal $TERM_SPEC
set output '$OUT'
set title "$(printf '%s' "$TITLE" | sed 's/["\\]/ /g')"
set xlabel 'seconds'
set yrange [0.4:$NROWS + 0.6]
set ytics ($YTICS)
set ytics nomirror
set grid xtics
set key outside top center horizontal
set style fill solid 1.0 noborder
plot '$DAT' using ((\$2 + \$3) / 2):1:((\$3 - \$2) / 2):(\$4 == 0 ? 0.32 : 0.22):(\$4 == 0 ? 0x2ca02c : \$4 == 1 ? 0xd62728 : 0x1f77b4) \
       with boxxyerror lc rgb variable notitle, \
     NaN with boxes lc rgb 0x2ca02c title 'busy', \
     NaN with boxes lc rgb 0xd62728 title 'blocked on input', \
     NaN with boxes lc rgb 0x1f77b4 title 'blocked on output'
EOF
rm -f "$OUT.gnuplot.err"      # its warnings (a range of one point) are no news
echo "$OUT"
