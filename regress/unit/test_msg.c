/*
 * Typed imsg payloads (msg.h): every m_add_* and m_get_* over a real
 * socketpair, the limits of a payload, and every malformed payload of
 * SECURITY.md I1, each rejected with its reason and without reading out
 * of bounds (this file also runs under ASan/UBSan).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "imsg.h"
#include "msg.h"
#include "proto.h"

#define BYTES(s)	s, sizeof(s) - 1

/* One socketpair for the whole file: writer on sp[0], reader on sp[1]. */
static struct {
	int		 sp[2];
	struct imsgbuf	 w, r;
} chan;

static int
chan_open(void **state)
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, chan.sp) == -1)
		return -1;
	imsgbuf_init(&chan.w, chan.sp[0]);
	imsgbuf_init(&chan.r, chan.sp[1]);
	return 0;
}

static int
chan_close(void **state)
{
	imsgbuf_clear(&chan.w);
	imsgbuf_clear(&chan.r);
	close(chan.sp[0]);
	close(chan.sp[1]);
	return 0;
}

/* Send one payload and receive it as *im (valid until the next call). */
static void
transmit(uint32_t peerid, const void *payload, size_t len, struct imsg *im)
{
	int	 r;

	assert_int_equal(imsgbuf_compose(&chan.w, IMSG_CONTROL_STATUS_RESULT,
	    peerid, -1, payload, len), 0);
	assert_int_equal(imsgbuf_write(&chan.w), 0);
	assert_false(imsgbuf_pending(&chan.w));
	while ((r = imsgbuf_get(&chan.r, im)) == 0)
		assert_true(imsgbuf_read(&chan.r) > 0);
	assert_int_equal(r, 1);
	assert_int_equal(im->type, IMSG_CONTROL_STATUS_RESULT);
	assert_int_equal(im->peerid, peerid);
	assert_int_equal(im->pid, (uint32_t)getpid());
	assert_int_equal(im->fd, -1);
	assert_int_equal(im->len, len);
}

enum item_kind {
	IT_U8, IT_U32, IT_U64, IT_I64, IT_INT, IT_STRING, IT_DATA, IT_SOCKADDR
};

struct item {
	const char	*name;
	enum item_kind	 kind;
	uint64_t	 u;		/* u8, u32, u64 */
	int64_t		 i;		/* i64, int */
	const void	*p;		/* string, data, sockaddr */
	size_t		 len;		/* data or sockaddr length */
};

static void
item_add(struct msg_out *m, const struct item *it)
{
	switch (it->kind) {
	case IT_U8:
		m_add_u8(m, (uint8_t)it->u);
		break;
	case IT_U32:
		m_add_u32(m, (uint32_t)it->u);
		break;
	case IT_U64:
		m_add_u64(m, it->u);
		break;
	case IT_I64:
		m_add_i64(m, it->i);
		break;
	case IT_INT:
		m_add_int(m, (int)it->i);
		break;
	case IT_STRING:
		m_add_string(m, it->p);
		break;
	case IT_DATA:
		m_add_data(m, it->p, it->len);
		break;
	case IT_SOCKADDR:
		m_add_sockaddr(m, it->p);
		break;
	}
}

union item_value {
	uint8_t			 u8;
	uint32_t		 u32;
	uint64_t		 u64;
	int64_t			 i64;
	int			 n;
	struct sockaddr_storage	 ss;
	struct {
		char		 buf[MSG_PAYLOAD_MAX];
		size_t		 len;
	}			 bytes;		/* string or data */
};

/* Read one item of a kind; strings and data into dstsize bytes. */
static int
item_read(struct msg_in *m, enum item_kind kind, size_t dstsize,
    union item_value *v)
{
	switch (kind) {
	case IT_U8:
		return m_get_u8(m, &v->u8);
	case IT_U32:
		return m_get_u32(m, &v->u32);
	case IT_U64:
		return m_get_u64(m, &v->u64);
	case IT_I64:
		return m_get_i64(m, &v->i64);
	case IT_INT:
		return m_get_int(m, &v->n);
	case IT_STRING:
		return m_get_string(m, v->bytes.buf, dstsize);
	case IT_DATA:
		return m_get_data(m, v->bytes.buf, dstsize, &v->bytes.len);
	case IT_SOCKADDR:
		return m_get_sockaddr(m, &v->ss);
	}
	return -1;
}

