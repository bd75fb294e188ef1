/*
 * The state store on SQLite (see state.h).  The only file that speaks SQL.
 *
 * The database is opened inside lka's chroot (the state directory), in WAL
 * mode with synchronous=FULL and SQLITE_DBCONFIG_DEFENSIVE, and every
 * statement binds its values.  Nothing read back is trusted: lengths and
 * enumerations are checked before they are copied or used.
 *
 * A database that SQLite cannot read, that fails its quick check, or whose
 * schema is newer than this code stops lka before anything is written to
 * it; an older schema is migrated forward in one transaction.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "state.h"

static sqlite3	*db;
static char	 db_err[256];

static const char *const limit_names[LIMIT_COUNT] = {
	[LIMIT_MSG_MINUTE] = "messages/minute",
	[LIMIT_MSG_HOUR] = "messages/hour",
	[LIMIT_MSG_DAY] = "messages/day",
	[LIMIT_RCPT_MINUTE] = "recipients/minute",
	[LIMIT_RCPT_HOUR] = "recipients/hour",
	[LIMIT_RCPT_DAY] = "recipients/day",
	[LIMIT_SIZE] = "size",
	[LIMIT_RCPT_PER_MSG] = "recipients/message",
};

/* Column names of the limits, same order as enum state_limit. */
static const char *const limit_columns[LIMIT_COUNT] = {
	"lim_msg_minute", "lim_msg_hour", "lim_msg_day",
	"lim_rcpt_minute", "lim_rcpt_hour", "lim_rcpt_day",
	"lim_size", "lim_rcpt_per_msg",
};

static const char *const domain_states[] = {
	[DOMAIN_PENDING] = "pending",
	[DOMAIN_VERIFIED] = "verified",
	[DOMAIN_FAILING] = "failing",
	[DOMAIN_REVOKED] = "revoked",
};

/*
 * Schema migrations: migrations[i] takes user_version i to i + 1.
 * Append only; never edit a released step.
 */
static const char *const migrations[STATE_SCHEMA_VERSION] = {
	/* 0 -> 1 */
	"CREATE TABLE connector ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),"
	" created INTEGER NOT NULL,"
	" lim_msg_minute INTEGER, lim_msg_hour INTEGER, lim_msg_day INTEGER,"
	" lim_rcpt_minute INTEGER, lim_rcpt_hour INTEGER,"
	" lim_rcpt_day INTEGER, lim_size INTEGER, lim_rcpt_per_msg INTEGER);"
	"CREATE TABLE connector_network ("
	" connector INTEGER NOT NULL REFERENCES connector(id)"
	"  ON DELETE CASCADE,"
	" cidr TEXT NOT NULL,"
	" PRIMARY KEY (connector, cidr));"
	"CREATE TABLE credential ("
	" id INTEGER PRIMARY KEY,"
	" connector INTEGER NOT NULL REFERENCES connector(id)"
	"  ON DELETE CASCADE,"
	" username TEXT NOT NULL,"
	" salt BLOB NOT NULL,"
	" hash BLOB NOT NULL,"
	" created INTEGER NOT NULL);"
	"CREATE INDEX credential_username ON credential(username);"
	"CREATE TABLE domain ("
	" id INTEGER PRIMARY KEY,"
	" connector INTEGER NOT NULL REFERENCES connector(id)"
	"  ON DELETE CASCADE,"
	" name TEXT NOT NULL,"
	" token TEXT NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN"
	"  ('pending', 'verified', 'failing', 'revoked')),"
	" created INTEGER NOT NULL,"
	" state_since INTEGER NOT NULL,"
	" last_check INTEGER NOT NULL DEFAULT 0,"
	" next_check INTEGER NOT NULL DEFAULT 0,"
	" diag TEXT NOT NULL DEFAULT '',"
	" UNIQUE (connector, name));"
	"CREATE INDEX domain_name ON domain(name);"
	"CREATE TABLE dkim_key ("
	" id INTEGER PRIMARY KEY,"
	" domain TEXT NOT NULL,"
	" selector TEXT NOT NULL,"
	" algorithm TEXT NOT NULL,"
	" public_key TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" UNIQUE (domain, selector));"
	"CREATE TABLE event ("
	" id INTEGER PRIMARY KEY,"
	" time INTEGER NOT NULL,"
	" actor INTEGER NOT NULL,"
	" what TEXT NOT NULL);",
	/* 1 -> 2: results of the domain checks */
	"ALTER TABLE domain ADD COLUMN failing_since INTEGER NOT NULL"
	" DEFAULT 0;"
	"ALTER TABLE domain ADD COLUMN spf TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE domain ADD COLUMN spf_diag TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE domain ADD COLUMN spf_include INTEGER NOT NULL"
	" DEFAULT 0;"
	"ALTER TABLE domain ADD COLUMN dkim TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE domain ADD COLUMN dkim_diag TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE domain ADD COLUMN dmarc_diag TEXT NOT NULL DEFAULT '';"
	"CREATE INDEX domain_next_check ON domain(next_check);",
};

