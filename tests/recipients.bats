#!/usr/bin/env bats
# pencrypt's recipients (docs/security.md, "Recipients"): X25519 identities
# and recipients, key files and passwords on one stream, each opening it
# alone; identities that match nothing; rekeying (remove, add, change the
# password) with the sealed chunks passed through unchanged; the identity
# files; and the driver's -r, -R and -i.

bats_require_minimum_version 1.5.0
load helper

FASTKDF=(--kdf-time 2 --kdf-memory 19M)

setup() {
	cd "$BATS_TEST_TMPDIR"
	pencrypt --keygen-identity -o alice.id 2> alice.err
	pencrypt --keygen-identity -o bob.id 2> /dev/null
	pencrypt --keygen-identity -o carol.id 2> /dev/null
	for p in alice bob carol; do pencrypt --recipient-of "$p.id" > "$p.r"; done
	pencrypt --keygen -o key
	printf 'correct horse battery staple\n' > pw
	printf 'a new password\n' > pw2
	gen text-like 300K > data.bin
	pchunk -s 64K data.bin > s.pfs
}

# opens FILE OPTION...: pencrypt -d FILE with OPTION... restores data.bin
opens() {
	local f=$1
	shift
	pencrypt -d "$@" "$f" | pjoin | cmp - data.bin
}

# refuses FILE TEXT OPTION...: pencrypt -d exits 1 with exactly
# "pencrypt: FILE: TEXT" and writes nothing
refuses() {
	local f=$1 msg=$2
	shift 2
	run -1 --separate-stderr sh -c 'f=$1; shift; pencrypt -d "$@" "$f" > dec.out' sh "$f" "$@"
	assert_equal "$stderr" "pencrypt: $f: $msg"
	[ ! -s dec.out ]
}

# usage_line TEXT: the first line of stderr of the last run is TEXT
usage_line() {
	assert_equal "${stderr_lines[0]}" "$1"
}

# payload FILE: the bytes of FILE from its first DATA frame to the end of
# END (the sealed chunks; HEAD and the index left out)
payload() {
	local from to
	from=$(frame "$1" 1 off)
	to=$(( $(frame "$1" END off) + 32 + $(frame "$1" END len) ))
	tail -c +$((from + 1)) "$1" | head -c $((to - from))
}

@test "--keygen-identity: a 0600 file with its recipient on a comment line; --recipient-of prints it" {
	[ "$(stat -c %a alice.id)" = 600 ]
	run -0 cat alice.id
	assert_line --index 0 --regexp '^# created: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'
	assert_line --index 1 "# recipient: $(cat alice.r)"
	assert_line --index 2 --regexp '^PFS-IDENTITY-1-[A-Za-z0-9_-]{48}$'
	[ "${#lines[@]}" -eq 3 ]
	[[ $(cat alice.r) =~ ^pfs-recipient-1-[A-Za-z0-9_-]{48}$ ]]
	assert_equal "$(cat alice.err)" "pencrypt: recipient: $(cat alice.r)"
	# never overwritten, also not by a symbolic link
	run -1 --separate-stderr pencrypt --keygen-identity -o alice.id
	assert_equal "$stderr" "pencrypt: alice.id: file exists (an identity file is never overwritten: remove it first or choose another name)"
	# two identities in one file: both recipients, in order
	cat alice.id bob.id > both.id
	chmod 600 both.id
	run -0 pencrypt --recipient-of both.id
	assert_output "$(cat alice.r bob.r)"
	# from standard input, to stdout (a readable file: warned)
	umask 022
	pencrypt --keygen-identity > loose.id 2> loose.err
	assert_equal "$(cat loose.err)" "pencrypt: warning: stdout: the identity went to a file that group or others may read (mode 0644): use 'pencrypt --keygen-identity -o FILE' instead"
	[ "$(pencrypt --recipient-of - < loose.id)" = "$(sed -n 's/^# recipient: //p' loose.id)" ]
}

