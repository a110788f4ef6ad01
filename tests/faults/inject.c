/* Countdown fault injector (SQLite's malloc-test idea applied to syscalls).
 *
 * Linked into a test build of a shim with -Wl,--wrap=<fn> for every function
 * below, so every call the shim's own code makes to one of them goes through
 * a __wrap_ function here (calls libc makes internally are not affected).
 *
 *   SVD_FAULT_COUNTDOWN=N   the N-th wrapped call fails (N >= 1); 0/unset: none
 *   SVD_FAULT_ONLY=a,b      count only these functions (optional)
 *
 * A failed call returns the function's error value with an errno chosen to be
 * distinctive and not retryable (never EINTR/EAGAIN), so the runner can check
 * that the shim reported the right error. The injector says on stderr which
 * call it failed, and at exit how many calls it saw:
 *   svd-fault: fail #N NAME errno=E (TEXT)
 *   svd-fault: exit calls=N fired=0|1
 * Test code, not shipped: it is linked only into $(B)/faults binaries. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <fcntl.h>
#include <unistd.h>

static long g_countdown = -1; /* -1: not read from the environment yet */
static long g_calls;
static int g_fired;
static char g_only[256];

static void fault_say(const char *msg)
{
    /* Not through the wrapped write(): straight to fd 2, best effort. */
    size_t n = strlen(msg);
    ssize_t w = syscall(SYS_write, 2, msg, n);
    (void)w;
}

__attribute__((destructor)) static void fault_report(void)
{
    char buf[96];
    (void)snprintf(buf, sizeof(buf), "svd-fault: exit calls=%ld fired=%d\n", g_calls, g_fired);
    fault_say(buf);
}

/* True when this call must fail; sets errno to e then. */
static int fault_hit(const char *name, int e)
{
    if (g_countdown < 0) {
        const char *s = getenv("SVD_FAULT_COUNTDOWN");
        const char *o = getenv("SVD_FAULT_ONLY");
        g_countdown = (s != NULL) ? strtol(s, NULL, 10) : 0;
        if (o != NULL) {
            (void)snprintf(g_only, sizeof(g_only), ",%s,", o);
        }
    }
    if (g_only[0] != '\0') {
        char key[64];
        (void)snprintf(key, sizeof(key), ",%s,", name);
        if (strstr(g_only, key) == NULL) {
            return 0;
        }
    }
    g_calls++;
    if (g_countdown > 0 && g_calls == g_countdown) {
        char buf[160];
        g_fired = 1;
        (void)snprintf(buf, sizeof(buf), "svd-fault: fail #%ld %s errno=%d (%s)\n", g_calls, name, e, strerror(e));
        fault_say(buf);
        errno = e;
        return 1;
    }
    return 0;
}

