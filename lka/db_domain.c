/*
 * The state store: domain authorizations, their check results, and the
 * public halves of DKIM keys.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "db_local.h"
#include "state.h"

static const char *const domain_states[] = {
	[DOMAIN_PENDING] = "pending",
	[DOMAIN_VERIFIED] = "verified",
	[DOMAIN_FAILING] = "failing",
	[DOMAIN_REVOKED] = "revoked",
};

#define DOMAIN_COLUMNS \
	"d.id, d.connector, c.name, d.name, d.token, d.state, d.created, " \
	"d.state_since, d.last_check, d.next_check, d.diag, " \
	"d.failing_since, d.spf, d.spf_diag, d.spf_include, d.dkim, " \
	"d.dkim_diag, d.dmarc_diag"

const char *
state_domain_state_name(enum state_domain_state s)
{
	return (unsigned int)s <= DOMAIN_REVOKED ? domain_states[s] :
	    "unknown";
}

static int
domain_state_lookup(const char *s, enum state_domain_state *out)
{
	int	 i;

	for (i = 0; i <= DOMAIN_REVOKED; i++) {
		if (strcmp(domain_states[i], s) == 0) {
			*out = (enum state_domain_state)i;
			return 0;
		}
	}
	return -1;
}

int
state_domain_add(int64_t connector, const char *name, const char *token,
    int64_t now)
{
	return db_exec(db_prepare("INSERT INTO domain (connector, name, token, "
	    "created, state_since) VALUES (?, ?, ?, ?, ?)", "ittii",
	    connector, name, token, now, now));
}

static int
decode_domain(sqlite3_stmt *st, void *buf)
{
	struct state_domain	*d = buf;
	char			 state[16];

	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(st, 0);
	d->connector = sqlite3_column_int64(st, 1);
	if (db_text(st, 2, d->connector_name, sizeof(d->connector_name)) ==
	    -1 || db_text(st, 3, d->name, sizeof(d->name)) == -1 ||
	    db_text(st, 4, d->token, sizeof(d->token)) == -1 ||
	    db_text(st, 5, state, sizeof(state)) == -1)
		return -1;
	if (names_token_valid(d->token) == -1)
		return db_corrupt(4);
	if (domain_state_lookup(state, &d->state) == -1)
		return db_corrupt(5);
	if (db_text(st, 10, d->diag, sizeof(d->diag)) == -1 ||
	    db_text(st, 12, d->checks.spf, sizeof(d->checks.spf)) == -1 ||
	    db_text(st, 13, d->checks.spf_diag,
	    sizeof(d->checks.spf_diag)) == -1 ||
	    db_text(st, 15, d->checks.dkim, sizeof(d->checks.dkim)) == -1 ||
	    db_text(st, 16, d->checks.dkim_diag,
	    sizeof(d->checks.dkim_diag)) == -1 ||
	    db_text(st, 17, d->checks.dmarc_diag,
	    sizeof(d->checks.dmarc_diag)) == -1)
		return -1;
	d->failing_since = sqlite3_column_int64(st, 11);
	d->checks.spf_include = sqlite3_column_int(st, 14) != 0;
	d->created = sqlite3_column_int64(st, 6);
	d->state_since = sqlite3_column_int64(st, 7);
	d->last_check = sqlite3_column_int64(st, 8);
	d->next_check = sqlite3_column_int64(st, 9);
	return 0;
}

int
state_domain_get(int64_t connector, const char *name, struct state_domain *d)
{
	return db_one(db_prepare("SELECT " DOMAIN_COLUMNS " FROM domain d "
	    "JOIN connector c ON c.id = d.connector "
	    "WHERE d.connector = ? AND d.name = ?", "it", connector, name),
	    decode_domain, d);
}

/*
 * Domains of one connector (connector > 0), of one name (name != NULL),
 * or all.  STATE_NOTFOUND when there is none.
 */
int
state_domain_list(int64_t connector, const char *name, state_domain_cb cb,
    void *arg)
{
	struct state_domain	 d;
	struct db_iter		 it;

	db_iter(&it, db_prepare("SELECT " DOMAIN_COLUMNS " FROM domain d "
	    "JOIN connector c ON c.id = d.connector "
	    "WHERE (?1 = 0 OR d.connector = ?1) AND (?2 IS NULL OR "
	    "d.name = ?2) ORDER BY d.name, c.name", "it", connector, name));
	while (db_next(&it, decode_domain, &d))
		if (cb(&d, arg) == -1)
			break;
	return db_end(&it, 0);
}

