/*
 * What the smtp process knows of one client address across its
 * sessions: how many are open (smtp limit sessions-per-address) and how
 * many AUTH attempts failed lately.  After SMTP_CLIENT_AUTH_FAILURES
 * failures within SMTP_CLIENT_AUTH_WINDOW seconds the address gets
 * "454 4.7.0" to every AUTH until the window has passed (SECURITY.md T6).
 *
 * Entries live in a tree keyed by address; one with no session and no
 * recent failure is removed, so the tree holds at most the open sessions
 * plus the addresses that failed recently (capped: the oldest failure
 * record goes first when SMTP_CLIENTS_MAX is reached).
 */
#include <sys/socket.h>
#include <sys/tree.h>

#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smtp_session.h"
#include "smtp_client.h"

struct smtp_client {
	RB_ENTRY(smtp_client)	 entry;
	uint8_t			 key[17];	/* family, 16 address bytes */
	int			 sessions;
	int			 failures;
	time_t			 since;		/* first failure of the window */
};

RB_HEAD(smtp_clients, smtp_client);

static int
client_cmp(struct smtp_client *a, struct smtp_client *b)
{
	return memcmp(a->key, b->key, sizeof(a->key));
}

RB_PROTOTYPE(smtp_clients, smtp_client, entry, client_cmp)
RB_GENERATE(smtp_clients, smtp_client, entry, client_cmp)

static struct smtp_clients	clients = RB_INITIALIZER(&clients);
static size_t			nclients;

/* IPv4-mapped IPv6 addresses count as the IPv4 address they map. */
static void
client_key(const struct sockaddr *sa, uint8_t key[17])
{
	const struct sockaddr_in	*sin = (const void *)sa;
	const struct sockaddr_in6	*sin6 = (const void *)sa;

	memset(key, 0, 17);
	if (sa->sa_family == AF_INET6 &&
	    !IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		key[0] = 6;
		memcpy(key + 1, &sin6->sin6_addr, 16);
	} else if (sa->sa_family == AF_INET6) {
		key[0] = 4;
		memcpy(key + 1, (const uint8_t *)&sin6->sin6_addr + 12, 4);
	} else {
		key[0] = 4;
		memcpy(key + 1, &sin->sin_addr, 4);
	}
}

static struct smtp_client *
client_find(const struct sockaddr *sa)
{
	struct smtp_client	key;

	client_key(sa, key.key);
	return RB_FIND(smtp_clients, &clients, &key);
}

static int
client_failing(struct smtp_client *c, time_t now)
{
	if (c->failures > 0 && now - c->since >= SMTP_CLIENT_AUTH_WINDOW)
		c->failures = 0;
	return c->failures > 0;
}

static void
client_maybe_free(struct smtp_client *c, time_t now)
{
	if (c->sessions > 0 || client_failing(c, now))
		return;
	RB_REMOVE(smtp_clients, &clients, c);
	nclients--;
	free(c);
}

/* Make room: drop failure records of addresses without sessions. */
static void
client_prune(time_t now)
{
	struct smtp_client	*c, *next, *oldest = NULL;

	RB_FOREACH_SAFE(c, smtp_clients, &clients, next) {
		client_maybe_free(c, now);
	}
	if (nclients < SMTP_CLIENTS_MAX)
		return;
	RB_FOREACH(c, smtp_clients, &clients)
		if (c->sessions == 0 && (oldest == NULL ||
		    c->since < oldest->since))
			oldest = c;
	if (oldest != NULL) {
		RB_REMOVE(smtp_clients, &clients, oldest);
		nclients--;
		free(oldest);
	}
}

static struct smtp_client *
client_get(const struct sockaddr *sa)
{
	struct smtp_client	*c;

	if ((c = client_find(sa)) != NULL)
		return c;
	if (nclients >= SMTP_CLIENTS_MAX)
		client_prune(time(NULL));
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	client_key(sa, c->key);
	RB_INSERT(smtp_clients, &clients, c);
	nclients++;
	return c;
}

int
smtp_client_open(const struct sockaddr *sa, int max)
{
	struct smtp_client	*c;

	if ((c = client_get(sa)) == NULL)
		return -1;
	if (c->sessions >= max) {
		client_maybe_free(c, time(NULL));
		return -1;
	}
	c->sessions++;
	return 0;
}

void
smtp_client_gone(const struct sockaddr *sa)
{
	struct smtp_client	*c;

	if ((c = client_find(sa)) == NULL)
		return;
	if (c->sessions > 0)
		c->sessions--;
	client_maybe_free(c, time(NULL));
}

int
smtp_client_auth_locked(const struct sockaddr *sa)
{
	struct smtp_client	*c;

	if ((c = client_find(sa)) == NULL)
		return 0;
	return client_failing(c, time(NULL)) &&
	    c->failures >= SMTP_CLIENT_AUTH_FAILURES;
}

void
smtp_client_auth_failed(const struct sockaddr *sa)
{
	struct smtp_client	*c;
	time_t			 now = time(NULL);

	if ((c = client_get(sa)) == NULL)
		return;
	if (!client_failing(c, now))
		c->since = now;
	if (c->failures < SMTP_CLIENT_AUTH_FAILURES)
		c->failures++;
}
