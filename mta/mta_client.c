/*
 * Outbound SMTP client protocol (see mta_client.h).
 *
 * A transaction is a group of commands by position: RSET (when the last
 * transaction failed), MAIL, one RCPT per recipient, DATA.  "sent" and
 * "replied" count positions; replies come in order, so the position of
 * a reply says which command it answers.  Without PIPELINING a command
 * is built only when every earlier one is answered; with it, the whole
 * group.  "group_end" shrinks when the rest is not worth sending: MAIL
 * refused, or every RCPT answered and none accepted.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "mta_client.h"
#include "smtp_parse.h"

enum {
	S_GREETING,
	S_EHLO,			/* EHLO or HELO sent, before TLS */
	S_HELO,
	S_STARTTLS,
	S_NEED_TLS,
	S_EHLO_TLS,		/* EHLO inside TLS */
	S_AUTH,
	S_AUTH_CANCEL,		/* "*" after a 334 */
	S_IDLE,
	S_TXN,
	S_BODY,
	S_FINAL,		/* awaiting the reply to the body */
	S_DOT,			/* awaiting the reply to a lone "." */
	S_QUIT,
	S_CLOSED,
	S_FATAL
};

enum {
	C_NONE, C_EHLO, C_HELO, C_STARTTLS, C_AUTH, C_AUTH_CANCEL, C_QUIT,
	C_DOT, C_RSET, C_MAIL, C_RCPT, C_DATA
};

struct cmdbuf {
	char	b[MTA_CLIENT_CMD_MAX];
	size_t	n;
	int	over;
};

static void	fail_conn(struct mta_client *, int, const char *,
		    const char *, const struct mta_reply *, int);

/* Copies printable text, cut with "..." when it does not fit. */
static void
copy_text(char *dst, size_t cap, const char *src, size_t len)
{
	size_t	i, n = len;

	if (n > cap - 1) {
		n = cap - 4;
		memcpy(dst + n, "...", 4);
	} else
		dst[n] = '\0';
	for (i = 0; i < n; i++) {
		unsigned char	ch = src[i];

		dst[i] = (ch < 0x20 || ch > 0x7e) ? '?' : ch;
	}
}

static void
set_result(struct mta_client_result *res, int code, const char *enhanced,
    const char *prefix, const struct mta_reply *r)
{
	char	buf[MTA_CLIENT_TEXT_MAX + 1];
	int	n;

	if (code / 100 == 2)
		res->status = MTA_CLIENT_DELIVERED;
	else if (code / 100 == 4)
		res->status = MTA_CLIENT_TEMPFAIL;
	else
		res->status = MTA_CLIENT_PERMFAIL;
	res->code = code;
	copy_text(res->enhanced, sizeof(res->enhanced), enhanced,
	    strlen(enhanced));
	if (prefix == NULL) {
		copy_text(res->text, sizeof(res->text), r->text, r->len);
		return;
	}
	if (r == NULL) {
		copy_text(res->text, sizeof(res->text), prefix, strlen(prefix));
		return;
	}
	/* Our reason, then what the server said. */
	n = snprintf(buf, sizeof(buf), "%s: %d %s", prefix, r->code, r->text);
	copy_text(res->text, sizeof(res->text), buf, strlen(buf));
	if (n < 0 || (size_t)n >= sizeof(buf))
		memcpy(res->text + sizeof(res->text) - 4, "...", 4);
}

static void
set_reply(struct mta_client_result *res, const struct mta_reply *r)
{
	set_result(res, r->code, r->enhanced, NULL, r);
}

/* A value fit for a command: printable, 8-bit only with SMTPUTF8. */
static int
wire_ok(const char *s, size_t max, int utf8, int empty_ok)
{
	size_t	i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char	ch = s[i];

		if (i >= max || ch < 0x20 || ch == 0x7f ||
		    (ch > 0x7f && !utf8))
			return 0;
	}
	return i > 0 || empty_ok;
}

static void
put(struct cmdbuf *cb, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (cb->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(cb->b + cb->n, sizeof(cb->b) - cb->n, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cb->b) - cb->n)
		cb->over = 1;
	else
		cb->n += n;
}

