/*
 * imsg framing and fd passing over real socketpairs, and the protocol
 * table.  Malformed streams are crafted as raw bytes (write(), sendmsg())
 * the way a compromised child or a local user would send them
 * (SECURITY.md I1, I2).  The typed payload tests are in test_msg.c.
 *
 * Every test runs on a fresh socketpair whose teardown fails when a file
 * descriptor leaked, so "rejected cleanly" includes "closed what came in".
 */
#include <sys/socket.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "imsg.h"
#include "msg.h"
#include "proto.h"

#define RAW_FDS_MAX	32		/* fds one raw_send() may pass */
#define PIPES_MAX	16		/* pipes one test may hold open */
#define PUMP_ROUNDS	100000
#define FRAME_PEERID	0x01020304
#define FRAME_PID	0x0a0b0c0d

struct pair {
	int		 sp[2];
	struct imsgbuf	 w;		/* writes on sp[0] */
	struct imsgbuf	 r;		/* reads on sp[1] */
	int		 pipes[PIPES_MAX][2];
	int		 nfds;		/* fds open before the test */
	const void	*row;		/* the table row a test runs */
};

static int
count_fds(void)
{
	DIR	*d;
	int	 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static struct pair *
pair_open(const void *row)
{
	struct pair	*p;
	int		 i;

	p = calloc(1, sizeof(*p));
	assert_non_null(p);
	p->nfds = count_fds();
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    p->sp), 0);
	imsgbuf_init(&p->w, p->sp[0]);
	imsgbuf_init(&p->r, p->sp[1]);
	for (i = 0; i < PIPES_MAX; i++)
		p->pipes[i][0] = p->pipes[i][1] = -1;
	p->row = row;
	return p;
}

/* Close everything the pair owns; returns how many fds leaked. */
static int
pair_close(struct pair *p)
{
	int	 i, j, leaked;

	imsgbuf_clear(&p->w);
	imsgbuf_clear(&p->r);
	for (i = 0; i < 2; i++)
		if (p->sp[i] != -1)
			close(p->sp[i]);
	for (i = 0; i < PIPES_MAX; i++)
		for (j = 0; j < 2; j++)
			if (p->pipes[i][j] != -1)
				close(p->pipes[i][j]);
	leaked = count_fds() - p->nfds;
	free(p);
	return leaked;
}

static int
pair_setup(void **state)
{
	*state = pair_open(*state);
	return 0;
}

static int
pair_teardown(void **state)
{
	int	 leaked;

	if ((leaked = pair_close(*state)) != 0) {
		print_error("%d file descriptors leaked\n", leaked);
		return -1;
	}
	return 0;
}

/* Write a raw header and payload into buf; returns the bytes written. */
static size_t
frame(uint8_t *buf, uint32_t type, uint16_t len, uint16_t flags,
    const void *payload, size_t plen)
{
	uint32_t	 peerid = FRAME_PEERID, pid = FRAME_PID;

	memcpy(buf, &type, 4);
	memcpy(buf + 4, &len, 2);
	memcpy(buf + 6, &flags, 2);
	memcpy(buf + 8, &peerid, 4);
	memcpy(buf + 12, &pid, 4);
	if (plen > 0)
		memcpy(buf + IMSG_HDR_SIZE, payload, plen);
	return IMSG_HDR_SIZE + plen;
}

