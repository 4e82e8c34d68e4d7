/*
 * harness.c - shared code of the fuzz targets: running a tool's main() on
 * an input, checksum fixup, output checks.  See fuzz.h.
 *
 * Built without -Dmain, as common/ is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <xxhash.h>

#include "frame.h"
#include "head.h"
#include "fuzz.h"

/* present when a sanitizer runtime is linked (weak: the gcc replay build
 * may have none) */
extern void __sanitizer_set_report_fd(void *fd) __attribute__((weak));
extern void __sanitizer_report_error_summary(const char *s)
	__attribute__((weak));

static int inited;
static volatile int in_tool;             /* inside a tool's main() */
static int in_fd = -1, out_fd = -1, devnull = -1;
static int saved0 = -1, saved1 = -1, saved2 = -1;
static int quiet_stderr;                 /* redirect fd 2 during calls */
static int verbose;                      /* PFS_FUZZ_STDERR set */
static int report_fd = 2;
static uint8_t *inbuf, *outbuf;
static size_t incap, outcap;

#define OUT_CAP ((off_t)64 << 20)   /* bytes of tool output kept */

static int
xdup(int fd)
{
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 10);

	if (d < 0) {
		perror("fuzz harness: dup");
		abort();
	}
	return d;
}

static int
is_devnull(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	       major(st.st_rdev) == 1 && minor(st.st_rdev) == 3;
}

/* at exit: a tool that exits instead of returning from main is a
 * finding (libFuzzer reports it too, as "fuzz target exited"; the replay
 * build has only this) */
static void
exit_in_tool(void)
{
	if (in_tool)
		pfs_fuzz_fail("the tool called exit() instead of returning "
		              "from main");
}

static void
init(void)
{
	const char *v;

	if (inited)
		return;
	inited = 1;
	if (atexit(exit_in_tool) != 0)
		abort();
	in_fd = memfd_create("pfs-fuzz-in", MFD_CLOEXEC);
	out_fd = memfd_create("pfs-fuzz-out", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (in_fd < 0 || out_fd < 0 || devnull < 0) {
		perror("fuzz harness: memfd_create or /dev/null");
		abort();
	}
	/* The output sink has a fixed size: a write past OUT_CAP fails
	 * (EPERM), so a decompression bomb ends in a write error instead of
	 * filling memory.  The bytes written are those before the offset. */
	if (ftruncate(out_fd, OUT_CAP) < 0 ||
	    fcntl(out_fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK) < 0) {
		perror("fuzz harness: output memfd");
		abort();
	}
	saved0 = xdup(0);
	saved1 = xdup(1);
	saved2 = xdup(2);
	v = getenv("PFS_FUZZ_STDERR");
	verbose = v && *v && strcmp(v, "0") != 0;
	quiet_stderr = !verbose;
	/* Under libFuzzer -close_fd_mask=2, fd 2 is /dev/null already and
	 * libFuzzer has pointed the sanitizer reports at its own copy of
	 * stderr: leave both alone.  Otherwise keep the reports on a copy of
	 * the real stderr while fd 2 is silenced. */
	if (is_devnull(2)) {
		quiet_stderr = 0;
	} else if (quiet_stderr) {
		report_fd = saved2;
		if (__sanitizer_set_report_fd)
			__sanitizer_set_report_fd((void *)(intptr_t)saved2);
	}
}

void
pfs_fuzz_fail(const char *msg)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "fuzz invariant violated: %s\n",
	                 msg);

	/* under -close_fd_mask=2 only the sanitizer's own output survives */
	if (__sanitizer_report_error_summary && is_devnull(2))
		__sanitizer_report_error_summary(line);
	else if (n > 0)
		(void)!write(report_fd, line, (size_t)n);
	__builtin_trap();
}

void
pfs_fuzz_fixup(uint8_t *d, size_t n)
{
	size_t off = PFS_SIG_LEN;
	uint32_t len, chk;
	uint8_t *h;

	while (n >= PFS_HDR_LEN && off <= n - PFS_HDR_LEN) {
		h = d + off;
		chk = (uint32_t)h[28] | (uint32_t)h[29] << 8 |
		      (uint32_t)h[30] << 16 | (uint32_t)h[31] << 24;
		if (chk != 0) {
			chk = XXH32(h, 28, 0);
			h[28] = (uint8_t)chk;
			h[29] = (uint8_t)(chk >> 8);
			h[30] = (uint8_t)(chk >> 16);
			h[31] = (uint8_t)(chk >> 24);
		}
		len = (uint32_t)h[4] | (uint32_t)h[5] << 8 |
		      (uint32_t)h[6] << 16 | (uint32_t)h[7] << 24;
		off += PFS_HDR_LEN;
		if (len > n - off)
			break;
		off += len;
	}
}

static void
dump(const uint8_t *p, size_t n)
{
	const char *path = getenv("PFS_FUZZ_DUMP");
	FILE *f;

	if (!path || !*path)
		return;
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0)
		fprintf(stderr, "fuzz harness: cannot write %s\n", path);
}

uint8_t *
pfs_fuzz_input(const uint8_t *data, size_t size)
{
	init();
	if (size + 1 > incap) {
		free(inbuf);
		incap = size + 1;
		inbuf = malloc(incap);
		if (!inbuf)
			abort();
	}
	if (size)
		memcpy(inbuf, data, size);
	pfs_fuzz_fixup(inbuf, size);
	dump(inbuf, size);
	return inbuf;
}

static void
write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			perror("fuzz harness: write to memfd");
			abort();
		}
		p += w;
		n -= (size_t)w;
	}
}

static void
memfd_reset(int fd)
{
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		perror("fuzz harness: memfd reset");
		abort();
	}
}

