/*
 * The rate limits of the connectors, counted in lka (lka_rate.c over the
 * pure counters of rate.c).
 */
#ifndef SENDGATE_LKA_RATE_H
#define SENDGATE_LKA_RATE_H

#include <stddef.h>
#include <stdint.h>

#include "rate.h"

struct sendgated_conf;
struct state_connector;

/* Restore the counters from the state database, start the flushes. */
void	lka_rate_init(const struct sendgated_conf *);

/* Write the counters that changed (also when lka exits). */
void	lka_rate_flush(void);

/* 1 if the connector has a recipient limit in some window. */
int	lka_rate_rcpt_limited(const struct state_connector *);

/*
 * Room for one more of kind in every window of the connector: 0 and it
 * is counted; 1 and why holds the reply text (the window, the limit,
 * when to retry), the first refusal of a window goes to the event log,
 * and queue counts the hit.
 */
int	lka_rate_check(const struct state_connector *, enum rate_kind, char *,
	    size_t);

/* The use and the limit of one window, for connector show. */
void	lka_rate_use(const struct state_connector *, enum rate_window,
	    enum rate_kind, uint64_t *, uint64_t *);

#endif
