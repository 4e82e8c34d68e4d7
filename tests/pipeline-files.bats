#!/usr/bin/env bats
# pipeline, the front door: several FILEs and -r, standard input and
# output, the default stages, the stage options, one line per failure,
# SIGPIPE, progress; --dry-run of every form runs as printed.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	umask 022
	head -c 200000 /dev/urandom > a.bin
	seq 1 60000 > b.txt
	mkdir -p d/sub
	cp a.bin d/x
	cp b.txt d/sub/y
}

# as_printed CMD...: run pipeline --dry-run CMD..., then the printed line
# with bash (stdin passed on), and show what it wrote on stdout
as_printed() {
	local line
	line=$(pipeline --dry-run "$@" < /dev/null)
	bash -o pipefail -c "$line"
}

@test "several FILEs: each to its own .pfs; restore each" {
	run -0 --separate-stderr pipeline process a.bin b.txt
	assert_equal "$stderr" ""
	assert_file_exists a.bin.pfs
	assert_file_exists b.txt.pfs
	mkdir out
	mv a.bin.pfs b.txt.pfs out/
	run -0 pipeline restore out/a.bin.pfs out/b.txt.pfs
	cmp a.bin out/a.bin
	cmp b.txt out/b.txt
}

@test "-r: every regular file under DIR, .pfs skipped silently (a FILE.pfs operand with a warning)" {
	run -0 --separate-stderr pipeline process -r d
	assert_equal "$stderr" ""
	assert_file_exists d/x.pfs
	assert_file_exists d/sub/y.pfs
	# again: one line per existing output, none for the .pfs files
	run -1 --separate-stderr pipeline process -r d
	assert_equal "$stderr" "pipeline: d/sub/y.pfs: file exists (use -f to overwrite it)
pipeline: d/x.pfs: file exists (use -f to overwrite it)"
	assert_file_not_exists d/x.pfs.pfs
	run -0 --separate-stderr pipeline process -f -r d
	assert_equal "$stderr" ""
	assert_file_not_exists d/x.pfs.pfs
	run -0 --separate-stderr pipeline process d/x.pfs
	assert_equal "$stderr" "pipeline: d/x.pfs: already has the .pfs suffix -- skipped"
	run -0 --separate-stderr pipeline -q process d/x.pfs
	assert_equal "$stderr" ""
	rm d/x d/sub/y
	run -0 pipeline restore -r d
	cmp a.bin d/x
	cmp b.txt d/sub/y
	run -0 pipeline verify -r d
}

@test "a directory without -r is one failure; the other FILEs go on" {
	run -1 --separate-stderr pipeline process d a.bin
	assert_equal "$stderr" "pipeline: d: is a directory (use -r)"
	assert_file_exists a.bin.pfs
}

@test "process on a .pfs FILE warns and skips it" {
	pipeline process a.bin
	run -0 --separate-stderr pipeline process a.bin.pfs
	assert_equal "$stderr" "pipeline: a.bin.pfs: already has the .pfs suffix -- skipped"
	assert_file_not_exists a.bin.pfs.pfs
}

@test "one failing FILE does not stop the others: one line each, exit 1" {
	pipeline process a.bin b.txt
	printf 'garbage' > bad.pfs
	cp b.txt.pfs cut.pfs
	truncate -s 100 cut.pfs
	mkdir out
	run -1 --separate-stderr pipeline restore --output-dir-flat out bad.pfs a.bin.pfs nothere.pfs cut.pfs b.txt.pfs
	assert_equal "${#stderr_lines[@]}" 3
	assert_equal "${stderr_lines[0]}" "pipeline: bad.pfs: not a frame stream (missing signature; 'pchunk FILE' makes one)"
	assert_equal "${stderr_lines[1]}" "pipeline: nothere.pfs: No such file or directory"
	assert_regex "${stderr_lines[2]}" "^[a-z]+: cut.pfs: "
	cmp a.bin out/a.bin
	cmp b.txt out/b.txt
	assert_file_not_exists out/cut
}

@test "--output-dir-flat and --output-dir-mirror" {
	mkdir flat mirror
	run -0 pipeline process --output-dir-flat flat -r d
	assert_file_exists flat/x.pfs
	assert_file_exists flat/y.pfs
	run -0 pipeline process --output-dir-mirror mirror -r d
	assert_file_exists mirror/d/x.pfs
	assert_file_exists mirror/d/sub/y.pfs
	run -0 pipeline restore --output-dir-mirror back -r mirror
	cmp a.bin back/mirror/d/x
	run -1 --separate-stderr pipeline process --output-dir-mirror mirror ../"${PWD##*/}"/a.bin
	assert_regex "$stderr" "a path with '\.\.' would leave mirror$"
	# a missing or wrong flat directory is said once, before any FILE
	run -1 --separate-stderr pipeline process --output-dir-flat nodir a.bin b.txt
	assert_equal "$stderr" "pipeline: --output-dir-flat nodir: No such file or directory (make it first)"
	run -1 --separate-stderr pipeline restore --output-dir-flat a.bin flat/x.pfs flat/y.pfs
	assert_equal "$stderr" "pipeline: --output-dir-flat a.bin: not a directory"
	assert_not_exists nodir
}

