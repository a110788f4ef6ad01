# The unit suite under valgrind memcheck (issue 6 item 5): the release-flag build
# ($(B)/unit, gcc -O2), every binary, any error or leak fails.
# REQ: REQ-GATE-012
VALGRIND := valgrind --quiet --error-exitcode=1 --leak-check=full --show-leak-kinds=definite,indirect,possible \
            --errors-for-leak-kinds=definite,indirect,possible --track-origins=yes
PKGS += valgrind
CHECK_TARGETS += unit-valgrind

.PHONY: unit-valgrind
unit-valgrind: $(UNIT_BIN)
	@set -e; n=0; for t in $(UNIT_BIN); do \
	  $(VALGRIND) --log-file=$$t.vg.log $$t >$$t.vg.out 2>&1 || { cat $$t.vg.out $$t.vg.log; echo "unit-valgrind: $$t FAILED"; exit 1; }; \
	  n=$$((n+1)); done; echo "unit-valgrind: $$n test programs clean under memcheck (errors and leaks)"
