/*
 * levels.c - pipeline's compression levels (pipeline.h): zstd's -# taken
 * out of argv before getopt sees it, and the level checked against the
 * codec table (codec.h) once the options are read.
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "codec.h"
#include "err.h"
#include "pipeline.h"
#include "util.h"

/* take_levels - zstd's -# levels (-1 ... -22): taken out of argv before
 * getopt, which would read -19 as -1 -9.  Skips the argument of every
 * option that takes one, so that '-l -5' and '-o -3' stay as they are. */
void
take_levels(int *argc, char **argv, const struct option *lo, struct opts *o)
{
	int i, k = 1, skip = 0;
	size_t n, j;
	const char *a, *eq;

	for (i = 1; i < *argc; i++) {
		a = argv[i];
		if (skip || a[0] != '-' || !a[1]) {
			skip = 0;
		} else if (strcmp(a, "--") == 0) {
			break;
		} else if (a[1] == '-') {
			eq = strchr(a, '=');
			n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			for (j = 0; lo[j].name && !eq; j++)
				if (strncmp(lo[j].name, a + 2, n) == 0) {
					skip = lo[j].has_arg == required_argument;
					break;
				}
		} else if (strspn(a + 1, "0123456789") == strlen(a + 1)) {
			if (strlen(a + 1) >= sizeof(o->levelbuf))
				pfs_usage_error("%s: invalid level", a);
			strcpy(o->levelbuf, a + 1);
			o->level = o->levelbuf;
			o->level_opt = NULL;
			o->used |= U_LEVEL;
			continue;
		} else {
			for (j = 1; a[j]; j++)
				if (strchr("lToi", a[j])) {
					skip = !a[j + 1];
					break;
				}
		}
		argv[k++] = argv[i];
	}
	for (; i < *argc; i++)
		argv[k++] = argv[i];
	argv[k] = NULL;
	*argc = k;
}

/* pcompress's levels (codec.h), checked here so that a bad level is a
 * usage error of pipeline, not a failed stage; the message names the
 * option the user typed (-l, --fast, or none for -#), as pcompress does */
void
check_level(const struct opts *o)
{
	const struct pfs_codec *c = o->codec;
	const struct pfs_codec *z = &pfs_codecs[0];   /* zstd: --fast, --ultra */
	const char *opt = o->level_opt ? o->level_opt : "";
	char range[128];
	struct pfs_err e;
	long v;

	if (o->ultra && c->lultra == c->lmax)
		pfs_usage_error("--ultra is for %s levels %d-%d", z->name,
		                z->lmax + 1, z->lultra);
	if (!o->level)
		return;
	if (pfs_parse_int(o->level, -1000000, 1000000, &v, &e) < 0) {
		if (!o->level_opt)      /* -#: named as typed, as pcompress does */
			pfs_usage_error("-%s: %s", o->level, e.msg);
		pfs_usage_error("%s: %s", opt, e.msg);
	}
	if (o->level_opt && strcmp(o->level_opt, "--fast") == 0 && c->lmin >= 0)
		pfs_usage_error("--fast is a %s level: drop it or use %s",
		                z->name, z->flag);
	if (pfs_codec_level_ok(c, v, o->ultra))
		return;
	if (!o->ultra && pfs_codec_level_ok(c, v, 1))
		pfs_usage_error("level %ld of %s needs --ultra", v, c->name);
	pfs_codec_levels(c, range, sizeof(range));   /* pcompress's words */
	pfs_usage_error("%s%slevel %s is out of range for %s (%s)", opt,
	                *opt ? ": " : "", o->level, c->name, range);
}
