/*
 * cli.h - what every program does the same on the command line: the
 * options they share (--stats, -q, -V, -T), the one input operand, the
 * messages on stderr and the exit with the documented status.
 *
 * cli.c is the one file of common/ that reports to the user or exits (the
 * only other output is what the user asked for: the --stats line,
 * stats.c, and the --progress display, progress.c).  The rest of common/
 * returns errors (err.h) and leaves the decision to the tool, which may
 * have output to remove first; nothing in common/ calls what is declared
 * here, only tools/ do.  So a program linking common/
 * without cli.c's callers (the unit tests, the fuzz targets of the frame
 * reader and HEAD) never meets an exit.  The tools the fuzz targets run
 * (pjoin, phash, pcompress, pencrypt) exit only while parsing their
 * options (usage errors, --help, --version) and in pencrypt's key
 * commands; once a stream is being read, a failure is reported with
 * pfs_fail() and main returns its status, so the targets call main()
 * once per input with no exit trap (tests/fuzz/fuzz.h).
 *
 * Exit statuses, for every program: PFS_EXIT_OK 0, PFS_EXIT_ERR 1 (an
 * error), PFS_EXIT_USAGE 2 (bad usage: the message, then "Try 'prog
 * --help' for more information.").  Messages are "prog: message" (pfs_prog,
 * err.h), one line each.
 */
#ifndef PFS_CLI_H
#define PFS_CLI_H

#include <stdint.h>

#include "err.h"

/* --- options every program shares --- */

/* Tools add PFS_COMMON_LONGOPTS to their getopt_long table and pass every
 * option code to pfs_common_opt() first. */
enum {
	PFS_OPT_STATS = 0x1000,
	PFS_OPT_HELP,
	PFS_OPT_VERSION,
	PFS_OPT_RANGE,
	PFS_OPT_TRACE,
	PFS_OPT_TOOL_BASE = 0x1100   /* first code free for a tool */
};

#define PFS_COMMON_LONGOPTS \
	{ "stats",   optional_argument, NULL, PFS_OPT_STATS }, \
	{ "trace",   required_argument, NULL, PFS_OPT_TRACE }, \
	{ "help",    no_argument,       NULL, 'h' }, \
	{ "version", no_argument,       NULL, 'V' }, \
	{ "quiet",   no_argument,       NULL, 'q' }

/* --range OFFSET:LENGTH (util.h, pfs_parse_range), for the tools that cut
 * a range out of a stream file (engine.h, cfg->range) and pchunk:
 * pfs_common_opt fills c->range* (a usage error when it is not a range). */
#define PFS_RANGE_LONGOPT \
	{ "range", required_argument, NULL, PFS_OPT_RANGE }


struct pfs_common {
	int stats;             /* enum pfs_stats_mode */
	unsigned threads;      /* worker threads: -T, resolved (see below) */
	int threads_set;       /* -T was given */
	unsigned threads_max;  /* the tool's limit for -T; 0: no -T */
	int range;             /* --range given (PFS_RANGE_LONGOPT) */
	uint64_t range_off, range_len;
	const char *trace;     /* --trace FILE, or NULL */
	const char *trace_dir; /* PFS_TRACE=DIR from the environment, or NULL */
};

struct pfs_engine_cfg;
/* pfs_common_cfg - hand --range on to the engine's configuration */
void pfs_common_cfg(const struct pfs_common *c, struct pfs_engine_cfg *cfg);

/* pfs_common_init - defaults: --stats from PFS_STATS in the environment,
 * and threads as for "-T 0": one per online CPU, but at most threads_max
 * (pfs_parse_threads, util.h), which is the most worker threads the tool
 * runs (PFS_THREADS_MAX, engine.h, unless it has a lower limit of its
 * own; 0 for a tool without -T). */
void pfs_common_init(struct pfs_common *c, unsigned threads_max);

/* pfs_common_trace - start the trace c asks for (trace.h): --trace FILE,
 * else PFS_TRACE=DIR (DIR/PROG.PID.json), else nothing; to be called once
 * the options are parsed.  The trace is ended at exit (atexit), or before
 * pfs_reraise() dies of a signal; a trace that cannot be written at the
 * end is reported and the exit status becomes 1.  A file that cannot be
 * created, or a PFS_TRACE that is not a directory we can write into, is
 * an error: "prog: --trace: FILE: reason" or "prog: PFS_TRACE: DIR:
 * reason", exit 1. */
void pfs_common_trace(const struct pfs_common *c);

/* pfs_common_opt - handle --stats, --trace, -q, -V/--version, -T N.  Returns 1 if
 * opt was one of them, 0 if it is not a common option.  Prints the
 * version and exits 0 for -V; a bad value is a usage error (exit 2):
 * "-T: '17' is out of range (0 to 16)". */
int pfs_common_opt(struct pfs_common *c, int opt, const char *arg);

/* pfs_opt_output - record -o ARG in *out.  A second -o naming another
 * FILE is a usage error (exit 2), "-o a, then -o b: one output FILE";
 * the same FILE twice is one output. */
