#!/usr/bin/env bats
# pinfo: the human and JSON views of a stream, and the table of several.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	gen random 10000 > data.bin
	chmod 644 data.bin
	touch -d '2022-03-04 05:06:07 UTC' data.bin
}

# sz FILE: its size in bytes
sz() {
	stat -c %s "$1"
}

# ratio RAW BYTES [DIGITS]: RAW / BYTES, original / compressed as zstd -l
# has it (default 3 digits, the table's; 4 in the single view and JSON)
ratio() {
	awk -v r="$1" -v b="$2" -v d="${3:-3}" 'BEGIN { printf "%." d "f", r / b }'
}

# human N WIDTH: N bytes as zstd -l prints a size: the number right-aligned
# in WIDTH columns, 3 significant digits (none after the point in bytes),
# and the unit in 4 ("    49.0 KiB" for 50176 and 8)
human() {
	awk -v n="$1" -v w="$2" 'BEGIN {
		split("B KiB MiB GiB TiB PiB EiB", unit, " ")
		u = 1; v = n
		while (u < 7 && v >= 1024) { v /= 1024; u++ }
		p = (v >= 100 || u == 1) ? 0 : (v >= 10) ? 1 : (v > 1) ? 2 : 3
		printf "%" w "." p "f %3s", v, unit[u] }'
}

# json_get FIELD < lines: FIELD of every JSON object on stdin (one a
# line), one a line, as Python prints it (True, None, '')
json_get() {
	python3 -c 'import json, sys
for line in sys.stdin:
    print(repr(json.loads(line)[sys.argv[1]]))' "$1"
}

@test "text view" {
	pchunk -s 4K data.bin > s.pfs
	run -0 pinfo s.pfs
	assert_line "source:         data.bin"
	assert_line "size:           10000 bytes (9.8 KiB)"
	assert_line "mode:           0644"
	assert_line "modified:       2022-03-04 05:06:07 UTC"
	assert_line "chunk size:     4 KiB"
	assert_line "stages:         none (plain chunks)"
	assert_line "chunks:         3"
	assert_line "raw bytes:      10000"
	assert_line "payload bytes:  10000"
	assert_line "stream bytes:   $(stat -c %s s.pfs)"
	# raw / stream bytes as zstd has it: below 1 for plain chunks
	assert_line "ratio:          $(ratio 10000 "$(sz s.pfs)" 4)"
	assert_line --regexp '^ratio: +0\.9[0-9]{3}$'
}

@test "JSON view, with a hash stage" {
	pchunk -s 4K data.bin | phash -a xxh3 > s.pfs
	run -0 pinfo --json < s.pfs
	assert_output '{"file":"-","name":"data.bin","name_hidden":false,"from_stdin":false,"size":10000,"mode":"0644","mtime":1646370367,"verified":false,"range":null,"chunk_size":4096,"stages":[{"kind":"hash","algorithm":"xxh3"}],"chunks":3,"raw_bytes":10000,"payload_bytes":10000,"digest_frames":3,"skippable_frames":0,"stream_bytes":'"$(stat -c %s s.pfs)"',"ratio":'"$(ratio 10000 "$(sz s.pfs)" 4)"'}'
}

@test "stdin source has no name or size" {
	run -0 bash -c 'cat data.bin | pchunk | pinfo'
	assert_line "source:         (standard input)"
	refute_line --regexp "^size:"
}

@test "an invalid stream is an error" {
	pchunk -s 4K data.bin | head -c 5000 > t.pfs
	run -1 --separate-stderr pinfo t.pfs
	assert_equal "$stderr" "pinfo: t.pfs: truncated stream (frame 2: payload cut short)"
	run -1 --separate-stderr pinfo missing.pfs
	assert_equal "$stderr" "pinfo: missing.pfs: No such file or directory"
}

# an encrypted stream of data.bin, made setuid, whose source nothing has
# verified yet
encrypted() {
	pencrypt --keygen -o key
	pencrypt --keygen -o other.key
	chmod 4755 data.bin
	pchunk -s 4K data.bin | pencrypt --key-file key "$@" > e.pfs
}

@test "encrypted stream without a key: source fields marked unverified (text and JSON)" {
	encrypted
	run -0 pinfo e.pfs
	assert_line "source:         data.bin (unverified: encrypted stream, HEAD not authenticated; give a key to check)"
	assert_line "size:           10000 bytes (9.8 KiB) (unverified)"
	assert_line "mode:           04755 (unverified)"
	assert_line "modified:       2022-03-04 05:06:07 UTC (unverified)"
	refute_line --regexp "^verified:"
	run -0 pinfo --json e.pfs
	assert_output --partial '{"file":"e.pfs","name":"data.bin","name_hidden":false,"from_stdin":false,"size":10000,"mode":"04755","mtime":1646370367,"verified":false,'
}

