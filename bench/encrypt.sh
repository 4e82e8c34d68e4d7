#!/usr/bin/env bash
# bench/encrypt.sh [SIZE] - pencrypt (AES-256-GCM and ChaCha20-Poly1305)
# against 'openssl enc -aes-256-ctr' and age, encrypting and decrypting,
# side by side in the same run.
#
#   bash bench/encrypt.sh                   # 256M of random data
#   PFS_BIN=build/release/bin RUNS=5 THREADS=2 CHUNKS='auto 256K 1M' bash bench/encrypt.sh 64M
#
# The input is generated with testdata/gen into a tmpfs (/dev/shm), so every
# file read is warm; every command runs once untimed (which also makes the
# ciphertexts the decrypt runs read), then RUNS timed rounds in which the
# commands alternate, each writing to /dev/null.  pencrypt reads saved
# pchunk streams, one per chunk size in CHUNKS ("auto": pchunk's own choice,
# 4 MiB for 256M; default "auto 1M"), with a raw key file; openssl gets
# -K/-iv in hex; age an X25519 identity from age-keygen.  MB/s = original input bytes (10^6) over the median wall time.
# Prints a Markdown table.
set -euo pipefail

SIZE=${1:-256M}
RUNS=${RUNS:-3}
THREADS=${THREADS:-2}
CHUNKS=${CHUNKS:-auto 1M}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${PFS_BIN:-$ROOT/build/release/bin}
GEN=$ROOT/testdata/gen
[ -x "$GEN" ] || GEN=$BIN/gen
for t in "$BIN/pchunk" "$BIN/pencrypt" "$GEN" openssl age age-keygen bc; do
	command -v "$t" >/dev/null || { echo "bench: $t missing (make first)" >&2; exit 1; }
done
export PATH="$BIN:$PATH" PFS_STATS=
SHM=/dev/shm
[ -d "$SHM" ] && [ -w "$SHM" ] || SHM=${TMPDIR:-/tmp}
DIR=$(mktemp -d "$SHM/pfs-bench.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
cd "$DIR"

"$GEN" random "$SIZE" > in.bin
head -c 32 /dev/urandom > raw.key
chmod 600 raw.key
KHEX=$(od -An -v -tx1 raw.key | tr -d ' \n')
IVHEX=$(head -c 16 /dev/urandom | od -An -v -tx1 | tr -d ' \n')
age-keygen -o age.id 2>/dev/null
BYTES=$(stat -c %s in.bin)

names=() cmds=() outs=()
# add NAME FILE CMD: CMD is bash code writing to "$OUT"; its untimed run
# writes FILE (the ciphertexts that the decrypt rows read)
add() { names+=("$1"); outs+=("$2"); cmds+=("$3"); }

P="pencrypt --raw-key-file raw.key -T $THREADS"
for c in $CHUNKS; do
	pchunk $([ "$c" = auto ] || echo "-s $c") in.bin > "in-$c.pfs"
	cs=$(pinfo --json "in-$c.pfs" | sed -n 's/.*"chunk_size":\([0-9]*\).*/\1/p')
	for ci in aes-256-gcm chacha20-poly1305; do
		add "pencrypt $ci enc ($((cs >> 10)) KiB chunks)" "$ci-$c.enc" \
		    "$P --cipher $ci < in-$c.pfs > \$OUT"
	done
done
add "openssl enc -aes-256-ctr enc" ossl.enc \
    "openssl enc -aes-256-ctr -K $KHEX -iv $IVHEX -in in.bin -out \$OUT"
add "age enc" age.enc "age -e -i age.id -o \$OUT in.bin"
for c in $CHUNKS; do
	cs=$(pinfo --json "in-$c.pfs" | sed -n 's/.*"chunk_size":\([0-9]*\).*/\1/p')
	for ci in aes-256-gcm chacha20-poly1305; do
		add "pencrypt $ci dec ($((cs >> 10)) KiB chunks)" "$ci-$c.dec" \
		    "$P -d < $ci-$c.enc > \$OUT"
	done
done
add "openssl enc -aes-256-ctr dec" ossl.dec \
    "openssl enc -d -aes-256-ctr -K $KHEX -iv $IVHEX -in ossl.enc -out \$OUT"
add "age dec" age.dec "age -d -i age.id -o \$OUT age.enc"

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# untimed: warm up, make the ciphertexts, check the decryptions
for i in "${!names[@]}"; do
	OUT=${outs[$i]} bash -o pipefail -c "${cmds[$i]}"
done
for c in $CHUNKS; do
	cmp "in-$c.pfs" "aes-256-gcm-$c.dec"
	cmp "in-$c.pfs" "chacha20-poly1305-$c.dec"
done
cmp in.bin ossl.dec
cmp in.bin age.dec
rm -f ./*.dec

declare -A times=()
for ((r = 0; r < RUNS; r++)); do
	for i in "${!names[@]}"; do
		t0=$(date +%s.%N)
		OUT=/dev/null bash -o pipefail -c "${cmds[$i]}"
		t1=$(date +%s.%N)
		times[$i]+="$(echo "$t1 - $t0" | bc) "
	done
done

echo "input: $SIZE random ($BYTES bytes) on $SHM, pencrypt -T $THREADS," \
     "median of $RUNS runs"
echo
printf '| %-50s | %8s | %8s |\n' command "wall s" "MB/s"
printf '|%s|%s|%s|\n' "----------------------------------------------------" "----------" "----------"
for i in "${!names[@]}"; do
	med=$(tr ' ' '\n' <<<"${times[$i]}" | grep . | median)
	mbs=$(echo "scale=0; $BYTES / $med / 1000000" | bc)
	printf '| %-50s | %8.3f | %8s |\n' "${names[$i]}" "$med" "$mbs"
done
