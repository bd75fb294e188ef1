/*
 * One outbound SMTP connection of the mta process: non-blocking
 * connect, TLS (libtls client: implicit or after STARTTLS), and the
 * caller loop of mta_client (see mta_client.h) with the reply parser and
 * the body writer.  A connection belongs to a route; when it is ready it
 * takes the route's waiting tasks one after the other, then waits idle a
 * few seconds for another one before QUIT.
 *
 * Each wait arms one non-persistent event with the timeout of what is
 * awaited; nothing is written from outside the loop of conn_run(), and a
 * function that closes the connection returns at once.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tls.h>

#include "child.h"
#include "config.h"
#include "log.h"
#include "mta_local.h"

enum {
	C_CONNECTING,
	C_HANDSHAKE,
	C_SESSION,
	C_IDLE
};

struct mta_conn {
	TAILQ_ENTRY(mta_conn)	 entry;
	struct mta_route	*route;
	int			 ai;		/* in route->addrs */
	struct sockaddr_storage	 ss;
	char			 host[DNS_NAME_MAX + 1];
	char			 where[DNS_NAME_MAX + 80]; /* host[ip]:port */
	int			 fd;
	struct tls		*tls;
	char			 tlsver[16];	/* "" until TLS is up */
	int			 state;
	int			 implicit;	/* TLS from the first byte */
	int			 ready;		/* was READY once */
	int			 tls_failed;	/* a handshake failed */
	int			 final;		/* awaits the reply to data */
	short			 want;		/* EV_READ or EV_WRITE */
	const char		*err;		/* of the last read or write */
	struct event		 ev;
	struct mta_client_params params;
	struct mta_client	 client;
	struct mta_reply_parser	 parser;
	struct mta_task		*task;
	/* the body being sent: the DKIM prefix, then the stored message */
	struct mta_body		 body;
	int			 phase;		/* 0 prefix, 1 file */
	int			 bodydone;	/* terminator is in out */
	const uint8_t		*src;
	size_t			 srclen, srcoff;
	uint64_t		 fileoff;
	uint8_t			 in[MTA_IN_MAX];
	size_t			 inlen, inoff;
	uint8_t			 out[MTA_OUT_MAX];
	size_t			 outlen, outoff;
	uint8_t			 chunk[MTA_BODY_CHUNK];
};

static TAILQ_HEAD(, mta_conn)	 mta_conns = TAILQ_HEAD_INITIALIZER(mta_conns);
static int			 mta_nconns;
static const struct sendgated_conf *mta_conf;
static struct tls_config	*mta_tls_noverify;
static struct tls_config	*mta_tls_verify;	/* NULL: no CA bundle */

static void	conn_io(int, short, void *);
static void	conn_run(struct mta_conn *);

/*
 * Before the sandbox: libtls and OpenSSL initialise, and the CA bundle
 * is read into memory (the chroot has no /etc/ssl).
 */
void
mta_conn_tls_init(const struct sendgated_conf *conf)
{
	uint8_t	*ca;
	size_t	 calen;

	mta_conf = conf;
	if (tls_init() == -1)
		fatalx("tls_init");
	if ((mta_tls_noverify = tls_config_new()) == NULL)
		fatal("tls_config_new");
	tls_config_insecure_noverifycert(mta_tls_noverify);
	tls_config_insecure_noverifyname(mta_tls_noverify);
	if ((mta_tls_verify = tls_config_new()) == NULL)
		fatal("tls_config_new");
	if ((ca = tls_load_file(MTA_CA_FILE, &calen, NULL)) == NULL) {
		log_warn("%s: TLS with verification will fail", MTA_CA_FILE);
		tls_config_free(mta_tls_verify);
		mta_tls_verify = NULL;
		return;
	}
	if (tls_config_set_ca_mem(mta_tls_verify, ca, calen) == -1)
		fatalx("%s: %s", MTA_CA_FILE, tls_config_error(mta_tls_verify));
	tls_unload_file(ca, calen);
}

static uint16_t
ss_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static socklen_t
ss_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
}

static int
ss_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)a;
		b4 = (const struct sockaddr_in *)b;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	}
	a6 = (const struct sockaddr_in6 *)a;
	b6 = (const struct sockaddr_in6 *)b;
	return a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

int
mta_conn_count(void)
{
	return mta_nconns;
}

