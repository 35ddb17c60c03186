/*
 * A main() for the fuzz targets when they are not built with libFuzzer:
 * runs LLVMFuzzerTestOneInput once on every file of the directories (or
 * files) given, so `make check` replays the seed corpus as a regression
 * test. With --enable-fuzzing, clang's -fsanitize=fuzzer provides main.
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fuzz_file(const char *path)
{
	uint8_t *buf;
	size_t len;
	FILE *f;
	long n;

	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) == -1 ||
	    (n = ftell(f)) < 0) {
		perror(path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	rewind(f);
	len = (size_t)n;
	buf = malloc(len + 1);
	if (buf == NULL || fread(buf, 1, len, f) != len) {
		fprintf(stderr, "%s: short read\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

int
main(int argc, char *argv[])
{
	char path[4096];
	struct dirent *de;
	struct stat st;
	int i, runs = 0;
	DIR *d;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			perror(argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (fuzz_file(argv[i]) == -1)
				return 1;
			runs++;
			continue;
		}
		if ((d = opendir(argv[i])) == NULL) {
			perror(argv[i]);
			return 1;
		}
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i],
			    de->d_name);
			if (fuzz_file(path) == -1) {
				closedir(d);
				return 1;
			}
			runs++;
		}
		closedir(d);
	}
	printf("%s: %d inputs replayed\n", argv[0], runs);
	return runs > 0 ? 0 : 1;
}
