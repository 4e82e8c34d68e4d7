#!/usr/bin/env bats
# pipeline: the driver that forks the real programs joined by pipes.

load helper

# data SIZE > file: generated text-like data (random bytes until
# testdata/gen is built)
data() {
	if [ -x "$GEN" ]; then
		gen text-like "$1"
	else
		head -c "$1" /dev/urandom
	fi
}

need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || skip "$t not built"
	done
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	umask 022    # restored modes are masked with it
	data 300000 > in.bin
	chmod 640 in.bin
	touch -d '2021-02-03 04:05:06.123456789' in.bin
}

# same_file A B: same bytes, mode and mtime (nanoseconds included)
same_file() {
	cmp "$1" "$2"
	assert_equal "$(stat -c '%a %y' "$2")" "$(stat -c '%a %y' "$1")"
}

# fake_dir: a copy of pipeline with pchunk, phash and pjoin next to it and
# nothing on PATH, so that a test can put a broken stage there
fake_dir() {
	mkdir fake
	cp "$PFS_BIN/pipeline" fake/
	ln -s "$PFS_BIN/pchunk" "$PFS_BIN/phash" "$PFS_BIN/pjoin" fake/
}

@test "process --hash, restore: same bytes, mode and mtime" {
	run -0 pipeline process --no-compress --hash sha256 in.bin
	assert_output ""
	assert_file_exists in.bin.pfs
	assert_equal "$(pinfo --json in.bin.pfs | grep -o '"kind":"[a-z]*"' | tr '\n' ' ')" '"kind":"hash" '
	mkdir out
	mv in.bin.pfs out/
	run -0 pipeline restore out/in.bin.pfs
	same_file in.bin out/in.bin
}

@test "process --zstd --hash, restore -o" {
	need pcompress
	pipeline process --zstd -l 5 --hash xxh3 -o z.pfs in.bin
	pinfo z.pfs | grep -qx 'stages: *1. compress zstd -5, 2. hash xxh3'
	pipeline restore -o back.bin z.pfs
	same_file in.bin back.bin
}

@test "process --lz4 --encrypt --hash, restore with the key file" {
	need pcompress pencrypt
	pencrypt --keygen > k
	pipeline process --lz4 --encrypt --key-file k --hash sha256 -o e.pfs in.bin
	run -0 pipeline --dry-run restore --key-file k -o back.bin e.pfs
	assert_output "phash --check e.pfs | pencrypt -d --key-file k | pcompress -d | pjoin -o back.bin"
	pipeline restore --key-file k -o back.bin e.pfs
	same_file in.bin back.bin
	run -0 pipeline verify --key-file k e.pfs
}

@test "restore: the output is FILE without .pfs, next to FILE, never the stored name" {
	# a stream whose HEAD names .bashrc
	cp in.bin .bashrc
	pchunk .bashrc > x.pfs
	rm .bashrc
	mkdir d w
	mv x.pfs d/
	cd w
	run -0 pipeline restore ../d/x.pfs
	cmp ../in.bin ../d/x
	assert_file_not_exists .bashrc
	assert_file_not_exists ../.bashrc
	assert_file_not_exists ../d/.bashrc
	# in the current directory too
	cd ../d
	rm x
	run -0 pipeline --dry-run restore x.pfs
	assert_output "pjoin -o x x.pfs"
	run -0 pipeline restore x.pfs
	cmp ../in.bin x
	assert_file_not_exists .bashrc
}

@test "restore: FILE without the .pfs suffix is refused, naming -o and -N" {
	pipeline process -o s.pfs in.bin
	cp s.pfs s.stream
	cp s.pfs .pfs
	run -1 --separate-stderr pipeline restore s.stream
	assert_equal "$stderr" "pipeline: s.stream: unknown suffix (expected NAME.pfs): use -o OUT, or -N for the name stored in the stream"
	run -1 --separate-stderr pipeline restore .pfs
	assert_equal "$stderr" "pipeline: .pfs: unknown suffix (expected NAME.pfs): use -o OUT, or -N for the name stored in the stream"
	run -0 pipeline restore -o back.bin s.stream
	same_file in.bin back.bin
	mkdir d
	mv s.stream d/
	run -0 pipeline restore -N d/s.stream
	same_file in.bin d/in.bin
}

