/*
 * The lka process: the state database, DNS, credentials, policy and
 * domain checks.  What lka's files share.
 */
#ifndef SENDGATE_LKA_H
#define SENDGATE_LKA_H

#include <stdint.h>

#include "answer.h"
#include "names.h"
#include "proto.h"
#include "state.h"
#include "sandbox.h"

struct imsg;
struct mproc;
struct msg_in;
struct sendgated_conf;
struct state_connector;

#define LKA_KEYGEN_PENDING_MAX	64	/* domain adds waiting for keys */
#define LKA_ALGS		2	/* DKIM algorithms (lka_algs) */
/*
 * How long a retired DKIM key's record stays published: receivers and
 * forwarders verify signatures later than delivery (queues, mailing
 * lists, re-verification by forwarders); a week covers them.
 */
#define LKA_DKIM_RETIRE_KEEP	(7 * 24 * 3600)

extern const struct sandbox_rule lka_sandbox_rules[];

/* A sendgatectl command being answered. */
struct lka_cmd {
	uint64_t		 reqid;
	int64_t			 uid;		/* who asked (for the event log) */
	char			 name[PROTO_KEY_MAX];
	uint32_t		 nparams;
	char			 key[PROTO_PARAMS_MAX][PROTO_KEY_MAX];
	char			 value[PROTO_PARAMS_MAX][PROTO_VALUE_MAX];
	struct answer		*answer;
};

/* lka_ctl.c: sendgatectl commands, connectors */
void		 lka_ctl_init(struct sendgated_conf *);
void		 lka_ctl_command(struct mproc *, struct imsg *);
const char	*lka_param(const struct lka_cmd *, const char *);
int64_t		 lka_now(void);
int		 lka_event(const struct lka_cmd *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 lka_done(struct lka_cmd *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
void		 lka_fail_state(struct lka_cmd *);
int		 lka_connector_param(struct lka_cmd *, const char *,
		    struct state_connector *);

/* DKIM keys whose files the signer must remove once a change commits. */
struct lka_keyset {
	size_t		 n;
	size_t		 cap;
	struct lka_keyref {
		char	 domain[NAMES_DOMAIN_MAX + 1];
		char	 selector[STATE_SELECTOR_MAX];
		char	 alg[32];
	}		*k;
};

/* lka_smtp.c: connectors and sender domains for smtp sessions */
void		 lka_smtp_init(struct sendgated_conf *);
int		 lka_smtp_imsg(struct mproc *, struct imsg *);

/* lka_mx.c: MX lookups for mta */
void	lka_mx_init(void);
void	lka_mx_lookup(struct mproc *, struct imsg *);

/* lka_dkim.c: the keys that sign a message for mta */
void	lka_dkim_init(const struct sendgated_conf *);
void	lka_dkim_lookup(struct mproc *, struct imsg *);

/* The DKIM algorithms the relay signs with, and their selector suffix. */
struct lka_alg {
	int		 flag;		/* CONFIG_DKIM_* */
	const char	*alg;		/* a= of the signature */
	const char	*suffix;	/* of the selector */
	const char	*keytype;	/* k= of the key record */
};
extern const struct lka_alg	 lka_algs[LKA_ALGS];

/* lka_domain.c: sendgatectl domain commands, DKIM key generation */
struct lka_keygen;
void	lka_domain_init(struct sendgated_conf *);
int	lka_domain_param(struct lka_cmd *, char *, char *);
int	lka_domain_param_authorized(struct lka_cmd *, char *, char *);
int	lka_alg_index(const char *);
void	lka_keydel(const char *, const char *, const char *);
int	lka_record_key(const struct state_key *, void *);
void	lka_record_cnames(struct lka_cmd *, const char *);
int	lka_delegated(const char *, int);
struct lka_keygen *lka_keygen_find_domain(const char *);
struct lka_keygen *lka_keygen_start(struct lka_cmd *, const char *,
	    const char *, int, char [LKA_ALGS][STATE_SELECTOR_MAX]);
void	lka_domain_add(struct lka_cmd *);
void	lka_domain_list(struct lka_cmd *);
void	lka_domain_show(struct lka_cmd *);
void	lka_domain_del(struct lka_cmd *);
void	lka_domain_check(struct lka_cmd *);
void	lka_spf_walk(struct lka_cmd *);
int	lka_keys_orphaned(struct lka_keyset *);
void	lka_keys_release(struct lka_keyset *);
void	lka_domain_dkim_key(struct mproc *, struct imsg *);

/* lka_rotate.c: sendgatectl domain rotate */
void	lka_rotate_init(struct sendgated_conf *);
void	lka_domain_rotate(struct lka_cmd *);
void	lka_rotate_commit(struct lka_cmd *, const char *, const char *,
	    char *const [LKA_ALGS], char *const [LKA_ALGS]);

/* lka_answer.c: answers to control, row by row (answer.h) */
struct answer	*lka_answer_new(uint64_t);

#endif
