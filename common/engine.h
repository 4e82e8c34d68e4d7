/*
 * engine.h - the stage engine: the one loop behind pcompress, pencrypt,
 * phash and pjoin.
 *
 * A tool fills a struct pfs_stage_ops (a table of callbacks, like sbase's
 * crypt_ops) and calls pfs_engine_run().  The engine:
 *  - reads and validates the input stream (frame.h) on the calling thread;
 *  - calls ops->head once with the parsed HEAD, which the tool edits (push
 *    or pop its stage record), then writes the signature and the new HEAD;
 *  - hands each frame whose type is in ops->types to ops->transform on one
 *    of nthreads worker threads;
 *  - calls ops->ordered for every frame, strictly in stream order, on the
 *    writer thread, then writes the frame (and an optional extra frame);
 *  - owns the memory: at most 2*nthreads+2 frames are in flight (fewer
 *    for large chunks: as many as PFS_INFLIGHT_BYTES of payloads allow,
 *    but at least nthreads+2), each slot's buffers are reused for the next
 *    frame, so memory is O(threads x chunk size) and steady state
 *    allocates nothing (a payload that fills its buffer's 2 MiB pages,
 *    written to a pipe, is given to it with its pages, vmsplice, and its
 *    buffer gets new pages in place: frame.h pfs_writer_frame_buf).
 *
 * With ops->hold, a DATA frame is written only once the checks that follow
 * it in the stream (its DIGEST frames) have passed, so whatever reaches the
 * output before an error is a prefix of the true output; a stream cut short
 * after those checks still gets it (ops->held_checked).
 *
 * Errors are reported in stream order: a failure in chunk 7 is reported as
 * chunk 7's even if a worker found an error in chunk 9 first.  A closed
 * downstream pipe kills the process with SIGPIPE, the way cat does (even
 * when SIGPIPE was ignored: the writer restores it and raises it).
 *
 * Threads: ops->transform runs concurrently on different slots with the
 * worker's own thread state (from ops->thread_new); ops->ordered runs on
 * the writer thread, one frame at a time, in stream order.  ctx is shared
 * and read-only for transform.
 */
#ifndef PFS_ENGINE_H
#define PFS_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "frame.h"
#include "head.h"
#include "stats.h"

/* One frame in flight.  The engine fills hdr and in; the callbacks set the
 * output: by default the frame is written unchanged (ohdr = hdr, opay =
 * in.p).  A callback that replaces the payload writes it into out and
 * points opay at out.p with ohdr.len set. */
struct pfs_slot {
	struct pfs_hdr hdr;        /* input header */
	struct pfs_buf in;         /* input payload (hdr.len bytes) */
	struct pfs_hdr ohdr;       /* output header */
	const uint8_t *opay;       /* output payload (ohdr.len bytes) */
	struct pfs_buf out;        /* storage for a replaced payload */
	int emit;                  /* 0: drop this frame */
	int xemit;                 /* 1: also write the extra frame after it */
	struct pfs_hdr xhdr;
	uint8_t xpay[PFS_DIGEST_MAX];
	uint8_t aux[1024];         /* worker -> ordered hook scratch */
	size_t auxlen;
	/* engine-private */
	int state;
	uint64_t ticket;
	int failed;
	int intok, outtok;         /* holds an ops->lend_in buffer token */
	struct pfs_err err;
};

/* ops->head's return value asking for streaming: see ops->stream_*. */
#define PFS_STREAM 1

/* bytes of a streamed payload handled at once: well inside the L2 cache */
#define PFS_PIECE (256u << 10)
/* ... and by a stage that streams its output too (stream_data: pencrypt,
 * pjoin copying): read and transformed 1 MiB at a time, within the 1 MiB
 * L2 of this machine's cores (256 KiB pieces cost pencrypt 78.8 against
 * 67.2 ms on the tar of /usr/include when each piece was also written at
 * once; docs/performance.md). */
#define PFS_STREAM_PIECE (1u << 20)
#define PFS_STREAM_TAIL_MAX 64u