@test "restore -N: the stored name, next to FILE" {
	mkdir d
	pipeline process --no-compress --no-hash -o d/s.pfs in.bin
	run -0 pipeline --dry-run restore -N d/s.pfs
	assert_output "pjoin -o d/in.bin d/s.pfs"
	run -0 pipeline restore --name d/s.pfs
	same_file in.bin d/in.bin
	# -o still decides
	run -0 pipeline restore -N -o back.bin d/s.pfs
	same_file in.bin back.bin
}

@test "restore -N: a stream that stores no name falls back to FILE without .pfs" {
	cat in.bin | pipeline process -o t.pfs -
	run -0 pipeline restore -N t.pfs
	cmp in.bin t
	cp t.pfs t.stream
	run -1 --separate-stderr pipeline restore -N t.stream
	assert_equal "$stderr" "pipeline: t.stream: unknown suffix (expected NAME.pfs) and the stream stores no name: use -o OUT"
}

@test "restore -N refuses a stored name starting with '.' or holding control characters" {
	cp in.bin .bashrc
	pchunk .bashrc > x.pfs
	run -1 --separate-stderr pipeline restore -N x.pfs
	assert_equal "$stderr" "pipeline: x.pfs: the stored name '.bashrc' starts with '.' (-N makes no hidden files): use -o OUT"
	cp in.bin $'a\nb'
	pchunk $'a\nb' > nl.pfs
	run -1 --separate-stderr pipeline restore -N nl.pfs
	assert_equal "$stderr" "pipeline: nl.pfs: the stored name holds control characters: use -o OUT"
	rm .bashrc $'a\nb'
	assert_equal "$(ls -A | grep -v '^separate-stderr-')" "$(printf '%s\n' in.bin nl.pfs x.pfs)"
}

@test "restore -N: a stored name with '/' or '..' is refused as an invalid HEAD" {
	# forge the name bytes (HEAD payload offset 34 = stream offset 74)
	echo hi > a_b
	pchunk a_b > slash.pfs
	printf '/' | dd of=slash.pfs bs=1 seek=75 conv=notrunc status=none
	echo hi > ab
	pchunk ab > dots.pfs
	printf '..' | dd of=dots.pfs bs=1 seek=74 conv=notrunc status=none
	rm a_b ab
	run -1 --separate-stderr pipeline restore -N slash.pfs
	assert_equal "$stderr" "pipeline: slash.pfs: HEAD: invalid source name"
	run -1 --separate-stderr pipeline restore -N dots.pfs
	assert_equal "$stderr" "pipeline: dots.pfs: HEAD: invalid source name"
	assert_equal "$(ls -A | grep -v '^separate-stderr-')" "$(printf '%s\n' dots.pfs in.bin slash.pfs)"
}

@test "restore: an output name starting with '-' is given './'" {
	pipeline process --no-compress --no-hash -o ./-.pfs in.bin
	run -0 pipeline --dry-run restore -- -.pfs
	assert_output "pjoin -o ./- -- -.pfs"
	run -0 --separate-stderr pipeline restore -- -.pfs
	assert_output ""
	cmp in.bin ./-
}

@test "restore: setuid, setgid and sticky only with -p; the umask applies" {
	chmod 6777 in.bin
	pipeline process --no-compress --no-hash -o m.pfs in.bin
	run -0 pipeline restore -o a.bin m.pfs
	assert_equal "$(stat -c %a a.bin)" 755
	run -0 bash -c 'umask 077 && pipeline restore -o b.bin m.pfs'
	assert_equal "$(stat -c %a b.bin)" 700
	run -0 pipeline --dry-run restore -p m.pfs
	assert_output "pjoin -o m -p m.pfs"
	run -0 pipeline restore --keep-mode m.pfs
	same_file in.bin m
	assert_equal "$(stat -c %a m)" 6777
}

@test "restore: -p with standard output is an error" {
	pipeline process -o m.pfs in.bin
	run -1 --separate-stderr pipeline restore -p -o - m.pfs
	assert_output ""
	assert_equal "$stderr" "pipeline: -p sets the mode of the output file: standard output has none"
}

