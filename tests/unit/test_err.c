/*
 * test_err - common/err.c: the message buffer every common/ function fills
 * (the printing and exiting helpers are the tools' business and tested by
 * the bats suites).
 */
#include "unit.h"

static void
test_seterr(void **state)
{
	struct pfs_err e;

	(void)state;
	assert_int_equal(pfs_seterr(&e, "frame %d: %s", 3, "bad"), -1);
	assert_string_equal(e.msg, "frame 3: bad");
	assert_int_equal(pfs_seterr(NULL, "ignored %d", 1), -1);
}

static void
test_seterr_truncates(void **state)
{
	struct pfs_err e;
	char big[1000];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(pfs_seterr(&e, "%s", big), -1);
	assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
}

static void
test_prefix(void **state)
{
	struct pfs_err e;

	(void)state;
	pfs_seterr(&e, "checksum mismatch");
	pfs_prefix(&e, "frame 2");
	pfs_prefix(&e, "in.pfs");
	assert_string_equal(e.msg, "in.pfs: frame 2: checksum mismatch");
	pfs_prefix(&e, NULL);
	assert_string_equal(e.msg, "in.pfs: frame 2: checksum mismatch");
	pfs_prefix(NULL, "x");           /* no-op */
}

static void
test_prefix_truncates(void **state)
{
	struct pfs_err e;
	char big[600];

	(void)state;
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pfs_seterr(&e, "%s", "message");
	pfs_prefix(&e, big);
	assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
	assert_int_equal(e.msg[0], 'p');
}

static void
test_setprog(void **state)
{
	const char *saved = pfs_prog;

	(void)state;
	pfs_setprog("/usr/local/bin/pjoin");
	assert_string_equal(pfs_prog, "pjoin");
	pfs_setprog("phash");
	assert_string_equal(pfs_prog, "phash");
	pfs_prog = saved;
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seterr),
		cmocka_unit_test(test_seterr_truncates),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_prefix_truncates),
		cmocka_unit_test(test_setprog),
	};

	return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