/* Read one item back; returns NULL, or what went wrong. */
static const char *
item_get(struct msg_in *m, const struct item *it)
{
	static union item_value	 v;
	int			 same = 0;

	if (item_read(m, it->kind, sizeof(v.bytes.buf), &v) == -1)
		return m->err;
	switch (it->kind) {
	case IT_U8:
		same = v.u8 == it->u;
		break;
	case IT_U32:
		same = v.u32 == it->u;
		break;
	case IT_U64:
		same = v.u64 == it->u;
		break;
	case IT_I64:
		same = v.i64 == it->i;
		break;
	case IT_INT:
		same = v.n == it->i;
		break;
	case IT_STRING:
		same = strcmp(v.bytes.buf, it->p) == 0;
		break;
	case IT_DATA:
		same = v.bytes.len == it->len &&
		    memcmp(v.bytes.buf, it->p, it->len) == 0;
		break;
	case IT_SOCKADDR:
		same = memcmp(&v.ss, it->p, it->len) == 0;
		break;
	}
	return same ? NULL : "value differs";
}

static void
check_item(struct msg_in *m, const struct item *it)
{
	const char	*why;

	if ((why = item_get(m, it)) != NULL)
		fail_msg("item \"%s\": %s", it->name, why);
}

static void
test_round_trip(void **state)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	struct sockaddr_un	 sun;
	struct msg_out		 m, all;
	struct msg_in		 in;
	struct imsg		 im;
	size_t			 i, n;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(25);
	sin.sin_addr.s_addr = htonl(0xc0000201);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(587);
	sin6.sin6_addr.s6_addr[0] = 0x20;
	sin6.sin6_addr.s6_addr[15] = 1;
	sin6.sin6_scope_id = 3;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, "/var/run/sendgated.sock", sizeof(sun.sun_path));
	{
		const struct item items[] = {
			{ "u8 0", IT_U8, 0, 0, NULL, 0 },
			{ "u8 max", IT_U8, UINT8_MAX, 0, NULL, 0 },
			{ "u32 0", IT_U32, 0, 0, NULL, 0 },
			{ "u32 max", IT_U32, UINT32_MAX, 0, NULL, 0 },
			{ "u64 0", IT_U64, 0, 0, NULL, 0 },
			{ "u64 max", IT_U64, UINT64_MAX, 0, NULL, 0 },
			{ "i64 min", IT_I64, 0, INT64_MIN, NULL, 0 },
			{ "i64 -1", IT_I64, 0, -1, NULL, 0 },
			{ "i64 max", IT_I64, 0, INT64_MAX, NULL, 0 },
			{ "int min", IT_INT, 0, INT_MIN, NULL, 0 },
			{ "int 0", IT_INT, 0, 0, NULL, 0 },
			{ "int max", IT_INT, 0, INT_MAX, NULL, 0 },
			{ "empty string", IT_STRING, 0, 0, "", 0 },
			{ "string", IT_STRING, 0, 0, "mx.example.org", 0 },
			{ "data of 0 bytes", IT_DATA, 0, 0, "", 0 },
			{ "data with NULs", IT_DATA, 0, 0, "\0a\0\xff", 4 },
			{ "sockaddr_in", IT_SOCKADDR, 0, 0, &sin, sizeof(sin) },
			{ "sockaddr_in6", IT_SOCKADDR, 0, 0, &sin6,
			    sizeof(sin6) },
			{ "sockaddr_un", IT_SOCKADDR, 0, 0, &sun, sizeof(sun) },
		};

		n = sizeof(items) / sizeof(items[0]);
		/* Each item alone in its own message... */
		msg_out_init(&all);
		for (i = 0; i < n; i++) {
			msg_out_init(&m);
			item_add(&m, &items[i]);
			item_add(&all, &items[i]);
			assert_false(m.overflow);
			transmit((uint32_t)i, m.buf, m.len, &im);
			msg_in_init(&in, &im);
			check_item(&in, &items[i]);
			assert_int_equal(m_end(&in), 0);
		}
		/* ...and all of them in one, in order. */
		assert_false(all.overflow);
		transmit(UINT32_MAX, all.buf, all.len, &im);
		msg_in_init(&in, &im);
		for (i = 0; i < n; i++)
			check_item(&in, &items[i]);
		assert_int_equal(m_end(&in), 0);
	}
}

/* The longest string and data that fit in a payload, and one byte more. */
struct limit_row {
	const char	*name;
	enum item_kind	 kind;
	size_t		 len;
	int		 fits;
};

static const struct limit_row limit_rows[] = {
	/* tag, u16 length, the bytes, the NUL */
	{ "longest string", IT_STRING, MSG_PAYLOAD_MAX - 4, 1 },
	{ "string one byte over", IT_STRING, MSG_PAYLOAD_MAX - 3, 0 },
	/* tag, u16 length, the bytes */
	{ "longest data", IT_DATA, MSG_PAYLOAD_MAX - 3, 1 },
	{ "data one byte over", IT_DATA, MSG_PAYLOAD_MAX - 2, 0 },
	{ "string past u16", IT_STRING, UINT16_MAX + 1, 0 },
	{ "data past u16", IT_DATA, UINT16_MAX + 1, 0 },
};

