#!/usr/bin/env bats
# completions and man pages: real bash completion (completions/pfs.bash
# sourced, COMP_WORDS/COMP_CWORD/COMP_LINE/COMP_POINT set, the registered
# function called, COMPREPLY checked), the zsh file's syntax, and every
# program's --help, man page (docs/man) and completions agreeing on its
# options.

load helper

PROGS="pchunk pcompress pencrypt phash pjoin pinfo pipeline"
ALGOS="sha256 sha512 sha3-256 blake2b xxh64 xxh3 xxh128"

setup() {
	cd "$BATS_TEST_TMPDIR"
	# shellcheck source=../completions/pfs.bash
	source "$ROOT/completions/pfs.bash"
}

# comp WORD... : complete the last WORD (may be '') of the command line
# made of the WORDs, as bash does: the function registered with complete -F
# for the first WORD is called with COMP_WORDS, COMP_CWORD, COMP_LINE and
# COMP_POINT set.  A WORD "=" stands for bash's split at "=" (COMP_WORDBREAKS):
# "--algorithm = sh" is the line "--algorithm=sh".  Prints COMPREPLY on one
# line, in order.
comp() {
	local spec fn w prevw='' line=''
	spec=$(complete -p "$1") || return 1
	fn=${spec#*-F }
	fn=${fn%% *}
	for w in "$@"; do
		if [ -z "$line" ]; then
			line=$w
		elif [ "$w" = "=" ] || [ "$prevw" = "=" ]; then
			line+=$w
		else
			line+=" $w"
		fi
		prevw=$w
	done
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMPREPLY=()
	"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	echo "${COMPREPLY[*]}"
}

# comp_sorted WORD... : comp, with COMPREPLY sorted (file names come in
# directory order)
comp_sorted() {
	comp "$@" >/dev/null
	printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | paste -sd ' '
}

# help_long PROG, help_short PROG: the options PROG --help lists in its
# option column (lines "  -x, --long ..." and "      --long ..."; not the
# options of other programs named in the descriptions), sorted
help_opts() {
	"$1" --help |
		grep -oE -- '^(  -[[:alnum:]], |      )--[a-z0-9-]+(\[=[a-z]+\])?( [A-Z]+)?(, --[a-z0-9-]+)*'
}
help_long() {
	help_opts "$1" | grep -oE -- '--[a-z0-9-]+' | LC_ALL=C sort -u
}
help_short() {
	help_opts "$1" | grep -oE -- '^  -[[:alnum:]]' | tr -d ' ' | LC_ALL=C sort -u
}

# man_long PROG, man_short PROG: the options defined in PROG's man page
# (the definition lines of its OPTIONS section, which start with "*-")
man_defs() {
	sed -n '/^# OPTIONS/,/^# [A-Z]/p' "$ROOT/docs/man/$1.1.scd" | grep -- '^\*-'
}
man_long() {
	man_defs "$1" | grep -oE -- '\*--[a-z0-9-]+' | tr -d '*' | LC_ALL=C sort -u
}
man_short() {
	man_defs "$1" | grep -oE -- '\*-[[:alnum:]]\*' | tr -d '*' | LC_ALL=C sort -u
}

# comp_long PROG, comp_short PROG: what "PROG -<TAB>" offers
comp_long() {
	comp "$1" - >/dev/null
	printf '%s\n' "${COMPREPLY[@]}" | grep -E -- '^--' | grep -vx -- '--stats=json' |
		LC_ALL=C sort -u
}
comp_short() {
	comp "$1" - >/dev/null
	printf '%s\n' "${COMPREPLY[@]}" | grep -E -- '^-[^-]$' | LC_ALL=C sort -u
}

# zsh_long PROG: the long options that PROG's branch of completions/_pfs
# and the options common to all define (exclusion lists '(...)' and
# descriptions [...] left out)
zsh_long() {
	{
		sed -n '/^common=(/,/^)/p' "$ROOT/completions/_pfs"
		sed -n "/^$1)\$/,/^  ;;\$/p" "$ROOT/completions/_pfs"
	} | sed -E "s/'\([^)]*\)//g; s/\[[^]]*\]//g" |
		grep -oE -- '--[a-z0-9-]+' | LC_ALL=C sort -u
}

# agree PROG: --help, man page, bash completion and zsh completion list the
# same options
agree() {
	local p=$1 help
	command -v "$p" >/dev/null || fail "$p is not built"
	help=$(help_long "$p")
	# a sanity check of the extraction itself
	[[ $help == *--help*--stats* ]] || fail "no options found in '$p --help'"
	assert_equal "$(man_long "$p")" "$help"
	assert_equal "$(man_short "$p")" "$(help_short "$p")"
	assert_equal "$(comp_long "$p")" "$help"
	assert_equal "$(comp_short "$p")" "$(help_short "$p")"
	assert_equal "$(zsh_long "$p")" "$help"
	comp "$p" --stats=j >/dev/null
	assert_equal "${COMPREPLY[*]}" "--stats=json"
}

@test "every program registers its completion function" {
	local p
	for p in $PROGS; do
		run -0 complete -p "$p"
		assert_output "complete -F _pfs_$p $p"
	done
}

@test "phash -a: algorithm names" {
	run -0 comp phash -a xx
	assert_output "xxh64 xxh3 xxh128"
	run -0 comp phash -a ''
	assert_output "$ALGOS list"
	run -0 comp phash --algorithm sha
	assert_output "sha256 sha512 sha3-256"
	run -0 comp phash --algorithm = b       # --algorithm=b split at "="
	assert_output "blake2b"
	run -0 comp phash --algorithm = ''
	assert_output "$ALGOS list"
	run -0 comp phash --algorithm=x         # '=' not in COMP_WORDBREAKS
	assert_output "--algorithm=xxh64 --algorithm=xxh3 --algorithm=xxh128"
	run -0 comp phash -a nope
	assert_output ""
}

@test "pipeline --hash: algorithm names, without phash's 'list'" {
	run -0 comp pipeline --hash ''
	assert_output "$ALGOS"
	run -0 comp pipeline process --hash = sha3
	assert_output "sha3-256"
}

@test "cipher names for pencrypt --cipher and pipeline --cipher" {
	run -0 comp pencrypt --ci
	assert_output "--cipher"
	run -0 comp pencrypt --cipher ''
	assert_output "aes-256-gcm chacha20-poly1305"
	run -0 comp pencrypt --cipher c
	assert_output "chacha20-poly1305"
	run -0 comp pipeline --encrypt --cipher ''
	assert_output "aes-256-gcm chacha20-poly1305"
	run -0 comp pipeline --cipher=a
	assert_output "--cipher=aes-256-gcm"
}

@test "codec flags and other options by prefix" {
	run -0 comp pcompress --
	assert_output "--zstd --lz4 --brotli --level --fast --ultra --decompress --range --force --threads --quiet --stats --stats=json --trace --help --version"
	run -0 comp pcompress --l
	assert_output "--lz4 --level"
	run -0 comp pjoin --p
	assert_output "--payload --progress"
	run -0 comp pjoin --r
	assert_output "--resume --range"
	run -0 comp pinfo -
	assert_output "--json --chunks --key-file --raw-key-file --password-file --password-fd -i --identity -q --quiet --stats --stats=json --trace -h --help -V --version"
	run -0 comp pchunk --st
	assert_output "--stats --stats=json"
	run -0 comp pchunk --nope
	assert_output ""
}

@test "--stats= completes to json; flags take no value" {
	run -0 comp pchunk --stats = ''
	assert_output "json"
	run -0 comp pipeline --stats = j
	assert_output "json"
	run -0 comp pinfo --stats=
	assert_output "--stats=json"
	run -0 comp pinfo --json = ''
	assert_output ""
}

@test "--trace completes to files, for every program and after the pipeline subcommand" {
	local p
	touch t1.json t2.json
	for p in $PROGS; do
		run -0 comp_sorted "$p" --trace t
		assert_output "t1.json t2.json"
	done
	run -0 comp_sorted pipeline --trace t
	assert_output "t1.json t2.json"
	run -0 comp pipeline --trace t1.json ''
	assert_output "process restore verify info"
}

@test "pipeline: subcommands, then the options of that subcommand" {
	run -0 comp pipeline p
	assert_output "process"
	run -0 comp pipeline ''
	assert_output "process restore verify info"
	run -0 comp pipeline r
	assert_output "restore"
	# option values are not the subcommand
	run -0 comp pipeline --hash xxh3 -o out.pfs -T 2 --stats=json v
	assert_output "verify"
	run -0 comp pipeline --cipher = aes-256-gcm i
	assert_output "info"
	run -0 comp pipeline -qo out.pfs r      # -o in a cluster of flags
	assert_output "restore"
	run -0 comp pipeline -Npo out.bin r     # restore's flags too
	assert_output "restore"
	run -0 comp pipeline -- p
	assert_output "process"
	run -0 comp pipeline restore --
	assert_output "--key-file --raw-key-file --password-file --password-fd --identity --threads --progress --no-progress --output --stdout --output-dir-flat --output-dir-mirror --force --keep --rm --name --keep-mode --range --resume --recursive --dry-run --perf --quiet --stats --stats=json --trace --help --version"
	run -0 comp pipeline --stats verify --
	assert_output "--key-file --raw-key-file --password-file --password-fd --identity --threads --progress --no-progress --recursive --dry-run --perf --quiet --stats --stats=json --trace --help --version"
	run -0 comp pipeline info -
	assert_output "-r --recursive --dry-run --perf -q --quiet --stats --stats=json --trace -h --help -V --version"
	run -0 comp pipeline process --e
	assert_output "--encrypt"
}

# Every option the completion offers after a subcommand is accepted by
# pipeline with that subcommand, and every other option is refused with
# "does not apply": the completion follows the program.
@test "pipeline: completion offers exactly the options each subcommand takes" {
	local cmd o val all
	printf x > x && pchunk x > s.pfs
	mkdir perfdir
	all=$(comp pipeline --)
	for cmd in process restore verify info; do
		comp pipeline "$cmd" -- >/dev/null
		local offered=" ${COMPREPLY[*]} "
		for o in $all; do
			case $o in
			--help|--version|--stats|--stats=json) continue ;;
			--level) val=3 ;;
			--cipher) val=aes-256-gcm ;;
			--hash) val=xxh3 ;;
			--key-file|--raw-key-file|--password-file) val=k ;;
			--password-fd) val=0 ;;
			--kdf-time) val=3 ;;
			--kdf-memory) val=64M ;;
			--output-dir-flat|--output-dir-mirror) val=outdir ;;
			--threads) val=2 ;;
			--output) val=out ;;
			--perf) val=perfdir ;;
			--range) val=0:1 ;;
			*) val= ;;
			esac
			run pipeline --dry-run "$cmd" "$o" ${val:+"$val"} s.pfs
			if [[ $offered == *" $o "* ]]; then
				refute_output --partial "does not apply"
			else
				assert_failure 2
				assert_output --partial "does not apply to '$cmd'"
			fi
		done
	done
}

