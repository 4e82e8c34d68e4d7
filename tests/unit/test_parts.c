/*
 * test_parts - common/parts.c: which bytes part I of N is (the parts tile
 * the source in whole chunks, even at the edges of uint64_t), the --part
 * and --source parsers, and the checks of a set of parts before a join.
 */
#include <stdio.h>
#include <stdlib.h>

#include "parts.h"
#include "unit.h"

/* every n-part cut of a source of size bytes at chunk size cs: parts
 * in order, whole chunks (but the end), never empty, at most one chunk
 * apart, together [0, size) */
static void
tiles(uint64_t size, uint32_t cs, uint64_t n)
{
	struct pfs_err e;
	uint64_t i, off, len, at = 0, lo = UINT64_MAX, hi = 0, c;

	for (i = 1; i <= n; i++) {
		if (pfs_part_bytes(size, cs, i, n, &off, &len, &e) != 0)
			fail_msg("%llu/%llu: %s", (unsigned long long)i,
			         (unsigned long long)n, e.msg);
		assert_int_equal(off, at);
		assert_int_equal(off % cs, 0);
		assert_true(len > 0);
		if (i < n) {
			assert_int_equal(len % cs, 0);
			c = len / cs;
			lo = c < lo ? c : lo;
			hi = c > hi ? c : hi;
		}
		at = off + len;
	}
	assert_int_equal(at, size);
	assert_true(n < 2 || hi - lo <= 1);
}

static void
test_part_bytes_tile(void **state)
{
	uint64_t n;

	(void)state;
	for (n = 1; n <= 19; n++)
		tiles(300 * 1024, 16384, n);
	tiles(16384 * 8, 16384, 8);
	tiles(1, 1024, 1);
	tiles(UINT64_MAX, 1024, 1);
	tiles(UINT64_MAX, 1024, PFS_PARTS_MAX);
	tiles(UINT64_MAX - 5, PFS_CHUNK_MAX, 7);
}

static void
test_part_bytes_more_parts_than_chunks(void **state)
{
	struct pfs_err e;
	uint64_t off = 7, len = 7;

	(void)state;
	assert_int_equal(pfs_part_bytes(300 * 1024, 16384, 1, 20, &off, &len,
	                                &e), -1);
	assert_string_equal(e.msg, "part 1/20: the source has only 19 chunks "
	                    "(at a chunk size of 16 KiB): 20 parts would "
	                    "leave some empty");
	assert_int_equal(pfs_part_bytes(0, 1024, 1, 1, &off, &len, &e), -1);
	assert_string_equal(e.msg, "part 1/1: the source has only 0 chunks "
	                    "(at a chunk size of 1 KiB): 1 parts would leave "
	                    "some empty");
	assert_int_equal(off, 7);
}

static void
test_parse_part(void **state)
{
	static const char *const bad[] = {
		"0/4", "5/4", "1/0", "", "/", "1/", "/4", "x", "1/x", "1/4/",
		"-1/4", "+1/4", " 1/4", "1/65537", "99999999999999999999/1",
	};
	struct pfs_err e;
	uint64_t i, n;
	size_t k;

	(void)state;
	assert_int_equal(pfs_parse_part("3/8", 0, &i, &n, &e), 0);
	assert_int_equal(i, 3);
	assert_int_equal(n, 8);
	assert_int_equal(pfs_parse_part("65536/65536", 0, &i, &n, &e), 0);
	assert_int_equal(pfs_parse_part("7", 1, &i, &n, &e), 0);
	assert_int_equal(i, 7);
	assert_int_equal(n, 0);
	assert_int_equal(pfs_parse_part("7", 0, &i, &n, &e), -1);
	assert_string_equal(e.msg, "invalid part '7' (expected I/N, 1 <= I "
	                    "<= N <= 65536, e.g. 3/8)");
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		if (pfs_parse_part(bad[k], 1, &i, &n, &e) != -1)
			fail_msg("'%s' accepted", bad[k]);
}

