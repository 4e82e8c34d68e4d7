/*
 * resume.h - the partial output of a restore that --resume continues.
 *
 * `pjoin -o FILE --resume` writes FILE.pfs-part (io.h,
 * pfs_outfile_open_part) and beside it a journal, FILE.pfs-part.sums: a
 * header naming the stream (an XXH3-128 of its HEAD without the range
 * fields, and the chunk size) and, for every chunk written, its index, raw
 * length and the XXH3-128 of its bytes.  A later run checks the partial
 * output chunk by chunk against the journal, keeps the chunks that match
 * (the first that does not, and everything after it, is cut off: a crash
 * may have left a record without its bytes, or bytes without their
 * record) and continues from the first chunk it does not hold.
 *
 * The journal guards against crashes, not against an attacker who can
 * write next to the output: the bytes in the partial file were verified
 * against the stream when they were first written.  pjoin also checks
 * them against the stream when it can (tools/pjoin/resume.c): the DIGEST
 * frames of a stream file, read through its index, or the chunks of a
 * stream read through a pipe.  Layout: docs/format.md
 * does not cover it (it is local state, not a stream); resume.c does.
 */
#ifndef PFS_RESUME_H
#define PFS_RESUME_H

#include <stdint.h>

#include "err.h"
#include "head.h"

#define PFS_SUMS_SUFFIX ".sums"

struct pfs_resume {
	int jfd;                 /* the journal */
	char *jpath;
	uint32_t chunk_size;
	uint64_t chunks;         /* chunks the partial output holds, checked */
	uint64_t bytes;          /* their bytes: where writing continues */
	int complete;            /* its last chunk is short: nothing follows */
};

/* pfs_resume_probe - how many bytes of target's partial output are good
 * (0 when there is none), without changing anything: where a resumed
 * restore starts reading (the first stage's --range).  *complete: the
 * partial output holds the last chunk too (only the rename is missing),
 * so the stream is read whole, every chunk skipped. */
int pfs_resume_probe(const char *target, uint64_t *bytes, int *complete,
                     struct pfs_err *e);
/* pfs_resume_probe_head - the same, for the stream whose HEAD (as the
 * restore's last stage sees it) is h: a journal of another stream is an
 * error, as in pfs_resume_begin. */
int pfs_resume_probe_head(const char *target, const struct pfs_head *h,
                          uint64_t *bytes, int *complete, struct pfs_err *e);

/* pfs_resume_begin - part_fd is target's partial output (open read-write)
 * and h the HEAD of the stream being restored: open or create the
 * journal, refuse a journal of another stream, check the partial output
 * and cut it (and the journal) back to its good chunks, and leave part_fd
 * at their end.  Returns 0 or -1 with e set. */
int pfs_resume_begin(struct pfs_resume *r, const char *target, int part_fd,
                     const struct pfs_head *h, struct pfs_err *e);

/* pfs_resume_chunk - chunk seq, n bytes at p, is being written: its
 * journal record. */
int pfs_resume_chunk(struct pfs_resume *r, uint64_t seq, const void *p,
                     size_t n, struct pfs_err *e);

/* pfs_resume_end - close the journal; with done (the output was renamed
 * into place) remove it. */
void pfs_resume_end(struct pfs_resume *r, int done);

#endif
