/*
 * stagelog.h - what one stage of a pipeline writes to standard error,
 * sorted line by line so that the pipeline shows one cause per failure:
 * the stage's --stats JSON line is kept apart, a progress redraw is handed
 * straight back to the caller to show, and every other line is kept until
 * the caller knows whether the stage failed on its own (pfs_chain_root,
 * proc.h).
 *
 * Invariants and ownership:
 *  - struct pfs_stagelog is plain storage owned by the caller; all zero is
 *    empty.  msg holds whole lines as written (each ends in '\n' except
 *    perhaps the last), never more than PFS_STAGELOG_MAX bytes: a line that
 *    does not fit is dropped, and msglost says so.
 *  - Nothing here prints or allocates.
 */
#ifndef PFS_STAGELOG_H
#define PFS_STAGELOG_H

#include <stddef.h>

#define PFS_STAGELOG_MAX 8192    /* stderr kept per stage */

struct pfs_stagelog {
	char json[1024];             /* its JSON stats line ('\n' dropped), or "" */
	char msg[PFS_STAGELOG_MAX];  /* the lines kept */
	size_t msglen;
	int msglost;                 /* a line did not fit: dropped */
};

enum pfs_stagelog_kind {
	PFS_LINE_KEPT,               /* appended to msg (or counted as lost) */
	PFS_LINE_STATS,              /* stored in json */
	PFS_LINE_PROGRESS            /* the caller shows it now */
};

/* pfs_stagelog_add - sort one line of len > 0 bytes, as handed over by
 * pfs_chain_drain(): a line starting with {"tool":" that fits json is the
 * stats line; one starting with '\r', or a lone '\n' while a progress line
 * is open (drawn), is progress; anything else is kept. */
enum pfs_stagelog_kind pfs_stagelog_add(struct pfs_stagelog *l,
                                        const char *line, size_t len,
                                        int drawn);

/* pfs_stagelog_line - the kept line at byte offset off of l->msg: returns
 * its length ('\n' included when there is one), or 0 at the end.  With
 * prog not NULL, *skip is set to the length of a leading "PROG: stdin: "
 * when the line has more after it (a later stage reads FILE's stream from
 * a pipe and calls it "stdin"; the caller names FILE instead), else 0. */
size_t pfs_stagelog_line(const struct pfs_stagelog *l, size_t off,
                         const char *prog, size_t *skip);

#endif
