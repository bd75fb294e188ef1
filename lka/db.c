/*
 * The state store on SQLite (see state.h): the connection, schema and
 * migrations, transactions, the row helpers of db_local.h, and the event
 * log.  db_connector.c and db_domain.c hold the other tables' queries;
 * these three files are the only ones that speak SQL.
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

#include "db_local.h"
#include "state.h"

sqlite3		*db_conn;	/* the one connection, shared by db*.c */
static char	 db_err[256];

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
	/* 2 -> 3: rate counters of the connectors (lka/rate.h encoding) */
	"CREATE TABLE rate ("
	" connector INTEGER PRIMARY KEY REFERENCES connector(id)"
	"  ON DELETE CASCADE,"
	" updated INTEGER NOT NULL,"
	" data BLOB NOT NULL);",
	/*
	 * 3 -> 4: DKIM key rotation.  Keys made before are the active ones,
	 * since they were made; record is what the last check found at the
	 * key's selector (a dkim_check name, "" before the first).  At most one active and one pending key of
	 * an algorithm per domain; retired keys wait for their record to go.
	 */
	"ALTER TABLE dkim_key ADD COLUMN status TEXT NOT NULL"
	" DEFAULT 'active' CHECK (status IN ('pending', 'active', 'retired'));"
	"ALTER TABLE dkim_key ADD COLUMN status_since INTEGER NOT NULL"
	" DEFAULT 0;"
	"ALTER TABLE dkim_key ADD COLUMN record TEXT NOT NULL DEFAULT '';"
	"UPDATE dkim_key SET status_since = created;"
	"CREATE UNIQUE INDEX dkim_key_active ON dkim_key(domain, algorithm)"
	" WHERE status = 'active';"
	"CREATE UNIQUE INDEX dkim_key_pending ON dkim_key(domain, algorithm)"
	" WHERE status = 'pending';",
};

int
db_fail(const char *what)
{
	snprintf(db_err, sizeof(db_err), "%s: %s", what,
	    db_conn != NULL ? sqlite3_errmsg(db_conn) : "no database");
	return STATE_ERROR;
}

const char *
state_error(void)
{
	return db_err;
}

/*
 * Prepared statements are kept and reused, keyed by the address of their
 * SQL text and the text itself: parsing the SQL again for
 * every AUTH and MAIL was most of lka's work per message.  A statement
 * in use (a query run while iterating over the same one) gets a fresh,
 * uncached copy.
 */
#define DB_CACHE_MAX	64

static struct {
	const char	*sql;
	sqlite3_stmt	*st;
	int		 busy;
} db_cache[DB_CACHE_MAX];

static sqlite3_stmt *
db_cache_get(const char *sql)
{
	sqlite3_stmt	*st;
	int		 i, free_slot = -1;

	for (i = 0; i < DB_CACHE_MAX; i++) {
		/* The text too: a few queries are built in a stack buffer. */
		if (db_cache[i].sql == sql &&
		    strcmp(sqlite3_sql(db_cache[i].st), sql) == 0) {
			if (db_cache[i].busy)
				break;
			db_cache[i].busy = 1;
			return db_cache[i].st;
		}
		if (db_cache[i].sql == NULL && free_slot == -1)
			free_slot = i;
	}
	if (sqlite3_prepare_v3(db_conn, sql, -1,
	    i == DB_CACHE_MAX && free_slot != -1 ?
	    SQLITE_PREPARE_PERSISTENT : 0, &st, NULL) != SQLITE_OK)
		return NULL;
	if (i == DB_CACHE_MAX && free_slot != -1) {
		db_cache[free_slot].sql = sql;
		db_cache[free_slot].st = st;
		db_cache[free_slot].busy = 1;
	}
	return st;
}

/* Done with a statement of db_prepare: reset if cached, else finalized. */
void
db_release(sqlite3_stmt *st)
{
	int	i;

	for (i = 0; i < DB_CACHE_MAX; i++) {
		if (db_cache[i].st == st && db_cache[i].sql != NULL) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			db_cache[i].busy = 0;
			return;
		}
	}
	sqlite3_finalize(st);
}

static void
db_cache_clear(void)
{
	int	i;

	for (i = 0; i < DB_CACHE_MAX; i++) {
		if (db_cache[i].sql != NULL)
			sqlite3_finalize(db_cache[i].st);
		db_cache[i].sql = NULL;
		db_cache[i].st = NULL;
		db_cache[i].busy = 0;
	}
}

/*
 * Prepare sql and bind the arguments described by types: 'i' int64_t,
 * 't' const char *, 'b' const uint8_t * followed by an int length.
 */
sqlite3_stmt *
db_prepare(const char *sql, const char *types, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;
	const void	*blob;
	int		 i, rc = SQLITE_OK, len;

	if ((st = db_cache_get(sql)) == NULL) {
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
		db_release(st);
		return NULL;
	}
	return st;
}

/* Run a statement that returns no rows. */
int
db_exec(sqlite3_stmt *st)
{
	int	 rc;

	if (st == NULL)
		return STATE_ERROR;
	rc = sqlite3_step(st);
	db_release(st);
	if (rc == SQLITE_CONSTRAINT) {
		db_fail("write");
		return STATE_EXISTS;
	}
	if (rc != SQLITE_DONE)
		return db_fail("write");
	return STATE_OK;
}

