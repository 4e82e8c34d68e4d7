/*
 * secret.h - keys and passwords: key files (the typed PFS-KEY-1 format and,
 * behind an explicit option, raw or hex keys), password files and
 * descriptors, the terminal prompt, key generation, and the process
 * hardening that goes with holding a secret.
 *
 * Invariants and ownership:
 *  - Every secret lives in one struct pfs_secret allocated in libgcrypt
 *    secure memory by pfs_secret_new() and released (and so wiped) by
 *    pfs_secret_free(), which the caller calls on every path, the error
 *    paths included, before it reports.  Temporaries on the stack are
 *    cleared with explicit_bzero() before the functions return.
 *  - Nothing here prints or exits.  Errors: -1 with e set ("k: not a pfs
 *    key file (...)", the object first, no program name).  A warning for
 *    the user (a key file others can read) is returned in a separate
 *    struct pfs_err whose msg is empty when there is none; the tool prints
 *    it (or not, with -q).
 *  - The caller has run pfs_crypto_init() (digest.h) first.
 *
 * The key file format is specified byte by byte in docs/security.md:
 *     "PFS-KEY-1-" base64url(key[32] || check[4]) "\n"
 * where check is the first 4 bytes of SHA-256("PFS-KEY-1-" || key): one
 * line of 58 characters and a newline.
 */
#ifndef PFS_SECRET_H
#define PFS_SECRET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define PFS_KEY_LEN          32u
#define PFS_PASS_MAX         1024u
#define PFS_KEYLINE_PREFIX   "PFS-KEY-1-"
#define PFS_KEY_TYPE         "PFS-KEY-"     /* any version of it */
#define PFS_KEYLINE_LEN      58u     /* prefix + 48 base64url characters */
#define PFS_TYPED_PREFIX_MAX 24u     /* the longest prefix of a typed line */
#define PFS_TYPED_BODY_LEN   48u     /* base64url of 32 bytes || check */
/* X25519 identities (-i) held at once: a file may hold several */
#define PFS_IDS_MAX          16u

/* Worker threads of a tool that holds keys (pencrypt; pipeline's -T, which
 * every stage gets): each keeps a key schedule in the 64 KiB of libgcrypt
 * secure memory (pfs_crypto_init; ~2 KiB for GCM). */
#define PFS_SECRET_THREADS_MAX 16u

/* Everything secret, in one block of secure memory. */
struct pfs_secret {
	uint8_t master[PFS_KEY_LEN];   /* the stream's file key (or, in a
	                                  record of KDF id 0 or 1, the key
	                                  file's key or Argon2id's output) */
	uint8_t keys[2 * PFS_KEY_LEN]; /* per stream: payload key || MAC key */
	uint8_t key[PFS_KEY_LEN];      /* the key file's key, if has_key */
	int has_key;
	uint8_t ids[PFS_IDS_MAX][PFS_KEY_LEN]; /* X25519 identities (-i) */
	unsigned nids;
	uint8_t kbuf[160];             /* key file bytes as read */
	char pw[PFS_PASS_MAX + 1], pw2[PFS_PASS_MAX + 1];
	size_t pwlen;
	int password;                  /* 1: pw holds the password, master
	                                  is derived from it later */
};

/* Where the secret comes from: the key options of pencrypt and pinfo. */
enum pfs_keysrc {
	PFS_KS_NONE,       /* not given: ask on the terminal (pencrypt) */
	PFS_KS_KEYFILE,    /* --key-file F: the PFS-KEY-1 format only */
	PFS_KS_RAWKEY,     /* --raw-key-file F: 32 raw bytes or 64 hex digits */
	PFS_KS_PWFILE,     /* --password-file F */
	PFS_KS_PWFD        /* --password-fd N */
};

struct pfs_keyopt {
	int src;                       /* enum pfs_keysrc */
	const char *path;              /* key or password file */
	int fd;                        /* --password-fd, else -1 */
};

/* pfs_keyopt_init - no key option given. */
void pfs_keyopt_init(struct pfs_keyopt *k);

/* pfs_keyopt_set - record key option src with its argument (a file name,
 * or a descriptor number for PFS_KS_PWFD).  -1 with e set when a key
 * option was given already or the descriptor is not a number; the caller
 * turns that into a usage error. */
int pfs_keyopt_set(struct pfs_keyopt *k, int src, const char *arg,
                   struct pfs_err *e);

/* pfs_keyopt_check - -1 with e set when --password-fd 0 would read the
 * password from the stream's own input (input NULL or "-"). */
int pfs_keyopt_check(const struct pfs_keyopt *k, const char *input,
                     struct pfs_err *e);

/* pfs_secret_new - a zeroed struct pfs_secret in secure memory, or NULL
 * with e set.  pfs_secret_free - wipe and release it (NULL is fine). */
struct pfs_secret *pfs_secret_new(struct pfs_err *e);
void pfs_secret_free(struct pfs_secret *s);

/* pfs_secret_load - fill s from the source k: a key file into s->key
 * (s->has_key = 1), or a password into s->pw (s->password = 1).  tty is the terminal
 * (pfs_tty_open) for PFS_KS_NONE, else ignored; with confirm the prompt
 * asks twice ("passwords do not match").  warn receives a warning for the
 * user, or an empty message.  Returns 0 or -1 with e set. */
