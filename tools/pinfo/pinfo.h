/*
 * pinfo.h - the parts of pinfo(1), private to it: tools/pinfo.c (the
 * options, the key check, reading a stream to its END, main) and
 * tools/pinfo/:
 *   print.c  the output: one stream as text or JSON, the --chunks list,
 *            several streams as a table after zstd -l's
 *
 * struct opts is filled once by parse(); read_stream() fills a
 * struct info per stream, and with several streams (no --json, no
 * --chunks) main keeps a struct row per stream for print_table().
 */
#ifndef PINFO_H
#define PINFO_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "frame.h"
#include "head.h"
#include "secret.h"

struct opts {
	int json;
	int chunks;                /* --chunks: list every chunk */
	struct pfs_keyopt key;     /* PFS_KS_NONE: no key, nothing verified */
	const char *ids[PFS_IDS_MAX];  /* -i: identity files */
	unsigned nids;
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

/* print.c: stages - the stack of h, bottom first, as "zstd -3,
 * aes-256-gcm, xxh3", or "none", into out[n] (truncated if it does not
 * fit) */
void stages(const struct pfs_head *h, char *out, size_t n);

/* print.c: one stream read to its END on stdout: print_json - as one
 * JSON object on a line; print_text - as "field: value" lines, the
 * source of an encrypted stream marked unverified without a key */
void print_json(const struct pfs_head *h, const struct info *in);
void print_text(const struct pfs_head *h, const struct info *in);

/* print.c: print_table - rows[0..n) as a table on stdout, with a totals
 * line when n >= 2; nothing when n is 0 */
void print_table(const struct row *rows, size_t n);

/* print.c: list_chunk - --chunks: the DATA frame fh at stream offset off
 * as a line of the table (o->json: a JSON object) on stdout */
void list_chunk(const struct opts *o, const struct info *in,
                const struct pfs_hdr *fh, uint64_t off);

#endif
