/*
 * print.c - what pinfo prints (pinfo.h): one stream as text or as a JSON
 * object, one --chunks line or object per chunk, and several streams as
 * a table after zstd -l's, with its sizes in binary units.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "encrec.h"
#include "frame.h"
#include "head.h"
#include "pinfo.h"
#include "util.h"

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

/* a name in the text output: control bytes and backslashes escaped, so
 * that a name stored in a stream (anyone may have written it) cannot move
 * the cursor, recolour the terminal or split a line ("\n", "\033") */
static void
text_name(const char *s)
{
	char buf[4 * PFS_NAME_MAX + 8];

	pfs_text_esc(s, 1, buf, sizeof(buf));
	fputs(buf, stdout);
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
void
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

void
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

void
print_text(const struct pfs_head *h, const struct info *in)
{
	char a[32], d[64], tb[64];
	struct tm tm;
	time_t t;
	unsigned i;
	const char *unv = in->encrypted && !in->verified ? " (unverified)" : "";

	fputs("source:         ", stdout);
	if (h->namelen)
		text_name(h->name);
	printf("%s%s\n", h->namelen ? "" :
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
void
print_table(const struct row *rows, size_t n)
{
	char c[32], u[32];
	struct row t = { NULL, 0, 0, 0, 0, NULL };
	const char *same;
	int w = (int)strlen("Stages"), rw = (int)strlen("Ratio"), len, k;
	size_t i;

	if (!n)
		return;
	same = rows[0].stages;
	for (i = 0; i < n; i++) {
		if ((int)strlen(rows[i].stages) > w)
			w = (int)strlen(rows[i].stages);
		if (strcmp(rows[i].stages, same) != 0)
			same = "";
		/* a ratio of 1000 or more is wider than its heading */
		k = snprintf(c, sizeof(c), "%.3f",
		             ratio(rows[i].raw, rows[i].bytes));
		if (k > rw)
			rw = k;
	}
	len = printf("Chunks  Skips  Compressed  Uncompressed  %*s  %-*s  "
	             "Filename\n", rw, "Ratio", w, "Stages") - 1;
	for (i = 0; i < n; i++) {
		human(rows[i].bytes, 6, c, sizeof(c));
		human(rows[i].raw, 8, u, sizeof(u));
		printf("%6" PRIu64 "  %5" PRIu64 "  %s  %s  %*.3f  %-*s  ",
		       rows[i].chunks, rows[i].skippable, c, u, rw,
		       ratio(rows[i].raw, rows[i].bytes), w, rows[i].stages);
		text_name(rows[i].file);
		putchar('\n');
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
	printf("%6" PRIu64 "  %5" PRIu64 "  %s  %s  %*.3f  %-*s  %zu files\n",
	       t.chunks, t.skippable, c, u, rw, ratio(t.raw, t.bytes), w, same,
	       n);
}

/* list_chunk - --chunks: one line (or JSON object) for a DATA frame */
void
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