/* Authorizations whose next check is due, soonest first, at most n. */
int
state_domain_due(int64_t now, int n, state_domain_cb cb, void *arg)
{
	struct state_domain	 d;
	struct db_iter		 it;

	db_iter(&it, db_prepare("SELECT " DOMAIN_COLUMNS " FROM domain d "
	    "JOIN connector c ON c.id = d.connector WHERE d.next_check <= ? "
	    "ORDER BY d.next_check, d.id LIMIT ?", "ii", now, (int64_t)n));
	while (db_next(&it, decode_domain, &d))
		if (cb(&d, arg) == -1)
			break;
	return db_end(&it, 1);
}

int
state_domain_by_id(int64_t id, struct state_domain *d)
{
	return db_one(db_prepare("SELECT " DOMAIN_COLUMNS " FROM domain d "
	    "JOIN connector c ON c.id = d.connector WHERE d.id = ?", "i", id),
	    decode_domain, d);
}

int
state_domain_schedule(int64_t id, int64_t when)
{
	return db_change(db_prepare("UPDATE domain SET next_check = ? "
	    "WHERE id = ?", "ii", when, id));
}

int
state_domain_schedule_name(const char *name, int64_t when)
{
	return db_change(db_prepare("UPDATE domain SET next_check = ? "
	    "WHERE name = ?", "it", when, name));
}

/* Write back the state and check results of an authorization. */
int
state_domain_save(const struct state_domain *d)
{
	return db_change(db_prepare("UPDATE domain SET state = ?, "
	    "state_since = ?, last_check = ?, next_check = ?, diag = ?, "
	    "failing_since = ?, spf = ?, spf_diag = ?, spf_include = ?, "
	    "dkim = ?, dkim_diag = ?, dmarc_diag = ? WHERE id = ?",
	    "tiiitittittti", state_domain_state_name(d->state),
	    d->state_since, d->last_check, d->next_check, d->diag,
	    d->failing_since, d->checks.spf, d->checks.spf_diag,
	    (int64_t)d->checks.spf_include, d->checks.dkim,
	    d->checks.dkim_diag, d->checks.dmarc_diag, d->id));
}

int
state_domain_del(int64_t id)
{
	return db_change(db_prepare("DELETE FROM domain WHERE id = ?", "i",
	    id));
}

/* How many connectors hold an authorization for this domain. */
int
state_domain_count(const char *name, int64_t *n)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = db_prepare("SELECT count(*) FROM domain WHERE name = ?",
	    "t", name)) == NULL)
		return STATE_ERROR;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	db_release(st);
	return rc == SQLITE_ROW ? STATE_OK : db_fail("read");
}

static const char *const key_statuses[] = {
	[KEY_PENDING] = "pending",
	[KEY_ACTIVE] = "active",
	[KEY_RETIRED] = "retired",
};

#define KEY_COLUMNS \
	"id, domain, selector, algorithm, public_key, created, status, " \
	"status_since, record"

const char *
state_key_status_name(enum state_key_status s)
{
	return (unsigned int)s <= KEY_RETIRED ? key_statuses[s] : "unknown";
}

static int
key_status_lookup(const char *s, enum state_key_status *out)
{
	int	 i;

	for (i = 0; i <= KEY_RETIRED; i++) {
		if (strcmp(key_statuses[i], s) == 0) {
			*out = (enum state_key_status)i;
			return 0;
		}
	}
	return -1;
}

static int
key_insert(const char *domain, const char *selector, const char *alg,
    const char *pubkey, enum state_key_status status, int64_t now)
{
	return db_exec(db_prepare("INSERT INTO dkim_key (domain, selector, "
	    "algorithm, public_key, created, status, status_since) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?)", "ttttiti", domain, selector, alg,
	    pubkey, now, state_key_status_name(status), now));
}

int
state_key_add(const char *domain, const char *selector, const char *alg,
    const char *pubkey, int64_t now)
{
	return key_insert(domain, selector, alg, pubkey, KEY_ACTIVE, now);
}

int
state_key_add_pending(const char *domain, const char *selector,
    const char *alg, const char *pubkey, int64_t now)
{
	return key_insert(domain, selector, alg, pubkey, KEY_PENDING, now);
}

