/*
 * libFuzzer target for the SMTP command parsers (SECURITY.md F1, F2):
 * what any client can send before authentication.
 *
 * Input: one control byte, then the line.
 *	bits 0-2	the parser: verb, MAIL, RCPT, HELO, BDAT, xtext, utf8
 *			(7 is verb again)
 *	bit 3		SMTPUTF8 allowed (MAIL) or declared (RCPT)
 *	bits 4-7	xtext: the output size, from xtext_sizes[]
 * The line is copied to a buffer of exactly its length plus a NUL; the
 * verb parser gets the length (a NUL inside must be refused), the others
 * read it as a C string.
 * Invariants: every output string is NUL-terminated inside its buffer
 * and holds no control byte (CR, LF, NUL, DEL included); local part and
 * domain within SMTP_LOCAL_MAX * 4 and SMTP_DOMAIN_MAX octets; the domain
 * is empty only for the null path and RCPT <postmaster>; no 8-bit byte in
 * a path without SMTPUTF8, valid UTF-8 with it; decoded ENVID and ORCPT
 * are printable ASCII; parameters in their ranges; an error is a 5xx
 * reply with an enhanced code "5.x.y" and printable text.  The verb,
 * BDAT, xtext and UTF-8 parsers are also compared with the simple
 * reference implementations below, and xtext never writes past the size
 * it is given.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_parse.h"

#define FUZZ_NAME	"fuzz_smtp_parse"
#include "fuzz.h"

enum { P_VERB, P_MAIL, P_RCPT, P_HELO, P_BDAT, P_XTEXT, P_UTF8 };

static const size_t xtext_sizes[16] = {
	0, 1, 2, 3, 4, 5, 8, 16, 32, 64, SMTP_ENVID_MAX + 1, 128, 256,
	SMTP_ORCPT_MAX + 1, SMTP_LINE_MAX, 1024
};

static const char *const verb_names[] = {
	"HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP",
	"QUIT", "VRFY", "EXPN", "HELP", "STARTTLS", "AUTH"
};

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

static int
ieq(const char *a, size_t alen, const char *b)
{
	size_t	 i;

	if (alen != strlen(b))
		return 0;
	for (i = 0; i < alen; i++)
		if (upper((unsigned char)a[i]) != upper((unsigned char)b[i]))
			return 0;
	return 1;
}

/* Bytes that must never reach a log, an envelope or another command. */
static int
has_control(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return 1;
	return 0;
}