static int
db_fail(const char *what)
{
	snprintf(db_err, sizeof(db_err), "%s: %s", what,
	    db != NULL ? sqlite3_errmsg(db) : "no database");
	return STATE_ERROR;
}

const char *
state_error(void)
{
	return db_err;
}

const char *
state_limit_name(enum state_limit l)
{
	return (unsigned int)l < LIMIT_COUNT ? limit_names[l] : "unknown";
}

int
state_limit_lookup(const char *name, enum state_limit *l)
{
	int	 i;

	for (i = 0; i < LIMIT_COUNT; i++) {
		if (strcmp(limit_names[i], name) == 0) {
			*l = (enum state_limit)i;
			return 0;
		}
	}
	return -1;
}

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

/*
 * Prepare sql and bind the arguments described by types: 'i' int64_t,
 * 't' const char *, 'b' const uint8_t * followed by an int length.
 */
static sqlite3_stmt *
db_prepare(const char *sql, const char *types, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;
	const void	*blob;
	int		 i, rc = SQLITE_OK, len;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_fail("prepare");
		return NULL;
	}
	va_start(ap, types);
	for (i = 0; types[i] != '\0' && rc == SQLITE_OK; i++) {
		switch (types[i]) {
		case 'i':
			rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
			break;
		case 't':
			rc = sqlite3_bind_text(st, i + 1,
			    va_arg(ap, const char *), -1, SQLITE_STATIC);
			break;
		case 'b':
			blob = va_arg(ap, const void *);
			len = va_arg(ap, int);
			rc = sqlite3_bind_blob(st, i + 1, blob, len,
			    SQLITE_STATIC);
			break;
		default:
			rc = SQLITE_MISUSE;
		}
	}
	va_end(ap);
	if (rc != SQLITE_OK) {
		db_fail("bind");
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* Run a statement that returns no rows. */
static int
db_exec(sqlite3_stmt *st)
{
	int	 rc;

	if (st == NULL)
		return STATE_ERROR;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT) {
		db_fail("write");
		return STATE_EXISTS;
	}
	if (rc != SQLITE_DONE)
		return db_fail("write");
	return STATE_OK;
}

/* Like db_exec, but STATE_NOTFOUND when no row changed. */
static int
db_change(sqlite3_stmt *st)
{
	int	 rc;

	if ((rc = db_exec(st)) != STATE_OK)
		return rc;
	return sqlite3_changes(db) > 0 ? STATE_OK : STATE_NOTFOUND;
}

/* A value read back broke a rule: say which column, refuse the row. */
static int
db_corrupt(int col)
{
	snprintf(db_err, sizeof(db_err), "corrupt value in column %d", col);
	return -1;
}

/* Copy a text column into dst, refusing what does not fit or has NULs. */
static int
db_text(sqlite3_stmt *st, int col, char *dst, size_t dstsize)
{
	const unsigned char	*s = sqlite3_column_text(st, col);
	int			 len = sqlite3_column_bytes(st, col);

	if (s == NULL || len < 0 || (size_t)len >= dstsize ||
	    memchr(s, '\0', (size_t)len) != NULL) {
		snprintf(db_err, sizeof(db_err), "corrupt value in column %d",
		    col);
		return -1;
	}
	memcpy(dst, s, (size_t)len + 1);
	return 0;
}

