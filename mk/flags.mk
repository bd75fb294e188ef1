# Compiler, warning and sanitizer flags.  Included by the top-level Makefile.

CC ?=		cc
YACC =		byacc
PKG_CONFIG ?=	pkg-config

PKGS =		libevent libtls libbsd-overlay sqlite3 libunbound libseccomp \
		libcrypto libidn2

WARN =		-Wall -Wextra -Werror -Wshadow -Wpointer-arith \
		-Wmissing-prototypes -Wstrict-prototypes -Wformat=2 \
		-Wno-unused-parameter
CSTD =		-std=gnu11 -D_GNU_SOURCE
OPT =		-O2 -g
HARDEN =	-fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
LDHARDEN =	-pie -Wl,-z,relro,-z,now

# SAN=1 selects the ASan/UBSan variant: it builds into its own tree so both
# variants can coexist (make check runs the unit tests under both).
ifeq ($(SAN),1)
OPT =		-O1 -g -fno-omit-frame-pointer
HARDEN =	-fsanitize=address,undefined -fno-sanitize-recover=all -fPIE
LDHARDEN =	-pie -fsanitize=address,undefined
BUILD ?=	build-asan
else
BUILD ?=	build
endif

PKG_CFLAGS :=	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS :=	$(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

ALL_CFLAGS =	$(CSTD) $(OPT) $(WARN) $(HARDEN) $(PKG_CFLAGS) \
		-I$(BUILD)/smtpd -Ismtpd -Ilka -Iqueue -Imta -Icontrol \
		-DSENDGATE_VERSION=\"$(VERSION)\" $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS =	$(LDHARDEN) $(LDFLAGS)
