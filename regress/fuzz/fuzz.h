/*
 * What the fuzz targets share: stopping on a broken invariant, and the
 * test for text meant for people (a reply, a log line, a diagnosis).
 * Header-only; each target defines FUZZ_NAME before including it.
 */
#ifndef SENDGATE_FUZZ_H
#define SENDGATE_FUZZ_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void	fuzz_die(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn, unused));
static int	fuzz_printable(const char *) __attribute__((unused));

/* abort(), so that libFuzzer keeps the input as a crash. */
static void
fuzz_die(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "%s: ", FUZZ_NAME);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

/* Printable ASCII, spaces included: no control byte, no CR or LF. */
static int
fuzz_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

#endif
