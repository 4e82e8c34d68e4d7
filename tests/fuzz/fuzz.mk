# tests/fuzz/fuzz.mk - libFuzzer targets (issue 7).
#
# Included from the top Makefile (`include tests/fuzz/fuzz.mk`), or on its
# own from the repository root: `make -f tests/fuzz/fuzz.mk [TARGET]`.
# Paths are relative to the repository root.  Uses PKG_CFLAGS, PKG_LIBS,
# COMMON_SRC and WARNFLAGS from the top Makefile when they are defined.
#
#   make fuzz [FUZZ_SECONDS=60]   build, seed (first time) and run every
#                                 target for FUZZ_SECONDS each; fails if one
#                                 finds a crash (see build/fuzz/artifacts/)
#   make fuzz-regress             replay tests/fuzz/regress/<target>/* through
#                                 the libFuzzer binaries (clang)
#   make fuzz-replay              the same with plain $(CC) builds of the
#                                 targets (tests/fuzz/replay_main.c): no clang
#                                 needed; this is what `make check` runs
#   make fuzz-coverage            line coverage of common/ and tools/ by the
#                                 corpora (llvm-cov report per target)
#   make fuzz-build | fuzz-seeds | fuzz-clean
#   make fuzz-run-<target> [FUZZ_SECONDS=N]   one target
#
# Extra libFuzzer flags: FUZZ_FLAGS='-jobs=2 -workers=2' etc.; to keep
# fuzzing past a known, unfixed crash: FUZZ_FLAGS='-fork=1 -ignore_crashes=1'.
# Build: clang-14 with -fsanitize=fuzzer,address,undefined -g -O1, every
# object (common/, the tool, the harness) in $(FUZZ_DIR)/obj.  The tool
# is compiled with -Dmain=<tool>_main and nothing else is renamed: with
# the targets' arguments its main returns on every path, and an exit()
# is a finding (tests/fuzz/fuzz.h).  A tool is tools/<tool>.c and, when
# it is split, tools/<tool>/*.c (FUZZ_TOOL_SRC): all of them are linked,
# each compiled as the tool is.

FUZZ_SAVED_GOAL := $(.DEFAULT_GOAL)

FUZZ_CC       ?= clang-14
FUZZ_DIR      ?= build/fuzz
FUZZ_SECONDS  ?= 60
FUZZ_CFLAGS   ?= -g -O1 -fno-omit-frame-pointer
FUZZ_SANFLAGS ?= -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined
FUZZ_FLAGS    ?=
# the replay build (fuzz-replay) uses $(CC); sanitizers if it has them
FUZZ_REPLAY_SAN ?= -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_SEED_BUILD ?= build/fuzzseed
FUZZ_PROFDATA ?= llvm-profdata-14
FUZZ_LLVMCOV  ?= llvm-cov-14
FUZZ_COVFLAGS  = -fprofile-instr-generate -fcoverage-mapping

