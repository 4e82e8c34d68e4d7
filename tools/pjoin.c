/*
 * pjoin - reassemble a frame stream into the original bytes.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "codec.h"
#include "engine.h"
#include "err.h"
#include "hashcheck.h"
#include "frame.h"
#include "io.h"
#include "parts.h"
#include "progress.h"
#include "resume.h"
#include "stats.h"
#include "util.h"

#include "pjoin/pjoin.h"

static _Noreturn void
usage(void)
{
	printf("Usage: %s [OPTION]... [FILE|-]\n"
	       "  or:  %s [OPTION]... -o OUT PART...\n"
	       "  or:  %s --into OUT [OPTION]... [PART|-]; then %s --commit OUT\n"
	       "Reassemble a frame stream (FILE or standard input) into the original bytes,\n"
	       "or the parts of one file (pchunk --part) into OUT, in any order: all are\n"
	       "checked to be the parts of one source before OUT is created.\n"
	       "\n"
	       "  -o, --output FILE  write to FILE: a temporary file in the same directory\n"
	       "                     is renamed to FILE only after the whole stream has been\n"
	       "                     verified; on any error nothing is left behind\n"
	       "      --into OUT     restore the part (pchunk --part) into its bytes of\n"
	       "                     OUT.pfs-join, a file on storage that several hosts\n"
	       "                     share; once verified, mark it done\n"
	       "      --commit OUT   when the parts marked done are all of OUT's source,\n"
	       "                     rename OUT.pfs-join to OUT (mode, mtime as recorded)\n"
	       "  -f, --force        overwrite an existing FILE; with --payload, write\n"
	       "                     to a terminal too\n"
	       "      --resume       keep what is restored in FILE.pfs-part as it is written;\n"
	       "                     if it is there from an interrupted run, check it and\n"
	       "                     continue after its last good chunk (a stream file\n"
	       "                     is read from there on; a pipe is read through)\n"
	       "  -p, --keep-mode    give FILE exactly the recorded permission bits,\n"
	       "                     setuid, setgid and sticky included; without -p\n"
	       "                     they are masked with 0777 and the umask\n"
	       "      --payload      write the DATA payloads as they are, whatever the stage\n"
	       "                     stack (e.g. a .zst file after 'pcompress --zstd');\n"
	       "                     a Brotli stream of more than one chunk is refused;\n"
	       "                     phash digests over the payloads are checked\n"
	       "      --no-verify    do not check phash digests found in the stream\n"
	       "      --range OFF:LEN  write only LEN bytes from source byte OFF (OFF: for\n"
	       "                     the rest); FILE must be a stream file, whose index\n"
	       "                     leads to the chunks needed, the only ones read\n"
	       "      --progress     show progress on stderr (also when not a terminal)\n"
	       "  -T, --threads N    threads verifying digests (default: number of CPUs)\n",
	       pfs_prog, pfs_prog, pfs_prog, pfs_prog);
	pfs_help_common(21, PFS_HELP_COMMON);
	printf("\n"
	       "Without -o the bytes go to standard output.\n"
	       "Exit status: 0 success, 1 error, 2 bad usage.\n"
	       "Example: pchunk big.bin | pjoin -o copy.bin\n");
	pfs_stdout_done();
}

static void
parse(int argc, char **argv, struct opts *o)
{
	enum { OPT_PAYLOAD = PFS_OPT_TOOL_BASE, OPT_NOVERIFY, OPT_PROGRESS,
	       OPT_RESUME, OPT_INTO, OPT_COMMIT };
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "keep-mode", no_argument, NULL, 'p' },
		{ "payload", no_argument, NULL, OPT_PAYLOAD },
		{ "no-verify", no_argument, NULL, OPT_NOVERIFY },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "resume", no_argument, NULL, OPT_RESUME },
		{ "into", required_argument, NULL, OPT_INTO },
		{ "commit", required_argument, NULL, OPT_COMMIT },
		{ "threads", required_argument, NULL, 'T' },
		PFS_RANGE_LONGOPT,
		PFS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->verify = 1;
	pfs_common_init(&o->c, PFS_THREADS_MAX);
	while ((c = getopt_long(argc, argv, "o:fpT:qhV", longopts, NULL)) != -1) {
		if (pfs_common_opt(&o->c, c, optarg))
			continue;
		switch (c) {
		case 'o':
			pfs_opt_output(&o->output, optarg);
			break;
		case 'f':
			o->force = 1;
			break;
		case 'p':
			o->keep_mode = 1;
			break;
		case OPT_PAYLOAD:
			o->payload = 1;
			break;
		case OPT_NOVERIFY:
			o->verify = 0;
			break;
		case OPT_PROGRESS:
			o->progress = 1;
			break;
		case OPT_RESUME:
			o->resume = 1;
			break;
		case OPT_INTO:
			o->into = optarg;
			break;
		case OPT_COMMIT:
			o->commit = optarg;
			break;
		case 'h':
			usage();
		default:
			pfs_usage_try();
		}
	}
	if (o->commit && (argc > optind || o->into || o->output ||
	                  o->resume || o->payload || o->c.range))
		pfs_usage_error("--commit OUT takes no stream and no other "
		                "output option: it puts OUT in place");
	if (o->into && (o->output || o->resume || o->payload || o->c.range ||
	                !o->verify || argc - optind > 1))
		pfs_usage_error("--into OUT restores one part into OUT.pfs-join: "
		                "not with -o, --resume, --payload, --range, "
		                "--no-verify (its marker says the part was "
		                "verified) or several operands");
	if (argc - optind > 1) {
		o->parts = argv + optind;
		o->nparts = argc - optind;
	} else {
		o->input = pfs_one_input(argc, argv, optind);
	}
	if (o->output && strcmp(o->output, "-") == 0)
		o->output = NULL;
	if (o->parts && !o->output)
		pfs_usage_error("several operands are the parts of one file: "
		                "give -o OUT, the file they restore");
	if (o->parts && (o->resume || o->payload || o->c.range))
		pfs_usage_error("the parts of a file are joined whole: not with "
		                "%s", o->resume ? "--resume" :
		                o->payload ? "--payload" : "--range");
	for (c = 0; c < o->nparts; c++)
		if (strcmp(o->parts[c], "-") == 0)
			pfs_usage_error("-: the parts of a file are read from "
			                "files, not standard input");
	if (o->nparts > (int)PFS_PARTS_MAX)
		pfs_usage_error("%d parts: at most %u", o->nparts,
		                PFS_PARTS_MAX);
	if (o->force && !o->output && !o->commit && !o->payload)
		pfs_usage_error("-f: nothing to force: it overwrites an -o "
		                "FILE, or lets --payload write to a terminal");
	if (o->keep_mode && !o->output && !o->commit)
		pfs_usage_error("-p sets the mode of the -o FILE: standard "
		                "output has none");
	if (o->resume && !o->output)
		pfs_usage_error("--resume continues an -o FILE: give one");
	if (o->resume && (o->payload || o->c.range))
		pfs_usage_error("--resume restores a whole file: not with %s",
		                o->payload ? "--payload" : "--range");
	/* umask() can only be read by setting it: do it once, before any
	 * thread starts */
	o->umask = umask(077);
	(void)umask(o->umask);
}

