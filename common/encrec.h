/*
 * encrec.h - the ENCRYPT stage record of pencrypt (docs/format.md,
 * docs/security.md): its byte layout, its validation, the header MAC, the
 * per-stream keys and the AEAD primitives built on them.  The one place
 * that knows the layout: pencrypt, pinfo and head.c read the record
 * through these names, never by bare offsets.
 *
 * Invariants and ownership:
 *  - A record's params are PFS_ER_LEN bytes, or PFS_ER_NAME + N +
 *    PFS_ENC_TAG_LEN with PFS_ERF_HIDE_NAME (N the hidden name's length),
 *    followed with KDF id 2 (PFS_KDF_WRAPPED, what pencrypt writes) by
 *    the recipient stanzas (recip.h); pfs_enc_check() accepts nothing
 *    else.  KDF ids 0 (key file) and 1 (Argon2id) are read, never written.
 *  - Keys: master (32 bytes: the random file key the stanzas wrap; with
 *    KDF id 0 or 1 the key file's key or Argon2id's output) -> HKDF-SHA-256
 *    with the stream salt -> payload key || header MAC key (64 bytes,
 *    struct pfs_secret.keys).
 *    All of them are in the caller's secure memory; nothing here keeps a
 *    copy.  Cipher handles are opened GCRY_CIPHER_SECURE and belong to the
 *    caller, who closes them.
 *  - Nonces never repeat under one payload key: counter, frame type and a
 *    final flag (pfs_enc_nonce); docs/security.md says which counter each
 *    frame type uses.
 *  - common/ style: nothing prints or exits; -1 with e set.
 */
#ifndef PFS_ENCREC_H
#define PFS_ENCREC_H

#include <stddef.h>
#include <stdint.h>

#include <gcrypt.h>

#include "err.h"
#include "frame.h"
#include "head.h"
#include "recip.h"
#include "secret.h"

#define PFS_ENC_TAG_LEN      16u   /* AEAD tag after every sealed payload */
#define PFS_ENC_NONCE_LEN    12u
#define PFS_ENC_MAC_LEN      32u   /* header MAC, HMAC-SHA-256 */
#define PFS_ENC_SALT_LEN     32u   /* stream salt (HKDF) */
#define PFS_ENC_KSALT_LEN    16u   /* Argon2id salt */
#define PFS_ENC_AAD_MAX      34u   /* END: 26 bytes + the DIGEST count */

/* Offsets in the ENCRYPT record's params (little-endian fields). */
enum {
	PFS_ER_CIPHER = 0,            /* u8 cipher id (stages.h) */
	PFS_ER_KDF = 1,               /* u8 0 key file, 1 argon2id, 2 wrapped */
	PFS_ER_FLAGS = 2,             /* u8 PFS_ERF_* */
	PFS_ER_RESERVED = 3,          /* u8 0 */
	PFS_ER_T = 4,                 /* u32 Argon2 passes (0 for a key) */
	PFS_ER_M = 8,                 /* u32 Argon2 KiB (0 for a key) */
	PFS_ER_P = 12,                /* u32 Argon2 lanes (0 for a key) */
	PFS_ER_KSALT = 16,            /* 16 bytes Argon2 salt (0 for a key) */
	PFS_ER_SALT = 32,             /* 32 bytes stream salt */
	PFS_ER_MAC = 64,              /* 32 bytes header MAC */
	PFS_ER_LEN = 96,              /* params without a hidden name */
	PFS_ER_NAMELEN = 96,          /* u8 N, with PFS_ERF_HIDE_NAME */
	PFS_ER_NAME = 97              /* N + 16 bytes: the sealed name */
};
#define PFS_ERF_HIDE_NAME  0x01u  /* the source name is sealed here */

/* A cipher: the stages.h id and name with libgcrypt's algorithm and mode. */
struct pfs_enc_cipher {
	unsigned id;
	const char *name;
	int algo, mode;
};

/* Table lookups; NULL if unknown.  ciphers[0] is the default. */
const struct pfs_enc_cipher *pfs_enc_cipher_by_id(unsigned id);
const struct pfs_enc_cipher *pfs_enc_cipher_by_name(const char *name);
extern const struct pfs_enc_cipher pfs_enc_ciphers[];

/* pfs_enc_find - index of the topmost ENCRYPT record of h, or -1. */
int pfs_enc_find(const struct pfs_head *h);

