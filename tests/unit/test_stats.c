/*
 * test_stats - common/stats.c: the --stats argument and PFS_STATS, the
 * JSON line written by pfs_stats_print() and read back by
 * pfs_stats_from_json(), and the bottleneck choice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "stats.h"
#include "unit.h"

static void
test_parse(void **state)
{
	(void)state;
	assert_int_equal(pfs_stats_parse(NULL), PFS_STATS_TEXT);
	assert_int_equal(pfs_stats_parse("text"), PFS_STATS_TEXT);
	assert_int_equal(pfs_stats_parse("json"), PFS_STATS_JSON);
	assert_int_equal(pfs_stats_parse(""), -1);
	assert_int_equal(pfs_stats_parse("JSON"), -1);
	assert_int_equal(pfs_stats_parse("xml"), -1);
}

static void
env_is(const char *v, int want)
{
	if (v)
		assert_int_equal(setenv("PFS_STATS", v, 1), 0);
	else
		assert_int_equal(unsetenv("PFS_STATS"), 0);
	assert_int_equal(pfs_stats_env(), want);
}

static void
test_env(void **state)
{
	(void)state;
	env_is(NULL, PFS_STATS_OFF);
	env_is("", PFS_STATS_OFF);
	env_is("0", PFS_STATS_OFF);
	env_is("1", PFS_STATS_TEXT);
	env_is("text", PFS_STATS_TEXT);
	env_is("json", PFS_STATS_JSON);
	env_is(NULL, PFS_STATS_OFF);
}

static void
test_clock(void **state)
{
	struct pfs_stats st;
	uint64_t a, b;

	(void)state;
	a = pfs_now_ns();
	pfs_stats_start(&st);
	b = pfs_now_ns();
	assert_true(a <= st.start_ns && st.start_ns <= b);
	assert_int_equal(st.frames, 0);
	assert_int_equal(st.bytes_in, 0);
}

/* what pfs_stats_print(st, mode) writes to stderr, into out[n] */
static void
print_to(const struct pfs_stats *st, int mode, char *out, size_t n)
{
	FILE *f = tmpfile();
	int saved;
	size_t len;

	assert_non_null(f);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fileno(f), 2), 2);
	pfs_stats_print(st, mode);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	rewind(f);
	len = fread(out, 1, n - 1, f);
	out[len] = '\0';
	fclose(f);
}

static void
test_json_round_trip(void **state)
{
	const char *prog = pfs_prog;
	struct pfs_stats st;
	struct pfs_stats_rec r;
	char line[1024];

	(void)state;
	pfs_stats_start(&st);
	st.frames = 130;
	st.bytes_in = 134217728;
	st.bytes_out = 41000000;
	st.blocked_in_ns = 10000000;          /* 0.01 s */
	st.blocked_out_ns = 300000000;        /* 0.3 s */
	pfs_prog = "pcompress";
	print_to(&st, PFS_STATS_JSON, line, sizeof(line));
	pfs_prog = prog;
	assert_true(strncmp(line, "{\"tool\":\"pcompress\",\"frames\":130,", 33)
	            == 0);
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
	assert_int_equal(pfs_stats_from_json(line, &r), 0);
	assert_string_equal(r.tool, "pcompress");
	assert_int_equal(r.frames, 130);
	assert_int_equal(r.bytes_in, 134217728);
	assert_int_equal(r.bytes_out, 41000000);
	assert_float_equal(r.blocked_in_s, 0.01, 1e-9);
	assert_float_equal(r.blocked_out_s, 0.3, 1e-9);
	assert_true(r.wall_s >= 0 && r.user_s >= 0 && r.sys_s >= 0);
	assert_true(r.peak_rss_kb > 0);
	assert_int_equal(r.allocs, pfs_buf_allocs);
	/* without the newline too */
	line[strlen(line) - 1] = '\0';
	assert_int_equal(pfs_stats_from_json(line, &r), 0);
	assert_string_equal(r.tool, "pcompress");
}

