/*
 * sendgatectl's command table and argument parsing.  The table is the
 * usage text too; control has its own table of who may run what and
 * does not take our word for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static const struct ctl_cmd ctl_cmds[] = {
	{ { "show", "status" }, CTL_STATUS, NULL, { NULL }, 0, { { NULL } },
	    0, "", NULL },
	{ { "show", "queue" }, CTL_COMMAND, "queue.show", { "id" }, 1,
	    { { NULL } }, 0, " [ID]", "message" },
	{ { "remove" }, CTL_COMMAND, "queue.remove", { "id" }, 0,
	    { { NULL } }, 0, " ID|all", NULL },
	{ { "schedule" }, CTL_COMMAND, "queue.schedule", { "id" }, 0,
	    { { NULL } }, 0, " ID|all", NULL },
	{ { "show", "stats" }, CTL_COMMAND, "queue.stats", { NULL }, 0,
	    { { NULL } }, 0, "", "connector" },
	{ { "pause", "mta" }, CTL_COMMAND, "mta.pause", { NULL }, 0,
	    { { NULL } }, 0, "", NULL },
	{ { "resume", "mta" }, CTL_COMMAND, "mta.resume", { NULL }, 0,
	    { { NULL } }, 0, "", NULL },
	{ { "log", "verbose" }, CTL_VERBOSE, NULL, { NULL }, 0, { { NULL } },
	    1, "", NULL },
	{ { "log", "brief" }, CTL_VERBOSE, NULL, { NULL }, 0, { { NULL } },
	    0, "", NULL },
	{ { "stop" }, CTL_STOP, NULL, { NULL }, 0, { { NULL } }, 0, "", NULL },

	{ { "connector", "add" }, CTL_COMMAND, "connector.add", { "name" }, 0,
	    { { "--from", "from", 1, 1 } }, 0, " NAME [--from CIDR ...]", NULL },
	{ { "connector", "list" }, CTL_COMMAND, "connector.list", { NULL }, 0,
	    { { NULL } }, 0, "", "connector" },
	{ { "connector", "show" }, CTL_COMMAND, "connector.show", { "name" },
	    0, { { NULL } }, 0, " NAME", NULL },
	{ { "connector", "del" }, CTL_COMMAND, "connector.del", { "name" }, 0,
	    { { "--force", "force", 0, 0 } }, 0, " NAME [--force]", NULL },
	{ { "connector", "passwd" }, CTL_COMMAND, "connector.passwd",
	    { "name" }, 0, { { "--keep-old", "keep-old", 0, 0 } }, 0,
	    " NAME [--keep-old]", NULL },
	{ { "connector", "limit" }, CTL_COMMAND, "connector.limit",
	    { "name", "key", "value" }, 0, { { NULL } }, 0,
	    " NAME KEY VALUE|default", NULL },
	{ { "connector", "enable" }, CTL_COMMAND, "connector.enable",
	    { "name" }, 0, { { NULL } }, 0, " NAME", NULL },
	{ { "connector", "disable" }, CTL_COMMAND, "connector.disable",
	    { "name" }, 0, { { NULL } }, 0, " NAME", NULL },

	{ { "domain", "add" }, CTL_COMMAND, "domain.add",
	    { "connector", "domain" }, 0, { { NULL } }, 0,
	    " CONNECTOR DOMAIN", NULL },
	{ { "domain", "list" }, CTL_COMMAND, "domain.list", { "connector" },
	    1, { { NULL } }, 0, " [CONNECTOR]", "domain" },
	{ { "domain", "show" }, CTL_COMMAND, "domain.show", { "domain" }, 0,
	    { { NULL } }, 0, " DOMAIN", NULL },
	{ { "domain", "del" }, CTL_COMMAND, "domain.del",
	    { "connector", "domain" }, 0, { { NULL } }, 0,
	    " CONNECTOR DOMAIN", NULL },
	{ { "domain", "check" }, CTL_COMMAND, "domain.check", { "domain" }, 0,
	    { { NULL } }, 0, " DOMAIN", NULL },
	{ { "domain", "rotate" }, CTL_COMMAND, "domain.rotate", { "domain" },
	    0, { { "--cancel", "cancel", 0, 0 } }, 0, " DOMAIN [--cancel]",
	    NULL },
	{ { "spf", "walk" }, CTL_COMMAND, "spf.walk", { "domain" }, 0,
	    { { NULL } }, 0, " DOMAIN", NULL },
};

#define CTL_NCMDS	(sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))

void
ctl_usage(void)
{
	size_t	 i, w;

	fprintf(stderr, "usage: sendgatectl [-j] [-s socket] command\n"
	    "commands:\n");
	for (i = 0; i < CTL_NCMDS; i++) {
		fprintf(stderr, "\t");
		for (w = 0; w < CTL_WORDS_MAX && ctl_cmds[i].words[w]; w++)
			fprintf(stderr, "%s%s", w ? " " : "",
			    ctl_cmds[i].words[w]);
		fprintf(stderr, "%s\n", ctl_cmds[i].usage);
	}
	exit(2);
}

static const struct ctl_cmd *
ctl_lookup(int argc, char **argv, int *used)
{
	size_t	 i;
	int	 w;

	for (i = 0; i < CTL_NCMDS; i++) {
		for (w = 0; w < CTL_WORDS_MAX && ctl_cmds[i].words[w]; w++)
			if (w >= argc || strcmp(argv[w], ctl_cmds[i].words[w]))
				break;
		if (w == CTL_WORDS_MAX || ctl_cmds[i].words[w] == NULL) {
			*used = w;
			return &ctl_cmds[i];
		}
	}
	return NULL;
}

static int
ctl_param(struct ctl_request *r, const char *key, const char *value)
{
	if (r->n == PROTO_PARAMS_MAX || strlen(value) >= PROTO_VALUE_MAX)
		return -1;
	r->key[r->n] = key;
	r->value[r->n] = value;
	r->n++;
	return 0;
}

/*
 * Parse the words after the options.  Returns 0, or -1 with *why set to
 * a message for the usage error.
 */
