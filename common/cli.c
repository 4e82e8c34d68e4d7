#include <errno.h>
/*
 * cli.c - the command-line side shared by every program (cli.h): the one
 * file of common/ that prints to the user and exits.
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "digest.h"
#include "engine.h"
#include "secret.h"
#include "stats.h"
#include "trace.h"
#include "util.h"

void
pfs_common_init(struct pfs_common *c, unsigned threads_max)
{
	const char *t = getenv("PFS_TRACE");

	c->stats = pfs_stats_env();
	c->trace = NULL;
	c->trace_dir = t && *t ? t : NULL;
	c->threads_max = threads_max;
	pfs_parse_threads("0", threads_max, &c->threads, NULL);
}

int
pfs_common_opt(struct pfs_common *c, int opt, const char *arg)
{
	struct pfs_err e;
	int m;

	switch (opt) {
	case PFS_OPT_STATS:
		m = pfs_stats_parse(arg);
		if (m < 0)
			pfs_usage_error("--stats: unknown format '%s' "
			                "(use --stats or --stats=json)", arg);
		c->stats = m;
		return 1;
	case PFS_OPT_TRACE:
		if (!*arg)
			pfs_usage_error("--trace: empty file name");
		c->trace = arg;
		return 1;
	case 'q':
		pfs_quiet = 1;
		return 1;
	case 'V':
		pfs_version();
	case 'T':
		if (pfs_parse_threads(arg, c->threads_max, &c->threads, &e) < 0)
			pfs_usage_error("-T: %s", e.msg);
		c->threads_set = 1;
		return 1;
	case PFS_OPT_RANGE:
		if (pfs_parse_range(arg, &c->range_off, &c->range_len, &e) < 0)
			pfs_usage_error("--range: %s", e.msg);
		c->range = 1;
		return 1;
	default:
		return 0;
	}
}

void
pfs_opt_output(const char **out, const char *arg)
{
	if (*out && strcmp(*out, arg) != 0)
		pfs_usage_error("-o %s, then -o %s: one output FILE", *out, arg);
	*out = arg;
}

const char *
pfs_one_input(int argc, char **argv, int optind_)
{
	if (argc - optind_ > 1)
		pfs_usage_error("too many arguments (one input at most)");
	return optind_ < argc ? argv[optind_] : NULL;
}

/* the shared options' --help lines (cli.h); text: the description, its
 * lines separated by '\n'; opt NULL: text is whole lines, printed as
 * they are */
static const struct {
	unsigned what;
	const char *opt, *text;
} help_lines[] = {
	{ PFS_HELP_THREADS, "-T, --threads N",
	  "worker threads (default: number of CPUs)" },
	{ PFS_HELP_QUIET, "-q, --quiet", "no warnings" },
	{ PFS_HELP_RANGE, NULL,
	  "      --range OFF:LEN  read only the chunks holding LEN bytes from source\n"
	  "                     byte OFF (OFF: for the rest) of a stream FILE, found\n"
	  "                     through its index, as a range stream" },
	{ PFS_HELP_STATS, "    --stats[=json]",
	  "print statistics to stderr at exit (also PFS_STATS=1)" },
	{ PFS_HELP_TRACE, "    --trace FILE",
	  "write a timeline of the run to FILE (Chrome trace\n"
	  "JSON; also PFS_TRACE=DIR, see docs/profiling.md)" },
	{ PFS_HELP_HELP, "-h, --help", "show this help" },
	{ PFS_HELP_VERSION, "-V, --version", "show the version" },
};

void
pfs_help_common(int col, unsigned what)
{
	const char *t, *nl;
	size_t i;
	int n;

	for (i = 0; i < sizeof(help_lines) / sizeof(help_lines[0]); i++) {
		if (!(what & help_lines[i].what))
			continue;
		if (!help_lines[i].opt) {
			printf("%s\n", help_lines[i].text);
			continue;
		}
		n = 2 + (int)strlen(help_lines[i].opt);
		printf("  %s%*s", help_lines[i].opt, n < col ? col - n : 1, "");
		for (t = help_lines[i].text; (nl = strchr(t, '\n')); t = nl + 1)
			printf("%.*s\n%*s", (int)(nl - t), t, col, "");
		printf("%s\n", t);
	}
}

void
pfs_stdout_done(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		exit(PFS_EXIT_OK);
	if (errno == EPIPE)
		pfs_die_of_sigpipe();
	pfs_die(PFS_EXIT_ERR, "stdout: write error: %s", strerror(errno ? errno : EIO));
}

