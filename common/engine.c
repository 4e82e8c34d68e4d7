#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "io.h"
#include "trace.h"

enum { S_FREE = 0, S_FILLED, S_BUSY, S_DONE };

#define MAX_THREADS PFS_THREADS_MAX

struct ring;

/* the spare buffers of ops->lend_in, most recently returned on top */
struct pool {
	struct pfs_buf *b;
	unsigned n, max;
};

struct engine {
	const struct pfs_engine_cfg *cfg;
	const struct pfs_stage_ops *ops;
	void *ctx;
	struct pfs_slot *slots;
	unsigned ns;
	pthread_mutex_t mu;
	pthread_cond_t cv_space;     /* reader waits for a free slot */
	pthread_cond_t cv_work;      /* workers wait for a filled slot */
	pthread_cond_t cv_done;      /* writer waits for the next slot */
	uint64_t nread, nwork, nwritten;
	uint64_t ntodo;            /* frames read for transform, not taken */
	int read_end;              /* END was read: no frame follows */
	int reader_done;
	int abort;
	int wfailed;                 /* writer side error in werr */
	struct pfs_err werr;
	struct pfs_reader r;
	struct pfs_writer w;
	uint64_t frames;
	int transform;               /* some frames go to workers */
	int stream;                  /* ops->head returned PFS_STREAM */
	struct ring *ring;           /* streaming: the writer's items */
	/* ops->hold: the DATA frame held back (its buffers swapped in from
	 * its slot) and the DIGEST frames after it, encoded */
	struct pfs_slot held;
	int holding;
	struct pfs_buf tail;
	/* ops->lend_in (engine.h): slots borrow their buffers */
	int lend;
	struct pool pin, pout;
	unsigned in_busy, in_cap;    /* input tokens out, and their limit */
	unsigned out_busy, out_cap;  /* output tokens out, and their limit */
};

struct worker {
	struct engine *en;
	pthread_t tid;
	void *tstate;
	int started;
	unsigned no;                 /* 1, 2, ...: for the trace */
};

/* --- tracing (trace.h): every hook costs one test when it is off --- */

/* chunk - the chunk index of a DATA frame for the trace, else none */
static uint64_t
chunk(const struct pfs_hdr *h)
{
	return h->type == PFS_DATA ? h->seq : UINT64_MAX;
}

/* t_now - the time into m, only when tracing */
static void
t_now(struct pfs_trace_mark *m)
{
	if (pfs_trace_on)
		pfs_trace_mark(m);
}

/* t_span - a busy span from m0 to now of the frame in slot s */
static void
t_span(const char *name, const struct pfs_trace_mark *m0,
       const struct pfs_slot *s)
{
	if (pfs_trace_on)
		pfs_trace_span(name, m0, chunk(&s->hdr), s->hdr.len,
		               s->emit ? s->ohdr.len : 0);
}

/* t_flight - the in-flight counter (n chunks) and the rate of direction
 * out (total bytes so far) */
static void
t_flight(uint64_t n, int out, uint64_t total)
{
	uint64_t t;

	if (!pfs_trace_on)
		return;
	t = pfs_now_ns();
	pfs_trace_counter("in flight", t, (double)n);
	pfs_trace_rate(out, t, total);
}

unsigned
pfs_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1u : n > (long)MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

/* pool_take - b (empty) gets the pool's last returned buffer, if any */
static void
pool_take(struct pool *p, struct pfs_buf *b)
{
	if (!b->cap && p->n)
		*b = p->b[--p->n];
}

/* pool_give - b's storage back to the pool (freed if the pool is full);
 * b is left empty */
static void
pool_give(struct pool *p, struct pfs_buf *b)
{
	const struct pfs_buf none = PFS_BUF_INIT;

	if (!b->cap)
		return;
	b->len = 0;
	if (p->n < p->max)
		p->b[p->n++] = *b;
	else
		pfs_buf_free(b);
	*b = none;
}

/* in_free - slot s gives back its input buffer and token (ops->lend_in),
 * with en->mu held */
static void
in_free(struct engine *en, struct pfs_slot *s)
{
	pool_give(&en->pin, &s->in);
	if (s->intok) {
		s->intok = 0;
		en->in_busy--;
		pthread_cond_signal(&en->cv_space);
	}
}

/* out_wait - whether the next frame for a worker must wait for an output
 * buffer (ops->lend_in).  A buffer is taken in the same step as the frame,
 * so in frame order, and the limit is never passed.  No deadlock: the
 * buffers out are held by frames taken before this one and not yet
 * written, whose transforms need nothing more; the writer writes them and
 * gives their buffers back (when this frame is next to be written, every
 * buffer is back, so it never waits). */
static int
out_wait(const struct engine *en)
{
	return en->lend && en->out_busy >= en->out_cap;
}

/* aliases - whether the output of slot s is (in) its input buffer */
static int
aliases(const struct pfs_slot *s)
{
	return s->in.cap && s->opay >= s->in.p && s->opay <= s->in.p + s->in.cap;
}

static int
wants(const struct engine *en, uint8_t type)
{
	return en->transform && type < 32 && (en->ops->types & (1u << type));
}

