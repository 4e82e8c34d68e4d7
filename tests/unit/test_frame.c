/*
 * test_frame - common/frame.c: signature, header encoding, and every way
 * pfs_hdr_decode(), pfs_reader_start() and pfs_reader_next() refuse a
 * stream (docs/format.md, "Frame header", "Order", "Limits"); the INDEX
 * frame after END (written by pfs_writer, checked by pfs_reader, read from
 * a file by pfs_index_load) and range streams (pfs_reader_extract, END's
 * range flag; docs/format.md, "Index", "Range streams").
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

#include <xxhash.h>

#include "stages.h"
#include "unit.h"
#include "wire.h"

#define CS 1024u             /* chunk size of most streams here */

/* --- signature --- */

static void
test_sig_bytes(void **state)
{
	static const uint8_t want[PFS_SIG_LEN] = {
		0x8f, 'P', 'F', 'S', '\r', '\n', 0x1a, 0x02
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
		assert_string_equal(e.msg, "not a frame stream (missing signature; 'pchunk FILE' makes one)");
	}
}

static void
test_sig_check_rejects_other_versions(void **state)
{
	uint8_t sig[PFS_SIG_LEN];
	struct pfs_err e;

	(void)state;
	pfs_sig_write(sig);
	sig[7] = 1;                  /* version 1: no INDEX, no ranges */
	assert_int_equal(pfs_sig_check(sig, &e), -1);
	assert_string_equal(e.msg, "unsupported frame stream version 1 "
	                    "(this program reads version 2)");
	sig[7] = 3;
	assert_int_equal(pfs_sig_check(sig, &e), -1);
	assert_string_equal(e.msg, "unsupported frame stream version 3 "
	                    "(this program reads version 2)");
	sig[7] = 0;
	assert_int_equal(pfs_sig_check(sig, &e), -1);
	assert_string_equal(e.msg, "unsupported frame stream version 0 "
	                    "(this program reads version 2)");
	sig[7] = 0xff;
	assert_int_equal(pfs_sig_check(sig, &e), -1);
	assert_string_equal(e.msg, "unsupported frame stream version 255 "
	                    "(this program reads version 2)");
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
	struct pfs_hdr h = { .type = PFS_DATA, .len = 0x01020304u,
	                     .seq = 0x1122334455667788u,
	                     .raw = 0x99aabbccddeeff00u };
	uint8_t out[PFS_HDR_LEN];

	(void)state;
	pfs_hdr_encode(&h, out);
	assert_memory_equal(out, want, sizeof(want));
}

static void
test_hdr_round_trip(void **state)
{
	static const struct pfs_hdr cases[] = {
		{ .type = PFS_HEAD },
		{ .type = PFS_DATA, .len = 1, .seq = 0, .raw = 1 },
		{ .type = PFS_DIGEST, .len = 64, .seq = 7, .raw = 3 },
		{ .type = PFS_END, .len = 4096, .seq = 12, .raw = 12345 },
		{ .type = PFS_END, .flags = PFS_EF_RANGE, .len = 16, .seq = 3,
		  .raw = 3000 },
		{ .type = PFS_INDEX, .len = 8 * 13 + PFS_INDEX_TAIL, .seq = 12,
		  .raw = 7 },
		{ .type = PFS_DATA, .len = UINT32_MAX, .seq = UINT64_MAX,
		  .raw = UINT64_MAX },
		{ .type = 0x80, .flags = 0xff, .len = 65536, .seq = 1, .raw = 2 },
		{ .type = 0xff, .flags = 0x01, .seq = UINT64_MAX },
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
	struct pfs_hdr h = { .type = PFS_DATA, .len = 100, .seq = 5,
	                     .raw = 100 }, d;
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
	struct pfs_hdr h = { .type = PFS_DATA, .len = 1, .raw = 1 }, d;
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
	struct pfs_hdr h = { .type = 0 }, d;
	struct pfs_err e;
	uint8_t b[PFS_HDR_LEN];

	(void)state;
	/* for END (type 4) that is flag bit 4, not its range bit 0 */
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
	struct pfs_hdr h = { .len = 10 }, d;
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

/* END's flag bit 0 (a range stream) is the one flag a frame below the
 * skippable range may carry: only on END, and no other bit with it */
static void
test_hdr_decode_end_range_flag_only(void **state)
{
	static const uint8_t types[] = { 0x00, PFS_HEAD, PFS_DATA, PFS_DIGEST,
	                                 PFS_INDEX, 0x06, 0x7f };
	struct pfs_hdr h = { .type = PFS_END, .len = 0, .seq = 2, .raw = 5 }, d;
	struct pfs_err e;
	uint8_t b[PFS_HDR_LEN];

	(void)state;
	h.flags = PFS_EF_RANGE;
	pfs_hdr_encode(&h, b);
	if (pfs_hdr_decode(b, &d, 4, &e) != 0)
		fail_msg("END with the range flag: %s", e.msg);
	assert_int_equal(d.type, PFS_END);
	assert_int_equal(d.flags, PFS_EF_RANGE);
	for (unsigned f = 2; f < 256; f++) {
		h.flags = (uint8_t)f;
		pfs_hdr_encode(&h, b);
		if (pfs_hdr_decode(b, &d, 4, &e) != -1)
			fail_msg("END with flags 0x%02x accepted", f);
		assert_string_equal(e.msg, "frame 4: reserved header bits set "
		                    "(newer format or damaged stream)");
	}
	for (size_t i = 0; i < sizeof(types); i++) {
		h.type = types[i];
		h.flags = PFS_EF_RANGE;
		pfs_hdr_encode(&h, b);
		if (pfs_hdr_decode(b, &d, 4, &e) != -1)
			fail_msg("type 0x%02x with flag bit 0 accepted",
			         types[i]);
		assert_string_equal(e.msg, "frame 4: reserved header bits set "
		                    "(newer format or damaged stream)");
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
	assert_string_equal(pfs_type_name(PFS_INDEX), "INDEX");
	assert_string_equal(pfs_type_name(0x00), "unknown");
	assert_string_equal(pfs_type_name(0x06), "unknown");
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
b_version_1(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_END, 0, 0, 0, NULL);
	b->p[7] = 1;
}

static void
b_version_3(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_END, 0, 0, 0, NULL);
	ub_index(b);
	b->p[7] = 3;
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
static void b_first_index(struct pfs_buf *b) { first_frame(b, PFS_INDEX); }
static void b_first_unknown(struct pfs_buf *b) { first_frame(b, 0x06); }

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
	ub_frame(b, PFS_DATA, CS, 0, CS, NULL);
	at = ub_frame(b, PFS_DATA, 3, 1, 3, NULL);
	ub_frame(b, PFS_END, 0, 2, CS + 3, NULL);
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
	ub_frame(b, PFS_DATA, CS, 0, CS, NULL);
	ub_frame(b, PFS_DATA, CS, 0, CS, NULL);
	ub_frame(b, PFS_END, 0, 2, 2 * CS, NULL);
}

static void
b_data_seq_skip(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, CS, 0, CS, NULL);
	ub_frame(b, PFS_DATA, 3, 2, 3, NULL);
	ub_frame(b, PFS_END, 0, 2, CS + 3, NULL);
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
	ub_frame(b, PFS_DATA, CS, 0, CS, NULL);
	ub_frame(b, PFS_DATA, 3, 1, 3, NULL);
	ub_frame(b, PFS_DIGEST, 32, 0, 0, NULL);
	ub_frame(b, PFS_END, 0, 2, CS + 3, NULL);
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
	ub_frame(b, PFS_DATA, CS, 0, CS, NULL);
	ub_frame(b, PFS_DATA, 7, 1, 7, NULL);
	ub_frame(b, PFS_END, 0, 1, CS + 7, NULL);
}

static void
b_end_seq_more(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, CS, 0, CS, NULL);
	ub_frame(b, PFS_DATA, 7, 1, 7, NULL);
	ub_frame(b, PFS_END, 0, 3, CS + 7, NULL);
}

