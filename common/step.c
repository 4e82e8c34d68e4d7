#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "step.h"

void
pfs_step_init(struct pfs_step *s, const char *name, const char *mode)
{
	s->argv[s->argc++] = name;
	if (mode)
		s->argv[s->argc++] = mode;
	s->nlabel = s->argc;
}

int
pfs_step_add(struct pfs_step *s, const char *a1, const char *a2)
{
	if (s->argc + 2 > PFS_STEP_ARGS)
		return -1;
	s->argv[s->argc++] = a1;
	if (a2)
		s->argv[s->argc++] = a2;
	return 0;
}

void
pfs_step_label(const struct pfs_step *s, char *out, size_t n)
{
	snprintf(out, n, "%s%s%s", s->argv[0], s->nlabel > 1 ? " " : "",
	         s->nlabel > 1 ? s->argv[1] : "");
}

void
pfs_step_argv(const struct pfs_step *s, const char **av, int resolved)
{
	int i, k = 0;

	if (s->perf_out[0]) {
		av[k++] = "perf";
		av[k++] = "record";
		av[k++] = "-g";
		av[k++] = "-o";
		av[k++] = s->perf_out;
		av[k++] = "--";
	}
	for (i = 0; i < s->argc; i++, k++)
		av[k] = i == 0 && k && resolved ? s->path : s->argv[i];
	av[k] = NULL;
}

int
pfs_steps_resolve(struct pfs_step *s, unsigned n, const char *perf_dir,
                  char *perf, size_t perfn, struct pfs_err *e)
{
	char self[PATH_MAX], lab[128];
	unsigned i;

	pfs_proc_self_dir(self, sizeof(self));
	for (i = 0; i < n; i++) {
		if (pfs_proc_find(self, s[i].argv[0], s[i].path,
		                  PATH_MAX) == 0)
			continue;
		pfs_step_label(&s[i], lab, sizeof(lab));
		return pfs_seterr(e, "stage %u (%s): %s: not found next to "
		                  "pipeline or in PATH", i + 1, lab,
		                  s[i].argv[0]);
	}
	if (perf_dir) {
		if (pfs_proc_find(NULL, "perf", perf, perfn) < 0)
			return pfs_seterr(e, "--perf: perf: not found in PATH");
		if (mkdir(perf_dir, 0777) < 0 && errno != EEXIST)
			return pfs_seterr(e, "--perf: %s: %s", perf_dir,
			                  strerror(errno));
	}
	return 0;
}

void
pfs_steps_chain(struct pfs_step *s, unsigned n, struct pfs_proc *procs,
                const char *perf, int in_fd, int out_fd,
                struct pfs_chain *c)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		pfs_step_argv(&s[i], s[i].av, 1);
		procs[i].path = perf[0] ? perf : s[i].path;
		procs[i].argv = s[i].av;
	}
	pfs_chain_init(c, procs, n);
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->capture_stderr = 1;
}
