/*
 * pcompress - compress (or, with -d, decompress) the DATA payloads of a
 * frame stream with zstd, LZ4 or Brotli, in parallel over chunks.
 *
 * Every DATA payload becomes one complete standard frame (codec.h), so the
 * payloads concatenated by 'pjoin --payload' are a file the stock tools
 * decode (zstd, LZ4; Brotli streams do not concatenate: one chunk only,
 * pjoin refuses more).  Compression pushes a COMPRESS record (params:
 * algorithm id, level as int8; for Brotli a third byte, flags: bit 0,
 * every payload ends with its checksum, codec.c) whose cap is the codec's
 * worst-case bound of the cap below; -d checks and pops it (a Brotli
 * record of 2 bytes, from before the checksum, is read too: its payloads
 * are decoded unchecked).  Decompression never allocates or writes past
 * the cap of the record below (hdr.raw exactly when only HASH records
 * remain).  Brotli streams (see streams() below): one chunk at a time, a
 * piece at a time, on one thread, unless -T asks for more.  The codecs,
 * their levels and their per-thread contexts are in common/codec.c; this
 * file is the options and the engine callbacks.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "codec.h"
#include "engine.h"
#include "err.h"
#include "io.h"
#include "stages.h"
#include "stats.h"
#include "util.h"

struct opts {
	const struct pfs_codec *codec;  /* NULL: not named on the command line */
	int level, level_set, fast, ultra, decompress, force;
	const char *input;
	struct pfs_common c;
};

struct ctx {
	const struct opts *o;
	const char *name;           /* input name for messages */
	const struct pfs_codec *codec;
	struct pfs_codec_cfg cfg;   /* level; below: cap of the record below */
	int exact;                  /* -d: only HASH records below */
	/* streaming (a codec that takes a chunk a piece at a time) */
	struct pfs_codec_ctx *sc;
	struct pfs_codec_job sj;
	uint64_t seq;               /* the chunk under way */
};

static void *
thread_new(void *vctx, struct pfs_err *e)
{
	const struct ctx *x = vctx;

	return pfs_codec_ctx_new(x->codec, &x->cfg, x->o->decompress, e);
}

static void
thread_free(void *vctx, void *vt)
{
	(void)vctx;
	pfs_codec_ctx_free(vt);
}

/* job - the codec job of the chunk in slot s, its output in s->out (which
 * compressing is reserved to the codec's bound): the same for a worker and
 * for a streamed chunk.  -1 with e set when out of memory. */
static int
job(const struct ctx *x, struct pfs_slot *s, struct pfs_codec_job *j,
    struct pfs_err *e)
{
	memset(j, 0, sizeof(*j));
	j->src = s->in.p;
	j->n = s->hdr.len;
	j->out = &s->out;
	if (x->o->decompress) {
		j->lo = x->exact ? s->hdr.raw : 0;
		j->hi = x->exact ? s->hdr.raw : x->cfg.below;
		return 0;
	}
	j->cap = pfs_codec_bound(x->codec, &x->cfg, j->n);
	if (pfs_buf_reserve(&s->out, j->cap) < 0)
		return pfs_seterr(e, "%s: chunk %" PRIu64 ": out of memory",
		                  x->name, s->hdr.seq);
	return 0;
}

static int
transform(void *vctx, void *vt, struct pfs_slot *s, struct pfs_err *e)
{
	const struct ctx *x = vctx;
	struct pfs_codec_job j;

	if (job(x, s, &j, e) < 0)
		return -1;
	if ((x->o->decompress ? pfs_codec_decompress(vt, &j) :
	                        pfs_codec_compress(vt, &j)) < 0)
		return pfs_seterr(e, "%s: chunk %" PRIu64 ": %s", x->name,
		                  s->hdr.seq, j.why);
	s->ohdr.len = (uint32_t)j.outlen;
	s->opay = j.in_place ? s->in.p : s->out.p;
	return 0;
}

/* Brotli streams (engine.h, stream_collect) unless -T asks for more than
 * one thread: one chunk at a time, its input a piece at a time, so memory
 * holds one chunk's output and the codec's window, not T + 1 chunks in and
 * out.  That is what lets Brotli have the 32 MiB chunks its ratio needs
 * (pipeline chooses them) in less memory than zstd -3 -T2: one thread, as
 * the brotli tool itself, and about as fast (0.93-1.16 x brotli -q 5 on
 * tars of system directories and generated data: docs/performance.md). */
