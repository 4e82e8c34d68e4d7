/*
 * pinfo - describe frame streams: for one, its source, chunk size, stage
 * stack, chunk count, sizes and ratio; for several, one row each in a
 * table after zstd -l's, with a totals line.  Reads (and so validates)
 * every stream whole; one that fails is reported and the others listed.
 *
 * HEAD's metadata is authenticated only by an ENCRYPT record's header MAC:
 * without a key it is shown marked unverified; with one (the key options
 * of pencrypt -d, common/secret.h) the MAC is checked first and a hidden
 * name revealed.
 *
 * This file is the options, the key check, the reading of a stream and
 * main; the output (the text and JSON views, the --chunks lines and the
 * table) is in tools/pinfo/print.c, pinfo.h names the parts.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "digest.h"
#include "encrec.h"
#include "recip.h"
#include "err.h"
#include "frame.h"
#include "head.h"
#include "io.h"
#include "pinfo/pinfo.h"
#include "secret.h"
#include "stats.h"
#include "trace.h"

static _Noreturn void
usage(void)
{
	printf("Usage: %s [OPTION]... [FILE|-]...\n"
	       "Describe frame streams (FILEs or standard input).  One stream: its\n"
	       "source, chunk size, stage stack, chunk count, raw and payload bytes,\n"
	       "ratio.  Several: a table as zstd -l prints, one row per stream and a\n"
	       "totals line.  Every stream is read and validated whole.\n"
	       "\n"
	       "      --json             print one JSON object per stream, one a line\n"
	       "      --chunks           list every chunk instead: index, offset of its DATA\n"
	       "                         frame in the stream, raw and payload length (with\n"
	       "                         --json, one object per chunk)\n"
	       "      --key-file F       check an encrypted stream's HEAD with the key in\n"
	       "                         file F (made by pencrypt --keygen)\n"
	       "      --raw-key-file F   ... with a raw key: 32 bytes or 64 hex digits\n"
	       "      --password-file F  ... with the password on the first line of F\n"
	       "      --password-fd N    ... with the password read from descriptor N\n"
	       "  -i, --identity F       ... with an identity of file F (pencrypt\n"
	       "                         --keygen-identity), when encrypted to its recipient\n",
	       pfs_prog);
	pfs_help_common(25, PFS_HELP_COMMON);
	printf("\n"
	       "Ratio is raw bytes / stream bytes, as zstd -l shows it (3.142: the stream\n"
	       "is 3.142 times smaller than its source).  The source of an encrypted\n"
	       "stream (name, size, mode, mtime) is marked unverified unless a key option\n"
	       "checked the header MAC (--json: \"verified\").\n"
	       "Exit status: 0 success, 1 error (a stream is missing or invalid, or a\n"
	       "wrong key or password; the others are still listed), 2 bad usage.\n"
	       "Example: pchunk big.bin | pcompress --zstd | pinfo\n");
	pfs_stdout_done();
}

static void
parse(int argc, char **argv, struct opts *o)
{
	enum {
		OPT_JSON = PFS_OPT_TOOL_BASE, OPT_KEYFILE, OPT_RAWKEY, OPT_PWFILE,
		OPT_PWFD, OPT_CHUNKS
	};
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "chunks", no_argument, NULL, OPT_CHUNKS },
		{ "key-file", required_argument, NULL, OPT_KEYFILE },
		{ "raw-key-file", required_argument, NULL, OPT_RAWKEY },
		{ "password-file", required_argument, NULL, OPT_PWFILE },
		{ "password-fd", required_argument, NULL, OPT_PWFD },
		{ "identity", required_argument, NULL, 'i' },
		PFS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	static const int src[] = { PFS_KS_KEYFILE, PFS_KS_RAWKEY,
	                           PFS_KS_PWFILE, PFS_KS_PWFD };
	struct pfs_err e;
	int c, i;

	memset(o, 0, sizeof(*o));
	pfs_keyopt_init(&o->key);
	pfs_common_init(&o->c, 0);
	while ((c = getopt_long(argc, argv, "i:qhV", longopts, NULL)) != -1) {
		if (pfs_common_opt(&o->c, c, optarg))
			continue;
		switch (c) {
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_CHUNKS:
			o->chunks = 1;
			break;
		case OPT_KEYFILE:
		case OPT_RAWKEY:
		case OPT_PWFILE:
		case OPT_PWFD:
			if (pfs_keyopt_set(&o->key, src[c - OPT_KEYFILE], optarg,
			                   &e) < 0)
				pfs_usage_error("%s", e.msg);
			break;
		case 'i':
			if (o->nids == PFS_IDS_MAX)
				pfs_usage_error("-i: at most %u files",
				                PFS_IDS_MAX);
			o->ids[o->nids++] = optarg;
			break;
		case 'h':
			usage();
		default:
			pfs_usage_try();
		}
	}
	o->inputs = argv + optind;
	o->ninputs = argc - optind;
	for (i = 0; i < (o->ninputs ? o->ninputs : 1); i++)
		if (pfs_keyopt_check(&o->key, o->ninputs ? o->inputs[i] : NULL,
		                     &e) < 0)
			pfs_usage_error("%s", e.msg);
}

/* load_secret - the key or password of the key options, read once for
 * every stream (a --password-fd can be read only once).  Exits on an
 * error, as a tool may; the caller frees the secret. */
