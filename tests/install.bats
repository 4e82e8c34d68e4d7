#!/usr/bin/env bats
# make install / make uninstall: into a staging directory (DESTDIR), the
# installed programs run from there, and uninstall removes exactly what
# install put there.

load helper

# every test runs make in the same build tree: not in parallel (bats -j)
BATS_NO_PARALLELIZE_WITHIN_FILE=true

# the programs: one per tools/*.c, as the Makefile builds them
progs() {
	local f
	for f in "$ROOT"/tools/*.c; do
		basename "$f" .c
	done
}

# files DIR: every file and symlink under DIR, relative, sorted
files() {
	(cd "$1" && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort)
}

# docs: the documents installed under share/doc/pfs, one per docs/*.md,
# docs/*.yaml (the Kubernetes example of scale-out.md) and docs/*.png (the
# timeline of profiling.md)
docs() {
	local f
	for f in "$ROOT"/docs/*.md "$ROOT"/docs/*.yaml "$ROOT"/docs/*.png; do
		basename "$f"
	done
}

# expected: the files make install must put under PREFIX=/usr
expected() {
	local p
	{
		for p in $(progs); do
			echo "usr/bin/$p"
			echo "usr/share/man/man1/$p.1"
			echo "usr/share/bash-completion/completions/$p"
		done
		echo "usr/share/man/man7/pfs.7"
		for p in $(docs); do
			echo "usr/share/doc/pfs/$p"
		done
		echo "usr/share/bash-completion/completions/pfs"
		echo "usr/share/zsh/site-functions/_pfs"
	} | LC_ALL=C sort
}

# mk ARG...: make -C $ROOT ARG..., which must succeed (its output is
# shown when it does not)
mk() {
	run make -C "$ROOT" "$@"
	assert_success
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	stage=$BATS_TEST_TMPDIR/stage
}

@test "make install puts the programs, man pages, docs and completions in DESTDIR" {
	local p up
	mk install DESTDIR="$stage" PREFIX=/usr
	run -0 files "$stage"
	assert_output "$(expected)"
	for p in $(progs); do
		# programs: executable, and the ones just built
		assert_file_executable "$stage/usr/bin/$p"
		run -0 "$stage/usr/bin/$p" --version
		assert_output --regexp "^$p \(pfs\) [0-9]"
		# man pages: roff made by scdoc from docs/man/$p.1.scd
		up=${p^^}
		run -0 grep -c -e "^\.TH \"$up\" \"1\"" -e '^\.SH NAME$' \
			-e '^\.SH OPTIONS$' "$stage/usr/share/man/man1/$p.1"
		assert_output 3
		# bash completion: under the program's name, for bash-completion's
		# lazy loading, a link to the one file
		run -0 readlink "$stage/usr/share/bash-completion/completions/$p"
		assert_output "pfs"
	done
	# the overview page, section 7
	run -0 grep -c -e '^\.TH "PFS" "7"' -e '^\.SH NAME$' -e '^\.SH SEE ALSO$' \
		"$stage/usr/share/man/man7/pfs.7"
	assert_output 3
	# the documents, as they are in docs/
	for p in $(docs); do
		cmp "$ROOT/docs/$p" "$stage/usr/share/doc/pfs/$p"
		[ "$(stat -c %a "$stage/usr/share/doc/pfs/$p")" = 644 ]
	done
	[ "$(stat -c %a "$stage/usr/bin/pchunk")" = 755 ]
	[ "$(stat -c %a "$stage/usr/share/man/man1/pchunk.1")" = 644 ]
	[ "$(stat -c %a "$stage/usr/share/man/man7/pfs.7")" = 644 ]
	run -0 cmp "$ROOT/completions/pfs.bash" \
		"$stage/usr/share/bash-completion/completions/pfs"
	run -0 cmp "$ROOT/completions/_pfs" "$stage/usr/share/zsh/site-functions/_pfs"
}

@test "the installed man pages and completions work" {
	mk install DESTDIR="$stage" PREFIX=/usr
	if command -v man >/dev/null; then
		run -0 man -M "$stage/usr/share/man" -w pjoin
		assert_output "$stage/usr/share/man/man1/pjoin.1"
		run -0 env MANWIDTH=80 man -l "$stage/usr/share/man/man1/pjoin.1"
		assert_line --regexp '^ +pjoin - reassemble a pfs frame stream'
		run -0 man -M "$stage/usr/share/man" -w 7 pfs
		assert_output "$stage/usr/share/man/man7/pfs.7"
		run -0 env MANWIDTH=80 man -l "$stage/usr/share/man/man7/pfs.7"
		assert_line --regexp '^ +pfs - a streaming file pipeline made of small Unix filters$'
		# the documents it names are where it says, under the prefix
		assert_output --partial "/usr/local/share/doc/pfs/format.md"
	fi
	assert_file_exists "$stage/usr/share/doc/pfs/format.md"
	assert_file_exists "$stage/usr/share/doc/pfs/security.md"
	# the bash file as bash-completion would load it: by the program's name
	run -0 bash --norc -c 'source "$1" && complete -p pipeline' _ \
		"$stage/usr/share/bash-completion/completions/pipeline"
	assert_output "complete -F _pfs_pipeline pipeline"
}

@test "the installed programs run from the staging dir: round trips" {
	mk install DESTDIR="$stage" PREFIX=/usr
	gen text-like 300000 > in.bin
	chmod 640 in.bin
	umask 022    # pjoin -o applies it to the recorded mode
	# only the staging dir: no build tree on PATH
	export PATH="$stage/usr/bin:/usr/bin:/bin"
	run -0 command -v pchunk
	assert_output "$stage/usr/bin/pchunk"
	run -0 bash -o pipefail -c 'pchunk -s 64K in.bin | pjoin -o copy.bin'
	cmp in.bin copy.bin
	run -0 bash -o pipefail -c \
		'pchunk in.bin | pcompress --zstd | phash -a xxh3 > s.pfs'
	run -0 bash -o pipefail -c \
		'phash --check s.pfs | pcompress -d | pjoin > copy2.bin'
	cmp in.bin copy2.bin
	# pipeline finds its stages next to itself
	run -0 env PATH=/usr/bin:/bin "$stage/usr/bin/pipeline" process --lz4 \
		--hash sha256 -o p.pfs in.bin
	run -0 env PATH=/usr/bin:/bin "$stage/usr/bin/pipeline" restore -o copy3.bin p.pfs
	cmp in.bin copy3.bin
	[ "$(stat -c %a copy3.bin)" = 640 ]
}

@test "make uninstall removes exactly what make install put there" {
	local d
	# files that are not ours, in the same directories, stay
	for d in usr/bin usr/share/man/man1 usr/share/man/man7 \
	         usr/share/bash-completion/completions usr/share/zsh/site-functions; do
		mkdir -p "$stage/$d"
		echo other > "$stage/$d/other"
	done
	run -0 files "$stage"
	local before=$output
	mk install DESTDIR="$stage" PREFIX=/usr
	run -0 files "$stage"
	assert_output "$(printf '%s\n' "$before" "$(expected)" | LC_ALL=C sort)"
	mk uninstall DESTDIR="$stage" PREFIX=/usr
	run -0 files "$stage"
	assert_output "$before"
	# share/doc/pfs is ours: gone with its files
	assert_dir_not_exists "$stage/usr/share/doc/pfs"
	# and again: nothing left to remove is not an error
	mk uninstall DESTDIR="$stage" PREFIX=/usr
	rm "$stage"/usr/bin/other "$stage"/usr/share/man/man1/other \
	   "$stage"/usr/share/man/man7/other \
	   "$stage"/usr/share/bash-completion/completions/other \
	   "$stage"/usr/share/zsh/site-functions/other
	run -0 files "$stage"
	assert_output ""
}

@test "install and uninstall follow PREFIX and the directory variables" {
	mk install DESTDIR="$stage" PREFIX=/opt/pfs \
		MANDIR=/opt/pfs/man ZSHCOMPDIR=/opt/pfs/zsh DOCDIR=/opt/pfs/doc
	run -0 files "$stage"
	assert_line "opt/pfs/bin/pjoin"
	assert_line "opt/pfs/man/man1/pjoin.1"
	assert_line "opt/pfs/man/man7/pfs.7"
	assert_line "opt/pfs/doc/format.md"
	assert_line "opt/pfs/share/bash-completion/completions/pjoin"
	assert_line "opt/pfs/zsh/_pfs"
	refute_line --regexp '^usr/'
	mk uninstall DESTDIR="$stage" PREFIX=/opt/pfs \
		MANDIR=/opt/pfs/man ZSHCOMPDIR=/opt/pfs/zsh DOCDIR=/opt/pfs/doc
	run -0 files "$stage"
	assert_output ""
}
