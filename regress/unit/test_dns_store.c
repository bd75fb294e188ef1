/*
 * dns_store: the answers of one evaluation by question, the questions
 * still open, the cap on questions, and who frees what (run under ASan:
 * LeakSanitizer proves the store frees every answer it took).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "dns.h"

#define NROWS(a)	(sizeof(a) / sizeof((a)[0]))
#define STORE_MAX	256	/* DNS_STORE_MAX of dns_store.c */
#define WANTS_MAX	(STORE_MAX + 1)

/* An answer to tell apart from others: its why is the tag. */
static struct dns_answer *
answer(enum dns_status status, const char *tag)
{
	struct dns_answer	*a;

	assert_non_null(a = calloc(1, sizeof(*a)));
	a->status = status;
	strlcpy(a->why, tag, sizeof(a->why));
	return a;
}

/* A TXT answer: the store must free the record data too. */
static struct dns_answer *
answer_txt(const char *text)
{
	struct dns_answer	*a = answer(DNS_ANSWER, "");

	assert_non_null(a->rr = calloc(1, sizeof(*a->rr)));
	a->nrr = 1;
	a->rr[0].type = DNS_T_TXT;
	assert_non_null(a->rr[0].u.txt.data = strdup(text));
	a->rr[0].u.txt.len = strlen(text);
	a->rr[0].u.txt.nstrings = 1;
	return a;
}

static const struct {
	const char	*a, *b;
	int		 eq;
} name_rows[] = {
	{ "example.com", "example.com", 1 },
	{ "Example.COM", "example.com", 1 },
	{ "example.com.", "example.com", 1 },
	{ "EXAMPLE.com", "example.COM.", 1 },
	{ "example.com..", "example.com", 0 },
	{ "example.com", "example.co", 0 },
	{ "www.example.com", "example.com", 0 },
	{ "", ".", 1 },
	{ "", "", 1 },
	{ ".", "a", 0 },
};

static void
test_name_eq(void **state)
{
	size_t	 i;

	for (i = 0; i < NROWS(name_rows); i++)
		if (dns_name_eq(name_rows[i].a, name_rows[i].b) !=
		    name_rows[i].eq || dns_name_eq(name_rows[i].b,
		    name_rows[i].a) != name_rows[i].eq)
			fail_msg("\"%s\" vs \"%s\": want %d", name_rows[i].a,
			    name_rows[i].b, name_rows[i].eq);
}

/* A question as stored, and the names that must find it or not. */
static const struct {
	const char	*put;
	enum dns_type	 type;
	const char	*get;
	enum dns_type	 gettype;
	int		 found;
} get_rows[] = {
	{ "example.com", DNS_T_TXT, "example.com", DNS_T_TXT, 1 },
	{ "example.com", DNS_T_TXT, "EXAMPLE.Com", DNS_T_TXT, 1 },
	{ "example.com", DNS_T_TXT, "example.com.", DNS_T_TXT, 1 },
	{ "Mail.Example.Com.", DNS_T_MX, "mail.example.com", DNS_T_MX, 1 },
	{ "example.com", DNS_T_TXT, "example.com", DNS_T_A, 0 },
	{ "example.com", DNS_T_TXT, "www.example.com", DNS_T_TXT, 0 },
	{ "example.com", DNS_T_TXT, "example.co", DNS_T_TXT, 0 },
	{ "example.com", DNS_T_TXT, "example.com..", DNS_T_TXT, 0 },
};

static void
test_put_get(void **state)
{
	const struct dns_answer	*got;
	struct dns_answer	*a;
	struct dns_store	*s;
	size_t			 i;

	for (i = 0; i < NROWS(get_rows); i++) {
		assert_non_null(s = dns_store_new());
		a = answer(DNS_NODATA, "");
		assert_int_equal(dns_store_put(s, get_rows[i].put,
		    get_rows[i].type, a), 0);
		got = dns_store_get(s, get_rows[i].get, get_rows[i].gettype);
		if ((got == a) != get_rows[i].found || (got != NULL &&
		    got != a))
			fail_msg("put \"%s\" %s, get \"%s\" %s: want %s",
			    get_rows[i].put, dns_type_name(get_rows[i].type),
			    get_rows[i].get,
			    dns_type_name(get_rows[i].gettype),
			    get_rows[i].found ? "found" : "not found");
		assert_int_equal(dns_store_count(s), 1);
		dns_store_free(s);
	}
}

