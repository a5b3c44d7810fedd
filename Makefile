# dadshim: LD_PRELOAD fix for strongSwan <= 5.5.1's IPv6 DAD race.
# `make` builds shim/libdadshim.so; `make check` runs every test (as root);
# `make demo` shows the race without and with the shim.

VERSION   := 1.1.0
CC        ?= cc
CFLAGS    ?= -O2 -g
WARN      := -std=gnu99 -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes
PKGCONFIG ?= pkg-config
MNL_CFLAGS := $(shell $(PKGCONFIG) --cflags libmnl 2>/dev/null)
MNL_LIBS   := $(shell $(PKGCONFIG) --libs libmnl 2>/dev/null || echo -lmnl)

# Install layout (Debian multiarch by default).
PREFIX    ?= /usr
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
LIBDIR    ?= $(PREFIX)/lib$(if $(MULTIARCH),/$(MULTIARCH))
SHIMDIR   := $(LIBDIR)/dadshim
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
DESTDIR   ?=
INSTALL   ?= install

SHIM_SRCS := shim/interpose.c shim/send.c shim/receive.c shim/fdstate.c shim/nlwalk.c \
             shim/real.c shim/rewrite.c shim/inspect.c shim/dadwait.c \
             shim/settings.c shim/log.c shim/dumpfeed.c
