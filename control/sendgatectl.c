/*
 * sendgatectl: administer a running sendgated over its control socket.
 *
 * One request per connection; the answer is printed as text or, with -j,
 * as JSON.  Exit status: 0 done, 1 the daemon refused or is not there,
 * 2 usage error.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "imsg.h"
#include "msg.h"
#include "proto.h"

#define CTL_TIMEOUT_MS		30000
#define CTL_NAME_MAX		64

struct ctl_cmd;
typedef void	(*ctl_build_fn)(const struct ctl_cmd *, struct msg_out *);
typedef int	(*ctl_print_fn)(struct msg_in *, int);

struct ctl_cmd {
	const char	*words[3];	/* the command, word by word */
	uint32_t	 type;
	int		 arg;		/* passed to build (e.g. log level) */
	ctl_build_fn	 build;
	ctl_print_fn	 print;		/* answer other than OK/FAIL */
	const char	*done;		/* printed on OK */
};

static void
ctl_build_plain(const struct ctl_cmd *c, struct msg_out *m)
{
	m_add_u32(m, PROTO_VERSION);
}

static void
ctl_build_int(const struct ctl_cmd *c, struct msg_out *m)
{
	m_add_u32(m, PROTO_VERSION);
	m_add_int(m, c->arg);
}

static void
ctl_json_string(const char *s)
{
	const unsigned char	*p;

	putchar('"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void
ctl_duration(char *buf, size_t len, int64_t s)
{
	if (s >= 86400)
		snprintf(buf, len, "%" PRId64 "d%02" PRId64 "h%02" PRId64 "m",
		    s / 86400, s % 86400 / 3600, s % 3600 / 60);
	else if (s >= 3600)
		snprintf(buf, len, "%" PRId64 "h%02" PRId64 "m%02" PRId64 "s",
		    s / 3600, s % 3600 / 60, s % 60);
	else if (s >= 60)
		snprintf(buf, len, "%" PRId64 "m%02" PRId64 "s", s / 60,
		    s % 60);
	else
		snprintf(buf, len, "%" PRId64 "s", s);
}

static int
ctl_print_status(struct msg_in *m, int json)
{
	char		 name[CTL_NAME_MAX], up[32];
	uint64_t	 reqid;
	uint32_t	 n, i;
	int64_t		 uptime;
	int		 pid;

	if (m_get_u64(m, &reqid) == -1 || m_get_u32(m, &n) == -1 || n > 64)
		return -1;
	if (json)
		printf("{\"processes\":[");
	else
		printf("%-10s %8s %12s\n", "PROCESS", "PID", "UPTIME");
	for (i = 0; i < n; i++) {
		if (m_get_string(m, name, sizeof(name)) == -1 ||
		    m_get_int(m, &pid) == -1 || m_get_i64(m, &uptime) == -1)
			return -1;
		if (json) {
			printf("%s{\"name\":", i ? "," : "");
			ctl_json_string(name);
			printf(",\"pid\":%d,\"uptime\":%" PRId64 "}", pid,
			    uptime);
		} else {
			ctl_duration(up, sizeof(up), uptime);
			printf("%-10s %8d %12s\n", name, pid, up);
		}
	}
	if (json)
		printf("]}\n");
	return m_end(m);
}

static const struct ctl_cmd ctl_cmds[] = {
	{ { "show", "status" }, IMSG_CTL_STATUS_SHOW, 0, ctl_build_plain,
	    ctl_print_status, NULL },
	{ { "log", "verbose" }, IMSG_CTL_VERBOSE_SET, 1, ctl_build_int, NULL,
	    "logging verbose" },
	{ { "log", "brief" }, IMSG_CTL_VERBOSE_SET, 0, ctl_build_int, NULL,
	    "logging brief" },
	{ { "stop" }, IMSG_CTL_STOP, 0, ctl_build_plain, NULL,
	    "sendgated stopping" },
};

static void __attribute__((noreturn))
usage(void)
{
	size_t	 i, w;

	fprintf(stderr, "usage: sendgatectl [-j] [-s socket] command\n"
	    "commands:\n");
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
		fprintf(stderr, "\t");
		for (w = 0; w < 3 && ctl_cmds[i].words[w] != NULL; w++)
			fprintf(stderr, "%s%s", w ? " " : "",
			    ctl_cmds[i].words[w]);
		fprintf(stderr, "\n");
	}
	exit(2);
}

static const struct ctl_cmd *
ctl_lookup(int argc, char **argv)
{
	size_t	 i;
	int	 w;

	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
		for (w = 0; w < 3 && ctl_cmds[i].words[w] != NULL; w++)
			if (w >= argc || strcmp(argv[w], ctl_cmds[i].words[w]))
				break;
		if ((w == 3 || ctl_cmds[i].words[w] == NULL) && w == argc)
			return &ctl_cmds[i];
	}
	return NULL;
}