static void *
worker_main(void *arg)
{
	struct worker *wk = arg;
	struct engine *en = wk->en;
	struct pfs_slot *s;
	struct pfs_trace_mark t0;
	uint64_t idx;
	char name[32];

	if (pfs_trace_on) {
		snprintf(name, sizeof(name), "worker %u", wk->no);
		pfs_trace_thread(name, 1 + wk->no);
	}
	pthread_mutex_lock(&en->mu);
	for (;;) {
		/* a frame to take and an output buffer for it, or the end */
		while (!en->abort && (en->nwork < en->nread ? out_wait(en) :
		                                              !en->reader_done))
			pthread_cond_wait(&en->cv_work, &en->mu);
		if (en->abort || en->nwork >= en->nread)
			break;
		idx = en->nwork++;
		s = &en->slots[idx % en->ns];
		if (s->state != S_FILLED || s->ticket != idx)
			continue;    /* a pass-through frame, maybe written already */
		s->state = S_BUSY;
		en->ntodo--;
		if (en->lend) {
			pool_take(&en->pout, &s->out);
			s->outtok = 1;
			en->out_busy++;
		}
		pthread_mutex_unlock(&en->mu);
		t_now(&t0);
		if (en->ops->transform(en->ctx, wk->tstate, s, &s->err) < 0)
			s->failed = 1;
		t_span("transform", &t0, s);
		pthread_mutex_lock(&en->mu);
		if (en->lend && !s->failed && !aliases(s))
			in_free(en, s);
		s->state = S_DONE;
		pthread_cond_signal(&en->cv_done);
	}
	pthread_mutex_unlock(&en->mu);
	return NULL;
}

/* payload_buf - the buffer of slot s that holds its output payload */
static struct pfs_buf *
payload_buf(struct pfs_slot *s)
{
	return s->opay == s->out.p ? &s->out : &s->in;
}

/* write_slot - write slot s's frame (and extra frame); a large payload may
 * be given to a pipe (pfs_writer_frame_buf), and its buffer then has fresh
 * pages for the slot's next frame */
static int
write_slot(struct engine *en, struct pfs_slot *s, struct pfs_err *e)
{
	if (en->cfg->raw_out) {
		if (s->emit && s->ohdr.type == PFS_DATA &&
		    pfs_writer_raw_buf(&en->w, payload_buf(s), s->opay,
		                       s->ohdr.len, e) < 0)
			return -1;
		return 0;
	}
	if (s->emit && pfs_writer_frame_buf(&en->w, &s->ohdr, payload_buf(s),
	                                    s->opay, s->ohdr.len, e) < 0)
		return -1;
	if (s->xemit && pfs_writer_frame(&en->w, &s->xhdr, s->xpay,
	                                 s->xhdr.len, e) < 0)
		return -1;
	return 0;
}

/* ordered - ops->ordered for slot s, if the tool has one; with
 * cfg->name_errors its message is prefixed with the input's name. */
static int
ordered(struct engine *en, struct pfs_slot *s, struct pfs_err *e)
{
	if (!en->ops->ordered || en->ops->ordered(en->ctx, s, e) == 0)
		return 0;
	if (en->cfg->name_errors)
		pfs_prefix(e, en->cfg->in_name);
	return -1;
}

/* hold_take - move the DATA frame of slot s into en->held without copying
 * its payload: the two swap buffers, so the slot stays reusable. */
static void
hold_take(struct engine *en, struct pfs_slot *s)
{
	struct pfs_slot *h = &en->held;
	struct pfs_buf in = h->in, out = h->out;

	/* the payload memory moves with its buffer: opay stays valid */
	h->opay = s->opay;
	h->in = s->in;
	h->out = s->out;
	s->in = in;
	s->out = out;
	h->hdr = s->hdr;
	h->ohdr = s->ohdr;
	h->emit = s->emit;
	h->xemit = s->xemit;
	h->xhdr = s->xhdr;
	if (s->xemit)
		memcpy(h->xpay, s->xpay, s->xhdr.len);
	en->holding = 1;
	en->tail.len = 0;
}

/* hold_tail - a DIGEST frame after the held DATA frame: encoded and kept
 * until the DATA frame is released. */
static int
hold_tail(struct engine *en, struct pfs_slot *s, struct pfs_err *e)
{
	size_t need = en->tail.len;

	if (en->cfg->raw_out || !s->emit)
		return 0;            /* nothing of it is written */
	need += PFS_HDR_LEN + s->ohdr.len;
	if (s->xemit)
		need += PFS_HDR_LEN + s->xhdr.len;
	if (need > PFS_HOLD_TAIL_MAX)
		return pfs_seterr(e, "%s: chunk %" PRIu64 ": too many DIGEST "
		                  "frames (damaged stream)", en->cfg->in_name,
		                  en->held.hdr.seq);
	if (pfs_buf_reserve(&en->tail, need) < 0)
		return pfs_seterr(e, "out of memory");
	pfs_hdr_encode(&s->ohdr, en->tail.p + en->tail.len);
	memcpy(en->tail.p + en->tail.len + PFS_HDR_LEN, s->opay, s->ohdr.len);
	en->tail.len += PFS_HDR_LEN + s->ohdr.len;
	if (s->xemit) {
		pfs_hdr_encode(&s->xhdr, en->tail.p + en->tail.len);
		memcpy(en->tail.p + en->tail.len + PFS_HDR_LEN, s->xpay,
		       s->xhdr.len);
		en->tail.len += PFS_HDR_LEN + s->xhdr.len;
	}
	return 0;
}

/* hold_release - write the held DATA frame and the DIGEST frames after it,
 * now that everything covering them has been checked. */
static int
hold_release(struct engine *en, struct pfs_err *e)
{
	if (!en->holding)
		return 0;
	en->holding = 0;
	if (write_slot(en, &en->held, e) < 0)
		return -1;
	if (en->tail.len && pfs_writer_raw(&en->w, en->tail.p, en->tail.len,
	                                   e) < 0)
		return -1;
	en->tail.len = 0;
	return 0;
}

/* hold_cut - reading failed: the held DATA frame is written all the same
 * when every check covering it has passed (ops->held_checked), so that a
 * stream cut short loses no chunk it brought whole and verified (pjoin
 * --resume keeps it; a stage after this one gets it).  Its write error,
 * if any, comes after the read error, which is the one reported. */
