/*
 * SPF record syntax (RFC 7208 §4.5, §4.6, §5, §6, §7.1): picking the one
 * "v=spf1" record out of a TXT answer, checking every term before any is
 * evaluated ("syntax errors anywhere in the record MUST be detected"),
 * and the rules for domain-specs and domain names.  No I/O.
 *
 * Errors are one line: the term, quoted with anything unprintable
 * escaped, and what is wrong with it.
 */
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "spf_eval.h"

#define SHOWN_MAX	60	/* bytes of a term quoted in an error */

static const struct {
	const char		*name;
	enum spf_term_kind	 kind;
} mechanisms[] = {
	{ "all",	SPF_T_ALL },
	{ "include",	SPF_T_INCLUDE },
	{ "a",		SPF_T_A },
	{ "mx",		SPF_T_MX },
	{ "ptr",	SPF_T_PTR },
	{ "ip4",	SPF_T_IP4 },
	{ "ip6",	SPF_T_IP6 },
	{ "exists",	SPF_T_EXISTS },
};

static int
is_alnum(int c)
{
	return spf_is_alpha(c) || spf_is_digit(c);
}

static int	term_err(char *, size_t, const struct spf_term *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));

/* Writes "\"term\": reason" and returns -1. */
static int
term_err(char *err, size_t errlen, const struct spf_term *t,
    const char *fmt, ...)
{
	va_list		 ap;
	char		 shown[4 * SHOWN_MAX + 4];
	size_t		 i, o = 0;
	unsigned char	 c;
	int		 n;

	if (err == NULL || errlen == 0)
		return -1;
	for (i = 0; i < t->len && i < SHOWN_MAX; i++) {
		c = t->text[i];
		if (c < 0x20 || c > 0x7e || c == '\\' || c == '"')
			o += snprintf(shown + o, sizeof(shown) - o, "\\x%02x",
			    c);
		else
			shown[o++] = c;
	}
	if (i < t->len)
		o += snprintf(shown + o, sizeof(shown) - o, "...");
	shown[o] = '\0';
	n = snprintf(err, errlen, "\"%s\": ", shown);
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * toplabel = ( *alphanum ALPHA *alphanum ) /
 *            ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
 */
static int
toplabel_ok(const char *s, size_t n)
{
	size_t	 i;
	int	 alpha = 0, dash = 0;

	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '-')
			dash = 1;
		else if (spf_is_alpha(s[i]))
			alpha = 1;
		else if (!spf_is_digit(s[i]))
			return 0;
	}
	return alpha || dash;
}

/*
 * domain-spec = macro-string domain-end
 * domain-end  = ( "." toplabel [ "." ] ) / macro-expand
 * (A dot after a closing macro is taken as well: it is ignored.)
 */
static int
domain_spec_check(const struct spf_term *t, const char *s, size_t n,
    char *err, size_t errlen)
{
	const char	*dot;
	size_t		 i;
	int		 ends_macro;

	if (n == 0)
		return term_err(err, errlen, t, "empty domain-spec");
	if (spf_macro_check(s, n, 0, NULL) == -1) {
		for (i = 0; i < n; i++)
			if ((unsigned char)s[i] <= 0x20 ||
			    (unsigned char)s[i] > 0x7e)
				return term_err(err, errlen, t,
				    "byte 0x%02x in domain-spec",
				    (unsigned char)s[i]);
		if (spf_macro_check(s, n, SPF_MACRO_ANY, NULL) == 0)
			return term_err(err, errlen, t, "macros c, r and t "
			    "are only allowed in explanation text");
		return term_err(err, errlen, t, "invalid macro");
	}
	if (s[n - 1] == '.')
		n--;
	if (spf_macro_check(s, n, 0, &ends_macro) == 0 && ends_macro)
		return 0;
	for (dot = NULL, i = n; i > 0; i--)
		if (s[i - 1] == '.') {
			dot = s + i - 1;
			break;
		}
	if (dot == NULL || !toplabel_ok(dot + 1, s + n - dot - 1))
		return term_err(err, errlen, t, "domain-spec must end in a "
		    "valid top label or a macro");
	return 0;
}

