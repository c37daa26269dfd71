# imaddr: plain GNU make. `make demo` and `make check` are the quick start.
PREFIX ?= /usr/local
DESTDIR ?=
bindir ?= $(PREFIX)/bin
libdir ?= $(PREFIX)/lib
includedir ?= $(PREFIX)/include
datadir ?= $(PREFIX)/share
mandir ?= $(datadir)/man
man1dir ?= $(mandir)/man1
pkgconfigdir ?= $(libdir)/pkgconfig
bashcompdir ?= $(datadir)/bash-completion/completions
INSTALL ?= install

VERSION := $(shell sed -n 's/^\#define IMADDR_VERSION "\(.*\)"/\1/p' include/imaddr.h)
# The soname's number: raised when the ABI breaks (src/libimaddr.map says what is exported).
SOVERSION := 0

BUILD ?= build
# The demo and the tests run this checkout's imaddr, not the machine's: its
# /etc/imaddr/imaddr.conf, if any, is not read (tests/package/run reads it).
export IMADDR_CONFIG :=
CC ?= cc
# Cross builds name their own (debhelper passes <triplet>-pkg-config).
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
PKGS := icu-uc icu-i18n sqlite3 ldap lber jansson xlsxwriter
IMADDR_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter \
	-Iinclude -Isrc -MMD -MP
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lcsv -lpthread
# The program alone reads a configuration file (libinih).
TOOL_PKGS := inih
TOOL_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(TOOL_PKGS) 2>/dev/null)
TOOL_LIBS = $(shell $(PKG_CONFIG) --libs $(TOOL_PKGS) 2>/dev/null)
ALL_CFLAGS = $(IMADDR_CFLAGS) $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(EXTRA_LDFLAGS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

TOOL_SRCS := $(wildcard src/tool_*.c)
LIB_SRCS := $(filter-out $(TOOL_SRCS),$(wildcard src/*.c))
LIB_OBJS := $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
TOOL_OBJS := $(TOOL_SRCS:src/%.c=$(BUILD)/obj/%.o)
# The program without main(), for the tests of its own modules (test_tool_*).
TOOL_TEST_OBJS := $(filter-out $(BUILD)/obj/tool_main.o,$(TOOL_OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TEST_SUPPORT_SRCS := $(wildcard tests/support/*.c)
TEST_SUPPORT_OBJS := $(TEST_SUPPORT_SRCS:tests/support/%.c=$(BUILD)/tests/support/%.o)

LIB := $(BUILD)/libimaddr.a
SHLIB_NAME := libimaddr.so.$(SOVERSION)
SHLIB := $(BUILD)/libimaddr.so.$(VERSION)
BIN := $(BUILD)/imaddr

.PHONY: FORCE all deps test-deps demo check test-all test unit cases ldap install-test completion html memory asan fuzz \
	bench install install-strip uninstall dist distcheck package package-test clean
.SECONDARY:
all: $(BIN) $(LIB) $(SHLIB)

deps:
	@scripts/install-deps --build

test-deps:
	@scripts/install-deps --test

# Objects are rebuilt when the compiler or its flags change (a tree built
# before the objects were -fPIC, or with other CFLAGS): the stamp holds them.
FLAGS_STAMP := $(BUILD)/obj/flags
$(FLAGS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(CC) $(ALL_CFLAGS) $(TOOL_CFLAGS) -fPIC' | cmp -s - $@ || \
		echo '$(CC) $(ALL_CFLAGS) $(TOOL_CFLAGS) -fPIC' >$@
FORCE:

# The library's objects are position-independent: one set for both libraries.
$(BUILD)/obj/%.o: src/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<

$(BUILD)/obj/tool_%.o: src/tool_%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(TOOL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# Only the functions of imaddr.h are exported, under the version node IMADDR_0.
$(SHLIB): $(LIB_OBJS) src/libimaddr.map
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,$(SHLIB_NAME) \
		-Wl,--version-script,src/libimaddr.map -Wl,--no-undefined -o $@ $(LIB_OBJS) \
		$(PKG_LIBS) $(ALL_LDFLAGS)
	$(Q)ln -sf $(notdir $@) $(BUILD)/$(SHLIB_NAME) && ln -sf $(SHLIB_NAME) $(BUILD)/libimaddr.so

# The program links the static library: build/imaddr runs from the tree.
$(BIN): $(TOOL_OBJS) $(LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(TOOL_OBJS) $(LIB) $(PKG_LIBS) $(TOOL_LIBS) $(ALL_LDFLAGS)

$(BUILD)/tests/support/%.o: tests/support/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/support -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB) $(TEST_SUPPORT_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/support -o $@ $< $(TEST_SUPPORT_OBJS) $(LIB) \
		$(PKG_LIBS) -lcriterion $(ALL_LDFLAGS)

$(BUILD)/tests/test_tool_%: tests/unit/test_tool_%.c $(TOOL_TEST_OBJS) $(LIB) $(TEST_SUPPORT_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/support -o $@ $< $(TEST_SUPPORT_OBJS) $(TOOL_TEST_OBJS) \
		$(LIB) $(PKG_LIBS) $(TOOL_LIBS) -lcriterion $(ALL_LDFLAGS)

# The quick start: install what is missing, audit samples/, print the summary.
demo: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p out
	$(BIN) audit --csv samples/cucm-export.csv --scheme userid \
		--default-domain example.com --bat out/cucm-bat.csv --db out/report.sqlite \
		--fail-on never
	$(BIN) audit --csv samples/ad-users.csv --scheme directory-uri \
		--im-domains example.com,example.org,münchen.example --bat out/ad-bat.csv \
		--db out/report.sqlite --fail-on never

# Everything, and at the same time everything again under AddressSanitizer
# and UBSan: one core each. Each half's output is printed whole when it ends.
check: test-deps
	@$(MAKE) --no-print-directory -j2 --output-sync=recurse test-all asan

# The plain half as one job, so that it shares the two cores with asan.
test-all:
	@$(MAKE) --no-print-directory test

test: unit cases ldap install-test completion html memory

unit: $(BIN) $(UNIT_BINS)
	@IMADDR=$(BIN) tests/run-unit $(UNIT_BINS)

cases: $(BIN)
	@tests/run-cases $(BIN)

# A throw-away slapd and the real binary: LDAP, LDIF and CSV give the same audit.
ldap: $(BIN)
	@tests/ldap/run $(BIN)

# make install into a temporary DESTDIR, a program built against it through
# pkg-config (shared and static), the exported symbols, make uninstall.
install-test: all
	@BUILD=$(BUILD) MAKE="$(MAKE)" tests/install/run

# The bash completion, driven as bash drives it.
completion: $(BIN)
	@tests/completion/run $(BIN)

# The HTML report rendered by a headless chromium; a screenshot stays in $(BUILD).
html: $(BIN)
	@tests/html/run $(BIN)

# Hostile inputs streamed through the binary at a peak RSS of at most 100 MiB:
# the plain build only, as AddressSanitizer's shadow memory inflates RSS.
memory: $(BIN) $(BUILD)/tests/peak-rss
	@tests/memory/run $(BIN) $(BUILD)/tests/peak-rss

$(BUILD)/tests/peak-rss: tests/memory/peak-rss.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(ALL_LDFLAGS)

# One test at a time per binary: Criterion's parallel runner now and then
# leaves a 48-byte block of its own behind, which LeakSanitizer reports as
# a failure (test_audit, about one run in four with --jobs 2, none in twenty
# with 1). Suppressing libcriterion instead would hide the tests' own leaks,
# whose stacks pass through it.
asan:
	@UNIT_JOBS=1 $(MAKE) --no-print-directory BUILD=build-asan \
		CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" unit cases ldap

# Coverage-guided fuzzing (clang's libFuzzer with ASan and UBSan), seeded from
# samples/, tests/ldap/ and tests/fuzz/regress/: each reader with the audit
# and its summary (fuzz_csv, fuzz_ldif), the whole audit with every output
# (fuzz_audit_csv, fuzz_audit_ldif), audit's command line and configuration
# file (fuzz_options) and check-address. Never part of make check;
# FUZZ_SECONDS per target. The targets' files go to a directory of
# FUZZ_TMPDIR's, removed after each target, crash or not: /dev/shm, where the
# outputs' fsyncs cost nothing (the whole audit runs four times faster than on
# a disk). A crash input goes to build-fuzz/crash-*. The whole audit is
# fuzzed without entropic scheduling, which would spend most of the time
# ranking its features (three times the speed without).
FUZZ_SECONDS ?= 60
FUZZ_TMPDIR ?= $(if $(wildcard /dev/shm/.),/dev/shm,$(CURDIR)/build-fuzz)
FUZZ_TARGETS := fuzz_csv fuzz_ldif fuzz_audit_csv fuzz_audit_ldif fuzz_options fuzz_check_address
FUZZ_CC = clang $(IMADDR_CFLAGS) $(PKG_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined
FUZZ_TOOL_OBJS := $(patsubst $(BUILD)/%,build-fuzz/%,$(TOOL_TEST_OBJS))
# fuzz_run TARGET CORPUS FLAGS
define fuzz_run
	tmp=$$(mktemp -d $(FUZZ_TMPDIR)/imaddr-fuzz.XXXXXX) && trap 'rm -rf "$$tmp"' EXIT INT TERM && \
		TMPDIR=$$tmp build-fuzz/$(1) -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=build-fuzz/ $(3) build-fuzz/corpus/$(2)
endef
fuzz:
	@scripts/install-deps --fuzz
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang \
		CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" build-fuzz/libimaddr.a \
		$(FUZZ_TOOL_OBJS)
	@mkdir -p build-fuzz/corpus/csv build-fuzz/corpus/ldif build-fuzz/corpus/address \
		build-fuzz/corpus/options
	@cp samples/*.csv build-fuzz/corpus/csv/
	@cp tests/ldap/*.ldif build-fuzz/corpus/ldif/
	@find tests/fuzz/regress -name '*.csv' -exec cp {} build-fuzz/corpus/csv/ \;
	@find tests/fuzz/regress -name '*.args' -exec cp {} build-fuzz/corpus/options/ \;
	@find tests/fuzz/regress -type f ! -name '*.csv' ! -name '*.args' \
		-exec cp {} build-fuzz/corpus/ldif/ \;
	@head -n 200 samples/*.csv | tr ',' '\n' | split -l 1 - build-fuzz/corpus/address/s
	@printf '%s\0' --csv users.csv --default-domain example.com --bat bat.csv --db r.sqlite \
		>build-fuzz/corpus/options/csv.args
	@printf '%s\0' -H ldap://dc1 -b dc=example,dc=com -D cn=admin -y pw -s one \
		--filter '(objectClass=user)' --scheme directory-uri >build-fuzz/corpus/options/ldap.args
	@printf '%s\0' --profile nightly --fail-on new >build-fuzz/corpus/options/config.args
	@printf '\0[nightly]\ncluster = east\nldif = users.ldif\ndefault-domain = example.com\ndb = r.sqlite\nquiet = yes\n' \
		>>build-fuzz/corpus/options/config.args
	@sed -n 's/^\t{ "\([a-z-]*\)",.*/"--\1"/p' src/tool_audit_options.c >build-fuzz/options.dict
	$(FUZZ_CC) -DFUZZ_READER_CSV -o build-fuzz/fuzz_csv tests/fuzz/fuzz_reader.c \
		build-fuzz/libimaddr.a $(PKG_LIBS)
	$(FUZZ_CC) -o build-fuzz/fuzz_ldif tests/fuzz/fuzz_reader.c build-fuzz/libimaddr.a $(PKG_LIBS)
	$(FUZZ_CC) -DFUZZ_AUDIT_CSV -o build-fuzz/fuzz_audit_csv tests/fuzz/fuzz_audit.c \
		build-fuzz/libimaddr.a $(PKG_LIBS)
	$(FUZZ_CC) -o build-fuzz/fuzz_audit_ldif tests/fuzz/fuzz_audit.c build-fuzz/libimaddr.a \
		$(PKG_LIBS)
	$(FUZZ_CC) $(TOOL_CFLAGS) -o build-fuzz/fuzz_options tests/fuzz/fuzz_options.c \
		$(FUZZ_TOOL_OBJS) build-fuzz/libimaddr.a $(PKG_LIBS) $(TOOL_LIBS)
	$(FUZZ_CC) -o build-fuzz/fuzz_check_address tests/fuzz/fuzz_check_address.c \
		build-fuzz/libimaddr.a $(PKG_LIBS)
	$(call fuzz_run,fuzz_csv,csv,-max_len=65536)
	$(call fuzz_run,fuzz_ldif,ldif,-max_len=65536)
	$(call fuzz_run,fuzz_audit_csv,csv,-max_len=65536 -entropic=0)
	$(call fuzz_run,fuzz_audit_ldif,ldif,-max_len=65536 -entropic=0)
	$(call fuzz_run,fuzz_options,options,-max_len=4096 -dict=build-fuzz/options.dict -close_fd_mask=3)
	$(call fuzz_run,fuzz_check_address,address,)

bench: all
	@scripts/install-deps --bench
	@bench/run

install: all
	$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(libdir) $(DESTDIR)$(includedir) \
		$(DESTDIR)$(man1dir) $(DESTDIR)$(pkgconfigdir) $(DESTDIR)$(bashcompdir)
	$(INSTALL) -m 755 $(STRIP_FLAG) $(BIN) $(DESTDIR)$(bindir)/imaddr
	$(INSTALL) -m 644 $(LIB) $(DESTDIR)$(libdir)/libimaddr.a
	$(INSTALL) -m 644 $(STRIP_FLAG) $(SHLIB) $(DESTDIR)$(libdir)/libimaddr.so.$(VERSION)
	ln -sf libimaddr.so.$(VERSION) $(DESTDIR)$(libdir)/$(SHLIB_NAME)
	ln -sf $(SHLIB_NAME) $(DESTDIR)$(libdir)/libimaddr.so
	$(INSTALL) -m 644 include/imaddr.h $(DESTDIR)$(includedir)/imaddr.h
	sed -e 's|@prefix@|$(PREFIX)|' -e 's|@libdir@|$(libdir)|' \
		-e 's|@includedir@|$(includedir)|' -e 's|@VERSION@|$(VERSION)|' \
		-e 's|@PKGS@|$(PKGS)|' imaddr.pc.in >$(DESTDIR)$(pkgconfigdir)/imaddr.pc
	chmod 644 $(DESTDIR)$(pkgconfigdir)/imaddr.pc
	$(INSTALL) -m 644 docs/imaddr.1 $(DESTDIR)$(man1dir)/imaddr.1
	$(INSTALL) -m 644 completions/imaddr.bash $(DESTDIR)$(bashcompdir)/imaddr

# As install, with the program and the shared library stripped of symbols.
install-strip:
	@$(MAKE) --no-print-directory install STRIP_FLAG=-s

uninstall:
	rm -f $(DESTDIR)$(bindir)/imaddr $(DESTDIR)$(libdir)/libimaddr.a \
		$(DESTDIR)$(libdir)/libimaddr.so.$(VERSION) $(DESTDIR)$(libdir)/$(SHLIB_NAME) \
		$(DESTDIR)$(libdir)/libimaddr.so $(DESTDIR)$(includedir)/imaddr.h \
		$(DESTDIR)$(pkgconfigdir)/imaddr.pc $(DESTDIR)$(man1dir)/imaddr.1 \
		$(DESTDIR)$(bashcompdir)/imaddr

# A release tarball of the committed HEAD, which builds and tests on its own
# (make distcheck proves it).
DIST := $(BUILD)/imaddr-$(VERSION).tar.gz
dist:
	@mkdir -p $(BUILD)
	git archive --format=tar.gz --prefix=imaddr-$(VERSION)/ -o $(DIST) HEAD
	@echo "  DIST    $(DIST)"

distcheck: dist
	rm -rf $(BUILD)/distcheck && mkdir -p $(BUILD)/distcheck
	tar -xzf $(DIST) -C $(BUILD)/distcheck
	$(MAKE) -C $(BUILD)/distcheck/imaddr-$(VERSION) -j2 all
	$(MAKE) -C $(BUILD)/distcheck/imaddr-$(VERSION) test

# The Debian packages (imaddr, libimaddr0, libimaddr-dev) built from the
# tarball with dpkg-buildpackage into $(BUILD)/package/, then lintian.
package: dist
	@scripts/install-deps --package
	rm -rf $(BUILD)/package && mkdir -p $(BUILD)/package
	tar -xzf $(DIST) -C $(BUILD)/package
	cd $(BUILD)/package/imaddr-$(VERSION) && dpkg-buildpackage -us -uc -b
	lintian --fail-on error,warning $(BUILD)/package/imaddr_$(VERSION)_*.changes

# Slow, and it installs the packages into this system: for a throw-away
# machine (../shared/tools/fresh-check 'make package-test'). The tarball's
# own make test, then the packages installed with apt-get.
package-test: package
	@scripts/install-deps --test
	@$(MAKE) --no-print-directory distcheck
	@tests/package/run $(BUILD)/package

clean:
	rm -rf build build-asan build-fuzz out

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/tests/*.d $(BUILD)/tests/support/*.d)
