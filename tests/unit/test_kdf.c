/*
 * test_kdf - common/kdf.c: HKDF-SHA-256 against RFC 5869's test cases 1-3,
 * Argon2id against RFC 9106's test vector and known answers, the
 * parameter caps, and the parameters for encrypting (pfs_kdf_params).
 *
 * RFC 9106 section 5.3 uses a secret (8 bytes 0x03) and associated data
 * (12 bytes 0x04); pfs_argon2id() takes neither (pfs never uses them), so
 * the RFC vector is checked on libgcrypt's Argon2id directly, the library
 * pfs_argon2id() calls, and pfs_argon2id() itself is checked against
 * answers from two other implementations:
 *  - the RFC's parameters (t=3, m=32 KiB, p=4, 32-byte password of 0x01,
 *    16-byte salt of 0x02, 32-byte tag) without secret and associated
 *    data, computed with OpenSSL 4.0's Argon2id through python3
 *    cryptography 48 (which reproduces the RFC's own tag with them);
 *  - "password"/"somesalt", t=2, p=1, m=2^8 and 2^16 KiB: the Argon2id
 *    v1.3 answers in the reference implementation's src/test.c
 *    (phc-winner-argon2), also reproduced with python3 cryptography.
 */
#include <stdio.h>
#include <stdlib.h>

#include <gcrypt.h>

#include "digest.h"
#include "kdf.h"
#include "unit.h"

/* hex string -> bytes; returns the length */
static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s) / 2, i;
	unsigned v;

	assert_true(strlen(s) % 2 == 0 && n <= cap);
	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void
assert_hex(const uint8_t *p, size_t n, const char *want)
{
	char hex[2 * 128 + 1];

	assert_true(n <= 128);
	pfs_hex(p, n, hex);
	assert_string_equal(hex, want);
}

/* --- HKDF-SHA-256, RFC 5869 appendix A.1-A.3 --- */

struct hkdf_case {
	const char *name, *ikm, *salt, *info, *okm;
};

static const struct hkdf_case hkdf_cases[] = {
	{ "A.1 basic",
	  "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
	  "000102030405060708090a0b0c",
	  "f0f1f2f3f4f5f6f7f8f9",
	  "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
	  "34007208d5b887185865" },
	{ "A.2 longer inputs and outputs",
	  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
	  "404142434445464748494a4b4c4d4e4f",
	  "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
	  "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	  "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
	  "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
	  "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
	  "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
	  "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
	  "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
	  "cc30c58179ec3e87c14c01d5c1f3434f1d87" },
	{ "A.3 zero-length salt and info",
	  "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
	  "", "",
	  "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
	  "9d201395faa4b61a96c8" },
};

static void
test_hkdf_rfc5869(void **state)
{
	const struct hkdf_case *c = *state;
	uint8_t ikm[80], salt[80], info[80], out[82];
	size_t ni, ns, nf, no;
	struct pfs_err e;

	ni = unhex(c->ikm, ikm, sizeof(ikm));
	ns = unhex(c->salt, salt, sizeof(salt));
	nf = unhex(c->info, info, sizeof(info));
	no = strlen(c->okm) / 2;
	assert_true(no <= sizeof(out));
	if (pfs_hkdf_sha256(ikm, ni, salt, ns, info, nf, out, no, &e) < 0)
		fail_msg("%s: %s", c->name, e.msg);
	assert_hex(out, no, c->okm);
}

/* a shorter output is a prefix of a longer one; 255 blocks is the limit */
static void
test_hkdf_lengths(void **state)
{
	static uint8_t out[255 * 32 + 1];
	uint8_t ikm[22], a[82];
	struct pfs_err e;

	(void)state;
	memset(ikm, 0x0b, sizeof(ikm));
	assert_int_equal(pfs_hkdf_sha256(ikm, sizeof(ikm), NULL, 0, NULL, 0,
	                                 a, sizeof(a), &e), 0);
	assert_int_equal(pfs_hkdf_sha256(ikm, sizeof(ikm), NULL, 0, NULL, 0,
	                                 out, 7, &e), 0);
	assert_memory_equal(out, a, 7);
	assert_int_equal(pfs_hkdf_sha256(ikm, sizeof(ikm), NULL, 0, NULL, 0,
	                                 out, 255 * 32, &e), 0);
	assert_memory_equal(out, a, sizeof(a));
	assert_int_equal(pfs_hkdf_sha256(ikm, sizeof(ikm), NULL, 0, NULL, 0,
	                                 out, 255 * 32 + 1, &e), -1);
	assert_string_equal(e.msg, "hkdf: output too long");
}

