/*
 * kdf.h - key derivation: HKDF-SHA-256 (RFC 5869) and Argon2id (RFC 9106),
 * both on libgcrypt, and the limits pfs puts on Argon2id's parameters.
 *
 * Invariants and ownership:
 *  - The functions never allocate what the caller has to free; outputs go
 *    to buffers the caller owns (put secrets in gcry_malloc_secure()
 *    memory).  Intermediate secrets on the stack are wiped on every path.
 *  - The caller has initialised libgcrypt (pfs_crypto_init, digest.h).
 *  - Errors: -1 with e set (message without the program name).
 *
 * Limits (docs/security.md): a stream may ask for at most PFS_KDF_T_MAX
 * passes, PFS_KDF_M_MAX KiB and PFS_KDF_P_MAX lanes; this is checked
 * before anything is derived, so a hostile header cannot make a reader
 * spend hours or terabytes.  Encryption also refuses less than the OWASP
 * minimum (PFS_KDF_T_MIN passes, PFS_KDF_M_MIN KiB); decryption accepts
 * anything within the caps (the header MAC makes a weak stream fail, not
 * a downgrade succeed).
 */
#ifndef PFS_KDF_H
#define PFS_KDF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define PFS_KDF_T_DEF   3u            /* passes */
#define PFS_KDF_M_DEF   (64u << 10)   /* KiB = 64 MiB */
#define PFS_KDF_P_DEF   1u            /* lanes */
#define PFS_KDF_T_MIN   2u            /* encrypting: OWASP minimum */
#define PFS_KDF_M_MIN   (19u << 10)   /* KiB = 19 MiB, OWASP minimum */
#define PFS_KDF_T_MAX   16u
#define PFS_KDF_M_MAX   (1u << 20)    /* KiB = 1 GiB */
#define PFS_KDF_P_MAX   16u

/* pfs_hkdf_sha256 - RFC 5869 HKDF with HMAC-SHA-256 (libgcrypt 1.10 has
 * no HKDF of its own): extract with salt, expand with info into out,
 * outlen <= 255 * 32 bytes.  Returns 0 or -1. */
int pfs_hkdf_sha256(const uint8_t *ikm, size_t ikmlen, const uint8_t *salt,
                    size_t saltlen, const uint8_t *info, size_t infolen,
                    uint8_t *out, size_t outlen, struct pfs_err *e);

/* pfs_kdf_check - 0 when t passes, m KiB, p lanes are within the caps
 * above (and Argon2's own rules: t >= 1, p >= 1, m >= 8p); otherwise -1
 * with "KDF parameters exceed the limit (...): hostile or damaged
 * header". */
int pfs_kdf_check(uint32_t t, uint32_t m, uint32_t p, struct pfs_err *e);

/* pfs_kdf_parse_time, pfs_kdf_parse_memory - the values of --kdf-time (a
 * number of passes) and --kdf-memory (a size, K, M or G: bytes), as
 * pencrypt and pipeline take them.  A value below the minimum is let
 * through for pfs_kdf_params to name it; -1 with e set for anything else
 * that is wrong ("invalid number 'x'", "'99' is out of range (2 to 16)"),
 * to be prefixed with the option. */
int pfs_kdf_parse_time(const char *s, long *t, struct pfs_err *e);
int pfs_kdf_parse_memory(const char *s, uint64_t *m, struct pfs_err *e);

/* pfs_kdf_params - the Argon2id parameters for encrypting with a
 * password, from the options: t passes (0: not given) and m bytes of
 * memory (0: not given; at most PFS_KDF_T_MAX and PFS_KDF_M_MAX KiB, as
 * the option parsers let through) into *tp passes and *mp KiB, with the
 * defaults for what was not given.  -1 with e set ("--kdf-time: at least
 * 2 passes (the OWASP minimum for Argon2id)") below PFS_KDF_T_MIN or
 * PFS_KDF_M_MIN, or when m is not a whole number of KiB. */
int pfs_kdf_params(long t, uint64_t m, uint32_t *tp, uint32_t *mp,
                   struct pfs_err *e);

/* pfs_argon2id - out (outlen bytes) = Argon2id(pw, salt, t, m KiB, p).
 * Does not check the limits (call pfs_kdf_check first for parameters from
 * a stream).  Returns 0 or -1. */
int pfs_argon2id(const void *pw, size_t pwlen, const uint8_t *salt,
                 size_t saltlen, uint32_t t, uint32_t m, uint32_t p,
                 uint8_t *out, size_t outlen, struct pfs_err *e);

#endif