#define WRAP_INT(ret, name, e, params, args)      \
    ret __real_##name params;                     \
    ret __wrap_##name params;                     \
    ret __wrap_##name params                      \
    {                                             \
        if (fault_hit(#name, e)) {                \
            return (ret)-1;                       \
        }                                         \
        return __real_##name args;                \
    }

WRAP_INT(int, socket, EMFILE, (int d, int t, int p), (d, t, p))
WRAP_INT(int, bind, EADDRINUSE, (int s, const struct sockaddr *a, socklen_t l), (s, a, l))
WRAP_INT(int, listen, EOPNOTSUPP, (int s, int b), (s, b))
WRAP_INT(int, accept4, EMFILE, (int s, struct sockaddr *a, socklen_t *l, int f), (s, a, l, f))
WRAP_INT(int, setsockopt, ENOPROTOOPT, (int s, int lv, int o, const void *v, socklen_t l), (s, lv, o, v, l))
WRAP_INT(ssize_t, recvmsg, EIO, (int s, struct msghdr *m, int f), (s, m, f))
WRAP_INT(ssize_t, sendmsg, EPIPE, (int s, const struct msghdr *m, int f), (s, m, f))
WRAP_INT(ssize_t, recv, EIO, (int s, void *b, size_t n, int f), (s, b, n, f))
WRAP_INT(ssize_t, send, EPIPE, (int s, const void *b, size_t n, int f), (s, b, n, f))
WRAP_INT(ssize_t, read, EIO, (int fd, void *b, size_t n), (fd, b, n))
WRAP_INT(ssize_t, __read_chk, EIO, (int fd, void *b, size_t n, size_t bl), (fd, b, n, bl))
WRAP_INT(ssize_t, __recv_chk, EIO, (int s, void *b, size_t n, size_t bl, int f), (s, b, n, bl, f))
WRAP_INT(ssize_t, write, EIO, (int fd, const void *b, size_t n), (fd, b, n))
WRAP_INT(int, epoll_create1, EMFILE, (int f), (f))
WRAP_INT(int, epoll_ctl, ENOSPC, (int e, int op, int fd, struct epoll_event *ev), (e, op, fd, ev))
WRAP_INT(int, epoll_wait, EBADF, (int e, struct epoll_event *ev, int m, int t), (e, ev, m, t))
WRAP_INT(int, timerfd_create, EMFILE, (int c, int f), (c, f))
WRAP_INT(int, timerfd_settime, ENODEV, (int fd, int f, const struct itimerspec *n, struct itimerspec *o), (fd, f, n, o))
WRAP_INT(int, signalfd, EMFILE, (int fd, const sigset_t *m, int f), (fd, m, f))
WRAP_INT(int, sigprocmask, EFAULT, (int h, const sigset_t *s, sigset_t *o), (h, s, o))
WRAP_INT(ssize_t, getrandom, EIO, (void *b, size_t n, unsigned int f), (b, n, f))
WRAP_INT(int, poll, ENOMEM, (struct pollfd *f, nfds_t n, int t), (f, n, t))
WRAP_INT(int, __poll_chk, ENOMEM, (struct pollfd *f, nfds_t n, int t, size_t fl), (f, n, t, fl))
WRAP_INT(int, unlink, EACCES, (const char *p), (p))
WRAP_INT(int, eventfd, EMFILE, (unsigned int v, int f), (v, f))

/* open() is variadic: the mode is passed on when O_CREAT/O_TMPFILE asks for it. */
int __real_open(const char *p, int f, ...);
int __wrap_open(const char *p, int f, ...);
int __wrap_open(const char *p, int f, ...)
{
    mode_t mode = 0;
    if ((f & O_CREAT) != 0 || (f & O_TMPFILE) == O_TMPFILE) {
        va_list ap;
        va_start(ap, f);
        mode = (mode_t)va_arg(ap, unsigned int);
        va_end(ap);
    }
    if (fault_hit("open", EACCES)) {
        return -1;
    }
    return __real_open(p, f, mode);
}

/* fcntl() is variadic: the daemon passes an int (F_SETFL flags) or nothing. */
int __real_fcntl(int fd, int cmd, ...);
int __wrap_fcntl(int fd, int cmd, ...);
int __wrap_fcntl(int fd, int cmd, ...)
{
    int arg;
    va_list ap;
    va_start(ap, cmd);
    arg = va_arg(ap, int);
    va_end(ap);
    if (fault_hit("fcntl", EBADF)) {
        return -1;
    }
    return __real_fcntl(fd, cmd, arg);
}

void *__real_mmap(void *a, size_t l, int p, int f, int fd, off_t o);
void *__wrap_mmap(void *a, size_t l, int p, int f, int fd, off_t o);
void *__wrap_mmap(void *a, size_t l, int p, int f, int fd, off_t o)
{
    if (fault_hit("mmap", ENOMEM)) {
        return MAP_FAILED;
    }
    return __real_mmap(a, l, p, f, fd, o);
}

void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_malloc(size_t n)
{
#if defined(SVD_COVERAGE)
    /* In the coverage build libgcov's own allocations (writing the data at
     * exit) come through here too, and a failed one lost the run's data;
     * the daemons' code calls calloc, never malloc. */
    return __real_malloc(n);
#else
    return fault_hit("malloc", ENOMEM) ? NULL : __real_malloc(n);
#endif
}

void *__real_calloc(size_t n, size_t s);
void *__wrap_calloc(size_t n, size_t s);
void *__wrap_calloc(size_t n, size_t s)
{
    return fault_hit("calloc", ENOMEM) ? NULL : __real_calloc(n, s);
}

void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n)
{
    return fault_hit("realloc", ENOMEM) ? NULL : __real_realloc(p, n);
}
