/*
 * The lka process: the state database, DNS, credentials, policy and domain checks.
 */
#ifndef SENDGATE_LKA_H
#define SENDGATE_LKA_H

#include "sandbox.h"

extern const struct sandbox_rule lka_sandbox_rules[];

#endif