static void
hold_cut(struct engine *en)
{
	struct pfs_err ignored;

	if (en->holding && en->ops->held_checked &&
	    en->ops->held_checked(en->ctx, &en->held))
		(void)hold_release(en, &ignored);
}

/* emit - write slot s (ops->hold: or hold it back, see engine.h). */
static int
emit(struct engine *en, struct pfs_slot *s, struct pfs_err *e)
{
	if (!en->ops->hold)
		return write_slot(en, s, e);
	if (s->hdr.type == PFS_DIGEST && en->holding)
		return hold_tail(en, s, e);
	if (hold_release(en, e) < 0)
		return -1;
	if (s->hdr.type == PFS_DATA) {
		hold_take(en, s);
		return 0;
	}
	return write_slot(en, s, e);
}

static void *
writer_main(void *arg)
{
	struct engine *en = arg;
	struct pfs_slot *s;
	struct pfs_err e;
	struct pfs_trace_mark t0;
	uint64_t n;

	if (pfs_trace_on)
		pfs_trace_thread("writer", 1000);
	pthread_mutex_lock(&en->mu);
	for (;;) {
		for (;;) {
			if (en->abort)
				goto out;
			if (en->nwritten < en->nread &&
			    en->slots[en->nwritten % en->ns].state == S_DONE)
				break;
			if (en->reader_done && en->nwritten == en->nread)
				goto out;
			pthread_cond_wait(&en->cv_done, &en->mu);
		}
		s = &en->slots[en->nwritten % en->ns];
		en->w.spent = en->read_end && !en->ntodo;
		pthread_mutex_unlock(&en->mu);
		if (s->failed) {
			e = s->err;
			goto fail;
		}
		if (pfs_interrupted) {
			pfs_seterr(&e, "interrupted");
			goto fail;
		}
		t_now(&t0);
		if (ordered(en, s, &e) < 0)
			goto fail;
		t_span("order", &t0, s);
		t_now(&t0);
		if (emit(en, s, &e) < 0)
			goto fail;
		t_span("write", &t0, s);
		pthread_mutex_lock(&en->mu);
		en->frames++;
		if (en->lend) {
			in_free(en, s);
			pool_give(&en->pout, &s->out);
			if (s->outtok) {
				s->outtok = 0;
				en->out_busy--;
			}
			pthread_cond_broadcast(&en->cv_work);
		}
		s->state = S_FREE;
		en->nwritten++;
		n = en->nread - en->nwritten;
		pthread_cond_signal(&en->cv_space);
		if (pfs_trace_on) {
			pthread_mutex_unlock(&en->mu);
			t_flight(n, 1, en->w.bytes_out);
			pthread_mutex_lock(&en->mu);
		}
	}
fail:
	pthread_mutex_lock(&en->mu);
	en->wfailed = 1;
	en->werr = e;
	en->abort = 1;
	pthread_cond_broadcast(&en->cv_space);
	pthread_cond_broadcast(&en->cv_work);
out:
	pthread_mutex_unlock(&en->mu);
	return NULL;
}

/* The reader loop, on the calling thread.  Returns 0 at a validated end of
 * stream, -1 with e set on a read/validation error, 1 when stopped because
 * the writer side aborted. */
static int
read_loop(struct engine *en, struct pfs_err *e)
{
	struct pfs_slot *s;
	struct pfs_trace_mark t0;
	uint64_t n;
	int rc;

	for (;;) {
		pthread_mutex_lock(&en->mu);
		while ((en->nread - en->nwritten >= en->ns ||
		        (en->lend && en->in_busy >= en->in_cap)) && !en->abort)
			pthread_cond_wait(&en->cv_space, &en->mu);
		if (en->abort) {
			pthread_mutex_unlock(&en->mu);
			return 1;
		}
		s = &en->slots[en->nread % en->ns];
		if (en->lend) {
			pool_take(&en->pin, &s->in);
			s->intok = 1;
			en->in_busy++;
		}
		pthread_mutex_unlock(&en->mu);
		if (pfs_interrupted)
			return pfs_seterr(e, "interrupted");
		t_now(&t0);
		rc = pfs_reader_next(&en->r, &s->hdr, &s->in, e);
		if (rc <= 0)
			return rc;
		if (pfs_trace_on)
			pfs_trace_span("read", &t0, chunk(&s->hdr), s->hdr.len,
			               s->hdr.len);
		s->ohdr = s->hdr;
		s->opay = s->in.p;
		s->emit = 1;
		s->xemit = 0;
		s->auxlen = 0;
		s->failed = 0;
		pthread_mutex_lock(&en->mu);
		s->state = wants(en, s->hdr.type) ? S_FILLED : S_DONE;
		s->ticket = en->nread;
		en->nread++;
		if (s->hdr.type == PFS_END)
			en->read_end = 1;
		n = en->nread - en->nwritten;
		if (s->state == S_FILLED) {
			en->ntodo++;
			pthread_cond_signal(&en->cv_work);
		} else
			pthread_cond_signal(&en->cv_done);
		pthread_mutex_unlock(&en->mu);
		t_flight(n, 0, en->r.bytes_in);
	}
}

/*
 * Streaming (PFS_STREAM): the calling thread reads, runs the callbacks and
 * fills a ring of PFS_RING byte items; a writer thread writes the items in
 * order.  A streamed DATA frame is one item (its payload read and
 * transformed a piece at a time, in cache, the header before it and the
 * tail after it), handed over only when the frame is complete, so a stream
 * cut short or refused mid-frame leaves no part of that frame in the
 * output; a frame made whole first (stream_collect, other frames) may go
 * in pieces.  END is handed over only when the stream has been validated
 * to its end.  Reading and transforming overlap writing.
 */
