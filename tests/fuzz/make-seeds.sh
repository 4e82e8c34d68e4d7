#!/bin/sh
# make-seeds.sh BIN_DIR OUT_DIR - seed corpora for the fuzz targets, made
# from real streams by the built tools (small inputs, 1 KiB chunks).
#
#   OUT_DIR/fuzz_frame/        every stream below
#   OUT_DIR/fuzz_head/         the HEAD payloads of those streams
#   OUT_DIR/fuzz_index/        every stream (they end in an index), and
#                              range streams (pchunk --range, and cut)
#   OUT_DIR/fuzz_stanza/       tests/fuzz/regress/fuzz_stanza/*
#   OUT_DIR/fuzz_pjoin/        pchunk [| phash...] (+ a few it must refuse)
#   OUT_DIR/fuzz_phash_check/  ... | phash [-a ALGO] (+ stacked hashes)
#   OUT_DIR/fuzz_pcompress_d/  ... | pcompress --zstd|--lz4|--brotli
#   OUT_DIR/fuzz_pencrypt_d/   ... | pencrypt with the fixed test key
#
# The key is PFS_FUZZ_KEY_HEX of tests/fuzz/fuzz.h; keep the two equal.
# Deterministic except for pencrypt's random salts and the input files'
# mtimes.  Used by `make fuzz` (tests/fuzz/fuzz.mk) on first use and by
# `make fuzz-seeds`.
set -eu

BIN=${1:?usage: make-seeds.sh BIN_DIR OUT_DIR}
OUT=${2:?usage: make-seeds.sh BIN_DIR OUT_DIR}
KEY_HEX=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f

for t in pchunk phash pjoin; do
	[ -x "$BIN/$t" ] || { echo "make-seeds.sh: $BIN/$t missing" >&2; exit 1; }
done
HAVE_PCOMPRESS=; [ -x "$BIN/pcompress" ] && HAVE_PCOMPRESS=1
HAVE_PENCRYPT=; [ -x "$BIN/pencrypt" ] && HAVE_PENCRYPT=1

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pfs-seeds.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

TARGETS="fuzz_frame fuzz_head fuzz_index fuzz_stanza fuzz_pjoin fuzz_phash_check
fuzz_pcompress_d fuzz_pencrypt_d"
for t in $TARGETS; do mkdir -p "$OUT/$t"; done

# --- inputs ---
IN=$TMP/in
mkdir -p "$IN"
: > "$IN/empty"
printf a > "$IN/one"
seq 1 700 > "$IN/text"                       # 2.6 KiB of text
LC_ALL=C awk 'BEGIN { srand(7); for (i = 0; i < 2500; i++)
	printf "%c", int(rand() * 256) }' > "$IN/random"
{ head -c 1500 "$IN/text"; head -c 1100 "$IN/random"; } > "$IN/mixed"
head -c 1024 /dev/zero > "$IN/zeros1k"       # exactly one chunk
printf 'pw for seeds\n' > "$TMP/pw"
printf '%s\n' "$KEY_HEX" > "$TMP/key"
chmod 600 "$TMP/key"

T="-T 1"
n=0
# put NAME TARGET... : copy the stream $TMP/s to the targets' corpora
put() {
	name=$1; shift
	for t in "$@"; do cp "$TMP/s" "$OUT/$t/seed-$name"; done
	cp "$TMP/s" "$OUT/fuzz_frame/seed-$name"
	cp "$TMP/s" "$OUT/fuzz_index/seed-$name"
	# the HEAD payload: length at byte 12 of the stream (LE u32)
	len=$(od -An -tu4 -j12 -N4 "$TMP/s" | tr -d ' ')
	if [ -n "$len" ]; then
		tail -c +41 "$TMP/s" | head -c "$len" > "$OUT/fuzz_head/seed-$name"
	fi
	n=$((n + 1))
}
# run CMD... : the pipeline's output into $TMP/s (must succeed)
run() {
	sh -c "$*" > "$TMP/s" || { echo "make-seeds.sh: failed: $*" >&2; exit 1; }
}

