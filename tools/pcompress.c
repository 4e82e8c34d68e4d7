/*
 * pcompress - compress (or, with -d, decompress) the DATA payloads of a
 * frame stream with zstd, LZ4 or Brotli, in parallel over chunks.
 *
 * Every DATA payload becomes one complete standard frame (a zstd frame with
 * content size and checksum, an LZ4 frame with content size and content
 * checksum, a Brotli stream), so the payloads concatenated by
 * 'pjoin --payload' are a file the stock tools decode.  Compression pushes a
 * COMPRESS record (params: algorithm id, level as int8) whose cap is the
 * codec's worst-case bound of the cap below; -d checks and pops it.
 *
 * Decompression never allocates or writes past a bound fixed before it
 * starts: the cap of the record below (hdr.raw exactly when only HASH
 * records remain), checked against the size the frame declares.
 *
 * Contexts are per worker thread and reused (ZSTD_CCtx/DCtx, LZ4F
 * contexts).  Brotli 1.0.9 has no reset call, so an encoder or decoder
 * instance is made per chunk, with custom alloc functions over a per-thread
 * block cache (bc_alloc): the blocks an instance still holds when it is
 * destroyed (hash tables, ring buffer: several MiB) are kept and handed to
 * the next instance that asks for the same size; blocks freed while it
 * works are really freed, or the cache would grow to every size it ever
 * saw.  16 chunks of 4 MiB cost 72 mmap calls, one chunk 67.  The one-shot
 * BrotliEncoderCompress/BrotliDecoderDecompress would malloc and fault in
 * those tables again for every chunk, and could not take a size hint.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <lz4frame.h>
#include <zstd.h>

#include "engine.h"
#include "err.h"
#include "io.h"
#include "stages.h"
#include "stats.h"
#include "util.h"

#define BC_MAX 64u

struct bcache {                     /* Brotli's per-thread block cache */
	struct { void *p; size_t n; int used; unsigned gen; } e[BC_MAX];
	unsigned n, gen;
	int keep;                   /* 1 while the instance is destroyed */
};

struct tstate {
	ZSTD_CCtx *zc;
	ZSTD_DCtx *zd;
	LZ4F_cctx *lc;
	LZ4F_dctx *ld;
	struct bcache bc;
};

/* One payload to (de)compress; why receives the reason of a failure. */
struct job {
	const uint8_t *src;
	size_t n;
	uint64_t lo, hi;            /* decompressed length must be in [lo, hi] */
	size_t cap;                 /* compressed length at most: bound(n) */
	struct pfs_buf *out;
	size_t outlen;
	char why[256];
};

struct ctx;

struct codec {
	unsigned id;
	const char *name;
	int lmin, lmax, lultra, ldef;
	int (*init)(struct tstate *, const struct ctx *);
	size_t (*bound)(const struct ctx *, size_t);
	int (*comp)(struct tstate *, const struct ctx *, struct job *);
	int (*dec)(struct tstate *, struct job *);
};

struct opts {
	const struct codec *codec;  /* NULL: not named on the command line */
	int level, level_set, ultra, decompress, force;
	const char *input;
	struct pfs_common c;
};

struct ctx {
	const struct opts *o;
	const char *name;           /* input name for messages */
	const struct codec *codec;
	int level;
	uint32_t below;             /* cap of the record below ours */
	int exact;                  /* -d: only HASH records below */
};

