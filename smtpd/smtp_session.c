/*
 * The SMTP submission state machine (see smtp_session.h).
 *
 * Commands are taken from the input buffer one line at a time while the
 * session waits for nothing; replies are appended to the output buffer
 * and written by the event loop once the batch is processed, which is
 * what RFC 2920 asks of a pipelining server.  While a question to lka or
 * queue is out, the session stops taking commands; the answer finds the
 * session by its id, and an answer for a session that is gone is
 * dropped (a message file that arrives too late is rolled back).
 */
#include <sys/socket.h>
#include <sys/tree.h>
#include <sys/queue.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event.h>
#include <tls.h>

#include "child.h"
#include "log.h"
#include "msg.h"
#include "proto.h"
#include "smtp_auth.h"
#include "smtp_data.h"
#include "smtp_io.h"
#include "smtp_parse.h"
#include "smtp_session_local.h"

#define SMTP_CMD_BUF	(SMTP_AUTH_LINE_MAX + 64)	/* AUTH PLAIN <ir> */
#define SMTP_OUT_MAX	(16 * 1024)	/* stop taking commands above */
#define SMTP_CLOSE_WAIT	10	/* seconds to flush the last reply */
#define SMTP_AUTH_DELAY_MIN	500	/* ms, every failed AUTH */
#define SMTP_AUTH_DELAY_SPAN	500

RB_HEAD(smtp_sessions, smtp_session);

static int
session_cmp(struct smtp_session *a, struct smtp_session *b)
{
	return a->id < b->id ? -1 : a->id > b->id;
}

RB_PROTOTYPE(smtp_sessions, smtp_session, entry, session_cmp)
RB_GENERATE(smtp_sessions, smtp_session, entry, session_cmp)

static struct smtp_sessions	 sessions = RB_INITIALIZER(&sessions);
const struct smtp_params	*smtp_session_params;
#define params	smtp_session_params	/* read-only after init */
static uint64_t			 next_id;
static size_t			 nsessions;

static void	session_io(struct smtp_io *, int, void *);
static void	session_free(struct smtp_session *);
static void	session_timer(int, short, void *);
static void	session_process(struct smtp_session *);
static void	rcpt_accept(struct smtp_session *, struct smtp_rcpt *);

void
smtp_session_init(const struct smtp_params *p)
{
	params = p;
	next_id = ((uint64_t)arc4random() << 32) | arc4random();
}

size_t
smtp_session_count(void)
{
	return nsessions;
}

static struct smtp_session *
session_find(uint64_t id)
{
	struct smtp_session	key;

	key.id = id;
	return RB_FIND(smtp_sessions, &sessions, &key);
}

/* Replies. */

static void
vreply(struct smtp_session *s, const char *fmt, va_list ap)
{
	char	buf[1024];
	int	n;

	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 2)
		n = snprintf(buf, sizeof(buf), "451 4.3.0 Reply too long");
	log_debug("smtp %016llx: > %s", (unsigned long long)s->id, buf);
	evbuffer_add(s->io.out, buf, n);
	evbuffer_add(s->io.out, "\r\n", 2);
}

