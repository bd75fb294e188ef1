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

#define PROTO_VERSION	5

#define PROTO_PARAMS_MAX	32	/* key/value pairs in a command */
#define PROTO_KEY_MAX		32
#define PROTO_VALUE_MAX		1024

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

	/*
	 * sendgatectl -> control: a command for another process.
	 * u32 protocol version, string command (e.g. "connector.add"),
	 * u32 n, then n times: string key, string value
	 */
	IMSG_CTL_COMMAND,
	/*
	 * control -> lka or queue: u64 reqid, int uid of the client, then
	 * the command as in IMSG_CTL_COMMAND after the version
	 */
	IMSG_CONTROL_COMMAND,
	/*
	 * lka -> control: one row of an answer.  u64 reqid, string kind,
	 * u8 single (1: one object, 0: an item of a list), then fields:
	 * string key, u8 type ('s' or 'i'), string or i64 value; the list
	 * ends with an empty key.
	 */
	IMSG_LKA_ROW,
	/* lka -> control: end of an answer. u64 reqid, int status, string */
	IMSG_LKA_DONE,
	/* control -> sendgatectl: IMSG_LKA_ROW, forwarded */
	IMSG_CONTROL_ROW,
	/* control -> sendgatectl: IMSG_LKA_DONE, forwarded */
	IMSG_CONTROL_DONE,

	/* lka -> signer: u64 reqid, string domain, string selector, string alg */
	IMSG_LKA_DKIM_KEYGEN,
	/* signer -> lka: u64 reqid, int ok, string public key (p=) or error */
	IMSG_SIGNER_DKIM_KEY,
	/* lka -> signer: string domain, string selector, string alg */
	IMSG_LKA_DKIM_KEYDEL,

	/*
	 * mta -> lka: where does mail for a domain go.  u64 reqid, string
	 * name, int host (1: name is a host, e.g. the "relay via" smarthost:
	 * its own A and AAAA, no MX lookup)
	 */
	IMSG_MTA_MX_LOOKUP,
	/*
	 * lka -> mta: u64 reqid, int mx_status, string why, u32 n, then
	 * n times: string host, u32 preference, u32 m, m sockaddrs
	 */
	IMSG_LKA_MX_RESULT,

	/*
	 * smtp -> lka: which connector do these SMTP credentials belong to.
	 * u64 reqid, string user, string password
	 */
	IMSG_SMTP_AUTH_CHECK,
	/*
	 * smtp -> lka: is the client's address in a connector's source
	 * networks.  u64 reqid, sockaddr client
	 */
	IMSG_SMTP_ADDR_CHECK,
	/*
	 * lka -> smtp: answer to both.  u64 reqid, int result (LKA_AUTH_*
	 * below), i64 connector id, string connector name, u64 recipients
	 * per message, u64 message size limit
	 */
	IMSG_LKA_AUTH_RESULT,
	/*
	 * smtp -> lka: may the connector send as these domains (envelope
	 * sender, then header From:/Sender:), and at MAIL, is there room
	 * for one more message in its rate windows (then counted).  u64
	 * reqid, i64 connector id, int mail (1: at MAIL FROM), u32 n
	 * (1..PROTO_DOMAINS_MAX, or 0 for the null sender at MAIL), n
	 * strings domain
	 */
	IMSG_SMTP_SENDER_CHECK,
	/*
	 * lka -> smtp: u64 reqid, int result (LKA_SENDER_*), string reason
	 * for the reply text (names the first domain refused, or the rate
	 * limit)
	 */
	IMSG_LKA_SENDER_RESULT,
	/*
	 * smtp -> lka: room for one more recipient in the connector's rate
	 * windows (then counted)?  u64 reqid, i64 connector id
	 */
	IMSG_SMTP_RCPT_CHECK,
	/* lka -> smtp: u64 reqid, int result (LKA_SENDER_*), string reason */
	IMSG_LKA_RCPT_RESULT,
	/* lka -> queue: a rate limit refused one, for show stats.  string
	 * connector name */
	IMSG_LKA_LIMIT_HIT,

	/* smtp -> queue: a new message file, please.  u64 reqid */
	IMSG_SMTP_MESSAGE_CREATE,
	/*
	 * queue -> smtp: the new message.  fd (write only, empty, owned by
	 * queue); u64 reqid, string queue id
	 */
	IMSG_QUEUE_MESSAGE_FILE,
	/*
	 * queue -> smtp: no message file.  u64 reqid, int code (451, 452),
	 * string reply text after the code ("4.3.1 ...")
	 */
	IMSG_QUEUE_MESSAGE_REFUSED,
	/*
	 * smtp -> queue: the envelope of message id, sent once before its
	 * recipients.  string id, string sender ("" for <>), int body
	 * (SMTP_BODY_*), int smtputf8, int ret (SMTP_RET_*), string envid,
	 * i64 connector id, string connector name, string auth user ("" when
	 * by address), string client address, string client name (HELO),
	 * string TLS ("TLSv1.3 TLS_AES_256_GCM_SHA384" or ""), i64 time
	 */
	IMSG_SMTP_MESSAGE_ENVELOPE,
	/*
	 * smtp -> queue: one recipient of message id.  string id, string
	 * recipient, int notify (SMTP_NOTIFY_* bits), string orcpt type,
	 * string orcpt
	 */
	IMSG_SMTP_MESSAGE_RCPT,
	/*
	 * smtp -> queue: the body is complete, make it durable.  u64 reqid,
	 * string id, u64 size (octets smtp wrote)
	 */
	IMSG_SMTP_MESSAGE_COMMIT,
	/*
	 * queue -> smtp: answer to COMMIT.  u64 reqid, int code (250 when
	 * message and envelope are on disk, else 451, 452 or 552), string
	 * reply text after the code
	 */
	IMSG_QUEUE_MESSAGE_COMMITTED,
	/* smtp -> queue: forget an uncommitted message.  string id */
	IMSG_SMTP_MESSAGE_ROLLBACK,

	/* queue -> control: one row of an answer, as IMSG_LKA_ROW */
	IMSG_QUEUE_ROW,
	/* queue -> control: end of an answer, as IMSG_LKA_DONE */
	IMSG_QUEUE_DONE,

	/*
	 * queue -> mta: deliver one message to some of its recipients, all
	 * of one destination domain (a "task").  fd (read only, the stored
	 * message from offset 0); u64 taskid, string queue id, string
	 * domain (lower case), string sender ("" for <>), int body
	 * (SMTP_BODY_*), int smtputf8, int ret (SMTP_RET_*), string envid,
	 * u64 size, i64 arrival time, i64 connector id, string connector,
	 * u32 nrcpt
	 * (1..MTA_CLIENT_RCPT_MAX); nrcpt QUEUE_TASK_RCPT follow.
	 */
	IMSG_QUEUE_TASK_MESSAGE,
	/*
	 * queue -> mta: one recipient of a task.  u64 taskid, u32 rcpt
	 * index in the envelope, string recipient, int notify
	 * (SMTP_NOTIFY_* bits), string orcpt type, string orcpt
	 */
	IMSG_QUEUE_TASK_RCPT,
	/*
	 * mta -> queue: the outcome for one recipient of a task.  u64
	 * taskid, u32 rcpt index, int status (MTA_RESULT_*), int code,
	 * string enhanced code ("" none), string text, string relay host
	 * name ("" when no connection), string relay address ("" idem),
	 * int dsn_relayed (1: delivered to a server that does not take DSN
	 * parameters, so a SUCCESS notification is ours to send)
	 */
	IMSG_MTA_TASK_RESULT,
	/*
	 * mta -> queue: every recipient of the task has its result and the
	 * fd is closed.  u64 taskid
	 */
	IMSG_MTA_TASK_DONE,

	/*
	 * mta -> lka: the DKIM keys to sign a message with.  u64 reqid, i64
	 * connector id, string domain of the header From: (as written)
	 */
	IMSG_MTA_DKIM_LOOKUP,
	/*
	 * lka -> mta: u64 reqid, int result (LKA_DKIM_*), string d= (the
	 * domain in A-labels, lower case), u32 n (0..PROTO_DKIM_KEYS_MAX),
	 * n times: string selector, string algorithm ("rsa-sha256",
	 * "ed25519-sha256")
	 */
	IMSG_LKA_DKIM_KEYS,
	/*
	 * mta -> signer: sign one digest.  u64 reqid, string domain, string
	 * selector, string algorithm, data digest (32 octets: SHA-256 of
	 * the canonicalized header fields and the DKIM-Signature field
	 * without b=, RFC 6376 3.7)
	 */
	IMSG_MTA_DKIM_SIGN,
	/*
	 * signer -> mta: u64 reqid, int ok, data signature (ok: the b=
	 * octets before base64; else empty), string why (not ok)
	 */
	IMSG_SIGNER_DKIM_SIGNATURE,

	IMSG_TYPE_COUNT
};