/* A second put of the same question replaces the answer, and frees it. */
static void
test_put_replaces(void **state)
{
	struct dns_store	*s;
	struct dns_answer	*second;

	assert_non_null(s = dns_store_new());
	assert_int_equal(dns_store_put(s, "example.com", DNS_T_TXT,
	    answer_txt("v=spf1 -all")), 0);
	second = answer_txt("v=spf1 +all");
	assert_int_equal(dns_store_put(s, "EXAMPLE.COM.", DNS_T_TXT, second),
	    0);
	assert_ptr_equal(dns_store_get(s, "example.com", DNS_T_TXT), second);
	assert_int_equal(dns_store_count(s), 1);
	dns_store_free(s);
	dns_store_free(NULL);
}

struct wants {
	char		 name[WANTS_MAX][DNS_NAME_MAX + 2];
	enum dns_type	 type[WANTS_MAX];
	int		 n;
	int		 stop;		/* return -1 at this call */
};

static int
want_cb(void *arg, const char *qname, enum dns_type qtype)
{
	struct wants	*w = arg;

	assert_true(w->n < WANTS_MAX);
	strlcpy(w->name[w->n], qname, sizeof(w->name[0]));
	w->type[w->n] = qtype;
	return ++w->n == w->stop ? -1 : 0;
}

/*
 * Questions wanted come back, in order, until answered; one wanted
 * twice (in another case) is one question; the callback may stop.
 */
static void
test_wants(void **state)
{
	struct dns_store	*s;
	struct wants		 w;

	assert_non_null(s = dns_store_new());
	memset(&w, 0, sizeof(w));
	assert_int_equal(dns_store_wants(s, want_cb, &w), 0);
	assert_int_equal(dns_store_want(s, "a.example", DNS_T_TXT), 0);
	assert_int_equal(dns_store_want(s, "b.example", DNS_T_A), 0);
	assert_int_equal(dns_store_want(s, "A.EXAMPLE.", DNS_T_TXT), 0);
	assert_int_equal(dns_store_want(s, "a.example", DNS_T_MX), 0);
	assert_int_equal(dns_store_count(s), 3);
	assert_null(dns_store_get(s, "a.example", DNS_T_TXT));

	assert_int_equal(dns_store_wants(s, want_cb, &w), 3);
	assert_int_equal(w.n, 3);
	assert_string_equal(w.name[0], "a.example");
	assert_int_equal(w.type[0], DNS_T_TXT);
	assert_string_equal(w.name[1], "b.example");
	assert_int_equal(w.type[1], DNS_T_A);
	assert_string_equal(w.name[2], "a.example");
	assert_int_equal(w.type[2], DNS_T_MX);

	memset(&w, 0, sizeof(w));
	w.stop = 2;
	assert_int_equal(dns_store_wants(s, want_cb, &w), 2);
	assert_int_equal(w.n, 2);

	/* Answering b.example A leaves two. */
	assert_int_equal(dns_store_put(s, "b.example", DNS_T_A,
	    answer(DNS_NXDOMAIN, "")), 0);
	assert_int_equal(dns_store_count(s), 3);
	memset(&w, 0, sizeof(w));
	assert_int_equal(dns_store_wants(s, want_cb, &w), 2);
	assert_string_equal(w.name[1], "a.example");
	assert_int_equal(w.type[1], DNS_T_MX);
	/* Wanting an answered question again changes nothing. */
	assert_int_equal(dns_store_want(s, "b.example", DNS_T_A), 0);
	assert_int_equal(dns_store_get(s, "b.example", DNS_T_A)->status,
	    DNS_NXDOMAIN);
	dns_store_free(s);
}

/*
 * The source over a store: a known answer is given, an unknown
 * question is noted and not answered (0), until the store is full.
 */
