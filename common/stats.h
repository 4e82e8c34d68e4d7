/*
 * stats.h - --stats: one line per program on stderr at exit.
 *
 *   pcompress: stats: frames 130 in 134.2 MB out 41.0 MB wall 0.520 s
 *     user 0.980 s sys 0.050 s 258.1 MB/s blocked-in 0.010 s
 *     blocked-out 0.300 s rss 9.1 MB allocs 12
 *
 * MB/s is input bytes over wall time.  blocked-in is the time spent inside
 * read(2) on the input, blocked-out inside write(2) on the output.  The
 * bottleneck of a pipeline is the stage that waits least on either side:
 * the smallest max(blocked-in, blocked-out) / wall (pipeline --stats marks
 * it).  The first stage never waits for input, but it may wait for output.
 * Enabled by --stats / --stats=json, or for every program of a pipeline by
 * the environment variable PFS_STATS=1 (or PFS_STATS=json).
 *
 * The JSON line is one flat object, written and read here only, from one
 * table of its fields (stats.c): pfs_stats_print() writes it,
 * pfs_stats_from_json() reads it back into a struct pfs_stats_rec.
 */
#ifndef PFS_STATS_H
#define PFS_STATS_H

#include <stdint.h>

enum pfs_stats_mode { PFS_STATS_OFF = 0, PFS_STATS_TEXT = 1, PFS_STATS_JSON = 2 };

struct pfs_stats {
	uint64_t frames;
	uint64_t bytes_in, bytes_out;
	uint64_t blocked_in_ns, blocked_out_ns;
	uint64_t start_ns;           /* monotonic, set by pfs_stats_start */
};

/* One program's figures: the fields of its JSON line, in their order. */
struct pfs_stats_rec {
	char tool[64];
	uint64_t frames, bytes_in, bytes_out;
	double wall_s, user_s, sys_s, mb_per_s, blocked_in_s, blocked_out_s;
	long peak_rss_kb;
	unsigned long allocs;
};

/* pfs_now_ns - CLOCK_MONOTONIC in nanoseconds. */
uint64_t pfs_now_ns(void);

/* pfs_cpu_ns - CPU time of all the process's threads so far
 * (CLOCK_PROCESS_CPUTIME_ID), in nanoseconds. */
uint64_t pfs_cpu_ns(void);

/* pfs_stats_start - zero st and start its wall clock. */
void pfs_stats_start(struct pfs_stats *st);

/* pfs_stats_parse - parse the argument of --stats[=json|text]; NULL arg
 * means text.  Returns the mode or -1 for an unknown word. */
int pfs_stats_parse(const char *arg);

/* pfs_stats_env - the mode asked for by PFS_STATS, or OFF. */
int pfs_stats_env(void);

/* pfs_stats_print - print the line for st in mode to stderr (nothing for
 * PFS_STATS_OFF): the text line above, or the JSON object on one line. */
void pfs_stats_print(const struct pfs_stats *st, int mode);

/* pfs_stats_from_json - read a JSON stats line as pfs_stats_print() writes
 * it (a trailing '\n' allowed) into r.  Every field of struct
 * pfs_stats_rec must be there once; keys it does not know (a number, a
 * string, true, false or null) are skipped.  Returns 0, or -1 for anything
 * else (r is then undefined). */
int pfs_stats_from_json(const char *line, struct pfs_stats_rec *r);

/* pfs_stats_bottleneck - the index of the bottleneck among the n records r
 * for which ok[i] is set: the smallest max(blocked_in_s, blocked_out_s) /
 * wall_s (with worker threads the two overlap), the earliest on a tie; a
 * record with no wall time is skipped.  -1 if there is none. */
int pfs_stats_bottleneck(const struct pfs_stats_rec *r, const int *ok,
                         unsigned n);

#define PFS_STATS_TABLE_MAX 32   /* most stages pfs_stats_table() takes */

/* pfs_stats_table - pipeline --stats: the n stages' JSON lines json[i]
 * (as pfs_stats_print() writes them, or "" when a stage wrote none), each
 * named label[i], of the pipeline that ran for file ("-": standard
 * input), printed to stderr with the bottleneck marked.  mode
 * PFS_STATS_JSON: each valid line again with "file", "stage" (1-based) and
 * "bottleneck" first; otherwise a table, one row per stage ("(no stats)"
 * for a line that is missing or not valid).  n <= PFS_STATS_TABLE_MAX. */
void pfs_stats_table(const char *file, const char *const *label,
                     const char *const *json, unsigned n, int mode);

#endif
