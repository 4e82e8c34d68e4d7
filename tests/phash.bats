#!/usr/bin/env bats
# phash: digests that agree with the stock tools (sha256sum, sha512sum, b2sum,
# xxhsum, openssl) for every algorithm, sum files the stock `-c` accepts,
# --check (byte-for-byte inverse, damage found and named), pjoin's fail-closed
# verification, depth mismatches, --sum from a recorded digest, usage errors.

bats_require_minimum_version 1.5.0
load helper

ALGOS="sha256 sha512 sha3-256 blake2b xxh64 xxh3 xxh128"

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# data KIND SIZE [SEED] > file: testdata/gen, or (while it is missing)
# urandom / a generated text of the same size
data() {
	if [ -x "$GEN" ]; then
		gen "$@"
	elif [ "$1" = random ]; then
		head -c "$2" /dev/urandom
	else
		yes 'the quick brown fox jumps over the lazy dog 0123456789' |
			head -c "$2"
	fi
}

# the inputs of the algorithm tests: empty, one byte, random of an odd size,
# text, exactly 2 x 64 KiB (chunk-aligned), and a larger multi-chunk file
inputs() {
	: > empty
	printf 'x' > one
	data random 300013 3 > random
	data text-like 200K 4 > text
	data random 128K 5 > aligned
	data mixed 3000001 6 > multi
}

# stock_line ALGO FILE [--tag]: the line the stock tool prints
stock_line() {
	local a=$1 f=$2 tag=${3:-} h
	case $a in
	sha256) sha256sum $tag "$f" ;;
	sha512) sha512sum $tag "$f" ;;
	blake2b) b2sum $tag "$f" ;;
	xxh64) xxhsum $tag -H1 "$f" 2>/dev/null ;;
	xxh3) xxhsum $tag -H3 "$f" 2>/dev/null ;;
	xxh128) xxhsum $tag -H2 "$f" 2>/dev/null ;;
	sha3-256)
		# openssl prints "SHA3-256(f)= hex": compare the hex, in the
		# coreutils layout (sha3sum's)
		h=$(openssl dgst -sha3-256 -r "$f" | cut -d' ' -f1)
		[ ${#h} -eq 64 ] || return 1
		if [ -n "$tag" ]; then
			echo "SHA3-256 ($f) = $h"
		else
			echo "$h  $f"
		fi ;;
	esac
}

# stock_checker ALGO: the stock program whose -c reads ALGO's sum lines
stock_checker() {
	case $1 in
	sha256) echo sha256sum ;;
	sha512) echo sha512sum ;;
	blake2b) echo b2sum ;;
	xxh*) echo xxhsum ;;
	*) return 1 ;;
	esac
}

# hex FILE OFFSET LEN: lowercase hex of LEN bytes at OFFSET
hex() {
	od -An -v -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'
}

# digest_at FILE SEQ DEPTH: offset of the DIGEST frame of chunk SEQ for the
# HASH record at stack index DEPTH (its header's raw field)
digest_at() {
	local off
	for off in $(frame_offsets "$1" | awk -v s="$2" '$2 == 3 && $3 == s { print $1 }'); do
		if [ "$(od -An -tu8 -j $((off + 16)) -N8 "$1" | tr -d ' ')" = "$3" ]; then
			echo "$off"
			return 0
		fi
	done
	return 1
}

# sums_match ALGO: pchunk | phash --sum equals the stock tool's line for
# every input and chunk size
sums_match() {
	local a=$1 f s want
	inputs
	for f in empty one random text aligned multi; do
		want=$(stock_line "$a" "$f")
		[ -n "$want" ]
		for s in 1K 64K default; do
			echo "# $a, $f, -s $s"
			if [ "$s" = default ]; then
				run -0 --separate-stderr bash -o pipefail -c \
				    'pchunk "$1" | phash -a "$2" --sum' _ "$f" "$a"
			else
				run -0 --separate-stderr bash -o pipefail -c \
				    'pchunk -s "$3" "$1" | phash -a "$2" --sum' \
				    _ "$f" "$a" "$s"
			fi
			assert_equal "$output" "$want"
			assert_equal "$stderr" ""
		done
	done
}

