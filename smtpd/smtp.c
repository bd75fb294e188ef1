/*
 * The smtp process: SMTP submission sessions.
 * Start-up (TLS contexts, confinement), accepting on the listeners the
 * parent bound and passed over, imsg dispatch, shutdown.
 *
 * smtp never binds or regains privileges; the certificates and keys are
 * read into memory before the chroot.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event.h>
#include <tls.h>

#include <openssl/bio.h>
#include <openssl/conf.h>

#include "child.h"
#include "config.h"
#include "log.h"
#include "proto.h"
#include "smtp.h"
#include "smtp_client.h"
#include "smtp_hspool.h"
#include "smtp_session.h"

#define SMTP_ACCEPT_PAUSE	1	/* seconds, after EMFILE/ENFILE */

struct smtp_listener {
	int			 fd;
	struct event		 ev;
	struct smtp_listen	 l;
	char			 name[80];
};

static struct sendgated_conf	*smtp_conf;
static struct smtp_params	 smtp_params;
static struct smtp_listener	 smtp_listeners[SMTP_LISTENERS_MAX];
static int			 smtp_nlisteners;
static struct event		 smtp_accept_timer;

/*
 * Two TLS 1.3 settings libtls has no knob for; OpenSSL's own
 * configuration has them, for every SSL_CTX made after it is loaded
 * (Debian's openssl.cnf sets no ssl_conf module that this would replace):
 * - No session tickets.  libtls keeps no session cache and has no ticket
 *   keys here, so no client could ever resume with one, yet OpenSSL would
 *   make and send two after every handshake: work for nothing on both
 *   sides of every connection.
 * - AES-128-GCM with SHA-256 first (the order in Mozilla's TLS
 *   guidelines): SHA-256 runs in hardware here, the SHA-384 of the
 *   AES-256 suite does not, and a handshake hashes its transcript and
 *   derives its keys with it.  AES-256 stays offered.
 */
static void
smtp_tls_defaults(void)
{
	static const char	 cnf[] =
	    "sendgate_conf = sendgate_init\n"
	    "[sendgate_init]\nssl_conf = sendgate_ssl\n"
	    "[sendgate_ssl]\nsystem_default = sendgate_tls\n"
	    "[sendgate_tls]\nNumTickets = 0\n"
	    "Ciphersuites = TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
	    "TLS_CHACHA20_POLY1305_SHA256\n";
	CONF	*conf;
	BIO	*bio;
	long	 eline;

	if ((conf = NCONF_new(NULL)) == NULL ||
	    (bio = BIO_new_mem_buf(cnf, -1)) == NULL)
		fatalx("TLS configuration: out of memory");
	if (NCONF_load_bio(conf, bio, &eline) <= 0 ||
	    CONF_modules_load(conf, "sendgate_conf", 0) <= 0)
		fatalx("TLS configuration: cannot load the TLS 1.3 settings");
	BIO_free(bio);
	NCONF_free(conf);
}

/* One server context per pki, made before the chroot. */
static struct {
	const char	*name;
	struct tls	*ctx;
}				 smtp_tls[SMTP_LISTENERS_MAX];
static int			 smtp_ntls;

