#!/usr/bin/env bats
# pjoin: output files, refusals, --payload, signals and full disks.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	gen text-like 200K > in.bin
	pchunk -s 16K in.bin > s.pfs
}

teardown() {
	# the full-disk tests' tmpfs, also when one failed
	! mountpoint -q "$BATS_TEST_TMPDIR/small" 2>/dev/null ||
		umount "$BATS_TEST_TMPDIR/small"
}

@test "-o writes the file; an existing file needs -f" {
	pjoin -o out.bin s.pfs
	cmp in.bin out.bin
	run -1 --separate-stderr pjoin -o out.bin s.pfs
	assert_equal "$stderr" "pjoin: out.bin: file exists (use -f to overwrite it)"
	echo old > out.bin
	run -0 pjoin -f -o out.bin s.pfs
	cmp in.bin out.bin
}

# suid_stream: m.pfs, the stream of a file recorded with mode 6777
# (setuid, setgid, sticky, rwx for all)
suid_stream() {
	head -c 5000 in.bin > m.bin
	chmod 6777 m.bin
	pchunk m.bin > m.pfs
	[ "$(pinfo --json m.pfs | grep -o '"mode":"[0-7]*"')" = '"mode":"06777"' ]
}

@test "-o: a recorded 6777 becomes 0755 under umask 022: no setuid, setgid or sticky" {
	suid_stream
	umask 022
	pjoin -o out.bin m.pfs
	cmp m.bin out.bin
	assert_equal "$(stat -c %a out.bin)" 755
}

@test "-o: a recorded 6777 becomes 0700 under umask 077" {
	suid_stream
	umask 077
	pjoin -o out.bin m.pfs
	assert_equal "$(stat -c %a out.bin)" 700
}

@test "-p and --keep-mode restore a recorded 6777 exactly, whatever the umask" {
	suid_stream
	umask 077
	pjoin -p -o out.bin m.pfs
	assert_equal "$(stat -c %a out.bin)" 6777
	pjoin --keep-mode -o out2.bin m.pfs
	assert_equal "$(stat -c %a out2.bin)" 6777
}

@test "-f: the replaced file gets the same mode as a new one" {
	suid_stream
	umask 022
	echo old > out.bin
	chmod 6777 out.bin
	pjoin -f -o out.bin m.pfs
	cmp m.bin out.bin
	assert_equal "$(stat -c %a out.bin)" 755
	echo old > out.bin
	chmod 600 out.bin
	pjoin -f -p -o out.bin m.pfs
	assert_equal "$(stat -c %a out.bin)" 6777
}

@test "-o: a stream with no recorded mode gives 0666 & ~umask" {
	cat in.bin | pchunk > nomode.pfs
	umask 022
	pjoin -o out.bin nomode.pfs
	assert_equal "$(stat -c %a out.bin)" 644
	umask 027
	pjoin -p -o out2.bin nomode.pfs
	assert_equal "$(stat -c %a out2.bin)" 640
}

@test "-p without -o is a usage error: standard output has no mode" {
	suid_stream
	run -2 --separate-stderr pjoin -p m.pfs
	assert_output ""
	assert_equal "${stderr_lines[0]}" "pjoin: -p sets the mode of the -o FILE: standard output has none"
}

@test "-f without -o, --commit or --payload is a usage error: nothing to force; -o twice names both" {
	suid_stream
	run -2 --separate-stderr pjoin -f m.pfs
	assert_output ""
	assert_equal "$stderr" "pjoin: -f: nothing to force: it overwrites an -o FILE, or lets --payload write to a terminal
Try 'pjoin --help' for more information."
	run -2 --separate-stderr pjoin -o a.bin -o b.bin m.pfs
	assert_equal "${stderr_lines[0]}" "pjoin: -o a.bin, then -o b.bin: one output FILE"
	assert_file_not_exists a.bin
	assert_file_not_exists b.bin
	# the same FILE twice is one output
	pjoin -o a.bin --output a.bin m.pfs
	assert_file_exists a.bin
}