static struct pfs_secret *
load_secret(const struct opts *o)
{
	struct pfs_secret *sec = NULL;
	struct pfs_err e, w;

	if (pfs_secret_nodump(&w) < 0)
		pfs_warn("warning: %s", w.msg);
	if (pfs_crypto_init(&e) < 0)
		goto fail;
	sec = pfs_secret_new(&e);
	if (!sec || (o->key.src != PFS_KS_NONE &&
	             pfs_secret_load(sec, &o->key, -1, 0, &w, &e) < 0))
		goto fail;
	if (o->key.src != PFS_KS_NONE && w.msg[0])
		pfs_warn("warning: %s", w.msg);
	for (unsigned i = 0; i < o->nids; i++) {
		if (pfs_id_file(sec, o->ids[i], &w, &e) < 0)
			goto fail;
		if (w.msg[0])
			pfs_warn("warning: %s", w.msg);
	}
	return sec;
fail:
	pfs_secret_free(sec);
	pfs_die(PFS_EXIT_ERR, "%s", e.msg);
}

/* verify - check the header MAC of the topmost ENCRYPT record with the
 * secret (it covers HEAD up to that record) and reveal a hidden name into
 * h.  Returns 0, or -1 with e set (the message names the stream). */
static int
verify(struct pfs_secret *sec, const char *name, struct pfs_head *h,
       struct info *in, struct pfs_err *e)
{
	static struct pfs_head v;     /* HEAD up to the record: 17 KiB */
	const struct pfs_enc_cipher *c;
	gcry_cipher_hd_t hd = NULL;
	int top = pfs_enc_find(h);

	if (top < 0)
		return pfs_seterr(e, "%s: stream is not encrypted: a key has "
		                  "nothing to check", name);
	v = *h;
	v.nstages = (unsigned)top + 1;
	if (pfs_enc_unlock(sec, &v, &c, &hd, e) < 0) {
		pfs_prefix(e, name);
		return -1;
	}
	gcry_cipher_close(hd);
	in->verified = 1;
	if (pfs_enc_name_hidden(&v.stages[top])) {
		memcpy(h->name, v.name, sizeof(h->name));
		h->namelen = v.namelen;
		in->revealed = 1;
	}
	return 0;
}

/* read_stream - read the stream at path (NULL or "-": standard input) to
 * its END into *h and *in, checking its HEAD with sec when not NULL.
 * Returns 0, or -1 with e set (the message names the stream). */
static int
read_stream(const struct opts *o, const char *path, struct pfs_secret *sec,
            struct pfs_head *h, struct info *in, struct pfs_buf *pay,
            struct pfs_stats *st, struct pfs_err *e)
{
	struct pfs_reader r;
	struct pfs_hdr fh;
	const char *name;
	int fd, rc = -1;

