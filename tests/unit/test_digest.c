/*
 * test_digest - common/digest.c: every algorithm against known answers, in
 * the byte order the stock tool prints (sha256sum, sha512sum, b2sum,
 * python3 hashlib.sha3_256, xxhsum -H1/-H3/-H2), one-shot and streaming;
 * streaming in pieces equals one-shot; the table is consistent.
 *
 * "abc" is FIPS 180-4's SHA-256/SHA-512 example, FIPS 202's SHA3-256
 * example and RFC 7693's BLAKE2b-512 example.  "pattern" is the 1000 bytes
 * i % 251 (long enough for XXH3's >240-byte path); its answers were
 * computed with the tools above.
 */
#include <stdio.h>
#include <stdlib.h>

#include "digest.h"
#include "stages.h"
#include "unit.h"

enum { IN_EMPTY, IN_ABC, IN_PATTERN, NIN };

struct kat {
	const char *algo;
	const char *hex[NIN];
};

static const struct kat kats[] = {
	{ "sha256", {
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	  "4e4c294b331f7a2099a379bec34b9f9fc03dc46ab465d998f4d683da53487e6d" } },
	{ "sha512", {
	  "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
	  "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
	  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
	  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
	  "5096498d96f50f9a137c4db5b8b0cd38383ad55350fb5a98805fedc31fa1262f"
	  "1f0cf4d6f12d7ecd8dedd933a4c9126344fe22e937a8ad35fdeae1e876ae698b" } },
	{ "sha3-256", {
	  "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a",
	  "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
	  "48e66a01861d0eadaacdb7a6ae7db6b9ac79242ecced4154a9fbb33c4e3cc571" } },
	{ "blake2b", {
	  "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
	  "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce",
	  "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
	  "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923",
	  "c11e1c0340bd7e5a1b275f1230c962fad215ecb1391486e74e31b960a2f29963"
	  "81a5fad092da06841d5f26e38f6ecfeaf441acbcd1c2de61aef121e7927175f5" } },
	{ "xxh64", {
	  "ef46db3751d8e999", "44bc2cf5ad770999", "f306f04aa88b54d3" } },
	{ "xxh3", {
	  "2d06800538d394c2", "78af5f94892f3950", "33ef703fb2b20ed1" } },
	{ "xxh128", {
	  "99aa06d3014798d86001c324468d497f",
	  "06b05ab6733a618578af5f94892f3950",
	  "18bf41bc8229e27733ef703fb2b20ed1" } },
};

#define NKATS (sizeof(kats) / sizeof(kats[0]))

static uint8_t pattern[1000];

static void
input(unsigned which, const uint8_t **p, size_t *n)
{
	switch (which) {
	case IN_EMPTY: *p = (const uint8_t *)""; *n = 0; break;
	case IN_ABC:   *p = (const uint8_t *)"abc"; *n = 3; break;
	default:       *p = pattern; *n = sizeof(pattern); break;
	}
}

static const struct pfs_digest_algo *
algo(const char *name)
{
	const struct pfs_digest_algo *a = pfs_digest_by_name(name);

	if (!a)
		fail_msg("no algorithm '%s'", name);
	return a;
}

static void
check_hex(const struct pfs_digest_algo *a, const uint8_t *out,
          const char *want, const char *how, unsigned which)
{
	char hex[2 * PFS_DIGEST_MAXLEN + 1];

	pfs_hex(out, a->len, hex);
	if (strcmp(hex, want) != 0)
		fail_msg("%s %s of input %u: %s, expected %s", a->name, how,
		         which, hex, want);
}

/* known answers, pfs_digest_buffer and init/update/final */
static void
test_known_answer(void **state)
{
	const struct kat *k = *state;
	const struct pfs_digest_algo *a = algo(k->algo);
	struct pfs_digest d;
	struct pfs_err e;
	uint8_t out[PFS_DIGEST_MAXLEN];
	const uint8_t *p;
	size_t n;

	assert_int_equal(strlen(k->hex[0]), 2 * a->len);
	if (pfs_digest_init(&d, a, &e) < 0)
		fail_msg("%s", e.msg);
	for (unsigned i = 0; i < NIN; i++) {
		input(i, &p, &n);
		pfs_digest_buffer(a, p, n, out);
		check_hex(a, out, k->hex[i], "one-shot", i);
		pfs_digest_update(&d, p, n);
		pfs_digest_final(&d, out);       /* and resets the state */
		check_hex(a, out, k->hex[i], "streaming", i);
	}
	pfs_digest_free(&d);
	assert_null(d.state);
	pfs_digest_free(&d);                     /* twice is harmless */
}

/* update in pieces of every size 1..300 (and odd larger ones) = one-shot,
 * over 20 KB, so that every library's block and stripe boundaries fall
 * inside pieces and between them */