static int
streams(const struct ctx *x)
{
	const struct pfs_common *c = &x->o->c;

	return pfs_codec_streams(x->codec) && (!c->threads_set || c->threads < 2);
}

static int
stream_fail(struct ctx *x, struct pfs_err *e)
{
	return pfs_seterr(e, "%s: chunk %" PRIu64 ": %s", x->name, x->seq,
	                  x->sj.why);
}

static int
stream_begin(void *vctx, struct pfs_slot *s, struct pfs_err *e)
{
	struct ctx *x = vctx;

	x->seq = s->hdr.seq;
	if (job(x, s, &x->sj, e) < 0)
		return -1;
	/* the payload comes later, a piece at a time */
	x->sj.src = NULL;
	return pfs_codec_stream_begin(x->sc, &x->sj) < 0 ? stream_fail(x, e) : 0;
}

static int
stream_piece(void *vctx, uint8_t *p, size_t n, struct pfs_err *e)
{
	struct ctx *x = vctx;

	return pfs_codec_stream_piece(x->sc, &x->sj, p, n) < 0 ?
	       stream_fail(x, e) : 0;
}

static int
stream_end(void *vctx, struct pfs_slot *s, uint8_t *tail, size_t *tlen,
           struct pfs_err *e)
{
	struct ctx *x = vctx;

	(void)tail;
	*tlen = 0;
	if (pfs_codec_stream_end(x->sc, &x->sj) < 0)
		return stream_fail(x, e);
	s->ohdr.len = (uint32_t)x->sj.outlen;
	s->opay = s->out.p;
	return 0;
}

/* start_stream - the codec context of a streaming run */
static int
start_stream(struct ctx *x, struct pfs_err *e)
{
	if (!streams(x))
		return 0;
	if (!(x->sc = pfs_codec_ctx_new(x->codec, &x->cfg, x->o->decompress,
	                                e)))
		return -1;
	return PFS_STREAM;
}

