/*
 * fuzz_pencrypt_d - pencrypt -d with a fixed test key (PFS_FUZZ_KEY_HEX in
 * fuzz.h, the key make-seeds.sh encrypts its seeds with) on arbitrary
 * input.
 *
 * tools/pencrypt.c and the files of tools/pencrypt/ are linked with
 * -Dmain=pencrypt_main and run once per input by pfs_fuzz_tool()
 * (harness.c): main must return (not exit) 0 or 1, and a success must
 * have read a valid stream and written a valid stream with the same raw
 * total.  Mutations of sealed bytes mostly fail authentication; what this
 * target covers is everything pencrypt -d parses before and around the
 * tags (ENCRYPT record, KDF limits, header MAC, hidden name, frame order,
 * DIGEST/END handling).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"

int pencrypt_main(int argc, char **argv);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *argv[] = { "pencrypt", "-d", "--raw-key-file", NULL,
	                              "-T", "1", NULL };

	if (!argv[3])
		argv[3] = pfs_fuzz_key_file();
	return pfs_fuzz_tool(pencrypt_main, argv, data, size, 0);
}
