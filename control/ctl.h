/*
 * sendgatectl's own modules: the command table and its argument parser,
 * and the printer for answers (text or JSON).
 */
#ifndef SENDGATE_CTL_H
#define SENDGATE_CTL_H

#include <stdint.h>

#include "msg.h"
#include "proto.h"

#define CTL_WORDS_MAX	3	/* words naming a command */
#define CTL_ARGS_MAX	3	/* positional arguments */
#define CTL_OPTS_MAX	3

/* How a command travels: to the parent (built-in) or as IMSG_CTL_COMMAND. */
enum ctl_kind {
	CTL_STATUS,
	CTL_VERBOSE,
	CTL_STOP,
	CTL_COMMAND
};

struct ctl_opt {
	const char	*name;		/* "--from" */
	const char	*param;		/* the key it travels under */
	int		 value;		/* takes a value */
	int		 repeat;	/* may be given more than once */
};

struct ctl_cmd {
	const char	*words[CTL_WORDS_MAX];
	enum ctl_kind	 kind;
	const char	*command;	/* CTL_COMMAND: "connector.add" */
	const char	*args[CTL_ARGS_MAX];	/* parameter names, in order */
	int		 optional;	/* trailing args that may be left out */
	struct ctl_opt	 opts[CTL_OPTS_MAX];
	int		 arg;		/* CTL_VERBOSE: the level */
	const char	*usage;		/* arguments, for the usage text */
	const char	*list;		/* the kind it lists, shown even if empty */
};

struct ctl_request {
	const struct ctl_cmd	*cmd;
	uint32_t		 n;
	const char		*key[PROTO_PARAMS_MAX];
	const char		*value[PROTO_PARAMS_MAX];
};

/* ctl_cmds.c */
int	ctl_parse(int, char **, struct ctl_request *, const char **);
void	ctl_usage(void) __attribute__((noreturn));
void	ctl_build(const struct ctl_request *, struct msg_out *);

/* ctl_print.c */
int	ctl_rows_add(struct msg_in *);
int	ctl_print(int, const char *, const char *);
int	ctl_print_status(struct msg_in *, int);

#endif