CORE_SRCS := shim/nlwalk.c shim/rewrite.c shim/inspect.c shim/settings.c shim/dumpfeed.c
SHIM_HDRS := $(wildcard shim/*.h)
LIB       := shim/libdadshim.so

SHIM_CFLAGS := $(WARN) -fPIC -fvisibility=hidden -D_GNU_SOURCE $(MNL_CFLAGS)
# On stretch dlsym and pthread_once live in libdl and libpthread (since
# glibc 2.34 in libc, which leaves these two as stubs): keep them NEEDED.
SHIM_LIBS := -Wl,--no-as-needed -l:libdl.so.2 -l:libpthread.so.0 -Wl,--as-needed
SHIM_LDFLAGS := -shared -Wl,--version-script=shim/dadshim.map -Wl,-z,defs \
                -Wl,-z,now -Wl,-z,relro

# The charon-5.5.1 reproduction is built as Debian builds charon: hardened.
HARDEN    := -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong

TEST_BINS := tests/unit_core tests/charon551 tests/charon551_fortify \
             tests/mnlclient tests/passthru tests/heldrx

.PHONY: all check check-unit check-netns check-ike check-deploy check-ansible check-systemd lint demo \
        install uninstall deb fuzz bench deps clean

all: $(LIB)

$(LIB): $(SHIM_SRCS) $(SHIM_HDRS) shim/dadshim.map
	$(CC) $(CPPFLAGS) $(SHIM_CFLAGS) $(CFLAGS) $(SHIM_LDFLAGS) $(LDFLAGS) \
	    -o $@ $(SHIM_SRCS) $(MNL_LIBS) $(SHIM_LIBS)

tests/unit_core: tests/unit_core.c $(CORE_SRCS) $(SHIM_HDRS)
	$(CC) $(CPPFLAGS) $(WARN) -D_GNU_SOURCE $(MNL_CFLAGS) $(CFLAGS) $(LDFLAGS) \
	    -Ishim -o $@ tests/unit_core.c $(CORE_SRCS) $(MNL_LIBS)

tests/charon551: tests/charon551.c
	$(CC) $(WARN) $(HARDEN) -D_GNU_SOURCE -o $@ $< -lpthread

# Same program, receive buffer of a size the compiler knows: glibc's
# fortified __recv_chk/__recvfrom_chk are what it really calls.
tests/charon551_fortify: tests/charon551.c
	$(CC) $(WARN) $(HARDEN) -D_GNU_SOURCE -DFIXED_BUFLEN=4096 -o $@ $< -lpthread

tests/mnlclient: tests/mnlclient.c
	$(CC) $(WARN) $(HARDEN) -D_GNU_SOURCE $(MNL_CFLAGS) -o $@ $< $(MNL_LIBS)

tests/passthru: tests/passthru.c
	$(CC) $(WARN) $(HARDEN) -D_GNU_SOURCE -o $@ $<

# The receive side of held route requests (tests/reliability.sh).
tests/heldrx: tests/heldrx.c tests/nltest.h
	$(CC) $(WARN) $(HARDEN) -D_GNU_SOURCE -o $@ tests/heldrx.c -lpthread

deps:
	sh scripts/deps.sh

check: deps all $(TEST_BINS)
	sh tests/run-all.sh

check-unit: all tests/unit_core
	./tests/unit_core

check-netns: deps all $(TEST_BINS)
	sh tests/netns/run.sh

check-ike: deps all tests/charon551
	sh tests/ike/run.sh

check-deploy: deps all
	sh tests/deploy/run.sh

# The rollout playbook against this machine (-c local); builds the .deb.
check-ansible: deps all
	sh tests/ansible/run.sh

# The .deb under a real systemd, booted in a container (builds its root once).
check-systemd: deps all
	sh tests/systemd/run.sh

lint: deps
	sh scripts/lint.sh

demo:
	sh scripts/deps.sh --demo
	$(MAKE) all
	sh scripts/demo.sh

# The scripts learn the installed library path here, so that they never guess.
install: all
	$(INSTALL) -d $(DESTDIR)$(SHIMDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	$(INSTALL) -m 0644 $(LIB) $(DESTDIR)$(SHIMDIR)/libdadshim.so
	for s in dadshim dadshim-enable dadshim-doctor; do \
	    sed -e 's|@DADSHIM_LIB@|$(SHIMDIR)/libdadshim.so|g' \
	        -e 's|@DADSHIM_VERSION@|$(VERSION)|g' scripts/$$s \
	        >$(DESTDIR)$(SBINDIR)/$$s.tmp && \
	    chmod 0755 $(DESTDIR)$(SBINDIR)/$$s.tmp && \
	    mv -f $(DESTDIR)$(SBINDIR)/$$s.tmp $(DESTDIR)$(SBINDIR)/$$s || exit 1; \
	done
	sed -e 's|@DADSHIM_LIB@|$(SHIMDIR)/libdadshim.so|g' \
	    -e 's|@DADSHIM_VERSION@|$(VERSION)|g' scripts/dadshim.8 \
	    >$(DESTDIR)$(MANDIR)/man8/dadshim.8
	chmod 0644 $(DESTDIR)$(MANDIR)/man8/dadshim.8
	ln -sf dadshim.8 $(DESTDIR)$(MANDIR)/man8/dadshim-enable.8
	ln -sf dadshim.8 $(DESTDIR)$(MANDIR)/man8/dadshim-doctor.8

uninstall:
	rm -f $(DESTDIR)$(SHIMDIR)/libdadshim.so
	rm -f $(DESTDIR)$(SBINDIR)/dadshim $(DESTDIR)$(SBINDIR)/dadshim-enable $(DESTDIR)$(SBINDIR)/dadshim-doctor
	rm -f $(DESTDIR)$(MANDIR)/man8/dadshim.8 $(DESTDIR)$(MANDIR)/man8/dadshim-enable.8 \
	      $(DESTDIR)$(MANDIR)/man8/dadshim-doctor.8
	-rmdir $(DESTDIR)$(SHIMDIR) 2>/dev/null

# The package's library is built with Debian's hardening flags.
deb: deps
	$(MAKE) -B $(LIB) CFLAGS="$$(dpkg-buildflags --get CFLAGS)" \
	    CPPFLAGS="$$(dpkg-buildflags --get CPPFLAGS)" \
	    LDFLAGS="$$(dpkg-buildflags --get LDFLAGS)"
	sh scripts/mkdeb.sh $(VERSION)

# libFuzzer targets over the pure core, FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
fuzz: deps
	sh tests/fuzz/run.sh $(FUZZ_SECONDS)

# Figures beside baselines from the same run; never asserted.
bench: deps all $(TEST_BINS)
	sh tests/bench/run.sh

clean:
	rm -f $(LIB) $(TEST_BINS) shim/*.o tests/*.o
	rm -rf build
