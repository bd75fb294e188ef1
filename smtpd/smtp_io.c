/*
 * Buffered non-blocking I/O of one SMTP connection, plain or TLS (see
 * smtp_io.h).
 *
 * libtls on a non-blocking socket may need the opposite readiness of
 * the operation it does (a read that must write, a write that must
 * read), so each side remembers what it waits for and the two events
 * are armed from that.
 *
 * Every change of an event is an epoll_ctl, and a session would make a
 * dozen (paused for lka, STARTTLS, the handshake's thread, QUIT) where
 * two are enough.  So the write event is armed only once a write would
 * block (output is written at once otherwise), and the read event is
 * taken out of epoll lazily: a session that stops reading keeps it armed
 * until it fires, and only then is it removed (an armed read event on a
 * paused session would spin the loop).  Mostly the session wants to read
 * again before that.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tls.h>

#include "smtp_io.h"

enum {
	IO_PLAIN,
	IO_HANDSHAKE,
	IO_TLS,
	IO_DEAD
};

static void	io_event(int, short, void *);
static void	io_read_event(int, short, void *);
static int	io_write(struct smtp_io *);
static void	io_handshake_done(struct smtp_hsjob *);

/*
 * Act in this loop round as if the socket were ready for ev.  Not with
 * event_active on ev_read or ev_write: libevent does not put an event
 * that is active into epoll when it is added, and it would be lost.
 */
static void
io_soon(struct smtp_io *io, short ev)
{
	io->soon |= ev;
	event_active(&io->ev_soon, EV_TIMEOUT, 1);
}

static void
io_soon_event(int fd, short unused, void *arg)
{
	struct smtp_io	*io = arg;
	short		 ev = io->soon;

	io->soon = 0;
	io_event(fd, ev, io);
}

static void
io_arm_write(struct smtp_io *io, int want)
{
	if (want && !io->write_armed)
		event_add(&io->ev_write, NULL);
	else if (!want && io->write_armed)
		event_del(&io->ev_write);
	io->write_armed = want;
}

/*
 * Reading again after a pause or a full buffer: libtls may hold
 * decrypted records the kernel knows nothing of, so look at once.
 */
static void
io_arm_read(struct smtp_io *io, int want)
{
	if (want && !io->read_armed) {
		event_add(&io->ev_read, NULL);
		io->read_armed = 1;
	}
	if (want && !io->read_wanted && io->state == IO_TLS)
		io_soon(io, EV_READ);
	io->read_wanted = want;
}

static int
io_want_read(const struct smtp_io *io)
{
	switch (io->state) {
	case IO_DEAD:
		return 0;
	case IO_HANDSHAKE:
		return !io->hs_busy && io->hs_want == EV_READ;
	default:
		return (!io->paused &&
		    evbuffer_get_length(io->in) < SMTP_IO_IN_MAX) ||
		    io->wr_wants_in;
	}
}

static void
io_update(struct smtp_io *io)
{
	int	want_w, out;

	switch (io->state) {
	case IO_DEAD:
		want_w = 0;
		break;
	case IO_HANDSHAKE:
		want_w = !io->hs_busy && io->hs_want == EV_WRITE;
		break;
	default:
		out = evbuffer_get_length(io->out) > 0 && !io->wr_wants_in;
		want_w = (out && io->wr_blocked) || io->rd_wants_out;
		/* Output nobody has tried to write yet: this loop round. */
		if (out && !io->wr_blocked)
			io_soon(io, EV_WRITE);
	}
	io_arm_read(io, io_want_read(io));
	io_arm_write(io, want_w);
}

int
smtp_io_init(struct smtp_io *io, struct event_base *base, int fd,
    smtp_io_cb cb, void *arg)
{
	memset(io, 0, sizeof(*io));
	io->fd = fd;
	io->state = IO_PLAIN;
	io->cb = cb;
	io->arg = arg;
	if ((io->in = evbuffer_new()) == NULL ||
	    (io->out = evbuffer_new()) == NULL) {
		if (io->in != NULL)
			evbuffer_free(io->in);
		return -1;
	}
	event_assign(&io->ev_read, base, fd, EV_READ | EV_PERSIST,
	    io_read_event, io);
	event_assign(&io->ev_write, base, fd, EV_WRITE | EV_PERSIST,
	    io_event, io);
	event_assign(&io->ev_soon, base, -1, 0, io_soon_event, io);
	io->hs_job.done = io_handshake_done;
	io->paused = 1;
	return 0;
}