@test "-o never writes over the input" {
	cp s.pfs same.pfs
	run -1 --separate-stderr pjoin -f -o same.pfs same.pfs
	assert_equal "$stderr" "pjoin: same.pfs: refusing to overwrite the input file"
	cmp s.pfs same.pfs
	run -1 --separate-stderr bash -c 'pjoin -f -o same.pfs < same.pfs'
	assert_equal "$stderr" "pjoin: same.pfs: refusing to overwrite the input file"
}

@test "-o into a missing directory and onto a directory" {
	run -1 --separate-stderr pjoin -o nodir/out.bin s.pfs
	assert_equal "$stderr" "pjoin: nodir/out.bin: cannot create a temporary file next to it: No such file or directory"
	mkdir d
	run -1 --separate-stderr pjoin -o d s.pfs
	assert_equal "$stderr" "pjoin: d: is a directory"
}

@test "-o on an error leaves neither the file nor a temporary" {
	head -c 100000 s.pfs > t.pfs
	run -1 pjoin -o out.bin t.pfs
	assert_file_not_exists out.bin
	[ -z "$(ls -A | grep '^\.out')" ]
	# and an existing file is left as it was
	echo keep > out.bin
	run -1 pjoin -f -o out.bin t.pfs
	assert_equal "$(cat out.bin)" keep
}

@test "refuses a stream that still holds a transform, naming the command" {
	command -v pcompress >/dev/null || skip "pcompress not built"
	pcompress --zstd < s.pfs > z.pfs
	run -1 --separate-stderr pjoin -o out.bin z.pfs
	assert_equal "$stderr" "pjoin: z.pfs: stream is still compressed (zstd -3): run 'pcompress -d' first"
	assert_file_not_exists out.bin
}

@test "--payload writes the payloads as they are" {
	pjoin --payload s.pfs | cmp - in.bin
}

@test "--payload checks the digests over the payloads: a damaged chunk stops the output before it, -o leaves nothing, --no-verify writes it" {
	gen text-like 300K > t.bin
	pchunk -s 64K t.bin | pcompress --zstd | phash > zh.pfs
	pjoin --payload zh.pfs | zstd -dc | cmp - t.bin
	cp zh.pfs d.pfs
	flip_byte d.pfs $(( $(frame zh.pfs 3 off) + 32 + 10 ))
	run -1 --separate-stderr bash -c 'pjoin --payload < d.pfs > p.zst'
	assert_equal "$stderr" "pjoin: stdin: chunk 1 (bytes 65536-131071): sha256 digest mismatch (the chunk or its DIGEST frame is damaged)"
	# at most chunk 0, verified, went out (it may wait in the batch)
	[ "$(stat -c %s p.zst)" -le "$(frame zh.pfs 1 len)" ]
	pjoin --payload zh.pfs | cmp -n "$(stat -c %s p.zst)" - p.zst
	run -1 --separate-stderr pjoin --payload -o out.zst d.pfs
	assert_file_not_exists out.zst
	run -0 bash -c 'pjoin --payload --no-verify d.pfs | wc -c'
	assert_output "$(pjoin --payload zh.pfs | wc -c)"
	# digests below the compression are of other bytes: not checked here
	pchunk -s 64K t.bin | phash | pcompress --zstd > hz.pfs
	pjoin --payload hz.pfs | zstd -dc | cmp - t.bin
}

# the refusal of --payload for a Brotli stream of several chunks
BROTLI_MANY="--payload: more than one Brotli chunk, and Brotli streams do not concatenate (brotli -d would stop after the first): use 'pcompress -d' and pjoin without --payload, or pcompress --zstd or --lz4, whose frames concatenate"

@test "--payload: a Brotli stream of several chunks is refused from its HEAD, nothing written" {
	pcompress --brotli < s.pfs > b.pfs
	run -1 --separate-stderr pjoin --payload b.pfs
	assert_equal "$stderr" "pjoin: b.pfs: $BROTLI_MANY"
	assert_output ""
	run -1 --separate-stderr pjoin --payload -o out.br b.pfs
	assert_equal "$stderr" "pjoin: b.pfs: $BROTLI_MANY"
	assert_file_not_exists out.br
	[ -z "$(ls -A | grep '^\.out')" ]
	# a hash record on top does not change the payloads: the same
	phash < b.pfs > bh.pfs
	run -1 --separate-stderr pjoin --payload bh.pfs
	assert_equal "$stderr" "pjoin: bh.pfs: $BROTLI_MANY"
	assert_output ""
}

