#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "stats.h"
#include "util.h"

uint64_t
pfs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
pfs_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
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

/* The JSON line's fields, in the order they are written. */
enum ftype { F_STR, F_U64, F_SEC, F_RATE, F_LONG, F_ULONG };

static const struct field {
	const char *key;
	enum ftype type;
	size_t off;
} fields[] = {
#define F(key, type) { #key, type, offsetof(struct pfs_stats_rec, key) }
	F(tool, F_STR), F(frames, F_U64), F(bytes_in, F_U64),
	F(bytes_out, F_U64), F(wall_s, F_SEC), F(user_s, F_SEC),
	F(sys_s, F_SEC), F(mb_per_s, F_RATE), F(blocked_in_s, F_SEC),
	F(blocked_out_s, F_SEC), F(peak_rss_kb, F_LONG), F(allocs, F_ULONG),
#undef F
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static double
tv_sec(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* json_line - r as one JSON object and '\n' into out[n] */
static void
json_line(const struct pfs_stats_rec *r, char *out, size_t n)
{
	const char *base = (const char *)r;
	size_t len = 0, i;

	for (i = 0; i < NFIELDS && len < n; i++) {
		const struct field *f = &fields[i];
		const void *v = base + f->off;
		char *o = out + len;
		size_t left = n - len;
		int k = snprintf(o, left, "%s\"%s\":", i ? "," : "{", f->key);

		if (k < 0 || (size_t)k >= left)
			break;
		o += k;
		left -= (size_t)k;
		switch (f->type) {
		case F_STR:
			k = snprintf(o, left, "\"%s\"", (const char *)v);
			break;
		case F_U64:
			k = snprintf(o, left, "%llu", (unsigned long long)
			             *(const uint64_t *)v);
			break;
		case F_SEC:
			k = snprintf(o, left, "%.6f", *(const double *)v);
			break;
		case F_RATE:
			k = snprintf(o, left, "%.1f", *(const double *)v);
			break;
		case F_LONG:
			k = snprintf(o, left, "%ld", *(const long *)v);
			break;
		case F_ULONG:
			k = snprintf(o, left, "%lu", *(const unsigned long *)v);
			break;
		}
		len = (size_t)(o - out) + (k < 0 ? 0 : (size_t)k);
	}
	if (len < n)
		snprintf(out + len, n - len, "}\n");
}

void
pfs_stats_print(const struct pfs_stats *st, int mode)
{
	struct pfs_stats_rec r;
	struct rusage ru;
	char line[1024];

	if (mode == PFS_STATS_OFF)
		return;
	getrusage(RUSAGE_SELF, &ru);
	memset(&r, 0, sizeof(r));
	snprintf(r.tool, sizeof(r.tool), "%s", pfs_prog);
	r.frames = st->frames;
	r.bytes_in = st->bytes_in;
	r.bytes_out = st->bytes_out;
	r.wall_s = (double)(pfs_now_ns() - st->start_ns) / 1e9;
	r.user_s = tv_sec(ru.ru_utime);
	r.sys_s = tv_sec(ru.ru_stime);
	r.mb_per_s = r.wall_s > 0 ? (double)st->bytes_in / 1e6 / r.wall_s : 0;
	r.blocked_in_s = (double)st->blocked_in_ns / 1e9;
	r.blocked_out_s = (double)st->blocked_out_ns / 1e9;
	r.peak_rss_kb = ru.ru_maxrss;
	r.allocs = pfs_buf_allocs;
	if (mode == PFS_STATS_JSON)
		json_line(&r, line, sizeof(line));
	else
		snprintf(line, sizeof(line),
		         "%s: stats: frames %llu in %.1f MB out %.1f MB "
		         "wall %.3f s user %.3f s sys %.3f s %.1f MB/s "
		         "blocked-in %.3f s blocked-out %.3f s rss %.1f MB "
		         "allocs %lu\n",
		         pfs_prog, (unsigned long long)r.frames,
		         (double)r.bytes_in / 1e6, (double)r.bytes_out / 1e6,
		         r.wall_s, r.user_s, r.sys_s, r.mb_per_s, r.blocked_in_s,
		         r.blocked_out_s, (double)r.peak_rss_kb * 1024.0 / 1e6,
		         r.allocs);
	fputs(line, stderr);
}

/* jstr - a JSON string at q ('"'): its body into out[n] (escapes taken
 * as the character after the backslash; NULL out: skipped).  Returns the
 * position after the closing quote, or NULL. */
static const char *
jstr(const char *q, char *out, size_t n)
{
	size_t len = 0;

	if (*q++ != '"')
		return NULL;
	for (; *q && *q != '"'; q++) {
		if (*q == '\\' && !*++q)
			return NULL;
		if (out && len + 1 >= n)
			return NULL;
		if (out)
			out[len++] = *q;
	}
	if (*q != '"')
		return NULL;
	if (out)
		out[len] = '\0';
	return q + 1;
}

/* jnum - a number of field type t at q into v; the position after it */
static const char *
jnum(const char *q, enum ftype t, void *v)
{
	char *end;

	errno = 0;
	if (t != F_SEC && t != F_RATE && (*q == '-' || *q == '+'))
		return NULL;
	switch (t) {
	case F_U64:
		*(uint64_t *)v = strtoull(q, &end, 10);
		break;
	case F_LONG:
		*(long *)v = strtol(q, &end, 10);
		break;
	case F_ULONG:
		*(unsigned long *)v = strtoul(q, &end, 10);
		break;
	default:
		*(double *)v = strtod(q, &end);
		break;
	}
	return end == q || errno ? NULL : end;
}

/* skip - the value of a key we do not know */
static const char *
skip(const char *q)
{
	static const char *const words[] = { "true", "false", "null" };
	double d;
	size_t i;

	if (*q == '"')
		return jstr(q, NULL, 0);
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strncmp(q, words[i], strlen(words[i])) == 0)
			return q + strlen(words[i]);
	return jnum(q, F_SEC, &d);
}

int
pfs_stats_from_json(const char *line, struct pfs_stats_rec *r)
{
	char key[32], *base = (char *)r;
	const char *q = line;
	unsigned long seen = 0;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (*q++ != '{')
		return -1;
	for (;;) {
		if (!(q = jstr(q, key, sizeof(key))) || *q++ != ':')
			return -1;
		for (i = 0; i < NFIELDS && strcmp(fields[i].key, key) != 0; i++)
			;
		if (i == NFIELDS)
			q = skip(q);
		else if (seen & (1ul << i))
			return -1;
		else if (fields[i].type == F_STR)
			q = jstr(q, base + fields[i].off, sizeof(r->tool));
		else
			q = jnum(q, fields[i].type, base + fields[i].off);
		if (!q)
			return -1;
		if (i < NFIELDS)
			seen |= 1ul << i;
		if (*q == '}')
			break;
		if (*q++ != ',')
			return -1;
	}
	q++;
	if (*q == '\n')
		q++;
	return *q == '\0' && seen == (1ul << NFIELDS) - 1 ? 0 : -1;
}

int
pfs_stats_bottleneck(const struct pfs_stats_rec *r, const int *ok,
                     unsigned n)
{
	double best = 0, share;
	int bott = -1;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (!ok[i] || r[i].wall_s <= 0)
			continue;
		share = (r[i].blocked_in_s > r[i].blocked_out_s ?
		         r[i].blocked_in_s : r[i].blocked_out_s) / r[i].wall_s;
		if (bott < 0 || share < best) {
			bott = (int)i;
			best = share;
		}
	}
	return bott;
}

