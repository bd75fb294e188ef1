/*
 * DKIM selector names of a rotation (issue 7).  Pure: no state, no I/O.
 *
 * A domain's first keys are <base>-<alg> ("sendgate-rsa").  A rotation
 * names the new key by its month, <base>-<yyyymm>-<alg>, and a second
 * rotation in the same month adds a letter: <base>-<yyyymm>b-<alg>, up
 * to 'z'.  With `dkim delegate`, the customer's CNAMEs never change: a
 * domain has two selectors per algorithm, <base>-a-<alg> and
 * <base>-b-<alg>, and a rotation moves to the one not in use.
 */
#ifndef SENDGATE_DKIM_SELECTOR_H
#define SENDGATE_DKIM_SELECTOR_H

#include <stddef.h>
#include <stdint.h>

/* Says whether a selector is taken already: 1 yes, 0 no, -1 error. */
typedef int	(*dkim_selector_taken)(const char *, void *);

/*
 * The selector of a rotation at time now (UTC month) that taken() says
 * is free.  Returns 0, or -1 when every letter of the month is taken, a
 * name does not fit len, or taken() failed.
 */
int	dkim_selector_rotated(const char *, const char *, int64_t,
	    dkim_selector_taken, void *, char *, size_t);

/*
 * The delegated selector: which (0 for a, 1 for b) of the pair, or the
 * other one than the current selector (the one in use: "" or a name
 * outside the pair gives a).  Returns 0, or -1 when it does not fit.
 */
int	dkim_selector_delegated(const char *, const char *, int, char *,
	    size_t);
int	dkim_selector_other(const char *, const char *, const char *, char *,
	    size_t);

#endif
