/*
 * Validation of connector names, domains, tokens, usernames and source
 * networks.  Character classes are spelled out instead of using <ctype.h>
 * so that the locale can never widen what is accepted.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <idn2.h>

#include "names.h"

#define IDN_FLAGS	(IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT)

/* Room for an escaped piece of input quoted in an error message. */
#define SHOWN_MAX	80

/* What a name may contain, for the names that are plain words. */
struct word_rule {
	const char	*what;		/* "connector name" */
	size_t		 max;
	int		 upper;		/* A-Z allowed */
	const char	*punct;		/* punctuation allowed */
	const char	*classes;	/* the allowed set, for the message */
};

static const struct word_rule connector_rule = {
	"connector name", NAMES_CONNECTOR_MAX, 0, "._-", "a-z 0-9 . _ -"
};

static const struct word_rule username_rule = {
	"username", NAMES_USERNAME_MAX, 1, "._@+-", "A-Z a-z 0-9 . _ @ + -"
};

static int	seterr(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Writes the reason if the caller wants one; always returns -1. */
static int
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * Copies n bytes of s for an error message: printable ASCII other than
 * space, quotes and backslash as is, every other byte as \xNN, so that
 * nothing typed can break a line or start a terminal sequence.  Long
 * input ends in "...".  size must be at least 8.
 */
static const char *
escape(char *buf, size_t size, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t		 i, o = 0;
	unsigned char	 c;

	for (i = 0; i < n; i++) {
		/* the longest escape, "..." and the NUL */
		if (o + 4 + 3 + 1 > size) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		c = (unsigned char)s[i];
		if (c > ' ' && c < 0x7f && c != '\'' && c != '"' && c != '\\')
			buf[o++] = c;
		else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 0xf];
		}
	}
	buf[o] = '\0';
	return buf;
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_lower(int c)
{
	return c >= 'a' && c <= 'z';
}

static int
is_upper(int c)
{
	return c >= 'A' && c <= 'Z';
}