/* pfs_enc_name_hidden - 1 if record st is an ENCRYPT record holding the
 * sealed source name (--hide-name). */
int pfs_enc_name_hidden(const struct pfs_stage *st);

/* pfs_enc_is_password - 1 if record st opens with a password (Argon2id):
 * KDF id 1, or KDF id 2 with a password stanza. */
int pfs_enc_is_password(const struct pfs_stage *st);

/* pfs_enc_kdf - the Argon2id passes and KiB of record st's password (KDF
 * id 1, or the first password stanza of KDF id 2) in *t, *m: 1, or 0 when
 * it has no password. */
int pfs_enc_kdf(const struct pfs_stage *st, uint32_t *t, uint32_t *m);

/* pfs_enc_describe - "aes-256-gcm", "aes-256-gcm/argon2id",
 * "chacha20-poly1305/2 x25519+argon2id": the cipher and what opens the
 * record but a key file, for messages and pinfo. */
void pfs_enc_describe(const struct pfs_stage *st, char *out, size_t n);

/* pfs_enc_check - st, the top record of h, is a well-formed ENCRYPT
 * record: known cipher, exact length, no unknown flag or reserved bit, zero
 * Argon2 fields for a key file, Argon2 parameters within the caps
 * (kdf.h).  Nothing is derived.  Returns 0 or -1 with e set. */
int pfs_enc_check(const struct pfs_head *h, const struct pfs_stage *st,
                  struct pfs_err *e);

/* pfs_enc_stream_keys - s->keys from s->master, the cipher id and the
 * stream salt (HKDF-SHA-256, info "pfs1 pencrypt stream keys" || id). */
int pfs_enc_stream_keys(struct pfs_secret *s, unsigned cipher_id,
                        const uint8_t salt[PFS_ENC_SALT_LEN],
                        struct pfs_err *e);

/* pfs_enc_cipher_open - a secure cipher handle keyed with the payload key
 * (s->keys).  The caller closes *hd. */
int pfs_enc_cipher_open(const struct pfs_enc_cipher *c,
                        const struct pfs_secret *s, gcry_cipher_hd_t *hd,
                        struct pfs_err *e);

/* pfs_enc_head_mac - the header MAC of h, whose top record is ENCRYPT:
 * HMAC-SHA-256 under the header key (s->keys + 32) of the signature and
 * the HEAD encoding with the MAC field zeroed (and without the range
 * fields when h->range_cut).  Without verify the MAC is
 * stored in the record; with verify it is compared (constant time) with
 * the stored one.  h is unchanged otherwise.  Returns 0, 1 on a mismatch,
 * or -1 with e set. */
int pfs_enc_head_mac(const struct pfs_secret *s, struct pfs_head *h,
                     int verify, struct pfs_err *e);

/* pfs_enc_nonce - counter (u64 LE) || type || final || 00 00. */
void pfs_enc_nonce(uint8_t n[PFS_ENC_NONCE_LEN], uint64_t ctr, uint8_t type,
                   int final);

/* pfs_enc_aad - a frame's associated data: type, flags, seq, raw and
 * counter (26 bytes); END (ndigest not NULL) adds the DIGEST count (34).
 * Returns the length. */
size_t pfs_enc_aad(uint8_t aad[PFS_ENC_AAD_MAX], uint8_t type, uint8_t flags,
                   uint64_t seq, uint64_t raw, uint64_t ctr,
                   const uint64_t *ndigest);

/* pfs_enc_aead - seal n bytes of in into out (n + 16 bytes), or open: in
 * holds n bytes of ciphertext and the tag, out gets n bytes that must not
 * be used unless 0 is returned.  in and out may be the same buffer.
 * Large payloads go through the cipher in cache-sized pieces. */
int pfs_enc_aead(gcry_cipher_hd_t hd, int open,
                 const uint8_t nonce[PFS_ENC_NONCE_LEN], const uint8_t *aad,
                 size_t aadlen, const uint8_t *in, uint8_t *out, size_t n);

/* pfs_enc_frame - seal (or open) the payload of the frame with header h,
 * n bytes of plaintext (ciphertext) from in into out, with the nonce
 * (ctr, h->type, final for END) and the AAD of docs/security.md; ndigest,
 * the DIGEST count, only for END.  Returns 0, or -1 when the tag fails
 * (open) or the cipher fails. */
