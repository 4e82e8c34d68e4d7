/*
 * step.h - one stage of a pipeline as a command line: the program, the
 * words that name it in messages (the program and its mode, "pcompress
 * -d"), its arguments, where the program was found, and what it wrote to
 * standard error (stagelog.h).  pfs_steps_chain() turns a list of them
 * into a struct pfs_chain (proc.h) to run.
 *
 * Invariants and ownership:
 *  - struct pfs_step is plain storage owned by the caller; all zero, then
 *    pfs_step_init(), is a fresh step.  The argument strings are not
 *    copied: they must outlive the step's run (pfs_chain_spawn()).
 *  - argv[0..argc) are the words as written; argv[argc] is NULL.  At most
 *    PFS_STEP_ARGS words.  argv[0..nlabel) name it in messages.
 *  - av is what runs (or what --dry-run prints): with perf_out set, "perf
 *    record -g -o PERF_OUT --" comes first (pfs_step_argv()).
 *  - Nothing here prints or exits.
 */
#ifndef PFS_STEP_H
#define PFS_STEP_H

#include <limits.h>
#include <stddef.h>

#include "err.h"
#include "proc.h"
#include "stagelog.h"

#define PFS_STEP_ARGS     64
#define PFS_STEP_PERFARGS 6      /* perf record -g -o FILE -- */
#define PFS_STEP_AV       (PFS_STEP_ARGS + PFS_STEP_PERFARGS + 1)

struct pfs_step {
	const char *argv[PFS_STEP_ARGS + 1];
	int argc;
	int nlabel;                  /* argv[0..nlabel) names it in messages */
	char path[PATH_MAX];         /* the program found for argv[0] */
	char perf_out[PATH_MAX];     /* --perf: its data file, or "" */
	const char *av[PFS_STEP_AV]; /* what runs (pfs_step_argv) */
	struct pfs_stagelog log;     /* what it wrote to stderr */
};

/* pfs_step_init - s runs NAME [MODE] (mode may be NULL); both name it in
 * messages.  s must be all zero. */
void pfs_step_init(struct pfs_step *s, const char *name, const char *mode);

/* pfs_step_add - append a1 and, unless NULL, a2.  Returns 0, or -1 (and
 * nothing added) when two more words would pass PFS_STEP_ARGS. */
int pfs_step_add(struct pfs_step *s, const char *a1, const char *a2);

/* pfs_step_label - "NAME" or "NAME MODE" into out[n], for messages. */
void pfs_step_label(const struct pfs_step *s, char *out, size_t n);

/* pfs_step_argv - the argv to run (or print) into av[PFS_STEP_AV],
 * NULL-terminated: with perf_out set, "perf record -g -o PERF_OUT --"
 * first, and then (when resolved) the program's found path instead of
 * its name. */
void pfs_step_argv(const struct pfs_step *s, const char **av, int resolved);

/* pfs_steps_resolve - find the program of each of the n steps, first next
 * to the running program, then in $PATH (pfs_proc_find); with perf_dir,
 * find perf in $PATH into perf[perfn] and make perf_dir if missing.
 * Returns 0, or -1 with e naming the first step not found ("stage 2
 * (pcompress -d): pcompress: not found next to pipeline or in PATH"). */
int pfs_steps_resolve(struct pfs_step *s, unsigned n, const char *perf_dir,
                      char *perf, size_t perfn, struct pfs_err *e);

/* pfs_steps_chain - c runs the n resolved steps as procs[0..n) (perf, when
 * not "", runs each one), reading in_fd and writing out_fd (-1: ours),
 * every stderr captured (pfs_chain_drain feeds each step's log).  The
 * steps, procs and perf must outlive the chain. */
void pfs_steps_chain(struct pfs_step *s, unsigned n, struct pfs_proc *procs,
                     const char *perf, int in_fd, int out_fd,
                     struct pfs_chain *c);

#endif