	memset(in, 0, sizeof(*in));
	in->file = path ? path : "-";
	fd = pfs_open_stream(path, &name, e);
	if (fd < 0)
		return -1;
	pfs_reader_init(&r, fd, name);
	if (pfs_reader_start(&r, h, e) < 0)
		goto out;
	in->encrypted = pfs_enc_find(h) >= 0;
	if (sec && verify(sec, name, h, in, e) < 0)
		goto out;
	if (o->chunks && !o->json) {
		if (o->ninputs > 1)
			printf("%s:\n", in->file);
		printf("%10s %14s %12s %12s\n", "Chunk", "Offset", "Raw",
		       "Payload");
	}
	while ((rc = pfs_reader_next(&r, &fh, pay, e)) == 1) {
		st->frames++;
		switch (fh.type) {
		case PFS_DATA:
			if (o->chunks)
				list_chunk(o, in, &fh, r.frame_pos);
			in->chunks++;
			in->raw += fh.raw;
			in->payload += fh.len;
			break;
		case PFS_DIGEST:
			in->digests++;
			break;
		case PFS_END:
			in->end_len = fh.len;
			break;
		default:
			in->skippable++;
		}
	}
	in->bytes = r.bytes_in;
out:
	st->bytes_in += r.bytes_in;
	st->blocked_in_ns += r.blocked_ns;
	pfs_reader_free(&r);
	if (fd != 0)
		close(fd);
	return rc < 0 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	static struct pfs_head h;     /* 17 KiB */
	struct opts o;
	struct pfs_err e;
	struct pfs_buf pay = PFS_BUF_INIT;
	struct pfs_stats st;
	struct pfs_secret *sec = NULL;
	struct info in;
	struct row *rows = NULL;
	char stk[PFS_STAGES_MAX * 66 + 8];
	size_t nrows = 0, i;
	int n, failed = 0;

	pfs_setprog(argv[0]);
	parse(argc, argv, &o);
	pfs_common_trace(&o.c);
	if (pfs_trace_on)
		pfs_trace_thread("main", 0);
	pfs_stats_start(&st);
	n = o.ninputs ? o.ninputs : 1;
	if (n > 1 && !o.json && !o.chunks) {
		rows = calloc((size_t)n, sizeof(*rows));
		if (!rows)
			pfs_die(PFS_EXIT_ERR, "out of memory");
	}
	if (o.key.src != PFS_KS_NONE || o.nids)
		sec = load_secret(&o);
	for (i = 0; i < (size_t)n; i++) {
		if (read_stream(&o, o.ninputs ? o.inputs[i] : NULL, sec, &h,
		                &in, &pay, &st, &e) < 0) {
			pfs_error("%s", e.msg);
			failed = 1;
			continue;
		}
		if (o.chunks) {
			;               /* listed as they were read */
		} else if (o.json) {
			print_json(&h, &in);
		} else if (!rows) {
			print_text(&h, &in);
		} else {
			stages(&h, stk, sizeof(stk));
			rows[nrows] = (struct row){ in.file, in.chunks,
				in.skippable, in.bytes, in.raw, strdup(stk) };
			if (!rows[nrows++].stages) {
				pfs_secret_free(sec);
				pfs_die(PFS_EXIT_ERR, "out of memory");
			}
		}
		if (ferror(stdout))
			break;
	}
	pfs_secret_free(sec);
	print_table(rows, nrows);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno == EPIPE)
			pfs_die_of_sigpipe();
		pfs_die(PFS_EXIT_ERR, "stdout: write error: %s",
		        strerror(errno ? errno : EIO));
	}
	pfs_stats_print(&st, o.c.stats);
	for (i = 0; i < nrows; i++)
		free(rows[i].stages);
	free(rows);
	pfs_buf_free(&pay);
	return failed ? PFS_EXIT_ERR : PFS_EXIT_OK;
}
