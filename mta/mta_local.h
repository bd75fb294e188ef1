/*
 * What the files of the mta process share: tasks (one message, some
 * recipients of one domain, from queue), routes (where the tasks of a
 * domain, or of every domain with a smarthost, go) and connections.
 *
 * mta_task.c	tasks, routes, MX lookups, scheduling, results
 * mta_conn.c	one outbound connection: connect, TLS, mta_client
 * mta_route.c	pure helpers (route building, loop check, log line)
 */
#ifndef SENDGATE_MTA_LOCAL_H
#define SENDGATE_MTA_LOCAL_H

#include <sys/queue.h>

#include <event.h>
#include <stdint.h>

#include "mta_body.h"
#include "mta_client.h"
#include "mta_reply.h"
#include "mta_route.h"
#include "smtp_parse.h"

/*
 * Timeouts in seconds.  RFC 5321 4.5.3.2 gives the minimum a client
 * waits for each reply: 5 minutes for the greeting (4.5.3.2.1), MAIL,
 * RCPT and the other commands (2.2, 2.3, 2.7; DATA's 2 minutes rounded
 * up), 3 minutes per data block written (2.5), 10 minutes for the final
 * reply to the data (2.6).  Connecting has no RFC value: 30 s, then the
 * next address.  An idle connection waits 5 s for another task of its
 * route before QUIT.
 */
#define MTA_TIMEOUT_CONNECT	30
#define MTA_TIMEOUT_GREETING	300
#define MTA_TIMEOUT_COMMAND	300
#define MTA_TIMEOUT_DATA_BLOCK	180
#define MTA_TIMEOUT_FINAL	600
#define MTA_TIMEOUT_IDLE	5

#define MTA_QUEUE_ID_MAX	32	/* as queue makes them */
#define MTA_CONNECTOR_MAX	128
/*
 * Queue hands out at most 1000 tasks (QM_TASKS_MAX) and may overshoot by
 * one batch of the scheduler (SCHEDULE_BATCH_MSG_MAX, 50) before it
 * stops; more than this is a broken peer.
 */
#define MTA_TASKS_MAX		1100
#define MTA_BODY_CHUNK		16384	/* pread of the stored message */
#define MTA_IN_MAX		4096	/* socket reads */
#define MTA_OUT_MAX		(MTA_BODY_CHUNK + MTA_CLIENT_CMD_MAX)

/* The system CA bundle for "tls require verify", read before chroot. */
#define MTA_CA_FILE		"/etc/ssl/certs/ca-certificates.crt"

struct mta_route;
struct mta_conn;
struct mta_dkim;
struct sendgated_conf;
struct tls_config;

struct mta_task_rcpt {
	uint32_t		 index;		/* in the envelope */
	char			 addr[MTA_CLIENT_ADDR_MAX + 1];
	char			 orcpt_type[16];
	char			 orcpt[SMTP_ORCPT_MAX + 1];
};

struct mta_task {
	TAILQ_ENTRY(mta_task)	 entry;		/* mta_tasks */
	TAILQ_ENTRY(mta_task)	 wait;		/* route's waiting queue */
	uint64_t		 id;
	int			 fd;		/* the stored message, r/o */
	char			 qid[MTA_QUEUE_ID_MAX + 1];
	char			 domain[SMTP_DOMAIN_MAX + 1];
	char			 sender[MTA_CLIENT_ADDR_MAX + 1];
	char			 envid[SMTP_ENVID_MAX + 1];
	char			 connector[MTA_CONNECTOR_MAX];
	int64_t			 connector_id;
	int64_t			 arrival;
	uint64_t		 fsize;		/* of the stored message */
	uint32_t		 nrcpt;		/* announced */
	uint32_t		 got;		/* received */
	struct mta_task_rcpt	*rcpt;
	struct mta_client_rcpt	*crcpt;
	struct mta_client_msg	 msg;
	struct mta_route	*route;		/* NULL until complete */
	struct mta_dkim		*dkim;		/* signing, mta_dkim.c */
};

struct mta_route {
	TAILQ_ENTRY(mta_route)	 entry;
	char			 name[SMTP_DOMAIN_MAX + 1];
	int			 smarthost;
	uint64_t		 reqid;		/* lookup pending, else 0 */
	int			 tls;		/* CONFIG_TLS_* */
	struct mta_route_addr	 addrs[MTA_ROUTE_ADDRS_MAX];
	size_t			 naddrs;
	uint8_t			 failed[MTA_ROUTE_ADDRS_MAX];
	uint8_t			 plain[MTA_ROUTE_ADDRS_MAX];
	TAILQ_HEAD(, mta_task)	 waiting;
	int			 nwaiting;
	int			 nconn;		/* open */
	int			 ncoming;	/* open, not yet ready */
	struct mta_client_result lasterr;	/* of the last address */
	int			 lastai;	/* that address, -1: none */
};

/* mta_task.c */
void	mta_task_init(const struct sendgated_conf *, const struct mta_self *);
void	mta_task_message(struct mproc *, struct imsg *);
void	mta_task_rcpt(struct mproc *, struct imsg *);
void	mta_task_mx_result(struct mproc *, struct imsg *);
struct mta_task *mta_route_next(struct mta_route *);
void	mta_task_report(struct mta_task *, const struct mta_conn *,
	    const struct mta_client_result *);
void	mta_route_conn_gone(struct mta_route *, int ai, int ready,
	    int tls_failed, const struct mta_client_result *);
void	mta_route_conn_ready(struct mta_route *);
void	mta_schedule(void);

void	mta_task_ready(struct mta_task *);
struct mta_task *mta_task_first(void);
struct mta_task *mta_task_next(struct mta_task *);

/* mta_dkim.c: signing a complete task, then mta_task_ready() */
void	mta_dkim_init(const struct sendgated_conf *);
void	mta_dkim_start(struct mta_task *);
void	mta_dkim_keys(struct mproc *, struct imsg *);
void	mta_dkim_signature(struct mproc *, struct imsg *);
void	mta_dkim_task_free(struct mta_task *);

/*
 * The DKIM-Signature fields to send in front of the stored message (in
 * its stored form, CRLF lines), computed over the bytes exactly as they
 * are then sent (mta_body only dot-stuffs, which the receiver undoes);
 * none when the message is not signed.
 */
int	mta_dkim_prefix(const struct mta_task *, const uint8_t **, size_t *);

/* mta_conn.c */
void	mta_conn_tls_init(const struct sendgated_conf *);
int	mta_conn_open(struct mta_route *, int ai);
int	mta_conn_take_idle(struct mta_route *);
int	mta_conn_reap_idle(const struct mta_route *);
int	mta_conn_count(void);
int	mta_conn_count_addr(const struct sockaddr_storage *);
const char *mta_conn_host(const struct mta_conn *);
const struct sockaddr_storage *mta_conn_addr(const struct mta_conn *);
const char *mta_conn_tls(const struct mta_conn *);
unsigned int mta_conn_ext(const struct mta_conn *);

#endif