static int
db_blob(sqlite3_stmt *st, int col, uint8_t *dst, size_t len)
{
	const void	*b = sqlite3_column_blob(st, col);

	if (b == NULL || sqlite3_column_bytes(st, col) != (int)len) {
		snprintf(db_err, sizeof(db_err), "corrupt value in column %d",
		    col);
		return -1;
	}
	memcpy(dst, b, len);
	return 0;
}

static int
db_pragma_int(const char *sql, int64_t *v)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = db_prepare(sql, "")) == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int
db_quick_check(void)
{
	sqlite3_stmt	*st;
	const char	*res;
	int		 rc, ok = 0;

	if ((st = db_prepare("PRAGMA quick_check", "")) == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		res = (const char *)sqlite3_column_text(st, 0);
		ok = res != NULL && strcmp(res, "ok") == 0;
		if (!ok)
			snprintf(db_err, sizeof(db_err), "%s",
			    res ? res : "quick_check failed");
	} else
		db_fail("quick_check");
	sqlite3_finalize(st);
	return ok ? 0 : -1;
}

static int
db_migrate(int64_t from)
{
	char	*msg = NULL, sql[64];
	int64_t	 v;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail("begin");
	for (v = from; v < STATE_SCHEMA_VERSION; v++) {
		if (sqlite3_exec(db, migrations[v], NULL, NULL, &msg) !=
		    SQLITE_OK) {
			snprintf(db_err, sizeof(db_err),
			    "migration to schema %lld: %s", (long long)v + 1,
			    msg ? msg : "failed");
			sqlite3_free(msg);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return STATE_ERROR;
		}
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    STATE_SCHEMA_VERSION);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail("migration commit");
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return STATE_ERROR;
	}
	return STATE_OK;
}

/*
 * Open (or create) the database at path.  On failure err says why, in
 * words an operator can act on, and the file was not modified.
 */
int
state_open(const char *path, char *err, size_t errlen)
{
	int64_t	 version;
	int	 on = 1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "state database %s: %s", path,
		    db ? sqlite3_errmsg(db) : "cannot open");
		goto fail;
	}
	sqlite3_extended_result_codes(db, 0);
	/*
	 * lka is the only writer, but an operator's sqlite3 or a test may
	 * read the file and briefly hold a lock (WAL recovery, checkpoint):
	 * wait a moment rather than fail the write.
	 */
	sqlite3_busy_timeout(db, STATE_BUSY_MS);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, &on);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, &on);
	/* Read-only questions first: a bad file must stay untouched. */
	if (db_pragma_int("PRAGMA user_version", &version) == -1) {
		snprintf(err, errlen, "state database %s is not usable (%s); "
		    "it was left as it is", path, sqlite3_errmsg(db));
		goto fail;
	}
	if (version > STATE_SCHEMA_VERSION) {
		snprintf(err, errlen, "state database %s has schema version "
		    "%lld, newer than this sendgated knows (%d); refusing to "
		    "touch it", path, (long long)version,
		    STATE_SCHEMA_VERSION);
		goto fail;
	}
	if (version < 0) {
		snprintf(err, errlen, "state database %s has a corrupt schema "
		    "version %lld; it was left as it is", path,
		    (long long)version);
		goto fail;
	}
	if (db_quick_check() == -1) {
		snprintf(err, errlen, "state database %s is corrupt (%s); it "
		    "was left as it is", path, db_err);
		goto fail;
	}
	if (sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA synchronous = FULL", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA temp_store = MEMORY", NULL, NULL,
	    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "state database %s: %s", path,
		    sqlite3_errmsg(db));
		goto fail;
	}
	if (version < STATE_SCHEMA_VERSION && db_migrate(version) != STATE_OK) {
		snprintf(err, errlen, "state database %s: %s", path, db_err);
		goto fail;
	}
	return 0;
fail:
	sqlite3_close(db);
	db = NULL;
	return -1;
}

void
state_close(void)
{
	if (db != NULL)
		sqlite3_close(db);
	db = NULL;
}

int
state_begin(void)
{
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail("begin");
	return STATE_OK;
}

int
state_commit(void)
{
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail("commit");
		state_rollback();
		return STATE_ERROR;
	}
	return STATE_OK;
}

