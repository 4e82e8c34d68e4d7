/*
 * test_codec - common/codec.c: the codec table is consistent (every row:
 * name and flag unique, id found by pfs_codec_by_id, level range sane,
 * default within it) and every codec round-trips a small buffer at its
 * lowest, default, highest and --ultra level, within its bound (1 byte
 * and up: a chunk is never empty, and an LZ4 frame cannot declare a
 * content size of 0).
 */
#include <stdio.h>
#include <stdlib.h>

#include "codec.h"
#include "stages.h"
#include "unit.h"

static void
test_table(void **state)
{
	unsigned i, k;

	(void)state;
	for (i = 0; i < PFS_NCODECS; i++) {
		const struct pfs_codec *c = &pfs_codecs[i];
		char flag[32];

		assert_non_null(c->name);
		assert_non_null(c->title);
		assert_non_null(c->note);
		snprintf(flag, sizeof(flag), "--%s", c->name);
		assert_string_equal(c->flag, flag);
		assert_ptr_equal(pfs_codec_by_id(c->id), c);
		assert_ptr_equal(pfs_codec_by_name(c->name), c);
		for (k = 0; k < i; k++) {
			assert_int_not_equal(pfs_codecs[k].id, c->id);
			assert_string_not_equal(pfs_codecs[k].name, c->name);
			assert_string_not_equal(pfs_codecs[k].title, c->title);
		}
		assert_true(c->lmin < c->lmax);
		assert_true(c->lmax <= c->lultra);
		assert_true(pfs_codec_level_ok(c, c->ldef, 0));
		assert_true(pfs_codec_level_ok(c, c->lmin, 0));
		assert_true(pfs_codec_level_ok(c, c->lmax, 0));
		assert_false(pfs_codec_level_ok(c, c->lmin - 1, 1));
		assert_false(pfs_codec_level_ok(c, c->lultra + 1, 1));
		assert_true(pfs_codec_level_ok(c, c->lultra, 1));
		assert_int_equal(pfs_codec_level_ok(c, c->lultra, 0),
		                 c->lultra == c->lmax);
		if (c->lmin < 0)         /* fast levels: 0 is not a level */
			assert_false(pfs_codec_level_ok(c, 0, 1));
		assert_non_null(c->init);
		assert_non_null(c->bound);
		assert_non_null(c->compress);
		assert_non_null(c->decompress);
	}
	assert_null(pfs_codec_by_id(0));
	assert_null(pfs_codec_by_id(255));
	assert_null(pfs_codec_by_name("gzip"));
	assert_null(pfs_codec_by_name("--zstd"));
	/* the first row is the default, zstd; ids are the format's */
	assert_string_equal(pfs_codecs[0].name, "zstd");
	assert_int_equal(pfs_codec_by_name("zstd")->id, PFS_C_ZSTD);
	assert_int_equal(pfs_codec_by_name("lz4")->id, PFS_C_LZ4);
	assert_int_equal(pfs_codec_by_name("brotli")->id, PFS_C_BROTLI);
}

static void
test_words(void **state)
{
	char s[128];

	(void)state;
	pfs_codec_join(0, ", ", " or ", s, sizeof(s));
	assert_string_equal(s, "--zstd, --lz4 or --brotli");
	pfs_codec_join(1, "/", "/", s, sizeof(s));
	assert_string_equal(s, "zstd/LZ4/Brotli");
	pfs_codec_levels(pfs_codec_by_name("zstd"), s, sizeof(s));
	assert_string_equal(s, "1-19, 20-22 with --ultra, -100 to -1 fast");
	pfs_codec_levels(pfs_codec_by_name("lz4"), s, sizeof(s));
	assert_string_equal(s, "1-12");
	assert_int_equal(pfs_codec_describe(PFS_C_ZSTD, -5, s, sizeof(s)), 0);
	assert_string_equal(s, "zstd --fast=5");
	assert_int_equal(pfs_codec_describe(PFS_C_ZSTD, 22, s, sizeof(s)), 0);
	assert_string_equal(s, "zstd --ultra -22");
	assert_int_equal(pfs_codec_describe(PFS_C_ZSTD, 19, s, sizeof(s)), 0);
	assert_string_equal(s, "zstd -19");
	assert_int_equal(pfs_codec_describe(PFS_C_BROTLI, 11, s, sizeof(s)), 0);
	assert_string_equal(s, "brotli -11");
	strcpy(s, "untouched");
	assert_int_equal(pfs_codec_describe(0, 1, s, sizeof(s)), -1);
	assert_string_equal(s, "untouched");
}