static void
test_limits(void **state)
{
	const struct limit_row	*row;
	struct item		 it;
	struct msg_out		 m;
	struct msg_in		 in;
	struct imsg		 im;
	char			*buf;
	size_t			 i;

	for (i = 0; i < sizeof(limit_rows) / sizeof(limit_rows[0]); i++) {
		row = &limit_rows[i];
		assert_non_null(buf = malloc(row->len + 1));
		memset(buf, 'x', row->len);
		buf[row->len] = '\0';
		it = (struct item){ row->name, row->kind, 0, 0, buf, row->len };
		msg_out_init(&m);
		item_add(&m, &it);
		if (m.overflow == row->fits)
			fail_msg("row \"%s\": overflow %d", row->name,
			    m.overflow);
		if (row->fits) {
			assert_int_equal(m.len, MSG_PAYLOAD_MAX);
			transmit(0, m.buf, m.len, &im);
			msg_in_init(&in, &im);
			check_item(&in, &it);
			assert_int_equal(m_end(&in), 0);
		}
		free(buf);
	}
}

/* A full payload takes nothing more, and stays refused once it overflowed. */
static void
test_overflow(void **state)
{
	static uint8_t		 fill[MSG_PAYLOAD_MAX - 3];
	struct sockaddr_in	 sin;
	struct sockaddr		 unspec;
	struct msg_out		 m;
	size_t			 i, len;
	const struct item	 items[] = {
		{ "u8", IT_U8, 1, 0, NULL, 0 },
		{ "u32", IT_U32, 1, 0, NULL, 0 },
		{ "u64", IT_U64, 1, 0, NULL, 0 },
		{ "i64", IT_I64, 0, 1, NULL, 0 },
		{ "int", IT_INT, 0, 1, NULL, 0 },
		{ "empty string", IT_STRING, 0, 0, "", 0 },
		{ "empty data", IT_DATA, 0, 0, "", 0 },
		{ "sockaddr", IT_SOCKADDR, 0, 0, &sin, sizeof(sin) },
	};

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		msg_out_init(&m);
		m_add_data(&m, fill, sizeof(fill));
		assert_int_equal(m.len, MSG_PAYLOAD_MAX);
		item_add(&m, &items[i]);
		if (!m.overflow || m.len != MSG_PAYLOAD_MAX)
			fail_msg("item \"%s\": overflow %d, len %zu",
			    items[i].name, m.overflow, m.len);
	}
	/* Room for a u8 but not a u32: the u8 after the u32 is refused. */
	msg_out_init(&m);
	m_add_data(&m, fill, sizeof(fill) - 3);
	m_add_u32(&m, 1);
	assert_true(m.overflow);
	len = m.len;
	m_add_u8(&m, 1);
	assert_int_equal(m.len, len);
	/* An address family it cannot size. */
	memset(&unspec, 0, sizeof(unspec));
	msg_out_init(&m);
	m_add_sockaddr(&m, &unspec);
	assert_true(m.overflow);
}

/*
 * Zero bytes of data from a NULL pointer is a natural call; it must not
 * hand NULL to memcpy() (UBSan: "null pointer passed as argument").
 */
