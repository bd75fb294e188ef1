/*
 * The RFC 7208 conformance suite (openspf.org, release 2014.04) through
 * spf_check_host(): every case of every scenario, each scenario's
 * zonedata served by a table resolver.  The file is read at run time
 * from $SENDGATE_SPF_SUITE or ../shared/conformance/spf/rfc7208-tests.yml;
 * without it the test fails.
 *
 * Each case runs twice: with a source that answers every question at
 * once, and through a dns_store the way lka runs checks (SPF_NEED_DNS,
 * answer the question, rerun); both must give the suite's result, and
 * the same explanation.
 *
 * How the zonedata is served (the suite's header asks drivers to say):
 * - SPF-type records stand in for TXT records at a name that has no TXT
 *   entry at all ("TXT: NONE" is such an entry, holding nothing); the
 *   evaluator asks for TXT only, as RFC 7208 wants.
 * - TIMEOUT: a question whose type has no record before the marker
 *   times out (DNS_TEMPFAIL); records after it are never served.
 * - A name absent from the zonedata is NXDOMAIN; a present name without
 *   the type asked is NODATA.
 * - CNAME is followed like a resolver does (at most DNS_CNAME_MAX
 *   links); a loop is a temporary failure.
 * - "explanation: DEFAULT" means no exp= text: the outcome's explanation
 *   must be empty.
 */
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "unit.h"
#include "spf_zone.h"
#include "yaml_mini.h"

#include "dns.h"
#include "spf.h"

#define SUITE_DEFAULT	"../shared/conformance/spf/rfc7208-tests.yml"
#define SUITE_NOW	1400000000	/* %{t}: fixed, for repeatable runs */
#define REPORT_MAX	(64 * 1024)

static const struct ynode *
zone_find(const struct ynode *zone, const char *name)
{
	size_t	 i;

	for (i = 0; zone != NULL && i < zone->n; i++)
		if (spf_name_eq(zone->kid[i]->key, name))
			return zone->kid[i];
	return NULL;
}

/* The type of a zonedata item ({TYPE: value}) or "TIMEOUT". */
static const char *
item_type(const struct ynode *item)
{
	if (item->kind == Y_SCALAR)
		return item->s;
	return item->kind == Y_MAP && item->n == 1 ? item->kid[0]->key : "";
}

static int
has_type(const struct ynode *records, const char *type)
{
	size_t	 i;

	for (i = 0; i < records->n; i++)
		if (strcmp(item_type(records->kid[i]), type) == 0)
			return 1;
	return 0;
}

/* One record of a zonedata item into rr; -1 if the item is malformed. */
static int
rr_fill(struct dns_rr *rr, enum dns_type type, const struct ynode *v)
{
	struct ybuf	 y = { NULL, 0, 0 };
	size_t		 i;

	switch (type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		return v->kind == Y_SCALAR && inet_pton(type == DNS_T_A ?
		    AF_INET : AF_INET6, v->s, rr->u.addr) == 1 ? 0 : -1;
	case DNS_T_MX:
		if (v->kind != Y_LIST || v->n != 2)
			return -1;
		rr->u.mx.pref = atoi(v->kid[0]->s);
		return strlcpy(rr->u.mx.host, v->kid[1]->s,
		    sizeof(rr->u.mx.host)) < sizeof(rr->u.mx.host) ? 0 : -1;
	case DNS_T_PTR:
		return v->kind == Y_SCALAR && strlcpy(rr->u.ptr, v->s,
		    sizeof(rr->u.ptr)) < sizeof(rr->u.ptr) ? 0 : -1;
	case DNS_T_TXT:
		/* A list is the character-strings of one record. */
		ybuf_add(&y, "", 0);
		if (v->kind == Y_SCALAR) {
			ybuf_add(&y, v->s, v->len);
			rr->u.txt.nstrings = 1;
		} else
			for (i = 0; i < v->n; i++, rr->u.txt.nstrings++)
				ybuf_add(&y, v->kid[i]->s, v->kid[i]->len);
		rr->u.txt.data = y.b;
		rr->u.txt.len = y.len;
		return 0;
	}
	return -1;
}

