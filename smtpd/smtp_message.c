/*
 * The message of an SMTP session (see smtp_session_local.h): the file
 * queue hands over, the Received: field on top, Date: and Message-ID:
 * added at the end of the header when missing, the body streamed through
 * the DATA/BDAT framer (smtp_data.c), the From:/Sender: check, and the
 * envelope sent to queue for a durable commit before the 250.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tls.h>

#include "child.h"
#include "log.h"
#include "msg.h"
#include "proto.h"
#include "smtp_session_local.h"

/* Body octets on their way from the framer to the file. */
static unsigned char	body_buf[64 * 1024];

static void
smtp_message_rollback(struct smtp_session *s)
{
	struct msg_out	m;

	if (s->msgfd != -1) {
		close(s->msgfd);
		s->msgfd = -1;
	}
	if (s->qid[0] != '\0') {
		msg_out_init(&m);
		m_add_string(&m, s->qid);
		mproc_send(child_peer(PROC_QUEUE), IMSG_SMTP_MESSAGE_ROLLBACK,
		    0, -1, &m);
		s->qid[0] = '\0';
	}
}

void
smtp_rcpt_free(struct smtp_rcpt *r)
{
	if (r == NULL)
		return;
	free(r->addr);
	free(r->orcpt);
	free(r);
}

void
smtp_message_reset(struct smtp_session *s)
{
	struct smtp_rcpt	*r;

	smtp_message_rollback(s);
	while ((r = TAILQ_FIRST(&s->rcpts)) != NULL) {
		TAILQ_REMOVE(&s->rcpts, r, entry);
		smtp_rcpt_free(r);
	}
	smtp_rcpt_free(s->rcpt_asking);
	s->rcpt_asking = NULL;
	s->nrcpt = 0;
	s->rcpt_refused = 0;
	free(s->data);
	s->data = NULL;
	s->bdat = 0;
	s->bdat_left = 0;
	s->bdat_last = 0;
	s->write_errno = 0;
	s->written = 0;
	s->header_done = 0;
	s->received_due = 0;
	memset(&s->from, 0, sizeof(s->from));
	memset(&s->mp, 0, sizeof(s->mp));
	if (s->state >= S_MAIL && s->state <= S_BODY)
		s->state = S_READY;
}

/*
 * What one call of body_feed writes to the message file is gathered
 * here and written at its end (or when full): a small message, its
 * Received: and the fields added, goes in one write(2) instead of four.
 * Empty whenever body_feed is not running, so sessions never share it.
 */
static unsigned char	file_buf[16 * 1024];
static size_t		file_len;

static void
file_out(struct smtp_session *s, const unsigned char *p, size_t len)
{
	ssize_t	n;

	while (len > 0 && s->write_errno == 0) {
		n = write(s->msgfd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			s->write_errno = errno;
			break;
		}
		p += n;
		len -= n;
		s->written += n;
	}
}

static void
file_flush(struct smtp_session *s)
{
	file_out(s, file_buf, file_len);
	file_len = 0;
}

static void
file_write(struct smtp_session *s, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	size_t			 n;

	if (len == 0)
		return;
	if (len >= 2)
		memcpy(s->last, p + len - 2, 2);
	else {
		s->last[0] = s->last[1];
		s->last[1] = p[0];
	}
	if (len >= sizeof(file_buf)) {
		/* A large piece: no copy. */
		file_flush(s);
		file_out(s, p, len);
		return;
	}
	while (len > 0) {
		if (file_len == sizeof(file_buf))
			file_flush(s);
		n = sizeof(file_buf) - file_len;
		if (n > len)
			n = len;
		memcpy(file_buf + file_len, p, n);
		file_len += n;
		p += n;
		len -= n;
	}
}

static const char *
with_protocol(const struct smtp_session *s)
{
	int	tls = smtp_io_tls(&s->io), auth = !s->by_addr;

	if (!s->esmtp)
		return "SMTP";
	if (tls && auth)
		return "ESMTPSA";
	if (tls)
		return "ESMTPS";
	return auth ? "ESMTPA" : "ESMTP";
}