/* One sendmsg() of len bytes with nfds fresh fds on /dev/null. */
static void
raw_send(int s, const void *buf, size_t len, int nfds)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int) * RAW_FDS_MAX)];
	}		 cbuf;
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	int		 fds[RAW_FDS_MAX], i;

	assert_in_range(nfds, 0, RAW_FDS_MAX);
	memset(&mh, 0, sizeof(mh));
	memset(&cbuf, 0, sizeof(cbuf));
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	for (i = 0; i < nfds; i++)
		assert_int_not_equal(fds[i] = open("/dev/null", O_RDONLY), -1);
	if (nfds > 0) {
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	assert_int_equal(sendmsg(s, &mh, 0), (ssize_t)len);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

/*
 * Move bytes from p->w to p->r until the reader has a message (1), fails
 * (-1, p->r.err says why) or nothing more is coming (0).
 */
static int
pump(struct pair *p, struct imsg *im)
{
	ssize_t	 n;
	int	 i, r;

	for (i = 0; i < PUMP_ROUNDS; i++) {
		if ((r = imsgbuf_get(&p->r, im)) != 0)
			return r;
		assert_int_equal(imsgbuf_write(&p->w), 0);
		n = imsgbuf_read(&p->r);
		if (n == 0)
			return 0;
		if (n == -1 && errno != EAGAIN)
			return -1;
		if (n == -1 && !imsgbuf_pending(&p->w))
			return 0;
	}
	fail_msg("pump: still moving after %d rounds", PUMP_ROUNDS);
	return -1;
}

static void
recv_msg(struct pair *p, struct imsg *im)
{
	int	 r;

	if ((r = pump(p, im)) != 1)
		fail_msg("expected a message, got %d (%s)", r,
		    p->r.err != NULL ? p->r.err : "no error");
}

/*
 * Take messages until the stream ends or fails; returns the reason of the
 * failure, or NULL when the stream ended cleanly.
 */
static const char *
recv_until_fail(struct pair *p)
{
	struct imsg	 im;
	int		 r;

	while ((r = pump(p, &im)) == 1)
		if (im.fd != -1)
			close(im.fd);
	return r == -1 ? p->r.err : NULL;
}

static void
assert_fd_closed(int fd)
{
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
}

static int
reason_is(const char *got, const char *want)
{
	if (got == NULL || want == NULL)
		return got == want;
	return strcmp(got, want) == 0;
}

/* Stream framing. */

static void
test_many_small_messages_in_one_write(void **state)
{
	struct pair	*p = *state;
	enum { N = 1000 };
	static uint8_t	 buf[N * (IMSG_HDR_SIZE + 5)];
	struct msg_out	 m;
	struct msg_in	 in;
	struct imsg	 im;
	size_t		 len = 0;
	uint32_t	 i, v;

	for (i = 0; i < N; i++) {
		msg_out_init(&m);
		m_add_u32(&m, i);
		len += frame(buf + len, IMSG_CONTROL_STATUS_GET,
		    (uint16_t)(IMSG_HDR_SIZE + m.len), 0, m.buf, m.len);
	}
	assert_int_equal(write(p->sp[0], buf, len), (ssize_t)len);
	for (i = 0; i < N; i++) {
		recv_msg(p, &im);
		assert_int_equal(im.type, IMSG_CONTROL_STATUS_GET);
		assert_int_equal(im.peerid, FRAME_PEERID);
		assert_int_equal(im.pid, FRAME_PID);
		assert_int_equal(im.fd, -1);
		msg_in_init(&in, &im);
		assert_int_equal(m_get_u32(&in, &v), 0);
		assert_int_equal(m_end(&in), 0);
		assert_int_equal(v, i);
	}
	assert_int_equal(pump(p, &im), 0);
}

static void
test_one_message_in_one_byte_writes(void **state)
{
	struct pair	*p = *state;
	uint8_t		 buf[IMSG_HDR_SIZE + 64];
	struct msg_out	 m;
	struct msg_in	 in;
	struct imsg	 im;
	char		 s[16];
	size_t		 len, i;

	msg_out_init(&m);
	m_add_string(&m, "hello");
	m_add_u8(&m, 7);
	len = frame(buf, IMSG_CONTROL_FAIL, (uint16_t)(IMSG_HDR_SIZE + m.len),
	    0, m.buf, m.len);
	for (i = 0; i < len; i++) {
		assert_int_equal(pump(p, &im), 0);
		assert_int_equal(write(p->sp[0], buf + i, 1), 1);
	}
	recv_msg(p, &im);
	assert_int_equal(im.len, m.len);
	msg_in_init(&in, &im);
	assert_int_equal(m_get_string(&in, s, sizeof(s)), 0);
	assert_string_equal(s, "hello");
	assert_int_equal(m_get_u8(&in, (uint8_t *)s), 0);
	assert_int_equal(m_end(&in), 0);
	assert_int_equal(pump(p, &im), 0);
}

static void
test_message_of_max_size(void **state)
{
	struct pair	*p = *state;
	static uint8_t	 payload[MSG_PAYLOAD_MAX];
	struct imsg	 im;
	size_t		 i;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	assert_int_equal(imsgbuf_compose(&p->w, IMSG_CONTROL_OK, 42, -1,
	    payload, sizeof(payload)), 0);
	recv_msg(p, &im);
	assert_int_equal(im.type, IMSG_CONTROL_OK);
	assert_int_equal(im.peerid, 42);
	assert_int_equal(im.pid, (uint32_t)getpid());
	assert_int_equal(im.len, MSG_PAYLOAD_MAX);
	assert_memory_equal(im.data, payload, sizeof(payload));
}

static void
test_compose_refuses_oversized_payload(void **state)
{
	struct pair	*p = *state;
	static uint8_t	 payload[MSG_PAYLOAD_MAX + 1];
	int		 pfd[2];

	assert_int_equal(pipe(pfd), 0);
	p->pipes[0][0] = pfd[0];
	assert_int_equal(imsgbuf_compose(&p->w, IMSG_CONTROL_OK, 0, pfd[1],
	    payload, sizeof(payload)), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_string_equal(p->w.err, "payload too long");
	assert_false(imsgbuf_pending(&p->w));
	/* The fd was handed over, so it is closed even on failure. */
	assert_fd_closed(pfd[1]);
}

/* I2: a peer that goes away in the middle of a message. */
static void
test_end_of_stream(void **state)
{
	struct pair	*p = *state;
	uint8_t		 buf[IMSG_HDR_SIZE];
	struct imsg	 im;

	frame(buf, IMSG_CTL_STOP, IMSG_HDR_SIZE + 5, 0, NULL, 0);
	assert_int_equal(write(p->sp[0], buf, sizeof(buf)), sizeof(buf));
	close(p->sp[0]);
	p->sp[0] = -1;
	assert_int_equal(imsgbuf_read(&p->r), sizeof(buf));
	assert_int_equal(imsgbuf_read(&p->r), 0);
	assert_int_equal(imsgbuf_get(&p->r, &im), 0);
}

/* The buffers' caps, and a peer that went away. */
static void
test_read_buffer_full(void **state)
{
	struct pair	*p = *state;
	static uint8_t	 buf[2 * IMSG_MAX_SIZE];

	frame(buf, IMSG_CONTROL_OK, IMSG_MAX_SIZE, 0, NULL, 0);
	frame(buf + IMSG_MAX_SIZE, IMSG_CONTROL_OK, IMSG_MAX_SIZE, 0, NULL, 0);
	assert_int_equal(write(p->sp[0], buf, sizeof(buf)), sizeof(buf));
	while (imsgbuf_read(&p->r) > 0)
		;
	assert_int_equal(errno, ENOBUFS);
	assert_string_equal(p->r.err, "read buffer full");
}

static void
test_write_queue_full(void **state)
{
	struct pair	*p = *state;
	static uint8_t	 payload[MSG_PAYLOAD_MAX];
	int		 i, pfd[2];

	for (i = 0; i < IMSG_WQ_MAX / IMSG_MAX_SIZE; i++)
		assert_int_equal(imsgbuf_compose(&p->w, IMSG_CONTROL_OK, 0,
		    -1, payload, sizeof(payload)), 0);
	assert_int_equal(pipe(pfd), 0);
	p->pipes[0][0] = pfd[0];
	assert_int_equal(imsgbuf_compose(&p->w, IMSG_PARENT_CONTROL_SOCKET,
	    0, pfd[1], NULL, 0), -1);
	assert_string_equal(p->w.err, "write queue full");
	assert_fd_closed(pfd[1]);
}

/* The queued fd stays owned by the buffer; the teardown's clear closes it. */
static void
test_write_to_closed_peer(void **state)
{
	struct pair	*p = *state;
	int		 pfd[2];

	assert_int_equal(pipe(pfd), 0);
	p->pipes[0][0] = pfd[0];
	close(p->sp[1]);
	p->sp[1] = -1;
	assert_int_equal(imsgbuf_compose(&p->w, IMSG_PARENT_CONTROL_SOCKET, 0,
	    pfd[1], NULL, 0), 0);
	assert_int_equal(imsgbuf_write(&p->w), -1);
	assert_string_equal(p->w.err, "sendmsg");
	assert_true(imsgbuf_pending(&p->w));
}

/* fd passing. */

static void
test_fd_through_pipe(void **state)
{
	struct pair	*p = *state;
	struct imsg	 im;
	char		 buf[8];
	int		 pfd[2];

	assert_int_equal(pipe(pfd), 0);
	p->pipes[0][0] = pfd[0];
	assert_int_equal(imsgbuf_compose(&p->w, IMSG_PARENT_CONTROL_SOCKET, 0,
	    pfd[1], NULL, 0), 0);
	assert_int_equal(imsgbuf_write(&p->w), 0);
	assert_false(imsgbuf_pending(&p->w));
	assert_fd_closed(pfd[1]);
	recv_msg(p, &im);
	assert_int_equal(im.len, 0);
	assert_int_not_equal(im.fd, -1);
	assert_true(fcntl(im.fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(im.fd, "ping", 4), 4);
	close(im.fd);
	assert_int_equal(read(pfd[0], buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "ping", 4);
	/* No other copy of the write end is left open anywhere. */
	assert_int_equal(read(pfd[0], buf, sizeof(buf)), 0);
}

/*
 * A sequence of messages: F carries an fd and an int, f an fd alone,
 * '.' an int alone, L a full-size message.  Each fd is a pipe's write end;
 * the receiver writes the message's index through it.
 */
struct fd_row {
	const char	*pattern;
	int		 batched;	/* queue everything, then read */
	int		 smallbuf;	/* force partial writes */
};

static const struct fd_row fd_one_at_a_time = { "F.f..FF.", 0, 0 };
static const struct fd_row fd_consecutive = { "FFfF", 1, 0 };
static const struct fd_row fd_after_plain = { ".f.F", 1, 0 };
static const struct fd_row fd_interleaved = { "F.f..FF.", 1, 0 };
static const struct fd_row fd_large_lockstep = { "LFLF", 0, 1 };
static const struct fd_row fd_after_large = { "LLLF", 1, 1 };

static void
fd_compose(struct pair *p, char c, uint32_t i)
{
	static uint8_t	 big[MSG_PAYLOAD_MAX - 3];
	struct msg_out	 m;
	int		 fd = -1;

	msg_out_init(&m);
	if (c == 'F' || c == 'f') {
		assert_int_equal(pipe(p->pipes[i]), 0);
		fd = p->pipes[i][1];
		p->pipes[i][1] = -1;
	}
	if (c == 'L') {
		memset(big, (int)i, sizeof(big));
		m_add_data(&m, big, sizeof(big));
	} else if (c != 'f')
		m_add_int(&m, (int)i);
	assert_int_equal(imsgbuf_compose(&p->w, IMSG_PARENT_LISTENER, i, fd,
	    m.buf, m.len), 0);
}

static void
fd_check(struct pair *p, char c, uint32_t i)
{
	struct msg_in	 in;
	struct imsg	 im;
	uint8_t		 b;
	int		 v;

	recv_msg(p, &im);
	assert_int_equal(im.peerid, i);
	if (c == 'L')
		assert_int_equal(im.len, MSG_PAYLOAD_MAX);
	else if (c == 'f')
		assert_int_equal(im.len, 0);
	else {
		msg_in_init(&in, &im);
		assert_int_equal(m_get_int(&in, &v), 0);
		assert_int_equal(m_end(&in), 0);
		assert_int_equal(v, i);
	}
	if (c != 'F' && c != 'f') {
		assert_int_equal(im.fd, -1);
		return;
	}
	assert_int_not_equal(im.fd, -1);
	b = (uint8_t)i;
	assert_int_equal(write(im.fd, &b, 1), 1);
	close(im.fd);
	assert_int_equal(read(p->pipes[i][0], &b, 1), 1);
	assert_int_equal(b, i);
	assert_int_equal(read(p->pipes[i][0], &b, 1), 0);
}

static void
test_fd_pattern(void **state)
{
	struct pair		*p = *state;
	const struct fd_row	*row = p->row;
	struct imsg		 im;
	uint32_t		 i, n = (uint32_t)strlen(row->pattern);
	int			 sz = 4096;

	assert_true(n <= PIPES_MAX);
	if (row->smallbuf) {
		assert_int_equal(setsockopt(p->sp[0], SOL_SOCKET, SO_SNDBUF,
		    &sz, sizeof(sz)), 0);
		assert_int_equal(setsockopt(p->sp[1], SOL_SOCKET, SO_RCVBUF,
		    &sz, sizeof(sz)), 0);
	}
	for (i = 0; i < n; i++) {
		fd_compose(p, row->pattern[i], i);
		if (row->smallbuf && i == 0) {
			assert_int_equal(imsgbuf_write(&p->w), 0);
			assert_true(imsgbuf_pending(&p->w));
		}
		if (!row->batched)
			fd_check(p, row->pattern[i], i);
	}
	for (i = 0; row->batched && i < n; i++)
		fd_check(p, row->pattern[i], i);
	assert_int_equal(pump(p, &im), 0);
}

/* On a stream socket the kernel drops an fd sent with no data. */
static void
test_fd_with_zero_bytes_is_dropped(void **state)
{
	struct pair	*p = *state;
	uint8_t		 buf[IMSG_HDR_SIZE];
	struct imsg	 im;

	frame(buf, IMSG_CTL_STOP, IMSG_HDR_SIZE, 0, NULL, 0);
	raw_send(p->sp[0], buf, 0, 1);
	raw_send(p->sp[0], buf, sizeof(buf), 0);
	recv_msg(p, &im);
	assert_int_equal(im.fd, -1);
	assert_int_equal(pump(p, &im), 0);
}

/* One fd per byte: the queue of unclaimed fds fills up. */
static void
test_fd_queue_overflow(void **state)
{
	struct pair	*p = *state;
	uint8_t		 buf[IMSG_HDR_SIZE + 32];
	size_t		 i;

	memset(buf, 0, sizeof(buf));
	frame(buf, IMSG_PARENT_LISTENER, sizeof(buf), IMSG_FLAG_FD, NULL, 0);
	for (i = 0; i <= IMSG_FDQ_MAX; i++)
		raw_send(p->sp[0], buf + i, 1, 1);
	assert_string_equal(recv_until_fail(p), "bad ancillary data");
}

/* Malformed frames (I1, I2), each followed by its reason. */
struct bad_frame {
	const char	*name;
	uint16_t	 len;		/* header length field */
	uint16_t	 flags;
	size_t		 plen;		/* payload bytes sent */
	int		 nfds;		/* fds sent with the frame */
	int		 next;		/* a valid message follows */
	const char	*why;		/* NULL: the stream is fine */
};

static const struct bad_frame bad_frames[] = {
	{ "length 0", 0, 0, 0, 0, 0, "length shorter than header" },
	{ "length 15", 15, 0, 0, 0, 0, "length shorter than header" },
	{ "length max + 1", IMSG_MAX_SIZE + 1, 0, 0, 0, 0,
	    "length above maximum" },
	{ "length 0xffff", 0xffff, 0, 0, 0, 0, "length above maximum" },
	{ "flag 0x0002", 16, 0x0002, 0, 0, 0, "unknown header flags" },
	{ "flag 0x8000", 16, 0x8000, 0, 0, 0, "unknown header flags" },
	{ "fd flag and 0x0004", 16, IMSG_FLAG_FD | 0x0004, 0, 1, 0,
	    "unknown header flags" },
	{ "fd flag, no fd", 16, IMSG_FLAG_FD, 0, 0, 0, "fd flag without fd" },
	{ "fd flag, no fd, payload", 20, IMSG_FLAG_FD, 4, 0, 1,
	    "fd flag without fd" },
	{ "fd without flag", 20, 0, 4, 1, 0,
	    "fd on a message without fd flag" },
	{ "fd without flag, empty payload", 16, 0, 0, 1, 0,
	    "fd on a message without fd flag" },
	{ "two fds on one message", 16, IMSG_FLAG_FD, 0, 2, 1,
	    "fd without a message" },
	{ "more fds than the queue holds", 16, IMSG_FLAG_FD, 0,
	    IMSG_FDQ_MAX + 1, 0, "bad ancillary data" },
	/* Controls: the same shapes, well-formed. */
	{ "fd with flag, empty payload", 16, IMSG_FLAG_FD, 0, 1, 1, NULL },
	{ "length max", IMSG_MAX_SIZE, 0, MSG_PAYLOAD_MAX, 0, 1, NULL },
};

static void
test_bad_frames(void **state)
{
	static uint8_t		 buf[IMSG_MAX_SIZE], zero[IMSG_MAX_SIZE];
	const struct bad_frame	*row;
	struct pair		*p;
	const char		*got;
	size_t			 i, len;
	int			 failed = 0, leaked;

	for (i = 0; i < sizeof(bad_frames) / sizeof(bad_frames[0]); i++) {
		row = &bad_frames[i];
		p = pair_open(row);
		len = frame(buf, IMSG_CTL_STOP, row->len, row->flags, zero,
		    row->plen);
		raw_send(p->sp[0], buf, len, row->nfds);
		if (row->next) {
			len = frame(buf, IMSG_CTL_STOP, IMSG_HDR_SIZE, 0,
			    NULL, 0);
			raw_send(p->sp[0], buf, len, 0);
		}
		got = recv_until_fail(p);
		leaked = pair_close(p);
		if (leaked != 0 || !reason_is(got, row->why)) {
			print_error("row \"%s\": got \"%s\", want \"%s\", "
			    "%d fds leaked\n", row->name, got ? got : "(none)",
			    row->why ? row->why : "(none)", leaked);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

/* The protocol table. */
struct proto_row {
	uint32_t	 type;
	enum proc_id	 from;
	enum proc_id	 to;
	int		 fd;
	const char	*why;		/* NULL: allowed */
};

static const struct proto_row proto_rows[] = {
	{ IMSG_CHILD_READY, PROC_SMTP, PROC_PARENT, 0, NULL },
	{ IMSG_CHILD_READY, PROC_LKA, PROC_PARENT, 0, NULL },
	{ IMSG_CHILD_READY, PROC_QUEUE, PROC_PARENT, 0, NULL },
	{ IMSG_CHILD_READY, PROC_MTA, PROC_PARENT, 0, NULL },
	{ IMSG_CHILD_READY, PROC_SIGNER, PROC_PARENT, 0, NULL },
	{ IMSG_CHILD_READY, PROC_CONTROL, PROC_PARENT, 0, NULL },
	{ IMSG_PARENT_CONTROL_SOCKET, PROC_PARENT, PROC_CONTROL, 1, NULL },
	{ IMSG_PARENT_LISTENER, PROC_PARENT, PROC_SMTP, 1, NULL },
	{ IMSG_PARENT_VERBOSE_SET, PROC_PARENT, PROC_SMTP, 0, NULL },
	{ IMSG_PARENT_VERBOSE_SET, PROC_PARENT, PROC_SIGNER, 0, NULL },
	{ IMSG_PARENT_VERBOSE_SET, PROC_PARENT, PROC_CONTROL, 0, NULL },
	{ IMSG_CONTROL_STATUS_GET, PROC_CONTROL, PROC_PARENT, 0, NULL },
	{ IMSG_PARENT_STATUS_RESULT, PROC_PARENT, PROC_CONTROL, 0, NULL },
	{ IMSG_CONTROL_VERBOSE_SET, PROC_CONTROL, PROC_PARENT, 0, NULL },
	{ IMSG_CONTROL_STOP, PROC_CONTROL, PROC_PARENT, 0, NULL },
	{ IMSG_CTL_STATUS_SHOW, PROC_CLIENT, PROC_CONTROL, 0, NULL },
	{ IMSG_CTL_VERBOSE_SET, PROC_CLIENT, PROC_CONTROL, 0, NULL },
	{ IMSG_CTL_STOP, PROC_CLIENT, PROC_CONTROL, 0, NULL },
	{ IMSG_CONTROL_OK, PROC_CONTROL, PROC_CLIENT, 0, NULL },
	{ IMSG_CONTROL_FAIL, PROC_CONTROL, PROC_CLIENT, 0, NULL },
	{ IMSG_CONTROL_STATUS_RESULT, PROC_CONTROL, PROC_CLIENT, 0, NULL },
	{ IMSG_CTL_COMMAND, PROC_CLIENT, PROC_CONTROL, 0, NULL },
	{ IMSG_CONTROL_COMMAND, PROC_CONTROL, PROC_LKA, 0, NULL },
	{ IMSG_LKA_ROW, PROC_LKA, PROC_CONTROL, 0, NULL },
	{ IMSG_LKA_DONE, PROC_LKA, PROC_CONTROL, 0, NULL },
	{ IMSG_CONTROL_ROW, PROC_CONTROL, PROC_CLIENT, 0, NULL },
	{ IMSG_CONTROL_DONE, PROC_CONTROL, PROC_CLIENT, 0, NULL },
	{ IMSG_LKA_DKIM_KEYGEN, PROC_LKA, PROC_SIGNER, 0, NULL },
	{ IMSG_SIGNER_DKIM_KEY, PROC_SIGNER, PROC_LKA, 0, NULL },
	{ IMSG_LKA_DKIM_KEYDEL, PROC_LKA, PROC_SIGNER, 0, NULL },
	{ IMSG_MTA_MX_LOOKUP, PROC_MTA, PROC_LKA, 0, NULL },
	{ IMSG_LKA_MX_RESULT, PROC_LKA, PROC_MTA, 0, NULL },
	{ IMSG_SMTP_AUTH_CHECK, PROC_SMTP, PROC_LKA, 0, NULL },
	{ IMSG_SMTP_ADDR_CHECK, PROC_SMTP, PROC_LKA, 0, NULL },
	{ IMSG_LKA_AUTH_RESULT, PROC_LKA, PROC_SMTP, 0, NULL },
	{ IMSG_SMTP_SENDER_CHECK, PROC_SMTP, PROC_LKA, 0, NULL },
	{ IMSG_LKA_SENDER_RESULT, PROC_LKA, PROC_SMTP, 0, NULL },
	{ IMSG_SMTP_MESSAGE_CREATE, PROC_SMTP, PROC_QUEUE, 0, NULL },
	{ IMSG_QUEUE_MESSAGE_FILE, PROC_QUEUE, PROC_SMTP, 1, NULL },
	{ IMSG_QUEUE_MESSAGE_REFUSED, PROC_QUEUE, PROC_SMTP, 0, NULL },
	{ IMSG_SMTP_MESSAGE_ENVELOPE, PROC_SMTP, PROC_QUEUE, 0, NULL },
	{ IMSG_SMTP_MESSAGE_RCPT, PROC_SMTP, PROC_QUEUE, 0, NULL },
	{ IMSG_SMTP_MESSAGE_COMMIT, PROC_SMTP, PROC_QUEUE, 0, NULL },
	{ IMSG_QUEUE_MESSAGE_COMMITTED, PROC_QUEUE, PROC_SMTP, 0, NULL },
	{ IMSG_SMTP_MESSAGE_ROLLBACK, PROC_SMTP, PROC_QUEUE, 0, NULL },
	{ IMSG_QUEUE_ROW, PROC_QUEUE, PROC_CONTROL, 0, NULL },
	{ IMSG_QUEUE_DONE, PROC_QUEUE, PROC_CONTROL, 0, NULL },
	{ IMSG_CONTROL_COMMAND, PROC_CONTROL, PROC_QUEUE, 0, NULL },
	{ IMSG_SMTP_RCPT_CHECK, PROC_SMTP, PROC_LKA, 0, NULL },
	{ IMSG_MTA_DKIM_LOOKUP, PROC_MTA, PROC_LKA, 0, NULL },
	{ IMSG_LKA_DKIM_KEYS, PROC_LKA, PROC_MTA, 0, NULL },
	{ IMSG_MTA_DKIM_SIGN, PROC_MTA, PROC_SIGNER, 0, NULL },
	{ IMSG_SIGNER_DKIM_SIGNATURE, PROC_SIGNER, PROC_MTA, 0, NULL },
	{ IMSG_MTA_DKIM_SIGN, PROC_LKA, PROC_SIGNER, 0,
	    "message type not allowed from that peer" },
	{ IMSG_LKA_RCPT_RESULT, PROC_LKA, PROC_SMTP, 0, NULL },
	{ IMSG_LKA_LIMIT_HIT, PROC_LKA, PROC_QUEUE, 0, NULL },
	{ IMSG_QUEUE_TASK_MESSAGE, PROC_QUEUE, PROC_MTA, 1, NULL },
	{ IMSG_QUEUE_TASK_RCPT, PROC_QUEUE, PROC_MTA, 0, NULL },
	{ IMSG_MTA_TASK_RESULT, PROC_MTA, PROC_QUEUE, 0, NULL },
	{ IMSG_MTA_TASK_DONE, PROC_MTA, PROC_QUEUE, 0, NULL },
	{ IMSG_QUEUE_TASK_MESSAGE, PROC_QUEUE, PROC_MTA, 0,
	    "message without its fd" },
	{ IMSG_MTA_TASK_RESULT, PROC_SMTP, PROC_QUEUE, 0,
	    "message type not allowed from that peer" },
	{ IMSG_QUEUE_MESSAGE_FILE, PROC_QUEUE, PROC_SMTP, 0,
	    "message without its fd" },
	{ IMSG_SMTP_AUTH_CHECK, PROC_CONTROL, PROC_LKA, 0,
	    "message type not allowed from that peer" },

	{ IMSG_NONE, PROC_PARENT, PROC_SMTP, 0, "unknown message type" },
	{ IMSG_TYPE_COUNT, PROC_PARENT, PROC_SMTP, 0,
	    "unknown message type" },
	{ UINT32_MAX, PROC_CLIENT, PROC_CONTROL, 0, "unknown message type" },
	{ IMSG_CHILD_READY, PROC_CLIENT, PROC_CONTROL, 0,
	    "message type not allowed from that peer" },
	{ IMSG_CHILD_READY, PROC_PARENT, PROC_PARENT, 0,
	    "message type not allowed from that peer" },
	{ IMSG_CHILD_READY, PROC_SMTP, PROC_LKA, 0,
	    "message type not allowed from that peer" },
	{ IMSG_PARENT_LISTENER, PROC_PARENT, PROC_LKA, 1,
	    "message type not allowed from that peer" },
	{ IMSG_CTL_STOP, PROC_SMTP, PROC_CONTROL, 0,
	    "message type not allowed from that peer" },
	{ IMSG_CONTROL_STOP, PROC_CLIENT, PROC_CONTROL, 0,
	    "message type not allowed from that peer" },
	{ IMSG_PARENT_LISTENER, PROC_PARENT, PROC_SMTP, 0,
	    "message without its fd" },
	{ IMSG_PARENT_CONTROL_SOCKET, PROC_PARENT, PROC_CONTROL, 0,
	    "message without its fd" },
	{ IMSG_CHILD_READY, PROC_SMTP, PROC_PARENT, 1,
	    "fd on a message type that takes none" },
	{ IMSG_CTL_STOP, PROC_CLIENT, PROC_CONTROL, 1,
	    "fd on a message type that takes none" },
};

static void
test_proto_check(void **state)
{
	const struct proto_row	*row;
	struct imsg		 im;
	const char		*why;
	int			 seen[IMSG_TYPE_COUNT] = { 0 };
	size_t			 i;
	int			 r, failed = 0;

	for (i = 0; i < sizeof(proto_rows) / sizeof(proto_rows[0]); i++) {
		row = &proto_rows[i];
		memset(&im, 0, sizeof(im));
		im.type = row->type;
		im.fd = row->fd ? 3 : -1;
		why = NULL;
		r = proto_check(&im, row->from, row->to, &why);
		if (r != (row->why ? -1 : 0) || !reason_is(why, row->why)) {
			print_error("row %zu (%s %s -> %s, fd %d): got %d "
			    "\"%s\"\n", i, proto_name(row->type),
			    proc_name(row->from), proc_name(row->to), row->fd,
			    r, why ? why : "(none)");
			failed++;
		}
		if (row->why == NULL)
			seen[row->type] = 1;
	}
	/* A new message type needs its row here. */
	for (i = IMSG_NONE + 1; i < IMSG_TYPE_COUNT; i++) {
		if (!seen[i] ||
		    strcmp(proto_name((uint32_t)i), "unknown") == 0) {
			print_error("type %zu (%s) has no allowed row\n", i,
			    proto_name((uint32_t)i));
			failed++;
		}
	}
	assert_string_equal(proto_name(IMSG_NONE), "unknown");
	assert_string_equal(proto_name(IMSG_TYPE_COUNT), "unknown");
	assert_int_equal(failed, 0);
}

/* The table applied to what really came over the socket. */
static void
test_proto_check_received(void **state)
{
	struct pair	*p = *state;
	struct imsg	 im;
	const char	*why = NULL;
	int		 pfd[2];

	assert_int_equal(pipe(pfd), 0);
	p->pipes[0][0] = pfd[0];
	assert_int_equal(imsgbuf_compose(&p->w, IMSG_CHILD_READY, 0, pfd[1],
	    NULL, 0), 0);
	assert_int_equal(imsgbuf_compose(&p->w, 4242, 0, -1, NULL, 0), 0);
	recv_msg(p, &im);
	assert_int_not_equal(im.fd, -1);
	assert_int_equal(proto_check(&im, PROC_SMTP, PROC_PARENT, &why), -1);
	assert_string_equal(why, "fd on a message type that takes none");
	close(im.fd);
	im.fd = -1;
	assert_int_equal(proto_check(&im, PROC_SMTP, PROC_PARENT, &why), 0);
	assert_int_equal(proto_check(&im, PROC_CLIENT, PROC_CONTROL, &why),
	    -1);
	assert_string_equal(why, "message type not allowed from that peer");
	recv_msg(p, &im);
	assert_int_equal(proto_check(&im, PROC_CLIENT, PROC_CONTROL, &why),
	    -1);
	assert_string_equal(why, "unknown message type");
}

#define PAIR_TEST(f)		cmocka_unit_test_setup_teardown(f, \
				    pair_setup, pair_teardown)
#define FD_TEST(row)		{ "fd_pattern_" #row, test_fd_pattern, \
				    pair_setup, pair_teardown, (void *)&row }

int
main(void)
{
	const struct CMUnitTest tests[] = {
		PAIR_TEST(test_many_small_messages_in_one_write),
		PAIR_TEST(test_one_message_in_one_byte_writes),
		PAIR_TEST(test_message_of_max_size),
		PAIR_TEST(test_compose_refuses_oversized_payload),
		PAIR_TEST(test_end_of_stream),
		PAIR_TEST(test_read_buffer_full),
		PAIR_TEST(test_write_queue_full),
		PAIR_TEST(test_write_to_closed_peer),
		PAIR_TEST(test_fd_through_pipe),
		FD_TEST(fd_one_at_a_time),
		FD_TEST(fd_consecutive),
		FD_TEST(fd_large_lockstep),
		FD_TEST(fd_after_plain),
		FD_TEST(fd_interleaved),
		FD_TEST(fd_after_large),
		PAIR_TEST(test_fd_with_zero_bytes_is_dropped),
		PAIR_TEST(test_fd_queue_overflow),
		cmocka_unit_test(test_bad_frames),
		cmocka_unit_test(test_proto_check),
		PAIR_TEST(test_proto_check_received),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
