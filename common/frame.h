/*
 * frame.h - the frame stream: signature, frame headers, validated reading
 * and writing.  This is the one contract between all programs; the byte
 * layout is specified in docs/format.md and must change only together with
 * PFS_VERSION.
 *
 * Invariants:
 *  - A stream is PFS_SIG_LEN signature bytes followed by frames.  Each frame
 *    is a PFS_HDR_LEN header followed by hdr.len payload bytes.
 *  - Wire integers are little-endian and encoded byte by byte; no struct is
 *    ever written as-is.
 *  - A header whose checksum does not match is never interpreted: no length
 *    from a damaged header is used to allocate or to skip.
 *  - struct pfs_reader validates order (one HEAD first, DATA seq 0,1,2...
 *    (a range stream: from its first chunk), every DATA but the last a
 *    whole chunk, DIGEST after a DATA of the same seq, one END with
 *    matching totals, then at most the INDEX frame, checked against the
 *    offsets the reader saw, and nothing after it) and payload bounds
 *    (declared by HEAD).
 *
 * Errors: functions return 0 on success and -1 on failure after filling the
 * caller's struct pfs_err with a one-line, lowercase message that names the
 * frame when there is one.  They never print and never exit.
 */
#ifndef PFS_FRAME_H
#define PFS_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"

#define PFS_VERSION     2u
#define PFS_SIG_LEN     8u
#define PFS_HDR_LEN     32u

/* Frame types.  0x80-0xff is the skippable range: every stage passes such
 * frames through untouched. */
enum pfs_type {
	PFS_HEAD   = 0x01,
	PFS_DATA   = 0x02,
	PFS_DIGEST = 0x03,
	PFS_END    = 0x04,
	PFS_INDEX  = 0x05,
	PFS_SKIPPABLE_MIN = 0x80
};

/* END flags: bit 0, the stream is a range stream (HEAD says which). */
#define PFS_EF_RANGE 0x1u

/* Limits (see docs/format.md, "Limits"). */
#define PFS_CHUNK_MIN        1024u                 /* 1 KiB */
#define PFS_CHUNK_MAX        (256u << 20)          /* 256 MiB */
#define PFS_PAYLOAD_MAX      (PFS_CHUNK_MAX + (PFS_CHUNK_MAX >> 4) + 65536u)
#define PFS_HEAD_MAX         65536u
#define PFS_DIGEST_MAX       1024u
#define PFS_END_MAX          4096u
#define PFS_SKIP_MAX         65536u
/* chunks an INDEX frame may map: beyond this a writer writes none (its
 * memory is 8 bytes per chunk, at most 128 MiB) */
#define PFS_INDEX_CHUNKS_MAX (1u << 24)
#define PFS_INDEX_TAIL       16u   /* XXH64, u32 length, "PFSI" */

/* A decoded frame header. */
struct pfs_hdr {
	uint8_t  type;
	uint8_t  flags;       /* END: PFS_EF_RANGE; otherwise 0 */
	uint32_t len;         /* payload length */
	uint64_t seq;         /* DATA/DIGEST: chunk index; END: chunk count */
	uint64_t raw;         /* DATA: raw chunk length; END: total raw bytes */
};

/* pfs_sig_write - the 8 signature bytes of the current version. */
void pfs_sig_write(uint8_t out[PFS_SIG_LEN]);

/* pfs_sig_check - 0 if sig is a version-PFS_VERSION signature, else -1 with
 * "not a frame stream (missing signature...)" with the fix (the stock tool
 * for a zstd, lz4 or gzip file, else pchunk) or "unsupported frame stream
 * version N (this program reads version 2)". */
int pfs_sig_check(const uint8_t sig[PFS_SIG_LEN], struct pfs_err *e);

/* pfs_hdr_encode - serialise h (with its checksum) into out. */
void pfs_hdr_encode(const struct pfs_hdr *h, uint8_t out[PFS_HDR_LEN]);

