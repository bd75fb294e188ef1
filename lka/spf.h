/*
 * SPF (RFC 7208): check_host() as a pure evaluator, and the operator's
 * walk of a domain's SPF tree.
 *
 * Neither does I/O: every DNS question goes through a struct dns_source
 * (dns.h).  When the source does not know an answer yet, the function
 * returns SPF_NEED_DNS; the driver resolves the question, stores it and
 * calls again from the start.  Both functions are deterministic over the
 * answers they get, so a rerun asks the same questions in the same order
 * and ends where the last one stopped.
 *
 * Everything a hostile record can make grow is capped (SECURITY.md N1,
 * N3): record bytes (DNS_TXT_MAX, from the source), DNS-querying terms,
 * void lookups, MX hosts, PTR names, macro values and expansions.
 */
#ifndef SENDGATE_SPF_H
#define SENDGATE_SPF_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dns.h"

#define SPF_DNS_TERMS_MAX	10	/* include a mx ptr exists redirect */
#define SPF_VOID_MAX		2	/* lookups answering nothing */
#define SPF_MX_MAX		10	/* MX hosts one mx term may have */
#define SPF_PTR_MAX		10	/* PTR names looked at */
#define SPF_DOMAIN_MAX		253	/* expanded names are cut to this */
#define SPF_LABEL_MAX		63
#define SPF_VALUE_MAX		512	/* bytes of one macro value */
#define SPF_EXPAND_MAX		4096	/* bytes of expansion kept */
#define SPF_WALK_DEPTH_MAX	10	/* include levels spf_walk follows */
#define SPF_WALK_TERMS_MAX	40	/* DNS terms spf_walk looks up */

enum spf_result {
	SPF_NONE,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
	SPF_NEED_DNS		/* ask the question the source missed, rerun */
};

struct spf_request {
	int		 family;	/* AF_INET or AF_INET6 (0: none) */
	uint8_t		 ip[16];	/* network order; ::ffff:0:0/96 is v4 */
	const char	*sender;	/* MAIL FROM; "": postmaster@helo */
	const char	*helo;		/* %{h}; NULL: "unknown" */
	const char	*domain;	/* NULL: the sender's domain */
	const char	*receiver;	/* %{r}; NULL: "unknown" */
	time_t		 now;		/* %{t} */
};

struct spf_outcome {
	enum spf_result	 result;
	char		 explanation[512];	/* exp= text, "" if none */
	char		 diag[256];	/* one line: why, for the customer */
	int		 dns_terms;
	int		 void_lookups;
};

/*
 * check_host() for req->ip and req->domain (or the sender's domain).
 * The outcome's diag says why in one line (the term that matched, or
 * the limit, record or lookup at fault); explanation is the exp= text
 * of a fail, "" when there is none or it could not be used.
 */
const char	*spf_result_name(enum spf_result);
enum spf_result	 spf_check_host(const struct spf_request *,
		    const struct dns_source *, struct spf_outcome *);

/*
 * The SPF tree of a domain, every include and redirect followed (no
 * short-circuit, loops and depth capped), one line() call per line:
 * depth 0 for the domain's record, one more for each of its terms, two
 * more for an included record.  With ctx->family set, ip4/ip6/a/mx terms
 * that match ctx->ip are marked and the result for that address is
 * check_host()'s; without, the result is NONE (no record), PERMERROR (a
 * limit or syntax problem in the tree), TEMPERROR (a DNS failure) or
 * NEUTRAL (sound).  SPF_NEED_DNS: same rerun contract as above; the
 * lines of such a run are partial, drop them before the rerun.  The
 * counts are of the whole tree, so they may pass the limits.
 * spf_walk(domain, ctx or NULL, want_include or NULL, src, cb or NULL,
 * summary).
 */
struct spf_walk_cb {
	void	(*line)(void *, int, const char *);
	void	*arg;
};

struct spf_walk_summary {
	int	 dns_terms;	/* in the whole tree */
	int	 void_lookups;
	int	 records;	/* SPF records seen */
	int	 include_found;	/* want_include is an include/redirect target */
	char	 diag[256];	/* the first thing to fix, "" if none */
};

enum spf_result	 spf_walk(const char *, const struct spf_request *,
		    const char *, const struct dns_source *,
		    const struct spf_walk_cb *, struct spf_walk_summary *);

/*
 * The pieces, for the evaluator, the walk and the tests.
 */

/* Macro values by letter; NULL: not known (expansion says NOVALUE). */
struct spf_macro_ctx {
	const char	*s;	/* sender */
	const char	*l;	/* local-part of the sender */
	const char	*o;	/* domain of the sender */
	const char	*d;	/* current domain */
	const char	*i;	/* client address, dotted (v6: nibbles) */
	const char	*p;	/* validated name of the client */
	const char	*v;	/* "in-addr" or "ip6" */
	const char	*h;	/* HELO domain */
	const char	*c;	/* client address, readable (exp only) */
	const char	*r;	/* receiving host (exp only) */
	const char	*t;	/* time stamp (exp only) */
};

enum spf_macro_status {
	SPF_MACRO_OK,
	SPF_MACRO_SYNTAX,	/* not a macro-string */
	SPF_MACRO_NOVALUE,	/* a letter whose value ctx lacks */
	SPF_MACRO_TOOLONG	/* a value or the output is over its cap */
};

#define SPF_MACRO_DOMAIN	0x01	/* a name: dot dropped, cut to 253 */
#define SPF_MACRO_EXPLAIN	0x02	/* exp text: spaces, c r t allowed */
#define SPF_MACRO_ANY		0x04	/* every letter (unknown modifiers) */

enum spf_macro_status spf_macro_expand(const struct spf_macro_ctx *,
		    const char *, size_t, int, char *, size_t, char *);
int		 spf_macro_check(const char *, size_t, int, int *);

enum spf_term_kind {
	SPF_T_ALL,
	SPF_T_INCLUDE,
	SPF_T_A,
	SPF_T_MX,
	SPF_T_PTR,
	SPF_T_IP4,
	SPF_T_IP6,
	SPF_T_EXISTS,
	SPF_T_REDIRECT,
	SPF_T_EXP,
	SPF_T_UNKNOWN		/* an unknown modifier: ignored */
};

struct spf_term {
	enum spf_term_kind	 kind;
	char			 qual;		/* + - ~ ?, 0: modifier */
	const char		*text;		/* the whole term */
	size_t			 len;
	const char		*spec;		/* NULL: <domain> */
	size_t			 speclen;
	int			 cidr4;		/* a mx ip4 */
	int			 cidr6;		/* a mx ip6 */
	uint8_t			 net[16];	/* ip4 (4 bytes), ip6 */
};

struct spf_record {
	const char		*text;		/* not NUL-ended */
	size_t			 len;
	int			 nterms;
	int			 has_all;
	int			 has_redirect;
	int			 has_exp;
	struct spf_term		 redirect;
	struct spf_term		 exp;
};

int	spf_record_select(const struct dns_answer *, const char **, size_t *);
int	spf_record_parse(const char *, size_t, struct spf_record *, char *,
	    size_t);
int	spf_term_next(const struct spf_record *, size_t *, struct spf_term *);
int	spf_term_parse(const char *, size_t, struct spf_term *, char *,
	    size_t);
int	spf_name_valid(const char *);
int	spf_domain_valid(const char *);
int	spf_name_eq(const char *, const char *);
int	spf_name_in(const char *, const char *);

#endif