static void
reply(struct smtp_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
reply(struct smtp_session *s, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vreply(s, fmt, ap);
	va_end(ap);
}

static void
reply_err(struct smtp_session *s, const struct smtp_reply_err *e)
{
	reply(s, "%d %s %s", e->code, e->enhanced, e->text);
}

/* A reply text from lka: printable ASCII only, whatever it holds. */
static void
clean_text(char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			*s = '?';
}

static void
session_close(struct smtp_session *s, const char *why)
{
	struct timeval	tv = { SMTP_CLOSE_WAIT, 0 };

	if (why != NULL)
		log_info("smtp %016llx: closing: %s", (unsigned long long)s->id,
		    why);
	s->state = S_CLOSING;
	s->wait = W_NONE;
	smtp_io_pause(&s->io);
	evbuffer_drain(s->io.in, evbuffer_get_length(s->io.in));
	if (evbuffer_get_length(s->io.out) == 0) {
		/* Freed from the loop: callers may still look at s. */
		tv.tv_sec = 0;
		evtimer_add(&s->timer, &tv);
		return;
	}
	smtp_io_last(&s->io);
	smtp_io_flush(&s->io);
	/* A client that never reads must not keep the session (D3). */
	evtimer_add(&s->timer, &tv);
}

/* Counts a command that moved nothing forward; 0 while under the limit. */
static int
junk(struct smtp_session *s)
{
	if (++s->junk <= params->junk_max)
		return 0;
	reply(s, "421 4.7.0 Too many errors, closing connection");
	session_close(s, "junk limit");
	return -1;
}

static void
timer_set(struct smtp_session *s, int64_t seconds)
{
	struct timeval	tv = { seconds, 0 };

	evtimer_add(&s->timer, &tv);
}

/* Session set-up and the greeting. */

static void
client_name(struct smtp_session *s)
{
	char			 buf[INET6_ADDRSTRLEN];
	struct sockaddr_in	*sin = (struct sockaddr_in *)&s->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&s->ss;

	if (s->ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
	else
		inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
	strlcpy(s->addr, buf, sizeof(s->addr));
}

/*
 * Is the client's address one of a connector's source networks?  Asked
 * once, by the first command that needs a connector (MAIL, RCPT, DATA,
 * BDAT) in a session that has none: a client that authenticates never
 * costs lka the question.  That command waits for the answer (see
 * session_process); so does every other command, so no AUTH answer can
 * be outstanding with it.
 */
static void
ask_addr(struct smtp_session *s)
{
	struct msg_out	m;

	msg_out_init(&m);
	m_add_u64(&m, s->id);
	m_add_sockaddr(&m, (struct sockaddr *)&s->ss);
	mproc_send(child_peer(PROC_LKA), IMSG_SMTP_ADDR_CHECK, 0, -1, &m);
	s->addr_pending = 1;
	s->addr_asked = 1;
}

static void greet(struct smtp_session *);

int
smtp_session_new(int fd, const struct sockaddr *sa, socklen_t salen,
    const struct smtp_listen *l)
{
	struct smtp_session	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	if (smtp_io_init(&s->io, child_base(), fd, session_io, s) == -1) {
		free(s);
		return -1;
	}
	s->id = next_id++;
	s->l = l;
	s->msgfd = -1;
	s->size_max = params->size_max;
	s->rcpt_max = params->rcpt_max;
	memcpy(&s->ss, sa, salen < sizeof(s->ss) ? salen : sizeof(s->ss));
	client_name(s);
	TAILQ_INIT(&s->rcpts);
	evtimer_assign(&s->timer, child_base(), session_timer, s);
	RB_INSERT(smtp_sessions, &sessions, s);
	nsessions++;
	s->state = S_CONNECT;
	smtp_io_pause(&s->io);
	log_debug("smtp %016llx: connection from %s on %s",
	    (unsigned long long)s->id, s->addr, l->name);

	if (l->smtps) {
		if (smtp_io_starttls(&s->io, l->tls) == -1) {
			log_warnx("smtp %016llx: TLS: %s",
			    (unsigned long long)s->id, s->io.error);
			session_free(s);
			return 0;
		}
		s->wait = W_TLS;
		timer_set(s, params->timeout_handshake);
		return 0;
	}
	greet(s);
	return 0;
}

static void
greet(struct smtp_session *s)
{
	reply(s, "220 %s ESMTP sendgate", params->hostname);
	s->state = S_GREETED;
	s->wait = W_NONE;
	smtp_io_resume(&s->io);
	timer_set(s, params->timeout_command);
	smtp_io_flush(&s->io);
}

static void
tls_ready(struct smtp_session *s)
{
	struct tls	*t = s->io.tls;
	const char	*hash = NULL;

	evtimer_del(&s->timer);
	if (tls_peer_cert_provided(t))
		hash = tls_peer_cert_hash(t);
	log_info("smtp %016llx: TLS %s %s from %s%s%s",
	    (unsigned long long)s->id, tls_conn_version(t),
	    tls_conn_cipher(t), s->addr, hash ? " client certificate " : "",
	    hash ? hash : "");
	if (s->wait == W_TLS) {
		greet(s);
		return;
	}
	/* STARTTLS: everything learned before is forgotten (RFC 3207 4.2). */
	s->state = S_GREETED;
	s->esmtp = 0;
	s->helo[0] = '\0';
	s->wait = W_NONE;
	smtp_auth_clear(&s->auth);
	s->in_auth = 0;
	smtp_io_resume(&s->io);
	timer_set(s, params->timeout_command);
	session_process(s);
}



static void
session_free(struct smtp_session *s)
{
	/* A message being committed is the queue's now: no rollback. */
	if (s->wait == W_COMMIT)
		s->qid[0] = '\0';
	smtp_message_reset(s);
	smtp_auth_clear(&s->auth);
	evtimer_del(&s->timer);
	smtp_io_free(&s->io);
	RB_REMOVE(smtp_sessions, &sessions, s);
	nsessions--;
	smtp_client_gone((struct sockaddr *)&s->ss);
	log_debug("smtp %016llx: session ended", (unsigned long long)s->id);
	free(s);
}















/* Commands. */

static int
need_tls_auth(struct smtp_session *s)
{
	if (s->state == S_GREETED) {
		reply(s, "503 5.5.1 Send EHLO or HELO first");
		return -1;
	}
	if (!s->l->smtps && !smtp_io_tls(&s->io)) {
		reply(s, "530 5.7.0 Must issue a STARTTLS command first");
		return -1;
	}
	if (s->connector == 0) {
		reply(s, "530 5.7.0 Authentication required");
		return -1;
	}
	return 0;
}

static void
cmd_helo(struct smtp_session *s, int ehlo, const char *args)
{
	struct smtp_reply_err	 err;
	char			 name[SMTP_DOMAIN_MAX + 3];
	int			 tls = smtp_io_tls(&s->io);

	if (smtp_parse_helo(args, name, sizeof(name), &err) == -1) {
		reply_err(s, &err);
		junk(s);
		return;
	}
	smtp_message_reset(s);
	strlcpy(s->helo, name, sizeof(s->helo));
	s->esmtp = ehlo;
	s->state = S_READY;
	if (!ehlo) {
		reply(s, "250 %s Hello [%s]", params->hostname, s->addr);
		return;
	}
	reply(s, "250-%s Hello [%s]", params->hostname, s->addr);
	reply(s, "250-PIPELINING");
	reply(s, "250-SIZE %llu", (unsigned long long)s->size_max);
	reply(s, "250-8BITMIME");
	reply(s, "250-SMTPUTF8");
	reply(s, "250-CHUNKING");
	reply(s, "250-DSN");
	if (!tls && !s->l->smtps)
		reply(s, "250-STARTTLS");
	if (tls)
		reply(s, "250-AUTH PLAIN LOGIN");
	reply(s, "250 ENHANCEDSTATUSCODES");
}

static void
cmd_starttls(struct smtp_session *s, const char *args)
{
	if (s->l->smtps || smtp_io_tls(&s->io)) {
		reply(s, "554 5.5.1 TLS already active");
		junk(s);
		return;
	}
	if (*args != '\0') {
		reply(s, "501 5.5.4 Syntax: STARTTLS");
		junk(s);
		return;
	}
	if (s->state == S_GREETED) {
		reply(s, "503 5.5.1 Send EHLO first");
		junk(s);
		return;
	}
	if (s->state != S_READY) {
		reply(s, "503 5.5.1 STARTTLS not permitted during a mail "
		    "transaction");
		junk(s);
		return;
	}
	reply(s, "220 2.0.0 Ready to start TLS");
	s->wait = W_STARTTLS;
	smtp_io_pause(&s->io);
	/* Whatever the client pipelined behind STARTTLS is dropped (T1). */
	evbuffer_drain(s->io.in, evbuffer_get_length(s->io.in));
}

static void
auth_send(struct smtp_session *s)
{
	struct msg_out	m;

	msg_out_init(&m);
	m_add_u64(&m, s->id);
	m_add_string(&m, s->auth.user);
	m_add_string(&m, s->auth.pass);
	mproc_send(child_peer(PROC_LKA), IMSG_SMTP_AUTH_CHECK, 0, -1, &m);
	strlcpy(s->user, s->auth.user, sizeof(s->user));
	smtp_auth_clear(&s->auth);
	s->in_auth = 0;
	s->wait = W_AUTH;
}

/* Every failure waits the same random while before its reply (T6). */
static void
auth_delay(struct smtp_session *s, int result)
{
	struct timeval	tv;
	uint32_t	ms;

	ms = SMTP_AUTH_DELAY_MIN + arc4random_uniform(SMTP_AUTH_DELAY_SPAN);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	s->auth_result = result;
	s->wait = W_DELAY;
	evtimer_add(&s->timer, &tv);
}

static void
auth_step_result(struct smtp_session *s, int rc, const char *challenge,
    const struct smtp_reply_err *err)
{
	if (rc == SMTP_AUTH_CONTINUE) {
		s->in_auth = 1;
		reply(s, "334 %s", challenge);
		return;
	}
	s->in_auth = 0;
	if (rc == SMTP_AUTH_DONE) {
		auth_send(s);
		return;
	}
	if (err->code == 535) {
		/* authzid not the user: a failure like a wrong password. */
		s->auth_failures++;
		smtp_client_auth_failed((struct sockaddr *)&s->ss);
		auth_delay(s, LKA_AUTH_FAIL);
		return;
	}
	reply_err(s, err);
	junk(s);
}

static void
cmd_auth(struct smtp_session *s, const char *args)
{
	struct smtp_reply_err	 err;
	char			 ch[SMTP_AUTH_CHALLENGE_MAX];
	int			 rc;

	if (s->state == S_GREETED) {
		reply(s, "503 5.5.1 Send EHLO first");
		junk(s);
		return;
	}
	if (smtp_auth_allowed(s->l->smtps || smtp_io_tls(&s->io),
	    s->connector != 0 && !s->by_addr, s->state != S_READY,
	    &err) == -1) {
		reply_err(s, &err);
		junk(s);
		return;
	}
	if (smtp_client_auth_locked((struct sockaddr *)&s->ss)) {
		reply(s, "454 4.7.0 Temporary authentication failure");
		junk(s);
		return;
	}
	rc = smtp_auth_start(&s->auth, args, ch, sizeof(ch), &err);
	auth_step_result(s, rc, ch, &err);
}

static void
auth_line(struct smtp_session *s, const char *line)
{
	struct smtp_reply_err	 err;
	char			 ch[SMTP_AUTH_CHALLENGE_MAX];
	int			 rc;

	rc = smtp_auth_step(&s->auth, line, ch, sizeof(ch), &err);
	auth_step_result(s, rc, ch, &err);
}

static void
cmd_mail(struct smtp_session *s, const char *args)
{
	struct smtp_reply_err	 err;
	struct msg_out		 m;

	if (need_tls_auth(s) == -1) {
		junk(s);
		return;
	}
	if (s->state != S_READY) {
		reply(s, "503 5.5.1 Nested MAIL command");
		junk(s);
		return;
	}
	if (smtp_parse_mail(args, s->esmtp, &s->from, &s->mp, &err) == -1) {
		memset(&s->from, 0, sizeof(s->from));
		reply_err(s, &err);
		junk(s);
		return;
	}
	if (s->mp.has_size && s->mp.size > s->size_max) {
		memset(&s->from, 0, sizeof(s->from));
		reply(s, "552 5.3.4 Message size exceeds fixed limit");
		junk(s);
		return;
	}
	if (!s->from.null && s->from.domain[0] == '[') {
		memset(&s->from, 0, sizeof(s->from));
		reply(s, "550 5.7.1 Sender address rejected: an address "
		    "literal is not an authorized domain");
		junk(s);
		return;
	}
	/*
	 * The null sender (Exchange relays its non-delivery reports this
	 * way) has no domain to check, but counts against the rate limits
	 * like any message.
	 */
	msg_out_init(&m);
	m_add_u64(&m, s->id);
	m_add_i64(&m, s->connector);
	m_add_int(&m, 1);
	m_add_u32(&m, s->from.null ? 0 : 1);
	if (!s->from.null)
		m_add_string(&m, s->from.domain);
	mproc_send(child_peer(PROC_LKA), IMSG_SMTP_SENDER_CHECK, 0, -1, &m);
	s->wait = W_MAIL;
}

static void
cmd_rcpt(struct smtp_session *s, const char *args)
{
	struct smtp_reply_err	 err;
	struct smtp_path	 to;
	struct smtp_rcpt_params	 rp;
	struct smtp_rcpt	*r;
	struct msg_out		 m;
	char			 addr[SMTP_PATH_MAX * 4 + 2];

	if (need_tls_auth(s) == -1) {
		junk(s);
		return;
	}
	if (s->state != S_MAIL && s->state != S_RCPT) {
		reply(s, "503 5.5.1 Need MAIL command");
		junk(s);
		return;
	}
	if (smtp_parse_rcpt(args, s->mp.smtputf8, &to, &rp, &err) == -1) {
		reply_err(s, &err);
		s->rcpt_refused = 1;
		junk(s);
		return;
	}
	if (s->nrcpt >= s->rcpt_max) {
		reply(s, "452 4.5.3 Too many recipients");
		s->rcpt_refused = 1;
		return;
	}
	if (to.domain[0] == '\0' || to.domain[0] == '[') {
		reply(s, "550 5.1.2 Recipient must be a mailbox at a domain");
		s->rcpt_refused = 1;
		junk(s);
		return;
	}
	snprintf(addr, sizeof(addr), "%s@%s", to.local, to.domain);
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->addr = strdup(addr)) == NULL ||
	    (rp.orcpt[0] && (r->orcpt = strdup(rp.orcpt)) == NULL)) {
		smtp_rcpt_free(r);
		reply(s, "452 4.3.0 Out of memory");
		return;
	}
	r->notify = rp.notify;
	strlcpy(r->orcpt_type, rp.orcpt_type, sizeof(r->orcpt_type));
	/*
	 * Counted in lka only once everything else accepts it, and always:
	 * a limit set while the session is open applies to it at once.
	 */
	s->rcpt_asking = r;
	msg_out_init(&m);
	m_add_u64(&m, s->id);
	m_add_i64(&m, s->connector);
	mproc_send(child_peer(PROC_LKA), IMSG_SMTP_RCPT_CHECK, 0, -1, &m);
	s->wait = W_RCPT;
}

