/*
 * test_recip - common/recip.c and common/stanza.c: X25519 against RFC
 * 7748's test vectors, the recipient and identity lines, and the
 * recipient stanzas: round trips for every kind, the messages when nothing
 * opens, and a damaged stanza block.
 *
 * The expected lines were computed from docs/security.md's definition with
 * python3 (base64.urlsafe_b64encode(v + sha256(prefix + v)[:4])), not with
 * the code under test.
 */
#include <stdio.h>
#include <stdlib.h>

#include <gcrypt.h>

#include "digest.h"
#include "recip.h"
#include "secret.h"
#include "unit.h"

static void
unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* RFC 7748, section 5.2: two single multiplications */
static void
test_x25519_rfc7748_52(void **state)
{
	static const char *const v[][3] = {
		{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
		{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
	};
	uint8_t k[32], u[32], want[32], out[32];
	struct pfs_err e;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		unhex(v[i][0], k, 32);
		unhex(v[i][1], u, 32);
		unhex(v[i][2], want, 32);
		assert_int_equal(pfs_x25519(out, k, u, &e), 0);
		assert_memory_equal(out, want, 32);
	}
}

#define ALICE_SK "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define ALICE_PK "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define BOB_SK   "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
#define BOB_PK   "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
#define SHARED   "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
#define ALICE_RCP "pfs-recipient-1-hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmpH2rfO"
#define ALICE_ID  "PFS-IDENTITY-1-dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCp8Z1qC"

/* RFC 7748, section 6.1: the Diffie-Hellman of Alice and Bob */
static void
test_x25519_rfc7748_61(void **state)
{
	uint8_t ask[32], bsk[32], apk[32], bpk[32], shared[32], out[32];
	struct pfs_err e;

	(void)state;
	unhex(ALICE_SK, ask, 32);
	unhex(BOB_SK, bsk, 32);
	unhex(ALICE_PK, apk, 32);
	unhex(BOB_PK, bpk, 32);
	unhex(SHARED, shared, 32);
	assert_int_equal(pfs_x25519(out, ask, NULL, &e), 0);
	assert_memory_equal(out, apk, 32);
	assert_int_equal(pfs_x25519(out, bsk, NULL, &e), 0);
	assert_memory_equal(out, bpk, 32);
	assert_int_equal(pfs_x25519(out, ask, bpk, &e), 0);
	assert_memory_equal(out, shared, 32);
	assert_int_equal(pfs_x25519(out, bsk, apk, &e), 0);
	assert_memory_equal(out, shared, 32);
}

/* a low-order point (0, 1) gives zero: refused */
static void
test_x25519_low_order(void **state)
{
	uint8_t k[32], u[32] = { 0 }, out[32];
	struct pfs_err e;

	(void)state;
	unhex(ALICE_SK, k, 32);
	assert_int_equal(pfs_x25519(out, k, u, &e), -1);
	assert_string_equal(e.msg, "X25519: low-order public key refused");
	u[0] = 1;
	assert_int_equal(pfs_x25519(out, k, u, &e), -1);
}

static void
test_lines(void **state)
{
	uint8_t sk[32], pk[32];
	char line[PFS_RCP_LINE_LEN + 1];
	struct pfs_rcps r = { 0 };
	struct pfs_err e;

	(void)state;
	unhex(ALICE_SK, sk, 32);
	unhex(ALICE_PK, pk, 32);
	assert_int_equal(pfs_rcp_of(sk, line, &e), 0);
	assert_string_equal(line, ALICE_RCP);
	pfs_typed_format(PFS_ID_PREFIX, sk, line);
	assert_string_equal(line, ALICE_ID);
	assert_int_equal(pfs_rcp_add(&r, ALICE_RCP, "-r", &e), 0);
	assert_int_equal(pfs_rcp_add(&r, ALICE_RCP, "-r", &e), 0);
	assert_int_equal(r.n, 1);             /* given twice: once */
	assert_memory_equal(r.pk[0], pk, 32);
	/* one character changed: the check fails */
	strcpy(line, ALICE_RCP);
	line[20] = line[20] == 'A' ? 'B' : 'A';
	assert_int_equal(pfs_rcp_add(&r, line, "-r", &e), -1);
	assert_string_equal(e.msg, "-r: recipient fails its checksum "
	                    "(damaged or mistyped)");
	assert_int_equal(pfs_rcp_add(&r, ALICE_ID, "-r", &e), -1);
	assert_contains(e.msg, "an identity (a secret), not a recipient");
	assert_int_equal(pfs_rcp_add(&r, "age1xyz", "-r", &e), -1);
	assert_contains(e.msg, "not a pfs recipient");
	assert_int_equal(r.n, 1);
}

/* secrets for the round trips: identities a and b, a key, a password */
static struct pfs_secret *
secret(int id_a, int id_b, int key, int pw)
{
	struct pfs_err e;
	struct pfs_secret *s = pfs_secret_new(&e);

	assert_non_null(s);
	if (id_a)
		unhex(ALICE_SK, s->ids[s->nids++], 32);
	if (id_b)
		unhex(BOB_SK, s->ids[s->nids++], 32);
	if (key) {
		memset(s->key, 0x42, sizeof(s->key));
		s->has_key = 1;
	}
	if (pw) {
		strcpy(s->pw, "correct horse");
		s->pwlen = strlen(s->pw);
		s->password = 1;
	}
	return s;
}

/* the block for Alice and Bob, a key and a password, wrapping fk */
static size_t
make_block(uint8_t *block, const uint8_t fk[32])
{
	struct pfs_rcps r = { 0 };
	struct pfs_secret *s = secret(0, 0, 1, 1);
	struct pfs_err e;
	size_t n;

	unhex(ALICE_PK, r.pk[r.n++], 32);
	unhex(BOB_PK, r.pk[r.n++], 32);
	memcpy(s->master, fk, 32);
	n = pfs_stanzas_len(&r, 1, 1);
	assert_int_equal(n, 1 + 2 * 81 + 65 + 77);
	/* Argon2id at its smallest: the cost is not what is tested */
	assert_int_equal(pfs_stanzas_make(s, &r, 1, 8, block, &e), 0);
	pfs_secret_free(s);
	assert_int_equal(pfs_stanzas_check(block, n, &e), 0);
	return n;
}

static void
test_stanza_round_trips(void **state)
{
	uint8_t fk[32], block[512];
	struct pfs_secret *s;
	struct pfs_err e;
	char d[64];
	size_t n;
	int who;

	(void)state;
	gcry_randomize(fk, sizeof(fk), GCRY_STRONG_RANDOM);
	n = make_block(block, fk);
	assert_int_equal(block[0], 4);
	assert_int_equal(block[1], PFS_SK_X25519);
	pfs_stanzas_describe(block, n, d, sizeof(d));
	assert_string_equal(d, "2 x25519+argon2id");
	/* each secret alone opens it */
	for (who = 0; who < 4; who++) {
		s = secret(who == 0, who == 1, who == 2, who == 3);
		assert_int_equal(pfs_stanzas_open(s, block, n, &e), 0);
		assert_memory_equal(s->master, fk, 32);
		pfs_secret_free(s);
	}
	/* two wraps of one key differ: fresh shares and salts */
	{
		uint8_t again[512];
		assert_int_equal(make_block(again, fk), n);
		assert_memory_not_equal(again, block, n);
	}
}

static void
test_stanza_nothing_opens(void **state)
{
	uint8_t fk[32] = { 1 }, block[512], other[32];
	struct pfs_secret *s;
	struct pfs_err e;
	size_t n;

	(void)state;
	n = make_block(block, fk);
	/* an identity of nobody here */
	s = secret(0, 0, 0, 0);
	gcry_randomize(other, sizeof(other), GCRY_STRONG_RANDOM);
	memcpy(s->ids[s->nids++], other, 32);
	assert_int_equal(pfs_stanzas_open(s, block, n, &e), -1);
	assert_string_equal(e.msg, "no identity given matches a recipient of "
	                    "the stream (another identity's, or a damaged "
	                    "HEAD)");
	/* a wrong key */
	s->nids = 0;
	memset(s->key, 7, 32);
	s->has_key = 1;
	assert_int_equal(pfs_stanzas_open(s, block, n, &e), -1);
	assert_string_equal(e.msg, "wrong key or password (or a damaged HEAD)");
	pfs_secret_free(s);
	/* only X25519 stanzas, and a password given */
	{
		struct pfs_rcps r = { 0 };
		s = secret(0, 0, 0, 1);
		unhex(BOB_PK, r.pk[r.n++], 32);
		memcpy(s->master, fk, 32);
		s->password = 0;
		assert_int_equal(pfs_stanzas_make(s, &r, 1, 8, block, &e), 0);
		s->password = 1;
		assert_int_equal(pfs_stanzas_open(s, block, 82, &e), -1);
		assert_string_equal(e.msg, "the stream was encrypted with public "
		                    "keys (X25519), not a password: use -i "
		                    "IDENTITY");
		pfs_secret_free(s);
	}
}

/* every byte of a stanza flipped: it no longer opens with its secret, or
 * the block is refused as damaged.  The block: count at 0, Alice's
 * stanza at 1..81, Bob's at 82..162, the key's at 163..227. */
static void
flip_all(uint8_t *block, size_t n, size_t from, size_t to,
         struct pfs_secret *s)
{
	struct pfs_err e;
	size_t i;

	for (i = from; i < to; i++) {
		block[i] ^= 0x01;
		if (pfs_stanzas_check(block, n, &e) == 0)
			assert_int_equal(pfs_stanzas_open(s, block, n, &e), -1);
		block[i] ^= 0x01;
	}
	assert_int_equal(pfs_stanzas_open(s, block, n, &e), 0);
	pfs_secret_free(s);
}

static void
test_stanza_tampered(void **state)
{
	uint8_t fk[32] = { 9 }, block[512];
	size_t n;

	(void)state;
	n = make_block(block, fk);
	flip_all(block, n, 1, 82, secret(1, 0, 0, 0));
	flip_all(block, n, 163, 228, secret(0, 0, 1, 0));
}

static void
test_stanza_check(void **state)
{
	uint8_t fk[32] = { 3 }, block[512];
	struct pfs_err e;
	size_t n;

	(void)state;
	n = make_block(block, fk);
	assert_int_equal(pfs_stanzas_check(block, n - 1, &e), -1);
	assert_string_equal(e.msg, "damaged ENCRYPT record (recipients)");
	assert_int_equal(pfs_stanzas_check(block, n + 1, &e), -1);
	block[0] = 0;
	assert_int_equal(pfs_stanzas_check(block, n, &e), -1);
	assert_string_equal(e.msg, "damaged ENCRYPT record (no recipient)");
	block[0] = 4;
	block[1] = 9;
	assert_int_equal(pfs_stanzas_check(block, n, &e), -1);
	assert_string_equal(e.msg, "unknown recipient kind 9 in the ENCRYPT "
	                    "record (newer pencrypt?)");
	block[1] = PFS_SK_X25519;
	/* the password stanza's m over the cap: refused before Argon2id */
	block[1 + 2 * 81 + 65 + 1 + 4 + 3] = 0x40;
	assert_int_equal(pfs_stanzas_check(block, n, &e), -1);
	assert_contains(e.msg, "KDF parameters exceed the limit");
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x25519_rfc7748_52),
		cmocka_unit_test(test_x25519_rfc7748_61),
		cmocka_unit_test(test_x25519_low_order),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_stanza_round_trips),
		cmocka_unit_test(test_stanza_nothing_opens),
		cmocka_unit_test(test_stanza_tampered),
		cmocka_unit_test(test_stanza_check),
	};

	return cmocka_run_group_tests_name("recip", tests, ub_crypto_setup, NULL);
}