/* Connections open to one address and port (mta_per_host). */
int
mta_conn_count_addr(const struct sockaddr_storage *ss)
{
	struct mta_conn	*c;
	int		 n = 0;

	TAILQ_FOREACH(c, &mta_conns, entry)
		n += ss_same(&c->ss, ss);
	return n;
}

const char *
mta_conn_host(const struct mta_conn *c)
{
	return c->host;
}

const struct sockaddr_storage *
mta_conn_addr(const struct mta_conn *c)
{
	return &c->ss;
}

const char *
mta_conn_tls(const struct mta_conn *c)
{
	return c->tlsver[0] != '\0' ? c->tlsver : NULL;
}

unsigned int
mta_conn_ext(const struct mta_conn *c)
{
	return mta_client_extensions(&c->client);
}

static void
conn_wait(struct mta_conn *c, short what, int timeout)
{
	struct timeval	 tv = { timeout, 0 };

	event_del(&c->ev);
	event_assign(&c->ev, child_base(), c->fd, what, conn_io, c);
	event_add(&c->ev, &tv);
}

/*
 * Closes and frees c.  failure: why a connection that never became
 * ready failed, for the route to try the next address.
 */
static void
conn_close(struct mta_conn *c, const struct mta_client_result *failure)
{
	struct mta_route	*r = c->route;
	int			 ai = c->ai, ready = c->ready;
	int			 tls_failed = c->tls_failed;

	event_del(&c->ev);
	if (c->tls != NULL) {
		/* No waiting for the peer's close_notify. */
		(void)tls_close(c->tls);
		tls_free(c->tls);
	}
	if (c->fd != -1)
		close(c->fd);
	if (c->task != NULL)
		fatalx("connection closed with its task");
	TAILQ_REMOVE(&mta_conns, c, entry);
	mta_nconns--;
	free(c);
	mta_route_conn_gone(r, ai, ready, tls_failed, failure);
}

/* A failure before mta_client runs: connect, implicit TLS. */
static void
conn_fail_early(struct mta_conn *c, int code, const char *enhanced,
    const char *text)
{
	struct mta_client_result	 f;

	memset(&f, 0, sizeof(f));
	f.status = MTA_CLIENT_TEMPFAIL;
	f.code = code;
	strlcpy(f.enhanced, enhanced, sizeof(f.enhanced));
	strlcpy(f.text, text, sizeof(f.text));
	log_info("%s", text);
	conn_close(c, &f);
}

/* FATAL: the task has its results; the route hears of an early failure. */
static void
conn_fatal(struct mta_conn *c)
{
	const struct mta_client_result	*f = mta_client_failure(&c->client);
	struct mta_client_result	 early;
	struct mta_task			*t;

	if ((t = c->task) != NULL) {
		c->task = NULL;
		mta_task_report(t, c, NULL);
	}
	if (c->ready) {
		log_debug("%s: closed: %d %s %s", c->where, f->code,
		    f->enhanced, f->text);
		conn_close(c, NULL);
		return;
	}
	early = *f;
	strlcpy(early.text, c->where, sizeof(early.text));
	strlcat(early.text, ": ", sizeof(early.text));
	strlcat(early.text, f->text, sizeof(early.text));
	log_info("%s", early.text);
	conn_close(c, &early);
}

