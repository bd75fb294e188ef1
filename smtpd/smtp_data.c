/*
 * Message body reader: DATA framing, BDAT pass-through, text and header
 * checks, and the From: mailbox parser (see smtp_data.h).
 *
 * The only end of DATA is CRLF "." CRLF.  A CR not followed by LF or an
 * LF not preceded by CR is recorded and the message rejected after the
 * real end, so none of the smuggling sequences (SECURITY.md F1) can end
 * the message or leak a command to the session.
 */
#include <string.h>

#include "smtp_data.h"

enum {
	F_BOL,		/* at the start of a line */
	F_MID,		/* inside a line */
	F_CR,		/* a CR was the last byte (already written) */
	F_DOT,		/* "." at the start of a line (held) */
	F_DOTCR,	/* ".\r" at the start of a line (held) */
	F_HCR,		/* a CR that may start the header's end (held) */
	F_DONE
};

enum {
	H_START,	/* at the start of a header line */
	H_NAME,		/* in a field name */
	H_VALUE,	/* in a field value or continuation */
	H_BODY		/* past the header, or the header was given up */
};

enum {
	CAP_NONE,
	CAP_FROM,
	CAP_SENDER
};

/* Error bits, in the order of precedence of their replies. */
#define E_BARE		0x01
#define E_SIZE		0x02
#define E_NUL		0x04
#define E_LINE		0x08
#define E_HSIZE		0x10
#define E_HFORM		0x20
#define E_HOPS		0x40

static const struct {
	uint32_t		bit;
	struct smtp_data_err	err;
} verdicts[] = {
	{ E_BARE, { 550, "5.5.2", "Bare CR or LF in message text" } },
	{ E_SIZE, { 552, "5.3.4", "Message too big" } },
	{ E_NUL, { 554, "5.6.0", "NUL byte in message text" } },
	{ E_LINE, { 550, "5.6.0", "Line longer than 998 octets" } },
	{ E_HSIZE, { 552, "5.3.4", "Message header too big" } },
	{ E_HFORM, { 554, "5.6.0", "Malformed message header" } },
	{ E_HOPS, { 554, "5.4.6", "Too many Received: fields, routing loop" } },
};

void
smtp_data_init(struct smtp_data *d, uint64_t size_max, int bdat)
{
	memset(d, 0, sizeof(*d));
	d->size_max = size_max;
	d->bdat = bdat != 0;
	d->frame = F_BOL;
	d->hstate = H_START;
}

int
smtp_data_done(const struct smtp_data *d)
{
	return d->done;
}

const struct smtp_data_err *
smtp_data_verdict(const struct smtp_data *d)
{
	size_t	i;

	for (i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++)
		if (d->errors & verdicts[i].bit)
			return &verdicts[i].err;
	return NULL;
}

/* Header parser: the header ends with the first empty line. */

static void
hdr_fail(struct smtp_data *d, uint32_t bit)
{
	d->errors |= bit;
	d->hstate = H_BODY;
	d->capture = CAP_NONE;
}

static int
hdr_count(struct smtp_data *d, uint64_t n)
{
	d->hsize += n;
	if (d->hsize > SMTP_DATA_HEADER_MAX) {
		hdr_fail(d, E_HSIZE);
		return -1;
	}
	return 0;
}

static int
name_is(const struct smtp_data *d, const char *want)
{
	return d->name_len == strlen(want) &&
	    strncasecmp(d->name, want, d->name_len) == 0;
}

/* The counters cannot wrap: fields stop at SMTP_DATA_FIELDS_MAX. */
static void
hdr_name_end(struct smtp_data *d)
{
	if (name_is(d, "from")) {
		if (d->from_count++ == 0)
			d->capture = CAP_FROM;
	} else if (name_is(d, "sender")) {
		if (d->sender_count++ == 0)
			d->capture = CAP_SENDER;
	} else if (name_is(d, "date"))
		d->has_date = 1;
	else if (name_is(d, "message-id"))
		d->has_message_id = 1;
	else if (name_is(d, "received")) {
		d->received_count++;
		if (d->received_count > SMTP_DATA_RECEIVED_MAX)
			d->errors |= E_HOPS;
	}
}

static void
hdr_keep(struct smtp_data *d, uint8_t c)
{
	struct smtp_data_field	*f;

	if (d->capture == CAP_FROM)
		f = &d->from;
	else if (d->capture == CAP_SENDER)
		f = &d->sender;
	else
		return;
	if (c == '\0' || f->len >= SMTP_DATA_VALUE_MAX) {
		f->bad = 1;
		return;
	}
	f->value[f->len++] = c;
	f->value[f->len] = '\0';
}

