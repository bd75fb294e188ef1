/*
 * dns_parse: wire-format answers, hostile ones first (SECURITY.md N1,
 * N2).  Packets are built here from rows: records in presentation form,
 * names with zone-file escapes and compression pointers.
 */
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "dns.h"
#include "../fuzz/dns_check.h"

#define NROWS(a)	(sizeof(a) / sizeof((a)[0]))
#define PKT_MAX		(128 * 1024)
#define ROW_RR_MAX	12
#define ROW_WANT_MAX	4

#define T_CNAME		5
#define C_IN		1
#define C_CH		3
#define F_RESPONSE	0x8180		/* QR RD RA, rcode 0 */
#define F_TC		0x0200

/* The question name is at offset 12: "@12" points at it. */
#define Q		"@12"
#define QNAME		"example.com"

#define L10	"aaaaaaaaaa"
#define L62	L10 L10 L10 L10 L10 L10 "aa"
#define L63	L62 "a"
#define L64	L63 "a"

struct pkt {
	uint8_t	*b;
	size_t	 len;
};

static void
put8(struct pkt *p, unsigned v)
{
	assert_true(p->len < PKT_MAX);
	p->b[p->len++] = (uint8_t)v;
}

static void
put16(struct pkt *p, unsigned v)
{
	put8(p, v >> 8);
	put8(p, v & 0xff);
}

static void
put_bytes(struct pkt *p, const void *v, size_t len)
{
	assert_true(p->len + len <= PKT_MAX);
	memcpy(p->b + p->len, v, len);
	p->len += len;
}

/* An empty label is the root: "." is the name of no labels. */
static void
put_label(struct pkt *p, const uint8_t *label, size_t n)
{
	if (n > 0) {
		put8(p, n);
		put_bytes(p, label, n);
	}
}

/*
 * A name in presentation form: "\." and "\DDD" escape a byte of a label
 * (its length byte is written as is, so a 64-byte label makes type
 * 0x40); a last label "@N" is a compression pointer to offset N, "@@"
 * one to itself.
 */
static void
put_name(struct pkt *p, const char *s)
{
	uint8_t	 label[256];
	size_t	 n = 0;

	for (; *s != '\0'; s++) {
		if (*s == '@' && n == 0) {
			put16(p, 0xc000 | (s[1] == '@' ? p->len :
			    strtoul(s + 1, NULL, 10)));
			return;
		}
		if (*s == '.') {
			put_label(p, label, n);
			n = 0;
			continue;
		}
		if (*s == '\\' && s[1] >= '0' && s[1] <= '9') {
			label[n++] = (s[1] - '0') * 100 + (s[2] - '0') * 10 +
			    (s[3] - '0');
			s += 3;
		} else if (*s == '\\')
			label[n++] = *++s;
		else
			label[n++] = *s;
		assert_true(n < sizeof(label));
	}
	put_label(p, label, n);
	put8(p, 0);
}

static void
pkt_header(struct pkt *p, unsigned flags, unsigned qd, unsigned an)
{
	p->len = 0;
	put16(p, 0x1234);
	put16(p, flags);
	put16(p, qd);
	put16(p, an);
	put16(p, 0);
	put16(p, 0);
}

static void
pkt_question(struct pkt *p, const char *name, unsigned type)
{
	put_name(p, name);
	put16(p, type);
	put16(p, C_IN);
}

/* Owner, type, class, TTL; returns where rr_end() puts the rdlength. */
static size_t
rr_begin(struct pkt *p, const char *owner, unsigned type, unsigned class)
{
	size_t	 at;

	put_name(p, owner);
	put16(p, type);
	put16(p, class);
	put16(p, 0);
	put16(p, 3600);
	at = p->len;
	put16(p, 0);
	return at;
}

static void
rr_end(struct pkt *p, size_t at)
{
	size_t	 rdlen = p->len - at - 2;

	assert_true(rdlen <= 0xffff);
	p->b[at] = rdlen >> 8;
	p->b[at + 1] = rdlen & 0xff;
}

/*
 * One record of a row.  data by type: an address, "pref host" (MX), a
 * name (CNAME, PTR), character-strings split at '|' (TXT); rawlen > 0:
 * data is the rdata itself.
 */
struct rr_spec {
	const char	*owner;
	unsigned	 type;		/* 0: no more records */
	unsigned	 class;		/* 0: IN */
	const char	*data;
	size_t		 rawlen;
};

