/**
 * @file vhu_sandbox.h
 * @brief The daemon's run-time confinement: optional privilege drop and a
 *        seccomp-bpf allow-list (internal to the daemon).
 *
 * Set-up (sockets bound, sources opened, signal handling in place) runs
 * unconfined; then vhu_drop_privileges() (with --user/--group) and
 * vhu_sandbox_enter() are called once, and the event loop runs confined. The
 * allow-list and how to extend it are in docs/vhost-user.md ("Sandbox").
 *
 * Thread-safety: call from the one thread, before the loop starts.
 */
#ifndef VHU_SANDBOX_H
#define VHU_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

/**
 * @brief Resolve a user and/or group name (or number) for --user/--group.
 * @param user user name or numeric uid, or NULL.
 * @param group group name or numeric gid, or NULL (then the user's primary group).
 * @param uid receives the uid (unchanged when @p user is NULL).
 * @param gid receives the gid (unchanged when both are NULL).
 * @return 0, or -1 with the reason logged (unknown name).
 */
int vhu_resolve_ids(const char *user, const char *group, uid_t *uid, gid_t *gid);

/**
 * @brief Drop to @p uid / @p gid for good (supplementary groups cleared).
 *
 * SHALL be called only when the process runs as root; SHALL verify that
 * root cannot be regained (setuid(0) fails afterwards).
 * @param set_uid change the user.
 * @param uid the user.
 * @param gid the group (always changed).
 * @return 0, or -1 with the reason logged.
 */
int vhu_drop_privileges(bool set_uid, uid_t uid, gid_t gid);

/**
 * @brief Set no_new_privs and load the allow-list. After a successful
 *        return, a system call outside the list is never executed: the
 *        process writes one audit line to stderr and is killed by SIGSYS.
 * @return 0, or -1 with the reason logged (the daemon then does not start).
 */
int vhu_sandbox_enter(void);

#endif
