/*
 * auth: connectors by password and by source network, sender domains by
 * the stored domain state; over a real state database in a temporary
 * directory.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "auth.h"
#include "config.h"
#include "credential.h"
#include "state.h"

static char	 dir[64];
static char	 pw_web[CREDENTIAL_PASSWORD_LEN + 1];
static char	 pw_off[CREDENTIAL_PASSWORD_LEN + 1];
static int64_t	 id_web, id_off, id_exo;

static void
add_connector(const char *name, int64_t *id, char *pw)
{
	uint8_t	 salt[CREDENTIAL_SALT_LEN], hash[CREDENTIAL_HASH_LEN];

	assert_int_equal(state_connector_add(name, 1000, id), STATE_OK);
	if (pw == NULL)
		return;
	assert_int_equal(credential_generate(pw, CREDENTIAL_PASSWORD_LEN + 1),
	    0);
	assert_int_equal(credential_new(pw, salt, hash), 0);
	assert_int_equal(state_credential_add(*id, name, salt, hash, 1000),
	    STATE_OK);
}

static int
setup(void **state)
{
	char	 path[128], err[256];

	snprintf(dir, sizeof(dir), "/tmp/sendgate-auth-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_DB_FILE);
	if (state_open(path, err, sizeof(err)) == -1)
		return -1;
	add_connector("web01", &id_web, pw_web);
	add_connector("off", &id_off, pw_off);
	add_connector("exo", &id_exo, NULL);
	assert_int_equal(state_connector_set_enabled(id_off, 0), STATE_OK);
	assert_int_equal(state_network_add(id_exo, "192.0.2.0/24"), STATE_OK);
	assert_int_equal(state_network_add(id_exo, "2001:db8::/32"),
	    STATE_OK);
	assert_int_equal(state_network_add(id_off, "198.51.100.0/24"),
	    STATE_OK);
	return 0;
}

static int
teardown(void **state)
{
	char	 cmd[128];

	state_close();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_password(void **state)
{
	struct state_connector	 c;
	char			 why[128];
	char			 wrong[CREDENTIAL_PASSWORD_LEN + 1];

	assert_int_equal(auth_password("web01", pw_web, strlen(pw_web), &c,
	    why, sizeof(why)), 0);
	assert_string_equal(c.name, "web01");
	assert_int_equal(c.id, id_web);

	strlcpy(wrong, pw_web, sizeof(wrong));
	wrong[0] ^= 1;
	assert_int_equal(auth_password("web01", wrong, strlen(wrong), &c, why,
	    sizeof(why)), -1);
	assert_string_equal(why, "wrong password");
	assert_int_equal(auth_password("web01", pw_web, strlen(pw_web) - 1,
	    &c, why, sizeof(why)), -1);
	assert_int_equal(auth_password("web01", "", 0, &c, why, sizeof(why)),
	    -1);
	/* Another connector's password is not this one's. */
	assert_int_equal(auth_password("web01", pw_off, strlen(pw_off), &c,
	    why, sizeof(why)), -1);
	assert_int_equal(auth_password("nosuch", pw_web, strlen(pw_web), &c,
	    why, sizeof(why)), -1);
	assert_string_equal(why, "unknown user");
	assert_int_equal(auth_password("off", pw_off, strlen(pw_off), &c, why,
	    sizeof(why)), -1);
	assert_string_equal(why, "connector off is disabled");
	/* SQL metacharacters are a user name like any other. */
	assert_int_equal(auth_password("web01' OR '1'='1", pw_web,
	    strlen(pw_web), &c, why, sizeof(why)), -1);
	assert_string_equal(why, "unknown user");
}

