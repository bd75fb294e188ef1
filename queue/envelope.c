/*
 * Envelope records (see envelope.h): the encoder and a strict decoder.
 * The decoder trusts nothing in the file: every length is checked
 * against what remains and against the field's cap before anything is
 * allocated, every integer against its range.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

#define ENVELOPE_TAG_MAX	16	/* longest tag name */
#define ENVELOPE_LENDIGITS_MAX	8	/* no field reaches 10^8 octets */
#define ENVELOPE_INT_MAX	20	/* "-9223372036854775808" */

/*
 * The records in the order they are written.  Single-valued records
 * first, then nrcpt groups of nine, then end.
 */
enum tag {
	T_VERSION, T_ID, T_SENDER, T_BODY, T_SMTPUTF8, T_RET, T_ENVID,
	T_CONNECTOR_ID, T_CONNECTOR, T_AUTH_USER, T_CLIENT_ADDR,
	T_CLIENT_NAME, T_TLS, T_TIME, T_SIZE, T_WARNED, T_NRCPT,
	T_RCPT, T_NOTIFY, T_ORCPT_TYPE, T_ORCPT, T_STATE, T_ATTEMPTS,
	T_NEXT_TRY, T_LAST_MTA, T_LAST,
	T_END, T_COUNT
};

enum kind { K_STR, K_INT, K_ID, K_NONE };

static const struct tag_def {
	const char	*name;
	enum kind	 kind;
	size_t		 max;		/* K_STR: octets */
	int64_t		 lo, hi;	/* K_INT: range */
} tags[T_COUNT] = {
	[T_VERSION] = { "version", K_INT, 0, ENVELOPE_VERSION,
	    ENVELOPE_VERSION },
	[T_ID] = { "id", K_ID, ENVELOPE_ID_LEN, 0, 0 },
	[T_SENDER] = { "sender", K_STR, ENVELOPE_ADDR_MAX, 0, 0 },
	[T_BODY] = { "body", K_INT, 0, 0, ENVELOPE_BODY_MAX },
	[T_SMTPUTF8] = { "smtputf8", K_INT, 0, 0, 1 },
	[T_RET] = { "ret", K_INT, 0, 0, ENVELOPE_RET_MAX },
	[T_ENVID] = { "envid", K_STR, ENVELOPE_ENVID_MAX, 0, 0 },
	[T_CONNECTOR_ID] = { "connector-id", K_INT, 0, 0, INT64_MAX },
	[T_CONNECTOR] = { "connector", K_STR, ENVELOPE_NAME_MAX, 0, 0 },
	[T_AUTH_USER] = { "auth-user", K_STR, ENVELOPE_USER_MAX, 0, 0 },
	[T_CLIENT_ADDR] = { "client-addr", K_STR, ENVELOPE_CLIENT_MAX, 0, 0 },
	[T_CLIENT_NAME] = { "client-name", K_STR, ENVELOPE_HELO_MAX, 0, 0 },
	[T_TLS] = { "tls", K_STR, ENVELOPE_TLS_MAX, 0, 0 },
	[T_TIME] = { "time", K_INT, 0, 0, INT64_MAX },
	[T_SIZE] = { "size", K_INT, 0, 0, INT64_MAX },
	[T_WARNED] = { "warned", K_INT, 0, 0, 1 },
	[T_NRCPT] = { "nrcpt", K_INT, 0, 1, ENVELOPE_RCPT_MAX },
	[T_RCPT] = { "rcpt", K_STR, ENVELOPE_ADDR_MAX, 0, 0 },
	[T_NOTIFY] = { "notify", K_INT, 0, 0, ENVELOPE_NOTIFY_MAX },
	[T_ORCPT_TYPE] = { "orcpt-type", K_STR, ENVELOPE_ORCPT_TYPE_MAX,
	    0, 0 },
	[T_ORCPT] = { "orcpt", K_STR, ENVELOPE_ORCPT_MAX, 0, 0 },
	[T_STATE] = { "state", K_INT, 0, 0, ENVELOPE_RCPT_DONE },
	[T_ATTEMPTS] = { "attempts", K_INT, 0, 0, INT32_MAX },
	[T_NEXT_TRY] = { "next-try", K_INT, 0, 0, INT64_MAX },
	[T_LAST_MTA] = { "last-mta", K_STR, ENVELOPE_MTA_MAX, 0, 0 },
	[T_LAST] = { "last", K_STR, ENVELOPE_LAST_MAX, 0, 0 },
	[T_END] = { "end", K_NONE, 0, 0, 0 },
};