@test "with the key: the header MAC is checked, verified true, nothing marked" {
	encrypted
	run -0 --separate-stderr pinfo --key-file key e.pfs
	assert_line "source:         data.bin"
	assert_line "mode:           04755"
	assert_line "verified:       yes (header MAC checked with the key)"
	assert_equal "$stderr" ""
	run -0 pinfo --json --key-file key < e.pfs
	assert_output --partial '"mtime":1646370367,"verified":true,'
	# under a later stage (phash) the ENCRYPT record is still found
	phash -a xxh3 < e.pfs > eh.pfs
	run -0 pinfo --json --key-file key eh.pfs
	assert_output --partial '"verified":true'
}

@test "with a password: the same, through Argon2id; --password-fd too" {
	printf 'correct horse\r\n' > pw
	pchunk -s 4K data.bin | pencrypt --password-file pw --kdf-time 2 --kdf-memory 19M > e.pfs
	run -0 pinfo --json --password-file pw e.pfs
	assert_output --partial '"verified":true'
	run -0 pinfo --json --password-fd 3 e.pfs 3< pw
	assert_output --partial '"verified":true'
	run -2 --separate-stderr pinfo --password-fd 0 < e.pfs
	assert_equal "$stderr" "pinfo: --password-fd 0 is the stream's input: use another descriptor
Try 'pinfo --help' for more information."
}

@test "a hidden name is revealed with the key" {
	encrypted --hide-name
	run -0 pinfo e.pfs
	assert_line "source:         (name hidden by pencrypt --hide-name) (unverified: encrypted stream, HEAD not authenticated; give a key to check)"
	run -0 pinfo --key-file key e.pfs
	assert_line "source:         data.bin (hidden by pencrypt --hide-name, opened with the key)"
	run -0 pinfo --json --key-file key e.pfs
	assert_output --partial '{"file":"e.pfs","name":"data.bin","name_hidden":true,"from_stdin":false,'
}

@test "wrong key, wrong kind of key, a forged HEAD: exit 1 with the message, nothing printed" {
	encrypted
	run -1 --separate-stderr pinfo --key-file other.key e.pfs
	assert_equal "$stderr" "pinfo: e.pfs: wrong key or password (or a damaged HEAD)"
	assert_equal "$output" ""
	printf 'pw\n' > pw
	run -1 --separate-stderr pinfo --password-file pw e.pfs
	assert_equal "$stderr" "pinfo: e.pfs: the stream was encrypted with a key file, not a password: use --key-file"
	# the name changed (and the frame checksum fixed): the MAC catches it
	cp e.pfs f.pfs
	printf 'evil.sh!' | dd of=f.pfs bs=1 seek=$((40 + 34)) conv=notrunc status=none
	reseal f.pfs 8
	run -0 pinfo f.pfs
	assert_line --partial "source:         evil.sh!"
	run -1 --separate-stderr pinfo --key-file key f.pfs
	assert_equal "$stderr" "pinfo: f.pfs: wrong key or password (or a damaged HEAD)"
}

@test "key options: a stream that is not encrypted, a bad key file, two key options" {
	pencrypt --keygen -o key
	pchunk -s 4K data.bin > s.pfs
	run -1 --separate-stderr pinfo --key-file key s.pfs
	assert_equal "$stderr" "pinfo: s.pfs: stream is not encrypted: a key has nothing to check"
	head -c 32 /dev/urandom > raw.key
	chmod 600 raw.key
	pchunk -s 4K data.bin | pencrypt --raw-key-file raw.key > e.pfs
	run -1 --separate-stderr pinfo --key-file raw.key e.pfs
	assert_equal "$stderr" "pinfo: raw.key: not a pfs key file (32 raw bytes or 64 hex digits? only --raw-key-file reads those)"
	run -0 pinfo --json --raw-key-file raw.key e.pfs
	assert_output --partial '"verified":true'
	chmod 644 raw.key
	run -0 --separate-stderr pinfo --json --raw-key-file raw.key e.pfs
	assert_equal "$stderr" "pinfo: warning: raw.key: key file is readable by group and others (mode 0644): run 'chmod go-rwx raw.key'"
	run -2 --separate-stderr pinfo --key-file key --password-file pw e.pfs
	assert_equal "$stderr" "pinfo: give one of --key-file, --raw-key-file, --password-file and --password-fd
Try 'pinfo --help' for more information."
}

