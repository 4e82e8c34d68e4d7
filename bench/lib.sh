# bench/lib.sh - helpers the big-stream benchmarks share (bench/range.sh,
# bench/rekey.sh); sourced, with GEN set to testdata/gen.

# bytes SIZE: K/M/G suffix to a number
bytes() {
	local s=$1
	case $s in
	*K) echo $(( ${s%K} << 10 )) ;; *M) echo $(( ${s%M} << 20 )) ;;
	*G) echo $(( ${s%G} << 30 )) ;; *) echo "$s" ;;
	esac
}

# source_of KIND BYTES > file: "tar", the first BYTES of a tar of /usr made
# on the fly (repeated when /usr is smaller); "text", "random": testdata/gen
source_of() {
	case $1 in
	tar)	while :; do tar -C / -cf - usr 2>/dev/null; done | head -c "$2" ;;
	text)	"$GEN" text-like "$2" ;;
	random)	"$GEN" random "$2" ;;
	esac
}

now() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
