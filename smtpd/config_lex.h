/*
 * sendgated.conf: the lexer, for the grammar (parse.y) only.
 *
 * The lexer owns what one parse needs besides the configuration: the
 * input, the macros, the error count and the memory of every string it
 * makes.  That memory is freed by lex_end(), so error recovery, which
 * drops tokens on the floor, cannot leak them.  Token numbers come from
 * the parse.h that byacc writes.
 */
#ifndef SENDGATE_CONFIG_LEX_H
#define SENDGATE_CONFIG_LEX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LEX_SHOW_MAX	64	/* bytes of a value quoted in a message */

struct token {
	char	*string;	/* STRING, NUMBER (its digits), keyword */
	int64_t	 number;	/* NUMBER */
	int	 lineno;	/* where the token starts */
};

/* len bytes of buf; messages go to errf as "name:line: message". */
void	 lex_begin(const char *, size_t, const char *, FILE *);
/*
 * Frees what the parse made and returns its error count; failed says the
 * parser gave up, which is an error of its own only when none was said.
 */
int	 lex_end(int);
/* The next token into *tok; what yylex() returns. */
int	 lex_next(struct token *);
/* yyerror(): a syntax error, said once per statement. */
void	 lex_syntax_error(const char *);
/* An error at a line, counted. */
void	 lex_error(int, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* s for a message: odd bytes as \xNN, cut with "..." to fit size. */
const char *lex_show(char *, size_t, const char *);
/* 0 and *n if s is digits that fit in int64_t, else -1. */
int	 lex_number(const char *, int64_t *);
/* NAME = VALUE: $NAME stands for VALUE from the next token on. */
void	 lex_macro_define(const struct token *, const struct token *);

#endif
