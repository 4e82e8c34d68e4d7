/*
 * pchunk.h - the parts of pchunk(1), private to it: tools/pchunk.c (the
 * HEAD, the ranges and parts, the chunking loop, main) and tools/pchunk/:
 *   opts.c   --help, the command line into struct opts, checked
 *
 * struct opts is filled once by parse() and only read after it.
 */
#ifndef PCHUNK_H
#define PCHUNK_H

#include <stdint.h>

#include "cli.h"

#define DEFAULT_CHUNK        (8u << 20)      /* docs/format.md "Chunk size" */

struct opts {
	uint64_t chunk;          /* 0: automatic */
	int force;
	int progress;
	uint64_t part, nparts;   /* --part I/N (nparts 0: I alone) */
	uint64_t block;          /* --block: a part on stdin */
	const char *source;      /* --source SIZE:MTIME:MODE:NAME */
	const char *input;
	struct pfs_common c;
};

/* opts.c: argv into o, checked; exits 2 on bad usage, 0 after --help or
 * --version */
void parse(int argc, char **argv, struct opts *o);

#endif
