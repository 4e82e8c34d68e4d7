/*
 * pipeline - run the pfs programs as one pipeline: fork the real filters
 * joined by pipes, wait for all of them and report every stage that failed;
 * with --stats, a per-stage table with the bottleneck marked.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "codec.h"
#include "err.h"
#include "frame.h"
#include "head.h"
#include "io.h"
#include "proc.h"
#include "secret.h"
#include "stages.h"
#include "stats.h"
#include "util.h"

#define MAXSTAGES  (PFS_STAGES_MAX + 2)
#define MAXARGS    20
#define PERFARGS   6             /* perf record -g -o FILE -- */

/* options that only some subcommands take */
enum {
	U_ALGO = 1 << 0, U_LEVEL = 1 << 1, U_ENCRYPT = 1 << 2,
	U_CIPHER = 1 << 3, U_HASH = 1 << 4, U_KEY = 1 << 5, U_OUTPUT = 1 << 6,
	U_FORCE = 1 << 7, U_THREADS = 1 << 8, U_PROGRESS = 1 << 9,
	U_KEEPMODE = 1 << 10, U_NAME = 1 << 11
};

/* NULL: the codec flags, "--zstd/--lz4/--brotli" */
static const char *const used_names[] = {
	NULL, "-l", "--encrypt", "--cipher", "--hash",
	"--key-file/--password-file", "-o", "-f", "-T", "--progress", "-p",
	"-N"
};

enum cmd { C_PROCESS, C_RESTORE, C_VERIFY, C_INFO };

static const struct command {
	const char *name;
	enum cmd cmd;
	unsigned allowed;
} commands[] = {
	{ "process", C_PROCESS, ~(unsigned)(U_KEEPMODE | U_NAME) },
	{ "restore", C_RESTORE, U_KEY | U_OUTPUT | U_FORCE | U_THREADS |
	  U_PROGRESS | U_KEEPMODE | U_NAME },
	{ "verify", C_VERIFY, U_KEY | U_THREADS | U_PROGRESS },
	{ "info", C_INFO, 0 },
	{ NULL, C_INFO, 0 }
};

struct opts {
	const struct command *cmd;
	const char *input, *output;
	const struct pfs_codec *codec;   /* --zstd etc., or NULL */
	const char *level, *cipher, *hash, *threads, *perf_dir;
	const char *key_opt;         /* "--key-file" or "--password-file" */
	const char *key_file;
	int encrypt, force, dry_run, progress;
	int keep_mode;               /* -p: pjoin -p */
	int use_name;                /* -N: output named after the HEAD */
	unsigned used;               /* U_* given */
	struct pfs_common c;
};

struct stage {
	const char *argv[MAXARGS + 1];
	int argc;
	int nlabel;                  /* argv[0..nlabel) names it in messages */
	char path[PATH_MAX];         /* the program found for argv[0] */
	char perf_out[PATH_MAX];     /* --perf: its data file */
	const char *av[MAXARGS + PERFARGS + 1];   /* what runs (full_argv) */
	char json[1024];             /* stats: its JSON stats line, or "" */
};

struct pipeline {
	struct stage s[MAXSTAGES];
	struct pfs_proc procs[MAXSTAGES];   /* s[i] runs as procs[i] */
	struct pfs_chain chain;
	unsigned n;
	int stats;                   /* enum pfs_stats_mode */
	char perf[PATH_MAX];
};