@test "the recipient is X25519 of the identity: Python's cryptography computes the same line" {
	python3 -c 'import cryptography.hazmat.primitives.asymmetric.x25519' 2>/dev/null ||
		skip "python3 cryptography not installed"
	run -0 python3 - alice.id <<'PY'
import base64, hashlib, sys
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
line = [l for l in open(sys.argv[1]).read().split("\n") if l.startswith("PFS-IDENTITY-1-")][0]
b = base64.urlsafe_b64decode(line[15:])
assert hashlib.sha256(b"PFS-IDENTITY-1-" + b[:32]).digest()[:4] == b[32:]
pk = X25519PrivateKey.from_private_bytes(b[:32]).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
p = b"pfs-recipient-1-"
print((p + base64.urlsafe_b64encode(pk + hashlib.sha256(p + pk).digest()[:4])).decode())
PY
	assert_output "$(cat alice.r)"
}

@test "two recipients and a password on one stream: each identity, and the password, opens it alone" {
	pencrypt -r "$(cat alice.r)" -R bob.r --password-file pw "${FASTKDF[@]}" s.pfs > e.pfs
	run -0 pinfo e.pfs
	assert_line "stages:         1. encrypt aes-256-gcm/2 x25519+argon2id"
	opens e.pfs -i alice.id
	opens e.pfs -i bob.id
	opens e.pfs --password-file pw
	# the identity files given together: the one that fits is used
	opens e.pfs -i carol.id -i bob.id
	# the restored stream is the one encrypted, byte for byte
	pencrypt -d -i alice.id e.pfs | cmp - s.pfs
	# and with a key file among the recipients
	pencrypt -R alice.r --key-file key s.pfs > k.pfs
	run -0 pinfo k.pfs
	assert_line "stages:         1. encrypt aes-256-gcm/x25519"
	opens k.pfs --key-file key
	opens k.pfs -i alice.id
}

@test "an identity, key or password that matches no recipient fails with one line before any output" {
	pencrypt -R alice.r -R bob.r s.pfs > e.pfs
	refuses e.pfs "no identity given matches a recipient of the stream (another identity's, or a damaged HEAD)" -i carol.id
	refuses e.pfs "the stream was encrypted with public keys (X25519), not a password: use -i IDENTITY" --password-file pw
	refuses e.pfs "the stream was encrypted with public keys (X25519), not a key file: use -i IDENTITY" --key-file key
	pencrypt -R alice.r --password-file pw "${FASTKDF[@]}" s.pfs > p.pfs
	printf 'wrong\n' > bad.pw
	refuses p.pfs "wrong key or password (or a damaged HEAD)" --password-file bad.pw
	refuses p.pfs "the stream was encrypted with public keys (X25519) and a password, not a key file: use -i IDENTITY or a password (--password-file, --password-fd or the terminal prompt)" --key-file key
	# through pjoin -o: nothing left behind
	run -1 bash -o pipefail -c 'pencrypt -d -i carol.id e.pfs 2>/dev/null | pjoin -o out.bin 2>/dev/null'
	assert_file_not_exists out.bin
	# a stream for a key file, opened with an identity
	pencrypt --key-file key s.pfs > k.pfs
	refuses k.pfs "the stream was encrypted with a key file, not public keys (X25519): use --key-file" -i alice.id
}

@test "a damaged stanza: its identity no longer opens the stream, the others still do" {
	pencrypt -R alice.r -R bob.r s.pfs > e.pfs
	# Alice's stanza: the HEAD payload starts at 40, its record's params
	# at 34 + the name's length + 1 + 8, the stanzas after their 96
	# bytes and the count
	local n p
	n=$(od -An -tu2 -j $((40 + 32)) -N2 e.pfs | tr -d ' ')
	p=$((40 + 34 + n + 1 + 8 + 96 + 1))
	[ "$(od -An -tu1 -j "$p" -N1 e.pfs | tr -d ' ')" = 1 ]   # X25519
	cp e.pfs f.pfs
	flip_byte f.pfs $((p + 1 + 40))        # in Alice's wrapped key
	refuses f.pfs "no identity given matches a recipient of the stream (another identity's, or a damaged HEAD)" -i alice.id
	# Bob's stanza opens, and then the header MAC catches the change
	refuses f.pfs "wrong key or password (or a damaged HEAD)" -i bob.id
	opens e.pfs -i bob.id
}

