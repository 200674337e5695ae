/* SPDX-License-Identifier: Apache-2.0
 * runtime/berth-runtime.c -- main of berth-runtime, an OCI runtime with the
 * runc command-line contract: global options, commands, error reporting
 * (stderr plus --log as text or json lines {"level","msg","time"}).
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "runtime/runtime-internal.h"

struct rt_opts rt_opts = { .root = BERTH_RUNTIME_ROOT };
static int log_fd = -1;
static bool log_json;

static void log_line(int level, const char *msg)
{
        static const char *const names[] = { "fatal", "error", "warning", "info", "debug" };
        struct timespec now;
        char ts[64];
        struct buf b = BUF_INIT;

        clock_gettime(CLOCK_REALTIME, &now);
        berth_time_rfc3339(now.tv_sec, now.tv_nsec, ts, sizeof(ts));
        if (log_json) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "level", names[level]);
                cJSON_AddStringToObject(o, "msg", msg);
                cJSON_AddStringToObject(o, "time", ts);
                berth_json_append(&b, o);
                cJSON_Delete(o);
        } else {
                buf_addf(&b, "time=\"%s\" level=%s msg=\"", ts, names[level]);
                for (const char *p = msg; *p; p++) {
                        if (*p == '"' || *p == '\\')
                                buf_addc(&b, '\\');
                        buf_addc(&b, *p == '\n' ? ' ' : *p);
                }
                buf_adds(&b, "\"\n");
        }
        (void)!write(log_fd, b.data, b.len);
        buf_release(&b);
}

void rt_log(int level, const char *fmt, ...)
{
        char msg[2048];
        va_list ap;

        if (level == BERTH_LOG_DEBUG && !rt_opts.debug)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (log_fd >= 0)
                log_line(level, msg);
        else if (level <= BERTH_LOG_WARN || rt_opts.debug)
                fprintf(stderr, "%s: %s\n", level <= BERTH_LOG_ERROR ? "error" : level == BERTH_LOG_WARN ? "warning" : "debug", msg);
}

static int fail(struct berth_err *err)
{
        if (log_fd >= 0)
                log_line(BERTH_LOG_ERROR, err->msg);
        fprintf(stderr, "%s\n", err->msg);
        return 1;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
        struct berth_err err = BERTH_ERR_INIT;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
        va_end(ap);
        return fail(&err);
}

/* ---- option parsing shared by the commands: long options, "--a=b" and "--a b" ---- */
struct opt {
        const char *name;       /* "bundle" or "bundle|b" */
        bool arg;
        const char **val;       /* for options with an argument */
        bool *flag;             /* for flags */
};

static bool opt_match(const char *spec, const char *name)
{
        size_t n = strlen(name);

        for (const char *s = spec; *s;) {
                size_t k = strcspn(s, "|");
                if (k == n && !strncmp(s, name, n))
                        return true;
                s += k;
                if (*s == '|')
                        s++;
        }
        return false;
}

/* Parse argv[1..]; non-options are collected into pos (NULL-terminated). "--" ends options. */
static int parse_opts(int argc, char **argv, struct opt *opts, char ***pos, int *npos)
{
        char **p = xcalloc((size_t)argc + 1, sizeof(char *));
        int n = 0;

        for (int i = 1; i < argc; i++) {
                char *a = argv[i], *eq, name[128];
                struct opt *o = NULL;

                if (!strcmp(a, "--")) {
                        for (i++; i < argc; i++)
                                p[n++] = argv[i];
                        break;
                }
                if (a[0] != '-' || !a[1]) {
                        p[n++] = a;
                        /* after the container id, everything is the command (exec) */
                        continue;
                }
                a += a[1] == '-' ? 2 : 1;
                eq = strchr(a, '=');
                snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
                for (struct opt *it = opts; it->name; it++)
                        if (opt_match(it->name, name))
                                o = it;
                if (!o) {
                        free(p);
                        return usage_error("flag provided but not defined: -%s", name);
                }
                if (o->arg) {
                        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
                        if (!v) {
                                free(p);
                                return usage_error("flag needs an argument: -%s", name);
                        }
                        *o->val = v;
                } else if (o->flag) {
                        *o->flag = !eq || berth_parse_bool(eq + 1);
                }
        }
        *pos = p;
        *npos = n;
        return 0;
}

static int need_id(char **pos, int npos, const char *cmd, const char **id)
{
        if (npos < 1)
                return usage_error("%s requires a container id", cmd);
        *id = pos[0];
        return 0;
}

/* Wait (bounded, 10 s) until the container's end of fd is closed by its execve. */
static void wait_closed(int fd, short events)
{
        for (int i = 0; i < 100; i++) {
                struct pollfd p = { fd, events, 0 };
                int r = poll(&p, 1, 100);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL)))
                        return;
                if (r > 0 && (p.revents & POLLIN)) {
                        char b[64];
                        if (recv(fd, b, sizeof(b), MSG_DONTWAIT) <= 0)
                                return;
                }
        }
}