static void
b_end_raw(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, CS, 0, CS, NULL);
	ub_frame(b, PFS_DATA, 7, 1, 7, NULL);
	ub_frame(b, PFS_END, 0, 2, CS + 8, NULL);
}

/* END's range flag on a whole stream */
static void
b_end_range_flag(struct pfs_buf *b)
{
	size_t at;

	ub_start(b, CS);
	ub_frame(b, PFS_DATA, 5, 0, 5, NULL);
	at = ub_frame(b, PFS_END, 0, 1, 5, NULL);
	edit_hdr(b, at, 1, PFS_EF_RANGE, 1);
}

/* --- the short-chunk rule: every DATA frame but the last is a whole
 * chunk --- */

static void
b_short_first(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, 5, 0, 5, NULL);
	ub_frame(b, PFS_DATA, 7, 1, 7, NULL);
	ub_frame(b, PFS_END, 0, 2, 12, NULL);
}

static void
b_short_middle(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, CS, 0, CS, NULL);
	ub_frame(b, PFS_DATA, CS - 1, 1, CS - 1, NULL);
	ub_frame(b, PFS_DATA, 1, 2, 1, NULL);
	ub_frame(b, PFS_END, 0, 3, 2 * CS, NULL);
}

/* --- range streams --- */

/* sig + HEAD of a range stream (chunk size CS, size unknown) */
static void
range_start(struct pfs_buf *b, uint64_t start, uint64_t first, uint64_t len)
{
	struct pfs_head h;
	struct pfs_err e;

	pfs_head_init(&h, CS);
	if (pfs_head_set_range(&h, start, first, len, &e) < 0)
		fail_msg("pfs_head_set_range: %s", e.msg);
	ub_sig(b);
	ub_head(b, &h);
}

/* an END frame with the range flag; returns its offset */
static size_t
range_end(struct pfs_buf *b, uint64_t seq, uint64_t raw)
{
	size_t at = ub_frame(b, PFS_END, 0, seq, raw, NULL);

	edit_hdr(b, at, 1, PFS_EF_RANGE, 1);
	return at;
}

static void
b_range_end_no_flag(struct pfs_buf *b)
{
	range_start(b, CS, CS, 10);
	ub_frame(b, PFS_DATA, 10, 1, 10, NULL);
	ub_frame(b, PFS_END, 0, 1, 10, NULL);
}

static void
b_range_first_seq(struct pfs_buf *b)
{
	range_start(b, CS, CS, 10);
	ub_frame(b, PFS_DATA, 10, 0, 10, NULL);
	range_end(b, 1, 10);
}

/* chunks 0..2 promised, 0..1 present */
static void
b_range_ends_early(struct pfs_buf *b)
{
	range_start(b, 0, 0, 3 * CS);
	ub_frame(b, PFS_DATA, CS, 0, CS, NULL);
	ub_frame(b, PFS_DATA, CS, 1, CS, NULL);
	range_end(b, 2, 2 * CS);
}

/* the right chunks, but the last one ends a byte before the range */
static void
b_range_last_short(struct pfs_buf *b)
{
	range_start(b, 0, 10, CS);
	ub_frame(b, PFS_DATA, CS, 0, CS, NULL);
	ub_frame(b, PFS_DATA, 9, 1, 9, NULL);
	range_end(b, 2, CS + 9);
}

/* the first chunk of a range from byte CS + 100 ends at the next multiple
 * of the chunk size: it holds at most CS - 100 bytes */
static void
b_range_first_too_long(struct pfs_buf *b)
{
	range_start(b, CS + 100, CS + 100, 2000);
	ub_frame(b, PFS_DATA, CS, 1, CS, NULL);
	ub_frame(b, PFS_DATA, CS, 2, CS, NULL);
	range_end(b, 2, 2 * CS);
}

static void
b_range_first_short(struct pfs_buf *b)
{
	range_start(b, CS + 100, CS + 100, 2000);
	ub_frame(b, PFS_DATA, CS - 101, 1, CS - 101, NULL);
	ub_frame(b, PFS_DATA, CS, 2, CS, NULL);
	range_end(b, 2, 2 * CS - 101);
}

/* --- the INDEX frame after END --- */

/* sig, HEAD, DATA 0 (a whole chunk), DATA 1 (7 bytes), END, INDEX;
 * returns the offset of the INDEX frame's header */
static size_t
indexed(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, CS, 0, CS, NULL);
	ub_frame(b, PFS_DATA, 7, 1, 7, NULL);
	ub_frame(b, PFS_END, 0, 2, CS + 7, NULL);
	return ub_index(b);
}

/* set the u64 at payload offset k of the INDEX frame at `at`; with
 * rehash, recompute its XXH64 so that only the check against the
 * frames can find the change */
