/*
 * imsg framing and fd passing.  See imsg.h for the wire format.
 *
 * A message with an fd always starts its own sendmsg(), and the kernel
 * hands the fd over with the read that takes the first bytes of that
 * sendmsg (an AF_UNIX stream read may also take earlier, fd-less data,
 * and stops after the fd-carrying chunk).  So each received fd remembers
 * the stream range of the read it came with, and the message with
 * IMSG_FLAG_FD must start inside that range.  A message without the flag
 * that reaches the end of the range leaves no room for the flagged one:
 * the fd was smuggled on a message that takes none.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

#define IMSG_WRITEV_MAX	64

void
imsgbuf_init(struct imsgbuf *ib, int fd)
{
	memset(ib, 0, sizeof(*ib));
	ib->fd = fd;
	ib->pid = getpid();
	TAILQ_INIT(&ib->wq);
}

void
imsgbuf_clear(struct imsgbuf *ib)
{
	struct imsg_wbuf	*wb;
	size_t			 i;

	while ((wb = TAILQ_FIRST(&ib->wq)) != NULL) {
		TAILQ_REMOVE(&ib->wq, wb, entry);
		if (wb->fd != -1)
			close(wb->fd);
		free(wb);
	}
	ib->wqlen = 0;
	for (i = 0; i < ib->nfdq; i++)
		close(ib->fdq[i].fd);
	ib->nfdq = 0;
}

static void
imsgbuf_compact(struct imsgbuf *ib)
{
	if (ib->roff == 0)
		return;
	memmove(ib->rbuf, ib->rbuf + ib->roff, ib->rlen - ib->roff);
	ib->rlen -= ib->roff;
	ib->rpos += ib->roff;
	ib->roff = 0;
}

/*
 * Read what the socket has.  Returns the number of bytes read, 0 at end of
 * stream, -1 on error (errno EAGAIN/EINTR: try again later; otherwise
 * ib->err says why).
 */
ssize_t
imsgbuf_read(struct imsgbuf *ib)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int) * IMSG_FDQ_MAX)];
	}		 cbuf;
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	ssize_t		 n;
	size_t		 i, nfd;
	int		*fds, bad = 0;

	imsgbuf_compact(ib);
	if (ib->rlen == sizeof(ib->rbuf)) {
		ib->err = "read buffer full";
		errno = ENOBUFS;
		return -1;
	}
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = ib->rbuf + ib->rlen;
	iov.iov_len = sizeof(ib->rbuf) - ib->rlen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);

	n = recvmsg(ib->fd, &mh, MSG_CMSG_CLOEXEC);
	if (n == -1) {
		ib->err = "recvmsg";
		return -1;
	}
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS) {
			bad = 1;
			continue;
		}
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fds = (int *)CMSG_DATA(cm);
		for (i = 0; i < nfd; i++) {
			/* An fd needs a byte of data to travel with. */
			if (ib->nfdq == IMSG_FDQ_MAX || n == 0) {
				close(fds[i]);
				bad = 1;
				continue;
			}
			ib->fdq[ib->nfdq].fd = fds[i];
			ib->fdq[ib->nfdq].start = ib->rpos + ib->rlen;
			ib->fdq[ib->nfdq].end = ib->rpos + ib->rlen + n;
			ib->nfdq++;
		}
	}
	if (mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC))
		bad = 1;
	if (bad) {
		ib->err = "bad ancillary data";
		errno = EBADMSG;
		return -1;
	}
	ib->rlen += n;
	return n;
}

static int
imsgbuf_fail(struct imsgbuf *ib, const char *why)
{
	ib->err = why;
	errno = EBADMSG;
	return -1;
}

/*
 * Take the next complete message.  Returns 1 and fills *im, 0 when no
 * complete message is buffered, -1 when the stream is malformed (ib->err
 * says how; the channel is unusable afterwards).
 */
int
imsgbuf_get(struct imsgbuf *ib, struct imsg *im)
{
	const uint8_t	*p = ib->rbuf + ib->roff;
	size_t		 avail = ib->rlen - ib->roff;
	uint64_t	 pos = ib->rpos + ib->roff;
	uint16_t	 len, flags;
	size_t		 i;

	if (avail < IMSG_HDR_SIZE)
		return 0;
	memcpy(&im->type, p, 4);
	memcpy(&len, p + 4, 2);
	memcpy(&flags, p + 6, 2);
	memcpy(&im->peerid, p + 8, 4);
	memcpy(&im->pid, p + 12, 4);
	if (len < IMSG_HDR_SIZE)
		return imsgbuf_fail(ib, "length shorter than header");
	if (len > IMSG_MAX_SIZE)
		return imsgbuf_fail(ib, "length above maximum");
	if (flags & ~IMSG_FLAG_FD)
		return imsgbuf_fail(ib, "unknown header flags");
	if (avail < len)
		return 0;
	/* The range an fd came with is behind us and nobody claimed it. */
	if (ib->nfdq > 0 && pos >= ib->fdq[0].end)
		return imsgbuf_fail(ib, "fd without a message");
	im->fd = -1;
	if (flags & IMSG_FLAG_FD) {
		if (ib->nfdq == 0 || pos < ib->fdq[0].start)
			return imsgbuf_fail(ib, "fd flag without fd");
		im->fd = ib->fdq[0].fd;
		for (i = 1; i < ib->nfdq; i++)
			ib->fdq[i - 1] = ib->fdq[i];
		ib->nfdq--;
	} else if (ib->nfdq > 0 && pos >= ib->fdq[0].start &&
	    pos + len >= ib->fdq[0].end)
		return imsgbuf_fail(ib, "fd on a message without fd flag");
	im->data = p + IMSG_HDR_SIZE;
	im->len = len - IMSG_HDR_SIZE;
	ib->roff += len;
	return 1;
}

