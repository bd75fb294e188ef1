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

/*
 * Room for one more of kind in every window of the connector: 0 and it
 * is counted; 1 and why holds the reply text (the window, the limit,
 * when to retry), the first refusal of a window goes to the event log,
 * and queue counts the hit.
 */
int	lka_rate_check(const struct state_connector *, enum rate_kind, char *,
	    size_t);

/*
 * The same for a connector whose name and limits an earlier check of
 * this run read from the state database (a RCPT after its MAIL): -1
 * when there is no such check to go by.  lka_rate_forget() drops them
 * when a command changes the connector.
 */
int	lka_rate_check_cached(int64_t, enum rate_kind, char *, size_t);
void	lka_rate_forget(int64_t);

/* The use and the limit of one window, for connector show. */
void	lka_rate_use(const struct state_connector *, enum rate_window,
	    enum rate_kind, uint64_t *, uint64_t *);

#endif
