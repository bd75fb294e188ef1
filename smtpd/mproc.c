/*
 * imsg channels on libevent (see mproc.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mproc.h"
#include "proto.h"

static void	mproc_dispatch(int, short, void *);

/*
 * The read event stays registered for the life of the channel.  Queued
 * output is written from the loop in the same round (the write event is
 * made active by hand: everything queued by this round's callbacks goes
 * out in one sendmsg, with no epoll_ctl and no trip through epoll_wait);
 * only when the socket is full is the write event added to wait for room.
 */
static void
mproc_update(struct mproc *p)
{
	if (!p->active || !imsgbuf_pending(&p->ibuf) ||
	    event_pending(&p->ev_write, EV_WRITE, NULL))
		return;
	if (p->full)
		event_add(&p->ev_write, NULL);
	else
		event_active(&p->ev_write, EV_WRITE, 1);
}

void
mproc_init(struct mproc *p, int fd, enum proc_id self, enum proc_id peer,
    mproc_handler handler, mproc_closer on_close, void *arg)
{
	int	 flags;

	memset(p, 0, sizeof(*p));
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		fatal("mproc_init: fcntl");
	imsgbuf_init(&p->ibuf, fd);
	p->self = self;
	p->peer = peer;
	p->handler = handler;
	p->on_close = on_close;
	p->arg = arg;
	event_set(&p->ev_read, fd, EV_READ | EV_PERSIST, mproc_dispatch, p);
	event_set(&p->ev_write, fd, EV_WRITE, mproc_dispatch, p);
	event_add(&p->ev_read, NULL);
	p->active = 1;
}

/* Stop watching and close the channel; pending output is dropped. */
void
mproc_clear(struct mproc *p)
{
	if (p->active) {
		event_del(&p->ev_read);
		event_del(&p->ev_write);
	}
	p->active = 0;
	imsgbuf_clear(&p->ibuf);
	if (p->ibuf.fd != -1)
		close(p->ibuf.fd);
	p->ibuf.fd = -1;
}

/*
 * Mark the channel broken.  The close happens from the event loop, never
 * under a caller that may still use p.
 */
static void
mproc_break(struct mproc *p, const char *what, const char *detail)
{
	if (p->broken != NULL)
		return;
	if (detail != NULL)
		snprintf(p->why, sizeof(p->why), "%s: %s", what, detail);
	else
		snprintf(p->why, sizeof(p->why), "%s", what);
	p->broken = p->why;
	if (p->on_close == NULL)
		fatalx("channel to %s: %s", proc_name(p->peer), p->why);
	if (p->active)
		event_active(&p->ev_read, EV_READ, 1);
}

void
mproc_send(struct mproc *p, uint32_t type, uint32_t peerid, int fd,
    const struct msg_out *m)
{
	if (m != NULL && m->overflow)
		fatalx("message %s to %s: payload overflow", proto_name(type),
		    proc_name(p->peer));
	if (p->broken != NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	if (imsgbuf_compose(&p->ibuf, type, peerid, fd,
	    m ? m->buf : NULL, m ? m->len : 0) == -1) {
		mproc_break(p, "cannot queue message", p->ibuf.err);
		return;
	}
	mproc_update(p);
}

/* A handler found the payload of im malformed. */
void
mproc_malformed(struct mproc *p, const struct imsg *im,
    const struct msg_in *m)
{
	char	 buf[128];

	snprintf(buf, sizeof(buf), "%s (%s)", proto_name(im->type),
	    m == NULL ? "not expected here" :
	    m->err != NULL ? m->err : "bad value");
	mproc_break(p, "malformed message", buf);
}

/* Send the payload of a received message on, under another type. */
void
mproc_forward(struct mproc *p, uint32_t type, uint32_t peerid,
    const struct imsg *im)
{
	struct msg_out	 m;

	msg_out_init(&m);
	memcpy(m.buf, im->data, im->len);
	m.len = im->len;
	mproc_send(p, type, peerid, -1, &m);
}

/* Write synchronously what is queued (used right before exiting). */
int
mproc_flush(struct mproc *p)
{
	int	 flags;

	if ((flags = fcntl(p->ibuf.fd, F_GETFL)) != -1)
		(void)fcntl(p->ibuf.fd, F_SETFL, flags & ~O_NONBLOCK);
	while (imsgbuf_pending(&p->ibuf))
		if (imsgbuf_write(&p->ibuf) == -1)
			return -1;
	return 0;
}

static void
mproc_closed(struct mproc *p)
{
	if (p->active) {
		event_del(&p->ev_read);
		event_del(&p->ev_write);
	}
	p->active = 0;
	p->on_close(p, p->broken);
}

static void
mproc_dispatch(int fd, short ev, void *arg)
{
	struct mproc	*p = arg;
	struct imsg	 im;
	const char	*why;
	ssize_t		 n;
	int		 r;

	if (p->broken != NULL) {
		mproc_closed(p);
		return;
	}
	if (ev & EV_READ) {
		n = imsgbuf_read(&p->ibuf);
		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			mproc_break(p, "read", errno == EBADMSG ?
			    p->ibuf.err : strerror(errno));
			mproc_closed(p);
			return;
		}
		if (n == 0) {
			mproc_break(p, "connection closed", NULL);
			mproc_closed(p);
			return;
		}
		while (p->broken == NULL &&
		    (r = imsgbuf_get(&p->ibuf, &im)) != 0) {
			if (r == -1) {
				mproc_break(p, "malformed stream",
				    p->ibuf.err);
				break;
			}
			if (proto_check(&im, p->peer, p->self, &why) == -1) {
				if (im.fd != -1)
					close(im.fd);
				mproc_break(p, why, proto_name(im.type));
				break;
			}
			p->handler(p, &im);
		}
		if (p->broken != NULL) {
			mproc_closed(p);
			return;
		}
	}
	if (ev & EV_WRITE) {
		if (imsgbuf_write(&p->ibuf) == -1) {
			mproc_break(p, "write", strerror(errno));
			mproc_closed(p);
			return;
		}
		/* What is left waits for room (see mproc_update). */
		p->full = imsgbuf_pending(&p->ibuf);
	}
	mproc_update(p);
}
