#!/usr/bin/env bats
# pchunk: chunking, HEAD metadata, round trips through pjoin, errors.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# round trips of a file of N random bytes in 1K chunks: 0, 1, chunk-1,
# chunk, chunk+1 and several chunks
@test "round trip (file): 0 bytes in 1K chunks" { gen random 0 > in.bin; round_trip in.bin 1K; }
@test "round trip (file): 1 byte in 1K chunks" { gen random 1 > in.bin; round_trip in.bin 1K; }
@test "round trip (file): 1023 bytes in 1K chunks" { gen random 1023 > in.bin; round_trip in.bin 1K; }
@test "round trip (file): 1024 bytes in 1K chunks" { gen random 1024 > in.bin; round_trip in.bin 1K; }
@test "round trip (file): 1025 bytes in 1K chunks" { gen random 1025 > in.bin; round_trip in.bin 1K; }
@test "round trip (file): 5000 bytes in 1K chunks" { gen random 5000 > in.bin; round_trip in.bin 1K; }
@test "round trip (file): 65536 bytes in 1K chunks" { gen random 65536 > in.bin; round_trip in.bin 1K; }

# round trips from stdin, 300K of text in several chunk sizes
stdin_round_trip() {	# CHUNK
	gen text-like 300K > in.bin
	run bash -o pipefail -c "cat in.bin | pchunk -s $1 | pjoin > out.bin"
	assert_success
	cmp in.bin out.bin
}
@test "round trip from stdin: 1K chunks" { stdin_round_trip 1K; }
@test "round trip from stdin: 4K chunks" { stdin_round_trip 4K; }
@test "round trip from stdin: 64K chunks" { stdin_round_trip 64K; }
@test "round trip from stdin: 1M chunks" { stdin_round_trip 1M; }
@test "round trip from stdin: 256M chunks" { stdin_round_trip 256M; }

@test "chunk count and sizes follow -s" {
	gen random 10000 > in.bin
	run bash -c 'pchunk -s 4K in.bin | pinfo --json'
	assert_success
	assert_output --partial '"chunk_size":4096'
	assert_output --partial '"chunks":3'
	assert_output --partial '"raw_bytes":10000'
}

@test "default chunk size: 8M, a smaller file one chunk of its size (at least 1K), 8M on stdin" {
	gen zeros 100 > small
	gen zeros 3000001 > mid
	gen zeros 8M > eight
	gen zeros 20M > large
	: > empty
	run bash -c 'pchunk empty | pinfo --json'
	assert_output --partial '"chunk_size":1024'
	assert_output --partial '"chunks":0'
	run bash -c 'pchunk small | pinfo --json'
	assert_output --partial '"chunk_size":1024'
	assert_output --partial '"chunks":1'
	run bash -c 'pchunk mid | pinfo --json'
	assert_output --partial '"chunk_size":3000001'
	assert_output --partial '"chunks":1'
	run bash -c 'pchunk eight | pinfo --json'
	assert_output --partial '"chunk_size":8388608'
	assert_output --partial '"chunks":1'
	run bash -c 'pchunk large | pinfo --json'
	assert_output --partial '"chunk_size":8388608'
	assert_output --partial '"chunks":3'
	run bash -c 'cat small | pchunk | pinfo --json'
	assert_output --partial '"chunk_size":8388608'
	assert_output --partial '"size":null'
	run bash -c 'cat large | pchunk | pinfo --json'
	assert_output --partial '"chunks":3'
	pchunk mid | pjoin > out
	cmp mid out
}

@test "HEAD records the name without directories, size, mode and mtime" {
	mkdir -p d
	gen text-like 5000 > d/file.txt
	chmod 640 d/file.txt
	touch -d '2020-01-02 03:04:05 UTC' d/file.txt
	run bash -c 'pchunk d/file.txt | pinfo --json'
	assert_success
	assert_output --partial '"name":"file.txt"'
	assert_output --partial '"size":5000'
	assert_output --partial '"mode":"0640"'
	assert_output --partial '"mtime":1577934245'
}

@test "pjoin -o restores mode and mtime" {
	umask 022    # pjoin -o applies it to the recorded mode
	gen random 3000 > in.bin
	chmod 604 in.bin
	touch -d '2021-05-06 07:08:09 UTC' in.bin
	pchunk in.bin | pjoin -o out.bin
	cmp in.bin out.bin
	[ "$(stat -c %a out.bin)" = 604 ]
	[ "$(stat -c %Y out.bin)" = "$(stat -c %Y in.bin)" ]
}