@test "an existing output needs -f; the input is never overwritten" {
	pipeline process in.bin
	run -1 --separate-stderr pipeline process in.bin
	assert_equal "$stderr" "pipeline: in.bin.pfs: file exists (use -f to overwrite it)"
	run -0 pipeline process -f in.bin
	run -1 --separate-stderr pipeline process -f -o in.bin in.bin
	assert_equal "$stderr" "pipeline: in.bin: refusing to overwrite the input file"
	run -1 --separate-stderr pipeline restore -f -o in.bin.pfs in.bin.pfs
	assert_equal "$stderr" "pipeline: in.bin.pfs: refusing to overwrite the input file"
	# restore: refused before any stage starts
	run -1 --separate-stderr pipeline restore -o in.bin in.bin.pfs
	assert_equal "$stderr" "pipeline: in.bin: file exists (use -f to overwrite it)"
	run -0 pipeline restore -f -o in.bin in.bin.pfs
}

@test "verify passes on a good stream and names the stage on a damaged one" {
	pipeline process --no-compress --hash sha256 -o h.pfs in.bin
	run -0 --separate-stderr pipeline verify h.pfs
	assert_output ""
	assert_equal "$stderr" ""
	read -r off _ _ _ < <(frame h.pfs 2:0)
	flip_byte h.pfs $((off + 32 + 100))
	# one cause, one line: not pjoin's "truncated stream" after it
	run -1 --separate-stderr pipeline verify h.pfs
	assert_equal "$stderr" "phash: h.pfs: chunk 0 (bytes 0-299999): sha256 digest mismatch (the chunk or its DIGEST frame is damaged)"
	# restore fails the same way and leaves nothing behind
	run -1 pipeline restore -o back.bin h.pfs
	assert_file_not_exists back.bin
	[ -z "$(ls -A | grep '^\.back')" ]
}

@test "wrong key: the pencrypt stage is named" {
	need pencrypt
	pencrypt --keygen > k
	pencrypt --keygen > other
	pipeline process --encrypt --key-file k --hash sha256 -o e.pfs in.bin
	chmod 600 k other
	run -1 --separate-stderr pipeline restore --key-file other -o back.bin e.pfs
	# one line, naming the file rather than pencrypt's "stdin"
	assert_equal "$stderr" "pencrypt: e.pfs: wrong key or password (or a damaged HEAD)"
	assert_file_not_exists back.bin
}

@test "an encrypted stream without a key option and no terminal to ask on" {
	need pencrypt
	pencrypt --keygen > k
	printf 'pw\n' > pw
	pipeline process --encrypt --password-file pw --kdf-time 2 --kdf-memory 19M --cipher chacha20-poly1305 -o e.pfs in.bin
	run -1 --separate-stderr setsid -w pipeline verify e.pfs
	assert_equal "$stderr" "pipeline: e.pfs: the stream is encrypted (chacha20-poly1305/argon2id) and there is no terminal to ask for the password: give --key-file F, --password-file F or --password-fd N"
	# a stream no password opens: said before anything is asked
	pipeline process --encrypt --key-file k --cipher chacha20-poly1305 -o k.pfs in.bin
	run -1 --separate-stderr pipeline verify k.pfs
	assert_equal "$stderr" "pipeline: k.pfs: the stream is encrypted (chacha20-poly1305) for recipients or a key file, not a password: give --identity F or --key-file F"
}

@test "a key option for a stream that is not encrypted is warned about" {
	need pencrypt
	pipeline process --no-compress -o s.pfs in.bin
	pencrypt --keygen > k
	run -0 --separate-stderr pipeline verify --key-file k s.pfs
	assert_equal "$stderr" "pipeline: s.pfs: the stream is not encrypted: --key-file ignored"
	run -0 --separate-stderr pipeline -q verify --key-file k s.pfs
	assert_equal "$stderr" ""
}

@test "a stage that cannot be found: named, nothing started or written" {
	fake_dir
	run -1 --separate-stderr env PATH=/nonexistent fake/pipeline process --zstd -o z.pfs in.bin
	assert_equal "$stderr" "pipeline: stage 2 (pcompress --zstd): pcompress: not found next to pipeline or in PATH"
	assert_file_not_exists z.pfs
	[ -z "$(ls -A | grep '^\.z')" ]
}

@test "a stage that fails: its message only, not the consequences" {
	fake_dir
	printf '#!/bin/sh\necho "pcompress: simulated failure" >&2\nexit 3\n' > fake/pcompress
	chmod +x fake/pcompress
	# stdout is empty: output holds the messages; only the cause's
	run -1 env PATH=/nonexistent fake/pipeline process --zstd --hash sha256 -o z.pfs in.bin
	assert_output "pcompress: simulated failure"
	assert_file_not_exists z.pfs
	[ -z "$(ls -A | grep '^\.z')" ]
}

