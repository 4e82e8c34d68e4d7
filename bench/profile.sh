#!/usr/bin/env bash
# bench/profile.sh MODE TOOL [ARGS] - profile ONE pfs program on its saved
# input stream: `make profile|massif|heaptrack|dhat TOOL=... ARGS="..."`.
#
#   make profile TOOL=pcompress ARGS="--zstd -l 3"    # perf + flame graph
#   make massif TOOL=pcompress ARGS="--brotli"        # heap profile over time
#   make heaptrack TOOL=phash ARGS="--check"          # allocations, peak
#   make dhat TOOL=pjoin                              # DHAT's JSON + summary
#   PFS_BIN=build/release/bin bash bench/profile.sh perf pcompress --lz4
#
# MODE is perf (or profile), massif, heaptrack or dhat.  TOOL is pchunk,
# pcompress, pencrypt, phash, pjoin or pinfo; ARGS its options, one string
# split at blanks.  The input is made to fit the stage: pchunk reads the
# generated file; a forward stage (pcompress --zstd, pencrypt, phash, pjoin)
# reads the chunked stream; an inverse stage (-d, --decompress, --decrypt,
# -c, --check) reads the stream made by the same TOOL with ARGS minus that
# option (pcompress -d --lz4 reads 'pcompress --lz4' output).  pencrypt with
# no key option gets a new --key-file.  The program's standard output goes to
# /dev/null.
#
# Environment:
#   PROFILE_SIZE=SIZE   input size (default 64M for pcompress, 256M for the
#                       faster stages; massif and dhat 16M)
#   PROFILE_KIND=KIND   testdata/gen kind (default text-like)
#   PROFILE_INPUT=FILE  your own input file instead of a generated one
#   PROFILE_CHUNK=SIZE  pchunk -s SIZE for the chunked stream
#   PROFILE_DIR=DIR     where the run folders go (default ./profile)
#   PROFILE_TOP=N       lines of the report printed (default 25)
#   PROFILE_CALLGRAPH=  perf call graphs: dwarf (default: unwinds through
#                       the Debian libraries too, which are built without
#                       frame pointers; perf.data of a few MB per second) or
#                       fp (frame pointers only: small, but every stack
#                       breaks at the first libzstd/liblz4/libgcrypt frame)
#   PERF_EVENT=EV       perf event (default cycles if it can be recorded here,
#                       else cpu-clock)
#   NPM_DIR=DIR         where d3-flame-graph is installed (default build/npm)
#   SHM=DIR             where the input streams are made (default /dev/shm)
#   PFS_BIN=DIR         the built tools (default build/release/bin)
#   PROFILE_NODEPS=1    do not install missing packages
#
# Output: one folder per run, PROFILE_DIR/TOOL-MODE-YYYYmmdd-HHMMSS/, with
# command.txt (what ran, on what), stats.txt (the program's --stats line from
# a run without the profiler) and per mode:
#   perf       perf.data, top.txt (flat profile), report.txt (perf report
#              --stdio --no-children with call graphs), folded.txt (folded
#              stacks, one "a;b;c COUNT" per line), flame.html (d3 flame graph),
#              profile.perf.txt (perf script -F +pid: the Firefox Profiler
#              imports it, profiler.firefox.com "Load a profile from file")
#   massif     massif.out, ms_print.txt, summary.txt (peak, top sites at peak)
#   heaptrack  heaptrack.*.zst|gz, heaptrack_print.txt, summary.txt
#   dhat       dhat.json (open it in /usr/libexec/valgrind/dh_view.html),
#              summary.txt (totals, t-gmax, top sites by bytes)
# The folder's path is the last line printed.  Exit status 1 on failure (2 on
# bad usage); 3 when perf cannot record in this environment.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "profile: $*" >&2; exit 1; }
usage() { echo "usage: profile.sh perf|massif|heaptrack|dhat TOOL [ARGS]" >&2; exit 2; }

