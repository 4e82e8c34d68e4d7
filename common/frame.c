#define _GNU_SOURCE            /* splice(2), vmsplice(2) */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <xxhash.h>

#include "cli.h"
#include "frame.h"
#include "head.h"
#include "io.h"
#include "trace.h"
#include "stats.h"
#include "wire.h"

#define HDR_SEED      0u            /* plain XXH32: xxhsum -H0 checks it */
#define LOOKAHEAD     8192u         /* bytes read ahead when a header is due */
/* first reservation for a payload: pchunk's default chunk and what a codec
 * or a tag adds to it (an incompressible 8 MiB chunk is a little larger
 * after pcompress), so that it is usually the only one */
#define READ_STEP     ((8u << 20) + (64u << 10))
#define OBUF_SIZE     (256u << 10)
#define COPY_MAX      (32u << 10)   /* payloads up to this are coalesced */

static const uint8_t magic[7] = { 0x8f, 'P', 'F', 'S', '\r', '\n', 0x1a };

void
pfs_sig_write(uint8_t out[PFS_SIG_LEN])
{
	memcpy(out, magic, sizeof(magic));
	out[7] = (uint8_t)PFS_VERSION;
}

/* not_stream - "not a frame stream", with the fix: the tool for a file
 * the stock tools made (their magic numbers), else pchunk, which makes
 * a stream of any file */
static int
not_stream(const uint8_t *p, size_t n, struct pfs_err *e)
{
	static const struct { uint8_t m[4]; const char *what; } known[] = {
		{ { 0x28, 0xb5, 0x2f, 0xfd }, "a zstd frame: use 'zstd -d'" },
		{ { 0x04, 0x22, 0x4d, 0x18 }, "an lz4 frame: use 'lz4 -d'" },
		{ { 0x1f, 0x8b, 0x08, 0x00 }, "gzip data: use 'gzip -d'" },
	};
	unsigned i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (n >= 4 && memcmp(p, known[i].m,
		                     known[i].m[0] == 0x1f ? 3 : 4) == 0)
			return pfs_seterr(e, "not a frame stream (missing "
			                  "signature): %s", known[i].what);
	return pfs_seterr(e, "not a frame stream (missing signature; "
	                  "'pchunk FILE' makes one)");
}

int
pfs_sig_check(const uint8_t sig[PFS_SIG_LEN], struct pfs_err *e)
{
	if (memcmp(sig, magic, sizeof(magic)) != 0)
		return not_stream(sig, PFS_SIG_LEN, e);
	if (sig[7] != PFS_VERSION)
		return pfs_seterr(e, "unsupported frame stream version %u "
		                  "(this program reads version %u)", sig[7],
		                  PFS_VERSION);
	return 0;
}

void
pfs_hdr_encode(const struct pfs_hdr *h, uint8_t out[PFS_HDR_LEN])
{
	out[0] = h->type;
	out[1] = h->flags;
	out[2] = out[3] = 0;
	pfs_put32(out + 4, h->len);
	pfs_put64(out + 8, h->seq);
	pfs_put64(out + 16, h->raw);
	pfs_put32(out + 24, 0);
	pfs_put32(out + 28, XXH32(out, 28, HDR_SEED));
}

int
pfs_hdr_decode(const uint8_t in[PFS_HDR_LEN], struct pfs_hdr *h,
               uint64_t ordinal, struct pfs_err *e)
{
	if (pfs_get32(in + 28) != XXH32(in, 28, HDR_SEED))
		return pfs_seterr(e, "frame %" PRIu64 ": header checksum "
		                  "mismatch (damaged stream)", ordinal);
	h->type = in[0];
	h->flags = in[1];
	h->len = pfs_get32(in + 4);
	h->seq = pfs_get64(in + 8);
	h->raw = pfs_get64(in + 16);
	if (in[2] || in[3] || pfs_get32(in + 24) ||
	    (h->flags && h->type < PFS_SKIPPABLE_MIN &&
	     (h->type != PFS_END || (h->flags & ~PFS_EF_RANGE))))
		return pfs_seterr(e, "frame %" PRIu64 ": reserved header bits "
		                  "set (newer format or damaged stream)", ordinal);
	return 0;
}

const char *
pfs_type_name(uint8_t type)
{
	switch (type) {
	case PFS_HEAD:   return "HEAD";
	case PFS_DATA:   return "DATA";
	case PFS_DIGEST: return "DIGEST";
	case PFS_END:    return "END";
	case PFS_INDEX:  return "INDEX";
	default:
		return type >= PFS_SKIPPABLE_MIN ? "skippable" : "unknown";
	}
}

/* --- reader --- */

void
pfs_reader_init(struct pfs_reader *r, int fd, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->name = name;
}

void
pfs_reader_free(struct pfs_reader *r)
{
	free(r->ibuf);
	r->ibuf = NULL;
	pfs_buf_free(&r->head_payload);
	if (r->ixh)
		XXH64_freeState(r->ixh);
	r->ixh = NULL;
}

/* stream offset of the next unread byte (not after an lseek) */
static uint64_t
rpos(const struct pfs_reader *r)
{
	return r->bytes_in - (r->ilen - r->ipos);
}

/* ix_note - hash the offset of a DATA or END frame, as the INDEX frame's
 * check will */
static void
ix_note(struct pfs_reader *r, uint64_t off)
{
	uint8_t b[8];

	if (!r->ixh || r->extract)
		return;
	pfs_put64(b, off);
	XXH64_update(r->ixh, b, sizeof(b));
}

/* Make at least `need` bytes available at ibuf+ipos, reading up to `want`.
 * Returns the number available (less than need only at end of input) or
 * -1 with e set. */