static _Noreturn void
usage(void)
{
	char flags[64];

	pfs_codec_join(0, ", ", ", ", flags, sizeof(flags));
	printf("Usage: %s [OPTION]... process|restore|verify|info FILE\n"
	       "Run the pfs programs (found next to pipeline, else in PATH) as one\n"
	       "pipeline joined by pipes, wait for all of them and report every stage\n"
	       "that failed.  Options may come before or after the subcommand.\n"
	       "\n"
	       "  process FILE    pchunk FILE | pcompress | pencrypt | phash > FILE.pfs\n"
	       "                  with only the stages asked for; the output is written\n"
	       "                  to a temporary file renamed when every stage succeeded\n"
	       "  restore FILE    the inverse pipeline, built from the stage stack in\n"
	       "                  FILE's HEAD: phash --check, pencrypt -d, pcompress -d,\n"
	       "                  then pjoin; the output defaults to FILE without .pfs\n"
	       "                  (next to FILE); another FILE needs -o or -N\n"
	       "  verify FILE     the restore pipeline ending in 'pjoin -o /dev/null'\n"
	       "  info FILE       pinfo FILE\n"
	       "\n"
	       "process:\n", pfs_prog);
	printf("      %-26scompress (pcompress)\n", flags);
	printf("  -l, --level N                 compression level\n"
	       "      --encrypt                 encrypt (pencrypt); needs a key option\n"
	       "      --cipher C                aes-256-gcm or chacha20-poly1305\n"
	       "      --hash ALGO               add digests (phash -a ALGO)\n"
	       "process, restore and verify:\n"
	       "      --key-file F              key file (pencrypt --keygen makes one)\n"
	       "      --password-file F         password file\n"
	       "  -T, --threads N               worker threads of each stage (0..16,\n"
	       "                                0: the number of CPUs, at most 16)\n"
	       "      --progress                progress of pchunk (process) or pjoin\n"
	       "process and restore:\n"
	       "  -o, --output FILE             output file ('-': standard output)\n"
	       "  -f, --force                   overwrite an existing output file\n"
	       "restore:\n"
	       "  -N, --name                    name the output after the source name\n"
	       "                                stored in the stream (if any), next to\n"
	       "                                FILE; a name starting with '.' or\n"
	       "                                holding control characters is refused\n"
	       "  -p, --keep-mode               restore the recorded permission bits\n"
	       "                                exactly, setuid/setgid/sticky included\n"
	       "                                (pjoin -p); without it they are masked\n"
	       "                                with 0777 and the umask\n"
	       "all:\n"
	       "      --dry-run                 print the equivalent shell pipeline and\n"
	       "                                exit without running anything\n"
	       "      --perf DIR                run every stage under 'perf record -g -o\n"
	       "                                DIR/NN-TOOL.data --' (NN: stage number)\n"
	       "      --stats[=json]            per-stage table on stderr: bytes in/out,\n"
	       "                                CPU, blocked-in/-out, MB/s, peak RSS;\n"
	       "                                json: each stage's stats object with\n"
	       "                                \"stage\" and \"bottleneck\" added\n"
	       "  -q, --quiet                   no warnings (passed to every stage)\n"
	       "  -h, --help                    show this help\n"
	       "  -V, --version                 show the version\n"
	       "\n"
	       "The bottleneck marked by --stats is the stage that spent the smallest\n"
	       "share of its wall time blocked, taking the larger of its blocked-in and\n"
	       "blocked-out times: stages after the bottleneck wait for input, stages\n"
	       "before it wait for their output to drain, it waits for neither.  With\n"
	       "--stats the stages' stderr is a pipe, so --progress shows nothing.\n"
	       "\n"
	       "A stage that fails usually makes the stages after it fail too (their\n"
	       "input ends early) and those before it die of SIGPIPE.  pipeline names\n"
	       "the earliest failed stage not killed by SIGPIPE first, as the likely\n"
	       "cause, then the others.\n"
	       "\n"
	       "Exit status: 0 success, 1 a stage failed or another error, 2 bad usage.\n"
	       "Examples: pipeline process --zstd --hash xxh3 big.bin\n"
	       "          pipeline --stats restore --key-file k -o copy.bin big.bin.pfs\n");
	exit(fflush(stdout) == 0 ? 0 : 1);
}

/* pcompress's levels (without --ultra, codec.h), checked here so that a
 * bad level is a usage error of pipeline, not a failed stage */
static void
check_level(const struct opts *o)
{
	const struct pfs_codec *c = o->codec;
	struct pfs_err e;
	long v;

	if (pfs_parse_int(o->level, -1000000, 1000000, &v, &e) < 0 ||
	    !pfs_codec_level_ok(c, v, 0))
		pfs_usage_error("-l: level %s is out of range for %s "
		                "(%d to %d%s)", o->level, c->name, c->lmin,
		                c->lmax, c->lmin < 0 ? ", not 0" : "");
}

