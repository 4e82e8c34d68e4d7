/*
 * parts.c - one file in parts (parts.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frame.h"
#include "io.h"
#include "parts.h"
#include "util.h"

/* a decimal number, all of s[0..n) */
static int
dec(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t k;

	if (n == 0)
		return -1;
	for (k = 0; k < n; k++) {
		if (s[k] < '0' || s[k] > '9')
			return -1;
		if (v > (max - (uint64_t)(s[k] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[k] - '0');
	}
	*out = v;
	return 0;
}

int
pfs_parse_part(const char *s, int n_opt, uint64_t *i, uint64_t *n,
               struct pfs_err *e)
{
	const char *slash = strchr(s, '/');
	size_t il = slash ? (size_t)(slash - s) : strlen(s);

	*n = 0;
	if (dec(s, il, PFS_PARTS_MAX, i) < 0 || *i < 1 ||
	    (slash ? dec(slash + 1, strlen(slash + 1), PFS_PARTS_MAX, n) < 0 ||
	             *i > *n : !n_opt))
		return pfs_seterr(e, "invalid part '%s' (expected I/N, 1 <= I "
		                  "<= N <= %u, e.g. 3/8%s)", s, PFS_PARTS_MAX,
		                  n_opt ? ", or I alone" : "");
	return 0;
}

int
pfs_part_bytes(uint64_t size, uint32_t cs, uint64_t i, uint64_t n,
               uint64_t *off, uint64_t *len, struct pfs_err *e)
{
	uint64_t c = size / cs + (size % cs != 0);
	uint64_t q = c / n, r = c % n, a, b;
	char csz[32];

	if (n > c) {
		pfs_fmt_size(cs, csz, sizeof(csz));
		return pfs_seterr(e, "part %" PRIu64 "/%" PRIu64 ": the source "
		                  "has only %" PRIu64 " chunk%s (at a chunk size "
		                  "of %s): %" PRIu64 " parts would leave some "
		                  "empty", i, n, c, c == 1 ? "" : "s", csz, n);
	}
	/* floor(k c / n) without overflow: k, r < n <= PFS_PARTS_MAX */
	a = (i - 1) * q + (i - 1) * r / n;
	b = i * q + i * r / n;
	*off = a * cs;
	/* the last part ends at size: c * cs may be past UINT64_MAX */
	*len = (b < c ? b * cs : size) - *off;
	return 0;
}

int
pfs_parse_source(const char *s, struct pfs_head *h, struct pfs_err *e)
{
	const char *f[3], *p = s, *name, *dot;
	uint64_t size, sec, nsec = 0, mode;
	size_t k, fl;

	for (k = 0; k < 3; k++) {
		f[k] = p;
		p = strchr(p, ':');
		if (!p)
			goto bad;
		p++;
	}
	name = p;
	dot = memchr(f[1], '.', (size_t)(f[2] - 1 - f[1]));
	if (dec(f[0], (size_t)(f[1] - 1 - f[0]), UINT64_MAX, &size) < 0 ||
	    dec(f[1], (size_t)((dot ? dot : f[2] - 1) - f[1]), INT64_MAX,
	        &sec) < 0)
		goto bad;
	if (dot) {
		fl = (size_t)(f[2] - 1 - (dot + 1));
		if (fl > 9 || dec(dot + 1, fl, 999999999, &nsec) < 0)
			goto bad;
		for (; fl < 9; fl++)
			nsec *= 10;
	}
	mode = 0;
	for (p = f[2]; p < name - 1; p++) {
		if (*p < '0' || *p > '7' || mode > 0777)
			goto bad;
		mode = mode * 8 + (uint64_t)(*p - '0');
	}
	if (p == f[2] || mode > 07777 || pfs_head_set_name(h, name) < 0)
		goto bad;
	h->flags |= PFS_HF_SIZE | PFS_HF_META;
	h->size = size;
	h->mode = (uint32_t)mode;
	h->mtime_sec = (int64_t)sec;
	h->mtime_nsec = (uint32_t)nsec;
	return 0;
bad:
	return pfs_seterr(e, "invalid source '%s' (expected SIZE:MTIME:MODE:"
	                  "NAME, as printed by stat -c %%s:%%.9Y:%%a:%%n FILE)",
	                  s);
}

int
pfs_head_identity(const struct pfs_head *h, struct pfs_buf *b,
                  struct pfs_err *e)
{
	struct pfs_head t = *h;

	t.flags &= ~PFS_HF_RANGE;
	t.rstart = t.rfirst = t.rlen = 0;
	t.range_cut = 0;
	return pfs_head_encode(&t, b, e);
}

int
pfs_part_open(struct pfs_part *p, struct pfs_err *e)
{
	struct pfs_reader r;
	struct pfs_index ix;
	struct stat st;
	const char *name;
	char msg[256];
	int rc;

	p->fd = pfs_open_stream(p->name, &name, e);
	if (p->fd < 0)
		return -1;
	pfs_reader_init(&r, p->fd, p->name);
	rc = pfs_reader_start(&r, &p->head, e);
	pfs_reader_free(&r);
	if (rc < 0)
		return -1;
	if (!pfs_head_only_hashes(&p->head)) {
		pfs_stage_still(pfs_head_top(&p->head), msg, sizeof(msg));
		return pfs_seterr(e, "%s: %s", p->name, msg);
	}
	if (fstat(p->fd, &st) < 0 || !S_ISREG(st.st_mode))
		return pfs_seterr(e, "%s: a part must be a stream file", p->name);
	if (lseek(p->fd, 0, SEEK_SET) < 0)
		return pfs_seterr(e, "%s: cannot seek: %s", p->name,
		                  strerror(errno));
	rc = pfs_index_load(p->fd, (uint64_t)st.st_size, p->name, &ix, e);
	pfs_index_free(&ix);
	return rc < 0 ? -1 : 0;
}

static int
by_offset(const void *va, const void *vb)
{
	const struct pfs_part *a = va, *b = vb;

	if (a->head.rfirst != b->head.rfirst)
		return a->head.rfirst < b->head.rfirst ? -1 : 1;
	return a->head.rlen < b->head.rlen ? -1 : a->head.rlen > b->head.rlen;
}

/* gap - the bytes [lo, hi) are in no part */
static int
gap(const struct pfs_head *h, uint64_t lo, uint64_t hi, struct pfs_err *e)
{
	return pfs_seterr(e, "missing bytes %" PRIu64 "..%" PRIu64 " (chunks %"
	                  PRIu64 "..%" PRIu64 "): a part is missing", lo,
	                  hi - 1, lo / h->chunk_size,
	                  (hi - 1) / h->chunk_size);
}

/* overlap - b starts before a, the part before it, ends (at) */
static int
overlap(const struct pfs_part *a, const struct pfs_part *b, uint64_t at,
        struct pfs_err *e)
{
	const struct pfs_head *h = &b->head;
	uint64_t end = h->rfirst + h->rlen < at ? h->rfirst + h->rlen : at;

	if (strcmp(a->name, b->name) == 0)
		return pfs_seterr(e, "%s: given twice", b->name);
	if (h->rfirst == a->head.rfirst && h->rlen == a->head.rlen)
		return pfs_seterr(e, "%s: the same part as %s (bytes %" PRIu64
		                  "..%" PRIu64 "): a part is given twice",
		                  b->name, a->name, h->rfirst, end - 1);
	return pfs_seterr(e, "%s: bytes %" PRIu64 "..%" PRIu64 " are in %s "
	                  "too: the parts overlap (cut with another --part N "
	                  "or --block?)", b->name, h->rfirst, end - 1, a->name);
}

int
pfs_parts_order(struct pfs_part *p, size_t n, struct pfs_err *e)
{
	struct pfs_buf id0 = PFS_BUF_INIT, id = PFS_BUF_INIT;
	const struct pfs_head *h;
	uint64_t at = 0;
	size_t k;
	int rc = -1;

	for (k = 0; k < n; k++) {
		h = &p[k].head;
		if (!(h->flags & PFS_HF_RANGE)) {
			pfs_seterr(e, "%s: a whole stream, not a part: it "
			           "cannot be joined with others", p[k].name);
			goto out;
		}
		if (pfs_head_identity(h, k ? &id : &id0, e) < 0) {
			pfs_prefix(e, p[k].name);
			goto out;
		}
		if (k && (id.len != id0.len ||
		          memcmp(id.p, id0.p, id.len) != 0)) {
			pfs_seterr(e, "%s: a part of another source or stage "
			           "stack than %s", p[k].name, p[0].name);
			goto out;
		}
		if (!(h->flags & PFS_HF_SIZE)) {
			pfs_seterr(e, "%s: the part does not record the size "
			           "of its source", p[k].name);
			goto out;
		}
	}
	qsort(p, n, sizeof(*p), by_offset);
	h = &p[0].head;
	for (k = 0; k < n; k++) {
		const struct pfs_head *c = &p[k].head;
		if (c->rfirst > at) {
			gap(h, at, c->rfirst, e);
			goto out;
		}
		if (c->rfirst < at) {
			overlap(&p[k - 1], &p[k], at, e);
			goto out;
		}
		at = c->rfirst + c->rlen;
	}
	if (at < h->size) {
		gap(h, at, h->size, e);
		goto out;
	}
	rc = 0;
out:
	pfs_buf_free(&id0);
	pfs_buf_free(&id);
	return rc;
}