static ssize_t
fill(struct pfs_reader *r, size_t need, size_t want, struct pfs_err *e)
{
	ssize_t n;

	if (r->ilen - r->ipos >= need)
		return (ssize_t)(r->ilen - r->ipos);
	if (!r->ibuf) {
		r->icap = LOOKAHEAD * 2;
		r->ibuf = malloc(r->icap);
		if (!r->ibuf)
			return pfs_seterr(e, "out of memory");
	}
	if (r->ipos) {
		memmove(r->ibuf, r->ibuf + r->ipos, r->ilen - r->ipos);
		r->ilen -= r->ipos;
		r->ipos = 0;
	}
	if (want > r->icap)
		want = r->icap;
	while (r->ilen < need) {
		uint64_t t0 = pfs_now_ns();
		do
			n = read(r->fd, r->ibuf + r->ilen, want - r->ilen);
		while (n < 0 && errno == EINTR && !pfs_interrupted);
		pfs_blocked_add(&r->blocked_ns, t0, 0);
		if (n < 0) {
			if (errno == EINTR)
				return pfs_seterr(e, "interrupted");
			return pfs_seterr(e, "%s: read error: %s", r->name,
			                  strerror(errno));
		}
		if (n == 0)
			break;
		r->ilen += (size_t)n;
		r->bytes_in += (uint64_t)n;
	}
	return (ssize_t)(r->ilen - r->ipos);
}

static int
read_payload(struct pfs_reader *r, uint32_t len, struct pfs_buf *b,
             struct pfs_err *e)
{
	size_t have = r->ilen - r->ipos, take, got, step;
	ssize_t n;

	/* Grow the buffer as the bytes arrive, not by the declared length at
	 * once, so that a short hostile stream cannot make us reserve the
	 * whole 256 MiB cap; a buffer at its working size never grows. */
	step = len < READ_STEP ? len : READ_STEP;
	if (b->cap > step)
		step = b->cap < len ? b->cap : len;
	if (pfs_buf_reserve(b, step ? step : 1) < 0)
		return pfs_seterr(e, "out of memory (payload of %u bytes)", len);
	take = have < step ? have : step;
	memcpy(b->p, r->ibuf + r->ipos, take);
	r->ipos += take;
	for (got = take; got < len; got += (size_t)n) {
		if (got == b->cap) {
			b->len = got;       /* kept by pfs_buf_reserve */
			step = got * 2 < len ? got * 2 : len;
			if (pfs_buf_reserve(b, step) < 0)
				return pfs_seterr(e, "out of memory (payload of "
				                  "%u bytes)", len);
		}
		step = (b->cap < len ? b->cap : len) - got;
		n = pfs_read_full(r->fd, b->p + got, step, &r->blocked_ns);
		if (n < 0) {
			if (errno == EINTR)
				return pfs_seterr(e, "interrupted");
			return pfs_seterr(e, "%s: read error: %s", r->name,
			                  strerror(errno));
		}
		r->bytes_in += (uint64_t)n;
		if ((size_t)n < step)
			return pfs_seterr(e, "%s: truncated stream (frame %"
			                  PRIu64 ": payload cut short)", r->name,
			                  r->ordinal - 1);
	}
	b->len = len;
	return 0;
}

/* read one header; 1 = got it, 0 = clean end of input, -1 = error */
static int
read_hdr(struct pfs_reader *r, struct pfs_hdr *h, struct pfs_err *e)
{
	ssize_t n = fill(r, PFS_HDR_LEN, LOOKAHEAD, e);

	if (n < 0)
		return -1;
	if (n == 0)
		return 0;
	if (n < (ssize_t)PFS_HDR_LEN)
		return pfs_seterr(e, "%s: truncated stream (frame %" PRIu64
		                  ": header cut short)", r->name, r->ordinal);
	if (pfs_hdr_decode(r->ibuf + r->ipos, h, r->ordinal, e) < 0) {
		pfs_prefix(e, r->name);
		return -1;
	}
	r->ipos += PFS_HDR_LEN;
	return 1;
}

int
pfs_reader_start(struct pfs_reader *r, struct pfs_head *head,
                 struct pfs_err *e)
{
	struct pfs_hdr h;
	ssize_t n;
	int rc;

	n = fill(r, PFS_SIG_LEN, LOOKAHEAD, e);
	if (n < 0)
		return -1;
	if (n == 0)
		return pfs_seterr(e, "%s: empty input (not a frame stream)",
		                  r->name);
	if (n < (ssize_t)PFS_SIG_LEN || pfs_sig_check(r->ibuf, e) < 0) {
		if (n < (ssize_t)PFS_SIG_LEN)
			not_stream(r->ibuf, (size_t)n, e);
		pfs_prefix(e, r->name);
		return -1;
	}
	r->ipos += PFS_SIG_LEN;
	rc = read_hdr(r, &h, e);
	if (rc == 0)
		return pfs_seterr(e, "%s: truncated stream (no HEAD frame)",
		                  r->name);
	if (rc < 0)
		return -1;
	r->ordinal++;
	if (h.type != PFS_HEAD)
		return pfs_seterr(e, "%s: frame 0: expected HEAD, found %s",
		                  r->name, pfs_type_name(h.type));
	if (h.len > PFS_HEAD_MAX || h.seq != 0 || h.raw != 0)
		return pfs_seterr(e, "%s: frame 0: invalid HEAD header "
		                  "(length %u)", r->name, h.len);
	if (read_payload(r, h.len, &r->head_payload, e) < 0)
		return -1;
	if (pfs_head_decode(r->head_payload.p, h.len, head, e) < 0) {
		pfs_prefix(e, "HEAD");
		pfs_prefix(e, r->name);
		return -1;
	}
	r->chunk_size = head->chunk_size;
	r->data_cap = pfs_head_cap(head);
	r->raw_equal = pfs_head_only_hashes(head);
	r->nstages = head->nstages;
	for (unsigned i = 0; i < head->nstages; i++)
		r->kinds[i] = head->stages[i].kind;
	r->ixh = XXH64_createState();
	if (!r->ixh || XXH64_reset(r->ixh, 0) == XXH_ERROR)
		return pfs_seterr(e, "out of memory");
	pfs_reader_range(r, head);
	return 0;
}

