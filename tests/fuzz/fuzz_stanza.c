/*
 * fuzz_stanza - the recipient stanzas of an ENCRYPT record (common/
 * stanza.c, docs/security.md "Recipients"): pfs_stanzas_check, then
 * pfs_stanzas_open with a fixed X25519 identity and key file key, and the
 * describe and KDF readers.
 *
 * The first byte chooses the mode:
 *  - even: the rest is a stanza block as it would sit in a record;
 *  - odd: a valid block is made that wraps a file key (the input's next
 *    32 bytes) for the identity's recipient, a second recipient and the
 *    key, then the rest of the input is XORed onto it, so that the
 *    mutations reach the AEAD and the X25519 shares instead of dying in
 *    the length checks.
 *
 * Password stanzas are checked but never opened (no password is held):
 * Argon2id with parameters up to the caps would take seconds per input.
 *
 * Invariants, a violation traps:
 *  - check and open never read outside the block (ASan);
 *  - a refused block or a failed open leaves a message;
 *  - in the odd mode, an open that succeeds gives exactly the file key
 *    that was wrapped: a damaged stanza never yields another key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "fuzz.h"
#include "recip.h"
#include "secret.h"

/* RFC 7748 section 6.1's Alice and Bob: identity and second recipient */
static const uint8_t alice[32] = {
	0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1,
	0x72, 0x51, 0xb2, 0x66, 0x45, 0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0,
	0x99, 0x2a, 0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a
};
static const uint8_t bob_pk[32] = {
	0xde, 0x9e, 0xdb, 0x7d, 0x7b, 0x7d, 0xc1, 0xb4, 0xd3, 0x5b, 0x61,
	0xc2, 0xec, 0xe4, 0x35, 0x37, 0x3f, 0x83, 0x43, 0xc8, 0x5b, 0x78,
	0x67, 0x4d, 0xad, 0xfc, 0x7e, 0x14, 0x6f, 0x88, 0x2b, 0x4f
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pfs_secret *s;
	static uint8_t block[8192];
	struct pfs_rcps r;
	struct pfs_err e;
	uint8_t fk[32];
	uint32_t t, m;
	size_t n, i;
	char d[64];
	int made = 0;

	if (!s) {
		if (pfs_crypto_init(&e) < 0 || !(s = pfs_secret_new(&e)))
			abort();
	}
	if (size < 1)
		return 0;
	memset(s, 0, sizeof(*s));
	memcpy(s->ids[0], alice, 32);
	s->nids = 1;
	memset(s->key, 0x5a, 32);
	s->has_key = 1;
	if (data[0] & 1) {
		if (size < 33)
			return 0;
		memcpy(fk, data + 1, 32);
		memcpy(s->master, fk, 32);
		memset(&r, 0, sizeof(r));
		if (pfs_x25519(r.pk[0], alice, NULL, &e) < 0)
			abort();
		memcpy(r.pk[1], bob_pk, 32);
		r.n = 2;
		n = pfs_stanzas_len(&r, 1, 0);
		if (pfs_stanzas_make(s, &r, 0, 0, block, &e) < 0)
			abort();
		for (i = 33; i < size && i - 33 < n; i++)
			block[i - 33] ^= data[i];
		memset(s->master, 0, 32);
		made = 1;
	} else {
		n = size - 1 < sizeof(block) ? size - 1 : sizeof(block);
		memcpy(block, data + 1, n);
	}
	e.msg[0] = '\0';
	if (pfs_stanzas_check(block, n, &e) < 0) {
		if (!e.msg[0])
			pfs_fuzz_fail("a refused block without a message");
		return 0;
	}
	pfs_stanzas_describe(block, n, d, sizeof(d));
	if (strlen(d) >= sizeof(d))
		pfs_fuzz_fail("describe overran");
	(void)pfs_stanzas_kdf(block, n, &t, &m);
	/* password stanzas are left alone: see above */
	e.msg[0] = '\0';
	if (pfs_stanzas_open(s, block, n, &e) < 0) {
		if (!e.msg[0])
			pfs_fuzz_fail("a failed open without a message");
		return 0;
	}
	if (made && memcmp(s->master, fk, 32) != 0)
		pfs_fuzz_fail("a damaged stanza opened to another key");
	return 0;
}
