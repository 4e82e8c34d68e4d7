/*
 * test_frame - common/frame.c: signature, header encoding, and every way
 * pfs_hdr_decode(), pfs_reader_start() and pfs_reader_next() refuse a
 * stream (docs/format.md, "Frame header", "Order", "Limits").
 *
 * Streams are built byte by byte (support.c) and read back through a
 * temporary file, or through a pipe fed in small pieces by a thread.  The
 * messages are compared exactly: they are what a user sees.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "stages.h"
#include "unit.h"
#include "wire.h"

#define CS 1024u             /* chunk size of most streams here */

/* --- signature --- */

static void
test_sig_bytes(void **state)
{
	static const uint8_t want[PFS_SIG_LEN] = {
		0x8f, 'P', 'F', 'S', '\r', '\n', 0x1a, 0x01
	};
	uint8_t sig[PFS_SIG_LEN];
	struct pfs_err e;

	(void)state;
	pfs_sig_write(sig);
	assert_memory_equal(sig, want, sizeof(want));
	assert_int_equal(pfs_sig_check(sig, &e), 0);
}

static void
test_sig_check_rejects_each_magic_byte(void **state)
{
	uint8_t sig[PFS_SIG_LEN];
	struct pfs_err e;

	(void)state;
	for (unsigned i = 0; i < 7; i++) {
		pfs_sig_write(sig);
		sig[i] ^= 0x20;
		assert_int_equal(pfs_sig_check(sig, &e), -1);
		assert_string_equal(e.msg, "not a frame stream (missing signature)");
	}
}

static void
test_sig_check_rejects_other_versions(void **state)
{
	uint8_t sig[PFS_SIG_LEN];
	struct pfs_err e;

	(void)state;
	pfs_sig_write(sig);
	sig[7] = 2;
	assert_int_equal(pfs_sig_check(sig, &e), -1);
	assert_string_equal(e.msg, "unsupported frame stream version 2 "
	                    "(this program reads version 1)");
	sig[7] = 0;
	assert_int_equal(pfs_sig_check(sig, &e), -1);
	assert_string_equal(e.msg, "unsupported frame stream version 0 "
	                    "(this program reads version 1)");
}

/* --- header encode / decode --- */

static void
test_hdr_golden_bytes(void **state)
{
	/* docs/format.md's layout; the check is `xxhsum -H0` of bytes 0-27
	 * (ab7a5b6b, stored little-endian) */
	static const uint8_t want[PFS_HDR_LEN] = {
		0x02, 0x00, 0x00, 0x00, 0x04, 0x03, 0x02, 0x01,
		0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
		0x00, 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99,
		0x00, 0x00, 0x00, 0x00, 0x6b, 0x5b, 0x7a, 0xab
	};
	struct pfs_hdr h = { PFS_DATA, 0, 0x01020304u, 0x1122334455667788u,
	                     0x99aabbccddeeff00u };
	uint8_t out[PFS_HDR_LEN];

	(void)state;
	pfs_hdr_encode(&h, out);
	assert_memory_equal(out, want, sizeof(want));
}

static void
test_hdr_round_trip(void **state)
{
	static const struct pfs_hdr cases[] = {
		{ PFS_HEAD, 0, 0, 0, 0 },
		{ PFS_DATA, 0, 1, 0, 1 },
		{ PFS_DIGEST, 0, 64, 7, 3 },
		{ PFS_END, 0, 4096, 12, 12345 },
		{ PFS_DATA, 0, UINT32_MAX, UINT64_MAX, UINT64_MAX },
		{ 0x80, 0xff, 65536, 1, 2 },
		{ 0xff, 0x01, 0, UINT64_MAX, 0 },
	};
	struct pfs_hdr d;
	struct pfs_err e;
	uint8_t b[PFS_HDR_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pfs_hdr *h = &cases[i];
		pfs_hdr_encode(h, b);
		if (pfs_hdr_decode(b, &d, 0, &e) < 0)
			fail_msg("case %zu: %s", i, e.msg);
		assert_int_equal(d.type, h->type);
		assert_int_equal(d.flags, h->flags);
		assert_int_equal(d.len, h->len);
		assert_int_equal(d.seq, h->seq);
		assert_int_equal(d.raw, h->raw);
	}
}