void
state_rollback(void)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int
state_connector_add(const char *name, int64_t now, int64_t *idp)
{
	int	 rc;

	rc = db_exec(db_prepare("INSERT INTO connector (name, created) "
	    "VALUES (?, ?)", "ti", name, now));
	if (rc == STATE_OK)
		*idp = sqlite3_last_insert_rowid(db);
	return rc;
}

#define CONNECTOR_COLUMNS \
	"c.id, c.name, c.enabled, c.created, c.lim_msg_minute, " \
	"c.lim_msg_hour, c.lim_msg_day, c.lim_rcpt_minute, c.lim_rcpt_hour, " \
	"c.lim_rcpt_day, c.lim_size, c.lim_rcpt_per_msg, " \
	"(SELECT count(*) FROM domain d WHERE d.connector = c.id)"

static int
db_connector_row(sqlite3_stmt *st, struct state_connector *c)
{
	int	 i;

	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(st, 0);
	if (db_text(st, 1, c->name, sizeof(c->name)) == -1)
		return -1;
	if (names_connector_valid(c->name, NULL, 0) == -1)
		return db_corrupt(1);
	c->enabled = sqlite3_column_int(st, 2) != 0;
	c->created = sqlite3_column_int64(st, 3);
	for (i = 0; i < LIMIT_COUNT; i++) {
		if (sqlite3_column_type(st, 4 + i) == SQLITE_NULL)
			c->limits[i] = -1;
		else if ((c->limits[i] = sqlite3_column_int64(st, 4 + i)) < 0)
			return db_corrupt(4 + i);
	}
	c->ndomains = sqlite3_column_int64(st, 4 + LIMIT_COUNT);
	return 0;
}

/*
 * Row iteration: db_next() decodes the next row into buf and returns 1,
 * or 0 at the end or on error; db_end() finalizes and says which.
 */
struct db_iter {
	sqlite3_stmt	*st;
	int		 rc;
	int		 n;
	int		 bad;
};

static void
db_iter(struct db_iter *it, sqlite3_stmt *st)
{
	it->st = st;
	it->rc = SQLITE_DONE;
	it->n = 0;
	it->bad = st == NULL;
}

static int
db_next(struct db_iter *it, int (*decode)(sqlite3_stmt *, void *), void *buf)
{
	if (it->bad)
		return 0;
	if ((it->rc = sqlite3_step(it->st)) != SQLITE_ROW)
		return 0;
	if (decode(it->st, buf) == -1) {
		it->bad = 1;
		return 0;
	}
	it->n++;
	return 1;
}

/* empty_ok: an empty result is STATE_OK rather than STATE_NOTFOUND. */
static int
db_end(struct db_iter *it, int empty_ok)
{
	int	 rc = it->rc;

	if (it->st == NULL)
		return STATE_ERROR;
	sqlite3_finalize(it->st);
	if (it->bad)
		return STATE_ERROR;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail("read");
	return it->n > 0 || empty_ok ? STATE_OK : STATE_NOTFOUND;
}

/* A query expected to return one row, decoded into buf. */
static int
db_one(sqlite3_stmt *st, int (*decode)(sqlite3_stmt *, void *), void *buf)
{
	struct db_iter	 it;

	db_iter(&it, st);
	db_next(&it, decode, buf);
	return db_end(&it, 0);
}

static int
decode_connector(sqlite3_stmt *st, void *buf)
{
	return db_connector_row(st, buf);
}

int
state_connector_get(const char *name, struct state_connector *c)
{
	return db_one(db_prepare("SELECT " CONNECTOR_COLUMNS
	    " FROM connector c WHERE c.name = ?", "t", name),
	    decode_connector, c);
}

int
state_connector_by_id(int64_t id, struct state_connector *c)
{
	return db_one(db_prepare("SELECT " CONNECTOR_COLUMNS
	    " FROM connector c WHERE c.id = ?", "i", id), decode_connector, c);
}

int
state_connector_list(state_connector_cb cb, void *arg)
{
	struct state_connector	 c;
	struct db_iter		 it;

	db_iter(&it, db_prepare("SELECT " CONNECTOR_COLUMNS
	    " FROM connector c ORDER BY c.name", ""));
	while (db_next(&it, decode_connector, &c))
		if (cb(&c, arg) == -1)
			break;
	return db_end(&it, 1);
}

int
state_connector_del(int64_t id)
{
	return db_change(db_prepare("DELETE FROM connector WHERE id = ?",
	    "i", id));
}

