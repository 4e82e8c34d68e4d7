#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "encrec.h"
#include "frame.h"
#include "head.h"
#include "stages.h"
#include "wire.h"

#define FIXED_LEN 34u   /* bytes before the name */
#define RANGE_LEN 24u   /* range fields after the name, with PFS_HF_RANGE */

static int
range_check(const struct pfs_head *h, struct pfs_err *e)
{
	uint64_t cs = h->chunk_size;

	if (h->rlen == 0 || h->rfirst > UINT64_MAX - h->rlen)
		return pfs_seterr(e, "invalid range (%" PRIu64 " bytes at %"
		                  PRIu64 ")", h->rlen, h->rfirst);
	if (h->rstart > h->rfirst || h->rstart / cs != h->rfirst / cs)
		return pfs_seterr(e, "invalid range start %" PRIu64 " for "
		                  "byte %" PRIu64, h->rstart, h->rfirst);
	if ((h->flags & PFS_HF_SIZE) && h->rfirst + h->rlen > h->size)
		return pfs_seterr(e, "range %" PRIu64 "+%" PRIu64 " ends past "
		                  "the source size %" PRIu64, h->rfirst, h->rlen,
		                  h->size);
	return 0;
}

int
pfs_head_set_range(struct pfs_head *h, uint64_t start, uint64_t first,
                   uint64_t len, struct pfs_err *e)
{
	struct pfs_head t = *h;

	t.flags |= PFS_HF_RANGE;
	t.rstart = start;
	t.rfirst = first;
	t.rlen = len;
	if (range_check(&t, e) < 0)
		return -1;
	*h = t;
	return 0;
}

void
pfs_head_unrange(struct pfs_head *h)
{
	h->flags &= ~PFS_HF_RANGE;
	h->rstart = h->rfirst = h->rlen = 0;
	h->range_cut = 0;
}

int
pfs_head_same(const struct pfs_head *a, const struct pfs_head *b,
              struct pfs_err *e)
{
	/* on the heap: two heads are too big for the stack, and as
	 * _Thread_local statics they made every thread's TLS block 132 KiB,
	 * zeroed and faulted in at each pthread_create */
	struct pfs_head *x = malloc(2 * sizeof(*x));
	struct pfs_buf p = PFS_BUF_INIT, q = PFS_BUF_INIT;
	int rc = -1;

	if (!x)
		return pfs_seterr(e, "out of memory");
	x[0] = *a;
	x[1] = *b;
	pfs_head_unrange(&x[0]);
	pfs_head_unrange(&x[1]);
	if (pfs_head_encode(&x[0], &p, e) == 0 &&
	    pfs_head_encode(&x[1], &q, e) == 0)
		rc = p.len == q.len && memcmp(p.p, q.p, p.len) == 0;
	pfs_buf_free(&p);
	pfs_buf_free(&q);
	free(x);
	return rc;
}

uint64_t
pfs_head_first_chunk(const struct pfs_head *h)
{
	return (h->flags & PFS_HF_RANGE) ? h->rstart / h->chunk_size : 0;
}

void
pfs_head_init(struct pfs_head *h, uint32_t cs)
{
	memset(h, 0, sizeof(*h));
	h->chunk_size = cs;
}

