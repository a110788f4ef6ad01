/* SIGBUS observations for the daemon suites (tests/vhost_user, tests/remote),
 * which start the real daemons and check whether they handle SIGBUS. Include
 * after <cmocka.h>: the helpers assert as the suites' own code does. */
#ifndef TG_SIGBUS_H
#define TG_SIGBUS_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

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

#endif
