/*
 * Delivery status notifications: RFC 3464 message/delivery-status inside
 * an RFC 6522 multipart/report, and the rules for sending one (RFC 3461,
 * RFC 3834).  No I/O: see bounce.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "smtp_parse.h"
#include "bounce.h"

#define BOUNCE_VALUE_MAX	4096	/* one escaped header value */
#define BOUNCE_WORD_MAX		900	/* longer runs are hard-folded */
#define BOUNCE_SENDER_MAX	900	/* To: <sender> on one line */
#define BOUNCE_HOST_MAX		255
#define BOUNCE_AUTO_VALUE_MAX	2048	/* unfolded field, bounce_is_auto */
#define BOUNCE_DATE_LEN		40
#define BOUNCE_BUF_START	4096

/* Output with a sticky error: the first failure is kept, later puts no-op. */
struct w {
	struct bounce_buf	*b;
	size_t			 col;	/* octets since the last CRLF */
	const char		*why;
};

static const char	*action_name[] = {
	NULL, "failed", "delayed", "delivered", "relayed"
};

void
bounce_buf_init(struct bounce_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max ? max : BOUNCE_MSG_MAX;
}

void
bounce_buf_free(struct bounce_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->size = 0;
}

static void
put(struct w *w, const void *p, size_t n)
{
	struct bounce_buf	*b = w->b;
	const uint8_t		*nl;
	uint8_t			*np;
	size_t			 size;

	if (w->why != NULL || n == 0)
		return;
	if (n > b->max - b->len) {
		w->why = "report over its size cap";
		errno = E2BIG;
		return;
	}
	if (b->len + n > b->size) {
		size = b->size ? b->size : BOUNCE_BUF_START;
		while (size < b->len + n)
			size = size > b->max / 2 ? b->max : size * 2;
		if ((np = realloc(b->p, size)) == NULL) {
			w->why = "out of memory";
			return;
		}
		b->p = np;
		b->size = size;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	if ((nl = memrchr(p, '\n', n)) != NULL)
		w->col = n - (size_t)(nl - (const uint8_t *)p) - 1;
	else
		w->col += n;
}

static void
puts_(struct w *w, const char *s)
{
	put(w, s, strlen(s));
}

static void
crlf(struct w *w)
{
	put(w, "\r\n", 2);
}

/*
 * Writes s (no CR, LF or control byte; no two spaces in a row) from the
 * current column, folding before a word that would pass BOUNCE_FOLD and
 * inside a word longer than BOUNCE_WORD_MAX, so that no line reaches 998
 * octets.  The fold is CRLF + the space that was there (or an added one
 * inside a word: an address is never that long).
 */
static void
put_folded(struct w *w, const char *s)
{
	size_t	sp, wl;

	while (*s != '\0') {
		sp = *s == ' ' ? 1 : 0;
		wl = strcspn(s + sp, " ");
		if (wl > BOUNCE_WORD_MAX)
			wl = BOUNCE_WORD_MAX;
		if (w->col + sp + wl > BOUNCE_FOLD && w->col > 1) {
			put(w, "\r\n ", 3);
			put(w, s + sp, wl);
		} else
			put(w, s, sp + wl);
		s += sp + wl;
	}
}

/* "Name: value" CRLF, value folded. */
static void
field(struct w *w, const char *name, const char *value)
{
	puts_(w, name);
	put(w, ": ", 2);
	put_folded(w, value);
	crlf(w);
}

static int
graphic(int c)
{
	return c > 0x20 && c < 0x7f;
}

static int
all_graphic(const char *s)
{
	for (; *s != '\0'; s++)
		if (!graphic((unsigned char)*s))
			return 0;
	return 1;
}

/* RFC 3461 4: xtext, into dst of size BOUNCE_VALUE_MAX; -1 if too long. */
static int
xtext(char *dst, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 o = 0;
	unsigned char		 c;

	for (; *s != '\0'; s++) {
		if (o + 4 > BOUNCE_VALUE_MAX)
			return -1;
		c = *s;
		if (graphic(c) && c != '+' && c != '=')
			dst[o++] = c;
		else {
			dst[o++] = '+';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 0x0f];
		}
	}
	dst[o] = '\0';
	return 0;
}

