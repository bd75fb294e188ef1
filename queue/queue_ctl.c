/*
 * sendgatectl commands the queue answers (routed by control/control.c):
 * "queue.show" lists the committed messages.  Read-only; control has
 * already checked who may run what.
 */
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
#include "queue_store.h"

struct queue_show {
	struct answer	*a;
	int64_t		 now;
};

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
	answer_str(s->a, "sender", e->sender.len ? envelope_cstr(&e->sender) :
	    "<>");
	answer_int(s->a, "nrcpt", (int64_t)e->nrcpt);
	answer_int(s->a, "size", (int64_t)e->size);
	answer_int(s->a, "age", s->now > e->time ? s->now - e->time : 0);
	for (i = 0; i < e->nrcpt; i++) {
		answer_row(s->a, "message/recipient", 0);
		answer_str(s->a, "address", envelope_cstr(&e->rcpt[i].addr));
	}
	return 0;
}

void
queue_ctl_command(struct mproc *p, struct imsg *im)
{
	struct queue_show	 s;
	struct msg_in		 m;
	char			 name[PROTO_KEY_MAX];
	char			 key[PROTO_KEY_MAX], value[PROTO_VALUE_MAX];
	uint64_t		 reqid;
	uint32_t		 n, i;
	int			 uid;

	msg_in_init(&m, im);
	if (m_get_u64(&m, &reqid) == -1 || m_get_int(&m, &uid) == -1 ||
	    m_get_string(&m, name, sizeof(name)) == -1 ||
	    m_get_u32(&m, &n) == -1 || n > PROTO_PARAMS_MAX)
		goto bad;
	for (i = 0; i < n; i++)
		if (m_get_string(&m, key, sizeof(key)) == -1 ||
		    m_get_string(&m, value, sizeof(value)) == -1)
			goto bad;
	if (m_end(&m) == -1)
		goto bad;
	s.a = answer_new(p, IMSG_QUEUE_ROW, IMSG_QUEUE_DONE, reqid);
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
