/*
 * codec.c - the codec table (codec.h) and the codecs behind it.
 *
 * zstd and LZ4 contexts are per worker thread and reused.  Brotli 1.0.9
 * has no reset call, so an encoder or decoder instance is made per chunk,
 * with custom alloc functions over a per-thread block cache (bc_alloc):
 * the blocks an instance still holds when it is destroyed (hash tables,
 * ring buffer: several MiB) are kept and handed to the next instance that
 * asks for the same size; blocks freed while it works are really freed, or
 * the cache would grow to every size it ever saw.  16 chunks of 4 MiB cost
 * 72 mmap calls, one chunk 67.  The one-shot BrotliEncoderCompress/
 * BrotliDecoderDecompress would malloc and fault in those tables again for
 * every chunk, and could not take a size hint.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <getopt.h>
#include <string.h>

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <lz4frame.h>
/* ZSTD_getFrameHeader and the window limits: part of zstd's experimental
 * API, exported by the shared library since 1.4 */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>
#include <xxhash.h>

#include "codec.h"
#include "stages.h"
#include "wire.h"

#define BC_MAX 64u

struct bcache {                     /* Brotli's per-thread block cache */
	struct { void *p; size_t n; int used; unsigned gen; } e[BC_MAX];
	unsigned n, gen;
	int keep;                   /* 1 while the instance is destroyed */
};

struct pfs_codec_ctx {
	const struct pfs_codec *codec;
	struct pfs_codec_cfg cfg;
	ZSTD_CCtx *zc;
	ZSTD_DCtx *zd;
	LZ4F_cctx *lc;
	LZ4F_dctx *ld;
	struct bcache bc;
	int decompress;
	BrotliEncoderState *be;     /* the chunk under way (streaming) */
	BrotliDecoderState *bd;
	uint64_t bpos;              /* input bytes given to be */
	int bdone;                  /* bd has seen the end of the stream */
	uint64_t btrail;            /* input bytes after that end */
	int bwhole;                 /* the chunk is given whole (brotli_sfree) */
	struct pfs_buf bstage;      /* input short of a BROTLI_FEED block */
	XXH64_state_t *bxh;         /* cfg.bsum: the chunk's content so far */
	uint8_t btail[16];          /* decompressing with cfg.bsum: the last */
	size_t btlen;               /* btlen (<= BROTLI_TAIL) input bytes */
};