@test "sha256 --sum is sha256sum's line (empty, 1 byte, random, text, multi-chunk; -s 1K/64K/default)" {
	sums_match sha256
}

@test "sha512 --sum is sha512sum's line" {
	sums_match sha512
}

@test "sha3-256 --sum has openssl dgst -sha3-256's digest" {
	sums_match sha3-256
}

@test "blake2b --sum is b2sum's line" {
	sums_match blake2b
}

@test "xxh64 --sum is xxhsum -H1's line" {
	sums_match xxh64
}

@test "xxh3 --sum is xxhsum -H3's line (BSD style, like xxhsum)" {
	sums_match xxh3
	# xxhsum prints XXH3 in the BSD layout even without --tag
	run -0 bash -o pipefail -c 'pchunk random | phash -a xxh3 --sum'
	assert_regex "$output" '^XXH3 \(random\) = [0-9a-f]{16}$'
}

@test "xxh128 --sum is xxhsum -H2's line" {
	sums_match xxh128
}

@test "--sum --tag is the stock tool's --tag line for every algorithm" {
	local a f want
	data random 70000 7 > r.bin
	: > e.bin
	for a in $ALGOS; do
		for f in r.bin e.bin; do
			echo "# $a $f"
			want=$(stock_line "$a" "$f" --tag)
			run -0 --separate-stderr bash -o pipefail -c \
			    'pchunk -s 4K "$1" | phash -a "$2" --sum --tag' _ "$f" "$a"
			assert_equal "$output" "$want"
		done
	done
}

@test "sum files (plain and --tag) verify with sha256sum/sha512sum/b2sum/xxhsum -c, and fail once the file changes" {
	local a c
	data text-like 150K 8 > f.txt
	data random 10K 9 > g.bin
	for a in sha256 sha512 blake2b xxh64 xxh3 xxh128; do
		echo "# $a"
		c=$(stock_checker "$a")
		pchunk -s 16K f.txt | phash -a "$a" --sum > "$a.sums"
		pchunk g.bin | phash -a "$a" --sum >> "$a.sums"
		pchunk -s 16K f.txt | phash -a "$a" --sum --tag > "$a.tag"
		pchunk g.bin | phash -a "$a" --sum --tag >> "$a.tag"
		run -0 --separate-stderr "$c" -c "$a.sums"
		assert_output "f.txt: OK
g.bin: OK"
		run -0 --separate-stderr "$c" -c "$a.tag"
		assert_output "f.txt: OK
g.bin: OK"
	done
	# the checkers really check: change one byte of f.txt
	flip_byte f.txt 1000
	for a in sha256 sha512 blake2b xxh64 xxh3 xxh128; do
		c=$(stock_checker "$a")
		run -1 "$c" -c "$a.sums"
		assert_line "f.txt: FAILED"
		run -1 "$c" -c "$a.tag"
		assert_line "f.txt: FAILED"
	done
}

@test "--sum escapes names with a backslash or a newline like sha256sum/b2sum, and -c accepts them" {
	local f a c
	data random 5000 10 > 'back\slash'
	data random 5000 11 > $'new\nline'
	for f in 'back\slash' $'new\nline'; do
		for a in sha256 sha512 blake2b; do
			c=$(stock_checker "$a")
			for tag in "" --tag; do
				run -0 bash -o pipefail -c \
				    'pchunk "$1" | phash -a "$2" --sum $3' _ "$f" "$a" "$tag"
				assert_equal "$output" "$(stock_line "$a" "$f" "$tag")"
				echo "$output" > s.sums
				run -0 "$c" -c s.sums
			done
		done
	done
}

# xxhsum (0.8.1 here) neither escapes names nor reads escaped lines: a line
# with a leading backslash is rejected by `xxhsum -c`
@test "--sum for xxh64/xxh3/xxh128 prints a name with a backslash as xxhsum does, and xxhsum -c accepts it" {
	local a tag
	data random 5000 12 > 'back\slash'
	for a in xxh64 xxh3 xxh128; do
		for tag in "" --tag; do
			echo "# $a $tag"
			run -0 bash -o pipefail -c \
			    'pchunk "back\slash" | phash -a "$1" --sum $2' _ "$a" "$tag"
			assert_equal "$output" "$(stock_line "$a" 'back\slash' "$tag")"
			echo "$output" > s.sums
			run -0 xxhsum -c s.sums
		done
	done
}

