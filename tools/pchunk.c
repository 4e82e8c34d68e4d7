/*
 * pchunk - cut a file or stdin into a frame stream of DATA chunks.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "frame.h"
#include "head.h"
#include "io.h"
#include "progress.h"
#include "stats.h"
#include "util.h"

#define DEFAULT_STDIN_CHUNK  (1u << 20)
#define AUTO_MIN             (64u << 10)
#define AUTO_MAX             (1u << 20)

struct opts {
	uint64_t chunk;          /* 0: automatic */
	int force;
	int progress;
	const char *input;
	struct pfs_common c;
};

static _Noreturn void
usage(void)
{
	printf("Usage: %s [OPTION]... [FILE|-]\n"
	       "Cut FILE (or standard input) into chunks and write a frame stream.\n"
	       "\n"
	       "  -s, --size SIZE   chunk size, 1K..256M (K, M, G suffixes); default:\n"
	       "                    input size / 16 rounded up to a power of two, within\n"
	       "                    64K..1M, or 1M when the size is not known\n"
	       "  -f, --force       write the stream even to a terminal\n"
	       "      --progress    show progress on stderr (when it is a terminal)\n"
	       "  -q, --quiet       no warnings\n"
	       "      --stats[=json] print statistics to stderr at exit (also PFS_STATS=1)\n"
	       "  -h, --help        show this help\n"
	       "  -V, --version     show the version\n"
	       "\n"
	       "Exit status: 0 success, 1 error, 2 bad usage.\n"
	       "Example: pchunk big.bin | pcompress --zstd | pjoin --payload > big.zst\n",
	       pfs_prog);
	exit(fflush(stdout) == 0 ? 0 : 1);
}

/* The automatic chunk size: size/16 rounded up to a power of two, clamped
 * to 64 KiB..1 MiB (docs/format.md "Chunk size"). */
static uint32_t
auto_chunk(uint64_t size)
{
	uint64_t want = size / 16, cs = AUTO_MIN;

	while (cs < want && cs < AUTO_MAX)
		cs <<= 1;
	return (uint32_t)cs;
}

static void
parse(int argc, char **argv, struct opts *o)
{
	enum { OPT_PROGRESS = PFS_OPT_TOOL_BASE };
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "force", no_argument, NULL, 'f' },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		PFS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct pfs_err e;
	int c;

	memset(o, 0, sizeof(*o));
	pfs_common_init(&o->c);
	while ((c = getopt_long(argc, argv, "s:fqhV", longopts, NULL)) != -1) {
		if (pfs_common_opt(&o->c, c, optarg))
			continue;
		switch (c) {
		case 's':
			if (pfs_parse_size(optarg, PFS_CHUNK_MIN, PFS_CHUNK_MAX,
			                   &o->chunk, &e) < 0)
				pfs_usage_error("-s: %s", e.msg);
			break;
		case 'f':
			o->force = 1;
			break;
		case OPT_PROGRESS:
			o->progress = 1;
			break;
		case 'h':
			usage();
		default:
			pfs_usage_try();
		}
	}
	if (argc - optind > 1)
		pfs_usage_error("too many arguments (one input at most)");
	o->input = optind < argc ? argv[optind] : NULL;
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
	uint64_t seq = 0, total = 0, blocked_in = 0;
	uint32_t cs;
	int fd, known;
	ssize_t n;

	pfs_setprog(argv[0]);
	parse(argc, argv, &o);
	pfs_stats_start(&st);
	if (pfs_refuse_tty(1, o.force, &e) < 0)
		pfs_die(PFS_EXIT_ERR, "%s", e.msg);
	fd = pfs_open_input(o.input, &name, &e);
	if (fd < 0)
		pfs_die(PFS_EXIT_ERR, "%s", e.msg);
	if (pfs_refuse_same(fd, 1, name, &e) < 0)
		pfs_die(PFS_EXIT_ERR, "%s", e.msg);
	if (fstat(fd, &sb) < 0)
		pfs_die(PFS_EXIT_ERR, "%s: %s", name, strerror(errno));
	known = S_ISREG(sb.st_mode);
	cs = o.chunk ? (uint32_t)o.chunk :
	     known ? auto_chunk((uint64_t)sb.st_size) : DEFAULT_STDIN_CHUNK;

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
	if (pfs_writer_init(&w, 1, "stdout") < 0 ||
	    pfs_buf_reserve(&data, cs) < 0)
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
	for (;;) {
		n = pfs_read_full(fd, data.p, cs, &blocked_in);
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
		if (pfs_writer_frame(&w, &fh, data.p, (size_t)n, &e) < 0)
			goto fail;
		total += (uint64_t)n;
		pfs_progress_update(&pr, total);
		if ((size_t)n < cs)
			break;
	}
	if (known && total != h.size) {
		pfs_seterr(&e, "%s: file %s while being read (%" PRIu64
		           " bytes expected, %" PRIu64 " read)", name,
		           total < h.size ? "shrank" : "grew", h.size, total);
		goto fail;
	}
	fh.type = PFS_END;
	fh.len = 0;
	fh.seq = seq;
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