@test "--payload: a Brotli stream of unknown size is refused at its second chunk, nothing written" {
	# from a pipe the HEAD records no size: the first chunk is held back
	run -1 --separate-stderr bash -c \
		'cat in.bin | pchunk -s 16K | pcompress --brotli | pjoin --payload > out.br'
	assert_equal "$stderr" "pjoin: stdin: $BROTLI_MANY"
	assert_file_empty out.br
	run -1 --separate-stderr bash -c \
		'cat in.bin | pchunk -s 16K | pcompress --brotli | pjoin --payload -o out2.br'
	assert_equal "$stderr" "pjoin: stdin: $BROTLI_MANY"
	assert_file_not_exists out2.br
	[ -z "$(ls -A | grep '^\.out')" ]
}

@test "--payload: a one-chunk Brotli stream is a .br file that brotli -d reads" {
	pchunk -s 256K in.bin | pcompress --brotli > one.pfs
	run -0 pjoin --payload -o one.br one.pfs
	brotli -dc one.br | cmp - in.bin
	# of unknown size, with a hash record on top: written at its END
	run -0 bash -o pipefail -c \
		'cat in.bin | pchunk -s 256K | pcompress --brotli | phash | pjoin --payload > two.br'
	brotli -dc two.br | cmp - in.bin
	cmp one.br two.br
}

@test "/dev/full: write error, exit 1" {
	run -1 --separate-stderr bash -c 'pjoin s.pfs > /dev/full'
	assert_equal "$stderr" "pjoin: stdout: write error: No space left on device"
	run -1 --separate-stderr pjoin -o /dev/full s.pfs
	assert_equal "$stderr" "pjoin: /dev/full: write error: No space left on device"
}

@test "-o to /dev/null (a device is written directly)" {
	run -0 pjoin -o /dev/null s.pfs
}

@test "SIGTERM and SIGINT during pjoin -o remove the temporary file" {
	for sig in TERM INT; do
		mkfifo fifo.$sig
		pjoin -o out.$sig < fifo.$sig &
		pid=$!
		exec 7> fifo.$sig
		head -c 50000 s.pfs >&7
		for ((i = 0; i < 200; i++)); do       # pjoin may start late
			ls -A | grep -q "^\.out\.$sig\." && break
			sleep 0.05
		done
		ls -A | grep -q "^\.out\.$sig\." # the temporary exists meanwhile
		kill -$sig $pid
		st=0
		wait $pid || st=$?
		exec 7>&-
		[ "$st" -eq $((128 + $(kill -l $sig))) ]
		assert_file_not_exists out.$sig
		[ -z "$(ls -A | grep "^\.out\.$sig")" ]
	done
}

@test "a full file system during pjoin -o leaves nothing behind" {
	[ "$(id -u)" = 0 ] || skip "needs root to mount a tmpfs"
	mkdir small
	mount -t tmpfs -o size=64k tmpfs small || skip "cannot mount tmpfs here"
	run -1 --separate-stderr pjoin -o small/out.bin s.pfs
	assert_equal "$stderr" "pjoin: small/out.bin: write error: No space left on device"
	[ -z "$(ls -A small)" ]
	# a --trace that fills it: said, and no cut (invalid) trace left
	head -c 60000 /dev/zero > small/fill
	run -1 --separate-stderr bash -c 'pchunk -s 1K in.bin | pjoin --trace small/t.json > /dev/null'
	assert_equal "$stderr" "pjoin: --trace: small/t.json: write error: No space left on device"
	assert_file_not_exists small/t.json
	umount small
}

