/*
 * pencrypt - encrypt (or, with -d, decrypt) the chunks of a frame stream
 * with AES-256-GCM or ChaCha20-Poly1305 from libgcrypt.
 *
 * The construction is specified in docs/security.md; in short: master key
 * from a key file or Argon2id(password); per-stream payload and header keys
 * by HKDF-SHA-256 from a random stream salt; an HMAC-SHA-256 over HEAD (with
 * our ENCRYPT record) so that a wrong key fails before anything is written;
 * every DATA, DIGEST and END payload sealed with a nonce made of a counter,
 * the frame type and a final flag, and the frame's fields in the AAD.
 *
 * Threads: DATA frames (the bulk) are sealed and opened on the engine's
 * worker threads, each with its own cipher handle, in place in the slot's
 * input buffer; their nonce counter is their seq.  DIGEST and END frames
 * are small and are handled in the
 * ordered callback on the writer thread, which sees frames in stream order
 * and so can count DIGEST frames; END authenticates that count.
 *
 * Secrets (master key, derived keys, password, key file bytes) live in one
 * struct in libgcrypt secure memory, freed (and so wiped) on every path
 * before the program reports and exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <gcrypt.h>

#include "digest.h"
#include "engine.h"
#include "err.h"
#include "io.h"
#include "stages.h"
#include "stats.h"
#include "util.h"
#include "wire.h"

#define KEY_LEN       32u
#define TAG_LEN       16u
#define NONCE_LEN     12u
#define MAC_LEN       32u
#define SALT_LEN      32u
#define KDF_SALT_LEN  16u
#define PASS_MAX      1024u
#define PIECE         (64u << 10)   /* bytes per gcry_cipher_encrypt call */
#define THREADS_MAX   16u           /* each holds a key schedule in the 64 KiB
                                       of secure memory (~2 KiB for GCM) */

/* Argon2id: defaults, and the limits enforced before deriving */
#define KDF_T_DEF     3u
#define KDF_M_DEF     (64u << 10)   /* KiB */
#define KDF_P_DEF     1u
#define KDF_T_MAX     16u
#define KDF_M_MAX     (1u << 20)    /* KiB = 1 GiB */
#define KDF_P_MAX     16u

/* ENCRYPT record params (docs/security.md) */
enum {
	R_CIPHER = 0, R_KDF = 1, R_FLAGS = 2, R_RESERVED = 3,
	R_T = 4, R_M = 8, R_P = 12, R_KSALT = 16, R_SALT = 32, R_MAC = 64,
	R_LEN = 96,                   /* params without a hidden name */
	R_NAMELEN = 96, R_NAME = 97   /* with RF_HIDE_NAME */
};
#define RF_HIDE_NAME  0x01u

static const char hkdf_info[] = "pfs1 pencrypt stream keys";

struct cipher {
	unsigned id;                  /* enum pfs_cipher */
	const char *name;
	int algo, mode;               /* libgcrypt */
};

static const struct cipher ciphers[] = {
	{ PFS_E_AES256GCM, "aes-256-gcm", GCRY_CIPHER_AES256,
	  GCRY_CIPHER_MODE_GCM },
	{ PFS_E_CHACHA20POLY1305, "chacha20-poly1305", GCRY_CIPHER_CHACHA20,
	  GCRY_CIPHER_MODE_POLY1305 },
};
#define NCIPHERS (sizeof(ciphers) / sizeof(ciphers[0]))

enum { KS_NONE, KS_KEYFILE, KS_PWFILE, KS_PWFD };

struct opts {
	const struct cipher *cipher;  /* NULL: not given */
	int decrypt, force, hide_name, keygen;
	int ksrc;                     /* KS_*; KS_NONE: ask on the terminal */
	const char *kpath;            /* key or password file */
	int kfd;                      /* --password-fd */
	long kdf_t;                   /* 0: default */
	uint64_t kdf_m;               /* bytes, 0: default */
	const char *input;
	struct pfs_common c;
};

/* Everything secret, in one block of secure memory. */
struct secret {
	uint8_t master[KEY_LEN];
	uint8_t keys[2 * KEY_LEN];    /* payload key || header MAC key */
	uint8_t kbuf[160];            /* key file bytes as read */
	char pw[PASS_MAX + 1], pw2[PASS_MAX + 1];
	size_t pwlen, pw2len;
};

struct ctx {
	const struct opts *o;
	const char *name;             /* input name for messages */
	const struct cipher *cipher;
	struct secret *sec;
	int password;                 /* sec->pw holds the password */
	gcry_cipher_hd_t oh;          /* writer thread: DIGEST, END, name */
	uint64_t ndigest;             /* DIGEST frames sealed or opened */
	uint64_t next_seq, raw_total, last_seq;
	int have_data;
};

