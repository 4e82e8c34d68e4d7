/*
 * fuzz.h - the shared part of the libFuzzer targets (harness.c).
 *
 * Every target defines LLVMFuzzerTestOneInput().  The tool-level targets
 * (fuzz_pjoin, fuzz_phash_check, fuzz_pcompress_d, fuzz_pencrypt_d) link the
 * real tools/<tool>.c (and the files of tools/<tool>/ when the tool is
 * split), compiled with
 *
 *   -Dmain=<tool>_main
 *
 * and common/ built as it is, and run the tool's main() once per input
 * with the input on fd 0 and fd 1 captured (pfs_fuzz_run_tool).  There is
 * no exit trap: common/ exits only in cli.c, when a tool asks it to (bad
 * usage, --help, --version), and with the fixed, valid arguments a target
 * passes, every path of the tool, for any input bytes, ends by returning
 * from main with its exit status (pfs_fail, cli.h).  A path that still
 * called exit() would end the fuzzing process: libFuzzer reports that as
 * "fuzz target exited", and the harness's own atexit handler reports "the
 * tool called exit() instead of returning from main" and traps, which is
 * what the replay build (replay_main.c, no libFuzzer) relies on.  That is
 * the check, not something to work around.  _exit() (pfs_reraise) is
 * only reached after a signal, which the fuzzer never sends.
 *
 * Stream inputs are "fixed up" before use (pfs_fuzz_fixup): the XXH32
 * check of every frame header that can be walked from the signature is
 * recomputed, so that mutations of type/len/seq/raw reach the validation
 * behind the checksum instead of all dying at "header checksum mismatch"
 * (zstd's fuzzers skip checksums the same way).  A stored check of 0 is
 * left alone, so the mismatch path stays reachable.  Set PFS_FUZZ_DUMP=FILE
 * to write the bytes the tool actually read (after the fixup) to FILE:
 * that file reproduces a finding with the real program, e.g.
 * `pjoin < FILE`.
 *
 * Environment: PFS_FUZZ_STDERR=1 keeps the tools' messages on stderr and
 * prints each exit status (default: discarded during the call; sanitizer
 * reports still go to the original stderr).  PFS_FUZZ_THREADS=N runs the
 * tools with -T N instead of -T 1 (the engine's worker threads).
 */
#ifndef PFS_FUZZ_H
#define PFS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* pfs_fuzz_fixup - recompute the frame header checks of the stream in d
 * (in place), walking from the signature by the declared lengths. */
void pfs_fuzz_fixup(uint8_t *d, size_t n);

/* pfs_fuzz_input - a mutable, fixed-up copy of the input; owned by the
 * harness and valid until the next call. */
uint8_t *pfs_fuzz_input(const uint8_t *data, size_t size);

/* pfs_fuzz_memfd - a memfd holding exactly the n bytes of p, at offset 0
 * (the same descriptor is reused by every call; do not close it). */
int pfs_fuzz_memfd(const uint8_t *p, size_t n);

/* pfs_fuzz_run_tool - run tool_main(argc, argv) (argv NULL-terminated,
 * copied first because getopt permutes it) with p/n on fd 0 and fd 1
 * captured into a memfd.  Returns the exit status, the return value of
 * main (an exit() inside it fails, see above).  *out and *outlen receive
 * the output (owned by the harness, valid until the next call). */
int pfs_fuzz_run_tool(int (*tool_main)(int, char **), const char *const *argv,
                      const uint8_t *p, size_t n, const uint8_t **out,
                      size_t *outlen);

/* pfs_fuzz_check_stream - read p/n with the frame reader to the end.
 * Returns 0 for a valid stream (END read, nothing after it), -1 otherwise;
 * *raw_total receives the sum of the DATA raw lengths, or for a range
 * stream the length of its range (what pjoin writes). */
int pfs_fuzz_check_stream(const uint8_t *p, size_t n, uint64_t *raw_total);

/* pfs_fuzz_tool - the body of a tool-level target: run the tool on the
 * fixed-up input; it must exit 0 or 1; when it exits 0, the input must be
 * a valid stream and the output a valid stream with the same raw total
 * (raw_out = 0), or exactly that many bytes (raw_out = 1, pjoin).  Traps
 * on a violation.  Returns 0. */
int pfs_fuzz_tool(int (*tool_main)(int, char **), const char *const *argv,
                  const uint8_t *data, size_t size, int raw_out);

/* pfs_fuzz_key_file - path of the fixed test key (written on first use):
 * PFS_FUZZ_KEY_HEX, the same 64 hex digits make-seeds.sh uses. */
const char *pfs_fuzz_key_file(void);
#define PFS_FUZZ_KEY_HEX \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

/* pfs_fuzz_fail - print "fuzz invariant violated: msg" to the sanitizer
 * report fd and trap. */
_Noreturn void pfs_fuzz_fail(const char *msg);

#endif
