/*
 * The signer process: the only holder of DKIM private keys; generates keys and signs digests for mta.
 */
#ifndef SENDGATE_SIGNER_H
#define SENDGATE_SIGNER_H

#include "sandbox.h"

extern const struct sandbox_rule signer_sandbox_rules[];

#endif
