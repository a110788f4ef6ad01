# Release evidence (`make evidence`): one archive for the current version with
# the docs site, coverage, traceability, lint/analysis/proof logs, test results,
# tool versions, the git state and SHA256SUMS (docs/safety/tool-confidence.md,
# "Release evidence"). It runs the stages it packs, one after the other, each
# with its log (EVIDENCE_STAGES; a failing stage fails the archive); the e2e
# runs, being long, are packed when EVIDENCE_STAGES names them.
#
# Only what this run produced is packed: the generated trees the archive takes
# (EVIDENCE_OUTPUTS) are removed before the first stage, so a reduced run never
# carries an earlier run's lint, proof, coverage or docs output. git-state.txt
# says whether HEAD is the release tag v$(VERSION) and the tree is clean; only
# then is the archive release evidence. The tar is written in a fixed order with
# the commit's time and owner 0 on every member, and gzip -n, so two runs from
# one tag differ only where the content does (logs with times, tool output).
EVIDENCE_DIR    = $(B)/evidence
EVIDENCE_NAME   = safevdev-$(VERSION)-evidence
EVIDENCE_TREE   = $(EVIDENCE_DIR)/$(EVIDENCE_NAME)
EVIDENCE_STAGES ?= lint purity stack unit coverage coverage-gate harness vhu-test gate-selftest trace docs
EVIDENCE_OUTPUTS = docs/html coverage/html $(B)/docs/gen $(B)/lint $(B)/prove $(B)/stack
.PHONY: evidence
evidence: deps
	@rm -rf $(EVIDENCE_TREE) $(EVIDENCE_OUTPUTS) && mkdir -p $(EVIDENCE_TREE)/logs
	@set -e; for s in $(EVIDENCE_STAGES); do \
	  t0=$$(date +%s); echo "=== evidence: make $$s"; \
	  if ! $(MAKE) --no-print-directory $$s >$(EVIDENCE_TREE)/logs/$$s.log 2>&1; then \
	    tail -n 30 $(EVIDENCE_TREE)/logs/$$s.log; echo "evidence: make $$s failed (log in $(EVIDENCE_TREE)/logs)"; exit 1; fi; \
	  echo "$$s passed in $$(( $$(date +%s) - t0 )) s" >>$(EVIDENCE_TREE)/stages.txt; \
	done
	@tools/build/tool_versions.sh $(sort $(PKGS)) >$(EVIDENCE_TREE)/tool-versions.txt
	@{ echo "version $(VERSION)"; echo "commit $$(git rev-parse HEAD 2>/dev/null || echo none)"; \
	   echo "describe $$(git describe --tags --always --dirty 2>/dev/null || echo none)"; \
	   if [ "$$(git describe --tags --exact-match 2>/dev/null)" = "v$(VERSION)" ]; then echo "release tag v$(VERSION) at HEAD"; \
	   else echo "HEAD is not the release tag v$(VERSION): NOT release evidence"; fi; \
	   if [ -z "$$(git status --porcelain 2>/dev/null)" ]; then echo "tree clean"; \
	   else echo "tree has uncommitted changes: NOT release evidence"; git status --porcelain; fi; } \
	   >$(EVIDENCE_TREE)/git-state.txt
	@if [ -d docs/html ]; then cp -r docs/html $(EVIDENCE_TREE)/docs-site; fi
	@if [ -d coverage/html ]; then cp -r coverage/html $(EVIDENCE_TREE)/coverage; fi
	@mkdir -p $(EVIDENCE_TREE)/generated && cp -r $(B)/docs/gen/. $(EVIDENCE_TREE)/generated/ 2>/dev/null || true
	@if [ -d $(B)/lint ]; then cp -r $(B)/lint $(EVIDENCE_TREE)/lint; fi
	@if [ -d $(B)/prove ]; then cp -r $(B)/prove $(EVIDENCE_TREE)/prove; fi
	@if [ -f $(B)/stack/stack.md ]; then mkdir -p $(EVIDENCE_TREE)/stack && cp $(B)/stack/stack.md $(EVIDENCE_TREE)/stack/; fi
	@cp LICENSE SECURITY.md CHANGELOG.md $(EVIDENCE_TREE)/
	@cd $(EVIDENCE_TREE) && find . -type f ! -name SHA256SUMS -print0 | sort -z | xargs -0 sha256sum >SHA256SUMS
	@set -o pipefail; t=$$(git log -1 --format=%ct 2>/dev/null || echo 0); \
	 tar -C $(EVIDENCE_DIR) --sort=name --mtime=@$$t --owner=0 --group=0 --numeric-owner -cf - $(EVIDENCE_NAME) \
	   | gzip -n >$(EVIDENCE_DIR)/$(EVIDENCE_NAME).tar.gz
	@echo "evidence: $(EVIDENCE_DIR)/$(EVIDENCE_NAME).tar.gz ($$(wc -l <$(EVIDENCE_TREE)/SHA256SUMS) files, $$(du -sh $(EVIDENCE_DIR)/$(EVIDENCE_NAME).tar.gz | cut -f1)); $$(grep -m1 "^tree" $(EVIDENCE_TREE)/git-state.txt); $$(grep -m1 -E "^(release tag|HEAD is not)" $(EVIDENCE_TREE)/git-state.txt)"
