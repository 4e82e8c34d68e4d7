/*
 * pipeline - run the pfs programs as one pipeline: fork the real filters
 * joined by pipes, wait for all of them and report the one that failed;
 * with --stats, a per-stage table with the bottleneck marked.  Takes any
 * number of FILEs (or directories with -r), each to its own output, as
 * zstd does; no FILE or '-' is standard input.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "codec.h"
#include "err.h"
#include "feed.h"
#include "files.h"
#include "frame.h"
#include "head.h"
#include "io.h"
#include "proc.h"
#include "secret.h"
#include "stagelog.h"
#include "stages.h"
#include "stats.h"
#include "step.h"
#include "util.h"

#define MAXSTAGES  (PFS_STAGES_MAX + 2)   /* <= PFS_STATS_TABLE_MAX */

/* options that only some subcommands take */
enum {
	U_ALGO = 1 << 0, U_LEVEL = 1 << 1, U_ENCRYPT = 1 << 2,
	U_CIPHER = 1 << 3, U_HASH = 1 << 4, U_KEY = 1 << 5, U_OUTPUT = 1 << 6,
	U_FORCE = 1 << 7, U_THREADS = 1 << 8, U_PROGRESS = 1 << 9,
	U_KEEPMODE = 1 << 10, U_NAME = 1 << 11, U_NOCOMP = 1 << 12,
	U_NOHASH = 1 << 13, U_KDF = 1 << 14, U_HIDE = 1 << 15,
	U_RM = 1 << 16, U_STDOUT = 1 << 17, U_OUTDIR = 1 << 18,
	U_KEEP = 1 << 19
};

/* NULL: the codec flags, "--zstd/--lz4/--brotli" */
static const char *const used_names[] = {
	NULL, "-l", "--encrypt", "--cipher", "--hash",
	"--key-file/--raw-key-file/--password-file/--password-fd", "-o", "-f",
	"-T", "--progress", "-p", "-N", "--no-compress", "--no-hash",
	"--kdf-time/--kdf-memory", "--hide-name", "--rm", "-c",
	"--output-dir-flat/--output-dir-mirror", "-k"
};

#define U_FILES (U_OUTPUT | U_FORCE | U_RM | U_STDOUT | U_OUTDIR | U_KEEP)

enum cmd { C_PROCESS, C_RESTORE, C_VERIFY, C_INFO };

static const struct command {
	const char *name;
	enum cmd cmd;
	unsigned allowed;
} commands[] = {
	{ "process", C_PROCESS, ~(unsigned)(U_KEEPMODE | U_NAME) },
	{ "restore", C_RESTORE, U_KEY | U_FILES | U_THREADS | U_PROGRESS |
	  U_KEEPMODE | U_NAME },
	{ "verify", C_VERIFY, U_KEY | U_THREADS | U_PROGRESS },
	{ "info", C_INFO, 0 },
	{ NULL, C_INFO, 0 }
};

struct opts {
	const struct command *cmd;
	char **files;                /* the operands; none: standard input */
	int nfiles;
	const char *input;           /* the one being worked on */
	const char *output;          /* -o, "-" for -c */
	const char *outdir;          /* --output-dir-flat/-mirror */
	int mirror;
	const struct pfs_codec *codec;   /* NULL: --no-compress */
	const char *level, *cipher, *hash, *threads, *perf_dir;
	char levelbuf[24];
	const char *key_opt;         /* "--key-file", ..., or NULL: ask */
	const char *key_file;
	const char *kdf_time, *kdf_memory;
	int encrypt, force, dry_run, ultra, hide_name, no_compress, no_hash;
	int progress;                /* -1: on if stderr is a terminal */
	int recursive, rm;
	int keep_mode;               /* -p: pjoin -p */
	int use_name;                /* -N: output named after the HEAD */
	unsigned used;               /* U_* given */
	struct pfs_common c;
};

struct pipeline {
	struct pfs_step s[MAXSTAGES];
	struct pfs_proc procs[MAXSTAGES];   /* s[i] runs as procs[i] */
	struct pfs_chain chain;
	unsigned n;
	int stats;                   /* enum pfs_stats_mode */
	int progress;                /* a stage draws progress through us */
	int drawn;                   /* a progress line is open on stderr */
	int to_stdout;               /* the last stage writes our stdout */
	const char *input;           /* for messages: FILE, or "-" */
	char perf[PATH_MAX];
	/* restore/verify from a pipe: the bytes read for the HEAD, fed to
	 * the first stage again by a child (feed.h) */
	struct pfs_feed feed;
	int in_fd;                   /* -1: our stdin */
	char outbuf[PATH_MAX + PFS_NAME_MAX + 4];
	char tmpname[PATH_MAX + PFS_NAME_MAX + 4];
};

static int sigpipe_seen;         /* a stage died of SIGPIPE on our stdout */

struct walk_arg {
	struct opts *o;
	struct pipeline *p;
};

/* names - how outputs are named for o->input */
static struct pfs_names
names(const struct opts *o)
{
	struct pfs_names nm = { o->input, o->outdir, o->mirror, o->use_name };

	return nm;
}

