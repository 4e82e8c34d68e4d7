/*
 * pipeline.h - the parts of pipeline(1), private to it: tools/pipeline.c
 * (main: the operands, -r, the exit status) and tools/pipeline/:
 *   usage.c  the --help text
 *   opts.c   the command line into struct opts; every combination is
 *            checked there, and a bad one is a usage error (exit 2)
 *   levels.c zstd's -# options and the compression level's check
 *   build.c  the stages of one FILE as command lines (struct pipeline)
 *            and the name of its output
 *   run.c    one FILE's pipeline run: spawn, read the stages' stderr,
 *            wait, report the cause of a failure, commit or remove the
 *            output
 *   keys.c   the key options checked once before any FILE runs
 *   password.c  with no key option: the password asked once for all
 *            FILEs, held in secure memory, handed to each pencrypt stage
 *            on a pipe
 *
 * struct opts is filled once by parse() and then only o->input changes,
 * to the FILE being worked on.  struct pipeline is one FILE's run; run_one()
 * clears it first, so one allocation serves every FILE.
 */
#ifndef PIPELINE_H
#define PIPELINE_H

#include <limits.h>

#include "cli.h"
#include "codec.h"
#include "err.h"
#include "feed.h"
#include "head.h"
#include "proc.h"
#include "stages.h"
#include "step.h"

#define MAXSTAGES  (PFS_STAGES_MAX + 2)   /* <= PFS_STATS_TABLE_MAX */

/* options that only some subcommands take */
enum {
	U_ALGO = 1 << 0, U_LEVEL = 1 << 1, U_ENCRYPT = 1 << 2,
	U_CIPHER = 1 << 3, U_HASH = 1 << 4, U_KEY = 1 << 5, U_OUTPUT = 1 << 6,
	U_FORCE = 1 << 7, U_THREADS = 1 << 8, U_PROGRESS = 1 << 9,
	U_KEEPMODE = 1 << 10, U_NAME = 1 << 11, U_NOCOMP = 1 << 12,
	U_NOHASH = 1 << 13, U_KDF = 1 << 14, U_HIDE = 1 << 15,
	U_RM = 1 << 16, U_STDOUT = 1 << 17, U_OUTDIR = 1 << 18,
	U_KEEP = 1 << 19, U_RANGE = 1 << 20, U_RESUME = 1 << 21,
	U_RCP = 1 << 22, U_ID = 1 << 23
};

#define U_FILES (U_OUTPUT | U_FORCE | U_RM | U_STDOUT | U_OUTDIR | U_KEEP)

enum cmd { C_PROCESS, C_RESTORE, C_VERIFY, C_INFO };

/* a subcommand and the U_* options it takes */
struct command {
	const char *name;
	enum cmd cmd;
	unsigned allowed;
};

#define PFS_PIPE_RCP_MAX 16     /* --recipient(s-file) and --identity */

struct opts {
	const struct command *cmd;
	char **files;                /* the operands; none: standard input */
	int nfiles;
	const char *input;           /* the one being worked on */
	const char *output;          /* -o, "-" for -c */
	const char *outdir;          /* --output-dir-flat/-mirror */
	int mirror;
	const struct pfs_codec *codec;   /* NULL: --no-compress */
	const char *level, *cipher, *hash, *threads, *perf_dir;
	char levelbuf[24];
	const char *level_opt;       /* as typed: "-l", "--fast"; NULL: -# */
	char typedbuf[28];           /* "-#" as typed, for messages */
	const char *key_opt;         /* "--key-file", ..., or NULL: ask,
	                                unless recipients or identities */
	const char *key_file;
	/* --recipient R / --recipients-file F (pencrypt's -r / -R, in order)
	 * and --identity F (pencrypt's -i) */
	const char *rcp_opt[PFS_PIPE_RCP_MAX], *rcp_arg[PFS_PIPE_RCP_MAX];
	unsigned nrcp;
	const char *id_arg[PFS_PIPE_RCP_MAX];
	unsigned nids;
	const char *kdf_time, *kdf_memory;
	int encrypt, force, dry_run, ultra, hide_name, no_compress, no_hash;
	int progress;                /* -1: on if stderr is a terminal */
	int recursive, rm;
	int keep_mode;               /* -p: pjoin -p */
	int use_name;                /* -N: output named after the HEAD */
	const char *range;           /* --range OFF:LEN, checked */
	int resume;                  /* --resume: restore continues */
	unsigned used;               /* U_* given */
	struct pfs_common c;
};

/* process --resume: a partial output being continued (cont.c) */
/* pchunk's chunk size for a Brotli stream (build.c) */
#define PIPELINE_BROTLI_CHUNK "32M"

struct cont {
	int active;
	char part[PATH_MAX + PFS_NAME_MAX + 16];   /* OUT.pfs-part */
	char tail[PATH_MAX + PFS_NAME_MAX + 24];   /* OUT.pfs-part.tail */
	struct pfs_head head;        /* the partial output's */
	uint64_t k;                  /* its whole chunks: 0..k-1 */
	uint64_t *off;               /* offsets of DATA 0..k */
};

