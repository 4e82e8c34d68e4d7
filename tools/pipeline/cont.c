/*
 * cont.c - `pipeline process --resume`: an interrupted process continued.
 *
 * With --resume, process writes OUT.pfs-part (a fixed name, left in place
 * when the run fails or is killed) and renames it to OUT at the end.  When
 * OUT.pfs-part is there, cont_begin() reads it: its HEAD, and the offsets
 * of its DATA frames up to where it was cut.  Chunks 0..K-1 are whole (the
 * next DATA header follows them, or the END, or the file ends right after
 * the chunk's DIGEST frames); K >= 1 is needed, else it starts over.
 * The source must still have the size and mtime its HEAD recorded.  The
 * stages then run over the source from chunk K-1 on (pchunk --range) into
 * OUT.pfs-part.tail, and cont_finish() writes OUT from:
 *   - the partial output's HEAD and chunks 0..K-2, copied;
 *   - its chunk K-1, which must equal the tail's first chunk byte for byte
 *     (the last chunk written, made again from the source: if the source
 *     changed there, or the options did, they differ and nothing is
 *     written);
 *   - the tail's chunks from K on;
 *   - a new END for the whole stream (with phash's whole-stream digest,
 *     computed over every DATA payload as they pass), and the index.
 * The tail's HEAD must be the partial output's, range fields apart.
 *
 * An encrypted partial output is continued with its own stream keys:
 * pencrypt --continue takes its ENCRYPT record and refuses to seal any
 * chunk whose bytes differ from what the partial output holds of it (so
 * no nonce ever seals two plaintexts), and seals the tail's END as the
 * whole stream's, which is the END written here (with phash's digest
 * after it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "encrec.h"
#include "frame.h"
#include "head.h"
#include "io.h"
#include "pipeline.h"
#include "stages.h"
#include "util.h"
#include "wire.h"

/* differ - -1 with "FILE: the options differ from the interrupted run's
 * (OUT.pfs-part: its stages): ..."; the source's size and mtime were
 * checked already, so it is the options, or the source changed within
 * its size and mtime */
static int
differ(const struct opts *o, const struct cont *c, struct pfs_err *e)
{
	char stages[160], d[64];
	size_t len = 0;
	unsigned i;

	stages[0] = '\0';
	for (i = 0; i < c->head.nstages && len < sizeof(stages); i++) {
		pfs_stage_describe(&c->head.stages[i], d, sizeof(d));
		len += (size_t)snprintf(stages + len, sizeof(stages) - len,
		                        "%s%s", i ? ", " : "", d);
	}
	return pfs_seterr(e, "%s: the options or the source differ from the "
	                  "interrupted run's (%s was made with %s): give "
	                  "its options, or remove %s to start over", o->input, c->part,
	                  c->head.nstages ? stages : "no stage", c->part);
}

/* same_stack - the partial output's stages are those o asks for:
 * compress (codec and level, as pcompress records them), encrypt, hash
 * (its algorithm), in that order */
static int
same_stack(const struct opts *o, const struct pfs_head *h)
{
	const struct pfs_stage *s;
	unsigned i = 0;
	long level;

	if (o->codec) {
		s = &h->stages[i++];
		level = o->level ? strtol(o->level, NULL, 10) : o->codec->ldef;
		if (i > h->nstages || s->kind != PFS_STAGE_COMPRESS ||
		    s->len < 2 || s->params[0] != o->codec->id ||
		    (int8_t)s->params[1] != level)
			return 0;
	}
	if (o->encrypt && (i >= h->nstages ||
	    h->stages[i++].kind != PFS_STAGE_ENCRYPT))
		return 0;
	if (o->hash) {
		s = &h->stages[i++];
		if (i > h->nstages || s->kind != PFS_STAGE_HASH ||
		    s->params[0] != pfs_hash_id(o->hash))
			return 0;
	}
	return i == h->nstages;
}

/* same_record - the ENCRYPT options asked for now are those of the
 * partial output's record (pencrypt --continue takes the record as it is) */
static int
same_record(const struct opts *o, const struct cont *p_cont,
            struct pfs_err *e)
{
	const struct pfs_head *h = &p_cont->head;
	const struct pfs_stage *r = NULL;
	const struct pfs_enc_cipher *c;
	uint64_t m;
	uint32_t t, km;
	unsigned i;
	int same;

