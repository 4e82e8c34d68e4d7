# bash completion for the pfs programs:
#   pchunk pcompress pencrypt phash pjoin pinfo pipeline
#
# One function per program, registered with complete -F.  Self-contained:
# it needs nothing from the bash-completion package, so it can also be
# sourced from ~/.bashrc.  `make install` puts this file in
# $(BASHCOMPDIR) once per program name, for bash-completion's lazy loading.
#
# Options that take a value complete it: algorithm names (phash -a,
# pipeline --hash), cipher names (--cipher), files (-o, --key-file,
# --password-file, -R, -i, --trace...), a directory (pipeline --perf); a
# recipient (pencrypt -r) completes to nothing; --stats completes to --stats
# and --stats=json.  Both "--opt VALUE" and "--opt=VALUE" work.

_pfs_algos='sha256 sha512 sha3-256 blake2b xxh64 xxh3 xxh128'
_pfs_ciphers='aes-256-gcm chacha20-poly1305'
_pfs_common='-q --quiet --stats --stats=json --trace -h --help -V --version'

# _pfs_init: set cur (the word being completed), prev (the option whose
# value it is, if any) and words_before (the words before it).  An
# "--opt=val" word, whether or not bash split it at the "=", gives
# prev=--opt and cur=val; eq=1 then.
_pfs_init() {
	local i=$COMP_CWORD
	cur=${COMP_WORDS[i]}
	prev=
	eq=0
	[ "$i" -gt 0 ] && prev=${COMP_WORDS[i - 1]}
	if [ "$cur" = "=" ] && [[ $prev == --* ]]; then
		# "--opt=" split by COMP_WORDBREAKS into --opt, =
		cur=
		eq=1
		return
	fi
	if [ "$prev" = "=" ] && [ "$i" -gt 1 ] &&
	   [[ ${COMP_WORDS[i - 2]} == --* ]]; then
		# "--opt=val" split into --opt, =, val
		prev=${COMP_WORDS[i - 2]}
		eq=1
		return
	fi
	if [[ $cur == --*=* ]]; then
		# "--opt=val" in one word ('=' not in COMP_WORDBREAKS): the
		# replies must carry the "--opt=" prefix
		prev=${cur%%=*}
		cur=${cur#*=}
		eq=2
	fi
	return 0
}

# _pfs_words WORDLIST: COMPREPLY = the words of WORDLIST starting with cur
_pfs_words() {
	local IFS=$' \t\n' w
	COMPREPLY=()
	for w in $1; do
		[[ $w == "$cur"* ]] && COMPREPLY+=("$w")
	done
	if [ "$eq" = 2 ]; then
		COMPREPLY=("${COMPREPLY[@]/#/$prev=}")
	fi
	return 0
}

# _pfs_files [-d]: COMPREPLY = files (or with -d directories) matching cur
_pfs_files() {
	local kind=-f
	[ "${1-}" = -d ] && kind=-d
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen "$kind" -- "$cur")
	if [ "$eq" = 2 ]; then
		compopt +o filenames 2>/dev/null
		COMPREPLY=("${COMPREPLY[@]/#/$prev=}")
	fi
	return 0
}

# _pfs_after_dashdash: true when a "--" word comes before the current one
_pfs_after_dashdash() {
	local i
	for ((i = 1; i < COMP_CWORD; i++)); do
		[ "${COMP_WORDS[i]}" = "--" ] && return 0
	done
	return 1
}

# _pfs_complete OPTIONS: the usual end of a program's function: --stats=
# values, options when cur starts with "-", files otherwise
_pfs_complete() {
	if [ "$prev" = --trace ]; then
		_pfs_files
	elif [ "$prev" = --stats ] && [ "$eq" != 0 ]; then
		_pfs_words json
	elif [ "$eq" != 0 ]; then
		COMPREPLY=()     # --flag=...: a flag takes no value
	elif [[ $cur == -* ]] && ! _pfs_after_dashdash; then
		_pfs_words "$1"
	else
		_pfs_files
	fi
}

_pfs_pchunk() {
	local cur prev eq
	_pfs_init
	case $prev in
	-s|--size|--range|--part|--block|--source)
		COMPREPLY=(); return 0 ;;  # SIZE, OFF:LEN, I/N, SIZE:MTIME:MODE:NAME
	esac
	_pfs_complete "-s --size --range --part --block --source -f --force
		--progress $_pfs_common"
}

_pfs_pcompress() {
	local cur prev eq
	_pfs_init
	case $prev in
	-l|--level|-T|--threads|--range) COMPREPLY=(); return 0 ;;
	esac
	_pfs_complete "--zstd --lz4 --brotli -l --level --fast --ultra -d --decompress
		--range -f --force -T --threads $_pfs_common"
}