int pfs_enc_frame(gcry_cipher_hd_t hd, int open, const struct pfs_hdr *h,
                  uint64_t ctr, const uint64_t *ndigest, const uint8_t *in,
                  uint8_t *out, size_t n);

/* Sealing a DATA payload in pieces as it streams through (engine.h,
 * PFS_STREAM): pfs_enc_seal_begin sets the nonce and AAD of frame h (as
 * pfs_enc_frame with counter ctr), pfs_enc_seal_piece encrypts n bytes in
 * place (every piece but the last a multiple of 16 bytes), pfs_enc_seal_end
 * writes the 16-byte tag.  The bytes are those pfs_enc_frame would give.
 * Each returns 0, or -1 when the cipher fails. */
int pfs_enc_seal_begin(gcry_cipher_hd_t hd, const struct pfs_hdr *h,
                       uint64_t ctr);
int pfs_enc_seal_piece(gcry_cipher_hd_t hd, uint8_t *p, size_t n);
int pfs_enc_seal_end(gcry_cipher_hd_t hd, uint8_t tag[PFS_ENC_TAG_LEN]);

/* Frame order on the writer thread (docs/security.md): DATA seqs run 0,
 * 1, 2, ...; a DIGEST frame follows its DATA frame; END's seq and raw are
 * the chunk count and the byte total.  ndigest, the DIGEST frames sealed
 * or opened so far, is the next DIGEST frame's nonce counter and part of
 * END's AAD; the caller counts it.  Zero-initialise. */
struct pfs_enc_order {
	uint64_t ndigest, next_seq, raw_total, last_seq;
	uint64_t first_seq;          /* a range stream's first chunk */
	int have_data;
};

/* pfs_enc_order_next - frame h comes next in stream order: 0, or -1 with
 * e set ("chunk 3 where chunk 2 was expected", "DIGEST frame of chunk 2
 * out of place", "END does not match the chunks ...").  Skippable frames
 * are always in order. */
int pfs_enc_order_next(struct pfs_enc_order *o, const struct pfs_hdr *h,
                       struct pfs_err *e);

/* pfs_enc_lock - push a new ENCRYPT record (KDF id 2) for cipher c on h:
 * a fresh random file key into s->master, wrapped for every recipient of r,
 * for s->key when s->has_key and for the password (Argon2id with t passes,
 * m KiB, PFS_KDF_P_DEF lanes) when s->password; a fresh stream salt, the
 * stream keys, with hide the source name moved out of HEAD and sealed
 * into the record, and the header MAC.  On success *hd is an open handle
 * (the caller closes it).  Returns 0 or -1 with e set. */
int pfs_enc_lock(struct pfs_secret *s, struct pfs_head *h,
                 const struct pfs_enc_cipher *c, const struct pfs_rcps *r,
                 uint32_t t, uint32_t m, int hide, gcry_cipher_hd_t *hd,
                 struct pfs_err *e);

/* pfs_enc_rewrap - h's top record was opened by pfs_enc_unlock (s->master
 * the file key, s->keys the stream keys): replace it with a record of KDF
 * id 2 that wraps the same file key for r, s->key and the password (as
 * pfs_enc_lock), keeping the cipher, the stream salt and a sealed name,
 * and make its header MAC.  Every sealed frame stays valid.  Returns 0 or
 * -1 with e set. */
int pfs_enc_rewrap(struct pfs_secret *s, struct pfs_head *h,
                   const struct pfs_rcps *r, uint32_t t, uint32_t m,
                   struct pfs_err *e);

/* pfs_enc_unlock - open the ENCRYPT record on top of h with the
 * identities, key or password in s: check it (pfs_enc_check), find the
 * master key (a stanza one of s's secrets opens, recip.h; or for KDF id 0
 * and 1 the key, or Argon2id of the password), derive the stream keys, verify the
 * header MAC and the record's payload cap, and open a hidden name into
 * h->name.  The record stays on the stack.  On success *c is the cipher
 * and *hd an open handle (the caller closes it).  A mismatch of key and
 * record kind, or a wrong key ("wrong key or password (or a damaged
 * HEAD)"), is -1 with e set. */
int pfs_enc_unlock(struct pfs_secret *s, struct pfs_head *h,
                   const struct pfs_enc_cipher **c, gcry_cipher_hd_t *hd,
                   struct pfs_err *e);

#endif
