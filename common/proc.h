/*
 * proc.h - a chain of child processes joined by pipes, as a shell runs
 * "a | b | c": find each program, start them all, read what they write to
 * standard error, wait for all of them, end the rest after a signal, and
 * tell which one most likely failed first.
 *
 * Invariants and ownership:
 *  - struct pfs_chain and its procs array belong to the caller; the path
 *    and argv strings must stay valid until pfs_chain_spawn() returns.
 *  - Process i reads what process i-1 writes.  The first reads in_fd and
 *    the last writes out_fd (-1: the caller's own stdin / stdout).  The
 *    caller keeps its own in_fd and out_fd; every pipe this module makes is
 *    close-on-exec, and the caller is left holding none of them but the
 *    errfd of each process (capture_stderr), which pfs_chain_drain() closes.
 *    A process inherits no other descriptor of the caller's that is
 *    close-on-exec, except its keep_fd: that one it inherits under the same
 *    number (the caller closes it after pfs_chain_spawn()).
 *  - pid 0 means "not started".  A started process is reaped once, by
 *    pfs_chain_wait(); after that status holds its waitpid(2) status.
 *  - The children get SIGPIPE back at its default action, so a stage whose
 *    reader died ends quietly, as in a shell pipeline.
 *  - Nothing here prints or exits (in the parent): a program that cannot be
 *    executed exits with status 127 in the child, and exec_errno tells the
 *    caller why, to report as it likes.
 *  - Signals: the waits end early only for pfs_interrupted (err.h); then
 *    every process still running gets one SIGTERM (pfs_chain_terminate) and
 *    the wait goes on, so that no child is left unreaped.
 */
#ifndef PFS_PROC_H
#define PFS_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

#define PFS_PROC_LINE_MAX 4096   /* longest stderr line handed on whole */

struct pfs_proc {
	const char *path;            /* the file executed */
	const char *const *argv;     /* NULL-terminated; argv[0] as it sees it */
	pid_t pid;                   /* 0: not started */
	int reaped, status;          /* status: from waitpid(2), once reaped */
	int exec_errno;              /* not 0: execv(path) failed with it */
	int errfd;                   /* capture_stderr: our end, else -1 */
	int keep_fd;                 /* -1, or a close-on-exec descriptor of
	                                ours this process alone inherits */
	char line[PFS_PROC_LINE_MAX];   /* partial stderr line (drain) */
	size_t linelen;
};

struct pfs_chain {
	struct pfs_proc *procs;
	unsigned n;
	int in_fd, out_fd;           /* -1: the caller's stdin / stdout */
	int capture_stderr;          /* 1: each stderr is a pipe to errfd */
	unsigned started;            /* processes started by spawn */
	int killed;                  /* SIGTERM was sent */
};

/* pfs_proc_std_fds - make sure fds 0, 1 and 2 are open, so that no file
 * or pipe opened later lands on them: a closed one is put on /dev/null
 * the wrong way round (0 write-only, 1 and 2 read-only), so that using it
 * still fails with EBADF ("stdout: write error: Bad file descriptor", as
 * cat says) instead of losing the output.  pfs_setprog() calls it: the
 * first thing every program does. */
void pfs_proc_std_fds(void);

/* pfs_proc_self_dir - the directory of the running program
 * (/proc/self/exe) into out, or "" when it is not known. */
void pfs_proc_self_dir(char *out, size_t n);

/* pfs_proc_find - the executable regular file NAME: first in dir (unless
 * dir is NULL or ""), then in each directory of $PATH (/usr/bin:/bin when
 * unset; an empty entry is the current directory).  Returns 0 with its
 * path in out[n], or -1 when there is none. */
int pfs_proc_find(const char *dir, const char *name, char *out, size_t n);

/* pfs_chain_init - a chain of the n processes procs (path and argv set by
 * the caller), stdin and stdout inherited, no stderr capture, no keep_fd. */
void pfs_chain_init(struct pfs_chain *c, struct pfs_proc *procs, unsigned n);

/* pfs_chain_spawn - start every process of c, in order.  Returns 0, or -1
 * with e set to the reason (strerror of fork(2) or pipe(2)) when process
 * c->started could not be started; the ones before it keep running: call
 * pfs_chain_terminate(), then drain and wait as usual.  A process whose
 * execv(2) failed counts as started (see exec_errno). */
int pfs_chain_spawn(struct pfs_chain *c, struct pfs_err *e);

/* pfs_chain_terminate - send SIGTERM to every started process not yet
 * reaped; only the first call does anything. */
void pfs_chain_terminate(struct pfs_chain *c);

/* pfs_chain_drain - with capture_stderr: read every process's stderr until
 * all are closed, calling line(arg, i, s, len) for each complete line of
 * process i (len includes the '\n'), for what was read of a line that
 * starts with '\r' (a progress redraw, progress.h), for a line that fills
 * PFS_PROC_LINE_MAX bytes, and for the rest at end of file.  Closes each
 * errfd.  Without capture_stderr it returns at once.  If its poll set
 * (n entries) cannot be allocated, the pipes are closed unread: the
 * children then get EPIPE or SIGPIPE on stderr. */
void pfs_chain_drain(struct pfs_chain *c,
                     void (*line)(void *arg, unsigned i, const char *s,
                                  size_t len),
                     void *arg);

/* pfs_chain_wait - reap every started process (status 127 << 8 if
 * waitpid(2) fails for another reason than EINTR). */
void pfs_chain_wait(struct pfs_chain *c);

/* pfs_chain_root - after pfs_chain_wait(): the index of the failed process
 * that most likely failed on its own -- the earliest not killed by SIGPIPE,
 * else the earliest that failed -- or -1 when every one exited with 0. */
int pfs_chain_root(const struct pfs_chain *c);

/* pfs_proc_failed - 1 if p was reaped with a status other than 0. */
int pfs_proc_failed(const struct pfs_proc *p);

/* pfs_proc_why - "failed with exit status 3" or "killed by signal 9
 * (Killed)": the waitpid(2) status of a process that failed, in words. */
void pfs_proc_why(int status, char *out, size_t n);

#endif