@test "--rekey: remove a recipient and add one; the sealed chunks pass through unchanged and restore byte for byte" {
	pencrypt -R alice.r -R bob.r s.pfs > e.pfs
	pencrypt --rekey -i alice.id -R alice.r -R carol.r e.pfs > r.pfs
	refuses r.pfs "no identity given matches a recipient of the stream (another identity's, or a damaged HEAD)" -i bob.id
	opens r.pfs -i alice.id
	opens r.pfs -i carol.id
	pencrypt -d -i carol.id r.pfs | cmp - s.pfs
	# the chunks, DIGESTs and END are the same bytes; HEAD and the index
	# (new offsets) are new
	cmp <(payload e.pfs) <(payload r.pfs)
	run ! cmp -s e.pfs r.pfs
	run -0 pinfo --chunks r.pfs
	pjoin -o out.bin < <(pencrypt -d -i carol.id r.pfs)
	cmp out.bin data.bin
	# the rekeyed stream still seeks: a range through its index
	pencrypt -d -i carol.id --range 100000:5000 r.pfs | pjoin | cmp - <(tail -c +100001 data.bin | head -c 5000)
}

@test "--rekey changes the password, and keeps the hidden name" {
	pchunk -s 64K data.bin | phash -a sha256 > h.pfs
	pencrypt --password-file pw "${FASTKDF[@]}" --hide-name h.pfs > e.pfs
	pencrypt --rekey --password-file pw --new-password-file pw2 "${FASTKDF[@]}" e.pfs > r.pfs
	refuses r.pfs "wrong key or password (or a damaged HEAD)" --password-file pw
	pencrypt -d --password-file pw2 r.pfs | cmp - h.pfs
	cmp <(payload e.pfs) <(payload r.pfs)
	run -0 pinfo r.pfs
	assert_line "source:         (name hidden by pencrypt --hide-name) (unverified: encrypted stream, HEAD not authenticated; give a key to check)"
	# and to a key file instead
	pencrypt --rekey --password-file pw2 --new-key-file key r.pfs > k.pfs
	pencrypt -d --key-file key k.pfs | cmp - h.pfs
	refuses k.pfs "the stream was encrypted with a key file, not a password: use --key-file" --password-file pw2
}

@test "--rekey of a stream from before recipients (testdata/weak-kdf.pfs, Argon2id record)" {
	yes 'made by pencrypt 0.1.0 with --kdf-time 1 --kdf-memory 8K' | head -c 3000 > weak.txt
	pencrypt --rekey --password-file pw -R alice.r < "$ROOT/testdata/weak-kdf.pfs" > r.pfs
	pencrypt -d -i alice.id r.pfs | pjoin | cmp - weak.txt
	cmp <(payload "$ROOT/testdata/weak-kdf.pfs") <(payload r.pfs)
}

@test "--rekey refuses a key-file stream from before recipients (its key is the key file's own); -d still reads it" {
	# testdata/legacy-keyfile.pfs: made by pencrypt at 1311afe (KDF id 0):
	#   yes 'made by pencrypt before recipients, with --key-file' |
	#   head -c 3000 | pchunk -s 1K | pencrypt --key-file legacy.key
	yes 'made by pencrypt before recipients, with --key-file' | head -c 3000 > legacy.txt
	cp "$ROOT/testdata/legacy.key" k && chmod 600 k
	pencrypt -d --key-file k < "$ROOT/testdata/legacy-keyfile.pfs" | pjoin | cmp - legacy.txt
	run -1 --separate-stderr sh -c 'pencrypt --rekey --key-file k -R alice.r < "$0" > r.pfs' "$ROOT/testdata/legacy-keyfile.pfs"
	assert_equal "$stderr" "pencrypt: stdin: this stream's key is the key file's own (made before recipients): --rekey would hand that key to the new recipients; decrypt it and encrypt it again instead"
	[ ! -s r.pfs ]
}

