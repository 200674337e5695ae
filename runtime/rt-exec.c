/* SPDX-License-Identifier: Apache-2.0
 * runtime/rt-exec.c -- `exec`: a new process in a running container.  An
 * intermediate child joins the cgroup and the namespaces of the container's
 * init, then clones the process as our sibling (CLONE_PARENT) so that we can
 * wait for it; it never executes the runtime binary inside the container.
 */
#include "config.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "runtime/runtime-internal.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

struct exec_ctx {
        struct rt_process *p;
        const struct rt_seccomp *sc;
        const cJSON *cg_paths;
        int nsfd[RT_MAX_NS];
        int nstype[RT_MAX_NS];
        size_t nns;
        int sync;
        int console;
        int preserve_fds;
        bool userns;
};

__attribute__((noreturn)) static void xfail(int sync, struct berth_err *err)
{
        char b[BERTH_ERR_MSG_MAX + 1];
        size_t n = strlen(err->msg);

        b[0] = 'E';
        memcpy(b + 1, err->msg, n);
        (void)send(sync, b, n + 1, MSG_NOSIGNAL);
        _exit(1);
}

/* Load the filter; a listener fd goes to the runtime ('N' with SCM_RIGHTS). */
static void exec_seccomp(struct exec_ctx *x)
{
        struct berth_err err = BERTH_ERR_INIT;
        int lfd, r;

        r = rt_seccomp_load(x->sc, &lfd);
        if (r < 0) {
                berth_err_set(&err, -r, "load seccomp filter: %s", strerror(-r));
                xfail(x->sync, &err);
        }
        if (lfd >= 0) {
                r = rt_send_fd(x->sync, lfd, "N", 1);
                (void)close(lfd);
                if (r < 0)
                        _exit(1);
        }
}

