#!/usr/bin/env bash
# bench/range.sh - `make bench-range`: random access and resume on big
# streams (issue "Read any part of a stream, and resume").
#
# For each size (RANGE_SIZES, default "1G 4G") and each kind of source
# (RANGE_KINDS: "tar", the first SIZE bytes of a tar of /usr made on the
# fly, repeated if /usr is smaller, and "text", testdata/gen text-like):
#   1. process: pchunk | pcompress (zstd -3) | pencrypt (aes-256-gcm, key
#      file) | phash -a sha256 > s.pfs, timed;
#   2. restore 1 MiB at 75 % of the source through the filter chain with
#      --range on its first stage, RUNS times: the median wall time, and
#      the bytes the first stage read from s.pfs (its --stats=json
#      bytes_in: the index, HEAD and the frames of the chunks needed); the
#      bytes are checked with cmp against the source;
#   3. restore into a file with pjoin --resume, SIGKILL the pipeline when
#      half the file is restored, then resume reading from the first chunk
#      the partial output does not hold: bytes read by the resumed run
#      against the stream's size, and the result checked with cmp;
#   4. the index's size: the INDEX frame, per chunk;
#   5. side by side, the stock tools' way to the same 1 MiB: a zstd -3 -T2
#      file of the same source, `zstd -dc | tail -c +OFF | head -c 1M`
#      (no seeking in a .zst: everything before the range is decompressed;
#      without the decryption a .zst.age would add, so a lower bound).
#
#   RANGE_SIZES="1G 4G" RANGE_KINDS="tar text" RUNS=5 SHM=/dev/shm
#   PFS_BIN=build/release/bin bash bench/range.sh
set -eu

B=${PFS_BIN:-build/release/bin}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GEN=$ROOT/testdata/gen
SIZES=${RANGE_SIZES:-1G 4G}
KINDS=${RANGE_KINDS:-tar text}
RUNS=${RUNS:-5}
SHM=${SHM:-/dev/shm}
export PATH="$B:$PATH"

W=$(mktemp -d "$SHM/pfs-range.XXXXXX")
pid=
trap '[ -z "$pid" ] || kill -9 -- -"$pid" 2>/dev/null; rm -rf "$W"' EXIT INT TERM

. "$ROOT/bench/lib.sh"
json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }

pencrypt --keygen -o "$W/k" 2>/dev/null
printf '%-5s %-5s %9s %8s %10s %12s %9s %12s %10s %12s\n' size kind process_s \
	chunks range_ms range_read resume_s resume_read index_B/chunk zstd_d_ms
for size in $SIZES; do
	n=$(bytes "$size")
	for kind in $KINDS; do
		src=$W/src
		source_of "$kind" "$n" > "$src"
		t0=$(now)
		pchunk "$src" | pcompress | pencrypt --key-file "$W/k" |
			phash -a sha256 > "$W/s.pfs"
		t1=$(now)
		ssz=$(stat -c %s "$W/s.pfs")
		chunks=$(pinfo --json "$W/s.pfs" | python3 -c 'import json,sys; print(json.load(sys.stdin)["chunks"])')

		# 2. 1 MiB at 75 %
		off=$(( n * 3 / 4 ))
		for ((i = 0; i < RUNS; i++)); do
			t0r=$(now)
			phash -c --range "$off:1M" --stats=json "$W/s.pfs" 2> "$W/st" |
				pencrypt -d --key-file "$W/k" | pcompress -d |
				pjoin > "$W/out"
			echo $(( ($(now) - t0r) / 1000 ))
		done | median > "$W/us"
		tail -c +$((off + 1)) "$src" | head -c 1048576 | cmp - "$W/out"
		rread=$(json "$W/st" bytes_in)

		# 3. kill at 50 %, resume
		rm -f "$W/r" "$W/r.pfs-part" "$W/r.pfs-part.sums"
		setsid bash -c "phash -c '$W/s.pfs' | pencrypt -d --key-file '$W/k' |
			pcompress -d | pjoin -o '$W/r' --resume" 2>/dev/null &
		pid=$!
		while [ ! -e "$W/r" ] &&
		      [ "$(stat -c %s "$W/r.pfs-part" 2>/dev/null || echo 0)" -lt $((n / 2)) ]; do
			sleep 0.005
		done
		kill -9 -- -"$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		pid=
		[ ! -e "$W/r" ] || { echo "range.sh: the restore finished before it was killed" >&2; exit 1; }
		part=$(stat -c %s "$W/r.pfs-part")
		good=$(( part / (8 << 20) * (8 << 20) ))
		t0r=$(now)
		phash -c --range "$good:" --stats=json "$W/s.pfs" 2> "$W/st" |
			pencrypt -d --key-file "$W/k" | pcompress -d |
			pjoin -o "$W/r" --resume
		t2=$(now)
		cmp "$src" "$W/r"
		read2=$(json "$W/st" bytes_in)

		# 5. the stock way: decompress up to the range
		zstd -q -3 -T2 -f "$src" -o "$W/s.zst"
		for ((i = 0; i < RUNS; i++)); do
			t0r=$(now)
			zstd -dc "$W/s.zst" 2>/dev/null | tail -c +$((off + 1)) |
				head -c 1048576 > "$W/out"
			echo $(( ($(now) - t0r) / 1000 ))
		done | median > "$W/zus"
		tail -c +$((off + 1)) "$src" | head -c 1048576 | cmp - "$W/out"
		rm -f "$W/s.zst"

		ix=$(( 32 + 8 * (chunks + 1) + 16 ))
		printf '%-5s %-5s %9.2f %8d %10.1f %12d %9.2f %11.1f%% %10.1f %12.1f\n' \
			"$size" "$kind" "$(echo "($t1 - $t0) / 1000000000" | bc -l)" \
			"$chunks" "$(echo "$(cat "$W/us") / 1000" | bc -l)" "$rread" \
			"$(echo "($t2 - $t0r) / 1000000000" | bc -l)" \
			"$(echo "100 * $read2 / $ssz" | bc -l)" \
			"$(echo "$ix / $chunks" | bc -l)" \
			"$(echo "$(cat "$W/zus") / 1000" | bc -l)"
		rm -f "$W/r" "$W/src" "$W/s.pfs"
	done
done
echo "range_read, resume_read: bytes the first stage read from the stream file (its --stats bytes_in)"
