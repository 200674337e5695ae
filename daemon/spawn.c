/* SPDX-License-Identifier: Apache-2.0
 * daemon/spawn.c -- start a helper (berth-monitor) without fork().
 *
 * libuv's uv_spawn forks berthd: the kernel copies the page tables of the
 * whole daemon (its heap, every thread's stack) only for the child to throw
 * them away at exec, and the loop thread waits for it.  posix_spawn shares
 * the address space until the exec (clone with CLONE_VM|CLONE_VFORK), so a
 * start costs the same whatever berthd's size.  The child's exit is watched
 * through a pidfd on the loop and reaped with waitid(P_PIDFD). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/daemon.h"

extern char **environ;

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static int xpidfd_open(pid_t pid)
{
        return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void on_child_pidfd(uv_poll_t *p, int status, int events)
{
        struct berth_child *ch = container_of(p, struct berth_child, poll);
        siginfo_t si;
        int64_t code = 0;
        int sig = 0;

        (void)status;
        (void)events;
        memset(&si, 0, sizeof(si));
        if (waitid((idtype_t)P_PIDFD, (id_t)ch->pidfd, &si, WEXITED | WNOHANG) < 0) {
                if (errno != ECHILD)
                        return;
                code = 127;     /* reaped by somebody else: status unknown */
        } else if (si.si_pid == 0) {
                return;         /* not yet */
        } else if (si.si_code == CLD_EXITED) {
                code = si.si_status;
        } else {
                sig = si.si_status;
        }
        (void)uv_poll_stop(p);
        if (ch->exit_cb)
                ch->exit_cb(ch, code, sig);
}

int berth_child_spawn(uv_loop_t *loop, struct berth_child *ch, const char *file, const char *const *argv,
                      const int *fds, int nfds, berth_child_exit_cb exit_cb, struct berth_err *err)
{
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t all, none;
        int moved[8], r = 0;
        pid_t pid;

        if (nfds > (int)ARRAY_SIZE(moved))
                return berth_err_set(err, EINVAL, "spawn %s: too many descriptors", file);
        memset(ch, 0, sizeof(*ch));
        ch->pidfd = -1;
        ch->exit_cb = exit_cb;
        for (int i = 0; i < nfds; i++)
                moved[i] = -1;
        /* a source below nfds could be overwritten by an earlier dup2:
         * move it up first (close-on-exec, the copy in the child is not) */
        for (int i = 0; i < nfds; i++) {
                if (fds[i] >= 0 && fds[i] < nfds) {
                        moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, nfds);
                        if (moved[i] < 0) {
                                r = berth_err_set(err, errno, "spawn %s: %s", file, strerror(errno));
                                goto out_fds;
                        }
                }
        }
        posix_spawn_file_actions_init(&fa);
        for (int i = 0; i < nfds; i++) {
                int src = moved[i] >= 0 ? moved[i] : fds[i];

                if (src < 0)
                        posix_spawn_file_actions_addopen(&fa, i, "/dev/null", O_RDWR, 0);
                else
                        posix_spawn_file_actions_adddup2(&fa, src, i);
        }
        posix_spawnattr_init(&attr);
        sigfillset(&all);
        sigemptyset(&none);
        /* as libuv's children: every signal at its default, none blocked */
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
        r = posix_spawn(&pid, file, &fa, &attr, (char *const *)argv, environ);
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0) {
                r = berth_err_set(err, r, "spawn %s: %s", file, strerror(r));
                goto out_fds;
        }
        ch->pid = pid;
        ch->pidfd = xpidfd_open(pid);
        if (ch->pidfd < 0 || uv_poll_init(loop, &ch->poll, ch->pidfd) < 0) {
                /* cannot watch it: it must not run unwatched */
                r = berth_err_set(err, errno ? errno : EIO, "watch %s: %s", file, strerror(errno ? errno : EIO));
                (void)kill(pid, SIGKILL);
                (void)waitpid(pid, NULL, 0);
                if (ch->pidfd >= 0)
                        close(ch->pidfd);
                ch->pidfd = -1;
                ch->pid = 0;
                goto out_fds;
        }
        (void)fcntl(ch->pidfd, F_SETFD, FD_CLOEXEC);
        (void)uv_poll_start(&ch->poll, UV_READABLE, on_child_pidfd);
out_fds:
        for (int i = 0; i < nfds; i++)
                if (moved[i] >= 0)
                        close(moved[i]);
        return r < 0 ? r : 0;
}

void berth_child_close(struct berth_child *ch, uv_close_cb cb)
{
        /* uv_close takes the fd out of epoll at once: it can go now */
        uv_close((uv_handle_t *)&ch->poll, cb);
        if (ch->pidfd >= 0)
                close(ch->pidfd);
        ch->pidfd = -1;
}
