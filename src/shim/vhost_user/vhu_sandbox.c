/* Run-time confinement of the daemon: privilege drop and the seccomp-bpf
 * allow-list (libseccomp).
 *
 * The list holds what the event loop needs once set-up is done, and nothing
 * that set-up alone needs (socket, bind, listen, open, timerfd_create, ...):
 * a compromised loop cannot open a file, a socket or a process, or map
 * executable memory. The default action is SECCOMP_RET_TRAP: the forbidden
 * call is not executed, the SIGSYS handler writes one audit line (number and
 * architecture of the call) and re-issues the call with SIGSYS blocked,
 * which makes the kernel kill the process with SIGSYS (force_sig_seccomp
 * resets a blocked handler to the default action). The kernel also logs the
 * trap (audit type 1326, SECCOMP) where audit is on.
 *
 * Builds instrumented for sanitizers or coverage run a deny-list instead
 * (see k_denied_instrumented), never the release build. */
#include "vhu_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vhu_dev.h"

#if defined(__SANITIZE_ADDRESS__) || defined(SVD_COVERAGE)
#define VHU_INSTRUMENTED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define VHU_INSTRUMENTED 1
#endif
#endif
#ifndef VHU_INSTRUMENTED
#define VHU_INSTRUMENTED 0
#endif

#if !VHU_INSTRUMENTED
/* System calls the loop makes, with what makes them (allowed without
 * argument checks; the checked ones follow in vhu_sandbox_enter()). */
static const int k_allowed[] = {
    SCMP_SYS(read),            /* kick, timer and signalfd counts; --source */
    SCMP_SYS(write),           /* call/err notifications, logs */
    SCMP_SYS(writev),          /* stdio may gather a log line */
    SCMP_SYS(close),           /* fds the front-end sent, connections */
    SCMP_SYS(fstat),           /* region fd size at SET_MEM_TABLE */
    SCMP_SYS(newfstatat),      /* glibc's fstat/lstat (socket ownership at exit) */
    SCMP_SYS(poll),            /* drain(): readable now? */
    SCMP_SYS(ppoll),           /* poll on architectures without poll */
    SCMP_SYS(epoll_wait),      /* the loop */
    SCMP_SYS(epoll_pwait),     /* the loop, where glibc uses it */
    SCMP_SYS(epoll_ctl),       /* kick fds and connections come and go */
    SCMP_SYS(accept4),         /* a front-end connects */
    SCMP_SYS(recvmsg),         /* messages with their fds */
    SCMP_SYS(sendto),          /* replies (send) */
    SCMP_SYS(sendmsg),         /* replies, where libc sends that way */
    SCMP_SYS(munmap),          /* a memory table replaced, free() */
    SCMP_SYS(brk),             /* malloc (stdio) */
    SCMP_SYS(madvise),         /* free() */
    SCMP_SYS(getrandom),       /* the entropy source */
    SCMP_SYS(timerfd_settime), /* retry/poll timer, message deadline */
    SCMP_SYS(clock_gettime),   /* when the vDSO is not used */
    SCMP_SYS(unlink),          /* socket files at shutdown */
    SCMP_SYS(unlinkat),        /* the same where libc uses unlinkat */
    SCMP_SYS(futex),           /* stdio locks under contention (never in one thread, harmless) */
    SCMP_SYS(rt_sigreturn),    /* return from the SIGBUS handler */
    SCMP_SYS(restart_syscall), /* a call interrupted by a signal */
    SCMP_SYS(exit_group),      /* the end */
    SCMP_SYS(exit),
};
#endif

#if VHU_INSTRUMENTED
/* Builds instrumented for sanitizers or coverage cannot run the allow-list:
 * LeakSanitizer's exit check runs a ptrace-ing tracer (clone, ptrace, wait4,
 * /proc reads, with every signal blocked, so a trapped call kills it
 * silently and the check hangs) and gcov writes .gcda files at exit. Those
 * builds get a deny-list instead: everything is allowed except these calls,
 * which the loop must never make. The release allow-list itself is what
 * `make vhu-test` runs every daemon test under. */
static const int k_denied_instrumented[] = {
    SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(socket), SCMP_SYS(connect), SCMP_SYS(bind),
    SCMP_SYS(listen), SCMP_SYS(fork),     SCMP_SYS(vfork),  SCMP_SYS(setuid),  SCMP_SYS(setgid),
};
#endif

/* Async-signal-safe decimal/hex formatting for the audit line. */
static size_t put_str(char *buf, size_t at, size_t cap, const char *s)
{
    while (*s != '\0' && SVD_ALWAYS(at + 1u < cap)) { /* SVD-COV-007: the line fits its buffer */
        buf[at++] = *s++;
    }
    return at;
}

