/*
 * Replay fuzz inputs without libFuzzer: every file named on the command
 * line goes once through LLVMFuzzerTestOneInput.  Built with gcc and
 * ASan/UBSan by "make replay", so the corpus runs where clang does not.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define REPLAY_INPUT_MAX	(1024 * 1024)

int
main(int argc, char *argv[])
{
	static uint8_t	 buf[REPLAY_INPUT_MAX];
	FILE		*fp;
	size_t		 len;
	int		 i;

	for (i = 1; i < argc; i++) {
		if ((fp = fopen(argv[i], "rb")) == NULL) {
			perror(argv[i]);
			return 1;
		}
		len = fread(buf, 1, sizeof(buf), fp);
		if (ferror(fp) || !feof(fp)) {
			fprintf(stderr, "%s: unreadable or over %d bytes\n",
			    argv[i], REPLAY_INPUT_MAX);
			fclose(fp);
			return 1;
		}
		fclose(fp);
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("replay: %d input%s\n", argc - 1, argc == 2 ? "" : "s");
	return 0;
}