@test "a full file system while pjoin splices from a pipe: a write error naming the output, as on every other path" {
	[ "$(id -u)" = 0 ] || skip "needs root to mount a tmpfs"
	mkdir small
	mount -t tmpfs -o size=256k tmpfs small || skip "cannot mount tmpfs here"
	# 1 MiB chunks, nothing to check, read from a pipe: pjoin splices
	# each payload past the bytes it has read, and the disk fills there
	gen random 2M > big.bin
	pchunk -s 1M big.bin > big.pfs
	run -1 --separate-stderr bash -c 'cat big.pfs | pjoin -o small/out.bin'
	assert_equal "$stderr" "pjoin: small/out.bin: write error: No space left on device"
	[ -z "$(ls -A small)" ]
	run -1 --separate-stderr bash -c 'cat big.pfs | pjoin > small/out.bin'
	assert_equal "$stderr" "pjoin: stdout: write error: No space left on device"
	rm small/out.bin
	# pipeline names the output too, FILE read from standard input or a FIFO
	run -1 --separate-stderr bash -c 'cat big.pfs | pipeline restore -o small/out.bin -'
	assert_equal "$stderr" "pjoin: small/out.bin: write error: No space left on device"
	mkfifo fifo
	cat big.pfs > fifo &
	run -1 --separate-stderr pipeline restore -o small/out.bin fifo
	wait
	assert_equal "$stderr" "pjoin: small/out.bin: write error: No space left on device"
	[ -z "$(ls -A small)" ]
	if command -v strace >/dev/null; then
		# it was splice(2) that met the full disk
		export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
		run -1 strace -f -qq -e trace=splice -o sp.log bash -c \
		    'cat big.pfs | pjoin -o small/out.bin'
		grep -q 'splice(0, .* = -1 ENOSPC' sp.log
	fi
	umount small
}

@test "a splice that fails part way: pjoin copies the rest, the bytes are the same" {
	command -v strace >/dev/null || skip "strace is missing: apt-get install strace"
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
	gen random 3M > big.bin
	pchunk -s 1M big.bin > big.pfs
	# the second splice fails (strace injects EIO): the payload's rest
	# and the chunks after it are copied
	strace -f -qq -e trace=splice -e inject=splice:error=EIO:when=2 \
	    -o inj.log bash -c 'cat big.pfs | pjoin -o out.bin'
	cmp out.bin big.bin
	run grep -c 'splice(0, .*EIO.*INJECTED' inj.log
	assert_output 1
	run grep -c 'splice(' inj.log
	assert_output 2
}

@test "a stage killed mid-stream: pjoin reports truncation and leaves nothing" {
	gen random 30M > big.bin
	run --separate-stderr bash -c 'pchunk -s 64K big.bin | sh -c "head -c 3000000; kill -9 \$\$" | pjoin -o out.bin; echo "${PIPESTATUS[2]}"'
	assert_output 1
	assert_regex "$stderr" "pjoin: stdin: truncated stream \((frame [0-9]+: payload cut short|frame [0-9]+: header cut short|no END frame after [0-9]+ chunks)\)"
	assert_file_not_exists out.bin
}

@test "input on a terminal is refused" {
	command -v script >/dev/null || skip "script(1) missing"
	run script -qec "$PFS_BIN/pjoin" /dev/null
	assert_output --partial "pjoin: stdin: is a terminal; expected a frame stream (pipe one in or name a file)"
}

@test "bad usage" {
	run -2 --separate-stderr pjoin --nope
	assert_equal "${stderr_lines[0]}" "pjoin: unrecognized option '--nope'"
	run -2 --separate-stderr pjoin -T x s.pfs
	assert_equal "${stderr_lines[0]}" "pjoin: -T: invalid number 'x'"
	# several operands are parts (parts.bats), joined into an -o file only
	run -2 --separate-stderr pjoin a b
	assert_equal "${stderr_lines[0]}" "pjoin: several operands are the parts of one file: give -o OUT, the file they restore"
}

@test "-T 1 and -T 8 give the same bytes" {
	pjoin -T 1 s.pfs | cmp - in.bin
	pjoin -T 8 s.pfs | cmp - in.bin
}