#define PFS_RING 2u
#define PFS_STREAM_RESERVE (32u << 20)

struct ring {
	struct pfs_buf item[PFS_RING];
	uint64_t chunk[PFS_RING];    /* the item's chunk, for --trace */
	uint64_t nput, nget;         /* items published / written */
	int open;                    /* item[nput % PFS_RING] is being filled */
	int ended;                   /* END is in the item being filled */
	int data_out;                /* a DATA frame has been handed on;
	                              * until then the frames before it wait
	                              * in the item being filled, so that a
	                              * stage failing at its first chunk
	                              * passes nothing on, not a HEAD alone */
	int done;                    /* no more items: flush and stop */
	int failed;                  /* the stream failed: flush only what
	                              * follows a handed-on item (frame.c,
	                              * pfs_writer_flush_released), never a
	                              * HEAD alone */
	int wfailed;
	struct pfs_err werr;
};

static void *
ring_writer(void *arg)
{
	struct engine *en = arg;
	struct ring *rg = en->ring;
	struct pfs_buf *it;
	struct pfs_err e;
	struct pfs_trace_mark t0;
	size_t n;

	if (pfs_trace_on)
		pfs_trace_thread("writer", 1000);
	pthread_mutex_lock(&en->mu);
	for (;;) {
		while (rg->nget == rg->nput && !rg->done)
			pthread_cond_wait(&en->cv_done, &en->mu);
		if (rg->nget == rg->nput)
			break;
		it = &rg->item[rg->nget % PFS_RING];
		pthread_mutex_unlock(&en->mu);
		t_now(&t0);
		n = it->len;         /* a given item's len is 0 after */
		if (pfs_writer_raw_buf(&en->w, it, it->p, n, &e) < 0)
			goto fail;
		if (pfs_trace_on) {
			pfs_trace_span("write", &t0,
			               rg->chunk[rg->nget % PFS_RING], n, n);
			pfs_trace_rate(1, pfs_now_ns(), en->w.bytes_out);
		}
		pthread_mutex_lock(&en->mu);
		rg->nget++;
		pthread_cond_signal(&en->cv_space);
	}
	pthread_mutex_unlock(&en->mu);
	if ((rg->failed ? pfs_writer_flush_released(&en->w, &e) :
	                  pfs_writer_flush(&en->w, &e)) < 0)
		goto fail;
	return NULL;
fail:
	pthread_mutex_lock(&en->mu);
	rg->wfailed = 1;
	rg->werr = e;
	pthread_cond_signal(&en->cv_space);
	pthread_mutex_unlock(&en->mu);
	return NULL;
}

/* ring_item - the item being filled, with room for n more bytes; waits for
 * the writer to free one.  NULL with e set when the writer failed. */
static struct pfs_buf *
ring_item(struct engine *en, size_t n, struct pfs_err *e)
{
	struct ring *rg = en->ring;
	struct pfs_buf *it;

	if (!rg->open) {
		int failed;

		pthread_mutex_lock(&en->mu);
		while (rg->nput - rg->nget >= PFS_RING && !rg->wfailed)
			pthread_cond_wait(&en->cv_space, &en->mu);
		failed = rg->wfailed;        /* the writer sets both under mu */
		if (failed)
			*e = rg->werr;
		pthread_mutex_unlock(&en->mu);
		if (failed)
			return NULL;
		rg->open = 1;
		rg->item[rg->nput % PFS_RING].len = 0;
		rg->chunk[rg->nput % PFS_RING] = UINT64_MAX;
	}
	it = &rg->item[rg->nput % PFS_RING];
	if (pfs_buf_reserve(it, it->len + n) < 0) {
		pfs_seterr(e, "out of memory");
		return NULL;
	}
	return it;
}

static int
ring_put(struct engine *en, const void *p, size_t n, struct pfs_err *e)
{
	struct pfs_buf *it = ring_item(en, n, e);

	if (!it)
		return -1;
	if (n)
		memcpy(it->p + it->len, p, n);
	it->len += n;
	return 0;
}

/* ring_publish - hand the item being filled to the writer */
static void
ring_publish(struct engine *en)
{
	struct ring *rg = en->ring;

	if (!rg->open)
		return;
	rg->open = 0;
	pthread_mutex_lock(&en->mu);
	rg->nput++;
	pthread_cond_signal(&en->cv_done);
	pthread_mutex_unlock(&en->mu);
}

/* stream_data - a DATA frame whose header was just read, streamed (see
 * engine.h, ops->stream_*) a piece at a time through the ring. */
