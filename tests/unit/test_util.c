/*
 * test_util - common/util.c: the bounded number parsers every option goes
 * through (pfs_parse_size, pfs_parse_int, pfs_parse_threads) at their
 * edges, pfs_fmt_size, and the non-exiting paths of the shared options
 * and messages (cli.c).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "engine.h"
#include "stats.h"
#include "unit.h"
#include "util.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)
#define TiB (1024ull * GiB)

static void
size_ok(const char *s, uint64_t min, uint64_t max, uint64_t want)
{
	struct pfs_err e;
	uint64_t v = 0xdeadbeef;

	if (pfs_parse_size(s, min, max, &v, &e) != 0)
		fail_msg("'%s': %s", s, e.msg);
	if (v != want)
		fail_msg("'%s': %llu, expected %llu", s, (unsigned long long)v,
		         (unsigned long long)want);
}

static void
size_bad(const char *s, uint64_t min, uint64_t max, const char *msg)
{
	struct pfs_err e;
	uint64_t v = 0xdeadbeef;

	if (pfs_parse_size(s, min, max, &v, &e) != -1)
		fail_msg("'%s' accepted as %llu", s, (unsigned long long)v);
	assert_int_equal(v, 0xdeadbeef);          /* *out untouched */
	assert_string_equal(e.msg, msg);
}

/* --- pfs_parse_size --- */

static void
test_size_range_edges(void **state)
{
	(void)state;
	size_ok("1024", KiB, 256 * MiB, 1024);
	size_ok("1K", KiB, 256 * MiB, 1024);
	size_ok("268435456", KiB, 256 * MiB, 256 * MiB);
	size_ok("256M", KiB, 256 * MiB, 256 * MiB);
	size_bad("1023", KiB, 256 * MiB,
	         "size '1023' is out of range (1 KiB to 256 MiB)");
	size_bad("0", KiB, 256 * MiB,
	         "size '0' is out of range (1 KiB to 256 MiB)");
	size_bad("268435457", KiB, 256 * MiB,
	         "size '268435457' is out of range (1 KiB to 256 MiB)");
	size_bad("257M", KiB, 256 * MiB,
	         "size '257M' is out of range (1 KiB to 256 MiB)");
	size_bad("1G", KiB, 256 * MiB,
	         "size '1G' is out of range (1 KiB to 256 MiB)");
	size_ok("0", 0, 10, 0);
	size_ok("0K", 0, 10, 0);
	size_ok("10", 0, 10, 10);
	size_bad("11", 0, 10, "size '11' is out of range (0 B to 10 B)");
}

static void
test_size_uint64_edges(void **state)
{
	(void)state;
	size_ok("18446744073709551615", 0, UINT64_MAX, UINT64_MAX);
	size_ok("0018446744073709551615", 0, UINT64_MAX, UINT64_MAX);
	size_bad("18446744073709551616", 0, UINT64_MAX, "size "
	         "'18446744073709551616' is out of range (0 B to 16.0 EiB)");
	size_bad("18446744073709551620", 0, UINT64_MAX, "size "
	         "'18446744073709551620' is out of range (0 B to 16.0 EiB)");
	size_bad("99999999999999999999999", 0, UINT64_MAX, "size "
	         "'99999999999999999999999' is out of range (0 B to 16.0 EiB)");
	/* overflow by the suffix */
	size_ok("16777215T", 0, UINT64_MAX, 16777215ull * TiB);
	size_bad("16777216T", 0, UINT64_MAX,
	         "size '16777216T' is out of range (0 B to 16.0 EiB)");
	size_ok("17179869183G", 0, UINT64_MAX, 17179869183ull * GiB);
	size_bad("17179869184G", 0, UINT64_MAX,
	         "size '17179869184G' is out of range (0 B to 16.0 EiB)");
	size_bad("18014398509481984K", 0, UINT64_MAX,
	         "size '18014398509481984K' is out of range (0 B to 16.0 EiB)");
}