/*
 * An address or a host name: as it is when every byte is graphic ASCII,
 * else all of it xtext-encoded (a space, a control or UTF-8 byte).
 */
static int
addr_value(char *dst, const char *s)
{
	if (all_graphic(s)) {
		if (strlen(s) >= BOUNCE_VALUE_MAX)
			return -1;
		strcpy(dst, s);
		return 0;
	}
	return xtext(dst, s);
}

/*
 * Free text from a remote server: CR, LF, TAB and space runs become one
 * space, other bytes outside graphic ASCII "\xHH"; cut at BOUNCE_DIAG_MAX
 * with "...".  dst holds BOUNCE_DIAG_MAX + 1.
 */
static void
text_value(char *dst, const char *s)
{
	size_t		o = 0;
	unsigned char	c;

	for (; *s != '\0'; s++) {
		c = *s;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			if (o > 0 && dst[o - 1] != ' ') {
				if (o + 1 > BOUNCE_DIAG_MAX - 3)
					break;
				dst[o++] = ' ';
			}
		} else if (graphic(c)) {
			if (o + 1 > BOUNCE_DIAG_MAX - 3)
				break;
			dst[o++] = c;
		} else {
			if (o + 4 > BOUNCE_DIAG_MAX - 3)
				break;
			o += snprintf(dst + o, 5, "\\x%02X", c);
		}
	}
	if (*s != '\0') {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
}

static int
host_valid(const char *s)
{
	size_t	n;

	n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-_");
	return n > 0 && n <= BOUNCE_HOST_MAX && s[n] == '\0';
}

/* RFC 3464 2.3.4 status-code: class "." subject "." detail. */
static int
status_valid(const char *s)
{
	size_t	n;

	if (s == NULL || (s[0] != '2' && s[0] != '4' && s[0] != '5') ||
	    s[1] != '.')
		return 0;
	s += 2;
	n = strspn(s, "0123456789");
	if (n < 1 || n > 3 || s[n] != '.')
		return 0;
	s += n + 1;
	n = strspn(s, "0123456789");
	return n >= 1 && n <= 3 && s[n] == '\0';
}

static const char *
status_of(const struct bounce_rcpt *r)
{
	if (status_valid(r->status))
		return r->status;
	switch (r->action) {
	case BOUNCE_FAILED:
		return "5.0.0";
	case BOUNCE_DELAYED:
		return "4.0.0";
	default:
		return "2.0.0";
	}
}

/* RFC 5322 3.3 date-time in UTC; -1 if out of range. */
static int
date_value(char *dst, int64_t t)
{
	static const char	*day[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
				    "Fri", "Sat" };
	static const char	*mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
				    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
				    "Dec" };
	struct tm		 tm;
	time_t			 tt = (time_t)t;

	if ((int64_t)tt != t || gmtime_r(&tt, &tm) == NULL ||
	    tm.tm_year + 1900 < 1970 || tm.tm_year + 1900 > 9999)
		return -1;
	snprintf(dst, BOUNCE_DATE_LEN, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    day[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
	return 0;
}

static int
type_valid(const char *s)
{
	size_t	n;

	n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-");
	return n > 0 && n <= 64 && s[n] == '\0';
}

/* The original, line ends made CRLF, ending with one. */
static void
put_crlf_text(struct w *w, const uint8_t *p, size_t n)
{
	size_t	i, start = 0;

	for (i = 0; i < n; i++) {
		if (p[i] != '\r' && p[i] != '\n')
			continue;
		put(w, p + start, i - start);
		crlf(w);
		if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
			i++;
		start = i + 1;
	}
	put(w, p + start, n - start);
	if (start < n)
		crlf(w);
}

/* Length of the header section, its last line end included. */
static size_t
header_len(const uint8_t *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (p[i] != '\n')
			continue;
		if (i + 1 < n && p[i + 1] == '\n')
			return i + 1;
		if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
			return i + 1;
	}
	if (n > 0 && (p[0] == '\n' || (n > 1 && p[0] == '\r' && p[1] == '\n')))
		return 0;
	return n;
}

