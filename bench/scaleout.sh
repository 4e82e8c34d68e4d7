#!/usr/bin/env bash
# bench/scaleout.sh - one file in parts (docs/scale-out.md): wall time of
# 1, 2 and 4 parts of one source, each part a pipeline of its own
#
#   pchunk --part I/N SRC | pcompress -T T | phash > part.I.pfs
#
# run with GNU parallel -j N on this machine, the speedup against 1 part in
# the same run (the first of SCALEOUT_PARTS), and the round trip of every run (each part through
# phash -c | pcompress -d, the parts joined, cmp with the source).  It also
# measures the per-host rates the model of docs/scale-out.md needs: the
# whole source through pchunk | pcompress -T 1 and -T 2 (the fastest of
# SCALEOUT_RUNS), and the ratio.
# Not run by make check (minutes, and 4 x SIZE of disk).
#
#   bash bench/scaleout.sh                    # 1G, both sources
#   SCALEOUT_SIZE=256M SCALEOUT_KINDS=text-like bash bench/scaleout.sh
#
# Environment: SCALEOUT_SIZE (default 1G), SCALEOUT_PARTS ("1 2 4"),
# SCALEOUT_THREADS (pcompress -T of each part, "1 2"), SCALEOUT_KINDS
# ("usr-tar text-like": a tar of /usr made on the fly and cut to SIZE,
# testdata/gen text-like), SCALEOUT_DIR (work directory, default a new
# one under TMPDIR, removed at the end), SCALEOUT_RUNS (rounds, default
# 3: each row is its fastest round, wall and CPU seconds of that round;
# the round trip is timed and checked in the first), PFS_BIN.
# Without pchunk --part (an older pchunk) the parts are the same
# chunk-aligned byte ranges, cut with pchunk --range OFF:LEN; without
# pjoin -o OUT PART... the restored parts are written one after another.
# Results: the table on stdout and bench/out/scaleout-DATE.tsv.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PFS_BIN=${PFS_BIN:-$ROOT/build/release/bin}
export PATH="$PFS_BIN:$PATH"
SIZE=${SCALEOUT_SIZE:-1G}
PARTS=${SCALEOUT_PARTS:-1 2 4}
THREADS=${SCALEOUT_THREADS:-1 2}
KINDS=${SCALEOUT_KINDS:-usr-tar text-like}
RUNS=${SCALEOUT_RUNS:-3}
die() { echo "scaleout: $*" >&2; exit 1; }

command -v parallel > /dev/null || die "GNU parallel is missing (apt-get install parallel)"
[ -x "$PFS_BIN/pchunk" ] || die "$PFS_BIN/pchunk: not built (make)"
bytes=$(numfmt --from=iec "$SIZE") || die "SCALEOUT_SIZE: $SIZE: not a size"
CS=$((8 * 1024 * 1024))                  # pchunk's chunk size for a big file
[ "$bytes" -ge "$CS" ] || die "SCALEOUT_SIZE: at least 8M (one chunk a part)"

KEEP=${SCALEOUT_DIR:-}
DIR=${SCALEOUT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/pfs-scaleout.XXXXXX")}
mkdir -p "$DIR"
[ -n "$KEEP" ] || trap 'rm -rf "$DIR"' EXIT
mkdir -p "$ROOT/bench/out"
TSV=$ROOT/bench/out/scaleout-$(date -u +%Y%m%d-%H%M%S).tsv

HAVE_PART=0
pchunk --help | grep -q -- '--part I/N' && HAVE_PART=1
HAVE_JOIN=0
pjoin --help | grep -q -- 'PART' && HAVE_JOIN=1

# now: seconds since the epoch, with nanoseconds
now() { date +%s.%N; }

# part.sh I N T SRC OUT: part I of N of SRC, compressed with T threads
# and hashed, into OUT (the recipe of docs/scale-out.md, "Shared storage")
cat > "$DIR/part.sh" <<'EOF'
set -euo pipefail
i=$1 n=$2 t=$3 src=$4 out=$5
if [ "$HAVE_PART" = 1 ]; then
	pchunk --part "$i/$n" "$src"
else
	# the chunks of part I of N: [floor((I-1) C / N), floor(I C / N))
	size=$(stat -c %s "$src")
	c=$(( (size + CS - 1) / CS ))
	off=$(( (i - 1) * c / n * CS ))
	end=$(( i * c / n * CS ))
	[ "$end" -le "$size" ] || end=$size
	pchunk --range "$off:$((end - off))" "$src"
fi | pcompress -T "$t" | phash > "$out"
EOF
export HAVE_PART CS

# source KIND FILE: SIZE bytes of KIND
source_file() {
	case $1 in
	usr-tar)
		# tar dies of SIGPIPE once head has its bytes
		{ tar cf - -C / usr 2> /dev/null || true; } | head -c "$bytes" > "$2" ;;
	text-like|mixed|random)
		"$PFS_BIN/gen" "$1" "$SIZE" > "$2" ;;
	*) die "SCALEOUT_KINDS: $1: usr-tar, text-like, mixed or random" ;;
	esac
	[ "$(stat -c %s "$2")" -eq "$bytes" ] || die "$1: fewer than $SIZE bytes"
}