/* RFC 3461 4: xtext, "+" HEX HEX for "+", "=" and anything outside "!"-"~". */
static void
put_xtext(struct cmdbuf *cb, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char	ch = *s;

		if (ch < 0x21 || ch > 0x7e || ch == '+' || ch == '=')
			put(cb, "+%02X", ch);
		else
			put(cb, "%c", ch);
	}
}

static void
put_auth(struct cmdbuf *cb, const struct mta_client_params *pa)
{
	unsigned char	raw[2 * MTA_CLIENT_CRED_MAX + 2];
	char		enc[BASE64_ENCODED_LEN(sizeof(raw)) + 1];
	size_t		ul = strlen(pa->auth_user), pl = strlen(pa->auth_pass);

	/* RFC 4616: authzid (empty) NUL authcid NUL passwd. */
	raw[0] = '\0';
	memcpy(raw + 1, pa->auth_user, ul);
	raw[1 + ul] = '\0';
	memcpy(raw + 2 + ul, pa->auth_pass, pl);
	/* Cannot fail: enc holds the largest credentials init accepts. */
	(void)base64_encode(raw, ul + pl + 2, enc, sizeof(enc));
	put(cb, "AUTH PLAIN %s", enc);
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(enc, sizeof(enc));
}

static void
put_notify(struct cmdbuf *cb, int notify)
{
	const char	*sep = "";

	if (notify == 0)
		return;
	put(cb, " NOTIFY=");
	if (notify & SMTP_NOTIFY_NEVER) {
		put(cb, "NEVER");
		return;
	}
	if (notify & SMTP_NOTIFY_SUCCESS) {
		put(cb, "%sSUCCESS", sep);
		sep = ",";
	}
	if (notify & SMTP_NOTIFY_FAILURE) {
		put(cb, "%sFAILURE", sep);
		sep = ",";
	}
	if (notify & SMTP_NOTIFY_DELAY)
		put(cb, "%sDELAY", sep);
}

static void
build(const struct mta_client *c, int cmd, size_t ri, struct cmdbuf *cb)
{
	const struct mta_client_msg	*m = c->msg;
	const struct mta_client_rcpt	*rc;
	int				 dsn = c->ext & MTA_CLIENT_EXT_DSN;

	cb->n = 0;
	cb->over = 0;
	switch (cmd) {
	case C_EHLO:
		put(cb, "EHLO %s", c->params->helo);
		break;
	case C_HELO:
		put(cb, "HELO %s", c->params->helo);
		break;
	case C_STARTTLS:
		put(cb, "STARTTLS");
		break;
	case C_AUTH:
		put_auth(cb, c->params);
		break;
	case C_AUTH_CANCEL:
		put(cb, "*");
		break;
	case C_QUIT:
		put(cb, "QUIT");
		break;
	case C_DOT:
		put(cb, ".");
		break;
	case C_RSET:
		put(cb, "RSET");
		break;
	case C_DATA:
		put(cb, "DATA");
		break;
	case C_MAIL:
		put(cb, "MAIL FROM:<%s>", m->sender);
		if (c->ext & MTA_CLIENT_EXT_SIZE)
			put(cb, " SIZE=%llu", (unsigned long long)m->size);
		if ((c->ext & MTA_CLIENT_EXT_8BITMIME) &&
		    m->body == SMTP_BODY_8BITMIME)
			put(cb, " BODY=8BITMIME");
		else if ((c->ext & MTA_CLIENT_EXT_8BITMIME) &&
		    m->body == SMTP_BODY_7BIT)
			put(cb, " BODY=7BIT");
		if (m->smtputf8)
			put(cb, " SMTPUTF8");
		if (dsn && m->ret == SMTP_RET_FULL)
			put(cb, " RET=FULL");
		else if (dsn && m->ret == SMTP_RET_HDRS)
			put(cb, " RET=HDRS");
		if (dsn && m->envid != NULL && m->envid[0] != '\0') {
			put(cb, " ENVID=");
			put_xtext(cb, m->envid);
		}
		break;
	case C_RCPT:
		rc = &m->rcpt[ri];
		put(cb, "RCPT TO:<%s>", rc->addr);
		if (dsn)
			put_notify(cb, rc->notify);
		if (dsn && rc->orcpt != NULL && rc->orcpt[0] != '\0' &&
		    rc->orcpt_type != NULL &&
		    strcasecmp(rc->orcpt_type, "rfc822") == 0) {
			put(cb, " ORCPT=rfc822;");
			put_xtext(cb, rc->orcpt);
		}
		break;
	default:
		cb->over = 1;
		return;
	}
	put(cb, "\r\n");
}

