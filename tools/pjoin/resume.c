/*
 * resume.c - pjoin --resume (pjoin.h): the partial output FILE.pfs-part
 * and its journal (common/resume.h) checked against the stream, and a
 * stream file read from the first chunk the partial output lacks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "err.h"
#include "frame.h"
#include "io.h"
#include "pjoin.h"

/* differs - the message for chunk k of the partial output that is not the
 * stream's chunk k (the journal beside it matched: both were rewritten, or
 * the stream is another one with the same HEAD) */
static int
differs(const char *out, uint64_t k, const char *why, struct pfs_err *e)
{
	return pfs_seterr(e, "%s%s: chunk %" PRIu64 " %s: remove it and "
	                  "its %s file to restore from the start", out,
	                  PFS_PART_SUFFIX, k, why, PFS_SUMS_SUFFIX);
}

/* held_digests - the chunks [0, held) of the partial output, which the
 * range read from the stream file leaves out, checked against the DIGEST
 * frames that follow them in that file, found through its index (kept by
 * resume_from): in a stream pjoin joins every record is a HASH record, so
 * these are digests of the raw bytes.  pfs_resume_begin has just checked
 * the same chunks against the journal. */
static int
held_digests(struct ctx *x, const struct pfs_head *h, uint64_t held,
             struct pfs_err *e)
{
	uint8_t hb[PFS_HDR_LEN], want[PFS_DIGEST_MAXLEN], got[PFS_DIGEST_MAXLEN];
	const struct pfs_index *ix = x->ix;
	const struct pfs_digest_algo *a;
	struct pfs_hdr dh, fh;
	uint64_t k, pos, next;

	if (pfs_buf_reserve(&x->held, h->chunk_size ? h->chunk_size : 1) < 0)
		return pfs_seterr(e, "out of memory");
	for (k = 0; k < held && k < ix->n; k++) {
		pos = ix->off[k];
		next = ix->off[k + 1];
		if (pfs_pread_full(x->in_fd, hb, sizeof(hb), pos) < 0 ||
		    pfs_hdr_decode(hb, &dh, 0, e) < 0 || dh.type != PFS_DATA ||
		    dh.seq != k || dh.len > h->chunk_size)
			return pfs_seterr(e, "chunk %" PRIu64 " is not where the "
			                  "index says (damaged stream)", k);
		if (pfs_pread_full(x->part_fd, x->held.p, dh.len,
		                   k * h->chunk_size) < 0)
			return pfs_seterr(e, "%s%s: cannot read: %s",
			                  x->o->output, PFS_PART_SUFFIX,
			                  strerror(errno ? errno : EIO));
		for (pos += PFS_HDR_LEN + dh.len; pos < next;
		     pos += PFS_HDR_LEN + fh.len) {
			if (pfs_pread_full(x->in_fd, hb, sizeof(hb), pos) < 0 ||
			    pfs_hdr_decode(hb, &fh, 0, e) < 0 ||
			    fh.len > next - pos - PFS_HDR_LEN)
				return pfs_seterr(e, "the frames after chunk "
				                  "%" PRIu64 " are damaged", k);
			/* a skippable frame may sit here too */
			if (fh.type != PFS_DIGEST || fh.seq != k ||
			    fh.raw >= h->nstages ||
			    !(a = pfs_digest_by_id(h->stages[fh.raw].params[0])) ||
			    fh.len != a->len)
				continue;
			if (pfs_pread_full(x->in_fd, want, a->len,
			                   pos + PFS_HDR_LEN) < 0)
				return pfs_seterr(e, "cannot read: %s",
				                  strerror(errno ? errno : EIO));
			pfs_digest_buffer(a, x->held.p, dh.len, got);
			if (memcmp(want, got, a->len) != 0) {
				char why[64];
				snprintf(why, sizeof(why), "does not match the "
				         "stream's %s digest", a->name);
				return differs(x->o->output, k, why, e);
			}
		}
	}
	return 0;
}

/* resume_head - --resume: check the partial output against its journal;
 * a range stream must run from a chunk it holds to the end of the file */
