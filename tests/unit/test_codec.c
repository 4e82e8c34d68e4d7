/*
 * test_codec - common/codec.c: the codec table is consistent (every row:
 * name and flag unique, id found by pfs_codec_by_id, level range sane,
 * default within it) and every codec round-trips a small buffer at its
 * lowest, default, highest and --ultra level, within its bound (1 byte
 * and up: a chunk is never empty, and an LZ4 frame cannot declare a
 * content size of 0); zstd's in-place decoding of stored (raw) blocks,
 * checksum included; Brotli's checksum block (cfg.bsum): its exact bytes,
 * its check, the COMPRESS params that say it is there.
 */
#include <stdio.h>
#include <stdlib.h>

#include <xxhash.h>

#include "codec.h"
#include "stages.h"
#include "unit.h"
#include "wire.h"

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

/* one decode of the frame z[0..zlen) for an output of [lo, hi] bytes, from
 * a copy of it in d->copy */
struct decoded {
	struct pfs_codec_job j;
	struct pfs_buf copy;
	int rc;
};

static void
decode(struct pfs_codec_ctx *dc, const struct pfs_buf *z, size_t zlen,
       uint64_t lo, uint64_t hi, struct pfs_buf *out, struct decoded *d)
{
	memset(&d->j, 0, sizeof(d->j));
	assert_int_equal(pfs_buf_reserve(&d->copy, zlen), 0);
	memcpy(d->copy.p, z->p, zlen);
	d->j.src = d->copy.p;
	d->j.n = zlen;
	d->j.lo = lo;
	d->j.hi = hi;
	d->j.out = out;
	d->rc = pfs_codec_decompress(dc, &d->j);
}

/* encode - src[0..n) compressed whole into z (reserved to the bound) by
 * cc; its length, or the test fails naming codec c and the level */
static size_t
encode(struct pfs_codec_ctx *cc, const struct pfs_codec *c,
       const struct pfs_codec_cfg *cfg, uint8_t *src, size_t n,
       struct pfs_buf *z)
{
	struct pfs_codec_job j;

	memset(&j, 0, sizeof(j));
	j.src = src;
	j.n = n;
	j.cap = pfs_codec_bound(c, cfg, n);
	assert_true(j.cap >= n);
	assert_int_equal(pfs_buf_reserve(z, j.cap), 0);
	j.out = z;
	if (pfs_codec_compress(cc, &j) < 0)
		fail_msg("%s level %d: compress %zu bytes: %s", c->name,
		         cfg->level, n, j.why);
	assert_true(j.outlen > 0 && j.outlen <= j.cap);
	return j.outlen;
}

/* compress src at level, check the bound, decompress with the exact size
 * and with a larger bound, compare */
static void
round_trip(const struct pfs_codec *c, int level, int bsum, uint8_t *src,
           size_t n)
{
	struct pfs_codec_cfg cfg = { level, 64 << 10, bsum };
	struct pfs_buf z = PFS_BUF_INIT, d = PFS_BUF_INIT;
	struct pfs_codec_ctx *cc, *dc;
	struct decoded j = { .copy = PFS_BUF_INIT };
	struct pfs_err e;
	size_t zlen;

	cc = pfs_codec_ctx_new(c, &cfg, 0, &e);
	dc = pfs_codec_ctx_new(c, &cfg, 1, &e);
	assert_non_null(cc);
	assert_non_null(dc);

	zlen = encode(cc, c, &cfg, src, n, &z);

	/* the exact size; a zstd frame of raw blocks decodes in place, in
	 * its own buffer, so each decode works on a copy */
	decode(dc, &z, zlen, n, n, &d, &j);
	if (j.rc < 0)
		fail_msg("%s level %d: decompress: %s", c->name, level, j.j.why);
	assert_int_equal(j.j.outlen, n);
	assert_memory_equal(j.j.in_place ? j.j.src : d.p, src, n);

	decode(dc, &z, zlen, 0, cfg.below, &d, &j);  /* only a bound */
	if (j.rc < 0)
		fail_msg("%s level %d: decompress (bound): %s", c->name, level,
		         j.j.why);
	assert_int_equal(j.j.outlen, n);
	assert_memory_equal(j.j.in_place ? j.j.src : d.p, src, n);

	decode(dc, &z, zlen, n - 1, n - 1, &d, &j);  /* one byte short */
	assert_int_equal(j.rc, -1);
	assert_true(j.j.why[0] != '\0');
	/* refused before its checksum: the frame is left as it was */
	assert_memory_equal(j.copy.p, z.p, zlen);
	pfs_buf_free(&j.copy);
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
		round_trip(c, levels[l], 0, text, sizeof(text));
		round_trip(c, levels[l], 0, noise, sizeof(noise)); /* incompressible */
		round_trip(c, levels[l], 0, text, 1);
		if (c->id != PFS_C_BROTLI)
			continue;
		/* with the checksum block, within the bound still */
		round_trip(c, levels[l], 1, text, sizeof(text));
		round_trip(c, levels[l], 1, noise, sizeof(noise));
		round_trip(c, levels[l], 1, text, 1);
	}
}

