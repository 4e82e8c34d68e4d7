# pfs - a streaming file pipeline as small Unix filters.
# `make` builds everything; see README.md for the other targets.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/pfs
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
DESTDIR ?=

CC      ?= cc
AR      ?= ar
PKG_CONFIG ?= pkg-config
CFLAGS  ?= -O2 -g -fno-omit-frame-pointer
WARNFLAGS = -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wwrite-strings -Wformat=2 -Wvla -Wcast-qual \
	-Wundef -fno-common
# CI sets WERROR=1
ifeq ($(WERROR),1)
WARNFLAGS += -Werror
endif

# make SANITIZE=address,undefined check: a separate build tree
SANITIZE ?=
ifneq ($(SANITIZE),)
BUILD   ?= build/san-$(subst $(comma),-,$(SANITIZE))
SANFLAGS = -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
else
BUILD   ?= build/release
SANFLAGS =
endif
comma := ,

PKGS     = libzstd liblz4 libbrotlienc libbrotlidec libgcrypt libxxhash
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

ALL_CPPFLAGS = -D_FILE_OFFSET_BITS=64 -D_POSIX_C_SOURCE=200809L \
	-D_DEFAULT_SOURCE -Icommon $(PKG_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS   = $(WARNFLAGS) $(CFLAGS) $(SANFLAGS) -pthread -MMD -MP
ALL_LDFLAGS  = $(LDFLAGS) $(SANFLAGS) -pthread
LIBS         = $(PKG_LIBS) -lm

# a program is tools/TOOL.c; one too big for a file has the rest of its
# sources in tools/TOOL/ (with a private header), linked into it alone
TOOLS   = $(basename $(notdir $(wildcard tools/*.c)))
COMMON_SRC = $(wildcard common/*.c)
COMMON_OBJ = $(COMMON_SRC:%.c=$(BUILD)/%.o)
TOOL_PART_OBJ = $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/*/*.c))
TOOL_OBJ   = $(TOOLS:%=$(BUILD)/tools/%.o) $(TOOL_PART_OBJ)
BINS    = $(TOOLS:%=$(BUILD)/bin/%)
LIB     = $(BUILD)/libcommon.a
GEN     = $(BUILD)/bin/gen
MANS    = $(TOOLS:%=$(BUILD)/man/%.1)
MANS7   = $(patsubst docs/man/%.7.scd,$(BUILD)/man/%.7,$(wildcard docs/man/*.7.scd))
DOCS    = $(wildcard docs/*.md docs/*.yaml docs/*.png)
SCDOC  ?= scdoc

.SECONDARY:

.PHONY: man
.PHONY: all check demo deps install uninstall clean bench bench-range bench-rekey bench-scaleout \
	profile massif \
	heaptrack dhat fuzz memcheck
all: $(BINS) $(GEN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(PKG_CONFIG) --exists $(PKGS) || { \
	  echo "missing build libraries; run 'make deps' or:"; \
	  sh tests/deps.sh --print build; exit 1; }
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(COMMON_OBJ)
	@rm -f $@
	$(AR) rcs $@ $(COMMON_OBJ)

$(BUILD)/bin/%: $(BUILD)/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(LIBS)

# tools/TOOL/*.o: more objects of bin/TOOL
$(foreach t,$(TOOLS),$(eval $(BUILD)/bin/$(t): \
	$(filter $(BUILD)/tools/$(t)/%,$(TOOL_PART_OBJ))))

$(GEN): $(BUILD)/testdata/gen.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBS)

# Debian packages: installs what is missing (root or sudo), otherwise
# prints the exact apt-get command and fails.
deps:
	@sh tests/deps.sh build test man

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	PFS_BIN=$(CURDIR)/$(BUILD)/bin \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	bats tests/
	@$(MAKE) --no-print-directory fuzz-replay

DEMO_SIZE ?= 64M
demo: deps
	@$(MAKE) --no-print-directory all
	@PFS_BIN=$(CURDIR)/$(BUILD)/bin DEMO_SIZE=$(DEMO_SIZE) sh tests/demo.sh

# make bench [QUICK=1] [SAVE=name] [BASELINE=name]: bench/run.sh (its
# header lists the other settings: BENCH_SIZE, RUNS, BENCH_ONLY, ...)
bench:
	@sh tests/deps.sh build bench
	@$(MAKE) --no-print-directory all
	@PFS_BIN=$(CURDIR)/$(BUILD)/bin bash bench/run.sh QUICK="$(QUICK)" SAVE="$(SAVE)" BASELINE="$(BASELINE)"

# make bench-range [RANGE_SIZES="1G 4G"]: random access and resume on big
# streams (bench/range.sh; minutes, and 2 x SIZE in /dev/shm)
bench-range:
	@sh tests/deps.sh build bench
	@$(MAKE) --no-print-directory all
	@PFS_BIN=$(CURDIR)/$(BUILD)/bin bash bench/range.sh

# make bench-rekey [REKEY_SIZE=1G]: pencrypt --rekey against cat, pchunk |
# pjoin and pencrypt -d on a big stream (bench/rekey.sh; 2 x SIZE in
# /dev/shm)
bench-rekey:
	@sh tests/deps.sh build bench
	@$(MAKE) --no-print-directory all
	@PFS_BIN=$(CURDIR)/$(BUILD)/bin bash bench/rekey.sh

# make bench-scaleout [SCALEOUT_SIZE=1G]: one file in 1, 2 and 4 parts
# with GNU parallel, round trips and per-host rates (bench/scaleout.sh;
# minutes, and 4 x SIZE of disk under TMPDIR)
bench-scaleout:
	@sh tests/deps.sh build bench
	@command -v parallel >/dev/null 2>&1 || { echo "GNU parallel is missing: apt-get install parallel"; exit 1; }
	@$(MAKE) --no-print-directory all
	@PFS_BIN=$(CURDIR)/$(BUILD)/bin bash bench/scaleout.sh

# make profile|massif|heaptrack|dhat TOOL=pcompress ARGS="--zstd -l 3":
# bench/profile.sh (PROFILE_SIZE, PROFILE_KIND, ... in its header)
profile massif heaptrack dhat:
	@sh tests/deps.sh build
	@$(MAKE) --no-print-directory all
	@PFS_BIN=$(CURDIR)/$(BUILD)/bin bash bench/profile.sh $@ "$(TOOL)" "$(ARGS)"

# valgrind memcheck of every program, both directions
memcheck:
	@sh tests/deps.sh build profile
	@$(MAKE) --no-print-directory all
	@PFS_BIN=$(CURDIR)/$(BUILD)/bin bash tests/memcheck.sh

# man pages: docs/man/<prog>.1.scd -> $(BUILD)/man/<prog>.1 (roff) with
# scdoc, and the overview docs/man/pfs.7.scd -> $(BUILD)/man/pfs.7
man: $(MANS) $(MANS7)

$(MANS) $(MANS7): $(BUILD)/man/%: docs/man/%.scd
	@mkdir -p $(dir $@)
	@command -v $(SCDOC) >/dev/null 2>&1 || { \
	  echo "scdoc is missing (man pages); run 'make deps' or:"; \
	  sh tests/deps.sh --print man; exit 1; }
	$(SCDOC) < $< > $@.tmp && mv $@.tmp $@

# bash completion: one file, found by bash-completion's lazy loading under
# each program's name (symlinks to pfs); zsh: one _pfs file
install: all man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(DOCDIR) \
	  $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	install -m 644 $(MANS) $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(MANS7) $(DESTDIR)$(MANDIR)/man7
	install -m 644 $(DOCS) $(DESTDIR)$(DOCDIR)
	install -m 644 completions/pfs.bash $(DESTDIR)$(BASHCOMPDIR)/pfs
	for t in $(TOOLS); do \
	  ln -sf pfs $(DESTDIR)$(BASHCOMPDIR)/$$t || exit 1; done
	install -m 644 completions/_pfs $(DESTDIR)$(ZSHCOMPDIR)/_pfs

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(BINDIR)/%)
	rm -f $(TOOLS:%=$(DESTDIR)$(MANDIR)/man1/%.1)
	rm -f $(patsubst %,$(DESTDIR)$(MANDIR)/man7/%,$(notdir $(MANS7)))
	rm -f $(patsubst %,$(DESTDIR)$(DOCDIR)/%,$(notdir $(DOCS)))
	rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	rm -f $(DESTDIR)$(BASHCOMPDIR)/pfs $(TOOLS:%=$(DESTDIR)$(BASHCOMPDIR)/%)
	rm -f $(DESTDIR)$(ZSHCOMPDIR)/_pfs

clean:
	rm -rf build

include tests/fuzz/fuzz.mk
include tests/unit/unit.mk

-include $(COMMON_OBJ:.o=.d) $(TOOL_OBJ:.o=.d) $(BUILD)/testdata/gen.d