@test "--dry-run --output-dir-mirror makes no directory: it prints mkdir -p" {
	run -0 pipeline --dry-run process --output-dir-mirror 'm m' -r d
	assert_output "mkdir -p 'm m/d/sub' && pchunk d/sub/y | pcompress --zstd | phash -a xxh3 > 'm m/d/sub/y.pfs'
mkdir -p 'm m/d' && pchunk d/x | pcompress --zstd | phash -a xxh3 > 'm m/d/x.pfs'"
	assert_not_exists 'm m'
	bash -o pipefail -c "$output"
	run -0 pipeline --dry-run restore --output-dir-mirror back -r 'm m'
	assert_not_exists back
	bash -o pipefail -c "$output"
	cmp a.bin 'back/m m/d/x'
	cmp b.txt 'back/m m/d/sub/y'
	# ./a.bin has no directory to mirror: no mkdir, no '//'
	run -0 pipeline --dry-run process --output-dir-mirror m ./a.bin
	assert_output "pchunk ./a.bin | pcompress --zstd | phash -a xxh3 > m/a.bin.pfs"
}

@test "--rm removes the source after success only; -k keeps it" {
	run -0 pipeline process --rm a.bin
	assert_file_not_exists a.bin
	run -0 pipeline restore -k a.bin.pfs
	assert_file_exists a.bin.pfs
	rm a.bin
	run -0 pipeline restore --rm a.bin.pfs
	assert_file_not_exists a.bin.pfs
	cmp a.bin d/x
	# a failure keeps the source
	printf 'garbage' > bad.pfs
	run -1 pipeline restore --rm -o out bad.pfs
	assert_file_exists bad.pfs
	run -0 pipeline --dry-run process --rm b.txt
	assert_output "pchunk b.txt | pcompress --zstd | phash -a xxh3 > b.txt.pfs && rm b.txt"
	run -0 as_printed process --rm b.txt
	assert_file_not_exists b.txt
	assert_file_exists b.txt.pfs
}

@test "usage errors of the file options" {
	local hint="Try 'pipeline --help' for more information."
	run -2 --separate-stderr pipeline process -r -o x d
	assert_equal "$stderr" "pipeline: -o takes one FILE: use --output-dir-flat DIR or -c for several
$hint"
	run -2 --separate-stderr pipeline process -c a.bin b.txt
	assert_equal "$stderr" "pipeline: -c with several FILEs: the streams would be concatenated, which no stage reads back
$hint"
	run -2 --separate-stderr pipeline restore -c --rm a.bin.pfs
	assert_equal "$stderr" "pipeline: --rm and -c exclude each other (the source is kept when the output is standard output)
$hint"
	run -2 --separate-stderr pipeline process --rm -o - a.bin
	assert_equal "$stderr" "pipeline: --rm and -o - exclude each other (the source is kept when the output is standard output)
$hint"
	run -2 --separate-stderr pipeline restore -k --rm a.bin.pfs
	assert_equal "$stderr" "pipeline: -k and --rm exclude each other
$hint"
	run -2 --separate-stderr pipeline restore -o x -c a.bin.pfs
	assert_equal "$stderr" "pipeline: -o and -c exclude each other
$hint"
	run -2 --separate-stderr pipeline restore -c -o x a.bin.pfs
	assert_equal "$stderr" "pipeline: -o and -c exclude each other
$hint"
	run -2 --separate-stderr pipeline verify --rm a.bin.pfs
	assert_equal "$stderr" "pipeline: --rm does not apply to 'verify'
$hint"
	run -2 --separate-stderr pipeline process --password-fd 0 --encrypt a.bin -
	assert_equal "$stderr" "pipeline: --password-fd 0 is standard input, which is read as FILE '-': use another descriptor
$hint"
	run -2 --separate-stderr pipeline restore - a.bin.pfs -
	assert_equal "$stderr" "pipeline: '-' (standard input) is given twice: it can be read once
$hint"
}

@test "--password-fd N is read once by pipeline: N may be 0 with FILEs named, several FILEs share it; a closed N or no password is one line, nothing written" {
	printf 'correct horse\n' > pw
	run -0 --separate-stderr bash -c 'pipeline process -q --encrypt --password-fd 0 --kdf-time 2 --kdf-memory 19M a.bin b.txt < pw'
	assert_equal "$stderr" ""
	run -0 bash -c 'pipeline restore -q --password-fd 0 -c a.bin.pfs b.txt.pfs < pw > both'
	cat a.bin b.txt | cmp - both
	run -0 bash -c 'pipeline verify -q --password-fd 3 a.bin.pfs b.txt.pfs 3< pw'
	run -1 --separate-stderr bash -c 'pipeline restore -q --password-fd 3 -o x a.bin.pfs 3<&-'
	assert_equal "$stderr" "pipeline: --password-fd 3: Bad file descriptor"
	assert_file_not_exists x
	run -1 --separate-stderr bash -c 'pipeline process -q --encrypt --password-fd 3 -o y.pfs a.bin 3< /dev/null'
	assert_equal "$stderr" "pipeline: --password-fd 3: empty password"
	assert_file_not_exists y.pfs
	run -1 --separate-stderr bash -c 'echo wrong | pipeline restore -q --password-fd 0 -o x a.bin.pfs'
	assert_equal "$stderr" "pencrypt: a.bin.pfs: wrong key or password (or a damaged HEAD)"
	assert_file_not_exists x
}

