/*
 * opts.c - pipeline's command line into struct opts (pipeline.h): options
 * before or after the subcommand, zstd's -# levels (levels.c), every
 * combination checked after the getopt loop.  A bad one is a usage error
 * (exit 2).
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "codec.h"
#include "err.h"
#include "kdf.h"
#include "pipeline.h"
#include "secret.h"
#include "stages.h"
#include "util.h"

/* NULL: the codec flags, "--zstd/--lz4/--brotli" */
static const char *const used_names[] = {
	NULL, "-l", "--encrypt", "--cipher", "--hash",
	"--key-file/--raw-key-file/--password-file/--password-fd", "-o", "-f",
	"-T", "--progress", "-p", "-N", "--no-compress", "--no-hash",
	"--kdf-time/--kdf-memory", "--hide-name", "--rm", "-c",
	"--output-dir-flat/--output-dir-mirror", "-k", "--range", "--resume",
	"--recipient/--recipients-file", "--identity"
};

static const struct command commands[] = {
	{ "process", C_PROCESS, ~(unsigned)(U_KEEPMODE | U_NAME | U_ID) },
	{ "restore", C_RESTORE, U_KEY | U_ID | U_FILES | U_THREADS |
	  U_PROGRESS | U_KEEPMODE | U_NAME | U_RANGE | U_RESUME },
	{ "verify", C_VERIFY, U_KEY | U_ID | U_THREADS | U_PROGRESS },
	{ "info", C_INFO, 0 },
	{ NULL, C_INFO, 0 }
};

static int
is_password(const struct opts *o)
{
	return o->key_opt ? strstr(o->key_opt, "password") != NULL : !o->nrcp;
}

/* pencrypt's --kdf-time and --kdf-memory, checked here as the levels are
 * (check_level), so that a bad value is a usage error of pipeline, not a
 * failed stage; in pencrypt's words */
static void
check_kdf(const struct opts *o)
{
	struct pfs_err e;
	uint64_t m = 0;
	uint32_t tp, mp;
	long t = 0;

	if (o->kdf_time && pfs_kdf_parse_time(o->kdf_time, &t, &e) < 0)
		pfs_usage_error("--kdf-time: %s", e.msg);
	if (o->kdf_memory && pfs_kdf_parse_memory(o->kdf_memory, &m, &e) < 0)
		pfs_usage_error("--kdf-memory: %s", e.msg);
	if (pfs_kdf_params(t, m, &tp, &mp, &e) < 0)
		pfs_usage_error("%s", e.msg);
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
	if (o->codec)
		check_level(o);
	if (o->no_hash && o->hash)
		pfs_usage_error("--hash and --no-hash exclude each other");
	if (!o->no_hash && !o->hash)
		o->hash = "xxh3";
	if (!o->encrypt) {
		if (o->used & (U_CIPHER | U_KEY | U_KDF | U_HIDE | U_RCP))
			pfs_usage_error("%s needs --encrypt",
			                o->cipher ? "--cipher" : o->key_opt ?
			                o->key_opt : o->hide_name ? "--hide-name" :
			                o->nrcp ? "--recipient/--recipients-file" :
			                "--kdf-time/--kdf-memory");
		return;
	}
	if ((o->used & U_KDF) && !is_password(o))
		pfs_usage_error("--kdf-time/--kdf-memory need a password, not %s",
		                o->key_opt ? o->key_opt : "recipients");
	if (o->used & U_KDF)
		check_kdf(o);
	if (!o->key_opt && !o->nrcp && !o->dry_run) {
		tty = pfs_tty_open();
		if (tty < 0)
			pfs_usage_error("--encrypt: no key given and no terminal to "
			                "ask for a password: use --recipient R, "
			                "--key-file F, --password-file F or "
			                "--password-fd N");
		(void)close(tty);
	}
}

/* level_typed - the level option as the user typed it: -l, --fast,
 * --ultra or -# (-19) */
static const char *
level_typed(struct opts *o)
{
	if (o->level && !o->level_opt) {
		snprintf(o->typedbuf, sizeof(o->typedbuf), "-%s", o->level);
		return o->typedbuf;
	}
	return o->level_opt ? o->level_opt : "--ultra";
}