void
pfs_reader_range(struct pfs_reader *r, const struct pfs_head *head)
{
	uint64_t cs = head->chunk_size;

	if (!(head->flags & PFS_HF_RANGE))
		return;
	r->range = 1;
	r->first_seq = r->next_seq = head->rstart / cs;
	r->want_last = (head->rfirst + head->rlen - 1) / cs;
	r->want_raw = head->rfirst + head->rlen - head->rstart;
	r->start_cut = head->rstart % cs;
}

/* full_len - the raw length chunk seq has unless it is the last */
static uint64_t
full_len(const struct pfs_reader *r, uint64_t seq)
{
	return r->chunk_size - (seq == r->first_seq ? r->start_cut : 0);
}

/* index_frame - the INDEX frame after END: its header fits the stream and
 * its offsets are the ones this reader saw (their XXH64). */
static int
index_frame(struct pfs_reader *r, const struct pfs_hdr *h, struct pfs_err *e)
{
	uint64_t n = r->next_seq - r->first_seq, want, seen;
	uint8_t tail[PFS_INDEX_TAIL], b[4096];
	uint32_t left;
	XXH64_state_t *st;
	size_t k;
	int rc = -1;

	want = 8 * (n + 1) + PFS_INDEX_TAIL;
	if (h->seq != n || h->raw != r->first_seq || h->len != want)
		return pfs_seterr(e, "%s: INDEX frame does not fit the stream "
		                  "(damaged index)", r->name);
	st = XXH64_createState();
	if (!st || XXH64_reset(st, 0) == XXH_ERROR) {
		XXH64_freeState(st);
		return pfs_seterr(e, "out of memory");
	}
	r->pending = h->len;
	for (left = h->len - PFS_INDEX_TAIL; left; left -= (uint32_t)k) {
		k = left < sizeof(b) ? left : sizeof(b);
		if (pfs_reader_piece(r, b, k, e) < 0)
			goto out;
		XXH64_update(st, b, k);
	}
	if (pfs_reader_piece(r, tail, sizeof(tail), e) < 0)
		goto out;
	seen = XXH64_digest(r->ixh);
	if (XXH64_digest(st) != seen || pfs_get64(tail) != seen ||
	    pfs_get32(tail + 8) != h->len || memcmp(tail + 12, "PFSI", 4)) {
		pfs_seterr(e, "%s: INDEX frame does not match the frames "
		           "(damaged index)", r->name);
		goto out;
	}
	rc = 0;
out:
	XXH64_freeState(st);
	return rc;
}

void
pfs_reader_set_cap(struct pfs_reader *r, uint32_t cap)
{
	r->data_cap = cap;
}

int
pfs_reader_next(struct pfs_reader *r, struct pfs_hdr *h,
                struct pfs_buf *payload, struct pfs_err *e)
{
	int rc = pfs_reader_next_hdr(r, h, e);

	if (rc <= 0)
		return rc;
	if (read_payload(r, h->len, payload, e) < 0)
		return -1;
	r->pending = 0;
	return 1;
}

int
pfs_reader_piece(struct pfs_reader *r, void *p, size_t n, struct pfs_err *e)
{
	size_t have = r->ilen - r->ipos, take = have < n ? have : n;
	ssize_t got;

	if (n > r->pending)
		return pfs_seterr(e, "%s: internal error: piece past the payload",
		                  r->name);
	memcpy(p, r->ibuf + r->ipos, take);
	r->ipos += take;
	if (take < n) {
		got = pfs_read_full(r->fd, (uint8_t *)p + take, n - take,
		                    &r->blocked_ns);
		if (got < 0) {
			if (errno == EINTR)
				return pfs_seterr(e, "interrupted");
			return pfs_seterr(e, "%s: read error: %s", r->name,
			                  strerror(errno));
		}
		r->bytes_in += (uint64_t)got;
		if ((size_t)got < n - take)
			return pfs_seterr(e, "%s: truncated stream (frame %"
			                  PRIu64 ": payload cut short)", r->name,
			                  r->ordinal - 1);
	}
	r->pending -= n;
	return 0;
}

int
pfs_reader_next_hdr(struct pfs_reader *r, struct pfs_hdr *h,
                    struct pfs_err *e)
{
	uint64_t ord = r->ordinal, pos;
	uint32_t cap;
	int rc;

