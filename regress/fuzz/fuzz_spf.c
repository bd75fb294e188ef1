/*
 * libFuzzer target for SPF (SECURITY.md N1, N3): records and answers a
 * domain owner controls, through check_host(), the walk, the record
 * parser and the macro expander.
 *
 * Input: two control bytes, the client address, then TXT records
 * separated by NUL bytes (records[0] at least, maybe empty).
 *	byte 0	bit 0		the client is IPv6
 *		bits 1-2	A/AAAA: the client's address, another, NODATA,
 *				TEMPFAIL
 *		bits 3-4	MX: 2 hosts, SPF_MX_MAX + 1 hosts, NODATA,
 *				NXDOMAIN
 *		bit 5		PTR: two names (else NXDOMAIN)
 *		bit 6		TXT answers hold their record twice
 *		bit 7		walk without a client address
 *	byte 1	bits 0-1	the sender, bits 2-3 the HELO name (tables)
 *	16 bytes		the client address (IPv4: the first 4)
 * DNS: a name whose first label starts with "nx" does not exist, "nd"
 * has no records, "tf" times out; TXT at a name whose first label is
 * "r<digit>..." holds records[digit % n], any other TXT records[0].
 *
 * Invariants: every call ends, results are in range, counts over the
 * limits only with permerror, text for people is printable, and the
 * production rerun (a dns_store, SPF_NEED_DNS, resolve, again) ends
 * with the outcome of a source that answers at once.
 */
#include <sys/socket.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "spf.h"

#define FUZZ_NAME	"fuzz_spf"
#include "fuzz.h"

#define HEADER_LEN	18
#define RECORDS_MAX	10
#define STORE_MAX	256	/* DNS_STORE_MAX of dns_store.c */
#define RERUNS_MAX	(STORE_MAX + 2)
#define NOW		1400000000
#define INCLUDE		"_spf.relay.example"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct input {
	int		 family;
	uint8_t		 ip[16];
	int		 a_mode, mx_mode, ptr, twice, walk_bare;
	const char	*sender, *helo;
	const char	*rec[RECORDS_MAX];
	size_t		 reclen[RECORDS_MAX];
	int		 nrec;
};

/* A source that answers every question at once; it frees the answers. */
struct given {
	const struct input	 *in;
	struct dns_answer	**ans;
	size_t			  n;
};

static const char *const senders[] = {
	"user@example.com",
	"",
	"a.b+c=d%e@Sub.Example.COM",
	"postmaster@[192.0.2.1]",
};

static const char *const helos[] = {
	"mail.example.org",
	NULL,
	"192.0.2.1",
	"x",
};

static struct dns_answer *
answer_new(enum dns_status status)
{
	struct dns_answer	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		fuzz_die("out of memory");
	a->status = status;
	if (status == DNS_TEMPFAIL)
		strlcpy(a->why, "timeout", sizeof(a->why));
	return a;
}

static struct dns_rr *
answer_add(struct dns_answer *a, enum dns_type type)
{
	struct dns_rr	*rr;

	if ((a->rr = realloc(a->rr, (a->nrr + 1) * sizeof(*a->rr))) == NULL)
		fuzz_die("out of memory");
	rr = &a->rr[a->nrr++];
	memset(rr, 0, sizeof(*rr));
	rr->type = type;
	a->status = DNS_ANSWER;
	return rr;
}

static void
add_txt(struct dns_answer *a, const char *s, size_t len)
{
	struct dns_rr	*rr = answer_add(a, DNS_T_TXT);

	if ((rr->u.txt.data = malloc(len + 1)) == NULL)
		fuzz_die("out of memory");
	memcpy(rr->u.txt.data, s, len);
	rr->u.txt.data[len] = '\0';
	rr->u.txt.len = len;
	rr->u.txt.nstrings = 1 + len / 255;
}

static int
label_is(const char *qname, const char *prefix)
{
	return strncasecmp(qname, prefix, strlen(prefix)) == 0;
}

