/*
 * Delivery from the queue (queue_mta.c): the scheduler's due recipients
 * go to mta as tasks, mta's results come back to the envelopes, and
 * failure, delay and success notices are queued as new messages.
 */
#ifndef SENDGATE_QUEUE_MTA_H
#define SENDGATE_QUEUE_MTA_H

struct answer;
struct envelope;
struct imsg;
struct mproc;
struct sendgated_conf;

/* Load the schedule from the committed messages (after recovery). */
void	queue_mta_init(const struct sendgated_conf *);

/* A message just committed (250 sent): schedule its recipients. */
void	queue_mta_add(const struct envelope *);

/* IMSG_MTA_TASK_RESULT and _DONE; 0 for other types. */
int	queue_mta_imsg(struct mproc *, struct imsg *);

/* sendgatectl remove: the message's recipients leave the schedule. */
void	queue_mta_forget(const char *);

/* sendgatectl schedule ID|all, pause|resume mta, show stats. */
void	queue_mta_ctl_schedule(struct answer *, const char *);
void	queue_mta_ctl_pause(struct answer *, int);
void	queue_mta_ctl_stats(struct answer *);

#endif
