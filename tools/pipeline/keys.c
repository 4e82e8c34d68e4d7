/*
 * keys.c - the key options checked once, before any FILE is started
 * (pipeline.h): a --recipient that is not a recipient is a usage error
 * (exit 2); a key, password, recipients or identity file that cannot be
 * read or holds no key is an error (exit 1), said once in pipeline's own
 * option names, not by every pencrypt stage in its own.  The parsing is
 * pencrypt's (recip.h, secret.h).  A file that is not a regular file (a
 * FIFO, /dev/fd/N of a process substitution) is only stat()ed: reading
 * it here would take what the stage is to read.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "digest.h"
#include "err.h"
#include "pipeline.h"
#include "recip.h"
#include "secret.h"

/* readable - 1 when path is a regular file to read here; 0 when it is
 * something else that exists (left to the stage); -1 with e set */
static int
readable(const char *opt, const char *path, struct pfs_err *e)
{
	struct stat st;

	if (strcmp(path, "-") == 0)
		return 0;
	if (stat(path, &st) < 0)
		return pfs_seterr(e, "%s %s: %s", opt, path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return pfs_seterr(e, "%s %s: is a directory", opt, path);
	return S_ISREG(st.st_mode);
}

/* fail - e as "OPT PATH: reason" (the parsers' messages start with PATH,
 * or PATH:LINE) */
static _Noreturn void
fail(const char *opt, const char *path, struct pfs_err *e)
{
	if (strncmp(e->msg, opt, strlen(opt)) == 0)
		pfs_die(PFS_EXIT_ERR, "%s", e->msg);
	if (strncmp(e->msg, path, strlen(path)) == 0)
		pfs_die(PFS_EXIT_ERR, "%s %s", opt, e->msg);
	pfs_die(PFS_EXIT_ERR, "%s %s: %s", opt, path, e->msg);
}

void
check_keys(const struct opts *o)
{
	static struct pfs_rcps rcps;
	struct pfs_secret *s;
	struct pfs_keyopt k;
	struct pfs_err e, warn;
	unsigned i;
	int r, rc = 0;
	const char *path = NULL, *opt = NULL;
	char what[128];

	if (!o->nrcp && !o->nids && !o->key_opt)
		return;
	if (pfs_crypto_init(&e) < 0)
		pfs_die(PFS_EXIT_ERR, "%s", e.msg);
	/* the strings first: a usage error, whatever the files hold */
	for (i = 0; i < o->nrcp; i++) {
		if (strcmp(o->rcp_opt[i], "-r") != 0)
			continue;
		snprintf(what, sizeof(what), "--recipient %s", o->rcp_arg[i]);
		if (pfs_rcp_add(&rcps, o->rcp_arg[i], what, &e) < 0)
			pfs_usage_error("%s", e.msg);
	}
	if (o->dry_run)
		return;
	for (i = 0; i < o->nrcp; i++) {
		if (strcmp(o->rcp_opt[i], "-R") != 0)
			continue;
		r = readable("--recipients-file", o->rcp_arg[i], &e);
		if (r < 0)
			fail("--recipients-file", o->rcp_arg[i], &e);
		if (r && pfs_rcp_file(&rcps, o->rcp_arg[i], &e) < 0)
			fail("--recipients-file", o->rcp_arg[i], &e);
	}
	if (o->key_opt && strcmp(o->key_opt, "--password-fd") == 0)
		password_read_fd(o);
	if (!o->nids && (!o->key_opt ||
	    strcmp(o->key_opt, "--password-fd") == 0))
		return;
	s = pfs_secret_new(&e);
	if (!s)
		pfs_die(PFS_EXIT_ERR, "%s", e.msg);
	for (i = 0; i < o->nids && rc == 0; i++) {
		opt = "--identity";
		path = o->id_arg[i];
		r = readable(opt, path, &e);
		rc = r < 0 ? -1 : r ? pfs_id_file(s, path, &warn, &e) : 0;
	}
	if (rc == 0 && o->key_opt && strcmp(o->key_opt, "--password-fd")) {
		opt = o->key_opt;
		path = o->key_file;
		pfs_keyopt_init(&k);
		k.src = strcmp(opt, "--key-file") == 0 ? PFS_KS_KEYFILE :
		        strcmp(opt, "--raw-key-file") == 0 ? PFS_KS_RAWKEY :
		        PFS_KS_PWFILE;
		k.path = path;
		r = readable(opt, path, &e);
		rc = r < 0 ? -1 : r ? pfs_secret_load(s, &k, -1, 0, &warn, &e) :
		     0;
	}
	pfs_secret_free(s);
	if (rc < 0)
		fail(opt, path, &e);
}