static void
rr_add(struct dns_answer *a, enum dns_type type, const struct ynode *v)
{
	if (rr_fill(zone_answer_add(a, type), type, v) == -1)
		fail_msg("zonedata line %d: bad %s value", v->line,
		    dns_type_name(type));
}

/* The CNAME target of a name, or NULL. */
static const char *
cname_of(const struct ynode *records)
{
	size_t	 i;

	for (i = 0; i < records->n; i++)
		if (strcmp(item_type(records->kid[i]), "CNAME") == 0)
			return records->kid[i]->kid[0]->s;
	return NULL;
}

/* The answer the zonedata gives to one question (see the top). */
static struct dns_answer *
zone_answer(const void *arg, const char *qname, enum dns_type qtype)
{
	const struct ynode	*zone = arg, *entry, *item;
	const char		*want = dns_type_name(qtype), *type, *target;
	struct dns_answer	*a;
	size_t			 i;
	int			 links, spf_as_txt;

	for (links = 0; ; links++) {
		if ((entry = zone_find(zone, qname)) == NULL)
			return zone_answer_new(DNS_NXDOMAIN, "");
		if ((target = cname_of(entry)) == NULL)
			break;
		if (links == DNS_CNAME_MAX)
			return zone_answer_new(DNS_TEMPFAIL,
			    "CNAME chain too long");
		qname = target;
	}
	a = zone_answer_new(DNS_NODATA, "");
	spf_as_txt = qtype == DNS_T_TXT && !has_type(entry, "TXT");
	for (i = 0; i < entry->n; i++) {
		item = entry->kid[i];
		type = item_type(item);
		if (strcmp(type, "TIMEOUT") == 0) {
			if (a->nrr > 0)
				break;
			dns_answer_free(a);
			return zone_answer_new(DNS_TEMPFAIL, "timeout");
		}
		if (spf_as_txt && strcmp(type, "SPF") == 0)
			type = "TXT";
		if (strcmp(type, want) != 0)
			continue;
		if (item->kid[0]->kind == Y_SCALAR &&
		    strcmp(item->kid[0]->s, "NONE") == 0)
			continue;
		rr_add(a, qtype, item->kid[0]);
	}
	return a;
}

struct tally {
	int	 cases;
	int	 passed;
	char	*report;
	size_t	 len;
};

