/*
 * smtpsink: a fast loopback SMTP sink for regress/bench (bench_delivery.py).
 *
 *   smtpsink [-b addr] [-p port] [-o records] [-D seconds] [-F flush-ms]
 *
 * One thread, epoll, non-blocking sockets, any number of connections.
 * Says EHLO with PIPELINING, 8BITMIME, SIZE and ENHANCEDSTATUSCODES,
 * accepts every MAIL, RCPT and DATA with 250 (354 for DATA), answers
 * pipelined commands in one write.  For every message it takes its
 * arrival time (CLOCK_REALTIME, ns: the kernel's receive time of the
 * last segment of the read that brought the end of data, SO_TIMESTAMPNS;
 * the time the read returned if the kernel gives none) and the value of
 * its first "X-Bench-Seq:" header (in the header section; "-" if none),
 * and appends the line
 *
 *	TOKEN ARRIVAL_NS BYTES RCPTS
 *
 * to the records file, written every flush interval (-F, 100 ms by
 * default; the bench uses 20) and at exit,
 * so that a reader may follow it while the sink runs.
 *
 * Prints "ready PORT" on stdout once it listens (port 0: the kernel
 * chooses), and at exit (SIGTERM, SIGINT, or the -D deadline: it is always
 * bounded) one JSON object with its counters and its CPU time.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define INBUF		65536
#define TOKEN_MAX	128
#define MAX_EVENTS	256

enum state { S_CMD, S_DATA };

struct conn {
	int		 fd;
	enum state	 state;
	char		 in[INBUF];
	size_t		 inlen;
	int		 midline;	/* DATA: a line longer than in[] */
	int		 in_headers;
	char		*out;
	size_t		 outlen, outcap, outoff;
	int		 want_out;	/* EPOLLOUT registered */
	int		 closing;	/* close once out is written */
	char		 token[TOKEN_MAX];
	long		 bytes;
	int		 rcpts;
};

static volatile sig_atomic_t	 stop;
static int			 epfd;
static char			*rec;
static size_t			 rec_len, rec_cap;
static int			 rec_fd = -1;
static long			 n_msgs, n_conns, n_rcpts, n_open, n_maxopen;
static long			 n_cmds, n_bad, n_unstamped;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n)) == NULL) {
		fprintf(stderr, "smtpsink: out of memory\n");
		exit(2);
	}
	return p;
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
out_add(struct conn *c, const char *s)
{
	size_t n = strlen(s);

	if (c->outlen + n > c->outcap) {
		c->outcap = (c->outlen + n) * 2 + 256;
		c->out = xrealloc(c->out, c->outcap);
	}
	memcpy(c->out + c->outlen, s, n);
	c->outlen += n;
}

static void
rec_add(const struct conn *c, int64_t ns)
{
	char line[TOKEN_MAX + 80];
	int n;

	n = snprintf(line, sizeof(line), "%s %lld %ld %d\n",
	    c->token[0] ? c->token : "-", (long long)ns, c->bytes, c->rcpts);
	if (rec_len + (size_t)n > rec_cap) {
		rec_cap = (rec_len + (size_t)n) * 2 + 4096;
		rec = xrealloc(rec, rec_cap);
	}
	memcpy(rec + rec_len, line, (size_t)n);
	rec_len += (size_t)n;
}

static void
rec_flush(void)
{
	size_t off = 0;
	ssize_t w;

	if (rec_fd == -1) {
		rec_len = 0;
		return;
	}
	while (off < rec_len) {
		w = write(rec_fd, rec + off, rec_len - off);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "smtpsink: write records: %s\n",
			    strerror(errno));
			exit(2);
		}
		off += (size_t)w;
	}
	rec_len = 0;
}

static void
conn_free(struct conn *c)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	free(c);
	n_open--;
}

/* Write what is queued; 0 ok (maybe with EPOLLOUT armed), -1 closed. */
static int
conn_write(struct conn *c)
{
	ssize_t w;
	struct epoll_event ev;

	while (c->outoff < c->outlen) {
		w = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			conn_free(c);
			return -1;
		}
		c->outoff += (size_t)w;
	}
	if (c->outoff == c->outlen) {
		c->outoff = c->outlen = 0;
		if (c->closing) {
			conn_free(c);
			return -1;
		}
	}
	if ((c->outlen != 0) != c->want_out) {
		c->want_out = c->outlen != 0;
		ev.events = EPOLLIN | (c->want_out ? EPOLLOUT : 0);
		ev.data.ptr = c;
		epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
	}
	return 0;
}