static void
test_hdr_decode_rejects_every_bit_flip(void **state)
{
	struct pfs_hdr h = { PFS_DATA, 0, 100, 5, 100 }, d;
	struct pfs_err e;
	uint8_t good[PFS_HDR_LEN], b[PFS_HDR_LEN];

	(void)state;
	pfs_hdr_encode(&h, good);
	for (unsigned i = 0; i < PFS_HDR_LEN * 8; i++) {
		memcpy(b, good, sizeof(b));
		b[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (pfs_hdr_decode(b, &d, 9, &e) != -1)
			fail_msg("bit %u flipped: header accepted", i);
		assert_string_equal(e.msg, "frame 9: header checksum mismatch "
		                    "(damaged stream)");
	}
}

static void
test_hdr_decode_rejects_reserved_bytes(void **state)
{
	static const unsigned off[] = { 2, 3, 24, 25, 26, 27 };
	struct pfs_hdr h = { PFS_DATA, 0, 1, 0, 1 }, d;
	struct pfs_err e;
	uint8_t b[PFS_HDR_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		/* on every type, skippable ones included */
		for (unsigned t = 0; t < 256; t += 0x7f) {
			h.type = (uint8_t)t;
			pfs_hdr_encode(&h, b);
			b[off[i]] = 0x01;
			ub_hdr_fix(b);
			if (pfs_hdr_decode(b, &d, 3, &e) != -1)
				fail_msg("byte %u set on type 0x%02x: accepted",
				         off[i], t);
			assert_string_equal(e.msg, "frame 3: reserved header bits "
			                    "set (newer format or damaged stream)");
		}
	}
}

static void
test_hdr_decode_rejects_flags_below_skippable(void **state)
{
	struct pfs_hdr h = { 0, 0, 0, 0, 0 }, d;
	struct pfs_err e;
	uint8_t b[PFS_HDR_LEN];

	(void)state;
	for (unsigned t = 0; t < PFS_SKIPPABLE_MIN; t++) {
		h.type = (uint8_t)t;
		h.flags = (uint8_t)(1u << (t % 8));
		pfs_hdr_encode(&h, b);
		if (pfs_hdr_decode(b, &d, 1, &e) != -1)
			fail_msg("type 0x%02x with flags 0x%02x accepted", t,
			         h.flags);
		assert_string_equal(e.msg, "frame 1: reserved header bits set "
		                    "(newer format or damaged stream)");
	}
}

static void
test_hdr_decode_allows_flags_on_skippable(void **state)
{
	struct pfs_hdr h = { 0, 0, 10, 0, 0 }, d;
	struct pfs_err e;
	uint8_t b[PFS_HDR_LEN];

	(void)state;
	for (unsigned t = PFS_SKIPPABLE_MIN; t < 256; t++) {
		h.type = (uint8_t)t;
		h.flags = (uint8_t)t;
		pfs_hdr_encode(&h, b);
		if (pfs_hdr_decode(b, &d, 1, &e) != 0)
			fail_msg("type 0x%02x: %s", t, e.msg);
		assert_int_equal(d.flags, t);
	}
}

static void
test_type_names(void **state)
{
	(void)state;
	assert_string_equal(pfs_type_name(PFS_HEAD), "HEAD");
	assert_string_equal(pfs_type_name(PFS_DATA), "DATA");
	assert_string_equal(pfs_type_name(PFS_DIGEST), "DIGEST");
	assert_string_equal(pfs_type_name(PFS_END), "END");
	assert_string_equal(pfs_type_name(0x00), "unknown");
	assert_string_equal(pfs_type_name(0x05), "unknown");
	assert_string_equal(pfs_type_name(0x7f), "unknown");
	assert_string_equal(pfs_type_name(0x80), "skippable");
	assert_string_equal(pfs_type_name(0xff), "skippable");
}

/* --- streams the reader refuses: one builder per case --- */

/* sig + HEAD with one record of this kind (params = { id }) */
static void
start_with(struct pfs_buf *b, uint8_t kind, uint32_t cap)
{
	struct pfs_head h;
	uint8_t id = 1;

	pfs_head_init(&h, CS);
	assert_int_equal(pfs_head_push(&h, kind, &id, 1, cap, NULL), 0);
	ub_sig(b);
	ub_head(b, &h);
}

static void
edit_hdr(struct pfs_buf *b, size_t at, unsigned off, uint8_t v, int fix)
{
	b->p[at + off] = v;
	if (fix)
		ub_hdr_fix(b->p + at);
}

static void b_empty(struct pfs_buf *b) { (void)b; }

static void
b_sig_short(struct pfs_buf *b)
{
	ub_sig(b);
	b->len = 7;
}

static void
b_version_2(struct pfs_buf *b)
{
	ub_start(b, CS);
	b->p[7] = 2;
}

static void b_sig_only(struct pfs_buf *b) { ub_sig(b); }

static void
b_head_hdr_cut(struct pfs_buf *b)
{
	ub_start(b, CS);
	b->len = PFS_SIG_LEN + PFS_HDR_LEN - 1;
}

static void
b_head_checksum(struct pfs_buf *b)
{
	ub_start(b, CS);
	b->p[PFS_SIG_LEN + 4] ^= 1;
}

static void
b_head_reserved(struct pfs_buf *b)
{
	ub_start(b, CS);
	edit_hdr(b, PFS_SIG_LEN, 1, 1, 1);
}

static void
first_frame(struct pfs_buf *b, uint8_t type)
{
	ub_sig(b);
	ub_frame(b, type, 1, 0, 1, NULL);
}

static void b_first_data(struct pfs_buf *b) { first_frame(b, PFS_DATA); }
static void b_first_digest(struct pfs_buf *b) { first_frame(b, PFS_DIGEST); }
static void b_first_end(struct pfs_buf *b) { first_frame(b, PFS_END); }
static void b_first_skippable(struct pfs_buf *b) { first_frame(b, 0x80); }
static void b_first_unknown(struct pfs_buf *b) { first_frame(b, 0x05); }

static void
b_head_len_over(struct pfs_buf *b)
{
	ub_sig(b);
	ub_hdr(b, PFS_HEAD, PFS_HEAD_MAX + 1, 0, 0);
}

/* a HEAD payload of exactly PFS_HEAD_MAX bytes passes the length check
 * and is then refused by the HEAD decoder for its trailing bytes */
static void
b_head_len_max(struct pfs_buf *b)
{
	struct pfs_head h;
	struct pfs_buf hp = PFS_BUF_INIT;

	pfs_head_init(&h, CS);
	assert_int_equal(pfs_head_encode(&h, &hp, NULL), 0);
	assert_int_equal(pfs_buf_reserve(&hp, PFS_HEAD_MAX), 0);
	memset(hp.p + hp.len, 0, PFS_HEAD_MAX - hp.len);
	ub_sig(b);
	ub_frame(b, PFS_HEAD, PFS_HEAD_MAX, 0, 0, hp.p);
	pfs_buf_free(&hp);
}

static void
b_head_seq(struct pfs_buf *b)
{
	ub_start(b, CS);
	pfs_put64(b->p + PFS_SIG_LEN + 8, 1);
	ub_hdr_fix(b->p + PFS_SIG_LEN);
}

static void
b_head_raw(struct pfs_buf *b)
{
	ub_start(b, CS);
	pfs_put64(b->p + PFS_SIG_LEN + 16, 1);
	ub_hdr_fix(b->p + PFS_SIG_LEN);
}

static void
b_head_payload_cut(struct pfs_buf *b)
{
	ub_start(b, CS);
	b->len -= 10;
}

static void
b_head_invalid(struct pfs_buf *b)
{
	ub_start(b, CS);
	pfs_put32(b->p + PFS_SIG_LEN + PFS_HDR_LEN, CS - 1);
}

static void b_no_end(struct pfs_buf *b) { ub_start(b, CS); }

static void
b_no_end_after_data(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, 3, 0, 3, NULL);
}