static void
edit_index(struct pfs_buf *b, size_t at, size_t k, uint64_t v, int rehash)
{
	uint8_t *p = b->p + at + PFS_HDR_LEN;
	uint64_t n = pfs_get64(b->p + at + 8);

	pfs_put64(p + k, v);
	if (rehash)
		pfs_put64(p + 8 * (n + 1), XXH64(p, (size_t)(8 * (n + 1)), 0));
}

static void
b_index_seq(struct pfs_buf *b)
{
	size_t at = indexed(b);

	pfs_put64(b->p + at + 8, 3);
	ub_hdr_fix(b->p + at);
}

static void
b_index_first(struct pfs_buf *b)
{
	size_t at = indexed(b);

	pfs_put64(b->p + at + 16, 1);
	ub_hdr_fix(b->p + at);
}

static void
b_index_len(struct pfs_buf *b)
{
	size_t at = indexed(b);

	pfs_put32(b->p + at + 4, pfs_get32(b->p + at + 4) + 8);
	ub_hdr_fix(b->p + at);
	ub_bytes(b, "\0\0\0\0\0\0\0\0", 8);
}

static void
b_index_offset_moved(struct pfs_buf *b)
{
	size_t at = indexed(b);
	uint8_t *p = b->p + at + PFS_HDR_LEN;

	edit_index(b, at, 8, pfs_get64(p + 8) + 1, 1);
}

static void
b_index_offset_swapped(struct pfs_buf *b)
{
	size_t at = indexed(b);
	uint8_t *p = b->p + at + PFS_HDR_LEN;
	uint64_t o0 = pfs_get64(p), o1 = pfs_get64(p + 8);

	edit_index(b, at, 0, o1, 0);
	edit_index(b, at, 8, o0, 1);
}

static void
b_index_offset_no_rehash(struct pfs_buf *b)
{
	size_t at = indexed(b);
	uint8_t *p = b->p + at + PFS_HDR_LEN;

	edit_index(b, at, 16, pfs_get64(p + 16) - 1, 0);
}

static void
b_index_xxh64(struct pfs_buf *b)
{
	size_t at = indexed(b);

	b->p[at + PFS_HDR_LEN + 3 * 8] ^= 0x01;
}

static void
b_index_tail_len(struct pfs_buf *b)
{
	size_t at = indexed(b);

	b->p[at + PFS_HDR_LEN + 3 * 8 + 8] ^= 0x08;
}

static void
b_index_magic(struct pfs_buf *b)
{
	size_t at = indexed(b);

	b->p[b->len - 1] = 'J';
	(void)at;
}

static void
b_index_hdr_checksum(struct pfs_buf *b)
{
	size_t at = indexed(b);

	b->p[at + 12] ^= 0x01;
}

static void
b_index_flags(struct pfs_buf *b)
{
	size_t at = indexed(b);

	edit_hdr(b, at, 1, PFS_EF_RANGE, 1);
}

static void
b_index_hdr_cut(struct pfs_buf *b)
{
	size_t at = indexed(b);

	b->len = at + 20;
}

/* an INDEX frame before END is no INDEX frame */
static void
b_index_before_end(struct pfs_buf *b)
{
	uint64_t off[2];

	ub_start(b, CS);
	off[0] = ub_frame(b, PFS_DATA, 3, 0, 3, NULL);
	off[1] = b->len + PFS_HDR_LEN + 8 * 2 + PFS_INDEX_TAIL;
	ub_index_of(b, off, 1, 0);
	ub_frame(b, PFS_END, 0, 1, 3, NULL);
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
static void b_unknown_06(struct pfs_buf *b) { unknown_type(b, 0x06); }
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

/* a byte after END can only be the start of an INDEX frame */
static void
b_byte_after_end(struct pfs_buf *b)
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
b_byte_after_index(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, 5, 0, 5, NULL);
	ub_frame(b, PFS_END, 0, 1, 5, NULL);
	ub_index(b);
	ub_bytes(b, "", 1);
}

static void
b_frame_after_index(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_END, 0, 0, 0, NULL);
	ub_index(b);
	ub_frame(b, PFS_END, 0, 0, 0, NULL);
}

static void
b_index_twice(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, 5, 0, 5, NULL);
	ub_frame(b, PFS_END, 0, 1, 5, NULL);
	ub_index(b);
	ub_index(b);
}

static void
b_trailing_stream(struct pfs_buf *b)
{
	/* two streams concatenated, as writers write them, are not one
	 * stream */
	struct pfs_buf t = PFS_BUF_INIT;

	ub_start(&t, CS);
	ub_frame(&t, PFS_END, 0, 0, 0, NULL);
	ub_index(&t);
	ub_bytes(b, t.p, t.len);
	ub_bytes(b, t.p, t.len);
	pfs_buf_free(&t);
}

