/*
 * The process table.
 */
#include <string.h>

#include "proc.h"

static const char *const proc_names[PROC_COUNT + 1] = {
	[PROC_PARENT] = "parent",
	[PROC_SMTP] = "smtp",
	[PROC_LKA] = "lka",
	[PROC_QUEUE] = "queue",
	[PROC_MTA] = "mta",
	[PROC_SIGNER] = "signer",
	[PROC_CONTROL] = "control",
	[PROC_CLIENT] = "client",
};

/*
 * The mesh: only these pairs get a socketpair.  The parent talks to every
 * child; the rest follows the message flow in DESIGN.md (smtp asks lka and
 * queue, queue hands work to mta, mta asks lka for DNS and signer for
 * signatures, lka asks signer to generate keys, control fans out).
 */
static const unsigned int proc_peers[PROC_COUNT] = {
	[PROC_PARENT] = PROC_BIT(PROC_SMTP) | PROC_BIT(PROC_LKA) |
	    PROC_BIT(PROC_QUEUE) | PROC_BIT(PROC_MTA) |
	    PROC_BIT(PROC_SIGNER) | PROC_BIT(PROC_CONTROL),
	[PROC_SMTP] = PROC_BIT(PROC_PARENT) | PROC_BIT(PROC_LKA) |
	    PROC_BIT(PROC_QUEUE) | PROC_BIT(PROC_CONTROL),
	[PROC_LKA] = PROC_BIT(PROC_PARENT) | PROC_BIT(PROC_SMTP) |
	    PROC_BIT(PROC_QUEUE) | PROC_BIT(PROC_MTA) |
	    PROC_BIT(PROC_SIGNER) | PROC_BIT(PROC_CONTROL),
	[PROC_QUEUE] = PROC_BIT(PROC_PARENT) | PROC_BIT(PROC_SMTP) |
	    PROC_BIT(PROC_LKA) | PROC_BIT(PROC_MTA) | PROC_BIT(PROC_CONTROL),
	[PROC_MTA] = PROC_BIT(PROC_PARENT) | PROC_BIT(PROC_LKA) |
	    PROC_BIT(PROC_QUEUE) | PROC_BIT(PROC_SIGNER) |
	    PROC_BIT(PROC_CONTROL),
	[PROC_SIGNER] = PROC_BIT(PROC_PARENT) | PROC_BIT(PROC_LKA) |
	    PROC_BIT(PROC_MTA),
	[PROC_CONTROL] = PROC_BIT(PROC_PARENT) | PROC_BIT(PROC_SMTP) |
	    PROC_BIT(PROC_LKA) | PROC_BIT(PROC_QUEUE) | PROC_BIT(PROC_MTA),
};

const char *
proc_name(enum proc_id p)
{
	if ((unsigned int)p > PROC_CLIENT)
		return "unknown";
	return proc_names[p];
}

int
proc_lookup(const char *name, enum proc_id *p)
{
	int	 i;

	for (i = 0; i < PROC_COUNT; i++) {
		if (strcmp(proc_names[i], name) == 0) {
			*p = (enum proc_id)i;
			return 0;
		}
	}
	return -1;
}

int
proc_talks(enum proc_id a, enum proc_id b)
{
	if ((unsigned int)a >= PROC_COUNT || (unsigned int)b >= PROC_COUNT)
		return 0;
	return (proc_peers[a] & PROC_BIT(b)) != 0;
}
