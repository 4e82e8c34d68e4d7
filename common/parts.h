/*
 * parts.h - one file in parts: which bytes part I of N is (pchunk --part),
 * the source identity a part made from standard input is given
 * (pchunk --source), and the checks that a set of parts restores exactly
 * one source (pjoin -o OUT PART...).  See docs/format.md, "Parts".
 *
 * Invariants:
 *  - A part is a range stream (head.h, PFS_HF_RANGE) whose chunks sit on
 *    the whole source's chunk grid; part I of N of a source of C chunks is
 *    chunks [floor((I-1) C / N), floor(I C / N)), so parts are never empty
 *    (N <= C) and differ by one chunk at most.
 *  - The identity of a part is its HEAD encoded without the range fields:
 *    name, size, mode, mtime, chunk size and stage stack.  Parts of one
 *    source share it byte for byte, whichever host made them.
 *  - struct pfs_part is a plain value: name points into the caller's
 *    strings (argv), nothing is owned.
 * Errors: 0 or -1 with e set (the message names the part); nothing here
 * prints or exits.
 */
#ifndef PFS_PARTS_H
#define PFS_PARTS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "head.h"

/* the most parts a file is cut into (and that pjoin joins) */
#define PFS_PARTS_MAX 65536u

/* pfs_parse_part - "I/N" (1 <= I <= N <= PFS_PARTS_MAX) or, when n may be
 * left out (n_opt), "I" alone (*n = 0). */
int pfs_parse_part(const char *s, int n_opt, uint64_t *i, uint64_t *n,
                   struct pfs_err *e);

/* pfs_part_bytes - the bytes [*off, *off + *len) of part i of n of a
 * source of size bytes cut into chunks of cs.  -1 with "part I/N: the
 * source has only C chunks (at a chunk size of CS): N parts would leave
 * some empty" when n > C. */
int pfs_part_bytes(uint64_t size, uint32_t cs, uint64_t i, uint64_t n,
                   uint64_t *off, uint64_t *len, struct pfs_err *e);

/* pfs_parse_source - "SIZE:MTIME:MODE:NAME", what
 * `stat -c %s:%.9Y:%a:%n FILE` prints (MTIME seconds with an optional
 * fraction of up to 9 digits, MODE in octal, NAME the rest, of which the
 * last path component is kept): sets h's size, mode, mtime and name and
 * the flags PFS_HF_SIZE | PFS_HF_META, as pchunk does for FILE itself. */
int pfs_parse_source(const char *s, struct pfs_head *h, struct pfs_err *e);

/* pfs_head_identity - h encoded without its range fields, into b. */
int pfs_head_identity(const struct pfs_head *h, struct pfs_buf *b,
                      struct pfs_err *e);

struct pfs_part {
	const char *name;          /* the operand, for messages; not owned */
	int fd;                    /* the caller's; carried along the sort */
	struct pfs_head head;
};

/* pfs_part_open - open the stream file p->name into p->fd (the caller
 * closes it, also on error, when it is not -1) and read its HEAD into
 * p->head, and its index when it has one, so that a damaged index is
 * found now; the file offset is back at 0 for a reader.  A part whose
 * stack holds more than HASH records is refused ("p1.pfs: stream is still
 * compressed (zstd -3): run 'pcompress -d' first"): each part is
 * restored on its own before a join.  Reading standard input ("-") is
 * the caller's to refuse: its HEAD could not be read twice. */
int pfs_part_open(struct pfs_part *p, struct pfs_err *e);

/* pfs_parts_order - check that the parts p[0..n) (n >= 2, their heads
 * read) restore one source: each a range stream of a source of known
 * size, all with p[0]'s identity, their ranges tiling [0, size) exactly;
 * then sort p by offset.  Messages:
 *   "p3.pfs: a part of another source or stage stack than p1.pfs"
 *   "p2.pfs: a whole stream, not a part: it cannot be joined with others"
 *   "p4.pfs: the same part as p2.pfs (bytes A..B): a part is given twice"
 *   "p4.pfs: bytes A..B are in p2.pfs too: the parts overlap (...)"
 *   "p2.pfs: given twice" (the same operand)
 *   "missing bytes A..B (chunks X..Y): a part is missing"
 * (A..B and X..Y inclusive). */
int pfs_parts_order(struct pfs_part *p, size_t n, struct pfs_err *e);

#endif