/* pfs_hdr_decode - parse and checksum-verify a header.  Returns 0, or -1
 * with "frame N: header checksum mismatch (damaged stream)" (N = ordinal
 * of the frame in the stream, counted by the caller) or "frame N: reserved
 * header bits set (newer format or damaged stream)". */
int pfs_hdr_decode(const uint8_t in[PFS_HDR_LEN], struct pfs_hdr *h,
                   uint64_t ordinal, struct pfs_err *e);

/* pfs_type_name - "HEAD", "DATA", ..., "skippable", or "unknown". */
const char *pfs_type_name(uint8_t type);

/*
 * The reader.  Owns an input buffer; payloads are read into caller-owned
 * struct pfs_buf so that the stage engine can read straight into its reused
 * slot buffers.
 *
 * Usage:
 *   pfs_reader_init(&r, fd, "stdin");
 *   pfs_reader_start(&r, &e)          -- signature + HEAD
 *   while ((rc = pfs_reader_next(&r, &hdr, &payload, &e)) == 1) ...;
 *   rc == 0: END was read and validated; rc == -1: error in e.
 *   pfs_reader_free(&r);
 */
struct pfs_head;

struct pfs_reader {
	int fd;
	const char *name;          /* for messages; not owned */
	uint8_t *ibuf;             /* read-ahead buffer */
	size_t ipos, ilen, icap;
	uint64_t ordinal;          /* frames read so far */
	uint64_t first_seq;        /* seq of the first DATA frame (ranges) */
	uint64_t next_seq;         /* next DATA seq expected */
	int range;                 /* HEAD says: a range stream */
	uint64_t last_raw;         /* raw length of the previous DATA frame */
	uint64_t start_cut;        /* range: rstart's offset in its chunk */
	int index_seen;            /* the INDEX frame after END was read */
	uint64_t want_last;        /* range: seq of the last chunk it needs */
	uint64_t want_raw;         /* range: bytes from rstart it must cover */
	void *ixh;                 /* XXH64 state of the DATA frame offsets */
	uint64_t end_pos;          /* offset of the END frame */
	uint64_t frame_pos;        /* offset of the last frame header read */
	/* extraction (pfs_reader_extract): stop after chunk stop_seq and
	 * return a made-up END frame instead of reading the real one */
	int extract;
	uint64_t stop_seq;
	uint64_t raw_total;        /* sum of DATA raw lengths */
	int last_data;             /* 1 if the previous frame was DATA */
	uint64_t last_data_seq;
	int done;                  /* END read */
	uint32_t data_cap;         /* max DATA payload, from HEAD */
	uint32_t chunk_size;       /* max DATA raw length, from HEAD */
	int raw_equal;             /* stack holds only HASH records */
	unsigned nstages;          /* HEAD's stage stack, for DIGEST checks */
	uint8_t kinds[16];
	uint32_t pending;          /* payload bytes of the current frame not
	                              yet read (pfs_reader_next_hdr) */
	uint64_t bytes_in;         /* bytes consumed, signature included */
	uint64_t bytes_spliced;    /* of those, moved by pfs_writer_splice */
	uint64_t blocked_ns;       /* time spent in read(2) */
	struct pfs_buf head_payload; /* raw HEAD payload as read */
};

void pfs_reader_init(struct pfs_reader *r, int fd, const char *name);

/* The index: the offsets of a stream's DATA frames in its file, read from
 * the INDEX frame at its end (docs/format.md, "Index"). */
struct pfs_index {
	uint64_t first;            /* chunk index of off[0] */
	uint64_t n;                /* chunks */
	uint64_t *off;             /* n + 1 offsets; off[n] is the END frame */
	uint64_t end_raw;          /* END's raw: the bytes of all chunks */
	uint64_t end_seq;          /* END's seq */
	uint8_t end_flags;
	uint64_t bytes_read;       /* by pfs_index_load, for --stats */
};

/* pfs_index_load - read the index of the stream file fd (size bytes) with
 * pread (the file offset does not move).  Returns 1 with *ix filled (free
 * it with pfs_index_free), 0 when the stream has no index, -1 with e set
 * when it has one that is damaged or does not fit the file. */
