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
	assert_output '{"name":"data.bin","size":10000,"mode":"0644","mtime":1646370367,"chunk_size":4096,"stages":[{"kind":"hash","algorithm":"xxh3"}],"chunks":3,"raw_bytes":10000,"payload_bytes":10000,"digest_frames":3,"skippable_frames":0,"stream_bytes":'"$(stat -c %s s.pfs)"',"ratio":1.0000}'
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
