/*
 * check_host() (RFC 7208 §4-§6) over a dns_source: record selection,
 * the mechanisms in order, include and redirect, exp= on fail, and the
 * processing limits of §4.6.4 (SECURITY.md N3), each checked before the
 * lookup it would allow.
 *
 * An include or redirect that comes back to a domain being evaluated is
 * a loop: evaluated to the end it would fail on the term limit, so it is
 * a permerror at once, with a diagnosis that names the loop.
 */
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf_eval.h"

const char *
spf_result_name(enum spf_result r)
{
	switch (r) {
	case SPF_NONE:		return "none";
	case SPF_NEUTRAL:	return "neutral";
	case SPF_PASS:		return "pass";
	case SPF_FAIL:		return "fail";
	case SPF_SOFTFAIL:	return "softfail";
	case SPF_TEMPERROR:	return "temperror";
	case SPF_PERMERROR:	return "permerror";
	case SPF_NEED_DNS:	return "need-dns";
	}
	return "?";
}

/* The first problem is the one to report; a cut one ends in "...". */
void
spf_eval_diag(struct spf_eval *e, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (e->diag[0] != '\0')
		return;
	va_start(ap, fmt);
	n = vsnprintf(e->diag, sizeof(e->diag), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(e->diag))
		memcpy(e->diag + sizeof(e->diag) - 4, "...", 4);
}

/*
 * An IPv6 address as dotted nibbles (%{i}, the PTR question), in upper
 * case as the RFC 7208 test suite's explanations have them; DNS names
 * do not mind the case.
 */
static void
nibbles(const uint8_t *ip, int reverse, char *out)
{
	static const char	 hex[] = "0123456789ABCDEF";
	int			 k, n;

	for (k = 0; k < 32; k++) {
		n = reverse ? 31 - k : k;
		*out++ = hex[(ip[n / 2] >> (n % 2 ? 0 : 4)) & 0xf];
		*out++ = k < 31 ? '.' : '\0';
	}
}

static void
init_address(struct spf_eval *e, const struct spf_request *req)
{
	static const uint8_t	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	if (req->family == AF_INET6 && memcmp(req->ip, mapped, 12) == 0) {
		e->family = AF_INET;
		memcpy(e->ip, req->ip + 12, 4);
	} else if (req->family == AF_INET || req->family == AF_INET6) {
		e->family = req->family;
		memcpy(e->ip, req->ip, req->family == AF_INET ? 4 : 16);
	} else
		return;
	if (e->family == AF_INET) {
		snprintf(e->i, sizeof(e->i), "%u.%u.%u.%u", e->ip[0],
		    e->ip[1], e->ip[2], e->ip[3]);
		snprintf(e->rev, sizeof(e->rev), "%u.%u.%u.%u.in-addr.arpa",
		    e->ip[3], e->ip[2], e->ip[1], e->ip[0]);
		e->mc.v = "in-addr";
	} else {
		nibbles(e->ip, 0, e->i);
		nibbles(e->ip, 1, e->rev);
		strlcat(e->rev, ".ip6.arpa", sizeof(e->rev));
		e->mc.v = "ip6";
	}
	inet_ntop(e->family, e->ip, e->c, sizeof(e->c));
	e->mc.i = e->i;
	e->mc.c = e->c;
}

/*
 * The macro values and <domain> of a request (RFC 7208 §4.1, §4.3):
 * an empty sender is postmaster@helo, an empty local-part postmaster.
 * Values too long for SPF_VALUE_MAX are kept one byte over it, so that
 * expanding them fails instead of using a cut value.
 */