static void
rcpt_accept(struct smtp_session *s, struct smtp_rcpt *r)
{
	TAILQ_INSERT_TAIL(&s->rcpts, r, entry);
	s->nrcpt++;
	s->state = S_RCPT;
	reply(s, "250 2.1.5 Ok");
}



static void
cmd_data(struct smtp_session *s, const char *args)
{
	if (need_tls_auth(s) == -1) {
		junk(s);
		return;
	}
	if (s->bdat || s->state == S_BDAT) {
		reply(s, "503 5.5.1 DATA not permitted after BDAT");
		junk(s);
		return;
	}
	if (*args != '\0') {
		reply(s, "501 5.5.4 Syntax: DATA");
		junk(s);
		return;
	}
	if (s->state != S_RCPT) {
		if (s->state == S_MAIL && s->rcpt_refused)
			reply(s, "554 5.5.1 No valid recipients");
		else
			reply(s, "503 5.5.1 Need RCPT command");
		junk(s);
		return;
	}
	smtp_message_ask_file(s);
}

/*
 * BDAT.  Once the count is known the chunk is always read, whatever the
 * verdict on the command: the stream stays in step (B3).
 */
static void
cmd_bdat(struct smtp_session *s, const char *args)
{
	struct smtp_reply_err	 err;
	const char		*refuse = NULL;
	uint64_t		 n;
	int			 last;

	if (smtp_parse_bdat(args, &n, &last, &err) == -1) {
		reply(s, "521 5.5.4 Syntax: BDAT count [LAST]");
		session_close(s, "malformed BDAT");
		return;
	}
	if (!s->esmtp)
		refuse = "502 5.5.1 CHUNKING not offered after HELO";
	else if (s->state == S_GREETED)
		refuse = "503 5.5.1 Send EHLO first";
	else if (!s->l->smtps && !smtp_io_tls(&s->io))
		refuse = "530 5.7.0 Must issue a STARTTLS command first";
	else if (s->connector == 0)
		refuse = "530 5.7.0 Authentication required";
	else if (s->state != S_RCPT && s->state != S_BDAT)
		refuse = "503 5.5.1 Need RCPT command";
	else if (n == 0 && !last)
		refuse = "551 5.7.1 Null BDAT chunk without LAST";

	s->bdat_left = n;
	s->bdat_chunk = n;
	s->bdat_last = last;
	if (refuse != NULL) {
		/* The reply waits until the chunk is read. */
		strlcpy(s->bdat_err, refuse, sizeof(s->bdat_err));
		s->bdat_skip = 1;
		s->bdat_resume = s->state;
		s->state = S_BODY;
		return;
	}
	if (s->state == S_RCPT) {
		s->bdat = 1;
		smtp_message_ask_file(s);
		return;
	}
	s->state = S_BODY;
	timer_set(s, params->timeout_data);
}

