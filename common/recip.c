/*
 * recip.c - X25519, recipient and identity lines and files, identity
 * generation (recip.h).  The stanzas are in stanza.c.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <gcrypt.h>

#include "io.h"
#include "recip.h"

#define FILE_MAX  ((64u << 10) + 1)   /* a recipients file, + 1 */
#define ID_MAX    ((8u << 10) + 1)    /* an identity file (secure memory) */

int
pfs_x25519(uint8_t out[PFS_X25519_LEN], const uint8_t scalar[PFS_X25519_LEN],
           const uint8_t *point, struct pfs_err *e)
{
	gcry_error_t ge;
	uint8_t acc = 0;
	size_t i;

	ge = gcry_ecc_mul_point(GCRY_ECC_CURVE25519, out, scalar, point);
	if (ge)
		return pfs_seterr(e, "X25519: %s", gcry_strerror(ge));
	for (i = 0; i < PFS_X25519_LEN; i++)
		acc |= out[i];
	/* a low-order point gives zero whatever the scalar: refused, as
	 * RFC 7748 section 6.1 allows and age requires */
	if (!acc)
		return pfs_seterr(e, "X25519: low-order public key refused");
	return 0;
}

int
pfs_rcp_of(const uint8_t sk[PFS_X25519_LEN], char *out, struct pfs_err *e)
{
	uint8_t pk[PFS_X25519_LEN];

	if (pfs_x25519(pk, sk, NULL, e) < 0)
		return -1;
	pfs_typed_format(PFS_RCP_PREFIX, pk, out);
	return 0;
}

int
pfs_rcp_add(struct pfs_rcps *r, const char *s, const char *what,
            struct pfs_err *e)
{
	uint8_t pk[PFS_X25519_LEN], q[PFS_X25519_LEN];
	size_t n = strlen(s);
	unsigned i;
	int rc;

	rc = pfs_typed_parse(PFS_RCP_PREFIX, (const uint8_t *)s, n, pk);
	if (rc == -2)
		return pfs_seterr(e, "%s: recipient fails its checksum "
		                  "(damaged or mistyped)", what);
	if (rc < 0 && strncmp(s, PFS_ID_TYPE, sizeof(PFS_ID_TYPE) - 1) == 0)
		return pfs_seterr(e, "%s: an identity (a secret), not a "
		                  "recipient: give the recipient that "
		                  "'pencrypt --recipient-of FILE' prints", what);
	if (rc < 0)
		return pfs_seterr(e, "%s: not a pfs recipient (one is %s and "
		                  "48 base64url characters, printed by "
		                  "'pencrypt --recipient-of IDENTITY')", what,
		                  PFS_RCP_PREFIX);
	/* a share with a low-order key would be zero: caught here, where
	 * the user can still fix it, not when encrypting */
	if (pfs_x25519(q, pk, pk, e) < 0) {
		pfs_prefix(e, what);
		return -1;
	}
	for (i = 0; i < r->n; i++)
		if (memcmp(r->pk[i], pk, sizeof(pk)) == 0)
			return 0;
	if (r->n == PFS_RCPS_MAX)
		return pfs_seterr(e, "%s: more than %u recipients", what,
		                  PFS_RCPS_MAX);
	memcpy(r->pk[r->n++], pk, sizeof(pk));
	return 0;
}

/* slurp - file path ("-": stdin) into buf (cap bytes), its length in *n;
 * a file that fills buf is refused */
static int
slurp(const char *path, uint8_t *buf, size_t cap, size_t *n, unsigned *mode,
      struct pfs_err *e)
{
	if (pfs_read_small(path, 1, buf, cap, n, mode, e) < 0)
		return -1;
	if (*n == cap)
		return pfs_seterr(e, "%s: larger than %zu KiB: not a%s file",
		                  path, (cap - 1) >> 10, cap == FILE_MAX ?
		                  " recipients" : "n identity");
	return 0;
}

/* next_line - the next line of buf[*pos..n) that is neither empty nor a
 * comment, without its newline and trailing blanks: its start, or NULL;
 * *len its length, *lineno its number */
static const char *
next_line(const uint8_t *buf, size_t n, size_t *pos, size_t *len,
          unsigned *lineno)
{
	const char *p;
	size_t l;

	while (*pos < n) {
		p = (const char *)buf + *pos;
		l = 0;
		while (*pos + l < n && buf[*pos + l] != '\n')
			l++;
		*pos += l + (*pos + l < n);
		++*lineno;
		while (l && (p[l - 1] == ' ' || p[l - 1] == '\t' ||
		             p[l - 1] == '\r'))
			l--;
		if (l && p[0] != '#') {
			*len = l;
			return p;
		}
	}
	return NULL;
}