@test "a full disk on stdout: pinfo says why, exit 1" {
	gen random 5000 > d.bin
	pchunk d.bin > d.pfs
	run -1 --separate-stderr bash -c 'pinfo d.pfs > /dev/full'
	assert_equal "$stderr" "pinfo: stdout: write error: No space left on device"
	run -1 --separate-stderr bash -c 'pinfo --json d.pfs > /dev/full'
	assert_equal "$stderr" "pinfo: stdout: write error: No space left on device"
}

@test "a full disk with several files: the table's write error too" {
	gen random 5000 > d.bin
	pchunk d.bin > d.pfs
	run -1 --separate-stderr bash -c 'pinfo d.pfs d.pfs > /dev/full'
	assert_equal "$stderr" "pinfo: stdout: write error: No space left on device"
}

# three: a.pfs (data.bin in 4 KiB chunks, no stage), b.pfs (100000 bytes
# of text in 16 KiB chunks, zstd -3), c.pfs (500 bytes, one chunk, xxh3)
three() {
	pchunk -s 4K data.bin > a.pfs
	gen text-like 100000 > text.bin
	pchunk -s 16K text.bin | pcompress --zstd > b.pfs
	gen random 500 > small.bin
	pchunk small.bin | phash -a xxh3 > c.pfs
}

@test "several files: one row each as zstd -l lays it out, then a totals line" {
	three
	run -0 --separate-stderr pinfo a.pfs b.pfs c.pfs
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 6
	assert_equal "${lines[0]}" "Chunks  Skips  Compressed  Uncompressed  Ratio  Stages   Filename"
	assert_equal "${lines[1]}" "     3      0  $(human "$(sz a.pfs)" 6)      9.77 KiB  $(ratio 10000 "$(sz a.pfs)")  none     a.pfs"
	assert_equal "${lines[2]}" "     7      0  $(human "$(sz b.pfs)" 6)      97.7 KiB  $(ratio 100000 "$(sz b.pfs)")  zstd -3  b.pfs"
	assert_equal "${lines[3]}" "     1      0  $(human "$(sz c.pfs)" 6)       500   B  $(ratio 500 "$(sz c.pfs)")  xxh3     c.pfs"
	# a rule as long as the header, and the sums: 3 + 7 + 1 chunks,
	# 110500 raw bytes, the three files' sizes; the stacks differ, so the
	# Stages column of the totals is blank
	assert_equal "${lines[4]}" "$(printf '%065d' 0 | tr 0 -)"
	total=$(( $(sz a.pfs) + $(sz b.pfs) + $(sz c.pfs) ))
	assert_equal "${lines[5]}" "    11      0  $(human "$total" 6)       108 KiB  $(ratio 110500 "$total")           3 files"
}

@test "the ratio is original / compressed: above 1 for a compressed stream, below for plain chunks" {
	three
	run -0 pinfo a.pfs b.pfs
	[[ ${lines[1]} =~ \ (0\.9[0-9]{2})\ \ none ]] || fail "a.pfs: ${lines[1]}"
	[[ ${lines[2]} =~ \ ([0-9]+\.[0-9]{3})\ \ zstd ]] || fail "b.pfs: ${lines[2]}"
	awk -v r="${BASH_REMATCH[1]}" 'BEGIN { exit !(r > 2) }' || fail "b.pfs ratio ${BASH_REMATCH[1]}"
	# the same stack in every row: the totals name it
	cp a.pfs a2.pfs
	run -0 pinfo a.pfs a2.pfs
	assert_line --index 4 "     6      0  $(human $((2 * $(sz a.pfs))) 6)      19.5 KiB  $(ratio 20000 $((2 * $(sz a.pfs))))  none    2 files"
}

@test "sizes read as zstd -l prints them: the Uncompressed column, compared with zstd's" {
	command -v zstd >/dev/null || skip "zstd not installed"
	three
	gen random 3000000 > big.bin
	pchunk big.bin > d.pfs
	zstd -q text.bin data.bin small.bin big.bin
	# columns 28-39: Uncompressed, the same place in both tables
	expected=$(zstd -l data.bin.zst text.bin.zst small.bin.zst big.bin.zst | sed -n 2,5p | cut -c 28-39)
	run -0 pinfo a.pfs b.pfs c.pfs d.pfs
	assert_equal "$(sed -n 2,5p <<< "$output" | cut -c 28-39)" "$expected"
	assert_equal "$(sed -n 5p <<< "$output" | cut -c 28-39)" "    2.86 MiB"
}