	for (i = 0; i < h->nstages; i++)
		if (h->stages[i].kind == PFS_STAGE_ENCRYPT)
			r = &h->stages[i];
	/* the stage stack, compress and hash as asked for now: known before
	 * the stages run over the rest of the source, not after */
	same = same_stack(o, h);
	same = same && !r == !o->encrypt;
	if (same && r) {
		c = pfs_enc_cipher_by_id(r->params[PFS_ER_CIPHER]);
		if (!pfs_enc_kdf(r, &t, &km))
			t = km = 0;
		same = (!o->cipher || (c && strcmp(c->name, o->cipher) == 0)) &&
		       !o->hide_name == !pfs_enc_name_hidden(r) &&
		       (!o->kdf_time || strtoul(o->kdf_time, NULL, 10) == t);
		if (same && o->kdf_memory) {
			struct pfs_err ignored;
			same = pfs_parse_size(o->kdf_memory, 1, UINT64_MAX, &m,
			                      &ignored) == 0 && m >> 10 == km;
		}
	}
	return same ? 0 : differ(o, p_cont, e);
}

/* cont_begin - see above.  0 (p->cont filled; p->cont.active when a
 * partial output is continued), or -1 with e set. */
int
cont_begin(const struct opts *o, struct pipeline *p, const char *out,
           struct pfs_err *e)
{
	struct cont *c = &p->cont;
	struct pfs_reader r;
	struct pfs_hdr h;
	struct pfs_buf pay = PFS_BUF_INIT;
	struct stat st;
	uint64_t *off = NULL, n = 0, cap = 0, *t;
	unsigned i, nhash = 0, ndig = 0;
	int fd, rc = -1, got = 0;