#define RR(o, t, d)		{ o, t, 0, d, 0 }
#define RR_CLASS(o, t, c, d)	{ o, t, c, d, 0 }
#define RR_RAW(o, t, d)		{ o, t, 0, d, sizeof(d) - 1 }

static void
put_rdata(struct pkt *p, const struct rr_spec *r)
{
	uint8_t		 addr[16];
	const char	*s, *bar;
	char		*end;

	if (r->rawlen > 0) {
		put_bytes(p, r->data, r->rawlen);
		return;
	}
	switch (r->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		assert_int_equal(inet_pton(r->type == DNS_T_A ? AF_INET :
		    AF_INET6, r->data, addr), 1);
		put_bytes(p, addr, r->type == DNS_T_A ? 4 : 16);
		break;
	case DNS_T_MX:
		put16(p, strtoul(r->data, &end, 10));
		put_name(p, end + 1);
		break;
	case DNS_T_TXT:
		for (s = r->data; ; s = bar + 1) {
			if ((bar = strchr(s, '|')) == NULL)
				bar = s + strlen(s);
			put8(p, bar - s);
			put_bytes(p, s, bar - s);
			if (*bar == '\0')
				break;
		}
		break;
	default:
		put_name(p, r->data);
		break;
	}
}

/* The packet of a row: one question, then its records. */
static void
pkt_build(struct pkt *p, unsigned flags, const char *qname,
    enum dns_type qtype, const struct rr_spec *rr)
{
	size_t	 an, at;

	for (an = 0; an < ROW_RR_MAX && rr[an].type != 0; an++)
		;
	pkt_header(p, flags, 1, an);
	pkt_question(p, qname, qtype);
	for (; rr->type != 0; rr++) {
		at = rr_begin(p, rr->owner, rr->type, rr->class ? rr->class :
		    C_IN);
		put_rdata(p, rr);
		rr_end(p, at);
	}
}

/* Parse from a buffer of exactly len bytes, so ASan sees any overread. */
static struct dns_answer *
parse_exact(const uint8_t *pkt, size_t len, const char *qname,
    enum dns_type qtype)
{
	struct dns_answer	*a;
	uint8_t			*copy;

	assert_non_null(copy = malloc(len > 0 ? len : 1));
	memcpy(copy, pkt, len);
	a = dns_parse(copy, len, qname, qtype);
	free(copy);
	assert_non_null(a);
	return a;
}

/* A record as the rows show it; TXT as "nstrings:data", \DDD escaped. */
static const char *
rr_text(const struct dns_rr *rr, char *buf, size_t len)
{
	size_t	 i, o;

	switch (rr->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		inet_ntop(rr->type == DNS_T_A ? AF_INET : AF_INET6,
		    rr->u.addr, buf, len);
		break;
	case DNS_T_MX:
		snprintf(buf, len, "%u %s", rr->u.mx.pref, rr->u.mx.host);
		break;
	case DNS_T_PTR:
		snprintf(buf, len, "%s", rr->u.ptr);
		break;
	case DNS_T_TXT:
		o = snprintf(buf, len, "%d:", rr->u.txt.nstrings);
		for (i = 0; i < rr->u.txt.len && o + 5 < len; i++) {
			if (rr->u.txt.data[i] >= 0x20 &&
			    rr->u.txt.data[i] < 0x7f)
				buf[o++] = rr->u.txt.data[i];
			else
				o += snprintf(buf + o, len - o, "\\%03u",
				    (unsigned char)rr->u.txt.data[i]);
		}
		buf[o] = '\0';
		break;
	}
	return buf;
}

/* Status, records as text (want up to a NULL), why; frees the answer. */
static void
check_answer(const char *row, struct dns_answer *a, enum dns_type qtype,
    enum dns_status status, const char *const *want, const char *why)
{
	const char	*broken;
	char		 got[1024];
	int		 nwant, i;

	for (nwant = 0; nwant < ROW_WANT_MAX && want[nwant] != NULL; nwant++)
		;
	if (a->status != status || a->nrr != nwant ||
	    strcmp(a->why, why) != 0)
		fail_msg("row \"%s\": got status %d, %d records, why \"%s\"; "
		    "want %d, %d, \"%s\"", row, a->status, a->nrr, a->why,
		    status, nwant, why);
	for (i = 0; i < nwant; i++)
		if (strcmp(rr_text(&a->rr[i], got, sizeof(got)), want[i]) != 0)
			fail_msg("row \"%s\": record %d is \"%s\", want \"%s\"",
			    row, i, got, want[i]);
	if ((broken = dns_check_answer(a, qtype)) != NULL)
		fail_msg("row \"%s\": %s", row, broken);
	dns_answer_free(a);
}