/* ---- commands ---- */
static int cmd_create_run(int argc, char **argv, bool run)
{
        const char *bundle = ".", *pid_file = NULL, *console = NULL, *preserve = "0", *id = NULL;
        bool no_pivot = false, no_keyring = false, detach = false, keep = false, dummy = false;
        struct opt opts[] = {
                { "bundle|b", true, &bundle, NULL }, { "pid-file", true, &pid_file, NULL },
                { "console-socket", true, &console, NULL }, { "preserve-fds", true, &preserve, NULL },
                { "no-pivot", false, NULL, &no_pivot }, { "no-new-keyring", false, NULL, &no_keyring },
                { "detach|d", false, NULL, &detach }, { "keep", false, NULL, &keep },
                { "no-subreaper", false, NULL, &dummy }, { "pidfd-socket", true, &console, NULL },
                { NULL, false, NULL, NULL },
        };
        _cleanup_free_ char **pos = NULL, *abs_pid = NULL;
        struct berth_err err = BERTH_ERR_INIT;
        struct rt_create_opts o = { 0 };
        int npos, r, sync = -1;
        int64_t pf = 0;
        pid_t pid;

        if (parse_opts(argc, argv, opts, &pos, &npos))
                return 1;
        if (need_id(pos, npos, argv[0], &id))
                return 1;
        if (berth_parse_int64(preserve, &pf) < 0 || pf < 0 || pf > 65536)
                return usage_error("invalid --preserve-fds '%s'", preserve);
        if (pid_file && pid_file[0] != '/') {
                char cwd[4096];
                if (getcwd(cwd, sizeof(cwd)))
                        abs_pid = xasprintf("%s/%s", cwd, pid_file);
        }
        o.id = id;
        o.bundle = bundle;
        o.pid_file = abs_pid ? abs_pid : pid_file;
        o.console_socket = console;
        o.no_pivot = no_pivot;
        o.no_new_keyring = no_keyring;
        o.preserve_fds = (int)pf;
        o.run = run;
        o.detach = detach;
        o.console_fd = -1;
        int csp[2] = { -1, -1 };
        if (run && !detach && !console && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, csp) == 0)
                o.console_fd = csp[1];
        r = rt_container_create(&o, &pid, run ? &sync : NULL, &err);
        if (csp[1] >= 0)
                (void)close(csp[1]);
        if (r < 0) {
                if (csp[0] >= 0)
                        (void)close(csp[0]);
                return fail(&err);
        }
        if (!run)
                return 0;
        /* run: start now, run poststart hooks, then wait unless detached */
        {
                struct rt_state st;
                const cJSON *hooks;
                int status = 0;

                if (rt_state_load(id, &st, &err) < 0)
                        return fail(&err);
                r = rt_container_start_sync(sync, &err);
                if (r < 0) {
                        (void)close(sync);
                        rt_state_release(&st);
                        return fail(&err);
                }
                hooks = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(st.json, "config"), "hooks");
                if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(hooks, "poststart")) > 0)
                        wait_closed(sync, POLLIN | POLLHUP);
                (void)close(sync);
                if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(hooks, "poststart")) > 0) {
                        _cleanup_json_ cJSON *so = rt_state_oci(&st, "running");
                        _cleanup_free_ char *text = cJSON_PrintUnformatted(so);
                        if (rt_hooks_run(hooks, "poststart", text, &err) < 0)
                                rt_warn("%s", err.msg);
                }
                if (detach) {
                        rt_state_release(&st);
                        return 0;
                }
                if (csp[0] >= 0) {
                        const cJSON *proc = cJSON_GetObjectItemCaseSensitive(
                                cJSON_GetObjectItemCaseSensitive(st.json, "config"), "process");
                        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
                        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(proc, "terminal")) && pidfd >= 0)
                                (void)rt_console_proxy(csp[0], pidfd);
                        if (pidfd >= 0)
                                (void)close(pidfd);
                        (void)close(csp[0]);
                }
                {
                        static const int fwd[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
                        sigset_t set, old;
                        siginfo_t si;

                        sigemptyset(&set);
                        for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
                                sigaddset(&set, fwd[i]);
                        sigaddset(&set, SIGCHLD);
                        sigprocmask(SIG_BLOCK, &set, &old);
                        for (;;) {
                                pid_t w = waitpid(pid, &status, WNOHANG);
                                if (w == pid)
                                        break;
                                if (sigwaitinfo(&set, &si) < 0)
                                        continue;
                                if (si.si_signo != SIGCHLD)
                                        (void)kill(pid, si.si_signo);
                        }
                        sigprocmask(SIG_SETMASK, &old, NULL);
                }
                st.status = RT_STOPPED;
                if (!keep && rt_container_remove(id, &st, &err) < 0)
                        (void)fail(&err);
                rt_state_release(&st);
                return rt_wait_status(status);
        }
}