static void
test_empty_data_from_null(void **state)
{
	struct msg_out	 m;
	struct msg_in	 in;
	struct imsg	 im;
	size_t		 len = 1;

	msg_out_init(&m);
	m_add_data(&m, NULL, 0);
	assert_false(m.overflow);
	transmit(0, m.buf, m.len, &im);
	msg_in_init(&in, &im);
	assert_int_equal(m_get_data(&in, NULL, 0, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(m_end(&in), 0);
}

/*
 * A malformed payload and what its reader expects: nreads items of a kind
 * (strings and data into BAD_DST_SIZE bytes), then the end.
 */
#define BAD_DST_SIZE	8

struct bad_payload {
	const char	*name;
	const char	*bytes;
	size_t		 len;
	size_t		 zeros;		/* zeros after bytes */
	enum item_kind	 kind;
	int		 nreads;
	const char	*why;		/* NULL: decodes fine */
};

#define SHORT	"payload too short"
#define LONG	"payload too long"
#define WRONG	"payload item of the wrong type"
#define SALEN	"bad sockaddr length"
#define SAFAM	"sockaddr length does not match family"

/* Lengths are little-endian u16, families u16 (AF_INET 2, AF_INET6 10). */
static const struct bad_payload bad_payloads[] = {
	{ "empty, u32 expected", BYTES(""), 0, IT_U32, 1, SHORT },
	{ "tag alone", BYTES("i"), 0, IT_U32, 1, SHORT },
	{ "u32 cut short", BYTES("i\1\2\3"), 0, IT_U32, 1, SHORT },
	{ "int cut short", BYTES("n\1\2"), 0, IT_INT, 1, SHORT },
	{ "second u32 missing", BYTES("i\1\0\0\0"), 0, IT_U32, 2, SHORT },
	{ "byte after u32", BYTES("i\1\0\0\0\0"), 0, IT_U32, 1, LONG },
	{ "item for a type without payload", BYTES("b\1"), 0, IT_U8, 0,
	    LONG },
	{ "u64 where u32 expected", BYTES("q"), 8, IT_U32, 1, WRONG },
	{ "u32 where int expected", BYTES("i"), 4, IT_INT, 1, WRONG },
	{ "string where data expected", BYTES("s\1\0a"), 1, IT_DATA, 1,
	    WRONG },
	{ "unknown tag", BYTES("\xff"), 1, IT_U8, 1, WRONG },
	{ "string ends at payload end", BYTES("s\3\0abc"), 0, IT_STRING, 1,
	    SHORT },
	{ "string without NUL", BYTES("s\3\0abcd"), 0, IT_STRING, 1,
	    "unterminated string" },
	{ "NUL inside string", BYTES("s\3\0a\0c"), 1, IT_STRING, 1,
	    "NUL inside string" },
	{ "string longer than destination", BYTES("s\x08\0abcdefgh"), 1,
	    IT_STRING, 1, "string too long" },
	{ "string length past the end", BYTES("s\xff\xff" "ab"), 1,
	    IT_STRING, 1, SHORT },
	{ "data longer than destination", BYTES("d\x09\0"), 9, IT_DATA, 1,
	    "data too long" },
	{ "data length past the end", BYTES("d\x10\0abc"), 0, IT_DATA, 1,
	    SHORT },
	{ "sockaddr longer than storage", BYTES("a\x81\0\2\0"), 127,
	    IT_SOCKADDR, 1, SALEN },
	{ "sockaddr shorter than a family", BYTES("a\1\0\2"), 0,
	    IT_SOCKADDR, 1, SALEN },
	{ "AF_INET with 28 bytes", BYTES("a\x1c\0\2\0"), 26, IT_SOCKADDR, 1,
	    SAFAM },
	{ "AF_INET6 with 16 bytes", BYTES("a\x10\0\x0a\0"), 14,
	    IT_SOCKADDR, 1, SAFAM },
	{ "AF_UNSPEC", BYTES("a\x10\0\0\0"), 14, IT_SOCKADDR, 1, SAFAM },
	{ "sockaddr length past the end", BYTES("a\x10\0\2\0"), 0,
	    IT_SOCKADDR, 1, SHORT },
	/* Controls: the same shapes at the edge of what is accepted. */
	{ "string that just fits", BYTES("s\x07\0abcdefg"), 1, IT_STRING, 1,
	    NULL },
	{ "data that just fits", BYTES("d\x08\0"), 8, IT_DATA, 1, NULL },
	{ "AF_INET with 16 bytes", BYTES("a\x10\0\2\0"), 14, IT_SOCKADDR, 1,
	    NULL },
	{ "AF_INET6 with 28 bytes", BYTES("a\x1c\0\x0a\0"), 26,
	    IT_SOCKADDR, 1, NULL },
};

static void
test_bad_payloads(void **state)
{
	static uint8_t			 buf[MSG_PAYLOAD_MAX];
	static union item_value		 v;
	const struct bad_payload	*row;
	struct msg_in			 in;
	struct imsg			 im;
	const char			*first;
	size_t				 i;
	int				 n, r = 0, failed = 0;

	for (i = 0; i < sizeof(bad_payloads) / sizeof(bad_payloads[0]); i++) {
		row = &bad_payloads[i];
		memcpy(buf, row->bytes, row->len);
		memset(buf + row->len, 0, row->zeros);
		transmit((uint32_t)i, buf, row->len + row->zeros, &im);
		msg_in_init(&in, &im);
		for (n = 0, r = 0; n < row->nreads && r == 0; n++)
			r = item_read(&in, row->kind, BAD_DST_SIZE, &v);
		if (r == 0)
			r = m_end(&in);
		first = in.err;
		if (r != (row->why ? -1 : 0) || (row->why == NULL) !=
		    (first == NULL) || (first && strcmp(first, row->why))) {
			print_error("row \"%s\": got %d \"%s\", want \"%s\"\n",
			    row->name, r, first ? first : "(none)",
			    row->why ? row->why : "(none)");
			failed++;
			continue;
		}
		/* A failed reader stays failed, with its first reason. */
		if (row->why != NULL && (m_get_u8(&in, &v.u8) != -1 ||
		    m_end(&in) != -1 || in.err != first)) {
			print_error("row \"%s\": error not sticky\n",
			    row->name);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_empty_data_from_null),
		cmocka_unit_test(test_bad_payloads),
	};

	return cmocka_run_group_tests(tests, chan_open, chan_close);
}
