/*
 * stanza.c - the recipient stanzas of an ENCRYPT record of KDF id 2
 * (recip.h; the byte layout and the derivations are in docs/security.md,
 * "Recipients").
 */
#include <stdio.h>
#include <string.h>

#include <gcrypt.h>

#include "kdf.h"
#include "recip.h"
#include "wire.h"

#define SALT_LEN 16u

static const char info_x25519[] = "pfs1 x25519 wrap";
static const char info_key[] = "pfs1 key-file wrap";

/* body length of each kind, 0 for an unknown one */
static size_t
body_len(uint8_t kind)
{
	switch (kind) {
	case PFS_SK_X25519:
		return PFS_X25519_LEN + PFS_WRAP_LEN;
	case PFS_SK_KEY:
		return SALT_LEN + PFS_WRAP_LEN;
	case PFS_SK_PASSWORD:
		return 12 + SALT_LEN + PFS_WRAP_LEN;
	default:
		return 0;
	}
}

/* Secret temporaries, in secure memory. */
struct tmp {
	uint8_t eph[PFS_X25519_LEN];     /* ephemeral scalar */
	uint8_t shared[PFS_X25519_LEN];
	uint8_t salt[2 * PFS_X25519_LEN]; /* share || recipient */
	uint8_t wk[32];                  /* the wrap key */
	uint8_t fk[32];                  /* a candidate file key */
	uint8_t pk[PFS_IDS_MAX][PFS_X25519_LEN]; /* the identities' public
	                                           keys, made once per open */
};

/* wrap - ChaCha20-Poly1305 under wk with an all-zero nonce and no AAD:
 * seal 32 bytes of in into out (48), or open the 48 bytes of in into out
 * (32; wiped unless 0 is returned).  1 when the tag fails. */
static int
wrap(const uint8_t wk[32], int open, const uint8_t *in, uint8_t *out)
{
	static const uint8_t nonce[12];
	gcry_cipher_hd_t hd;
	int rc = -1;

	if (gcry_cipher_open(&hd, GCRY_CIPHER_CHACHA20,
	                     GCRY_CIPHER_MODE_POLY1305, GCRY_CIPHER_SECURE))
		return -1;
	if (gcry_cipher_setkey(hd, wk, 32) ||
	    gcry_cipher_setiv(hd, nonce, sizeof(nonce)))
		goto out;
	if (!open) {
		if (gcry_cipher_final(hd) ||
		    gcry_cipher_encrypt(hd, out, 32, in, 32) ||
		    gcry_cipher_gettag(hd, out + 32, 16))
			goto out;
		rc = 0;
	} else {
		if (gcry_cipher_final(hd) ||
		    gcry_cipher_decrypt(hd, out, 32, in, 32))
			goto out;
		rc = gcry_cipher_checktag(hd, in + 32, 16) ? 1 : 0;
		if (rc)
			explicit_bzero(out, 32);
	}
out:
	gcry_cipher_close(hd);
	return rc;
}

/* x25519_key - t->wk from t->shared and t->salt (share || recipient) */
static int
x25519_key(struct tmp *t, struct pfs_err *e)
{
	return pfs_hkdf_sha256(t->shared, sizeof(t->shared), t->salt,
	                       sizeof(t->salt), (const uint8_t *)info_x25519,
	                       sizeof(info_x25519) - 1, t->wk, sizeof(t->wk), e);
}

static int
key_key(struct tmp *t, const uint8_t key[PFS_KEY_LEN], const uint8_t *salt,
        struct pfs_err *e)
{
	return pfs_hkdf_sha256(key, PFS_KEY_LEN, salt, SALT_LEN,
	                       (const uint8_t *)info_key, sizeof(info_key) - 1,
	                       t->wk, sizeof(t->wk), e);
}

size_t
pfs_stanzas_len(const struct pfs_rcps *r, int key, int password)
{
	return 1 + r->n * (1 + body_len(PFS_SK_X25519)) +
	       (key ? 1 + body_len(PFS_SK_KEY) : 0) +
	       (password ? 1 + body_len(PFS_SK_PASSWORD) : 0);
}