@test "--sum of a stream read from stdin names it '-' like sha256sum" {
	data text-like 20K 13 > f.txt
	run -0 bash -o pipefail -c 'pchunk < f.txt | phash --sum'
	assert_output "$(sha256sum < f.txt)"
}

@test "DIGEST frames hold each chunk's digest, END's trailer the file's (format.md)" {
	local i off len dig
	data text-like 5000 14 > f.txt
	pchunk -s 1K f.txt > p.pfs
	phash -a sha256 < p.pfs > s.pfs
	phash -a xxh3 < p.pfs > x.pfs
	for i in 0 1 2 3 4; do
		dd if=f.txt of=c.bin bs=1024 skip=$i count=1 status=none
		# sha256: DIGEST seq i, raw 0 (stack index), 32 bytes
		read -r off _ _ len < <(frame s.pfs 3:"$i")
		[ -n "$off" ]
		assert_equal "$len" 32
		assert_equal "$(od -An -tu8 -j $((off + 16)) -N8 s.pfs | tr -d ' ')" 0
		dig=$(sha256sum < c.bin | cut -d' ' -f1)
		assert_equal "$(hex s.pfs $((off + 32)) 32)" "$dig"
		# xxh3: 8 bytes, big-endian like xxhsum prints it
		off=$(frame x.pfs 3:"$i" off)
		dig=$(xxhsum -H3 < c.bin 2>/dev/null | sed 's/.* = //')
		assert_equal "$(hex x.pfs $((off + 32)) 8)" "$dig"
	done
	# END: the pchunk END payload, then digest || d || L
	read -r off _ _ len < <(frame s.pfs 4:5)
	assert_equal "$(hex s.pfs $((off + 32 + len - 34)) 34)" \
		"$(sha256sum < f.txt | cut -d' ' -f1)0020"
	read -r off _ _ len < <(frame x.pfs 4:5)
	assert_equal "$(hex x.pfs $((off + 32 + len - 10)) 10)" \
		"$(xxhsum -H3 < f.txt 2>/dev/null | sed 's/.* = //')0008"
}

@test "phash | phash --check returns the stream byte for byte, and pjoin restores the file, for every algorithm" {
	local a f
	data random 300013 15 > r.bin
	data text-like 100K 16 > t.txt
	: > e.bin
	for f in r.bin t.txt e.bin; do
		pchunk -s 8K "$f" > p.pfs
		for a in $ALGOS; do
			echo "# $a $f"
			phash -a "$a" < p.pfs > h.pfs
			# it did add something
			run -1 cmp -s p.pfs h.pfs
			run -0 --separate-stderr phash --check h.pfs
			assert_equal "$stderr" ""
			phash --check h.pfs | cmp - p.pfs
			phash -a "$a" --check < h.pfs | cmp - p.pfs
			run -0 --separate-stderr pjoin -o "out.$a" h.pfs
			cmp "$f" "out.$a"
			rm -f "out.$a"
		done
	done
}

@test "the output does not depend on the number of threads" {
	data mixed 2M 17 > m.bin
	pchunk -s 4K m.bin > p.pfs
	phash -T 1 -a blake2b < p.pfs > t1.pfs
	phash -T 4 -a blake2b < p.pfs > t4.pfs
	cmp t1.pfs t4.pfs
	phash -T 1 --check < t4.pfs | cmp - p.pfs
	phash -T 3 --check < t1.pfs | cmp - p.pfs
}