static void
command(struct smtp_session *s, char *line, size_t len)
{
	struct smtp_reply_err	 err;
	enum smtp_verb		 verb;
	const char		*args;

	if (s->in_auth) {
		auth_line(s, line);
		return;
	}
	if (smtp_parse_verb(line, len, &verb, &args, &err) == -1) {
		reply_err(s, &err);
		junk(s);
		return;
	}
	if (len > SMTP_LINE_MAX - 2 && verb != SMTP_AUTH) {
		reply(s, "500 5.5.2 Line too long");
		junk(s);
		return;
	}
	switch (verb) {
	case SMTP_HELO:
	case SMTP_EHLO:
		cmd_helo(s, verb == SMTP_EHLO, args);
		break;
	case SMTP_STARTTLS:
		cmd_starttls(s, args);
		break;
	case SMTP_AUTH:
		cmd_auth(s, args);
		break;
	case SMTP_MAIL:
		cmd_mail(s, args);
		break;
	case SMTP_RCPT:
		cmd_rcpt(s, args);
		break;
	case SMTP_DATA:
		cmd_data(s, args);
		break;
	case SMTP_BDAT:
		cmd_bdat(s, args);
		break;
	case SMTP_RSET:
		smtp_message_reset(s);
		if (s->state != S_GREETED)
			s->state = S_READY;
		reply(s, "250 2.0.0 Ok");
		junk(s);
		break;
	case SMTP_NOOP:
		reply(s, "250 2.0.0 Ok");
		junk(s);
		break;
	case SMTP_QUIT:
		reply(s, "221 2.0.0 Bye");
		session_close(s, NULL);
		break;
	case SMTP_VRFY:
	case SMTP_EXPN:
		reply(s, "502 5.5.1 Command not implemented");
		junk(s);
		break;
	case SMTP_HELP:
		reply(s, "214 2.0.0 See RFC 5321 and RFC 6409");
		junk(s);
		break;
	default:
		reply(s, "500 5.5.1 Command unrecognized");
		junk(s);
		break;
	}
}