@test "identity files and key options: a damaged or empty identity file, too many -i, one descriptor twice, key commands together, a missing file, rekey to a full disk" {
	pencrypt -R alice.r s.pfs > e.pfs
	sed 's/^\(PFS-IDENTITY-1-.....\)./\1_/' alice.id > bad.id
	cmp -s bad.id alice.id && sed -i 's/^\(PFS-IDENTITY-1-.....\)./\1A/' bad.id
	chmod 600 bad.id
	run -1 --separate-stderr pencrypt -d -i bad.id e.pfs
	assert_equal "$stderr" "pencrypt: bad.id:3: identity fails its checksum (damaged or mistyped)"
	printf '# nothing here\n' > none.id
	chmod 600 none.id
	run -1 --separate-stderr pencrypt -d -i none.id e.pfs
	assert_equal "$stderr" "pencrypt: none.id: no identity in the file"
	local a=() i
	for i in $(seq 17); do a+=(-i alice.id); done
	run -2 --separate-stderr pencrypt -d "${a[@]}" e.pfs
	usage_line "pencrypt: -i: at most 16 files"
	run -2 --separate-stderr sh -c 'pencrypt --rekey -i alice.id --password-fd 3 --new-password-fd 3 e.pfs 3< pw'
	usage_line "pencrypt: --password-fd and --new-password-fd name the same descriptor"
	run -2 --separate-stderr pencrypt --keygen --recipient-of alice.id
	usage_line "pencrypt: give one of --keygen, --keygen-identity and --recipient-of"
	run -1 --separate-stderr pencrypt --recipient-of nosuch.id
	assert_equal "$stderr" "pencrypt: nosuch.id: No such file or directory"
	run -1 --separate-stderr sh -c 'pencrypt --rekey -i alice.id -R bob.r e.pfs > /dev/full'
	assert_equal "$stderr" "pencrypt: stdout: write error: No space left on device"
	# --new-raw-key-file: the stream then opens with that raw key
	head -c 32 /dev/urandom > raw.key
	chmod 600 raw.key
	pencrypt --rekey -i alice.id --new-raw-key-file raw.key e.pfs > n.pfs
	opens n.pfs --raw-key-file raw.key
	refuses n.pfs "the stream was encrypted with a key file, not public keys (X25519): use --key-file" -i alice.id
}

@test "--rekey: a wrong secret, an unencrypted stream and usage errors, nothing written" {
	pencrypt -R alice.r s.pfs > e.pfs
	run -1 --separate-stderr sh -c 'pencrypt --rekey -i bob.id -R carol.r e.pfs > r.pfs'
	assert_equal "$stderr" "pencrypt: e.pfs: no identity given matches a recipient of the stream (another identity's, or a damaged HEAD)"
	[ ! -s r.pfs ]
	run -1 --separate-stderr sh -c 'pencrypt --rekey -i alice.id -R carol.r s.pfs > r.pfs'
	assert_equal "$stderr" "pencrypt: s.pfs: stream is not encrypted: nothing to rekey"
	[ ! -s r.pfs ]
	run -2 --separate-stderr pencrypt --rekey -i alice.id e.pfs
	usage_line "pencrypt: --rekey needs the new recipients: -r, -R, --new-key-file, --new-raw-key-file, --new-password-file or --new-password-fd (those not given lose access)"
	run -2 --separate-stderr pencrypt --rekey -i alice.id -R bob.r --cipher chacha20-poly1305 e.pfs
	usage_line "pencrypt: --rekey keeps the cipher, the salts and the chunks: not with -d, --cipher, --hide-name, --continue or --range"
	run -2 --separate-stderr pencrypt --new-key-file key -R bob.r s.pfs
	usage_line "pencrypt: --new-key-file, --new-password-file and --new-password-fd are for --rekey"
	run -2 --separate-stderr pencrypt --rekey -i alice.id --new-key-file key --new-password-file pw e.pfs
	usage_line "pencrypt: give one of --new-key-file, --new-raw-key-file, --new-password-file and --new-password-fd"
	run -2 --separate-stderr pencrypt --rekey -i alice.id --new-password-fd x e.pfs
	usage_line "pencrypt: --new-password-fd: invalid number 'x'"
	run -2 --separate-stderr pencrypt --rekey -i alice.id -R bob.r "${FASTKDF[@]}" e.pfs
	usage_line "pencrypt: --kdf-time and --kdf-memory are for encrypting with a password (with --rekey: a new one)"
}

@test "--rekey of what pipeline process --encrypt makes (hashed over the encryption): refused with the fix, and the README's phash --check | pencrypt --rekey | phash works" {
	pipeline process -q --encrypt --recipient "$(cat alice.r)" data.bin
	run -1 --separate-stderr sh -c 'pencrypt --rekey -i alice.id -R bob.r < data.bin.pfs > r.pfs'
	assert_equal "$stderr" "pencrypt: stdin: stream is hashed (xxh3) over its encryption: check the hash first and hash again after, as in 'phash --check | pencrypt --rekey ... | phash -a xxh3'"
	[ ! -s r.pfs ]
	phash --check < data.bin.pfs | pencrypt --rekey -i alice.id -R bob.r | phash -a xxh3 > r.pfs
	pipeline restore -q -i bob.id r.pfs -o copy
	cmp copy data.bin
	run -1 --separate-stderr pipeline restore -q -i alice.id r.pfs -o copy2
	[ ! -e copy2 ]
}