static void
test_text_and_off(void **state)
{
	const char *prog = pfs_prog;
	struct pfs_stats st;
	char line[1024];

	(void)state;
	pfs_stats_start(&st);
	st.frames = 7;
	st.bytes_in = 2500000;
	pfs_prog = "pjoin";
	print_to(&st, PFS_STATS_TEXT, line, sizeof(line));
	pfs_prog = prog;
	assert_true(strncmp(line, "pjoin: stats: frames 7 in 2.5 MB out 0.0 MB "
	                    "wall ", 44) == 0);
	assert_contains(line, " blocked-in 0.000 s blocked-out 0.000 s rss ");
	print_to(&st, PFS_STATS_OFF, line, sizeof(line));
	assert_string_equal(line, "");
}

#define ALL "\"frames\":1," REST
#define REST "\"bytes_in\":2,\"bytes_out\":3,\"wall_s\":0.5," \
	"\"user_s\":0.25,\"sys_s\":0,\"mb_per_s\":4.0,\"blocked_in_s\":0," \
	"\"blocked_out_s\":0.125,\"peak_rss_kb\":9000,\"allocs\":12"

static void
test_json_parse(void **state)
{
	static const char *const bad[] = {
		"",
		"{}",
		"{\"tool\":\"x\"}",                          /* fields missing */
		"{\"tool\":\"x\"," ALL ",\"frames\":1}",     /* twice */
		"{\"tool\":\"x\"," ALL "} ",                 /* trailing junk */
		"{\"tool\":\"x\"," ALL "}\n\n",
		"{\"tool\":\"x\"," ALL "",                   /* not closed */
		"{\"tool\":\"x\",\"frames\":-1," REST "}", /* negative */
		"{\"tool\":\"x\",\"frames\":1x," REST "}", /* junk */
		"{\"tool\":\"x\"," ALL ",\"more\":[1]}",     /* not a scalar */
		"[\"tool\"]",
	};
	struct pfs_stats_rec r;
	size_t i;

	(void)state;
	assert_int_equal(pfs_stats_from_json("{\"tool\":\"x\"," ALL "}\n", &r),
	                 0);
	assert_string_equal(r.tool, "x");
	assert_int_equal(r.frames, 1);
	assert_int_equal(r.bytes_out, 3);
	assert_float_equal(r.user_s, 0.25, 0);
	assert_float_equal(r.blocked_out_s, 0.125, 0);
	assert_int_equal(r.peak_rss_kb, 9000);
	assert_int_equal(r.allocs, 12);
	/* unknown keys of every scalar kind are skipped, in any place */
	assert_int_equal(pfs_stats_from_json("{\"v\":2,\"tool\":\"x\",\"n\":null,"
	                 "\"t\":true,\"f\":false,\"s\":\"a\\\"b\"," ALL
	                 ",\"d\":-1.5e3}", &r), 0);
	assert_string_equal(r.tool, "x");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pfs_stats_from_json(bad[i], &r) != -1)
			fail_msg("accepted: %s", bad[i]);
}

static void
test_bottleneck(void **state)
{
	struct pfs_stats_rec r[4];
	int ok[4] = { 1, 1, 1, 1 };

	(void)state;
	memset(r, 0, sizeof(r));
	r[0].wall_s = 2; r[0].blocked_out_s = 1.5;     /* 0.75 */
	r[1].wall_s = 2; r[1].blocked_in_s = 0.2;
	r[1].blocked_out_s = 0.4;                      /* 0.2: the bottleneck */
	r[2].wall_s = 1; r[2].blocked_in_s = 0.2;      /* 0.2: a tie, later */
	r[3].wall_s = 0;                               /* no wall time */
	assert_int_equal(pfs_stats_bottleneck(r, ok, 4), 1);
	ok[1] = 0;
	assert_int_equal(pfs_stats_bottleneck(r, ok, 4), 2);
	ok[0] = ok[2] = 0;
	assert_int_equal(pfs_stats_bottleneck(r, ok, 4), -1);
	assert_int_equal(pfs_stats_bottleneck(r, ok, 0), -1);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_text_and_off),
		cmocka_unit_test(test_json_parse),
		cmocka_unit_test(test_bottleneck),
	};

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