/* out_mode - the permission bits of the -o file: as tar without -p and cp,
 * the recorded bits & 0777 & ~umask, so that a stream anyone could have
 * written never makes a setuid file; with -p the recorded bits exactly.
 * No recorded mode: a new file's default, 0666 & ~umask. */
int
out_mode(const struct opts *o, const struct pfs_head *h)
{
	if (!(h->flags & PFS_HF_META))
		return (int)(0666 & ~o->umask);
	if (o->keep_mode)
		return (int)(h->mode & 07777);
	return (int)(h->mode & 0777 & ~o->umask);
}

/* payload_codec - the codec whose frames the DATA payloads are: the
 * topmost record that changes payloads (HASH records do not), when it is a
 * COMPRESS record; otherwise NULL. */
static const struct pfs_codec *
payload_codec(const struct pfs_head *h)
{
	unsigned i = h->nstages;

	while (i > 0 && h->stages[i - 1].kind == PFS_STAGE_HASH)
		i--;
	if (i == 0 || h->stages[i - 1].kind != PFS_STAGE_COMPRESS)
		return NULL;
	return pfs_codec_by_id(h->stages[i - 1].params[0]);
}

/* not_one - the refusal of --payload for a stream of two or more chunks
 * whose frames (c's) do not concatenate into one file */
static int
not_one(const struct pfs_codec *c, struct pfs_err *e)
{
	return pfs_seterr(e, "--payload: more than one %s chunk, and %s streams "
	                  "do not concatenate (%s -d would stop after the "
	                  "first): use 'pcompress -d' and pjoin without "
	                  "--payload, or pcompress --zstd or --lz4, whose "
	                  "frames concatenate", c->title, c->title, c->name);
}

