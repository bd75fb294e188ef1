/*
 * DKIM selector names of a rotation (see dkim_selector.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dkim_selector.h"

#define DKIM_SELECTOR_LETTERS	"abcdefghijklmnopqrstuvwxyz"

int
dkim_selector_rotated(const char *base, const char *suffix, int64_t now,
    dkim_selector_taken taken, void *arg, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 t = (time_t)now;
	char		 month[8];
	const char	*l;
	int		 n, r;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(month, sizeof(month), "%Y%m", &tm) != 6)
		return -1;
	/* The first of the month has no letter: 'a' stands for it. */
	for (l = DKIM_SELECTOR_LETTERS; *l != '\0'; l++) {
		if (*l == 'a')
			n = snprintf(buf, len, "%s-%s-%s", base, month, suffix);
		else
			n = snprintf(buf, len, "%s-%s%c-%s", base, month, *l,
			    suffix);
		if (n < 0 || (size_t)n >= len)
			return -1;
		if ((r = taken(buf, arg)) == -1)
			return -1;
		if (r == 0)
			return 0;
	}
	return -1;
}

int
dkim_selector_delegated(const char *base, const char *suffix, int which,
    char *buf, size_t len)
{
	int	 n;

	n = snprintf(buf, len, "%s-%c-%s", base, which ? 'b' : 'a', suffix);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
dkim_selector_other(const char *base, const char *suffix, const char *cur,
    char *buf, size_t len)
{
	char	 a[256];

	if (dkim_selector_delegated(base, suffix, 0, a, sizeof(a)) == -1)
		return -1;
	return dkim_selector_delegated(base, suffix, strcmp(cur, a) == 0,
	    buf, len);
}