int pfs_index_load(int fd, uint64_t size, const char *name,
                   struct pfs_index *ix, struct pfs_err *e);
void pfs_index_free(struct pfs_index *ix);

/* pfs_reader_extract - after pfs_reader_start on a stream file whose
 * index is ix: continue at chunk `from` (an lseek) and end after chunk
 * `to` with a made-up END frame (flags PFS_EF_RANGE, payload empty) in
 * place of the stream's own.  The caller makes the HEAD a range stream
 * (pfs_head_set_range) and calls pfs_reader_range with it. */
int pfs_reader_extract(struct pfs_reader *r, const struct pfs_index *ix,
                       uint64_t from, uint64_t to, struct pfs_err *e);

/* pfs_reader_range - validate the rest of the stream as the range stream
 * that head describes (set by pfs_reader_start for a range HEAD). */
void pfs_reader_range(struct pfs_reader *r, const struct pfs_head *head);
void pfs_reader_free(struct pfs_reader *r);

/* pfs_reader_start - read and check the signature and the HEAD frame, parse
 * it into *head (which the caller then owns; see head.h).  Sets the payload
 * caps for the rest of the stream. */
int pfs_reader_start(struct pfs_reader *r, struct pfs_head *head,
                     struct pfs_err *e);

/* pfs_reader_next - read the next frame after HEAD.  The payload goes into
 * *payload (grown as needed, never beyond the caps).  Returns 1 for a frame,
 * 0 after END was read (END itself is returned once with 1 first: callers see
 * END as a frame and get 0 on the call after it, when the reader has also
 * checked the INDEX frame after END, if there is one, and that nothing
 * follows), -1 on error. */
int pfs_reader_next(struct pfs_reader *r, struct pfs_hdr *h,
                    struct pfs_buf *payload, struct pfs_err *e);

/* pfs_reader_next_hdr - pfs_reader_next() without the payload: the header
 * is read and validated, and its h->len payload bytes are then read with
 * pfs_reader_piece() (all of them, before the next call).  Lets a stage
 * pass a large payload through in cache-sized pieces. */
int pfs_reader_next_hdr(struct pfs_reader *r, struct pfs_hdr *h,
                        struct pfs_err *e);

/* pfs_reader_piece - the next n bytes of the current frame's payload into
 * p (n at most what is left of it); a short read is a truncated stream. */
int pfs_reader_piece(struct pfs_reader *r, void *p, size_t n,
                     struct pfs_err *e);

/* pfs_reader_set_cap - change the DATA payload cap (used by a stage that has
 * just popped or pushed a record and reads on). */
void pfs_reader_set_cap(struct pfs_reader *r, uint32_t cap);

/*
 * The writer: a buffered frame writer for sequential tools.  Small frames
 * are coalesced; large payloads go out with writev(2) together with the
 * pending bytes, never copied.
 */
struct pfs_writer {
	int fd;
	const char *name;
	uint8_t *obuf;
	size_t olen, ocap;
	uint64_t bytes_out;
	uint64_t blocked_ns;      /* time spent in write(2) */
	int pipe;                 /* fd is a pipe: payloads may be given */
	int released;             /* a DATA frame (or raw bytes) was queued */
	int spent;                /* set by the caller: no buffer will be
	                             filled again (no frame left to read or
	                             transform), so a buffer given away gets
	                             new pages that are not faulted in */
	int end_queued;           /* END was queued, at obuf + end_at */
	size_t end_at;
	/* The index of what is written, kept by following the frames in the
	 * bytes as they pass (whatever path wrote them) once the signature
	 * was written, and appended after END. */
	struct {
		int on;
		uint64_t pos;         /* stream offset of the next byte */
		uint8_t hb[PFS_HDR_LEN];
		size_t hlen;          /* header bytes gathered */
		uint64_t left;        /* payload bytes of the current frame */
		int in_end;           /* the current frame is END */
		int end_done;
		uint64_t *off;
		uint64_t n, cap, first;
		uint64_t end_seq, end_raw;
	} ix;
};

