# tests/helper.bash - loaded by every suite: built tools first on PATH,
# bats libraries, and small helpers.  Every test works in $BATS_TEST_TMPDIR.

# the tree this suite is in; BATS_TEST_DIRNAME is absolute (bats makes it
# so), and a path cut costs no process, where $(cd ... && pwd) took a fork
# in every test
case $BATS_TEST_DIRNAME in
/*/tests) ROOT=${BATS_TEST_DIRNAME%/tests} ;;
*) ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)" ;;
esac
: "${PFS_BIN:=$ROOT/build/release/bin}"
# Debian's python3, the one deps.sh installs python3-cryptography and
# python3-argon2 for, even where a version manager's shim comes first on
# PATH (pyenv's: 0.5 s a call, and its own packages)
# (hash puts python3's path in BASH_CMDS without a process)
if [ -x /usr/bin/python3 ] && hash python3 2>/dev/null &&
   [ "${BASH_CMDS[python3]}" != /usr/bin/python3 ]; then
	[ -L "$BATS_RUN_TMPDIR/python/python3" ] || {
		mkdir -p "$BATS_RUN_TMPDIR/python"
		ln -sf /usr/bin/python3 "$BATS_RUN_TMPDIR/python/python3"; }
	PATH="$BATS_RUN_TMPDIR/python:$PATH"
fi
export PATH="$PFS_BIN:$PATH"
export PFS_STATS=      # a user's PFS_STATS must not change test output

bats_require_minimum_version 1.5.0

# pfs_load_library NAME: bats_load_library NAME, at less cost.  The load.bash
# of bats-support, bats-assert and bats-file sources each part with
# source "$(dirname "${BASH_SOURCE[0]}")/src/PART.bash": a dirname process a
# part, 17 for the three, which took 0.16 s of every test (about 100 s of
# make check).  The parts named that way are sourced here directly, in the
# same order; a library whose load.bash has any other line is left to
# bats_load_library.
pfs_load_library() {
	local name=$1 p dir= line part
	local -a paths parts=()
	local pre='source "$(dirname "${BASH_SOURCE[0]}")/'

	IFS=: read -ra paths <<< "${BATS_LIB_PATH-}"
	for p in "${paths[@]}"; do
		if [ -f "$p/$name/load.bash" ]; then
			dir=$p/$name
			break
		fi
	done
	[ -n "$dir" ] || { bats_load_library "$name"; return; }
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in
		''|'#'*) ;;
		"$pre"*'"')
			part=${line#"$pre"}
			parts+=("$dir/${part%\"}") ;;
		*)	bats_load_library "$name"
			return ;;
		esac
	done < "$dir/load.bash"
	for part in "${parts[@]}"; do
		# shellcheck disable=SC1090
		source "$part" || return
	done
}
pfs_load_library bats-support
pfs_load_library bats-assert
pfs_load_library bats-file

GEN="$ROOT/testdata/gen"

# gen KIND SIZE [SEED] > file: deterministic test data
gen() {
	"$GEN" "$@"
}

# sanitized: the programs are a sanitizer build (make SANITIZE=... check)
sanitized() {
	ldd "$PFS_BIN/pcompress" 2>/dev/null | grep -q -e libasan -e libubsan -e libtsan
}

# flip_byte FILE OFFSET: xor one byte of FILE with 0x01, in place (two
# processes, od and dd)
flip_byte() {
	local f=$1 off=$2 b esc
	b=$(od -An -tu1 -j "$off" -N1 "$f")
	b=${b// /}
	printf -v esc '\\%03o' $(( (${b:-0} ^ 1) & 255 ))
	# shellcheck disable=SC2059
	printf "$esc" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}

# flip_copies FILE PREFIX OFFSET...: for every OFFSET, PREFIX.OFFSET, a copy
# of FILE with that byte xored with 0x01 (flip_byte's damage).  One process
# for them all: cp and flip_byte in a loop cost about 40 ms a damage here.
flip_copies() {
	python3 -c '
import sys
b = open(sys.argv[1], "rb").read()
for o in map(int, sys.argv[3:]):
    if o >= len(b):
        sys.exit("flip_copies: offset %d is past the end of %s" % (o, sys.argv[1]))
    d = bytearray(b)
    d[o] ^= 1
    with open("%s.%d" % (sys.argv[2], o), "wb") as f:
        f.write(d)' "$@"
}

# frame_offsets FILE: byte offset of every frame header in a stream, one per
# line ("OFFSET TYPE SEQ LEN"), using the fixed 32-byte header of format.md;
# a header cut short reads as zeros past the end.  One python3 for the whole
# file: od per field cost six processes a frame (48 s of make check)
frame_offsets() {
	python3 -c '
import struct, sys
b = open(sys.argv[1], "rb").read()
off, out = 8, []
while off < len(b):
    t, ln, seq = struct.unpack_from("<B3xIQ", b[off:off + 16].ljust(16, b"\0"))
    out.append("%d %d %d %d\n" % (off, t, seq, ln))
    off += 32 + ln
sys.stdout.write("".join(out))' "$1"
}

# frame FILE WHICH [FIELD]: the frame locator.  One frame of FILE as
# frame_offsets lists it ("OFFSET TYPE SEQ LEN"), or one FIELD of it: off,
# type, seq or len.  WHICH is N, the N-th frame (0 = HEAD, -1 = the last:
# the INDEX frame of a stream that has one, not END), END or INDEX (the
# frame of that type), or TYPE:SEQ[:K], the K-th (default the first) frame
# of that type (1 HEAD, 2 DATA, 3 DIGEST, 4 END, 5 INDEX) and seq.  Fails
# when there is no such frame.
frame() {
	local f=$1 which=$2 field=${3:-} line t s k off type seq len
	case $which in
	END|INDEX)
		t=4; [ "$which" = INDEX ] && t=5
		line=$(frame_offsets "$f" | awk -v t="$t" '$2 == t { print; exit }') ;;
	*:*)	IFS=: read -r t s k <<< "$which"
		line=$(frame_offsets "$f" | awk -v t="$t" -v s="$s" -v k="${k:-1}" \
		       '$2 == t && $3 == s && ++n == k { print; exit }') ;;
	-1)	line=$(frame_offsets "$f" | tail -n 1) ;;
	*)	line=$(frame_offsets "$f" | sed -n "$((which + 1))p") ;;
	esac
	[ -n "$line" ] || { echo "$f: no frame $which"; return 1; }
	read -r off type seq len <<< "$line"
	case $field in
	"")	echo "$line" ;;
	off|type|seq|len) echo "${!field}" ;;
	*)	echo "frame: unknown field '$field'"; return 1 ;;
	esac
}

# closed_stdout CMD ARGS...: CMD run twice with standard output a pipe
# whose reader is gone, once with SIGPIPE as it comes and once ignored
# (Python's restore_signals=False); prints each exit status (negative: the
# signal that ended it) and its stderr, as "-13 b''"
closed_stdout() {
	python3 -c 'import os, subprocess, sys
r, w = os.pipe(); os.close(r)
for rs in (True, False):
    p = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE,
                       restore_signals=rs)
    print(p.returncode, repr(p.stderr))' "$@"
}

# py SCRIPT ARGS...: the Python frame walker.  Runs SCRIPT (with -: read
# from stdin) in python3, ARGS in sys.argv[1:], with struct and sys
# imported and frames(b) defined: for a stream's bytes b, it yields
# (off, type, flags, len, seq, raw) of every frame after the signature
# (the fixed 32-byte header of format.md), for tests that edit streams.
py() {
	local script=$1
	[ "$script" = - ] && script=$(cat)
	python3 -c "
import struct, sys
def frames(b):
    off = 8
    while off + 32 <= len(b):
        t, fl, ln, seq, raw = struct.unpack_from('<BBxxIQQ', b, off)
        yield off, t, fl, ln, seq, raw
        off += 32 + ln
$script" "${@:2}"
}

# strip_index FILE > out: FILE without the INDEX frame every writer appends
# after END (docs/format.md, "Index"); a stream that ends with END is
# valid.  A test that inserts, drops or moves frames and expects the
# stream to be read as valid strips it first: the offsets in the index
# would no longer match.  Fails unless the last frame is an INDEX frame.
strip_index() {
	local f=$1 off type
	read -r off type _ < <(frame "$f" -1)
	[ "$type" = 5 ] || { echo "$f: the last frame is not an INDEX frame" >&2; return 1; }
	head -c "$off" "$f"
}

# cut_frame FILE N > out: FILE without its N-th frame (0 = HEAD)
# dup_frame FILE N > out: FILE with its N-th frame written twice
# swap_frames FILE N M > out: frames N and M (N < M) exchanged
cut_frame() {
	local f=$1 n=$2 off len
	read -r off _ _ len < <(frame "$f" "$n")
	{ head -c "$off" "$f"; tail -c +$((off + 32 + len + 1)) "$f"; }
}
dup_frame() {
	local f=$1 n=$2 off len
	read -r off _ _ len < <(frame "$f" "$n")
	{ head -c $((off + 32 + len)) "$f"; tail -c +$((off + 1)) "$f"; }
}
swap_frames() {
	local f=$1 n=$2 m=$3 o1 l1 o2 l2
	read -r o1 _ _ l1 < <(frame "$f" "$n")
	read -r o2 _ _ l2 < <(frame "$f" "$m")
	{ head -c "$o1" "$f"
	  tail -c +$((o2 + 1)) "$f" | head -c $((32 + l2))
	  tail -c +$((o1 + 32 + l1 + 1)) "$f" | head -c $((o2 - o1 - 32 - l1))
	  tail -c +$((o1 + 1)) "$f" | head -c $((32 + l1))
	  tail -c +$((o2 + 32 + l2 + 1)) "$f"; }
}

# put_le FILE OFFSET BYTES VALUE: write VALUE as a BYTES-wide little-endian
# integer at OFFSET (in place)
put_le() {
	local f=$1 off=$2 n=$3 v=$4 i s=""
	for ((i = 0; i < n; i++)); do
		s+=$(printf '\\%03o' $(( (v >> (8 * i)) & 255 )))
	done
	printf "$s" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}

# reseal FILE OFFSET: recompute the checksum of the frame header at OFFSET
# (XXH32, seed 0, of its first 28 bytes), so that a test can forge fields
reseal() {
	local f=$1 off=$2 h
	h=$(tail -c +$((off + 1)) "$f" | head -c 28 | xxhsum -H0 | cut -c1-8)
	put_le "$f" $((off + 28)) 4 $((16#$h))
}

# round_trip FILE CHUNK [STAGE INVERSE]: the round-trip helper.  pchunk -s
# CHUNK FILE > s.pfs; with a STAGE (a command line: "pcompress --zstd -l
# 3"), s.pfs through it into t.pfs, which must differ from s.pfs, and
# t.pfs through INVERSE ("pcompress -d") into d.pfs, which must be s.pfs
# byte for byte; then pjoin must give back FILE exactly.
round_trip() {
	local f=$1 chunk=$2 fwd inv
	read -ra fwd <<< "${3:-}"
	read -ra inv <<< "${4:-}"
	pchunk -s "$chunk" "$f" > s.pfs
	if [ ${#fwd[@]} -eq 0 ]; then
		pjoin < s.pfs > out.bin
		cmp "$f" out.bin
		return
	fi
	"${fwd[@]}" < s.pfs > t.pfs
	if cmp -s s.pfs t.pfs; then echo "$3: the stream came out unchanged"; return 1; fi
	"${inv[@]}" < t.pfs > d.pfs
	cmp s.pfs d.pfs
	pjoin d.pfs | cmp - "$f"
}

# stderr_has [-r] TEXT: the stderr matcher.  The stderr of the last `run
# --separate-stderr` holds TEXT (with -r: matches the extended regular
# expression TEXT).  For the whole message use assert_equal "$stderr".
stderr_has() {
	local re=
	[ "$1" = -r ] && { re=1; shift; }
	if [ -n "$re" ]; then
		[[ $stderr =~ $1 ]] && return 0
	else
		[[ $stderr == *"$1"* ]] && return 0
	fi
	echo "stderr: $stderr"
	echo "expected${re:+ (regex)}: $1"
	return 1
}

# man_examples PAGE > script: the EXAMPLES extractor.  The commands of the
# EXAMPLES section of docs/man/PAGE.scd (PAGE: pjoin.1, pfs.7), one per
# line, as a shell script: every line of a ``` block and every line
# indented by a tab (the tab removed); prose lines are not commands.  Fails
# when the page has no command there.
man_examples() {
	local f="$ROOT/docs/man/$1.scd"
	[ -r "$f" ] || { echo "man_examples: $f: no such page"; return 1; }
	awk '/^```/ { blk = !blk; next }
	     blk { if (ex) { print; n++ } next }
	     /^# / { ex = ($0 == "# EXAMPLES"); next }
	     ex && /^\t/ { sub(/^\t/, ""); print; n++ }
	     END { if (!n) { print "man_examples: no command in EXAMPLES" > "/dev/stderr"; exit 1 } }' "$f"
}

# run_examples PAGE: man_examples PAGE into examples.sh, run with bash -e in
# the current directory (run --separate-stderr: $status, $output, $stderr
# as usual).  The command that fails is named on stderr, and the stderr of
# the examples is shown when the test fails.
run_examples() {
	man_examples "$1" > examples.sh || return 1
	run --separate-stderr bash -c 'trap '\''echo "$0: EXAMPLES: failed: $BASH_COMMAND" >&2'\'' ERR
		set -e; . ./examples.sh' "$1"
	[ -z "$stderr" ] || printf 'stderr of the examples:\n%s\n' "$stderr" >&2
}

# allocs FILE: the "allocs" (buffers allocated) of the --stats=json line in
# stderr file FILE
allocs() { sed -n 's/.*"allocs": *\([0-9]*\).*/\1/p' "$1"; }
