/*
 * test_wire - common/wire.h: little-endian integers, byte by byte.
 */
#include "unit.h"
#include "wire.h"

static void
test_byte_order(void **state)
{
	uint8_t b[8];

	(void)state;
	pfs_put16(b, 0x0102);
	assert_int_equal(b[0], 0x02);
	assert_int_equal(b[1], 0x01);
	pfs_put32(b, 0x01020304u);
	assert_memory_equal(b, "\x04\x03\x02\x01", 4);
	pfs_put64(b, 0x0102030405060708u);
	assert_memory_equal(b, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
	assert_int_equal(pfs_get16((const uint8_t *)"\x34\x12"), 0x1234);
	assert_int_equal(pfs_get32((const uint8_t *)"\x78\x56\x34\x12"),
	                 0x12345678u);
	assert_int_equal(pfs_get64((const uint8_t *)"\xef\xcd\xab\x89\x67\x45"
	                           "\x23\x01"), 0x0123456789abcdefu);
}

static void
test_round_trip_extremes(void **state)
{
	static const uint64_t v[] = { 0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff,
		0x8000, 0xffff, 0x80000000u, 0xffffffffu, 0x100000000u,
		0x8000000000000000u, UINT64_MAX };
	uint8_t b[9];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		b[8] = 0xaa;     /* nothing written past the field */
		pfs_put16(b, (uint16_t)v[i]);
		assert_int_equal(pfs_get16(b), (uint16_t)v[i]);
		pfs_put32(b, (uint32_t)v[i]);
		assert_int_equal(pfs_get32(b), (uint32_t)v[i]);
		pfs_put64(b, v[i]);
		assert_int_equal(pfs_get64(b), v[i]);
		assert_int_equal(b[8], 0xaa);
	}
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_byte_order),
		cmocka_unit_test(test_round_trip_extremes),
	};

	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
