/*
 * sendgated: entry point.  Without -x this is the parent; with -x NAME the
 * parent re-executed us as one of its children.
 */
#include <sys/prctl.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "log.h"
#include "parent.h"
#include "proc.h"

extern char	**environ;

static const child_main_fn child_mains[PROC_COUNT] = {
	[PROC_SMTP] = smtp_main,
	[PROC_LKA] = lka_main,
	[PROC_QUEUE] = queue_main,
	[PROC_MTA] = mta_main,
	[PROC_SIGNER] = signer_main,
	[PROC_CONTROL] = control_main,
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: sendgated [-dnv] [-f file]\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	struct sendgated_conf	*conf;
	struct child_opts	 o;
	const char		*child = NULL;
	char			 path[PATH_MAX];
	int			 ch, checkonly = 0, n;

	setproctitle_init(argc, argv, environ);
	memset(&o, 0, sizeof(o));
	o.self = PROC_PARENT;
	o.config = CONFIG_DEFAULT_PATH;
	o.sandbox = SANDBOX_ENFORCE;

	while ((ch = getopt(argc, argv, "df:nvx:L")) != -1) {
		switch (ch) {
		case 'd':
			o.foreground = 1;
			break;
		case 'f':
			o.config = optarg;
			break;
		case 'n':
			checkonly = 1;
			break;
		case 'v':
			o.verbose++;
			break;
		case 'x':
			child = optarg;
			break;
		case 'L':
			/* Development only: seccomp logs instead of killing. */
			o.sandbox = SANDBOX_LOG;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	if (child != NULL) {
		if (proc_lookup(child, &o.self) == -1 ||
		    o.self == PROC_PARENT)
			usage();
		log_procname(child);
		/* Started as /proc/self/exe: name ourselves for ps and top. */
		(void)prctl(PR_SET_NAME, "sendgated", 0, 0, 0);
		log_init(o.foreground, LOG_DAEMON);
	} else {
		/* Until it detaches, the parent reports start-up errors on
		 * stderr too, so an operator sees why it did not start. */
		log_procname("parent");
		log_init(1, LOG_DAEMON);
	}
	log_setverbose(o.verbose);

	n = config_parse_file(o.config, stderr, &conf);
	if (n == -1) {
		fprintf(stderr, "sendgated: %s: %s\n", o.config,
		    strerror(errno));
		exit(1);
	}
	if (n > 0) {
		if (child != NULL)
			fatalx("%s: configuration changed since start-up",
			    o.config);
		exit(1);
	}
	if (checkonly) {
		printf("configuration OK\n");
		exit(0);
	}
	if (child != NULL) {
		child_mains[o.self](conf, &o);
		fatalx("child returned");
	}
	if (realpath(o.config, path) == NULL)
		fatal("%s", o.config);
	o.config = path;
	parent_main(conf, &o);
}
