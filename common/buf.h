/*
 * buf.h - a growable byte buffer.
 *
 * Invariants: b->p is NULL only when b->cap is 0; b->len <= b->cap.  The
 * buffer owns its storage; pfs_buf_free() releases it and leaves an empty
 * buffer.  Growth is geometric and the storage is reused: a buffer that has
 * reached its working size is never reallocated again, which is what keeps
 * the stage engine free of per-chunk allocation (a payload given to a pipe
 * leaves with its pages, and its buffer gets new ones in place:
 * pfs_buf_renew).
 *
 * Storage is 64-byte aligned and offset by a per-buffer amount modulo 4096
 * so that two buffers of equal size never sit 1-63 bytes apart modulo a page
 * (glibc's memcpy slows down ~15x for that pattern on this machine).
 */
#ifndef PFS_BUF_H
#define PFS_BUF_H

#include <stddef.h>
#include <stdint.h>

struct pfs_buf {
	uint8_t *p;
	size_t len, cap;
	void *base;        /* allocation start (p is offset into it) */
	size_t msize;      /* chunk-sized buffers: the whole pages from base
	                      that cover p .. p + cap (pfs_buf_renew), or 0 */
};

#define PFS_BUF_INIT { NULL, 0, 0, NULL, 0 }

/* pfs_buf_reserve - make cap >= n, keeping the first len bytes.
 * Returns 0, or -1 with errno ENOMEM. */
int pfs_buf_reserve(struct pfs_buf *b, size_t n);

/* pfs_buf_free - release storage; b becomes empty and reusable. */
void pfs_buf_free(struct pfs_buf *b);

/* pfs_buf_renewable - whether pfs_buf_renew works on b: every buffer of
 * 512 KiB or more (pfs_buf_reserve rounds one below 2 MiB up to 2 MiB and
 * asks for a 2 MiB page: one fault instead of up to 512, which on a
 * virtual machine with slow faults was most of a stage's CPU time). */
static inline int
pfs_buf_renewable(const struct pfs_buf *b)
{
	return b->msize != 0;
}

/* pfs_buf_huge_len - how many bytes from at (within b) lie in b's whole
 * 2 MiB pages, or 0 if at is outside them or b is not renewable.  Only
 * those pages are worth giving away: new pages in the 4 KiB tail of the
 * storage cost a fault each (docs/performance.md). */
size_t pfs_buf_huge_len(const struct pfs_buf *b, const void *at);

/* pfs_buf_renew - new pages for the pages of b's storage that hold its
 * first n bytes, 2 MiB pages whole (mmap(2) MAP_FIXED over them; malloc's
 * block and its bookkeeping stay as they are, so heap profilers see
 * nothing change); with fault, faulted in now on the calling thread
 * (MADV_POPULATE_WRITE, Linux 5.14 and later), so that whoever fills it
 * next does not pay the faults (without, a buffer that is not filled
 * again costs no more than the mapping); the pages after them are kept.
 * len becomes 0.  The old pages are then mapped nowhere in this process, so
 * they may be left referenced by a pipe (vmsplice(2): frame.c,
 * pfs_writer_frame_buf).  Returns 0; or -1 when b is not renewable, or
 * when mapping failed: then b is left empty and its block abandoned
 * (never freed: malloc would hand out its old pages again). */
int pfs_buf_renew(struct pfs_buf *b, size_t n, int fault);

/* pfs_buf_renew_span - how many bytes of storage, from its start,
 * pfs_buf_renew(b, n) maps anew: whole 2 MiB pages (the last may be the
 * 4 KiB tail); 0 when b is not renewable. */
size_t pfs_buf_renew_span(const struct pfs_buf *b, size_t n);

/* Number of buffer (re)allocations made by this process so far; reported
 * by --stats to show that steady state allocates nothing per chunk. */
extern unsigned long pfs_buf_allocs;

#endif
