#define _GNU_SOURCE            /* splice(2) */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "frame.h"
#include "head.h"
#include "io.h"
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

int
pfs_sig_check(const uint8_t sig[PFS_SIG_LEN], struct pfs_err *e)
{
	if (memcmp(sig, magic, sizeof(magic)) != 0)
		return pfs_seterr(e, "not a frame stream (missing signature)");
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
	    (h->flags && h->type < PFS_SKIPPABLE_MIN))
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
		r->blocked_ns += pfs_now_ns() - t0;
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
			pfs_seterr(e, "not a frame stream (missing signature)");
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
	return 0;
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
	uint64_t ord = r->ordinal;
	uint32_t cap;
	int rc;

	if (r->done) {
		/* nothing may follow END */
		ssize_t n = fill(r, 1, 1, e);
		if (n < 0)
			return -1;
		if (n > 0)
			return pfs_seterr(e, "%s: trailing data after the END "
			                  "frame", r->name);
		return 0;
	}
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
		if (h->raw > r->chunk_size || (h->raw == 0))
			return pfs_seterr(e, "%s: chunk %" PRIu64 ": raw length %"
			                  PRIu64 " outside 1..%u (the chunk size)",
			                  r->name, h->seq, h->raw, r->chunk_size);
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
		r->next_seq++;
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
		if (h->seq != r->next_seq)
			return pfs_seterr(e, "%s: END says %" PRIu64 " chunks but "
			                  "the stream has %" PRIu64 " (frames "
			                  "dropped or duplicated)", r->name,
			                  h->seq, r->next_seq);
		if (h->raw != r->raw_total)
			return pfs_seterr(e, "%s: END says %" PRIu64 " bytes but "
			                  "the chunks add up to %" PRIu64,
			                  r->name, h->raw, r->raw_total);
		r->done = 1;
		r->last_data = 0;
		break;
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

int
pfs_writer_init(struct pfs_writer *w, int fd, const char *name)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->name = name;
	w->ocap = OBUF_SIZE;
	w->obuf = malloc(w->ocap);
	return w->obuf ? 0 : -1;
}

void
pfs_writer_free(struct pfs_writer *w)
{
	free(w->obuf);
	w->obuf = NULL;
}

static int
werr(struct pfs_writer *w, struct pfs_err *e)
{
	/* A closed downstream pipe ends a filter quietly, the way cat does,
	 * even when SIGPIPE was ignored by whoever started us. */
	if (errno == EPIPE) {
		sigset_t pipe;

		sigemptyset(&pipe);
		sigaddset(&pipe, SIGPIPE);
		signal(SIGPIPE, SIG_DFL);
		pthread_sigmask(SIG_UNBLOCK, &pipe, NULL);  /* engine threads block it */
		raise(SIGPIPE);
	}
	if (errno == EINTR)
		return pfs_seterr(e, "interrupted");
	return pfs_seterr(e, "%s: write error: %s", w->name, strerror(errno));
}

int
pfs_writer_flush(struct pfs_writer *w, struct pfs_err *e)
{
	if (w->olen == 0)
		return 0;
	if (pfs_write_full(w->fd, w->obuf, w->olen, &w->blocked_ns) < 0)
		return werr(w, e);
	w->bytes_out += w->olen;
	w->olen = 0;
	return 0;
}

static int
put(struct pfs_writer *w, const void *p, size_t len, struct pfs_err *e)
{
	struct iovec iov[2];

	if (len == 0)
		return 0;
	if (len <= COPY_MAX) {
		if (w->ocap - w->olen < len && pfs_writer_flush(w, e) < 0)
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
	return put(w, sig, sizeof(sig), e);
}

int
pfs_writer_frame(struct pfs_writer *w, const struct pfs_hdr *h,
                 const void *payload, size_t len, struct pfs_err *e)
{
	uint8_t hb[PFS_HDR_LEN];

	pfs_hdr_encode(h, hb);
	if (put(w, hb, sizeof(hb), e) < 0)
		return -1;
	return put(w, payload, len, e);
}

int
pfs_writer_raw(struct pfs_writer *w, const void *p, size_t len,
               struct pfs_err *e)
{
	return put(w, p, len, e);
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
	if (pfs_writer_flush(w, e) < 0)
		return -1;
	if (take) {
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
		r->blocked_ns += pfs_now_ns() - t0;
		if (k < 0 && errno == EINTR && !pfs_interrupted)
			continue;
		if (k < 0 && errno == EINVAL && !r->bytes_spliced)
			return 1;         /* not spliceable: copy instead */
		if (k < 0 && errno == EPIPE)
			return werr(w, e);
		if (k < 0) {
			if (errno == EINTR)
				return pfs_seterr(e, "interrupted");
			return pfs_seterr(e, "%s -> %s: splice: %s", r->name,
			                  w->name, strerror(errno));
		}
		if (k == 0)
			return pfs_seterr(e, "%s: truncated stream (frame %"
			                  PRIu64 ": payload cut short)", r->name,
			                  r->ordinal - 1);
		r->bytes_in += (uint64_t)k;
		r->bytes_spliced += (uint64_t)k;
		w->bytes_out += (uint64_t)k;
		r->pending -= (uint32_t)k;
		n -= (size_t)k;
	}
	return 0;
}
