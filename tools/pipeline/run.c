/*
 * run.c - one FILE's pipeline (pipeline.h): --dry-run prints it; else the
 * stages are started joined by pipes, their stderr read (progress passed
 * on, messages kept), all of them waited for, the cause of a failure
 * reported in one line, and the output committed or removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "feed.h"
#include "files.h"
#include "io.h"
#include "pipeline.h"
#include "proc.h"
#include "stagelog.h"
#include "stats.h"
#include "step.h"
#include "util.h"

int sigpipe_seen;                /* a stage died of SIGPIPE on our stdout */

/* the feeder child's read error */
static void
feed_fail(const struct pfs_err *e)
{
	pfs_error("%s", e->msg);
}

static void
print_word(const char *w)
{
	const char *q;

	if (*w && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                    "0123456789_@%+=:,./-") == strlen(w)) {
		fputs(w, stdout);
		return;
	}
	putchar('\'');
	for (q = w; *q; q++)
		if (*q == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*q);
	putchar('\'');
}

/* dry_run - the pipeline of one FILE on stdout as a shell command line;
 * -1 when stdout cannot be written (said once: "stdout: reason").  The
 * directories --output-dir-mirror would make (files.h) are not made but
 * printed: "mkdir -p DIR && " first. */
static int
dry_run(const struct opts *o, const struct pipeline *p, const char *out)
{
	static int reported;
	const char *av[PFS_STEP_AV];
	char dir[sizeof(p->outbuf)];
	unsigned i;
	int k;

	if (o->mirror && out && strcmp(out, "-") != 0 &&
	    pfs_mirror_path(o->input) && strrchr(out, '/')) {
		snprintf(dir, sizeof(dir), "%.*s",
		         (int)(strrchr(out, '/') - out), out);
		fputs(dir[0] == '-' ? "mkdir -p -- " : "mkdir -p ", stdout);
		print_word(dir);
		fputs(" && ", stdout);
	}
	for (i = 0; i < p->n; i++) {
		pfs_step_argv(&p->s[i], av, 0);
		for (k = 0; av[k]; k++) {
			if (k)
				putchar(' ');
			print_word(av[k]);
		}
		fputs(i + 1 < p->n ? " | " : "", stdout);
	}
	if (o->cmd->cmd == C_PROCESS && strcmp(out, "-") != 0) {
		/* --resume: what the stages write, which pipeline then
		 * renames to out, or joins to the partial output (cont.c) */
		fputs(" > ", stdout);
		if (p->cont.active)
			print_word(p->cont.tail);
		else if (o->resume) {
			snprintf(dir, sizeof(dir), "%s%s", out,
			         PFS_PART_SUFFIX);
			print_word(dir);
		} else
			print_word(out);
	}
	if (o->rm && strcmp(o->input, "-") != 0) {
		fputs(o->input[0] == '-' ? " && rm -- " : " && rm ", stdout);
		print_word(o->input);
	}
	putchar('\n');
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	if (errno == EPIPE)
		pfs_die_of_sigpipe();
	if (!reported)          /* once, not again for each FILE */
		pfs_error("stdout: write error: %s", strerror(errno ? errno : EIO));
	reported = 1;
	return -1;
}

/* end_progress - a progress line left open on the terminal is ended
 * before anything else is written to stderr */
static void
end_progress(struct pipeline *p)
{
	if (p->drawn)
		(void)fputc('\n', stderr);
	p->drawn = 0;
}

/* show_progress - a progress redraw of stage i ("\rPROG: LABEL  ...") on
 * our stderr; verify's pjoin names its output, /dev/null: the stream's
 * name instead (p->progress_name) */
