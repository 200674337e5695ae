/* SPDX-License-Identifier: Apache-2.0
 * runtime/rt-container.c -- create (clone into the namespaces, set the
 * container up, park it before execve until `start`), exec and remove.
 *
 * No re-exec: the container's init is a raw clone() of this process; it never
 * executes the runtime binary again, so nothing inside the container can reach
 * the host's berth-runtime through /proc/<pid>/exe after execve (CVE-2019-5736).
 * The runtime and init talk over a SOCK_SEQPACKET pair:
 *   runtime -> init  'G'<state json>  go (maps written, cgroup joined)
 *                    'H'              prestart/createRuntime hooks done
 *                    'S'              start (run only; create uses exec.fifo)
 *                    'm'              uid/gid maps written (intermediate child)
 *   init -> runtime  'H' run hooks, 'R' ready (parked), 'E'<msg> failed,
 *                    'N' + SCM_RIGHTS  seccomp listener fd for listenerPath,
 *                    'M' write maps, 'P'<pid> pid of init (intermediate child)
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "runtime/runtime-internal.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define MSG_MAX (256 * 1024)

struct init_ctx {
        const struct rt_config *c;
        const struct rt_create_opts *o;
        int sync;
        int fifo;
        int console;
        const struct rt_seccomp *sc;
        const cJSON *cg_paths;
        bool cg_self; /* init moves itself into its cgroups (see rt_cgroup_enter_self) */
};

int rt_wait_status(int status)
{
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return 255;
}

static int send_msg(int fd, char type, const void *data, size_t len)
{
        _cleanup_free_ char *b = xmalloc(len + 1);
        ssize_t n;

        b[0] = type;
        if (len)
                memcpy(b + 1, data, len);
        do
                n = send(fd, b, len + 1, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        return n < 0 ? -errno : 0;
}

/* Receive one message into buf (NUL-terminated); returns its length or -errno, 0 on EOF. */
static ssize_t recv_msg(int fd, char *buf, size_t cap)
{
        return rt_recv_msg(fd, buf, cap, NULL);
}

__attribute__((noreturn)) static void child_fail(int sync, struct berth_err *err)
{
        (void)send_msg(sync, 'E', err->msg, strlen(err->msg));
        _exit(1);
}

static int write_sysctls(const cJSON *sysctl, struct berth_err *err)
{
        const cJSON *it;

        cJSON_ArrayForEach(it, sysctl) {
                _cleanup_free_ char *path = xasprintf("/proc/sys/%s", it->string);
                int fd;
                size_t n;

                for (char *p = path + STRLEN("/proc/sys/"); *p; p++)
                        if (*p == '.')
                                *p = '/';
                if (strstr(path, ".."))
                        return berth_err_set(err, EINVAL, "invalid sysctl '%s'", it->string);
                fd = open(path, O_WRONLY | O_CLOEXEC);
                if (fd < 0)
                        return berth_err_set(err, errno, "sysctl %s: %s", it->string, strerror(errno));
                n = strlen(it->valuestring);
                if (write(fd, it->valuestring, n) != (ssize_t)n) {
                        int e = errno;
                        (void)close(fd);
                        return berth_err_set(err, e, "sysctl %s=%s: %s", it->string, it->valuestring, strerror(e));
                }
                (void)close(fd);
        }
        return 0;
}

static bool has_hooks(const cJSON *hooks, const char *kind)
{
        return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(hooks, kind)) > 0;
}

/* In init, before parking: load the filter; a listener fd goes to the runtime. */
static void load_seccomp(struct init_ctx *x)
{
        struct berth_err err = BERTH_ERR_INIT;
        int lfd, r;

        r = rt_seccomp_load(x->sc, &lfd);
        if (r < 0) {
                berth_err_set(&err, -r, "load seccomp filter: %s", strerror(-r));
                child_fail(x->sync, &err);
        }
        if (lfd >= 0) {
                r = rt_send_fd(x->sync, lfd, "N", 1);
                (void)close(lfd);
                if (r < 0)
                        _exit(1);
        }
}

