# imaddr: plain GNU make. `make demo` and `make check` are the quick start.
PREFIX ?= /usr/local
DESTDIR ?=
bindir ?= $(PREFIX)/bin
libdir ?= $(PREFIX)/lib
includedir ?= $(PREFIX)/include
mandir ?= $(PREFIX)/share/man
man1dir ?= $(mandir)/man1

BUILD ?= build
CC ?= cc
CFLAGS ?= -O2 -g
PKGS := icu-uc icu-i18n sqlite3 ldap lber jansson xlsxwriter
IMADDR_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter \
	-Iinclude -Isrc -MMD -MP
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -lpthread
ALL_CFLAGS = $(IMADDR_CFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
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
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TEST_SUPPORT_SRCS := $(wildcard tests/support/*.c)
TEST_SUPPORT_OBJS := $(TEST_SUPPORT_SRCS:tests/support/%.c=$(BUILD)/tests/support/%.o)

LIB := $(BUILD)/libimaddr.a
BIN := $(BUILD)/imaddr

.PHONY: all deps test-deps demo check test-all test unit cases ldap html asan fuzz bench install uninstall clean
.SECONDARY:
all: $(BIN)

deps:
	@scripts/install-deps --build

test-deps:
	@scripts/install-deps --test

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(TOOL_OBJS) $(LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(TOOL_OBJS) $(LIB) $(PKG_LIBS) $(ALL_LDFLAGS)

$(BUILD)/tests/support/%.o: tests/support/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/support -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB) $(TEST_SUPPORT_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/support -o $@ $< $(TEST_SUPPORT_OBJS) $(LIB) \
		$(PKG_LIBS) -lcriterion $(ALL_LDFLAGS)

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

test: unit cases ldap html

unit: $(BIN) $(UNIT_BINS)
	@IMADDR=$(BIN) tests/run-unit $(UNIT_BINS)

cases: $(BIN)
	@tests/run-cases $(BIN)

# A throw-away slapd and the real binary: LDAP, LDIF and CSV give the same audit.
ldap: $(BIN)
	@tests/ldap/run $(BIN)

# The HTML report rendered by a headless chromium; a screenshot stays in $(BUILD).
html: $(BIN)
	@tests/html/run $(BIN)

asan:
	@$(MAKE) --no-print-directory BUILD=build-asan \
		CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" test

# Coverage-guided fuzzing of every reader and of check-address (clang's
# libFuzzer with ASan and UBSan), seeded from samples/ and tests/ldap/.
# Never part of make check; FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := fuzz_csv fuzz_ldif fuzz_check_address
fuzz:
	@scripts/install-deps --fuzz
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang \
		CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" build-fuzz/libimaddr.a
	@mkdir -p build-fuzz/corpus/csv build-fuzz/corpus/ldif build-fuzz/corpus/address
	@cp samples/*.csv build-fuzz/corpus/csv/
	@cp tests/ldap/*.ldif build-fuzz/corpus/ldif/
	@head -n 200 samples/*.csv | tr ',' '\n' | split -l 1 - build-fuzz/corpus/address/s
	clang $(IMADDR_CFLAGS) $(PKG_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined \
		-DFUZZ_READER_CSV -o build-fuzz/fuzz_csv tests/fuzz/fuzz_reader.c \
		build-fuzz/libimaddr.a $(PKG_LIBS)
	clang $(IMADDR_CFLAGS) $(PKG_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined \
		-o build-fuzz/fuzz_ldif tests/fuzz/fuzz_reader.c build-fuzz/libimaddr.a $(PKG_LIBS)
	clang $(IMADDR_CFLAGS) $(PKG_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined \
		-o build-fuzz/fuzz_check_address tests/fuzz/fuzz_check_address.c \
		build-fuzz/libimaddr.a $(PKG_LIBS)
	build-fuzz/fuzz_csv -max_total_time=$(FUZZ_SECONDS) -max_len=65536 build-fuzz/corpus/csv
	build-fuzz/fuzz_ldif -max_total_time=$(FUZZ_SECONDS) -max_len=65536 build-fuzz/corpus/ldif
	build-fuzz/fuzz_check_address -max_total_time=$(FUZZ_SECONDS) build-fuzz/corpus/address

bench: all
	@scripts/install-deps --bench
	@bench/run

install: $(BIN) $(LIB)
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(libdir) $(DESTDIR)$(includedir) $(DESTDIR)$(man1dir)
	install -m 755 $(BIN) $(DESTDIR)$(bindir)/imaddr
	install -m 644 $(LIB) $(DESTDIR)$(libdir)/libimaddr.a
	install -m 644 include/imaddr.h $(DESTDIR)$(includedir)/imaddr.h
	install -m 644 docs/imaddr.1 $(DESTDIR)$(man1dir)/imaddr.1

uninstall:
	rm -f $(DESTDIR)$(bindir)/imaddr $(DESTDIR)$(libdir)/libimaddr.a \
		$(DESTDIR)$(includedir)/imaddr.h $(DESTDIR)$(man1dir)/imaddr.1

clean:
	rm -rf build build-asan build-fuzz out

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/tests/*.d $(BUILD)/tests/support/*.d)
