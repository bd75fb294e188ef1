/*
 * DMARC records and alignment advice (see dmarc.h).  The tag list is
 * DKIM's (RFC 7489 6.3), parsed by dkim_tags_parse().
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dkim_record.h"
#include "dmarc.h"

#define DMARC_LINE_MAX	512	/* one line of advice */

static const char *const policies[] = { "none", "quarantine", "reject" };

/* "what" alone, or "name=value: what" when it is about a tag. */
static void
describe(char *buf, size_t size, const char *what, const struct dkim_tag *t)
{
	char	 shown[DKIM_TAG_SHOWN_SIZE];

	if (t == NULL)
		snprintf(buf, size, "%s", what);
	else
		snprintf(buf, size, "%.*s=%s: %s", (int)t->namelen, t->name,
		    dkim_tag_shown(t, shown, sizeof(shown)), what);
}

static int
refuse(char *err, size_t errlen, const char *what, const struct dkim_tag *t)
{
	if (err != NULL && errlen > 0)
		describe(err, errlen, what, t);
	return -1;
}

/* Something odd but tolerated, added to the policy's diag. */
static void
note(struct dmarc_policy *pol, const char *what, const struct dkim_tag *t)
{
	size_t	 used = strlen(pol->diag);

	if (used > 0 && used + 2 < sizeof(pol->diag)) {
		memcpy(pol->diag + used, "; ", 3);
		used += 2;
	}
	describe(pol->diag + used, sizeof(pol->diag) - used, what, t);
}

/* Copies the policy the tag names into out; 0, or -1 for none. */
static int
policy_of(const struct dkim_tag *t, char *out, size_t outlen)
{
	size_t	 i, len;

	for (i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
		len = strlen(policies[i]);
		if (t->valuelen == len &&
		    strncasecmp(t->value, policies[i], len) == 0) {
			strlcpy(out, policies[i], outlen);
			return 0;
		}
	}
	return -1;
}

/* adkim= and aspf=: 'r' or 's'; anything else leaves the default. */
static void
mode_of(struct dmarc_policy *pol, const struct dkim_tags *tags,
    const char *name, char *mode)
{
	const struct dkim_tag	*t;

	if ((t = dkim_tags_get(tags, name)) == NULL)
		return;
	if (t->valuelen == 1 && (t->value[0] == 'r' || t->value[0] == 'R' ||
	    t->value[0] == 's' || t->value[0] == 'S'))
		*mode = t->value[0] | 0x20;
	else
		note(pol, "not r or s, ignored (r applies)", t);
}

static void
pct_of(struct dmarc_policy *pol, const struct dkim_tags *tags)
{
	const struct dkim_tag	*t;
	size_t			 i;
	int			 v = 0;

	if ((t = dkim_tags_get(tags, "pct")) == NULL)
		return;
	for (i = 0; i < t->valuelen && i < 4; i++) {
		if (t->value[i] < '0' || t->value[i] > '9')
			break;
		v = v * 10 + (t->value[i] - '0');
	}
	if (t->valuelen == 0 || i != t->valuelen || v > 100)
		note(pol, "not 0 to 100, ignored (100 applies)", t);
	else
		pol->pct = v;
}