static _Noreturn void
usage(void)
{
	char flags[64];

	pfs_codec_join(0, ", ", ", ", flags, sizeof(flags));
	printf("Usage: %s [OPTION]... process|restore|verify|info [FILE|DIR|-]...\n"
	       "Run the pfs programs (found next to pipeline, else in PATH) as one\n"
	       "pipeline joined by pipes, wait for all of them and report the stage\n"
	       "that failed.  Options may come before or after the subcommand.  Each\n"
	       "FILE gets its own pipeline and output; a FILE that fails does not\n"
	       "stop the others.  No FILE, or '-': standard input to standard output.\n"
	       "\n"
	       "  process FILE    pchunk FILE | pcompress | pencrypt | phash > FILE.pfs\n"
	       "                  by default compressed (zstd -3) and hashed (xxh3);\n"
	       "                  the output is written to a temporary file renamed\n"
	       "                  when every stage succeeded; a FILE.pfs is skipped\n"
	       "  restore FILE    the inverse pipeline, built from the stage stack in\n"
	       "                  FILE's HEAD: phash --check, pencrypt -d, pcompress -d,\n"
	       "                  then pjoin; the output defaults to FILE without .pfs\n"
	       "                  (next to FILE); another FILE needs -o or -N\n"
	       "  verify FILE     the restore pipeline ending in 'pjoin -o /dev/null'\n"
	       "  info FILE       pinfo FILE\n"
	       "\n"
	       "process:\n", pfs_prog);
	printf("      %-26scompress with that algorithm (default zstd)\n", flags);
	printf("      --no-compress             do not compress\n"
	       "  -#                            compression level, as zstd: -1 ... -19\n"
	       "      --fast[=N]                zstd fast level -N (default 1)\n"
	       "      --ultra                   allow zstd levels 20 to 22 (-20 ... -22)\n"
	       "  -l, --level N                 compression level (negative: fast)\n"
	       "      --hash ALGO               digests with ALGO (phash -a; default\n"
	       "                                xxh3)\n"
	       "      --no-hash                 add no digests\n"
	       "      --encrypt                 encrypt (pencrypt); without a key option\n"
	       "                                pencrypt asks for a password twice on\n"
	       "                                the terminal\n"
	       "      --cipher C                aes-256-gcm or chacha20-poly1305\n"
	       "      --hide-name               keep the source name out of HEAD\n"
	       "      --kdf-time N              Argon2id passes (pencrypt --kdf-time)\n"
	       "      --kdf-memory SIZE         Argon2id memory (pencrypt --kdf-memory)\n"
	       "process, restore and verify:\n"
	       "      --key-file F              key file (pencrypt --keygen makes one)\n"
	       "      --raw-key-file F          32 raw bytes or 64 hex digits in F\n"
	       "      --password-file F         password: the first line of F\n"
	       "      --password-fd N           password: the first line read from\n"
	       "                                descriptor N (one FILE only)\n"
	       "                                (none of these: asked on the terminal)\n"
	       "  -T, --threads N               worker threads of each stage (0..16,\n"
	       "                                0: the number of CPUs, at most 16)\n"
	       "      --progress                progress of pchunk (process) or pjoin,\n"
	       "                                the default when stderr is a terminal\n"
	       "      --no-progress             no progress display\n"
	       "  -r, --recursive               FILE may be a directory: every regular\n"
	       "                                file under it (restore, verify: every\n"
	       "                                *.pfs file)\n"
	       );
	printf("process and restore:\n"
	       "  -o, --output FILE             output file ('-': standard output);\n"
	       "                                one FILE only\n"
	       "  -c, --stdout                  write to standard output\n"
	       "      --output-dir-flat DIR     write every output into DIR\n"
	       "      --output-dir-mirror DIR   write every output into DIR, under the\n"
	       "                                FILE's own directory path\n"
	       "  -f, --force                   overwrite an existing output file\n"
	       "  -k, --keep                    keep the source file (the default)\n"
	       "      --rm                      remove the source file after success\n"
	       "restore:\n"
	       "  -N, --name                    name the output after the source name\n"
	       "                                stored in the stream (if any), next to\n"
	       "                                FILE; a name starting with '.' or\n"
	       "                                holding control characters is refused\n"
	       "  -p, --keep-mode               restore the recorded permission bits\n"
	       "                                exactly, setuid/setgid/sticky included\n"
	       "                                (pjoin -p); without it they are masked\n"
	       "                                with 0777 and the umask\n"
	       );
	printf("all:\n"
	       "      --dry-run                 print the equivalent shell pipeline and\n"
	       "                                exit without running anything\n"
	       "      --perf DIR                run every stage under 'perf record -g -o\n"
	       "                                DIR/NN-TOOL.data --' (NN: stage number)\n"
	       "      --stats[=json]            per-stage table on stderr: bytes in/out,\n"
	       "                                CPU, blocked-in/-out, MB/s, peak RSS;\n"
	       "                                json: each stage's stats object with\n"
	       "                                \"stage\" and \"bottleneck\" added\n"
	       "  -q, --quiet                   no warnings and no progress (passed to\n"
	       "                                every stage)\n"
	       "  -h, --help                    show this help\n"
	       "  -V, --version                 show the version\n"
	       "\n"
	       "The bottleneck marked by --stats is the stage that spent the smallest\n"
	       "share of its wall time blocked, taking the larger of its blocked-in and\n"
	       "blocked-out times: stages after the bottleneck wait for input, stages\n"
	       "before it wait for their output to drain, it waits for neither.\n"
	       "\n"
	       "A stage that fails usually makes the stages after it fail too (their\n"
	       "input ends early) and those before it die of SIGPIPE.  pipeline shows\n"
	       "only the messages of the earliest failed stage not killed by SIGPIPE,\n"
	       "the likely cause, or one line naming it if it printed nothing.  When\n"
	       "the reader of standard output goes away (| head), pipeline dies of\n"
	       "SIGPIPE quietly, as zstd -dc does.\n"
	       "\n"
	       "Exit status: 0 success, 1 a stage failed for some FILE or another\n"
	       "error, 2 bad usage.\n"
	       "Examples: pipeline process -r photos/\n"
	       "          pipeline restore -c big.bin.pfs | tar x\n"
	       "          pipeline --stats restore --key-file k -o copy.bin big.bin.pfs\n");
	exit(fflush(stdout) == 0 ? 0 : 1);
}

/* pcompress's levels (codec.h), checked here so that a bad level is a
 * usage error of pipeline, not a failed stage */