@test "a stage killed by a signal" {
	fake_dir
	printf '#!/bin/sh\nkill -9 $$\n' > fake/pcompress
	chmod +x fake/pcompress
	run -1 env PATH=/nonexistent fake/pipeline process --zstd -o z.pfs in.bin
	assert_line "pipeline: stage 2 (pcompress --zstd) killed by signal 9 (Killed)"
	assert_file_not_exists z.pfs
}

@test "a stage that cannot be executed" {
	fake_dir
	printf 'not a program\n' > fake/pcompress
	chmod +x fake/pcompress
	run -1 env PATH=/nonexistent fake/pipeline process --zstd -o z.pfs in.bin
	assert_line "pipeline: $BATS_TEST_TMPDIR/fake/pcompress: cannot run: Exec format error"
	assert_line "pipeline: stage 2 (pcompress --zstd) failed with exit status 127"
}

@test "--dry-run prints the shell pipeline and runs nothing" {
	run -0 pipeline --dry-run process --zstd -l 5 --hash xxh3 -o out.pfs in.bin
	assert_output "pchunk in.bin | pcompress --zstd -l 5 | phash -a xxh3 > out.pfs"
	run -0 pipeline process --dry-run --lz4 --encrypt --password-file 'my pw' --cipher chacha20-poly1305 -T 2 -q --progress --no-hash "it's.bin"
	assert_output "pchunk --progress -q 'it'\\''s.bin' | pcompress --lz4 -T 2 -q | pencrypt --password-file 'my pw' --cipher chacha20-poly1305 -T 2 -q > 'it'\\''s.bin.pfs'"
	run -0 pipeline --dry-run process --no-compress --no-hash -o - -- -in.bin
	assert_output "pchunk -- -in.bin"
	run -0 pipeline --dry-run --perf p process --no-compress --hash sha256 in.bin
	assert_output "perf record -g -o p/01-pchunk.data -- pchunk in.bin | perf record -g -o p/02-phash.data -- phash -a sha256 > in.bin.pfs"
	assert_file_not_exists out.pfs
	assert_file_not_exists in.bin.pfs
	assert_dir_not_exists p
	# restore and verify read the stage stack from the HEAD
	pipeline process --no-compress --hash sha256 --hash xxh64 -o h.pfs in.bin
	run -0 pipeline --dry-run restore -T 1 h.pfs
	assert_output "phash --check -T 1 h.pfs | pjoin -o h -T 1"
	run -0 pipeline --dry-run verify h.pfs
	assert_output "phash --check h.pfs | pjoin -o /dev/null"
	pipeline process --no-compress --no-hash -o s.pfs in.bin
	run -0 pipeline --dry-run restore -f -o - s.pfs
	assert_output "pjoin s.pfs"
	run -0 pipeline --dry-run info s.pfs
	assert_output "pinfo s.pfs"
}

@test "--stats: one row per stage and one bottleneck" {
	pipeline process --no-compress --hash sha256 -o h.pfs in.bin
	run -0 --separate-stderr pipeline --stats verify h.pfs
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 3
	assert_regex "${stderr_lines[0]}" '^stage +program +MB in +MB out +cpu s +blk-in s +blk-out s +MB/s +rss MB$'
	assert_regex "${stderr_lines[1]}" '^ +1  phash --check +0\.3 +0\.3 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+( +<- bottleneck)?$'
	assert_regex "${stderr_lines[2]}" '^ +2  pjoin +0\.3 +0\.3 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+( +<- bottleneck)?$'
	assert_equal "$(grep -c -- '<- bottleneck$' <<< "$stderr")" 1
	# json: one object per stage, exactly one bottleneck
	run -0 --separate-stderr pipeline --stats=json process --no-compress --hash xxh3 -f -o h.pfs in.bin
	assert_equal "${#stderr_lines[@]}" 2
	assert_regex "${stderr_lines[0]}" '^\{"file":"in\.bin","stage":1,"bottleneck":(true|false),"tool":"pchunk","frames":3,"bytes_in":300000,'
	assert_regex "${stderr_lines[1]}" '^\{"file":"in\.bin","stage":2,"bottleneck":(true|false),"tool":"phash",'
	assert_equal "$(grep -c '"bottleneck":true' <<< "$stderr")" 1
	# and the table does not hide the stages' messages
	read -r off _ _ _ < <(frame h.pfs 2:0)
	flip_byte h.pfs $((off + 40))
	run -1 pipeline --stats verify h.pfs
	assert_line -n 0 --partial "phash: h.pfs: chunk 0 (bytes 0-299999): xxh3 digest mismatch"
	assert_line --regexp '^ +1  phash --check '
	refute_line --partial "pipeline: stage"
}

