#!/usr/bin/env bash
# bench/run.sh [NAME=VALUE]... - `make bench`: every stage timed alone on its
# saved input stream, the whole pipeline end to end, and the stock tools side
# by side in the same run.
#
#   make bench                      # 256 MiB of random, text-like and mixed data
#   make bench QUICK=1              # 16 MiB per kind, one run: well under a minute
#   make bench SAVE=before          # also save the results as a baseline
#   make bench BASELINE=before      # print the change against that baseline
#   PFS_BIN=build/release/bin bash bench/run.sh QUICK=1 BENCH_KINDS=text-like
#
# Settings (as NAME=VALUE arguments or in the environment; an empty value
# means the default):
#   QUICK=1           small inputs (16 MiB) and one run per command
#   BENCH_SIZE=SIZE   bytes per kind, K/M/G suffixes (default 256M; QUICK 16M)
#   RUNS=N            timed runs per command, the median is kept (default 5;
#                     QUICK 1)
#   BENCH_KINDS=...   data kinds of testdata/gen (default "random text-like
#                     mixed")
#   BENCH_ONLY=ERE    only the rows whose name matches (and their stock
#                     counterparts), e.g. 'pcompress-(d-)?zstd'
#   BENCH_CHUNK=SIZE  pchunk -s SIZE for every stream (default: pchunk's own)
#   BENCH_THREADS=N   -T of pcompress, zstd -T (default 2)
#   SAVE=NAME         save the results as bench/baselines/NAME.tsv
#   BASELINE=NAME     compare with bench/baselines/NAME.tsv (or a path)
#   BENCH_NOISE=PCT   smallest change flagged against a baseline (default 5)
#   BENCH_OUT=DIR     results directory (default bench/out)
#   BENCH_BASELINE_DIR=DIR  baselines directory (default bench/baselines)
#   SHM=DIR           where the inputs and streams live (default /dev/shm)
#   PFS_BIN=DIR       the built tools (default build/release/bin)
#   BENCH_NODEPS=1    do not run tests/deps.sh bench first
#   BENCH_RATIO=0|1   the size-and-memory section (bench/ratio.sh) after the
#                     speed table: compressed size of every codec against
#                     its stock tool and the peak RSS of every stage against
#                     zstd -3 -T2, on real data (tars of system directories
#                     made on the fly) and on the generated kinds (default 1;
#                     0 when BENCH_ONLY is set)
#   BENCH_REAL="DIR..."  directories tarred for it (default "/usr/include
#                     /usr/share/doc /usr/lib/python3"; "none": generated only)
#   BENCH_REAL_SIZE=SIZE  first SIZE bytes of each tar (default all; QUICK 16M)
#
# Method: the inputs are generated with testdata/gen on a tmpfs (SHM) and read
# once; each stage's input stream is saved once (chunked, compressed,
# encrypted, hashed, fully processed), and the stock tools' own files
# likewise.  Every command then runs once untimed under /usr/bin/time -f %M
# (its peak RSS: the largest process of the command, a warm-up too), and
# RUNS timed rounds follow; each round is one hyperfine call running every
# command of the kind once, so compared commands alternate.  MB/s is the
# ORIGINAL data size (10^6 bytes) over the median wall time, for every row,
# decompression and decryption included, so that ratios are time ratios.
# ratio = our MB/s / the stock counterpart's MB/s (> 1: pfs is faster).
#
# Output: the table on stdout; bench/out/bench-DATE.tsv (and latest.tsv);
# bench/out/history.png, MB/s of every row over all the runs there
# (bench/history-chart.sh, when gnuplot is installed);
# the hyperfine output in bench/out/hyperfine-DATE.log; the sizes and RSS of
# the ratio section in bench/out/bench-DATE.ratio.tsv (and latest.ratio.tsv),
# saved and compared with the baselines as NAME.ratio.tsv.  Exit status 1 when a
# command failed (its row is left out), 2 on bad usage.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

for arg in "$@"; do
	case $arg in
	QUICK=*|BENCH_SIZE=*|RUNS=*|BENCH_KINDS=*|BENCH_ONLY=*|BENCH_CHUNK=*|\
	BENCH_THREADS=*|SAVE=*|BASELINE=*|BENCH_NOISE=*|BENCH_OUT=*|\
	BENCH_BASELINE_DIR=*|SHM=*|PFS_BIN=*|BENCH_NODEPS=*|BENCH_RATIO=*|\
	BENCH_REAL=*|BENCH_REAL_SIZE=*)
		[ -z "${arg#*=}" ] || export "${arg%%=*}=${arg#*=}" ;;
	-h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench: unknown argument '$arg' (NAME=VALUE, see --help)" >&2; exit 2 ;;
	esac