static int
ctl_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 s;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		fprintf(stderr, "sendgatectl: socket path too long: %s\n",
		    path);
		exit(1);
	}
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		perror("sendgatectl: socket");
		exit(1);
	}
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == EACCES)
			fprintf(stderr, "sendgatectl: %s: permission denied "
			    "(root or group %s only)\n", path,
			    CONFIG_DEFAULT_CTLGROUP);
		else
			fprintf(stderr, "sendgatectl: cannot connect to %s: "
			    "%s (is sendgated running?)\n", path,
			    strerror(errno));
		exit(1);
	}
	return s;
}

/* Wait for the one answer to our request. */
static int
ctl_answer(struct imsgbuf *ib, struct imsg *im)
{
	struct pollfd	 pfd;
	const char	*why;
	ssize_t		 n;
	int		 r;

	for (;;) {
		if ((r = imsgbuf_get(ib, im)) == -1) {
			fprintf(stderr, "sendgatectl: bad answer: %s\n",
			    ib->err);
			return -1;
		}
		if (r == 1)
			break;
		pfd.fd = ib->fd;
		pfd.events = POLLIN;
		if ((r = poll(&pfd, 1, CTL_TIMEOUT_MS)) <= 0) {
			fprintf(stderr, "sendgatectl: no answer from "
			    "sendgated\n");
			return -1;
		}
		n = imsgbuf_read(ib);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			fprintf(stderr, "sendgatectl: connection closed by "
			    "sendgated\n");
			return -1;
		}
	}
	if (proto_check(im, PROC_CONTROL, PROC_CLIENT, &why) == -1) {
		fprintf(stderr, "sendgatectl: bad answer: %s\n", why);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const struct ctl_cmd	*cmd;
	const char		*sock = CONFIG_DEFAULT_SOCKET;
	struct imsgbuf		*ib;
	struct imsg		 im;
	struct msg_out		 out;
	struct msg_in		 m;
	char			 reason[512];
	int			 ch, json = 0;

	while ((ch = getopt(argc, argv, "+js:")) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 's':
			sock = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0 || (cmd = ctl_lookup(argc, argv)) == NULL)
		usage();

	if ((ib = malloc(sizeof(*ib))) == NULL) {
		perror("sendgatectl");
		return 1;
	}
	imsgbuf_init(ib, ctl_connect(sock));
	msg_out_init(&out);
	cmd->build(cmd, &out);
	if (imsgbuf_compose(ib, cmd->type, 0, -1, out.buf, out.len) == -1 ||
	    imsgbuf_write(ib) == -1 || imsgbuf_pending(ib)) {
		fprintf(stderr, "sendgatectl: cannot send the request\n");
		return 1;
	}
	if (ctl_answer(ib, &im) == -1)
		return 1;
	msg_in_init(&m, &im);
	switch (im.type) {
	case IMSG_CONTROL_OK:
		if (m_end(&m) == -1)
			break;
		if (json)
			printf("{\"ok\":true}\n");
		else if (cmd->done != NULL)
			printf("%s\n", cmd->done);
		return 0;
	case IMSG_CONTROL_FAIL:
		if (m_get_string(&m, reason, sizeof(reason)) == -1 ||
		    m_end(&m) == -1)
			break;
		fprintf(stderr, "sendgatectl: %s\n", reason);
		return 1;
	default:
		if (cmd->print == NULL)
			break;
		if (cmd->print(&m, json) == -1)
			break;
		return 0;
	}
	fprintf(stderr, "sendgatectl: unexpected answer %s\n",
	    proto_name(im.type));
	return 1;
}
