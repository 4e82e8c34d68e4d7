/*
 * pipeline - run the pfs programs as one pipeline: fork the real filters
 * joined by pipes, wait for all of them and report the one that failed;
 * with --stats, a per-stage table with the bottleneck marked.  Takes any
 * number of FILEs (or directories with -r), each to its own output, as
 * zstd does; no FILE or '-' is standard input.
 *
 * This file is main and the operands; the options, the stages and the
 * run of one FILE are in tools/pipeline/ (pipeline.h names the parts).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "files.h"
#include "pipeline/pipeline.h"
#include "proc.h"

struct walk_arg {
	struct opts *o;
	struct pipeline *p;
};

/* -r: pfs_walk()'s callbacks; process takes every regular file but
 * NAME.pfs, restore and verify only NAME.pfs.  The .pfs files process
 * leaves out are outputs (of an earlier run, say), left out silently: a
 * FILE operand NAME.pfs is warned about (operand) */
static int
walk_file(void *arg, const char *path)
{
	struct walk_arg *w = arg;

	if ((w->o->cmd->cmd == C_PROCESS) == pfs_has_pfs_suffix(path))
		return 0;
	w->o->input = path;
	return run_one(w->o, w->p) < 0;
}

static void
walk_error(void *arg, const char *name, int errnum)
{
	(void)arg;
	if (name)
		pfs_error("%s: %s", name, strerror(errnum));
	else
		pfs_error("out of memory");
}

static int
walk_stop(void *arg)
{
	(void)arg;
	return sigpipe_seen || pfs_interrupted || password_given_up();
}

/* one operand: a file, '-', or (with -r) a directory */
static int
operand(struct opts *o, struct pipeline *p, const char *f)
{
	struct stat st;

	o->input = f;
	if (strcmp(f, "-") != 0 && stat(f, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (o->recursive) {
			struct walk_arg wa = { o, p };
			const struct pfs_walker w = {
				walk_file, walk_error, walk_stop, &wa
			};

			return pfs_walk(f, &w);
		}
		pfs_error("%s: is a directory (use -r)", f);
		return 1;
	}
	if (o->cmd->cmd == C_PROCESS && pfs_has_pfs_suffix(f)) {
		pfs_warn("%s: already has the .pfs suffix -- skipped", f);
		return 0;
	}
	return run_one(o, p) < 0;
}

/* check_outdir - --output-dir-flat DIR must be a directory already: said
 * once, not as a temporary-file error for every FILE (--output-dir-mirror
 * makes its directories) */
static void
check_outdir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		pfs_die(PFS_EXIT_ERR, "--output-dir-flat %s: %s (make it first)",
		        dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		pfs_die(PFS_EXIT_ERR, "--output-dir-flat %s: not a directory",
		        dir);
}

int
main(int argc, char **argv)
{
	static char dash[] = "-";
	static char *stdin_only[] = { dash, NULL };
	struct opts o;
	struct pipeline *p;
	struct pfs_err e;
	int i, bad = 0;

	pfs_setprog(argv[0]);       /* fds 0-2 made sure of, too */
	parse(argc, argv, &o);
	check_keys(&o);
	if (o.outdir && !o.mirror && !o.dry_run)
		check_outdir(o.outdir);
	if (o.nfiles == 0) {
		o.files = stdin_only;
		o.nfiles = 1;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		pfs_die(PFS_EXIT_ERR, "out of memory");
	if (!o.dry_run) {
		if (o.c.stats && setenv("PFS_STATS", "json", 1) < 0)
			pfs_die(PFS_EXIT_ERR, "setenv: %s", strerror(errno));
		if (trace_begin(&o, &e) < 0)
			pfs_die(PFS_EXIT_ERR, "%s", e.msg);
		pfs_catch_signals();
	}
	for (i = 0; i < o.nfiles && !sigpipe_seen && !pfs_interrupted &&
	     !password_given_up(); i++)
		bad += operand(&o, p, o.files[i]);
	free(p);
	password_forget();
	if (trace_end(pfs_interrupted) < 0)
		bad++;
	if (pfs_interrupted)
		pfs_reraise();
	if (sigpipe_seen) {
		/* as zstd -dc | head: die of SIGPIPE too */
		(void)signal(SIGPIPE, SIG_DFL);
		(void)raise(SIGPIPE);
		return PFS_EXIT_ERR;
	}
	return bad ? PFS_EXIT_ERR : PFS_EXIT_OK;
}