/* The container's init, after clone: never returns. */
__attribute__((noreturn)) static void container_init(struct init_ctx *x)
{
        const struct rt_config *c = x->c;
        const struct rt_process *p = &c->proc;
        struct berth_err err = BERTH_ERR_INIT;
        _cleanup_free_ char *msg = xmalloc(MSG_MAX), *exe = NULL, *state = NULL;
        bool has_mntns = rt_ns_has(c, CLONE_NEWNS);
        bool late_seccomp, cwd_done = false;
        ssize_t n;

        /* CVE-2019-5736: until execve nobody may open /proc/<pid>/exe (our binary) */
        (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        n = recv_msg(x->sync, msg, MSG_MAX);
        if (n <= 0 || msg[0] != 'G')
                _exit(1);
        state = xstrdup(msg + 1);
        if (c->has_userns) {
                if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
                        berth_err_set(&err, errno, "become root in the user namespace: %s", strerror(errno));
                        child_fail(x->sync, &err);
                }
        }
        if (setsid() < 0 && errno != EPERM) {
                berth_err_set(&err, errno, "setsid: %s", strerror(errno));
                child_fail(x->sync, &err);
        }
        if (x->cg_self && rt_cgroup_enter_self(x->cg_paths, &err) < 0) {
                berth_err_wrap(&err, "cgroup");
                child_fail(x->sync, &err);
        }
        if ((c->clone_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0) {
                berth_err_set(&err, errno, "unshare cgroup namespace: %s", strerror(errno));
                child_fail(x->sync, &err);
        }
        if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0) {
                berth_err_set(&err, errno, "sethostname: %s", strerror(errno));
                child_fail(x->sync, &err);
        }
        if (c->domainname && setdomainname(c->domainname, strlen(c->domainname)) < 0) {
                berth_err_set(&err, errno, "setdomainname: %s", strerror(errno));
                child_fail(x->sync, &err);
        }
        if (has_mntns && rt_rootfs_prepare(c, x->cg_paths, &err) < 0)
                child_fail(x->sync, &err);
        if (has_hooks(c->hooks, "prestart") || has_hooks(c->hooks, "createRuntime")) {
                if (send_msg(x->sync, 'H', NULL, 0) < 0)
                        _exit(1);
                n = recv_msg(x->sync, msg, MSG_MAX);
                if (n <= 0 || msg[0] != 'H')
                        _exit(1);
        }
        if (rt_hooks_run(c->hooks, "createContainer", state, &err) < 0)
                child_fail(x->sync, &err);
        if (has_mntns) {
                if (rt_rootfs_pivot(c, x->o->no_pivot, &err) < 0)
                        child_fail(x->sync, &err);
        } else if (chroot(c->rootfs) < 0 || chdir("/") < 0) {
                berth_err_set(&err, errno, "chroot %s: %s", c->rootfs, strerror(errno));
                child_fail(x->sync, &err);
        }
        if (write_sysctls(c->sysctl, &err) < 0)
                child_fail(x->sync, &err);
        if (p->terminal && x->console >= 0) {
                if (rt_console_setup(x->console, p, has_mntns, &err) < 0)
                        child_fail(x->sync, &err);
                (void)close(x->console);
        }
        if (has_mntns && rt_rootfs_finish(c, &err) < 0)
                child_fail(x->sync, &err);
        if (!x->o->no_new_keyring) {
                /* a fresh session keyring, as runc: keys of the host are not shared */
                (void)syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, NULL);
        }
        if (rt_proc_rlimits(p, &err) < 0 || rt_proc_oom(p, &err) < 0)
                child_fail(x->sync, &err);
        if (c->personality >= 0 && personality((unsigned long)c->personality) < 0) {
                berth_err_set(&err, errno, "personality: %s", strerror(errno));
                child_fail(x->sync, &err);
        }
        if (chdir(p->cwd) == 0)
                cwd_done = true;
        else if (p->uid == 0 || errno != EACCES) {
                berth_err_set(&err, errno, "chdir to cwd (\"%s\") set in config.json failed: %s", p->cwd, strerror(errno));
                child_fail(x->sync, &err);
        }
        if (rt_proc_lookup(p, &exe, &err) < 0)
                child_fail(x->sync, &err);
        if (p->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                berth_err_set(&err, errno, "no_new_privs: %s", strerror(errno));
                child_fail(x->sync, &err);
        }
        /* without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it before dropping caps */
        late_seccomp = p->nnp || (p->has_caps ? (p->cap_eff >> 21) & 1 : p->uid == 0);
        if (!late_seccomp && x->sc->prog)
                load_seccomp(x);
        if (rt_proc_drop_bounding(p, &err) < 0 || rt_proc_identity(p, c->has_userns, &err) < 0 ||
            rt_proc_caps(p, &err) < 0)
                child_fail(x->sync, &err);
        if (!cwd_done && chdir(p->cwd) < 0) {
                berth_err_set(&err, errno, "chdir to cwd (\"%s\") set in config.json failed: %s", p->cwd, strerror(errno));
                child_fail(x->sync, &err);
        }
        if (p->umask >= 0)
                umask((mode_t)p->umask);
        else
                umask(022);
        /* the listener fd goes out through the runtime, which is gone after start */
        if (late_seccomp && x->sc->prog && x->sc->notify)
                load_seccomp(x);
        if (send_msg(x->sync, 'R', NULL, 0) < 0)
                _exit(1);
        if (x->fifo >= 0) {
                char b;
                do
                        n = read(x->fifo, &b, 1);
                while (n < 0 && errno == EINTR);
                if (n != 1)
                        _exit(1);
                /* the fifo and the sync socket stay open until execve closes
                 * them: `start` and `run` see that as "the process runs" */
        } else {
                n = recv_msg(x->sync, msg, MSG_MAX);
                if (n <= 0 || msg[0] != 'S')
                        _exit(1);
        }
        if (has_hooks(c->hooks, "startContainer") && rt_hooks_run(c->hooks, "startContainer", state, &err) < 0) {
                fprintf(stderr, "%s\n", err.msg);
                _exit(1);
        }
        if (late_seccomp && x->sc->prog && !x->sc->notify) {
                int r = rt_seccomp_load(x->sc, NULL);
                if (r < 0) {
                        fprintf(stderr, "load seccomp filter: %s\n", strerror(-r));
                        _exit(1);
                }
        }
        (void)syscall(SYS_close_range, 3 + x->o->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
        execve(exe, p->args, p->env);
        fprintf(stderr, "exec %s: %s\n", exe, strerror(errno));
        _exit(127);
}