static int
stream_data(struct engine *en, struct pfs_slot *s, struct pfs_err *e)
{
	const struct pfs_stage_ops *ops = en->ops;
	uint8_t tail[PFS_STREAM_TAIL_MAX], hb[PFS_HDR_LEN];
	size_t left, n, tlen = 0;
	int raw = en->cfg->raw_out;
	struct pfs_buf *it;

	if (ops->stream_begin && ops->stream_begin(en->ctx, s, e) < 0)
		return -1;
	if (ordered(en, s, e) < 0)
		return -1;
	/* the whole frame goes into one item, published only when the
	 * payload has been read to its end: a stream cut short (or a piece
	 * refused) leaves no part of the frame behind.  Room for the whole
	 * frame is made at once up to PFS_STREAM_RESERVE, and for the rest
	 * only once that much has arrived: a short stream declaring a huge
	 * payload does not make it reserve the payload, and a real one
	 * grows its item once, to size. */
	if (!ring_item(en, PFS_HDR_LEN + (s->hdr.len < PFS_STREAM_RESERVE ?
	                                  s->hdr.len : PFS_STREAM_RESERVE) +
	                   PFS_STREAM_TAIL_MAX, e))
		return -1;
	en->ring->chunk[en->ring->nput % PFS_RING] = chunk(&s->hdr);
	if (s->emit && !raw) {
		pfs_hdr_encode(&s->ohdr, hb);
		if (ring_put(en, hb, sizeof(hb), e) < 0)
			return -1;
	}
	for (left = s->hdr.len; left; left -= n) {
		n = left < PFS_STREAM_PIECE ? left : PFS_STREAM_PIECE;
		it = ring_item(en, s->hdr.len - left < PFS_STREAM_RESERVE ? n :
		               left + PFS_STREAM_TAIL_MAX, e);
		if (!it || pfs_reader_piece(&en->r, it->p + it->len, n, e) < 0)
			return -1;
		if (ops->stream_piece &&
		    ops->stream_piece(en->ctx, it->p + it->len, n, e) < 0)
			return -1;
		if (s->emit)
			it->len += n;
	}
	if (ops->stream_end && ops->stream_end(en->ctx, s, tail, &tlen, e) < 0)
		return -1;
	if (s->emit && !raw && ring_put(en, tail, tlen, e) < 0)
		return -1;
	if (s->emit || en->ring->data_out)
		ring_publish(en);
	en->ring->data_out |= s->emit;
	return 0;
}

/* stream_collect - a DATA frame of a stage that makes its output only at
 * the end of the payload (ops->stream_collect): the payload read a piece at
 * a time into s->in and given to stream_piece, which keeps what it needs;
 * stream_end sets the output (s->ohdr.len, s->opay), which goes through
 * ordered and on to the ring a piece at a time. */
static int
stream_collect(struct engine *en, struct pfs_slot *s, struct pfs_err *e)
{
	const struct pfs_stage_ops *ops = en->ops;
	uint8_t hb[PFS_HDR_LEN];
	size_t left, n, off, tlen = 0;
	struct pfs_err perr;
	int bad = 0;

	if (ops->stream_begin && ops->stream_begin(en->ctx, s, e) < 0)
		return -1;
	if (pfs_buf_reserve(&s->in, PFS_PIECE) < 0)
		return pfs_seterr(e, "out of memory");
	/* after a refused piece the payload is still read to its end, so
	 * that a stream also cut short says so, as a worker's would */
	for (left = s->hdr.len; left; left -= n) {
		n = left < PFS_PIECE ? left : PFS_PIECE;
		if (pfs_reader_piece(&en->r, s->in.p, n, e) < 0)
			return -1;
		if (!bad && ops->stream_piece(en->ctx, s->in.p, n, &perr) < 0)
			bad = 1;
	}
	if (bad) {
		*e = perr;
		return -1;
	}
	if (ops->stream_end(en->ctx, s, NULL, &tlen, e) < 0 ||
	    ordered(en, s, e) < 0)
		return -1;
	if (!s->emit)
		return 0;
	if (!en->cfg->raw_out) {
		pfs_hdr_encode(&s->ohdr, hb);
		if (ring_put(en, hb, sizeof(hb), e) < 0)
			return -1;
	}
	for (off = 0; off < s->ohdr.len; off += n) {
		n = s->ohdr.len - off < PFS_PIECE ? s->ohdr.len - off : PFS_PIECE;
		if (ring_put(en, s->opay + off, n, e) < 0)
			return -1;
		ring_publish(en);
	}
	ring_publish(en);
	en->ring->data_out = 1;
	return 0;
}

/* next_frame - streaming: the next frame's header into slot s, its
 * output set to "unchanged"; 1 for a frame, 0 at a validated end, -1. */
static int
next_frame(struct engine *en, struct pfs_slot *s, struct pfs_err *e)
{
	int rc;

	if (pfs_interrupted)
		return pfs_seterr(e, "interrupted");
	rc = pfs_reader_next_hdr(&en->r, &s->hdr, e);
	if (rc <= 0)
		return rc;
	s->ohdr = s->hdr;
	s->emit = 1;
	s->xemit = 0;
	s->auxlen = 0;
	s->in.len = 0;
	return 1;
}

/* read_whole - streaming, a frame other than DATA: its payload read whole
 * into s->in, then ordered. */
static int
read_whole(struct engine *en, struct pfs_slot *s, struct pfs_err *e)
{
	if (pfs_buf_reserve(&s->in, s->hdr.len ? s->hdr.len : 1) < 0)
		return pfs_seterr(e, "out of memory");
	if (pfs_reader_piece(&en->r, s->in.p, s->hdr.len, e) < 0)
		return -1;
	s->in.len = s->hdr.len;
	s->opay = s->in.p;
	return ordered(en, s, e);
}

/* stream_frame - any other frame: read whole, through ordered, into the
 * ring as write_slot would write it. */
static int
stream_frame(struct engine *en, struct pfs_slot *s, struct pfs_err *e)
{
	uint8_t hb[PFS_HDR_LEN];

	if (read_whole(en, s, e) < 0)
		return -1;
	if (en->cfg->raw_out)
		return 0;           /* only DATA payloads are written */
	if (s->emit) {
		pfs_hdr_encode(&s->ohdr, hb);
		if (ring_put(en, hb, sizeof(hb), e) < 0 ||
		    ring_put(en, s->opay, s->ohdr.len, e) < 0)
			return -1;
	}
	if (s->xemit) {
		pfs_hdr_encode(&s->xhdr, hb);
		if (ring_put(en, hb, sizeof(hb), e) < 0 ||
		    ring_put(en, s->xpay, s->xhdr.len, e) < 0)
			return -1;
	}
	/* END (only the INDEX the writer makes follows it) is handed over
	 * only when the stream has been read and validated to its end
	 * (stream_loop): a stage that fails never passes END on */
	if (s->hdr.type == PFS_END)
		en->ring->ended = 1;
	if (!en->ring->ended && en->ring->data_out)
		ring_publish(en);
	return 0;
}

