#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "io.h"
#include "resume.h"
#include "wire.h"

/* journal: header "PFSRSM01", u32 chunk size, u32 0, 16-byte stream id;
 * then one 32-byte record per chunk: u64 index, u64 raw length, the
 * XXH3-128 of its bytes (canonical, big-endian) */
#define MAGIC    "PFSRSM01"
#define JHDR     32u
#define JREC     32u
#define STEP     (1u << 20)

/* stream_id - what names the stream: its HEAD without the range fields
 * (a resumed restore reads a range of the same stream) */
static int
stream_id(const struct pfs_head *h, uint8_t id[16], struct pfs_err *e)
{
	struct pfs_head *whole = malloc(sizeof(*whole));  /* too big for
	                                                     * the stack */
	struct pfs_buf b = PFS_BUF_INIT;
	XXH128_canonical_t c;
	int rc;

	if (!whole)
		return pfs_seterr(e, "out of memory");
	*whole = *h;
	pfs_head_unrange(whole);
	rc = pfs_head_encode(whole, &b, e);
	free(whole);
	if (rc < 0)
		return -1;
	XXH128_canonicalFromHash(&c, XXH3_128bits(b.p, b.len));
	memcpy(id, c.digest, 16);
	pfs_buf_free(&b);
	return 0;
}

/* chunk_ok - the n bytes at off of fd hash to want */
static int
chunk_ok(int fd, uint64_t off, uint64_t n, const uint8_t want[16],
         uint8_t *buf, XXH3_state_t *st)
{
	XXH128_canonical_t c;
	size_t k;

	XXH3_128bits_reset(st);
	for (; n; n -= k, off += k) {
		k = n < STEP ? (size_t)n : STEP;
		if (pfs_pread_full(fd, buf, k, off) < 0)
			return 0;
		XXH3_128bits_update(st, buf, k);
	}
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(st));
	return memcmp(c.digest, want, 16) == 0;
}

/* check - the good chunks of the partial output pfd by the journal jfd
 * (-1: none).  id: the stream's, or NULL to skip that test. */
static int
check(int pfd, int jfd, const uint8_t *id, const char *jpath,
      struct pfs_resume *r, struct pfs_err *e)
{
	uint8_t hb[JHDR], rec[JREC], *buf;
	XXH3_state_t *st;
	uint64_t i, raw;

	r->chunks = r->bytes = 0;
	r->complete = 0;
	if (jfd < 0 || pfs_pread_full(jfd, hb, JHDR, 0) < 0)
		return 0;            /* no journal yet: nothing is kept */
	if (memcmp(hb, MAGIC, 8) != 0 || pfs_get32(hb + 12) != 0)
		return pfs_seterr(e, "%s: not a restore journal: remove it to "
		                  "start over", jpath);
	if (id && memcmp(hb + 16, id, 16) != 0)
		return pfs_seterr(e, "%s: the partial output is of another "
		                  "stream: remove it (and %.*s) to start over",
		                  jpath, (int)(strlen(jpath) -
		                  strlen(PFS_SUMS_SUFFIX)), jpath);
	r->chunk_size = pfs_get32(hb + 8);
	buf = malloc(STEP);
	st = XXH3_createState();
	if (!buf || !st) {
		free(buf);
		XXH3_freeState(st);
		return pfs_seterr(e, "out of memory");
	}
	for (i = 0; !r->complete &&
	     pfs_pread_full(jfd, rec, JREC, JHDR + i * JREC) == 0; i++) {
		raw = pfs_get64(rec + 8);
		if (pfs_get64(rec) != i || raw == 0 || raw > r->chunk_size ||
		    !chunk_ok(pfd, r->bytes, raw, rec + 16, buf, st))
			break;
		r->chunks++;
		r->bytes += raw;
		r->complete = raw < r->chunk_size;
	}
	free(buf);
	XXH3_freeState(st);
	return 0;
}

static char *
cat(const char *a, const char *b, const char *c)
{
	char *p = malloc(strlen(a) + strlen(b) + strlen(c) + 1);

	if (p)
		sprintf(p, "%s%s%s", a, b, c);
	return p;
}