/* The command at a group position; ri is the recipient for RCPT. */
static int
group_cmd(const struct mta_client *c, size_t pos, size_t *ri)
{
	if (pos < c->group_base)
		return C_RSET;
	pos -= c->group_base;
	if (pos == 0)
		return C_MAIL;
	if (pos <= c->msg->nrcpt) {
		*ri = pos - 1;
		return C_RCPT;
	}
	return C_DATA;
}

static int
next_cmd(const struct mta_client *c, size_t *ri)
{
	if (c->cmd != C_NONE)
		return c->cmd;
	if (c->state != S_TXN || c->sent >= c->group_end)
		return C_NONE;
	if (!(c->ext & MTA_CLIENT_EXT_PIPELINING) && c->sent != c->replied)
		return C_NONE;
	return group_cmd(c, c->sent, ri);
}

int
mta_client_init(struct mta_client *c, const struct mta_client_params *pa)
{
	memset(c, 0, sizeof(*c));
	if (!wire_ok(pa->helo, MTA_CLIENT_HELO_MAX, 0, 0) ||
	    strchr(pa->helo, ' ') != NULL ||
	    (pa->auth_user != NULL &&
	    (!wire_ok(pa->auth_user, MTA_CLIENT_CRED_MAX, 0, 0) ||
	    !wire_ok(pa->auth_pass, MTA_CLIENT_CRED_MAX, 0, 0))) ||
	    (pa->tls != MTA_CLIENT_TLS_OPPORTUNISTIC &&
	    pa->tls != MTA_CLIENT_TLS_REQUIRE &&
	    pa->tls != MTA_CLIENT_TLS_NONE &&
	    pa->tls != MTA_CLIENT_TLS_IMPLICIT)) {
		errno = EINVAL;
		return -1;
	}
	c->params = pa;
	c->tls = pa->tls == MTA_CLIENT_TLS_IMPLICIT;
	c->state = S_GREETING;
	c->cmd = C_NONE;
	c->awaited = 1;
	return 0;
}

enum mta_client_event
mta_client_event(const struct mta_client *c)
{
	size_t	ri;

	switch (c->state) {
	case S_FATAL:
		return MTA_CLIENT_FATAL;
	case S_CLOSED:
		return MTA_CLIENT_CLOSED;
	case S_NEED_TLS:
		return MTA_CLIENT_NEED_TLS;
	case S_BODY:
		return MTA_CLIENT_SEND_BODY;
	case S_IDLE:
		return c->done ? MTA_CLIENT_MESSAGE_DONE : MTA_CLIENT_READY;
	default:
		return next_cmd(c, &ri) != C_NONE ? MTA_CLIENT_WRITE :
		    MTA_CLIENT_READ;
	}
}

static enum mta_client_event
fail_internal(struct mta_client *c, const char *why)
{
	fail_conn(c, 421, "4.3.0", why, NULL, 0);
	return mta_client_event(c);
}