	snprintf(c->part, sizeof(c->part), "%s%s", out, PFS_PART_SUFFIX);
	snprintf(c->tail, sizeof(c->tail), "%s%s.tail", out, PFS_PART_SUFFIX);
	fd = open(c->part, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 :
		       pfs_seterr(e, "%s: %s", c->part, strerror(errno));
	pfs_reader_init(&r, fd, c->part);
	if (pfs_reader_start(&r, &c->head, e) < 0)
		goto start_over;
	for (i = 0; i < c->head.nstages; i++)
		nhash += c->head.stages[i].kind == PFS_STAGE_HASH;
	/* every DATA header counts, its payload cut short or not: chunk j is
	 * whole when the header of chunk j + 1 follows it, or the END, or
	 * the end of the file right after its payload and its DIGEST frames
	 * (one per HASH record) */
	while ((got = pfs_reader_next_hdr(&r, &h, e)) == 1 &&
	       h.type != PFS_END) {
		if (pfs_buf_reserve(&pay, h.len ? h.len : 1) < 0 ||
		    pfs_reader_piece(&r, pay.p, h.len, e) < 0)
			h.len = 0;      /* cut short: counted, then stop */
		if (h.type != PFS_DATA) {
			if (r.pending)
				break;
			ndig += h.type == PFS_DIGEST;
			continue;
		}
		ndig = 0;
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			/* + 1: room for the end of a whole last chunk */
			t = realloc(off, (cap + 1) * sizeof(*off));
			if (!t) {
				pfs_seterr(e, "out of memory");
				goto out;
			}
			off = t;
		}
		off[n++] = r.frame_pos;
		if (r.pending)
			break;
	}
	if (n > 0 && !r.pending && ndig == nhash &&
	    ((got == 1 && h.type == PFS_END) ||
	     (got < 0 && fstat(fd, &st) == 0 &&
	      r.frame_pos == (uint64_t)st.st_size)))
		off[n++] = r.frame_pos;   /* the last chunk is whole too */
	if (n < 2)
		goto start_over;     /* nothing to keep */
	if (stat(o->input, &st) < 0) {
		pfs_seterr(e, "%s: %s", o->input, strerror(errno));
		goto out;
	}
	if (!(c->head.flags & PFS_HF_SIZE) || (c->head.flags & PFS_HF_RANGE) ||
	    c->head.size != (uint64_t)st.st_size ||
	    c->head.mtime_sec != st.st_mtim.tv_sec ||
	    c->head.mtime_nsec != (uint32_t)st.st_mtim.tv_nsec) {
		pfs_seterr(e, "%s: changed since the interrupted run (size or "
		           "mtime differ from %s): remove %s to start over",
		           o->input, c->part, c->part);
		goto out;
	}
	if (same_record(o, c, e) < 0)
		goto out;
	c->k = n - 1;
	c->off = off;
	off = NULL;
	snprintf(p->rangebuf, sizeof(p->rangebuf), "%" PRIu64 ":",
	         (c->k - 1) * c->head.chunk_size);
	c->active = 1;
	rc = 0;
	goto out;
start_over:
	/* nothing worth keeping: the run starts over in a new OUT.pfs-part
	 * (--dry-run: left alone, and says so) */
	if (!o->dry_run && unlink(c->part) < 0) {
		pfs_seterr(e, "%s: %s", c->part, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(off);
	pfs_buf_free(&pay);
	pfs_reader_free(&r);
	close(fd);
	return rc;
}

/* same_head - the tail's HEAD is the partial output's, range apart */
static int
same_head(const struct opts *o, const struct cont *c,
          const struct pfs_head *a, const struct pfs_head *tail,
          struct pfs_err *e)
{
	int same = pfs_head_same(a, tail, e);

	if (same < 0)
		return -1;
	return same ? 0 : differ(o, c, e);
}

/* put - a frame into w, its DATA payload into the digest */
static int
put(struct pfs_writer *w, const struct pfs_hdr *h, const struct pfs_buf *pay,
    struct pfs_digest *d, struct pfs_err *e)
{
	if (d->algo && h->type == PFS_DATA)
		pfs_digest_update(d, pay->p, h->len);
	return pfs_writer_frame(w, h, pay->p, h->len, e);
}

/* group - chunk seq's frames (DATA and its DIGESTs) from r, encoded into g;
 * *next gets the frame after them.  0, or -1 with e set. */
static int
group(struct pfs_reader *r, struct pfs_hdr *next, struct pfs_buf *pay,
      struct pfs_buf *g, struct pfs_err *e)
{
	g->len = 0;
	do {
		if (pfs_buf_reserve(g, g->len + PFS_HDR_LEN + next->len) < 0)
			return pfs_seterr(e, "out of memory");
		pfs_hdr_encode(next, g->p + g->len);
		memcpy(g->p + g->len + PFS_HDR_LEN, pay->p, next->len);
		g->len += PFS_HDR_LEN + next->len;
		if (pfs_reader_next(r, next, pay, e) != 1)
			return -1;
	} while (next->type == PFS_DIGEST);
	return 0;
}

/* cont_finish - the stages wrote the tail: OUT from the partial output and
 * the tail (see above), mode as process gives it.  0, or -1 with e set
 * (OUT.pfs-part is kept, the tail removed, by the caller). */
int
cont_finish(const struct opts *o, struct pipeline *p, const char *out,
            int mode, struct pfs_err *e)
{
	struct cont *c = &p->cont;
	const struct pfs_stage *top = pfs_head_top(&c->head);
	struct pfs_reader pr, tr;
	struct pfs_head th, ph;
	struct pfs_hdr h, th1;
	struct pfs_buf pay = PFS_BUF_INIT, a = PFS_BUF_INIT, b = PFS_BUF_INIT;
	struct pfs_digest d;
	struct pfs_outfile of;
	struct pfs_writer w;
	uint64_t chunks = c->k - 1, raw = (c->k - 1) * c->head.chunk_size;
	int pfd, tfd, rc = -1, have_of = 0;
	size_t tl = 0;

	memset(&d, 0, sizeof(d));
	pfd = open(c->part, O_RDONLY | O_CLOEXEC);
	tfd = open(c->tail, O_RDONLY | O_CLOEXEC);
	pfs_reader_init(&pr, pfd, c->part);
	pfs_reader_init(&tr, tfd, c->tail);
	if (pfd < 0 || tfd < 0) {
		pfs_seterr(e, "%s: %s", pfd < 0 ? c->part : c->tail,
		           strerror(errno));
		goto out;
	}
	if (pfs_writer_init(&w, -1, out) < 0) {
		pfs_seterr(e, "out of memory");
		goto out;
	}
	if (top && top->kind == PFS_STAGE_HASH &&
	    pfs_digest_init(&d, pfs_digest_by_id(top->params[0]), e) < 0)
		goto wout;
	if (pfs_reader_start(&pr, &ph, e) < 0 ||
	    pfs_reader_start(&tr, &th, e) < 0 || same_head(o, c, &ph, &th, e) < 0)
		goto wout;
	if (pfs_outfile_open(&of, out, o->force, -1, e) < 0)
		goto wout;
	have_of = 1;
	w.fd = of.fd;
	if (pfs_writer_sig(&w, e) < 0 ||
	    pfs_writer_frame(&w, &(struct pfs_hdr){ .type = PFS_HEAD,
	                     .len = (uint32_t)pr.head_payload.len },
	                     pr.head_payload.p, pr.head_payload.len, e) < 0)
		goto wout;
	/* chunks 0..K-2 as they are; chunk K-1 (the bytes up to where chunk
	 * K starts) compared with the tail's */
	while (pfs_reader_next_hdr(&pr, &h, e) == 1 &&
	       !(h.type == PFS_DATA && h.seq == c->k - 1)) {
		if (pfs_buf_reserve(&pay, h.len ? h.len : 1) < 0 ||
		    pfs_reader_piece(&pr, pay.p, h.len, e) < 0 ||
		    put(&w, &h, &pay, &d, e) < 0)
			goto wout;
	}
	if (h.type != PFS_DATA || h.seq != c->k - 1)
		goto wout;
	tl = (size_t)(c->off[c->k] - c->off[c->k - 1]);
	if (pfs_buf_reserve(&a, tl) < 0 ||
	    pfs_pread_full(pfd, a.p, tl, c->off[c->k - 1]) < 0) {
		pfs_seterr(e, "%s: read error", c->part);
		goto wout;
	}
	a.len = tl;
	tl = 0;
	if (pfs_reader_next(&tr, &th1, &pay, e) != 1 ||
	    group(&tr, &th1, &pay, &b, e) < 0)
		goto wout;
	if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0) {
		pfs_seterr(e, "%s: its chunk %" PRIu64 " is not what the "
		           "interrupted run wrote (the source changed): remove "
		           "%s to start over", o->input, c->k - 1, c->part);
		goto wout;
	}
	if (d.algo)
		pfs_digest_update(&d, a.p + PFS_HDR_LEN, pfs_get32(a.p + 4));
	if (pfs_writer_raw(&w, a.p, a.len, e) < 0)
		goto wout;
	chunks++;
	raw += pfs_get64(a.p + 16);
	/* the tail from chunk K on, then a whole-stream END */
	for (h = th1; h.type != PFS_END;) {
		if (put(&w, &h, &pay, &d, e) < 0)
			goto wout;
		if (h.type == PFS_DATA) {
			chunks++;
			raw += h.raw;
		}
		if (pfs_reader_next(&tr, &h, &pay, e) != 1)
			goto wout;
	}
	/* the tail's END payload (pencrypt --continue sealed it as the whole
	 * stream's; phash adds no digest to a range's), then phash's */
	if (pfs_buf_reserve(&pay, h.len + PFS_DIGEST_MAXLEN + 2) < 0) {
		pfs_seterr(e, "out of memory");
		goto wout;
	}
	tl = h.len;
	if (d.algo) {
		pfs_digest_final(&d, pay.p + tl);
		tl += d.algo->len;
		pay.p[tl++] = (uint8_t)(c->head.nstages - 1);
		pay.p[tl++] = (uint8_t)d.algo->len;
	}
	h = (struct pfs_hdr){ .type = PFS_END, .len = (uint32_t)tl,
	                      .seq = chunks, .raw = raw };
	if (pfs_writer_frame(&w, &h, pay.p, tl, e) < 0 ||
	    pfs_writer_flush(&w, e) < 0)
		goto wout;
	rc = pfs_outfile_commit(&of, mode, -1, 0, e);
	have_of = 0;
	if (rc == 0)
		(void)unlink(c->part);
wout:
	if (have_of)
		pfs_outfile_abort(&of);
	pfs_writer_free(&w);
out:
	pfs_digest_free(&d);
	pfs_buf_free(&pay);
	pfs_buf_free(&a);
	pfs_buf_free(&b);
	pfs_reader_free(&pr);
	pfs_reader_free(&tr);
	if (pfd >= 0)
		close(pfd);
	if (tfd >= 0)
		close(tfd);
	return rc;
}
