/*
 * May a connector send from a domain?  The answer lka gives smtp, from
 * the state the checks keep (DESIGN.md, issue 4 "Enforcement").
 */
#ifndef SENDGATE_POLICY_H
#define SENDGATE_POLICY_H

#include <stddef.h>
#include <stdint.h>

struct sendgated_conf;
struct state_domain;

int	policy_may_send(const struct state_domain *,
	    const struct sendgated_conf *, int64_t, char *, size_t);

#endif
