#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "feed.h"
#include "io.h"

#define HEADMAX    (1u << 20)    /* largest HEAD payload read from a pipe */

int
pfs_feed_head(struct pfs_feed *f, struct pfs_reader *r, struct pfs_head *h,
              int *tmp_fd, struct pfs_err *e)
{
	struct stat st;
	off_t pos = -1;
	FILE *tmp;
	uint32_t len;
	ssize_t n;
	int fd;

	if (pfs_refuse_tty_input(0, "stdin", e) < 0)
		return -1;
	if (fstat(0, &st) == 0 && S_ISREG(st.st_mode))
		pos = lseek(0, 0, SEEK_CUR);
	if (pos >= 0) {
		pfs_reader_init(r, 0, "stdin");
		if (pfs_reader_start(r, h, e) < 0)
			return -1;
		if (lseek(0, pos, SEEK_SET) < 0)
			return pfs_seterr(e, "stdin: %s", strerror(errno));
		return 0;
	}
	f->pre = malloc(PFS_SIG_LEN + PFS_HDR_LEN + HEADMAX);
	if (!f->pre)
		return pfs_seterr(e, "out of memory");
	n = pfs_read_full(0, f->pre, PFS_SIG_LEN + PFS_HDR_LEN, NULL);
	if (n < 0)
		return pfs_seterr(e, "stdin: %s", strerror(errno));
	f->len = (size_t)n;
	if (f->len == PFS_SIG_LEN + PFS_HDR_LEN) {
		/* the payload length: bytes 4-7 of the header, little-endian */
		len = (uint32_t)f->pre[PFS_SIG_LEN + 4] |
		      (uint32_t)f->pre[PFS_SIG_LEN + 5] << 8 |
		      (uint32_t)f->pre[PFS_SIG_LEN + 6] << 16 |
		      (uint32_t)f->pre[PFS_SIG_LEN + 7] << 24;
		n = pfs_read_full(0, f->pre + f->len,
		                  len < HEADMAX ? len : HEADMAX, NULL);
		if (n < 0)
			return pfs_seterr(e, "stdin: %s", strerror(errno));
		f->len += (size_t)n;
	}
	tmp = tmpfile();
	if (!tmp)
		return pfs_seterr(e, "temporary file: %s", strerror(errno));
	fd = dup(fileno(tmp));
	(void)fclose(tmp);
	if (fd < 0 || pfs_write_full(fd, f->pre, f->len, NULL) < 0 ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		pfs_seterr(e, "temporary file: %s", strerror(errno));
		if (fd >= 0)
			(void)close(fd);
		return -1;
	}
	pfs_reader_init(r, fd, "stdin");
	*tmp_fd = fd;
	return pfs_reader_start(r, h, e);
}

int
pfs_feed_start(struct pfs_feed *f, void (*fail)(const struct pfs_err *e),
               int *in_fd, struct pfs_err *e)
{
	static uint8_t buf[65536];
	struct pfs_err ce;
	int fds[2];
	ssize_t n;

	if (pipe(fds) < 0)
		return pfs_seterr(e, "pipe: %s", strerror(errno));
	f->pid = fork();
	if (f->pid < 0) {
		f->pid = 0;
		(void)close(fds[0]);
		(void)close(fds[1]);
		return pfs_seterr(e, "fork: %s", strerror(errno));
	}
	if (f->pid == 0) {
		(void)signal(SIGPIPE, SIG_DFL);
		(void)close(fds[0]);
		if (pfs_write_full(fds[1], f->pre, f->len, NULL) < 0)
			_exit(errno == EPIPE ? 0 : 1);
		while ((n = read(0, buf, sizeof(buf))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				pfs_seterr(&ce, "stdin: %s", strerror(errno));
				fail(&ce);
				_exit(1);
			}
			if (pfs_write_full(fds[1], buf, (size_t)n, NULL) < 0)
				_exit(errno == EPIPE ? 0 : 1);
		}
		_exit(0);
	}
	(void)close(fds[1]);
	(void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	*in_fd = fds[0];
	return 0;
}

void
pfs_feed_wait(struct pfs_feed *f)
{
	int st;

	if (f->pid > 0) {
		/* the stages are gone, so nothing reads what it would feed:
		 * blocked on an idle writer (or after an interruption), it
		 * would keep us waiting */
		if (waitpid(f->pid, &st, WNOHANG) == 0)
			(void)kill(f->pid, SIGKILL);
		while (waitpid(f->pid, &st, 0) < 0 && errno == EINTR)
			;
		f->pid = 0;
	}
}

void
pfs_feed_free(struct pfs_feed *f)
{
	free(f->pre);
	f->pre = NULL;
	f->len = 0;
}
