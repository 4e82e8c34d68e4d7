/*
 * test_secret - common/secret.c: the typed key line (pfs_key_parse,
 * pfs_key_format) and raw keys.
 *
 * The expected lines were computed from docs/security.md's definition with
 * python3 (base64.urlsafe_b64encode(key + sha256(b"PFS-KEY-1-" +
 * key)[:4])), not with the code under test.
 */
#include <stdio.h>
#include <stdlib.h>

#include "digest.h"
#include "secret.h"
#include "unit.h"

/* key = 00 01 .. 1f */
#define BODY_SEQ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh-j7RGl"
#define LINE_SEQ "PFS-KEY-1-" BODY_SEQ
/* key = e0 e1 .. ff: both base64url-only characters, '-' and '_' */
#define LINE_HIGH "PFS-KEY-1-4OHi4-Tl5ufo6err7O3u7_Dx8vP09fb3-Pn6-_z9_v_xXORd"

/* parse s (as bytes, without its NUL) as a --key-file (raw 0) or
 * --raw-key-file (raw 1) */
static int
parse(const char *s, int raw, uint8_t key[PFS_KEY_LEN], struct pfs_err *e)
{
	return pfs_key_parse((const uint8_t *)s, strlen(s), raw, "k", key, e);
}

static void
seq_key(uint8_t key[PFS_KEY_LEN], unsigned first)
{
	for (unsigned i = 0; i < PFS_KEY_LEN; i++)
		key[i] = (uint8_t)(first + i);
}

static void
test_format(void **state)
{
	uint8_t key[PFS_KEY_LEN];
	char line[PFS_KEYLINE_LEN + 1];

	(void)state;
	seq_key(key, 0);
	pfs_key_format(key, line);
	assert_string_equal(line, LINE_SEQ);
	seq_key(key, 0xe0);
	pfs_key_format(key, line);
	assert_string_equal(line, LINE_HIGH);
	assert_int_equal(strlen(line), PFS_KEYLINE_LEN);
}

static void
test_parse_good(void **state)
{
	uint8_t key[PFS_KEY_LEN], want[PFS_KEY_LEN];
	struct pfs_err e;

	(void)state;
	seq_key(want, 0);
	assert_int_equal(parse(LINE_SEQ "\n", 0, key, &e), 0);
	assert_memory_equal(key, want, PFS_KEY_LEN);
	memset(key, 0, sizeof(key));
	assert_int_equal(parse(LINE_SEQ, 0, key, &e), 0);      /* no newline */
	assert_memory_equal(key, want, PFS_KEY_LEN);
	assert_int_equal(parse(LINE_SEQ "\r\n", 0, key, &e), 0);
	assert_memory_equal(key, want, PFS_KEY_LEN);
	seq_key(want, 0xe0);
	assert_int_equal(parse(LINE_HIGH "\n", 0, key, &e), 0);
	assert_memory_equal(key, want, PFS_KEY_LEN);
}

/* one character changed, and the check bytes themselves changed */
static void
test_parse_damaged_checksum(void **state)
{
	char line[] = LINE_SEQ "\n";
	uint8_t key[PFS_KEY_LEN];
	struct pfs_err e;

	(void)state;
	line[20] = line[20] == 'A' ? 'B' : 'A';
	assert_int_equal(parse(line, 0, key, &e), -1);
	assert_string_equal(e.msg, "k: pfs key file fails its checksum "
	                    "(damaged or mistyped key)");
	strcpy(line, LINE_SEQ "\n");
	line[PFS_KEYLINE_LEN - 1] = line[PFS_KEYLINE_LEN - 1] == 'l' ? 'm' : 'l';
	assert_int_equal(parse(line, 0, key, &e), -1);
	assert_contains(e.msg, "fails its checksum");
}

static void
test_parse_wrong_prefix(void **state)
{
	uint8_t key[PFS_KEY_LEN];
	struct pfs_err e;

	(void)state;
	assert_int_equal(parse("PFS-KEY-2-" BODY_SEQ, 0, key, &e), -1);
	assert_string_equal(e.msg, "k: pfs key file of an unknown version "
	                    "(newer pencrypt?)");
	assert_int_equal(parse("pfs-key-1-" BODY_SEQ, 0, key, &e), -1);
	assert_string_equal(e.msg, "k: not a pfs key file (damaged? a key from "
	                    "'pencrypt --keygen' is one line: PFS-KEY-1- and "
	                    "48 base64url characters)");
	assert_int_equal(parse("XFS-KEY-1-" BODY_SEQ, 0, key, &e), -1);
	assert_contains(e.msg, "not a pfs key file (damaged?");
}

static void
test_parse_bad_shape(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		LINE_SEQ "\n\n",                  /* two newlines */
		LINE_SEQ "A\n",                   /* one character too many */
		"PFS-KEY-1-AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh-j7RG\n",
		"PFS-KEY-1-AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+j7RGl\n",
		" " LINE_SEQ,
	};
	uint8_t key[PFS_KEY_LEN];
	struct pfs_err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], 0, key, &e) != -1)
			fail_msg("accepted: '%s'", bad[i]);
		assert_contains(e.msg, "k: not a pfs key file");
	}
}

/* --key-file refuses raw keys with a hint; --raw-key-file takes them */
static void
test_parse_raw(void **state)
{
	static const char hex[] =
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
	uint8_t key[PFS_KEY_LEN], want[PFS_KEY_LEN];
	struct pfs_err e;

	(void)state;
	seq_key(want, 0);
	assert_int_equal(parse(hex, 0, key, &e), -1);
	assert_string_equal(e.msg, "k: not a pfs key file (32 raw bytes or 64 "
	                    "hex digits? only --raw-key-file reads those)");
	assert_int_equal(parse(hex, 1, key, &e), 0);
	assert_memory_equal(key, want, PFS_KEY_LEN);
	assert_int_equal(pfs_key_parse(want, PFS_KEY_LEN, 1, "k", key, &e), 0);
	assert_memory_equal(key, want, PFS_KEY_LEN);
	assert_int_equal(parse(LINE_SEQ, 1, key, &e), -1);
	assert_string_equal(e.msg, "k: not a raw key file (expected 32 raw "
	                    "bytes or 64 hex digits)");
}

static void
test_parse_zero_key(void **state)
{
	uint8_t zero[PFS_KEY_LEN] = { 0 }, key[PFS_KEY_LEN];
	char line[PFS_KEYLINE_LEN + 1];
	struct pfs_err e;

	(void)state;
	pfs_key_format(zero, line);
	assert_int_equal(parse(line, 0, key, &e), -1);
	assert_string_equal(e.msg, "k: all-zero key refused");
	assert_int_equal(pfs_key_parse(zero, PFS_KEY_LEN, 1, "k", key, &e), -1);
	assert_string_equal(e.msg, "k: all-zero key refused");
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_damaged_checksum),
		cmocka_unit_test(test_parse_wrong_prefix),
		cmocka_unit_test(test_parse_bad_shape),
		cmocka_unit_test(test_parse_raw),
		cmocka_unit_test(test_parse_zero_key),
	};

	return cmocka_run_group_tests_name("secret", tests, ub_crypto_setup, NULL);
}