@test "phash stacked twice (sha256 then xxh3): checked twice, pjoin verifies both, --sum reads either" {
	data text-like 50K 18 > f.txt
	pchunk -s 4K f.txt > p.pfs
	phash -a sha256 < p.pfs > s.pfs
	phash -a xxh3 < s.pfs > sx.pfs
	phash --check < sx.pfs | cmp - s.pfs
	phash --check < sx.pfs | phash --check | cmp - p.pfs
	run -0 bash -o pipefail -c 'phash -a xxh3 --check sx.pfs | phash -a sha256 --check | cmp - p.pfs'
	# the top record is xxh3: checking it as sha256 is refused
	run -1 --separate-stderr phash -a sha256 --check sx.pfs
	assert_equal "$stderr" "phash: sx.pfs: stream digests are xxh3, not sha256 (drop -a or use -a xxh3)"
	pjoin sx.pfs | cmp - f.txt
	run -0 phash -a sha256 --sum sx.pfs
	assert_output "$(sha256sum f.txt)"
	run -0 phash -a xxh3 --sum sx.pfs
	assert_output "$(xxhsum -H3 f.txt 2>/dev/null)"
	# an algorithm not recorded is computed from the (raw) payloads
	run -0 phash -a sha512 --sum sx.pfs
	assert_output "$(sha512sum f.txt)"
	# and damage to the lower record's DIGEST is found by the second
	# check and by pjoin
	off=$(digest_at sx.pfs 2 0)
	flip_byte sx.pfs $((off + 32 + 7))
	run -0 bash -c 'phash --check sx.pfs > top.pfs'
	run -1 --separate-stderr phash --check top.pfs
	assert_equal "$stderr" "phash: top.pfs: chunk 2 (bytes 8192-12287): sha256 digest mismatch (the chunk or its DIGEST frame is damaged)"
	run -1 --separate-stderr pjoin -o out.txt sx.pfs
	assert_equal "$stderr" "pjoin: sx.pfs: chunk 2 (bytes 8192-12287): sha256 digest mismatch (the chunk or its DIGEST frame is damaged)"
	assert_file_not_exists out.txt
}

# damaged streams: a 5000-byte text in 1 KiB chunks, hashed with sha256
mkdamaged() {
	data text-like 5000 19 > f.txt
	pchunk -s 1K f.txt | phash > h.pfs
	run -0 phash --check h.pfs
	cp h.pfs bad.pfs
}

@test "--check and pjoin find a flipped bit in a DATA payload, naming the chunk and its byte range" {
	local off
	mkdamaged
	off=$(frame bad.pfs 2:2 off)
	flip_byte bad.pfs $((off + 32 + 100))
	run -1 --separate-stderr phash --check bad.pfs
	assert_equal "$stderr" "phash: bad.pfs: chunk 2 (bytes 2048-3071): sha256 digest mismatch (the chunk or its DIGEST frame is damaged)"
	run -1 --separate-stderr pjoin bad.pfs
	assert_equal "$stderr" "pjoin: bad.pfs: chunk 2 (bytes 2048-3071): sha256 digest mismatch (the chunk or its DIGEST frame is damaged)"
	# -o leaves nothing behind
	run -1 pjoin -o out.txt bad.pfs
	assert_file_not_exists out.txt
	[ -z "$(ls -A | grep '^\.out')" ]
	# the last chunk (904 bytes)
	cp h.pfs bad4.pfs
	off=$(frame bad4.pfs 2:4 off)
	flip_byte bad4.pfs $((off + 32 + 903))
	run -1 --separate-stderr phash --check bad4.pfs
	assert_equal "$stderr" "phash: bad4.pfs: chunk 4 (bytes 4096-4999): sha256 digest mismatch (the chunk or its DIGEST frame is damaged)"
}

@test "pjoin --no-verify skips the digests (and so passes a damaged payload on)" {
	local off
	mkdamaged
	off=$(frame bad.pfs 2:2 off)
	flip_byte bad.pfs $((off + 32 + 100))
	run -0 pjoin --no-verify -o out.txt bad.pfs
	# exactly the one flipped byte differs, at 2048 + 100 (cmp counts from 1)
	run -1 cmp -l f.txt out.txt
	assert_equal "${#lines[@]}" 1
	assert_regex "${lines[0]}" "^ *2149 "
}

