#!/usr/bin/env bash
# bench/trace-overhead.sh FILE... - what tracing costs: the demo pipeline
#   pchunk FILE | pcompress --zstd | pencrypt --key-file K | phash -a sha256
# timed with tracing off and on (PFS_TRACE=DIR, every stage writing its
# trace), and optionally with the programs of a build without tracing
# (BASE_BIN), alternated within each round so that the machine's noise falls
# on all alike.  Prints per FILE the median and best wall time of each, the
# change of on and base against off, the trace size and the peak RSS of the
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

# run BIN FILE [TRACEDIR]: the pipeline once; prints its wall time in s
run() {
	local bin=$1 f=$2 t0 t1
	t0=$(date +%s%N)
	if [ -n "${3:-}" ]; then
		PFS_TRACE=$3 sh -c "'$bin/pchunk' '$f' | '$bin/pcompress' --zstd |
			'$bin/pencrypt' --key-file '$TMP/k' | '$bin/phash' -a sha256 > /dev/null"
	else
		sh -c "'$bin/pchunk' '$f' | '$bin/pcompress' --zstd |
			'$bin/pencrypt' --key-file '$TMP/k' | '$bin/phash' -a sha256 > /dev/null"
	fi
	t1=$(date +%s%N)
	echo "scale=6; ($t1 - $t0) / 1000000000" | bc
}

# med FILE: median and min of the numbers in FILE
med() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.3f %.3f", m, v[1] }'
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
	read -r moff boff <<< "$(med "$TMP/off")"
	read -r mon bon <<< "$(med "$TMP/on")"
	echo "$(basename "$f") ($((size / 1048576)) MiB), $((2 * ROUNDS)) runs each, alternated; wall s median / best, MB/s by the median:"
	printf "  tracing off  %7s / %7s  %7.1f MB/s\n" "$moff" "$boff" "$(echo "$size / $moff / 1000000" | bc -l)"
	printf "  tracing on   %7s / %7s  %7.1f MB/s  %+.1f %% median, %+.1f %% best vs off\n" "$mon" "$bon" \
		"$(echo "$size / $mon / 1000000" | bc -l)" "$(echo "($mon / $moff - 1) * 100" | bc -l)" \
		"$(echo "($bon / $boff - 1) * 100" | bc -l)"
	if [ -n "$BASE_BIN" ]; then
		read -r mb bb <<< "$(med "$TMP/base")"
		printf "  no tracing   %7s / %7s  %7.1f MB/s  %+.1f %% median, %+.1f %% best vs off (build without the code)\n" \
			"$mb" "$bb" "$(echo "$size / $mb / 1000000" | bc -l)" "$(echo "($mb / $moff - 1) * 100" | bc -l)" \
			"$(echo "($bb / $boff - 1) * 100" | bc -l)"
	fi
	echo "  trace: $(cat "$TMP"/tr/*.json | wc -c) bytes in $(ls "$TMP/tr" | wc -l) files, $(cat "$TMP"/tr/*.json | grep -c '^{') events"
	echo "  peak RSS MB off: $(rss "$PFS_BIN" "$f")"
	rm -rf "$TMP/tr"; mkdir "$TMP/tr"
	echo "  peak RSS MB on:  $(rss "$PFS_BIN" "$f" "$TMP/tr")"
done
