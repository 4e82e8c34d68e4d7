/*
 * util.h - numbers from users and for people: bounded parsers that reject
 * junk and overflow with a message naming the range (-1 with e set; they
 * never print or exit), and sizes in words.  The options every program
 * shares are in cli.h.
 */
#ifndef PFS_UTIL_H
#define PFS_UTIL_H

#include <stdint.h>

#include "err.h"

/* pfs_parse_size - parse a byte count: digits, optionally followed by one
 * of K M G T (powers of 1024; KB/MB/GB/KiB/MiB/GiB accepted too, also in
 * lower case).  Rejects junk, overflow and values outside [min, max] with a
 * message that names the range. */
int pfs_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out,
                   struct pfs_err *e);

/* pfs_parse_range - "OFFSET:LENGTH", "OFFSET:" (to the end) or
 * "OFFSET+LENGTH", each a size as pfs_parse_size takes it (3G:1M).
 * LENGTH must be at least 1; *len is UINT64_MAX for "to the end". */
int pfs_parse_range(const char *s, uint64_t *off, uint64_t *len,
                    struct pfs_err *e);

/* pfs_parse_int - a decimal integer in [min, max] (a leading '-' allowed
 * when min < 0), no suffix. */
int pfs_parse_int(const char *s, long min, long max, long *out,
                  struct pfs_err *e);

/* pfs_fmt_size - n for people, into out[len]: in the largest binary unit
 * that divides it exactly when there is one ("0 B", "1023 B", "4 KiB",
 * "1536 KiB", "256 MiB": a chunk size or a limit stays exact), otherwise
 * with one decimal in the largest unit not above it ("1.5 KiB" for 1536,
 * "9.8 KiB" for 10000). */
void pfs_fmt_size(uint64_t n, char *out, size_t len);

/* pfs_parse_threads - the value of -T, decided here for every tool: N
 * worker threads for a tool that runs at most max.  "0" means one per
 * online CPU, but at most max (so "-T 0" works on any machine); an N
 * above max is an error that names the range, "'17' is out of range (0 to
 * 16)", like any other number (pfs_parse_int).  Returns 0 with *out >= 1
 * (when max >= 1), or -1 with e set. */
int pfs_parse_threads(const char *s, unsigned max, unsigned *out,
                      struct pfs_err *e);

/* pfs_json_esc - s as the body of a JSON string (quotes, backslashes and
 * control bytes escaped) into out[n], cut to fit */
void pfs_json_esc(const char *s, char *out, size_t n);

/* pfs_text_esc - s on one line, into out[n] (cut to fit): a newline as \n,
 * a tab as \t, another control byte as \ooo, and with bs a backslash as
 * \\ (so that the text maps back to s).  How pinfo shows a stored name and
 * every message shows what it quotes (pfs_error). */
void pfs_text_esc(const char *s, int bs, char *out, size_t n);

#endif