void
spf_eval_init(struct spf_eval *e, const struct spf_request *req,
    const char *domain, const struct dns_source *src)
{
	const char	*helo = req->helo != NULL ? req->helo : "unknown";
	const char	*sender = req->sender, *at, *sdomain;
	size_t		 llen;

	memset(e, 0, sizeof(*e));
	e->src = src;
	e->terms_max = SPF_DNS_TERMS_MAX;
	e->voids_max = SPF_VOID_MAX;
	init_address(e, req);
	if (sender == NULL || sender[0] == '\0')
		sender = helo;
	at = strrchr(sender, '@');
	sdomain = at != NULL ? at + 1 : sender;
	if (at == NULL || at == sender) {
		snprintf(e->s, sizeof(e->s), "postmaster@%s", sdomain);
		strlcpy(e->l, "postmaster", sizeof(e->l));
	} else {
		strlcpy(e->s, sender, sizeof(e->s));
		llen = at - sender;
		if (llen >= sizeof(e->l))
			llen = sizeof(e->l) - 1;
		memcpy(e->l, sender, llen);
		e->l[llen] = '\0';
	}
	if (domain == NULL)
		domain = req->domain != NULL ? req->domain : sdomain;
	strlcpy(e->domain, domain, sizeof(e->domain));
	snprintf(e->t, sizeof(e->t), "%lld", (long long)req->now);
	e->mc.s = e->s;
	e->mc.l = e->l;
	e->mc.o = sdomain;
	e->mc.h = helo;
	e->mc.r = req->receiver != NULL ? req->receiver : "unknown";
	e->mc.t = e->t;
}

/* 0 with *a answered, -1 when the source does not know yet. */
int
spf_eval_lookup(struct spf_eval *e, const char *name, enum dns_type type,
    const struct dns_answer **a)
{
	static const struct dns_answer	 none = { DNS_TEMPFAIL, 0, NULL,
	    "no answer from the resolver" };

	*a = NULL;
	if (e->src->lookup(e->src->arg, name, type, a) == 0)
		return -1;
	if (*a == NULL)
		*a = &none;
	return 0;
}

static int
rr_count(const struct dns_answer *a, enum dns_type type)
{
	int	 i, n = 0;

	for (i = 0; a->status == DNS_ANSWER && i < a->nrr; i++)
		if (a->rr[i].type == type)
			n++;
	return n;
}

static int
prefix_match(const uint8_t *a, const uint8_t *b, int bits)
{
	int	 full = bits / 8, rem = bits % 8;
	uint8_t	 mask;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rem == 0)
		return 1;
	mask = 0xff << (8 - rem);
	return (a[full] & mask) == (b[full] & mask);
}

static enum dns_type
addr_type(const struct spf_eval *e)
{
	return e->family == AF_INET6 ? DNS_T_AAAA : DNS_T_A;
}

/* Does an A/AAAA answer hold the client, within the CIDR length? */
static int
addr_match(const struct spf_eval *e, const struct dns_answer *a, int cidr4,
    int cidr6)
{
	enum dns_type	 type = addr_type(e);
	int		 i;

	for (i = 0; e->family != 0 && a->status == DNS_ANSWER && i < a->nrr;
	    i++)
		if (a->rr[i].type == type && prefix_match(a->rr[i].u.addr,
		    e->ip, type == DNS_T_A ? cidr4 : cidr6))
			return 1;
	return 0;
}

static enum spf_m
temperror(struct spf_eval *e, const char *name, enum dns_type type,
    const struct dns_answer *a, enum spf_result *res)
{
	spf_eval_diag(e, "DNS temporary failure for %s %s: %s", name,
	    dns_type_name(type), a->why[0] != '\0' ? a->why :
	    "no reason given");
	*res = SPF_TEMPERROR;
	return SPF_M_DONE;
}

/*
 * A mechanism's question (RFC 7208 §5): SPF_M_NOMATCH with *a to look
 * at, or SPF_M_DONE with *res, SPF_NEED_DNS or, on a DNS failure,
 * SPF_TEMPERROR.
 */
static enum spf_m
ask(struct spf_eval *e, const char *name, enum dns_type type,
    const struct dns_answer **a, enum spf_result *res)
{
	if (spf_eval_lookup(e, name, type, a) == -1) {
		*res = SPF_NEED_DNS;
		return SPF_M_DONE;
	}
	if ((*a)->status == DNS_TEMPFAIL)
		return temperror(e, name, type, *a, res);
	return SPF_M_NOMATCH;
}

/*
 * Fetches and checks the record of a domain: 0, or -1 with *res (NONE,
 * TEMPERROR, PERMERROR or NEED_DNS) and why.
 */
