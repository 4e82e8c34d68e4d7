#!/bin/sh
# demo.sh - the main job on a generated input: process a file through every
# stage, restore it, check the bytes, and show each stage's --stats line.
# Run by `make demo` with PFS_BIN set to the built tools.
set -eu

PATH="$PFS_BIN:$PATH"
export PATH
size=${DEMO_SIZE:-64M}
dir=$(mktemp -d "${TMPDIR:-/tmp}/pfs-demo.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
root=$(cd "$(dirname "$0")/.." && pwd)

echo "== generating a $size mixed input: $dir/input.bin"
"$root/testdata/gen" mixed "$size" > "$dir/input.bin"
pencrypt --keygen -o "$dir/key"

echo "== process: pchunk | pcompress --zstd | pencrypt | phash > input.pfs"
PFS_STATS=1 sh -c "pchunk '$dir/input.bin' | pcompress --zstd |
	pencrypt --key-file '$dir/key' | phash -a sha256 > '$dir/input.pfs'"

echo "== pinfo input.pfs"
pinfo "$dir/input.pfs"

echo "== restore: phash --check | pencrypt -d | pcompress -d | pjoin -o"
PFS_STATS=1 sh -c "phash --check < '$dir/input.pfs' |
	pencrypt -d --key-file '$dir/key' | pcompress -d |
	pjoin -o '$dir/restored.bin'"

cmp "$dir/input.bin" "$dir/restored.bin"
echo "== restored.bin is identical to input.bin ($(sha256sum < "$dir/input.bin" | cut -c1-16)...)"

echo "== random access: 1 MiB at 75 %, reading only the index and one chunk"
off=$(( $(wc -c < "$dir/input.bin") * 3 / 4 ))
PFS_STATS=1 sh -c "phash --check --range $off:1M '$dir/input.pfs' |
	pencrypt -d --key-file '$dir/key' | pcompress -d > '$dir/part.pfs'" \
	2>&1 | grep '^phash'
pjoin -o "$dir/part.bin" "$dir/part.pfs"
tail -c +$((off + 1)) "$dir/input.bin" | head -c 1048576 | cmp - "$dir/part.bin"
echo "== the 1 MiB from byte $off matches input.bin"