int
mta_client_output(struct mta_client *c, uint8_t *buf, size_t cap,
    size_t *len, unsigned int *nreplies)
{
	struct cmdbuf	cb;
	size_t		ri = 0, i;
	int		cmd, ret = 0;

	*len = 0;
	*nreplies = 0;
	while ((cmd = next_cmd(c, &ri)) != C_NONE) {
		build(c, cmd, ri, &cb);
		/* The last guard: only the final CRLF may be a control. */
		for (i = 0; !cb.over && i + 2 < cb.n; i++)
			if ((unsigned char)cb.b[i] < 0x20 ||
			    cb.b[i] == 0x7f)
				cb.over = 1;
		if (cb.over) {
			fail_internal(c, "internal error: command refused");
			errno = EINVAL;
			ret = -1;
			break;
		}
		if (cb.n > cap - *len) {
			if (*len == 0) {
				errno = ENOBUFS;
				ret = -1;
			}
			break;
		}
		memcpy(buf + *len, cb.b, cb.n);
		*len += cb.n;
		(*nreplies)++;
		c->awaited++;
		if (c->cmd != C_NONE)
			c->cmd = C_NONE;
		else
			c->sent++;
	}
	explicit_bzero(&cb, sizeof(cb));
	return ret;
}

/* Gives every recipient without a final result this one. */
static void
finish_pending(struct mta_client *c, int code, const char *enhanced,
    const char *prefix, const struct mta_reply *r)
{
	size_t	i;

	if (c->msg == NULL || c->done)
		return;
	for (i = 0; i < c->msg->nrcpt; i++) {
		struct mta_client_result	*res = &c->msg->rcpt[i].result;

		if (res->status == MTA_CLIENT_PENDING ||
		    res->status == MTA_CLIENT_ACCEPTED)
			set_result(res, code, enhanced, prefix, r);
	}
}

/*
 * The connection ends: everything pending gets code/enhanced and the
 * text (prefix and reply r, either may be NULL), then QUIT when asked
 * and possible (no reply outstanding), else FATAL at once.
 */
static void
fail_conn(struct mta_client *c, int code, const char *enhanced,
    const char *prefix, const struct mta_reply *r, int quit)
{
	if (c->state == S_FATAL || c->state == S_CLOSED)
		return;
	if (!c->failed) {
		set_result(&c->failure, code, enhanced, prefix, r);
		c->failed = 1;
	}
	finish_pending(c, code, enhanced, prefix, r);
	if (quit && c->awaited == 0 && c->state != S_QUIT) {
		c->state = S_QUIT;
		c->cmd = C_QUIT;
	} else {
		c->state = S_FATAL;
		c->cmd = C_NONE;
	}
}

/* A reply of the server's own failure, with our reason in front. */
static void
fail_reply(struct mta_client *c, const char *prefix,
    const struct mta_reply *r, int quit)
{
	fail_conn(c, r->code, r->enhanced, prefix, r, quit);
}

static void
fail_proto(struct mta_client *c, const char *why, const struct mta_reply *r)
{
	fail_conn(c, 421, "4.4.2", why, r, 0);
}

static int
word_is(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && strncasecmp(s, w, len) == 0;
}

/* The keywords of an EHLO reply, line 0 being the greeting. */
static void
parse_ehlo(struct mta_client *c, const struct mta_reply *r)
{
	const char		*l, *arg;
	size_t			 len, kw, i, alen;
	unsigned long long	 v;
	int			 n, overflow;

	c->ext = 0;
	c->size_max = 0;
	for (n = 1; (l = mta_reply_line(r, n, &len)) != NULL; n++) {
		for (kw = 0; kw < len && l[kw] != ' ' && l[kw] != '='; kw++)
			;
		arg = l + kw + (kw < len);
		alen = len - kw - (kw < len);
		if (word_is(l, kw, "PIPELINING"))
			c->ext |= MTA_CLIENT_EXT_PIPELINING;
		else if (word_is(l, kw, "8BITMIME"))
			c->ext |= MTA_CLIENT_EXT_8BITMIME;
		else if (word_is(l, kw, "SMTPUTF8"))
			c->ext |= MTA_CLIENT_EXT_SMTPUTF8;
		else if (word_is(l, kw, "DSN"))
			c->ext |= MTA_CLIENT_EXT_DSN;
		else if (word_is(l, kw, "STARTTLS"))
			c->ext |= MTA_CLIENT_EXT_STARTTLS;
		else if (word_is(l, kw, "SIZE")) {
			/* "SIZE", "SIZE 0" or an overflow: no limit. */
			c->ext |= MTA_CLIENT_EXT_SIZE;
			v = 0;
			overflow = 0;
			for (i = 0; i < alen && arg[i] >= '0' &&
			    arg[i] <= '9'; i++) {
				if (v > (UINT64_MAX - 9) / 10)
					overflow = 1;
				v = v * 10 + (arg[i] - '0');
			}
			if (i == alen && !overflow)
				c->size_max = v;
		} else if (word_is(l, kw, "AUTH")) {
			/* "AUTH PLAIN LOGIN", or the old "AUTH=PLAIN". */
			while (alen > 0) {
				for (i = 0; i < alen && arg[i] != ' '; i++)
					;
				if (word_is(arg, i, "PLAIN"))
					c->ext |= MTA_CLIENT_EXT_AUTH_PLAIN;
				if (i < alen)
					i++;
				arg += i;
				alen -= i;
			}
		}
	}
}

