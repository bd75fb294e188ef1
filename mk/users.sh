#!/bin/sh
# Create the system users and group sendgated drops privileges to.
# Idempotent; run as root by make install, make run and make check.
set -eu
grp() {
	getent group "$1" >/dev/null || groupadd --system "$1"
}
usr() {
	getent passwd "$1" >/dev/null ||
	    useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin --user-group "$1"
}
usr _sendgate
usr _sendgateq
usr _sendgatek
grp _sendgatectl
