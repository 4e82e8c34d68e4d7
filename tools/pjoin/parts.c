/*
 * parts.c - pjoin -o OUT PART... (pjoin.h): the parts of one file, checked
 * to be exactly one source's (common/parts.h), joined into OUT in offset
 * order.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "io.h"
#include "parts.h"
#include "pjoin.h"

/* join_parts - pjoin -o OUT PART...: every part's HEAD read and checked
 * (parts.h) before OUT's temporary file is created; then each part,
 * in offset order, restored and verified into it as a single stream is;
 * OUT appears only when all passed */
int
join_parts(const struct opts *o, struct pfs_stats *st, struct pfs_err *e)
{
	struct pfs_part *p = calloc((size_t)o->nparts, sizeof(*p));
	struct pfs_outfile of;
	struct pfs_engine_cfg cfg;
	struct pfs_stats ps;
	struct stat os, is;
	struct ctx x;
	int k, rc = -1, opened = 0;

	if (!p)
		return pfs_seterr(e, "out of memory");
	for (k = 0; k < o->nparts; k++)
		p[k].fd = -1;
	for (k = 0; k < o->nparts; k++) {
		p[k].name = o->parts[k];
		if (pfs_part_open(&p[k], e) < 0)
			goto out;
	}
	if (pfs_parts_order(p, (size_t)o->nparts, e) < 0)
		goto out;
	for (k = 0; o->output && stat(o->output, &os) == 0 && k < o->nparts;
	     k++) {
		if (fstat(p[k].fd, &is) == 0 && is.st_dev == os.st_dev &&
		    is.st_ino == os.st_ino) {
			pfs_seterr(e, "%s: refusing to overwrite the input file",
			           o->output);
			goto out;
		}
	}
	pfs_catch_signals();
	if (pfs_outfile_open(&of, o->output, o->force, -1, e) < 0)
		goto out;
	opened = 1;
	for (k = 0; k < o->nparts; k++) {
		memset(&cfg, 0, sizeof(cfg));
		cfg.in_fd = p[k].fd;
		cfg.in_name = p[k].name;
		cfg.out_fd = of.fd;
		cfg.out_name = o->output;
		cfg.nthreads = o->c.threads;
		cfg.raw_out = 1;
		cfg.name_errors = 1;
		memset(&x, 0, sizeof(x));
		x.o = o;
		x.rs.jfd = -1;
		pfs_stats_start(&ps);
		rc = pfs_engine_run(&cfg, join_ops(o), &x, NULL, &ps, e);
		pfs_progress_end(&x.pr, x.done);
		pfs_hashset_free(&x.hs);
		st->frames += ps.frames;
		st->bytes_in += ps.bytes_in;
		st->bytes_out += ps.bytes_out;
		st->blocked_in_ns += ps.blocked_in_ns;
		st->blocked_out_ns += ps.blocked_out_ns;
		if (rc < 0)
			goto out;
	}
	rc = pfs_outfile_commit(&of, out_mode(o, &p[0].head),
	                        (p[0].head.flags & PFS_HF_META) ?
	                        p[0].head.mtime_sec : -1,
	                        p[0].head.mtime_nsec, e);
	opened = 0;
out:
	if (opened)
		pfs_outfile_abort(&of);
	for (k = 0; k < o->nparts; k++)
		if (p[k].fd >= 0)
			close(p[k].fd);
	free(p);
	return rc;
}

