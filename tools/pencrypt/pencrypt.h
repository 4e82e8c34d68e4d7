/*
 * pencrypt.h - the parts of pencrypt(1), private to it: tools/pencrypt.c
 * (the engine callbacks that seal and open the frames, the HEAD and
 * --range, main) and tools/pencrypt/:
 *   opts.c   --help, the command line into struct opts, checked
 *
 * struct opts is filled once by parse() and only read after it.
 */
#ifndef PENCRYPT_H
#define PENCRYPT_H

#include <stdint.h>

#include "cli.h"
#include "encrec.h"
#include "secret.h"

struct opts {
	const struct pfs_enc_cipher *cipher;  /* NULL: not given */
	int decrypt, force, hide_name, keygen;
	struct pfs_keyopt key;        /* PFS_KS_NONE: ask on the terminal */
	const char *keygen_out;       /* --keygen -o FILE */
	long kdf_t;                   /* --kdf-time, 0: not given */
	uint64_t kdf_m;               /* --kdf-memory in bytes, 0: not given */
	uint32_t t, m;                /* Argon2id passes and KiB to use */
	const char *input;
	struct pfs_common c;
};

/* opts.c: argv into o, checked (o->cipher set, o->t and o->m the Argon2id
 * parameters to use); exits 2 on bad usage, 0 after --help or --version */
void parse(int argc, char **argv, struct opts *o);

#endif
