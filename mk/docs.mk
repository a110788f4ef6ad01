# Documentation: Doxygen site (API reference + design docs), traceability matrix, browser check.
PKGS += doxygen graphviz python3 chromium
DOCS_GEN := $(B)/docs/gen

.PHONY: trace docs docs-browser
# Requirement -> tests matrix, per clause, generated from docs/req/*.md and the `REQ:`, `FM:` and
# `DFA:` tags of the tests in tests/, with the failure-mode analysis (docs/safety/fmea.md) checked.
trace:
	@mkdir -p $(DOCS_GEN)
	python3 tools/docs/trace.py $(DOCS_GEN)/traceability.md

# Doxygen with WARN_AS_ERROR: any undocumented symbol or doc error fails the build.
docs: trace
	@rm -rf docs/html docs/xml && mkdir -p $(DOCS_GEN)
	@rc=0; SVD_VERSION=$(VERSION) SVD_DOCS_GEN=$(DOCS_GEN) doxygen docs/Doxyfile || rc=$$?; \
	if [ $$rc != 0 ] || [ -s $(DOCS_GEN)/doxygen-warnings.log ]; then \
	  echo "docs: doxygen failed (status $$rc), $$(grep -c . $(DOCS_GEN)/doxygen-warnings.log) warning lines:"; \
	  cat $(DOCS_GEN)/doxygen-warnings.log; exit 1; fi
	@python3 tools/docs/doc_stats.py docs/html

# Serve docs/html, screenshot two pages in headless Chromium, check every internal link.
docs-browser: docs
	python3 tools/docs/browser_check.py $(B)/docs/screenshots architecture.html