/* payload bytes the engine aims to keep in flight at most (see above) */
#define PFS_INFLIGHT_BYTES (24u << 20)

struct pfs_stage_ops {
	/* 1u << type for every frame type transform wants (0: none). */
	unsigned types;
	/* Edit the HEAD.  Called once, before any thread starts.  Returns 0,
	 * PFS_STREAM to stream the DATA payloads (below), or -1 with e set. */
	int (*head)(void *ctx, struct pfs_head *h, struct pfs_err *e);
	/* Per worker thread state, or NULL. */
	void *(*thread_new)(void *ctx, struct pfs_err *e);
	void (*thread_free)(void *ctx, void *t);
	/* Worker: transform one frame.  Must not touch other slots. */
	int (*transform)(void *ctx, void *t, struct pfs_slot *s,
	                 struct pfs_err *e);
	/* Writer: every frame, in order, after transform. */
	int (*ordered)(void *ctx, struct pfs_slot *s, struct pfs_err *e);
	/* Streaming, when head returned PFS_STREAM: no worker thread; the
	 * calling thread reads every DATA payload
	 * PFS_STREAM_PIECE bytes at a time (PFS_PIECE with stream_collect),
	 * each piece transformed while it is in cache, and a writer thread
	 * writes the frame once its payload has been read to the end: a
	 * stream cut short never leaves part of a frame behind.  For a DATA
	 * frame: stream_begin (optional) sees the slot with the header only
	 * and sets s->ohdr.len; then ordered runs (the payload is not there
	 * yet: s->in is empty); stream_piece (optional) transforms each piece
	 * in place; stream_end (optional) gives *tlen <= PFS_STREAM_TAIL_MAX
	 * bytes written after the last piece.  Other frames are read whole
	 * and go through ordered as usual; END is written only when the
	 * stream has been validated to its end.  Only
	 * for stages whose output for a chunk needs no check of the whole
	 * chunk first (encrypting, copying), or that hold their output until
	 * the chunk is checked (stream_collect below): hold does not apply to
	 * a streamed stream.  Memory: two frames (engine.c, PFS_RING), each
	 * grown to its size once. */
	int (*stream_begin)(void *ctx, struct pfs_slot *s, struct pfs_err *e);
	int (*stream_piece)(void *ctx, uint8_t *p, size_t n,
	                    struct pfs_err *e);
	int (*stream_end)(void *ctx, struct pfs_slot *s, uint8_t *tail,
	                  size_t *tlen, struct pfs_err *e);
	/* 1: streaming for a stage whose output is known only at the end of
	 * a DATA payload (compressing or decompressing a chunk a piece at a
	 * time, pcompress --brotli): stream_begin, then stream_piece for each
	 * piece, which it only reads; then stream_end (tail is NULL) sets the
	 * output, s->ohdr.len and s->opay, as a worker's transform would, and
	 * ordered runs.  Only then is anything of the frame written: what
	 * stream_end refuses never leaves the stage.  Memory: one piece of
	 * input and the stage's own output, never the chunk's input whole. */
	int stream_collect;
	/* 1: nothing unverified leaves the stage.  A DATA frame (and what
	 * ordered added after it) is held back until ordered has accepted
	 * the next frame that is not a DIGEST frame, so the DIGEST frames
	 * that follow it have been checked; those DIGEST frames are held too
	 * and written after it.  One chunk is held, never more: the engine
	 * swaps the slot's buffers with its own, so this costs one chunk of
	 * memory and no copy.  A chunk followed by more than
	 * PFS_HOLD_TAIL_MAX bytes of DIGEST frames is an error. */
	int hold;
	/* With hold, when reading fails (a stream cut short, a damaged
	 * frame): 1 if the DATA frame held has passed every check that covers
	 * it (each DIGEST frame it needs came after it and matched), so it is
	 * written before the stage fails, as the next frame would have let
	 * it be; 0 (or no callback): it is dropped.  Called on the calling
	 * thread once the writer has written every frame read whole; not
	 * when the writer side failed. */
	int (*held_checked)(void *ctx, const struct pfs_slot *held);
	/* 1: once transform returns, s->in is not needed again (no ordered
	 * hook reads it), unless s->opay points into it (a payload decoded
	 * in place, or a frame transform did not take).  The slots then
	 * borrow their buffers from two pools instead of owning them: an
	 * input buffer from the reader's read until transform is done (or
	 * the frame is written, when its output is s->in), an output buffer
	 * from transform until the frame is written.  At most workers + 1
	 * frames hold an input buffer at once (the one being read and one
	 * per worker), which holds the reader back no more than the workers
	 * do, and at most workers + 1 an output buffer (one per worker and
	 * the one being written).  So chunk-sized buffers number workers + 1
	 * in and workers + 1 out, not one of each per slot in flight
	 * (measured: pcompress --lz4 -T 2, 8 MiB chunks of text 61.0 -> 46.8
	 * MB, of a tar of /usr/include 52.8 -> 40.5 MB: docs/performance.md;
	 * pencrypt -d, which opens in place, 12.7 -> 10.6 MB).  The pools
	 * give back the buffer returned last, so a stage that keeps up with
	 * its input touches no more buffers than it needs at once.
	 * Not with hold. */
	int lend_in;
};