int
dmarc_parse(const char *txt, size_t len, struct dmarc_policy *pol,
    char *err, size_t errlen)
{
	struct dkim_tags	 tags;
	const struct dkim_tag	*t;

	memset(pol, 0, sizeof(*pol));
	pol->adkim = pol->aspf = 'r';
	pol->pct = 100;
	if (dkim_tags_parse(txt, len, 1, &tags, err, errlen) == -1)
		return -1;
	t = &tags.tag[0];
	/* "DMARC1" is %x44.4d.41.52.43.31: case matters. */
	if (tags.n == 0 || t->namelen != 1 || (t->name[0] | 0x20) != 'v' ||
	    t->valuelen != 6 || memcmp(t->value, "DMARC1", 6) != 0)
		return refuse(err, errlen, "not a DMARC record: v=DMARC1 "
		    "must come first", NULL);

	if ((t = dkim_tags_get(&tags, "p")) == NULL ||
	    policy_of(t, pol->p, sizeof(pol->p)) == -1) {
		if (dkim_tags_get(&tags, "rua") == NULL)
			return refuse(err, errlen, t == NULL ? "p= missing" :
			    "not none, quarantine or reject", t);
		/* RFC 7489 6.6.3 step 6 */
		strlcpy(pol->p, "none", sizeof(pol->p));
		note(pol, t == NULL ? "p= missing" : "not none, quarantine or "
		    "reject", t);
		note(pol, "with rua= receivers treat the record as p=none",
		    NULL);
	}
	if ((t = dkim_tags_get(&tags, "sp")) != NULL &&
	    policy_of(t, pol->sp, sizeof(pol->sp)) == -1)
		note(pol, "not none, quarantine or reject, ignored", t);
	mode_of(pol, &tags, "adkim", &pol->adkim);
	mode_of(pol, &tags, "aspf", &pol->aspf);
	pct_of(pol, &tags);
	pol->found = 1;
	return 0;
}