static void
b_hdr_cut(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, 3, 0, 3, NULL);
	ub_hdr(b, PFS_END, 0, 1, 3);
	b->len -= 12;
}

static void
b_checksum_mid(struct pfs_buf *b)
{
	size_t at;

	ub_start(b, CS);
	ub_frame(b, PFS_DATA, 3, 0, 3, NULL);
	at = ub_frame(b, PFS_DATA, 3, 1, 3, NULL);
	ub_frame(b, PFS_END, 0, 2, 6, NULL);
	b->p[at + 8] ^= 0x80;
}

static void
b_reserved_mid(struct pfs_buf *b)
{
	size_t at;

	ub_start(b, CS);
	at = ub_frame(b, PFS_DATA, 3, 0, 3, NULL);
	ub_frame(b, PFS_END, 0, 1, 3, NULL);
	edit_hdr(b, at, 26, 0x40, 1);
}

static void
b_second_head(struct pfs_buf *b)
{
	struct pfs_head h;

	pfs_head_init(&h, CS);
	ub_start(b, CS);
	ub_head(b, &h);
	ub_frame(b, PFS_END, 0, 0, 0, NULL);
}

static void
b_data_seq_gap(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, 3, 1, 3, NULL);
	ub_frame(b, PFS_END, 0, 1, 3, NULL);
}

static void
b_data_seq_repeat(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, 3, 0, 3, NULL);
	ub_frame(b, PFS_DATA, 3, 0, 3, NULL);
	ub_frame(b, PFS_END, 0, 2, 6, NULL);
}

static void
b_data_seq_skip(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, 3, 0, 3, NULL);
	ub_frame(b, PFS_DATA, 3, 2, 3, NULL);
	ub_frame(b, PFS_END, 0, 2, 6, NULL);
}

static void
b_data_raw_zero(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, 0, 0, 0, NULL);
	ub_frame(b, PFS_END, 0, 1, 0, NULL);
}

static void
b_data_raw_over(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, CS + 1, 0, CS + 1, NULL);
	ub_frame(b, PFS_END, 0, 1, CS + 1, NULL);
}

static void
b_data_len_over_chunk(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, CS + 1, 0, CS, NULL);
	ub_frame(b, PFS_END, 0, 1, CS, NULL);
}

static void
b_data_len_over_record_cap(struct pfs_buf *b)
{
	start_with(b, PFS_STAGE_COMPRESS, 2000);
	ub_frame(b, PFS_DATA, 2001, 0, CS, NULL);
	ub_frame(b, PFS_END, 0, 1, CS, NULL);
}

static void
b_data_len_not_raw(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, 5, 0, 6, NULL);
	ub_frame(b, PFS_END, 0, 1, 6, NULL);
}

static void
b_data_len_not_raw_hash(struct pfs_buf *b)
{
	start_with(b, PFS_STAGE_HASH, CS);
	ub_frame(b, PFS_DATA, 7, 0, 6, NULL);
	ub_frame(b, PFS_END, 0, 1, 6, NULL);
}

static void
b_data_payload_cut(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, 100, 0, 100, NULL);
	b->len -= 50;
}

static void
b_digest_first(struct pfs_buf *b)
{
	start_with(b, PFS_STAGE_HASH, CS);
	ub_frame(b, PFS_DIGEST, 32, 0, 0, NULL);
	ub_frame(b, PFS_END, 0, 0, 0, NULL);
}

static void
b_digest_after_skippable(struct pfs_buf *b)
{
	start_with(b, PFS_STAGE_HASH, CS);
	ub_frame(b, PFS_DATA, 3, 0, 3, NULL);
	ub_frame(b, 0x80, 2, 0, 0, NULL);
	ub_frame(b, PFS_DIGEST, 32, 0, 0, NULL);
	ub_frame(b, PFS_END, 0, 1, 3, NULL);
}

static void
b_digest_wrong_seq(struct pfs_buf *b)
{
	start_with(b, PFS_STAGE_HASH, CS);
	ub_frame(b, PFS_DATA, 3, 0, 3, NULL);
	ub_frame(b, PFS_DIGEST, 32, 1, 0, NULL);
	ub_frame(b, PFS_END, 0, 1, 3, NULL);
}

static void
b_digest_of_earlier_chunk(struct pfs_buf *b)
{
	start_with(b, PFS_STAGE_HASH, CS);
	ub_frame(b, PFS_DATA, 3, 0, 3, NULL);
	ub_frame(b, PFS_DATA, 3, 1, 3, NULL);
	ub_frame(b, PFS_DIGEST, 32, 0, 0, NULL);
	ub_frame(b, PFS_END, 0, 2, 6, NULL);
}

static void
b_digest_after_end(struct pfs_buf *b)
{
	start_with(b, PFS_STAGE_HASH, CS);
	ub_frame(b, PFS_DATA, 3, 0, 3, NULL);
	ub_frame(b, PFS_END, 0, 1, 3, NULL);
	ub_frame(b, PFS_DIGEST, 32, 0, 0, NULL);
}

static void
b_digest_len_over(struct pfs_buf *b)
{
	start_with(b, PFS_STAGE_HASH, CS);
	ub_frame(b, PFS_DATA, 3, 0, 3, NULL);
	ub_frame(b, PFS_DIGEST, PFS_DIGEST_MAX + 1, 0, 0, NULL);
	ub_frame(b, PFS_END, 0, 1, 3, NULL);
}

static void
b_digest_no_stack(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, 3, 0, 3, NULL);
	ub_frame(b, PFS_DIGEST, 32, 0, 0, NULL);
	ub_frame(b, PFS_END, 0, 1, 3, NULL);
}

