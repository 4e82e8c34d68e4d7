#!/usr/bin/env bash
# bench/ratio.sh - compressed size against the stock tools, and the peak RSS
# of every stage against `zstd -3 -T2`, on real and generated data (issue 12).
# `make bench` (bench/run.sh) runs it after the speed table with its own
# settings; it also runs alone:
#
#   bash bench/ratio.sh                       # tars of system dirs + generated
#   BENCH_CHUNK=8M bash bench/ratio.sh        # at another chunk size
#   BENCH_REAL_SIZE=16M BENCH_KINDS=text-like BENCH_SIZE=16M bash bench/ratio.sh
#
# Settings (environment; empty means the default):
#   BENCH_REAL="DIR..."  directories tarred on the fly into SHM, one input
#                     each (default "/usr/include /usr/share/doc
#                     /usr/lib/python3": a C header tree, mostly precompressed
#                     docs, Python sources; missing ones are skipped); "none"
#                     for no real input
#   BENCH_REAL_SIZE=SIZE  keep only the first SIZE bytes of each tar (default:
#                     all of it)
#   BENCH_KINDS=...   generated kinds (testdata/gen; default "random text-like
#                     mixed"), BENCH_SIZE=SIZE bytes each (default 256M)
#   BENCH_CHUNK=SIZE  pchunk -s SIZE (default: pchunk's own choice)
#   BENCH_THREADS=N   -T of pcompress, pencrypt and zstd (default 2)
#   RATIO_OUT=FILE    write the raw numbers (TSV) there
#   RATIO_BASELINE=FILE  a RATIO_OUT file of an earlier run: its size ratios
#                     are printed under this run's, input by input
#   SHM=DIR, PFS_BIN=DIR  as for bench/run.sh
#
# Method: every input is written to SHM (a tmpfs: warm) once.  Sizes are
# exact: the payload bytes of `pchunk f | pcompress --zstd -l 3 -T 2`
# (and --lz4 -l 1, and `pchunk -s 32M f | pcompress --brotli -l 5`, as
# pipeline runs Brotli), the sum of the DATA payloads that
# `pinfo --json` counts (payload_bytes), against `zstd -3 -T2`, `lz4 -1`,
# `brotli -q 5` on the same file; ratio = pfs bytes / stock bytes (the goal
# is <= 1.02, '!' marks a miss).  For zstd and lz4 that is byte for byte the
# .zst / .lz4 file `pjoin --payload` writes; Brotli streams do not
# concatenate, so pjoin --payload refuses a Brotli stream of several chunks
# and its figure is the sum of the chunks' Brotli streams (what a .pfs
# file holds, without the 32-byte frame headers and the HEAD).  Peak RSS is
# /usr/bin/time -f %M of each process of those pipelines, and of `pchunk f |
# pencrypt --key-file k -T 2 | pjoin --payload` and `pchunk f | phash -a
# sha256 | pjoin`: for pchunk the largest over the pipelines, for pjoin
# over the last two.  '!' marks a stage above `zstd -3 -T2` on the same
# input.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PFS_BIN=${PFS_BIN:-$ROOT/build/release/bin}
SHM=${SHM:-/dev/shm}
BENCH_REAL=${BENCH_REAL:-/usr/include /usr/share/doc /usr/lib/python3}
[ "$BENCH_REAL" = none ] && BENCH_REAL=
BENCH_REAL_SIZE=${BENCH_REAL_SIZE:-}
BENCH_KINDS=${BENCH_KINDS-random text-like mixed}
BENCH_SIZE=${BENCH_SIZE:-256M}
BENCH_CHUNK=${BENCH_CHUNK:-}
T=${BENCH_THREADS:-2}
RATIO_OUT=${RATIO_OUT:-}
RATIO_BASELINE=${RATIO_BASELINE:-}

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

bytes() {
	local n=${1%[KkMmGg]}
	[[ $n =~ ^[0-9]+$ ]] || die "bad size '$1'"
	case $1 in
	*[Kk]) echo $((n << 10)) ;;
	*[Mm]) echo $((n << 20)) ;;
	*[Gg]) echo $((n << 30)) ;;
	*) echo "$n" ;;
	esac
}
human() { # bytes as 1M, 512K, ...
	local b=$1
	if [ $((b % 1048576)) -eq 0 ]; then echo "$((b / 1048576))M"
	elif [ $((b % 1024)) -eq 0 ]; then echo "$((b / 1024))K"
	else echo "$b"; fi
}
NBYTES=$(bytes "$BENCH_SIZE")
REALBYTES=0
[ -n "$BENCH_REAL_SIZE" ] && REALBYTES=$(bytes "$BENCH_REAL_SIZE")
[[ $T =~ ^[1-9][0-9]*$ ]] || die "BENCH_THREADS must be a positive integer"