static int
on_head(void *vctx, struct pfs_head *h, struct pfs_err *e)
{
	struct ctx *x = vctx;
	const struct pfs_stage *top = pfs_head_top(h);
	uint8_t params[PFS_CODEC_PARAMS_MAX];
	size_t plen;
	char msg[256];

	if (!x->o->decompress) {
		x->cfg.below = pfs_head_cap(h);
		/* Brotli payloads carry their checksum, which the record
		 * says (params[2]); before it is set, as it counts in the
		 * bound */
		x->cfg.bsum = 1;
		plen = pfs_codec_params(x->codec, &x->cfg, params);
		if (pfs_head_push(h, PFS_STAGE_COMPRESS, params, plen,
		                  (uint32_t)pfs_codec_bound(x->codec, &x->cfg,
		                                            x->cfg.below), e) < 0)
			goto fail;
		return start_stream(x, e);
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
	/* the level, and for Brotli whether every payload carries its
	 * checksum (3 bytes: required) or not (2: a stream from before) */
	if (pfs_codec_params_read(top->params, top->len, &x->codec, &x->cfg,
	                          msg, sizeof(msg)) < 0) {
		pfs_seterr(e, "%s", msg);
		goto fail;
	}
	if (x->o->codec && x->o->codec != x->codec) {
		pfs_seterr(e, "stream is compressed with %s, not %s",
		           x->codec->name, x->o->codec->name);
		goto fail;
	}
	pfs_head_pop(h);
	x->cfg.below = pfs_head_cap(h);
	x->exact = pfs_head_only_hashes(h);
	return start_stream(x, e);
fail:
	pfs_prefix(e, x->name);
	return -1;
}

/* ultra_codec - the codec with levels past its plain range (zstd) */
static const struct pfs_codec *
ultra_codec(void)
{
	unsigned i;

	for (i = 0; i < PFS_NCODECS; i++)
		if (pfs_codecs[i].lultra > pfs_codecs[i].lmax)
			return &pfs_codecs[i];
	return &pfs_codecs[0];
}

/* the algorithm options and their levels, from the codec table */
static void
usage_codecs(void)
{
	const struct pfs_codec *c, *u = ultra_codec();
	char w[64];
	unsigned i;
	int col, k;

	for (i = 0; i < PFS_NCODECS; i++) {
		c = &pfs_codecs[i];
		printf("      %-15s%s%s, levels %d-%d", c->flag, c->title,
		       i ? "" : " (the default)", c->lmin < 0 ? 1 : c->lmin,
		       c->lmax);
		if (c->lmin < 0)
			printf(" and %d to -1", c->lmin);
		printf("%s\n", c->note);
	}
	col = printf("  -l, --level N      compression level (default:");
	for (i = 0; i < PFS_NCODECS; i++) {
		k = snprintf(w, sizeof(w), "%s %d%s", pfs_codecs[i].name,
		             pfs_codecs[i].ldef, i + 1 < PFS_NCODECS ? "," : ")");
		if (col + 1 + k > 72)
			col = printf("\n%21s%s", "", w) - 1;
		else
			col += printf(" %s", w);
	}
	printf("\n  -#                 level #, as %s spells it: -1 ... -%d\n"
	       "      --fast[=N]     %s fast level -N (default 1), as -l -N\n",
	       u->name, u->lmax, u->name);
	printf("      --ultra        allow %s levels %d-%d (much more memory)\n",
	       u->name, u->lmax + 1, u->lultra);
}

static _Noreturn void
usage(void)
{
	char titles[64];

	pfs_codec_join(1, ", ", " or ", titles, sizeof(titles));
	printf("Usage: %s [OPTION]... [FILE|-]\n"
	       "Compress the chunks of a frame stream (FILE or standard input),\n"
	       "each into one standard %s frame, in parallel.\n"
	       "\n", pfs_prog, titles);
	usage_codecs();
	printf("  -d, --decompress   undo the top COMPRESS record of the stream; with\n"
	       "                     --zstd etc., also check that it is that algorithm\n"
	       "  -f, --force        write the stream even to a terminal\n"
	       "  -T, --threads N    worker threads (default: number of CPUs); Brotli\n"
	       "                     streams instead, one chunk at a time on one thread\n"
	       "                     (it holds one chunk's output, not N + 1 chunks in\n"
	       "                     and out), unless -T asks for more (0: one per CPU)\n");
	pfs_help_common(21, PFS_HELP_RANGE | PFS_HELP_COMMON);
	printf("\n"
	       "Exit status: 0 success, 1 error, 2 bad usage.\n"
	       "Example: pchunk big.bin | pcompress --zstd -l 3 | pjoin --payload > big.zst\n");
	pfs_stdout_done();
}

/* set_level - -l N, -#, --fast=N: one level, given once */
static void
set_level(struct opts *o, long v, const char *how)
{
	if (o->level_set && o->level != (int)v)
		pfs_usage_error("%s: a level was given already (%d)", how,
		                o->level);
	o->level = (int)v;
	o->level_set = 1;
}

/* take_levels - zstd's -# levels (-1 ... -22) taken out of argv before
 * getopt, which would read -19 as -1 -9.  The argument of -l and -T is
 * skipped, so '-l -5' stays a fast level. */
static void
take_levels(int *argc, char **argv, struct opts *o)
{
	int i, k = 1, skip = 0;
	long v;
	struct pfs_err e;
	const char *a;

	for (i = 1; i < *argc; i++) {
		a = argv[i];
		if (skip) {
			skip = 0;
		} else if (strcmp(a, "--") == 0) {
			break;
		} else if (strcmp(a, "-l") == 0 || strcmp(a, "-T") == 0 ||
		           strcmp(a, "--level") == 0 ||
		           strcmp(a, "--threads") == 0) {
			skip = 1;
		} else if (a[0] == '-' && a[1] >= '0' && a[1] <= '9' &&
		           strspn(a + 1, "0123456789") == strlen(a + 1)) {
			if (pfs_parse_int(a + 1, 1, 127, &v, &e) < 0)
				pfs_usage_error("%s: %s", a, e.msg);
			set_level(o, v, a);
			continue;
		}
		argv[k++] = argv[i];
	}
	for (; i < *argc; i++)
		argv[k++] = argv[i];
	argv[k] = NULL;
	*argc = k;
}

static void
parse(int argc, char **argv, struct opts *o)
{
	enum {
		OPT_ULTRA = PFS_OPT_TOOL_BASE, OPT_FAST,
		OPT_CODEC /* + codec index */
	};
	static const struct option fixed[] = {
		{ "level", required_argument, NULL, 'l' },
		{ "fast", optional_argument, NULL, OPT_FAST },
		{ "ultra", no_argument, NULL, OPT_ULTRA },
		{ "decompress", no_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		{ "threads", required_argument, NULL, 'T' },
		PFS_RANGE_LONGOPT,
		PFS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct option longopts[PFS_NCODECS + sizeof(fixed) / sizeof(fixed[0])];
	const struct pfs_codec *c;
	struct pfs_err e;
	char range[64];
	long v;
	int ch;

	pfs_codec_longopts(longopts, OPT_CODEC);
	memcpy(longopts + PFS_NCODECS, fixed, sizeof(fixed));
	memset(o, 0, sizeof(*o));
	pfs_common_init(&o->c, PFS_THREADS_MAX);
	take_levels(&argc, argv, o);
	while ((ch = getopt_long(argc, argv, "l:dfT:qhV", longopts,
	                         NULL)) != -1) {
		if (pfs_common_opt(&o->c, ch, optarg))
			continue;
		if (ch >= OPT_CODEC && ch < OPT_CODEC + (int)PFS_NCODECS) {
			c = &pfs_codecs[ch - OPT_CODEC];
			if (o->codec && o->codec != c)
				pfs_usage_error("%s and %s: choose one algorithm",
				                o->codec->flag, c->flag);
			o->codec = c;
			continue;
		}
		switch (ch) {
		case 'l':
			if (pfs_parse_int(optarg, -128, 127, &v, &e) < 0)
				pfs_usage_error("-l: %s", e.msg);
			set_level(o, v, "-l");
			break;
		case OPT_FAST:
			v = 1;
			/* zstd's fast levels (--fast is zstd's alone) */
			if (optarg && pfs_parse_int(optarg, 1,
			                            -pfs_codecs[0].lmin, &v,
			                            &e) < 0)
				pfs_usage_error("--fast: %s", e.msg);
			set_level(o, -v, "--fast");
			o->fast = 1;
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
	if (o->decompress && (o->level_set || o->ultra))
		pfs_usage_error("-d reads the level from the stream: drop %s",
		                o->level_set ? "the level" : "--ultra");
	if (o->decompress)
		return;
	c = o->codec ? o->codec : &pfs_codecs[0];
	if (o->fast && c != &pfs_codecs[0])
		pfs_usage_error("--fast is a zstd level: drop it or use --zstd");
	if (o->ultra && c->lultra == c->lmax)
		pfs_usage_error("--ultra is for %s levels %d-%d",
		                ultra_codec()->name, ultra_codec()->lmax + 1,
		                ultra_codec()->lultra);
	if (!o->level_set) {
		o->level = c->ldef;
	} else if (!pfs_codec_level_ok(c, o->level, o->ultra)) {
		pfs_codec_levels(c, range, sizeof(range));
		pfs_usage_error("%s level %d is out of range (%s)", c->name,
		                o->level, range);
	}
}

int
main(int argc, char **argv)
{
	static const struct pfs_stage_ops ops = {
		.types = 1u << PFS_DATA, .head = on_head,
		.thread_new = thread_new, .thread_free = thread_free,
		.transform = transform, .stream_begin = stream_begin,
		.stream_piece = stream_piece, .stream_end = stream_end,
		.stream_collect = 1, .lend_in = 1
	};
	struct opts o;
	struct ctx x;
	struct pfs_err e;
	struct pfs_stats st;
	struct pfs_engine_cfg cfg;
	int rc;

	pfs_setprog(argv[0]);
	parse(argc, argv, &o);
	pfs_common_trace(&o.c);
	pfs_stats_start(&st);
	memset(&x, 0, sizeof(x));
	x.o = &o;
	x.codec = o.codec ? o.codec : &pfs_codecs[0];
	x.cfg.level = o.level;
	if (pfs_engine_cfg_open(&cfg, o.input, o.c.threads, &e) < 0 ||
	    pfs_refuse_tty(1, o.force, &e) < 0)
		return pfs_fail("%s", e.msg);
	x.name = cfg.in_name;
	pfs_common_cfg(&o.c, &cfg);
	rc = pfs_engine_run(&cfg, &ops, &x, NULL, &st, &e);
	pfs_codec_ctx_free(x.sc);
	pfs_stats_print(&st, o.c.stats);
	if (rc < 0)
		return pfs_fail("%s", e.msg);
	if (cfg.in_fd != 0)
		close(cfg.in_fd);
	return PFS_EXIT_OK;
}