static const char *
explanation(int action)
{
	switch (action) {
	case BOUNCE_FAILED:
		return "could not be delivered";
	case BOUNCE_DELAYED:
		return "not delivered yet, still being retried";
	case BOUNCE_DELIVERED:
		return "delivered";
	default:
		return "relayed to a system that does not send reports";
	}
}

static void
human_part(struct w *w, const struct bounce_params *p,
    const struct bounce_rcpt *r, size_t n, int worst, int headers_only,
    int oversize)
{
	char	v[BOUNCE_VALUE_MAX], d[BOUNCE_DIAG_MAX + 1];
	char	line[BOUNCE_VALUE_MAX + BOUNCE_DIAG_MAX + 512];
	size_t	i;

	puts_(w, "Content-Type: text/plain; charset=us-ascii\r\n"
	    "Content-Description: Notification\r\n\r\n");
	puts_(w, "This is the mail system at ");
	puts_(w, p->hostname);
	puts_(w, ".\r\n\r\n");
	if (worst == BOUNCE_FAILED)
		puts_(w, "Your message could not be delivered to one or more\r\n"
		    "recipients.  The reasons are given below.\r\n");
	else if (worst == BOUNCE_DELAYED)
		puts_(w, "Your message could not be delivered yet to one or "
		    "more\r\nrecipients.  Delivery is still being retried; "
		    "you do not need\r\nto send the message again.\r\n");
	else
		puts_(w, "This is the delivery report you asked for.\r\n");
	crlf(w);
	for (i = 0; i < n; i++) {
		/* Checked by the caller: fits. */
		(void)addr_value(v, r[i].addr);
		snprintf(line, sizeof(line), "<%s>: %s (%s)", v,
		    explanation(r[i].action), status_of(&r[i]));
		put_folded(w, line);
		crlf(w);
		if (r[i].diagnostic != NULL && r[i].diagnostic[0] != '\0') {
			text_value(d, r[i].diagnostic);
			if (r[i].remote_mta != NULL &&
			    addr_value(v, r[i].remote_mta) == 0)
				snprintf(line, sizeof(line), "    %s said: %s",
				    v, d);
			else
				snprintf(line, sizeof(line), "    %s", d);
			put_folded(w, line);
			crlf(w);
		}
	}
	if (headers_only) {
		crlf(w);
		if (oversize)
			snprintf(line, sizeof(line), "Only the header of your "
			    "message is attached: the message is larger than "
			    "%d octets.", BOUNCE_ORIG_MAX);
		else
			snprintf(line, sizeof(line), "Only the header of your "
			    "message is attached.");
		put_folded(w, line);
		crlf(w);
	}
}

