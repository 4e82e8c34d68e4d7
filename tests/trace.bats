#!/usr/bin/env bats
# --trace FILE, PFS_TRACE=DIR and pipeline --trace FILE (common/trace.h):
# the traces are read with python's json module (tests/trace-check.py) and
# checked against the exact figures the programs report otherwise (--stats,
# pinfo).  The chart script (bench/trace-chart.sh) draws one.

load helper

CHECK="$BATS_TEST_DIRNAME/trace-check.py"

setup_file() {
	cd "$BATS_FILE_TMPDIR"
	gen text-like 24M > src.bin
	pencrypt --keygen -o k
	# the 4-stage pipeline of most tests, traced once with --stats=json
	pipeline --stats=json --trace p.json process --encrypt --key-file k \
		-l 6 -T 2 -o p.pfs src.bin 2> p.stats
}

setup() {
	cd "$BATS_FILE_TMPDIR"
}

check() {
	python3 "$CHECK" "$@"
}

# stat_of STAGE KEY: KEY of stage STAGE's JSON line in p.stats
stat_of() {
	python3 -c 'import json, sys
for l in open("p.stats"):
    d = json.loads(l)
    if d["stage"] == int(sys.argv[1]):
        print(d[sys.argv[2]])' "$1" "$2"
}

@test "pipeline --trace: the merged trace of a 4-stage pipeline is valid JSON in the documented format" {
	run check format p.json
	assert_output ok
	run check procs p.json
	assert_output "$(printf '%s\n' '1: pchunk' '2: pcompress --zstd' \
		'3: pencrypt' '4: phash' pipeline)"
	run check threads p.json '2: pcompress --zstd'
	assert_output "$(printf '%s\n' reader 'worker 1' 'worker 2' writer)"
	run check threads p.json '1: pchunk'
	assert_output main
}

@test "pipeline --trace: the merged file is one object, stage files and temporaries removed" {
	run python3 -c 'import json; d = json.load(open("p.json")); print(sorted(d), d["displayTimeUnit"])'
	assert_output "['displayTimeUnit', 'traceEvents'] ms"
	run bash -c 'ls -A | grep -c "^\.p\.json\." || true'
	assert_output 0
	mkdir -p tmp
	TMPDIR=$PWD/tmp run -0 pipeline --trace q.json info p.pfs
	run ls -A tmp
	assert_output ""
	run check procs q.json
	assert_output "$(printf '%s\n' '1: pinfo' pipeline)"
	# the umask applies to the merged file, as to any new file
	(umask 027 && pipeline --trace m.json info p.pfs > /dev/null)
	run stat -c %a m.json
	assert_output 640
}

@test "every span lies within its process's lifetime" {
	run check lifetime p.json
	assert_output 0
}

@test "per stage, the CPU time of the busy spans and before the trace agrees with --stats CPU within 10 %" {
	local i cpu got start
	ldd "$PFS_BIN/pjoin" | grep -q libtsan &&
		skip "ThreadSanitizer's own CPU time falls outside the spans"
	for i in 1 2 3 4; do
		cpu=$(python3 -c "print($(stat_of $i user_s) + $(stat_of $i sys_s))")
		got=$(check cpu p.json "$(check procs p.json | sed -n "${i}p")")
		# what the process had used when its trace began: loading the
		# libraries, mostly (5 to 15 ms here, more on a loaded machine)
		start=$(check startcpu p.json "$(check procs p.json | sed -n "${i}p")")
		# 10 %, but at least 20 ms for the stages that hardly run
		run python3 -c "import sys; c, g = $cpu, $got + $start
print('ok' if abs(c - g) <= max(0.1 * c, 0.02) else 'stage $i: trace %.3f s, --stats %.3f s' % (g, c))"
		assert_output ok
	done
	# the compressing stage is the one that works: it must be measured
	run python3 -c "print($(stat_of 2 user_s) > 0.1)"
	assert_output True
}

