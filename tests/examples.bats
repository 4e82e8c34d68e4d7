#!/usr/bin/env bats
# The EXAMPLES of every man page run verbatim (run_examples, helper.bash),
# one test per page, in a directory holding the files the page's examples
# start from; then their results are checked.  pipeline(1)'s test is in
# pipeline-files.bats.  And the pages point at each other: pfs(7) names
# every page, every page names pfs(7).

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "pchunk(1): every command of EXAMPLES runs verbatim" {
	gen text-like 3M > big.bin
	run_examples pchunk.1
	assert_success
	assert_equal "$stderr" ""
	# 1M chunks: three of them
	[ "$(frame big.pfs -1 seq)" = 3 ]
	pjoin big.pfs | cmp - big.bin
	zstd -dc big.zst | cmp - big.bin
	cmp big.bin copy.bin
	[ "$(stat -c %Y copy.bin)" = "$(stat -c %Y big.bin)" ]
	# parts: joined, and the parts made from stdin by parallel
	# --pipepart are those made from the file, byte for byte
	cmp big.bin joined.bin
	for i in 1 2 3; do
		cmp part.$i.pfs piped.$i.pfs
	done
	[ ! -e piped.4.pfs ]
}

@test "pcompress(1): every command of EXAMPLES runs verbatim" {
	gen text-like 3M > big.bin
	run_examples pcompress.1
	assert_success
	assert_equal "$stderr" ""
	zstd -dc big.zst | cmp - big.bin
	run -0 bash -o pipefail -c 'pcompress -d --lz4 big.pfs | pjoin | cmp - big.bin'
	cmp big.bin copy.bin
}

@test "pencrypt(1): every command of EXAMPLES runs verbatim" {
	gen text-like 100K > f
	printf 'correct horse battery staple\n' > pw
	run_examples pencrypt.1
	assert_success
	assert_equal "$stderr" ""
	[ "$(stat -c %a k)" = 600 ]
	cmp f copy
	# the second example's f.pfs: compressed, then encrypted with pw
	run -0 bash -o pipefail -c \
		'pencrypt -d --password-file pw f.pfs | pcompress -d | pjoin | cmp - f'
	run -1 --separate-stderr pencrypt -d --key-file k f.pfs
	assert_equal "$stderr" "pencrypt: f.pfs: the stream was encrypted with a password, not a key file: use --password-file, --password-fd or the terminal prompt"
	# the recipients example: Bob's copy, and after --rekey the key
	# file and Alice open the stream, Bob no longer
	cmp f bob.copy
	cmp f k.copy
	[ "$(stat -c %a alice.id)" = 600 ]
	run -0 bash -o pipefail -c 'pencrypt -d -i alice.id alice.pfs | pjoin | cmp - f'
	run -1 --separate-stderr pencrypt -d -i bob.id alice.pfs
	assert_equal "$stderr" "pencrypt: alice.pfs: no identity given matches a recipient of the stream (another identity's, or a damaged HEAD)"
}

@test "phash(1): every command of EXAMPLES runs verbatim" {
	gen text-like 100K > f
	run_examples phash.1
	assert_success
	assert_equal "$stderr" ""
	assert_output "f: OK"
	cmp f copy
	run -0 phash --check -a xxh3 f.pfs
}

@test "pjoin(1): every command of EXAMPLES runs verbatim" {
	gen text-like 3M > big.bin
	run_examples pjoin.1
	assert_success
	assert_equal "$stderr" ""
	cmp big.bin copy.bin
	cmp big.bin copy2.bin
	zstd -dc big.zst | cmp - big.bin
	cmp big.bin copy3.bin
}

# pinfo(1)'s examples make their own files (numbers.txt, the key k)
@test "pinfo(1): every command of EXAMPLES runs verbatim" {
	run_examples pinfo.1
	assert_success
	assert_equal "$stderr" ""
}

@test "pfs(7): every command of EXAMPLES runs verbatim" {
	gen text-like 3M > big.bin
	printf 'correct horse battery staple\n' > pw
	run_examples pfs.7
	assert_success
	# only --stats writes to stderr
	assert_regex "$stderr" '^pcompress: [^'$'\n'']*$'
	assert_line "big.bin: OK"
	local c
	for c in copy.bin copy2.bin copy3.bin copy4.bin; do
		cmp big.bin "$c"
	done
	zstd -dc big.zst | cmp - big.bin
}

# see_also PAGE: the pages named in the SEE ALSO section of docs/man/PAGE.scd,
# one per line ("pjoin(1)")
see_also() {
	sed -n '/^# SEE ALSO/,/^# /p' "$ROOT/docs/man/$1.scd" |
		grep -o '\*[a-z0-9-]*\*([0-9])' | tr -d '*' | LC_ALL=C sort
}

@test "pfs(7): SEE ALSO names every other page" {
	local f p
	run -0 see_also pfs.7
	for f in "$ROOT"/docs/man/*.scd; do
		p=$(basename "$f" .scd)
		[ "$p" = pfs.7 ] && continue
		assert_line "${p%.*}(${p##*.})"
	done
}

# pinfo.1.scd is being rewritten in another branch: it joins the list once
# it names pfs(7)
@test "every page's SEE ALSO names pfs(7)" {
	local f p
	for f in "$ROOT"/docs/man/*.1.scd; do
		p=$(basename "$f" .scd)
		run -0 see_also "$p"
		assert_line "pfs(7)"
	done
}

@test "every man page has its EXAMPLES test" {
	local f p
	for f in "$ROOT"/docs/man/*.scd; do
		p=$(basename "$f" .scd)
		run -0 grep -lF "@test \"${p%.*}(${p##*.}): every command of EXAMPLES runs verbatim\"" \
			"$ROOT"/tests/*.bats
	done
}
