#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"

const char *pfs_prog = "pfs";
int pfs_quiet;
volatile sig_atomic_t pfs_interrupted;

void
pfs_setprog(const char *argv0)
{
	const char *s = strrchr(argv0, '/');

	pfs_prog = s ? s + 1 : argv0;
}

int
pfs_seterr(struct pfs_err *e, const char *fmt, ...)
{
	va_list ap;

	if (e) {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

void
pfs_prefix(struct pfs_err *e, const char *prefix)
{
	char tmp[sizeof(e->msg) + 256];

	if (!e || !prefix)
		return;
	snprintf(tmp, sizeof(tmp), "%s: %s", prefix, e->msg);
	memcpy(e->msg, tmp, sizeof(e->msg) - 1);
	e->msg[sizeof(e->msg) - 1] = '\0';
}

static void vmsg(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static void
vmsg(const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	n = snprintf(line, sizeof(line), "%s: ", pfs_prog);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	strcat(line, "\n");
	fputs(line, stderr);
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

void
pfs_reraise(void)
{
	int signo = caught_signo ? caught_signo : SIGTERM;

	signal(signo, SIG_DFL);
	raise(signo);
	_exit(128 + signo);
}