void
smtp_io_free(struct smtp_io *io)
{
	event_del(&io->ev_read);
	event_del(&io->ev_write);
	event_del(&io->ev_soon);
	io->soon = 0;
	io->read_armed = io->read_wanted = io->write_armed = 0;
	if (io->hs_busy) {
		smtp_hspool_cancel(&io->hs_job);
		io->hs_busy = 0;
	}
	if (io->tls != NULL) {
		/* No waiting for the peer's close_notify. */
		io->last = 0;
		(void)tls_close(io->tls);
		tls_free(io->tls);
		io->tls = NULL;
	}
	if (io->fd != -1)
		close(io->fd);
	io->fd = -1;
	free(io->rb);
	io->rb = NULL;
	io->rb_len = 0;
	evbuffer_free(io->in);
	evbuffer_free(io->out);
	io->in = io->out = NULL;
	io->state = IO_DEAD;
}

/*
 * libtls reads through this, a TLS record at a time: its 5-octet header,
 * then the rest.  One read(2) takes all the socket has (up to 16 KiB)
 * and keeps what libtls did not ask for yet; a read that got less than
 * it asked for emptied the socket, so the next one waits for epoll
 * instead of failing with EAGAIN.  Three reads per command became one.
 * A handshake step on a thread calls it too, while the loop keeps off
 * the io (hs_busy).
 */
static ssize_t
io_tls_recv(struct tls *t, void *buf, size_t len, void *arg)
{
	static __thread unsigned char	 ahead[SMTP_IO_READ_CHUNK];
	struct smtp_io			*io = arg;
	unsigned char			*dst;
	size_t				 want;
	ssize_t				 n;

	if (io->rb_len > 0) {
		n = len < io->rb_len ? len : io->rb_len;
		memcpy(buf, io->rb + io->rb_off, n);
		io->rb_off += n;
		if ((io->rb_len -= n) == 0) {
			free(io->rb);
			io->rb = NULL;
			io->rb_off = 0;
		}
		return n;
	}
	if (io->rd_drained)
		return TLS_WANT_POLLIN;
	if (len >= sizeof(ahead)) {
		dst = buf;
		want = len;
	} else {
		dst = ahead;
		want = sizeof(ahead);
	}
	do {
		n = read(io->fd, dst, want);
	} while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN) {
		io->rd_drained = 1;
		return TLS_WANT_POLLIN;
	}
	if (n <= 0)
		return n;
	if ((size_t)n < want)
		io->rd_drained = 1;
	if (dst == buf)
		return n;
	if ((size_t)n > len) {
		/* Read from the socket and not kept would be lost: an error. */
		if ((io->rb = malloc(n - len)) == NULL)
			return -1;
		memcpy(io->rb, ahead + len, n - len);
		io->rb_off = 0;
		io->rb_len = n - len;
		n = len;
	}
	memcpy(buf, ahead, n);
	return n;
}

/*
 * The last reply (a 221, a 421) is sent with MSG_MORE: the kernel holds
 * it until the close_notify, sent without, and both leave in one
 * segment; close() would push it anyway.
 */
static ssize_t
io_tls_send(struct tls *t, const void *buf, size_t len, void *arg)
{
	struct smtp_io	*io = arg;
	ssize_t		 n;

	do {
		n = send(io->fd, buf, len, io->last ? MSG_MORE : 0);
	} while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN)
		return TLS_WANT_POLLOUT;
	return n;
}

int
smtp_io_starttls(struct smtp_io *io, struct tls *ctx)
{
	io->rd_drained = 0;
	if (tls_accept_cbs(ctx, &io->tls, io_tls_recv, io_tls_send,
	    io) == -1) {
		io->error = tls_error(ctx);
		return -1;
	}
	/*
	 * Nothing read before the handshake may be used after it
	 * (CVE-2011-0411): the session has already stopped reading at the
	 * STARTTLS line, this drops whatever was pipelined behind it.
	 */
	evbuffer_drain(io->in, evbuffer_get_length(io->in));
	io->state = IO_HANDSHAKE;
	io->hs_want = EV_READ;
	io->hs_inline = 0;
	io_update(io);
	return 0;
}

void
smtp_io_last(struct smtp_io *io)
{
	io->last = 1;
}