	if (r->done) {
		/* nothing may follow END but its INDEX frame */
		ssize_t n;
		if (r->extract)
			return 0;
		n = fill(r, 1, 1, e);
		if (n < 0)
			return -1;
		if (n > 0 && !r->index_seen) {
			rc = read_hdr(r, h, e);
			if (rc < 0)
				return -1;
			if (h->type != PFS_INDEX)
				return pfs_seterr(e, "%s: trailing data after "
				                  "the END frame", r->name);
			r->ordinal++;
			r->index_seen = 1;
			if (index_frame(r, h, e) < 0)
				return -1;
			n = fill(r, 1, 1, e);
			if (n < 0)
				return -1;
		}
		if (n > 0)
			return pfs_seterr(e, "%s: trailing data after the %s "
			                  "frame", r->name,
			                  r->index_seen ? "INDEX" : "END");
		return 0;
	}
	if (r->extract && r->next_seq > r->stop_seq) {
		/* the range is complete once its last chunk's DIGEST frames
		 * are: what follows them is left unread */
		ssize_t n = fill(r, PFS_HDR_LEN, LOOKAHEAD, e);
		struct pfs_hdr peek;
		if (n < 0)
			return -1;
		if (n < (ssize_t)PFS_HDR_LEN ||
		    pfs_hdr_decode(r->ibuf + r->ipos, &peek, r->ordinal, e) < 0 ||
		    peek.type != PFS_DIGEST) {
			memset(h, 0, sizeof(*h));
			h->type = PFS_END;
			h->flags = PFS_EF_RANGE;
			h->seq = r->next_seq - r->first_seq;
			h->raw = r->raw_total;
			r->done = 1;
			r->last_data = 0;
			r->pending = 0;
			return 1;
		}
	}
	pos = rpos(r);
	r->frame_pos = pos;
	rc = read_hdr(r, h, e);
	if (rc == 0)
		return pfs_seterr(e, "%s: truncated stream (no END frame after "
		                  "%" PRIu64 " chunks)", r->name, r->next_seq);
	if (rc < 0)
		return -1;
	r->ordinal++;
	switch (h->type) {
	case PFS_HEAD:
		return pfs_seterr(e, "%s: frame %" PRIu64 ": unexpected second "
		                  "HEAD", r->name, ord);
	case PFS_DATA:
		if (h->seq != r->next_seq)
			return pfs_seterr(e, "%s: frame %" PRIu64 ": chunk %" PRIu64
			                  " where chunk %" PRIu64 " was expected "
			                  "(frames dropped, duplicated or "
			                  "reordered)", r->name, ord, h->seq,
			                  r->next_seq);
		if (h->raw > full_len(r, h->seq) || (h->raw == 0))
			return pfs_seterr(e, "%s: chunk %" PRIu64 ": raw length %"
			                  PRIu64 " outside 1..%" PRIu64 " (%s)",
			                  r->name, h->seq, h->raw,
			                  full_len(r, h->seq),
			                  full_len(r, h->seq) == r->chunk_size ?
			                  "the chunk size" : "the rest of the chunk "
			                  "from the range's start");
		if (h->seq != r->first_seq &&
		    r->last_raw != full_len(r, h->seq - 1))
			return pfs_seterr(e, "%s: chunk %" PRIu64 " is short (%"
			                  PRIu64 " bytes) but not the last "
			                  "(damaged stream)", r->name, h->seq - 1,
			                  r->last_raw);
		cap = r->data_cap;
		if (h->len > cap)
			return pfs_seterr(e, "%s: chunk %" PRIu64 ": payload "
			                  "length %u exceeds the cap of %u "
			                  "declared by HEAD", r->name, h->seq,
			                  h->len, cap);
		if (r->raw_equal && h->len != h->raw)
			return pfs_seterr(e, "%s: chunk %" PRIu64 ": payload "
			                  "length %u differs from raw length %"
			                  PRIu64, r->name, h->seq, h->len, h->raw);
		if (r->raw_total > UINT64_MAX - h->raw)
			return pfs_seterr(e, "%s: total size overflows", r->name);
		r->raw_total += h->raw;
		r->last_raw = h->raw;
		r->next_seq++;
		ix_note(r, pos);
		r->last_data = 1;
		r->last_data_seq = h->seq;
		break;
	case PFS_DIGEST:
		if (!r->last_data || h->seq != r->last_data_seq)
			return pfs_seterr(e, "%s: frame %" PRIu64 ": DIGEST for "
			                  "chunk %" PRIu64 " does not follow its "
			                  "DATA frame (frames dropped, duplicated "
			                  "or reordered)", r->name, ord, h->seq);
		if (h->len > PFS_DIGEST_MAX || h->raw >= r->nstages ||
		    r->kinds[h->raw] != PFS_STAGE_HASH)
			return pfs_seterr(e, "%s: frame %" PRIu64 ": DIGEST "
			                  "frame for a stage record that is not "
			                  "a hash record (damaged stream)",
			                  r->name, ord);
		break;
	case PFS_END:
		if (h->len > PFS_END_MAX)
			return pfs_seterr(e, "%s: frame %" PRIu64 ": END payload "
			                  "too long (%u bytes)", r->name, ord,
			                  h->len);
		if (h->seq != r->next_seq - r->first_seq)
			return pfs_seterr(e, "%s: END says %" PRIu64 " chunks but "
			                  "the stream has %" PRIu64 " (frames "
			                  "dropped or duplicated)", r->name,
			                  h->seq, r->next_seq - r->first_seq);
		if ((h->flags & PFS_EF_RANGE) != (r->range ? PFS_EF_RANGE : 0))
			return pfs_seterr(e, "%s: END %s a range but HEAD %s "
			                  "(damaged or relabelled stream)",
			                  r->name, r->range ? "does not say" :
			                  "says", r->range ? "does" : "does not");
		if (r->range && r->next_seq - 1 != r->want_last)
			return pfs_seterr(e, "%s: range stream ends at chunk %"
			                  PRIu64 ", not at the end of its range "
			                  "(chunk %" PRIu64 ")", r->name,
			                  r->next_seq - 1, r->want_last);
		if (r->range && r->raw_total < r->want_raw)
			return pfs_seterr(e, "%s: range stream holds %" PRIu64
			                  " bytes, fewer than its range needs (%"
			                  PRIu64 ")", r->name, r->raw_total,
			                  r->want_raw);
		if (h->raw != r->raw_total)
			return pfs_seterr(e, "%s: END says %" PRIu64 " bytes but "
			                  "the chunks add up to %" PRIu64,
			                  r->name, h->raw, r->raw_total);
		r->done = 1;
		r->last_data = 0;
		r->end_pos = pos;
		ix_note(r, pos);
		break;
	case PFS_INDEX:
		return pfs_seterr(e, "%s: frame %" PRIu64 ": INDEX frame before "
		                  "END (frames dropped or reordered)", r->name,
		                  ord);
	default:
		if (h->type < PFS_SKIPPABLE_MIN)
			return pfs_seterr(e, "%s: frame %" PRIu64 ": unknown "
			                  "frame type 0x%02x (newer format or "
			                  "damaged stream)", r->name, ord, h->type);
		if (h->len > PFS_SKIP_MAX)
			return pfs_seterr(e, "%s: frame %" PRIu64 ": skippable "
			                  "frame too long (%u bytes)", r->name,
			                  ord, h->len);
		r->last_data = 0;     /* DIGEST frames follow DATA directly */
		break;
	}
	r->pending = h->len;
	return 1;
}

