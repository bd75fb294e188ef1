/*
 * The queue process: durable storage of messages and the delivery scheduler.
 * What queue's files share.
 */
#ifndef SENDGATE_QUEUE_H
#define SENDGATE_QUEUE_H

#include "sandbox.h"

struct imsg;
struct mproc;

#define QUEUE_PENDING_MAX	4096	/* messages being received at once */

extern const struct sandbox_rule queue_sandbox_rules[];

/* queue_smtp.c: messages from smtp, stored through queue_store.c */
int	queue_smtp_imsg(struct mproc *, struct imsg *);

/* queue_ctl.c: sendgatectl commands answered by the queue */
void	queue_ctl_command(struct mproc *, struct imsg *);
void	queue_smtp_init(void);

#endif
