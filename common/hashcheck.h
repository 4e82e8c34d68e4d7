/*
 * hashcheck.h - phash's digests: computing them and checking them.
 *
 * The format (docs/format.md): a HASH stage record at stack index d has
 * params = { algorithm id }.  After every DATA frame, phash writes one DIGEST
 * frame with seq = the chunk's seq, raw = d, and the digest of that DATA
 * payload as its payload.  It appends a trailer to the END payload:
 *   digest of all DATA payloads in order || u8 d || u8 digest length
 * so that trailers stack: the last one belongs to the top record.
 *
 * struct pfs_hashset computes digests for a set of stack depths whose HASH
 * records all describe the current payloads (no transform between them and
 * the top): phash uses it for the record it pushes, phash --check for the
 * top record, pjoin for every record of an all-HASH stack.
 *
 * Threads: pfs_hashset_chunk() may run on worker threads (it only reads the
 * set); everything else runs on the engine's ordered side.
 */
#ifndef PFS_HASHCHECK_H
#define PFS_HASHCHECK_H

#include <stdint.h>

#include "digest.h"
#include "engine.h"
#include "head.h"

struct pfs_hashset {
	unsigned n;
	unsigned depth[PFS_STAGES_MAX];
	const struct pfs_digest_algo *algo[PFS_STAGES_MAX];
	struct pfs_digest whole[PFS_STAGES_MAX];   /* whole-stream digests */
	uint8_t cur[PFS_STAGES_MAX][PFS_DIGEST_MAXLEN]; /* current chunk's */
	int seen[PFS_STAGES_MAX];    /* its DIGEST frame was seen */
	int strip;                   /* drop checked DIGESTs and END trailers */
	int have_chunk;              /* a DATA frame is pending its DIGESTs */
	uint64_t chunk_seq, chunk_off, chunk_raw;
	uint64_t offset;             /* source offset of the next chunk (a
	                                range stream's from its rstart) */
};

/* pfs_hashset_init - the set of HASH records at stack depths [from, top].
 * Every one of them must be a HASH record with a known algorithm. */
int pfs_hashset_init(struct pfs_hashset *hs, const struct pfs_head *h,
                     unsigned from, int strip, struct pfs_err *e);
/* pfs_hashset_one - a set of one algorithm at depth d (phash, which is about
 * to push that record). */
int pfs_hashset_one(struct pfs_hashset *hs, const struct pfs_digest_algo *a,
                    unsigned d, struct pfs_err *e);
void pfs_hashset_free(struct pfs_hashset *hs);

/* pfs_hashset_chunk - worker side: the per-chunk digests of a DATA slot
 * into s->aux (n * algo len bytes, in set order). */
void pfs_hashset_chunk(const struct pfs_hashset *hs, struct pfs_slot *s);

/* pfs_hashset_check - ordered side, for phash --check and pjoin: verify each
 * DIGEST frame of the set against the digests of its DATA frame, and the
 * END trailers against the whole-stream digests.  With strip, checked
 * DIGEST frames are dropped and the END trailers removed.  Errors name the
 * chunk and its byte range: "chunk 3 (bytes 3072-4095): sha256 digest
 * mismatch (the chunk or its DIGEST frame is damaged)". */
int pfs_hashset_check(struct pfs_hashset *hs, struct pfs_slot *s,
                      struct pfs_err *e);

/* pfs_hashset_checked - ordered side: 1 when the last DATA frame given to
 * pfs_hashset_check has had a matching DIGEST frame for every record of
 * the set (or there is none pending), 0 while one is still missing: the
 * chunk may be written although the stream ends before the next frame
 * (engine.h, ops->held_checked). */
int pfs_hashset_checked(const struct pfs_hashset *hs);

/* pfs_hashset_add - ordered side, for phash: after each DATA frame, an
 * extra DIGEST frame; on END, the trailer appended (into s->out). The
 * whole-stream digest of the one record is left in *final on END. */
int pfs_hashset_add(struct pfs_hashset *hs, struct pfs_slot *s,
                    uint8_t *final, struct pfs_err *e);

#endif
