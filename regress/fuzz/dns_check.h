/*
 * What every answer dns_parse() gives must satisfy, whatever the packet
 * (SECURITY.md N1, N2).  Shared by fuzz_dns_parse.c and the mutation
 * test of regress/unit/test_dns_parse.c.  Header-only.
 */
#ifndef SENDGATE_DNS_CHECK_H
#define SENDGATE_DNS_CHECK_H

#include <string.h>

#include "dns.h"

/*
 * A name as the parser may hand it out: at most DNS_NAME_MAX bytes,
 * printable ASCII without spaces, no empty label, no trailing dot.  A
 * byte outside 0x21-0x7e would let a label fake a dot, end the string
 * early or break a log line.
 */
static int
dns_check_name(const char *s)
{
	size_t	 i, len = strnlen(s, DNS_NAME_MAX + 1);

	if (len > DNS_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] >= 0x7f)
			return 0;
		if (s[i] == '.' && (i == 0 || i == len - 1 || s[i + 1] == '.'))
			return 0;
	}
	return 1;
}

/* NULL when the answer to a question of type qtype is sound. */
static const char *
dns_check_answer(const struct dns_answer *a, enum dns_type qtype)
{
	const struct dns_rr	*rr;
	int			 i;

	if (a->status < DNS_ANSWER || a->status > DNS_TEMPFAIL)
		return "status out of range";
	if (a->nrr < 0 || a->nrr > DNS_RR_MAX)
		return "record count out of range";
	if ((a->nrr > 0) != (a->status == DNS_ANSWER))
		return "records without DNS_ANSWER, or DNS_ANSWER without";
	if (strnlen(a->why, sizeof(a->why)) == sizeof(a->why))
		return "why not NUL-terminated";
	if ((a->why[0] != '\0') != (a->status == DNS_TEMPFAIL))
		return "why given without DNS_TEMPFAIL, or missing with it";
	for (i = 0; i < a->nrr; i++) {
		rr = &a->rr[i];
		if (rr->type != qtype)
			return "record of another type than asked";
		switch (rr->type) {
		case DNS_T_MX:
			if (!dns_check_name(rr->u.mx.host))
				return "bad MX host name";
			break;
		case DNS_T_PTR:
			if (!dns_check_name(rr->u.ptr))
				return "bad PTR name";
			break;
		case DNS_T_TXT:
			if (rr->u.txt.data == NULL ||
			    rr->u.txt.len > DNS_TXT_MAX ||
			    rr->u.txt.data[rr->u.txt.len] != '\0')
				return "TXT over the cap or not NUL-ended";
			if (rr->u.txt.nstrings < 0 ||
			    rr->u.txt.nstrings > DNS_TXT_STRINGS_MAX ||
			    (rr->u.txt.len > 0 && rr->u.txt.nstrings == 0))
				return "TXT string count out of range";
			break;
		default:
			break;
		}
	}
	return NULL;
}

#endif
