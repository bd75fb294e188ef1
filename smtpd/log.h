/*
 * Logging for every sendgated process and sendgatectl.
 *
 * Every string that reaches a log line passes through log_escape(): control
 * bytes, DEL, backslash and bytes >= 0x80 are written as C escapes, so no
 * peer can inject a line break or a terminal sequence into the log.
 */
#ifndef SENDGATE_LOG_H
#define SENDGATE_LOG_H

#include <stdarg.h>
#include <stddef.h>

#define LOG_LINE_MAX	2048	/* formatted line, before escaping */

void	log_init(int, int);
void	log_procname(const char *);
void	log_setverbose(int);
int	log_getverbose(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
size_t	log_escape(char *, size_t, const char *, size_t);

#endif
