/*
 * smtpload: SMTP submission load generator for regress/bench.
 *
 *   smtpload [options] send     N sessions in parallel, each connection
 *                               STARTTLS + AUTH PLAIN + M messages of S
 *                               bytes, until T messages were tried
 *   smtpload [options] idle     K connections, banner + EHLO (or also
 *                               STARTTLS + AUTH with -I), then idle until
 *                               stdin closes or the hold time ends
 *
 * One thread per session, non-blocking sockets, every wait a poll() bounded
 * by the per-read timeout and the overall deadline.  TLS through OpenSSL,
 * GnuTLS with -G (OpenSSL 3.0 spends nearly half of the generator's CPU
 * decoding the server's certificate, CPU taken from the server under test
 * on a small machine), or with -M tlsmini (tlsmini.c: TLS 1.3 on
 * libcrypto's primitives, half of GnuTLS's cost), no certificate verification (the bench uses a
 * self-signed certificate), no session resumption (every connection is a
 * full handshake, as with distinct clients), TLS 1.3 only unless -a.  The
 * accept latency of a message is the time from the end-of-data write
 * having been handed to the kernel to the 250 reply read.
 *
 * With -L FILE (bench_delivery.py), every message carries a header
 * "X-Bench-Seq: TAG.K" (K its number in the run, TAG from -q, the pid by
 * default), and FILE gets one line "TAG.K NS" per accepted message: the
 * CLOCK_REALTIME time (ns) its 250 arrived: the kernel's receive time of
 * the segment that brought it (SO_TIMESTAMPNS, read with MSG_PEEK before
 * the TLS library reads it), which a busy CPU does not delay as it delays
 * the thread; the time the thread read it if the kernel gives none.  With
 * -R RATE the messages are offered at a fixed rate (message K not started
 * before K/RATE s after the start; the first of a connection before
 * connecting), as long as enough sessions are free.
 *
 * The result is one JSON object on stdout.  In idle mode a line
 * "ready OPEN FAILED" comes first, once every connection is set up.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "tlsmini.h"

#define LINE_MAX_REPLY	4096
/* GnuTLS: its default groups, but X25519 first, as OpenSSL has them. */
#define GTLS_GROUPS	"-GROUP-ALL:+GROUP-X25519:+GROUP-ALL"
#define ERR_MAX		300

struct opts {
	const char	*host;
	int		 port;
	const char	*user;
	const char	*pass;
	const char	*from;
	const char	*rcpt;
	const char	*helo;
	int		 sessions;
	int		 per_conn;
	long		 total;
	long		 size;
	int		 timeout_ms;
	double		 deadline_s;
	int		 idle;
	int		 idle_tls;
	double		 hold_s;
	int		 tls13;
	int		 gnutls;	/* -G: GnuTLS instead of OpenSSL */
	int		 mini;		/* -M: tlsmini instead of OpenSSL */
	const char	*log;		/* -L: per-message 250 times */
	const char	*tag;		/* -q: token prefix */
	double		 rate;		/* -R: offered msgs/s, 0 = no pacing */
};

static struct opts	 o = {
	.host = "127.0.0.1", .port = 587, .user = "bench", .pass = "bench",
	.from = "load@bench.example", .rcpt = "sink@example.net",
	.helo = "load.bench.example", .sessions = 20, .per_conn = 1,
	.total = 2000, .size = 4096, .timeout_ms = 30000, .deadline_s = 300,
	.idle = 1000, .hold_s = 120, .tls13 = 1,
};

static SSL_CTX		*ctx;		/* OpenSSL */
static gnutls_certificate_credentials_t gcred;	/* GnuTLS: no CAs */
static gnutls_priority_t gprio;
static char		*body;		/* S bytes of body lines, shared */
static size_t		 body_len;
static char		 auth_b64[1024];
static struct timespec	 t_start;
static double		 deadline;	/* monotonic seconds */

static atomic_long	 next_conn;
static atomic_long	 n_ok;
static atomic_long	 n_failed;
static atomic_long	 n_conn_ok;
static atomic_long	 n_conn_failed;
static atomic_long	 n_lat;
static atomic_long	 n_nostamp;	/* -L: 250s without a kernel stamp */
static double		*lat;		/* seconds, one per accepted message */
static int64_t		*acc_ns;	/* -L: realtime ns of each 250, by K */
static char		 tag[64];
static double		 t_run0;	/* monotonic start of the send run */

static pthread_mutex_t	 err_lock = PTHREAD_MUTEX_INITIALIZER;
static char		 first_err[ERR_MAX];
static char		 tls_info[128];

