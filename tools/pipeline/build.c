/*
 * build.c - the stages of one FILE as command lines (pipeline.h): process,
 * info, and restore/verify from the stage stack in the input's HEAD; the
 * output's name.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "encrec.h"
#include "err.h"
#include "feed.h"
#include "files.h"
#include "frame.h"
#include "head.h"
#include "io.h"
#include "pipeline.h"
#include "resume.h"
#include "secret.h"
#include "stages.h"
#include "step.h"

/* names - how outputs are named for o->input */
static struct pfs_names
names(const struct opts *o)
{
	struct pfs_names nm = { o->input, o->outdir, o->mirror, o->use_name,
	                        o->dry_run };

	return nm;
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
/* key_given - the key option goes on pencrypt's command line as it is:
 * not a password pipeline holds (password.c), nor --password-fd N for
 * --dry-run, which pipeline reads once for all FILEs: printed, pencrypt
 * asks itself, as it does for the prompt */
static int
key_given(const struct opts *o)
{
	return o->key_opt && !password_held() &&
	       !(o->dry_run && strcmp(o->key_opt, "--password-fd") == 0);
}

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

/* add_record_opts - what pencrypt puts in a new ENCRYPT record */
static void
add_record_opts(const struct opts *o, struct pfs_step *s)
{
	if (o->cipher)
		add(s, "--cipher", o->cipher);
	if (o->hide_name)
		add(s, "--hide-name", NULL);
	if (o->kdf_time)
		add(s, "--kdf-time", o->kdf_time);
	if (o->kdf_memory)
		add(s, "--kdf-memory", o->kdf_memory);
}

/* add_chunk_size - pchunk's -s: Brotli gets 32 MiB chunks, for its ratio
 * (an 8 MiB chunk costs it 3-7 % in size on real data; pcompress streams
 * Brotli chunks, so they cost no more memory: docs/performance.md); a
 * continued stream keeps the chunk size it has */
static void
add_chunk_size(const struct opts *o, struct pipeline *p, struct pfs_step *s)
{
	if (p->cont.active)
		snprintf(p->csbuf, sizeof(p->csbuf), "%" PRIu32,
		         p->cont.head.chunk_size);
	else if (o->codec && o->codec->id == PFS_C_BROTLI)
		snprintf(p->csbuf, sizeof(p->csbuf), "%s", PIPELINE_BROTLI_CHUNK);
	else
		return;
	add(s, "-s", p->csbuf);
}

void
build_process(const struct opts *o, struct pipeline *p, int progress)
{
	struct pfs_step *s;
	unsigned i;
	/* -f with standard output: the last stage writes the stream, and
	 * refuses a terminal unless told -f too */
	int force = o->force && p->to_stdout;

	s = stage_new(p, "pchunk", NULL);
	if (progress)
		add(s, "--progress", NULL);
	if (force && !o->codec && !o->encrypt && !o->hash)
		add(s, "-f", NULL);      /* before FILE, which may follow -- */
	add_common(o, s, 0);
	add_chunk_size(o, p, s);
	if (o->range || p->rangebuf[0])   /* process --resume: cont.c */
		add(s, "--range", o->range ? o->range : p->rangebuf);
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
		if (key_given(o))
			add(s, o->key_opt, o->key_file);
		else if (o->key_opt || !o->nrcp)
			p->ask[p->nask++] = p->n - 1;
		for (i = 0; i < o->nrcp && !p->cont.active; i++)
			add(s, o->rcp_opt[i], o->rcp_arg[i]);
		if (p->cont.active)      /* its record, checked (cont.c) */
			add(s, "--continue", p->cont.part);
		else
			add_record_opts(o, s);
		add_common(o, s, 1);
	}
	if (o->hash) {
		s = stage_new(p, "phash", NULL);
		add(s, "-a", o->hash);
		add_common(o, s, 1);
	}
	if (force && p->n > 1)
		add(&p->s[p->n - 1], "-f", NULL);
}

/* pinfo FILE */
void
build_info(const struct opts *o, struct pipeline *p)
{
	struct pfs_step *s;

	s = stage_new(p, "pinfo", NULL);
	add_common(o, s, 0);
	add_file(s, o->input);
}

/* build the inverse pipeline from the stage stack in the input's HEAD;
 * -1 on an error */
/* resume_range - --resume: where the partial output of out ends (its good
 * chunks), as the first stage's --range "N:" in p->rangebuf; nothing when
 * there is none, when pjoin is the first stage (it seeks by itself), or
 * for standard input (read through, the chunks held skipped) */
static int
resume_range(const struct opts *o, struct pipeline *p, const char *out,
             int in_stdin, const struct pfs_head *h, struct pfs_err *e)
{
	static struct pfs_head seen;
	uint64_t good;
	unsigned i, nstages = h->nstages;
	int complete, hidden = 0;

	if (!out || strcmp(out, "-") == 0)
		return pfs_seterr(e, "--resume continues an output file: not "
		                  "with standard output");
	/* the partial output must be of this stream, as pjoin sees its HEAD
	 * (every stage record popped); unless a stage puts a hidden name
	 * back, which only the key shows (pjoin checks that one) */
	for (i = 0; i < nstages; i++)
		hidden |= pfs_enc_name_hidden(&h->stages[i]);
	if (!hidden && !(h->flags & PFS_HF_RANGE)) {
		seen = *h;
		seen.nstages = 0;
		if (pfs_resume_probe_head(out, &seen, &good, &complete, e) < 0) {
			pfs_prefix(e, o->input);
			return -1;
		}
	} else if (pfs_resume_probe(out, &good, &complete, e) < 0) {
		return -1;
	}
	if ((h->flags & PFS_HF_SIZE) && good > h->size)
		return pfs_seterr(e, "%s: %s%s%s: the partial output is of "
		                  "another stream: remove it (and %s%s) to start "
		                  "over", o->input, out, PFS_PART_SUFFIX,
		                  PFS_SUMS_SUFFIX, out, PFS_PART_SUFFIX);
	if (good && !complete && !in_stdin && nstages)
		snprintf(p->rangebuf, sizeof(p->rangebuf), "%llu:",
		         (unsigned long long)good);
	return 0;
}