__attribute__((noreturn)) static void exec_child(struct exec_ctx *x)
{
        struct rt_process *p = x->p;
        struct berth_err err = BERTH_ERR_INIT;
        _cleanup_free_ char *exe = NULL;
        bool late;

        (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        if (p->terminal && x->console >= 0) {
                if (setsid() < 0) {
                        berth_err_set(&err, errno, "setsid: %s", strerror(errno));
                        xfail(x->sync, &err);
                }
                if (rt_console_setup(x->console, p, false, &err) < 0)
                        xfail(x->sync, &err);
                (void)close(x->console);
        }
        if (chdir(p->cwd) < 0 && (p->uid == 0 || errno != EACCES)) {
                berth_err_set(&err, errno, "chdir to cwd (\"%s\"): %s", p->cwd, strerror(errno));
                xfail(x->sync, &err);
        }
        if (rt_proc_rlimits(p, &err) < 0 || rt_proc_oom(p, &err) < 0)
                xfail(x->sync, &err);
        if (rt_proc_lookup(p, &exe, &err) < 0)
                xfail(x->sync, &err);
        if (p->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                berth_err_set(&err, errno, "no_new_privs: %s", strerror(errno));
                xfail(x->sync, &err);
        }
        late = p->nnp || (p->has_caps ? (p->cap_eff >> 21) & 1 : p->uid == 0);
        if (!late && x->sc->prog)
                exec_seccomp(x);
        if (rt_proc_drop_bounding(p, &err) < 0 || rt_proc_identity(p, x->userns, &err) < 0 ||
            rt_proc_caps(p, &err) < 0)
                xfail(x->sync, &err);
        if (chdir(p->cwd) < 0 && p->uid != 0) {
                berth_err_set(&err, errno, "chdir to cwd (\"%s\"): %s", p->cwd, strerror(errno));
                xfail(x->sync, &err);
        }
        if (p->umask >= 0)
                umask((mode_t)p->umask);
        if (late && x->sc->prog)
                exec_seccomp(x);
        (void)send(x->sync, "R", 1, MSG_NOSIGNAL);
        (void)syscall(SYS_close_range, 3 + x->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
        execve(exe, p->args, p->env);
        fprintf(stderr, "exec %s: %s\n", exe, strerror(errno));
        _exit(127);
}

__attribute__((noreturn)) static void exec_intermediate(struct exec_ctx *x)
{
        struct berth_err err = BERTH_ERR_INIT;
        pid_t pid;
        int32_t v;

        if (rt_cgroup_enter_self(x->cg_paths, &err) < 0)
                xfail(x->sync, &err);
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < x->nns; i++) {
                        if ((pass == 0) != (x->nstype[i] == CLONE_NEWUSER))
                                continue;
                        if (setns(x->nsfd[i], x->nstype[i]) < 0) {
                                berth_err_set(&err, errno, "join %s namespace: %s", rt_ns_proc_name(x->nstype[i]),
                                              strerror(errno));
                                xfail(x->sync, &err);
                        }
                }
        if (x->userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
                berth_err_set(&err, errno, "become root in the user namespace: %s", strerror(errno));
                xfail(x->sync, &err);
        }
        pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
        if (pid < 0) {
                berth_err_set(&err, errno, "clone: %s", strerror(errno));
                xfail(x->sync, &err);
        }
        if (pid == 0)
                exec_child(x);
        char b[1 + sizeof(v)];
        v = pid;
        b[0] = 'P';
        memcpy(b + 1, &v, sizeof(v));
        (void)send(x->sync, b, sizeof(b), MSG_NOSIGNAL);
        _exit(0);
}

static bool same_ns(pid_t pid, const char *name)
{
        char a[64];
        struct stat s1, s2;

        snprintf(a, sizeof(a), "/proc/%d/ns/%s", (int)pid, name);
        if (stat(a, &s1) < 0)
                return false;
        snprintf(a, sizeof(a), "/proc/self/ns/%s", name);
        if (stat(a, &s2) < 0)
                return false;
        return s1.st_ino == s2.st_ino && s1.st_dev == s2.st_dev;
}

static int parse_user(const char *u, struct rt_process *p, struct berth_err *err)
{
        int64_t uid, gid;
        _cleanup_free_ char *copy = xstrdup(u);
        char *colon = strchr(copy, ':');

        if (colon)
                *colon++ = '\0';
        if (berth_parse_int64(copy, &uid) < 0 || uid < 0 || (colon && (berth_parse_int64(colon, &gid) < 0 || gid < 0)))
                return berth_err_set(err, EINVAL, "invalid --user '%s' (uid[:gid] expected)", u);
        p->uid = (uid_t)uid;
        if (colon)
                p->gid = (gid_t)gid;
        return 0;
}

static char **strv_concat(char **a, char **b)
{
        size_t na = 0, nb = 0;
        char **v;

        while (a && a[na])
                na++;
        while (b && b[nb])
                nb++;
        v = xcalloc(na + nb + 1, sizeof(char *));
        for (size_t i = 0; i < na; i++)
                v[i] = a[i];
        for (size_t i = 0; i < nb; i++)
                v[na + i] = xstrdup(b[i]);
        free(a);
        return v;
}

int rt_container_exec(const struct rt_exec_opts *o, int *ret_status, struct berth_err *err)
{
        struct rt_state st;
        struct rt_process proc;
        struct rt_seccomp sc = { 0 };
        struct exec_ctx x = { 0 };
        const cJSON *config, *nss, *it;
        int sp[2] = { -1, -1 }, lfd = -1, r, status = 0;
        pid_t mid = -1, pid = -1;
        char msg[BERTH_ERR_MSG_MAX + 8];
        bool ready = false;
        ssize_t n;

        memset(&proc, 0, sizeof(proc));
        r = rt_state_load(o->id, &st, err);
        if (r < 0) {
                rt_state_release(&st);
                return r;
        }
        if (st.status == RT_STOPPED) {
                r = berth_err_set(err, ESRCH, "cannot exec in a stopped container: container not running");
                goto out;
        }
        if (st.status == RT_PAUSED) {
                r = berth_err_set(err, EBUSY, "cannot exec in a paused container (use --ignore-paused to override)");
                goto out;
        }
        config = cJSON_GetObjectItemCaseSensitive(st.json, "config");
        if (o->process) {
                _cleanup_free_ char *text = NULL;
                _cleanup_json_ cJSON *pj = NULL;
                size_t len;
                r = berth_read_file(o->process, 1 << 20, &text, &len, err);
                if (r < 0 || (r = berth_json_parse(text, len, &pj, err)) < 0 ||
                    (r = rt_process_parse(pj, &proc, err)) < 0) {
                        berth_err_wrap(err, "process %s", o->process);
                        goto out;
                }
        } else {
                cJSON *pj = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(config, "process"), true);
                cJSON *args = cJSON_CreateArray();
                if (!pj)
                        pj = cJSON_CreateObject();
                for (char **a = o->argv; a && *a; a++)
                        cJSON_AddItemToArray(args, cJSON_CreateString(*a));
                cJSON_ReplaceItemInObjectCaseSensitive(pj, "args", args);
                cJSON_DeleteItemFromObjectCaseSensitive(pj, "terminal");
                cJSON_AddBoolToObject(pj, "terminal", o->tty);
                r = rt_process_parse(pj, &proc, err);
                cJSON_Delete(pj);
                if (r < 0)
                        goto out;
        }
        if (o->env && o->env[0])
                proc.env = strv_concat(proc.env, o->env);
        if (o->cwd) {
                free(proc.cwd);
                proc.cwd = xstrdup(o->cwd);
        }
        if (o->user && (r = parse_user(o->user, &proc, err)) < 0)
                goto out;
        if (o->nnp_set)
                proc.nnp = true;
        for (char **c = o->caps; c && *c; c++) {
                int cap = rt_cap_from_name(*c);
                if (cap < 0) {
                        r = berth_err_set(err, EINVAL, "unknown capability '%s'", *c);
                        goto out;
                }
                proc.has_caps = true;
                proc.cap_bnd |= 1ULL << cap;
                proc.cap_eff |= 1ULL << cap;
                proc.cap_prm |= 1ULL << cap;
                proc.cap_inh |= 1ULL << cap;
                proc.cap_amb |= 1ULL << cap;
        }
        if (proc.terminal && !o->console_socket) {
                r = berth_err_set(err, EINVAL, "cannot allocate tty if runc will detach without setting console socket");
                goto out;
        }
        r = rt_seccomp_compile_cached(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(config, "linux"), "seccomp"),
                                      rt_opts.root, &sc, err);
        if (r < 0)
                goto out;
        x.p = &proc;
        x.sc = &sc;
        x.cg_paths = cJSON_GetObjectItemCaseSensitive(st.json, "cgroup_paths");
        x.console = -1;
        x.preserve_fds = o->preserve_fds;
        for (size_t i = 0; i < RT_MAX_NS; i++)
                x.nsfd[i] = -1;
        nss = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(config, "linux"), "namespaces");
        /* join every namespace kind the container has, in the order user, others, mount last */
        static const char *const order[] = { "user", "ipc", "uts", "network", "pid", "cgroup", "time", "mount" };
        for (size_t k = 0; k < ARRAY_SIZE(order); k++)
                cJSON_ArrayForEach(it, nss) {
                        const char *type = berth_json_str(it, "type");
                        int t;
                        char path[64];
                        if (!type || strcmp(type, order[k]) || (t = rt_ns_type(type)) < 0 || x.nns >= RT_MAX_NS)
                                continue;
                        if (same_ns(st.pid, rt_ns_proc_name(t)))
                                continue;
                        snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)st.pid, rt_ns_proc_name(t));
                        x.nsfd[x.nns] = open(path, O_RDONLY | O_CLOEXEC);
                        if (x.nsfd[x.nns] < 0) {
                                r = berth_err_set(err, errno, "open %s: %s", path, strerror(errno));
                                goto out;
                        }
                        x.nstype[x.nns++] = t;
                        if (t == CLONE_NEWUSER)
                                x.userns = true;
                }
        if (o->console_socket) {
                x.console = rt_console_connect(o->console_socket, err);
                if (x.console < 0) {
                        r = x.console;
                        goto out;
                }
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
                r = berth_err_set(err, errno, "socketpair: %s", strerror(errno));
                goto out;
        }
        x.sync = sp[1];
        fflush(NULL);
        mid = fork();
        if (mid < 0) {
                r = berth_err_set(err, errno, "fork: %s", strerror(errno));
                goto out;
        }
        if (mid == 0) {
                (void)close(sp[0]);
                exec_intermediate(&x);
        }
        closep(&sp[1]);
        sp[1] = -1;
        for (;;) {
                int fd = -1;

                n = rt_recv_msg(sp[0], msg, sizeof(msg), &fd);
                if (n <= 0) {
                        closep(&fd);
                        r = berth_err_set(err, EIO, "exec: the process exited before it started");
                        goto out;
                }
                if (msg[0] == 'N' && fd >= 0 && lfd < 0) {
                        lfd = fd;
                        continue;
                }
                closep(&fd);
                if (msg[0] == 'E') {
                        r = berth_err_set(err, EIO, "exec failed: %s", msg + 1);
                        goto out;
                }
                if (msg[0] == 'P' && n == 1 + (ssize_t)sizeof(int32_t)) {
                        int32_t v;
                        memcpy(&v, msg + 1, sizeof(v));
                        pid = v;
                        (void)waitpid(mid, NULL, 0);
                        mid = -1;
                        if (ready)
                                break;
                        continue;
                }
                if (msg[0] == 'R') {
                        ready = true;
                        if (pid > 0)
                                break;
                        continue;
                }
                if (ready && pid > 0)
                        break;
        }
        closep(&sp[0]);
        sp[0] = -1;
        if (lfd >= 0) {
                cJSON *s = rt_state_oci(&st, "running");
                r = rt_notify_forward(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(config, "linux"),
                                                                      "seccomp"),
                                      lfd, pid, s, err);
                cJSON_Delete(s);
                if (r < 0)
                        goto out;
        }
        if (o->pid_file) {
                r = rt_write_pid_file(o->pid_file, pid, err);
                if (r < 0)
                        goto out;
        }
        if (o->detach) {
                r = 0;
                goto out;
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
                        if (waitpid(pid, &status, WNOHANG) == pid)
                                break;
                        if (sigwaitinfo(&set, &si) < 0)
                                continue;
                        if (si.si_signo != SIGCHLD)
                                (void)kill(pid, si.si_signo);
                }
                sigprocmask(SIG_SETMASK, &old, NULL);
                pid = -1;
        }
        *ret_status = rt_wait_status(status);
        r = 0;
out:
        if (r < 0 && mid > 0) {
                (void)kill(mid, SIGKILL);
                (void)waitpid(mid, NULL, 0);
        }
        if (r < 0 && pid > 0) {
                (void)kill(pid, SIGKILL);
                (void)waitpid(pid, NULL, 0);
        }
        closep(&sp[0]);
        closep(&sp[1]);
        closep(&lfd);
        closep(&x.console);
        for (size_t i = 0; i < x.nns; i++)
                closep(&x.nsfd[i]);
        rt_seccomp_release(&sc);
        rt_process_release(&proc);
        rt_state_release(&st);
        return r;
}