static int
is_hex_lower(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

static int
is_ldh(int c)
{
	return is_lower(c) || is_digit(c) || c == '-';
}

static int
word_char(const struct word_rule *r, int c)
{
	if (is_lower(c) || is_digit(c) || (r->upper && is_upper(c)))
		return 1;
	return c != '\0' && strchr(r->punct, c) != NULL;
}

static int
word_valid(const struct word_rule *r, const char *s, char *err,
    size_t errlen)
{
	char	 shown[SHOWN_MAX];
	size_t	 i, len;

	len = s == NULL ? 0 : strnlen(s, r->max + 1);
	if (len == 0)
		return seterr(err, errlen, "%s is empty; it must be 1-%zu "
		    "characters of %s", r->what, r->max, r->classes);
	if (len > r->max)
		return seterr(err, errlen, "%s is longer than %zu characters; "
		    "it must be 1-%zu characters of %s", r->what, r->max,
		    r->max, r->classes);
	for (i = 0; i < len; i++)
		if (!word_char(r, (unsigned char)s[i]))
			return seterr(err, errlen, "%s has invalid character "
			    "'%s' at position %zu; it must be 1-%zu characters "
			    "of %s", r->what,
			    escape(shown, sizeof(shown), s + i, 1), i + 1,
			    r->max, r->classes);
	return 0;
}

int
names_connector_valid(const char *name, char *err, size_t errlen)
{
	return word_valid(&connector_rule, name, err, errlen);
}

int
names_username_valid(const char *user, char *err, size_t errlen)
{
	return word_valid(&username_rule, user, err, errlen);
}

int
names_token_valid(const char *token)
{
	size_t	i;

	if (token == NULL)
		return -1;
	/* stops at the NUL of a short token: it is not a hex digit */
	for (i = 0; i < NAMES_TOKEN_LEN; i++)
		if (!is_hex_lower(token[i]))
			return -1;
	return token[i] == '\0' ? 0 : -1;
}

/*
 * Length of the well-formed UTF-8 sequence at s (n bytes left), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF.
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned int	cp;
	size_t		i, len;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * The bytes of a domain as typed, before any conversion.  *ascii tells
 * whether the later label checks can run on the input itself, which
 * gives the operator positions in what they typed.
 */
static int
domain_bytes_valid(const char *in, size_t len, int *ascii, char *err,
    size_t errlen)
{
	const unsigned char	*s = (const unsigned char *)in;
	char			 shown[SHOWN_MAX];
	size_t			 i, n;

	*ascii = 1;
	for (i = 0; i < len; i += n) {
		n = 1;
		if (s[i] < 0x20 || s[i] == 0x7f)
			return seterr(err, errlen, "domain contains control "
			    "byte \\x%02x at position %zu", s[i], i + 1);
		if (s[i] == ' ')
			return seterr(err, errlen, "domain contains a space "
			    "at position %zu", i + 1);
		if (s[i] == '_')
			return seterr(err, errlen, "domain contains '_' at "
			    "position %zu; underscores are not allowed in a "
			    "mail domain", i + 1);
		if (s[i] >= 0x80) {
			if ((n = utf8_len(s + i, len - i)) == 0)
				return seterr(err, errlen, "domain is not "
				    "valid UTF-8 at byte %zu", i + 1);
			*ascii = 0;
		} else if (!is_ldh(s[i]) && !is_upper(s[i]) && s[i] != '.')
			return seterr(err, errlen, "domain contains invalid "
			    "character '%s' at position %zu",
			    escape(shown, sizeof(shown), in + i, 1), i + 1);
	}
	return 0;
}

static int
label_valid(const char *label, size_t len, int tld, char *err,
    size_t errlen)
{
	char	 shown[SHOWN_MAX];
	size_t	 i, digits = 0;

	escape(shown, sizeof(shown), label, len);
	if (len > NAMES_LABEL_MAX)
		return seterr(err, errlen, "label '%s' is %zu bytes long; "
		    "the limit is %d", shown, len, NAMES_LABEL_MAX);
	for (i = 0; i < len; i++) {
		if (!is_ldh((unsigned char)label[i]))
			return seterr(err, errlen, "label '%s' contains "
			    "a character not allowed in a host name", shown);
		if (is_digit(label[i]))
			digits++;
	}
	if (label[0] == '-')
		return seterr(err, errlen, "label '%s' starts with a hyphen",
		    shown);
	if (label[len - 1] == '-')
		return seterr(err, errlen, "label '%s' ends with a hyphen",
		    shown);
	if (tld && digits == len)
		return seterr(err, errlen, "top-level label '%s' is all "
		    "digits; an IP address is not a domain", shown);
	return 0;
}

/*
 * The structure of a lower-case ASCII domain without its root dot: the
 * typed form when it is ASCII, and always the A-label form.
 */
static int
labels_valid(const char *name, char *err, size_t errlen)
{
	char		 shown[SHOWN_MAX];
	const char	*label, *dot;
	size_t		 len, total, labels = 0;

	total = strlen(name);
	if (total > NAMES_DOMAIN_MAX)
		return seterr(err, errlen, "domain is %zu bytes long in "
		    "A-label form; the limit is %d", total, NAMES_DOMAIN_MAX);
	for (label = name; ; label = dot + 1) {
		dot = strchr(label, '.');
		len = dot == NULL ? strlen(label) : (size_t)(dot - label);
		if (len == 0 && label == name)
			return seterr(err, errlen, "domain starts with a dot "
			    "(empty label)");
		if (len == 0)
			return seterr(err, errlen, "domain has an empty label "
			    "at position %zu", (size_t)(label - name) + 1);
		if (label_valid(label, len, dot == NULL, err, errlen) == -1)
			return -1;
		labels++;
		if (dot == NULL)
			break;
	}
	if (labels < 2)
		return seterr(err, errlen, "domain '%s' has a single label; a "
		    "sending domain has at least two, like example.com",
		    escape(shown, sizeof(shown), name, total));
	return 0;
}

/* The reason for a libidn2 failure, in the words of the rules above. */
static int
idn_error(int rc, char *err, size_t errlen)
{
	switch (rc) {
	case IDN2_TOO_BIG_LABEL:
	case IDN2_PUNYCODE_BIG_OUTPUT:
		return seterr(err, errlen, "a label is longer than %d bytes "
		    "in A-label form", NAMES_LABEL_MAX);
	case IDN2_TOO_BIG_DOMAIN:
		return seterr(err, errlen, "domain is longer than %d bytes "
		    "in A-label form", NAMES_DOMAIN_MAX);
	case IDN2_HYPHEN_STARTEND:
		return seterr(err, errlen, "a label starts or ends with a "
		    "hyphen");
	case IDN2_2HYPHEN:
		return seterr(err, errlen, "a label has '--' in its third and "
		    "fourth characters, which only A-labels (xn--) may have");
	default:
		return seterr(err, errlen, "domain is not a valid "
		    "internationalized domain name: %s", idn2_strerror(rc));
	}
}

int
names_domain_normalize(const char *in, char *alabel, size_t alen,
    char *ulabel, size_t ulen, char *err, size_t errlen)
{
	char	 typed[NAMES_DOMAIN_TYPED_MAX + 1];
	char	*a = NULL, *u = NULL, *again = NULL;
	size_t	 i, len;
	int	 ascii, rc, ret = -1;

	len = in == NULL ? 0 : strnlen(in, NAMES_DOMAIN_TYPED_MAX + 1);
	if (len == 0) {
		seterr(err, errlen, "domain is empty");
		goto done;
	}
	if (len > NAMES_DOMAIN_TYPED_MAX) {
		seterr(err, errlen, "domain is longer than %d bytes as typed",
		    NAMES_DOMAIN_TYPED_MAX);
		goto done;
	}
	if (domain_bytes_valid(in, len, &ascii, err, errlen) == -1)
		goto done;

	memcpy(typed, in, len);
	/* One trailing dot names the root; it is not stored. */
	if (len > 1 && typed[len - 1] == '.')
		len--;
	typed[len] = '\0';
	if (ascii) {
		for (i = 0; i < len; i++)
			if (is_upper(typed[i]))
				typed[i] += 'a' - 'A';
		if (labels_valid(typed, err, errlen) == -1)
			goto done;
	}

	if ((rc = idn2_to_ascii_8z(typed, &a, IDN_FLAGS)) != IDN2_OK) {
		idn_error(rc, err, errlen);
		goto done;
	}
	/* IDNA mapping may produce dots, slashes, ... from Unicode. */
	if (labels_valid(a, err, errlen) == -1)
		goto done;
	if ((rc = idn2_to_unicode_8z8z(a, &u, 0)) != IDN2_OK) {
		idn_error(rc, err, errlen);
		goto done;
	}
	/* Both forms must name the same domain, or the display lies. */
	rc = idn2_to_ascii_8z(u, &again, IDN_FLAGS);
	if (rc != IDN2_OK || strcmp(a, again) != 0) {
		seterr(err, errlen, "domain does not convert back to the same "
		    "A-label form");
		goto done;
	}
	if (strlcpy(alabel, a, alen) >= alen ||
	    strlcpy(ulabel, u, ulen) >= ulen) {
		seterr(err, errlen, "domain does not fit the output buffer");
		goto done;
	}
	ret = 0;
 done:
	if (ret == -1) {
		if (alen > 0)
			alabel[0] = '\0';
		if (ulen > 0)
			ulabel[0] = '\0';
	}
	idn2_free(a);
	idn2_free(u);
	idn2_free(again);
	return ret;
}

/* Clears the bits of addr past prefix. */
static void
cidr_mask(uint8_t *addr, size_t size, int prefix)
{
	size_t	i;

	for (i = 0; i < size; i++) {
		if (prefix >= 8)
			prefix -= 8;
		else {
			addr[i] &= (uint8_t)(0xff << (8 - prefix));
			prefix = 0;
		}
	}
}

static size_t
family_size(int family)
{
	return family == AF_INET ? 4 : 16;
}

static int
family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* A prefix length: "0" or decimal without sign or leading zeros. */
static int
prefix_parse(const char *s, int max, int *prefix, char *err, size_t errlen)
{
	char	 shown[SHOWN_MAX];
	size_t	 i, len;
	int	 v = 0;

	len = strlen(s);
	escape(shown, sizeof(shown), s, len);
	if (len == 0)
		return seterr(err, errlen, "prefix length is missing after "
		    "'/'");
	for (i = 0; i < len; i++)
		if (!is_digit(s[i]))
			return seterr(err, errlen, "prefix length '%s' is not "
			    "a decimal number", shown);
	if (len > 1 && s[0] == '0')
		return seterr(err, errlen, "prefix length '%s' has a leading "
		    "zero", shown);
	/* checked before converting, so the value cannot overflow */
	for (i = 0; i < len && i < 4; i++)
		v = v * 10 + (s[i] - '0');
	if (len > 3 || v > max)
		return seterr(err, errlen, "prefix length %s is out of range "
		    "0-%d for IPv%d", shown, max, max == 32 ? 4 : 6);
	*prefix = v;
	return 0;
}

int
names_cidr_parse(const char *in, struct names_cidr *out, char *err,
    size_t errlen)
{
	struct names_cidr	 net;
	char			 addr[INET6_ADDRSTRLEN];
	char			 shown[SHOWN_MAX], canon[NAMES_CIDR_STRLEN];
	const char		*slash;
	size_t			 len;

	memset(out, 0, sizeof(*out));
	memset(&net, 0, sizeof(net));
	if (in == NULL || *in == '\0')
		return seterr(err, errlen, "network is empty");
	escape(shown, sizeof(shown), in, strlen(in));
	slash = strchr(in, '/');
	len = slash == NULL ? strlen(in) : (size_t)(slash - in);
	if (len == 0)
		return seterr(err, errlen, "network '%s' has no address "
		    "before '/'", shown);
	if (len >= sizeof(addr))
		return seterr(err, errlen, "'%s' is not an IPv4 or IPv6 "
		    "network", shown);
	memcpy(addr, in, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, net.addr) == 1)
		net.family = AF_INET;
	else if (inet_pton(AF_INET6, addr, net.addr) == 1)
		net.family = AF_INET6;
	else
		return seterr(err, errlen, "'%s' is not an IPv4 or IPv6 "
		    "network", shown);

	net.prefix = family_bits(net.family);
	if (slash != NULL && prefix_parse(slash + 1, net.prefix, &net.prefix,
	    err, errlen) == -1)
		return -1;

	*out = net;
	cidr_mask(out->addr, family_size(out->family), out->prefix);
	if (memcmp(out->addr, net.addr, sizeof(net.addr)) != 0) {
		if (names_cidr_format(out, canon, sizeof(canon)) == -1)
			canon[0] = '\0';
		memset(out, 0, sizeof(*out));
		return seterr(err, errlen, "%s has host bits set; did you "
		    "mean %s?", shown, canon);
	}
	return 0;
}