@test "sparse file over 4 GiB round-trips (digest compared)" {
	truncate -s 4200M big.bin
	printf 'tail' >> big.bin
	run bash -o pipefail -c 'pchunk -s 64M big.bin | pjoin | xxhsum -H1'
	assert_success
	# xxhsum -H1 of the same bytes: { head -c 4200M /dev/zero; printf tail; }
	# (a constant: computing it took 5 s of make check)
	assert_output "a349fabc47d1d29a  stdin"
}

@test "missing input file" {
	run -1 --separate-stderr pchunk nope.bin
	assert_equal "$stderr" "pchunk: nope.bin: No such file or directory"
}

@test "a directory as input" {
	mkdir dir
	run -1 --separate-stderr pchunk dir
	assert_equal "$stderr" "pchunk: dir: is a directory"
}

@test "unreadable input" {
	local d as=""
	d=$(mktemp -d /tmp/pfs-perm.XXXXXX)
	chmod 755 "$d"
	echo x > "$d/secret"
	chmod 000 "$d/secret"
	# root reads everything: drop to nobody for this one command
	[ "$(id -u)" != 0 ] || as="setpriv --reuid=65534 --regid=65534 --clear-groups"
	run -1 --separate-stderr $as pchunk "$d/secret"
	rm -rf "$d"
	assert_equal "$stderr" "pchunk: $d/secret: Permission denied"
}

@test "bad options and sizes are usage errors (exit 2)" {
	run -2 --separate-stderr pchunk -s 12Q x
	assert_equal "${stderr_lines[0]}" "pchunk: -s: invalid size '12Q' (unknown suffix 'Q'; use K, M or G)"
	run -2 --separate-stderr pchunk -s 100
	assert_equal "${stderr_lines[0]}" "pchunk: -s: size '100' is out of range (1 KiB to 256 MiB)"
	run -2 --separate-stderr pchunk -s 99999999999999999999999
	assert_equal "${stderr_lines[0]}" "pchunk: -s: size '99999999999999999999999' is out of range (1 KiB to 256 MiB)"
	run -2 --separate-stderr pchunk --bogus
	assert_equal "${stderr_lines[1]}" "Try 'pchunk --help' for more information."
	run -2 --separate-stderr pchunk a b
	assert_equal "${stderr_lines[0]}" "pchunk: too many arguments (one input at most)"
}

@test "size suffixes K, M, G, KiB, MB" {
	gen zeros 10 > z
	for s in 1K 1KiB 1kb 2M 1MiB 256M; do
		run -0 pchunk -s "$s" z
	done
	run -2 pchunk -s 1G z
}

@test "refuses to write to a terminal without -f" {
	command -v script >/dev/null || skip "script(1) missing"
	gen zeros 10 > z
	run script -qec "$PFS_BIN/pchunk z" /dev/null
	assert_output --partial "refusing to write a binary stream to a terminal"
	run script -qec "$PFS_BIN/pchunk -f z > /dev/null; echo rc=\$?" /dev/null
	assert_output --partial "rc=0"
}

@test "a closed pipe downstream ends pchunk quietly" {
	gen random 20M > in.bin
	run --separate-stderr bash -c 'pchunk in.bin | head -c 1 | wc -c; echo "${PIPESTATUS[0]}"'
	assert_line --index 0 1
	assert_line --index 1 141     # SIGPIPE, as cat does
	assert_equal "$stderr" ""
}

@test "writing to /dev/full fails with a message" {
	gen random 1M > in.bin
	run -1 --separate-stderr bash -c 'pchunk in.bin > /dev/full'
	assert_equal "$stderr" "pchunk: stdout: write error: No space left on device"
}

@test "a splice that fails says which side: a read error of the file (EIO from its disk), or a write error of stdout" {
	command -v cc >/dev/null || skip "no C compiler for the fault shim"
	gen random 1M > in.bin
	# splice(2) fails with EIO; so does pread(2) in the read shim only
	cat > shim.c <<-'EOF'
	#define _GNU_SOURCE
	#include <errno.h>
	#include <fcntl.h>
	#include <stdlib.h>
	#include <unistd.h>
	ssize_t splice(int a, loff_t *b, int c, loff_t *d, size_t n, unsigned f)
	{ (void)a; (void)b; (void)c; (void)d; (void)n; (void)f; errno = EIO; return -1; }
	#ifdef READ
	ssize_t pread(int fd, void *p, size_t n, off_t o)
	{ (void)fd; (void)p; (void)n; (void)o; errno = EIO; return -1; }
	ssize_t pread64(int fd, void *p, size_t n, off_t o)
	{ (void)fd; (void)p; (void)n; (void)o; errno = EIO; return -1; }
	#endif
	EOF
	cc -shared -fPIC -o write.so shim.c
	cc -shared -fPIC -DREAD -o read.so shim.c
	# a sanitizer's runtime must come first: the shim after it
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	run -1 --separate-stderr bash -o pipefail -c 'LD_PRELOAD=$PWD/read.so pchunk in.bin | cat > out.pfs'
	assert_equal "$stderr" "pchunk: in.bin: read error: Input/output error"
	run -1 --separate-stderr bash -o pipefail -c 'LD_PRELOAD=$PWD/write.so pchunk in.bin | cat > out.pfs'
	assert_equal "$stderr" "pchunk: stdout: write error: Input/output error"
}