static void
check_level(const struct opts *o)
{
	const struct pfs_codec *c = o->codec;
	struct pfs_err e;
	long v;

	if (pfs_parse_int(o->level, -1000000, 1000000, &v, &e) < 0)
		pfs_usage_error("-l: %s", e.msg);
	if (pfs_codec_level_ok(c, v, o->ultra))
		return;
	if (!o->ultra && pfs_codec_level_ok(c, v, 1))
		pfs_usage_error("level %ld of %s needs --ultra", v, c->name);
	pfs_usage_error("-l: level %s is out of range for %s (%d to %d%s)",
	                o->level, c->name, c->lmin,
	                o->ultra && c->lultra > c->lmax ? c->lultra : c->lmax,
	                c->lmin < 0 ? ", not 0" : "");
}

static int
is_password(const struct opts *o)
{
	return !o->key_opt || strstr(o->key_opt, "password");
}

static void
check_process(struct opts *o)
{
	int tty;

	if (o->no_compress && (o->codec || o->level || o->ultra))
		pfs_usage_error("%s: --no-compress excludes a compression "
		                "option", o->codec ? o->codec->flag : "level");
	if (!o->no_compress && !o->codec)
		o->codec = &pfs_codecs[0];
	if (o->level)
		check_level(o);
	if (o->no_hash && o->hash)
		pfs_usage_error("--hash and --no-hash exclude each other");
	if (!o->no_hash && !o->hash)
		o->hash = "xxh3";
	if (!o->encrypt) {
		if (o->used & (U_CIPHER | U_KEY | U_KDF | U_HIDE))
			pfs_usage_error("%s needs --encrypt",
			                o->cipher ? "--cipher" : o->key_opt ?
			                o->key_opt : o->hide_name ? "--hide-name" :
			                "--kdf-time/--kdf-memory");
		return;
	}
	if ((o->used & U_KDF) && !is_password(o))
		pfs_usage_error("--kdf-time/--kdf-memory need a password, not %s",
		                o->key_opt);
	if (!o->key_opt && !o->dry_run) {
		tty = pfs_tty_open();
		if (tty < 0)
			pfs_usage_error("--encrypt: no key given and no terminal to "
			                "ask for a password: use --key-file F, "
			                "--password-file F or --password-fd N");
		(void)close(tty);
	}
}

static void
check_opts(struct opts *o)
{
	unsigned bad = o->used & ~o->cmd->allowed, i;
	char flags[64];
	int many = o->nfiles > 1 || o->recursive;

	pfs_codec_join(0, "/", "/", flags, sizeof(flags));
	for (i = 0; bad; i++)
		if (bad & (1u << i))
			pfs_usage_error("%s does not apply to '%s'",
			                used_names[i] ? used_names[i] : flags,
			                o->cmd->name);
	if (o->cmd->cmd == C_PROCESS)
		check_process(o);
	if ((o->used & U_OUTPUT) && strcmp(o->output, "-") != 0 && many)
		pfs_usage_error("-o takes one FILE: use --output-dir-flat DIR or "
		                "-c for several");
	if ((o->used & U_OUTPUT) && (o->used & U_STDOUT))
		pfs_usage_error("-o and -c exclude each other");
	if (o->outdir && o->output)
		pfs_usage_error("%s and %s exclude each other", o->mirror ?
		                "--output-dir-mirror" : "--output-dir-flat",
		                strcmp(o->output, "-") == 0 && !(o->used & U_OUTPUT)
		                ? "-c" : "-o");
	if (o->rm && o->output && strcmp(o->output, "-") == 0)
		pfs_usage_error("--rm: the output is standard output: the source "
		                "is kept");
	if ((o->used & U_KEEP) && o->rm)
		pfs_usage_error("-k and --rm exclude each other");
	if (o->cmd->cmd == C_PROCESS && many && o->output &&
	    strcmp(o->output, "-") == 0)
		pfs_usage_error("-c with several FILEs: the streams would be "
		                "concatenated, which no stage reads back");
	if (many && o->key_opt && strcmp(o->key_opt, "--password-fd") == 0)
		pfs_usage_error("--password-fd is read once: give one FILE, or "
		                "--password-file F");
}

/* take_levels - zstd's -# levels (-1 ... -22): taken out of argv before
 * getopt, which would read -19 as -1 -9.  Skips the argument of every
 * option that takes one, so that '-l -5' and '-o -3' stay as they are. */
static void
take_levels(int *argc, char **argv, const struct option *lo, struct opts *o)
{
	int i, k = 1, skip = 0;
	size_t n, j;
	const char *a, *eq;

	for (i = 1; i < *argc; i++) {
		a = argv[i];
		if (skip || a[0] != '-' || !a[1]) {
			skip = 0;
		} else if (strcmp(a, "--") == 0) {
			break;
		} else if (a[1] == '-') {
			eq = strchr(a, '=');
			n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			for (j = 0; lo[j].name && !eq; j++)
				if (strncmp(lo[j].name, a + 2, n) == 0) {
					skip = lo[j].has_arg == required_argument;
					break;
				}
		} else if (strspn(a + 1, "0123456789") == strlen(a + 1)) {
			if (strlen(a + 1) >= sizeof(o->levelbuf))
				pfs_usage_error("%s: invalid level", a);
			strcpy(o->levelbuf, a + 1);
			o->level = o->levelbuf;
			o->used |= U_LEVEL;
			continue;
		} else {
			for (j = 1; a[j]; j++)
				if (strchr("lTo", a[j])) {
					skip = !a[j + 1];
					break;
				}
		}
		argv[k++] = argv[i];
	}
	for (; i < *argc; i++)
		argv[k++] = argv[i];
	argv[k] = NULL;
	*argc = k;
}

static void
set_key(struct opts *o, const char *opt, const char *arg)
{
	if (o->key_opt)
		pfs_usage_error("give one of --key-file, --raw-key-file, "
		                "--password-file and --password-fd");
	o->key_opt = opt;
	o->key_file = arg;
	o->used |= U_KEY;
}

