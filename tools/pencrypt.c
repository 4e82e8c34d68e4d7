/*
 * pencrypt - encrypt (or, with -d, decrypt) the chunks of a frame stream
 * with AES-256-GCM or ChaCha20-Poly1305 from libgcrypt.
 *
 * The construction is specified in docs/security.md; the ENCRYPT record,
 * its keys and header MAC are in common/encrec.h, key files, passwords and
 * the prompt in common/secret.h, HKDF and Argon2id in common/kdf.h.  This
 * file is the engine callbacks and main; the command line (--help, the
 * options and their checks) is in tools/pencrypt/opts.c (pencrypt.h).
 *
 * Threads: DATA frames (the bulk) are sealed and opened on the engine's
 * worker threads, each with its own cipher handle, in place in the slot's
 * input buffer (decrypting, borrowed from a pool of workers + 1: engine.h
 * lend_in); their nonce counter is their seq.  DIGEST and END frames
 * are small and are handled in the ordered callback on the writer thread,
 * which sees frames in stream order and so can count DIGEST frames; END
 * authenticates that count.  Skippable frames are passed on when
 * encrypting and dropped when decrypting: nothing unauthenticated leaves
 * pencrypt -d.
 *
 * Secrets live in one struct pfs_secret in libgcrypt secure memory, freed
 * (and so wiped) on every path before the program reports and exits.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "digest.h"
#include "encrec.h"
#include "engine.h"
#include "err.h"
#include "io.h"
#include "pencrypt/pencrypt.h"
#include "secret.h"
#include "stats.h"

struct ctx {
	const struct opts *o;
	const char *name;             /* input name for messages */
	const struct pfs_enc_cipher *cipher;
	struct pfs_secret *sec;
	struct pfs_secret *newsec;    /* --rekey: the new key or password */
	gcry_cipher_hd_t oh;          /* writer thread: DIGEST, END */
	struct pfs_enc_order ord;     /* frame order, DIGEST count */
	int extracted;                /* -d --range: END is made up */
	struct pcont *cont;           /* --continue: FILE's chunks */
	int continuing;
	int tty;                      /* -d, --rekey: the terminal to ask
	                                 the password on, once the HEAD
	                                 shows one opens it; else -1 */
};

/* --- sealing --- */

static void *
thread_new(void *vctx, struct pfs_err *e)
{
	const struct ctx *x = vctx;
	gcry_cipher_hd_t hd;

	if (pfs_enc_cipher_open(x->cipher, x->sec, &hd, e) < 0)
		return NULL;
	return hd;
}

static void
thread_free(void *vctx, void *t)
{
	(void)vctx;
	gcry_cipher_close(t);
}

/* seal - seal or open the payload of s in place in the slot's input
 * buffer (one cache-warm buffer instead of two), but for a DIGEST or END
 * frame being sealed: that one grows by the tag, into s->out.  Opening,
 * the output is set only once the tag has verified; on failure the engine
 * writes nothing of this slot. */