[ $# -ge 2 ] || usage
MODE=$1 TOOL=$2
shift 2
ARGS="$*"
case $MODE in
profile|perf) MODE=perf ;;
massif|heaptrack|dhat) ;;
*) echo "profile: unknown mode '$MODE' (perf, massif, heaptrack, dhat)" >&2; usage ;;
esac
case $TOOL in
pchunk|pcompress|pencrypt|phash|pjoin|pinfo) ;;
"") echo "profile: TOOL is missing: make $MODE TOOL=pcompress ARGS=\"--zstd -l 3\"" >&2; exit 2 ;;
pipeline) echo "profile: to profile every stage of a pipeline use 'pipeline --perf DIR process ...'" >&2; exit 2 ;;
*) echo "profile: unknown TOOL '$TOOL' (pchunk pcompress pencrypt phash pjoin pinfo)" >&2; exit 2 ;;
esac

# defaults: enough samples at perf's 4000 Hz, yet quick under valgrind
case $MODE:$TOOL in
massif:*|dhat:*) PROFILE_SIZE=${PROFILE_SIZE:-16M} ;;
*:pcompress) PROFILE_SIZE=${PROFILE_SIZE:-64M} ;;
*) PROFILE_SIZE=${PROFILE_SIZE:-256M} ;;
esac
PROFILE_KIND=${PROFILE_KIND:-text-like}
PROFILE_INPUT=${PROFILE_INPUT:-}
PROFILE_CHUNK=${PROFILE_CHUNK:-}
PROFILE_DIR=${PROFILE_DIR:-$ROOT/profile}
PROFILE_TOP=${PROFILE_TOP:-25}
PROFILE_CALLGRAPH=${PROFILE_CALLGRAPH:-dwarf}
NPM_DIR=${NPM_DIR:-$ROOT/build/npm}
SHM=${SHM:-/dev/shm}
PFS_BIN=${PFS_BIN:-$ROOT/build/release/bin}
D3FG=d3-flame-graph@4.1.3   # 5.x no longer ships the HTML template

# --- tools ----------------------------------------------------------------
need_cmds() {
	case $MODE in
	perf) echo perf npm ;;
	massif) echo valgrind ms_print ;;
	heaptrack) echo heaptrack heaptrack_print ;;
	dhat) echo valgrind ;;
	esac
}
missing=
for c in $(need_cmds); do command -v "$c" >/dev/null 2>&1 || missing="$missing $c"; done
if [ -n "$missing" ]; then
	[ "${PROFILE_NODEPS:-}" != 1 ] || die "missing:$missing (sh tests/deps.sh profile installs them)"
	sh "$ROOT/tests/deps.sh" profile || die "missing:$missing"
fi
[ -x "$PFS_BIN/$TOOL" ] || die "$PFS_BIN/$TOOL missing: run make (or set PFS_BIN)"
[ -x "$PFS_BIN/pchunk" ] || die "$PFS_BIN/pchunk missing: run make (or set PFS_BIN)"
GEN=$PFS_BIN/gen
[ -x "$GEN" ] || GEN=$ROOT/testdata/gen
export PATH="$PFS_BIN:$PATH"
export PFS_STATS= LC_ALL=C