PKG_CONFIG ?= pkg-config
FUZZ_PKGS   = libzstd liblz4 libbrotlienc libbrotlidec libgcrypt libxxhash
PKG_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags $(FUZZ_PKGS) 2>/dev/null)
PKG_LIBS   ?= $(shell $(PKG_CONFIG) --libs $(FUZZ_PKGS) 2>/dev/null)
COMMON_SRC ?= $(wildcard common/*.c)
WARNFLAGS  ?= -std=c11 -Wall -Wextra

# Targets.  The pcompress/pencrypt ones only while their tools exist.
FUZZ_TOOL_fuzz_pjoin        = pjoin
FUZZ_TOOL_fuzz_phash_check  = phash
FUZZ_TOOL_fuzz_pcompress_d  = pcompress
FUZZ_TOOL_fuzz_pencrypt_d   = pencrypt
FUZZ_TARGETS = fuzz_frame fuzz_head fuzz_index fuzz_stanza fuzz_pjoin \
	fuzz_phash_check \
	$(if $(wildcard tools/pcompress.c),fuzz_pcompress_d) \
	$(if $(wildcard tools/pencrypt.c),fuzz_pencrypt_d)

# -max_len per target (a HEAD payload is at most PFS_HEAD_MAX, 65536 bytes)
FUZZ_MAXLEN_fuzz_head = 65536
FUZZ_MAXLEN_DEFAULT   = 16384

FUZZ_CPPFLAGS = -D_FILE_OFFSET_BITS=64 -D_POSIX_C_SOURCE=200809L \
	-D_DEFAULT_SOURCE -Icommon -Itests/fuzz $(PKG_CFLAGS)
FUZZ_LIBS     = $(PKG_LIBS) -lm -pthread
# the tools' main() is called per input, not declared in a header
FUZZ_TOOL_WARN = -Wno-missing-prototypes
# the sources of tool $(1): tools/$(1).c and tools/$(1)/*.c (nothing
# when $(1) is empty); FUZZ_TOOL_OBJ: their objects in build kind $(1)
# (obj, robj, cobj) for tool $(2)
FUZZ_TOOL_SRC = $(if $(1),tools/$(1).c $(sort $(wildcard tools/$(1)/*.c)))
FUZZ_TOOL_OBJ = $(patsubst tools/%.c,$(FUZZ_DIR)/$(1)/tools/%.o,\
	$(call FUZZ_TOOL_SRC,$(2)))
# -Dmain=<tool>_main for tools/<tool>.c and tools/<tool>/<part>.c ($* is
# <tool> or <tool>/<part>)
FUZZ_TOOL_MAIN = -Dmain=$(firstword $(subst /, ,$*))_main

FUZZ_COMMON_OBJ = $(COMMON_SRC:common/%.c=$(FUZZ_DIR)/obj/common/%.o)
FUZZ_RCOMMON_OBJ = $(COMMON_SRC:common/%.c=$(FUZZ_DIR)/robj/common/%.o)
FUZZ_BINS  = $(FUZZ_TARGETS:%=$(FUZZ_DIR)/bin/%)
FUZZ_RBINS = $(FUZZ_TARGETS:%=$(FUZZ_DIR)/replay/%)
FUZZ_CCOMMON_OBJ = $(COMMON_SRC:common/%.c=$(FUZZ_DIR)/cobj/common/%.o)
FUZZ_CBINS = $(FUZZ_TARGETS:%=$(FUZZ_DIR)/cov/%)

.PHONY: fuzz fuzz-build fuzz-seeds fuzz-regress fuzz-replay fuzz-replay-build \
	fuzz-coverage \
	fuzz-clean $(FUZZ_TARGETS:%=fuzz-run-%)

fuzz-build: $(FUZZ_BINS)
fuzz-replay-build: $(FUZZ_RBINS)

# --- libFuzzer build (clang) ---
$(FUZZ_DIR)/obj/common/%.o: common/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(WARNFLAGS) \
	  $(FUZZ_CFLAGS) $(FUZZ_SANFLAGS) -pthread -MMD -MP -c $< -o $@

$(FUZZ_DIR)/obj/tools/%.o: tools/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_TOOL_MAIN) \
	  $(WARNFLAGS) $(FUZZ_TOOL_WARN) $(FUZZ_CFLAGS) $(FUZZ_SANFLAGS) \
	  -pthread -MMD -MP -c $< -o $@

$(FUZZ_DIR)/obj/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(WARNFLAGS) $(FUZZ_CFLAGS) \
	  $(FUZZ_SANFLAGS) -pthread -MMD -MP -c $< -o $@

# --- replay build ($(CC), no libFuzzer) ---
$(FUZZ_DIR)/robj/common/%.o: common/%.c
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_CPPFLAGS) $(WARNFLAGS) \
	  $(FUZZ_CFLAGS) $(FUZZ_REPLAY_SAN) -pthread -MMD -MP -c $< -o $@

$(FUZZ_DIR)/robj/tools/%.o: tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_CPPFLAGS) $(FUZZ_TOOL_MAIN) \
	  $(WARNFLAGS) $(FUZZ_TOOL_WARN) $(FUZZ_CFLAGS) $(FUZZ_REPLAY_SAN) \
	  -pthread -MMD -MP -c $< -o $@

$(FUZZ_DIR)/robj/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_CPPFLAGS) $(WARNFLAGS) $(FUZZ_CFLAGS) \
	  $(FUZZ_REPLAY_SAN) -pthread -MMD -MP -c $< -o $@

# --- coverage build (clang source-based coverage, replay_main) ---
$(FUZZ_DIR)/cobj/common/%.o: common/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) \
	  $(FUZZ_COVFLAGS) -pthread -MMD -MP -c $< -o $@

$(FUZZ_DIR)/cobj/tools/%.o: tools/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_TOOL_MAIN) \
	  $(FUZZ_CFLAGS) $(FUZZ_COVFLAGS) -pthread -MMD -MP -c $< -o $@

$(FUZZ_DIR)/cobj/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -pthread -MMD -MP \
	  -c $< -o $@

# the libFuzzer command line of one target ($(1)): one shell command
FUZZ_RUN = mkdir -p $(FUZZ_DIR)/corpus/$(1) $(FUZZ_DIR)/artifacts/$(1) && \
	echo "fuzz: $(1) for $(FUZZ_SECONDS) s" && \
	$(FUZZ_DIR)/bin/$(1) -max_total_time=$(FUZZ_SECONDS) \
	  -max_len=$(or $(FUZZ_MAXLEN_$(1)),$(FUZZ_MAXLEN_DEFAULT)) \
	  -timeout=10 -rss_limit_mb=2560 -close_fd_mask=3 \
	  -print_final_stats=1 -dict=tests/fuzz/pfs.dict \
	  -artifact_prefix=$(FUZZ_DIR)/artifacts/$(1)/ $(FUZZ_FLAGS) \
	  $(FUZZ_DIR)/corpus/$(1)

# one binary of each kind per target: target.o harness.o [the tool's
# objects] common
define FUZZ_template
$(FUZZ_DIR)/bin/$(1): $(FUZZ_DIR)/obj/fuzz/$(1).o $(FUZZ_DIR)/obj/fuzz/harness.o \
		$(call FUZZ_TOOL_OBJ,obj,$(2)) $$(FUZZ_COMMON_OBJ)
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) $$(FUZZ_SANFLAGS) -o $$@ $$^ $$(FUZZ_LIBS)

$(FUZZ_DIR)/replay/$(1): $(FUZZ_DIR)/robj/fuzz/$(1).o \
		$(FUZZ_DIR)/robj/fuzz/harness.o $(FUZZ_DIR)/robj/fuzz/replay_main.o \
		$(call FUZZ_TOOL_OBJ,robj,$(2)) $$(FUZZ_RCOMMON_OBJ)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(FUZZ_CFLAGS) $$(FUZZ_REPLAY_SAN) -o $$@ $$^ $$(FUZZ_LIBS)

$(FUZZ_DIR)/cov/$(1): $(FUZZ_DIR)/cobj/fuzz/$(1).o \
		$(FUZZ_DIR)/cobj/fuzz/harness.o $(FUZZ_DIR)/cobj/fuzz/replay_main.o \
		$(call FUZZ_TOOL_OBJ,cobj,$(2)) $$(FUZZ_CCOMMON_OBJ)
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) $$(FUZZ_COVFLAGS) -o $$@ $$^ $$(FUZZ_LIBS)

fuzz-run-$(1): $(FUZZ_DIR)/bin/$(1) $(FUZZ_DIR)/corpus/.seeded
	@$$(call FUZZ_RUN,$(1))
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_template,$(t),$(FUZZ_TOOL_$(t)))))

# every target, one after the other; all run even when one fails
fuzz: fuzz-build $(FUZZ_DIR)/corpus/.seeded
	@fail=; \
	$(foreach t,$(FUZZ_TARGETS),{ $(call FUZZ_RUN,$(t)); } || fail="$$fail $(t)";) \
	if [ -n "$$fail" ]; then \
	  echo "fuzz: FAILED:$$fail (inputs in $(FUZZ_DIR)/artifacts/)"; \
	  exit 1; fi; echo "fuzz: all targets ran clean"

# seed corpora from real streams made by the release tools
FUZZ_SEED_CMDS = $(MAKE) --no-print-directory -f Makefile \
	  BUILD=$(FUZZ_SEED_BUILD) all && \
	sh tests/fuzz/make-seeds.sh $(FUZZ_SEED_BUILD)/bin $(FUZZ_DIR)/corpus && \
	touch $(FUZZ_DIR)/corpus/.seeded

$(FUZZ_DIR)/corpus/.seeded: tests/fuzz/make-seeds.sh
	+$(FUZZ_SEED_CMDS)

fuzz-seeds:
	+$(FUZZ_SEED_CMDS)

# replay the committed regression inputs: each file once, through its
# target; a crash fails the rule
FUZZ_REGRESS_DIRS = $(wildcard $(FUZZ_TARGETS:%=tests/fuzz/regress/%))

fuzz-regress: $(FUZZ_BINS)
	@fail=; for d in $(FUZZ_REGRESS_DIRS); do \
	  t=$${d##*/}; files=$$(find $$d -type f ! -name '.*' | sort); \
	  [ -n "$$files" ] || continue; \
	  if out=$$($(FUZZ_DIR)/bin/$$t -close_fd_mask=3 $$files 2>&1); then \
	    echo "fuzz-regress: $$t: $$(echo "$$files" | wc -l) inputs ok"; \
	  else \
	    echo "$$out" | grep -v '^INFO:\|^Executed \|^Running: '; \
	    echo "fuzz-regress: $$t: FAILED"; fail="$$fail $$t"; \
	  fi; \
	done; [ -z "$$fail" ] || { echo "fuzz-regress: FAILED:$$fail"; exit 1; }