int
mta_conn_open(struct mta_route *r, int ai)
{
	const struct config_relayhost	*rh = &mta_conf->relayhost;
	struct mta_conn			*c;
	char				 a[INET6_ADDRSTRLEN];
	int				 fd, one = 1;

	fd = socket(r->addrs[ai].ss.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	/* Pipelined commands go out at once, not after the delayed ACK. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&r->addrs[ai].ss,
	    ss_len(&r->addrs[ai].ss)) == -1 && errno != EINPROGRESS) {
		close(fd);
		goto fail;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("mta_conn_open");
	c->fd = fd;
	/* Assigned at once: conn_wait() and conn_close() event_del() it. */
	event_assign(&c->ev, child_base(), fd, 0, conn_io, c);
	c->route = r;
	c->ai = ai;
	c->ss = r->addrs[ai].ss;
	strlcpy(c->host, r->addrs[ai].host, sizeof(c->host));
	snprintf(c->where, sizeof(c->where), "%s[%s]:%u", c->host,
	    mta_route_ntop(&c->ss, a, sizeof(a)), ss_port(&c->ss));
	c->params.helo = mta_conf->hostname;
	if (r->smarthost) {
		if (rh->mode == CONFIG_RELAY_TLS) {
			c->implicit = 1;
			c->params.tls = MTA_CLIENT_TLS_IMPLICIT;
		} else if (rh->mode == CONFIG_RELAY_STARTTLS)
			c->params.tls = MTA_CLIENT_TLS_REQUIRE;
		else
			c->params.tls = MTA_CLIENT_TLS_NONE;
		if (rh->user[0] != '\0') {
			c->params.auth_user = rh->user;
			c->params.auth_pass = rh->pass;
		}
	} else if (r->tls != CONFIG_TLS_OPPORTUNISTIC)
		c->params.tls = MTA_CLIENT_TLS_REQUIRE;
	else if (r->plain[ai])
		c->params.tls = MTA_CLIENT_TLS_NONE;
	else
		c->params.tls = MTA_CLIENT_TLS_OPPORTUNISTIC;
	c->state = C_CONNECTING;
	TAILQ_INSERT_TAIL(&mta_conns, c, entry);
	mta_nconns++;
	r->nconn++;
	r->ncoming++;
	log_debug("connecting to %s for %s", c->where, r->name);
	conn_wait(c, EV_WRITE, MTA_TIMEOUT_CONNECT);
	return 0;
fail:
	r->lastai = ai;
	memset(&r->lasterr, 0, sizeof(r->lasterr));
	r->lasterr.status = MTA_CLIENT_TEMPFAIL;
	r->lasterr.code = 421;
	strlcpy(r->lasterr.enhanced, "4.4.1", sizeof(r->lasterr.enhanced));
	snprintf(r->lasterr.text, sizeof(r->lasterr.text), "connection to "
	    "%s[%s]:%u failed: %s", r->addrs[ai].host,
	    mta_route_ntop(&r->addrs[ai].ss, a, sizeof(a)),
	    ss_port(&r->addrs[ai].ss), strerror(errno));
	log_info("%s", r->lasterr.text);
	return -1;
}

/* The greeting is awaited: mta_client takes over. */
static void
conn_session(struct mta_conn *c)
{
	c->state = C_SESSION;
	if (mta_client_init(&c->client, &c->params) == -1) {
		conn_fail_early(c, 421, "4.3.5", "bad EHLO name or "
		    "relay credentials in the configuration");
		return;
	}
	mta_reply_init(&c->parser);
	(void)mta_reply_expect(&c->parser, 1);
	conn_run(c);
}

static void
conn_tls_failed(struct mta_conn *c, const char *why)
{
	char	 text[MTA_CLIENT_TEXT_MAX + 1];

	c->tls_failed = 1;
	snprintf(text, sizeof(text), "TLS handshake with %s failed: %s",
	    c->where, why != NULL ? why : "unknown error");
	if (c->implicit) {
		conn_fail_early(c, 421, "4.7.5", text);
		return;
	}
	log_info("%s", text);
	c->state = C_SESSION;
	(void)mta_client_tls_done(&c->client, 0);
	conn_run(c);
}

static void
conn_handshake(struct mta_conn *c)
{
	switch (tls_handshake(c->tls)) {
	case TLS_WANT_POLLIN:
		conn_wait(c, EV_READ, MTA_TIMEOUT_COMMAND);
		return;
	case TLS_WANT_POLLOUT:
		conn_wait(c, EV_WRITE, MTA_TIMEOUT_COMMAND);
		return;
	case 0:
		break;
	default:
		conn_tls_failed(c, tls_error(c->tls));
		return;
	}
	strlcpy(c->tlsver, tls_conn_version(c->tls), sizeof(c->tlsver));
	log_debug("%s: %s %s", c->where, c->tlsver,
	    tls_conn_cipher(c->tls));
	if (c->implicit) {
		conn_session(c);
		return;
	}
	/* Nothing read in plaintext survives the handshake (O2). */
	c->state = C_SESSION;
	mta_reply_init(&c->parser);
	c->inlen = c->inoff = 0;
	(void)mta_client_tls_done(&c->client, 1);
	conn_run(c);
}

static void
conn_starttls(struct mta_conn *c)
{
	struct tls_config	*cfg;
	int			 verify = c->route->tls == CONFIG_TLS_VERIFY;

	cfg = verify ? mta_tls_verify : mta_tls_noverify;
	if (cfg == NULL) {
		conn_tls_failed(c, "no CA bundle to verify with");
		return;
	}
	if ((c->tls = tls_client()) == NULL) {
		conn_tls_failed(c, "out of memory");
		return;
	}
	if (tls_configure(c->tls, cfg) == -1 ||
	    tls_connect_socket(c->tls, c->fd, c->host) == -1) {
		conn_tls_failed(c, tls_error(c->tls));
		return;
	}
	c->state = C_HANDSHAKE;
	conn_handshake(c);
}

/* 1: all of out written; 0: wait for c->want; -1: c->err. */
static int
conn_write(struct mta_conn *c)
{
	ssize_t	n;

	while (c->outoff < c->outlen) {
		if (c->tls != NULL && c->tlsver[0] != '\0') {
			n = tls_write(c->tls, c->out + c->outoff,
			    c->outlen - c->outoff);
			if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
				c->want = n == TLS_WANT_POLLIN ? EV_READ :
				    EV_WRITE;
				return 0;
			}
			if (n < 0) {
				c->err = tls_error(c->tls);
				return -1;
			}
		} else {
			n = write(c->fd, c->out + c->outoff,
			    c->outlen - c->outoff);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && errno == EAGAIN) {
				c->want = EV_WRITE;
				return 0;
			}
			if (n == -1) {
				c->err = strerror(errno);
				return -1;
			}
		}
		c->outoff += (size_t)n;
	}
	c->outoff = c->outlen = 0;
	return 1;
}