@test "files otherwise: arguments, -o, --key-file; directories for --perf" {
	mkdir dir
	touch a.bin a.pfs b.txt dir/x
	run -0 comp_sorted pinfo a
	assert_output "a.bin a.pfs"
	run -0 comp_sorted pchunk ''
	assert_output "a.bin a.pfs b.txt dir"
	run -0 comp_sorted pjoin -o b
	assert_output "b.txt"
	run -0 comp_sorted pjoin --output = a.
	assert_output "a.bin a.pfs"
	run -0 comp_sorted pencrypt --key-file ''
	assert_output "a.bin a.pfs b.txt dir"
	run -0 comp_sorted pipeline restore a
	assert_output "a.bin a.pfs"
	run -0 comp_sorted pipeline -- process a
	assert_output "a.bin a.pfs"
	run -0 comp_sorted pipeline --perf ''
	assert_output "dir"
	run -0 comp_sorted pipeline --password-file b
	assert_output "b.txt"
	# after "--", a word starting with "-" is a file name
	touch ./-odd
	run -0 comp_sorted phash -- -
	assert_output "-odd"
	# values that are not files complete to nothing
	run -0 comp pchunk -s ''
	assert_output ""
	run -0 comp pcompress -T ''
	assert_output ""
}

@test "pchunk: --help, man page and completions agree" {
	agree pchunk
}

