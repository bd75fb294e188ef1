/*
 * libFuzzer target for the queue envelope codec (SECURITY.md I3): the
 * file the queue process reads back, which must say exactly what the
 * smtp process gave it, whatever bytes the client put in its fields.
 *
 * Input: read twice.
 *  1. As an envelope file: when envelope_decode() accepts it, the fields
 *     are within their caps and ranges, each string is NUL-terminated at
 *     its length, and envelope_encode() of the result gives back the
 *     input byte for byte (only canonical encodings are accepted).
 *  2. As the fields of an envelope, taken in order by build(): each
 *     string a length (two octets, modulo the field's cap plus one) and
 *     that many octets of any value, LF, CR and NUL included; each
 *     integer from octets, folded into its range; 1 to 8 recipients.
 *     The envelope must encode, decode to the same fields, and encode
 *     again to the same bytes.  Out-of-range values must not encode.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../queue/envelope.h"

#define FUZZ_NAME	"fuzz_envelope"
#include "fuzz.h"

struct src {
	const uint8_t	*p;
	size_t		 len;
};

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Octets past the end of the input read as zero. */
static uint8_t
take8(struct src *s)
{
	uint8_t	 c = 0;

	if (s->len > 0) {
		c = *s->p++;
		s->len--;
	}
	return c;
}

static uint64_t
take64(struct src *s)
{
	uint64_t v = 0;
	int	 i;

	for (i = 0; i < 8; i++)
		v = v << 8 | take8(s);
	return v;
}

static void
take_str(struct src *s, struct envelope_str *str, size_t max)
{
	size_t	 len;

	len = ((size_t)take8(s) << 8 | take8(s)) % (max + 1);
	if (len > s->len)
		len = s->len;
	if (envelope_set(str, max, s->p, len) == -1)
		fuzz_die("envelope_set refused %zu octets, cap %zu", len, max);
	s->p += len;
	s->len -= len;
}

static void
check_str(const struct envelope_str *s, size_t max, const char *what)
{
	if (s->len > max)
		fuzz_die("%s over its cap", what);
	if (s->s == NULL ? s->len != 0 : s->s[s->len] != '\0')
		fuzz_die("%s not NUL-terminated at its length", what);
}

static void
check_fields(const struct envelope *e)
{
	size_t	 i;

	if (!envelope_id_valid(e->id, strlen(e->id)))
		fuzz_die("bad id decoded");
	if (e->nrcpt == 0 || e->nrcpt > ENVELOPE_RCPT_MAX ||
	    e->nrcpt > e->rcpt_alloc)
		fuzz_die("recipient count out of range");
	if (e->body < 0 || e->body > ENVELOPE_BODY_MAX || e->ret < 0 ||
	    e->ret > ENVELOPE_RET_MAX || (e->smtputf8 != 0 &&
	    e->smtputf8 != 1) || e->connector_id < 0 || e->time < 0 ||
	    e->size > INT64_MAX)
		fuzz_die("integer out of range");
	check_str(&e->sender, ENVELOPE_ADDR_MAX, "sender");
	check_str(&e->envid, ENVELOPE_ENVID_MAX, "envid");
	check_str(&e->connector, ENVELOPE_NAME_MAX, "connector");
	check_str(&e->auth_user, ENVELOPE_USER_MAX, "auth-user");
	check_str(&e->client_addr, ENVELOPE_CLIENT_MAX, "client-addr");
	check_str(&e->client_name, ENVELOPE_HELO_MAX, "client-name");
	check_str(&e->tls, ENVELOPE_TLS_MAX, "tls");
	for (i = 0; i < e->nrcpt; i++) {
		check_str(&e->rcpt[i].addr, ENVELOPE_ADDR_MAX, "rcpt");
		check_str(&e->rcpt[i].orcpt_type, ENVELOPE_ORCPT_TYPE_MAX,
		    "orcpt-type");
		check_str(&e->rcpt[i].orcpt, ENVELOPE_ORCPT_MAX, "orcpt");
		if (e->rcpt[i].notify < 0 ||
		    e->rcpt[i].notify > ENVELOPE_NOTIFY_MAX)
			fuzz_die("notify out of range");
	}
}

static int
str_eq(const struct envelope_str *a, const struct envelope_str *b)
{
	return a->len == b->len && (a->len == 0 ||
	    memcmp(a->s, b->s, a->len) == 0);
}

static int
env_eq(const struct envelope *a, const struct envelope *b)
{
	size_t	 i;

	if (strcmp(a->id, b->id) != 0 || a->body != b->body ||
	    a->smtputf8 != b->smtputf8 || a->ret != b->ret ||
	    a->connector_id != b->connector_id || a->time != b->time ||
	    a->size != b->size || a->nrcpt != b->nrcpt ||
	    !str_eq(&a->sender, &b->sender) || !str_eq(&a->envid, &b->envid) ||
	    !str_eq(&a->connector, &b->connector) ||
	    !str_eq(&a->auth_user, &b->auth_user) ||
	    !str_eq(&a->client_addr, &b->client_addr) ||
	    !str_eq(&a->client_name, &b->client_name) ||
	    !str_eq(&a->tls, &b->tls))
		return 0;
	for (i = 0; i < a->nrcpt; i++)
		if (a->rcpt[i].notify != b->rcpt[i].notify ||
		    !str_eq(&a->rcpt[i].addr, &b->rcpt[i].addr) ||
		    !str_eq(&a->rcpt[i].orcpt_type, &b->rcpt[i].orcpt_type) ||
		    !str_eq(&a->rcpt[i].orcpt, &b->rcpt[i].orcpt))
			return 0;
	return 1;
}

