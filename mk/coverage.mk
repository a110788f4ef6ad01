# Coverage: gcov + lcov with branch coverage. The whole tree is rebuilt in
# $(B)/cov with -O0 --coverage -DSVD_COVERAGE (SVD_ALWAYS/SVD_NEVER become
# constants there, so unreachable defensive branches are not counted), the test
# suites in COV_TEST_TARGETS run, and lcov collects src/ only.
#   make coverage        HTML into coverage/html, summary and per-area figures printed
#   make coverage-gate   fails if src/core < 100% lines or < 100% branches, a shim
#                        (src/shim/<name>) < 90% lines, or a shim of COV_SHIM_BRANCH_AREAS
#                        < 90% branches; lists every missed line/branch
COV_DIR  := $(B)/cov
COV_INFO := $(COV_DIR)/coverage.info
LCOV_RC  := --rc lcov_branch_coverage=1
LCOV     := lcov --quiet $(LCOV_RC)
# The suites that exercise src/: the core's unit tests, every qvm adapter in
# the harness, the vhost-user daemon's tests, the qemu-remote-vdev tests.
COV_TEST_TARGETS := unit harness vhu-test remote-test
COV_CORE_LINES   := 100
COV_CORE_BRANCH  := 100
COV_SHIM_LINES   := 90
# Shim branch target; unreachable branches are deviations (docs/coverage.md).
# `make coverage` reports every shim against it; the gate enforces it for the
# shims listed in COV_SHIM_BRANCH_AREAS: the qvm adapters (92.1%),
# qemu-remote-vdev (92.8%) and the vhost-user daemon (91.3%, its
# packed ring's paths included; the figure moves by a few branches between
# runs, docs/coverage.md).
COV_SHIM_BRANCH  := 90
COV_SHIM_BRANCH_AREAS := qvm,qemu_remote,vhost_user
# covgate.py's arguments: the data, the tree, the thresholds, the gated shims.
COV_GATE_ARGS    := $(COV_INFO) $(CURDIR) $(COV_CORE_LINES) $(COV_CORE_BRANCH) $(COV_SHIM_LINES) \
                    $(COV_SHIM_BRANCH) $(COV_SHIM_BRANCH_AREAS)

PKGS += lcov python3
CLEAN_DIRS += coverage/html

# The coverage tree's make, and the fault-injection daemons built in it with
# gcc --coverage at -O0 so the coverage data of all of them merge.
COV_MAKE   = $(MAKE) --no-print-directory B=$(COV_DIR) CC=gcc OPT="-O0 -g" \
             VARIANT_CFLAGS="-DSVD_COVERAGE --coverage" VARIANT_LDFLAGS="--coverage"
COV_FAULT_VARS = FAULT_CC=gcc FAULT_OPT=-O0 FAULT_SAN="-DSVD_COVERAGE --coverage" \
                 RMT_FAULT_CC=gcc RMT_FAULT_OPT=-O0 RMT_FAULT_SAN="-DSVD_COVERAGE --coverage"
COV_FAULTS     = $(filter faults,$(CHECK_STAGES))
COV_RMT_FAULTS = $(filter remote-faults,$(CHECK_STAGES))
# Builds run COV_JOBS at a time (default: the cores); the suites then run one
# after another, as their own stages run them.
COV_JOBS ?= $(shell nproc 2>/dev/null || echo 1)

.PHONY: coverage coverage-gate coverage-run coverage-build
# What the suites of COV_TEST_TARGETS run (their prerequisites; one left out
# here is still built, by the suite itself, one job at a time).
coverage-build: $$(UNIT_BIN) harness-build $$(VHU_BIN) $$(VHU_TEST) $$(VHU_TEST_PACKED) $$(RMT_BIN) $$(RMT_TEST)

coverage-run:
	@rm -rf $(COV_DIR) && mkdir -p $(COV_DIR)
	@$(COV_MAKE) -j$(COV_JOBS) $(COV_FAULT_VARS) coverage-build $(if $(COV_FAULTS),faults-build) \
	  $(if $(COV_RMT_FAULTS),remote-faults-build)
	@$(COV_MAKE) $(COV_TEST_TARGETS)
	@# The countdown fault injections reach the daemons' error paths: they run under
	@# coverage too (their verdicts are `make faults` and `make remote-faults`; here only
	@# the coverage data counts). One after the other: some of the daemon's branches
	@# depend on timing (docs/coverage.md), and a second run beside it would widen that spread.
	$(if $(COV_FAULTS),@python3 tests/faults/run_vhu.py $(COV_DIR)/faults/vhost-user-entropy $(COV_DIR)/faults/run \
	  >$(COV_DIR)/faults.log 2>&1 || true)
	$(if $(COV_RMT_FAULTS),@python3 tests/remote/run_faults.py $(COV_DIR)/faults-remote/qemu-remote-vdev \
	  $(COV_DIR)/faults-remote/run >$(COV_DIR)/faults-remote.log 2>&1 || true)
	@# The --initial baseline makes a compiled file that no test ran count as 0%, not vanish.
	@$(LCOV) --capture --initial --directory $(COV_DIR) --base-directory . --output-file $(COV_DIR)/base.info \
	  2>$(COV_DIR)/lcov.log || { cat $(COV_DIR)/lcov.log; exit 1; }
	@$(LCOV) --capture --directory $(COV_DIR) --base-directory . --output-file $(COV_DIR)/run.info \
	  2>>$(COV_DIR)/lcov.log || { cat $(COV_DIR)/lcov.log; exit 1; }
	@$(LCOV) -a $(COV_DIR)/base.info -a $(COV_DIR)/run.info --output-file $(COV_DIR)/all.info 2>>$(COV_DIR)/lcov.log
	@$(LCOV) --extract $(COV_DIR)/all.info '$(CURDIR)/src/*' --output-file $(COV_INFO)

coverage: coverage-run
	@rm -rf coverage/html && mkdir -p coverage/html
	@genhtml --quiet --branch-coverage --legend --title "safevdev $(VERSION)" \
	  --output-directory coverage/html $(COV_INFO)
	@echo "coverage: suites run: $(COV_TEST_TARGETS); HTML in coverage/html/index.html"
	@lcov $(LCOV_RC) --summary $(COV_INFO) 2>&1 | grep -E '^ *(lines|functions|branches)'
	@python3 tools/lint/covgate.py --report $(COV_GATE_ARGS)

coverage-gate: coverage
	@python3 tools/lint/covgate.py --gate-quiet $(COV_GATE_ARGS)

# The shim branch target for every shim, the qvm adapters included (not a
# stage of `make check` until they reach it: see docs/coverage.md).
.PHONY: coverage-branch-gate
coverage-branch-gate: coverage
	@python3 tools/lint/covgate.py --gate-quiet $(COV_INFO) $(CURDIR) $(COV_CORE_LINES) $(COV_CORE_BRANCH) \
	  $(COV_SHIM_LINES) $(COV_SHIM_BRANCH) all
