#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <gcrypt.h>

#include "cli.h"
#include "io.h"
#include "recip.h"
#include "secret.h"
#include "util.h"

#define CHECK_LEN  4u               /* checksum bytes in a PFS-KEY-1 line */
#define PREFIX_LEN (sizeof(PFS_KEYLINE_PREFIX) - 1)
#define SECMEM_POOL 65536u          /* pfs_crypto_init()'s pool (digest.c) */

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void
pfs_keyopt_init(struct pfs_keyopt *k)
{
	k->src = PFS_KS_NONE;
	k->path = NULL;
	k->fd = -1;
}

int
pfs_keyopt_set(struct pfs_keyopt *k, int src, const char *arg,
               struct pfs_err *e)
{
	long v;

	if (k->src != PFS_KS_NONE)
		return pfs_seterr(e, "give one of --key-file, --raw-key-file, "
		                  "--password-file and --password-fd");
	if (src == PFS_KS_PWFD) {
		if (pfs_parse_int(arg, 0, 1 << 20, &v, e) < 0) {
			pfs_prefix(e, "--password-fd");
			return -1;
		}
		k->fd = (int)v;
	} else {
		k->path = arg;
	}
	k->src = src;
	return 0;
}

int
pfs_keyopt_check(const struct pfs_keyopt *k, const char *input,
                 struct pfs_err *e)
{
	if (k->src == PFS_KS_PWFD && k->fd == 0 &&
	    (!input || strcmp(input, "-") == 0))
		return pfs_seterr(e, "--password-fd 0 is the stream's input: "
		                  "use another descriptor");
	return 0;
}

struct pfs_secret *
pfs_secret_new(struct pfs_err *e)
{
	struct pfs_secret *s = gcry_calloc_secure(1, sizeof(*s));

	if (!s)
		pfs_seterr(e, "out of secure memory");
	return s;
}

void
pfs_secret_free(struct pfs_secret *s)
{
	if (s)
		gcry_free(s);       /* secure memory: wiped */
}

/* --- key files --- */

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

static int
b64val(int c)
{
	const char *p = c ? strchr(b64url, c) : NULL;

	return p ? (int)(p - b64url) : -1;
}

/* check_of - the first CHECK_LEN bytes of SHA-256(prefix || v) */
static void
check_of(const char *prefix, const uint8_t v[PFS_KEY_LEN],
         uint8_t check[CHECK_LEN])
{
	uint8_t in[PFS_TYPED_PREFIX_MAX + PFS_KEY_LEN], md[32];
	size_t pl = strlen(prefix);

	memcpy(in, prefix, pl);
	memcpy(in + pl, v, PFS_KEY_LEN);
	gcry_md_hash_buffer(GCRY_MD_SHA256, md, in, pl + PFS_KEY_LEN);
	memcpy(check, md, CHECK_LEN);
	explicit_bzero(in, sizeof(in));
	explicit_bzero(md, sizeof(md));
}

void
pfs_typed_format(const char *prefix, const uint8_t v[PFS_KEY_LEN], char *out)
{
	uint8_t b[PFS_KEY_LEN + CHECK_LEN];
	uint32_t x;
	size_t i, pl = strlen(prefix);
	char *o = out + pl;

	memcpy(out, prefix, pl);
	memcpy(b, v, PFS_KEY_LEN);
	check_of(prefix, v, b + PFS_KEY_LEN);
	for (i = 0; i < sizeof(b); i += 3) {     /* 36 bytes: no padding */
		x = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | b[i + 2];
		*o++ = b64url[x >> 18 & 63];
		*o++ = b64url[x >> 12 & 63];
		*o++ = b64url[x >> 6 & 63];
		*o++ = b64url[x & 63];
	}
	*o = '\0';
	explicit_bzero(&x, sizeof(x));
	explicit_bzero(b, sizeof(b));
}

void
pfs_key_format(const uint8_t key[PFS_KEY_LEN], char *out)
{
	pfs_typed_format(PFS_KEYLINE_PREFIX, key, out);
}

static int
all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	while (n--)
		acc |= *p++;
	return acc == 0;
}