static void
b_digest_past_stack(struct pfs_buf *b)
{
	start_with(b, PFS_STAGE_HASH, CS);
	ub_frame(b, PFS_DATA, 3, 0, 3, NULL);
	ub_frame(b, PFS_DIGEST, 32, 0, 1, NULL);
	ub_frame(b, PFS_END, 0, 1, 3, NULL);
}

static void
b_digest_huge_index(struct pfs_buf *b)
{
	start_with(b, PFS_STAGE_HASH, CS);
	ub_frame(b, PFS_DATA, 3, 0, 3, NULL);
	ub_frame(b, PFS_DIGEST, 32, 0, UINT64_MAX, NULL);
	ub_frame(b, PFS_END, 0, 1, 3, NULL);
}

static void
b_digest_not_hash(struct pfs_buf *b)
{
	start_with(b, PFS_STAGE_COMPRESS, 2000);
	ub_frame(b, PFS_DATA, 3, 0, 3, NULL);
	ub_frame(b, PFS_DIGEST, 32, 0, 0, NULL);
	ub_frame(b, PFS_END, 0, 1, 3, NULL);
}

static void
b_end_len_over(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_END, PFS_END_MAX + 1, 0, 0, NULL);
}

static void
b_end_seq_less(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, 5, 0, 5, NULL);
	ub_frame(b, PFS_DATA, 7, 1, 7, NULL);
	ub_frame(b, PFS_END, 0, 1, 12, NULL);
}

static void
b_end_seq_more(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, 5, 0, 5, NULL);
	ub_frame(b, PFS_DATA, 7, 1, 7, NULL);
	ub_frame(b, PFS_END, 0, 3, 12, NULL);
}

static void
b_end_raw(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, 5, 0, 5, NULL);
	ub_frame(b, PFS_DATA, 7, 1, 7, NULL);
	ub_frame(b, PFS_END, 0, 2, 13, NULL);
}

static void
b_end_payload_cut(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_END, 10, 0, 0, NULL);
	b->len -= 7;
}

static void
unknown_type(struct pfs_buf *b, uint8_t t)
{
	ub_start(b, CS);
	ub_frame(b, t, 0, 0, 0, NULL);
	ub_frame(b, PFS_END, 0, 0, 0, NULL);
}

static void b_unknown_00(struct pfs_buf *b) { unknown_type(b, 0x00); }
static void b_unknown_05(struct pfs_buf *b) { unknown_type(b, 0x05); }
static void b_unknown_7f(struct pfs_buf *b) { unknown_type(b, 0x7f); }

static void
b_skippable_len_over(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_hdr(b, 0x80, PFS_SKIP_MAX + 1, 0, 0);
}

static void
b_skippable_ff_len_over(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_hdr(b, 0xff, PFS_SKIP_MAX + 1, 0, 0);
}

static void
b_trailing_byte(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, 5, 0, 5, NULL);
	ub_frame(b, PFS_END, 0, 1, 5, NULL);
	ub_bytes(b, "", 1);
}

static void
b_trailing_frame(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_END, 0, 0, 0, NULL);
	ub_frame(b, PFS_END, 0, 0, 0, NULL);
}

static void
b_trailing_stream(struct pfs_buf *b)
{
	/* two streams concatenated are not one stream */
	ub_start(b, CS);
	ub_frame(b, PFS_END, 0, 0, 0, NULL);
	ub_start(b, CS);
	ub_frame(b, PFS_END, 0, 0, 0, NULL);
}

struct rcase {
	const char *name;
	void (*build)(struct pfs_buf *);
	const char *msg;
};

#define DROPPED "(frames dropped, duplicated or reordered)"
#define NOTHASH "frame for a stage record that is not a hash record " \
	"(damaged stream)"

