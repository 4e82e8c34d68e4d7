#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "buf.h"

unsigned long pfs_buf_allocs;

#define HUGE ((size_t)2 << 20)

/* Per-buffer offset modulo the page: buffers allocated one after another get
 * different offsets (multiples of 64 + 256), so equal-sized buffers never sit
 * a few bytes apart modulo 4096. */
static unsigned next_skew;

static void
release(void *base, size_t msize)
{
	if (msize)
		munmap(base, msize);
	else
		free(base);
}

/* map - size bytes (a multiple of HUGE) in a mapping of their own, aligned
 * to HUGE so that the kernel can back it with 2 MiB pages */
static void *
map(size_t size)
{
	uint8_t *m, *a;
	size_t head;

	if (size > SIZE_MAX - HUGE)
		return NULL;
	m = mmap(NULL, size + HUGE, PROT_READ | PROT_WRITE,
	         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	a = (uint8_t *)(((uintptr_t)m + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
	head = (size_t)(a - m);
	if (head)
		munmap(m, head);
	munmap(a + size, HUGE - head);
	return a;
}

int
pfs_buf_reserve(struct pfs_buf *b, size_t n)
{
	size_t cap, skew, msize = 0;
	void *base;
	uint8_t *p;

	if (n <= b->cap)
		return 0;
	/* geometric growth, but an exact first fit: a buffer sized for one
	 * chunk is usually right at once and never grows again */
	cap = b->cap + b->cap / 2;
	if (cap < n)
		cap = n;
	if (cap > SIZE_MAX - 8192) {
		errno = ENOMEM;
		return -1;
	}
	cap = (cap + 4095) & ~(size_t)4095;
	skew = (size_t)(__atomic_fetch_add(&next_skew, 1, __ATOMIC_RELAXED) % 8u) * 320u;
	if (cap > SIZE_MAX - skew - 64) {
		errno = ENOMEM;
		return -1;
	}
	/* a chunk-sized buffer in 2 MiB pages where the kernel offers them
	 * (transparent huge pages on madvise): one fault instead of 512, and
	 * far fewer TLB misses while a chunk streams through.  It is a
	 * mapping of its own, never malloc's, so that its pages can be given
	 * to a pipe (pfs_buf_mapped). */
	if (cap >= HUGE) {
		msize = (cap + skew + 64 + HUGE - 1) & ~(HUGE - 1);
		base = map(msize);
		if (!base) {
			errno = ENOMEM;
			return -1;
		}
#ifdef MADV_HUGEPAGE
		(void)madvise(base, msize, MADV_HUGEPAGE);
#endif
	} else if (posix_memalign(&base, 4096, cap + skew + 64) != 0) {
		errno = ENOMEM;
		return -1;
	}
	p = (uint8_t *)base + skew;
	if (b->len)
		__builtin_memcpy(p, b->p, b->len);
	release(b->base, b->msize);
	b->base = base;
	b->msize = msize;
	b->p = p;
	b->cap = cap;
	__atomic_fetch_add(&pfs_buf_allocs, 1, __ATOMIC_RELAXED);
	return 0;
}

void
pfs_buf_free(struct pfs_buf *b)
{
	release(b->base, b->msize);
	b->base = NULL;
	b->msize = 0;
	b->p = NULL;
	b->len = b->cap = 0;
}

void
pfs_buf_populate(struct pfs_buf *b, size_t n)
{
#ifdef MADV_POPULATE_WRITE
	uintptr_t a, z;

	if (!b->msize || !n)
		return;
	if (n > b->cap)
		n = b->cap;
	a = (uintptr_t)b->p & ~(uintptr_t)4095;
	z = ((uintptr_t)b->p + n + 4095) & ~(uintptr_t)4095;
	(void)madvise((void *)a, z - a, MADV_POPULATE_WRITE);
#else
	(void)b;
	(void)n;
#endif
}