static size_t put_num(char *buf, size_t at, size_t cap, unsigned long v, unsigned base)
{
    static const char digits[] = "0123456789abcdef"; /* base is 10 or 16 (both callers) */
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v != 0u && SVD_ALWAYS(n < sizeof(tmp))); /* SVD-COV-007: 20 digits at most */
    while (n > 0u && SVD_ALWAYS(at + 1u < cap)) {        /* SVD-COV-007 */
        buf[at++] = tmp[--n];
    }
    return at;
}

#if defined(SVD_COVERAGE)
/* libgcov: write the coverage data now (the process is about to die). */
void __gcov_dump(void);
#endif

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
    char line[160];
    size_t at = 0;
    (void)sig;
    (void)uc;
    at = put_str(line, at, sizeof(line), "vhost-user-entropy: sandbox: system call ");
    at = put_num(line, at, sizeof(line), (unsigned long)(unsigned)si->si_syscall, 10u);
    at = put_str(line, at, sizeof(line), " (arch 0x");
    at = put_num(line, at, sizeof(line), (unsigned long)si->si_arch, 16u);
    at = put_str(line, at, sizeof(line), ") is not in the allow-list: killed by SIGSYS\n");
    (void)!write(STDERR_FILENO, line, at);
#if defined(SVD_COVERAGE)
    __gcov_dump();
#endif
    /* SIGSYS is blocked in its own handler: trapping again makes the kernel
     * kill the process with SIGSYS (the call itself never runs). */
    (void)syscall(si->si_syscall);
    /* Not reached. Were it, the forbidden call still did not run: it
     * returns ENOSYS to its caller, which treats it as a failure. */
}

/* A decimal id (uid or gid), at most INT32_MAX. */
static bool parse_id(const char *s, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    *out = strtoul(s, &end, 10);
    return s[0] >= '0' && s[0] <= '9' && errno == 0 && *end == '\0' && *out <= (unsigned long)INT32_MAX;
}

int vhu_resolve_ids(const char *user, const char *group, uid_t *uid, gid_t *gid)
{
    char buf[4096];
    unsigned long v = 0;
    if (user != NULL) {
        struct passwd pw;
        struct passwd *res = NULL;
        if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) == 0 && res != NULL) {
            *uid = pw.pw_uid;
            *gid = pw.pw_gid;
        } else if (parse_id(user, &v)) {
            *uid = (uid_t)v;
            *gid = (getpwuid_r(*uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL) ? pw.pw_gid : (gid_t)v;
        } else {
            vhu_log(VHU_LOG_ERROR, -1, "--user '%s': no such user", user);
            return -1;
        }
    }
    if (group != NULL) {
        struct group gr;
        struct group *res = NULL;
        if (getgrnam_r(group, &gr, buf, sizeof(buf), &res) == 0 && res != NULL) {
            *gid = gr.gr_gid;
        } else if (parse_id(group, &v)) {
            *gid = (gid_t)v;
        } else {
            vhu_log(VHU_LOG_ERROR, -1, "--group '%s': no such group", group);
            return -1;
        }
    }
    return 0;
}

int vhu_drop_privileges(bool set_uid, uid_t uid, gid_t gid)
{
    /* SVD-COV-008: as root (checked before) these cannot be refused. */
    if (SVD_NEVER(setgroups(1, &gid) != 0) || SVD_NEVER(setresgid(gid, gid, gid) != 0) ||
        (set_uid && SVD_NEVER(setresuid(uid, uid, uid) != 0))) {
        vhu_log(VHU_LOG_ERROR, -1, "cannot drop privileges to uid %u gid %u: %s", (unsigned)uid, (unsigned)gid,
                strerror(errno));
        return -1;
    }
    if (set_uid && uid != 0 && (SVD_NEVER(setuid(0) == 0) || SVD_NEVER(geteuid() != uid))) { /* SVD-COV-008 */
        vhu_log(VHU_LOG_ERROR, -1, "privileges could be regained after dropping them: refusing to run");
        return -1;
    }
    vhu_log(VHU_LOG_INFO, -1, "running as uid %u gid %u", (unsigned)getuid(), (unsigned)getgid());
    return 0;
}

#if !VHU_INSTRUMENTED
/* One argument comparison, every field set (libseccomp's SCMP_A* macros
 * leave datum_b to the compiler's zero-fill). */
static struct scmp_arg_cmp arg_cmp(unsigned arg, enum scmp_compare op, scmp_datum_t a, scmp_datum_t b)
{
    struct scmp_arg_cmp c;
    (void)memset(&c, 0, sizeof(c));
    c.arg = arg;
    c.op = op;
    c.datum_a = a;
    c.datum_b = b;
    return c;
}

static int allow_if(scmp_filter_ctx ctx, int nr, struct scmp_arg_cmp c)
{
    return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &c);
}