/* The zone of the header comment; depends on the name's case not at all. */
static struct dns_answer *
answer_for(const struct input *in, const char *qname, enum dns_type qtype)
{
	struct dns_answer	*a;
	struct dns_rr		*rr;
	int			 i, n, r = 0;

	if (label_is(qname, "nx"))
		return answer_new(DNS_NXDOMAIN);
	if (label_is(qname, "nd"))
		return answer_new(DNS_NODATA);
	if (label_is(qname, "tf"))
		return answer_new(DNS_TEMPFAIL);
	a = answer_new(DNS_NODATA);
	switch (qtype) {
	case DNS_T_TXT:
		if (label_is(qname, "r") && isdigit((unsigned char)qname[1]))
			r = (qname[1] - '0') % in->nrec;
		for (i = 0; i < 1 + in->twice; i++)
			add_txt(a, in->rec[r], in->reclen[r]);
		break;
	case DNS_T_A:
	case DNS_T_AAAA:
		if (in->a_mode >= 2) {
			dns_answer_free(a);
			return answer_new(in->a_mode == 2 ? DNS_NODATA :
			    DNS_TEMPFAIL);
		}
		rr = answer_add(a, qtype);
		if (qtype == DNS_T_A)
			memcpy(rr->u.addr, in->family == AF_INET ? in->ip :
			    in->ip + 12, 4);
		else
			memcpy(rr->u.addr, in->ip, 16);
		if (in->a_mode == 1)
			rr->u.addr[qtype == DNS_T_A ? 3 : 15] ^= 1;
		break;
	case DNS_T_MX:
		if (in->mx_mode >= 2) {
			a->status = in->mx_mode == 2 ? DNS_NODATA :
			    DNS_NXDOMAIN;
			break;
		}
		n = in->mx_mode == 0 ? 2 : SPF_MX_MAX + 1;
		for (i = 0; i < n; i++) {
			rr = answer_add(a, DNS_T_MX);
			rr->u.mx.pref = i;
			snprintf(rr->u.mx.host, sizeof(rr->u.mx.host),
			    "mx%d.example.com", i);
		}
		break;
	case DNS_T_PTR:
		if (!in->ptr) {
			a->status = DNS_NXDOMAIN;
			break;
		}
		strlcpy(answer_add(a, DNS_T_PTR)->u.ptr, "host.example.com",
		    DNS_NAME_MAX + 1);
		strlcpy(answer_add(a, DNS_T_PTR)->u.ptr, "r1.Example.org",
		    DNS_NAME_MAX + 1);
		break;
	}
	return a;
}

static int
given_lookup(void *arg, const char *qname, enum dns_type qtype,
    const struct dns_answer **ans)
{
	struct given	*g = arg;

	if ((g->ans = realloc(g->ans, (g->n + 1) * sizeof(*g->ans))) == NULL)
		fuzz_die("out of memory");
	*ans = g->ans[g->n++] = answer_for(g->in, qname, qtype);
	return 1;
}

static void
given_clear(struct given *g)
{
	size_t	 i;

	for (i = 0; i < g->n; i++)
		dns_answer_free(g->ans[i]);
	free(g->ans);
	g->ans = NULL;
	g->n = 0;
}

struct resolve {
	const struct input	*in;
	struct dns_store	*store;
	int			 answered;
};

static int
resolve_one(void *arg, const char *qname, enum dns_type qtype)
{
	struct resolve	*rs = arg;

	if (dns_store_put(rs->store, qname, qtype, answer_for(rs->in, qname,
	    qtype)) == -1)
		fuzz_die("dns_store_put of a wanted question failed");
	rs->answered++;
	return 0;
}

static void
check_outcome(const struct spf_outcome *out, enum spf_result res)
{
	if (res != out->result || res < SPF_NONE || res > SPF_PERMERROR)
		fuzz_die("check_host result out of range");
	if (res != SPF_PERMERROR && (out->dns_terms > SPF_DNS_TERMS_MAX ||
	    out->void_lookups > SPF_VOID_MAX))
		fuzz_die("over a limit without permerror");
	if (strnlen(out->diag, sizeof(out->diag)) == sizeof(out->diag) ||
	    strnlen(out->explanation, sizeof(out->explanation)) ==
	    sizeof(out->explanation))
		fuzz_die("text not NUL-terminated");
	if (!fuzz_printable(out->diag) || !fuzz_printable(out->explanation))
		fuzz_die("diag or explanation not printable");
	if (out->explanation[0] != '\0' && res != SPF_FAIL)
		fuzz_die("an explanation without fail");
}

/* check_host() as lka runs it: rerun until the store knows enough. */
static void
check_rerun(const struct input *in, const struct spf_request *req,
    const struct spf_outcome *want)
{
	struct resolve		 rs = { in, NULL, 0 };
	struct spf_outcome	 out;
	struct dns_source	 src;
	enum spf_result		 res;
	int			 runs;

	if ((rs.store = dns_store_new()) == NULL)
		fuzz_die("out of memory");
	src = dns_store_source(rs.store);
	for (runs = 0; (res = spf_check_host(req, &src, &out)) ==
	    SPF_NEED_DNS; runs++) {
		rs.answered = 0;
		dns_store_wants(rs.store, resolve_one, &rs);
		if (rs.answered == 0)
			fuzz_die("SPF_NEED_DNS without an open question");
		if (runs == RERUNS_MAX)
			fuzz_die("no end to the reruns");
	}
	check_outcome(&out, res);
	/* A full store answers tempfail where the other source does not. */
	if (dns_store_count(rs.store) < STORE_MAX &&
	    (res != want->result || out.dns_terms != want->dns_terms ||
	    out.void_lookups != want->void_lookups ||
	    strcmp(out.diag, want->diag) != 0 ||
	    strcmp(out.explanation, want->explanation) != 0))
		fuzz_die("the rerun ends otherwise than one run");
	dns_store_free(rs.store);
}

static void
walk_line(void *arg, int depth, const char *line)
{
	if (depth < 0 || !fuzz_printable(line))
		fuzz_die("walk line with a bad depth or not printable");
}