int
state_connector_set_enabled(int64_t id, int enabled)
{
	return db_change(db_prepare("UPDATE connector SET enabled = ? "
	    "WHERE id = ?", "ii", (int64_t)(enabled != 0), id));
}

/* value -1 returns the limit to the config's default. */
int
state_connector_set_limit(int64_t id, enum state_limit l, int64_t value)
{
	char	 sql[128];

	if ((unsigned int)l >= LIMIT_COUNT)
		return STATE_ERROR;
	/* The column name comes from our own table, never from input. */
	if (value < 0) {
		snprintf(sql, sizeof(sql), "UPDATE connector SET %s = NULL "
		    "WHERE id = ?", limit_columns[l]);
		return db_change(db_prepare(sql, "i", id));
	}
	snprintf(sql, sizeof(sql), "UPDATE connector SET %s = ? WHERE id = ?",
	    limit_columns[l]);
	return db_change(db_prepare(sql, "ii", value, id));
}

int
state_network_add(int64_t connector, const char *cidr)
{
	return db_exec(db_prepare("INSERT INTO connector_network "
	    "(connector, cidr) VALUES (?, ?)", "it", connector, cidr));
}

static int
decode_string(sqlite3_stmt *st, void *buf)
{
	return db_text(st, 0, buf, STATE_EVENT_MAX);
}

int
state_network_list(int64_t connector, state_string_cb cb, void *arg)
{
	char		 buf[STATE_EVENT_MAX];
	struct db_iter	 it;

	db_iter(&it, db_prepare("SELECT cidr FROM connector_network "
	    "WHERE connector = ? ORDER BY cidr", "i", connector));
	while (db_next(&it, decode_string, buf))
		if (cb(buf, arg) == -1)
			break;
	return db_end(&it, 1);
}

/* Every source network of every enabled connector: (connector id, cidr). */
int
state_network_all(state_network_cb cb, void *arg)
{
	char		 buf[STATE_EVENT_MAX];
	struct db_iter	 it;

	db_iter(&it, db_prepare("SELECT n.cidr, n.connector FROM "
	    "connector_network n JOIN connector c ON c.id = n.connector "
	    "WHERE c.enabled = 1 ORDER BY n.connector, n.cidr", ""));
	while (db_next(&it, decode_string, buf))
		if (cb(sqlite3_column_int64(it.st, 1), buf, arg) == -1)
			break;
	return db_end(&it, 1);
}

int
state_credential_add(int64_t connector, const char *user, const uint8_t *salt,
    const uint8_t *hash, int64_t now)
{
	return db_exec(db_prepare("INSERT INTO credential (connector, "
	    "username, salt, hash, created) VALUES (?, ?, ?, ?, ?)", "itbbi",
	    connector, user, salt, STATE_SALT_LEN, hash, STATE_HASH_LEN,
	    now));
}

/* Keep only the newest `keep` credentials of a connector. */
int
state_credential_keep(int64_t connector, int keep)
{
	return db_exec(db_prepare("DELETE FROM credential WHERE connector = ? "
	    "AND id NOT IN (SELECT id FROM credential WHERE connector = ? "
	    "ORDER BY id DESC LIMIT ?)", "iii", connector, connector,
	    (int64_t)keep));
}

static int
decode_credential(sqlite3_stmt *st, void *buf)
{
	struct state_credential	*c = buf;

	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(st, 0);
	c->connector = sqlite3_column_int64(st, 1);
	if (db_text(st, 2, c->username, sizeof(c->username)) == -1 ||
	    db_blob(st, 3, c->salt, sizeof(c->salt)) == -1 ||
	    db_blob(st, 4, c->hash, sizeof(c->hash)) == -1)
		return -1;
	c->created = sqlite3_column_int64(st, 5);
	return 0;
}

#define CREDENTIAL_COLUMNS \
	"id, connector, username, salt, hash, created FROM credential"

static int
db_credentials(sqlite3_stmt *st, state_credential_cb cb, void *arg,
    int empty_ok)
{
	struct state_credential	 c;
	struct db_iter		 it;

	db_iter(&it, st);
	while (db_next(&it, decode_credential, &c))
		if (cb(&c, arg) == -1)
			break;
	explicit_bzero(&c, sizeof(c));
	return db_end(&it, empty_ok);
}

