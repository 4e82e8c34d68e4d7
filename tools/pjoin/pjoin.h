/*
 * pjoin.h - the parts of pjoin(1), private to it: tools/pjoin.c (options,
 * the engine callbacks that verify and write the bytes, --resume, main)
 * and tools/pjoin/:
 *   resume.c  pjoin --resume: the partial output and where to continue
 *   parts.c   pjoin -o OUT PART...: the parts of one file joined into OUT
 *   shared.c  pjoin --into OUT and --commit OUT: parts restored by several
 *             hosts into one file on shared storage, then put in place
 *
 * struct opts is filled once by parse() and only read after it.
 */
#ifndef PJOIN_H
#define PJOIN_H

#include <sys/types.h>

#include "buf.h"
#include "cli.h"
#include "codec.h"
#include "engine.h"
#include "frame.h"
#include "hashcheck.h"
#include "head.h"
#include "progress.h"
#include "resume.h"
#include "stats.h"

struct opts {
	const char *output;
	const char *input;
	char **parts;                /* several operands: the parts to join */
	int nparts;
	int force;
	int payload;
	int verify;
	int progress;
	int keep_mode;               /* -p: the recorded bits as they are */
	int resume;                  /* --resume */
	const char *into;            /* --into OUT (shared.c) */
	const char *commit;          /* --commit OUT (shared.c) */
	mode_t umask;                /* read once at startup */
	struct pfs_common c;
};

struct ctx {
	const struct opts *o;
	struct pfs_hashset hs;
	struct pfs_head head;
	struct pfs_progress pr;
	uint64_t done;
	uint64_t pos;                /* source offset of the next chunk */
	int part_fd;                 /* --resume: the partial output */
	int into_fd;                 /* --into: OUT.pfs-join */
	struct pfs_resume rs;
	struct pfs_buf held;         /* --resume: a held chunk, read back */
	const struct pfs_index *ix;  /* --resume from a stream file: its
	                                index (resume_from), else NULL */
	int in_fd;                   /* ... and the file */
	const struct pfs_codec *one;   /* --payload of a codec whose frames do
	                                  not concatenate: one chunk at most */
};


/* pjoin.c: the engine callbacks, shared by the ways of joining.
 * join_ops - the static table of them for o (verifying or not). */
const struct pfs_stage_ops *join_ops(const struct opts *o);
/* out_mode - the permission bits of the output file for HEAD h (-p, the
 * umask) */
int out_mode(const struct opts *o, const struct pfs_head *h);

/* resume.c: --resume.
 * resume_head - HEAD h read: check the partial output against its journal;
 *   a range stream must run from a chunk it holds to the end of the file;
 *   the chunks before it are checked against the file's DIGEST frames.
 * resume_from - with a stream file, read it from the first chunk the
 *   partial output does not hold (cfg's range, through the index, which
 *   it leaves in *ix).
 * resume_held - a chunk the partial output holds, read from the stream:
 *   the partial output's bytes of it must be the same.
 * resume_size - after the restore: the partial output is the whole file.
 * Each returns 0 or -1 with e set. */
int resume_head(struct ctx *x, const struct pfs_head *h, struct pfs_err *e);
int resume_from(const struct opts *o, struct pfs_engine_cfg *cfg,
                struct pfs_index *ix, struct pfs_err *e);
int resume_held(struct ctx *x, const struct pfs_slot *s, struct pfs_err *e);
int resume_size(const struct ctx *x, int fd, struct pfs_err *e);

/* parts.c */
int join_parts(const struct opts *o, struct pfs_stats *st, struct pfs_err *e);

/* shared.c: --into OUT writes one part into OUT.pfs-join at its offset
 * and, once verified, leaves a marker in OUT.pfs-join.d/; --commit OUT
 * checks that the markers tile the source and renames OUT.pfs-join to OUT.
 * shared_open - open OUT.pfs-join (created 0600 when missing) into *fd.
 * shared_head - HEAD h read: refuse it when OUT.pfs-join holds parts of
 *   another source, size the file, seek fd to the part's first byte.
 * shared_done - the part restored and verified: sync it, write its marker.
 * shared_commit - --commit: check the markers, put the file in place with
 *   the recorded mode (out_mode) and mtime, remove the markers.
 * Each returns 0 or -1 with e set. */
#define PFS_JOIN_SUFFIX ".pfs-join"
int shared_open(const char *out, int *fd, struct pfs_err *e);
int shared_head(const char *out, int fd, const struct pfs_head *h,
                struct pfs_err *e);
int shared_done(const char *out, int fd, const struct pfs_head *h,
                struct pfs_err *e);
int shared_commit(const struct opts *o, struct pfs_err *e);

#endif
