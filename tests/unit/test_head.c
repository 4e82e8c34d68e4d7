/*
 * test_head - common/head.c: the HEAD payload (docs/format.md, "HEAD
 * payload").  The encoding is canonical: pfs_head_decode() accepts exactly
 * the bytes pfs_head_encode() produces for the value it decodes; every rule
 * of head.h and format.md has a case that breaks it alone.  Then the stage
 * stack (push, pop, top, cap and the cap below), names and the messages
 * built from records.
 * Range streams (flag bit 2): the 24 bytes of range fields after the name
 * and every range the decoder and pfs_head_set_range refuse.
 */
#include <stdio.h>
#include <stdlib.h>

#include "stages.h"
#include "unit.h"
#include "wire.h"

/* --- helpers --- */

static void
encode(const struct pfs_head *h, struct pfs_buf *b)
{
	struct pfs_err e;

	if (pfs_head_encode(h, b, &e) < 0)
		fail_msg("encode: %s", e.msg);
}

static void
assert_head_equal(const struct pfs_head *a, const struct pfs_head *b)
{
	assert_int_equal(a->chunk_size, b->chunk_size);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->mtime_sec, b->mtime_sec);
	assert_int_equal(a->mtime_nsec, b->mtime_nsec);
	assert_int_equal(a->namelen, b->namelen);
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->rstart, b->rstart);
	assert_int_equal(a->rfirst, b->rfirst);
	assert_int_equal(a->rlen, b->rlen);
	assert_int_equal(a->nstages, b->nstages);
	for (unsigned i = 0; i < a->nstages; i++) {
		assert_int_equal(a->stages[i].kind, b->stages[i].kind);
		assert_int_equal(a->stages[i].cap, b->stages[i].cap);
		assert_int_equal(a->stages[i].len, b->stages[i].len);
		assert_memory_equal(a->stages[i].params, b->stages[i].params,
		                    a->stages[i].len);
	}
}

/* decode(encode(h)) == h and encode(decode(bytes)) == bytes */
static void
round_trip(const struct pfs_head *h)
{
	struct pfs_buf b = PFS_BUF_INIT, b2 = PFS_BUF_INIT;
	struct pfs_head d;
	struct pfs_err e;

	encode(h, &b);
	if (pfs_head_decode(b.p, b.len, &d, &e) < 0)
		fail_msg("decode: %s", e.msg);
	assert_head_equal(h, &d);
	encode(&d, &b2);
	assert_int_equal(b2.len, b.len);
	assert_memory_equal(b2.p, b.p, b.len);
	pfs_buf_free(&b);
	pfs_buf_free(&b2);
}

/* the base value of most cases; its encoding is 62 bytes:
 *   0 chunk  4 flags  8 size  16 mode  20 nsec  24 sec  32 namelen
 *   34 "file.bin"  42 nstages
 *   43 COMPRESS record: kind, reserved, len 2 @45, cap 70000 @47, {1,3}
 *   53 HASH record:     kind, reserved, len 1 @55, cap 70000 @57, {1} */
static void
base(struct pfs_head *h)
{
	static const uint8_t zstd3[2] = { PFS_C_ZSTD, 3 };
	static const uint8_t sha256[1] = { PFS_H_SHA256 };

	pfs_head_init(h, 65536);
	h->flags = PFS_HF_SIZE | PFS_HF_META;    /* all but the range flag */
	h->size = 12345;
	h->mode = 0644;
	h->mtime_sec = 1700000000;
	h->mtime_nsec = 500000000;
	assert_int_equal(pfs_head_set_name(h, "/tmp/file.bin"), 0);
	assert_int_equal(pfs_head_push(h, PFS_STAGE_COMPRESS, zstd3, 2, 70000,
	                               NULL), 0);
	assert_int_equal(pfs_head_push(h, PFS_STAGE_HASH, sha256, 1, 70000,
	                               NULL), 0);
}

/* the params of each record of the largest HEAD: 16 of them fill what a
 * 255-byte name leaves of PFS_HEAD_MAX (one record may be longer, up to
 * PFS_STAGE_PARAMS_MAX, but not all 16) */
#define BIG_LEN ((PFS_HEAD_MAX - 34 - PFS_NAME_MAX - 1) / PFS_STAGES_MAX - 8)

/* the largest HEAD: 255-byte name, 16 records of BIG_LEN-byte params */
static void
biggest(struct pfs_head *h)
{
	uint8_t params[BIG_LEN];
	char name[PFS_NAME_MAX + 1];

	pfs_head_init(h, PFS_CHUNK_MAX);
	memset(name, 'n', PFS_NAME_MAX);
	name[PFS_NAME_MAX] = '\0';
	assert_int_equal(pfs_head_set_name(h, name), 0);
	for (unsigned i = 0; i < PFS_STAGES_MAX; i++) {
		for (size_t j = 0; j < sizeof(params); j++)
			params[j] = (uint8_t)(i + j);
		assert_int_equal(pfs_head_push(h, PFS_STAGE_COMPRESS, params,
		                               sizeof(params), PFS_PAYLOAD_MAX,
		                               NULL), 0);
	}
}