@test "per stage, the process span's CPU time is --stats CPU" {
	local i cpu got
	for i in 1 2 3 4; do
		cpu=$(python3 -c "print($(stat_of $i user_s) + $(stat_of $i sys_s))")
		got=$(check proccpu p.json "$(check procs p.json | sed -n "${i}p")")
		# --stats reads the clock a moment before the trace ends
		run python3 -c "c, g = $cpu, $got
print('ok' if -0.002 <= g - c <= max(0.02 * c, 0.005) else 'stage $i: trace %.4f s, --stats %.4f s' % (g, c))"
		assert_output ok
	done
	run check proccpu p.json pipeline
	run python3 -c "print(0 < $output < 1)"
	assert_output True
}

@test "per stage, blocked-in and blocked-out spans add up to --stats" {
	local i label
	for i in 1 2 3 4; do
		label=$(check procs p.json | sed -n "${i}p")
		run check blocked p.json "$label"
		assert_output "$(printf '%.6f %.6f' "$(stat_of $i blocked_in_s)" "$(stat_of $i blocked_out_s)")"
	done
}

@test "chunk indexes in the merged trace are complete and in range" {
	local n
	n=$(pinfo --json p.pfs | python3 -c 'import json, sys; print(json.load(sys.stdin)["chunks"])')
	[ "$n" -ge 3 ]
	run check chunks p.json '1: pchunk' chunk
	assert_output "0 $((n - 1)) $n $n"
	run check chunks p.json '2: pcompress --zstd' read
	assert_output "0 $((n - 1)) $n $n"
	run check chunks p.json '2: pcompress --zstd' transform
	assert_output "0 $((n - 1)) $n $n"
	run check chunks p.json '4: phash' write
	assert_output "0 $((n - 1)) $n $n"
}