int  pfs_writer_init(struct pfs_writer *w, int fd, const char *name);
void pfs_writer_free(struct pfs_writer *w);
/* pfs_writer_sig - queue the signature. */
int pfs_writer_sig(struct pfs_writer *w, struct pfs_err *e);
/* pfs_writer_frame - queue a frame; h->len must equal len. */
int pfs_writer_frame(struct pfs_writer *w, const struct pfs_hdr *h,
                     const void *payload, size_t len, struct pfs_err *e);
/* pfs_writer_raw - queue raw bytes (pjoin's output). */
int pfs_writer_raw(struct pfs_writer *w, const void *p, size_t len,
                   struct pfs_err *e);

/* pfs_writer_frame_buf, pfs_writer_raw_buf - as pfs_writer_frame and
 * pfs_writer_raw, for a payload (or raw bytes) that lies in buffer b,
 * whose contents the caller gives up.  When the descriptor is a pipe, the
 * kernel offers transparent huge pages, PFS_NO_VMSPLICE is not set, b is
 * renewable (pfs_buf_renewable) and the bytes in b's whole 2 MiB pages
 * fill at least 5/8 of the pages b would then get anew
 * (pfs_buf_renew_span), those pages are given to the pipe with vmsplice(2)
 * instead of copied (the bytes after them, in b's 4 KiB tail, are copied),
 * and b gets new pages in their place (pfs_buf_renew), faulted in; b's
 * contents are then gone (len 0).
 * Safe because nothing of this process can write the given pages again:
 * they are no longer mapped, and the pipe (or whoever it passes them to)
 * holds the only reference (after a write error too).  Otherwise, for END,
 * or when the kernel refuses vmsplice (then for good), the bytes are
 * copied and b is left as it is.  A write to a pipe costs a page
 * allocation and a copy per 4 KiB; the new 2 MiB pages cost a zeroing
 * fault each (docs/performance.md, "A sixth run"). */
int pfs_writer_frame_buf(struct pfs_writer *w, const struct pfs_hdr *h,
                         struct pfs_buf *b, const void *payload, size_t len,
                         struct pfs_err *e);
int pfs_writer_raw_buf(struct pfs_writer *w, struct pfs_buf *b,
                       const void *p, size_t len, struct pfs_err *e);
/* pfs_writer_flush - write out everything queued; after END, the INDEX
 * too (END is held in the buffer until this call: frame.c). */
int pfs_writer_flush(struct pfs_writer *w, struct pfs_err *e);
/* pfs_writer_flush_released - after an error: write what is queued before
 * END (never END, never the INDEX), and nothing at all before the first
 * DATA frame: a HEAD alone is no chunk checked */
int pfs_writer_flush_released(struct pfs_writer *w, struct pfs_err *e);

/* pfs_writer_splice - move the next n payload bytes of r's current frame
 * (see pfs_reader_next_hdr) to w's descriptor without copying them through
 * user space: what r has buffered is written, the rest spliced (splice(2);
 * r's descriptor must be a pipe).  w is flushed first.  Returns 0; 1 when
 * splice(2) fails, with the bytes it did not move still pending in r: the
 * descriptors do not support it, or one side failed (a full disk), and the
 * caller copies the rest instead, so that an error is the reader's or the
 * writer's usual one, naming the input or the output ("OUT: write error:
 * No space left on device"); or -1 with e set (a closed downstream pipe
 * raises SIGPIPE, as every writer error does). */
int pfs_writer_splice(struct pfs_writer *w, struct pfs_reader *r, size_t n,
                      struct pfs_err *e);

/* pfs_writer_passed - n payload bytes went to w's descriptor by another
 * path (pchunk's splice): keeps the index in step.  Call after the bytes
 * were written (the index may be appended then). */
int pfs_writer_passed(struct pfs_writer *w, size_t n, struct pfs_err *e);

#endif