/* --- round trips --- */

static void
test_golden_bytes(void **state)
{
	static const uint8_t want[62] = {
		0x00, 0x00, 0x01, 0x00,  0x03, 0x00, 0x00, 0x00,
		0x39, 0x30, 0, 0, 0, 0, 0, 0,
		0xa4, 0x01, 0x00, 0x00,  0x00, 0x65, 0xcd, 0x1d,
		0x00, 0xf1, 0x53, 0x65, 0, 0, 0, 0,
		0x08, 0x00, 'f', 'i', 'l', 'e', '.', 'b', 'i', 'n',
		0x02,
		0x01, 0x00, 0x02, 0x00, 0x70, 0x11, 0x01, 0x00, 0x01, 0x03,
		0x03, 0x00, 0x01, 0x00, 0x70, 0x11, 0x01, 0x00, 0x01
	};
	struct pfs_head h;
	struct pfs_buf b = PFS_BUF_INIT;

	(void)state;
	base(&h);
	encode(&h, &b);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.p, want, sizeof(want));
	pfs_buf_free(&b);
}

static void
test_round_trip_empty(void **state)
{
	struct pfs_head h;
	struct pfs_buf b = PFS_BUF_INIT;

	(void)state;
	pfs_head_init(&h, PFS_CHUNK_MIN);
	encode(&h, &b);
	assert_int_equal(b.len, 35);         /* 34 fixed + the record count */
	pfs_buf_free(&b);
	round_trip(&h);
}

static void
test_round_trip_base(void **state)
{
	struct pfs_head h;

	(void)state;
	base(&h);
	round_trip(&h);
}

static void
test_round_trip_biggest(void **state)
{
	struct pfs_head h;
	struct pfs_buf b = PFS_BUF_INIT;

	(void)state;
	biggest(&h);
	encode(&h, &b);
	assert_int_equal(b.len, 34 + PFS_NAME_MAX + 1 +
	                 PFS_STAGES_MAX * (8 + BIG_LEN));
	assert_true(b.len <= PFS_HEAD_MAX);
	pfs_buf_free(&b);
	round_trip(&h);
}

static void
test_round_trip_field_extremes(void **state)
{
	struct pfs_head h;

	(void)state;
	pfs_head_init(&h, PFS_CHUNK_MAX);
	h.flags = PFS_HF_SIZE | PFS_HF_META;
	h.size = UINT64_MAX;
	h.mode = 07777;
	h.mtime_sec = INT64_MIN;
	h.mtime_nsec = 999999999;
	round_trip(&h);
	h.mtime_sec = -1;
	round_trip(&h);
	h.mtime_sec = INT64_MAX;
	h.flags = PFS_HF_META;
	h.size = 0;
	round_trip(&h);
	h.flags = PFS_HF_SIZE;
	h.mode = 0;
	h.mtime_sec = 0;
	h.mtime_nsec = 0;
	round_trip(&h);
	/* the range fields at their extremes: the last byte of a source of
	 * UINT64_MAX bytes, from the start of its chunk */
	h.flags = PFS_HF_ALL;
	h.size = UINT64_MAX;
	h.rfirst = UINT64_MAX - 1;
	h.rlen = 1;
	h.rstart = h.rfirst / PFS_CHUNK_MAX * PFS_CHUNK_MAX;
	round_trip(&h);
	h.flags = PFS_HF_RANGE;          /* size unknown */
	h.size = 0;
	h.rstart = h.rfirst;
	round_trip(&h);
}

/* decoding accepts exactly what encoding produces: every single-byte
 * change of an encoding is either refused
 * or re-encodes to the changed bytes; every cut and every extra byte is
 * refused */
static void
canonical(const struct pfs_head *h)
{
	static const uint8_t masks[] = { 0x01, 0x02, 0x10, 0x80, 0xff };
	struct pfs_buf b = PFS_BUF_INIT, m = PFS_BUF_INIT, r = PFS_BUF_INIT;
	struct pfs_head d;
	struct pfs_err e;

	encode(h, &b);
	assert_int_equal(pfs_buf_reserve(&m, b.len + 1), 0);
	for (size_t i = 0; i < b.len; i++) {
		for (size_t k = 0; k < sizeof(masks); k++) {
			memcpy(m.p, b.p, b.len);
			m.p[i] ^= masks[k];
			if (pfs_head_decode(m.p, b.len, &d, &e) < 0)
				continue;
			encode(&d, &r);
			if (r.len != b.len || memcmp(r.p, m.p, b.len) != 0)
				fail_msg("byte %zu ^ 0x%02x: accepted but not "
				         "canonical", i, masks[k]);
		}
	}
	for (size_t len = 0; len < b.len; len++)
		if (pfs_head_decode(b.p, len, &d, &e) == 0)
			fail_msg("first %zu of %zu bytes accepted", len, b.len);
	memcpy(m.p, b.p, b.len);
	m.p[b.len] = 0;
	assert_int_equal(pfs_head_decode(m.p, b.len + 1, &d, &e), -1);
	assert_string_equal(e.msg, "1 trailing bytes");
	pfs_buf_free(&b);
	pfs_buf_free(&m);
	pfs_buf_free(&r);
}

