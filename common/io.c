#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "stats.h"
#include "trace.h"

void
pfs_blocked_add(uint64_t *blocked_ns, uint64_t t0, int out)
{
	uint64_t t1;
	int saved;

	if (!blocked_ns)
		return;
	t1 = pfs_now_ns();
	*blocked_ns += t1 - t0;
	if (pfs_trace_on) {
		saved = errno;
		pfs_trace_blocked(out, t0, t1);
		errno = saved;
	}
}

static int
interrupted(void)
{
	if (pfs_interrupted) {
		errno = EINTR;
		return 1;
	}
	return 0;
}

ssize_t
pfs_read_full(int fd, void *p, size_t n, uint64_t *blocked_ns)
{
	size_t got = 0;
	uint64_t t0 = blocked_ns ? pfs_now_ns() : 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, (char *)p + got, n - got);
		if (r < 0) {
			if (errno == EINTR && !interrupted())
				continue;
			got = 0;
			goto fail;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	pfs_blocked_add(blocked_ns, t0, 0);
	return (ssize_t)got;
fail:
	pfs_blocked_add(blocked_ns, t0, 0);
	return -1;
}

int
pfs_write_full(int fd, const void *p, size_t n, uint64_t *blocked_ns)
{
	struct iovec iov;

	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = n;
	return pfs_writev_full(fd, &iov, 1, blocked_ns);
}