static void
test_source(void **state)
{
	const struct dns_answer	*ans = NULL;
	struct dns_answer	*a;
	struct dns_store	*s;
	struct dns_source	 src;
	struct wants		 w;

	assert_non_null(s = dns_store_new());
	src = dns_store_source(s);
	assert_int_equal(src.lookup(src.arg, "example.com", DNS_T_TXT, &ans),
	    0);
	assert_null(ans);
	assert_int_equal(dns_store_count(s), 1);
	memset(&w, 0, sizeof(w));
	assert_int_equal(dns_store_wants(s, want_cb, &w), 1);
	assert_string_equal(w.name[0], "example.com");

	a = answer_txt("v=spf1 -all");
	assert_int_equal(dns_store_put(s, w.name[0], w.type[0], a), 0);
	assert_int_equal(src.lookup(src.arg, "Example.Com.", DNS_T_TXT,
	    &ans), 1);
	assert_ptr_equal(ans, a);
	/* Asking again for an open question adds none. */
	assert_int_equal(src.lookup(src.arg, "x.example", DNS_T_A, &ans), 0);
	assert_int_equal(src.lookup(src.arg, "X.example", DNS_T_A, &ans), 0);
	assert_int_equal(dns_store_count(s), 2);
	dns_store_free(s);
}

/*
 * DNS_STORE_MAX questions: the next is refused by want and put (put
 * frees the answer it could not keep), and the source answers it with a
 * temporary failure instead of "not known yet".  Questions already in
 * the store still work.
 */
static void
test_cap(void **state)
{
	const struct dns_answer	*ans = NULL;
	struct dns_store	*s;
	struct dns_source	 src;
	struct wants		 w;
	char			 name[32];
	int			 i;

	assert_non_null(s = dns_store_new());
	src = dns_store_source(s);
	for (i = 0; i < STORE_MAX; i++) {
		snprintf(name, sizeof(name), "q%d.example", i);
		if (i % 2)
			assert_int_equal(dns_store_want(s, name, DNS_T_A), 0);
		else
			assert_int_equal(dns_store_put(s, name, DNS_T_A,
			    answer_txt(name)), 0);
	}
	assert_int_equal(dns_store_count(s), STORE_MAX);
	assert_int_equal(dns_store_want(s, "full.example", DNS_T_A), -1);
	assert_int_equal(dns_store_put(s, "full.example", DNS_T_A,
	    answer_txt("lost")), -1);
	assert_null(dns_store_get(s, "full.example", DNS_T_A));
	assert_int_equal(src.lookup(src.arg, "full.example", DNS_T_A, &ans),
	    1);
	assert_int_equal(ans->status, DNS_TEMPFAIL);
	assert_int_equal(ans->nrr, 0);
	assert_string_equal(ans->why, "too many DNS questions for one check");
	assert_int_equal(dns_store_count(s), STORE_MAX);

	/* What is in stays usable: wanted ones can be answered. */
	assert_int_equal(dns_store_want(s, "Q1.EXAMPLE", DNS_T_A), 0);
	assert_int_equal(dns_store_put(s, "q1.example", DNS_T_A,
	    answer(DNS_NODATA, "")), 0);
	assert_int_equal(src.lookup(src.arg, "q1.example", DNS_T_A, &ans), 1);
	assert_int_equal(ans->status, DNS_NODATA);
	assert_int_equal(src.lookup(src.arg, "q3.example", DNS_T_A, &ans), 0);
	memset(&w, 0, sizeof(w));
	assert_int_equal(dns_store_wants(s, want_cb, &w), STORE_MAX / 2 - 1);
	dns_store_free(s);
}

/* A question name over DNS_NAME_MAX + 1 bytes is refused, not cut. */
static void
test_long_name(void **state)
{
	struct dns_store	*s;
	char			 name[DNS_NAME_MAX + 3];

	assert_non_null(s = dns_store_new());
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(dns_store_want(s, name, DNS_T_TXT), -1);
	assert_int_equal(dns_store_put(s, name, DNS_T_TXT,
	    answer_txt("lost")), -1);
	assert_int_equal(dns_store_count(s), 0);
	/* DNS_NAME_MAX and a trailing dot fit. */
	name[DNS_NAME_MAX] = '.';
	name[DNS_NAME_MAX + 1] = '\0';
	assert_int_equal(dns_store_put(s, name, DNS_T_TXT,
	    answer_txt("kept")), 0);
	name[DNS_NAME_MAX] = '\0';
	assert_non_null(dns_store_get(s, name, DNS_T_TXT));
	dns_store_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_eq),
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_put_replaces),
		cmocka_unit_test(test_wants),
		cmocka_unit_test(test_source),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_long_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
