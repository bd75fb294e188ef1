/*
 * SMTP command, path and parameter parsing (RFC 5321 4.1, RFC 1870,
 * RFC 6152, RFC 6531, RFC 3461, RFC 3030, RFC 4954).  Sans-I/O: the
 * session hands in a line, gets back a result or the reply to send.
 *
 * The grammar is strict: a path is exactly "<" [route ":"] mailbox ">",
 * no comments, no bare addresses.  The local part is validated but kept
 * opaque; only the domain after the (single) unquoted "@" is routed on.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <string.h>

#include "smtp_parse.h"

#define KEYWORD_MAX	32

enum path_err {
	PATH_OK = 0,
	PATH_SYNTAX,		/* not "<...>" at all: 5.5.4 */
	PATH_ADDR		/* bad address inside the brackets: 5.1.x */
};

static const struct {
	const char	*name;
	enum smtp_verb	 verb;
} verbs[] = {
	{ "HELO", SMTP_HELO },
	{ "EHLO", SMTP_EHLO },
	{ "MAIL", SMTP_MAIL },
	{ "RCPT", SMTP_RCPT },
	{ "DATA", SMTP_DATA },
	{ "BDAT", SMTP_BDAT },
	{ "RSET", SMTP_RSET },
	{ "NOOP", SMTP_NOOP },
	{ "QUIT", SMTP_QUIT },
	{ "VRFY", SMTP_VRFY },
	{ "EXPN", SMTP_EXPN },
	{ "HELP", SMTP_HELP },
	{ "STARTTLS", SMTP_STARTTLS },
	{ "AUTH", SMTP_AUTH },
};

static int
reply(struct smtp_reply_err *err, int code, const char *enhanced,
    const char *text)
{
	if (err != NULL) {
		err->code = code;
		err->enhanced = enhanced;
		err->text = text;
	}
	return -1;
}

/* Locale-independent ASCII helpers: the daemon must not depend on LC_*. */
static int
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(unsigned char c)
{
	return is_alpha(c) || is_digit(c);
}

static unsigned char
to_upper(unsigned char c)
{
	return (c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c;
}

static int
ncaseeq(const char *a, const char *b, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (to_upper(a[i]) != to_upper(b[i]))
			return 0;
	return 1;
}

/* a equal to the NUL-terminated b, ignoring ASCII case. */
static int
caseeq(const char *a, size_t alen, const char *b)
{
	return alen == strlen(b) && ncaseeq(a, b, alen);
}

/* RFC 5321 atext (RFC 5322 3.2.3); 8-bit bytes are handled by callers. */
static int
is_atext(unsigned char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~",
	    c) != NULL);
}

/* RFC 5321 qtextSMTP: %d32-33 / %d35-91 / %d93-126 */
static int
is_qtext(unsigned char c)
{
	return c == 32 || c == 33 || (c >= 35 && c <= 91) ||
	    (c >= 93 && c <= 126);
}