#define PFS_HOLD_TAIL_MAX (PFS_STAGES_MAX * (PFS_HDR_LEN + PFS_DIGEST_MAX))

struct pfs_engine_cfg {
	int in_fd;
	const char *in_name;      /* "stdin" or the file name */
	int out_fd;
	const char *out_name;     /* "stdout" or the file name */
	unsigned nthreads;        /* worker threads, >= 1 */
	int raw_out;              /* 1: write only DATA payloads (pjoin) */
	int name_errors;          /* 1: prefix the messages of ops->head and
	                             ops->ordered with in_name */
	/* --range: read only the chunks holding range_len bytes from source
	 * byte range_off (range_len UINT64_MAX: to the end) of a stream file,
	 * through its index, and run them as a range stream (format.md).
	 * ops->head sees the HEAD already made a range (range_cut set);
	 * no ENCRYPT record may remain on it after ops->head. */
	int range;
	uint64_t range_off, range_len;
	/* 1 (pfs_engine_cfg_open's default): on an error, still write out
	 * what was released (verified) and is waiting in the output buffer,
	 * so that the next stage gets every chunk checked before the error
	 * (pjoin --resume keeps them), whatever the chunk size; never END
	 * (an error after it, e.g. trailing data, must fail the next stage
	 * too), and nothing before the first DATA frame
	 * (pfs_writer_flush_released).
	 * pjoin -o without --resume sets 0: its temporary file goes. */
	int flush_on_error;
};

/* pfs_engine_run - run the whole stream.  Returns 0 when END was read,
 * validated and everything was written and flushed; -1 with e set (the
 * message already names the input or output) otherwise.  st is filled in
 * either case.  out_head, if not NULL, receives the HEAD as edited. */
int pfs_engine_run(const struct pfs_engine_cfg *cfg,
                   const struct pfs_stage_ops *ops, void *ctx,
                   struct pfs_head *out_head, struct pfs_stats *st,
                   struct pfs_err *e);

/* pfs_engine_cfg_open - the usual configuration: the stream read from path
 * ("-" or NULL: stdin; pfs_open_stream), written to stdout, with nthreads
 * workers.  The caller closes cfg->in_fd when it is not 0.  Returns 0, or -1
 * with e set. */
int pfs_engine_cfg_open(struct pfs_engine_cfg *cfg, const char *path,
                        unsigned nthreads, struct pfs_err *e);

/* The most worker threads the engine runs; a tool's -T may be lower
 * (pfs_common_init, cli.h). */
#define PFS_THREADS_MAX 256u

/* pfs_default_threads - number of online CPUs (at least 1, at most
 * PFS_THREADS_MAX). */
unsigned pfs_default_threads(void);

#endif