static _Noreturn void
usage(void)
{
	printf("Usage: %s (--key-file F | --password-file F | --password-fd N) [OPTION]... [FILE|-]\n"
	       "       %s --keygen\n"
	       "Encrypt the chunks of a frame stream (FILE or standard input), or decrypt\n"
	       "them with -d; every chunk is authenticated (docs/security.md).\n"
	       "\n"
	       "      --key-file F       key: 32 raw bytes or 64 hex digits in file F\n"
	       "      --password-file F  password: the first line of file F (Argon2id)\n"
	       "      --password-fd N    password: the first line read from descriptor N\n"
	       "                         (none of the three: asked on the terminal)\n"
	       "      --keygen           print a new random key (64 hex digits) and exit\n"
	       "      --cipher NAME      aes-256-gcm (default) or chacha20-poly1305\n"
	       "      --hide-name        keep the source name out of HEAD (sealed instead)\n"
	       "      --kdf-time N       Argon2id passes, 1-%u (default %u)\n"
	       "      --kdf-memory SIZE  Argon2id memory, 8K-1G (default %u MiB)\n"
	       "  -d, --decrypt          undo the top ENCRYPT record of the stream\n"
	       "  -f, --force            write the stream even to a terminal\n"
	       "  -T, --threads N        worker threads, at most %u (default: number of\n"
	       "                         CPUs)\n"
	       "  -q, --quiet            no warnings\n"
	       "      --stats[=json]     print statistics to stderr at exit (also PFS_STATS=1)\n"
	       "  -h, --help             show this help\n"
	       "  -V, --version          show the version\n"
	       "\n"
	       "There is no way to give a key or a password on the command line.\n"
	       "Exit status: 0 success, 1 error (also a wrong key or password), 2 bad usage.\n"
	       "Example: pencrypt --keygen > k; pchunk f | pencrypt --key-file k > f.pfs\n",
	       pfs_prog, pfs_prog, KDF_T_MAX, KDF_T_DEF, KDF_M_DEF >> 10,
	       THREADS_MAX);
	exit(fflush(stdout) == 0 ? 0 : 1);
}

static const struct cipher *
cipher_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < NCIPHERS; i++)
		if (strcmp(ciphers[i].name, name) == 0)
			return &ciphers[i];
	return NULL;
}

static const struct cipher *
cipher_by_id(unsigned id)
{
	size_t i;

	for (i = 0; i < NCIPHERS; i++)
		if (ciphers[i].id == id)
			return &ciphers[i];
	return NULL;
}

static void
set_source(struct opts *o, int ks, const char *path, int fd)
{
	if (o->ksrc)
		pfs_usage_error("give one of --key-file, --password-file and "
		                "--password-fd");
	o->ksrc = ks;
	o->kpath = path;
	o->kfd = fd;
}

