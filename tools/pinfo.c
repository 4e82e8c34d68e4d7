/*
 * pinfo - describe a frame stream: source, chunk size, stage stack, chunk
 * count, sizes and ratio.  Reads (and so validates) the whole stream.
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
	struct pfs_keyopt key;     /* PFS_KS_NONE: no key, nothing verified */
	const char *input;
	struct pfs_common c;
};

struct info {
	uint64_t chunks, raw, payload, digests, skippable, end_len, bytes;
	int encrypted;             /* HEAD holds an ENCRYPT record */
	int verified;              /* its header MAC checked with the key */
	int revealed;              /* the hidden name opened with the key */
};

static _Noreturn void
usage(void)
{
	printf("Usage: %s [OPTION]... [FILE|-]\n"
	       "Describe a frame stream (FILE or standard input): source, chunk size,\n"
	       "stage stack, chunk count, raw and payload bytes, ratio.  The whole stream\n"
	       "is read and validated.\n"
	       "\n"
	       "      --json             print one JSON object instead of text\n"
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
	       "The source of an encrypted stream (name, size, mode, mtime) is marked\n"
	       "unverified unless a key option checked the header MAC (--json: \"verified\").\n"
	       "Exit status: 0 success, 1 error (the stream is invalid, or a wrong key or\n"
	       "password), 2 bad usage.\n"
	       "Example: pchunk big.bin | pcompress --zstd | pinfo\n",
	       pfs_prog);
	pfs_stdout_done();
}

static void
parse(int argc, char **argv, struct opts *o)
{
	enum {
		OPT_JSON = PFS_OPT_TOOL_BASE, OPT_KEYFILE, OPT_RAWKEY, OPT_PWFILE,
		OPT_PWFD
	};
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
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
	int c;

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
	o->input = pfs_one_input(argc, argv, optind);
	if (pfs_keyopt_check(&o->key, o->input, &e) < 0)
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

/* verify - check the header MAC of the topmost ENCRYPT record with the
 * key options (it covers HEAD up to that record) and reveal a hidden name
 * into h.  Exits on an error, as a tool may. */
static void
verify(const struct opts *o, const char *name, struct pfs_head *h,
       struct info *in)
{
	static struct pfs_head v;     /* HEAD up to the record: 17 KiB */
	const struct pfs_enc_cipher *c;
	struct pfs_secret *sec = NULL;
	struct pfs_err e, w;
	gcry_cipher_hd_t hd = NULL;
	int top = pfs_enc_find(h), rc = -1;

	if (top < 0)
		pfs_die(PFS_EXIT_ERR, "%s: stream is not encrypted: a key has "
		        "nothing to check", name);
	v = *h;
	v.nstages = (unsigned)top + 1;
	if (pfs_secret_nodump(&w) < 0)
		pfs_warn("warning: %s", w.msg);
	if (pfs_crypto_init(&e) < 0)
		goto out;
	sec = pfs_secret_new(&e);
	if (!sec || pfs_secret_load(sec, &o->key, -1, 0, &w, &e) < 0)
		goto out;
	if (w.msg[0])
		pfs_warn("warning: %s", w.msg);
	if (pfs_enc_unlock(sec, &v, &c, &hd, &e) < 0) {
		pfs_prefix(&e, name);
		goto out;
	}
	in->verified = 1;
	if (pfs_enc_name_hidden(&v.stages[top])) {
		memcpy(h->name, v.name, sizeof(h->name));
		h->namelen = v.namelen;
		in->revealed = 1;
	}
	rc = 0;
out:
	gcry_cipher_close(hd);
	pfs_secret_free(sec);
	if (rc < 0)
		pfs_die(PFS_EXIT_ERR, "%s", e.msg);
}

static double
ratio(const struct info *in)
{
	return in->raw ? (double)in->payload / (double)in->raw : 0.0;
}

static void
print_json(const struct pfs_head *h, const struct info *in)
{
	char d[64];
	unsigned i;

	printf("{\"name\":");
	json_str(h->name);
	printf(",\"size\":");
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
	       in->digests, in->skippable, in->bytes, ratio(in));
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
	printf("ratio:          %.4f\n", ratio(in));
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct pfs_err e;
	struct pfs_reader r;
	struct pfs_head h;
	struct pfs_hdr fh;
	struct pfs_buf pay = PFS_BUF_INIT;
	struct pfs_stats st;
	struct info in;
	const char *name;
	int fd, rc;

	pfs_setprog(argv[0]);
	parse(argc, argv, &o);
	pfs_stats_start(&st);
	fd = pfs_open_stream(o.input, &name, &e);
	if (fd < 0)
		pfs_die(PFS_EXIT_ERR, "%s", e.msg);
	memset(&in, 0, sizeof(in));
	pfs_reader_init(&r, fd, name);
	if (pfs_reader_start(&r, &h, &e) < 0)
		pfs_die(PFS_EXIT_ERR, "%s", e.msg);
	in.encrypted = pfs_enc_find(&h) >= 0;
	if (o.key.src != PFS_KS_NONE)
		verify(&o, name, &h, &in);
	while ((rc = pfs_reader_next(&r, &fh, &pay, &e)) == 1) {
		st.frames++;
		switch (fh.type) {
		case PFS_DATA:
			in.chunks++;
			in.raw += fh.raw;
			in.payload += fh.len;
			break;
		case PFS_DIGEST:
			in.digests++;
			break;
		case PFS_END:
			in.end_len = fh.len;
			break;
		default:
			in.skippable++;
		}
	}
	if (rc < 0)
		pfs_die(PFS_EXIT_ERR, "%s", e.msg);
	in.bytes = r.bytes_in;
	if (o.json)
		print_json(&h, &in);
	else
		print_text(&h, &in);
	if (fflush(stdout) != 0 || ferror(stdout))
		pfs_die(PFS_EXIT_ERR, "stdout: write error: %s",
		        strerror(errno ? errno : EIO));
	st.bytes_in = r.bytes_in;
	st.blocked_in_ns = r.blocked_ns;
	pfs_stats_print(&st, o.c.stats);
	pfs_reader_free(&r);
	pfs_buf_free(&pay);
	return PFS_EXIT_OK;
}
