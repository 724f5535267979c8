/*
 * replay: runs the fuzz target over every file of the corpus directories
 * given as arguments, with the normal compiler and no libFuzzer, so `make
 * check` keeps every input the fuzzer ever found interesting passing.  An
 * empty or missing corpus is a failure, never a silent pass.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define FILE_MAX (1 << 20)

static int replay_file(const char *path, uint8_t *buf)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return -1;
	}
	size_t n = fread(buf, 1, FILE_MAX, f);
	int err = ferror(f);
	fclose(f);
	if (err) {
		fprintf(stderr, "%s: read error\n", path);
		return -1;
	}
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t buf[FILE_MAX];
	int files = 0, bad = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR...\n", argv[0]);
		return 2;
	}
	for (int a = 1; a < argc; a++) {
		DIR *dir = opendir(argv[a]);
		if (!dir) {
			perror(argv[a]);
			return 1;
		}
		struct dirent *e;
		while ((e = readdir(dir))) {
			char path[4096];
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", argv[a], e->d_name);
			if (replay_file(path, buf) < 0)
				bad++;
			else
				files++;
		}
		closedir(dir);
	}
	printf("replay: %d corpus files passed\n", files);
	if (files == 0) {
		fprintf(stderr, "replay: no corpus files found\n");
		return 1;
	}
	return bad ? 1 : 0;
}
