/* SPDX-License-Identifier: Apache-2.0
 * runtime/monitor-rt.c -- berth-monitor runs the OCI runtime: one command at
 * a time, waited for with a pidfd and a bound, while the console socket is
 * served; the error text comes from the runtime's json log. */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "runtime/monitor-internal.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* Decode the JSON string starting after its opening quote into out. */
static void json_unquote(const char *p, const char *end, char *out, size_t outlen)
{
        size_t o = 0;

        while (p < end && *p != '"' && o + 1 < outlen) {
                char c = *p++;

                if (c == '\\' && p < end) {
                        char e = *p++;

                        switch (e) {
                        case 'n': c = '\n'; break;
                        case 't': c = '\t'; break;
                        case 'r': c = '\r'; break;
                        case 'b': c = '\b'; break;
                        case 'f': c = '\f'; break;
                        case 'u': {
                                unsigned v = 0;

                                for (int i = 0; i < 4 && p < end; i++, p++) {
                                        char h = *p;

                                        v = v * 16 + (unsigned)(h >= 'a' ? h - 'a' + 10 : h >= 'A' ? h - 'A' + 10 : h - '0');
                                }
                                if (v < 0x80) {
                                        c = (char)v;
                                } else if (v < 0x800 && o + 2 < outlen) {
                                        out[o++] = (char)(0xc0 | (v >> 6));
                                        c = (char)(0x80 | (v & 0x3f));
                                } else if (o + 3 < outlen) {
                                        out[o++] = (char)(0xe0 | (v >> 12));
                                        out[o++] = (char)(0x80 | ((v >> 6) & 0x3f));
                                        c = (char)(0x80 | (v & 0x3f));
                                } else {
                                        c = '?';
                                }
                                break;
                        }
                        default: c = e; break;
                        }
                }
                out[o++] = c;
        }
        out[o] = '\0';
}

/* Find "key":"value" in one line and decode value; false if absent. */
static bool json_line_str(const char *line, const char *end, const char *key, char *out, size_t outlen)
{
        char pat[32];
        size_t plen;
        const char *p = line;

        plen = (size_t)snprintf(pat, sizeof(pat), "\"%s\":", key);
        while (p + plen <= end) {
                const char *q = memmem(p, (size_t)(end - p), pat, plen);

                if (!q)
                        return false;
                q += plen;
                while (q < end && *q == ' ')
                        q++;
                if (q < end && *q == '"') {
                        json_unquote(q + 1, end, out, outlen);
                        return true;
                }
                p = q;
        }
        return false;
}

int mon_rt_log_error(const char *data, size_t len, char *msg, size_t msglen)
{
        const char *p = data, *end = data + len;
        bool found = false;

        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t)(end - p));
                char level[16];

                if (!eol)
                        eol = end;
                if (json_line_str(p, eol, "level", level, sizeof(level)) &&
                    (!strcmp(level, "error") || !strcmp(level, "fatal")) &&
                    json_line_str(p, eol, "msg", msg, msglen))
                        found = true;
                p = eol + 1;
        }
        return found ? 0 : -ENOENT;
}

int mon_recv_fd(int sock)
{
        char name[4096], cbuf[CMSG_SPACE(sizeof(int) * 4)];
        struct iovec iov = { name, sizeof(name) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                             .msg_controllen = sizeof(cbuf) };
        int fd = -1;
        ssize_t n;

        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                        int x;

                        memcpy(&x, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        if (fd < 0)
                                fd = x;
                        else
                                close(x);
                }
        }
        return fd >= 0 ? fd : -EBADMSG;
}