/* zstd stores data it cannot compress in raw blocks; such a frame is
 * decoded in place (codec.h), checked against its checksum all the same */
static void
test_zstd_stored(void **state)
{
	const struct pfs_codec *c = pfs_codec_by_name("zstd");
	struct pfs_codec_cfg cfg = { 3, 1 << 20, 0 };
	struct pfs_buf z = PFS_BUF_INIT, d = PFS_BUF_INIT;
	struct decoded j = { .copy = PFS_BUF_INIT };
	struct pfs_codec_ctx *cc, *dc;
	struct pfs_err e;
	static uint8_t noise[300 << 10];       /* three blocks of 128 KiB */
	uint32_t x = 99;
	size_t i, zlen;

	(void)state;
	for (i = 0; i < sizeof(noise); i++) {
		x = x * 1103515245u + 12345u;
		noise[i] = (uint8_t)(x >> 16);
	}
	cc = pfs_codec_ctx_new(c, &cfg, 0, &e);
	dc = pfs_codec_ctx_new(c, &cfg, 1, &e);
	assert_non_null(cc);
	assert_non_null(dc);
	zlen = encode(cc, c, &cfg, noise, sizeof(noise), &z);
	assert_true(zlen > sizeof(noise));     /* stored, not compressed */

	decode(dc, &z, zlen, sizeof(noise), sizeof(noise), &d, &j);
	assert_int_equal(j.rc, 0);
	assert_int_equal(j.j.in_place, 1);
	assert_ptr_equal(j.j.src, j.copy.p);
	assert_int_equal(j.j.outlen, sizeof(noise));
	assert_memory_equal(j.j.src, noise, sizeof(noise));
	assert_int_equal(d.cap, 0);            /* no output buffer */

	/* one byte of the data changed, then one of the checksum */
	z.p[zlen / 2] ^= 1;
	decode(dc, &z, zlen, sizeof(noise), sizeof(noise), &d, &j);
	assert_int_equal(j.rc, -1);
	assert_string_equal(j.j.why, "zstd frame is corrupted: Restored data "
	                    "doesn't match checksum");
	z.p[zlen / 2] ^= 1;
	z.p[zlen - 1] ^= 0x80;
	decode(dc, &z, zlen, sizeof(noise), sizeof(noise), &d, &j);
	assert_int_equal(j.rc, -1);
	assert_string_equal(j.j.why, "zstd frame is corrupted: Restored data "
	                    "doesn't match checksum");
	z.p[zlen - 1] ^= 0x80;

	/* a dictionary id, which zstd -d refuses: so does the decoder here,
	 * and the frame is left as it was */
	{
		struct pfs_buf zd = PFS_BUF_INIT;
		size_t at = 5 + ((z.p[4] >> 5) & 1 ? 0 : 1);

		assert_int_equal(z.p[4] & 3, 0);
		assert_int_equal(pfs_buf_reserve(&zd, zlen + 1), 0);
		memcpy(zd.p, z.p, at);
		zd.p[4] |= 1;                     /* a 1-byte dictionary id */
		zd.p[at] = 42;
		memcpy(zd.p + at + 1, z.p + at, zlen - at);
		decode(dc, &zd, zlen + 1, sizeof(noise), sizeof(noise), &d, &j);
		assert_int_equal(j.rc, -1);
		assert_int_equal(j.j.in_place, 0);
		assert_string_equal(j.j.why, "zstd frame is corrupted: "
		                    "Dictionary mismatch");
		assert_memory_equal(j.copy.p, zd.p, zlen + 1);
		pfs_buf_free(&zd);
	}

	/* cut short: refused by the decoder, the frame left as it was */
	decode(dc, &z, zlen - 5, sizeof(noise), sizeof(noise), &d, &j);
	assert_int_equal(j.rc, -1);
	assert_int_equal(j.j.in_place, 0);
	assert_memory_equal(j.copy.p, z.p, zlen - 5);

	pfs_buf_free(&j.copy);
	pfs_codec_ctx_free(cc);
	pfs_codec_ctx_free(dc);
	pfs_buf_free(&z);
	pfs_buf_free(&d);
}