/* One octet of a header line, CRLF excluded. */
static void
hdr_byte(struct smtp_data *d, uint8_t c)
{
	if (d->hstate == H_BODY || hdr_count(d, 1) == -1)
		return;
	if (d->hline_len < UINT32_MAX)
		d->hline_len++;

	if (d->hstate == H_START) {
		if (c == ' ' || c == '\t') {
			/* Continuation; never as the first line (M2). */
			if (d->fields == 0) {
				hdr_fail(d, E_HFORM);
				return;
			}
			d->hstate = H_VALUE;
			hdr_keep(d, c);
			return;
		}
		if (d->fields >= SMTP_DATA_FIELDS_MAX) {
			hdr_fail(d, E_HFORM);
			return;
		}
		d->fields++;
		d->capture = CAP_NONE;
		d->name_len = 0;
		d->hstate = H_NAME;
	}

	switch (d->hstate) {
	case H_NAME:
		if (c == ':') {
			if (d->name_len == 0) {
				hdr_fail(d, E_HFORM);
				return;
			}
			hdr_name_end(d);
			d->hstate = H_VALUE;
		} else if (c > 32 && c < 127) {
			/* Longer names are counted, never matched. */
			if (d->name_len < SMTP_DATA_NAME_MAX)
				d->name[d->name_len] = c;
			if (d->name_len < SIZE_MAX)
				d->name_len++;
		} else
			hdr_fail(d, E_HFORM);	/* no colon, or WSP in name */
		break;
	case H_VALUE:
		hdr_keep(d, c);
		break;
	}
}

/* CRLF of a header line (or the unterminated end of a BDAT message). */
static void
hdr_eol(struct smtp_data *d, int crlf)
{
	if (d->hstate == H_BODY)
		return;
	if (d->hline_len == 0) {
		d->hstate = H_BODY;	/* the empty line */
		d->capture = CAP_NONE;
		return;
	}
	if (crlf && hdr_count(d, 2) == -1)
		return;
	if (d->hstate == H_NAME) {
		hdr_fail(d, E_HFORM);	/* a line without a colon */
		return;
	}
	d->hline_len = 0;
	d->hstate = H_START;
}

/* Framing. */

static void
emit(struct smtp_data *d, uint8_t c, uint8_t *out, size_t *o)
{
	/* Nothing beyond size_max is handed out to be stored (M1). */
	if (d->size < d->size_max)
		out[(*o)++] = c;
	if (d->size < UINT64_MAX)
		d->size++;
	if (d->size > d->size_max)
		d->errors |= E_SIZE;
}

/* An octet of line content (anything but a CR that may end the line). */
static void
content(struct smtp_data *d, uint8_t c, uint8_t *out, size_t *o)
{
	emit(d, c, out, o);
	if (c == '\0')
		d->errors |= E_NUL;
	if (d->line_len < UINT32_MAX)
		d->line_len++;
	hdr_byte(d, c);
}

static void
line_end(struct smtp_data *d, int crlf)
{
	if (d->line_len > SMTP_DATA_LINE_MAX)
		d->errors |= E_LINE;	/* never folded: DKIM (F5) */
	d->line_len = 0;
	hdr_eol(d, crlf);
}

/* A CR that turned out not to start a CRLF. */
static void
bare_cr(struct smtp_data *d)
{
	d->errors |= E_BARE;
	if (d->line_len < UINT32_MAX)
		d->line_len++;
	hdr_byte(d, '\r');
}

static void
step(struct smtp_data *d, uint8_t c, uint8_t *out, size_t *o)
{
	switch (d->frame) {
	case F_DOT:
		if (c == '\r') {
			d->frame = F_DOTCR;
			return;
		}
		/* The leading dot was stuffing: drop it (RFC 5321 4.5.2). */
		d->frame = F_MID;
		break;
	case F_DOTCR:
		if (c == '\n') {
			d->frame = F_DONE;
			d->done = 1;
			return;
		}
		/* ".\r" then something else: the dot goes, the CR is bare. */
		emit(d, '\r', out, o);
		bare_cr(d);
		d->frame = F_MID;
		break;
	case F_HCR:
		if (c == '\n') {
			/*
			 * The empty line ends the header.  Its CR was held so
			 * that both octets land in this out buffer: the session
			 * can insert fields in front of them.
			 */
			emit(d, '\r', out, o);
			emit(d, '\n', out, o);
			line_end(d, 1);
			d->frame = F_BOL;
			if (d->hstate == H_BODY && !(d->errors & E_HFORM))
				d->header_end = 1;
			return;
		}
		emit(d, '\r', out, o);
		bare_cr(d);
		d->frame = F_MID;
		break;
	case F_CR:
		if (c == '\n') {
			emit(d, '\n', out, o);
			line_end(d, 1);
			d->frame = F_BOL;
			return;
		}
		bare_cr(d);
		d->frame = F_MID;
		break;
	}

	/* F_BOL or F_MID. */
	if (c == '.' && d->frame == F_BOL && !d->bdat) {
		d->frame = F_DOT;
		return;
	}
	if (c == '\r') {
		if (d->frame == F_BOL && d->hstate == H_START &&
		    d->hline_len == 0) {
			d->frame = F_HCR;
			return;
		}
		emit(d, c, out, o);
		d->frame = F_CR;
		return;
	}
	if (c == '\n')
		d->errors |= E_BARE;	/* never a line end (F1) */
	content(d, c, out, o);
	d->frame = F_MID;
}