/* Starts with v=DMARC1 (RFC 7489 6.6.3 step 2)? */
static int
is_dmarc(const char *s, size_t len)
{
	size_t	 i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == len || (s[i] | 0x20) != 'v')
		return 0;
	for (i++; i < len && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	if (i == len || s[i] != '=')
		return 0;
	for (i++; i < len && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	if (len - i < 6 || memcmp(s + i, "DMARC1", 6) != 0)
		return 0;
	i += 6;
	return i == len || s[i] == ';' || s[i] == ' ' || s[i] == '\t';
}

enum dmarc_lookup
dmarc_answer(const struct dns_answer *ans, int at_org,
    struct dmarc_policy *pol)
{
	const struct dns_rr	*rr = NULL;
	char			 err[sizeof(pol->diag) - 32];
	int			 i, n = 0;

	memset(pol, 0, sizeof(*pol));
	if (ans == NULL || ans->status == DNS_TEMPFAIL) {
		snprintf(pol->diag, sizeof(pol->diag),
		    "DNS temporary failure: %s", ans == NULL ||
		    ans->why[0] == '\0' ? "no answer" : ans->why);
		return DMARC_LOOKUP_TEMPFAIL;
	}
	for (i = 0; ans->status == DNS_ANSWER && i < ans->nrr; i++)
		if (ans->rr[i].type == DNS_T_TXT &&
		    is_dmarc(ans->rr[i].u.txt.data, ans->rr[i].u.txt.len)) {
			n++;
			rr = &ans->rr[i];
		}
	if (n == 0) {
		snprintf(pol->diag, sizeof(pol->diag), "no DMARC record%s",
		    ans->status == DNS_NXDOMAIN ? " (NXDOMAIN)" : "");
		return DMARC_LOOKUP_NONE;
	}
	if (n > 1) {
		snprintf(pol->diag, sizeof(pol->diag), "%d DMARC records: "
		    "receivers apply none of them (RFC 7489 6.6.3)", n);
		return DMARC_LOOKUP_INVALID;
	}
	if (dmarc_parse(rr->u.txt.data, rr->u.txt.len, pol, err,
	    sizeof(err)) == -1) {
		snprintf(pol->diag, sizeof(pol->diag), "invalid DMARC record: "
		    "%s", err);
		return DMARC_LOOKUP_INVALID;
	}
	pol->at_org = at_org;
	return DMARC_LOOKUP_FOUND;
}

/* A name's length without its trailing dot. */
static size_t
name_len(const char *s)
{
	size_t	 len = strlen(s);

	return len > 0 && s[len - 1] == '.' ? len - 1 : len;
}

/* Domain names compare without case and without a trailing dot. */
static int
domain_eq(const char *a, const char *b)
{
	size_t	 len = name_len(a);

	return len == name_len(b) && strncasecmp(a, b, len) == 0;
}

static int
is_cctld(const char *s, size_t len)
{
	return len == 2 && ((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z') &&
	    ((s[1] | 0x20) >= 'a' && (s[1] | 0x20) <= 'z');
}

static int
is_registry(const char *s, size_t len)
{
	static const char *const slds[] = {
		"co", "com", "net", "org", "ac", "gov", "edu"
	};
	size_t	 i;

	for (i = 0; i < sizeof(slds) / sizeof(slds[0]); i++)
		if (strlen(slds[i]) == len && strncasecmp(s, slds[i], len) == 0)
			return 1;
	return 0;
}

const char *
dmarc_org_domain(const char *domain)
{
	size_t	 start[3], len[3], i, j;
	int	 n = 0;

	if (domain == NULL)
		return NULL;
	/* The last three labels, from the right. */
	i = name_len(domain);
	for (;;) {
		for (j = i; j > 0 && domain[j - 1] != '.'; j--)
			;
		start[n] = j;
		len[n] = i - j;
		if (++n == 3 || j == 0)
			break;
		i = j - 1;
	}
	if (n < 3)
		return domain;
	if (is_cctld(domain + start[0], len[0]) &&
	    is_registry(domain + start[1], len[1]))
		return domain + start[2];
	return domain + start[1];
}

static void
alignment(const struct dmarc_policy *pol, const char *from, const char *d,
    char *out, size_t outlen)
{
	char	 mode = pol != NULL && pol->found ? pol->adkim : 'r';
	int	 orgs = domain_eq(dmarc_org_domain(from), dmarc_org_domain(d));

	if (mode == 's' ? domain_eq(from, d) : orgs)
		snprintf(out, outlen, "aligned (DKIM d=%s, adkim=%c)", d, mode);
	else
		snprintf(out, outlen, "not aligned (DKIM d=%s, From %s, "
		    "adkim=%c%s)", d, from, mode, orgs ? ": strict alignment "
		    "needs d= equal to the From domain" : "");
}

static void
consequence(const struct dmarc_policy *pol, const char *from, char *out,
    size_t outlen)
{
	const char	*org = dmarc_org_domain(from), *tag = "p";
	const char	*policy, *what;
	char		 pct[64] = "", where[DNS_NAME_MAX + 32] = "";

	if (pol == NULL || !pol->found) {
		snprintf(out, outlen, "no DMARC record: receivers apply their "
		    "own policy; publish \"v=DMARC1; p=none; rua=mailto:...\" "
		    "at _dmarc.%s to monitor", org);
		return;
	}
	policy = pol->p;
	if (pol->at_org && !domain_eq(from, org)) {
		snprintf(where, sizeof(where), " (record of %s)", org);
		if (pol->sp[0] != '\0') {
			tag = "sp";
			policy = pol->sp;
		}
	}
	if (strcmp(policy, "reject") == 0)
		what = "unaligned mail is rejected";
	else if (strcmp(policy, "quarantine") == 0)
		what = "unaligned mail goes to spam";
	else
		what = "monitoring only, unaligned mail is delivered as usual";
	if (pol->pct < 100 && strcmp(policy, "none") != 0)
		snprintf(pct, sizeof(pct), " (pct=%d: for %d%% of it)",
		    pol->pct, pol->pct);
	snprintf(out, outlen, "%s=%s: %s%s%s", tag, policy, what, pct, where);
}

void
dmarc_advice(const struct dmarc_policy *pol, const char *from_domain,
    const char *dkim_d, char *out, size_t outlen)
{
	char		 aligned[DMARC_LINE_MAX], policy[DMARC_LINE_MAX];
	const char	*from = from_domain != NULL ? from_domain : "";
	const char	*d = dkim_d != NULL ? dkim_d : "";

	alignment(pol, from, d, aligned, sizeof(aligned));
	consequence(pol, from, policy, sizeof(policy));
	snprintf(out, outlen, "%s\n%s", aligned, policy);
}