static void
test_size_suffixes(void **state)
{
	static const struct { const char *s; uint64_t v; } ok[] = {
		{ "3k", 3 * KiB }, { "3K", 3 * KiB }, { "3kb", 3 * KiB },
		{ "3KB", 3 * KiB }, { "3kB", 3 * KiB }, { "3KiB", 3 * KiB },
		{ "3kib", 3 * KiB }, { "3KIB", 3 * KiB },
		{ "5m", 5 * MiB }, { "5M", 5 * MiB }, { "5MB", 5 * MiB },
		{ "5MiB", 5 * MiB }, { "5mib", 5 * MiB },
		{ "7g", 7 * GiB }, { "7G", 7 * GiB }, { "7GB", 7 * GiB },
		{ "7GiB", 7 * GiB },
		{ "2t", 2 * TiB }, { "2T", 2 * TiB }, { "2TB", 2 * TiB },
		{ "2TiB", 2 * TiB },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		size_ok(ok[i].s, 0, UINT64_MAX, ok[i].v);
}

static void
test_size_junk(void **state)
{
#define NUM "(expected a number with an optional K, M or G suffix)"
	(void)state;
	size_bad("", 0, UINT64_MAX, "invalid size '' " NUM);
	size_bad("K", 0, UINT64_MAX, "invalid size 'K' " NUM);
	size_bad("abc", 0, UINT64_MAX, "invalid size 'abc' " NUM);
	size_bad("-1", 0, UINT64_MAX, "invalid size '-1' " NUM);
	size_bad("+1", 0, UINT64_MAX, "invalid size '+1' " NUM);
	size_bad(" 1", 0, UINT64_MAX, "invalid size ' 1' " NUM);
	size_bad("1 ", 0, UINT64_MAX,
	         "invalid size '1 ' (unknown suffix ' '; use K, M or G)");
	size_bad("1 K", 0, UINT64_MAX,
	         "invalid size '1 K' (unknown suffix ' K'; use K, M or G)");
	size_bad("1.5M", 0, UINT64_MAX,
	         "invalid size '1.5M' (unknown suffix '.5M'; use K, M or G)");
	size_bad("1e3", 0, UINT64_MAX,
	         "invalid size '1e3' (unknown suffix 'e3'; use K, M or G)");
	size_bad("0x10", 0, UINT64_MAX,
	         "invalid size '0x10' (unknown suffix 'x10'; use K, M or G)");
	size_bad("1KK", 0, UINT64_MAX,
	         "invalid size '1KK' (unknown suffix 'KK'; use K, M or G)");
	size_bad("1Ki", 0, UINT64_MAX,
	         "invalid size '1Ki' (unknown suffix 'Ki'; use K, M or G)");
	size_bad("1KiBs", 0, UINT64_MAX,
	         "invalid size '1KiBs' (unknown suffix 'KiBs'; use K, M or G)");
	size_bad("1B", 0, UINT64_MAX,
	         "invalid size '1B' (unknown suffix 'B'; use K, M or G)");
	size_bad("1P", 0, UINT64_MAX,
	         "invalid size '1P' (unknown suffix 'P'; use K, M or G)");
#undef NUM
}

/* --- pfs_parse_int --- */

static void
int_ok(const char *s, long min, long max, long want)
{
	struct pfs_err e;
	long v = 12345;

	if (pfs_parse_int(s, min, max, &v, &e) != 0)
		fail_msg("'%s': %s", s, e.msg);
	if (v != want)
		fail_msg("'%s': %ld, expected %ld", s, v, want);
}

static void
int_bad(const char *s, long min, long max, const char *msg)
{
	struct pfs_err e;
	long v = 12345;

	if (pfs_parse_int(s, min, max, &v, &e) != -1)
		fail_msg("'%s' accepted as %ld", s, v);
	assert_int_equal(v, 12345);
	assert_string_equal(e.msg, msg);
}

static void
test_int_range_edges(void **state)
{
	(void)state;
	int_ok("1", 1, 16, 1);
	int_ok("16", 1, 16, 16);
	int_ok("007", 1, 16, 7);
	int_bad("0", 1, 16, "'0' is out of range (1 to 16)");
	int_bad("17", 1, 16, "'17' is out of range (1 to 16)");
	int_ok("0", 0, 256, 0);
	int_ok("256", 0, 256, 256);
	int_bad("257", 0, 256, "'257' is out of range (0 to 256)");
	int_ok("-5", -5, 5, -5);
	int_ok("5", -5, 5, 5);
	int_bad("-6", -5, 5, "'-6' is out of range (-5 to 5)");
	int_bad("6", -5, 5, "'6' is out of range (-5 to 5)");
	int_ok("-7", -7, -1, -7);
	int_bad("0", -7, -1, "'0' is out of range (-7 to -1)");
}

static void
test_int_long_edges(void **state)
{
	(void)state;
	int_ok("9223372036854775807", LONG_MIN, LONG_MAX, LONG_MAX);
	int_ok("-9223372036854775808", LONG_MIN, LONG_MAX, LONG_MIN);
	int_bad("9223372036854775808", LONG_MIN, LONG_MAX,
	        "'9223372036854775808' is out of range "
	        "(-9223372036854775808 to 9223372036854775807)");
	int_bad("-9223372036854775809", LONG_MIN, LONG_MAX,
	        "'-9223372036854775809' is out of range "
	        "(-9223372036854775808 to 9223372036854775807)");
	int_bad("18446744073709551616", 0, 16,
	        "'18446744073709551616' is out of range (0 to 16)");
	/* ERANGE clamps to LONG_MAX, which must still be refused when it is
	 * the top of the range */
	int_bad("99999999999999999999", 0, LONG_MAX,
	        "'99999999999999999999' is out of range "
	        "(0 to 9223372036854775807)");
}

static void
test_int_junk(void **state)
{
	(void)state;
	int_bad("", 0, 16, "invalid number ''");
	int_bad("-", -16, 16, "invalid number '-'");
	int_bad("--1", -16, 16, "invalid number '--1'");
	int_bad("- 1", -16, 16, "invalid number '- 1'");
	int_bad("+1", 0, 16, "invalid number '+1'");
	int_bad(" 1", 0, 16, "invalid number ' 1'");
	int_bad("1 ", 0, 16, "invalid number '1 '");
	int_bad("1x", 0, 16, "invalid number '1x'");
	int_bad("1K", 0, 16, "invalid number '1K'");
	int_bad("0x10", 0, 16, "invalid number '0x10'");
	int_bad("1.0", 0, 16, "invalid number '1.0'");
	int_bad("abc", 0, 16, "invalid number 'abc'");
}

static void
test_int_negative_when_min_not_negative(void **state)
{
	(void)state;
	int_bad("-1", 0, 16, "'-1' is out of range (0 to 16)");
	/* util.h: "a leading '-' allowed when min < 0"; "-0" parses to 0,
	 * which is in range, and must still be refused (e.g. `-T -0`) */
	int_bad("-0", 0, 16, "'-0' is out of range (0 to 16)");
	int_bad("-00", 0, 16, "'-00' is out of range (0 to 16)");
	int_ok("-0", -1, 16, 0);
}

/* --- pfs_fmt_size --- */

static void
fmt_is(uint64_t n, const char *want)
{
	char out[32];

	pfs_fmt_size(n, out, sizeof(out));
	assert_string_equal(out, want);
}

static void
test_fmt_size(void **state)
{
	(void)state;
	fmt_is(0, "0 B");
	fmt_is(1, "1 B");
	fmt_is(1023, "1023 B");
	fmt_is(1024, "1 KiB");
	fmt_is(1025, "1.0 KiB");
	fmt_is(1536, "1.5 KiB");
	fmt_is(MiB, "1 MiB");
	fmt_is(1536 * KiB, "1536 KiB");          /* exact: not "1.5 MiB" */
	fmt_is(10000, "9.8 KiB");
	fmt_is(256 * MiB, "256 MiB");
	fmt_is(3 * GiB, "3 GiB");
	fmt_is(5 * TiB, "5 TiB");
	fmt_is(1ull << 60, "1 EiB");
	fmt_is(UINT64_MAX, "16.0 EiB");
}

/* --- -T: pfs_parse_threads --- */

static void
threads_bad(const char *s, unsigned max, const char *msg)
{
	struct pfs_err e;
	unsigned v = 12345;

	if (pfs_parse_threads(s, max, &v, &e) != -1)
		fail_msg("'%s' accepted as %u", s, v);
	assert_int_equal(v, 12345);
	assert_string_equal(e.msg, msg);
}

static void
test_parse_threads(void **state)
{
	unsigned cpus = pfs_default_threads(), v;
	struct pfs_err e;

	(void)state;
	assert_int_equal(pfs_parse_threads("1", 16, &v, &e), 0);
	assert_int_equal(v, 1);
	assert_int_equal(pfs_parse_threads("16", 16, &v, &e), 0);
	assert_int_equal(v, 16);
	assert_int_equal(pfs_parse_threads("256", PFS_THREADS_MAX, &v, &e), 0);
	assert_int_equal(v, 256);
	/* 0: one per CPU, capped at the tool's limit, never an error (it was
	 * expanded first and then refused above 16 on big machines) */
	assert_int_equal(pfs_parse_threads("0", PFS_THREADS_MAX, &v, &e), 0);
	assert_int_equal(v, cpus);
	assert_int_equal(pfs_parse_threads("0", 16, &v, &e), 0);
	assert_int_equal(v, cpus < 16 ? cpus : 16);
	assert_int_equal(pfs_parse_threads("0", 1, &v, &e), 0);
	assert_int_equal(v, 1);
	threads_bad("17", 16, "'17' is out of range (0 to 16)");
	threads_bad("257", PFS_THREADS_MAX, "'257' is out of range (0 to 256)");
	threads_bad("-1", 16, "'-1' is out of range (0 to 16)");
	threads_bad("-0", 16, "'-0' is out of range (0 to 16)");
	threads_bad("x", 16, "invalid number 'x'");
	threads_bad("", 16, "invalid number ''");
}

/* --- the options every program shares (cli.h; the paths that do not
 * exit) --- */

static void
test_common_opt(void **state)
{
	struct pfs_common c;

	(void)state;
	unsetenv("PFS_STATS");
	pfs_common_init(&c, 2);
	assert_int_equal(c.stats, PFS_STATS_OFF);
	assert_int_equal(c.threads_max, 2);
	assert_true(c.threads >= 1 && c.threads <= 2);    /* as -T 0 */
	assert_int_equal(pfs_common_opt(&c, PFS_OPT_STATS, NULL), 1);
	assert_int_equal(c.stats, PFS_STATS_TEXT);
	assert_int_equal(pfs_common_opt(&c, PFS_OPT_STATS, "json"), 1);
	assert_int_equal(c.stats, PFS_STATS_JSON);
	assert_int_equal(pfs_common_opt(&c, 'T', "1"), 1);
	assert_int_equal(c.threads, 1);
	assert_int_equal(pfs_common_opt(&c, 'T', "0"), 1);
	assert_true(c.threads >= 1 && c.threads <= 2);
	assert_int_equal(pfs_common_opt(&c, 'x', NULL), 0);
	pfs_quiet = 0;
	assert_int_equal(pfs_common_opt(&c, 'q', NULL), 1);
	assert_int_equal(pfs_quiet, 1);
	pfs_quiet = 0;

	setenv("PFS_STATS", "json", 1);
	pfs_common_init(&c, PFS_THREADS_MAX);
	assert_int_equal(c.stats, PFS_STATS_JSON);
	unsetenv("PFS_STATS");
}

/* pfs_fail: pfs_die's message on stderr, even under -q, and the status
 * for main to return instead of exiting */
static void
test_fail(void **state)
{
	const char *prog = pfs_prog;
	FILE *f = tmpfile();
	char out[128];
	size_t len;
	int saved, rc;

	(void)state;
	assert_non_null(f);
	pfs_setprog("/usr/bin/ptool");
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fileno(f), 2), 2);
	pfs_quiet = 1;
	rc = pfs_fail("%s: chunk %d failed", "f.pfs", 7);
	pfs_quiet = 0;
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	rewind(f);
	len = fread(out, 1, sizeof(out) - 1, f);
	out[len] = '\0';
	fclose(f);
	pfs_prog = prog;
	assert_int_equal(rc, PFS_EXIT_ERR);
	assert_string_equal(out, "ptool: f.pfs: chunk 7 failed\n");
}