int
pfs_rcp_file(struct pfs_rcps *r, const char *path, struct pfs_err *e)
{
	static uint8_t buf[FILE_MAX];
	char line[PFS_RCP_LINE_LEN + 2], what[300];
	const char *p;
	size_t n, pos = 0, len;
	unsigned lineno = 0, found = 0;
	unsigned mode;

	if (slurp(path, buf, sizeof(buf), &n, &mode, e) < 0)
		return -1;
	while ((p = next_line(buf, n, &pos, &len, &lineno))) {
		snprintf(what, sizeof(what), "%s:%u", path, lineno);
		if (len > PFS_RCP_LINE_LEN)
			len = PFS_RCP_LINE_LEN + 1;   /* too long: not one */
		memcpy(line, p, len);
		line[len] = '\0';
		if (pfs_rcp_add(r, line, what, e) < 0)
			return -1;
		found++;
	}
	if (!found)
		return pfs_seterr(e, "%s: no recipient in the file", path);
	return 0;
}

int
pfs_id_file(struct pfs_secret *s, const char *path, struct pfs_err *warn,
            struct pfs_err *e)
{
	uint8_t *buf, v[PFS_X25519_LEN];
	const char *p;
	size_t n, pos = 0, len;
	unsigned lineno = 0, found = 0;
	unsigned mode;
	int rc = -1, t;

	warn->msg[0] = '\0';
	buf = gcry_malloc_secure(ID_MAX);
	if (!buf)
		return pfs_seterr(e, "out of secure memory");
	if (slurp(path, buf, ID_MAX, &n, &mode, e) < 0)
		goto out;
	while ((p = next_line(buf, n, &pos, &len, &lineno))) {
		t = pfs_typed_parse(PFS_ID_PREFIX, (const uint8_t *)p, len, v);
		if (t == -2) {
			pfs_seterr(e, "%s:%u: identity fails its checksum "
			           "(damaged or mistyped)", path, lineno);
			goto out;
		}
		if (t < 0 && len >= sizeof(PFS_KEY_TYPE) - 1 &&
		    memcmp(p, PFS_KEY_TYPE, sizeof(PFS_KEY_TYPE) - 1) == 0) {
			pfs_seterr(e, "%s: a key file, not an identity: give it "
			           "with --key-file", path);
			goto out;
		}
		if (t < 0) {
			pfs_seterr(e, "%s:%u: not a pfs identity (one is %s and "
			           "48 base64url characters, made by 'pencrypt "
			           "--keygen-identity')", path, lineno,
			           PFS_ID_PREFIX);
			goto out;
		}
		if (s->nids == PFS_IDS_MAX) {
			pfs_seterr(e, "%s: more than %u identities", path,
			           PFS_IDS_MAX);
			goto out;
		}
		memcpy(s->ids[s->nids++], v, sizeof(v));
		found++;
	}
	if (!found) {
		pfs_seterr(e, "%s: no identity in the file", path);
		goto out;
	}
	if (mode)
		pfs_secret_mode_warn(path, mode, "identity file", warn);
	rc = 0;
out:
	explicit_bzero(v, sizeof(v));
	gcry_free(buf);              /* secure memory: wiped */
	return rc;
}

int
pfs_id_keygen(const char *path, char *rcp, struct pfs_err *warn,
              struct pfs_err *e)
{
	struct {
		uint8_t sk[PFS_X25519_LEN];
		char text[256];
	} *k;
	char now[32];
	time_t t = time(NULL);
	struct tm tm;
	int rc = -1, n;

	k = gcry_malloc_secure(sizeof(*k));
	if (!k)
		return pfs_seterr(e, "out of secure memory");
	gcry_randomize(k->sk, sizeof(k->sk), GCRY_VERY_STRONG_RANDOM);
	if (pfs_rcp_of(k->sk, rcp, e) < 0)
		goto out;
	if (!gmtime_r(&t, &tm) ||
	    !strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(now, sizeof(now), "unknown");
	n = snprintf(k->text, sizeof(k->text),
	             "# created: %s\n# recipient: %s\n", now, rcp);
	pfs_typed_format(PFS_ID_PREFIX, k->sk, k->text + n);
	n += (int)PFS_ID_LINE_LEN;
	k->text[n++] = '\n';
	rc = pfs_secret_write(path, k->text, (size_t)n, "identity",
	                      "pencrypt --keygen-identity -o FILE", warn, e);
out:
	gcry_free(k);                /* secure memory: wiped */
	return rc;
}