static int
has_8bit(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* A string field: terminated inside its buffer, no control byte. */
static size_t
check_str(const char *s, size_t size, const char *what)
{
	size_t	 len;

	if ((len = strnlen(s, size)) == size)
		fuzz_die("%s not NUL-terminated in its buffer", what);
	if (has_control(s, len))
		fuzz_die("%s holds a control byte", what);
	return len;
}

static void
check_err(const struct smtp_reply_err *err, const char *what)
{
	const char	*e = err->enhanced;

	if (err->code < 500 || err->code > 599)
		fuzz_die("%s: reply code %d is not 5xx", what, err->code);
	/* "5." 1*3DIGIT "." 1*3DIGIT, the class matching the code. */
	if (e == NULL || e[0] != '5' || e[1] != '.')
		fuzz_die("%s: enhanced code not 5.x.y", what);
	e += 2;
	if (e[0] < '0' || e[0] > '9')
		fuzz_die("%s: enhanced code not 5.x.y", what);
	while (*e >= '0' && *e <= '9')
		e++;
	if (*e++ != '.' || *e < '0' || *e > '9')
		fuzz_die("%s: enhanced code not 5.x.y", what);
	while (*e >= '0' && *e <= '9')
		e++;
	if (*e != '\0')
		fuzz_die("%s: enhanced code not 5.x.y", what);
	if (err->text == NULL || err->text[0] == '\0' ||
	    !fuzz_printable(err->text))
		fuzz_die("%s: reply text empty or not printable", what);
}

static void
check_path(const struct smtp_path *path, int rcpt, int smtputf8)
{
	size_t	 llen, dlen;

	llen = check_str(path->local, sizeof(path->local), "local part");
	dlen = check_str(path->domain, sizeof(path->domain), "domain");
	if (llen > SMTP_LOCAL_MAX * 4 || dlen > SMTP_DOMAIN_MAX)
		fuzz_die("local part or domain too long");
	if (path->null) {
		if (rcpt)
			fuzz_die("RCPT accepted the null path");
		if (llen != 0 || dlen != 0)
			fuzz_die("null path with a local part or domain");
		return;
	}
	if (llen == 0)
		fuzz_die("empty local part accepted");
	if (dlen == 0 && !(rcpt && ieq(path->local, llen, "postmaster")))
		fuzz_die("empty domain accepted for other than "
		    "RCPT <postmaster>");
	if (has_8bit(path->local, llen) || has_8bit(path->domain, dlen)) {
		if (!smtputf8)
			fuzz_die("8-bit path accepted without SMTPUTF8");
		if (!path->utf8)
			fuzz_die("8-bit path not marked utf8");
		if (!smtp_utf8_valid(path->local, llen) ||
		    !smtp_utf8_valid(path->domain, dlen))
			fuzz_die("invalid UTF-8 path accepted");
	}
	if (path->utf8 && !smtputf8)
		fuzz_die("utf8 path accepted without SMTPUTF8");
}

/* Decoded xtext: printable ASCII only. */
static void
check_xtext_out(const char *s, size_t size, const char *what)
{
	size_t	 len;

	len = check_str(s, size, what);
	if (has_8bit(s, len))
		fuzz_die("%s holds an 8-bit byte", what);
}

static void
fuzz_verb(const char *line, size_t len)
{
	struct smtp_reply_err	 err;
	enum smtp_verb		 verb;
	const char		*args;
	size_t			 vlen;

	memset(&err, 0, sizeof(err));
	if (smtp_parse_verb(line, len, &verb, &args, &err) == -1) {
		check_err(&err, "verb");
		if (verb != SMTP_UNKNOWN || args != NULL)
			fuzz_die("verb failed but set verb or args");
		return;
	}
	if (verb >= SMTP_UNKNOWN || (int)verb < 0)
		fuzz_die("verb accepted as SMTP_UNKNOWN");
	if (memchr(line, '\0', len) != NULL || memchr(line, '\r', len) !=
	    NULL || memchr(line, '\n', len) != NULL)
		fuzz_die("verb accepted a line with NUL, CR or LF");
	vlen = strcspn(line, " ");
	if (!ieq(line, vlen, verb_names[verb]))
		fuzz_die("verb is not the first word");
	if (args != (vlen < len ? line + vlen + 1 : line + len))
		fuzz_die("args not after the single space");
}

static void
fuzz_mail(const char *line, int utf8_allowed)
{
	struct smtp_reply_err	 err;
	struct smtp_path	 path;
	struct smtp_mail_params	 mp;

	memset(&err, 0, sizeof(err));
	if (smtp_parse_mail(line, utf8_allowed, &path, &mp, &err) == -1) {
		check_err(&err, "MAIL");
		/* A failed ENVID is not left half-decoded. */
		if (strnlen(mp.envid, sizeof(mp.envid)) == sizeof(mp.envid))
			fuzz_die("MAIL failed with an unterminated envid");
		return;
	}
	if (mp.smtputf8 && !utf8_allowed)
		fuzz_die("SMTPUTF8 accepted without being advertised");
	check_path(&path, 0, mp.smtputf8);
	check_xtext_out(mp.envid, sizeof(mp.envid), "envid");
	if (mp.body < 0 || mp.body > SMTP_BODY_8BITMIME || mp.ret < 0 ||
	    mp.ret > SMTP_RET_HDRS || (mp.smtputf8 != 0 && mp.smtputf8 != 1) ||
	    (!mp.has_size && mp.size != 0))
		fuzz_die("MAIL parameter out of range");
}

static void
fuzz_rcpt(const char *line, int smtputf8)
{
	struct smtp_reply_err	 err;
	struct smtp_path	 path;
	struct smtp_rcpt_params	 rp;
	size_t			 tlen;

	memset(&err, 0, sizeof(err));
	if (smtp_parse_rcpt(line, smtputf8, &path, &rp, &err) == -1) {
		check_err(&err, "RCPT");
		return;
	}
	check_path(&path, 1, smtputf8);
	check_xtext_out(rp.orcpt, sizeof(rp.orcpt), "orcpt");
	tlen = check_str(rp.orcpt_type, sizeof(rp.orcpt_type), "orcpt type");
	if (tlen == 0 ? rp.orcpt[0] != '\0' :
	    (strcmp(rp.orcpt_type, "rfc822") != 0 &&
	    strcmp(rp.orcpt_type, "utf-8") != 0) || rp.orcpt[0] == '\0')
		fuzz_die("ORCPT type and value inconsistent");
	if (rp.notify & ~0x0f || ((rp.notify & SMTP_NOTIFY_NEVER) &&
	    rp.notify != SMTP_NOTIFY_NEVER))
		fuzz_die("NOTIFY out of range");
}

static void
fuzz_helo(const char *line)
{
	struct smtp_reply_err	 err;
	char			*out;
	size_t			 size = SMTP_DOMAIN_MAX + 1, len;

	if ((out = malloc(size)) == NULL)
		fuzz_die("out of memory");
	memset(&err, 0, sizeof(err));
	if (smtp_parse_helo(line, out, size, &err) == -1)
		check_err(&err, "HELO");
	else {
		len = check_str(out, size, "HELO name");
		if (len == 0 || has_8bit(out, len) || strchr(out, ' ') != NULL)
			fuzz_die("HELO name empty, 8-bit or with a space");
		if (strncmp(out, line, len) != 0)
			fuzz_die("HELO name is not the argument");
	}
	free(out);
}

/* Reference: 1*DIGIT [" " "LAST"], no overflow. */
static int
ref_bdat(const char *p, uint64_t *size, int *last)
{
	uint64_t	 v = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > UINT64_MAX / 10 || v * 10 > UINT64_MAX - (*p - '0'))
			return -1;
		v = v * 10 + (*p - '0');
	}
	*size = v;
	*last = 0;
	if (*p == '\0')
		return 0;
	if (*p == ' ' && ieq(p + 1, strlen(p + 1), "LAST")) {
		*last = 1;
		return 0;
	}
	return -1;
}

