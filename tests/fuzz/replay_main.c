/*
 * replay_main.c - a main() for the fuzz targets without libFuzzer: calls
 * LLVMFuzzerTestOneInput() once on each file named (a directory: on each
 * regular file in it, in name order).  Lets `make fuzz-replay` run the
 * regression inputs with any C compiler (gcc, with or without sanitizers).
 * A crash kills the process (non-zero status); otherwise prints one line
 * per file and exits 0.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int
replay(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	size_t n = 0, cap = 0, r;

	if (!f) {
		perror(path);
		return -1;
	}
	for (;;) {
		if (n == cap) {
			cap = cap ? 2 * cap : 65536;
			p = realloc(p, cap);
			if (!p)
				abort();
		}
		r = fread(p + n, 1, cap - n, f);
		if (r == 0)
			break;
		n += r;
	}
	if (ferror(f)) {
		perror(path);
		fclose(f);
		free(p);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(p, n);
	printf("%s: ok (%zu bytes)\n", path, n);
	fflush(stdout);
	free(p);
	return 0;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int
main(int argc, char **argv)
{
	struct dirent **ents;
	struct stat st;
	char path[4096];
	int i, j, n, rc = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) < 0) {
			perror(argv[i]);
			rc = 1;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			rc |= replay(argv[i]) < 0;
			continue;
		}
		n = scandir(argv[i], &ents, NULL, by_name);
		if (n < 0) {
			perror(argv[i]);
			rc = 1;
			continue;
		}
		for (j = 0; j < n; j++) {
			snprintf(path, sizeof(path), "%s/%s", argv[i],
			         ents[j]->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
				rc |= replay(path) < 0;
			free(ents[j]);
		}
		free(ents);
	}
	return rc;
}