static int
verb(const char *line, size_t len, const char *v)
{
	size_t n = strlen(v);

	return len >= n && strncasecmp(line, v, n) == 0 &&
	    (len == n || line[n] == ' ' || line[n] == '\r' || line[n] == '\n' ||
	    line[n] == ':');
}

static void
command(struct conn *c, const char *line, size_t len)
{
	n_cmds++;
	if (verb(line, len, "EHLO"))
		out_add(c, "250-sink.bench\r\n250-PIPELINING\r\n"
		    "250-8BITMIME\r\n250-SIZE 1073741824\r\n"
		    "250 ENHANCEDSTATUSCODES\r\n");
	else if (verb(line, len, "HELO"))
		out_add(c, "250 sink.bench\r\n");
	else if (verb(line, len, "MAIL")) {
		c->rcpts = 0;
		out_add(c, "250 2.1.0 Ok\r\n");
	} else if (verb(line, len, "RCPT")) {
		c->rcpts++;
		n_rcpts++;
		out_add(c, "250 2.1.5 Ok\r\n");
	} else if (verb(line, len, "DATA")) {
		c->state = S_DATA;
		c->midline = 0;
		c->in_headers = 1;
		c->token[0] = '\0';
		c->bytes = 0;
		out_add(c, "354 End data with <CR><LF>.<CR><LF>\r\n");
	} else if (verb(line, len, "RSET")) {
		c->rcpts = 0;
		out_add(c, "250 2.0.0 Ok\r\n");
	} else if (verb(line, len, "NOOP"))
		out_add(c, "250 2.0.0 Ok\r\n");
	else if (verb(line, len, "QUIT")) {
		out_add(c, "221 2.0.0 Bye\r\n");
		c->closing = 1;
	} else {
		n_bad++;
		out_add(c, "502 5.5.2 Not implemented\r\n");
	}
}

static void
data_line(struct conn *c, const char *line, size_t len, int64_t ns)
{
	size_t k;

	if (c->midline) {		/* the rest of an overlong line */
		c->midline = 0;
		c->bytes += (long)len;
		return;
	}
	if ((len == 3 && memcmp(line, ".\r\n", 3) == 0) ||
	    (len == 2 && memcmp(line, ".\n", 2) == 0)) {
		rec_add(c, ns);
		n_msgs++;
		c->state = S_CMD;
		c->rcpts = 0;
		out_add(c, "250 2.0.0 Ok: queued\r\n");
		return;
	}
	c->bytes += (long)len;
	if (!c->in_headers)
		return;
	if (len <= 2 && (line[0] == '\r' || line[0] == '\n')) {
		c->in_headers = 0;
		return;
	}
	if (c->token[0] == '\0' && len > 12 &&
	    strncasecmp(line, "X-Bench-Seq:", 12) == 0) {
		line += 12;
		len -= 12;
		while (len > 0 && (*line == ' ' || *line == '\t')) {
			line++;
			len--;
		}
		for (k = 0; k < len && k < TOKEN_MAX - 1 && line[k] > ' ' &&
		    line[k] < 0x7f; k++)
			c->token[k] = line[k];
		c->token[k] = '\0';
	}
}