static void
b_trailing_stream_no_index(struct pfs_buf *b)
{
	/* without their INDEX frames: the second signature and HEAD are read
	 * as the header of an INDEX frame */
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
	{ "sig_short", b_sig_short, "in: not a frame stream (missing signature; 'pchunk FILE' makes one)" },
	{ "version_1", b_version_1, "in: unsupported frame stream version 1 "
	  "(this program reads version 2)" },
	{ "version_3", b_version_3, "in: unsupported frame stream version 3 "
	  "(this program reads version 2)" },
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
	{ "first_index", b_first_index,
	  "in: frame 0: expected HEAD, found INDEX" },
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
	  "in: END says 1032 bytes but the chunks add up to 1031" },
	{ "end_range_flag_on_whole_stream", b_end_range_flag, "in: END says "
	  "a range but HEAD does not (damaged or relabelled stream)" },
	{ "short_first_chunk", b_short_first, "in: chunk 0 is short (5 bytes) "
	  "but not the last (damaged stream)" },
	{ "short_middle_chunk", b_short_middle, "in: chunk 1 is short (1023 "
	  "bytes) but not the last (damaged stream)" },
	{ "range_end_without_flag", b_range_end_no_flag, "in: END does not "
	  "say a range but HEAD does (damaged or relabelled stream)" },
	{ "range_first_seq", b_range_first_seq,
	  "in: frame 1: chunk 0 where chunk 1 was expected " DROPPED },
	{ "range_ends_early", b_range_ends_early, "in: range stream ends at "
	  "chunk 1, not at the end of its range (chunk 2)" },
	{ "range_last_chunk_short", b_range_last_short, "in: range stream "
	  "holds 1033 bytes, fewer than its range needs (1034)" },
	{ "range_first_chunk_past_its_end", b_range_first_too_long,
	  "in: chunk 1: raw length 1024 outside 1..924 (the rest of the chunk "
	  "from the range's start)" },
	{ "range_first_chunk_short", b_range_first_short, "in: chunk 1 is "
	  "short (923 bytes) but not the last (damaged stream)" },
	{ "index_wrong_seq", b_index_seq,
	  "in: INDEX frame does not fit the stream (damaged index)" },
	{ "index_wrong_first_chunk", b_index_first,
	  "in: INDEX frame does not fit the stream (damaged index)" },
	{ "index_wrong_len", b_index_len,
	  "in: INDEX frame does not fit the stream (damaged index)" },
	{ "index_offset_moved_rehashed", b_index_offset_moved,
	  "in: INDEX frame does not match the frames (damaged index)" },
	{ "index_offsets_swapped_rehashed", b_index_offset_swapped,
	  "in: INDEX frame does not match the frames (damaged index)" },
	{ "index_offset_moved", b_index_offset_no_rehash,
	  "in: INDEX frame does not match the frames (damaged index)" },
	{ "index_xxh64", b_index_xxh64,
	  "in: INDEX frame does not match the frames (damaged index)" },
	{ "index_tail_len", b_index_tail_len,
	  "in: INDEX frame does not match the frames (damaged index)" },
	{ "index_magic", b_index_magic,
	  "in: INDEX frame does not match the frames (damaged index)" },
	{ "index_hdr_checksum", b_index_hdr_checksum,
	  "in: frame 4: header checksum mismatch (damaged stream)" },
	{ "index_flags", b_index_flags, "in: frame 4: reserved header bits "
	  "set (newer format or damaged stream)" },
	{ "index_hdr_cut", b_index_hdr_cut,
	  "in: truncated stream (frame 4: header cut short)" },
	{ "index_before_end", b_index_before_end, "in: frame 2: INDEX frame "
	  "before END (frames dropped or reordered)" },
	{ "end_payload_cut", b_end_payload_cut,
	  "in: truncated stream (frame 1: payload cut short)" },
	{ "unknown_type_00", b_unknown_00, "in: frame 1: unknown frame type "
	  "0x00 (newer format or damaged stream)" },
	{ "unknown_type_06", b_unknown_06, "in: frame 1: unknown frame type "
	  "0x06 (newer format or damaged stream)" },
	{ "unknown_type_7f", b_unknown_7f, "in: frame 1: unknown frame type "
	  "0x7f (newer format or damaged stream)" },
	{ "skippable_len_over_cap", b_skippable_len_over,
	  "in: frame 1: skippable frame too long (65537 bytes)" },
	{ "skippable_ff_len_over_cap", b_skippable_ff_len_over,
	  "in: frame 1: skippable frame too long (65537 bytes)" },
	{ "byte_after_end", b_byte_after_end,
	  "in: truncated stream (frame 3: header cut short)" },
	{ "trailing_frame", b_trailing_frame,
	  "in: trailing data after the END frame" },
	{ "byte_after_index", b_byte_after_index,
	  "in: trailing data after the INDEX frame" },
	{ "frame_after_index", b_frame_after_index,
	  "in: trailing data after the INDEX frame" },
	{ "index_twice", b_index_twice,
	  "in: trailing data after the INDEX frame" },
	{ "trailing_stream", b_trailing_stream,
	  "in: trailing data after the INDEX frame" },
	{ "trailing_stream_no_index", b_trailing_stream_no_index,
	  "in: frame 2: header checksum mismatch (damaged stream)" },
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
b_minimal_indexed(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_END, 0, 0, 0, NULL);
	ub_index(b);
}

static void
b_data_edges(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, CS, 0, CS, NULL);
	ub_frame(b, PFS_DATA, 1, 1, 1, NULL);
	ub_frame(b, PFS_END, 0, 2, CS + 1, NULL);
}

static void
b_whole_chunks(struct pfs_buf *b)
{
	ub_start(b, CS);
	ub_frame(b, PFS_DATA, CS, 0, CS, NULL);
	ub_frame(b, PFS_DATA, CS, 1, CS, NULL);
	ub_frame(b, PFS_END, 0, 2, 2 * CS, NULL);
	ub_index(b);
}

static void b_indexed(struct pfs_buf *b) { indexed(b); }

/* a range stream of the bytes CS + 200 .. 2 CS + 199, cut from CS + 100
 * on: chunk 1 (CS - 100 bytes, to the chunk's end), chunk 2 (200) */
static void
b_range(struct pfs_buf *b)
{
	range_start(b, CS + 100, CS + 200, CS);
	ub_frame(b, PFS_DATA, CS - 100, 1, CS - 100, NULL);
	ub_frame(b, PFS_DATA, 200, 2, 200, NULL);
	range_end(b, 2, CS + 100);
	ub_index(b);
}