/* Like db_exec, but STATE_NOTFOUND when no row changed. */
int
db_change(sqlite3_stmt *st)
{
	int	 rc;

	if ((rc = db_exec(st)) != STATE_OK)
		return rc;
	return sqlite3_changes(db_conn) > 0 ? STATE_OK : STATE_NOTFOUND;
}

/* A value read back broke a rule: say which column, refuse the row. */
int
db_corrupt(int col)
{
	snprintf(db_err, sizeof(db_err), "corrupt value in column %d", col);
	return -1;
}

/* Copy a text column into dst, refusing what does not fit or has NULs. */
int
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

int
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
	db_release(st);
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
	db_release(st);
	return ok ? 0 : -1;
}

static int
db_migrate(int64_t from)
{
	char	*msg = NULL, sql[64];
	int64_t	 v;

	if (sqlite3_exec(db_conn, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail("begin");
	for (v = from; v < STATE_SCHEMA_VERSION; v++) {
		if (sqlite3_exec(db_conn, migrations[v], NULL, NULL, &msg) !=
		    SQLITE_OK) {
			snprintf(db_err, sizeof(db_err),
			    "migration to schema %lld: %s", (long long)v + 1,
			    msg ? msg : "failed");
			sqlite3_free(msg);
			sqlite3_exec(db_conn, "ROLLBACK", NULL, NULL, NULL);
			return STATE_ERROR;
		}
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    STATE_SCHEMA_VERSION);
	if (sqlite3_exec(db_conn, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db_conn, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail("migration commit");
		sqlite3_exec(db_conn, "ROLLBACK", NULL, NULL, NULL);
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

	if (sqlite3_open_v2(path, &db_conn, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "state database %s: %s", path,
		    db_conn ? sqlite3_errmsg(db_conn) : "cannot open");
		goto fail;
	}
	sqlite3_extended_result_codes(db_conn, 0);
	/*
	 * lka is the only writer, but an operator's sqlite3 or a test may
	 * read the file and briefly hold a lock (WAL recovery, checkpoint):
	 * wait a moment rather than fail the write.
	 */
	sqlite3_busy_timeout(db_conn, STATE_BUSY_MS);
	sqlite3_db_config(db_conn, SQLITE_DBCONFIG_DEFENSIVE, 1, &on);
	sqlite3_db_config(db_conn, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, &on);
	/* Read-only questions first: a bad file must stay untouched. */
	if (db_pragma_int("PRAGMA user_version", &version) == -1) {
		snprintf(err, errlen, "state database %s is not usable (%s); "
		    "it was left as it is", path, sqlite3_errmsg(db_conn));
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
	if (sqlite3_exec(db_conn, "PRAGMA journal_mode = WAL", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_exec(db_conn, "PRAGMA synchronous = FULL", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_exec(db_conn, "PRAGMA foreign_keys = ON", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_exec(db_conn, "PRAGMA temp_store = MEMORY", NULL, NULL,
	    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "state database %s: %s", path,
		    sqlite3_errmsg(db_conn));
		goto fail;
	}
	if (version < STATE_SCHEMA_VERSION && db_migrate(version) != STATE_OK) {
		snprintf(err, errlen, "state database %s: %s", path, db_err);
		goto fail;
	}
	return 0;
fail:
	db_cache_clear();
	sqlite3_close(db_conn);
	db_conn = NULL;
	return -1;
}

void
state_close(void)
{
	db_cache_clear();
	sqlite3_close(db_conn);
	db_conn = NULL;
}

int
state_begin(void)
{
	if (sqlite3_exec(db_conn, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail("begin");
	return STATE_OK;
}

int
state_commit(void)
{
	if (sqlite3_exec(db_conn, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail("commit");
		state_rollback();
		return STATE_ERROR;
	}
	return STATE_OK;
}

void
state_rollback(void)
{
	if (!sqlite3_get_autocommit(db_conn))
		sqlite3_exec(db_conn, "ROLLBACK", NULL, NULL, NULL);
}

void
db_iter(struct db_iter *it, sqlite3_stmt *st)
{
	it->st = st;
	it->rc = SQLITE_DONE;
	it->n = 0;
	it->bad = st == NULL;
}

int
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
int
db_end(struct db_iter *it, int empty_ok)
{
	int	 rc = it->rc;

	if (it->st == NULL)
		return STATE_ERROR;
	db_release(it->st);
	if (it->bad)
		return STATE_ERROR;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail("read");
	return it->n > 0 || empty_ok ? STATE_OK : STATE_NOTFOUND;
}

/* A query expected to return one row, decoded into buf. */
int
db_one(sqlite3_stmt *st, int (*decode)(sqlite3_stmt *, void *), void *buf)
{
	struct db_iter	 it;

	db_iter(&it, st);
	db_next(&it, decode, buf);
	return db_end(&it, 0);
}

int
decode_string(sqlite3_stmt *st, void *buf)
{
	return db_text(st, 0, buf, STATE_EVENT_MAX);
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