static void
parse(int argc, char **argv, struct opts *o)
{
	enum { OPT_ENCRYPT = PFS_OPT_TOOL_BASE, OPT_KEY, OPT_RAWKEY,
	       OPT_PASSWORD, OPT_PWFD, OPT_CIPHER, OPT_HASH, OPT_DRY, OPT_PERF,
	       OPT_PROGRESS, OPT_NOPROGRESS, OPT_NOCOMP, OPT_NOHASH, OPT_FAST,
	       OPT_ULTRA, OPT_HIDE, OPT_KDFT, OPT_KDFM, OPT_RM, OPT_FLAT,
	       OPT_MIRROR, OPT_CODEC /* + codec index */ };
	static const struct option fixed[] = {
		{ "level", required_argument, NULL, 'l' },
		{ "fast", optional_argument, NULL, OPT_FAST },
		{ "ultra", no_argument, NULL, OPT_ULTRA },
		{ "no-compress", no_argument, NULL, OPT_NOCOMP },
		{ "encrypt", no_argument, NULL, OPT_ENCRYPT },
		{ "key-file", required_argument, NULL, OPT_KEY },
		{ "raw-key-file", required_argument, NULL, OPT_RAWKEY },
		{ "password-file", required_argument, NULL, OPT_PASSWORD },
		{ "password-fd", required_argument, NULL, OPT_PWFD },
		{ "cipher", required_argument, NULL, OPT_CIPHER },
		{ "hide-name", no_argument, NULL, OPT_HIDE },
		{ "kdf-time", required_argument, NULL, OPT_KDFT },
		{ "kdf-memory", required_argument, NULL, OPT_KDFM },
		{ "hash", required_argument, NULL, OPT_HASH },
		{ "no-hash", no_argument, NULL, OPT_NOHASH },
		{ "threads", required_argument, NULL, 'T' },
		{ "output", required_argument, NULL, 'o' },
		{ "stdout", no_argument, NULL, 'c' },
		{ "output-dir-flat", required_argument, NULL, OPT_FLAT },
		{ "output-dir-mirror", required_argument, NULL, OPT_MIRROR },
		{ "force", no_argument, NULL, 'f' },
		{ "keep", no_argument, NULL, 'k' },
		{ "rm", no_argument, NULL, OPT_RM },
		{ "recursive", no_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ "perf", required_argument, NULL, OPT_PERF },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "no-progress", no_argument, NULL, OPT_NOPROGRESS },
		{ "keep-mode", no_argument, NULL, 'p' },
		{ "name", no_argument, NULL, 'N' },
		PFS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct option longopts[PFS_NCODECS + sizeof(fixed) / sizeof(fixed[0])];
	struct pfs_err e;
	char flags[64];
	long v;
	int c;

	pfs_codec_longopts(longopts, OPT_CODEC);
	memcpy(longopts + PFS_NCODECS, fixed, sizeof(fixed));
	memset(o, 0, sizeof(*o));
	o->progress = -1;
	pfs_common_init(&o->c, PFS_SECRET_THREADS_MAX);
	take_levels(&argc, argv, longopts, o);
	while ((c = getopt_long(argc, argv, "l:T:o:cfkrpNqhV", longopts,
	                        NULL)) != -1) {
		if (c == 'T') {     /* checked by pfs_common_opt, passed on */
			o->threads = optarg;
			o->used |= U_THREADS;
		}
		if (pfs_common_opt(&o->c, c, optarg))
			continue;
		if (c >= OPT_CODEC && c < OPT_CODEC + (int)PFS_NCODECS) {
			pfs_codec_join(0, ", ", " and ", flags, sizeof(flags));
			if (o->codec && o->codec != &pfs_codecs[c - OPT_CODEC])
				pfs_usage_error("%s exclude each other", flags);
			o->codec = &pfs_codecs[c - OPT_CODEC];
			o->used |= U_ALGO;
			continue;
		}
		switch (c) {
		case 'l':
			if (pfs_parse_int(optarg, -1000000, 1000000, &v, &e) < 0)
				pfs_usage_error("-l: %s", e.msg);
			o->level = optarg;
			o->used |= U_LEVEL;
			break;
		case OPT_FAST:
			v = 1;
			if (optarg && pfs_parse_int(optarg, 1, 1000000, &v, &e) < 0)
				pfs_usage_error("--fast: %s", e.msg);
			snprintf(o->levelbuf, sizeof(o->levelbuf), "-%ld", v);
			o->level = o->levelbuf;
			o->used |= U_LEVEL;
			break;
		case OPT_ULTRA:
			o->ultra = 1;
			o->used |= U_LEVEL;
			break;
		case OPT_NOCOMP:
			o->no_compress = 1;
			o->used |= U_NOCOMP;
			break;
		case OPT_ENCRYPT:
			o->encrypt = 1;
			o->used |= U_ENCRYPT;
			break;
		case OPT_KEY:
			set_key(o, "--key-file", optarg);
			break;
		case OPT_RAWKEY:
			set_key(o, "--raw-key-file", optarg);
			break;
		case OPT_PASSWORD:
			set_key(o, "--password-file", optarg);
			break;
		case OPT_PWFD:
			if (pfs_parse_int(optarg, 0, INT_MAX, &v, &e) < 0)
				pfs_usage_error("--password-fd: %s", e.msg);
			set_key(o, "--password-fd", optarg);
			break;
		case OPT_CIPHER:
			if (!pfs_cipher_id(optarg))
				pfs_usage_error("unknown cipher '%s' (aes-256-gcm "
				                "or chacha20-poly1305)", optarg);
			o->cipher = optarg;
			o->used |= U_CIPHER;
			break;
		case OPT_HIDE:
			o->hide_name = 1;
			o->used |= U_HIDE;
			break;
		case OPT_KDFT:
			o->kdf_time = optarg;
			o->used |= U_KDF;
			break;
		case OPT_KDFM:
			o->kdf_memory = optarg;
			o->used |= U_KDF;
			break;
		case OPT_HASH:
			if (!pfs_hash_id(optarg))
				pfs_usage_error("unknown hash algorithm '%s' (see "
				                "'phash -a list')", optarg);
			o->hash = optarg;
			o->used |= U_HASH;
			break;
		case OPT_NOHASH:
			o->no_hash = 1;
			o->used |= U_NOHASH;
			break;
		case 'o':
			o->output = optarg;
			o->used |= U_OUTPUT;
			break;
		case 'c':
			o->output = "-";
			o->used |= U_STDOUT;
			break;
		case OPT_FLAT:
		case OPT_MIRROR:
			o->outdir = optarg;
			o->mirror = c == OPT_MIRROR;
			o->used |= U_OUTDIR;
			break;
		case 'f':
			o->force = 1;
			o->used |= U_FORCE;
			break;
		case 'k':
			o->used |= U_KEEP;
			break;
		case OPT_RM:
			o->rm = 1;
			o->used |= U_RM;
			break;
		case 'r':
			o->recursive = 1;
			break;
		case 'p':
			o->keep_mode = 1;
			o->used |= U_KEEPMODE;
			break;
		case 'N':
			o->use_name = 1;
			o->used |= U_NAME;
			break;
		case OPT_DRY:
			o->dry_run = 1;
			break;
		case OPT_PERF:
			o->perf_dir = optarg;
			break;
		case OPT_PROGRESS:
		case OPT_NOPROGRESS:
			o->progress = c == OPT_PROGRESS;
			o->used |= U_PROGRESS;
			break;
		case 'h':
			usage();
		default:
			pfs_usage_try();
		}
	}
	if (optind >= argc)
		pfs_usage_error("missing subcommand (process, restore, verify "
		                "or info)");
	for (o->cmd = commands; o->cmd->name; o->cmd++)
		if (strcmp(o->cmd->name, argv[optind]) == 0)
			break;
	if (!o->cmd->name)
		pfs_usage_error("unknown subcommand '%s' (process, restore, "
		                "verify or info)", argv[optind]);
	o->files = argv + optind + 1;
	o->nfiles = argc - optind - 1;
	check_opts(o);
}