/* stream_frames - read and hand on every frame; 0 at a validated end */
static int
stream_frames(struct engine *en, struct pfs_err *e)
{
	struct pfs_slot *s = &en->slots[0];
	struct pfs_trace_mark t0;
	int rc;

	t_now(&t0);
	while ((rc = next_frame(en, s, e)) == 1) {
		rc = s->hdr.type != PFS_DATA ? stream_frame(en, s, e) :
		     en->ops->stream_collect ? stream_collect(en, s, e) :
		                               stream_data(en, s, e);
		if (rc < 0)
			return -1;
		/* one thread reads, transforms and hands on the frame */
		t_span("stream", &t0, s);
		if (pfs_trace_on)
			pfs_trace_rate(0, pfs_now_ns(), en->r.bytes_in);
		en->frames++;
		t_now(&t0);
	}
	return rc;
}

/* splice_frames - streaming that only copies DATA payloads out (pjoin
 * without checks) from a pipe: the payloads are spliced, never copied
 * through this process; where splice does not work, or once it fails,
 * copied in pieces (so a failure is a read or write error, naming the
 * input or the output, as on every other path).
 * The one path that writes a chunk's bytes before the chunk has arrived
 * whole: with nothing to check, the bytes before a cut are still a prefix
 * of the true output, and copying every payload through a buffer instead
 * cost the rows ending in pjoin 10-40 % (docs/performance.md, "A fifth
 * run"). */
static int
splice_frames(struct engine *en, struct pfs_err *e)
{
	struct pfs_slot *s = &en->slots[0];
	int rc, splice_ok = 1;
	struct pfs_trace_mark t0;
	size_t n;

	if (pfs_buf_reserve(&s->in, PFS_PIECE) < 0)
		return pfs_seterr(e, "out of memory");
	while ((rc = next_frame(en, s, e)) == 1) {
		if (s->hdr.type != PFS_DATA) {
			if (read_whole(en, s, e) < 0)
				return -1;
			en->frames++;
			continue;       /* raw output: only DATA payloads */
		}
		if (ordered(en, s, e) < 0)
			return -1;
		t_now(&t0);
		rc = splice_ok ? pfs_writer_splice(&en->w, &en->r, s->hdr.len,
		                                   e) : 1;
		if (rc < 0)
			return -1;
		if (rc == 1)
			splice_ok = 0;
		while (en->r.pending) {
			n = en->r.pending < PFS_PIECE ? en->r.pending : PFS_PIECE;
			if (pfs_reader_piece(&en->r, s->in.p, n, e) < 0 ||
			    pfs_writer_raw(&en->w, s->in.p, n, e) < 0)
				return -1;
		}
		t_span("write", &t0, s);
		en->frames++;
	}
	return rc;
}

/* stream_loop - the whole stream (PFS_STREAM), with the writer thread.
 * Returns 0 when END was read and validated and everything was written and
 * flushed, -1 with e set. */
static int
stream_loop(struct engine *en, struct pfs_err *e)
{
	struct ring rg;
	struct stat st;
	sigset_t all, old;
	pthread_t tid;
	unsigned i;
	int rc, err;

	if (en->cfg->raw_out && !en->ops->stream_begin &&
	    !en->ops->stream_piece && !en->ops->stream_end &&
	    fstat(en->cfg->in_fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
		rc = splice_frames(en, e);
		if (rc == 0 && pfs_writer_flush(&en->w, e) < 0)
			rc = -1;
		return rc;
	}
	memset(&rg, 0, sizeof(rg));
	en->ring = &rg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&tid, NULL, ring_writer, en);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		en->ring = NULL;
		return pfs_seterr(e, "cannot start threads: %s", strerror(err));
	}
	rc = stream_frames(en, e);
	/* the item being filled holds the frame that failed: dropped; the
	 * whole frames before it are written and flushed */
	if (rc < 0)
		rg.open = 0;
	ring_publish(en);
	pthread_mutex_lock(&en->mu);
	rg.failed = rc < 0;
	rg.done = 1;
	pthread_cond_signal(&en->cv_done);
	pthread_mutex_unlock(&en->mu);
	pthread_join(tid, NULL);
	if (rc == 0 && rg.wfailed) {
		*e = rg.werr;
		rc = -1;
	}
	for (i = 0; i < PFS_RING; i++)
		pfs_buf_free(&rg.item[i]);
	en->ring = NULL;
	return rc;
}

static int
start_output(struct engine *en, struct pfs_head *head, struct pfs_err *e)
{
	struct pfs_buf hb = PFS_BUF_INIT;
	struct pfs_hdr h;
	int rc = 0;

	if (en->cfg->raw_out)
		return 0;
	if (pfs_head_encode(head, &hb, e) < 0)
		return -1;
	memset(&h, 0, sizeof(h));
	h.type = PFS_HEAD;
	h.len = (uint32_t)hb.len;
	if (pfs_writer_sig(&en->w, e) < 0 ||
	    pfs_writer_frame(&en->w, &h, hb.p, hb.len, e) < 0)
		rc = -1;
	pfs_buf_free(&hb);
	return rc;
}

