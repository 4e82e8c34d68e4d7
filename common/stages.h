/*
 * stages.h - algorithm ids used in stage records (params[0]) and their
 * names.  The ids are part of the format (docs/format.md); never renumber.
 * Lookups are plain static tables; the compression algorithms' names come
 * from the codec table (codec.h), the one place they are written.
 * The program that undoes each stage kind (pfs_stage_undo) is written
 * here once too, for the tools that build the inverse pipeline.
 */
#ifndef PFS_STAGES_H
#define PFS_STAGES_H

#include <stdint.h>

enum pfs_calgo { PFS_C_ZSTD = 1, PFS_C_LZ4 = 2, PFS_C_BROTLI = 3 };
enum pfs_cipher { PFS_E_AES256GCM = 1, PFS_E_CHACHA20POLY1305 = 2 };
enum pfs_kdf { PFS_KDF_NONE = 0, PFS_KDF_ARGON2ID = 1, PFS_KDF_WRAPPED = 2 };
enum pfs_halgo {
	PFS_H_SHA256 = 1, PFS_H_SHA512 = 2, PFS_H_SHA3_256 = 3,
	PFS_H_BLAKE2B = 4, PFS_H_XXH64 = 5, PFS_H_XXH3 = 6, PFS_H_XXH128 = 7
};

/* Name of an id, or NULL if unknown. */
const char *pfs_calgo_name(unsigned id);
const char *pfs_cipher_name(unsigned id);
const char *pfs_hash_name(unsigned id);

/* Id for a name, or 0 if unknown. */
unsigned pfs_calgo_id(const char *name);
unsigned pfs_cipher_id(const char *name);
unsigned pfs_hash_id(const char *name);

/* pfs_stage_undo - the program and mode (its first argument) that undo a
 * stage record of this kind (enum pfs_stage_kind, head.h): "phash"
 * "--check", "pencrypt" "-d", "pcompress" "-d".  The strings are static.
 * Returns 0, or -1 for an unknown kind (*prog and *mode untouched). */
int pfs_stage_undo(unsigned kind, const char **prog, const char **mode);

#endif