/* --- writer --- */

/* huge_pages - whether the kernel backs a buffer that asks for them with
 * 2 MiB pages (transparent huge pages "always" or "madvise"): giving 4 KiB
 * pages to a pipe costs more in faults than copying them */
static int
huge_pages(void)
{
	static int known, on;
	char b[128];
	ssize_t n;
	int fd;

	if (__atomic_load_n(&known, __ATOMIC_ACQUIRE))
		return on;
	fd = open("/sys/kernel/mm/transparent_hugepage/enabled",
	          O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, b, sizeof(b) - 1);
	if (fd >= 0)
		close(fd);
	b[n > 0 ? n : 0] = '\0';
	on = strstr(b, "[always]") || strstr(b, "[madvise]");
	__atomic_store_n(&known, 1, __ATOMIC_RELEASE);
	return on;
}

int
pfs_writer_init(struct pfs_writer *w, int fd, const char *name)
{
	struct stat st;

	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->name = name;
	w->pipe = fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
	          !getenv("PFS_NO_VMSPLICE") && huge_pages();
	w->ocap = OBUF_SIZE;
	w->obuf = malloc(w->ocap);
	return w->obuf ? 0 : -1;
}

void
pfs_writer_free(struct pfs_writer *w)
{
	free(w->obuf);
	w->obuf = NULL;
	free(w->ix.off);
	w->ix.off = NULL;
}

/* ix_add - one more offset for the index; past PFS_INDEX_CHUNKS_MAX
 * chunks (or out of memory) the index is given up: none is written. */
static void
ix_add(struct pfs_writer *w, uint64_t off)
{
	uint64_t *p;

	if (w->ix.n == w->ix.cap) {
		uint64_t cap = w->ix.cap ? w->ix.cap * 2 : 256;
		if (cap > PFS_INDEX_CHUNKS_MAX + 1u)
			cap = PFS_INDEX_CHUNKS_MAX + 1u;
		p = w->ix.n <= PFS_INDEX_CHUNKS_MAX ?
		    realloc(w->ix.off, cap * sizeof(*p)) : NULL;
		if (!p || cap == w->ix.cap) {
			free(w->ix.off);
			w->ix.off = NULL;
			w->ix.on = 0;
			return;
		}
		w->ix.off = p;
		w->ix.cap = cap;
	}
	w->ix.off[w->ix.n++] = off;
}

/* ix_track - follow the frames in len bytes about to be written (p may be
 * NULL when they are all payload bytes) */
static void
ix_track(struct pfs_writer *w, const uint8_t *p, size_t len)
{
	size_t k;

	while (len && w->ix.on && !w->ix.end_done) {
		if (w->ix.left) {
			k = w->ix.left < len ? (size_t)w->ix.left : len;
			w->ix.left -= k;
			w->ix.pos += k;
			if (p)
				p += k;
			len -= k;
			if (!w->ix.left && w->ix.in_end)
				w->ix.end_done = 1;
			continue;
		}
		k = PFS_HDR_LEN - w->ix.hlen < len ? PFS_HDR_LEN - w->ix.hlen :
		                                     len;
		memcpy(w->ix.hb + w->ix.hlen, p, k);
		w->ix.hlen += k;
		w->ix.pos += k;
		p += k;
		len -= k;
		if (w->ix.hlen < PFS_HDR_LEN)
			continue;
		w->ix.hlen = 0;
		w->ix.left = pfs_get32(w->ix.hb + 4);
		if (w->ix.hb[0] == PFS_DATA) {
			if (w->ix.n == 0)
				w->ix.first = pfs_get64(w->ix.hb + 8);
			ix_add(w, w->ix.pos - PFS_HDR_LEN);
		} else if (w->ix.hb[0] == PFS_END) {
			w->ix.end_seq = pfs_get64(w->ix.hb + 8);
			ix_add(w, w->ix.pos - PFS_HDR_LEN);
			w->ix.in_end = 1;
			w->ix.end_done = w->ix.left == 0;
		}
	}
}

static int put(struct pfs_writer *w, const void *p, size_t len,
               struct pfs_err *e);

/* ix_emit - the INDEX frame, at the final flush (pfs_writer_flush), once
 * END is in the buffer whole */
static int
ix_emit(struct pfs_writer *w, struct pfs_err *e)
{
	struct pfs_hdr h;
	uint64_t n, i;
	uint8_t *b;
	size_t len;
	int rc;

	if (!w->ix.on || !w->ix.end_done)
		return 0;
	w->ix.on = 0;
	n = w->ix.n - 1;           /* chunks; the last offset is END's */
	if (n != w->ix.end_seq)
		return 0;          /* not a stream we can map */
	len = (size_t)(8 * (n + 1) + PFS_INDEX_TAIL);
	b = malloc(len);
	if (!b)
		return 0;          /* an index is optional */
	for (i = 0; i <= n; i++)
		pfs_put64(b + 8 * i, w->ix.off[i]);
	pfs_put64(b + 8 * (n + 1), XXH64(b, (size_t)(8 * (n + 1)), 0));
	pfs_put32(b + 8 * (n + 1) + 8, (uint32_t)len);
	memcpy(b + 8 * (n + 1) + 12, "PFSI", 4);
	memset(&h, 0, sizeof(h));
	h.type = PFS_INDEX;
	h.len = (uint32_t)len;
	h.seq = n;
	h.raw = n ? w->ix.first : 0;
	rc = pfs_writer_frame(w, &h, b, len, e);
	free(b);
	return rc;
}

