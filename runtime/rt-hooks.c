/* SPDX-License-Identifier: Apache-2.0
 * runtime/rt-hooks.c -- OCI hooks: path, args, env, the state JSON on stdin,
 * and an optional timeout after which the hook is killed.
 */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "runtime/runtime-internal.h"

static char **hook_strv(const cJSON *arr, const char *first)
{
        size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
        char **v = xcalloc(n + 2, sizeof(char *));
        const cJSON *it;

        cJSON_ArrayForEach(it, arr)
                if (cJSON_IsString(it))
                        v[i++] = it->valuestring;
        if (i == 0 && first)
                v[i++] = (char *)first;
        return v;
}

static int run_one(const cJSON *h, const char *kind, const char *state, struct berth_err *err)
{
        const char *path = berth_json_str(h, "path");
        const cJSON *to = cJSON_GetObjectItemCaseSensitive(h, "timeout");
        _cleanup_free_ char **argv = NULL, **envp = NULL;
        int pfd[2], status = 0;
        long timeout_ms = cJSON_IsNumber(to) && to->valuedouble > 0 ? (long)(to->valuedouble * 1000) : -1;
        pid_t pid;

        if (!path)
                return berth_err_set(err, EINVAL, "%s hook without a path", kind);
        argv = hook_strv(cJSON_GetObjectItemCaseSensitive(h, "args"), path);
        envp = hook_strv(cJSON_GetObjectItemCaseSensitive(h, "env"), NULL);
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return berth_err_set(err, errno, "pipe: %s", strerror(errno));
        pid = fork();
        if (pid < 0) {
                (void)close(pfd[0]);
                (void)close(pfd[1]);
                return berth_err_set(err, errno, "fork: %s", strerror(errno));
        }
        if (pid == 0) {
                sigset_t all;
                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
                if (dup2(pfd[0], 0) < 0)
                        _exit(127);
                execve(path, argv, envp);
                _exit(127);
        }
        (void)close(pfd[0]);
        {
                /* a hook that does not read its stdin must not block us */
                struct sigaction sa = { .sa_handler = SIG_IGN }, old;
                sigaction(SIGPIPE, &sa, &old);
                size_t len = strlen(state);
                (void)!write(pfd[1], state, len);
                sigaction(SIGPIPE, &old, NULL);
        }
        (void)close(pfd[1]);
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd >= 0 && timeout_ms > 0) {
                struct pollfd p = { pidfd, POLLIN, 0 };
                int r;
                do
                        r = poll(&p, 1, (int)timeout_ms);
                while (r < 0 && errno == EINTR);
                if (r == 0) {
                        (void)kill(pid, SIGKILL);
                        (void)waitpid(pid, &status, 0);
                        (void)close(pidfd);
                        return berth_err_set(err, ETIMEDOUT, "%s hook %s timed out after %ld s", kind, path,
                                             timeout_ms / 1000);
                }
        }
        if (pidfd >= 0)
                (void)close(pidfd);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return berth_err_set(err, EIO, "%s hook %s failed with status %d", kind, path, rt_wait_status(status));
        return 0;
}

int rt_hooks_run(const cJSON *hooks, const char *kind, const char *state, struct berth_err *err)
{
        const cJSON *h;
        int r;

        cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(hooks, kind)) {
                r = run_one(h, kind, state, err);
                if (r < 0)
                        return r;
        }
        return 0;
}