struct sess {
	int		 fd;
	int		 tls;		/* STARTTLS done: I/O through TLS */
	SSL		*ssl;		/* OpenSSL */
	gnutls_session_t gs;		/* GnuTLS (-G) */
	struct tlsmini	*tm;		/* tlsmini (-M) */
	char		 buf[LINE_MAX_REPLY * 2];
	size_t		 len;		/* bytes in buf */
	char		 reply[LINE_MAX_REPLY];	/* last reply, lines joined */
	int		 code;
	char		 err[ERR_MAX];
	char		*msg;		/* per-message header + body + dot */
	size_t		 msg_cap;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
set_err(struct sess *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

static void
record_err(const char *what)
{
	pthread_mutex_lock(&err_lock);
	if (first_err[0] == '\0')
		snprintf(first_err, sizeof(first_err), "%s", what);
	pthread_mutex_unlock(&err_lock);
}

/* Wait for events on the session's socket; 0 ok, -1 timeout/deadline. */
static int
wait_fd(struct sess *s, short events)
{
	struct pollfd pfd = { .fd = s->fd, .events = events };
	double left = deadline - now_s();
	int ms = o.timeout_ms, r;

	if (left <= 0) {
		set_err(s, "overall deadline reached");
		return -1;
	}
	if (left * 1000 < ms)
		ms = (int)(left * 1000) + 1;
	do
		r = poll(&pfd, 1, ms);
	while (r == -1 && errno == EINTR);
	if (r == 0) {
		set_err(s, "timeout after %d ms", ms);
		return -1;
	}
	if (r == -1) {
		set_err(s, "poll: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * TLS: OpenSSL (default) or GnuTLS (-G), the same semantics with both.
 * tls_io waits (poll) and retries until some bytes moved or the session
 * failed (-1, s->err set).
 */

/* OpenSSL error handling for non-blocking I/O: 1 retry, -1 failure. */
static int
ossl_retry(struct sess *s, int r, const char *what)
{
	int e = SSL_get_error(s->ssl, r);
	unsigned long ee;

	switch (e) {
	case SSL_ERROR_WANT_READ:
		return wait_fd(s, POLLIN) == 0 ? 1 : -1;
	case SSL_ERROR_WANT_WRITE:
		return wait_fd(s, POLLOUT) == 0 ? 1 : -1;
	case SSL_ERROR_ZERO_RETURN:
		set_err(s, "%s: connection closed by the server (TLS)", what);
		return -1;
	case SSL_ERROR_SYSCALL:
		set_err(s, "%s: %s", what, errno ? strerror(errno) :
		    "connection closed by the server");
		return -1;
	default:
		ee = ERR_get_error();
		set_err(s, "%s: TLS error %s", what,
		    ee ? ERR_reason_error_string(ee) : "unknown");
		ERR_clear_error();
		return -1;
	}
}

/* GnuTLS error handling for non-blocking I/O: 1 retry, -1 failure. */
static int
gtls_retry(struct sess *s, ssize_t r, const char *what)
{
	int e = errno;

	switch (r) {
	case GNUTLS_E_AGAIN:
	case GNUTLS_E_INTERRUPTED:
		/* Wait for what the interrupted call was waiting for. */
		return wait_fd(s, gnutls_record_get_direction(s->gs) ?
		    POLLOUT : POLLIN) == 0 ? 1 : -1;
	case 0:
		/* close_notify (SSL_ERROR_ZERO_RETURN) */
		set_err(s, "%s: connection closed by the server (TLS)", what);
		return -1;
	case GNUTLS_E_PREMATURE_TERMINATION:
		/* EOF without close_notify (SSL_ERROR_SYSCALL, errno 0) */
		set_err(s, "%s: connection closed by the server", what);
		return -1;
	case GNUTLS_E_PUSH_ERROR:
	case GNUTLS_E_PULL_ERROR:
		set_err(s, "%s: %s", what, e ? strerror(e) :
		    gnutls_strerror((int)r));
		return -1;
	default:
		/* A warning alert and the like: the call may be repeated. */
		if (!gnutls_error_is_fatal((int)r))
			return 1;
		set_err(s, "%s: TLS error %s", what, gnutls_strerror((int)r));
		return -1;
	}
}

/* tlsmini's waits are the session's. */
static int
mini_wait(void *arg, short events)
{
	return wait_fd(arg, events);
}

/* TLS handshake after the 220 to STARTTLS; 0 ok, -1 error. */
static int
tls_open(struct sess *s)
{
	char *desc = NULL;
	const char *group = NULL;
	int r;

	if (o.mini) {
		if ((s->tm = tlsmini_new(s->fd, "localhost", mini_wait,
		    s)) == NULL) {
			set_err(s, "tlsmini_new failed");
			return -1;
		}
		if (tlsmini_handshake(s->tm) == -1) {
			if (s->err[0] == '\0')
				set_err(s, "TLS handshake: %s",
				    tlsmini_error(s->tm));
			return -1;
		}
	} else if (o.gnutls) {
		/* A fresh session, never given saved session data: no
		 * resumption.  Tickets the server sends are read and dropped
		 * with the session, as with OpenSSL, so that the server does
		 * the same work for both backends.  No trust set, no verify
		 * call: the certificate is not verified.  One key share, for
		 * the first group (X25519, see main()), as OpenSSL sends:
		 * GnuTLS's default, P-256 and X25519, costs the client a
		 * second key and lets the server pick P-256. */
		if (gnutls_init(&s->gs, GNUTLS_CLIENT | GNUTLS_NONBLOCK |
		    GNUTLS_NO_SIGNAL | GNUTLS_KEY_SHARE_TOP) !=
		    GNUTLS_E_SUCCESS) {
			s->gs = NULL;
			set_err(s, "gnutls_init failed");
			return -1;
		}
		if (gnutls_priority_set(s->gs, gprio) != GNUTLS_E_SUCCESS ||
		    gnutls_credentials_set(s->gs, GNUTLS_CRD_CERTIFICATE,
		    gcred) != GNUTLS_E_SUCCESS ||
		    gnutls_server_name_set(s->gs, GNUTLS_NAME_DNS, "localhost",
		    strlen("localhost")) != GNUTLS_E_SUCCESS) {
			set_err(s, "GnuTLS session setup failed");
			return -1;
		}
		gnutls_transport_set_int(s->gs, s->fd);
		while ((r = gnutls_handshake(s->gs)) != GNUTLS_E_SUCCESS)
			if (gtls_retry(s, r, "TLS handshake") < 0)
				return -1;
	} else {
		if ((s->ssl = SSL_new(ctx)) == NULL ||
		    SSL_set_fd(s->ssl, s->fd) != 1) {
			set_err(s, "SSL_new failed");
			return -1;
		}
		SSL_set_tlsext_host_name(s->ssl, "localhost");
		for (;;) {
			ERR_clear_error();
			r = SSL_connect(s->ssl);
			if (r == 1)
				break;
			if (ossl_retry(s, r, "TLS handshake") < 0)
				return -1;
		}
	}
	s->tls = 1;
	/* Version, cipher and key exchange group, for the report. */
	if (tls_info[0] == '\0') {
		if (o.gnutls)
			desc = gnutls_session_get_desc(s->gs);
		else if (!o.mini)
			group = OBJ_nid2sn(SSL_get_negotiated_group(s->ssl));
		pthread_mutex_lock(&err_lock);
		if (o.mini)
			snprintf(tls_info, sizeof(tls_info), "%s",
			    tlsmini_desc(s->tm));
		else if (o.gnutls)
			snprintf(tls_info, sizeof(tls_info), "GnuTLS %s",
			    desc != NULL ? desc : "?");
		else
			snprintf(tls_info, sizeof(tls_info), "OpenSSL %s %s %s",
			    SSL_get_version(s->ssl),
			    SSL_get_cipher_name(s->ssl),
			    group != NULL ? group : "?");
		pthread_mutex_unlock(&err_lock);
		gnutls_free(desc);
	}
	return 0;
}

/*
 * Read up to n bytes into p (wr 0), or write some of the n bytes at p
 * (wr 1, p only read): their number, or -1 (s->err set).
 */
static ssize_t
tls_io(struct sess *s, char *p, size_t n, int wr)
{
	const char *what = wr ? "write" : "read";
	ssize_t r;

	if (n > INT_MAX)
		n = INT_MAX;
	for (;;) {
		if (o.mini) {
			r = wr ? tlsmini_write(s->tm, p, n) :
			    tlsmini_read(s->tm, p, n);
			if (r > 0)
				return r;
			if (s->err[0] == '\0')
				set_err(s, "%s: %s", what,
				    tlsmini_error(s->tm));
			return -1;
		} else if (o.gnutls) {
			r = wr ? gnutls_record_send(s->gs, p, n) :
			    gnutls_record_recv(s->gs, p, n);
			if (r > 0)
				return r;
			if (gtls_retry(s, r, what) < 0)
				return -1;
		} else {
			ERR_clear_error();
			r = wr ? SSL_write(s->ssl, p, (int)n) :
			    SSL_read(s->ssl, p, (int)n);
			if (r > 0)
				return r;
			if (ossl_retry(s, (int)r, what) < 0)
				return -1;
		}
	}
}

/* Whether decrypted bytes wait in the TLS library. */
static int
tls_pending(struct sess *s)
{
	if (!s->tls)
		return 0;
	if (o.mini)
		return tlsmini_pending(s->tm);
	if (o.gnutls)
		return gnutls_record_check_pending(s->gs) > 0;
	return SSL_pending(s->ssl) > 0;
}

/* Free the TLS state, also of a failed handshake; no close_notify. */
static void
tls_close(struct sess *s)
{
	if (s->ssl != NULL) {
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->gs != NULL) {
		gnutls_deinit(s->gs);
		s->gs = NULL;
	}
	tlsmini_free(s->tm);
	s->tm = NULL;
	s->tls = 0;
}

static int
write_all(struct sess *s, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if (s->tls) {
			if ((w = tls_io(s, (char *)p, n, 1)) < 0)
				return -1;
		} else {
			w = send(s->fd, p, n, MSG_NOSIGNAL);
			if (w == -1) {
				if (errno == EAGAIN || errno == EINTR) {
					if (wait_fd(s, POLLOUT) < 0)
						return -1;
					continue;
				}
				set_err(s, "send: %s", strerror(errno));
				return -1;
			}
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
fill(struct sess *s)
{
	size_t room = sizeof(s->buf) - s->len;
	ssize_t n;

	if (room == 0) {
		set_err(s, "reply line too long");
		return -1;
	}
	for (;;) {
		if (s->tls) {
			if ((n = tls_io(s, s->buf + s->len, room, 0)) < 0)
				return -1;
		} else {
			n = recv(s->fd, s->buf + s->len, room, 0);
			if (n == -1) {
				if (errno == EAGAIN || errno == EINTR) {
					if (wait_fd(s, POLLIN) < 0)
						return -1;
					continue;
				}
				set_err(s, "recv: %s", strerror(errno));
				return -1;
			}
			if (n == 0) {
				set_err(s, "connection closed by the server");
				return -1;
			}
		}
		s->len += (size_t)n;
		return 0;
	}
}

/* Read one reply (all its lines); its code in s->code.  0 ok, -1 error. */
static int
read_reply(struct sess *s)
{
	size_t rlen = 0;
	char *nl;
	size_t ll;

	s->reply[0] = '\0';
	for (;;) {
		while ((nl = memchr(s->buf, '\n', s->len)) == NULL)
			if (fill(s) < 0)
				return -1;
		ll = (size_t)(nl - s->buf) + 1;
		if (ll < 4 || s->buf[0] < '2' || s->buf[0] > '5') {
			set_err(s, "bad reply line '%.*s'", (int)(ll > 80 ? 80 :
			    ll), s->buf);
			return -1;
		}
		if (rlen + ll < sizeof(s->reply)) {
			memcpy(s->reply + rlen, s->buf, ll);
			rlen += ll;
			s->reply[rlen] = '\0';
		}
		s->code = (s->buf[0] - '0') * 100 + (s->buf[1] - '0') * 10 +
		    (s->buf[2] - '0');
		int last = s->buf[3] != '-';
		memmove(s->buf, s->buf + ll, s->len - ll);
		s->len -= ll;
		if (last)
			return 0;
	}
}

/* The last line of the reply, without CRLF, for error messages. */
static const char *
reply_text(struct sess *s)
{
	static __thread char t[ERR_MAX];
	char *p = s->reply, *q;
	size_t n = strlen(p);

	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	for (q = p; q < p + n; q++)
		if (*q == '\n' && q + 1 < p + n)
			p = q + 1;
	snprintf(t, sizeof(t), "%.*s", (int)(n - (size_t)(p - s->reply)), p);
	return t;
}

/* Send a command and expect a reply code class; 0 ok, -1 error. */
static int
cmd(struct sess *s, const char *line, int want, const char *what)
{
	if (line != NULL && write_all(s, line, strlen(line)) < 0)
		return -1;
	if (read_reply(s) < 0)
		return -1;
	if (s->code != want) {
		set_err(s, "%s: %s", what, reply_text(s));
		return -1;
	}
	return 0;
}

static int
tcp_connect(struct sess *s)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(int);
	int one = 1, soerr = 0;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)o.port);
	if (inet_pton(AF_INET, o.host, &sin.sin_addr) != 1) {
		set_err(s, "bad host address %s", o.host);
		return -1;
	}
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd == -1) {
		set_err(s, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (o.log != NULL)
		setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one,
		    sizeof(one));
	if (connect(s->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		if (errno != EINPROGRESS) {
			set_err(s, "connect: %s", strerror(errno));
			return -1;
		}
		if (wait_fd(s, POLLOUT) < 0)
			return -1;
		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr != 0) {
			set_err(s, "connect: %s", strerror(soerr));
			return -1;
		}
	}
	return 0;
}

static int
starttls(struct sess *s)
{
	if (cmd(s, "STARTTLS\r\n", 220, "STARTTLS") < 0)
		return -1;
	if (s->len != 0) {
		set_err(s, "data after the STARTTLS reply");
		return -1;
	}
	return tls_open(s);
}

/* Connect and get to the point where MAIL FROM may be sent. */
static int
session_open(struct sess *s, int tls)
{
	char line[1100];

	if (tcp_connect(s) < 0)
		return -1;
	if (cmd(s, NULL, 220, "banner") < 0)
		return -1;
	snprintf(line, sizeof(line), "EHLO %s\r\n", o.helo);
	if (cmd(s, line, 250, "EHLO") < 0)
		return -1;
	if (!tls)
		return 0;
	if (starttls(s) < 0)
		return -1;
	if (cmd(s, line, 250, "EHLO after STARTTLS") < 0)
		return -1;
	snprintf(line, sizeof(line), "AUTH PLAIN %s\r\n", auth_b64);
	if (cmd(s, line, 235, "AUTH PLAIN") < 0)
		return -1;
	return 0;
}

static void
session_close(struct sess *s)
{
	tls_close(s);
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
	s->len = 0;
}

static size_t
build_message(struct sess *s, long conn, int i)
{
	char hdr[2048];
	int hl;
	size_t need;
	time_t t = time(NULL);
	struct tm tm;
	char date[64];

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	hl = snprintf(hdr, sizeof(hdr),
	    "From: <%s>\r\n"
	    "To: <%s>\r\n"
	    "Subject: bench message %ld.%d\r\n"
	    "Date: %s\r\n"
	    "Message-ID: <%ld.%d.%ld@%s>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n",
	    o.from, o.rcpt, conn, i, date, conn, i, (long)getpid(), o.helo);
	/* from, rcpt and helo are bounded in main(): this always fits. */
	if (hl < 0 || (size_t)hl + 100 + sizeof(tag) > sizeof(hdr)) {
		fprintf(stderr, "smtpload: header too long\n");
		exit(2);
	}
	if (o.log != NULL)
		hl += snprintf(hdr + hl, sizeof(hdr) - (size_t)hl,
		    "X-Bench-Seq: %s.%ld\r\n", tag,
		    conn * (long)o.per_conn + i);
	hl += snprintf(hdr + hl, sizeof(hdr) - (size_t)hl, "\r\n");
	need = (size_t)hl + body_len + 3;
	if (need > s->msg_cap) {
		free(s->msg);
		s->msg = malloc(need);
		s->msg_cap = need;
		if (s->msg == NULL) {
			fprintf(stderr, "smtpload: out of memory\n");
			exit(2);
		}
	}
	memcpy(s->msg, hdr, (size_t)hl);
	memcpy(s->msg + hl, body, body_len);
	memcpy(s->msg + hl + body_len, ".\r\n", 3);
	return need;
}

/*
 * -L: the kernel's receive time of the data waiting on the socket (the
 * 250 to the end of data), without consuming it; 0 if there is none.
 */
static int64_t
rx_stamp(struct sess *s)
{
	char b;
	union {
		char		buf[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr	align;
	} cm;
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr mh;
	struct cmsghdr *c;
	struct timespec ts;

	if (s->len != 0 || tls_pending(s))
		return 0;		/* already read */
	if (wait_fd(s, POLLIN) < 0)
		return 0;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	if (recvmsg(s->fd, &mh, MSG_PEEK | MSG_DONTWAIT) <= 0)
		return 0;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_TIMESTAMPNS) {
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		}
	return 0;
}

/* -R: wait until message number k may start. */
static void
pace(long k)
{
	double at, left;
	struct timespec ts;

	if (o.rate <= 0)
		return;
	at = t_run0 + (double)k / o.rate;
	while ((left = at - now_s()) > 0 && now_s() < deadline) {
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

/* One message; 0 accepted, -1 failed (the session cannot go on). */
static int
send_message(struct sess *s, long conn, int i)
{
	char line[600];
	size_t n;
	double t0, t1;
	long k;
	struct timespec rt;
	int64_t rx = 0;

	if (i > 0)
		pace(conn * (long)o.per_conn + i);

	snprintf(line, sizeof(line), "MAIL FROM:<%s>\r\n", o.from);
	if (cmd(s, line, 250, "MAIL FROM") < 0)
		return -1;
	snprintf(line, sizeof(line), "RCPT TO:<%s>\r\n", o.rcpt);
	if (cmd(s, line, 250, "RCPT TO") < 0)
		return -1;
	if (cmd(s, "DATA\r\n", 354, "DATA") < 0)
		return -1;
	n = build_message(s, conn, i);
	/* Everything but the final ".\r\n" first: the latency starts when
	 * the end of data has been written. */
	if (write_all(s, s->msg, n - 3) < 0)
		return -1;
	if (write_all(s, s->msg + n - 3, 3) < 0)
		return -1;
	t0 = now_s();
	if (acc_ns != NULL)
		rx = rx_stamp(s);
	if (read_reply(s) < 0)
		return -1;
	t1 = now_s();
	clock_gettime(CLOCK_REALTIME, &rt);
	if (rx == 0)
		atomic_fetch_add(&n_nostamp, 1);
	if (s->code != 250) {
		set_err(s, "end of data: %s", reply_text(s));
		return -1;
	}
	if (acc_ns != NULL)
		acc_ns[conn * (long)o.per_conn + i] = rx != 0 ? rx :
		    (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec;
	k = atomic_fetch_add(&n_lat, 1);
	if (k < o.total)
		lat[k] = t1 - t0;
	return 0;
}

static void *
send_worker(void *arg)
{
	struct sess *s = calloc(1, sizeof(*s));
	long nconn = (o.total + o.per_conn - 1) / o.per_conn;
	long conn;
	int m, i, done;

	(void)arg;
	if (s == NULL)
		return NULL;
	s->fd = -1;
	while ((conn = atomic_fetch_add(&next_conn, 1)) < nconn) {
		m = o.per_conn;
		if ((conn + 1) * o.per_conn > o.total)
			m = (int)(o.total - conn * o.per_conn);
		done = 0;
		s->err[0] = '\0';
		pace(conn * (long)o.per_conn);
		if (now_s() >= deadline) {
			set_err(s, "overall deadline reached");
		} else if (session_open(s, 1) == 0) {
			for (i = 0; i < m; i++) {
				if (send_message(s, conn, i) < 0)
					break;
				done++;
			}
			if (done == m)
				(void)cmd(s, "QUIT\r\n", 221, "QUIT");
		}
		atomic_fetch_add(&n_ok, done);
		atomic_fetch_add(&n_failed, m - done);
		if (done < m) {
			atomic_fetch_add(&n_conn_failed, 1);
			record_err(s->err[0] ? s->err : "unknown error");
		} else
			atomic_fetch_add(&n_conn_ok, 1);
		session_close(s);
	}
	free(s->msg);
	free(s);
	return NULL;
}

static double
cpu_s(struct timeval *u, struct timeval *sy)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*u = ru.ru_utime;
	*sy = ru.ru_stime;
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[n], in ms. */
static double
pct(const double *v, long n, double p)
{
	long k;

	if (n == 0)
		return 0;
	k = (long)(p * n + 0.999999999) - 1;
	if (k < 0)
		k = 0;
	if (k >= n)
		k = n - 1;
	return v[k] * 1000.0;
}

static void
json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static int
run_send(void)
{
	pthread_t *th;
	pthread_attr_t attr;
	struct timeval u, sy;
	double t0, t1, c0, c1, sum = 0;
	long nl, i;
	int k;
	struct timespec rt0, rt1;
	FILE *lf = NULL;

	lat = calloc((size_t)o.total, sizeof(double));
	th = calloc((size_t)o.sessions, sizeof(*th));
	if (lat == NULL || th == NULL)
		return 2;
	if (o.log != NULL) {
		if ((acc_ns = calloc((size_t)o.total, sizeof(*acc_ns))) ==
		    NULL)
			return 2;
		if ((lf = fopen(o.log, "w")) == NULL) {
			fprintf(stderr, "smtpload: %s: %s\n", o.log,
			    strerror(errno));
			return 2;
		}
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	c0 = cpu_s(&u, &sy);
	clock_gettime(CLOCK_REALTIME, &rt0);
	t0 = t_run0 = now_s();
	for (k = 0; k < o.sessions; k++)
		if (pthread_create(&th[k], &attr, send_worker, NULL) != 0) {
			fprintf(stderr, "smtpload: pthread_create failed\n");
			exit(2);
		}
	for (k = 0; k < o.sessions; k++)
		pthread_join(th[k], NULL);
	t1 = now_s();
	clock_gettime(CLOCK_REALTIME, &rt1);
	c1 = cpu_s(&u, &sy);
	if (lf != NULL) {
		for (i = 0; i < o.total; i++)
			if (acc_ns[i] != 0)
				fprintf(lf, "%s.%ld %lld\n", tag, i,
				    (long long)acc_ns[i]);
		if (fclose(lf) != 0) {
			fprintf(stderr, "smtpload: %s: write failed\n", o.log);
			return 2;
		}
		free(acc_ns);
		acc_ns = NULL;
	}
	nl = atomic_load(&n_lat);
	if (nl > o.total)
		nl = o.total;
	qsort(lat, (size_t)nl, sizeof(double), cmp_double);
	for (i = 0; i < nl; i++)
		sum += lat[i];
	printf("{\"mode\": \"send\", \"host\": \"%s\", \"port\": %d, "
	    "\"sessions\": %d, \"per_conn\": %d, \"messages\": %ld, "
	    "\"size\": %ld, \"ok\": %ld, \"failed\": %ld, "
	    "\"connections_ok\": %ld, \"connections_failed\": %ld, "
	    "\"wall_s\": %.3f, \"msgs_per_s\": %.1f, "
	    "\"lat_ms\": {\"p50\": %.2f, \"p90\": %.2f, \"p99\": %.2f, "
	    "\"max\": %.2f, \"mean\": %.2f}, "
	    "\"cpu_s\": %.3f, \"cpu_user_s\": %.3f, \"cpu_sys_s\": %.3f, "
	    "\"start_ns\": %lld, \"end_ns\": %lld, \"offered_rate\": %.1f, "
	    "\"tag\": \"%s\", \"unstamped\": %ld, \"tls\": ", o.host,
	    o.port, o.sessions, o.per_conn, o.total,
	    o.size, atomic_load(&n_ok), atomic_load(&n_failed),
	    atomic_load(&n_conn_ok), atomic_load(&n_conn_failed), t1 - t0,
	    (t1 > t0 ? atomic_load(&n_ok) / (t1 - t0) : 0.0),
	    pct(lat, nl, 0.50), pct(lat, nl, 0.90), pct(lat, nl, 0.99),
	    pct(lat, nl, 1.0), nl ? 1000.0 * sum / nl : 0.0, c1 - c0,
	    u.tv_sec + u.tv_usec / 1e6, sy.tv_sec + sy.tv_usec / 1e6,
	    (long long)rt0.tv_sec * 1000000000 + rt0.tv_nsec,
	    (long long)rt1.tv_sec * 1000000000 + rt1.tv_nsec, o.rate, tag,
	    o.log != NULL ? atomic_load(&n_nostamp) : 0L);
	json_str(tls_info);
	printf(", \"first_error\": ");
	json_str(first_err);
	printf("}\n");
	fflush(stdout);
	free(th);
	free(lat);
	return atomic_load(&n_failed) ? 1 : 0;
}

static int
run_idle(void)
{
	struct sess *ss;
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	struct timeval u, sy;
	double t0, t_open, end, c0, c1;
	long open_ok = 0, open_failed = 0, closed_early = 0;
	char dummy[256];
	int k, r;

	ss = calloc((size_t)o.idle, sizeof(*ss));
	if (ss == NULL)
		return 2;
	c0 = cpu_s(&u, &sy);
	t0 = now_s();
	for (k = 0; k < o.idle; k++) {
		ss[k].fd = -1;
		if (session_open(&ss[k], o.idle_tls) == 0) {
			open_ok++;
			continue;
		}
		open_failed++;
		record_err(ss[k].err);
		session_close(&ss[k]);
	}
	t_open = now_s() - t0;
	printf("ready %ld %ld\n", open_ok, open_failed);
	fflush(stdout);
	/* Idle until stdin closes (EOF or error) or the hold time ends. */
	end = now_s() + o.hold_s;
	while (now_s() < end) {
		r = poll(&pfd, 1, 200);
		if (r == -1 && errno != EINTR)
			break;
		if (r > 0 && (read(0, dummy, sizeof(dummy)) <= 0))
			break;
	}
	/* Sessions the server closed meanwhile (idle timeout). */
	for (k = 0; k < o.idle; k++) {
		struct pollfd p = { .fd = ss[k].fd, .events = POLLIN };
		if (ss[k].fd == -1)
			continue;
		if (poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLHUP |
		    POLLERR)))
			closed_early++;
		session_close(&ss[k]);
	}
	c1 = cpu_s(&u, &sy);
	printf("{\"mode\": \"idle\", \"host\": \"%s\", \"port\": %d, "
	    "\"tls\": %s, \"opened\": %ld, \"failed\": %ld, "
	    "\"closed_by_server\": %ld, \"open_s\": %.3f, \"cpu_s\": %.3f, "
	    "\"first_error\": ", o.host, o.port, o.idle_tls ? "true" : "false",
	    open_ok, open_failed, closed_early, t_open, c1 - c0);
	json_str(first_err);
	printf("}\n");
	fflush(stdout);
	free(ss);
	return open_failed ? 1 : 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: smtpload [-H host] [-p port] [-u user] [-w password]\n"
	    "\t[-f sender] [-r recipient] [-e helo] [-n sessions]\n"
	    "\t[-m msgs-per-conn] [-t total-msgs] [-s body-bytes]\n"
	    "\t[-T read-timeout-ms] [-D deadline-s] [-k idle-conns]\n"
	    "\t[-I (idle sessions do STARTTLS+AUTH)] [-h hold-s]\n"
	    "\t[-a (allow TLS < 1.3)] [-G (GnuTLS, not OpenSSL)]\n"
	    "\t[-M (tlsmini, not OpenSSL; TLS 1.3 only)]\n"
	    "\t[-L accept-log] [-q tag] [-R offered-msgs-per-s] send|idle\n");
	exit(2);
}

static long
num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi) {
		fprintf(stderr, "smtpload: bad number '%s' (%ld..%ld)\n", s,
		    lo, hi);
		exit(2);
	}
	return v;
}

static void
make_body(void)
{
	static const char alpha[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t i = 0, left, len, k;

	body_len = (size_t)o.size;
	body = malloc(body_len);
	if (body == NULL)
		exit(2);
	/* Lines of at most 76 characters, each ending with CRLF; exactly
	 * body_len bytes (never a bare CR or LF, never a leading dot). */
	while ((left = body_len - i) >= 2) {
		len = left - 2 < 76 ? left - 2 : 76;
		if (left - len - 2 == 1)
			len--;
		for (k = 0; k < len; k++)
			body[i + k] = alpha[(i + k * 7) % (sizeof(alpha) - 1)];
		i += len;
		body[i++] = '\r';
		body[i++] = '\n';
	}
}

int
main(int argc, char *argv[])
{
	struct rlimit rl;
	char plain[600];
	int c, pl, rc;
	const char *mode;

	while ((c = getopt(argc, argv, "H:p:u:w:f:r:e:n:m:t:s:T:D:k:Ih:aGML:q:R:"))
	    != -1) {
		switch (c) {
		case 'H': o.host = optarg; break;
		case 'p': o.port = (int)num(optarg, 1, 65535); break;
		case 'u': o.user = optarg; break;
		case 'w': o.pass = optarg; break;
		case 'f': o.from = optarg; break;
		case 'r': o.rcpt = optarg; break;
		case 'e': o.helo = optarg; break;
		case 'n': o.sessions = (int)num(optarg, 1, 10000); break;
		case 'm': o.per_conn = (int)num(optarg, 1, 1000000); break;
		case 't': o.total = num(optarg, 1, 100000000); break;
		case 's': o.size = num(optarg, 2, 100000000); break;
		case 'T': o.timeout_ms = (int)num(optarg, 1, 3600000); break;
		case 'D': o.deadline_s = (double)num(optarg, 1, 86400); break;
		case 'k': o.idle = (int)num(optarg, 1, 1000000); break;
		case 'I': o.idle_tls = 1; break;
		case 'h': o.hold_s = (double)num(optarg, 1, 86400); break;
		case 'a': o.tls13 = 0; break;
		case 'G': o.gnutls = 1; break;
		case 'M': o.mini = 1; break;
		case 'L': o.log = optarg; break;
		case 'q': o.tag = optarg; break;
		case 'R': o.rate = (double)num(optarg, 0, 10000000); break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();
	if (o.tag != NULL) {
		if (strlen(o.tag) >= sizeof(tag) || strspn(o.tag,
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-_") != strlen(o.tag)) {
			fprintf(stderr, "smtpload: bad tag\n");
			return 2;
		}
		snprintf(tag, sizeof(tag), "%s", o.tag);
	} else
		snprintf(tag, sizeof(tag), "%ld", (long)getpid());
	mode = argv[optind];
	if (strlen(o.from) > 400 || strlen(o.rcpt) > 400 ||
	    strlen(o.helo) > 255 || strlen(o.user) > 255 ||
	    strlen(o.pass) > 255) {
		fprintf(stderr, "smtpload: argument too long\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Enough descriptors for the idle connections. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* AUTH PLAIN: base64("\0user\0password") */
	pl = snprintf(plain, sizeof(plain), "%c%s%c%s", 0, o.user, 0, o.pass);
	EVP_EncodeBlock((unsigned char *)auth_b64, (unsigned char *)plain, pl);

	if (o.mini + o.gnutls > 1 || (o.mini && !o.tls13)) {
		fprintf(stderr, "smtpload: -M takes neither -G nor -a\n");
		return 2;
	}
	if (o.mini) {
		if (tlsmini_init() == -1) {
			fprintf(stderr, "smtpload: tlsmini setup failed\n");
			return 2;
		}
	} else if (o.gnutls) {
		/* Credentials without CAs: nothing to verify against.  The
		 * groups of GTLS_GROUPS, so that the servers do the same ECDH
		 * (X25519) for both backends. */
		if (gnutls_certificate_allocate_credentials(&gcred) !=
		    GNUTLS_E_SUCCESS || gnutls_priority_init(&gprio, o.tls13 ?
		    "NORMAL:-VERS-ALL:+VERS-TLS1.3:" GTLS_GROUPS :
		    "NORMAL:" GTLS_GROUPS, NULL) != GNUTLS_E_SUCCESS) {
			fprintf(stderr, "smtpload: GnuTLS setup failed\n");
			return 2;
		}
	} else {
		ctx = SSL_CTX_new(TLS_client_method());
		if (ctx == NULL) {
			fprintf(stderr, "smtpload: SSL_CTX_new failed\n");
			return 2;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		if (o.tls13)
			SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	}
	make_body();
	clock_gettime(CLOCK_MONOTONIC, &t_start);
	deadline = now_s() + o.deadline_s;

	if (strcmp(mode, "send") == 0)
		rc = run_send();
	else if (strcmp(mode, "idle") == 0)
		rc = run_idle();
	else
		usage();
	if (o.gnutls) {
		gnutls_priority_deinit(gprio);
		gnutls_certificate_free_credentials(gcred);
	} else
		SSL_CTX_free(ctx);
	free(body);
	return rc;
}