static int
werr(struct pfs_writer *w, struct pfs_err *e)
{
	/* A closed downstream pipe ends a filter quietly, the way cat does,
	 * even when SIGPIPE was ignored by whoever started us. */
	if (errno == EPIPE)
		pfs_die_of_sigpipe();
	if (errno == EINTR)
		return pfs_seterr(e, "interrupted");
	return pfs_seterr(e, "%s: write error: %s", w->name, strerror(errno));
}

/* buf_flush - write what is buffered (a flush on the way: never the
 * INDEX, see pfs_writer_flush) */
static int
buf_flush(struct pfs_writer *w, struct pfs_err *e)
{
	if (w->olen == 0)
		return 0;
	if (pfs_write_full(w->fd, w->obuf, w->olen, &w->blocked_ns) < 0)
		return werr(w, e);
	w->bytes_out += w->olen;
	w->olen = 0;
	return 0;
}

/* pfs_writer_flush - the final flush: the END frame stays in the buffer
 * until this call, which adds the INDEX after it and writes both, so that
 * a stage that finds trailing data or a damaged INDEX after END (and so
 * never makes this call) does not pass END on: the stage after it would
 * see a whole stream and succeed.  Flushes on the way (a full buffer, a
 * large payload) never reach END, because nothing but END and the INDEX
 * follows it. */
int
pfs_writer_flush(struct pfs_writer *w, struct pfs_err *e)
{
	if (ix_emit(w, e) < 0)
		return -1;
	return buf_flush(w, e);
}

int
pfs_writer_flush_released(struct pfs_writer *w, struct pfs_err *e)
{
	size_t n = w->olen;

	if (!w->released)
		return 0;
	if (w->end_queued && w->end_at < n)
		n = w->end_at;
	if (n == 0)
		return 0;
	if (pfs_write_full(w->fd, w->obuf, n, &w->blocked_ns) < 0)
		return werr(w, e);
	w->bytes_out += n;
	memmove(w->obuf, w->obuf + n, w->olen - n);
	w->olen -= n;
	w->end_at -= w->end_queued ? n : 0;
	return 0;
}

static int put_tracked(struct pfs_writer *w, const void *p, size_t len,
                       struct pfs_err *e);

static int
put(struct pfs_writer *w, const void *p, size_t len, struct pfs_err *e)
{
	if (len && w->ix.on)
		ix_track(w, p, len);
	return put_tracked(w, p, len, e);
}

/* put_tracked - put, for bytes ix_track has seen */
static int
put_tracked(struct pfs_writer *w, const void *p, size_t len,
            struct pfs_err *e)
{
	struct iovec iov[2];

	if (len == 0)
		return 0;
	/* END's payload is buffered whatever its size (pfs_writer_frame made
	 * room for the whole frame) */
	if (len <= COPY_MAX || (w->ix.on && w->ix.in_end &&
	                        w->ocap - w->olen >= len)) {
		if (w->ocap - w->olen < len && buf_flush(w, e) < 0)
			return -1;
		memcpy(w->obuf + w->olen, p, len);
		w->olen += len;
		return 0;
	}
	iov[0].iov_base = w->obuf;
	iov[0].iov_len = w->olen;
	iov[1].iov_base = (void *)(uintptr_t)p;
	iov[1].iov_len = len;
	if (pfs_writev_full(w->fd, iov, 2, &w->blocked_ns) < 0)
		return werr(w, e);
	w->bytes_out += w->olen + len;
	w->olen = 0;
	return 0;
}

int
pfs_writer_sig(struct pfs_writer *w, struct pfs_err *e)
{
	uint8_t sig[PFS_SIG_LEN];

	pfs_sig_write(sig);
	if (put(w, sig, sizeof(sig), e) < 0)
		return -1;
	free(w->ix.off);
	memset(&w->ix, 0, sizeof(w->ix));
	w->ix.on = 1;
	w->ix.pos = PFS_SIG_LEN;
	return 0;
}

int
pfs_writer_frame(struct pfs_writer *w, const struct pfs_hdr *h,
                 const void *payload, size_t len, struct pfs_err *e)
{
	uint8_t hb[PFS_HDR_LEN];

	pfs_hdr_encode(h, hb);
	/* a frame is never split across a flush: the header of a payload
	 * that is copied goes out with it, so that a stage that fails after
	 * this frame leaves its output on a frame boundary, not with a
	 * header whose payload never follows */
	if ((len <= COPY_MAX || (h->type == PFS_END &&
	                         sizeof(hb) + len <= w->ocap)) &&
	    w->ocap - w->olen < sizeof(hb) + len && buf_flush(w, e) < 0)
		return -1;
	if (h->type == PFS_END && !w->end_queued) {
		w->end_queued = 1;
		w->end_at = w->olen;
	}
	if (h->type == PFS_DATA)
		w->released = 1;
	if (put(w, hb, sizeof(hb), e) < 0)
		return -1;
	return put(w, payload, len, e);
}

int
pfs_writer_passed(struct pfs_writer *w, size_t n, struct pfs_err *e)
{
	if (!w->ix.on)
		return 0;
	(void)e;                   /* the INDEX comes at the final flush */
	ix_track(w, NULL, n);
	return 0;
}

int
pfs_writer_raw(struct pfs_writer *w, const void *p, size_t len,
               struct pfs_err *e)
{
	w->released = 1;
	return put(w, p, len, e);
}

