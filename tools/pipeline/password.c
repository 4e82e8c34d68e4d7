/*
 * password.c - with no key option and a terminal, pipeline asks for the
 * password itself, once for all FILEs (twice, to confirm, when
 * encrypting), instead of each pencrypt stage asking again.  Each pencrypt
 * that needs it gets it on a pipe of its own, as --password-fd N: the pipe
 * is close-on-exec and that stage alone inherits it (keep_fd, proc.h), so
 * the password is never in an argument or the environment.  It is held in
 * libgcrypt secure memory (pfs_cli_secret, cli.h) and wiped by
 * password_forget() before pipeline exits.  The prompt comes before any
 * output is created: a signal at the prompt ends pipeline at once
 * (pfs_tty_ask, secret.h).  --password-fd N is read here too, once, before
 * any FILE (password_read_fd), and passed on the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gcrypt.h>

#include "cli.h"
#include "err.h"
#include "files.h"
#include "io.h"
#include "pipeline.h"
#include "secret.h"
#include "step.h"

static struct pfs_secret *held;  /* the password, once asked */
static int given_up;             /* the prompt failed: not asked again */

void
password_forget(void)
{
	if (!held)
		return;
	pfs_secret_free(held);           /* wiped */
	held = NULL;
	gcry_control(GCRYCTL_TERM_SECMEM);
}

int
password_given_up(void)
{
	return given_up;
}

void
password_close(struct pipeline *p)
{
	while (p->nopen > 0)
		(void)close(p->askfd[--p->nopen]);
}

/* ask - the password from the terminal into held, confirmed for process */
static int
ask(const struct opts *o, struct pfs_err *e)
{
	struct pfs_keyopt k;
	int tty;

	pfs_keyopt_init(&k);
	tty = pfs_tty_open();
	if (tty < 0) {
		given_up = 1;
		return pfs_seterr(e, "no terminal to ask for the password: "
		                  "give --key-file F, --password-file F or "
		                  "--password-fd N");
	}
	held = pfs_cli_secret(&k, tty, o->cmd->cmd == C_PROCESS, e);
	(void)close(tty);
	if (!held) {
		given_up = 1;
		return -1;
	}
	(void)atexit(password_forget);
	return 0;
}

/* fill - a close-on-exec pipe holding the password and a newline (far
 * less than a pipe's buffer: the writes never block); its read end in
 * *rfd */
static int
fill(int *rfd, struct pfs_err *e)
{
	int fd[2], rc;

	if (pipe(fd) < 0)
		return pfs_seterr(e, "password pipe: %s", strerror(errno));
	(void)fcntl(fd[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(fd[1], F_SETFD, FD_CLOEXEC);
	rc = pfs_write_full(fd[1], held->pw, held->pwlen, NULL) < 0 ||
	     pfs_write_full(fd[1], "\n", 1, NULL) < 0 ? -1 : 0;
	if (rc < 0)
		pfs_seterr(e, "password pipe: %s", strerror(errno));
	(void)close(fd[1]);
	if (rc < 0)
		(void)close(fd[0]);
	else
		*rfd = fd[0];
	return rc;
}

void
password_read_fd(const struct opts *o)
{
	struct pfs_keyopt k;
	struct pfs_err e;
	const char *m;

	pfs_keyopt_init(&k);
	if (pfs_keyopt_set(&k, PFS_KS_PWFD, o->key_file, &e) < 0)
		pfs_usage_error("--password-fd: %s", e.msg);
	held = pfs_cli_secret(&k, -1, 0, &e);
	if (!held) {
		/* "descriptor N: reason" from secret.c, said as the option */
		m = strncmp(e.msg, "descriptor ", 11) == 0 &&
		    strstr(e.msg, ": ") ? strstr(e.msg, ": ") + 2 : e.msg;
		pfs_die(PFS_EXIT_ERR, "--password-fd %s: %s", o->key_file, m);
	}
	(void)atexit(password_forget);
}

int
password_held(void)
{
	return held != NULL;
}

int
password_pass(const struct opts *o, struct pipeline *p, const char *out,
              struct pfs_err *e)
{
	struct pfs_step *s;
	unsigned i;

	if (!p->nask)
		return 0;
	if (!held) {
		if (o->cmd->cmd == C_PROCESS && strcmp(out, "-") != 0 &&
		    pfs_out_free(out, o->force, e) < 0)
			return -1;
		if (ask(o, e) < 0)
			return -1;
	}
	for (i = 0; i < p->nask; i++) {
		s = &p->s[p->ask[i]];
		if (fill(&p->askfd[i], e) < 0)
			return -1;
		p->nopen = i + 1;
		snprintf(p->askarg[i], sizeof(p->askarg[i]), "%d",
		         p->askfd[i]);
		if (pfs_step_add(s, "--password-fd", p->askarg[i]) < 0)
			return pfs_seterr(e, "%s: too many arguments",
			                  s->argv[0]);
	}
	return 0;
}