static int64_t mono_ms(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child, between fork and exec: only async-signal-safe calls. */

/* the commands after which the runtime runs code of the container */
/* already on a read-only mount (berthd binds its runtime so, once): it can
 * run as it is */
static bool readonly_mount(const char *path)
{
        struct statvfs sv;

        return statvfs(path, &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

static bool protect_exe(char *const *argv)
{
        for (size_t i = 1; argv[i]; i++)
                if (!strcmp(argv[i], "create") || !strcmp(argv[i], "run") || !strcmp(argv[i], "exec"))
                        return true;
        return false;
}

static __attribute__((noreturn)) void rt_child(const struct mon_rt *rt, char *const *argv,
                                               const struct mon_rt_io *io)
{
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigset_t all;
        int devnull, fds[3] = { io->in, io->out, io->err };

        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (int s = 1; s < NSIG; s++)
                (void)sigaction(s, &sa, NULL);
        sigemptyset(&all);
        (void)sigprocmask(SIG_SETMASK, &all, NULL);
        devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int i = 0; i < 3; i++) {
                int src = fds[i] >= 0 ? fds[i] : devnull;

                if (src < 0)
                        _exit(127);
                if (src == i) {
                        int fl = fcntl(i, F_GETFD);

                        (void)fcntl(i, F_SETFD, fl & ~FD_CLOEXEC);
                } else if (dup2(src, i) < 0) {
                        _exit(127);
                }
        }
        if (rt->oom_adj[0]) {
                int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

                if (fd >= 0) {
                        (void)!write(fd, rt->oom_adj, strlen(rt->oom_adj));
                        close(fd);
                }
        }
        if (chdir(io->cwd ? io->cwd : "/") < 0)
                (void)!chdir("/");
        if (protect_exe(argv) && !readonly_mount(rt->runtime)) {
                /* CVE-2019-5736: run the runtime from a read-only detached bind
                 * mount of itself, so that it need not re-execute itself to be
                 * safe from a container that runs "#!/proc/self/exe" */
                struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
                int fd = (int)syscall(SYS_open_tree, AT_FDCWD, rt->runtime, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);

                if (fd >= 0 && syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) == 0)
                        (void)syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
                if (fd >= 0)
                        (void)close(fd);
        }
        execv(rt->runtime, argv);
        {
                static const char m[] = "berth-monitor: cannot execute the runtime\n";

                (void)!write(2, m, sizeof(m) - 1);
        }
        _exit(127);
}

/* Keep the last non-empty line of text in msg. */
void mon_rt_last_line(const char *text, size_t len, char *msg, size_t msglen)
{
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
                len--;
        size_t start = len;

        while (start > 0 && text[start - 1] != '\n')
                start--;
        if (len - start >= msglen)
                start = len - (msglen - 1);
        memcpy(msg, text + start, len - start);
        msg[len - start] = '\0';
}

int mon_rt_run(const struct mon_rt *rt, const char *const *argv, struct mon_rt_io *io,
               char *msg, size_t msglen)
{
        char logpath[PATH_MAX];
        const char *full[64];
        size_t n = 0;
        int64_t deadline;
        int pidfd, status = 0, fd;
        bool timed_out = false;
        pid_t pid;

        msg[0] = '\0';
        io->console_fd = -1;
        (void)snprintf(logpath, sizeof(logpath), "%s/%s", rt->state_dir, MON_FILE_RTLOG);
        fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd >= 0)
                close(fd);
        full[n++] = rt->runtime;
        for (int i = 0; i < rt->nargs && n < ARRAY_SIZE(full) - 24; i++)
                full[n++] = rt->args[i];
        full[n++] = "--log";
        full[n++] = logpath;
        full[n++] = "--log-format";
        full[n++] = "json";
        for (int i = 0; argv[i] && n < ARRAY_SIZE(full) - 1; i++)
                full[n++] = argv[i];
        full[n] = NULL;

        pid = fork();
        if (pid < 0) {
                int e = errno;

                (void)snprintf(msg, msglen, "fork: %s", strerror(e));
                return -e;
        }
        if (pid == 0)
                rt_child(rt, (char *const *)full, io);

        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        deadline = mono_ms() + rt->timeout_ms;
        for (;;) {
                struct pollfd p[2] = { { pidfd, POLLIN, 0 }, { io->console_listen, POLLIN, 0 } };
                int np = io->console_listen >= 0 && io->console_fd < 0 ? 2 : 1;
                int64_t left = deadline - mono_ms();
                int r;

                if (pidfd < 0) {
                        /* no pidfd (old kernel): plain blocking wait */
                        break;
                }
                if (left <= 0) {
                        (void)kill(pid, SIGKILL);
                        timed_out = true;
                        break;
                }
                r = poll(p, (nfds_t)np, (int)(left > INT_MAX ? INT_MAX : left));
                if (r < 0 && errno != EINTR)
                        break;
                if (np == 2 && (p[1].revents & POLLIN)) {
                        int c = accept4(io->console_listen, NULL, NULL, SOCK_CLOEXEC);

                        if (c >= 0) {
                                int mfd = mon_recv_fd(c);

                                if (mfd >= 0)
                                        io->console_fd = mfd;
                                else
                                        log_warn("console socket: no fd received: %s", strerror(-mfd));
                                close(c);
                        }
                }
                if (p[0].revents & POLLIN)
                        break;
        }
        while (waitpid(pid, &status, 0) < 0) {
                if (errno != EINTR) {
                        int e = errno;

                        if (pidfd >= 0)
                                close(pidfd);
                        (void)snprintf(msg, msglen, "wait for the runtime: %s", strerror(e));
                        return -e;
                }
        }
        if (pidfd >= 0)
                close(pidfd);
        /* a console sent just before the runtime exited */
        if (io->console_listen >= 0 && io->console_fd < 0) {
                int c = accept4(io->console_listen, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

                if (c >= 0) {
                        int fl = fcntl(c, F_GETFL);

                        (void)fcntl(c, F_SETFL, fl & ~O_NONBLOCK);
                        int mfd = mon_recv_fd(c);

                        if (mfd >= 0)
                                io->console_fd = mfd;
                        close(c);
                }
        }
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
                char *data = NULL;
                size_t len = 0;

                if (berth_read_file(logpath, 1 << 20, &data, &len, NULL) == 0)
                        (void)mon_rt_log_error(data, len, msg, msglen);
                free(data);
                if (timed_out)
                        (void)snprintf(msg, msglen, "%s %s did not finish within %d ms", rt->runtime,
                                       argv[0], rt->timeout_ms);
        }
        return status;
}
