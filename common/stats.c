#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "stats.h"

uint64_t
pfs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
pfs_stats_start(struct pfs_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->start_ns = pfs_now_ns();
}

int
pfs_stats_parse(const char *arg)
{
	if (!arg || strcmp(arg, "text") == 0)
		return PFS_STATS_TEXT;
	if (strcmp(arg, "json") == 0)
		return PFS_STATS_JSON;
	return -1;
}

int
pfs_stats_env(void)
{
	const char *v = getenv("PFS_STATS");

	if (!v || !*v || strcmp(v, "0") == 0)
		return PFS_STATS_OFF;
	if (strcmp(v, "json") == 0)
		return PFS_STATS_JSON;
	return PFS_STATS_TEXT;
}

static double
tv_sec(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

void
pfs_stats_print(const struct pfs_stats *st, int mode)
{
	struct rusage ru;
	double wall, user, sys, mbs, rss;
	char line[1024];

	if (mode == PFS_STATS_OFF)
		return;
	getrusage(RUSAGE_SELF, &ru);
	wall = (double)(pfs_now_ns() - st->start_ns) / 1e9;
	user = tv_sec(ru.ru_utime);
	sys = tv_sec(ru.ru_stime);
	mbs = wall > 0 ? (double)st->bytes_in / 1e6 / wall : 0;
	rss = (double)ru.ru_maxrss * 1024.0 / 1e6;
	if (mode == PFS_STATS_JSON)
		snprintf(line, sizeof(line),
		         "{\"tool\":\"%s\",\"frames\":%llu,\"bytes_in\":%llu,"
		         "\"bytes_out\":%llu,\"wall_s\":%.6f,\"user_s\":%.6f,"
		         "\"sys_s\":%.6f,\"mb_per_s\":%.1f,\"blocked_in_s\":%.6f,"
		         "\"blocked_out_s\":%.6f,\"peak_rss_kb\":%ld,"
		         "\"allocs\":%lu}\n",
		         pfs_prog, (unsigned long long)st->frames,
		         (unsigned long long)st->bytes_in,
		         (unsigned long long)st->bytes_out, wall, user, sys, mbs,
		         (double)st->blocked_in_ns / 1e9,
		         (double)st->blocked_out_ns / 1e9, ru.ru_maxrss,
		         pfs_buf_allocs);
	else
		snprintf(line, sizeof(line),
		         "%s: stats: frames %llu in %.1f MB out %.1f MB "
		         "wall %.3f s user %.3f s sys %.3f s %.1f MB/s "
		         "blocked-in %.3f s blocked-out %.3f s rss %.1f MB "
		         "allocs %lu\n",
		         pfs_prog, (unsigned long long)st->frames,
		         (double)st->bytes_in / 1e6, (double)st->bytes_out / 1e6,
		         wall, user, sys, mbs, (double)st->blocked_in_ns / 1e9,
		         (double)st->blocked_out_ns / 1e9, rss, pfs_buf_allocs);
	fputs(line, stderr);
}
