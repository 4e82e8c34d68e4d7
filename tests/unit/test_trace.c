/*
 * test_trace - common/trace.c: the file as trace.h describes it (one event
 * per line, the process span last, the array closed), names escaped, the
 * errors of pfs_trace_open and pfs_trace_open_dir, and pfs_trace_merge
 * (labels, sort index, a file cut short).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "trace.h"
#include "unit.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/pfs-test-trace.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* slurp - the whole of path into a new string */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	s = calloc(1, (size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return s;
}

/* lines - the number of lines of s */
static int
lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* write_trace - a small trace into path: thread name, one busy span,
 * one blocked span, one counter */
static void
write_trace(const char *path)
{
	struct pfs_trace_mark m;
	struct pfs_err e;

	assert_int_equal(pfs_trace_open(path, &e), 0);
	assert_int_equal(pfs_trace_on, 1);
	pfs_trace_thread("reader", 1);
	pfs_trace_mark(&m);
	pfs_trace_span("read", &m, 7, 100, 50);
	pfs_trace_blocked(1, m.ns, m.ns + 1500);
	pfs_trace_counter("in flight", m.ns, 3);
	assert_int_equal(pfs_trace_close(&e), 0);
	assert_int_equal(pfs_trace_on, 0);
}

static void
test_file(void **state)
{
	char path[128], *s, *last;

	(void)state;
	pfs_setprog("/bin/p\"x");
	snprintf(path, sizeof(path), "%s/a.json", dir);
	write_trace(path);
	s = slurp(path);
	/* "[", process_name, thread_name, thread_sort_index, the setup span
	 * (the opening thread's first span), the span, the blocked span, the
	 * counter, the process span, "]" */
	assert_int_equal(lines(s), 10);
	assert_true(strncmp(s, "[\n{\"ph\":\"M\",\"name\":\"process_name\",", 34) == 0);
	assert_contains(s, "\"args\":{\"name\":\"p\\\"x\"}},\n");
	assert_contains(s, "\"name\":\"read\",\"cat\":\"busy\"");
	assert_contains(s, "\"args\":{\"chunk\":7,\"in\":100,\"out\":50}},\n");
	assert_contains(s, "\"name\":\"setup\",\"cat\":\"busy\"");
	assert_contains(s, "\"args\":{\"in\":0,\"out\":0}},\n");
	assert_true(strstr(s, "\"name\":\"setup\"") < strstr(s, "\"name\":\"read\""));
	assert_contains(s, ",\"args\":{\"cpu_before_us\":");
	assert_contains(s, ",\"cpu_us\":");
	assert_contains(s, "\"name\":\"blocked-out\",\"cat\":\"blocked\"");
	assert_contains(s, ",\"dur\":1.500},\n");
	assert_contains(s, "{\"ph\":\"C\",\"name\":\"in flight\"");
	last = strstr(s, "{\"ph\":\"X\",\"name\":\"process\"");
	assert_non_null(last);
	assert_non_null(strstr(last, "}\n]\n"));
	assert_string_equal(strstr(last, "}\n]\n"), "}\n]\n");
	free(s);
	/* closing again is nothing */
	{
		struct pfs_err e;
		assert_int_equal(pfs_trace_close(&e), 0);
	}
	pfs_setprog("test_trace");
}

static void
test_open_errors(void **state)
{
	char path[128];
	struct pfs_err e;

	(void)state;
	assert_int_equal(pfs_trace_open("/nonexistent/t.json", &e), -1);
	assert_string_equal(e.msg, "/nonexistent/t.json: No such file or directory");
	assert_int_equal(pfs_trace_on, 0);
	assert_int_equal(pfs_trace_open_dir("/nonexistent", &e), -1);
	assert_string_equal(e.msg, "/nonexistent: No such file or directory");
	snprintf(path, sizeof(path), "%s/file", dir);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	assert_int_equal(pfs_trace_open_dir(path, &e), -1);
	assert_contains(e.msg, "/file: Not a directory");
	assert_int_equal(pfs_trace_on, 0);
}

static void
test_open_dir(void **state)
{
	char path[160], *s;
	struct pfs_err e;

	(void)state;
	pfs_setprog("ptool");
	assert_int_equal(pfs_trace_open_dir(dir, &e), 0);
	assert_int_equal(pfs_trace_close(&e), 0);
	snprintf(path, sizeof(path), "%s/ptool.%ld.json", dir, (long)getpid());
	s = slurp(path);
	assert_int_equal(lines(s), 4);     /* [, process_name, process, ] */
	free(s);
	/* the same name again: O_EXCL */
	assert_int_equal(pfs_trace_open_dir(dir, &e), -1);
	assert_contains(e.msg, "File exists");
	pfs_setprog("test_trace");
}

static void
test_merge(void **state)
{
	char path[128], cut[128], out[128], *s, *t;
	struct pfs_err e;
	long pid, n;
	size_t len;
	FILE *f;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/m.json", dir);
	write_trace(path);
	snprintf(out, sizeof(out), "%s/merged", dir);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	n = pfs_trace_merge(fd, path, "2: p \"q\"", 5, &pid, &e);
	assert_int_equal(n, 8);
	assert_int_equal(pid, getpid());
	/* cut short in the middle of its last event, as a killed program
	 * leaves it: the whole events are kept, the cut one is not */
	s = slurp(path);
	t = strstr(s, "{\"ph\":\"X\",\"name\":\"process\"");
	len = (size_t)(t - s) + 10;
	snprintf(cut, sizeof(cut), "%s/cut.json", dir);
	f = fopen(cut, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(s, 1, len, f), len);
	fclose(f);
	free(s);
	n = pfs_trace_merge(fd, cut, "3: cut", 6, &pid, &e);
	assert_int_equal(n, 7);
	assert_int_equal(pfs_trace_merge(fd, "/nonexistent", "x", 7, &pid, &e), -1);
	assert_string_equal(e.msg, "/nonexistent: No such file or directory");
	close(fd);
	s = slurp(out);
	/* every line one event and a comma; the process names replaced */
	assert_int_equal(lines(s), 8 + 1 + 7 + 1);
	assert_contains(s, "\"args\":{\"name\":\"2: p \\\"q\\\"\"}},\n{\"ph\":\"M\","
	                   "\"name\":\"process_sort_index\",\"pid\":");
	assert_contains(s, "\"args\":{\"sort_index\":5}},\n");
	assert_contains(s, "\"args\":{\"name\":\"3: cut\"}},\n");
	assert_null(strstr(s, "\"name\":\"test_trace\""));
	assert_null(strstr(s, "]"));
	free(s);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_open_dir),
		cmocka_unit_test(test_merge),
	};

	pfs_setprog("test_trace");
	return cmocka_run_group_tests_name("trace", tests, setup, teardown);
}