/*
 * The address of sa in the family of net: an IPv4-mapped IPv6 address is
 * the IPv4 address, and an IPv4 address is its mapped form, so a client
 * matches the same networks on an IPv4 and a dual-stack listener.
 */
static int
sockaddr_addr(const struct sockaddr *sa, int family, uint8_t *addr)
{
	static const uint8_t	 mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;

	if (sa->sa_family == AF_INET) {
		memcpy(&sin, sa, sizeof(sin));
		if (family == AF_INET) {
			memcpy(addr, &sin.sin_addr, 4);
			return 0;
		}
		memcpy(addr, mapped, sizeof(mapped));
		memcpy(addr + 12, &sin.sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(&sin6, sa, sizeof(sin6));
		if (family == AF_INET6) {
			memcpy(addr, &sin6.sin6_addr, 16);
			return 0;
		}
		if (!IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr))
			return -1;
		memcpy(addr, sin6.sin6_addr.s6_addr + 12, 4);
		return 0;
	}
	return -1;
}

/* Returns 1 if the address of sa is inside net, else 0. */
int
names_cidr_match(const struct names_cidr *net, const struct sockaddr *sa)
{
	uint8_t	 a[16], n[16];
	size_t	 size;

	if (net == NULL || sa == NULL ||
	    (net->family != AF_INET && net->family != AF_INET6) ||
	    net->prefix < 0 || net->prefix > family_bits(net->family))
		return 0;
	memset(a, 0, sizeof(a));
	if (sockaddr_addr(sa, net->family, a) == -1)
		return 0;
	size = family_size(net->family);
	memcpy(n, net->addr, sizeof(n));
	cidr_mask(a, size, net->prefix);
	cidr_mask(n, size, net->prefix);
	return memcmp(a, n, size) == 0;
}

/* "192.0.2.0/24": 0, or -1 with errno EINVAL or ENOSPC. */
int
names_cidr_format(const struct names_cidr *net, char *buf, size_t len)
{
	char	 addr[INET6_ADDRSTRLEN];
	int	 n;

	if (len > 0)
		buf[0] = '\0';
	if ((net->family != AF_INET && net->family != AF_INET6) ||
	    net->prefix < 0 || net->prefix > family_bits(net->family) ||
	    inet_ntop(net->family, net->addr, addr, sizeof(addr)) == NULL) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(buf, len, "%s/%d", addr, net->prefix);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		errno = ENOSPC;
		return -1;
	}
	return 0;
}