static int
hexval(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
smtp_utf8_valid(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n, k;
	uint32_t		 cp;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		/* C0, C1 can only start overlong forms; F5..FF are > U+10FFFF */
		if (p[i] >= 0xc2 && p[i] <= 0xdf) {
			n = 1;
			cp = p[i] & 0x1f;
		} else if (p[i] >= 0xe0 && p[i] <= 0xef) {
			n = 2;
			cp = p[i] & 0x0f;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			n = 3;
			cp = p[i] & 0x07;
		} else
			return 0;
		if (len - i - 1 < n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

int
smtp_xtext_decode(const char *in, char *out, size_t outlen)
{
	const unsigned char	*p = (const unsigned char *)in;
	size_t			 o = 0;
	int			 hi, lo;
	unsigned char		 c;

	if (outlen == 0)
		return -1;
	for (; *p != '\0'; p++) {
		c = *p;
		if (c == '+') {
			if ((hi = hexval(p[1])) == -1 ||
			    (lo = hexval(p[2])) == -1)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			p += 2;
			/* CR, LF, NUL and friends would reach envelopes/logs */
			if (c < 0x20 || c >= 0x7f)
				return -1;
		} else if (c < 33 || c > 126 || c == '=')
			return -1;
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (int)o;
}

int
smtp_parse_verb(const char *line, size_t len, enum smtp_verb *verb,
    const char **args, struct smtp_reply_err *err)
{
	size_t		 i, vlen;
	unsigned char	 c;

	*verb = SMTP_UNKNOWN;
	*args = NULL;
	if (line == NULL)
		return reply(err, 500, "5.5.2", "Syntax error");
	/* Checked over len, not strlen: a NUL must not hide the rest. */
	if (memchr(line, '\0', len) != NULL)
		return reply(err, 500, "5.5.2", "NUL byte in command");
	if (memchr(line, '\r', len) != NULL || memchr(line, '\n', len) != NULL)
		return reply(err, 500, "5.5.2", "Bare CR or LF in command");
	for (vlen = 0; vlen < len && line[vlen] != ' '; vlen++) {
		c = line[vlen];
		if (c <= 0x20 || c >= 0x7f)
			return reply(err, 500, "5.5.2",
			    "Invalid character in command");
	}
	if (vlen == 0)
		return reply(err, 500, "5.5.2", "Syntax error");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (caseeq(line, vlen, verbs[i].name)) {
			*verb = verbs[i].verb;
			*args = vlen < len ? line + vlen + 1 : line + len;
			return 0;
		}
	}
	return reply(err, 500, "5.5.1", "Command unrecognized");
}

/*
 * A domain (RFC 5321 4.1.2 Domain): labels of letters, digits and inner
 * hyphens, 1..63 octets each, 255 in all.  8-bit bytes count as letters
 * (U-labels under SMTPUTF8; the caller decides whether they may appear).
 */
static int
check_domain(const char *s, size_t len, int underscore)
{
	size_t		 i, label = 0;
	unsigned char	 c, prev = '.';

	if (len == 0 || len > SMTP_DOMAIN_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '.') {
			if (label == 0 || prev == '-')
				return -1;
			label = 0;
		} else if (is_alnum(c) || c >= 0x80 ||
		    (underscore && c == '_')) {
			if (++label > SMTP_LABEL_MAX)
				return -1;
		} else if (c == '-') {
			if (label == 0)
				return -1;
			if (++label > SMTP_LABEL_MAX)
				return -1;
		} else
			return -1;
		prev = c;
	}
	if (label == 0 || prev == '-')
		return -1;
	return 0;
}

/* "[192.0.2.1]" or "[IPv6:2001:db8::1]"; no general literals. */
static int
check_literal(const char *s, size_t len)
{
	char		 buf[INET6_ADDRSTRLEN + 8];
	unsigned char	 addr[sizeof(struct in6_addr)];
	int		 af = AF_INET;

	if (len < 3 || s[0] != '[' || s[len - 1] != ']')
		return -1;
	s++;
	len -= 2;
	if (len > 5 && ncaseeq(s, "IPv6:", 5)) {
		af = AF_INET6;
		s += 5;
		len -= 5;
	}
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(af, buf, addr) == 1 ? 0 : -1;
}

/* Dot-string: atoms (atext, or 8-bit under SMTPUTF8) joined by single dots. */
static int
check_dot_string(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return -1;
	for (i = 1; i < len; i++)
		if (s[i] == '.' && s[i - 1] == '.')
			return -1;
	return 0;
}

/*
 * Parse "<...>" at s.  On success *end points after the ">".  A source
 * route is checked and dropped (RFC 5321 3.6.1, C.): we act on the
 * mailbox only and never contact the route's hosts.
 */
static enum path_err
parse_path(const char *s, const char **end, int rcpt, struct smtp_path *path)
{
	const unsigned char	*p = (const unsigned char *)s;
	const unsigned char	*start, *lp, *dp;
	size_t			 llen, dlen, i;

	memset(path, 0, sizeof(*path));
	if (*p != '<')
		return PATH_SYNTAX;
	p++;
	if (*p == '>') {
		if (rcpt)
			return PATH_ADDR;
		path->null = 1;
		*end = (const char *)p + 1;
		return PATH_OK;
	}
	if (*p == '@') {
		for (;;) {
			if (*p != '@')
				return PATH_ADDR;
			start = ++p;
			while (*p != '\0' && *p != ',' && *p != ':' &&
			    *p != '>')
				p++;
			if (check_domain((const char *)start, p - start,
			    0) == -1)
				return PATH_ADDR;
			if (*p == ',') {
				p++;
				continue;
			}
			if (*p == ':') {
				p++;
				break;
			}
			return PATH_ADDR;
		}
	}

	lp = p;
	if (*p == '"') {
		for (p++;; p++) {
			if (*p == '"') {
				p++;
				break;
			}
			if (*p == '\\') {
				/* quoted-pairSMTP: backslash, then %d32-126 */
				p++;
				if (*p < 32 || *p > 126)
					return PATH_ADDR;
			} else if (!is_qtext(*p) && *p < 0x80)
				return PATH_ADDR;	/* incl. NUL */
		}
		if (p - lp == 2)
			return PATH_ADDR;	/* "" */
	} else {
		while (is_atext(*p) || *p == '.' || *p >= 0x80)
			p++;
		if (check_dot_string((const char *)lp, p - lp) == -1)
			return PATH_ADDR;
	}
	llen = p - lp;
	if (llen > SMTP_LOCAL_MAX)
		return PATH_ADDR;

	if (*p == '>') {
		/* RFC 5321 4.5.1: <postmaster> without a domain, RCPT only */
		if (!rcpt || !caseeq((const char *)lp, llen, "postmaster") ||
		    (const char *)p != s + 1 + llen)
			return PATH_ADDR;
		memcpy(path->local, lp, llen);
		*end = (const char *)p + 1;
		return PATH_OK;
	}
	if (*p != '@')
		return PATH_ADDR;
	dp = ++p;
	while (*p != '\0' && *p != '>')
		p++;
	if (*p != '>')
		return PATH_SYNTAX;
	dlen = p - dp;
	if (dlen == 0 || dlen > SMTP_DOMAIN_MAX)
		return PATH_ADDR;
	if (*dp == '[') {
		if (check_literal((const char *)dp, dlen) == -1)
			return PATH_ADDR;
	} else if (check_domain((const char *)dp, dlen, 0) == -1)
		return PATH_ADDR;
	p++;
	if ((const char *)p - s > SMTP_PATH_MAX)
		return PATH_ADDR;

	memcpy(path->local, lp, llen);
	memcpy(path->domain, dp, dlen);
	for (i = 0; s + i < (const char *)p; i++)
		if ((unsigned char)s[i] >= 0x80)
			path->utf8 = 1;
	*end = (const char *)p;
	return PATH_OK;
}

/*
 * "FROM:" or "TO:", an optional single space, the path; then *rest is
 * what follows it.  Returns 0 or -1 with err set.
 */
static int
parse_prefix_path(const char *args, const char *prefix, int rcpt,
    struct smtp_path *path, const char **rest, struct smtp_reply_err *err)
{
	const char	*syntax = rcpt ? "Syntax: RCPT TO:<address>" :
			    "Syntax: MAIL FROM:<address>";
	const char	*p = args;
	size_t		 plen = strlen(prefix);

	if (strlen(p) < plen || !ncaseeq(p, prefix, plen))
		return reply(err, 501, "5.5.4", syntax);
	p += plen;
	if (*p == ' ')
		p++;
	switch (parse_path(p, rest, rcpt, path)) {
	case PATH_OK:
		break;
	case PATH_SYNTAX:
		return reply(err, 501, "5.5.4", syntax);
	case PATH_ADDR:
		return rcpt ?
		    reply(err, 501, "5.1.3", "Bad recipient address syntax") :
		    reply(err, 501, "5.1.7", "Bad sender address syntax");
	}
	if (**rest != '\0' && **rest != ' ')
		return reply(err, 501, "5.5.4", syntax);
	return 0;
}

/* 8-bit addresses need SMTPUTF8 and valid UTF-8 (RFC 6531, 3629). */
static int
check_utf8_path(const struct smtp_path *path, int smtputf8,
    struct smtp_reply_err *err)
{
	if (!path->utf8)
		return 0;
	if (!smtputf8)
		return reply(err, 553, "5.6.7",
		    "Must declare SMTPUTF8 to send unicode address");
	if (!smtp_utf8_valid(path->local, strlen(path->local)) ||
	    !smtp_utf8_valid(path->domain, strlen(path->domain)))
		return reply(err, 553, "5.6.7", "Invalid UTF-8 in address");
	return 0;
}

/*
 * Next esmtp-param from *pp (RFC 5321 4.1.2): keyword [ "=" value ],
 * keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"), value = 1*(%d33-60 /
 * %d62-126).  Returns 1 with the parts, 0 at the end, -1 on bad syntax.
 */
static int
next_param(const char **pp, const char **kw, size_t *kwlen, const char **val,
    size_t *vlen)
{
	const unsigned char	*p = (const unsigned char *)*pp;
	const unsigned char	*k, *v;

	while (*p == ' ')
		p++;
	if (*p == '\0')
		return 0;
	k = p;
	if (!is_alnum(*p))
		return -1;
	while (is_alnum(*p) || *p == '-')
		p++;
	*kw = (const char *)k;
	*kwlen = p - k;
	*val = NULL;
	*vlen = 0;
	if (*kwlen > KEYWORD_MAX)
		return -1;
	if (*p == '=') {
		v = ++p;
		while (*p > 32 && *p < 127 && *p != '=')
			p++;
		if (p == v)
			return -1;
		*val = (const char *)v;
		*vlen = p - v;
	}
	if (*p != '\0' && *p != ' ')
		return -1;
	*pp = (const char *)p;
	return 1;
}

/* Copy a parameter value into buf (bounded by the line anyway). */
static int
value_copy(char *buf, size_t buflen, const char *val, size_t vlen)
{
	if (vlen >= buflen)
		return -1;
	memcpy(buf, val, vlen);
	buf[vlen] = '\0';
	return 0;
}

enum mail_param {
	P_SIZE = 0x01, P_BODY = 0x02, P_SMTPUTF8 = 0x04, P_RET = 0x08,
	P_ENVID = 0x10, P_AUTH = 0x20
};

static int
mail_param(const char *kw, size_t kwlen, const char *val, size_t vlen,
    int smtputf8_allowed, int *seen, struct smtp_mail_params *mp,
    struct smtp_reply_err *err)
{
	char		buf[SMTP_LINE_MAX];
	uint64_t	size = 0;
	size_t		i;
	int		which;

	if (caseeq(kw, kwlen, "SIZE"))
		which = P_SIZE;
	else if (caseeq(kw, kwlen, "BODY"))
		which = P_BODY;
	else if (smtputf8_allowed && caseeq(kw, kwlen, "SMTPUTF8"))
		which = P_SMTPUTF8;
	else if (caseeq(kw, kwlen, "RET"))
		which = P_RET;
	else if (caseeq(kw, kwlen, "ENVID"))
		which = P_ENVID;
	else if (caseeq(kw, kwlen, "AUTH"))
		which = P_AUTH;
	else if (val == NULL)
		return reply(err, 501, "5.5.4", "Syntax error after address");
	else
		return reply(err, 555, "5.5.4", "Unsupported parameter");
	if (*seen & which)
		return reply(err, 501, "5.5.4", "Duplicate parameter");
	*seen |= which;
	if ((which == P_SMTPUTF8) != (val == NULL))
		return reply(err, 501, "5.5.4", "Bad parameter value");

	switch (which) {
	case P_SIZE:
		for (i = 0; i < vlen; i++) {
			if (!is_digit(val[i]))
				return reply(err, 501, "5.5.4",
				    "Bad SIZE value");
			if (size > (UINT64_MAX - (val[i] - '0')) / 10)
				return reply(err, 552, "5.3.4",
				    "Message size exceeds fixed limit");
			size = size * 10 + (val[i] - '0');
		}
		mp->size = size;
		mp->has_size = 1;
		break;
	case P_BODY:
		if (caseeq(val, vlen, "7BIT"))
			mp->body = SMTP_BODY_7BIT;
		else if (caseeq(val, vlen, "8BITMIME"))
			mp->body = SMTP_BODY_8BITMIME;
		else
			return reply(err, 501, "5.5.4", "Bad BODY value");
		break;
	case P_SMTPUTF8:
		mp->smtputf8 = 1;
		break;
	case P_RET:
		if (caseeq(val, vlen, "FULL"))
			mp->ret = SMTP_RET_FULL;
		else if (caseeq(val, vlen, "HDRS"))
			mp->ret = SMTP_RET_HDRS;
		else
			return reply(err, 501, "5.5.4", "Bad RET value");
		break;
	case P_ENVID:
		if (value_copy(buf, sizeof(buf), val, vlen) == -1 ||
		    smtp_xtext_decode(buf, mp->envid,
		    sizeof(mp->envid)) == -1) {
			mp->envid[0] = '\0';
			return reply(err, 501, "5.5.4", "Bad ENVID value");
		}
		break;
	case P_AUTH:
		/* RFC 4954 5: checked, then ignored; we know who sent it. */
		if (caseeq(val, vlen, "<>"))
			break;
		if (value_copy(buf, sizeof(buf), val, vlen) == -1 ||
		    smtp_xtext_decode(buf, buf, sizeof(buf)) == -1)
			return reply(err, 501, "5.5.4", "Bad AUTH value");
		break;
	}
	return 0;
}

int
smtp_parse_mail(const char *args, int smtputf8_allowed,
    struct smtp_path *path, struct smtp_mail_params *mp,
    struct smtp_reply_err *err)
{
	const char	*rest, *kw, *val;
	size_t		 kwlen, vlen;
	int		 r, seen = 0;

	memset(mp, 0, sizeof(*mp));
	if (parse_prefix_path(args, "FROM:", 0, path, &rest, err) == -1)
		return -1;
	while ((r = next_param(&rest, &kw, &kwlen, &val, &vlen)) == 1)
		if (mail_param(kw, kwlen, val, vlen, smtputf8_allowed, &seen,
		    mp, err) == -1)
			return -1;
	if (r == -1)
		return reply(err, 501, "5.5.4", "Syntax error in parameters");
	return check_utf8_path(path, mp->smtputf8, err);
}

static int
parse_notify(const char *val, size_t vlen, int *notify)
{
	const char	*p = val, *e = val + vlen, *c;
	int		 bit;

	*notify = 0;
	while (p <= e) {
		for (c = p; c < e && *c != ','; c++)
			;
		if (caseeq(p, c - p, "NEVER"))
			bit = SMTP_NOTIFY_NEVER;
		else if (caseeq(p, c - p, "SUCCESS"))
			bit = SMTP_NOTIFY_SUCCESS;
		else if (caseeq(p, c - p, "FAILURE"))
			bit = SMTP_NOTIFY_FAILURE;
		else if (caseeq(p, c - p, "DELAY"))
			bit = SMTP_NOTIFY_DELAY;
		else
			return -1;
		if (*notify & bit)
			return -1;
		*notify |= bit;
		p = c + 1;
	}
	/* RFC 3461 4.1: NEVER stands alone */
	if ((*notify & SMTP_NOTIFY_NEVER) && *notify != SMTP_NOTIFY_NEVER)
		return -1;
	return 0;
}

static int
parse_orcpt(const char *val, size_t vlen, struct smtp_rcpt_params *rp)
{
	char		 buf[SMTP_LINE_MAX];
	const char	*semi;
	size_t		 tlen, i;

	if ((semi = memchr(val, ';', vlen)) == NULL)
		return -1;
	tlen = semi - val;
	if (!caseeq(val, tlen, "rfc822") && !caseeq(val, tlen, "utf-8"))
		return -1;
	for (i = 0; i < tlen; i++)
		rp->orcpt_type[i] = (val[i] >= 'A' && val[i] <= 'Z') ?
		    val[i] - 'A' + 'a' : val[i];
	rp->orcpt_type[tlen] = '\0';
	if (value_copy(buf, sizeof(buf), semi + 1, vlen - tlen - 1) == -1 ||
	    buf[0] == '\0' ||
	    smtp_xtext_decode(buf, rp->orcpt, sizeof(rp->orcpt)) == -1) {
		rp->orcpt_type[0] = rp->orcpt[0] = '\0';
		return -1;
	}
	return 0;
}

int
smtp_parse_rcpt(const char *args, int smtputf8, struct smtp_path *path,
    struct smtp_rcpt_params *rp, struct smtp_reply_err *err)
{
	const char	*rest, *kw, *val;
	size_t		 kwlen, vlen;
	int		 r, seen = 0, which;

	memset(rp, 0, sizeof(*rp));
	if (parse_prefix_path(args, "TO:", 1, path, &rest, err) == -1)
		return -1;
	while ((r = next_param(&rest, &kw, &kwlen, &val, &vlen)) == 1) {
		if (caseeq(kw, kwlen, "NOTIFY"))
			which = 1;
		else if (caseeq(kw, kwlen, "ORCPT"))
			which = 2;
		else if (val == NULL)
			return reply(err, 501, "5.5.4",
			    "Syntax error after address");
		else
			return reply(err, 555, "5.5.4",
			    "Unsupported parameter");
		if (seen & which)
			return reply(err, 501, "5.5.4", "Duplicate parameter");
		seen |= which;
		if (val == NULL)
			return reply(err, 501, "5.5.4", "Bad parameter value");
		if (which == 1 && parse_notify(val, vlen, &rp->notify) == -1)
			return reply(err, 501, "5.5.4", "Bad NOTIFY value");
		if (which == 2 && parse_orcpt(val, vlen, rp) == -1)
			return reply(err, 501, "5.5.4", "Bad ORCPT value");
	}
	if (r == -1)
		return reply(err, 501, "5.5.4", "Syntax error in parameters");
	return check_utf8_path(path, smtputf8, err);
}

int
smtp_parse_helo(const char *args, char *out, size_t outlen,
    struct smtp_reply_err *err)
{
	size_t	len, i;

	len = strlen(args);
	while (len > 0 && args[len - 1] == ' ')
		len--;
	if (len == 0)
		return reply(err, 501, "5.5.4", "Syntax: EHLO hostname");
	for (i = 0; i < len; i++)
		if ((unsigned char)args[i] >= 0x80)
			return reply(err, 501, "5.5.2",
			    "8-bit characters in hostname");
	if (args[0] == '[' ? check_literal(args, len) == -1 :
	    check_domain(args, len, 1) == -1)
		return reply(err, 501, "5.5.4", "Invalid hostname");
	if (len >= outlen)
		return reply(err, 501, "5.5.4", "Hostname too long");
	memcpy(out, args, len);
	out[len] = '\0';
	return 0;
}

int
smtp_parse_bdat(const char *args, uint64_t *size, int *last,
    struct smtp_reply_err *err)
{
	const char	*p = args;
	uint64_t	 v = 0;

	*size = 0;
	*last = 0;
	if (!is_digit(*p))
		return reply(err, 501, "5.5.4", "Syntax: BDAT count [LAST]");
	for (; is_digit(*p); p++) {
		if (v > (UINT64_MAX - (*p - '0')) / 10)
			return reply(err, 501, "5.5.4",
			    "Syntax: BDAT count [LAST]");
		v = v * 10 + (*p - '0');
	}
	if (*p == ' ' && caseeq(p + 1, strlen(p + 1), "LAST"))
		*last = 1;
	else if (*p != '\0')
		return reply(err, 501, "5.5.4", "Syntax: BDAT count [LAST]");
	*size = v;
	return 0;
}
