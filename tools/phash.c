/*
 * phash - add per-chunk and whole-stream digests to a frame stream, check
 * them (--check), or print a checksum line (--sum).
 */
#include <fcntl.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "digest.h"
#include "engine.h"
#include "err.h"
#include "hashcheck.h"
#include "io.h"
#include "stages.h"
#include "stats.h"
#include "util.h"

enum mode { M_ADD, M_CHECK, M_SUM };

struct opts {
	enum mode mode;
	const struct pfs_digest_algo *algo;   /* NULL: default / from stream */
	int tag;
	int force;
	const char *input;
	struct pfs_common c;
};

struct ctx {
	const struct opts *o;
	struct pfs_hashset hs;
	struct pfs_head head;            /* the input HEAD */
	int recorded;                    /* --sum: digest read from END */
	unsigned rec_depth;
	int checking;                    /* --sum: hs checks the stream's
	                                    digests as --check would */
	struct pfs_digest sumd;          /* --sum: computed, when the stream
	                                    records no digest of that algo */
	uint8_t sum[PFS_DIGEST_MAXLEN];
	int have_sum;
};

static _Noreturn void
usage(void)
{
	printf("Usage: %s [OPTION]... [FILE|-]\n"
	       "Pass a frame stream through, adding a digest of every chunk and of the\n"
	       "whole stream; or check those digests; or print a checksum line.\n"
	       "\n"
	       "  -a, --algorithm ALGO  sha256 (default), sha512, sha3-256, blake2b,\n"
	       "                        xxh64, xxh3, xxh128; 'list' prints them\n"
	       "  -c, --check           verify the digests of the top hash record, name the\n"
	       "                        first bad chunk, and remove them from the stream\n"
	       "      --sum             print a checksum line for the source instead of a\n"
	       "                        stream, in the format of sha256sum/b2sum/xxhsum\n"
	       "      --tag             with --sum: BSD-style line\n", pfs_prog);
	pfs_help_common(24, PFS_HELP_THREADS);
	printf("  -f, --force           write the stream even to a terminal\n");
	pfs_help_common(24, PFS_HELP_RANGE | PFS_HELP_COMMON);
	printf("\n"
	       "Exit status: 0 success, 1 error (a digest mismatch included), 2 bad usage.\n"
	       "Examples: pchunk f | phash -a xxh3 > f.pfs\n"
	       "          pchunk f | phash --sum > f.sha256 && sha256sum -c f.sha256\n");
	pfs_stdout_done();
}

static _Noreturn void
list_algos(void)
{
	const struct pfs_digest_algo *a;

	for (a = pfs_digest_algos; a->name; a++)
		printf("%-9s %3u bits  like %s\n", a->name, a->len * 8,
		       a->sum_tool);
	pfs_stdout_done();
}