@test "--stats with the stats of every stage in the environment" {
	pipeline process --no-compress --hash sha256 -o h.pfs in.bin
	PFS_STATS=1 run -0 --separate-stderr pipeline verify h.pfs
	assert_equal "${#stderr_lines[@]}" 3
	assert_equal "$(grep -c -- '<- bottleneck$' <<< "$stderr")" 1
}

@test "--perf records every stage into its own file" {
	perf record -o "$BATS_TEST_TMPDIR/probe.data" true >/dev/null 2>&1 ||
		skip "perf record does not work here"
	run -0 pipeline --perf p process --no-compress --hash sha256 -o h.pfs in.bin
	assert_file_exists p/01-pchunk.data
	assert_file_exists p/02-phash.data
	pipeline restore -o back.bin h.pfs
	same_file in.bin back.bin
	run -1 --separate-stderr pipeline --perf nodir/p process -o n.pfs in.bin
	assert_equal "$stderr" "pipeline: --perf: nodir/p: No such file or directory"
	assert_file_not_exists n.pfs
}

@test "info runs pinfo" {
	pipeline process --hash sha256 -o h.pfs in.bin
	run -0 pipeline info h.pfs
	assert_output "$(pinfo h.pfs)"
	run -1 --separate-stderr pipeline info in.bin
	assert_equal "$stderr" "pinfo: in.bin: not a frame stream (missing signature; 'pchunk FILE' makes one)"
}

@test "a missing input: one message, nothing started" {
	run -1 --separate-stderr pipeline process nothere
	assert_equal "$stderr" "pipeline: nothere: No such file or directory"
	assert_file_not_exists nothere.pfs
	run -1 --separate-stderr pipeline restore nothere.pfs
	assert_equal "$stderr" "pipeline: nothere.pfs: No such file or directory"
	run -1 --separate-stderr pipeline verify in.bin
	assert_equal "$stderr" "pipeline: in.bin: not a frame stream (missing signature; 'pchunk FILE' makes one)"
}

# usage_fails MESSAGE ARG...: 'pipeline ARG...' (stdin: in.bin) exits 2 with
# "pipeline: MESSAGE" and the --help hint, and writes neither in.bin.pfs nor
# o.pfs
usage_fails() {
	local msg=$1
	shift
	run -2 --separate-stderr pipeline "$@" < in.bin
	assert_equal "$stderr" "pipeline: $msg
Try 'pipeline --help' for more information."
	assert_file_not_exists in.bin.pfs
	assert_file_not_exists o.pfs
}

