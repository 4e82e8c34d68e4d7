/*
 * cont.c - pencrypt --continue FILE: the frames FILE holds, and the check
 * that makes a second sealing under one of its nonces harmless.
 *
 * FILE is an interrupted output of the same source (pipeline process
 * --resume runs the stages again from its last whole chunk).  pencrypt
 * takes FILE's ENCRYPT record, so a chunk is sealed under the nonce it had
 * there.  That is safe only for the same plaintext: so before a piece of
 * chunk k is sealed, the bytes FILE has of chunk k (all of them, or the
 * part written before the interruption) are opened with the stream keys
 * (AES-GCM and ChaCha20-Poly1305 are counter modes: a prefix opens to the
 * plaintext's prefix; it is not trusted for anything but this comparison)
 * and compared with it.  The first difference stops pencrypt before that
 * piece is sealed.  docs/security.md, "Resuming an encrypted process".
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "frame.h"
#include "io.h"
#include "pencrypt.h"

static int
grow(struct pcont *c, uint64_t *cap)
{
	uint64_t n = *cap ? 2 * *cap : 64;
	void *a = realloc(c->off, n * sizeof(*c->off));

	if (!a)
		return -1;
	c->off = a;
	if (!(a = realloc(c->raw, n * sizeof(*c->raw))))
		return -1;
	c->raw = a;
	if (!(a = realloc(c->len, n * sizeof(*c->len))))
		return -1;
	c->len = a;
	if (!(a = realloc(c->avail, n * sizeof(*c->avail))))
		return -1;
	c->avail = a;
	*cap = n;
	return 0;
}

int
pcont_open(struct pcont *c, const char *path, struct pfs_err *e)
{
	struct pfs_reader r;
	struct pfs_hdr h;
	uint64_t cap = 0, pos;
	int rc = -1, top = -1;
	unsigned i;

	memset(c, 0, sizeof(*c));
	c->path = path;
	c->buf = malloc(PFS_STREAM_PIECE);   /* a piece of stream_data */
	c->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0 || !c->buf)
		return pfs_seterr(e, "%s: %s", path,
		                  c->buf ? strerror(errno) : "out of memory");
	pfs_reader_init(&r, c->fd, path);
	if (pfs_reader_start(&r, &c->head, e) < 0)
		goto out;
	for (i = 0; i < c->head.nstages; i++)
		if (c->head.stages[i].kind == PFS_STAGE_ENCRYPT)
			top = (int)i;
	if (top < 0) {
		pfs_seterr(e, "%s: not encrypted: nothing to continue", path);
		goto out;
	}
	c->head.nstages = (unsigned)top + 1;   /* the records above: later */
	while (pfs_reader_next_hdr(&r, &h, e) == 1 && h.type != PFS_END) {
		pos = r.bytes_in - (r.ilen - r.ipos);
		if (h.type == PFS_DATA) {
			if (c->n == cap && grow(c, &cap) < 0) {
				pfs_seterr(e, "out of memory");
				goto out;
			}
			c->off[c->n] = pos;
			c->raw[c->n] = h.raw;
			c->len[c->n] = h.len;
			c->avail[c->n] = h.len;
			c->n++;
		}
		/* the payload: skipped by reading it; cut short, FILE ends
		 * in it (the last DATA frame has what is there) */
		while (r.pending) {
			size_t k = r.pending < PFS_PIECE ? r.pending : PFS_PIECE;
			if (pfs_reader_piece(&r, c->buf, k, e) < 0) {
				off_t end = lseek(c->fd, 0, SEEK_END);
				if (h.type == PFS_DATA)
					c->avail[c->n - 1] = end > (off_t)pos ?
					    (uint32_t)((uint64_t)end - pos) : 0;
				rc = 0;
				goto out;
			}
		}
	}
	rc = 0;
out:
	pfs_reader_free(&r);
	return rc;
}

void
pcont_free(struct pcont *c)
{
	if (c->fd >= 0 && c->path)
		close(c->fd);
	gcry_cipher_close(c->cmp);
	free(c->off);
	free(c->raw);
	free(c->len);
	free(c->avail);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int
pcont_begin(struct pcont *c, const struct pfs_hdr *h, struct pfs_err *e)
{
	uint64_t k = h->seq;

	c->left = 0;
	c->seq = k;
	if (k >= c->n)
		return 0;            /* never sealed in FILE */
	if (c->raw[k] != h->raw || (c->avail[k] == c->len[k] &&
	                            c->len[k] != h->len + PFS_ENC_TAG_LEN))
		return pfs_seterr(e, "chunk %" PRIu64 " is not what %s holds "
		                  "(the source changed): nothing sealed", k,
		                  c->path);
	if (pfs_enc_seal_begin(c->cmp, h, k) < 0)
		return pfs_seterr(e, "%s: cipher failed", c->path);
	c->pos = c->off[k];
	c->left = c->avail[k] < h->len ? c->avail[k] : h->len;
	return 0;
}

int
pcont_piece(struct pcont *c, const uint8_t *p, size_t n, struct pfs_err *e)
{
	size_t k = c->left < n ? (size_t)c->left : n;

	if (!k)
		return 0;
	if (pfs_pread_full(c->fd, c->buf, k, c->pos) < 0)
		return pfs_seterr(e, "%s: read error", c->path);
	if (gcry_cipher_decrypt(c->cmp, c->buf, k, NULL, 0))
		return pfs_seterr(e, "%s: cipher failed", c->path);
	if (memcmp(c->buf, p, k) != 0)
		return pfs_seterr(e, "chunk %" PRIu64 " is not what %s holds "
		                  "(the source changed): nothing sealed",
		                  c->seq, c->path);
	c->pos += k;
	c->left -= k;
	return 0;
}