int pfs_secret_load(struct pfs_secret *s, const struct pfs_keyopt *k,
                    int tty, int confirm, struct pfs_err *warn,
                    struct pfs_err *e);

/* pfs_key_parse - the key in a key file's bytes (buf, n): the PFS-KEY-1
 * line (one trailing "\n" or "\r\n" allowed), or with raw 32 raw bytes or
 * 64 hex digits (one trailing newline allowed).  An all-zero key is
 * refused either way.  what names the file in messages.  Returns 0 or -1
 * with e set; a wrong checksum has its own message. */
int pfs_key_parse(const uint8_t *buf, size_t n, int raw, const char *what,
                  uint8_t key[PFS_KEY_LEN], struct pfs_err *e);

/* Typed lines: prefix || base64url(v[32] || check[4]), check the first 4
 * bytes of SHA-256(prefix || v); the key file (PFS-KEY-1-), X25519
 * identities (PFS-IDENTITY-1-) and recipients (pfs-recipient-1-) are all
 * of this shape (docs/security.md).  prefix is at most
 * PFS_TYPED_PREFIX_MAX characters.
 *
 * pfs_typed_format - the line of v, NUL-terminated, no newline, into out
 * (strlen(prefix) + PFS_TYPED_BODY_LEN + 1 bytes).
 * pfs_typed_parse - v from buf (n bytes; one trailing "\n" or "\r\n"
 * allowed): 0, -1 when it is not such a line, -2 when its check fails. */
void pfs_typed_format(const char *prefix, const uint8_t v[PFS_KEY_LEN],
                      char *out);
int pfs_typed_parse(const char *prefix, const uint8_t *buf, size_t n,
                    uint8_t v[PFS_KEY_LEN]);

/* pfs_key_format - the PFS-KEY-1 line of key, NUL-terminated, without a
 * newline, into out (PFS_KEYLINE_LEN + 1 bytes).  The caller wipes out. */
void pfs_key_format(const uint8_t key[PFS_KEY_LEN], char *out);

/* pfs_keygen - a new random key (GCRY_VERY_STRONG_RANDOM) written as one
 * PFS-KEY-1 line.  With path: a new file, created with O_EXCL and mode
 * 0600 (an existing file is refused), written, fsync'd and closed with
 * every step checked, and removed again on failure.  With path NULL: to
 * standard output, and warn is set when that is a regular file that group
 * or others may read.  Returns 0 or -1 with e set. */
int pfs_keygen(const char *path, struct pfs_err *warn, struct pfs_err *e);

/* pfs_secret_write - n bytes of text (a secret: a key or identity file)
 * to a new file path, created O_EXCL|O_NOFOLLOW with mode 0600, written,
 * fsync'd and closed with every step checked, removed again on failure;
 * with path NULL to standard output, with warn set when that is a regular
 * file group or others may read.  what names the secret in messages ("key":
 * "a key file is never overwritten"), fix is the command to use instead.
 * Returns 0 or -1 with e set. */
int pfs_secret_write(const char *path, const char *text, size_t n,
                     const char *what, const char *fix, struct pfs_err *warn,
                     struct pfs_err *e);

/* pfs_secret_mode_warn - set warn when m (a secret file's mode) lets
 * group or others read or write path: "...: key file is readable by group
 * and others (mode 0644): run 'chmod go-rwx ...'", what being "key file". */
void pfs_secret_mode_warn(const char *path, mode_t m, const char *what,
                          struct pfs_err *warn);

/* pfs_tty_open - the controlling terminal, /dev/tty, opened for reading
 * and writing, or -1 when there is none. */
int pfs_tty_open(void);

/* pfs_tty_ask - write prompt to tty and read one line with echo off into
 * buf (PFS_PASS_MAX + 1 bytes).  While it waits, a terminating signal
 * (SIGINT, SIGTERM, SIGHUP, SIGQUIT) restores the terminal, wipes buf and
 * kills the process with that signal; a stop signal (SIGTSTP, SIGTTIN,
 * SIGTTOU) restores the terminal and then stops; SIGCONT turns echo off
 * again and the prompt is repeated.  The handlers only use
 * async-signal-safe calls, and the previous dispositions are back when it
 * returns.  Returns the length, or -1 with e set. */
ssize_t pfs_tty_ask(int tty, const char *prompt, char *buf,
                    struct pfs_err *e);

/* pfs_secret_nodump - no core dump of this process from now on
 * (RLIMIT_CORE 0 and, on Linux, PR_SET_DUMPABLE 0, which also keeps other
 * processes of the user from attaching).  Call before a secret is read.
 * Returns 0, or -1 with e set when neither could be applied. */
int pfs_secret_nodump(struct pfs_err *e);

/* pfs_secmem_locked - after pfs_crypto_init(): 1 when libgcrypt's secure
 * memory pool is locked in RAM (mlock), 0 when it is not (secrets may be
 * swapped out), -1 when it cannot be told.  Linux: VmLck of
 * /proc/self/status, and when that is 0, whether a pool of the same size
 * can be locked now (under AddressSanitizer mlock() is a no-op that
 * succeeds; then the pool counts as locked, as libgcrypt believes). */
int pfs_secmem_locked(void);

#endif