int
spf_eval_record(struct spf_eval *e, const char *domain, struct spf_record *r,
    enum spf_result *res, char *why, size_t whylen)
{
	const struct dns_answer	*a;
	const char		*text = NULL;
	size_t			 len = 0;
	char			 err[200];
	int			 n;

	why[0] = '\0';
	*res = SPF_NONE;
	if (!spf_domain_valid(domain)) {
		e->none_why = "not a valid domain name";
		snprintf(why, whylen, "%s", e->none_why);
		return -1;
	}
	if (spf_eval_lookup(e, domain, DNS_T_TXT, &a) == -1) {
		*res = SPF_NEED_DNS;
		return -1;
	}
	if (a->status == DNS_TEMPFAIL) {
		snprintf(why, whylen, "DNS temporary failure for %s TXT: %s",
		    domain, a->why[0] != '\0' ? a->why : "no reason given");
		*res = SPF_TEMPERROR;
		return -1;
	}
	if ((n = spf_record_select(a, &text, &len)) == 0) {
		e->none_why = a->status == DNS_NXDOMAIN ?
		    "domain does not exist" : "no SPF record";
		snprintf(why, whylen, "%s", e->none_why);
		return -1;
	}
	*res = SPF_PERMERROR;
	if (n > 1) {
		snprintf(why, whylen, "%d SPF records at %s", n, domain);
		return -1;
	}
	if (spf_record_parse(text, len, r, err, sizeof(err)) == -1) {
		snprintf(why, whylen, "%s: %s", domain, err);
		return -1;
	}
	return 0;
}

/* Counts a DNS-querying term; -1 once over the limit (before asking). */
int
spf_eval_count(struct spf_eval *e, const char *domain,
    const struct spf_term *t, enum spf_result *res)
{
	if (++e->terms <= e->terms_max)
		return 0;
	spf_eval_diag(e, "%d DNS-querying terms (limit %d): \"%.*s\" in %s",
	    e->terms, e->terms_max, (int)t->len, t->text, domain);
	*res = SPF_PERMERROR;
	return -1;
}

static enum spf_m
void_lookup(struct spf_eval *e, const char *domain, const struct spf_term *t,
    enum spf_result *res)
{
	if (++e->voids <= e->voids_max)
		return SPF_M_NOMATCH;
	spf_eval_diag(e, "void lookups over the limit of %d: \"%.*s\" in %s "
	    "found nothing", e->voids_max, (int)t->len, t->text, domain);
	*res = SPF_PERMERROR;
	return SPF_M_DONE;
}

static int
is_void(const struct dns_answer *a, enum dns_type type)
{
	return a->status != DNS_TEMPFAIL && rr_count(a, type) == 0;
}

/* 1 if name has an address of the client, 0 if not, -1 need DNS. */
static int
validated(struct spf_eval *e, const char *name)
{
	const struct dns_answer	*a;

	if (!spf_name_valid(name))
		return 0;
	if (spf_eval_lookup(e, name, addr_type(e), &a) == -1)
		return -1;
	return addr_match(e, a, 32, 128);
}

/* The next of the first SPF_PTR_MAX names of a PTR answer, or NULL. */
static const char *
ptr_next(const struct dns_answer *a, int *i, int *n)
{
	for (; a->status == DNS_ANSWER && *i < a->nrr && *n < SPF_PTR_MAX;
	    (*i)++)
		if (a->rr[*i].type == DNS_T_PTR) {
			(*n)++;
			return a->rr[(*i)++].u.ptr;
		}
	return NULL;
}

/*
 * %{p} (RFC 7208 §7.3): a validated name of the client, <domain> itself
 * first, then one of its subdomains, then any; "unknown" when none.
 * DNS errors only make names unusable.  0, or -1 to wait for DNS.
 */
