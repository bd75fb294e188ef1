/*
 * lka/db.c, the state store, against a real SQLite file in a temporary
 * directory: schema creation and migration, databases it must refuse and
 * leave untouched, every table's functions, corrupted values read back
 * (SECURITY.md I4) and SQL metacharacters stored literally.  The test
 * looks at the file with its own sqlite3 connection, never through the
 * code under test.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "unit.h"

#include "state.h"
#include "state_test.h"

#define NROWS(a)	(sizeof(a) / sizeof((a)[0]))
#define ROWS_MAX	8
#define FILE_MAX	(256 * 1024)
#define NOW		1700000000LL

#define TOKEN_A		"0123456789abcdef0123456789abcdef01234567"
#define TOKEN_B		"89abcdef0123456789abcdef0123456789abcdef"
#define A10		"aaaaaaaaaa"
#define A64		A10 A10 A10 A10 A10 A10 "aaaa"

/* What the list functions hand their callback, copied. */
struct rows {
	size_t	 n;
	union {
		struct state_connector	 c;
		struct state_credential	 cred;
		struct state_domain	 d;
		struct state_key	 k;
		char			 s[STATE_EVENT_MAX];
	}	 r[ROWS_MAX];
};

/* A callback that copies what it is handed into the next row. */
#define COLLECT(fn, type, member)					\
static int								\
fn(const type *v, void *arg)						\
{									\
	struct rows	*rows = arg;					\
									\
	assert_true(rows->n < ROWS_MAX);				\
	rows->r[rows->n++].member = *v;					\
	return 0;							\
}

COLLECT(collect_connector, struct state_connector, c)
COLLECT(collect_credential, struct state_credential, cred)
COLLECT(collect_domain, struct state_domain, d)
COLLECT(collect_key, struct state_key, k)

static int
collect_string(const char *s, void *arg)
{
	struct rows	*rows = arg;

	assert_true(rows->n < ROWS_MAX);
	snprintf(rows->r[rows->n++].s, STATE_EVENT_MAX, "%s", s);
	return 0;
}

/* The tables as the list functions read them. */
enum reader {
	READ_CONNECTORS,
	READ_NETWORKS,
	READ_CREDENTIALS,
	READ_DOMAINS,
	READ_KEYS,
	READ_EVENTS
};

static int
read_all(enum reader reader, int64_t id, struct rows *rows)
{
	switch (reader) {
	case READ_CONNECTORS:
		return state_connector_list(collect_connector, rows);
	case READ_NETWORKS:
		return state_network_list(id, collect_string, rows);
	case READ_CREDENTIALS:
		return state_credential_list(id, collect_credential, rows);
	case READ_DOMAINS:
		return state_domain_list(0, NULL, collect_domain, rows);
	case READ_KEYS:
		return state_key_list("example.com", collect_key, rows);
	case READ_EVENTS:
		return state_event_list(10, collect_string, rows);
	}
	return -2;
}

/* Every row of one table, which must read back fine and hold n rows. */
static const struct rows *
read_ok(enum reader reader, int64_t id, size_t n)
{
	static struct rows	 rows;

	memset(&rows, 0, sizeof(rows));
	assert_int_equal(read_all(reader, id, &rows), STATE_OK);
	assert_int_equal(rows.n, n);
	return &rows;
}

