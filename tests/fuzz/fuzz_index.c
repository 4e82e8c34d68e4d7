/*
 * fuzz_index - arbitrary bytes as a stream *file*: its index
 * (pfs_index_load) and, when it has one, a range cut out of it through the
 * index (pfs_reader_extract); otherwise the stream read from the start,
 * which checks the INDEX frame against the frames.  Covers the INDEX frame
 * and the range fields of HEAD (docs/format.md, "Index", "Range streams").
 *
 * Besides the header checks (fuzz.h), the input's INDEX check (its XXH64)
 * is recomputed when the input ends like an index, so that the fuzzer
 * reaches the offsets themselves.  The last two bytes choose the chunks.
 *
 * Invariants checked, a violation traps:
 *  - a loaded index has n + 1 growing offsets inside the file, END at the
 *    last one, and n equal to END's seq;
 *  - a cut range yields DATA frames with seq from..to in order, then one
 *    made-up END with the range flag, the chunk count and their bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "frame.h"
#include "head.h"
#include "fuzz.h"

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* fix_index - recompute the XXH64 of an index at the end of p */
static void
fix_index(uint8_t *p, size_t n)
{
	uint64_t plen, h;
	uint8_t *b;
	int i;

	if (n < 8 || memcmp(p + n - 4, "PFSI", 4) != 0)
		return;
	plen = get32(p + n - 8);
	if (plen < 24 || (plen - 16) % 8 || plen > n)
		return;
	b = p + n - plen;
	h = XXH64(b, (size_t)(plen - 16), 0);
	for (i = 0; i < 8; i++)
		b[plen - 16 + (size_t)i] = (uint8_t)(h >> (8 * i));
}

static void
cut(int fd, const struct pfs_index *ix, const uint8_t *sel)
{
	struct pfs_reader r;
	struct pfs_head head;
	struct pfs_hdr h;
	struct pfs_buf pay = PFS_BUF_INIT;
	struct pfs_err e;
	uint64_t from, to, seq, raw = 0, cs;
	int rc, nend = 0;

	from = ix->first + sel[0] % ix->n;
	to = from + sel[1] % (ix->n - (from - ix->first));
	pfs_reader_init(&r, fd, "fuzz");
	if (pfs_reader_start(&r, &head, &e) < 0 ||
	    (head.flags & PFS_HF_RANGE))
		goto out;
	cs = head.chunk_size;
	if (from > UINT64_MAX / cs - 1 || to > UINT64_MAX / cs - 1 ||
	    pfs_head_set_range(&head, from * cs, from * cs,
	                       (to - from) * cs + 1, &e) < 0 ||
	    pfs_reader_extract(&r, ix, from, to, &e) < 0)
		goto out;
	pfs_reader_range(&r, &head);
	seq = from;
	while ((rc = pfs_reader_next(&r, &h, &pay, &e)) == 1) {
		if (nend)
			pfs_fuzz_fail("a frame returned after END");
		if (h.type == PFS_DATA) {
			if (h.seq != seq++ || h.seq > to)
				pfs_fuzz_fail("range DATA frame out of order");
			raw += h.raw;
		} else if (h.type == PFS_END) {
			if (!(h.flags & PFS_EF_RANGE) || h.len ||
			    h.seq != to - from + 1 || h.raw != raw)
				pfs_fuzz_fail("range END does not match");
			nend++;
		}
	}
	if (rc == 0 && (nend != 1 || seq != to + 1))
		pfs_fuzz_fail("range accepted without all its chunks");
out:
	pfs_buf_free(&pay);
	pfs_reader_free(&r);
}

static void
whole(int fd)
{
	struct pfs_reader r;
	struct pfs_head head;
	struct pfs_hdr h;
	struct pfs_buf pay = PFS_BUF_INIT;
	struct pfs_err e;

	pfs_reader_init(&r, fd, "fuzz");
	if (pfs_reader_start(&r, &head, &e) == 0)
		while (pfs_reader_next(&r, &h, &pay, &e) == 1)
			;
	pfs_buf_free(&pay);
	pfs_reader_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = pfs_fuzz_input(data, size), sel[2];
	struct pfs_index ix;
	struct pfs_err e;
	uint64_t i;
	int fd, rc;

	if (size < 2)
		return 0;
	sel[0] = p[0] ^ p[size / 2];
	sel[1] = p[1] ^ p[size / 3];
	fix_index(p, size);
	fd = pfs_fuzz_memfd(p, size);
	rc = pfs_index_load(fd, size, "fuzz", &ix, &e);
	if (rc == 1) {
		if (ix.n != ix.end_seq || ix.off[ix.n] + PFS_HDR_LEN > size)
			pfs_fuzz_fail("index does not fit the file");
		for (i = 1; i <= ix.n; i++)
			if (ix.off[i] < ix.off[i - 1] + PFS_HDR_LEN)
				pfs_fuzz_fail("index offsets do not grow");
		if (ix.n)
			cut(fd, &ix, sel);
		pfs_index_free(&ix);
	}
	if (lseek(fd, 0, SEEK_SET) == 0)
		whole(fd);
	return 0;
}