static void
test_canonical_base(void **state)
{
	struct pfs_head h;

	(void)state;
	base(&h);
	canonical(&h);
}

static void
test_canonical_three_records(void **state)
{
	static const uint8_t aead[96] = { PFS_E_CHACHA20POLY1305, PFS_KDF_NONE };
	static const uint8_t lz4[2] = { PFS_C_LZ4, 0xff };
	static const uint8_t xxh[1] = { PFS_H_XXH64 };
	struct pfs_head h;

	(void)state;
	pfs_head_init(&h, 1u << 20);
	h.flags = PFS_HF_META;
	h.mode = 07777;
	h.mtime_sec = -86400;
	assert_int_equal(pfs_head_set_name(&h, "a name with spaces.tar"), 0);
	assert_int_equal(pfs_head_push(&h, PFS_STAGE_COMPRESS, lz4, 2,
	                               (1u << 20) + 4096, NULL), 0);
	assert_int_equal(pfs_head_push(&h, PFS_STAGE_ENCRYPT, aead, 96,
	                               (1u << 20) + 4112, NULL), 0);
	assert_int_equal(pfs_head_push(&h, PFS_STAGE_HASH, xxh, 1,
	                               (1u << 20) + 4112, NULL), 0);
	canonical(&h);
}

/* --- one rule broken at a time: a field of the base encoding changed --- */

struct mcase {
	const char *name;
	unsigned off, width;    /* little-endian field at off */
	uint64_t value;
	const char *msg;        /* exact */
};

static const struct mcase mcases[] = {
	{ "chunk_size_0", 0, 4, 0, "chunk size 0 outside 1024..268435456" },
	{ "chunk_size_min_minus_1", 0, 4, PFS_CHUNK_MIN - 1,
	  "chunk size 1023 outside 1024..268435456" },
	{ "chunk_size_max_plus_1", 0, 4, PFS_CHUNK_MAX + 1ull,
	  "chunk size 268435457 outside 1024..268435456" },
	{ "flags_unknown_bit", 4, 4, 0xb, "unknown flags 0xb" },
	{ "flags_top_bit", 4, 4, 0x80000003u, "unknown flags 0x80000003" },
	{ "size_without_flag", 4, 4, PFS_HF_META, "size set without its flag" },
	{ "mode_without_flag", 4, 4, PFS_HF_SIZE,
	  "mode/mtime set without their flag" },
	{ "mode_file_type_bits", 16, 4, 0100644, "invalid mode 0100644" },
	{ "mode_top_bit", 16, 4, 0x80000000u, "invalid mode 020000000000" },
	{ "nsec_one_second", 20, 4, 1000000000u, "invalid mtime nanoseconds" },
	{ "nsec_max", 20, 4, UINT32_MAX, "invalid mtime nanoseconds" },
	{ "name_len_256", 32, 2, PFS_NAME_MAX + 1, "invalid name length 256" },
	{ "name_len_past_end", 32, 2, 28, "invalid name length 28" },
	{ "name_len_max_u16", 32, 2, UINT16_MAX, "invalid name length 65535" },
	{ "name_slash", 36, 1, '/', "invalid source name" },
	{ "name_nul", 36, 1, 0, "invalid source name" },
	{ "stages_17", 42, 1, PFS_STAGES_MAX + 1, "17 stage records (at most 16)" },
	{ "stages_255", 42, 1, 255, "255 stage records (at most 16)" },
	{ "stages_more_than_present", 42, 1, 3, "stage record 2 cut short" },
	{ "stages_fewer_than_present", 42, 1, 1, "9 trailing bytes" },
	{ "stages_none_but_present", 42, 1, 0, "19 trailing bytes" },
	{ "record_kind_0", 43, 1, 0, "stage record 0: unknown kind 0" },
	{ "record_kind_4", 43, 1, 4, "stage record 0: unknown kind 4" },
	{ "record_kind_255", 53, 1, 255, "stage record 1: unknown kind 255" },
	/* the message names the kind although the reserved byte is wrong */
	{ "record_reserved", 44, 1, 1, "stage record 0: unknown kind 1" },
	{ "record_len_0", 45, 2, 0, "stage record 0: invalid length 0" },
	{ "record_len_4097", 45, 2, PFS_STAGE_PARAMS_MAX + 1,
	  "stage record 0: invalid length 4097" },
	{ "record_len_past_end", 55, 2, 2, "stage record 1: invalid length 2" },
	{ "record_cap_0", 47, 4, 0, "stage record 0: invalid payload cap 0" },
	{ "record_cap_max_plus_1", 47, 4, PFS_PAYLOAD_MAX + 1ull,
	  "stage record 0: invalid payload cap 285278209" },
	{ "hash_record_cap_differs", 57, 4, 69999, "stage record 1: hash "
	  "record with payload cap 69999, not that of the record below "
	  "(70000)" },
};