static int
status_part(struct w *w, const struct bounce_params *p,
    const struct bounce_rcpt *r, size_t n)
{
	char	v[BOUNCE_VALUE_MAX], d[BOUNCE_DIAG_MAX + 1];
	char	line[BOUNCE_VALUE_MAX + 128];	/* type ";" value */
	char	date[BOUNCE_DATE_LEN];
	size_t	i;

	puts_(w, "Content-Type: message/delivery-status\r\n"
	    "Content-Description: Delivery report\r\n\r\n");
	snprintf(line, sizeof(line), "dns; %s", p->hostname);
	field(w, "Reporting-MTA", line);
	if (p->envid != NULL && p->envid[0] != '\0') {
		if (xtext(v, p->envid) == -1)
			return -1;
		field(w, "Original-Envelope-Id", v);
	}
	if (date_value(date, p->arrival) == 0)
		field(w, "Arrival-Date", date);
	for (i = 0; i < n; i++) {
		crlf(w);
		if (r[i].orcpt_type != NULL && type_valid(r[i].orcpt_type) &&
		    r[i].orcpt != NULL && r[i].orcpt[0] != '\0') {
			if (addr_value(v, r[i].orcpt) == -1)
				return -1;
			snprintf(line, sizeof(line), "%s; %s",
			    r[i].orcpt_type, v);
			field(w, "Original-Recipient", line);
		}
		(void)addr_value(v, r[i].addr);
		snprintf(line, sizeof(line), "rfc822; %s", v);
		field(w, "Final-Recipient", line);
		field(w, "Action", action_name[r[i].action]);
		field(w, "Status", status_of(&r[i]));
		if (r[i].remote_mta != NULL && r[i].remote_mta[0] != '\0') {
			if (addr_value(v, r[i].remote_mta) == -1)
				return -1;
			snprintf(line, sizeof(line), "dns; %s", v);
			field(w, "Remote-MTA", line);
		}
		if (r[i].diagnostic != NULL && r[i].diagnostic[0] != '\0') {
			text_value(d, r[i].diagnostic);
			snprintf(line, sizeof(line), "smtp; %s", d);
			field(w, "Diagnostic-Code", line);
		}
		if (r[i].last_attempt > 0 &&
		    date_value(date, r[i].last_attempt) == 0)
			field(w, "Last-Attempt-Date", date);
		if (r[i].action == BOUNCE_DELAYED &&
		    r[i].will_retry_until > 0 &&
		    date_value(date, r[i].will_retry_until) == 0)
			field(w, "Will-Retry-Until", date);
	}
	return 0;
}

static size_t
count(const uint8_t *p, size_t n, const char *s)
{
	const uint8_t	*q;
	size_t		 c = 0, sl = strlen(s);

	while ((q = memmem(p, n, s, sl)) != NULL) {
		c++;
		n -= (size_t)(q - p) + sl;
		p = q + sl;
	}
	return c;
}

