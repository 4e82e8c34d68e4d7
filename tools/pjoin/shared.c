/*
 * shared.c - pjoin --into OUT and pjoin --commit OUT (pjoin.h): the parts
 * of one file restored by several hosts, each into its own byte range of
 * one file on shared storage, then checked and put in place
 * (docs/scale-out.md, "Shared storage").
 *
 * Files, all next to OUT:
 *   OUT.pfs-join    the file being restored, sized to the source at once;
 *                   every --into writes its part's bytes at their offset
 *   OUT.pfs-join.d/ one marker per part that was restored and verified to
 *                   its END: "FIRST" holding "PFSJ", u64 first byte, u64
 *                   length and the part's HEAD without its range fields
 *                   (the identity all parts of one source share); written
 *                   to a temporary name and renamed, so a marker is whole
 * --commit checks that the markers are of one source and tile [0, size)
 * exactly, then gives OUT.pfs-join the recorded mode and mtime and renames
 * it to OUT.  Until then nothing is visible under OUT.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "head.h"
#include "io.h"
#include "pjoin.h"
#include "wire.h"

#define MAGIC     "PFSJ"
#define MARK_HDR  20u              /* magic, first, length */

struct mark {
	uint64_t first, len;
	char name[NAME_MAX + 1];
};

/* paths - OUT.pfs-join into tmp, OUT.pfs-join.d into dir */
static int
paths(const char *out, char *tmp, char *dir, size_t n, struct pfs_err *e)
{
	if ((size_t)snprintf(tmp, n, "%s%s", out, PFS_JOIN_SUFFIX) >= n ||
	    (size_t)snprintf(dir, n, "%s%s.d", out, PFS_JOIN_SUFFIX) >= n)
		return pfs_seterr(e, "%s: name too long", out);
	return 0;
}

/* identity - h without its range fields, encoded, after the marker's
 * header in b */
static int
identity(const struct pfs_head *h, struct pfs_buf *b, struct pfs_err *e)
{
	struct pfs_head whole = *h;

	pfs_head_unrange(&whole);
	return pfs_head_encode(&whole, b, e);
}

/* read_mark - the marker dir/name into b (its bytes); -1 with e set */
static int
read_mark(const char *dir, const char *name, struct pfs_buf *b,
          struct pfs_err *e)
{
	char path[PATH_MAX];
	ssize_t r;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return pfs_seterr(e, "%s: name too long", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pfs_seterr(e, "%s: %s", path, strerror(errno));
	b->len = 0;
	if (pfs_buf_reserve(b, MARK_HDR + PFS_HEAD_MAX + 1) < 0) {
		close(fd);
		return pfs_seterr(e, "out of memory");
	}
	r = pfs_read_full(fd, b->p, MARK_HDR + PFS_HEAD_MAX + 1, NULL);
	close(fd);
	if (r < 0)
		return pfs_seterr(e, "%s: %s", path, strerror(errno));
	b->len = (size_t)r;
	if (b->len <= MARK_HDR || b->len > MARK_HDR + PFS_HEAD_MAX ||
	    memcmp(b->p, MAGIC, 4) != 0)
		return pfs_seterr(e, "%s: not a pjoin --into marker (damaged?)",
		                  path);
	return 0;
}

int
shared_open(const char *out, int *fd, struct pfs_err *e)
{
	char tmp[PATH_MAX], dir[PATH_MAX];

	if (paths(out, tmp, dir, sizeof(tmp), e) < 0)
		return -1;
	/* not O_EXCL: every host opens the one file */
	*fd = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0)
		return pfs_seterr(e, "%s: %s", tmp, strerror(errno));
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return pfs_seterr(e, "%s: %s", dir, strerror(errno));
	return 0;
}

int
shared_head(const char *out, int fd, const struct pfs_head *h,
            struct pfs_err *e)
{
	char tmp[PATH_MAX], dir[PATH_MAX], name[NAME_MAX + 1];
	struct pfs_buf mine = PFS_BUF_INIT, theirs = PFS_BUF_INIT;
	struct dirent *d;
	struct stat st;
	DIR *dp;
	int rc = -1;