#define PROTO_DKIM_KEYS_MAX	4	/* signatures on one message */

/* result of IMSG_LKA_DKIM_KEYS */
#define LKA_DKIM_SIGN		0	/* n keys follow (n may be 0) */
#define LKA_DKIM_NONE		1	/* not a domain of the connector */
#define LKA_DKIM_TEMPFAIL	2	/* state database unavailable */

/* status of IMSG_MTA_TASK_RESULT */
#define MTA_RESULT_DELIVERED	1
#define MTA_RESULT_TEMPFAIL	2
#define MTA_RESULT_PERMFAIL	3

#define PROTO_DOMAINS_MAX	8	/* domains in one SMTP_SENDER_CHECK */

/* result of IMSG_LKA_AUTH_RESULT */
#define LKA_AUTH_OK		0	/* connector id and limits follow */
#define LKA_AUTH_FAIL		1	/* wrong credentials, no such network */
#define LKA_AUTH_LOCKED		2	/* too many failures for this user */
#define LKA_AUTH_TEMPFAIL	3	/* state database unavailable */

/* result of IMSG_LKA_SENDER_RESULT */
#define LKA_SENDER_OK		0
#define LKA_SENDER_REFUSED	1	/* 550 5.7.1 + reason */
#define LKA_SENDER_TEMPFAIL	2	/* 451 4.3.0 */
#define LKA_SENDER_RATE		3	/* 451 4.7.1 + reason */

const char	*proto_name(uint32_t);
int		 proto_check(const struct imsg *, enum proc_id, enum proc_id,
		    const char **);

#endif
