/*
 * Domain checks: ownership TXT, SPF, DKIM and DMARC records of every
 * domain authorization, on a schedule spread over `checks every`, with at
 * most `checks concurrency` DNS questions in flight.
 *
 * A check is an evaluation over a dns_store: the pure evaluators ask
 * their questions, the job resolves what they miss and runs them again,
 * until every answer is known; then the results and the state
 * transition are written in one transaction.
 */
#ifndef SENDGATE_CHECKS_H
#define SENDGATE_CHECKS_H

#include <stdint.h>

#define CHECKS_JITTER_PCT	10	/* next check: every +- this */
#define CHECKS_WAIT_SEC		30	/* domain check answers within */
#define CHECKS_KEYS_MAX		8	/* DKIM keys checked per domain */
#define CHECKS_ACTOR		(-1)	/* uid of events the checks write */

struct lka_cmd;
struct sendgated_conf;

void	checks_init(struct sendgated_conf *);
void	checks_now(struct lka_cmd *, const char *);
void	checks_spf_walk(struct lka_cmd *, const char *);

#endif
