/*
 * DKIM key rotation in the state store (lka/db_domain.c) and the
 * selector names of a rotation (lka/dkim_selector.c): schema 3 keys
 * migrate as active, pending keys, promotion (pending -> active, active
 * -> retired, both or neither), the last check's result per key, single
 * deletion.  Against a real SQLite file; the test reads the file with
 * its own connection where the code under test could hide a mistake.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "unit.h"

#include "dkim_selector.h"
#include "state.h"
#include "state_test.h"

#define NOW		1700000000LL	/* 2023-11-14T22:13:20Z */
#define KEYS_MAX	8

struct keys {
	size_t			 n;
	struct state_key	 k[KEYS_MAX];
};

static int
collect(const struct state_key *k, void *arg)
{
	struct keys	*ks = arg;

	assert_true(ks->n < KEYS_MAX);
	ks->k[ks->n++] = *k;
	return 0;
}

/* The domain's keys, by selector. */
static const struct keys *
list(const char *domain)
{
	static struct keys	 ks;
	int			 rc;

	memset(&ks, 0, sizeof(ks));
	rc = state_key_list(domain, collect, &ks);
	assert_true(rc == STATE_OK || rc == STATE_NOTFOUND);
	return &ks;
}

static const struct state_key *
key(const char *domain, const char *selector)
{
	static struct state_key	 k;

	assert_int_equal(state_key_get(domain, selector, &k), STATE_OK);
	return &k;
}