int
bounce_build(const struct bounce_params *p, const struct bounce_rcpt *r,
    size_t n, const uint8_t *orig, size_t origlen, struct bounce_buf *out,
    const char **why)
{
	static const char	 hex[] = "0123456789abcdef";
	struct w		 w;
	char			 v[BOUNCE_VALUE_MAX], date[BOUNCE_DATE_LEN];
	char			 seed[BOUNCE_SEED_LEN * 2 + 1];
	char			 boundary[BOUNCE_SEED_LEN * 2 + 16];
	char			 delim[sizeof(boundary) + 2];
	size_t			 i, hlen;
	int			 worst = 0, full, oversize, eight = 0;

	memset(&w, 0, sizeof(w));
	w.b = out;
	out->len = 0;
	if (p->hostname == NULL || !host_valid(p->hostname) ||
	    (p->from_domain != NULL && !host_valid(p->from_domain))) {
		*why = "host name not fit for a header";
		return -1;
	}
	if (p->sender == NULL || p->sender[0] == '\0') {
		*why = "no DSN to the null sender";
		return -1;
	}
	if (!all_graphic(p->sender) ||
	    strlen(p->sender) > BOUNCE_SENDER_MAX) {
		*why = "sender not fit for a header";
		return -1;
	}
	if (n == 0) {
		*why = "no recipient";
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (r[i].action < BOUNCE_FAILED ||
		    r[i].action > BOUNCE_RELAYED) {
			*why = "unknown action";
			return -1;
		}
		if (r[i].addr == NULL || addr_value(v, r[i].addr) == -1) {
			*why = "recipient address too long";
			return -1;
		}
		if (worst == 0 || r[i].action < worst)
			worst = r[i].action;
	}
	if (date_value(date, p->now) == -1) {
		*why = "time out of range";
		return -1;
	}

	/*
	 * The whole message for a failure unless RET=HDRS (RFC 3461 4.3) or
	 * it is too large; delays and successes carry the header only.
	 */
	oversize = origlen > BOUNCE_ORIG_MAX;
	full = worst == BOUNCE_FAILED && p->ret != SMTP_RET_HDRS && !oversize;
	hlen = full ? origlen : header_len(orig, origlen);
	if (hlen > BOUNCE_ORIG_MAX) {
		/* A header over the cap: cut at a line end. */
		hlen = BOUNCE_ORIG_MAX;
		while (hlen > 0 && orig[hlen - 1] != '\n')
			hlen--;
	}
	for (i = 0; i < hlen; i++)
		if (orig[i] & 0x80)
			eight = 1;

	for (i = 0; i < BOUNCE_SEED_LEN; i++) {
		seed[i * 2] = hex[p->seed[i] >> 4];
		seed[i * 2 + 1] = hex[p->seed[i] & 0x0f];
	}
	seed[BOUNCE_SEED_LEN * 2] = '\0';
	snprintf(boundary, sizeof(boundary), "%s/sendgate", seed);
	snprintf(delim, sizeof(delim), "--%s", boundary);

	puts_(&w, "From: \"Mail Delivery System\" <MAILER-DAEMON@");
	puts_(&w, p->from_domain != NULL ? p->from_domain : p->hostname);
	puts_(&w, ">\r\n");
	puts_(&w, "To: <");
	puts_(&w, p->sender);
	puts_(&w, ">\r\n");
	if (worst == BOUNCE_FAILED)
		field(&w, "Subject", "Undelivered Mail Returned to Sender");
	else if (worst == BOUNCE_DELAYED)
		field(&w, "Subject", "Delayed Mail (still being retried)");
	else
		field(&w, "Subject", "Successful Mail Delivery Report");
	field(&w, "Date", date);
	puts_(&w, "Message-ID: <");
	puts_(&w, seed);
	puts_(&w, ".bounce@");
	puts_(&w, p->hostname);
	puts_(&w, ">\r\n");
	puts_(&w, "MIME-Version: 1.0\r\n");
	puts_(&w, "Auto-Submitted: auto-replied\r\n");
	puts_(&w, "Content-Type: multipart/report; "
	    "report-type=delivery-status;\r\n\tboundary=\"");
	puts_(&w, boundary);
	puts_(&w, "\"\r\n");
	if (eight)
		puts_(&w, "Content-Transfer-Encoding: 8bit\r\n");
	puts_(&w, "\r\nThis is a MIME-encapsulated message.\r\n\r\n");

	puts_(&w, delim);
	crlf(&w);
	human_part(&w, p, r, n, worst, !full, oversize);

	puts_(&w, delim);
	crlf(&w);
	if (status_part(&w, p, r, n) == -1) {
		*why = "field value too long";
		return -1;
	}

	puts_(&w, delim);
	crlf(&w);
	if (full)
		puts_(&w, "Content-Type: message/rfc822\r\n"
		    "Content-Description: Undelivered Message\r\n");
	else
		puts_(&w, "Content-Type: text/rfc822-headers\r\n"
		    "Content-Description: Message Headers\r\n");
	if (eight)
		puts_(&w, "Content-Transfer-Encoding: 8bit\r\n");
	crlf(&w);
	if (hlen == 0)
		crlf(&w);
	put_crlf_text(&w, orig, hlen);
	puts_(&w, delim);
	puts_(&w, "--\r\n");

	if (w.why != NULL) {
		*why = w.why;
		return -1;
	}
	/* Three delimiters and the close: the content never holds one. */
	if (count(out->p, out->len, delim) != 4) {
		*why = "boundary found in the content";
		return -1;
	}
	return 0;
}

