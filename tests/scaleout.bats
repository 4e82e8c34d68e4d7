#!/usr/bin/env bats
# Scale-out on GNU parallel (docs/scale-out.md): the recipes run the real
# GNU parallel through its remote code path.  Four "hosts" h1..h4 are
# reached through tests/fake-ssh, which stands in for ssh: it runs the
# command with bash on this machine, in hosts/HOST (that host's login
# directory), so that --transferfile, --return, --basefile and --cleanup
# really copy files in and out with rsync -e fake-ssh, as with real hosts.

load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	export FAKE_SSH_ROOT="$BATS_TEST_TMPDIR/hosts"
	mkdir hosts
	SSH="$BATS_TEST_DIRNAME/fake-ssh"
	HOSTS=1/h1,1/h2,1/h3,1/h4
	# the recipes' rsync options: parallel's default -rlDzR plus times
	# and permissions (HEAD records both), without -z (pfs compresses),
	# and --old-args: parallel quotes remote names itself, which rsync
	# 3.2.4 and later would quote again (names with spaces)
	RSYNC="-rlDRtp --old-args"
}

teardown() {
	# a 1 GiB test's files on /dev/shm, also when it failed
	[ -z "${W:-}" ] || rm -rf "$W"
}

# many_files: data/ with files of each kind, one in a subdirectory, one
# empty, one with a space in its name
many_files() {
	mkdir -p data/sub
	gen text-like 300K 1 > data/a.txt
	gen random 100K 2 > data/b.bin
	gen mixed 200K 3 > "data/c d.bin"
	gen zeros 64K > data/sub/z.bin
	: > data/sub/empty
	gen text-like 50K 4 > data/sub/e.txt
	chmod 600 data/b.bin
	# whole seconds: parallel runs rsync --protocol 30, which keeps no
	# nanoseconds, so a remote HEAD records mtimes in whole seconds
	find data -type f -exec touch -d '2024-02-29 12:34:56' {} +
	touch -d '2025-01-02 03:04:05' data/a.txt
	find data -type f | sort > list
}

# no_remote_files: every host's login directory is empty (--cleanup)
no_remote_files() {
	local left
	left=$(find hosts -mindepth 2)
	[ -z "$left" ] || { echo "left on the hosts:"; echo "$left"; return 1; }
}

# hosts_used JOBLOG: how many distinct hosts ran a job
hosts_used() {
	awk -F'\t' 'NR > 1 { print $2 }' "$1" | sort -u | wc -l
}

@test "fake-ssh: runs the command with bash in the host's login directory, status and streams passed" {
	run -0 "$SSH" -o BatchMode=yes -l me h2 -- 'pwd; echo "$HOME"; cat'  <<< in
	assert_output "$FAKE_SSH_ROOT/h2
$FAKE_SSH_ROOT/h2
in"
	run -3 "$SSH" -p 22 me@h3 exit 3
	assert_dir_exists hosts/h3
	run -255 --separate-stderr "$SSH" ../x true
	assert_equal "$stderr" "fake-ssh: ../x: not a host name"
	# SHELL is the login shell, as sshd sets it, even when the caller
	# has none (cron, CI): GNU parallel runs remote jobs with it
	run -0 env -u SHELL "$SSH" h1 'echo "$SHELL"'
	assert_output "$(getent passwd "$(id -u)" | cut -d: -f7)"
}

@test "many files: process on 4 hosts (--transferfile, --return, --cleanup), then restore: byte-identical, hosts left empty" {
	many_files
	# the recipe of docs/scale-out.md, "Many files": process
	parallel --ssh "$SSH" -S "$HOSTS" --rsync-opts "$RSYNC" --joblog process.log \
		--trc {}.pfs pipeline process -q {} :::: list
	[ "$(hosts_used process.log)" -eq 4 ]
	no_remote_files
	# the same stream a local run makes, byte for byte (mode, mtime, name)
	while read -r f; do
		pipeline process -q -o local.pfs "$f"
		cmp local.pfs "$f.pfs"
		rm local.pfs
	done < list
	# restore, in a directory without the originals: rsync --return
	# would replace a local file of that name
	while read -r f; do
		mkdir -p "back/${f%/*}"
		mv "$f.pfs" "back/$f.pfs"
	done < list
	cd back
	find data -name '*.pfs' | sort > list
	[ "$(wc -l < list)" -eq 6 ]
	parallel --ssh "$SSH" -S "$HOSTS" --rsync-opts "$RSYNC" --joblog restore.log \
		--trc {.} pipeline restore -q {} :::: list
	[ "$(hosts_used restore.log)" -eq 4 ]
	cd ..
	no_remote_files
	while read -r f; do
		cmp "$f" "back/$f"
		[ "$(stat -c %a:%Y "$f")" = "$(stat -c %a:%Y "back/$f")" ]
	done < list
}