static void
show_progress(const struct pipeline *p, unsigned i, const char *line,
              size_t len)
{
	static const char null[] = ": /dev/null  ";
	static int tty = -1;
	const char *prog = p->s[i].argv[0];
	size_t plen = strlen(prog), skip = 1 + plen + sizeof(null) - 1, nl;

	if (tty < 0)
		tty = isatty(2);
	if (p->progress_name && len > skip && memcmp(line + 1, prog, plen) == 0 &&
	    memcmp(line + 1 + plen, null, sizeof(null) - 1) == 0) {
		(void)fprintf(stderr, "\r%s: %s  ", prog, p->progress_name);
		line += skip;
		len -= skip;
	}
	/* the stage draws into a pipe, so without erasing to the end of
	 * the line (progress.c): on a terminal, that is done here */
	nl = len > 0 && line[len - 1] == '\n';
	(void)fwrite(line, 1, len - nl, stderr);
	if (tty)
		fputs("\033[K", stderr);
	if (nl)
		fputc('\n', stderr);
}

/* on_line - a line a stage wrote to stderr: its stats line is kept, a
 * progress redraw ("\r...") goes to our stderr at once, anything else is
 * kept until we know whether the stage failed on its own (report) */
static void
on_line(void *arg, unsigned i, const char *line, size_t len)
{
	struct pipeline *p = arg;

	if (pfs_stagelog_add(&p->s[i].log, line, len, p->drawn) ==
	    PFS_LINE_PROGRESS) {
		show_progress(p, i, line, len);
		p->drawn = line[len - 1] != '\n';
	}
}

/* stdout_skip - the length of a leading "PROG: stdout: " of line l (n
 * bytes) with more after it, else 0 */
static size_t
stdout_skip(const char *prog, const char *l, size_t n)
{
	static const char out[] = ": stdout: ";
	size_t plen = strlen(prog);

	return n > plen + sizeof(out) - 1 && memcmp(l, prog, plen) == 0 &&
	       memcmp(l + plen, out, sizeof(out) - 1) == 0 ?
	       plen + sizeof(out) - 1 : 0;
}

/* show_msg - what stage i wrote to stderr.  A stage after the first reads
 * the stream of FILE from a pipe and calls it "stdin": its messages are
 * given FILE's name instead ("pencrypt: stdin: wrong key" becomes
 * "pencrypt: f.pfs: wrong key").  The last stage of process writes the
 * output file as its stdout: "stdout" becomes that file's name
 * ("phash: stdout: write error" becomes "phash: f.pfs: write error"). */
static void
show_msg(struct pipeline *p, unsigned i)
{
	struct pfs_step *s = &p->s[i];
	const char *l;
	size_t off, n, skip;
	int named = (i > 0 || p->piped) && strcmp(p->input, "-") != 0;

	if (!s->log.msglen)
		return;
	end_progress(p);
	for (off = 0; (n = pfs_stagelog_line(&s->log, off, named ?
	     s->argv[0] : NULL, &skip)) > 0; off += n) {
		l = s->log.msg + off;
		if (skip)
			fprintf(stderr, "%s: %s: ", s->argv[0], p->input);
		else if (i + 1 == p->n && p->out_name &&
		         (skip = stdout_skip(s->argv[0], l, n)) > 0)
			fprintf(stderr, "%s: %s: ", s->argv[0], p->out_name);
		(void)fwrite(l + skip, 1, n - skip, stderr);
		if (l[n - 1] != '\n')
			(void)fputc('\n', stderr);
	}
	if (s->log.msglost)
		pfs_error("stage %u (%s): more messages not shown", i + 1,
		          s->argv[0]);
}

/* exec_errors - the stages whose program could not be executed */
static void
exec_errors(struct pipeline *p)
{
	unsigned i;

	for (i = 0; i < p->chain.started; i++)
		if (p->procs[i].exec_errno) {
			end_progress(p);
			pfs_error("%s: cannot run: %s", p->procs[i].path,
			          strerror(p->procs[i].exec_errno));
		}
}

/* print_stats - the per-stage table, the bottleneck marked (stats.h) */
static void
print_stats(const struct opts *o, const struct pipeline *p)
{
	char lab[MAXSTAGES][128];
	const char *labs[MAXSTAGES], *json[MAXSTAGES];
	unsigned i;

	for (i = 0; i < p->n; i++) {
		pfs_step_label(&p->s[i], lab[i], sizeof(lab[i]));
		labs[i] = lab[i];
		json[i] = p->s[i].log.json;
	}
	pfs_stats_table(o->input, labs, json, p->n, p->stats);
}

