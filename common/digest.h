/*
 * digest.h - the digest algorithms of phash (and pjoin's verification),
 * from libgcrypt (SHA-2, SHA-3, BLAKE2b) and libxxhash (XXH64, XXH3,
 * XXH128).  Algorithms are rows of a static table of function pointers.
 *
 * A struct pfs_digest is one running digest.  It owns its library state:
 * pfs_digest_free() releases it.  Output bytes are in each stock tool's
 * canonical order (xxhsum prints XXH64/XXH3 big-endian, which is what
 * pfs_digest_final() writes), so hex of the output is what the tool prints.
 */
#ifndef PFS_DIGEST_H
#define PFS_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define PFS_DIGEST_MAXLEN 64u

struct pfs_digest_algo;

/* One implementation: the table's rows point at one of these (sbase's
 * crypt_ops).  make returns a fresh state or NULL (out of memory); final
 * writes algo->len bytes; buffer digests one buffer without a state, so
 * worker threads may call it concurrently. */
struct pfs_digest_ops {
	void *(*make)(const struct pfs_digest_algo *a);
	void (*reset)(void *st);
	void (*update)(void *st, const void *p, size_t n);
	void (*final)(const struct pfs_digest_algo *a, void *st, uint8_t *out);
	void (*release)(void *st);
	void (*buffer)(const struct pfs_digest_algo *a, const void *p,
	               size_t n, uint8_t *out);
};

struct pfs_digest_algo {
	unsigned id;              /* enum pfs_halgo */
	const char *name;         /* "sha256" */
	unsigned len;             /* output bytes */
	const char *sum_tool;     /* "sha256sum", "xxhsum -H3", ... */
	const char *tag_name;     /* BSD tag: "SHA256", "XXH3", ... */
	int xxh_style;            /* 1: xxhsum line/tag format */
	int gcry_algo;            /* libgcrypt id, 0 for xxhash */
	const struct pfs_digest_ops *ops;
};

struct pfs_digest {
	const struct pfs_digest_algo *algo;
	void *state;
};

/* Table lookup; NULL if unknown. */
const struct pfs_digest_algo *pfs_digest_by_name(const char *name);
const struct pfs_digest_algo *pfs_digest_by_id(unsigned id);
/* The table itself, terminated by a row with name NULL. */
extern const struct pfs_digest_algo pfs_digest_algos[];

/* pfs_crypto_init - initialise libgcrypt once (secure memory included);
 * safe to call repeatedly and from several tools.  Returns 0 or -1. */
int pfs_crypto_init(struct pfs_err *e);

int  pfs_digest_init(struct pfs_digest *d, const struct pfs_digest_algo *a,
                     struct pfs_err *e);
void pfs_digest_reset(struct pfs_digest *d);
void pfs_digest_update(struct pfs_digest *d, const void *p, size_t n);
/* Writes algo->len bytes to out; the state is reset afterwards. */
void pfs_digest_final(struct pfs_digest *d, uint8_t *out);
void pfs_digest_free(struct pfs_digest *d);

/* pfs_digest_buffer - digest of one buffer (per-chunk digests); needs no
 * state, so worker threads call it freely. */
void pfs_digest_buffer(const struct pfs_digest_algo *a, const void *p,
                       size_t n, uint8_t *out);

/* pfs_hex - lowercase hex of n bytes into out (2n+1 bytes). */
void pfs_hex(const uint8_t *p, size_t n, char *out);

#endif
