/*
 * feed.h - the HEAD of a stream on standard input, read before the stages
 * that undo it start, and a feeder: a child process that gives the first
 * stage the whole stream again (the bytes read for the HEAD first, then
 * the rest of standard input).
 *
 * Invariants and ownership:
 *  - struct pfs_feed belongs to the caller; all zero is "nothing read, no
 *    feeder".  pre is owned by it: pfs_feed_free() releases it, whatever
 *    failed before.
 *  - When standard input is a regular file, nothing is kept (pre stays
 *    NULL): the HEAD is read and the offset put back, and the first stage
 *    can read fd 0 itself.  From a pipe, the bytes read are kept in pre
 *    (at most the signature, the frame header and 1 MiB of HEAD payload)
 *    and a feeder is needed (len != 0).
 *  - Nothing here prints or exits in the caller.  The feeder child reports
 *    a read error through the caller's callback, then exits with 1; a
 *    reader that went away ends it with 0.
 */
#ifndef PFS_FEED_H
#define PFS_FEED_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "frame.h"
#include "head.h"

struct pfs_feed {
	uint8_t *pre;                /* the bytes read for the HEAD, or NULL */
	size_t len;                  /* how many; 0: no feeder needed */
	pid_t pid;                   /* the feeder; 0: none */
};

/* pfs_feed_head - read the HEAD of the stream on standard input into h
 * through r (a terminal is refused).  From a pipe the bytes are parsed from
 * a copy in a temporary file, whose descriptor is stored in *tmp_fd as soon
 * as it exists (else *tmp_fd is left alone); the caller closes it after
 * pfs_reader_free(r).  On success r is started; the caller frees it either
 * way once r->fd is not -1.  0, or -1 with e set. */
int pfs_feed_head(struct pfs_feed *f, struct pfs_reader *r,
                  struct pfs_head *h, int *tmp_fd, struct pfs_err *e);

/* pfs_feed_start - fork the feeder: it writes f->pre, then the rest of
 * standard input, to a new pipe whose read end (close-on-exec) is stored
 * in *in_fd for the first stage; the caller closes it once the stage has
 * started.  In the child, a read error on standard input is handed to
 * fail(e) ("stdin: REASON") before it exits with 1.  0, or -1 with e set
 * (pipe(2) or fork(2) failed; nothing is left open). */
int pfs_feed_start(struct pfs_feed *f, void (*fail)(const struct pfs_err *e),
                   int *in_fd, struct pfs_err *e);

/* pfs_feed_wait - reap the feeder, if one was started (EINTR retried), for
 * after the stages it fed have ended: one still running then (waiting for
 * its writer, which may never write or close) is killed first. */
void pfs_feed_wait(struct pfs_feed *f);

/* pfs_feed_free - release pre; f is all zero again but for pid, which
 * pfs_feed_wait() must have reaped before. */
void pfs_feed_free(struct pfs_feed *f);

#endif