/* gift_len - how many of the len bytes at p (in b) to give to the pipe:
 * those in b's whole 2 MiB pages, if they fill at least 5/8 of the 2 MiB
 * pages that pfs_buf_renew then replaces (so never less than 1.25 MiB);
 * else 0, and all are copied.  A fresh page costs about what copying its
 * bytes does when the kernel has it at hand, and much more when it does
 * not: on the virtual machine here, memory left free for about 2 s is
 * handed back to the host (free page reporting), and the first write to
 * it costs 2-2.5 ms per MiB.  A 1.2 MB payload (a compressed chunk of a
 * header tar) in a 2 MiB page made phash --check and pencrypt -d zero
 * 2 MiB to save copying 1.2 MB (57 %); 4.2 MB chunks of a tar of
 * /usr/share/doc in 6 MiB (70 %) are still cheaper given (docs/
 * performance.md, "An eleventh run").
 * The rest, in the storage's 4 KiB tail, is copied: new 4 KiB pages cost
 * a fault each, 15 to 30 us here (a 2.9 MB payload in a 2.9 MB buffer
 * took 200 of them per chunk, and made phash --check 60 % slower than
 * copying). */
static size_t
gift_len(const struct pfs_writer *w, const struct pfs_buf *b, const void *p,
         size_t len)
{
	size_t n, span;

	if (!w->pipe || !pfs_buf_renewable(b) ||
	    (const uint8_t *)p < b->p ||
	    (const uint8_t *)p + len > b->p + b->cap)
		return 0;
	n = pfs_buf_huge_len(b, p);
	if (n > len)
		n = len;
	/* the pages pfs_buf_renew(b, n) maps anew: from the storage's
	 * start to the end of the given bytes, in whole 2 MiB pages */
	span = pfs_buf_renew_span(b, (size_t)((const uint8_t *)p - b->p) + n);
	return n / 5 >= span / 8 ? n : 0;
}

/* give - what is buffered, then the first n of the len bytes at p by
 * vmsplice(2), the rest copied; b gets new pages (see
 * pfs_writer_frame_buf) */
static int
give(struct pfs_writer *w, struct pfs_buf *b, const void *p, size_t len,
     size_t n, struct pfs_err *e)
{
	struct iovec v = { (void *)(uintptr_t)p, n };
	uint64_t t0;
	ssize_t k;

	if (buf_flush(w, e) < 0)
		return -1;
	t0 = pfs_now_ns();
	while (v.iov_len) {
		k = vmsplice(w->fd, &v, 1, 0);
		if (k < 0 && errno == EINTR && !pfs_interrupted)
			continue;
		if (k < 0 && v.iov_len == n &&
		    (errno == EINVAL || errno == ENOSYS || errno == EPERM)) {
			/* refused before a byte went (a sandbox, an odd
			 * kernel): copy, from now on */
			pfs_blocked_add(&w->blocked_ns, t0, 1);
			w->pipe = 0;
			return put_tracked(w, p, len, e);
		}
		if (k <= 0) {
			int err = k == 0 ? EIO : errno;

			pfs_blocked_add(&w->blocked_ns, t0, 1);
			(void)pfs_buf_renew(b, n, 0);  /* part may be in the pipe */
			errno = err;
			return werr(w, e);
		}
		v.iov_base = (uint8_t *)v.iov_base + k;
		v.iov_len -= (size_t)k;
	}
	pfs_blocked_add(&w->blocked_ns, t0, 1);
	w->bytes_out += n;
	/* the tail, copied from pages that were not given */
	if (put_tracked(w, (const uint8_t *)p + n, len - n, e) < 0) {
		(void)pfs_buf_renew(b, n, 0);
		return -1;
	}
	/* new pages for the next payload, faulted in here on the writer
	 * thread: for a streamed stage, whoever fills the buffer next is the
	 * thread that reads and transforms, the one the stage waits for.
	 * Not when no buffer will be filled again (w->spent): at the end of
	 * a stream, pcompress -d -T 2 faulted in 16 MiB nobody used, at the
	 * tail of the pipeline, where the stages downstream wait for it.
	 * Out of memory, b is left empty, and its next reserve reports it. */
	(void)pfs_buf_renew(b, n, !w->spent);
	return 0;
}

int
pfs_writer_frame_buf(struct pfs_writer *w, const struct pfs_hdr *h,
                     struct pfs_buf *b, const void *payload, size_t len,
                     struct pfs_err *e)
{
	uint8_t hb[PFS_HDR_LEN];
	size_t n = h->type == PFS_END ? 0 : gift_len(w, b, payload, len);

	if (!n)
		return pfs_writer_frame(w, h, payload, len, e);
	pfs_hdr_encode(h, hb);
	if (h->type == PFS_DATA)
		w->released = 1;
	if (put(w, hb, sizeof(hb), e) < 0)
		return -1;
	if (w->ix.on)
		ix_track(w, payload, len);
	return give(w, b, payload, len, n, e);
}

int
pfs_writer_raw_buf(struct pfs_writer *w, struct pfs_buf *b, const void *p,
                   size_t len, struct pfs_err *e)
{
	size_t n = gift_len(w, b, p, len);

	w->released = 1;
	if (!n)
		return put(w, p, len, e);
	if (w->ix.on)
		ix_track(w, p, len);
	/* END stays in the buffer until the final flush (pfs_writer_flush) */
	if (w->ix.in_end)
		return put_tracked(w, p, len, e);
	return give(w, b, p, len, n, e);
}

int
pfs_writer_splice(struct pfs_writer *w, struct pfs_reader *r, size_t n,
                  struct pfs_err *e)
{
	size_t have = r->ilen - r->ipos, take = have < n ? have : n;
	ssize_t k;
	uint64_t t0;