_pfs_pencrypt() {
	local cur prev eq
	_pfs_init
	case $prev in
	--key-file|--raw-key-file|--password-file|-o|--output|--continue|\
	--new-key-file|--new-raw-key-file|--new-password-file|\
	-R|--recipients-file|-i|--identity|--recipient-of)
		_pfs_files; return 0 ;;
	--cipher) _pfs_words "$_pfs_ciphers"; return 0 ;;
	-r|--recipient) COMPREPLY=(); return 0 ;;   # pfs-recipient-1-...
	--password-fd|--new-password-fd|--kdf-time|--kdf-memory|-T|--threads|--range)
		COMPREPLY=(); return 0 ;;       # a number, a size, OFF:LEN
	esac
	_pfs_complete "-r --recipient -R --recipients-file -i --identity
		--key-file --raw-key-file --password-file --password-fd --rekey
		--new-key-file --new-raw-key-file --new-password-file --new-password-fd
		--keygen --keygen-identity --recipient-of -o --output --cipher
		--hide-name --kdf-time --kdf-memory --continue -d --decrypt --range
		-f --force -T --threads $_pfs_common"
}

_pfs_phash() {
	local cur prev eq
	_pfs_init
	case $prev in
	-a|--algorithm) _pfs_words "$_pfs_algos list"; return 0 ;;
	-T|--threads|--range) COMPREPLY=(); return 0 ;;
	esac
	_pfs_complete "-a --algorithm -c --check --sum --tag --range -T --threads
		-f --force $_pfs_common"
}

_pfs_pjoin() {
	local cur prev eq
	_pfs_init
	case $prev in
	-o|--output|--into|--commit) _pfs_files; return 0 ;;
	-T|--threads|--range) COMPREPLY=(); return 0 ;;
	esac
	_pfs_complete "-o --output -f --force --resume --into --commit -p
		--keep-mode --payload --no-verify --range --progress -T --threads
		$_pfs_common"
}

_pfs_pinfo() {
	local cur prev eq
	_pfs_init
	case $prev in
	--key-file|--raw-key-file|--password-file|-i|--identity) _pfs_files; return 0 ;;
	--password-fd) COMPREPLY=(); return 0 ;;
	esac
	_pfs_complete "--json --chunks --key-file --raw-key-file --password-file
		--password-fd -i --identity $_pfs_common"
}

# pipeline: options may come before or after the subcommand; once the
# subcommand is known, only the options that apply to it are offered.
_pfs_pipeline() {
	local cur prev eq i w cmd='' opts
	local o_process='--zstd --lz4 --brotli --no-compress -l --level --fast --ultra
		--encrypt --recipient --recipients-file --cipher --hide-name --kdf-time
		--kdf-memory --hash --no-hash --range --resume'
	local o_key='--key-file --raw-key-file --password-file --password-fd'
	local o_id='-i --identity'
	local o_stage='-T --threads --progress --no-progress'
	local o_out='-o --output -c --stdout --output-dir-flat --output-dir-mirror
		-f --force -k --keep --rm'
	local o_restore='-N --name -p --keep-mode --range --resume'
	local o_all="-r --recursive --dry-run --perf $_pfs_common"
	_pfs_init
	case $prev in
	--key-file|--raw-key-file|--password-file|-o|--output|--recipients-file|\
	-i|--identity|--trace)
		_pfs_files; return 0 ;;
	--recipient) COMPREPLY=(); return 0 ;;      # pfs-recipient-1-...
	--perf|--output-dir-flat|--output-dir-mirror) _pfs_files -d; return 0 ;;
	--cipher) _pfs_words "$_pfs_ciphers"; return 0 ;;
	--hash) _pfs_words "$_pfs_algos"; return 0 ;;
	-l|--level|-T|--threads|--password-fd|--kdf-time|--kdf-memory|--range)
		COMPREPLY=(); return 0 ;;
	esac
	# the subcommand: the first word that is neither an option nor the
	# value of one
	local optval='^(-[cfkrpNqhV]*[lToi]|--(level|threads|output|key-file|raw-key-file|password-file|password-fd|recipient|recipients-file|identity|kdf-time|kdf-memory|output-dir-flat|output-dir-mirror|cipher|hash|perf|range|trace))$'
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w =~ $optval ]]; then
			# an option taking a value (-T, -qo, --hash...): the value
			# is the next word, or the one after "="
			[ "${COMP_WORDS[i + 1]-}" = "=" ] && ((i++))
			((i++))
			continue
		fi
		case $w in
		--)     # the end of the options: the next word is the subcommand
			[ $((i + 1)) -lt "$COMP_CWORD" ] && cmd=${COMP_WORDS[i + 1]}
			break ;;
		=) ((i++)) ;;    # "--opt=val" split at the "=": skip val
		-*) ;;
		*) cmd=$w; break ;;
		esac
	done
	case $cmd in
	process) opts="$o_process $o_key $o_stage $o_out $o_all" ;;
	restore) opts="$o_key $o_id $o_stage $o_out $o_restore $o_all" ;;
	verify)  opts="$o_key $o_id $o_stage $o_all" ;;
	info)    opts="$o_all" ;;
	*)       opts="$o_process $o_key $o_id $o_stage $o_out $o_restore $o_all" ;;
	esac
	if [ -z "$cmd" ] && [ "$eq" = 0 ] && [[ $cur != -* ]]; then
		_pfs_words 'process restore verify info'
		return 0
	fi
	_pfs_complete "$opts"
}

complete -F _pfs_pchunk pchunk
complete -F _pfs_pcompress pcompress
complete -F _pfs_pencrypt pencrypt
complete -F _pfs_phash phash
complete -F _pfs_pjoin pjoin
complete -F _pfs_pinfo pinfo
complete -F _pfs_pipeline pipeline
