/*
 * fuzz_frame - arbitrary bytes as a frame stream through the reader
 * (common/frame.c): pfs_reader_start, then pfs_reader_next until 0 or -1.
 *
 * The input is fixed up first (fuzz.h: header checks recomputed).  Inputs
 * of even length are read from a memfd (full reads); inputs of odd length
 * through a socket fed by a thread in small pieces of varying size, so that
 * the reader's short-read and read-ahead paths (fill(), read_payload()) are
 * exercised too.
 *
 * Invariants checked (frame.h), a violation traps:
 *  - HEAD as parsed re-encodes to exactly the payload that was read;
 *  - every frame returned has payload->len == hdr.len, is not HEAD, and a
 *    DATA frame has the next seq, 1 <= raw <= chunk size, len <= cap;
 *  - 0 is returned only after exactly one END, and again on the next call;
 *  - a successful stream's END totals equal the DATA frames seen.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frame.h"
#include "head.h"
#include "fuzz.h"

struct feeder {
	int fd;
	const uint8_t *p;
	size_t n;
};

static void *
feed(void *arg)
{
	struct feeder *f = arg;
	uint32_t x = (uint32_t)f->n * 2654435761u + 1u;
	size_t off = 0, k;
	ssize_t w;

	while (off < f->n) {
		x = x * 1103515245u + 12345u;
		k = 1 + (x >> 16) % 97u;
		if (k > f->n - off)
			k = f->n - off;
		w = send(f->fd, f->p + off, k, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;              /* the reader stopped early */
		off += (size_t)w;
	}
	shutdown(f->fd, SHUT_WR);
	return NULL;
}

static void
run(int fd)
{
	struct pfs_reader r;
	struct pfs_head head;
	struct pfs_hdr h;
	struct pfs_buf pay = PFS_BUF_INIT, enc = PFS_BUF_INIT;
	struct pfs_err e;
	uint64_t ndata = 0, raw = 0, end_seq = 0, end_raw = 0;
	int rc, nend = 0;

	pfs_reader_init(&r, fd, "fuzz");
	if (pfs_reader_start(&r, &head, &e) < 0)
		goto out;
	if (pfs_head_encode(&head, &enc, &e) < 0)
		pfs_fuzz_fail("a decoded HEAD does not encode");
	if (enc.len != r.head_payload.len ||
	    memcmp(enc.p, r.head_payload.p, enc.len) != 0)
		pfs_fuzz_fail("HEAD does not re-encode to the bytes read");
	while ((rc = pfs_reader_next(&r, &h, &pay, &e)) == 1) {
		if (pay.len != h.len)
			pfs_fuzz_fail("payload length differs from hdr.len");
		if (nend)
			pfs_fuzz_fail("a frame returned after END");
		switch (h.type) {
		case PFS_HEAD:
			pfs_fuzz_fail("second HEAD returned");
			break;
		case PFS_DATA:
			if (h.seq != pfs_head_first_chunk(&head) + ndata ||
			    h.raw == 0 ||
			    h.raw > head.chunk_size || h.len > r.data_cap)
				pfs_fuzz_fail("DATA frame outside the limits");
			if (pfs_head_only_hashes(&head) && h.len != h.raw)
				pfs_fuzz_fail("DATA len != raw with only HASH "
				              "records");
			ndata++;
			raw += h.raw;
			break;
		case PFS_END:
			if (h.len > PFS_END_MAX)
				pfs_fuzz_fail("END payload over the limit");
			nend++;
			end_seq = h.seq;
			end_raw = h.raw;
			break;
		case PFS_DIGEST:
			if (h.len > PFS_DIGEST_MAX || h.seq + 1 != ndata ||
			    h.raw >= head.nstages ||
			    head.stages[h.raw].kind != PFS_STAGE_HASH)
				pfs_fuzz_fail("DIGEST frame outside the limits");
			break;
		default:
			if (h.type < PFS_SKIPPABLE_MIN || h.len > PFS_SKIP_MAX)
				pfs_fuzz_fail("unknown frame type returned");
			break;
		}
	}
	if (rc == 0) {
		if (nend != 1 || end_seq != ndata || end_raw != raw)
			pfs_fuzz_fail("stream accepted without a matching END");
		if (pfs_reader_next(&r, &h, &pay, &e) != 0)
			pfs_fuzz_fail("reader does not stay at its end");
	}
out:
	pfs_buf_free(&enc);
	pfs_buf_free(&pay);
	pfs_reader_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = pfs_fuzz_input(data, size);
	struct feeder f;
	pthread_t tid;
	int sv[2];

	if (size % 2 == 0) {
		run(pfs_fuzz_memfd(p, size));
		return 0;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	f.fd = sv[1];
	f.p = p;
	f.n = size;
	if (pthread_create(&tid, NULL, feed, &f) != 0)
		abort();
	run(sv[0]);
	close(sv[0]);                /* unblocks the feeder if we stopped */
	pthread_join(tid, NULL);
	close(sv[1]);
	return 0;
}
