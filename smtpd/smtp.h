/*
 * The smtp process: SMTP submission sessions on the configured listeners.
 */
#ifndef SENDGATE_SMTP_H
#define SENDGATE_SMTP_H

#include "sandbox.h"

#define SMTP_LISTENERS_MAX	32

extern const struct sandbox_rule smtp_sandbox_rules[];

#endif
