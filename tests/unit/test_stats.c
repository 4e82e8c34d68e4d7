/*
 * test_stats - common/stats.c: the --stats argument and PFS_STATS.
 */
#include <stdlib.h>

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

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_clock),
	};

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
