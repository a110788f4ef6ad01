# Core unit tests (cmocka): plain, under ASan+UBSan and under valgrind; the
# purity gate; the core demo.
#   make unit            every tests/unit/test_*.c program (release flags, $(B)/unit)
#   make unit-asan       the same, built with $(SAN_FLAGS) in $(B)/asan
#   make unit-valgrind   the $(B)/unit programs under $(VALGRIND)
#   make purity          the core objects: no writable data, no imports
#   make demo-core       the core driven like a guest driver would
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(B)/unit/%)
UNIT_HDRS := $(wildcard tests/unit/*.h)

# A test that needs a library besides cmocka names it in UNIT_LIBS_<test>.
# Unit tests may use the core's private header (src/core/core_priv.h).
$(B)/unit/%: tests/unit/%.c $(CORE_LIB) $(COMMON_OBJ) $(UNIT_HDRS) src/core/core_priv.h | $(B)/unit
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_TEST) -Isrc/core -Itests/unit $< $(COMMON_OBJ) $(CORE_LIB) -lcmocka $(UNIT_LIBS_$*) $(LDFLAGS_ALL) -o $@
$(B)/unit:
	mkdir -p $@

.PHONY: unit unit-build unit-asan unit-valgrind purity demo-core
unit-build: $(UNIT_BIN)

unit: $(UNIT_BIN)
	$(call run_each,unit,$(UNIT_BIN),,passed)

unit-asan:
	$(MAKE) $(SAN_TREE) unit

# The release-flag programs ($(B)/unit, gcc -O2): any memcheck error or leak fails.
unit-valgrind: $(UNIT_BIN)
	$(call run_par,unit-valgrind,$(UNIT_BIN),$(VALGRIND),clean under memcheck (errors and leaks))

# Purity: no object of src/core may have writable data or import anything but
# memcpy/memset/memcmp. Built with gcc -O2 (the release configuration).
PURE_ALLOWED := memcpy memset memcmp
# Calls between core objects are fine: a symbol another core object defines is
# not an import of the core (checked against the set the core objects export).
# REQ-ANALYSIS: REQ-SAF-017
purity: $(CORE_OBJ)
	@bad=0; core_syms=" $$(nm -g --defined-only $(CORE_OBJ) | awk 'NF==3 {print $$3}' | tr '\n' ' ') "; \
	for o in $(CORE_OBJ); do \
	  for sec in .data .bss; do \
	    sz=$$(size -A $$o | awk -v s=$$sec '$$1 ~ "^"s {t+=$$2} END {print t+0}'); \
	    if [ "$$sz" != 0 ]; then echo "purity: $$o has $$sz bytes in $$sec*"; bad=1; fi; \
	  done; \
	  for sym in $$(nm -u $$o | awk '{print $$2}'); do \
	    case " $(PURE_ALLOWED) " in *" $$sym "*) continue;; *) ;; esac; \
	    case "$$core_syms" in *" $$sym "*) ;; \
	      *) echo "purity: $$o imports $$sym"; bad=1;; esac; \
	  done; \
	done; \
	if [ $$bad = 0 ]; then echo "purity: $(words $(CORE_OBJ)) core objects: no writable data, imports only $(PURE_ALLOWED) from outside the core"; fi; \
	exit $$bad

DEMO_BIN := $(B)/demo/svd-demo
$(DEMO_BIN): tools/demo/demo.c $(CORE_LIB) $(COMMON_OBJ) | $(B)/demo
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_TEST) $< $(COMMON_OBJ) $(CORE_LIB) $(LDFLAGS_ALL) -o $@
$(B)/demo:
	mkdir -p $@

# Drives the core the way a guest driver would and prints what the device delivered.
demo-core: $(DEMO_BIN)
	$(DEMO_BIN)

PKGS += valgrind

# Stack gate: every core function's frame and every public entry point's
# deepest stack within the bounds of the safety manual's table (which
# tools/build/check_bounds.py also checks against the budget macros), gcc's
# -Wstack-usage on each object and its -fcallgraph-info call graph.
# REQ-ANALYSIS: REQ-VDEV-011.a REQ-VDEV-011.b REQ-VDEV-011.c REQ-VDEV-011.d REQ-SAF-005
STACK_DIR := $(B)/stack
.PHONY: stack
stack:
	@rm -rf $(STACK_DIR) && mkdir -p $(STACK_DIR)
	@set -e; read frame depth < <(python3 tools/build/check_bounds.py); \
	for f in $(CORE_SRC); do \
	  gcc $(CPPFLAGS_ALL) $(STD) $(WARN) $(RELEASE_OPT) -fno-common -Wstack-usage=$$frame \
	      -fcallgraph-info=su -dumpbase $(STACK_DIR)/$$(basename $$f) -c $$f -o $(STACK_DIR)/$$(basename $$f .c).o; \
	done; \
	python3 tools/build/stack_depth.py $(STACK_DIR) $$depth $(STACK_DIR)/stack.md; \
	echo "stack: $(words $(CORE_SRC)) core files, every frame <= $$frame bytes"
