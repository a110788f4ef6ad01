# Core unit tests (cmocka), their sanitizer run, the purity gate and the demo.
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/unit/%)

$(B)/unit/%: tests/unit/%.c $(CORE_LIB) $(COMMON_OBJ) $(wildcard tests/unit/*.h) src/core/core_priv.h | $(B)/unit
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_TEST) -Isrc/core -Itests/unit $< $(COMMON_OBJ) $(CORE_LIB) -lcmocka $(LDFLAGS_ALL) -o $@
$(B)/unit:
	mkdir -p $@

.PHONY: unit unit-build unit-asan purity
unit-build: $(UNIT_BIN)

# Run every unit test binary; fail on the first failing one; print totals.
unit: $(UNIT_BIN)
	@set -e; n=0; for t in $(UNIT_BIN); do echo "--- $$t"; $$t; n=$$((n+1)); done; \
	echo "unit: $$n test programs passed"

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The whole unit suite again under ASan+UBSan, built with clang in its own tree.
unit-asan:
	$(MAKE) --no-print-directory B=$(B)/asan CC=clang OPT="-O1 -g" \
	  VARIANT_CFLAGS="$(SAN_FLAGS)" VARIANT_LDFLAGS="$(SAN_FLAGS)" unit

# Purity: no object of src/core may have writable data or import anything but
# memcpy/memset/memcmp. Built with gcc -O2 (the release configuration).
PURE_ALLOWED := memcpy memset memcmp
# Calls between core objects are fine: a symbol another core object defines is
# not an import of the core (checked against the set the core objects export).
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

CHECK_TARGETS += purity unit unit-asan

.PHONY: demo-core
# Drives the core the way a guest driver would and prints what the device delivered.
demo-core: $(DEMO_BIN)
	$(DEMO_BIN)