/* EHLO/HELO done, TLS settled: AUTH, or ready. */
static void
secured(struct mta_client *c)
{
	if (c->params->auth_user == NULL) {
		c->state = S_IDLE;
		return;
	}
	if (!c->tls) {
		fail_conn(c, 421, "4.7.4",
		    "AUTH credentials configured and no TLS", NULL, 1);
		return;
	}
	if (!(c->ext & MTA_CLIENT_EXT_AUTH_PLAIN)) {
		fail_conn(c, 421, "4.7.4", "AUTH PLAIN not offered", NULL, 1);
		return;
	}
	c->state = S_AUTH;
	c->cmd = C_AUTH;
}

static void
after_ehlo(struct mta_client *c)
{
	if (!c->tls && (c->ext & MTA_CLIENT_EXT_STARTTLS) &&
	    c->params->tls != MTA_CLIENT_TLS_NONE) {
		c->state = S_STARTTLS;
		c->cmd = C_STARTTLS;
		return;
	}
	if (!c->tls && c->params->tls == MTA_CLIENT_TLS_REQUIRE) {
		fail_conn(c, 421, "4.7.4", "TLS required and STARTTLS not "
		    "offered", NULL, 1);
		return;
	}
	secured(c);
}

/* The transaction is over; rset: it did not reach the final reply. */
static void
txn_end(struct mta_client *c, int rset)
{
	c->rset = rset;
	c->done = 1;
	c->state = S_IDLE;
}

static void
txn_input(struct mta_client *c, const struct mta_reply *r)
{
	struct mta_client_msg	*m = c->msg;
	size_t			 ri = 0, pos = c->replied++;
	int			 cls = r->code / 100;

	switch (group_cmd(c, pos, &ri)) {
	case C_RSET:
		if (cls != 2) {
			/* Not this message's fault: temporary. */
			fail_conn(c, 421, "4.5.0", "RSET refused", r, 1);
			return;
		}
		break;
	case C_MAIL:
		if (cls == 2)
			c->mail_ok = 1;
		else if (cls == 4 || cls == 5) {
			finish_pending(c, r->code, r->enhanced, NULL, r);
			c->group_end = c->sent;
		} else {
			fail_proto(c, "unexpected reply to MAIL", r);
			return;
		}
		break;
	case C_RCPT:
		if (cls != 2 && cls != 4 && cls != 5) {
			fail_proto(c, "unexpected reply to RCPT", r);
			return;
		}
		if (!c->mail_ok)
			break;		/* MAIL's result stands */
		if (cls == 2) {
			m->rcpt[ri].result.status = MTA_CLIENT_ACCEPTED;
			c->accepted++;
		} else
			set_reply(&m->rcpt[ri].result, r);
		if (ri + 1 == m->nrcpt && c->accepted == 0 &&
		    c->group_end > c->sent)
			c->group_end = c->sent;		/* no DATA */
		break;
	case C_DATA:
		if (r->code == 354) {
			if (c->mail_ok && c->accepted > 0)
				c->state = S_BODY;
			else {
				/* RFC 2920 3.1: end the empty data. */
				c->state = S_DOT;
				c->cmd = C_DOT;
			}
			return;
		}
		if (cls != 4 && cls != 5) {
			fail_proto(c, "unexpected reply to DATA", r);
			return;
		}
		finish_pending(c, r->code, r->enhanced, NULL, r);
		break;
	}
	if (c->replied == c->group_end && c->sent == c->group_end)
		txn_end(c, 1);
}