void pfs_opt_output(const char **out, const char *arg);

/* pfs_one_input - the operand after the options (NULL: none, i.e.
 * stdin); more than one is a usage error (exit 2). */
const char *pfs_one_input(int argc, char **argv, int optind_);

/* pfs_version - print "prog (pfs) VERSION" on stdout and exit 0 (1 if
 * stdout cannot be written). */
_Noreturn void pfs_version(void);

/* --help: the lines of the shared options, written once here.  Each bit
 * names one option's lines; pfs_help_common() prints those asked for in
 * this order, which is the order of every tool's --help: */
enum {
	PFS_HELP_THREADS = 1u << 0, /* -T: "worker threads (default: number
	                               of CPUs)"; a tool whose -T says more
	                               prints its own line */
	PFS_HELP_QUIET   = 1u << 1, /* -q, --quiet */
	PFS_HELP_RANGE   = 1u << 2, /* --range of a tool that reads a stream
	                               file (engine.h, cfg->range) */
	PFS_HELP_STATS   = 1u << 3, /* --stats[=json] */
	PFS_HELP_TRACE   = 1u << 4, /* --trace FILE (two lines) */
	PFS_HELP_HELP    = 1u << 5, /* -h, --help */
	PFS_HELP_VERSION = 1u << 6  /* -V, --version */
};

/* the lines every tool ends its option list with */
#define PFS_HELP_COMMON (PFS_HELP_QUIET | PFS_HELP_STATS | PFS_HELP_TRACE | \
                         PFS_HELP_HELP | PFS_HELP_VERSION)

/* pfs_help_common - print on stdout the --help lines of the options in
 * what (PFS_HELP_*, in the order above), each "  OPTION" padded with
 * spaces so that its description starts at column col (0-based; one
 * space if OPTION reaches col), continuation lines indented to col.  The
 * --range lines ignore col: they are the same in every tool (description
 * at column 23, continued at 21).  A tool calls it several times to put
 * its own lines in between or to use another column for some lines.  A
 * failed write shows in ferror(stdout), for pfs_stdout_done(). */
void pfs_help_common(int col, unsigned what);

/* pfs_stdout_done - after --help or --version: flush stdout and exit 0, or
 * report "prog: stdout: No space left on device" (the reason) and exit 1. */
_Noreturn void pfs_stdout_done(void);

#define PFS_VERSION_STRING "0.1.0"

/* --- messages and exits --- */

/* pfs_warn - "prog: message" on stderr unless quiet (-q, pfs_quiet). */
void pfs_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* pfs_error - "prog: message" on stderr, always. */
void pfs_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* pfs_fail - pfs_error(), then PFS_EXIT_ERR for main to return: how a
 * tool ends a run that failed after its options were parsed
 * ("return pfs_fail("%s", e.msg);"), so that main returns on every path a
 * stream can take. */
int pfs_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* pfs_die - pfs_error() then exit(status). */
_Noreturn void pfs_die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* pfs_usage_error - "prog: message" and "Try 'prog --help'", exit 2. */
_Noreturn void pfs_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* pfs_usage_try - "Try 'prog --help'" and exit 2; for after getopt has
 * printed its own message about an unknown option. */
_Noreturn void pfs_usage_try(void);

/* --- secrets --- */

struct pfs_keyopt;
struct pfs_secret;

/* pfs_cli_secret - what a program does to hold a key or a password, in
 * order: no core dumps from now on (pfs_secret_nodump, secret.h),
 * libgcrypt and its secure memory (pfs_crypto_init, digest.h), then a new
 * struct pfs_secret filled from k (pfs_secret_load; tty and confirm are
 * for its prompt), or left empty with k NULL (identities only).  The warnings for the user are printed as they come,
 * unless -q: core dumps could not be disabled, the secure memory is not
 * locked (secrets may be swapped out), a key file others can read.
 * Returns the secret, which the caller releases with pfs_secret_free() on
 * every path, or NULL with e set, for the caller to report after its own
 * cleanup. */
struct pfs_secret *pfs_cli_secret(const struct pfs_keyopt *k, int tty,
                                  int confirm, struct pfs_err *e);

/* --- signals --- */

/* pfs_catch_signals - install a flag-only handler for SIGINT, SIGTERM and
 * SIGHUP, without SA_RESTART so that a blocked read(2) returns; it sets
 * pfs_interrupted (err.h), which the I/O helpers of common/ check.  Used
 * by tools that have output to clean up. */
void pfs_catch_signals(void);

/* pfs_reraise - after cleanup, die of the caught signal (exit status
 * 128+signo as the shell expects). */
_Noreturn void pfs_reraise(void);

/* pfs_die_of_sigpipe - a write to a closed pipe (EPIPE) ends a program
 * quietly, the way cat does, even when whoever started it ignored SIGPIPE:
 * the trace (if any) is closed, then it dies of SIGPIPE */
_Noreturn void pfs_die_of_sigpipe(void);

#endif
