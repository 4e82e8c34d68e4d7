#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

void
pfs_proc_std_fds(void)
{
	int fd, n;

	/* in order: open() takes the lowest free descriptor, which is fd */
	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		n = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
		if (n >= 0 && n != fd) {
			(void)dup2(n, fd);
			(void)close(n);
		}
	}
}

void
pfs_proc_self_dir(char *out, size_t n)
{
	ssize_t len;
	char *slash;

	len = readlink("/proc/self/exe", out, n - 1);
	out[len > 0 ? len : 0] = '\0';
	slash = strrchr(out, '/');
	if (slash)
		*slash = '\0';
}

static int
executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

int
pfs_proc_find(const char *dir, const char *name, char *out, size_t n)
{
	const char *path = getenv("PATH"), *d, *end;

	if (dir && *dir) {
		snprintf(out, n, "%s/%s", dir, name);
		if (executable(out))
			return 0;
	}
	for (d = path ? path : "/usr/bin:/bin"; ; d = end + 1) {
		end = strchr(d, ':');
		if (!end)
			end = d + strlen(d);
		snprintf(out, n, "%.*s%s%s", (int)(end - d), d,
		         end > d ? "/" : "", name);
		if (executable(out))
			return 0;
		if (!*end)
			return -1;
	}
}

void
pfs_chain_init(struct pfs_chain *c, struct pfs_proc *procs, unsigned n)
{
	unsigned i;

	memset(c, 0, sizeof(*c));
	c->procs = procs;
	c->n = n;
	c->in_fd = c->out_fd = -1;
	for (i = 0; i < n; i++) {
		procs[i].pid = 0;
		procs[i].reaped = procs[i].status = procs[i].exec_errno = 0;
		procs[i].errfd = procs[i].keep_fd = -1;
		procs[i].linelen = 0;
	}
}

