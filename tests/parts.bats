#!/usr/bin/env bats
# One file in parts: pchunk --part I/N FILE, the same parts made from
# standard input by GNU parallel --pipepart (pchunk --part I --block SIZE
# --source ...), and pjoin -o OUT PART... (docs/format.md, "Parts";
# pchunk(1), pjoin(1)).

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	gen text-like 300K > in.bin       # 19 chunks of 16 KiB, the last short
	for i in 1 2 3 4; do
		pchunk -s 16K --part "$i/4" in.bin > "p$i.pfs"
	done
	printf 'parts test\n' > pw
	src=$(stat -c %s:%.9Y:%a:%n in.bin)
	export src
}

# no_output: pjoin -o out failed and left nothing, not even its temporary
no_output() {
	assert_file_not_exists out
	run bash -c 'ls -A | grep -c "^\.out\." || true'
	assert_output 0
}

# join_fails MESSAGE PART...: pjoin -o out PART... fails with MESSAGE and
# leaves nothing behind
join_fails() {
	local msg=$1
	shift
	run -1 --separate-stderr pjoin -o out "$@"
	assert_equal "$stderr" "pjoin: $msg"
	no_output
}

# pipepart BLOCK STAGES: in.bin cut by GNU parallel --pipepart into parts
# of BLOCK bytes on the stdin of one job each, s1.pfs, s2.pfs, ...: each
# job runs pchunk on its part, then the filter chain STAGES (may be empty)
pipepart() {
	parallel --pipepart -a in.bin --block "$1" --recend '' \
		"pchunk -s 16K --part {#} --block $1 --source \"\$src\" $2 > s{#}.pfs"
}

# seal_all FILE: reseal every frame header of FILE (after a forgery)
seal_all() {
	local o
	for o in $(frame_offsets "$1" | awk '{ print $1 }'); do
		reseal "$1" "$o"
	done
}

@test "pchunk --part I/N: N parts of whole chunks, each the range stream --range makes of its bytes" {
	local n i c=19 a b off len
	for n in 1 2 3 4 7 19; do
		for ((i = 1; i <= n; i++)); do
			a=$(((i - 1) * c / n)); b=$((i * c / n))
			off=$((a * 16384)); len=$((b * 16384 < 307200 ? b * 16384 - off : 307200 - off))
			pchunk -s 16K --part "$i/$n" in.bin > q.pfs
			pchunk -s 16K --range "$off:$len" in.bin | cmp - q.pfs
			[ "$(pinfo --chunks q.pfs | awk 'NR == 2 { print $1 }')" -eq "$a" ]
			[ "$(frame q.pfs END seq)" -eq $((b - a)) ]
		done
	done
	# parts of 4: chunks 0..3, 4..8, 9..13, 14..18
	run -0 pinfo --json p2.pfs
	assert_output --partial '"range":{"first":65536,"length":81920,"start":65536,"first_chunk":4}'
}

@test "pjoin -o OUT PART...: 4 parts restore the file byte for byte, in any order, with its mode and mtime" {
	chmod 640 in.bin
	touch -d '2001-02-03 04:05:06.789' in.bin
	for i in 1 2 3 4; do
		pchunk --part "$i/4" -s 16K in.bin > "p$i.pfs"
	done
	pjoin -o out p1.pfs p2.pfs p3.pfs p4.pfs
	cmp out in.bin
	rm out
	pjoin -o out p3.pfs p1.pfs p4.pfs p2.pfs
	cmp out in.bin
	[ "$(stat -c %a:%.9Y out)" = "$(stat -c %a:%.9Y in.bin)" ]
	# an existing OUT only with -f
	run -1 --separate-stderr pjoin -o out p2.pfs p1.pfs p3.pfs p4.pfs
	assert_equal "$stderr" "pjoin: out: file exists (use -f to overwrite it)"
	pjoin -f -o out p4.pfs p3.pfs p2.pfs p1.pfs
	cmp out in.bin
}

@test "pchunk --part with automatic chunks: a 3 MiB file is one chunk, so one part" {
	gen text-like 3M > big.bin
	# one automatic chunk of 3 MiB: only 1 part
	run -1 --separate-stderr pchunk --part 2/3 big.bin
	assert_equal "$stderr" "pchunk: big.bin: part 2/3: the source has only 1 chunk (at a chunk size of 3 MiB): 3 parts would leave some empty"
	for i in 1 2 3; do
		pchunk -s 1M --part "$i/3" big.bin > "b$i.pfs"
	done
	pjoin -o out b2.pfs b3.pfs b1.pfs
	cmp out big.bin
}