static const struct rcase rcases[] = {
	/* pfs_reader_start */
	{ "empty", b_empty, "in: empty input (not a frame stream)" },
	{ "sig_short", b_sig_short, "in: not a frame stream (missing signature)" },
	{ "version_2", b_version_2, "in: unsupported frame stream version 2 "
	  "(this program reads version 1)" },
	{ "sig_only", b_sig_only, "in: truncated stream (no HEAD frame)" },
	{ "head_hdr_cut", b_head_hdr_cut,
	  "in: truncated stream (frame 0: header cut short)" },
	{ "head_checksum", b_head_checksum,
	  "in: frame 0: header checksum mismatch (damaged stream)" },
	{ "head_reserved", b_head_reserved, "in: frame 0: reserved header "
	  "bits set (newer format or damaged stream)" },
	{ "first_data", b_first_data, "in: frame 0: expected HEAD, found DATA" },
	{ "first_digest", b_first_digest,
	  "in: frame 0: expected HEAD, found DIGEST" },
	{ "first_end", b_first_end, "in: frame 0: expected HEAD, found END" },
	{ "first_skippable", b_first_skippable,
	  "in: frame 0: expected HEAD, found skippable" },
	{ "first_unknown", b_first_unknown,
	  "in: frame 0: expected HEAD, found unknown" },
	{ "head_len_over_cap", b_head_len_over,
	  "in: frame 0: invalid HEAD header (length 65537)" },
	{ "head_len_at_cap", b_head_len_max, "in: HEAD: 65501 trailing bytes" },
	{ "head_seq", b_head_seq, "in: frame 0: invalid HEAD header (length 35)" },
	{ "head_raw", b_head_raw, "in: frame 0: invalid HEAD header (length 35)" },
	{ "head_payload_cut", b_head_payload_cut,
	  "in: truncated stream (frame 0: payload cut short)" },
	{ "head_invalid", b_head_invalid,
	  "in: HEAD: chunk size 1023 outside 1024..268435456" },
	/* pfs_reader_next */
	{ "no_end", b_no_end, "in: truncated stream (no END frame after 0 chunks)" },
	{ "no_end_after_data", b_no_end_after_data,
	  "in: truncated stream (no END frame after 1 chunks)" },
	{ "hdr_cut", b_hdr_cut, "in: truncated stream (frame 2: header cut short)" },
	{ "checksum_mid", b_checksum_mid,
	  "in: frame 2: header checksum mismatch (damaged stream)" },
	{ "reserved_mid", b_reserved_mid, "in: frame 1: reserved header bits "
	  "set (newer format or damaged stream)" },
	{ "second_head", b_second_head, "in: frame 1: unexpected second HEAD" },
	{ "data_seq_gap", b_data_seq_gap,
	  "in: frame 1: chunk 1 where chunk 0 was expected " DROPPED },
	{ "data_seq_repeat", b_data_seq_repeat,
	  "in: frame 2: chunk 0 where chunk 1 was expected " DROPPED },
	{ "data_seq_skip", b_data_seq_skip,
	  "in: frame 2: chunk 2 where chunk 1 was expected " DROPPED },
	{ "data_raw_zero", b_data_raw_zero,
	  "in: chunk 0: raw length 0 outside 1..1024 (the chunk size)" },
	{ "data_raw_over_chunk_size", b_data_raw_over,
	  "in: chunk 0: raw length 1025 outside 1..1024 (the chunk size)" },
	{ "data_len_over_chunk_size", b_data_len_over_chunk, "in: chunk 0: "
	  "payload length 1025 exceeds the cap of 1024 declared by HEAD" },
	{ "data_len_over_record_cap", b_data_len_over_record_cap, "in: chunk 0: "
	  "payload length 2001 exceeds the cap of 2000 declared by HEAD" },
	{ "data_len_not_raw", b_data_len_not_raw,
	  "in: chunk 0: payload length 5 differs from raw length 6" },
	{ "data_len_not_raw_hash", b_data_len_not_raw_hash,
	  "in: chunk 0: payload length 7 differs from raw length 6" },
	{ "data_payload_cut", b_data_payload_cut,
	  "in: truncated stream (frame 1: payload cut short)" },
	{ "digest_first", b_digest_first, "in: frame 1: DIGEST for chunk 0 "
	  "does not follow its DATA frame " DROPPED },
	{ "digest_after_skippable", b_digest_after_skippable, "in: frame 3: "
	  "DIGEST for chunk 0 does not follow its DATA frame " DROPPED },
	{ "digest_wrong_seq", b_digest_wrong_seq, "in: frame 2: DIGEST for "
	  "chunk 1 does not follow its DATA frame " DROPPED },
	{ "digest_of_earlier_chunk", b_digest_of_earlier_chunk, "in: frame 3: "
	  "DIGEST for chunk 0 does not follow its DATA frame " DROPPED },
	{ "digest_after_end", b_digest_after_end,
	  "in: trailing data after the END frame" },
	/* the message names the record, though the length is what is wrong */
	{ "digest_len_over_cap", b_digest_len_over, "in: frame 2: DIGEST " NOTHASH },
	{ "digest_no_stack", b_digest_no_stack, "in: frame 2: DIGEST " NOTHASH },
	{ "digest_index_past_stack", b_digest_past_stack,
	  "in: frame 2: DIGEST " NOTHASH },
	{ "digest_index_huge", b_digest_huge_index, "in: frame 2: DIGEST " NOTHASH },
	{ "digest_not_hash_record", b_digest_not_hash,
	  "in: frame 2: DIGEST " NOTHASH },
	{ "end_len_over_cap", b_end_len_over,
	  "in: frame 1: END payload too long (4097 bytes)" },
	{ "end_seq_less", b_end_seq_less, "in: END says 1 chunks but the "
	  "stream has 2 (frames dropped or duplicated)" },
	{ "end_seq_more", b_end_seq_more, "in: END says 3 chunks but the "
	  "stream has 2 (frames dropped or duplicated)" },
	{ "end_raw", b_end_raw,
	  "in: END says 13 bytes but the chunks add up to 12" },
	{ "end_payload_cut", b_end_payload_cut,
	  "in: truncated stream (frame 1: payload cut short)" },
	{ "unknown_type_00", b_unknown_00, "in: frame 1: unknown frame type "
	  "0x00 (newer format or damaged stream)" },
	{ "unknown_type_05", b_unknown_05, "in: frame 1: unknown frame type "
	  "0x05 (newer format or damaged stream)" },
	{ "unknown_type_7f", b_unknown_7f, "in: frame 1: unknown frame type "
	  "0x7f (newer format or damaged stream)" },
	{ "skippable_len_over_cap", b_skippable_len_over,
	  "in: frame 1: skippable frame too long (65537 bytes)" },
	{ "skippable_ff_len_over_cap", b_skippable_ff_len_over,
	  "in: frame 1: skippable frame too long (65537 bytes)" },
	{ "trailing_byte", b_trailing_byte, "in: trailing data after the END frame" },
	{ "trailing_frame", b_trailing_frame,
	  "in: trailing data after the END frame" },
	{ "trailing_stream", b_trailing_stream,
	  "in: trailing data after the END frame" },
};

#define NRCASES (sizeof(rcases) / sizeof(rcases[0]))

static void
test_reader_rejects(void **state)
{
	const struct rcase *c = *state;
	struct pfs_buf b = PFS_BUF_INIT;
	struct pfs_err e;
	int rc;

	c->build(&b);
	rc = ub_read(b.p, b.len, &e, NULL);
	pfs_buf_free(&b);
	if (rc != -1)
		fail_msg("%s: stream accepted", c->name);
	assert_string_equal(e.msg, c->msg);
}

/* --- streams the reader accepts: the edges of every limit --- */

struct acase {
	const char *name;
	void (*build)(struct pfs_buf *);
	uint64_t frames;          /* returned by pfs_reader_next, END included */
};

static void
b_minimal(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_END, 0, 0, 0, NULL);
}

static void
b_data_edges(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, 1, 0, 1, NULL);
	ub_frame(b, PFS_DATA, CS, 1, CS, NULL);
	ub_frame(b, PFS_END, 0, 2, CS + 1, NULL);
}