static int
died_of(int status, int sig)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == sig;
}

/* report - one cause, one line: the messages of the stage that most
 * likely failed on its own (pfs_chain_root), or one line naming it when it
 * printed nothing (killed by a signal, say); nothing from the stages that
 * failed because it did.  Warnings of the stages that succeeded are shown
 * too.  0 if none failed, -1 if one did, 1 if the only failures are
 * SIGPIPE from our standard output's reader going away (silent). */
static int
report(struct pipeline *p)
{
	int root = pfs_chain_root(&p->chain);
	char lab[128], why[128];
	unsigned i;

	if (root >= 0 && died_of(p->procs[root].status, SIGPIPE) &&
	    p->to_stdout)
		return 1;
	for (i = 0; i < p->n; i++)
		if (!pfs_proc_failed(&p->procs[i]))
			show_msg(p, i);
	if (root < 0)
		return 0;
	show_msg(p, (unsigned)root);
	if (!p->s[root].log.msglen || WIFSIGNALED(p->procs[root].status)) {
		end_progress(p);
		pfs_step_label(&p->s[root], lab, sizeof(lab));
		pfs_proc_why(p->procs[root].status, why, sizeof(why));
		pfs_error("stage %d (%s) %s", root + 1, lab, why);
	}
	return -1;
}

/* process: the output file (a temporary renamed later; with --resume
 * OUT.pfs-part, or the tail of a continued one: cont.c) or stdout */
static int
open_output(const struct opts *o, struct pipeline *p, const char *out,
            struct pfs_outfile *of, int *mode, struct pfs_err *e)
{
	struct stat st;
	const char *name;
	int in, rc;

	if (strcmp(out, "-") == 0)
		return pfs_refuse_tty(1, o->force, e) < 0 ? -1 : 0;
	/* a FILE that is not a regular file (a FIFO, a device) is never
	 * opened here: opening a FIFO and closing it unread would end its
	 * writer's stream (SIGPIPE) and leave pchunk waiting for another;
	 * only a regular file can be the output too */
	in = -1;
	if (strcmp(o->input, "-") != 0 && stat(o->input, &st) < 0)
		return pfs_seterr(e, "%s: %s", o->input, strerror(errno));
	if (strcmp(o->input, "-") == 0 || S_ISREG(st.st_mode)) {
		in = pfs_open_input(o->input, &name, e);
		if (in < 0)
			return -1;
	}
	/* the source's mode, as zstd gives it; from a pipe, the umask's */
	if (in >= 0 && fstat(in, &st) == 0 && S_ISREG(st.st_mode)) {
		*mode = (int)(st.st_mode & 07777);
	} else {
		mode_t mask = umask(0);

		(void)umask(mask);
		*mode = 0666 & ~(int)mask;
	}
	if (p->cont.active) {
		of->path = of->tmp = NULL;
		of->keep = 0;
		of->fd = open(p->cont.tail, O_WRONLY | O_CREAT | O_TRUNC |
		              O_CLOEXEC, 0600);
		rc = of->fd < 0 ? pfs_seterr(e, "%s: %s", p->cont.tail,
		                             strerror(errno)) : 0;
	} else if (o->resume) {
		rc = pfs_outfile_open_part(of, out, o->force, in, e);
	} else {
		rc = pfs_outfile_open(of, out, o->force, in, e);
	}
	if (in > 0)
		(void)close(in);
	return rc < 0 ? -1 : 1;
}

/* want_progress - --progress, or by default when stderr is a terminal;
 * never with -q, --stats, or a password to type */
static int
want_progress(const struct opts *o)
{
	if (o->progress >= 0)
		return o->progress;
	if (pfs_quiet || o->c.stats || !isatty(2))
		return 0;
	return !(o->cmd->cmd == C_PROCESS && o->encrypt && !o->key_opt &&
	         !o->nrcp);
}

