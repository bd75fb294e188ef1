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

/* lka_domain.c: sendgatectl domain commands, DKIM key generation */
void	lka_domain_init(struct sendgated_conf *);
void	lka_domain_add(struct lka_cmd *);
void	lka_domain_list(struct lka_cmd *);
void	lka_domain_show(struct lka_cmd *);
void	lka_domain_del(struct lka_cmd *);
void	lka_domain_check(struct lka_cmd *);
void	lka_spf_walk(struct lka_cmd *);
int	lka_keys_orphaned(struct lka_keyset *);
void	lka_keys_release(struct lka_keyset *);
void	lka_domain_dkim_key(struct mproc *, struct imsg *);

/* lka_answer.c: answers to control, row by row (answer.h) */
struct answer	*lka_answer_new(uint64_t);

#endif
