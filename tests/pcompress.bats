#!/usr/bin/env bats
# pcompress: round trips for every algorithm, the COMPRESS stage record,
# interop with the stock zstd/lz4/brotli tools, damaged and hostile payloads,
# usage errors, determinism across thread counts.

bats_require_minimum_version 1.5.0
load helper

# the inputs, made once for the file and copied into every test's
# directory (70 ms a test made, 12 ms copied)
setup_file() {
	mkdir "$BATS_FILE_TMPDIR/fixtures"
	cd "$BATS_FILE_TMPDIR/fixtures"
	gen random 300K > random.bin
	gen text-like 1M > text.bin
	gen zeros 2M > zeros.bin
	: > empty.bin
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	cp -p "$BATS_FILE_TMPDIR"/fixtures/* .
}

# roundtrip ALGO LEVEL FILE CHUNK: compress, check the stage inverse byte
# for byte, and that pjoin restores the file (helper.bash)
roundtrip() {
	round_trip "$3" "$4" "pcompress --$1 -l $2" "pcompress -d"
}

# replace_payload FILE N PAYLOAD > out: FILE with the payload of its N-th
# frame replaced by the bytes of PAYLOAD (header length fixed and resealed)
replace_payload() {
	local f=$1 n=$2 p=$3 off len
	read -r off _ _ len < <(frame "$f" "$n")
	head -c $((off + 32)) "$f" > rp.tmp
	put_le rp.tmp $((off + 4)) 4 "$(stat -c %s "$p")"
	reseal rp.tmp "$off"
	cat rp.tmp "$p"
	tail -c +$((off + 32 + len + 1)) "$f"
}

# zstd round trips: levels -5, 1, 3; random, text, zeros, empty; 1K, 64K, 1M chunks
@test "zstd round trip: level -5, random, 1K chunks" { roundtrip zstd -5 random.bin 1K; }
@test "zstd round trip: level -5, random, 64K chunks" { roundtrip zstd -5 random.bin 64K; }
@test "zstd round trip: level -5, random, 1M chunks" { roundtrip zstd -5 random.bin 1M; }
@test "zstd round trip: level -5, text, 1K chunks" { roundtrip zstd -5 text.bin 1K; }
@test "zstd round trip: level -5, text, 64K chunks" { roundtrip zstd -5 text.bin 64K; }
@test "zstd round trip: level -5, text, 1M chunks" { roundtrip zstd -5 text.bin 1M; }
@test "zstd round trip: level -5, zeros, 1K chunks" { roundtrip zstd -5 zeros.bin 1K; }
@test "zstd round trip: level -5, zeros, 64K chunks" { roundtrip zstd -5 zeros.bin 64K; }
@test "zstd round trip: level -5, zeros, 1M chunks" { roundtrip zstd -5 zeros.bin 1M; }
@test "zstd round trip: level -5, empty, 1K chunks" { roundtrip zstd -5 empty.bin 1K; }
@test "zstd round trip: level -5, empty, 64K chunks" { roundtrip zstd -5 empty.bin 64K; }
@test "zstd round trip: level -5, empty, 1M chunks" { roundtrip zstd -5 empty.bin 1M; }
@test "zstd round trip: level 1, random, 1K chunks" { roundtrip zstd 1 random.bin 1K; }
@test "zstd round trip: level 1, random, 64K chunks" { roundtrip zstd 1 random.bin 64K; }
@test "zstd round trip: level 1, random, 1M chunks" { roundtrip zstd 1 random.bin 1M; }
@test "zstd round trip: level 1, text, 1K chunks" { roundtrip zstd 1 text.bin 1K; }
@test "zstd round trip: level 1, text, 64K chunks" { roundtrip zstd 1 text.bin 64K; }
@test "zstd round trip: level 1, text, 1M chunks" { roundtrip zstd 1 text.bin 1M; }
@test "zstd round trip: level 1, zeros, 1K chunks" { roundtrip zstd 1 zeros.bin 1K; }
@test "zstd round trip: level 1, zeros, 64K chunks" { roundtrip zstd 1 zeros.bin 64K; }
@test "zstd round trip: level 1, zeros, 1M chunks" { roundtrip zstd 1 zeros.bin 1M; }
@test "zstd round trip: level 1, empty, 1K chunks" { roundtrip zstd 1 empty.bin 1K; }
@test "zstd round trip: level 1, empty, 64K chunks" { roundtrip zstd 1 empty.bin 64K; }
@test "zstd round trip: level 1, empty, 1M chunks" { roundtrip zstd 1 empty.bin 1M; }
@test "zstd round trip: level 3, random, 1K chunks" { roundtrip zstd 3 random.bin 1K; }
@test "zstd round trip: level 3, random, 64K chunks" { roundtrip zstd 3 random.bin 64K; }
@test "zstd round trip: level 3, random, 1M chunks" { roundtrip zstd 3 random.bin 1M; }
@test "zstd round trip: level 3, text, 1K chunks" { roundtrip zstd 3 text.bin 1K; }
@test "zstd round trip: level 3, text, 64K chunks" { roundtrip zstd 3 text.bin 64K; }
@test "zstd round trip: level 3, text, 1M chunks" { roundtrip zstd 3 text.bin 1M; }
@test "zstd round trip: level 3, zeros, 1K chunks" { roundtrip zstd 3 zeros.bin 1K; }
@test "zstd round trip: level 3, zeros, 64K chunks" { roundtrip zstd 3 zeros.bin 64K; }
@test "zstd round trip: level 3, zeros, 1M chunks" { roundtrip zstd 3 zeros.bin 1M; }
@test "zstd round trip: level 3, empty, 1K chunks" { roundtrip zstd 3 empty.bin 1K; }
@test "zstd round trip: level 3, empty, 64K chunks" { roundtrip zstd 3 empty.bin 64K; }
@test "zstd round trip: level 3, empty, 1M chunks" { roundtrip zstd 3 empty.bin 1M; }

@test "zstd high levels on small input: 19, and 22 with --ultra" {
	head -c 100000 text.bin > small.bin
	roundtrip zstd 19 small.bin 64K
	pchunk -s 64K small.bin > s.pfs
	pcompress --ultra -l 22 < s.pfs | pcompress -d | cmp - s.pfs
}

# lz4 round trips: levels 1, 9, 12; random, text, zeros, empty; 1K, 64K, 1M
# chunks (level 12 on text only in 64K chunks: it is slow)
@test "lz4 round trip: level 1, random, 1K chunks" { roundtrip lz4 1 random.bin 1K; }
@test "lz4 round trip: level 1, random, 64K chunks" { roundtrip lz4 1 random.bin 64K; }
@test "lz4 round trip: level 1, random, 1M chunks" { roundtrip lz4 1 random.bin 1M; }
@test "lz4 round trip: level 1, text, 1K chunks" { roundtrip lz4 1 text.bin 1K; }
@test "lz4 round trip: level 1, text, 64K chunks" { roundtrip lz4 1 text.bin 64K; }
@test "lz4 round trip: level 1, text, 1M chunks" { roundtrip lz4 1 text.bin 1M; }
@test "lz4 round trip: level 1, zeros, 1K chunks" { roundtrip lz4 1 zeros.bin 1K; }
@test "lz4 round trip: level 1, zeros, 64K chunks" { roundtrip lz4 1 zeros.bin 64K; }
@test "lz4 round trip: level 1, zeros, 1M chunks" { roundtrip lz4 1 zeros.bin 1M; }
@test "lz4 round trip: level 1, empty, 1K chunks" { roundtrip lz4 1 empty.bin 1K; }
@test "lz4 round trip: level 1, empty, 64K chunks" { roundtrip lz4 1 empty.bin 64K; }
@test "lz4 round trip: level 1, empty, 1M chunks" { roundtrip lz4 1 empty.bin 1M; }
@test "lz4 round trip: level 9, random, 1K chunks" { roundtrip lz4 9 random.bin 1K; }
@test "lz4 round trip: level 9, random, 64K chunks" { roundtrip lz4 9 random.bin 64K; }
@test "lz4 round trip: level 9, random, 1M chunks" { roundtrip lz4 9 random.bin 1M; }
@test "lz4 round trip: level 9, text, 1K chunks" { roundtrip lz4 9 text.bin 1K; }
@test "lz4 round trip: level 9, text, 64K chunks" { roundtrip lz4 9 text.bin 64K; }
@test "lz4 round trip: level 9, text, 1M chunks" { roundtrip lz4 9 text.bin 1M; }
@test "lz4 round trip: level 9, zeros, 1K chunks" { roundtrip lz4 9 zeros.bin 1K; }
@test "lz4 round trip: level 9, zeros, 64K chunks" { roundtrip lz4 9 zeros.bin 64K; }
@test "lz4 round trip: level 9, zeros, 1M chunks" { roundtrip lz4 9 zeros.bin 1M; }
@test "lz4 round trip: level 9, empty, 1K chunks" { roundtrip lz4 9 empty.bin 1K; }
@test "lz4 round trip: level 9, empty, 64K chunks" { roundtrip lz4 9 empty.bin 64K; }
@test "lz4 round trip: level 9, empty, 1M chunks" { roundtrip lz4 9 empty.bin 1M; }
@test "lz4 round trip: level 12, random, 1K chunks" { roundtrip lz4 12 random.bin 1K; }
@test "lz4 round trip: level 12, random, 64K chunks" { roundtrip lz4 12 random.bin 64K; }
@test "lz4 round trip: level 12, random, 1M chunks" { roundtrip lz4 12 random.bin 1M; }
@test "lz4 round trip: level 12, text, 64K chunks" { roundtrip lz4 12 text.bin 64K; }
@test "lz4 round trip: level 12, zeros, 1K chunks" { roundtrip lz4 12 zeros.bin 1K; }
@test "lz4 round trip: level 12, zeros, 64K chunks" { roundtrip lz4 12 zeros.bin 64K; }
@test "lz4 round trip: level 12, zeros, 1M chunks" { roundtrip lz4 12 zeros.bin 1M; }
@test "lz4 round trip: level 12, empty, 1K chunks" { roundtrip lz4 12 empty.bin 1K; }
@test "lz4 round trip: level 12, empty, 64K chunks" { roundtrip lz4 12 empty.bin 64K; }
@test "lz4 round trip: level 12, empty, 1M chunks" { roundtrip lz4 12 empty.bin 1M; }

# brotli round trips: levels 0 and 5 on random, text, zeros, empty in 1K,
# 64K, 1M chunks; level 11 on small input
@test "brotli round trip: level 0, random, 1K chunks" { roundtrip brotli 0 random.bin 1K; }
@test "brotli round trip: level 5, random, 1K chunks" { roundtrip brotli 5 random.bin 1K; }
@test "brotli round trip: level 0, random, 64K chunks" { roundtrip brotli 0 random.bin 64K; }
@test "brotli round trip: level 5, random, 64K chunks" { roundtrip brotli 5 random.bin 64K; }
@test "brotli round trip: level 0, random, 1M chunks" { roundtrip brotli 0 random.bin 1M; }
@test "brotli round trip: level 5, random, 1M chunks" { roundtrip brotli 5 random.bin 1M; }
@test "brotli round trip: level 0, text, 1K chunks" { roundtrip brotli 0 text.bin 1K; }
@test "brotli round trip: level 5, text, 1K chunks" { roundtrip brotli 5 text.bin 1K; }
@test "brotli round trip: level 0, text, 64K chunks" { roundtrip brotli 0 text.bin 64K; }
@test "brotli round trip: level 5, text, 64K chunks" { roundtrip brotli 5 text.bin 64K; }
@test "brotli round trip: level 0, text, 1M chunks" { roundtrip brotli 0 text.bin 1M; }
@test "brotli round trip: level 5, text, 1M chunks" { roundtrip brotli 5 text.bin 1M; }
@test "brotli round trip: level 0, zeros, 1K chunks" { roundtrip brotli 0 zeros.bin 1K; }
@test "brotli round trip: level 5, zeros, 1K chunks" { roundtrip brotli 5 zeros.bin 1K; }
@test "brotli round trip: level 0, zeros, 64K chunks" { roundtrip brotli 0 zeros.bin 64K; }
@test "brotli round trip: level 5, zeros, 64K chunks" { roundtrip brotli 5 zeros.bin 64K; }
@test "brotli round trip: level 0, zeros, 1M chunks" { roundtrip brotli 0 zeros.bin 1M; }
@test "brotli round trip: level 5, zeros, 1M chunks" { roundtrip brotli 5 zeros.bin 1M; }
@test "brotli round trip: level 0, empty, 1K chunks" { roundtrip brotli 0 empty.bin 1K; }
@test "brotli round trip: level 5, empty, 1K chunks" { roundtrip brotli 5 empty.bin 1K; }
@test "brotli round trip: level 0, empty, 64K chunks" { roundtrip brotli 0 empty.bin 64K; }
@test "brotli round trip: level 5, empty, 64K chunks" { roundtrip brotli 5 empty.bin 64K; }
@test "brotli round trip: level 0, empty, 1M chunks" { roundtrip brotli 0 empty.bin 1M; }
@test "brotli round trip: level 5, empty, 1M chunks" { roundtrip brotli 5 empty.bin 1M; }
@test "brotli round trip: level 11, 100K of text, 64K chunks" { head -c 100000 text.bin > small.bin; roundtrip brotli 11 small.bin 64K; }
@test "brotli round trip: level 11, empty, 1K chunks" { roundtrip brotli 11 empty.bin 1K; }

@test "default is zstd -3; the record is [algorithm, level as int8] and the cap the codec's bound" {
	pchunk -s 64K text.bin > s.pfs
	pcompress < s.pfs > a.pfs
	pcompress --zstd -l 3 < s.pfs | cmp - a.pfs
	run -0 pinfo a.pfs
	assert_output --partial "zstd -3"
	# the last 10 bytes of HEAD: kind 1, 0, params length 2, cap, params
	# ZSTD_compressBound(65536) = 65536 + 256 + 32 = 65824 = 0x10120
	hl=$(od -An -tu4 -j 12 -N4 a.pfs | tr -d ' ')
	run bash -c "tail -c +$((40 + hl - 10 + 1)) a.pfs | head -c 10 | od -An -tx1"
	assert_output " 01 00 02 00 20 01 01 00 01 03"
	pcompress --lz4 -l 9 < s.pfs > b.pfs
	run bash -c "tail -c +$((40 + hl - 1)) b.pfs | head -c 2 | od -An -tx1"
	assert_output " 02 09"
	pcompress --zstd -l -5 < s.pfs > c.pfs
	run bash -c "tail -c +$((40 + hl - 1)) c.pfs | head -c 2 | od -An -tx1"
	assert_output " 01 fb"
}

@test "the stage inverse is byte for byte, also stacked and on a hashed stream" {
	pchunk -s 64K text.bin > s.pfs
	pcompress --lz4 < s.pfs | pcompress --zstd | pcompress -d | pcompress -d | cmp - s.pfs
	command -v phash >/dev/null || skip "phash not built"
	phash -a xxh3 < s.pfs > h.pfs
	pcompress --brotli < h.pfs | pcompress -d | cmp - h.pfs
	run -0 bash -o pipefail -c 'pcompress < h.pfs | pcompress -d | phash --check | pjoin | cmp - text.bin'
}

@test "interop: pjoin --payload is a .zst / .lz4 file for stock zstd -d / lz4 -d" {
	pchunk -s 64K text.bin > s.pfs
	run -0 bash -o pipefail -c 'pcompress --zstd < s.pfs | pjoin --payload | zstd -dc | cmp - text.bin'
	run -0 bash -o pipefail -c 'pcompress --zstd -l 9 < s.pfs | pjoin --payload > f.zst'
	run -0 zstd -t f.zst
	run -0 bash -o pipefail -c 'pcompress --lz4 < s.pfs | pjoin --payload | lz4 -dc | cmp - text.bin'
	run -0 bash -o pipefail -c 'pcompress --lz4 -l 9 < s.pfs | pjoin --payload | lz4 -dc | cmp - text.bin'
	pchunk -s 64K random.bin > r.pfs
	run -0 bash -o pipefail -c 'pcompress --zstd < r.pfs | pjoin --payload | zstd -dc | cmp - random.bin'
	run -0 bash -o pipefail -c 'pcompress --lz4 < r.pfs | pjoin --payload | lz4 -dc | cmp - random.bin'
	# Brotli streams cannot be concatenated: one chunk is a .br file
	pchunk -s 1M text.bin > one.pfs
	run -0 bash -o pipefail -c 'pcompress --brotli < one.pfs | pjoin --payload | brotli -dc | cmp - text.bin'
}

@test "lz4: a chunk's payload is byte for byte what lz4 -1 writes with the same frame settings (the checksums are written by pcompress, not liblz4)" {
	# one chunk: 1 MiB blocks below 4 MiB chunks, 4 MiB blocks at the
	# default 8 MiB; lz4 writes the content checksum by default, and the
	# content size with --content-size
	head -c 1000000 text.bin > t1.bin
	pchunk -s 1M t1.bin | pcompress --lz4 | pjoin --payload > ours.lz4
	lz4 -1 -B6 --content-size -c t1.bin > stock.lz4
	cmp ours.lz4 stock.lz4
	pchunk -s 1M random.bin | pcompress --lz4 | pjoin --payload > ours.lz4
	lz4 -1 -B6 --content-size -c random.bin > stock.lz4
	cmp ours.lz4 stock.lz4
	gen text-like 5M > t5.bin
	pchunk t5.bin | pcompress --lz4 -l 2 | pjoin --payload > ours.lz4
	lz4 -2 -B7 --content-size -c t5.bin > stock.lz4
	cmp ours.lz4 stock.lz4
}

@test "lz4: a damaged stored block is found by the content checksum alone, and a damaged frame descriptor by its header checksum" {
	# random data: LZ4 stores the blocks raw, so nothing but the content
	# checksum (checked by pcompress, not liblz4) can see a changed byte
	pchunk -s 100K random.bin | pcompress --lz4 > l.pfs
	read -r off _ _ len < <(frame l.pfs 3)     # chunk 2
	flip_byte l.pfs $((off + 32 + len / 2))
	run -1 --separate-stderr bash -c 'pcompress -d l.pfs > /dev/null'
	assert_equal "$stderr" "pcompress: l.pfs: chunk 2: lz4 frame is corrupted: content checksum mismatch"
	run -1 bash -c 'pcompress -d l.pfs | pjoin -o out.bin'
	assert_file_not_exists out.bin
	# the content size in the descriptor changed: HC no longer matches it
	pchunk -s 100K random.bin | pcompress --lz4 > l.pfs
	read -r off _ _ len < <(frame l.pfs 2)     # chunk 1
	flip_byte l.pfs $((off + 32 + 6))          # magic 4, FLG, BD, size
	run -1 --separate-stderr bash -c 'pcompress -d l.pfs > /dev/null'
	assert_equal "$stderr" "pcompress: l.pfs: chunk 1: lz4 frame header is bad: header checksum mismatch"
}

@test "default 8M chunks: each zstd frame's window covers its chunk; pjoin --payload | zstd -d restores a multi-chunk file" {
	gen text-like 20M > big.bin
	pchunk big.bin > s.pfs
	run -0 pinfo --json s.pfs
	assert_output --partial '"chunk_size":8388608'
	assert_output --partial '"chunks":3'
	pcompress --zstd -T 2 < s.pfs > c2.pfs
	pcompress --zstd -T 1 < s.pfs | cmp - c2.pfs
	pjoin --payload < c2.pfs > big.zst
	run -0 zstd -lv big.zst
	assert_output --partial '# Zstandard Frames: 3'
	assert_output --partial 'Check: XXH64'
	run -0 bash -o pipefail -c 'zstd -dc big.zst | cmp - big.bin'
	# from stdin (unknown size), through stock zstd's streaming decoder
	run -0 bash -o pipefail -c 'cat big.bin | pchunk | pcompress --zstd | pjoin --payload | zstd -d | cmp - big.bin'
	# one full chunk: an 8 MiB window (level 3 alone would use 2 MiB),
	# within what zstd -d accepts by default
	head -c 8M big.bin > eight.bin
	pchunk eight.bin | pcompress --zstd | pjoin --payload > eight.zst
	run -0 zstd -lv eight.zst
	assert_output --partial 'Window Size: 8.00 MiB (8388608 B)'
	assert_output --partial 'Decompressed Size: 8.00 MiB (8388608 B)'
	run -0 bash -o pipefail -c 'zstd -dc eight.zst | cmp - eight.bin'
	# a chunk over 128 MiB: the window stops at 128 MiB (windowLog 27),
	# the most zstd -d accepts without --long or --memory
	gen zeros 130M > z.bin
	pchunk -s 256M z.bin | pcompress --zstd -l 1 -T 1 | pjoin --payload > z.zst
	run -0 zstd -lv z.zst
	assert_output --partial 'Window Size: 128 MiB (134217728 B)'
	run -0 bash -o pipefail -c 'zstd -d < z.zst | cmp - z.bin'
}

@test "incompressible input costs little: stored blocks" {
	pchunk -s 64K random.bin > s.pfs
	for a in zstd lz4 brotli; do
		pcompress "--$a" < s.pfs > c.pfs
		[ "$(stat -c %s c.pfs)" -lt $(( $(stat -c %s s.pfs) * 1005 / 1000 )) ]
	done
}

@test "stored zstd blocks decode in place, checked: a damaged byte of random data is found, and nothing of its chunk is written" {
	gen random 1M > big.bin          # 4 chunks of 2 raw blocks each
	pchunk -s 256K big.bin > s.pfs
	pcompress --zstd < s.pfs > z.pfs
	run -0 bash -c 'pcompress -d < z.pfs | pjoin | cmp - big.bin'
	# the same bytes through stock zstd: the frames are raw blocks
	pjoin --payload < z.pfs | zstd -d -q -c | cmp - big.bin
	read -r off _ _ len < <(frame z.pfs 3)     # chunk 2
	cp z.pfs bad.pfs; flip_byte bad.pfs $((off + 32 + len / 2))
	run -1 --separate-stderr pcompress -d bad.pfs
	assert_equal "$stderr" "pcompress: bad.pfs: chunk 2: zstd frame is corrupted: Restored data doesn't match checksum"
	# what pcompress wrote before failing: DATA frames of chunks 0 and 1 only
	pcompress -d bad.pfs 2>/dev/null > part.pfs || true
	run py 'print(sorted(f[4] for f in frames(open(sys.argv[1], "rb").read()) if f[1] == 2))' part.pfs
	assert_output "[0, 1]"
}

@test "a damaged zstd or lz4 payload: exit 1, the chunk is named, pjoin -o leaves nothing" {
	pchunk -s 64K text.bin > s.pfs
	pcompress --zstd < s.pfs > z.pfs
	# the last 4 bytes of a zstd frame are its checksum
	read -r off _ _ len < <(frame z.pfs 3)     # chunk 2
	cp z.pfs bad.pfs; flip_byte bad.pfs $((off + 32 + len - 1))
	run -1 --separate-stderr pcompress -d bad.pfs
	assert_equal "$stderr" "pcompress: bad.pfs: chunk 2: zstd frame is corrupted: Restored data doesn't match checksum"
	cp z.pfs bad2.pfs; flip_byte bad2.pfs $((off + 32 + len / 2))
	run -1 --separate-stderr bash -c 'pcompress -d < bad2.pfs > /dev/null'
	stderr_has -r "^pcompress: stdin: chunk 2: zstd frame is corrupted: "
	run -1 bash -c 'pcompress -d < bad2.pfs | pjoin -o out.bin'
	assert_file_not_exists out.bin
	run bash -c 'ls -A | grep -c "^\.out\.bin\." || true'
	assert_output 0
	pcompress --lz4 < s.pfs > l.pfs
	read -r off _ _ len < <(frame l.pfs 4)     # chunk 3
	flip_byte l.pfs $((off + 32 + len - 1))
	run -1 --separate-stderr pcompress -d l.pfs
	assert_equal "$stderr" "pcompress: l.pfs: chunk 3: lz4 frame is corrupted: content checksum mismatch"
}

@test "hostile payloads: bombs, undeclared sizes, trailing bytes, foreign data" {
	head -c 1024 text.bin > k.bin
	pchunk -s 1K k.bin > s.pfs
	pcompress --zstd < s.pfs > z.pfs
	# a 10 MiB zstd bomb in a 1 KiB chunk
	gen zeros 10M > tenmeg; zstd -19 -q -c tenmeg > bomb.zst
	replace_payload z.pfs 1 bomb.zst > b.pfs
	run -1 --separate-stderr pcompress -d b.pfs
	assert_equal "$stderr" "pcompress: b.pfs: chunk 0: zstd frame declares 10485760 bytes but the chunk has 1024"
	# no content size (zstd reading a pipe does not know it)
	zstd -q -c < k.bin > nosize.zst
	replace_payload z.pfs 1 nosize.zst > n.pfs
	run -1 --separate-stderr pcompress -d n.pfs
	assert_equal "$stderr" "pcompress: n.pfs: chunk 0: zstd frame does not declare its size"
	# a valid frame followed by junk
	zstd -q -c k.bin > k.zst; { cat k.zst; printf 'xyz'; } > trail.zst
	replace_payload z.pfs 1 trail.zst > t.pfs
	run -1 --separate-stderr pcompress -d t.pfs
	assert_equal "$stderr" "pcompress: t.pfs: chunk 0: 3 trailing bytes after the zstd frame"
	printf 'hello' > junk
	replace_payload z.pfs 1 junk > j.pfs
	run -1 --separate-stderr pcompress -d j.pfs
	assert_equal "$stderr" "pcompress: j.pfs: chunk 0: not a zstd frame"
	# lz4: no content size (lz4's default), and trailing bytes
	pcompress --lz4 < s.pfs > l.pfs
	lz4 -q -c < k.bin > nosize.lz4
	replace_payload l.pfs 1 nosize.lz4 > ln.pfs
	run -1 --separate-stderr pcompress -d ln.pfs
	assert_equal "$stderr" "pcompress: ln.pfs: chunk 0: lz4 frame does not declare its size"
	lz4 -q --content-size -c k.bin > k.lz4; { cat k.lz4; printf 'ab'; } > trail.lz4
	replace_payload l.pfs 1 trail.lz4 > lt.pfs
	run -1 --separate-stderr pcompress -d lt.pfs
	assert_equal "$stderr" "pcompress: lt.pfs: chunk 0: 2 trailing bytes after the lz4 frame"
	replace_payload l.pfs 1 junk > lj.pfs
	run -1 --separate-stderr pcompress -d lj.pfs
	assert_equal "$stderr" "pcompress: lj.pfs: chunk 0: not an lz4 frame"
	# brotli declares no size: decoding stops at the bound
	pcompress --brotli < s.pfs > r.pfs
	brotli -q 5 -c tenmeg > bomb.br
	replace_payload r.pfs 1 bomb.br > rb.pfs
	run -1 --separate-stderr pcompress -d rb.pfs
	assert_equal "$stderr" "pcompress: rb.pfs: chunk 0: brotli stream decodes to more than the bound of 1024 bytes"
	brotli -c k.bin > k.br; { cat k.br; printf 'q'; } > trail.br
	replace_payload r.pfs 1 trail.br > rt.pfs
	run -1 --separate-stderr pcompress -d rt.pfs
	assert_equal "$stderr" "pcompress: rt.pfs: chunk 0: 1 trailing bytes after the brotli stream"
}

@test "brotli streams a chunk at a time on one thread unless -T asks for more: the same bytes both ways, and the same checks" {
	pchunk -s 64K text.bin > s.pfs
	pcompress --brotli < s.pfs > one.pfs
	pcompress --brotli -T 2 < s.pfs > two.pfs
	cmp one.pfs two.pfs
	pcompress -d < one.pfs | pjoin | cmp - text.bin
	pcompress -d -T 2 < one.pfs | pjoin | cmp - text.bin
	pcompress -d -T 1 < one.pfs | pjoin | cmp - text.bin
	# streaming has no worker threads; -T 2 has two
	pcompress --brotli --trace t1.json < s.pfs > /dev/null
	pcompress --brotli -T 2 --trace t2.json < s.pfs > /dev/null
	pcompress -d --trace t3.json < one.pfs > /dev/null
	run grep -c '"name":"worker' t1.json t2.json t3.json
	assert_output "$(printf 't1.json:0\nt2.json:2\nt3.json:0')"
	# a hostile payload, either way: the same message, and nothing of its
	# chunk (nor after it) is written
	head -c 300000 text.bin > k.bin
	brotli -q 5 -c k.bin > k.br
	head -c $(( $(stat -c %s k.br) / 2 )) k.br > cut.br
	{ cat k.br; printf 'qq'; } > trail.br
	cp k.br bad.br; flip_byte bad.br 2000
	pchunk -s 300000 k.bin | pcompress --brotli > r.pfs
	for t in 1 2; do
		replace_payload r.pfs 1 cut.br > c.pfs
		run -1 --separate-stderr pcompress -d -T $t c.pfs
		assert_equal "$stderr" "pcompress: c.pfs: chunk 0: brotli stream ends before its last block (damaged or cut short)"
		replace_payload r.pfs 1 trail.br > t.pfs
		run -1 --separate-stderr pcompress -d -T $t t.pfs
		assert_equal "$stderr" "pcompress: t.pfs: chunk 0: 2 trailing bytes after the brotli stream"
		replace_payload r.pfs 1 bad.br > b.pfs
		run -1 --separate-stderr pcompress -d -T $t b.pfs
		stderr_has -r "^pcompress: b.pfs: chunk 0: brotli stream (is corrupted: |ends before its last block|decodes to more than)"
		echo "$stderr" > "bad$t.txt"
		pcompress -d -T $t b.pfs > part.pfs 2>/dev/null || true
		run py 'print(sum(1 for f in frames(open(sys.argv[1], "rb").read()) if f[1] == 2))' part.pfs
		assert_output 0
	done
	cmp bad1.txt bad2.txt
	# a payload of several 256 KiB pieces, damaged early and cut short:
	# both ways the cut is reported (the streamed payload is read to its
	# end before a refused piece is reported)
	gen random 1200K | base64 > b64.txt
	pchunk -s 4M b64.txt | pcompress --brotli > big.pfs
	read -r off _ _ len < <(frame big.pfs 1)
	[ "$len" -gt 600000 ]
	head -c $((off + 32 + len / 2)) big.pfs > bc.pfs
	# its code length tables: bytes 3-18 of the payload
	py 'import sys
b = bytearray(open(sys.argv[1], "rb").read())
for i in range(16): b[int(sys.argv[2]) + 3 + i] ^= 0xff
open(sys.argv[1], "wb").write(b)' bc.pfs $((off + 32))
	for t in 1 2; do
		run -1 --separate-stderr pcompress -d -T $t bc.pfs
		assert_equal "$stderr" "pcompress: bc.pfs: truncated stream (frame 1: payload cut short)"
	done
}

@test "brotli: the record is [3, level, flags 01] and the cap the bound plus 16, for the checksum block" {
	pchunk -s 64K text.bin > s.pfs
	pcompress --brotli < s.pfs > b.pfs
	# the last 11 bytes of HEAD: kind 1, 0, params length 3, cap, params;
	# BrotliEncoderMaxCompressedSize(65536) = 65536 + 2 + 4 * 4 + 3 + 1
	# = 65558, + 16 = 65574 = 0x10026
	hl=$(od -An -tu4 -j 12 -N4 b.pfs | tr -d ' ')
	run bash -c "tail -c +$((40 + hl - 11 + 1)) b.pfs | head -c 11 | od -An -tx1"
	assert_output " 01 00 03 00 26 00 01 00 03 05 01"
	run -0 pinfo b.pfs
	assert_line "stages:         1. compress brotli -5"
	# flags other than 01, or a third byte for zstd: refused, named
	cp b.pfs f0.pfs; put_le f0.pfs $((40 + hl - 1)) 1 0
	run -1 --separate-stderr pcompress -d f0.pfs
	assert_equal "$stderr" "pcompress: f0.pfs: invalid brotli compression record (flags 0x00, not 0x01)"
	cp b.pfs f3.pfs; put_le f3.pfs $((40 + hl - 1)) 1 3
	run -1 --separate-stderr pcompress -d f3.pfs
	assert_equal "$stderr" "pcompress: f3.pfs: invalid brotli compression record (flags 0x03, not 0x01)"
	cp b.pfs z.pfs; put_le z.pfs $((40 + hl - 3)) 1 1
	run -1 --separate-stderr pcompress -d z.pfs
	assert_equal "$stderr" "pcompress: z.pfs: invalid zstd compression record (3 bytes of params, not 2)"
}

@test "brotli: every payload ends with D6 01, the XXH64 of the chunk (little-endian), 03; stock brotli -d reads it at every level" {
	head -c 100000 text.bin > k.bin
	for l in 0 1 2 5 9 10 11; do
		pchunk -s 100000 k.bin | pcompress --brotli -l $l > one.pfs
		pjoin --payload < one.pfs > one.br
		run -0 brotli -t one.br
		brotli -dc one.br | cmp - k.bin
		run bash -c "tail -c 11 one.br | od -An -tx1 | tr -d ' \\n'"
		sum=$(xxhsum -H1 k.bin | cut -d' ' -f1)     # canonical: big-endian
		le=$(echo "$sum" | sed 's/../& /g' | awk '{ for (i = NF; i > 0; i--) printf "%s", $i }')
		assert_output "d601${le}03"
	done
	# several chunks and 4 MiB flushes: each payload is a .br file
	gen text-like 9M > nine.bin
	pchunk -s 9M nine.bin | pcompress --brotli -l 1 | pjoin --payload | brotli -dc | cmp - nine.bin
}

@test "brotli: a chunk libbrotli cannot decode is named with its error in words, not libbrotli's enum name" {
	gen text-like 100K > t.bin
	pchunk t.bin | pcompress --brotli > b.pfs
	read -r off _ _ _ < <(frame b.pfs 2:0)
	# the stream header's window size made invalid
	cp b.pfs c.pfs; printf '\x11' | dd of=c.pfs bs=1 seek=$((off + 32)) conv=notrunc status=none
	run -1 --separate-stderr pcompress -d c.pfs
	assert_equal "$stderr" "pcompress: c.pfs: chunk 0: brotli stream is corrupted (window bits, code -13)"
	# the first chunk failed: nothing goes out, not even the HEAD, on
	# one thread (streamed) or two
	for t in 1 2; do
		run -1 bash -c "pcompress -d -T $t c.pfs > part.pfs 2>/dev/null"
		assert_file_empty part.pfs
	done
}

@test "brotli: a damaged chunk that still decodes is caught by its checksum, either way, and nothing of it is written" {
	# QA's case: 3 MiB of text in 16 KiB chunks, one byte changed (its
	# first 256 KiB: the same first chunks, fewer frames to walk)
	gen text-like 3M 7 | head -c 256K > t.bin
	pchunk -s 16K t.bin | pcompress --brotli > br.pfs
	cp br.pfs bad.pfs; printf '\x55' | dd of=bad.pfs bs=1 seek=54070 conv=notrunc status=none
	k=$(frame_offsets bad.pfs | awk '$2 == 2 && $1 <= 54070 { k = $3 } END { print k }')
	run -1 --separate-stderr pcompress -d bad.pfs
	assert_equal "${#stderr_lines[@]}" 1
	stderr_has -r "^pcompress: bad.pfs: chunk $k: brotli stream "
	run bash -c 'pcompress -d bad.pfs 2>/dev/null | pjoin > out 2>/dev/null; echo ${PIPESTATUS[*]}'
	assert_output "1 1"
	# what pcompress wrote: DATA frames of chunks before it only, in
	# order (how many depends on when its writer flushes); what pjoin
	# wrote: a prefix of the file
	pcompress -d bad.pfs > part.pfs 2>/dev/null || true
	run py 's = [f[4] for f in frames(open(sys.argv[1], "rb").read()) if f[1] == 2]; print(s == list(range(len(s))) and len(s) <= int(sys.argv[2]))' part.pfs "$k"
	assert_output "True"
	[ "$(stat -c %s out)" -le $((k * 16384)) ]
	cmp out <(head -c "$(stat -c %s out)" t.bin)
	# the checksum itself damaged: the message says so, either way
	read -r off _ _ len < <(frame br.pfs 3)       # chunk 2
	for t in 1 2; do
		cp br.pfs c.pfs; flip_byte c.pfs $((off + 32 + len - 5))
		run -1 --separate-stderr pcompress -d -T $t c.pfs
		stderr_has -r "^pcompress: c.pfs: chunk 2: brotli stream is corrupted: the checksum does not match \(XXH64 [0-9a-f]{16}, the stream says [0-9a-f]{16}\)$"
		# DATA frames of chunks 0 and 1 at most
		pcompress -d -T $t c.pfs > part.pfs 2>/dev/null || true
		run py 'print(sorted(f[4] for f in frames(open(sys.argv[1], "rb").read()) if f[1] == 2))' part.pfs
		assert_output --regexp '^\[(0(, 1)?)?\]$'
	done
	# a stock Brotli stream (no checksum block) in a checked stream
	head -c 16384 t.bin > k.bin
	brotli -q 5 -c k.bin > k.br
	for t in 1 2; do
		replace_payload br.pfs 1 k.br > nb.pfs
		run -1 --separate-stderr pcompress -d -T $t nb.pfs
		assert_equal "$stderr" "pcompress: nb.pfs: chunk 0: brotli stream does not end with its checksum block"
	done
}

@test "brotli: every byte of a small stream's payloads damaged: an error or the same output, never other bytes with exit 0" {
	gen text-like 3000 3 > k.bin
	pchunk -s 1K k.bin | pcompress --brotli > s.pfs
	# every payload byte with the streaming decoder (-T 1, XOR 0x01), every
	# fourth with the worker (-T 2, XOR 0x80); a sanitizer build every
	# fourth and sixteenth (140 s under ASan, where the plain build has
	# covered every byte already)
	local step=1
	if sanitized; then step=4; fi
	cat > scan.py <<'PY'
import subprocess
b = open(sys.argv[1], "rb").read()
step = int(sys.argv[2])
want = subprocess.run(["pcompress", "-d"], input=b, capture_output=True, check=True).stdout
offs = [o for off, t, fl, ln, seq, raw in frames(b) if t == 2 for o in range(off + 32, off + 32 + ln)]
n = bad = caught = 0
for o in offs:
    for x, t in ((0x01, "1"), (0x80, "2")):
            if o % (step if t == "1" else 4 * step):
                continue
            d = bytearray(b); d[o] ^= x
            r = subprocess.run(["pcompress", "-d", "-T", t], input=bytes(d), capture_output=True)
            n += 1
            if r.returncode == 0 and r.stdout != want:
                bad += 1
                print("silent: offset", o, "xor", x, "-T", t)
            caught += r.returncode != 0
print(len(offs), "bytes,", n, "runs,", caught, "refused,", bad, "silent")
PY
	run py "$(cat scan.py)" s.pfs "$step"
	assert_success
	assert_line --regexp "^[0-9]+ bytes, [0-9]+ runs, [0-9]+ refused, 0 silent$"
}

@test "brotli: a stream from before the checksum (2-byte record) still decodes, unchecked" {
	# made by pcompress at 8c58c5a: seq 1000 > old.txt;
	# pchunk -s 1K old.txt | pcompress --brotli -l 5
	base64 -d > old.pfs <<'B64'
j1BGUw0KGgIBAAAANAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAkYBNkQAEAAADAAAANQ8AAAAAAACk
AQAAE3yPDtQUCmsAAAAABwBvbGQudHh0AQEAAgAGBAAAAwUCAAAAtQEAAAAAAAAAAAAAAAQAAAAA
AAAAAAAAS70apbH4HwAg4AbDvpYEP1R5ah5tnTdiwQrGKVNrAA9fzApzwxFIz1PujwuTFM2wHI8C
CRklKtRo0KJDjwMLGycu3Hjw4sNPBinSZJJFNjnkkkc+FZQoU0kV1dRQSx31dNCiTSdddNNDL330
M8GIMZNMMc0Ms8wxzwYr1myyxTY77LLHPhecOHPJFdfccMsd93zw4s0nX3zzwy9//KMIFEJhFImi
Ul1TWzd+nm4JrYiIyK5HDuQb08iJXJkbeZAX+ZAfZaAUymcwURbKznJQLspD+agClVAZ1ddYqBrV
fNaiOlSPOtC8qI06Ub+XjXpQb9aH+tEEGqExmkRTaDxoGzSL5tA82kArtEabaAttoxWmbdEe2kcX
6ITO6BJdoWt0g86stkP36AO90Bt9oi/0jX7QL3oFhYFDOHyIxFE4OvcYHIvjcDyWrBSWsfKgwmqs
yabFOuy0TJbxijwevHcf9uMMnMKpPxNn4ewsB+fiPJyPK3AJl3H1hIWrcU1Wi+twPe7ALdzGnbgL
xcY9uDfrw/14Ao/wGE/iKTzNaxs8i+fwPN7AK7zGm3gLb+OtaLB4D+/jC3zCZ3wJAgAAAL8AAAAB
AAAAAAAAAAAEAAAAAAAAAAAAACsKQgyx+B8AIO5g31tUEbTwtMEDmz6YLoCHqNg66fdtAImtk/ti
twEktk76TRtAYuukH9oAElsn/dgGkNg66ac2gMTWST+3ASS2TvptG0Bi66TftQEktk76pQ0gsXXS
79sAElsn96VuA0hsnfSbNoDE1kk/tAEktk76sQ0gsXXST20Aia2Tfm4DSGyd9Ns2gMTWSb9rA0hs
nfRLG0Bi66TftwEktk7uy90GkNg66TdtAImtk35oA0hsnfRjG0Bi6+R/AQIAAAC+AAAAAgAAAAAA
AAAABAAAAAAAAAAAAACYTUfKsfgfACDuYN9boQq08LTBA5s+mC6AJ6K0sUgsrp+gjUVicf0MbSwS
i+sXaGORWFy/gzYWicX1e2hjkVjcfRnQxiKxuH4NbSwSi+s30MYisbh+C20sEovrR2hjkVhcP0Eb
i8Ti+hnaWCQW1y/QxiKxuH4HbSwSi+v30MYisbj7CqCNRWJx/RraWCQW12+gjUVicf0W2lgkFteP
0MYisbh+gjYWicX1M7SxSCyuX6CNRWJx/Q7aWCQW1++hjcWvAgIAAACfAAAAAwAAAAAAAAA1AwAA
AAAAAAAAAAAUpxcnsaAZACCeMOxriT2ghacNHtj0wXUBPOWL+FIGUBvrPHEZgdpY54nLGqiNdZ64
bIDaWOeJyxaojXWeuOyA2ljnicseqI11nrhMQG2s88RlBmpjnScuC1Ab6zzxpQKgNtZ54jICtbHO
E5c1UBvrPHHZALWxzhOXLVAb6zxx2QG1sc4Tlz1QG+s8cZmA2ljnicsM1MY6T1wWoDbWeeI/RQAF
BAAAAAAAAAAEAAAAAAAAADUPAAAAAAAAAAAAAPR8LU4FAAAAOAAAAAQAAAAAAAAAAAAAAAAAAAAA
AAAAaQYaeFwAAAAAAAAAMQIAAAAAAAAQAwAAAAAAAO4DAAAAAAAArQQAAAAAAAChG3SCg4Jx8TgA
AABQRlNJ
B64
	seq 1000 > old.txt
	hl=$(od -An -tu4 -j 12 -N4 old.pfs | tr -d ' ')
	run bash -c "tail -c +$((40 + hl - 10 + 1)) old.pfs | head -c 10 | od -An -tx1"
	assert_output " 01 00 02 00 06 04 00 00 03 05"
	for t in 1 2; do
		pcompress -d -T $t old.pfs | pjoin | cmp - old.txt
	done
	run -0 pinfo old.pfs
	assert_line "stages:         1. compress brotli -5"
}

@test "the bound of the record below limits a stacked decompression" {
	pchunk -s 64K text.bin > s.pfs
	pcompress --zstd < s.pfs | pcompress --lz4 > st.pfs
	# HEAD payload: ..., name length at 32, name, stage count, records;
	# set the cap of the lower (zstd) record to 100 bytes
	nl=$(od -An -tu2 -j $((40 + 32)) -N2 st.pfs | tr -d ' ')
	put_le st.pfs $((40 + 34 + nl + 1 + 4)) 4 100
	run -1 --separate-stderr pcompress -d st.pfs
	stderr_has -r "^pcompress: st.pfs: chunk 0: lz4 frame declares [0-9]+ bytes, more than the bound of 100$"
}

@test "-d on a stream whose top record is not COMPRESS, or with no record" {
	pchunk -s 64K text.bin > s.pfs
	run -1 --separate-stderr pcompress -d s.pfs
	assert_equal "$stderr" "pcompress: s.pfs: stream is not compressed: nothing to undo"
	pcompress --zstd < s.pfs > z.pfs
	run -1 --separate-stderr pcompress -d --lz4 z.pfs
	assert_equal "$stderr" "pcompress: z.pfs: stream is compressed with zstd, not lz4"
	run -0 bash -c 'pcompress -d --zstd z.pfs | cmp - s.pfs'
	command -v phash >/dev/null || skip "phash not built"
	phash -a sha256 < z.pfs > h.pfs
	run -1 --separate-stderr pcompress -d h.pfs
	assert_equal "$stderr" "pcompress: h.pfs: stream is still hashed (sha256): run 'phash --check' first"
}

@test "a compressed stream given to pjoin names 'pcompress -d'" {
	pchunk -s 64K text.bin > s.pfs
	pcompress --lz4 -l 9 < s.pfs > l.pfs
	run -1 --separate-stderr pjoin l.pfs
	assert_equal "$stderr" "pjoin: l.pfs: stream is still compressed (lz4 -9): run 'pcompress -d' first"
}

@test "raw bytes instead of a stream" {
	run -1 --separate-stderr pcompress text.bin
	assert_equal "$stderr" "pcompress: text.bin: not a frame stream (missing signature; 'pchunk FILE' makes one)"
	run -1 --separate-stderr bash -c 'pcompress -d < random.bin'
	assert_equal "$stderr" "pcompress: stdin: not a frame stream (missing signature; 'pchunk FILE' makes one)"
	run -1 --separate-stderr pcompress nosuch.pfs
	stderr_has -r "nosuch.pfs: No such file or directory"
}

@test "bad levels and option combinations: exit 2, the range is named" {
	run -2 --separate-stderr pcompress -l 20
	assert_equal "${stderr_lines[0]}" "pcompress: zstd level 20 is out of range (1-19, 20-22 with --ultra, -100 to -1 fast)"
	run -2 --separate-stderr pcompress --zstd -l 0
	stderr_has -r "zstd level 0 is out of range"
	run -2 --separate-stderr pcompress --ultra -l 23
	stderr_has -r "zstd level 23 is out of range"
	run -2 --separate-stderr pcompress --lz4 -l 13
	assert_equal "${stderr_lines[0]}" "pcompress: lz4 level 13 is out of range (1-12)"
	run -2 --separate-stderr pcompress --lz4 -l 0
	assert_equal "${stderr_lines[0]}" "pcompress: lz4 level 0 is out of range (1-12)"
	run -2 --separate-stderr pcompress --brotli -l 12
	assert_equal "${stderr_lines[0]}" "pcompress: brotli level 12 is out of range (0-11)"
	run -2 --separate-stderr pcompress -l fast
	assert_equal "${stderr_lines[0]}" "pcompress: -l: invalid number 'fast'"
	run -2 --separate-stderr pcompress -d -l 3
	assert_equal "${stderr_lines[0]}" "pcompress: -d reads the level from the stream: drop the level"
	run -2 --separate-stderr pcompress --lz4 --ultra
	assert_equal "${stderr_lines[0]}" "pcompress: --ultra is for zstd levels 20-22"
	run -2 --separate-stderr pcompress --zstd --brotli
	assert_equal "${stderr_lines[0]}" "pcompress: --zstd and --brotli: choose one algorithm"
	run -2 --separate-stderr pcompress a b
	assert_equal "${stderr_lines[0]}" "pcompress: too many arguments (one input at most)"
	run -2 --separate-stderr pcompress --bogus
	assert_equal "${stderr_lines[-1]}" "Try 'pcompress --help' for more information."
}

@test "-T 1 and -T 4 give identical bytes, for every algorithm" {
	pchunk -s 64K text.bin > s.pfs
	for a in "--zstd" "--lz4" "--lz4 -l 9" "--brotli -l 4"; do
		pcompress $a -T 1 < s.pfs > t1.pfs
		pcompress $a -T 4 < s.pfs > t4.pfs
		cmp t1.pfs t4.pfs
		pcompress -d -T 4 < t1.pfs | cmp - s.pfs
	done
}

@test "-T N holds N + 1 chunk buffers in and N + 1 out, however many chunks are in flight, and a slow reader of its output changes nothing" {
	cat text.bin text.bin text.bin text.bin > t4.bin
	pchunk -s 64K t4.bin > s.pfs          # 64 chunks: 2N + 2 slots in flight
	gen random 2M > r.bin
	pchunk -s 64K r.bin | pcompress --zstd > r.pfs   # stored: decoded in place
	for t in 1 2 4; do
		max=$((2 * (t + 1) + 2))          # + the reader's and writer's own
		# allocs counts growth too: decompressing, an input buffer
		# first sized for one compressed chunk may grow once for a
		# larger one (chunks of this text straddle a 4 KiB page)
		maxd=$((max + t + 1))
		for a in --zstd --lz4; do
			pcompress $a -T $t --stats=json < s.pfs 2> st > c.pfs
			[ "$(allocs st)" -le $max ] || fail "$a -T $t: $(allocs st) buffers, over $max"
			pcompress -d -T $t --stats=json < c.pfs 2> st | cmp - s.pfs
			[ "$(allocs st)" -le $maxd ] || fail "-d $a -T $t: $(allocs st) buffers, over $maxd"
			# the writer held up: done chunks wait, and must not take more
			pcompress $a -T $t --stats=json < s.pfs 2> st |
				{ sleep 0.3; cat; } | cmp - c.pfs
			[ "$(allocs st)" -le $max ] || fail "$a -T $t, slow output: $(allocs st) buffers, over $max"
		done
		pcompress -d -T $t --stats=json < r.pfs 2> st | pjoin | cmp - r.bin
		[ "$(allocs st)" -le $max ] || fail "-d -T $t in place: $(allocs st) buffers, over $max"
	done
}

@test "refuses to write to a terminal without -f" {
	command -v script >/dev/null || skip "script(1) missing"
	pchunk -s 64K zeros.bin > s.pfs
	run script -qec "$PFS_BIN/pcompress s.pfs" /dev/null
	assert_output --partial "pcompress: refusing to write a binary stream to a terminal"
	run script -qec "$PFS_BIN/pcompress -f s.pfs > /dev/null; echo rc=\$?" /dev/null
	assert_output --partial "rc=0"
}

@test "--stats, --help, --version" {
	pchunk -s 64K text.bin > s.pfs
	run -0 --separate-stderr pcompress --stats s.pfs
	stderr_has -r "^pcompress: stats: frames 18 "
	run -0 --separate-stderr pcompress --stats=json s.pfs
	stderr_has -r '^\{.*"frames": ?18'
	run -0 pcompress --help
	assert_output --partial "--brotli"
	run -0 pcompress -V
	assert_output --regexp "^pcompress \(pfs\) "
}

@test "levels as zstd spells them: -19 and --fast=5 are -l 19 and -l -5, and what pinfo prints runs (--fast=5, --ultra -22)" {
	gen text-like 200000 > t.bin
	pchunk t.bin > s.pfs
	pcompress -l 19 s.pfs > a.pfs
	pcompress -19 s.pfs > b.pfs
	cmp a.pfs b.pfs
	pcompress -l -5 s.pfs > a.pfs
	pcompress --fast=5 s.pfs > b.pfs
	cmp a.pfs b.pfs
	run -0 pinfo b.pfs
	assert_line "stages:         1. compress zstd --fast=5"
	# the option pinfo names is one pcompress takes
	pcompress --zstd --fast=5 s.pfs | cmp - b.pfs
	pcompress --fast s.pfs | pcompress -d | cmp - s.pfs
	pcompress --ultra -22 s.pfs > u.pfs
	run -0 pinfo u.pfs
	assert_line "stages:         1. compress zstd --ultra -22"
	run -0 pinfo u.pfs b.pfs
	assert_line --regexp ' zstd --ultra -22  u\.pfs$'
	run -0 pinfo --json u.pfs
	assert_output --partial '"algorithm":"zstd --ultra -22"'
	# run as printed: "compress ALGO OPTIONS" is pcompress --ALGO OPTIONS
	d=$(pinfo u.pfs | sed -n 's/^stages: *1\. compress //p')
	[ "$d" = "zstd --ultra -22" ]
	pcompress --$d s.pfs | cmp - u.pfs
}

@test "levels: two different ones, --fast with another codec, and -# with -d are usage errors" {
	run -2 --separate-stderr pcompress -3 -l 4
	assert_equal "${stderr_lines[0]}" "pcompress: -l: a level was given already (3)"
	run -2 --separate-stderr pcompress --lz4 --fast
	assert_equal "${stderr_lines[0]}" "pcompress: --fast is a zstd level: drop it or use --zstd"
	run -2 --separate-stderr pcompress -d -19
	assert_equal "${stderr_lines[0]}" "pcompress: -d reads the level from the stream: drop the level"
	run -2 --separate-stderr pcompress -23
	assert_equal "${stderr_lines[0]}" "pcompress: zstd level 23 is out of range (1-19, 20-22 with --ultra, -100 to -1 fast)"
	# --fast names the range zstd takes, the same at both ends
	run -2 --separate-stderr pcompress --fast=0
	assert_equal "${stderr_lines[0]}" "pcompress: --fast: '0' is out of range (1 to 100)"
	run -2 --separate-stderr pcompress --fast=101
	assert_equal "${stderr_lines[0]}" "pcompress: --fast: '101' is out of range (1 to 100)"
}
