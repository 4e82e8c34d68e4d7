#!/bin/sh
# deps.sh [--print] GROUP... - make sure the Debian packages a target needs
# are installed.  As root (or with password-less sudo) it installs what is
# missing; otherwise it prints the exact command and fails.
# Groups: build test bench profile fuzz man
set -eu

print_only=0
if [ "${1:-}" = "--print" ]; then print_only=1; shift; fi

pkgs=""
for g in "$@"; do
	case $g in
	build)   pkgs="$pkgs make gcc pkg-config libzstd-dev liblz4-dev libbrotli-dev libgcrypt20-dev libxxhash-dev" ;;
	test)    pkgs="$pkgs libcmocka-dev zsh bats bats-support bats-assert bats-file parallel rsync zstd lz4 brotli xxhash coreutils openssl util-linux bsdutils python3 python3-cryptography python3-argon2 python3-yaml hyperfine time age linux-perf valgrind heaptrack gnuplot-nox strace" ;;
	bench)   pkgs="$pkgs hyperfine time zstd lz4 brotli xxhash openssl age python3 gnuplot-nox" ;;
	profile) pkgs="$pkgs linux-perf valgrind heaptrack"
	         # nodesource's nodejs ships npm and conflicts with Debian's
	         command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm" ;;
	fuzz)    pkgs="$pkgs clang-14 libclang-rt-14-dev libfuzzer-14-dev" ;;
	man)     pkgs="$pkgs scdoc" ;;
	*) echo "deps.sh: unknown group '$g'" >&2; exit 2 ;;
	esac
done

missing=""
for p in $pkgs; do
	case " $missing " in *" $p "*) continue ;; esac
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$print_only" = 1 ]; then
	echo "  sudo $cmd"
	exit 1
fi
if [ "$(id -u)" = 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	sudo="sudo"
else
	echo "deps.sh: missing Debian packages:$missing" >&2
	echo "deps.sh: install them with:  sudo apt-get update && sudo $cmd" >&2
	exit 1
fi
echo "deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# refresh the package lists once if they are missing or stale
if [ -z "$(ls /var/lib/apt/lists/ 2>/dev/null | grep -v -e lock -e partial)" ] ||
   ! $sudo apt-get install -y --no-install-recommends $missing >/dev/null 2>&1; then
	$sudo apt-get update -q >&2
	$sudo $cmd >&2
fi
