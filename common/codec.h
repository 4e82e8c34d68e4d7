/*
 * codec.h - the compression algorithms: one table with, per algorithm, its
 * id, name, command-line flag, level range and default, worst-case bound
 * and its compress and decompress functions.  pcompress, pipeline's level
 * checks and the stage descriptions (stages.c, head.c) all read it; no
 * algorithm name or level range is written down anywhere else.
 *
 * Invariants:
 *  - pfs_codecs[0 .. PFS_NCODECS) is in the order of the options (--zstd,
 *    --lz4, --brotli); the first is the default algorithm.  id is the
 *    format's algorithm id (stages.h, params[0] of a COMPRESS record).
 *  - Levels: lmin..lmax (lultra with --ultra).  When lmin < 0 the negative
 *    levels are fast levels (zstd's --fast=N is level -N) and 0 is not a
 *    level.  ldef is the level when none is given.
 *  - Every payload becomes one complete standard frame (a zstd frame with
 *    content size and checksum, an LZ4 frame with content size and content
 *    checksum, a Brotli stream that ends with the XXH64 of its content in
 *    a metadata block, which decoders skip: cfg.bsum), so one payload is a
 *    file the stock tool decodes.  The payloads of several chunks
 *    concatenated are one file only when concat is set: zstd and LZ4
 *    frames concatenate, Brotli streams do not (brotli -d stops after the
 *    first, silently).
 *  - Decompression never allocates or writes past a bound fixed before it
 *    starts (job->hi), checked against the size the frame declares.
 *
 * Ownership: a struct pfs_codec_ctx is one worker thread's state (zstd and
 * LZ4 contexts, reused from chunk to chunk; Brotli's block cache, see
 * codec.c), made by pfs_codec_ctx_new() and freed by pfs_codec_ctx_free();
 * it must not be used by two threads at once.  The job's output buffer
 * belongs to the caller.
 */
#ifndef PFS_CODEC_H
#define PFS_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* What a context compresses with: fixed for the whole stream. */
struct pfs_codec_cfg {
	int level;
	uint32_t below;         /* payload cap of the record below COMPRESS:
	                           LZ4 block size, Brotli window */
	int bsum;               /* Brotli: every payload ends with the XXH64
	                           of its decompressed bytes in a metadata
	                           block (PFS_BROTLI_F_SUM, codec.c):
	                           compressing, written (and counted in the
	                           bound); decompressing, required and checked.
	                           0: a stream from before it, unchecked */
};

/* COMPRESS params[2] of a Brotli record (format.md): its flags */
#define PFS_BROTLI_F_SUM 0x01u  /* every payload ends with its checksum */

/* One payload to (de)compress; why receives the reason of a failure. */
struct pfs_codec_job {
	uint8_t *src;           /* decompress may rewrite it (in_place) */
	size_t n;
	uint64_t lo, hi;        /* decompress: output length in [lo, hi] */
	size_t cap;             /* compress: output at most this, which is
	                           pfs_codec_bound(n); out holds cap bytes */
	struct pfs_buf *out;
	size_t outlen;          /* set on success */
	int in_place;           /* decompress: the output is at src (which
	                           was rewritten), not in out */
	char why[256];
};

struct pfs_codec_ctx;

struct pfs_codec {
	unsigned id;            /* enum pfs_calgo */
	const char *name;       /* "zstd": messages, descriptions */
	const char *flag;       /* "--zstd": pcompress's and pipeline's option,
	                           "--" and the getopt long option name */
	const char *title;      /* "zstd", "LZ4": in --help */
	const char *note;       /* more on the levels for --help, or "" */
	int lmin, lmax, lultra, ldef;
	int concat;             /* 1: frames one after another are one valid
	                           file for the stock tool (pjoin --payload) */
	/* make the per-thread state of ctx (ctx->cfg is set) */
	int (*init)(struct pfs_codec_ctx *ctx, int decompress);
	/* the largest output of compressing n bytes with cfg */
	size_t (*bound)(const struct pfs_codec_cfg *cfg, size_t n);
	int (*compress)(struct pfs_codec_ctx *ctx, struct pfs_codec_job *j);
	int (*decompress)(struct pfs_codec_ctx *ctx, struct pfs_codec_job *j);
	/* a chunk a piece at a time (NULL: not offered): see
	 * pfs_codec_stream_begin */
	int (*sbegin)(struct pfs_codec_ctx *ctx, struct pfs_codec_job *j);
	int (*spiece)(struct pfs_codec_ctx *ctx, struct pfs_codec_job *j,
	              const uint8_t *p, size_t n);
	int (*send)(struct pfs_codec_ctx *ctx, struct pfs_codec_job *j);
};

#define PFS_NCODECS 3

extern const struct pfs_codec pfs_codecs[PFS_NCODECS];

/* pfs_codec_by_id - the codec with format id id, or NULL. */
const struct pfs_codec *pfs_codec_by_id(unsigned id);

/* pfs_codec_by_name - the codec named name ("zstd"), or NULL. */
const struct pfs_codec *pfs_codec_by_name(const char *name);

/* pfs_codec_join - every codec's flag (or, with titles, its title) joined
 * into out[n]: sep between them, last before the last one:
 * ", " and " or " give "--zstd, --lz4 or --brotli". */