@test "--check and pjoin find a flipped bit in a DIGEST frame's payload" {
	local off
	mkdamaged
	off=$(frame bad.pfs 3:1 off)
	flip_byte bad.pfs $((off + 32 + 31))
	run -1 --separate-stderr phash --check bad.pfs
	assert_equal "$stderr" "phash: bad.pfs: chunk 1 (bytes 1024-2047): sha256 digest mismatch (the chunk or its DIGEST frame is damaged)"
	run -1 --separate-stderr pjoin -o out.txt bad.pfs
	assert_equal "$stderr" "pjoin: bad.pfs: chunk 1 (bytes 1024-2047): sha256 digest mismatch (the chunk or its DIGEST frame is damaged)"
	assert_file_not_exists out.txt
}

@test "--check and pjoin find a flipped bit in END's trailer (digest, depth and length bytes)" {
	local off len
	mkdamaged
	read -r off _ _ len < <(frame h.pfs 4:5)
	# the stream digest
	flip_byte bad.pfs $((off + 32 + len - 34))
	run -1 --separate-stderr phash --check bad.pfs
	assert_equal "$stderr" "phash: bad.pfs: END: sha256 digest of the whole stream does not match (damaged END frame or chunks)"
	run -1 --separate-stderr pjoin -o out.txt bad.pfs
	assert_equal "$stderr" "pjoin: bad.pfs: END: sha256 digest of the whole stream does not match (damaged END frame or chunks)"
	assert_file_not_exists out.txt
	# the depth byte, the length byte
	for k in 2 1; do
		cp h.pfs bad.pfs
		flip_byte bad.pfs $((off + 32 + len - k))
		run -1 --separate-stderr phash --check bad.pfs
		assert_equal "$stderr" "phash: bad.pfs: END: sha256 stream digest missing or damaged"
		run -1 --separate-stderr pjoin -o out.txt bad.pfs
		assert_equal "$stderr" "pjoin: bad.pfs: END: sha256 stream digest missing or damaged"
		assert_file_not_exists out.txt
	done
}

@test "--check and pjoin find a dropped and a duplicated DIGEST frame" {
	mkdamaged
	# frames: 0 HEAD, 1 DATA 0, 2 DIGEST 0, 3 DATA 1, 4 DIGEST 1, ...
	cut_frame h.pfs 4 > cut.pfs
	run -1 --separate-stderr phash --check cut.pfs
	assert_equal "$stderr" "phash: cut.pfs: chunk 1 (bytes 1024-2047): sha256 DIGEST frame missing"
	run -1 --separate-stderr pjoin cut.pfs
	assert_equal "$stderr" "pjoin: cut.pfs: chunk 1 (bytes 1024-2047): sha256 DIGEST frame missing"
	# the last chunk's, just before END
	cut_frame h.pfs 10 > cutlast.pfs
	run -1 --separate-stderr phash --check cutlast.pfs
	assert_equal "$stderr" "phash: cutlast.pfs: chunk 4 (bytes 4096-4999): sha256 DIGEST frame missing"
	run -1 pjoin -o out.txt cutlast.pfs
	assert_file_not_exists out.txt
	dup_frame h.pfs 4 > dup.pfs
	run -1 --separate-stderr phash --check dup.pfs
	assert_equal "$stderr" "phash: dup.pfs: chunk 1 (bytes 1024-2047): sha256 duplicated DIGEST frame"
	run -1 --separate-stderr pjoin dup.pfs
	assert_equal "$stderr" "pjoin: dup.pfs: chunk 1 (bytes 1024-2047): sha256 duplicated DIGEST frame"
}

@test "digests taken before compression and checked after: the depth mismatch is named" {
	command -v pcompress >/dev/null || skip "pcompress not built"
	data text-like 100K 20 > f.txt
	pchunk -s 16K f.txt > p.pfs
	run -1 --separate-stderr bash -o pipefail -c \
	    'phash < p.pfs | pcompress --zstd | phash --check > /dev/null'
	assert_regex "$stderr" "^phash: stdin: digests are not at this depth: stream is still compressed \(zstd[^)]*\): run 'pcompress -d' first$"
	# decompressed first, the check passes and restores the stream
	run -0 bash -o pipefail -c \
	    'phash < p.pfs | pcompress --zstd | pcompress -d | phash --check | cmp - p.pfs'
	# and digests taken after compression are checked at that depth
	run -0 bash -o pipefail -c \
	    'pcompress --zstd < p.pfs > z.pfs && phash -a xxh128 < z.pfs | phash --check | cmp - z.pfs'
}

