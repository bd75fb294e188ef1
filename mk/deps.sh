#!/bin/sh
# Install the Debian packages listed in the given files, only when some are
# missing, so that a second run costs nothing and needs no network.
set -eu
want=""
for f in "$@"; do
	want="$want $(grep -v '^#' "$f" | tr '\n' ' ')"
done
missing=""
for p in $want; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = "installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing (run as root to install)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
