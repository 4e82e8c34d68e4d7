# tests/unit/unit.mk - cmocka unit tests of common/ (issue 13).
#
# Included from the top Makefile, which provides BUILD, LIB, ALL_CPPFLAGS,
# ALL_CFLAGS (warnings and SANITIZE flags), ALL_LDFLAGS and LIBS.
#
#   make unit             build and run every tests/unit/test_*.c
#   make unit-build       build them only
#   make unit-run-NAME    one program, e.g. make unit-run-test_frame
#
# Every tests/unit/test_*.c is one program (one cmocka group), linked with
# tests/unit/support.c and $(BUILD)/libcommon.a into $(BUILD)/unit/; a new
# test file is picked up without touching this file.  Output is TAP
# (CMOCKA_MESSAGE_OUTPUT=TAP; run a program by hand with
# CMOCKA_MESSAGE_OUTPUT=STDOUT for cmocka's own format).  `make check` runs
# `unit` before the bats suites; with SANITIZE=... everything, libcommon.a
# included, is built with the sanitizers in $(BUILD).

UNIT_SRC    = $(wildcard tests/unit/test_*.c)
UNIT_NAMES  = $(basename $(notdir $(UNIT_SRC)))
UNIT_BINS   = $(UNIT_NAMES:%=$(BUILD)/unit/%)
UNIT_SUPPORT = $(BUILD)/unit/support.o
UNIT_OBJ    = $(UNIT_NAMES:%=$(BUILD)/unit/%.o) $(UNIT_SUPPORT)

CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

UNIT_ENV = CMOCKA_MESSAGE_OUTPUT=TAP \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0

.PHONY: unit unit-build $(UNIT_NAMES:%=unit-run-%)

unit-build: $(UNIT_BINS)

$(BUILD)/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	@$(PKG_CONFIG) --exists cmocka || { \
	  echo "cmocka is missing (unit tests); run 'make deps' or:"; \
	  sh tests/deps.sh --print test; exit 1; }
	$(CC) $(ALL_CPPFLAGS) -Itests/unit $(CMOCKA_CFLAGS) $(ALL_CFLAGS) \
	  -c $< -o $@

$(UNIT_BINS): $(BUILD)/unit/%: $(BUILD)/unit/%.o $(UNIT_SUPPORT) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(UNIT_SUPPORT) $(LIB) $(CMOCKA_LIBS) \
	  $(LIBS)

# cmocka 1.1.5 (Debian 12) prints a skipped test as "not ok N # SKIP", which
# TAP consumers count as a failure; the runner rewrites it to "ok N # SKIP".
# The exit status of each program (cmocka: the number of failed tests) is
# what decides.
UNIT_TAP_FIX = s/^not ok \([0-9][0-9]*\) \# SKIP/ok \1 \# SKIP/

# every program runs, even after one fails; the rule fails if any did
unit: $(UNIT_BINS)
	@fail=; for t in $(UNIT_BINS); do \
	  echo "# $${t##*/}"; \
	  out=$$($(UNIT_ENV) $$t 2>&1); rc=$$?; \
	  printf '%s\n' "$$out" | sed -e '$(UNIT_TAP_FIX)'; \
	  [ $$rc = 0 ] || fail="$$fail $${t##*/}"; \
	done; \
	if [ -n "$$fail" ]; then echo "unit: FAILED:$$fail"; exit 1; fi; \
	echo "unit: $(words $(UNIT_BINS)) programs ok"

$(UNIT_NAMES:%=unit-run-%): unit-run-%: $(BUILD)/unit/%
	@out=$$($(UNIT_ENV) $< 2>&1); rc=$$?; \
	printf '%s\n' "$$out" | sed -e '$(UNIT_TAP_FIX)'; exit $$rc

-include $(UNIT_OBJ:.o=.d)