static void
parse(int argc, char **argv, struct opts *o)
{
	enum { OPT_SUM = PFS_OPT_TOOL_BASE, OPT_TAG };
	static const struct option longopts[] = {
		{ "algorithm", required_argument, NULL, 'a' },
		{ "check", no_argument, NULL, 'c' },
		{ "sum", no_argument, NULL, OPT_SUM },
		{ "tag", no_argument, NULL, OPT_TAG },
		{ "threads", required_argument, NULL, 'T' },
		{ "force", no_argument, NULL, 'f' },
		PFS_RANGE_LONGOPT,
		PFS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int c, modes = 0;

	memset(o, 0, sizeof(*o));
	pfs_common_init(&o->c, PFS_THREADS_MAX);
	while ((c = getopt_long(argc, argv, "a:cT:fqhV", longopts, NULL)) != -1) {
		if (pfs_common_opt(&o->c, c, optarg))
			continue;
		switch (c) {
		case 'a':
			if (strcmp(optarg, "list") == 0)
				list_algos();
			o->algo = pfs_digest_by_name(optarg);
			if (!o->algo)
				pfs_usage_error("unknown algorithm '%s' (see "
				                "'phash -a list')", optarg);
			break;
		case 'c':
			o->mode = M_CHECK;
			modes++;
			break;
		case OPT_SUM:
			o->mode = M_SUM;
			modes++;
			break;
		case OPT_TAG:
			o->tag = 1;
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
	if (modes > 1)
		pfs_usage_error("--check and --sum exclude each other");
	if (o->tag && o->mode != M_SUM)
		pfs_usage_error("--tag only applies to --sum");
	if (o->force && o->mode == M_SUM)
		pfs_usage_error("-f applies to writing a stream, not to --sum");
	if (o->c.range && o->mode == M_SUM)
		pfs_usage_error("--sum is of a whole file: not with --range");
	if (o->mode == M_ADD && !o->algo)
		o->algo = pfs_digest_by_name("sha256");
	if (o->mode == M_SUM && !o->algo)
		o->algo = pfs_digest_by_name("sha256");
}

static int
head_add(struct ctx *x, struct pfs_head *h, struct pfs_err *e)
{
	uint8_t id = (uint8_t)x->o->algo->id;

	if (pfs_hashset_one(&x->hs, x->o->algo, h->nstages, e) < 0)
		return -1;
	return pfs_head_push(h, PFS_STAGE_HASH, &id, 1, pfs_head_cap(h), e);
}

static int
head_check(struct ctx *x, struct pfs_head *h, struct pfs_err *e)
{
	const struct pfs_stage *top = pfs_head_top(h);
	const struct pfs_digest_algo *a;
	char msg[256];
	unsigned d;

	for (d = 0; d < h->nstages; d++)
		if (h->stages[d].kind == PFS_STAGE_HASH)
			break;
	if (d == h->nstages)           /* none under the others either */
		return pfs_seterr(e, "stream has no digests (no hash record): "
		                  "nothing to check");
	if (top->kind != PFS_STAGE_HASH) {
		pfs_stage_still(top, msg, sizeof(msg));
		return pfs_seterr(e, "digests are not at this depth: %s", msg);
	}
	a = pfs_digest_by_id(top->params[0]);
	if (x->o->algo && a && a != x->o->algo)
		return pfs_seterr(e, "stream digests are %s, not %s (drop -a "
		                  "or use -a %s)", a->name, x->o->algo->name,
		                  a->name);
	if (pfs_hashset_init(&x->hs, h, h->nstages - 1, 1, e) < 0)
		return -1;
	pfs_head_pop(h);
	return 0;
}

/* --sum: the payloads must be the raw bytes of a whole source (only HASH
 * records on the stack, not a range stream).  Every digest the stream
 * carries is checked as --check and pjoin check them (hs), so that no sum
 * of damaged bytes is printed; the sum is then the recorded digest of the
 * algorithm, checked, or computed over the payloads (sumd). */
static int
head_sum(struct ctx *x, struct pfs_head *h, struct pfs_err *e)
{
	const struct pfs_stage *top;
	char msg[256];
	unsigned d;

	if (!pfs_head_only_hashes(h)) {
		top = pfs_head_top(h);
		for (d = h->nstages; d-- > 0;)
			if (h->stages[d].kind != PFS_STAGE_HASH) {
				top = &h->stages[d];
				break;
			}
		pfs_stage_still(top, msg, sizeof(msg));
		return pfs_seterr(e, "%s", msg);
	}
	if (h->flags & PFS_HF_RANGE)
		return pfs_seterr(e, "a range stream holds part of the source: "
		                  "--sum is of a whole file (run it on the "
		                  "whole stream)");
	for (d = 0; d < h->nstages; d++)
		if (h->stages[d].params[0] == x->o->algo->id) {
			x->recorded = 1;
			x->rec_depth = d;
		}
	if (h->nstages) {
		if (pfs_hashset_init(&x->hs, h, 0, 0, e) < 0)
			return -1;
		x->checking = 1;
	}
	return x->recorded ? 0 : pfs_digest_init(&x->sumd, x->o->algo, e);
}

static int
on_head(void *vctx, struct pfs_head *h, struct pfs_err *e)
{
	struct ctx *x = vctx;

	x->head = *h;
	switch (x->o->mode) {
	case M_ADD:
		return head_add(x, h, e);
	case M_CHECK:
		return head_check(x, h, e);
	default:
		return head_sum(x, h, e);
	}
}

static int
transform(void *vctx, void *t, struct pfs_slot *s, struct pfs_err *e)
{
	struct ctx *x = vctx;

	(void)t;
	(void)e;
	pfs_hashset_chunk(&x->hs, s);
	return 0;
}

/* --sum with a recorded digest: find its trailer at the end of END */
static int
recorded_sum(struct ctx *x, const struct pfs_slot *s, struct pfs_err *e)
{
	const uint8_t *p = s->in.p;
	size_t len = s->hdr.len;

	if (s->hdr.flags & PFS_EF_RANGE)
		return pfs_seterr(e, "a range stream records no digest of the "
		                  "whole stream");
	while (len >= 2) {
		unsigned l = p[len - 1], d = p[len - 2];
		if (len < 2u + l)
			break;
		if (d == x->rec_depth && l == x->o->algo->len) {
			memcpy(x->sum, p + len - 2 - l, l);
			x->have_sum = 1;
			return 0;
		}
		len -= 2u + l;
	}
	return pfs_seterr(e, "END: the recorded %s digest is missing or "
	                  "damaged", x->o->algo->name);
}

static int
ordered(void *vctx, struct pfs_slot *s, struct pfs_err *e)
{
	struct ctx *x = vctx;

	switch (x->o->mode) {
	case M_ADD:
		return pfs_hashset_add(&x->hs, s, NULL, e);
	case M_CHECK:
		if (pfs_hashset_check(&x->hs, s, e) < 0)
			return -1;
		/* the size the HEAD records, as pjoin checks it: a check
		 * that passes is not followed by a restore that fails */
		return s->hdr.type == PFS_END ?
		       pfs_head_size_check(&x->head, s->hdr.raw, e) : 0;
	default:
		if (x->checking && pfs_hashset_check(&x->hs, s, e) < 0)
			return -1;
		if (x->recorded)   /* checked above: the trailer is right */
			return s->hdr.type == PFS_END ? recorded_sum(x, s, e) : 0;
		if (s->hdr.type == PFS_DATA)
			pfs_digest_update(&x->sumd, s->in.p, s->hdr.len);
		else if (s->hdr.type == PFS_END) {
			pfs_digest_final(&x->sumd, x->sum);
			x->have_sum = 1;
		}
		return 0;
	}
}

/* held_checked - --check, reading failed: the chunk held has had its DIGEST
 * frame (engine.h) */
static int
held_checked(void *vctx, const struct pfs_slot *held)
{
	const struct ctx *x = vctx;

	(void)held;
	return pfs_hashset_checked(&x->hs);
}

/* a name as sha256sum prints it: with a leading backslash and escapes when
 * it holds a backslash or a newline */
static void
print_sum(const struct opts *o, const char *name, const uint8_t *d)
{
	const struct pfs_digest_algo *a = o->algo;
	char hex[2 * PFS_DIGEST_MAXLEN + 1];
	int esc = !a->xxh_style &&
	          (strchr(name, '\\') || strchr(name, '\n'));
	const char *p;

	pfs_hex(d, a->len, hex);
	if (esc)
		putchar('\\');
	/* xxhsum prints XXH3 in the BSD format even without --tag */
	if (o->tag || a->id == PFS_H_XXH3)
		printf("%s (", a->tag_name);
	else
		printf("%s  ", hex);
	for (p = name; *p; p++) {
		if (esc && *p == '\\')
			fputs("\\\\", stdout);
		else if (esc && *p == '\n')
			fputs("\\n", stdout);
		else
			putchar(*p);
	}
	if (o->tag || a->id == PFS_H_XXH3)
		printf(") = %s", hex);
	putchar('\n');
}

int
main(int argc, char **argv)
{
	/* by mode: add and check hash each chunk on the workers, and check
	 * holds a chunk back until its DIGESTs have passed; sum hashes the
	 * whole stream in order on the writer (ordered) */
	static const struct pfs_stage_ops ops[] = {
		[M_ADD] = { .types = 1u << PFS_DATA, .head = on_head,
		            .transform = transform, .ordered = ordered },
		[M_CHECK] = { .types = 1u << PFS_DATA, .head = on_head,
		              .transform = transform, .ordered = ordered,
		              .hold = 1, .held_checked = held_checked },
		[M_SUM] = { .types = 1u << PFS_DATA, .head = on_head,
		            .transform = transform, .ordered = ordered }
	};
	struct opts o;
	struct ctx x;
	struct pfs_err e;
	struct pfs_stats st;
	struct pfs_engine_cfg cfg;
	int devnull = -1, rc;

	pfs_setprog(argv[0]);
	parse(argc, argv, &o);
	pfs_common_trace(&o.c);
	pfs_stats_start(&st);
	if (pfs_crypto_init(&e) < 0)
		return pfs_fail("%s", e.msg);
	memset(&x, 0, sizeof(x));
	x.o = &o;
	if (o.mode != M_SUM && pfs_refuse_tty(1, o.force, &e) < 0)
		return pfs_fail("%s", e.msg);
	if (pfs_engine_cfg_open(&cfg, o.input, o.c.threads, &e) < 0)
		return pfs_fail("%s", e.msg);
	cfg.name_errors = 1;
	pfs_common_cfg(&o.c, &cfg);
	if (o.mode == M_SUM) {
		/* the stream goes nowhere; only the line is printed */
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (devnull < 0)
			return pfs_fail("/dev/null: cannot open");
		cfg.out_fd = devnull;
		cfg.raw_out = 1;
	}
	rc = pfs_engine_run(&cfg, &ops[o.mode], &x, NULL, &st, &e);
	pfs_hashset_free(&x.hs);
	pfs_digest_free(&x.sumd);        /* zeroed when unused: a no-op */
	if (rc == 0 && o.mode == M_SUM) {
		print_sum(&o, x.head.namelen ? x.head.name : "-", x.sum);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			if (errno == EPIPE)
				pfs_die_of_sigpipe();
			rc = pfs_seterr(&e, "stdout: write error: %s",
			                strerror(errno ? errno : EIO));
		}
	}
	pfs_stats_print(&st, o.c.stats);
	if (rc < 0)
		return pfs_fail("%s", e.msg);
	if (devnull >= 0)
		close(devnull);
	if (cfg.in_fd != 0)
		close(cfg.in_fd);
	return PFS_EXIT_OK;
}
