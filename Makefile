# sendgate - privilege-separated SMTP relay for send connectors.
#
#   make            build sendgated and sendgatectl
#   make run        install packages, build, start a throw-away relay in ./run
#   make check      install packages, build (normal + ASan/UBSan), run all tests
#   make install    install binaries, man pages, service files, users
#   make bench      run the benchmarks in regress/bench (never part of check)
#   make fuzz       build and briefly run the libFuzzer targets (clang)

VERSION =	0.1.0

include mk/flags.mk
include mk/paths.mk

# Every .c file of the process folders goes into one archive; the two
# programs and the unit tests link against it.
MAINS =		smtpd/sendgated.c control/sendgatectl.c
LIB_SRCS =	$(filter-out $(MAINS), \
		    $(wildcard smtpd/*.c lka/*.c queue/*.c mta/*.c control/*.c))
LIB_OBJS =	$(LIB_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/smtpd/parse.o
LIB =		$(BUILD)/libsendgate.a

UNIT_SRCS =	$(wildcard regress/unit/test_*.c)
UNIT_BINS =	$(UNIT_SRCS:regress/unit/%.c=$(BUILD)/regress/%)

HDRS =		$(wildcard smtpd/*.h lka/*.h queue/*.h mta/*.h control/*.h)

PY =		/usr/bin/python3

.PHONY: all deps deps-test deps-fuzz users run check unit unit-asan \
	integration integration-asan install bench fuzz clean lint-man

all: $(BUILD)/sendgated $(BUILD)/sendgatectl

$(BUILD)/%.o: %.c $(HDRS) $(BUILD)/smtpd/parse.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# byacc output is not warning-clean under -Wextra; it is still built with
# -Werror, minus the two warnings its skeleton trips.
$(BUILD)/smtpd/parse.c $(BUILD)/smtpd/parse.h: smtpd/parse.y
	@mkdir -p $(BUILD)/smtpd
	$(YACC) -d -o $(BUILD)/smtpd/parse.c smtpd/parse.y

$(BUILD)/smtpd/parse.o: $(BUILD)/smtpd/parse.c $(HDRS)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -Wno-unused-but-set-variable \
	    -c -o $@ $<

$(LIB): $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/sendgated: $(BUILD)/smtpd/sendgated.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/sendgatectl: $(BUILD)/control/sendgatectl.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/regress/%: regress/unit/%.c $(LIB) $(HDRS) $(wildcard regress/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iregress/unit $(ALL_LDFLAGS) -o $@ $< $(LIB) \
	    $(PKG_LIBS) -lcmocka

deps:
	sh mk/deps.sh mk/packages-build.txt

deps-test: deps
	sh mk/deps.sh mk/packages-test.txt

deps-fuzz: deps
	sh mk/deps.sh mk/packages-fuzz.txt

users:
	sh mk/users.sh

# A throw-away relay in ./run on loopback: config, self-signed certificate,
# state, queue and key directories, foreground with logs on stderr.
run: deps
	$(MAKE) all
	sh mk/users.sh
	sh mk/run.sh $(BUILD)

unit: $(UNIT_BINS)
	sh regress/unit/run.sh $(UNIT_BINS)

unit-asan:
	$(MAKE) SAN=1 unit

integration: all bench-tools
	sh mk/users.sh
	cd regress/integration && SENDGATE_BUILD=$(CURDIR)/$(BUILD) \
	    $(PY) -m pytest -q -p no:cacheprovider .

# The SMTP tests again against the ASan/UBSan daemon: any sanitizer report
# in a relay's log fails the test (seccomp logs instead of killing there).
integration-asan:
	$(MAKE) SAN=1 all
	sh mk/users.sh
	cd regress/integration && SENDGATE_BUILD=$(CURDIR)/build-asan \
	    SENDGATE_SANITIZED=1 ASAN_OPTIONS=detect_leaks=0 \
	    $(PY) -m pytest -q -p no:cacheprovider test_submission.py \
	    test_smtp_*.py test_durability.py test_delivery*.py

# The fuzz corpora are replayed with gcc as regression tests (no clang).
check: deps-test
	$(MAKE) all lint-man
	$(MAKE) unit
	$(MAKE) unit-asan
	$(MAKE) -C regress/fuzz replay
	$(MAKE) integration
	$(MAKE) integration-asan

lint-man:
	mandoc -Tlint -Wwarning smtpd/sendgated.8 smtpd/sendgated.conf.5 \
	    control/sendgatectl.8

# System users are created only for a real install, not into a DESTDIR.
install: all
	if [ -z "$(DESTDIR)" ]; then sh mk/users.sh; fi
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(INITDIR) \
	    $(DESTDIR)$(SYSCONFDIR)
	install -m 0755 $(BUILD)/sendgated $(BUILD)/sendgatectl \
	    $(DESTDIR)$(SBINDIR)
	install -m 0644 smtpd/sendgated.8 control/sendgatectl.8 \
	    $(DESTDIR)$(MANDIR)/man8
	install -m 0644 smtpd/sendgated.conf.5 $(DESTDIR)$(MANDIR)/man5
	sed 's|@SBINDIR@|$(SBINDIR)|g' smtpd/sendgated.service \
	    > $(DESTDIR)$(UNITDIR)/sendgated.service
	sed 's|@SBINDIR@|$(SBINDIR)|g' smtpd/sendgated.rc \
	    > $(DESTDIR)$(INITDIR)/sendgated
	chmod 0755 $(DESTDIR)$(INITDIR)/sendgated
	test -e $(DESTDIR)$(SYSCONFDIR)/sendgated.conf || \
	    install -m 0644 smtpd/sendgated.conf $(DESTDIR)$(SYSCONFDIR)
	install -d -m 0755 $(DESTDIR)/var/lib/sendgate

bench: all
	sh regress/bench/run.sh $(BUILD)

fuzz: deps-fuzz
	$(MAKE) -C regress/fuzz run

clean:
	rm -rf build build-asan regress/fuzz/build

# The SMTP load generator of the submission benchmark (regress/bench).
.PHONY: bench-tools
bench-tools: $(BUILD)/smtpload $(BUILD)/smtpsink $(BUILD)/dkimspeed
bench: bench-tools
$(BUILD)/smtpload: regress/bench/smtpload.c regress/bench/tlsmini.c \
    regress/bench/tlsmini.h
	@mkdir -p $(BUILD)
	$(CC) $(CSTD) $(OPT) $(WARN) $(HARDEN) $(CPPFLAGS) $(CFLAGS) \
	    $(shell $(PKG_CONFIG) --cflags libssl libcrypto gnutls) \
	    $(ALL_LDFLAGS) -o $@ regress/bench/smtpload.c \
	    regress/bench/tlsmini.c \
	    $(shell $(PKG_CONFIG) --libs libssl libcrypto gnutls) -lpthread
$(BUILD)/smtpsink: regress/bench/smtpsink.c
	@mkdir -p $(BUILD)
	$(CC) $(CSTD) $(OPT) $(WARN) $(HARDEN) $(CPPFLAGS) $(CFLAGS) \
	    $(ALL_LDFLAGS) -o $@ regress/bench/smtpsink.c
# DKIM signing micro benchmark (bench_dkim.py): the library's own code.
$(BUILD)/dkimspeed: regress/bench/dkimspeed.c $(LIB) $(HDRS)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ regress/bench/dkimspeed.c \
	    $(LIB) $(PKG_LIBS)