static int why(struct pfs_codec_job *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
why(struct pfs_codec_job *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->why, sizeof(j->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* The declared size must fit the bound before anything is allocated. */
static int
check_size(struct pfs_codec_job *j, const char *codec, uint64_t n)
{
	if (j->lo == j->hi && n != j->lo)
		return why(j, "%s frame declares %" PRIu64 " bytes but the chunk "
		           "has %" PRIu64, codec, n, j->lo);
	if (n < j->lo || n > j->hi)
		return why(j, "%s frame declares %" PRIu64 " bytes, more than the "
		           "bound of %" PRIu64, codec, n, j->hi);
	if (pfs_buf_reserve(j->out, n ? n : 1) < 0)
		return why(j, "out of memory");
	return 0;
}

/* zstd: one context per thread, reused for every chunk */
static int
zstd_init(struct pfs_codec_ctx *t, int decompress)
{
	if (decompress)
		return (t->zd = ZSTD_createDCtx()) ? 0 : -1;
	return (t->zc = ZSTD_createCCtx()) ? 0 : -1;
}

static size_t
zstd_bound(const struct pfs_codec_cfg *cfg, size_t n)
{
	(void)cfg;
	return ZSTD_compressBound(n);
}

/* zstd_wlog - the window of an n-byte chunk: the smallest windowLog whose
 * window holds the whole chunk, so that a match may reach back to its
 * start (at 8 MiB chunks this alone takes level 3 from 2 MiB to 8 MiB of
 * history: docs/ratio-study.md).  It is never below what the level itself
 * would use for n bytes, which is its table's windowLog cut down to cover
 * n, so at most this same value; and it is capped at
 * ZSTD_WINDOWLOG_LIMIT_DEFAULT (27, 128 MiB), the largest window a stock
 * decoder (`zstd -d`) accepts without --long or --memory, which is also
 * the largest any level uses.  The value depends on n and nothing else:
 * the frames do not depend on the thread count. */
static int
zstd_wlog(size_t n)
{
	int w = ZSTD_WINDOWLOG_MIN;

	while (w < ZSTD_WINDOWLOG_LIMIT_DEFAULT && ((size_t)1 << w) < n)
		w++;
	return w;
}

/* zstd_compress - everything about how a chunk is compressed with zstd:
 * its parameters (sticky in the context, so setting them again costs
 * nothing; the window is set for every chunk, as it follows the chunk's
 * length) and the one-shot ZSTD_compress2 */
static int
zstd_compress(struct pfs_codec_ctx *t, struct pfs_codec_job *j)
{
	size_t r;

	if (ZSTD_isError(r = ZSTD_CCtx_setParameter(t->zc,
	                     ZSTD_c_compressionLevel, t->cfg.level)) ||
	    ZSTD_isError(r = ZSTD_CCtx_setParameter(t->zc,
	                     ZSTD_c_windowLog, zstd_wlog(j->n))) ||
	    ZSTD_isError(r = ZSTD_CCtx_setParameter(t->zc,
	                     ZSTD_c_checksumFlag, 1)) ||
	    ZSTD_isError(r = ZSTD_CCtx_setParameter(t->zc,
	                     ZSTD_c_contentSizeFlag, 1)))
		return why(j, "zstd compression failed: %s", ZSTD_getErrorName(r));
	r = ZSTD_compress2(t->zc, j->out->p, j->cap, j->src, j->n);
	if (ZSTD_isError(r))
		return why(j, "zstd compression failed: %s", ZSTD_getErrorName(r));
	j->outlen = r;
	return 0;
}

/* zstd_block_hdr - the 3-byte header of the zstd block at p */
static uint32_t
zstd_block_hdr(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

/* zstd_stored - a frame of raw blocks only (what zstd makes of data it
 * cannot compress) is decoded in place: its blocks moved together at the
 * start of its own buffer, then checked against the frame's checksum, with
 * no output buffer touched (pcompress -d -T 2 of 128 MiB of random data:
 * 69 -> 36 MB peak RSS, the stage alone 37.3 -> 34.6 ms; docs/performance.md).  Everything the decoder
 * would check is checked first, and only a frame that passes is moved: 1
 * when done (j->in_place, j->outlen), 0 when the frame is anything else
 * (the decoder decodes it, or says what is wrong), -1 with j->why on a
 * checksum mismatch, after which src holds the moved bytes. */
static int
zstd_stored(struct pfs_codec_job *j, unsigned long long cs)
{
	ZSTD_frameHeader fh;
	uint8_t *p = j->src, *w;
	size_t pos, n = j->n, bs;
	unsigned long long total = 0;
	uint32_t bh = 0, sum;

	if (ZSTD_getFrameHeader(&fh, p, n) != 0 ||
	    fh.frameType != ZSTD_frame || !fh.checksumFlag || fh.dictID ||
	    cs < j->lo || cs > j->hi)
		return 0;           /* (a dictionary: the decoder refuses it) */
	for (pos = fh.headerSize; !(bh & 1); pos += 3 + bs) {
		if (n - pos < 3)
			return 0;
		bh = zstd_block_hdr(p + pos);
		bs = bh >> 3;
		if (((bh >> 1) & 3) != 0 || bs > fh.blockSizeMax ||
		    n - pos - 3 < bs)
			return 0;
		total += bs;
	}
	if (n - pos != 4 || total != cs)
		return 0;
	sum = pfs_get32(p + pos);
	w = p;
	for (pos = fh.headerSize, bh = 0; !(bh & 1); pos += 3 + bs) {
		bh = zstd_block_hdr(p + pos);
		bs = bh >> 3;
		memmove(w, p + pos + 3, bs);
		w += bs;
	}
	if ((uint32_t)XXH64(p, (size_t)cs, 0) != sum)
		return why(j, "zstd frame is corrupted: %s",
		           ZSTD_getErrorString(ZSTD_error_checksum_wrong));
	j->in_place = 1;
	j->outlen = (size_t)cs;
	return 1;
}

static int
zstd_decompress(struct pfs_codec_ctx *t, struct pfs_codec_job *j)
{
	static const uint8_t magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	unsigned long long cs;
	size_t fs, r;

	if (j->n < 4 || memcmp(j->src, magic, 4) != 0 ||
	    (cs = ZSTD_getFrameContentSize(j->src, j->n)) == ZSTD_CONTENTSIZE_ERROR)
		return why(j, "not a zstd frame");
	if (cs == ZSTD_CONTENTSIZE_UNKNOWN)
		return why(j, "zstd frame does not declare its size");
	fs = ZSTD_findFrameCompressedSize(j->src, j->n);
	if (ZSTD_isError(fs))
		return why(j, "zstd frame is corrupted: %s", ZSTD_getErrorName(fs));
	if (fs != j->n)
		return why(j, "%zu trailing bytes after the zstd frame", j->n - fs);
	switch (zstd_stored(j, cs)) {
	case 1:
		return 0;
	case -1:
		return -1;
	}
	if (check_size(j, "zstd", cs) < 0)
		return -1;
	r = ZSTD_decompressDCtx(t->zd, j->out->p, cs, j->src, j->n);
	if (ZSTD_isError(r))
		return why(j, "zstd frame is corrupted: %s", ZSTD_getErrorName(r));
	j->outlen = r;
	return 0;
}

/* lz4_why's words for a payload that is no LZ4 frame at all: the one
 * error that is not the header's fault (lz4_decompress) */
static const char lz4_not_frame[] = "not an lz4 frame";

/* lz4_why - liblz4's error in words ("ERROR_contentChecksum_invalid" is
 * its name, not a sentence) */
static const char *
lz4_why(size_t r)
{
	static const char *const w[][2] = {
		{ "ERROR_contentChecksum_invalid", "content checksum mismatch" },
		{ "ERROR_blockChecksum_invalid", "block checksum mismatch" },
		{ "ERROR_headerChecksum_invalid", "header checksum mismatch" },
		{ "ERROR_frameType_unknown", lz4_not_frame },
		{ "ERROR_decompressionFailed", "damaged block" },
		{ "ERROR_frameSize_wrong", "wrong content size" },
	};
	const char *name = LZ4F_getErrorName(r);
	unsigned i;

	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (strcmp(name, w[i][0]) == 0)
			return w[i][1];
	return name;
}

/* LZ4: the largest block size that is not above the chunk size, so that a
 * full chunk decodes straight into the output buffer. */
static void
lz4_prefs(const struct pfs_codec_cfg *x, size_t n, LZ4F_preferences_t *p)
{
	memset(p, 0, sizeof(*p));
	p->frameInfo.blockSizeID = x->below >= (4u << 20) ? LZ4F_max4MB :
	                           x->below >= (1u << 20) ? LZ4F_max1MB :
	                           x->below >= (256u << 10) ? LZ4F_max256KB :
	                           LZ4F_max64KB;
	p->frameInfo.blockMode = LZ4F_blockIndependent;
	p->frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
	p->frameInfo.contentSize = n;
	p->compressionLevel = x->level;   /* below 3: fast LZ4, else LZ4-HC */
	p->autoFlush = 1;
}

static int
lz4_init(struct pfs_codec_ctx *t, int decompress)
{
	if (decompress)
		return LZ4F_isError(LZ4F_createDecompressionContext(&t->ld,
		                    LZ4F_VERSION)) ? -1 : 0;
	return LZ4F_isError(LZ4F_createCompressionContext(&t->lc,
	                    LZ4F_VERSION)) ? -1 : 0;
}

static size_t
lz4_bound(const struct pfs_codec_cfg *x, size_t n)
{
	LZ4F_preferences_t p;

	lz4_prefs(x, n, &p);
	return LZ4F_compressFrameBound(n, &p);
}

/* The content checksum of an LZ4 frame is XXH32 (seed 0) of the frame's
 * content, 4 bytes after the end mark, announced by bit 2 of FLG; the
 * header checksum byte (HC) after the frame descriptor is the second byte
 * of XXH32 (seed 0) of that descriptor (lz4's frame format).  liblz4 can
 * write and check it, but its copy of XXH32 is a slow one (Debian's
 * build: vectorised with SSE2, which has no 32-bit multiply): half the CPU
 * of pcompress --lz4 on incompressible data.  libxxhash's XXH32 computes
 * the same function some four times faster, so the frame is written by
 * liblz4 without it and completed here -- the flag set, HC again, the
 * checksum appended: the same bytes liblz4 writes with the checksum on --
 * and checked here when decoding. */
#define LZ4_FLG_CSUM 0x04u
#define LZ4_MAGIC_LEN 4u

/* lz4_desc_len - length of the frame descriptor (FLG, BD, the optional
 * content size and dictionary ID), or 0 if hdr (n bytes) holds none */
static size_t
lz4_desc_len(const uint8_t *hdr, size_t n)
{
	size_t len;

	if (n < LZ4_MAGIC_LEN + 3)
		return 0;
	len = 2 + ((hdr[4] & 0x08u) ? 8 : 0) + ((hdr[4] & 0x01u) ? 4 : 0);
	return LZ4_MAGIC_LEN + len + 1 <= n ? len : 0;
}

static int
lz4_compress(struct pfs_codec_ctx *t, struct pfs_codec_job *j)
{
	LZ4F_preferences_t p;
	uint8_t *d = j->out->p;
	size_t cap = j->cap, pos, r, hl;

	lz4_prefs(&t->cfg, j->n, &p);
	p.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
	r = LZ4F_compressBegin(t->lc, d, cap, &p);
	if (LZ4F_isError(r))
		goto fail;
	pos = r;
	hl = lz4_desc_len(d, pos);
	r = LZ4F_compressUpdate(t->lc, d + pos, cap - pos, j->src, j->n, NULL);
	if (LZ4F_isError(r))
		goto fail;
	pos += r;
	r = LZ4F_compressEnd(t->lc, d + pos, cap - pos, NULL);
	if (LZ4F_isError(r))
		goto fail;
	pos += r;
	if (!hl || cap - pos < 4)      /* the bound counts the checksum */
		return why(j, "lz4 compression failed: no room for the "
		           "content checksum");
	d[LZ4_MAGIC_LEN] |= LZ4_FLG_CSUM;
	d[LZ4_MAGIC_LEN + hl] =
		(uint8_t)(XXH32(d + LZ4_MAGIC_LEN, hl, 0) >> 8);
	pfs_put32(d + pos, XXH32(j->src, j->n, 0));
	j->outlen = pos + 4;
	return 0;
fail:
	return why(j, "lz4 compression failed: %s", LZ4F_getErrorName(r));
}

static int
lz4_decompress(struct pfs_codec_ctx *t, struct pfs_codec_job *j)
{
	LZ4F_frameInfo_t fi;
	LZ4F_decompressOptions_t opt;
	const uint8_t *src = j->src;
	size_t left = j->n, din, dout, r, done = 0;

	memset(&opt, 0, sizeof(opt));

	LZ4F_resetDecompressionContext(t->ld);
	din = left;
	r = LZ4F_getFrameInfo(t->ld, &fi, src, &din);
	if (LZ4F_isError(r)) {
		const char *w = lz4_why(r);

		/* as zstd's "not a zstd frame"; else the header's fault */
		return w == lz4_not_frame ? why(j, "%s", w) :
		       why(j, "lz4 frame header is bad: %s", w);
	}
	if (!fi.contentSize)
		return why(j, "lz4 frame does not declare its size");
	if (check_size(j, "lz4", fi.contentSize) < 0)
		return -1;
	src += din;
	left -= din;
	/* the content checksum, if any, checked here (lz4_compress says
	 * why): liblz4 then skips all checksums, so the block checksums of a
	 * frame that has both go unchecked (the content one covers them) */
	opt.skipChecksums = fi.contentChecksumFlag == LZ4F_contentChecksumEnabled;
	do {
		din = left;
		dout = fi.contentSize - done;
		r = LZ4F_decompress(t->ld, j->out->p + done, &dout, src, &din,
		                    &opt);
		if (LZ4F_isError(r))
			return why(j, "lz4 frame is corrupted: %s",
			           lz4_why(r));
		src += din;
		left -= din;
		done += dout;
		if (r && !din && !dout)
			return why(j, left ? "lz4 frame decodes to more than its "
			           "declared size" : "lz4 frame is truncated");
	} while (r);
	if (left)
		return why(j, "%zu trailing bytes after the lz4 frame", left);
	/* a finished frame with the flag ends in its checksum */
	if (opt.skipChecksums &&
	    pfs_get32(src - 4) != XXH32(j->out->p, done, 0))
		return why(j, "lz4 frame is corrupted: content checksum "
		           "mismatch");
	j->outlen = done;
	return 0;
}

/* Brotli's allocator: reuse a free cached block of the same size. */
static void *
bc_alloc(void *opaque, size_t n)
{
	struct bcache *c = opaque;
	unsigned i, slot = BC_MAX;
	void *p;

	for (i = 0; i < c->n; i++) {
		if (c->e[i].used)
			continue;
		if (c->e[i].n == n) {
			c->e[i].used = 1;
			c->e[i].gen = c->gen;
			return c->e[i].p;
		}
		slot = i;
	}
	if (c->n < BC_MAX)
		slot = c->n;
	if (!(p = malloc(n)) || slot == BC_MAX)
		return p;                 /* cache full: a plain block */
	if (slot == c->n)
		c->n++;
	else
		free(c->e[slot].p);       /* evict a free block of another size */
	c->e[slot].p = p;
	c->e[slot].n = n;
	c->e[slot].used = 1;
	c->e[slot].gen = c->gen;
	return p;
}

/* Before each chunk: free the blocks the previous chunk did not use, so the
 * cache holds one chunk's working set, not every size ever asked for. */
static void
bc_trim(struct bcache *c)
{
	unsigned i;

	c->gen++;
	for (i = c->n; i-- > 0;)
		if (!c->e[i].used && c->e[i].gen + 1 < c->gen) {
			free(c->e[i].p);
			c->e[i] = c->e[--c->n];
		}
}

static void
bc_free(void *opaque, void *p)
{
	struct bcache *c = opaque;
	unsigned i;

	for (i = 0; i < c->n; i++)
		if (c->e[i].p == p) {
			if (c->keep) {
				c->e[i].used = 0;
				return;
			}
			c->e[i] = c->e[--c->n];
			break;
		}
	free(p);
}

/* The checksum of a Brotli payload (cfg.bsum; format.md, "COMPRESS
 * params"): XXH64, seed 0, of the chunk's decompressed bytes, all 8 bytes
 * of it, little-endian, as the content of a metadata meta-block (RFC 7932
 * 9.2: decoders skip it, so brotli -d still reads the payload) just before
 * the stream's empty last meta-block.  All 64 bits, not zstd's 32: they
 * cost 4 bytes more per chunk (of 8 or 32 MiB), and a damaged chunk that
 * still decodes gets through with a chance of 2^-64, not 2^-32.
 *
 * The encoder is flushed (BROTLI_OPERATION_FLUSH: the stream padded to a
 * byte boundary with an empty metadata block) before the metadata block
 * is emitted; it only soft-flushes on its own, and the header of the
 * metadata block would then share its first byte with the data before.
 * So every checked payload ends with exactly these BROTLI_TAIL bytes
 * (measured with libbrotli 1.0.9, levels 0-11, 1 byte to 9 MB of random,
 * text and zero input, whatever came before; and checked for every
 * payload, brotli_sum_put):
 *   D6 01        ISLAST 0, MNIBBLES 0 (coded 3), reserved 0, MSKIPBYTES 1,
 *                MSKIPLEN - 1 = 7, 2 bits of padding: a metadata block of
 *                8 bytes
 *   8 bytes      the XXH64, little-endian
 *   03           ISLAST 1, ISLASTEMPTY 1, 6 bits of padding
 * Decompressing (the decoder has no way to hand on metadata), the last
 * BROTLI_TAIL bytes of the input are kept as it streams by and checked for
 * exactly that shape once the decoder has reached the end of the stream
 * at the end of the payload, and the XXH64 of its output against them. */
#define BROTLI_SUM_LEN 8u
#define BROTLI_TAIL (2u + BROTLI_SUM_LEN + 1u)
/* room in the bound for the flush's padding (at most 2 bytes) and the
 * tail: the last empty meta-block is in BrotliEncoderMaxCompressedSize's
 * already, counted again here to stay clear of its arithmetic */
#define BROTLI_SUM_ROOM 16u

_Static_assert(BROTLI_TAIL <= sizeof(((struct pfs_codec_ctx *)0)->btail),
               "btail holds the tail");

static const uint8_t brotli_sum_head[2] = { 0xd6, 0x01 };
#define BROTLI_LAST_EMPTY 0x03u

static int
brotli_init(struct pfs_codec_ctx *t, int decompress)
{
	t->decompress = decompress;
	if (t->cfg.bsum && !(t->bxh = XXH64_createState()))
		return -1;
	return 0;
}

static size_t
brotli_bound(const struct pfs_codec_cfg *cfg, size_t n)
{
	return BrotliEncoderMaxCompressedSize(n) +
	       (cfg->bsum ? BROTLI_SUM_ROOM : 0);
}

/* brotli_sfree - the instance of the chunk under way, if any, destroyed;
 * for a chunk given whole, the blocks it holds stay in the cache for the
 * next one.  A streamed chunk is one of few large ones (32 MiB), on the
 * only thread: there the cache saves no time, and blocks of the last chunk
 * kept beside those of the next cost 7-14 MB of peak memory. */
static void
brotli_sfree(struct pfs_codec_ctx *t)
{
	t->bc.keep = t->bwhole;
	if (t->be)
		BrotliEncoderDestroyInstance(t->be);
	if (t->bd)
		BrotliDecoderDestroyInstance(t->bd);
	t->bc.keep = 0;
	t->be = NULL;
	t->bd = NULL;
}

/* Brotli takes a chunk a piece at a time (pcompress streams Brotli chunks:
 * docs/performance.md) or whole; the bytes are the same either way, and
 * whatever the pieces: the encoder gets its input in blocks of BROTLI_FEED
 * bytes at fixed offsets from the chunk's start, and is flushed every
 * BROTLI_FLUSH_EVERY bytes.  The flushes bound the meta-block the encoder
 * holds, and so its memory (a 32 MiB chunk of a tar of /usr/include: 85 ->
 * 77 MB for 0.2 % in size).  The window is at most
 * BROTLI_LGWIN_MAX: 8 MiB holds as much as 16 MiB on real data (0.1 % on
 * a tar of /usr/share/doc) for half the encoder's and decoder's memory. */
#define BROTLI_FLUSH_EVERY ((uint64_t)4 << 20)
#define BROTLI_FEED ((uint64_t)256 << 10)      /* divides the above */
#define BROTLI_LGWIN_MAX 23u

/* brotli_feed - in[0..n) given to the encoder with op, the output after
 * j->out's first j->outlen bytes, never past j->cap */
static int
brotli_feed(struct pfs_codec_ctx *t, struct pfs_codec_job *j,
            BrotliEncoderOperation op, const uint8_t *in, size_t n)
{
	uint8_t *out;
	size_t aout;

	for (;;) {
		out = j->out->p + j->outlen;
		aout = j->cap - j->outlen;
		if (!BrotliEncoderCompressStream(t->be, op, &n, &in, &aout, &out,
		                                 NULL))
			return why(j, "brotli compression failed");
		j->outlen = j->cap - aout;
		if (!n && !BrotliEncoderHasMoreOutput(t->be) &&
		    (op != BROTLI_OPERATION_FINISH ||
		     BrotliEncoderIsFinished(t->be)))
			return 0;
		if (!aout)
			return why(j, "brotli compression failed: the output "
			           "passes its bound of %zu bytes", j->cap);
	}
}

static int
brotli_sbegin(struct pfs_codec_ctx *t, struct pfs_codec_job *j)
{
	const struct pfs_codec_cfg *x = &t->cfg;
	uint32_t lgwin = BROTLI_MIN_WINDOW_BITS;

	brotli_sfree(t);
	bc_trim(&t->bc);
	j->outlen = 0;
	t->bstage.len = 0;
	t->bpos = 0;
	t->bdone = 0;
	t->btrail = 0;
	t->btlen = 0;
	if (t->cfg.bsum)
		XXH64_reset(t->bxh, 0);
	if (t->decompress) {
		/* no declared size: decode into a buffer of the bound, no
		 * further (only the pages written are ever touched) */
		if (check_size(j, "brotli", j->hi) < 0)
			return -1;
		if (!(t->bd = BrotliDecoderCreateInstance(bc_alloc, bc_free,
		                                          &t->bc)))
			return why(j, "out of memory");
		return 0;
	}
	while (lgwin < BROTLI_LGWIN_MAX &&
	       ((size_t)1 << lgwin) - 16 < x->below)
		lgwin++;
	if (!(t->be = BrotliEncoderCreateInstance(bc_alloc, bc_free, &t->bc)))
		return why(j, "out of memory");
	if (!BrotliEncoderSetParameter(t->be, BROTLI_PARAM_QUALITY,
	                               (uint32_t)x->level) ||
	    !BrotliEncoderSetParameter(t->be, BROTLI_PARAM_LGWIN, lgwin) ||
	    !BrotliEncoderSetParameter(t->be, BROTLI_PARAM_SIZE_HINT,
	                               (uint32_t)j->n))
		return why(j, "brotli compression failed");
	return 0;
}

/* brotli_why - the decoder's error in words: libbrotli names its codes
 * like "_ERROR_FORMAT_PADDING_1"; the allocation failures among them are
 * no damage to the stream */
static int
brotli_why(struct pfs_codec_job *j, BrotliDecoderErrorCode code)
{
	const char *s = BrotliDecoderErrorString(code);
	char what[64];
	size_t i;
	int alloc = strncmp(s, "_ERROR_ALLOC_", 13) == 0;

	if (alloc)
		s += 13;
	else if (strncmp(s, "_ERROR_FORMAT_", 14) == 0)
		s += 14;
	else if (strncmp(s, "_ERROR_", 7) == 0)
		s += 7;
	for (i = 0; s[i] && i + 1 < sizeof(what); i++)
		what[i] = s[i] == '_' ? ' ' : (char)tolower((unsigned char)s[i]);
	what[i] = '\0';
	if (alloc)
		return why(j, "out of memory decoding brotli (%s)", what);
	return why(j, "brotli stream is corrupted (%s, code %d)", what,
	           (int)code);
}

/* brotli_keep_tail - the last BROTLI_TAIL bytes of the input so far, with
 * in[0..n) the newest */
static void
brotli_keep_tail(struct pfs_codec_ctx *t, const uint8_t *in, size_t n)
{
	size_t keep;

	if (n >= BROTLI_TAIL) {
		memcpy(t->btail, in + n - BROTLI_TAIL, BROTLI_TAIL);
		t->btlen = BROTLI_TAIL;
		return;
	}
	keep = t->btlen < BROTLI_TAIL - n ? t->btlen : BROTLI_TAIL - n;
	memmove(t->btail, t->btail + t->btlen - keep, keep);
	memcpy(t->btail + keep, in, n);
	t->btlen = keep + n;
}

static int
brotli_dpiece(struct pfs_codec_ctx *t, struct pfs_codec_job *j,
              const uint8_t *in, size_t n)
{
	BrotliDecoderResult r;
	uint8_t *out;
	size_t aout, was = j->outlen;

	if (t->cfg.bsum)
		brotli_keep_tail(t, in, n);
	if (t->bdone) {
		t->btrail += n;
		return 0;
	}
	out = j->out->p + j->outlen;
	aout = (size_t)j->hi - j->outlen;
	r = BrotliDecoderDecompressStream(t->bd, &n, &in, &aout, &out, NULL);
	j->outlen = (size_t)j->hi - aout;
	/* the output hashed while it is in cache */
	if (t->cfg.bsum)
		XXH64_update(t->bxh, j->out->p + was, j->outlen - was);
	switch (r) {
	case BROTLI_DECODER_RESULT_ERROR:
		return brotli_why(j, BrotliDecoderGetErrorCode(t->bd));
	case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
		return why(j, "brotli stream decodes to more than the bound of "
		           "%" PRIu64 " bytes", j->hi);
	case BROTLI_DECODER_RESULT_SUCCESS:
		t->bdone = 1;
		t->btrail += n;
		return 0;
	default:                   /* needs more input: all of it was taken */
		return 0;
	}
}

/* brotli_block - a block of input that ends at a multiple of BROTLI_FEED
 * from the chunk's start (or is the chunk's last) to the encoder, and the
 * flush when a multiple of BROTLI_FLUSH_EVERY is reached */
static int
brotli_block(struct pfs_codec_ctx *t, struct pfs_codec_job *j,
             const uint8_t *p, size_t n)
{
	if (brotli_feed(t, j, BROTLI_OPERATION_PROCESS, p, n) < 0)
		return -1;
	if (n && t->bpos % BROTLI_FLUSH_EVERY == 0 &&
	    brotli_feed(t, j, BROTLI_OPERATION_FLUSH, NULL, 0) < 0)
		return -1;
	return 0;
}

/* brotli_spiece - compressing: the encoder gets the input in blocks cut at
 * fixed offsets whatever the pieces the caller gives (at levels 0 and 1
 * its output depends on how the input is cut): a piece that spans a
 * whole block goes straight in, the rest through the staging buffer */
static int
brotli_spiece(struct pfs_codec_ctx *t, struct pfs_codec_job *j,
              const uint8_t *p, size_t n)
{
	struct pfs_buf *st = &t->bstage;
	size_t room, k;

	if (t->decompress)
		return brotli_dpiece(t, j, p, n);
	if (t->cfg.bsum)
		XXH64_update(t->bxh, p, n);
	while (n) {
		room = (size_t)(BROTLI_FEED - t->bpos % BROTLI_FEED);
		k = n < room ? n : room;
		t->bpos += k;
		if (!st->len && k == room) {
			if (brotli_block(t, j, p, k) < 0)
				return -1;
		} else {
			if (pfs_buf_reserve(st, BROTLI_FEED) < 0)
				return why(j, "out of memory");
			memcpy(st->p + st->len, p, k);
			st->len += k;
			if (k == room) {
				st->len = 0;
				if (brotli_block(t, j, st->p, BROTLI_FEED) < 0)
					return -1;
			}
		}
		p += k;
		n -= k;
	}
	return 0;
}

/* brotli_sum_put - the checksum block and the end of the stream, after
 * all the input: flush (byte-aligned), EMIT_METADATA, FINISH; then the
 * bytes written are checked to be exactly the tail the decoder requires,
 * so that a libbrotli that lays them out otherwise fails here, loudly,
 * rather than write streams pcompress -d refuses */
static int
brotli_sum_put(struct pfs_codec_ctx *t, struct pfs_codec_job *j)
{
	uint8_t sum[BROTLI_SUM_LEN];
	const uint8_t *e;
	size_t at;

	pfs_put64(sum, XXH64_digest(t->bxh));
	if (brotli_feed(t, j, BROTLI_OPERATION_FLUSH, NULL, 0) < 0)
		return -1;
	at = j->outlen;
	if (brotli_feed(t, j, BROTLI_OPERATION_EMIT_METADATA, sum,
	                sizeof(sum)) < 0 ||
	    brotli_feed(t, j, BROTLI_OPERATION_FINISH, NULL, 0) < 0)
		return -1;
	e = j->out->p + at;
	if (j->outlen - at != BROTLI_TAIL ||
	    memcmp(e, brotli_sum_head, sizeof(brotli_sum_head)) != 0 ||
	    memcmp(e + 2, sum, sizeof(sum)) != 0 ||
	    e[BROTLI_TAIL - 1] != BROTLI_LAST_EMPTY)
		return why(j, "brotli compression failed: libbrotli wrote the "
		           "checksum block as %zu bytes, not the %u of the "
		           "format", j->outlen - at, BROTLI_TAIL);
	return 0;
}

/* brotli_sum_check - decompressing, at the end of a stream that decoded
 * without trailing bytes: the payload ends with the checksum block, which
 * holds the XXH64 of the output */
static int
brotli_sum_check(struct pfs_codec_ctx *t, struct pfs_codec_job *j)
{
	const uint8_t *e = t->btail;
	uint64_t want, got;

	if (t->btlen != BROTLI_TAIL ||
	    memcmp(e, brotli_sum_head, sizeof(brotli_sum_head)) != 0 ||
	    e[BROTLI_TAIL - 1] != BROTLI_LAST_EMPTY)
		return why(j, "brotli stream does not end with its checksum "
		           "block");
	want = pfs_get64(e + 2);
	got = XXH64_digest(t->bxh);
	if (got != want)
		return why(j, "brotli stream is corrupted: the checksum does "
		           "not match (XXH64 %016" PRIx64 ", the stream says "
		           "%016" PRIx64 ")", got, want);
	return 0;
}

static int
brotli_send(struct pfs_codec_ctx *t, struct pfs_codec_job *j)
{
	int rc = 0;

	if (!t->decompress) {
		/* the chunk's last block, short of BROTLI_FEED */
		if (t->bstage.len)
			rc = brotli_feed(t, j, BROTLI_OPERATION_PROCESS,
			                 t->bstage.p, t->bstage.len);
		t->bstage.len = 0;
		if (rc == 0)
			rc = t->cfg.bsum ? brotli_sum_put(t, j) :
			     brotli_feed(t, j, BROTLI_OPERATION_FINISH, NULL, 0);
	} else if (!t->bdone)
		rc = why(j, "brotli stream ends before its last block "
		         "(damaged or cut short)");
	else if (t->btrail)
		rc = why(j, "%" PRIu64 " trailing bytes after the brotli stream",
		         t->btrail);
	else if (j->outlen < j->lo)
		rc = why(j, "brotli stream decodes to %zu bytes but the chunk "
		         "has %" PRIu64, j->outlen, j->lo);
	else if (t->cfg.bsum)
		rc = brotli_sum_check(t, j);
	brotli_sfree(t);
	return rc;
}

/* brotli_whole - the chunk j->src[0..n) in one piece */
static int
brotli_whole(struct pfs_codec_ctx *t, struct pfs_codec_job *j)
{
	int rc;

	t->bwhole = 1;
	if (brotli_sbegin(t, j) < 0 || brotli_spiece(t, j, j->src, j->n) < 0) {
		brotli_sfree(t);       /* brotli_send does it otherwise */
		rc = -1;
	} else {
		rc = brotli_send(t, j);
	}
	t->bwhole = 0;
	return rc;
}

/* In the order of the options; the first is the default.  Defined with []
 * so that a count other than PFS_NCODECS conflicts with codec.h. */
const struct pfs_codec pfs_codecs[] = {
	{ PFS_C_ZSTD, "zstd", "--zstd", "zstd", "", -100, 19, 22, 3, 1,
	  zstd_init, zstd_bound, zstd_compress, zstd_decompress,
	  NULL, NULL, NULL },
	{ PFS_C_LZ4, "lz4", "--lz4", "LZ4", " (1-2 fast LZ4, 3-12 LZ4-HC)",
	  1, 12, 12, 1, 1, lz4_init, lz4_bound, lz4_compress, lz4_decompress,
	  NULL, NULL, NULL },
	{ PFS_C_BROTLI, "brotli", "--brotli", "Brotli", "", 0, 11, 11, 5, 0,
	  brotli_init, brotli_bound, brotli_whole, brotli_whole,
	  brotli_sbegin, brotli_spiece, brotli_send },
};

const struct pfs_codec *
pfs_codec_by_id(unsigned id)
{
	unsigned i;

	for (i = 0; i < PFS_NCODECS; i++)
		if (pfs_codecs[i].id == id)
			return &pfs_codecs[i];
	return NULL;
}

const struct pfs_codec *
pfs_codec_by_name(const char *name)
{
	unsigned i;

	for (i = 0; i < PFS_NCODECS; i++)
		if (strcmp(pfs_codecs[i].name, name) == 0)
			return &pfs_codecs[i];
	return NULL;
}

void
pfs_codec_join(int titles, const char *sep, const char *last, char *out,
               size_t n)
{
	size_t len = 0;
	unsigned i;

	out[0] = '\0';
	for (i = 0; i < PFS_NCODECS && len < n; i++) {
		int k = snprintf(out + len, n - len, "%s%s",
		                 i == 0 ? "" : i + 1 < PFS_NCODECS ? sep : last,
		                 titles ? pfs_codecs[i].title : pfs_codecs[i].flag);
		len += k > 0 ? (size_t)k : 0;
	}
}

int
pfs_codec_level_ok(const struct pfs_codec *c, long level, int ultra)
{
	return level >= c->lmin && level <= (ultra ? c->lultra : c->lmax) &&
	       !(c->lmin < 0 && level == 0);
}

void
pfs_codec_levels(const struct pfs_codec *c, char *out, size_t n)
{
	char ultra[64] = "", fast[64] = "";

	if (c->lultra > c->lmax)
		snprintf(ultra, sizeof(ultra), ", %d-%d with --ultra",
		         c->lmax + 1, c->lultra);
	if (c->lmin < 0)
		snprintf(fast, sizeof(fast), ", %d to -1 fast", c->lmin);
	snprintf(out, n, "%d-%d%s%s", c->lmin < 0 ? 1 : c->lmin, c->lmax,
	         ultra, fast);
}

int
pfs_codec_describe(unsigned id, int level, char *out, size_t n)
{
	const struct pfs_codec *c = pfs_codec_by_id(id);

	if (!c)
		return -1;
	/* as the user types it to zstd or pcompress: options they take */
	if (level < 0)
		snprintf(out, n, "%s --fast=%d", c->name, -level);
	else if (level > c->lmax)
		snprintf(out, n, "%s --ultra -%d", c->name, level);
	else
		snprintf(out, n, "%s -%d", c->name, level);
	return 0;
}

size_t
pfs_codec_bound(const struct pfs_codec *c, const struct pfs_codec_cfg *cfg,
                size_t n)
{
	return c->bound(cfg, n);
}

struct pfs_codec_ctx *
pfs_codec_ctx_new(const struct pfs_codec *c, const struct pfs_codec_cfg *cfg,
                  int decompress, struct pfs_err *e)
{
	struct pfs_codec_ctx *t = calloc(1, sizeof(*t));

	if (t) {
		t->codec = c;
		t->cfg = *cfg;
	}
	if (!t || c->init(t, decompress) < 0) {
		pfs_codec_ctx_free(t);
		pfs_seterr(e, "cannot create a %s context: out of memory",
		           c->name);
		return NULL;
	}
	return t;
}

void
pfs_codec_ctx_free(struct pfs_codec_ctx *t)
{
	unsigned i;

	if (!t)
		return;
	brotli_sfree(t);
	pfs_buf_free(&t->bstage);
	if (t->bxh)
		XXH64_freeState(t->bxh);
	ZSTD_freeCCtx(t->zc);
	ZSTD_freeDCtx(t->zd);
	if (t->lc)
		LZ4F_freeCompressionContext(t->lc);
	if (t->ld)
		LZ4F_freeDecompressionContext(t->ld);
	for (i = 0; i < t->bc.n; i++)
		free(t->bc.e[i].p);
	free(t);
}

int
pfs_codec_compress(struct pfs_codec_ctx *t, struct pfs_codec_job *j)
{
	return t->codec->compress(t, j);
}

int
pfs_codec_decompress(struct pfs_codec_ctx *t, struct pfs_codec_job *j)
{
	return t->codec->decompress(t, j);
}

int
pfs_codec_streams(const struct pfs_codec *c)
{
	return c->sbegin != NULL;
}

int
pfs_codec_stream_begin(struct pfs_codec_ctx *t, struct pfs_codec_job *j)
{
	return t->codec->sbegin(t, j);
}

int
pfs_codec_stream_piece(struct pfs_codec_ctx *t, struct pfs_codec_job *j,
                       const uint8_t *p, size_t n)
{
	return t->codec->spiece(t, j, p, n);
}

int
pfs_codec_stream_end(struct pfs_codec_ctx *t, struct pfs_codec_job *j)
{
	return t->codec->send(t, j);
}

size_t
pfs_codec_params(const struct pfs_codec *c, const struct pfs_codec_cfg *cfg,
                 uint8_t *out)
{
	out[0] = (uint8_t)c->id;
	out[1] = (uint8_t)(int8_t)cfg->level;
	if (c->id != PFS_C_BROTLI || !cfg->bsum)
		return 2;
	out[2] = PFS_BROTLI_F_SUM;
	return 3;
}

int
pfs_codec_params_read(const uint8_t *p, size_t len,
                      const struct pfs_codec **cp, struct pfs_codec_cfg *cfg,
                      char *why, size_t n)
{
	const struct pfs_codec *c = len ? pfs_codec_by_id(p[0]) : NULL;

	if (!c) {
		snprintf(why, n, "unknown compression record (algorithm id %u)",
		         len ? p[0] : 0u);
		return -1;
	}
	if (len != 2 && !(len == 3 && c->id == PFS_C_BROTLI)) {
		snprintf(why, n, "invalid %s compression record (%zu bytes of "
		         "params, not %s)", c->name, len,
		         c->id == PFS_C_BROTLI ? "2 or 3" : "2");
		return -1;
	}
	if (len == 3 && p[2] != PFS_BROTLI_F_SUM) {
		snprintf(why, n, "invalid %s compression record (flags 0x%02x, "
		         "not 0x%02x)", c->name, p[2], PFS_BROTLI_F_SUM);
		return -1;
	}
	*cp = c;
	cfg->level = (int8_t)p[1];
	cfg->bsum = len == 3;
	return 0;
}

void
pfs_codec_longopts(struct option *lo, int val0)
{
	unsigned i;

	for (i = 0; i < PFS_NCODECS; i++) {
		lo[i].name = pfs_codecs[i].flag + 2;
		lo[i].has_arg = no_argument;
		lo[i].flag = NULL;
		lo[i].val = val0 + (int)i;
	}
}
