/*
 * io.h - file descriptors, full reads and writes, output files.
 *
 * All loops handle short counts and EINTR; an EINTR after SIGINT/SIGTERM
 * (pfs_interrupted) is reported as an error with errno EINTR instead of
 * being retried.  Time spent inside read/write system calls is added to
 * *blocked_ns when it is not NULL (that is --stats' blocked-in/-out).
 */
#ifndef PFS_IO_H
#define PFS_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "err.h"

/* pfs_read_full - read up to n bytes; returns the count (less than n only at
 * end of file) or -1 with errno. */
ssize_t pfs_read_full(int fd, void *p, size_t n, uint64_t *blocked_ns);

/* pfs_pread_full - exactly n bytes at offset off (the file offset does not
 * move); 0, or -1 on an error or a short file (errno 0 then). */
int pfs_pread_full(int fd, void *p, size_t n, uint64_t off);

/* pfs_write_full - write all n bytes; 0 or -1 with errno. */
int pfs_write_full(int fd, const void *p, size_t n, uint64_t *blocked_ns);

/* pfs_writev_full - write every iovec completely (iov is modified). */
int pfs_writev_full(int fd, struct iovec *iov, int cnt, uint64_t *blocked_ns);

/* pfs_blocked_add - the time from t0 (pfs_now_ns) to now spent blocked in
 * read(2)/splice(2) on the input (out 0) or write(2) on the output (out 1):
 * added to *blocked_ns (nothing when NULL) and, when tracing, written as a
 * blocked-in/blocked-out span (trace.h).  errno is kept.  The functions
 * above call it for their blocked_ns. */
void pfs_blocked_add(uint64_t *blocked_ns, uint64_t t0, int out);

/* pfs_pipe_grow - if fd is a pipe, ask for a 1 MiB buffer (F_SETPIPE_SZ);
 * silently keeps the old size when the system refuses. */
void pfs_pipe_grow(int fd);

/* pfs_open_input - open path for reading ("-" or NULL: stdin, fd 0).
 * Refuses directories.  *name is set to the name used in messages. */
int pfs_open_input(const char *path, const char **name, struct pfs_err *e);

/* pfs_read_small - a small file (a key, identities, recipients) into buf:
 * at most cap bytes, their count in *n (*n == cap: the file may be
 * longer; the caller decides); *mode its st_mode when it is a regular
 * file, else 0.  With dash, "-" is standard input (left open).
 * Directories are refused.  Returns 0 or -1 with e set ("k: No such file
 * or directory"). */
int pfs_read_small(const char *path, int dash, uint8_t *buf, size_t cap,
                   size_t *n, unsigned *mode, struct pfs_err *e);

/* pfs_open_stream - pfs_open_input() for a frame stream: a terminal there is
 * refused too (pfs_refuse_tty_input), with the descriptor closed. */
int pfs_open_stream(const char *path, const char **name, struct pfs_err *e);

/* pfs_refuse_same - -1 with "NAME: input and output are the same file" when
 * in_fd and out_fd are the same regular file (`pchunk f >> f` would never
 * end). */
int pfs_refuse_same(int in_fd, int out_fd, const char *name,
                    struct pfs_err *e);

/* pfs_refuse_tty - -1 with "refusing to write a binary stream to a
 * terminal (redirect the output or use -f)" when fd is a tty and !force. */
int pfs_refuse_tty(int fd, int force, struct pfs_err *e);

/* pfs_refuse_tty_input - -1 with "NAME: is a terminal; expected a frame
 * stream (pipe one in or name a file)" when fd, to be read as a stream,
 * is a tty. */
int pfs_refuse_tty_input(int fd, const char *name, struct pfs_err *e);

/*
 * Output files.  pfs_outfile_open() creates a temporary file next to path
 * (same directory, O_EXCL, mode 0600) unless path is an existing non-regular
 * file such as /dev/null, which is opened directly.  pfs_outfile_commit()
 * applies mode/mtime, closes it (checking the close) and renames it onto
 * path; pfs_outfile_abort() removes it.  Exactly one of the two must be
 * called.  An existing regular file is replaced only with force; the input
 * file (same device and inode as in_fd) is never written.  The replaced
 * file's mode is not kept: the new file has the mode given to commit.
 * A file written directly (a device) keeps its mode and mtime.
 */
struct pfs_outfile {
	char *path;        /* final name (owned copy) */
	char *tmp;         /* temporary name, NULL when writing directly */
	int fd;
	int keep;          /* abort leaves tmp (the partial output) */
};

int  pfs_outfile_open(struct pfs_outfile *o, const char *path, int force,
                      int in_fd, struct pfs_err *e);
/* mode: the permission bits (07777 at most) the file gets exactly as given,
 * setuid, setgid and sticky included; the umask is not applied here (common/
 * never reads it): the caller decides, e.g. pjoin masks a recorded mode with
 * 0777 & ~umask unless -p.  -1: the file keeps mode 0600.
 * mtime_sec < 0: leave mtime. */
int  pfs_outfile_commit(struct pfs_outfile *o, int mode, int64_t mtime_sec,
                        uint32_t mtime_nsec, struct pfs_err *e);
void pfs_outfile_abort(struct pfs_outfile *o);

/* pfs_outfile_open_part - as pfs_outfile_open, but the temporary file has
 * a fixed name, path + PFS_PART_SUFFIX, is opened (read-write, 0600) as
 * it is when it exists already, and abort leaves it in place: the partial
 * output that a restore with --resume continues (resume.h). */
#define PFS_PART_SUFFIX ".pfs-part"
int  pfs_outfile_open_part(struct pfs_outfile *o, const char *path,
                           int force, int in_fd, struct pfs_err *e);

#endif
