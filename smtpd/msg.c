/*
 * Typed imsg payload encoding and decoding (see msg.h).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <string.h>

#include "msg.h"

enum {
	TAG_U8 = 'b',
	TAG_U32 = 'i',
	TAG_U64 = 'q',
	TAG_I64 = 'I',
	TAG_INT = 'n',
	TAG_STRING = 's',
	TAG_DATA = 'd',
	TAG_SOCKADDR = 'a'
};

void
msg_out_init(struct msg_out *m)
{
	m->len = 0;
	m->overflow = 0;
}

static void
m_put(struct msg_out *m, const void *p, size_t len)
{
	if (m->overflow || len > sizeof(m->buf) - m->len) {
		m->overflow = 1;
		return;
	}
	if (len == 0)
		return;		/* p may be NULL for empty data */
	memcpy(m->buf + m->len, p, len);
	m->len += len;
}

static void
m_put_tag(struct msg_out *m, uint8_t tag)
{
	m_put(m, &tag, 1);
}

void
m_add_u8(struct msg_out *m, uint8_t v)
{
	m_put_tag(m, TAG_U8);
	m_put(m, &v, sizeof(v));
}

void
m_add_u32(struct msg_out *m, uint32_t v)
{
	m_put_tag(m, TAG_U32);
	m_put(m, &v, sizeof(v));
}

void
m_add_u64(struct msg_out *m, uint64_t v)
{
	m_put_tag(m, TAG_U64);
	m_put(m, &v, sizeof(v));
}

void
m_add_i64(struct msg_out *m, int64_t v)
{
	m_put_tag(m, TAG_I64);
	m_put(m, &v, sizeof(v));
}

void
m_add_int(struct msg_out *m, int v)
{
	int32_t	 w = v;

	m_put_tag(m, TAG_INT);
	m_put(m, &w, sizeof(w));
}

/* Strings travel with their length and a terminating NUL. */
void
m_add_string(struct msg_out *m, const char *s)
{
	size_t		 len = strlen(s);
	uint16_t	 wlen;

	if (len > UINT16_MAX) {
		m->overflow = 1;
		return;
	}
	wlen = (uint16_t)len;
	m_put_tag(m, TAG_STRING);
	m_put(m, &wlen, sizeof(wlen));
	m_put(m, s, len + 1);
}

void
m_add_data(struct msg_out *m, const void *p, size_t len)
{
	uint16_t	 wlen;

	if (len > UINT16_MAX) {
		m->overflow = 1;
		return;
	}
	wlen = (uint16_t)len;
	m_put_tag(m, TAG_DATA);
	m_put(m, &wlen, sizeof(wlen));
	m_put(m, p, len);
}

static socklen_t
sockaddr_len(const struct sockaddr *sa)
{
	switch (sa->sa_family) {
	case AF_INET:
		return sizeof(struct sockaddr_in);
	case AF_INET6:
		return sizeof(struct sockaddr_in6);
	case AF_UNIX:
		return sizeof(struct sockaddr_un);
	default:
		return 0;
	}
}

void
m_add_sockaddr(struct msg_out *m, const struct sockaddr *sa)
{
	socklen_t	 len = sockaddr_len(sa);
	uint16_t	 wlen = (uint16_t)len;

	if (len == 0) {
		m->overflow = 1;
		return;
	}
	m_put_tag(m, TAG_SOCKADDR);
	m_put(m, &wlen, sizeof(wlen));
	m_put(m, sa, len);
}

void
msg_in_init(struct msg_in *m, const struct imsg *im)
{
	m->p = im->data;
	m->end = im->data + im->len;
	m->err = NULL;
}

static int
m_fail(struct msg_in *m, const char *why)
{
	if (m->err == NULL)
		m->err = why;
	return -1;
}

static int
m_take(struct msg_in *m, uint8_t tag, void *dst, size_t len)
{
	if (m->err != NULL)
		return -1;
	if (m->p == m->end)
		return m_fail(m, "payload too short");
	if (*m->p != tag)
		return m_fail(m, "payload item of the wrong type");
	if ((size_t)(m->end - m->p) - 1 < len)
		return m_fail(m, "payload too short");
	memcpy(dst, m->p + 1, len);
	m->p += 1 + len;
	return 0;
}

int
m_get_u8(struct msg_in *m, uint8_t *v)
{
	return m_take(m, TAG_U8, v, sizeof(*v));
}

int
m_get_u32(struct msg_in *m, uint32_t *v)
{
	return m_take(m, TAG_U32, v, sizeof(*v));
}

int
m_get_u64(struct msg_in *m, uint64_t *v)
{
	return m_take(m, TAG_U64, v, sizeof(*v));
}

int
m_get_i64(struct msg_in *m, int64_t *v)
{
	return m_take(m, TAG_I64, v, sizeof(*v));
}

int
m_get_int(struct msg_in *m, int *v)
{
	int32_t	 w;

	if (m_take(m, TAG_INT, &w, sizeof(w)) == -1)
		return -1;
	*v = w;
	return 0;
}

/*
 * Read the length-prefixed body of a string or data item and return a
 * pointer to it inside the message.
 */
static const uint8_t *
m_take_counted(struct msg_in *m, uint8_t tag, size_t extra, size_t *lenp)
{
	uint16_t	 wlen;
	const uint8_t	*body;

	if (m_take(m, tag, &wlen, sizeof(wlen)) == -1)
		return NULL;
	if ((size_t)(m->end - m->p) < (size_t)wlen + extra) {
		m_fail(m, "payload too short");
		return NULL;
	}
	body = m->p;
	m->p += wlen + extra;
	*lenp = wlen;
	return body;
}

/* Copy a string into dst (dstsize bytes with its NUL) or fail. */
int
m_get_string(struct msg_in *m, char *dst, size_t dstsize)
{
	const uint8_t	*s;
	size_t		 len;

	if ((s = m_take_counted(m, TAG_STRING, 1, &len)) == NULL)
		return -1;
	if (s[len] != '\0')
		return m_fail(m, "unterminated string");
	if (memchr(s, '\0', len) != NULL)
		return m_fail(m, "NUL inside string");
	if (len >= dstsize)
		return m_fail(m, "string too long");
	memcpy(dst, s, len + 1);
	return 0;
}

/* Copy at most dstsize bytes of data; *lenp gets the length. */
int
m_get_data(struct msg_in *m, void *dst, size_t dstsize, size_t *lenp)
{
	const uint8_t	*d;
	size_t		 len;

	if ((d = m_take_counted(m, TAG_DATA, 0, &len)) == NULL)
		return -1;
	if (len > dstsize)
		return m_fail(m, "data too long");
	if (len > 0)
		memcpy(dst, d, len);
	*lenp = len;
	return 0;
}

int
m_get_sockaddr(struct msg_in *m, struct sockaddr_storage *ss)
{
	const uint8_t	*d;
	size_t		 len;
	sa_family_t	 fam;

	if ((d = m_take_counted(m, TAG_SOCKADDR, 0, &len)) == NULL)
		return -1;
	if (len < sizeof(fam) || len > sizeof(*ss))
		return m_fail(m, "bad sockaddr length");
	memcpy(&fam, d, sizeof(fam));
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, d, len);
	if (sockaddr_len((struct sockaddr *)ss) != len)
		return m_fail(m, "sockaddr length does not match family");
	return 0;
}

int
m_end(struct msg_in *m)
{
	if (m->err != NULL)
		return -1;
	if (m->p != m->end)
		return m_fail(m, "payload too long");
	return 0;
}