int
pfs_stanzas_make(const struct pfs_secret *s, const struct pfs_rcps *r,
                 uint32_t t, uint32_t m, uint8_t *out, struct pfs_err *e)
{
	struct tmp *x;
	uint8_t *p = out + 1;
	unsigned i;
	int rc = -1;

	x = gcry_calloc_secure(1, sizeof(*x));
	if (!x)
		return pfs_seterr(e, "out of secure memory");
	out[0] = (uint8_t)(r->n + !!s->has_key + !!s->password);
	for (i = 0; i < r->n; i++) {
		*p++ = PFS_SK_X25519;
		gcry_randomize(x->eph, sizeof(x->eph), GCRY_STRONG_RANDOM);
		if (pfs_x25519(p, x->eph, NULL, e) < 0 ||
		    pfs_x25519(x->shared, x->eph, r->pk[i], e) < 0)
			goto out;
		memcpy(x->salt, p, PFS_X25519_LEN);
		memcpy(x->salt + PFS_X25519_LEN, r->pk[i], PFS_X25519_LEN);
		if (x25519_key(x, e) < 0 ||
		    wrap(x->wk, 0, s->master, p + PFS_X25519_LEN) < 0)
			goto fail;
		p += body_len(PFS_SK_X25519);
	}
	if (s->has_key) {
		*p++ = PFS_SK_KEY;
		gcry_randomize(p, SALT_LEN, GCRY_STRONG_RANDOM);
		if (key_key(x, s->key, p, e) < 0 ||
		    wrap(x->wk, 0, s->master, p + SALT_LEN) < 0)
			goto fail;
		p += body_len(PFS_SK_KEY);
	}
	if (s->password) {
		*p++ = PFS_SK_PASSWORD;
		pfs_put32(p, t);
		pfs_put32(p + 4, m);
		pfs_put32(p + 8, PFS_KDF_P_DEF);
		gcry_randomize(p + 12, SALT_LEN, GCRY_STRONG_RANDOM);
		if (pfs_argon2id(s->pw, s->pwlen, p + 12, SALT_LEN, t, m,
		                 PFS_KDF_P_DEF, x->wk, sizeof(x->wk), e) < 0 ||
		    wrap(x->wk, 0, s->master, p + 12 + SALT_LEN) < 0)
			goto fail;
	}
	rc = 0;
	goto out;
fail:
	if (!e->msg[0])
		pfs_seterr(e, "wrapping the file key failed");
out:
	gcry_free(x);                 /* secure memory: wiped */
	return rc;
}

int
pfs_stanzas_check(const uint8_t *p, size_t n, struct pfs_err *e)
{
	size_t pos = 1, bl;
	unsigned i;

	if (n < 1 || p[0] == 0)
		return pfs_seterr(e, "damaged ENCRYPT record (no recipient)");
	for (i = 0; i < p[0]; i++) {
		bl = pos < n ? body_len(p[pos]) : 0;
		if (!bl && pos < n)
			return pfs_seterr(e, "unknown recipient kind %u in the "
			                  "ENCRYPT record (newer pencrypt?)",
			                  p[pos]);
		if (!bl || n - pos - 1 < bl)
			return pfs_seterr(e, "damaged ENCRYPT record "
			                  "(recipients)");
		if (p[pos] == PFS_SK_PASSWORD &&
		    pfs_kdf_check(pfs_get32(p + pos + 1),
		                  pfs_get32(p + pos + 5),
		                  pfs_get32(p + pos + 9), e) < 0)
			return -1;
		pos += 1 + bl;
	}
	if (pos != n)
		return pfs_seterr(e, "damaged ENCRYPT record (recipients)");
	return 0;
}

/* try_one - does stanza (kind, body b) open with one of s's secrets?
 * 1 with the file key in x->fk, 0 not, -1 on an error */
static int
try_one(const struct pfs_secret *s, uint8_t kind, const uint8_t *b,
        struct tmp *x, struct pfs_err *e)
{
	struct pfs_err ignored;
	unsigned i;
	int rc;

	switch (kind) {
	case PFS_SK_X25519:
		for (i = 0; i < s->nids; i++) {
			/* a low-order share opens nothing */
			if (pfs_x25519(x->shared, s->ids[i], b, &ignored) < 0)
				continue;
			memcpy(x->salt, b, PFS_X25519_LEN);
			memcpy(x->salt + PFS_X25519_LEN, x->pk[i],
			       PFS_X25519_LEN);
			if (x25519_key(x, e) < 0)
				return -1;
			rc = wrap(x->wk, 1, b + PFS_X25519_LEN, x->fk);
			if (rc <= 0)
				return rc < 0 ? -1 : 1;
		}
		return 0;
	case PFS_SK_KEY:
		if (!s->has_key)
			return 0;
		if (key_key(x, s->key, b, e) < 0)
			return -1;
		break;
	default:
		if (!s->password)
			return 0;
		if (pfs_argon2id(s->pw, s->pwlen, b + 12, SALT_LEN,
		                 pfs_get32(b), pfs_get32(b + 4),
		                 pfs_get32(b + 8), x->wk, sizeof(x->wk), e) < 0)
			return -1;
		b += 12;
		break;
	}
	rc = wrap(x->wk, 1, b + SALT_LEN, x->fk);
	return rc < 0 ? -1 : !rc;
}

