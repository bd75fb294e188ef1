/*
 * DMARC records (RFC 7489), for advice only: the policy a domain
 * publishes and whether the relay's DKIM signature will align with its
 * From domain.  Pure: the caller resolves the TXT records.
 *
 * The driver's lookups (RFC 7489 6.6.3): TXT at _dmarc.<From domain>;
 * when dmarc_answer() says DMARC_LOOKUP_NONE (NXDOMAIN, NODATA, or no
 * record starting with v=DMARC1) and dmarc_org_domain() differs from
 * the From domain, TXT at _dmarc.<organizational domain>, passed to
 * dmarc_answer() with at_org set.  Any other outcome ends the search.
 *
 * The organizational domain is approximated without the public suffix
 * list: the last two labels, or the last three when the last is a
 * two-letter country code and the one before it a common second-level
 * registry (co, com, net, org, ac, gov, edu): mail.example.com ->
 * example.com, a.example.co.uk -> example.co.uk.  Wrong for other
 * multi-label suffixes (example.pvt.k12.ma.us, example.blogspot.com);
 * harmless here because the result is only advice.
 */
#ifndef SENDGATE_DMARC_H
#define SENDGATE_DMARC_H

#include <stddef.h>

#include "dns.h"

struct dmarc_policy {
	int	 found;		/* a valid record was parsed */
	int	 at_org;	/* it is the organizational domain's */
	char	 p[16];		/* none, quarantine, reject */
	char	 sp[16];	/* as p; "" when absent (p applies) */
	char	 adkim;		/* 'r' (default) or 's' */
	char	 aspf;		/* 'r' (default) or 's' */
	int	 pct;		/* 0..100, default 100 */
	char	 diag[256];	/* what was odd but tolerated, or "" */
};

/*
 * Parse one record (strings joined).  v=DMARC1 must be the first tag
 * (tag names compare without case, the version with).  p= missing or
 * not none|quarantine|reject is -1, unless rua= is present: then it
 * counts as p=none (RFC 7489 6.6.3).  Bad sp=, adkim=, aspf=, pct= fall
 * back to their defaults with a note in diag (6.3: syntax errors are
 * ignored); rua=, ruf= and unknown tags are tolerated.  Returns 0 with
 * found set, or -1 with the reason in err.
 */
int		 dmarc_parse(const char *, size_t, struct dmarc_policy *,
		    char *, size_t);

enum dmarc_lookup {
	DMARC_LOOKUP_FOUND,	/* one record, parsed into the policy */
	DMARC_LOOKUP_NONE,	/* none here: try the organizational domain */
	DMARC_LOOKUP_INVALID,	/* several, or one that does not parse */
	DMARC_LOOKUP_TEMPFAIL	/* ask again later */
};

/*
 * The TXT answer at _dmarc.<name>: records not starting with v=DMARC1
 * are ignored (6.6.3 step 2).  The policy is filled on FOUND; diag
 * holds the reason otherwise.  at_org: the name is the organizational
 * domain's, so sp= applies to a subdomain.
 */
enum dmarc_lookup dmarc_answer(const struct dns_answer *, int,
		    struct dmarc_policy *);

/* A pointer into the domain at its organizational domain (see above). */
const char	*dmarc_org_domain(const char *);

/*
 * Two lines for the customer: whether a DKIM signature with d=dkim_d
 * aligns with the From domain ("aligned (DKIM d=example.com, adkim=r)"),
 * and what the policy does to mail that does not ("p=reject: unaligned
 * mail is rejected", or how to publish a record when there is none).
 * The policy may be NULL or not found.
 */
void		 dmarc_advice(const struct dmarc_policy *, const char *,
		    const char *, char *, size_t);

#endif
