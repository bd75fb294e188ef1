/*
 * The mta process: outbound SMTP to MX hosts and DKIM hashing.
 */
#ifndef SENDGATE_MTA_H
#define SENDGATE_MTA_H

#include "sandbox.h"

extern const struct sandbox_rule mta_sandbox_rules[];

#endif