static void
test_rotation_keeps_two(void **state)
{
	struct state_connector	 c;
	char			 why[128], pw2[CREDENTIAL_PASSWORD_LEN + 1];
	uint8_t			 salt[CREDENTIAL_SALT_LEN];
	uint8_t			 hash[CREDENTIAL_HASH_LEN];

	assert_int_equal(credential_generate(pw2, sizeof(pw2)), 0);
	assert_int_equal(credential_new(pw2, salt, hash), 0);
	assert_int_equal(state_credential_keep(id_web, 1), STATE_OK);
	assert_int_equal(state_credential_add(id_web, "web01", salt, hash,
	    2000), STATE_OK);
	assert_int_equal(auth_password("web01", pw_web, strlen(pw_web), &c,
	    why, sizeof(why)), 0);
	assert_int_equal(auth_password("web01", pw2, strlen(pw2), &c, why,
	    sizeof(why)), 0);
	assert_int_equal(state_credential_keep(id_web, 1), STATE_OK);
	assert_int_equal(auth_password("web01", pw_web, strlen(pw_web), &c,
	    why, sizeof(why)), -1);
	assert_int_equal(auth_password("web01", pw2, strlen(pw2), &c, why,
	    sizeof(why)), 0);
}

static void
test_address(void **state)
{
	static const struct {
		const char	*addr;
		const char	*connector;	/* NULL: none */
	} rows[] = {
		{ "192.0.2.77", "exo" },
		{ "::ffff:192.0.2.1", "exo" },
		{ "2001:db8:1::5", "exo" },
		{ "192.0.3.1", NULL },
		{ "198.51.100.9", NULL },	/* disabled connector */
		{ "2001:db9::1", NULL },
	};
	struct state_connector	 c;
	struct sockaddr_storage	 ss;
	size_t			 i;
	int			 rc;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&ss, 0, sizeof(ss));
		if (strchr(rows[i].addr, ':') != NULL) {
			ss.ss_family = AF_INET6;
			inet_pton(AF_INET6, rows[i].addr,
			    &((struct sockaddr_in6 *)&ss)->sin6_addr);
		} else {
			ss.ss_family = AF_INET;
			inet_pton(AF_INET, rows[i].addr,
			    &((struct sockaddr_in *)&ss)->sin_addr);
		}
		rc = auth_address((struct sockaddr *)&ss, &c);
		if ((rows[i].connector == NULL) != (rc == -1) ||
		    (rc == 0 && strcmp(c.name, rows[i].connector) != 0))
			fail_msg("row %zu %s: rc %d name %s", i, rows[i].addr,
			    rc, rc == 0 ? c.name : "-");
	}
}

static void
test_sender(void **state)
{
	struct sendgated_conf	*conf;
	struct state_connector	 web;
	struct state_domain	 d;
	char			 why[256];

	assert_non_null(conf = calloc(1, sizeof(*conf)));
	conf->verify_grace = 3600;
	assert_int_equal(state_connector_by_id(id_web, &web), STATE_OK);
	assert_int_equal(state_domain_add(id_web, "example.com",
	    "0123456789abcdef0123456789abcdef01234567", 1000), STATE_OK);
	assert_int_equal(auth_sender(&web, "example.com", conf, 2000, why,
	    sizeof(why)), 0);
	assert_string_equal(why, "domain example.com is not verified");
	assert_int_equal(auth_sender(&web, "other.example", conf, 2000, why,
	    sizeof(why)), 0);
	assert_string_equal(why, "domain other.example is not authorized for "
	    "connector web01");

	assert_int_equal(state_domain_get(id_web, "example.com", &d),
	    STATE_OK);
	d.state = DOMAIN_VERIFIED;
	assert_int_equal(state_domain_save(&d), STATE_OK);
	assert_int_equal(auth_sender(&web, "example.com", conf, 2000, why,
	    sizeof(why)), 1);

	d.state = DOMAIN_REVOKED;
	assert_int_equal(state_domain_save(&d), STATE_OK);
	assert_int_equal(auth_sender(&web, "example.com", conf, 2000, why,
	    sizeof(why)), 0);
	assert_string_equal(why, "verification of domain example.com was "
	    "revoked");
	free(conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_password, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rotation_keeps_two, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sender, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