static int
compute_p(struct spf_eval *e, const char *domain)
{
	static const int	 rank_of[] = { 2, 0, 1 };	/* other, =, below */
	const struct dns_answer	*a;
	const char		*name;
	size_t			 len;
	int			 i = 0, n = 0, rank, best = 3;

	strlcpy(e->p, "unknown", sizeof(e->p));
	if (spf_eval_lookup(e, e->rev, DNS_T_PTR, &a) == -1)
		return -1;
	while ((name = ptr_next(a, &i, &n)) != NULL) {
		rank = rank_of[spf_name_in(name, domain)];
		if (rank >= best)
			continue;
		switch (validated(e, name)) {
		case -1:
			return -1;
		case 0:
			continue;
		}
		best = rank;
		strlcpy(e->p, name, sizeof(e->p));
		if ((len = strlen(e->p)) > 1 && e->p[len - 1] == '.')
			e->p[len - 1] = '\0';
	}
	strlcpy(e->p_for, domain, sizeof(e->p_for));
	e->p_known = 1;
	return 0;
}

/* Expands with <domain> as %{d}, finding %{p} if asked; -1 need DNS. */
static int
expand(struct spf_eval *e, const char *domain, const char *in, size_t len,
    int flags, char *out, size_t outsz, enum spf_macro_status *st)
{
	char	 missing = 0;

	e->mc.d = domain;
	e->mc.p = e->p_known && spf_name_eq(e->p_for, domain) ? e->p : NULL;
	*st = spf_macro_expand(&e->mc, in, len, flags, out, outsz, &missing);
	if (*st != SPF_MACRO_NOVALUE || missing != 'p' || e->family == 0)
		return 0;
	if (compute_p(e, domain) == -1)
		return -1;
	e->mc.p = e->p;
	*st = spf_macro_expand(&e->mc, in, len, flags, out, outsz, NULL);
	return 0;
}

/* The target-name of a term: its domain-spec expanded, or <domain>. */
enum spf_x
spf_eval_expand(struct spf_eval *e, const char *domain, const char *spec,
    size_t speclen, char *name)
{
	enum spf_macro_status	 st;

	if (spec == NULL) {
		strlcpy(name, domain, DNS_NAME_MAX + 1);
		return SPF_X_NAME;
	}
	if (expand(e, domain, spec, speclen, SPF_MACRO_DOMAIN, e->scratch,
	    sizeof(e->scratch), &st) == -1)
		return SPF_X_NEED;
	if (st == SPF_MACRO_NOVALUE)
		return SPF_X_NOVALUE;
	/* RFC 7208 leaves a name no query can be made for undefined;
	 * like a label too long in <domain> (§4.3) it matches nothing. */
	if (st != SPF_MACRO_OK || !spf_name_valid(e->scratch))
		return SPF_X_INVALID;
	strlcpy(name, e->scratch, DNS_NAME_MAX + 1);
	return SPF_X_NAME;
}

static enum spf_m
mech_a(struct spf_eval *e, const char *domain, const struct spf_term *t,
    const char *name, enum spf_result *res)
{
	const struct dns_answer	*a;
	enum dns_type		 type = addr_type(e);
	enum spf_m		 m;

	if ((m = ask(e, name, type, &a, res)) != SPF_M_NOMATCH)
		return m;
	/* Without a client (a walk), a name is void if it has neither. */
	if (is_void(a, type) && e->family == 0) {
		type = DNS_T_AAAA;
		if ((m = ask(e, name, type, &a, res)) != SPF_M_NOMATCH)
			return m;
	}
	if (is_void(a, type))
		return void_lookup(e, domain, t, res);
	return addr_match(e, a, t->cidr4, t->cidr6) ? SPF_M_MATCH :
	    SPF_M_NOMATCH;
}

static enum spf_m
mech_mx(struct spf_eval *e, const char *domain, const struct spf_term *t,
    const char *name, enum spf_result *res)
{
	const struct dns_answer	*a, *h;
	const char		*host;
	enum spf_m		 m;
	int			 i, n;

	if ((m = ask(e, name, DNS_T_MX, &a, res)) != SPF_M_NOMATCH)
		return m;
	if (is_void(a, DNS_T_MX))
		return void_lookup(e, domain, t, res);
	if ((n = rr_count(a, DNS_T_MX)) > SPF_MX_MAX) {
		spf_eval_diag(e, "\"%.*s\" in %s: %d MX hosts (limit %d)",
		    (int)t->len, t->text, domain, n, SPF_MX_MAX);
		*res = SPF_PERMERROR;
		return SPF_M_DONE;
	}
	for (i = 0; e->family != 0 && i < a->nrr; i++) {
		host = a->rr[i].u.mx.host;
		/* A null MX (RFC 7505) names no host. */
		if (a->rr[i].type != DNS_T_MX || !spf_name_valid(host))
			continue;
		if ((m = ask(e, host, addr_type(e), &h, res)) !=
		    SPF_M_NOMATCH)
			return m;
		if (addr_match(e, h, t->cidr4, t->cidr6))
			return SPF_M_MATCH;
	}
	return SPF_M_NOMATCH;
}