static void
check_opts(struct opts *o)
{
	unsigned bad = o->used & ~o->cmd->allowed, i;
	char flags[64];

	pfs_codec_join(0, "/", "/", flags, sizeof(flags));
	for (i = 0; bad; i++)
		if (bad & (1u << i))
			pfs_usage_error("%s does not apply to '%s'",
			                used_names[i] ? used_names[i] : flags,
			                o->cmd->name);
	if (o->cmd->cmd == C_PROCESS) {
		pfs_codec_join(0, ", ", " or ", flags, sizeof(flags));
		if (o->level && !o->codec)
			pfs_usage_error("-l needs %s", flags);
		if (o->level)
			check_level(o);
		if (o->cipher && !o->encrypt)
			pfs_usage_error("--cipher needs --encrypt");
		if (o->encrypt && !o->key_opt)
			pfs_usage_error("--encrypt needs --key-file F or "
			                "--password-file F");
		if (o->key_opt && !o->encrypt)
			pfs_usage_error("%s needs --encrypt", o->key_opt);
		if (strcmp(o->input, "-") == 0 && !o->output)
			pfs_usage_error("reading standard input needs -o");
	} else if (o->cmd->cmd != C_INFO && strcmp(o->input, "-") == 0) {
		pfs_usage_error("%s needs a file: its HEAD is read first",
		                o->cmd->name);
	}
}

static void
parse(int argc, char **argv, struct opts *o)
{
	enum { OPT_ENCRYPT = PFS_OPT_TOOL_BASE, OPT_KEY, OPT_PASSWORD,
	       OPT_CIPHER, OPT_HASH, OPT_DRY, OPT_PERF, OPT_PROGRESS,
	       OPT_CODEC /* + codec index */ };
	static const struct option fixed[] = {
		{ "level", required_argument, NULL, 'l' },
		{ "encrypt", no_argument, NULL, OPT_ENCRYPT },
		{ "key-file", required_argument, NULL, OPT_KEY },
		{ "password-file", required_argument, NULL, OPT_PASSWORD },
		{ "cipher", required_argument, NULL, OPT_CIPHER },
		{ "hash", required_argument, NULL, OPT_HASH },
		{ "threads", required_argument, NULL, 'T' },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ "perf", required_argument, NULL, OPT_PERF },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "keep-mode", no_argument, NULL, 'p' },
		{ "name", no_argument, NULL, 'N' },
		PFS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct option longopts[PFS_NCODECS + sizeof(fixed) / sizeof(fixed[0])];
	struct pfs_err e;
	char flags[64];
	unsigned i;
	long v;
	int c;

	for (i = 0; i < PFS_NCODECS; i++) {
		longopts[i].name = pfs_codecs[i].flag + 2;
		longopts[i].has_arg = no_argument;
		longopts[i].flag = NULL;
		longopts[i].val = OPT_CODEC + (int)i;
	}
	memcpy(longopts + PFS_NCODECS, fixed, sizeof(fixed));
	memset(o, 0, sizeof(*o));
	pfs_common_init(&o->c, PFS_SECRET_THREADS_MAX);
	while ((c = getopt_long(argc, argv, "l:T:o:fpNqhV", longopts, NULL)) != -1) {
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
		case OPT_ENCRYPT:
			o->encrypt = 1;
			o->used |= U_ENCRYPT;
			break;
		case OPT_KEY:
		case OPT_PASSWORD:
			if (o->key_opt)
				pfs_usage_error("give one --key-file or "
				                "--password-file");
			o->key_opt = c == OPT_KEY ? "--key-file" :
			             "--password-file";
			o->key_file = optarg;
			o->used |= U_KEY;
			break;
		case OPT_CIPHER:
			if (!pfs_cipher_id(optarg))
				pfs_usage_error("unknown cipher '%s' (aes-256-gcm "
				                "or chacha20-poly1305)", optarg);
			o->cipher = optarg;
			o->used |= U_CIPHER;
			break;
		case OPT_HASH:
			if (!pfs_hash_id(optarg))
				pfs_usage_error("unknown hash algorithm '%s' (see "
				                "'phash -a list')", optarg);
			o->hash = optarg;
			o->used |= U_HASH;
			break;
		case 'o':
			o->output = optarg;
			o->used |= U_OUTPUT;
			break;
		case 'f':
			o->force = 1;
			o->used |= U_FORCE;
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
			o->progress = 1;
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
	if (argc - optind < 2)
		pfs_usage_error("%s: missing FILE", o->cmd->name);
	if (argc - optind > 2)
		pfs_usage_error("too many arguments (one FILE)");
	o->input = argv[optind + 1];
	check_opts(o);
}