static int
decode_key(sqlite3_stmt *st, void *buf)
{
	struct state_key	*k = buf;
	char			 status[16];

	memset(k, 0, sizeof(*k));
	k->id = sqlite3_column_int64(st, 0);
	if (db_text(st, 1, k->domain, sizeof(k->domain)) == -1 ||
	    db_text(st, 2, k->selector, sizeof(k->selector)) == -1 ||
	    db_text(st, 3, k->algorithm, sizeof(k->algorithm)) == -1 ||
	    db_text(st, 4, k->pubkey, sizeof(k->pubkey)) == -1 ||
	    db_text(st, 6, status, sizeof(status)) == -1 ||
	    db_text(st, 8, k->record, sizeof(k->record)) == -1)
		return -1;
	/* It goes into DNS records we print: base64 and nothing else. */
	if (k->pubkey[strspn(k->pubkey, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/=")] != '\0')
		return db_corrupt(4);
	if (key_status_lookup(status, &k->status) == -1)
		return db_corrupt(6);
	k->created = sqlite3_column_int64(st, 5);
	k->status_since = sqlite3_column_int64(st, 7);
	return 0;
}

int
state_key_get(const char *domain, const char *selector, struct state_key *k)
{
	return db_one(db_prepare("SELECT " KEY_COLUMNS " FROM dkim_key "
	    "WHERE domain = ? AND selector = ?", "tt", domain, selector),
	    decode_key, k);
}

/*
 * In a savepoint, so that the two updates are one change whether or not
 * the caller has a transaction open.
 */
int
state_key_promote(const char *domain, const char *selector, int64_t now,
    char *retired, size_t retiredlen)
{
	struct state_key	 k, old;
	int			 rc;

	if (retiredlen > 0)
		retired[0] = '\0';
	if ((rc = state_key_get(domain, selector, &k)) != STATE_OK)
		return rc;
	if (k.status != KEY_PENDING)
		return STATE_NOTFOUND;
	if (sqlite3_exec(db_conn, "SAVEPOINT key_promote", NULL, NULL,
	    NULL) != SQLITE_OK)
		return db_fail("savepoint");
	rc = db_one(db_prepare("SELECT " KEY_COLUMNS " FROM dkim_key "
	    "WHERE domain = ? AND algorithm = ? AND status = 'active'", "tt",
	    domain, k.algorithm), decode_key, &old);
	if (rc == STATE_OK)
		snprintf(retired, retiredlen, "%s", old.selector);
	if (rc == STATE_ERROR ||
	    (rc = db_exec(db_prepare("UPDATE dkim_key SET status = 'retired', "
	    "status_since = ? WHERE domain = ? AND algorithm = ? AND "
	    "status = 'active'", "itt", now, domain, k.algorithm))) !=
	    STATE_OK ||
	    (rc = db_change(db_prepare("UPDATE dkim_key SET status = "
	    "'active', status_since = ?, record = '' WHERE id = ?", "ii", now,
	    k.id))) !=
	    STATE_OK) {
		sqlite3_exec(db_conn, "ROLLBACK TO key_promote", NULL, NULL,
		    NULL);
		sqlite3_exec(db_conn, "RELEASE key_promote", NULL, NULL, NULL);
		return rc == STATE_OK ? STATE_ERROR : rc;
	}
	if (sqlite3_exec(db_conn, "RELEASE key_promote", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		rc = db_fail("release");
		sqlite3_exec(db_conn, "ROLLBACK TO key_promote", NULL, NULL,
		    NULL);
		sqlite3_exec(db_conn, "RELEASE key_promote", NULL, NULL, NULL);
		return rc;
	}
	return STATE_OK;
}

/* A domain's keys, by selector.  STATE_NOTFOUND when it has none. */
int
state_key_list(const char *domain, state_key_cb cb, void *arg)
{
	struct state_key	 k;
	struct db_iter		 it;

	db_iter(&it, db_prepare("SELECT " KEY_COLUMNS " FROM dkim_key "
	    "WHERE domain = ? ORDER BY selector", "t", domain));
	while (db_next(&it, decode_key, &k))
		if (cb(&k, arg) == -1)
			break;
	return db_end(&it, 0);
}

/* What the last check found at a key's selector. */
int
state_key_set_record(const char *domain, const char *selector,
    const char *record)
{
	return db_change(db_prepare("UPDATE dkim_key SET record = ? "
	    "WHERE domain = ? AND selector = ?", "ttt", record, domain,
	    selector));
}

int
state_key_del(const char *domain, const char *selector)
{
	return db_change(db_prepare("DELETE FROM dkim_key WHERE domain = ? "
	    "AND selector = ?", "tt", domain, selector));
}

/* Keys of domains that no connector is authorized for any more. */
int
state_key_orphans(state_key_cb cb, void *arg)
{
	struct state_key	 k;
	struct db_iter		 it;

	db_iter(&it, db_prepare("SELECT " KEY_COLUMNS " FROM dkim_key "
	    "WHERE domain NOT IN "
	    "(SELECT name FROM domain) ORDER BY domain, selector", ""));
	while (db_next(&it, decode_key, &k))
		if (cb(&k, arg) == -1)
			break;
	return db_end(&it, 1);
}

int
state_key_del_domain(const char *domain)
{
	return db_exec(db_prepare("DELETE FROM dkim_key WHERE domain = ?", "t",
	    domain));
}
