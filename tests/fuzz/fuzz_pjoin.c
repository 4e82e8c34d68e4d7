/*
 * fuzz_pjoin - pjoin on arbitrary input: no -o (the bytes go to fd 1,
 * which is captured), digests verified.
 *
 * tools/pjoin.c is linked with -Dmain=pjoin_main and run once per input
 * by pfs_fuzz_tool() (harness.c): main must return (not exit) 0 or 1, and
 * a success must have read a valid stream and written a correct output.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"

int pjoin_main(int argc, char **argv);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const argv[] = { "pjoin", "-T", "1", NULL };

	return pfs_fuzz_tool(pjoin_main, argv, data, size, 1);
}