@test "PFS_TRACE=DIR: each program of a hand-written pipeline writes DIR/PROG.PID.json" {
	local f
	mkdir -p d && rm -f d/*
	PFS_TRACE=$PWD/d run -0 bash -o pipefail -c \
		'pchunk -s 256K src.bin | pcompress --lz4 | phash | phash --check | pcompress -d | pjoin > out.bin'
	cmp src.bin out.bin
	run bash -c 'ls d | sed "s/\.[0-9]*\.json$//" | sort | paste -sd " "'
	assert_output "pchunk pcompress pcompress phash phash pjoin"
	for f in d/*.json; do
		run check format "$f"
		assert_output ok
		run check lifetime "$f"
		assert_output 0
	done
	# 24 MiB in 256 KiB chunks: 96 of them, every one in every stage
	for f in d/pcompress.*.json d/phash.*.json; do
		run check chunks "$f" "$(basename "${f%%.*}")" read
		assert_output "0 95 96 96"
	done
	# pjoin with nothing to check splices the payloads: write spans only
	run check chunks d/pjoin.*.json pjoin write
	assert_output "0 95 96 96"
	run check chunks d/pchunk.*.json pchunk chunk
	assert_output "0 95 96 96"
}

@test "--trace FILE: a single program's trace, its blocked time as --stats says" {
	pchunk -s 1M src.bin > s.pfs
	run -0 --separate-stderr pcompress --zstd --stats=json --trace one.json s.pfs > /dev/null
	run check format one.json
	assert_output ok
	run check chunks one.json pcompress transform
	assert_output "0 23 24 24"
	run check blocked one.json pcompress
	assert_output "$(python3 -c 'import json, sys; d = json.loads(sys.argv[1])
print("%.6f %.6f" % (d["blocked_in_s"], d["blocked_out_s"]))' "$stderr")"
}

@test "--trace to a file that cannot be created is an error, for every program" {
	local p
	for p in pchunk pcompress pencrypt phash pjoin pinfo; do
		run -1 --separate-stderr "$p" --trace nodir/t.json < /dev/null
		assert_equal "$stderr" "$p: --trace: nodir/t.json: No such file or directory"
		assert_output ""
	done
	run -1 --separate-stderr pipeline --trace nodir/t.json process -o x.pfs src.bin
	assert_equal "$stderr" "pipeline: --trace: nodir/t.json: cannot create a temporary file next to it: No such file or directory"
	assert_file_not_exists x.pfs
}

@test "--trace to a full disk: exit 1 with the reason, and the stage's output still whole" {
	pchunk -s 256K src.bin > c.pfs
	run -1 --separate-stderr sh -c 'pcompress --zstd --trace /dev/full < c.pfs > z.pfs'
	assert_equal "$stderr" "pcompress: --trace: /dev/full: write error: No space left on device"
	pcompress -d < z.pfs | pjoin | cmp - src.bin
}

@test "PFS_TRACE that is not a directory is an error" {
	PFS_TRACE=nodir run -1 --separate-stderr phash < /dev/null
	assert_equal "$stderr" "phash: PFS_TRACE: nodir: No such file or directory"
	PFS_TRACE=src.bin run -1 --separate-stderr pjoin < /dev/null
	assert_equal "$stderr" "pjoin: PFS_TRACE: src.bin: Not a directory"
}

@test "--trace with an empty name, and pipeline --trace with --dry-run, are usage errors" {
	run -2 --separate-stderr pcompress --zstd --trace '' < /dev/null
	assert_equal "${stderr%%$'\n'*}" "pcompress: --trace: empty file name"
	run -2 --separate-stderr pipeline --trace t.json --dry-run process src.bin
	assert_equal "${stderr%%$'\n'*}" "pipeline: --trace and --dry-run exclude each other (nothing runs, nothing is traced)"
	assert_file_not_exists t.json
}

@test "a failed pipeline still leaves the merged trace of its stages" {
	head -c 3000000 p.pfs > cut.pfs
	run -1 --separate-stderr pipeline --trace f.json verify --key-file k cut.pfs
	assert_equal "${stderr%%$'\n'*}" "phash: cut.pfs: truncated stream (frame 3: payload cut short)"
	run check format f.json
	assert_output ok
	run check lifetime f.json
	assert_output 0
	run check procs f.json
	assert_output "$(printf '%s\n' '1: phash --check' '2: pencrypt -d' \
		'3: pcompress -d' '4: pjoin' pipeline)"
}

@test "a stage killed by SIGPIPE: the engine ends its trace first; pchunk's is left open, as the format allows" {
	mkdir -p e && rm -f e/*
	PFS_TRACE=$PWD/e run bash -c 'pchunk -s 256K src.bin | pcompress --lz4 | head -c 1000 > /dev/null'
	run bash -c 'tail -n 2 e/pcompress.*.json'
	assert_line --index 0 --regexp '^\{"ph":"X","name":"process","cat":"process",.*\}$'
	assert_line --index 1 ']'
	run check format e/pcompress.*.json
	assert_output ok
	run check lifetime e/pcompress.*.json
	assert_output 0
	run tail -c 2 e/pchunk.*.json
	assert_output ","
	run check format e/pchunk.*.json
	assert_output ok
}

@test "trace-chart.sh: a PNG and an SVG timeline, one row per thread" {
	command -v gnuplot || skip "gnuplot not installed (tests/deps.sh test)"
	run -0 bash "$ROOT/bench/trace-chart.sh" p.json chart.png "4 stages"
	assert_output chart.png
	run file -b chart.png
	assert_output --partial "PNG image data"
	# pchunk: main; pcompress and phash: reader, 2 workers, writer;
	# pencrypt streams: reader and writer
	run wc -l < chart.png.rows
	assert_output 11
	run -0 bash "$ROOT/bench/trace-chart.sh" p.json chart.svg
	run grep -c "<svg" chart.svg
	assert_output 1
	run -2 bash "$ROOT/bench/trace-chart.sh" p.json chart.gif
	assert_output "trace-chart: chart.gif: give a name ending in .png or .svg"
	run -1 bash "$ROOT/bench/trace-chart.sh" nosuch.json chart.png
	assert_output "trace-chart: nosuch.json: cannot read"
	run -1 bash "$ROOT/bench/trace-chart.sh" p.json nosuch/chart.png
	assert_output "trace-chart: nosuch/chart.png: cannot write in nosuch"
	echo '{"traceEvents":[]}' > empty.json
	run -1 bash "$ROOT/bench/trace-chart.sh" empty.json chart.png
	assert_output "trace-chart: empty.json: not a pfs trace (no spans in Chrome trace JSON)"
	run -1 bash "$ROOT/bench/trace-chart.sh" src.bin chart.png
	assert_output "trace-chart: src.bin: not a pfs trace (no spans in Chrome trace JSON)"
}
