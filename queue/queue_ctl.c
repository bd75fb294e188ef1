/*
 * sendgatectl commands the queue answers (routed by control/control.c):
 * "queue.show" lists the committed messages, or with "id" shows one in
 * detail; "queue.remove" removes one committed message by "id", or all
 * of them.  Control has already checked who may run what (remove: root
 * only).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "answer.h"
#include "child.h"
#include "envelope.h"
#include "log.h"
#include "mproc.h"
#include "proto.h"
#include "queue.h"
#include "queue_mta.h"
#include "queue_store.h"
#include "smtp_parse.h"

#define QUEUE_CTL_NOTIFY_MAX	32	/* "SUCCESS,FAILURE,DELAY" */

struct queue_show {
	struct answer	*a;
	int64_t		 now;
};

struct queue_remove {
	int		 uid;
	uint64_t	 removed;
	int		 failed;
};

static const char *
sender_text(const struct envelope *e)
{
	return e->sender.len ? envelope_cstr(&e->sender) : "<>";
}

static int64_t
age(const struct envelope *e, int64_t now)
{
	return now > e->time ? now - e->time : 0;
}

/*
 * One row per message, then its recipients as rows of the child kind
 * "message/recipient": the text table shows their count, -j the list.
 */
static int
queue_show_one(const struct envelope *e, void *arg)
{
	struct queue_show	*s = arg;
	size_t			 i;

	answer_row(s->a, "message", 0);
	answer_str(s->a, "id", e->id);
	answer_str(s->a, "connector", envelope_cstr(&e->connector));
	answer_str(s->a, "sender", sender_text(e));
	answer_int(s->a, "nrcpt", (int64_t)e->nrcpt);
	answer_int(s->a, "size", (int64_t)e->size);
	answer_int(s->a, "age", age(e, s->now));
	for (i = 0; i < e->nrcpt; i++) {
		answer_row(s->a, "message/recipient", 0);
		answer_str(s->a, "address", envelope_cstr(&e->rcpt[i].addr));
	}
	return 0;
}

static const char *
body_text(int body)
{
	switch (body) {
	case SMTP_BODY_7BIT:
		return "7BIT";
	case SMTP_BODY_8BITMIME:
		return "8BITMIME";
	default:
		return "";
	}
}

static const char *
ret_text(int ret)
{
	switch (ret) {
	case SMTP_RET_FULL:
		return "FULL";
	case SMTP_RET_HDRS:
		return "HDRS";
	default:
		return "";
	}
}

/* NOTIFY as the client wrote it ("" when not given). */
static void
notify_text(char *buf, size_t len, int notify)
{
	static const struct {
		int		 bit;
		const char	*name;
	} names[] = {
		{ SMTP_NOTIFY_NEVER, "NEVER" },
		{ SMTP_NOTIFY_SUCCESS, "SUCCESS" },
		{ SMTP_NOTIFY_FAILURE, "FAILURE" },
		{ SMTP_NOTIFY_DELAY, "DELAY" },
	};
	size_t	 i;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((notify & names[i].bit) == 0)
			continue;
		if (buf[0] != '\0')
			strlcat(buf, ",", len);
		strlcat(buf, names[i].name, len);
	}
}

/*
 * One message in detail: a single "message" row, then its recipients as
 * rows of kind "recipient", a table in the text output.
 */
static void
queue_show_detail(struct answer *a, const char *id)
{
	struct envelope	 e;
	const char	*type;
	char		 notify[QUEUE_CTL_NOTIFY_MAX];
	char		 orcpt[ENVELOPE_ORCPT_TYPE_MAX + ENVELOPE_ORCPT_MAX + 2];
	size_t		 i;

	if (queue_store_get(id, &e) == -1) {
		if (errno == EINVAL)
			answer_done(a, 1, "invalid message id");
		else if (errno == ENOENT)
			answer_done(a, 1, "no such message");
		else
			answer_done(a, 1, "cannot read message %s", id);
		return;
	}
	answer_row(a, "message", 1);
	answer_str(a, "id", e.id);
	answer_str(a, "connector", envelope_cstr(&e.connector));
	answer_str(a, "auth_user", envelope_cstr(&e.auth_user));
	answer_str(a, "client_address", envelope_cstr(&e.client_addr));
	answer_str(a, "client_name", envelope_cstr(&e.client_name));
	answer_str(a, "tls", envelope_cstr(&e.tls));
	answer_str(a, "sender", sender_text(&e));
	answer_int(a, "size", (int64_t)e.size);
	answer_int(a, "age", age(&e, (int64_t)time(NULL)));
	answer_time(a, "arrived", e.time);
	answer_str(a, "body", body_text(e.body));
	answer_str(a, "smtputf8", e.smtputf8 ? "yes" : "no");
	answer_str(a, "ret", ret_text(e.ret));
	answer_str(a, "envid", envelope_cstr(&e.envid));
	for (i = 0; i < e.nrcpt; i++) {
		notify_text(notify, sizeof(notify), e.rcpt[i].notify);
		orcpt[0] = '\0';
		if (e.rcpt[i].orcpt.len > 0) {
			type = envelope_cstr(&e.rcpt[i].orcpt_type);
			strlcpy(orcpt, type, sizeof(orcpt));
			strlcat(orcpt, ";", sizeof(orcpt));
			strlcat(orcpt, envelope_cstr(&e.rcpt[i].orcpt),
			    sizeof(orcpt));
		}
		answer_row(a, "recipient", 0);
		answer_str(a, "address", envelope_cstr(&e.rcpt[i].addr));
		answer_str(a, "notify", notify);
		answer_str(a, "orcpt", orcpt);
		answer_str(a, "state", e.rcpt[i].state ==
		    ENVELOPE_RCPT_DONE ? "done" : "pending");
		answer_int(a, "attempts", e.rcpt[i].attempts);
		if (e.rcpt[i].state == ENVELOPE_RCPT_DONE)
			answer_str(a, "next_try", "");
		else if (e.rcpt[i].next_try == 0)
			answer_str(a, "next_try", "now");
		else
			answer_time(a, "next_try", e.rcpt[i].next_try);
		answer_str(a, "last_mta", envelope_cstr(&e.rcpt[i].last_mta));
		answer_str(a, "last", envelope_cstr(&e.rcpt[i].last));
	}
	envelope_free(&e);
	answer_done(a, 0, "%s", "");
}

