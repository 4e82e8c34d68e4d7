/*
 * pencrypt.h - the parts of pencrypt(1), private to it: tools/pencrypt.c
 * (the engine callbacks that seal and open the frames, the HEAD and
 * --range, main) and tools/pencrypt/:
 *   opts.c   --help, the command line into struct opts, checked
 *   keys.c   the secrets and identities into struct pfs_secret, and the
 *            commands that make or show keys (--keygen, --keygen-identity,
 *            --recipient-of)
 *   cont.c   --continue FILE
 *
 * struct opts is filled once by parse() and only read after it.
 */
#ifndef PENCRYPT_H
#define PENCRYPT_H

#include <stdint.h>

#include "cli.h"
#include "encrec.h"
#include "head.h"
#include "recip.h"
#include "secret.h"


struct opts {
	const struct pfs_enc_cipher *cipher;  /* NULL: not given */
	int decrypt, force, hide_name, keygen, keygen_id, rekey;
	struct pfs_keyopt key;        /* PFS_KS_NONE: ask on the terminal,
	                                 unless recipients or identities */
	struct pfs_keyopt newkey;     /* --rekey: --new-key-file and
	                                 --new-password-file/-fd */
	struct pfs_rcps rcps;         /* -r, -R */
	const char *ids[PFS_IDS_MAX]; /* -i */
	unsigned nids;
	const char *rcp_of;           /* --recipient-of FILE */
	const char *keygen_out;       /* --keygen[-identity] -o FILE */
	long kdf_t;                   /* --kdf-time, 0: not given */
	uint64_t kdf_m;               /* --kdf-memory in bytes, 0: not given */
	uint32_t t, m;                /* Argon2id passes and KiB to use */
	const char *input;
	const char *cont;             /* --continue FILE */
	struct pfs_common c;
};

/* cont.c: --continue FILE.  The chunks FILE holds (the last one maybe cut
 * short), read once; each chunk sealed again is first compared with them. */
struct pcont {
	int fd;
	const char *path;
	struct pfs_head head;         /* FILE's, down to its ENCRYPT record */
	uint64_t n;                   /* DATA frames FILE holds */
	uint64_t *off;                /* offset of each one's payload */
	uint64_t *raw;
	uint32_t *len, *avail;        /* its payload length, the bytes there */
	gcry_cipher_hd_t cmp;         /* opens FILE's ciphertext */
	uint8_t *buf;
	uint64_t pos, left, seq;      /* the chunk being compared */
};

int pcont_open(struct pcont *c, const char *path, struct pfs_err *e);
void pcont_free(struct pcont *c);
/* pcont_begin - chunk h (a DATA header, its plaintext length in h->len)
 * is about to be sealed: refuse it if FILE's chunk of that index has
 * another raw length, or another length when whole; set up the
 * comparison of its bytes.  cmp is open with the stream keys. */
int pcont_begin(struct pcont *c, const struct pfs_hdr *h, struct pfs_err *e);
/* pcont_piece - the next n plaintext bytes of that chunk, before they are
 * sealed: equal to FILE's, opened, as far as FILE has them. */
int pcont_piece(struct pcont *c, const uint8_t *p, size_t n,
                struct pfs_err *e);

/* keys.c: keys_prompt - 1 if o asks for a password on the terminal: no
 * key option, and no identity (opening) or recipient (encrypting) to
 * stand in for it.
 * keys_load - the secrets for o: the key option (or the prompt) and the
 * identities into *sec, the new key or password of --rekey into *newsec
 * (NULL unless rekeying); -1 with e set.  tty is the terminal or -1.
 * Opening (-d, --rekey) with the prompt, the password is not asked here
 * but once the HEAD shows the stream opens with one (ask_late,
 * pencrypt.c). */
int keys_prompt(const struct opts *o);
int keys_load(const struct opts *o, int tty, struct pfs_secret **sec,
              struct pfs_secret **newsec, struct pfs_err *e);
/* keys.c: --keygen, --keygen-identity, --recipient-of: the exit status */
int keys_command(const struct opts *o);

/* opts.c: argv into o, checked (o->cipher set, o->t and o->m the Argon2id
 * parameters to use); exits 2 on bad usage, 0 after --help or --version */
void parse(int argc, char **argv, struct opts *o);

#endif