#define NMCASES (sizeof(mcases) / sizeof(mcases[0]))

static void
test_decode_rejects(void **state)
{
	const struct mcase *c = *state;
	struct pfs_head h, d;
	struct pfs_buf b = PFS_BUF_INIT;
	struct pfs_err e;

	base(&h);
	encode(&h, &b);
	assert_int_equal(b.len, 62);
	assert_true(c->off + c->width <= b.len);
	for (unsigned i = 0; i < c->width; i++)
		b.p[c->off + i] = (uint8_t)(c->value >> (8 * i));
	if (pfs_head_decode(b.p, b.len, &d, &e) != -1)
		fail_msg("%s: accepted", c->name);
	assert_string_equal(e.msg, c->msg);
	pfs_buf_free(&b);
}

/* --- rules that need a differently built value --- */

static void
expect_refused(const struct pfs_head *h, const char *msg)
{
	struct pfs_buf b = PFS_BUF_INIT;
	struct pfs_head d;
	struct pfs_err e;

	encode(h, &b);
	assert_int_equal(pfs_head_decode(b.p, b.len, &d, &e), -1);
	assert_string_equal(e.msg, msg);
	pfs_buf_free(&b);
}

static void
test_decode_rejects_too_short(void **state)
{
	struct pfs_head h, d;
	struct pfs_buf b = PFS_BUF_INIT;
	struct pfs_err e;

	(void)state;
	pfs_head_init(&h, PFS_CHUNK_MIN);
	encode(&h, &b);
	assert_int_equal(pfs_head_decode(b.p, 34, &d, &e), -1);
	assert_string_equal(e.msg, "too short (34 bytes)");
	assert_int_equal(pfs_head_decode(b.p, 0, &d, &e), -1);
	assert_string_equal(e.msg, "too short (0 bytes)");
	pfs_buf_free(&b);
}

static void
test_decode_rejects_dot_names(void **state)
{
	struct pfs_head h;

	(void)state;
	pfs_head_init(&h, PFS_CHUNK_MIN);
	h.namelen = 1;
	strcpy(h.name, ".");
	expect_refused(&h, "invalid source name");
	h.namelen = 2;
	strcpy(h.name, "..");
	expect_refused(&h, "invalid source name");
	strcpy(h.name, ".a");        /* only "." and ".." themselves */
	round_trip(&h);
}

static void
test_decode_rejects_first_hash_cap_not_chunk(void **state)
{
	struct pfs_head h;
	uint8_t id = PFS_H_XXH3;

	(void)state;
	pfs_head_init(&h, 65536);
	assert_int_equal(pfs_head_push(&h, PFS_STAGE_HASH, &id, 1, 65537,
	                               NULL), 0);
	expect_refused(&h, "stage record 0: hash record with payload cap "
	               "65537, not that of the record below (65536)");
	h.stages[0].cap = 65536;
	round_trip(&h);
}

/* --- range streams --- */

/* base() as a range stream: 1000 bytes from byte 200, its chunk from 100 */
static void
base_range(struct pfs_head *h)
{
	struct pfs_err e;

	base(h);
	if (pfs_head_set_range(h, 100, 200, 1000, &e) < 0)
		fail_msg("pfs_head_set_range: %s", e.msg);
}

/* base()'s 62 bytes with flag bit 2 and the 24 bytes of range fields
 * between the name and the record count */
static void
test_golden_bytes_range(void **state)
{
	static const uint8_t want[86] = {
		0x00, 0x00, 0x01, 0x00,  0x07, 0x00, 0x00, 0x00,
		0x39, 0x30, 0, 0, 0, 0, 0, 0,
		0xa4, 0x01, 0x00, 0x00,  0x00, 0x65, 0xcd, 0x1d,
		0x00, 0xf1, 0x53, 0x65, 0, 0, 0, 0,
		0x08, 0x00, 'f', 'i', 'l', 'e', '.', 'b', 'i', 'n',
		0x64, 0, 0, 0, 0, 0, 0, 0,          /* start 100 */
		0xc8, 0, 0, 0, 0, 0, 0, 0,          /* first 200 */
		0xe8, 0x03, 0, 0, 0, 0, 0, 0,       /* length 1000 */
		0x02,
		0x01, 0x00, 0x02, 0x00, 0x70, 0x11, 0x01, 0x00, 0x01, 0x03,
		0x03, 0x00, 0x01, 0x00, 0x70, 0x11, 0x01, 0x00, 0x01
	};
	struct pfs_head h;
	struct pfs_buf b = PFS_BUF_INIT;

	(void)state;
	base_range(&h);
	assert_int_equal(h.flags, PFS_HF_ALL);
	encode(&h, &b);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.p, want, sizeof(want));
	pfs_buf_free(&b);
}