/* stage_new - append a stage running NAME [MODE]; both name it in messages */
static struct pfs_step *
stage_new(struct pipeline *p, const char *name, const char *mode)
{
	struct pfs_step *s = &p->s[p->n++];

	pfs_step_init(s, name, mode);
	return s;
}

static void
add(struct pfs_step *s, const char *a1, const char *a2)
{
	if (pfs_step_add(s, a1, a2) < 0)
		pfs_die(PFS_EXIT_ERR, "%s: too many arguments", s->argv[0]);
}

/* the options every stage of a kind takes: -T N, -q */
static void
add_common(const struct opts *o, struct pfs_step *s, int threads)
{
	if (threads && o->threads)
		add(s, "-T", o->threads);
	if (pfs_quiet)
		add(s, "-q", NULL);
}

/* the input file of the first stage; none for standard input */
static void
add_file(struct pfs_step *s, const char *file)
{
	if (strcmp(file, "-") == 0)
		return;
	if (file[0] == '-')
		add(s, "--", NULL);
	add(s, file, NULL);
}

static void
build_process(const struct opts *o, struct pipeline *p, int progress)
{
	struct pfs_step *s;

	s = stage_new(p, "pchunk", NULL);
	if (progress)
		add(s, "--progress", NULL);
	add_common(o, s, 0);
	add_file(s, o->input);
	if (o->codec) {
		s = stage_new(p, "pcompress", o->codec->flag);
		if (o->ultra)
			add(s, "--ultra", NULL);
		if (o->level)
			add(s, "-l", o->level);
		add_common(o, s, 1);
	}
	if (o->encrypt) {
		s = stage_new(p, "pencrypt", NULL);
		if (o->key_opt)
			add(s, o->key_opt, o->key_file);
		if (o->cipher)
			add(s, "--cipher", o->cipher);
		if (o->hide_name)
			add(s, "--hide-name", NULL);
		if (o->kdf_time)
			add(s, "--kdf-time", o->kdf_time);
		if (o->kdf_memory)
			add(s, "--kdf-memory", o->kdf_memory);
		add_common(o, s, 1);
	}
	if (o->hash) {
		s = stage_new(p, "phash", NULL);
		add(s, "-a", o->hash);
		add_common(o, s, 1);
	}
}

/* the feeder child's read error */
static void
feed_fail(const struct pfs_err *e)
{
	pfs_error("%s", e->msg);
}

/* build the inverse pipeline from the stage stack in the input's HEAD;
 * -1 on an error */