# --- the output folder and the input -------------------------------------------------
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=$PROFILE_DIR/$TOOL-$MODE-$STAMP
n=1
while [ -e "$OUT" ]; do OUT=$PROFILE_DIR/$TOOL-$MODE-$STAMP.$n; n=$((n + 1)); done
mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)
[ -d "$SHM" ] && [ -w "$SHM" ] || SHM=${TMPDIR:-/tmp}
WORK=$(mktemp -d "$SHM/pfs-profile.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

# split ARGS into words without globbing; find what decides the input.
# FWD: the words of the forward run that makes an inverse stage's input (ARGS
# without -d/--check); RUN: the words of the profiled run, without the
# options that only the forward run takes (the inverse reads them from the
# stream: pcompress -l/--ultra, pencrypt --cipher/--hide-name/--kdf-*).
set -f
# shellcheck disable=SC2206
WORDS=($ARGS)
set +f
INVERSE= HASKEY= FWD=() RUN=() FWDONLY=()
nw=${#WORDS[@]}
for ((i = 0; i < nw; i++)); do
	w=${WORDS[$i]}
	case $TOOL:$w in
	*:-d|*:--decompress|*:--decrypt|phash:-c|phash:--check)
		INVERSE=$w; RUN+=("$w"); continue ;;
	*:--key-file|*:--raw-key-file|*:--password-file|*:--password-fd) HASKEY=1 ;;
	*:--key-file=*|*:--raw-key-file=*|*:--password-file=*|*:--password-fd=*) HASKEY=1 ;;
	pcompress:-l|pcompress:--level|pencrypt:--cipher|pencrypt:--kdf-time|pencrypt:--kdf-memory)
		FWDONLY+=("$w")
		if [ $((i + 1)) -lt "$nw" ]; then
			i=$((i + 1)); FWD+=("$w" "${WORDS[$i]}"); FWDONLY+=("${WORDS[$i]}")
		else
			FWD+=("$w")
		fi
		continue ;;
	pcompress:-l?*|pcompress:--level=*|pcompress:--ultra|pencrypt:--cipher=*|\
	pencrypt:--kdf-time=*|pencrypt:--kdf-memory=*|pencrypt:--hide-name)
		FWD+=("$w"); FWDONLY+=("$w"); continue ;;
	esac
	FWD+=("$w"); RUN+=("$w")