int
pfs_fuzz_memfd(const uint8_t *p, size_t n)
{
	init();
	memfd_reset(in_fd);
	write_all(in_fd, p, n);
	if (lseek(in_fd, 0, SEEK_SET) < 0)
		abort();
	return in_fd;
}

static void
read_output(size_t *outlen)
{
	off_t end = lseek(out_fd, 0, SEEK_CUR);
	size_t n, got = 0;
	ssize_t r;

	if (end < 0 || end > OUT_CAP)
		abort();
	n = (size_t)end;
	if (n + 1 > outcap) {
		free(outbuf);
		outcap = n + 1;
		outbuf = malloc(outcap);
		if (!outbuf)
			abort();
	}
	while (got < n) {
		r = pread(out_fd, outbuf + got, n - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			abort();
		got += (size_t)r;
	}
	/* give the pages back */
	if (n)
		(void)fallocate(out_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		                0, (off_t)n);
	*outlen = n;
}

int
pfs_fuzz_run_tool(int (*tool_main)(int, char **), const char *const *argv,
                  const uint8_t *p, size_t n, const uint8_t **out,
                  size_t *outlen)
{
	static char *args[32];
	const char *threads = getenv("PFS_FUZZ_THREADS");
	int argc, rc;

	init();
	for (argc = 0; argv[argc]; argc++) {
		if (argc == 31)
			abort();
		free(args[argc]);
		/* PFS_FUZZ_THREADS=N replaces the -T argument (engine races) */
		if (argc > 0 && strcmp(argv[argc - 1], "-T") == 0 && threads)
			args[argc] = strdup(threads);
		else
			args[argc] = strdup(argv[argc]);
	}
	args[argc] = NULL;
	pfs_fuzz_memfd(p, n);
	if (lseek(out_fd, 0, SEEK_SET) < 0)
		abort();
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 ||
	    (quiet_stderr && dup2(devnull, 2) < 0))
		abort();
	optind = 0;                  /* glibc: full getopt re-initialisation */
	opterr = 1;
	in_tool = 1;
	rc = tool_main(argc, args);
	in_tool = 0;
	fflush(stdout);
	fflush(stderr);
	if (dup2(saved0, 0) < 0 || dup2(saved1, 1) < 0 ||
	    (quiet_stderr && dup2(saved2, 2) < 0))
		abort();
	read_output(outlen);
	*out = outbuf;
	return rc;
}

static char check_msg[sizeof(((struct pfs_err *)0)->msg)];

int
pfs_fuzz_check_stream(const uint8_t *p, size_t n, uint64_t *raw_total)
{
	struct pfs_reader r;
	struct pfs_head head;
	struct pfs_hdr h;
	struct pfs_buf pay = PFS_BUF_INIT;
	struct pfs_err e;
	int fd, rc;

	/* the tool's output memfd is out_fd: copy into in_fd's memfd, which
	 * the tool no longer uses */
	fd = pfs_fuzz_memfd(p, n);
	pfs_reader_init(&r, fd, "check");
	rc = pfs_reader_start(&r, &head, &e);
	if (rc == 0)
		while ((rc = pfs_reader_next(&r, &h, &pay, &e)) == 1)
			;
	/* what pjoin writes: a range stream's range, else every chunk */
	*raw_total = rc == 0 && (head.flags & PFS_HF_RANGE) ? head.rlen :
	             r.raw_total;
	if (rc < 0)
		memcpy(check_msg, e.msg, sizeof(check_msg));
	pfs_buf_free(&pay);
	pfs_reader_free(&r);
	return rc;
}

static char key_path[64];

static void
unlink_key(void)
{
	if (key_path[0])
		unlink(key_path);
}

const char *
pfs_fuzz_key_file(void)
{
	char *path = key_path;
	int fd;

	if (path[0])
		return path;
	snprintf(path, sizeof(key_path), "/tmp/pfs-fuzz-key.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0) {
		perror("fuzz harness: key file");
		abort();
	}
	write_all(fd, (const uint8_t *)PFS_FUZZ_KEY_HEX "\n",
	          sizeof(PFS_FUZZ_KEY_HEX));
	close(fd);
	atexit(unlink_key);
	return path;
}

int
pfs_fuzz_tool(int (*tool_main)(int, char **), const char *const *argv,
              const uint8_t *data, size_t size, int raw_out)
{
	const uint8_t *in = pfs_fuzz_input(data, size), *out;
	uint64_t raw_in = 0, raw_out_total = 0;
	char why[sizeof(check_msg) + 64];
	size_t outlen;
	int rc;

	rc = pfs_fuzz_run_tool(tool_main, argv, in, size, &out, &outlen);
	if (!quiet_stderr && verbose)
		fprintf(stderr, "fuzz: %s exited %d, %zu bytes of output\n",
		        argv[0], rc, outlen);
	if (rc != 0 && rc != 1)
		pfs_fuzz_fail("exit status other than 0 or 1 (a usage error "
		              "with the harness's fixed arguments?)");
	if (rc != 0)
		return 0;
	/* success: the input was a valid stream and the output is right */

	if (!raw_out && pfs_fuzz_check_stream(out, outlen, &raw_out_total) < 0) {
		snprintf(why, sizeof(why), "the tool succeeded but wrote an "
		         "invalid stream (%s)", check_msg);
		pfs_fuzz_fail(why);
	}
	if (pfs_fuzz_check_stream(in, size, &raw_in) < 0) {
		snprintf(why, sizeof(why), "the tool accepted an invalid "
		         "stream (%s)", check_msg);
		pfs_fuzz_fail(why);
	}
	if (raw_out ? (uint64_t)outlen != raw_in : raw_out_total != raw_in)
		pfs_fuzz_fail("output size differs from the chunks' raw total");
	return 0;
}
