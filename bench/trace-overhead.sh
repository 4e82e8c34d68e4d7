#!/usr/bin/env bash
# bench/trace-overhead.sh FILE... - what tracing costs: the demo pipeline
#   pchunk FILE | pcompress --zstd | pencrypt --key-file K | phash -a sha256
# timed with tracing off and on (PFS_TRACE=DIR, every stage writing its
# trace), and optionally with the programs of a build without tracing
# (BASE_BIN), alternated within each round so that the machine's noise falls
# on all alike.  Prints per FILE the median and best wall time and the
# median CPU time (all stages) of each, the change of on and base against
# off (the median over the rounds of the ratio within a round, which the
# machine's drift does not move), the trace size and the peak RSS of the
# stages off and on (--stats).
#
#   BASE_BIN=/dev/shm/base/build/release/bin ROUNDS=15 \
#       bash bench/trace-overhead.sh /dev/shm/mixed.bin /dev/shm/usr-include.tar
#
# Environment: PFS_BIN (default build/release/bin), BASE_BIN (none: no base
# column), ROUNDS (default 11).  Put FILEs on a tmpfs (docs/profiling.md).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PFS_BIN=${PFS_BIN:-$ROOT/build/release/bin}
BASE_BIN=${BASE_BIN:-}
ROUNDS=${ROUNDS:-11}
die() { echo "trace-overhead: $*" >&2; exit 1; }
[ $# -ge 1 ] || { echo "usage: trace-overhead.sh FILE..." >&2; exit 2; }
TMP=$(mktemp -d "${SHM:-/dev/shm}/pfs-trace-overhead.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
"$PFS_BIN/pencrypt" --keygen -o "$TMP/k"

# run BIN FILE [TRACEDIR]: the pipeline once; prints "WALL CPU" in s (CPU:
# user + sys of all the stages, from /usr/bin/time, to 10 ms)
run() {
	local bin=$1 f=$2 t0 t1
	t0=$(date +%s%N)
	PFS_TRACE=${3:-} /usr/bin/time -f '%U %S' -o "$TMP/time" sh -c \
		"'$bin/pchunk' '$f' | '$bin/pcompress' --zstd |
		'$bin/pencrypt' --key-file '$TMP/k' | '$bin/phash' -a sha256 > /dev/null"
	t1=$(date +%s%N)
	awk -v w=$((t1 - t0)) '{ printf "%.4f %.2f\n", w / 1e9, $1 + $2 }' "$TMP/time"
}

# med FILE COLUMN: median and min of that column of FILE
med() {
	awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.3f %.3f", m, v[1] }'
}

# ratio A B COLUMN: the median over the rounds of A's time / B's time in
# the same round (each round ran both twice), as a change in %
ratio() {
	paste -d ' ' "$TMP/$1" "$TMP/$2" | awk -v c="$3" -v n=2 '
		{ a += $c; b += $(c + n); if (NR % 2 == 0) { r[++k] = a / b; a = b = 0 } }
		END { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
		          if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
		      m = k % 2 ? r[(k + 1) / 2] : (r[k / 2] + r[k / 2 + 1]) / 2
		      printf "%+.1f %%", (m - 1) * 100 }'
}

# rss BIN FILE [TRACEDIR]: peak RSS (MB) of each stage, from --stats=json
rss() {
	PFS_STATS=json PFS_TRACE=${3:-} sh -c "'$1/pchunk' '$2' | '$1/pcompress' --zstd |
		'$1/pencrypt' --key-file '$TMP/k' | '$1/phash' -a sha256 > /dev/null" 2>&1 |
		sed -n 's/.*"tool":"\([a-z]*\)".*"peak_rss_kb":\([0-9]*\).*/\1 \2/p' |
		awk '{ printf "%s%s %.1f", (NR > 1 ? ", " : ""), $1, $2 / 1024 }'
}

for f in "$@"; do
	[ -r "$f" ] || die "$f: cannot read"
	cat "$f" > /dev/null                 # warm
	size=$(stat -c %s "$f")
	: > "$TMP/off"; : > "$TMP/on"; : > "$TMP/base"
	for ((i = 0; i < ROUNDS; i++)); do
		for w in off on base base on off; do
			[ "$w" = base ] && [ -z "$BASE_BIN" ] && continue
			case $w in
			off)  run "$PFS_BIN" "$f" >> "$TMP/off" ;;
			on)   rm -rf "$TMP/tr"; mkdir "$TMP/tr"
			      run "$PFS_BIN" "$f" "$TMP/tr" >> "$TMP/on" ;;
			base) run "$BASE_BIN" "$f" >> "$TMP/base" ;;
			esac
		done
	done
	echo "$(basename "$f") ($((size / 1048576)) MiB), $((2 * ROUNDS)) runs each, alternated in $ROUNDS rounds:"
	echo "               wall s median / best   MB/s    CPU s median   wall, CPU vs off (median of the rounds' ratios)"
	for w in off on base; do
		[ -s "$TMP/$w" ] || continue
		read -r mw bw <<< "$(med "$TMP/$w" 1)"
		read -r mc _ <<< "$(med "$TMP/$w" 2)"
		printf "  %-12s %7s / %7s  %7.1f   %7s" "$(case $w in off) echo "tracing off" ;; on) echo "tracing on" ;;
			base) echo "without code" ;; esac)" "$mw" "$bw" "$(echo "$size / $mw / 1000000" | bc -l)" "$mc"
		[ "$w" = off ] && echo || echo "        $(ratio "$w" off 1), $(ratio "$w" off 2)"
	done
	echo "  trace: $(cat "$TMP"/tr/*.json | wc -c) bytes in $(ls "$TMP/tr" | wc -l) files, $(cat "$TMP"/tr/*.json | grep -c '^{') events"
	echo "  peak RSS MB off: $(rss "$PFS_BIN" "$f")"
	rm -rf "$TMP/tr"; mkdir "$TMP/tr"
	echo "  peak RSS MB on:  $(rss "$PFS_BIN" "$f" "$TMP/tr")"
done