static int cmd_start(int argc, char **argv)
{
        struct opt opts[] = { { NULL, false, NULL, NULL } };
        _cleanup_free_ char **pos = NULL, *fifo = NULL;
        struct berth_err err = BERTH_ERR_INIT;
        struct rt_state st;
        const char *id = NULL;
        const cJSON *hooks;
        int npos, fd;

        if (parse_opts(argc, argv, opts, &pos, &npos) || need_id(pos, npos, "start", &id))
                return 1;
        if (rt_state_load(id, &st, &err) < 0)
                return fail(&err);
        switch (st.status) {
        case RT_CREATED:
                break;
        case RT_STOPPED:
                rt_state_release(&st);
                return usage_error("cannot start a container that has stopped");
        case RT_RUNNING:
                rt_state_release(&st);
                return usage_error("cannot start an already running container");
        default:
                berth_err_set(&err, EINVAL, "cannot start a container in the %s state", rt_status_name(st.status));
                rt_state_release(&st);
                return fail(&err);
        }
        fifo = xasprintf("%s/exec.fifo", st.dir);
        fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                berth_err_set(&err, errno, errno == ENXIO ? "container not running" : "open exec fifo: %s",
                              strerror(errno));
                rt_state_release(&st);
                return fail(&err);
        }
        if (write(fd, "0", 1) != 1) {
                berth_err_set(&err, errno, "start container: %s", strerror(errno));
                (void)close(fd);
                rt_state_release(&st);
                return fail(&err);
        }
        (void)unlink(fifo);
        hooks = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(st.json, "config"), "hooks");
        /* poststart runs once the process was executed: its execve closes the fifo */
        if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(hooks, "poststart")) > 0)
                wait_closed(fd, POLLERR | POLLHUP);
        (void)close(fd);
        if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(hooks, "poststart")) > 0) {
                _cleanup_json_ cJSON *so = NULL;
                _cleanup_free_ char *text = NULL;
                st.status = RT_RUNNING;
                so = rt_state_oci(&st, "running");
                text = cJSON_PrintUnformatted(so);
                if (rt_hooks_run(hooks, "poststart", text, &err) < 0)
                        rt_warn("%s", err.msg);
        }
        rt_state_release(&st);
        return 0;
}

static int cmd_state(int argc, char **argv)
{
        struct opt opts[] = { { NULL, false, NULL, NULL } };
        _cleanup_free_ char **pos = NULL, *text = NULL;
        struct berth_err err = BERTH_ERR_INIT;
        _cleanup_json_ cJSON *o = NULL;
        struct rt_state st;
        const char *id = NULL;
        int npos;

        if (parse_opts(argc, argv, opts, &pos, &npos) || need_id(pos, npos, "state", &id))
                return 1;
        if (rt_state_load(id, &st, &err) < 0)
                return fail(&err);
        o = rt_state_oci(&st, NULL);
        text = cJSON_Print(o);
        fputs(text, stdout);
        rt_state_release(&st);
        return 0;
}