int
bounce_wanted(const char *sender, int notify, int action, int is_auto)
{
	if (sender == NULL || sender[0] == '\0' || is_auto)
		return 0;
	if (notify & SMTP_NOTIFY_NEVER)
		return 0;
	if (notify == 0)
		return action == BOUNCE_FAILED || action == BOUNCE_DELAYED;
	switch (action) {
	case BOUNCE_FAILED:
		return (notify & SMTP_NOTIFY_FAILURE) != 0;
	case BOUNCE_DELAYED:
		return (notify & SMTP_NOTIFY_DELAY) != 0;
	case BOUNCE_DELIVERED:
	case BOUNCE_RELAYED:
		return (notify & SMTP_NOTIFY_SUCCESS) != 0;
	default:
		return 0;
	}
}

static const char *
skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Auto-Submitted: anything but "no" (comments aside) is automatic. */
static int
auto_submitted(const char *v)
{
	size_t	n;

	v = skip_ws(v);
	while (*v == '(') {
		if ((v = strchr(v, ')')) == NULL)
			return 1;
		v = skip_ws(v + 1);
	}
	n = strcspn(v, " \t;(");
	return !(n == 2 && strncasecmp(v, "no", 2) == 0);
}

/* Content-Type: multipart/report; ...; report-type=delivery-status */
static int
is_report(const char *v)
{
	static const char	 mr[] = "multipart/report";
	const char		*name, *val;
	size_t			 nl, vl;

	v = skip_ws(v);
	if (strncasecmp(v, mr, sizeof(mr) - 1) != 0)
		return 0;
	v = skip_ws(v + sizeof(mr) - 1);
	while (*v == ';') {
		name = skip_ws(v + 1);
		nl = strcspn(name, "= \t;");
		v = skip_ws(name + nl);
		if (*v != '=')
			continue;
		val = skip_ws(v + 1);
		if (*val == '"') {
			val++;
			vl = strcspn(val, "\"");
			v = val + vl + (val[vl] == '"');
		} else {
			vl = strcspn(val, " \t;");
			v = val + vl;
		}
		v = skip_ws(v);
		if (nl == 11 && strncasecmp(name, "report-type", 11) == 0 &&
		    vl == 15 && strncasecmp(val, "delivery-status", 15) == 0)
			return 1;
		/* Skip whatever follows up to the next parameter. */
		v += strcspn(v, ";");
	}
	return 0;
}

static int
auto_field(const char *f)
{
	const char	*colon;
	size_t		 nl;

	if ((colon = strchr(f, ':')) == NULL)
		return 0;
	nl = (size_t)(colon - f);
	while (nl > 0 && (f[nl - 1] == ' ' || f[nl - 1] == '\t'))
		nl--;
	if (nl == 14 && strncasecmp(f, "Auto-Submitted", 14) == 0)
		return auto_submitted(colon + 1);
	if (nl == 12 && strncasecmp(f, "Content-Type", 12) == 0)
		return is_report(colon + 1);
	return 0;
}

int
bounce_is_auto(const uint8_t *p, size_t n)
{
	char		 f[BOUNCE_AUTO_VALUE_MAX];
	size_t		 pos = 0, eol, ll, fl = 0, i;
	const uint8_t	*nl;

	f[0] = '\0';
	while (pos < n) {
		nl = memchr(p + pos, '\n', n - pos);
		eol = nl ? (size_t)(nl - p) : n;
		ll = eol - pos;
		if (ll > 0 && p[pos + ll - 1] == '\r')
			ll--;
		if (ll == 0)
			break;
		if (p[pos] != ' ' && p[pos] != '\t') {
			if (fl > 0 && auto_field(f))
				return 1;
			fl = 0;
		}
		/* Unfold; a NUL would end the field early, make it a space. */
		for (i = 0; i < ll && fl + 1 < sizeof(f); i++)
			f[fl++] = p[pos + i] == '\0' ? ' ' : p[pos + i];
		f[fl] = '\0';
		pos = eol + 1;
	}
	return fl > 0 && auto_field(f);
}
