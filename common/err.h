/*
 * err.h - error messages and reporting.
 *
 * common/ never prints and never exits (cli.c, the command-line side, is
 * the one exception; see cli.h): a function that fails fills a struct
 * pfs_err with a one-line message (lowercase, no final period, the object
 * first where there is one) and returns -1.  The tool decides what to do
 * (remove partial output, then report with pfs_die(), cli.h).
 *
 * Exit statuses, for every program: 0 success, 1 error, 2 bad usage.
 */
#ifndef PFS_ERR_H
#define PFS_ERR_H

#include <stdarg.h>
#include <signal.h>

#define PFS_EXIT_OK     0
#define PFS_EXIT_ERR    1
#define PFS_EXIT_USAGE  2

struct pfs_err {
	char msg[512];
};

/* pfs_seterr - set e->msg from a format; returns -1 so callers can
 * `return pfs_seterr(e, ...)`.  e may be NULL. */
int pfs_seterr(struct pfs_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* pfs_prefix - prepend "prefix: " to e->msg (e.g. the input name). */
void pfs_prefix(struct pfs_err *e, const char *prefix);

/* The program name for messages; set once by pfs_setprog() from argv[0],
 * the first call of every program, which also makes sure that fds 0-2
 * are open (pfs_proc_std_fds, proc.h). */
extern const char *pfs_prog;
void pfs_setprog(const char *argv0);

/* Quiet mode (-q): pfs_warn() (cli.h) prints nothing. */
extern int pfs_quiet;

/* Set by pfs_catch_signals()'s handler on SIGINT/SIGTERM/SIGHUP; the I/O
 * helpers turn an EINTR into an error once it is set. */
extern volatile sig_atomic_t pfs_interrupted;

#endif
