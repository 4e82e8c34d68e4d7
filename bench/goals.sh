#!/usr/bin/env bash
# bench/goals.sh - the throughput, size and memory goals of the pipeline at
# its defaults, against the stock tools, side by side in one run; optionally
# a second (older) build in the same alternating loop, for before/after.
#
#   bash bench/goals.sh                         # this build
#   OLD_BIN=/tmp/old/build/release/bin OLD_KEY=--key-file bash bench/goals.sh
#   RUNS=7 GOALS_INPUTS="inc random" bash bench/goals.sh
#
# Inputs, made on the fly in /dev/shm (warm): inc = tar of /usr/include
# (real, redundant), doc = tar of /usr/share/doc, text = testdata/gen
# text-like 128M, random = gen random 128M.  Every command of one input runs
# once untimed (sizes), then RUNS rounds in which all commands alternate;
# the median wall time is kept.  MB/s = input bytes (10^6) / median.  The
# ratio of the fastest runs is there too: on a shared 2-core machine the
# same build's median moves by up to 15 % between runs, and noise only
# ever adds time.  The
# stock rows are what a user would type instead.  Peak RSS (KiB) is of each
# stage alone on its saved input stream (GNU time), next to zstd -3 -T2's;
# pcompress at the default (zstd) and with --lz4.
# The zstd and lz4 rows end in `pjoin --payload` (a .zst / .lz4 file);
# Brotli streams do not concatenate, so pjoin --payload refuses a Brotli
# stream of several chunks: the brotli rows end at pcompress (the pjoin hop
# costs nothing measurable at Brotli's speed) and their size is the payload
# bytes of the stream (pinfo --json of the build that wrote it: the
# chunks' Brotli streams, without frame headers).  Brotli runs as `pipeline process
# --brotli` runs it: 32 MiB chunks, pcompress streaming them on one thread.
#
# Settings: RUNS (5), GOALS_INPUTS ("inc doc text random"), PFS_BIN,
# OLD_BIN (an older build: its rows are prefixed "old"), OLD_KEY (the
# option that reads a 64-hex-digit key file in the old build; the new one
# uses --raw-key-file), OLD_BROTLI_PCHUNK and OLD_BROTLI_PCOMPRESS (the
# options of the old brotli row: by default none and " -T 2", 8 MiB
# chunks on two workers, as pipeline ran it before).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NEW=${PFS_BIN:-$ROOT/build/release/bin}
OLD=${OLD_BIN:-}
OLD_KEY=${OLD_KEY:---key-file}
RUNS=${RUNS:-5}
INPUTS=${GOALS_INPUTS:-inc doc text random}
GEN=$ROOT/testdata/gen
[ -x "$GEN" ] || GEN=$NEW/gen
DIR=$(mktemp -d /dev/shm/pfs-goals.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
export PFS_STATS=

printf '%064d\n' 7 > "$DIR/hex.key"
chmod 600 "$DIR/hex.key"
HEXKEY=$(head -c 64 "$DIR/hex.key")
IV=$(printf '%032d' 1)

make_input() {
	case $1 in
	inc) tar -cf - /usr/include 2>/dev/null ;;
	doc) tar -cf - /usr/share/doc 2>/dev/null ;;
	text) "$GEN" text-like 128M ;;
	random) "$GEN" random 128M ;;
	esac > "$DIR/$1"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# rows NAME CMD: CMD is bash reading $F (input) and writing stdout
names=() cmds=()
row() { names+=("$1"); cmds+=("$2"); }

tool_rows() {     # tool_rows PREFIX BIN KEYOPT BROTLI-PCHUNK BROTLI-PCOMPRESS
	local p=$1 b=$2 k=$3 bc=$4 bp=$5
	row "${p}zstd"     "$b/pchunk \$F | $b/pcompress --zstd -l 3 -T 2 | $b/pjoin --payload"
	row "${p}lz4"      "$b/pchunk \$F | $b/pcompress --lz4 -T 2 | $b/pjoin --payload"
	row "${p}brotli"   "$b/pchunk $bc\$F | $b/pcompress --brotli -l 5$bp"
	row "${p}pencrypt" "$b/pchunk \$F | $b/pencrypt $k \$D/hex.key | $b/pjoin --payload"
	row "${p}hop"      "$b/pchunk \$F | $b/pjoin"
	row "${p}forward"  "$b/pchunk \$F | $b/pcompress --zstd -l 3 -T 2 | $b/pencrypt $k \$D/hex.key | $b/phash"
	row "${p}back"     "$b/phash --check \$D/${p}forward.out | $b/pencrypt -d $k \$D/hex.key | $b/pcompress -d -T 2 | $b/pjoin"
	row "${p}unzstd"   "$b/pcompress -d -T 2 < \$D/${p}zstd.pfs | $b/pjoin"
}

stock_rows() {
	row "stock-zstd"     "zstd -3 -T2 -c \$F"
	row "stock-lz4"      "lz4 -1 -c \$F"
	row "stock-brotli"   "brotli -q 5 -c \$F"
	row "stock-pencrypt" "openssl enc -aes-256-ctr -K $HEXKEY -iv $IV < \$F"
	row "stock-hop"      "cat \$F | cat"
	row "stock-forward"  "zstd -3 -T2 -c \$F | openssl enc -aes-256-ctr -K $HEXKEY -iv $IV | tee >(openssl dgst -sha256 > /dev/null)"
	row "stock-back"     "tee >(openssl dgst -sha256 > /dev/null) < \$D/stock-forward.out | openssl enc -d -aes-256-ctr -K $HEXKEY -iv $IV | zstd -d -c"
	row "stock-unzstd"   "zstd -d -c \$D/stock-zstd.out"
}