static int
build_restore(const struct opts *o, struct pipeline *p, int progress,
              const char **outp, struct pfs_err *e)
{
	struct pfs_reader r;
	struct pfs_head h;
	struct stat ost, ist;
	const struct pfs_names nm = names(o);
	const struct pfs_stage *rec;
	const char *name = "stdin", *out = o->output, *prog, *mode;
	struct pfs_step *s;
	char desc[128];
	unsigned i;
	int fd = -1, enc = 0, rc = -1, tty, in_stdin;

	memset(&r, 0, sizeof(r));
	r.fd = -1;
	in_stdin = strcmp(o->input, "-") == 0;
	if (in_stdin) {
		if (pfs_feed_head(&p->feed, &r, &h, &p->in_fd, e) < 0)
			goto out;
		if (!out)
			out = "-";
	} else {
		fd = pfs_open_input(o->input, &name, e);
		if (fd < 0)
			return -1;
		pfs_reader_init(&r, fd, name);
		if (pfs_reader_start(&r, &h, e) < 0)
			goto out;
	}
	if (o->cmd->cmd == C_RESTORE && !out) {
		if (pfs_restore_name(&nm, &h, p->outbuf, sizeof(p->outbuf),
		                     e) < 0)
			goto out;
		out = p->outbuf;
	}
	if (o->cmd->cmd == C_VERIFY)
		out = NULL;
	if (out && strcmp(out, "-") != 0 && fd >= 0 && stat(out, &ost) == 0 &&
	    fstat(fd, &ist) == 0 && ost.st_dev == ist.st_dev &&
	    ost.st_ino == ist.st_ino) {
		pfs_seterr(e, "%s: refusing to overwrite the input file", out);
		goto out;
	}
	if (o->keep_mode && out && strcmp(out, "-") == 0) {
		pfs_seterr(e, "-p sets the mode of the output file: standard "
		           "output has none");
		goto out;
	}
	if (!o->dry_run && out && strcmp(out, "-") == 0 &&
	    pfs_refuse_tty(1, o->force, e) < 0)
		goto out;
	if (!o->dry_run && out && strcmp(out, "-") != 0 &&
	    pfs_out_free(out, o->force, e) < 0)
		goto out;
	for (i = h.nstages; i-- > 0;) {
		rec = &h.stages[i];
		if (pfs_stage_undo(rec->kind, &prog, &mode) < 0) {
			pfs_seterr(e, "%s: stage record %u has an unknown kind "
			           "(%u)", o->input, i, rec->kind);
			goto out;
		}
		if (rec->kind == PFS_STAGE_ENCRYPT && !o->key_opt &&
		    !o->dry_run) {
			tty = pfs_tty_open();
			if (tty < 0) {
				pfs_stage_describe(rec, desc, sizeof(desc));
				pfs_seterr(e, "%s: the stream is encrypted (%s) "
				           "and there is no terminal to ask for "
				           "the password: give --key-file F, "
				           "--password-file F or --password-fd N",
				           o->input, desc);
				goto out;
			}
			(void)close(tty);
		}
		s = stage_new(p, prog, mode);
		if (rec->kind == PFS_STAGE_ENCRYPT) {
			if (o->key_opt)
				add(s, o->key_opt, o->key_file);
			enc = 1;
		}
		add_common(o, s, 1);
		if (p->n == 1)
			add_file(s, o->input);
	}
	if (o->key_opt && !enc)
		pfs_warn("%s: the stream is not encrypted: %s ignored",
		         o->input, o->key_opt);
	s = stage_new(p, "pjoin", NULL);
	if (progress && !(enc && !o->key_opt))
		add(s, "--progress", NULL);
	if (o->cmd->cmd == C_VERIFY)
		add(s, "-o", "/dev/null");
	else if (strcmp(out, "-") != 0)
		add(s, "-o", out);
	if (o->force)
		add(s, "-f", NULL);
	if (o->keep_mode)
		add(s, "-p", NULL);
	add_common(o, s, 1);
	if (p->n == 1)
		add_file(s, o->input);
	p->to_stdout = out && strcmp(out, "-") == 0;
	*outp = out;
	rc = 0;
out:
	if (r.fd >= 0)
		pfs_reader_free(&r);
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = pfs_seterr(e, "%s: %s", name, strerror(errno));
	if (in_stdin && p->in_fd >= 0) {
		(void)close(p->in_fd);      /* the temporary copy */
		p->in_fd = -1;
	}
	return rc;
}

static void
print_word(const char *w)
{
	const char *q;

	if (*w && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                    "0123456789_@%+=:,./-") == strlen(w)) {
		fputs(w, stdout);
		return;
	}
	putchar('\'');
	for (q = w; *q; q++)
		if (*q == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*q);
	putchar('\'');
}

static int
dry_run(const struct opts *o, const struct pipeline *p, const char *out)
{
	const char *av[PFS_STEP_AV];
	unsigned i;
	int k;

	for (i = 0; i < p->n; i++) {
		pfs_step_argv(&p->s[i], av, 0);
		for (k = 0; av[k]; k++) {
			if (k)
				putchar(' ');
			print_word(av[k]);
		}
		fputs(i + 1 < p->n ? " | " : "", stdout);
	}
	if (o->cmd->cmd == C_PROCESS && strcmp(out, "-") != 0) {
		fputs(" > ", stdout);
		print_word(out);
	}
	if (o->rm && strcmp(o->input, "-") != 0) {
		fputs(o->input[0] == '-' ? " && rm -- " : " && rm ", stdout);
		print_word(o->input);
	}
	putchar('\n');
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
}

/* end_progress - a progress line left open on the terminal is ended
 * before anything else is written to stderr */
static void
end_progress(struct pipeline *p)
{
	if (p->drawn)
		(void)fputc('\n', stderr);
	p->drawn = 0;
}

/* on_line - a line a stage wrote to stderr: its stats line is kept, a
 * progress redraw ("\r...") goes to our stderr at once, anything else is
 * kept until we know whether the stage failed on its own (report) */
static void
on_line(void *arg, unsigned i, const char *line, size_t len)
{
	struct pipeline *p = arg;

	if (pfs_stagelog_add(&p->s[i].log, line, len, p->drawn) ==
	    PFS_LINE_PROGRESS) {
		(void)fwrite(line, 1, len, stderr);
		p->drawn = line[len - 1] != '\n';
	}
}

/* show_msg - what stage i wrote to stderr.  A stage after the first reads
 * the stream of FILE from a pipe and calls it "stdin": its messages are
 * given FILE's name instead ("pencrypt: stdin: wrong key" becomes
 * "pencrypt: f.pfs: wrong key"). */
