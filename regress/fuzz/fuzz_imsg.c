/*
 * libFuzzer target for the imsg reader: what a compromised child or a
 * local user can put on a channel (SECURITY.md I1, I2).
 *
 * Input: three control bytes, then the byte stream.
 *	fd mask		chunk i travels with fds when bit i % 8 is set
 *	chunk size	see chunk_size()
 *	fd count	fds per such chunk, 1 + (byte % CHUNK_FDS_MAX)
 * The stream goes into one end of a socketpair, the reader takes every
 * message from the other end, checks it against the protocol table and
 * decodes its payload item by item: at most pid items when pid is not 0,
 * into a destination of peerid bytes when peerid is not 0.  When a payload
 * decodes in full, encoding the items again must give the same bytes.
 */
#include <sys/socket.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "msg.h"
#include "proto.h"

#define CHUNK_FDS_MAX	20	/* over IMSG_FDQ_MAX: truncated */

enum kind {
	K_U8, K_U32, K_U64, K_I64, K_INT, K_STRING, K_DATA, K_SOCKADDR,
	K_COUNT
};

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct {
	enum proc_id	 from, to;
} peers[] = {
	{ PROC_CLIENT, PROC_CONTROL },
	{ PROC_CONTROL, PROC_PARENT },
	{ PROC_PARENT, PROC_CONTROL },
	{ PROC_PARENT, PROC_SMTP },
	{ PROC_SMTP, PROC_PARENT },
};

static uint8_t		 tags[K_COUNT];
static int		 devnull = -1;
static struct imsgbuf	 ib;
static struct msg_out	 out;

static void
die(const char *why)
{
	fprintf(stderr, "fuzz_imsg: %s\n", why);
	abort();
}

/* Learn each item's tag from the encoder instead of copying msg.c. */
static void
init(void)
{
	struct sockaddr	 sa;
	size_t		 at;

#define LEARN(k, add)	do { at = out.len; add; tags[k] = out.buf[at]; } \
			while (0)
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_INET;
	msg_out_init(&out);
	LEARN(K_U8, m_add_u8(&out, 0));
	LEARN(K_U32, m_add_u32(&out, 0));
	LEARN(K_U64, m_add_u64(&out, 0));
	LEARN(K_I64, m_add_i64(&out, 0));
	LEARN(K_INT, m_add_int(&out, 0));
	LEARN(K_STRING, m_add_string(&out, ""));
	LEARN(K_DATA, m_add_data(&out, "", 0));
	LEARN(K_SOCKADDR, m_add_sockaddr(&out, &sa));
#undef LEARN
	if ((devnull = open("/dev/null", O_RDONLY)) == -1)
		die("open /dev/null");
}

/* 0-127: 1 to 128 bytes; 128-255: 256 bytes to 32 KiB. */
static size_t
chunk_size(uint8_t c)
{
	return c < 128 ? (size_t)c + 1 : (size_t)(c - 127) * 256;
}

/* Returns the bytes the socket took; short when it is full. */
static size_t
send_chunk(int s, const uint8_t *p, size_t len, int nfds)
{
	union {
		struct cmsghdr	 hdr;
		char	 buf[CMSG_SPACE(sizeof(int) * CHUNK_FDS_MAX)];
	}		 cbuf;
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	ssize_t		 n;
	int		 i;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)p;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		for (i = 0; i < nfds; i++)
			memcpy(CMSG_DATA(cm) + i * sizeof(int), &devnull,
			    sizeof(int));
	}
	n = sendmsg(s, &mh, MSG_NOSIGNAL);
	return n == -1 ? 0 : (size_t)n;
}