static void
raw_exec(const char *sql)
{
	sqlite3	*raw;
	char	*msg = NULL;

	if (sqlite3_open_v2(path, &raw, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
		fail_msg("sqlite3_open %s", path);
	if (sqlite3_exec(raw, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(raw);
}

/* Two active keys, as domain add makes them. */
static void
add_active(void)
{
	assert_int_equal(state_key_add("example.com", "sendgate-rsa",
	    "rsa-sha256", "UlNBMQ==", NOW), STATE_OK);
	assert_int_equal(state_key_add("example.com", "sendgate-ed25519",
	    "ed25519-sha256", "RUQx", NOW), STATE_OK);
}

static void
test_schema_3_keys_become_active_since_they_were_made(void **state)
{
	const struct keys	*ks;

	/* The dkim_key table as schema 3 had it (migration 3 -> 4 only
	 * touches that table). */
	raw_exec("CREATE TABLE dkim_key ("
	    " id INTEGER PRIMARY KEY, domain TEXT NOT NULL,"
	    " selector TEXT NOT NULL, algorithm TEXT NOT NULL,"
	    " public_key TEXT NOT NULL, created INTEGER NOT NULL,"
	    " UNIQUE (domain, selector));"
	    "INSERT INTO dkim_key (domain, selector, algorithm, public_key,"
	    " created) VALUES ('example.com', 'sendgate-rsa', 'rsa-sha256',"
	    " 'UlNBMQ==', 1600000000);"
	    "PRAGMA user_version = 3;");
	open_ok();
	ks = list("example.com");
	assert_int_equal(ks->n, 1);
	assert_int_equal(ks->k[0].status, KEY_ACTIVE);
	assert_int_equal(ks->k[0].status_since, 1600000000);
	assert_string_equal(ks->k[0].record, "");
	assert_string_equal(state_key_status_name(ks->k[0].status), "active");
	/* The new constraint holds for migrated rows too. */
	assert_int_equal(state_key_add("example.com", "sendgate-2-rsa",
	    "rsa-sha256", "UlNBMg==", NOW), STATE_EXISTS);
}

static void
test_pending_key_is_one_per_algorithm_and_new_selector(void **state)
{
	const struct state_key	*k;

	add_active();
	assert_int_equal(state_key_add_pending("example.com",
	    "sendgate-202311-rsa", "rsa-sha256", "UlNBMg==", NOW + 10),
	    STATE_OK);
	k = key("example.com", "sendgate-202311-rsa");
	assert_int_equal(k->status, KEY_PENDING);
	assert_int_equal(k->status_since, NOW + 10);
	assert_string_equal(k->pubkey, "UlNBMg==");
	/* A second pending key of the algorithm, a selector taken. */
	assert_int_equal(state_key_add_pending("example.com",
	    "sendgate-202311b-rsa", "rsa-sha256", "UlNBMw==", NOW),
	    STATE_EXISTS);
	assert_int_equal(state_key_add_pending("example.com", "sendgate-rsa",
	    "rsa-sha256", "UlNBMw==", NOW), STATE_EXISTS);
	/* Another algorithm, another domain: fine. */
	assert_int_equal(state_key_add_pending("example.com",
	    "sendgate-202311-ed25519", "ed25519-sha256", "RUQy", NOW),
	    STATE_OK);
	assert_int_equal(state_key_add_pending("example.org",
	    "sendgate-202311-rsa", "rsa-sha256", "UlNBMg==", NOW), STATE_OK);
	assert_int_equal(list("example.com")->n, 4);
}

static void
test_promote_retires_the_active_key_of_its_algorithm(void **state)
{
	const struct state_key	*k;
	char			 old[STATE_SELECTOR_MAX];

	add_active();
	assert_int_equal(state_key_add_pending("example.com",
	    "sendgate-202311-rsa", "rsa-sha256", "UlNBMg==", NOW), STATE_OK);
	assert_int_equal(state_key_promote("example.com",
	    "sendgate-202311-rsa", NOW + 100, old, sizeof(old)), STATE_OK);
	assert_string_equal(old, "sendgate-rsa");
	k = key("example.com", "sendgate-202311-rsa");
	assert_int_equal(k->status, KEY_ACTIVE);
	assert_int_equal(k->status_since, NOW + 100);
	k = key("example.com", "sendgate-rsa");
	assert_int_equal(k->status, KEY_RETIRED);
	assert_int_equal(k->status_since, NOW + 100);
	/* The other algorithm is untouched. */
	k = key("example.com", "sendgate-ed25519");
	assert_int_equal(k->status, KEY_ACTIVE);
	assert_int_equal(k->status_since, NOW);
	/* Only a pending key promotes. */
	assert_int_equal(state_key_promote("example.com",
	    "sendgate-202311-rsa", NOW, old, sizeof(old)), STATE_NOTFOUND);
	assert_int_equal(state_key_promote("example.com", "sendgate-rsa",
	    NOW, old, sizeof(old)), STATE_NOTFOUND);
	assert_int_equal(state_key_promote("example.com", "nosuch", NOW, old,
	    sizeof(old)), STATE_NOTFOUND);
	/* No active key of the algorithm: nothing to retire. */
	assert_int_equal(state_key_add_pending("example.org", "s-ed25519",
	    "ed25519-sha256", "RUQy", NOW), STATE_OK);
	assert_int_equal(state_key_promote("example.org", "s-ed25519", NOW,
	    old, sizeof(old)), STATE_OK);
	assert_string_equal(old, "");
	assert_int_equal(key("example.org", "s-ed25519")->status, KEY_ACTIVE);
}

static void
test_promote_in_a_rolled_back_transaction_changes_nothing(void **state)
{
	char	 old[STATE_SELECTOR_MAX];

	add_active();
	assert_int_equal(state_key_add_pending("example.com",
	    "sendgate-202311-rsa", "rsa-sha256", "UlNBMg==", NOW), STATE_OK);
	assert_int_equal(state_begin(), STATE_OK);
	assert_int_equal(state_key_promote("example.com",
	    "sendgate-202311-rsa", NOW + 1, old, sizeof(old)), STATE_OK);
	state_rollback();
	assert_int_equal(key("example.com", "sendgate-202311-rsa")->status,
	    KEY_PENDING);
	assert_int_equal(key("example.com", "sendgate-rsa")->status,
	    KEY_ACTIVE);
}

static void
test_record_result_and_single_delete(void **state)
{
	add_active();
	assert_int_equal(state_key_set_record("example.com", "sendgate-rsa",
	    "missing"), STATE_OK);
	assert_string_equal(key("example.com", "sendgate-rsa")->record,
	    "missing");
	assert_string_equal(key("example.com", "sendgate-ed25519")->record,
	    "");
	assert_int_equal(state_key_set_record("example.com", "nosuch", "ok"),
	    STATE_NOTFOUND);
	assert_int_equal(state_key_del("example.com", "sendgate-rsa"),
	    STATE_OK);
	assert_int_equal(state_key_del("example.com", "sendgate-rsa"),
	    STATE_NOTFOUND);
	assert_int_equal(list("example.com")->n, 1);
	assert_string_equal(list("example.com")->k[0].selector,
	    "sendgate-ed25519");
}

/*
 * A status outside the CHECK constraint (a hand-edited file) never
 * reaches the decoder: the quick check at open refuses the file.
 */
static void
test_corrupt_status_is_refused(void **state)
{
	char	 err[512];

	add_active();
	state_close();
	raw_exec("PRAGMA ignore_check_constraints = ON;"
	    "UPDATE dkim_key SET status = 'bogus' "
	    "WHERE selector = 'sendgate-rsa';");
	assert_int_equal(state_open(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "CHECK constraint failed in dkim_key"));
}

/* Selector names ------------------------------------------------------ */

struct taken {
	const char	*names[32];
	int		 n;
	int		 fail;
};

static int
is_taken(const char *sel, void *arg)
{
	struct taken	*t = arg;
	int		 i;

	if (t->fail)
		return -1;
	for (i = 0; i < t->n; i++)
		if (strcmp(t->names[i], sel) == 0)
			return 1;
	return 0;
}

static void
test_rotated_selector_has_the_month_and_a_letter_when_taken(void **state)
{
	struct taken	 t = { { "sendgate-202311-rsa" }, 1, 0 };
	struct taken	 none = { { NULL }, 0, 0 };
	char		 buf[STATE_SELECTOR_MAX], names[26][32];
	int		 i;

	assert_int_equal(dkim_selector_rotated("sendgate", "rsa", NOW,
	    is_taken, &none, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sendgate-202311-rsa");
	assert_int_equal(dkim_selector_rotated("sendgate", "rsa", NOW,
	    is_taken, &t, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sendgate-202311b-rsa");
	assert_int_equal(dkim_selector_rotated("s", "ed25519",
	    1704067199, is_taken, &none, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "s-202312-ed25519");	/* UTC, not local */
	/* Every letter of the month taken. */
	snprintf(names[0], sizeof(names[0]), "sendgate-202311-rsa");
	t.names[0] = names[0];
	for (i = 1; i < 26; i++) {
		snprintf(names[i], sizeof(names[i]), "sendgate-202311%c-rsa",
		    'a' + i);
		t.names[i] = names[i];
	}
	t.n = 26;
	assert_int_equal(dkim_selector_rotated("sendgate", "rsa", NOW,
	    is_taken, &t, buf, sizeof(buf)), -1);
	t.n = 25;
	assert_int_equal(dkim_selector_rotated("sendgate", "rsa", NOW,
	    is_taken, &t, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sendgate-202311z-rsa");
	/* Too long for the buffer; the callback fails. */
	assert_int_equal(dkim_selector_rotated("sendgate", "rsa", NOW,
	    is_taken, &none, buf, 19), -1);
	none.fail = 1;
	assert_int_equal(dkim_selector_rotated("sendgate", "rsa", NOW,
	    is_taken, &none, buf, sizeof(buf)), -1);
}

static void
test_delegated_selectors_alternate(void **state)
{
	char	 buf[STATE_SELECTOR_MAX];

	assert_int_equal(dkim_selector_delegated("sendgate", "rsa", 0, buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "sendgate-a-rsa");
	assert_int_equal(dkim_selector_delegated("sendgate", "ed25519", 1,
	    buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sendgate-b-ed25519");
	assert_int_equal(dkim_selector_other("sendgate", "rsa",
	    "sendgate-a-rsa", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sendgate-b-rsa");
	assert_int_equal(dkim_selector_other("sendgate", "rsa",
	    "sendgate-b-rsa", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sendgate-a-rsa");
	/* No key in use, or one from before delegation: a. */
	assert_int_equal(dkim_selector_other("sendgate", "rsa", "", buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "sendgate-a-rsa");
	assert_int_equal(dkim_selector_other("sendgate", "rsa",
	    "sendgate-rsa", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sendgate-a-rsa");
	assert_int_equal(dkim_selector_delegated("sendgate", "rsa", 0, buf,
	    8), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_schema_3_keys_become_active_since_they_were_made,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pending_key_is_one_per_algorithm_and_new_selector,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(
		    test_promote_retires_the_active_key_of_its_algorithm,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(
		    test_promote_in_a_rolled_back_transaction_changes_nothing,
		    setup_open, teardown),
		cmocka_unit_test_setup_teardown(
		    test_record_result_and_single_delete, setup_open,
		    teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_status_is_refused,
		    setup_open, teardown),
		cmocka_unit_test(
		    test_rotated_selector_has_the_month_and_a_letter_when_taken),
		cmocka_unit_test(test_delegated_selectors_alternate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
