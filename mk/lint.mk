# Static-analysis gate: `make lint` = banned calls + core purity grep +
# cppcheck (all checks, unusedFunction over src/ alone, MISRA addon on all of src/
# judged per file and per line, with its compliance summary) +
# clang-tidy (root .clang-tidy) + gcc -fanalyzer. Zero findings or it fails.
# Sources are picked up by wildcard, so every module that lands is covered.
# Each tool writes its full output to a log in $(LINT_DIR) and prints its
# findings and their count on stdout.
LINT_CORE_SRC := $(CORE_SRC)
LINT_SHIM_SRC := $(sort $(shell find src/shim -name '*.c' 2>/dev/null))
LINT_SRC      := $(LINT_CORE_SRC) $(LINT_SHIM_SRC)
LINT_HDRS     := $(sort $(shell find src include -name '*.h' 2>/dev/null))
LINT_ALL_FILES := $(LINT_SRC) $(sort $(shell find src -name '*.h' 2>/dev/null))
# Shims include their own directory and (off QNX) the compat declarations.
LINT_INC      := -Iinclude $(addprefix -I,$(sort $(shell find src/shim -type d 2>/dev/null)))
LINT_DIR      := $(B)/lint
# Preprocessor setup of the analyzer/tidy compile of each file, as in the build:
# the core with $(CPPFLAGS_ALL) only, a shim also with -D_GNU_SOURCE and the shim
# include directories (off QNX the qvm headers select the compat API themselves).
lint_cflags    = $(if $(filter src/core/%,$(1)),$(STD) $(CPPFLAGS_ALL),$(STD) $(CPPFLAGS_ALL) -D_GNU_SOURCE $(LINT_INC))
# The lines of a tool log that are findings (file:line:col: error|warning:).
LINT_FINDING  := '^[^ ]+:[0-9]+:[0-9]+: (error|warning):'
# clang-tidy and the analyzer run on one file at a time, LINT_JOBS files side
# by side (default: the cores).
LINT_JOBS     ?= $(shell nproc 2>/dev/null || echo 1)
# $(call lint_each,LOG,CMD): in a recipe, $(call CMD,FILE) for every file of
# LINT_SRC, LINT_JOBS at a time, each into a log of its own; the logs are then
# appended to LOG in LINT_SRC order (the same log as one run after another)
# and rc is set to 1 when any run failed.
lint_log   = $(1).d/$(subst /,_,$(2)).log
lint_each  = rm -rf $(1).d; mkdir -p $(1).d; : > $(1); rc=0; n=0; \
  $(foreach f,$(LINT_SRC),{ $(call $(2),$(f)) >$(call lint_log,$(1),$(f)) 2>&1 || : >$(call lint_log,$(1),$(f)).failed; } & \
    n=$$((n + 1)); if [ $$n -ge $(LINT_JOBS) ]; then wait -n; n=$$((n - 1)); fi;) wait; \
  cat $(foreach f,$(LINT_SRC),$(call lint_log,$(1),$(f))) >> $(1); \
  if ls $(1).d/*.failed >/dev/null 2>&1; then rc=1; fi
lint_tidy_cmd     = clang-tidy --quiet $(1) -- $(call lint_cflags,$(1))
lint_analyzer_cmd = $(CC) $(call lint_cflags,$(1)) $(WARN) -O1 -fanalyzer -c $(1) -o /dev/null

PKGS += cppcheck clang-tidy python3

.PHONY: lint lint-banned lint-purity lint-cppcheck lint-tidy lint-analyzer
lint: lint-banned lint-purity lint-cppcheck lint-tidy lint-analyzer
	@echo "lint: $(words $(LINT_SRC)) source files, all tools 0 findings"

# assert/abort/exit/longjmp/setjmp nowhere in src/ (exit only inside a shim's main()).
lint-banned:
	@python3 tools/lint/banned.py banned $(LINT_ALL_FILES)

# Source-level purity of src/core (complements the object-level `make purity`).
lint-purity:
	@python3 tools/lint/banned.py purity $(LINT_CORE_SRC) $(API_HDRS)

# The MISRA pass writes the compliance summary per rule to the docs site's pages.
lint-cppcheck:
	@mkdir -p $(B)/docs/gen
	@LINT_SRC="$(LINT_SRC)" LINT_HDRS="$(LINT_HDRS)" MISRA_SUMMARY=$(B)/docs/gen/misra-summary.md \
	  tools/lint/cppcheck.sh $(LINT_DIR)/cppcheck $(LINT_INC)

# One clang-tidy run per file; a finding in a header is reported once.
lint-tidy:
	@mkdir -p $(LINT_DIR); $(call lint_each,$(LINT_DIR)/tidy.log,lint_tidy_cmd); \
	{ grep -E $(LINT_FINDING) $(LINT_DIR)/tidy.log || true; } | sort -u > $(LINT_DIR)/tidy.findings; \
	cat $(LINT_DIR)/tidy.findings; n=$$(grep -c . $(LINT_DIR)/tidy.findings); \
	if [ $$rc != 0 ] && [ $$n = 0 ]; then cat $(LINT_DIR)/tidy.log; n=1; fi; \
	echo "clang-tidy: $(words $(LINT_SRC)) files, $$n findings"; [ $$n = 0 ]

# gcc's static analyzer with the project's strict warning set, -Werror.
lint-analyzer:
	@mkdir -p $(LINT_DIR); $(call lint_each,$(LINT_DIR)/analyzer.log,lint_analyzer_cmd); \
	{ grep -E $(LINT_FINDING) $(LINT_DIR)/analyzer.log || true; } > $(LINT_DIR)/analyzer.findings; \
	cat $(LINT_DIR)/analyzer.findings; n=$$(grep -c . $(LINT_DIR)/analyzer.findings); \
	if [ $$rc != 0 ] && [ $$n = 0 ]; then cat $(LINT_DIR)/analyzer.log; n=1; fi; \
	echo "gcc -fanalyzer: $(words $(LINT_SRC)) files, $$n findings"; [ $$n = 0 ]

# The gate tools themselves: each checker must catch a seeded defect, the
# sanitizers and valgrind in the configuration the build uses.
.PHONY: gate-selftest
gate-selftest:
	@SAN_CC=$(SAN_CC) SAN_FLAGS="$(SAN_FLAGS)" VALGRIND="$(VALGRIND)" bash tests/gate/selftest.sh
