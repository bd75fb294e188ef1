/*
 * The operator's view of a domain's SPF tree (sendgatectl spf walk, the
 * diagnosis of a domain check): every term looked at, every include and
 * redirect followed, with the running count of DNS-querying terms and
 * void lookups, where the client address matches, and the first thing
 * to fix.  It asks through the same mechanisms as check_host(), with
 * the limits counted but not enforced; what it asks is capped by
 * SPF_WALK_TERMS_MAX, SPF_WALK_DEPTH_MAX and loop detection.
 *
 * Lines come out as the walk goes: a run that ends in SPF_NEED_DNS has
 * printed part of the tree, which the caller drops before the rerun.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spf_eval.h"

#define WALK_REC_MAX	(4 * DNS_TXT_MAX + 1)	/* a record, escaped */

struct walk {
	struct spf_eval			*e;
	const struct spf_walk_cb	*cb;
	struct spf_walk_summary		*sum;
	const char			*want;
	int				 stopped;	/* term cap reached */
	char				 problem[256];	/* first permerror */
	char				 temp[256];	/* first temperror */
	char				 rec[WALK_REC_MAX];
	char				 line[WALK_REC_MAX + 2 * DNS_NAME_MAX +
					    64];
};

static void	emit(struct walk *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	note(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
emit(struct walk *w, int depth, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(w->line, sizeof(w->line), fmt, ap);
	va_end(ap);
	if (w->cb != NULL && w->cb->line != NULL)
		w->cb->line(w->cb->arg, depth, w->line);
}

/* Keeps the first of a kind of problem. */
static void
note(char *buf, size_t len, const char *fmt, ...)
{
	va_list	 ap;

	if (buf[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* A problem the evaluation left in e->diag, filed as what it was. */
static void
take_diag(struct walk *w, enum spf_result res)
{
	if (res == SPF_TEMPERROR)
		note(w->temp, sizeof(w->temp), "%s", w->e->diag);
	else
		note(w->problem, sizeof(w->problem), "%s", w->e->diag);
	w->e->diag[0] = '\0';
}

/* A record quoted for a line: printable, quotes and backslashes escaped. */
static const char *
quoted(const char *s, size_t len, char *buf, size_t bufsz)
{
	size_t		 i, o = 0;
	unsigned char	 c;

	for (i = 0; i < len && o + 5 < bufsz; i++) {
		c = s[i];
		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			o += snprintf(buf + o, bufsz - o, "\\x%02x", c);
		else
			buf[o++] = c;
	}
	buf[o] = '\0';
	return buf;
}

static int
over_cap(struct walk *w, int depth)
{
	if (w->e->terms <= SPF_WALK_TERMS_MAX)
		return 0;
	w->e->diag[0] = '\0';		/* the count's own complaint */
	if (!w->stopped)
		emit(w, depth, "walk stopped: over %d DNS-querying terms",
		    SPF_WALK_TERMS_MAX);
	w->stopped = 1;
	return 1;
}

static const char *
counts(struct walk *w, char *buf, size_t len)
{
	snprintf(buf, len, "(terms %d/%d, void %d/%d)", w->e->terms,
	    SPF_DNS_TERMS_MAX, w->e->voids, SPF_VOID_MAX);
	return buf;
}

/* a, mx, ptr, exists: one line with the counts and what it found. */
static int
walk_mech(struct walk *w, const char *domain, const struct spf_term *t,
    int depth)
{
	struct spf_eval	*e = w->e;
	enum spf_result	 res = SPF_NEUTRAL;
	enum spf_m	 m;
	char		 what[sizeof(e->diag) + 8], c[64];
	int		 voids = e->voids;

	if (w->stopped)
		return 0;
	m = spf_eval_mech(e, domain, t, &res);
	if (m == SPF_M_DONE && res == SPF_NEED_DNS)
		return -1;
	if (over_cap(w, depth + 1))
		return 0;
	what[0] = '\0';
	if (m == SPF_M_MATCH && e->family != 0)
		snprintf(what, sizeof(what), " matches %s", e->c);
	else if (m == SPF_M_SKIPPED)
		snprintf(what, sizeof(what), " not evaluated: needs the "
		    "client address");
	else if (m == SPF_M_DONE) {
		snprintf(what, sizeof(what), ": %s", e->diag);
		take_diag(w, res);
	} else if (e->voids > voids)
		snprintf(what, sizeof(what), " void");
	emit(w, depth + 1, "%.*s %s%s", (int)t->len, t->text,
	    counts(w, c, sizeof(c)), what);
	return 0;
}

static enum spf_result	walk_domain(struct walk *, const char *, int);

/* include and redirect: the target with its record, one level deeper. */
static int
walk_follow(struct walk *w, const char *domain, const struct spf_term *t,
    int depth)
{
	struct spf_eval	*e = w->e;
	enum spf_result	 res = SPF_NEUTRAL;
	const char	*kind = t->kind == SPF_T_REDIRECT ? "redirect=" :
			    "include:";
	char		 name[DNS_NAME_MAX + 1], c[64];

	if (w->stopped)
		return 0;
	spf_eval_count(e, domain, t, &res);
	if (over_cap(w, depth + 1))
		return 0;
	switch (spf_eval_expand(e, domain, t->spec, t->speclen, name)) {
	case SPF_X_NEED:
		return -1;
	case SPF_X_NOVALUE:
		emit(w, depth + 1, "%.*s %s not followed: needs the client "
		    "address", (int)t->len, t->text, counts(w, c, sizeof(c)));
		return 0;
	case SPF_X_INVALID:
		emit(w, depth + 1, "%.*s %s: not a valid domain name",
		    (int)t->len, t->text, counts(w, c, sizeof(c)));
		note(w->problem, sizeof(w->problem), "\"%.*s\" in %s: the "
		    "target is not a valid domain name", (int)t->len, t->text,
		    domain);
		return 0;
	case SPF_X_NAME:
		break;
	}
	if (w->want != NULL && spf_name_eq(name, w->want))
		w->sum->include_found = 1;
	if (spf_eval_loop(e, name, t, &res)) {
		emit(w, depth + 1, "%s%s %s: %s", kind, name,
		    counts(w, c, sizeof(c)), e->diag);
		take_diag(w, res);
		return 0;
	}
	if (e->depth > SPF_WALK_DEPTH_MAX) {
		emit(w, depth + 1, "%s%s %s not followed: nested deeper than "
		    "%d", kind, name, counts(w, c, sizeof(c)),
		    SPF_WALK_DEPTH_MAX);
		return 0;
	}
	emit(w, depth + 1, "%s%s %s", kind, name, counts(w, c, sizeof(c)));
	if ((res = walk_domain(w, name, depth + 2)) == SPF_NEED_DNS)
		return -1;
	if (res == SPF_NONE)
		note(w->problem, sizeof(w->problem), "%s%s: %s", kind, name,
		    e->none_why);
	return 0;
}

/*
 * One domain: its record line, then its terms one level deeper.  NONE
 * (no record), NEED_DNS, or NEUTRAL when the walk goes on.
 */
static enum spf_result
walk_domain(struct walk *w, const char *domain, int depth)
{
	struct spf_eval	*e = w->e;
	struct spf_record r;
	struct spf_term	 t;
	enum spf_result	 res;
	char		 why[256];
	size_t		 pos = 0;
	int		 rc = 0;

	if (spf_eval_record(e, domain, &r, &res, why, sizeof(why)) == -1) {
		if (res == SPF_NEED_DNS || res == SPF_NONE) {
			if (res == SPF_NONE)
				emit(w, depth, "%s: %s", domain, why);
			return res;
		}
		emit(w, depth, "%s", why);
		note(res == SPF_TEMPERROR ? w->temp : w->problem,
		    sizeof(w->problem), "%s", why);
		return SPF_NEUTRAL;
	}
	w->sum->records++;
	emit(w, depth, "%s: \"%s\"", domain, quoted(r.text, r.len, w->rec,
	    sizeof(w->rec)));
	if (spf_eval_push(e, domain, &res) == -1)
		return SPF_NEUTRAL;
	while (rc == 0 && spf_term_next(&r, &pos, &t)) {
		switch (t.kind) {
		case SPF_T_IP4:
		case SPF_T_IP6:
			if (spf_eval_mech(e, domain, &t, &res) == SPF_M_MATCH)
				emit(w, depth + 1, "%.*s matches %s",
				    (int)t.len, t.text, e->c);
			break;
		case SPF_T_INCLUDE:
			rc = walk_follow(w, domain, &t, depth);
			break;
		case SPF_T_A:
		case SPF_T_MX:
		case SPF_T_PTR:
		case SPF_T_EXISTS:
			rc = walk_mech(w, domain, &t, depth);
			break;
		default:
			break;
		}
	}
	/* Like check_host(): redirect after the mechanisms, not with all. */
	if (rc == 0 && r.has_redirect && r.has_all)
		emit(w, depth + 1, "%.*s ignored: the record has all",
		    (int)r.redirect.len, r.redirect.text);
	else if (rc == 0 && r.has_redirect)
		rc = walk_follow(w, domain, &r.redirect, depth);
	e->depth--;
	return rc == -1 ? SPF_NEED_DNS : SPF_NEUTRAL;
}

static void
summarize(struct walk *w, const char *domain, enum spf_result top)
{
	struct spf_walk_summary	*sum = w->sum;

	sum->dns_terms = w->e->terms;
	sum->void_lookups = w->e->voids;
	if (top == SPF_NONE)
		note(sum->diag, sizeof(sum->diag), "%s: %s", domain,
		    w->e->none_why);
	if (w->problem[0] != '\0')
		note(sum->diag, sizeof(sum->diag), "%s", w->problem);
	if (sum->dns_terms > SPF_DNS_TERMS_MAX)
		note(sum->diag, sizeof(sum->diag), "%d DNS-querying terms "
		    "(limit %d)", sum->dns_terms, SPF_DNS_TERMS_MAX);
	if (sum->void_lookups > SPF_VOID_MAX)
		note(sum->diag, sizeof(sum->diag), "void lookups over the "
		    "limit of %d (%d in the tree)", SPF_VOID_MAX,
		    sum->void_lookups);
	if (w->temp[0] != '\0')
		note(sum->diag, sizeof(sum->diag), "%s", w->temp);
	if (w->want != NULL && !sum->include_found)
		note(sum->diag, sizeof(sum->diag), "include:%s missing",
		    w->want);
}

/* The result for the client address, as the walk's last line. */
static enum spf_result
walk_result(struct walk *w, const struct spf_request *ctx,
    const char *domain, const struct dns_source *src)
{
	struct spf_request	 req = *ctx;
	struct spf_outcome	 out;

	req.domain = domain;
	if (spf_check_host(&req, src, &out) == SPF_NEED_DNS)
		return SPF_NEED_DNS;
	emit(w, 0, "result for %s: %s (%s)", w->e->c,
	    spf_result_name(out.result), out.diag);
	return out.result;
}

enum spf_result
spf_walk(const char *domain, const struct spf_request *ctx,
    const char *want_include, const struct dns_source *src,
    const struct spf_walk_cb *cb, struct spf_walk_summary *sum)
{
	static const struct spf_request	 noctx;
	struct walk			*w;
	enum spf_result			 top, res;

	memset(sum, 0, sizeof(*sum));
	if (ctx == NULL)
		ctx = &noctx;
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->e = calloc(1, sizeof(*w->e))) == NULL) {
		free(w);
		snprintf(sum->diag, sizeof(sum->diag), "out of memory");
		return SPF_TEMPERROR;
	}
	w->cb = cb;
	w->sum = sum;
	w->want = want_include != NULL && want_include[0] != '\0' ?
	    want_include : NULL;
	spf_eval_init(w->e, ctx, domain, src);
	w->e->terms_max = SPF_WALK_TERMS_MAX;
	w->e->voids_max = INT_MAX;
	if ((top = walk_domain(w, w->e->domain, 0)) == SPF_NEED_DNS) {
		res = SPF_NEED_DNS;
		goto done;
	}
	summarize(w, w->e->domain, top);
	if (w->e->family != 0)
		res = walk_result(w, ctx, w->e->domain, src);
	else if (top == SPF_NONE)
		res = SPF_NONE;
	else if (w->problem[0] != '\0' || sum->dns_terms > SPF_DNS_TERMS_MAX ||
	    sum->void_lookups > SPF_VOID_MAX)
		res = SPF_PERMERROR;
	else if (w->temp[0] != '\0')
		res = SPF_TEMPERROR;
	else
		res = SPF_NEUTRAL;
done:
	if (res == SPF_NEED_DNS)
		memset(sum, 0, sizeof(*sum));
	free(w->e);
	free(w);
	return res;
}