int
pfs_head_set_name(struct pfs_head *h, const char *path)
{
	const char *s = strrchr(path, '/');
	size_t n;

	s = s ? s + 1 : path;
	n = strlen(s);
	if (n == 0 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return -1;
	if (n > PFS_NAME_MAX)
		n = PFS_NAME_MAX;
	memcpy(h->name, s, n);
	h->name[n] = '\0';
	h->namelen = (uint16_t)n;
	return 0;
}

int
pfs_head_encode(const struct pfs_head *h, struct pfs_buf *b,
                struct pfs_err *e)
{
	size_t n = FIXED_LEN + h->namelen + 1, i;
	int range = (h->flags & PFS_HF_RANGE) != 0;
	uint8_t *p;

	if (range)
		n += RANGE_LEN;

	for (i = 0; i < h->nstages; i++)
		n += 8 + h->stages[i].len;
	if (n > PFS_HEAD_MAX)
		return pfs_seterr(e, "HEAD too large (%zu bytes)", n);
	if (pfs_buf_reserve(b, n) < 0)
		return pfs_seterr(e, "out of memory");
	p = b->p;
	pfs_put32(p, h->chunk_size);
	pfs_put32(p + 4, h->flags);
	pfs_put64(p + 8, h->size);
	pfs_put32(p + 16, h->mode);
	pfs_put32(p + 20, h->mtime_nsec);
	pfs_put64(p + 24, (uint64_t)h->mtime_sec);
	pfs_put16(p + 32, h->namelen);
	memcpy(p + FIXED_LEN, h->name, h->namelen);
	p += FIXED_LEN + h->namelen;
	if (range) {
		pfs_put64(p, h->rstart);
		pfs_put64(p + 8, h->rfirst);
		pfs_put64(p + 16, h->rlen);
		p += RANGE_LEN;
	}
	*p++ = (uint8_t)h->nstages;
	for (i = 0; i < h->nstages; i++) {
		const struct pfs_stage *s = &h->stages[i];
		p[0] = s->kind;
		p[1] = 0;
		pfs_put16(p + 2, s->len);
		pfs_put32(p + 4, s->cap);
		memcpy(p + 8, s->params, s->len);
		p += 8 + s->len;
	}
	b->len = n;
	return 0;
}

/* the cap in force under record i: that of record i - 1, or the chunk
 * size under the first */
static uint32_t
cap_under(const struct pfs_head *h, unsigned i)
{
	return i ? h->stages[i - 1].cap : h->chunk_size;
}

int
pfs_head_decode(const uint8_t *p, size_t len, struct pfs_head *h,
                struct pfs_err *e)
{
	const uint8_t *end = p + len;
	uint32_t below;
	unsigned i;

	memset(h, 0, sizeof(*h));
	if (len < FIXED_LEN + 1)
		return pfs_seterr(e, "too short (%zu bytes)", len);
	h->chunk_size = pfs_get32(p);
	h->flags = pfs_get32(p + 4);
	h->size = pfs_get64(p + 8);
	h->mode = pfs_get32(p + 16);
	h->mtime_nsec = pfs_get32(p + 20);
	h->mtime_sec = (int64_t)pfs_get64(p + 24);
	h->namelen = pfs_get16(p + 32);
	if (h->chunk_size < PFS_CHUNK_MIN || h->chunk_size > PFS_CHUNK_MAX)
		return pfs_seterr(e, "chunk size %u outside %u..%u",
		                  h->chunk_size, PFS_CHUNK_MIN, PFS_CHUNK_MAX);
	if (h->flags & ~PFS_HF_ALL)
		return pfs_seterr(e, "unknown flags 0x%x", h->flags);
	if (!(h->flags & PFS_HF_SIZE) && h->size)
		return pfs_seterr(e, "size set without its flag");
	if (h->mode & ~07777u)
		return pfs_seterr(e, "invalid mode 0%o", h->mode);
	if (!(h->flags & PFS_HF_META) && (h->mode || h->mtime_sec ||
	    h->mtime_nsec))
		return pfs_seterr(e, "mode/mtime set without their flag");
	if (h->mtime_nsec >= 1000000000u)
		return pfs_seterr(e, "invalid mtime nanoseconds");
	if (h->namelen > PFS_NAME_MAX || FIXED_LEN + h->namelen + 1u > len)
		return pfs_seterr(e, "invalid name length %u", h->namelen);
	memcpy(h->name, p + FIXED_LEN, h->namelen);
	h->name[h->namelen] = '\0';
	if (memchr(h->name, '/', h->namelen) ||
	    strlen(h->name) != h->namelen ||
	    strcmp(h->name, ".") == 0 || strcmp(h->name, "..") == 0)
		return pfs_seterr(e, "invalid source name");
	p += FIXED_LEN + h->namelen;
	if (h->flags & PFS_HF_RANGE) {
		if ((size_t)(end - p) < RANGE_LEN + 1)
			return pfs_seterr(e, "range fields cut short");
		h->rstart = pfs_get64(p);
		h->rfirst = pfs_get64(p + 8);
		h->rlen = pfs_get64(p + 16);
		if (range_check(h, e) < 0)
			return -1;
		p += RANGE_LEN;
	}
	h->nstages = *p++;
	if (h->nstages > PFS_STAGES_MAX)
		return pfs_seterr(e, "%u stage records (at most %u)",
		                  h->nstages, PFS_STAGES_MAX);
	for (i = 0; i < h->nstages; i++) {
		struct pfs_stage *s = &h->stages[i];
		if (end - p < 8)
			return pfs_seterr(e, "stage record %u cut short", i);
		s->kind = p[0];
		s->len = pfs_get16(p + 2);
		s->cap = pfs_get32(p + 4);
		if (s->kind < PFS_STAGE_COMPRESS || s->kind > PFS_STAGE_HASH ||
		    p[1] != 0)
			return pfs_seterr(e, "stage record %u: unknown kind %u",
			                  i, s->kind);
		if (s->len == 0 || s->len > PFS_STAGE_PARAMS_MAX ||
		    (size_t)(end - p - 8) < s->len)
			return pfs_seterr(e, "stage record %u: invalid length "
			                  "%u", i, s->len);
		if (s->cap == 0 || s->cap > PFS_PAYLOAD_MAX)
			return pfs_seterr(e, "stage record %u: invalid payload "
			                  "cap %u", i, s->cap);
		/* a HASH record leaves the payloads as they are */
		below = cap_under(h, i);
		if (s->kind == PFS_STAGE_HASH && s->cap != below)
			return pfs_seterr(e, "stage record %u: hash record with "
			                  "payload cap %u, not that of the record "
			                  "below (%u)", i, s->cap, below);
		memcpy(s->params, p + 8, s->len);
		p += 8 + s->len;
	}
	if (p != end)
		return pfs_seterr(e, "%zu trailing bytes", (size_t)(end - p));
	return 0;
}

uint32_t
pfs_head_cap(const struct pfs_head *h)
{
	return cap_under(h, h->nstages);
}

uint32_t
pfs_head_cap_below(const struct pfs_head *h)
{
	return cap_under(h, h->nstages ? h->nstages - 1 : 0);
}

const struct pfs_stage *
pfs_head_top(const struct pfs_head *h)
{
	return h->nstages ? &h->stages[h->nstages - 1] : NULL;
}

int
pfs_head_push(struct pfs_head *h, uint8_t kind, const void *params,
              size_t len, uint32_t cap, struct pfs_err *e)
{
	struct pfs_stage *s;

	if (h->nstages >= PFS_STAGES_MAX)
		return pfs_seterr(e, "the stream already has %u stage records "
		                  "(the limit)", PFS_STAGES_MAX);
	if (len == 0 || len > PFS_STAGE_PARAMS_MAX)
		return pfs_seterr(e, "stage record of %zu bytes", len);
	if (cap > PFS_PAYLOAD_MAX)
		return pfs_seterr(e, "payloads would grow past the format's "
		                  "limit of %u bytes", PFS_PAYLOAD_MAX);
	s = &h->stages[h->nstages++];
	s->kind = kind;
	s->len = (uint16_t)len;
	s->cap = cap;
	memcpy(s->params, params, len);
	return 0;
}

void
pfs_head_pop(struct pfs_head *h)
{
	if (h->nstages)
		h->nstages--;
}

int
pfs_head_size_check(const struct pfs_head *h, uint64_t raw,
                    struct pfs_err *e)
{
	if ((h->flags & PFS_HF_RANGE) || !(h->flags & PFS_HF_SIZE) ||
	    h->size == raw)
		return 0;
	return pfs_seterr(e, "HEAD says the source has %" PRIu64 " bytes but "
	                  "the stream holds %" PRIu64, h->size, raw);
}

int
pfs_head_only_hashes(const struct pfs_head *h)
{
	unsigned i;

	for (i = 0; i < h->nstages; i++)
		if (h->stages[i].kind != PFS_STAGE_HASH)
			return 0;
	return 1;
}

void
pfs_stage_describe(const struct pfs_stage *s, char *out, size_t n)
{
	const char *name = NULL;

	switch (s->kind) {
	case PFS_STAGE_COMPRESS:
		if (s->len >= 2 && pfs_codec_describe(s->params[0],
		                                      (int8_t)s->params[1], out,
		                                      n) == 0)
			return;
		name = pfs_calgo_name(s->params[0]);
		break;
	case PFS_STAGE_ENCRYPT:
		pfs_enc_describe(s, out, n);
		return;
	case PFS_STAGE_HASH:
		name = pfs_hash_name(s->params[0]);
		break;
	}
	snprintf(out, n, "%s", name ? name : "unknown algorithm");
}

void
pfs_stage_still(const struct pfs_stage *s, char *out, size_t n)
{
	static const char *const what[] = { "", "compressed", "encrypted", "hashed" };
	static const char *const undo[] = { "", "pcompress -d", "pencrypt -d", "phash --check" };
	char d[64];
	unsigned k = s->kind <= PFS_STAGE_HASH ? s->kind : 0;

	pfs_stage_describe(s, d, sizeof(d));
	snprintf(out, n, "stream is still %s (%s): run '%s' first", what[k], d,
	         undo[k]);
}