/* Brotli streamed in pieces of any size gives the bytes it gives whole (at
 * levels 0 and 1 the encoder's output depends on how its input is cut),
 * across the feed blocks and a flush (4 MiB), and decodes in pieces; with
 * the checksum block, as pcompress writes it */
static void
test_brotli_pieces(void **state)
{
	const struct pfs_codec *c = pfs_codec_by_name("brotli");
	static const size_t cuts[] = { 1, 7, 4096, 100000, 262144, 300001 };
	const int levels[] = { 0, 1, 5 };
	const size_t n = (4u << 20) + (300u << 10);
	struct pfs_buf whole = PFS_BUF_INIT, piece = PFS_BUF_INIT,
	               back = PFS_BUF_INIT;
	struct pfs_codec_ctx *cc, *dc;
	struct pfs_codec_job k;
	struct pfs_err e;
	uint8_t *src = malloc(n);
	uint32_t x = 7;
	size_t i, l, off, m, cut, zlen;

	(void)state;
	assert_non_null(src);
	assert_int_equal(pfs_codec_streams(c), 1);
	assert_int_equal(pfs_codec_streams(pfs_codec_by_name("zstd")), 0);
	for (i = 0; i < n; i++) {           /* text, then noise */
		x = x * 1103515245u + 12345u;
		src[i] = i < n / 2 ? (uint8_t)("pieces of text "[i % 15] + i / 99999)
		                   : (uint8_t)(x >> 16);
	}
	for (l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
		struct pfs_codec_cfg cfg = { levels[l], (uint32_t)n, 1 };

		cc = pfs_codec_ctx_new(c, &cfg, 0, &e);
		dc = pfs_codec_ctx_new(c, &cfg, 1, &e);
		assert_non_null(cc);
		assert_non_null(dc);
		zlen = encode(cc, c, &cfg, src, n, &whole);
		for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
			cut = cuts[i];
			if (cut == 1 && levels[l] == 5)
				continue;           /* slow, and 7 cuts as oddly */
			memset(&k, 0, sizeof(k));
			k.n = n;
			k.cap = pfs_codec_bound(c, &cfg, n);
			assert_int_equal(pfs_buf_reserve(&piece, k.cap), 0);
			k.out = &piece;
			assert_int_equal(pfs_codec_stream_begin(cc, &k), 0);
			for (off = 0; off < n; off += m) {
				m = n - off < cut ? n - off : cut;
				assert_int_equal(pfs_codec_stream_piece(cc, &k,
				                 src + off, m), 0);
			}
			assert_int_equal(pfs_codec_stream_end(cc, &k), 0);
			assert_int_equal(k.outlen, zlen);
			assert_memory_equal(piece.p, whole.p, zlen);
		}
		/* decoded a piece at a time, to the exact size */
		memset(&k, 0, sizeof(k));
		k.lo = k.hi = n;
		k.out = &back;
		assert_int_equal(pfs_codec_stream_begin(dc, &k), 0);
		for (off = 0; off < zlen; off += m) {
			m = zlen - off < 4099 ? zlen - off : 4099;
			assert_int_equal(pfs_codec_stream_piece(dc, &k,
			                 whole.p + off, m), 0);
		}
		assert_int_equal(pfs_codec_stream_end(dc, &k), 0);
		assert_int_equal(k.outlen, n);
		assert_memory_equal(back.p, src, n);
		pfs_codec_ctx_free(cc);
		pfs_codec_ctx_free(dc);
	}
	free(src);
	pfs_buf_free(&whole);
	pfs_buf_free(&piece);
	pfs_buf_free(&back);
}

/* stream_decode - z[0..zlen) decoded a piece of 5 bytes at a time (the
 * checksum block is cut across pieces) to exactly n bytes, by dc; the
 * result of pfs_codec_stream_end, why in k */