# bad usage: exit 2, a message and the --help hint, one test per mistake
@test "usage: pipeline (no arguments)" { usage_fails "missing subcommand (process, restore, verify or info)"; }
@test "usage: pipeline frobnicate x" { usage_fails "unknown subcommand 'frobnicate' (process, restore, verify or info)" frobnicate x; }
@test "usage: pipeline process -o x a b" { usage_fails "-o takes one FILE: use --output-dir-flat DIR or -c for several" process -o x a b; }
@test "usage: pipeline process -o x -o y in.bin" { usage_fails "-o x, then -o y: one output FILE" process -o x -o y in.bin; }
@test "usage: pipeline process -o x -c -o y in.bin" { usage_fails "-o x, then -o y: one output FILE" process -o x -c -o y in.bin; }
@test "usage: pipeline process --zstd --lz4 in.bin" { usage_fails "--zstd, --lz4 and --brotli exclude each other" process --zstd --lz4 in.bin; }
@test "usage: pipeline process --no-compress -l 3 in.bin" { usage_fails "level: --no-compress excludes a compression option" process --no-compress -l 3 in.bin; }
@test "usage: pipeline process -l x --zstd in.bin" { usage_fails "-l: invalid number 'x'" process -l x --zstd in.bin; }
@test "usage: pipeline process --key-file k in.bin" { usage_fails "--key-file needs --encrypt" process --key-file k in.bin; }
@test "usage: pipeline process --encrypt --key-file k --password-file p in.bin" { usage_fails "give one of --key-file, --raw-key-file, --password-file and --password-fd" process --encrypt --key-file k --password-file p in.bin; }
@test "usage: pipeline process --cipher aes-256-gcm in.bin" { usage_fails "--cipher needs --encrypt" process --cipher aes-256-gcm in.bin; }
@test "usage: pipeline process --encrypt --key-file k --cipher rot13 in.bin" { usage_fails "unknown cipher 'rot13' (aes-256-gcm or chacha20-poly1305)" process --encrypt --key-file k --cipher rot13 in.bin; }
@test "usage: pipeline process --hash md5 in.bin" { usage_fails "unknown hash algorithm 'md5' (see 'phash -a list')" process --hash md5 in.bin; }
@test "usage: pipeline verify -o x in.bin.pfs" { usage_fails "-o does not apply to 'verify'" verify -o x in.bin.pfs; }
@test "usage: pipeline restore --zstd in.bin.pfs" { usage_fails "--zstd/--lz4/--brotli does not apply to 'restore'" restore --zstd in.bin.pfs; }
@test "usage: pipeline info --progress in.bin.pfs" { usage_fails "--progress does not apply to 'info'" info --progress in.bin.pfs; }
@test "usage: pipeline process -p in.bin" { usage_fails "-p does not apply to 'process'" process -p in.bin; }
@test "usage: pipeline verify --keep-mode in.bin.pfs" { usage_fails "-p does not apply to 'verify'" verify --keep-mode in.bin.pfs; }
@test "usage: pipeline verify -N in.bin.pfs" { usage_fails "-N does not apply to 'verify'" verify -N in.bin.pfs; }
@test "usage: pipeline info --name in.bin.pfs" { usage_fails "-N does not apply to 'info'" info --name in.bin.pfs; }
@test "usage: pipeline restore -19 in.bin.pfs (the level as typed)" { usage_fails "-19 does not apply to 'restore'" restore -19 in.bin.pfs; }
@test "usage: pipeline verify --fast=3 in.bin.pfs" { usage_fails "--fast does not apply to 'verify'" verify --fast=3 in.bin.pfs; }
@test "usage: pipeline -T x verify in.bin.pfs" { usage_fails "-T: invalid number 'x'" -T x verify in.bin.pfs; }
@test "usage: pipeline --bogus verify in.bin.pfs" { usage_fails "unrecognized option '--bogus'" --bogus verify in.bin.pfs; }
@test "usage: pipeline process - - (standard input twice)" { usage_fails "'-' (standard input) is given twice: it can be read once" process - -; }
@test "usage: pipeline process --encrypt --password-fd 0 (the stream's input)" { usage_fails "--password-fd 0 is standard input, which is read as FILE '-': use another descriptor" process --encrypt --password-fd 0; }
@test "usage: pipeline process --encrypt in.bin (no key, no terminal)" {
	run -2 --separate-stderr setsid -w pipeline process --encrypt in.bin
	assert_equal "$stderr" "pipeline: --encrypt: no key given and no terminal to ask for a password: use --recipient R, --key-file F, --password-file F or --password-fd N
Try 'pipeline --help' for more information."
	assert_file_not_exists in.bin.pfs
}

@test "--help documents every subcommand and option; --version" {
	run -0 pipeline --help
	for w in process restore verify info --zstd --lz4 --brotli --level \
	         --encrypt --key-file --password-file --cipher --hash --threads \
	         --output --force --name --keep-mode --dry-run --perf --progress \
	         --stats --quiet \
	         --help --version bottleneck; do
		assert_output --partial -- "$w"
	done
	run -0 pipeline --version
	assert_output "pipeline (pfs) 0.1.0"
}

