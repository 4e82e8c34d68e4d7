/*
 * util.h - number parsing and the options every program shares.
 */
#ifndef PFS_UTIL_H
#define PFS_UTIL_H

#include <stdint.h>

#include "err.h"

/* pfs_parse_size - parse a byte count: digits, optionally followed by one
 * of K M G T (powers of 1024; KB/MB/GB/KiB/MiB/GiB accepted too, also in
 * lower case).  Rejects junk, overflow and values outside [min, max] with a
 * message that names the range. */
int pfs_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out,
                   struct pfs_err *e);

/* pfs_parse_int - a decimal integer in [min, max] (a leading '-' allowed
 * when min < 0), no suffix. */
int pfs_parse_int(const char *s, long min, long max, long *out,
                  struct pfs_err *e);

/* pfs_fmt_size - n for people, into out[len]: in the largest binary unit
 * that divides it exactly when there is one ("0 B", "1023 B", "4 KiB",
 * "1536 KiB", "256 MiB": a chunk size or a limit stays exact), otherwise
 * with one decimal in the largest unit not above it ("1.5 KiB" for 1536,
 * "9.8 KiB" for 10000). */
void pfs_fmt_size(uint64_t n, char *out, size_t len);

/* Options shared by every program.  Tools add PFS_COMMON_LONGOPTS to their
 * getopt_long table and pass unknown codes to pfs_common_opt(). */
enum {
	PFS_OPT_STATS = 0x1000,
	PFS_OPT_HELP,
	PFS_OPT_VERSION,
	PFS_OPT_TOOL_BASE = 0x1100   /* first code free for a tool */
};

#define PFS_COMMON_LONGOPTS \
	{ "stats",   optional_argument, NULL, PFS_OPT_STATS }, \
	{ "help",    no_argument,       NULL, 'h' }, \
	{ "version", no_argument,       NULL, 'V' }, \
	{ "quiet",   no_argument,       NULL, 'q' }

struct pfs_common {
	int stats;           /* enum pfs_stats_mode */
	unsigned threads;    /* -T, 0 = default */
};

/* pfs_common_init - defaults, and PFS_STATS from the environment. */
void pfs_common_init(struct pfs_common *c);

/* pfs_common_opt - handle --stats, -q, -V/--version, -T N.  Returns 1 if c
 * was handled, 0 if not a common option.  Exits for --version and for a
 * bad value (usage error). */
int pfs_common_opt(struct pfs_common *c, int opt, const char *arg);

/* pfs_one_input - the operand after the options (NULL: none, i.e.
 * stdin); more than one is a usage error (exit 2). */
const char *pfs_one_input(int argc, char **argv, int optind_);

/* pfs_version - print "prog (pfs) VERSION" and exit 0. */
_Noreturn void pfs_version(void);

#define PFS_VERSION_STRING "0.1.0"

#endif