fuzz-replay: $(FUZZ_RBINS)
	@fail=; for d in $(FUZZ_REGRESS_DIRS); do \
	  t=$${d##*/}; n=$$(find $$d -type f ! -name '.*' | wc -l); \
	  if PFS_FUZZ_STDERR=0 $(FUZZ_DIR)/replay/$$t $$d >/dev/null; then \
	    echo "fuzz-replay: $$t: $$n inputs ok"; \
	  else \
	    echo "fuzz-replay: $$t: FAILED (rerun: PFS_FUZZ_STDERR=1 $(FUZZ_DIR)/replay/$$t $$d)"; \
	    fail="$$fail $$t"; \
	  fi; \
	done; [ -z "$$fail" ] || { echo "fuzz-replay: FAILED:$$fail"; exit 1; }

# line coverage of each target's corpus
fuzz-coverage: $(FUZZ_CBINS)
	@for t in $(FUZZ_TARGETS); do \
	  rm -f $(FUZZ_DIR)/cov/$$t.profraw; \
	  LLVM_PROFILE_FILE=$(FUZZ_DIR)/cov/$$t.profraw \
	    $(FUZZ_DIR)/cov/$$t $(FUZZ_DIR)/corpus/$$t >/dev/null 2>&1; \
	  $(FUZZ_PROFDATA) merge -o $(FUZZ_DIR)/cov/$$t.profdata \
	    $(FUZZ_DIR)/cov/$$t.profraw || exit 1; \
	  echo "== $$t"; \
	  $(FUZZ_LLVMCOV) report $(FUZZ_DIR)/cov/$$t \
	    -instr-profile=$(FUZZ_DIR)/cov/$$t.profdata \
	    -ignore-filename-regex='tests/fuzz/' | \
	    awk '$$1 ~ /\.[ch]$$/ && $$10 != "0.00%" && $$10 != "-" { \
	      printf "  %-22s lines %7s (%s/%s missed)  branches %7s\n", \
	        $$1, $$10, $$9, $$8, $$13 }'; \
	done

fuzz-clean:
	rm -rf $(FUZZ_DIR)

-include $(wildcard $(FUZZ_DIR)/obj/*/*.d $(FUZZ_DIR)/robj/*/*.d \
	$(FUZZ_DIR)/cobj/*/*.d $(FUZZ_DIR)/obj/tools/*/*.d \
	$(FUZZ_DIR)/robj/tools/*/*.d $(FUZZ_DIR)/cobj/tools/*/*.d)

# Do not take over the default goal of the including Makefile; standalone,
# build the fuzzers.
ifeq ($(notdir $(firstword $(MAKEFILE_LIST))),fuzz.mk)
.DEFAULT_GOAL := fuzz-build
else
.DEFAULT_GOAL := $(FUZZ_SAVED_GOAL)
endif
