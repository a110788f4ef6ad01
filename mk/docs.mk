# Documentation: Doxygen site (API reference + design docs), traceability matrix, browser check.
PKGS += doxygen graphviz python3 chromium
DOCS_GEN := $(B)/docs/gen

.PHONY: trace docs docs-browser
# Requirement -> tests matrix, per clause, generated from docs/req/*.md and the `REQ:`, `FM:` and
# `DFA:` tags of the tests in tests/, with the failure-mode analysis (docs/safety/fmea.md) checked.
trace:
	@mkdir -p $(DOCS_GEN)
	python3 tools/docs/trace.py $(DOCS_GEN)/traceability.md

# The MISRA compliance summary is written by the lint gate's MISRA pass; the
# docs site includes it (make check runs lint first, so it is there and fresh).
$(DOCS_GEN)/misra-summary.md: $$(LINT_SRC) $$(LINT_HDRS) tools/lint/misra.supp tools/lint/misra_gate.py tools/lint/misra-rules.txt docs/misra-deviations.md
	$(MAKE) --no-print-directory lint-cppcheck

# Doxygen with WARN_AS_ERROR: any undocumented symbol or doc error fails the build.
docs: trace $(DOCS_GEN)/misra-summary.md
	@rm -rf docs/html docs/xml && mkdir -p $(DOCS_GEN)
	@rc=0; SVD_VERSION=$(VERSION) SVD_DOCS_GEN=$(DOCS_GEN) doxygen docs/Doxyfile || rc=$$?; \
	if [ $$rc != 0 ] || [ -s $(DOCS_GEN)/doxygen-warnings.log ]; then \
	  echo "docs: doxygen failed (status $$rc), $$(grep -c . $(DOCS_GEN)/doxygen-warnings.log) warning lines:"; \
	  cat $(DOCS_GEN)/doxygen-warnings.log; exit 1; fi
	@python3 tools/docs/doc_stats.py docs/html

# Serve docs/html, screenshot two pages in headless Chromium, check every internal link.
docs-browser: docs
	python3 tools/docs/browser_check.py $(B)/docs/screenshots architecture.html