/* 1*DIGIT, no leading zero, at most max; -1 if not. */
static int
cidr_parse(const char *s, size_t n, int max)
{
	size_t	 i;
	int	 v = 0;

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (!spf_is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* Strict dotted quad (ip4-network): four 0-255, no leading zeros. */
static int
ip4_parse(const char *s, size_t n, uint8_t *out)
{
	size_t	 i = 0, start;
	int	 part, v;

	for (part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= n || s[i] != '.')
				return -1;
			i++;
		}
		start = i;
		while (i < n && spf_is_digit(s[i]))
			i++;
		if (i == start || i - start > 3 ||
		    (i - start > 1 && s[start] == '0'))
			return -1;
		for (v = 0; start < i; start++)
			v = v * 10 + (s[start] - '0');
		if (v > 255)
			return -1;
		out[part] = v;
	}
	return i == n ? 0 : -1;
}

static int
ip6_parse(const char *s, size_t n, uint8_t *out)
{
	char	 buf[INET6_ADDRSTRLEN];

	if (n == 0 || n >= sizeof(buf) || memchr(s, '\0', n) != NULL)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, out) == 1 ? 0 : -1;
}

/* ip4 / ip6: ":" network [ "/" cidr ] */
static int
ip_term(struct spf_term *t, const char *rest, size_t rlen, char *err,
    size_t errlen)
{
	const char	*slash;
	size_t		 nlen;
	int		 v6 = t->kind == SPF_T_IP6, max = v6 ? 128 : 32, c;

	if (rlen == 0 || rest[0] != ':')
		return term_err(err, errlen, t, "needs :address");
	rest++;
	nlen = rlen - 1;
	if ((slash = memchr(rest, '/', nlen)) != NULL) {
		c = cidr_parse(slash + 1, rest + nlen - slash - 1, max);
		if (c == -1)
			return term_err(err, errlen, t, "invalid CIDR length "
			    "(0-%d)", max);
		nlen = slash - rest;
		if (v6)
			t->cidr6 = c;
		else
			t->cidr4 = c;
	}
	if ((v6 ? ip6_parse(rest, nlen, t->net) :
	    ip4_parse(rest, nlen, t->net)) == -1)
		return term_err(err, errlen, t, "invalid %s address",
		    v6 ? "IPv6" : "IPv4");
	return 0;
}

/* Trailing "/n" (len 0-32), "//n" (0-128) or "/n//m" of a or mx. */
static int
dual_cidr(struct spf_term *t, const char *s, size_t *len, char *err,
    size_t errlen)
{
	size_t	 n = *len, i;
	int	 pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = n; i > 0 && spf_is_digit(s[i - 1]); i--)
			;
		if (i == n || i == 0 || s[i - 1] != '/')
			break;
		if (pass == 0 && i >= 2 && s[i - 2] == '/') {
			if ((t->cidr6 = cidr_parse(s + i, n - i, 128)) == -1)
				return term_err(err, errlen, t,
				    "invalid IPv6 CIDR length (0-128)");
			n = i - 2;
			continue;
		}
		if ((t->cidr4 = cidr_parse(s + i, n - i, 32)) == -1)
			return term_err(err, errlen, t,
			    "invalid IPv4 CIDR length (0-32)");
		n = i - 1;
		break;
	}
	*len = n;
	return 0;
}

static int
modifier(struct spf_term *t, const char *name, size_t nlen,
    const char *value, size_t vlen, char *err, size_t errlen)
{
	t->spec = value;
	t->speclen = vlen;
	if (nlen == 8 && strncasecmp(name, "redirect", 8) == 0) {
		t->kind = SPF_T_REDIRECT;
		return domain_spec_check(t, value, vlen, err, errlen);
	}
	if (nlen == 3 && strncasecmp(name, "exp", 3) == 0) {
		t->kind = SPF_T_EXP;
		return domain_spec_check(t, value, vlen, err, errlen);
	}
	t->kind = SPF_T_UNKNOWN;
	if (spf_macro_check(value, vlen, SPF_MACRO_ANY, NULL) == -1)
		return term_err(err, errlen, t, "invalid macro-string");
	return 0;
}

