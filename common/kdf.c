#include <inttypes.h>
#include <string.h>

#include <gcrypt.h>

#include "kdf.h"
#include "util.h"

int
pfs_hkdf_sha256(const uint8_t *ikm, size_t ikmlen, const uint8_t *salt,
                size_t saltlen, const uint8_t *info, size_t infolen,
                uint8_t *out, size_t outlen, struct pfs_err *e)
{
	gcry_mac_hd_t mh = NULL;
	uint8_t prk[32], t[32], ctr;
	size_t tlen = 0, done = 0, n, len;
	int rc = -1;

	if (outlen > 255 * sizeof(t))
		return pfs_seterr(e, "hkdf: output too long");
	if (gcry_mac_open(&mh, GCRY_MAC_HMAC_SHA256, GCRY_MAC_FLAG_SECURE,
	                  NULL))
		return pfs_seterr(e, "hkdf: cannot open HMAC-SHA-256");
	len = sizeof(prk);
	if (gcry_mac_setkey(mh, salt, saltlen) ||
	    gcry_mac_write(mh, ikm, ikmlen) || gcry_mac_read(mh, prk, &len) ||
	    gcry_mac_setkey(mh, prk, sizeof(prk)))
		goto fail;
	for (ctr = 1; done < outlen; ctr++) {
		len = sizeof(t);
		if (gcry_mac_reset(mh) || gcry_mac_write(mh, t, tlen) ||
		    gcry_mac_write(mh, info, infolen) ||
		    gcry_mac_write(mh, &ctr, 1) || gcry_mac_read(mh, t, &len))
			goto fail;
		tlen = sizeof(t);
		n = outlen - done < tlen ? outlen - done : tlen;
		memcpy(out + done, t, n);
		done += n;
	}
	rc = 0;
	goto out;
fail:
	pfs_seterr(e, "hkdf: HMAC-SHA-256 failed");
out:
	explicit_bzero(prk, sizeof(prk));
	explicit_bzero(t, sizeof(t));
	gcry_mac_close(mh);
	return rc;
}

int
pfs_kdf_check(uint32_t t, uint32_t m, uint32_t p, struct pfs_err *e)
{
	if (t > PFS_KDF_T_MAX || m > PFS_KDF_M_MAX || p > PFS_KDF_P_MAX ||
	    t < 1 || p < 1 || m < 8 * p)
		return pfs_seterr(e, "KDF parameters exceed the limit (t=%" PRIu32
		                  " m=%" PRIu32 " KiB p=%" PRIu32 "; allowed: "
		                  "t 1-%u, m 8p KiB-1 GiB, p 1-%u): hostile or "
		                  "damaged header", t, m, p, PFS_KDF_T_MAX,
		                  PFS_KDF_P_MAX);
	return 0;
}

int
pfs_kdf_parse_time(const char *s, long *t, struct pfs_err *e)
{
	struct pfs_err below;

	/* below the minimum: let through, for pfs_kdf_params to say why */
	if (pfs_parse_int(s, PFS_KDF_T_MIN, PFS_KDF_T_MAX, t, e) < 0 &&
	    pfs_parse_int(s, 1, PFS_KDF_T_MIN - 1, t, &below) < 0)
		return -1;
	return 0;
}

int
pfs_kdf_parse_memory(const char *s, uint64_t *m, struct pfs_err *e)
{
	struct pfs_err below;

	if (pfs_parse_size(s, (uint64_t)PFS_KDF_M_MIN << 10,
	                   (uint64_t)PFS_KDF_M_MAX << 10, m, e) < 0 &&
	    pfs_parse_size(s, 1, ((uint64_t)PFS_KDF_M_MIN << 10) - 1, m,
	                   &below) < 0)
		return -1;
	return 0;
}

int
pfs_kdf_params(long t, uint64_t m, uint32_t *tp, uint32_t *mp,
               struct pfs_err *e)
{
	if (t && t < PFS_KDF_T_MIN)
		return pfs_seterr(e, "--kdf-time: at least %u passes (the OWASP "
		                  "minimum for Argon2id)", PFS_KDF_T_MIN);
	if (m && m < (uint64_t)PFS_KDF_M_MIN << 10)
		return pfs_seterr(e, "--kdf-memory: at least %u MiB (the OWASP "
		                  "minimum for Argon2id)", PFS_KDF_M_MIN >> 10);
	if (m % 1024)
		return pfs_seterr(e, "--kdf-memory: a whole number of KiB, "
		                  "please");
	*tp = t ? (uint32_t)t : PFS_KDF_T_DEF;
	*mp = m ? (uint32_t)(m >> 10) : PFS_KDF_M_DEF;
	return 0;
}

int
pfs_argon2id(const void *pw, size_t pwlen, const uint8_t *salt,
             size_t saltlen, uint32_t t, uint32_t m, uint32_t p,
             uint8_t *out, size_t outlen, struct pfs_err *e)
{
	unsigned long param[4];
	gcry_kdf_hd_t kh;
	gcry_error_t ge;

	param[0] = outlen;
	param[1] = t;
	param[2] = m;
	param[3] = p;
	ge = gcry_kdf_open(&kh, GCRY_KDF_ARGON2, GCRY_KDF_ARGON2ID, param, 4,
	                   pw, pwlen, salt, saltlen, NULL, 0, NULL, 0);
	if (ge)
		return pfs_seterr(e, "argon2id: %s", gcry_strerror(ge));
	ge = gcry_kdf_compute(kh, NULL);
	if (!ge)
		ge = gcry_kdf_final(kh, outlen, out);
	gcry_kdf_close(kh);
	if (ge)
		return pfs_seterr(e, "argon2id (t=%" PRIu32 ", m=%" PRIu32
		                  " KiB, p=%" PRIu32 "): %s", t, m, p,
		                  gcry_strerror(ge));
	return 0;
}
