/*
 * pchunk - cut a file or stdin into a frame stream of DATA chunks.
 */
#define _GNU_SOURCE            /* splice(2) */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "err.h"
#include "frame.h"
#include "head.h"
#include "io.h"
#include "parts.h"
#include "progress.h"
#include "stats.h"
#include "trace.h"
#include "util.h"

#include "pchunk/pchunk.h"

/* The automatic chunk size of a file of known size: 8 MiB, or for a smaller
 * file its exact size (at least the 1 KiB minimum), so that it is one chunk
 * and no stage reserves buffers or a window larger than the file
 * (docs/format.md "Chunk size"). */
static uint32_t
auto_chunk(uint64_t size)
{
	if (size >= DEFAULT_CHUNK)
		return DEFAULT_CHUNK;
	return size < PFS_CHUNK_MIN ? PFS_CHUNK_MIN : (uint32_t)size;
}

/* pseudo_file - a file of procfs or sysfs (and their kin): its size is 0
 * or a page whatever it holds, and its contents change as it is read, so
 * it is read to the end as a stream of unknown size. */
static int
pseudo_file(int fd)
{
	static const unsigned long magic[] = {
		0x9fa0,            /* proc */
		0x62656572,        /* sysfs */
		0x64626720,        /* debugfs */
		0x74726163,        /* tracefs */
		0x73636673,        /* securityfs */
		0x63677270,        /* cgroup2 */
		0x27e0eb,          /* cgroup */
	};
	struct statfs fs;
	size_t i;

	if (fstatfs(fd, &fs) < 0)
		return 0;
	for (i = 0; i < sizeof(magic) / sizeof(magic[0]); i++)
		if ((unsigned long)fs.f_type == magic[i])
			return 1;
	return 0;
}

/* Move n bytes from the file to the pipe on stdout with splice(2): the
 * pages go from the page cache to the pipe without a copy through user
 * space.  Returns the bytes moved (fewer than n at end of file), or -1 with
 * errno (EINVAL: this file system or fd cannot splice; then nothing was
 * moved). */
static ssize_t
splice_payload(int fd, size_t n, struct pfs_writer *w)
{
	uint64_t t0 = pfs_now_ns();
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = splice(fd, NULL, 1, NULL, n - done, SPLICE_F_MOVE);
		if (r < 0) {
			if (errno == EINTR && !pfs_interrupted)
				continue;
			if (errno == EPIPE) {
				/* closed downstream, SIGPIPE ignored: end
				 * quietly all the same, as cat does */
				signal(SIGPIPE, SIG_DFL);
				raise(SIGPIPE);
			}
			pfs_blocked_add(&w->blocked_ns, t0, 1);
			return -1;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	pfs_blocked_add(&w->blocked_ns, t0, 1);
	w->bytes_out += done;
	return (ssize_t)done;
}

/* splice_failed - splice(2) says what failed, not on which side: a byte
 * read where it stopped tells a read error of the file (EIO from the disk)
 * from a write error of stdout */
static int
splice_failed(int fd, const char *name, struct pfs_err *e)
{
	int err = errno;
	off_t at = lseek(fd, 0, SEEK_CUR);
	char c;

	if (at >= 0 && pread(fd, &c, 1, at) < 0)
		return pfs_seterr(e, "%s: read error: %s", name,
		                  strerror(errno));
	return pfs_seterr(e, "stdout: write error: %s", strerror(err));
}

/* One DATA chunk of a regular file of known size, spliced.  Returns the
 * bytes moved, or -1 with e set.  The header promises want bytes; when the
 * file turns out shorter the caller reports it and writes no END. */
static ssize_t
splice_chunk(int fd, const char *name, struct pfs_hdr *fh, size_t want,
             struct pfs_writer *w, struct pfs_buf *data,
             uint64_t *blocked_in, struct pfs_err *e)
{
	ssize_t n;

	if (pfs_writer_frame(w, fh, NULL, 0, e) < 0 ||
	    pfs_writer_flush(w, e) < 0)
		return -1;
	n = splice_payload(fd, want, w);
	if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
		/* no splice here: the same bytes through a buffer */
		if (pfs_buf_reserve(data, want) < 0)
			return pfs_seterr(e, "out of memory");
		n = pfs_read_full(fd, data->p, want, blocked_in);
		if (n < 0)
			return pfs_seterr(e, "%s: read error: %s", name,
			                  strerror(errno));
		if (pfs_writer_raw(w, data->p, (size_t)n, e) < 0)
			return -1;
		return n;
	}
	if (n < 0)
		return splice_failed(fd, name, e);
	if (pfs_writer_passed(w, (size_t)n, e) < 0)
		return -1;
	return n;
}