/* --- Argon2id --- */

/* RFC 9106 section 5.3, on libgcrypt directly (secret and associated
 * data are not in pfs_argon2id's API) */
static void
test_argon2id_rfc9106_libgcrypt(void **state)
{
	unsigned long param[4] = { 32, 3, 32, 4 };
	uint8_t pw[32], salt[16], secret[8], ad[12], out[32];
	gcry_kdf_hd_t kh;

	(void)state;
	memset(pw, 0x01, sizeof(pw));
	memset(salt, 0x02, sizeof(salt));
	memset(secret, 0x03, sizeof(secret));
	memset(ad, 0x04, sizeof(ad));
	assert_int_equal(gcry_kdf_open(&kh, GCRY_KDF_ARGON2, GCRY_KDF_ARGON2ID,
	                               param, 4, pw, sizeof(pw), salt,
	                               sizeof(salt), secret, sizeof(secret),
	                               ad, sizeof(ad)), 0);
	assert_int_equal(gcry_kdf_compute(kh, NULL), 0);
	assert_int_equal(gcry_kdf_final(kh, sizeof(out), out), 0);
	gcry_kdf_close(kh);
	assert_hex(out, sizeof(out), "0d640df58d78766c08c037a34a8b53c9"
	                             "d01ef0452d75b65eb52520e96b01e659");
}

struct argon_case {
	const char *name;
	const uint8_t *pw, *salt;
	size_t pwlen, saltlen;
	uint32_t t, m, p;
	const char *tag;
};

static const uint8_t rfc_pw[32] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };
static const uint8_t rfc_salt[16] = {
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2 };

static const struct argon_case argon_cases[] = {
	{ "RFC 9106 parameters, no secret or associated data",
	  rfc_pw, rfc_salt, 32, 16, 3, 32, 4,
	  "03aab965c12001c9d7d0d2de33192c0494b684bb148196d73c1df1acaf6d0c2e" },
	{ "reference test.c: password/somesalt t=2 m=2^8 p=1",
	  (const uint8_t *)"password", (const uint8_t *)"somesalt", 8, 8,
	  2, 1u << 8, 1,
	  "9dfeb910e80bad0311fee20f9c0e2b12c17987b4cac90c2ef54d5b3021c68bfe" },
	{ "reference test.c: password/somesalt t=2 m=2^16 p=1",
	  (const uint8_t *)"password", (const uint8_t *)"somesalt", 8, 8,
	  2, 1u << 16, 1,
	  "09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7" },
};

static void
test_argon2id_known_answer(void **state)
{
	const struct argon_case *c = *state;
	uint8_t out[32];
	struct pfs_err e;

	assert_int_equal(pfs_kdf_check(c->t, c->m, c->p, &e), 0);
	if (pfs_argon2id(c->pw, c->pwlen, c->salt, c->saltlen, c->t, c->m,
	                 c->p, out, sizeof(out), &e) < 0)
		fail_msg("%s: %s", c->name, e.msg);
	assert_hex(out, sizeof(out), c->tag);
}