static void
test_streaming_equals_one_shot(void **state)
{
	static const size_t big[] = { 1000, 4096, 8193, 20000 };
	const struct pfs_digest_algo *a;
	struct pfs_digest d;
	struct pfs_err e;
	uint8_t want[PFS_DIGEST_MAXLEN], got[PFS_DIGEST_MAXLEN];
	size_t n = 20000, piece, off;
	uint8_t *buf = malloc(n);

	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)((i * 2654435761u) >> 13);
	for (a = pfs_digest_algos; a->name; a++) {
		pfs_digest_buffer(a, buf, n, want);
		if (pfs_digest_init(&d, a, &e) < 0)
			fail_msg("%s", e.msg);
		for (piece = 1; piece < 300 + sizeof(big) / sizeof(big[0]);
		     piece++) {
			size_t step = piece < 300 ? piece : big[piece - 300];
			for (off = 0; off < n; off += step)
				pfs_digest_update(&d, buf + off,
				                  n - off < step ? n - off : step);
			pfs_digest_final(&d, got);
			if (memcmp(got, want, a->len) != 0)
				fail_msg("%s: pieces of %zu differ from one-shot",
				         a->name, step);
		}
		pfs_digest_free(&d);
	}
	free(buf);
}

static void
test_reset_discards(void **state)
{
	const struct pfs_digest_algo *a;
	struct pfs_digest d;
	struct pfs_err e;
	uint8_t want[PFS_DIGEST_MAXLEN], got[PFS_DIGEST_MAXLEN];

	(void)state;
	for (a = pfs_digest_algos; a->name; a++) {
		pfs_digest_buffer(a, "abc", 3, want);
		if (pfs_digest_init(&d, a, &e) < 0)
			fail_msg("%s", e.msg);
		pfs_digest_update(&d, "something else", 14);
		pfs_digest_reset(&d);
		pfs_digest_update(&d, "a", 1);
		pfs_digest_update(&d, "", 0);
		pfs_digest_update(&d, "bc", 2);
		pfs_digest_final(&d, got);
		if (memcmp(got, want, a->len) != 0)
			fail_msg("%s: reset did not discard", a->name);
		pfs_digest_free(&d);
	}
}

static void
test_table(void **state)
{
	const struct pfs_digest_algo *a;
	unsigned n = 0;

	(void)state;
	for (a = pfs_digest_algos; a->name; a++, n++) {
		assert_ptr_equal(pfs_digest_by_name(a->name), a);
		assert_ptr_equal(pfs_digest_by_id(a->id), a);
		assert_true(a->len > 0 && a->len <= PFS_DIGEST_MAXLEN);
		/* stages.h's names (format ids) are the same facts */
		assert_non_null(pfs_hash_name(a->id));
		assert_string_equal(pfs_hash_name(a->id), a->name);
		assert_int_equal(pfs_hash_id(a->name), a->id);
		assert_non_null(a->sum_tool);
		assert_non_null(a->tag_name);
	}
	assert_int_equal(n, NKATS);               /* every row has answers */
	assert_null(pfs_digest_by_name("md5"));
	assert_null(pfs_digest_by_name(""));
	assert_null(pfs_digest_by_name("SHA256"));
	assert_null(pfs_digest_by_id(0));
	assert_null(pfs_digest_by_id(8));
}

static void
test_hex(void **state)
{
	static const uint8_t b[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	char out[2 * sizeof(b) + 1];

	(void)state;
	memset(out, 'x', sizeof(out));
	pfs_hex(b, sizeof(b), out);
	assert_string_equal(out, "00017f80abff");
	pfs_hex(b, 0, out);
	assert_string_equal(out, "");
}

static void
test_crypto_init_repeatable(void **state)
{
	struct pfs_err e;

	(void)state;
	assert_int_equal(pfs_crypto_init(&e), 0);
	assert_int_equal(pfs_crypto_init(&e), 0);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_crypto_init_repeatable),
		cmocka_unit_test(test_streaming_equals_one_shot),
		cmocka_unit_test(test_reset_discards),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_hex),
	};
	enum { NFIXED = sizeof(fixed) / sizeof(fixed[0]) };
	static struct CMUnitTest tests[NFIXED + NKATS];
	static char names[NKATS][64];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i % 251);
	for (size_t i = 0; i < NKATS; i++) {
		snprintf(names[i], sizeof(names[i]), "known_answer_%s",
		         kats[i].algo);
		tests[n++] = (struct CMUnitTest){ names[i], test_known_answer,
		        NULL, NULL, (void *)(uintptr_t)&kats[i] };
	}
	for (size_t i = 0; i < NFIXED; i++)
		tests[n++] = fixed[i];
	return _cmocka_run_group_tests("digest", tests, n, NULL, NULL);
}