@test "many files: encrypted on 4 hosts with the key file shipped once per host (--basefile)" {
	many_files
	pencrypt --keygen -o k
	parallel --ssh "$SSH" -S "$HOSTS" --rsync-opts "$RSYNC" --basefile k \
		--trc {}.pfs pipeline process -q --encrypt --key-file k {} :::: list
	no_remote_files
	mkdir back
	while read -r f; do
		[ "$(pinfo --json "$f.pfs" | grep -c aes-256-gcm)" -ge 1 ]
		mv "$f.pfs" "back/$(basename "$f").pfs"
	done < list
	cp k back/
	(cd back && ls *.pfs > list &&
	 parallel --ssh "$SSH" -S "$HOSTS" --rsync-opts "$RSYNC" --basefile k \
		--trc {.} pipeline restore -q --key-file k {} :::: list)
	no_remote_files
	while read -r f; do
		cmp "$f" "back/$(basename "$f")"
	done < list
}

@test "many files: a damaged stream fails its job only; nothing is returned for it and the hosts are cleaned" {
	many_files
	parallel --ssh "$SSH" -S "$HOSTS" --rsync-opts "$RSYNC" \
		--trc {}.pfs pipeline process -q {} :::: list
	mkdir back
	while read -r f; do mv "$f.pfs" "back/$(basename "$f").pfs"; done < list
	flip_byte back/a.txt.pfs 200
	cd back
	ls *.pfs > list
	run -1 --separate-stderr parallel --ssh "$SSH" -S "$HOSTS" --rsync-opts "$RSYNC" \
		--trc {.} pipeline restore -q {} :::: list
	stderr_has "phash: a.txt.pfs: chunk 0 (bytes 0-307199): xxh3 digest mismatch"
	assert_file_not_exists a.txt
	cd ..
	no_remote_files
	for f in b.bin "c d.bin" z.bin empty e.txt; do
		cmp "$(grep -F "/$f" list)" "back/$f"
	done
}

# needs_part: skip unless pchunk cuts parts and pjoin joins them (branch
# partjoin)
needs_part() {
	pchunk --help | grep -q -- '--part I/N' &&
		pjoin --help | grep -q -- 'PART' ||
		skip "needs pchunk --part and pjoin -o OUT PART... (branch partjoin)"
}

# big_file: big.bin, 24 chunks of 64 KiB (the last one short): parts of
# 6 chunks, cut the same way by --part I/4 and by --pipepart --block 384K
big_file() {
	gen mixed $((23 * 65536 + 1000)) 7 > big.bin
	chmod 640 big.bin
}

