#!/usr/bin/env bash
# bench/history-chart.sh OUT [ERE] - the history of `make bench` as a chart:
# MB/s of every pfs row (kind/name; stock rows left out) across the saved
# results bench/out/bench-*.tsv, oldest first, one line per row whose
# kind/name matches ERE (default: all; e.g. 'mixed/(process|pcompress-zstd)').
# bench/run.sh calls it after each run to update bench/out/history.png.
#
#   bash bench/history-chart.sh bench/out/history.svg 'text-like/'
#
# OUT ends in .png or .svg; needs gnuplot (Debian gnuplot-nox).  The table
# plotted is kept as OUT.dat (one row per run, one column per kind/name).
# Environment: BENCH_OUT=DIR (default bench/out).  Exit status 1 when there
# is nothing to plot or gnuplot fails, 2 on bad usage.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "history-chart: $*" >&2; exit 1; }
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: history-chart.sh OUT.png|OUT.svg [ERE]" >&2; exit 2; }
OUT=$1 ERE=${2:-.}
case $OUT in
*.png) TERM_SPEC="pngcairo size 1000,560 font 'sans,9'" ;;
*.svg) TERM_SPEC="svg size 1000,560 font 'sans,9'" ;;
*) echo "history-chart: $OUT: give a name ending in .png or .svg" >&2; exit 2 ;;
esac
BENCH_OUT=${BENCH_OUT:-$ROOT/bench/out}
command -v gnuplot >/dev/null || die "gnuplot not found (apt-get install gnuplot-nox)"
shopt -s nullglob
runs=("$BENCH_OUT"/bench-*.tsv)
[ ${#runs[@]} -gt 0 ] || die "$BENCH_OUT: no bench-*.tsv results (run make bench)"

# the table: a header "run ROW1 ROW2 ...", then per run (oldest first) its
# date-time and the MB/s of each kind/name ("NaN" where the run has no such
# row); stock rows (vs "-") and rows not matching ERE are left out
DAT=$OUT.dat
awk -F'\t' -v ere="$ERE" '
	FNR == 1 { n++; run[n] = FILENAME; sub(/.*bench-/, "", run[n]); sub(/\.tsv$/, "", run[n]) }
	/^#/ || $1 == "kind" || $3 == "-" || $9 == "-" || $9 == "" { next }
	{ key = $1 "/" $2; if (key !~ ere) next
	  if (!(key in seen)) { seen[key] = 1; order[++k] = key }
	  v[key, n] = $9 }
	END {
		printf "run"; for (j = 1; j <= k; j++) printf " %s", order[j]; printf "\n"
		for (i = 1; i <= n; i++) {
			printf "%s", run[i]
			for (j = 1; j <= k; j++) printf " %s", ((order[j], i) in v) ? v[order[j], i] : "NaN"
			printf "\n"
		}
	}' "${runs[@]}" > "$DAT"
ncols=$(($(head -n 1 "$DAT" | wc -w) - 1))
[ "$ncols" -gt 0 ] || die "no pfs rows match '$ERE'"
gnuplot 2> "$OUT.gnuplot.err" <<EOF || die "gnuplot failed: $(cat "$OUT.gnuplot.err")"
set terminal $TERM_SPEC noenhanced
set output '$OUT'
set title 'make bench: MB/s of each pfs row, run by run (${#runs[@]} runs)'
set ylabel 'MB/s (original bytes / median wall time)'
set xlabel 'run (UTC date-time)'
set xtics rotate by -30
set key outside right top font ',8'
set grid ytics
set datafile missing 'NaN'
set offsets 0.2, 0.2, 0, 0
plot for [c=2:$((ncols + 1))] '$DAT' using 0:c:xtic(1) with linespoints title columnheader(c)
EOF
rm -f "$OUT.gnuplot.err"      # its warnings (a range of one point) are no news
echo "$OUT"
