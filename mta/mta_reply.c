/*
 * SMTP reply parser for the mta process (see mta_reply.h).
 *
 * One byte at a time, never looking ahead or behind: every decision is
 * taken on the byte that arrives, so any chunking gives the same result
 * and no line is ever read past its end (CVE-2020-8794).
 */
#include <errno.h>
#include <string.h>

#include "mta_reply.h"

enum {
	S_IDLE,		/* between replies */
	S_BOL,		/* at the start of a continuation line */
	S_CODE,		/* in the three digits */
	S_SEP,		/* the octet after the code */
	S_TEXT,		/* in the text */
	S_CR		/* a CR was read: only LF may follow */
};

static const char *reasons[] = {
	[MTA_REPLY_E_NONE] = "no error",
	[MTA_REPLY_E_SHORT] = "reply line ends inside the code",
	[MTA_REPLY_E_CODE] = "reply code is not 200 to 559",
	[MTA_REPLY_E_SEPARATOR] = "no space, hyphen or CRLF after the code",
	[MTA_REPLY_E_MISMATCH] = "lines of one reply with different codes",
	[MTA_REPLY_E_LONG_LINE] = "reply line longer than 512 octets",
	[MTA_REPLY_E_LINES] = "reply with more than 100 lines",
	[MTA_REPLY_E_BARE_CR] = "bare CR in a reply",
	[MTA_REPLY_E_BARE_LF] = "bare LF in a reply",
	[MTA_REPLY_E_NUL] = "NUL in a reply",
	[MTA_REPLY_E_UNEXPECTED] = "data when no reply was awaited",
};

void
mta_reply_init(struct mta_reply_parser *p)
{
	/* The 50 KiB of text need no clearing: len says what is valid. */
	p->error = MTA_REPLY_E_NONE;
	p->pending = 0;
	p->state = S_IDLE;
	p->line_octets = 0;
	p->last = 0;
	memset(p->digits, 0, sizeof(p->digits));
	p->reply.code = 0;
	p->reply.enhanced[0] = '\0';
	p->reply.text[0] = '\0';
	p->reply.len = 0;
	p->reply.nlines = 0;
	p->reply.nsubst = 0;
}

int
mta_reply_expect(struct mta_reply_parser *p, unsigned int n)
{
	if (n > MTA_REPLY_PENDING_MAX - p->pending) {
		errno = EOVERFLOW;
		return -1;
	}
	p->pending += n;
	return 0;
}

enum mta_reply_error
mta_reply_error(const struct mta_reply_parser *p)
{
	return p->error;
}

const char *
mta_reply_reason(enum mta_reply_error e)
{
	if ((unsigned int)e >= sizeof(reasons) / sizeof(reasons[0]))
		return "unknown error";
	return reasons[e];
}

const struct mta_reply *
mta_reply_get(const struct mta_reply_parser *p)
{
	if (p->error != MTA_REPLY_E_NONE || p->state != S_IDLE ||
	    p->reply.nlines == 0)
		return NULL;
	return &p->reply;
}

int
mta_reply_drained(struct mta_reply_parser *p, size_t buffered)
{
	if (buffered == 0 || p->pending > 0)
		return 0;
	if (p->error == MTA_REPLY_E_NONE)
		p->error = MTA_REPLY_E_UNEXPECTED;
	return -1;
}

const char *
mta_reply_line(const struct mta_reply *r, int i, size_t *len)
{
	if (i < 0 || i >= r->nlines)
		return NULL;
	*len = r->line_len[i];
	return r->text + r->line_off[i];
}

/* 1 to 3 digits at *s, advancing it; -1 if none. */
static int
digits3(const char **s, const char *end)
{
	int	n = 0;

	while (*s < end && n < 3 && **s >= '0' && **s <= '9') {
		(*s)++;
		n++;
	}
	if (n == 0 || (*s < end && **s >= '0' && **s <= '9'))
		return -1;
	return 0;
}

/*
 * RFC 3463 "class.subject.detail" at the start of the first line, the
 * class equal to the reply's first digit (2, 4 or 5), followed by a
 * space or the end of the line.  Anything else is plain text: the
 * enhanced code stays empty, the reply is still good.
 */
static void
parse_enhanced(struct mta_reply *r)
{
	const char	*s = r->text + r->line_off[0];
	const char	*end = s + r->line_len[0];
	const char	*start = s;
	int		 class = r->code / 100;

	r->enhanced[0] = '\0';
	if (class == 3 || end - s < 5 || *s != '0' + class || s[1] != '.')
		return;
	s += 2;
	if (digits3(&s, end) == -1 || s == end || *s != '.')
		return;
	s++;
	if (digits3(&s, end) == -1 || (s < end && *s != ' '))
		return;
	/* At most "5.999.999": the cap cannot be exceeded. */
	memcpy(r->enhanced, start, s - start);
	r->enhanced[s - start] = '\0';
}

