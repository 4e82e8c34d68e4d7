/*
 * head.h - the HEAD frame: source metadata and the stage stack.
 *
 * Invariants:
 *  - struct pfs_head is a plain value: no pointers, copy it freely.
 *  - Encoding is canonical: pfs_head_decode() accepts exactly the bytes that
 *    pfs_head_encode() produces for the decoded value (reserved bits zero, no
 *    trailing bytes), so that "T -d" after "T" restores HEAD byte for byte.
 *  - The stage stack grows at the end.  A transform pushes its record; its
 *    inverse checks the top record and pops it.  Every record carries the
 *    DATA payload cap in force while it is on top, so a reader always knows
 *    the largest payload it may be asked to accept.
 *  - Every record's params start with one byte, the algorithm id from
 *    stages.h, so that messages can name it without knowing the tool.
 */
#ifndef PFS_HEAD_H
#define PFS_HEAD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define PFS_NAME_MAX          255u
#define PFS_STAGES_MAX        16u
#define PFS_STAGE_PARAMS_MAX  4096u

/* head flags */
#define PFS_HF_SIZE   0x1u   /* size is known */
#define PFS_HF_META   0x2u   /* mode and mtime are known */
#define PFS_HF_RANGE  0x4u   /* a range stream: rstart, rfirst, rlen */
#define PFS_HF_ALL    0x7u

enum pfs_stage_kind {
	PFS_STAGE_COMPRESS = 1,
	PFS_STAGE_ENCRYPT  = 2,
	PFS_STAGE_HASH     = 3
};

struct pfs_stage {
	uint8_t  kind;
	uint32_t cap;        /* DATA payload cap while this record is on top */
	uint16_t len;        /* params length, 1..PFS_STAGE_PARAMS_MAX */
	uint8_t  params[PFS_STAGE_PARAMS_MAX];
};

struct pfs_head {
	uint32_t chunk_size;         /* max raw chunk length */
	uint32_t flags;              /* PFS_HF_* */
	uint64_t size;               /* source size, if PFS_HF_SIZE */
	uint32_t mode;               /* st_mode permission bits, if PFS_HF_META */
	int64_t  mtime_sec;          /* if PFS_HF_META */
	uint32_t mtime_nsec;
	uint16_t namelen;            /* 0: no name */
	char     name[PFS_NAME_MAX + 1];   /* NUL-terminated, no '/' */
	/* PFS_HF_RANGE: the stream holds chunks rstart / chunk_size onwards;
	 * its first DATA frame starts at source byte rstart, and the bytes it
	 * stands for are rlen bytes from rfirst (rstart <= rfirst, both in
	 * the same chunk).  See docs/format.md, "Range streams". */
	uint64_t rstart, rfirst, rlen;
	/* not encoded: 1 when the range was cut out of a whole stream after
	 * its ENCRYPT record was made (by the engine's --range here, or
	 * found by pfs_enc_unlock), so that record's MAC covers the HEAD
	 * without the range fields */
	int      range_cut;
	unsigned nstages;
	struct pfs_stage stages[PFS_STAGES_MAX];
};

/* pfs_head_init - an empty head for chunk size cs (no name, no stages). */
void pfs_head_init(struct pfs_head *h, uint32_t cs);

/* pfs_head_set_name - store the last path component of path (the part after
 * the last '/'), truncated at PFS_NAME_MAX bytes.  Returns 0 or -1 when the
 * name is empty or "." or "..". */
int pfs_head_set_name(struct pfs_head *h, const char *path);

/* pfs_head_encode - serialise into b (replacing its contents). */
int pfs_head_encode(const struct pfs_head *h, struct pfs_buf *b,
                    struct pfs_err *e);

/* pfs_head_decode - parse and validate a HEAD payload. */
int pfs_head_decode(const uint8_t *p, size_t len, struct pfs_head *h,
                    struct pfs_err *e);

/* pfs_head_set_range - make h a range stream of the source bytes
 * [first, first + len), its chunks from start on (start <= first, in the
 * chunk of first).  -1 with e set when the range is empty, overflows or
 * lies past a known size. */
int pfs_head_set_range(struct pfs_head *h, uint64_t start, uint64_t first,
                       uint64_t len, struct pfs_err *e);

/* pfs_head_unrange - h as the HEAD of the whole source: without its range
 * fields (and range_cut) */
void pfs_head_unrange(struct pfs_head *h);

/* pfs_head_same - 1 when a and b are the HEAD of the same source and
 * stages, their range fields apart (they encode to the same bytes once
 * those are taken away), 0 when not, -1 with e set. */
int pfs_head_same(const struct pfs_head *a, const struct pfs_head *b,
                  struct pfs_err *e);

/* pfs_head_first_chunk - index of the first chunk: rstart / chunk_size for
 * a range stream, else 0. */
uint64_t pfs_head_first_chunk(const struct pfs_head *h);

/* pfs_head_cap - DATA payload cap in force: the top record's cap, or the
 * chunk size when the stack is empty. */
uint32_t pfs_head_cap(const struct pfs_head *h);

/* pfs_head_cap_below - the cap that was in force before the top record was
 * pushed (and is again once it is popped): the cap of the record below the
 * top, or the chunk size when the top is the only record or the stack is
 * empty.  Lets a reader check the top record's cap without popping it. */
uint32_t pfs_head_cap_below(const struct pfs_head *h);

/* pfs_head_top - the top record, or NULL for an empty stack. */
const struct pfs_stage *pfs_head_top(const struct pfs_head *h);

/* pfs_head_push - append a record.  -1 if the stack is full or the params
 * are empty or too long. */
int pfs_head_push(struct pfs_head *h, uint8_t kind, const void *params,
                  size_t len, uint32_t cap, struct pfs_err *e);

/* pfs_head_pop - remove the top record (the stack must not be empty). */
void pfs_head_pop(struct pfs_head *h);

/* pfs_head_only_hashes - 1 if every record on the stack is a HASH record
 * (the payloads are then the raw bytes). */
int pfs_head_only_hashes(const struct pfs_head *h);

/* pfs_head_size_check - at END (raw: its total of raw bytes): -1 with
 * "HEAD says the source has N bytes but the stream holds M" when h
 * records the size of a whole source and it is not raw; else 0.  pjoin
 * and phash --check both refuse such a stream. */
int pfs_head_size_check(const struct pfs_head *h, uint64_t raw,
                        struct pfs_err *e);

/* pfs_stage_describe - "zstd -3", "aes-256-gcm/argon2id", "sha256": a short
 * description of a record, from stages.h's tables and codec.h's. */
void pfs_stage_describe(const struct pfs_stage *s, char *out, size_t n);

/* pfs_stage_still - the message, into out[n], for a stream whose top
 * record s is a transform the caller cannot read through:
 *   "stream is still compressed (zstd -3): run 'pcompress -d' first"
 * The caller puts the object in front ("pjoin: f.pfs: ..."). */
void pfs_stage_still(const struct pfs_stage *s, char *out, size_t n);

#endif