enum mta_client_event
mta_client_input(struct mta_client *c, const struct mta_reply *r)
{
	int	cls = r->code / 100;

	if (c->state == S_FATAL || c->state == S_CLOSED)
		return mta_client_event(c);
	if (c->awaited == 0)
		return fail_internal(c, "internal error: reply not awaited");
	c->awaited--;
	if (c->state == S_QUIT) {
		/* Any reply is fine. */
		c->state = c->failed ? S_FATAL : S_CLOSED;
		return mta_client_event(c);
	}
	if (r->code == 421) {
		fail_reply(c, NULL, r, 0);
		return mta_client_event(c);
	}
	switch (c->state) {
	case S_GREETING:
		if (r->code == 220) {
			c->state = S_EHLO;
			c->cmd = C_EHLO;
		} else if (cls == 4 || cls == 5)
			fail_reply(c, NULL, r, 1);
		else
			fail_proto(c, "unexpected greeting", r);
		break;
	case S_EHLO:
	case S_EHLO_TLS:
		if (cls == 2) {
			parse_ehlo(c, r);
			after_ehlo(c);
		} else if (c->state == S_EHLO &&
		    (r->code == 500 || r->code == 502)) {
			c->state = S_HELO;
			c->cmd = C_HELO;
		} else if (cls == 4 || cls == 5)
			fail_reply(c, "EHLO refused", r, 1);
		else
			fail_proto(c, "unexpected reply to EHLO", r);
		break;
	case S_HELO:
		if (cls == 2) {
			c->ext = 0;
			c->size_max = 0;
			after_ehlo(c);
		} else if (cls == 4 || cls == 5)
			fail_reply(c, "HELO refused", r, 1);
		else
			fail_proto(c, "unexpected reply to HELO", r);
		break;
	case S_STARTTLS:
		if (r->code == 220)
			c->state = S_NEED_TLS;
		else if (cls != 4 && cls != 5)
			fail_proto(c, "unexpected reply to STARTTLS", r);
		else if (c->params->tls == MTA_CLIENT_TLS_REQUIRE)
			fail_conn(c, 421, "4.7.4", "TLS required and STARTTLS "
			    "refused", r, 1);
		else
			secured(c);
		break;
	case S_AUTH:
		if (r->code == 235)
			c->state = S_IDLE;
		else if (r->code == 334) {
			/* We sent everything: cancel (RFC 4954 4). */
			c->state = S_AUTH_CANCEL;
			c->cmd = C_AUTH_CANCEL;
		} else
			fail_conn(c, 421, "4.7.0", "AUTH failed", r, 1);
		break;
	case S_AUTH_CANCEL:
		fail_conn(c, 421, "4.7.0", "AUTH failed", r, 1);
		break;
	case S_TXN:
		txn_input(c, r);
		break;
	case S_FINAL:
		if (cls == 2 || cls == 4 || cls == 5) {
			finish_pending(c, r->code, r->enhanced, NULL, r);
			txn_end(c, 0);
		} else
			fail_proto(c, "unexpected reply to the data", r);
		break;
	case S_DOT:
		txn_end(c, 0);
		break;
	default:
		return fail_internal(c, "internal error: reply in a wrong "
		    "state");
	}
	return mta_client_event(c);
}

enum mta_client_event
mta_client_tls_done(struct mta_client *c, int ok)
{
	if (c->state != S_NEED_TLS)
		return fail_internal(c, "internal error: TLS not asked for");
	if (!ok) {
		fail_conn(c, 421, "4.7.5", "TLS handshake failed", NULL, 0);
		return mta_client_event(c);
	}
	c->tls = 1;
	c->ext = 0;
	c->size_max = 0;
	c->state = S_EHLO_TLS;
	c->cmd = C_EHLO;
	return mta_client_event(c);
}

