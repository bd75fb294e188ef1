/*
 * Who may send which message to whom, and whether it carries an fd.
 * A message that breaks this table is malformed, whatever its payload.
 */
#include <stddef.h>

#include "proto.h"

#define ANY_CHILD	(PROC_BIT(PROC_SMTP) | PROC_BIT(PROC_LKA) | \
			PROC_BIT(PROC_QUEUE) | PROC_BIT(PROC_MTA) | \
			PROC_BIT(PROC_SIGNER) | PROC_BIT(PROC_CONTROL))
#define P(x)		PROC_BIT(PROC_##x)

struct proto_rule {
	const char	*name;
	unsigned int	 from;
	unsigned int	 to;
	int		 fd;	/* 1: required, 0: none allowed */
};

static const struct proto_rule proto_rules[IMSG_TYPE_COUNT] = {
	[IMSG_CHILD_READY] = { "CHILD_READY", ANY_CHILD, P(PARENT), 0 },
	[IMSG_PARENT_CONTROL_SOCKET] =
	    { "PARENT_CONTROL_SOCKET", P(PARENT), P(CONTROL), 1 },
	[IMSG_PARENT_LISTENER] =
	    { "PARENT_LISTENER", P(PARENT), P(SMTP), 1 },
	[IMSG_PARENT_VERBOSE_SET] =
	    { "PARENT_VERBOSE_SET", P(PARENT), ANY_CHILD, 0 },
	[IMSG_CONTROL_STATUS_GET] =
	    { "CONTROL_STATUS_GET", P(CONTROL), P(PARENT), 0 },
	[IMSG_PARENT_STATUS_RESULT] =
	    { "PARENT_STATUS_RESULT", P(PARENT), P(CONTROL), 0 },
	[IMSG_CONTROL_VERBOSE_SET] =
	    { "CONTROL_VERBOSE_SET", P(CONTROL), P(PARENT), 0 },
	[IMSG_CONTROL_STOP] = { "CONTROL_STOP", P(CONTROL), P(PARENT), 0 },
	[IMSG_CTL_STATUS_SHOW] =
	    { "CTL_STATUS_SHOW", P(CLIENT), P(CONTROL), 0 },
	[IMSG_CTL_VERBOSE_SET] =
	    { "CTL_VERBOSE_SET", P(CLIENT), P(CONTROL), 0 },
	[IMSG_CTL_STOP] = { "CTL_STOP", P(CLIENT), P(CONTROL), 0 },
	[IMSG_CONTROL_OK] = { "CONTROL_OK", P(CONTROL), P(CLIENT), 0 },
	[IMSG_CONTROL_FAIL] = { "CONTROL_FAIL", P(CONTROL), P(CLIENT), 0 },
	[IMSG_CONTROL_STATUS_RESULT] =
	    { "CONTROL_STATUS_RESULT", P(CONTROL), P(CLIENT), 0 },
	[IMSG_CTL_COMMAND] = { "CTL_COMMAND", P(CLIENT), P(CONTROL), 0 },
	[IMSG_CONTROL_COMMAND] =
	    { "CONTROL_COMMAND", P(CONTROL), P(LKA) | P(QUEUE), 0 },
	[IMSG_LKA_ROW] = { "LKA_ROW", P(LKA), P(CONTROL), 0 },
	[IMSG_LKA_DONE] = { "LKA_DONE", P(LKA), P(CONTROL), 0 },
	[IMSG_CONTROL_ROW] = { "CONTROL_ROW", P(CONTROL), P(CLIENT), 0 },
	[IMSG_CONTROL_DONE] = { "CONTROL_DONE", P(CONTROL), P(CLIENT), 0 },
	[IMSG_LKA_DKIM_KEYGEN] =
	    { "LKA_DKIM_KEYGEN", P(LKA), P(SIGNER), 0 },
	[IMSG_SIGNER_DKIM_KEY] =
	    { "SIGNER_DKIM_KEY", P(SIGNER), P(LKA), 0 },
	[IMSG_LKA_DKIM_KEYDEL] =
	    { "LKA_DKIM_KEYDEL", P(LKA), P(SIGNER), 0 },
	[IMSG_MTA_MX_LOOKUP] = { "MTA_MX_LOOKUP", P(MTA), P(LKA), 0 },
	[IMSG_LKA_MX_RESULT] = { "LKA_MX_RESULT", P(LKA), P(MTA), 0 },
	[IMSG_SMTP_AUTH_CHECK] = { "SMTP_AUTH_CHECK", P(SMTP), P(LKA), 0 },
	[IMSG_SMTP_ADDR_CHECK] = { "SMTP_ADDR_CHECK", P(SMTP), P(LKA), 0 },
	[IMSG_LKA_AUTH_RESULT] = { "LKA_AUTH_RESULT", P(LKA), P(SMTP), 0 },
	[IMSG_SMTP_SENDER_CHECK] =
	    { "SMTP_SENDER_CHECK", P(SMTP), P(LKA), 0 },
	[IMSG_LKA_SENDER_RESULT] =
	    { "LKA_SENDER_RESULT", P(LKA), P(SMTP), 0 },
	[IMSG_SMTP_RCPT_CHECK] = { "SMTP_RCPT_CHECK", P(SMTP), P(LKA), 0 },
	[IMSG_LKA_RCPT_RESULT] = { "LKA_RCPT_RESULT", P(LKA), P(SMTP), 0 },
	[IMSG_LKA_LIMIT_HIT] = { "LKA_LIMIT_HIT", P(LKA), P(QUEUE), 0 },
	[IMSG_SMTP_MESSAGE_CREATE] =
	    { "SMTP_MESSAGE_CREATE", P(SMTP), P(QUEUE), 0 },
	[IMSG_QUEUE_MESSAGE_FILE] =
	    { "QUEUE_MESSAGE_FILE", P(QUEUE), P(SMTP), 1 },
	[IMSG_QUEUE_MESSAGE_REFUSED] =
	    { "QUEUE_MESSAGE_REFUSED", P(QUEUE), P(SMTP), 0 },
	[IMSG_SMTP_MESSAGE_ENVELOPE] =
	    { "SMTP_MESSAGE_ENVELOPE", P(SMTP), P(QUEUE), 0 },
	[IMSG_SMTP_MESSAGE_RCPT] =
	    { "SMTP_MESSAGE_RCPT", P(SMTP), P(QUEUE), 0 },
	[IMSG_SMTP_MESSAGE_COMMIT] =
	    { "SMTP_MESSAGE_COMMIT", P(SMTP), P(QUEUE), 0 },
	[IMSG_QUEUE_MESSAGE_COMMITTED] =
	    { "QUEUE_MESSAGE_COMMITTED", P(QUEUE), P(SMTP), 0 },
	[IMSG_SMTP_MESSAGE_ROLLBACK] =
	    { "SMTP_MESSAGE_ROLLBACK", P(SMTP), P(QUEUE), 0 },
	[IMSG_QUEUE_ROW] = { "QUEUE_ROW", P(QUEUE), P(CONTROL), 0 },
	[IMSG_QUEUE_DONE] = { "QUEUE_DONE", P(QUEUE), P(CONTROL), 0 },
	[IMSG_QUEUE_TASK_MESSAGE] =
	    { "QUEUE_TASK_MESSAGE", P(QUEUE), P(MTA), 1 },
	[IMSG_QUEUE_TASK_RCPT] = { "QUEUE_TASK_RCPT", P(QUEUE), P(MTA), 0 },
	[IMSG_MTA_TASK_RESULT] = { "MTA_TASK_RESULT", P(MTA), P(QUEUE), 0 },
	[IMSG_MTA_TASK_DONE] = { "MTA_TASK_DONE", P(MTA), P(QUEUE), 0 },
	[IMSG_MTA_DKIM_LOOKUP] = { "MTA_DKIM_LOOKUP", P(MTA), P(LKA), 0 },
	[IMSG_LKA_DKIM_KEYS] = { "LKA_DKIM_KEYS", P(LKA), P(MTA), 0 },
	[IMSG_MTA_DKIM_SIGN] = { "MTA_DKIM_SIGN", P(MTA), P(SIGNER), 0 },
	[IMSG_SIGNER_DKIM_SIGNATURE] =
	    { "SIGNER_DKIM_SIGNATURE", P(SIGNER), P(MTA), 0 },
};

const char *
proto_name(uint32_t type)
{
	if (type >= IMSG_TYPE_COUNT || proto_rules[type].name == NULL)
		return "unknown";
	return proto_rules[type].name;
}

/*
 * Check a received message against the table: from is the peer it came
 * from, to is the receiving process.  Returns 0, or -1 with *why set.
 */
int
proto_check(const struct imsg *im, enum proc_id from, enum proc_id to,
    const char **why)
{
	const struct proto_rule	*r;

	if (im->type >= IMSG_TYPE_COUNT ||
	    proto_rules[im->type].name == NULL) {
		*why = "unknown message type";
		return -1;
	}
	r = &proto_rules[im->type];
	if ((r->from & PROC_BIT(from)) == 0 || (r->to & PROC_BIT(to)) == 0) {
		*why = "message type not allowed from that peer";
		return -1;
	}
	if (r->fd && im->fd == -1) {
		*why = "message without its fd";
		return -1;
	}
	if (!r->fd && im->fd != -1) {
		*why = "fd on a message type that takes none";
		return -1;
	}
	return 0;
}