static int
stream_decode(struct pfs_codec_ctx *dc, const uint8_t *z, size_t zlen,
              size_t n, struct pfs_buf *out, struct pfs_codec_job *k)
{
	size_t off, m;

	memset(k, 0, sizeof(*k));
	k->lo = k->hi = n;
	k->out = out;
	assert_int_equal(pfs_codec_stream_begin(dc, k), 0);
	for (off = 0; off < zlen; off += m) {
		m = zlen - off < 5 ? zlen - off : 5;
		if (pfs_codec_stream_piece(dc, k, z + off, m) < 0)
			return -1;
	}
	return pfs_codec_stream_end(dc, k);
}

/* Brotli with cfg.bsum: every payload ends with D6 01, the XXH64 of the
 * content (little-endian), 03 (codec.c), at every level and for input that
 * does and does not compress; stock decoding (bsum 0) skips the block; a
 * checked decoder refuses a stream without it, a damaged checksum, and a
 * damaged stream that still decodes */
static void
test_brotli_sum(void **state)
{
	const struct pfs_codec *c = pfs_codec_by_name("brotli");
	static uint8_t src[70000];
	struct pfs_buf z = PFS_BUF_INIT, plain = PFS_BUF_INIT,
	               out = PFS_BUF_INIT;
	struct pfs_codec_ctx *cc, *dc, *dc0, *pc;
	struct pfs_codec_job k;
	struct pfs_err e;
	uint32_t x = 5;
	size_t i, zlen, plen, n;
	int level, silent = 0;

	(void)state;
	for (i = 0; i < sizeof(src); i++) {   /* text, then noise */
		x = x * 1103515245u + 12345u;
		src[i] = i < 40000 ? (uint8_t)("sums of text "[i % 13] + i / 9999)
		                   : (uint8_t)(x >> 16);
	}
	for (level = 0; level <= 11; level++) {
		struct pfs_codec_cfg cfg = { level, 1 << 20, 1 },
		                     cfg0 = { level, 1 << 20, 0 };

		n = level % 2 ? sizeof(src) : 39000;  /* noise, or text only */
		cc = pfs_codec_ctx_new(c, &cfg, 0, &e);
		pc = pfs_codec_ctx_new(c, &cfg0, 0, &e);
		dc = pfs_codec_ctx_new(c, &cfg, 1, &e);
		dc0 = pfs_codec_ctx_new(c, &cfg0, 1, &e);
		assert_true(cc && pc && dc && dc0);
		zlen = encode(cc, c, &cfg, src, n, &z);
		plen = encode(pc, c, &cfg0, src, n, &plain);
		/* the unchecked stream, byte for byte, then the tail (the
		 * flush before it may end the last meta-block otherwise) */
		assert_true(zlen >= plen + 11);
		assert_int_equal(z.p[zlen - 11], 0xd6);
		assert_int_equal(z.p[zlen - 10], 0x01);
		assert_true(pfs_get64(z.p + zlen - 9) == XXH64(src, n, 0));
		assert_int_equal(z.p[zlen - 1], 0x03);

		assert_int_equal(stream_decode(dc, z.p, zlen, n, &out, &k), 0);
		assert_memory_equal(out.p, src, n);
		/* what a stock decoder does: the block is skipped */
		assert_int_equal(stream_decode(dc0, z.p, zlen, n, &out, &k), 0);
		assert_memory_equal(out.p, src, n);
		/* a stream without the block: unchecked it decodes, checked
		 * it is refused */
		assert_int_equal(stream_decode(dc0, plain.p, plen, n, &out, &k),
		                 0);
		assert_int_equal(stream_decode(dc, plain.p, plen, n, &out, &k),
		                 -1);
		assert_string_equal(k.why, "brotli stream does not end with its "
		                    "checksum block");
		/* each byte of the checksum, and of the block's header */
		for (i = zlen - 11; i < zlen; i++) {
			z.p[i] ^= 0x10;
			assert_int_equal(stream_decode(dc, z.p, zlen, n, &out,
			                               &k), -1);
			if (i >= zlen - 9 && i < zlen - 1)
				assert_non_null(strstr(k.why, "brotli stream is "
				                "corrupted: the checksum does not "
				                "match (XXH64 "));
			z.p[i] ^= 0x10;
		}
		/* every 97th byte of the data: an error, or (a bit the
		 * decoder ignores) the same output; never other bytes */
		for (i = 0; i + 11 < zlen; i += 97) {
			z.p[i] ^= 0x04;
			if (stream_decode(dc, z.p, zlen, n, &out, &k) == 0 &&
			    memcmp(out.p, src, n) != 0)
				silent++;
			z.p[i] ^= 0x04;
		}
		pfs_codec_ctx_free(cc);
		pfs_codec_ctx_free(pc);
		pfs_codec_ctx_free(dc);
		pfs_codec_ctx_free(dc0);
	}
	assert_int_equal(silent, 0);
	pfs_buf_free(&z);
	pfs_buf_free(&plain);
	pfs_buf_free(&out);
}

