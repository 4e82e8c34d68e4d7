/*
 * resume.c - pjoin --resume (pjoin.h): the partial output FILE.pfs-part
 * and its journal (common/resume.h) checked against the stream, and a
 * stream file read from the first chunk the partial output lacks.
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <errno.h>

#include "err.h"
#include "frame.h"
#include "io.h"
#include "pjoin.h"

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
	return 0;
}

/* resume_from - --resume with a stream file: read it from the first chunk
 * the partial output does not hold, through its index (when it has one) */
int
resume_from(const struct opts *o, struct pfs_engine_cfg *cfg,
            struct pfs_err *e)
{
	static struct pfs_head h;
	struct stat st;
	struct pfs_index ix;
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
	                    &ix, e);
	pfs_index_free(&ix);
	if (rc <= 0)
		return 0;            /* no index: read from the start */
	cfg->range = 1;
	cfg->range_off = good;
	cfg->range_len = UINT64_MAX;
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

