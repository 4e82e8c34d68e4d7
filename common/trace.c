/*
 * trace.c - the Chrome trace writer (trace.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "stats.h"
#include "trace.h"
#include "util.h"

#define TBUF (64u << 10)
#define EVMAX 1024u
#define RATE_NS 100000000u       /* 100 ms between two MB/s values */

int pfs_trace_on;

static struct {
	pthread_mutex_t mu;
	int fd;
	char path[4096];
	char buf[TBUF];
	size_t len;
	int err;                     /* errno of the first failed write */
	uint64_t t0, cpu0;           /* CLOCK_MONOTONIC and process CPU at start */
	uint64_t tcpu0;              /* the opening thread's CPU clock at start */
	int setup_done;              /* its "setup" span written */
	long pid;
	uint64_t rate_t[2], rate_b[2];
} T = { PTHREAD_MUTEX_INITIALIZER, -1, "", "", 0, 0, 0, 0, 0, 0, 0, {0, 0},
        {0, 0} };

static _Thread_local long my_tid;

static long
tid(void)
{
	if (!my_tid)
		my_tid = (long)syscall(SYS_gettid);
	return my_tid;
}

/* flush_locked - the buffer to the file; T.mu held */
static void
flush_locked(void)
{
	if (T.len && !T.err && pfs_write_full(T.fd, T.buf, T.len, NULL) < 0)
		T.err = errno ? errno : EIO;
	T.len = 0;
}

/* put - one event line (without its separator) into the buffer */
static void
put(const char *ev, size_t n)
{
	pthread_mutex_lock(&T.mu);
	if (!pfs_trace_on || T.err) { /* closed meanwhile, or failed (trace.h) */
		pthread_mutex_unlock(&T.mu);
		return;
	}
	if (T.len + n + 2 > TBUF)
		flush_locked();
	memcpy(T.buf + T.len, ev, n);
	T.len += n;
	T.buf[T.len++] = ',';
	T.buf[T.len++] = '\n';
	pthread_mutex_unlock(&T.mu);
}

static void event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
event(const char *fmt, ...)
{
	char ev[EVMAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(ev, sizeof(ev), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(ev))
		put(ev, (size_t)n);
}

/* US(ns) - a time as microseconds with three decimals */
#define US_FMT "%" PRIu64 ".%03u"
#define US(ns) (uint64_t)((ns) / 1000u), (unsigned)((ns) % 1000u)

static int
start(int fd, const char *path, struct pfs_err *e)
{
	char name[256];

	if (strlen(path) >= sizeof(T.path)) {
		(void)close(fd);
		return pfs_seterr(e, "%s: name too long", path);
	}
	strcpy(T.path, path);
	T.fd = fd;
	T.len = 0;
	T.err = 0;
	T.pid = (long)getpid();
	{
		struct pfs_trace_mark m;

		pfs_trace_mark(&m);
		T.t0 = m.ns;
		T.tcpu0 = m.cpu_ns;
	}
	T.cpu0 = pfs_cpu_ns();
	T.setup_done = 0;
	memset(T.rate_t, 0, sizeof(T.rate_t));
	memset(T.rate_b, 0, sizeof(T.rate_b));
	T.buf[T.len++] = '[';
	T.buf[T.len++] = '\n';
	pfs_trace_on = 1;
	pfs_json_esc(pfs_prog, name, sizeof(name));
	event("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%ld,"
	      "\"tid\":%ld,\"args\":{\"name\":\"%s\"}}", T.pid, tid(), name);
	/* out at once: a program killed later still leaves its name */
	pthread_mutex_lock(&T.mu);
	flush_locked();
	pthread_mutex_unlock(&T.mu);
	return 0;
}

int
pfs_trace_open(const char *path, struct pfs_err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);

	if (fd < 0)
		return pfs_seterr(e, "%s: %s", path, strerror(errno));
	return start(fd, path, e);
}

int
pfs_trace_open_dir(const char *dir, struct pfs_err *e)
{
	char path[4096];
	struct stat st;
	int fd;

	if (stat(dir, &st) < 0)
		return pfs_seterr(e, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return pfs_seterr(e, "%s: %s", dir, strerror(ENOTDIR));
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.%ld.json", dir,
	                     pfs_prog, (long)getpid()) >= sizeof(path))
		return pfs_seterr(e, "%s: name too long", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0)
		return pfs_seterr(e, "%s: %s", path, strerror(errno));
	return start(fd, path, e);
}

