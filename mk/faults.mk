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
# The sanitizer build by default; the coverage run (mk/coverage.mk) builds the
# same daemon with gcc --coverage at -O0 so the coverage data of the two merge.
FAULT_CC    ?= $(SAN_CC)
FAULT_OPT   ?= $(SAN_OPT)
FAULT_SAN   ?= $(SAN_FLAGS)
FAULT_VHU   := $(FAULT_DIR)/vhost-user-entropy
FAULT_CORE  := $(FAULT_DIR)/libsvdcore.a

PKGS += clang python3
# fcntl: the daemon makes kick/call/err fds non-blocking.
FAULT_WRAP  += fcntl
# The daemon's sandbox (vhu_sandbox.c) links libseccomp.
FAULT_LIBS  := -lseccomp
PKGS += libseccomp-dev

.PHONY: faults faults-build $(FAULT_CORE)
# The core in its own tree, built with the sanitizers (recursive make).
$(FAULT_CORE):
	@$(MAKE) --no-print-directory B=$(FAULT_DIR) CC=$(FAULT_CC) OPT="$(FAULT_OPT)" VARIANT_CFLAGS="$(FAULT_SAN)" $(FAULT_CORE)

$(FAULT_DIR)/inject.o: tests/faults/inject.c | $(FAULT_DIR)
	$(FAULT_CC) $(STD) $(WARN) $(FAULT_OPT) $(FAULT_SAN) -c $< -o $@
# The daemon's sources come from mk/vhost_user.mk.
$(FAULT_VHU): $$(VHU_SRC) $$(VHU_HDR) $(FAULT_DIR)/inject.o $(FAULT_CORE) | $(FAULT_DIR)
	$(FAULT_CC) $(CPPFLAGS_ALL) $(CFLAGS_SHIM) $(FAULT_OPT) $(FAULT_SAN) $(VHU_SRC) $(FAULT_DIR)/inject.o $(FAULT_CORE) \
	  $(HARDEN_LDFLAGS) $(addprefix -Wl$(comma)--wrap=,$(FAULT_WRAP)) $(FAULT_LIBS) -o $@
$(FAULT_DIR):
	mkdir -p $@

faults-build: $(FAULT_VHU)
faults: $(FAULT_VHU)
	@python3 tests/faults/run_vhu.py $(FAULT_VHU) $(FAULT_DIR)/run
