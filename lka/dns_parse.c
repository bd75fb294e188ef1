/*
 * DNS wire-format answers, parsed with every hostile case in mind
 * (SECURITY.md N1, N2): names are read with a cap on compression jumps
 * and on length, CNAME chains are followed at most DNS_CNAME_MAX links,
 * and an answer over any cap is a temporary failure, never a silent cut.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

#define DNS_HDR_LEN		12
#define DNS_JUMPS_MAX		32	/* compression pointers in one name */
#define DNS_RCODE_SERVFAIL	2
#define DNS_RCODE_NXDOMAIN	3
#define DNS_T_CNAME		5
#define DNS_CLASS_IN		1
#define DNS_FLAG_TC		0x0200

struct dns_wire {
	const uint8_t	*p;
	size_t		 len;
};

/* One resource record of the answer section, before interpretation. */
struct dns_raw {
	char		 owner[DNS_NAME_MAX + 1];
	uint16_t	 type;
	uint16_t	 class;
	size_t		 rdoff;		/* offset of the rdata in the packet */
	uint16_t	 rdlen;
};

const char *
dns_type_name(enum dns_type t)
{
	switch (t) {
	case DNS_T_A:
		return "A";
	case DNS_T_AAAA:
		return "AAAA";
	case DNS_T_MX:
		return "MX";
	case DNS_T_TXT:
		return "TXT";
	case DNS_T_PTR:
		return "PTR";
	}
	return "?";
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * Read the name at *off into out (presentation form, no trailing dot,
 * "" for the root) and advance *off past it in the record.  -1 on any
 * malformation: out of bounds, too long, too many jumps, bad label type.
 */
static int
dns_name(const struct dns_wire *w, size_t *off, char *out, size_t outlen)
{
	size_t	 pos = *off, o = 0, end = 0;
	int	 jumps = 0, jumped = 0;
	uint8_t	 l, c, i;

	for (;;) {
		if (pos >= w->len)
			return -1;
		l = w->p[pos];
		if ((l & 0xc0) == 0xc0) {
			if (pos + 1 >= w->len || ++jumps > DNS_JUMPS_MAX)
				return -1;
			if (!jumped)
				end = pos + 2;
			jumped = 1;
			pos = (size_t)(l & 0x3f) << 8 | w->p[pos + 1];
			continue;
		}
		if (l & 0xc0)
			return -1;		/* extended label types */
		if (l == 0) {
			if (!jumped)
				end = pos + 1;
			break;
		}
		if (pos + 1 + l > w->len || o + l + 2 > outlen ||
		    o + l + 1 > DNS_NAME_MAX)
			return -1;
		if (o > 0)
			out[o++] = '.';
		/* A label holding a dot, a NUL or a space would fake
		 * another name or break a log line: refuse the name. */
		for (i = 0; i < l; i++) {
			c = w->p[pos + 1 + i];
			if (c <= ' ' || c >= 0x7f || c == '.')
				return -1;
			out[o++] = (char)c;
		}
		pos += 1 + (size_t)l;
	}
	out[o] = '\0';
	*off = end;
	return 0;
}

struct dns_answer *
dns_answer_tempfail(const char *why)
{
	struct dns_answer	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->status = DNS_TEMPFAIL;
	strlcpy(a->why, why, sizeof(a->why));
	return a;
}

/* TXT rdata: character-strings, joined. */
static int
dns_rr_txt(const struct dns_wire *w, const struct dns_raw *r,
    struct dns_rr *rr)
{
	size_t	 pos = r->rdoff, end = r->rdoff + r->rdlen, len = 0;
	uint8_t	 l;
	int	 n = 0;

	if ((rr->u.txt.data = malloc(DNS_TXT_MAX + 1)) == NULL)
		return -1;
	while (pos < end) {
		l = w->p[pos];
		if (pos + 1 + l > end || len + l > DNS_TXT_MAX ||
		    ++n > DNS_TXT_STRINGS_MAX)
			return -1;
		memcpy(rr->u.txt.data + len, w->p + pos + 1, l);
		len += l;
		pos += 1 + (size_t)l;
	}
	rr->u.txt.data[len] = '\0';
	rr->u.txt.len = len;
	rr->u.txt.nstrings = n;
	return 0;
}

static int
dns_rr_decode(const struct dns_wire *w, const struct dns_raw *r,
    enum dns_type qtype, struct dns_rr *rr)
{
	size_t	 off = r->rdoff;

	memset(rr, 0, sizeof(*rr));
	rr->type = qtype;
	switch (qtype) {
	case DNS_T_A:
		if (r->rdlen != 4)
			return -1;
		memcpy(rr->u.addr, w->p + r->rdoff, 4);
		return 0;
	case DNS_T_AAAA:
		if (r->rdlen != 16)
			return -1;
		memcpy(rr->u.addr, w->p + r->rdoff, 16);
		return 0;
	case DNS_T_MX:
		if (r->rdlen < 3)
			return -1;
		rr->u.mx.pref = get16(w->p + off);
		off += 2;
		if (dns_name(w, &off, rr->u.mx.host, sizeof(rr->u.mx.host)) ==
		    -1 || off != r->rdoff + r->rdlen)
			return -1;
		return 0;
	case DNS_T_PTR:
		if (dns_name(w, &off, rr->u.ptr, sizeof(rr->u.ptr)) == -1 ||
		    off != r->rdoff + r->rdlen)
			return -1;
		return 0;
	case DNS_T_TXT:
		return dns_rr_txt(w, r, rr);
	}
	return -1;
}

/*
 * Parse a response to (qname, qtype).  Always returns an answer (NULL
 * only when out of memory); a malformed packet is a DNS_TEMPFAIL that
 * says why.
 */
struct dns_answer *
dns_parse(const uint8_t *pkt, size_t len, const char *qname,
    enum dns_type qtype)
{
	struct dns_wire		 w = { pkt, len };
	struct dns_raw		*raw = NULL;
	struct dns_answer	*a = NULL;
	char			 name[DNS_NAME_MAX + 1], cur[DNS_NAME_MAX + 1];
	size_t			 off = DNS_HDR_LEN, i;
	uint16_t		 flags, qd, an;
	int			 rcode, hops, n = 0, found;
	const char		*why = NULL;

	if (len < DNS_HDR_LEN)
		return dns_answer_tempfail("short DNS answer");
	flags = get16(pkt + 2);
	rcode = flags & 0x0f;
	qd = get16(pkt + 4);
	an = get16(pkt + 6);
	if (flags & DNS_FLAG_TC)
		return dns_answer_tempfail("truncated DNS answer");
	if (rcode == DNS_RCODE_SERVFAIL)
		return dns_answer_tempfail("SERVFAIL");
	if (rcode != 0 && rcode != DNS_RCODE_NXDOMAIN) {
		snprintf(name, sizeof(name), "DNS error (rcode %d)", rcode);
		return dns_answer_tempfail(name);
	}
	if (an > DNS_RR_MAX + DNS_CNAME_MAX)
		return dns_answer_tempfail("too many records in the answer");
	for (i = 0; i < qd; i++) {
		if (dns_name(&w, &off, name, sizeof(name)) == -1 ||
		    off + 4 > len)
			return dns_answer_tempfail("malformed DNS question");
		off += 4;
	}
	if (an > 0 && (raw = calloc(an, sizeof(*raw))) == NULL)
		return NULL;
	for (i = 0; i < an; i++) {
		if (dns_name(&w, &off, raw[i].owner, sizeof(raw[i].owner)) ==
		    -1 || off + 10 > len) {
			why = "malformed DNS record";
			goto fail;
		}
		raw[i].type = get16(pkt + off);
		raw[i].class = get16(pkt + off + 2);
		raw[i].rdlen = get16(pkt + off + 8);
		raw[i].rdoff = off + 10;
		off += 10 + (size_t)raw[i].rdlen;
		if (off > len) {
			why = "malformed DNS record";
			goto fail;
		}
	}
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (an > 0 && (a->rr = calloc(an, sizeof(*a->rr))) == NULL))
		goto oom;
	/* Follow the CNAME chain from the question to the records asked. */
	strlcpy(cur, qname, sizeof(cur));
	for (hops = 0;; hops++) {
		found = 0;
		for (i = 0; i < an; i++) {
			if (raw[i].class != DNS_CLASS_IN ||
			    raw[i].type != qtype ||
			    !dns_name_eq(raw[i].owner, cur))
				continue;
			if (dns_rr_decode(&w, &raw[i], qtype, &a->rr[n]) ==
			    -1) {
				a->nrr = n + 1;	/* free what it allocated */
				why = qtype == DNS_T_TXT ?
				    "TXT record over the size cap or malformed" :
				    "malformed DNS record data";
				goto fail;
			}
			n++;
			found = 1;
		}
		if (found)
			break;
		for (i = 0; i < an; i++) {
			if (raw[i].class == DNS_CLASS_IN &&
			    raw[i].type == DNS_T_CNAME &&
			    dns_name_eq(raw[i].owner, cur)) {
				off = raw[i].rdoff;
				if (dns_name(&w, &off, cur, sizeof(cur)) == -1 ||
				    off != raw[i].rdoff + raw[i].rdlen) {
					why = "malformed CNAME";
					goto fail;
				}
				break;
			}
		}
		if (i == an)
			break;
		if (hops == DNS_CNAME_MAX) {
			why = "CNAME chain too long";
			goto fail;
		}
	}
	a->nrr = n;
	if (n > DNS_RR_MAX) {
		why = "too many records in the answer";
		goto fail;
	}
	if (n > 0)
		a->status = DNS_ANSWER;
	else
		a->status = rcode == DNS_RCODE_NXDOMAIN ? DNS_NXDOMAIN :
		    DNS_NODATA;
	free(raw);
	return a;
fail:
	free(raw);
	dns_answer_free(a);
	return dns_answer_tempfail(why);
oom:
	free(raw);
	dns_answer_free(a);
	return NULL;
}