/*
 * Queue one message.  fd (-1 for none) is owned by the buffer from now on
 * and closed once sent.  Returns -1 (ib->err) when the payload is too long
 * or the write queue is over its cap.
 */
int
imsgbuf_compose(struct imsgbuf *ib, uint32_t type, uint32_t peerid, int fd,
    const void *data, size_t len)
{
	struct imsg_wbuf	*wb;
	uint16_t		 wlen, flags = 0;
	uint32_t		 pid = (uint32_t)ib->pid;

	if (len > IMSG_MAX_SIZE - IMSG_HDR_SIZE) {
		ib->err = "payload too long";
		goto fail;
	}
	if (ib->wqlen + IMSG_HDR_SIZE + len > IMSG_WQ_MAX) {
		ib->err = "write queue full";
		goto fail;
	}
	if ((wb = malloc(sizeof(*wb) + IMSG_HDR_SIZE + len)) == NULL) {
		ib->err = "out of memory";
		goto fail;
	}
	wlen = (uint16_t)(IMSG_HDR_SIZE + len);
	if (fd != -1)
		flags |= IMSG_FLAG_FD;
	memcpy(wb->buf, &type, 4);
	memcpy(wb->buf + 4, &wlen, 2);
	memcpy(wb->buf + 6, &flags, 2);
	memcpy(wb->buf + 8, &peerid, 4);
	memcpy(wb->buf + 12, &pid, 4);
	if (len > 0)
		memcpy(wb->buf + IMSG_HDR_SIZE, data, len);
	wb->len = wlen;
	wb->off = 0;
	wb->fd = fd;
	TAILQ_INSERT_TAIL(&ib->wq, wb, entry);
	ib->wqlen += wlen;
	return 0;
fail:
	if (fd != -1)
		close(fd);
	errno = ENOBUFS;
	return -1;
}

int
imsgbuf_pending(const struct imsgbuf *ib)
{
	return !TAILQ_EMPTY(&ib->wq);
}

/*
 * Write as much as the socket takes.  A message carrying an fd always
 * starts its own sendmsg() so the fd arrives with its first byte.
 * Returns 0 (done, or the socket is full), -1 on error.
 */
int
imsgbuf_write(struct imsgbuf *ib)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int))];
	}			 cbuf;
	struct iovec		 iov[IMSG_WRITEV_MAX];
	struct msghdr		 mh;
	struct cmsghdr		*cm;
	struct imsg_wbuf	*wb, *first;
	ssize_t			 n;
	size_t			 cnt, left;

	while ((first = TAILQ_FIRST(&ib->wq)) != NULL) {
		memset(&mh, 0, sizeof(mh));
		cnt = 0;
		TAILQ_FOREACH(wb, &ib->wq, entry) {
			if (cnt == IMSG_WRITEV_MAX ||
			    (cnt > 0 && wb->fd != -1))
				break;
			iov[cnt].iov_base = wb->buf + wb->off;
			iov[cnt].iov_len = wb->len - wb->off;
			cnt++;
		}
		mh.msg_iov = iov;
		mh.msg_iovlen = cnt;
		if (first->fd != -1 && first->off == 0) {
			memset(&cbuf, 0, sizeof(cbuf));
			mh.msg_control = cbuf.buf;
			mh.msg_controllen = sizeof(cbuf.buf);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			memcpy(CMSG_DATA(cm), &first->fd, sizeof(int));
		}
		n = sendmsg(ib->fd, &mh, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return 0;
			ib->err = "sendmsg";
			return -1;
		}
		if (first->fd != -1 && n > 0) {
			close(first->fd);
			first->fd = -1;
		}
		left = (size_t)n;
		while (left > 0 && (wb = TAILQ_FIRST(&ib->wq)) != NULL) {
			if (left < wb->len - wb->off) {
				wb->off += left;
				break;
			}
			left -= wb->len - wb->off;
			ib->wqlen -= wb->len;
			TAILQ_REMOVE(&ib->wq, wb, entry);
			free(wb);
		}
	}
	return 0;
}
