# Countdown fault injection (SQLite's malloc tests applied to syscalls). The
# vhost-user daemon is rebuilt in $(FAULT_DIR) with $(SAN_FLAGS) (LeakSanitizer
# checks every exit) and linked with tests/faults/inject.c through -Wl,--wrap
# for each syscall/allocation its own code makes. tests/faults/run_vhu.py then
# runs one scenario (daemon start, one front-end session that gets entropy,
# SIGTERM) failing the 1st, 2nd, ... call until a run completes with no fault
# fired, and checks every run: no crash, no sanitizer/leak report, no hang, and
# a failed call is reported with its error. The qvm adapters make no syscall
# of their own; their host calls get the same countdown in the harness
# (hq_fault_countdown, tests/harness/hq.h).
#   make faults
FAULT_DIR   := $(B)/faults
FAULT_WRAP  := socket bind listen accept4 setsockopt recvmsg sendmsg recv send read __read_chk __recv_chk \
               write epoll_create1 epoll_ctl epoll_wait timerfd_create timerfd_settime signalfd sigprocmask \
               getrandom poll __poll_chk unlink eventfd open mmap malloc calloc realloc
FAULT_VHU   := $(FAULT_DIR)/vhost-user-entropy
FAULT_CORE  := $(FAULT_DIR)/libsvdcore.a

PKGS += clang python3

.PHONY: faults faults-build $(FAULT_CORE)
# The core in its own tree, built with the sanitizers (recursive make).
$(FAULT_CORE):
	@$(MAKE) --no-print-directory B=$(FAULT_DIR) CC=$(SAN_CC) OPT="$(SAN_OPT)" VARIANT_CFLAGS="$(SAN_FLAGS)" $(FAULT_CORE)

$(FAULT_DIR)/inject.o: tests/faults/inject.c | $(FAULT_DIR)
	$(SAN_CC) $(STD) $(WARN) $(SAN_OPT) $(SAN_FLAGS) -c $< -o $@
# The daemon's sources come from mk/vhost_user.mk.
$(FAULT_VHU): $$(VHU_SRC) $$(VHU_HDR) $(FAULT_DIR)/inject.o $(FAULT_CORE) | $(FAULT_DIR)
	$(SAN_CC) $(CPPFLAGS_ALL) $(CFLAGS_SHIM) $(SAN_OPT) $(SAN_FLAGS) $(VHU_SRC) $(FAULT_DIR)/inject.o $(FAULT_CORE) \
	  $(HARDEN_LDFLAGS) $(addprefix -Wl$(comma)--wrap=,$(FAULT_WRAP)) -o $@
$(FAULT_DIR):
	mkdir -p $@

faults-build: $(FAULT_VHU)
# REQ: REQ-GATE-011
faults: $(FAULT_VHU)
	@python3 tests/faults/run_vhu.py $(FAULT_VHU) $(FAULT_DIR)/run