@test "pcompress: --help, man page and completions agree" {
	agree pcompress
}

@test "pencrypt: --help, man page and completions agree" {
	agree pencrypt
}

@test "phash: --help, man page and completions agree" {
	agree phash
}

@test "pjoin: --help, man page and completions agree" {
	agree pjoin
}

@test "pinfo: --help, man page and completions agree" {
	agree pinfo
}

@test "pipeline: --help, man page and completions agree" {
	agree pipeline
}

@test "the option extraction sees options and only options" {
	# pipeline --help names 'pencrypt --keygen', which is not its option,
	# and lists three long options on one line
	run -0 help_long pipeline
	refute_line -- "--keygen"
	assert_line -- "--brotli"
	assert_line -- "--lz4"
	# pcompress --help names --zstd at the start of a continuation line
	run -0 help_long pcompress
	assert_line -- "--zstd"
	run -0 help_short pjoin
	assert_output "$(printf '%s\n' -T -V -f -h -o -p -q)"
}

@test "man pages: every section, the exit status and PFS_STATS" {
	local p f s
	for p in $PROGS; do
		f=$ROOT/docs/man/$p.1.scd
		assert_file_exists "$f"
		run -0 head -n 1 "$f"
		assert_output "${p^^}(1) \"pfs\" \"pfs manual\""
		for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" ENVIRONMENT EXAMPLES "SEE ALSO"; do
			grep -qx "# $s" "$f" || fail "$p.1.scd: no section '$s'"
		done
		run -0 sed -n '/^# NAME/,/^#/p' "$f"
		assert_line --regexp "^$p - [a-z]"
		run -0 sed -n '/^# EXIT STATUS/,/^# /p' "$f"
		assert_line "*0*"
		assert_line "*1*"
		assert_line "*2*"
		assert_line --regexp "Bad usage"
		run -0 sed -n '/^# ENVIRONMENT/,/^# /p' "$f"
		assert_line "*PFS_STATS*"
	done
}