int
resume_head(struct ctx *x, const struct pfs_head *h, struct pfs_err *e)
{
	uint64_t first = pfs_head_first_chunk(h);

	if (pfs_resume_begin(&x->rs, x->o->output, x->part_fd, h, e) < 0)
		return -1;
	if (!(h->flags & PFS_HF_RANGE))
		return 0;
	if (h->rfirst != h->rstart || h->rstart % h->chunk_size ||
	    ((h->flags & PFS_HF_SIZE) && h->rfirst + h->rlen != h->size))
		return pfs_seterr(e, "--resume needs the stream from a chunk "
		                  "to the end of the file, not this range");
	if (first > x->rs.chunks)
		return pfs_seterr(e, "the stream starts at chunk %" PRIu64
		                  " but %s%s holds only %" PRIu64 " chunks",
		                  first, x->o->output, PFS_PART_SUFFIX,
		                  x->rs.chunks);
	/* the chunks before the range were not read: their digests are */
	if (x->ix && x->o->verify && h->nstages && pfs_head_only_hashes(h))
		return held_digests(x, h, first, e);
	return 0;
}

/* resume_from - --resume with a stream file: read it from the first chunk
 * the partial output does not hold, through its index (when it has one),
 * which is then left in *ix for resume_head (free it with
 * pfs_index_free) */
int
resume_from(const struct opts *o, struct pfs_engine_cfg *cfg,
            struct pfs_index *ix, struct pfs_err *e)
{
	static struct pfs_head h;
	struct stat st;
	struct pfs_reader r;
	uint64_t good;
	int complete, rc;

	if (fstat(cfg->in_fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;            /* a pipe: read through, chunks skipped */
	pfs_reader_init(&r, cfg->in_fd, cfg->in_name);
	rc = pfs_reader_start(&r, &h, e);
	pfs_reader_free(&r);
	if (lseek(cfg->in_fd, 0, SEEK_SET) < 0)
		return pfs_seterr(e, "%s: cannot seek: %s", cfg->in_name,
		                  strerror(errno));
	if (rc < 0 || (h.flags & PFS_HF_RANGE))
		return 0;            /* the engine reports it; ranges: as they are */
	if (pfs_resume_probe_head(o->output, &h, &good, &complete, e) < 0) {
		pfs_prefix(e, cfg->in_name);
		return -1;
	}
	if (good == 0 || complete)
		return 0;
	rc = pfs_index_load(cfg->in_fd, (uint64_t)st.st_size, cfg->in_name,
	                    ix, e);
	if (rc <= 0) {
		pfs_index_free(ix);
		return 0;            /* no index: read from the start */
	}
	cfg->range = 1;
	cfg->range_off = good;
	cfg->range_len = UINT64_MAX;
	return 0;
}

/* resume_held - chunk s->hdr.seq, which the partial output holds, read
 * from the stream (a pipe, or a file without an index): checked against
 * the partial output's bytes, as held_digests checks them in a file, and
 * then, before it is dropped, against its DIGEST frames (ops.hold) */
int
resume_held(struct ctx *x, const struct pfs_slot *s, struct pfs_err *e)
{
	uint64_t k = s->hdr.seq;

	if (pfs_buf_reserve(&x->held, s->ohdr.len ? s->ohdr.len : 1) < 0)
		return pfs_seterr(e, "out of memory");
	if (pfs_pread_full(x->part_fd, x->held.p, s->ohdr.len,
	                   k * x->head.chunk_size) < 0)
		return pfs_seterr(e, "%s%s: cannot read: %s", x->o->output,
		                  PFS_PART_SUFFIX, strerror(errno ? errno : EIO));
	if (memcmp(x->held.p, s->opay, s->ohdr.len) != 0)
		return differs(x->o->output, k, "differs from the stream's",
		               e);
	return 0;
}

/* resume_size - the resumed output is the whole file */
int
resume_size(const struct ctx *x, int fd, struct pfs_err *e)
{
	off_t end = lseek(fd, 0, SEEK_CUR);

	if ((x->head.flags & PFS_HF_SIZE) && (uint64_t)end != x->head.size)
		return pfs_seterr(e, "%s%s: %jd bytes after the restore, but "
		                  "the source has %" PRIu64, x->o->output,
		                  PFS_PART_SUFFIX, (intmax_t)end, x->head.size);
	return 0;
}