static void
test_round_trip_range(void **state)
{
	struct pfs_head h;

	(void)state;
	base_range(&h);
	round_trip(&h);
	/* the range up to the last byte of the known size */
	h.rstart = h.rfirst = 12000;
	h.rlen = 345;
	round_trip(&h);
	/* a range without a known size, whole chunks from chunk 3 */
	pfs_head_init(&h, PFS_CHUNK_MIN);
	assert_int_equal(pfs_head_set_range(&h, 3 * PFS_CHUNK_MIN,
	                                    3 * PFS_CHUNK_MIN,
	                                    UINT64_MAX - 3 * PFS_CHUNK_MIN,
	                                    NULL), 0);
	round_trip(&h);
}

static void
test_canonical_range(void **state)
{
	struct pfs_head h;

	(void)state;
	base_range(&h);
	canonical(&h);
}

/* range_cut is not on the wire: it never changes the bytes, and a decoded
 * HEAD has it 0 */
static void
test_range_cut_not_encoded(void **state)
{
	struct pfs_head h, d;
	struct pfs_buf b = PFS_BUF_INIT, b2 = PFS_BUF_INIT;
	struct pfs_err e;

	(void)state;
	base_range(&h);
	encode(&h, &b);
	h.range_cut = 1;
	encode(&h, &b2);
	assert_int_equal(b2.len, b.len);
	assert_memory_equal(b2.p, b.p, b.len);
	assert_int_equal(pfs_head_decode(b2.p, b2.len, &d, &e), 0);
	assert_int_equal(d.range_cut, 0);
	pfs_buf_free(&b);
	pfs_buf_free(&b2);
}

static void
test_first_chunk(void **state)
{
	struct pfs_head h;

	(void)state;
	pfs_head_init(&h, 4096);
	assert_int_equal(pfs_head_first_chunk(&h), 0);
	h.rstart = 3 * 4096;             /* ignored without the flag */
	assert_int_equal(pfs_head_first_chunk(&h), 0);
	assert_int_equal(pfs_head_set_range(&h, 3 * 4096 + 7, 3 * 4096 + 9,
	                                    1, NULL), 0);
	assert_int_equal(pfs_head_first_chunk(&h), 3);
	assert_int_equal(pfs_head_set_range(&h, 4095, 4095, 1, NULL), 0);
	assert_int_equal(pfs_head_first_chunk(&h), 0);
}

/* every range head.c refuses, through the decoder and through
 * pfs_head_set_range; base() has chunk size 65536 and size 12345 */
struct rrcase {
	const char *name;
	uint32_t flags;          /* base()'s flags, or without PFS_HF_SIZE */
	uint64_t start, first, len;
	const char *msg;         /* exact */
};

#define SZ_META (PFS_HF_SIZE | PFS_HF_META)

static const struct rrcase rrcases[] = {
	{ "empty", SZ_META, 100, 100, 0, "invalid range (0 bytes at 100)" },
	{ "empty_size_unknown", PFS_HF_META, 0, 0, 0,
	  "invalid range (0 bytes at 0)" },
	{ "overflow", PFS_HF_META, UINT64_MAX - 5, UINT64_MAX - 5, 10,
	  "invalid range (10 bytes at 18446744073709551610)" },
	{ "overflow_by_one", PFS_HF_META, UINT64_MAX, UINT64_MAX, 1,
	  "invalid range (1 bytes at 18446744073709551615)" },
	{ "start_after_first", SZ_META, 201, 200, 10,
	  "invalid range start 201 for byte 200" },
	{ "start_in_the_chunk_before", PFS_HF_META, 65535, 65536, 10,
	  "invalid range start 65535 for byte 65536" },
	{ "start_chunks_before", PFS_HF_META, 0, 3 * 65536 + 5, 10,
	  "invalid range start 0 for byte 196613" },
	{ "past_size", SZ_META, 12000, 12000, 346,
	  "range 12000+346 ends past the source size 12345" },
	{ "past_size_first", SZ_META, 12345, 12345, 1,
	  "range 12345+1 ends past the source size 12345" },
};

#define NRRCASES (sizeof(rrcases) / sizeof(rrcases[0]))

static void
test_range_rejects(void **state)
{
	const struct rrcase *c = *state;
	struct pfs_head h, keep, d;
	struct pfs_buf b = PFS_BUF_INIT;
	struct pfs_err e;

	base(&h);
	h.flags = c->flags;
	if (!(h.flags & PFS_HF_SIZE))
		h.size = 0;
	/* pfs_head_set_range refuses it and leaves h as it was */
	keep = h;
	assert_int_equal(pfs_head_set_range(&h, c->start, c->first, c->len,
	                                    &e), -1);
	assert_string_equal(e.msg, c->msg);
	assert_int_equal(h.flags, c->flags);
	assert_head_equal(&h, &keep);
	/* the decoder refuses its encoding */
	h.flags |= PFS_HF_RANGE;
	h.rstart = c->start;
	h.rfirst = c->first;
	h.rlen = c->len;
	encode(&h, &b);
	assert_int_equal(b.len, 86);
	if (pfs_head_decode(b.p, b.len, &d, &e) != -1)
		fail_msg("%s: accepted", c->name);
	assert_string_equal(e.msg, c->msg);
	pfs_buf_free(&b);
}

