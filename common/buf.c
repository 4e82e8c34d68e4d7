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

int
pfs_buf_reserve(struct pfs_buf *b, size_t n)
{
	size_t cap, skew, align;
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
	 * far fewer TLB misses while a chunk streams through */
	align = cap >= HUGE ? HUGE : 4096;
	if (posix_memalign(&base, align, cap + skew + 64) != 0) {
		errno = ENOMEM;
		return -1;
	}
#ifdef MADV_HUGEPAGE
	if (align == HUGE)
		(void)madvise(base, (cap + skew + 64) & ~(HUGE - 1), MADV_HUGEPAGE);
#endif
	p = (uint8_t *)base + skew;
	if (b->len)
		__builtin_memcpy(p, b->p, b->len);
	free(b->base);
	b->base = base;
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
}
