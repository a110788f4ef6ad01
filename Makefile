# safevdev top-level build. Out-of-tree: everything generated goes under $(B)
# (default build/), docs/html and coverage/html. `make clean` restores the tree.
#
# Fragments in mk/*.mk add their targets to the lists below:
#   PKGS          Debian packages the target set needs (installed by `make deps`)
#   CHECK_TARGETS targets `make check` runs, in order
#   CLEAN_DIRS    extra generated directories removed by `make clean`
SHELL := /bin/bash
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:

B        ?= build
CC       ?= gcc
ifeq ($(origin CC),default)
CC := gcc
endif
PKGS          :=
CHECK_TARGETS :=
CLEAN_DIRS    := docs/xml

VERSION := 0.1.0

# Strict warning set, errors everywhere (core, shims, tests).
WARN := -Wall -Wextra -Wpedantic -Werror -Wconversion -Wsign-conversion -Wshadow \
        -Wcast-qual -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2 \
        -Wundef -Wpointer-arith -Wwrite-strings -Wold-style-definition \
        -Wmissing-declarations -Wswitch-default -Wnull-dereference
STD      := -std=c11
OPT      ?= -O2 -g
# Extra flags for a variant build (sanitizers, coverage), set by recursive calls.
VARIANT_CFLAGS  ?=
VARIANT_LDFLAGS ?=
CPPFLAGS_ALL := -Iinclude -DSVD_VERSION=\"$(VERSION)\"
# The core is pure: no libc beyond memcpy/memset/memcmp (checked by `make purity`).
CFLAGS_CORE  := $(STD) $(WARN) $(OPT) -fno-common $(VARIANT_CFLAGS)
HARDEN_CFLAGS  := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
HARDEN_LDFLAGS := -pie -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack
CFLAGS_SHIM  := $(STD) $(WARN) $(OPT) -D_GNU_SOURCE $(HARDEN_CFLAGS) $(VARIANT_CFLAGS)
CFLAGS_TEST  := $(STD) $(WARN) $(OPT) -D_GNU_SOURCE -Itests/common $(VARIANT_CFLAGS)
LDFLAGS_ALL  := $(VARIANT_LDFLAGS)

# ---------------------------------------------------------------- core
CORE_SRC := $(sort $(wildcard src/core/*.c))
CORE_OBJ := $(CORE_SRC:src/core/%.c=$(B)/core/%.o)
CORE_LIB := $(B)/libsvdcore.a

$(B)/core/%.o: src/core/%.c $(wildcard include/safevdev/*.h) | $(B)/core
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_CORE) -c $< -o $@

$(CORE_LIB): $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/core:
	mkdir -p $@

# Shared test code (driver model, guest memory with canaries).
COMMON_SRC := $(sort $(wildcard tests/common/*.c))
COMMON_OBJ := $(COMMON_SRC:tests/common/%.c=$(B)/common/%.o)
$(B)/common/%.o: tests/common/%.c $(wildcard tests/common/*.h include/safevdev/*.h) | $(B)/common
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_TEST) -c $< -o $@
$(B)/common:
	mkdir -p $@

PKGS += gcc make binutils clang libclang-rt-14-dev libcmocka-dev pkg-config

-include $(sort $(wildcard mk/*.mk))

.PHONY: all check deps clean demo
all: $(CORE_LIB) $(ALL_TARGETS)

# `make demo`: the main job. DEMO_TARGET is set by the fragments (the most
# complete demo available wins: a real guest once the vhost-user daemon exists).
DEMO_TARGET ?= demo-core
demo: deps
	@$(MAKE) --no-print-directory $(DEMO_TARGET)

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

# `make check` runs every test and gate: fast, local gates first, the slow
# end-to-end runs last; stages a fragment adds but CHECK_ORDER does not name run at the end.
CHECK_ORDER := purity lint unit unit-asan unit-valgrind coverage coverage-gate harness harness-asan harness-valgrind \
               vhu-test faults gate-selftest wdt-qtest fuzz-smoke prove trace docs docs-browser e2e
CHECK_RUN   := $(filter $(CHECK_TARGETS),$(CHECK_ORDER)) $(filter-out $(CHECK_ORDER),$(CHECK_TARGETS))
check: deps
	@set -e; start=$$(date +%s); for t in $(CHECK_RUN); do \
	  s=$$(date +%s); echo "=== make $$t"; $(MAKE) --no-print-directory $$t; \
	  echo "=== make $$t: passed in $$(( $$(date +%s) - s )) s"; \
	done; echo "=== make check: all $(words $(CHECK_RUN)) stages passed in $$(( $$(date +%s) - start )) s: $(CHECK_RUN)"

clean:
	rm -rf $(B) docs/html coverage/html $(CLEAN_DIRS)