int
smtp_io_tls(const struct smtp_io *io)
{
	return io->state == IO_TLS;
}

void
smtp_io_pause(struct smtp_io *io)
{
	io->paused = 1;
	io_update(io);
}

void
smtp_io_resume(struct smtp_io *io)
{
	io->paused = 0;
	io_update(io);
}

/*
 * Replies are written at once when the socket takes them, which saves
 * the write event's round through epoll for almost every reply; what
 * the callback must hear of (all written, or an error) is delivered
 * from the loop, never from here.
 */
void
smtp_io_flush(struct smtp_io *io)
{
	int	what;

	if ((io->state == IO_PLAIN || io->state == IO_TLS) &&
	    evbuffer_get_length(io->out) > 0 && !io->wr_wants_in &&
	    !io->wr_blocked) {
		what = io_write(io);
		if (what & SMTP_IO_CLOSED)
			io->state = IO_DEAD;
		if (what) {
			io->pending |= what;
			io_soon(io, EV_WRITE);
		}
	}
	io_update(io);
}

static int
io_read(struct smtp_io *io)
{
	struct evbuffer_iovec	 v;
	ssize_t			 n;
	int			 what = 0;

	while (!io->paused && evbuffer_get_length(io->in) < SMTP_IO_IN_MAX) {
		if (evbuffer_reserve_space(io->in, SMTP_IO_READ_CHUNK, &v,
		    1) < 1) {
			io->error = "out of memory";
			return what | SMTP_IO_CLOSED;
		}
		if (io->state == IO_PLAIN) {
			/* Not evbuffer_read: it asks FIONREAD first. */
			n = read(io->fd, v.iov_base, SMTP_IO_READ_CHUNK);
			if (n > 0) {
				v.iov_len = n;
				evbuffer_commit_space(io->in, &v, 1);
				what |= SMTP_IO_DATAIN;
				if (n < SMTP_IO_READ_CHUNK)
					break;
				continue;
			}
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				break;
			io->error = n == 0 ? NULL : strerror(errno);
			return what | SMTP_IO_CLOSED;
		}
		n = tls_read(io->tls, v.iov_base, v.iov_len);
		io->rd_wants_out = 0;
		if (n > 0) {
			v.iov_len = n;
			evbuffer_commit_space(io->in, &v, 1);
			what |= SMTP_IO_DATAIN;
			continue;
		}
		if (n == TLS_WANT_POLLIN)
			break;
		if (n == TLS_WANT_POLLOUT) {
			io->rd_wants_out = 1;
			break;
		}
		io->error = n == 0 ? NULL : tls_error(io->tls);
		return what | SMTP_IO_CLOSED;
	}
	return what;
}

static int
io_write(struct smtp_io *io)
{
	unsigned char	*p;
	size_t		 len;
	ssize_t		 n;

	io->wr_blocked = 0;
	while ((len = evbuffer_get_length(io->out)) > 0) {
		if (io->state == IO_PLAIN) {
			n = evbuffer_write(io->out, io->fd);
			if (n >= 0)
				continue;
			if (errno == EAGAIN || errno == EINTR) {
				io->wr_blocked = 1;
				return 0;
			}
			io->error = strerror(errno);
			return SMTP_IO_CLOSED;
		}
		if (len > SMTP_IO_READ_CHUNK)
			len = SMTP_IO_READ_CHUNK;
		if ((p = evbuffer_pullup(io->out, len)) == NULL) {
			io->error = "out of memory";
			return SMTP_IO_CLOSED;
		}
		n = tls_write(io->tls, p, len);
		io->wr_wants_in = 0;
		if (n > 0) {
			evbuffer_drain(io->out, n);
			continue;
		}
		if (n == TLS_WANT_POLLOUT) {
			io->wr_blocked = 1;
			return 0;
		}
		if (n == TLS_WANT_POLLIN) {
			io->wr_wants_in = 1;
			return 0;
		}
		io->error = tls_error(io->tls);
		return SMTP_IO_CLOSED;
	}
	return SMTP_IO_DRAINED;
}

/*
 * Where a handshake step left the connection.  Returns 1 when the
 * session is up and input may already wait (the client's first command
 * can come with its Finished).
 */