static int add_rules(scmp_filter_ctx ctx, const int *nrs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        /* A name this architecture lacks resolves to a negative pseudo
         * number that libseccomp may refuse: skip it. */
        if (nrs[i] >= 0 && seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nrs[i], 0) != 0) {
            return -1;
        }
    }
    return 0;
}
#endif

int vhu_sandbox_enter(void)
{
    struct sigaction sa;
    scmp_filter_ctx ctx;
    int rc = -1;

    (void)memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    /* SVD-COV-006: the set-up calls below fail only on what is excluded here. */
    if (SVD_NEVER(sigemptyset(&sa.sa_mask) != 0) || SVD_NEVER(sigaction(SIGSYS, &sa, NULL) != 0)) {
        vhu_log(VHU_LOG_ERROR, -1, "sandbox: sigaction(SIGSYS): %s", strerror(errno));
        return -1;
    }
    if (SVD_NEVER(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ||
        SVD_NEVER(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)) { /* SVD-COV-006 */
        vhu_log(VHU_LOG_ERROR, -1, "sandbox: cannot set no_new_privs: %s", strerror(errno));
        return -1;
    }
#if VHU_INSTRUMENTED
    ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (SVD_NEVER(ctx == NULL)) { /* SVD-COV-006 */
        vhu_log(VHU_LOG_ERROR, -1, "sandbox: seccomp_init failed");
        return -1;
    }
    rc = 0;
    for (size_t i = 0; SVD_ALWAYS(rc == 0) && i < sizeof(k_denied_instrumented) / sizeof(k_denied_instrumented[0]);
         i++) { /* SVD-COV-006 */
        rc = (SVD_NEVER(k_denied_instrumented[i] < 0) ||
              SVD_ALWAYS(seccomp_rule_add(ctx, SCMP_ACT_TRAP, k_denied_instrumented[i], 0) == 0))
                 ? 0
                 : -1; /* SVD-COV-006 */
    }
    if (SVD_ALWAYS(rc == 0)) { /* SVD-COV-006 */
        int lr = seccomp_load(ctx);
        if (SVD_NEVER(lr != 0)) { /* SVD-COV-006 */
            vhu_log(VHU_LOG_ERROR, -1, "sandbox: seccomp_load: %s", strerror(-lr));
            rc = -1;
        }
    } else {
        vhu_log(VHU_LOG_ERROR, -1, "sandbox: cannot build the deny-list");
    }
#else
    ctx = seccomp_init(SCMP_ACT_TRAP);
    if (ctx == NULL) {
        vhu_log(VHU_LOG_ERROR, -1, "sandbox: seccomp_init failed");
        return -1;
    }
    /* Checked arguments: memory is never mapped or made executable; the
     * only signal action changed is SIGBUS's (back to the default, in its
     * handler); fcntl only reads and sets file status flags (O_NONBLOCK on
     * notification fds) and reads the seals of a guest RAM fd. */
    if (add_rules(ctx, k_allowed, sizeof(k_allowed) / sizeof(k_allowed[0])) == 0 &&
        allow_if(ctx, SCMP_SYS(mmap), arg_cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) == 0 &&
        allow_if(ctx, SCMP_SYS(mprotect), arg_cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) == 0 &&
        allow_if(ctx, SCMP_SYS(rt_sigaction), arg_cmp(0, SCMP_CMP_EQ, SIGBUS, 0)) == 0 &&
        allow_if(ctx, SCMP_SYS(fcntl), arg_cmp(1, SCMP_CMP_EQ, F_GETFL, 0)) == 0 &&
        allow_if(ctx, SCMP_SYS(fcntl), arg_cmp(1, SCMP_CMP_EQ, F_SETFL, 0)) == 0 &&
        allow_if(ctx, SCMP_SYS(fcntl), arg_cmp(1, SCMP_CMP_EQ, F_GET_SEALS, 0)) == 0 &&
        /* --peer-uid reads SO_PEERCRED of each connection: socket-level options only. */
        allow_if(ctx, SCMP_SYS(getsockopt), arg_cmp(1, SCMP_CMP_EQ, SOL_SOCKET, 0)) == 0) {
        int lr = seccomp_load(ctx);
        if (lr == 0) {
            rc = 0;
        } else {
            vhu_log(VHU_LOG_ERROR, -1, "sandbox: seccomp_load: %s", strerror(-lr));
        }
    } else {
        vhu_log(VHU_LOG_ERROR, -1, "sandbox: cannot build the allow-list");
    }
#endif
    seccomp_release(ctx);
    if (SVD_ALWAYS(rc == 0)) { /* SVD-COV-006 */
        vhu_log(VHU_LOG_INFO, -1, "sandbox: seccomp %s loaded, no_new_privs set",
                VHU_INSTRUMENTED ? "deny-list (instrumented build)" : "allow-list");
    }
    return rc;
}
