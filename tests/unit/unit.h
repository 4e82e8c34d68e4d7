/*
 * unit.h - what every tests/unit/test_*.c shares: cmocka, and a few helpers
 * (tests/unit/support.c) to build frame streams byte by byte and read them
 * back through a real file descriptor.
 *
 * Each test_*.c is one program with one cmocka group; tests/unit/unit.mk
 * links it with support.o and $(BUILD)/libcommon.a and runs it with
 * CMOCKA_MESSAGE_OUTPUT=TAP.  A test that shows a bug in common/ stays in
 * the file and calls UNIT_SKIP_BUG("...") first, so the suite stays green
 * and the reason is printed with the SKIP.
 */
#ifndef PFS_UNIT_H
#define PFS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "err.h"
#include "frame.h"
#include "head.h"

/* fail unless msg contains sub, printing both */
#define assert_contains(msg, sub) do { \
	if (!strstr((msg), (sub))) \
		fail_msg("'%s' does not contain '%s'", (msg), (sub)); \
} while (0)

/* a test that shows a known, reported bug in common/: skip it, saying why */
#define UNIT_SKIP_BUG(reason) do { \
	print_message("# known bug in common/: %s\n", (reason)); \
	skip(); \
} while (0)

/* --- building streams (b grows; every helper fails the test on ENOMEM) --- */

/* append n bytes */
void ub_bytes(struct pfs_buf *b, const void *p, size_t n);
/* append the 8 signature bytes */
void ub_sig(struct pfs_buf *b);
/* append a 32-byte header for these fields (flags 0) and len payload bytes
 * (payload, or a 0x5a pattern when payload is NULL); returns the offset of
 * the header in b */
size_t ub_frame(struct pfs_buf *b, uint8_t type, uint32_t len, uint64_t seq,
                uint64_t raw, const void *payload);
/* append only a header (no payload bytes, whatever len says) */
size_t ub_hdr(struct pfs_buf *b, uint8_t type, uint32_t len, uint64_t seq,
              uint64_t raw);
/* recompute the checksum of the header at hdr (after editing its bytes) */
void ub_hdr_fix(uint8_t *hdr);
/* append an INDEX frame (docs/format.md, "Index") for a stream whose n
 * DATA frames start at off[0..n-1] and whose END frame starts at off[n],
 * its first chunk being chunk `first`; returns the offset of its header */
size_t ub_index_of(struct pfs_buf *b, const uint64_t *off, uint64_t n,
                   uint64_t first);
/* append the INDEX frame of the stream in b, which ends with its END frame:
 * the offsets are those of b's DATA frames and of its END frame, as every
 * writer finds them */
size_t ub_index(struct pfs_buf *b);
/* append a HEAD frame for h */
void ub_head(struct pfs_buf *b, const struct pfs_head *h);
/* signature + HEAD of an empty stack, chunk size cs */
void ub_start(struct pfs_buf *b, uint32_t cs);

/* --- setup --- */

/* a cmocka group setup: pfs_crypto_init(), failing the group if it fails */
int ub_crypto_setup(void **state);

/* --- reading them back --- */

/* a read-only descriptor positioned at the first of n bytes (an unlinked
 * temporary file) */
int ub_fd(const void *p, size_t n);

/* read a whole stream as every tool does (start, next until 0) from a temp
 * file named "in".  Returns 0 for a valid stream or -1 with the message in
 * e; *frames (if not NULL) counts the frames returned after HEAD. */
int ub_read(const void *p, size_t n, struct pfs_err *e, uint64_t *frames);

#endif
