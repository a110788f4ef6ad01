# safevdev top-level build. Out-of-tree: everything generated goes under $(B)
# (default build/), docs/html and coverage/html. `make clean` restores the tree.
#
# Read from top to bottom: this file defines the toolchain, every flag set and
# the core library; then it includes the fragments of MK_FRAGMENTS (one area
# each, in that order) and defines `make check` with the one list of its stages.
#
# A fragment uses this file's names and its own. Where it names another
# fragment's variable it does so where make expands late, so the order of
# MK_FRAGMENTS does not matter to make (`make fragment-order` checks it):
#   - in a recipe, or in a `=` variable used in recipes;
#   - in a prerequisite, as $$(NAME) (.SECONDEXPANSION below: expanded once
#     every fragment has been read).
# Fragments add to:
#   PKGS         Debian packages their targets need (installed by `make deps`)
#   ALL_TARGETS  what `make` builds besides the core library
#   CLEAN_DIRS   generated directories outside $(B) that `make clean` removes
SHELL := /bin/bash
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SECONDEXPANSION:

B        ?= build
CC       ?= gcc
ifeq ($(origin CC),default)
CC := gcc
endif
PKGS        :=
ALL_TARGETS :=
CLEAN_DIRS  := docs/xml

VERSION := 0.1.0
comma   := ,

# ---------------------------------------------------------------- flag sets
# Strict warning set, errors everywhere (core, shims, tests).
WARN := -Wall -Wextra -Wpedantic -Werror -Wconversion -Wsign-conversion -Wshadow \
        -Wcast-qual -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2 \
        -Wundef -Wpointer-arith -Wwrite-strings -Wold-style-definition \
        -Wmissing-declarations -Wswitch-default -Wnull-dereference
STD      := -std=c11
# The release configuration's optimisation; variant builds set OPT.
RELEASE_OPT := -O2 -g
OPT      ?= $(RELEASE_OPT)
# Extra flags for a variant build (sanitizers, coverage), set by recursive calls.
VARIANT_CFLAGS  ?=
VARIANT_LDFLAGS ?=
CPPFLAGS_ALL := -Iinclude -DSVD_VERSION=\"$(VERSION)\"
# The core is pure: no libc beyond memcpy/memset/memcmp (checked by `make purity`).
CFLAGS_CORE  := $(STD) $(WARN) $(OPT) -fno-common $(VARIANT_CFLAGS)
HARDEN_CFLAGS  := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
# Link hardening of every shim binary: executables add -pie, the qvm .so files -shared.
HARDEN_LINK    := -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack
HARDEN_LDFLAGS := -pie $(HARDEN_LINK)
CFLAGS_SHIM  := $(STD) $(WARN) $(OPT) -D_GNU_SOURCE $(HARDEN_CFLAGS) $(VARIANT_CFLAGS)
CFLAGS_TEST  := $(STD) $(WARN) $(OPT) -D_GNU_SOURCE -Itests/common $(VARIANT_CFLAGS)
LDFLAGS_ALL  := $(VARIANT_LDFLAGS)

# ASan + UBSan, every report fatal: clang at -O1. Used by the sanitizer tree
# below, the fault-injection daemon (mk/faults.mk), the fuzzers (mk/fuzz.mk)
# and the gate self-test (mk/lint.mk).
SAN_CC    := clang
SAN_OPT   := -O1 -g
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# `$(MAKE) $(SAN_TREE) T`: target T again, everything built with the sanitizers
# in $(B)/asan (unit-asan, harness-asan and vhu-asan share that tree).
SAN_TREE   = --no-print-directory B=$(B)/asan CC=$(SAN_CC) OPT="$(SAN_OPT)" \
             VARIANT_CFLAGS="$(SAN_FLAGS)" VARIANT_LDFLAGS="$(SAN_FLAGS)"

# valgrind memcheck: any error, or any definite/indirect/possible leak, fails
# (unit-valgrind, harness-valgrind, gate-selftest).
VALGRIND := valgrind --quiet --error-exitcode=1 --leak-check=full --show-leak-kinds=definite,indirect,possible \
            --errors-for-leak-kinds=definite,indirect,possible --track-origins=yes

# $(call run_each,STAGE,PROGRAMS,PREFIX,RESULT): run each program with PREFIX
# (environment assignments, a wrapper such as $(VALGRIND)) in front of it, stop
# at the first failure, then print "STAGE: <n> test programs RESULT".
run_each = @set -e; n=0; for t in $(2); do echo "--- $$t"; $(3) $$t; n=$$((n+1)); done; \
           echo "$(1): $$n test programs $(4)"
# $(call run_par,STAGE,PROGRAMS,PREFIX,RESULT): the same, RUN_JOBS programs at
# a time (default: the cores), each block printed in order; every program runs
# and the failed ones are named. Only for programs that share no files or ports.
RUN_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
run_par  = @tools/build/run_par.sh "$(1)" "$(4)" $(RUN_JOBS) "$(3)" $(2)