@test "--sum prints the digest recorded in END once every digest the stream carries is checked; never a sum of damaged bytes" {
	data random 200K 21 > r.bin
	pchunk -s 16K r.bin > p.pfs
	run -0 bash -o pipefail -c 'phash -a xxh3 < p.pfs | phash -a xxh3 --sum'
	assert_output "$(xxhsum -H3 r.bin 2>/dev/null)"
	# recorded below another hash record
	run -0 bash -o pipefail -c 'phash -a xxh3 < p.pfs | phash -a sha256 | phash -a xxh3 --sum --tag'
	assert_output "$(xxhsum --tag -H3 r.bin 2>/dev/null)"
	# a damaged payload: the stored sum is the original file's, but
	# the bytes are not; the chunk's digest says so, and nothing is
	# printed, whichever algorithm is asked for
	phash < p.pfs > h.pfs
	cp h.pfs dh.pfs
	flip_byte dh.pfs $(( $(frame h.pfs 3 off) + 32 + 100 ))
	for a in sha256 xxh3; do
		run -1 --separate-stderr phash -a $a --sum dh.pfs
		assert_output ""
		assert_equal "$stderr" "phash: dh.pfs: chunk 1 (bytes 16384-32767): sha256 digest mismatch (the chunk or its DIGEST frame is damaged)"
	done
	# a damaged END trailer: the recorded sum is not printed
	cp h.pfs de.pfs
	flip_byte de.pfs $(( $(frame h.pfs END off) + 32 + 3 ))
	run -1 --separate-stderr phash --sum de.pfs
	assert_output ""
	assert_equal "$stderr" "phash: de.pfs: END: sha256 digest of the whole stream does not match (damaged END frame or chunks)"
	command -v pcompress >/dev/null || skip "pcompress not built"
	# the payloads are compressed: a recorded trailer below them could
	# not be checked, so it is not printed either
	run -1 --separate-stderr bash -o pipefail -c 'phash -a sha256 < p.pfs | pcompress --zstd | phash --sum'
	assert_output ""
	assert_regex "$stderr" "^phash: stdin: stream is still compressed \(zstd[^)]*\): run 'pcompress -d' first$"
	run -0 bash -o pipefail -c 'phash -a sha256 < p.pfs | pcompress --zstd | pcompress -d | phash --sum'
	assert_output "$(sha256sum r.bin)"
}

@test "--check refuses a HEAD whose recorded size is not what the stream holds, as pjoin does (a check that passes is not followed by a failed restore)" {
	data random 100K 24 > r.bin
	pchunk -s 16K r.bin | phash > h.pfs
	cp h.pfs d.pfs
	flip_byte d.pfs $(( $(frame h.pfs 0 off) + 32 + 10 ))
	run -0 pinfo d.pfs
	size=$(pinfo --json d.pfs | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])')
	[ "$size" != 102400 ]
	run -1 --separate-stderr bash -c 'phash --check d.pfs > /dev/null'
	assert_equal "$stderr" "phash: d.pfs: HEAD says the source has $size bytes but the stream holds 102400"
	run -1 --separate-stderr bash -c 'pjoin d.pfs > /dev/null'
	assert_equal "$stderr" "pjoin: d.pfs: HEAD says the source has $size bytes but the stream holds 102400"
}

@test "--sum of a range is refused: it would name the whole file (sha256sum -c would fail against it)" {
	data random 200K 23 > r.bin
	pchunk -s 16K r.bin > p.pfs
	run -1 --separate-stderr bash -o pipefail -c 'pchunk -s 16K --range 20K:10K r.bin | phash --sum'
	assert_output ""
	assert_equal "$stderr" "phash: stdin: a range stream holds part of the source: --sum is of a whole file (run it on the whole stream)"
	run -2 --separate-stderr phash --sum --range 20K:10K p.pfs
	assert_equal "${stderr_lines[0]}" "phash: --sum is of a whole file: not with --range"
	run -2 --separate-stderr phash --sum -f p.pfs
	assert_equal "${stderr_lines[0]}" "phash: -f applies to writing a stream, not to --sum"
}

