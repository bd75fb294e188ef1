/*
 * libFuzzer target for the DNS answer parser (SECURITY.md N1, N2): what
 * a resolver, or whoever spoofs one, can hand lka.
 *
 * Input: a DNS response, as it is.  The ID field, which the parser
 * ignores, picks the questions: the first byte the name asked
 * (names[byte % NNAMES]), and every type is asked for it in turn.  Each
 * answer must pass dns_check_answer() (dns_check.h), and asking for the
 * name in other letter case with a trailing dot must give the same.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "dns_check.h"

#define FUZZ_NAME	"fuzz_dns_parse"
#include "fuzz.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const names[] = {
	"example.com",
	"a.example.com",
	"EXAMPLE.com.",
	"1.2.0.192.in-addr.arpa",
	"",
	"x",
};

static const enum dns_type types[] = {
	DNS_T_A, DNS_T_AAAA, DNS_T_MX, DNS_T_TXT, DNS_T_PTR
};

#define NNAMES	(sizeof(names) / sizeof(names[0]))
#define NTYPES	(sizeof(types) / sizeof(types[0]))

static int
rr_same(const struct dns_rr *a, const struct dns_rr *b)
{
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		return memcmp(a->u.addr, b->u.addr, sizeof(a->u.addr)) == 0;
	case DNS_T_MX:
		return a->u.mx.pref == b->u.mx.pref &&
		    strcmp(a->u.mx.host, b->u.mx.host) == 0;
	case DNS_T_PTR:
		return strcmp(a->u.ptr, b->u.ptr) == 0;
	case DNS_T_TXT:
		return a->u.txt.len == b->u.txt.len &&
		    a->u.txt.nstrings == b->u.txt.nstrings &&
		    memcmp(a->u.txt.data, b->u.txt.data, a->u.txt.len) == 0;
	}
	return 0;
}

static const char *
compare(const struct dns_answer *a, const struct dns_answer *b)
{
	int	 i;

	if (a->status != b->status || a->nrr != b->nrr ||
	    strcmp(a->why, b->why) != 0)
		return "the name in other case answers otherwise";
	for (i = 0; i < a->nrr; i++)
		if (!rr_same(&a->rr[i], &b->rr[i]))
			return "the name in other case has other records";
	return NULL;
}

static void
check(const uint8_t *pkt, size_t len, const char *qname, enum dns_type qtype)
{
	struct dns_answer	*a, *b;
	const char		*broken;
	char			 other[DNS_NAME_MAX + 2];
	size_t			 i;

	/* The same name in other letter case, with a trailing dot. */
	for (i = 0; qname[i] != '\0'; i++)
		other[i] = islower((unsigned char)qname[i]) ?
		    toupper((unsigned char)qname[i]) :
		    tolower((unsigned char)qname[i]);
	other[i] = '\0';
	if (i > 0 && other[i - 1] != '.')
		strlcat(other, ".", sizeof(other));
	if ((a = dns_parse(pkt, len, qname, qtype)) == NULL ||
	    (b = dns_parse(pkt, len, other, qtype)) == NULL)
		fuzz_die("\"%s\" %s: no answer", qname, dns_type_name(qtype));
	if ((broken = dns_check_answer(a, qtype)) != NULL ||
	    (broken = compare(a, b)) != NULL)
		fuzz_die("\"%s\" %s: %s", qname, dns_type_name(qtype), broken);
	dns_answer_free(a);
	dns_answer_free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*qname = names[size > 0 ? data[0] % NNAMES : 0];
	size_t		 i;

	for (i = 0; i < NTYPES; i++)
		check(data, size, qname, types[i]);
	return 0;
}