struct pipeline {
	struct pfs_step s[MAXSTAGES];
	struct pfs_proc procs[MAXSTAGES];   /* s[i] runs as procs[i] */
	struct pfs_chain chain;
	unsigned n;
	int stats;                   /* enum pfs_stats_mode */
	int progress;                /* a stage draws progress through us */
	int drawn;                   /* a progress line is open on stderr */
	int to_stdout;               /* the last stage writes our stdout */
	const char *out_name;        /* process: the output file the last
	                                stage's stdout is, named in its
	                                messages instead of "stdout" */
	const char *input;           /* for messages: FILE, or "-" */
	const char *progress_name;   /* verify: what pjoin's progress shows
	                                instead of /dev/null (run.c) */
	char perf[PATH_MAX];
	/* restore/verify from a pipe: the bytes read for the HEAD, fed to
	 * the first stage again by a child (feed.h) */
	struct pfs_feed feed;
	int in_fd;                   /* -1: our stdin */
	int piped;                   /* restore/verify: FILE is a FIFO, made
	                                our fd 0 for this run (run.c) */
	int saved_stdin;             /* our own fd 0 meanwhile, or -1 */
	char outbuf[PATH_MAX + PFS_NAME_MAX + 4];
	char tmpname[PATH_MAX + PFS_NAME_MAX + 4];
	char rangebuf[48];           /* --resume: "N:" for the first stage */
	char csbuf[16];              /* pchunk's -s, when not its default */
	struct cont cont;
	/* the pencrypt stages without a key option: they get the password
	 * pipeline asked for, each on a pipe of its own (password.c) */
	unsigned nask;               /* stages ask[0..nask) */
	unsigned ask[MAXSTAGES];
	unsigned nopen;              /* askfd[0..nopen) are open */
	int askfd[MAXSTAGES];        /* the read end of ask[i]'s pipe */
	char askarg[MAXSTAGES][16];  /* "N" of its --password-fd N */
};

/* run.c: a stage died of SIGPIPE on our stdout; no FILE is started after
 * it (as zstd -dc | head) */
extern int sigpipe_seen;

/* usage.c: the --help text on stdout, exit 0 (pfs_stdout_done: 1, saying
 * why, if stdout fails) */
_Noreturn void usage(void);

/* opts.c: argv into o, checked; exits 2 on bad usage, 0 after --help or
 * --version */
void parse(int argc, char **argv, struct opts *o);

/* levels.c, for parse: take_levels - zstd's -# levels (-1 ... -22) taken
 * out of argv, lo the long options (to skip their arguments).
 * check_level - o->level for o->codec, with o->ultra; a usage error (exit
 * 2) when it is not one of its levels. */
struct option;
void take_levels(int *argc, char **argv, const struct option *lo,
                 struct opts *o);
void check_level(const struct opts *o);

/* build.c: the stages of o->input into p (all zero but what run_one()
 * set).  build_process: pchunk, pcompress, pencrypt, phash as o asks.
 * build_info: pinfo.  build_restore: the inverse of the stage stack in
 * the input's HEAD, ending in pjoin; *outp is its output ("-": stdout,
 * NULL: verify), -1 with e set when it cannot be built. */
void build_process(const struct opts *o, struct pipeline *p, int progress);
void build_info(const struct opts *o, struct pipeline *p);
int build_restore(const struct opts *o, struct pipeline *p, int progress,
                  const char **outp, struct pfs_err *e);

/* build.c: the output of process into *out (p->outbuf or "-"); -1 with e
 * set when the name cannot be made */
int process_name(const struct opts *o, struct pipeline *p, const char **out,
                 struct pfs_err *e);

/* run.c: the whole pipeline for one FILE (o->input).  0 on success, -1
 * when it failed (reported), 1 when stdout's reader went away. */
int run_one(struct opts *o, struct pipeline *p);

/* keys.c: the key options checked once, before any FILE: a --recipient
 * that does not parse is a usage error (exit 2); a key, password,
 * recipients or identity file that is missing or holds no key exits 1,
 * one line naming the option and the file */
void check_keys(const struct opts *o);

/* cont.c: process --resume.  cont_begin - when OUT.pfs-part is there,
 * check it and the source and set p->cont (active) and p->rangebuf, the
 * first chunk to make again (with --dry-run too: a partial output with
 * nothing to keep is then left in place); cont_finish - after the stages
 * wrote p->cont.tail, write OUT from both.  0, or -1 with e set. */
int cont_begin(const struct opts *o, struct pipeline *p, const char *out,
               struct pfs_err *e);
int cont_finish(const struct opts *o, struct pipeline *p, const char *out,
                int mode, struct pfs_err *e);

/* trace.c: --trace FILE.  trace_begin - make the private directory the
 * stages trace into (PFS_TRACE) and the temporary file next to FILE; 0
 * (also without --trace), or -1 with e set.  trace_collect - after a
 * FILE's run, merge its stages' traces, in stage order, and remove them.
 * trace_end - close the merged trace and rename it onto FILE, or with
 * abort_it remove it; 0, or -1 when it failed (reported). */
int trace_begin(const struct opts *o, struct pfs_err *e);
void trace_collect(const struct pipeline *p);
int trace_end(int abort_it);

/* password.c: password_pass - give the password to the stages p->ask[]:
 * ask for it on the terminal the first time (twice for process), then
 * for each of them fill a close-on-exec pipe with it and a newline and
 * add "--password-fd N", N the pipe's read end (p->askfd[]), to its
 * arguments.  Before the first prompt, process refuses an existing
 * output out (the message open_output would give).  0, or -1 with e set;
 * after a failed prompt password_given_up() is 1 and no FILE should be
 * started.  password_close - close p->askfd[] (again is fine).
 * password_forget - wipe and release the password; registered with
 * atexit(), and to be called before dying of a signal.
 * password_read_fd - --password-fd N: read the password from N once,
 * here, before any FILE (check_keys), so that each pencrypt stage gets it
 * on a pipe of its own as a typed one is: N may then be 0 with FILEs
 * named, and several FILEs share it.  A descriptor that is not open or
 * gives no password is an error, exit 1.  password_held - 1 once the
 * password is held (typed or read from N). */
void password_read_fd(const struct opts *o);
int password_held(void);
int password_pass(const struct opts *o, struct pipeline *p, const char *out,
                  struct pfs_err *e);
void password_close(struct pipeline *p);
void password_forget(void);
int password_given_up(void);

#endif
