#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "encrec.h"
#include "frame.h"
#include "kdf.h"
#include "recip.h"
#include "stages.h"
#include "wire.h"

#define PIECE  (64u << 10)   /* bytes per gcry_cipher_encrypt call */

static const char hkdf_info[] = "pfs1 pencrypt stream keys";

const struct pfs_enc_cipher pfs_enc_ciphers[] = {
	{ PFS_E_AES256GCM, "aes-256-gcm", GCRY_CIPHER_AES256,
	  GCRY_CIPHER_MODE_GCM },
	{ PFS_E_CHACHA20POLY1305, "chacha20-poly1305", GCRY_CIPHER_CHACHA20,
	  GCRY_CIPHER_MODE_POLY1305 },
	{ 0, NULL, 0, 0 }
};

const struct pfs_enc_cipher *
pfs_enc_cipher_by_id(unsigned id)
{
	const struct pfs_enc_cipher *c;

	for (c = pfs_enc_ciphers; c->name; c++)
		if (c->id == id)
			return c;
	return NULL;
}

const struct pfs_enc_cipher *
pfs_enc_cipher_by_name(const char *name)
{
	const struct pfs_enc_cipher *c;

	for (c = pfs_enc_ciphers; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int
pfs_enc_find(const struct pfs_head *h)
{
	int i;

	for (i = (int)h->nstages - 1; i >= 0; i--)
		if (h->stages[i].kind == PFS_STAGE_ENCRYPT)
			return i;
	return -1;
}

int
pfs_enc_name_hidden(const struct pfs_stage *st)
{
	return st->kind == PFS_STAGE_ENCRYPT && st->len > PFS_ER_FLAGS &&
	       (st->params[PFS_ER_FLAGS] & PFS_ERF_HIDE_NAME);
}

/* stanzas_off - where record st's stanza block starts (KDF id 2): after
 * the fixed fields and the sealed name */
static size_t
stanzas_off(const struct pfs_stage *st)
{
	if (st->len < PFS_ER_LEN)
		return st->len;
	if (st->params[PFS_ER_FLAGS] & PFS_ERF_HIDE_NAME)
		return PFS_ER_NAME + st->params[PFS_ER_NAMELEN] +
		       PFS_ENC_TAG_LEN;
	return PFS_ER_LEN;
}

int
pfs_enc_kdf(const struct pfs_stage *st, uint32_t *t, uint32_t *m)
{
	size_t off = stanzas_off(st);

	if (st->kind != PFS_STAGE_ENCRYPT || st->len < PFS_ER_LEN)
		return 0;
	if (st->params[PFS_ER_KDF] == PFS_KDF_ARGON2ID) {
		*t = pfs_get32(st->params + PFS_ER_T);
		*m = pfs_get32(st->params + PFS_ER_M);
		return 1;
	}
	if (st->params[PFS_ER_KDF] != PFS_KDF_WRAPPED || off >= st->len)
		return 0;
	return pfs_stanzas_kdf(st->params + off, st->len - off, t, m);
}

int
pfs_enc_is_password(const struct pfs_stage *st)
{
	uint32_t t, m;

	return pfs_enc_kdf(st, &t, &m);
}

void
pfs_enc_describe(const struct pfs_stage *st, char *out, size_t n)
{
	const char *name = pfs_cipher_name(st->params[PFS_ER_CIPHER]);
	size_t off = stanzas_off(st);
	char k[64];

	if (!name) {
		snprintf(out, n, "unknown algorithm");
		return;
	}
	k[0] = '\0';
	if (st->len > PFS_ER_KDF &&
	    st->params[PFS_ER_KDF] == PFS_KDF_ARGON2ID)
		snprintf(k, sizeof(k), "argon2id");
	else if (st->len >= PFS_ER_LEN &&
	         st->params[PFS_ER_KDF] == PFS_KDF_WRAPPED && off < st->len)
		pfs_stanzas_describe(st->params + off, st->len - off, k,
		                     sizeof(k));
	snprintf(out, n, "%s%s%s", name, k[0] ? "/" : "", k);
}

int
pfs_enc_check(const struct pfs_head *h, const struct pfs_stage *st,
              struct pfs_err *e)
{
	const uint8_t *p = st->params;
	size_t want, i;
	uint8_t any = 0;

	if (!pfs_enc_cipher_by_id(p[PFS_ER_CIPHER]))
		return pfs_seterr(e, "unknown cipher id %u in the ENCRYPT record "
		                  "(a damaged HEAD, or a newer pencrypt?)", p[PFS_ER_CIPHER]);
	if (st->len > PFS_ER_KDF && p[PFS_ER_KDF] > PFS_KDF_WRAPPED)
		return pfs_seterr(e, "unknown KDF id %u in the ENCRYPT record "
		                  "(a damaged HEAD, or a newer pencrypt?)", p[PFS_ER_KDF]);
	want = stanzas_off(st);
	if (st->len < PFS_ER_LEN || want > st->len ||
	    (p[PFS_ER_KDF] != PFS_KDF_WRAPPED && st->len != want) ||
	    (p[PFS_ER_FLAGS] & ~PFS_ERF_HIDE_NAME) || p[PFS_ER_RESERVED] ||
	    ((p[PFS_ER_FLAGS] & PFS_ERF_HIDE_NAME) && h->namelen))
		return pfs_seterr(e, "damaged ENCRYPT record");
	if (p[PFS_ER_KDF] == PFS_KDF_ARGON2ID)
		return pfs_kdf_check(pfs_get32(p + PFS_ER_T),
		                     pfs_get32(p + PFS_ER_M),
		                     pfs_get32(p + PFS_ER_P), e);
	for (i = PFS_ER_T; i < PFS_ER_SALT; i++)
		any |= p[i];
	if (any)
		return pfs_seterr(e, "damaged ENCRYPT record");
	if (p[PFS_ER_KDF] == PFS_KDF_WRAPPED)
		return pfs_stanzas_check(p + want, st->len - want, e);
	return 0;
}

int
pfs_enc_stream_keys(struct pfs_secret *s, unsigned cipher_id,
                    const uint8_t salt[PFS_ENC_SALT_LEN], struct pfs_err *e)
{
	uint8_t info[sizeof(hkdf_info)];

	memcpy(info, hkdf_info, sizeof(hkdf_info) - 1);
	info[sizeof(hkdf_info) - 1] = (uint8_t)cipher_id;
	return pfs_hkdf_sha256(s->master, PFS_KEY_LEN, salt, PFS_ENC_SALT_LEN,
	                       info, sizeof(info), s->keys, sizeof(s->keys), e);
}

int
pfs_enc_cipher_open(const struct pfs_enc_cipher *c,
                    const struct pfs_secret *s, gcry_cipher_hd_t *hd,
                    struct pfs_err *e)
{
	gcry_error_t ge;

	ge = gcry_cipher_open(hd, c->algo, c->mode, GCRY_CIPHER_SECURE);
	if (ge) {
		*hd = NULL;
		return pfs_seterr(e, "%s: %s%s", c->name, gcry_strerror(ge),
		                  gcry_err_code(ge) == GPG_ERR_ENOMEM ?
		                  " (secure memory)" : "");
	}
	ge = gcry_cipher_setkey(*hd, s->keys, PFS_KEY_LEN);
	if (ge) {
		gcry_cipher_close(*hd);
		*hd = NULL;
		return pfs_seterr(e, "%s: %s", c->name, gcry_strerror(ge));
	}
	return 0;
}

int
pfs_enc_head_mac(const struct pfs_secret *s, struct pfs_head *h,
                 int verify, struct pfs_err *e)
{
	struct pfs_buf hb = PFS_BUF_INIT;
	gcry_mac_hd_t mh = NULL;
	uint8_t sig[PFS_SIG_LEN], mac[PFS_ENC_MAC_LEN];
	uint8_t *field = h->stages[h->nstages - 1].params + PFS_ER_MAC;
	size_t len = sizeof(mac);
	int rc = -1;

	pfs_sig_write(sig);
	memcpy(mac, field, sizeof(mac));
	memset(field, 0, sizeof(mac));
	if (h->range_cut) {
		/* cut out of a whole stream by this process: the MAC was
		 * made over the whole stream's HEAD */
		struct pfs_head whole = *h;
		pfs_head_unrange(&whole);
		if (pfs_head_encode(&whole, &hb, e) < 0)
			goto out;
	} else if (pfs_head_encode(h, &hb, e) < 0)
		goto out;
	if (gcry_mac_open(&mh, GCRY_MAC_HMAC_SHA256, GCRY_MAC_FLAG_SECURE,
	                  NULL) ||
	    gcry_mac_setkey(mh, s->keys + PFS_KEY_LEN, PFS_KEY_LEN) ||
	    gcry_mac_write(mh, sig, sizeof(sig)) ||
	    gcry_mac_write(mh, hb.p, hb.len)) {
		pfs_seterr(e, "HMAC-SHA-256 failed");
		goto out;
	}
	if (verify)
		rc = gcry_mac_verify(mh, mac, sizeof(mac)) ? 1 : 0;
	else if (gcry_mac_read(mh, mac, &len))
		pfs_seterr(e, "HMAC-SHA-256 failed");
	else
		rc = 0;
out:
	memcpy(field, mac, sizeof(mac));
	gcry_mac_close(mh);
	pfs_buf_free(&hb);
	return rc;
}

void
pfs_enc_nonce(uint8_t n[PFS_ENC_NONCE_LEN], uint64_t ctr, uint8_t type,
              int final)
{
	pfs_put64(n, ctr);
	n[8] = type;
	n[9] = (uint8_t)final;
	n[10] = n[11] = 0;
}

size_t
pfs_enc_aad(uint8_t aad[PFS_ENC_AAD_MAX], uint8_t type, uint8_t flags,
            uint64_t seq, uint64_t raw, uint64_t ctr, const uint64_t *ndigest)
{
	aad[0] = type;
	aad[1] = flags;
	pfs_put64(aad + 2, seq);
	pfs_put64(aad + 10, raw);
	pfs_put64(aad + 18, ctr);
	if (!ndigest)
		return 26;
	pfs_put64(aad + 26, *ndigest);
	return 34;
}

int
pfs_enc_aead(gcry_cipher_hd_t hd, int open,
             const uint8_t nonce[PFS_ENC_NONCE_LEN], const uint8_t *aad,
             size_t aadlen, const uint8_t *in, uint8_t *out, size_t n)
{
	size_t off, k;
	gcry_error_t ge;

	if (gcry_cipher_setiv(hd, nonce, PFS_ENC_NONCE_LEN) ||
	    gcry_cipher_authenticate(hd, aad, aadlen))
		return -1;
	for (off = 0; off < n; off += k) {
		k = n - off < PIECE ? n - off : PIECE;
		ge = open ? gcry_cipher_decrypt(hd, out + off, k, in + off, k) :
		            gcry_cipher_encrypt(hd, out + off, k, in + off, k);
		if (ge)
			return -1;
	}
	if (open)
		return gcry_cipher_checktag(hd, in + n, PFS_ENC_TAG_LEN) ? -1 : 0;
	return gcry_cipher_gettag(hd, out + n, PFS_ENC_TAG_LEN) ? -1 : 0;
}

int
pfs_enc_frame(gcry_cipher_hd_t hd, int open, const struct pfs_hdr *h,
              uint64_t ctr, const uint64_t *ndigest, const uint8_t *in,
              uint8_t *out, size_t n)
{
	uint8_t nonce[PFS_ENC_NONCE_LEN], aad[PFS_ENC_AAD_MAX];
	size_t alen;

	pfs_enc_nonce(nonce, ctr, h->type, h->type == PFS_END);
	alen = pfs_enc_aad(aad, h->type, h->flags, h->seq, h->raw, ctr,
	                   ndigest);
	return pfs_enc_aead(hd, open, nonce, aad, alen, in, out, n);
}

int
pfs_enc_seal_begin(gcry_cipher_hd_t hd, const struct pfs_hdr *h, uint64_t ctr)
{
	uint8_t nonce[PFS_ENC_NONCE_LEN], aad[PFS_ENC_AAD_MAX];
	size_t alen;

	pfs_enc_nonce(nonce, ctr, h->type, h->type == PFS_END);
	alen = pfs_enc_aad(aad, h->type, h->flags, h->seq, h->raw, ctr, NULL);
	if (gcry_cipher_setiv(hd, nonce, PFS_ENC_NONCE_LEN) ||
	    gcry_cipher_authenticate(hd, aad, alen))
		return -1;
	return 0;
}

int
pfs_enc_seal_piece(gcry_cipher_hd_t hd, uint8_t *p, size_t n)
{
	size_t off, k;

	for (off = 0; off < n; off += k) {
		k = n - off < PIECE ? n - off : PIECE;
		if (gcry_cipher_encrypt(hd, p + off, k, NULL, 0))
			return -1;
	}
	return 0;
}

int
pfs_enc_seal_end(gcry_cipher_hd_t hd, uint8_t tag[PFS_ENC_TAG_LEN])
{
	return gcry_cipher_gettag(hd, tag, PFS_ENC_TAG_LEN) ? -1 : 0;
}

int
pfs_enc_order_next(struct pfs_enc_order *o, const struct pfs_hdr *h,
                   struct pfs_err *e)
{
	switch (h->type) {
	case PFS_DATA:
		if (h->seq != o->next_seq)
			return pfs_seterr(e, "chunk %" PRIu64 " where chunk %"
			                  PRIu64 " was expected", h->seq,
			                  o->next_seq);
		o->next_seq++;
		o->raw_total += h->raw;
		o->last_seq = h->seq;
		o->have_data = 1;
		return 0;
	case PFS_DIGEST:
		if (!o->have_data || h->seq != o->last_seq)
			return pfs_seterr(e, "DIGEST frame of chunk %" PRIu64
			                  " out of place", h->seq);
		return 0;
	case PFS_END:
		if (h->seq != o->next_seq - o->first_seq ||
		    h->raw != o->raw_total)
			return pfs_seterr(e, "END does not match the chunks "
			                  "(frames dropped or duplicated)");
		return 0;
	default:
		return 0;
	}
}

/* finish - push record p (len bytes) with the cap below + the tag on h,
 * and its header MAC */
static int
finish(struct pfs_secret *s, struct pfs_head *h, const uint8_t *p,
       size_t len, uint32_t below, struct pfs_err *e)
{
	if (below > PFS_PAYLOAD_MAX - PFS_ENC_TAG_LEN)
		return pfs_seterr(e, "payloads would grow past the format's "
		                  "limit of %u bytes", PFS_PAYLOAD_MAX);
	if (pfs_head_push(h, PFS_STAGE_ENCRYPT, p, len,
	                  below + PFS_ENC_TAG_LEN, e) < 0)
		return -1;
	return pfs_enc_head_mac(s, h, 0, e);
}

/* stanzas - append the stanza block for r and s's key and password to p
 * at *len */
static int
stanzas(const struct pfs_secret *s, const struct pfs_rcps *r, uint32_t t,
        uint32_t m, uint8_t *p, size_t *len, struct pfs_err *e)
{
	size_t n = pfs_stanzas_len(r, s->has_key, s->password);

	if (*len + n > PFS_STAGE_PARAMS_MAX)
		return pfs_seterr(e, "too many recipients for one ENCRYPT "
		                  "record (%zu bytes, at most %u)", *len + n,
		                  PFS_STAGE_PARAMS_MAX);
	if (pfs_stanzas_make(s, r, t, m, p + *len, e) < 0)
		return -1;
	*len += n;
	return 0;
}

int
pfs_enc_lock(struct pfs_secret *s, struct pfs_head *h,
             const struct pfs_enc_cipher *c, const struct pfs_rcps *r,
             uint32_t t, uint32_t m, int hide, gcry_cipher_hd_t *hd,
             struct pfs_err *e)
{
	uint8_t p[PFS_STAGE_PARAMS_MAX], nonce[PFS_ENC_NONCE_LEN];
	uint32_t below = pfs_head_cap(h);
	size_t len = PFS_ER_LEN, n;

	*hd = NULL;
	if (!r->n && !s->has_key && !s->password)
		return pfs_seterr(e, "no recipient, key or password to "
		                  "encrypt to");
	memset(p, 0, sizeof(p));
	p[PFS_ER_CIPHER] = (uint8_t)c->id;
	p[PFS_ER_KDF] = PFS_KDF_WRAPPED;
	/* the file key: the stream's own, wrapped for each recipient */
	gcry_randomize(s->master, PFS_KEY_LEN, GCRY_STRONG_RANDOM);
	gcry_randomize(p + PFS_ER_SALT, PFS_ENC_SALT_LEN, GCRY_STRONG_RANDOM);
	if (pfs_enc_stream_keys(s, c->id, p + PFS_ER_SALT, e) < 0 ||
	    pfs_enc_cipher_open(c, s, hd, e) < 0)
		return -1;
	if (hide) {
		n = h->namelen;
		p[PFS_ER_FLAGS] |= PFS_ERF_HIDE_NAME;
		p[PFS_ER_NAMELEN] = (uint8_t)n;
		pfs_enc_nonce(nonce, 0, PFS_HEAD, 0);
		if (pfs_enc_aead(*hd, 0, nonce, NULL, 0,
		                 (const uint8_t *)h->name, p + PFS_ER_NAME, n) < 0)
			return pfs_seterr(e, "%s failed", c->name);
		len = PFS_ER_NAME + n + PFS_ENC_TAG_LEN;
		memset(h->name, 0, sizeof(h->name));
		h->namelen = 0;
	}
	if (stanzas(s, r, t, m, p, &len, e) < 0)
		return -1;
	return finish(s, h, p, len, below, e);
}

int
pfs_enc_rewrap(struct pfs_secret *s, struct pfs_head *h,
               const struct pfs_rcps *r, uint32_t t, uint32_t m,
               struct pfs_err *e)
{
	uint8_t p[PFS_STAGE_PARAMS_MAX];
	const struct pfs_stage *st = pfs_head_top(h);
	size_t len = stanzas_off(st);
	uint32_t cap = st->cap;

	if (!r->n && !s->has_key && !s->password)
		return pfs_seterr(e, "no recipient, key or password to "
		                  "encrypt to");
	/* a record of KDF id 0 has no file key of its own: its key is the
	 * key file's, which opens every other stream of that key file, so
	 * it must not be wrapped for anyone */
	if (st->params[PFS_ER_KDF] == PFS_KDF_NONE)
		return pfs_seterr(e, "this stream's key is the key file's own "
		                  "(made before recipients): --rekey would hand "
		                  "that key to the new recipients; decrypt it and "
		                  "encrypt it again instead");
	memcpy(p, st->params, len);
	p[PFS_ER_KDF] = PFS_KDF_WRAPPED;
	memset(p + PFS_ER_T, 0, PFS_ER_SALT - PFS_ER_T);
	memset(p + PFS_ER_MAC, 0, PFS_ENC_MAC_LEN);
	if (stanzas(s, r, t, m, p, &len, e) < 0)
		return -1;
	if (pfs_enc_name_hidden(st)) {
		/* opened by pfs_enc_unlock: sealed in the record again */
		memset(h->name, 0, sizeof(h->name));
		h->namelen = 0;
	}
	pfs_head_pop(h);
	return finish(s, h, p, len, cap - PFS_ENC_TAG_LEN, e);
}

/* open_name - the hidden name of record st into h->name */
static int
open_name(gcry_cipher_hd_t hd, const struct pfs_stage *st,
          struct pfs_head *h, struct pfs_err *e)
{
	uint8_t nonce[PFS_ENC_NONCE_LEN];
	size_t n = st->params[PFS_ER_NAMELEN];

	pfs_enc_nonce(nonce, 0, PFS_HEAD, 0);
	if (pfs_enc_aead(hd, 1, nonce, NULL, 0, st->params + PFS_ER_NAME,
	                 (uint8_t *)h->name, n) < 0) {
		memset(h->name, 0, sizeof(h->name));
		return pfs_seterr(e, "hidden name failed authentication");
	}
	h->name[n] = '\0';
	if (memchr(h->name, '/', n) || strlen(h->name) != n ||
	    strcmp(h->name, ".") == 0 || strcmp(h->name, "..") == 0) {
		memset(h->name, 0, sizeof(h->name));
		return pfs_seterr(e, "hidden name is not a file name");
	}
	h->namelen = (uint16_t)n;
	return 0;
}

/* legacy - the master key of a record of KDF id 0 (the key file's key) or
 * 1 (Argon2id of the password) into s->master */
static int
legacy(struct pfs_secret *s, const struct pfs_stage *st, struct pfs_err *e)
{
	const uint8_t *p = st->params;
	int pw = p[PFS_ER_KDF] == PFS_KDF_ARGON2ID;

	if (!pw && !s->has_key)
		return pfs_seterr(e, "the stream was encrypted with a key file, "
		                  "not %s: use --key-file", s->password ?
		                  "a password" : "public keys (X25519)");
	if (pw && !s->password)
		return pfs_seterr(e, "the stream was encrypted with a password, "
		                  "not %s: use --password-file, --password-fd "
		                  "or the terminal prompt", s->has_key ?
		                  "a key file" : "public keys (X25519)");
	if (!pw) {
		memcpy(s->master, s->key, PFS_KEY_LEN);
		return 0;
	}
	return pfs_argon2id(s->pw, s->pwlen, p + PFS_ER_KSALT,
	                    PFS_ENC_KSALT_LEN, pfs_get32(p + PFS_ER_T),
	                    pfs_get32(p + PFS_ER_M), pfs_get32(p + PFS_ER_P),
	                    s->master, PFS_KEY_LEN, e);
}

int
pfs_enc_unlock(struct pfs_secret *s, struct pfs_head *h,
               const struct pfs_enc_cipher **c, gcry_cipher_hd_t *hd,
               struct pfs_err *e)
{
	struct pfs_stage *st = &h->stages[h->nstages - 1];
	const uint8_t *p = st->params;
	size_t off;
	int rc;

	*hd = NULL;
	if (pfs_enc_check(h, st, e) < 0)
		return -1;
	*c = pfs_enc_cipher_by_id(p[PFS_ER_CIPHER]);
	if (p[PFS_ER_KDF] == PFS_KDF_WRAPPED) {
		off = stanzas_off(st);
		if (pfs_stanzas_open(s, p + off, st->len - off, e) < 0)
			return -1;
	} else if (legacy(s, st, e) < 0) {
		return -1;
	}
	if (pfs_enc_stream_keys(s, (*c)->id, p + PFS_ER_SALT, e) < 0)
		return -1;
	rc = pfs_enc_head_mac(s, h, 1, e);
	if (rc == 1 && (h->flags & PFS_HF_RANGE) && !h->range_cut) {
		/* a range cut out of the whole stream after encryption? */
		h->range_cut = 1;
		rc = pfs_enc_head_mac(s, h, 1, e);
		if (rc)
			h->range_cut = 0;
	}
	if (rc < 0)
		return -1;
	if (rc)
		return pfs_seterr(e, "wrong key or password (or a damaged "
		                  "HEAD)");
	/* the cap must be the one below + the tag */
	if (st->cap != pfs_head_cap_below(h) + PFS_ENC_TAG_LEN)
		return pfs_seterr(e, "damaged ENCRYPT record (payload cap)");
	if (pfs_enc_cipher_open(*c, s, hd, e) < 0)
		return -1;
	if (pfs_enc_name_hidden(st) && open_name(*hd, st, h, e) < 0) {
		gcry_cipher_close(*hd);
		*hd = NULL;
		return -1;
	}
	return 0;
}
