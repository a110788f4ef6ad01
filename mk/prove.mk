# Proof stage (`make prove`): Frama-C Eva over the analysis drivers in tests/prove/
# (0 alarms) and WP over the modules whose ACSL contracts the rest relies on (every
# goal proved), two frama-c processes at a time. Writes $(B)/prove/ (logs, reports,
# results.json) and the proof page of the docs site, $(B)/docs/gen/proof.md.
# Self-contained: it names no variable another fragment defines, so it reads the
# same whatever order the fragments are included in. It joins `make check` through
# the Makefile's CHECK_STAGES (before trace and docs, which link its page).
PKGS += frama-c-base why3 z3 cvc4 python3

PROVE_OUT  := $(B)/prove
PROVE_PAGE := $(B)/docs/gen/proof.md
PROVE_DEPS := $(sort $(wildcard src/core/*.c src/core/*.h include/safevdev/*.h tests/prove/*.c tests/prove/*.h \
                tests/prove/*.py))

.PHONY: prove
prove: $(PROVE_PAGE)
	@python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); r=s["results"]; \
	  ev=[x for x in r if x["kind"]=="eva"]; wp=[x for x in r if x["kind"]=="wp"]; \
	  print("prove: %d Eva drivers, %d alarms; WP %d/%d goals proved; %.0f s wall (page: %s)" % \
	  (len(ev), sum(x["alarms"] for x in ev), sum(x["proved"] for x in wp), sum(x["total"] for x in wp), \
	  s["wall"], sys.argv[2]))' $(PROVE_OUT)/results.json $(PROVE_PAGE)

# The page is the stage's product: it exists only when every analysis passed
# (.DELETE_ON_ERROR), so the docs site never shows a proof that did not run.
$(PROVE_PAGE): $(PROVE_DEPS)
	@mkdir -p $(PROVE_OUT) $(dir $@)
	@command -v frama-c >/dev/null || { echo "prove: frama-c not installed (make deps)"; exit 1; }
	@start=$$(date +%s); python3 -u tests/prove/prove.py $(PROVE_OUT) $@; rc=$$?; \
	  echo "prove: stage took $$(( $$(date +%s) - start )) s"; exit $$rc

# The docs site links the proof page (safety manual, traceability matrix).
docs: $(PROVE_PAGE)