/* Take one item, add it to out; -1 when the reader refused it. */
static int
copy_item(struct msg_in *m, enum kind k, char *dst, size_t dstsize)
{
	struct sockaddr_storage	 ss;
	uint64_t		 u64;
	int64_t			 i64;
	uint32_t		 u32;
	size_t			 len;
	uint8_t			 u8;
	int			 n;

	switch (k) {
	case K_U8:
		if (m_get_u8(m, &u8) == -1)
			return -1;
		m_add_u8(&out, u8);
		break;
	case K_U32:
		if (m_get_u32(m, &u32) == -1)
			return -1;
		m_add_u32(&out, u32);
		break;
	case K_U64:
		if (m_get_u64(m, &u64) == -1)
			return -1;
		m_add_u64(&out, u64);
		break;
	case K_I64:
		if (m_get_i64(m, &i64) == -1)
			return -1;
		m_add_i64(&out, i64);
		break;
	case K_INT:
		if (m_get_int(m, &n) == -1)
			return -1;
		m_add_int(&out, n);
		break;
	case K_STRING:
		if (m_get_string(m, dst, dstsize) == -1)
			return -1;
		if (strnlen(dst, dstsize) == dstsize)
			die("string not terminated in its destination");
		m_add_string(&out, dst);
		break;
	case K_DATA:
		if (m_get_data(m, dst, dstsize, &len) == -1)
			return -1;
		if (len > dstsize)
			die("data longer than its destination");
		m_add_data(&out, dst, len);
		break;
	case K_SOCKADDR:
		if (m_get_sockaddr(m, &ss) == -1)
			return -1;
		m_add_sockaddr(&out, (struct sockaddr *)&ss);
		break;
	default:
		/* Not an item tag: any reader must refuse it. */
		if (m_get_u8(m, &u8) != -1)
			die("unknown tag accepted");
		return -1;
	}
	return 0;
}

/*
 * The peer id picks the size of the string and data destination, so the
 * fuzzer can make it small; it is allocated to size for ASan.
 */
static void
decode(const struct imsg *im)
{
	struct msg_in	 m;
	size_t		 dstsize, items = 0;
	const char	*err;
	char		*dst;
	uint8_t		 u8;
	int		 k;

	dstsize = im->peerid == 0 || im->peerid > MSG_PAYLOAD_MAX ?
	    MSG_PAYLOAD_MAX : im->peerid;
	if ((dst = malloc(dstsize)) == NULL)
		die("malloc");
	msg_in_init(&m, im);
	msg_out_init(&out);
	while (m.p < m.end && (im->pid == 0 || items++ < im->pid)) {
		for (k = 0; k < K_COUNT && tags[k] != *m.p; k++)
			;
		if (copy_item(&m, (enum kind)k, dst, dstsize) == -1)
			break;
	}
	free(dst);
	if (m_end(&m) == -1) {
		/* Failed for good, with the first reason. */
		if ((err = m.err) == NULL)
			die("m_end failed without a reason");
		if (m_get_u8(&m, &u8) != -1 || m.err != err)
			die("reader error not sticky");
		return;
	}
	if (out.overflow || out.len != im->len ||
	    memcmp(out.buf, im->data, im->len) != 0)
		die("payload does not encode back to the same bytes");
	if (m_get_u8(&m, &u8) != -1)
		die("item read past the end");
}

static void
check(const struct imsg *im)
{
	const char	*why;
	size_t		 i;
	int		 r;

	if (im->len > MSG_PAYLOAD_MAX || im->data < ib.rbuf ||
	    im->data + im->len > ib.rbuf + ib.rlen)
		die("message outside the read buffer");
	if (im->fd != -1 && fcntl(im->fd, F_GETFD) == -1)
		die("message with a closed fd");
	for (i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
		why = NULL;
		r = proto_check(im, peers[i].from, peers[i].to, &why);
		if ((r == -1) != (why != NULL))
			die("proto_check result and reason disagree");
	}
	(void)proto_name(im->type);
	decode(im);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imsg	 im;
	size_t		 chunk, off, n, i;
	uint8_t		 fdmask;
	int		 sp[2], r, nfds;

	if (devnull == -1)
		init();
	if (size < 3)
		return 0;
	fdmask = data[0];
	chunk = chunk_size(data[1]);
	nfds = 1 + data[2] % CHUNK_FDS_MAX;
	data += 3;
	size -= 3;
	/* Running out of fds here means a leak in the reader. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp) == -1)
		die("socketpair");
	for (off = 0, i = 0; off < size; off += n, i++) {
		n = size - off < chunk ? size - off : chunk;
		if (send_chunk(sp[0], data + off, n,
		    fdmask & (1u << (i % 8)) ? nfds : 0) < n)
			break;
	}
	close(sp[0]);
	imsgbuf_init(&ib, sp[1]);
	for (;;) {
		while ((r = imsgbuf_get(&ib, &im)) == 1) {
			check(&im);
			if (im.fd != -1)
				close(im.fd);
		}
		if (r == -1 && ib.err == NULL)
			die("imsgbuf_get failed without a reason");
		if (r == -1 || imsgbuf_read(&ib) <= 0)
			break;
	}
	imsgbuf_clear(&ib);
	close(sp[1]);
	return 0;
}