/* next_len - the length of the next chunk, total bytes into the stream of
 * at most left bytes: up to the next multiple of the chunk size in the
 * file, so that a range stream's chunks are the whole file's */
static size_t
next_len(const struct pfs_head *h, uint64_t total, uint64_t left)
{
	uint64_t cs = h->chunk_size, at = h->rstart + total;
	uint64_t n = cs - at % cs;

	return (size_t)(left - total < n ? left - total : n);
}

/* set_range - --range or --part I/N: the HEAD of a range stream of the
 * file, which is then read from the range's first byte on.  *left: the
 * bytes to read. */
static int
set_range(const struct opts *o, int fd, const char *name, struct pfs_head *h,
          uint64_t *left, struct pfs_err *e)
{
	uint64_t off = o->c.range_off, len = o->c.range_len;
	const char *opt = o->part ? "--part" : "--range";

	if (!(h->flags & PFS_HF_SIZE))
		return pfs_seterr(e, "%s: %s needs a file of known size, "
		                  "not a pipe or a device", name, opt);
	if (o->part && pfs_part_bytes(h->size, h->chunk_size, o->part,
	                              o->nparts, &off, &len, e) < 0) {
		pfs_prefix(e, name);
		return -1;
	}
	if (off >= h->size)
		return pfs_seterr(e, "%s: --range starts at byte %" PRIu64
		                  ", past the end of the file (%" PRIu64
		                  " bytes)", name, off, h->size);
	if (len > h->size - off)
		len = h->size - off;
	if (pfs_head_set_range(h, off, off, len, e) < 0)
		return -1;
	if (lseek(fd, (off_t)off, SEEK_SET) < 0)
		return pfs_seterr(e, "%s: cannot seek: %s", name,
		                  strerror(errno));
	*left = len;
	return 0;
}

/* stdin_part - --part I --block B --source S: standard input holds the
 * bytes of part I, B bytes from (I-1) B (the last part fewer), of the
 * source S; h gets S's identity, as pchunk FILE would record it, and the
 * range.  *left: the bytes standard input must hold, no more, no less. */
static int
stdin_part(const struct opts *o, struct pfs_head *h, uint64_t *left,
           struct pfs_err *e)
{
	uint64_t off, n;

	(void)pfs_parse_source(o->source, h, e);     /* checked in main */
	if (o->part - 1 > UINT64_MAX / o->block)
		return pfs_seterr(e, "stdin: part %" PRIu64 " of --block %"
		                  PRIu64 " is past any file", o->part, o->block);
	off = (o->part - 1) * o->block;
	n = h->size / o->block + (h->size % o->block != 0);
	if (o->nparts && o->nparts != n)
		return pfs_seterr(e, "stdin: --part %" PRIu64 "/%" PRIu64
		                  ": a %" PRIu64 "-byte source at --block %"
		                  PRIu64 " has %" PRIu64 " parts", o->part,
		                  o->nparts, h->size, o->block, n);
	if (off >= h->size)
		return pfs_seterr(e, "stdin: part %" PRIu64 " at --block %"
		                  PRIu64 " starts at byte %" PRIu64 ", past "
		                  "the end of the source (%" PRIu64 " bytes)",
		                  o->part, o->block, off, h->size);
	*left = h->size - off < o->block ? h->size - off : o->block;
	return pfs_head_set_range(h, off, off, *left, e);
}

/* trace_chunk - the trace span of chunk seq (n bytes), read and written
 * since t0; the output rate from out, the bytes written so far */