static void
b_chunk_extremes(struct pfs_buf *b)
{
	ub_start(b, PFS_CHUNK_MIN);
	ub_frame(b, PFS_DATA, PFS_CHUNK_MIN, 0, PFS_CHUNK_MIN, NULL);
	ub_frame(b, PFS_END, 0, 1, PFS_CHUNK_MIN, NULL);
}

static void
b_record_cap_edge(struct pfs_buf *b)
{
	/* under a COMPRESS record len may differ from raw, up to the cap */
	start_with(b, PFS_STAGE_COMPRESS, 2000);
	ub_frame(b, PFS_DATA, 2000, 0, 10, NULL);
	ub_frame(b, PFS_DATA, 1, 1, CS, NULL);
	ub_frame(b, PFS_END, 0, 2, CS + 10, NULL);
}

static void
b_digests(struct pfs_buf *b)
{
	struct pfs_head h;
	uint8_t id = 1;

	pfs_head_init(&h, CS);
	assert_int_equal(pfs_head_push(&h, PFS_STAGE_HASH, &id, 1, CS, NULL), 0);
	assert_int_equal(pfs_head_push(&h, PFS_STAGE_HASH, &id, 1, CS, NULL), 0);
	ub_sig(b);
	ub_head(b, &h);
	ub_frame(b, PFS_DATA, 3, 0, 3, NULL);
	ub_frame(b, PFS_DIGEST, 32, 0, 1, NULL);
	ub_frame(b, PFS_DIGEST, PFS_DIGEST_MAX, 0, 0, NULL);
	ub_frame(b, PFS_DATA, 4, 1, 4, NULL);
	ub_frame(b, PFS_DIGEST, 0, 1, 0, NULL);
	ub_frame(b, PFS_END, PFS_END_MAX, 2, 7, NULL);
}

static void
b_skippables(struct pfs_buf *b)
{
	size_t at;

	ub_start(b, CS);
	at = ub_frame(b, 0x80, PFS_SKIP_MAX, 0, 0, NULL);
	edit_hdr(b, at, 1, 0xa5, 1);              /* flags allowed here */
	ub_frame(b, PFS_DATA, 3, 0, 3, NULL);
	ub_frame(b, 0xff, 0, UINT64_MAX, UINT64_MAX, NULL);
	ub_frame(b, PFS_END, 0, 1, 3, NULL);
}

static const struct acase acases[] = {
	{ "minimal", b_minimal, 1 },
	{ "data_raw_1_and_chunk_size", b_data_edges, 3 },
	{ "chunk_size_min", b_chunk_extremes, 2 },
	{ "data_len_at_record_cap", b_record_cap_edge, 3 },
	{ "digests_at_caps", b_digests, 6 },
	{ "skippables_at_cap", b_skippables, 4 },
};

#define NACASES (sizeof(acases) / sizeof(acases[0]))

static void
test_reader_accepts(void **state)
{
	const struct acase *c = *state;
	struct pfs_buf b = PFS_BUF_INIT;
	struct pfs_err e;
	uint64_t frames;
	int rc;

	c->build(&b);
	rc = ub_read(b.p, b.len, &e, &frames);
	pfs_buf_free(&b);
	if (rc != 0)
		fail_msg("%s: %s", c->name, e.msg);
	assert_int_equal(frames, c->frames);
}

/* --- truncation at every byte --- */

/* a stream with every kind of frame; off[i] is where frame i starts
 * (frame 0 is HEAD), off[n] the end; data[i] counts DATA frames before i */
struct rich {
	struct pfs_buf b;
	size_t off[16];
	unsigned data[16];
	unsigned n;
};

static void
rich_frame(struct rich *r, uint8_t type, uint32_t len, uint64_t seq,
           uint64_t raw)
{
	r->data[r->n + 1] = r->data[r->n] + (type == PFS_DATA);
	r->off[r->n++] = ub_frame(&r->b, type, len, seq, raw, NULL);
}

static void
rich_build(struct rich *r)
{
	struct pfs_head h;
	uint8_t id = PFS_H_SHA256;

	memset(r, 0, sizeof(*r));
	pfs_head_init(&h, CS);
	assert_int_equal(pfs_head_set_name(&h, "dir/file.bin"), 0);
	assert_int_equal(pfs_head_push(&h, PFS_STAGE_HASH, &id, 1, CS, NULL), 0);
	ub_sig(&r->b);
	r->off[r->n++] = r->b.len;
	ub_head(&r->b, &h);
	rich_frame(r, PFS_DATA, 5, 0, 5);
	rich_frame(r, PFS_DIGEST, 32, 0, 0);
	rich_frame(r, 0x80, 3, 0, 0);
	rich_frame(r, PFS_DATA, 7, 1, 7);
	rich_frame(r, PFS_DIGEST, 32, 1, 0);
	rich_frame(r, PFS_END, 34, 2, 12);
	r->off[r->n] = r->b.len;
}

/* the message for the first len bytes of r */
static void
rich_expect(const struct rich *r, size_t len, char *out, size_t n)
{
	unsigned i;

	if (len == 0) {
		snprintf(out, n, "in: empty input (not a frame stream)");
		return;
	}
	if (len < PFS_SIG_LEN) {
		snprintf(out, n, "in: not a frame stream (missing signature)");
		return;
	}
	if (len == PFS_SIG_LEN) {
		snprintf(out, n, "in: truncated stream (no HEAD frame)");
		return;
	}
	for (i = 0; r->off[i + 1] <= len; i++)
		;
	if (len == r->off[i])
		snprintf(out, n, "in: truncated stream (no END frame after %u "
		         "chunks)", r->data[i]);
	else if (len < r->off[i] + PFS_HDR_LEN)
		snprintf(out, n, "in: truncated stream (frame %u: header cut "
		         "short)", i);
	else
		snprintf(out, n, "in: truncated stream (frame %u: payload cut "
		         "short)", i);
}

