/*
 * recip.h - public-key recipients and the stanzas that wrap a stream's
 * file key (docs/security.md, "Recipients"): X25519 (RFC 7748, libgcrypt's
 * gcry_ecc_mul_point) identities and recipients, their typed text lines
 * and files, and the recipient stanzas of an ENCRYPT record of KDF id 2
 * (common/encrec.h), each of which wraps the same 32-byte file key for one
 * recipient: an X25519 public key, a key file or a password.
 *
 * Invariants and ownership:
 *  - Secret inputs and outputs (identities, the file key, the key file's
 *    key, the password) live in the caller's struct pfs_secret (secure
 *    memory); temporaries here are wiped before return.  Recipients are
 *    public and live in a plain struct pfs_rcps the caller owns.
 *  - A stanza block is u8 count (1 or more), then count stanzas, each a u8
 *    kind and a body of the kind's fixed length; nothing else, nothing
 *    after.  pfs_stanzas_check() accepts exactly that.
 *  - Every wrap is ChaCha20-Poly1305 with an all-zero nonce and no
 *    associated data under a key used for this one wrap (fresh ephemeral
 *    share, fresh salt, or fresh Argon2id salt), as age's stanzas.
 *  - common/ style: nothing prints or exits; -1 with e set, the object
 *    first ("r.txt:3: not a pfs recipient (...)").
 *  - The caller has run pfs_crypto_init() (digest.h) first.
 */
#ifndef PFS_RECIP_H
#define PFS_RECIP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "secret.h"

#define PFS_X25519_LEN   32u
#define PFS_RCP_PREFIX   "pfs-recipient-1-"
#define PFS_ID_PREFIX    "PFS-IDENTITY-1-"
#define PFS_ID_TYPE      "PFS-IDENTITY-"     /* any version of it */
#define PFS_RCP_LINE_LEN (sizeof(PFS_RCP_PREFIX) - 1 + PFS_TYPED_BODY_LEN)
#define PFS_ID_LINE_LEN  (sizeof(PFS_ID_PREFIX) - 1 + PFS_TYPED_BODY_LEN)
#define PFS_RCPS_MAX     40u       /* X25519 recipients of one stream */

/* stanza kinds */
enum pfs_stanza_kind {
	PFS_SK_X25519 = 1,    /* share[32] || wrapped[48] */
	PFS_SK_KEY = 2,       /* salt[16] || wrapped[48] */
	PFS_SK_PASSWORD = 3   /* u32 t, u32 m, u32 p, salt[16], wrapped[48] */
};
#define PFS_WRAP_LEN  48u          /* the wrapped file key: 32 + tag */

/* X25519 public keys to encrypt to (-r, -R). */
struct pfs_rcps {
	unsigned n;
	uint8_t pk[PFS_RCPS_MAX][PFS_X25519_LEN];
};

/* pfs_x25519 - out = X25519(scalar, point) (RFC 7748, section 5: the
 * scalar is clamped), point NULL for the base point 9.  An all-zero
 * result (a low-order point) is -1 with e set. */
int pfs_x25519(uint8_t out[PFS_X25519_LEN], const uint8_t scalar[PFS_X25519_LEN],
               const uint8_t *point, struct pfs_err *e);

/* pfs_rcp_add - add the recipient line s (pfs-recipient-1-...) to r; what
 * names it in messages.  A recipient given twice counts once.  An
 * identity given by mistake, another type or a bad check is -1 with e
 * set, as is the 41st recipient. */
int pfs_rcp_add(struct pfs_rcps *r, const char *s, const char *what,
                struct pfs_err *e);

/* pfs_rcp_file - add every recipient of file path (-R): one per line;
 * empty lines and lines starting with '#' are skipped; "-" is standard
 * input.  A file with no recipient is an error. */
int pfs_rcp_file(struct pfs_rcps *r, const char *path, struct pfs_err *e);

/* pfs_id_file - add every identity of file path (-i) to s->ids: lines of
 * PFS-IDENTITY-1-..., empty lines and '#' comments skipped.  warn gets a
 * warning when group or others may read the file (as for key files).  A
 * key file given here is refused with a message naming --key-file. */
int pfs_id_file(struct pfs_secret *s, const char *path, struct pfs_err *warn,
                struct pfs_err *e);

/* pfs_id_keygen - a new X25519 identity written as an identity file (a
 * comment with the creation time, one with its recipient, the identity
 * line) to path, or to standard output with path NULL (pfs_secret_write:
 * 0600, O_EXCL, warn for a readable stdout).  rcp receives the recipient
 * line (PFS_RCP_LINE_LEN + 1 bytes). */
int pfs_id_keygen(const char *path, char *rcp, struct pfs_err *warn,
                  struct pfs_err *e);

/* pfs_rcp_of - the recipient line of identity sk into out
 * (PFS_RCP_LINE_LEN + 1 bytes). */
int pfs_rcp_of(const uint8_t sk[PFS_X25519_LEN], char *out, struct pfs_err *e);

/* Stanzas. */

/* pfs_stanzas_len - the length of the block wrapping for r's recipients,
 * a key file (key) and a password (password): 1 + the stanzas. */
size_t pfs_stanzas_len(const struct pfs_rcps *r, int key, int password);

/* pfs_stanzas_make - the stanza block wrapping s->master for every
 * recipient of r (X25519), for s->key when s->has_key and for s->pw
 * (Argon2id with t passes, m KiB, PFS_KDF_P_DEF lanes) when s->password,
 * in that order, into out (pfs_stanzas_len bytes).  At least one. */
int pfs_stanzas_make(const struct pfs_secret *s, const struct pfs_rcps *r,
                     uint32_t t, uint32_t m, uint8_t *out, struct pfs_err *e);

/* pfs_stanzas_check - p (n bytes) is a well-formed stanza block: a count
 * of 1 or more, known kinds, exact length, Argon2 parameters within the
 * caps (kdf.h).  Nothing is derived. */
int pfs_stanzas_check(const uint8_t *p, size_t n, struct pfs_err *e);

/* pfs_stanzas_open - the file key into s->master from the first stanza of
 * the (checked) block p that one of s's secrets opens: an identity of
 * s->ids for an X25519 stanza, s->key for a key stanza, s->pw for a
 * password stanza.  When none opens: -1 with a message that says which
 * kinds the stream has when s holds none of them ("the stream was
 * encrypted with a password, not a key file: use ..."), else "wrong key
 * or password (or a damaged HEAD)" or, for identities, "no identity given
 * matches a recipient of the stream ...". */
int pfs_stanzas_open(struct pfs_secret *s, const uint8_t *p, size_t n,
                     struct pfs_err *e);

/* pfs_stanzas_describe - the kinds of the block for messages and pinfo:
 * "x25519", "argon2id", "2 x25519+argon2id"...; key stanzas are not named
 * (as a record of KDF id 0 is not): "" when only keys. */
void pfs_stanzas_describe(const uint8_t *p, size_t n, char *out, size_t cap);

/* pfs_stanzas_kdf - the Argon2id parameters of the block's first
 * password stanza in *t and *m: 1, or 0 when it has none. */
int pfs_stanzas_kdf(const uint8_t *p, size_t n, uint32_t *t, uint32_t *m);

#endif
