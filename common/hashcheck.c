#include <inttypes.h>
#include <string.h>

#include "hashcheck.h"
#include "stages.h"

int
pfs_hashset_init(struct pfs_hashset *hs, const struct pfs_head *h,
                 unsigned from, int strip, struct pfs_err *e)
{
	unsigned d;

	memset(hs, 0, sizeof(*hs));
	hs->strip = strip;
	/* messages name source bytes: a range stream's first chunk starts
	 * at rstart */
	hs->offset = (h->flags & PFS_HF_RANGE) ? h->rstart : 0;
	for (d = from; d < h->nstages; d++) {
		const struct pfs_stage *s = &h->stages[d];
		const struct pfs_digest_algo *a;

		if (s->kind != PFS_STAGE_HASH)
			return pfs_seterr(e, "stage record %u is not a hash "
			                  "record", d);
		a = pfs_digest_by_id(s->params[0]);
		if (!a || s->len != 1)
			return pfs_seterr(e, "stage record %u: unknown hash "
			                  "algorithm %u", d, s->params[0]);
		hs->depth[hs->n] = d;
		hs->algo[hs->n] = a;
		if (pfs_digest_init(&hs->whole[hs->n], a, e) < 0) {
			pfs_hashset_free(hs);
			return -1;
		}
		hs->n++;
	}
	return 0;
}

int
pfs_hashset_one(struct pfs_hashset *hs, const struct pfs_digest_algo *a,
                unsigned d, struct pfs_err *e)
{
	memset(hs, 0, sizeof(*hs));
	hs->depth[0] = d;
	hs->algo[0] = a;
	if (pfs_digest_init(&hs->whole[0], a, e) < 0)
		return -1;
	hs->n = 1;
	return 0;
}

void
pfs_hashset_free(struct pfs_hashset *hs)
{
	unsigned i;

	for (i = 0; i < hs->n; i++)
		pfs_digest_free(&hs->whole[i]);
	hs->n = 0;
}

void
pfs_hashset_chunk(const struct pfs_hashset *hs, struct pfs_slot *s)
{
	size_t off = 0;
	unsigned i;

	for (i = 0; i < hs->n; i++) {
		pfs_digest_buffer(hs->algo[i], s->in.p, s->hdr.len, s->aux + off);
		off += hs->algo[i]->len;
	}
	s->auxlen = off;
}

static int
find(const struct pfs_hashset *hs, uint64_t depth)
{
	unsigned i;

	for (i = 0; i < hs->n; i++)
		if (hs->depth[i] == depth)
			return (int)i;
	return -1;
}

static int
chunk_err(const struct pfs_hashset *hs, struct pfs_err *e, const char *what,
          const char *algo)
{
	return pfs_seterr(e, "chunk %" PRIu64 " (bytes %" PRIu64 "-%" PRIu64
	                  "): %s%s%s", hs->chunk_seq, hs->chunk_off,
	                  hs->chunk_off + hs->chunk_raw - 1, algo ? algo : "",
	                  algo ? " " : "", what);
}

/* every record of the set must have had its DIGEST for the pending chunk */
static int
close_chunk(struct pfs_hashset *hs, struct pfs_err *e)
{
	unsigned i;

	if (!hs->have_chunk)
		return 0;
	for (i = 0; i < hs->n; i++)
		if (!hs->seen[i])
			return chunk_err(hs, e, "DIGEST frame missing",
			                 hs->algo[i]->name);
	hs->have_chunk = 0;
	return 0;
}

int
pfs_hashset_checked(const struct pfs_hashset *hs)
{
	unsigned i;

	if (!hs->have_chunk)
		return 1;
	for (i = 0; i < hs->n; i++)
		if (!hs->seen[i])
			return 0;
	return 1;
}

static void
open_chunk(struct pfs_hashset *hs, struct pfs_slot *s)
{
	size_t off = 0;
	unsigned i;

	hs->have_chunk = 1;
	hs->chunk_seq = s->hdr.seq;
	hs->chunk_off = hs->offset;
	hs->chunk_raw = s->hdr.raw;
	hs->offset += s->hdr.raw;
	for (i = 0; i < hs->n; i++) {
		memcpy(hs->cur[i], s->aux + off, hs->algo[i]->len);
		off += hs->algo[i]->len;
		hs->seen[i] = 0;
		pfs_digest_update(&hs->whole[i], s->in.p, s->hdr.len);
	}
}