static pid_t raw_clone(unsigned long flags)
{
        return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

static int write_map(pid_t pid, const char *file, const cJSON *maps, struct berth_err *err)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int)pid, file);
        struct buf b = BUF_INIT;
        const cJSON *it;
        int fd, r = 0;

        cJSON_ArrayForEach(it, maps) {
                const cJSON *cid = cJSON_GetObjectItemCaseSensitive(it, "containerID");
                const cJSON *hid = cJSON_GetObjectItemCaseSensitive(it, "hostID");
                const cJSON *sz = cJSON_GetObjectItemCaseSensitive(it, "size");
                if (!cJSON_IsNumber(cid) || !cJSON_IsNumber(hid) || !cJSON_IsNumber(sz))
                        continue;
                buf_addf(&b, "%.0f %.0f %.0f\n", cid->valuedouble, hid->valuedouble, sz->valuedouble);
        }
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len)
                r = berth_err_set(err, errno, "write %s: %s", file, strerror(errno));
        if (fd >= 0)
                (void)close(fd);
        buf_release(&b);
        return r;
}

static int write_maps(const struct rt_config *c, pid_t pid, struct berth_err *err)
{
        int r = write_map(pid, "uid_map", c->uid_maps, err);

        return r < 0 ? r : write_map(pid, "gid_map", c->gid_maps, err);
}

/* Intermediate child for namespaces joined by path: setns, unshare, clone the
 * init as a sibling (CLONE_PARENT) and report its pid. */
