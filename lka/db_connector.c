/*
 * The state store: connectors, their source networks and credentials.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "db_local.h"
#include "state.h"

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

#define CONNECTOR_COLUMNS \
	"c.id, c.name, c.enabled, c.created, c.lim_msg_minute, " \
	"c.lim_msg_hour, c.lim_msg_day, c.lim_rcpt_minute, c.lim_rcpt_hour, " \
	"c.lim_rcpt_day, c.lim_size, c.lim_rcpt_per_msg, " \
	"(SELECT count(*) FROM domain d WHERE d.connector = c.id)"

#define CREDENTIAL_COLUMNS \
	"id, connector, username, salt, hash, created FROM credential"

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

int
state_connector_add(const char *name, int64_t now, int64_t *idp)
{
	int	 rc;

	rc = db_exec(db_prepare("INSERT INTO connector (name, created) "
	    "VALUES (?, ?)", "ti", name, now));
	if (rc == STATE_OK)
		*idp = sqlite3_last_insert_rowid(db_conn);
	return rc;
}

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
