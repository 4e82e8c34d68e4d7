/*
 * buf.h - a growable byte buffer.
 *
 * Invariants: b->p is NULL only when b->cap is 0; b->len <= b->cap.  The
 * buffer owns its storage; pfs_buf_free() releases it and leaves an empty
 * buffer.  Growth is geometric and the storage is reused: a buffer that has
 * reached its working size is never reallocated again, which is what keeps
 * the stage engine free of per-chunk allocation (except where a payload is
 * given to a pipe: its buffer goes with it, frame.h pfs_writer_frame_buf).
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
	size_t msize;      /* its own mapping of this size (chunk-sized
	                      buffers), or 0: from malloc */
};

#define PFS_BUF_INIT { NULL, 0, 0, NULL, 0 }

/* pfs_buf_reserve - make cap >= n, keeping the first len bytes.
 * Returns 0, or -1 with errno ENOMEM. */
int pfs_buf_reserve(struct pfs_buf *b, size_t n);

/* pfs_buf_free - release storage; b becomes empty and reusable. */
void pfs_buf_free(struct pfs_buf *b);

/* pfs_buf_mapped - whether b's storage is a mapping of its own (every
 * buffer of 2 MiB or more): once pfs_buf_free unmaps it, no later
 * allocation of this process can reuse its pages, so they may be left
 * referenced by a pipe (vmsplice(2): frame.c, pfs_writer_frame_buf). */
static inline int
pfs_buf_mapped(const struct pfs_buf *b)
{
	return b->msize != 0;
}

/* pfs_buf_populate - fault in the first n bytes of a mapped buffer's
 * storage now (zeroed pages), on the calling thread, so that whoever fills
 * it next does not pay the faults; other buffers: nothing. */
void pfs_buf_populate(struct pfs_buf *b, size_t n);

/* Number of buffer (re)allocations made by this process so far; reported
 * by --stats to show that steady state allocates nothing per chunk (but
 * one fresh mapping per payload given to a pipe). */
extern unsigned long pfs_buf_allocs;

#endif