void pfs_codec_join(int titles, const char *sep, const char *last, char *out,
                    size_t n);

/* pfs_codec_level_ok - 1 if level is one of c's levels (with --ultra when
 * ultra is set), else 0. */
int pfs_codec_level_ok(const struct pfs_codec *c, long level, int ultra);

/* pfs_codec_levels - c's levels in words into out[n]: "1-19, 20-22 with
 * --ultra, -100 to -1 fast", "1-12". */
void pfs_codec_levels(const struct pfs_codec *c, char *out, size_t n);

/* pfs_codec_describe - "zstd -3", "zstd --fast=5", "zstd --ultra -22"
 * (negative levels spelt as zstd's fast levels, those above lmax with
 * --ultra: options pcompress and zstd take) for algorithm id at level
 * into out[n].
 * Returns 0, or -1 (out untouched) when id is unknown. */
int pfs_codec_describe(unsigned id, int level, char *out, size_t n);

/* pfs_codec_bound - c's worst-case output size for n input bytes. */
size_t pfs_codec_bound(const struct pfs_codec *c,
                       const struct pfs_codec_cfg *cfg, size_t n);

/* pfs_codec_ctx_new - one worker thread's state to compress (or, with
 * decompress, to decompress) with c and cfg.  NULL with e set if out of
 * memory.  Free it with pfs_codec_ctx_free(). */
struct pfs_codec_ctx *pfs_codec_ctx_new(const struct pfs_codec *c,
                                        const struct pfs_codec_cfg *cfg,
                                        int decompress, struct pfs_err *e);

/* pfs_codec_ctx_free - free ctx and all it holds; NULL is a no-op. */
void pfs_codec_ctx_free(struct pfs_codec_ctx *ctx);

/* pfs_codec_compress - j->src[0..n) into j->out (reserved to j->cap bytes
 * by the caller) as one frame; n >= 1 (a chunk is never empty, and an LZ4
 * frame cannot declare a content size of 0).  0 with j->outlen set, or -1 with j->why. */
int pfs_codec_compress(struct pfs_codec_ctx *ctx, struct pfs_codec_job *j);

/* pfs_codec_decompress - the one frame j->src[0..n) into j->out, which it
 * reserves: never more than j->hi bytes, and -1 (j->why says why) unless
 * the frame decodes to [lo, hi] bytes, is complete and has no trailing
 * bytes.  0 with j->outlen set.  A zstd frame of raw blocks only (data
 * that did not compress) is decoded in place instead: src is rewritten,
 * j->in_place is set and the output is at j->src; src is left as it was
 * whenever the frame is refused before its checksum is checked. */
int pfs_codec_decompress(struct pfs_codec_ctx *ctx, struct pfs_codec_job *j);

/* pfs_codec_streams - 1 when c takes a chunk a piece at a time (Brotli),
 * so that a chunk need never be in memory whole: pfs_codec_stream_begin,
 * then pfs_codec_stream_piece for each piece in order, then
 * pfs_codec_stream_end, with the same job.  Compressing, j->n is the
 * chunk's length and j->out is reserved to j->cap by the caller;
 * decompressing, j->lo and j->hi bound the output as for
 * pfs_codec_decompress.  The output goes to j->out, j->outlen bytes so
 * far; it is complete, and checked, only when pfs_codec_stream_end
 * returns 0.  Each returns 0, or -1 with j->why (the ctx can then begin
 * again).  The output is the same as pfs_codec_compress's. */
int pfs_codec_streams(const struct pfs_codec *c);
int pfs_codec_stream_begin(struct pfs_codec_ctx *ctx, struct pfs_codec_job *j);
int pfs_codec_stream_piece(struct pfs_codec_ctx *ctx, struct pfs_codec_job *j,
                           const uint8_t *p, size_t n);
int pfs_codec_stream_end(struct pfs_codec_ctx *ctx, struct pfs_codec_job *j);

/* pfs_codec_params - the COMPRESS params for c and cfg (level, bsum) into
 * out, which has room for PFS_CODEC_PARAMS_MAX bytes; their length:
 * [id, level as int8] (2), and for Brotli with cfg->bsum a third byte of
 * flags, PFS_BROTLI_F_SUM (3). */
#define PFS_CODEC_PARAMS_MAX 3
size_t pfs_codec_params(const struct pfs_codec *c,
                        const struct pfs_codec_cfg *cfg, uint8_t *out);

/* pfs_codec_params_read - the codec of COMPRESS params p[0..len) into *c
 * and its level and bsum into cfg (below untouched).  Accepted: 2 bytes
 * for every codec (Brotli then unchecked: streams from before the
 * checksum), and 3 for Brotli with flags exactly PFS_BROTLI_F_SUM (checked).
 * Returns 0, or -1 with why[n] saying what is wrong. */
int pfs_codec_params_read(const uint8_t *p, size_t len,
                          const struct pfs_codec **c,
                          struct pfs_codec_cfg *cfg, char *why, size_t n);

/* pfs_codec_longopts - one getopt_long entry per codec (its flag without
 * the "--", no argument, val = val0 + the codec's index) into lo, which
 * has room for PFS_NCODECS entries: pcompress's and pipeline's --zstd,
 * --lz4, --brotli. */
struct option;
void pfs_codec_longopts(struct option *lo, int val0);

#endif