static int
cloexec_pipe(int fd[2])
{
	if (pipe(fd) < 0)
		return -1;
	(void)fcntl(fd[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(fd[1], F_SETFD, FD_CLOEXEC);
	return 0;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
	*fd = -1;
}

/* child - in the forked child: wire fds 0-2, let keep_fd through the exec,
 * exec; on failure send errno up the close-on-exec pipe status and exit
 * 127 (no stdio: we forked) */
static _Noreturn void
child(const struct pfs_proc *p, int in, int out, int err, int status)
{
	int saved;

	if ((in >= 0 && dup2(in, 0) < 0) || (out >= 0 && dup2(out, 1) < 0) ||
	    (err >= 0 && dup2(err, 2) < 0) ||
	    (p->keep_fd >= 0 && fcntl(p->keep_fd, F_SETFD, 0) < 0))
		_exit(127);
	signal(SIGPIPE, SIG_DFL);
	execv(p->path, (char *const *)(uintptr_t)p->argv);
	saved = errno;
	(void)!write(status, &saved, sizeof(saved));
	_exit(127);
}

/* start - fork process p; its exec's errno (if any) into p->exec_errno */
static int
start(struct pfs_proc *p, int in, int out, int err)
{
	int st[2], code;
	ssize_t r;

	if (cloexec_pipe(st) < 0)
		return -1;
	p->pid = fork();
	if (p->pid < 0) {
		code = errno;
		p->pid = 0;
		close_fd(&st[0]);
		close_fd(&st[1]);
		errno = code;
		return -1;
	}
	if (p->pid == 0)
		child(p, in, out, err, st[1]);
	close_fd(&st[1]);
	/* end of file: the exec succeeded and closed the pipe */
	do
		r = read(st[0], &code, sizeof(code));
	while (r < 0 && errno == EINTR);
	if (r == (ssize_t)sizeof(code))
		p->exec_errno = code;
	close_fd(&st[0]);
	return 0;
}

int
pfs_chain_spawn(struct pfs_chain *c, struct pfs_err *e)
{
	int in = c->in_fd, pp[2] = { -1, -1 }, ep[2] = { -1, -1 }, out, rc = -1;
	unsigned i;

	for (i = 0; i < c->n; i++) {
		struct pfs_proc *p = &c->procs[i];

		out = c->out_fd;
		if (i + 1 < c->n) {
			if (cloexec_pipe(pp) < 0)
				goto out;
			out = pp[1];
		}
		if (c->capture_stderr && cloexec_pipe(ep) < 0)
			goto out;
		if (start(p, in, out, ep[1]) < 0)
			goto out;
		c->started = i + 1;
		if (in != c->in_fd)
			close_fd(&in);
		close_fd(&pp[1]);
		close_fd(&ep[1]);
		in = pp[0];
		pp[0] = -1;
		p->errfd = ep[0];
		ep[0] = -1;
	}
	rc = 0;
out:
	if (rc < 0)
		pfs_seterr(e, "%s", strerror(errno));
	if (in != c->in_fd)
		close_fd(&in);
	close_fd(&pp[0]);
	close_fd(&pp[1]);
	close_fd(&ep[0]);
	close_fd(&ep[1]);
	return rc;
}

void
pfs_chain_terminate(struct pfs_chain *c)
{
	unsigned i;

	if (c->killed)
		return;
	c->killed = 1;
	for (i = 0; i < c->n; i++)
		if (c->procs[i].pid > 0 && !c->procs[i].reaped)
			(void)kill(c->procs[i].pid, SIGTERM);
}

struct sink {
	void (*line)(void *, unsigned, const char *, size_t);
	void *arg;
};

/* hand on the first len bytes of p->line */
static void
emit(const struct sink *k, unsigned i, struct pfs_proc *p, size_t len)
{
	k->line(k->arg, i, p->line, len);
	memmove(p->line, p->line + len, p->linelen - len);
	p->linelen -= len;
}

static void
take(const struct sink *k, unsigned i, struct pfs_proc *p)
{
	ssize_t r;
	char *nl;

	r = read(p->errfd, p->line + p->linelen, sizeof(p->line) - p->linelen);
	if (r < 0 && errno == EINTR)
		return;
	if (r <= 0) {
		if (p->linelen)
			emit(k, i, p, p->linelen);
		close_fd(&p->errfd);
		return;
	}
	p->linelen += (size_t)r;
	while ((nl = memchr(p->line, '\n', p->linelen)) != NULL)
		emit(k, i, p, (size_t)(nl - p->line) + 1);
	/* a progress redraw ("\r...", no newline) is handed on at once */
	if (p->linelen == sizeof(p->line) ||
	    (p->linelen && p->line[0] == '\r'))
		emit(k, i, p, p->linelen);
}

void
pfs_chain_drain(struct pfs_chain *c,
                void (*line)(void *arg, unsigned i, const char *s, size_t len),
                void *arg)
{
	const struct sink k = { line, arg };
	struct pollfd *pfd;
	unsigned *idx, i, n;

	if (!c->capture_stderr || c->n == 0)
		return;
	pfd = calloc(c->n, sizeof(*pfd));
	idx = calloc(c->n, sizeof(*idx));
	for (; pfd && idx;) {
		for (i = n = 0; i < c->n; i++)
			if (c->procs[i].errfd >= 0) {
				pfd[n].fd = c->procs[i].errfd;
				pfd[n].events = POLLIN;
				idx[n++] = i;
			}
		if (n == 0)
			break;
		if (poll(pfd, n, -1) < 0) {
			if (errno != EINTR)
				break;
			if (pfs_interrupted)
				pfs_chain_terminate(c);
			continue;
		}
		for (i = 0; i < n; i++)
			if (pfd[i].revents)
				take(&k, idx[i], &c->procs[idx[i]]);
	}
	for (i = 0; i < c->n; i++)
		close_fd(&c->procs[i].errfd);
	free(pfd);
	free(idx);
}

void
pfs_chain_wait(struct pfs_chain *c)
{
	unsigned i;

	for (i = 0; i < c->n; i++) {
		struct pfs_proc *p = &c->procs[i];

		if (p->pid <= 0 || p->reaped)
			continue;
		while (waitpid(p->pid, &p->status, 0) < 0) {
			if (errno != EINTR) {
				p->status = 127 << 8;
				break;
			}
			if (pfs_interrupted)
				pfs_chain_terminate(c);
		}
		p->reaped = 1;
	}
}

int
pfs_proc_failed(const struct pfs_proc *p)
{
	return p->reaped && p->status != 0;
}

int
pfs_chain_root(const struct pfs_chain *c)
{
	int first = -1;
	unsigned i;

	for (i = 0; i < c->n; i++) {
		int st = c->procs[i].status;

		if (!pfs_proc_failed(&c->procs[i]))
			continue;
		if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE))
			return (int)i;
		if (first < 0)
			first = (int)i;
	}
	return first;
}

void
pfs_proc_why(int status, char *out, size_t n)
{
	if (WIFSIGNALED(status))
		snprintf(out, n, "killed by signal %d (%s)", WTERMSIG(status),
		         strsignal(WTERMSIG(status)));
	else
		snprintf(out, n, "failed with exit status %d",
		         WEXITSTATUS(status));
}