	if (paths(out, tmp, dir, sizeof(tmp), e) < 0)
		return -1;
	if (!(h->flags & PFS_HF_SIZE))
		return pfs_seterr(e, "--into needs the source's size in HEAD "
		                  "(a part of a file, or a stream of a file)");
	if (identity(h, &mine, e) < 0)
		return -1;
	dp = opendir(dir);
	if (!dp) {
		pfs_seterr(e, "%s: %s", dir, strerror(errno));
		goto out;
	}
	while ((d = readdir(dp)) && d->d_name[0] == '.')
		;
	/* d points into dp: its name copied before closedir */
	name[0] = '\0';
	if (d)
		memcpy(name, d->d_name, strlen(d->d_name) + 1);
	closedir(dp);
	if (name[0] && read_mark(dir, name, &theirs, e) < 0)
		goto out;
	if (name[0] && (theirs.len - MARK_HDR != mine.len ||
	                memcmp(theirs.p + MARK_HDR, mine.p, mine.len) != 0)) {
		pfs_seterr(e, "%s holds parts of another source or stage stack "
		           "(%s/%s): finish or remove that join, or restore "
		           "into another OUT", tmp, dir, name);
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		pfs_seterr(e, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if ((uint64_t)st.st_size > h->size) {
		pfs_seterr(e, "%s: %jd bytes, more than the source's %" PRIu64
		           ": left from another file? remove it", tmp,
		           (intmax_t)st.st_size, h->size);
		goto out;
	}
	/* sized at once (every host to the same size), then this part's
	 * bytes at their place */
	if (((uint64_t)st.st_size < h->size &&
	     ftruncate(fd, (off_t)h->size) < 0) ||
	    lseek(fd, (off_t)h->rfirst, SEEK_SET) < 0) {
		pfs_seterr(e, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	pfs_buf_free(&mine);
	pfs_buf_free(&theirs);
	return rc;
}

int
shared_done(const char *out, int fd, const struct pfs_head *h,
            struct pfs_err *e)
{
	char tmp[PATH_MAX], dir[PATH_MAX], mk[PATH_MAX], mt[PATH_MAX];
	struct pfs_buf b = PFS_BUF_INIT;
	uint64_t first = (h->flags & PFS_HF_RANGE) ? h->rfirst : 0;
	uint64_t len = (h->flags & PFS_HF_RANGE) ? h->rlen : h->size;
	int mfd, rc = -1;

	if (paths(out, tmp, dir, sizeof(tmp), e) < 0)
		return -1;
	/* the bytes are on disk before the marker says so */
	if (fsync(fd) < 0)
		return pfs_seterr(e, "%s: write error: %s", tmp,
		                  strerror(errno));
	if ((size_t)snprintf(mk, sizeof(mk), "%s/%" PRIu64, dir, first) >=
	    sizeof(mk) ||
	    (size_t)snprintf(mt, sizeof(mt), "%s/.%" PRIu64 ".%ld", dir, first,
	                     (long)getpid()) >= sizeof(mt))
		return pfs_seterr(e, "%s: name too long", dir);
	if (pfs_buf_reserve(&b, MARK_HDR) < 0)
		return pfs_seterr(e, "out of memory");
	if (identity(h, &b, e) < 0)
		goto out;
	if (pfs_buf_reserve(&b, b.len + MARK_HDR) < 0) {
		pfs_seterr(e, "out of memory");
		goto out;
	}
	memmove(b.p + MARK_HDR, b.p, b.len);
	memcpy(b.p, MAGIC, 4);
	pfs_put64(b.p + 4, first);
	pfs_put64(b.p + 12, len);
	b.len += MARK_HDR;
	mfd = open(mt, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (mfd < 0) {
		pfs_seterr(e, "%s: %s", mt, strerror(errno));
		goto out;
	}
	if (pfs_write_full(mfd, b.p, b.len, NULL) < 0 || fsync(mfd) < 0) {
		pfs_seterr(e, "%s: write error: %s", mt, strerror(errno));
		close(mfd);
		unlink(mt);
		goto out;
	}
	if (close(mfd) < 0 || rename(mt, mk) < 0) {
		pfs_seterr(e, "%s: %s", mk, strerror(errno));
		unlink(mt);
		goto out;
	}
	rc = 0;
out:
	pfs_buf_free(&b);
	return rc;
}

static int
by_first(const void *a, const void *b)
{
	const struct mark *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* load - every marker of dir into *m (*n of them, sorted by first byte),
 * all of one source; its HEAD into h */
static int
load(const char *dir, struct mark **m, size_t *n, struct pfs_head *h,
     struct pfs_err *e)
{
	struct pfs_buf b = PFS_BUF_INIT, one = PFS_BUF_INIT;
	struct dirent *d;
	struct mark *t;
	size_t cap = 0;
	DIR *dp = opendir(dir);
	int rc = -1;

	*m = NULL;
	*n = 0;
	if (!dp)
		return pfs_seterr(e, "%s: %s", dir, strerror(errno));
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.')
			continue;
		if (read_mark(dir, d->d_name, &b, e) < 0)
			goto out;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			t = realloc(*m, cap * sizeof(**m));
			if (!t) {
				pfs_seterr(e, "out of memory");
				goto out;
			}
			*m = t;
		}
		(*m)[*n].first = pfs_get64(b.p + 4);
		(*m)[*n].len = pfs_get64(b.p + 12);
		memcpy((*m)[*n].name, d->d_name, strlen(d->d_name) + 1);
		if (*n == 0) {
			if (pfs_buf_reserve(&one, b.len) < 0) {
				pfs_seterr(e, "out of memory");
				goto out;
			}
			memcpy(one.p, b.p, b.len);
			one.len = b.len;
			if (pfs_head_decode(b.p + MARK_HDR, b.len - MARK_HDR, h,
			                    e) < 0) {
				pfs_prefix(e, d->d_name);
				goto out;
			}
		} else if (b.len != one.len || memcmp(b.p + MARK_HDR,
		           one.p + MARK_HDR, b.len - MARK_HDR) != 0) {
			pfs_seterr(e, "%s/%s: a part of another source than "
			           "%s/%s", dir, d->d_name, dir, (*m)[0].name);
			goto out;
		}
		++*n;
	}
	if (*n)
		qsort(*m, *n, sizeof(**m), by_first);
	rc = 0;
out:
	closedir(dp);
	pfs_buf_free(&b);
	pfs_buf_free(&one);
	return rc;
}

/* tiled - the parts m[0..n) cover [0, h->size) exactly */
static int
tiled(const char *out, const struct mark *m, size_t n,
      const struct pfs_head *h, struct pfs_err *e)
{
	uint64_t at = 0, cs = h->chunk_size;
	size_t i;

	for (i = 0; i <= n; i++) {
		uint64_t next = i < n ? m[i].first : h->size;

		if (next > at)
			return pfs_seterr(e, "%s: missing bytes %" PRIu64 "..%"
			                  PRIu64 " (chunks %" PRIu64 "..%" PRIu64
			                  "): a part is missing or did not "
			                  "finish; restore it with 'pjoin --into "
			                  "%s'", out, at, next - 1, at / cs,
			                  (next - 1) / cs, out);
		if (next < at)
			return pfs_seterr(e, i < n ? "%s: the parts at bytes %"
			                  PRIu64 " and %" PRIu64 " overlap (parts "
			                  "of two cuts of the file?)" :
			                  "%s: the parts end at byte %" PRIu64
			                  ", past the source's %" PRIu64, out,
			                  i < n ? m[i - 1].first : at,
			                  i < n ? m[i].first : h->size);
		if (i < n)
			at = m[i].first + m[i].len;
	}
	return 0;
}

int
shared_commit(const struct opts *o, struct pfs_err *e)
{
	static struct pfs_head h;
	char tmp[PATH_MAX], dir[PATH_MAX], path[PATH_MAX];
	struct mark *m = NULL;
	struct timespec ts[2];
	struct stat st;
	size_t n, i;
	int fd = -1, rc = -1;

	if (paths(o->commit, tmp, dir, sizeof(tmp), e) < 0)
		return -1;
	if (stat(dir, &st) < 0 && errno == ENOENT)
		return pfs_seterr(e, "%s: no part was restored into it (run "
		                  "'pjoin --into %s' for each part first)",
		                  o->commit, o->commit);
	if (load(dir, &m, &n, &h, e) < 0)
		goto out;
	if (!n) {
		pfs_seterr(e, "%s: no part has finished ('pjoin --into %s' "
		           "writes a part's marker when it is verified)",
		           o->commit, o->commit);
		goto out;
	}
	if (tiled(o->commit, m, n, &h, e) < 0)
		goto out;
	fd = open(tmp, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0) {
		pfs_seterr(e, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if ((uint64_t)st.st_size != h.size) {
		pfs_seterr(e, "%s: %jd bytes, but the source has %" PRIu64,
		           tmp, (intmax_t)st.st_size, h.size);
		goto out;
	}
	if (!o->force && lstat(o->commit, &st) == 0) {
		pfs_seterr(e, "%s: file exists (use -f to replace it)",
		           o->commit);
		goto out;
	}
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = (time_t)h.mtime_sec;
	ts[1].tv_nsec = (long)h.mtime_nsec;
	if (fchmod(fd, (mode_t)out_mode(o, &h)) < 0 ||
	    ((h.flags & PFS_HF_META) && futimens(fd, ts) < 0) ||
	    fsync(fd) < 0) {
		pfs_seterr(e, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) < 0 || rename(tmp, o->commit) < 0) {
		fd = -1;
		pfs_seterr(e, "%s: %s", o->commit, strerror(errno));
		goto out;
	}
	fd = -1;
	/* in place: the markers have served */
	for (i = 0; i < n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		                     m[i].name) < sizeof(path))
			(void)unlink(path);
	}
	(void)rmdir(dir);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(m);
	return rc;
}
