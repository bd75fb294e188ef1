/*
 * Logging: syslog (daemon facility) or stderr in the foreground.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int	 log_tostderr = 1;
static int	 log_sock = -1;
static int	 log_verbose;
static char	 log_name[32] = "sendgated";

static int	 log_facility = LOG_DAEMON;

/* libevent's own diagnostics go where ours go, escaped like ours. */
static void
log_libevent(int severity, const char *msg)
{
	if (severity == EVENT_LOG_DEBUG)
		log_debug("libevent: %s", msg);
	else
		log_warnx("libevent: %s", msg);
}

/*
 * foreground != 0 logs to stderr; otherwise to syslog through a datagram
 * socket connected to /dev/log now, before any chroot.  We do not use
 * syslog(3): after a failed send it opens a new socket, a syscall the
 * sandboxed processes must not make.  A failed send loses that line only.
 */
void
log_init(int foreground, int facility)
{
	struct sockaddr_un	 sun;

	log_tostderr = foreground;
	log_facility = facility;
	event_set_log_callback(log_libevent);
	tzset();
	if (foreground || log_sock != -1)
		return;	/* stderr, or already connected */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, "/dev/log", sizeof(sun.sun_path));
	log_sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (log_sock != -1 &&
	    connect(log_sock, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(log_sock);
		log_sock = -1;
	}
}

static void
log_syslog(int pri, const char *line)
{
	char		 buf[LOG_LINE_MAX * 2 + 128], ts[32];
	struct tm	 tm;
	time_t		 now;
	int		 n;

	if (log_sock == -1)
		return;
	now = time(NULL);
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%b %e %H:%M:%S", &tm) == 0)
		ts[0] = '\0';
	n = snprintf(buf, sizeof(buf), "<%d>%s sendgated[%ld]: %s",
	    log_facility | pri, ts, (long)getpid(), line);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	(void)send(log_sock, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

void
log_procname(const char *name)
{
	snprintf(log_name, sizeof(log_name), "%s", name);
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return log_verbose;
}

/*
 * Escape len bytes of src into dst (always NUL-terminated when dstsize > 0).
 * Returns the length written.  Output that does not fit is cut at an
 * escape boundary and ends in "...", so truncation is visible.
 */
size_t
log_escape(char *dst, size_t dstsize, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char		 tmp[5];
	size_t		 i, o = 0, n;
	unsigned char	 c;

	if (dstsize == 0)
		return 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)src[i];
		n = 0;
		if (c == '\\') {
			tmp[n++] = '\\';
			tmp[n++] = '\\';
		} else if (c >= 0x20 && c < 0x7f)
			tmp[n++] = c;
		else if (c == '\n' || c == '\r' || c == '\t') {
			tmp[n++] = '\\';
			tmp[n++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else {
			tmp[n++] = '\\';
			tmp[n++] = 'x';
			tmp[n++] = hex[c >> 4];
			tmp[n++] = hex[c & 0xf];
		}
		if (o + n + 1 > dstsize) {
			while (o > 0 && o + 4 > dstsize)
				o--;
			if (o + 4 <= dstsize) {
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(dst + o, tmp, n);
		o += n;
	}
	dst[o] = '\0';
	return o;
}

static void
log_vemit(int pri, const char *errstr, const char *fmt, va_list ap)
{
	char	 raw[LOG_LINE_MAX], esc[LOG_LINE_MAX * 2];
	char	 line[LOG_LINE_MAX * 2 + 256];
	int	 n;
	size_t	 len;

	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	if (n < 0)
		return;
	len = (size_t)n < sizeof(raw) ? (size_t)n : sizeof(raw) - 1;
	log_escape(esc, sizeof(esc), raw, len);
	/*
	 * One write(2) per line, no stdio: stdio probes the fd with fstat
	 * and lseek, which the sandboxed processes may not call.
	 */
	if (errstr != NULL)
		n = snprintf(line, sizeof(line), "%s: %s: %s", log_name, esc,
		    errstr);
	else
		n = snprintf(line, sizeof(line), "%s: %s", log_name, esc);
	if (n < 0)
		return;
	len = (size_t)n < sizeof(line) - 1 ? (size_t)n : sizeof(line) - 2;
	if (log_tostderr) {
		line[len++] = '\n';
		if (write(STDERR_FILENO, line, len) == -1)
			return;	/* nowhere left to report it */
	} else {
		line[len] = '\0';
		log_syslog(pri, line);
	}
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vemit(LOG_ERR, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vemit(LOG_ERR, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vemit(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_vemit(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vemit(LOG_CRIT, strerror(saved), fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vemit(LOG_CRIT, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
