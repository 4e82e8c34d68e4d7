#!/usr/bin/env bats
# The release rule: nothing unverified leaves a stage.  Whatever a program
# writes to stdout before it fails is a byte prefix of what it writes for the
# undamaged stream; damage to a chunk, a DIGEST, END or the INDEX frame is an
# error.
# Damage is put at many offsets of every frame: header, first, middle and
# last payload byte.

load helper

setup_file() {
	# 12 chunks of 64 KiB: each of the 104 damages runs a whole pipeline
	# on it (a 3 MB file in 256 KiB chunks took 103 s, 274 s under ASan;
	# this one 63 s and 127 s)
	cd "$BATS_FILE_TMPDIR"
	gen text-like 768K 7 > f
	pencrypt --keygen > k
	pchunk -s 64K f > c.pfs
	phash < c.pfs > h.pfs                             # hashes only
	pcompress --zstd < c.pfs > z.pfs                  # compressed
	pencrypt --key-file k < z.pfs > e.pfs             # compressed, encrypted
	phash -a xxh3 < e.pfs > all.pfs                   # ... and hashed
	# what each program writes for the undamaged stream
	phash --check h.pfs > want.check
	pcompress -d z.pfs > want.pcompress
	pencrypt -d --key-file k e.pfs > want.pencrypt
}

setup() {
	cd "$BATS_FILE_TMPDIR"
}

# damages FILE: "OFFSET TYPE" for the bytes to flip, four per frame after
# HEAD (header byte 5, first, middle and last payload byte)
damages() {
	frame_offsets "$1" | tail -n +2 | while read -r off type _ len; do
		echo "$((off + 5)) $type"
		[ "$len" -gt 0 ] || continue
		echo "$((off + 32)) $type"
		echo "$((off + 32 + len / 2)) $type"
		echo "$((off + 32 + len - 1)) $type"
	done
}

# released WANT STATUS: out (what the command wrote) is a byte prefix of
# WANT; a damaged chunk, DIGEST, END or INDEX is always found (STATUS 1)
released() {
	local want=$1 status=$2 n
	if [ "$status" -ne 1 ]; then
		echo "exit status $status, not 1"; return 1
	fi
	# cmp -n SIZE-OF-OUT: a longer out has bytes past the end of WANT
	n=$(stat -c %s out)
	if ! cmp -s -n "$n" out "$want"; then
		cmp -n "$n" out "$want" 2>&1 | grep -q EOF &&
			{ echo "wrote $n bytes, more than the true output"; return 1; }
		echo "what was written before the error is not a prefix"
		return 1
	fi
}

# each_damage STREAM WANT CMD [TYPE]: for every damage of STREAM (of its
# frames of TYPE), run CMD (bash, reading d.pfs, writing stdout to out) and
# check the release rule.  The damaged copies are made at once (dmg.OFFSET)
# and CMD reads each in place of d.pfs.
each_damage() {
	local stream=$1 want=$2 cmd=$3 only=${4:-} off type status i
	local -a offs=() types=()
	while read -r off type; do
		[ -z "$only" ] || [ "$type" = "$only" ] || continue
		offs+=("$off") types+=("$type")
	done < <(damages "$stream")
	[ "${#offs[@]}" -gt 0 ] || fail "$stream: no damage of frame type $only"
	flip_copies "$stream" dmg "${offs[@]}"
	for i in "${!offs[@]}"; do
		off=${offs[$i]} type=${types[$i]}
		status=0
		bash -o pipefail -c "${cmd//d.pfs/dmg.$off}" > out 2>/dev/null ||
			status=$?
		released "$want" "$status" ||
			fail "damage at byte $off (frame type $type): see above"
		rm -f "dmg.$off"
	done
	return 0
}

@test "release: the damages cover every frame of the test streams" {
	run -0 damages h.pfs
	assert_equal "${#lines[@]}" 104   # 12 DATA, 12 DIGEST, END and INDEX: 4 each
	# by frame type: DATA, DIGEST, END, INDEX
	assert_equal "$(damages h.pfs | awk '{ n[$2]++ } END { for (t = 2; t <= 5; t++) print t, n[t] }')" "2 48
3 48
4 4
5 4"
	# the INDEX frame is the last one, and its last byte is damaged too
	assert_equal "$(damages h.pfs | tail -n 1)" "$(( $(stat -c %s h.pfs) - 1 )) 5"
}

@test "release: pjoin writes only verified chunks" {
	each_damage h.pfs f 'pjoin d.pfs'
}

@test "release: pjoin -o leaves nothing on damage" {
	local off
	read -r off _ < <(damages h.pfs | sed -n 30p)
	cp h.pfs d.pfs
	flip_byte d.pfs "$off"
	run -1 pjoin -o restored d.pfs
	assert_file_not_exists restored
}

@test "release: phash --check writes only verified chunks" {
	each_damage h.pfs want.check 'phash --check d.pfs'
}

@test "release: pcompress -d writes only chunks that decoded and matched their checksum" {
	each_damage z.pfs want.pcompress 'pcompress -d d.pfs'
}

@test "release: pencrypt -d writes only authenticated chunks" {
	each_damage e.pfs want.pencrypt 'pencrypt -d --key-file k d.pfs'
}

@test "release: phash --check | pjoin writes a prefix of the file" {
	each_damage h.pfs f 'phash --check d.pfs | pjoin'
}

@test "release: a whole restore pipeline writes a prefix of the file" {
	each_damage all.pfs f 'phash --check d.pfs | pencrypt -d --key-file k |
	                       pcompress -d | pjoin'
}

@test "release: a damaged INDEX frame is an error for every program" {
	each_damage h.pfs f 'pjoin d.pfs' 5
	each_damage h.pfs want.check 'phash --check d.pfs' 5
	each_damage z.pfs want.pcompress 'pcompress -d d.pfs' 5
	each_damage e.pfs want.pencrypt 'pencrypt -d --key-file k d.pfs' 5
}

@test "release: a frame between a chunk and its DIGEST is an error before the chunk is written" {
	local o
	# a skippable frame (type 0x80, empty) right after chunk 0
	read -r o _ _ len < <(frame h.pfs 1)
	{ head -c $((o + 32 + len)) h.pfs
	  printf '\200\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0'
	  tail -c +$((o + 32 + len + 1)) h.pfs; } > s.pfs
	reseal s.pfs $((o + 32 + len))
	run -1 --separate-stderr bash -c 'pjoin s.pfs > out'
	assert_equal "$stderr" "pjoin: s.pfs: chunk 0 (bytes 0-65535): sha256 DIGEST frame missing"
	assert_file_empty out
	run -1 --separate-stderr bash -c 'phash --check s.pfs > out'
	assert_equal "$stderr" "phash: s.pfs: chunk 0 (bytes 0-65535): sha256 DIGEST frame missing"
	assert_file_empty out
}

@test "release: the undamaged streams restore byte for byte" {
	run -0 bash -o pipefail -c 'phash --check all.pfs | pencrypt -d --key-file k |
	                            pcompress -d | pjoin | cmp - f'
	run -0 bash -o pipefail -c 'phash --check h.pfs | cmp - want.check'
}