void
envelope_init(struct envelope *e)
{
	memset(e, 0, sizeof(*e));
}

static void
str_free(struct envelope_str *s)
{
	free(s->s);
	s->s = NULL;
	s->len = 0;
}

void
envelope_free(struct envelope *e)
{
	size_t	 i;

	str_free(&e->sender);
	str_free(&e->envid);
	str_free(&e->connector);
	str_free(&e->auth_user);
	str_free(&e->client_addr);
	str_free(&e->client_name);
	str_free(&e->tls);
	for (i = 0; i < e->nrcpt; i++) {
		str_free(&e->rcpt[i].addr);
		str_free(&e->rcpt[i].orcpt_type);
		str_free(&e->rcpt[i].orcpt);
		str_free(&e->rcpt[i].last_mta);
		str_free(&e->rcpt[i].last);
	}
	free(e->rcpt);
	envelope_init(e);
}

const char *
envelope_cstr(const struct envelope_str *s)
{
	return s->s != NULL ? s->s : "";
}

int
envelope_id_valid(const char *id, size_t len)
{
	size_t	 i;

	if (len != ENVELOPE_ID_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return 1;
}

int
envelope_set(struct envelope_str *s, size_t max, const void *p, size_t len)
{
	char	*n;

	if (len > max) {
		errno = EINVAL;
		return -1;
	}
	if ((n = malloc(len + 1)) == NULL)
		return -1;
	if (len > 0)
		memcpy(n, p, len);
	n[len] = '\0';
	free(s->s);
	s->s = n;
	s->len = len;
	return 0;
}

/* A new, empty recipient at the end of the list. */
static struct envelope_rcpt *
rcpt_new(struct envelope *e)
{
	struct envelope_rcpt	*r;
	size_t			 n;

	if (e->nrcpt == ENVELOPE_RCPT_MAX) {
		errno = E2BIG;
		return NULL;
	}
	if (e->nrcpt == e->rcpt_alloc) {
		n = e->rcpt_alloc ? e->rcpt_alloc * 2 : 8;
		if (n > ENVELOPE_RCPT_MAX)
			n = ENVELOPE_RCPT_MAX;
		if ((r = reallocarray(e->rcpt, n, sizeof(*r))) == NULL)
			return NULL;
		e->rcpt = r;
		e->rcpt_alloc = n;
	}
	r = &e->rcpt[e->nrcpt++];
	memset(r, 0, sizeof(*r));
	return r;
}

int
envelope_rcpt_add(struct envelope *e, const void *addr, size_t addrlen,
    int notify, const void *type, size_t typelen, const void *orcpt,
    size_t orcptlen)
{
	struct envelope_rcpt	*r;

	if (addrlen > ENVELOPE_ADDR_MAX || typelen > ENVELOPE_ORCPT_TYPE_MAX ||
	    orcptlen > ENVELOPE_ORCPT_MAX || notify < 0 ||
	    notify > ENVELOPE_NOTIFY_MAX) {
		errno = EINVAL;
		return -1;
	}
	if ((r = rcpt_new(e)) == NULL)
		return -1;
	r->notify = notify;
	if (envelope_set(&r->addr, ENVELOPE_ADDR_MAX, addr, addrlen) == -1 ||
	    envelope_set(&r->orcpt_type, ENVELOPE_ORCPT_TYPE_MAX, type,
	    typelen) == -1 ||
	    envelope_set(&r->orcpt, ENVELOPE_ORCPT_MAX, orcpt,
	    orcptlen) == -1)
		return -1;	/* r stays, empty: envelope_free() frees */
	return 0;
}

/* The encoder's output buffer. */
struct ebuf {
	uint8_t	*p;
	size_t	 len;
	size_t	 size;
	int	 err;		/* errno of the first failure */
};

static void
put(struct ebuf *b, const void *p, size_t len)
{
	uint8_t	*n;
	size_t	 size;

	if (b->err)
		return;
	if (len > b->size - b->len) {
		for (size = b->size ? b->size : 1024; size - b->len < len;
		    size *= 2)
			;
		if ((n = realloc(b->p, size)) == NULL) {
			b->err = ENOMEM;
			return;
		}
		b->p = n;
		b->size = size;
	}
	if (len > 0)
		memcpy(b->p + b->len, p, len);
	b->len += len;
}

static void
put_record(struct ebuf *b, enum tag t, const void *p, size_t len)
{
	char	 head[ENVELOPE_TAG_MAX + ENVELOPE_LENDIGITS_MAX + 4];
	int	 n;

	if (tags[t].kind == K_STR && len > tags[t].max)
		b->err = EINVAL;
	n = snprintf(head, sizeof(head), "%s %zu:", tags[t].name, len);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		b->err = EINVAL;
		return;
	}
	put(b, head, (size_t)n);
	put(b, p, len);
	put(b, "\n", 1);
}