static void
test_reader_truncated_at_every_byte(void **state)
{
	struct rich r;
	struct pfs_err e;
	char want[256];
	uint64_t frames;

	(void)state;
	rich_build(&r);
	assert_int_equal(ub_read(r.b.p, r.b.len, &e, &frames), 0);
	assert_int_equal(frames, 6);
	for (size_t len = 0; len < r.b.len; len++) {
		rich_expect(&r, len, want, sizeof(want));
		if (ub_read(r.b.p, len, &e, NULL) != -1)
			fail_msg("first %zu of %zu bytes accepted", len, r.b.len);
		if (strcmp(e.msg, want) != 0)
			fail_msg("first %zu bytes: '%s', expected '%s'", len,
			         e.msg, want);
	}
	pfs_buf_free(&r.b);
}

/* --- through a pipe, in small pieces --- */

struct feeder {
	int fd;
	const uint8_t *p;
	size_t n;
};

static void *
feed(void *arg)
{
	struct feeder *f = arg;
	size_t off = 0, k = 1;
	ssize_t w;

	while (off < f->n) {
		k = k % 7 + 1;
		if (k > f->n - off)
			k = f->n - off;
		w = write(f->fd, f->p + off, k);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(f->fd);
	return NULL;
}

static void
test_reader_pipe_in_small_pieces(void **state)
{
	struct rich r;
	struct feeder f;
	struct pfs_reader rd;
	struct pfs_head head;
	struct pfs_hdr h;
	struct pfs_buf pl = PFS_BUF_INIT;
	struct pfs_err e;
	pthread_t tid;
	unsigned i = 1;
	int fds[2], rc;

	(void)state;
	rich_build(&r);
	assert_int_equal(pipe(fds), 0);
	f.fd = fds[1];
	f.p = r.b.p;
	f.n = r.b.len;
	assert_int_equal(pthread_create(&tid, NULL, feed, &f), 0);
	pfs_reader_init(&rd, fds[0], "in");
	if (pfs_reader_start(&rd, &head, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(head.name, "file.bin");
	while ((rc = pfs_reader_next(&rd, &h, &pl, &e)) == 1) {
		/* each frame as built: header fields and payload bytes */
		const uint8_t *hb = r.b.p + r.off[i];
		assert_true(i < r.n);
		assert_int_equal(h.type, hb[0]);
		assert_int_equal(h.len, pfs_get32(hb + 4));
		assert_int_equal(pl.len, h.len);
		assert_memory_equal(pl.p, hb + PFS_HDR_LEN, h.len);
		i++;
	}
	if (rc != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(i, r.n);
	assert_int_equal(rd.bytes_in, r.b.len);
	assert_int_equal(pfs_reader_next(&rd, &h, &pl, &e), 0);
	assert_int_equal(pthread_join(tid, NULL), 0);
	pfs_buf_free(&pl);
	pfs_reader_free(&rd);
	close(fds[0]);
	pfs_buf_free(&r.b);
}

/* --- reader state --- */

static void
test_reader_set_cap(void **state)
{
	struct pfs_buf b = PFS_BUF_INIT, pl = PFS_BUF_INIT;
	struct pfs_reader r;
	struct pfs_head head;
	struct pfs_hdr h;
	struct pfs_err e;
	int fd;

	(void)state;
	start_with(&b, PFS_STAGE_COMPRESS, 2000);
	ub_frame(&b, PFS_DATA, 1500, 0, 10, NULL);
	ub_frame(&b, PFS_DATA, 1501, 1, 10, NULL);
	ub_frame(&b, PFS_END, 0, 2, 20, NULL);
	fd = ub_fd(b.p, b.len);
	pfs_reader_init(&r, fd, "in");
	assert_int_equal(pfs_reader_start(&r, &head, &e), 0);
	assert_int_equal(r.data_cap, 2000);
	pfs_reader_set_cap(&r, 1500);
	assert_int_equal(pfs_reader_next(&r, &h, &pl, &e), 1);
	assert_int_equal(pfs_reader_next(&r, &h, &pl, &e), -1);
	assert_string_equal(e.msg, "in: chunk 1: payload length 1501 exceeds "
	                    "the cap of 1500 declared by HEAD");
	pfs_buf_free(&pl);
	pfs_reader_free(&r);
	close(fd);
	pfs_buf_free(&b);
}

static void
test_reader_stays_at_end(void **state)
{
	struct pfs_buf b = PFS_BUF_INIT, pl = PFS_BUF_INIT;
	struct pfs_reader r;
	struct pfs_head head;
	struct pfs_hdr h;
	struct pfs_err e;
	int fd;

	(void)state;
	ub_start(&b, CS);
	ub_frame(&b, PFS_DATA, 5, 0, 5, "hello");
	ub_frame(&b, PFS_END, 2, 1, 5, "ok");
	fd = ub_fd(b.p, b.len);
	pfs_reader_init(&r, fd, "in");
	assert_int_equal(pfs_reader_start(&r, &head, &e), 0);
	assert_int_equal(pfs_reader_next(&r, &h, &pl, &e), 1);
	assert_int_equal(h.type, PFS_DATA);
	assert_memory_equal(pl.p, "hello", 5);
	assert_int_equal(pfs_reader_next(&r, &h, &pl, &e), 1);
	assert_int_equal(h.type, PFS_END);
	assert_int_equal(pl.len, 2);
	assert_memory_equal(pl.p, "ok", 2);
	assert_int_equal(pfs_reader_next(&r, &h, &pl, &e), 0);
	assert_int_equal(pfs_reader_next(&r, &h, &pl, &e), 0);
	assert_int_equal(r.bytes_in, b.len);
	assert_int_equal(r.ordinal, 3);
	pfs_buf_free(&pl);
	pfs_reader_free(&r);
	close(fd);
	pfs_buf_free(&b);
}

/* a short stream that declares a huge payload reserves only what arrives
 * (at most the first step, a default chunk and a little), not the declared
 * length */
static void
test_reader_short_huge_payload_reserves_little(void **state)
{
	struct pfs_buf b = PFS_BUF_INIT, pl = PFS_BUF_INIT;
	struct pfs_reader r;
	struct pfs_head head;
	struct pfs_hdr h;
	struct pfs_err e;
	int fd;

	(void)state;
	start_with(&b, PFS_STAGE_COMPRESS, PFS_PAYLOAD_MAX);
	ub_hdr(&b, PFS_DATA, PFS_PAYLOAD_MAX, 0, CS);
	ub_bytes(&b, "0123456789", 10);
	fd = ub_fd(b.p, b.len);
	pfs_reader_init(&r, fd, "in");
	assert_int_equal(pfs_reader_start(&r, &head, &e), 0);
	assert_int_equal(pfs_reader_next(&r, &h, &pl, &e), -1);
	assert_string_equal(e.msg, "in: truncated stream (frame 1: payload cut "
	                    "short)");
	assert_true(pl.cap <= (8u << 20) + (64u << 10));
	pfs_buf_free(&pl);
	pfs_reader_free(&r);
	close(fd);
	pfs_buf_free(&b);
}

/* --- the writer, read back by the reader --- */

static void
test_writer_reader_round_trip(void **state)
{
	struct pfs_writer w;
	struct pfs_reader r;
	struct pfs_head head, got;
	struct pfs_hdr h;
	struct pfs_buf hp = PFS_BUF_INIT, pl = PFS_BUF_INIT;
	struct pfs_err e;
	static uint8_t big[100000];       /* > the writer's copy limit */
	FILE *f = tmpfile();
	int fd;

	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 3);
	assert_non_null(f);
	fd = dup(fileno(f));
	fclose(f);
	pfs_head_init(&head, 128u << 10);
	assert_int_equal(pfs_head_encode(&head, &hp, &e), 0);
	assert_int_equal(pfs_writer_init(&w, fd, "out"), 0);
	assert_int_equal(pfs_writer_sig(&w, &e), 0);
	h = (struct pfs_hdr){ PFS_HEAD, 0, (uint32_t)hp.len, 0, 0 };
	assert_int_equal(pfs_writer_frame(&w, &h, hp.p, hp.len, &e), 0);
	h = (struct pfs_hdr){ PFS_DATA, 0, 3, 0, 3 };
	assert_int_equal(pfs_writer_frame(&w, &h, "abc", 3, &e), 0);
	h = (struct pfs_hdr){ PFS_DATA, 0, sizeof(big), 1, sizeof(big) };
	assert_int_equal(pfs_writer_frame(&w, &h, big, sizeof(big), &e), 0);
	h = (struct pfs_hdr){ PFS_END, 0, 0, 2, 3 + sizeof(big) };
	assert_int_equal(pfs_writer_frame(&w, &h, NULL, 0, &e), 0);
	assert_int_equal(pfs_writer_flush(&w, &e), 0);
	assert_int_equal(w.bytes_out, PFS_SIG_LEN + 4 * PFS_HDR_LEN + hp.len +
	                 3 + sizeof(big));
	pfs_writer_free(&w);

	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	pfs_reader_init(&r, fd, "in");
	if (pfs_reader_start(&r, &got, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(got.chunk_size, 128u << 10);
	assert_int_equal(pfs_reader_next(&r, &h, &pl, &e), 1);
	assert_memory_equal(pl.p, "abc", 3);
	assert_int_equal(pfs_reader_next(&r, &h, &pl, &e), 1);
	assert_int_equal(pl.len, sizeof(big));
	assert_memory_equal(pl.p, big, sizeof(big));
	assert_int_equal(pfs_reader_next(&r, &h, &pl, &e), 1);
	assert_int_equal(h.type, PFS_END);
	assert_int_equal(pfs_reader_next(&r, &h, &pl, &e), 0);
	pfs_reader_free(&r);
	pfs_buf_free(&pl);
	pfs_buf_free(&hp);
	close(fd);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_sig_bytes),
		cmocka_unit_test(test_sig_check_rejects_each_magic_byte),
		cmocka_unit_test(test_sig_check_rejects_other_versions),
		cmocka_unit_test(test_hdr_golden_bytes),
		cmocka_unit_test(test_hdr_round_trip),
		cmocka_unit_test(test_hdr_decode_rejects_every_bit_flip),
		cmocka_unit_test(test_hdr_decode_rejects_reserved_bytes),
		cmocka_unit_test(test_hdr_decode_rejects_flags_below_skippable),
		cmocka_unit_test(test_hdr_decode_allows_flags_on_skippable),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_reader_truncated_at_every_byte),
		cmocka_unit_test(test_reader_pipe_in_small_pieces),
		cmocka_unit_test(test_reader_set_cap),
		cmocka_unit_test(test_reader_stays_at_end),
		cmocka_unit_test(test_reader_short_huge_payload_reserves_little),
		cmocka_unit_test(test_writer_reader_round_trip),
	};
	enum { NFIXED = sizeof(fixed) / sizeof(fixed[0]) };
	static struct CMUnitTest tests[NFIXED + NRCASES + NACASES];
	static char names[NRCASES + NACASES][96];
	size_t n = 0, k = 0;

	for (size_t i = 0; i < NFIXED; i++)
		tests[n++] = fixed[i];
	for (size_t i = 0; i < NRCASES; i++, k++) {
		snprintf(names[k], sizeof(names[k]), "reader_rejects_%s",
		         rcases[i].name);
		tests[n++] = (struct CMUnitTest){ names[k], test_reader_rejects,
		        NULL, NULL, (void *)(uintptr_t)&rcases[i] };
	}
	for (size_t i = 0; i < NACASES; i++, k++) {
		snprintf(names[k], sizeof(names[k]), "reader_accepts_%s",
		         acases[i].name);
		tests[n++] = (struct CMUnitTest){ names[k], test_reader_accepts,
		        NULL, NULL, (void *)(uintptr_t)&acases[i] };
	}
	return _cmocka_run_group_tests("frame", tests, n, NULL, NULL);
}