int
ctl_parse(int argc, char **argv, struct ctl_request *r, const char **why)
{
	const struct ctl_cmd	*c;
	const struct ctl_opt	*o;
	int			 i, used, nargs = 0, nreq, j, seen[CTL_OPTS_MAX];

	memset(r, 0, sizeof(*r));
	memset(seen, 0, sizeof(seen));
	*why = "unknown command";
	if ((c = ctl_lookup(argc, argv, &used)) == NULL)
		return -1;
	r->cmd = c;
	for (i = used; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) == 0) {
			for (j = 0, o = NULL; j < CTL_OPTS_MAX &&
			    c->opts[j].name != NULL; j++)
				if (strcmp(c->opts[j].name, argv[i]) == 0)
					o = &c->opts[j];
			*why = "unknown option";
			if (o == NULL)
				return -1;
			*why = "option given twice";
			if (seen[o - c->opts]++ && !o->repeat)
				return -1;
			*why = "option needs a value";
			if (o->value && i + 1 == argc)
				return -1;
			*why = "too many arguments";
			if (ctl_param(r, o->param, o->value ? argv[++i] :
			    "1") == -1)
				return -1;
			continue;
		}
		*why = "too many arguments";
		if (nargs == CTL_ARGS_MAX || c->args[nargs] == NULL ||
		    ctl_param(r, c->args[nargs], argv[i]) == -1)
			return -1;
		nargs++;
	}
	for (nreq = 0; nreq < CTL_ARGS_MAX && c->args[nreq] != NULL; nreq++)
		;
	*why = "missing arguments";
	if (nargs < nreq - c->optional)
		return -1;
	return 0;
}

void
ctl_build(const struct ctl_request *r, struct msg_out *m)
{
	uint32_t	 i;

	m_add_u32(m, PROTO_VERSION);
	switch (r->cmd->kind) {
	case CTL_VERBOSE:
		m_add_int(m, r->cmd->arg);
		break;
	case CTL_COMMAND:
		m_add_string(m, r->cmd->command);
		m_add_u32(m, r->n);
		for (i = 0; i < r->n; i++) {
			m_add_string(m, r->key[i]);
			m_add_string(m, r->value[i]);
		}
		break;
	default:
		break;
	}
}