/* The argument of a mechanism: what follows its name. */
static int
mechanism_arg(struct spf_term *t, const char *rest, size_t rlen, char *err,
    size_t errlen)
{
	switch (t->kind) {
	case SPF_T_ALL:
		if (rlen != 0)
			return term_err(err, errlen, t, "all takes no "
			    "argument");
		return 0;
	case SPF_T_IP4:
	case SPF_T_IP6:
		return ip_term(t, rest, rlen, err, errlen);
	case SPF_T_A:
	case SPF_T_MX:
		if (dual_cidr(t, rest, &rlen, err, errlen) == -1)
			return -1;
		break;
	default:
		break;
	}
	if (rlen == 0 && (t->kind == SPF_T_INCLUDE ||
	    t->kind == SPF_T_EXISTS))
		return term_err(err, errlen, t, "needs :domain");
	if (rlen == 0)
		return 0;
	if (rest[0] != ':')
		return term_err(err, errlen, t, "unexpected \"%c\"",
		    rest[0]);
	t->spec = rest + 1;
	t->speclen = rlen - 1;
	return domain_spec_check(t, t->spec, t->speclen, err, errlen);
}

/*
 * One term: directive = [ qualifier ] mechanism, or modifier =
 * name "=" macro-string with name = ALPHA *( ALPHA / DIGIT / "-" / "_" /
 * "." ).  redirect and exp are never unknown modifiers.
 */
int
spf_term_parse(const char *s, size_t len, struct spf_term *t, char *err,
    size_t errlen)
{
	size_t	 p = 0, nstart, nlen, i;
	int	 explicit = 0;

	memset(t, 0, sizeof(*t));
	t->text = s;
	t->len = len;
	t->cidr4 = 32;
	t->cidr6 = 128;
	t->qual = '+';
	if (len > 0 && s[0] != '\0' && strchr("+-~?", s[0]) != NULL) {
		t->qual = s[0];
		explicit = 1;
		p = 1;
	}
	nstart = p;
	if (p < len && spf_is_alpha(s[p]))
		for (p++; p < len && (is_alnum(s[p]) || s[p] == '-' ||
		    s[p] == '_' || s[p] == '.'); p++)
			;
	nlen = p - nstart;
	if (p < len && s[p] == '=' && nlen > 0 && !explicit) {
		t->qual = 0;
		return modifier(t, s + nstart, nlen, s + p + 1, len - p - 1,
		    err, errlen);
	}
	if (nlen == 0)
		return term_err(err, errlen, t, "not a mechanism or "
		    "modifier");
	for (i = 0; i < sizeof(mechanisms) / sizeof(mechanisms[0]); i++)
		if (strlen(mechanisms[i].name) == nlen &&
		    strncasecmp(mechanisms[i].name, s + nstart, nlen) == 0)
			break;
	if (i == sizeof(mechanisms) / sizeof(mechanisms[0]))
		return term_err(err, errlen, t, "unknown mechanism");
	t->kind = mechanisms[i].kind;
	return mechanism_arg(t, s + p, len - p, err, errlen);
}

/* The next space-separated term from *pos; 0 at the end. */
static int
next_token(const char *s, size_t len, size_t *pos, const char **tok,
    size_t *tlen)
{
	size_t	 p = *pos, start;

	while (p < len && s[p] == ' ')
		p++;
	if (p == len)
		return 0;
	for (start = p; p < len && s[p] != ' '; p++)
		;
	*tok = s + start;
	*tlen = p - start;
	*pos = p;
	return 1;
}

static int
is_spf1(const char *s, size_t len)
{
	return len >= 6 && strncasecmp(s, "v=spf1", 6) == 0 &&
	    (len == 6 || s[6] == ' ');
}

/*
 * The SPF records among the TXT records of an answer (RFC 7208 §4.5):
 * returns how many there are, with the first in *rec, *len.
 */
int
spf_record_select(const struct dns_answer *a, const char **rec, size_t *len)
{
	int	 i, n = 0;

	for (i = 0; a->status == DNS_ANSWER && i < a->nrr; i++) {
		if (a->rr[i].type != DNS_T_TXT || a->rr[i].u.txt.data == NULL ||
		    !is_spf1(a->rr[i].u.txt.data, a->rr[i].u.txt.len))
			continue;
		if (n++ == 0) {
			*rec = a->rr[i].u.txt.data;
			*len = a->rr[i].u.txt.len;
		}
	}
	return n;
}

