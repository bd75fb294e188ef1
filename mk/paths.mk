# Install paths.  Override on the command line: make PREFIX=/usr DESTDIR=/tmp/pkg install

PREFIX ?=	/usr/local
SBINDIR ?=	$(PREFIX)/sbin
MANDIR ?=	$(PREFIX)/share/man
SYSCONFDIR ?=	/etc
UNITDIR ?=	/lib/systemd/system
INITDIR ?=	/etc/init.d
