# dadshim: LD_PRELOAD fix for strongSwan <= 5.5.1's IPv6 DAD race.
# `make` builds shim/libdadshim.so; `make check` runs every test (as root);
# `make demo` shows the race without and with the shim.

# debian/changelog (scripts/deb/changelog in this tree) is the one place
# for the version: make install writes it into the scripts and the man page.
VERSION   := $(shell awk 'NR == 1 { gsub(/[()]/, "", $$2); print $$2; exit }' \
               $(firstword $(wildcard debian/changelog scripts/deb/changelog)))
# The suites of make check, in the order it runs them (listed in tests/run-all.sh).
SUITES    := $(shell sed -n 's/^ALL="\(.*\)"$$/\1/p' tests/run-all.sh)
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

SHIM_SRCS := shim/interpose.c shim/send.c shim/fds.c shim/log.c shim/core.c
CORE_SRCS := shim/core.c
SHIM_HDRS := $(wildcard shim/*.h)
LIB       := shim/libdadshim.so

SHIM_CFLAGS := $(WARN) -fPIC -fvisibility=hidden -D_GNU_SOURCE $(MNL_CFLAGS)
# On stretch dlsym and pthread_once live in libdl and libpthread (since
# glibc 2.34 in libc, which leaves these two as stubs): keep them NEEDED.
SHIM_LIBS := -Wl,--no-as-needed -l:libdl.so.2 -l:libpthread.so.0 -Wl,--as-needed
SHIM_LDFLAGS := -shared -Wl,--version-script=shim/dadshim.map -Wl,-z,defs \
                -Wl,-z,now -Wl,-z,relro

.PHONY: all check $(SUITES:%=check-%) check-arch arch-programs lint demo dist test-programs \
        install uninstall deb fuzz bench deps clean

# $(call shim_so,FLAGS): links the shim's sources into the library $@, with
# FLAGS (optimisation, defines) between its compile and link flags.
shim_so = $(CC) $(CPPFLAGS) $(SHIM_CFLAGS) $(1) $(SHIM_LDFLAGS) $(LDFLAGS) \
	    -o $@ $(SHIM_SRCS) $(MNL_LIBS) $(SHIM_LIBS)

all: $(LIB)

$(LIB): $(SHIM_SRCS) $(SHIM_HDRS) shim/dadshim.map
	$(call shim_so,$(CFLAGS))

# ---- Test programs: every one is a target here, built with the project's
# flags into build/tests/<suite>/ (make clean removes them).
BT        := build/tests
TEST_CFLAGS := $(WARN) -D_GNU_SOURCE
# The client replays are built as Debian builds charon: hardened.
HARDEN    := -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong
# The sanitized builds: every finding is fatal.
SAN       := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# libFuzzer needs clang; sanitize/run.sh replays the same fuzz binaries.
FUZZ_CC   ?= clang
FUZZ_CFLAGS := $(TEST_CFLAGS) -g -O1 $(MNL_CFLAGS) -Ishim -Itests/fuzz
# Every tests/fuzz/fuzz_NAME.c is a libFuzzer target NAME.
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

# The test programs, by convention rather than by list, so that adding a
# file is enough (tests/README.md, "Adding a test"): every tests/SUITE/*.c is
# a program of that suite, built into build/tests/SUITE/ by the suite's
# pattern rule below; a *hook.c is a library to preload, built as *hook.so.
progs_of = $(patsubst tests/$(1)/%.c,$(BT)/$(1)/%,$(filter-out %hook.c,$(wildcard tests/$(1)/*.c))) \
           $(patsubst tests/$(1)/%.c,$(BT)/$(1)/%.so,$(filter %hook.c,$(wildcard tests/$(1)/*.c)))
CLIENT_BINS := $(call progs_of,clients) $(BT)/clients/charon551_fortify
UNIT_BINS   := $(BT)/unit/unit_core
BADINPUT_BINS := $(call progs_of,badinput)
# ... and the shim's own test builds (TSan, ASan).
RELIABILITY_BINS := $(call progs_of,reliability) \
                    $(addprefix $(BT)/reliability/,stress_tsan faults_asan)
FUZZ_BINS   := $(FUZZ_TARGETS:%=$(BT)/fuzz/fuzz_%)
FUZZ_COV_BINS := $(FUZZ_TARGETS:%=$(BT)/fuzz/fuzz_%_cov)
SANITIZE_BINS := $(addprefix $(BT)/sanitize/,unit_core charon551 charon551-shim) $(FUZZ_BINS)
BENCH_BINS  := $(call progs_of,bench)
# What make check runs (fuzz coverage and bench builds are make fuzz's and
# make bench's).
TEST_BINS   := $(UNIT_BINS) $(CLIENT_BINS) $(BADINPUT_BINS) $(RELIABILITY_BINS) \
               $(SANITIZE_BINS)
RELIABILITY_H := tests/reliability/nltest.h

$(BT)/unit/unit_core: tests/unit/unit_core.c $(CORE_SRCS) $(SHIM_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(TEST_CFLAGS) $(MNL_CFLAGS) $(CFLAGS) $(LDFLAGS) \
	    -Ishim -o $@ tests/unit/unit_core.c $(CORE_SRCS) $(MNL_LIBS)

$(BT)/clients/charon551: tests/clients/charon551.c
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $(HARDEN) -o $@ $< -lpthread

# Same program, receive buffer of a size the compiler knows: glibc's
# fortified __recv_chk/__recvfrom_chk are what it really calls.
$(BT)/clients/charon551_fortify: tests/clients/charon551.c
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $(HARDEN) -DFIXED_BUFLEN=4096 -o $@ $< -lpthread

$(BT)/clients/mnlclient: tests/clients/mnlclient.c
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $(HARDEN) $(MNL_CFLAGS) -o $@ $< $(MNL_LIBS)

$(BT)/clients/passthru: tests/clients/passthru.c
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $(HARDEN) -o $@ $<

# Any other client: hardened, with libmnl and threads at hand.
$(BT)/clients/%: tests/clients/%.c
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $(HARDEN) $(MNL_CFLAGS) -o $@ $< $(MNL_LIBS) -lpthread

$(BT)/badinput/%: tests/badinput/%.c
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -O2 -o $@ $<

$(BT)/reliability/%: tests/reliability/%.c $(RELIABILITY_H)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -O2 -pthread -o $@ $< -ldl

$(BT)/reliability/%hook.so: tests/reliability/%hook.c
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -O2 -shared -fPIC -o $@ $<

# The shim's sources compiled into the program: its wrappers then
# interpose libc as the preloaded library does, under TSan or ASan.
$(BT)/reliability/stress_tsan: tests/reliability/stress.c $(RELIABILITY_H) $(SHIM_SRCS) $(SHIM_HDRS)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $(MNL_CFLAGS) -O2 -g -pthread -fsanitize=thread \
	    -o $@ $< $(SHIM_SRCS) $(MNL_LIBS) -ldl

$(BT)/reliability/faults_asan: tests/reliability/faults.c $(RELIABILITY_H) $(SHIM_SRCS) $(SHIM_HDRS)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $(MNL_CFLAGS) -O2 -g -pthread -fsanitize=address \
	    -o $@ $< $(SHIM_SRCS) $(MNL_LIBS) -ldl

$(BT)/sanitize/unit_core: tests/unit/unit_core.c $(CORE_SRCS) $(SHIM_HDRS)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -g -O1 $(SAN) $(MNL_CFLAGS) -Ishim -o $@ \
	    tests/unit/unit_core.c $(CORE_SRCS) $(MNL_LIBS)

$(BT)/sanitize/charon551: tests/clients/charon551.c
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -g -O1 $(SAN) -o $@ $< -lpthread

$(BT)/sanitize/charon551-shim: tests/clients/charon551.c $(SHIM_SRCS) $(SHIM_HDRS)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -g -O1 $(SAN) $(MNL_CFLAGS) -Ishim -o $@ \
	    $< $(SHIM_SRCS) $(MNL_LIBS) -ldl -lpthread

$(BT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/oracle.h $(CORE_SRCS) $(SHIM_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -o $@ $< $(CORE_SRCS) $(MNL_LIBS)

# The same target instrumented for coverage (make fuzz's table).
$(BT)/fuzz/fuzz_%_cov: tests/fuzz/fuzz_%.c tests/fuzz/oracle.h $(CORE_SRCS) $(SHIM_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -fprofile-instr-generate \
	    -fcoverage-mapping -o $@ $< $(CORE_SRCS) $(MNL_LIBS)

$(BT)/bench/%: tests/bench/%.c tests/bench/bench.h
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -O2 -o $@ $<

# The empty library of the start-up figure: it needs what the shim needs.
$(BT)/bench/%hook.so: tests/bench/%hook.c
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $(MNL_CFLAGS) -O2 -shared -fPIC -o $@ $< \
	    -Wl,--no-as-needed $(MNL_LIBS) $(SHIM_LIBS)

test-programs: $(TEST_BINS) $(FUZZ_COV_BINS) $(BENCH_BINS)

deps:
	sh scripts/deps.sh

# make check runs every suite (tests/run-all.sh sums their TAP into one
# "N passed, N failed" line); make check-SUITE runs one, summed the same way.
check: deps all $(TEST_BINS)
	sh tests/run-all.sh $(if $(ONLY),--only '$(ONLY)')

# make check-arch ARCH=armhf (arm64, i386): the library and the programs of
# the unit, netns and badinput suites, cross-built, run on Debian's kernel for ARCH in
# qemu-system (tests/arch/run.sh); arch-programs is what it builds.
ARCH_BINS := $(UNIT_BINS) $(CLIENT_BINS) $(BADINPUT_BINS)
arch-programs: all $(ARCH_BINS)
check-arch: deps
	sh tests/arch/run.sh $(or $(ARCH),armhf)

check-unit: all $(UNIT_BINS)
check-lint: deps all
check-netns: deps all $(CLIENT_BINS)
check-sanitize: deps all $(SANITIZE_BINS)
check-badinput: deps all $(BADINPUT_BINS)
check-reliability: deps all $(RELIABILITY_BINS)
check-deploy: deps all
# The rollout playbook against this machine (-c local); builds the .deb.
check-ansible: deps all
# The .deb under a real systemd, booted in a container (builds its root once).
check-systemd: deps all
check-ike: deps all $(BT)/clients/charon551
# ONLY=PATTERN: only the checks whose name PATTERN selects (e.g.
# make check-reliability ONLY='fault 3'; tests/README.md).
$(SUITES:%=check-%):
	sh tests/run-all.sh $(if $(ONLY),--only '$(ONLY)') $(@:check-%=%)

lint: check-lint

demo:
	sh scripts/deps.sh --demo
	$(MAKE) all
	sh scripts/demo.sh

# The scripts learn the installed library path here, so that they never guess;
# the man page is the tree's as it is (it names the path by its triplet).
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
	$(INSTALL) -m 0644 scripts/dadshim.8 $(DESTDIR)$(MANDIR)/man8/dadshim.8
	ln -sf dadshim.8 $(DESTDIR)$(MANDIR)/man8/dadshim-enable.8
	ln -sf dadshim.8 $(DESTDIR)$(MANDIR)/man8/dadshim-doctor.8

uninstall:
	rm -f $(DESTDIR)$(SHIMDIR)/libdadshim.so
	rm -f $(DESTDIR)$(SBINDIR)/dadshim $(DESTDIR)$(SBINDIR)/dadshim-enable $(DESTDIR)$(SBINDIR)/dadshim-doctor
	rm -f $(DESTDIR)$(MANDIR)/man8/dadshim.8 $(DESTDIR)$(MANDIR)/man8/dadshim-enable.8 \
	      $(DESTDIR)$(MANDIR)/man8/dadshim-doctor.8
	-rmdir $(DESTDIR)$(SHIMDIR) 2>/dev/null

# make deb: the Debian source package and what dpkg-buildpackage builds from
# it (debhelper, with dpkg-buildflags' hardening), all in build/:
# dadshim_V.dsc and .tar.xz, dadshim_V_ARCH.deb, dadshim-dbgsym_V_ARCH.deb,
# .buildinfo and .changes.  The source tree is the files git tracks (every
# file, outside a git checkout) with scripts/deb/ as its debian/; the tree's
# own build and $(LIB) are left alone.  See scripts/deb/README.source.
# ARCH=armhf (arm64, i386, ...) cross-builds that architecture's binary
# packages with Debian's cross toolchain (scripts/deps.sh --arch installs it);
# the source package comes from the native build.
DEB_SRC := build/dadshim-$(VERSION)
BUILD_ARCH := $(shell dpkg --print-architecture 2>/dev/null)
DEB_ARCH := $(or $(ARCH),$(BUILD_ARCH))
ifeq ($(DEB_ARCH),$(BUILD_ARCH))
DEB_BUILD := dpkg-buildpackage -us -uc
DEB_OLD := build/dadshim_$(VERSION).*
else
DEB_BUILD := DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b -a$(DEB_ARCH) -Pnocheck
endif
deb: deps
	$(if $(filter-out $(BUILD_ARCH),$(DEB_ARCH)),sh scripts/deps.sh --arch $(DEB_ARCH))
	rm -rf $(DEB_SRC) $(DEB_OLD) build/dadshim_$(VERSION)_$(DEB_ARCH).* build/dadshim-dbgsym_$(VERSION)_$(DEB_ARCH).*
	mkdir -p $(DEB_SRC)
	if [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ]; then git ls-files; \
	else find . -path ./build -prune -o -path ./.git -prune -o -type f -print; fi | \
	    sed 's|^\./||' | while IFS= read -r f; do if [ -e "$$f" ]; then echo "$$f"; fi; done | \
	    tar -c --no-recursion --verbatim-files-from -T - -f - \
	        --transform 's|^scripts/deb/|debian/|' | tar -x -C $(DEB_SRC)
	cd $(DEB_SRC) && $(DEB_BUILD)
	rm -rf $(DEB_SRC)
	sh scripts/check-deb.sh build/dadshim_$(VERSION)_$(DEB_ARCH).deb

# make dist: build/dist/ with the packages, the source package, a flat apt
# repository (signed when DADSHIM_SIGN_KEY names a gpg key) and SHA256SUMS.
dist: deb
	sh scripts/dist.sh

# libFuzzer targets over the pure core, FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
fuzz: deps $(FUZZ_BINS) $(FUZZ_COV_BINS)
	sh tests/fuzz/run.sh $(FUZZ_SECONDS)

# Figures beside baselines from the same run; never asserted.
# BEFORE=COMMIT also measures that commit's library (built from git into
# build/bench-before/), in the same invocation: before, then after.
BENCH_BEFORE := build/bench-before
bench: deps all $(BT)/clients/charon551 $(BENCH_BINS)
	if [ -n "$(BEFORE)" ]; then \
	    rm -rf $(BENCH_BEFORE) && mkdir -p $(BENCH_BEFORE) && \
	    git archive "$(BEFORE)" | tar -x -C $(BENCH_BEFORE) && \
	    $(MAKE) -C $(BENCH_BEFORE) shim/libdadshim.so >/dev/null && \
	    BENCH_SHIM=$(CURDIR)/$(BENCH_BEFORE)/shim/libdadshim.so \
	    BENCH_LABEL="before: $(BEFORE)" sh tests/bench/run.sh || exit 1; \
	fi
	BENCH_LABEL="after: $$(git rev-parse --short HEAD 2>/dev/null || echo this tree)" \
	    sh tests/bench/run.sh

clean:
	rm -f $(LIB) shim/*.o
	rm -rf build