/* the range fields cut short: the flag says they follow the name, but the
 * payload ends before them and the record count */
static void
test_range_rejects_cut_short(void **state)
{
	struct pfs_head h, d;
	struct pfs_buf b = PFS_BUF_INIT;
	struct pfs_err e;

	(void)state;
	pfs_head_init(&h, PFS_CHUNK_MIN);
	assert_int_equal(pfs_head_set_name(&h, "n"), 0);
	assert_int_equal(pfs_head_set_range(&h, 5, 6, 7, NULL), 0);
	encode(&h, &b);
	assert_int_equal(b.len, 34 + 1 + 24 + 1);
	for (size_t len = 34 + 1 + 1; len <= 34 + 1 + 24; len++) {
		assert_int_equal(pfs_head_decode(b.p, len, &d, &e), -1);
		assert_string_equal(e.msg, "range fields cut short");
	}
	/* the flag set on a HEAD that has no range fields at all */
	pfs_head_init(&h, PFS_CHUNK_MIN);
	assert_int_equal(pfs_head_set_name(&h, "n"), 0);
	encode(&h, &b);
	b.p[4] |= PFS_HF_RANGE;
	assert_int_equal(pfs_head_decode(b.p, b.len, &d, &e), -1);
	assert_string_equal(e.msg, "range fields cut short");
	pfs_buf_free(&b);
}

/* --- the stack --- */

static void
test_stack_push_pop_top_cap(void **state)
{
	struct pfs_head h;
	struct pfs_err e;
	const struct pfs_stage *s;
	uint8_t p[2] = { PFS_C_LZ4, 1 };

	(void)state;
	pfs_head_init(&h, 4096);
	assert_null(pfs_head_top(&h));
	assert_int_equal(pfs_head_cap(&h), 4096);
	assert_int_equal(pfs_head_only_hashes(&h), 1);

	assert_int_equal(pfs_head_push(&h, PFS_STAGE_COMPRESS, p, 2, 5000, &e), 0);
	s = pfs_head_top(&h);
	assert_non_null(s);
	assert_int_equal(s->kind, PFS_STAGE_COMPRESS);
	assert_int_equal(s->len, 2);
	assert_memory_equal(s->params, p, 2);
	assert_int_equal(pfs_head_cap(&h), 5000);
	assert_int_equal(pfs_head_only_hashes(&h), 0);

	p[0] = PFS_H_SHA512;
	assert_int_equal(pfs_head_push(&h, PFS_STAGE_HASH, p, 1, 5000, &e), 0);
	assert_int_equal(h.nstages, 2);
	assert_int_equal(pfs_head_top(&h)->kind, PFS_STAGE_HASH);

	pfs_head_pop(&h);
	assert_int_equal(h.nstages, 1);
	assert_int_equal(pfs_head_top(&h)->kind, PFS_STAGE_COMPRESS);
	pfs_head_pop(&h);
	assert_null(pfs_head_top(&h));
	assert_int_equal(pfs_head_cap(&h), 4096);
	pfs_head_pop(&h);                 /* harmless on an empty stack */
	assert_int_equal(h.nstages, 0);
}

static void
test_stack_cap_below(void **state)
{
	struct pfs_head h;
	uint8_t p[2] = { PFS_C_LZ4, 1 };

	(void)state;
	pfs_head_init(&h, 4096);
	assert_int_equal(pfs_head_cap_below(&h), 4096);     /* empty stack */
	assert_int_equal(pfs_head_push(&h, PFS_STAGE_COMPRESS, p, 2, 5000,
	                               NULL), 0);
	assert_int_equal(pfs_head_cap_below(&h), 4096);     /* one record */
	p[0] = PFS_H_SHA512;
	assert_int_equal(pfs_head_push(&h, PFS_STAGE_HASH, p, 1, 5000, NULL), 0);
	assert_int_equal(pfs_head_push(&h, PFS_STAGE_ENCRYPT, p, 1, 5016,
	                               NULL), 0);
	assert_int_equal(pfs_head_cap_below(&h), 5000);
	assert_int_equal(h.nstages, 3);                     /* nothing popped */
	assert_int_equal(pfs_head_cap(&h), 5016);
	/* what pfs_head_cap gives once the top is popped */
	pfs_head_pop(&h);
	assert_int_equal(pfs_head_cap(&h), 5000);
	assert_int_equal(pfs_head_cap_below(&h), 5000);
	pfs_head_pop(&h);
	assert_int_equal(pfs_head_cap_below(&h), 4096);
}