# levels and thread counts out of range are usage errors before anything runs
# pencrypt's KDF limits are pipeline's usage errors, not a failed stage
@test "usage: pipeline process --encrypt --kdf-time 1" { usage_fails "--kdf-time: at least 2 passes (the OWASP minimum for Argon2id)" process --encrypt --password-file in.bin --kdf-time 1 -o o.pfs in.bin; }
@test "usage: pipeline process --encrypt --kdf-time x" { usage_fails "--kdf-time: invalid number 'x'" process --encrypt --password-file in.bin --kdf-time x -o o.pfs in.bin; }
@test "usage: pipeline process --encrypt --kdf-time 17" { usage_fails "--kdf-time: '17' is out of range (2 to 16)" process --encrypt --password-file in.bin --kdf-time 17 -o o.pfs in.bin; }
@test "usage: pipeline process --encrypt --kdf-memory 18M" { usage_fails "--kdf-memory: at least 19 MiB (the OWASP minimum for Argon2id)" process --encrypt --password-file in.bin --kdf-memory 18M -o o.pfs in.bin; }
@test "usage: pipeline process --encrypt --kdf-memory 2G" { usage_fails "--kdf-memory: size '2G' is out of range (19 MiB to 1 GiB)" process --encrypt --password-file in.bin --kdf-memory 2G -o o.pfs in.bin; }
@test "usage: pipeline process --encrypt --kdf-memory 20000001" { usage_fails "--kdf-memory: a whole number of KiB, please" process --encrypt --password-file in.bin --kdf-memory 20000001 -o o.pfs in.bin; }
@test "usage: pipeline process --zstd -l 50 -o o.pfs in.bin" { usage_fails "-l: level 50 is out of range for zstd (1-19, 20-22 with --ultra, -100 to -1 fast)" process --zstd -l 50 -o o.pfs in.bin; }
@test "usage: pipeline process --lz4 -l 0 -o o.pfs in.bin" { usage_fails "-l: level 0 is out of range for lz4 (1-12)" process --lz4 -l 0 -o o.pfs in.bin; }
@test "usage: pipeline process --brotli -l 12 -o o.pfs in.bin" { usage_fails "-l: level 12 is out of range for brotli (0-11)" process --brotli -l 12 -o o.pfs in.bin; }
@test "usage: pipeline -T 17 process --zstd -o o.pfs in.bin" { usage_fails "-T: '17' is out of range (0 to 16)" -T 17 process --zstd -o o.pfs in.bin; }

@test "key options are checked once, before any FILE, in pipeline's option names" {
	need pencrypt
	cp in.bin b.bin
	run -2 --separate-stderr pipeline process --encrypt --recipient pfs-recipient-1-garbage in.bin b.bin
	assert_equal "$stderr" "pipeline: --recipient pfs-recipient-1-garbage: not a pfs recipient (one is pfs-recipient-1- and 48 base64url characters, printed by 'pencrypt --recipient-of IDENTITY')
Try 'pipeline --help' for more information."
	run -1 --separate-stderr pipeline process --encrypt --key-file nonexist in.bin b.bin
	assert_equal "$stderr" "pipeline: --key-file nonexist: No such file or directory"
	echo junk > bad
	run -1 --separate-stderr pipeline process --encrypt --recipients-file bad in.bin b.bin
	assert_equal "$stderr" "pipeline: --recipients-file bad:1: not a pfs recipient (one is pfs-recipient-1- and 48 base64url characters, printed by 'pencrypt --recipient-of IDENTITY')"
	run -1 --separate-stderr pipeline process --encrypt --recipients-file nonexist in.bin b.bin
	assert_equal "$stderr" "pipeline: --recipients-file nonexist: No such file or directory"
	assert_file_not_exists in.bin.pfs
	assert_file_not_exists b.bin.pfs
	pipeline process in.bin
	run -1 --separate-stderr pipeline restore --identity bad -o x in.bin.pfs
	assert_equal "$stderr" "pipeline: --identity bad:1: not a pfs identity (one is PFS-IDENTITY-1- and 48 base64url characters, made by 'pencrypt --keygen-identity')"
	run -1 --separate-stderr pipeline verify --password-file nonexist in.bin.pfs
	assert_equal "$stderr" "pipeline: --password-file nonexist: No such file or directory"
	assert_file_not_exists x
	# a key from a process substitution is left to the stage to read
	pencrypt --keygen > k
	pipeline process --encrypt --key-file <(cat k) -o e.pfs b.bin
	pipeline restore --key-file <(cat k) -o back e.pfs
	cmp back b.bin
}

@test "-i is --identity, as the stages' hint 'use -i IDENTITY' says" {
	need pencrypt
	pencrypt -q --keygen-identity -o me.id
	pencrypt --recipient-of me.id > me.r
	pencrypt --keygen -o k
	pipeline process --encrypt --recipients-file me.r -o r.pfs in.bin
	run -1 --separate-stderr pipeline restore --key-file k -o x r.pfs
	assert_equal "$stderr" "pencrypt: r.pfs: the stream was encrypted with public keys (X25519), not a key file: use -i IDENTITY"
	run -0 --separate-stderr pipeline restore -i me.id -o x r.pfs
	assert_equal "$stderr" ""
	cmp x in.bin
	run -0 pipeline verify -i me.id r.pfs
	run -2 --separate-stderr pipeline process -i me.id in.bin
	assert_equal "$stderr" "pipeline: --identity does not apply to 'process'
Try 'pipeline --help' for more information."
	pipeline --help | grep -q -- '-i, --identity F'
}

