/*
 * DKIM signing of a task's message before it is sent (issue 7).
 *
 * When a task is complete, mta reads the header From: of the stored
 * message and asks lka which keys sign for that domain and connector
 * (none when the connector may not send as it).  It then streams the
 * message once through dkim_sign.c (canonicalization and the body hash;
 * the body is never held), sends each digest to the signer, and keeps
 * the DKIM-Signature fields it gets back: they go on the wire in front
 * of the stored message (mta_dkim_prefix()), the message as sent being
 * exactly what was signed.  Only then does the task join its route.
 *
 * A message that cannot be signed (no From:, a header too large for the
 * signer, no key, a refused signature) is sent with the signatures that
 * could be made, or none, and a log line says why; a temporary failure
 * of lka defers it rather than send it unsigned.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "dkim_key.h"
#include "dkim_sign.h"
#include "log.h"
#include "msg.h"
#include "mta_local.h"
#include "proto.h"
#include "smtp_data.h"

#define MTA_DKIM_READ		(64 * 1024)	/* pread of the message */
#define MTA_DKIM_FROM_MAX	4096		/* an unfolded From: value */
#define MTA_DKIM_FROMS		8		/* mailboxes in From: */

struct mta_dkim {
	uint64_t		 reqid;		/* lookup; signs: reqid*4+i */
	struct dkim_sign	*ds;
	size_t			 nsig;
	size_t			 pending;	/* signatures awaited */
	char			 d[SMTP_DOMAIN_MAX + 1];
	char			 sel[DKIM_SIGN_SIGS_MAX][DKIM_KEY_NAME_MAX + 1];
	char			*field[DKIM_SIGN_SIGS_MAX];
	size_t			 flen[DKIM_SIGN_SIGS_MAX];
	uint8_t			*prefix;
	size_t			 prefixlen;
};

static uint64_t			 mta_dkim_reqid;
static const struct sendgated_conf	*mta_dkim_conf;
static const char		*mta_dkim_headers[CONFIG_DKIM_HEADERS_MAX];

#if CONFIG_DKIM_HEADERS_MAX > DKIM_SIGN_NAMES_MAX
#error "dkim headers allows more names than dkim_sign takes"
#endif

void
mta_dkim_init(const struct sendgated_conf *conf)
{
	int	 i;

	mta_dkim_conf = conf;
	for (i = 0; i < conf->ndkim_headers; i++)
		mta_dkim_headers[i] = conf->dkim_headers[i];
}

/*
 * The value of the first From: field, unfolded, from the header at the
 * start of the stored message.  0, or -1 when there is none.
 */