/* Nine CNAMEs: the question name -> c1 -> ... -> c9. */
#define CHAIN9	RR(Q, T_CNAME, "c1." QNAME), \
	RR("c1." QNAME, T_CNAME, "c2." QNAME), \
	RR("c2." QNAME, T_CNAME, "c3." QNAME), \
	RR("c3." QNAME, T_CNAME, "c4." QNAME), \
	RR("c4." QNAME, T_CNAME, "c5." QNAME), \
	RR("c5." QNAME, T_CNAME, "c6." QNAME), \
	RR("c6." QNAME, T_CNAME, "c7." QNAME), \
	RR("c7." QNAME, T_CNAME, "c8." QNAME), \
	RR("c8." QNAME, T_CNAME, "c9." QNAME)

/* An A record whose owner name the parser must refuse. */
#define BAD_OWNER(what, owner)	{ what, F_RESPONSE, QNAME, DNS_T_A, \
	{ RR(owner, DNS_T_A, "192.0.2.1") }, 0, DNS_TEMPFAIL, { NULL }, \
	"malformed DNS record" }

static const struct {
	const char	*name;
	unsigned	 flags;		/* rcode, TC */
	const char	*qname;		/* asked, and in the question */
	enum dns_type	 qtype;
	struct rr_spec	 rr[ROW_RR_MAX];
	size_t		 cut;		/* bytes dropped from the end */
	enum dns_status	 status;
	const char	*want[ROW_WANT_MAX];
	const char	*why;
} rows[] = {
	/* Each type. */
	{ "A", F_RESPONSE, QNAME, DNS_T_A, { RR(Q, DNS_T_A, "192.0.2.1"),
	    RR(Q, DNS_T_A, "192.0.2.2") }, 0, DNS_ANSWER,
	    { "192.0.2.1", "192.0.2.2" }, "" },
	{ "AAAA", F_RESPONSE, QNAME, DNS_T_AAAA,
	    { RR(Q, DNS_T_AAAA, "2001:db8::1") }, 0, DNS_ANSWER,
	    { "2001:db8::1" }, "" },
	{ "MX, target compressed", F_RESPONSE, QNAME, DNS_T_MX,
	    { RR(Q, DNS_T_MX, "10 mx1." Q), RR(Q, DNS_T_MX, "20 mx2." Q) },
	    0, DNS_ANSWER, { "10 mx1.example.com", "20 mx2.example.com" },
	    "" },
	{ "MX, target uncompressed", F_RESPONSE, QNAME, DNS_T_MX,
	    { RR(QNAME, DNS_T_MX, "65535 mail.example.net") }, 0,
	    DNS_ANSWER, { "65535 mail.example.net" }, "" },
	{ "null MX", F_RESPONSE, QNAME, DNS_T_MX, { RR(Q, DNS_T_MX, "0 .") },
	    0, DNS_ANSWER, { "0 " }, "" },
	{ "TXT, several strings joined", F_RESPONSE, QNAME, DNS_T_TXT,
	    { RR(Q, DNS_T_TXT, "v=spf1 |ip4:192.0.2.0/24| -all"),
	    RR(Q, DNS_T_TXT, "second") }, 0, DNS_ANSWER,
	    { "3:v=spf1 ip4:192.0.2.0/24 -all", "1:second" }, "" },
	{ "TXT, empty strings and a NUL byte", F_RESPONSE, QNAME, DNS_T_TXT,
	    { RR_RAW(Q, DNS_T_TXT, "\0\3a\0b\0") }, 0, DNS_ANSWER,
	    { "3:a\\000b" }, "" },
	{ "PTR", F_RESPONSE, "1.2.0.192.in-addr.arpa", DNS_T_PTR,
	    { RR(Q, DNS_T_PTR, "host.example.com") }, 0, DNS_ANSWER,
	    { "host.example.com" }, "" },

	/* Nothing there, and failures. */
	{ "NODATA", F_RESPONSE, QNAME, DNS_T_A, { { 0 } }, 0, DNS_NODATA,
	    { NULL }, "" },
	{ "NXDOMAIN", F_RESPONSE | 3, QNAME, DNS_T_A, { { 0 } }, 0,
	    DNS_NXDOMAIN, { NULL }, "" },
	{ "SERVFAIL, even with records", F_RESPONSE | 2, QNAME, DNS_T_A,
	    { RR(Q, DNS_T_A, "192.0.2.1") }, 0, DNS_TEMPFAIL, { NULL },
	    "SERVFAIL" },
	{ "FORMERR", F_RESPONSE | 1, QNAME, DNS_T_A, { { 0 } }, 0,
	    DNS_TEMPFAIL, { NULL }, "DNS error (rcode 1)" },
	{ "NOTIMP", F_RESPONSE | 4, QNAME, DNS_T_A, { { 0 } }, 0,
	    DNS_TEMPFAIL, { NULL }, "DNS error (rcode 4)" },
	{ "REFUSED", F_RESPONSE | 5, QNAME, DNS_T_A,
	    { RR(Q, DNS_T_A, "192.0.2.1") }, 0, DNS_TEMPFAIL, { NULL },
	    "DNS error (rcode 5)" },
	{ "truncated flag", F_RESPONSE | F_TC, QNAME, DNS_T_A,
	    { RR(Q, DNS_T_A, "192.0.2.1") }, 0, DNS_TEMPFAIL, { NULL },
	    "truncated DNS answer" },

	/* CNAME chains (N2). */
	{ "CNAME chain followed", F_RESPONSE, QNAME, DNS_T_A,
	    { RR(Q, T_CNAME, "a." QNAME), RR("a." QNAME, T_CNAME, "b." QNAME),
	    RR("b." QNAME, DNS_T_A, "192.0.2.7") }, 0, DNS_ANSWER,
	    { "192.0.2.7" }, "" },
	{ "CNAME chain, records first", F_RESPONSE, QNAME, DNS_T_TXT,
	    { RR("b." QNAME, DNS_T_TXT, "at b"),
	    RR("a." QNAME, T_CNAME, "b." QNAME), RR(Q, T_CNAME, "a." QNAME) },
	    0, DNS_ANSWER, { "1:at b" }, "" },
	{ "CNAME to a name without records", F_RESPONSE, QNAME, DNS_T_A,
	    { RR(Q, T_CNAME, "a." QNAME) }, 0, DNS_NODATA, { NULL }, "" },
	{ "CNAME to a name that does not exist", F_RESPONSE | 3, QNAME,
	    DNS_T_A, { RR(Q, T_CNAME, "a." QNAME) }, 0, DNS_NXDOMAIN,
	    { NULL }, "" },
	{ "records at the name win over its CNAME", F_RESPONSE, QNAME,
	    DNS_T_A, { RR(Q, T_CNAME, "a." QNAME),
	    RR("a." QNAME, DNS_T_A, "192.0.2.8"), RR(Q, DNS_T_A, "192.0.2.9") },
	    0, DNS_ANSWER, { "192.0.2.9" }, "" },
	{ "records after 8 CNAMEs (a 9th goes on)", F_RESPONSE, QNAME,
	    DNS_T_A,
	    { CHAIN9, RR("c8." QNAME, DNS_T_A, "192.0.2.8") },
	    0, DNS_ANSWER, { "192.0.2.8" }, "" },
	{ "chain of 9 CNAMEs", F_RESPONSE, QNAME, DNS_T_A,
	    { CHAIN9, RR("c9." QNAME, DNS_T_A, "192.0.2.9") },
	    0, DNS_TEMPFAIL, { NULL }, "CNAME chain too long" },
	{ "CNAME loop a -> b -> a", F_RESPONSE, "a." QNAME, DNS_T_A,
	    { RR(Q, T_CNAME, "b." QNAME), RR("b." QNAME, T_CNAME, Q) }, 0,
	    DNS_TEMPFAIL, { NULL }, "CNAME chain too long" },
	{ "CNAME to itself", F_RESPONSE, QNAME, DNS_T_A,
	    { RR(Q, T_CNAME, Q) }, 0, DNS_TEMPFAIL, { NULL },
	    "CNAME chain too long" },
	{ "CNAME target past the end", F_RESPONSE, QNAME, DNS_T_A,
	    { RR(Q, T_CNAME, "@999") }, 0, DNS_TEMPFAIL, { NULL },
	    "malformed CNAME" },
	/* The target must fill the rdata, as MX and PTR targets must. */
	{ "CNAME rdata longer than its target", F_RESPONSE, QNAME, DNS_T_A,
	    { RR_RAW(Q, T_CNAME, "\001b\000X"),
	    RR("b", DNS_T_A, "192.0.2.1") }, 0, DNS_TEMPFAIL, { NULL },
	    "malformed CNAME" },
	{ "CNAME chain in mixed case", F_RESPONSE, QNAME, DNS_T_A,
	    { RR("ExAmPlE.CoM", T_CNAME, "A.example.COM"),
	    RR("a.EXAMPLE.com", DNS_T_A, "192.0.2.5") }, 0, DNS_ANSWER,
	    { "192.0.2.5" }, "" },

	/* Names: compression, lengths, bytes (N2). */
	BAD_OWNER("pointer to itself", "@@"),
	{ "pointer loop in data of an ignored record", F_RESPONSE, QNAME,
	    DNS_T_A,
	    { RR(Q, DNS_T_A, "192.0.2.1"), RR(Q, DNS_T_MX, "1 x.@@") }, 0,
	    DNS_ANSWER, { "192.0.2.1" }, "" },
	BAD_OWNER("pointer past the end", "@999"),
	{ "pointer cut in half", F_RESPONSE, QNAME, DNS_T_A,
	    { RR("@12", DNS_T_A, "192.0.2.1") }, 15, DNS_TEMPFAIL, { NULL },
	    "malformed DNS record" },
	{ "MX target pointer loop", F_RESPONSE, QNAME, DNS_T_MX,
	    { RR(Q, DNS_T_MX, "10 mx.@@") }, 0, DNS_TEMPFAIL, { NULL },
	    "malformed DNS record data" },
	{ "label of 63 bytes", F_RESPONSE, L63 ".example.com", DNS_T_A,
	    { RR(Q, DNS_T_A, "192.0.2.1") }, 0, DNS_ANSWER, { "192.0.2.1" },
	    "" },
	BAD_OWNER("label of 64 bytes (type 0x40)", L64 ".example.com"),
	{ "name of 255 bytes", F_RESPONSE, L63 "." L63 "." L63 "." L63,
	    DNS_T_A, { RR(Q, DNS_T_A, "192.0.2.1") }, 0, DNS_ANSWER,
	    { "192.0.2.1" }, "" },
	BAD_OWNER("name of 256 bytes", L63 "." L63 "." L63 "." L62 ".a"),
	/* The first owner is at 29, after the question. */
	{ "name over 255 bytes through a pointer", F_RESPONSE, QNAME,
	    DNS_T_A, { RR(L63 "." L63 "." L63 "." QNAME, DNS_T_A, "0.0.0.0"),
	    RR(L63 ".@29", DNS_T_A, "192.0.2.1") }, 0, DNS_TEMPFAIL, { NULL },
	    "malformed DNS record" },
	BAD_OWNER("label holding a dot", "a\\.b.example.com"),
	BAD_OWNER("label holding a NUL", "a\\000b.example.com"),
	BAD_OWNER("label holding a space", "a\\032b.example.com"),
	BAD_OWNER("label holding 0x80", "a\\128b.example.com"),
	BAD_OWNER("label holding DEL", "a\\127b.example.com"),
	{ "MX target holding a dot", F_RESPONSE, QNAME, DNS_T_MX,
	    { RR(Q, DNS_T_MX, "10 evil.com\\.example.com") }, 0,
	    DNS_TEMPFAIL, { NULL }, "malformed DNS record data" },
	{ "PTR name holding a NUL", F_RESPONSE, "1.2.0.192.in-addr.arpa",
	    DNS_T_PTR, { RR(Q, DNS_T_PTR, "good.com\\000.evil.com") }, 0,
	    DNS_TEMPFAIL, { NULL }, "malformed DNS record data" },

	/* Record data. */
	{ "rdlength past the end", F_RESPONSE, QNAME, DNS_T_A,
	    { RR(Q, DNS_T_A, "192.0.2.1") }, 1, DNS_TEMPFAIL, { NULL },
	    "malformed DNS record" },
	{ "record header cut", F_RESPONSE, QNAME, DNS_T_A,
	    { RR(Q, DNS_T_A, "192.0.2.1") }, 8, DNS_TEMPFAIL, { NULL },
	    "malformed DNS record" },
	{ "A with rdlength 5", F_RESPONSE, QNAME, DNS_T_A,
	    { RR_RAW(Q, DNS_T_A, "\300\0\2\1\0") }, 0, DNS_TEMPFAIL, { NULL },
	    "malformed DNS record data" },
	{ "AAAA with rdlength 4", F_RESPONSE, QNAME, DNS_T_AAAA,
	    { RR_RAW(Q, DNS_T_AAAA, "\300\0\2\1") }, 0, DNS_TEMPFAIL,
	    { NULL }, "malformed DNS record data" },
	{ "MX with rdlength 2", F_RESPONSE, QNAME, DNS_T_MX,
	    { RR_RAW(Q, DNS_T_MX, "\0\12") }, 0, DNS_TEMPFAIL, { NULL },
	    "malformed DNS record data" },
	{ "MX with bytes after the name", F_RESPONSE, QNAME, DNS_T_MX,
	    { RR_RAW(Q, DNS_T_MX, "\0\12\2mx\300\14x") }, 0, DNS_TEMPFAIL,
	    { NULL }, "malformed DNS record data" },
	{ "MX name running past its rdlength", F_RESPONSE, QNAME, DNS_T_MX,
	    { RR_RAW(Q, DNS_T_MX, "\0\12\2mx"), RR(Q, DNS_T_A, "0.0.0.0") },
	    0, DNS_TEMPFAIL, { NULL }, "malformed DNS record data" },
	{ "TXT string past its rdlength", F_RESPONSE, QNAME, DNS_T_TXT,
	    { RR_RAW(Q, DNS_T_TXT, "\5abc"), RR(Q, DNS_T_A, "0.0.0.0") }, 0,
	    DNS_TEMPFAIL, { NULL },
	    "TXT record over the size cap or malformed" },

	/* What is not ours is ignored. */
	{ "records of other names ignored", F_RESPONSE, QNAME, DNS_T_A,
	    { RR("other.com", DNS_T_A, "192.0.2.66"),
	    RR("www." QNAME, DNS_T_A, "192.0.2.67"),
	    RR(Q, DNS_T_A, "192.0.2.1") }, 0, DNS_ANSWER, { "192.0.2.1" },
	    "" },
	{ "only other names: NODATA", F_RESPONSE, QNAME, DNS_T_A,
	    { RR("example.co", DNS_T_A, "192.0.2.66") }, 0, DNS_NODATA,
	    { NULL }, "" },
	{ "class CH ignored", F_RESPONSE, QNAME, DNS_T_TXT,
	    { RR_CLASS(Q, DNS_T_TXT, C_CH, "chaos"), RR(Q, DNS_T_TXT, "in") },
	    0, DNS_ANSWER, { "1:in" }, "" },
	{ "class CH only: NODATA", F_RESPONSE, QNAME, DNS_T_A,
	    { RR_CLASS(Q, DNS_T_A, C_CH, "192.0.2.1") }, 0, DNS_NODATA,
	    { NULL }, "" },
	{ "other types ignored", F_RESPONSE, QNAME, DNS_T_A,
	    { RR(Q, DNS_T_TXT, "text"), RR(Q, DNS_T_AAAA, "::1"),
	    RR(Q, DNS_T_A, "192.0.2.1") }, 0, DNS_ANSWER, { "192.0.2.1" },
	    "" },
	{ "bad data of an ignored record", F_RESPONSE, QNAME, DNS_T_A,
	    { RR_RAW(Q, DNS_T_AAAA, "\1"), RR(Q, DNS_T_A, "192.0.2.1") }, 0,
	    DNS_ANSWER, { "192.0.2.1" }, "" },
	{ "owner in mixed case", F_RESPONSE, QNAME, DNS_T_A,
	    { RR("eXaMpLe.COM", DNS_T_A, "192.0.2.1") }, 0, DNS_ANSWER,
	    { "192.0.2.1" }, "" },
	{ "asked with a trailing dot", F_RESPONSE, QNAME ".", DNS_T_A,
	    { RR(QNAME, DNS_T_A, "192.0.2.1") }, 0, DNS_ANSWER,
	    { "192.0.2.1" }, "" },
};

