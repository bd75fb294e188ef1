/*
 * sendgated.conf: the parsed configuration.
 *
 * The parent and every child parse the file themselves (children re-read
 * it after re-exec); each process keeps the result private to its entry
 * file and hands modules only the values they need.
 */
#ifndef SENDGATE_CONFIG_H
#define SENDGATE_CONFIG_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_NAME_MAX		64	/* pki names, user and group names */
#define CONFIG_HOSTNAME_MAX	255

#define CONFIG_DEFAULT_PATH	"/etc/sendgated.conf"
#define CONFIG_DEFAULT_QUEUE	"/var/spool/sendgate"
#define CONFIG_DEFAULT_STATE	"/var/lib/sendgate/state"
#define CONFIG_DEFAULT_KEYS	"/var/lib/sendgate/keys"
#define CONFIG_DEFAULT_EMPTY	"/var/lib/sendgate/empty"
#define CONFIG_DEFAULT_SOCKET	"/run/sendgated.sock"
#define CONFIG_DEFAULT_USER	"_sendgate"
#define CONFIG_DEFAULT_QUSER	"_sendgateq"
#define CONFIG_DEFAULT_KUSER	"_sendgatek"
#define CONFIG_DEFAULT_CTLGROUP	"_sendgatectl"

struct config_pki {
	TAILQ_ENTRY(config_pki)	 entry;
	char			 name[CONFIG_NAME_MAX];
	char			 cert[PATH_MAX];
	char			 key[PATH_MAX];
	int			 line;
};

enum listen_mode {
	LISTEN_STARTTLS,	/* "tls": plain, STARTTLS required before AUTH */
	LISTEN_SMTPS		/* "smtps": implicit TLS */
};

struct config_listen {
	TAILQ_ENTRY(config_listen) entry;
	struct sockaddr_storage	 ss;	/* address and port, ready to bind */
	socklen_t		 sslen;
	char			 addr[64];	/* as written, for logs */
	uint16_t		 port;
	enum listen_mode	 mode;
	char			 pki[CONFIG_NAME_MAX];
	int			 line;
};

struct sendgated_conf {
	char			 path[PATH_MAX];	/* file read */
	char			 hostname[CONFIG_HOSTNAME_MAX + 1];
	char			 queue_dir[PATH_MAX];
	char			 state_dir[PATH_MAX];
	char			 keys_dir[PATH_MAX];
	char			 empty_dir[PATH_MAX];
	char			 socket_path[PATH_MAX];
	char			 user[CONFIG_NAME_MAX];		/* smtp lka mta control */
	char			 queue_user[CONFIG_NAME_MAX];
	char			 signer_user[CONFIG_NAME_MAX];
	char			 ctl_group[CONFIG_NAME_MAX];
	TAILQ_HEAD(, config_pki) pkis;
	TAILQ_HEAD(, config_listen) listeners;
};

/*
 * Parse the stream in (named name in messages).  Every error is written to
 * errf as "name:line: message\n" and counted; parsing goes on after an
 * error so that one run reports them all.  Returns the number of errors;
 * *confp is set only when it is 0.
 */
int	 config_parse_stream(FILE *in, const char *name, FILE *errf,
	    struct sendgated_conf **confp);
/* Same for a file path; -1 (errno set) when the file cannot be opened. */
int	 config_parse_file(const char *path, FILE *errf,
	    struct sendgated_conf **confp);
void	 config_free(struct sendgated_conf *);
struct config_pki *config_pki_find(struct sendgated_conf *, const char *);

/*
 * Values of later statements: a duration is N, Ns, Nm, Nh or Nd (seconds);
 * a size is N, NK, NM or NG (powers of 1024).  0 on success, -1 with errno
 * EINVAL (not such a value) or ERANGE (it does not fit).
 */
int	 config_parse_duration(const char *, int64_t *);
int	 config_parse_size(const char *, uint64_t *);

/* 1 if s is a host name: dot-separated labels of letters, digits, '-'. */
int	 config_valid_hostname(const char *);

/*
 * The grammar (parse.y), for config_parse_stream(): parses len bytes of
 * buf into conf, which holds the defaults, and returns the error count.
 */
int	 config_grammar(const char *, size_t, const char *, FILE *,
	    struct sendgated_conf *);

#endif