static void
put_str(struct ebuf *b, enum tag t, const struct envelope_str *s)
{
	put_record(b, t, s->len ? s->s : "", s->len);
}

static void
put_int(struct ebuf *b, enum tag t, int64_t v)
{
	char	 num[ENVELOPE_INT_MAX + 1];

	if (v < tags[t].lo || v > tags[t].hi)
		b->err = EINVAL;
	snprintf(num, sizeof(num), "%" PRId64, v);
	put_record(b, t, num, strlen(num));
}

int
envelope_encode(const struct envelope *e, uint8_t **out, size_t *outlen)
{
	struct ebuf	 b = { NULL, 0, 0, 0 };
	size_t		 i;

	if (!envelope_id_valid(e->id, strlen(e->id)) || e->nrcpt == 0 ||
	    e->size > INT64_MAX)
		b.err = EINVAL;
	put_int(&b, T_VERSION, ENVELOPE_VERSION);
	put_record(&b, T_ID, e->id, strlen(e->id));
	put_str(&b, T_SENDER, &e->sender);
	put_int(&b, T_BODY, e->body);
	put_int(&b, T_SMTPUTF8, e->smtputf8);
	put_int(&b, T_RET, e->ret);
	put_str(&b, T_ENVID, &e->envid);
	put_int(&b, T_CONNECTOR_ID, e->connector_id);
	put_str(&b, T_CONNECTOR, &e->connector);
	put_str(&b, T_AUTH_USER, &e->auth_user);
	put_str(&b, T_CLIENT_ADDR, &e->client_addr);
	put_str(&b, T_CLIENT_NAME, &e->client_name);
	put_str(&b, T_TLS, &e->tls);
	put_int(&b, T_TIME, e->time);
	put_int(&b, T_SIZE, (int64_t)e->size);
	put_int(&b, T_WARNED, e->warned);
	put_int(&b, T_NRCPT, (int64_t)e->nrcpt);
	for (i = 0; i < e->nrcpt; i++) {
		put_str(&b, T_RCPT, &e->rcpt[i].addr);
		put_int(&b, T_NOTIFY, e->rcpt[i].notify);
		put_str(&b, T_ORCPT_TYPE, &e->rcpt[i].orcpt_type);
		put_str(&b, T_ORCPT, &e->rcpt[i].orcpt);
		put_int(&b, T_STATE, e->rcpt[i].state);
		put_int(&b, T_ATTEMPTS, e->rcpt[i].attempts);
		put_int(&b, T_NEXT_TRY, e->rcpt[i].next_try);
		put_str(&b, T_LAST_MTA, &e->rcpt[i].last_mta);
		put_str(&b, T_LAST, &e->rcpt[i].last);
	}
	put_record(&b, T_END, "", 0);
	if (b.err) {
		free(b.p);
		errno = b.err;
		return -1;
	}
	*out = b.p;
	*outlen = b.len;
	return 0;
}

