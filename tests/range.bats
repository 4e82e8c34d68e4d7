#!/usr/bin/env bats
# The index at the end of every stream, range streams (pchunk --range and
# --range on a stream file), byte-exact ranges and pjoin --resume
# (docs/format.md, "Index" and "Range streams"; docs/security.md, "Ranges").

load helper

# the inputs, made once for the file (0.3 s a test: the password's KDF)
# and copied into every test's directory
setup_file() {
	mkdir "$BATS_FILE_TMPDIR/fixtures"
	cd "$BATS_FILE_TMPDIR/fixtures"
	gen text-like 300K > in.bin       # 300 KiB: 19 chunks of 16 KiB, the last short
	printf 'index range test\n' > pw
	pchunk -s 16K in.bin | pcompress | phash -a sha256 > h.pfs
	pchunk -s 16K in.bin | pcompress | phash -a xxh64 |
		pencrypt --password-file pw --kdf-time 2 --kdf-memory 19M |
		phash -a xxh3 > e.pfs
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	cp -p "$BATS_FILE_TMPDIR"/fixtures/* .
}

# want OFF LEN > file: the bytes of in.bin a range stands for
want() {
	tail -c +$(($1 + 1)) in.bin | head -c "$2"
}

# restore_e ARGS...: the filter chain that restores e.pfs, ARGS on its
# first stage
restore_e() {
	phash -c "$@" e.pfs | pencrypt -d --password-file pw | phash -c |
		pcompress -d | pjoin
}

@test "index: every stream ends in an INDEX frame with its own DATA offsets, 8 bytes a chunk" {
	local f n
	for f in h.pfs e.pfs; do
		[ "$(tail -c 4 "$f")" = PFSI ]
		# the offsets pinfo --chunks finds by reading equal the index's
		pinfo --chunks "$f" | awk 'NR > 1 { print $2 }' > seen
		py '
b = open(sys.argv[1], "rb").read()
plen = struct.unpack("<I", b[-8:-4])[0]
n = (plen - 16) // 8 - 1
p = b[len(b) - plen:]
for k in range(n): print(struct.unpack_from("<Q", p, 8 * k)[0])
' "$f" > indexed
		cmp seen indexed
		n=$(wc -l < seen)
		[ "$n" -eq 19 ]
		# the frame: a 32-byte header, 8 (n + 1) offsets, a 16-byte tail
		[ "$(frame "$f" -1 len)" -eq $((8 * (n + 1) + 16)) ]
		[ "$(frame "$f" -1 type)" -eq 5 ]
	done
	# a pipe between stages carries an index too; each stage writes its own
	pchunk -s 16K in.bin | pcompress | pjoin --payload > /dev/null
}

@test "index: a damaged index is found by every reader, an index cut off is not needed" {
	local sz
	cp h.pfs d.pfs
	sz=$(stat -c %s d.pfs)
	flip_byte d.pfs $((sz - 40))        # an offset (the XXH64 no longer fits)
	run -1 --separate-stderr bash -c 'phash -c d.pfs > /dev/null'
	assert_equal "$stderr" "phash: d.pfs: INDEX frame does not match the frames (damaged index)"
	phash -c h.pfs | pcompress -d > p.pfs
	cp p.pfs dp.pfs
	sz=$(stat -c %s dp.pfs)
	flip_byte dp.pfs $((sz - 40))
	run -1 --separate-stderr pjoin -o out dp.pfs
	assert_equal "$stderr" "pjoin: dp.pfs: INDEX frame does not match the frames (damaged index)"
	assert_file_not_exists out
	run -1 --separate-stderr phash -c --range 0:1 d.pfs
	assert_equal "$stderr" "phash: d.pfs: the index at the end of the stream is damaged (the stream can still be read whole, without --range)"
	# without its INDEX frame the stream is whole and valid, but cannot seek
	head -c "$(frame h.pfs -1 off)" h.pfs > cut.pfs
	phash -c cut.pfs | pcompress -d | pjoin | cmp - in.bin
	run -1 --separate-stderr phash -c --range 0:1 cut.pfs
	assert_equal "$stderr" "phash: cut.pfs: the stream has no index (cut short, or written by an older version): --range cannot seek in it"
}

@test "pchunk --range: exactly the bytes asked for, as a range stream, on the whole file's chunk grid" {
	local r off len
	for r in 0:1 5:100 16383:2 16384:16384 100000:150000 307199:1 300000: 0:; do
		off=${r%%:*}; len=${r#*:}; [ -n "$len" ] || len=$((307200 - off))
		pchunk -s 16K --range "$r" in.bin > r.pfs
		pjoin r.pfs | cmp - <(want "$off" "$len")
		run -0 pinfo --json r.pfs
		assert_output --partial "\"range\":{\"first\":$off,\"length\":$len,\"start\":$off,\"first_chunk\":$((off / 16384))}"
		# the chunk indexes are the whole file's
		[ "$(pinfo --chunks r.pfs | awk 'NR == 2 { print $1 }')" -eq $((off / 16384)) ]
	done
	# a range runs through every stage like a stream, and back
	pchunk -s 16K --range 20000:70000 in.bin | pcompress --lz4 | phash |
		pencrypt --password-file pw --kdf-time 2 --kdf-memory 19M > rs.pfs
	pencrypt -d --password-file pw rs.pfs | phash -c | pcompress -d | pjoin |
		cmp - <(want 20000 70000)
}

@test "pchunk --range: errors" {
	run -1 --separate-stderr pchunk --range 307200:1 in.bin
	assert_equal "$stderr" "pchunk: in.bin: --range starts at byte 307200, past the end of the file (307200 bytes)"
	run -1 --separate-stderr bash -c 'cat in.bin | pchunk --range 0:1'
	assert_equal "$stderr" "pchunk: stdin: --range needs a file of known size, not a pipe or a device"
	run -2 --separate-stderr pchunk --range 1K in.bin
	stderr_has "pchunk: --range: invalid range '1K' (expected OFFSET:LENGTH, e.g. 3G:1M, or OFFSET: for the rest)"
	run -2 --separate-stderr pchunk --range 1K:0 in.bin
	stderr_has "pchunk: --range: size '0' is out of range"
}

@test "--range on a stream file: every first stage, byte exact, reading only the chunks needed" {
	local r off len
	for r in 0:1 16383:2 100000:50000 307199:1 290000:; do
		off=${r%%:*}; len=${r#*:}; [ -n "$len" ] || len=$((307200 - off))
		restore_e --range "$r" | cmp - <(want "$off" "$len")
		phash -c --range "$r" h.pfs | pcompress -d | pjoin |
			cmp - <(want "$off" "$len")
		phash -c h.pfs > c.pfs
		pcompress -d --range "$r" c.pfs | pjoin | cmp - <(want "$off" "$len")
		pcompress -d c.pfs > p.pfs
		pjoin --range "$r" p.pfs | cmp - <(want "$off" "$len")
		phash -c e.pfs > ee.pfs
		pencrypt -d --password-file pw --range "$r" ee.pfs | phash -c |
			pcompress -d | pjoin | cmp - <(want "$off" "$len")
	done
	# 1 byte in chunk 10 of 19: the first stage reads the index, the HEAD
	# and that chunk's frames (and up to 8 KiB read ahead), not the stream
	phash -c --range 170000:1 --stats=json e.pfs 2> st > /dev/null
	py '
import json
st = json.load(open("st")); size = len(open("e.pfs", "rb").read())
assert st["bytes_in"] < size / 4, (st["bytes_in"], size)
'
}

@test "--range: errors name the file and the way out" {
	run -1 --separate-stderr bash -c 'cat h.pfs | phash -c --range 0:1'
	assert_equal "$stderr" "phash: stdin: --range needs a stream file: a pipe cannot seek"
	run -1 --separate-stderr phash -c --range 307200: h.pfs
	assert_equal "$stderr" "phash: h.pfs: --range starts at byte 307200, past the end of the source (307200 bytes)"
	phash -c --range 0:20K h.pfs > r.pfs
	run -1 --separate-stderr pcompress -d --range 0:1 r.pfs
	assert_equal "$stderr" "pcompress: r.pfs: already a range stream: --range cuts only whole streams"
	run -2 --separate-stderr pjoin --range x h.pfs
	stderr_has "pjoin: --range: invalid range 'x'"
	run -1 --separate-stderr pjoin --payload r.pfs
	stderr_has "a range stream's payloads cannot be cut to its range"
}

@test "a cut range of an encrypted stream: each chunk authenticated at its own index; no relabelling" {
	local o
	phash -c --range 40000:40000 e.pfs > r.pfs       # chunks 2..4, still encrypted
	pencrypt -d --password-file pw r.pfs | phash -c | pcompress -d | pjoin |
		cmp - <(want 40000 40000)
	# moved: every chunk relabelled one later, the range fields too (they
	# are not under the MAC of a cut range): the nonce holds the index
	py '
b = bytearray(open("r.pfs", "rb").read())
for off, t, fl, ln, seq, raw in list(frames(b)):
    if t in (2, 3):
        struct.pack_into("<Q", b, off + 8, seq + 1)
nl = struct.unpack_from("<H", b, 40 + 32)[0]
r = 40 + 34 + nl
for i in (0, 1):
    v = struct.unpack_from("<Q", b, r + 8 * i)[0]
    struct.pack_into("<Q", b, r + 8 * i, v + 16384)
open("moved.pfs", "wb").write(b)
'
	for o in $(frame_offsets moved.pfs | awk '$2 <= 3 { print $1 }'); do
		reseal moved.pfs "$o"
	done
	run -1 --separate-stderr bash -c 'pencrypt -d --password-file pw moved.pfs > out'
	assert_equal "$stderr" "pencrypt: moved.pfs: chunk 3 failed authentication (damaged or tampered stream)"
	[ ! -s out ]
	# chunk 3 of another stream (same password, another salt) in its place
	pchunk -s 16K in.bin | pcompress | phash -a xxh64 |
		pencrypt --password-file pw --kdf-time 2 --kdf-memory 19M > other.pfs
	py '
a = open("r.pfs", "rb").read(); o = open("other.pfs", "rb").read()
def span(b, seq):
    s = [f for f in frames(b) if f[1] in (2, 3) and f[4] == seq]
    return s[0][0], s[-1][0] + 32 + s[-1][3]
a0, a1 = span(a, 3); o0, o1 = span(o, 3)
assert a1 - a0 == o1 - o0
open("spliced.pfs", "wb").write(a[:a0] + o[o0:o1] + a[a1:])
'
	run -1 --separate-stderr bash -c 'pencrypt -d --password-file pw spliced.pfs | phash -c | pcompress -d | pjoin > out'
	stderr_has "pencrypt: spliced.pfs: chunk 3 failed authentication"
	# chunk 2 came whole and authenticated, with its digest: it is passed
	# on and restored (the range's bytes in it, 40000 to 49151); nothing
	# of chunk 3
	cmp out <(want 40000 9152)
}

@test "a range cannot be passed off as the whole stream" {
	# a range sealed as a range: its HEAD (range fields included) is under
	# the header MAC
	pchunk -s 16K --range 0:32K in.bin |
		pencrypt --password-file pw --kdf-time 2 --kdf-memory 19M > s.pfs
	py '
b = bytearray(open("s.pfs", "rb").read())
hl = struct.unpack_from("<I", b, 12)[0]
p = 40
nl = struct.unpack_from("<H", b, p + 32)[0]
r = p + 34 + nl                  # rstart, rfirst, rlen
struct.pack_into("<Q", b, r + 16, 16384)    # length 32K -> 16K
open("relabelled.pfs", "wb").write(b)
'
	reseal relabelled.pfs 8
	run -1 --separate-stderr pencrypt -d --password-file pw relabelled.pfs
	stderr_has "wrong key or password (or a damaged HEAD)"
	# the END of a range says so; one that does not is refused
	pchunk -s 16K --range 0:32K in.bin > u.pfs
	py '
b = bytearray(open("u.pfs", "rb").read())
for off, t, fl, ln, seq, raw in frames(b):
    if t == 4:
        b[off + 1] = 0
open("u2.pfs", "wb").write(b)
'
	reseal u2.pfs "$(frame u2.pfs 4:2 off)"
	run -1 --separate-stderr pjoin u2.pfs
	assert_equal "$stderr" "pjoin: u2.pfs: END does not say a range but HEAD does (damaged or relabelled stream)"
	# a cut range whose chunks stop before the end of its range
	phash -c --range 0:40000 h.pfs > c.pfs
	head -c "$(frame c.pfs 2:2 off)" c.pfs > short.pfs
	py '
b = open("short.pfs", "rb").read()
# a made-up END after chunk 1: 2 chunks, their raw bytes, range flag
raw = sum(f[5] for f in frames(b) if f[1] == 2)
h = struct.pack("<BBHIQQI", 4, 1, 0, 0, 2, raw, 0)
open("short.pfs", "wb").write(b + h + b"\0\0\0\0")
'
	reseal short.pfs "$(frame short.pfs 4:2 off)"
	run -1 --separate-stderr pcompress -d short.pfs
	assert_equal "$stderr" "pcompress: short.pfs: range stream ends at chunk 1, not at the end of its range (chunk 2)"
}

@test "a range cut out of an encrypted stream cannot be decrypted as the whole stream" {
	# chunks 0..1 of e.pfs, cut without the key: its END is made up
	phash -c --range 0:20000 e.pfs > r.pfs
	pencrypt -d --password-file pw r.pfs | phash -c | pcompress -d | pjoin |
		cmp - <(want 0 20000)
	# relabelled whole: the range fields and the END flag taken away
	py '
b = bytearray(open("r.pfs", "rb").read())
hl = struct.unpack_from("<I", b, 12)[0]
nl = struct.unpack_from("<H", b, 40 + 32)[0]
r = 40 + 34 + nl
struct.pack_into("<I", b, 40 + 4, struct.unpack_from("<I", b, 44)[0] & ~4)
del b[r:r + 24]                       # HEAD without its range fields
struct.pack_into("<I", b, 12, hl - 24)
fs = list(frames(b))
for off, t, fl, ln, seq, raw in fs:
    if t == 4:
        b[off + 1] = 0
    if t == 5:                         # the index no longer fits: drop it
        del b[off:]
        break
open("whole.pfs", "wb").write(b)
'
	for o in $(frame_offsets whole.pfs | awk '{ print $1 }'); do
		reseal whole.pfs "$o"
	done
	run -1 --separate-stderr bash -c 'pencrypt -d --password-file pw whole.pfs > out'
	assert_equal "$stderr" "pencrypt: whole.pfs: END frame of chunk 2: payload too short for a tag (damaged stream)"
}

# kill_at N: start a restore into out with --resume, feed it N + 1 chunks,
# then SIGKILL it
kill_at() {
	local n=$1 i off part
	# its input is the decoded stream cut before chunk N + 1 and held open:
	# pjoin is killed blocked in its read, having written at most N chunks
	# (it holds the last back, waiting for the frame after it, and writes
	# its output in batches)
	[ -e p.pfs ] || phash -c h.pfs | pcompress -d > p.pfs
	off=$(frame p.pfs "2:$((n + 1))" off)
	rm -f sleeper
	( head -c "$off" p.pfs; echo "$BASHPID" > sleeper; exec sleep 60 ) |
		pjoin -o out --resume &
	local pj=$!
	# the stream written, and pjoin started (it makes its partial output
	# first): on a loaded machine it may take longer than head
	for ((i = 0; i < 500; i++)); do
		[ -s sleeper ] && [ -e out.pfs-part ] && break
		sleep 0.01
	done
	sleep 0.1
	kill -9 "$pj"
	kill "$(cat sleeper)"
	wait || true
	assert_file_not_exists out
	part=$(stat -c %s out.pfs-part)
	[ $((part % 16384)) -eq 0 ] && [ "$part" -le $((n * 16384)) ]
}

@test "pjoin --resume: a restore killed at several points, resumed, is byte-identical" {
	local n part good
	for n in 0 1 7 17; do
		rm -f out out.pfs-part out.pfs-part.sums
		kill_at "$n"
		# resume reading only the rest of the stream: from the last
		# whole chunk in the partial output (pjoin checks it)
		part=$(stat -c %s out.pfs-part 2>/dev/null || echo 0)
		good=$((part / 16384 * 16384))
		phash -c --range "$good": h.pfs | pcompress -d | pjoin -o out --resume
		cmp out in.bin
		assert_file_not_exists out.pfs-part
		assert_file_not_exists out.pfs-part.sums
	done
	# resumed from the whole stream through a pipe: the chunks held are skipped
	rm -f out
	kill_at 5
	phash -c h.pfs | pcompress -d | pjoin -o out --resume
	cmp out in.bin
}

@test "pjoin --resume: damaged partial output is cut back to its last good chunk; another stream's journal is refused" {
	phash -c h.pfs | pcompress -d > p.pfs
	head -c "$(frame p.pfs 2:9 off)" p.pfs > cut.pfs
	run -1 pjoin -o out --resume cut.pfs      # truncated: the partial stays
	assert_file_not_exists out
	# chunk 8 came whole, with nothing to check: kept though the frame
	# after it never came
	[ "$(stat -c %s out.pfs-part)" -eq $((9 * 16384)) ]
	flip_byte out.pfs-part $((4 * 16384 + 5))     # chunk 4 damaged
	pjoin -o out --resume p.pfs
	cmp out in.bin
	# a journal of another stream
	head -c "$(frame p.pfs 2:3 off)" p.pfs > cut.pfs
	run -1 pjoin -o x --resume cut.pfs      # chunks 0-2 kept
	pchunk -s 16K pw > other.pfs
	run -1 --separate-stderr pjoin -o x --resume other.pfs
	assert_equal "$stderr" "pjoin: other.pfs: x.pfs-part.sums: the partial output is of another stream: remove it (and x.pfs-part) to start over"
	# a range that starts after what the partial output holds
	phash -c --range 196608: h.pfs | pcompress -d > late.pfs
	run -1 --separate-stderr pjoin -o x --resume late.pfs
	assert_equal "$stderr" "pjoin: late.pfs: the stream starts at chunk 12 but x.pfs-part holds only 3 chunks"
	run -2 --separate-stderr pjoin --resume p.pfs
	stderr_has "pjoin: --resume continues an -o FILE: give one"
	# without --resume nothing is left behind
	run -1 pjoin -o y cut.pfs
	assert_file_not_exists y.pfs-part
}

@test "pjoin --resume: a partial output of other bytes under the same HEAD is refused, by the stream's digests (file) or its bytes (pipe)" {
	# two sources the HEAD cannot tell apart (name, size, mode, mtime):
	# chunk 4 differs.  The partial output and its journal are from B,
	# so the journal matches; the stream resumed is A.
	mkdir a b
	cp in.bin a/in.bin
	cp in.bin b/in.bin
	flip_byte b/in.bin $((4 * 16384 + 5))
	touch -d 2020-01-01 a/in.bin b/in.bin
	(cd a && pchunk -s 16K in.bin | phash -a sha256 > ../A.pfs)
	(cd b && pchunk -s 16K in.bin | phash -a sha256 > ../B.pfs)
	head -c "$(frame B.pfs 2:9 off)" B.pfs > cut.pfs
	run -1 pjoin -o out --resume cut.pfs        # 9 chunks kept, journal
	run -1 --separate-stderr pjoin -o out --resume A.pfs
	assert_equal "$stderr" "pjoin: A.pfs: out.pfs-part: chunk 4 does not match the stream's sha256 digest: remove it and its .sums file to restore from the start"
	assert_file_not_exists out
	run -1 --separate-stderr bash -c 'cat A.pfs | pjoin -o out --resume'
	assert_equal "$stderr" "pjoin: stdin: out.pfs-part: chunk 4 differs from the stream's: remove it and its .sums file to restore from the start"
	assert_file_not_exists out
	# chunks the resume does not read, damaged in the stream file: the
	# check reads their frames through the index and says so
	cp A.pfs D.pfs
	flip_byte D.pfs $(($(frame D.pfs 2:3 off) + 20))      # DATA 3's header
	run -1 --separate-stderr pjoin -o out --resume D.pfs
	assert_equal "$stderr" "pjoin: D.pfs: chunk 3 is not where the index says (damaged stream)"
	cp A.pfs D.pfs
	flip_byte D.pfs $(($(frame D.pfs 3:2 off) + 20))      # DIGEST 2's
	run -1 --separate-stderr pjoin -o out --resume D.pfs
	assert_equal "$stderr" "pjoin: D.pfs: the frames after chunk 2 are damaged"
	assert_file_not_exists out
	# the partial output kept: B itself resumes it, byte-identical
	pjoin -o out --resume B.pfs
	cmp out b/in.bin
	# and A from the start, once it is removed
	rm out
	pjoin -o out A.pfs
	cmp out a/in.bin
}

@test "pjoin --resume: a stream cut short keeps every chunk that came whole and verified, from a pipe as from a file; resumed, byte-identical" {
	local f cut want
	pchunk -s 16K in.bin > p.pfs                    # nothing to check
	pchunk -s 16K in.bin | phash -a sha256 > d.pfs  # a DIGEST after each DATA
	# the message, the same but for the name
	head -c $(($(frame d.pfs 2:9 off) + 32 + 100)) d.pfs > cut.pfs
	run -1 --separate-stderr pjoin -o out --resume cut.pfs
	assert_equal "$stderr" "pjoin: cut.pfs: truncated stream (frame 19: payload cut short)"
	run -1 --separate-stderr bash -c 'cat cut.pfs | pjoin -o outp --resume'
	assert_equal "$stderr" "pjoin: stdin: truncated stream (frame 19: payload cut short)"
	# STREAM CUT CHUNKS: cut at byte CUT, the partial output keeps the
	# first CHUNKS chunks whole, read from the file and from a pipe
	while read -r f cut want; do
		rm -f out* outp*
		head -c "$cut" "$f" > cut.pfs
		run -1 pjoin -o out --resume cut.pfs
		run -1 bash -c 'cat cut.pfs | pjoin -o outp --resume'
		assert_equal "$f $cut: $(stat -c %s out.pfs-part) $(stat -c %s outp.pfs-part)" \
		             "$f $cut: $((want * 16384)) $((want * 16384))"
		# resumed, from the file and through a pipe
		pjoin -o out --resume "$f"
		cmp out in.bin
		cat "$f" | pjoin -o outp --resume
		cmp outp in.bin
	done <<-EOF
	p.pfs $(($(frame p.pfs 2:9 off) + 32 + 100)) 9
	p.pfs $(frame p.pfs 2:9 off) 9
	p.pfs $(($(frame p.pfs 2:9 off) + 10)) 9
	d.pfs $(($(frame d.pfs 2:9 off) + 32 + 100)) 9
	d.pfs $(frame d.pfs 2:9 off) 9
	d.pfs $(frame d.pfs 3:8 off) 8
	d.pfs $(($(frame d.pfs 3:8 off) + 40)) 8
	EOF
}

# damage_9 F: F's DATA 9 cut short (cut-F) and with a byte changed (bad-F),
# at offset 100 of its payload: chunks 0-8 come whole and checked
damage_9() {
	local at=$(($(frame "$1" 2:9 off) + 32 + 100))
	head -c "$at" "$1" > "cut-$1"
	cp "$1" "bad-$1"
	flip_byte "bad-$1" "$at"          # k.pfs is random: a fixed byte could be there
}

@test "a stage that fails passes on every chunk checked before the error, small chunks too: none is left in its output buffer" {
	local f
	pencrypt --keygen -o k
	pchunk -s 16K in.bin | pcompress | pencrypt --key-file k > k.pfs
	damage_9 h.pfs
	damage_9 k.pfs
	run -1 --separate-stderr bash -c 'phash --check cut-h.pfs | pcompress -d | pjoin -o a --resume'
	assert_equal "${stderr_lines[0]}" "phash: cut-h.pfs: truncated stream (frame 19: payload cut short)"
	run -1 --separate-stderr bash -c 'phash --check bad-h.pfs | pcompress -d | pjoin -o b --resume'
	stderr_has "phash: bad-h.pfs: chunk 9"
	run -1 --separate-stderr bash -c 'pencrypt -d --key-file k cut-k.pfs | pcompress -d | pjoin -o d --resume'
	assert_equal "${stderr_lines[0]}" "pencrypt: cut-k.pfs: truncated stream (frame 10: payload cut short)"
	run -1 --separate-stderr bash -c 'pencrypt -d --key-file k bad-k.pfs | pcompress -d | pjoin -o e --resume'
	stderr_has "pencrypt: bad-k.pfs: chunk 9"
	for f in a b d e; do
		cmp "$f.pfs-part" <(head -c $((9 * 16384)) in.bin)
	done
}

@test "pinfo --chunks: text and JSON" {
	run -0 pinfo --chunks h.pfs
	assert_line --index 0 --regexp '^ +Chunk +Offset +Raw +Payload$'
	assert_line --index 19 --regexp "^ +18 +[0-9]+ +12288 +[0-9]+$"
	[ "${#lines[@]}" -eq 20 ]
	run -0 pinfo --chunks --json h.pfs
	[ "${#lines[@]}" -eq 19 ]
	assert_line --index 0 --regexp '^\{"file":"h.pfs","chunk":0,"offset":[0-9]+,"raw":16384,"payload":[0-9]+\}$'
}

@test "pipeline restore --range: the bytes asked for, on stdout or -o; the dry run runs as printed" {
	pipeline process -o p.pfs --encrypt --password-file pw --kdf-time 2 --kdf-memory 19M in.bin
	pipeline restore --password-file pw --range 123456:5000 p.pfs | cmp - <(want 123456 5000)
	pipeline restore --password-file pw --range 300000: -o tail.bin p.pfs
	cmp tail.bin <(want 300000 7200)
	run -0 pipeline restore --dry-run --password-file pw --range 123456:5000 p.pfs
	assert_output "phash --check --range 123456:5000 p.pfs | pencrypt -d --password-file pw | pcompress -d | pjoin"
	bash -c "$output" | cmp - <(want 123456 5000)
	# process --range: a range stream of those bytes
	pipeline process --range 1000:2000 -o part.pfs in.bin
	pipeline restore -c part.pfs | cmp - <(want 1000 2000)
	run -1 --separate-stderr bash -c 'pipeline restore --range 0:1 < p.pfs'
	stderr_has "--range needs a stream file: standard input cannot seek"
	run -2 --separate-stderr pipeline restore --range 0:1 --resume -o x p.pfs
	stderr_has "--range and --resume exclude each other"
	run -2 --separate-stderr pipeline verify --range 0:1 p.pfs
	stderr_has "--range does not apply to 'verify'"
	run -2 --separate-stderr pipeline info --resume p.pfs
	stderr_has "--resume does not apply to 'info'"
}

@test "pipeline restore --resume: killed, resumed from the first missing chunk, byte-identical" {
	local i
	# chunks above 32 KiB: no stage holds them in its output buffer
	gen text-like 3M > big.bin
	pchunk -s 256K big.bin | pcompress | phash -a xxh3 > p.pfs
	mkfifo fifo
	# a restore whose stream arrives through a fifo that stops after chunk
	# 8 without closing: killed once 6 chunks are out
	{ head -c "$(frame p.pfs 2:9 off)" p.pfs; sleep 30; } > fifo &
	local feeder=$!
	setsid pipeline restore --resume -o out - < fifo &
	local pl=$!
	for ((i = 0; i < 500; i++)); do
		[ "$(stat -c %s out.pfs-part 2>/dev/null || echo 0)" -ge $((6 << 18)) ] && break
		sleep 0.02
	done
	kill -9 -- -"$pl"
	kill "$feeder" 2>/dev/null || true
	wait || true
	assert_file_exists out.pfs-part
	assert_file_not_exists out
	run -0 pipeline restore --dry-run --resume -o out p.pfs
	assert_output --regexp '^phash --check --range (1572864|1835008|2097152): p.pfs \| pcompress -d \| pjoin -o out --resume$'
	pipeline restore --resume -o out p.pfs
	cmp out big.bin
	assert_file_not_exists out.pfs-part
	assert_file_not_exists out.pfs-part.sums
	run -2 --separate-stderr pipeline restore --resume -c p.pfs
	stderr_has "--resume continues an output file: not with -c"
}

@test "pipeline restore --resume: a stream cut short keeps every chunk verified before the cut, read from FILE or from a pipe" {
	# random bytes in chunks above 32 KiB: each stage passes a chunk on
	# once it is checked, none is left in an output buffer
	gen random 3M > big.bin
	pchunk -s 256K big.bin | pcompress | phash -a xxh3 > p.pfs
	# cut in DATA 9's payload: chunks 0-8 came whole, with their digests
	head -c $(($(frame p.pfs 2:9 off) + 1000)) p.pfs > cut.pfs
	run -1 --separate-stderr pipeline restore --resume -o out cut.pfs
	assert_equal "$stderr" "phash: cut.pfs: truncated stream (frame 19: payload cut short)"
	run -1 --separate-stderr bash -c 'cat cut.pfs | pipeline restore --resume -o outp -'
	assert_equal "$stderr" "phash: stdin: truncated stream (frame 19: payload cut short)"
	assert_equal "$(stat -c %s out.pfs-part) $(stat -c %s outp.pfs-part)" \
	             "$((9 << 18)) $((9 << 18))"
	pipeline restore --resume -o out p.pfs
	cmp out big.bin
	cat p.pfs | pipeline restore --resume -o outp -
	cmp outp big.bin
	assert_file_not_exists out.pfs-part
	assert_file_not_exists outp.pfs-part.sums
}

# process --resume: the partial output an interruption leaves is a prefix
# of the output; continued, it must become exactly the uninterrupted output

@test "pipeline process --resume: a partial output cut anywhere becomes exactly the whole output" {
	local cut offs
	gen text-like 40M > src.bin
	pipeline process -o ref.pfs src.bin
	offs=$(frame_offsets ref.pfs | awk '$2 == 2 { print $1 }' | tr '\n' ' ')
	set -- $offs            # DATA 0..4
	for cut in 100 $(($1 + 10)) $2 $(($2 + 33)) $(($3 + 5000)) $4 $(($5 + 1)) \
	           $(($(stat -c %s ref.pfs) - 1)); do
		rm -f out.pfs
		head -c "$cut" ref.pfs > out.pfs.pfs-part
		pipeline process --resume -o out.pfs src.bin
		cmp ref.pfs out.pfs
		assert_file_not_exists out.pfs.pfs-part
		assert_file_not_exists out.pfs.pfs-part.tail
	done
	pipeline restore -c out.pfs | cmp - src.bin
}

@test "pipeline process --resume keeps a last chunk the partial output holds whole (with its DIGEST), and --dry-run shows the --range and the file it writes" {
	head -c 20M /dev/urandom > src.bin
	pipeline process -o ref.pfs src.bin
	local d1 g1 d2
	d1=$(frame ref.pfs 3 off)    # DATA 1: chunk 0 and its DIGEST end here
	d2=$(frame ref.pfs 5 off)    # DATA 2
	g1=$(frame ref.pfs 4 off)    # chunk 1's DIGEST: DATA 1 ends here
	# cut right after chunk 1's DIGEST: chunk 0 is kept, chunk 1 made
	# again (to be compared with what the partial output holds)
	for cut in "$d2:8388608" "$d1:0" "$g1:0" "$(frame ref.pfs END off):16777216"; do
		rm -f out.pfs
		head -c "${cut%%:*}" ref.pfs > out.pfs.pfs-part
		run -0 pipeline --dry-run process --resume -o out.pfs src.bin
		assert_output "pchunk -s 8388608 --range ${cut##*:}: src.bin | pcompress --zstd | phash -a xxh3 > out.pfs.pfs-part.tail"
		pipeline process --resume -o out.pfs src.bin
		cmp ref.pfs out.pfs
	done
	# nothing whole: it starts over; --dry-run says so and leaves the
	# partial output alone
	head -c "$(frame ref.pfs 2 off)" ref.pfs > out2.pfs.pfs-part
	run -0 pipeline --dry-run process --resume -o out2.pfs src.bin
	assert_output "pchunk src.bin | pcompress --zstd | phash -a xxh3 > out2.pfs.pfs-part"
	assert_file_exists out2.pfs.pfs-part
}

@test "pipeline process --brotli: 32 MiB chunks; --resume goes on in the chunk size of the partial output" {
	local off
	gen text-like 33M > src.bin   # two 32 MiB chunks, the second small
	run -0 pipeline --dry-run process --brotli src.bin
	assert_output "pchunk -s 32M src.bin | pcompress --brotli | phash -a xxh3 > src.bin.pfs"
	pipeline process --brotli -o ref.pfs src.bin
	run py 'print(len([f for f in frames(open(sys.argv[1], "rb").read()) if f[1] == 2]))' ref.pfs
	assert_output 2
	off=$(frame ref.pfs 2:1 | cut -d' ' -f1)     # DATA 1
	head -c $((off + 100)) ref.pfs > out.pfs.pfs-part
	pipeline process --brotli --resume -o out.pfs src.bin
	cmp ref.pfs out.pfs
	# an older pipeline's partial output, in 8 MiB chunks
	pchunk src.bin | pcompress --brotli | phash -a xxh3 > ref8.pfs
	off=$(frame ref8.pfs 2:3 | cut -d' ' -f1)    # DATA 3
	head -c $((off + 40)) ref8.pfs > o8.pfs.pfs-part
	pipeline process --brotli --resume -o o8.pfs src.bin
	cmp ref8.pfs o8.pfs
	pipeline restore -c o8.pfs | cmp - src.bin
}

@test "pipeline process --resume: after SIGKILL, and refusals: changed source, other options, encrypted" {
	local i
	head -c 48M /dev/urandom > src.bin
	setsid pipeline process --resume -o out.pfs src.bin &
	local pl=$!
	for ((i = 0; i < 500; i++)); do
		[ "$(stat -c %s out.pfs.pfs-part 2>/dev/null || echo 0)" -gt $((17 << 20)) ] && break
		sleep 0.01
	done
	kill -9 -- -"$pl" 2>/dev/null || true
	wait || true
	if [ ! -e out.pfs ]; then
		assert_file_exists out.pfs.pfs-part
		pipeline process --resume -o out.pfs src.bin
	fi
	pipeline process -o ref.pfs src.bin
	cmp ref.pfs out.pfs
	# refusals leave the partial output as it is
	head -c 20000000 ref.pfs > out2.pfs.pfs-part
	cp out2.pfs.pfs-part keep
	touch src.bin
	run -1 --separate-stderr pipeline process --resume -o out2.pfs src.bin
	assert_equal "$stderr" "pipeline: src.bin: changed since the interrupted run (size or mtime differ from out2.pfs.pfs-part): remove out2.pfs.pfs-part to start over"
	cmp keep out2.pfs.pfs-part
	# same size and mtime, other bytes in the last chunk written
	touch -r src.bin stamp
	printf 'X' | dd of=src.bin bs=1 seek=$((8 << 20)) conv=notrunc status=none
	touch -r stamp src.bin
	pipeline process -f -o ref.pfs src.bin 2>/dev/null || true
	head -c 20000000 ref.pfs > out3.pfs.pfs-part
	printf 'Y' | dd of=src.bin bs=1 seek=$((8 << 20)) conv=notrunc status=none
	touch -r stamp src.bin
	run -1 --separate-stderr pipeline process --resume -o out3.pfs src.bin
	assert_equal "$stderr" "pipeline: src.bin: its chunk 1 is not what the interrupted run wrote (the source changed): remove out3.pfs.pfs-part to start over"
	assert_file_not_exists out3.pfs
	assert_file_exists out3.pfs.pfs-part
	# other options than the interrupted run's
	head -c 20000000 ref.pfs > out4.pfs.pfs-part
	printf 'X' | dd of=src.bin bs=1 seek=$((8 << 20)) conv=notrunc status=none
	touch -r stamp src.bin
	run -1 --separate-stderr pipeline process --resume -19 -o out4.pfs src.bin
	assert_equal "$stderr" "pipeline: src.bin: the options or the source differ from the interrupted run's (out4.pfs.pfs-part was made with zstd -3, xxh3): give its options, or remove out4.pfs.pfs-part to start over"
	# the encryption options of the interrupted run
	pipeline process -o enc.pfs --encrypt --password-file pw --kdf-time 2 --kdf-memory 19M src.bin
	head -c 20000000 enc.pfs > out5.pfs.pfs-part
	run -1 --separate-stderr pipeline process --resume --encrypt --cipher chacha20-poly1305 --password-file pw -o out5.pfs src.bin
	assert_equal "$stderr" "pipeline: src.bin: the options or the source differ from the interrupted run's (out5.pfs.pfs-part was made with zstd -3, aes-256-gcm/argon2id, xxh3): give its options, or remove out5.pfs.pfs-part to start over"
	run -1 --separate-stderr pipeline process --resume -o out5.pfs src.bin
	assert_equal "$stderr" "pipeline: src.bin: the options or the source differ from the interrupted run's (out5.pfs.pfs-part was made with zstd -3, aes-256-gcm/argon2id, xxh3): give its options, or remove out5.pfs.pfs-part to start over"
	run -1 --separate-stderr bash -c 'pipeline process --resume < src.bin > x'
	stderr_has "--resume continues an output file: not with standard output"
}

@test "pipeline process --resume, encrypted: same keys, byte-identical; a chunk that would be sealed again over other bytes is refused" {
	local cut
	head -c 40M /dev/urandom > src.bin
	local enc="--encrypt --password-file pw --kdf-time 2 --kdf-memory 19M"
	pipeline process -o ref.pfs $enc src.bin
	for cut in 17000000 $((3 * 8388608 + 5000)) $(($(stat -c %s ref.pfs) - 20)); do
		rm -f out.pfs
		head -c "$cut" ref.pfs > out.pfs.pfs-part
		pipeline process --resume -o out.pfs $enc src.bin
		cmp ref.pfs out.pfs
	done
	pipeline restore --password-file pw -c out.pfs | cmp - src.bin
	# the source changed inside the part of chunk 2 that was written
	# before the interruption (same size and mtime): pencrypt --continue
	# opens what is there and refuses to seal other bytes under its nonce
	head -c 20000000 ref.pfs > out2.pfs.pfs-part      # chunk 2: 3 MB of it
	touch -r src.bin stamp
	flip_byte src.bin $((2 * 8388608 + 1000))     # another byte, whatever it was
	touch -r stamp src.bin
	run -1 --separate-stderr pipeline process --resume -o out2.pfs $enc src.bin
	stderr_has "chunk 2 is not what out2.pfs.pfs-part holds (the source changed): nothing sealed"
	assert_file_not_exists out2.pfs
	# pencrypt --continue alone: the same check
	run -1 --separate-stderr bash -c "pchunk --range $((2 * 8388608)): src.bin | pcompress | pencrypt --password-file pw --continue out2.pfs.pfs-part > /dev/null"
	stderr_has "chunk 2 is not what out2.pfs.pfs-part holds (the source changed): nothing sealed"
	run -2 --separate-stderr pencrypt --password-file pw --continue out2.pfs.pfs-part --cipher aes-256-gcm
	stderr_has "--continue takes the cipher, the KDF and the name hiding of its FILE"
	# another password: the message names the partial output, whose
	# record did not open, and it is kept
	printf 'another\n' > pw3
	run -1 --separate-stderr pipeline process --resume -o out2.pfs --encrypt --password-file pw3 --kdf-time 2 --kdf-memory 19M src.bin
	assert_equal "$stderr" "pencrypt: src.bin: --continue out2.pfs.pfs-part: wrong key or password (or a damaged HEAD)"
	assert_file_exists out2.pfs.pfs-part
	assert_file_not_exists out2.pfs
}

@test "pjoin --resume: a journal that is not one, or made at another chunk size, is refused and left alone" {
	phash -c h.pfs | pcompress -d > p.pfs
	printf 'not a journal at all, but long enough to be read as a header\n' > x.pfs-part.sums
	: > x.pfs-part
	cp x.pfs-part.sums keep
	run -1 --separate-stderr pjoin -o x --resume p.pfs
	assert_equal "$stderr" "pjoin: p.pfs: x.pfs-part.sums: not a restore journal: remove it to start over"
	cmp keep x.pfs-part.sums
	assert_file_not_exists x
	# a journal of the same source cut at another chunk size
	rm -f x.pfs-part x.pfs-part.sums
	pchunk -s 32K in.bin > p32.pfs
	head -c "$(frame p32.pfs 2:3 off)" p32.pfs > cut32.pfs
	run -1 pjoin -o x --resume cut32.pfs
	assert_file_exists x.pfs-part.sums
	run -1 --separate-stderr pjoin -o x --resume p.pfs
	stderr_has "x.pfs-part.sums: the partial output is of another stream"
}

@test "--range: a LEN past the end of the source stops there, as dd and tail -c do; an OFF at the end is refused" {
	local s
	s=$(stat -c %s in.bin)
	pchunk -s 16K in.bin > p.pfs
	run -0 --separate-stderr bash -o pipefail -c "pjoin --range $((s - 3)):100 p.pfs | od -An -tx1"
	assert_output "$(tail -c 3 in.bin | od -An -tx1)"
	run -0 --separate-stderr bash -o pipefail -c "pchunk --range $((s - 3)):100 in.bin | pjoin | od -An -tx1"
	assert_output "$(tail -c 3 in.bin | od -An -tx1)"
	run -1 --separate-stderr pjoin --range "$s:1" p.pfs
	assert_equal "$stderr" "pjoin: p.pfs: --range starts at byte $s, past the end of the source ($s bytes)"
	# the driver, as pipeline(1) says
	pipeline process -q -o d.pfs in.bin
	run -0 --separate-stderr bash -o pipefail -c "pipeline restore --range $((s - 3)):100 d.pfs | od -An -tx1"
	assert_output "$(tail -c 3 in.bin | od -An -tx1)"
}