static void
test_stack_only_hashes(void **state)
{
	struct pfs_head h;
	uint8_t id = 1;

	(void)state;
	pfs_head_init(&h, 4096);
	assert_int_equal(pfs_head_push(&h, PFS_STAGE_HASH, &id, 1, 4096, NULL), 0);
	assert_int_equal(pfs_head_push(&h, PFS_STAGE_HASH, &id, 1, 4096, NULL), 0);
	assert_int_equal(pfs_head_only_hashes(&h), 1);
	assert_int_equal(pfs_head_push(&h, PFS_STAGE_ENCRYPT, &id, 1, 4112,
	                               NULL), 0);
	assert_int_equal(pfs_head_only_hashes(&h), 0);
	pfs_head_pop(&h);
	assert_int_equal(pfs_head_only_hashes(&h), 1);
}

static void
test_stack_cap_16(void **state)
{
	struct pfs_head h;
	struct pfs_err e;
	uint8_t id = 1;

	(void)state;
	pfs_head_init(&h, 4096);
	for (unsigned i = 0; i < PFS_STAGES_MAX; i++)
		assert_int_equal(pfs_head_push(&h, PFS_STAGE_HASH, &id, 1, 4096,
		                               &e), 0);
	assert_int_equal(pfs_head_push(&h, PFS_STAGE_HASH, &id, 1, 4096, &e), -1);
	assert_string_equal(e.msg, "the stream already has 16 stage records "
	                    "(the limit)");
	assert_int_equal(h.nstages, PFS_STAGES_MAX);
	round_trip(&h);
}

static void
test_stack_push_refuses_bad_records(void **state)
{
	struct pfs_head h;
	struct pfs_err e;
	uint8_t params[PFS_STAGE_PARAMS_MAX + 1] = { 1 };

	(void)state;
	pfs_head_init(&h, 4096);
	assert_int_equal(pfs_head_push(&h, PFS_STAGE_COMPRESS, params, 0, 4096,
	                               &e), -1);
	assert_string_equal(e.msg, "stage record of 0 bytes");
	assert_int_equal(pfs_head_push(&h, PFS_STAGE_COMPRESS, params,
	                               sizeof(params), 4096, &e), -1);
	assert_string_equal(e.msg, "stage record of 4097 bytes");
	assert_int_equal(pfs_head_push(&h, PFS_STAGE_COMPRESS, params, 1,
	                               PFS_PAYLOAD_MAX + 1u, &e), -1);
	assert_string_equal(e.msg, "payloads would grow past the format's "
	                    "limit of 285278208 bytes");
	assert_int_equal(h.nstages, 0);          /* nothing was pushed */
	assert_int_equal(pfs_head_push(&h, PFS_STAGE_COMPRESS, params,
	                               PFS_STAGE_PARAMS_MAX, PFS_PAYLOAD_MAX,
	                               &e), 0);
	round_trip(&h);
}

/* --- names --- */

static void
test_set_name(void **state)
{
	struct pfs_head h;
	char longname[400];

	(void)state;
	pfs_head_init(&h, 4096);
	assert_int_equal(pfs_head_set_name(&h, "/a/b/c.txt"), 0);
	assert_string_equal(h.name, "c.txt");
	assert_int_equal(h.namelen, 5);
	assert_int_equal(pfs_head_set_name(&h, "plain"), 0);
	assert_string_equal(h.name, "plain");
	assert_int_equal(pfs_head_set_name(&h, ".hidden"), 0);
	assert_string_equal(h.name, ".hidden");
	assert_int_equal(pfs_head_set_name(&h, ""), -1);
	assert_int_equal(pfs_head_set_name(&h, "dir/"), -1);
	assert_int_equal(pfs_head_set_name(&h, "/"), -1);
	assert_int_equal(pfs_head_set_name(&h, "."), -1);
	assert_int_equal(pfs_head_set_name(&h, ".."), -1);
	assert_int_equal(pfs_head_set_name(&h, "a/.."), -1);
	assert_string_equal(h.name, ".hidden");  /* a refusal changes nothing */

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	longname[0] = '/';
	assert_int_equal(pfs_head_set_name(&h, longname), 0);
	assert_int_equal(h.namelen, PFS_NAME_MAX);
	assert_int_equal(strlen(h.name), PFS_NAME_MAX);
	round_trip(&h);
}

/* --- descriptions of records --- */

static void
describe(uint8_t kind, const uint8_t *params, uint16_t len, char *out,
         size_t n)
{
	struct pfs_stage s;

	memset(&s, 0, sizeof(s));
	s.kind = kind;
	s.len = len;
	memcpy(s.params, params, len);
	pfs_stage_describe(&s, out, n);
}