static int
seal(const struct ctx *x, gcry_cipher_hd_t hd, struct pfs_slot *s,
     uint64_t ctr, struct pfs_err *e)
{
	const char *what = s->hdr.type == PFS_DATA ? "chunk" :
	                   s->hdr.type == PFS_END ? "END frame of chunk" :
	                   "DIGEST frame of chunk";
	struct pfs_buf *out = s->hdr.type == PFS_DATA || x->o->decrypt ?
	                      &s->in : &s->out;
	size_t n = s->hdr.len, max = s->hdr.type == PFS_END ? PFS_END_MAX :
	                             s->hdr.type == PFS_DIGEST ? PFS_DIGEST_MAX :
	                             PFS_PAYLOAD_MAX;
	int open = x->o->decrypt;

	if (open && n < PFS_ENC_TAG_LEN)
		return pfs_seterr(e, "%s: %s %" PRIu64 ": payload too short "
		                  "for a tag (damaged stream)", x->name, what,
		                  s->hdr.seq);
	if (!open && n + PFS_ENC_TAG_LEN > max)
		return pfs_seterr(e, "%s: %s %" PRIu64 ": payload of %zu bytes "
		                  "leaves no room for the tag", x->name, what,
		                  s->hdr.seq, n);
	if (open)
		n -= PFS_ENC_TAG_LEN;
	if (pfs_buf_reserve(out, n + PFS_ENC_TAG_LEN) < 0)
		return pfs_seterr(e, "out of memory");
	if (pfs_enc_frame(hd, open, &s->hdr, ctr, s->hdr.type == PFS_END ?
	                  &x->ord.ndigest : NULL, s->in.p, out->p, n) < 0) {
		if (!open)
			return pfs_seterr(e, "%s: %s %" PRIu64 ": %s failed",
			                  x->name, what, s->hdr.seq,
			                  x->cipher->name);
		if (s->hdr.type == PFS_END)
			return pfs_seterr(e, "%s: END frame failed authentication "
			                  "(stream truncated, frames dropped or "
			                  "reordered, or damaged)", x->name);
		return pfs_seterr(e, "%s: %s %" PRIu64 " failed authentication "
		                  "(%s)", x->name, what, s->hdr.seq,
		                  s->hdr.type == PFS_DATA ? "damaged or tampered "
		                  "stream" : "frames dropped, duplicated, "
		                  "reordered or damaged");
	}
	/* only now, with the tag checked, is the output set */
	s->ohdr.len = (uint32_t)(open ? n : n + PFS_ENC_TAG_LEN);
	s->opay = out->p;
	return 0;
}

/* transform - DATA frames, on the worker threads; their counter is seq */
static int
transform(void *vctx, void *t, struct pfs_slot *s, struct pfs_err *e)
{
	return seal(vctx, t, s, s->hdr.seq, e);
}

/* Encrypting, DATA payloads are read and sealed in cache-sized pieces on
 * one thread (engine.h, PFS_STREAM): the cipher is far faster than the
 * pipes; a writer thread writes each frame once it is whole. */
static int
stream_begin(void *vctx, struct pfs_slot *s, struct pfs_err *e)
{
	const struct ctx *x = vctx;

	if (s->hdr.len + PFS_ENC_TAG_LEN > PFS_PAYLOAD_MAX)
		return pfs_seterr(e, "%s: chunk %" PRIu64 ": payload of %u "
		                  "bytes leaves no room for the tag", x->name,
		                  s->hdr.seq, s->hdr.len);
	if (pfs_enc_seal_begin(x->oh, &s->hdr, s->hdr.seq) < 0)
		return pfs_seterr(e, "%s: chunk %" PRIu64 ": %s failed",
		                  x->name, s->hdr.seq, x->cipher->name);
	if (x->continuing && pcont_begin(x->cont, &s->hdr, e) < 0) {
		pfs_prefix(e, x->name);
		return -1;
	}
	s->ohdr.len = s->hdr.len + PFS_ENC_TAG_LEN;
	return 0;
}

static int
stream_piece(void *vctx, uint8_t *p, size_t n, struct pfs_err *e)
{
	const struct ctx *x = vctx;

	if (x->continuing && pcont_piece(x->cont, p, n, e) < 0) {
		pfs_prefix(e, x->name);
		return -1;
	}
	if (pfs_enc_seal_piece(x->oh, p, n) < 0)
		return pfs_seterr(e, "%s: %s failed", x->name, x->cipher->name);
	return 0;
}

static int
stream_end(void *vctx, struct pfs_slot *s, uint8_t *tail, size_t *tlen,
           struct pfs_err *e)
{
	const struct ctx *x = vctx;

	if (pfs_enc_seal_end(x->oh, tail) < 0)
		return pfs_seterr(e, "%s: chunk %" PRIu64 ": %s failed",
		                  x->name, s->hdr.seq, x->cipher->name);
	*tlen = PFS_ENC_TAG_LEN;
	return 0;
}

/* cont_end - --continue: END sealed as the whole stream's END (all its
 * chunks and bytes, not the range's), which pipeline process --resume
 * puts at the end of FILE's chunks and these */