/*
 * The next command line, without CRLF, NUL-terminated.  0: no complete
 * line yet; -1: the session was closed.  A line ending in a bare LF is
 * refused whole (F3); a line that is too long is refused and, if no end
 * is in sight, the connection closed (F4).
 */
static int
next_line(struct smtp_session *s, char *buf, size_t *lenp)
{
	struct evbuffer_ptr	 p;
	size_t			 eol_len, len;

	p = evbuffer_search_eol(s->io.in, NULL, &eol_len, EVBUFFER_EOL_LF);
	if (p.pos == -1) {
		if (evbuffer_get_length(s->io.in) < SMTP_CMD_BUF)
			return 0;
		reply(s, "500 5.5.2 Line too long");
		session_close(s, "line too long");
		return -1;
	}
	len = p.pos + 1;
	if (len > SMTP_CMD_BUF) {
		reply(s, "500 5.5.2 Line too long");
		session_close(s, "line too long");
		return -1;
	}
	evbuffer_remove(s->io.in, buf, len);
	if (len < 2 || buf[len - 2] != '\r') {
		reply(s, "500 5.5.2 Bare LF in command line");
		if (junk(s) == -1)
			return -1;
		*lenp = (size_t)-1;
		return 1;
	}
	len -= 2;
	buf[len] = '\0';
	*lenp = len;
	return 1;
}

