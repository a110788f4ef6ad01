/* SIGBUS observations for the daemon suites (tests/vhost_user, tests/remote),
 * which start the real daemons and check whether they handle SIGBUS. Include
 * after <cmocka.h>: the helpers assert as the suites' own code does. */
#ifndef TG_SIGBUS_H
#define TG_SIGBUS_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Does process @pid catch SIGBUS (the SigCgt mask of /proc/PID/status)? */
static inline bool tg_catches_sigbus(pid_t pid)
{
    char path[64], line[256];
    unsigned long long mask = 0;
    bool found = false;
    snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        found = sscanf(line, "SigCgt: %llx", &mask) == 1;
    }
    fclose(f);
    assert_true(found);
    return (mask & (1ull << (SIGBUS - 1))) != 0;
}

/* The sanitizer runtimes (ASan, UBSan) install a SIGBUS handler of their own
 * unless told not to, so under vhu-asan/remote-asan every daemon would seem
 * to catch SIGBUS. Between tg_sanitizers_leave_sigbus(true) and (false) the
 * daemons a test starts inherit handle_sigbus=0 (a build without sanitizers
 * ignores it) and show only their own handlers; the previous values are
 * restored after. Calling it twice with the same value does nothing. */
static inline void tg_sanitizers_leave_sigbus(bool leave)
{
    static const char *const vars[2] = { "ASAN_OPTIONS", "UBSAN_OPTIONS" };
    static char saved[2][512];
    static bool had[2];
    static bool active;
    if (leave == active) {
        return;
    }
    active = leave;
    for (int i = 0; i < 2; i++) {
        if (leave) {
            const char *old = getenv(vars[i]);
            char v[sizeof(saved[0]) + 32u];
            had[i] = old != NULL;
            int n = snprintf(saved[i], sizeof(saved[i]), "%s", old != NULL ? old : "");
            assert_true(n >= 0 && (size_t)n < sizeof(saved[i])); /* a longer value could not be restored */
            n = snprintf(v, sizeof(v), "%s%shandle_sigbus=0", saved[i], saved[i][0] != '\0' ? ":" : "");
            assert_true(n >= 0 && (size_t)n < sizeof(v));
            assert_int_equal(setenv(vars[i], v, 1), 0);
        } else if (had[i]) {
            assert_int_equal(setenv(vars[i], saved[i], 1), 0);
        } else {
            assert_int_equal(unsetenv(vars[i]), 0);
        }
    }
}

/* Where process @pid maps the memfd named @name (the guest RAM the suites
 * hand the daemons is memfd "guest-ram"): the start of the first such
 * mapping in /proc/PID/maps. */
static inline void *tg_mapping_of(pid_t pid, const char *name)
{
    char path[64], line[512], needle[128];
    unsigned long long start = 0;
    bool found = false;
    (void)snprintf(path, sizeof(path), "/proc/%ld/maps", (long)pid);
    (void)snprintf(needle, sizeof(needle), "/memfd:%s ", name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        found = strstr(line, needle) != NULL && sscanf(line, "%llx-", &start) == 1;
    }
    fclose(f);
    assert_true(found);
    return (void *)(uintptr_t)start;
}

/* Send @sig to process @pid (a child of the caller) and wait up to @ms for it
 * to end. With @addr NULL the signal goes by kill() (SI_USER); otherwise by
 * rt_sigqueueinfo() as SI_QUEUE with @addr in si_addr, the way a local
 * process can forge a "fault" at any address. Returns the signal that ended
 * the process, 0 if it exited, or -1 if it was still running at the
 * deadline (then it is killed and reaped, so a failed assertion leaves
 * nothing behind). Call tg_no_core_dumps() first when the default action
 * dumps core. */
static inline int tg_signal_ends(pid_t pid, int sig, const void *addr, unsigned ms)
{
    int st = 0;
    if (addr == NULL) {
        assert_int_equal(kill(pid, sig), 0);
    } else {
        siginfo_t si;
        memset(&si, 0, sizeof(si));
        si.si_signo = sig;
        si.si_code = SI_QUEUE;
        si.si_addr = (void *)(uintptr_t)addr;
        assert_int_equal(syscall(SYS_rt_sigqueueinfo, (long)pid, (long)sig, &si), 0);
    }
    for (unsigned waited = 0; waited < ms; waited += 5u) {
        const struct timespec ts = { 0, 5000000L };
        const pid_t r = waitpid(pid, &st, WNOHANG);
        assert_true(r == 0 || r == pid);
        if (r == pid) {
            return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
        }
        (void)nanosleep(&ts, NULL);
    }
    (void)kill(pid, SIGKILL);
    (void)waitpid(pid, &st, 0);
    return -1;
}

/* No core files from the daemons a test lets die by a signal whose default
 * action dumps core (SIGBUS): the children inherit RLIMIT_CORE 0. */
static inline void tg_no_core_dumps(void)
{
    const struct rlimit none = { 0, 0 };
    assert_int_equal(setrlimit(RLIMIT_CORE, &none), 0);
}

#endif