static int why(struct job *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
why(struct job *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->why, sizeof(j->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* The declared size must fit the bound before anything is allocated. */
static int
check_size(struct job *j, const char *codec, uint64_t n)
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

/* zstd: params set once per context; ZSTD_compress2 keeps them. */
static int
zstd_init(struct tstate *t, const struct ctx *x)
{
	if (x->o->decompress)
		return (t->zd = ZSTD_createDCtx()) ? 0 : -1;
	if (!(t->zc = ZSTD_createCCtx()))
		return -1;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(t->zc, ZSTD_c_compressionLevel,
	                                        x->level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(t->zc, ZSTD_c_checksumFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(t->zc, ZSTD_c_contentSizeFlag, 1)))
		return -1;
	return 0;
}

static size_t
zstd_bound(const struct ctx *x, size_t n)
{
	(void)x;
	return ZSTD_compressBound(n);
}

static int
zstd_comp(struct tstate *t, const struct ctx *x, struct job *j)
{
	size_t r = ZSTD_compress2(t->zc, j->out->p, j->cap, j->src, j->n);

	(void)x;
	if (ZSTD_isError(r))
		return why(j, "zstd compression failed: %s", ZSTD_getErrorName(r));
	j->outlen = r;
	return 0;
}

static int
zstd_dec(struct tstate *t, struct job *j)
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
	if (check_size(j, "zstd", cs) < 0)
		return -1;
	r = ZSTD_decompressDCtx(t->zd, j->out->p, cs, j->src, j->n);
	if (ZSTD_isError(r))
		return why(j, "zstd frame is corrupted: %s", ZSTD_getErrorName(r));
	j->outlen = r;
	return 0;
}

/* LZ4: the largest block size that is not above the chunk size, so that a
 * full chunk decodes straight into the output buffer. */
static void
lz4_prefs(const struct ctx *x, size_t n, LZ4F_preferences_t *p)
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
lz4_init(struct tstate *t, const struct ctx *x)
{
	if (x->o->decompress)
		return LZ4F_isError(LZ4F_createDecompressionContext(&t->ld,
		                    LZ4F_VERSION)) ? -1 : 0;
	return LZ4F_isError(LZ4F_createCompressionContext(&t->lc,
	                    LZ4F_VERSION)) ? -1 : 0;
}

static size_t
lz4_bound(const struct ctx *x, size_t n)
{
	LZ4F_preferences_t p;

	lz4_prefs(x, n, &p);
	return LZ4F_compressFrameBound(n, &p);
}

static int
lz4_comp(struct tstate *t, const struct ctx *x, struct job *j)
{
	LZ4F_preferences_t p;
	uint8_t *d = j->out->p;
	size_t cap = j->cap, pos, r;

	lz4_prefs(x, j->n, &p);
	r = LZ4F_compressBegin(t->lc, d, cap, &p);
	if (LZ4F_isError(r))
		goto fail;
	pos = r;
	r = LZ4F_compressUpdate(t->lc, d + pos, cap - pos, j->src, j->n, NULL);
	if (LZ4F_isError(r))
		goto fail;
	pos += r;
	r = LZ4F_compressEnd(t->lc, d + pos, cap - pos, NULL);
	if (LZ4F_isError(r))
		goto fail;
	j->outlen = pos + r;
	return 0;
fail:
	return why(j, "lz4 compression failed: %s", LZ4F_getErrorName(r));
}

static int
lz4_dec(struct tstate *t, struct job *j)
{
	LZ4F_frameInfo_t fi;
	const uint8_t *src = j->src;
	size_t left = j->n, din, dout, r, done = 0;

	LZ4F_resetDecompressionContext(t->ld);
	din = left;
	r = LZ4F_getFrameInfo(t->ld, &fi, src, &din);
	if (LZ4F_isError(r))
		return why(j, "not an lz4 frame: %s", LZ4F_getErrorName(r));
	if (!fi.contentSize)
		return why(j, "lz4 frame does not declare its size");
	if (check_size(j, "lz4", fi.contentSize) < 0)
		return -1;
	src += din;
	left -= din;
	do {
		din = left;
		dout = fi.contentSize - done;
		r = LZ4F_decompress(t->ld, j->out->p + done, &dout, src, &din,
		                    NULL);
		if (LZ4F_isError(r))
			return why(j, "lz4 frame is corrupted: %s",
			           LZ4F_getErrorName(r));
		src += din;
		left -= din;
		done += dout;
		if (r && !din && !dout)
			return why(j, left ? "lz4 frame decodes to more than its "
			           "declared size" : "lz4 frame is truncated");
	} while (r);
	if (left)
		return why(j, "%zu trailing bytes after the lz4 frame", left);
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

static int
brotli_init(struct tstate *t, const struct ctx *x)
{
	(void)t;
	(void)x;
	return 0;
}

static size_t
brotli_bound(const struct ctx *x, size_t n)
{
	(void)x;
	return BrotliEncoderMaxCompressedSize(n);
}

static int
brotli_comp(struct tstate *t, const struct ctx *x, struct job *j)
{
	BrotliEncoderState *st;
	const uint8_t *in = j->src;
	uint8_t *out = j->out->p;
	size_t ain = j->n, aout = j->cap;
	uint32_t lgwin = BROTLI_MIN_WINDOW_BITS;
	int ok;

	while (lgwin < BROTLI_MAX_WINDOW_BITS &&
	       ((size_t)1 << lgwin) - 16 < x->below)
		lgwin++;
	bc_trim(&t->bc);
	if (!(st = BrotliEncoderCreateInstance(bc_alloc, bc_free, &t->bc)))
		return why(j, "out of memory");
	ok = BrotliEncoderSetParameter(st, BROTLI_PARAM_QUALITY,
	                               (uint32_t)x->level) &&
	     BrotliEncoderSetParameter(st, BROTLI_PARAM_LGWIN, lgwin) &&
	     BrotliEncoderSetParameter(st, BROTLI_PARAM_SIZE_HINT,
	                               (uint32_t)j->n) &&
	     BrotliEncoderCompressStream(st, BROTLI_OPERATION_FINISH, &ain, &in,
	                                 &aout, &out, NULL) &&
	     BrotliEncoderIsFinished(st);
	t->bc.keep = 1;
	BrotliEncoderDestroyInstance(st);
	t->bc.keep = 0;
	j->outlen = j->cap - aout;
	if (ok)
		return 0;
	/* past the bound (incompressible input): the one-shot call falls
	 * back to a stored stream that always fits */
	j->outlen = j->cap;
	if (BrotliEncoderCompress(x->level, (int)lgwin, BROTLI_MODE_GENERIC,
	                          j->n, j->src, &j->outlen, j->out->p))
		return 0;
	return why(j, "brotli compression failed");
}

static int
brotli_dec(struct tstate *t, struct job *j)
{
	BrotliDecoderState *st;
	BrotliDecoderResult r;
	const uint8_t *in = j->src;
	uint8_t *out;
	size_t ain = j->n, aout;

	/* no declared size: decode into a buffer of the bound, no further */
	if (check_size(j, "brotli", j->hi) < 0)
		return -1;
	out = j->out->p;
	aout = j->hi;
	bc_trim(&t->bc);
	if (!(st = BrotliDecoderCreateInstance(bc_alloc, bc_free, &t->bc)))
		return why(j, "out of memory");
	r = BrotliDecoderDecompressStream(st, &ain, &in, &aout, &out, NULL);
	if (r == BROTLI_DECODER_RESULT_ERROR)
		why(j, "brotli stream is corrupted: %s", BrotliDecoderErrorString(
		    BrotliDecoderGetErrorCode(st)));
	else if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT)
		why(j, "brotli stream decodes to more than the bound of %" PRIu64
		    " bytes", j->hi);
	else if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT)
		why(j, "brotli stream is truncated");
	else if (ain)
		why(j, "%zu trailing bytes after the brotli stream", ain);
	t->bc.keep = 1;
	BrotliDecoderDestroyInstance(st);
	t->bc.keep = 0;
	j->outlen = j->hi - aout;
	if (r != BROTLI_DECODER_RESULT_SUCCESS || ain)
		return -1;
	if (j->outlen < j->lo)
		return why(j, "brotli stream decodes to %zu bytes but the chunk "
		           "has %" PRIu64, j->outlen, j->lo);
	return 0;
}

/* In the order of the --zstd, --lz4, --brotli option codes (parse()). */
static const struct codec codecs[] = {
	{ PFS_C_ZSTD, "zstd", -100, 19, 22, 3,
	  zstd_init, zstd_bound, zstd_comp, zstd_dec },
	{ PFS_C_LZ4, "lz4", 1, 12, 12, 1,
	  lz4_init, lz4_bound, lz4_comp, lz4_dec },
	{ PFS_C_BROTLI, "brotli", 0, 11, 11, 5,
	  brotli_init, brotli_bound, brotli_comp, brotli_dec },
};

static const struct codec *
codec_by_id(unsigned id)
{
	size_t i;

	for (i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
		if (codecs[i].id == id)
			return &codecs[i];
	return NULL;
}

static void *
thread_new(void *vctx, struct pfs_err *e)
{
	const struct ctx *x = vctx;
	struct tstate *t = calloc(1, sizeof(*t));

	if (!t || x->codec->init(t, x) < 0) {
		free(t);
		pfs_seterr(e, "cannot create a %s context: out of memory",
		           x->codec->name);
		return NULL;
	}
	return t;
}

static void
thread_free(void *vctx, void *vt)
{
	struct tstate *t = vt;
	unsigned i;

	(void)vctx;
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

static int
transform(void *vctx, void *vt, struct pfs_slot *s, struct pfs_err *e)
{
	const struct ctx *x = vctx;
	struct job j;
	int rc;

	j.src = s->in.p;
	j.n = s->hdr.len;
	j.out = &s->out;
	j.outlen = 0;
	j.lo = x->exact ? s->hdr.raw : 0;
	j.hi = x->exact ? s->hdr.raw : x->below;
	j.cap = x->o->decompress ? 0 : x->codec->bound(x, j.n);
	if (x->o->decompress)
		rc = x->codec->dec(vt, &j);
	else if (pfs_buf_reserve(&s->out, j.cap) < 0)
		rc = why(&j, "out of memory");
	else
		rc = x->codec->comp(vt, x, &j);
	if (rc < 0)
		return pfs_seterr(e, "%s: chunk %" PRIu64 ": %s", x->name,
		                  s->hdr.seq, j.why);
	s->ohdr.len = (uint32_t)j.outlen;
	s->opay = s->out.p;
	return 0;
}

static int
on_head(void *vctx, struct pfs_head *h, struct pfs_err *e)
{
	struct ctx *x = vctx;
	const struct pfs_stage *top = pfs_head_top(h);
	uint8_t params[2];
	char msg[256];

	if (!x->o->decompress) {
		x->below = pfs_head_cap(h);
		params[0] = (uint8_t)x->codec->id;
		params[1] = (uint8_t)(int8_t)x->level;
		if (pfs_head_push(h, PFS_STAGE_COMPRESS, params, 2,
		                  (uint32_t)x->codec->bound(x, x->below), e) < 0)
			goto fail;
		return 0;
	}
	if (!top) {
		pfs_seterr(e, "stream is not compressed: nothing to undo");
		goto fail;
	}
	if (top->kind != PFS_STAGE_COMPRESS) {
		pfs_stage_still(top, msg, sizeof(msg));
		pfs_seterr(e, "%s", msg);
		goto fail;
	}
	x->codec = codec_by_id(top->params[0]);
	if (!x->codec || top->len != 2) {
		pfs_seterr(e, "unknown compression record (algorithm id %u)",
		           top->params[0]);
		goto fail;
	}
	if (x->o->codec && x->o->codec != x->codec) {
		pfs_seterr(e, "stream is compressed with %s, not %s",
		           x->codec->name, x->o->codec->name);
		goto fail;
	}
	x->level = (int8_t)top->params[1];
	pfs_head_pop(h);
	x->below = pfs_head_cap(h);
	x->exact = pfs_head_only_hashes(h);
	return 0;
fail:
	pfs_prefix(e, x->name);
	return -1;
}

static _Noreturn void
usage(void)
{
	printf("Usage: %s [OPTION]... [FILE|-]\n"
	       "Compress the chunks of a frame stream (FILE or standard input),\n"
	       "each into one standard zstd, LZ4 or Brotli frame, in parallel.\n"
	       "\n"
	       "      --zstd         zstd (the default), levels 1-19 and -100 to -1\n"
	       "      --lz4          LZ4, levels 1-12 (1-2 fast LZ4, 3-12 LZ4-HC)\n"
	       "      --brotli       Brotli, levels 0-11\n"
	       "  -l, --level N      compression level (default: zstd 3, lz4 1,\n"
	       "                     brotli 5)\n"
	       "      --ultra        allow zstd levels 20-22 (much more memory)\n"
	       "  -d, --decompress   undo the top COMPRESS record of the stream; with\n"
	       "                     --zstd etc., also check that it is that algorithm\n"
	       "  -f, --force        write the stream even to a terminal\n"
	       "  -T, --threads N    worker threads (default: number of CPUs)\n"
	       "  -q, --quiet        no warnings\n"
	       "      --stats[=json] print statistics to stderr at exit (also PFS_STATS=1)\n"
	       "  -h, --help         show this help\n"
	       "  -V, --version      show the version\n"
	       "\n"
	       "Exit status: 0 success, 1 error, 2 bad usage.\n"
	       "Example: pchunk big.bin | pcompress --zstd -l 3 | pjoin --payload > big.zst\n",
	       pfs_prog);
	exit(fflush(stdout) == 0 ? 0 : 1);
}

static void
parse(int argc, char **argv, struct opts *o)
{
	enum { OPT_ZSTD = PFS_OPT_TOOL_BASE, OPT_LZ4, OPT_BROTLI, OPT_ULTRA };
	static const struct option longopts[] = {
		{ "zstd", no_argument, NULL, OPT_ZSTD },
		{ "lz4", no_argument, NULL, OPT_LZ4 },
		{ "brotli", no_argument, NULL, OPT_BROTLI },
		{ "level", required_argument, NULL, 'l' },
		{ "ultra", no_argument, NULL, OPT_ULTRA },
		{ "decompress", no_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		{ "threads", required_argument, NULL, 'T' },
		PFS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const struct codec *c;
	struct pfs_err e;
	long v;
	int ch;

	memset(o, 0, sizeof(*o));
	pfs_common_init(&o->c);
	while ((ch = getopt_long(argc, argv, "l:dfT:qhV", longopts,
	                         NULL)) != -1) {
		if (pfs_common_opt(&o->c, ch, optarg))
			continue;
		switch (ch) {
		case OPT_ZSTD:
		case OPT_LZ4:
		case OPT_BROTLI:
			c = &codecs[ch - OPT_ZSTD];
			if (o->codec && o->codec != c)
				pfs_usage_error("--%s and --%s: choose one "
				                "algorithm", o->codec->name, c->name);
			o->codec = c;
			break;
		case 'l':
			if (pfs_parse_int(optarg, -128, 127, &v, &e) < 0)
				pfs_usage_error("-l: %s", e.msg);
			o->level = (int)v;
			o->level_set = 1;
			break;
		case OPT_ULTRA:
			o->ultra = 1;
			break;
		case 'd':
			o->decompress = 1;
			break;
		case 'f':
			o->force = 1;
			break;
		case 'h':
			usage();
		default:
			pfs_usage_try();
		}
	}
	o->input = pfs_one_input(argc, argv, optind);
	if (!o->c.threads)
		o->c.threads = pfs_default_threads();
	if (o->decompress && (o->level_set || o->ultra))
		pfs_usage_error("-d reads the level from the stream: drop %s",
		                o->level_set ? "-l" : "--ultra");
	if (o->decompress)
		return;
	c = o->codec ? o->codec : &codecs[0];
	if (o->ultra && c->id != PFS_C_ZSTD)
		pfs_usage_error("--ultra is for zstd levels 20-22");
	if (!o->level_set)
		o->level = c->ldef;
	else if (o->level < c->lmin || o->level > (o->ultra ? c->lultra :
	         c->lmax) || (c->id == PFS_C_ZSTD && o->level == 0)) {
		if (c->id == PFS_C_ZSTD)
			pfs_usage_error("zstd level %d is out of range (1-19, "
			                "20-22 with --ultra, -100 to -1 fast)",
			                o->level);
		pfs_usage_error("%s level %d is out of range (%d-%d)", c->name,
		                o->level, c->lmin, c->lmax);
	}
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct ctx x;
	struct pfs_err e;
	struct pfs_stats st;
	struct pfs_engine_cfg cfg;
	struct pfs_stage_ops ops;
	int rc;

	pfs_setprog(argv[0]);
	parse(argc, argv, &o);
	pfs_stats_start(&st);
	memset(&x, 0, sizeof(x));
	x.o = &o;
	x.codec = o.codec ? o.codec : &codecs[0];
	x.level = o.level;
	if (pfs_engine_cfg_open(&cfg, o.input, o.c.threads, &e) < 0 ||
	    pfs_refuse_tty(1, o.force, &e) < 0)
		pfs_die(PFS_EXIT_ERR, "%s", e.msg);
	x.name = cfg.in_name;
	memset(&ops, 0, sizeof(ops));
	ops.types = 1u << PFS_DATA;
	ops.head = on_head;
	ops.thread_new = thread_new;
	ops.thread_free = thread_free;
	ops.transform = transform;
	rc = pfs_engine_run(&cfg, &ops, &x, NULL, &st, &e);
	pfs_stats_print(&st, o.c.stats);
	if (rc < 0)
		pfs_die(PFS_EXIT_ERR, "%s", e.msg);
	if (cfg.in_fd != 0)
		close(cfg.in_fd);
	return PFS_EXIT_OK;
}
