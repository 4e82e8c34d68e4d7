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
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "digest.h"
#include "encrec.h"
#include "err.h"
#include "frame.h"
#include "head.h"
#include "io.h"
#include "secret.h"
#include "stats.h"
#include "util.h"

struct opts {
	int json;
	int chunks;                /* --chunks: list every chunk */
	struct pfs_keyopt key;     /* PFS_KS_NONE: no key, nothing verified */
	char **inputs;             /* the operands; none: standard input */
	int ninputs;
	struct pfs_common c;
};

/* What one stream holds, read to its END. */
struct info {
	const char *file;          /* the operand, "-" for standard input */
	uint64_t chunks, raw, payload, digests, skippable, end_len, bytes;
	int encrypted;             /* HEAD holds an ENCRYPT record */
	int verified;              /* its header MAC checked with the key */
	int revealed;              /* the hidden name opened with the key */
};

/* One row of the table: several streams are listed when all are read, so
 * that the Stages column fits the widest stack. */
struct row {
	const char *file;
	uint64_t chunks, skippable, bytes, raw;
	char *stages;              /* owned */
};

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
	       "  -q, --quiet            no warnings\n"
	       "      --stats[=json]     print statistics to stderr at exit (also PFS_STATS=1)\n"
	       "  -h, --help             show this help\n"
	       "  -V, --version          show the version\n"
	       "\n"
	       "Ratio is raw bytes / stream bytes, as zstd -l shows it (3.142: the stream\n"
	       "is 3.142 times smaller than its source).  The source of an encrypted\n"
	       "stream (name, size, mode, mtime) is marked unverified unless a key option\n"
	       "checked the header MAC (--json: \"verified\").\n"
	       "Exit status: 0 success, 1 error (a stream is missing or invalid, or a\n"
	       "wrong key or password; the others are still listed), 2 bad usage.\n"
	       "Example: pchunk big.bin | pcompress --zstd | pinfo\n",
	       pfs_prog);
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
	while ((c = getopt_long(argc, argv, "qhV", longopts, NULL)) != -1) {
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

/* JSON string body: escape quotes, backslashes and control bytes */
static void
json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/* pencrypt --hide-name moved the name into its record */
static int
name_hidden(const struct pfs_head *h)
{
	unsigned i;

	for (i = 0; i < h->nstages; i++)
		if (pfs_enc_name_hidden(&h->stages[i]))
			return 1;
	return 0;
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
	if (!sec || pfs_secret_load(sec, &o->key, -1, 0, &w, &e) < 0)
		goto fail;
	if (w.msg[0])
		pfs_warn("warning: %s", w.msg);
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

/* ratio - as zstd -l: original / compressed, raw bytes / stream bytes */
static double
ratio(uint64_t raw, uint64_t bytes)
{
	return bytes ? (double)raw / (double)bytes : 0.0;
}

/* human - n as zstd -l prints a size, right-aligned: the number in width
 * columns and the unit in 4 ("  97.7 KiB", "    18   B") */
static void
human(uint64_t n, int width, char *out, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB",
	                                     "PiB", "EiB" };
	unsigned u = 0;
	double v;
	int prec;

	while (u < 6 && n >> (10 * (u + 1)))
		u++;
	v = (double)n / (double)(1ull << (10 * u));
	prec = v >= 100 || u == 0 ? 0 : v >= 10 ? 1 : v > 1 ? 2 : 3;
	snprintf(out, len, "%*.*f %3s", width, prec, v, units[u]);
}

/* stages - the stack, bottom first, as "zstd -3, aes-256-gcm, xxh3", or
 * "none" */
static void
stages(const struct pfs_head *h, char *out, size_t n)
{
	char d[64];
	size_t at = 0;
	unsigned i;

	snprintf(out, n, "none");
	for (i = 0; i < h->nstages && at < n; i++) {
		pfs_stage_describe(&h->stages[i], d, sizeof(d));
		at += (size_t)snprintf(out + at, n - at, "%s%s", i ? ", " : "", d);
	}
}

static void
print_json(const struct pfs_head *h, const struct info *in)
{
	char d[64];
	unsigned i;

	printf("{\"file\":");
	json_str(in->file);
	printf(",\"name\":");
	json_str(h->name);
	printf(",\"name_hidden\":%s,\"from_stdin\":%s,\"size\":",
	       name_hidden(h) ? "true" : "false",
	       !h->namelen && !name_hidden(h) ? "true" : "false");
	if (h->flags & PFS_HF_SIZE)
		printf("%" PRIu64, h->size);
	else
		printf("null");
	if (h->flags & PFS_HF_META)
		printf(",\"mode\":\"0%03o\",\"mtime\":%" PRId64, h->mode,
		       h->mtime_sec);
	else
		printf(",\"mode\":null,\"mtime\":null");
	printf(",\"verified\":%s", in->verified ? "true" : "false");
	if (h->flags & PFS_HF_RANGE)
		printf(",\"range\":{\"first\":%" PRIu64 ",\"length\":%" PRIu64
		       ",\"start\":%" PRIu64 ",\"first_chunk\":%" PRIu64 "}",
		       h->rfirst, h->rlen, h->rstart, pfs_head_first_chunk(h));
	else
		printf(",\"range\":null");
	printf(",\"chunk_size\":%u,\"stages\":[", h->chunk_size);
	for (i = 0; i < h->nstages; i++) {
		static const char *const kinds[] = { "", "compress", "encrypt", "hash" };
		pfs_stage_describe(&h->stages[i], d, sizeof(d));
		printf("%s{\"kind\":\"%s\",\"algorithm\":", i ? "," : "",
		       kinds[h->stages[i].kind]);
		json_str(d);
		printf("}");
	}
	printf("],\"chunks\":%" PRIu64 ",\"raw_bytes\":%" PRIu64
	       ",\"payload_bytes\":%" PRIu64 ",\"digest_frames\":%" PRIu64
	       ",\"skippable_frames\":%" PRIu64 ",\"stream_bytes\":%" PRIu64
	       ",\"ratio\":%.4f}\n", in->chunks, in->raw, in->payload,
	       in->digests, in->skippable, in->bytes, ratio(in->raw, in->bytes));
}

static void
print_text(const struct pfs_head *h, const struct info *in)
{
	char a[32], d[64], tb[64];
	struct tm tm;
	time_t t;
	unsigned i;
	const char *unv = in->encrypted && !in->verified ? " (unverified)" : "";

	printf("source:         %s%s\n", h->namelen ? h->name :
	       name_hidden(h) ? "(name hidden by pencrypt --hide-name)" :
	       "(standard input)", in->revealed ? " (hidden by pencrypt "
	       "--hide-name, opened with the key)" : *unv ? " (unverified: "
	       "encrypted stream, HEAD not authenticated; give a key to "
	       "check)" : "");
	if (h->flags & PFS_HF_SIZE) {
		pfs_fmt_size(h->size, a, sizeof(a));
		printf("size:           %" PRIu64 " bytes (%s)%s\n", h->size, a,
		       unv);
	}
	if (h->flags & PFS_HF_META) {
		t = (time_t)h->mtime_sec;
		if (gmtime_r(&t, &tm))
			strftime(tb, sizeof(tb), "%Y-%m-%d %H:%M:%S UTC", &tm);
		else
			snprintf(tb, sizeof(tb), "%" PRId64, h->mtime_sec);
		printf("mode:           0%03o%s\nmodified:       %s%s\n", h->mode,
		       unv, tb, unv);
	}
	if (in->verified)
		printf("verified:       yes (header MAC checked with the key)\n");
	if (h->flags & PFS_HF_RANGE)
		printf("range:          %" PRIu64 " bytes from byte %" PRIu64
		       " (chunks from %" PRIu64 ")\n", h->rlen, h->rfirst,
		       pfs_head_first_chunk(h));
	pfs_fmt_size(h->chunk_size, a, sizeof(a));
	printf("chunk size:     %s\n", a);
	printf("stages:         ");
	if (!h->nstages)
		printf("none (plain chunks)");
	for (i = 0; i < h->nstages; i++) {
		static const char *const kinds[] = { "", "compress", "encrypt", "hash" };
		pfs_stage_describe(&h->stages[i], d, sizeof(d));
		printf("%s%u. %s %s", i ? ", " : "", i + 1,
		       kinds[h->stages[i].kind], d);
	}
	printf("\nchunks:         %" PRIu64 "\n", in->chunks);
	printf("raw bytes:      %" PRIu64 "\n", in->raw);
	printf("payload bytes:  %" PRIu64 "\n", in->payload);
	if (in->digests)
		printf("digest frames:  %" PRIu64 "\n", in->digests);
	if (in->skippable)
		printf("skippable:      %" PRIu64 "\n", in->skippable);
	printf("stream bytes:   %" PRIu64 "\n", in->bytes);
	printf("ratio:          %.4f\n", ratio(in->raw, in->bytes));
}

/* print_table - the rows as zstd -l lays them out, Stages in place of its
 * Check column, and with two rows or more a totals line whose Stages are
 * the stack they share (blank if they differ) */
static void
print_table(const struct row *rows, size_t n)
{
	char c[32], u[32];
	struct row t = { NULL, 0, 0, 0, 0, NULL };
	const char *same;
	int w = (int)strlen("Stages"), len;
	size_t i;

	if (!n)
		return;
	same = rows[0].stages;
	for (i = 0; i < n; i++) {
		if ((int)strlen(rows[i].stages) > w)
			w = (int)strlen(rows[i].stages);
		if (strcmp(rows[i].stages, same) != 0)
			same = "";
	}
	len = printf("Chunks  Skips  Compressed  Uncompressed  Ratio  %-*s  "
	             "Filename\n", w, "Stages") - 1;
	for (i = 0; i < n; i++) {
		human(rows[i].bytes, 6, c, sizeof(c));
		human(rows[i].raw, 8, u, sizeof(u));
		printf("%6" PRIu64 "  %5" PRIu64 "  %s  %s  %5.3f  %-*s  %s\n",
		       rows[i].chunks, rows[i].skippable, c, u,
		       ratio(rows[i].raw, rows[i].bytes), w, rows[i].stages,
		       rows[i].file);
		t.chunks += rows[i].chunks;
		t.skippable += rows[i].skippable;
		t.bytes += rows[i].bytes;
		t.raw += rows[i].raw;
	}
	if (n < 2)
		return;
	while (len-- > 0)
		putchar('-');
	putchar('\n');
	human(t.bytes, 6, c, sizeof(c));
	human(t.raw, 8, u, sizeof(u));
	printf("%6" PRIu64 "  %5" PRIu64 "  %s  %s  %5.3f  %-*s  %zu files\n",
	       t.chunks, t.skippable, c, u, ratio(t.raw, t.bytes), w, same, n);
}

/* read_stream - read the stream at path (NULL or "-": standard input) to
 * its END into *h and *in, checking its HEAD with sec when not NULL.
 * Returns 0, or -1 with e set (the message names the stream). */
/* list_chunk - --chunks: one line (or JSON object) for a DATA frame */
static void
list_chunk(const struct opts *o, const struct info *in,
           const struct pfs_hdr *fh, uint64_t off)
{
	if (o->json) {
		fputs("{\"file\":", stdout);
		json_str(in->file);
		printf(",\"chunk\":%" PRIu64 ",\"offset\":%" PRIu64
		       ",\"raw\":%" PRIu64 ",\"payload\":%" PRIu32 "}\n",
		       fh->seq, off, fh->raw, fh->len);
	} else {
		printf("%10" PRIu64 " %14" PRIu64 " %12" PRIu64 " %12" PRIu32
		       "\n", fh->seq, off, fh->raw, fh->len);
	}
}

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
	pfs_stats_start(&st);
	n = o.ninputs ? o.ninputs : 1;
	if (n > 1 && !o.json && !o.chunks) {
		rows = calloc((size_t)n, sizeof(*rows));
		if (!rows)
			pfs_die(PFS_EXIT_ERR, "out of memory");
	}
	if (o.key.src != PFS_KS_NONE)
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
	if (fflush(stdout) != 0 || ferror(stdout))
		pfs_die(PFS_EXIT_ERR, "stdout: write error: %s",
		        strerror(errno ? errno : EIO));
	pfs_stats_print(&st, o.c.stats);
	for (i = 0; i < nrows; i++)
		free(rows[i].stages);
	free(rows);
	pfs_buf_free(&pay);
	return failed ? PFS_EXIT_ERR : PFS_EXIT_OK;
}