static int
dkim_from_value(int fd, uint64_t size, char *val, size_t vallen)
{
	char	*buf, *p, *end, *line, *eol;
	size_t	 cap = DKIM_SIGN_HEADER_MAX, n = 0, vl = 0;
	ssize_t	 r;
	int	 in_from = 0, found = 0;

	if (size < cap)
		cap = (size_t)size;
	if ((buf = malloc(cap + 1)) == NULL)
		return -1;
	while (n < cap) {
		r = pread(fd, buf + n, cap - n, (off_t)n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	end = buf + n;
	for (line = buf; line < end; line = eol + 1) {
		if ((eol = memchr(line, '\n', (size_t)(end - line))) == NULL)
			eol = end;
		if (eol == line || (eol == line + 1 && line[0] == '\r'))
			break;			/* the end of the header */
		if (line[0] == ' ' || line[0] == '\t') {
			if (!in_from)
				continue;
		} else {
			if (found)
				break;
			in_from = (size_t)(eol - line) >= 5 &&
			    strncasecmp(line, "From:", 5) == 0;
			if (!in_from)
				continue;
			found = 1;
			line += 5;
		}
		for (p = line; p < eol; p++) {
			if (*p == '\r' || *p == '\0')
				continue;
			if (vl + 1 >= vallen) {
				free(buf);
				return -1;
			}
			val[vl++] = *p;
		}
	}
	free(buf);
	val[vl] = '\0';
	return found ? 0 : -1;
}

static void
dkim_free(struct mta_dkim *dk)
{
	size_t	 i;

	if (dk == NULL)
		return;
	dkim_sign_free(dk->ds);
	for (i = 0; i < DKIM_SIGN_SIGS_MAX; i++)
		free(dk->field[i]);
	free(dk->prefix);
	free(dk);
}

void
mta_dkim_task_free(struct mta_task *t)
{
	dkim_free(t->dkim);
	t->dkim = NULL;
}

int
mta_dkim_prefix(const struct mta_task *t, const uint8_t **p, size_t *len)
{
	if (t->dkim == NULL || t->dkim->prefix == NULL) {
		*p = NULL;
		*len = 0;
		return 0;
	}
	*p = t->dkim->prefix;
	*len = t->dkim->prefixlen;
	return 0;
}

/* Signing is over, with or without signatures: the task goes its way. */
static void
dkim_done(struct mta_task *t)
{
	struct mta_dkim	*dk = t->dkim;
	size_t		 i, n = 0, off = 0;

	for (i = 0; i < dk->nsig; i++)
		n += dk->field[i] != NULL ? dk->flen[i] : 0;
	if (n > 0) {
		if ((dk->prefix = malloc(n)) == NULL)
			fatal("mta_dkim");
		for (i = 0; i < dk->nsig; i++) {
			if (dk->field[i] == NULL)
				continue;
			memcpy(dk->prefix + off, dk->field[i], dk->flen[i]);
			off += dk->flen[i];
		}
		dk->prefixlen = n;
		t->msg.size = t->fsize + n;
		log_debug("dkim %s: signed d=%s", t->qid, dk->d);
	}
	dkim_sign_free(dk->ds);
	dk->ds = NULL;
	mta_task_ready(t);
}

void
mta_dkim_start(struct mta_task *t)
{
	struct mta_dkim	*dk;
	struct msg_out	 m;
	struct smtp_data_err err;
	char		 val[MTA_DKIM_FROM_MAX];
	char		 dom[MTA_DKIM_FROMS][SMTP_DATA_DOMAIN_SIZE];

	if (dkim_from_value(t->fd, t->fsize, val, sizeof(val)) == -1 ||
	    smtp_header_from(val, dom, MTA_DKIM_FROMS, &err) < 1) {
		log_info("dkim %s: no usable From: field; not signed", t->qid);
		mta_task_ready(t);
		return;
	}
	if ((dk = calloc(1, sizeof(*dk))) == NULL)
		fatal("mta_dkim_start");
	dk->reqid = ++mta_dkim_reqid;
	t->dkim = dk;
	msg_out_init(&m);
	m_add_u64(&m, dk->reqid);
	m_add_i64(&m, t->connector_id);
	m_add_string(&m, dom[0]);
	mproc_send(child_peer(PROC_LKA), IMSG_MTA_DKIM_LOOKUP, 0, -1, &m);
}

static struct mta_task *
dkim_task(uint64_t reqid)
{
	struct mta_task	*t;

	for (t = mta_task_first(); t != NULL; t = mta_task_next(t))
		if (t->dkim != NULL && t->dkim->reqid == reqid)
			return t;
	return NULL;
}

/* The whole message through the canonicalizer and the body hash. */
static int
dkim_hash(struct mta_task *t, struct dkim_sign *ds)
{
	uint8_t		*buf;
	uint64_t	 off = 0;
	ssize_t		 r;

	if ((buf = malloc(MTA_DKIM_READ)) == NULL)
		return -1;
	while (off < t->fsize) {
		r = pread(t->fd, buf, MTA_DKIM_READ, (off_t)off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if ((uint64_t)r > t->fsize - off)
			r = (ssize_t)(t->fsize - off);
		if (dkim_sign_feed(ds, buf, (size_t)r) == -1)
			break;
		off += (uint64_t)r;
	}
	free(buf);
	if (off != t->fsize)
		return -1;
	return dkim_sign_finish(ds);
}

static void
dkim_sign_all(struct mta_task *t, uint32_t n, char sel[][DKIM_KEY_NAME_MAX + 1],
    char alg[][32])
{
	struct mta_dkim		*dk = t->dkim;
	struct dkim_sign_params	 prm;
	enum dkim_sign_error	 err;
	struct msg_out		 m;
	uint32_t		 i;

	memset(&prm, 0, sizeof(prm));
	prm.domain = dk->d;
	for (i = 0; i < n; i++) {
		if (dkim_alg_lookup(alg[i], &prm.sig[prm.nsig].alg) == -1) {
			log_warnx("dkim %s: unknown algorithm for selector "
			    "%s; not used", t->qid, sel[i]);
			continue;
		}
		strlcpy(dk->sel[prm.nsig], sel[i], sizeof(dk->sel[0]));
		prm.sig[prm.nsig].selector = dk->sel[prm.nsig];
		prm.nsig++;
	}
	prm.hcanon = DKIM_CANON_RELAXED;
	prm.bcanon = mta_dkim_conf->dkim_body_simple ? DKIM_CANON_SIMPLE :
	    DKIM_CANON_RELAXED;
	prm.time = (int64_t)time(NULL);
	if (mta_dkim_conf->dkim_expire > 0)
		prm.expire = prm.time + mta_dkim_conf->dkim_expire;
	if (mta_dkim_conf->ndkim_headers > 0) {
		prm.headers = mta_dkim_headers;
		prm.nheaders = (size_t)mta_dkim_conf->ndkim_headers;
	}
	if (prm.nsig == 0) {
		dkim_done(t);
		return;
	}
	if ((dk->ds = dkim_sign_new(&prm, &err)) == NULL) {
		log_warnx("dkim %s: d=%s: %s; not signed", t->qid, dk->d,
		    dkim_sign_reason(err));
		dkim_done(t);
		return;
	}
	if (dkim_hash(t, dk->ds) == -1) {
		log_warnx("dkim %s: d=%s: %s; not signed", t->qid, dk->d,
		    dkim_sign_reason(dkim_sign_error(dk->ds)));
		dkim_done(t);
		return;
	}
	dk->nsig = prm.nsig;
	for (i = 0; i < dk->nsig; i++) {
		msg_out_init(&m);
		m_add_u64(&m, dk->reqid * DKIM_SIGN_SIGS_MAX + i);
		m_add_string(&m, dk->d);
		m_add_string(&m, dk->sel[i]);
		m_add_string(&m, dkim_alg_name(prm.sig[i].alg));
		m_add_data(&m, dkim_sign_digest(dk->ds, i),
		    DKIM_SIGN_DIGEST_LEN);
		mproc_send(child_peer(PROC_SIGNER), IMSG_MTA_DKIM_SIGN, 0, -1,
		    &m);
	}
	dk->pending = dk->nsig;
}

void
mta_dkim_keys(struct mproc *p, struct imsg *im)
{
	struct msg_in			 m;
	struct mta_task			*t;
	struct mta_client_result	 res;
	uint64_t			 reqid;
	uint32_t			 n, i;
	int				 result;
	char				 d[SMTP_DOMAIN_MAX + 1];
	char				 sel[PROTO_DKIM_KEYS_MAX][DKIM_KEY_NAME_MAX + 1];
	char				 alg[PROTO_DKIM_KEYS_MAX][32];

	msg_in_init(&m, im);
	if (m_get_u64(&m, &reqid) == -1 || m_get_int(&m, &result) == -1 ||
	    m_get_string(&m, d, sizeof(d)) == -1 ||
	    m_get_u32(&m, &n) == -1 || n > PROTO_DKIM_KEYS_MAX)
		goto bad;
	for (i = 0; i < n; i++)
		if (m_get_string(&m, sel[i], sizeof(sel[i])) == -1 ||
		    m_get_string(&m, alg[i], sizeof(alg[i])) == -1)
			goto bad;
	if (m_end(&m) == -1)
		goto bad;
	if ((t = dkim_task(reqid)) == NULL || t->dkim->ds != NULL ||
	    t->dkim->pending != 0)
		return;		/* the task went meanwhile */
	switch (result) {
	case LKA_DKIM_SIGN:
		strlcpy(t->dkim->d, d, sizeof(t->dkim->d));
		if (n == 0) {
			log_info("dkim %s: no key for %s; not signed", t->qid,
			    d);
			dkim_done(t);
		} else
			dkim_sign_all(t, n, sel, alg);
		return;
	case LKA_DKIM_TEMPFAIL:
		memset(&res, 0, sizeof(res));
		res.status = MTA_CLIENT_TEMPFAIL;
		res.code = 451;
		strlcpy(res.enhanced, "4.3.0", sizeof(res.enhanced));
		strlcpy(res.text, "DKIM keys unavailable, will try again",
		    sizeof(res.text));
		mta_task_report(t, NULL, &res);
		return;
	default:
		dkim_done(t);
		return;
	}
bad:
	mproc_malformed(p, im, &m);
}

void
mta_dkim_signature(struct mproc *p, struct imsg *im)
{
	struct msg_in	 m;
	struct mta_task	*t;
	struct mta_dkim	*dk;
	uint8_t		 sig[DKIM_SIGN_SIG_MAX];
	uint64_t	 reqid;
	size_t		 siglen, i, flen;
	const char	*f;
	int		 ok;
	char		 why[256];

	msg_in_init(&m, im);
	if (m_get_u64(&m, &reqid) == -1 || m_get_int(&m, &ok) == -1 ||
	    m_get_data(&m, sig, sizeof(sig), &siglen) == -1 ||
	    m_get_string(&m, why, sizeof(why)) == -1 || m_end(&m) == -1) {
		mproc_malformed(p, im, &m);
		return;
	}
	i = reqid % DKIM_SIGN_SIGS_MAX;
	if ((t = dkim_task(reqid / DKIM_SIGN_SIGS_MAX)) == NULL ||
	    (dk = t->dkim)->ds == NULL || i >= dk->nsig ||
	    dk->pending == 0 || dk->field[i] != NULL)
		return;
	if (!ok)
		log_warnx("dkim %s: d=%s s=%s: the signer refused: %s",
		    t->qid, dk->d, dk->sel[i], why);
	else if ((f = dkim_sign_field(dk->ds, i, sig, siglen, &flen)) ==
	    NULL)
		log_warnx("dkim %s: d=%s s=%s: %s", t->qid, dk->d, dk->sel[i],
		    dkim_sign_reason(dkim_sign_error(dk->ds)));
	else {
		if ((dk->field[i] = malloc(flen)) == NULL)
			fatal("mta_dkim_signature");
		memcpy(dk->field[i], f, flen);
		dk->flen[i] = flen;
	}
	if (--dk->pending == 0)
		dkim_done(t);
}