static const struct {
        const char *name;
        int sig;
} signals[] = {
        { "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL }, { "TRAP", SIGTRAP },
        { "ABRT", SIGABRT }, { "IOT", SIGIOT }, { "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
        { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE },
        { "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },
        { "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
        { "TTOU", SIGTTOU }, { "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
        { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
        { "POLL", SIGPOLL }, { "PWR", SIGPWR }, { "SYS", SIGSYS },
};

static int parse_signal(const char *s)
{
        int64_t v;

        if (berth_parse_int64(s, &v) == 0)
                return v > 0 && v < 65 ? (int)v : -1;
        if (!strncasecmp(s, "SIG", 3))
                s += 3;
        for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
                if (!strcasecmp(signals[i].name, s))
                        return signals[i].sig;
        if (!strncasecmp(s, "RTMIN", 5) || !strncasecmp(s, "RTMAX", 5)) {
                int off = 0;
                if (s[5] && berth_parse_int64(s + 5, &v) == 0)
                        off = (int)v;
                return (toupper((unsigned char)s[3]) == 'I' ? SIGRTMIN : SIGRTMAX) + off;
        }
        return -1;
}

static int cmd_kill(int argc, char **argv)
{
        bool all = false;
        struct opt opts[] = { { "all|a", false, NULL, &all }, { NULL, false, NULL, NULL } };
        _cleanup_free_ char **pos = NULL;
        struct berth_err err = BERTH_ERR_INIT;
        struct rt_state st;
        const char *id = NULL;
        int npos, sig = SIGTERM;

        if (parse_opts(argc, argv, opts, &pos, &npos) || need_id(pos, npos, "kill", &id))
                return 1;
        if (npos > 1 && (sig = parse_signal(pos[1])) < 0)
                return usage_error("unknown signal \"%s\"", pos[1]);
        if (rt_state_load(id, &st, &err) < 0)
                return fail(&err);
        if (all) {
                const cJSON *paths = cJSON_GetObjectItemCaseSensitive(st.json, "cgroup_paths");
                pid_t *pids = NULL;
                size_t n = 0;
                if (rt_cgroup_pids(paths, &pids, &n, &err) < 0) {
                        rt_state_release(&st);
                        return fail(&err);
                }
                if (n == 0 && st.status == RT_STOPPED) {
                        free(pids);
                        rt_state_release(&st);
                        return usage_error("container not running");
                }
                for (size_t i = 0; i < n; i++)
                        (void)kill(pids[i], sig);
                free(pids);
                rt_state_release(&st);
                return 0;
        }
        if (st.status == RT_STOPPED) {
                rt_state_release(&st);
                return usage_error("container not running");
        }
        if (kill(st.pid, sig) < 0) {
                berth_err_set(&err, errno, errno == ESRCH ? "container not running" : "kill: %s", strerror(errno));
                rt_state_release(&st);
                return fail(&err);
        }
        rt_state_release(&st);
        return 0;
}

static int cmd_delete(int argc, char **argv)
{
        bool force = false;
        struct opt opts[] = { { "force|f", false, NULL, &force }, { NULL, false, NULL, NULL } };
        _cleanup_free_ char **pos = NULL;
        struct berth_err err = BERTH_ERR_INIT;
        struct rt_state st;
        const char *id = NULL;
        int npos, r;

        if (parse_opts(argc, argv, opts, &pos, &npos) || need_id(pos, npos, "delete", &id))
                return 1;
        r = rt_state_load(id, &st, &err);
        if (r == -ENOENT && force && rt_valid_id(id, NULL) == 0) {
                /* as runc: delete --force of a missing container succeeds; clean a stale dir */
                _cleanup_free_ char *dir = rt_state_dir(id);
                (void)rmdir(dir);
                rt_state_release(&st);
                return 0;
        }
        if (r < 0) {
                rt_state_release(&st);
                return fail(&err);
        }
        if ((st.status == RT_RUNNING || st.status == RT_PAUSED) && !force) {
                berth_err_set(&err, EBUSY, "cannot delete container %s that is not stopped: %s", id,
                              rt_status_name(st.status));
                rt_state_release(&st);
                return fail(&err);
        }
        r = rt_container_remove(id, &st, &err);
        rt_state_release(&st);
        return r < 0 ? fail(&err) : 0;
}

static int cmd_pause_resume(int argc, char **argv, bool pause)
{
        struct opt opts[] = { { NULL, false, NULL, NULL } };
        _cleanup_free_ char **pos = NULL;
        struct berth_err err = BERTH_ERR_INIT;
        struct rt_state st;
        const char *id = NULL;
        int npos, r;

        if (parse_opts(argc, argv, opts, &pos, &npos) || need_id(pos, npos, argv[0], &id))
                return 1;
        if (rt_state_load(id, &st, &err) < 0)
                return fail(&err);
        if (pause && st.status != RT_RUNNING && st.status != RT_CREATED) {
                rt_state_release(&st);
                return usage_error("container not running");
        }
        if (!pause && st.status != RT_PAUSED) {
                rt_state_release(&st);
                return usage_error("container not paused");
        }
        r = rt_cgroup_freeze(cJSON_GetObjectItemCaseSensitive(st.json, "cgroup_paths"), pause, &err);
        rt_state_release(&st);
        return r < 0 ? fail(&err) : 0;
}

static int cmd_list(int argc, char **argv)
{
        const char *format = "table";
        bool quiet = false;
        struct opt opts[] = { { "format|f", true, &format, NULL }, { "quiet|q", false, NULL, &quiet },
                              { NULL, false, NULL, NULL } };
        _cleanup_free_ char **pos = NULL;
        _cleanup_json_ cJSON *arr = cJSON_CreateArray();
        DIR *d;
        struct dirent *de;
        int npos;

        if (parse_opts(argc, argv, opts, &pos, &npos))
                return 1;
        d = opendir(rt_opts.root);
        if (!quiet && strcmp(format, "json"))
                printf("%-12s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
        while (d && (de = readdir(d))) {
                struct rt_state st;
                if (de->d_name[0] == '.' || rt_state_load(de->d_name, &st, NULL) < 0) {
                        if (de->d_name[0] != '.')
                                rt_state_release(&st);
                        continue;
                }
                if (quiet)
                        printf("%s\n", st.id);
                else if (!strcmp(format, "json"))
                        cJSON_AddItemToArray(arr, rt_state_oci(&st, NULL));
                else
                        printf("%-12s %-8d %-10s %-40s %-30s %s\n", st.id, st.status == RT_STOPPED ? 0 : (int)st.pid,
                               rt_status_name(st.status), st.bundle ? st.bundle : "",
                               berth_json_str(st.json, "created") ? berth_json_str(st.json, "created") : "", "root");
                rt_state_release(&st);
        }
        if (d)
                closedir(d);
        if (!quiet && !strcmp(format, "json")) {
                _cleanup_free_ char *t = cJSON_PrintUnformatted(arr);
                printf("%s\n", t);
        }
        return 0;
}

static int cmd_ps(int argc, char **argv)
{
        const char *format = "table";
        struct opt opts[] = { { "format|f", true, &format, NULL }, { NULL, false, NULL, NULL } };
        _cleanup_free_ char **pos = NULL;
        struct berth_err err = BERTH_ERR_INIT;
        struct rt_state st;
        pid_t *pids = NULL;
        size_t n = 0;
        const char *id = NULL;
        int npos;

        if (parse_opts(argc, argv, opts, &pos, &npos) || need_id(pos, npos, "ps", &id))
                return 1;
        if (rt_state_load(id, &st, &err) < 0)
                return fail(&err);
        if (rt_cgroup_pids(cJSON_GetObjectItemCaseSensitive(st.json, "cgroup_paths"), &pids, &n, &err) < 0) {
                rt_state_release(&st);
                return fail(&err);
        }
        rt_state_release(&st);
        if (!strcmp(format, "json")) {
                printf("[");
                for (size_t i = 0; i < n; i++)
                        printf("%s%d", i ? "," : "", (int)pids[i]);
                printf("]\n");
                free(pids);
                return 0;
        }
        /* table: ps(1) output filtered to our pids, as runc does */
        {
                struct buf cmd = BUF_INIT;
                char line[4096];
                FILE *f;
                int pidcol = -1;

                buf_adds(&cmd, "ps");
                if (npos > 1)
                        for (int i = 1; i < npos; i++)
                                buf_addf(&cmd, " '%s'", pos[i]);
                else
                        buf_adds(&cmd, " -ef");
                fflush(stdout);
                f = popen(buf_cstr(&cmd), "re");
                buf_release(&cmd);
                if (!f) {
                        free(pids);
                        return usage_error("ps: %s", strerror(errno));
                }
                for (int ln = 0; fgets(line, sizeof(line), f); ln++) {
                        if (ln == 0) {
                                char copy[4096], *tok, *save = NULL;
                                int col = 0;
                                snprintf(copy, sizeof(copy), "%s", line);
                                for (tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save), col++)
                                        if (!strcmp(tok, "PID"))
                                                pidcol = col;
                                fputs(line, stdout);
                                continue;
                        }
                        char copy[4096], *tok, *save = NULL;
                        int col = 0, pv = -1;
                        snprintf(copy, sizeof(copy), "%s", line);
                        for (tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save), col++)
                                if (col == pidcol) {
                                        pv = atoi(tok);
                                        break;
                                }
                        for (size_t i = 0; i < n; i++)
                                if (pids[i] == pv) {
                                        fputs(line, stdout);
                                        break;
                                }
                }
                (void)pclose(f);
        }
        free(pids);
        return 0;
}

static int cmd_update(int argc, char **argv)
{
        const char *res = NULL, *memory = NULL, *swap = NULL, *shares = NULL, *quota = NULL, *period = NULL,
                   *cpus = NULL, *mems = NULL, *pids = NULL, *reservation = NULL, *blkio = NULL, *kmem = NULL;
        struct opt opts[] = {
                { "resources|r", true, &res, NULL }, { "memory|m", true, &memory, NULL },
                { "memory-swap", true, &swap, NULL }, { "memory-reservation", true, &reservation, NULL },
                { "cpu-shares", true, &shares, NULL }, { "cpu-quota", true, &quota, NULL },
                { "cpu-period", true, &period, NULL }, { "cpuset-cpus", true, &cpus, NULL },
                { "cpuset-mems", true, &mems, NULL }, { "pids-limit", true, &pids, NULL },
                { "blkio-weight", true, &blkio, NULL }, { "kernel-memory", true, &kmem, NULL },
                { NULL, false, NULL, NULL },
        };
        _cleanup_free_ char **pos = NULL, *text = NULL;
        _cleanup_json_ cJSON *r = NULL;
        struct berth_err err = BERTH_ERR_INIT;
        struct rt_state st;
        const char *id = NULL;
        int npos, ret;
        size_t len;

        if (parse_opts(argc, argv, opts, &pos, &npos) || need_id(pos, npos, "update", &id))
                return 1;
        if (rt_state_load(id, &st, &err) < 0)
                return fail(&err);
        if (res) {
                ret = berth_read_file(!strcmp(res, "-") ? "/dev/stdin" : res, 1 << 20, &text, &len, &err);
                if (ret < 0 || berth_json_parse(text, len, &r, &err) < 0) {
                        rt_state_release(&st);
                        return fail(&err);
                }
        } else {
                cJSON *o;
                int64_t v;
                r = cJSON_CreateObject();
#define ADDNUM(obj, key, s) \
        do { \
                if ((s) && berth_parse_int64((s), &v) == 0) \
                        cJSON_AddNumberToObject((obj), (key), (double)v); \
        } while (0)
                o = cJSON_AddObjectToObject(r, "memory");
                ADDNUM(o, "limit", memory);
                ADDNUM(o, "swap", swap);
                ADDNUM(o, "reservation", reservation);
                o = cJSON_AddObjectToObject(r, "cpu");
                ADDNUM(o, "shares", shares);
                ADDNUM(o, "quota", quota);
                ADDNUM(o, "period", period);
                if (cpus)
                        cJSON_AddStringToObject(o, "cpus", cpus);
                if (mems)
                        cJSON_AddStringToObject(o, "mems", mems);
                o = cJSON_AddObjectToObject(r, "pids");
                ADDNUM(o, "limit", pids);
                if (blkio) {
                        o = cJSON_AddObjectToObject(r, "blockIO");
                        ADDNUM(o, "weight", blkio);
                }
#undef ADDNUM
        }
        ret = rt_cgroup_apply(cJSON_GetObjectItemCaseSensitive(st.json, "cgroup_paths"), r, &err);
        rt_state_release(&st);
        return ret < 0 ? fail(&err) : 0;
}

static int cmd_exec(int argc, char **argv)
{
        static const char *const with_arg[] = { "process", "p", "console-socket", "pid-file", "cwd", "user", "u",
                                                "preserve-fds", "process-label", "apparmor", "cgroup", "env", "e",
                                                "cap", "c", "additional-gids", "g" };
        const char *process = NULL, *console = NULL, *pid_file = NULL, *cwd = NULL, *user = NULL, *preserve = "0";
        bool tty = false, detach = false, nnp = false;
        _cleanup_free_ char **env = xcalloc((size_t)argc + 1, sizeof(char *));
        _cleanup_free_ char **caps = xcalloc((size_t)argc + 1, sizeof(char *));
        size_t nenv = 0, ncaps = 0;
        struct berth_err err = BERTH_ERR_INIT;
        struct rt_exec_opts o = { 0 };
        int status = 0, i;
        int64_t pf = 0;

        /* runc exec [options] <id> <command> [args...]: options end at the id */
        for (i = 1; i < argc; i++) {
                char *a = argv[i], name[64];
                const char *val = NULL, *eq;
                bool takes = false;

                if (!strcmp(a, "--")) {
                        i++;
                        break;
                }
                if (a[0] != '-' || !a[1])
                        break;
                a += a[1] == '-' ? 2 : 1;
                eq = strchr(a, '=');
                snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
                for (size_t k = 0; k < ARRAY_SIZE(with_arg); k++)
                        if (!strcmp(with_arg[k], name))
                                takes = true;
                if (takes) {
                        val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
                        if (!val)
                                return usage_error("flag needs an argument: -%s", name);
                }
                if (!strcmp(name, "process") || !strcmp(name, "p"))
                        process = val;
                else if (!strcmp(name, "console-socket"))
                        console = val;
                else if (!strcmp(name, "pid-file"))
                        pid_file = val;
                else if (!strcmp(name, "cwd"))
                        cwd = val;
                else if (!strcmp(name, "user") || !strcmp(name, "u"))
                        user = val;
                else if (!strcmp(name, "preserve-fds"))
                        preserve = val;
                else if (!strcmp(name, "env") || !strcmp(name, "e"))
                        env[nenv++] = (char *)val;
                else if (!strcmp(name, "cap") || !strcmp(name, "c"))
                        caps[ncaps++] = (char *)val;
                else if (!strcmp(name, "tty") || !strcmp(name, "t"))
                        tty = !eq || berth_parse_bool(eq + 1);
                else if (!strcmp(name, "detach") || !strcmp(name, "d"))
                        detach = !eq || berth_parse_bool(eq + 1);
                else if (!strcmp(name, "no-new-privs"))
                        nnp = !eq || berth_parse_bool(eq + 1);
                else if (!takes && strcmp(name, "ignore-paused"))
                        return usage_error("flag provided but not defined: -%s", name);
        }
        if (i >= argc)
                return usage_error("exec requires a container id");
        o.id = argv[i++];
        if (i < argc && !strcmp(argv[i], "--"))
                i++;
        if (berth_parse_int64(preserve, &pf) < 0 || pf < 0)
                return usage_error("invalid --preserve-fds '%s'", preserve);
        if (!process && i >= argc)
                return usage_error("exec requires a command or --process");
        o.process = process;
        o.argv = argv + i;
        o.tty = tty;
        o.console_socket = console;
        o.pid_file = pid_file;
        o.detach = detach;
        o.cwd = cwd;
        o.env = env;
        o.user = user;
        o.nnp_set = nnp;
        o.preserve_fds = (int)pf;
        o.caps = caps;
        if (rt_container_exec(&o, &status, &err) < 0)
                return fail(&err);
        return detach ? 0 : status;
}

static int cmd_spec(int argc, char **argv)
{
        static const char spec[] =
                "{\n"
                "\t\"ociVersion\": \"" RT_OCI_VERSION "\",\n"
                "\t\"process\": {\n"
                "\t\t\"terminal\": true,\n"
                "\t\t\"user\": {\n\t\t\t\"uid\": 0,\n\t\t\t\"gid\": 0\n\t\t},\n"
                "\t\t\"args\": [\n\t\t\t\"sh\"\n\t\t],\n"
                "\t\t\"env\": [\n\t\t\t\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n\t\t\t\"TERM=xterm\"\n\t\t],\n"
                "\t\t\"cwd\": \"/\",\n"
                "\t\t\"capabilities\": {\n"
                "\t\t\t\"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
                "\t\t\t\"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
                "\t\t\t\"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
                "\t\t\t\"ambient\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]\n"
                "\t\t},\n"
                "\t\t\"rlimits\": [\n\t\t\t{\n\t\t\t\t\"type\": \"RLIMIT_NOFILE\",\n\t\t\t\t\"hard\": 1024,\n\t\t\t\t\"soft\": 1024\n\t\t\t}\n\t\t],\n"
                "\t\t\"noNewPrivileges\": true\n"
                "\t},\n"
                "\t\"root\": {\n\t\t\"path\": \"rootfs\",\n\t\t\"readonly\": true\n\t},\n"
                "\t\"hostname\": \"berth\",\n"
                "\t\"mounts\": [\n"
                "\t\t{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
                "\t\t{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n"
                "\t\t{\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\", \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\", \"gid=5\"]},\n"
                "\t\t{\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},\n"
                "\t\t{\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\", \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},\n"
                "\t\t{\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},\n"
                "\t\t{\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]}\n"
                "\t],\n"
                "\t\"linux\": {\n"
                "\t\t\"resources\": {\n\t\t\t\"devices\": [\n\t\t\t\t{\n\t\t\t\t\t\"allow\": false,\n\t\t\t\t\t\"access\": \"rwm\"\n\t\t\t\t}\n\t\t\t]\n\t\t},\n"
                "\t\t\"namespaces\": [\n"
                "\t\t\t{\"type\": \"pid\"},\n\t\t\t{\"type\": \"network\"},\n\t\t\t{\"type\": \"ipc\"},\n"
                "\t\t\t{\"type\": \"uts\"},\n\t\t\t{\"type\": \"mount\"},\n\t\t\t{\"type\": \"cgroup\"}\n"
                "\t\t],\n"
                "\t\t\"maskedPaths\": [\n"
                "\t\t\t\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\", \"/proc/latency_stats\",\n"
                "\t\t\t\"/proc/timer_list\", \"/proc/timer_stats\", \"/proc/sched_debug\", \"/sys/firmware\",\n"
                "\t\t\t\"/proc/scsi\"\n"
                "\t\t],\n"
                "\t\t\"readonlyPaths\": [\n"
                "\t\t\t\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", \"/proc/sysrq-trigger\"\n"
                "\t\t]\n"
                "\t}\n"
                "}\n";
        const char *bundle = ".";
        bool rootless = false;
        struct opt opts[] = { { "bundle|b", true, &bundle, NULL }, { "rootless", false, NULL, &rootless },
                              { NULL, false, NULL, NULL } };
        _cleanup_free_ char **pos = NULL, *path = NULL;
        struct berth_err err = BERTH_ERR_INIT;
        int npos;

        if (parse_opts(argc, argv, opts, &pos, &npos))
                return 1;
        path = xasprintf("%s/config.json", bundle);
        if (access(path, F_OK) == 0)
                return usage_error("File %s exists. Remove it first", path);
        if (rt_write_file(path, spec, strlen(spec), 0666, &err) < 0)
                return fail(&err);
        return 0;
}

static cJSON *strs(const char *const *v, size_t n)
{
        cJSON *a = cJSON_CreateArray();

        for (size_t i = 0; i < n; i++)
                cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
        return a;
}

static int cmd_features(void)
{
        static const char *const hooks[] = { "prestart", "createRuntime", "createContainer", "startContainer",
                                             "poststart", "poststop" };
        static const char *const mopts[] = {
                "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "lazytime", "loud",
                "mand", "noatime", "nodev", "nodiratime", "noexec", "nolazytime", "nomand", "norelatime",
                "nostrictatime", "nosuid", "private", "rbind", "relatime", "remount", "ro", "rprivate", "rshared",
                "rslave", "runbindable", "rw", "shared", "silent", "slave", "strictatime", "suid", "sync",
                "unbindable",
        };
        static const char *const nss[] = { "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts" };
        cJSON *o = cJSON_CreateObject(), *lx, *cg, *caps;
        char *t;

        cJSON_AddStringToObject(o, "ociVersionMin", "1.0.0");
        cJSON_AddStringToObject(o, "ociVersionMax", RT_OCI_VERSION);
        cJSON_AddItemToObject(o, "hooks", strs(hooks, ARRAY_SIZE(hooks)));
        cJSON_AddItemToObject(o, "mountOptions", strs(mopts, ARRAY_SIZE(mopts)));
        lx = cJSON_AddObjectToObject(o, "linux");
        cJSON_AddItemToObject(lx, "namespaces", strs(nss, ARRAY_SIZE(nss)));
        caps = cJSON_AddArrayToObject(lx, "capabilities");
        for (int c = 0; c <= rt_cap_last(); c++)
                cJSON_AddItemToArray(caps, cJSON_CreateString(rt_cap_name(c)));
        cg = cJSON_AddObjectToObject(lx, "cgroup");
        cJSON_AddBoolToObject(cg, "v1", true);
        cJSON_AddBoolToObject(cg, "v2", true);
        cJSON_AddBoolToObject(cg, "systemd", false);
        cJSON_AddBoolToObject(cg, "systemdUser", false);
        cJSON_AddBoolToObject(cg, "rdma", false);
        cJSON_AddItemToObject(lx, "seccomp", rt_seccomp_features());
        cJSON_AddBoolToObject(cJSON_AddObjectToObject(lx, "apparmor"), "enabled", false);
        cJSON_AddBoolToObject(cJSON_AddObjectToObject(lx, "selinux"), "enabled", false);
        cJSON_AddBoolToObject(cJSON_AddObjectToObject(lx, "intelRdt"), "enabled", false);
        cJSON_AddItemToObject(o, "annotations", cJSON_CreateObject());
        t = cJSON_Print(o);
        puts(t);
        free(t);
        cJSON_Delete(o);
        return 0;
}

static void print_usage(FILE *f)
{
        fputs("usage: " BERTH_RUNTIME_NAME " [--root DIR] [--log FILE] [--log-format text|json] [--debug] COMMAND\n"
              "commands: create start run state kill delete exec pause resume ps list update spec features\n",
              f);
}

int main(int argc, char **argv)
{
        static const struct option gopts[] = {
                { "root", required_argument, NULL, 'r' }, { "log", required_argument, NULL, 'l' },
                { "log-format", required_argument, NULL, 'f' }, { "debug", no_argument, NULL, 'd' },
                { "systemd-cgroup", no_argument, NULL, 's' }, { "rootless", required_argument, NULL, 'R' },
                { "criu", required_argument, NULL, 'c' }, { "version", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
        };
        const char *log_path = NULL;
        char *cmd;
        int c;

        char **full_argv = argv;

        berth_json_init();
        /* stop at the first non-option: that is the command */
        while ((c = getopt_long(argc, argv, "+hv", gopts, NULL)) != -1) {
                switch (c) {
                case 'r': rt_opts.root = optarg; break;
                case 'l': log_path = optarg; break;
                case 'f':
                        if (strcmp(optarg, "json") && strcmp(optarg, "text"))
                                return usage_error("invalid log format '%s'", optarg);
                        log_json = !strcmp(optarg, "json");
                        break;
                case 'd': rt_opts.debug = true; break;
                case 's': rt_opts.systemd_cgroup = true; break;
                case 'R': case 'c': break;
                case 'v':
                        printf("runc version 1.1.12-berth\n" BERTH_RUNTIME_NAME " version " PACKAGE_VERSION
                               "\nspec: " RT_OCI_VERSION "\n");
                        return 0;
                case 'h': print_usage(stdout); return 0;
                default: print_usage(stderr); return 1;
                }
        }
        if (log_path) {
                log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (log_fd < 0)
                        return usage_error("open log %s: %s", log_path, strerror(errno));
        }
        if (optind >= argc) {
                print_usage(stderr);
                return 1;
        }
        cmd = argv[optind];
        if (!strcmp(cmd, "create") || !strcmp(cmd, "run") || !strcmp(cmd, "exec")) {
                struct berth_err err = BERTH_ERR_INIT;
                if (rt_ensure_cloned(full_argv, &err) < 0)
                        return fail(&err);
        }
        argc -= optind;
        argv += optind;
        if (!strcmp(cmd, "create"))
                return cmd_create_run(argc, argv, false);
        if (!strcmp(cmd, "run"))
                return cmd_create_run(argc, argv, true);
        if (!strcmp(cmd, "start"))
                return cmd_start(argc, argv);
        if (!strcmp(cmd, "state"))
                return cmd_state(argc, argv);
        if (!strcmp(cmd, "kill"))
                return cmd_kill(argc, argv);
        if (!strcmp(cmd, "delete"))
                return cmd_delete(argc, argv);
        if (!strcmp(cmd, "exec"))
                return cmd_exec(argc, argv);
        if (!strcmp(cmd, "pause"))
                return cmd_pause_resume(argc, argv, true);
        if (!strcmp(cmd, "resume"))
                return cmd_pause_resume(argc, argv, false);
        if (!strcmp(cmd, "ps"))
                return cmd_ps(argc, argv);
        if (!strcmp(cmd, "list"))
                return cmd_list(argc, argv);
        if (!strcmp(cmd, "update"))
                return cmd_update(argc, argv);
        if (!strcmp(cmd, "spec"))
                return cmd_spec(argc, argv);
        if (!strcmp(cmd, "features"))
                return cmd_features();
        if (!strcmp(cmd, "version"))
                return printf(BERTH_RUNTIME_NAME " version " PACKAGE_VERSION "\n") < 0;
        if (!strcmp(cmd, "checkpoint") || !strcmp(cmd, "restore") || !strcmp(cmd, "events"))
                return usage_error("%s is not supported by " BERTH_RUNTIME_NAME, cmd);
        return usage_error("unknown command '%s'", cmd);
}