static int
cont_end(struct ctx *x, struct pfs_slot *s, struct pfs_err *e)
{
	struct pfs_hdr h = s->hdr;
	size_t n = s->hdr.len;

	h.flags = 0;
	h.seq = x->ord.next_seq;
	h.raw = x->ord.first_seq * x->cont->head.chunk_size + x->ord.raw_total;
	if (n + PFS_ENC_TAG_LEN > PFS_END_MAX ||
	    pfs_buf_reserve(&s->out, n + PFS_ENC_TAG_LEN) < 0 ||
	    pfs_enc_frame(x->oh, 0, &h, h.seq, &x->ord.ndigest, s->in.p,
	                  s->out.p, n) < 0)
		return pfs_seterr(e, "%s: END frame: %s failed", x->name,
		                  x->cipher->name);
	s->ohdr.len = (uint32_t)(n + PFS_ENC_TAG_LEN);
	s->opay = s->out.p;
	return 0;
}

/* ordered - every frame, in stream order, on the writer thread: check the
 * order on the (authenticated) fields, seal or open DIGEST and END. */
static int
ordered(void *vctx, struct pfs_slot *s, struct pfs_err *e)
{
	struct ctx *x = vctx;

	if (pfs_enc_order_next(&x->ord, &s->hdr, e) < 0) {
		pfs_prefix(e, x->name);
		return -1;
	}
	switch (s->hdr.type) {
	case PFS_DIGEST:
		if (seal(x, x->oh, s, x->ord.ndigest, e) < 0)
			return -1;
		x->ord.ndigest++;
		return 0;
	case PFS_END:
		if (x->extracted) {
			/* cut after encryption: END was made by whoever
			 * cut it and is not sealed (docs/security.md) */
			if (s->hdr.len || !(s->hdr.flags & PFS_EF_RANGE))
				return pfs_seterr(e, "%s: END of a cut range "
				                  "must be empty (damaged stream)",
				                  x->name);
			return 0;
		}
		if (x->continuing)
			return cont_end(x, s, e);
		return seal(x, x->oh, s, s->hdr.seq, e);
	case PFS_DATA:
		return 0;
	default:
		/* skippable: not protected by the ENCRYPT record, so dropped
		 * by -d (docs/security.md); passed on when encrypting */
		s->emit = !x->o->decrypt;
		return 0;
	}
}

/* --- HEAD --- */

/* range_start - decrypting chunks cut out of a whole stream (--range): the
 * DIGEST counter starts where the whole stream's stood at the first chunk.
 * Every chunk carries one sealed DIGEST frame per HASH record below the
 * ENCRYPT record, so that is first chunk x that number. */
static void
range_start(struct ctx *x, const struct pfs_head *h)
{
	unsigned i, d = 0;

	if (!h->range_cut)
		return;              /* sealed as a range: counted from 0 */
	for (i = 0; i < h->nstages; i++)
		d += h->stages[i].kind == PFS_STAGE_HASH;
	x->ord.ndigest = pfs_head_first_chunk(h) * d;
	x->extracted = 1;
}

/* cont_head - --continue FILE: FILE's ENCRYPT record, opened with our
 * key, on h, which must be FILE's HEAD below that record (range apart) */
static int
cont_head(struct ctx *x, struct pfs_head *h, struct pfs_err *e)
{
	static struct pfs_head ph, a;
	const struct pfs_stage *rec;
	unsigned i, d = 0;
	int same;

	ph = x->cont->head;
	if (pfs_enc_unlock(x->sec, &ph, &x->cipher, &x->oh, e) < 0) {
		/* the record that did not open is FILE's, not the input's */
		char what[PATH_MAX + 16];

		snprintf(what, sizeof(what), "--continue %s", x->cont->path);
		pfs_prefix(e, what);
		return -1;
	}
	if (pfs_enc_cipher_open(x->cipher, x->sec, &x->cont->cmp, e) < 0)
		return -1;
	rec = pfs_head_top(&ph);
	a = ph;                      /* its name opened if it was hidden */
	pfs_head_pop(&a);
	same = pfs_head_same(&a, h, e);
	if (same < 0)
		return -1;
	if (!same)
		return pfs_seterr(e, "--continue: %s is the output of another "
		                  "source or other stages", x->cont->path);
	if (pfs_enc_name_hidden(rec)) {
		h->namelen = 0;
		h->name[0] = '\0';
	}
	if (pfs_head_push(h, PFS_STAGE_ENCRYPT, rec->params, rec->len,
	                  rec->cap, e) < 0)
		return -1;
	for (i = 0; i + 1 < h->nstages; i++)
		d += h->stages[i].kind == PFS_STAGE_HASH;
	x->ord.ndigest = pfs_head_first_chunk(h) * d;
	x->continuing = 1;
	return PFS_STREAM;
}

