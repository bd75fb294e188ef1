/*
 * Every message type the sendgated processes and sendgatectl exchange,
 * with its payload (the m_add_* items, in order).  This is the one header
 * all processes share.  Names read IMSG_<SENDER>_<NOUN>_<VERB>; CTL is
 * sendgatectl.  Request/answer pairs start with a u64 request id.
 *
 * proto.c holds the table of who may send each type to whom and whether
 * it carries an fd; mproc checks it before any handler runs.
 */
#ifndef SENDGATE_PROTO_H
#define SENDGATE_PROTO_H

#include <stdint.h>

#include "imsg.h"
#include "proc.h"

#define PROTO_VERSION	1

enum imsg_type {
	IMSG_NONE = 0,

	/* child -> parent: sandbox in place, event loop running. (none) */
	IMSG_CHILD_READY,
	/* parent -> control: the listening control socket. fd; (none) */
	IMSG_PARENT_CONTROL_SOCKET,
	/* parent -> smtp: a bound listener. fd; int index in config order */
	IMSG_PARENT_LISTENER,
	/* parent -> child: log level. int verbose */
	IMSG_PARENT_VERBOSE_SET,

	/* control -> parent: u64 reqid */
	IMSG_CONTROL_STATUS_GET,
	/*
	 * parent -> control: u64 reqid, u32 n, then n times:
	 * string name, int pid, i64 uptime seconds
	 */
	IMSG_PARENT_STATUS_RESULT,
	/* control -> parent: int verbose */
	IMSG_CONTROL_VERBOSE_SET,
	/* control -> parent: (none) */
	IMSG_CONTROL_STOP,

	/* sendgatectl -> control: u32 protocol version */
	IMSG_CTL_STATUS_SHOW,
	/* sendgatectl -> control: u32 protocol version, int verbose */
	IMSG_CTL_VERBOSE_SET,
	/* sendgatectl -> control: u32 protocol version */
	IMSG_CTL_STOP,
	/* control -> sendgatectl: (none) */
	IMSG_CONTROL_OK,
	/* control -> sendgatectl: string reason */
	IMSG_CONTROL_FAIL,
	/* control -> sendgatectl: IMSG_PARENT_STATUS_RESULT, forwarded */
	IMSG_CONTROL_STATUS_RESULT,

	IMSG_TYPE_COUNT
};

const char	*proto_name(uint32_t);
int		 proto_check(const struct imsg *, enum proc_id, enum proc_id,
		    const char **);

#endif