@test "recipients and identities given wrongly: one line naming the object and the fix" {
	run -2 --separate-stderr pencrypt -r "$(tail -n 1 alice.id)" s.pfs
	usage_line "pencrypt: -r: an identity (a secret), not a recipient: give the recipient that 'pencrypt --recipient-of FILE' prints"
	run -2 --separate-stderr pencrypt -r age1qyqszqgpqyqszqgpqyqszqgpqyqszqgp s.pfs
	usage_line "pencrypt: -r: not a pfs recipient (one is pfs-recipient-1- and 48 base64url characters, printed by 'pencrypt --recipient-of IDENTITY')"
	# change one character of the key part (to another: alice.r is random)
	r=$(cat alice.r); c=X; [ "${r:30:1}" != X ] || c=Y
	r=${r:0:30}$c${r:31}
	[ "$r" != "$(cat alice.r)" ]
	run -2 --separate-stderr pencrypt -r "$r" s.pfs
	usage_line "pencrypt: -r: recipient fails its checksum (damaged or mistyped)"
	# -R: comments and empty lines are fine, a bad line is named
	{ echo '# the team'; echo; cat alice.r; echo '   '; echo 'nonsense'; } > team.r
	run -1 --separate-stderr pencrypt -R team.r s.pfs
	assert_equal "$stderr" "pencrypt: team.r:5: not a pfs recipient (one is pfs-recipient-1- and 48 base64url characters, printed by 'pencrypt --recipient-of IDENTITY')"
	run -1 --separate-stderr pencrypt -R missing.r s.pfs
	assert_equal "$stderr" "pencrypt: missing.r: No such file or directory"
	echo '# nobody' > empty.r
	run -1 --separate-stderr pencrypt -R empty.r s.pfs
	assert_equal "$stderr" "pencrypt: empty.r: no recipient in the file"
	# at most 40 recipients (what one ENCRYPT record holds)
	python3 -c 'import cryptography.hazmat.primitives.asymmetric.x25519' 2>/dev/null ||
		skip "python3 cryptography not installed"
	python3 - > many.r <<'PY'
import base64, hashlib
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
p = b"pfs-recipient-1-"
for _ in range(41):
    pk = X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    print((p + base64.urlsafe_b64encode(pk + hashlib.sha256(p + pk).digest()[:4])).decode())
PY
	head -n 40 many.r > forty.r
	pencrypt -R forty.r s.pfs > forty.pfs
	run -0 pinfo forty.pfs
	assert_line "stages:         1. encrypt aes-256-gcm/40 x25519"
	run -1 --separate-stderr pencrypt -R many.r s.pfs
	assert_equal "$stderr" "pencrypt: many.r:41: more than 40 recipients"
	# -i: a key file, a recipient file, wrong options
	pencrypt -R alice.r s.pfs > e.pfs
	run -1 --separate-stderr pencrypt -d -i key e.pfs
	assert_equal "$stderr" "pencrypt: key: a key file, not an identity: give it with --key-file"
	run -1 --separate-stderr pencrypt -d -i alice.r e.pfs
	assert_equal "$stderr" "pencrypt: alice.r:1: not a pfs identity (one is PFS-IDENTITY-1- and 48 base64url characters, made by 'pencrypt --keygen-identity')"
	run -2 --separate-stderr pencrypt -i alice.id s.pfs
	usage_line "pencrypt: -i is for -d, --rekey and --continue: to encrypt to an identity, give its recipient with -r (see --recipient-of)"
	run -2 --separate-stderr pencrypt -d -R alice.r e.pfs
	usage_line "pencrypt: -r and -R are for encrypting and --rekey (-d opens with -i IDENTITY)"
	# an identity file given as a key file
	run -1 --separate-stderr pencrypt -d --key-file alice.id e.pfs
	assert_equal "$stderr" "pencrypt: alice.id: an identity file, not a key file: give it with -i"
	# '-' for a file while the stream is on standard input
	run -2 --separate-stderr sh -c 'pencrypt -R - < s.pfs'
	usage_line "pencrypt: -R -: standard input is the stream's: give the recipients in a file"
	run -2 --separate-stderr sh -c 'pencrypt -d -i - < e.pfs'
	usage_line "pencrypt: -i -: standard input is the stream's: give the identity in a file"
	run -2 --separate-stderr sh -c 'pencrypt -r PFS-IDENTIFIER-x < s.pfs'
	usage_line "pencrypt: -r: not a pfs recipient (one is pfs-recipient-1- and 48 base64url characters, printed by 'pencrypt --recipient-of IDENTITY')"
	# an identity file others can read: warned, and used
	chmod 644 bob.id
	pencrypt -R bob.r s.pfs > b.pfs
	run -0 --separate-stderr sh -c 'pencrypt -d -i bob.id b.pfs | pjoin | cmp - data.bin'
	assert_equal "$stderr" "pencrypt: warning: bob.id: identity file is readable by group and others (mode 0644): run 'chmod go-rwx bob.id'"
}