static void
fuzz_bdat(const char *line)
{
	struct smtp_reply_err	 err;
	uint64_t		 size, rsize = 0;
	int			 last, rlast = 0, r, rr;

	memset(&err, 0, sizeof(err));
	r = smtp_parse_bdat(line, &size, &last, &err);
	rr = ref_bdat(line, &rsize, &rlast);
	if (r != rr)
		fuzz_die("BDAT parser and reference disagree");
	if (r == -1)
		check_err(&err, "BDAT");
	else if (size != rsize || last != rlast)
		fuzz_die("BDAT count or LAST differ from the reference");
}

static int
hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reference RFC 3461 xtext decoder, unbounded; -1 if invalid. */
static long
ref_xtext(const char *in, char *out)
{
	const unsigned char	*p = (const unsigned char *)in;
	long			 o = 0;
	int			 c;

	for (; *p != '\0'; p++) {
		if (*p == '+') {
			if (hex(p[1]) == -1 || hex(p[2]) == -1)
				return -1;
			c = hex(p[1]) * 16 + hex(p[2]);
			p += 2;
			if (c < 0x20 || c > 0x7e)
				return -1;
		} else if (*p >= '!' && *p <= '~' && *p != '=')
			c = *p;
		else
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return o;
}

static void
fuzz_xtext(const char *line, size_t len, size_t size)
{
	char	*out, *ref;
	long	 rlen;
	int	 r;

	/* Exactly sized: ASan sees a write past it. */
	if ((out = malloc(size ? size : 1)) == NULL ||
	    (ref = malloc(len + 1)) == NULL)
		fuzz_die("out of memory");
	r = smtp_xtext_decode(line, out, size);
	rlen = ref_xtext(line, ref);
	if (rlen == -1 || (size_t)rlen >= size) {
		if (r != -1)
			fuzz_die("xtext accepted what the reference refuses, "
			    "or did not fit");
	} else {
		if (r != rlen)
			fuzz_die("xtext refused what the reference accepts, "
			    "or returned another length");
		if (memcmp(out, ref, (size_t)rlen + 1) != 0)
			fuzz_die("xtext decoded otherwise than the reference");
		check_xtext_out(out, size, "xtext");
	}
	free(ref);
	free(out);
}

/* Reference UTF-8 check: the table of well-formed sequences (Unicode 3.9). */
static int
ref_utf8(const unsigned char *p, size_t len)
{
	size_t	 i = 0, n, k;
	int	 lo, hi;

	while (i < len) {
		if (p[i] <= 0x7f) {
			i++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (p[i] >= 0xc2 && p[i] <= 0xdf)
			n = 1;
		else if (p[i] >= 0xe0 && p[i] <= 0xef) {
			n = 2;
			if (p[i] == 0xe0)
				lo = 0xa0;
			else if (p[i] == 0xed)
				hi = 0x9f;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			n = 3;
			if (p[i] == 0xf0)
				lo = 0x90;
			else if (p[i] == 0xf4)
				hi = 0x8f;
		} else
			return 0;
		if (len - i - 1 < n || p[i + 1] < lo || p[i + 1] > hi)
			return 0;
		for (k = 2; k <= n; k++)
			if (p[i + k] < 0x80 || p[i + k] > 0xbf)
				return 0;
		i += n + 1;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*line;
	size_t	 len;
	int	 ctl, flag;

	if (size < 1)
		return 0;
	ctl = data[0];
	flag = (ctl & 8) != 0;
	len = size - 1;
	if ((line = malloc(len + 1)) == NULL)
		fuzz_die("out of memory");
	memcpy(line, data + 1, len);
	line[len] = '\0';

	switch (ctl & 7) {
	case P_MAIL:
		fuzz_mail(line, flag);
		break;
	case P_RCPT:
		fuzz_rcpt(line, flag);
		break;
	case P_HELO:
		fuzz_helo(line);
		break;
	case P_BDAT:
		fuzz_bdat(line);
		break;
	case P_XTEXT:
		fuzz_xtext(line, len, xtext_sizes[ctl >> 4]);
		break;
	case P_UTF8:
		if (smtp_utf8_valid(line, len) !=
		    ref_utf8((const unsigned char *)line, len))
			fuzz_die("smtp_utf8_valid disagrees with the "
			    "reference");
		break;
	default:
		fuzz_verb(line, len);
		break;
	}
	free(line);
	return 0;
}
