/*
 * keys.c - pencrypt's secrets (pencrypt.h): the key option or the prompt,
 * the identities of -i and the new key or password of --rekey, each in a
 * struct pfs_secret in secure memory; and the commands that make or show
 * keys: --keygen, --keygen-identity, --recipient-of.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "digest.h"
#include "err.h"
#include "pencrypt.h"
#include "recip.h"
#include "secret.h"

int
keys_prompt(const struct opts *o)
{
	return o->key.src == PFS_KS_NONE &&
	       !(o->decrypt || o->rekey || o->cont ? o->nids : o->rcps.n);
}

int
keys_load(const struct opts *o, int tty, struct pfs_secret **sec,
          struct pfs_secret **newsec, struct pfs_err *e)
{
	const struct pfs_keyopt *k = &o->key;
	struct pfs_err w;
	unsigned i;

	*sec = *newsec = NULL;
	/* no key option: the prompt, unless recipients (encrypting) or
	 * identities (opening) stand in for it */
	if (k->src == PFS_KS_NONE && (!keys_prompt(o) || o->decrypt ||
	    o->rekey))
		k = NULL;
	*sec = pfs_cli_secret(k, tty, !o->decrypt && !o->rekey && !o->cont,
	                      e);
	if (!*sec)
		return -1;
	for (i = 0; i < o->nids; i++) {
		if (pfs_id_file(*sec, o->ids[i], &w, e) < 0)
			return -1;
		if (w.msg[0])
			pfs_warn("warning: %s", w.msg);
	}
	if (!o->rekey)
		return 0;
	*newsec = pfs_cli_secret(o->newkey.src == PFS_KS_NONE ? NULL :
	                         &o->newkey, -1, 0, e);
	return *newsec ? 0 : -1;
}

/* recipient_of - the recipient of every identity in o->rcp_of */
static int
recipient_of(const struct opts *o, struct pfs_err *e)
{
	struct pfs_secret *s;
	char line[PFS_RCP_LINE_LEN + 1];
	struct pfs_err w;
	unsigned i;
	int rc = -1;

	s = pfs_cli_secret(NULL, -1, 0, e);
	if (!s)
		return -1;
	if (pfs_id_file(s, o->rcp_of, &w, e) < 0)
		goto out;
	if (w.msg[0])
		pfs_warn("warning: %s", w.msg);
	for (i = 0; i < s->nids; i++) {
		if (pfs_rcp_of(s->ids[i], line, e) < 0)
			goto out;
		printf("%s\n", line);
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno == EPIPE)
			pfs_die_of_sigpipe();
		pfs_seterr(e, "stdout: write error: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	pfs_secret_free(s);              /* wiped */
	return rc;
}

int
keys_command(const struct opts *o)
{
	char rcp[PFS_RCP_LINE_LEN + 1];
	struct pfs_err e, w;
	int rc;

	pfs_secret_nodump(NULL);
	if (pfs_crypto_init(&e) < 0)
		pfs_die(PFS_EXIT_ERR, "%s", e.msg);
	w.msg[0] = '\0';
	if (o->keygen)
		rc = pfs_keygen(o->keygen_out, &w, &e);
	else if (o->keygen_id)
		rc = pfs_id_keygen(o->keygen_out, rcp, &w, &e);
	else
		rc = recipient_of(o, &e);
	if (rc < 0)
		pfs_die(PFS_EXIT_ERR, "%s", e.msg);
	if (w.msg[0])
		pfs_warn("warning: %s", w.msg);
	/* as age-keygen: the recipient to hand out, when the identity
	 * went to a file */
	if (o->keygen_id && o->keygen_out)
		pfs_warn("recipient: %s", rcp);
	return PFS_EXIT_OK;
}
