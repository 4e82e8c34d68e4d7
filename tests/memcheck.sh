#!/usr/bin/env bash
# memcheck.sh - every program, both directions, under valgrind memcheck on a
# small input.  Fails unless every run reports 0 errors and 0 definitely
# lost bytes.  Run by `make memcheck` with PFS_BIN set.
set -eu
PATH="$PFS_BIN:$PATH"
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/pfs-memcheck.XXXXXX)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
"$root/testdata/gen" mixed 3M > in.bin
pencrypt --keygen -o k
printf 'secret\n' > pw
vg() {	# vg NAME IN OUT CMD...: one program under memcheck
	local name=$1 in=$2 out=$3; shift 3
	if ! valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite --log-file="vg.$name.log" \
	    "$@" < "$in" > "$out"; then
		echo "memcheck: $name FAILED"; cat "vg.$name.log"; exit 1
	fi
	printf '%-22s %s\n' "$name" "$(grep -E 'ERROR SUMMARY|definitely lost' "vg.$name.log" | sed 's/==[0-9]*== //' | tr '\n' ' ')"
}
vg pchunk in.bin s.pfs pchunk -s 256K
vg phash s.pfs h.pfs phash -a sha256 -T 2
vg pcompress-zstd h.pfs z.pfs pcompress --zstd -T 2
vg pcompress-lz4 h.pfs l.pfs pcompress --lz4 -T 2
vg pcompress-brotli h.pfs b.pfs pcompress --brotli -l 3 -T 2
vg pencrypt z.pfs e.pfs pencrypt --key-file k -T 2
vg pencrypt-password z.pfs ep.pfs pencrypt --password-file pw --kdf-memory 19M --kdf-time 2
vg pinfo e.pfs info.txt pinfo
vg pencrypt-d e.pfs z2.pfs pencrypt -d --key-file k -T 2
vg pencrypt-d-password ep.pfs z3.pfs pencrypt -d --password-file pw
vg pcompress-d z2.pfs h2.pfs pcompress -d -T 2
vg pcompress-d-lz4 l.pfs /dev/null pcompress -d
vg pcompress-d-brotli b.pfs /dev/null pcompress -d
vg phash-check h2.pfs s2.pfs phash --check -T 2
vg phash-sum s2.pfs sum.txt phash --sum
vg pjoin s2.pfs out.bin pjoin -T 2
cmp in.bin out.bin
echo "memcheck: all programs clean"