static int
probe(const char *target, const uint8_t *id, uint64_t *bytes, int *complete,
      struct pfs_err *e)
{
	char *part = cat(target, PFS_PART_SUFFIX, "");
	char *jpath = cat(target, PFS_PART_SUFFIX, PFS_SUMS_SUFFIX);
	struct pfs_resume r;
	int pfd = -1, jfd = -1, rc = -1;

	*bytes = 0;
	*complete = 0;
	if (!part || !jpath) {
		pfs_seterr(e, "out of memory");
		goto out;
	}
	pfd = open(part, O_RDONLY | O_CLOEXEC);
	jfd = open(jpath, O_RDONLY | O_CLOEXEC);
	rc = 0;
	if (pfd >= 0 && jfd >= 0) {
		rc = check(pfd, jfd, id, jpath, &r, e);
		*bytes = r.bytes;
		*complete = r.complete;
	}
out:
	if (pfd >= 0)
		close(pfd);
	if (jfd >= 0)
		close(jfd);
	free(part);
	free(jpath);
	return rc;
}

int
pfs_resume_probe(const char *target, uint64_t *bytes, int *complete,
                 struct pfs_err *e)
{
	return probe(target, NULL, bytes, complete, e);
}

int
pfs_resume_probe_head(const char *target, const struct pfs_head *h,
                      uint64_t *bytes, int *complete, struct pfs_err *e)
{
	uint8_t id[16];

	if (stream_id(h, id, e) < 0)
		return -1;
	return probe(target, id, bytes, complete, e);
}

int
pfs_resume_begin(struct pfs_resume *r, const char *target, int part_fd,
                 const struct pfs_head *h, struct pfs_err *e)
{
	uint8_t id[16], hb[JHDR];

	memset(r, 0, sizeof(*r));
	r->jfd = -1;
	r->jpath = cat(target, PFS_PART_SUFFIX, PFS_SUMS_SUFFIX);
	if (!r->jpath)
		return pfs_seterr(e, "out of memory");
	if (stream_id(h, id, e) < 0)
		return -1;
	r->jfd = open(r->jpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	              0600);
	if (r->jfd < 0)
		return pfs_seterr(e, "%s: %s", r->jpath, strerror(errno));
	/* the id covers the chunk size (it is in HEAD) */
	if (check(part_fd, r->jfd, id, r->jpath, r, e) < 0)
		return -1;
	r->chunk_size = h->chunk_size;
	memcpy(hb, MAGIC, 8);
	pfs_put32(hb + 8, r->chunk_size);
	pfs_put32(hb + 12, 0);
	memcpy(hb + 16, id, 16);
	if (ftruncate(part_fd, (off_t)r->bytes) < 0 ||
	    lseek(part_fd, (off_t)r->bytes, SEEK_SET) < 0 ||
	    ftruncate(r->jfd, (off_t)(JHDR + r->chunks * JREC)) < 0 ||
	    pwrite(r->jfd, hb, JHDR, 0) != (ssize_t)JHDR ||
	    lseek(r->jfd, (off_t)(JHDR + r->chunks * JREC), SEEK_SET) < 0)
		return pfs_seterr(e, "%s: %s", r->jpath, strerror(errno));
	return 0;
}

int
pfs_resume_chunk(struct pfs_resume *r, uint64_t seq, const void *p,
                 size_t n, struct pfs_err *e)
{
	uint8_t rec[JREC];
	XXH128_canonical_t c;

	pfs_put64(rec, seq);
	pfs_put64(rec + 8, n);
	XXH128_canonicalFromHash(&c, XXH3_128bits(p, n));
	memcpy(rec + 16, c.digest, 16);
	if (pfs_write_full(r->jfd, rec, sizeof(rec), NULL) < 0)
		return pfs_seterr(e, "%s: write error: %s", r->jpath,
		                  strerror(errno));
	return 0;
}

void
pfs_resume_end(struct pfs_resume *r, int done)
{
	if (r->jfd >= 0)
		close(r->jfd);
	if (done && r->jpath)
		unlink(r->jpath);
	free(r->jpath);
	r->jpath = NULL;
	r->jfd = -1;
}