static void
check_walk(const struct input *in, const struct spf_request *req)
{
	static const struct spf_walk_cb	 cb = { walk_line, NULL };
	struct spf_walk_summary		 sum;
	struct given			 g = { in, NULL, 0 };
	struct dns_source		 src = { given_lookup, &g };
	enum spf_result			 res;

	res = spf_walk("example.com", in->walk_bare ? NULL : req, INCLUDE,
	    &src, &cb, &sum);
	if (res < SPF_NONE || res > SPF_PERMERROR)
		fuzz_die("walk result out of range");
	if (!fuzz_printable(sum.diag) || sum.dns_terms < 0 ||
	    sum.void_lookups < 0 || sum.records < 0)
		fuzz_die("walk summary out of range");
	given_clear(&g);
}

/* The pieces on the first record: parser, terms, macro expansion. */
static void
check_pieces(const char *rec, size_t len)
{
	static const int	 flags[] = { 0, SPF_MACRO_DOMAIN,
	    SPF_MACRO_EXPLAIN, SPF_MACRO_ANY,
	    SPF_MACRO_EXPLAIN | SPF_MACRO_ANY };
	static const struct spf_macro_ctx mc = { "user@example.com", "user",
	    "example.com", "example.com", "192.0.2.1", "host.example.com",
	    "in-addr", "mail.example.org", "192.0.2.1", "mx.example.net",
	    "1400000000" };
	struct spf_record	 r;
	struct spf_term		 t;
	enum spf_macro_status	 st;
	char			 err[256], *out;
	size_t			 pos = 0, i, outsz;
	int			 n = 0, ends;

	if (spf_record_parse(rec, len, &r, err, sizeof(err)) == 0) {
		while (spf_term_next(&r, &pos, &t)) {
			if (t.text < rec || t.text + t.len > rec + len ||
			    (t.spec != NULL && (t.spec < t.text ||
			    t.spec + t.speclen > t.text + t.len)))
				fuzz_die("term outside the record");
			n++;
		}
		if (n != r.nterms)
			fuzz_die("spf_term_next and spf_record_parse count "
			    "otherwise");
	} else if (strnlen(err, sizeof(err)) == 0)
		fuzz_die("a parse error without a reason");
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		/* Exactly sized, for ASan; domain mode needs its minimum. */
		outsz = flags[i] & SPF_MACRO_DOMAIN ? SPF_EXPAND_MAX : 64;
		if ((out = malloc(outsz)) == NULL)
			fuzz_die("out of memory");
		st = spf_macro_expand(&mc, rec, len, flags[i], out, outsz,
		    NULL);
		if (st == SPF_MACRO_OK && (strnlen(out, outsz) == outsz ||
		    ((flags[i] & SPF_MACRO_DOMAIN) &&
		    strlen(out) > SPF_DOMAIN_MAX)))
			fuzz_die("expansion over its buffer or name cap");
		/* Expansion may stop at a value before a syntax error. */
		if (spf_macro_check(rec, len, flags[i], &ends) == -1 ?
		    st == SPF_MACRO_OK : st == SPF_MACRO_SYNTAX)
			fuzz_die("spf_macro_check and spf_macro_expand "
			    "disagree");
		free(out);
	}
}

static int
input_read(const uint8_t *data, size_t size, struct input *in)
{
	const char	*p, *end, *nul;

	if (size < HEADER_LEN)
		return -1;
	memset(in, 0, sizeof(*in));
	in->family = data[0] & 1 ? AF_INET6 : AF_INET;
	in->a_mode = data[0] >> 1 & 3;
	in->mx_mode = data[0] >> 3 & 3;
	in->ptr = data[0] >> 5 & 1;
	in->twice = data[0] >> 6 & 1;
	in->walk_bare = data[0] >> 7 & 1;
	in->sender = senders[data[1] & 3];
	in->helo = helos[data[1] >> 2 & 3];
	memcpy(in->ip, data + 2, 16);
	p = (const char *)data + HEADER_LEN;
	end = (const char *)data + size;
	do {
		if ((nul = memchr(p, '\0', end - p)) == NULL)
			nul = end;
		in->rec[in->nrec] = p;
		in->reclen[in->nrec++] = nul - p;
		p = nul + 1;
	} while (nul < end && in->nrec < RECORDS_MAX);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spf_request	 req;
	struct spf_outcome	 out;
	struct input		 in;
	struct given		 g = { &in, NULL, 0 };
	struct dns_source	 src = { given_lookup, &g };
	enum spf_result		 res;

	if (input_read(data, size, &in) == -1)
		return 0;
	memset(&req, 0, sizeof(req));
	req.family = in.family;
	memcpy(req.ip, in.ip, 16);
	req.sender = in.sender;
	req.helo = in.helo;
	req.receiver = "mx.example.net";
	req.now = NOW;
	res = spf_check_host(&req, &src, &out);
	check_outcome(&out, res);
	given_clear(&g);
	check_rerun(&in, &req, &out);
	check_walk(&in, &req);
	check_pieces(in.rec[0], in.reclen[0]);
	return 0;
}