done

QUICK=${QUICK:-0}
[ "$QUICK" = 0 ] && QUICK=
if [ -n "$QUICK" ]; then
	BENCH_SIZE=${BENCH_SIZE:-16M}
	RUNS=${RUNS:-1}
	BENCH_REAL_SIZE=${BENCH_REAL_SIZE:-16M}
else
	BENCH_SIZE=${BENCH_SIZE:-256M}
	RUNS=${RUNS:-5}
fi
BENCH_KINDS=${BENCH_KINDS:-random text-like mixed}
BENCH_ONLY=${BENCH_ONLY:-}
BENCH_CHUNK=${BENCH_CHUNK:-}
BENCH_THREADS=${BENCH_THREADS:-2}
BENCH_NOISE=${BENCH_NOISE:-5}
BENCH_OUT=${BENCH_OUT:-$ROOT/bench/out}
BENCH_BASELINE_DIR=${BENCH_BASELINE_DIR:-$ROOT/bench/baselines}
SHM=${SHM:-/dev/shm}
PFS_BIN=${PFS_BIN:-$ROOT/build/release/bin}
SAVE=${SAVE:-}
BASELINE=${BASELINE:-}
if [ -z "${BENCH_RATIO:-}" ]; then
	BENCH_RATIO=1
	[ -n "$BENCH_ONLY" ] && BENCH_RATIO=0
fi
[[ $BENCH_RATIO =~ ^[01]$ ]] || { echo "bench: BENCH_RATIO must be 0 or 1" >&2; exit 2; }

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "bench: RUNS must be a positive integer" >&2; exit 2; }
[[ $BENCH_THREADS =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_THREADS must be a positive integer" >&2; exit 2; }
[[ $BENCH_NOISE =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "bench: BENCH_NOISE must be a number (percent)" >&2; exit 2; }
case $SAVE in */*) echo "bench: SAVE takes a name, not a path" >&2; exit 2 ;; esac

# bytes SIZE - SIZE with an optional K/M/G suffix (powers of 1024) in bytes
bytes() {
	local n=${1%[KkMmGg]}
	[[ $n =~ ^[0-9]+$ ]] || { echo "bench: bad size '$1'" >&2; exit 2; }
	case $1 in
	*[Kk]) echo $((n << 10)) ;;
	*[Mm]) echo $((n << 20)) ;;
	*[Gg]) echo $((n << 30)) ;;
	*) echo "$n" ;;
	esac
}
NBYTES=$(bytes "$BENCH_SIZE")
[ "$NBYTES" -gt 0 ] || { echo "bench: BENCH_SIZE must be > 0" >&2; exit 2; }

baseline_file() {
	case $1 in
	*/*|*.tsv) echo "$1" ;;
	*) echo "$BENCH_BASELINE_DIR/$1.tsv" ;;
	esac
}
if [ -n "$BASELINE" ]; then
	BASEFILE=$(baseline_file "$BASELINE")
	[ -r "$BASEFILE" ] || die "no baseline '$BASELINE' ($BASEFILE); make one with SAVE=$BASELINE" \
	    "(saved: $(ls "$BENCH_BASELINE_DIR" 2>/dev/null | sed -n 's/\.tsv$//p' | tr '\n' ' '))"
fi

# --- tools ----------------------------------------------------------------
if [ "${BENCH_NODEPS:-}" != 1 ]; then
	sh "$ROOT/tests/deps.sh" bench || die "missing packages (see above)"
fi
for t in pchunk pcompress phash pjoin; do
	[ -x "$PFS_BIN/$t" ] || die "$PFS_BIN/$t missing: run make (or set PFS_BIN)"
done
HAVE_PENCRYPT=
if [ -x "$PFS_BIN/pencrypt" ]; then
	HAVE_PENCRYPT=1
else
	note "$PFS_BIN/pencrypt not built: its rows are skipped, process/restore run without it"