static int
io_handshake_result(struct smtp_io *io, int rc, int *what)
{
	switch (rc) {
	case TLS_WANT_POLLIN:
		io->hs_want = EV_READ;
		return 0;
	case TLS_WANT_POLLOUT:
		io->hs_want = EV_WRITE;
		return 0;
	case 0:
		io->state = IO_TLS;
		*what |= SMTP_IO_TLSREADY;
		return 1;
	default:
		io->error = tls_error(io->tls);
		io->state = IO_DEAD;
		*what |= SMTP_IO_CLOSED;
		return 0;
	}
}

/* Read and write what the readiness in ev allows, then tell the session. */
static void
io_transfer(struct smtp_io *io, short ev, int what)
{
	int	 rd, wr;

	rd = io->state == IO_TLS && io->rd_wants_out ?
	    (ev & EV_WRITE) : (ev & EV_READ);
	wr = io->state == IO_TLS && io->wr_wants_in ?
	    (ev & EV_READ) : (ev & EV_WRITE);
	if (rd)
		what |= io_read(io);
	if (wr && !(what & SMTP_IO_CLOSED) && evbuffer_get_length(io->out))
		what |= io_write(io);
	if (what & SMTP_IO_CLOSED)
		io->state = IO_DEAD;
	io_update(io);
	if (what)
		io->cb(io, what, io->arg);
}

/*
 * A handshake step that took this much CPU has done the server's costly
 * part: its key share and the signature with the certificate's key (an
 * RSA-2048 signature alone is ~400 us here, an ECDSA P-256 one ~30).  What
 * is left (the client's Finished, in TLS 1.2 also its key share: tens of
 * microseconds) runs on the loop: handing it to a thread would cost the
 * loop about as much (a wakeup there, the pipe back, the events re-armed)
 * and the session a round trip through another CPU.  A step that took
 * less (a ClientHello that came in pieces) leaves the next one on the
 * pool, so the signature does not run on the loop.
 */
#define HS_COSTLY_US	150

/* A handshake step came back from a thread. */
static void
io_handshake_done(struct smtp_hsjob *job)
{
	struct smtp_io	*io = (struct smtp_io *)((char *)job -
			    offsetof(struct smtp_io, hs_job));
	int		 what = 0;

	io->hs_busy = 0;
	if (job->cpu_us >= HS_COSTLY_US)
		io->hs_inline = 1;
	if (io_handshake_result(io, job->rc, &what))
		io_transfer(io, EV_READ, what);
	else {
		io_update(io);
		if (what)
			io->cb(io, what, io->arg);
	}
}

/*
 * The socket is readable again: io_tls_recv may read.  Not while a
 * thread has the handshake (the flag is the thread's then; the step
 * that comes back wanting input has the event armed again).
 */
static void
io_read_event(int fd, short ev, void *arg)
{
	struct smtp_io	*io = arg;

	if (!io->hs_busy)
		io->rd_drained = 0;
	io_event(fd, ev, io);
}

static void
io_event(int fd, short ev, void *arg)
{
	struct smtp_io	*io = arg;
	int		 what = 0;

	if ((ev & EV_READ) && !io->read_wanted) {
		/* Disarmed lazily (see above): now it must go. */
		if (io->read_armed) {
			event_del(&io->ev_read);
			io->read_armed = 0;
		}
		ev &= ~EV_READ;
		if (ev == 0 && io->pending == 0)
			return;
	}
	if (io->pending) {
		/* What smtp_io_flush saw happen. */
		what = io->pending;
		io->pending = 0;
		if (what & SMTP_IO_CLOSED) {
			io->cb(io, what, io->arg);
			return;
		}
	}
	if (io->state == IO_HANDSHAKE) {
		if (io->hs_busy || !(ev & io->hs_want)) {
			/* Not what the handshake waits for. */
			io_update(io);
			if (what)
				io->cb(io, what, io->arg);
			return;
		}
		if (smtp_hspool_threads() > 0 && what == 0 &&
		    !io->hs_inline) {
			/* No events until the step is back. */
			io->hs_busy = 1;
			io->hs_job.tls = io->tls;
			io_update(io);
			smtp_hspool_submit(&io->hs_job);
			return;
		}
		if (!io_handshake_result(io, tls_handshake(io->tls), &what)) {
			io_update(io);
			if (what)
				io->cb(io, what, io->arg);
			return;
		}
		ev = EV_READ;	/* the client may have sent already */
	}
	if (io->state != IO_DEAD)
		io_transfer(io, ev, what);
}