int
pfs_trace_close(struct pfs_err *e)
{
	struct stat st;
	uint64_t t1, cpu1;
	int err, reg;

	if (!pfs_trace_on)
		return 0;
	pthread_mutex_lock(&T.mu);
	if (!pfs_trace_on) {         /* another thread closed it meanwhile */
		pthread_mutex_unlock(&T.mu);
		return 0;
	}
	/* the end read with the lock held: a span another thread put before
	 * us ended before it took the lock, so before t1; one it puts after
	 * is dropped (put).  Read before the lock, a thread preempted here
	 * let spans in that end after the process span. */
	t1 = pfs_now_ns();
	cpu1 = pfs_cpu_ns();
	/* the last event, closed by "]" instead of "," */
	if (T.len + EVMAX + 4 > TBUF)
		flush_locked();
	T.len += (size_t)snprintf(T.buf + T.len, TBUF - T.len,
	        "{\"ph\":\"X\",\"name\":\"process\",\"cat\":\"process\","
	        "\"pid\":%ld,\"tid\":%ld,\"ts\":" US_FMT ",\"dur\":" US_FMT
	        ",\"args\":{\"cpu_before_us\":" US_FMT ",\"cpu_us\":" US_FMT
	        "}}\n]\n", T.pid, tid(), US(T.t0), US(t1 - T.t0), US(T.cpu0),
	        US(cpu1 - T.cpu0));
	flush_locked();
	pfs_trace_on = 0;
	err = T.err;
	pthread_mutex_unlock(&T.mu);
	reg = fstat(T.fd, &st) == 0 && S_ISREG(st.st_mode);
	if (close(T.fd) < 0 && !err)
		err = errno;
	T.fd = -1;
	if (err) {
		/* a cut trace is not valid JSON: not left behind (a FIFO or a
		 * device is not ours to remove) */
		if (reg)
			(void)unlink(T.path);
		return pfs_seterr(e, "%s: write error: %s", T.path,
		                  strerror(err));
	}
	return 0;
}

void
pfs_trace_thread(const char *name, unsigned sort)
{
	event("{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%ld,\"tid\":%ld,"
	      "\"args\":{\"name\":\"%s\"}}", T.pid, tid(), name);
	event("{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":%ld,"
	      "\"tid\":%ld,\"args\":{\"sort_index\":%u}}", T.pid, tid(), sort);
}

