#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "progress.h"
#include "stats.h"
#include "util.h"

void
pfs_progress_init(struct pfs_progress *p, int want, uint64_t total,
                  const char *label)
{
	/* asked for, it is shown wherever stderr goes, as zstd's
	 * --progress is (pipeline asks on a terminal by default) */
	p->on = want;
	/* erase to the end of the line only on a terminal: not into a log
	 * (pipeline erases when it hands a stage's line on to one) */
	p->erase = isatty(2) ? "\033[K" : "";
	p->total = total;
	p->start_ns = p->last_ns = pfs_now_ns();
	p->label = label;
	p->drawn = 0;
}

static void
draw(struct pfs_progress *p, uint64_t done, uint64_t now)
{
	double secs = (double)(now - p->start_ns) / 1e9;
	double rate = secs > 0 ? (double)done / secs : 0;
	char a[32], b[32], eta[32] = "";

	pfs_fmt_size(done, a, sizeof(a));
	if (p->total) {
		pfs_fmt_size(p->total, b, sizeof(b));
		if (rate > 0 && done <= p->total) {
			unsigned long s = (unsigned long)((double)(p->total - done) / rate);
			snprintf(eta, sizeof(eta), "  ETA %lu:%02lu", s / 60, s % 60);
		}
		fprintf(stderr, "\r%s: %s  %s / %s  %3u%%  %.1f MB/s%s%s",
		        pfs_prog, p->label, a, b,
		        (unsigned)(done * 100 / p->total), rate / 1e6, eta,
		        p->erase);
	} else {
		fprintf(stderr, "\r%s: %s  %s  %.1f MB/s%s", pfs_prog,
		        p->label, a, rate / 1e6, p->erase);
	}
	p->drawn = 1;
}

void
pfs_progress_update(struct pfs_progress *p, uint64_t done)
{
	uint64_t now;

	if (!p->on)
		return;
	now = pfs_now_ns();
	if (now - p->last_ns < 250000000u)
		return;
	p->last_ns = now;
	draw(p, done, now);
}

void
pfs_progress_end(struct pfs_progress *p, uint64_t done)
{
	if (!p->on)
		return;
	draw(p, done, pfs_now_ns());
	fputc('\n', stderr);
}
