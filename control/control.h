/*
 * The control process: the control socket for sendgatectl.
 */
#ifndef SENDGATE_CONTROL_H
#define SENDGATE_CONTROL_H

#include "sandbox.h"

#define CONTROL_CLIENTS_MAX	64	/* connections at once */
#define CONTROL_IDLE_SEC	30	/* without a request, then closed */
#define CONTROL_BACKOFF_SEC	1	/* accept paused when out of fds */

extern const struct sandbox_rule control_sandbox_rules[];

#endif