static struct tls *
smtp_tls_server(struct config_pki *pki)
{
	struct tls_config	*cfg;
	struct tls		*ctx;
	uint8_t			*cert, *key;
	size_t			 certlen, keylen;

	if ((cfg = tls_config_new()) == NULL)
		fatalx("tls_config_new");
	if ((cert = tls_load_file(pki->cert, &certlen, NULL)) == NULL)
		fatalx("pki %s: cannot read %s: %s", pki->name, pki->cert,
		    tls_config_error(cfg));
	if ((key = tls_load_file(pki->key, &keylen, NULL)) == NULL)
		fatalx("pki %s: cannot read %s: %s", pki->name, pki->key,
		    tls_config_error(cfg));
	if (tls_config_set_keypair_mem(cfg, cert, certlen, key, keylen) == -1)
		fatalx("pki %s: %s", pki->name, tls_config_error(cfg));
	tls_unload_file(key, keylen);
	free(cert);
	/*
	 * TLS 1.2 and 1.3; "secure" keeps the ECDHE AES-GCM suites that
	 * Windows and Exchange 2016-2019 negotiate.
	 */
	if (tls_config_set_protocols(cfg, TLS_PROTOCOLS_DEFAULT) == -1 ||
	    tls_config_set_ciphers(cfg, "secure") == -1)
		fatalx("pki %s: %s", pki->name, tls_config_error(cfg));
	/*
	 * Exchange presents a client certificate when asked; it is taken
	 * whatever signed it and only its fingerprint logged: who sends is
	 * decided by AUTH or the source address, not by the certificate.
	 */
	tls_config_verify_client_optional(cfg);
	tls_config_insecure_noverifycert(cfg);
	if ((ctx = tls_server()) == NULL)
		fatalx("tls_server");
	if (tls_configure(ctx, cfg) == -1)
		fatalx("pki %s: %s", pki->name, tls_error(ctx));
	tls_config_free(cfg);
	return ctx;
}

static struct tls *
smtp_tls_get(const char *name)
{
	struct config_pki	*pki;
	int			 i;

	for (i = 0; i < smtp_ntls; i++)
		if (strcmp(smtp_tls[i].name, name) == 0)
			return smtp_tls[i].ctx;
	if ((pki = config_pki_find(smtp_conf, name)) == NULL)
		fatalx("pki %s not defined", name);
	if (smtp_ntls == SMTP_LISTENERS_MAX)
		fatalx("too many pki");
	smtp_tls[smtp_ntls].name = pki->name;
	smtp_tls[smtp_ntls].ctx = smtp_tls_server(pki);
	return smtp_tls[smtp_ntls++].ctx;
}

static struct config_listen *
smtp_listen_conf(int idx)
{
	struct config_listen	*l;
	int			 i = 0;

	TAILQ_FOREACH(l, &smtp_conf->listeners, entry)
		if (i++ == idx)
			return l;
	return NULL;
}

static void
smtp_accept_resume(int fd, short ev, void *arg)
{
	int	i;

	for (i = 0; i < smtp_nlisteners; i++)
		event_add(&smtp_listeners[i].ev, NULL);
}

/* Out of descriptors: stop accepting for a while instead of spinning. */
static void
smtp_accept_pause(void)
{
	struct timeval	tv = { SMTP_ACCEPT_PAUSE, 0 };
	int		i;

	for (i = 0; i < smtp_nlisteners; i++)
		event_del(&smtp_listeners[i].ev);
	evtimer_add(&smtp_accept_timer, &tv);
}

static void
smtp_refuse(int fd, const struct smtp_listener *sl, const char *why)
{
	static const char	msg[] = "421 4.7.0 Too many connections\r\n";

	log_info("smtp: connection on %s refused: %s", sl->name, why);
	/* Best effort: the socket is non-blocking and new. */
	if (!sl->l.smtps && write(fd, msg, sizeof(msg) - 1) == -1)
		log_debug("smtp: refusal not sent: %s", strerror(errno));
	close(fd);
}

static void
smtp_accept(int lfd, short ev, void *arg)
{
	struct smtp_listener	*sl = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 fd, one = 1, n;

	for (n = 0; n < 64; n++) {
		sslen = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				log_warnx("smtp: accept: %s", strerror(errno));
				smtp_accept_pause();
			} else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("smtp: accept");
			return;
		}
		if (smtp_session_count() >= (size_t)smtp_conf->smtp_sessions) {
			smtp_refuse(fd, sl, "too many sessions");
			continue;
		}
		if (smtp_client_open((struct sockaddr *)&ss,
		    smtp_conf->smtp_sessions_per_addr) == -1) {
			smtp_refuse(fd, sl, "too many sessions from address");
			continue;
		}
		/* Replies go out whole; no Nagle wait on pipelined ones. */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		if (smtp_session_new(fd, (struct sockaddr *)&ss, sslen,
		    &sl->l) == -1) {
			log_warnx("smtp: cannot set up a session");
			smtp_client_gone((struct sockaddr *)&ss);
			close(fd);
		}
	}
}