/*
 * Inside a body line, every octet but CR, LF and NUL does exactly what
 * step() would do with it: it is emitted and counted.  The body of a
 * message is almost all such runs; they are copied in one go instead of
 * through the state machine octet by octet.  Returns the run's length
 * (at most max).
 */
static size_t
body_run(struct smtp_data *d, const uint8_t *in, size_t max, uint8_t *out,
    size_t *o)
{
	size_t	n = 0, keep;

	while (n < max && in[n] != '\r' && in[n] != '\n' && in[n] != '\0')
		n++;
	if (n == 0)
		return 0;
	/* emit(), n times: never more than size_max octets handed out. */
	if (d->size < d->size_max) {
		keep = d->size_max - d->size < n ? d->size_max - d->size : n;
		memcpy(out + *o, in, keep);
		*o += keep;
	}
	d->size = UINT64_MAX - d->size < n ? UINT64_MAX : d->size + n;
	if (d->size > d->size_max)
		d->errors |= E_SIZE;
	d->line_len = UINT32_MAX - d->line_len < n ? UINT32_MAX :
	    d->line_len + (uint32_t)n;
	return n;
}

size_t
smtp_data_feed(struct smtp_data *d, const uint8_t *in, size_t len,
    uint8_t *out, size_t outcap, size_t *outlen)
{
	size_t	i, o = 0, run;

	d->header_end = 0;
	for (i = 0; i < len && !d->done; i++) {
		/* One input octet writes at most two. */
		if (outcap - o < SMTP_DATA_OUT_MIN)
			break;
		if (d->frame == F_MID && d->hstate == H_BODY) {
			/* As many octets as the loop would take one by one. */
			run = outcap - o - SMTP_DATA_OUT_MIN + 1;
			if (run > len - i)
				run = len - i;
			i += body_run(d, in + i, run, out, &o);
			if (i == len || outcap - o < SMTP_DATA_OUT_MIN)
				break;
		}
		step(d, in[i], out, &o);
		if (d->header_end) {
			i++;
			/* Dropped octets (M1): nothing to insert into. */
			if (o < 2 || (d->errors & E_SIZE))
				d->header_end = 0;
			break;
		}
	}
	*outlen = o;
	return i;
}

int
smtp_data_header_ended(const struct smtp_data *d)
{
	return d->header_end;
}

void
smtp_data_bdat_end(struct smtp_data *d)
{
	if (d->done)
		return;
	if (d->frame == F_HCR) {
		/* The held CR was the message's last octet (no out here). */
		d->size++;
		d->frame = F_CR;
	}
	if (d->frame == F_CR)
		bare_cr(d);
	if (d->frame != F_BOL)
		line_end(d, 0);		/* an unterminated last line */
	d->frame = F_DONE;
	d->done = 1;
}

/*
 * From: parser.  A small lexer skips CFWS and yields words (atoms and
 * quoted strings) and specials; the parser follows RFC 5322 3.4 without
 * group syntax, routes or domain literals.
 */

enum {
	T_END,
	T_ATOM,
	T_QSTR,
	T_SPECIAL,
	T_ERR
};

struct lex {
	const unsigned char	*p;
	const unsigned char	*tok;
	size_t			 len;
	int			 special;
};

static int
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80)
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Skips whitespace and (nested) comments; -1 on an unterminated one. */
static int
skip_cfws(struct lex *l)
{
	size_t	depth;

	for (;;) {
		while (*l->p == ' ' || *l->p == '\t')
			l->p++;
		if (*l->p != '(')
			return 0;
		depth = 0;
		do {
			if (*l->p == '\0')
				return -1;
			if (*l->p == '\\') {
				l->p++;
				if (*l->p == '\0')
					return -1;
			} else if (*l->p == '(')
				depth++;
			else if (*l->p == ')')
				depth--;
			else if (*l->p < 0x20 && *l->p != '\t')
				return -1;
			l->p++;
		} while (depth > 0);
	}
}

