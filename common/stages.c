#include <string.h>

#include "codec.h"
#include "head.h"
#include "stages.h"

struct name_id {
	unsigned id;
	const char *name;
};

static const struct name_id ciphers[] = {
	{ PFS_E_AES256GCM, "aes-256-gcm" },
	{ PFS_E_CHACHA20POLY1305, "chacha20-poly1305" },
	{ 0, NULL }
};

static const struct name_id hashes[] = {
	{ PFS_H_SHA256, "sha256" }, { PFS_H_SHA512, "sha512" },
	{ PFS_H_SHA3_256, "sha3-256" }, { PFS_H_BLAKE2B, "blake2b" },
	{ PFS_H_XXH64, "xxh64" }, { PFS_H_XXH3, "xxh3" },
	{ PFS_H_XXH128, "xxh128" },
	{ 0, NULL }
};

static const char *
by_id(const struct name_id *t, unsigned id)
{
	for (; t->name; t++)
		if (t->id == id)
			return t->name;
	return NULL;
}

static unsigned
by_name(const struct name_id *t, const char *name)
{
	for (; t->name; t++)
		if (strcmp(t->name, name) == 0)
			return t->id;
	return 0;
}

/* compression algorithms: the codec table (codec.h) */
const char *
pfs_calgo_name(unsigned id)
{
	const struct pfs_codec *c = pfs_codec_by_id(id);

	return c ? c->name : NULL;
}

unsigned
pfs_calgo_id(const char *name)
{
	const struct pfs_codec *c = pfs_codec_by_name(name);

	return c ? c->id : 0;
}


const char *pfs_cipher_name(unsigned id) { return by_id(ciphers, id); }
const char *pfs_hash_name(unsigned id) { return by_id(hashes, id); }
unsigned pfs_cipher_id(const char *name) { return by_name(ciphers, name); }
unsigned pfs_hash_id(const char *name) { return by_name(hashes, name); }

/* stage kind -> the program that undoes it */
static const struct undo {
	unsigned kind;
	const char *prog, *mode;
} undos[] = {
	{ PFS_STAGE_COMPRESS, "pcompress", "-d" },
	{ PFS_STAGE_ENCRYPT, "pencrypt", "-d" },
	{ PFS_STAGE_HASH, "phash", "--check" },
	{ 0, NULL, NULL }
};

int
pfs_stage_undo(unsigned kind, const char **prog, const char **mode)
{
	const struct undo *u;

	for (u = undos; u->prog; u++)
		if (u->kind == kind) {
			*prog = u->prog;
			*mode = u->mode;
			return 0;
		}
	return -1;
}
