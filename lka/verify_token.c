/*
 * Domain ownership TXT records (see verify_token.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "verify_token.h"

#define SHOWN_TOKEN_MAX	12	/* bytes of another token in a message */

static enum verify_result say(enum verify_result, char *, size_t,
		    const char *, ...) __attribute__((format(printf, 4, 5)));

static enum verify_result
say(enum verify_result res, char *diag, size_t diaglen, const char *fmt, ...)
{
	va_list	 ap;

	if (diag != NULL && diaglen > 0) {
		va_start(ap, fmt);
		vsnprintf(diag, diaglen, fmt, ap);
		va_end(ap);
	}
	return res;
}

/*
 * The start of a token from DNS for a message: token characters as
 * they are, any other byte as '?', so that nothing a zone holds can
 * break the line.
 */
static const char *
shown(char *buf, const char *s, size_t len)
{
	size_t	 i, n = len < SHOWN_TOKEN_MAX ? len : SHOWN_TOKEN_MAX;
	char	 c;

	for (i = 0; i < n; i++) {
		c = s[i];
		buf[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' ? c : '?';
	}
	memcpy(buf + n, n < len ? "..." : "", n < len ? 4 : 1);
	return buf;
}

/* Equal but for letter case; NUL bytes in the record never match. */
static int
case_only(const char *data, size_t len, const char *want, size_t wantlen)
{
	return len == wantlen && memchr(data, '\0', len) == NULL &&
	    strncasecmp(data, want, len) == 0;
}

const char *
verify_result_name(enum verify_result r)
{
	switch (r) {
	case VERIFY_FOUND:
		return "found";
	case VERIFY_MISSING:
		return "missing";
	case VERIFY_TEMPFAIL:
		return "tempfail";
	}
	return "unknown";
}

enum verify_result
verify_token_check(const struct dns_answer *ans, const char *prefix,
    const char *token, char *diag, size_t diaglen)
{
	char			 want[DNS_TXT_MAX + 1];
	char			 buf[SHOWN_TOKEN_MAX + 4];
	const char		*data, *other = NULL;
	size_t			 len, wantlen, headlen, otherlen = 0;
	int			 i, n = 0, w, near = 0, ucase = 0;

	if (ans == NULL || ans->status == DNS_TEMPFAIL)
		return say(VERIFY_TEMPFAIL, diag, diaglen,
		    "DNS temporary failure: %s", ans == NULL ||
		    ans->why[0] == '\0' ? "no answer" : ans->why);
	if (prefix == NULL || token == NULL || token[0] == '\0')
		return say(VERIFY_MISSING, diag, diaglen,
		    "no verification token to look for");
	w = snprintf(want, sizeof(want), "%s" VERIFY_SUFFIX "%s", prefix,
	    token);
	if (w < 0 || (size_t)w >= sizeof(want))
		return say(VERIFY_MISSING, diag, diaglen,
		    "verification token too long for a TXT record");
	wantlen = w;
	headlen = strlen(prefix) + strlen(VERIFY_SUFFIX);
	if (ans->status == DNS_NXDOMAIN)
		return say(VERIFY_MISSING, diag, diaglen,
		    "no TXT record at the domain (NXDOMAIN)");

	for (i = 0; ans->status == DNS_ANSWER && i < ans->nrr; i++) {
		if (ans->rr[i].type != DNS_T_TXT)
			continue;
		n++;
		data = ans->rr[i].u.txt.data;
		len = ans->rr[i].u.txt.len;
		if (len == wantlen && memcmp(data, want, len) == 0)
			return say(VERIFY_FOUND, diag, diaglen,
			    "verification TXT found");
		if (case_only(data, len, want, wantlen))
			ucase = 1;
		else if (memmem(data, len, want, wantlen) != NULL)
			near = 1;
		else if (other == NULL && len > headlen &&
		    memcmp(data, want, headlen) == 0) {
			other = data + headlen;
			otherlen = len - headlen;
		}
	}
	if (n == 0)
		return say(VERIFY_MISSING, diag, diaglen,
		    "no TXT records at the domain");
	if (ucase)
		return say(VERIFY_MISSING, diag, diaglen, "a TXT record has "
		    "the token in other letter case; it must be exactly %s",
		    want);
	if (near)
		return say(VERIFY_MISSING, diag, diaglen, "a TXT record holds "
		    "%s with other text; the record must be exactly that",
		    want);
	if (other != NULL)
		return say(VERIFY_MISSING, diag, diaglen, "a TXT record has a "
		    "different token (%s" VERIFY_SUFFIX "%s)", prefix,
		    shown(buf, other, otherlen));
	return say(VERIFY_MISSING, diag, diaglen, "%d TXT record%s, none is "
	    "%s", n, n == 1 ? "" : "s", want);
}