done
if [ -n "$INVERSE" ]; then
	WORDS=(${RUN[@]+"${RUN[@]}"})
	[ ${#FWDONLY[@]} -eq 0 ] ||
		echo "note: '${FWDONLY[*]}' goes to the forward run that makes the input of $TOOL $INVERSE"
fi
if [ "$TOOL" = pencrypt ] && [ -z "$HASKEY" ]; then
	rm -f "$OUT/key"
	pencrypt --keygen -o "$OUT/key" || die "pencrypt --keygen failed"
	WORDS+=(--key-file "$OUT/key")
	FWD+=(--key-file "$OUT/key")
fi

if [ -n "$PROFILE_INPUT" ]; then
	[ -r "$PROFILE_INPUT" ] || die "PROFILE_INPUT=$PROFILE_INPUT is not readable"
	RAW=$PROFILE_INPUT
	INDESC="$PROFILE_INPUT ($(stat -c %s "$PROFILE_INPUT") bytes)"
else
	RAW=$WORK/$PROFILE_KIND.raw
	"$GEN" "$PROFILE_KIND" "$PROFILE_SIZE" > "$RAW" || die "testdata/gen $PROFILE_KIND $PROFILE_SIZE failed"
	INDESC="testdata/gen $PROFILE_KIND $PROFILE_SIZE ($(stat -c %s "$RAW") bytes)"
fi
CHUNKOPT=()
[ -z "$PROFILE_CHUNK" ] || CHUNKOPT=(-s "$PROFILE_CHUNK")

if [ "$TOOL" = pchunk ]; then
	INPUT=/dev/null
	CMD=(pchunk ${WORDS[@]+"${WORDS[@]}"} "$RAW")
	INDESC="$INDESC, as the FILE argument"
else
	INPUT=$WORK/chunked.pfs
	pchunk ${CHUNKOPT[@]+"${CHUNKOPT[@]}"} "$RAW" > "$INPUT" || die "pchunk failed"
	INDESC="$INDESC | pchunk${PROFILE_CHUNK:+ -s $PROFILE_CHUNK}"
	if [ -n "$INVERSE" ]; then
		"$TOOL" ${FWD[@]+"${FWD[@]}"} < "$INPUT" > "$WORK/stage.pfs" 2> "$WORK/fwd.err" ||
			die "preparing the input: $TOOL ${FWD[*]:-} failed: $(tail -n 3 "$WORK/fwd.err")"
		INPUT=$WORK/stage.pfs
		INDESC="$INDESC | $TOOL${FWD[*]:+ ${FWD[*]}}"
	fi
	CMD=("$TOOL" ${WORDS[@]+"${WORDS[@]}"})
fi
cat "$RAW" "$INPUT" > /dev/null

{
	echo "mode:    $MODE"
	if [ "$TOOL" = pchunk ]; then
		echo "command: ${CMD[*]} > /dev/null"
	else
		echo "command: ${CMD[*]} < input > /dev/null"
	fi
	echo "input:   $INDESC"
	echo "binary:  $(command -v "$TOOL")"
	echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/command.txt"
cat "$OUT/command.txt"

# a plain run first: the --stats line, and a failing command fails here
if ! PFS_STATS=1 "${CMD[@]}" < "$INPUT" > /dev/null 2> "$OUT/stats.txt"; then
	cat "$OUT/stats.txt" >&2
	die "${CMD[*]} failed on its input (see above)"
fi
echo "stats:   $(grep ': stats: ' "$OUT/stats.txt" || echo '(no stats line)')"
echo

# --- perf -------------------------------------------------------------------------
perf_event() {
	if [ -n "${PERF_EVENT:-}" ]; then echo "$PERF_EVENT"; return; fi
	# perf falls back to cpu-clock by itself where the CPU has no usable PMU
	# (virtual machines): ask for what it really records
	if perf record -q -e cycles -o "$WORK/probe.data" true > /dev/null 2>&1 &&
	   perf evlist -i "$WORK/probe.data" 2> /dev/null | grep -q '^cycles'; then
		echo cycles
	else
		echo cpu-clock
	fi
}

flame_template() {
	local t=$NPM_DIR/node_modules/d3-flame-graph/dist/templates/d3-flamegraph-base.html
	if [ ! -r "$t" ]; then
		mkdir -p "$NPM_DIR"
		npm install --prefix "$NPM_DIR" --no-audit --no-fund --no-save --loglevel=error \
		    "$D3FG" > "$WORK/npm.log" 2>&1 || { cat "$WORK/npm.log" >&2; return 1; }
	fi
	[ -r "$t" ] && echo "$t"
}

run_perf() {
	local ev cg=(-g) tmpl
	ev=$(perf_event)
	if ! perf record -q -e "$ev" -o "$WORK/probe2.data" true > "$WORK/probe.err" 2>&1; then
		cat "$WORK/probe.err" >&2
		echo "profile: perf cannot record here (perf_event_paranoid is" \
		     "$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo '?'));" \
		     "as root: sysctl kernel.perf_event_paranoid=1" >&2
		exit 3
	fi
	case $PROFILE_CALLGRAPH in
	dwarf) cg=(--call-graph dwarf) ;;
	fp) cg=(-g) ;;
	*) die "PROFILE_CALLGRAPH must be dwarf or fp" ;;
	esac
	echo "perf record -e $ev ${cg[*]} -- ${CMD[*]}" >> "$OUT/command.txt"
	perf record -q -e "$ev" "${cg[@]}" -o "$OUT/perf.data" -- "${CMD[@]}" \
	    < "$INPUT" > /dev/null 2> "$OUT/perf-record.txt" ||
		{ cat "$OUT/perf-record.txt" >&2; die "perf record failed"; }
	perf report -i "$OUT/perf.data" --stdio --no-children -g none \
	    --percent-limit 0.5 > "$OUT/top.txt" 2> /dev/null || die "perf report failed"
	perf report -i "$OUT/perf.data" --stdio --no-children \
	    > "$OUT/report.txt" 2> /dev/null || die "perf report failed"
	# inclusive time per function: names the library entry points and our
	# callers even where a stripped library leaves its leaves as addresses
	perf report -i "$OUT/perf.data" --stdio --children -g none --sort sym \
	    --percent-limit 2 > "$OUT/children.txt" 2> /dev/null || die "perf report failed"
	# sed, not head: under pipefail a writer that head has left behind
	# dies of SIGPIPE and fails the script now and then
	ev=$(perf evlist -i "$OUT/perf.data" 2> /dev/null | sed -n 1p)
	# perf script report takes perf.data from the current directory
	(cd "$OUT" && perf script report stackcollapse > folded.txt 2> /dev/null) ||
		echo "profile: folded stacks failed (perf built without python?)" >&2
	# the Firefox Profiler imports perf script's text as it is (with the
	# pid: -F +pid): profiler.firefox.com, "Load a profile from file"
	perf script -i "$OUT/perf.data" -F +pid > "$OUT/profile.perf.txt" 2> /dev/null ||
		die "perf script failed"
	if tmpl=$(flame_template); then
		(cd "$OUT" && perf script report flamegraph --template "$tmpl" \
		    -o flame.html < /dev/null > /dev/null 2> flame.err) &&
			rm -f "$OUT/flame.err" ||
			echo "profile: flame graph failed: $(cat "$OUT/flame.err")" >&2
	else
		echo "profile: no flame graph: 'npm install $D3FG' failed" >&2
	fi
	echo "== perf report --stdio --no-children -g none (self time; top.txt)"
	grep -m 1 '^# Samples' "$OUT/top.txt" | sed 's/^# //' || true
	# (|| true: a report with no line left is not an error)
	grep -v '^#' "$OUT/top.txt" | grep -v '^$' | sed -n "1,${PROFILE_TOP}p" || true
	echo
	echo "== perf report --stdio --children --sort sym (time including callees; children.txt)"
	grep -v '^#' "$OUT/children.txt" | grep -v '^$' | sed -n 1,12p || true
	echo
	echo "call graphs: report.txt   folded stacks: folded.txt   flame graph: flame.html"
	echo "Firefox Profiler: profile.perf.txt (profiler.firefox.com: Load a profile from file)"
	echo "browse: perf report -i $OUT/perf.data"
}