/* stage_new - append a stage running NAME [MODE]; both name it in messages */
static struct stage *
stage_new(struct pipeline *p, const char *name, const char *mode)
{
	struct stage *s = &p->s[p->n++];

	s->argv[s->argc++] = name;
	if (mode)
		s->argv[s->argc++] = mode;
	s->nlabel = s->argc;
	return s;
}

static void
add(struct stage *s, const char *a1, const char *a2)
{
	if (s->argc + 2 > MAXARGS)
		pfs_die(PFS_EXIT_ERR, "%s: too many arguments", s->argv[0]);
	s->argv[s->argc++] = a1;
	if (a2)
		s->argv[s->argc++] = a2;
}

/* the options every stage of a kind takes: -T N, -q */
static void
add_common(const struct opts *o, struct stage *s, int threads)
{
	if (threads && o->threads)
		add(s, "-T", o->threads);
	if (pfs_quiet)
		add(s, "-q", NULL);
}

static void
add_file(struct stage *s, const char *file)
{
	if (file[0] == '-' && file[1])
		add(s, "--", NULL);
	add(s, file, NULL);
}

static void
build_process(const struct opts *o, struct pipeline *p)
{
	struct stage *s;

	s = stage_new(p, "pchunk", NULL);
	if (o->progress)
		add(s, "--progress", NULL);
	add_common(o, s, 0);
	add_file(s, o->input);
	if (o->codec) {
		s = stage_new(p, "pcompress", o->codec->flag);
		if (o->level)
			add(s, "-l", o->level);
		add_common(o, s, 1);
	}
	if (o->encrypt) {
		s = stage_new(p, "pencrypt", NULL);
		add(s, o->key_opt, o->key_file);
		if (o->cipher)
			add(s, "--cipher", o->cipher);
		add_common(o, s, 1);
	}
	if (o->hash) {
		s = stage_new(p, "phash", NULL);
		add(s, "-a", o->hash);
		add_common(o, s, 1);
	}
}

/* stored_name_ok - -N: a name stored in a stream anyone may have written
 * becomes a file name only if it is a plain, visible one.  HEAD decoding
 * already refused "", ".", ".." and names with '/'. */
