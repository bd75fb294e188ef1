/*
 * The queue process: durable storage of messages and the delivery scheduler.
 */
#ifndef SENDGATE_QUEUE_H
#define SENDGATE_QUEUE_H

#include "sandbox.h"

extern const struct sandbox_rule queue_sandbox_rules[];

#endif
