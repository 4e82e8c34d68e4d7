/*
 * trace.h - --trace: a per-chunk timeline of a program, streamed to a file
 * as Chrome Trace Event Format JSON (Perfetto UI, chrome://tracing, the
 * Firefox Profiler open it).
 *
 * The file, as pfs_trace_open() starts and pfs_trace_close() ends it, is
 * the JSON Array Format with one event per line:
 *
 *   [
 *   {"ph":"M","name":"process_name","pid":P,"tid":T,"args":{"name":"pcompress"}},
 *   {"ph":"X","name":"transform","cat":"busy","pid":P,"tid":T,"ts":..,"dur":..,"args":{"chunk":3,"in":1048576,"out":381122}},
 *   ...
 *   {"ph":"X","name":"process","cat":"process","pid":P,"tid":T,"ts":..,"dur":..,"args":{"cpu_before_us":..,"cpu_us":..}}
 *   ]
 *
 * Invariants:
 *  - one clock: ts and dur are CLOCK_MONOTONIC microseconds (pfs_now_ns,
 *    stats.h, with three decimals), so the files of the programs of one
 *    pipeline line up when merged;
 *  - pid is the process id, tid the thread's kernel id (gettid), so the
 *    tracks are the real threads, as perf sees them;
 *  - every line after "[" is one whole event followed by "," - except the
 *    last, closed by "]"; a program that died before pfs_trace_close()
 *    leaves the array unterminated, which the format allows and
 *    pfs_trace_merge() accepts;
 *  - the "process" span, written last, covers every other span of the
 *    file: it runs from pfs_trace_open() to pfs_trace_close(); its args
 *    are the CPU time of all the process's threads before it
 *    (cpu_before_us: loading the libraries, reading the options) and
 *    inside it (cpu_us), so the two add up to the --stats user + sys.
 *
 * Events (names and categories are the contract with the tests, the
 * chart script bench/trace-chart.sh and docs/profiling.md):
 *   cat "busy":    read, transform, order, write (per chunk; args chunk,
 *                  in, out bytes), chunk (pchunk: read and write one chunk),
 *                  setup (the opening thread's, once: from the start of
 *                  the trace to its first other span - keys, buffers, the
 *                  HEAD; in and out 0)
 *   cat "blocked": blocked-in (inside read(2)/splice(2) on the input),
 *                  blocked-out (inside write(2) on the output); a blocked
 *                  span lies inside the busy span of its thread that was
 *                  open, if any, and its time is not busy time
 *   counters:      "in flight" (chunks read and not yet written), "MB/s"
 *                  (args in, out: the rates over the last 100 ms at least)
 * The blocked-in and blocked-out spans add up to the --stats figures.
 *
 * Memory and cost: events are formatted on the caller's stack and go into
 * one 64 KiB buffer under a mutex, written out when full, so memory stays
 * flat whatever the stream's length.  With tracing off, every hook is one
 * test of pfs_trace_on.  A write error is kept and reported by
 * pfs_trace_close(); tracing stops at the first one.
 *
 * Nothing here prints or exits (cli.c reports).
 */
#ifndef PFS_TRACE_H
#define PFS_TRACE_H

#include <stdint.h>

#include "err.h"

/* 1 while a trace is open: test it before calling anything below */
extern int pfs_trace_on;

/* pfs_trace_open - create (or truncate) path and start the trace: "[", the
 * process_name event (pfs_prog), the calling thread named "main".
 * Returns 0, or -1 with e set ("PATH: reason"). */
int pfs_trace_open(const char *path, struct pfs_err *e);

/* pfs_trace_open_dir - PFS_TRACE=DIR: pfs_trace_open() of the new file
 * DIR/PROG.PID.json (O_EXCL).  A DIR that is not a directory we can write
 * into is an error: -1 with e set ("DIR: reason"). */
int pfs_trace_open_dir(const char *dir, struct pfs_err *e);

/* pfs_trace_close - the process span, "]", close.  Returns 0, or -1 with
 * e set when an event could not be written (the file is then incomplete).
 * Nothing happens without an open trace.  Other threads may still be
 * running: what they emit after it is dropped (the writer before dying of
 * SIGPIPE, frame.c, ends the trace so). */
int pfs_trace_close(struct pfs_err *e);

/* pfs_trace_thread - name the calling thread's track ("reader",
 * "worker 2", "writer"); sort orders the tracks (smaller first). */
void pfs_trace_thread(const char *name, unsigned sort);

/* A point in time on both clocks of a span: CLOCK_MONOTONIC (ts, dur) and
 * the calling thread's CPU clock (tts, tdur: the CPU time the thread used
 * in the span, so a span's tdur < dur shows a thread that waited for a
 * core or inside a blocked span). */
struct pfs_trace_mark {
	uint64_t ns, cpu_ns;
};

/* pfs_trace_mark - now, into m */
void pfs_trace_mark(struct pfs_trace_mark *m);

/* pfs_trace_span - a busy span of the calling thread from m0 to now for
 * chunk (the DATA frame's seq; UINT64_MAX: not a DATA frame, the arg is
 * left out), in and out bytes. */
void pfs_trace_span(const char *name, const struct pfs_trace_mark *m0,
                    uint64_t chunk, uint64_t in, uint64_t out);

/* pfs_trace_blocked - a blocked-in (out 0) or blocked-out (out 1) span of
 * the calling thread from t0 to t1. */
void pfs_trace_blocked(int out, uint64_t t0, uint64_t t1);

/* pfs_trace_counter - the counter name at time t with one value */
void pfs_trace_counter(const char *name, uint64_t t, double value);

/* pfs_trace_rate - the "MB/s" counter of the direction out (0: in, 1:
 * out), given the total bytes so far at time t: written when 100 ms or
 * more passed since the last value of that direction (thread-safe). */
void pfs_trace_rate(int out, uint64_t t, uint64_t total);

/* pfs_trace_merge - append the events of the trace file path (as written
 * above, terminated or not) to the open file out_fd, each line followed by
 * ",\n", with its process_name event replaced by label, and the process
 * sorted at sort.  *pid receives the file's pid (0: no event).  Returns
 * the number of events, or -1 with e set. */
long pfs_trace_merge(int out_fd, const char *path, const char *label,
                     unsigned sort, long *pid, struct pfs_err *e);

#endif
