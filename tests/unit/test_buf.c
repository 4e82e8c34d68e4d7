/*
 * test_buf - common/buf.c: growth keeps the contents, storage is 64-byte
 * aligned and skewed per buffer modulo the page, a buffer at its working
 * size never reallocates, pfs_buf_allocs counts every (re)allocation, and
 * pfs_buf_renew gives new pages to the whole 2 MiB pages that held the bytes
 * given to a pipe, and only to them, and pfs_buf_renew_span says how many
 * bytes those pages are.
 */
#define _GNU_SOURCE            /* vmsplice(2), F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "unit.h"

static void
fill(struct pfs_buf *b, size_t n, unsigned seed)
{
	assert_int_equal(pfs_buf_reserve(b, n), 0);
	for (size_t i = 0; i < n; i++)
		b->p[i] = (uint8_t)(i * 31 + seed);
	b->len = n;
}

static void
check(const struct pfs_buf *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (b->p[i] != (uint8_t)(i * 31 + seed))
			fail_msg("byte %zu of %zu changed", i, n);
}

static void
test_empty(void **state)
{
	struct pfs_buf b = PFS_BUF_INIT;
	unsigned long before = pfs_buf_allocs;

	(void)state;
	/* reserving nothing allocates nothing: p is NULL only when cap is 0 */
	assert_int_equal(pfs_buf_reserve(&b, 0), 0);
	assert_null(b.p);
	assert_int_equal(b.cap, 0);
	assert_int_equal(pfs_buf_allocs, before);
	pfs_buf_free(&b);
	assert_null(b.p);
}

static void
test_growth_keeps_contents(void **state)
{
	static const size_t sizes[] = { 1, 100, 4096, 4097, 65536, 1000000,
	                                3000000 };
	struct pfs_buf b = PFS_BUF_INIT;

	(void)state;
	fill(&b, 100, 7);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(pfs_buf_reserve(&b, sizes[i]), 0);
		assert_true(b.cap >= sizes[i]);
		assert_true(b.len <= b.cap);
		assert_int_equal(b.len, 100);
		check(&b, 100, 7);
	}
	/* a full buffer too */
	fill(&b, b.cap, 3);
	{
		size_t n = b.cap;
		assert_int_equal(pfs_buf_reserve(&b, n + 1), 0);
		check(&b, n, 3);
	}
	pfs_buf_free(&b);
}

static void
test_growth_is_geometric(void **state)
{
	struct pfs_buf b = PFS_BUF_INIT;
	unsigned long before;
	size_t old;

	(void)state;
	assert_int_equal(pfs_buf_reserve(&b, 10000), 0);
	before = pfs_buf_allocs;
	for (int i = 0; i < 10; i++) {
		old = b.cap;
		assert_int_equal(pfs_buf_reserve(&b, old + 1), 0);
		assert_true(b.cap >= old + old / 2);
	}
	assert_int_equal(pfs_buf_allocs - before, 10);
	pfs_buf_free(&b);
}

static void
test_aligned_64(void **state)
{
	struct pfs_buf b[40];

	(void)state;
	for (size_t i = 0; i < 40; i++) {
		b[i] = (struct pfs_buf)PFS_BUF_INIT;
		assert_int_equal(pfs_buf_reserve(&b[i], 1 + i * 1000), 0);
		assert_int_equal((uintptr_t)b[i].p % 64, 0);
		assert_int_equal(pfs_buf_reserve(&b[i], 70000 + i), 0);
		assert_int_equal((uintptr_t)b[i].p % 64, 0);
	}
	for (size_t i = 0; i < 40; i++)
		pfs_buf_free(&b[i]);
}

/* buf.h: two buffers of equal size never sit 1-63 bytes apart modulo a
 * page, and buffers allocated one after another start at different
 * offsets in it */
