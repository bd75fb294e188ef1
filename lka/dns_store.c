/*
 * Answers collected for one evaluation (see dns.h).  Questions compare
 * without regard to case and to a trailing dot, as DNS names do.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns.h"

#define DNS_STORE_MAX	256	/* questions one evaluation may ask */

struct dns_entry {
	char			 qname[DNS_NAME_MAX + 2];
	enum dns_type		 qtype;
	struct dns_answer	*ans;		/* NULL: wanted, not known */
};

/* Grows as questions come: most evaluations ask a handful. */
struct dns_store {
	struct dns_entry	*e;
	size_t			 n;
	size_t			 cap;
};

void
dns_answer_free(struct dns_answer *a)
{
	int	 i;

	if (a == NULL)
		return;
	for (i = 0; i < a->nrr; i++)
		if (a->rr[i].type == DNS_T_TXT)
			free(a->rr[i].u.txt.data);
	free(a->rr);
	free(a);
}

struct dns_store *
dns_store_new(void)
{
	return calloc(1, sizeof(struct dns_store));
}

void
dns_store_free(struct dns_store *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		dns_answer_free(s->e[i].ans);
	free(s->e);
	free(s);
}

/* Names compare without regard to case and to a trailing dot. */
int
dns_name_eq(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

static struct dns_entry *
dns_store_find(struct dns_store *s, const char *qname, enum dns_type qtype)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		if (s->e[i].qtype == qtype && dns_name_eq(s->e[i].qname,
		    qname))
			return &s->e[i];
	return NULL;
}

static struct dns_entry *
dns_store_add(struct dns_store *s, const char *qname, enum dns_type qtype)
{
	struct dns_entry	*e;

	if ((e = dns_store_find(s, qname, qtype)) != NULL)
		return e;
	if (s->n == DNS_STORE_MAX || strlen(qname) > DNS_NAME_MAX + 1)
		return NULL;
	if (s->n == s->cap) {
		size_t	 cap = s->cap ? s->cap * 2 : 8;

		if ((e = reallocarray(s->e, cap, sizeof(*e))) == NULL)
			return NULL;
		s->e = e;
		s->cap = cap;
	}
	e = &s->e[s->n++];
	strlcpy(e->qname, qname, sizeof(e->qname));
	e->qtype = qtype;
	e->ans = NULL;
	return e;
}

/* Store an answer (the store owns it from now on). */
int
dns_store_put(struct dns_store *s, const char *qname, enum dns_type qtype,
    struct dns_answer *ans)
{
	struct dns_entry	*e;

	if ((e = dns_store_add(s, qname, qtype)) == NULL) {
		dns_answer_free(ans);
		return -1;
	}
	dns_answer_free(e->ans);
	e->ans = ans;
	return 0;
}

const struct dns_answer *
dns_store_get(struct dns_store *s, const char *qname, enum dns_type qtype)
{
	struct dns_entry	*e = dns_store_find(s, qname, qtype);

	return e != NULL ? e->ans : NULL;
}

/* Remember a question to resolve; -1 when the store is full. */
int
dns_store_want(struct dns_store *s, const char *qname, enum dns_type qtype)
{
	return dns_store_add(s, qname, qtype) == NULL ? -1 : 0;
}

/*
 * Call fn for every question wanted and not answered yet, until it
 * returns -1.  Returns how many were offered.
 */
int
dns_store_wants(struct dns_store *s, int (*fn)(void *, const char *,
    enum dns_type), void *arg)
{
	size_t	 i;
	int	 n = 0;

	for (i = 0; i < s->n; i++) {
		if (s->e[i].ans != NULL)
			continue;
		n++;
		if (fn(arg, s->e[i].qname, s->e[i].qtype) == -1)
			break;
	}
	return n;
}

size_t
dns_store_count(const struct dns_store *s)
{
	return s->n;
}

static int
dns_store_lookup(void *arg, const char *qname, enum dns_type qtype,
    const struct dns_answer **ans)
{
	struct dns_store	*s = arg;
	struct dns_entry	*e;

	if ((e = dns_store_find(s, qname, qtype)) != NULL && e->ans != NULL) {
		*ans = e->ans;
		return 1;
	}
	if (dns_store_want(s, qname, qtype) == -1) {
		/* Too many questions: answer as a temporary failure. */
		static struct dns_answer	 full = { DNS_TEMPFAIL, 0, NULL,
		    "too many DNS questions for one check" };

		*ans = &full;
		return 1;
	}
	return 0;
}

struct dns_source
dns_store_source(struct dns_store *s)
{
	struct dns_source	 src = { dns_store_lookup, s };

	return src;
}