static void
show_msg(struct pipeline *p, unsigned i)
{
	struct pfs_step *s = &p->s[i];
	const char *l;
	size_t off, n, skip;
	int named = i > 0 && strcmp(p->input, "-") != 0;

	if (!s->log.msglen)
		return;
	end_progress(p);
	for (off = 0; (n = pfs_stagelog_line(&s->log, off, named ?
	     s->argv[0] : NULL, &skip)) > 0; off += n) {
		l = s->log.msg + off;
		if (skip)
			fprintf(stderr, "%s: %s: ", s->argv[0], p->input);
		(void)fwrite(l + skip, 1, n - skip, stderr);
		if (l[n - 1] != '\n')
			(void)fputc('\n', stderr);
	}
	if (s->log.msglost)
		pfs_error("stage %u (%s): more messages not shown", i + 1,
		          s->argv[0]);
}

/* exec_errors - the stages whose program could not be executed */
static void
exec_errors(struct pipeline *p)
{
	unsigned i;

	for (i = 0; i < p->chain.started; i++)
		if (p->procs[i].exec_errno) {
			end_progress(p);
			pfs_error("%s: cannot run: %s", p->procs[i].path,
			          strerror(p->procs[i].exec_errno));
		}
}

/* print_stats - the per-stage table, the bottleneck marked (stats.h) */
static void
print_stats(const struct pipeline *p)
{
	char lab[MAXSTAGES][128];
	const char *labs[MAXSTAGES], *json[MAXSTAGES];
	unsigned i;

	for (i = 0; i < p->n; i++) {
		pfs_step_label(&p->s[i], lab[i], sizeof(lab[i]));
		labs[i] = lab[i];
		json[i] = p->s[i].log.json;
	}
	pfs_stats_table(labs, json, p->n, p->stats);
}

static int
died_of(int status, int sig)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == sig;
}

/* report - one cause, one line: the messages of the stage that most
 * likely failed on its own (pfs_chain_root), or one line naming it when it
 * printed nothing (killed by a signal, say); nothing from the stages that
 * failed because it did.  Warnings of the stages that succeeded are shown
 * too.  0 if none failed, -1 if one did, 1 if the only failures are
 * SIGPIPE from our standard output's reader going away (silent). */
static int
report(struct pipeline *p)
{
	int root = pfs_chain_root(&p->chain);
	char lab[128], why[128];
	unsigned i;

	if (root >= 0 && died_of(p->procs[root].status, SIGPIPE) &&
	    p->to_stdout)
		return 1;
	for (i = 0; i < p->n; i++)
		if (!pfs_proc_failed(&p->procs[i]))
			show_msg(p, i);
	if (root < 0)
		return 0;
	show_msg(p, (unsigned)root);
	if (!p->s[root].log.msglen || WIFSIGNALED(p->procs[root].status)) {
		end_progress(p);
		pfs_step_label(&p->s[root], lab, sizeof(lab));
		pfs_proc_why(p->procs[root].status, why, sizeof(why));
		pfs_error("stage %d (%s) %s", root + 1, lab, why);
	}
	return -1;
}

/* process: the output file (a temporary renamed later) or stdout */
static int
open_output(const struct opts *o, const char *out, struct pfs_outfile *of,
            int *mode, struct pfs_err *e)
{
	struct stat st;
	const char *name;
	int in, rc;

	if (strcmp(out, "-") == 0)
		return pfs_refuse_tty(1, o->force, e) < 0 ? -1 : 0;
	in = pfs_open_input(o->input, &name, e);
	if (in < 0)
		return -1;
	*mode = fstat(in, &st) == 0 && S_ISREG(st.st_mode) ?
	        (int)(st.st_mode & 07777) : -1;
	rc = pfs_outfile_open(of, out, o->force, in, e);
	if (in != 0)
		(void)close(in);
	return rc < 0 ? -1 : 1;
}

/* process_name - the output of process: -o/-c, stdout for standard input,
 * else FILE.pfs next to FILE or in the output directory */
static int
process_name(const struct opts *o, struct pipeline *p, const char **out,
             struct pfs_err *e)
{
	const struct pfs_names nm = names(o);

	if (o->output || strcmp(o->input, "-") == 0) {
		*out = o->output ? o->output : "-";
	} else {
		if (pfs_process_name(&nm, p->outbuf, sizeof(p->outbuf), e) < 0)
			return -1;
		*out = p->outbuf;
	}
	p->to_stdout = strcmp(*out, "-") == 0;
	return 0;
}

/* want_progress - --progress, or by default when stderr is a terminal;
 * never with -q, --stats, or a password to type */
static int
want_progress(const struct opts *o)
{
	if (o->progress >= 0)
		return o->progress;
	if (pfs_quiet || o->c.stats || !isatty(2))
		return 0;
	return !(o->cmd->cmd == C_PROCESS && o->encrypt && !o->key_opt);
}

/* run_one - the whole pipeline for one FILE (o->input).  0 on success,
 * -1 when it failed (reported), 1 when stdout's reader went away. */