# A HASH record above a COMPRESS record holds digests of the compressed
# payloads, not of the file: --sum must not print it as the file's checksum.
@test "--sum does not print a digest recorded after compression as the file's" {
	command -v pcompress >/dev/null || skip "pcompress not built"
	data text-like 100K 22 > f.txt
	pchunk -s 16K f.txt | pcompress --zstd > z.pfs
	zsum=$(pjoin --payload z.pfs | xxhsum -H3 2>/dev/null | sed 's/.* = //')
	phash -a xxh3 < z.pfs > zh.pfs
	run --separate-stderr phash -a xxh3 --sum zh.pfs
	refute_output --partial "$zsum"
	assert_equal "$status" 1
	assert_regex "$stderr" "^phash: zh.pfs: stream is still compressed \(zstd[^)]*\): run 'pcompress -d' first$"
}

@test "--sum does not print a digest recorded after encryption as the file's" {
	command -v pencrypt >/dev/null || skip "pencrypt not built"
	data text-like 100K 28 > f.txt
	pencrypt --keygen -o k
	pchunk -s 16K f.txt | pencrypt --key-file k > e.pfs
	esum=$(pjoin --payload e.pfs | xxhsum -H3 2>/dev/null | sed 's/.* = //')
	phash -a xxh3 < e.pfs > eh.pfs
	run --separate-stderr phash -a xxh3 --sum eh.pfs
	refute_output --partial "$esum"
	assert_equal "$status" 1
	assert_regex "$stderr" "^phash: eh.pfs: stream is still encrypted \(aes-256-gcm\): run 'pencrypt -d' first$"
}

@test "digests taken before encryption: --check and --sum name 'pencrypt -d'; after it both work" {
	command -v pencrypt >/dev/null || skip "pencrypt not built"
	data random 60K 29 > r.bin
	pencrypt --keygen -o k
	pchunk -s 8K r.bin | phash -a sha512 > h.pfs
	pencrypt --key-file k < h.pfs > he.pfs
	run -1 --separate-stderr phash --check he.pfs
	assert_equal "$stderr" "phash: he.pfs: digests are not at this depth: stream is still encrypted (aes-256-gcm): run 'pencrypt -d' first"
	# the END trailer is sealed: --sum cannot read the recorded digest
	run -1 --separate-stderr phash -a sha512 --sum he.pfs
	assert_output ""
	assert_equal "$stderr" "phash: he.pfs: stream is still encrypted (aes-256-gcm): run 'pencrypt -d' first"
	run -0 bash -o pipefail -c 'pencrypt -d --key-file k < he.pfs | phash --check | cmp - <(pchunk -s 8K r.bin)'
	run -0 bash -o pipefail -c 'pencrypt -d --key-file k < he.pfs | phash -a sha512 --sum'
	assert_output "$(sha512sum r.bin)"
}

@test "--sum of a truncated stream prints no line and fails" {
	data random 50K 23 > r.bin
	pchunk -s 4K r.bin > p.pfs
	phash < p.pfs > h.pfs
	for s in p.pfs h.pfs; do
		head -c $(( $(stat -c %s $s) - 10 )) $s > t.pfs
		run -1 --separate-stderr phash --sum t.pfs
		assert_output ""
		assert_regex "$stderr" "^phash: t.pfs: truncated stream"
	done
}

@test "unknown algorithm: usage error, exit 2" {
	run -2 --separate-stderr phash -a md5
	assert_output ""
	assert_equal "$stderr" "phash: unknown algorithm 'md5' (see 'phash -a list')
Try 'phash --help' for more information."
	run -2 --separate-stderr phash --check -a SHA256
	assert_equal "${stderr_lines[0]}" "phash: unknown algorithm 'SHA256' (see 'phash -a list')"
	run -2 --separate-stderr phash --sum -a ''
	assert_equal "${stderr_lines[0]}" "phash: unknown algorithm '' (see 'phash -a list')"
}