__attribute__((noreturn)) static void join_and_clone(struct init_ctx *x)
{
        const struct rt_config *c = x->c;
        struct berth_err err = BERTH_ERR_INIT;
        char msg[16];
        int fds[RT_MAX_NS];
        pid_t pid;

        for (size_t i = 0; i < c->nns; i++) {
                fds[i] = -1;
                if (!c->ns[i].path)
                        continue;
                fds[i] = open(c->ns[i].path, O_RDONLY | O_CLOEXEC);
                if (fds[i] < 0) {
                        berth_err_set(&err, errno, "open namespace %s: %s", c->ns[i].path, strerror(errno));
                        child_fail(x->sync, &err);
                }
        }
        /* the user namespace first: it owns the others */
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < c->nns; i++) {
                        if (fds[i] < 0 || (pass == 0) != (c->ns[i].type == CLONE_NEWUSER))
                                continue;
                        if (setns(fds[i], c->ns[i].type) < 0) {
                                berth_err_set(&err, errno, "join %s namespace %s: %s", rt_ns_proc_name(c->ns[i].type),
                                              c->ns[i].path, strerror(errno));
                                child_fail(x->sync, &err);
                        }
                        (void)close(fds[i]);
                }
        if (c->clone_flags & ~CLONE_NEWCGROUP) {
                if (unshare(c->clone_flags & ~CLONE_NEWCGROUP) < 0) {
                        berth_err_set(&err, errno, "unshare namespaces: %s", strerror(errno));
                        child_fail(x->sync, &err);
                }
        }
        if (c->clone_flags & CLONE_NEWUSER) {
                if (send_msg(x->sync, 'M', NULL, 0) < 0 || recv_msg(x->sync, msg, sizeof(msg)) <= 0 || msg[0] != 'm')
                        _exit(1);
        }
        pid = raw_clone(CLONE_PARENT);
        if (pid < 0) {
                berth_err_set(&err, errno, "clone: %s", strerror(errno));
                child_fail(x->sync, &err);
        }
        if (pid == 0)
                container_init(x);
        int32_t v = pid;
        (void)send_msg(x->sync, 'P', &v, sizeof(v));
        _exit(0);
}

static void rm_state_dir(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;

        if (d) {
                while ((de = readdir(d)))
                        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                                (void)unlinkat(dirfd(d), de->d_name, 0);
                closedir(d);
        }
        (void)rmdir(dir);
}

int rt_write_pid_file(const char *path, pid_t pid, struct berth_err *err)
{
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%d", (int)pid);

        return rt_write_file(path, buf, (size_t)n, 0644, err);
}

static cJSON *state_json(const struct rt_create_opts *o, const struct rt_config *c, pid_t pid,
                         uint64_t start_time, const cJSON *cg_paths)
{
        cJSON *s = cJSON_CreateObject();
        struct timespec now;
        char ts[64];

        clock_gettime(CLOCK_REALTIME, &now);
        berth_time_rfc3339(now.tv_sec, now.tv_nsec, ts, sizeof(ts));
        cJSON_AddStringToObject(s, "ociVersion", RT_OCI_VERSION);
        cJSON_AddStringToObject(s, "id", o->id);
        cJSON_AddNumberToObject(s, "pid", pid);
        cJSON_AddNumberToObject(s, "start_time", (double)start_time);
        cJSON_AddStringToObject(s, "bundle", c->bundle);
        cJSON_AddStringToObject(s, "rootfs", c->rootfs);
        cJSON_AddStringToObject(s, "created", ts);
        cJSON_AddStringToObject(s, "owner", "");
        if (c->annotations)
                cJSON_AddItemToObject(s, "annotations", cJSON_Duplicate(c->annotations, true));
        cJSON_AddItemToObject(s, "cgroup_paths", cJSON_Duplicate(cg_paths, true));
        return s;
}

static cJSON *oci_state(const char *id, const char *bundle, const char *rootfs, pid_t pid,
                        const char *status, const cJSON *annotations)
{
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "ociVersion", RT_OCI_VERSION);
        cJSON_AddStringToObject(o, "id", id);
        cJSON_AddStringToObject(o, "status", status);
        cJSON_AddNumberToObject(o, "pid", pid);
        cJSON_AddStringToObject(o, "bundle", bundle);
        cJSON_AddStringToObject(o, "rootfs", rootfs);
        if (annotations)
                cJSON_AddItemToObject(o, "annotations", cJSON_Duplicate(annotations, true));
        return o;
}

static char *oci_state_text(const char *id, const char *bundle, const char *rootfs, pid_t pid,
                            const char *status, const cJSON *annotations)
{
        cJSON *o = oci_state(id, bundle, rootfs, pid, status, annotations);
        char *t = cJSON_PrintUnformatted(o);

        cJSON_Delete(o);
        return t;
}