static void
test_rows(void **state)
{
	struct pkt	 p;
	size_t		 i;

	assert_non_null(p.b = malloc(PKT_MAX));
	for (i = 0; i < NROWS(rows); i++) {
		pkt_build(&p, rows[i].flags, rows[i].qname, rows[i].qtype,
		    rows[i].rr);
		assert_true(rows[i].cut <= p.len);
		check_answer(rows[i].name, parse_exact(p.b, p.len -
		    rows[i].cut, rows[i].qname, rows[i].qtype), rows[i].qtype,
		    rows[i].status, rows[i].want, rows[i].why);
	}
	free(p.b);
}

#define HDR(an)		"\022\064\201\200\0\1\0" an "\0\0\0\0"
#define RAW(s)		s, sizeof(s) - 1

/* Packets the builder cannot make: bytes as they are on the wire. */
static const struct {
	const char	*name;
	const char	*pkt;
	size_t		 len;
	const char	*why;
} raw_rows[] = {
	{ "empty", RAW(""), "short DNS answer" },
	{ "11 bytes", RAW("\022\064\201\200\0\0\0\0\0\0\0"),
	    "short DNS answer" },
	{ "two pointers at each other", RAW("\022\064\201\200\0\2\0\0\0\0\0\0"
	    "\300\022\0\1\0\1" "\300\014\0\1\0\1"), "malformed DNS question" },
	{ "label type 0x40", RAW(HDR("\0") "\100abc\0\0\1\0\1"),
	    "malformed DNS question" },
	{ "label type 0x80", RAW(HDR("\0") "\200abc\0\0\1\0\1"),
	    "malformed DNS question" },
	{ "label type 0xbf", RAW(HDR("\0") "\277abc\0\0\1\0\1"),
	    "malformed DNS question" },
	{ "question without its type", RAW(HDR("\0") "\0\0\1\0"),
	    "malformed DNS question" },
	{ "more records counted than sent", RAW(HDR("\1") "\0\0\1\0\1"),
	    "malformed DNS record" },
	{ "owner and type pointing at each other", RAW(HDR("\1")
	    "\0\0\1\0\1" "\300\023\300\021\0\1\0\0\0\0\0\4\300\0\2\1"),
	    "malformed DNS record" },
};