static int
queue_remove_one(const char *id, struct queue_remove *r)
{
	if (queue_store_remove(id) == -1) {
		if (errno != ENOENT) {
			log_warn("queue: cannot remove %s", id);
			r->failed = 1;
		}
		return -1;
	}
	queue_mta_forget(id);
	log_info("removed %s by uid %d", id, r->uid);
	r->removed++;
	return 0;
}

static int
queue_remove_each(const struct envelope *e, void *arg)
{
	queue_remove_one(e->id, arg);
	return 0;
}

static void
queue_remove(struct answer *a, const char *id, int uid)
{
	struct queue_remove	 r;

	memset(&r, 0, sizeof(r));
	r.uid = uid;
	if (strcmp(id, "all") == 0) {
		if (queue_store_list(queue_remove_each, &r) == -1) {
			log_warn("queue: remove all");
			r.failed = 1;
		}
	} else if (!envelope_id_valid(id, strlen(id))) {
		answer_done(a, 1, "invalid message id");
		return;
	} else if (queue_remove_one(id, &r) == -1 && !r.failed) {
		answer_done(a, 1, "no such message");
		return;
	}
	if (r.failed) {
		answer_done(a, 1, "cannot remove every message; %llu removed",
		    (unsigned long long)r.removed);
		return;
	}
	answer_done(a, 0, "%llu message%s removed",
	    (unsigned long long)r.removed, r.removed == 1 ? "" : "s");
}

void
queue_ctl_command(struct mproc *p, struct imsg *im)
{
	struct queue_show	 s;
	struct msg_in		 m;
	char			 name[PROTO_KEY_MAX];
	char			 key[PROTO_KEY_MAX], value[PROTO_VALUE_MAX];
	char			 id[PROTO_VALUE_MAX];
	uint64_t		 reqid;
	uint32_t		 n, i;
	int			 uid, has_id = 0;

	msg_in_init(&m, im);
	if (m_get_u64(&m, &reqid) == -1 || m_get_int(&m, &uid) == -1 ||
	    m_get_string(&m, name, sizeof(name)) == -1 ||
	    m_get_u32(&m, &n) == -1 || n > PROTO_PARAMS_MAX)
		goto bad;
	for (i = 0; i < n; i++) {
		if (m_get_string(&m, key, sizeof(key)) == -1 ||
		    m_get_string(&m, value, sizeof(value)) == -1)
			goto bad;
		if (n == 1 && strcmp(key, "id") == 0) {
			strlcpy(id, value, sizeof(id));
			has_id = 1;
		}
	}
	if (m_end(&m) == -1)
		goto bad;
	s.a = answer_new(p, IMSG_QUEUE_ROW, IMSG_QUEUE_DONE, reqid);
	if (strcmp(name, "queue.remove") == 0 && has_id) {
		queue_remove(s.a, id, uid);
		return;
	}
	if (strcmp(name, "queue.schedule") == 0 && has_id) {
		queue_mta_ctl_schedule(s.a, id);
		return;
	}
	if (n == 0 && (strcmp(name, "mta.pause") == 0 ||
	    strcmp(name, "mta.resume") == 0)) {
		queue_mta_ctl_pause(s.a, strcmp(name, "mta.pause") == 0);
		return;
	}
	if (n == 0 && strcmp(name, "queue.stats") == 0) {
		queue_mta_ctl_stats(s.a);
		return;
	}
	if (strcmp(name, "queue.show") == 0 && has_id) {
		queue_show_detail(s.a, id);
		return;
	}
	if (strcmp(name, "queue.show") != 0 || n != 0) {
		answer_done(s.a, 1, "unknown command");
		return;
	}
	s.now = (int64_t)time(NULL);
	if (queue_store_list(queue_show_one, &s) == -1) {
		log_warn("queue: show queue");
		answer_done(s.a, 1, "cannot read the queue");
		return;
	}
	answer_done(s.a, 0, "%s", "");
	return;
bad:
	mproc_malformed(p, im, &m);
}