for t in pchunk pcompress phash pjoin pinfo; do
	[ -x "$PFS_BIN/$t" ] || die "$PFS_BIN/$t missing: run make (or set PFS_BIN)"
done
for t in zstd lz4 brotli tar /usr/bin/time; do
	command -v "$t" >/dev/null || die "$t not installed: run 'sh tests/deps.sh bench'"
done
HAVE_PENCRYPT=
[ -x "$PFS_BIN/pencrypt" ] && HAVE_PENCRYPT=1
GEN=$PFS_BIN/gen
[ -x "$GEN" ] || GEN=$ROOT/testdata/gen
export PATH="$PFS_BIN:$PATH"
export PFS_STATS=
export LC_ALL=C

DIR=$(mktemp -d "$SHM/pfs-ratio.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
trap 'exit 130' INT TERM
CHUNKOPT=${BENCH_CHUNK:+-s $BENCH_CHUNK}
# Brotli as pipeline runs it: 32 MiB chunks, pcompress streaming them on one
# thread (no -T); BENCH_CHUNK, when set, is used for it too
BROTLI_CHUNKOPT=${BENCH_CHUNK:+-s $BENCH_CHUNK}
BROTLI_CHUNKOPT=${BROTLI_CHUNKOPT:--s 32M}
KEY=$DIR/key
if [ -n "$HAVE_PENCRYPT" ]; then
	pencrypt --keygen -o "$KEY" || die "pencrypt --keygen -o failed"
fi

RAW=$DIR/raw.tsv      # size|rss INPUT ...
: > "$RAW"

# rss FILE: the peak RSS (KiB) /usr/bin/time wrote to FILE
rss() { tail -n 1 "$1"; }
# payload_bytes < STREAM: the sum of its DATA payload lengths (pinfo --json)
payload_bytes() { pinfo --json | sed -n 's/.*"payload_bytes":\([0-9]*\).*/\1/p'; }
TIME="/usr/bin/time -f %M -o"

# one INPUT-NAME FILE: every measurement on one input
one() {
	local name=$1 f=$2 size chunk c pfs stock pj=0 pc=0 r
	size=$(stat -c %s "$f")
	chunk=$(pchunk $CHUNKOPT "$f" | pinfo --json | sed -n 's/.*"chunk_size":\([0-9]*\).*/\1/p')
	[ -n "$chunk" ] || die "$name: pinfo gave no chunk size"
	for c in "zstd -l 3:zstd -q -3 -T$T -c:zstd-3" "lz4 -l 1:lz4 -q -1 -c:lz4-1" \
	         "brotli -l 5:brotli -q 5 -c:brotli-5"; do
		IFS=: read -r ours theirs label <<< "$c"
		copt=$CHUNKOPT topt="-T $T"
		[ "$label" = brotli-5 ] && copt=$BROTLI_CHUNKOPT topt=
		pfs=$($TIME "$DIR/r.c" pchunk $copt "$f" |
		      $TIME "$DIR/r.s" pcompress --$ours $topt | payload_bytes) ||
			die "$name: pchunk | pcompress --$ours | pinfo --json failed"
		[ -n "$pfs" ] || die "$name: pinfo --json gave no payload_bytes"
		stock=$($TIME "$DIR/r.t" $theirs "$f" | wc -c) ||
			die "$name: $theirs failed"
		printf 'size\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$size" "$chunk" \
		    "$label" "$pfs" "$stock" >> "$RAW"
		printf 'rss\t%s\t%s\t%s\tpcompress-%s\t%s\n' "$name" "$size" "$chunk" \
		    "${ours%% *}" "$(rss "$DIR/r.s")" >> "$RAW"
		printf 'rss\t%s\t%s\t%s\t%s\t%s\n' "$name" "$size" "$chunk" \
		    "$(if [ "$label" = zstd-3 ]; then echo "zstd-3-T$T"; else echo "$label"; fi)" \
		    "$(rss "$DIR/r.t")" >> "$RAW"
		r=$(rss "$DIR/r.c"); [ "$r" -gt "$pc" ] && pc=$r
	done
	if [ -n "$HAVE_PENCRYPT" ]; then
		$TIME "$DIR/r.c" pchunk $CHUNKOPT "$f" |
		    $TIME "$DIR/r.s" pencrypt --key-file "$KEY" -T "$T" |
		    $TIME "$DIR/r.j" pjoin --payload > /dev/null ||
			die "$name: pchunk | pencrypt | pjoin --payload failed"
		printf 'rss\t%s\t%s\t%s\tpencrypt\t%s\n' "$name" "$size" "$chunk" \
		    "$(rss "$DIR/r.s")" >> "$RAW"
		r=$(rss "$DIR/r.c"); [ "$r" -gt "$pc" ] && pc=$r
		r=$(rss "$DIR/r.j"); [ "$r" -gt "$pj" ] && pj=$r
	fi
	$TIME "$DIR/r.c" pchunk $CHUNKOPT "$f" | $TIME "$DIR/r.s" phash -a sha256 |
	    $TIME "$DIR/r.j" pjoin > /dev/null ||
		die "$name: pchunk | phash | pjoin failed"
	printf 'rss\t%s\t%s\t%s\tphash\t%s\n' "$name" "$size" "$chunk" "$(rss "$DIR/r.s")" >> "$RAW"
	r=$(rss "$DIR/r.c"); [ "$r" -gt "$pc" ] && pc=$r
	r=$(rss "$DIR/r.j"); [ "$r" -gt "$pj" ] && pj=$r
	printf 'rss\t%s\t%s\t%s\tpchunk\t%s\n' "$name" "$size" "$chunk" "$pc" >> "$RAW"
	printf 'rss\t%s\t%s\t%s\tpjoin\t%s\n' "$name" "$size" "$chunk" "$pj" >> "$RAW"
}

INPUTS=()
for d in $BENCH_REAL; do
	if [ ! -d "$d" ]; then
		note "ratio: $d is not a directory here: skipped"
		continue
	fi
	f=$DIR/real.in
	# tar stops early (SIGPIPE) under head -c: only the size written counts
	if [ "$REALBYTES" -gt 0 ]; then
		(tar -C / -cf - "${d#/}" 2>/dev/null || true) | head -c "$REALBYTES" > "$f"
	else
		tar -C / -cf - "${d#/}" 2>/dev/null > "$f" || [ -s "$f" ] ||
			die "tar of $d failed"
	fi
	[ -s "$f" ] || { note "ratio: the tar of $d is empty: skipped"; continue; }
	note "ratio: tar:$d ($(stat -c %s "$f") bytes)"
	one "tar:$d" "$f"
	INPUTS+=("tar:$d")
	rm -f "$f"
done
for k in $BENCH_KINDS; do
	f=$DIR/gen.in
	"$GEN" "$k" "$NBYTES" > "$f" || die "testdata/gen $k $NBYTES failed"
	note "ratio: $k ($NBYTES bytes)"
	one "$k" "$f"
	INPUTS+=("$k")
	rm -f "$f"
done

if [ -n "$RATIO_OUT" ]; then
	{
		echo "# pfs bench ratio $(date -u +%Y%m%d-%H%M%S)"
		echo "# rev: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
		echo "# chunk: ${BENCH_CHUNK:-default}"
		echo "# threads: $T"
		printf 'what\tinput\tbytes\tchunk\titem\tvalue\tstock\n'
		cat "$RAW"
	} > "$RATIO_OUT"
fi

# --- the tables ---------------------------------------------------------------
BASEARG=/dev/null
[ -n "$RATIO_BASELINE" ] && [ -r "$RATIO_BASELINE" ] && BASEARG=$RATIO_BASELINE
echo
echo "compressed size: pfs payload bytes / the stock tool's bytes on the same input"
echo "(pchunk ${BENCH_CHUNK:+-s $BENCH_CHUNK }| pcompress ... -T $T, payload bytes, against zstd -3 -T$T," \
     "lz4 -1, brotli -q 5; goal <= 1.02, '!' above; brotli as pipeline runs it:" \
     "pchunk $BROTLI_CHUNKOPT | pcompress --brotli, streamed)"
awk -F'\t' -v base="$BASEARG" -v bname="${RATIO_BASELINE:+$(basename "$RATIO_BASELINE" .ratio.tsv)}" '
BEGIN {
	while ((getline l < base) > 0) {
		split(l, f, "\t")
		if (f[1] == "size") {
			bk = f[2] SUBSEP f[5]
			br[bk] = f[7] > 0 ? f[6] / f[7] : 0; bsz[bk] = f[3]; bch[f[2]] = f[4]
		}
	}
	printf "  %-24s %8s %6s %10s %10s %10s\n", "input", "MiB", "chunk", "zstd-3", "lz4-1", "brotli-5"
}
$1 == "size" {
	if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2; mib[$2] = $3 / 1048576; ch[$2] = $4 }
	r[$2 SUBSEP $5] = $7 > 0 ? $6 / $7 : 0; sz[$2 SUBSEP $5] = $3
}
function human(b) {
	return b % 1048576 == 0 ? (b / 1048576) "M" : b % 1024 == 0 ? (b / 1024) "K" : b
}
function cell(v) { return sprintf("%8.4f%s", v, v > 1.02 ? " !" : "  ") }
END {
	for (i = 1; i <= n; i++) {
		k = order[i]; line = sprintf("  %-24s %8.1f %6s", k, mib[k], human(ch[k]))
		for (c = 1; c <= 3; c++) {
			codec = c == 1 ? "zstd-3" : c == 2 ? "lz4-1" : "brotli-5"
			line = line " " ((k SUBSEP codec) in r ? cell(r[k SUBSEP codec]) : sprintf("%10s", "-"))
		}
		print line
		if (bname == "" || !(k in bch)) continue
		line = sprintf("  %-24s %8s %6s", "  (baseline " bname ")", "", human(bch[k]))
		for (c = 1; c <= 3; c++) {
			codec = c == 1 ? "zstd-3" : c == 2 ? "lz4-1" : "brotli-5"
			bk = k SUBSEP codec
			if (!(bk in br)) { line = line sprintf(" %10s", "-"); continue }
			line = line " " cell(br[bk])
			if (bsz[bk] != sz[bk]) diffsize = 1
		}
		print line
	}
	if (diffsize)
		print "  (the baseline measured some inputs at another size: compare with care)"
}' "$RAW"