/* Checks a whole record; fills r for spf_term_next(). */
int
spf_record_parse(const char *s, size_t len, struct spf_record *r, char *err,
    size_t errlen)
{
	struct spf_term	 t;
	const char	*tok;
	size_t		 pos = 6, tlen, i;

	memset(r, 0, sizeof(*r));
	r->text = s;
	r->len = len;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
			snprintf(err, errlen, "byte 0x%02x at offset %zu is "
			    "not printable ASCII", (unsigned char)s[i], i);
			return -1;
		}
	if (!is_spf1(s, len)) {
		snprintf(err, errlen, "not a v=spf1 record");
		return -1;
	}
	while (next_token(s, len, &pos, &tok, &tlen)) {
		if (spf_term_parse(tok, tlen, &t, err, errlen) == -1)
			return -1;
		r->nterms++;
		if (t.kind == SPF_T_ALL)
			r->has_all = 1;
		if (t.kind == SPF_T_REDIRECT) {
			if (r->has_redirect++)
				return term_err(err, errlen, &t, "a second "
				    "redirect= in the record");
			r->redirect = t;
		} else if (t.kind == SPF_T_EXP) {
			if (r->has_exp++)
				return term_err(err, errlen, &t, "a second "
				    "exp= in the record");
			r->exp = t;
		}
	}
	return 0;
}

/* The terms of a parsed record in order; *pos starts at 0. */
int
spf_term_next(const struct spf_record *r, size_t *pos, struct spf_term *t)
{
	const char	*tok;
	size_t		 tlen;

	if (*pos < 6)
		*pos = 6;
	if (!next_token(r->text, r->len, pos, &tok, &tlen))
		return 0;
	return spf_term_parse(tok, tlen, t, NULL, 0) == 0 ? 1 : 0;
}

/*
 * A name a query can be made for: labels of 1-63 bytes, at most 253
 * bytes, one trailing dot allowed.
 */
int
spf_name_valid(const char *name)
{
	size_t	 len = strlen(name), label = 0, i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > SPF_DOMAIN_MAX)
		return 0;
	for (i = 0; i <= len; i++) {
		if (i < len && name[i] != '.') {
			label++;
			continue;
		}
		if (label == 0 || label > SPF_LABEL_MAX)
			return 0;
		label = 0;
	}
	return 1;
}

/*
 * A domain check_host() may start from (RFC 7208 §4.3): a valid name
 * of two labels or more, printable, not an address literal.
 */
int
spf_domain_valid(const char *name)
{
	const char	*dot, *top;
	size_t		 len = strlen(name), i;

	if (!spf_name_valid(name) || name[0] == '[')
		return 0;
	if (name[len - 1] == '.')
		len--;
	for (i = 0, dot = NULL; i < len; i++) {
		if ((unsigned char)name[i] <= 0x20 ||
		    (unsigned char)name[i] > 0x7e)
			return 0;
		if (name[i] == '.')
			dot = name + i;
	}
	if (dot == NULL)
		return 0;
	for (top = dot + 1; top < name + len && spf_is_digit(*top); top++)
		;
	return top < name + len;
}

/* The length of a name without its trailing dot. */
static size_t
name_len(const char *s)
{
	size_t	 n = strlen(s);

	return n > 0 && s[n - 1] == '.' ? n - 1 : n;
}

/*
 * 1 if name is domain, 2 if it is a subdomain of it, else 0; without
 * regard to case and to a trailing dot.
 */
int
spf_name_in(const char *name, const char *domain)
{
	size_t	 ln = name_len(name), ld = name_len(domain);

	if (ln < ld || strncasecmp(name + ln - ld, domain, ld) != 0)
		return 0;
	if (ln == ld)
		return 1;
	return ln > ld + 1 && name[ln - ld - 1] == '.' ? 2 : 0;
}

int
spf_name_eq(const char *a, const char *b)
{
	return spf_name_in(a, b) == 1;
}