static void
conn_read(struct conn *c)
{
	struct timespec ts;
	int64_t ns;
	ssize_t r;
	char *p, *nl;
	size_t left, ll;
	union {
		char		buf[CMSG_SPACE(sizeof(struct timespec)) * 2];
		struct cmsghdr	align;
	} cm;
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *cmh;
	int stamped;

	for (;;) {
		iov.iov_base = c->in + c->inlen;
		iov.iov_len = sizeof(c->in) - c->inlen;
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		r = recvmsg(c->fd, &mh, 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && errno == EAGAIN)
			break;
		if (r <= 0) {
			conn_free(c);
			return;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		stamped = 0;
		for (cmh = CMSG_FIRSTHDR(&mh); cmh != NULL;
		    cmh = CMSG_NXTHDR(&mh, cmh))
			if (cmh->cmsg_level == SOL_SOCKET &&
			    cmh->cmsg_type == SCM_TIMESTAMPNS) {
				memcpy(&ts, CMSG_DATA(cmh), sizeof(ts));
				stamped = 1;
			}
		if (!stamped)
			n_unstamped++;
		ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		c->inlen += (size_t)r;
		p = c->in;
		left = c->inlen;
		while (left > 0 && (nl = memchr(p, '\n', left)) != NULL) {
			ll = (size_t)(nl - p) + 1;
			if (c->state == S_DATA)
				data_line(c, p, ll, ns);
			else if (!c->closing)
				command(c, p, ll);
			p += ll;
			left -= ll;
		}
		if (left == sizeof(c->in)) {
			/* No newline in a full buffer. */
			if (c->state == S_DATA) {
				c->bytes += (long)left;
				c->midline = 1;
				left = 0;
			} else {
				out_add(c, "500 5.5.0 Line too long\r\n");
				c->closing = 1;
				left = 0;
			}
		}
		memmove(c->in, p, left);
		c->inlen = left;
		if (c->outlen > 65536 && conn_write(c) < 0)
			return;
	}
	(void)conn_write(c);
}

static void
do_accept(int lfd)
{
	struct epoll_event ev;
	struct conn *c;
	int fd, one = 1;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR)
				continue;
			return;		/* EAGAIN, or out of descriptors */
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
			close(fd);
			free(c);
			continue;
		}
		n_conns++;
		if (++n_open > n_maxopen)
			n_maxopen = n_open;
		out_add(c, "220 sink.bench ESMTP bench sink\r\n");
		(void)conn_write(c);
	}
}

static long
num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi) {
		fprintf(stderr, "smtpsink: bad number '%s' (%ld..%ld)\n", s,
		    lo, hi);
		exit(2);
	}
	return v;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct epoll_event ev, evs[MAX_EVENTS];
	struct sigaction sa;
	struct rlimit rl;
	struct rusage ru;
	const char *addr = "127.0.0.1", *out = NULL;
	long port = 0, flush_ms = 100;
	double limit_s = 3600, end, next_flush, now, t0;
	int c, lfd, one = 1, n, i, ms;

	while ((c = getopt(argc, argv, "b:p:o:D:F:")) != -1) {
		switch (c) {
		case 'b': addr = optarg; break;
		case 'p': port = num(optarg, 0, 65535); break;
		case 'o': out = optarg; break;
		case 'D': limit_s = (double)num(optarg, 1, 86400); break;
		case 'F': flush_ms = num(optarg, 1, 60000); break;
		default:
			fprintf(stderr, "usage: smtpsink [-b addr] [-p port] "
			    "[-o records] [-D seconds] [-F flush-ms]\n");
			return 2;
		}
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: epoll_wait ends */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (out != NULL && (rec_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC |
	    O_APPEND | O_CLOEXEC, 0644)) == -1) {
		fprintf(stderr, "smtpsink: %s: %s\n", out, strerror(errno));
		return 2;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "smtpsink: bad address %s\n", addr);
		return 2;
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd == -1)
		return 2;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 4096) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &sl) == -1) {
		fprintf(stderr, "smtpsink: %s:%ld: %s\n", addr, port,
		    strerror(errno));
		return 2;
	}
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return 2;
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
	printf("ready %d\n", ntohs(sin.sin_port));
	fflush(stdout);

	t0 = mono_s();
	end = t0 + limit_s;
	next_flush = t0 + flush_ms / 1000.0;
	while (!stop) {
		now = mono_s();
		if (now >= end)
			break;
		if (now >= next_flush) {
			rec_flush();
			next_flush = now + flush_ms / 1000.0;
		}
		ms = (int)((next_flush - now) * 1000) + 1;
		n = epoll_wait(epfd, evs, MAX_EVENTS, ms);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "smtpsink: epoll_wait: %s\n",
			    strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			struct conn *cn = evs[i].data.ptr;

			if (cn == NULL) {
				do_accept(lfd);
				continue;
			}
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				conn_read(cn);
			else if (evs[i].events & EPOLLOUT)
				(void)conn_write(cn);
		}
	}
	rec_flush();
	if (rec_fd != -1)
		close(rec_fd);
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"messages\": %ld, \"recipients\": %ld, \"connections\": %ld, "
	    "\"max_open\": %ld, \"commands\": %ld, \"unknown_commands\": %ld, "
	    "\"unstamped_reads\": %ld, \"run_s\": %.3f, \"cpu_s\": %.3f, "
	    "\"deadline\": %s}\n", n_msgs,
	    n_rcpts, n_conns, n_maxopen, n_cmds, n_bad, n_unstamped, mono_s() - t0,
	    ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
	    stop ? "false" : "true");
	fflush(stdout);
	return 0;
}
