/*
 * files.h - the files a pipeline works on: walking a directory for -r, and
 * the name of the output made from an input (restore: FILE without .pfs, or
 * the name stored in the HEAD; process: FILE.pfs; optionally in an output
 * directory, flat or mirroring the input's path).
 *
 * Invariants and ownership:
 *  - Nothing here prints or exits; a failure fills struct pfs_err (its
 *    message names the input or the output, as the tool prints it) and
 *    returns -1.  pfs_walk() hands its errors to a callback instead (with
 *    the whole path, never truncated), and goes on with the next entry.
 *  - Every output name is written into the caller's buffer out[n]; no
 *    function keeps a pointer to it or to the struct pfs_names strings.
 *  - Only an output directory with mirror set is ever created (the
 *    directories of the input's path, under it), and not with dry_run
 *    set; nothing else touches the file system but lstat(2), stat(2) and
 *    scandir(3).
 */
#ifndef PFS_FILES_H
#define PFS_FILES_H

#include <stddef.h>

#include "err.h"
#include "head.h"

/* how outputs are named for one input */
struct pfs_names {
	const char *input;           /* FILE as given (never "-" here) */
	const char *outdir;          /* --output-dir-*: DIR, or NULL */
	int mirror;                  /* 1: --output-dir-mirror, 0: -flat */
	int use_name;                /* -N: the name stored in the HEAD */
	int dry_run;                 /* 1: name only, make no directory */
};

/* pfs_has_pfs_suffix - 1 if f ends in ".pfs" after at least one byte */
int pfs_has_pfs_suffix(const char *f);

/* pfs_restore_name - the output of restore when -o is not given: as
 * gzip -d, FILE without .pfs; with use_name (gzip -N) the source name
 * stored in h, if there is one, in FILE's directory.  Never a name in the
 * current directory that FILE did not ask for, and never one a stream
 * chose on its own: a stored name with control characters or a leading
 * '.' is refused.  A name starting with '-' gets "./" so that pjoin (and a
 * shell, for --dry-run) takes it for a file, not an option or stdout.
 * With an output directory, the name's base goes there instead (see
 * pfs_outdir_name).  n must exceed strlen(FILE) + PFS_NAME_MAX + 2.
 * Returns 0 with the name in out, or -1 with e set. */
int pfs_restore_name(const struct pfs_names *nm, const struct pfs_head *h,
                     char *out, size_t n, struct pfs_err *e);

/* pfs_process_name - the output of process for FILE: FILE.pfs next to
 * FILE, or BASE.pfs in the output directory.  Same buffer rule and
 * return value as pfs_restore_name(). */
int pfs_process_name(const struct pfs_names *nm, char *out, size_t n,
                     struct pfs_err *e);

/* pfs_mirror_path - FILE as --output-dir-mirror puts it under DIR: without
 * its leading '/' and './'; NULL when that leaves no directory (the file
 * goes to DIR itself, as with --output-dir-flat). */
const char *pfs_mirror_path(const char *input);

/* pfs_outdir_name - --output-dir-flat DIR: DIR/BASE; --output-dir-mirror
 * DIR: DIR/FILE's directory/BASE, that directory made if missing (FILE's
 * leading '/' and './' dropped; a FILE with a '..' component is refused),
 * unless nm->dry_run (what --dry-run prints makes it: mkdir -p).
 * nm->outdir must not be NULL.  0, or -1 with e set. */
int pfs_outdir_name(const struct pfs_names *nm, const char *base, char *out,
                    size_t n, struct pfs_err *e);

/* pfs_out_free - an output file that does not exist yet (any file, even a
 * dangling symbolic link), unless force; an existing device or FIFO
 * (/dev/null), which pfs_outfile_open (io.h) writes in place, is free too.
 * 0, or -1 with e set ("OUT: file exists (use -f to overwrite it)"; a
 * directory, with force too: "OUT: is a directory").  Only a check made
 * before any stage starts: the file is still created with O_EXCL. */
int pfs_out_free(const char *out, int force, struct pfs_err *e);

/* what pfs_walk() calls */
struct pfs_walker {
	/* each regular file found; returns the number of failures (0, 1) */
	int (*file)(void *arg, const char *path);
	/* an entry that could not be read: name and errno, or name NULL when
	 * memory ran out; counts as a failure */
	void (*error)(void *arg, const char *name, int errnum);
	/* not NULL: when it returns 1 the remaining entries are skipped */
	int (*stop)(void *arg);
	void *arg;
};

/* pfs_walk - -r: every regular file under dir, depth first, each directory
 * in name order (alphasort); symbolic links and other files are left
 * alone, as zstd -r does.  path, as passed to w->file, is freed when it
 * returns.  Returns the number of failures (w->file's sum plus errors). */
int pfs_walk(const char *dir, const struct pfs_walker *w);

#endif
