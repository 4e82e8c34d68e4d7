/*
 * progress.h - a one-line progress display on stderr (--progress).
 *
 * Shown when asked for, wherever stderr goes (as zstd --progress; under
 * pipeline, stderr is a pipe that pipeline reads and hands the display on
 * from), redrawn at most 4 times a second:
 *   pchunk: big.bin  412.0 MiB / 1 GiB  40%  812.3 MB/s  ETA 0:01
 * Without a known total it shows bytes and rate only.
 */
#ifndef PFS_PROGRESS_H
#define PFS_PROGRESS_H

#include <stdint.h>

struct pfs_progress {
	int on;
	uint64_t total;         /* 0: unknown */
	uint64_t start_ns, last_ns;
	const char *label;
	const char *erase;      /* "\033[K" on a terminal, else "" */
	int drawn;
};

/* want: the user asked for --progress (pipeline: or stderr is a terminal) */
void pfs_progress_init(struct pfs_progress *p, int want, uint64_t total,
                       const char *label);
void pfs_progress_update(struct pfs_progress *p, uint64_t done);
/* pfs_progress_end - final redraw and newline (if anything was drawn). */
void pfs_progress_end(struct pfs_progress *p, uint64_t done);

#endif
