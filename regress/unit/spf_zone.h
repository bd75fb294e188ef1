/*
 * DNS sources for the SPF tests, over any zone table: one that answers
 * every question at once and notes what it was asked, and the rerun
 * loop lka uses (a dns_store, SPF_NEED_DNS, one question resolved per
 * run).  The table's own answer() builds each dns_answer on the heap, as
 * dns_store_put() takes them.  Header-only: each unit test is one file.
 */
#ifndef SENDGATE_SPF_ZONE_H
#define SENDGATE_SPF_ZONE_H

#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "spf.h"

#define ZONE_RERUNS_MAX	1024

typedef struct dns_answer *(*zone_answer_fn)(const void *, const char *,
    enum dns_type);

struct zone_source {
	zone_answer_fn		  answer;
	const void		 *zone;
	struct dns_answer	**given;	/* freed by zone_source_clear */
	char			**asked;	/* "name TYPE" */
	size_t			  n;
};

static struct dns_answer *
zone_answer_new(enum dns_status status, const char *why)
{
	struct dns_answer	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		abort();
	a->status = status;
	strlcpy(a->why, why, sizeof(a->why));
	return a;
}

/* A zeroed record of that type at the end of the answer. */
static struct dns_rr *
zone_answer_add(struct dns_answer *a, enum dns_type type)
{
	if ((a->rr = realloc(a->rr, (a->nrr + 1) * sizeof(*a->rr))) == NULL)
		abort();
	memset(&a->rr[a->nrr], 0, sizeof(a->rr[0]));
	a->rr[a->nrr].type = type;
	a->status = DNS_ANSWER;
	return &a->rr[a->nrr++];
}

static int
zone_lookup(void *arg, const char *qname, enum dns_type qtype,
    const struct dns_answer **ans)
{
	struct zone_source	*zs = arg;
	size_t			 len = strlen(qname) + 8;

	zs->given = realloc(zs->given, (zs->n + 1) * sizeof(*zs->given));
	zs->asked = realloc(zs->asked, (zs->n + 1) * sizeof(*zs->asked));
	if (zs->given == NULL || zs->asked == NULL ||
	    (zs->asked[zs->n] = malloc(len)) == NULL)
		abort();
	snprintf(zs->asked[zs->n], len, "%s %s", qname, dns_type_name(qtype));
	*ans = zs->given[zs->n++] = zs->answer(zs->zone, qname, qtype);
	return 1;
}

static struct dns_source
zone_source(struct zone_source *zs, zone_answer_fn answer, const void *zone)
{
	struct dns_source	 src = { zone_lookup, zs };

	memset(zs, 0, sizeof(*zs));
	zs->answer = answer;
	zs->zone = zone;
	return src;
}

/* Was the name asked about, for any type? */
static int	zone_asked(const struct zone_source *, const char *)
		    __attribute__((unused));

static int
zone_asked(const struct zone_source *zs, const char *name)
{
	size_t	 i, len = strlen(name);

	for (i = 0; i < zs->n; i++)
		if (strncasecmp(zs->asked[i], name, len) == 0 &&
		    zs->asked[i][len] == ' ')
			return 1;
	return 0;
}

static void
zone_source_clear(struct zone_source *zs)
{
	size_t	 i;

	for (i = 0; i < zs->n; i++) {
		dns_answer_free(zs->given[i]);
		free(zs->asked[i]);
	}
	free(zs->given);
	free(zs->asked);
	zs->given = NULL;
	zs->asked = NULL;
	zs->n = 0;
}

struct zone_resolve {
	zone_answer_fn		 answer;
	const void		*zone;
	struct dns_store	*store;
	int			 answered;
};

/* Answers the first open question only, as a slow resolver would. */
static int
zone_resolve_one(void *arg, const char *qname, enum dns_type qtype)
{
	struct zone_resolve	*rs = arg;
	char			 name[DNS_NAME_MAX + 2];

	strlcpy(name, qname, sizeof(name));
	dns_store_put(rs->store, name, qtype, rs->answer(rs->zone, name,
	    qtype));
	rs->answered++;
	return -1;
}

typedef enum spf_result (*zone_eval_fn)(void *, const struct dns_source *);

/*
 * The production way: evaluate, resolve one missing question, rerun,
 * until the result is not SPF_NEED_DNS.  *runs counts the evaluations;
 * -1 in it means a NEED_DNS without an open question.
 */
static enum spf_result
zone_rerun(zone_answer_fn answer, const void *zone, zone_eval_fn eval,
    void *arg, int *runs)
{
	struct zone_resolve	 rs = { answer, zone, NULL, 0 };
	struct dns_source	 src;
	enum spf_result		 res;

	if ((rs.store = dns_store_new()) == NULL)
		abort();
	src = dns_store_source(rs.store);
	for (*runs = 1; ; (*runs)++) {
		res = eval(arg, &src);
		if (res != SPF_NEED_DNS || *runs == ZONE_RERUNS_MAX)
			break;
		rs.answered = 0;
		dns_store_wants(rs.store, zone_resolve_one, &rs);
		if (rs.answered == 0) {
			*runs = -1;
			break;
		}
	}
	dns_store_free(rs.store);
	return res;
}

#endif