# $(eval $(call list_once,NAME,COMMAND)): NAME := COMMAND's output, run once
# per tree: a recursive make (each stage of make check is one) inherits it
# through the environment (SVD_NAME, with SVD_NAME_OF naming the tree), as a
# python3 start at parse time costs more than reading every fragment.
define list_once
ifneq ($$(SVD_$(1)_OF),$$(CURDIR))
export SVD_$(1)_OF := $$(CURDIR)
export SVD_$(1) := $$(shell $(2) 2>/dev/null)
endif
$(1) := $$(SVD_$(1))
endef

# ---------------------------------------------------------------- core
CORE_SRC  := $(sort $(wildcard src/core/*.c))
API_HDRS  := $(wildcard include/safevdev/*.h)
CORE_HDRS := $(API_HDRS) $(wildcard src/core/*.h)
CORE_OBJ  := $(CORE_SRC:src/core/%.c=$(B)/core/%.o)
CORE_LIB  := $(B)/libsvdcore.a

$(B)/core/%.o: src/core/%.c $(CORE_HDRS) | $(B)/core
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_CORE) -c $< -o $@

$(CORE_LIB): $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/core:
	mkdir -p $@

# Shared test code (driver model, guest memory with canaries).
COMMON_SRC  := $(sort $(wildcard tests/common/*.c))
COMMON_HDRS := $(wildcard tests/common/*.h)
COMMON_OBJ  := $(COMMON_SRC:tests/common/%.c=$(B)/common/%.o)
$(B)/common/%.o: tests/common/%.c $(COMMON_HDRS) $(API_HDRS) | $(B)/common
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_TEST) -c $< -o $@
$(B)/common:
	mkdir -p $@

PKGS += gcc make binutils clang libclang-rt-14-dev libcmocka-dev pkg-config

# ---------------------------------------------------------------- areas
# In the order a reader meets them: core tests, transports, the three shims
# (qvm adapters, vhost-user daemon, multi-process device host), the watchdog
# reference run, the gates (static analysis, coverage, fault injection,
# fuzzing), docs, end-to-end runs, benchmarks, and the same builds for other
# CPUs (portability).
MK_FRAGMENTS := mk/core.mk mk/transport.mk mk/qvm.mk mk/vhost_user.mk mk/qemu_remote.mk mk/wdt.mk \
                mk/lint.mk mk/coverage.mk mk/faults.mk mk/fuzz.mk mk/prove.mk mk/docs.mk mk/e2e.mk mk/bench.mk mk/evidence.mk \
                mk/cross.mk mk/firmware.mk
include $(MK_FRAGMENTS)

.PHONY: all check deps clean demo fragment-order
all: $(CORE_LIB) $(sort $(ALL_TARGETS))

# `make demo`: the main job, a Linux guest reading our vhost-user device (mk/e2e.mk).
# A recursive make, so that `deps` has installed the packages first.
demo: deps
	@$(MAKE) --no-print-directory demo-e2e

# Install what the targets need. As root: apt-get install the missing packages.
# Otherwise: print the exact command and fail.
deps:
	@missing=""; for p in $(sort $(PKGS)); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all $(words $(sort $(PKGS))) packages present"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "deps: installing$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	else \
	  echo "deps: missing packages; run as root:"; \
	  echo "  apt-get install -y$$missing"; exit 1; \
	fi

# The fragment order must not matter: make's database and the commands of
# `make -n` for every target, compared for the listed, reversed and rotated order.
fragment-order:
	@python3 tools/build/fragment_order.py $(B)/fragment-order all check demo bench

# `make check` runs every test and gate, one stage at a time in this order:
# fast local gates first, the slow end-to-end runs last; each stage's time is
# printed. This list is the only place a stage joins `make check`.
CHECK_STAGES := fragment-order purity stack wcet-inputs lint unit unit-asan unit-valgrind coverage-gate \
                harness harness-qnx8 harness-asan harness-valgrind cross-aarch64 cross-s390x cross-be-coverage order \
                vhu-test vhu-asan faults remote-test remote-asan remote-faults gate-selftest wdt-qtest \
                fdt-check acpi-check fuzz-smoke prove trace docs docs-browser e2e e2e-aarch64 e2e-remote
check: deps
	@set -e; start=$$(date +%s); for t in $(CHECK_STAGES); do \
	  s=$$(date +%s); echo "=== make $$t"; $(MAKE) --no-print-directory $$t; \
	  echo "=== make $$t: passed in $$(( $$(date +%s) - s )) s"; \
	done; echo "=== make check: all $(words $(CHECK_STAGES)) stages passed in $$(( $$(date +%s) - start )) s: $(CHECK_STAGES)"

clean:
	rm -rf $(B) docs/html coverage/html $(CLEAN_DIRS)
