/*
 * Domain ownership: the TXT at the domain must hold a record that is
 * exactly "<prefix>-verification=<token>" (SECURITY.md N5).  Pure: the
 * caller resolves TXT at the domain and passes the answer.
 *
 * The character-strings of one record are joined before comparing (a
 * token split over two strings matches); the comparison is byte-exact,
 * case included, over the record's whole length (a record holding the
 * string plus anything else, spaces or a NUL byte included, does not
 * match); other TXT records are ignored; of several of ours, one
 * matching is enough.
 */
#ifndef SENDGATE_VERIFY_TOKEN_H
#define SENDGATE_VERIFY_TOKEN_H

#include <stddef.h>

#include "dns.h"

#define VERIFY_SUFFIX	"-verification="

enum verify_result {
	VERIFY_FOUND,
	VERIFY_MISSING,		/* authoritative: NXDOMAIN, NODATA, or TXT
				   records without our exact token */
	VERIFY_TEMPFAIL		/* timeout, SERVFAIL: ask again later */
};

const char	*verify_result_name(enum verify_result);

/*
 * Looks for "<prefix>-verification=<token>" in the TXT answer at the
 * domain; diag gets one line for the customer, which names a different
 * token of ours when one is published (the token of another connector
 * pasted by mistake).  The domain itself is not named: the caller
 * prefixes it.
 */
enum verify_result verify_token_check(const struct dns_answer *,
		    const char *, const char *, char *, size_t);

#endif