void
pfs_trace_mark(struct pfs_trace_mark *m)
{
	struct timespec ts;

	m->ns = pfs_now_ns();
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	m->cpu_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
pfs_trace_span(const char *name, const struct pfs_trace_mark *m0,
               uint64_t chunk, uint64_t in, uint64_t out)
{
	struct pfs_trace_mark m1;
	char c[48] = "";

	pfs_trace_mark(&m1);
	/* the opening (main) thread's first span: before it, a "setup" span
	 * from the start of the trace (options done; keys, buffers, the
	 * HEAD).  Only that thread reads or writes setup_done: the tid test
	 * comes first. */
	if (tid() == T.pid && !T.setup_done) {
		T.setup_done = 1;
		event("{\"ph\":\"X\",\"name\":\"setup\",\"cat\":\"busy\","
		      "\"pid\":%ld,\"tid\":%ld,\"ts\":" US_FMT ",\"dur\":" US_FMT
		      ",\"tts\":" US_FMT ",\"tdur\":" US_FMT ",\"args\":{\"in\":0,"
		      "\"out\":0}}", T.pid, tid(), US(T.t0), US(m0->ns - T.t0),
		      US(T.tcpu0), US(m0->cpu_ns - T.tcpu0));
	}
	if (chunk != UINT64_MAX)
		snprintf(c, sizeof(c), "\"chunk\":%" PRIu64 ",", chunk);
	event("{\"ph\":\"X\",\"name\":\"%s\",\"cat\":\"busy\",\"pid\":%ld,"
	      "\"tid\":%ld,\"ts\":" US_FMT ",\"dur\":" US_FMT ",\"tts\":"
	      US_FMT ",\"tdur\":" US_FMT ",\"args\":{%s\"in\":%" PRIu64
	      ",\"out\":%" PRIu64 "}}", name, T.pid, tid(), US(m0->ns),
	      US(m1.ns - m0->ns), US(m0->cpu_ns), US(m1.cpu_ns - m0->cpu_ns),
	      c, in, out);
}

void
pfs_trace_blocked(int out, uint64_t t0, uint64_t t1)
{
	event("{\"ph\":\"X\",\"name\":\"%s\",\"cat\":\"blocked\",\"pid\":%ld,"
	      "\"tid\":%ld,\"ts\":" US_FMT ",\"dur\":" US_FMT "}",
	      out ? "blocked-out" : "blocked-in", T.pid, tid(), US(t0),
	      US(t1 - t0));
}

void
pfs_trace_counter(const char *name, uint64_t t, double value)
{
	event("{\"ph\":\"C\",\"name\":\"%s\",\"pid\":%ld,\"ts\":" US_FMT ","
	      "\"args\":{\"value\":%.3f}}", name, T.pid, US(t), value);
}

void
pfs_trace_rate(int out, uint64_t t, uint64_t total)
{
	uint64_t dt, db;

	out = !!out;
	pthread_mutex_lock(&T.mu);
	if (!T.rate_t[out])
		T.rate_t[out] = T.t0;
	dt = t - T.rate_t[out];
	db = total - T.rate_b[out];
	if (dt < RATE_NS) {
		pthread_mutex_unlock(&T.mu);
		return;
	}
	T.rate_t[out] = t;
	T.rate_b[out] = total;
	pthread_mutex_unlock(&T.mu);
	event("{\"ph\":\"C\",\"name\":\"MB/s\",\"pid\":%ld,\"ts\":" US_FMT ","
	      "\"args\":{\"%s\":%.1f}}", T.pid, US(t), out ? "out" : "in",
	      (double)db * 1e3 / (double)dt);
}

/* --- merging (pipeline --trace) --- */

static int
is_process_name(const char *l)
{
	return strncmp(l, "{\"ph\":\"M\",\"name\":\"process_name\",", 32) == 0;
}

long
pfs_trace_merge(int out_fd, const char *path, const char *label,
                unsigned sort, long *pid, struct pfs_err *e)
{
	char *line = NULL, name[1024], ev[EVMAX + 1200];
	size_t cap = 0, n;
	ssize_t len;
	const char *p;
	long count = 0;
	FILE *f;
	int rc = 0;

	*pid = 0;
	f = fopen(path, "re");
	if (!f)
		return pfs_seterr(e, "%s: %s", path, strerror(errno));
	while ((len = getline(&line, &cap, f)) > 0) {
		while (len && (line[len - 1] == '\n' || line[len - 1] == ','))
			line[--len] = '\0';
		if (len == 0 || line[0] != '{')
			continue;          /* "[", "]" */
		if (!*pid && (p = strstr(line, "\"pid\":")) != NULL)
			*pid = strtol(p + 6, NULL, 10);
		if (is_process_name(line)) {
			pfs_json_esc(label, name, sizeof(name));
			n = (size_t)snprintf(ev, sizeof(ev),
			        "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":"
			        "%ld,\"args\":{\"name\":\"%s\"}},\n{\"ph\":\"M\","
			        "\"name\":\"process_sort_index\",\"pid\":%ld,"
			        "\"args\":{\"sort_index\":%u}},\n", *pid, name,
			        *pid, sort);
			rc = pfs_write_full(out_fd, ev, n, NULL);
		} else if (line[len - 1] == '}' &&
		           (size_t)len + 2 <= sizeof(ev)) {
			memcpy(ev, line, (size_t)len);
			memcpy(ev + len, ",\n", 2);
			rc = pfs_write_full(out_fd, ev, (size_t)len + 2, NULL);
		} else {
			continue;          /* cut short: the program died */
		}
		if (rc < 0)
			break;
		count++;
	}
	if (rc == 0 && ferror(f)) {
		pfs_seterr(e, "%s: read error: %s", path, strerror(errno));
		count = -1;
	} else if (rc < 0) {
		pfs_seterr(e, "write error: %s", strerror(errno));
		count = -1;
	}
	free(line);
	fclose(f);
	return count;
}