int
pfs_writev_full(int fd, struct iovec *iov, int cnt, uint64_t *blocked_ns)
{
	uint64_t t0 = blocked_ns ? pfs_now_ns() : 0;
	ssize_t w;
	int rc = 0;

	while (cnt > 0 && iov->iov_len == 0) {
		iov++;
		cnt--;
	}
	while (cnt > 0) {
		w = writev(fd, iov, cnt > IOV_MAX ? IOV_MAX : cnt);
		if (w < 0) {
			if (errno == EINTR && !interrupted())
				continue;
			rc = -1;
			break;
		}
		if (w == 0) {
			errno = EIO;
			rc = -1;
			break;
		}
		while (cnt > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	pfs_blocked_add(blocked_ns, t0, 1);
	return rc;
}

void
pfs_pipe_grow(int fd)
{
#ifdef F_SETPIPE_SZ
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
		(void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);
#else
	(void)fd;
#endif
}

int
pfs_open_input(const char *path, const char **name, struct pfs_err *e)
{
	struct stat st;
	int fd;

	if (!path || strcmp(path, "-") == 0) {
		*name = "stdin";
		fd = 0;
	} else {
		*name = path;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return pfs_seterr(e, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		pfs_seterr(e, "%s: %s", *name, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		pfs_seterr(e, "%s: is a directory", *name);
		goto fail;
	}
	return fd;
fail:
	if (fd != 0)
		close(fd);
	return -1;
}

int
pfs_open_stream(const char *path, const char **name, struct pfs_err *e)
{
	int fd = pfs_open_input(path, name, e);

	if (fd >= 0 && pfs_refuse_tty_input(fd, *name, e) < 0) {
		if (fd != 0)
			close(fd);
		return -1;
	}
	return fd;
}

int
pfs_refuse_same(int in_fd, int out_fd, const char *name, struct pfs_err *e)
{
	struct stat a, b;

	if (fstat(in_fd, &a) == 0 && fstat(out_fd, &b) == 0 &&
	    S_ISREG(a.st_mode) && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return pfs_seterr(e, "%s: input and output are the same file",
		                  name);
	return 0;
}

int
pfs_refuse_tty(int fd, int force, struct pfs_err *e)
{
	if (!force && isatty(fd))
		return pfs_seterr(e, "refusing to write a binary stream to a "
		                  "terminal (redirect the output or use -f)");
	return 0;
}

int
pfs_refuse_tty_input(int fd, const char *name, struct pfs_err *e)
{
	if (isatty(fd))
		return pfs_seterr(e, "%s: is a terminal; expected a frame "
		                  "stream (pipe one in or name a file)", name);
	return 0;
}

static char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

int
pfs_outfile_open(struct pfs_outfile *o, const char *path, int force,
                 int in_fd, struct pfs_err *e)
{
	struct stat st, ist;
	const char *slash, *base;
	size_t dlen;

	o->path = NULL;
	o->tmp = NULL;
	o->fd = -1;
	o->keep = 0;
	if (!*path)
		return pfs_seterr(e, "output file name is empty");
	if (stat(path, &st) == 0) {
		if (in_fd >= 0 && fstat(in_fd, &ist) == 0 &&
		    st.st_dev == ist.st_dev && st.st_ino == ist.st_ino)
			return pfs_seterr(e, "%s: refusing to overwrite the "
			                  "input file", path);
		if (S_ISDIR(st.st_mode))
			return pfs_seterr(e, "%s: is a directory", path);
		if (!S_ISREG(st.st_mode)) {
			/* a device or fifo: write to it directly */
			o->fd = open(path, O_WRONLY | O_CLOEXEC);
			if (o->fd < 0)
				return pfs_seterr(e, "%s: %s", path,
				                  strerror(errno));
			o->path = xstrdup(path);
			if (!o->path) {
				close(o->fd);
				o->fd = -1;
				return pfs_seterr(e, "out of memory");
			}
			return 0;
		}
		if (!force)
			return pfs_seterr(e, "%s: file exists (use -f to "
			                  "overwrite it)", path);
	} else if (errno != ENOENT) {
		return pfs_seterr(e, "%s: %s", path, strerror(errno));
	}
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	dlen = slash ? (size_t)(slash - path) + 1 : 0;
	o->path = xstrdup(path);
	o->tmp = malloc(dlen + strlen(base) + 16);
	if (!o->path || !o->tmp) {
		free(o->path);
		free(o->tmp);
		o->path = o->tmp = NULL;
		return pfs_seterr(e, "out of memory");
	}
	memcpy(o->tmp, path, dlen);
	sprintf(o->tmp + dlen, ".%s.XXXXXX", base);
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	if (o->fd < 0) {
		pfs_seterr(e, "%s: cannot create a temporary file next to it: %s",
		           path, strerror(errno));
		free(o->path);
		free(o->tmp);
		o->path = o->tmp = NULL;
		return -1;
	}
	return 0;
}

int
pfs_outfile_commit(struct pfs_outfile *o, int mode, int64_t mtime_sec,
                   uint32_t mtime_nsec, struct pfs_err *e)
{
	struct timespec ts[2];
	int rc = 0;

	if (o->tmp) {
		if (mode >= 0 && fchmod(o->fd, (mode_t)mode & 07777) < 0)
			rc = pfs_seterr(e, "%s: %s", o->path, strerror(errno));
		if (rc == 0 && mtime_sec >= 0) {
			ts[0].tv_sec = 0;
			ts[0].tv_nsec = UTIME_OMIT;
			ts[1].tv_sec = (time_t)mtime_sec;
			ts[1].tv_nsec = mtime_nsec;
			if (futimens(o->fd, ts) < 0)
				rc = pfs_seterr(e, "%s: %s", o->path,
				                strerror(errno));
		}
	}
	if (close(o->fd) < 0 && rc == 0)
		rc = pfs_seterr(e, "%s: %s", o->path, strerror(errno));
	o->fd = -1;
	if (o->tmp) {
		if (rc == 0 && rename(o->tmp, o->path) < 0)
			rc = pfs_seterr(e, "%s: %s", o->path, strerror(errno));
		if (rc < 0)
			unlink(o->tmp);
	}
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
	return rc;
}

void
pfs_outfile_abort(struct pfs_outfile *o)
{
	if (o->fd >= 0)
		close(o->fd);
	if (o->tmp && !o->keep)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
	o->fd = -1;
}

int
pfs_outfile_open_part(struct pfs_outfile *o, const char *path, int force,
                      int in_fd, struct pfs_err *e)
{
	struct stat st;

	if (pfs_outfile_open(o, path, force, in_fd, e) < 0)
		return -1;
	if (!o->tmp) {
		pfs_outfile_abort(o);
		return pfs_seterr(e, "%s: not a regular file: --resume needs "
		                  "one", path);
	}
	close(o->fd);
	unlink(o->tmp);
	free(o->tmp);
	o->tmp = malloc(strlen(path) + sizeof(PFS_PART_SUFFIX));
	if (!o->tmp) {
		o->fd = -1;
		pfs_outfile_abort(o);
		return pfs_seterr(e, "out of memory");
	}
	sprintf(o->tmp, "%s%s", path, PFS_PART_SUFFIX);
	o->keep = 1;
	o->fd = open(o->tmp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (o->fd < 0 || fstat(o->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		pfs_seterr(e, "%s: %s", o->tmp,
		           o->fd < 0 ? strerror(errno) : "not a regular file");
		pfs_outfile_abort(o);
		return -1;
	}
	return 0;
}

int
pfs_pread_full(int fd, void *p, size_t n, uint64_t off)
{
	size_t got = 0;
	ssize_t k;

	while (got < n) {
		k = pread(fd, (uint8_t *)p + got, n - got, (off_t)(off + got));
		if (k < 0 && errno == EINTR && !pfs_interrupted)
			continue;
		if (k == 0)
			errno = 0;
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	return 0;
}

int
pfs_read_small(const char *path, int dash, uint8_t *buf, size_t cap,
               size_t *n, unsigned *mode, struct pfs_err *e)
{
	struct stat st;
	ssize_t r;
	int in = dash && strcmp(path, "-") == 0;
	int fd = in ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	int rc = -1;

	*n = 0;
	*mode = 0;
	if (fd < 0)
		return pfs_seterr(e, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		pfs_seterr(e, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		pfs_seterr(e, "%s: is a directory", path);
		goto out;
	}
	if (S_ISREG(st.st_mode))
		*mode = (unsigned)st.st_mode;
	r = pfs_read_full(fd, buf, cap, NULL);
	if (r < 0) {
		pfs_seterr(e, "%s: %s", path, strerror(errno));
		goto out;
	}
	*n = (size_t)r;
	rc = 0;
out:
	if (!in)
		close(fd);
	return rc;
}