int
pfs_engine_cfg_open(struct pfs_engine_cfg *cfg, const char *path,
                    unsigned nthreads, struct pfs_err *e)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->in_fd = pfs_open_stream(path, &cfg->in_name, e);
	if (cfg->in_fd < 0)
		return -1;
	cfg->out_fd = 1;
	cfg->out_name = "stdout";
	cfg->nthreads = nthreads;
	cfg->flush_on_error = 1;
	return 0;
}

/* start_threads - the workers and the writer, with every signal blocked
 * in them (only the reader, this thread, takes SIGINT/SIGTERM/SIGHUP).
 * Returns 0, or -1 with e set after stopping what did start. */
static int
start_threads(struct engine *en, struct worker *wk, unsigned nt,
              pthread_t *wtid, int *wstarted, struct pfs_err *e)
{
	sigset_t all, old;
	unsigned i;
	int err = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < nt && !err; i++) {
		err = pthread_create(&wk[i].tid, NULL, worker_main, &wk[i]);
		wk[i].started = !err;
	}
	if (!err) {
		err = pthread_create(wtid, NULL, writer_main, en);
		*wstarted = !err;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!err)
		return 0;
	pfs_seterr(e, "cannot start threads: %s", strerror(err));
	pthread_mutex_lock(&en->mu);
	en->abort = 1;
	pthread_cond_broadcast(&en->cv_work);
	pthread_cond_broadcast(&en->cv_done);
	pthread_mutex_unlock(&en->mu);
	return -1;
}

/* stop_threads - the reader is done: let the writer drain what was read,
 * then stop the workers; joins every thread that started. */
static void
stop_threads(struct engine *en, struct worker *wk, unsigned nt,
             pthread_t wtid, int wstarted)
{
	unsigned i;

	pthread_mutex_lock(&en->mu);
	en->reader_done = 1;
	pthread_cond_broadcast(&en->cv_work);
	pthread_cond_broadcast(&en->cv_done);
	pthread_mutex_unlock(&en->mu);
	if (wstarted)
		pthread_join(wtid, NULL);
	pthread_mutex_lock(&en->mu);
	en->abort = 1;
	pthread_cond_broadcast(&en->cv_work);
	pthread_mutex_unlock(&en->mu);
	for (i = 0; i < nt; i++)
		if (wk[i].started)
			pthread_join(wk[i].tid, NULL);
}

/* nslots - frames in flight for n workers and payloads of up to cap bytes:
 * 2n + 2 (each worker busy, one more waiting for each, one being read and
 * one being written), but no more than PFS_INFLIGHT_BYTES of payloads
 * allow, and never fewer than n + 2. */
static unsigned
nslots(unsigned n, uint32_t cap)
{
	uint64_t fit = PFS_INFLIGHT_BYTES / (cap ? cap : 1);

	if (fit > 2 * n + 2)
		fit = 2 * n + 2;
	return fit < n + 2 ? n + 2 : (unsigned)fit;
}

/* extract - cfg->range: the index of the stream file, the reader moved
 * to the first chunk needed, the HEAD made a range stream */
static int
extract(struct engine *en, struct pfs_head *head, struct pfs_err *e)
{
	const struct pfs_engine_cfg *cfg = en->cfg;
	struct pfs_index ix;
	struct stat st;
	uint64_t off = cfg->range_off, len = cfg->range_len, cs;
	int rc;

	if (fstat(cfg->in_fd, &st) < 0 || !S_ISREG(st.st_mode))
		return pfs_seterr(e, "%s: --range needs a stream file: a pipe "
		                  "cannot seek", cfg->in_name);
	if (head->flags & PFS_HF_RANGE)
		return pfs_seterr(e, "%s: already a range stream: --range "
		                  "cuts only whole streams", cfg->in_name);
	rc = pfs_index_load(cfg->in_fd, (uint64_t)st.st_size, cfg->in_name,
	                    &ix, e);
	en->r.bytes_in += ix.bytes_read;
	if (rc < 0)
		return -1;
	if (rc == 0)
		return pfs_seterr(e, "%s: the stream has no index (cut short, "
		                  "or written by an older version): --range "
		                  "cannot seek in it", cfg->in_name);
	if (off >= ix.end_raw) {
		pfs_seterr(e, "%s: --range starts at byte %" PRIu64 ", past "
		           "the end of the source (%" PRIu64 " bytes)",
		           cfg->in_name, off, ix.end_raw);
		goto fail;
	}
	if (len > ix.end_raw - off)
		len = ix.end_raw - off;
	cs = head->chunk_size;
	if (pfs_head_set_range(head, off / cs * cs, off, len, e) < 0) {
		pfs_prefix(e, cfg->in_name);
		goto fail;
	}
	if (pfs_reader_extract(&en->r, &ix, off / cs, (off + len - 1) / cs,
	                       e) < 0)
		goto fail;
	head->range_cut = 1;
	pfs_reader_range(&en->r, head);
	pfs_index_free(&ix);
	return 0;
fail:
	pfs_index_free(&ix);
	return -1;
}

/* setup - everything up to the running threads: the HEAD read, edited by
 * ops->head and written, the slots and the worker states.  *nt is the
 * number of workers. */
static int
setup(struct engine *en, struct worker **wkp, unsigned *nt,
      struct pfs_head *out_head, struct pfs_err *e)
{
	const struct pfs_engine_cfg *cfg = en->cfg;
	const struct pfs_stage_ops *ops = en->ops;
	struct pfs_head head;
	struct worker *wk;
	unsigned i, n;
	int hrc;