@test "a closed pipe ends the engine tools quietly even when SIGPIPE is ignored" {
	gen random 20M > big.bin
	pchunk -s 64K big.bin > big.pfs
	# 8 MiB chunks: payloads given to the pipe (vmsplice) meet EPIPE
	pchunk -s 8M big.bin > big8.pfs
	for tool in "phash" "pjoin" "phash -a xxh3 -T 1" "phash -a xxh3 -T 1 big8.pfs" \
	            "pcompress --lz4 big8.pfs"; do
		run --separate-stderr bash -c "trap '' PIPE; $tool < big.pfs | head -c 1 | wc -c; echo \"\${PIPESTATUS[0]}\""
		assert_output $'1\n141'
		assert_equal "$stderr" ""
	done
	run --separate-stderr bash -c "trap '' PIPE; pchunk big.bin | head -c 1 > /dev/null; echo \"\${PIPESTATUS[0]}\""
	assert_output 141
	assert_equal "$stderr" ""
}

@test "the tools that print (pinfo, phash --sum, pencrypt's keys, --help, --version, --dry-run) die of SIGPIPE quietly on a closed pipe, even when it is ignored" {
	pencrypt --keygen-identity -o id
	local c
	for c in "pinfo s.pfs" "pinfo --json s.pfs" "pinfo --chunks s.pfs" \
	         "pinfo s.pfs s.pfs" "phash --sum s.pfs" "pencrypt --keygen" \
	         "pencrypt --keygen-identity" "pencrypt --recipient-of id" \
	         "pchunk --help" "pcompress --help" "pencrypt --help" \
	         "phash --help" "pjoin --help" "pinfo --help" "pipeline --help" \
	         "pjoin --version" "phash -a list" \
	         "pipeline --dry-run process in.bin"; do
		run -0 closed_stdout $c
		assert_output "-13 b''
-13 b''"
	done
}

@test "a closed standard output or input is an error naming it, as cat says, not output lost in /dev/null or a file taken for stdout" {
	pchunk in.bin > i.pfs
	local c
	for c in "phash --sum s.pfs" "pjoin s.pfs" "pchunk in.bin" "pinfo s.pfs" \
	         "pcompress s.pfs" "pencrypt --keygen" "pchunk --help" \
	         "pipeline --dry-run process in.bin" \
	         "pipeline restore -c i.pfs:pjoin" "pipeline info s.pfs:pinfo"; do
		p=${c##*:}
		[ "$p" = "$c" ] && p=${c%% *}
		run -1 --separate-stderr bash -c "${c%:*} >&-"
		assert_equal "$stderr" "$p: stdout: write error: Bad file descriptor"
	done
	run -1 --separate-stderr bash -c "pjoin <&- > o"
	assert_equal "$stderr" "pjoin: stdin: read error: Bad file descriptor"
}

@test "--payload to a terminal is refused without -f" {
	command -v script >/dev/null || skip "script(1) missing"
	gen text-like 3000 > t.bin
	pchunk t.bin | pcompress --zstd > z.pfs
	run script -qec "$PFS_BIN/pjoin --payload z.pfs" /dev/null
	assert_output --partial "pjoin: refusing to write a binary stream to a terminal"
	run script -qec "$PFS_BIN/pjoin -f --payload z.pfs > /dev/null; echo rc=\$?" /dev/null
	assert_output --partial "rc=0"
}

# help_full TOOL: TOOL --help into a full disk reports why and exits 1
help_full() {
	run -1 --separate-stderr bash -c "$1 --help > /dev/full"
	assert_equal "$stderr" "$1: stdout: write error: No space left on device"
}
@test "--help to a full disk: pchunk says why, exit 1" { help_full pchunk; }
@test "--help to a full disk: pcompress says why, exit 1" { help_full pcompress; }
@test "--help to a full disk: pencrypt says why, exit 1" { help_full pencrypt; }
@test "--help to a full disk: phash says why, exit 1" { help_full phash; }
@test "--help to a full disk: pinfo says why, exit 1" { help_full pinfo; }
@test "--help to a full disk: pjoin says why, exit 1" { help_full pjoin; }
@test "--help to a full disk: pipeline says why, exit 1" { help_full pipeline; }
