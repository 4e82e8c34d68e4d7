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
# the index, ranges and resume (the stream is a file: vg's stdin is unused)
vg pchunk-range in.bin r.pfs pchunk -s 256K --range 300000:700000 in.bin
vg pinfo-chunks e.pfs chunks.txt pinfo --chunks e.pfs
vg pencrypt-d-range e.pfs rz.pfs pencrypt -d --key-file k --range 1M:600K e.pfs
vg pjoin-range s2.pfs r.bin pjoin --range 1M:600K s2.pfs
cmp r.bin <(tail -c +$((1048576 + 1)) in.bin | head -c 614400)
head -c 1000000 s2.pfs > part.pfs
pjoin -o res.bin --resume part.pfs 2>/dev/null || true
vg pjoin-resume s2.pfs /dev/null pjoin -o res.bin --resume s2.pfs
cmp in.bin res.bin
head -c 1500000 e.pfs > cont.pfs
pchunk -s 256K --range 786432: < in.bin | phash -a sha256 | pcompress --zstd > tail.pfs
vg pencrypt-continue tail.pfs /dev/null pencrypt --key-file k --continue cont.pfs
# recipients: identities, X25519 stanzas, rekeying, parts restored in place
# (key generation draws from libgcrypt's GCRY_VERY_STRONG_RANDOM pool,
# which it never frees: not run under memcheck, as --keygen is not)
pencrypt --keygen-identity -q -o id
pencrypt --keygen-identity -q -o id2
vg recipient-of /dev/null r.txt pencrypt --recipient-of id
pencrypt --recipient-of id2 >> r.txt
vg pencrypt-recipients z.pfs er.pfs pencrypt -R r.txt --key-file k -T 2
vg pencrypt-rekey er.pfs ek.pfs pencrypt --rekey -i id -r "$(tail -n 1 r.txt)" --new-key-file k
vg pencrypt-d-identity ek.pfs z4.pfs pencrypt -d -i id2 -T 2
cmp z2.pfs z4.pfs
vg pinfo-identity er.pfs /dev/null pinfo -i id er.pfs
for i in 1 2 3; do pchunk -s 256K --part "$i/3" in.bin > "p$i.pfs"; done
vg pjoin-into p2.pfs /dev/null pjoin --into joined.bin
pjoin --into joined.bin p1.pfs
pjoin --into joined.bin p3.pfs
vg pjoin-commit /dev/null /dev/null pjoin --commit joined.bin
cmp in.bin joined.bin
echo "memcheck: all programs clean"