/* 1: input in c->in; 0: wait for c->want; -1: end or error, c->err. */
static int
conn_read(struct mta_conn *c)
{
	ssize_t	n;

	c->inoff = c->inlen = 0;
	for (;;) {
		if (c->tls != NULL && c->tlsver[0] != '\0') {
			n = tls_read(c->tls, c->in, sizeof(c->in));
			if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
				c->want = n == TLS_WANT_POLLIN ? EV_READ :
				    EV_WRITE;
				return 0;
			}
			if (n < 0) {
				c->err = tls_error(c->tls);
				return -1;
			}
		} else {
			n = read(c->fd, c->in, sizeof(c->in));
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && errno == EAGAIN) {
				c->want = EV_READ;
				return 0;
			}
			if (n == -1) {
				c->err = strerror(errno);
				return -1;
			}
		}
		if (n == 0) {
			c->err = "connection closed by the server";
			return -1;
		}
		c->inlen = (size_t)n;
		return 1;
	}
}

static void
conn_abort_io(struct mta_conn *c)
{
	char	text[MTA_CLIENT_TEXT_MAX + 1];

	snprintf(text, sizeof(text), "lost connection with %s: %s",
	    c->where, c->err != NULL ? c->err : "unknown error");
	c->outlen = c->outoff = 0;
	(void)mta_client_abort(&c->client, 421, "4.4.2", text);
}

/* The next task's body: the DKIM prefix, then the stored message. */
static void
conn_message(struct mta_conn *c, struct mta_task *t)
{
	c->task = t;
	mta_body_init(&c->body);
	c->phase = 0;
	c->bodydone = 0;
	c->src = NULL;
	c->srclen = c->srcoff = 0;
	c->fileoff = 0;
	(void)mta_client_message(&c->client, &t->msg);
}

static void
conn_body_error(struct mta_conn *c)
{
	char	text[MTA_CLIENT_TEXT_MAX + 1];

	/*
	 * Permanent: the stored message will never become valid.  The
	 * connection closes without the terminator, so that the server
	 * drops what it got (F2).
	 */
	snprintf(text, sizeof(text), "message not sent: it has a %s",
	    mta_body_reason(mta_body_error(&c->body)));
	c->outlen = c->outoff = 0;
	(void)mta_client_abort(&c->client, 554, "5.6.0", text);
}

/*
 * Streams the body.  Returns 0 when waiting for the socket (armed), 1
 * when the client has a new event (body sent, or aborted).
 */