static void
rfc5322_date(char *buf, size_t len, time_t t)
{
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/*
 * Received: (RFC 5321 4.4).  Every value in it was validated by a parser
 * (HELO name, connector name) or comes from us (address, TLS facts); no
 * password, no user input otherwise.
 */
static void
write_received(struct smtp_session *s)
{
	char	date[64], tls[160], buf[1024];
	int	n;

	rfc5322_date(date, sizeof(date), time(NULL));
	tls[0] = '\0';
	if (smtp_io_tls(&s->io))
		snprintf(tls, sizeof(tls), "\r\n\t(using %s with cipher %s)",
		    tls_conn_version(s->io.tls), tls_conn_cipher(s->io.tls));
	n = snprintf(buf, sizeof(buf),
	    "Received: from %s ([%s%s])\r\n"
	    "\tby %s (sendgate) with %s id %s%s\r\n"
	    "\t(connector %s);\r\n"
	    "\t%s\r\n",
	    s->helo[0] ? s->helo : "unknown",
	    s->ss.ss_family == AF_INET6 ? "IPv6:" : "", s->addr,
	    smtp_session_params->hostname, with_protocol(s), s->qid, tls,
	    s->connector_name, date);
	if (n > 0 && (size_t)n < sizeof(buf))
		file_write(s, buf, n);
}

/* Date: and Message-ID: when the client gave none (RFC 6409 8). */
static void
write_missing_fields(struct smtp_session *s)
{
	char	buf[512], date[64];
	int	n;

	if (!s->data->has_date) {
		rfc5322_date(date, sizeof(date), time(NULL));
		n = snprintf(buf, sizeof(buf), "Date: %s\r\n", date);
		file_write(s, buf, n);
	}
	if (!s->data->has_message_id) {
		n = snprintf(buf, sizeof(buf),
		    "Message-ID: <%08x%08x.%s@%s>\r\n", arc4random(),
		    arc4random(), s->qid, smtp_session_params->hostname);
		if (n > 0 && (size_t)n < sizeof(buf))
			file_write(s, buf, n);
	}
}

void
smtp_message_ask_file(struct smtp_session *s)
{
	struct msg_out	m;

	msg_out_init(&m);
	m_add_u64(&m, s->id);
	mproc_send(child_peer(PROC_QUEUE), IMSG_SMTP_MESSAGE_CREATE, 0, -1, &m);
	s->wait = W_FILE;
}

static void
body_begin(struct smtp_session *s)
{
	if ((s->data = malloc(sizeof(*s->data))) == NULL) {
		smtp_session_reply(s, "451 4.3.0 Out of memory");
		smtp_message_reset(s);
		return;
	}
	smtp_data_init(s->data, s->size_max, s->bdat);
	s->started = time(NULL);
	/* With the first bytes of the body, in the same write. */
	s->received_due = 1;
}

void
smtp_message_send_envelope(struct smtp_session *s)
{
	struct mproc		*q = child_peer(PROC_QUEUE);
	struct smtp_rcpt	*r;
	struct msg_out		 m;
	char			 sender[SMTP_PATH_MAX * 4 + 2];
	char			 tls[160];

	if (s->from.null)
		sender[0] = '\0';
	else
		snprintf(sender, sizeof(sender), "%s@%s", s->from.local,
		    s->from.domain);
	tls[0] = '\0';
	if (smtp_io_tls(&s->io))
		snprintf(tls, sizeof(tls), "%s %s", tls_conn_version(s->io.tls),
		    tls_conn_cipher(s->io.tls));
	msg_out_init(&m);
	m_add_string(&m, s->qid);
	m_add_string(&m, sender);
	m_add_int(&m, s->mp.body);
	m_add_int(&m, s->mp.smtputf8);
	m_add_int(&m, s->mp.ret);
	m_add_string(&m, s->mp.envid);
	m_add_i64(&m, s->connector);
	m_add_string(&m, s->connector_name);
	m_add_string(&m, s->by_addr ? "" : s->user);
	m_add_string(&m, s->addr);
	m_add_string(&m, s->helo);
	m_add_string(&m, tls);
	m_add_i64(&m, (int64_t)time(NULL));
	mproc_send(q, IMSG_SMTP_MESSAGE_ENVELOPE, 0, -1, &m);
	TAILQ_FOREACH(r, &s->rcpts, entry) {
		msg_out_init(&m);
		m_add_string(&m, s->qid);
		m_add_string(&m, r->addr);
		m_add_int(&m, r->notify);
		m_add_string(&m, r->orcpt_type);
		m_add_string(&m, r->orcpt ? r->orcpt : "");
		mproc_send(q, IMSG_SMTP_MESSAGE_RCPT, 0, -1, &m);
	}
	msg_out_init(&m);
	m_add_u64(&m, s->id);
	m_add_string(&m, s->qid);
	m_add_u64(&m, s->written);
	mproc_send(q, IMSG_SMTP_MESSAGE_COMMIT, 0, -1, &m);
	s->wait = W_COMMIT;
}

/* The message failed: reply, forget it, go on with the session. */
void
smtp_message_fail(struct smtp_session *s, int code, const char *enh,
    const char *text)
{
	log_info("smtp %016llx: message from %s refused: %d %s %s",
	    (unsigned long long)s->id, s->addr, code, enh, text);
	smtp_session_reply(s, "%d %s %s", code, enh, text);
	smtp_message_reset(s);
	s->state = S_READY;
}

/*
 * R2: the header's From: must be one mailbox (several need a Sender:)
 * and every domain in From: and Sender: must be the connector's.
 */
static void
check_from(struct smtp_session *s)
{
	struct smtp_data	*d = s->data;
	struct smtp_data_err	 err;
	struct msg_out		 m;
	char			 dom[PROTO_DOMAINS_MAX][SMTP_DATA_DOMAIN_SIZE];
	int			 n, ns = 0, i, k;

	if (d->from_count == 0) {
		smtp_message_fail(s, 550, "5.6.0",
		    "Message has no From: field");
		return;
	}
	if (d->from_count > 1 || d->sender_count > 1) {
		smtp_message_fail(s, 550, "5.6.0",
		    "Message has more than one From: or Sender: field");
		return;
	}
	if (d->from.bad || (d->sender_count && d->sender.bad)) {
		smtp_message_fail(s, 550, "5.6.0",
		    "Malformed From: or Sender: field");
		return;
	}
	n = smtp_header_from(d->from.value, dom, PROTO_DOMAINS_MAX - 1, &err);
	if (n == -1) {
		smtp_message_fail(s, err.code, err.enhanced, err.text);
		return;
	}
	if (d->sender_count) {
		ns = smtp_header_from(d->sender.value, dom + n, 1, &err);
		if (ns != 1) {
			smtp_message_fail(s, 550, "5.6.0",
			    "Malformed Sender: field");
			return;
		}
	} else if (n > 1) {
		smtp_message_fail(s, 550, "5.6.0",
		    "From: with several mailboxes needs a Sender: field");
		return;
	}
	/*
	 * The envelope sender's domain was allowed at MAIL moments ago;
	 * lka is asked only about the others (usually none).
	 */
	for (i = 0, k = 0; i < n + ns; i++)
		if (s->from.null || strcasecmp(dom[i], s->from.domain) != 0)
			memmove(dom[k++], dom[i], sizeof(dom[i]));
	if (k == 0) {
		smtp_message_send_envelope(s);
		return;
	}
	msg_out_init(&m);
	m_add_u64(&m, s->id);
	m_add_i64(&m, s->connector);
	m_add_int(&m, 0);
	m_add_u32(&m, k);
	for (i = 0; i < k; i++)
		m_add_string(&m, dom[i]);
	mproc_send(child_peer(PROC_LKA), IMSG_SMTP_SENDER_CHECK, 0, -1, &m);
	s->wait = W_FROM;
}

/* The real end of the message was read. */
static void
body_end(struct smtp_session *s)
{
	const struct smtp_data_err	*v;

	smtp_session_timer(s, smtp_session_params->timeout_command);
	if (s->bdat)
		smtp_data_bdat_end(s->data);
	if ((v = smtp_data_verdict(s->data)) != NULL) {
		smtp_message_fail(s, v->code, v->enhanced, v->text);
		return;
	}
	if (!s->header_done && s->data->fields > 0 && s->last[1] == '\n') {
		write_missing_fields(s);	/* a message of header only */
		file_flush(s);
	}
	if (s->write_errno != 0) {
		if (s->write_errno == ENOSPC || s->write_errno == EDQUOT)
			smtp_message_fail(s, 452, "4.3.1",
			    "Insufficient system storage");
		else if (s->write_errno == EFBIG)
			smtp_message_fail(s, 552, "5.3.4",
			    "Message too big for system");
		else
			smtp_message_fail(s, 451, "4.3.0",
			    "Error writing message");
		return;
	}
	check_from(s);
}

static int	body_feed_run(struct smtp_session *);

/*
 * Feed body bytes from the input buffer (at most limit of them for a
 * BDAT chunk) through the framer into the message file.  Returns 1 when
 * the message (DATA) or the chunk (BDAT) is complete.
 */
static int
body_feed(struct smtp_session *s)
{
	int	done;

	if (s->received_due) {
		s->received_due = 0;
		write_received(s);
	}
	done = body_feed_run(s);
	file_flush(s);
	return done;
}

static int
body_feed_run(struct smtp_session *s)
{
	struct evbuffer_iovec	 v[4];
	size_t			 used, outlen, want;
	int			 nv, i;

	while (evbuffer_get_length(s->io.in) > 0) {
		want = evbuffer_get_length(s->io.in);
		if (s->bdat && want > s->bdat_left)
			want = s->bdat_left;
		if (want == 0)
			break;
		nv = evbuffer_peek(s->io.in, want, NULL, v, 4);
		if (nv > 4)
			nv = 4;
		used = 0;
		for (i = 0; i < nv && used < want; i++) {
			size_t	 len = v[i].iov_len, off = 0, n;

			if (len > want - used)
				len = want - used;
			while (off < len && !smtp_data_done(s->data)) {
				n = smtp_data_feed(s->data,
				    (unsigned char *)v[i].iov_base + off,
				    len - off, body_buf, sizeof(body_buf),
				    &outlen);
				if (smtp_data_header_ended(s->data)) {
					s->header_done = 1;
					file_write(s, body_buf, outlen - 2);
					write_missing_fields(s);
					file_write(s, "\r\n", 2);
				} else
					file_write(s, body_buf, outlen);
				off += n;
			}
			used += off;
			if (smtp_data_done(s->data))
				break;
		}
		evbuffer_drain(s->io.in, used);
		if (s->bdat) {
			s->bdat_left -= used;
			if (s->bdat_left == 0)
				return 1;
		} else if (smtp_data_done(s->data))
			return 1;
	}
	return s->bdat && s->bdat_left == 0;
}

/* BDAT chunk bytes that belong to no message: read and dropped. */
static int
bdat_skip(struct smtp_session *s)
{
	size_t	n = evbuffer_get_length(s->io.in);

	if (n > s->bdat_left)
		n = s->bdat_left;
	evbuffer_drain(s->io.in, n);
	s->bdat_left -= n;
	return s->bdat_left == 0;
}

void
smtp_message_input(struct smtp_session *s)
{
	if (s->bdat_skip) {
		if (!bdat_skip(s))
			return;
		s->bdat_skip = 0;
		s->state = s->bdat_resume;
		smtp_session_reply(s, "%s", s->bdat_err);
		smtp_session_junk(s);
		return;
	}
	if (!body_feed(s))
		return;
	if (!s->bdat) {
		body_end(s);
		return;
	}
	if (s->bdat_last) {
		body_end(s);
		return;
	}
	smtp_session_reply(s, "250 2.0.0 %llu octets received",
	    (unsigned long long)s->bdat_chunk);
	s->state = S_BDAT;
	smtp_session_timer(s, smtp_session_params->timeout_data);
}

void
smtp_message_file(struct smtp_session *s, int fd, const char *qid)
{
	s->wait = W_NONE;
	s->msgfd = fd;
	strlcpy(s->qid, qid, sizeof(s->qid));
	body_begin(s);
	if (s->data == NULL) {
		smtp_session_process(s);
		return;
	}
	s->state = S_BODY;
	smtp_session_timer(s, smtp_session_params->timeout_data);
	if (!s->bdat)
		smtp_session_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	smtp_session_process(s);
}

void
smtp_message_refused(struct smtp_session *s, int code, char *text)
{
	s->wait = W_NONE;
	smtp_session_clean_text(text);
	if (s->bdat) {
		/* The chunk is still coming: read it, then refuse. */
		uint64_t	left = s->bdat_left;

		smtp_message_reset(s);
		snprintf(s->bdat_err, sizeof(s->bdat_err), "%d %.100s", code,
		    text);
		s->bdat_left = left;
		s->bdat_skip = 1;
		s->bdat_resume = S_READY;
		s->state = S_BODY;
		smtp_session_process(s);
		return;
	}
	smtp_message_reset(s);
	smtp_session_reply(s, "%d %s", code, text);
	smtp_session_process(s);
}

void
smtp_message_committed(struct smtp_session *s, int code, char *text)
{
	s->wait = W_NONE;
	smtp_session_clean_text(text);
	smtp_session_reply(s, "%d %s", code, text);
	if (code == 250) {
		log_info("smtp %016llx: accepted %s connector=%s from=<%s%s%s> "
		    "nrcpt=%zu size=%llu client=%s", (unsigned long long)s->id,
		    s->qid, s->connector_name, s->from.local,
		    s->from.null ? "" : "@", s->from.domain, s->nrcpt,
		    (unsigned long long)s->written, s->addr);
		s->qid[0] = '\0';	/* stored: nothing to roll back */
		s->junk = 0;
	} else
		log_info("smtp %016llx: message %s not stored: %d %s",
		    (unsigned long long)s->id, s->qid, code, text);
	if (code != 250)
		s->qid[0] = '\0';	/* queue removed it */
	smtp_message_reset(s);
	s->state = S_READY;
	smtp_session_process(s);
}