/* compress src at level, check the bound, decompress with the exact size
 * and with a larger bound, compare */
static void
round_trip(const struct pfs_codec *c, int level, const uint8_t *src,
           size_t n)
{
	struct pfs_codec_cfg cfg = { level, 64 << 10 };
	struct pfs_buf z = PFS_BUF_INIT, d = PFS_BUF_INIT;
	struct pfs_codec_ctx *cc, *dc;
	struct pfs_codec_job j;
	struct pfs_err e;
	size_t zlen;

	cc = pfs_codec_ctx_new(c, &cfg, 0, &e);
	dc = pfs_codec_ctx_new(c, &cfg, 1, &e);
	assert_non_null(cc);
	assert_non_null(dc);

	memset(&j, 0, sizeof(j));
	j.src = src;
	j.n = n;
	j.cap = pfs_codec_bound(c, &cfg, n);
	assert_true(j.cap >= n);
	assert_int_equal(pfs_buf_reserve(&z, j.cap), 0);
	j.out = &z;
	if (pfs_codec_compress(cc, &j) < 0)
		fail_msg("%s level %d: compress %zu bytes: %s", c->name, level,
		         n, j.why);
	assert_true(j.outlen > 0 && j.outlen <= j.cap);
	zlen = j.outlen;

	memset(&j, 0, sizeof(j));
	j.src = z.p;
	j.n = zlen;
	j.lo = j.hi = n;                     /* the exact size */
	j.out = &d;
	if (pfs_codec_decompress(dc, &j) < 0)
		fail_msg("%s level %d: decompress: %s", c->name, level, j.why);
	assert_int_equal(j.outlen, n);
	assert_memory_equal(d.p, src, n);

	memset(&j, 0, sizeof(j));
	j.src = z.p;
	j.n = zlen;
	j.lo = 0;
	j.hi = cfg.below;                    /* only a bound */
	j.out = &d;
	if (pfs_codec_decompress(dc, &j) < 0)
		fail_msg("%s level %d: decompress (bound): %s", c->name, level,
		         j.why);
	assert_int_equal(j.outlen, n);

	memset(&j, 0, sizeof(j));            /* one byte short of the size */
	j.src = z.p;
	j.n = zlen;
	j.lo = j.hi = n - 1;
	j.out = &d;
	assert_int_equal(pfs_codec_decompress(dc, &j), -1);
	assert_true(j.why[0] != '\0');
	pfs_codec_ctx_free(cc);
	pfs_codec_ctx_free(dc);
	pfs_buf_free(&z);
	pfs_buf_free(&d);
}

static void
test_round_trip(void **state)
{
	const struct pfs_codec *c = *state;
	static uint8_t text[3000], noise[1500];
	const int levels[] = { c->lmin, c->ldef, c->lmax, c->lultra };
	uint32_t x = 12345;
	size_t i, l;

	for (i = 0; i < sizeof(text); i++)
		text[i] = (uint8_t)("the quick brown fox "[i % 20] + i / 600);
	for (i = 0; i < sizeof(noise); i++) {
		x = x * 1103515245u + 12345u;
		noise[i] = (uint8_t)(x >> 16);
	}
	for (l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
		round_trip(c, levels[l], text, sizeof(text));
		round_trip(c, levels[l], noise, sizeof(noise)); /* incompressible */
		round_trip(c, levels[l], text, 1);
	}
}

int
main(void)
{
	static struct CMUnitTest tests[2 + PFS_NCODECS] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_words),
	};
	static char names[PFS_NCODECS][32];
	size_t i;

	for (i = 0; i < PFS_NCODECS; i++) {
		snprintf(names[i], sizeof(names[i]), "round_trip_%s",
		         pfs_codecs[i].name);
		tests[2 + i] = (struct CMUnitTest){ names[i], test_round_trip,
		        NULL, NULL, (void *)(uintptr_t)&pfs_codecs[i] };
	}
	return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