@test "an existing device is written in place without -f (-o /dev/null); a directory is one at once" {
	pipeline process in.bin
	run -0 --separate-stderr pipeline restore -o /dev/null in.bin.pfs
	assert_equal "$stderr" ""
	run -0 --separate-stderr pipeline process -o /dev/null in.bin
	assert_equal "$stderr" ""
	mkdir od
	run -1 --separate-stderr pipeline restore -o od in.bin.pfs
	assert_equal "$stderr" "pipeline: od: is a directory"
	run -1 --separate-stderr pipeline restore -f -o od in.bin.pfs
	assert_equal "$stderr" "pipeline: od: is a directory"
	# pjoin -o says the same
	run -1 --separate-stderr pjoin -o od < <(pipeline restore -c in.bin.pfs | pchunk)
	assert_equal "$stderr" "pjoin: od: is a directory"
	# a regular file still needs -f
	touch ex
	run -1 --separate-stderr pipeline restore -o ex in.bin.pfs
	assert_equal "$stderr" "pipeline: ex: file exists (use -f to overwrite it)"
}

@test "restore --resume: a partial output of another, longer stream is named as such, not as a --range" {
	data 1000000 > big.bin
	pchunk -s 64K big.bin | phash > big.pfs
	# an interrupted restore of big.pfs: its first chunks in r.pfs-part
	run -1 bash -o pipefail -c 'head -c 600000 big.pfs | phash --check | pjoin --resume -o r'
	assert_file_exists r.pfs-part
	pipeline process -o in.pfs in.bin
	run -1 --separate-stderr pipeline restore --resume -o r in.pfs
	assert_equal "$stderr" "pipeline: in.pfs: r.pfs-part.sums: the partial output is of another stream: remove it (and r.pfs-part) to start over"
	assert_file_exists r.pfs-part
	assert_file_not_exists r
	# its own stream continues it
	run -0 pipeline restore --resume -o r big.pfs
	cmp r big.bin
}

@test "process --resume with other options than the interrupted run's: the file, what it was made with, the remedy" {
	need pcompress
	head -c 17M /dev/urandom > src.bin
	pipeline process -o ref.pfs src.bin
	head -c 9000000 ref.pfs > out.pfs.pfs-part
	cp out.pfs.pfs-part keep
	run -1 --separate-stderr pipeline process --resume --lz4 -o out.pfs src.bin
	assert_equal "$stderr" "pipeline: src.bin: the options or the source differ from the interrupted run's (out.pfs.pfs-part was made with zstd -3, xxh3): give its options, or remove out.pfs.pfs-part to start over"
	cmp keep out.pfs.pfs-part
	assert_file_not_exists out.pfs
	assert_file_not_exists out.pfs.pfs-part.tail
	run -1 --separate-stderr pipeline process --resume --encrypt --password-file /dev/null -o out.pfs src.bin
	assert_equal "$stderr" "pipeline: src.bin: the options or the source differ from the interrupted run's (out.pfs.pfs-part was made with zstd -3, xxh3): give its options, or remove out.pfs.pfs-part to start over"
	run -0 pipeline process --resume -o out.pfs src.bin
	cmp ref.pfs out.pfs
}

@test "verify: a stream that carries nothing to verify is an error, as sha256sum -c with no checksum line" {
	pipeline process --no-hash --no-compress -o n.pfs in.bin
	run -1 --separate-stderr pipeline verify n.pfs
	assert_equal "$stderr" "pipeline: n.pfs: carries no digests, checksums or authentication (no hash, compress or encrypt stage): nothing to verify"
	run -1 --separate-stderr pipeline verify < n.pfs
	assert_equal "$stderr" "pipeline: stdin: carries no digests, checksums or authentication (no hash, compress or encrypt stage): nothing to verify"
	# restore still restores it
	run -0 pipeline restore -o back n.pfs
	cmp back in.bin
	pipeline process --no-compress -o h.pfs in.bin
	run -0 pipeline verify h.pfs
}