enum mta_client_event
mta_client_body_done(struct mta_client *c)
{
	if (c->state != S_BODY)
		return fail_internal(c, "internal error: body not asked for");
	c->state = S_FINAL;
	c->awaited++;
	return mta_client_event(c);
}

static void
refuse_msg(struct mta_client *c, int code, const char *enhanced,
    const char *why)
{
	c->done = 0;
	finish_pending(c, code, enhanced, why, NULL);
	c->done = 1;
}

enum mta_client_event
mta_client_message(struct mta_client *c, struct mta_client_msg *m)
{
	size_t	i;
	int	bad;

	if (c->state != S_IDLE)
		return fail_internal(c, "internal error: message while busy");
	c->msg = m;
	c->done = 0;
	if (m->nrcpt == 0 || m->nrcpt > MTA_CLIENT_RCPT_MAX)
		return fail_internal(c, "internal error: recipient count");
	for (i = 0; i < m->nrcpt; i++)
		memset(&m->rcpt[i].result, 0, sizeof(m->rcpt[i].result));

	bad = !wire_ok(m->sender, MTA_CLIENT_ADDR_MAX, m->smtputf8, 1) ||
	    (m->envid != NULL &&
	    !wire_ok(m->envid, SMTP_ENVID_MAX, 0, 1));
	for (i = 0; i < m->nrcpt && !bad; i++)
		bad = !wire_ok(m->rcpt[i].addr, MTA_CLIENT_ADDR_MAX,
		    m->smtputf8, 0) || (m->rcpt[i].orcpt != NULL &&
		    !wire_ok(m->rcpt[i].orcpt, SMTP_ORCPT_MAX, 1, 1));
	if (bad) {
		refuse_msg(c, 554, "5.3.0", "Envelope value not fit for "
		    "the wire (control byte, 8-bit or too long)");
		return mta_client_event(c);
	}
	if ((c->ext & MTA_CLIENT_EXT_SIZE) && c->size_max != 0 &&
	    m->size > c->size_max) {
		refuse_msg(c, 552, "5.3.4", "Message larger than the "
		    "server's SIZE limit");
		return mta_client_event(c);
	}
	if (m->smtputf8 && !(c->ext & MTA_CLIENT_EXT_SMTPUTF8)) {
		refuse_msg(c, 550, "5.6.7", "SMTPUTF8 message and the server "
		    "does not offer SMTPUTF8");
		return mta_client_event(c);
	}
	if (m->body == SMTP_BODY_8BITMIME &&
	    !(c->ext & MTA_CLIENT_EXT_8BITMIME)) {
		refuse_msg(c, 554, "5.6.3", "8-bit message and the server "
		    "does not offer 8BITMIME");
		return mta_client_event(c);
	}

	c->group_base = c->rset ? 1 : 0;
	c->group_end = c->group_base + m->nrcpt + 2;
	c->sent = 0;
	c->replied = 0;
	c->mail_ok = 0;
	c->accepted = 0;
	c->state = S_TXN;
	return mta_client_event(c);
}

enum mta_client_event
mta_client_quit(struct mta_client *c)
{
	if (c->state != S_IDLE)
		return fail_internal(c, "internal error: QUIT while busy");
	c->state = S_QUIT;
	c->cmd = C_QUIT;
	return mta_client_event(c);
}

enum mta_client_event
mta_client_abort(struct mta_client *c, int code, const char *enhanced,
    const char *text)
{
	if (code < 400 || code > 599)
		code = 421;
	fail_conn(c, code, enhanced != NULL ? enhanced : "", text, NULL, 0);
	return mta_client_event(c);
}

enum mta_client_event
mta_client_protocol_error(struct mta_client *c, enum mta_reply_error e)
{
	char	why[128];

	snprintf(why, sizeof(why), "Protocol error: %s", mta_reply_reason(e));
	fail_conn(c, 421, "4.4.2", why, NULL, 0);
	return mta_client_event(c);
}

const struct mta_client_result *
mta_client_failure(const struct mta_client *c)
{
	return &c->failure;
}

unsigned int
mta_client_extensions(const struct mta_client *c)
{
	return c->ext;
}
