/*
 * trace.c - pipeline --trace FILE: every stage traces into a private
 * directory (PFS_TRACE, trace.h) and after each FILE's run its stages'
 * traces are merged, in stage order, into one Chrome trace object
 * {"traceEvents":[...]} written to a temporary file next to FILE and
 * renamed onto it at the end: FILE is never left half written.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "pipeline.h"
#include "stats.h"
#include "trace.h"

static struct {
	int on;
	struct pfs_outfile of;
	char dir[PATH_MAX];
	unsigned sort;               /* processes merged so far */
	uint64_t t0, cpu0;           /* CLOCK_MONOTONIC and own CPU at start */
	int failed;
} TR;

int
trace_begin(const struct opts *o, struct pfs_err *e)
{
	static const char head[] = "{\"traceEvents\":[\n";
	const char *tmp = getenv("TMPDIR");

	if (!o->c.trace)
		return 0;
	if (!tmp || !*tmp)
		tmp = "/tmp";
	if (pfs_outfile_open(&TR.of, o->c.trace, 1, -1, e) < 0) {
		pfs_prefix(e, "--trace");
		return -1;
	}
	if ((size_t)snprintf(TR.dir, sizeof(TR.dir), "%s/pfs-trace.XXXXXX",
	                     tmp) >= sizeof(TR.dir) || !mkdtemp(TR.dir)) {
		pfs_seterr(e, "--trace: %s: cannot make a directory: %s", tmp,
		           strerror(errno ? errno : ENAMETOOLONG));
		pfs_outfile_abort(&TR.of);
		return -1;
	}
	if (setenv("PFS_TRACE", TR.dir, 1) < 0 ||
	    pfs_write_full(TR.of.fd, head, sizeof(head) - 1, NULL) < 0) {
		pfs_seterr(e, "--trace: %s: %s", o->c.trace, strerror(errno));
		(void)rmdir(TR.dir);
		pfs_outfile_abort(&TR.of);
		return -1;
	}
	TR.t0 = pfs_now_ns();
	TR.cpu0 = pfs_cpu_ns();
	TR.on = 1;
	return 0;
}

/* find - the trace file of stage s (process pid) in TR.dir into path:
 * PROG.PID.json, or (run under perf, another pid) the first PROG.*.json
 * left; 0, or -1 when there is none */
static int
find(const struct pfs_step *s, long pid, char *path, size_t n)
{
	const char *prog = strrchr(s->argv[0], '/');
	size_t plen;
	struct dirent *d;
	DIR *dp;
	int rc = -1;

	prog = prog ? prog + 1 : s->argv[0];
	snprintf(path, n, "%s/%s.%ld.json", TR.dir, prog, pid);
	if (access(path, F_OK) == 0)
		return 0;
	plen = strlen(prog);
	dp = opendir(TR.dir);
	if (!dp)
		return -1;
	while ((d = readdir(dp)) != NULL)
		if (strncmp(d->d_name, prog, plen) == 0 &&
		    d->d_name[plen] == '.' &&
		    (size_t)snprintf(path, n, "%s/%s", TR.dir, d->d_name) < n) {
			rc = 0;
			break;
		}
	closedir(dp);
	return rc;
}

/* label - "N: prog args" of stage i into buf[n] */
static void
label(const struct pipeline *p, unsigned i, char *buf, size_t n)
{
	const struct pfs_step *s = &p->s[i];
	size_t len;
	int k;

	len = (size_t)snprintf(buf, n, "%u:", i + 1);
	for (k = 0; k < s->nlabel && len < n; k++)
		len += (size_t)snprintf(buf + len, n - len, " %s", s->argv[k]);
}

void
trace_collect(const struct pipeline *p)
{
	char path[PATH_MAX + 64], lab[512];
	struct pfs_err e;
	unsigned i;
	long pid;

	for (i = 0; TR.on && !TR.failed && i < p->n; i++) {
		if (find(&p->s[i], (long)p->procs[i].pid, path,
		         sizeof(path)) < 0)
			continue;       /* it did not start, or traced nothing */
		label(p, i, lab, sizeof(lab));
		if (pfs_trace_merge(TR.of.fd, path, lab, ++TR.sort, &pid,
		                    &e) < 0) {
			pfs_error("--trace: %s", e.msg);
			TR.failed = 1;
		}
		(void)unlink(path);
	}
}

/* cleanup - remove what is left in TR.dir, and TR.dir */
static void
cleanup(void)
{
	char path[PATH_MAX + 260];
	struct dirent *d;
	DIR *dp = opendir(TR.dir);

	while (dp && (d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", TR.dir,
		                     d->d_name) < sizeof(path))
			(void)unlink(path);
	}
	if (dp)
		closedir(dp);
	(void)rmdir(TR.dir);
}

int
trace_end(int abort_it)
{
	char ev[512];
	struct pfs_err e;
	uint64_t t1 = pfs_now_ns(), cpu1 = pfs_cpu_ns();
	long me = (long)getpid();
	mode_t mask;
	int n;

	if (!TR.on)
		return 0;
	TR.on = 0;
	cleanup();
	if (abort_it || TR.failed) {
		pfs_outfile_abort(&TR.of);
		return TR.failed ? -1 : 0;
	}
	/* the driver's own track last: it spans the whole run */
	n = snprintf(ev, sizeof(ev),
	        "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%ld,\"args\":"
	        "{\"name\":\"pipeline\"}},\n{\"ph\":\"X\",\"name\":\"process\","
	        "\"cat\":\"process\",\"pid\":%ld,\"tid\":%ld,\"ts\":%llu.%03u,"
	        "\"dur\":%llu.%03u,\"args\":{\"cpu_before_us\":%llu.%03u,"
	        "\"cpu_us\":%llu.%03u}}\n],\"displayTimeUnit\":\"ms\"}\n", me,
	        me, me, (unsigned long long)(TR.t0 / 1000),
	        (unsigned)(TR.t0 % 1000),
	        (unsigned long long)((t1 - TR.t0) / 1000),
	        (unsigned)((t1 - TR.t0) % 1000),
	        (unsigned long long)(TR.cpu0 / 1000), (unsigned)(TR.cpu0 % 1000),
	        (unsigned long long)((cpu1 - TR.cpu0) / 1000),
	        (unsigned)((cpu1 - TR.cpu0) % 1000));
	if (pfs_write_full(TR.of.fd, ev, (size_t)n, NULL) < 0) {
		pfs_error("--trace: %s: %s", TR.of.path, strerror(errno));
		pfs_outfile_abort(&TR.of);
		return -1;
	}
	mask = umask(0);
	(void)umask(mask);
	if (pfs_outfile_commit(&TR.of, 0666 & ~(int)mask, -1, 0, &e) < 0) {
		pfs_error("--trace: %s", e.msg);
		return -1;
	}
	return 0;
}