int
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
	unsigned i, j;
	int fd = -1, enc = 0, rc = -1, tty, in_stdin;

	memset(&r, 0, sizeof(r));
	r.fd = -1;
	/* a FIFO FILE is read as standard input is (run_one made it fd 0):
	 * once, its HEAD fed to the first stage again */
	in_stdin = strcmp(o->input, "-") == 0 || p->piped;
	if (in_stdin) {
		if (pfs_feed_head(&p->feed, &r, &h, &p->in_fd, e) < 0) {
			if (p->piped)
				pfs_prefix(e, o->input);
			goto out;
		}
		if (!out && !p->piped)
			out = "-";
	} else {
		fd = pfs_open_input(o->input, &name, e);
		if (fd < 0)
			return -1;
		pfs_reader_init(&r, fd, name);
		if (pfs_reader_start(&r, &h, e) < 0)
			goto out;
	}
	if (o->range && in_stdin) {
		pfs_seterr(e, "--range needs a stream file: %s cannot seek",
		           p->piped ? o->input : "standard input");
		goto out;
	}
	if (o->range && !out)
		out = "-";           /* the bytes asked for, as head -c */
	if (o->cmd->cmd == C_RESTORE && !out) {
		if (pfs_restore_name(&nm, &h, p->outbuf, sizeof(p->outbuf),
		                     e) < 0)
			goto out;
		out = p->outbuf;
	}
	if (o->cmd->cmd == C_VERIFY)
		out = NULL;
	/* as sha256sum -c with no checksum line: a stream with no stage
	 * record has nothing verify could check but its frame headers */
	if (o->cmd->cmd == C_VERIFY && h.nstages == 0) {
		pfs_seterr(e, "%s: carries no digests, checksums or "
		           "authentication (no hash, compress or encrypt stage): "
		           "nothing to verify", p->piped || !in_stdin ?
		           o->input : "stdin");
		goto out;
	}
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
	/* standard output may be a terminal: what pjoin writes is the
	 * user's own data, not a stream (as zstd -dc) */
	if (!o->dry_run && out && strcmp(out, "-") != 0 &&
	    pfs_out_free(out, o->force, e) < 0)
		goto out;
	if (o->resume && resume_range(o, p, out, in_stdin, &h, e) < 0)
		goto out;
	for (i = h.nstages; i-- > 0;) {
		rec = &h.stages[i];
		if (pfs_stage_undo(rec->kind, &prog, &mode) < 0) {
			pfs_seterr(e, "%s: stage record %u has an unknown kind "
			           "(%u)", o->input, i, rec->kind);
			goto out;
		}
		if (rec->kind == PFS_STAGE_ENCRYPT && !o->key_opt &&
		    !o->nids && !o->dry_run && !pfs_enc_is_password(rec)) {
			/* nothing to ask for: a password would not open it */
			pfs_stage_describe(rec, desc, sizeof(desc));
			pfs_seterr(e, "%s: the stream is encrypted (%s) for "
			           "recipients or a key file, not a password: "
			           "give --identity F or --key-file F", o->input,
			           desc);
			goto out;
		}
		if (rec->kind == PFS_STAGE_ENCRYPT && !o->key_opt &&
		    !o->nids && !o->dry_run) {
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
			if (key_given(o))
				add(s, o->key_opt, o->key_file);
			else if (o->key_opt || !o->nids)
				p->ask[p->nask++] = p->n - 1;
			for (j = 0; j < o->nids; j++)
				add(s, "-i", o->id_arg[j]);
			enc = 1;
		}
		add_common(o, s, 1);
		if (p->n == 1) {
			if (o->range || p->rangebuf[0])
				add(s, "--range", o->range ? o->range :
				    p->rangebuf);
			add_file(s, p->piped ? "-" : o->input);
		}
	}
	if ((o->key_opt || o->nids) && !enc)
		pfs_warn("%s: the stream is not encrypted: %s ignored",
		         o->input, o->key_opt ? o->key_opt : "--identity");
	s = stage_new(p, "pjoin", NULL);
	if (progress && !(enc && !o->key_opt && !o->nids))
		add(s, "--progress", NULL);
	if (o->cmd->cmd == C_VERIFY) {
		add(s, "-o", "/dev/null");
		p->progress_name = in_stdin && !p->piped ? "stdin" : o->input;
	}
	else if (strcmp(out, "-") != 0)
		add(s, "-o", out);
	if (o->force && o->cmd->cmd != C_VERIFY && strcmp(out, "-") != 0)
		add(s, "-f", NULL);      /* pjoin -f is for an -o FILE */
	if (o->keep_mode)
		add(s, "-p", NULL);
	if (o->resume)
		add(s, "--resume", NULL);
	add_common(o, s, 1);
	if (p->n == 1) {
		if (o->range)
			add(s, "--range", o->range);
		/* pjoin --resume seeks by itself */
		add_file(s, p->piped ? "-" : o->input);
	}
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

/* process_name - the output of process: -o/-c, stdout for standard input,
 * else FILE.pfs next to FILE or in the output directory */
int
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