@test "a failing file among good ones: one line on stderr naming it, the others listed, exit 1" {
	three
	pchunk -s 4K data.bin | head -c 5000 > t.pfs
	run -1 --separate-stderr pinfo a.pfs missing.pfs t.pfs data.bin c.pfs
	assert_equal "$stderr" "pinfo: missing.pfs: No such file or directory
pinfo: t.pfs: truncated stream (frame 2: payload cut short)
pinfo: data.bin: not a frame stream (missing signature; 'pchunk FILE' makes one)"
	assert_equal "${#lines[@]}" 5
	assert_line --index 1 --regexp '^     3      0 .*  a\.pfs$'
	assert_line --index 2 --regexp '^     1      0 .*  c\.pfs$'
	total=$(( $(sz a.pfs) + $(sz c.pfs) ))
	assert_line --index 4 "     4      0  $(human "$total" 6)      10.3 KiB  $(ratio 10500 "$total")          2 files"
	# one good file left: its row, no totals; none: nothing on stdout
	run -1 --separate-stderr pinfo missing.pfs c.pfs
	assert_equal "${#lines[@]}" 2
	assert_equal "$stderr" "pinfo: missing.pfs: No such file or directory"
	run -1 --separate-stderr pinfo missing.pfs t.pfs
	assert_equal "$output" ""
	assert_equal "$stderr" "pinfo: missing.pfs: No such file or directory
pinfo: t.pfs: truncated stream (frame 2: payload cut short)"
	# --json the same: the good objects, the failure on stderr
	run -1 --separate-stderr pinfo --json a.pfs missing.pfs c.pfs
	assert_equal "$stderr" "pinfo: missing.pfs: No such file or directory"
	assert_equal "$(json_get file <<< "$output")" "'a.pfs'
'c.pfs'"
}

@test "the table: encrypted and piped streams show every size (pinfo reads them whole); stdin is '-'" {
	pencrypt --keygen -o key
	cat data.bin | pchunk -s 4K | pencrypt --key-file key > e.pfs
	pchunk -s 4K data.bin > a.pfs
	run -0 bash -c 'pinfo e.pfs - < a.pfs'
	assert_equal "${lines[0]}" "Chunks  Skips  Compressed  Uncompressed  Ratio  Stages       Filename"
	assert_equal "${lines[1]}" "     3      0  $(human "$(sz e.pfs)" 6)      9.77 KiB  $(ratio 10000 "$(sz e.pfs)")  aes-256-gcm  e.pfs"
	assert_equal "${lines[2]}" "     3      0  $(human "$(sz a.pfs)" 6)      9.77 KiB  $(ratio 10000 "$(sz a.pfs)")  none         -"
	assert_line --index 4 --regexp '^     6      0 .*      19.5 KiB  [0-9.]+               2 files$'
}

@test "--json with several files: one object per stream, one a line, in operand order" {
	three
	run -0 --separate-stderr bash -c 'pinfo --json a.pfs - c.pfs < b.pfs'
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 3
	run -0 python3 -c 'import json, sys
for line in sys.stdin:
    o = json.loads(line)
    print(o["file"], o["chunks"], o["raw_bytes"], o["stream_bytes"], "%.4f" % o["ratio"],
          [s["algorithm"] for s in o["stages"]])' <<< "$output"
	assert_output "a.pfs 3 10000 $(sz a.pfs) $(ratio 10000 "$(sz a.pfs)" 4) []
- 7 100000 $(sz b.pfs) $(ratio 100000 "$(sz b.pfs)" 4) ['zstd -3']
c.pfs 1 500 $(sz c.pfs) $(ratio 500 "$(sz c.pfs)" 4) ['xxh3']"
}