/* pipe_input - restore, verify: a FILE that is a FIFO is opened once and
 * made our fd 0 for this run (the old one kept in p->saved_stdin), and
 * read as standard input is: its HEAD read here, then fed to the first
 * stage again.  Opening it twice (to read the HEAD, then in the first
 * stage) would lose what the first read took. */
static int
pipe_input(const struct opts *o, struct pipeline *p, struct pfs_err *e)
{
	struct stat st;
	int fd;

	if (strcmp(o->input, "-") == 0 || stat(o->input, &st) < 0 ||
	    !S_ISFIFO(st.st_mode))
		return 0;            /* a missing FILE: said when opened */
	fd = open(o->input, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pfs_seterr(e, "%s: %s", o->input, strerror(errno));
	p->saved_stdin = fcntl(0, F_DUPFD_CLOEXEC, 3);
	if (p->saved_stdin < 0 || dup2(fd, 0) < 0) {
		pfs_seterr(e, "%s: %s", o->input, strerror(errno));
		(void)close(fd);
		return -1;
	}
	(void)close(fd);
	p->piped = 1;
	return 0;
}

/* heading - FILE as the heading before its output names it: "stdin" for
 * "-", else on one line (pfs_text_esc, as pinfo shows a name) */
static const char *
heading(const char *file, char *buf, size_t n)
{
	if (strcmp(file, "-") == 0)
		return "stdin";
	pfs_text_esc(file, 1, buf, n);
	return buf;
}

/* info_heading - info with several FILEs (or -r): each pinfo output comes
 * after a "FILE:" line, with a blank line before the next, as ls does for
 * several directories.  0; -1 when standard output is closed (sigpipe_seen
 * set) or failed (e set); 1 when it failed for an earlier FILE, which was
 * reported then */
static int
info_heading(const struct opts *o, struct pfs_err *e)
{
	static int shown, reported;
	char name[4 * PATH_MAX];

	if (o->nfiles < 2 && !o->recursive)
		return 0;
	if (printf("%s%s:\n", shown++ ? "\n" : "",
	           heading(o->input, name, sizeof(name))) < 0 ||
	    fflush(stdout) == EOF) {
		if (errno == EPIPE) {
			sigpipe_seen = 1;
			return -1;
		}
		if (reported++)         /* once, not again for each FILE */
			return 1;
		return pfs_seterr(e, "stdout: write error: %s",
		                  strerror(errno));
	}
	return 0;
}

/* run_one - the whole pipeline for one FILE (o->input).  0 on success,
 * -1 when it failed (reported), 1 when stdout's reader went away. */
int
run_one(struct opts *o, struct pipeline *p)
{
	struct pfs_outfile of;
	struct pfs_err e;
	const char *out = NULL;
	char name[4 * PATH_MAX];
	unsigned i;
	int rc = -1, have_of = 0, mode = -1, failed = 0, out_fd = -1;
	int progress = want_progress(o);

	memset(p, 0, sizeof(*p));
	p->stats = o->c.stats;
	p->in_fd = -1;
	p->saved_stdin = -1;
	p->input = o->input;
	if (o->cmd->cmd != C_PROCESS && o->cmd->cmd != C_INFO && !o->dry_run &&
	    pipe_input(o, p, &e) < 0)
		goto fail;
	if (o->cmd->cmd == C_PROCESS) {
		if (process_name(o, p, &out, &e) < 0)
			goto fail;
		if (o->resume && strcmp(out, "-") == 0) {
			pfs_seterr(&e, "--resume continues an output file: not "
			           "with standard output");
			goto fail;
		}
		if (o->resume && cont_begin(o, p, out, &e) < 0)
			goto fail;
		build_process(o, p, progress);
	} else if (o->cmd->cmd == C_INFO) {
		build_info(o, p);
		p->to_stdout = 1;
	} else if (build_restore(o, p, progress, &out, &e) < 0) {
		goto fail;
	}
	for (i = 0; o->perf_dir && i < p->n; i++)
		snprintf(p->s[i].perf_out, PATH_MAX, "%s/%02u-%s.data",
		         o->perf_dir, i + 1, p->s[i].argv[0]);
	if (o->dry_run) {
		rc = dry_run(o, p, out);
		goto done;
	}
	if (pfs_steps_resolve(p->s, p->n, o->perf_dir, p->perf, sizeof(p->perf),
	                      &e) < 0)
		goto fail;
	/* asked (once) before anything is started or created */
	if (password_pass(o, p, out, &e) < 0)
		goto fail;
	if (p->feed.len && pfs_feed_start(&p->feed, feed_fail, &p->in_fd,
	                                  &e) < 0)
		goto fail;
	/* the last step that can fail before the stages run */
	if (o->cmd->cmd == C_PROCESS) {
		have_of = open_output(o, p, out, &of, &mode, &e);
		if (have_of < 0)
			goto fail;
		if (have_of) {
			out_fd = of.fd;
			p->out_name = out;
		}
	}
	if (o->cmd->cmd == C_INFO && (rc = info_heading(o, &e)) != 0) {
		if (sigpipe_seen)
			goto done;
		if (rc > 0) {           /* reported before */
			rc = -1;
			goto done;
		}
		goto fail;
	}
	/* stage i runs as process i; every stderr is ours to read
	 * (on_line), so that only the cause of a failure is shown */
	pfs_steps_chain(p->s, p->n, p->procs, p->perf, p->in_fd, out_fd,
	                &p->chain);
	for (i = 0; i < p->nopen; i++)
		p->procs[p->ask[i]].keep_fd = p->askfd[i];
	if (pfs_chain_spawn(&p->chain, &e) < 0) {
		i = p->chain.started;
		pfs_error("cannot start stage %u (%s): %s", i + 1,
		          p->s[i].argv[0], e.msg);
		pfs_chain_terminate(&p->chain);
		failed = 1;
	}
	if (p->in_fd >= 0)
		(void)close(p->in_fd);
	password_close(p);
	exec_errors(p);
	pfs_chain_drain(&p->chain, on_line, p);
	pfs_chain_wait(&p->chain);
	trace_collect(p);
	pfs_feed_wait(&p->feed);
	end_progress(p);
	if (pfs_interrupted) {
		failed = 1;     /* we ended the stages: no report */
	} else if (!failed) {
		rc = report(p);
		failed = rc != 0;
		if (rc > 0)
			sigpipe_seen = 1;
	}
	if (p->stats) {
		/* several FILEs: each table names its FILE */
		if (p->stats != PFS_STATS_JSON && (o->nfiles > 1 ||
		    o->recursive))
			(void)fprintf(stderr, "%s:\n", heading(o->input,
			              name, sizeof(name)));
		print_stats(o, p);
	}
	if (have_of && p->cont.active) {
		(void)close(of.fd);
		if (!failed && cont_finish(o, p, out, mode, &e) < 0) {
			pfs_error("%s", e.msg);
			failed = 1;
		}
		(void)unlink(p->cont.tail);
	} else if (have_of) {
		if (failed) {
			pfs_outfile_abort(&of);
		} else if (pfs_outfile_commit(&of, mode, -1, 0, &e) < 0) {
			pfs_error("%s", e.msg);
			failed = 1;
		}
	}
	if (!failed && o->rm && strcmp(o->input, "-") != 0 &&
	    o->cmd->cmd != C_VERIFY && unlink(o->input) < 0) {
		pfs_error("%s: cannot remove: %s", o->input, strerror(errno));
		failed = 1;
	}
	rc = failed ? -1 : 0;
	goto done;
fail:
	if (!pfs_interrupted)   /* a read cut short by the signal: main
	                         * dies of it, without a message */
		pfs_error("%s", e.msg);
done:
	free(p->cont.off);
	p->cont.off = NULL;
	password_close(p);
	pfs_feed_free(&p->feed);
	if (p->saved_stdin >= 0) {
		(void)dup2(p->saved_stdin, 0);
		(void)close(p->saved_stdin);
		p->saved_stdin = -1;
	}
	return sigpipe_seen ? 1 : rc;
}