@test "parallel --pipepart: parts made from stdin have the HEADs and bytes of parts made from the file" {
	local i
	pipepart 80K
	[ "$(ls s*.pfs | wc -l)" -eq 4 ]
	for i in 1 2 3 4; do
		# part i: 80 KiB from (i-1) 80 KiB, the last 60 KiB
		pchunk -s 16K --range $(((i - 1) * 81920)):81920 in.bin | cmp - "s$i.pfs"
		cmp <(head -c "$(frame "s$i.pfs" 1 off)" "s$i.pfs") \
		    <(pchunk -s 16K --range $(((i - 1) * 81920)):81920 in.bin |
		      head -c "$(frame "s$i.pfs" 1 off)")
	done
	pjoin -o out s3.pfs s1.pfs s4.pfs s2.pfs
	cmp out in.bin
	# blocks of 4 chunks of 64 KiB make the parts of --part I/N when N
	# divides the chunks: a 256 KiB file in 4
	head -c 256K in.bin > in.bin.t && mv in.bin.t in.bin
	src=$(stat -c %s:%.9Y:%a:%n in.bin)
	pipepart 64K
	for i in 1 2 3 4; do
		pchunk -s 16K --part "$i/4" in.bin | cmp - "s$i.pfs"
	done
}

@test "parallel --pipepart through its remote code path: 2 hosts, parts returned and cleaned up" {
	local i
	# tests/fake-ssh stands in for ssh: the command runs here, in a
	# directory of its own for each host, so that --return and --cleanup
	# really happen
	export FAKE_SSH_ROOT="$PWD/hosts"
	parallel --ssh "$BATS_TEST_DIRNAME/fake-ssh" -S h1,h2 --env src --env PATH \
		--pipepart -a in.bin --block 80K --recend '' \
		--return 'r{#}.pfs' --cleanup \
		"pchunk -s 16K --part {#} --block 80K --source \"\$src\" | pcompress |
		 pencrypt --password-file '$PWD/pw' --kdf-time 2 --kdf-memory 19M > r{#}.pfs"
	assert_dir_exists hosts/h1
	assert_dir_exists hosts/h2
	[ -z "$(ls -A hosts/h1 hosts/h2 | grep pfs)" ]
	for i in 1 2 3 4; do
		pencrypt -d --password-file pw "r$i.pfs" | pcompress -d > "d$i.pfs"
		pchunk -s 16K --range $(((i - 1) * 81920)):81920 in.bin | cmp - "d$i.pfs"
	done
	pjoin -o out d2.pfs d4.pfs d1.pfs d3.pfs
	cmp out in.bin
}

@test "parallel --pipepart with automatic chunks: the chunk size pchunk FILE picks" {
	gen text-like 3M > in.bin
	src=$(stat -c %s:%.9Y:%a:%n in.bin)
	# 3 MiB: one automatic chunk of 3 MiB, and --block must hold whole ones
	run -2 --separate-stderr bash -c 'head -c 1M in.bin | pchunk --part 1 --block 1M --source "$src"'
	stderr_has "pchunk: --block 1048576 is not a multiple of the chunk size (3145728): parts must hold whole chunks"
	parallel --pipepart -a in.bin --block 3M --recend '' 'pchunk --part {#} --block 3M --source "$src" > s{#}.pfs'
	pchunk --part 1/1 in.bin | cmp - s1.pfs
}

@test "parts compressed and encrypted on their own, from the file and from stdin, restore the file" {
	local i
	for i in 1 2 3 4; do
		pcompress --zstd "p$i.pfs" | phash |
			pencrypt --password-file pw --kdf-time 2 --kdf-memory 19M > "e$i.pfs"
	done
	pipepart 80K "| pcompress --lz4 | phash -a xxh3 | pencrypt --password-file pw --kdf-time 2 --kdf-memory 19M"
	# every part its own salt: never one key and nonce for two parts
	[ "$(frame e1.pfs 0 len)" -eq "$(frame e2.pfs 0 len)" ]
	run ! cmp -s <(head -c "$(frame e2.pfs 1 off)" e1.pfs) <(head -c "$(frame e2.pfs 1 off)" e2.pfs)
	# each is restored on its own (the stage stack is the parts' own),
	# then they are joined
	run -1 --separate-stderr pjoin -o out e1.pfs e2.pfs e3.pfs e4.pfs
	assert_equal "$stderr" "pjoin: e1.pfs: stream is still encrypted (aes-256-gcm/argon2id): run 'pencrypt -d' first"
	no_output
	for i in 1 2 3 4; do
		pencrypt -d --password-file pw "e$i.pfs" | phash -c | pcompress -d > "d$i.pfs"
		cmp "d$i.pfs" "p$i.pfs"
		pencrypt -d --password-file pw "s$i.pfs" | phash -c | pcompress -d > "t$i.pfs"
	done
	pjoin -o out d4.pfs d2.pfs d3.pfs d1.pfs
	cmp out in.bin
	pjoin -o out2 t2.pfs t1.pfs t4.pfs t3.pfs
	cmp out2 in.bin
}

@test "an encrypted part moved to another position does not decrypt" {
	pcompress "p2.pfs" |
		pencrypt --password-file pw --kdf-time 2 --kdf-memory 19M > e2.pfs
	# part 2 (chunks 4..8 from byte 65536) relabelled as chunks 0..4: the
	# range fields of HEAD and the chunk indexes moved back by 4 chunks
	py '
b = bytearray(open("e2.pfs", "rb").read())
nl = struct.unpack_from("<H", b, 40 + 32)[0]
r = 40 + 34 + nl
s, f = struct.unpack_from("<QQ", b, r)
struct.pack_into("<QQ", b, r, s - 65536, f - 65536)
for off, t, fl, ln, seq, raw in list(frames(b)):
    if t == 5:
        del b[off:]
        break
    if t in (2, 3):
        struct.pack_into("<Q", b, off + 8, seq - 4)
open("moved.pfs", "wb").write(b)
'
	seal_all moved.pfs
	run -0 pinfo --json moved.pfs
	assert_output --partial '"range":{"first":0,"length":81920,"start":0,"first_chunk":0}'
	run -1 --separate-stderr bash -c 'pencrypt -d --password-file pw moved.pfs > out'
	assert_equal "$stderr" "pencrypt: moved.pfs: wrong key or password (or a damaged HEAD)"
	# where it was, it decrypts
	pencrypt -d --password-file pw e2.pfs | pcompress -d | cmp - p2.pfs
}

@test "pjoin: a missing part is named by its bytes and chunks, before any output" {
	join_fails "missing bytes 147456..229375 (chunks 9..13): a part is missing" p1.pfs p2.pfs p4.pfs
	join_fails "missing bytes 0..65535 (chunks 0..3): a part is missing" p4.pfs p3.pfs p2.pfs
	join_fails "missing bytes 229376..307199 (chunks 14..18): a part is missing" p2.pfs p3.pfs p1.pfs
}

@test "pjoin: a part given twice, or parts that overlap, before any output" {
	join_fails "p2.pfs: given twice" p1.pfs p2.pfs p2.pfs p3.pfs p4.pfs
	cp p3.pfs copy.pfs
	join_fails "p3.pfs: the same part as copy.pfs (bytes 147456..229375): a part is given twice" p1.pfs p2.pfs copy.pfs p3.pfs p4.pfs
	pchunk -s 16K --part 2/3 in.bin > t2.pfs
	join_fails "t2.pfs: bytes 98304..147455 are in p2.pfs too: the parts overlap (cut with another --part N or --block?)" p1.pfs p2.pfs p3.pfs p4.pfs t2.pfs
}

@test "pjoin: a part of another file, or of the file changed since, before any output" {
	gen text-like 300K 7 > other.bin
	pchunk -s 16K --part 3/4 other.bin > o3.pfs
	join_fails "o3.pfs: a part of another source or stage stack than p1.pfs" p1.pfs p2.pfs o3.pfs p4.pfs
	# the same name and bytes, another mtime
	touch -d yesterday in.bin
	pchunk -s 16K --part 3/4 in.bin > m3.pfs
	join_fails "m3.pfs: a part of another source or stage stack than p1.pfs" p1.pfs p2.pfs m3.pfs p4.pfs
	# the same file at another chunk size
	pchunk -s 32K --part 3/4 in.bin > c3.pfs
	join_fails "p1.pfs: a part of another source or stage stack than c3.pfs" c3.pfs p1.pfs p2.pfs p4.pfs
	# a whole stream, or a part still compressed
	pchunk -s 16K in.bin > w.pfs
	join_fails "w.pfs: a whole stream, not a part: it cannot be joined with others" p1.pfs w.pfs
	pcompress p3.pfs > z3.pfs
	join_fails "z3.pfs: stream is still compressed (zstd -3): run 'pcompress -d' first" p1.pfs p2.pfs z3.pfs p4.pfs
}

@test "pjoin: a damaged part fails the join and nothing half-restored appears" {
	phash p4.pfs > h4.pfs
	cp h4.pfs bad.pfs
	flip_byte bad.pfs $(( $(frame bad.pfs 2:16 off) + 32 + 100 ))
	phash p1.pfs > h1.pfs
	phash p2.pfs > h2.pfs
	phash p3.pfs > h3.pfs
	join_fails "bad.pfs: chunk 16 (bytes 262144-278527): sha256 digest mismatch (the chunk or its DIGEST frame is damaged)" h3.pfs bad.pfs h1.pfs h2.pfs
	pjoin -o out h3.pfs h4.pfs h1.pfs h2.pfs
	cmp out in.bin
	# cut short: no END, no index
	head -c 40000 p4.pfs > short.pfs
	rm out
	run -1 --separate-stderr pjoin -o out p1.pfs p2.pfs p3.pfs short.pfs
	stderr_has "pjoin: short.pfs: "
	no_output
}

@test "pchunk --part: N greater than the chunks, and usage errors" {
	run -1 --separate-stderr pchunk -s 16K --part 1/20 in.bin
	assert_equal "$stderr" "pchunk: in.bin: part 1/20: the source has only 19 chunks (at a chunk size of 16 KiB): 20 parts would leave some empty"
	run -2 --separate-stderr pchunk --part 1/4 --range 0:1 in.bin
	stderr_has "pchunk: --part and --range exclude each other: a part is a range"
	for p in 0/4 5/4 1/0 x 1/x 1/65537 /4; do
		run -2 --separate-stderr pchunk --part "$p" in.bin
		stderr_has "pchunk: --part: invalid part '$p' (expected I/N, 1 <= I <= N <= 65536, e.g. 3/8, or I alone)"
	done
	run -2 --separate-stderr pchunk --part 2 in.bin
	stderr_has "pchunk: --part: a part of FILE is I/N: which part of how many"
	run -2 --separate-stderr pchunk --block 64K in.bin
	stderr_has "pchunk: --block goes with --part (a part on standard input)"
	run -2 --separate-stderr pchunk --source "$src" in.bin
	stderr_has "pchunk: --source goes with --part (a part on standard input)"
	run -2 --separate-stderr pchunk --part 1/4 --block 64K --source "$src" in.bin
	stderr_has "pchunk: --block and --source are for a part on standard input: --part I/N FILE cuts FILE itself"
	run -2 --separate-stderr bash -c 'pchunk --part 1 --block 64K < in.bin'
	stderr_has "pchunk: --part on standard input needs --block SIZE and --source SIZE:MTIME:MODE:NAME (or name the FILE)"
	run -2 --separate-stderr bash -c 'pchunk -s 16K --part 1 --block 20K --source "$src" < in.bin'
	stderr_has "pchunk: --block 20480 is not a multiple of the chunk size (16384): parts must hold whole chunks"
	for s in 1:2:644 x:1:644:f 1:1.1234567890:644:f 1:1:9:f 1:1:644: 1:1:644:.. :1:644:f; do
		run -2 --separate-stderr pchunk --part 1 --block 16K --source "$s"
		stderr_has "pchunk: --source: invalid source '$s' (expected SIZE:MTIME:MODE:NAME, as printed by stat -c %s:%.9Y:%a:%n FILE)"
	done
}

@test "pchunk --part on stdin: the bytes must be the part's, no more, no fewer" {
	run -1 --separate-stderr bash -c 'head -c 81919 in.bin | pchunk -s 16K --part 1 --block 80K --source "$src" > s.pfs'
	assert_equal "$stderr" "pchunk: stdin: fewer bytes than part 1 of 81920 bytes (--block 81920 of a 307200-byte source)"
	run -1 --separate-stderr bash -c 'head -c 81921 in.bin | pchunk -s 16K --part 1 --block 80K --source "$src" > s.pfs'
	assert_equal "$stderr" "pchunk: stdin: more bytes than part 1 of 81920 bytes (--block 81920 of a 307200-byte source)"
	run -1 --separate-stderr bash -c 'tail -c 61440 in.bin | pchunk -s 16K --part 5 --block 80K --source "$src" > s.pfs'
	assert_equal "$stderr" "pchunk: stdin: part 5 at --block 81920 starts at byte 327680, past the end of the source (307200 bytes)"
	run -1 --separate-stderr bash -c 'tail -c 61440 in.bin | pchunk -s 16K --part 4/5 --block 80K --source "$src" > s.pfs'
	assert_equal "$stderr" "pchunk: stdin: --part 4/5: a 307200-byte source at --block 81920 has 4 parts"
	tail -c 61440 in.bin | pchunk -s 16K --part 4/4 --block 80K --source "$src" > s.pfs
	pchunk -s 16K --range 245760: in.bin | cmp - s.pfs
}

@test "pjoin: usage errors with several operands" {
	run -2 --separate-stderr pjoin p1.pfs p2.pfs
	stderr_has "pjoin: several operands are the parts of one file: give -o OUT, the file they restore"
	for opt in --resume --payload "--range 0:1"; do
		run -2 --separate-stderr pjoin -o out $opt p1.pfs p2.pfs
		stderr_has "pjoin: the parts of a file are joined whole: not with ${opt%% *}"
	done
	run -2 --separate-stderr pjoin -o out p1.pfs - p3.pfs
	stderr_has "pjoin: -: the parts of a file are read from files, not standard input"
	no_output
	run -1 --separate-stderr pjoin -f -o p2.pfs p1.pfs p2.pfs p3.pfs p4.pfs
	assert_equal "$stderr" "pjoin: p2.pfs: refusing to overwrite the input file"
}

# parts4 FILE: FILE cut into 4 parts of 16 KiB chunks, p1.pfs .. p4.pfs
parts4() {
	local i
	for i in 1 2 3 4; do pchunk -s 16K --part "$i/4" "$1" | phash > "p$i.pfs"; done
}

@test "pjoin --into OUT: parts restored by separate processes into one file; --commit puts it in place" {
	gen mixed 200K > in.bin
	chmod 640 in.bin
	touch -d '2024-02-29 12:34:56.123456789' in.bin
	parts4 in.bin
	mkdir out
	# concurrently, in any order
	for i in 3 1 4 2; do pjoin --into out/copy.bin "p$i.pfs" & done
	wait
	assert_file_not_exists out/copy.bin
	[ "$(stat -c %s out/copy.bin.pfs-join)" -eq 204800 ]
	[ "$(stat -c %a out/copy.bin.pfs-join)" = 600 ]
	pjoin --commit out/copy.bin
	cmp in.bin out/copy.bin
	[ "$(stat -c '%a %.9Y' out/copy.bin)" = "640 $(stat -c %.9Y in.bin)" ]
	[ "$(ls -A out)" = copy.bin ]
	# an existing OUT is replaced only with -f; a part from stdin
	for i in 1 2 3 4; do pjoin --into out/copy.bin < "p$i.pfs"; done
	run -1 --separate-stderr pjoin --commit out/copy.bin
	assert_equal "$stderr" "pjoin: out/copy.bin: file exists (use -f to replace it)"
	pjoin -f --commit out/copy.bin
	cmp in.bin out/copy.bin
	# a whole stream is the one part of its file
	pchunk -s 16K in.bin | pjoin --into out/whole.bin
	pjoin --commit out/whole.bin
	cmp in.bin out/whole.bin
}

@test "pjoin --into: a missing, foreign or damaged part; --commit refuses and nothing appears" {
	gen mixed 200K > in.bin
	gen mixed 200K 9 > other.bin
	parts4 in.bin
	pjoin --into copy.bin p1.pfs
	pjoin --into copy.bin p4.pfs
	run -1 --separate-stderr pjoin --commit copy.bin
	assert_equal "$stderr" "pjoin: copy.bin: missing bytes 49152..147455 (chunks 3..8): a part is missing or did not finish; restore it with 'pjoin --into copy.bin'"
	assert_file_not_exists copy.bin
	# a part of another file: refused before it writes a byte
	pchunk -s 16K --part 2/4 other.bin > o2.pfs
	run -1 --separate-stderr pjoin --into copy.bin o2.pfs
	# (the marker it names is whichever the directory lists first)
	assert_regex "$stderr" '^pjoin: o2\.pfs: copy\.bin\.pfs-join holds parts of another source or stage stack \(copy\.bin\.pfs-join\.d/(0|147456)\): finish or remove that join, or restore into another OUT$'
	[ "$(ls copy.bin.pfs-join.d | wc -l)" -eq 2 ]
	# a damaged part fails its chunk and leaves no marker
	cp p2.pfs d2.pfs
	flip_byte d2.pfs $(( $(frame d2.pfs 2 off) + 40 ))
	run -1 --separate-stderr pjoin --into copy.bin d2.pfs
	stderr_has "digest mismatch"
	[ "$(ls copy.bin.pfs-join.d | wc -l)" -eq 2 ]
	run -1 --separate-stderr pjoin --commit copy.bin
	assert_file_not_exists copy.bin
	# the true part, and the two that were missing: then it commits
	pjoin --into copy.bin p2.pfs
	pjoin --into copy.bin p3.pfs
	pjoin --commit copy.bin
	cmp in.bin copy.bin
	# the file of the join changed under it: refused, nothing appears
	for i in 1 2 3 4; do pjoin --into cut.bin "p$i.pfs"; done
	truncate -s 100000 cut.bin.pfs-join
	run -1 --separate-stderr pjoin --commit cut.bin
	assert_equal "$stderr" "pjoin: cut.bin.pfs-join: 100000 bytes, but the source has 204800"
	assert_file_not_exists cut.bin
	truncate -s 300000 cut.bin.pfs-join
	run -1 --separate-stderr pjoin --into cut.bin p1.pfs
	assert_equal "$stderr" "pjoin: p1.pfs: cut.bin.pfs-join: 300000 bytes, more than the source's 204800: left from another file? remove it"
	# parts of two cuts of one file overlap
	pchunk -s 16K --part 1/2 in.bin | pjoin --into two.bin
	pchunk -s 16K --part 2/4 in.bin | pjoin --into two.bin
	pchunk -s 16K --part 2/2 in.bin | pjoin --into two.bin
	run -1 --separate-stderr pjoin --commit two.bin
	assert_equal "$stderr" "pjoin: two.bin: the parts at bytes 0 and 49152 overlap (parts of two cuts of the file?)"
	# nothing restored yet; usage errors
	run -1 --separate-stderr pjoin --commit none.bin
	assert_equal "$stderr" "pjoin: none.bin: no part was restored into it (run 'pjoin --into none.bin' for each part first)"
	run -2 --separate-stderr pjoin --commit copy.bin p1.pfs
	assert_equal "${stderr_lines[0]}" "pjoin: --commit OUT takes no stream and no other output option: it puts OUT in place"
	run -2 --separate-stderr pjoin --into copy.bin -o x p1.pfs
	assert_equal "${stderr_lines[0]}" "pjoin: --into OUT restores one part into OUT.pfs-join: not with -o, --resume, --payload, --range, --no-verify (its marker says the part was verified) or several operands"
	run -2 --separate-stderr pjoin --into copy.bin --no-verify p1.pfs
	assert_equal "${stderr_lines[0]}" "pjoin: --into OUT restores one part into OUT.pfs-join: not with -o, --resume, --payload, --range, --no-verify (its marker says the part was verified) or several operands"
	# the first part failed: the join's directory is there, no marker
	run -1 pjoin --into first.bin d2.pfs
	run -1 --separate-stderr pjoin --commit first.bin
	assert_equal "$stderr" "pjoin: first.bin: no part has finished ('pjoin --into first.bin' writes a part's marker when it is verified)"
	assert_file_not_exists first.bin
	# a marker that is not one
	pjoin --into first.bin p1.pfs
	echo x > first.bin.pfs-join.d/0
	run -1 --separate-stderr pjoin --commit first.bin
	assert_equal "$stderr" "pjoin: first.bin.pfs-join.d/0: not a pjoin --into marker (damaged?)"
	assert_file_not_exists first.bin
	# a stream of stdin (no size in HEAD) cannot be placed
	run -1 --separate-stderr sh -c 'cat in.bin | pchunk | pjoin --into pipe.bin'
	assert_equal "$stderr" "pjoin: stdin: --into needs the source's size in HEAD (a part of a file, or a stream of a file)"
}
