/*
 * fuzz_pcompress_d - pcompress -d (the seeds cover zstd, lz4 and brotli) on arbitrary input.
 *
 * tools/pcompress.c is linked with -Dmain=pcompress_main and run once per
 * input by pfs_fuzz_tool() (harness.c): main must return (not exit) 0 or
 * 1, and a success must have read a valid stream and written a correct
 * output.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"

int pcompress_main(int argc, char **argv);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const argv[] = { "pcompress", "-d", "-T", "1", NULL };

	return pfs_fuzz_tool(pcompress_main, argv, data, size, 0);
}
