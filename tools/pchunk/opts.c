/*
 * opts.c - pchunk's command line (pchunk.h): --help, the options into
 * struct opts, and the checks of their combinations (a bad one is a usage
 * error, exit 2).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "frame.h"
#include "parts.h"
#include "pchunk.h"
#include "util.h"

static _Noreturn void
usage(void)
{
	printf("Usage: %s [OPTION]... [FILE|-]\n"
	       "Cut FILE (or standard input) into chunks and write a frame stream.\n"
	       "\n"
	       "  -s, --size SIZE   chunk size, 1K..256M (K, M, G suffixes); default 8M,\n"
	       "                    or the size of a smaller file (at least 1K): one chunk\n"
	       "  -f, --force       write the stream even to a terminal\n"
	       "      --range OFF:LEN  only LEN bytes of FILE from byte OFF (OFF: for the\n"
	       "                    rest), as a range stream: the chunks are those of the\n"
	       "                    whole file, and only those bytes are read\n"
	       "      --part I/N    part I (1..N) of N of FILE, as a range stream:\n"
	       "                    N parts of whole chunks that differ by one at most\n"
	       "      --block SIZE  with --part I and --source: standard input holds\n"
	       "                    part I as 'parallel --pipepart --block SIZE' cuts\n"
	       "                    it, SIZE bytes from byte (I-1)*SIZE; SIZE must be a\n"
	       "                    multiple of the chunk size\n"
	       "      --source SIZE:MTIME:MODE:NAME  the file standard input is a part\n"
	       "                    of, as 'stat -c %%s:%%.9Y:%%a:%%n FILE' prints it\n"
	       "      --progress    show progress on stderr (also when not a terminal)\n",
	       pfs_prog);
	/* pchunk's --stats and --trace start their text a column later */
	pfs_help_common(20, PFS_HELP_QUIET);
	pfs_help_common(21, PFS_HELP_STATS | PFS_HELP_TRACE);
	pfs_help_common(20, PFS_HELP_HELP | PFS_HELP_VERSION);
	printf("\n"
	       "Exit status: 0 success, 1 error, 2 bad usage.\n"
	       "Example: pchunk big.bin | pcompress --zstd | pjoin --payload > big.zst\n");
	pfs_stdout_done();
}

/* check - the combinations of --part, --block, --source and --range */
static void
check(const struct opts *o)
{
	int in = o->input && strcmp(o->input, "-") != 0;

	if (o->part && o->c.range)
		pfs_usage_error("--part and --range exclude each other: a part "
		                "is a range");
	if ((o->block || o->source) && !o->part)
		pfs_usage_error("%s goes with --part (a part on standard input)",
		                o->block ? "--block" : "--source");
	if (o->part && in && (o->block || o->source))
		pfs_usage_error("--block and --source are for a part on "
		                "standard input: --part I/N FILE cuts FILE itself");
	if (o->part && !in && (!o->block || !o->source))
		pfs_usage_error("--part on standard input needs --block SIZE and "
		                "--source SIZE:MTIME:MODE:NAME (or name the FILE)");
	if (o->part && in && !o->nparts)
		pfs_usage_error("--part: a part of FILE is I/N: which part of how "
		                "many");
}

void
parse(int argc, char **argv, struct opts *o)
{
	enum { OPT_PROGRESS = PFS_OPT_TOOL_BASE, OPT_PART, OPT_BLOCK,
	       OPT_SOURCE };
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "force", no_argument, NULL, 'f' },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "part", required_argument, NULL, OPT_PART },
		{ "block", required_argument, NULL, OPT_BLOCK },
		{ "source", required_argument, NULL, OPT_SOURCE },
		PFS_RANGE_LONGOPT,
		PFS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct pfs_err e;
	int c;

	memset(o, 0, sizeof(*o));
	pfs_common_init(&o->c, 0);
	while ((c = getopt_long(argc, argv, "s:fqhV", longopts, NULL)) != -1) {
		if (pfs_common_opt(&o->c, c, optarg))
			continue;
		switch (c) {
		case 's':
			if (pfs_parse_size(optarg, PFS_CHUNK_MIN, PFS_CHUNK_MAX,
			                   &o->chunk, &e) < 0)
				pfs_usage_error("-s: %s", e.msg);
			break;
		case 'f':
			o->force = 1;
			break;
		case OPT_PROGRESS:
			o->progress = 1;
			break;
		case OPT_PART:
			if (pfs_parse_part(optarg, 1, &o->part, &o->nparts,
			                   &e) < 0)
				pfs_usage_error("--part: %s", e.msg);
			break;
		case OPT_BLOCK:
			if (pfs_parse_size(optarg, PFS_CHUNK_MIN, UINT64_MAX,
			                   &o->block, &e) < 0)
				pfs_usage_error("--block: %s", e.msg);
			break;
		case OPT_SOURCE:
			o->source = optarg;
			break;
		case 'h':
			usage();
		default:
			pfs_usage_try();
		}
	}
	o->input = pfs_one_input(argc, argv, optind);
	check(o);
}

