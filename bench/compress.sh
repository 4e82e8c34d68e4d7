#!/usr/bin/env bash
# bench/compress.sh [SIZE] - pcompress against the stock zstd, lz4 and brotli
# tools, as a user would run them, side by side in the same run.
#
#   bash bench/compress.sh            # 256M of text-like and of random data
#                                     # (+ the chunk sweep on a tar of
#                                     # /usr/include: CHUNK_REAL=DIR...)
#   PFS_BIN=build/release/bin RUNS=5 bash bench/compress.sh 64M
#
# Inputs are generated with testdata/gen into a tmpfs (/dev/shm), so they are
# warm.  Every command runs once untimed (its output is kept: sizes for the
# ratio, inputs for the decompression runs), then RUNS timed rounds in
# which the commands alternate, writing to /dev/null.  MB/s is the input size
# (original bytes, 10^6) over the median wall time; ratio = compressed /
# original.  Prints a Markdown table.
#
# The zstd and lz4 rows end in `pjoin --payload`, which writes a .zst / .lz4
# file.  Brotli streams do not concatenate, so pjoin --payload refuses a
# Brotli stream of several chunks: the brotli rows write the .pfs stream
# and their size is its payload bytes (pinfo --json: the chunks' Brotli
# streams, without frame headers); they run without the pjoin hop, which
# at Brotli's speed costs nothing measurable.
set -euo pipefail

SIZE=${1:-256M}
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${PFS_BIN:-$ROOT/build/release/bin}
GEN=$ROOT/testdata/gen
[ -x "$GEN" ] || GEN=$BIN/gen
for t in "$BIN/pchunk" "$BIN/pcompress" "$BIN/pjoin" "$BIN/pinfo" "$GEN" zstd lz4 brotli; do
	command -v "$t" >/dev/null || { echo "bench: $t missing (make first)" >&2; exit 1; }
done
export PATH="$BIN:$PATH" PFS_STATS=
SHM=/dev/shm
[ -d "$SHM" ] && [ -w "$SHM" ] || SHM=${TMPDIR:-/tmp}
DIR=$(mktemp -d "$SHM/pfs-bench.XXXXXX")
trap 'rm -rf "$DIR"' EXIT

names=() cmds=()
# add NAME CMD: CMD is bash code reading "$F" (the input) and writing "$OUT"
add() { names+=("$1"); cmds+=("$2"); }

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# run_group KIND FILE: the untimed run, then RUNS alternating timed rounds
run_group() {
	local kind=$1 f=$2 i r t0 t1 size
	size=$(stat -c %s "$f")
	for i in "${!names[@]}"; do
		F=$f OUT="$DIR/$kind.${names[$i]}" bash -o pipefail -c "${cmds[$i]}"
	done
	declare -A times=()
	for ((r = 0; r < RUNS; r++)); do
		for i in "${!names[@]}"; do
			t0=$(date +%s.%N)
			F=$f OUT=/dev/null bash -o pipefail -c "${cmds[$i]}"
			t1=$(date +%s.%N)
			times[$i]+="$(echo "$t1 - $t0" | bc) "
		done
	done
	for i in "${!names[@]}"; do
		local med out osz ratio
		med=$(tr ' ' '\n' <<<"${times[$i]}" | grep . | median)
		out="$DIR/$kind.${names[$i]}"
		case ${names[$i]} in
		pcompress-brotli-*)   # a .pfs stream: its payload bytes
			osz=$(pinfo --json < "$out" |
			      sed -n 's/.*"payload_bytes":\([0-9]*\).*/\1/p')
			[ -n "$osz" ] || { echo "bench: pinfo --json gave no payload_bytes" >&2; exit 1; } ;;
		*)	osz=$(stat -c %s "$out") ;;
		esac
		case ${names[$i]} in
		d-*|raw-*) ratio="" ;;
		*) ratio=$(echo "scale=4; $osz / $size" | bc | sed 's/^\./0./') ;;
		esac
		printf '| %s | %s | %.0f | %s | %.2f |\n' "$kind" "${names[$i]}" \
		    "$(echo "$size / 1000000 / $med" | bc -l)" "$ratio" "$med"
	done
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "zstd $(zstd -V | grep -o 'v[0-9.]*' | head -1), lz4 $(lz4 -V 2>&1 | grep -o 'v[0-9.]*' | head -1), $(brotli --version 2>&1 | head -1)"
echo "input $SIZE per kind, $RUNS timed runs, median; files in $SHM"
echo
echo "| data | command | MB/s | ratio | median s |"
echo "|------|---------|-----:|------:|---------:|"

