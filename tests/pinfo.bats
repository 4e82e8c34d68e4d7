#!/usr/bin/env bats
# pinfo: the human and JSON views of a stream.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	gen random 10000 > data.bin
	chmod 644 data.bin
	touch -d '2022-03-04 05:06:07 UTC' data.bin
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
	assert_line "ratio:          1.0000"
}

@test "JSON view, with a hash stage" {
	pchunk -s 4K data.bin | phash -a xxh3 > s.pfs
	run -0 pinfo --json < s.pfs
	assert_output '{"name":"data.bin","size":10000,"mode":"0644","mtime":1646370367,"verified":false,"chunk_size":4096,"stages":[{"kind":"hash","algorithm":"xxh3"}],"chunks":3,"raw_bytes":10000,"payload_bytes":10000,"digest_frames":3,"skippable_frames":0,"stream_bytes":'"$(stat -c %s s.pfs)"',"ratio":1.0000}'
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
	assert_output --partial '{"name":"data.bin","size":10000,"mode":"04755","mtime":1646370367,"verified":false,'
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
	assert_output --partial '{"name":"data.bin",'
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