@test "--json tells a stream made from standard input from a hidden name, and names pinfo's own input '-'" {
	pencrypt --keygen -o key
	cat data.bin | pchunk > in.pfs
	pchunk data.bin | pencrypt --key-file key --hide-name > hid.pfs
	pchunk data.bin > named.pfs
	run -0 bash -c 'pinfo --json in.pfs hid.pfs named.pfs - < named.pfs'
	fields() {
		python3 -c 'import json, sys
for line in sys.stdin:
    o = json.loads(line)
    print(o["file"], repr(o["name"]), o["name_hidden"], o["from_stdin"], o["size"], o["verified"])'
	}
	assert_equal "$(fields <<< "$output")" "in.pfs '' False True None False
hid.pfs '' True False 10000 False
named.pfs 'data.bin' False False 10000 False
- 'data.bin' False False 10000 False"
	# the key opens the hidden name: still name_hidden, now with the name
	run -0 pinfo --json --key-file key hid.pfs
	assert_equal "$(fields <<< "$output")" "hid.pfs 'data.bin' True False 10000 True"
	# the text view says the same in words
	run -0 pinfo in.pfs
	assert_line "source:         (standard input)"
	run -0 pinfo hid.pfs
	assert_line --partial "source:         (name hidden by pencrypt --hide-name)"
}

@test "a key with several files: every HEAD checked, the password read once; a plain stream fails alone" {
	printf 'pw\n' > pw
	pchunk -s 4K data.bin | pencrypt --password-file pw --kdf-time 2 --kdf-memory 19M > e1.pfs
	pchunk -s 4K data.bin | pencrypt --password-file pw --kdf-time 2 --kdf-memory 19M > e2.pfs
	pchunk -s 4K data.bin > p.pfs
	run -0 pinfo --json --password-fd 3 e1.pfs e2.pfs 3< pw
	assert_equal "$(json_get verified <<< "$output")" "True
True"
	run -1 --separate-stderr pinfo --password-file pw e1.pfs p.pfs e2.pfs
	assert_equal "$stderr" "pinfo: p.pfs: stream is not encrypted: a key has nothing to check"
	assert_line --index 1 --regexp '  e1\.pfs$'
	assert_line --index 2 --regexp '  e2\.pfs$'
	assert_line --index 4 --regexp '  aes-256-gcm/argon2id  2 files$'
	printf 'wrong\n' > bad
	run -1 --separate-stderr pinfo --password-file bad e1.pfs e2.pfs
	assert_equal "$stderr" "pinfo: e1.pfs: wrong key or password (or a damaged HEAD)
pinfo: e2.pfs: wrong key or password (or a damaged HEAD)"
	assert_equal "$output" ""
	run -2 --separate-stderr pinfo --password-fd 0 e1.pfs - < e2.pfs
	assert_equal "$stderr" "pinfo: --password-fd 0 is the stream's input: use another descriptor
Try 'pinfo --help' for more information."
}

@test "pinfo(1): every command of EXAMPLES runs verbatim" {
	sed -n '/^# EXAMPLES/,/^# SEE ALSO/p' "$ROOT/docs/man/pinfo.1.scd" |
		awk '/^```/ { f = !f; next } f || /^\t/' | sed 's/^\t//' > examples.sh
	[ "$(wc -l < examples.sh)" -ge 9 ]
	run -0 --separate-stderr bash -e -o pipefail examples.sh
	assert_equal "$stderr" ""
	assert_line --regexp '^ +2 +0 .* +2 files$'
	assert_line --partial '"file":"plain.pfs"'
	assert_line "source:         numbers.txt (hidden by pencrypt --hide-name, opened with the key)"
}

@test "names with control characters are shown escaped in the text and the table, never raw" {
	local n=$'e\e[31mred\n\tx\\y.bin'
	cp data.bin "$n"
	pchunk "$n" > "$n.pfs"
	run -0 pinfo "$n.pfs"
	assert_line --index 0 'source:         e\033[31mred\n\tx\\y.bin'
	head -c 1000000 /dev/zero > zero.bin
	pchunk zero.bin | pcompress > zero.pfs
	run -0 pinfo zero.pfs "$n.pfs"
	assert_equal "${#lines[@]}" 5
	# a ratio of 1000 or more widens its column instead of shifting the rest
	assert_line --index 0 --regexp '^Chunks  Skips  Compressed  Uncompressed  +Ratio  Stages   Filename$'
	col() { awk -v s="$2" '{ print index($0, s) }' <<< "$1"; }
	assert_equal "$(col "${lines[0]}" Stages)" "$(col "${lines[1]}" zstd)"
	assert_equal "$(col "${lines[0]}" Filename)" "$(col "${lines[1]}" zero.pfs)"
	assert_equal "$(col "${lines[0]}" Filename)" "$(col "${lines[2]}" 'e\\033')"
	assert_line --index 2 --regexp ' none     e\\033\[31mred\\n\\tx\\\\y\.bin\.pfs$'
	run -0 pinfo --json "$n.pfs"
	assert_output --partial '"name":"e\u001b[31mred\u000a\u0009x\\y.bin"'
}
