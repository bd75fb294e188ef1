/*
 * The state store: connectors, credentials, domain authorizations, DKIM
 * public keys and the event log.  lka/db.c implements it on SQLite and is
 * the only file that speaks SQL; a shared backend (PostgreSQL, for several
 * relay nodes) would implement this same interface.
 *
 * Every function returns STATE_OK, STATE_NOTFOUND, STATE_EXISTS or
 * STATE_ERROR; after STATE_ERROR state_error() says what went wrong (for
 * example "database or disk is full") and nothing was changed.
 */
#ifndef SENDGATE_STATE_H
#define SENDGATE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "names.h"

#define STATE_SCHEMA_VERSION	4
#define STATE_DB_FILE		"sendgate.db"
#define STATE_BUSY_MS		1000	/* wait for a reader's lock */

#define STATE_SALT_LEN		16
#define STATE_HASH_LEN		32
#define STATE_DIAG_MAX		256
#define STATE_EVENT_MAX		640	/* one event line */
#define STATE_PUBKEY_MAX	1024
#define STATE_SELECTOR_MAX	80
#define STATE_NETWORK_MAX	64

enum state_rc {
	STATE_ERROR = -1,
	STATE_OK = 0,
	STATE_NOTFOUND,
	STATE_EXISTS
};

/* Limit keys, in the order sendgatectl shows them. */
enum state_limit {
	LIMIT_MSG_MINUTE,
	LIMIT_MSG_HOUR,
	LIMIT_MSG_DAY,
	LIMIT_RCPT_MINUTE,
	LIMIT_RCPT_HOUR,
	LIMIT_RCPT_DAY,
	LIMIT_SIZE,
	LIMIT_RCPT_PER_MSG,
	LIMIT_COUNT
};

struct state_connector {
	int64_t		 id;
	char		 name[NAMES_CONNECTOR_MAX + 1];
	int		 enabled;
	int64_t		 created;
	int64_t		 limits[LIMIT_COUNT];	/* -1: the config's default */
	int64_t		 ndomains;
};

struct state_credential {
	int64_t		 id;
	int64_t		 connector;
	char		 username[NAMES_USERNAME_MAX + 1];
	uint8_t		 salt[STATE_SALT_LEN];
	uint8_t		 hash[STATE_HASH_LEN];
	int64_t		 created;
};

enum state_domain_state {
	DOMAIN_PENDING,
	DOMAIN_VERIFIED,
	DOMAIN_FAILING,
	DOMAIN_REVOKED
};

struct state_domain {
	int64_t			 id;
	int64_t			 connector;
	char			 connector_name[NAMES_CONNECTOR_MAX + 1];
	char			 name[NAMES_DOMAIN_MAX + 1];	/* A-label */
	char			 token[NAMES_TOKEN_LEN + 1];
	enum state_domain_state	 state;
	int64_t			 created;
	int64_t			 state_since;
	int64_t			 last_check;	/* 0: never */
	int64_t			 next_check;
	char			 diag[STATE_DIAG_MAX];	/* ownership */
	int64_t			 failing_since;	/* 0: not failing */
	struct state_checks {
		char		 spf[16];	/* "" until checked */
		char		 spf_diag[STATE_DIAG_MAX];
		int		 spf_include;	/* our include is reachable */
		char		 dkim[16];
		char		 dkim_diag[STATE_DIAG_MAX];
		char		 dmarc_diag[STATE_DIAG_MAX];
	}			 checks;
};

/*
 * A DKIM key's place in a rotation: pending until the checks find its
 * record published, then active (the one that signs), then retired when
 * the next key of its algorithm became active, until the checks find its
 * record removed.
 */
enum state_key_status {
	KEY_PENDING,
	KEY_ACTIVE,
	KEY_RETIRED
};

struct state_key {
	int64_t		 id;
	char		 domain[NAMES_DOMAIN_MAX + 1];
	char		 selector[STATE_SELECTOR_MAX];
	char		 algorithm[32];
	char		 pubkey[STATE_PUBKEY_MAX];	/* base64, the p= value */
	int64_t		 created;
	enum state_key_status status;
	int64_t		 status_since;
	char		 record[16];	/* pending, retired: last check */
};

