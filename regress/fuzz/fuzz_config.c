/*
 * libFuzzer target for sendgated.conf: the lexer (quotes, macros,
 * continuation lines), the grammar and the checks across statements.
 *
 * Input: the file.  Invariants, from config.h: the return value counts
 * the messages, one line each, "fuzz.conf:LINE: message" with LINE a
 * line of the input; the configuration is set exactly when it is 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define FUZZ_NAME	"fuzz_config"
#include "fuzz.h"

#define NAME	"fuzz.conf"

int		 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void	 broken(const char *, const char *)
		    __attribute__((noreturn));

static void
broken(const char *why, const char *errs)
{
	fuzz_die("%s; messages:\n%s", why, errs);
}

/* Checks the message at p; returns the start of the next. */
static const char *
check_line(const char *p, const char *errs, size_t errlen, long lines)
{
	const char	*nl;
	char		*end;
	long		 line;

	if ((nl = memchr(p, '\n', errs + errlen - p)) == NULL ||
	    memchr(p, '\0', nl - p) != NULL)
		broken("a message not ended by a newline, or with a NUL", errs);
	if (strncmp(p, NAME ":", strlen(NAME ":")) != 0)
		broken("a message without the file name", errs);
	line = strtol(p + strlen(NAME ":"), &end, 10);
	if (line < 1 || line > lines || strncmp(end, ": ", 2) != 0 ||
	    end + 2 == nl)
		broken("a message without a line of the input or text", errs);
	return nl + 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sendgated_conf	*conf = NULL;
	FILE			*in, *errf;
	char			*errs = NULL;
	const char		*p;
	size_t			 errlen, i;
	long			 lines = 1;
	int			 n, count = 0;

	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	if ((in = fmemopen((void *)data, size, "r")) == NULL ||
	    (errf = open_memstream(&errs, &errlen)) == NULL)
		fuzz_die("fmemopen or open_memstream");
	n = config_parse_stream(in, NAME, errf, &conf);
	fclose(in);
	fclose(errf);
	for (p = errs; p < errs + errlen; count++)
		p = check_line(p, errs, errlen, lines);
	if (n != count)
		broken("the return value does not count the messages", errs);
	if ((n == 0) != (conf != NULL))
		broken("a configuration with errors, or none without", errs);
	config_free(conf);
	free(errs);
	return 0;
}