void
pfs_stats_table(const char *file, const char *const *label,
                const char *const *json, unsigned n, int mode)
{
	struct pfs_stats_rec f[PFS_STATS_TABLE_MAX];
	char fj[3 * PATH_MAX];
	int ok[PFS_STATS_TABLE_MAX], w = 7, bott;
	unsigned i;

	memset(f, 0, sizeof(f));
	memset(ok, 0, sizeof(ok));
	if (n > PFS_STATS_TABLE_MAX)
		n = PFS_STATS_TABLE_MAX;
	for (i = 0; i < n; i++) {
		ok[i] = pfs_stats_from_json(json[i], &f[i]) == 0;
		if ((int)strlen(label[i]) > w)
			w = (int)strlen(label[i]);
	}
	bott = pfs_stats_bottleneck(f, ok, n);
	if (mode == PFS_STATS_JSON) {
		pfs_json_esc(file, fj, sizeof(fj));
		for (i = 0; i < n; i++)
			if (ok[i])
				fprintf(stderr, "{\"file\":\"%s\",\"stage\":%u,"
				        "\"bottleneck\":%s,%s\n", fj, i + 1,
				        (int)i == bott ? "true" : "false", json[i] + 1);
		return;
	}
	fprintf(stderr, "stage  %-*s  %9s %9s %7s %9s %9s %8s %7s\n", w, "program",
	        "MB in", "MB out", "cpu s", "blk-in s", "blk-out s", "MB/s",
	        "rss MB");
	for (i = 0; i < n; i++) {
		if (!ok[i]) {
			fprintf(stderr, "%5u  %-*s  (no stats)\n", i + 1, w,
			        label[i]);
			continue;
		}
		fprintf(stderr, "%5u  %-*s  %9.1f %9.1f %7.2f %9.2f %9.2f %8.1f "
		        "%7.1f%s\n", i + 1, w, label[i],
		        (double)f[i].bytes_in / 1e6,
		        (double)f[i].bytes_out / 1e6, f[i].user_s + f[i].sys_s,
		        f[i].blocked_in_s, f[i].blocked_out_s, f[i].mb_per_s,
		        (double)f[i].peak_rss_kb * 1024 / 1e6,
		        (int)i == bott ? "  <- bottleneck" : "");
	}
}
