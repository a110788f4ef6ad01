# Countdown fault injection (issue 6 item 4; SQLite's malloc tests applied to
# syscalls). The vhost-user daemon is rebuilt in $(B)/faults with clang
# ASan+UBSan (LeakSanitizer checks every exit) and linked with
# tests/faults/inject.c through -Wl,--wrap for each syscall/allocation its own
# code makes. tests/faults/run_vhu.py then runs one scenario (daemon start, one
# front-end session that gets entropy, SIGTERM) failing the 1st, 2nd, ... call
# until a run completes with no fault fired, and checks every run: no crash,
# no sanitizer/leak report, no hang, and a failed call is reported with its
# error. The qvm adapter's host calls have their own countdown in the harness
# (tests/harness, qvm engineer); the adapter itself makes no syscall.
#   make faults
# REQ: REQ-GATE-011
FAULT_DIR   := $(B)/faults
FAULT_WRAP  := socket bind listen accept4 setsockopt recvmsg sendmsg recv send read __read_chk __recv_chk \
               write epoll_create1 epoll_ctl epoll_wait timerfd_create timerfd_settime signalfd sigprocmask \
               getrandom poll __poll_chk unlink eventfd open mmap malloc calloc realloc
FAULT_SAN   ?= -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The coverage run builds the same daemon with gcc --coverage at -O0, like its
# other builds, so the coverage data of the two merge (mk/coverage.mk).
FAULT_CC    ?= clang
FAULT_OPT   ?= -O1
FAULT_VHU   := $(FAULT_DIR)/vhost-user-entropy
FAULT_VHU_SRC := $(sort $(wildcard src/shim/vhost_user/*.c))
FAULT_CORE  := $(FAULT_DIR)/libsvdcore.a

PKGS += clang python3
# fcntl: the daemon makes kick/call/err fds non-blocking.
FAULT_WRAP  += fcntl
# The daemon's sandbox (vhu_sandbox.c) links libseccomp.
FAULT_LIBS  := -lseccomp
PKGS += libseccomp-dev
# Joins `make check` once every run passes on the committed tree.
FAULTS_IN_CHECK ?= 1
ifneq ($(FAULT_VHU_SRC),)
ifeq ($(FAULTS_IN_CHECK),1)
CHECK_TARGETS += faults
endif
endif

.PHONY: faults faults-build $(FAULT_CORE)
$(FAULT_CORE):
	@$(MAKE) --no-print-directory B=$(FAULT_DIR) CC=$(FAULT_CC) OPT="$(FAULT_OPT) -g" VARIANT_CFLAGS="$(FAULT_SAN)" $(FAULT_CORE)

$(FAULT_DIR)/inject.o: tests/faults/inject.c | $(FAULT_DIR)
	$(FAULT_CC) $(STD) $(WARN) $(FAULT_OPT) -g $(FAULT_SAN) -c $< -o $@
$(FAULT_VHU): $(FAULT_VHU_SRC) $(wildcard src/shim/vhost_user/*.h) $(FAULT_DIR)/inject.o $(FAULT_CORE) | $(FAULT_DIR)
	$(FAULT_CC) $(CPPFLAGS_ALL) $(CFLAGS_SHIM) $(FAULT_OPT) $(FAULT_SAN) $(FAULT_VHU_SRC) $(FAULT_DIR)/inject.o $(FAULT_CORE) \
	  $(HARDEN_LDFLAGS) $(addprefix -Wl$(comma)--wrap=,$(FAULT_WRAP)) $(FAULT_LIBS) -o $@
$(FAULT_DIR):
	mkdir -p $@

comma := ,
faults-build: $(FAULT_VHU)
faults: $(FAULT_VHU)
	@python3 tests/faults/run_vhu.py $(FAULT_VHU) $(FAULT_DIR)/run
