#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <xxhash.h>

#include "digest.h"
#include "unit.h"
#include "wire.h"

void
ub_bytes(struct pfs_buf *b, const void *p, size_t n)
{
	assert_int_equal(pfs_buf_reserve(b, b->len + n), 0);
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

void
ub_sig(struct pfs_buf *b)
{
	uint8_t sig[PFS_SIG_LEN];

	pfs_sig_write(sig);
	ub_bytes(b, sig, sizeof(sig));
}

size_t
ub_hdr(struct pfs_buf *b, uint8_t type, uint32_t len, uint64_t seq,
       uint64_t raw)
{
	struct pfs_hdr h = { .type = type, .len = len, .seq = seq, .raw = raw };
	uint8_t hb[PFS_HDR_LEN];
	size_t at = b->len;

	pfs_hdr_encode(&h, hb);
	ub_bytes(b, hb, sizeof(hb));
	return at;
}

size_t
ub_frame(struct pfs_buf *b, uint8_t type, uint32_t len, uint64_t seq,
         uint64_t raw, const void *payload)
{
	size_t at = ub_hdr(b, type, len, seq, raw);

	assert_int_equal(pfs_buf_reserve(b, b->len + len), 0);
	if (payload)
		memcpy(b->p + b->len, payload, len);
	else
		memset(b->p + b->len, 0x5a, len);
	b->len += len;
	return at;
}

void
ub_hdr_fix(uint8_t *hdr)
{
	pfs_put32(hdr + 28, XXH32(hdr, 28, 0));
}

size_t
ub_index_of(struct pfs_buf *b, const uint64_t *off, uint64_t n,
            uint64_t first)
{
	size_t len = (size_t)(8 * (n + 1) + PFS_INDEX_TAIL), at;
	uint8_t *p = malloc(len);

	assert_non_null(p);
	for (uint64_t i = 0; i <= n; i++)
		pfs_put64(p + 8 * i, off[i]);
	pfs_put64(p + 8 * (n + 1), XXH64(p, (size_t)(8 * (n + 1)), 0));
	pfs_put32(p + 8 * (n + 1) + 8, (uint32_t)len);
	memcpy(p + 8 * (n + 1) + 12, "PFSI", 4);
	at = ub_frame(b, PFS_INDEX, (uint32_t)len, n, n ? first : 0, p);
	free(p);
	return at;
}

size_t
ub_index(struct pfs_buf *b)
{
	uint64_t *off = NULL, n = 0, first = 0;
	size_t pos = PFS_SIG_LEN, at;

	while (pos + PFS_HDR_LEN <= b->len) {
		const uint8_t *h = b->p + pos;
		if (h[0] == PFS_DATA || h[0] == PFS_END) {
			off = realloc(off, (size_t)(n + 1) * sizeof(*off));
			assert_non_null(off);
			if (h[0] == PFS_DATA && n == 0)
				first = pfs_get64(h + 8);
			off[n++] = pos;
		}
		pos += PFS_HDR_LEN + pfs_get32(h + 4);
	}
	assert_true(n > 0 && b->p[off[n - 1]] == PFS_END);
	at = ub_index_of(b, off, n - 1, first);
	free(off);
	return at;
}

void
ub_head(struct pfs_buf *b, const struct pfs_head *h)
{
	struct pfs_buf hp = PFS_BUF_INIT;
	struct pfs_err e;

	if (pfs_head_encode(h, &hp, &e) < 0)
		fail_msg("pfs_head_encode: %s", e.msg);
	ub_frame(b, PFS_HEAD, (uint32_t)hp.len, 0, 0, hp.p);
	pfs_buf_free(&hp);
}

void
ub_start(struct pfs_buf *b, uint32_t cs)
{
	struct pfs_head h;

	pfs_head_init(&h, cs);
	ub_sig(b);
	ub_head(b, &h);
}

int
ub_fd(const void *p, size_t n)
{
	FILE *f = tmpfile();
	int fd;

	assert_non_null(f);
	fd = dup(fileno(f));
	fclose(f);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

int
ub_read(const void *p, size_t n, struct pfs_err *e, uint64_t *frames)
{
	struct pfs_reader r;
	struct pfs_head head;
	struct pfs_hdr h;
	struct pfs_buf pl = PFS_BUF_INIT;
	uint64_t count = 0;
	int fd = ub_fd(p, n), rc;

	e->msg[0] = '\0';
	pfs_reader_init(&r, fd, "in");
	rc = pfs_reader_start(&r, &head, e);
	while (rc == 0 && (rc = pfs_reader_next(&r, &h, &pl, e)) == 1) {
		count++;
		rc = 0;
	}
	/* rc: 0 after END and nothing else, -1 on error */
	pfs_buf_free(&pl);
	pfs_reader_free(&r);
	close(fd);
	if (frames)
		*frames = count;
	return rc;
}

int
ub_crypto_setup(void **state)
{
	struct pfs_err e;

	(void)state;
	if (pfs_crypto_init(&e) < 0)
		fail_msg("%s", e.msg);
	return 0;
}