/* rekey_head - --rekey: open the record with the current secret, then
 * wrap the same file key for the new recipients; the sealed frames that
 * follow are copied as they are (the stream keys do not change) */
static int
rekey_head(struct ctx *x, struct pfs_head *h, struct pfs_err *e)
{
	if (pfs_enc_unlock(x->sec, h, &x->cipher, &x->oh, e) < 0)
		return -1;
	memcpy(x->newsec->master, x->sec->master, sizeof(x->sec->master));
	memcpy(x->newsec->keys, x->sec->keys, sizeof(x->sec->keys));
	if (pfs_enc_rewrap(x->newsec, h, &x->o->rcps, x->o->t, x->o->m,
	                   e) < 0)
		return -1;
	return PFS_STREAM;
}

/* ask_late - -d or --rekey with no key option: a stream that no password
 * opens (recipients, a key file) is refused without a prompt, in the
 * words of pfs_enc_unlock (the kinds it has); else the password is asked
 * now, as age asks for a passphrase only for a scrypt stanza */
static int
ask_late(struct ctx *x, const struct pfs_stage *top, struct pfs_err *e)
{
	struct pfs_keyopt none;
	struct pfs_err w;
	int tty = x->tty;

	x->tty = -1;
	x->sec->password = 1;         /* what unlock is to try */
	if (!top || top->kind != PFS_STAGE_ENCRYPT || !pfs_enc_is_password(top))
		return 0;
	pfs_keyopt_init(&none);
	if (pfs_secret_load(x->sec, &none, tty, 0, &w, e) < 0)
		return -1;
	if (w.msg[0])
		pfs_warn("warning: %s", w.msg);
	return 0;
}

static int
on_head(void *vctx, struct pfs_head *h, struct pfs_err *e)
{
	struct ctx *x = vctx;
	const struct pfs_stage *top = pfs_head_top(h);
	char msg[256];
	int rc;

	if (x->tty >= 0 && ask_late(x, top, e) < 0)
		return -1;

	if (x->o->rekey && top && top->kind == PFS_STAGE_ENCRYPT) {
		rc = rekey_head(x, h, e);
	} else if (!x->o->decrypt && !x->o->rekey && x->cont) {
		rc = cont_head(x, h, e);
	} else if (!x->o->decrypt && !x->o->rekey) {
		h->range_cut = 0;    /* the new MAC covers the range fields */
		rc = pfs_enc_lock(x->sec, h, x->cipher, &x->o->rcps, x->o->t,
		                  x->o->m, x->o->hide_name, &x->oh, e);
		if (rc == 0)
			rc = PFS_STREAM;
	} else if (!top) {
		rc = pfs_seterr(e, "stream is not encrypted: nothing to %s",
		                x->o->rekey ? "rekey" : "decrypt");
	} else if (top->kind == PFS_STAGE_HASH && x->o->rekey) {
		/* what pipeline process --encrypt makes: the hash is over the
		 * encrypted frames and the HEAD, which rekeying changes */
		pfs_stage_describe(top, msg, sizeof(msg));
		rc = pfs_seterr(e, "stream is hashed (%s) over its encryption: "
		                "check the hash first and hash again after, as "
		                "in 'phash --check | pencrypt --rekey ... | "
		                "phash -a %s'", msg, msg);
	} else if (top->kind != PFS_STAGE_ENCRYPT) {
		pfs_stage_still(top, msg, sizeof(msg));
		rc = pfs_seterr(e, "%s", msg);
	} else {
		rc = pfs_enc_unlock(x->sec, h, &x->cipher, &x->oh, e);
		if (rc == 0) {
			pfs_head_pop(h);
			range_start(x, h);
		}
	}
	x->ord.first_seq = x->ord.next_seq = pfs_head_first_chunk(h);
	/* the master key is not needed any more, nor the password, the key
	 * file's key or the identities */
	explicit_bzero(x->sec->master, sizeof(x->sec->master));
	explicit_bzero(x->sec->pw, sizeof(x->sec->pw));
	explicit_bzero(x->sec->key, sizeof(x->sec->key));
	explicit_bzero(x->sec->ids, sizeof(x->sec->ids));
	x->sec->has_key = 0;
	x->sec->nids = 0;
	if (x->newsec)
		pfs_secret_free(x->newsec);
	x->newsec = NULL;
	if (rc < 0)
		pfs_prefix(e, x->name);
	return rc;
}

