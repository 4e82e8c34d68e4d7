#include <string.h>

#include <gcrypt.h>
#include <xxhash.h>

#include "digest.h"
#include "stages.h"

const struct pfs_digest_algo pfs_digest_algos[] = {
	{ PFS_H_SHA256,   "sha256",   32, "sha256sum",  "SHA256",   0, GCRY_MD_SHA256 },
	{ PFS_H_SHA512,   "sha512",   64, "sha512sum",  "SHA512",   0, GCRY_MD_SHA512 },
	{ PFS_H_SHA3_256, "sha3-256", 32, "sha3sum -a 256", "SHA3-256", 0, GCRY_MD_SHA3_256 },
	{ PFS_H_BLAKE2B,  "blake2b",  64, "b2sum",      "BLAKE2b",  0, GCRY_MD_BLAKE2B_512 },
	{ PFS_H_XXH64,    "xxh64",     8, "xxhsum -H1", "XXH64",    1, 0 },
	{ PFS_H_XXH3,     "xxh3",      8, "xxhsum -H3", "XXH3",     1, 0 },
	{ PFS_H_XXH128,   "xxh128",   16, "xxhsum -H2", "XXH128",   1, 0 },
	{ 0, NULL, 0, NULL, NULL, 0, 0 }
};

const struct pfs_digest_algo *
pfs_digest_by_name(const char *name)
{
	const struct pfs_digest_algo *a;

	for (a = pfs_digest_algos; a->name; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

const struct pfs_digest_algo *
pfs_digest_by_id(unsigned id)
{
	const struct pfs_digest_algo *a;

	for (a = pfs_digest_algos; a->name; a++)
		if (a->id == id)
			return a;
	return NULL;
}

int
pfs_crypto_init(struct pfs_err *e)
{
	static int done;

	if (done)
		return 0;
	if (!gcry_check_version(GCRYPT_VERSION))
		return pfs_seterr(e, "libgcrypt version mismatch (built with "
		                  "%s)", GCRYPT_VERSION);
	/* secure memory for keys and passwords.  libgcrypt's own "Warning:
	 * using insecure memory!" is off: a tool holding secrets asks
	 * pfs_secmem_locked() (secret.h) and warns in its own words */
	gcry_control(GCRYCTL_DISABLE_SECMEM_WARN);
	gcry_control(GCRYCTL_INIT_SECMEM, 65536, 0);
	gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	done = 1;
	return 0;
}

int
pfs_digest_init(struct pfs_digest *d, const struct pfs_digest_algo *a,
                struct pfs_err *e)
{
	gcry_md_hd_t h;
	gcry_error_t ge;

	d->algo = a;
	d->state = NULL;
	switch (a->id) {
	case PFS_H_XXH64:
		d->state = XXH64_createState();
		break;
	case PFS_H_XXH3:
	case PFS_H_XXH128:
		d->state = XXH3_createState();
		break;
	default:
		if (pfs_crypto_init(e) < 0)
			return -1;
		ge = gcry_md_open(&h, a->gcry_algo, 0);
		if (ge)
			return pfs_seterr(e, "%s: %s", a->name, gcry_strerror(ge));
		d->state = h;
		return 0;
	}
	if (!d->state)
		return pfs_seterr(e, "out of memory");
	pfs_digest_reset(d);
	return 0;
}

void
pfs_digest_reset(struct pfs_digest *d)
{
	switch (d->algo->id) {
	case PFS_H_XXH64:
		XXH64_reset(d->state, 0);
		break;
	case PFS_H_XXH3:
		XXH3_64bits_reset(d->state);
		break;
	case PFS_H_XXH128:
		XXH3_128bits_reset(d->state);
		break;
	default:
		gcry_md_reset(d->state);
	}
}

void
pfs_digest_update(struct pfs_digest *d, const void *p, size_t n)
{
	switch (d->algo->id) {
	case PFS_H_XXH64:
		XXH64_update(d->state, p, n);
		break;
	case PFS_H_XXH3:
		XXH3_64bits_update(d->state, p, n);
		break;
	case PFS_H_XXH128:
		XXH3_128bits_update(d->state, p, n);
		break;
	default:
		gcry_md_write(d->state, p, n);
	}
}

static void
xxh_out64(XXH64_hash_t v, uint8_t *out)
{
	XXH64_canonical_t c;

	XXH64_canonicalFromHash(&c, v);
	memcpy(out, c.digest, 8);
}

static void
xxh_out128(XXH128_hash_t v, uint8_t *out)
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, v);
	memcpy(out, c.digest, 16);
}

void
pfs_digest_final(struct pfs_digest *d, uint8_t *out)
{
	switch (d->algo->id) {
	case PFS_H_XXH64:
		xxh_out64(XXH64_digest(d->state), out);
		break;
	case PFS_H_XXH3:
		xxh_out64(XXH3_64bits_digest(d->state), out);
		break;
	case PFS_H_XXH128:
		xxh_out128(XXH3_128bits_digest(d->state), out);
		break;
	default:
		memcpy(out, gcry_md_read(d->state, 0), d->algo->len);
	}
	pfs_digest_reset(d);
}

void
pfs_digest_free(struct pfs_digest *d)
{
	if (!d->state)
		return;
	switch (d->algo->id) {
	case PFS_H_XXH64:
		XXH64_freeState(d->state);
		break;
	case PFS_H_XXH3:
	case PFS_H_XXH128:
		XXH3_freeState(d->state);
		break;
	default:
		gcry_md_close(d->state);
	}
	d->state = NULL;
}

void
pfs_digest_buffer(const struct pfs_digest_algo *a, const void *p, size_t n,
                  uint8_t *out)
{
	switch (a->id) {
	case PFS_H_XXH64:
		xxh_out64(XXH64(p, n, 0), out);
		break;
	case PFS_H_XXH3:
		xxh_out64(XXH3_64bits(p, n), out);
		break;
	case PFS_H_XXH128:
		xxh_out128(XXH3_128bits(p, n), out);
		break;
	default:
		gcry_md_hash_buffer(a->gcry_algo, out, p, n);
	}
}

void
pfs_hex(const uint8_t *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}