static int
run_one(struct opts *o, struct pipeline *p)
{
	struct pfs_outfile of;
	struct pfs_err e;
	struct pfs_step *s;
	const char *out = NULL;
	unsigned i;
	int rc = -1, have_of = 0, mode = -1, failed = 0, out_fd = -1;
	int progress = want_progress(o);

	memset(p, 0, sizeof(*p));
	p->stats = o->c.stats;
	p->in_fd = -1;
	p->input = o->input;
	if (o->cmd->cmd == C_PROCESS) {
		if (process_name(o, p, &out, &e) < 0)
			goto fail;
		build_process(o, p, progress);
	} else if (o->cmd->cmd == C_INFO) {
		s = stage_new(p, "pinfo", NULL);
		add_common(o, s, 0);
		add_file(s, o->input);
		p->to_stdout = 1;
	} else if (build_restore(o, p, progress, &out, &e) < 0) {
		goto fail;
	}
	for (i = 0; o->perf_dir && i < p->n; i++)
		snprintf(p->s[i].perf_out, PATH_MAX, "%s/%02u-%s.data",
		         o->perf_dir, i + 1, p->s[i].argv[0]);
	if (o->dry_run) {
		rc = dry_run(o, p, out);
		goto done;
	}
	if (pfs_steps_resolve(p->s, p->n, o->perf_dir, p->perf, sizeof(p->perf),
	                      &e) < 0)
		goto fail;
	if (p->feed.len && pfs_feed_start(&p->feed, feed_fail, &p->in_fd,
	                                  &e) < 0)
		goto fail;
	/* the last step that can fail before the stages run */
	if (o->cmd->cmd == C_PROCESS) {
		have_of = open_output(o, out, &of, &mode, &e);
		if (have_of < 0)
			goto fail;
		if (have_of)
			out_fd = of.fd;
	}
	/* stage i runs as process i; every stderr is ours to read
	 * (on_line), so that only the cause of a failure is shown */
	pfs_steps_chain(p->s, p->n, p->procs, p->perf, p->in_fd, out_fd,
	                &p->chain);
	if (pfs_chain_spawn(&p->chain, &e) < 0) {
		i = p->chain.started;
		pfs_error("cannot start stage %u (%s): %s", i + 1,
		          p->s[i].argv[0], e.msg);
		pfs_chain_terminate(&p->chain);
		failed = 1;
	}
	if (p->in_fd >= 0)
		(void)close(p->in_fd);
	exec_errors(p);
	pfs_chain_drain(&p->chain, on_line, p);
	pfs_chain_wait(&p->chain);
	pfs_feed_wait(&p->feed);
	end_progress(p);
	if (pfs_interrupted) {
		failed = 1;     /* we ended the stages: no report */
	} else if (!failed) {
		rc = report(p);
		failed = rc != 0;
		if (rc > 0)
			sigpipe_seen = 1;
	}
	if (p->stats)
		print_stats(p);
	if (have_of) {
		if (failed) {
			pfs_outfile_abort(&of);
		} else if (pfs_outfile_commit(&of, mode, -1, 0, &e) < 0) {
			pfs_error("%s", e.msg);
			failed = 1;
		}
	}
	if (!failed && o->rm && strcmp(o->input, "-") != 0 &&
	    o->cmd->cmd != C_VERIFY && unlink(o->input) < 0) {
		pfs_error("%s: cannot remove: %s", o->input, strerror(errno));
		failed = 1;
	}
	rc = failed ? -1 : 0;
	goto done;
fail:
	pfs_error("%s", e.msg);
done:
	pfs_feed_free(&p->feed);
	return sigpipe_seen ? 1 : rc;
}

/* -r: pfs_walk()'s callbacks; process takes every regular file (and
 * skips those with .pfs), restore and verify only NAME.pfs */
static int
walk_file(void *arg, const char *path)
{
	struct walk_arg *w = arg;

	if (w->o->cmd->cmd != C_PROCESS && !pfs_has_pfs_suffix(path))
		return 0;
	w->o->input = path;
	if (w->o->cmd->cmd == C_PROCESS && pfs_has_pfs_suffix(path)) {
		pfs_warn("%s: already has the .pfs suffix -- skipped", path);
		return 0;
	}
	return run_one(w->o, w->p) < 0;
}

static void
walk_error(void *arg, const char *name, int errnum)
{
	(void)arg;
	if (name)
		pfs_error("%s: %s", name, strerror(errnum));
	else
		pfs_error("out of memory");
}

static int
walk_stop(void *arg)
{
	(void)arg;
	return sigpipe_seen || pfs_interrupted;
}

/* one operand: a file, '-', or (with -r) a directory */
static int
operand(struct opts *o, struct pipeline *p, const char *f)
{
	struct stat st;

	o->input = f;
	if (strcmp(f, "-") != 0 && stat(f, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (o->recursive) {
			struct walk_arg wa = { o, p };
			const struct pfs_walker w = {
				walk_file, walk_error, walk_stop, &wa
			};

			return pfs_walk(f, &w);
		}
		pfs_error("%s: is a directory (use -r)", f);
		return 1;
	}
	if (o->cmd->cmd == C_PROCESS && pfs_has_pfs_suffix(f)) {
		pfs_warn("%s: already has the .pfs suffix -- skipped", f);
		return 0;
	}
	return run_one(o, p) < 0;
}

int
main(int argc, char **argv)
{
	static char dash[] = "-";
	static char *stdin_only[] = { dash, NULL };
	struct opts o;
	struct pipeline *p;
	int i, bad = 0;

	pfs_setprog(argv[0]);
	pfs_proc_std_fds();
	parse(argc, argv, &o);
	if (o.nfiles == 0) {
		o.files = stdin_only;
		o.nfiles = 1;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		pfs_die(PFS_EXIT_ERR, "out of memory");
	if (!o.dry_run) {
		if (setenv("PFS_PROGRESS", isatty(2) ? "tty" : "", 1) < 0 ||
		    (o.c.stats && setenv("PFS_STATS", "json", 1) < 0))
			pfs_die(PFS_EXIT_ERR, "setenv: %s", strerror(errno));
		pfs_catch_signals();
	}
	for (i = 0; i < o.nfiles && !sigpipe_seen && !pfs_interrupted; i++)
		bad += operand(&o, p, o.files[i]);
	free(p);
	if (pfs_interrupted)
		pfs_reraise();
	if (sigpipe_seen) {
		/* as zstd -dc | head: die of SIGPIPE too */
		(void)signal(SIGPIPE, SIG_DFL);
		(void)raise(SIGPIPE);
		return PFS_EXIT_ERR;
	}
	return bad ? PFS_EXIT_ERR : PFS_EXIT_OK;
}
