# libFuzzer targets: tests/fuzz/fuzz_<name>.c, each with a committed seed
# corpus in tests/fuzz/corpus/fuzz_<name>/. Built with $(SAN_CC) + $(SAN_FLAGS)
# against a core library built the same way (in $(B)/fuzz). New targets are
# picked up by wildcard. A target that needs shim sources names them in
# FUZZ_EXTRA_<name>.
#   make fuzz-smoke            every target for FUZZ_SMOKE_S seconds
#   make fuzz FUZZ_S=3600      long runs
#   FUZZ_JOBS=N                targets run side by side (default: the cores)
# The runs work on a copy of the seeds in $(B)/fuzz/work/, so the committed corpus
# changes only when someone decides to add an input. Crashes land in $(B)/fuzz/crash/.
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES   := $(FUZZ_SRC:tests/fuzz/%.c=%)
FUZZ_DIR     := $(B)/fuzz
FUZZ_BIN     := $(FUZZ_NAMES:%=$(FUZZ_DIR)/bin/%)
FUZZ_CORE    := $(FUZZ_DIR)/libsvdcore.a
FUZZ_HDRS    := $(wildcard tests/fuzz/*.h) $(API_HDRS)
FUZZ_SMOKE_S ?= 60
FUZZ_S       ?= 600

PKGS += clang libclang-rt-14-dev

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-regress $(FUZZ_CORE)
fuzz-build: $(FUZZ_BIN)

# The core again, instrumented for coverage-guided fuzzing (recursive make, own tree).
$(FUZZ_CORE):
	@$(MAKE) --no-print-directory B=$(FUZZ_DIR) CC=$(SAN_CC) OPT="$(SAN_OPT)" \
	  VARIANT_CFLAGS="-fsanitize=fuzzer-no-link $(SAN_FLAGS)" $(FUZZ_CORE)

$(FUZZ_DIR)/bin/%: tests/fuzz/%.c $(FUZZ_HDRS) $(FUZZ_CORE) | $(FUZZ_DIR)/bin
	$(SAN_CC) $(CPPFLAGS_ALL) $(STD) $(WARN) $(SAN_OPT) -D_GNU_SOURCE -Itests/fuzz -fsanitize=fuzzer $(SAN_FLAGS) \
	  $< $(FUZZ_EXTRA_$*) $(FUZZ_CORE) -o $@
$(FUZZ_DIR)/bin:
	mkdir -p $@

# Run every target for $(1) seconds of wall time, FUZZ_JOBS at a time (one per
# core by default: each target still gets a whole core for its time); print execs
# and exec/s per target.
FUZZ_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
define fuzz_run
	@tools/build/fuzz_run.sh $(FUZZ_DIR) $(1) $(FUZZ_JOBS) $(FUZZ_NAMES)
endef

fuzz-smoke: $(FUZZ_BIN) fuzz-regress-tests
	$(call fuzz_run,$(FUZZ_SMOKE_S))

fuzz: $(FUZZ_BIN)
	$(call fuzz_run,$(FUZZ_S))

# Replay the committed corpora (and regress_* inputs) once: a quick deterministic check.
fuzz-regress: $(FUZZ_BIN)
	@set -e; for n in $(FUZZ_NAMES); do $(FUZZ_DIR)/bin/$$n -runs=0 tests/fuzz/corpus/$$n >/dev/null 2>&1 \
	  || { echo "fuzz-regress: $$n failed"; exit 1; }; echo "fuzz-regress $$n: corpus replayed"; done

# The vhost-user dispatcher target links the daemon's socket-free part
# (sources from mk/vhost_user.mk).
FUZZ_EXTRA_fuzz_vhu = $(VHU_CPPFLAGS) $(VHU_LIB_SRC)
$(FUZZ_DIR)/bin/fuzz_vhu: $$(VHU_LIB_SRC) $$(VHU_HDR)
# The qvm option target drives the entropy adapter (its sources from mk/qvm.mk:
# the frame and the device table) through its factory; it defines the qvm host
# calls those files reference as stubs.
FUZZ_EXTRA_fuzz_qvm_opts = $(QVM_CPPFLAGS) $(QVM_SRC_svd-virtio-entropy)
$(FUZZ_DIR)/bin/fuzz_qvm_opts: $$(QVM_SRC_svd-virtio-entropy) $$(QVM_HDRS)

# Regression tests for defects found by fuzzing / fault injection (tests/fuzz/regress_*.c),
# built with the release flags and run before every fuzz-smoke. They link the
# vhost-user dispatcher library (mk/vhost_user.mk) and the core.
REGRESS_SRC := $(sort $(wildcard tests/fuzz/regress_*.c))
REGRESS_BIN := $(REGRESS_SRC:tests/fuzz/%.c=$(FUZZ_DIR)/regress/%)
$(FUZZ_DIR)/regress/%: tests/fuzz/%.c $$(VHU_LIB) $(CORE_LIB) | $(FUZZ_DIR)/regress
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_TEST) $(VHU_CPPFLAGS) $< $(VHU_LIB) $(CORE_LIB) $(LDFLAGS_ALL) -o $@
$(FUZZ_DIR)/regress:
	mkdir -p $@
.PHONY: fuzz-regress-tests
fuzz-regress-tests: $(REGRESS_BIN)
	$(call run_each,fuzz-regress-tests,$(REGRESS_BIN),,passed)