int rt_container_create(const struct rt_create_opts *o, pid_t *ret_pid, int *ret_sync, struct berth_err *err)
{
        struct rt_config c;
        struct rt_seccomp sc = { 0 };
        struct rt_cgroup cg = { 0 };
        _cleanup_free_ char *dir = NULL, *fifo = NULL, *msg = NULL, *hook_state = NULL;
        int sp[2] = { -1, -1 }, fifo_fd = -1, console = -1, r;
        pid_t pid = -1, mid = -1;
        bool dir_made = false, early_cg, cg_self = false;
        ssize_t n;

        r = rt_valid_id(o->id, err);
        if (r < 0)
                return r;
        r = rt_config_load(o->bundle, &c, err);
        if (r < 0)
                goto fail;
        if (c.proc.terminal && !o->console_socket && o->console_fd >= 0) {
                console = fcntl(o->console_fd, F_DUPFD_CLOEXEC, 3);
                if (console < 0) {
                        r = berth_err_set(err, errno, "dup: %s", strerror(errno));
                        goto fail;
                }
        } else if (c.proc.terminal && !o->console_socket) {
                r = berth_err_set(err, EINVAL, "cannot allocate tty if runc will detach without setting console socket");
                goto fail;
        }
        if (!c.proc.terminal && o->console_socket) {
                r = berth_err_set(err, EINVAL, "cannot use console socket if runc will not detach or allocate tty");
                goto fail;
        }
        r = rt_seccomp_compile_cached(c.seccomp, rt_opts.root, &sc, err);
        if (r < 0)
                goto fail;
        if (berth_mkdir_p(rt_opts.root, 0711) < 0 && errno != EEXIST) {
                r = berth_err_set(err, errno, "create state root %s: %s", rt_opts.root, strerror(errno));
                goto fail;
        }
        dir = rt_state_dir(o->id);
        if (mkdir(dir, 0711) < 0) {
                if (errno == EEXIST)
                        r = berth_err_set(err, EEXIST, "container with id exists: %s", o->id);
                else
                        r = berth_err_set(err, errno, "create state dir %s: %s", dir, strerror(errno));
                goto fail;
        }
        dir_made = true;
        if (!o->run) {
                fifo = xasprintf("%s/exec.fifo", dir);
                if (mkfifo(fifo, 0622) < 0) {
                        r = berth_err_set(err, errno, "mkfifo %s: %s", fifo, strerror(errno));
                        goto fail;
                }
                fifo_fd = open(fifo, O_RDWR | O_CLOEXEC);
                if (fifo_fd < 0) {
                        r = berth_err_set(err, errno, "open %s: %s", fifo, strerror(errno));
                        goto fail;
                }
        }
        if (o->console_socket) {
                console = rt_console_connect(o->console_socket, err);
                if (console < 0) {
                        r = console;
                        goto fail;
                }
        }
        r = rt_cgroup_create(o->id, c.cgroups_path, c.resources, &cg, err);
        if (r < 0) {
                berth_err_wrap(err, "cgroup");
                goto fail;
        }
        /* in a user namespace init may not write the host's cgroup files */
        cg_self = !c.has_userns && !cJSON_GetObjectItemCaseSensitive(cg.paths, "");
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
                r = berth_err_set(err, errno, "socketpair: %s", strerror(errno));
                goto fail;
        }
        {
                struct init_ctx x = { &c, o, sp[1], fifo_fd, console, &sc, cg.paths, cg_self };
                bool joins = false;

                for (size_t i = 0; i < c.nns; i++)
                        if (c.ns[i].path)
                                joins = true;
                fflush(NULL);
                if (joins) {
                        mid = fork();
                        if (mid == 0) {
                                (void)close(sp[0]);
                                join_and_clone(&x);
                        }
                } else {
                        pid = raw_clone((unsigned long)(c.clone_flags & ~CLONE_NEWCGROUP));
                        if (pid == 0) {
                                (void)close(sp[0]);
                                container_init(&x);
                        }
                }
                if (mid < 0 && pid < 0) {
                        r = berth_err_set(err, errno, "clone: %s", strerror(errno));
                        goto fail;
                }
        }
        /* ours no more: reset so that the fail path cannot close reused numbers */
        closep(&sp[1]);
        closep(&fifo_fd);
        closep(&console);
        sp[1] = fifo_fd = console = -1;
        msg = xmalloc(MSG_MAX);
        if (mid > 0) {
                for (;;) {
                        n = recv_msg(sp[0], msg, MSG_MAX);
                        if (n <= 0) {
                                r = berth_err_set(err, EIO, "container init exited unexpectedly");
                                goto fail;
                        }
                        if (msg[0] == 'E') {
                                r = berth_err_set(err, EIO, "%s", msg + 1);
                                goto fail;
                        }
                        if (msg[0] == 'M') {
                                r = write_maps(&c, mid, err);
                                if (r < 0)
                                        goto fail;
                                (void)send_msg(sp[0], 'm', NULL, 0);
                                continue;
                        }
                        if (msg[0] == 'P' && n == 1 + (ssize_t)sizeof(int32_t)) {
                                int32_t v;
                                memcpy(&v, msg + 1, sizeof(v));
                                pid = v;
                                break;
                        }
                }
                (void)waitpid(mid, NULL, 0);
                mid = -1;
        } else if (c.clone_flags & CLONE_NEWUSER) {
                r = write_maps(&c, pid, err);
                if (r < 0)
                        goto fail;
        }
        /* Unless init moves itself: the first cgroup migration waits for an RCU
         * grace period, so unless init must unshare its cgroup namespace inside
         * the cgroup, let it set the rootfs up meanwhile.  It joins before it
         * can run anything. */
        early_cg = !cg_self && (c.clone_flags & CLONE_NEWCGROUP) != 0;
        if (early_cg && (r = rt_cgroup_enter(cg.paths, pid, err)) < 0)
                goto fail;
        hook_state = oci_state_text(o->id, c.bundle, c.rootfs, pid, "created", c.annotations);
        if (send_msg(sp[0], 'G', hook_state, strlen(hook_state)) < 0) {
                r = berth_err_set(err, EIO, "container init exited unexpectedly");
                goto fail;
        }
        if (!cg_self && !early_cg && (r = rt_cgroup_enter(cg.paths, pid, err)) < 0)
                goto fail;
        for (;;) {
                int lfd = -1;

                n = rt_recv_msg(sp[0], msg, MSG_MAX, &lfd);
                if (n <= 0) {
                        closep(&lfd);
                        r = berth_err_set(err, EIO, "container init exited unexpectedly");
                        goto fail;
                }
                if (msg[0] == 'N' && lfd >= 0) {
                        cJSON *s = oci_state(o->id, c.bundle, c.rootfs, pid, "creating", c.annotations);
                        r = rt_notify_forward(c.seccomp, lfd, pid, s, err);
                        cJSON_Delete(s);
                        (void)close(lfd);
                        if (r < 0)
                                goto fail;
                        continue;
                }
                closep(&lfd);
                if (msg[0] == 'E') {
                        r = berth_err_set(err, EIO, "%s", msg + 1);
                        goto fail;
                }
                if (msg[0] == 'H') {
                        r = rt_hooks_run(c.hooks, "prestart", hook_state, err);
                        if (r == 0)
                                r = rt_hooks_run(c.hooks, "createRuntime", hook_state, err);
                        if (r < 0)
                                goto fail;
                        (void)send_msg(sp[0], 'H', NULL, 0);
                        continue;
                }
                if (msg[0] == 'R')
                        break;
        }
        {
                uint64_t st = 0;
                _cleanup_json_ cJSON *s = NULL;
                _cleanup_free_ char *text = NULL, *path = xasprintf("%s/state.json", dir);

                (void)rt_proc_start_time(pid, &st, NULL);
                s = state_json(o, &c, pid, st, cg.paths);
                cJSON_AddItemToObject(s, "config", cJSON_Duplicate(c.json, true));
                text = cJSON_PrintUnformatted(s);
                r = rt_write_file(path, text, strlen(text), 0600, err);
                if (r < 0)
                        goto fail;
        }
        if (o->pid_file) {
                r = rt_write_pid_file(o->pid_file, pid, err);
                if (r < 0)
                        goto fail;
        }
        *ret_pid = pid;
        if (ret_sync)
                *ret_sync = TAKE_FD(sp[0]);
        closep(&sp[0]);
        cJSON_Delete(cg.paths);
        rt_seccomp_release(&sc);
        rt_config_release(&c);
        return 0;