static void	 failed(struct tally *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
failed(struct tally *t, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (t->len >= REPORT_MAX - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->report + t->len, REPORT_MAX - t->len, fmt, ap);
	va_end(ap);
	t->len += n > 0 ? (size_t)n : 0;
	if (t->len >= REPORT_MAX)
		t->len = REPORT_MAX - 1;
}

static const char *
field(const struct ynode *c, const char *key)
{
	const struct ynode	*v = ymap_get(c, key);

	return v != NULL && v->kind == Y_SCALAR ? v->s : NULL;
}

/* The results a case accepts, as "a|b" for messages; 1 if r is one. */
static int
accepted(const struct ynode *want, enum spf_result r, char *list,
    size_t len)
{
	size_t	 i, n = want->kind == Y_LIST ? want->n : 1;
	int	 ok = 0;

	list[0] = '\0';
	for (i = 0; i < n; i++) {
		const char *s = want->kind == Y_LIST ? want->kid[i]->s :
		    want->s;

		if (i > 0)
			strlcat(list, "|", len);
		strlcat(list, s, len);
		ok |= strcmp(s, spf_result_name(r)) == 0;
	}
	return ok;
}

static int
request_for(const struct ynode *c, struct spf_request *req)
{
	const char	*host = field(c, "host");

	memset(req, 0, sizeof(*req));
	req->sender = field(c, "mailfrom");
	req->helo = field(c, "helo");
	req->now = SUITE_NOW;
	if (host == NULL)
		return -1;
	if (inet_pton(AF_INET, host, req->ip) == 1)
		req->family = AF_INET;
	else if (inet_pton(AF_INET6, host, req->ip) == 1)
		req->family = AF_INET6;
	else
		return -1;
	return 0;
}

struct rerun_arg {
	const struct spf_request	*req;
	struct spf_outcome		*out;
};

static enum spf_result
rerun_eval(void *arg, const struct dns_source *src)
{
	struct rerun_arg	*ra = arg;

	return spf_check_host(ra->req, src, ra->out);
}

static void
run_case(struct tally *t, const char *scenario, const struct ynode *zone,
    const struct ynode *c)
{
	struct zone_source	 zs;
	struct dns_source	 src = zone_source(&zs, zone_answer, zone);
	struct rerun_arg	 ra = { NULL, NULL };
	struct spf_request	 req;
	struct spf_outcome	 out, out2;
	const struct ynode	*want = ymap_get(c, "result");
	const char		*exp = field(c, "explanation");
	enum spf_result		 r, r2;
	char			 list[128];
	int			 runs, ok = 1;

	t->cases++;
	if (want == NULL || request_for(c, &req) == -1) {
		failed(t, "  %s/%s: malformed case\n", scenario, c->key);
		return;
	}
	r = spf_check_host(&req, &src, &out);
	if (!accepted(want, r, list, sizeof(list))) {
		failed(t, "  %s/%s: expected %s, got %s (%s)\n", scenario,
		    c->key, list, spf_result_name(r), out.diag);
		ok = 0;
	} else if (exp != NULL && strcmp(out.explanation,
	    strcmp(exp, "DEFAULT") == 0 ? "" : exp) != 0) {
		failed(t, "  %s/%s: expected explanation \"%s\", got \"%s\"\n",
		    scenario, c->key, exp, out.explanation);
		ok = 0;
	}
	zone_source_clear(&zs);
	ra.req = &req;
	ra.out = &out2;
	r2 = zone_rerun(zone_answer, zone, rerun_eval, &ra, &runs);
	if (r2 != r || strcmp(out.explanation, out2.explanation) != 0 ||
	    strcmp(out.diag, out2.diag) != 0) {
		failed(t, "  %s/%s: rerun gave %s \"%s\" (%s) after %d runs, "
		    "at once %s \"%s\" (%s)\n", scenario, c->key,
		    spf_result_name(r2), out2.explanation, out2.diag, runs,
		    spf_result_name(r), out.explanation, out.diag);
		ok = 0;
	}
	t->passed += ok;
}

static const char *
suite_path(void)
{
	const char	*p = getenv("SENDGATE_SPF_SUITE");

	return p != NULL && p[0] != '\0' ? p : SUITE_DEFAULT;
}

static void
test_rfc7208_suite(void **state)
{
	struct ynode		*docs;
	const struct ynode	*doc, *tests, *zone;
	struct tally		 t = { 0, 0, NULL, 0 };
	const char		*path = suite_path(), *scenario;
	char			 err[512];
	size_t			 d, i;

	if ((docs = yaml_mini_load(path, err, sizeof(err))) == NULL)
		fail_msg("spf suite: %s (set SENDGATE_SPF_SUITE or run from "
		    "the folder beside shared/)", err);
	if ((t.report = calloc(1, REPORT_MAX)) == NULL)
		abort();
	for (d = 0; d < docs->n; d++) {
		doc = docs->kid[d];
		tests = ymap_get(doc, "tests");
		zone = ymap_get(doc, "zonedata");
		scenario = field(doc, "description");
		if (tests == NULL || tests->kind != Y_MAP || scenario == NULL) {
			failed(&t, "  document %zu: no tests\n", d + 1);
			continue;
		}
		for (i = 0; i < tests->n; i++)
			run_case(&t, scenario, zone, tests->kid[i]);
	}
	printf("spf suite: %d of %d cases passed\n", t.passed, t.cases);
	if (t.len > 0)
		printf("failing:\n%s", t.report);
	fflush(stdout);
	free(t.report);
	ynode_free(docs);
	if (t.passed != t.cases || t.cases == 0)
		fail_msg("spf suite: %d of %d cases failed", t.cases - t.passed,
		    t.cases);
}

int
main(void)
{
	const struct CMUnitTest	 tests[] = {
		cmocka_unit_test(test_rfc7208_suite),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