/* one chunk of a range, within its chunk, no index */
static void
b_range_one_chunk(struct pfs_buf *b)
{
	range_start(b, 3 * CS + 5, 3 * CS + 5, 10);
	ub_frame(b, PFS_DATA, 10, 3, 10, NULL);
	range_end(b, 1, 10);
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
	ub_frame(b, PFS_DATA, 2000, 0, CS, NULL);
	ub_frame(b, PFS_DATA, 1, 1, 10, NULL);
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
	ub_frame(b, PFS_DATA, CS, 0, CS, NULL);
	ub_frame(b, PFS_DIGEST, 32, 0, 1, NULL);
	ub_frame(b, PFS_DIGEST, PFS_DIGEST_MAX, 0, 0, NULL);
	ub_frame(b, PFS_DATA, 4, 1, 4, NULL);
	ub_frame(b, PFS_DIGEST, 0, 1, 0, NULL);
	ub_frame(b, PFS_END, PFS_END_MAX, 2, CS + 4, NULL);
	ub_index(b);
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
	{ "minimal_with_index", b_minimal_indexed, 1 },
	{ "data_raw_chunk_size_then_1", b_data_edges, 3 },
	{ "whole_chunks_with_index", b_whole_chunks, 3 },
	{ "short_last_chunk_with_index", b_indexed, 3 },
	{ "range_stream_with_index", b_range, 3 },
	{ "range_stream_one_chunk", b_range_one_chunk, 2 },
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

/* a stream with every kind of frame and its INDEX frame; off[i] is where
 * frame i starts (frame 0 is HEAD, frame n - 1 is END), off[n] where the
 * INDEX frame starts, end the length of it all; data[i] counts DATA frames
 * before i */
struct rich {
	struct pfs_buf b;
	size_t off[16];
	unsigned data[16];
	unsigned n;
	size_t end;
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
	rich_frame(r, PFS_DATA, CS, 0, CS);
	rich_frame(r, PFS_DIGEST, 32, 0, 0);
	rich_frame(r, 0x80, 3, 0, 0);
	rich_frame(r, PFS_DATA, 7, 1, 7);
	rich_frame(r, PFS_DIGEST, 32, 1, 0);
	rich_frame(r, PFS_END, 34, 2, CS + 7);
	r->off[r->n] = ub_index(&r->b);
	r->end = r->b.len;
}

/* the message for the first len bytes of r, or "" when they are a valid
 * stream */
static void
rich_expect(const struct rich *r, size_t len, char *out, size_t n)
{
	unsigned i;

	if (len == 0) {
		snprintf(out, n, "in: empty input (not a frame stream)");
		return;
	}
	if (len < PFS_SIG_LEN) {
		snprintf(out, n, "in: not a frame stream (missing signature; 'pchunk FILE' makes one)");
		return;
	}
	if (len == PFS_SIG_LEN) {
		snprintf(out, n, "in: truncated stream (no HEAD frame)");
		return;
	}
	if (len == r->off[r->n]) {
		/* cut at the end of END: a stream without an index */
		snprintf(out, n, "%s", "");
		return;
	}
	for (i = 0; i < r->n && r->off[i + 1] <= len; i++)
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

/* every prefix of the first len bytes from `from` on is refused with the
 * message for where it ends, except the one that ends with END: without
 * its INDEX frame the stream is valid */
static void
truncated(const struct rich *r, size_t from, size_t to)
{
	struct pfs_err e;
	char want[256];
	uint64_t frames;

	for (size_t len = from; len < to; len++) {
		rich_expect(r, len, want, sizeof(want));
		if (!want[0]) {
			if (ub_read(r->b.p, len, &e, &frames) != 0)
				fail_msg("first %zu bytes (up to END): %s", len,
				         e.msg);
			assert_int_equal(frames, 6);
			continue;
		}
		if (ub_read(r->b.p, len, &e, NULL) != -1)
			fail_msg("first %zu of %zu bytes accepted", len,
			         r->b.len);
		if (strcmp(e.msg, want) != 0)
			fail_msg("first %zu bytes: '%s', expected '%s'", len,
			         e.msg, want);
	}
}

/* up to the INDEX frame's payload */
static void
test_reader_truncated_at_every_byte(void **state)
{
	struct rich r;
	struct pfs_err e;
	uint64_t frames;

	(void)state;
	rich_build(&r);
	assert_int_equal(ub_read(r.b.p, r.b.len, &e, &frames), 0);
	assert_int_equal(frames, 6);
	truncated(&r, 0, r.off[r.n] + PFS_HDR_LEN);
	pfs_buf_free(&r.b);
}

/* in the INDEX frame's payload: the message names the INDEX frame, as it
 * does for its header */
static void
test_reader_truncated_in_the_index_payload(void **state)
{
	struct rich r;

	(void)state;
	rich_build(&r);
	truncated(&r, r.off[r.n] + PFS_HDR_LEN, r.b.len);
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
	assert_int_equal(rd.index_seen, 1);      /* read and checked */
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
	ub_frame(&b, PFS_DATA, 1500, 0, CS, NULL);
	ub_frame(&b, PFS_DATA, 1501, 1, 10, NULL);
	ub_frame(&b, PFS_END, 0, 2, CS + 10, NULL);
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

/* a temporary file's descriptor */
static int
tmp_fd(void)
{
	FILE *f = tmpfile();
	int fd;

	assert_non_null(f);
	fd = dup(fileno(f));
	fclose(f);
	assert_true(fd >= 0);
	return fd;
}

/* the whole of fd (from offset 0) into b */
static void
slurp(int fd, struct pfs_buf *b)
{
	off_t size = lseek(fd, 0, SEEK_END);

	assert_true(size >= 0);
	assert_int_equal(pfs_buf_reserve(b, (size_t)size), 0);
	assert_int_equal(pread(fd, b->p, (size_t)size, 0), size);
	b->len = (size_t)size;
}

static void
test_writer_reader_round_trip(void **state)
{
	struct pfs_writer w;
	struct pfs_reader r;
	struct pfs_head head, got;
	struct pfs_hdr h;
	struct pfs_buf hp = PFS_BUF_INIT, pl = PFS_BUF_INIT, all = PFS_BUF_INIT;
	struct pfs_err e;
	static uint8_t big[100000];       /* > the writer's copy limit */
	uint64_t off[3];
	const uint8_t *ix;
	size_t at;
	int fd = tmp_fd();

	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 3);
	/* chunk 0 is a whole chunk (the big one), chunk 1 the short last */
	pfs_head_init(&head, sizeof(big));
	assert_int_equal(pfs_head_encode(&head, &hp, &e), 0);
	assert_int_equal(pfs_writer_init(&w, fd, "out"), 0);
	assert_int_equal(pfs_writer_sig(&w, &e), 0);
	h = (struct pfs_hdr){ .type = PFS_HEAD, .len = (uint32_t)hp.len };
	assert_int_equal(pfs_writer_frame(&w, &h, hp.p, hp.len, &e), 0);
	off[0] = PFS_SIG_LEN + PFS_HDR_LEN + hp.len;
	h = (struct pfs_hdr){ .type = PFS_DATA, .len = sizeof(big), .seq = 0,
	                      .raw = sizeof(big) };
	assert_int_equal(pfs_writer_frame(&w, &h, big, sizeof(big), &e), 0);
	off[1] = off[0] + PFS_HDR_LEN + sizeof(big);
	h = (struct pfs_hdr){ .type = PFS_DATA, .len = 3, .seq = 1, .raw = 3 };
	assert_int_equal(pfs_writer_frame(&w, &h, "abc", 3, &e), 0);
	off[2] = off[1] + PFS_HDR_LEN + 3;
	h = (struct pfs_hdr){ .type = PFS_END, .len = 0, .seq = 2,
	                      .raw = 3 + sizeof(big) };
	assert_int_equal(pfs_writer_frame(&w, &h, NULL, 0, &e), 0);
	assert_int_equal(pfs_writer_flush(&w, &e), 0);
	/* HEAD, 2 DATA, END and the INDEX frame: 3 offsets and its tail */
	assert_int_equal(w.bytes_out, PFS_SIG_LEN + 5 * PFS_HDR_LEN + hp.len +
	                 sizeof(big) + 3 + 3 * 8 + PFS_INDEX_TAIL);
	pfs_writer_free(&w);

	/* the INDEX frame, byte for byte */
	slurp(fd, &all);
	at = off[2] + PFS_HDR_LEN;
	assert_int_equal(all.p[at], PFS_INDEX);
	assert_int_equal(pfs_get32(all.p + at + 4), 3 * 8 + PFS_INDEX_TAIL);
	assert_int_equal(pfs_get64(all.p + at + 8), 2);      /* chunks */
	assert_int_equal(pfs_get64(all.p + at + 16), 0);     /* first */
	ix = all.p + at + PFS_HDR_LEN;
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(pfs_get64(ix + 8 * i), off[i]);
	assert_int_equal(pfs_get64(ix + 24), XXH64(ix, 24, 0));
	assert_int_equal(pfs_get32(ix + 32), 3 * 8 + PFS_INDEX_TAIL);
	assert_memory_equal(ix + 36, "PFSI", 4);
	assert_int_equal(at + PFS_HDR_LEN + 40, all.len);

	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	pfs_reader_init(&r, fd, "in");
	if (pfs_reader_start(&r, &got, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(got.chunk_size, sizeof(big));
	assert_int_equal(pfs_reader_next(&r, &h, &pl, &e), 1);
	assert_int_equal(pl.len, sizeof(big));
	assert_memory_equal(pl.p, big, sizeof(big));
	assert_int_equal(pfs_reader_next(&r, &h, &pl, &e), 1);
	assert_memory_equal(pl.p, "abc", 3);
	assert_int_equal(pfs_reader_next(&r, &h, &pl, &e), 1);
	assert_int_equal(h.type, PFS_END);
	if (pfs_reader_next(&r, &h, &pl, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(r.index_seen, 1);
	assert_int_equal(r.bytes_in, all.len);
	pfs_reader_free(&r);
	pfs_buf_free(&pl);
	pfs_buf_free(&hp);
	pfs_buf_free(&all);
	close(fd);
}

/* len stream bytes written through w in pieces of k bytes (raw: pjoin's
 * path, which the writer follows frame by frame all the same) */
static void
write_raw_pieces(struct pfs_writer *w, const uint8_t *p, size_t len,
                 size_t k)
{
	struct pfs_err e;

	for (size_t at = 0; at < len; at += k) {
		size_t n = len - at < k ? len - at : k;
		if (pfs_writer_raw(w, p + at, n, &e) < 0)
			fail_msg("%s", e.msg);
	}
}

/* whatever path the bytes take and however they are cut, the writer
 * appends the INDEX frame a reader expects: that of ub_index() */
static void
test_writer_index_follows_the_frames(void **state)
{
	static const size_t pieces[] = { 1, 7, 31, 32, 33, 4096, 1 << 20 };
	struct pfs_buf s = PFS_BUF_INIT, want = PFS_BUF_INIT,
	               got = PFS_BUF_INIT;
	struct pfs_writer w;
	struct pfs_err e;

	(void)state;
	/* the whole stream but its signature, which pfs_writer_sig writes */
	start_with(&s, PFS_STAGE_HASH, CS);
	ub_frame(&s, 0x80, 5, 0, 0, NULL);
	ub_frame(&s, PFS_DATA, CS, 0, CS, NULL);
	ub_frame(&s, PFS_DIGEST, 32, 0, 0, NULL);
	ub_frame(&s, PFS_DATA, CS, 1, CS, NULL);
	ub_frame(&s, PFS_DIGEST, 32, 1, 0, NULL);
	ub_frame(&s, PFS_DATA, 9, 2, 9, NULL);
	ub_frame(&s, PFS_DIGEST, 32, 2, 0, NULL);
	ub_frame(&s, PFS_END, 40, 3, 2 * CS + 9, NULL);
	ub_bytes(&want, s.p, s.len);
	ub_index(&want);
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		int fd = tmp_fd();

		assert_int_equal(pfs_writer_init(&w, fd, "out"), 0);
		assert_int_equal(pfs_writer_sig(&w, &e), 0);
		write_raw_pieces(&w, s.p + PFS_SIG_LEN, s.len - PFS_SIG_LEN,
		                 pieces[i]);
		assert_int_equal(pfs_writer_flush(&w, &e), 0);
		pfs_writer_free(&w);
		slurp(fd, &got);
		close(fd);
		if (got.len != want.len || memcmp(got.p, want.p, want.len))
			fail_msg("pieces of %zu bytes: %zu bytes written, "
			         "%zu expected, or other bytes", pieces[i],
			         got.len, want.len);
		assert_int_equal(ub_read(got.p, got.len, &e, NULL), 0);
	}
	pfs_buf_free(&s);
	pfs_buf_free(&want);
	pfs_buf_free(&got);
}

/* a range stream's INDEX frame: raw = its first chunk; an empty stream's:
 * no offsets but END's, raw 0 */
static void
test_writer_index_first_chunk(void **state)
{
	struct pfs_buf s = PFS_BUF_INIT, want = PFS_BUF_INIT,
	               got = PFS_BUF_INIT;
	struct pfs_writer w;
	struct pfs_err e;
	int fd;

	(void)state;
	for (int empty = 0; empty < 2; empty++) {
		s.len = want.len = 0;
		if (empty) {
			ub_start(&s, CS);
			ub_frame(&s, PFS_END, 0, 0, 0, NULL);
		} else {
			range_start(&s, 5 * CS + 1, 5 * CS + 2, CS);
			ub_frame(&s, PFS_DATA, CS - 1, 5, CS - 1, NULL);
			ub_frame(&s, PFS_DATA, 2, 6, 2, NULL);
			range_end(&s, 2, CS + 1);
		}
		ub_bytes(&want, s.p, s.len);
		ub_index(&want);
		fd = tmp_fd();
		assert_int_equal(pfs_writer_init(&w, fd, "out"), 0);
		assert_int_equal(pfs_writer_sig(&w, &e), 0);
		assert_int_equal(pfs_writer_raw(&w, s.p + PFS_SIG_LEN,
		                                s.len - PFS_SIG_LEN, &e), 0);
		assert_int_equal(pfs_writer_flush(&w, &e), 0);
		pfs_writer_free(&w);
		slurp(fd, &got);
		close(fd);
		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.p, want.p, want.len);
		/* INDEX: seq and raw */
		assert_int_equal(pfs_get64(got.p + s.len + 8), empty ? 0 : 2);
		assert_int_equal(pfs_get64(got.p + s.len + 16), empty ? 0 : 5);
		if (ub_read(got.p, got.len, &e, NULL) != 0)
			fail_msg("%s", e.msg);
	}
	pfs_buf_free(&s);
	pfs_buf_free(&want);
	pfs_buf_free(&got);
}

/* --- pfs_index_load: the index of a stream file --- */

#define DAMAGED "in: the index at the end of the stream is damaged (the " \
	"stream can still be read whole, without --range)"

/* five chunks (4 whole, 1 of 100 bytes) with DIGEST frames, END with a
 * trailer, INDEX; off[0..5]: the offsets of the DATA frames and END;
 * returns the offset of the INDEX frame.  Chunk k's payload bytes are all
 * 'a' + k. */
static size_t
five_chunks(struct pfs_buf *b, uint64_t off[6])
{
	uint8_t p[CS];

	start_with(b, PFS_STAGE_HASH, CS);
	for (unsigned k = 0; k < 5; k++) {
		uint32_t n = k < 4 ? CS : 100;
		memset(p, 'a' + k, n);
		off[k] = ub_frame(b, PFS_DATA, n, k, n, p);
		ub_frame(b, PFS_DIGEST, 32, k, 0, NULL);
	}
	off[5] = ub_frame(b, PFS_END, 34, 5, 4 * CS + 100, NULL);
	return ub_index(b);
}

static int
load(const struct pfs_buf *b, struct pfs_index *ix, struct pfs_err *e)
{
	int fd = ub_fd(b->p, b->len), rc;

	e->msg[0] = '\0';
	rc = pfs_index_load(fd, b->len, "in", ix, e);
	/* pread: the file offset has not moved */
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
	close(fd);
	return rc;
}

static void
test_index_load_good(void **state)
{
	struct pfs_buf b = PFS_BUF_INIT;
	struct pfs_index ix;
	struct pfs_err e;
	uint64_t off[6];

	(void)state;
	five_chunks(&b, off);
	if (load(&b, &ix, &e) != 1)
		fail_msg("no index loaded: '%s'", e.msg);
	assert_int_equal(ix.first, 0);
	assert_int_equal(ix.n, 5);
	for (unsigned i = 0; i <= 5; i++)
		assert_int_equal(ix.off[i], off[i]);
	assert_int_equal(ix.end_raw, 4 * CS + 100);
	assert_int_equal(ix.end_seq, 5);
	assert_int_equal(ix.end_flags, 0);
	/* the tail, the INDEX frame and END's header */
	assert_int_equal(ix.bytes_read, 8 + 2 * PFS_HDR_LEN + 6 * 8 +
	                 PFS_INDEX_TAIL);
	pfs_index_free(&ix);
	assert_null(ix.off);
	pfs_buf_free(&b);
}

static void
test_index_load_range_stream(void **state)
{
	struct pfs_buf b = PFS_BUF_INIT;
	struct pfs_index ix;
	struct pfs_err e;

	(void)state;
	b_range(&b);
	if (load(&b, &ix, &e) != 1)
		fail_msg("no index loaded: '%s'", e.msg);
	assert_int_equal(ix.first, 1);
	assert_int_equal(ix.n, 2);
	assert_int_equal(ix.end_raw, CS + 100);
	assert_int_equal(ix.end_seq, 2);
	assert_int_equal(ix.end_flags, PFS_EF_RANGE);
	assert_int_equal(b.p[ix.off[0]], PFS_DATA);
	assert_int_equal(pfs_get64(b.p + ix.off[0] + 8), 1);
	assert_int_equal(b.p[ix.off[2]], PFS_END);
	pfs_index_free(&ix);
	pfs_buf_free(&b);
}

static void
test_index_load_no_index(void **state)
{
	struct pfs_buf b = PFS_BUF_INIT;
	struct pfs_index ix;
	struct pfs_err e;
	uint64_t off[6];
	size_t at;

	(void)state;
	at = five_chunks(&b, off);
	b.len = at;                     /* ends with END */
	assert_int_equal(load(&b, &ix, &e), 0);
	assert_null(ix.off);
	b.len = at + 50;                /* cut in the INDEX frame */
	assert_int_equal(load(&b, &ix, &e), 0);
	b.len = 20;                     /* shorter than any index */
	assert_int_equal(load(&b, &ix, &e), 0);
	b.len = 0;
	assert_int_equal(load(&b, &ix, &e), 0);
	pfs_buf_free(&b);
}

/* one damage to the index of five_chunks() each */
enum idamage {
	ID_XXH64, ID_OFFSET_REHASHED, ID_NOT_GROWING, ID_END_AT_DATA,
	ID_END_PAST_INDEX, ID_TAIL_LEN, ID_TAIL_LEN_HUGE, ID_HDR_CHECKSUM,
	ID_HDR_TYPE, ID_HDR_SEQ, ID_END_HDR, ID_N
};

static void
test_index_load_damaged(void **state)
{
	struct pfs_buf b = PFS_BUF_INIT;
	struct pfs_index ix;
	struct pfs_err e;
	uint64_t off[6];

	(void)state;
	for (int d = 0; d < ID_N; d++) {
		size_t at;
		uint8_t *p;

		b.len = 0;
		at = five_chunks(&b, off);
		p = b.p + at + PFS_HDR_LEN;
		switch (d) {
		case ID_XXH64:
			p[6 * 8] ^= 0x40;
			break;
		case ID_OFFSET_REHASHED:     /* chunk 2 moved: found when used */
			edit_index(&b, at, 2 * 8, off[2] + 1, 1);
			/* still a plausible index: load trusts it */
			assert_int_equal(load(&b, &ix, &e), 1);
			pfs_index_free(&ix);
			continue;
		case ID_NOT_GROWING:
			edit_index(&b, at, 2 * 8, off[1] + PFS_HDR_LEN - 1, 1);
			break;
		case ID_END_AT_DATA:
			edit_index(&b, at, 5 * 8, off[4], 0);
			edit_index(&b, at, 4 * 8, off[3] + PFS_HDR_LEN, 1);
			break;
		case ID_END_PAST_INDEX:
			edit_index(&b, at, 5 * 8, at, 1);
			break;
		case ID_TAIL_LEN:
			pfs_put32(b.p + b.len - 8, 6 * 8 + PFS_INDEX_TAIL - 8);
			break;
		case ID_TAIL_LEN_HUGE:
			pfs_put32(b.p + b.len - 8, UINT32_MAX);
			break;
		case ID_HDR_CHECKSUM:
			b.p[at + 9] ^= 0x01;
			break;
		case ID_HDR_TYPE:
			b.p[at] = PFS_END;
			ub_hdr_fix(b.p + at);
			break;
		case ID_HDR_SEQ:
			pfs_put64(b.p + at + 8, 4);
			ub_hdr_fix(b.p + at);
			break;
		case ID_END_HDR:
			b.p[off[5] + 8] ^= 0x01;  /* END's header checksum */
			break;
		}
		if (load(&b, &ix, &e) != -1)
			fail_msg("damage %d: index accepted", d);
		assert_string_equal(e.msg, DAMAGED);
		assert_null(ix.off);
	}
	pfs_buf_free(&b);
}

/* --- pfs_reader_extract: chunks a..b of a stream file --- */

/* read chunks from..to of five_chunks() as the engine's --range does:
 * HEAD, index, the range made up, the reader moved; then every frame */
static void
extract_and_check(uint64_t from, uint64_t to)
{
	struct pfs_buf b = PFS_BUF_INIT, pl = PFS_BUF_INIT;
	struct pfs_reader r;
	struct pfs_head head;
	struct pfs_index ix;
	struct pfs_hdr h;
	struct pfs_err e;
	uint64_t off[6], raw = 0, last;
	int fd;

	five_chunks(&b, off);
	fd = ub_fd(b.p, b.len);
	pfs_reader_init(&r, fd, "in");
	assert_int_equal(pfs_reader_start(&r, &head, &e), 0);
	assert_int_equal(pfs_index_load(fd, b.len, "in", &ix, &e), 1);
	last = to < 4 ? CS : 100;
	if (pfs_head_set_range(&head, from * CS, from * CS + 1,
	                       (to - from) * CS + last - 1, &e) < 0)
		fail_msg("%s", e.msg);
	if (pfs_reader_extract(&r, &ix, from, to, &e) < 0)
		fail_msg("%s", e.msg);
	pfs_reader_range(&r, &head);
	for (uint64_t k = from; k <= to; k++) {
		uint32_t n = k < 4 ? CS : 100;
		assert_int_equal(pfs_reader_next(&r, &h, &pl, &e), 1);
		assert_int_equal(h.type, PFS_DATA);
		assert_int_equal(h.seq, k);
		assert_int_equal(h.raw, n);
		assert_int_equal(pl.len, n);
		for (uint32_t i = 0; i < n; i++)
			if (pl.p[i] != 'a' + k)
				fail_msg("chunk %u: byte %u", (unsigned)k, i);
		assert_int_equal(pfs_reader_next(&r, &h, &pl, &e), 1);
		assert_int_equal(h.type, PFS_DIGEST);
		assert_int_equal(h.seq, k);
		raw += n;
	}
	/* the made-up END: range flag, empty, the totals of the range */
	if (pfs_reader_next(&r, &h, &pl, &e) != 1)
		fail_msg("%s", e.msg);
	assert_int_equal(h.type, PFS_END);
	assert_int_equal(h.flags, PFS_EF_RANGE);
	assert_int_equal(h.len, 0);
	assert_int_equal(h.seq, to - from + 1);
	assert_int_equal(h.raw, raw);
	assert_int_equal(pfs_reader_next(&r, &h, &pl, &e), 0);
	assert_int_equal(pfs_reader_next(&r, &h, &pl, &e), 0);
	pfs_index_free(&ix);
	pfs_reader_free(&r);
	pfs_buf_free(&pl);
	pfs_buf_free(&b);
	close(fd);
}

static void test_extract_middle(void **state) { (void)state; extract_and_check(1, 2); }
static void test_extract_first(void **state) { (void)state; extract_and_check(0, 0); }
static void test_extract_last(void **state) { (void)state; extract_and_check(4, 4); }
static void test_extract_all(void **state) { (void)state; extract_and_check(0, 4); }

static void
test_extract_refuses_chunks_not_in_the_stream(void **state)
{
	static const uint64_t cases[][2] = { { 5, 5 }, { 3, 5 }, { 2, 1 } };
	struct pfs_buf b = PFS_BUF_INIT;
	struct pfs_reader r;
	struct pfs_head head;
	struct pfs_index ix;
	struct pfs_err e;
	uint64_t off[6];
	char want[64];
	int fd;

	(void)state;
	five_chunks(&b, off);
	fd = ub_fd(b.p, b.len);
	pfs_reader_init(&r, fd, "in");
	assert_int_equal(pfs_reader_start(&r, &head, &e), 0);
	assert_int_equal(pfs_index_load(fd, b.len, "in", &ix, &e), 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(pfs_reader_extract(&r, &ix, cases[i][0],
		                                    cases[i][1], &e), -1);
		snprintf(want, sizeof(want), "in: chunks %u..%u are not in the "
		         "stream", (unsigned)cases[i][0], (unsigned)cases[i][1]);
		assert_string_equal(e.msg, want);
	}
	pfs_index_free(&ix);
	pfs_reader_free(&r);
	pfs_buf_free(&b);
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
		cmocka_unit_test(test_hdr_decode_end_range_flag_only),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_reader_truncated_at_every_byte),
		cmocka_unit_test(test_reader_truncated_in_the_index_payload),
		cmocka_unit_test(test_reader_pipe_in_small_pieces),
		cmocka_unit_test(test_reader_set_cap),
		cmocka_unit_test(test_reader_stays_at_end),
		cmocka_unit_test(test_reader_short_huge_payload_reserves_little),
		cmocka_unit_test(test_writer_reader_round_trip),
		cmocka_unit_test(test_writer_index_follows_the_frames),
		cmocka_unit_test(test_writer_index_first_chunk),
		cmocka_unit_test(test_index_load_good),
		cmocka_unit_test(test_index_load_range_stream),
		cmocka_unit_test(test_index_load_no_index),
		cmocka_unit_test(test_index_load_damaged),
		cmocka_unit_test(test_extract_middle),
		cmocka_unit_test(test_extract_first),
		cmocka_unit_test(test_extract_last),
		cmocka_unit_test(test_extract_all),
		cmocka_unit_test(test_extract_refuses_chunks_not_in_the_stream),
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
