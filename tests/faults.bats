#!/usr/bin/env bats
# Faults across a whole pipeline: a stage killed mid-stream, a 5 GiB sparse
# file through every stage.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "a middle stage killed with SIGKILL: downstream reports truncation, pjoin -o leaves nothing" {
	gen text-like 40M > in.bin
	pencrypt --keygen -o k
	run --separate-stderr bash -c '
		pchunk -s 64K in.bin | pcompress --brotli -l 9 -T 1 |
		{ pencrypt --key-file k -T 1 & p=$!; sleep 0.5; kill -9 $p; wait $p; } |
		pencrypt -d --key-file k | pcompress -d | pjoin -o out.bin
		echo "${PIPESTATUS[*]}"'
	# pencrypt -d sees a stream without its END frame
	assert_regex "$stderr" "pencrypt: stdin: truncated stream \((frame [0-9]+: (payload|header) cut short|no END frame after [0-9]+ chunks|no HEAD frame)\)|pencrypt: stdin: empty input"
	assert_regex "$output" "^[0-9]+ [0-9]+ 137 1 1 1$"
	assert_file_not_exists out.bin
	[ -z "$(ls -A | grep '^\.out')" ]
}

@test "a 5 GiB sparse file through every stage and back" {
	truncate -s 5G sparse.bin
	printf 'end' >> sparse.bin
	pencrypt --keygen -o k
	run --separate-stderr bash -o pipefail -c '
		pchunk sparse.bin | phash -a xxh3 | pcompress --lz4 |
		pencrypt --key-file k | phash -a xxh3 |
		phash --check | pencrypt -d --key-file k | pcompress -d |
		phash --check | pjoin | xxhsum -H1'
	assert_success
	# xxhsum -H1 of the same bytes: { head -c 5G /dev/zero; printf end; }
	# (a constant: computing it took 6 s of make check)
	assert_output "a424d887e109e4cd  stdin"
}