@test "man pages convert with scdoc" {
	command -v scdoc >/dev/null || skip "scdoc is not installed"
	local p
	for p in $PROGS; do
		scdoc < "$ROOT/docs/man/$p.1.scd" > "$p.1" ||
			fail "scdoc failed on $p.1.scd"
		run -0 grep -c -e '^\.TH "'"${p^^}"'" "1"' -e '^\.SH OPTIONS$' "$p.1"
		assert_output 2
	done
}

@test "zsh completion: syntax" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	run -0 zsh -n "$ROOT/completions/_pfs"
	run -0 head -n 1 "$ROOT/completions/_pfs"
	assert_output "#compdef $PROGS"
}

# zcomp LINE: the matches real zsh completion offers for LINE<TAB>, sorted,
# on one line: an interactive zsh -f on a pty (zsh/zpty) with compinit and
# completions/ on $fpath, compadd wrapped to print what it is given
zcomp() {
	cat > zcap.zsh <<-'EOF'
	zmodload zsh/zpty || exit 1
	zpty z zsh -f -i
	zpty -w z "PROMPT='ZP> '; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D"
	zpty -w z 'compadd () {
	  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
	  local -a hits; local h
	  builtin compadd -A hits "$@"
	  for h in $hits; do print -r -- "<m>$h</m>"; done
	}'
	# wait until the shell has run all that and zle waits at its prompt:
	# input typed before zle sets up the terminal may be discarded
	zpty -w z 'echo SY""NC'
	zpty -r z out '*SYNC*ZP> *' || exit 1
	zpty -n -w z "$2"$'\t'
	zpty -n -w z $'\C-u'
	zpty -w z 'echo ZZ""END'
	zpty -r z out '*ZZEND*' || exit 1
	zpty -d z
	for l in ${(f)out}; do
	  [[ $l == *"<m>"*"</m>"* ]] && print -r -- "${${l##*<m>}%%</m>*}"
	done
	EOF
	timeout 20 zsh -f zcap.zsh "$ROOT/completions" "$1" | LC_ALL=C sort -u | paste -sd ' '
}

@test "zsh completion: real completion of values and options" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	run -0 zcomp 'phash -a xx'
	assert_output "xxh128 xxh3 xxh64"
	run -0 zcomp 'pencrypt --cipher '
	assert_output "aes-256-gcm chacha20-poly1305"
	run -0 zcomp 'pipeline '
	assert_output "info process restore verify"
	run -0 zcomp 'pipeline --hash '
	assert_output "blake2b sha256 sha3-256 sha512 xxh128 xxh3 xxh64"
	run -0 zcomp 'pjoin --'
	assert_output "--commit --force --help --into --keep-mode --no-verify --output --payload --progress --quiet --range --resume --stats --threads --trace --version"
	run -0 zcomp 'pinfo --stats='
	assert_output "json"
}

@test "bash completion: syntax, and sourcing it defines only _pfs_ names" {
	run -0 bash -n "$ROOT/completions/pfs.bash"
	bash --norc -c '{ compgen -A function; compgen -v; } | sort > before
		source "$1" || exit 1
		{ compgen -A function; compgen -v; } | sort > after' _ \
		"$ROOT/completions/pfs.bash"
	run -0 comm -13 before after
	assert_line "_pfs_pipeline"
	assert_line "_pfs_algos"
	refute_line --regexp '^([^_]|_[^p]|_p[^f]|_pf[^s]|_pfs[^_])'
}