static void
trace_chunk(const struct pfs_trace_mark *t0, uint64_t seq, uint64_t n,
            uint64_t out)
{
	pfs_trace_span("chunk", t0, seq, n, n + PFS_HDR_LEN);
	pfs_trace_rate(1, pfs_now_ns(), out);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct pfs_err e;
	struct pfs_head h;
	struct pfs_buf hb = PFS_BUF_INIT, data = PFS_BUF_INIT;
	struct pfs_writer w;
	struct pfs_hdr fh;
	struct pfs_stats st;
	struct pfs_progress pr;
	struct stat sb;
	const char *name;
	uint64_t seq = 0, total = 0, blocked_in = 0, left = UINT64_MAX;
	struct pfs_trace_mark t0 = { 0, 0 };
	uint32_t cs;
	struct stat ob;
	int fd, known, use_splice, ranged;
	ssize_t n;

	pfs_setprog(argv[0]);
	parse(argc, argv, &o);
	pfs_common_trace(&o.c);
	pfs_stats_start(&st);
	if (pfs_trace_on)
		pfs_trace_thread("main", 0);
	if (pfs_refuse_tty(1, o.force, &e) < 0)
		pfs_die(PFS_EXIT_ERR, "%s", e.msg);
	fd = pfs_open_input(o.input, &name, &e);
	if (fd < 0)
		pfs_die(PFS_EXIT_ERR, "%s", e.msg);
	if (pfs_refuse_same(fd, 1, name, &e) < 0)
		pfs_die(PFS_EXIT_ERR, "%s", e.msg);
	if (fstat(fd, &sb) < 0)
		pfs_die(PFS_EXIT_ERR, "%s: %s", name, strerror(errno));
	known = S_ISREG(sb.st_mode) && !pseudo_file(fd) && !o.source;
	cs = o.chunk ? (uint32_t)o.chunk :
	     known ? auto_chunk((uint64_t)sb.st_size) : DEFAULT_CHUNK;
	if (o.source) {
		/* a part on stdin: the chunk size pchunk FILE would pick */
		pfs_head_init(&h, PFS_CHUNK_MIN);
		if (pfs_parse_source(o.source, &h, &e) < 0)
			pfs_usage_error("--source: %s", e.msg);
		if (!o.chunk)
			cs = auto_chunk(h.size);
		if (o.block % cs)
			pfs_usage_error("--block %" PRIu64 " is not a multiple "
			                "of the chunk size (%" PRIu32 "): parts "
			                "must hold whole chunks", o.block, cs);
	}

	pfs_progress_init(&pr, o.progress, known ? (uint64_t)sb.st_size : 0,
	                  name);
	pfs_head_init(&h, cs);
	if (o.input && strcmp(o.input, "-") != 0)
		(void)pfs_head_set_name(&h, o.input);
	if (known) {
		h.flags = PFS_HF_SIZE | PFS_HF_META;
		h.size = (uint64_t)sb.st_size;
		h.mode = sb.st_mode & 07777;
		h.mtime_sec = sb.st_mtim.tv_sec;
		h.mtime_nsec = (uint32_t)sb.st_mtim.tv_nsec;
	}
	ranged = o.c.range || o.part;
	if (ranged) {
		if ((o.source ? stdin_part(&o, &h, &left, &e) :
		     set_range(&o, fd, name, &h, &left, &e)) < 0)
			pfs_die(PFS_EXIT_ERR, "%s", e.msg);
		seq = pfs_head_first_chunk(&h);
	} else if (known) {
		left = h.size;
	}
	use_splice = known && fstat(1, &ob) == 0 && S_ISFIFO(ob.st_mode);
	if (pfs_writer_init(&w, 1, "stdout") < 0 ||
	    pfs_buf_reserve(&data, use_splice ? 1 : cs) < 0)
		pfs_die(PFS_EXIT_ERR, "out of memory");
	pfs_pipe_grow(1);
	pfs_pipe_grow(fd);
	memset(&fh, 0, sizeof(fh));
	fh.type = PFS_HEAD;
	if (pfs_head_encode(&h, &hb, &e) < 0)
		pfs_die(PFS_EXIT_ERR, "%s", e.msg);
	fh.len = (uint32_t)hb.len;
	if (pfs_writer_sig(&w, &e) < 0 ||
	    pfs_writer_frame(&w, &fh, hb.p, hb.len, &e) < 0)
		goto fail;
	while (use_splice && total < left) {
		size_t want = next_len(&h, total, left);
		fh.type = PFS_DATA;
		fh.len = (uint32_t)want;
		fh.seq = seq++;
		fh.raw = want;
		if (pfs_trace_on)
			pfs_trace_mark(&t0);
		n = splice_chunk(fd, name, &fh, want, &w, &data, &blocked_in, &e);
		if (n < 0)
			goto fail;
		if (pfs_trace_on)
			trace_chunk(&t0, fh.seq, (uint64_t)n, w.bytes_out);
		total += (uint64_t)n;
		pfs_progress_update(&pr, total);
		if ((size_t)n < want)
			break;          /* shrank: reported below */
	}
	if (known && !ranged && total == h.size) {
		/* anything past the size seen at the start means it grew */
		char probe;
		n = pfs_read_full(fd, &probe, 1, &blocked_in);
		if (n > 0)
			total++;
	}
	for (; !use_splice && total < left;) {
		size_t want = next_len(&h, total, left);
		if (pfs_trace_on)
			pfs_trace_mark(&t0);
		/* a no-op, but after a chunk given to a pipe whose buffer
		 * could not get new pages (frame.h, out of memory) */
		if (pfs_buf_reserve(&data, cs) < 0) {
			pfs_seterr(&e, "out of memory");
			goto fail;
		}
		n = pfs_read_full(fd, data.p, want, &blocked_in);
		if (n < 0) {
			pfs_seterr(&e, "%s: read error: %s", name, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		fh.type = PFS_DATA;
		fh.len = (uint32_t)n;
		fh.seq = seq++;
		fh.raw = (uint64_t)n;
		if (pfs_writer_frame_buf(&w, &fh, &data, data.p, (size_t)n,
		                         &e) < 0)
			goto fail;
		if (pfs_trace_on)
			trace_chunk(&t0, fh.seq, (uint64_t)n, w.bytes_out);
		total += (uint64_t)n;
		pfs_progress_update(&pr, total);
		if ((size_t)n < want)
			break;
	}
	if (o.source && total == left) {
		/* a part on stdin holds its bytes and no more */
		char probe;
		n = pfs_read_full(fd, &probe, 1, &blocked_in);
		if (n > 0)
			total++;
	}
	if (o.source && total != left) {
		pfs_seterr(&e, "stdin: %s bytes than part %" PRIu64 " of %"
		           PRIu64 " bytes (--block %" PRIu64 " of a %" PRIu64
		           "-byte source)", total < left ? "fewer" : "more",
		           o.part, left, o.block, h.size);
		goto fail;
	}
	if (known && total != (ranged ? left : h.size)) {
		pfs_seterr(&e, "%s: file %s while being read (%" PRIu64
		           " bytes expected, %" PRIu64 " read)", name,
		           total < left ? "shrank" : "grew",
		           ranged ? left : h.size, total);
		goto fail;
	}
	fh.type = PFS_END;
	fh.flags = ranged ? PFS_EF_RANGE : 0;
	fh.len = 0;
	fh.seq = seq - pfs_head_first_chunk(&h);
	fh.raw = total;
	if (pfs_writer_frame(&w, &fh, NULL, 0, &e) < 0 ||
	    pfs_writer_flush(&w, &e) < 0)
		goto fail;
	pfs_progress_end(&pr, total);
	st.frames = seq + 2;
	st.bytes_in = total;
	st.bytes_out = w.bytes_out;
	st.blocked_in_ns = blocked_in;
	st.blocked_out_ns = w.blocked_ns;
	pfs_stats_print(&st, o.c.stats);
	pfs_writer_free(&w);
	pfs_buf_free(&hb);
	pfs_buf_free(&data);
	if (fd != 0)
		close(fd);
	return PFS_EXIT_OK;
fail:
	/* no END frame is written: every reader sees a truncated stream */
	pfs_progress_end(&pr, total);
	pfs_die(PFS_EXIT_ERR, "%s", e.msg);
}
