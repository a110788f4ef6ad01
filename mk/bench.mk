# Performance benchmarks: `make bench` prints a table and writes
# docs/benchmarks.md (and docs/wcet.md), every figure from one run. Not part
# of `make check`.
#   core    in-process virtqueue + entropy engine vs getrandom(2); callgrind
#           instruction counts per 64-byte request
#   daemon  load generator as a vhost-user front-end against the real daemon
#           ($(VHU_BIN), mk/vhost_user.mk)
#   e2e     in-guest MiB/s under QEMU 7.2 TCG: our daemon vs virtio-rng-pci
#           (rng-random on /dev/urandom, rng-builtin); BENCH_E2E_REPS runs each
#   memory  daemon RSS at 1/16/64 instances, sizeof of the contexts
#   perf    profiles (daemon at depth 1; QEMU + daemon during a guest read)
# Knobs: BENCH_E2E_REPS (default 3), BENCH_E2E_MIB (default 1),
#        BENCH_SECONDS (per daemon configuration, default 2), BENCH_ROUNDS (core, default 7).
BENCH_DIR  := $(B)/bench
BENCH_CORE := $(BENCH_DIR)/bench_core
BENCH_VHU  := $(BENCH_DIR)/bench_vhu
BENCH_E2E_REPS ?= 3
BENCH_E2E_MIB  ?= 1
BENCH_SECONDS  ?= 2
BENCH_ROUNDS   ?= 7

$(BENCH_DIR):
	mkdir -p $@

$(BENCH_CORE): tests/bench/bench_core.c $(COMMON_OBJ) $(CORE_LIB) $(COMMON_HDRS) $(API_HDRS) | $(BENCH_DIR)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_TEST) $< $(COMMON_OBJ) $(CORE_LIB) $(LDFLAGS_ALL) -o $@

$(BENCH_VHU): tests/bench/bench_vhu.c $(COMMON_OBJ) $(CORE_LIB) $(COMMON_HDRS) $$(VHU_HDR) | $(BENCH_DIR)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_TEST) $(VHU_CPPFLAGS) $< $(COMMON_OBJ) $(CORE_LIB) $(LDFLAGS_ALL) -o $@

# Worst-case instructions per call of the core's entry points (callgrind,
# one dump per measured call; about 90 s): docs/wcet.md.
BENCH_WCET := $(BENCH_DIR)/wcet_core
$(BENCH_WCET): tests/bench/wcet_core.c $(COMMON_OBJ) $(CORE_LIB) $(COMMON_HDRS) $(API_HDRS) | $(BENCH_DIR)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_TEST) $< $(COMMON_OBJ) $(CORE_LIB) $(LDFLAGS_ALL) -o $@

# A stage of `make check` (seconds, no callgrind): the WCET cases run natively,
# so each worst input still does what docs/wcet.md says it measures (its CHECKs:
# the longest chain completes, the 1 GiB request is served over budgeted calls,
# the descriptor budget bounds a full queue). A core change that makes a case
# measure something else fails here, not silently in the next bench run.
.PHONY: wcet-inputs
wcet-inputs: $(BENCH_WCET)
	@$(BENCH_WCET) > $(BENCH_DIR)/wcet-inputs.log 2>&1 || { cat $(BENCH_DIR)/wcet-inputs.log; exit 1; }
	@echo "wcet-inputs: $$(grep -c '^WCET case=' $(BENCH_DIR)/wcet-inputs.log) measured calls, every worst-input check held"

.PHONY: bench bench-build bench-wcet
bench-build: $(BENCH_CORE) $(BENCH_VHU) $(BENCH_WCET) $$(VHU_BIN)

bench-wcet: $(BENCH_WCET)
	python3 tests/bench/wcet.py $(BENCH_WCET) docs/wcet.md

bench: bench-build e2e-prep bench-wcet
	B=$(B) BENCH_CORE=$(BENCH_CORE) BENCH_VHU=$(BENCH_VHU) BENCH_DAEMON=$(VHU_BIN) \
	BENCH_E2E_REPS=$(BENCH_E2E_REPS) BENCH_E2E_MIB=$(BENCH_E2E_MIB) BENCH_SECONDS=$(BENCH_SECONDS) \
	BENCH_ROUNDS=$(BENCH_ROUNDS) python3 tests/bench/bench.py docs/benchmarks.md

# valgrind (callgrind, callgrind_annotate), binutils (readelf for the daemon's
# instance struct size from DWARF), linux-perf (profiles of the daemon and of
# QEMU during a guest read); QEMU, kernel and initramfs come from e2e.mk.
PKGS += valgrind binutils python3 linux-perf