@test "restore from a pipe, killed with SIGTERM while the writer of its standard input is idle: pipeline ends at once, 128+15, nothing left" {
	pchunk -s 16K a.bin | pcompress | phash > p.pfs
	mkfifo fifo
	pipeline restore -o out < fifo &
	pid=$!
	exec 7> fifo
	head -c 60000 p.pfs >&7
	for i in $(seq 50); do [ -n "$(pgrep -P "$pid")" ] && break; sleep 0.1; done
	sleep 0.3
	kill -TERM "$pid"
	for i in $(seq 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
	gone=1; kill -0 "$pid" 2> /dev/null && gone=0
	exec 7>&-
	st=0
	wait "$pid" || st=$?
	[ "$gone" = 1 ]
	[ "$st" -eq 143 ]
	assert_file_not_exists out
	[ -z "$(ls -A | grep '^\.out')" ]
	# killed while it reads the HEAD itself: no message either
	pipeline restore -o out < fifo 2> err &
	pid=$!
	exec 7> fifo
	head -c 10 p.pfs >&7
	sleep 0.5
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	exec 7>&-
	[ "$st" -eq 143 ]
	assert_equal "$(cat err)" ""
	assert_file_not_exists out
}

@test "process -o from a pipe: the output's mode is the umask's, as zstd's (a FILE's is the FILE's)" {
	cat a.bin | pipeline process -o p1.pfs
	[ "$(stat -c %a p1.pfs)" = 644 ]
	(umask 027; cat a.bin | pipeline process -o p2.pfs)
	[ "$(stat -c %a p2.pfs)" = 640 ]
	chmod 604 a.bin
	pipeline process -o p3.pfs a.bin
	[ "$(stat -c %a p3.pfs)" = 604 ]
}

@test "stdin to stdout: process < f > f.pfs, restore and verify from a pipe" {
	pipeline process < a.bin > s.pfs
	pipeline process - < b.txt > t.pfs
	run -0 bash -o pipefail -c 'cat s.pfs | pipeline restore -o out'
	cmp a.bin out
	run -0 bash -o pipefail -c 'cat t.pfs | pipeline restore | cmp - b.txt'
	run -0 bash -o pipefail -c 'pipeline restore -c t.pfs | cmp - b.txt'
	run -0 bash -o pipefail -c 'cat s.pfs | pipeline verify -'
	run -0 pipeline verify < s.pfs
	# a regular file on stdin is read where it stands
	run -0 bash -c '{ pipeline restore -o out2; } < s.pfs'
	cmp a.bin out2
	# tar through it
	tar cf - d | pipeline process > d.tar.pfs
	mkdir x && cd x
	run -0 bash -o pipefail -c 'pipeline restore -c ../d.tar.pfs | tar xf -'
	cmp ../a.bin d/x
}

@test "stdin: a damaged stream from a pipe is one line" {
	pipeline process < a.bin > s.pfs
	run -1 --separate-stderr bash -c 'printf garbage | pipeline verify'
	assert_equal "$stderr" "pipeline: stdin: not a frame stream (missing signature; 'pchunk FILE' makes one)"
	run -1 --separate-stderr bash -c 'head -c 3000 s.pfs | pipeline restore -o out'
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" "^[a-z]+: stdin: "
	assert_file_not_exists out
}

@test "stdout: process refuses a terminal, -f forces" {
	command -v script >/dev/null || skip "script(1) is missing"
	local refused="pipeline: refusing to write a binary stream to a terminal (redirect the output or use -f)"
	run -1 script -qec "pipeline process -c a.bin" /dev/null
	assert_equal "${output//$'\r'/}" "$refused"
	run -1 script -qec "pipeline process < a.bin" /dev/null
	assert_equal "${output//$'\r'/}" "$refused"
	# -f reaches the stage that writes the stream, whichever it is
	run -0 pipeline --dry-run process -f -c a.bin
	assert_output "pchunk a.bin | pcompress --zstd | phash -a xxh3 -f"
	run -0 pipeline --dry-run process -f -c --no-compress --no-hash a.bin
	assert_output "pchunk -f a.bin"
	run -0 script -qec "pipeline process -q -f -c b.txt" /dev/null
	assert_output --partial "PFS"
	refute_output --partial "refusing"
	run -0 script -qec "pipeline process -q -f -c --no-hash b.txt" /dev/null
	assert_output --partial "PFS"
	run -0 script -qec "pipeline process -q -f -c --no-compress --no-hash b.txt" /dev/null
	assert_output --partial "PFS"
}

@test "stdout: restore writes the restored data to a terminal, as zstd -dc" {
	command -v script >/dev/null || skip "script(1) is missing"
	seq 1 3 > s.txt
	pipeline process s.txt
	run -0 script -qec "pipeline restore -q -c s.txt.pfs" /dev/null
	assert_equal "${output//$'\r'/}" "$(seq 1 3)"
	run -0 script -qec "pipeline restore -q < s.txt.pfs" /dev/null
	assert_equal "${output//$'\r'/}" "$(seq 1 3)"
	# the printed pipeline runs as printed there too (pjoin refuses
	# only --payload, a stream, on a terminal)
	run -0 pipeline --dry-run -q restore -c s.txt.pfs
	assert_output "phash --check -q s.txt.pfs | pcompress -d -q | pjoin -q"
	run -0 script -qec "$output" /dev/null
	assert_equal "${output//$'\r'/}" "$(seq 1 3)"
}

@test "--dry-run of stdin and stdout forms runs as printed" {
	pipeline process < a.bin > s.pfs
	run -0 pipeline --dry-run process
	assert_output "pchunk | pcompress --zstd | phash -a xxh3"
	run -0 bash -o pipefail -c "{ $(pipeline --dry-run process); } < b.txt > t.pfs"
	run -0 bash -o pipefail -c 'pipeline restore -c t.pfs | cmp - b.txt'
	run -0 bash -c 'pipeline --dry-run restore -o out < s.pfs'
	assert_output "phash --check | pcompress -d | pjoin -o out"
	run -0 bash -o pipefail -c "{ $output; } < s.pfs"
	cmp a.bin out
	run -0 bash -c 'cat s.pfs | pipeline --dry-run verify -'
	assert_output "phash --check | pcompress -d | pjoin -o /dev/null"
	run -0 pipeline --dry-run restore -c s.pfs
	assert_output "phash --check s.pfs | pcompress -d | pjoin"
	run -0 bash -o pipefail -c "$output | cmp - a.bin"
	run -0 pipeline --dry-run process a.bin b.txt
	assert_output "pchunk a.bin | pcompress --zstd | phash -a xxh3 > a.bin.pfs
pchunk b.txt | pcompress --zstd | phash -a xxh3 > b.txt.pfs"
	mkdir flat
	run -0 pipeline --dry-run process --output-dir-flat flat -r d
	assert_output "pchunk d/sub/y | pcompress --zstd | phash -a xxh3 > flat/y.pfs
pchunk d/x | pcompress --zstd | phash -a xxh3 > flat/x.pfs"
	bash -o pipefail -c "$output"
	run -0 pipeline restore -c flat/x.pfs
	cmp <(pipeline restore -c flat/x.pfs) a.bin
}

@test "--dry-run to a full disk: pipeline says why, once, exit 1" {
	run -1 --separate-stderr bash -c 'pipeline --dry-run process a.bin b.txt > /dev/full'
	assert_equal "$stderr" "pipeline: stdout: write error: No space left on device"
	assert_file_not_exists a.bin.pfs
}

@test "process compresses (zstd -3) and hashes (xxh3) by default" {
	seq 1 200000 > big.txt
	run -0 pipeline process big.txt
	run -0 pinfo big.txt.pfs
	assert_line --regexp '^stages: +1\. compress zstd -3, 2\. hash xxh3$'
	[ "$(stat -c %s big.txt.pfs)" -lt "$(stat -c %s big.txt)" ]
	run -0 pipeline --dry-run process --no-compress big.txt
	assert_output "pchunk big.txt | phash -a xxh3 > big.txt.pfs"
	run -0 pipeline --dry-run process --no-hash big.txt
	assert_output "pchunk big.txt | pcompress --zstd > big.txt.pfs"
	run -0 pipeline --dry-run process --no-compress --no-hash big.txt
	assert_output "pchunk big.txt > big.txt.pfs"
	run -2 --separate-stderr pipeline process --hash sha256 --no-hash big.txt
	assert_equal "${stderr_lines[0]}" "pipeline: --hash and --no-hash exclude each other"
	run -2 --separate-stderr pipeline process --lz4 --no-compress big.txt
	assert_equal "${stderr_lines[0]}" "pipeline: --lz4: --no-compress excludes a compression option"
}

@test "levels as zstd spells them: -#, --fast[=N], --ultra -22; -l N stays" {
	run -0 pipeline --dry-run process -19 a.bin
	assert_output "pchunk a.bin | pcompress --zstd -l 19 | phash -a xxh3 > a.bin.pfs"
	run -0 pipeline --dry-run process --fast=5 a.bin
	assert_output "pchunk a.bin | pcompress --zstd -l -5 | phash -a xxh3 > a.bin.pfs"
	run -0 pipeline --dry-run process --fast a.bin
	assert_output "pchunk a.bin | pcompress --zstd -l -1 | phash -a xxh3 > a.bin.pfs"
	run -0 pipeline --dry-run process --ultra -22 a.bin
	assert_output "pchunk a.bin | pcompress --zstd --ultra -l 22 | phash -a xxh3 > a.bin.pfs"
	run -0 pipeline --dry-run process --lz4 -9 a.bin
	assert_output "pchunk a.bin | pcompress --lz4 -l 9 | phash -a xxh3 > a.bin.pfs"
	run -0 pipeline --dry-run process -l -3 -o -3 a.bin
	assert_output "pchunk a.bin | pcompress --zstd -l -3 | phash -a xxh3 > -3"
	run -2 --separate-stderr pipeline process -22 a.bin
	assert_equal "${stderr_lines[0]}" "pipeline: level 22 of zstd needs --ultra"
	run -2 --separate-stderr pipeline process --ultra -23 a.bin
	assert_equal "${stderr_lines[0]}" "pipeline: level 23 is out of range for zstd (1-19, 20-22 with --ultra, -100 to -1 fast)"
	run -0 as_printed process --fast=3 -o f.pfs a.bin
	run -0 as_printed process -19 -o n.pfs a.bin
	pinfo n.pfs | grep -q 'compress zstd -19'
	run -0 pipeline restore -c n.pfs
	cmp <(pipeline restore -c f.pfs) a.bin
}

@test "a bad level names the option typed (-#, -l, --fast, --ultra), as pcompress" {
	run -2 --separate-stderr pipeline process --lz4 --fast=3 a.bin
	assert_equal "${stderr_lines[0]}" "pipeline: --fast is a zstd level: drop it or use --zstd"
	run -2 --separate-stderr pipeline process --brotli --fast a.bin
	assert_equal "${stderr_lines[0]}" "pipeline: --fast is a zstd level: drop it or use --zstd"
	run -2 --separate-stderr pipeline process --lz4 -15 a.bin
	assert_equal "${stderr_lines[0]}" "pipeline: level 15 is out of range for lz4 (1-12)"
	run -2 --separate-stderr pipeline process --lz4 -l 15 a.bin
	assert_equal "${stderr_lines[0]}" "pipeline: -l: level 15 is out of range for lz4 (1-12)"
	run -2 --separate-stderr pipeline process --fast=200 a.bin
	assert_equal "${stderr_lines[0]}" "pipeline: --fast: '200' is out of range (1 to 100)"
	run -2 --separate-stderr pipeline process --fast=0 a.bin
	assert_equal "${stderr_lines[0]}" "pipeline: --fast: '0' is out of range (1 to 100)"
	run -2 --separate-stderr pipeline process --lz4 --ultra -9 a.bin
	assert_equal "${stderr_lines[0]}" "pipeline: --ultra is for zstd levels 20-22"
	run -2 --separate-stderr pipeline process -99999999999 a.bin
	assert_equal "${stderr_lines[0]}" "pipeline: -99999999999: '99999999999' is out of range (-1000000 to 1000000)"
	assert_file_not_exists a.bin.pfs
}

@test "stage options: key kinds, --password-fd, KDF, --hide-name, --cipher" {
	pencrypt --keygen -o k
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > raw
	printf 'correct horse\n' > pw
	run -0 pipeline --dry-run process --encrypt --raw-key-file raw --cipher chacha20-poly1305 --hide-name a.bin
	assert_output "pchunk a.bin | pcompress --zstd | pencrypt --raw-key-file raw --cipher chacha20-poly1305 --hide-name | phash -a xxh3 > a.bin.pfs"
	run -0 as_printed process --encrypt --raw-key-file raw --cipher chacha20-poly1305 --hide-name a.bin
	run -0 pipeline restore --raw-key-file raw -o back a.bin.pfs
	cmp a.bin back
	run -0 pipeline --dry-run process --encrypt --password-file pw --kdf-time 2 --kdf-memory 19M -o p.pfs a.bin
	assert_output "pchunk a.bin | pcompress --zstd | pencrypt --password-file pw --kdf-time 2 --kdf-memory 19M | phash -a xxh3 > p.pfs"
	run -0 as_printed process --encrypt --password-file pw --kdf-time 2 --kdf-memory 19M -o p.pfs a.bin
	run -0 bash -c 'pipeline restore --password-fd 3 -o back2 p.pfs 3< pw'
	cmp a.bin back2
	run -2 --separate-stderr pipeline process --encrypt --key-file k --kdf-time 2 a.bin
	assert_equal "${stderr_lines[0]}" "pipeline: --kdf-time/--kdf-memory need a password, not --key-file"
	run -2 --separate-stderr pipeline process --hide-name a.bin
	assert_equal "${stderr_lines[0]}" "pipeline: --hide-name needs --encrypt"
	run -0 pipeline --dry-run process -T 2 --no-hash a.bin
	assert_output "pchunk a.bin | pcompress --zstd -T 2 > a.bin.pfs"
}

@test "no key option, or --password-fd N: --dry-run prints pencrypt without one (run so, pencrypt asks on the terminal)" {
	pencrypt --keygen -o k
	run -0 pipeline --dry-run process --encrypt --no-hash a.bin
	assert_output "pchunk a.bin | pcompress --zstd | pencrypt > a.bin.pfs"
	pipeline process --encrypt --key-file k -o e.pfs a.bin
	run -0 pipeline --dry-run restore -o out e.pfs
	assert_output "phash --check e.pfs | pencrypt -d | pcompress -d | pjoin -o out"
	# --password-fd N too: pipeline reads N once for all FILEs, and as
	# printed a later stage's descriptor 0 would be the pipe before it
	run -0 pipeline --dry-run process --encrypt --password-fd 0 --no-hash -o f.pfs a.bin < /dev/null
	assert_output "pchunk a.bin | pcompress --zstd | pencrypt > f.pfs"
	run -0 pipeline --dry-run restore --password-fd 0 -o out e.pfs < /dev/null
	assert_output "phash --check e.pfs | pencrypt -d | pcompress -d | pjoin -o out"
}

# need_script: skip without script(1), which gives a command a terminal
need_script() {
	command -v script >/dev/null || skip "script(1) is missing"
}

# on_tty INPUT CMD: run CMD on a new terminal (script(1)) on which INPUT
# (printf %b) is typed; the terminal's output goes to tty.log.  timeout:
# a prompt that waits for more lines than were typed fails instead of
# hanging
on_tty() {
	printf '%b' "$1" | timeout 120 script -qec "$2" /dev/null > tty.log
}

# shown STRING: how many times STRING was written to the terminal
shown() {
	grep -o -F -- "$1" tty.log | wc -l
}

@test "no key option: process asks for the password once (and once again to confirm) for all FILEs" {
	need_script
	head -c 50000 /dev/urandom > c.bin
	run -0 on_tty 'sekrit\nsekrit\n' "pipeline process --encrypt --kdf-time 2 --kdf-memory 19M a.bin b.txt c.bin"
	assert_equal "$(shown 'Password (to encrypt): ')" 1
	assert_equal "$(shown 'Password (again): ')" 1
	printf 'sekrit\n' > pw
	mkdir out
	run -0 pipeline restore --password-file pw --output-dir-flat out a.bin.pfs b.txt.pfs c.bin.pfs
	cmp a.bin out/a.bin
	cmp b.txt out/b.txt
	cmp c.bin out/c.bin
}

@test "no key option: restore asks for the password once for all FILEs" {
	need_script
	head -c 50000 /dev/urandom > c.bin
	printf 'sekrit\n' > pw
	pipeline process --encrypt --password-file pw --kdf-time 2 --kdf-memory 19M a.bin b.txt c.bin
	mkdir out
	run -0 on_tty 'sekrit\n' "pipeline restore --output-dir-flat out a.bin.pfs b.txt.pfs c.bin.pfs"
	assert_equal "$(shown 'Password: ')" 1
	cmp a.bin out/a.bin
	cmp b.txt out/b.txt
	cmp c.bin out/c.bin
}

@test "no key option: verify asks for the password once for all FILEs" {
	need_script
	printf 'sekrit\n' > pw
	pipeline process --encrypt --password-file pw --kdf-time 2 --kdf-memory 19M a.bin b.txt
	run -0 on_tty 'sekrit\n' "pipeline verify a.bin.pfs b.txt.pfs"
	assert_equal "$(shown 'Password: ')" 1
	run -1 on_tty 'wrong\n' "pipeline verify a.bin.pfs b.txt.pfs"
	assert_equal "$(shown 'Password: ')" 1
	assert_equal "$(shown 'wrong key or password')" 2
}

@test "no key option: passwords that do not match stop every FILE; nothing written" {
	need_script
	run -1 on_tty 'sekrit\nsekrut\n' "pipeline process --encrypt a.bin b.txt"
	assert_equal "$(shown 'Password (to encrypt): ')" 1
	assert_equal "$(shown 'pipeline: passwords do not match')" 1
	run -0 ls -A
	refute_output --partial .pfs
}

@test "wrong password: one line naming the file, nothing written" {
	printf 'right\n' > pw
	printf 'wrong\n' > bad
	pipeline process --encrypt --password-file pw --kdf-memory 19M --kdf-time 2 -o e.pfs a.bin
	run -1 --separate-stderr pipeline restore --password-file bad -o out e.pfs
	assert_equal "$stderr" "pencrypt: e.pfs: wrong key or password (or a damaged HEAD)"
	assert_file_not_exists out
	run -1 --separate-stderr bash -c 'cat e.pfs | pipeline verify --password-file bad'
	assert_equal "$stderr" "pencrypt: stdin: wrong key or password (or a damaged HEAD)"
}

@test "an existing output is refused before any stage starts" {
	pipeline process a.bin
	cp a.bin.pfs keep.pfs
	run -1 --separate-stderr pipeline process a.bin
	assert_equal "$stderr" "pipeline: a.bin.pfs: file exists (use -f to overwrite it)"
	cmp a.bin.pfs keep.pfs
	run -1 --separate-stderr pipeline restore a.bin.pfs -o d/x
	assert_equal "$stderr" "pipeline: d/x: file exists (use -f to overwrite it)"
}

@test "a closed downstream pipe is silent and dies of SIGPIPE, as zstd -dc | head" {
	seq 1 2000000 > big.txt
	pipeline process big.txt
	run -0 --separate-stderr bash -c 'pipeline restore -c big.txt.pfs | head -c 10; echo "${PIPESTATUS[0]}" >&2'
	assert_output "$(head -c 10 big.txt)"
	assert_equal "$stderr" "141"
	if command -v zstd >/dev/null; then
		zstd -q big.txt -o big.txt.zst
		run -0 --separate-stderr bash -c 'zstd -dc big.txt.zst | head -c 10 >/dev/null; echo "${PIPESTATUS[0]}" >&2'
		assert_equal "$stderr" "141"
	fi
	run -0 --separate-stderr bash -c 'cat big.txt.pfs | pipeline restore | head -c 10 >/dev/null'
	assert_equal "$stderr" ""
}

@test "progress: by default never when stderr is not a terminal; --progress shows it wherever stderr goes, as zstd's" {
	run -0 pipeline --dry-run process a.bin
	refute_output --partial -- --progress
	run -0 --separate-stderr pipeline process a.bin
	assert_equal "$stderr" ""
	run -0 pipeline --dry-run --progress process a.bin
	assert_output --partial "pchunk --progress a.bin"
	run -0 --separate-stderr pipeline --progress process -f a.bin
	assert_equal "$(printf '%s' "$stderr" | tr '\r' '\n' | tail -n 1 | grep -o '^.*100%')" "pchunk: a.bin  195.3 KiB / 195.3 KiB  100%"
	run -0 --separate-stderr pipeline --progress restore -f a.bin.pfs
	assert_equal "$(printf '%s' "$stderr" | tr '\r' '\n' | tail -n 1 | grep -o '^.*100%')" "pjoin: a.bin  195.3 KiB / 195.3 KiB  100%"
	run -0 --separate-stderr pchunk --progress a.bin
	assert_equal "$(printf '%s' "$stderr" | tr '\r' '\n' | tail -n 1 | grep -o '^.*100%')" "pchunk: a.bin  195.3 KiB / 195.3 KiB  100%"
	# into a log: no terminal escapes
	[[ "$stderr" != *$'\033'* ]]
}

@test "progress: on by default on a terminal, off with -q" {
	command -v script >/dev/null || skip "script(1) is missing"
	seq 1 3000000 > big.txt
	run -0 script -qec "pipeline process big.txt" /dev/null
	assert_output --partial "pchunk: big.txt"
	run -0 script -qec "pipeline -q process -f big.txt" /dev/null
	refute_output --partial "pchunk: big.txt"
	run -0 script -qec "pipeline --no-progress process -f big.txt" /dev/null
	refute_output --partial "pchunk: big.txt"
	run -0 script -qec "pipeline restore -f big.txt.pfs" /dev/null
	assert_output --partial "pjoin: big.txt  "
	# verify names the stream, not pjoin's output, /dev/null
	run -0 script -qec "pipeline verify big.txt.pfs" /dev/null
	assert_output --partial "pjoin: big.txt.pfs  "
	refute_output --partial "/dev/null"
	run -0 script -qec "pipeline verify < big.txt.pfs" /dev/null
	assert_output --partial "pjoin: stdin  "
	refute_output --partial "/dev/null"
}

@test "pipeline(1): every command of EXAMPLES runs verbatim" {
	head -c 300000 /dev/urandom > big.bin
	mkdir photos
	seq 1 1000 > photos/one.txt
	head -c 5000 /dev/urandom > photos/two.jpg
	run_examples pipeline.1
	assert_success
	[ "$(wc -l < examples.sh)" -ge 10 ]
	cmp big.bin copy.bin
	cmp big.bin restored/big.bin 2>/dev/null || true
	cmp photos/one.txt restored/one.txt
	cmp <(head -c 100 big.bin) start.bin
	cmp big.bin mine.bin
	# the merged trace of the verify: phash --check, pcompress -d, pjoin
	run -0 python3 "$BATS_TEST_DIRNAME/trace-check.py" procs trace.json
	assert_output "$(printf '%s\n' '1: phash --check' '2: pcompress -d' '3: pjoin' pipeline)"
}

@test "process: a named FIFO as FILE is read once, by pchunk; its writer is not killed" {
	mkfifo ff
	( cat a.bin > ff; echo "$?" > cat.rc ) &
	run -0 --separate-stderr timeout 10 pipeline process ff
	wait
	assert_equal "$stderr" ""
	assert_equal "$(cat cat.rc)" 0
	run -0 pipeline restore -c ff.pfs
	pipeline restore -c ff.pfs | cmp - a.bin
}

@test "an output that cannot be written is named, not 'stdout'" {
	[ -w /dev/full ] || skip "no /dev/full"
	run -1 --separate-stderr pipeline process -f -o /dev/full a.bin
	assert_equal "$stderr" "phash: /dev/full: write error: No space left on device"
	run -1 --separate-stderr pipeline process -f -o /dev/full --no-compress --no-hash a.bin
	assert_equal "$stderr" "pchunk: /dev/full: write error: No space left on device"
	pipeline process a.bin
	run -1 --separate-stderr pipeline restore -f -o /dev/full a.bin.pfs
	assert_equal "$stderr" "pjoin: /dev/full: write error: No space left on device"
	# standard output stays "stdout"
	run -1 --separate-stderr bash -c 'pipeline process -c a.bin > /dev/full'
	assert_equal "$stderr" "phash: stdout: write error: No space left on device"
}

@test "--stats with several FILEs names each table's FILE" {
	pipeline process a.bin b.txt
	run -0 --separate-stderr pipeline --stats verify a.bin.pfs b.txt.pfs
	assert_equal "$(grep -v '^ ' <<< "$stderr")" "a.bin.pfs:
stage  program            MB in    MB out   cpu s  blk-in s blk-out s     MB/s  rss MB
b.txt.pfs:
stage  program            MB in    MB out   cpu s  blk-in s blk-out s     MB/s  rss MB"
	# one FILE: the table alone
	run -0 --separate-stderr pipeline --stats verify a.bin.pfs
	assert_equal "${stderr_lines[0]}" "stage  program            MB in    MB out   cpu s  blk-in s blk-out s     MB/s  rss MB"
	# json: every object names its FILE ("-": standard input, as pinfo --json)
	run -0 --separate-stderr pipeline --stats=json verify a.bin.pfs b.txt.pfs
	assert_equal "$(sed 's/"bottleneck".*"tool"/"tool"/; s/,"frames".*//' <<< "$stderr")" \
'{"file":"a.bin.pfs","stage":1,"tool":"phash"
{"file":"a.bin.pfs","stage":2,"tool":"pcompress"
{"file":"a.bin.pfs","stage":3,"tool":"pjoin"
{"file":"b.txt.pfs","stage":1,"tool":"phash"
{"file":"b.txt.pfs","stage":2,"tool":"pcompress"
{"file":"b.txt.pfs","stage":3,"tool":"pjoin"'
	run -0 --separate-stderr pipeline --stats=json verify < a.bin.pfs
	assert_regex "${stderr_lines[0]}" '^\{"file":"-","stage":1,'
}

@test "info with several FILEs names each one, as ls does directories; one FILE is pinfo's output alone" {
	pipeline process a.bin b.txt
	run -0 --separate-stderr pipeline info a.bin.pfs b.txt.pfs
	assert_equal "$stderr" ""
	assert_equal "$(grep -v '^[a-z ]*: ' <<< "$output")" "a.bin.pfs:

b.txt.pfs:"
	assert_equal "${lines[0]}" "a.bin.pfs:"
	assert_equal "$(grep '^source:' <<< "$output" | tr -s ' ')" "source: a.bin
source: b.txt"
	# the text after each heading is pinfo's
	assert_equal "$(sed -n '2,/^$/p' <<< "$output" | sed '$d')" "$(pinfo a.bin.pfs)"
	run -0 pipeline info a.bin.pfs
	assert_output "$(pinfo a.bin.pfs)"
	# standard output a pipe with no reader: the heading meets it and
	# pipeline dies of SIGPIPE quietly, as with one FILE, with SIGPIPE
	# ignored too
	run -0 closed_stdout "$PFS_BIN/pipeline" info a.bin.pfs b.txt.pfs
	assert_output "-13 b''
-13 b''"
}

@test "a FILE name holding a newline stays on one line: in messages of every program, the info and --stats headings; info to a full disk says so once" {
	cp a.bin "$(printf 'n\nl')"
	run -0 --separate-stderr pipeline --stats process "$(printf 'n\nl')" b.txt
	assert_equal "$(grep ':$' <<< "$stderr")" 'n\nl:
b.txt:'
	run -0 --separate-stderr pipeline info "$(printf 'n\nl.pfs')" b.txt.pfs
	assert_equal "${lines[0]}" 'n\nl.pfs:'
	run -1 --separate-stderr pipeline restore -N "$(printf 'n\nl.pfs')"
	assert_equal "$stderr" 'pipeline: n\nl.pfs: the stored name holds control characters: use -o OUT'
	run -1 --separate-stderr pinfo "$(printf 'x\ty\001')"
	assert_equal "$stderr" 'pinfo: x\ty\001: No such file or directory'
	run -1 --separate-stderr bash -c 'pipeline info b.txt.pfs b.txt.pfs > /dev/full'
	assert_equal "$stderr" "pipeline: stdout: write error: No space left on device"
}

@test "-r applies to info too, and --help lists it under all subcommands as pipeline(1) does" {
	pipeline process -r d
	run -0 pipeline info -r d
	assert_equal "$(grep '^source:' <<< "$output" | tr -s ' ')" "source: y
source: x"
	assert_equal "$(grep -c '^d/.*\.pfs:$' <<< "$output")" 2
	run -0 pipeline --help
	assert_equal "$(sed -n '/^all:/,/^[a-z]/p' <<< "$output" | grep -c -- '-r, --recursive')" 1
}

@test "restore, verify: a named FIFO as FILE is read once, its HEAD fed again to the first stage" {
	pipeline process -o a.pfs a.bin
	mkfifo ff.pfs
	( cat a.pfs > ff.pfs; echo "$?" > cat.rc ) &
	run -0 --separate-stderr timeout 10 pipeline restore ff.pfs
	wait
	assert_equal "$stderr" ""
	assert_equal "$(cat cat.rc)" 0
	cmp ff a.bin
	( cat a.pfs > ff.pfs ) &
	run -0 --separate-stderr timeout 10 pipeline verify ff.pfs a.pfs
	wait
	assert_equal "$stderr" ""
	# damaged: the first stage names the FIFO, not "stdin"
	( head -c 100000 a.pfs > ff.pfs ) &
	run -1 --separate-stderr timeout 10 pipeline verify ff.pfs
	wait
	assert_equal "$stderr" "phash: ff.pfs: truncated stream (frame 1: payload cut short)"
}