/* kinds - what the user gave or the stream has, in words */
static void
kinds(unsigned m, int uses, char *out, size_t cap)
{
	static const char *const noun[] = { "public keys (X25519)",
	                                    "a key file", "a password" };
	static const char *const use[] = { "-i IDENTITY", "--key-file",
	                                   ("--password-file, --password-fd or "
	                                    "the terminal prompt") };
	static const char pw_among[] = "a password (--password-file, "
	                               "--password-fd or the terminal prompt)";
	unsigned i, k = 0, total = 0;
	size_t len = 0;

	for (i = 0; i < 3; i++)
		total += (m >> i) & 1;
	out[0] = '\0';
	for (i = 0; i < 3; i++) {
		if (!((m >> i) & 1))
			continue;
		k++;
		len += (size_t)snprintf(out + len, len < cap ? cap - len : 0,
		                        "%s%s", k == 1 ? "" : k == total ?
		                        (uses ? " or " : " and ") : ", ",
		                        !uses ? noun[i] : i == 2 && total > 1 ?
		                        pw_among : use[i]);
	}
}

int
pfs_stanzas_open(struct pfs_secret *s, const uint8_t *p, size_t n,
                 struct pfs_err *e)
{
	struct tmp *x;
	char has_s[160], given_s[160], use_s[160];
	unsigned i, has = 0, given;
	size_t pos = 1;
	int rc = 0;

	given = (s->nids ? 1u : 0) | (s->has_key ? 2u : 0) |
	        (s->password ? 4u : 0);
	x = gcry_calloc_secure(1, sizeof(*x));
	if (!x)
		return pfs_seterr(e, "out of secure memory");
	for (i = 0; i < s->nids && rc == 0; i++)
		rc = pfs_x25519(x->pk[i], s->ids[i], NULL, e);
	for (i = 0; i < p[0] && pos < n && rc == 0; i++) {
		has |= 1u << (p[pos] - 1);
		rc = try_one(s, p[pos], p + pos + 1, x, e);
		pos += 1 + body_len(p[pos]);
	}
	if (rc == 1)
		memcpy(s->master, x->fk, sizeof(s->master));
	gcry_free(x);                 /* secure memory: wiped */
	if (rc)
		return rc < 0 ? -1 : 0;
	if (!(has & given)) {
		kinds(has, 0, has_s, sizeof(has_s));
		kinds(given, 0, given_s, sizeof(given_s));
		kinds(has, 1, use_s, sizeof(use_s));
		return pfs_seterr(e, "the stream was encrypted with %s, not %s: "
		                  "use %s", has_s, given_s, use_s);
	}
	if ((has & given) == 1)
		return pfs_seterr(e, "no identity given matches a recipient of "
		                  "the stream (another identity's, or a "
		                  "damaged HEAD)");
	return pfs_seterr(e, "wrong key or password (or a damaged HEAD)");
}

void
pfs_stanzas_describe(const uint8_t *p, size_t n, char *out, size_t cap)
{
	unsigned i, nx = 0, np = 0;
	size_t pos = 1, len = 0;

	for (i = 0; i < p[0] && pos < n; i++) {
		nx += p[pos] == PFS_SK_X25519;
		np += p[pos] == PFS_SK_PASSWORD;
		pos += 1 + body_len(p[pos]);
	}
	out[0] = '\0';
	if (nx > 1)
		len += (size_t)snprintf(out, cap, "%u ", nx);
	if (nx)
		len += (size_t)snprintf(out + len, len < cap ? cap - len : 0,
		                        "x25519");
	if (np)
		snprintf(out + len, len < cap ? cap - len : 0, "%s%.0u%sargon2id",
		         nx ? "+" : "", np > 1 ? np : 0, np > 1 ? " " : "");
}

int
pfs_stanzas_kdf(const uint8_t *p, size_t n, uint32_t *t, uint32_t *m)
{
	unsigned i;
	size_t pos = 1;

	for (i = 0; i < p[0] && pos < n; i++) {
		if (p[pos] == PFS_SK_PASSWORD) {
			*t = pfs_get32(p + pos + 1);
			*m = pfs_get32(p + pos + 5);
			return 1;
		}
		pos += 1 + body_len(p[pos]);
	}
	return 0;
}