static int
stored_name_ok(const struct opts *o, const char *name, struct pfs_err *e)
{
	const unsigned char *c;

	for (c = (const unsigned char *)name; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return pfs_seterr(e, "%s: the stored name holds control "
			                  "characters: use -o OUT", o->input);
	if (name[0] == '.')
		return pfs_seterr(e, "%s: the stored name '%s' starts with '.' "
		                  "(-N makes no hidden files): use -o OUT",
		                  o->input, name);
	return 0;
}

/* restore_name - the output when -o is not given: as gzip -d, FILE without
 * .pfs; with -N (gzip -N) the source name stored in HEAD, if there is one,
 * in FILE's directory.  Never a name in the current directory that FILE did
 * not ask for, and never one a stream chose on its own.  A name starting
 * with '-' gets "./" so that pjoin (and a shell, for --dry-run) takes it for
 * a file, not an option or stdout.  n must exceed strlen(FILE) +
 * PFS_NAME_MAX + 2: FILE was opened, so it is shorter than PATH_MAX. */
static int
restore_name(const struct opts *o, const struct pfs_head *h, char *out,
             size_t n, struct pfs_err *e)
{
	const char *slash = strrchr(o->input, '/');
	const char *base = slash ? slash + 1 : o->input;
	size_t dlen = (size_t)(base - o->input), blen = strlen(base);
	const char *dot = dlen ? "" : "./";

	if (o->use_name && h->namelen) {
		if (stored_name_ok(o, h->name, e) < 0)
			return -1;
		snprintf(out, n, "%s%.*s%s", h->name[0] == '-' ? dot : "",
		         (int)dlen, o->input, h->name);
		return 0;
	}
	if (blen > 4 && strcmp(base + blen - 4, ".pfs") == 0) {
		snprintf(out, n, "%s%.*s", base[0] == '-' ? dot : "",
		         (int)(dlen + blen - 4), o->input);
		return 0;
	}
	if (o->use_name)
		return pfs_seterr(e, "%s: unknown suffix (expected NAME.pfs) "
		                  "and the stream stores no name: use -o OUT",
		                  o->input);
	return pfs_seterr(e, "%s: unknown suffix (expected NAME.pfs): use -o "
	                  "OUT, or -N for the name stored in the stream",
	                  o->input);
}

/* build the inverse pipeline from the stage stack in the input's HEAD;
 * -1 on an error, -2 on a usage error (a key option is missing) */
static int
build_restore(const struct opts *o, struct pipeline *p, char *outbuf,
              size_t outlen, struct pfs_err *e)
{
	struct pfs_reader r;
	struct pfs_head h;
	struct stat ost, ist;
	const struct pfs_stage *rec;
	const char *name, *out = o->output;
	struct stage *s;
	char desc[128];
	unsigned i;
	int fd, enc = 0, rc = -1;

	fd = pfs_open_input(o->input, &name, e);
	if (fd < 0)
		return -1;
	pfs_reader_init(&r, fd, name);
	if (pfs_reader_start(&r, &h, e) < 0)
		goto out;
	if (o->cmd->cmd == C_RESTORE && !out) {
		if (restore_name(o, &h, outbuf, outlen, e) < 0)
			goto out;
		out = outbuf;
	}
	if (out && strcmp(out, "-") != 0 && stat(out, &ost) == 0 &&
	    fstat(fd, &ist) == 0 && ost.st_dev == ist.st_dev &&
	    ost.st_ino == ist.st_ino) {
		pfs_seterr(e, "%s: refusing to overwrite the input file", out);
		goto out;
	}
	for (i = h.nstages; i-- > 0;) {
		rec = &h.stages[i];
		switch (rec->kind) {
		case PFS_STAGE_HASH:
			s = stage_new(p, "phash", "--check");
			break;
		case PFS_STAGE_ENCRYPT:
			if (!o->key_opt) {
				pfs_stage_describe(rec, desc, sizeof(desc));
				pfs_seterr(e, "%s: the stream is encrypted (%s): "
				           "give --key-file F or --password-file F",
				           o->input, desc);
				rc = -2;
				goto out;
			}
			s = stage_new(p, "pencrypt", "-d");
			add(s, o->key_opt, o->key_file);
			enc = 1;
			break;
		case PFS_STAGE_COMPRESS:
			s = stage_new(p, "pcompress", "-d");
			break;
		default:
			pfs_seterr(e, "%s: stage record %u has an unknown kind "
			           "(%u)", o->input, i, rec->kind);
			goto out;
		}
		add_common(o, s, 1);
		if (p->n == 1)
			add_file(s, o->input);
	}
	if (o->key_opt && !enc)
		pfs_warn("%s: the stream is not encrypted: %s ignored",
		         o->input, o->key_opt);
	s = stage_new(p, "pjoin", NULL);
	if (o->progress)
		add(s, "--progress", NULL);
	if (o->cmd->cmd == C_VERIFY)
		add(s, "-o", "/dev/null");
	else if (strcmp(out, "-") != 0)
		add(s, "-o", out);
	if (o->force)
		add(s, "-f", NULL);
	if (o->keep_mode && out && strcmp(out, "-") == 0) {
		rc = pfs_seterr(e, "-p sets the mode of the output file: "
		                "standard output has none");
		goto out;
	}
	if (o->keep_mode)
		add(s, "-p", NULL);
	add_common(o, s, 1);
	if (p->n == 1)
		add_file(s, o->input);
	rc = 0;
out:
	pfs_reader_free(&r);
	if (close(fd) < 0 && rc == 0)
		rc = pfs_seterr(e, "%s: %s", name, strerror(errno));
	return rc;
}

/* full_argv - the argv to run (or print): with --perf, perf comes first */
static void
full_argv(const struct stage *s, const char **av, int resolved)
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
	const char *av[MAXARGS + PERFARGS + 1];
	unsigned i;
	int k;

	for (i = 0; i < p->n; i++) {
		full_argv(&p->s[i], av, 0);
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
	putchar('\n');
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
}

static void
label(const struct stage *s, char *out, size_t n)
{
	snprintf(out, n, "%s%s%s", s->argv[0], s->nlabel > 1 ? " " : "",
	         s->nlabel > 1 ? s->argv[1] : "");
}

static int
resolve(const struct opts *o, struct pipeline *p, struct pfs_err *e)
{
	char self[PATH_MAX], lab[128];
	unsigned i;

	pfs_proc_self_dir(self, sizeof(self));
	for (i = 0; i < p->n; i++) {
		if (pfs_proc_find(self, p->s[i].argv[0], p->s[i].path,
		                  PATH_MAX) == 0)
			continue;
		label(&p->s[i], lab, sizeof(lab));
		return pfs_seterr(e, "stage %u (%s): %s: not found next to "
		                  "pipeline or in PATH", i + 1, lab,
		                  p->s[i].argv[0]);
	}
	if (o->perf_dir) {
		if (pfs_proc_find(NULL, "perf", p->perf, sizeof(p->perf)) < 0)
			return pfs_seterr(e, "--perf: perf: not found in PATH");
		if (mkdir(o->perf_dir, 0777) < 0 && errno != EEXIST)
			return pfs_seterr(e, "%s: %s", o->perf_dir,
			                  strerror(errno));
	}
	return 0;
}

/* prepare the chain: stage i runs as process i */
static void
setup_chain(struct pipeline *p, int out_fd)
{
	unsigned i;

	for (i = 0; i < p->n; i++) {
		full_argv(&p->s[i], p->s[i].av, 1);
		p->procs[i].path = p->perf[0] ? p->perf : p->s[i].path;
		p->procs[i].argv = p->s[i].av;
	}
	pfs_chain_init(&p->chain, p->procs, p->n);
	p->chain.out_fd = out_fd;
	p->chain.capture_stderr = p->stats != PFS_STATS_OFF;
}

/* on_line - a line a stage wrote to stderr (--stats): keep its stats line,
 * send anything else to our stderr unchanged */
static void
on_line(void *arg, unsigned i, const char *line, size_t len)
{
	static const char tag[] = "{\"tool\":\"";
	struct stage *s = &((struct pipeline *)arg)->s[i];

	if (len > sizeof(tag) && len < sizeof(s->json) &&
	    memcmp(line, tag, sizeof(tag) - 1) == 0) {
		memcpy(s->json, line, len);
		s->json[len - (line[len - 1] == '\n')] = '\0';
	} else {
		(void)fwrite(line, 1, len, stderr);
	}
}

/* exec_errors - the stages whose program could not be executed */
static void
exec_errors(const struct pipeline *p)
{
	unsigned i;

	for (i = 0; i < p->chain.started; i++)
		if (p->procs[i].exec_errno)
			pfs_error("%s: cannot run: %s", p->procs[i].path,
			          strerror(p->procs[i].exec_errno));
}

/* print_stats - the per-stage table, the bottleneck marked (stats.h) */
static void
print_stats(const struct pipeline *p)
{
	struct pfs_stats_rec f[MAXSTAGES];
	int ok[MAXSTAGES], w = 7, bott;
	char lab[128];
	unsigned i;

	for (i = 0; i < p->n; i++) {
		ok[i] = pfs_stats_from_json(p->s[i].json, &f[i]) == 0;
		label(&p->s[i], lab, sizeof(lab));
		if ((int)strlen(lab) > w)
			w = (int)strlen(lab);
	}
	bott = pfs_stats_bottleneck(f, ok, p->n);
	if (p->stats == PFS_STATS_JSON) {
		for (i = 0; i < p->n; i++)
			if (ok[i])
				fprintf(stderr, "{\"stage\":%u,\"bottleneck\":%s,%s\n",
				        i + 1, (int)i == bott ? "true" : "false",
				        p->s[i].json + 1);
		return;
	}
	fprintf(stderr, "stage  %-*s  %9s %9s %7s %9s %9s %8s %7s\n", w, "program",
	        "MB in", "MB out", "cpu s", "blk-in s", "blk-out s", "MB/s",
	        "rss MB");
	for (i = 0; i < p->n; i++) {
		label(&p->s[i], lab, sizeof(lab));
		if (!ok[i]) {
			fprintf(stderr, "%5u  %-*s  (no stats)\n", i + 1, w, lab);
			continue;
		}
		fprintf(stderr, "%5u  %-*s  %9.1f %9.1f %7.2f %9.2f %9.2f %8.1f "
		        "%7.1f%s\n", i + 1, w, lab, (double)f[i].bytes_in / 1e6,
		        (double)f[i].bytes_out / 1e6, f[i].user_s + f[i].sys_s,
		        f[i].blocked_in_s, f[i].blocked_out_s, f[i].mb_per_s,
		        (double)f[i].peak_rss_kb * 1024 / 1e6,
		        (int)i == bott ? "  <- bottleneck" : "");
	}
}

static void
describe(const struct pipeline *p, unsigned i, int root)
{
	char lab[128], why[128], after[64] = "";

	label(&p->s[i], lab, sizeof(lab));
	pfs_proc_why(p->procs[i].status, why, sizeof(why));
	if (root >= 0)
		snprintf(after, sizeof(after), " (probably because stage %d "
		         "failed)", root + 1);
	pfs_error("stage %u (%s) %s%s", i + 1, lab, why, after);
}

/* report - name every failed stage, first the one that most likely failed
 * on its own (pfs_chain_root).  0 if none failed. */
static int
report(const struct pipeline *p)
{
	int root = pfs_chain_root(&p->chain);
	unsigned i;

	if (root < 0)
		return 0;
	describe(p, (unsigned)root, -1);
	for (i = 0; i < p->n; i++)
		if (pfs_proc_failed(&p->procs[i]) && (int)i != root)
			describe(p, i, root);
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

int
main(int argc, char **argv)
{
	struct opts o;
	struct pipeline *p;
	struct pfs_outfile of;
	struct pfs_err e;
	struct stage *s;
	char outbuf[PATH_MAX + PFS_NAME_MAX + 4];
	const char *out;
	unsigned i;
	int rc = PFS_EXIT_ERR, have_of = 0, mode = -1, failed = 0, out_fd = -1;

	pfs_setprog(argv[0]);
	pfs_proc_std_fds();
	parse(argc, argv, &o);
	p = calloc(1, sizeof(*p));
	if (!p)
		pfs_die(PFS_EXIT_ERR, "out of memory");
	p->stats = o.c.stats;
	out = o.output;
	if (o.cmd->cmd == C_PROCESS) {
		if (!out) {
			snprintf(outbuf, sizeof(outbuf), "%s.pfs", o.input);
			out = outbuf;
		}
		build_process(&o, p);
	} else if (o.cmd->cmd == C_INFO) {
		s = stage_new(p, "pinfo", NULL);
		add_common(&o, s, 0);
		add_file(s, o.input);
	} else if ((failed = build_restore(&o, p, outbuf, sizeof(outbuf),
	                                   &e)) < 0) {
		if (failed == -2)
			pfs_usage_error("%s", e.msg);
		goto fail;
	}
	for (i = 0; o.perf_dir && i < p->n; i++)
		snprintf(p->s[i].perf_out, PATH_MAX, "%s/%02u-%s.data",
		         o.perf_dir, i + 1, p->s[i].argv[0]);
	if (o.dry_run) {
		rc = dry_run(&o, p, out) == 0 ? PFS_EXIT_OK : PFS_EXIT_ERR;
		goto done;
	}
	if (resolve(&o, p, &e) < 0)
		goto fail;
	if (p->stats && setenv("PFS_STATS", "json", 1) < 0) {
		pfs_seterr(&e, "setenv: %s", strerror(errno));
		goto fail;
	}
	/* the last step that can fail before the stages run */
	if (o.cmd->cmd == C_PROCESS) {
		have_of = open_output(&o, out, &of, &mode, &e);
		if (have_of < 0)
			goto fail;
		if (have_of)
			out_fd = of.fd;
	}
	pfs_catch_signals();
	setup_chain(p, out_fd);
	if (pfs_chain_spawn(&p->chain, &e) < 0) {
		i = p->chain.started;
		pfs_error("cannot start stage %u (%s): %s", i + 1,
		          p->s[i].argv[0], e.msg);
		pfs_chain_terminate(&p->chain);
		failed = 1;
	}
	exec_errors(p);
	pfs_chain_drain(&p->chain, on_line, p);
	pfs_chain_wait(&p->chain);
	if (p->stats)
		print_stats(p);
	if (pfs_interrupted)
		failed = 1;     /* we ended the stages: no report */
	else if (report(p) < 0)
		failed = 1;
	if (have_of) {
		if (failed) {
			pfs_outfile_abort(&of);
		} else if (pfs_outfile_commit(&of, mode, -1, 0, &e) < 0) {
			pfs_error("%s", e.msg);
			failed = 1;
		}
	}
	if (pfs_interrupted)
		pfs_reraise();
	rc = failed ? PFS_EXIT_ERR : PFS_EXIT_OK;
	goto done;
fail:
	pfs_error("%s", e.msg);
done:
	free(p);
	return rc;
}