static int
fail(struct mta_reply_parser *p, enum mta_reply_error e)
{
	p->error = e;
	return -1;
}

static int
start_line(struct mta_reply_parser *p)
{
	struct mta_reply	*r = &p->reply;

	if (r->nlines >= MTA_REPLY_LINES_MAX)
		return fail(p, MTA_REPLY_E_LINES);
	if (r->nlines > 0)
		r->text[r->len++] = ' ';	/* counted in the cap */
	r->line_off[r->nlines] = (uint16_t)r->len;
	r->line_len[r->nlines] = 0;
	r->text[r->len] = '\0';
	r->nlines++;
	p->line_octets = 0;
	p->state = S_CODE;
	return 0;
}

static int
add_text(struct mta_reply_parser *p, uint8_t c)
{
	struct mta_reply	*r = &p->reply;

	if (c == '\t')
		c = ' ';
	else if (c < 0x20 || c > 0x7e) {
		c = '?';
		if (r->nsubst < UINT32_MAX)
			r->nsubst++;
	}
	/* Cannot happen with the line caps; checked all the same. */
	if (r->len >= MTA_REPLY_TEXT_MAX)
		return fail(p, MTA_REPLY_E_LONG_LINE);
	r->text[r->len++] = c;
	r->text[r->len] = '\0';
	r->line_len[r->nlines - 1]++;
	return 0;
}

/* The CRLF of a line.  Returns 1 when it completed the reply. */
static int
end_line(struct mta_reply_parser *p)
{
	struct mta_reply	*r = &p->reply;

	if (r->nlines == 1) {
		r->code = (p->digits[0] - '0') * 100 +
		    (p->digits[1] - '0') * 10 + (p->digits[2] - '0');
		parse_enhanced(r);
	}
	if (!p->last) {
		p->state = S_BOL;
		return 0;
	}
	p->pending--;
	p->state = S_IDLE;
	return 1;
}

/* One byte.  Returns -1 on error, 1 when a reply is complete, else 0. */
static int
step(struct mta_reply_parser *p, uint8_t c)
{
	struct mta_reply	*r = &p->reply;
	size_t			 col;

	if (p->state == S_IDLE) {
		if (p->pending == 0)
			return fail(p, MTA_REPLY_E_UNEXPECTED);
		r->code = 0;
		r->enhanced[0] = '\0';
		r->len = 0;
		r->nlines = 0;
		r->nsubst = 0;
		if (start_line(p) == -1)
			return -1;
	} else if (p->state == S_BOL && start_line(p) == -1)
		return -1;

	col = p->line_octets;
	if (++p->line_octets > MTA_REPLY_LINE_MAX)
		return fail(p, MTA_REPLY_E_LONG_LINE);

	switch (p->state) {
	case S_CODE:
		if (c == '\r' || c == '\n')
			return fail(p, MTA_REPLY_E_SHORT);
		if (c < '0' || c > '9' ||
		    (col == 0 && (c < '2' || c > '5')) ||
		    (col == 1 && c > '5'))
			return fail(p, MTA_REPLY_E_CODE);
		if (r->nlines > 1 && c != p->digits[col])
			return fail(p, MTA_REPLY_E_MISMATCH);
		p->digits[col] = c;
		if (col == 2)
			p->state = S_SEP;
		return 0;
	case S_SEP:
		if (c == ' ' || c == '-') {
			p->last = c == ' ';
			p->state = S_TEXT;
			return 0;
		}
		if (c == '\r') {
			p->last = 1;	/* "250" CRLF: last, empty text */
			p->state = S_CR;
			return 0;
		}
		if (c == '\n')
			return fail(p, MTA_REPLY_E_BARE_LF);
		return fail(p, MTA_REPLY_E_SEPARATOR);
	case S_TEXT:
		if (c == '\r') {
			p->state = S_CR;
			return 0;
		}
		if (c == '\n')
			return fail(p, MTA_REPLY_E_BARE_LF);
		if (c == '\0')
			return fail(p, MTA_REPLY_E_NUL);
		return add_text(p, c);
	case S_CR:
		if (c != '\n')
			return fail(p, MTA_REPLY_E_BARE_CR);
		return end_line(p);
	}
	return fail(p, MTA_REPLY_E_CODE);	/* not reached */
}

enum mta_reply_status
mta_reply_feed(struct mta_reply_parser *p, const uint8_t *in, size_t len,
    size_t *consumed)
{
	size_t	i;
	int	rv;

	*consumed = 0;
	if (p->error != MTA_REPLY_E_NONE)
		return MTA_REPLY_ERROR;
	for (i = 0; i < len; i++) {
		rv = step(p, in[i]);
		if (rv == 0)
			continue;
		*consumed = i + 1;
		return rv == 1 ? MTA_REPLY_READY : MTA_REPLY_ERROR;
	}
	*consumed = len;
	return MTA_REPLY_MORE;
}