int
pfs_hashset_check(struct pfs_hashset *hs, struct pfs_slot *s,
                  struct pfs_err *e)
{
	uint8_t want[PFS_DIGEST_MAXLEN];
	const uint8_t *p;
	size_t len;
	int i, k;

	switch (s->hdr.type) {
	case PFS_DATA:
		if (close_chunk(hs, e) < 0)
			return -1;
		open_chunk(hs, s);
		return 0;
	case PFS_DIGEST:
		i = find(hs, s->hdr.raw);
		if (i < 0)
			return 0;           /* another depth's: pass it on */
		if (hs->seen[i])
			return chunk_err(hs, e, "duplicated DIGEST frame",
			                 hs->algo[i]->name);
		if (s->hdr.len != hs->algo[i]->len ||
		    memcmp(s->in.p, hs->cur[i], hs->algo[i]->len) != 0)
			return chunk_err(hs, e, "digest mismatch (the chunk or "
			                 "its DIGEST frame is damaged)",
			                 hs->algo[i]->name);
		hs->seen[i] = 1;
		if (hs->strip)
			s->emit = 0;
		return 0;
	case PFS_END:
		if (close_chunk(hs, e) < 0)
			return -1;
		if (s->hdr.flags & PFS_EF_RANGE)
			return 0;    /* a range stream has no trailers */
		/* trailers: the top record's is last */
		p = s->in.p;
		len = s->hdr.len;
		for (k = (int)hs->n - 1; k >= 0; k--) {
			const struct pfs_digest_algo *a = hs->algo[k];
			if (len < 2u + a->len || p[len - 1] != a->len ||
			    p[len - 2] != hs->depth[k])
				return pfs_seterr(e, "END: %s stream digest "
				                  "missing or damaged", a->name);
			pfs_digest_final(&hs->whole[k], want);
			if (memcmp(p + len - 2 - a->len, want, a->len) != 0)
				return pfs_seterr(e, "END: %s digest of the "
				                  "whole stream does not match "
				                  "(damaged END frame or chunks)",
				                  a->name);
			len -= 2u + a->len;
		}
		if (hs->strip)
			s->ohdr.len = (uint32_t)len;
		return 0;
	default:
		/* a chunk's DIGEST frames follow it directly: a frame between
		 * them cannot delay the check (engine.h, ops->hold) */
		return close_chunk(hs, e);
	}
}

int
pfs_hashset_add(struct pfs_hashset *hs, struct pfs_slot *s, uint8_t *final,
                struct pfs_err *e)
{
	const struct pfs_digest_algo *a = hs->algo[0];
	uint8_t *p;

	switch (s->hdr.type) {
	case PFS_DATA:
		pfs_digest_update(&hs->whole[0], s->in.p, s->hdr.len);
		memset(&s->xhdr, 0, sizeof(s->xhdr));
		s->xhdr.type = PFS_DIGEST;
		s->xhdr.seq = s->hdr.seq;
		s->xhdr.raw = hs->depth[0];
		s->xhdr.len = a->len;
		memcpy(s->xpay, s->aux, a->len);
		s->xemit = 1;
		return 0;
	case PFS_END:
		if (s->hdr.flags & PFS_EF_RANGE)
			return 0;    /* a range stream has no trailers */
		if (s->hdr.len + 2u + a->len > PFS_END_MAX)
			return pfs_seterr(e, "END frame would exceed %u bytes "
			                  "(too many hash stages)", PFS_END_MAX);
		if (pfs_buf_reserve(&s->out, s->hdr.len + 2u + a->len) < 0)
			return pfs_seterr(e, "out of memory");
		p = s->out.p;
		memcpy(p, s->in.p, s->hdr.len);
		pfs_digest_final(&hs->whole[0], p + s->hdr.len);
		if (final)
			memcpy(final, p + s->hdr.len, a->len);
		p[s->hdr.len + a->len] = (uint8_t)hs->depth[0];
		p[s->hdr.len + a->len + 1] = (uint8_t)a->len;
		s->opay = p;
		s->ohdr.len = s->hdr.len + 2u + a->len;
		return 0;
	default:
		return 0;
	}
}