/* Part 1: the input as a file. */
static void
decode_input(const uint8_t *data, size_t size)
{
	struct envelope	 e;
	const char	*why = NULL;
	uint8_t		*out;
	size_t		 outlen;

	if (envelope_decode(&e, data, size, &why) == -1) {
		if (why == NULL || why[0] == '\0' || !fuzz_printable(why))
			fuzz_die("refused without a printable reason");
		if (e.nrcpt != 0 || e.rcpt != NULL || e.sender.s != NULL)
			fuzz_die("refused but left fields allocated");
		return;
	}
	check_fields(&e);
	if (envelope_encode(&e, &out, &outlen) == -1)
		fuzz_die("a decoded envelope does not encode: %s",
		    strerror(errno));
	if (outlen != size || memcmp(out, data, size) != 0)
		fuzz_die("accepted a non-canonical encoding");
	free(out);
	envelope_free(&e);
}

static void
build(struct envelope *e, struct src *s)
{
	static const char	 hexd[] = "0123456789abcdef";
	struct envelope_rcpt	*r;
	size_t			 i, n;
	uint8_t			 c;

	envelope_init(e);
	for (i = 0; i < ENVELOPE_ID_LEN; i++)
		e->id[i] = hexd[take8(s) & 15];
	e->id[ENVELOPE_ID_LEN] = '\0';
	take_str(s, &e->sender, ENVELOPE_ADDR_MAX);
	c = take8(s);
	e->body = c % (ENVELOPE_BODY_MAX + 1);
	e->smtputf8 = (c >> 2) & 1;
	e->ret = (c >> 3) % (ENVELOPE_RET_MAX + 1);
	take_str(s, &e->envid, ENVELOPE_ENVID_MAX);
	e->connector_id = (int64_t)(take64(s) & INT64_MAX);
	take_str(s, &e->connector, ENVELOPE_NAME_MAX);
	take_str(s, &e->auth_user, ENVELOPE_USER_MAX);
	take_str(s, &e->client_addr, ENVELOPE_CLIENT_MAX);
	take_str(s, &e->client_name, ENVELOPE_HELO_MAX);
	take_str(s, &e->tls, ENVELOPE_TLS_MAX);
	e->time = (int64_t)(take64(s) & INT64_MAX);
	e->size = take64(s) & INT64_MAX;
	n = 1 + take8(s) % 8;
	for (i = 0; i < n; i++) {
		if (envelope_rcpt_add(e, "", 0, take8(s) & ENVELOPE_NOTIFY_MAX,
		    "", 0, "", 0) == -1)
			fuzz_die("envelope_rcpt_add refused");
		r = &e->rcpt[e->nrcpt - 1];
		take_str(s, &r->addr, ENVELOPE_ADDR_MAX);
		take_str(s, &r->orcpt_type, ENVELOPE_ORCPT_TYPE_MAX);
		take_str(s, &r->orcpt, ENVELOPE_ORCPT_MAX);
	}
}

/* Part 2: an envelope made of the input's octets. */
static void
round_trip(const uint8_t *data, size_t size)
{
	struct envelope	 e, d;
	struct src	 s = { data, size };
	const char	*why = NULL;
	uint8_t		*out, *out2;
	size_t		 outlen, outlen2;
	int		 saved;

	build(&e, &s);
	check_fields(&e);
	if (envelope_encode(&e, &out, &outlen) == -1)
		fuzz_die("a valid envelope does not encode: %s",
		    strerror(errno));
	if (envelope_decode(&d, out, outlen, &why) == -1)
		fuzz_die("an encoded envelope does not decode: %s", why);
	check_fields(&d);
	if (!env_eq(&e, &d))
		fuzz_die("decoded fields differ from the encoded ones");
	if (envelope_encode(&d, &out2, &outlen2) == -1)
		fuzz_die("a decoded envelope does not encode again");
	if (outlen2 != outlen || memcmp(out, out2, outlen) != 0)
		fuzz_die("encode, decode, encode changes the bytes");
	free(out2);
	envelope_free(&d);

	/* One field out of its range: no encoding at all. */
	switch (take8(&s) % 6) {
	case 0:
		e.body = ENVELOPE_BODY_MAX + 1;
		break;
	case 1:
		e.ret = -1;
		break;
	case 2:
		e.time = -1;
		break;
	case 3:
		e.size = (uint64_t)INT64_MAX + 1;
		break;
	case 4:
		e.rcpt[e.nrcpt - 1].notify = ENVELOPE_NOTIFY_MAX + 1;
		break;
	default:
		e.id[0] = 'G';
		break;
	}
	free(out);
	out = NULL;
	if (envelope_encode(&e, &out, &outlen) != -1)
		fuzz_die("an out-of-range field encodes");
	saved = errno;
	if (saved != EINVAL)
		fuzz_die("out-of-range field: errno %d, not EINVAL", saved);
	envelope_free(&e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode_input(data, size);
	round_trip(data, size);
	return 0;
}
