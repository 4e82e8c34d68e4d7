#!/usr/bin/env bash
# bench/hash.sh [SIZE] - phash --sum against the stock tools, in one run.
#
#   pchunk f | phash -a sha256 --sum   vs  sha256sum f  and  openssl dgst -sha256 f
#   pchunk f | phash -a xxh3 --sum     vs  xxhsum -H3 f and  cat f | cat > /dev/null
#
# SIZE (default 1G; K/M/G suffixes, powers of 1024) of random data in
# /dev/shm (a tmpfs, so the page cache cannot drop it), read once to warm it.
# The commands run alternately, RUNS times each (default 3); the table shows
# the median wall time as MB/s (10^6 bytes per second) and the ratios the
# issue sets goals for.
#
# Environment: PFS_BIN (the tools, default build/release/bin), RUNS, SHM
# (directory for the input, default /dev/shm), KEEP=1 to keep the input.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PFS_BIN=${PFS_BIN:-$ROOT/build/release/bin}
RUNS=${RUNS:-3}
SHM=${SHM:-/dev/shm}
[ -d "$SHM" ] && [ -w "$SHM" ] || SHM=${TMPDIR:-/tmp}
SIZE=${1:-1G}

die() { echo "hash.sh: $*" >&2; exit 1; }

for t in pchunk phash; do
	[ -x "$PFS_BIN/$t" ] || die "$PFS_BIN/$t missing (make, or set PFS_BIN)"
done
for t in sha256sum openssl xxhsum; do
	command -v "$t" >/dev/null || die "$t not installed"
done
export PATH="$PFS_BIN:$PATH"
export PFS_STATS=

bytes() {
	local n=${1%[KkMmGg]} s=${1: -1}
	[[ $n =~ ^[0-9]+$ ]] || die "bad size '$1'"
	case $s in
	[Kk]) echo $((n << 10)) ;;
	[Mm]) echo $((n << 20)) ;;
	[Gg]) echo $((n << 30)) ;;
	*) echo "$1" ;;
	esac
}
NBYTES=$(bytes "$SIZE")

F=$(mktemp "$SHM/pfs-hash-bench.XXXXXX")
[ "${KEEP:-}" = 1 ] || trap 'rm -f "$F"' EXIT
if [ -x "$ROOT/testdata/gen" ]; then
	"$ROOT/testdata/gen" random "$NBYTES" 1 > "$F"
else
	head -c "$NBYTES" /dev/urandom > "$F"
fi
[ "$(stat -c %s "$F")" -eq "$NBYTES" ] || die "could not write $NBYTES bytes to $F"
cat "$F" > /dev/null

# the pipelines must give the stock digests (otherwise the timing is moot)
want=$(sha256sum < "$F" | cut -d' ' -f1)
got=$(pchunk "$F" | phash -a sha256 --sum | cut -d' ' -f1)
[ "$got" = "$want" ] || die "sha256: phash gives $got, sha256sum $want"
want=$(xxhsum -H3 < "$F" 2>/dev/null | sed 's/.* = //')
got=$(pchunk "$F" | phash -a xxh3 --sum | sed 's/.* = //')
[ "$got" = "$want" ] || die "xxh3: phash gives $got, xxhsum $want"

NAMES=(p_sha256 sha256sum openssl p_xxh3 xxhsum catcat)
declare -A CMD=(
	[p_sha256]='pchunk "$F" | phash -a sha256 --sum > /dev/null'
	[sha256sum]='sha256sum "$F" > /dev/null'
	[openssl]='openssl dgst -sha256 "$F" > /dev/null'
	[p_xxh3]='pchunk "$F" | phash -a xxh3 --sum > /dev/null'
	[xxhsum]='xxhsum -H3 "$F" > /dev/null 2>&1'
	[catcat]='cat "$F" | cat > /dev/null'
)
declare -A LABEL=(
	[p_sha256]='pchunk f | phash -a sha256 --sum'
	[sha256sum]='sha256sum f'
	[openssl]='openssl dgst -sha256 f'
	[p_xxh3]='pchunk f | phash -a xxh3 --sum'
	[xxhsum]='xxhsum -H3 f'
	[catcat]='cat f | cat > /dev/null'
)
declare -A TIMES

# one timed run of a command (seconds, from bash's EPOCHREALTIME)
timeit() {
	local t0 t1
	t0=$EPOCHREALTIME
	eval "${CMD[$1]}" || die "'${LABEL[$1]}' failed"
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }'
}

for ((r = 1; r <= RUNS; r++)); do
	for n in "${NAMES[@]}"; do
		TIMES[$n]+="$(timeit "$n") "
	done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
declare -A MED MBS
for n in "${NAMES[@]}"; do
	MED[$n]=$(echo "${TIMES[$n]}" | median)
	MBS[$n]=$(awk -v b="$NBYTES" -v t="${MED[$n]}" 'BEGIN { printf "%.0f", b / t / 1e6 }')
done

echo "phash --sum vs stock tools: $SIZE ($NBYTES bytes) of random data in $SHM," \
     "median of $RUNS alternating runs; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %10s %9s   %s\n' command "median s" "MB/s" "all runs (s)"
for n in "${NAMES[@]}"; do
	printf '%-34s %10s %9s   %s\n' "${LABEL[$n]}" "${MED[$n]}" "${MBS[$n]}" "${TIMES[$n]}"
done
ratio() {
	awk -v a="${MED[$2]}" -v b="${MED[$1]}" -v g="$3" 'BEGIN {
		r = a / b
		printf "%.2fx", r
		if (g != "") printf "  (goal >= %s: %s)", g, ((r >= g) ? "met" : "MISSED")
	}'
}
echo
printf '%-44s %s\n' "sha256 pipeline / sha256sum" "$(ratio p_sha256 sha256sum 2)"
printf '%-44s %s\n' "sha256 pipeline / openssl dgst -sha256" "$(ratio p_sha256 openssl 0.9)"
printf '%-44s %s\n' "xxh3 pipeline / (cat f | cat)" "$(ratio p_xxh3 catcat '')"
printf '%-44s %s\n' "xxh3 pipeline / xxhsum -H3" "$(ratio p_xxh3 xxhsum '')"

# where the time goes: one more run of each pipeline with --stats on both
# stages (CPU per stage, time blocked on input/output), and the CPU load of
# the machine (other processes share the two cores)
echo
echo "one run with --stats (load $(cut -d' ' -f1-3 /proc/loadavg)):"
for a in sha256 xxh3; do
	echo "  pchunk f | phash -a $a --sum:"
	{ pchunk --stats "$F" | phash --stats -a "$a" --sum > /dev/null; } 2>&1 |
		sed 's/^/    /'
done