static int
conn_body(struct mta_conn *c)
{
	struct mta_task	*t = c->task;
	size_t		 want, used, len;
	ssize_t		 n;
	int		 r;

	for (;;) {
		if (c->outoff < c->outlen) {
			if ((r = conn_write(c)) == 0) {
				conn_wait(c, c->want, MTA_TIMEOUT_DATA_BLOCK);
				return 0;
			}
			if (r == -1) {
				conn_abort_io(c);
				return 1;
			}
		}
		if (c->bodydone) {
			c->final = 1;
			(void)mta_client_body_done(&c->client);
			(void)mta_reply_expect(&c->parser, 1);
			return 1;
		}
		if (c->srcoff == c->srclen) {
			if (c->phase == 0) {
				c->phase = 1;
				(void)mta_dkim_prefix(t, &c->src, &c->srclen);
				c->srcoff = 0;
				continue;
			}
			if (c->fileoff >= t->fsize) {
				r = mta_body_flush(&c->body, c->out,
				    sizeof(c->out), &len);
				if (r == -1) {
					conn_body_error(c);
					return 1;
				}
				c->outlen = len;
				c->outoff = 0;
				c->bodydone = r == 1;
				continue;
			}
			want = sizeof(c->chunk);
			if (t->fsize - c->fileoff < want)
				want = (size_t)(t->fsize - c->fileoff);
			n = pread(t->fd, c->chunk, want, (off_t)c->fileoff);
			if (n <= 0) {
				log_warnx("message %s: %s", t->qid,
				    n == 0 ? "shorter than its size" :
				    strerror(errno));
				c->outlen = c->outoff = 0;
				(void)mta_client_abort(&c->client, 451,
				    "4.3.0", "cannot read the queued message");
				return 1;
			}
			c->fileoff += (uint64_t)n;
			c->src = c->chunk;
			c->srclen = (size_t)n;
			c->srcoff = 0;
		}
		used = mta_body_feed(&c->body, c->src + c->srcoff,
		    c->srclen - c->srcoff, c->out, sizeof(c->out), &len);
		c->srcoff += used;
		c->outlen = len;
		c->outoff = 0;
		if (mta_body_error(&c->body) != MTA_BODY_E_NONE) {
			conn_body_error(c);
			return 1;
		}
	}
}

/* Ready for a transaction: the route's next task, or idle. */
static int
conn_next(struct mta_conn *c)
{
	struct mta_task	*t;

	if (!c->ready) {
		c->ready = 1;
		mta_route_conn_ready(c->route);
	}
	if ((t = mta_route_next(c->route)) != NULL) {
		conn_message(c, t);
		return 1;
	}
	c->state = C_IDLE;
	conn_wait(c, EV_READ, MTA_TIMEOUT_IDLE);
	return 0;
}

int
mta_conn_take_idle(struct mta_route *r)
{
	struct mta_conn	*c;

	TAILQ_FOREACH(c, &mta_conns, entry)
		if (c->route == r && c->state == C_IDLE)
			break;
	if (c == NULL)
		return 0;
	event_del(&c->ev);
	c->state = C_SESSION;
	if (conn_next(c))
		conn_run(c);
	return 1;
}

/*
 * The global limit is reached and route r waits: an idle connection of
 * another route gives its slot up at once instead of after its idle
 * time.  Returns 1 when one was found (it closes later, and the route
 * is scheduled again then).
 */
int
mta_conn_reap_idle(const struct mta_route *r)
{
	struct mta_conn	*c;

	TAILQ_FOREACH(c, &mta_conns, entry)
		if (c->route != r && c->state == C_IDLE)
			break;
	if (c == NULL)
		return 0;
	event_del(&c->ev);
	c->state = C_SESSION;
	(void)mta_client_quit(&c->client);
	conn_run(c);
	return 1;
}