static void
test_skew_modulo_page(void **state)
{
	enum { N = 8 };
	struct pfs_buf b[N];

	(void)state;
	for (size_t i = 0; i < N; i++) {
		b[i] = (struct pfs_buf)PFS_BUF_INIT;
		assert_int_equal(pfs_buf_reserve(&b[i], 1u << 20), 0);
	}
	for (size_t i = 0; i < N; i++)
		for (size_t j = 0; j < N; j++) {
			size_t d = ((uintptr_t)b[i].p - (uintptr_t)b[j].p) % 4096;
			if (i == j)
				continue;
			if (d % 4096 != 0 && (d < 64 || d > 4096 - 64))
				fail_msg("buffers %zu and %zu are %zu bytes "
				         "apart modulo 4096", i, j, d);
		}
	for (size_t i = 0; i + 1 < N; i++)
		assert_int_not_equal((uintptr_t)b[i].p % 4096,
		                     (uintptr_t)b[i + 1].p % 4096);
	for (size_t i = 0; i < N; i++)
		pfs_buf_free(&b[i]);
}

static void
test_alloc_counter(void **state)
{
	struct pfs_buf b = PFS_BUF_INIT;
	unsigned long before = pfs_buf_allocs;
	size_t cap;

	(void)state;
	assert_int_equal(pfs_buf_reserve(&b, 5000), 0);
	assert_int_equal(pfs_buf_allocs - before, 1);
	cap = b.cap;
	/* at its working size, a buffer never reallocates */
	for (int i = 0; i < 100; i++) {
		assert_int_equal(pfs_buf_reserve(&b, cap), 0);
		assert_int_equal(pfs_buf_reserve(&b, (size_t)i), 0);
	}
	assert_int_equal(pfs_buf_allocs - before, 1);
	assert_int_equal(b.cap, cap);
	assert_int_equal(pfs_buf_reserve(&b, cap + 1), 0);
	assert_int_equal(pfs_buf_allocs - before, 2);
	/* a freed buffer is reusable and allocates again */
	pfs_buf_free(&b);
	assert_int_equal(pfs_buf_allocs - before, 2);
	assert_int_equal(pfs_buf_reserve(&b, 10), 0);
	assert_int_equal(pfs_buf_allocs - before, 3);
	pfs_buf_free(&b);
}

static void
test_free_leaves_empty(void **state)
{
	struct pfs_buf b = PFS_BUF_INIT;

	(void)state;
	fill(&b, 1000, 1);
	pfs_buf_free(&b);
	assert_null(b.p);
	assert_null(b.base);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	pfs_buf_free(&b);                /* twice is harmless */
	fill(&b, 10, 2);
	check(&b, 10, 2);
	pfs_buf_free(&b);
}

static void
test_impossible_size(void **state)
{
	struct pfs_buf b = PFS_BUF_INIT;
	unsigned long before;
	uint8_t *p;
	size_t cap;

	(void)state;
	fill(&b, 100, 9);
	p = b.p;
	cap = b.cap;
	before = pfs_buf_allocs;
	errno = 0;
	assert_int_equal(pfs_buf_reserve(&b, SIZE_MAX), -1);
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_int_equal(pfs_buf_reserve(&b, SIZE_MAX - 4096), -1);
	assert_int_equal(errno, ENOMEM);
	/* unchanged */
	assert_ptr_equal(b.p, p);
	assert_int_equal(b.cap, cap);
	assert_int_equal(b.len, 100);
	check(&b, 100, 9);
	assert_int_equal(pfs_buf_allocs, before);
	pfs_buf_free(&b);
}

/* A payload of 3,000,000 bytes (a compressed chunk) lies in one whole
 * 2 MiB page and the storage's 4 KiB tail; 512 KiB of it given to a pipe and
 * the buffer renewed: the pipe still reads the old bytes after the buffer
 * is written again, the bytes of the renewed 2 MiB page are gone (new
 * pages), and the tail, never given, keeps its bytes. */