/* --- main --- */

int
main(int argc, char **argv)
{
	static const struct pfs_stage_ops ops = {
		.types = 1u << PFS_DATA, .head = on_head,
		.thread_new = thread_new, .thread_free = thread_free,
		.transform = transform, .ordered = ordered,
		.stream_begin = stream_begin, .stream_piece = stream_piece,
		.stream_end = stream_end,
		/* decrypting, every payload is opened in place and nothing
		 * reads it after: the slots borrow their buffers (engine.h;
		 * -d -T 2 of the tar of /usr/include, 15 chunks: 12.7 ->
		 * 10.6 MB peak RSS, 10 -> 7 buffers allocated) */
		.lend_in = 1
	};
	/* --rekey: a new HEAD, then every frame copied at pipe speed */
	static const struct pfs_stage_ops rekey_ops = { .head = on_head };
	struct opts o;
	struct ctx x;
	struct pcont cont;
	struct pfs_err e;
	struct pfs_stats st;
	struct pfs_engine_cfg cfg;
	int fd = -1, tty = -1, rc = -1;

	pfs_setprog(argv[0]);
	parse(argc, argv, &o);
	pfs_common_trace(&o.c);
	if (o.keygen || o.keygen_id || o.rcp_of)
		return keys_command(&o);
	pfs_stats_start(&st);
	memset(&x, 0, sizeof(x));
	x.o = &o;
	x.cipher = o.cipher;
	x.tty = -1;
	if (keys_prompt(&o) && (tty = pfs_tty_open()) < 0)
		pfs_usage_error("no key given and no terminal to ask for a "
		                "password: use %s--key-file F, --password-file F "
		                "or --password-fd N", o.decrypt || o.rekey ?
		                "-i IDENTITY, " : o.cont ? "" : "-r RECIPIENT, ");
	cont.fd = -1;
	cont.path = NULL;
	if (keys_load(&o, tty, &x.sec, &x.newsec, &e) < 0)
		goto out;
	if (tty >= 0 && (o.decrypt || o.rekey))
		x.tty = tty;          /* asked once the HEAD is read */
	if (o.cont) {
		if (pcont_open(&cont, o.cont, &e) < 0) {
			pcont_free(&cont);
			goto out;
		}
		x.cont = &cont;
	}
	if (pfs_engine_cfg_open(&cfg, o.input, o.c.threads, &e) < 0)
		goto out;
	fd = cfg.in_fd;
	x.name = cfg.in_name;
	pfs_common_cfg(&o.c, &cfg);
	if (pfs_refuse_tty(1, o.force, &e) < 0)
		goto out;
	rc = pfs_engine_run(&cfg, o.rekey ? &rekey_ops : &ops, &x, NULL, &st,
	                    &e);
	pfs_stats_print(&st, o.c.stats);
out:
	if (x.cont)
		pcont_free(x.cont);
	gcry_cipher_close(x.oh);
	pfs_secret_free(x.sec);            /* wiped */
	pfs_secret_free(x.newsec);
	gcry_control(GCRYCTL_TERM_SECMEM);
	if (tty >= 0)
		close(tty);
	if (rc < 0)
		return pfs_fail("%s", e.msg);
	if (fd > 0)
		close(fd);
	return PFS_EXIT_OK;
}