typedef int	(*state_connector_cb)(const struct state_connector *, void *);
typedef int	(*state_credential_cb)(const struct state_credential *, void *);
typedef int	(*state_domain_cb)(const struct state_domain *, void *);
typedef int	(*state_key_cb)(const struct state_key *, void *);
typedef int	(*state_string_cb)(const char *, void *);
typedef int	(*state_network_cb)(int64_t, const char *, void *);

int		 state_open(const char *, char *, size_t);
void		 state_close(void);
const char	*state_error(void);
const char	*state_limit_name(enum state_limit);
int		 state_limit_lookup(const char *, enum state_limit *);
const char	*state_domain_state_name(enum state_domain_state);
const char	*state_key_status_name(enum state_key_status);

int	state_begin(void);
int	state_commit(void);
void	state_rollback(void);

int	state_connector_add(const char *, int64_t, int64_t *);
int	state_connector_get(const char *, struct state_connector *);
int	state_connector_by_id(int64_t, struct state_connector *);
int	state_connector_list(state_connector_cb, void *);
int	state_connector_del(int64_t);
int	state_connector_set_enabled(int64_t, int);
int	state_connector_set_limit(int64_t, enum state_limit, int64_t);

int	state_network_add(int64_t, const char *);
int	state_network_list(int64_t, state_string_cb, void *);
int	state_network_all(state_network_cb, void *);

int	state_credential_add(int64_t, const char *, const uint8_t *,
	    const uint8_t *, int64_t);
int	state_credential_keep(int64_t, int);
int	state_credential_list(int64_t, state_credential_cb, void *);
int	state_credential_by_user(const char *, state_credential_cb, void *);

int	state_domain_add(int64_t, const char *, const char *, int64_t);
int	state_domain_get(int64_t, const char *, struct state_domain *);
int	state_domain_list(int64_t, const char *, state_domain_cb, void *);
int	state_domain_del(int64_t);
int	state_domain_count(const char *, int64_t *);
int	state_domain_due(int64_t, int, state_domain_cb, void *);
int	state_domain_by_id(int64_t, struct state_domain *);
int	state_domain_schedule(int64_t, int64_t);
int	state_domain_schedule_name(const char *, int64_t);
int	state_domain_save(const struct state_domain *);

/*
 * DKIM keys by domain and selector.  state_key_add adds an active key,
 * state_key_add_pending one waiting for its record (STATE_EXISTS: the
 * selector is taken, or the domain has a pending key of that algorithm
 * already).  state_key_promote makes a pending key active and the active
 * key of its algorithm retired, both or neither, and names the retired
 * selector ("" when there was none).
 */
int	state_key_add(const char *, const char *, const char *, const char *,
	    int64_t);
int	state_key_add_pending(const char *, const char *, const char *,
	    const char *, int64_t);
int	state_key_get(const char *, const char *, struct state_key *);
int	state_key_promote(const char *, const char *, int64_t, char *,
	    size_t);
int	state_key_list(const char *, state_key_cb, void *);
int	state_key_set_record(const char *, const char *, const char *);
int	state_key_del(const char *, const char *);
int	state_key_del_domain(const char *);
int	state_key_orphans(state_key_cb, void *);

int	state_event(int64_t, int64_t, const char *);

/*
 * Rate counters (db_rate.c): the encoded counter of each connector, as
 * opaque bytes of the length the caller gives.  load calls cb for each
 * stored one (a row of another length is skipped: STATE_OK); save
 * replaces one (in the caller's transaction, if any).
 */
typedef int	(*state_rate_cb)(int64_t, const uint8_t *, size_t, void *);
int	state_rate_load(size_t, state_rate_cb, void *);
int	state_rate_save(int64_t, int64_t, const uint8_t *, size_t);
int	state_event_list(int64_t, state_string_cb, void *);

#endif