static void
test_raw_rows(void **state)
{
	const char	*none[] = { NULL };
	size_t		 i;

	for (i = 0; i < NROWS(raw_rows); i++)
		check_answer(raw_rows[i].name, parse_exact((const uint8_t *)
		    raw_rows[i].pkt, raw_rows[i].len, "", DNS_T_A), DNS_T_A,
		    DNS_TEMPFAIL, none, raw_rows[i].why);
}

/* n records of type (A or TXT) at the question name. */
static struct dns_answer *
parse_many(struct pkt *p, enum dns_type type, unsigned n)
{
	size_t		 at;
	unsigned	 i;

	pkt_header(p, F_RESPONSE, 1, n);
	pkt_question(p, QNAME, type);
	for (i = 0; i < n; i++) {
		at = rr_begin(p, Q, type, C_IN);
		put16(p, i);
		put16(p, i);
		rr_end(p, at);
	}
	return parse_exact(p->b, p->len, QNAME, type);
}

/* Record counts (N1): 256 are kept, more are a temporary failure. */
static void
test_record_count(void **state)
{
	const char		*none[] = { NULL };
	struct dns_answer	*a;
	struct pkt		 p;

	assert_non_null(p.b = malloc(PKT_MAX));
	a = parse_many(&p, DNS_T_A, DNS_RR_MAX);
	assert_int_equal(a->status, DNS_ANSWER);
	assert_int_equal(a->nrr, DNS_RR_MAX);
	assert_memory_equal(a->rr[255].u.addr, "\0\377\0\377", 4);
	dns_answer_free(a);
	check_answer("257 A records", parse_many(&p, DNS_T_A, DNS_RR_MAX + 1),
	    DNS_T_A, DNS_TEMPFAIL, none, "too many records in the answer");
	check_answer("1000 TXT records", parse_many(&p, DNS_T_TXT, 1000),
	    DNS_T_TXT, DNS_TEMPFAIL, none, "too many records in the answer");
	free(p.b);
}