P=$BIN
for f in empty one text random mixed zeros1k; do
	src=$IN/$f
	# how the source is named: a file (name, size, mode, mtime), stdin
	# from a file, a pipe (size unknown)
	run "$P/pchunk -s 1K '$src'"
	put "$f-chunk" fuzz_pjoin
	run "$P/pchunk -s 1K < '$src'"
	put "$f-chunk-stdin" fuzz_pjoin
	run "cat '$src' | $P/pchunk -s 1K"
	put "$f-chunk-pipe" fuzz_pjoin fuzz_phash_check
	for a in sha256 sha512 sha3-256 blake2b xxh64 xxh3 xxh128; do
		run "$P/pchunk -s 1K '$src' | $P/phash $T -a $a"
		put "$f-$a" fuzz_pjoin fuzz_phash_check
	done
	run "$P/pchunk -s 1K '$src' | $P/phash $T -a xxh3 | $P/phash $T -a sha256"
	put "$f-xxh3-sha256" fuzz_pjoin fuzz_phash_check
	if [ -s "$src" ]; then
		r=1:1500; [ "$(wc -c < "$src")" -gt 1 ] || r=0:1
		run "$P/pchunk -s 1K --range $r '$src' | $P/phash $T -a xxh3"
		put "$f-range" fuzz_pjoin fuzz_phash_check
		$P/pchunk -s 1K "$src" | $P/phash $T -a xxh64 > "$TMP/w"
		run "$P/phash $T -c --range 1K:1 '$TMP/w' 2>/dev/null ||
		     $P/phash $T -c --range 0:1 '$TMP/w'"
		put "$f-cut" fuzz_pjoin
	fi
	if [ -n "$HAVE_PCOMPRESS" ]; then
		for c in "--zstd" "--zstd -l 19" "--zstd -l -5" "--lz4" "--lz4 -l 9" \
		         "--brotli" "--brotli -l 0" "--brotli -l 11"; do
			cn=$(echo "$c" | tr -d ' -')
			run "$P/pchunk -s 1K '$src' | $P/pcompress $T $c"
			put "$f-$cn" fuzz_pcompress_d fuzz_pjoin
			run "$P/pchunk -s 1K '$src' | $P/phash $T -a xxh64 | $P/pcompress $T $c | $P/phash $T -a sha256"
			put "$f-xxh64-$cn-sha256" fuzz_phash_check
			run "$P/pchunk -s 1K '$src' | $P/phash $T -a xxh64 | $P/pcompress $T $c"
			put "$f-xxh64-$cn" fuzz_pcompress_d
		done
	fi
	if [ -n "$HAVE_PENCRYPT" ]; then
		for c in aes-256-gcm chacha20-poly1305; do
			K="--raw-key-file '$TMP/key' --cipher $c"
			run "$P/pchunk -s 1K '$src' | $P/pencrypt $T $K"
			put "$f-$c" fuzz_pencrypt_d fuzz_pjoin
			run "$P/pchunk -s 1K '$src' | $P/pencrypt $T $K --hide-name"
			put "$f-$c-hidename" fuzz_pencrypt_d
			run "$P/pchunk -s 1K '$src' | $P/phash $T -a sha256 | $P/pencrypt $T $K"
			put "$f-sha256-$c" fuzz_pencrypt_d
			run "$P/pchunk -s 1K '$src' | $P/pencrypt $T $K | $P/phash $T -a xxh3"
			put "$f-$c-xxh3" fuzz_phash_check fuzz_pencrypt_d
			if [ -n "$HAVE_PCOMPRESS" ]; then
				run "$P/pchunk -s 1K '$src' | $P/phash $T -a xxh128 | $P/pcompress $T --zstd | $P/pencrypt $T $K"
				put "$f-xxh128-zstd-$c" fuzz_pencrypt_d
			fi
		done
		# password mode (cheap KDF): -d with a key file must refuse it
		run "$P/pchunk -s 1K '$src' | $P/pencrypt $T --password-file '$TMP/pw' --kdf-time 2 --kdf-memory 19M"
		put "$f-password" fuzz_pencrypt_d
	fi
done
# fuzz_stanza: stanza blocks cut out of pencrypt's records, and valid
# blocks made by the harness (odd first byte), kept as regression inputs
cp "$(dirname "$0")/regress/fuzz_stanza/"* "$OUT/fuzz_stanza/"
echo "make-seeds.sh: $n streams into $OUT"