/*
 * ptr (RFC 7208 §5.5): a name of the client's PTR records, among the
 * first SPF_PTR_MAX, that is or ends in the target and has the client's
 * address.  A failed PTR lookup is no match; so is a failed validation.
 */
static enum spf_m
mech_ptr(struct spf_eval *e, const char *domain, const struct spf_term *t,
    const char *target, enum spf_result *res)
{
	const struct dns_answer	*a;
	const char		*name;
	int			 i = 0, n = 0;

	if (e->family == 0)
		return SPF_M_SKIPPED;
	if (spf_eval_lookup(e, e->rev, DNS_T_PTR, &a) == -1) {
		*res = SPF_NEED_DNS;
		return SPF_M_DONE;
	}
	if (a->status == DNS_TEMPFAIL)
		return SPF_M_NOMATCH;
	if (is_void(a, DNS_T_PTR))
		return void_lookup(e, domain, t, res);
	while ((name = ptr_next(a, &i, &n)) != NULL) {
		if (!spf_name_in(name, target))
			continue;
		switch (validated(e, name)) {
		case -1:
			*res = SPF_NEED_DNS;
			return SPF_M_DONE;
		case 1:
			return SPF_M_MATCH;
		}
	}
	return SPF_M_NOMATCH;
}

static enum spf_m
mech_exists(struct spf_eval *e, const char *domain, const struct spf_term *t,
    const char *name, enum spf_result *res)
{
	const struct dns_answer	*a;
	enum spf_m		 m;

	if ((m = ask(e, name, DNS_T_A, &a, res)) != SPF_M_NOMATCH)
		return m;
	if (is_void(a, DNS_T_A))
		return void_lookup(e, domain, t, res);
	return SPF_M_MATCH;
}

/*
 * One mechanism other than include: match, no match, or the end of the
 * evaluation (*res).  DNS-querying ones are counted before they ask.
 */
enum spf_m
spf_eval_mech(struct spf_eval *e, const char *domain,
    const struct spf_term *t, enum spf_result *res)
{
	char	 name[DNS_NAME_MAX + 1];

	switch (t->kind) {
	case SPF_T_ALL:
		return SPF_M_MATCH;
	case SPF_T_IP4:
		return e->family == AF_INET && prefix_match(t->net, e->ip,
		    t->cidr4) ? SPF_M_MATCH : SPF_M_NOMATCH;
	case SPF_T_IP6:
		return e->family == AF_INET6 && prefix_match(t->net, e->ip,
		    t->cidr6) ? SPF_M_MATCH : SPF_M_NOMATCH;
	case SPF_T_A:
	case SPF_T_MX:
	case SPF_T_PTR:
	case SPF_T_EXISTS:
		break;
	default:
		return SPF_M_NOMATCH;
	}
	if (spf_eval_count(e, domain, t, res) == -1)
		return SPF_M_DONE;
	switch (spf_eval_expand(e, domain, t->spec, t->speclen, name)) {
	case SPF_X_NEED:
		*res = SPF_NEED_DNS;
		return SPF_M_DONE;
	case SPF_X_INVALID:
		return SPF_M_NOMATCH;
	case SPF_X_NOVALUE:
		return SPF_M_SKIPPED;
	case SPF_X_NAME:
		break;
	}
	switch (t->kind) {
	case SPF_T_A:
		return mech_a(e, domain, t, name, res);
	case SPF_T_MX:
		return mech_mx(e, domain, t, name, res);
	case SPF_T_PTR:
		return mech_ptr(e, domain, t, name, res);
	default:
		return mech_exists(e, domain, t, name, res);
	}
}