/* the caps, at their edges, and Argon2's own rules */
static void
test_kdf_check(void **state)
{
	struct pfs_err e;

	(void)state;
	assert_int_equal(pfs_kdf_check(PFS_KDF_T_DEF, PFS_KDF_M_DEF,
	                               PFS_KDF_P_DEF, &e), 0);
	assert_int_equal(pfs_kdf_check(1, 8, 1, &e), 0);
	assert_int_equal(pfs_kdf_check(PFS_KDF_T_MAX, PFS_KDF_M_MAX,
	                               PFS_KDF_P_MAX, &e), 0);
	assert_int_equal(pfs_kdf_check(PFS_KDF_T_MAX + 1, PFS_KDF_M_DEF, 1,
	                               &e), -1);
	assert_contains(e.msg, "KDF parameters exceed the limit (t=17 ");
	assert_contains(e.msg, "hostile or damaged header");
	assert_int_equal(pfs_kdf_check(3, PFS_KDF_M_MAX + 1, 1, &e), -1);
	assert_int_equal(pfs_kdf_check(3, PFS_KDF_M_DEF, PFS_KDF_P_MAX + 1,
	                               &e), -1);
	assert_int_equal(pfs_kdf_check(0, PFS_KDF_M_DEF, 1, &e), -1);
	assert_int_equal(pfs_kdf_check(3, PFS_KDF_M_DEF, 0, &e), -1);
	assert_int_equal(pfs_kdf_check(3, 31, 4, &e), -1);   /* m < 8p */
	assert_int_equal(pfs_kdf_check(3, 32, 4, &e), 0);
}

/* the parameters for encrypting: defaults, the OWASP minimum, whole KiB */
static void
test_kdf_params(void **state)
{
	struct pfs_err e;
	uint32_t t = 0, m = 0;

	(void)state;
	assert_int_equal(pfs_kdf_params(0, 0, &t, &m, &e), 0);
	assert_int_equal(t, PFS_KDF_T_DEF);
	assert_int_equal(m, PFS_KDF_M_DEF);
	assert_int_equal(pfs_kdf_params(PFS_KDF_T_MIN, (uint64_t)PFS_KDF_M_MIN
	                                 << 10, &t, &m, &e), 0);
	assert_int_equal(t, PFS_KDF_T_MIN);
	assert_int_equal(m, PFS_KDF_M_MIN);
	assert_int_equal(pfs_kdf_params(PFS_KDF_T_MAX, (uint64_t)PFS_KDF_M_MAX
	                                 << 10, &t, &m, &e), 0);
	assert_int_equal(t, PFS_KDF_T_MAX);
	assert_int_equal(m, PFS_KDF_M_MAX);
	assert_int_equal(pfs_kdf_params(PFS_KDF_T_MIN - 1, 0, &t, &m, &e), -1);
	assert_string_equal(e.msg, "--kdf-time: at least 2 passes (the OWASP "
	                    "minimum for Argon2id)");
	assert_int_equal(pfs_kdf_params(0, ((uint64_t)PFS_KDF_M_MIN << 10) - 1024,
	                                &t, &m, &e), -1);
	assert_string_equal(e.msg, "--kdf-memory: at least 19 MiB (the OWASP "
	                    "minimum for Argon2id)");
	assert_int_equal(pfs_kdf_params(0, ((uint64_t)PFS_KDF_M_MIN << 10) + 1,
	                                &t, &m, &e), -1);
	assert_string_equal(e.msg, "--kdf-memory: a whole number of KiB, "
	                    "please");
}

/* one test per case, named after it */
#define CASE(name, f, c) { name, f, NULL, NULL, (void *)(uintptr_t)(c) }

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		CASE("hkdf_rfc5869_A.1", test_hkdf_rfc5869, &hkdf_cases[0]),
		CASE("hkdf_rfc5869_A.2", test_hkdf_rfc5869, &hkdf_cases[1]),
		CASE("hkdf_rfc5869_A.3", test_hkdf_rfc5869, &hkdf_cases[2]),
		cmocka_unit_test(test_hkdf_lengths),
		cmocka_unit_test(test_argon2id_rfc9106_libgcrypt),
		CASE("argon2id_rfc9106_params_no_secret_ad",
		     test_argon2id_known_answer, &argon_cases[0]),
		CASE("argon2id_reference_m2^8",
		     test_argon2id_known_answer, &argon_cases[1]),
		CASE("argon2id_reference_m2^16",
		     test_argon2id_known_answer, &argon_cases[2]),
		cmocka_unit_test(test_kdf_check),
		cmocka_unit_test(test_kdf_params),
	};

	return cmocka_run_group_tests_name("kdf", tests, ub_crypto_setup, NULL);
}