static void
test_parse_source(void **state)
{
	static const char *const bad[] = {
		"", "1:2:644", "x:1:644:f", "1:x:644:f", "1:1.:644:f",
		"1:1.1234567890:644:f", "1:1:8:f", "1:1::f", "1:1:17777:f",
		"1:1:644:", "1:1:644:..", "1:1:644:a/", ":1:644:f", "1:-1:644:f",
		"18446744073709551616:1:644:f",
	};
	struct pfs_head h;
	struct pfs_err e;
	size_t k;

	(void)state;
	pfs_head_init(&h, 1024);
	assert_int_equal(pfs_parse_source("307200:1795777098.4155:4755:"
	                                  "/d/a:b.bin", &h, &e), 0);
	assert_int_equal(h.flags, PFS_HF_SIZE | PFS_HF_META);
	assert_int_equal(h.size, 307200);
	assert_int_equal(h.mtime_sec, 1795777098);
	assert_int_equal(h.mtime_nsec, 415500000);
	assert_int_equal(h.mode, 04755);
	assert_string_equal(h.name, "a:b.bin");
	assert_int_equal(pfs_parse_source("0:0:0:f", &h, &e), 0);
	assert_int_equal(h.mtime_nsec, 0);
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		pfs_head_init(&h, 1024);
		if (pfs_parse_source(bad[k], &h, &e) != -1)
			fail_msg("'%s' accepted", bad[k]);
		assert_contains(e.msg, "expected SIZE:MTIME:MODE:NAME");
	}
}

/* part - p as part [off, off + len) of a 300 KiB source "f" */
static void
part(struct pfs_part *p, const char *name, uint64_t off, uint64_t len)
{
	struct pfs_err e;

	p->name = name;
	p->fd = -1;
	pfs_head_init(&p->head, 16384);
	assert_int_equal(pfs_parse_source("307200:5:644:f", &p->head, &e), 0);
	assert_int_equal(pfs_head_set_range(&p->head, off, off, len, &e), 0);
}

static void
test_parts_order(void **state)
{
	struct pfs_part p[4];
	struct pfs_err e;

	(void)state;
	part(&p[0], "c", 163840, 143360);
	part(&p[1], "a", 0, 81920);
	part(&p[2], "b", 81920, 81920);
	assert_int_equal(pfs_parts_order(p, 3, &e), 0);
	assert_string_equal(p[0].name, "a");
	assert_string_equal(p[1].name, "b");
	assert_string_equal(p[2].name, "c");

	part(&p[0], "a", 0, 81920);
	part(&p[1], "c", 163840, 143360);
	assert_int_equal(pfs_parts_order(p, 2, &e), -1);
	assert_string_equal(e.msg, "missing bytes 81920..163839 (chunks 5..9): "
	                    "a part is missing");
	part(&p[0], "b", 81920, 81920);
	part(&p[1], "c", 163840, 143360);
	assert_int_equal(pfs_parts_order(p, 2, &e), -1);
	assert_string_equal(e.msg, "missing bytes 0..81919 (chunks 0..4): "
	                    "a part is missing");
	part(&p[0], "a", 0, 81920);
	part(&p[1], "b", 81920, 81920);
	assert_int_equal(pfs_parts_order(p, 2, &e), -1);
	assert_string_equal(e.msg, "missing bytes 163840..307199 (chunks "
	                    "10..18): a part is missing");

	part(&p[0], "a", 0, 81920);
	part(&p[1], "b", 81920, 81920);
	part(&p[2], "b2", 81920, 81920);
	part(&p[3], "c", 163840, 143360);
	assert_int_equal(pfs_parts_order(p, 4, &e), -1);
	assert_contains(e.msg, "a part is given twice");
	part(&p[2], "x", 147456, 16384);
	assert_int_equal(pfs_parts_order(p, 4, &e), -1);
	assert_string_equal(e.msg, "x: bytes 147456..163839 are in b too: the "
	                    "parts overlap (cut with another --part N or "
	                    "--block?)");

	/* identity: the HEAD without the range fields */
	part(&p[0], "a", 0, 81920);
	part(&p[1], "b", 81920, 225280);
	p[1].head.mtime_nsec = 1;
	assert_int_equal(pfs_parts_order(p, 2, &e), -1);
	assert_string_equal(e.msg, "b: a part of another source or stage stack "
	                    "than a");
	part(&p[1], "b", 81920, 225280);
	p[1].head.flags &= ~PFS_HF_RANGE;
	assert_int_equal(pfs_parts_order(p, 2, &e), -1);
	assert_string_equal(e.msg, "b: a whole stream, not a part: it cannot "
	                    "be joined with others");
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_part_bytes_tile),
		cmocka_unit_test(test_part_bytes_more_parts_than_chunks),
		cmocka_unit_test(test_parse_part),
		cmocka_unit_test(test_parse_source),
		cmocka_unit_test(test_parts_order),
	};

	return cmocka_run_group_tests_name("parts", tests, NULL, NULL);
}