static int
lex_next(struct lex *l)
{
	unsigned char	c;

	if (skip_cfws(l) == -1)
		return T_ERR;
	l->tok = l->p;
	c = *l->p;
	if (c == '\0')
		return T_END;
	if (is_atext(c)) {
		while (is_atext(*l->p))
			l->p++;
		l->len = l->p - l->tok;
		return T_ATOM;
	}
	if (c == '"') {
		for (l->p++; *l->p != '"'; l->p++) {
			if (*l->p == '\\')
				l->p++;
			if (*l->p == '\0' ||
			    (*l->p < 0x20 && *l->p != '\t') || *l->p == 0x7f)
				return T_ERR;
		}
		l->p++;
		l->len = l->p - l->tok;
		return T_QSTR;
	}
	if (strchr("<>@,:;.", c) != NULL) {
		l->p++;
		l->special = c;
		return T_SPECIAL;
	}
	return T_ERR;		/* '[', controls, stray ')' or '\' */
}

/* Lower-cased dot-atom domain with host name labels. */
static int
parse_domain(struct lex *l, char *dom)
{
	struct lex	copy;
	size_t		n = 0, label, i;

	for (;;) {
		if (lex_next(l) != T_ATOM)
			return -1;
		for (i = 0; i < l->len; i++) {
			unsigned char	c = l->tok[i];

			if (c >= 'A' && c <= 'Z')
				c += 'a' - 'A';
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			    c == '-' || c >= 0x80))
				return -1;
			if (n + 1 >= SMTP_DATA_DOMAIN_SIZE)
				return -1;
			dom[n++] = c;
		}
		label = l->len;
		if (label > 63 || l->tok[0] == '-' || l->tok[label - 1] == '-')
			return -1;
		copy = *l;
		if (lex_next(&copy) != T_SPECIAL || copy.special != '.')
			break;
		*l = copy;
		if (n + 1 >= SMTP_DATA_DOMAIN_SIZE)
			return -1;
		dom[n++] = '.';
	}
	dom[n] = '\0';
	return 0;
}

/* local-part "@" domain, the first word already read (type t). */
static int
parse_addr_spec(struct lex *l, int t, char *dom)
{
	for (;;) {
		if (t != T_ATOM && t != T_QSTR)
			return -1;
		t = lex_next(l);
		if (t != T_SPECIAL)
			return -1;
		if (l->special == '@')
			return parse_domain(l, dom);
		if (l->special != '.')
			return -1;
		t = lex_next(l);
	}
}

/* One mailbox: name-addr or addr-spec. */
static int
parse_mailbox(struct lex *l, char *dom)
{
	struct lex	start = *l;
	int		t, words = 0;

	/* Display name (or local part): words and obsolete dots. */
	for (;;) {
		t = lex_next(l);
		if (t == T_ATOM || t == T_QSTR ||
		    (t == T_SPECIAL && l->special == '.' && words > 0))
			words++;
		else
			break;
	}
	if (t == T_SPECIAL && l->special == '<') {
		t = lex_next(l);
		if (parse_addr_spec(l, t, dom) == -1)
			return -1;
		if (lex_next(l) != T_SPECIAL || l->special != '>')
			return -1;
		return 0;
	}
	if (t == T_SPECIAL && l->special == '@' && words > 0) {
		/* An addr-spec: parse it again from its first word. */
		*l = start;
		return parse_addr_spec(l, lex_next(l), dom);
	}
	return -1;		/* group syntax, route, junk */
}

int
smtp_header_from(const char *value, char dom[][SMTP_DATA_DOMAIN_SIZE],
    size_t ndom, struct smtp_data_err *err)
{
	struct lex	l;
	size_t		n = 0;
	int		t;

	memset(&l, 0, sizeof(l));
	l.p = (const unsigned char *)value;
	for (;;) {
		if (n >= ndom || n >= INT32_MAX)
			goto fail;
		if (parse_mailbox(&l, dom[n]) == -1)
			goto fail;
		n++;
		t = lex_next(&l);
		if (t == T_END)
			return (int)n;
		if (t != T_SPECIAL || l.special != ',')
			goto fail;
	}
 fail:
	err->code = 550;
	err->enhanced = "5.6.0";
	err->text = "Malformed From: or Sender: mailbox";
	return -1;
}