/* Is the next command one that needs to know who the client is? */
static int
needs_sender(struct smtp_session *s)
{
	char	v[4];
	size_t	i;

	if (evbuffer_copyout(s->io.in, v, sizeof(v)) != sizeof(v))
		return 0;
	for (i = 0; i < sizeof(v); i++)
		if (v[i] >= 'a' && v[i] <= 'z')
			v[i] -= 'a' - 'A';
	return memcmp(v, "MAIL", 4) == 0 || memcmp(v, "RCPT", 4) == 0 ||
	    memcmp(v, "DATA", 4) == 0 || memcmp(v, "BDAT", 4) == 0;
}

static void
session_process(struct smtp_session *s)
{
	char	line[SMTP_CMD_BUF + 1];
	size_t	len;
	int	rc;

	while (s->wait == W_NONE && s->state != S_CLOSING &&
	    s->state != S_CONNECT &&
	    evbuffer_get_length(s->io.out) < SMTP_OUT_MAX) {
		if (s->state == S_BODY) {
			if (evbuffer_get_length(s->io.in) == 0 &&
			    !((s->bdat || s->bdat_skip) && s->bdat_left == 0))
				break;
			smtp_message_input(s);
			continue;
		}
		if (!s->addr_asked && s->connector == 0 && !s->in_auth &&
		    needs_sender(s))
			ask_addr(s);
		if (s->addr_pending && !s->in_auth && needs_sender(s)) {
			s->wait = W_ADDR;
			break;
		}
		if ((rc = next_line(s, line, &len)) <= 0) {
			if (rc == -1)
				return;
			break;
		}
		if (len == (size_t)-1)
			continue;	/* bare LF, answered */
		command(s, line, len);
		if (s->state == S_CLOSING)
			return;
		if (s->state != S_BODY && s->wait == W_NONE)
			timer_set(s, params->timeout_command);
	}
	if (s->state == S_CLOSING)
		return;
	/*
	 * A client that does not read its replies is not read from either
	 * (D3); room in the output resumes reading.  While lka or queue is
	 * asked, input is still read (up to SMTP_IO_IN_MAX) but not taken.
	 */
	if (evbuffer_get_length(s->io.out) >= SMTP_OUT_MAX)
		smtp_io_pause(&s->io);
	else if (s->io.paused && s->wait != W_STARTTLS)
		smtp_io_resume(&s->io);
	smtp_io_flush(&s->io);
}

static void
session_io(struct smtp_io *io, int what, void *arg)
{
	struct smtp_session	*s = arg;

	if (what & SMTP_IO_TLSREADY) {
		tls_ready(s);
		if (s->state == S_CLOSING)
			return;
	}
	if ((what & SMTP_IO_DRAINED) && s->state == S_CLOSING) {
		session_free(s);
		return;
	}
	if ((what & SMTP_IO_DRAINED) && s->wait == W_STARTTLS) {
		if (smtp_io_starttls(&s->io, s->l->tls) == -1) {
			log_warnx("smtp %016llx: TLS: %s",
			    (unsigned long long)s->id, s->io.error);
			session_free(s);
			return;
		}
		timer_set(s, params->timeout_handshake);
		return;
	}
	if (what & SMTP_IO_DATAIN)
		session_process(s);
	if (what & SMTP_IO_CLOSED) {
		log_debug("smtp %016llx: connection closed%s%s",
		    (unsigned long long)s->id, io->error ? ": " : "",
		    io->error ? io->error : "");
		if (s->state == S_CONNECT && s->wait == W_TLS)
			log_info("smtp %016llx: TLS handshake with %s failed: "
			    "%s", (unsigned long long)s->id, s->addr,
			    io->error ? io->error : "connection closed");
		session_free(s);
		return;
	}
	if ((what & SMTP_IO_DRAINED) && s->wait == W_NONE)
		session_process(s);
}