	if (n > r->pending)
		return pfs_seterr(e, "%s: internal error: splice past the "
		                  "payload", r->name);
	if (buf_flush(w, e) < 0)
		return -1;
	if (take) {
		if (w->ix.on)
			ix_track(w, r->ibuf + r->ipos, take);
		if (pfs_write_full(w->fd, r->ibuf + r->ipos, take,
		                   &w->blocked_ns) < 0)
			return werr(w, e);
		r->ipos += take;
		w->bytes_out += take;
		r->pending -= (uint32_t)take;
		n -= take;
	}
	while (n) {
		t0 = pfs_now_ns();
		k = splice(r->fd, NULL, w->fd, NULL, n, SPLICE_F_MOVE);
		pfs_blocked_add(&r->blocked_ns, t0, 0);
		if (k < 0 && errno == EINTR && !pfs_interrupted)
			continue;
		if (k < 0 && errno == EPIPE)
			return werr(w, e);
		if (k < 0 && errno == EINTR)
			return pfs_seterr(e, "interrupted");
		if (k < 0)
			/* not spliceable (EINVAL), or a failure on one side
			 * (a full disk): nothing of this call moved, so the
			 * caller copies the rest, whose read or write names
			 * the side that fails as every reader and writer
			 * does ("OUT: write error: ...") */
			return 1;
		if (k == 0)
			return pfs_seterr(e, "%s: truncated stream (frame %"
			                  PRIu64 ": payload cut short)", r->name,
			                  r->ordinal - 1);
		r->bytes_in += (uint64_t)k;
		r->bytes_spliced += (uint64_t)k;
		w->bytes_out += (uint64_t)k;
		r->pending -= (uint32_t)k;
		n -= (size_t)k;
		if (w->ix.on)
			ix_track(w, NULL, (size_t)k);
	}
	return 0;
}

/* --- the index, read from a stream file --- */

void
pfs_index_free(struct pfs_index *ix)
{
	free(ix->off);
	ix->off = NULL;
}

int
pfs_index_load(int fd, uint64_t size, const char *name,
               struct pfs_index *ix, struct pfs_err *e)
{
	uint8_t tail[8], hb[PFS_HDR_LEN], *b = NULL;
	struct pfs_hdr h, eh;
	uint64_t plen, pos, n, i;

	memset(ix, 0, sizeof(*ix));
	if (size < PFS_SIG_LEN + 3 * PFS_HDR_LEN + 8 + PFS_INDEX_TAIL)
		return 0;
	if (pfs_pread_full(fd, tail, sizeof(tail), size - sizeof(tail)) < 0)
		return pfs_seterr(e, "%s: read error: %s", name,
		                  errno ? strerror(errno) : "short read");
	ix->bytes_read = sizeof(tail);
	if (memcmp(tail + 4, "PFSI", 4) != 0)
		return 0;
	plen = pfs_get32(tail);
	if (plen < 8 + PFS_INDEX_TAIL || (plen - PFS_INDEX_TAIL) % 8 ||
	    plen + PFS_HDR_LEN > size - PFS_SIG_LEN - 2 * PFS_HDR_LEN)
		goto damaged;
	pos = size - PFS_HDR_LEN - plen;
	if (pfs_pread_full(fd, hb, sizeof(hb), pos) < 0 ||
	    pfs_hdr_decode(hb, &h, 0, e) < 0 || h.type != PFS_INDEX ||
	    h.len != plen || h.seq != (plen - PFS_INDEX_TAIL) / 8 - 1)
		goto damaged;
	n = h.seq;
	b = malloc((size_t)plen);
	ix->off = malloc((size_t)(n + 1) * sizeof(*ix->off));
	if (!b || !ix->off) {
		free(b);
		pfs_index_free(ix);
		return pfs_seterr(e, "out of memory (index of %" PRIu64
		                  " chunks)", n);
	}
	if (pfs_pread_full(fd, b, (size_t)plen, pos + PFS_HDR_LEN) < 0 ||
	    XXH64(b, (size_t)(8 * (n + 1)), 0) != pfs_get64(b + 8 * (n + 1)))
		goto damaged;
	for (i = 0; i <= n; i++) {
		ix->off[i] = pfs_get64(b + 8 * i);
		if (ix->off[i] < (i ? ix->off[i - 1] + PFS_HDR_LEN :
		                      PFS_SIG_LEN + PFS_HDR_LEN))
			goto damaged;
	}
	if (ix->off[n] + PFS_HDR_LEN > pos ||
	    pfs_pread_full(fd, hb, sizeof(hb), ix->off[n]) < 0 ||
	    pfs_hdr_decode(hb, &eh, 0, e) < 0 || eh.type != PFS_END ||
	    eh.seq != n)
		goto damaged;
	ix->bytes_read += 2 * PFS_HDR_LEN + plen;
	ix->first = h.raw;
	ix->n = n;
	ix->end_raw = eh.raw;
	ix->end_seq = eh.seq;
	ix->end_flags = eh.flags;
	free(b);
	return 1;
damaged:
	free(b);
	pfs_index_free(ix);
	return pfs_seterr(e, "%s: the index at the end of the stream is "
	                  "damaged (the stream can still be read whole, "
	                  "without --range)", name);
}

int
pfs_reader_extract(struct pfs_reader *r, const struct pfs_index *ix,
                   uint64_t from, uint64_t to, struct pfs_err *e)
{
	if (from < ix->first || to < from || to - ix->first >= ix->n)
		return pfs_seterr(e, "%s: chunks %" PRIu64 "..%" PRIu64 " are "
		                  "not in the stream", r->name, from, to);
	if (lseek(r->fd, (off_t)ix->off[from - ix->first], SEEK_SET) < 0)
		return pfs_seterr(e, "%s: cannot seek: %s", r->name,
		                  strerror(errno));
	r->ipos = r->ilen = 0;
	r->extract = 1;
	r->stop_seq = to;
	return 0;
}