@test "--help, --version, -q" {
	run -0 pchunk --help
	assert_line --index 0 "Usage: pchunk [OPTION]... [FILE|-]"
	run -0 pchunk --version
	assert_output --regexp '^pchunk \(pfs\) [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "--stats prints one line; --stats=json is JSON; PFS_STATS turns it on" {
	gen random 100K > in.bin
	run --separate-stderr pchunk --stats in.bin
	assert_success
	assert_regex "$stderr" '^pchunk: stats: frames 3 in 0.1 MB out 0.1 MB wall .* blocked-in .* blocked-out .* rss .* MB allocs [0-9]+$'
	run --separate-stderr pchunk --stats=json in.bin
	assert_regex "$stderr" '^\{"tool":"pchunk","frames":3,"bytes_in":102400,.*\}$'
	run --separate-stderr env PFS_STATS=1 pchunk in.bin
	assert_regex "$stderr" '^pchunk: stats: '
	run -2 --separate-stderr pchunk --stats=xml in.bin
	assert_equal "${stderr_lines[0]}" "pchunk: --stats: unknown format 'xml' (use --stats or --stats=json)"
}

@test "input and output the same file" {
	gen random 5000 > f.bin
	cp f.bin g.bin
	run -1 --separate-stderr bash -c 'pchunk f.bin >> f.bin'
	assert_equal "$stderr" "pchunk: f.bin: input and output are the same file"
	cmp f.bin g.bin
	pchunk g.bin > s.pfs
	cp s.pfs t.pfs
	run -1 --separate-stderr bash -c 'phash t.pfs >> t.pfs'
	assert_equal "$stderr" "phash: t.pfs: input and output are the same file"
	cmp s.pfs t.pfs
}

@test "an input file that shrinks while being read is an error, and no END is written" {
	gen random 40M > big.bin
	# the reader stalls, so pchunk blocks on a full pipe; meanwhile the file
	# is cut to 1 MiB
	# (once pchunk has the file open: on a loaded machine it may start
	# late; the reader waits for the cut)
	run --separate-stderr bash -c '
		{ pchunk -s 64K big.bin; echo "rc=$?" >&2; } |
		{ until [ -e cut ]; do sleep 0.05; done; cat > s.pfs; } &
		for ((i = 0; i < 400; i++)); do
			[ -n "$(find /proc/[0-9]*/fd -lname "$PWD/big.bin" 2>/dev/null)" ] && break
			sleep 0.05
		done
		sleep 0.1; truncate -s 1M big.bin; touch cut; wait'
	assert_regex "$stderr" "^pchunk: big.bin: file shrank while being read \(41943040 bytes expected, [0-9]+ read\)"$'\n'"rc=1$"
	run -1 --separate-stderr pjoin s.pfs
	assert_regex "$stderr" '^pjoin: s.pfs: truncated stream \((no END frame after [0-9]+ chunks|frame [0-9]+: payload cut short)\)$'
}

@test "procfs and sysfs files are read to the end as streams of unknown size" {
	[ -r /proc/self/status ] || skip "no /proc"
	run -0 bash -o pipefail -c 'pchunk /proc/self/status | pjoin | head -1'
	assert_output "Name:	pchunk"
	run -0 bash -o pipefail -c 'pchunk /proc/cpuinfo | pinfo --json'
	assert_output --partial '"size":null'
	assert_output --partial '"name":"cpuinfo"'
	if [ -r /sys/kernel/mm/transparent_hugepage/enabled ]; then
		run -0 bash -o pipefail -c 'pchunk /sys/kernel/mm/transparent_hugepage/enabled | pjoin'
		assert_output "$(cat /sys/kernel/mm/transparent_hugepage/enabled)"
	fi
}