/*
 * One record at *pp: its tag and value.  Returns 0 and advances *pp, or
 * -1 with *why.
 */
static int
get_record(const uint8_t **pp, const uint8_t *end, enum tag *t,
    const uint8_t **val, size_t *len, const char **why)
{
	const uint8_t	*p = *pp;
	size_t		 n, i, digits;

	for (n = 0; p + n < end && ((p[n] >= 'a' && p[n] <= 'z') ||
	    (p[n] >= '0' && p[n] <= '9') || p[n] == '-'); n++)
		if (n == ENVELOPE_TAG_MAX) {
			*why = "tag too long";
			return -1;
		}
	if (n == 0 || p + n == end || p[n] != ' ') {
		*why = "bad record header";
		return -1;
	}
	for (i = 0; i < T_COUNT; i++)
		if (strlen(tags[i].name) == n &&
		    memcmp(tags[i].name, p, n) == 0)
			break;
	if (i == T_COUNT) {
		*why = "unknown record";
		return -1;
	}
	*t = (enum tag)i;
	p += n + 1;
	for (n = 0, digits = 0; p < end && *p >= '0' && *p <= '9'; p++) {
		/* No leading zero: one spelling per length. */
		if (digits == ENVELOPE_LENDIGITS_MAX ||
		    (digits == 1 && n == 0)) {
			*why = "bad length";
			return -1;
		}
		n = n * 10 + (size_t)(*p - '0');
		digits++;
	}
	if (digits == 0 || p == end || *p != ':') {
		*why = "bad length";
		return -1;
	}
	p++;
	if (n > (size_t)(end - p) || (size_t)(end - p) - n < 1) {
		*why = "record runs past the end";
		return -1;
	}
	if (p[n] != '\n') {
		*why = "record not terminated by LF";
		return -1;
	}
	*val = p;
	*len = n;
	*pp = p + n + 1;
	return 0;
}

/* A decimal integer in the tag's range, in its one canonical spelling. */
static int
get_int(enum tag t, const uint8_t *p, size_t len, int64_t *v,
    const char **why)
{
	char		 num[ENVELOPE_INT_MAX + 1];
	char		*ep;
	long long	 ll;
	size_t		 i;

	*why = "bad number";
	if (len == 0 || len > ENVELOPE_INT_MAX)
		return -1;
	for (i = 0; i < len; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (i == 0 && p[i] == '-')))
			return -1;
	memcpy(num, p, len);
	num[len] = '\0';
	errno = 0;
	ll = strtoll(num, &ep, 10);
	if (errno != 0 || *ep != '\0')
		return -1;
	/* Rejects "-0", "01", "+1", " 1": the encoder writes none. */
	snprintf(num, sizeof(num), "%lld", ll);
	if (strlen(num) != len || memcmp(num, p, len) != 0)
		return -1;
	if (ll < tags[t].lo || ll > tags[t].hi) {
		*why = "number out of range";
		return -1;
	}
	*v = ll;
	return 0;
}

/* Where the value of a string record goes. */
static struct envelope_str *
str_field(struct envelope *e, enum tag t)
{
	struct envelope_rcpt	*r = e->nrcpt ? &e->rcpt[e->nrcpt - 1] : NULL;

	switch (t) {
	case T_SENDER:
		return &e->sender;
	case T_ENVID:
		return &e->envid;
	case T_CONNECTOR:
		return &e->connector;
	case T_AUTH_USER:
		return &e->auth_user;
	case T_CLIENT_ADDR:
		return &e->client_addr;
	case T_CLIENT_NAME:
		return &e->client_name;
	case T_TLS:
		return &e->tls;
	case T_RCPT:
		return &r->addr;
	case T_ORCPT_TYPE:
		return &r->orcpt_type;
	case T_ORCPT:
		return &r->orcpt;
	case T_LAST_MTA:
		return &r->last_mta;
	case T_LAST:
		return &r->last;
	default:
		return NULL;
	}
}