static void
test_stage_describe(void **state)
{
	char d[128];

	(void)state;
	describe(PFS_STAGE_COMPRESS, (const uint8_t[]){ PFS_C_ZSTD, 3 }, 2, d,
	         sizeof(d));
	assert_string_equal(d, "zstd -3");
	describe(PFS_STAGE_COMPRESS, (const uint8_t[]){ PFS_C_ZSTD, 0xfb }, 2,
	         d, sizeof(d));
	assert_string_equal(d, "zstd --fast=5");
	describe(PFS_STAGE_COMPRESS, (const uint8_t[]){ PFS_C_BROTLI, 11 }, 2,
	         d, sizeof(d));
	assert_string_equal(d, "brotli -11");
	describe(PFS_STAGE_COMPRESS, (const uint8_t[]){ 99, 1 }, 2, d,
	         sizeof(d));
	assert_string_equal(d, "unknown algorithm");
	describe(PFS_STAGE_ENCRYPT, (const uint8_t[]){ PFS_E_AES256GCM,
	         PFS_KDF_ARGON2ID }, 2, d, sizeof(d));
	assert_string_equal(d, "aes-256-gcm/argon2id");
	describe(PFS_STAGE_ENCRYPT, (const uint8_t[]){ PFS_E_CHACHA20POLY1305,
	         PFS_KDF_NONE }, 2, d, sizeof(d));
	assert_string_equal(d, "chacha20-poly1305");
	describe(PFS_STAGE_HASH, (const uint8_t[]){ PFS_H_BLAKE2B }, 1, d,
	         sizeof(d));
	assert_string_equal(d, "blake2b");
	describe(PFS_STAGE_HASH, (const uint8_t[]){ 0 }, 1, d, sizeof(d));
	assert_string_equal(d, "unknown algorithm");
}

static void
test_stage_still(void **state)
{
	struct pfs_stage s;
	char m[256];

	(void)state;
	memset(&s, 0, sizeof(s));
	s.kind = PFS_STAGE_COMPRESS;
	s.len = 2;
	s.params[0] = PFS_C_ZSTD;
	s.params[1] = 3;
	pfs_stage_still(&s, m, sizeof(m));
	assert_string_equal(m, "stream is still compressed (zstd -3): run "
	                    "'pcompress -d' first");
	s.kind = PFS_STAGE_ENCRYPT;
	s.params[0] = PFS_E_AES256GCM;
	s.params[1] = PFS_KDF_NONE;
	pfs_stage_still(&s, m, sizeof(m));
	assert_string_equal(m, "stream is still encrypted (aes-256-gcm): run "
	                    "'pencrypt -d' first");
	s.kind = PFS_STAGE_HASH;
	s.len = 1;
	s.params[0] = PFS_H_XXH128;
	pfs_stage_still(&s, m, sizeof(m));
	assert_string_equal(m, "stream is still hashed (xxh128): run "
	                    "'phash --check' first");
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_golden_bytes),
		cmocka_unit_test(test_round_trip_empty),
		cmocka_unit_test(test_round_trip_base),
		cmocka_unit_test(test_round_trip_biggest),
		cmocka_unit_test(test_round_trip_field_extremes),
		cmocka_unit_test(test_canonical_base),
		cmocka_unit_test(test_canonical_three_records),
		cmocka_unit_test(test_decode_rejects_too_short),
		cmocka_unit_test(test_decode_rejects_dot_names),
		cmocka_unit_test(test_decode_rejects_first_hash_cap_not_chunk),
		cmocka_unit_test(test_golden_bytes_range),
		cmocka_unit_test(test_round_trip_range),
		cmocka_unit_test(test_canonical_range),
		cmocka_unit_test(test_range_cut_not_encoded),
		cmocka_unit_test(test_first_chunk),
		cmocka_unit_test(test_range_rejects_cut_short),
		cmocka_unit_test(test_stack_push_pop_top_cap),
		cmocka_unit_test(test_stack_cap_below),
		cmocka_unit_test(test_stack_only_hashes),
		cmocka_unit_test(test_stack_cap_16),
		cmocka_unit_test(test_stack_push_refuses_bad_records),
		cmocka_unit_test(test_set_name),
		cmocka_unit_test(test_stage_describe),
		cmocka_unit_test(test_stage_still),
	};
	enum { NFIXED = sizeof(fixed) / sizeof(fixed[0]) };
	static struct CMUnitTest tests[NFIXED + NMCASES + NRRCASES];
	static char names[NMCASES + NRRCASES][96];
	size_t n = 0, k = 0;

	for (size_t i = 0; i < NFIXED; i++)
		tests[n++] = fixed[i];
	for (size_t i = 0; i < NMCASES; i++, k++) {
		snprintf(names[k], sizeof(names[k]), "decode_rejects_%s",
		         mcases[i].name);
		tests[n++] = (struct CMUnitTest){ names[k], test_decode_rejects,
		        NULL, NULL, (void *)(uintptr_t)&mcases[i] };
	}
	for (size_t i = 0; i < NRRCASES; i++, k++) {
		snprintf(names[k], sizeof(names[k]), "range_rejects_%s",
		         rrcases[i].name);
		tests[n++] = (struct CMUnitTest){ names[k], test_range_rejects,
		        NULL, NULL, (void *)(uintptr_t)&rrcases[i] };
	}
	return _cmocka_run_group_tests("head", tests, n, NULL, NULL);
}