static void
session_timer(int fd, short ev, void *arg)
{
	struct smtp_session	*s = arg;

	if (s->state == S_CLOSING) {
		session_free(s);
		return;
	}
	if (s->wait == W_DELAY) {
		s->wait = W_NONE;
		if (s->auth_result == LKA_AUTH_FAIL)
			reply(s, "535 5.7.8 Authentication credentials "
			    "invalid");
		else
			reply(s, "454 4.7.0 Temporary authentication failure");
		if (s->auth_failures >= params->auth_failures_max) {
			reply(s, "421 4.7.0 Too many authentication failures");
			session_close(s, "auth failure limit");
			return;
		}
		timer_set(s, params->timeout_command);
		session_process(s);
		return;
	}
	if (s->wait == W_TLS || s->wait == W_STARTTLS ||
	    s->state == S_CONNECT) {
		log_info("smtp %016llx: TLS handshake timeout from %s",
		    (unsigned long long)s->id, s->addr);
		session_free(s);
		return;
	}
	reply(s, "421 4.4.2 Timeout, closing connection");
	session_close(s, "timeout");
}

/* Answers. */

static void
answer_auth(struct smtp_session *s, int result, int64_t connector,
    const char *name, uint64_t rcpts, uint64_t size)
{
	if (s->addr_pending) {
		s->addr_pending = 0;
		if (result == LKA_AUTH_OK && s->connector == 0) {
			s->connector = connector;
			s->by_addr = 1;
			strlcpy(s->connector_name, name,
			    sizeof(s->connector_name));
			s->rcpt_max = rcpts;
			s->size_max = size;
			log_info("smtp %016llx: %s is connector %s by address",
			    (unsigned long long)s->id, s->addr, name);
		}
		if (s->wait == W_ADDR) {
			s->wait = W_NONE;
			session_process(s);
		}
		return;
	}
	if (result == LKA_AUTH_OK) {
		s->connector = connector;
		s->by_addr = 0;
		strlcpy(s->connector_name, name, sizeof(s->connector_name));
		s->rcpt_max = rcpts;
		s->size_max = size;
		s->wait = W_NONE;
		log_info("smtp %016llx: %s authenticated as %s (connector %s)",
		    (unsigned long long)s->id, s->addr, s->user, name);
		reply(s, "235 2.7.0 Authentication successful");
		session_process(s);
		return;
	}
	if (result == LKA_AUTH_FAIL) {
		s->auth_failures++;
		smtp_client_auth_failed((struct sockaddr *)&s->ss);
	}
	auth_delay(s, result);
}

static void
answer_rcpt(struct smtp_session *s, int result, char *why)
{
	struct smtp_rcpt	*r = s->rcpt_asking;

	s->wait = W_NONE;
	s->rcpt_asking = NULL;
	clean_text(why);
	if (result == LKA_SENDER_OK)
		rcpt_accept(s, r);
	else {
		smtp_rcpt_free(r);
		s->rcpt_refused = 1;
		if (result == LKA_SENDER_RATE)
			reply(s, "451 4.7.1 %s", why);
		else if (result == LKA_SENDER_REFUSED)
			reply(s, "550 5.7.1 Recipient rejected: %s", why);
		else
			reply(s,
			    "451 4.3.0 Temporary failure, try again later");
		log_info("smtp %016llx: RCPT from %s refused: %s",
		    (unsigned long long)s->id, s->addr, why);
	}
	if (s->state != S_CLOSING && s->wait == W_NONE)
		session_process(s);
}

static void
answer_sender(struct smtp_session *s, int result, char *why)
{
	int	mail = s->wait == W_MAIL;

	s->wait = W_NONE;
	clean_text(why);
	if (result == LKA_SENDER_OK) {
		if (mail) {
			s->state = S_MAIL;
			reply(s, "250 2.1.0 Ok");
		} else
			smtp_message_send_envelope(s);
	} else if (mail) {
		memset(&s->from, 0, sizeof(s->from));
		if (result == LKA_SENDER_REFUSED)
			reply(s, "550 5.7.1 Sender address rejected: %s", why);
		else if (result == LKA_SENDER_RATE)
			reply(s, "451 4.7.1 %s", why);
		else
			reply(s,
			    "451 4.3.0 Temporary failure, try again later");
		log_info("smtp %016llx: MAIL from %s refused: %s",
		    (unsigned long long)s->id, s->addr, why);
		/* A client that waits for the rate limit is not junk. */
		if (result != LKA_SENDER_RATE)
			junk(s);
	} else if (result == LKA_SENDER_REFUSED) {
		char	text[600];

		snprintf(text, sizeof(text), "From: header rejected: %.500s",
		    why);
		smtp_message_fail(s, 550, "5.7.1", text);
	} else
		smtp_message_fail(s, 451, "4.3.0",
		    "Temporary failure, try again later");
	if (s->state != S_CLOSING && s->wait == W_NONE)
		session_process(s);
}




