#!/usr/bin/env bash
# bench/rekey.sh - `make bench-rekey`: what changing the recipients of a
# big encrypted stream costs (issue "Public-key recipients and rekeying").
#
# For each kind of source (REKEY_KINDS: "tar", the first SIZE bytes of a
# tar of /usr made on the fly, repeated if /usr is smaller; "random",
# testdata/gen random) of REKEY_SIZE (default 1G), on $SHM:
#   s.pfs = pchunk | pcompress (zstd -3) | pencrypt -r ALICE -r BOB
# then, RUNS times each, interleaved, the median wall time and its MB/s
# over the size of s.pfs:
#   cat       cat s.pfs > /dev/null (what reading the bytes costs)
#   rekey     pencrypt --rekey -i alice.id -r CAROL < s.pfs > /dev/null
#   chunkjoin pchunk s.pfs | pjoin > /dev/null (the project's plain
#             pass-through of the same bytes, as a frame stream)
#   decrypt   pencrypt -d -i alice.id < s.pfs > /dev/null (what rekeying
#             by decrypting and encrypting again would cost at least)
# and checks that the rekeyed stream opens with Carol's identity to the
# bytes s.pfs opens to with Alice's (cmp of the two pencrypt -d outputs).
#
#   REKEY_SIZE=1G REKEY_KINDS="tar random" RUNS=5 SHM=/dev/shm
#   PFS_BIN=build/release/bin bash bench/rekey.sh
set -eu

B=${PFS_BIN:-build/release/bin}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GEN=$ROOT/testdata/gen
SIZE=${REKEY_SIZE:-1G}
KINDS=${REKEY_KINDS:-tar random}
RUNS=${RUNS:-5}
SHM=${SHM:-/dev/shm}
export PATH="$B:$PATH"

W=$(mktemp -d "$SHM/pfs-rekey.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM

. "$ROOT/bench/lib.sh"
# timed NAME CMD: one run of CMD (sh -c), its wall ns appended to NAME.t
timed() {
	local t0 t1
	t0=$(now)
	sh -c "$2"
	t1=$(now)
	echo $((t1 - t0)) >> "$W/$1.t"
}

cd "$W"
pencrypt --keygen-identity -q -o alice.id
pencrypt --keygen-identity -q -o carol.id
A=$(pencrypt --recipient-of alice.id)
C=$(pencrypt --recipient-of carol.id)
pencrypt --keygen-identity -q -o bob.id
BOB=$(pencrypt --recipient-of bob.id)
n=$(bytes "$SIZE")
echo "# bench/rekey.sh  $(date -u +%FT%TZ)  load: $(cut -d' ' -f1-3 /proc/loadavg)  $(nproc) CPUs"
printf '%-7s %10s  %-10s %9s %9s\n' source stream what median_s MB/s
for k in $KINDS; do
	source_of "$k" "$n" > src
	pchunk src | pcompress -l 3 | pencrypt -r "$A" -r "$BOB" > s.pfs
	rm -f src ./*.t
	size=$(stat -c %s s.pfs)
	for _ in $(seq "$RUNS"); do
		timed cat "cat s.pfs > /dev/null"
		timed rekey "pencrypt --rekey -i alice.id -r '$C' < s.pfs > /dev/null"
		timed chunkjoin "pchunk s.pfs | pjoin > /dev/null"
		timed decrypt "pencrypt -d -i alice.id < s.pfs > /dev/null"
	done
	# the rekeyed stream: Carol opens it to what Alice opened
	pencrypt --rekey -i alice.id -r "$C" < s.pfs > r.pfs
	cmp <(pencrypt -d -i alice.id s.pfs) <(pencrypt -d -i carol.id r.pfs)
	for w in cat rekey chunkjoin decrypt; do
		m=$(median < "$w.t")
		printf '%-7s %10s  %-10s %9.3f %9.0f\n' "$k" "$size" "$w" \
			"$(echo "$m / 1000000000" | bc -l)" \
			"$(echo "$size / 1000000 / ($m / 1000000000)" | bc -l)"
	done
	rm -f s.pfs r.pfs
done