/* One TXT record of nstrings strings of len bytes each, then tail. */
static struct dns_answer *
parse_txt(struct pkt *p, int nstrings, size_t len, size_t tail)
{
	uint8_t		 s[255];
	size_t		 at;
	int		 i;

	memset(s, 'x', sizeof(s));
	pkt_header(p, F_RESPONSE, 1, 1);
	pkt_question(p, QNAME, DNS_T_TXT);
	at = rr_begin(p, Q, DNS_T_TXT, C_IN);
	for (i = 0; i < nstrings; i++) {
		put8(p, len);
		put_bytes(p, s, len);
	}
	if (tail > 0) {
		put8(p, tail);
		put_bytes(p, s, tail);
	}
	rr_end(p, at);
	return parse_exact(p->b, p->len, QNAME, DNS_T_TXT);
}

/* TXT size (N1): strings joined up to DNS_TXT_MAX, over it never cut. */
static void
test_txt_size(void **state)
{
	const char		*none[] = { NULL };
	const char		*why;
	struct dns_answer	*a;
	struct pkt		 p;
	size_t			 i;

	why = "TXT record over the size cap or malformed";
	assert_non_null(p.b = malloc(PKT_MAX));
	/* 16 * 255 + 16 = 4096 in 17 strings. */
	a = parse_txt(&p, 16, 255, 16);
	assert_int_equal(a->status, DNS_ANSWER);
	assert_int_equal(a->nrr, 1);
	assert_int_equal(a->rr[0].u.txt.len, DNS_TXT_MAX);
	assert_int_equal(a->rr[0].u.txt.nstrings, 17);
	for (i = 0; i < DNS_TXT_MAX; i++)
		assert_int_equal(a->rr[0].u.txt.data[i], 'x');
	assert_int_equal(a->rr[0].u.txt.data[DNS_TXT_MAX], '\0');
	dns_answer_free(a);
	check_answer("4097 bytes", parse_txt(&p, 16, 255, 17), DNS_T_TXT,
	    DNS_TEMPFAIL, none, why);
	/* 255 strings of 255 bytes: rdlength 65280. */
	check_answer("64 KiB", parse_txt(&p, 255, 255, 0), DNS_T_TXT,
	    DNS_TEMPFAIL, none, why);
	a = parse_txt(&p, DNS_TXT_STRINGS_MAX, 1, 0);
	assert_int_equal(a->status, DNS_ANSWER);
	assert_int_equal(a->rr[0].u.txt.nstrings, DNS_TXT_STRINGS_MAX);
	assert_int_equal(a->rr[0].u.txt.len, DNS_TXT_STRINGS_MAX);
	dns_answer_free(a);
	check_answer("65 strings", parse_txt(&p, DNS_TXT_STRINGS_MAX + 1, 1,
	    0), DNS_T_TXT, DNS_TEMPFAIL, none, why);
	free(p.b);
}