for kind in text-like random; do
	f="$DIR/$kind.in"
	"$GEN" "$kind" "$SIZE" > "$f"

	names=() cmds=()
	add raw-pchunk-pjoin 'pchunk "$F" | pjoin --payload > "$OUT"'
	add pcompress-zstd-3-T2 'pchunk "$F" | pcompress --zstd -l 3 -T 2 | pjoin --payload > "$OUT"'
	add zstd-3-T2 'zstd -q -3 -T2 -c "$F" > "$OUT"'
	add zstd-3 'zstd -q -3 -c "$F" > "$OUT"'
	add pcompress-zstd-1-T2 'pchunk "$F" | pcompress --zstd -l 1 -T 2 | pjoin --payload > "$OUT"'
	add zstd-1 'zstd -q -1 -c "$F" > "$OUT"'
	add pcompress-lz4-1-T2 'pchunk "$F" | pcompress --lz4 -T 2 | pjoin --payload > "$OUT"'
	add lz4-1 'lz4 -q -1 -c "$F" > "$OUT"'
	add pcompress-brotli-5-T2 'pchunk "$F" | pcompress --brotli -l 5 -T 2 > "$OUT"'
	add brotli-q5 'brotli -q 5 -c "$F" > "$OUT"'
	run_group "$kind" "$f"

	# decompression: saved streams against the stock tools' own files
	for a in zstd lz4 brotli; do
		pchunk "$f" | pcompress --$a -T 2 > "$DIR/$kind.$a.pfs"
	done
	cp "$DIR/$kind.zstd-3-T2" "$DIR/$kind.zst"
	cp "$DIR/$kind.lz4-1" "$DIR/$kind.lz4"
	cp "$DIR/$kind.brotli-q5" "$DIR/$kind.br"
	rm -f "$DIR/$kind".{pcompress,zstd,lz4,brotli,raw}-*
	names=() cmds=()
	add d-pcompress-zstd-T2 "pcompress -d -T 2 < '$DIR/$kind.zstd.pfs' | pjoin > \"\$OUT\""
	add d-zstd "zstd -q -d -c '$DIR/$kind.zst' > \"\$OUT\""
	add d-pcompress-lz4-T2 "pcompress -d -T 2 < '$DIR/$kind.lz4.pfs' | pjoin > \"\$OUT\""
	add d-lz4 "lz4 -q -d -c '$DIR/$kind.lz4' > \"\$OUT\""
	add d-pcompress-brotli-T2 "pcompress -d -T 2 < '$DIR/$kind.brotli.pfs' | pjoin > \"\$OUT\""
	add d-brotli "brotli -d -c '$DIR/$kind.br' > \"\$OUT\""
	run_group "$kind" "$f"
	rm -f "$DIR/$kind".*

	if [ "$kind" = text-like ] && [ "${CHUNKS:-1}" = 1 ]; then
		"$GEN" "$kind" "$SIZE" > "$f"
		names=() cmds=()
		for s in 1M 2M 4M 8M; do
			add "pcompress-zstd-3-T2-s$s" "pchunk -s $s \"\$F\" | pcompress --zstd -l 3 -T 2 | pjoin --payload > \"\$OUT\""
		done
		add zstd-3-T2 'zstd -q -3 -T2 -c "$F" > "$OUT"'
		run_group "$kind" "$f"
		rm -f "$DIR/$kind".*
	fi
done

# The chunk-size sweep on real data (issue 12): generated text has none of the
# long-range redundancy of real files, so it hides what small chunks cost.
# CHUNK_REAL="DIR..." (default /usr/include; "none" to skip) is tarred on the
# fly into the tmpfs; every codec against its stock tool at 1M..16M.
CHUNK_REAL=${CHUNK_REAL:-/usr/include}
[ "$CHUNK_REAL" = none ] && CHUNK_REAL=
if [ "${CHUNKS:-1}" = 1 ]; then
	for d in $CHUNK_REAL; do
		[ -d "$d" ] || { echo "bench: $d is not a directory: skipped" >&2; continue; }
		kind="tar${d//\//-}"   # tar-usr-include: also a file name
		f="$DIR/real.in"
		tar -C / -cf - "${d#/}" 2>/dev/null > "$f" || [ -s "$f" ] || continue
		names=() cmds=()
		for s in 1M 2M 4M 8M 16M; do
			add "pcompress-zstd-3-T2-s$s" "pchunk -s $s \"\$F\" | pcompress --zstd -l 3 -T 2 | pjoin --payload > \"\$OUT\""
		done
		add zstd-3-T2 'zstd -q -3 -T2 -c "$F" > "$OUT"'
		for s in 1M 4M 8M; do
			add "pcompress-lz4-T2-s$s" "pchunk -s $s \"\$F\" | pcompress --lz4 -T 2 | pjoin --payload > \"\$OUT\""
		done
		add lz4-1 'lz4 -q -1 -c "$F" > "$OUT"'
		for s in 1M 4M 8M 16M; do
			add "pcompress-brotli-5-T2-s$s" "pchunk -s $s \"\$F\" | pcompress --brotli -l 5 -T 2 > \"\$OUT\""
		done
		add brotli-q5 'brotli -q 5 -c "$F" > "$OUT"'
		run_group "$kind" "$f"
		rm -f "$DIR/real".* "$DIR/$kind".*
	done
fi