/* the COMPRESS params: written as the format says, read back; a Brotli
 * record of 2 bytes (before the checksum) is read as unchecked */
static void
test_params(void **state)
{
	struct pfs_codec_cfg cfg = { 5, 0, 1 }, got;
	const struct pfs_codec *c;
	uint8_t p[PFS_CODEC_PARAMS_MAX];
	char why[128];
	unsigned i;

	(void)state;
	for (i = 0; i < PFS_NCODECS; i++) {
		size_t len = pfs_codec_params(&pfs_codecs[i], &cfg, p);

		assert_int_equal(len, pfs_codecs[i].id == PFS_C_BROTLI ? 3 : 2);
		assert_int_equal(p[0], pfs_codecs[i].id);
		assert_int_equal(p[1], 5);
		memset(&got, 0, sizeof(got));
		assert_int_equal(pfs_codec_params_read(p, len, &c, &got, why,
		                                       sizeof(why)), 0);
		assert_ptr_equal(c, &pfs_codecs[i]);
		assert_int_equal(got.level, 5);
		assert_int_equal(got.bsum, len == 3);
	}
	cfg.level = -5;
	cfg.bsum = 0;
	assert_int_equal(pfs_codec_params(pfs_codec_by_name("brotli"), &cfg, p),
	                 2);
	assert_int_equal(pfs_codec_params(pfs_codec_by_name("zstd"), &cfg, p), 2);
	assert_int_equal(p[1], 0xfb);

	got.bsum = 1;       /* 2 bytes of Brotli: unchecked */
	assert_int_equal(pfs_codec_params_read((const uint8_t[]){ 3, 11 }, 2,
	                 &c, &got, why, sizeof(why)), 0);
	assert_int_equal(got.bsum, 0);
	assert_int_equal(got.level, 11);
	assert_int_equal(pfs_codec_params_read((const uint8_t[]){ 3, 5, 0 }, 3,
	                 &c, &got, why, sizeof(why)), -1);
	assert_string_equal(why, "invalid brotli compression record (flags "
	                    "0x00, not 0x01)");
	assert_int_equal(pfs_codec_params_read((const uint8_t[]){ 3, 5, 3 }, 3,
	                 &c, &got, why, sizeof(why)), -1);
	assert_string_equal(why, "invalid brotli compression record (flags "
	                    "0x03, not 0x01)");
	assert_int_equal(pfs_codec_params_read((const uint8_t[]){ 3, 5, 1, 0 },
	                 4, &c, &got, why, sizeof(why)), -1);
	assert_string_equal(why, "invalid brotli compression record (4 bytes "
	                    "of params, not 2 or 3)");
	assert_int_equal(pfs_codec_params_read((const uint8_t[]){ 1, 3, 1 }, 3,
	                 &c, &got, why, sizeof(why)), -1);
	assert_string_equal(why, "invalid zstd compression record (3 bytes of "
	                    "params, not 2)");
	assert_int_equal(pfs_codec_params_read((const uint8_t[]){ 3 }, 1,
	                 &c, &got, why, sizeof(why)), -1);
	assert_int_equal(pfs_codec_params_read((const uint8_t[]){ 9, 1 }, 2,
	                 &c, &got, why, sizeof(why)), -1);
	assert_string_equal(why, "unknown compression record (algorithm id 9)");
}

int
main(void)
{
	static struct CMUnitTest tests[6 + PFS_NCODECS] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_zstd_stored),
		cmocka_unit_test(test_brotli_pieces),
		cmocka_unit_test(test_brotli_sum),
		cmocka_unit_test(test_params),
	};
	static char names[PFS_NCODECS][32];
	size_t i;

	for (i = 0; i < PFS_NCODECS; i++) {
		snprintf(names[i], sizeof(names[i]), "round_trip_%s",
		         pfs_codecs[i].name);
		tests[6 + i] = (struct CMUnitTest){ names[i], test_round_trip,
		        NULL, NULL, (void *)(uintptr_t)&pfs_codecs[i] };
	}
	return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
