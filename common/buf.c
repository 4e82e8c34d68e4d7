#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "buf.h"

unsigned long pfs_buf_allocs;

#define HUGE ((size_t)2 << 20)
#define PAGE ((size_t)4096)

/* Per-buffer offset modulo the page: buffers allocated one after another get
 * different offsets (multiples of 64 + 256), so equal-sized buffers never sit
 * a few bytes apart modulo 4096. */
static unsigned next_skew;

/* huge - ask for 2 MiB pages over the whole ones in [base, base + n) */
static void
huge(void *base, size_t n)
{
#ifdef MADV_HUGEPAGE
	if (n >= HUGE)
		(void)madvise(base, n & ~(HUGE - 1), MADV_HUGEPAGE);
#else
	(void)base;
	(void)n;
#endif
}

int
pfs_buf_reserve(struct pfs_buf *b, size_t n)
{
	size_t cap, skew, align, size;
	void *base;
	uint8_t *p;

	if (n <= b->cap)
		return 0;
	/* geometric growth, but an exact first fit: a buffer sized for one
	 * chunk is usually right at once and never grows again */
	cap = b->cap + b->cap / 2;
	if (cap < n)
		cap = n;
	if (cap > SIZE_MAX - 16384) {
		errno = ENOMEM;
		return -1;
	}
	cap = (cap + PAGE - 1) & ~(PAGE - 1);
	/* from 512 KiB (a compressed chunk), a whole 2 MiB page: on the
	 * 2-core VM here a 4 KiB fault costs 15 to 30 us, and 256 of them per
	 * megabyte were most of pencrypt -d's CPU time (110 ms of CPU for
	 * 14.6 MB before this and the heap HEAD copies of head.c, 30 ms
	 * after: perf stat -r 7, docs/performance.md) */
	if (cap >= HUGE / 4 && cap < HUGE)
		cap = HUGE;
	skew = (size_t)(__atomic_fetch_add(&next_skew, 1, __ATOMIC_RELAXED) % 8u) * 320u;
	/* a chunk-sized buffer in 2 MiB pages where the kernel offers them
	 * (transparent huge pages on madvise): one fault instead of 512, and
	 * far fewer TLB misses while a chunk streams through.  A page more,
	 * so that the whole pages from base cover p .. p + cap: those are the
	 * pages pfs_buf_renew may replace. */
	align = cap >= HUGE ? HUGE : PAGE;
	size = cap + skew + 64 + (align == HUGE ? PAGE : 0);
	if (posix_memalign(&base, align, size) != 0) {
		errno = ENOMEM;
		return -1;
	}
	if (align == HUGE)
		huge(base, size & ~(PAGE - 1));
	p = (uint8_t *)base + skew;
	if (b->len)
		__builtin_memcpy(p, b->p, b->len);
	free(b->base);
	b->base = base;
	b->msize = align == HUGE ? size & ~(PAGE - 1) : 0;
	b->p = p;
	b->cap = cap;
	__atomic_fetch_add(&pfs_buf_allocs, 1, __ATOMIC_RELAXED);
	return 0;
}

void
pfs_buf_free(struct pfs_buf *b)
{
	free(b->base);
	b->base = NULL;
	b->p = NULL;
	b->len = b->cap = 0;
	b->msize = 0;
}

/* populate - fault in the first n bytes of b's storage now (Linux 5.14
 * and later; before, nothing), on the calling thread, so that whoever fills
 * it next does not pay the faults */
static void
populate(struct pfs_buf *b, size_t n)
{
#ifdef MADV_POPULATE_WRITE
	uintptr_t a, z;

	if (!b->msize || !n)
		return;
	if (n > b->cap)
		n = b->cap;
	a = (uintptr_t)b->p & ~(uintptr_t)(PAGE - 1);
	z = ((uintptr_t)b->p + n + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
	(void)madvise((void *)a, z - a, MADV_POPULATE_WRITE);
#else
	(void)b;
	(void)n;
#endif
}

size_t
pfs_buf_huge_len(const struct pfs_buf *b, const void *at)
{
	uintptr_t end = (uintptr_t)b->base + (b->msize & ~(HUGE - 1));

	if (!b->msize || (uintptr_t)at < (uintptr_t)b->p ||
	    (uintptr_t)at >= end)
		return 0;
	return end - (uintptr_t)at;
}

size_t
pfs_buf_renew_span(const struct pfs_buf *b, size_t n)
{
	size_t m;

	if (!b->msize)
		return 0;
	if (n > b->cap)
		n = b->cap;
	/* the 2 MiB pages that hold the first n bytes (the last of them is
	 * the storage's 4 KiB tail if n reaches it); the pages after them,
	 * never given away, keep their place and stay faulted in */
	m = (size_t)(b->p - (uint8_t *)b->base) + n;
	m = (m + HUGE - 1) & ~(HUGE - 1);
	return m > b->msize ? b->msize : m;
}

int
pfs_buf_renew(struct pfs_buf *b, size_t n, int fault)
{
	const struct pfs_buf none = PFS_BUF_INIT;
	size_t m;
	void *m_at;

	if (!b->msize)
		return -1;
	m = pfs_buf_renew_span(b, n);
	/* new pages at the same addresses; the old ones are no longer
	 * mapped here, whoever else holds them */
	m_at = mmap(b->base, m, PROT_READ | PROT_WRITE,
	            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (m_at == MAP_FAILED) {
		/* the old pages are still mapped and may still be read by
		 * others: the block is given up, never freed, because malloc
		 * would hand it out again */
		*b = none;
		return -1;
	}
	huge(b->base, m);
	b->len = 0;
	if (fault)
		populate(b, n);
	return 0;
}
