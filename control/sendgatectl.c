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
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "imsg.h"
#include "msg.h"
#include "proto.h"

#define CTL_TIMEOUT_MS		60000

static const uint32_t ctl_types[] = {
	[CTL_STATUS] = IMSG_CTL_STATUS_SHOW,
	[CTL_VERBOSE] = IMSG_CTL_VERBOSE_SET,
	[CTL_STOP] = IMSG_CTL_STOP,
	[CTL_COMMAND] = IMSG_CTL_COMMAND,
};

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

/* Wait for the next message of the answer. */
static int
ctl_next(struct imsgbuf *ib, struct imsg *im)
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
		if (poll(&pfd, 1, CTL_TIMEOUT_MS) <= 0) {
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

/* Read the answer to our request and print it; returns the exit status. */
static int
ctl_answer(struct imsgbuf *ib, const struct ctl_cmd *cmd, int json)
{
	struct imsg	 im;
	struct msg_in	 m;
	char		 text[1024];
	uint64_t	 reqid;
	int		 status;

	for (;;) {
		if (ctl_next(ib, &im) == -1)
			return 1;
		msg_in_init(&m, &im);
		switch (im.type) {
		case IMSG_CONTROL_ROW:
			if (ctl_rows_add(&m) == -1)
				goto bad;
			continue;
		case IMSG_CONTROL_DONE:
			if (m_get_u64(&m, &reqid) == -1 ||
			    m_get_int(&m, &status) == -1 ||
			    m_get_string(&m, text, sizeof(text)) == -1 ||
			    m_end(&m) == -1)
				goto bad;
			if (status != 0) {
				fprintf(stderr, "sendgatectl: %s\n", text);
				return 1;
			}
			return ctl_print(json, cmd->list, text);
		case IMSG_CONTROL_FAIL:
			if (m_get_string(&m, text, sizeof(text)) == -1 ||
			    m_end(&m) == -1)
				goto bad;
			fprintf(stderr, "sendgatectl: %s\n", text);
			return 1;
		case IMSG_CONTROL_OK:
			if (m_end(&m) == -1 || cmd->kind == CTL_STATUS ||
			    cmd->kind == CTL_COMMAND)
				goto bad;
			if (json)
				printf("{\"ok\":true}\n");
			else if (cmd->kind == CTL_STOP)
				printf("sendgated stopping\n");
			else
				printf("logging %s\n", cmd->arg ? "verbose" :
				    "brief");
			return 0;
		case IMSG_CONTROL_STATUS_RESULT:
			if (cmd->kind != CTL_STATUS ||
			    ctl_print_status(&m, json) == -1)
				goto bad;
			return 0;
		}
		goto bad;
	}
bad:
	fprintf(stderr, "sendgatectl: unexpected answer %s\n",
	    proto_name(im.type));
	return 1;
}

int
main(int argc, char **argv)
{
	struct ctl_request	 req;
	const char		*sock = CONFIG_DEFAULT_SOCKET, *why;
	struct imsgbuf		*ib;
	struct msg_out		 out;
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
			ctl_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		ctl_usage();
	if (ctl_parse(argc, argv, &req, &why) == -1) {
		fprintf(stderr, "sendgatectl: %s\n", why);
		ctl_usage();
	}
	if ((ib = malloc(sizeof(*ib))) == NULL) {
		perror("sendgatectl");
		return 1;
	}
	imsgbuf_init(ib, ctl_connect(sock));
	msg_out_init(&out);
	ctl_build(&req, &out);
	if (out.overflow || imsgbuf_compose(ib, ctl_types[req.cmd->kind], 0,
	    -1, out.buf, out.len) == -1 || imsgbuf_write(ib) == -1 ||
	    imsgbuf_pending(ib)) {
		fprintf(stderr, "sendgatectl: cannot send the request\n");
		return 1;
	}
	return ctl_answer(ib, req.cmd, json);
}