void
pfs_version(void)
{
	printf("%s (pfs) %s\n", pfs_prog, PFS_VERSION_STRING);
	pfs_stdout_done();
}

static void vmsg(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* vmsg - "prog: message" and a newline, in one write.  A control byte in the message (a
 * file name holding a newline, say) is shown escaped, as pinfo shows such
 * a name (pfs_text_esc): a message stays one line */
static void
vmsg(const char *fmt, va_list ap)
{
	char msg[1024], line[4 * sizeof(msg) + 64];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = (size_t)snprintf(line, sizeof(line) - 1, "%s: ", pfs_prog);
	pfs_text_esc(msg, 0, line + n, sizeof(line) - n - 1);
	strcat(line, "\n");
	fputs(line, stderr);        /* one write: stages share a stderr */
}

void
pfs_warn(const char *fmt, ...)
{
	va_list ap;

	if (pfs_quiet)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void
pfs_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

int
pfs_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	return PFS_EXIT_ERR;
}

void
pfs_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(status);
}

void
pfs_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", pfs_prog);
	exit(PFS_EXIT_USAGE);
}

void
pfs_usage_try(void)
{
	fprintf(stderr, "Try '%s --help' for more information.\n", pfs_prog);
	exit(PFS_EXIT_USAGE);
}

/* --- secrets --- */

struct pfs_secret *
pfs_cli_secret(const struct pfs_keyopt *k, int tty, int confirm,
               struct pfs_err *e)
{
	struct pfs_secret *s;
	struct pfs_err w;

	if (pfs_secret_nodump(&w) < 0)
		pfs_warn("warning: %s", w.msg);
	if (pfs_crypto_init(e) < 0)
		return NULL;
	if (pfs_secmem_locked() == 0)
		pfs_warn("warning: secure memory is not locked (mlock failed): "
		         "keys and passwords may be swapped to disk; allow "
		         "locking 64 KiB ('ulimit -l')");
	s = pfs_secret_new(e);
	if (!s)
		return NULL;
	if (k && pfs_secret_load(s, k, tty, confirm, &w, e) < 0) {
		pfs_secret_free(s);
		return NULL;
	}
	if (k && w.msg[0])
		pfs_warn("warning: %s", w.msg);
	return s;
}

static volatile sig_atomic_t caught_signo;

static void
on_signal(int signo)
{
	caught_signo = signo;
	pfs_interrupted = 1;
}

void
pfs_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;          /* no SA_RESTART: blocked reads return */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void
trace_end(void)
{
	struct pfs_err e;

	if (pfs_trace_close(&e) == 0)
		return;
	fflush(NULL);
	pfs_error("--trace: %s", e.msg);
	_exit(PFS_EXIT_ERR);         /* exit() again from atexit is undefined */
}

void
pfs_common_trace(const struct pfs_common *c)
{
	struct pfs_err e;

	if (c->trace) {
		if (pfs_trace_open(c->trace, &e) < 0)
			pfs_die(PFS_EXIT_ERR, "--trace: %s", e.msg);
	} else if (c->trace_dir) {
		if (pfs_trace_open_dir(c->trace_dir, &e) < 0)
			pfs_die(PFS_EXIT_ERR, "PFS_TRACE: %s", e.msg);
	} else {
		return;
	}
	if (atexit(trace_end) != 0) {
		(void)pfs_trace_close(&e);
		pfs_die(PFS_EXIT_ERR, "--trace: cannot register the end of "
		        "the trace");
	}
}

void
pfs_reraise(void)
{
	int signo = caught_signo ? caught_signo : SIGTERM;
	struct pfs_err e;

	(void)pfs_trace_close(&e);   /* dying anyway: a trace cut short */

	signal(signo, SIG_DFL);
	raise(signo);
	_exit(128 + signo);
}

void
pfs_die_of_sigpipe(void)
{
	sigset_t pipe;
	struct pfs_err e;

	if (pfs_trace_on)
		(void)pfs_trace_close(&e);   /* dying: the trace ends first */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	signal(SIGPIPE, SIG_DFL);
	pthread_sigmask(SIG_UNBLOCK, &pipe, NULL);  /* engine threads block it */
	raise(SIGPIPE);
	_exit(128 + SIGPIPE);
}


void
pfs_common_cfg(const struct pfs_common *c, struct pfs_engine_cfg *cfg)
{
	cfg->range = c->range;
	cfg->range_off = c->range_off;
	cfg->range_len = c->range_len;
}
