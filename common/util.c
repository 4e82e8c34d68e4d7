#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "util.h"

struct suffix {
	const char *s;
	unsigned shift;
};

static const struct suffix suffixes[] = {
	{ "", 0 },
	{ "k", 10 }, { "kb", 10 }, { "kib", 10 },
	{ "m", 20 }, { "mb", 20 }, { "mib", 20 },
	{ "g", 30 }, { "gb", 30 }, { "gib", 30 },
	{ "t", 40 }, { "tb", 40 }, { "tib", 40 },
	{ NULL, 0 }
};

static int
lower_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char c = *a;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != *b)
			return 0;
	}
	return *a == *b;
}

int
pfs_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out,
               struct pfs_err *e)
{
	const struct suffix *sf;
	uint64_t v = 0;
	const char *p = s;
	char lo[32], hi[32];

	pfs_fmt_size(min, lo, sizeof(lo));
	pfs_fmt_size(max, hi, sizeof(hi));
	if (*p < '0' || *p > '9')
		return pfs_seterr(e, "invalid size '%s' (expected a number with "
		                  "an optional K, M or G suffix)", s);
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return pfs_seterr(e, "size '%s' is out of range "
			                  "(%s to %s)", s, lo, hi);
		v = v * 10 + d;
	}
	for (sf = suffixes; sf->s; sf++)
		if (lower_eq(p, sf->s))
			break;
	if (!sf->s)
		return pfs_seterr(e, "invalid size '%s' (unknown suffix '%s'; "
		                  "use K, M or G)", s, p);
	if (sf->shift && v > (UINT64_MAX >> sf->shift))
		return pfs_seterr(e, "size '%s' is out of range (%s to %s)",
		                  s, lo, hi);
	v <<= sf->shift;
	if (v < min || v > max)
		return pfs_seterr(e, "size '%s' is out of range (%s to %s)",
		                  s, lo, hi);
	*out = v;
	return 0;
}

int
pfs_parse_range(const char *s, uint64_t *off, uint64_t *len,
                struct pfs_err *e)
{
	const char *sep = strpbrk(s, ":+");
	char a[64];
	size_t n;

	if (!sep || (n = (size_t)(sep - s)) == 0 || n >= sizeof(a))
		return pfs_seterr(e, "invalid range '%s' (expected OFFSET:LENGTH, "
		                  "e.g. 3G:1M, or OFFSET: for the rest)", s);
	memcpy(a, s, n);
	a[n] = '\0';
	if (pfs_parse_size(a, 0, UINT64_MAX - 1, off, e) < 0)
		return -1;
	if (sep[1] == '\0' && *sep == ':') {
		*len = UINT64_MAX;
		return 0;
	}
	return pfs_parse_size(sep + 1, 1, UINT64_MAX - *off, len, e);
}

int
pfs_parse_int(const char *s, long min, long max, long *out, struct pfs_err *e)
{
	char *end;
	long v;

	errno = 0;
	if (!*s || (*s != '-' && (*s < '0' || *s > '9')))
		return pfs_seterr(e, "invalid number '%s'", s);
	v = strtol(s, &end, 10);
	if (*end)
		return pfs_seterr(e, "invalid number '%s'", s);
	if (errno == ERANGE || v < min || v > max || (*s == '-' && min >= 0))
		return pfs_seterr(e, "'%s' is out of range (%ld to %ld)",
		                  s, min, max);
	*out = v;
	return 0;
}

void
pfs_fmt_size(uint64_t n, char *out, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned u = 0;
	uint64_t v = n;

	while (v >= 1024 && v % 1024 == 0 && u < 6) {
		v /= 1024;
		u++;
	}
	if (u == 0 && n >= 1024) {
		double d = (double)n;
		while (d >= 1024 && u < 6) {
			d /= 1024;
			u++;
		}
		snprintf(out, len, "%.1f %s", d, units[u]);
		return;
	}
	snprintf(out, len, "%" PRIu64 " %s", v, units[u]);
}

int
pfs_parse_threads(const char *s, unsigned max, unsigned *out,
                  struct pfs_err *e)
{
	unsigned cpus;
	long v;

	if (pfs_parse_int(s, 0, (long)max, &v, e) < 0)
		return -1;
	cpus = pfs_default_threads();
	*out = v ? (unsigned)v : cpus < max ? cpus : max;
	return 0;
}

void
pfs_text_esc(const char *s, int bs, char *out, size_t n)
{
	size_t k = 0;

	for (; *s && k + 5 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\n' || c == '\t' || (bs && c == '\\')) {
			out[k++] = '\\';
			out[k++] = c == '\n' ? 'n' : c == '\t' ? 't' : '\\';
		} else if (c < 0x20 || c == 0x7f) {
			k += (size_t)snprintf(out + k, n - k, "\\%03o", c);
		} else {
			out[k++] = (char)c;
		}
	}
	out[k] = '\0';
}

void
pfs_json_esc(const char *s, char *out, size_t n)
{
	size_t k = 0;

	for (; *s && k + 7 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[k++] = '\\';
			out[k++] = (char)c;
		} else if (c < 0x20) {
			k += (size_t)snprintf(out + k, n - k, "\\u%04x", c);
		} else {
			out[k++] = (char)c;
		}
	}
	out[k] = '\0';
}
