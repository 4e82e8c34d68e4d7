#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "proc.h"

const char *pfs_prog = "pfs";
int pfs_quiet;
volatile sig_atomic_t pfs_interrupted;

void
pfs_setprog(const char *argv0)
{
	const char *s = strrchr(argv0, '/');

	pfs_prog = s ? s + 1 : argv0;
	pfs_proc_std_fds();
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