static int
parse_raw(const uint8_t *buf, size_t n, uint8_t key[PFS_KEY_LEN])
{
	size_t i;
	int hi, lo;

	if (n == PFS_KEY_LEN) {
		memcpy(key, buf, PFS_KEY_LEN);
		return 0;
	}
	if (n == 2 * PFS_KEY_LEN + 1 && buf[2 * PFS_KEY_LEN] == '\n')
		n--;
	if (n != 2 * PFS_KEY_LEN)
		return -1;
	for (i = 0; i < PFS_KEY_LEN; i++) {
		hi = hexval(buf[2 * i]);
		lo = hexval(buf[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
pfs_typed_parse(const char *prefix, const uint8_t *buf, size_t n,
                uint8_t v[PFS_KEY_LEN])
{
	uint8_t b[PFS_KEY_LEN + CHECK_LEN], check[CHECK_LEN];
	uint32_t x = 0;
	size_t i, j, pl = strlen(prefix);
	int c, rc = -1;

	if (n && buf[n - 1] == '\n')
		n--;
	if (n && buf[n - 1] == '\r')
		n--;
	if (n != pl + PFS_TYPED_BODY_LEN || memcmp(buf, prefix, pl))
		return -1;
	buf += pl;
	for (i = j = 0; i < PFS_TYPED_BODY_LEN; i++) {
		c = b64val(buf[i]);
		if (c < 0)
			goto out;
		x = x << 6 | (uint32_t)c;
		if (i % 4 == 3) {
			b[j++] = (uint8_t)(x >> 16);
			b[j++] = (uint8_t)(x >> 8);
			b[j++] = (uint8_t)x;
			x = 0;
		}
	}
	check_of(prefix, b, check);
	rc = memcmp(check, b + PFS_KEY_LEN, CHECK_LEN) ? -2 : 0;
	if (rc == 0)
		memcpy(v, b, PFS_KEY_LEN);
out:
	explicit_bzero(&x, sizeof(x));
	explicit_bzero(b, sizeof(b));
	explicit_bzero(check, sizeof(check));
	return rc;
}

/* has_line - 1 if a line of buf (n bytes) starts with prefix */
static int
has_line(const uint8_t *buf, size_t n, const char *prefix)
{
	size_t k = strlen(prefix), i;

	for (i = 0; i + k <= n; i++)
		if ((i == 0 || buf[i - 1] == '\n') && memcmp(buf + i, prefix, k) == 0)
			return 1;
	return 0;
}

int
pfs_key_parse(const uint8_t *buf, size_t n, int raw, const char *what,
              uint8_t key[PFS_KEY_LEN], struct pfs_err *e)
{
	int rc;

	if (raw) {
		if (parse_raw(buf, n, key) < 0)
			return pfs_seterr(e, "%s: not a raw key file (expected 32 "
			                  "raw bytes or 64 hex digits)", what);
	} else {
		rc = pfs_typed_parse(PFS_KEYLINE_PREFIX, buf, n, key);
		if (rc < 0 && has_line(buf, n, PFS_ID_TYPE))
			return pfs_seterr(e, "%s: an identity file, not a key "
			                  "file: give it with -i", what);
		if (rc == -2)
			return pfs_seterr(e, "%s: pfs key file fails its checksum "
			                  "(damaged or mistyped key)", what);
		if (rc < 0 && n >= sizeof(PFS_KEY_TYPE) - 1 &&
		    memcmp(buf, PFS_KEY_TYPE, sizeof(PFS_KEY_TYPE) - 1) == 0 &&
		    (n < PREFIX_LEN || memcmp(buf, PFS_KEYLINE_PREFIX,
		                              PREFIX_LEN) != 0))
			return pfs_seterr(e, "%s: pfs key file of an unknown "
			                  "version (newer pencrypt?)", what);
		if (rc < 0 && parse_raw(buf, n, key) == 0) {
			explicit_bzero(key, PFS_KEY_LEN);
			return pfs_seterr(e, "%s: not a pfs key file (32 raw bytes "
			                  "or 64 hex digits? only --raw-key-file "
			                  "reads those)", what);
		}
		if (rc < 0)
			return pfs_seterr(e, "%s: not a pfs key file (damaged? a "
			                  "key from 'pencrypt --keygen' is one "
			                  "line: %s and 48 base64url characters)",
			                  what, PFS_KEYLINE_PREFIX);
	}
	if (all_zero(key, PFS_KEY_LEN))
		return pfs_seterr(e, "%s: all-zero key refused", what);
	return 0;
}

void
pfs_secret_mode_warn(const char *path, mode_t m, const char *what,
                     struct pfs_err *warn)
{
	const char *how, *who;

	if (!(m & 077))
		return;
	how = (m & 044) && (m & 022) ? "readable and writable" :
	      (m & 044) ? "readable" : (m & 022) ? "writable" : "accessible";
	who = (m & 070) && (m & 007) ? "group and others" :
	      (m & 070) ? "group" : "others";
	pfs_seterr(warn, "%s: %s is %s by %s (mode %04o): run "
	           "'chmod go-rwx %s'", path, what, how, who,
	           (unsigned)(m & 07777), path);
}

static int
load_key(struct pfs_secret *s, const char *path, int raw,
         struct pfs_err *warn, struct pfs_err *e)
{
	size_t n;
	unsigned mode;
	int rc = -1;

	if (pfs_read_small(path, 0, s->kbuf, sizeof(s->kbuf), &n, &mode,
	                   e) == 0) {
		if (mode)
			pfs_secret_mode_warn(path, mode, "key file", warn);
		rc = pfs_key_parse(s->kbuf, n, raw, path, s->key, e);
		s->has_key = rc == 0;
	}
	explicit_bzero(s->kbuf, sizeof(s->kbuf));
	return rc;
}

/* --- passwords --- */

/* The prompt's state, shared with the signal handlers.  Written only while
 * the handlers are not installed, except the flag. */
static volatile sig_atomic_t ask_fd = -1;
static volatile sig_atomic_t ask_stopped;
static struct termios ask_saved, ask_quiet;
static char *volatile ask_buf;
static const char *volatile ask_prompt;
static volatile sig_atomic_t ask_prompt_len;

static const int term_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static const int stop_sigs[] = { SIGTSTP, SIGTTIN, SIGTTOU };
#define NTERM (sizeof(term_sigs) / sizeof(term_sigs[0]))
#define NSTOP (sizeof(stop_sigs) / sizeof(stop_sigs[0]))

static void on_stop(int sig);

static void
set_handler(int sig, void (*fn)(int), struct sigaction *old)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NTERM; i++)
		sigaddset(&sa.sa_mask, term_sigs[i]);
	for (i = 0; i < NSTOP; i++)
		sigaddset(&sa.sa_mask, stop_sigs[i]);
	sigaddset(&sa.sa_mask, SIGCONT);
	sa.sa_flags = 0;         /* no SA_RESTART: the prompt is repeated */
	sigaction(sig, &sa, old);
}

/* a terminating signal: terminal back, line wiped, die of the signal */
static void
on_term(int sig)
{
	volatile char *p = ask_buf;
	int fd = ask_fd;
	size_t i;

	if (p)
		for (i = 0; i < PFS_PASS_MAX + 1; i++)
			p[i] = 0;
	if (fd >= 0) {
		tcsetattr(fd, TCSANOW, &ask_saved);
		(void)!write(fd, "\n", 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);              /* delivered when the handler returns */
}

/* a stop signal: terminal back, then stop with the default action */
static void
on_stop(int sig)
{
	int fd = ask_fd, saved = errno;

	if (fd >= 0)
		tcsetattr(fd, TCSANOW, &ask_saved);
	ask_stopped = 1;
	signal(sig, SIG_DFL);
	raise(sig);              /* stops when the handler returns */
	errno = saved;
}

/* reprompt - after a stop of ours, the prompt again (once): from on_cont,
 * and from read_line after a read that a stop interrupted (read_line
 * alone missed a stop just before its read).  A ThreadSanitizer build,
 * which defers signal handlers, still misses it in 6 runs of 10 (not
 * explained; the test skips there) */
static void
reprompt(void)
{
	int fd = ask_fd;
	const char *prompt = ask_prompt;

	if (ask_stopped && fd >= 0 && prompt) {
		ask_stopped = 0;
		(void)!write(fd, "\n", 1);
		(void)!write(fd, prompt, (size_t)ask_prompt_len);
	}
}

/* continued: catch the stop signals again and, in the foreground, turn
 * echo off again before the user types; after a stop of ours, show the
 * prompt again.  Here too, not only after read() returns EINTR: a ^Z just
 * before the read interrupts nothing, and the prompt was not repeated (1
 * run in 4 of the three-stop test) */
static void
on_cont(int sig)
{
	int fd = ask_fd, saved = errno;
	size_t i;

	(void)sig;
	for (i = 0; i < NSTOP; i++)
		set_handler(stop_sigs[i], on_stop, NULL);
	if (fd >= 0 && tcgetpgrp(fd) == getpgrp())
		tcsetattr(fd, TCSANOW, &ask_quiet);
	reprompt();
	errno = saved;
}

/* read_line - the first line of fd (without its newline, and without a CR
 * just before it or before the end) into buf, PFS_PASS_MAX + 1 bytes.
 * Reads byte by byte so that nothing after the line is consumed; a read
 * interrupted by a signal (a stop at the prompt) is repeated. */
static ssize_t
read_line(int fd, const char *what, char *buf, struct pfs_err *e)
{
	size_t n = 0;
	ssize_t r;
	char c;

	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR) {
			reprompt();  /* if on_cont has not */
			continue;
		}
		if (r < 0)
			return pfs_seterr(e, "%s: %s", what, strerror(errno));
		if (r == 0 || c == '\n')
			break;
		if (n == PFS_PASS_MAX) {
			explicit_bzero(&c, sizeof(c));
			explicit_bzero(buf, PFS_PASS_MAX + 1);
			return pfs_seterr(e, "%s: password too long (at most %u "
			                  "bytes)", what, PFS_PASS_MAX);
		}
		buf[n++] = c;
	}
	explicit_bzero(&c, sizeof(c));
	if (n && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (n == 0)
		return pfs_seterr(e, "%s: empty password", what);
	return (ssize_t)n;
}

int
pfs_tty_open(void)
{
	return open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
}

ssize_t
pfs_tty_ask(int tty, const char *prompt, char *buf, struct pfs_err *e)
{
	struct sigaction old_term[NTERM], old_stop[NSTOP], old_cont;
	ssize_t n;
	size_t i;
	int echo_off;

	if (pfs_write_full(tty, prompt, strlen(prompt), NULL) < 0)
		return pfs_seterr(e, "/dev/tty: %s", strerror(errno));
	echo_off = tcgetattr(tty, &ask_saved) == 0;
	ask_quiet = ask_saved;
	ask_quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	ask_buf = buf;
	ask_stopped = 0;
	ask_prompt = prompt;
	ask_prompt_len = (sig_atomic_t)strlen(prompt);
	ask_fd = echo_off ? tty : -1;
	for (i = 0; i < NTERM; i++)
		set_handler(term_sigs[i], on_term, &old_term[i]);
	for (i = 0; i < NSTOP; i++)
		set_handler(stop_sigs[i], on_stop, &old_stop[i]);
	set_handler(SIGCONT, on_cont, &old_cont);
	if (echo_off)
		tcsetattr(tty, TCSANOW, &ask_quiet);
	n = read_line(tty, "terminal", buf, e);
	if (echo_off)
		tcsetattr(tty, TCSANOW, &ask_saved);
	ask_fd = -1;
	ask_prompt = NULL;
	sigaction(SIGCONT, &old_cont, NULL);
	for (i = 0; i < NSTOP; i++)
		sigaction(stop_sigs[i], &old_stop[i], NULL);
	for (i = 0; i < NTERM; i++)
		sigaction(term_sigs[i], &old_term[i], NULL);
	ask_buf = NULL;
	(void)!write(tty, "\n", 1);
	return n;
}

static int
get_password(struct pfs_secret *s, const struct pfs_keyopt *k, int tty,
             int confirm, struct pfs_err *e)
{
	char what[32];
	ssize_t n, m;
	int fd;

	if (k->src == PFS_KS_PWFD) {
		snprintf(what, sizeof(what), "descriptor %d", k->fd);
		n = read_line(k->fd, what, s->pw, e);
	} else if (k->src == PFS_KS_PWFILE) {
		fd = open(k->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return pfs_seterr(e, "%s: %s", k->path, strerror(errno));
		n = read_line(fd, k->path, s->pw, e);
		close(fd);
	} else {
		n = pfs_tty_ask(tty, confirm ? "Password (to encrypt): " :
		                "Password: ", s->pw, e);
		if (n > 0 && confirm) {
			m = pfs_tty_ask(tty, "Password (again): ", s->pw2, e);
			if (m < 0)
				return -1;
			if (m != n || memcmp(s->pw, s->pw2, (size_t)n) != 0)
				return pfs_seterr(e, "passwords do not match");
			explicit_bzero(s->pw2, sizeof(s->pw2));
		}
	}
	if (n < 0)
		return -1;
	s->pwlen = (size_t)n;
	s->password = 1;
	return 0;
}

int
pfs_secret_load(struct pfs_secret *s, const struct pfs_keyopt *k, int tty,
                int confirm, struct pfs_err *warn, struct pfs_err *e)
{
	warn->msg[0] = '\0';
	if (k->src == PFS_KS_KEYFILE || k->src == PFS_KS_RAWKEY) {
		s->password = 0;
		return load_key(s, k->path, k->src == PFS_KS_RAWKEY, warn, e);
	}
	return get_password(s, k, tty, confirm, e);
}

/* --- key generation --- */

int
pfs_secret_write(const char *path, const char *text, size_t n,
                 const char *what, const char *fix, struct pfs_err *warn,
                 struct pfs_err *e)
{
	struct stat st;
	int fd = 1, rc = -1, created = 0;
	const char *name = path ? path : "stdout";

	warn->msg[0] = '\0';
	if (path) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		          O_CLOEXEC, 0600);
		if (fd < 0 && errno == EEXIST)
			return pfs_seterr(e, "%s: file exists (a%s %s file is never "
			                  "overwritten: remove it first or choose "
			                  "another name)", path,
			                  strchr("aeiou", what[0]) ? "n" : "", what);
		if (fd < 0)
			return pfs_seterr(e, "%s: %s", path, strerror(errno));
		created = 1;
	} else if (fstat(1, &st) == 0 && S_ISREG(st.st_mode) &&
	           (st.st_mode & 077)) {
		pfs_seterr(warn, "stdout: the %s went to a file that group or "
		           "others may read (mode %04o): use '%s' instead",
		           what, (unsigned)(st.st_mode & 07777), fix);
	}
	if (pfs_write_full(fd, text, n, NULL) < 0 || (path && fsync(fd) < 0)) {
		if (!path && errno == EPIPE)
			pfs_die_of_sigpipe();
		pfs_seterr(e, "%s: write error: %s", name, strerror(errno));
		goto out;
	}
	if (path) {
		rc = close(fd);
		fd = -1;
		if (rc < 0) {
			pfs_seterr(e, "%s: write error: %s", name,
			           strerror(errno));
			goto out;
		}
	}
	rc = 0;
out:
	if (path && fd >= 0)
		close(fd);
	if (created && rc < 0)
		unlink(path);
	return rc;
}

int
pfs_keygen(const char *path, struct pfs_err *warn, struct pfs_err *e)
{
	char line[PFS_KEYLINE_LEN + 2];
	uint8_t *k;
	int rc;

	k = gcry_malloc_secure(PFS_KEY_LEN);
	if (!k)
		return pfs_seterr(e, "out of secure memory");
	do
		gcry_randomize(k, PFS_KEY_LEN, GCRY_VERY_STRONG_RANDOM);
	while (all_zero(k, PFS_KEY_LEN));
	pfs_key_format(k, line);
	gcry_free(k);
	line[PFS_KEYLINE_LEN] = '\n';
	line[PFS_KEYLINE_LEN + 1] = '\0';
	rc = pfs_secret_write(path, line, PFS_KEYLINE_LEN + 1, "key",
	                      "pencrypt --keygen -o FILE", warn, e);
	explicit_bzero(line, sizeof(line));
	return rc;
}

/* --- hardening --- */

int
pfs_secret_nodump(struct pfs_err *e)
{
	struct rlimit rl = { 0, 0 };
	int ok = setrlimit(RLIMIT_CORE, &rl) == 0;

#ifdef __linux__
	ok |= prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0;
#endif
	return ok ? 0 : pfs_seterr(e, "cannot disable core dumps: %s",
	                           strerror(errno));
}

int
pfs_secmem_locked(void)
{
	char line[128];
	unsigned long kb;
	FILE *f = fopen("/proc/self/status", "re");
	void *p;
	int rc = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %lu kB", &kb) == 1) {
			rc = kb > 0;
			break;
		}
	fclose(f);
	if (rc == 0) {
		/* nothing locked: would a pool of the same size lock now?
		 * Only where mlock() pretends to succeed (AddressSanitizer
		 * makes it a no-op); then, as libgcrypt does, believe it */
		p = mmap(NULL, SECMEM_POOL, PROT_READ | PROT_WRITE,
		         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED) {
			if (mlock(p, SECMEM_POOL) == 0) {
				munlock(p, SECMEM_POOL);
				rc = 1;
			}
			munmap(p, SECMEM_POOL);
		}
	}
	return rc;
}