@test "one file, no shared storage: --pipepart sends each host its part, parts returned, joined: byte-identical" {
	needs_part
	big_file
	# the recipe of docs/scale-out.md, "One file, no shared storage"
	B=$((6 * 65536))
	id=$(stat -c %s:%.9Y:%a:%n big.bin)
	parallel --ssh "$SSH" -S "$HOSTS" --rsync-opts "$RSYNC" --joblog parts.log \
		--pipepart -a big.bin --recend '' --block "$B" \
		--return big.bin.{#}.pfs --cleanup \
		"pchunk -s 64K --part {#} --block $B --source $(printf %q "$id") | pcompress | phash > big.bin.{#}.pfs"
	[ "$(hosts_used parts.log)" -eq 4 ]
	no_remote_files
	ls big.bin.*.pfs > parts
	[ "$(wc -l < parts)" -eq 4 ]
	for i in 1 2 3 4; do phash -c big.bin.$i.pfs | pcompress -d > big.bin.$i.raw; done
	pjoin -o copy.bin big.bin.{1,2,3,4}.raw
	cmp big.bin copy.bin
	# the parts restored on the hosts instead, then joined here
	rm big.bin.*.raw copy.bin
	parallel --ssh "$SSH" -S "$HOSTS" --rsync-opts "$RSYNC" \
		--trc {.}.raw "phash -c {} | pcompress -d > {.}.raw" ::: big.bin.{1,2,3,4}.pfs
	no_remote_files
	pjoin -o copy.bin big.bin.{1,2,3,4}.raw
	cmp big.bin copy.bin
	# each part is the one pchunk --part I/4 makes from the file itself
	for i in 1 2 3 4; do
		pchunk -s 64K --part "$i/4" big.bin | pcompress | phash | cmp - "big.bin.$i.pfs"
	done
}

@test "one file, shared storage: each host cuts its own part of the same path, parts joined: byte-identical" {
	needs_part
	mkdir shared
	(cd shared && big_file)
	S=$PWD/shared
	# the recipe of docs/scale-out.md, "One file, shared storage"
	parallel --ssh "$SSH" -S "$HOSTS" --joblog parts.log \
		"pchunk -s 64K --part {}/4 $S/big.bin | pcompress | phash > $S/big.bin.{}.pfs" ::: 1 2 3 4
	[ "$(hosts_used parts.log)" -eq 4 ]
	parallel --ssh "$SSH" -S "$HOSTS" \
		"phash -c $S/big.bin.{}.pfs | pcompress -d > $S/big.bin.{}.raw" ::: 1 2 3 4
	pjoin -o "$S/copy.bin" "$S"/big.bin.{1,2,3,4}.raw
	cmp shared/big.bin shared/copy.bin
	no_remote_files
}

@test "one file, shared storage, restored in place: each host writes its part into one file, --commit puts it there" {
	mkdir shared
	(cd shared && big_file)
	S=$PWD/shared
	for i in 1 2 3 4; do
		pchunk -s 64K --part "$i/4" shared/big.bin | pcompress | phash > "shared/big.bin.$i.pfs"
	done
	# the recipe of docs/scale-out.md, "Restoring in place": each host
	# restores and verifies its part into shared/copy.bin.pfs-join
	parallel --ssh "$SSH" -S "$HOSTS" --joblog join.log \
		"phash -c $S/big.bin.{}.pfs | pcompress -d | pjoin --into $S/copy.bin" ::: 4 2 3 1
	[ "$(hosts_used join.log)" -eq 4 ]
	# nothing under the target name before the commit
	assert_file_not_exists shared/copy.bin
	[ "$(ls shared/copy.bin.pfs-join.d | wc -l)" -eq 4 ]
	pjoin --commit shared/copy.bin
	cmp shared/big.bin shared/copy.bin
	[ "$(stat -c '%a %.9Y' shared/copy.bin)" = "$(stat -c '%a %.9Y' shared/big.bin)" ]
	assert_file_not_exists shared/copy.bin.pfs-join
	assert_file_not_exists shared/copy.bin.pfs-join.d
	no_remote_files
}

# one_gib DIR: DIR/big.bin, a 1 GiB file, sparse but for 1 MiB of random
# bytes at 6 places (in every part, across part boundaries), on /dev/shm
one_gib() {
	local at
	truncate -s 1G "$1/big.bin"
	for at in 0 100 255 256 700 1023; do
		gen random 1M "$at" | dd of="$1/big.bin" bs=1M seek="$at" conv=notrunc status=none
	done
}

@test "one file of 1 GiB in 4 parts, without and with shared storage: byte-identical round trips" {
	needs_part
	W=$(mktemp -d /dev/shm/pfs-scaleout.XXXXXX)
	one_gib "$W"
	# no shared storage: --pipepart sends each host its 256 MiB
	id=$(stat -c %s:%.9Y:%a:%n "$W/big.bin")
	parallel --ssh "$SSH" -S "$HOSTS" --rsync-opts "$RSYNC" --joblog parts.log \
		--pipepart -a "$W/big.bin" --recend '' --block 256M \
		--return big.bin.{#}.pfs --cleanup \
		"pchunk -s 8M --part {#} --block 256M --source $(printf %q "$id") | pcompress --lz4 | phash -a xxh3 > big.bin.{#}.pfs"
	[ "$(hosts_used parts.log)" -eq 4 ]
	no_remote_files
	for i in 1 2 3 4; do phash -c big.bin.$i.pfs | pcompress -d > "$W/big.bin.$i.raw"; done
	pjoin -o "$W/copy.bin" "$W"/big.bin.{3,1,4,2}.raw
	cmp "$W/big.bin" "$W/copy.bin"
	rm -f "$W"/*.raw "$W/copy.bin"
	# shared storage: each host cuts its part of the one path and
	# restores it into the one output
	parallel --ssh "$SSH" -S "$HOSTS" \
		"pchunk -s 8M --part {}/4 $W/big.bin | pcompress --lz4 | phash -a xxh3 > $W/big.bin.{}.pfs" ::: 1 2 3 4
	parallel --ssh "$SSH" -S "$HOSTS" \
		"phash -c $W/big.bin.{}.pfs | pcompress -d | pjoin --into $W/copy.bin" ::: 1 2 3 4
	pjoin --commit "$W/copy.bin"
	cmp "$W/big.bin" "$W/copy.bin"
	rm -rf "$W"
}

@test "one file in parts: encrypted on 4 hosts with one key, joined after decryption" {
	needs_part
	big_file
	pencrypt --keygen -o k
	parallel --ssh "$SSH" -S "$HOSTS" --rsync-opts "$RSYNC" --basefile k \
		--return big.bin.{}.pfs --cleanup \
		"pchunk -s 64K --part {}/4 $PWD/big.bin | pcompress | pencrypt --key-file k | phash > big.bin.{}.pfs" \
		::: 1 2 3 4
	no_remote_files
	for i in 1 2 3 4; do
		phash -c "big.bin.$i.pfs" | pencrypt -d --key-file k | pcompress -d > "big.bin.$i.raw"
	done
	pjoin -o copy.bin big.bin.{4,2,1,3}.raw
	cmp big.bin copy.bin
}

@test "one file in parts: a missing, duplicated or foreign part is an error and no output appears" {
	needs_part
	big_file
	for i in 1 2 3 4; do
		pchunk -s 64K --part "$i/4" big.bin > "p$i.raw"
	done
	# another run: the same file, touched
	touch -d '2001-02-03 04:05:06' big.bin
	pchunk -s 64K --part 3/4 big.bin > run2.raw
	# another file
	gen mixed $((23 * 65536 + 1000)) 8 > other.bin
	pchunk -s 64K --part 3/4 other.bin > other.raw

	run -1 --separate-stderr pjoin -o copy.bin p1.raw p2.raw p4.raw
	assert_equal "$stderr" "pjoin: missing bytes 786432..1179647 (chunks 12..17): a part is missing"
	assert_file_not_exists copy.bin
	run -1 --separate-stderr pjoin -o copy.bin p1.raw p2.raw p2.raw p3.raw p4.raw
	assert_equal "$stderr" "pjoin: p2.raw: given twice"
	assert_file_not_exists copy.bin
	run -1 --separate-stderr pjoin -o copy.bin p1.raw p2.raw run2.raw p4.raw
	assert_equal "$stderr" "pjoin: run2.raw: a part of another source or stage stack than p1.raw"
	assert_file_not_exists copy.bin
	run -1 --separate-stderr pjoin -o copy.bin p1.raw p2.raw other.raw p4.raw
	assert_equal "$stderr" "pjoin: other.raw: a part of another source or stage stack than p1.raw"
	assert_file_not_exists copy.bin
	# the operands' order does not matter: a part knows its place
	pjoin -o copy.bin p3.raw p1.raw p4.raw p2.raw
	gen mixed $((23 * 65536 + 1000)) 7 | cmp - copy.bin
}

@test "one file, --pipepart: a --block that is not parallel's fails every job on its host, and no part joins" {
	needs_part
	big_file
	B=$((6 * 65536))
	id=$(stat -c %s:%.9Y:%a:%n big.bin)
	run -4 --separate-stderr parallel --ssh "$SSH" -S "$HOSTS" --rsync-opts "$RSYNC" \
		--pipepart -a big.bin --recend '' --block "$B" \
		--return big.bin.{#}.pfs --cleanup \
		"pchunk -s 64K --part {#} --block $((5 * 65536)) --source $(printf %q "$id") | pcompress | phash > big.bin.{#}.pfs"
	stderr_has "pchunk: stdin: more bytes than part 1 of 327680 bytes (--block 327680 of a 1508328-byte source)"
	no_remote_files
	# what came back of a failed job is not a part
	for i in 1 2 3 4; do
		run -1 bash -c "phash -c big.bin.$i.pfs > /dev/null"
	done
}

@test "docs/k8s-indexed-job.yaml: an Indexed Job whose pod k runs part k+1 of N, N its completions, and a join" {
	python3 -c 'import yaml' 2> /dev/null || skip "python3 yaml (PyYAML) is missing"
	run -0 python3 -c '
import sys, yaml
parts, join = yaml.safe_load_all(open(sys.argv[1]))
spec = parts["spec"]
assert parts["kind"] == "Job" and spec["completionMode"] == "Indexed", spec
c = spec["template"]["spec"]["containers"][0]
env = {e["name"]: e["value"] for e in c["env"]}
assert int(env["PARTS"]) == spec["completions"], (env, spec)
script = c["args"][0]
assert "i=$((JOB_COMPLETION_INDEX + 1))" in script, script
assert "pchunk --part \"$i/$PARTS\"" in script, script
js = join["spec"]["template"]["spec"]
assert "pjoin -o" in js["containers"][0]["args"][0]
assert parts["spec"]["template"]["spec"]["volumes"] == js["volumes"]
print("ok")
' "$ROOT/docs/k8s-indexed-job.yaml"
	assert_output ok
}