int
smtp_session_imsg(struct mproc *p, struct imsg *im)
{
	struct smtp_session	*s;
	struct msg_in		 m;
	uint64_t		 reqid, rcpts, size;
	int64_t			 connector;
	int			 result;
	char			 text[1024];
	char			 name[65];

	msg_in_init(&m, im);
	switch (im->type) {
	case IMSG_LKA_AUTH_RESULT:
		if (m_get_u64(&m, &reqid) == -1 ||
		    m_get_int(&m, &result) == -1 ||
		    m_get_i64(&m, &connector) == -1 ||
		    m_get_string(&m, name, sizeof(name)) == -1 ||
		    m_get_u64(&m, &rcpts) == -1 ||
		    m_get_u64(&m, &size) == -1 || m_end(&m) == -1)
			break;
		s = session_find(reqid);
		if (s != NULL && (s->addr_pending || s->wait == W_AUTH))
			answer_auth(s, result, connector, name, rcpts, size);
		return 1;
	case IMSG_LKA_SENDER_RESULT:
	case IMSG_LKA_RCPT_RESULT:
		/* The same answer to MAIL (and header From:) and to RCPT. */
		if (m_get_u64(&m, &reqid) == -1 ||
		    m_get_int(&m, &result) == -1 ||
		    m_get_string(&m, text, sizeof(text)) == -1 ||
		    m_end(&m) == -1)
			break;
		s = session_find(reqid);
		if (s == NULL)
			return 1;
		if (im->type == IMSG_LKA_RCPT_RESULT && s->wait == W_RCPT)
			answer_rcpt(s, result, text);
		else if (im->type == IMSG_LKA_SENDER_RESULT &&
		    (s->wait == W_MAIL || s->wait == W_FROM))
			answer_sender(s, result, text);
		return 1;
	case IMSG_QUEUE_MESSAGE_FILE:
		if (m_get_u64(&m, &reqid) == -1 ||
		    m_get_string(&m, text, SMTP_QUEUE_ID_MAX + 1) == -1 ||
		    m_end(&m) == -1) {
			close(im->fd);
			break;
		}
		s = session_find(reqid);
		if (s != NULL && s->wait == W_FILE) {
			smtp_message_file(s, im->fd, text);
			return 1;
		}
		/* The session went away meanwhile. */
		close(im->fd);
		{
			struct msg_out	out;

			msg_out_init(&out);
			m_add_string(&out, text);
			mproc_send(p, IMSG_SMTP_MESSAGE_ROLLBACK, 0, -1, &out);
		}
		return 1;
	case IMSG_QUEUE_MESSAGE_REFUSED:
		if (m_get_u64(&m, &reqid) == -1 ||
		    m_get_int(&m, &result) == -1 ||
		    m_get_string(&m, text, sizeof(text)) == -1 ||
		    m_end(&m) == -1)
			break;
		s = session_find(reqid);
		if (s != NULL && s->wait == W_FILE)
			smtp_message_refused(s, result, text);
		return 1;
	case IMSG_QUEUE_MESSAGE_COMMITTED:
		if (m_get_u64(&m, &reqid) == -1 ||
		    m_get_int(&m, &result) == -1 ||
		    m_get_string(&m, text, sizeof(text)) == -1 ||
		    m_end(&m) == -1)
			break;
		s = session_find(reqid);
		if (s != NULL && s->wait == W_COMMIT)
			smtp_message_committed(s, result, text);
		return 1;
	default:
		return 0;
	}
	mproc_malformed(p, im, &m);
	return 1;
}

/* What smtp_message.c uses of the session (smtp_session_local.h). */

void
smtp_session_reply(struct smtp_session *s, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vreply(s, fmt, ap);
	va_end(ap);
}

void
smtp_session_reply_err(struct smtp_session *s,
    const struct smtp_reply_err *e)
{
	reply_err(s, e);
}

int
smtp_session_junk(struct smtp_session *s)
{
	return junk(s);
}

void
smtp_session_timer(struct smtp_session *s, int64_t seconds)
{
	timer_set(s, seconds);
}

void
smtp_session_process(struct smtp_session *s)
{
	session_process(s);
}

void
smtp_session_clean_text(char *text)
{
	clean_text(text);
}