# --- massif -------------------------------------------------------------------------
run_massif() {
	valgrind --tool=massif --massif-out-file="$OUT/massif.out" -- "${CMD[@]}" \
	    < "$INPUT" > /dev/null 2> "$OUT/valgrind.txt" ||
		{ tail -n 20 "$OUT/valgrind.txt" >&2; die "valgrind --tool=massif failed"; }
	ms_print "$OUT/massif.out" > "$OUT/ms_print.txt" || die "ms_print failed"
	# the peak snapshot: heap = useful + extra; its tree, three levels deep
	awk -v top="$PROFILE_TOP" '
	/^snapshot=/ { snap = substr($0, 10) }
	/^mem_heap_B=/ { h = substr($0, 12) }
	/^mem_heap_extra_B=/ { x = substr($0, 18) }
	/^heap_tree=peak/ { peak = 1; ph = h; px = x; ps = snap; next }
	/^heap_tree=/ { peak = 0 }
	/^snapshot=/ { peak = 0 }
	peak && /^ *n[0-9]+:/ {
		match($0, /^ */); d = RLENGTH
		if (d <= 2 && nl < top) { tree[++nl] = $0 }
	}
	END {
		if (ps == "") { print "no peak snapshot (the program allocated nothing?)"; exit }
		printf "peak heap: %d bytes (%.1f MiB): useful %d + allocator overhead %d, snapshot %s\n",
		    ph + px, (ph + px) / 1048576, ph, px, ps
		print "allocation tree at the peak (bytes, site), two levels:"
		for (i = 1; i <= nl; i++) print "  " tree[i]
	}' "$OUT/massif.out" > "$OUT/summary.txt"
	echo "== massif (ms_print.txt has the graph over time and every snapshot)"
	cat "$OUT/summary.txt"
	sed -n '/^    MB$/,/^Number of snapshots/p; /^    KB$/,/^Number of snapshots/p' "$OUT/ms_print.txt" | sed -n 1,26p
}