fail:
        if (mid > 0) {
                (void)kill(mid, SIGKILL);
                (void)waitpid(mid, NULL, 0);
        }
        if (pid > 0) {
                (void)kill(pid, SIGKILL);
                (void)waitpid(pid, NULL, 0);
        }
        closep(&sp[0]);
        closep(&sp[1]);
        closep(&fifo_fd);
        closep(&console);
        if (cg.paths) {
                (void)rt_cgroup_destroy(cg.paths, NULL);
                cJSON_Delete(cg.paths);
        }
        if (dir_made)
                rm_state_dir(dir);
        rt_seccomp_release(&sc);
        rt_config_release(&c);
        return r < 0 ? r : -EIO;
}

int rt_container_start_sync(int sync_fd, struct berth_err *err)
{
        if (send_msg(sync_fd, 'S', NULL, 0) < 0)
                return berth_err_set(err, ESRCH, "container not running");
        return 0;
}

static int wait_gone(pid_t pid, uint64_t start_time, int timeout_ms)
{
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

        if (pidfd >= 0) {
                struct pollfd p = { pidfd, POLLIN, 0 };
                int r;
                if (!rt_pid_alive(pid, start_time)) {
                        (void)close(pidfd);
                        return 0;
                }
                do
                        r = poll(&p, 1, timeout_ms);
                while (r < 0 && errno == EINTR);
                (void)close(pidfd);
                return r > 0 ? 0 : -ETIMEDOUT;
        }
        for (int i = 0; i < timeout_ms; i++) {
                if (!rt_pid_alive(pid, start_time))
                        return 0;
                struct timespec ts = { 0, 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
        return -ETIMEDOUT;
}

/* Kill what is left, remove the cgroup, run poststop hooks, drop the state dir. */
int rt_container_remove(const char *id, struct rt_state *st, struct berth_err *err)
{
        const cJSON *paths = cJSON_GetObjectItemCaseSensitive(st->json, "cgroup_paths");
        const cJSON *config = cJSON_GetObjectItemCaseSensitive(st->json, "config");
        const cJSON *hooks = cJSON_GetObjectItemCaseSensitive(config, "hooks");
        int r;

        if (rt_pid_alive(st->pid, st->start_time)) {
                (void)kill(st->pid, SIGKILL);
                if (st->status == RT_PAUSED)
                        (void)rt_cgroup_freeze(paths, false, NULL);
                if (wait_gone(st->pid, st->start_time, 10000) < 0)
                        return berth_err_set(err, ETIMEDOUT, "container %s did not exit after SIGKILL", id);
        }
        /* without a pid namespace other processes may remain in the cgroup */
        if (paths) {
                pid_t *pids = NULL;
                size_t n = 0;
                if (rt_cgroup_pids(paths, &pids, &n, NULL) == 0 && n > 0) {
                        for (size_t i = 0; i < n; i++)
                                (void)kill(pids[i], SIGKILL);
                        for (int i = 0; i < 2000; i++) {
                                free(pids);
                                pids = NULL;
                                if (rt_cgroup_pids(paths, &pids, &n, NULL) < 0 || n == 0)
                                        break;
                                struct timespec ts = { 0, 1000 * 1000 };
                                nanosleep(&ts, NULL);
                        }
                }
                free(pids);
                r = rt_cgroup_destroy(paths, err);
                if (r < 0)
                        return r;
        }
        if (has_hooks(hooks, "poststop")) {
                _cleanup_json_ cJSON *o = rt_state_oci(st, "stopped");
                _cleanup_free_ char *text = cJSON_PrintUnformatted(o);
                struct berth_err herr = BERTH_ERR_INIT;
                if (rt_hooks_run(hooks, "poststop", text, &herr) < 0)
                        rt_warn("%s", herr.msg);
        }
        rm_state_dir(st->dir);
        return 0;
}