/* The test's own connection to the file, beside the one under test. */
static sqlite3 *
raw_open(void)
{
	sqlite3	*raw;

	if (sqlite3_open_v2(path, &raw, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
		fail_msg("sqlite3_open %s: %s", path, sqlite3_errmsg(raw));
	return raw;
}

static void
raw_exec(const char *sql)
{
	sqlite3	*raw = raw_open();
	char	*msg = NULL;

	if (sqlite3_exec(raw, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(raw);
}

/* The first column of the one row sql returns, as text. */
static void
raw_text(const char *sql, char *buf, size_t len)
{
	sqlite3		*raw = raw_open();
	sqlite3_stmt	*st;

	assert_int_equal(sqlite3_prepare_v2(raw, sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(raw);
}

static int64_t
raw_int(const char *sql)
{
	char	 buf[64];

	raw_text(sql, buf, sizeof(buf));
	return strtoll(buf, NULL, 10);
}

static size_t
slurp(const char *file, char *buf, size_t size)
{
	ssize_t	 n;
	int	 fd;

	assert_true((fd = open(file, O_RDONLY)) != -1);
	assert_true((n = read(fd, buf, size)) >= 0);
	assert_true((size_t)n < size);
	close(fd);
	return n;
}

static void
put(const char *buf, size_t len)
{
	int	 fd;

	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC,
	    0600)) != -1);
	assert_int_equal(write(fd, buf, len), len);
	assert_int_equal(close(fd), 0);
}

static int
exists(const char *suffix)
{
	char	 p[160];

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	return access(p, F_OK) == 0;
}

/*
 * One connector "acme" with a network, a credential, a domain with its
 * key and an event: a row in every table.
 */
static int64_t
populate(void)
{
	uint8_t	 salt[STATE_SALT_LEN], hash[STATE_HASH_LEN];
	int64_t	 id;

	memset(salt, 0x5a, sizeof(salt));
	memset(hash, 0xa5, sizeof(hash));
	assert_int_equal(state_connector_add("acme", NOW, &id), STATE_OK);
	assert_int_equal(state_network_add(id, "192.0.2.0/24"), STATE_OK);
	assert_int_equal(state_credential_add(id, "acme", salt, hash, NOW),
	    STATE_OK);
	assert_int_equal(state_domain_add(id, "example.com", TOKEN_A, NOW),
	    STATE_OK);
	assert_int_equal(state_key_add("example.com", "sendgate-rsa",
	    "rsa-sha256", "MIIBIjAN", NOW), STATE_OK);
	assert_int_equal(state_event(NOW, 0, "connector acme created"),
	    STATE_OK);
	return id;
}

static void
test_new_database_gets_the_current_schema_in_wal_mode(void **state)
{
	char	 mode[32];

	assert_false(exists(""));
	open_ok();
	state_close();
	assert_int_equal(raw_int("PRAGMA user_version"), STATE_SCHEMA_VERSION);
	raw_text("PRAGMA journal_mode", mode, sizeof(mode));
	assert_string_equal(mode, "wal");
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'table' AND name IN ('connector', 'connector_network', "
	    "'credential', 'domain', 'dkim_key', 'event')"), 6);
}

static void
test_empty_file_is_migrated_to_the_current_schema(void **state)
{
	struct state_connector	 c;
	int64_t			 id;

	put("", 0);
	open_ok();
	assert_int_equal(state_connector_add("acme", NOW, &id), STATE_OK);
	assert_int_equal(state_connector_get("acme", &c), STATE_OK);
	state_close();
	assert_int_equal(raw_int("PRAGMA user_version"), STATE_SCHEMA_VERSION);
}

static void
test_reopen_keeps_every_table(void **state)
{
	const struct rows	*rows;
	int64_t			 id;

	open_ok();
	id = populate();
	state_close();
	open_ok();

	rows = read_ok(READ_CONNECTORS, id, 1);
	assert_string_equal(rows->r[0].c.name, "acme");
	assert_int_equal(rows->r[0].c.id, id);
	assert_int_equal(rows->r[0].c.ndomains, 1);
	rows = read_ok(READ_NETWORKS, id, 1);
	assert_string_equal(rows->r[0].s, "192.0.2.0/24");
	rows = read_ok(READ_CREDENTIALS, id, 1);
	assert_int_equal(rows->r[0].cred.salt[0], 0x5a);
	assert_int_equal(rows->r[0].cred.hash[STATE_HASH_LEN - 1], 0xa5);
	rows = read_ok(READ_DOMAINS, id, 1);
	assert_string_equal(rows->r[0].d.token, TOKEN_A);
	rows = read_ok(READ_KEYS, id, 1);
	assert_string_equal(rows->r[0].k.pubkey, "MIIBIjAN");
	rows = read_ok(READ_EVENTS, id, 1);
	assert_string_equal(rows->r[0].s, "connector acme created");
}

/*
 * Files state_open must refuse without writing a byte: each row makes
 * the file with sql (run by the test's own connection) or puts raw
 * bytes, and names what the error must say.
 */
static const struct {
	const char	*what;
	const char	*sql;
	const char	*bytes;
	const char	*want;
} refused_rows[] = {
	{ "newer schema", "PRAGMA user_version = 99; CREATE TABLE t (x);"
	    "INSERT INTO t VALUES (1);", NULL,
	    "has schema version 99, newer than this sendgated knows (4); "
	    "refusing to touch it" },
	{ "newer schema in WAL mode", "PRAGMA journal_mode = WAL;"
	    "PRAGMA user_version = 5; CREATE TABLE t (x);", NULL,
	    "has schema version 5, newer than this sendgated knows (4)" },
	{ "negative schema version", "PRAGMA user_version = -1;"
	    "CREATE TABLE t (x);", NULL,
	    "has a corrupt schema version -1; it was left as it is" },
	{ "not a database", NULL,
	    "not a database, only text that happens to be in the file\n",
	    "is not usable (file is not a database); it was left as it is" },
	{ "a header and nothing else", NULL, "SQLite format 3",
	    "it was left as it is" },
};

static void
test_refused_database_is_left_as_it_is(void **state)
{
	static char	 before[FILE_MAX], after[FILE_MAX];
	char		 err[512];
	size_t		 i, n, m;
	int		 wal;

	for (i = 0; i < NROWS(refused_rows); i++) {
		unlink(path);
		if (refused_rows[i].sql != NULL)
			raw_exec(refused_rows[i].sql);
		else
			put(refused_rows[i].bytes,
			    strlen(refused_rows[i].bytes));
		wal = exists("-wal");
		n = slurp(path, before, sizeof(before));
		err[0] = '\0';
		if (state_open(path, err, sizeof(err)) != -1)
			fail_msg("row %zu (%s): opened", i,
			    refused_rows[i].what);
		if (strstr(err, refused_rows[i].want) == NULL ||
		    strstr(err, path) == NULL)
			fail_msg("row %zu (%s): want \"%s\" and the path, got "
			    "\"%s\"", i, refused_rows[i].what,
			    refused_rows[i].want, err);
		m = slurp(path, after, sizeof(after));
		if (m != n || memcmp(before, after, n) != 0)
			fail_msg("row %zu (%s): file changed", i,
			    refused_rows[i].what);
		if (!wal && (exists("-wal") || exists("-journal")))
			fail_msg("row %zu (%s): journal left behind", i,
			    refused_rows[i].what);
	}
}

/* A page of a good database overwritten: refused, not "repaired". */
static void
test_corrupt_page_is_refused_and_left_as_it_is(void **state)
{
	static char	 before[FILE_MAX], after[FILE_MAX];
	char		 err[512];
	size_t		 n, m, page;
	int		 fd;

	open_ok();
	populate();
	state_close();
	page = raw_int("PRAGMA page_size");
	assert_true(raw_int("PRAGMA page_count") > 3);
	assert_true((fd = open(path, O_WRONLY)) != -1);
	memset(before, 0x77, page);
	assert_int_equal(pwrite(fd, before, page, 2 * page), page);
	close(fd);
	n = slurp(path, before, sizeof(before));
	assert_int_equal(state_open(path, err, sizeof(err)), -1);
	if (strstr(err, "it was left as it is") == NULL)
		fail_msg("want a refusal, got \"%s\"", err);
	m = slurp(path, after, sizeof(after));
	assert_int_equal(m, n);
	assert_memory_equal(before, after, n);
}

static void
test_connectors_are_unique_listed_by_name_and_deleted(void **state)
{
	struct state_connector	 c;
	struct rows		 rows;
	int64_t			 acme, beta, dup = -7;
	int			 i;

	assert_int_equal(state_connector_add("beta", NOW + 1, &beta),
	    STATE_OK);
	assert_int_equal(state_connector_add("acme", NOW, &acme), STATE_OK);
	assert_int_equal(state_connector_add("acme", NOW, &dup), STATE_EXISTS);
	assert_int_equal(dup, -7);

	assert_int_equal(state_connector_get("acme", &c), STATE_OK);
	assert_int_equal(c.id, acme);
	assert_string_equal(c.name, "acme");
	assert_int_equal(c.enabled, 1);
	assert_int_equal(c.created, NOW);
	assert_int_equal(c.ndomains, 0);
	for (i = 0; i < LIMIT_COUNT; i++)
		assert_int_equal(c.limits[i], -1);
	assert_int_equal(state_connector_get("gamma", &c), STATE_NOTFOUND);

	memset(&rows, 0, sizeof(rows));
	assert_int_equal(state_connector_list(collect_connector, &rows),
	    STATE_OK);
	assert_int_equal(rows.n, 2);
	assert_string_equal(rows.r[0].c.name, "acme");
	assert_string_equal(rows.r[1].c.name, "beta");

	assert_int_equal(state_connector_del(acme), STATE_OK);
	assert_int_equal(state_connector_del(acme), STATE_NOTFOUND);
	assert_int_equal(state_connector_get("acme", &c), STATE_NOTFOUND);
	assert_int_equal(state_connector_del(beta), STATE_OK);
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(state_connector_list(collect_connector, &rows),
	    STATE_OK);
	assert_int_equal(rows.n, 0);
}

struct rate_rows {
	int	 n;
	int64_t	 id[4];
	uint8_t	 first[4];
};

static int
collect_rate(int64_t id, const uint8_t *data, size_t len, void *arg)
{
	struct rate_rows	*r = arg;

	assert_true(r->n < 4);
	r->id[r->n] = id;
	r->first[r->n++] = data[0];
	return 0;
}

/*
 * Rate counters: saved and replaced per connector, read back only at
 * the length asked for, gone with their connector.
 */
static void
test_rate_counters_are_saved_replaced_and_cascade(void **state)
{
	struct rate_rows	 rows;
	uint8_t			 a[64], b[64], other[10];
	int64_t			 acme, beta;

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	memset(other, 'o', sizeof(other));
	assert_int_equal(state_connector_add("acme", NOW, &acme), STATE_OK);
	assert_int_equal(state_connector_add("beta", NOW, &beta), STATE_OK);
	assert_int_equal(state_rate_save(acme, NOW, a, sizeof(a)), STATE_OK);
	assert_int_equal(state_rate_save(acme, NOW + 2, b, sizeof(b)),
	    STATE_OK);
	assert_int_equal(state_rate_save(beta, NOW, other, sizeof(other)),
	    STATE_OK);
	/* A connector that is gone cannot get a counter. */
	assert_int_equal(state_rate_save(acme + beta + 100, NOW, a,
	    sizeof(a)), STATE_EXISTS);

	memset(&rows, 0, sizeof(rows));
	assert_int_equal(state_rate_load(sizeof(a), collect_rate, &rows),
	    STATE_OK);
	assert_int_equal(rows.n, 1);		/* beta's has another length */
	assert_int_equal(rows.id[0], acme);
	assert_int_equal(rows.first[0], 'b');	/* replaced, not added */
	assert_int_equal(raw_int("SELECT count(*) FROM rate"), 2);

	assert_int_equal(state_connector_del(acme), STATE_OK);
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(state_rate_load(sizeof(a), collect_rate, &rows),
	    STATE_OK);
	assert_int_equal(rows.n, 0);
	assert_int_equal(raw_int("SELECT count(*) FROM rate"), 1);
}

static void
test_enabled_and_limits_are_set_and_reset(void **state)
{
	struct state_connector	 c;
	int64_t			 id;
	int			 i;

	assert_int_equal(state_connector_add("acme", NOW, &id), STATE_OK);
	assert_int_equal(state_connector_set_enabled(id, 0), STATE_OK);
	assert_int_equal(state_connector_get("acme", &c), STATE_OK);
	assert_int_equal(c.enabled, 0);
	assert_int_equal(state_connector_set_enabled(id, 1), STATE_OK);
	assert_int_equal(state_connector_get("acme", &c), STATE_OK);
	assert_int_equal(c.enabled, 1);
	assert_int_equal(state_connector_set_enabled(id + 1, 0),
	    STATE_NOTFOUND);

	for (i = 0; i < LIMIT_COUNT; i++)
		assert_int_equal(state_connector_set_limit(id, i, 100 + i),
		    STATE_OK);
	assert_int_equal(state_connector_set_limit(id, LIMIT_SIZE, 10485760),
	    STATE_OK);
	assert_int_equal(state_connector_get("acme", &c), STATE_OK);
	for (i = 0; i < LIMIT_COUNT; i++)
		assert_int_equal(c.limits[i], i == LIMIT_SIZE ? 10485760 :
		    100 + i);
	/* -1 is "the config's default" again; 0 is "no limit". */
	assert_int_equal(state_connector_set_limit(id, LIMIT_MSG_HOUR, -1),
	    STATE_OK);
	assert_int_equal(state_connector_set_limit(id, LIMIT_MSG_DAY, 0),
	    STATE_OK);
	assert_int_equal(state_connector_get("acme", &c), STATE_OK);
	assert_int_equal(c.limits[LIMIT_MSG_HOUR], -1);
	assert_int_equal(c.limits[LIMIT_MSG_DAY], 0);
	assert_int_equal(c.limits[LIMIT_MSG_MINUTE], 100);
	assert_int_equal(raw_int("SELECT lim_msg_hour IS NULL FROM "
	    "connector"), 1);

	assert_int_equal(state_connector_set_limit(id + 1, LIMIT_SIZE, 1),
	    STATE_NOTFOUND);
	assert_int_equal(state_connector_set_limit(id, LIMIT_COUNT, 1),
	    STATE_ERROR);
	assert_int_equal(state_connector_set_limit(id, -1, 1), STATE_ERROR);
}

static const struct {
	const char		*name;
	enum state_limit	 limit;
} limit_rows[] = {
	{ "messages/minute",	LIMIT_MSG_MINUTE },
	{ "messages/hour",	LIMIT_MSG_HOUR },
	{ "messages/day",	LIMIT_MSG_DAY },
	{ "recipients/minute",	LIMIT_RCPT_MINUTE },
	{ "recipients/hour",	LIMIT_RCPT_HOUR },
	{ "recipients/day",	LIMIT_RCPT_DAY },
	{ "size",		LIMIT_SIZE },
	{ "recipients/message",	LIMIT_RCPT_PER_MSG },
	{ "messages/week",	LIMIT_COUNT },
	{ "Size",		LIMIT_COUNT },
	{ "size ",		LIMIT_COUNT },
	{ "",			LIMIT_COUNT },
};

static void
test_limit_names_round_trip(void **state)
{
	enum state_limit	 l;
	size_t			 i;
	int			 rc;

	for (i = 0; i < NROWS(limit_rows); i++) {
		l = LIMIT_COUNT;
		rc = state_limit_lookup(limit_rows[i].name, &l);
		if (limit_rows[i].limit == LIMIT_COUNT) {
			if (rc != -1)
				fail_msg("row %zu \"%s\": accepted", i,
				    limit_rows[i].name);
			continue;
		}
		if (rc != 0 || l != limit_rows[i].limit)
			fail_msg("row %zu \"%s\": got %d, limit %d", i,
			    limit_rows[i].name, rc, l);
		assert_string_equal(state_limit_name(l), limit_rows[i].name);
	}
	assert_string_equal(state_limit_name(LIMIT_COUNT), "unknown");
	assert_string_equal(state_domain_state_name(DOMAIN_PENDING),
	    "pending");
	assert_string_equal(state_domain_state_name(DOMAIN_REVOKED),
	    "revoked");
	assert_string_equal(state_domain_state_name(DOMAIN_REVOKED + 1),
	    "unknown");
}

static void
test_networks_are_unique_sorted_and_go_with_the_connector(void **state)
{
	struct rows	 rows;
	int64_t		 id;

	assert_int_equal(state_connector_add("acme", NOW, &id), STATE_OK);
	assert_int_equal(state_network_add(id, "2001:db8::/32"), STATE_OK);
	assert_int_equal(state_network_add(id, "192.0.2.0/24"), STATE_OK);
	assert_int_equal(state_network_add(id, "192.0.2.0/24"),
	    STATE_EXISTS);
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(state_network_list(id, collect_string, &rows),
	    STATE_OK);
	assert_int_equal(rows.n, 2);
	assert_string_equal(rows.r[0].s, "192.0.2.0/24");
	assert_string_equal(rows.r[1].s, "2001:db8::/32");
	/* Foreign key: no such connector. */
	assert_int_not_equal(state_network_add(id + 1, "10.0.0.0/8"),
	    STATE_OK);
	assert_int_equal(raw_int("SELECT count(*) FROM connector_network"), 2);
	assert_int_equal(state_connector_del(id), STATE_OK);
	assert_int_equal(raw_int("SELECT count(*) FROM connector_network"), 0);
}

static void
test_credentials_keep_newest_and_find_by_user(void **state)
{
	struct rows	 rows;
	uint8_t		 salt[STATE_SALT_LEN], hash[STATE_HASH_LEN];
	int64_t		 acme, beta;
	int		 i;

	assert_int_equal(state_connector_add("acme", NOW, &acme), STATE_OK);
	assert_int_equal(state_connector_add("beta", NOW, &beta), STATE_OK);
	for (i = 1; i <= 3; i++) {
		memset(salt, i, sizeof(salt));
		memset(hash, 0x10 + i, sizeof(hash));
		assert_int_equal(state_credential_add(acme, "acme", salt, hash,
		    NOW + i), STATE_OK);
	}
	assert_int_equal(state_credential_add(beta, "beta", salt, hash, NOW),
	    STATE_OK);

	memset(&rows, 0, sizeof(rows));
	assert_int_equal(state_credential_by_user("acme", collect_credential,
	    &rows), STATE_OK);
	assert_int_equal(rows.n, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(rows.r[i].cred.connector, acme);
		assert_string_equal(rows.r[i].cred.username, "acme");
		assert_int_equal(rows.r[i].cred.created, NOW + i + 1);
		memset(salt, i + 1, sizeof(salt));
		memset(hash, 0x11 + i, sizeof(hash));
		assert_memory_equal(rows.r[i].cred.salt, salt, sizeof(salt));
		assert_memory_equal(rows.r[i].cred.hash, hash, sizeof(hash));
	}

	/* Rotation with --keep-old: the newest stays. */
	assert_int_equal(state_credential_keep(acme, 1), STATE_OK);
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(state_credential_list(acme, collect_credential,
	    &rows), STATE_OK);
	assert_int_equal(rows.n, 1);
	assert_int_equal(rows.r[0].cred.created, NOW + 3);

	assert_int_equal(state_credential_keep(acme, 0), STATE_OK);
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(state_credential_list(acme, collect_credential,
	    &rows), STATE_OK);
	assert_int_equal(rows.n, 0);
	assert_int_equal(state_credential_by_user("acme", collect_credential,
	    &rows), STATE_NOTFOUND);
	/* The other connector's credential was not touched. */
	assert_int_equal(state_credential_by_user("beta", collect_credential,
	    &rows), STATE_OK);
	assert_int_equal(rows.n, 1);
	assert_int_equal(state_connector_del(beta), STATE_OK);
	assert_int_equal(raw_int("SELECT count(*) FROM credential"), 0);
}

static void
test_domain_is_authorized_per_connector(void **state)
{
	struct state_domain	 d;
	struct rows		 rows;
	int64_t			 acme, beta, n = -1;

	assert_int_equal(state_connector_add("acme", NOW, &acme), STATE_OK);
	assert_int_equal(state_connector_add("beta", NOW, &beta), STATE_OK);
	assert_int_equal(state_domain_add(acme, "example.com", TOKEN_A, NOW),
	    STATE_OK);
	assert_int_equal(state_domain_add(acme, "example.com", TOKEN_B, NOW),
	    STATE_EXISTS);
	assert_int_equal(state_domain_add(beta, "example.com", TOKEN_B,
	    NOW + 1), STATE_OK);
	assert_int_equal(state_domain_add(acme, "a.example.com", TOKEN_B,
	    NOW), STATE_OK);

	assert_int_equal(state_domain_get(acme, "example.com", &d), STATE_OK);
	assert_int_equal(d.connector, acme);
	assert_string_equal(d.connector_name, "acme");
	assert_string_equal(d.name, "example.com");
	assert_string_equal(d.token, TOKEN_A);
	assert_int_equal(d.state, DOMAIN_PENDING);
	assert_int_equal(d.created, NOW);
	assert_int_equal(d.state_since, NOW);
	assert_int_equal(d.last_check, 0);
	assert_int_equal(d.next_check, 0);
	assert_string_equal(d.diag, "");
	assert_int_equal(state_domain_get(beta, "a.example.com", &d),
	    STATE_NOTFOUND);

	assert_int_equal(state_domain_count("example.com", &n), STATE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(state_domain_count("example.org", &n), STATE_OK);
	assert_int_equal(n, 0);

	memset(&rows, 0, sizeof(rows));
	assert_int_equal(state_domain_list(0, NULL, collect_domain, &rows),
	    STATE_OK);
	assert_int_equal(rows.n, 3);
	assert_string_equal(rows.r[0].d.name, "a.example.com");
	assert_string_equal(rows.r[1].d.connector_name, "acme");
	assert_string_equal(rows.r[2].d.connector_name, "beta");
	assert_string_equal(rows.r[2].d.token, TOKEN_B);

	memset(&rows, 0, sizeof(rows));
	assert_int_equal(state_domain_list(beta, NULL, collect_domain, &rows),
	    STATE_OK);
	assert_int_equal(rows.n, 1);
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(state_domain_list(0, "example.com", collect_domain,
	    &rows), STATE_OK);
	assert_int_equal(rows.n, 2);
	assert_int_equal(state_domain_list(0, "example.org", collect_domain,
	    &rows), STATE_NOTFOUND);

	assert_int_equal(state_domain_get(acme, "example.com", &d), STATE_OK);
	assert_int_equal(state_domain_del(d.id), STATE_OK);
	assert_int_equal(state_domain_del(d.id), STATE_NOTFOUND);
	assert_int_equal(state_domain_count("example.com", &n), STATE_OK);
	assert_int_equal(n, 1);
	/* A connector's domains go with it. */
	assert_int_equal(state_connector_del(beta), STATE_OK);
	assert_int_equal(state_domain_count("example.com", &n), STATE_OK);
	assert_int_equal(n, 0);
}

static void
test_keys_are_orphaned_by_the_last_authorization(void **state)
{
	struct state_domain	 d;
	struct rows		 rows;
	int64_t			 acme;

	assert_int_equal(state_connector_add("acme", NOW, &acme), STATE_OK);
	assert_int_equal(state_domain_add(acme, "example.com", TOKEN_A, NOW),
	    STATE_OK);
	assert_int_equal(state_key_add("example.com", "sendgate-rsa",
	    "rsa-sha256", "UlNB", NOW), STATE_OK);
	assert_int_equal(state_key_add("example.com", "sendgate-ed25519",
	    "ed25519-sha256", "RUQ=", NOW), STATE_OK);
	assert_int_equal(state_key_add("example.com", "sendgate-rsa",
	    "rsa-sha256", "other", NOW), STATE_EXISTS);

	memset(&rows, 0, sizeof(rows));
	assert_int_equal(state_key_list("example.com", collect_key, &rows),
	    STATE_OK);
	assert_int_equal(rows.n, 2);
	assert_string_equal(rows.r[0].k.selector, "sendgate-ed25519");
	assert_string_equal(rows.r[0].k.algorithm, "ed25519-sha256");
	assert_string_equal(rows.r[0].k.pubkey, "RUQ=");
	assert_string_equal(rows.r[1].k.selector, "sendgate-rsa");
	assert_string_equal(rows.r[1].k.domain, "example.com");
	assert_int_equal(rows.r[1].k.created, NOW);
	assert_int_equal(state_key_list("example.org", collect_key, &rows),
	    STATE_NOTFOUND);

	memset(&rows, 0, sizeof(rows));
	assert_int_equal(state_key_orphans(collect_key, &rows), STATE_OK);
	assert_int_equal(rows.n, 0);
	assert_int_equal(state_domain_get(acme, "example.com", &d), STATE_OK);
	assert_int_equal(state_domain_del(d.id), STATE_OK);
	assert_int_equal(state_key_orphans(collect_key, &rows), STATE_OK);
	assert_int_equal(rows.n, 2);

	assert_int_equal(state_key_del_domain("example.com"), STATE_OK);
	assert_int_equal(state_key_list("example.com", collect_key, &rows),
	    STATE_NOTFOUND);
}

static void
test_events_keep_actor_and_order(void **state)
{
	char		 what[STATE_EVENT_MAX + 1];
	struct rows	 rows;
	int		 i;

	for (i = 0; i < 5; i++) {
		snprintf(what, sizeof(what), "event %d", i);
		assert_int_equal(state_event(NOW + i, i == 4 ? 1000 : 0, what),
		    STATE_OK);
	}
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(state_event_list(3, collect_string, &rows),
	    STATE_OK);
	assert_int_equal(rows.n, 3);
	assert_string_equal(rows.r[0].s, "event 2");
	assert_string_equal(rows.r[2].s, "event 4");
	assert_int_equal(raw_int("SELECT actor FROM event WHERE what = "
	    "'event 4'"), 1000);
	assert_int_equal(raw_int("SELECT time FROM event WHERE what = "
	    "'event 0'"), NOW);

	/* The longest event that fits, and one byte more. */
	memset(what, 'x', sizeof(what));
	what[STATE_EVENT_MAX - 1] = '\0';
	assert_int_equal(state_event(NOW, 0, what), STATE_OK);
	what[STATE_EVENT_MAX - 1] = 'x';
	what[STATE_EVENT_MAX] = '\0';
	assert_int_equal(state_event(NOW, 0, what), STATE_ERROR);
	assert_string_equal(state_error(), "event text too long");
	assert_int_equal(raw_int("SELECT count(*) FROM event"), 6);
}

static void
test_rollback_leaves_nothing(void **state)
{
	struct state_connector	 c;
	int64_t			 id;

	assert_int_equal(state_begin(), STATE_OK);
	assert_int_equal(state_connector_add("acme", NOW, &id), STATE_OK);
	assert_int_equal(state_event(NOW, 0, "connector acme created"),
	    STATE_OK);
	state_rollback();
	assert_int_equal(state_connector_get("acme", &c), STATE_NOTFOUND);
	assert_int_equal(raw_int("SELECT count(*) FROM event"), 0);
	/* Rolling back outside a transaction is harmless. */
	state_rollback();

	assert_int_equal(state_begin(), STATE_OK);
	assert_int_equal(state_begin(), STATE_ERROR);
	assert_int_equal(state_connector_add("acme", NOW, &id), STATE_OK);
	assert_int_equal(state_commit(), STATE_OK);
	assert_int_equal(raw_int("SELECT count(*) FROM connector"), 1);
	assert_int_equal(state_commit(), STATE_ERROR);
}

/*
 * Values another writer (a bug, a disk error, a person with sqlite3)
 * left in the file: each row damages one value of the populated
 * database; the list function that reads it must fail with
 * STATE_ERROR, hand nothing to its callback, and say why.
 */
static const struct {
	const char	*what;
	const char	*sql;
	enum reader	 reader;
} corrupt_rows[] = {
	{ "NUL in connector name", "UPDATE connector SET name = "
	    "CAST(X'6163006d65' AS TEXT)", READ_CONNECTORS },
	{ "upper case connector name", "UPDATE connector SET name = 'ACME'",
	    READ_CONNECTORS },
	{ "connector name with a quote", "UPDATE connector SET name = "
	    "'ac''me'", READ_CONNECTORS },
	{ "65-byte connector name", "UPDATE connector SET name = '"
	    A64 "a'", READ_CONNECTORS },
	{ "negative limit", "UPDATE connector SET lim_msg_hour = -5",
	    READ_CONNECTORS },
	{ "NUL in network", "UPDATE connector_network SET cidr = "
	    "CAST(X'31300030' AS TEXT)", READ_NETWORKS },
	{ "65-byte username", "UPDATE credential SET username = '" A64 "a'",
	    READ_CREDENTIALS },
	{ "15-byte salt", "UPDATE credential SET salt = zeroblob(15)",
	    READ_CREDENTIALS },
	{ "17-byte salt", "UPDATE credential SET salt = zeroblob(17)",
	    READ_CREDENTIALS },
	{ "31-byte hash", "UPDATE credential SET hash = zeroblob(31)",
	    READ_CREDENTIALS },
	{ "empty hash", "UPDATE credential SET hash = X''",
	    READ_CREDENTIALS },
	{ "token too short", "UPDATE domain SET token = 'abc'",
	    READ_DOMAINS },
	{ "token too long", "UPDATE domain SET token = '" TOKEN_A "0'",
	    READ_DOMAINS },
	{ "token in upper case", "UPDATE domain SET token = upper(token)",
	    READ_DOMAINS },
	{ "token with a quote", "UPDATE domain SET token = "
	    "'0123456789abcdef0123456789abcdef0123456'''", READ_DOMAINS },
	{ "unknown domain state", "PRAGMA ignore_check_constraints = ON;"
	    "UPDATE domain SET state = 'bogus'", READ_DOMAINS },
	{ "256-byte domain name", "UPDATE domain SET name = '" A64 A64 A64
	    A64 "'", READ_DOMAINS },
	{ "NUL in diagnosis", "UPDATE domain SET diag = "
	    "CAST(X'6f6b0078' AS TEXT)", READ_DOMAINS },
	{ "NUL in selector", "UPDATE dkim_key SET selector = "
	    "CAST(X'730073' AS TEXT)", READ_KEYS },
	{ "1024-byte public key", "UPDATE dkim_key SET public_key = "
	    "hex(zeroblob(512))", READ_KEYS },
	{ "NUL in event", "UPDATE event SET what = "
	    "CAST(X'6576006e74' AS TEXT)", READ_EVENTS },
	{ "event longer than an event line", "UPDATE event SET what = "
	    "hex(zeroblob(320))", READ_EVENTS },
};

static void
test_corrupt_values_read_back_are_refused(void **state)
{
	char		 longevent[STATE_EVENT_MAX + 1], failed[4096];
	struct rows	 rows;
	size_t		 i, o = 0;
	int64_t		 id;
	int		 rc;

	memset(longevent, 'x', STATE_EVENT_MAX);
	longevent[STATE_EVENT_MAX] = '\0';
	for (i = 0; i < NROWS(corrupt_rows); i++) {
		state_close();
		unlink(path);
		open_ok();
		id = populate();
		raw_exec(corrupt_rows[i].sql);
		/* Leave a different error behind, so a stale one shows. */
		assert_int_equal(state_event(NOW, 0, longevent), STATE_ERROR);
		memset(&rows, 0, sizeof(rows));
		rc = read_all(corrupt_rows[i].reader, id, &rows);
		if (rc != STATE_ERROR || rows.n != 0)
			fail_msg("row %zu (%s): rc %d, %zu rows", i,
			    corrupt_rows[i].what, rc, rows.n);
		/* Every row is checked; the failures are listed at the end. */
		if (strstr(state_error(), "corrupt") == NULL &&
		    o < sizeof(failed))
			o += snprintf(failed + o, sizeof(failed) - o,
			    "\n  row %zu (%s): state_error() says \"%s\"", i,
			    corrupt_rows[i].what, state_error());
	}
	if (o > 0)
		fail_msg("refused without saying why:%s", failed);
}

/* The get functions refuse what the list functions refuse. */
static void
test_get_refuses_corrupt_values_too(void **state)
{
	struct state_connector	 c;
	struct state_domain	 d;
	int64_t			 id;

	id = populate();
	raw_exec("UPDATE connector SET lim_size = -1");
	assert_int_equal(state_connector_get("acme", &c), STATE_ERROR);
	raw_exec("UPDATE connector SET lim_size = NULL;"
	    "UPDATE domain SET token = 'not a token'");
	assert_int_equal(state_connector_get("acme", &c), STATE_OK);
	assert_int_equal(state_domain_get(id, "example.com", &d),
	    STATE_ERROR);
}

/*
 * Strings full of SQL go in and come out as they are, match only
 * themselves, and leave every table in place.
 */
static const char *const sql_rows[] = {
	"x'; DROP TABLE domain; --",
	"' OR '1'='1",
	"\" OR \"\"=\"",
	"); DELETE FROM connector; --",
	"%",
	"_%",
	"?1",
	"\\'",
	"a' || (SELECT hex(salt) FROM credential) || '",
};

static void
test_sql_metacharacters_are_stored_literally(void **state)
{
	struct state_connector	 c;
	struct state_domain	 d;
	struct rows		 rows;
	char			 buf[STATE_EVENT_MAX];
	size_t			 i;
	int64_t			 id, n, bad;

	id = populate();
	for (i = 0; i < NROWS(sql_rows); i++) {
		if (state_domain_get(id, sql_rows[i], &d) != STATE_NOTFOUND ||
		    state_domain_count(sql_rows[i], &n) != STATE_OK || n != 0)
			fail_msg("row %zu \"%s\": matched before it was "
			    "stored", i, sql_rows[i]);
		if (state_domain_add(id, sql_rows[i], TOKEN_B, NOW) !=
		    STATE_OK || state_event(NOW, 0, sql_rows[i]) != STATE_OK)
			fail_msg("row %zu \"%s\": not stored: %s", i,
			    sql_rows[i], state_error());
		if (state_domain_get(id, sql_rows[i], &d) != STATE_OK ||
		    strcmp(d.name, sql_rows[i]) != 0)
			fail_msg("row %zu \"%s\": read back \"%s\"", i,
			    sql_rows[i], d.name);
		memset(&rows, 0, sizeof(rows));
		if (state_event_list(1, collect_string, &rows) != STATE_OK ||
		    rows.n != 1 || strcmp(rows.r[0].s, sql_rows[i]) != 0)
			fail_msg("row %zu \"%s\": event read back \"%s\"", i,
			    sql_rows[i], rows.r[0].s);
		/* A connector name must also pass validation to be read. */
		if (state_connector_add(sql_rows[i], NOW, &bad) != STATE_OK ||
		    state_connector_get(sql_rows[i], &c) != STATE_ERROR)
			fail_msg("row %zu \"%s\": connector name read back", i,
			    sql_rows[i]);
		raw_text("SELECT count(*) FROM connector", buf, sizeof(buf));
		if (strtoll(buf, NULL, 10) != (int64_t)i + 2)
			fail_msg("row %zu \"%s\": %s connectors", i,
			    sql_rows[i], buf);
	}
	assert_int_equal(state_domain_count("example.com", &n), STATE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(raw_int("SELECT count(*) FROM domain"),
	    NROWS(sql_rows) + 1);
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'table'"), 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_new_database_gets_the_current_schema_in_wal_mode, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_empty_file_is_migrated_to_the_current_schema, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_every_table,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_refused_database_is_left_as_it_is, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_corrupt_page_is_refused_and_left_as_it_is, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_connectors_are_unique_listed_by_name_and_deleted, setup_open, teardown),
		cmocka_unit_test_setup_teardown(
		    test_enabled_and_limits_are_set_and_reset, setup_open, teardown),
		cmocka_unit_test(test_limit_names_round_trip),
		cmocka_unit_test_setup_teardown(
		    test_networks_are_unique_sorted_and_go_with_the_connector,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(
		    test_credentials_keep_newest_and_find_by_user, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_domain_is_authorized_per_connector,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(
		    test_keys_are_orphaned_by_the_last_authorization,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(
		    test_events_keep_actor_and_order, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_leaves_nothing,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(
		    test_corrupt_values_read_back_are_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_get_refuses_corrupt_values_too, setup_open, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sql_metacharacters_are_stored_literally, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_rate_counters_are_saved_replaced_and_cascade,
		    setup_open, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