int
state_credential_list(int64_t connector, state_credential_cb cb, void *arg)
{
	return db_credentials(db_prepare("SELECT " CREDENTIAL_COLUMNS
	    " WHERE connector = ? ORDER BY id", "i", connector), cb, arg, 1);
}

int
state_credential_by_user(const char *user, state_credential_cb cb, void *arg)
{
	return db_credentials(db_prepare("SELECT " CREDENTIAL_COLUMNS
	    " WHERE username = ? ORDER BY id", "t", user), cb, arg, 0);
}

int
state_domain_add(int64_t connector, const char *name, const char *token,
    int64_t now)
{
	return db_exec(db_prepare("INSERT INTO domain (connector, name, token, "
	    "created, state_since) VALUES (?, ?, ?, ?, ?)", "ittii",
	    connector, name, token, now, now));
}

#define DOMAIN_COLUMNS \
	"d.id, d.connector, c.name, d.name, d.token, d.state, d.created, " \
	"d.state_since, d.last_check, d.next_check, d.diag, " \
	"d.failing_since, d.spf, d.spf_diag, d.spf_include, d.dkim, " \
	"d.dkim_diag, d.dmarc_diag"

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
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? STATE_OK : db_fail("read");
}

int
state_key_add(const char *domain, const char *selector, const char *alg,
    const char *pubkey, int64_t now)
{
	return db_exec(db_prepare("INSERT INTO dkim_key (domain, selector, "
	    "algorithm, public_key, created) VALUES (?, ?, ?, ?, ?)", "tttti",
	    domain, selector, alg, pubkey, now));
}

static int
decode_key(sqlite3_stmt *st, void *buf)
{
	struct state_key	*k = buf;

	memset(k, 0, sizeof(*k));
	k->id = sqlite3_column_int64(st, 0);
	if (db_text(st, 1, k->domain, sizeof(k->domain)) == -1 ||
	    db_text(st, 2, k->selector, sizeof(k->selector)) == -1 ||
	    db_text(st, 3, k->algorithm, sizeof(k->algorithm)) == -1 ||
	    db_text(st, 4, k->pubkey, sizeof(k->pubkey)) == -1)
		return -1;
	/* It goes into DNS records we print: base64 and nothing else. */
	if (k->pubkey[strspn(k->pubkey, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/=")] != '\0')
		return db_corrupt(4);
	k->created = sqlite3_column_int64(st, 5);
	return 0;
}

int
state_key_list(const char *domain, state_key_cb cb, void *arg)
{
	struct state_key	 k;
	struct db_iter		 it;

	db_iter(&it, db_prepare("SELECT id, domain, selector, algorithm, "
	    "public_key, created FROM dkim_key WHERE domain = ? "
	    "ORDER BY selector", "t", domain));
	while (db_next(&it, decode_key, &k))
		if (cb(&k, arg) == -1)
			break;
	return db_end(&it, 0);
}

/* Keys of domains that no connector is authorized for any more. */
int
state_key_orphans(state_key_cb cb, void *arg)
{
	struct state_key	 k;
	struct db_iter		 it;

	db_iter(&it, db_prepare("SELECT id, domain, selector, algorithm, "
	    "public_key, created FROM dkim_key WHERE domain NOT IN "
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

int
state_event(int64_t now, int64_t actor, const char *what)
{
	if (strlen(what) >= STATE_EVENT_MAX) {
		snprintf(db_err, sizeof(db_err), "event text too long");
		return STATE_ERROR;
	}
	return db_exec(db_prepare("INSERT INTO event (time, actor, what) "
	    "VALUES (?, ?, ?)", "iit", now, actor, what));
}

/* The newest n events, oldest first. */
int
state_event_list(int64_t n, state_string_cb cb, void *arg)
{
	char		 buf[STATE_EVENT_MAX];
	struct db_iter	 it;

	db_iter(&it, db_prepare("SELECT what FROM (SELECT id, what FROM event "
	    "ORDER BY id DESC LIMIT ?) ORDER BY id", "i", n));
	while (db_next(&it, decode_string, buf))
		if (cb(buf, arg) == -1)
			break;
	return db_end(&it, 1);
}