static void
conn_run(struct mta_conn *c)
{
	const struct mta_reply	*rep;
	struct mta_task		*t;
	size_t			 len, used;
	unsigned int		 nrep;
	int			 r;

	for (;;) {
		if (c->outoff < c->outlen) {
			if ((r = conn_write(c)) == 0) {
				conn_wait(c, c->want, MTA_TIMEOUT_COMMAND);
				return;
			}
			if (r == -1)
				conn_abort_io(c);
		}
		switch (mta_client_event(&c->client)) {
		case MTA_CLIENT_WRITE:
			if (mta_client_output(&c->client, c->out,
			    sizeof(c->out), &len, &nrep) == -1 ||
			    mta_reply_expect(&c->parser, nrep) == -1) {
				(void)mta_client_abort(&c->client, 451,
				    "4.3.0", "internal error: commands do "
				    "not fit");
				break;
			}
			c->outlen = len;
			c->outoff = 0;
			break;
		case MTA_CLIENT_READ:
			if (c->inoff == c->inlen) {
				if ((r = conn_read(c)) == 0) {
					conn_wait(c, c->want, c->final ?
					    MTA_TIMEOUT_FINAL :
					    MTA_TIMEOUT_COMMAND);
					return;
				}
				if (r == -1)
					conn_abort_io(c);
				break;
			}
			switch (mta_reply_feed(&c->parser, c->in + c->inoff,
			    c->inlen - c->inoff, &used)) {
			case MTA_REPLY_READY:
				c->inoff += used;
				c->final = 0;
				rep = mta_reply_get(&c->parser);
				(void)mta_client_input(&c->client, rep);
				break;
			case MTA_REPLY_MORE:
				c->inoff += used;
				break;
			case MTA_REPLY_ERROR:
				/* O1: the reason is a constant string. */
				log_info("%s: bad reply: %s", c->where,
				    mta_reply_reason(mta_reply_error(
				    &c->parser)));
				c->inoff = c->inlen = 0;
				(void)mta_client_protocol_error(&c->client,
				    mta_reply_error(&c->parser));
				break;
			}
			break;
		case MTA_CLIENT_NEED_TLS:
			/* O2: plaintext behind the "220" is an attack. */
			if (mta_reply_drained(&c->parser,
			    c->inlen - c->inoff) == -1) {
				log_info("%s: data after the reply to "
				    "STARTTLS", c->where);
				(void)mta_client_protocol_error(&c->client,
				    mta_reply_error(&c->parser));
				break;
			}
			conn_starttls(c);
			return;
		case MTA_CLIENT_SEND_BODY:
			if (conn_body(c) == 0)
				return;
			break;
		case MTA_CLIENT_MESSAGE_DONE:
			t = c->task;
			c->task = NULL;
			if (t != NULL)
				mta_task_report(t, c, NULL);
			/* FALLTHROUGH */
		case MTA_CLIENT_READY:
			if (!conn_next(c))
				return;
			break;
		case MTA_CLIENT_CLOSED:
			conn_close(c, NULL);
			return;
		case MTA_CLIENT_FATAL:
			conn_fatal(c);
			return;
		}
	}
}

/* While idle, anything from the server (or its close) ends the session. */
static void
conn_idle_input(struct mta_conn *c)
{
	uint8_t	b;
	ssize_t	n;

	if (c->tls != NULL && c->tlsver[0] != '\0') {
		/* A TLS 1.3 session ticket is no reason to go. */
		n = tls_read(c->tls, &b, 1);
		if (n == TLS_WANT_POLLIN) {
			conn_wait(c, EV_READ, MTA_TIMEOUT_IDLE);
			return;
		}
	}
	conn_close(c, NULL);
}

static void
conn_io(int fd, short ev, void *arg)
{
	struct mta_conn	*c = arg;
	char		 text[MTA_CLIENT_TEXT_MAX + 1];
	socklen_t	 len = sizeof(int);
	int		 err = 0;

	switch (c->state) {
	case C_CONNECTING:
		if (ev & EV_TIMEOUT)
			err = ETIMEDOUT;
		else if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err,
		    &len) == -1)
			err = errno;
		if (err != 0) {
			snprintf(text, sizeof(text), "connection to %s %s",
			    c->where, err == ECONNREFUSED ? "refused" :
			    err == ETIMEDOUT ? "timed out" : strerror(err));
			conn_fail_early(c, 421, "4.4.1", text);
			return;
		}
		if (c->implicit)
			conn_starttls(c);
		else
			conn_session(c);
		return;
	case C_HANDSHAKE:
		if (ev & EV_TIMEOUT) {
			conn_tls_failed(c, "timeout");
			return;
		}
		conn_handshake(c);
		return;
	case C_IDLE:
		if (ev & EV_TIMEOUT) {
			c->state = C_SESSION;
			(void)mta_client_quit(&c->client);
			conn_run(c);
		} else
			conn_idle_input(c);
		return;
	default:
		if (ev & EV_TIMEOUT) {
			snprintf(text, sizeof(text), "timeout %s with %s",
			    c->final ? "waiting for the reply to the data" :
			    "in the session", c->where);
			c->outlen = c->outoff = 0;
			(void)mta_client_abort(&c->client, 421, "4.4.2",
			    text);
		}
		conn_run(c);
	}
}