# --- heaptrack -----------------------------------------------------------------------
run_heaptrack() {
	local f g
	heaptrack -o "$OUT/heaptrack" "${CMD[@]}" < "$INPUT" > "$OUT/heaptrack.log" 2>&1 ||
		{ tail -n 20 "$OUT/heaptrack.log" >&2; die "heaptrack failed"; }
	f=
	for g in "$OUT"/heaptrack.*zst "$OUT"/heaptrack.*gz; do
		[ -f "$g" ] && { f=$g; break; }
	done
	[ -n "$f" ] || die "heaptrack wrote no data file (see $OUT/heaptrack.log)"
	heaptrack_print -f "$f" -n 10 -s 3 > "$OUT/heaptrack_print.txt" 2>&1 ||
		die "heaptrack_print failed"
	{
		grep -E '^(total runtime|calls to allocation functions|temporary memory allocations|peak heap memory consumption|peak RSS|total memory leaked)' \
		    "$OUT/heaptrack_print.txt"
		echo
		echo "most calls to allocation functions:"
		awk '/^MOST CALLS TO ALLOCATION FUNCTIONS/ { on = 1; next }
		     on && /^[A-Z][A-Z ]+$/ { exit }
		     on && /^[0-9]/ { n++; if (n > 5) exit; print "  " $0; getline; print "  " $0 }' \
		    "$OUT/heaptrack_print.txt"
		echo "peak memory consumers:"
		awk '/^PEAK MEMORY CONSUMERS/ { on = 1; next }
		     on && /^[A-Z][A-Z ]+$/ { exit }
		     on && /^[0-9]/ { n++; if (n > 5) exit; print "  " $0; getline; print "  " $0 }' \
		    "$OUT/heaptrack_print.txt"
	} > "$OUT/summary.txt"
	echo "== heaptrack (heaptrack_print.txt has every site; heaptrack_gui $f)"
	cat "$OUT/summary.txt"
}

# --- dhat -------------------------------------------------------------------------------
run_dhat() {
	valgrind --tool=dhat --dhat-out-file="$OUT/dhat.json" -- "${CMD[@]}" \
	    < "$INPUT" > /dev/null 2> "$OUT/valgrind.txt" ||
		{ tail -n 20 "$OUT/valgrind.txt" >&2; die "valgrind --tool=dhat failed"; }
	{
		sed -n 's/^==[0-9]*== \(Total:\|At t-gmax:\|At t-end:\|Reads:\|Writes:\)/\1/p' "$OUT/valgrind.txt"
		if command -v node > /dev/null 2>&1; then
			echo
			echo "top allocation sites by total bytes (bytes, blocks, max live; site):"
			node -e '
			const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
			const skip = /vgpreload_|vg_replace_malloc|^\[root\]/;
			d.pps.sort((a, b) => b.tb - a.tb).slice(0, 8).forEach(p => {
				const fr = p.fs.map(i => d.ftbl[i]).filter(s => !skip.test(s))
				    .slice(0, 3).map(s => s.replace(/^0x[0-9A-F]+: /, ""));
				console.log(`  ${p.tb} B in ${p.tbk} blocks, max ${p.mb} B: ${fr.join(" < ")}`);
			});' "$OUT/dhat.json"
		fi
	} > "$OUT/summary.txt"
	echo "== DHAT (open dhat.json in /usr/libexec/valgrind/dh_view.html)"
	cat "$OUT/summary.txt"
}

case $MODE in
perf) run_perf ;;
massif) run_massif ;;
heaptrack) run_heaptrack ;;
dhat) run_dhat ;;
esac
echo
echo "profile: $OUT"