/* pfs_text_esc: one line, control bytes escaped, backslashes with bs
 * only, cut to fit without splitting an escape */
static void
test_text_esc(void **state)
{
	char out[64], small[8];

	(void)state;
	pfs_text_esc("a\nb\tc\001d\177e\\f", 0, out, sizeof(out));
	assert_string_equal(out, "a\\nb\\tc\\001d\\177e\\f");
	pfs_text_esc("a\\b\n", 1, out, sizeof(out));
	assert_string_equal(out, "a\\\\b\\n");
	pfs_text_esc("plain name.pfs", 1, out, sizeof(out));
	assert_string_equal(out, "plain name.pfs");
	pfs_text_esc("abc\001\001", 0, small, sizeof(small));
	assert_string_equal(small, "abc");
	assert_true(strlen(small) < sizeof(small));
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_range_edges),
		cmocka_unit_test(test_size_uint64_edges),
		cmocka_unit_test(test_size_suffixes),
		cmocka_unit_test(test_size_junk),
		cmocka_unit_test(test_int_range_edges),
		cmocka_unit_test(test_int_long_edges),
		cmocka_unit_test(test_int_junk),
		cmocka_unit_test(test_int_negative_when_min_not_negative),
		cmocka_unit_test(test_fmt_size),
		cmocka_unit_test(test_parse_threads),
		cmocka_unit_test(test_common_opt),
		cmocka_unit_test(test_fail),
		cmocka_unit_test(test_text_esc),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