static void
parse(int argc, char **argv, struct opts *o)
{
	enum {
		OPT_KEYFILE = PFS_OPT_TOOL_BASE, OPT_PWFILE, OPT_PWFD,
		OPT_KEYGEN, OPT_CIPHER, OPT_HIDE, OPT_KDFT, OPT_KDFM
	};
	static const struct option longopts[] = {
		{ "key-file", required_argument, NULL, OPT_KEYFILE },
		{ "password-file", required_argument, NULL, OPT_PWFILE },
		{ "password-fd", required_argument, NULL, OPT_PWFD },
		{ "keygen", no_argument, NULL, OPT_KEYGEN },
		{ "cipher", required_argument, NULL, OPT_CIPHER },
		{ "hide-name", no_argument, NULL, OPT_HIDE },
		{ "kdf-time", required_argument, NULL, OPT_KDFT },
		{ "kdf-memory", required_argument, NULL, OPT_KDFM },
		{ "decrypt", no_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		{ "threads", required_argument, NULL, 'T' },
		PFS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct pfs_err e;
	long v;
	int ch, nopt = 0;

	memset(o, 0, sizeof(*o));
	o->kfd = -1;
	pfs_common_init(&o->c);
	while ((ch = getopt_long(argc, argv, "dfT:qhV", longopts,
	                         NULL)) != -1) {
		nopt++;
		if (pfs_common_opt(&o->c, ch, optarg))
			continue;
		switch (ch) {
		case OPT_KEYFILE:
			set_source(o, KS_KEYFILE, optarg, -1);
			break;
		case OPT_PWFILE:
			set_source(o, KS_PWFILE, optarg, -1);
			break;
		case OPT_PWFD:
			if (pfs_parse_int(optarg, 0, 1 << 20, &v, &e) < 0)
				pfs_usage_error("--password-fd: %s", e.msg);
			set_source(o, KS_PWFD, NULL, (int)v);
			break;
		case OPT_KEYGEN:
			o->keygen = 1;
			break;
		case OPT_CIPHER:
			o->cipher = cipher_by_name(optarg);
			if (!o->cipher)
				pfs_usage_error("unknown cipher '%s' (aes-256-gcm "
				                "or chacha20-poly1305)", optarg);
			break;
		case OPT_HIDE:
			o->hide_name = 1;
			break;
		case OPT_KDFT:
			if (pfs_parse_int(optarg, 1, KDF_T_MAX, &o->kdf_t, &e) < 0)
				pfs_usage_error("--kdf-time: %s", e.msg);
			break;
		case OPT_KDFM:
			if (pfs_parse_size(optarg, 8u << 10,
			                   (uint64_t)KDF_M_MAX << 10, &o->kdf_m,
			                   &e) < 0)
				pfs_usage_error("--kdf-memory: %s", e.msg);
			break;
		case 'd':
			o->decrypt = 1;
			break;
		case 'f':
			o->force = 1;
			break;
		case 'h':
			usage();
		default:
			pfs_usage_try();
		}
	}
	o->input = pfs_one_input(argc, argv, optind);
	if (o->keygen) {
		if (nopt > 1 || o->input)
			pfs_usage_error("--keygen takes no other option or file");
		return;
	}
	if (o->c.threads > THREADS_MAX)
		pfs_usage_error("-T: at most %u threads (every thread keeps "
		                "its key schedule in secure memory)", THREADS_MAX);
	if (!o->c.threads)
		o->c.threads = pfs_default_threads();
	if (o->c.threads > THREADS_MAX)
		o->c.threads = THREADS_MAX;
	if (o->decrypt && o->cipher)
		pfs_usage_error("-d reads the cipher from the stream: drop "
		                "--cipher");
	if (o->decrypt && o->hide_name)
		pfs_usage_error("-d restores a hidden name by itself: drop "
		                "--hide-name");
	if ((o->kdf_t || o->kdf_m) && (o->decrypt || o->ksrc == KS_KEYFILE))
		pfs_usage_error("--kdf-time and --kdf-memory are for encrypting "
		                "with a password%s", o->decrypt ? " (-d reads "
		                "them from the stream)" : "");
	if (o->kdf_m % 1024)
		pfs_usage_error("--kdf-memory: a whole number of KiB, please");
	if (o->ksrc == KS_PWFD && o->kfd == 0 &&
	    (!o->input || strcmp(o->input, "-") == 0))
		pfs_usage_error("--password-fd 0 is the stream's input: use "
		                "another descriptor");
	if (!o->cipher)
		o->cipher = &ciphers[0];
}

/* --- reading keys and passwords --- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* load_key - the key file: 32 raw bytes, or 64 hex digits and at most one
 * newline.  The bytes read stay in secure memory. */
static int
load_key(struct secret *sec, const char *path, struct pfs_err *e)
{
	size_t n = 0, i;
	ssize_t r;
	int fd, hi, lo, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pfs_seterr(e, "%s: %s", path, strerror(errno));
	while (n < sizeof(sec->kbuf)) {
		r = read(fd, sec->kbuf + n, sizeof(sec->kbuf) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			pfs_seterr(e, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n == KEY_LEN) {
		memcpy(sec->master, sec->kbuf, KEY_LEN);
		rc = 0;
		goto out;
	}
	if (n == 2 * KEY_LEN + 1 && sec->kbuf[2 * KEY_LEN] == '\n')
		n--;
	if (n != 2 * KEY_LEN)
		goto bad;
	for (i = 0; i < KEY_LEN; i++) {
		hi = hexval(sec->kbuf[2 * i]);
		lo = hexval(sec->kbuf[2 * i + 1]);
		if (hi < 0 || lo < 0)
			goto bad;
		sec->master[i] = (uint8_t)(hi << 4 | lo);
	}
	rc = 0;
	goto out;
bad:
	pfs_seterr(e, "%s: not a key file (expected 32 raw bytes or 64 hex "
	           "digits)", path);
out:
	explicit_bzero(sec->kbuf, sizeof(sec->kbuf));
	close(fd);
	return rc;
}

/* read_line - the first line of fd (without its newline) into buf, which
 * holds PASS_MAX + 1 bytes.  Reads byte by byte so that nothing after the
 * line is consumed.  Returns the length, or -1 with e set. */
static ssize_t
read_line(int fd, const char *what, char *buf, struct pfs_err *e)
{
	size_t n = 0;
	ssize_t r;
	char c;

	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR && !pfs_interrupted)
			continue;
		if (r < 0)
			return pfs_seterr(e, "%s: %s", what, strerror(errno));
		if (r == 0 || c == '\n')
			break;
		if (n == PASS_MAX) {
			explicit_bzero(&c, sizeof(c));
			return pfs_seterr(e, "%s: password too long (at most %u "
			                  "bytes)", what, PASS_MAX);
		}
		buf[n++] = c;
	}
	explicit_bzero(&c, sizeof(c));
	buf[n] = '\0';
	if (n == 0)
		return pfs_seterr(e, "%s: empty password", what);
	return (ssize_t)n;
}

/* ask - prompt on the terminal with echo off. */
static ssize_t
ask(int tty, const char *prompt, char *buf, struct pfs_err *e)
{
	struct termios old, quiet;
	ssize_t n;
	int echo_off = 0;

	if (pfs_write_full(tty, prompt, strlen(prompt), NULL) < 0)
		return pfs_seterr(e, "/dev/tty: %s", strerror(errno));
	if (tcgetattr(tty, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		echo_off = tcsetattr(tty, TCSANOW, &quiet) == 0;
	}
	n = read_line(tty, "terminal", buf, e);
	if (echo_off)
		tcsetattr(tty, TCSANOW, &old);
	(void)!write(tty, "\n", 1);
	return n;
}

/* get_password - from --password-file, --password-fd or the terminal. */
static int
get_password(const struct opts *o, int tty, struct secret *sec,
             struct pfs_err *e)
{
	ssize_t n;
	int fd;

	if (o->ksrc == KS_PWFD) {
		char what[32];

		snprintf(what, sizeof(what), "descriptor %d", o->kfd);
		n = read_line(o->kfd, what, sec->pw, e);
	} else if (o->ksrc == KS_PWFILE) {
		fd = open(o->kpath, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return pfs_seterr(e, "%s: %s", o->kpath, strerror(errno));
		n = read_line(fd, o->kpath, sec->pw, e);
		close(fd);
	} else {
		n = ask(tty, o->decrypt ? "Password: " : "Password (to "
		        "encrypt): ", sec->pw, e);
		if (n > 0 && !o->decrypt) {
			ssize_t m = ask(tty, "Password (again): ", sec->pw2, e);
			if (m < 0)
				return -1;
			sec->pw2len = (size_t)m;
			if ((size_t)m != (size_t)n ||
			    memcmp(sec->pw, sec->pw2, (size_t)n) != 0)
				return pfs_seterr(e, "passwords do not match");
		}
	}
	if (n < 0)
		return -1;
	sec->pwlen = (size_t)n;
	return 0;
}

/* --- key derivation --- */

/* argon2id - master = Argon2id(password, salt, t, m KiB, p). */
static int
argon2id(struct secret *sec, const uint8_t *salt, uint32_t t, uint32_t m,
         uint32_t p, struct pfs_err *e)
{
	unsigned long param[4];
	gcry_kdf_hd_t kh;
	gcry_error_t ge;

	param[0] = KEY_LEN;
	param[1] = t;
	param[2] = m;
	param[3] = p;
	ge = gcry_kdf_open(&kh, GCRY_KDF_ARGON2, GCRY_KDF_ARGON2ID, param, 4,
	                   sec->pw, sec->pwlen, salt, KDF_SALT_LEN, NULL, 0,
	                   NULL, 0);
	if (ge)
		return pfs_seterr(e, "argon2id: %s", gcry_strerror(ge));
	ge = gcry_kdf_compute(kh, NULL);
	if (!ge)
		ge = gcry_kdf_final(kh, KEY_LEN, sec->master);
	gcry_kdf_close(kh);
	if (ge)
		return pfs_seterr(e, "argon2id (t=%" PRIu32 ", m=%" PRIu32
		                  " KiB, p=%" PRIu32 "): %s", t, m, p,
		                  gcry_strerror(ge));
	return 0;
}

/* hkdf_sha256 - RFC 5869 on libgcrypt's HMAC (1.10 has no HKDF).  out
 * receives outlen <= 255 * 32 bytes. */
static int
hkdf_sha256(const uint8_t *ikm, size_t ikmlen, const uint8_t *salt,
            size_t saltlen, const uint8_t *info, size_t infolen,
            uint8_t *out, size_t outlen, struct pfs_err *e)
{
	gcry_mac_hd_t mh = NULL;
	uint8_t prk[32], t[32], ctr;
	size_t tlen = 0, done = 0, n, len;
	int rc = -1;

	if (outlen > 255 * sizeof(t))
		return pfs_seterr(e, "hkdf: output too long");
	if (gcry_mac_open(&mh, GCRY_MAC_HMAC_SHA256, GCRY_MAC_FLAG_SECURE,
	                  NULL)) {
		pfs_seterr(e, "hkdf: cannot open HMAC-SHA-256");
		return -1;
	}
	len = sizeof(prk);
	if (gcry_mac_setkey(mh, salt, saltlen) ||
	    gcry_mac_write(mh, ikm, ikmlen) || gcry_mac_read(mh, prk, &len) ||
	    gcry_mac_setkey(mh, prk, sizeof(prk)))
		goto fail;
	for (ctr = 1; done < outlen; ctr++) {
		len = sizeof(t);
		if (gcry_mac_reset(mh) || gcry_mac_write(mh, t, tlen) ||
		    gcry_mac_write(mh, info, infolen) ||
		    gcry_mac_write(mh, &ctr, 1) || gcry_mac_read(mh, t, &len))
			goto fail;
		tlen = sizeof(t);
		n = outlen - done < tlen ? outlen - done : tlen;
		memcpy(out + done, t, n);
		done += n;
	}
	rc = 0;
	goto out;
fail:
	pfs_seterr(e, "hkdf: HMAC-SHA-256 failed");
out:
	explicit_bzero(prk, sizeof(prk));
	explicit_bzero(t, sizeof(t));
	gcry_mac_close(mh);
	return rc;
}

static int
cipher_open(const struct ctx *x, gcry_cipher_hd_t *hd, struct pfs_err *e)
{
	gcry_error_t ge;

	ge = gcry_cipher_open(hd, x->cipher->algo, x->cipher->mode,
	                      GCRY_CIPHER_SECURE);
	if (ge)
		return pfs_seterr(e, "%s: %s%s", x->cipher->name,
		                  gcry_strerror(ge), gcry_err_code(ge) ==
		                  GPG_ERR_ENOMEM ? " (secure memory)" : "");
	ge = gcry_cipher_setkey(*hd, x->sec->keys, KEY_LEN);
	if (ge) {
		gcry_cipher_close(*hd);
		*hd = NULL;
		return pfs_seterr(e, "%s: %s", x->cipher->name,
		                  gcry_strerror(ge));
	}
	return 0;
}

/* stream_keys - payload and header keys from the master key and the
 * stream salt; opens the writer thread's cipher handle. */
static int
stream_keys(struct ctx *x, const uint8_t *salt, struct pfs_err *e)
{
	uint8_t info[sizeof(hkdf_info)];

	memcpy(info, hkdf_info, sizeof(hkdf_info) - 1);
	info[sizeof(hkdf_info) - 1] = (uint8_t)x->cipher->id;
	if (hkdf_sha256(x->sec->master, KEY_LEN, salt, SALT_LEN, info,
	                sizeof(info), x->sec->keys, sizeof(x->sec->keys), e) < 0)
		return -1;
	return cipher_open(x, &x->oh, e);
}

/* head_mac - HMAC-SHA-256 under the header key of the signature and the
 * HEAD encoding (whose MAC field the caller has zeroed).  With verify, mac
 * is compared in constant time: returns 1 on a mismatch. */
static int
head_mac(const struct ctx *x, const struct pfs_head *h, uint8_t *mac,
         int verify, struct pfs_err *e)
{
	struct pfs_buf hb = PFS_BUF_INIT;
	gcry_mac_hd_t mh = NULL;
	gcry_error_t ge;
	uint8_t sig[PFS_SIG_LEN];
	size_t len = MAC_LEN;
	int rc = -1;

	pfs_sig_write(sig);
	if (pfs_head_encode(h, &hb, e) < 0)
		return -1;
	if (gcry_mac_open(&mh, GCRY_MAC_HMAC_SHA256, GCRY_MAC_FLAG_SECURE,
	                  NULL) ||
	    gcry_mac_setkey(mh, x->sec->keys + KEY_LEN, KEY_LEN) ||
	    gcry_mac_write(mh, sig, sizeof(sig)) ||
	    gcry_mac_write(mh, hb.p, hb.len)) {
		pfs_seterr(e, "HMAC-SHA-256 failed");
		goto out;
	}
	if (verify) {
		ge = gcry_mac_verify(mh, mac, MAC_LEN);
		rc = ge ? 1 : 0;
	} else if (gcry_mac_read(mh, mac, &len)) {
		pfs_seterr(e, "HMAC-SHA-256 failed");
	} else {
		rc = 0;
	}
out:
	gcry_mac_close(mh);
	pfs_buf_free(&hb);
	return rc;
}

/* --- sealing --- */

static void
make_nonce(uint8_t n[NONCE_LEN], uint64_t ctr, uint8_t type, int final)
{
	pfs_put64(n, ctr);
	n[8] = type;
	n[9] = (uint8_t)final;
	n[10] = n[11] = 0;
}

/* frame_aad - type, flags, seq, raw, counter; END adds the DIGEST count. */
static size_t
frame_aad(uint8_t aad[34], const struct pfs_hdr *h, uint64_t ctr,
          const uint64_t *ndigest)
{
	aad[0] = h->type;
	aad[1] = h->flags;
	pfs_put64(aad + 2, h->seq);
	pfs_put64(aad + 10, h->raw);
	pfs_put64(aad + 18, ctr);
	if (!ndigest)
		return 26;
	pfs_put64(aad + 26, *ndigest);
	return 34;
}

/* aead - seal n bytes of in into out (n + TAG_LEN bytes), or open: in holds
 * n bytes of ciphertext and the tag; out gets n bytes of plaintext that
 * must not be used unless 0 is returned.  Large payloads go through the
 * cipher in cache-sized pieces of one message. */
static int
aead(gcry_cipher_hd_t hd, int open, const uint8_t nonce[NONCE_LEN],
     const uint8_t *aad, size_t aadlen, const uint8_t *in, uint8_t *out,
     size_t n)
{
	size_t off, k;
	gcry_error_t ge;

	if (gcry_cipher_setiv(hd, nonce, NONCE_LEN) ||
	    gcry_cipher_authenticate(hd, aad, aadlen))
		return -1;
	for (off = 0; off < n; off += k) {
		k = n - off < PIECE ? n - off : PIECE;
		ge = open ? gcry_cipher_decrypt(hd, out + off, k, in + off, k) :
		            gcry_cipher_encrypt(hd, out + off, k, in + off, k);
		if (ge)
			return -1;
	}
	if (open)
		return gcry_cipher_checktag(hd, in + n, TAG_LEN) ? -1 : 0;
	return gcry_cipher_gettag(hd, out + n, TAG_LEN) ? -1 : 0;
}

static void *
thread_new(void *vctx, struct pfs_err *e)
{
	gcry_cipher_hd_t hd;

	if (cipher_open(vctx, &hd, e) < 0)
		return NULL;
	return hd;
}

static void
thread_free(void *vctx, void *t)
{
	(void)vctx;
	gcry_cipher_close(t);
}

/* transform - DATA frames, on the worker threads, in place in the slot's
 * input buffer (one cache-warm buffer instead of two).  Opening: the
 * output is set only once the tag has verified; on failure the engine
 * writes nothing of this slot. */
static int
transform(void *vctx, void *t, struct pfs_slot *s, struct pfs_err *e)
{
	const struct ctx *x = vctx;
	uint8_t nonce[NONCE_LEN], aad[34];
	size_t n = s->hdr.len, alen;
	int open = x->o->decrypt;

	if (open && n < TAG_LEN)
		return pfs_seterr(e, "%s: chunk %" PRIu64 ": payload too short "
		                  "for a tag (damaged stream)", x->name,
		                  s->hdr.seq);
	if (open)
		n -= TAG_LEN;
	if (pfs_buf_reserve(&s->in, n + TAG_LEN) < 0)
		return pfs_seterr(e, "out of memory");
	make_nonce(nonce, s->hdr.seq, PFS_DATA, 0);
	alen = frame_aad(aad, &s->hdr, s->hdr.seq, NULL);
	if (aead(t, open, nonce, aad, alen, s->in.p, s->in.p, n) < 0) {
		if (open)
			return pfs_seterr(e, "%s: chunk %" PRIu64 " failed "
			                  "authentication (damaged or tampered "
			                  "stream)", x->name, s->hdr.seq);
		return pfs_seterr(e, "%s: chunk %" PRIu64 ": %s failed",
		                  x->name, s->hdr.seq, x->cipher->name);
	}
	/* only now, with the tag checked, is the output set */
	s->ohdr.len = (uint32_t)(open ? n : n + TAG_LEN);
	s->opay = s->in.p;
	return 0;
}

/* small - seal or open a DIGEST or END payload on the writer thread. */
static int
small(struct ctx *x, struct pfs_slot *s, uint64_t ctr, int end,
      struct pfs_err *e)
{
	uint8_t nonce[NONCE_LEN], aad[34];
	size_t n = s->hdr.len, alen;
	uint32_t max = end ? PFS_END_MAX : PFS_DIGEST_MAX;
	int open = x->o->decrypt;
	const char *what = end ? "END frame" : "DIGEST frame";

	if (open && n < TAG_LEN)
		return pfs_seterr(e, "%s: %s of chunk %" PRIu64 ": payload too "
		                  "short for a tag (damaged stream)", x->name,
		                  what, s->hdr.seq);
	if (!open && n + TAG_LEN > max)
		return pfs_seterr(e, "%s: %s of chunk %" PRIu64 ": payload of "
		                  "%zu bytes leaves no room for the tag", x->name,
		                  what, s->hdr.seq, n);
	if (open)
		n -= TAG_LEN;
	if (pfs_buf_reserve(&s->out, n + TAG_LEN) < 0)
		return pfs_seterr(e, "out of memory");
	make_nonce(nonce, ctr, s->hdr.type, end);
	alen = frame_aad(aad, &s->hdr, ctr, end ? &x->ndigest : NULL);
	if (aead(x->oh, open, nonce, aad, alen, s->in.p, s->out.p, n) < 0) {
		if (!open)
			return pfs_seterr(e, "%s: %s failed", x->name,
			                  x->cipher->name);
		if (end)
			return pfs_seterr(e, "%s: END frame failed "
			                  "authentication (stream truncated, "
			                  "frames dropped or reordered, or "
			                  "damaged)", x->name);
		return pfs_seterr(e, "%s: DIGEST frame of chunk %" PRIu64
		                  " failed authentication (frames dropped, "
		                  "duplicated, reordered or damaged)", x->name,
		                  s->hdr.seq);
	}
	s->ohdr.len = (uint32_t)(open ? n : n + TAG_LEN);
	s->opay = s->out.p;
	return 0;
}

/* ordered - every frame, in stream order, on the writer thread: check the
 * order on the (authenticated) fields, seal or open DIGEST and END. */
static int
ordered(void *vctx, struct pfs_slot *s, struct pfs_err *e)
{
	struct ctx *x = vctx;
	const struct pfs_hdr *h = &s->hdr;

	switch (h->type) {
	case PFS_DATA:
		if (h->seq != x->next_seq)
			return pfs_seterr(e, "%s: chunk %" PRIu64 " where chunk %"
			                  PRIu64 " was expected", x->name, h->seq,
			                  x->next_seq);
		x->next_seq++;
		x->raw_total += h->raw;
		x->last_seq = h->seq;
		x->have_data = 1;
		return 0;
	case PFS_DIGEST:
		if (!x->have_data || h->seq != x->last_seq)
			return pfs_seterr(e, "%s: DIGEST frame of chunk %" PRIu64
			                  " out of place", x->name, h->seq);
		if (small(x, s, x->ndigest, 0, e) < 0)
			return -1;
		x->ndigest++;
		return 0;
	case PFS_END:
		if (h->seq != x->next_seq || h->raw != x->raw_total)
			return pfs_seterr(e, "%s: END does not match the chunks "
			                  "(frames dropped or duplicated)", x->name);
		return small(x, s, h->seq, 1, e);
	default:
		return 0;      /* skippable: passed on, not protected */
	}
}

/* --- HEAD --- */

static int
head_encrypt(struct ctx *x, struct pfs_head *h, struct pfs_err *e)
{
	uint8_t p[PFS_STAGE_PARAMS_MAX], nonce[NONCE_LEN];
	uint32_t below = pfs_head_cap(h), t, m;
	size_t len = R_LEN, n;

	memset(p, 0, sizeof(p));
	p[R_CIPHER] = (uint8_t)x->cipher->id;
	if (x->password) {
		t = x->o->kdf_t ? (uint32_t)x->o->kdf_t : KDF_T_DEF;
		m = x->o->kdf_m ? (uint32_t)(x->o->kdf_m >> 10) : KDF_M_DEF;
		p[R_KDF] = PFS_KDF_ARGON2ID;
		pfs_put32(p + R_T, t);
		pfs_put32(p + R_M, m);
		pfs_put32(p + R_P, KDF_P_DEF);
		gcry_randomize(p + R_KSALT, KDF_SALT_LEN, GCRY_STRONG_RANDOM);
		if (argon2id(x->sec, p + R_KSALT, t, m, KDF_P_DEF, e) < 0)
			return -1;
	}
	gcry_randomize(p + R_SALT, SALT_LEN, GCRY_STRONG_RANDOM);
	if (stream_keys(x, p + R_SALT, e) < 0)
		return -1;
	if (x->o->hide_name) {
		n = h->namelen;
		p[R_FLAGS] |= RF_HIDE_NAME;
		p[R_NAMELEN] = (uint8_t)n;
		make_nonce(nonce, 0, PFS_HEAD, 0);
		if (aead(x->oh, 0, nonce, NULL, 0, (const uint8_t *)h->name,
		         p + R_NAME, n) < 0)
			return pfs_seterr(e, "%s failed", x->cipher->name);
		len = R_NAME + n + TAG_LEN;
		memset(h->name, 0, sizeof(h->name));
		h->namelen = 0;
	}
	if (below > PFS_PAYLOAD_MAX - TAG_LEN)
		return pfs_seterr(e, "payloads would grow past the format's "
		                  "limit of %u bytes", PFS_PAYLOAD_MAX);
	if (pfs_head_push(h, PFS_STAGE_ENCRYPT, p, len, below + TAG_LEN, e) < 0)
		return -1;
	return head_mac(x, h, h->stages[h->nstages - 1].params + R_MAC, 0, e);
}

/* check_record - the ENCRYPT record is well formed and its KDF parameters
 * are within the limits, before anything is derived. */
static int
check_record(struct ctx *x, const struct pfs_head *h,
             const struct pfs_stage *st, struct pfs_err *e)
{
	const uint8_t *p = st->params;
	uint32_t t = pfs_get32(p + R_T), m = pfs_get32(p + R_M);
	uint32_t par = pfs_get32(p + R_P);
	size_t want = R_LEN, i;
	int zero = 1;

	x->cipher = cipher_by_id(p[R_CIPHER]);
	if (!x->cipher)
		return pfs_seterr(e, "unknown cipher id %u in the ENCRYPT record "
		                  "(newer pencrypt?)", p[R_CIPHER]);
	if (st->len >= R_LEN && (p[R_FLAGS] & RF_HIDE_NAME))
		want = R_NAME + p[R_NAMELEN] + TAG_LEN;
	if (st->len != want || p[R_KDF] > PFS_KDF_ARGON2ID ||
	    (p[R_FLAGS] & ~RF_HIDE_NAME) || p[R_RESERVED] ||
	    ((p[R_FLAGS] & RF_HIDE_NAME) && h->namelen))
		return pfs_seterr(e, "damaged ENCRYPT record");
	if (p[R_KDF] == PFS_KDF_NONE) {
		for (i = R_T; i < R_SALT; i++)
			zero &= p[i] == 0;
		if (!zero)
			return pfs_seterr(e, "damaged ENCRYPT record");
		if (x->password)
			return pfs_seterr(e, "the stream was encrypted with a "
			                  "key file, not a password: use "
			                  "--key-file");
		return 0;
	}
	if (t > KDF_T_MAX || m > KDF_M_MAX || par > KDF_P_MAX || t < 1 ||
	    par < 1 || m < 8 * par)
		return pfs_seterr(e, "KDF parameters exceed the limit (t=%" PRIu32
		                  " m=%" PRIu32 " KiB p=%" PRIu32 "; allowed: "
		                  "t 1-%u, m 8p KiB-1 GiB, p 1-%u): hostile or "
		                  "damaged header", t, m, par, KDF_T_MAX,
		                  KDF_P_MAX);
	if (!x->password)
		return pfs_seterr(e, "the stream was encrypted with a password, "
		                  "not a key file: use --password-file, "
		                  "--password-fd or the terminal prompt");
	return argon2id(x->sec, p + R_KSALT, t, m, par, e);
}

static int
head_decrypt(struct ctx *x, struct pfs_head *h, struct pfs_err *e)
{
	struct pfs_stage *st;
	uint8_t mac[MAC_LEN], nonce[NONCE_LEN];
	char msg[256];
	size_t n;
	int rc;

	if (!h->nstages)
		return pfs_seterr(e, "stream is not encrypted: nothing to "
		                  "decrypt");
	st = &h->stages[h->nstages - 1];
	if (st->kind != PFS_STAGE_ENCRYPT) {
		pfs_stage_still(st, msg, sizeof(msg));
		return pfs_seterr(e, "%s", msg);
	}
	if (check_record(x, h, st, e) < 0 ||
	    stream_keys(x, st->params + R_SALT, e) < 0)
		return -1;
	memcpy(mac, st->params + R_MAC, MAC_LEN);
	memset(st->params + R_MAC, 0, MAC_LEN);
	rc = head_mac(x, h, mac, 1, e);
	if (rc < 0)
		return -1;
	if (rc)
		return pfs_seterr(e, "wrong key or password (or a damaged "
		                  "HEAD)");
	/* the cap must be the one below + the tag */
	pfs_head_pop(h);
	rc = st->cap != pfs_head_cap(h) + TAG_LEN;
	h->nstages++;
	if (rc)
		return pfs_seterr(e, "damaged ENCRYPT record (payload cap)");
	if (st->params[R_FLAGS] & RF_HIDE_NAME) {
		n = st->params[R_NAMELEN];
		make_nonce(nonce, 0, PFS_HEAD, 0);
		if (aead(x->oh, 1, nonce, NULL, 0, st->params + R_NAME,
		         (uint8_t *)h->name, n) < 0)
			return pfs_seterr(e, "hidden name failed authentication");
		h->name[n] = '\0';
		if (memchr(h->name, '/', n) || strlen(h->name) != n ||
		    strcmp(h->name, ".") == 0 || strcmp(h->name, "..") == 0)
			return pfs_seterr(e, "hidden name is not a file name");
		h->namelen = (uint16_t)n;
	}
	pfs_head_pop(h);
	return 0;
}

static int
on_head(void *vctx, struct pfs_head *h, struct pfs_err *e)
{
	struct ctx *x = vctx;
	int rc;

	rc = x->o->decrypt ? head_decrypt(x, h, e) : head_encrypt(x, h, e);
	/* the master key is not needed any more, nor the password */
	explicit_bzero(x->sec->master, sizeof(x->sec->master));
	explicit_bzero(x->sec->pw, sizeof(x->sec->pw));
	if (rc < 0)
		pfs_prefix(e, x->name);
	return rc;
}

/* --- main --- */

static int
keygen(void)
{
	uint8_t *k;
	char hex[2 * KEY_LEN + 2];
	struct pfs_err e;
	int rc;

	if (pfs_crypto_init(&e) < 0)
		pfs_die(PFS_EXIT_ERR, "%s", e.msg);
	k = gcry_malloc_secure(KEY_LEN);
	if (!k)
		pfs_die(PFS_EXIT_ERR, "out of secure memory");
	gcry_randomize(k, KEY_LEN, GCRY_VERY_STRONG_RANDOM);
	pfs_hex(k, KEY_LEN, hex);
	gcry_free(k);
	hex[2 * KEY_LEN] = '\n';
	rc = pfs_write_full(1, hex, 2 * KEY_LEN + 1, NULL);
	explicit_bzero(hex, sizeof(hex));
	if (rc < 0)
		pfs_die(PFS_EXIT_ERR, "stdout: write error: %s",
		        strerror(errno));
	return PFS_EXIT_OK;
}

static void
cleanup(struct ctx *x)
{
	if (x->oh)
		gcry_cipher_close(x->oh);
	x->oh = NULL;
	if (x->sec)
		gcry_free(x->sec);      /* secure memory: wiped */
	x->sec = NULL;
	gcry_control(GCRYCTL_TERM_SECMEM);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct ctx x;
	struct pfs_err e;
	struct pfs_stats st;
	struct pfs_engine_cfg cfg;
	struct pfs_stage_ops ops;
	int fd = -1, tty = -1, rc = -1;

	pfs_setprog(argv[0]);
	parse(argc, argv, &o);
	if (o.keygen)
		return keygen();
	pfs_stats_start(&st);
	memset(&x, 0, sizeof(x));
	x.o = &o;
	x.cipher = o.cipher;
	if (o.ksrc == KS_NONE) {
		tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (tty < 0)
			pfs_usage_error("no key given and no terminal to ask for "
			                "a password: use --key-file F, "
			                "--password-file F or --password-fd N");
		/* ^C at the prompt: echo back on, secrets wiped, then die */
		pfs_catch_signals();
	}
	if (pfs_crypto_init(&e) < 0)
		pfs_die(PFS_EXIT_ERR, "%s", e.msg);
	x.sec = gcry_calloc_secure(1, sizeof(*x.sec));
	if (!x.sec) {
		pfs_seterr(&e, "out of secure memory");
		goto out;
	}
	if (o.ksrc == KS_KEYFILE) {
		if (load_key(x.sec, o.kpath, &e) < 0)
			goto out;
	} else {
		x.password = 1;
		if (get_password(&o, tty, x.sec, &e) < 0)
			goto out;
	}
	if (tty >= 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		if (pfs_interrupted) {
			pfs_seterr(&e, "interrupted");
			goto out;
		}
	}
	explicit_bzero(x.sec->pw2, sizeof(x.sec->pw2));
	if (pfs_engine_cfg_open(&cfg, o.input, o.c.threads, &e) < 0)
		goto out;
	fd = cfg.in_fd;
	x.name = cfg.in_name;
	if (pfs_refuse_tty(1, o.force, &e) < 0)
		goto out;
	memset(&ops, 0, sizeof(ops));
	ops.types = 1u << PFS_DATA;
	ops.head = on_head;
	ops.thread_new = thread_new;
	ops.thread_free = thread_free;
	ops.transform = transform;
	ops.ordered = ordered;
	rc = pfs_engine_run(&cfg, &ops, &x, NULL, &st, &e);
	pfs_stats_print(&st, o.c.stats);
out:
	cleanup(&x);
	if (tty >= 0)
		close(tty);
	if (rc < 0 && pfs_interrupted)
		pfs_reraise();
	if (rc < 0)
		pfs_die(PFS_EXIT_ERR, "%s", e.msg);
	if (fd > 0)
		close(fd);
	return PFS_EXIT_OK;
}