static void
test_renew_part(void **state)
{
	struct pfs_buf b = PFS_BUF_INIT;
	size_t h, n = (size_t)512 << 10;
	struct iovec v;
	uint8_t *got;
	int fd[2];
	ssize_t k;

	(void)state;
	fill(&b, 3000000, 5);
	assert_true(pfs_buf_renewable(&b));
	h = pfs_buf_huge_len(&b, b.p);
	assert_true(h >= n);
	assert_true(h < b.cap);
	assert_int_equal(((uintptr_t)b.p + h) % ((size_t)2 << 20), 0);
	assert_int_equal(pfs_buf_huge_len(&b, b.p + h), 0);
	assert_int_equal(pfs_buf_huge_len(&b, b.p + h - 1), 1);
	assert_int_equal(pfs_buf_huge_len(&b, b.p - 1), 0);

	assert_int_equal(pipe(fd), 0);
	/* room for the given pages (one more: b.p is not page-aligned),
	 * so that vmsplice does not wait for a reader */
	if (fcntl(fd[1], F_SETPIPE_SZ, (int)(2 * n)) < (int)(2 * n))
		skip();
	v.iov_base = b.p;
	v.iov_len = n;
	for (size_t given = 0; given < n; given += (size_t)k) {
		k = vmsplice(fd[1], &v, 1, 0);
		assert_true(k > 0);
		v.iov_base = (uint8_t *)v.iov_base + k;
		v.iov_len -= (size_t)k;
	}
	assert_int_equal(pfs_buf_renew(&b, n, 1), 0);
	assert_int_equal(b.len, 0);
	/* the renewed page: new, zeroed; the tail: as it was */
	for (size_t i = 0; i < h; i += 4096)
		if (b.p[i] != 0)
			fail_msg("byte %zu of the renewed page is %u", i, b.p[i]);
	for (size_t i = h; i < 3000000; i++)
		if (b.p[i] != (uint8_t)(i * 31 + 5))
			fail_msg("byte %zu of the tail changed", i);
	/* written again: the pipe has the bytes as they were given */
	memset(b.p, 0xee, b.cap);
	got = malloc(n);
	assert_non_null(got);
	for (size_t have = 0; have < n; have += (size_t)k) {
		k = read(fd[0], got + have, n - have);
		assert_true(k > 0);
	}
	for (size_t i = 0; i < n; i++)
		if (got[i] != (uint8_t)(i * 31 + 5))
			fail_msg("byte %zu in the pipe changed", i);
	free(got);
	close(fd[0]);
	close(fd[1]);
	pfs_buf_free(&b);
}

/* The span pfs_buf_renew maps anew: whole 2 MiB pages from the storage's
 * start up to the n-th byte, the 4 KiB tail with them once n reaches it;
 * nothing for a small buffer (not renewable). */
static void
test_renew_span(void **state)
{
	const size_t huge = (size_t)2 << 20;
	struct pfs_buf b = PFS_BUF_INIT, small = PFS_BUF_INIT;
	size_t h, all;

	(void)state;
	fill(&b, 3000000, 9);
	h = pfs_buf_huge_len(&b, b.p);
	assert_int_equal(pfs_buf_renew_span(&b, 1), huge);
	assert_int_equal(pfs_buf_renew_span(&b, h), huge);
	/* past the whole pages: the tail too, and no more than the storage */
	all = pfs_buf_renew_span(&b, h + 1);
	assert_true(all > huge);
	assert_true(all < 2 * huge);
	assert_int_equal(all % 4096, 0);
	assert_int_equal(pfs_buf_renew_span(&b, b.cap), all);
	assert_int_equal(pfs_buf_renew_span(&b, (size_t)-1), all);
	/* a 1.2 MB payload in it would leave 43 % of its 2 MiB page unused:
	 * the writer copies such a payload (common/frame.c, gift_len) */
	assert_true(1200000 / 5 < pfs_buf_renew_span(&b, 1200000) / 8);
	fill(&small, 4096, 1);
	assert_false(pfs_buf_renewable(&small));
	assert_int_equal(pfs_buf_renew_span(&small, 4096), 0);
	pfs_buf_free(&small);
	pfs_buf_free(&b);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_growth_keeps_contents),
		cmocka_unit_test(test_growth_is_geometric),
		cmocka_unit_test(test_aligned_64),
		cmocka_unit_test(test_skew_modulo_page),
		cmocka_unit_test(test_alloc_counter),
		cmocka_unit_test(test_free_leaves_empty),
		cmocka_unit_test(test_impossible_size),
		cmocka_unit_test(test_renew_part),
		cmocka_unit_test(test_renew_span),
	};

	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