static void
int_field(struct envelope *e, enum tag t, int64_t v)
{
	switch (t) {
	case T_BODY:
		e->body = (int)v;
		break;
	case T_SMTPUTF8:
		e->smtputf8 = (int)v;
		break;
	case T_RET:
		e->ret = (int)v;
		break;
	case T_CONNECTOR_ID:
		e->connector_id = v;
		break;
	case T_TIME:
		e->time = v;
		break;
	case T_SIZE:
		e->size = (uint64_t)v;
		break;
	case T_WARNED:
		e->warned = (int)v;
		break;
	case T_NOTIFY:
		e->rcpt[e->nrcpt - 1].notify = (int)v;
		break;
	case T_STATE:
		e->rcpt[e->nrcpt - 1].state = (int)v;
		break;
	case T_ATTEMPTS:
		e->rcpt[e->nrcpt - 1].attempts = (int)v;
		break;
	case T_NEXT_TRY:
		e->rcpt[e->nrcpt - 1].next_try = v;
		break;
	default:
		break;
	}
}

/*
 * Is t the record expected after prev?  *why explains a mismatch: a
 * single-valued tag seen again is a duplicate, one further on means
 * records are missing.
 */
static int
expected(enum tag prev, enum tag t, size_t nrcpt, size_t want,
    const char **why)
{
	enum tag	 next;

	if (prev == T_LAST || prev == T_NRCPT)
		next = nrcpt < want ? T_RCPT : T_END;
	else
		next = (enum tag)(prev + 1);
	if (t == next)
		return 1;
	if (t < T_RCPT && t <= prev)
		*why = "duplicate record";
	else if (t == T_RCPT && next == T_END)
		*why = "more recipients than nrcpt";
	else if (t == T_END && next == T_RCPT)
		*why = "fewer recipients than nrcpt";
	else if (next == T_RCPT || prev >= T_RCPT)
		*why = "bad recipient records";
	else
		*why = "missing record";
	return 0;
}

int
envelope_decode(struct envelope *e, const uint8_t *buf, size_t len,
    const char **why)
{
	const uint8_t	*p = buf, *end = buf + len, *val;
	size_t		 vlen, want = 0;
	enum tag	 t, prev = T_VERSION;
	int64_t		 v;

	envelope_init(e);
	if (get_record(&p, end, &t, &val, &vlen, why) == -1)
		goto fail;
	if (t != T_VERSION) {
		*why = "no version record first";
		goto fail;
	}
	if (get_int(t, val, vlen, &v, why) == -1) {
		*why = "unsupported version";
		goto fail;
	}
	for (;;) {
		if (p == end) {
			*why = "no end record";
			goto fail;
		}
		if (get_record(&p, end, &t, &val, &vlen, why) == -1)
			goto fail;
		if (!expected(prev, t, e->nrcpt, want, why))
			goto fail;
		prev = t;
		if (t == T_END) {
			if (vlen != 0) {
				*why = "end record with a value";
				goto fail;
			}
			break;
		}
		switch (tags[t].kind) {
		case K_ID:
			if (!envelope_id_valid((const char *)val, vlen)) {
				*why = "bad queue id";
				goto fail;
			}
			memcpy(e->id, val, vlen);
			e->id[vlen] = '\0';
			break;
		case K_INT:
			if (get_int(t, val, vlen, &v, why) == -1)
				goto fail;
			if (t == T_NRCPT)
				want = (size_t)v;
			else
				int_field(e, t, v);
			break;
		case K_STR:
			if (vlen > tags[t].max) {
				*why = "field too long";
				goto fail;
			}
			if (t == T_RCPT && rcpt_new(e) == NULL) {
				*why = "out of memory";
				goto fail;
			}
			if (envelope_set(str_field(e, t), tags[t].max, val,
			    vlen) == -1) {
				*why = "out of memory";
				goto fail;
			}
			break;
		case K_NONE:
			break;
		}
	}
	if (p != end) {
		*why = "bytes after the end record";
		goto fail;
	}
	return 0;
fail:
	envelope_free(e);
	return -1;
}