/* An include or redirect back to a domain being evaluated: 1. */
int
spf_eval_loop(struct spf_eval *e, const char *target,
    const struct spf_term *t, enum spf_result *res)
{
	char	 path[sizeof(e->diag)];
	size_t	 o = 0;
	int	 i, from;

	for (from = 0; from < e->depth; from++)
		if (spf_name_eq(e->stack[from], target))
			break;
	if (from == e->depth)
		return 0;
	path[0] = '\0';
	for (i = from; i < e->depth && o < sizeof(path); i++)
		o += snprintf(path + o, sizeof(path) - o, "%s -> ",
		    e->stack[i]);
	spf_eval_diag(e, "%s loop: %s%s", t->kind == SPF_T_REDIRECT ?
	    "redirect" : "include", path, target);
	*res = SPF_PERMERROR;
	return 1;
}

int
spf_eval_push(struct spf_eval *e, const char *domain, enum spf_result *res)
{
	if (e->depth == SPF_STACK_MAX) {
		spf_eval_diag(e, "SPF records nested deeper than %d",
		    SPF_STACK_MAX);
		*res = SPF_PERMERROR;
		return -1;
	}
	e->stack[e->depth++] = domain;
	return 0;
}

static enum spf_result	check_host(struct spf_eval *, const char *, int);

/*
 * The target of an include or redirect, counted, expanded and checked
 * for a loop: 0 with name, or -1 with *res.
 */
static int
follow(struct spf_eval *e, const char *domain, const struct spf_term *t,
    char *name, enum spf_result *res)
{
	if (spf_eval_count(e, domain, t, res) == -1)
		return -1;
	switch (spf_eval_expand(e, domain, t->spec, t->speclen, name)) {
	case SPF_X_NEED:
		*res = SPF_NEED_DNS;
		return -1;
	case SPF_X_NAME:
		break;
	default:
		spf_eval_diag(e, "\"%.*s\" in %s: the target is not a valid "
		    "domain name", (int)t->len, t->text, domain);
		*res = SPF_PERMERROR;
		return -1;
	}
	return spf_eval_loop(e, name, t, res) ? -1 : 0;
}

/* include (RFC 7208 §5.2): pass matches, none is a permerror. */
static enum spf_m
include(struct spf_eval *e, const char *domain, const struct spf_term *t,
    enum spf_result *res)
{
	char	 name[DNS_NAME_MAX + 1];

	if (follow(e, domain, t, name, res) == -1)
		return SPF_M_DONE;
	switch ((*res = check_host(e, name, 1))) {
	case SPF_PASS:
		return SPF_M_MATCH;
	case SPF_FAIL:
	case SPF_SOFTFAIL:
	case SPF_NEUTRAL:
		return SPF_M_NOMATCH;
	case SPF_NONE:
		spf_eval_diag(e, "include:%s: %s", name, e->none_why);
		*res = SPF_PERMERROR;
		return SPF_M_DONE;
	default:
		return SPF_M_DONE;
	}
}

/* redirect (RFC 7208 §6.1): the target's result, none a permerror. */
static enum spf_result
redirect(struct spf_eval *e, const char *domain, const struct spf_term *t,
    int in_include)
{
	enum spf_result	 res;
	char		 name[DNS_NAME_MAX + 1];

	if (follow(e, domain, t, name, &res) == -1)
		return res;
	if ((res = check_host(e, name, in_include)) == SPF_NONE) {
		spf_eval_diag(e, "redirect=%s: %s", name, e->none_why);
		res = SPF_PERMERROR;
	}
	return res;
}

/*
 * exp= (RFC 7208 §6.2): one TXT record, printable ASCII, expanded with
 * c, r and t allowed.  Anything wrong with it leaves no explanation.
 * 0, or -1 to wait for DNS.
 */