static int
on_head(void *vctx, struct pfs_head *h, struct pfs_err *e)
{
	struct ctx *x = vctx;
	const struct pfs_stage *top = pfs_head_top(h);
	const struct pfs_codec *c;
	char msg[256];

	x->head = *h;
	x->pos = h->rstart;
	if (x->o->into && shared_head(x->o->into, x->into_fd, h, e) < 0)
		return -1;
	if (x->o->resume && resume_head(x, h, e) < 0)
		return -1;
	if (x->o->payload && (h->flags & PFS_HF_RANGE))
		return pfs_seterr(e, "a range stream's payloads cannot be cut "
		                  "to its range: --payload takes whole streams");
	if (x->o->payload && (c = payload_codec(h)) && !c->concat) {
		/* refused before any output: from the HEAD when it records
		 * the size, else at the second DATA frame, the first being
		 * held back until then (ops.hold) */
		if ((h->flags & PFS_HF_SIZE) && h->size > h->chunk_size)
			return not_one(c, e);
		x->one = c;
	}
	if (!x->o->payload && !pfs_head_only_hashes(h)) {
		/* the top record's inverse must run first */
		pfs_stage_still(top, msg, sizeof(msg));
		return pfs_seterr(e, "%s", msg);
	}
	pfs_progress_init(&x->pr, x->o->progress,
	                  (h->flags & PFS_HF_SIZE) ? h->size : 0,
	                  x->o->output ? x->o->output : "stdout");
	if (x->o->payload && x->o->verify) {
		/* the HASH records on top digest the payloads as they are
		 * written: checked as always (those below another record
		 * digest other bytes) */
		unsigned from = h->nstages;

		while (from > 0 && h->stages[from - 1].kind == PFS_STAGE_HASH)
			from--;
		if (from < h->nstages &&
		    pfs_hashset_init(&x->hs, h, from, 0, e) < 0)
			return -1;
		if (from < h->nstages || x->one)
			return 0;
		return PFS_STREAM;      /* nothing to verify: streamed */
	}
	if (x->one)
		return 0;               /* one chunk, held (ordered) */
	if ((h->flags & PFS_HF_RANGE) || x->o->resume)
		return h->nstages && x->o->verify ?
		       pfs_hashset_init(&x->hs, h, 0, 0, e) : 0;
	if (!x->o->verify || x->o->payload || !h->nstages)
		return PFS_STREAM;      /* nothing to verify: streamed, engine.h */
	return pfs_hashset_init(&x->hs, h, 0, 0, e);
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

/* cut - a range stream: only the part of a chunk inside the range */
static void
cut(struct ctx *x, struct pfs_slot *s)
{
	const struct pfs_head *h = &x->head;
	uint64_t lo = x->pos, hi = x->pos + s->hdr.raw;

	if (lo < h->rfirst)
		lo = h->rfirst;
	if (hi > h->rfirst + h->rlen)
		hi = h->rfirst + h->rlen;
	if (hi <= lo) {
		s->emit = 0;
	} else {
		s->opay += lo - x->pos;
		s->ohdr.len = (uint32_t)(hi - lo);
	}
	x->pos += s->hdr.raw;
}

static int
ordered(void *vctx, struct pfs_slot *s, struct pfs_err *e)
{
	struct ctx *x = vctx;

	if (x->hs.n && pfs_hashset_check(&x->hs, s, e) < 0)
		return -1;
	if (x->one && s->hdr.type == PFS_DATA && s->hdr.seq > 0)
		return not_one(x->one, e);
	if (s->hdr.type == PFS_DATA && x->o->resume) {
		if (s->hdr.seq < x->rs.chunks) {
			if (resume_held(x, s, e) < 0)
				return -1;
			s->emit = 0;    /* the partial output holds it */
		}
		else if (pfs_resume_chunk(&x->rs, s->hdr.seq, s->opay,
		                          s->ohdr.len, e) < 0)
			return -1;
	} else if (s->hdr.type == PFS_DATA &&
	           (x->head.flags & PFS_HF_RANGE)) {
		cut(x, s);
	}
	if (s->hdr.type == PFS_DATA) {
		x->done += s->hdr.raw;
		pfs_progress_update(&x->pr, x->done);
	} else if (s->hdr.type == PFS_END && !x->o->payload) {
		return pfs_head_size_check(&x->head, s->hdr.raw, e);
	}
	return 0;
}

/* held_checked - reading failed (engine.h): the chunk held is written if
 * its digests (any pjoin checks) came and matched, not the one chunk of a
 * --payload that may yet be refused (x->one) */
static int
held_checked(void *vctx, const struct pfs_slot *held)
{
	const struct ctx *x = vctx;

	(void)held;
	return !x->one && pfs_hashset_checked(&x->hs);
}

/* the engine's tables, the same for every way of joining: a chunk waits
 * for its DIGESTs; with --payload of Brotli, for the END frame (a streamed
 * stream holds nothing: see on_head).  Verifying, the workers hash each
 * chunk (transform). */
static const struct pfs_stage_ops copy_ops = {
	.head = on_head, .ordered = ordered, .hold = 1,
	.held_checked = held_checked
};
static const struct pfs_stage_ops verify_ops = {
	.types = 1u << PFS_DATA, .head = on_head, .transform = transform,
	.ordered = ordered, .hold = 1, .held_checked = held_checked
};

const struct pfs_stage_ops *
join_ops(const struct opts *o)
{
	return o->verify ? &verify_ops : &copy_ops;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct ctx x;
	struct pfs_err e;
	struct pfs_stats st;
	struct pfs_outfile of;
	struct pfs_engine_cfg cfg;
	struct pfs_index ix = { 0 };
	int rc;

	pfs_setprog(argv[0]);
	parse(argc, argv, &o);
	pfs_common_trace(&o.c);
	pfs_stats_start(&st);
	if (o.parts || o.commit) {
		rc = o.parts ? join_parts(&o, &st, &e) : shared_commit(&o, &e);
		pfs_stats_print(&st, o.c.stats);
		if (rc < 0) {
			if (pfs_interrupted)
				pfs_reraise();
			return pfs_fail("%s", e.msg);
		}
		return PFS_EXIT_OK;
	}
	memset(&x, 0, sizeof(x));
	x.o = &o;
	if (pfs_engine_cfg_open(&cfg, o.input, o.c.threads, &e) < 0)
		return pfs_fail("%s", e.msg);
	cfg.name_errors = 1;
	pfs_common_cfg(&o.c, &cfg);
	if (o.resume && resume_from(&o, &cfg, &ix, &e) < 0)
		return pfs_fail("%s", e.msg);
	if (ix.off) {
		x.ix = &ix;
		x.in_fd = cfg.in_fd;
	}
	if (o.payload && !o.output && pfs_refuse_tty(1, o.force, &e) < 0)
		return pfs_fail("%s", e.msg);
	cfg.raw_out = 1;
	x.rs.jfd = -1;
	x.into_fd = -1;
	if (o.into) {
		pfs_catch_signals();
		if (shared_open(o.into, &x.into_fd, &e) < 0)
			return pfs_fail("%s", e.msg);
		cfg.out_fd = x.into_fd;
		cfg.out_name = o.into;
	}
	if (o.output) {
		pfs_catch_signals();
		if ((o.resume ? pfs_outfile_open_part : pfs_outfile_open)(&of,
		    o.output, o.force, cfg.in_fd, &e) < 0)
			return pfs_fail("%s", e.msg);
		cfg.out_fd = x.part_fd = of.fd;
		cfg.out_name = o.output;
		cfg.flush_on_error = o.resume;
	}
	rc = pfs_engine_run(&cfg, join_ops(&o), &x, NULL, &st, &e);
	pfs_progress_end(&x.pr, x.done);
	if (rc == 0 && o.resume)
		rc = resume_size(&x, of.fd, &e);
	if (rc == 0 && o.into)
		rc = shared_done(o.into, x.into_fd, &x.head, &e);
	if (x.into_fd >= 0)
		close(x.into_fd);
	if (rc == 0 && o.output)
		rc = pfs_outfile_commit(&of, out_mode(&o, &x.head),
		        (x.head.flags & PFS_HF_META) &&
		        (o.resume || !(x.head.flags & PFS_HF_RANGE)) ?
		        x.head.mtime_sec : -1, x.head.mtime_nsec, &e);
	else if (o.output)
		pfs_outfile_abort(&of);
	pfs_resume_end(&x.rs, rc == 0);
	pfs_buf_free(&x.held);
	pfs_index_free(&ix);
	pfs_hashset_free(&x.hs);
	pfs_stats_print(&st, o.c.stats);
	if (rc < 0) {
		if (pfs_interrupted)
			pfs_reraise();
		return pfs_fail("%s", e.msg);
	}
	if (cfg.in_fd != 0)
		close(cfg.in_fd);
	return PFS_EXIT_OK;
}