	if (pfs_refuse_same(cfg->in_fd, cfg->out_fd, cfg->in_name, e) < 0)
		return -1;
#ifdef M_MMAP_THRESHOLD
	/* chunk buffers grow in steps (frame.c) and are swapped between
	 * threads: a fixed threshold keeps them mmap()ed, so a freed step
	 * goes back to the system instead of staying in a malloc arena
	 * (measured: 8 MiB chunks, pencrypt -T 2, peak RSS 51 -> 45 MB) */
	mallopt(M_MMAP_THRESHOLD, 256 << 10);
#endif
	if (pfs_writer_init(&en->w, cfg->out_fd, cfg->out_name) < 0)
		return pfs_seterr(e, "out of memory");
	pfs_pipe_grow(cfg->in_fd);
	pfs_pipe_grow(cfg->out_fd);
	if (pfs_reader_start(&en->r, &head, e) < 0)
		return -1;
	if (cfg->range && extract(en, &head, e) < 0)
		return -1;
	hrc = ops->head ? ops->head(en->ctx, &head, e) : 0;
	if (hrc < 0) {
		if (cfg->name_errors)
			pfs_prefix(e, cfg->in_name);
		return -1;
	}

	en->stream = hrc == PFS_STREAM;
	en->transform = ops->types && ops->transform && !en->stream;
	n = en->transform ? cfg->nthreads : 0;
	if (en->transform && n == 0)
		n = 1;
	if (n > MAX_THREADS)
		n = MAX_THREADS;
	en->ns = nslots(n, pfs_head_cap(&head) > en->r.data_cap ?
	                   pfs_head_cap(&head) : en->r.data_cap);
	if (out_head)
		*out_head = head;
	if (start_output(en, &head, e) < 0)
		return -1;
	en->slots = calloc(en->ns, sizeof(*en->slots));
	*wkp = wk = calloc(n ? n : 1, sizeof(*wk));
	if (!en->slots || !wk)
		return pfs_seterr(e, "out of memory");
	if (en->transform && ops->lend_in && !ops->hold) {
		en->lend = 1;
		en->in_cap = en->out_cap = n + 1;
		en->pin.max = en->pout.max = en->ns;
		en->pin.b = calloc(en->ns, sizeof(*en->pin.b));
		en->pout.b = calloc(en->ns, sizeof(*en->pout.b));
		if (!en->pin.b || !en->pout.b)
			return pfs_seterr(e, "out of memory");
	}
	*nt = n;
	for (i = 0; i < n; i++) {
		wk[i].en = en;
		wk[i].no = i + 1;
		if (ops->thread_new) {
			wk[i].tstate = ops->thread_new(en->ctx, e);
			if (!wk[i].tstate)
				return -1;
		}
	}
	return 0;
}

int
pfs_engine_run(const struct pfs_engine_cfg *cfg,
               const struct pfs_stage_ops *ops, void *ctx,
               struct pfs_head *out_head, struct pfs_stats *st,
               struct pfs_err *e)
{
	struct engine en;
	struct worker *wk = NULL;
	pthread_t wtid;
	unsigned i, nt = 0;
	int wstarted = 0, rc = -1, rrc;
	struct pfs_err rerr;

	memset(&en, 0, sizeof(en));
	en.cfg = cfg;
	en.ops = ops;
	en.ctx = ctx;
	pthread_mutex_init(&en.mu, NULL);
	pthread_cond_init(&en.cv_space, NULL);
	pthread_cond_init(&en.cv_work, NULL);
	pthread_cond_init(&en.cv_done, NULL);
	pfs_reader_init(&en.r, cfg->in_fd, cfg->in_name);
	if (pfs_trace_on)
		pfs_trace_thread("reader", 1);

	if (setup(&en, &wk, &nt, out_head, e) < 0)
		goto out;
	if (en.stream) {
		rc = stream_loop(&en, e);
		goto out;
	}
	if (start_threads(&en, wk, nt, &wtid, &wstarted, e) < 0) {
		stop_threads(&en, wk, nt, wtid, wstarted);
		goto out;
	}
	rrc = read_loop(&en, &rerr);
	stop_threads(&en, wk, nt, wtid, wstarted);
	/* errors in stream order: the writer's came first if it had one */
	if (en.wfailed) {
		*e = en.werr;
	} else if (rrc < 0) {
		*e = rerr;
		hold_cut(&en);
	} else if (pfs_writer_flush(&en.w, e) == 0)
		rc = 0;

out:
	if (rc < 0 && cfg->flush_on_error) {
		struct pfs_err ignored;
		(void)pfs_writer_flush_released(&en.w, &ignored);
	}
	if (wk)
		for (i = 0; i < nt; i++)
			if (wk[i].tstate && ops->thread_free)
				ops->thread_free(ctx, wk[i].tstate);
	if (st) {
		st->frames = en.frames + (en.r.ordinal ? 1 : 0);
		st->bytes_in = en.r.bytes_in;
		st->bytes_out = en.w.bytes_out;
		st->blocked_in_ns = en.r.blocked_ns;
		st->blocked_out_ns = en.w.blocked_ns;
	}
	if (en.slots)
		for (i = 0; i < en.ns; i++) {
			pfs_buf_free(&en.slots[i].in);
			pfs_buf_free(&en.slots[i].out);
		}
	free(en.slots);
	free(wk);
	while (en.pin.n)
		pfs_buf_free(&en.pin.b[--en.pin.n]);
	while (en.pout.n)
		pfs_buf_free(&en.pout.b[--en.pout.n]);
	free(en.pin.b);
	free(en.pout.b);
	pfs_buf_free(&en.held.in);
	pfs_buf_free(&en.held.out);
	pfs_buf_free(&en.tail);
	pfs_reader_free(&en.r);
	pfs_writer_free(&en.w);
	pthread_cond_destroy(&en.cv_done);
	pthread_cond_destroy(&en.cv_work);
	pthread_cond_destroy(&en.cv_space);
	pthread_mutex_destroy(&en.mu);
	return rc;
}