static uint32_t
rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void
parse_sound(const uint8_t *pkt, size_t len, const char *what, size_t at,
    const char *qname, enum dns_type qtype)
{
	struct dns_answer	*a;
	const char		*broken;

	a = parse_exact(pkt, len, qname, qtype);
	if ((broken = dns_check_answer(a, qtype)) != NULL)
		fail_msg("%s at %zu of a %s answer: %s", what, at,
		    dns_type_name(qtype), broken);
	dns_answer_free(a);
}

/*
 * Every answer row's packet cut at every length, each byte set to a
 * few values, and random changes: the parser always answers, soundly.
 * Run under ASan for the reads.
 */
static void
test_mutations(void **state)
{
	static const uint8_t	 vals[] = { 0x00, 0x01, 0x3f, 0x40, 0xc0,
	    0xc1, 0xff };
	struct pkt		 p, m;
	uint32_t		 x = 2463534242u;
	size_t			 i, at, k, v;

	assert_non_null(p.b = malloc(PKT_MAX));
	assert_non_null(m.b = malloc(PKT_MAX));
	for (i = 0; i < NROWS(rows); i++) {
		if (rows[i].status != DNS_ANSWER)
			continue;
		pkt_build(&p, rows[i].flags, rows[i].qname, rows[i].qtype,
		    rows[i].rr);
		for (at = 0; at <= p.len; at++)
			parse_sound(p.b, at, "cut", at, rows[i].qname,
			    rows[i].qtype);
		memcpy(m.b, p.b, p.len);
		for (at = 0; at < p.len; at++) {
			for (v = 0; v < NROWS(vals) + 1; v++) {
				m.b[at] = v < NROWS(vals) ? vals[v] :
				    p.b[at] ^ 0xff;
				parse_sound(m.b, p.len, "byte set", at,
				    rows[i].qname, rows[i].qtype);
			}
			m.b[at] = p.b[at];
		}
		for (k = 0; k < 5000; k++) {
			memcpy(m.b, p.b, p.len);
			for (v = 0; v < 1 + k % 4; v++)
				m.b[rnd(&x) % p.len] = rnd(&x);
			at = rnd(&x) % (p.len + 1);
			parse_sound(m.b, at, "random change, cut", at,
			    rows[i].qname, rows[i].qtype);
		}
	}
	free(p.b);
	free(m.b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_raw_rows),
		cmocka_unit_test(test_record_count),
		cmocka_unit_test(test_txt_size),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
