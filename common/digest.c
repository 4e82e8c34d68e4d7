#include <string.h>

#include <gcrypt.h>
#include <xxhash.h>

#include "digest.h"
#include "stages.h"

/* --- the implementations: libgcrypt's message digests and libxxhash --- */

static void *
gc_make(const struct pfs_digest_algo *a)
{
	gcry_md_hd_t h;

	return gcry_md_open(&h, a->gcry_algo, 0) ? NULL : h;
}
static void gc_reset(void *st) { gcry_md_reset(st); }
static void gc_update(void *st, const void *p, size_t n) { gcry_md_write(st, p, n); }
static void gc_free(void *st) { gcry_md_close(st); }

static void
gc_final(const struct pfs_digest_algo *a, void *st, uint8_t *out)
{
	memcpy(out, gcry_md_read(st, 0), a->len);
}

static void
gc_buffer(const struct pfs_digest_algo *a, const void *p, size_t n,
          uint8_t *out)
{
	gcry_md_hash_buffer(a->gcry_algo, out, p, n);
}

/* xxhsum prints XXH64/XXH3/XXH128 in canonical (big-endian) order */
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

static void *x64_make(const struct pfs_digest_algo *a) { (void)a; return XXH64_createState(); }
static void x64_reset(void *st) { XXH64_reset(st, 0); }
static void x64_update(void *st, const void *p, size_t n) { XXH64_update(st, p, n); }
static void x64_free(void *st) { XXH64_freeState(st); }
static void
x64_final(const struct pfs_digest_algo *a, void *st, uint8_t *out)
{
	(void)a;
	xxh_out64(XXH64_digest(st), out);
}
static void
x64_buffer(const struct pfs_digest_algo *a, const void *p, size_t n,
           uint8_t *out)
{
	(void)a;
	xxh_out64(XXH64(p, n, 0), out);
}

static void *x3_make(const struct pfs_digest_algo *a) { (void)a; return XXH3_createState(); }
static void x3_free(void *st) { XXH3_freeState(st); }
static void x3_reset(void *st) { XXH3_64bits_reset(st); }
static void x3_update(void *st, const void *p, size_t n) { XXH3_64bits_update(st, p, n); }
static void
x3_final(const struct pfs_digest_algo *a, void *st, uint8_t *out)
{
	(void)a;
	xxh_out64(XXH3_64bits_digest(st), out);
}
static void
x3_buffer(const struct pfs_digest_algo *a, const void *p, size_t n,
          uint8_t *out)
{
	(void)a;
	xxh_out64(XXH3_64bits(p, n), out);
}

static void x128_reset(void *st) { XXH3_128bits_reset(st); }
static void x128_update(void *st, const void *p, size_t n) { XXH3_128bits_update(st, p, n); }
static void
x128_final(const struct pfs_digest_algo *a, void *st, uint8_t *out)
{
	(void)a;
	xxh_out128(XXH3_128bits_digest(st), out);
}
static void
x128_buffer(const struct pfs_digest_algo *a, const void *p, size_t n,
            uint8_t *out)
{
	(void)a;
	xxh_out128(XXH3_128bits(p, n), out);
}

static const struct pfs_digest_ops gcry_ops = {
	gc_make, gc_reset, gc_update, gc_final, gc_free, gc_buffer
};
static const struct pfs_digest_ops xxh64_ops = {
	x64_make, x64_reset, x64_update, x64_final, x64_free, x64_buffer
};
static const struct pfs_digest_ops xxh3_ops = {
	x3_make, x3_reset, x3_update, x3_final, x3_free, x3_buffer
};
static const struct pfs_digest_ops xxh128_ops = {
	x3_make, x128_reset, x128_update, x128_final, x3_free, x128_buffer
};

const struct pfs_digest_algo pfs_digest_algos[] = {
	{ PFS_H_SHA256,   "sha256",   32, "sha256sum",  "SHA256",   0, GCRY_MD_SHA256, &gcry_ops },
	{ PFS_H_SHA512,   "sha512",   64, "sha512sum",  "SHA512",   0, GCRY_MD_SHA512, &gcry_ops },
	{ PFS_H_SHA3_256, "sha3-256", 32, "sha3sum -a 256", "SHA3-256", 0, GCRY_MD_SHA3_256, &gcry_ops },
	{ PFS_H_BLAKE2B,  "blake2b",  64, "b2sum",      "BLAKE2b",  0, GCRY_MD_BLAKE2B_512, &gcry_ops },
	{ PFS_H_XXH64,    "xxh64",     8, "xxhsum -H1", "XXH64",    1, 0, &xxh64_ops },
	{ PFS_H_XXH3,     "xxh3",      8, "xxhsum -H3", "XXH3",     1, 0, &xxh3_ops },
	{ PFS_H_XXH128,   "xxh128",   16, "xxhsum -H2", "XXH128",   1, 0, &xxh128_ops },
	{ 0, NULL, 0, NULL, NULL, 0, 0, NULL }
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
	d->algo = a;
	if (a->gcry_algo && pfs_crypto_init(e) < 0)
		return -1;
	d->state = a->ops->make(a);
	if (!d->state)
		return pfs_seterr(e, "%s: cannot set up the digest (out of "
		                  "memory)", a->name);
	a->ops->reset(d->state);
	return 0;
}

void
pfs_digest_reset(struct pfs_digest *d)
{
	d->algo->ops->reset(d->state);
}

void
pfs_digest_update(struct pfs_digest *d, const void *p, size_t n)
{
	d->algo->ops->update(d->state, p, n);
}

void
pfs_digest_final(struct pfs_digest *d, uint8_t *out)
{
	d->algo->ops->final(d->algo, d->state, out);
	d->algo->ops->reset(d->state);
}

void
pfs_digest_free(struct pfs_digest *d)
{
	if (d->state)
		d->algo->ops->release(d->state);
	d->state = NULL;
}

void
pfs_digest_buffer(const struct pfs_digest_algo *a, const void *p, size_t n,
                  uint8_t *out)
{
	a->ops->buffer(a, p, n, out);
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
