#!/usr/bin/env bash
# bench/scaling.sh - does memory stay flat when the input grows?  Runs every
# stage under heaptrack (through bench/profile.sh) on inputs of each size and
# prints, per stage and size: the buffer allocations and peak RSS from the
# stage's own --stats line (a run without heaptrack), and heaptrack's count
# of calls to allocation functions (everything: libc, libraries, ours) and
# peak heap.  An engine that reuses its buffers shows the same numbers for
# every size; memory is O(threads x chunk size), never O(file size).
#
#   bash bench/scaling.sh                       # 256M and 1G, text-like
#   SCALING_SIZES="64M 256M" SCALING_STAGES="pcompress:--zstd pjoin:" \
#       bash bench/scaling.sh
#
# Environment: SCALING_SIZES (default "256M 1G"), SCALING_STAGES (TOOL:ARGS
# words, ARGS with commas for blanks; default: every stage built),
# PROFILE_KIND, PROFILE_CHUNK, PFS_BIN as for bench/profile.sh.  The
# heaptrack folders go to a temporary directory (PROFILE_DIR to keep them).
# Results: the table on stdout and bench/out/scaling-DATE.tsv.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PFS_BIN=${PFS_BIN:-$ROOT/build/release/bin}
export PFS_BIN
SIZES=${SCALING_SIZES:-256M 1G}
die() { echo "scaling: $*" >&2; exit 1; }

if [ -z "${SCALING_STAGES:-}" ]; then
	SCALING_STAGES="pchunk: pcompress:--zstd pcompress:-d,--zstd pcompress:--lz4
	    pcompress:-d,--lz4 pcompress:--brotli pcompress:-d,--brotli"
	[ -x "$PFS_BIN/pencrypt" ] && SCALING_STAGES="$SCALING_STAGES pencrypt: pencrypt:-d"
	SCALING_STAGES="$SCALING_STAGES phash: phash:--check pjoin:"
fi
KEEP=${PROFILE_DIR:-}
PDIR=${PROFILE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/pfs-scaling.XXXXXX")}
[ -n "$KEEP" ] || trap 'rm -rf "$PDIR"' EXIT
mkdir -p "$ROOT/bench/out"
TSV=$ROOT/bench/out/scaling-$(date -u +%Y%m%d-%H%M%S).tsv
printf 'stage\tsize\tstats_allocs\tpeak_rss_kb\theaptrack_calls\theaptrack_peak_heap\n' > "$TSV"

for spec in $SCALING_STAGES; do
	tool=${spec%%:*}
	args=${spec#*:}
	args=${args//,/ }
	for size in $SIZES; do
		echo "scaling: $tool $args on $size" >&2
		log=$PDIR/log
		PROFILE_SIZE=$size PROFILE_DIR=$PDIR PROFILE_TOP=0 \
		    nice bash "$ROOT/bench/profile.sh" heaptrack "$tool" "$args" > "$log" 2>&1 ||
			{ cat "$log" >&2; die "$tool $args failed on $size"; }
		dir=$(sed -n 's/^profile: //p' "$log" | tail -n 1)
		stats=$(grep ': stats: ' "$dir/stats.txt" || true)
		allocs=$(echo "$stats" | sed -n 's/.* allocs \([0-9]*\).*/\1/p')
		rss=$(echo "$stats" | sed -n 's/.* rss \([0-9.]*\) MB.*/\1/p')
		calls=$(sed -n 's/^calls to allocation functions: \([0-9]*\).*/\1/p' "$dir/summary.txt")
		peak=$(sed -n 's/^peak heap memory consumption: //p' "$dir/summary.txt")
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$tool${args:+ $args}" "$size" "${allocs:-?}" \
		    "$(awk -v m="${rss:-0}" 'BEGIN { printf "%d", m * 1e6 / 1024 }')" \
		    "${calls:-?}" "${peak:-?}" >> "$TSV"
		[ -n "$KEEP" ] || rm -rf "$dir"
	done
done

echo "memory against input size (${PROFILE_KIND:-text-like} data, chunk size ${PROFILE_CHUNK:-pchunk default}):"
awk -F'\t' 'NR == 1 { printf "%-22s %6s %8s %9s %11s %10s\n", "stage", "size", "allocs", "rss MB", "heaptrack", "peak heap"; next }
	{ printf "%-22s %6s %8s %9.1f %11s %10s\n", $1, $2, $3, $4 / 1024, $5, $6 }' "$TSV"
echo "allocs, rss: the stage's --stats (buffer allocations, peak RSS) without heaptrack;"
echo "heaptrack: calls to allocation functions (all of them), peak heap, under heaptrack"
echo "results: $TSV"
