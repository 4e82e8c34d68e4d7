/*
 * fuzz_head - arbitrary bytes as a HEAD payload (common/head.c).
 *
 * Invariant (head.h, docs/format.md "the encoding is canonical"): when
 * pfs_head_decode() accepts the bytes, pfs_head_encode() of the result
 * reproduces them exactly.  Also: popping the top record and pushing it
 * back gives the same bytes again, and the describe/still messages of
 * every record are NUL-terminated strings within their buffers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "head.h"
#include "fuzz.h"

static void
same(const struct pfs_head *h, const uint8_t *data, size_t size,
     const char *what)
{
	struct pfs_buf b = PFS_BUF_INIT;
	struct pfs_err e;

	if (pfs_head_encode(h, &b, &e) < 0)
		pfs_fuzz_fail(what);
	if (b.len != size || (size && memcmp(b.p, data, size) != 0))
		pfs_fuzz_fail(what);
	pfs_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pfs_head h, h2;
	struct pfs_stage top;
	struct pfs_err e;
	char msg[256];
	unsigned i;

	if (pfs_head_decode(data, size, &h, &e) < 0)
		return 0;
	same(&h, data, size, "decoded HEAD does not re-encode to its bytes");
	if (pfs_head_decode(data, size, &h2, &e) < 0 ||
	    memcmp(&h, &h2, sizeof(h)) != 0)
		pfs_fuzz_fail("decoding is not deterministic");
	if (h.namelen > PFS_NAME_MAX || strlen(h.name) != h.namelen ||
	    memchr(h.name, '/', h.namelen) || h.nstages > PFS_STAGES_MAX)
		pfs_fuzz_fail("decoded HEAD breaks its invariants");
	if (pfs_head_cap(&h) == 0 || pfs_head_cap(&h) > PFS_PAYLOAD_MAX)
		pfs_fuzz_fail("payload cap out of range");
	for (i = 0; i < h.nstages; i++) {
		pfs_stage_describe(&h.stages[i], msg, sizeof(msg));
		if (!memchr(msg, 0, sizeof(msg)))
			pfs_fuzz_fail("describe: unterminated");
		pfs_stage_still(&h.stages[i], msg, sizeof(msg));
		if (!memchr(msg, 0, sizeof(msg)))
			pfs_fuzz_fail("still: unterminated");
	}
	if (h.nstages) {
		top = *pfs_head_top(&h);
		pfs_head_pop(&h);
		if (pfs_head_push(&h, top.kind, top.params, top.len, top.cap,
		                  &e) < 0)
			pfs_fuzz_fail("cannot push back the popped record");
		same(&h, data, size, "pop + push changes the HEAD");
	}
	return 0;
}