@test "-a list lists the seven algorithms" {
	run -0 --separate-stderr phash -a list
	assert_equal "${#lines[@]}" 7
	assert_equal "$(printf '%s\n' "${lines[@]}" | awk '{ print $1 }' | tr '\n' ' ')" "$ALGOS "
	assert_line --index 0 --regexp '^sha256 +256 bits'
	assert_line --index 3 --regexp '^blake2b +512 bits'
	assert_line --index 6 --regexp '^xxh128 +128 bits'
	assert_equal "$stderr" ""
}

@test "--tag without --sum, --check with --sum: usage errors" {
	data random 2K 24 > r.bin
	pchunk r.bin > p.pfs
	run -2 --separate-stderr phash --tag p.pfs
	assert_output ""
	assert_equal "$stderr" "phash: --tag only applies to --sum
Try 'phash --help' for more information."
	run -2 --separate-stderr phash --check --tag p.pfs
	assert_equal "${stderr_lines[0]}" "phash: --tag only applies to --sum"
	run -2 --separate-stderr phash --check --sum p.pfs
	assert_equal "$stderr" "phash: --check and --sum exclude each other
Try 'phash --help' for more information."
}

@test "--check of a stream without digests, and with digests of another algorithm" {
	data random 20K 25 > r.bin
	pchunk -s 4K r.bin > p.pfs
	run -1 --separate-stderr phash --check p.pfs
	assert_output ""
	assert_equal "$stderr" "phash: p.pfs: stream has no digests (no hash record): nothing to check"
	# nor under another record: no advice to undo that record first
	pcompress --lz4 < p.pfs > c.pfs
	run -1 --separate-stderr phash --check c.pfs
	assert_equal "$stderr" "phash: c.pfs: stream has no digests (no hash record): nothing to check"
	phash < p.pfs | pcompress --lz4 > hc.pfs
	run -1 --separate-stderr phash --check hc.pfs
	assert_equal "$stderr" "phash: hc.pfs: digests are not at this depth: stream is still compressed (lz4 -1): run 'pcompress -d' first"
	phash -a sha512 < p.pfs > h.pfs
	run -1 --separate-stderr phash -a blake2b --check h.pfs
	assert_output ""
	assert_equal "$stderr" "phash: h.pfs: stream digests are sha512, not blake2b (drop -a or use -a sha512)"
	run -0 bash -c 'phash -a sha512 --check h.pfs | cmp - p.pfs'
}

@test "a file that is not a frame stream is refused in every mode" {
	data text-like 2K 26 > f.txt
	for m in "" --check --sum; do
		run -1 --separate-stderr phash $m f.txt
		assert_output ""
		assert_equal "$stderr" "phash: f.txt: not a frame stream (missing signature; 'pchunk FILE' makes one)"
	done
}

@test "sixteen stacked hash records (the limit) check, verify and sum; a seventeenth is refused" {
	local i c
	data text-like 3K 27 > f.txt
	c="pchunk -s 1K f.txt"
	for i in $(seq 16); do c+=" | phash -a sha512"; done
	run -0 bash -o pipefail -c "$c > s16.pfs"
	run -0 phash -a sha512 --sum s16.pfs
	assert_output "$(sha512sum f.txt)"
	pjoin s16.pfs | cmp - f.txt
	c="cat s16.pfs"
	for i in $(seq 16); do c+=" | phash --check"; done
	run -0 bash -o pipefail -c "$c | cmp - <(pchunk -s 1K f.txt)"
	run -1 --separate-stderr phash -a xxh64 s16.pfs
	assert_equal "$stderr" "phash: s16.pfs: the stream already has 16 stage records (the limit)"
}

@test "--sum to a full disk says why, exit 1" {
	gen random 5000 > d.bin
	pchunk d.bin | phash > d.pfs
	run -1 --separate-stderr bash -c 'phash --sum d.pfs > /dev/full'
	assert_equal "$stderr" "phash: stdout: write error: No space left on device"
}
