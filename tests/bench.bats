#!/usr/bin/env bats
# make bench / make profile|massif|heaptrack|dhat: smoke tests on tiny inputs.
# They call the targets through make once the Makefile has them (the recipes
# run bench/run.sh and bench/profile.sh), else the scripts directly with the
# same environment.  Results and baselines go to the test's directory.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	export BENCH_OUT="$BATS_TEST_TMPDIR/out"
	export BENCH_BASELINE_DIR="$BATS_TEST_TMPDIR/baselines"
	export PROFILE_DIR="$BATS_TEST_TMPDIR/profile"
	export NPM_DIR="$ROOT/build/npm"   # shared cache of d3-flame-graph
	export BENCH_KINDS=text-like PROFILE_SIZE=2M
}

# the build tree of PFS_BIN relative to ROOT, for make BUILD=...; empty when
# PFS_BIN is elsewhere
build_rel() {
	case $PFS_BIN in
	"$ROOT"/*/bin) local r=${PFS_BIN#"$ROOT"/}; echo "${r%/bin}" ;;
	esac
}

# make_vars: BUILD=... (and SANITIZE=... for a build/san-* tree, so that
# make does not relink a sanitizer build without its flags)
make_vars() {
	local b
	b=$(build_rel)
	echo "BUILD=$b"
	case $b in build/san-*) local s=${b#build/san-}; echo "SANITIZE=${s//-/,}" ;; esac
}

# bench NAME=VALUE... - make bench (or bench/run.sh) with these settings
bench() {
	local b
	b=$(build_rel)
	if [ -n "$b" ] && grep -q 'bench/run\.sh' "$ROOT/Makefile"; then
		# shellcheck disable=SC2046
		make -s -C "$ROOT" --no-print-directory bench $(make_vars) "$@"
	else
		bash "$ROOT/bench/run.sh" "$@"
	fi
}

# profile MODE TOOL ARGS - make MODE TOOL=.. ARGS=.. (or bench/profile.sh)
profile() {
	local b
	b=$(build_rel)
	if [ -n "$b" ] && grep -q 'bench/profile\.sh' "$ROOT/Makefile"; then
		# shellcheck disable=SC2046
		make -s -C "$ROOT" --no-print-directory "$1" $(make_vars) TOOL="$2" ARGS="$3"
	else
		bash "$ROOT/bench/profile.sh" "$1" "$2" "$3"
	fi
}

# benchmarks and profiles are about the release build: a sanitizer build
# (make SANITIZE=... check) skips them
need_release() {
	if sanitized; then skip "sanitizer build: make bench/profile measure the release build"; fi
}

# install_profile CMD: install the profile group when CMD is missing
install_profile() {
	command -v "$1" >/dev/null || sh "$ROOT/tests/deps.sh" profile >/dev/null 2>&1 || true
}

need_perf() {
	install_profile perf
	command -v perf >/dev/null || skip "perf is not installed (sh tests/deps.sh profile)"
	perf record -q -o "$BATS_TEST_TMPDIR/probe.data" true >/dev/null 2>&1 ||
		skip "perf cannot record here (kernel.perf_event_paranoid=$(cat /proc/sys/kernel/perf_event_paranoid))"
}

need_valgrind() {
	need_release
	install_profile valgrind
	command -v valgrind >/dev/null || skip "valgrind is not installed (sh tests/deps.sh profile)"
}

# the rows every quick run must show
OURS="pchunk pcompress-zstd pcompress-d-zstd pcompress-lz4 pcompress-d-lz4
pcompress-brotli pcompress-d-brotli phash-sha256 phash-check phash-xxh3 pjoin"
STOCK="cat-cat zstd-3 zstd-d lz4-1 lz4-d brotli-5 brotli-d openssl-ctr
openssl-ctr-d age-e age-d sha256sum xxhsum-H3 zstd+age age+zstd-d"

@test "bench QUICK=1: every stage and stock row with numeric MB/s, RSS and ratio" {
	need_release
	# QUICK=1 with half its input (8 MiB) and a quarter of the real tars
	# (4 MiB): 60 s of make check became about 25
	run -0 bench QUICK=1 BENCH_SIZE=8M BENCH_REAL_SIZE=4M
	assert_line --regexp '^pfs bench, .* median of 1 run\(s\)'
	assert_line 'text-like (8 MiB)'
	# the copy-only rows can take under 2 ms on 8 MiB: their MB/s may be "-"
	local r n m x='([0-9]+\.[0-9]|-)' v='[0-9]+\.[0-9]' q='[0-9]+\.[0-9]{2}x'
	local fast=' pchunk pjoin phash-xxh3 cat-cat xxhsum-H3 '
	ours=$OURS
	if [ -x "$PFS_BIN/pencrypt" ]; then
		ours="$ours pencrypt-aes pencrypt-d-aes pencrypt-chacha pencrypt-d-chacha process restore"
	else
		ours="$ours process-noenc restore-noenc"
	fi
	for r in $ours; do
		n=$v m=$q
		[[ $fast == *" $r "* ]] && n=$x m="($q|-)"
		assert_line --regexp "^  $r +$n +$v  [A-Za-z0-9+-]+ +$x +$m\$"
	done
	for r in $STOCK; do
		n=$v
		[[ $fast == *" $r "* ]] && n=$x
		assert_line --regexp "^  ${r//+/\\+} +$n +$v  \\(stock\\)\$"
	done
	assert_line --regexp "^results: $BENCH_OUT/bench-[0-9-]+\.tsv$"
	# the machine-readable file: one line per row, numeric columns
	assert_file_exists "$BENCH_OUT/latest.tsv"
	run -0 awk -F'\t' -v fast="$fast" '!/^#/ && $1 != "kind" { n++
		if (($9 !~ /^[0-9]+\.[0-9]$/ && !(index(fast, " " $2 " ") && $9 == "-")) ||
		    $10 !~ /^[0-9]+$/ || $5 != 1) bad++ }
		END { print n, bad + 0 }' "$BENCH_OUT/latest.tsv"
	[ "${output% *}" -ge 28 ]
	assert_equal "${output#* }" 0
}

@test "bench SAVE=name then BASELINE=name prints the change per row" {
	need_release
	run -0 bench QUICK=1 BENCH_ONLY='^(pcompress-lz4|phash-sha256)' BENCH_SIZE=4M SAVE=before
	assert_line "baseline saved: $BENCH_BASELINE_DIR/before.tsv (compare with BASELINE=before)"
	assert_file_exists "$BENCH_BASELINE_DIR/before.tsv"
	refute_line --partial change
	run -0 bench QUICK=1 BENCH_ONLY='^(pcompress-lz4|phash-sha256)' BENCH_SIZE=4M BASELINE=before
	assert_line --regexp '^  row +MB/s +rss MB +vs +MB/s +ratio +change$'
	assert_line --regexp '^  pcompress-lz4 .* [0-9.]+x +[+-][0-9]+\.[0-9]%( !)?$'
	assert_line --regexp '^  phash-sha256 .* [0-9.]+x +[+-][0-9]+\.[0-9]%( !)?$'
	assert_line --regexp '^  lz4-1 .*\(stock\) +[+-][0-9]+\.[0-9]%( !)?$'
	assert_line --regexp '^  sha256sum .*\(stock\) +[+-][0-9]+\.[0-9]%( !)?$'
	refute_line --partial pcompress-zstd
	# the history of both runs, plotted with gnuplot
	assert_line "history: $BENCH_OUT/history.png"
	run -0 file -b "$BENCH_OUT/history.png"
	assert_output --partial "PNG image data"
	run -0 awk '{ print NF, $1, $2, $3 }' "$BENCH_OUT/history.png.dat"
	assert_line --index 0 "3 run text-like/pcompress-lz4 text-like/phash-sha256"
	assert_line --index 2 --regexp '^3 [0-9]{8}-[0-9]{6} [0-9]+\.[0-9] [0-9]+\.[0-9]$'
	assert_equal "${#lines[@]}" 3
}

@test "history-chart.sh: no results, no matching row and a bad name are errors" {
	mkdir -p "$BENCH_OUT"
	run -1 bash "$ROOT/bench/history-chart.sh" h.png
	assert_output "history-chart: $BENCH_OUT: no bench-*.tsv results (run make bench)"
	printf '# rev: x\nkind\trow\tvs\nmixed\tpjoin\tcat-cat\t1\t1\t0.1\t0.1\t0.1\t300.0\t1\t200\t1.5\tcmd\n' \
		> "$BENCH_OUT/bench-20260101-000000.tsv"
	run -1 bash "$ROOT/bench/history-chart.sh" h.png 'zstd'
	assert_output "history-chart: no pfs rows match 'zstd'"
	run -2 bash "$ROOT/bench/history-chart.sh" h.jpg
	assert_output "history-chart: h.jpg: give a name ending in .png or .svg"
	run -0 bash "$ROOT/bench/history-chart.sh" h.svg
	assert_output h.svg
	run -0 cat h.svg.dat
	assert_output "$(printf 'run mixed/pjoin\n20260101-000000 300.0')"
}

@test "bench: a missing baseline and bad settings are errors" {
	run bench QUICK=1 BASELINE=nosuch
	assert_failure   # 1 from the script, 2 from make
	assert_output --partial "no baseline 'nosuch'"
	run -2 bash "$ROOT/bench/run.sh" RUNS=0
	assert_output --partial "RUNS must be a positive integer"
	run -2 bash "$ROOT/bench/run.sh" FOO=1
	assert_output --partial "unknown argument 'FOO=1'"
}

@test "make profile TOOL=pcompress ARGS=--lz4: perf report names LZ4, flame graph" {
	need_release
	need_perf
	export PROFILE_SIZE=16M   # some 200 samples
	run -0 profile profile pcompress --lz4
	assert_line --regexp '^profile: .*/profile/pcompress-perf-[0-9]{8}-[0-9]{6}$'
	local d=${lines[-1]#profile: }
	assert_line --regexp '^== perf report --stdio --no-children'
	assert_line "Firefox Profiler: profile.perf.txt (profiler.firefox.com: Load a profile from file)"
	# LZ4 by its function names, or (when perf resolves none in the
	# stripped liblz4, which happens from one run to the next) by the
	# library's name: either way the report names LZ4
	assert_line --regexp 'LZ4F?_compress|liblz4'
	assert_file_exists "$d/perf.data"
	run -0 grep -E 'LZ4F?_compress|liblz4' "$d/report.txt"
	run -0 grep -c ';' "$d/folded.txt"
	assert_file_exists "$d/flame.html"
	if grep -qE 'LZ4F?_compress' "$d/report.txt"; then
		# names resolved: the folded stacks and the graph carry them
		run -0 grep -E '^pcompress;.*LZ4F?_compress.* [0-9]+$' "$d/folded.txt"
		run -0 grep -c 'LZ4F_compress' "$d/flame.html"
	fi
	run -0 grep -c 'd3' "$d/flame.html"
	# the Firefox Profiler's import: perf script text, one header line
	# "COMM PID/TID TIME: PERIOD EVENT:" per sample, then its stack
	run -0 grep -cE '^pcompress +[0-9]+/[0-9]+ +[0-9]+\.[0-9]+: ' "$d/profile.perf.txt"
	[ "$output" -ge 10 ]
	run -0 cat "$d/stats.txt"
	assert_output --regexp '^pcompress: stats: frames [0-9]+ '
}

@test "profile an inverse stage: phash --check reads a hashed stream" {
	need_release
	need_perf
	run -0 profile profile phash "-a xxh3 --check"
	assert_line --regexp '^input: .* \| pchunk \| phash -a xxh3$'
	assert_line --regexp '^stats: +phash: stats: frames [0-9]+ in 2\.1 MB'
}

@test "make massif: peak heap and the allocation tree" {
	need_valgrind
	run -0 profile massif pcompress "-d --brotli"
	assert_line --regexp '^input: .* \| pcompress --brotli$'
	assert_line --regexp '^peak heap: [0-9]+ bytes'
	assert_line --partial 'pfs_buf_reserve'
	local d=${lines[-1]#profile: }
	assert_file_exists "$d/massif.out"
	assert_file_exists "$d/ms_print.txt"
}

@test "make heaptrack: allocation calls and peak" {
	need_valgrind
	install_profile heaptrack
	command -v heaptrack >/dev/null || skip "heaptrack is not installed (sh tests/deps.sh profile)"
	run -0 profile heaptrack pjoin ""
	assert_line --regexp '^calls to allocation functions: [0-9]+'
	assert_line --regexp '^peak heap memory consumption: '
	local d=${lines[-1]#profile: }
	assert_file_exists "$d/heaptrack_print.txt"
}

@test "make dhat: JSON output and totals" {
	need_valgrind
	run -0 profile dhat pchunk "-s 256K"
	assert_line --regexp '^Total: +[0-9,]+ bytes in [0-9,]+ blocks'
	assert_line --regexp '^At t-gmax: '
	local d=${lines[-1]#profile: }
	run -0 grep -c '"dhatFileVersion"' "$d/dhat.json"
}

@test "profile: bad usage" {
	run -2 bash "$ROOT/bench/profile.sh" perf
	assert_output --partial usage
	run -2 bash "$ROOT/bench/profile.sh" perf nosuch
	assert_output --partial "unknown TOOL 'nosuch'"
	run -2 bash "$ROOT/bench/profile.sh" flames pcompress
	assert_output --partial "unknown mode 'flames'"
	run -2 bash "$ROOT/bench/profile.sh" perf pipeline
	assert_output --partial "pipeline --perf DIR"
}
