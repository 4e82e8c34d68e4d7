#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "files.h"

int
pfs_has_pfs_suffix(const char *f)
{
	size_t n = strlen(f);

	return n > 4 && strcmp(f + n - 4, ".pfs") == 0;
}

/* stored_name_ok - -N: a name stored in a stream anyone may have written
 * becomes a file name only if it is a plain, visible one.  HEAD decoding
 * already refused "", ".", ".." and names with '/'. */
static int
stored_name_ok(const char *input, const char *name, struct pfs_err *e)
{
	const unsigned char *c;

	for (c = (const unsigned char *)name; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return pfs_seterr(e, "%s: the stored name holds control "
			                  "characters: use -o OUT", input);
	if (name[0] == '.')
		return pfs_seterr(e, "%s: the stored name '%s' starts with '.' "
		                  "(-N makes no hidden files): use -o OUT",
		                  input, name);
	return 0;
}

const char *
pfs_mirror_path(const char *input)
{
	while (*input == '/' || (input[0] == '.' && input[1] == '/'))
		input += input[0] == '/' ? 1 : 2;
	return strchr(input, '/') ? input : NULL;
}

int
pfs_outdir_name(const struct pfs_names *nm, const char *base, char *out,
                size_t n, struct pfs_err *e)
{
	const char *in = nm->mirror ? pfs_mirror_path(nm->input) : NULL;
	char *q;
	int len;

	if (!in) {
		len = snprintf(out, n, "%s/%s", nm->outdir, base);
		return len < 0 || (size_t)len >= n ?
		       pfs_seterr(e, "%s/%s: name too long", nm->outdir, base) :
		       0;
	}
	if (strcmp(in, "..") == 0 || strncmp(in, "../", 3) == 0 ||
	    strstr(in, "/../"))
		return pfs_seterr(e, "%s: --output-dir-mirror: a path with '..' "
		                  "would leave %s", nm->input, nm->outdir);
	len = snprintf(out, n, "%s/%.*s/%s", nm->outdir,
	               (int)(strrchr(in, '/') ? strrchr(in, '/') - in : 0), in,
	               base);
	if (len < 0 || (size_t)len >= n)
		return pfs_seterr(e, "%s: name too long", nm->input);
	/* mkdir -p of every directory of out */
	for (q = out + 1; !nm->dry_run && (q = strchr(q, '/')) != NULL; q++) {
		*q = '\0';
		if (mkdir(out, 0777) < 0 && errno != EEXIST) {
			pfs_seterr(e, "%s: %s", out, strerror(errno));
			*q = '/';
			return -1;
		}
		*q = '/';
	}
	return 0;
}

int
pfs_restore_name(const struct pfs_names *nm, const struct pfs_head *h,
                 char *out, size_t n, struct pfs_err *e)
{
	const char *input = nm->input, *slash = strrchr(input, '/');
	const char *base = slash ? slash + 1 : input;
	size_t dlen = (size_t)(base - input), blen = strlen(base);
	const char *dot = dlen ? "" : "./";
	char b[PFS_NAME_MAX + 1];

	if (nm->use_name && h->namelen) {
		if (stored_name_ok(input, h->name, e) < 0)
			return -1;
		if (nm->outdir)
			return pfs_outdir_name(nm, h->name, out, n, e);
		snprintf(out, n, "%s%.*s%s", h->name[0] == '-' ? dot : "",
		         (int)dlen, input, h->name);
		return 0;
	}
	if (blen > 4 && strcmp(base + blen - 4, ".pfs") == 0) {
		if (nm->outdir) {
			snprintf(b, sizeof(b), "%.*s", (int)(blen - 4), base);
			return pfs_outdir_name(nm, b, out, n, e);
		}
		snprintf(out, n, "%s%.*s", base[0] == '-' ? dot : "",
		         (int)(dlen + blen - 4), input);
		return 0;
	}
	if (nm->use_name)
		return pfs_seterr(e, "%s: unknown suffix (expected NAME.pfs) "
		                  "and the stream stores no name: use -o OUT",
		                  input);
	return pfs_seterr(e, "%s: unknown suffix (expected NAME.pfs): use -o "
	                  "OUT, or -N for the name stored in the stream",
	                  input);
}

int
pfs_process_name(const struct pfs_names *nm, char *out, size_t n,
                 struct pfs_err *e)
{
	const char *slash = strrchr(nm->input, '/');
	char b[PFS_NAME_MAX + 8];

	if (nm->outdir) {
		snprintf(b, sizeof(b), "%s.pfs", slash ? slash + 1 : nm->input);
		return pfs_outdir_name(nm, b, out, n, e);
	}
	snprintf(out, n, "%s.pfs", nm->input);
	return 0;
}

int
pfs_out_free(const char *out, int force, struct pfs_err *e)
{
	struct stat st;

	if (lstat(out, &st) < 0)
		return 0;
	/* what pfs_outfile_open (io.h) does with it: a directory is refused
	 * with or without force, a device or FIFO (/dev/null) is written in
	 * place, as zstd and gzip do; a file or a link to one needs force */
	if (stat(out, &st) == 0 && S_ISDIR(st.st_mode))
		return pfs_seterr(e, "%s: is a directory", out);
	if (force || (stat(out, &st) == 0 && !S_ISREG(st.st_mode)))
		return 0;
	return pfs_seterr(e, "%s: file exists (use -f to overwrite it)", out);
}

int
pfs_walk(const char *dir, const struct pfs_walker *w)
{
	struct dirent **ents;
	struct stat st;
	char *path;
	size_t len;
	int n, i, bad = 0;

	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0) {
		w->error(w->arg, dir, errno);
		return 1;
	}
	for (i = 0; i < n; i++) {
		const char *d = ents[i]->d_name;

		if ((w->stop && w->stop(w->arg)) ||
		    strcmp(d, ".") == 0 || strcmp(d, "..") == 0)
			continue;
		len = strlen(dir) + strlen(d) + 2;
		path = malloc(len);
		if (!path) {
			w->error(w->arg, NULL, ENOMEM);
			bad++;
			continue;
		}
		snprintf(path, len, "%s%s%s", dir, dir[0] &&
		         dir[strlen(dir) - 1] == '/' ? "" : "/", d);
		if (lstat(path, &st) < 0) {
			w->error(w->arg, path, errno);
			bad++;
		} else if (S_ISDIR(st.st_mode)) {
			bad += pfs_walk(path, w);
		} else if (S_ISREG(st.st_mode)) {
			bad += w->file(w->arg, path);
		}
		free(path);
	}
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return bad;
}