static int
explain(struct spf_eval *e, const char *domain, const struct spf_term *t)
{
	const struct dns_answer	*a;
	const struct dns_rr	*rr = NULL;
	enum spf_macro_status	 st;
	char			 name[DNS_NAME_MAX + 1];
	size_t			 k;
	int			 i;

	switch (spf_eval_expand(e, domain, t->spec, t->speclen, name)) {
	case SPF_X_NEED:
		return -1;
	case SPF_X_NAME:
		break;
	default:
		return 0;
	}
	if (spf_eval_lookup(e, name, DNS_T_TXT, &a) == -1)
		return -1;
	if (rr_count(a, DNS_T_TXT) != 1)
		return 0;
	for (i = 0; i < a->nrr; i++)
		if (a->rr[i].type == DNS_T_TXT)
			rr = &a->rr[i];
	for (k = 0; k < rr->u.txt.len; k++)
		if ((unsigned char)rr->u.txt.data[k] < 0x20 ||
		    (unsigned char)rr->u.txt.data[k] > 0x7e)
			return 0;
	if (expand(e, domain, rr->u.txt.data, rr->u.txt.len,
	    SPF_MACRO_EXPLAIN, e->out->explanation,
	    sizeof(e->out->explanation), &st) == -1)
		return -1;
	if (st != SPF_MACRO_OK)
		e->out->explanation[0] = '\0';
	return 0;
}

static enum spf_result
qualifier_result(char q)
{
	switch (q) {
	case '-':	return SPF_FAIL;
	case '~':	return SPF_SOFTFAIL;
	case '?':	return SPF_NEUTRAL;
	default:	return SPF_PASS;
	}
}

/*
 * check_host(<ip>, <domain>, <sender>) for one domain.  in_include: the
 * result only decides whether an include matches, so no exp= and no
 * diagnosis of matches.
 */
static enum spf_result
check_host(struct spf_eval *e, const char *domain, int in_include)
{
	struct spf_record	 r;
	struct spf_term		 t;
	enum spf_result		 res;
	enum spf_m		 m = SPF_M_NOMATCH;
	char			 why[256];
	size_t			 pos = 0;

	if (spf_eval_record(e, domain, &r, &res, why, sizeof(why)) == -1) {
		if (res != SPF_NONE && res != SPF_NEED_DNS)
			spf_eval_diag(e, "%s", why);
		return res;
	}
	if (spf_eval_push(e, domain, &res) == -1)
		return res;
	while (m == SPF_M_NOMATCH && spf_term_next(&r, &pos, &t)) {
		if (t.qual == 0)
			continue;
		if (t.kind == SPF_T_INCLUDE)
			m = include(e, domain, &t, &res);
		else
			m = spf_eval_mech(e, domain, &t, &res);
		if (m == SPF_M_SKIPPED)
			m = SPF_M_NOMATCH;
	}
	if (m == SPF_M_MATCH) {
		res = qualifier_result(t.qual);
		if (!in_include) {
			spf_eval_diag(e, "%s: \"%.*s\" matched", domain,
			    (int)t.len, t.text);
			if (res == SPF_FAIL && r.has_exp &&
			    explain(e, domain, &r.exp) == -1)
				res = SPF_NEED_DNS;
		}
	} else if (m == SPF_M_NOMATCH) {
		if (r.has_redirect)
			res = redirect(e, domain, &r.redirect, in_include);
		else {
			res = SPF_NEUTRAL;
			if (!in_include)
				spf_eval_diag(e, "%s: no term matched",
				    domain);
		}
	}
	e->depth--;
	return res;
}

enum spf_result
spf_check_host(const struct spf_request *req, const struct dns_source *src,
    struct spf_outcome *out)
{
	struct spf_eval	*e;
	enum spf_result	 res;

	memset(out, 0, sizeof(*out));
	/* The state is a few KiB: on the heap, not on lka's stack. */
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		snprintf(out->diag, sizeof(out->diag), "out of memory");
		return out->result = SPF_TEMPERROR;
	}
	spf_eval_init(e, req, NULL, src);
	e->out = out;
	if (e->family == 0) {
		spf_eval_diag(e, "no client address");
		res = SPF_PERMERROR;
	} else if ((res = check_host(e, e->domain, 0)) == SPF_NONE)
		spf_eval_diag(e, "%s: %s", e->domain, e->none_why);
	out->dns_terms = e->terms;
	out->void_lookups = e->voids;
	if (res == SPF_NEED_DNS)
		out->explanation[0] = '\0';
	else
		strlcpy(out->diag, e->diag, sizeof(out->diag));
	free(e);
	return out->result = res;
}