static void
smtp_listener_add(struct mproc *p, struct imsg *im)
{
	struct msg_in		 m;
	struct config_listen	*l;
	struct smtp_listener	*sl;
	int			 idx;

	msg_in_init(&m, im);
	if (m_get_int(&m, &idx) == -1 || m_end(&m) == -1 ||
	    (l = smtp_listen_conf(idx)) == NULL ||
	    smtp_nlisteners == SMTP_LISTENERS_MAX) {
		close(im->fd);
		mproc_malformed(p, im, &m);
		return;
	}
	sl = &smtp_listeners[smtp_nlisteners++];
	sl->fd = im->fd;
	snprintf(sl->name, sizeof(sl->name), "%s port %u", l->addr, l->port);
	sl->l.name = sl->name;
	sl->l.smtps = l->mode == LISTEN_SMTPS;
	sl->l.tls = smtp_tls_get(l->pki);
	if (fcntl(sl->fd, F_SETFL, O_NONBLOCK) == -1)
		fatal("listener fcntl");
	event_assign(&sl->ev, child_base(), sl->fd, EV_READ | EV_PERSIST,
	    smtp_accept, sl);
	event_add(&sl->ev, NULL);
	log_info("listener %s (%s) ready", sl->name,
	    sl->l.smtps ? "smtps" : "tls");
}

static void
smtp_dispatch(struct mproc *p, struct imsg *im)
{
	if (child_imsg(p, im) || smtp_session_imsg(p, im))
		return;
	switch (im->type) {
	case IMSG_PARENT_LISTENER:
		smtp_listener_add(p, im);
		return;
	}
	mproc_malformed(p, im, NULL);
}

/*
 * Handshake threads: one per CPU by default, as the loop itself is
 * mostly idle while they sign; none on one CPU, where a thread would only
 * add switches.
 */
static int
smtp_tls_threads(void)
{
	long	 n;

	if (smtp_conf->smtp_tls_threads >= 0)
		return smtp_conf->smtp_tls_threads;
	if ((n = sysconf(_SC_NPROCESSORS_ONLN)) <= 1)
		return 0;
	return n > 16 ? 16 : (int)n;
}

/* One descriptor per session and some to spare. */
static void
smtp_nofile(void)
{
	struct rlimit	rl;
	rlim_t		want;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	want = (rlim_t)smtp_conf->smtp_sessions * 2 + 64;
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("setrlimit nofile");
}

void
smtp_main(struct sendgated_conf *conf, const struct child_opts *o)
{
	struct sandbox_spec	 spec = {
		.name = "smtp",
		.root = conf->empty_dir,
		.user = conf->user,
		.nowrite = 0,
		.rules = smtp_sandbox_rules,
	};
	struct config_listen	*l;

	smtp_conf = conf;
	setproctitle("%s", "smtp");
	if (tls_init() == -1)
		fatalx("tls_init");
	smtp_tls_defaults();
	TAILQ_FOREACH(l, &conf->listeners, entry)
		(void)smtp_tls_get(l->pki);
	smtp_params.hostname = conf->hostname;
	smtp_params.size_max = conf->limits.message_size;
	smtp_params.rcpt_max = conf->limits.rcpt_per_message;
	smtp_params.junk_max = conf->smtp_junk_max;
	smtp_params.auth_failures_max = conf->smtp_auth_failures;
	smtp_params.timeout_command = conf->smtp_timeout_command;
	smtp_params.timeout_data = conf->smtp_timeout_data;
	smtp_params.timeout_handshake = conf->smtp_timeout_handshake;
	smtp_nofile();
	child_setup(o, smtp_dispatch);
	evtimer_assign(&smtp_accept_timer, child_base(), smtp_accept_resume,
	    NULL);
	smtp_session_init(&smtp_params);
	smtp_hspool_start(child_base(), smtp_tls_threads());
	sandbox_enter(&spec, o->sandbox);
	child_ready();
	child_run();
}