static void
check_opts(struct opts *o)
{
	unsigned bad = o->used & ~o->cmd->allowed, i, dashes;
	char flags[64];
	int many = o->nfiles > 1 || o->recursive;

	pfs_codec_join(0, "/", "/", flags, sizeof(flags));
	for (i = 0; bad; i++)
		if (bad & (1u << i))
			pfs_usage_error("%s%s does not apply to '%s'",
			                (1u << i) != U_LEVEL ? "" :
			                level_typed(o), (1u << i) == U_LEVEL ?
			                "" : used_names[i] ? used_names[i] :
			                flags, o->cmd->name);
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
		pfs_usage_error("--rm and %s exclude each other (the source is "
		                "kept when the output is standard output)",
		                (o->used & U_STDOUT) ? "-c" : "-o -");
	if ((o->used & U_KEEP) && o->rm)
		pfs_usage_error("-k and --rm exclude each other");
	if (o->range && o->resume)
		pfs_usage_error("--range and --resume exclude each other");
	if (o->resume && o->nrcp && !o->key_opt)
		pfs_usage_error("--resume needs a key or password that opens the "
		                "partial output: a stream for recipients alone "
		                "cannot be continued here (run again without "
		                "--resume)");
	if (o->resume && o->output && strcmp(o->output, "-") == 0)
		pfs_usage_error("--resume continues an output file: not with -c");
	if (o->cmd->cmd == C_PROCESS && many && o->output &&
	    strcmp(o->output, "-") == 0)
		pfs_usage_error("-c with several FILEs: the streams would be "
		                "concatenated, which no stage reads back");
	if (o->c.trace && o->dry_run)
		pfs_usage_error("--trace and --dry-run exclude each other "
		                "(nothing runs, nothing is traced)");
	for (i = 0, dashes = o->nfiles == 0; (int)i < o->nfiles; i++)
		dashes += strcmp(o->files[i], "-") == 0;
	if (dashes > 1)
		pfs_usage_error("'-' (standard input) is given twice: it can "
		                "be read once");
	if (dashes && o->key_opt && strcmp(o->key_opt, "--password-fd") == 0 &&
	    atoi(o->key_file) == 0)
		pfs_usage_error("--password-fd 0 is standard input, which is "
		                "read as FILE '-': use another descriptor");
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

void
parse(int argc, char **argv, struct opts *o)
{
	enum { OPT_ENCRYPT = PFS_OPT_TOOL_BASE, OPT_KEY, OPT_RAWKEY,
	       OPT_PASSWORD, OPT_PWFD, OPT_CIPHER, OPT_HASH, OPT_DRY, OPT_PERF,
	       OPT_PROGRESS, OPT_NOPROGRESS, OPT_NOCOMP, OPT_NOHASH, OPT_FAST,
	       OPT_ULTRA, OPT_HIDE, OPT_KDFT, OPT_KDFM, OPT_RM, OPT_FLAT,
	       OPT_MIRROR, OPT_RANGE, OPT_RESUME, OPT_RCP, OPT_RCPFILE,
	       OPT_CODEC /* + codec index */ };
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
		{ "recipient", required_argument, NULL, OPT_RCP },
		{ "recipients-file", required_argument, NULL, OPT_RCPFILE },
		{ "identity", required_argument, NULL, 'i' },
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
		{ "range", required_argument, NULL, OPT_RANGE },
		{ "resume", no_argument, NULL, OPT_RESUME },
		PFS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct option longopts[PFS_NCODECS + sizeof(fixed) / sizeof(fixed[0])];
	struct pfs_err e;
	char flags[64];
	uint64_t roff, rlen;
	long v;
	int c;

	pfs_codec_longopts(longopts, OPT_CODEC);
	memcpy(longopts + PFS_NCODECS, fixed, sizeof(fixed));
	memset(o, 0, sizeof(*o));
	o->progress = -1;
	pfs_common_init(&o->c, PFS_SECRET_THREADS_MAX);
	take_levels(&argc, argv, longopts, o);
	while ((c = getopt_long(argc, argv, "l:T:o:i:cfkrpNqhV", longopts,
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
			o->level_opt = "-l";
			o->used |= U_LEVEL;
			break;
		case OPT_FAST:
			v = 1;
			/* zstd's fast levels, in pcompress's words */
			if (optarg && pfs_parse_int(optarg, 1,
			                            -pfs_codecs[0].lmin, &v,
			                            &e) < 0)
				pfs_usage_error("--fast: %s", e.msg);
			snprintf(o->levelbuf, sizeof(o->levelbuf), "-%ld", v);
			o->level = o->levelbuf;
			o->level_opt = "--fast";
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
		case OPT_RCP:
		case OPT_RCPFILE:
		case 'i':
			if (o->nrcp + o->nids == PFS_PIPE_RCP_MAX)
				pfs_usage_error("at most %u --recipient, "
				                "--recipients-file and --identity "
				                "options", PFS_PIPE_RCP_MAX);
			if (c == 'i') {
				o->id_arg[o->nids++] = optarg;
				o->used |= U_ID;
				break;
			}
			o->rcp_opt[o->nrcp] = c == OPT_RCP ? "-r" : "-R";
			o->rcp_arg[o->nrcp++] = optarg;
			o->used |= U_RCP;
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
			pfs_opt_output(&o->output, optarg);
			o->used |= U_OUTPUT;
			break;
		case 'c':                  /* output "-" once parsed */
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
		case OPT_RANGE:
			if (pfs_parse_range(optarg, &roff, &rlen, &e) < 0)
				pfs_usage_error("--range: %s", e.msg);
			o->range = optarg;
			o->used |= U_RANGE;
			break;
		case OPT_RESUME:
			o->resume = 1;
			o->used |= U_RESUME;
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
	if ((o->used & U_STDOUT) && !o->output)
		o->output = "-";
	check_opts(o);
}