@test "pipeline process --recipient(s-file) and restore/verify --identity: passed to pencrypt" {
	cp data.bin f.bin
	pipeline process -q --encrypt --recipients-file alice.r --recipient "$(cat bob.r)" f.bin
	run -0 pinfo f.bin.pfs
	assert_line "stages:         1. compress zstd -3, 2. encrypt aes-256-gcm/2 x25519, 3. hash xxh3"
	rm f.bin
	pipeline restore -q --identity bob.id f.bin.pfs
	cmp f.bin data.bin
	pipeline verify -q --identity carol.id --identity alice.id f.bin.pfs
	rm f.bin
	run -1 --separate-stderr pipeline restore -q --identity carol.id f.bin.pfs
	assert_equal "$stderr" "pencrypt: f.bin.pfs: no identity given matches a recipient of the stream (another identity's, or a damaged HEAD)"
	assert_file_not_exists f.bin
	run -2 --separate-stderr pipeline process --recipient "$(cat bob.r)" data.bin
	usage_line "pipeline: --recipient/--recipients-file needs --encrypt"
	run -2 --separate-stderr pipeline process --encrypt --identity bob.id data.bin
	usage_line "pipeline: --identity does not apply to 'process'"
	run -2 --separate-stderr pipeline process --encrypt --recipient "$(cat bob.r)" --kdf-time 3 data.bin
	usage_line "pipeline: --kdf-time/--kdf-memory need a password, not recipients"
	run -2 --separate-stderr pipeline process --encrypt --recipient "$(cat bob.r)" --resume data.bin
	usage_line "pipeline: --resume needs a key or password that opens the partial output: a stream for recipients alone cannot be continued here (run again without --resume)"
}

@test "pencrypt --continue -i IDENTITY: the identity opens the interrupted output's record" {
	pchunk -s 64K data.bin | pencrypt -R alice.r > full.pfs
	head -c 200000 full.pfs > part.pfs
	# chunks 0 and 1 are whole in part.pfs, chunk 2 cut short
	pchunk -s 64K --range $((2 * 65536)): data.bin | pencrypt --continue part.pfs -i alice.id > tail.pfs
	[ -s tail.pfs ]
	run -1 --separate-stderr sh -c "pchunk -s 64K --range $((2 * 65536)): data.bin | pencrypt --continue part.pfs -i bob.id > t2.pfs"
	assert_equal "$stderr" "pencrypt: stdin: --continue part.pfs: no identity given matches a recipient of the stream (another identity's, or a damaged HEAD)"
	[ ! -s t2.pfs ]
}

@test "pinfo -i IDENTITY checks the HEAD of a stream encrypted to its recipient" {
	pencrypt -R alice.r --hide-name s.pfs > e.pfs
	run -0 pinfo -i alice.id e.pfs
	assert_line "source:         data.bin (hidden by pencrypt --hide-name, opened with the key)"
	run -0 pinfo --json --identity alice.id e.pfs
	assert_output --partial '"verified":true'
	run -1 --separate-stderr pinfo -i bob.id e.pfs
	assert_equal "$stderr" "pinfo: e.pfs: no identity given matches a recipient of the stream (another identity's, or a damaged HEAD)"
}