stock_rows
# Brotli as pipeline runs it: 32 MiB chunks, streamed on one thread; the
# old build as it ran then (OLD_BROTLI_*: its pchunk and pcompress options)
tool_rows "" "$NEW" --raw-key-file "-s 32M " ""
[ -n "$OLD" ] && tool_rows "old-" "$OLD" "$OLD_KEY" "${OLD_BROTLI_PCHUNK-}" \
                           "${OLD_BROTLI_PCOMPRESS- -T 2}"

printf '| input | row | MB/s | size / input | vs stock MB/s | vs stock, fastest runs | vs stock size |\n'
printf '|---|---|---|---|---|---|---|\n'
for in in $INPUTS; do
	make_input "$in"
	F=$DIR/$in
	size=$(stat -c %s "$F")
	declare -A t=() osz=()
	# the unzstd rows read a saved stream
	"$NEW/pchunk" "$F" | "$NEW/pcompress" --zstd -l 3 -T 2 > "$DIR/zstd.pfs"
	if [ -n "$OLD" ]; then
		"$OLD/pchunk" "$F" | "$OLD/pcompress" --zstd -l 3 -T 2 > "$DIR/old-zstd.pfs"
	fi
	# untimed: sizes, and the inputs of the back rows
	for i in "${!names[@]}"; do
		n=${names[$i]}
		F=$F D=$DIR bash -o pipefail -c "${cmds[$i]}" > "$DIR/$n.out"
		case $n in
		brotli|old-brotli)   # a .pfs stream: its payload bytes,
			pi=$NEW/pinfo        # by the pinfo that reads it
			[ "$n" = old-brotli ] && pi=$OLD/pinfo
			osz[$n]=$("$pi" --json < "$DIR/$n.out" |
			          sed -n 's/.*"payload_bytes":\([0-9]*\).*/\1/p') ;;
		*)	osz[$n]=$(stat -c %s "$DIR/$n.out") ;;
		esac
	done
	for ((r = 0; r < RUNS; r++)); do
		for i in "${!names[@]}"; do
			t0=$(date +%s%N)
			F=$F D=$DIR bash -o pipefail -c "${cmds[$i]}" > /dev/null
			t1=$(date +%s%N)
			t[$i]+="$(( (t1 - t0) / 1000 )) "
		done
	done
	declare -A mbs=() best=()
	for i in "${!names[@]}"; do
		med=$(tr ' ' '\n' <<<"${t[$i]}" | grep . | median)
		min=$(tr ' ' '\n' <<<"${t[$i]}" | grep . | sort -g | head -n 1)
		mbs[${names[$i]}]=$(echo "scale=1; $size / $med" | bc)
		best[${names[$i]}]=$(echo "scale=1; $size / $min" | bc)
	done
	for i in "${!names[@]}"; do
		n=${names[$i]}
		base=${n#old-}; base=${base#stock-}
		s=stock-$base
		ratio=$(echo "scale=4; ${osz[$n]} / $size" | bc | sed 's/^\./0./')
		vs=$(echo "scale=2; ${mbs[$n]} / ${mbs[$s]}" | bc | sed 's/^\./0./')
		vsb=$(echo "scale=2; ${best[$n]} / ${best[$s]}" | bc | sed 's/^\./0./')
		case $base in
		zstd|lz4|brotli) vsz=$(echo "scale=4; ${osz[$n]} / ${osz[$s]}" | bc | sed 's/^\./0./') ;;
		*) vsz="" ratio="" ;;
		esac
		printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$in" "$n" "${mbs[$n]}" \
		       "$ratio" "$vs" "$vsb" "$vsz"
	done
	unset t osz mbs best
done

# peak RSS of each stage alone on its saved input, and of zstd -3 -T2
rss() { /usr/bin/time -f %M bash -c "$1" 2>&1 >/dev/null | tail -1; }
printf '\n| input | zstd -3 -T2 | pchunk | pcompress | pencrypt | phash | pjoin | pcompress -d | pcompress --lz4 | pcompress --brotli | pcompress -d (brotli) |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
for in in $INPUTS; do
	make_input "$in"
	F=$DIR/$in
	B=$NEW
	$B/pchunk "$F" > "$DIR/c.pfs"
	$B/pcompress --zstd -T 2 < "$DIR/c.pfs" > "$DIR/z.pfs"
	$B/pencrypt --raw-key-file "$DIR/hex.key" < "$DIR/z.pfs" > "$DIR/e.pfs"
	$B/phash < "$DIR/e.pfs" > "$DIR/h.pfs"
	$B/pchunk -s 32M "$F" > "$DIR/c32.pfs"
	$B/pcompress --brotli < "$DIR/c32.pfs" > "$DIR/b.pfs"
	printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$in" \
	    "$(rss "zstd -3 -T2 -c $F")" \
	    "$(rss "$B/pchunk $F")" \
	    "$(rss "$B/pcompress --zstd -T 2 < $DIR/c.pfs")" \
	    "$(rss "$B/pencrypt --raw-key-file $DIR/hex.key < $DIR/z.pfs")" \
	    "$(rss "$B/phash < $DIR/e.pfs")" \
	    "$(rss "$B/pjoin < $DIR/h.pfs")" \
	    "$(rss "$B/pcompress -d -T 2 < $DIR/z.pfs")" \
	    "$(rss "$B/pcompress --lz4 -T 2 < $DIR/c.pfs")" \
	    "$(rss "$B/pcompress --brotli < $DIR/c32.pfs")" \
	    "$(rss "$B/pcompress -d < $DIR/b.pfs")"
done