# rate T: MB/s of pchunk SRC | pcompress -T T, the whole source, the
# fastest of RUNS runs
rate() {
	local run w s best=
	for ((run = 1; run <= RUNS; run++)); do
		/usr/bin/time -f '%e' -o "$DIR/time" \
			bash -c 'set -o pipefail; pchunk "$1" | pcompress -T "$2" > "$3"' \
			rate "$DIR/src" "$1" "$DIR/whole.pfs"
		read -r w < "$DIR/time"
		if [ -z "$best" ] || awk -v a="$w" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$w
		fi
	done
	awk -v b="$bytes" -v s="$best" 'BEGIN { printf "%.0f", b / s / 1e6 }'
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
printf 'source\tsize\tthreads_per_part\tparts\twall_s\tcpu_s\tspeedup\trestore_s\tratio\n' > "$TSV"
printf '%-10s %5s %2s %5s %7s %6s %8s %9s %6s\n' source size T parts wall_s cpu_s speedup restore_s ratio
rates=""
for kind in $KINDS; do
	echo "scaleout: $kind: making $SIZE" >&2
	source_file "$kind" "$DIR/src"
	for t in 1 2; do
		r=$(rate "$t")
		rates="$rates$kind: pchunk | pcompress -T $t: $r MB/s, ratio $(awk -v a="$(stat -c %s "$DIR/whole.pfs")" -v b="$bytes" 'BEGIN { printf "%.3f", a / b }')
"
	done
	rm -f "$DIR/whole.pfs"
	# RUNS rounds, each over every T and N, so that a burst of load from
	# elsewhere hits all of them alike; the fastest round of each counts
	declare -A best=() cpu=() back=() ratio=()
	for ((run = 1; run <= RUNS; run++)); do
		for t in $THREADS; do
			for n in $PARTS; do
				rm -f "$DIR"/part.*.pfs "$DIR/out"
				/usr/bin/time -f '%e %U %S' -o "$DIR/time" \
					parallel -j "$n" --halt now,fail=1 bash "$DIR/part.sh" {} "$n" "$t" \
					"$DIR/src" "$DIR/part.{}.pfs" ::: $(seq "$n")
				read -r w u s < "$DIR/time"
				k=$t:$n
				if [ -z "${best[$k]:-}" ] || awk -v a="$w" -v b="${best[$k]}" 'BEGIN { exit !(a < b) }'; then
					best[$k]=$w
					cpu[$k]=$(echo "$u + $s" | bc)
				fi
				[ "$run" -eq 1 ] || continue
				ratio[$k]=$(cat "$DIR"/part.*.pfs | wc -c)
				# the round trip, once: parts restored in parallel, joined
				t0=$(now)
				if [ "$HAVE_JOIN" = 1 ]; then
					parallel -j "$n" --halt now,fail=1 \
						"phash -c $DIR/part.{}.pfs | pcompress -d -T $t > $DIR/raw.{}.pfs" \
						::: $(seq "$n")
					pjoin -o "$DIR/out" $(seq -f "$DIR/raw.%g.pfs" "$n")
				else
					parallel -j "$n" -k --halt now,fail=1 \
						"phash -c $DIR/part.{}.pfs | pcompress -d -T $t | pjoin" \
						::: $(seq "$n") > "$DIR/out"
				fi
				t1=$(now)
				back[$k]=$(echo "$t1 - $t0" | bc)
				rm -f "$DIR"/raw.*.pfs
				cmp "$DIR/src" "$DIR/out" || die "$kind, $n parts: the round trip differs"
			done
		done
	done
	for t in $THREADS; do
		for n in $PARTS; do
			k=$t:$n
			awk -v k="$kind" -v s="$SIZE" -v t="$t" -v n="$n" -v w="${best[$k]}" \
			    -v c="${cpu[$k]}" -v b="${best[$t:${PARTS%% *}]}" -v r="${back[$k]}" \
			    -v o="${ratio[$k]}" -v i="$bytes" -v f="$TSV" 'BEGIN {
				printf "%-10s %5s %2d %5d %7.2f %6.2f %8.2f %9.2f %6.3f\n", k, s, t, n, w, c, b / w, r, o / i
				printf "%s\t%s\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.3f\n", k, s, t, n, w, c, b / w, r, o / i >> f }'
		done
	done
	unset best cpu back ratio
	rm -f "$DIR"/part.*.pfs "$DIR"/raw.*.pfs "$DIR/out"
done
printf '\nper-host rates (whole %s source, %d CPUs):\n%s' "$SIZE" "$(nproc)" "$rates"
printf 'load average: %s at the start, %s at the end\n' "$load0" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'parts: %s; join: %s\n' \
	"$([ "$HAVE_PART" = 1 ] && echo 'pchunk --part I/N' || echo 'pchunk --range OFF:LEN')" \
	"$([ "$HAVE_JOIN" = 1 ] && echo 'pjoin -o OUT PART...' || echo 'pjoin of each part, in order')"
echo "scaleout: results in $TSV" >&2