fi
for t in hyperfine zstd lz4 brotli openssl age age-keygen sha256sum xxhsum /usr/bin/time; do
	command -v "$t" >/dev/null || die "$t not installed: run 'sh tests/deps.sh bench'"
done
GEN=$PFS_BIN/gen
[ -x "$GEN" ] || GEN=$ROOT/testdata/gen
export PATH="$PFS_BIN:$PATH"
export PFS_STATS=   # the stats lines would only cost time here
export LC_ALL=C

[ -d "$SHM" ] && [ -w "$SHM" ] || die "SHM=$SHM is not a writable directory (a tmpfs is best)"
fstype=$(stat -f -c %T "$SHM")
[ "$fstype" = tmpfs ] || note "$SHM is $fstype, not a tmpfs: inputs may be evicted from the page cache"
# every kind keeps up to ~17 files of the input's size (random data does not
# shrink): the input, the saved streams, the stock tools' files
need=$((NBYTES / 1024 * 17))
avail=$(df -P -k "$SHM" | awk 'NR == 2 { print $4 }')
[ "$avail" -gt "$need" ] || die "$SHM has $((avail / 1024)) MiB free, about $((need / 1024)) MiB needed" \
    "(use a smaller BENCH_SIZE or another SHM)"

mkdir -p "$BENCH_OUT" || die "cannot create $BENCH_OUT"
STAMP=$(date -u +%Y%m%d-%H%M%S)
RESULTS=$BENCH_OUT/bench-$STAMP.tsv
HLOG=$BENCH_OUT/hyperfine-$STAMP.log
DIR=$(mktemp -d "$SHM/pfs-bench.XXXXXX")
cleanup() { rm -rf "$DIR"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

T=$BENCH_THREADS
CHUNKOPT=${BENCH_CHUNK:+-s $BENCH_CHUNK}
KEY=$DIR/key HEXKEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
IV=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
if [ -n "$HAVE_PENCRYPT" ]; then
	rm -f "$KEY"
	pencrypt --keygen -o "$KEY" || die "pencrypt --keygen failed"
fi
age-keygen -o "$DIR/age-id" 2>/dev/null || die "age-keygen failed"
AGE_R=$(age-keygen -y "$DIR/age-id") || die "age-keygen -y failed"

# --- the rows ---------------------------------------------------------------
# row NAME VS CMD: one command.  VS is the stock row it is compared with
# ("-" for a stock row itself).  In CMD, @F@ is the input file, @D@ the
# directory of the saved streams (KIND.*), @K@ the kind.
NAMES=() VSS=() CMDS=()
row() { NAMES+=("$1"); VSS+=("$2"); CMDS+=("$3"); }

ENC="pencrypt --key-file $KEY"
OSSL="openssl enc -aes-256-ctr -K $HEXKEY -iv $IV"
row pchunk            cat-cat      "pchunk $CHUNKOPT @F@ > /dev/null"
row pcompress-zstd    zstd-3       "pcompress --zstd -l 3 -T $T < @D@/@K@.chunked > /dev/null"
row pcompress-d-zstd  zstd-d       "pcompress -d -T $T < @D@/@K@.zstd.pfs > /dev/null"
row pcompress-lz4     lz4-1        "pcompress --lz4 -l 1 -T $T < @D@/@K@.chunked > /dev/null"
row pcompress-d-lz4   lz4-d        "pcompress -d -T $T < @D@/@K@.lz4.pfs > /dev/null"
row pcompress-brotli  brotli-5     "pcompress --brotli -l 5 -T $T < @D@/@K@.chunked > /dev/null"
row pcompress-d-brotli brotli-d    "pcompress -d -T $T < @D@/@K@.brotli.pfs > /dev/null"
if [ -n "$HAVE_PENCRYPT" ]; then
	row pencrypt-aes      openssl-ctr   "$ENC < @D@/@K@.chunked > /dev/null"
	row pencrypt-d-aes    openssl-ctr-d "$ENC -d < @D@/@K@.aes.pfs > /dev/null"
	row pencrypt-chacha   age-e         "$ENC --cipher chacha20-poly1305 < @D@/@K@.chunked > /dev/null"
	row pencrypt-d-chacha age-d         "$ENC -d < @D@/@K@.chacha.pfs > /dev/null"
fi
row phash-sha256      sha256sum    "phash -a sha256 < @D@/@K@.chunked > /dev/null"
row phash-check       sha256sum    "phash --check < @D@/@K@.sha256.pfs > /dev/null"
row phash-xxh3        xxhsum-H3    "phash -a xxh3 < @D@/@K@.chunked > /dev/null"
row pjoin             cat-cat      "pjoin < @D@/@K@.chunked > /dev/null"
if [ -n "$HAVE_PENCRYPT" ]; then
	row process       zstd+age     "pchunk $CHUNKOPT @F@ | pcompress --zstd -l 3 -T $T | $ENC | phash -a sha256 > /dev/null"
	row restore       age+zstd-d   "phash --check < @D@/@K@.full.pfs | $ENC -d | pcompress -d -T $T | pjoin > /dev/null"
else
	row process-noenc zstd-3       "pchunk $CHUNKOPT @F@ | pcompress --zstd -l 3 -T $T | phash -a sha256 > /dev/null"
	row restore-noenc zstd-d       "phash --check < @D@/@K@.full.pfs | pcompress -d -T $T | pjoin > /dev/null"
fi
# the stock tools, file to /dev/null as a user runs them
row cat-cat       - "cat @F@ | cat > /dev/null"
row zstd-3        - "zstd -q -3 -T$T -c @F@ > /dev/null"
row zstd-d        - "zstd -q -d -c @D@/@K@.zst > /dev/null"
row lz4-1         - "lz4 -q -1 -c @F@ > /dev/null"
row lz4-d         - "lz4 -q -d -c @D@/@K@.lz4 > /dev/null"
row brotli-5      - "brotli -q 5 -c @F@ > /dev/null"
row brotli-d      - "brotli -d -c @D@/@K@.br > /dev/null"
row openssl-ctr   - "$OSSL -in @F@ -out /dev/null"
row openssl-ctr-d - "$OSSL -d -in @D@/@K@.ossl -out /dev/null"
row age-e         - "age -r $AGE_R @F@ > /dev/null"
row age-d         - "age -d -i $DIR/age-id @D@/@K@.age > /dev/null"
row sha256sum     - "sha256sum @F@ > /dev/null"
row xxhsum-H3     - "xxhsum -H3 @F@ > /dev/null"
row zstd+age      - "zstd -q -3 -T$T -c @F@ | age -r $AGE_R > /dev/null"
row age+zstd-d    - "age -d -i $DIR/age-id @D@/@K@.zst.age | zstd -q -d > /dev/null"

# BENCH_ONLY: keep the matching rows and the stock rows they are compared with
SEL=()
for i in "${!NAMES[@]}"; do
	if [ -z "$BENCH_ONLY" ] || [[ ${NAMES[$i]} =~ $BENCH_ONLY ]]; then
		SEL+=("$i")
	fi
done
if [ -n "$BENCH_ONLY" ]; then
	for i in "${SEL[@]}"; do
		v=${VSS[$i]}
		[ "$v" = - ] && continue
		for j in "${!NAMES[@]}"; do
			if [ "${NAMES[$j]}" = "$v" ] && [[ " ${SEL[*]} " != *" $j "* ]]; then
				SEL+=("$j")
			fi
		done
	done
fi
[ "${#SEL[@]}" -gt 0 ] || die "BENCH_ONLY='$BENCH_ONLY' matches no row (rows: ${NAMES[*]})"

# --- saved streams ------------------------------------------------------------
# save OUT CMD: run CMD (sh) once, untimed, into OUT; a failure is fatal here
save() {
	local out=$1 cmd=$2
	sh -c "$cmd" > "$out" 2> "$DIR/save.err" ||
		die "preparing $(basename "$out") failed: $cmd: $(tail -n 3 "$DIR/save.err")"
}

prepare() {
	local k=$1 f=$2 d=$DIR
	save "$d/$k.chunked" "pchunk $CHUNKOPT '$f'"
	save "$d/$k.zstd.pfs" "pcompress --zstd -l 3 -T $T < '$d/$k.chunked'"
	save "$d/$k.lz4.pfs" "pcompress --lz4 -l 1 -T $T < '$d/$k.chunked'"
	save "$d/$k.brotli.pfs" "pcompress --brotli -l 5 -T $T < '$d/$k.chunked'"
	save "$d/$k.sha256.pfs" "phash -a sha256 < '$d/$k.chunked'"
	if [ -n "$HAVE_PENCRYPT" ]; then
		save "$d/$k.aes.pfs" "$ENC < '$d/$k.chunked'"
		save "$d/$k.chacha.pfs" "$ENC --cipher chacha20-poly1305 < '$d/$k.chunked'"
		save "$d/$k.full.pfs" "pcompress --zstd -l 3 -T $T < '$d/$k.chunked' | $ENC | phash -a sha256"
		save "$d/$k.restored" "phash --check < '$d/$k.full.pfs' | $ENC -d | pcompress -d | pjoin"
	else
		save "$d/$k.full.pfs" "pcompress --zstd -l 3 -T $T < '$d/$k.chunked' | phash -a sha256"
		save "$d/$k.restored" "phash --check < '$d/$k.full.pfs' | pcompress -d | pjoin"
	fi
	cmp -s "$f" "$d/$k.restored" || die "$k: the restored file differs from the input"
	rm -f "$d/$k.restored"
	save "$d/$k.zst" "zstd -q -3 -T$T -c '$f'"
	save "$d/$k.lz4" "lz4 -q -1 -c '$f'"
	save "$d/$k.br" "brotli -q 5 -c '$f'"
	save "$d/$k.ossl" "$OSSL -in '$f'"
	save "$d/$k.age" "age -r $AGE_R '$f'"
	save "$d/$k.zst.age" "age -r $AGE_R '$d/$k.zst'"
	cat "$d/$k".* > /dev/null   # warm (a tmpfs is always resident)
}

# --- measuring ------------------------------------------------------------------
TIMES=$DIR/times        # kind name seconds, one line per timed run
RSSF=$DIR/rss           # kind name peak_rss_kb
FAILED=$DIR/failed      # kind name
: > "$TIMES"; : > "$RSSF"; : > "$FAILED"
: > "$HLOG"

cmd_for() { # cmd_for INDEX KIND FILE
	local c=${CMDS[$1]}
	c=${c//@F@/$3}; c=${c//@D@/$DIR}; c=${c//@K@/$2}
	printf '%s' "$c"
}

measure_kind() {
	local k=$1 f=$2 i c r args ok=()
	# untimed run: peak RSS, warm-up, and a failing command is dropped here
	for i in "${SEL[@]}"; do
		c=$(cmd_for "$i" "$k" "$f")
		if /usr/bin/time -f %M -o "$DIR/time.out" sh -c "$c" 2> "$DIR/cmd.err"; then
			echo "$k ${NAMES[$i]} $(tail -n 1 "$DIR/time.out")" >> "$RSSF"
			ok+=("$i")
		else
			note "$k: ${NAMES[$i]} FAILED: $c"
			sed 's/^/    /' "$DIR/cmd.err" | tail -n 5 >&2
			echo "$k ${NAMES[$i]}" >> "$FAILED"
		fi
	done
	[ "${#ok[@]}" -gt 0 ] || return 0
	for ((r = 1; r <= RUNS; r++)); do
		args=()
		for i in "${ok[@]}"; do
			args+=(-n "${NAMES[$i]}" "$(cmd_for "$i" "$k" "$f")")
		done
		printf 'bench: %s: round %d/%d (%d commands)\n' "$k" "$r" "$RUNS" "${#ok[@]}" >&2
		echo "=== $k round $r" >> "$HLOG"
		hyperfine --runs 1 --style basic --export-csv "$DIR/round.csv" \
		    "${args[@]}" >> "$HLOG" 2>&1 ||
			die "hyperfine failed (see $HLOG)"
		awk -F, -v k="$k" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		    { print k, $col["command"], $col["median"] }' "$DIR/round.csv" >> "$TIMES"
	done
}

echo "bench: $BENCH_SIZE ($NBYTES bytes) per kind of $BENCH_KINDS; $RUNS run(s) per command; streams in $DIR" >&2
for k in $BENCH_KINDS; do
	f=$DIR/$k.in
	"$GEN" "$k" "$NBYTES" > "$f" || die "testdata/gen $k $NBYTES failed"
	[ "$(stat -c %s "$f")" -eq "$NBYTES" ] || die "testdata/gen $k wrote a short file"
	echo "bench: $k: saving the intermediate streams" >&2
	prepare "$k" "$f"
	measure_kind "$k" "$f"
	rm -f "$DIR/$k".*
done

# --- results ----------------------------------------------------------------------
GITREV=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)
{
	echo "# pfs bench $STAMP"
	echo "# rev: $GITREV"
	echo "# size: $NBYTES"
	echo "# runs: $RUNS"
	echo "# kinds: $BENCH_KINDS"
	echo "# chunk: ${BENCH_CHUNK:-default}"
	echo "# threads: $T"
	echo "# cpus: $(nproc)  load: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# $(hyperfine --version)"
	printf 'kind\trow\tvs\tbytes\truns\tmedian_s\tmin_s\tmax_s\tmb_s\trss_kb\tvs_mb_s\tratio\tcommand\n'
	for i in "${SEL[@]}"; do printf '%s\t%s\t%s\n' "${NAMES[$i]}" "${VSS[$i]}" "${CMDS[$i]}"; done |
	awk -F'\t' -v OFS='\t' -v nbytes="$NBYTES" -v kinds="$BENCH_KINDS" \
	    -v times="$TIMES" -v rssf="$RSSF" '
	function median(list,   a, n, i, j, t) {
		n = split(list, a, " ")
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		lo = a[1]; hi = a[n]
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	BEGIN {
		while ((getline l < times) > 0) {
			split(l, f, " "); t[f[1] SUBSEP f[2]] = t[f[1] SUBSEP f[2]] " " f[3]
			nr[f[1] SUBSEP f[2]]++
		}
		while ((getline l < rssf) > 0) { split(l, f, " "); rss[f[1] SUBSEP f[2]] = f[3] }
	}
	{ name[NR] = $1; vs[NR] = $2; cmd[NR] = $3; n = NR }
	END {
		nk = split(kinds, K, " ")
		for (q = 1; q <= nk; q++) {
			k = K[q]
			for (i = 1; i <= n; i++) {
				key = k SUBSEP name[i]
				if (!(key in t)) continue
				med[key] = median(t[key]); mn[key] = lo; mx[key] = hi
				# under 2 ms (after hyperfine subtracts the shell start-up)
				# a time means nothing: too fast to time at this size
				mbs[key] = med[key] >= 0.002 ? sprintf("%.1f", nbytes / 1e6 / med[key]) : "-"
			}
			for (i = 1; i <= n; i++) {
				key = k SUBSEP name[i]
				if (!(key in med)) continue
				vkey = k SUBSEP vs[i]
				vsm = (vs[i] != "-" && (vkey in mbs)) ? mbs[vkey] : "-"
				ratio = (vsm != "-" && mbs[key] != "-") ? sprintf("%.3f", mbs[key] / vsm) : "-"
				printf "%s\t%s\t%s\t%d\t%d\t%.6f\t%.6f\t%.6f\t%s\t%s\t%s\t%s\t%s\n",
				    k, name[i], vs[i], nbytes, nr[key], med[key], mn[key],
				    mx[key], mbs[key], (key in rss) ? rss[key] : "-", vsm, ratio, cmd[i]
			}
		}
	}'
} > "$RESULTS"
cp "$RESULTS" "$BENCH_OUT/latest.tsv"

# --- the table -------------------------------------------------------------------
BASEARG=/dev/null
[ -n "$BASELINE" ] && BASEARG=$BASEFILE
echo "pfs bench, $(sed -n 's/^# rev: //p' "$RESULTS"), $(date -u '+%Y-%m-%d %H:%M UTC'):" \
     "$BENCH_SIZE per kind, median of $RUNS run(s)," \
     "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "MB/s: original bytes (10^6) / median wall s; rss: peak RSS of the largest process;"
echo "ratio: MB/s / MB/s of the stock row in 'vs' (> 1: pfs faster)"
[ -n "$BASELINE" ] && echo "change: MB/s against baseline '$BASELINE' ($BASEFILE);" \
    "'!' marks a change beyond noise (max(${BENCH_NOISE}%, the run-to-run spread))"
awk -F'\t' -v base="$BASEARG" -v noise="$BENCH_NOISE" -v hasbase="${BASELINE:+1}" '
function spread(med, mn, mx) { return med > 0 ? 100 * (mx - mn) / 2 / med : 0 }
BEGIN {
	while ((getline l < base) > 0) {
		if (l ~ /^#/ || l ~ /^kind\t/) {
			if (l ~ /^# size: /) bsize = substr(l, 9)
			continue
		}
		split(l, f, "\t")
		bm[f[1] SUBSEP f[2]] = f[9]; bs[f[1] SUBSEP f[2]] = spread(f[6], f[7], f[8])
	}
}
/^# size: / { size = substr($0, 9) }
/^#/ || /^kind\t/ { next }
{
	key = $1 SUBSEP $2
	if ($1 != kind) {
		if (kind != "") print ""
		kind = $1
		printf "%s (%d MiB)\n", kind, $4 / 1048576
		printf "  %-19s %9s %8s  %-13s %9s %7s%s\n", "row", "MB/s", "rss MB",
		    "vs", "MB/s", "ratio", hasbase ? "   change" : ""
	}
	chg = ""
	if (hasbase) {
		if ($9 == "-" || ((key in bm) && bm[key] == "-")) {
			chg = "        -"
		} else if ((key in bm) && bm[key] > 0) {
			d = 100 * ($9 / bm[key] - 1)
			thr = noise; s = spread($6, $7, $8); if (s > thr) thr = s
			if (bs[key] > thr) thr = bs[key]
			chg = sprintf("   %+6.1f%%%s", d, (d > thr || d < -thr) ? " !" : "")
		} else
			chg = "      new"
	}
	rssmb = $10 == "-" ? "-" : sprintf("%.1f", $10 / 1024)
	if ($3 == "-")
		line = sprintf("  %-19s %9s %8s  %-13s %9s %7s%s", $2, $9, rssmb, "(stock)", "", "", chg)
	else
		line = sprintf("  %-19s %9s %8s  %-13s %9s %7s%s", $2, $9, rssmb, $3,
		    $11 == "-" ? "-" : $11, $12 == "-" ? "-" : sprintf("%.2fx", $12), chg)
	if ($9 == "-") toofast = 1
	sub(/ +$/, "", line)
	print line
}
END {
	if (toofast)
		print "\n-: under 2 ms, too fast to time at this size (use a larger BENCH_SIZE)"
	if (hasbase && bsize != "" && bsize != size)
		printf "\nnote: the baseline was measured on %s bytes per kind, this run on %s\n", bsize, size
}' "$RESULTS"

# --- compressed size and memory against the stock tools (bench/ratio.sh) ----------
RATIOF=
if [ "$BENCH_RATIO" = 1 ]; then
	RATIOF=${RESULTS%.tsv}.ratio.tsv
	RBASE=
	[ -n "$BASELINE" ] && RBASE=${BASEFILE%.tsv}.ratio.tsv
	[ -n "$RBASE" ] && [ ! -r "$RBASE" ] &&
		note "baseline '$BASELINE' has no ratio file ($RBASE): sizes not compared"
	# the tool of the speed table above: the same inputs, chunk and threads
	BENCH_KINDS=$BENCH_KINDS BENCH_SIZE=$NBYTES BENCH_CHUNK=$BENCH_CHUNK \
	BENCH_THREADS=$T BENCH_REAL=${BENCH_REAL:-} BENCH_REAL_SIZE=${BENCH_REAL_SIZE:-} \
	RATIO_OUT=$RATIOF RATIO_BASELINE=$RBASE SHM=$SHM PFS_BIN=$PFS_BIN \
	    bash "$ROOT/bench/ratio.sh" || die "bench/ratio.sh failed"
	cp "$RATIOF" "$BENCH_OUT/latest.ratio.tsv"
fi

echo
echo "results: $RESULTS"
# the history of every run in BENCH_OUT, drawn as the traces are (gnuplot)
if command -v gnuplot >/dev/null 2>&1 &&
   BENCH_OUT=$BENCH_OUT bash "$ROOT/bench/history-chart.sh" "$BENCH_OUT/history.png" > /dev/null; then
	echo "history: $BENCH_OUT/history.png"
fi

if [ -n "$SAVE" ]; then
	mkdir -p "$BENCH_BASELINE_DIR" || die "cannot create $BENCH_BASELINE_DIR"
	cp "$RESULTS" "$BENCH_BASELINE_DIR/$SAVE.tsv"
	[ -n "$RATIOF" ] && cp "$RATIOF" "$BENCH_BASELINE_DIR/$SAVE.ratio.tsv"
	echo "baseline saved: $BENCH_BASELINE_DIR/$SAVE.tsv (compare with BASELINE=$SAVE)"
fi
if [ -s "$FAILED" ]; then
	echo "bench: failed commands (left out of the table):" >&2
	sed 's/^/  /' "$FAILED" >&2
	exit 1
fi