echo
echo "peak RSS (MB) of every stage, -T $T, against zstd -3 -T$T on the same input ('!' above it)"
awk -F'\t' -v penc="${HAVE_PENCRYPT:+1}" -v zt="zstd-3-T$T" '
$1 == "rss" {
	if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2; ch[$2] = $4 }
	v[$2 SUBSEP $5] = $6
}
function human(b) {
	return b % 1048576 == 0 ? (b / 1048576) "M" : b % 1024 == 0 ? (b / 1024) "K" : b
}
END {
	np = split("pchunk pcompress-zstd pcompress-lz4 pcompress-brotli" (penc ? " pencrypt" : "") " phash pjoin", P, " ")
	ns = split(zt " lz4-1 brotli-5", S, " ")
	hdr = sprintf("  %-24s %6s", "input", "chunk")
	for (j = 1; j <= np; j++) {
		h = P[j]; sub(/^pcompress-/, "pc-", h); hdr = hdr sprintf(" %10s", h)
	}
	hdr = hdr "  |"
	for (j = 1; j <= ns; j++) hdr = hdr sprintf(" %10s", S[j])
	print hdr
	for (i = 1; i <= n; i++) {
		k = order[i]; z = v[k SUBSEP zt]
		line = sprintf("  %-24s %6s", k, human(ch[k]))
		for (j = 1; j <= np; j++) {
			key = k SUBSEP P[j]
			if (!(key in v)) { line = line sprintf(" %10s", "-"); continue }
			line = line sprintf(" %8.1f%s", v[key] / 1024, v[key] > z + 0 ? " !" : "  ")
		}
		line = line "  |"
		for (j = 1; j <= ns; j++) {
			key = k SUBSEP S[j]
			line = line ((key in v) ? sprintf(" %8.1f  ", v[key] / 1024) : sprintf(" %10s", "-"))
		}
		sub(/ +$/, "", line)
		print line
	}
}' "$RAW"
