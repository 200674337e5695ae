/* SPDX-License-Identifier: Apache-2.0
 * daemon/lifecycle.c -- running containers: start (rootfs, /etc files, the
 * OCI bundle, berth-monitor), the monitor's events and exit, stop and kill,
 * waiters, attach hand-off, auto-remove.  The monitor protocol is
 * runtime/monitor.h.
 *
 * Loop thread.  Blocking steps (mount, file writes) run on the pool.  Each
 * started container has one struct berth_monitor: the monitor process
 * (spawned, then re-parented to berthd, the subreaper) is watched through a
 * pidfd on the loop and reaped with waitid(P_PIDFD).
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "daemon/daemon.h"
#include "runtime/monitor.h"
#include "runtime/spec.h"
#include "storage/storage.h"

struct berth_monitor {
        struct berth_monitor *next_live;        /* d->monitors */
        struct berth_daemon *d;
        struct berth_container *c;      /* ref */
        char *dir;                      /* state dir: exec-root/<12 hex> */
        struct berth_child launcher;    /* berth-monitor as berthd started it */
        uv_pipe_t sync;                 /* the monitor's events (JSON lines) */
        uv_pipe_t errp;                 /* the spawned process's stderr */
        uv_poll_t poll;                 /* on the monitor's pidfd */
        int open_handles;
        int pending_work;               /* pool work (start, exit status) holding m */
        bool sync_init, errp_init, poll_init, timer_init, proc_init;
        int pidfd;
        pid_t pid;
        struct buf sync_buf, err_buf;
        int spawn_status;               /* exit status of the spawned launcher, -1 while it runs */
        bool created, started, failed, exiting, exited, reaped, closing;
        char *error;
        /* the start request waiting for "started" or "error" */
        berth_done_cb start_cb;
        void *start_data;
        int pending_attach;             /* attaches connecting before START */
        uv_timer_t attach_timer;
        bool start_sent;
        bool holds_start;               /* reported the exit, still deleting */
};

/* a start that waits for the last run's monitor to be gone */
struct berth_pending_start {
        struct berth_pending_start *next;
        berth_done_cb cb;
        void *data;
};

static void monitor_maybe_free(struct berth_monitor *m);
static void run_created_hooks(struct berth_container *c);
static void netns_release(const char *path);
static void queue_start_undo(struct berth_daemon *d, struct berth_container *c);

static void fd_drop(int *fd)
{
        closep(fd);
        *fd = -1;
}

/* ---- waiters ---- */

void berth_container_wait(struct berth_daemon *d, struct berth_container *c, enum berth_wait_cond cond,
                          berth_wait_cb cb, void *data)
{
        struct berth_waiter *w = xcalloc(1, sizeof(*w));

        w->cond = cond;
        w->cb = cb;
        w->data = data;
        w->next = c->waiters;
        c->waiters = w;
}

void berth_container_wait_cancel(struct berth_container *c, void *data)
{
        for (struct berth_waiter **pp = &c->waiters; *pp; pp = &(*pp)->next) {
                if ((*pp)->data == data) {
                        struct berth_waiter *w = *pp;
                        *pp = w->next;
                        free(w);
                        return;
                }
        }
}

/* Tell the waiters whose condition now holds. */
static void wake_waiters(struct berth_container *c, bool exited, bool removed)
{
        struct berth_waiter **pp = &c->waiters;

        while (*pp) {
                struct berth_waiter *w = *pp;
                bool fire = removed || (exited && w->cond != BERTH_WAIT_REMOVED);
                if (!fire) {
                        pp = &w->next;
                        continue;
                }
                *pp = w->next;
                w->cb(c->exit_code, c->error, w->data);
                free(w);
        }
}

void berth_container_removed(struct berth_daemon *d, struct berth_container *c)
{
        wake_waiters(c, true, true);
}

/* ---- state files ---- */

struct save_job {
        uv_work_t w;
        char *path;
        char *text;
};

static void save_fn(uv_work_t *w)
{
        struct save_job *j = container_of(w, struct save_job, w);

        (void)berth_write_file_atomic(j->path, j->text, strlen(j->text), 0600, NULL);
}

static void save_done(uv_work_t *w, int status)
{
        struct save_job *j = container_of(w, struct save_job, w);

        free(j->path);
        free(j->text);
        free(j);
}

void berth_container_save(struct berth_daemon *d, struct berth_container *c)
{
        struct save_job *j = xcalloc(1, sizeof(*j));

        j->path = berth_container_file(c, "config.v2.json");
        j->text = berth_container_state_json(c);
        if (uv_queue_work(d->loop, &j->w, save_fn, save_done) < 0) {
                free(j->path);
                free(j->text);
                free(j);
        }
}

static void publish(struct berth_daemon *d, struct berth_container *c, const char *action, cJSON *attrs)
{
        const char *image = c->config ? berth_json_str(c->config, "Image") : NULL;
        const cJSON *labels = c->config ? cJSON_GetObjectItemCaseSensitive(c->config, "Labels") : NULL, *l;

        if (!attrs)
                attrs = cJSON_CreateObject();
        cJSON_ArrayForEach(l, labels) if (cJSON_IsString(l) && !cJSON_GetObjectItemCaseSensitive(attrs, l->string))
                cJSON_AddStringToObject(attrs, l->string, l->valuestring);
        if (image)
                cJSON_AddStringToObject(attrs, "image", image);
        cJSON_AddStringToObject(attrs, "name", c->name + 1);
        berth_events_publish(d->events, "container", action, c->id, attrs);
}

/* ---- the monitor: exit ---- */

static void on_monitor_handle_close(uv_handle_t *h)
{
        struct berth_monitor *m = h->data;

        m->open_handles--;
        monitor_maybe_free(m);
}

static void close_one(struct berth_monitor *m, uv_handle_t *h, bool *init)
{
        if (*init && !uv_is_closing(h)) {
                *init = false;
                uv_close(h, on_monitor_handle_close);
        }
}

static void monitor_close_handles(struct berth_monitor *m)
{
        if (m->closing) {
                monitor_maybe_free(m);
                return;
        }
        m->closing = true;
        close_one(m, (uv_handle_t *)&m->sync, &m->sync_init);
        close_one(m, (uv_handle_t *)&m->errp, &m->errp_init);
        close_one(m, (uv_handle_t *)&m->poll, &m->poll_init);
        close_one(m, (uv_handle_t *)&m->attach_timer, &m->timer_init);
        if (m->proc_init && !uv_is_closing((uv_handle_t *)&m->launcher.poll)) {
                m->proc_init = false;
                berth_child_close(&m->launcher, on_monitor_handle_close);
        }
        monitor_maybe_free(m);
}

static void monitor_maybe_free(struct berth_monitor *m)
{
        if (m->open_handles > 0 || m->pending_work > 0 || (!m->closing && m->c->mon == m))
                return;
        for (struct berth_monitor **pp = &m->d->monitors; *pp; pp = &(*pp)->next_live)
                if (*pp == m) {
                        *pp = m->next_live;
                        break;
                }
        if (m->pidfd >= 0)
                close(m->pidfd);
        buf_release(&m->sync_buf);
        buf_release(&m->err_buf);
        free(m->error);
        free(m->dir);
        berth_container_unref(m->c);
        free(m);
}

static void run_pending_starts(struct berth_daemon *d, struct berth_container *c);

static void start_finish(struct berth_monitor *m, int status, const char *msg)
{
        berth_done_cb cb = m->start_cb;
        struct berth_err err = BERTH_ERR_INIT;
        struct berth_daemon *d = m->d;
        struct berth_container *c = berth_container_ref(m->c);
        bool was_starting = c->starting == m;

        if (was_starting)
                c->starting = NULL;
        if (status < 0) {
                berth_sandbox_teardown(m->d, m->c, NULL, NULL);
                queue_start_undo(m->d, m->c);
                /* attaches waiting for this start end now (their connect fails) */
                if (m->c->mon == m)
                        m->c->mon = NULL;
                run_created_hooks(m->c);
                berth_container_save(m->d, m->c);
        }
        if (cb) {
                m->start_cb = NULL;
                if (status < 0)
                        berth_err_pub(&err, -status, "%s", msg ? msg : "start failed");
                cb(status, &err, m->start_data);
        }
        if (was_starting)
                run_pending_starts(d, c);
        berth_container_unref(c);
}

/* ---- restart policies ----
 * no, always, unless-stopped, on-failure[:N], with Docker's back-off: 100 ms
 * doubling up to a minute, back to 100 ms after a run of 10 s or more.  A
 * container stopped with docker stop is not restarted. */

struct restart {
        uv_timer_t timer;
        struct berth_daemon *d;
        struct berth_container *c;
};

static void restart_closed(uv_handle_t *h)
{
        struct restart *rs = h->data;

        berth_container_unref(rs->c);
        free(rs);
}

struct restart_cb {
        struct berth_daemon *d;
        struct berth_container *c;
};

static void restart_started(int status, const struct berth_err *err, void *data)
{
        struct restart_cb *rc = data;

        if (status < 0 && status != -EALREADY) {
                log_warn("container %.12s: restart failed: %s", rc->c->id, err ? err->msg : "");
                rc->c->state = CTR_EXITED;
                berth_containers_recount(rc->d);
                berth_container_save(rc->d, rc->c);
        }
        berth_container_unref(rc->c);
        free(rc);
}

static void restart_fire(uv_timer_t *t)
{
        struct restart *rs = t->data;
        struct berth_container *c = rs->c;
        struct berth_err err = BERTH_ERR_INIT;

        if (c->state == CTR_RESTARTING && !c->busy && !c->manual_stop && !c->starting && !c->mon) {
                struct restart_cb *rc = xcalloc(1, sizeof(*rc));
                rc->d = rs->d;
                rc->c = berth_container_ref(c);
                c->state = CTR_EXITED;   /* start wants a stopped container */
                if (berth_container_start(rs->d, c, restart_started, rc, &err) < 0) {
                        berth_container_unref(c);
                        free(rc);
                        log_warn("container %.12s: restart: %s", c->id, err.msg);
                } else {
                        c->restart_count++;
                        c->state = CTR_RESTARTING;
                }
        }
        uv_close((uv_handle_t *)&rs->timer, restart_closed);
}

static void maybe_restart(struct berth_daemon *d, struct berth_container *c)
{
        const cJSON *rp = c->host_config ? cJSON_GetObjectItemCaseSensitive(c->host_config, "RestartPolicy") : NULL;
        const char *name = rp ? berth_json_str(rp, "Name") : NULL;
        const cJSON *max = rp ? cJSON_GetObjectItemCaseSensitive(rp, "MaximumRetryCount") : NULL;
        bool again;

        if (!name || !*name || !strcmp(name, "no") || c->manual_stop)
                return;
        if (!strcmp(name, "always") || !strcmp(name, "unless-stopped"))
                again = true;
        else if (!strcmp(name, "on-failure"))
                again = c->exit_code != 0 &&
                        (!cJSON_IsNumber(max) || max->valueint <= 0 || c->restart_count < max->valueint);
        else
                again = false;
        if (!again)
                return;
        /* back-off: reset after a good run, else double */
        if (c->finished_ns - c->started_ns >= 10LL * 1000000000)
                c->restart_delay_ms = 0;
        c->restart_delay_ms = c->restart_delay_ms ? c->restart_delay_ms * 2 : 100;
        if (c->restart_delay_ms > 60000)
                c->restart_delay_ms = 60000;
        struct restart *rs = xcalloc(1, sizeof(*rs));
        rs->d = d;
        rs->c = berth_container_ref(c);
        uv_timer_init(d->loop, &rs->timer);
        rs->timer.data = rs;
        c->state = CTR_RESTARTING;
        berth_containers_recount(d);
        uv_timer_start(&rs->timer, restart_fire, c->restart_delay_ms, 0);
}

/* docker events --filter type=volume: each named volume is "mount"ed just
 * before the container's start event and "unmount"ed after its die and
 * network disconnects, with dockerd's attributes */
static void publish_volume_mounts(struct berth_daemon *d, const struct berth_container *c, bool mount)
{
        const cJSON *mps = c->host_config ? cJSON_GetObjectItemCaseSensitive(c->host_config, "BerthMountPoints") : NULL;
        const cJSON *m;

        cJSON_ArrayForEach(m, mps) {
                const char *type = berth_json_str(m, "Type"), *name = berth_json_str(m, "Name");
                const char *drv = berth_json_str(m, "Driver");
                cJSON *a;

                if (!type || strcmp(type, "volume") || !name || !*name)
                        continue;
                a = cJSON_CreateObject();
                cJSON_AddStringToObject(a, "container", c->id);
                if (mount) {
                        const char *dst = berth_json_str(m, "Destination"), *prop = berth_json_str(m, "Propagation");

                        cJSON_AddStringToObject(a, "destination", dst ? dst : "");
                        cJSON_AddStringToObject(a, "propagation", prop ? prop : "");
                        cJSON_AddStringToObject(a, "read/write",
                                                cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(m, "RW")) ? "false" : "true");
                }
                cJSON_AddStringToObject(a, "driver", drv && *drv ? drv : "local");
                berth_events_publish(d->events, "volume", mount ? "mount" : "unmount", name, a);
        }
}

struct exited_ctx {
        struct berth_daemon *d;
        struct berth_container *c;      /* ref */
};

static void exited_released(int status, const struct berth_err *err, void *data)
{
        struct exited_ctx *x = data;
        struct berth_daemon *d = x->d;
        struct berth_container *c = x->c;

        (void)status;
        (void)err;
        log_debug("container %.12s: networks released", c->id);
        publish_volume_mounts(d, c, false);
        wake_waiters(c, true, false);
        if (c->state == CTR_EXITED) {
                if (c->host_config && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->host_config, "AutoRemove")))
                        berth_container_auto_remove(d, c);
                else if (!d->shutting_down)
                        maybe_restart(d, c);
        }
        berth_container_unref(c);
        free(x);
}

/* One start at a time: a start waits while another is under way (until it
 * ran the container or failed), and while something of the last run is
 * still being undone: its rootfs and netns being released after its exit or
 * a failed start, its monitor still deleting the runtime's state (and
 * owning its state dir).  Then the waiting starts go on, one at a time; one
 * that finds the container running already gets EALREADY (which is what the
 * start and restart handlers and restart policies want then: it runs). */
static void run_pending_starts(struct berth_daemon *d, struct berth_container *c)
{
        struct berth_pending_start *ps;

        while (c->start_holds == 0 && !c->starting && (ps = c->pending_starts)) {
                struct berth_err err = BERTH_ERR_INIT;

                c->pending_starts = ps->next;
                if (c->mon) {
                        berth_err_pub(&err, EALREADY, "container %s is already running", c->id);
                        ps->cb(-EALREADY, &err, ps->data);
                } else if (berth_container_start(d, c, ps->cb, ps->data, &err) < 0) {
                        ps->cb(-err.code, &err, ps->data);
                }
                free(ps);
        }
}

static void start_hold(struct berth_container *c)
{
        c->start_holds++;
}

static void start_release(struct berth_daemon *d, struct berth_container *c)
{
        if (--c->start_holds > 0)
                return;
        run_pending_starts(d, c);
}

static void container_exited(struct berth_monitor *m, const cJSON *ex);

struct stop_job {
        uv_work_t net, fs;
        int pending;
        struct berth_monitor *m;        /* held (pending_work) */
        cJSON *ex;                      /* the exit status, or NULL */
        char *netns;
};

/* pool, both at once: each unmount waits for an RCU grace period, and
 * concurrent waits share one.  The netns mount goes: with no process left in
 * it the kernel then removes its interfaces (and their veth peers) by itself,
 * which is much cheaper than a delete of each veth under the rtnl lock.  The
 * rootfs is unmounted as Docker does once a container stopped, before it
 * counts as stopped: nothing that works on a stopped container's rootfs
 * (export, cp, commit, rm) meets the unmount half way. */
static void stop_net_fn(uv_work_t *w)
{
        netns_release(container_of(w, struct stop_job, net)->netns);
}

static void stop_fs_fn(uv_work_t *w)
{
        struct stop_job *j = container_of(w, struct stop_job, fs);

        (void)storage_rootfs_unmount(j->m->d->storage, j->m->c->id, NULL);
}

static void stop_after(struct stop_job *j)
{
        struct berth_monitor *m = j->m;

        if (--j->pending > 0)
                return;
        container_exited(m, j->ex);
        cJSON_Delete(j->ex);
        free(j->netns);
        free(j);
        start_release(m->d, m->c);
        m->pending_work--;
        monitor_maybe_free(m);
}

static void stop_net_after(uv_work_t *w, int status)
{
        (void)status;
        stop_after(container_of(w, struct stop_job, net));
}

static void stop_fs_after(uv_work_t *w, int status)
{
        (void)status;
        stop_after(container_of(w, struct stop_job, fs));
}

/* The container's processes are gone (ex: its exit status, NULL when the
 * monitor left none): its netns and rootfs go, then it counts as exited */
static void container_stopped(struct berth_monitor *m, const cJSON *ex)
{
        struct stop_job *j;

        if (m->exiting || m->exited)
                return;
        m->exiting = true;
        m->pending_work++;
        start_hold(m->c);       /* a new start mounts what this unmounts */
        j = xcalloc(1, sizeof(*j));
        j->m = m;
        j->ex = ex ? cJSON_Duplicate(ex, 1) : NULL;
        j->netns = berth_container_netns_path(m->d, m->c);
        j->pending = 3;
        if (uv_queue_work(m->d->loop, &j->net, stop_net_fn, stop_net_after) < 0)
                j->pending--;
        if (uv_queue_work(m->d->loop, &j->fs, stop_fs_fn, stop_fs_after) < 0)
                j->pending--;
        stop_after(j);
}

static bool private_pid_ns(const struct berth_container *c)
{
        const char *pm = c->host_config ? berth_json_str(c->host_config, "PidMode") : NULL;

        return !pm || !*pm || !strcmp(pm, "private");
}

/* the container stopped (its rootfs and netns released): record, publish,
 * release its networks, then wake
 * waiters, auto-remove or restart */
static void container_exited(struct berth_monitor *m, const cJSON *ex)
{
        struct berth_daemon *d = m->d;
        struct berth_container *c = m->c;
        const cJSON *v;
        char code[16];

        if (m->exited)
                return;
        m->exited = true;
        if (c->mon == m)
                c->mon = NULL;
        v = ex ? cJSON_GetObjectItemCaseSensitive(ex, "exit_code") : NULL;
        c->exit_code = cJSON_IsNumber(v) ? v->valueint : 255;
        if (c->exit_code < 0)
                c->exit_code = 255;
        v = ex ? cJSON_GetObjectItemCaseSensitive(ex, "finished_at_ns") : NULL;
        c->finished_ns = cJSON_IsNumber(v) && v->valuedouble > 0 ? (int64_t)v->valuedouble : berth_now_ns();
        c->oom_killed = ex && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ex, "oom_killed"));
        const char *e = ex ? berth_json_str(ex, "error") : NULL;
        free(c->error);
        c->error = e && *e ? xstrdup(e) : (ex ? NULL : xstrdup("the container's monitor exited without a status"));
        c->pid = 0;
        c->state = CTR_EXITED;
        berth_containers_recount(d);
        cJSON *attrs = cJSON_CreateObject();
        snprintf(code, sizeof(code), "%d", c->exit_code);
        cJSON_AddStringToObject(attrs, "exitCode", code);
        if (c->oom_killed)
                publish(d, c, "oom", NULL);
        publish(d, c, "die", attrs);
        berth_container_save(d, c);
        /* waiters, --rm and restarts once its networks are released: a
         * network rm or a new start right after never meets them */
        struct exited_ctx *x = xcalloc(1, sizeof(*x));
        x->d = d;
        x->c = berth_container_ref(c);
        berth_sandbox_teardown(d, c, exited_released, x);
}

struct exit_read {
        uv_work_t w;
        struct berth_monitor *m;
        char *path;
        cJSON *ex;
};

static void exit_read_fn(uv_work_t *w)
{
        struct exit_read *er = container_of(w, struct exit_read, w);
        char *text = NULL;
        size_t len;

        if (berth_read_file(er->path, 1 << 20, &text, &len, NULL) == 0)
                (void)berth_json_parse(text, len, &er->ex, NULL);
        free(text);
        /* the monitor's state dir (bundle, sockets) goes with it; the
         * container's own files (log, state) stay */
        (void)berth_remove_tree(er->m->dir);
}

static void exit_read_done(uv_work_t *w, int status)
{
        struct exit_read *er = container_of(w, struct exit_read, w);
        struct berth_monitor *m = er->m;

        log_debug("container %.12s: monitor gone, exit status read", m->c->id);
        if (!m->started && !m->failed) {
                /* it died between create and start */
                const char *msg = er->ex ? berth_json_str(er->ex, "error") : NULL;
                m->failed = true;
                start_finish(m, -EIO, msg && *msg ? msg : "the container's monitor exited before the start");
        }
        if (m->started)
                container_stopped(m, er->ex);
        else if (m->c->mon == m)
                m->c->mon = NULL;
        cJSON_Delete(er->ex);
        free(er->path);
        free(er);
        if (m->holds_start) {
                m->holds_start = false;
                start_release(m->d, m->c);
        }
        m->pending_work--;
        monitor_close_handles(m);
}

static void monitor_gone(struct berth_monitor *m)
{
        struct exit_read *er;

        if (m->reaped)
                return;
        m->reaped = true;
        if (m->poll_init)
                (void)uv_poll_stop(&m->poll);
        er = xcalloc(1, sizeof(*er));
        er->m = m;
        er->path = xasprintf("%s/%s", m->dir, MON_FILE_EXIT);
        m->pending_work++;
        if (uv_queue_work(m->d->loop, &er->w, exit_read_fn, exit_read_done) < 0) {
                m->pending_work--;
                free(er->path);
                free(er);
                container_stopped(m, NULL);
                monitor_close_handles(m);
        }
}

static void on_pidfd(uv_poll_t *p, int status, int events)
{
        struct berth_monitor *m = p->data;
        siginfo_t si;

        /* readable: it exited.  Reap it when it is our child (re-parented to
         * berthd, the subreaper); ECHILD when it is not. */
        memset(&si, 0, sizeof(si));
        (void)waitid(P_PIDFD, (id_t)m->pidfd, &si, WEXITED | WNOHANG);
        monitor_gone(m);
}

static int watch_pid(struct berth_monitor *m, pid_t pid)
{
        int fd = pidfd_open(pid, 0);

        if (fd < 0)
                return -errno;
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        m->pidfd = fd;
        m->pid = pid;
        if (uv_poll_init(m->d->loop, &m->poll, fd) < 0)
                return -EIO;
        m->poll.data = m;
        m->poll_init = true;
        m->open_handles++;
        return uv_poll_start(&m->poll, UV_READABLE, on_pidfd);
}

/* ---- the monitor: events ---- */

static void send_start(struct berth_monitor *m);
static void run_created_hooks(struct berth_container *c);
static int send_control(const char *dir, unsigned char type, const void *payload, uint32_t len);

static void handle_event(struct berth_monitor *m, const cJSON *ev)
{
        struct berth_container *c = m->c;
        const char *type = berth_json_str(ev, "event");
        const cJSON *v;

        if (!type)
                return;
        log_debug("container %.12s: monitor event %s", c->id, type);
        if (!strcmp(type, "created")) {
                v = cJSON_GetObjectItemCaseSensitive(ev, "monitor_pid");
                m->created = true;
                if (cJSON_IsNumber(v) && !m->pid && watch_pid(m, (pid_t)v->valueint) < 0)
                        log_warn("container %.12s: cannot watch monitor %d", c->id, v->valueint);
                v = cJSON_GetObjectItemCaseSensitive(ev, "pid");
                if (cJSON_IsNumber(v))
                        c->pid = v->valueint;
                /* attaches waiting on a created container connect now, then START */
                run_created_hooks(c);
                if (m->pending_attach == 0)
                        send_start(m);
                else
                        uv_timer_start(&m->attach_timer, (uv_timer_cb)send_start, 2000, 0);
        } else if (!strcmp(type, "started")) {
                m->started = true;
                v = cJSON_GetObjectItemCaseSensitive(ev, "pid");
                if (cJSON_IsNumber(v))
                        c->pid = v->valueint;
                v = cJSON_GetObjectItemCaseSensitive(ev, "started_at_ns");
                c->started_ns = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : berth_now_ns();
                c->finished_ns = 0;
                c->exit_code = 0;
                free(c->error);
                c->error = NULL;
                c->state = CTR_RUNNING;
                berth_containers_recount(m->d);
                berth_container_save(m->d, c);
                publish_volume_mounts(m->d, c, true);
                publish(m->d, c, "start", NULL);
                start_finish(m, 0, NULL);
                if (c->manual_stop && c->restart_count > 0) {
                        /* docker stop came while a policy restart was starting it */
                        unsigned char sig[4] = { 0, 0, 0, SIGKILL };
                        (void)send_control(m->dir, MON_FRAME_KILL, sig, 4);
                }
        } else if (!strcmp(type, "error")) {
                const char *msg = berth_json_str(ev, "message");
                m->failed = true;
                free(m->error);
                m->error = xstrdup(msg ? msg : "the runtime failed");
                free(c->error);
                c->error = xstrdup(m->error);
                start_finish(m, -EIO, m->error);
        } else if (!strcmp(type, "exited")) {
                /* the exit status, as the monitor also wrote it to disk.  It
                 * still runs the runtime's delete: a new start waits for it
                 * to be gone (start_hold).  With a pid namespace of its own
                 * nothing of the container is left, so it counts as stopped
                 * now; else only once the delete killed what was left. */
                if (m->started && m->poll_init && private_pid_ns(c)) {
                        m->holds_start = true;
                        start_hold(c);
                        container_stopped(m, ev);
                }
        }
}

static void on_sync_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
        b->base = xmalloc(4096);
        b->len = 4096;
}

static void on_sync_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
        struct berth_monitor *m = s->data;

        if (n > 0 && m->sync_buf.len < (1 << 20))
                buf_add(&m->sync_buf, b->base, (size_t)n);
        free(b->base);
        if (n < 0) {
                (void)uv_read_stop(s);
                return;
        }
        char *nl;
        while (m->sync_buf.len && (nl = memchr(m->sync_buf.data, '\n', m->sync_buf.len))) {
                size_t len = (size_t)(nl - m->sync_buf.data);
                cJSON *ev = NULL;
                if (berth_json_parse(m->sync_buf.data, len, &ev, NULL) == 0)
                        handle_event(m, ev);
                cJSON_Delete(ev);
                buf_consume(&m->sync_buf, len + 1);
        }
}

static void on_err_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
        struct berth_monitor *m = s->data;

        if (n > 0 && m->err_buf.len < 65536)
                buf_add(&m->err_buf, b->base, (size_t)n);
        free(b->base);
        if (n < 0)
                (void)uv_read_stop(s);
}

static void on_launcher_exit(struct berth_child *ch, int64_t status, int sig)
{
        struct berth_monitor *m = ch->data;

        m->spawn_status = (int)status;
        if (status != 0 && !m->failed) {
                /* create failed: the launcher's stderr has the runtime's words */
                char *msg = xstrdup(m->err_buf.len ? buf_cstr(&m->err_buf) : "the container runtime failed");
                size_t k = strlen(msg);
                while (k && (msg[k - 1] == '\n' || msg[k - 1] == ' '))
                        msg[--k] = '\0';
                m->failed = true;
                free(m->c->error);
                m->c->error = xstrdup(msg);
                start_finish(m, -EIO, msg);
                free(msg);
                if (m->c->mon == m)
                        m->c->mon = NULL;
                monitor_close_handles(m);
                return;
        }
        if (m->proc_init) {
                m->proc_init = false;
                berth_child_close(&m->launcher, on_monitor_handle_close);
        }
}

/* ---- attach hand-off and START ---- */

void berth_container_on_created(struct berth_container *c, berth_created_cb cb, void *data)
{
        struct berth_created_hook *h = xcalloc(1, sizeof(*h));

        h->cb = cb;
        h->data = data;
        h->next = c->created_hooks;
        c->created_hooks = h;
}

void berth_container_on_created_cancel(struct berth_container *c, void *data)
{
        for (struct berth_created_hook **pp = &c->created_hooks; *pp; pp = &(*pp)->next) {
                if ((*pp)->data == data) {
                        struct berth_created_hook *h = *pp;
                        *pp = h->next;
                        free(h);
                        return;
                }
        }
}

static void run_created_hooks(struct berth_container *c)
{
        struct berth_created_hook *h = c->created_hooks;

        c->created_hooks = NULL;
        while (h) {
                struct berth_created_hook *next = h->next;
                h->cb(c, h->data);
                free(h);
                h = next;
        }
}

/* One control frame on a fresh connection (tiny: the socket buffer takes it). */
static int send_control(const char *dir, unsigned char type, const void *payload, uint32_t len)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        unsigned char frame[MON_FRAME_HDR + 16];
        _cleanup_close_ int fd = -1;

        if (len > 16 || snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, MON_FILE_SOCK) >= (int)sizeof(sa.sun_path))
                return -EINVAL;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        memset(frame, 0, sizeof(frame));
        frame[0] = type;
        frame[4] = (unsigned char)(len >> 24);
        frame[5] = (unsigned char)(len >> 16);
        frame[6] = (unsigned char)(len >> 8);
        frame[7] = (unsigned char)len;
        if (len)
                memcpy(frame + MON_FRAME_HDR, payload, len);
        if (send(fd, frame, MON_FRAME_HDR + len, MSG_NOSIGNAL) != (ssize_t)(MON_FRAME_HDR + len))
                return -errno;
        return 0;
}

static void send_start(struct berth_monitor *m)
{
        int r;

        if (m->start_sent || m->failed)
                return;
        m->start_sent = true;
        uv_timer_stop(&m->attach_timer);
        r = send_control(m->dir, MON_FRAME_START, NULL, 0);
        if (r < 0) {
                m->failed = true;
                start_finish(m, r, "cannot reach the container's monitor to start it");
        }
}

void berth_container_attach_begin(struct berth_container *c)
{
        if (c->mon && !c->mon->start_sent)
                c->mon->pending_attach++;
}

void berth_container_attach_ready(struct berth_container *c)
{
        struct berth_monitor *m = c->mon;

        if (!m || m->start_sent || m->pending_attach == 0)
                return;
        if (--m->pending_attach == 0 && m->created)
                send_start(m);
}

const char *berth_container_monitor_dir(const struct berth_container *c)
{
        return c->mon ? c->mon->dir : NULL;
}

static void ignore_output(int status, const char *output, void *data)
{
}

int berth_container_kill(struct berth_daemon *d, struct berth_container *c, int sig, struct berth_err *err)
{
        unsigned char payload[4] = { (unsigned char)(sig >> 24), (unsigned char)(sig >> 16), (unsigned char)(sig >> 8),
                                     (unsigned char)sig };
        int r;

        if (!c->mon || !c->mon->started || (c->state != CTR_RUNNING && c->state != CTR_PAUSED))
                return berth_err_pub(err, EBUSY, "Container %s is not running", c->id);
        r = send_control(c->mon->dir, MON_FRAME_KILL, payload, 4);
        if (r < 0)
                return berth_err_set(err, -r, "signal container %.12s: %s", c->id, strerror(-r));
        if (c->state == CTR_PAUSED && (sig == SIGKILL || sig == SIGTERM)) {
                /* a frozen process takes no signal: thaw it, as dockerd does */
                const char *rt;
                _cleanup_free_ char *root = NULL;
                if (berth_container_runtime_argv(d, c, &rt, &root) == 0) {
                        const char *argv[] = { rt, "--root", root, "resume", c->id, NULL };
                        if (berth_run_command(d, argv, ignore_output, NULL, NULL) == 0) {
                                c->state = CTR_RUNNING;
                                berth_containers_recount(d);
                        }
                }
        }
        return 0;
}

/* ---- the container's network namespace ----
 * Until networks attach endpoints, a container (network mode default,
 * bridge or none) gets a namespace of its own with lo up, made here and
 * bind-mounted at exec-root/netns/<12 hex>: the SandboxKey clients enter. */

char *berth_container_netns_path(struct berth_daemon *d, const struct berth_container *c)
{
        const char *mode = c->host_config ? berth_json_str(c->host_config, "NetworkMode") : NULL;

        if (mode && (!strcmp(mode, "host") || berth_str_has_prefix(mode, "container:")))
                return NULL;
        return xasprintf("%s/netns/%.12s", d->cfg.exec_root, c->id);
}

/* Pool thread: the calling thread enters a new netns for a moment and
 * always returns to its own. */
static int netns_create(const char *path, struct berth_err *err)
{
        _cleanup_close_ int orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *dir = xstrdup(path);
        int r = 0;

        if (orig < 0)
                return berth_err_set(err, errno, "open own netns: %s", strerror(errno));
        *strrchr(dir, '/') = '\0';
        (void)berth_mkdir_p(dir, 0700);
        fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0444);
        if (fd < 0)
                return berth_err_set(err, errno, "create '%s': %s", path, strerror(errno));
        if (unshare(CLONE_NEWNET) < 0)
                return berth_err_set(err, errno, "new network namespace: %s", strerror(errno));
        _cleanup_close_ int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
        if (sock < 0 || ioctl(sock, SIOCGIFFLAGS, &ifr) < 0 ||
            (ifr.ifr_flags |= IFF_UP, ioctl(sock, SIOCSIFFLAGS, &ifr) < 0))
                r = berth_err_set(err, errno, "bring lo up: %s", strerror(errno));
        if (r == 0 && mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL) < 0)
                r = berth_err_set(err, errno, "bind the netns at '%s': %s", path, strerror(errno));
        if (setns(orig, CLONE_NEWNET) < 0) {
                /* this thread cannot go home: never let it run other work */
                berth_bug("cannot return to the host network namespace: %s", strerror(errno));
                abort();
        }
        if (r < 0)
                (void)unlink(path);
        return r;
}

static void netns_release(const char *path)
{
        if (!path)
                return;
        (void)umount2(path, MNT_DETACH);
        (void)unlink(path);
}

/* a failed start: its netns and rootfs go; a new start waits for that */
struct undo_job {
        uv_work_t w;
        struct berth_daemon *d;
        struct berth_container *c;      /* ref */
        char *netns;
};

static void undo_fn(uv_work_t *w)
{
        struct undo_job *j = container_of(w, struct undo_job, w);

        netns_release(j->netns);
        (void)storage_rootfs_unmount(j->d->storage, j->c->id, NULL);
}

static void undo_done(uv_work_t *w, int status)
{
        struct undo_job *j = container_of(w, struct undo_job, w);

        (void)status;
        start_release(j->d, j->c);
        berth_container_unref(j->c);
        free(j->netns);
        free(j);
}

static void queue_start_undo(struct berth_daemon *d, struct berth_container *c)
{
        struct undo_job *j = xcalloc(1, sizeof(*j));

        j->d = d;
        j->c = berth_container_ref(c);
        j->netns = berth_container_netns_path(d, c);
        start_hold(c);
        if (uv_queue_work(d->loop, &j->w, undo_fn, undo_done) < 0) {
                undo_fn(&j->w);
                undo_done(&j->w, 0);
        }
}

/* ---- start ---- */

struct prep {
        uv_work_t w;
        struct berth_daemon *d;
        struct berth_container *c;
        struct berth_monitor *m;
        char *rootfs;
        char *bundle;
        char *netns;                    /* NULL: host or container: network mode */
        char *join_net, *join_ipc, *join_pid;   /* container:NAME modes: /proc/PID/ns/... */
        char *share_files;              /* NetworkMode container:NAME: its dir (hosts, resolv.conf) */
        struct berth_files *files;
        int rc;
        struct berth_err err;
};

/* -v NAME:/dst and --mount type=volume: the named volume, made on first
 * use as docker run does (pool thread) */
static int resolve_volume(void *ctx, const char *name, char **ret, struct berth_err *err)
{
        struct prep *p = ctx;
        struct storage_volume_opts o = { .name = name };
        cJSON *j = NULL;
        int r = storage_volume_create(p->d->storage, &o, &j, err);

        cJSON_Delete(j);
        if (r < 0)
                return r;
        return storage_volume_path(p->d->storage, name, ret, err);
}

/* pool: the rootfs and the network namespace */
static void prep_fn(uv_work_t *w)
{
        struct prep *p = container_of(w, struct prep, w);
        struct berth_container *c = p->c;

        unsigned flags = 0;

        if (c->host_config && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->host_config, "ReadonlyRootfs")))
                flags |= STORAGE_MOUNT_RO;
        if (c->host_config && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->host_config, "AutoRemove")))
                flags |= STORAGE_MOUNT_VOLATILE;
        p->rc = storage_rootfs_mount(p->d->storage, c->id, flags, &p->rootfs, &p->err);
        if (p->rc < 0 || !p->netns)
                return;
        netns_release(p->netns);        /* a stale one from a crash */
        p->rc = netns_create(p->netns, &p->err);
}

/* pool: /etc files and the bundle */
static void bundle_fn(uv_work_t *w)
{
        struct prep *p = container_of(w, struct prep, w);
        struct berth_container *c = p->c;
        _cleanup_free_ char *hostname = berth_container_file(c, "hostname");
        _cleanup_free_ char *hosts = p->share_files ? xasprintf("%s/hosts", p->share_files)
                                                    : berth_container_file(c, "hosts");
        _cleanup_free_ char *resolv = p->share_files ? xasprintf("%s/resolv.conf", p->share_files)
                                                     : berth_container_file(c, "resolv.conf");
        _cleanup_free_ char *cfg = NULL;
        cJSON *spec = NULL;

        p->rc = berth_sandbox_files_write(p->files, c->dir, &p->err);
        if (p->rc < 0)
                return;
        struct spec_input in = {
                .netns_path = p->join_net ? p->join_net : p->netns,
                .ipcns_path = p->join_ipc,
                .pidns_path = p->join_pid,
                .resolve_volume = resolve_volume,
                .resolve_ctx = p,
                .create_config = c->config,
                .host_config = c->host_config,
                .container_id = c->id,
                .rootfs = p->rootfs,
                .hostname_path = hostname,
                .hosts_path = hosts,
                .resolv_conf_path = resolv,
                .cgroup_version = p->d->sys.cgroup_version,
        };
        p->rc = spec_generate(&in, &spec, &p->err);
        if (p->rc < 0)
                return;
        p->rc = berth_mkdir_p(p->bundle, 0700);
        if (p->rc < 0) {
                cJSON_Delete(spec);
                berth_err_set(&p->err, -p->rc, "create bundle '%s': %s", p->bundle, strerror(-p->rc));
                return;
        }
        char *json = cJSON_PrintUnformatted(spec);
        cJSON_Delete(spec);
        cfg = xasprintf("%s/config.json", p->bundle);
        p->rc = berth_write_file_volatile(cfg, json, strlen(json), 0600, &p->err);
        free(json);
}

static const char *name_of_runtime(struct berth_daemon *d, const struct berth_container *c)
{
        const char *name = c->host_config ? berth_json_str(c->host_config, "Runtime") : NULL;

        return name && *name ? name : d->cfg.default_runtime;
}

static const char *runtime_for(struct berth_daemon *d, const struct berth_container *c)
{
        const char *name = name_of_runtime(d, c);
        if (!strcmp(name, "berth"))
                return d->runtime_exec ? d->runtime_exec : d->runtime_path;
        for (size_t i = 0; i < d->cfg.n_runtimes; i++)
                if (!strcmp(d->cfg.runtimes[i].name, name))
                        return d->cfg.runtimes[i].path;
        if (!strcmp(name, "runc"))
                return d->runc_path;
        return NULL;
}

static int spawn_monitor(struct prep *p, struct berth_err *err)
{
        struct berth_daemon *d = p->d;
        struct berth_container *c = p->c;
        struct berth_monitor *m = p->m;
        const char *rt = runtime_for(d, c);
        _cleanup_free_ char *monitor = berth_find_helper("berth-monitor");
        _cleanup_free_ char *log = xasprintf("%s/%s-json.log", c->dir, c->id);
        _cleanup_free_ char *rtroot = xasprintf("%s/runtime", d->cfg.exec_root);
        const char *args[32];
        size_t n = 0;
        bool tty = c->config && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->config, "Tty"));
        bool in = c->config && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->config, "OpenStdin"));
        bool once = c->config && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->config, "StdinOnce"));
        const cJSON *lc = c->host_config ? cJSON_GetObjectItemCaseSensitive(c->host_config, "LogConfig") : NULL;
        const cJSON *lopts = lc ? cJSON_GetObjectItemCaseSensitive(lc, "Config") : NULL;
        const char *max_size = berth_json_str(lopts, "max-size"), *max_file = berth_json_str(lopts, "max-file");
        int r;

        if (!monitor)
                return berth_err_set(err, ENOENT, "berth-monitor not found next to berthd or in %s", BERTH_LIBEXECDIR);
        if (!rt)
                return berth_err_pub(err, EINVAL, "the container's runtime is not available on this host");
        if (!max_size && d->cfg.log_opts)
                max_size = berth_json_str(d->cfg.log_opts, "max-size");
        if (!max_file && d->cfg.log_opts)
                max_file = berth_json_str(d->cfg.log_opts, "max-file");
        args[n++] = monitor;
        args[n++] = "--runtime";
        args[n++] = rt;
        args[n++] = "--runtime-arg=--root";
        _cleanup_free_ char *rootarg = xasprintf("--runtime-arg=%s", rtroot);
        args[n++] = rootarg;
        args[n++] = "--id";
        args[n++] = c->id;
        args[n++] = "--state-dir";
        args[n++] = m->dir;
        args[n++] = "--bundle";
        args[n++] = p->bundle;
        args[n++] = "--log-path";
        args[n++] = log;
        if (max_size) {
                args[n++] = "--log-max-size";
                args[n++] = max_size;
        }
        if (max_file) {
                args[n++] = "--log-max-file";
                args[n++] = max_file;
        }
        if (tty)
                args[n++] = "--tty";
        if (in)
                args[n++] = "--stdin";
        if (once)
                args[n++] = "--stdin-once";
        args[n++] = "--sync-fd";
        args[n++] = "3";
        /* our own runtime: the monitor starts the container through its
         * exec fifo itself, one exec of the runtime less on every start */
        _cleanup_free_ char *fifo = NULL;
        if (!strcmp(name_of_runtime(d, c), "berth")) {
                fifo = xasprintf("%s/%s/exec.fifo", rtroot, c->id);
                args[n++] = "--exec-fifo";
                args[n++] = fifo;
        }
        args[n] = NULL;

        int sync_sp[2] = { -1, -1 }, err_sp[2] = { -1, -1 };
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync_sp) < 0 ||
            socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, err_sp) < 0) {
                r = -errno;
                fd_drop(&sync_sp[0]);
                fd_drop(&sync_sp[1]);
                return berth_err_set(err, -r, "start berth-monitor: %s", strerror(-r));
        }
        uv_pipe_init(d->loop, &m->sync, 0);
        uv_pipe_init(d->loop, &m->errp, 0);
        uv_timer_init(d->loop, &m->attach_timer);
        m->sync.data = m->errp.data = m->attach_timer.data = m;
        m->sync_init = m->errp_init = m->timer_init = true;
        m->open_handles += 3;
        if (uv_pipe_open(&m->sync, sync_sp[0]) < 0)
                fd_drop(&sync_sp[0]);
        if (uv_pipe_open(&m->errp, err_sp[0]) < 0)
                fd_drop(&err_sp[0]);
        /* stdin and stdout /dev/null, stderr and the sync fd ours */
        const int fds[4] = { -1, -1, err_sp[1], sync_sp[1] };
        r = berth_child_spawn(d->loop, &m->launcher, monitor, args, fds, 4, on_launcher_exit, err);
        fd_drop(&err_sp[1]);
        fd_drop(&sync_sp[1]);
        if (r < 0) {
                monitor_close_handles(m);
                return r;
        }
        m->launcher.data = m->launcher.poll.data = m;
        m->proc_init = true;
        m->open_handles++;
        (void)uv_read_start((uv_stream_t *)&m->sync, on_sync_alloc, on_sync_read);
        (void)uv_read_start((uv_stream_t *)&m->errp, on_sync_alloc, on_err_read);
        return 0;
}

/* the prep's hold on its monitor goes too (the caller closes or keeps it) */
static void prep_free(struct prep *p)
{
        p->m->pending_work--;
        berth_sandbox_files_free(p->files);
        free(p->rootfs);
        free(p->bundle);
        free(p->netns);
        free(p->join_net);
        free(p->join_ipc);
        free(p->join_pid);
        free(p->share_files);
        free(p);
}

/* a failure before the monitor runs: the sandbox goes (teardown in
 * start_finish), then the netns */
static void prep_fail(struct prep *p, int rc, const struct berth_err *e)
{
        struct berth_monitor *m = p->m;

        m->failed = true;
        start_finish(m, rc < 0 ? rc : -EIO, e && e->msg[0] ? e->msg : "start failed");
        prep_free(p);
        monitor_close_handles(m);
}

static void bundle_done(uv_work_t *w, int status)
{
        struct prep *p = container_of(w, struct prep, w);
        struct berth_err err = BERTH_ERR_INIT;

        if (p->rc < 0) {
                prep_fail(p, p->rc, &p->err);
                return;
        }
        log_debug("container %.12s: bundle ready", p->c->id);
        if (status < 0 || spawn_monitor(p, &err) < 0) {
                prep_fail(p, -EIO, &err);
                return;
        }
        p->c->mon = p->m;
        prep_free(p);
}

static void sandbox_ready(int status, const struct berth_err *err, void *data)
{
        struct prep *p = data;

        if (status < 0) {
                prep_fail(p, status, err);
                return;
        }
        log_debug("container %.12s: networks ready", p->c->id);
        p->files = berth_sandbox_files(p->d, p->c);
        if (uv_queue_work(p->d->loop, &p->w, bundle_fn, bundle_done) < 0) {
                struct berth_err e = BERTH_ERR_INIT;
                berth_err_set(&e, EIO, "cannot queue the start");
                prep_fail(p, -EIO, &e);
        }
}

static void prep_done(uv_work_t *w, int status)
{
        struct prep *p = container_of(w, struct prep, w);
        struct berth_err err = BERTH_ERR_INIT;

        if (p->rc < 0) {
                prep_fail(p, p->rc, &p->err);
                return;
        }
        if (status < 0) {
                berth_err_set(&err, ECANCELED, "start cancelled");
                prep_fail(p, -ECANCELED, &err);
                return;
        }
        log_debug("container %.12s: rootfs and netns ready", p->c->id);
        if (berth_sandbox_setup(p->d, p->c, p->netns, sandbox_ready, p, &err) < 0)
                prep_fail(p, -err.code, &err);
}

/* NetworkMode, IpcMode, PidMode "container:NAME": the other container must
 * run; its namespaces are joined through /proc/PID/ns (its netns bind
 * mount when it has one), and it shares its /etc/hosts and resolv.conf */
static const char *mode_target(const struct berth_container *c, const char *key)
{
        const char *m = c->host_config ? berth_json_str(c->host_config, key) : NULL;

        return m && berth_str_has_prefix(m, "container:") ? m + strlen("container:") : NULL;
}

static int join_containers(struct berth_daemon *d, struct berth_container *c, struct prep *p, struct berth_err *err)
{
        static const char *const keys[] = { "NetworkMode", "IpcMode", "PidMode" };
        static const char *const types[] = { "net", "ipc", "pid" };
        char **slots[] = { &p->join_net, &p->join_ipc, &p->join_pid };

        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                const char *ref = mode_target(c, keys[i]);
                struct berth_container *o;
                if (!ref)
                        continue;
                o = berth_container_find(d, ref, err);
                if (!o)
                        return -err->code;
                if (o == c)
                        return berth_err_pub(err, EINVAL, "cannot join own namespaces");
                if ((o->state != CTR_RUNNING && o->state != CTR_PAUSED) || o->pid <= 0)
                        return berth_err_pub(err, EBUSY, "cannot join %s of a non running container: %s", types[i],
                                             o->name + 1);
                if (i == 0) {
                        char *own = berth_container_netns_path(d, o);
                        *slots[i] = own ? own : xasprintf("/proc/%d/ns/net", o->pid);
                        p->share_files = xstrdup(o->dir);
                } else {
                        *slots[i] = xasprintf("/proc/%d/ns/%s", o->pid, types[i]);
                }
        }
        return 0;
}

int berth_container_start(struct berth_daemon *d, struct berth_container *c, berth_done_cb cb, void *data,
                          struct berth_err *err)
{
        struct berth_monitor *m;
        struct prep *p;

        if (c->state == CTR_RUNNING || c->state == CTR_PAUSED || c->mon)
                return berth_err_pub(err, EALREADY, "container %s is already running", c->id);
        if (c->state == CTR_REMOVING || c->busy)
                return berth_err_pub(err, EBUSY, "container %s is being removed", c->id);
        if (!d->storage)
                return berth_err_set(err, EIO, "the image store is not available");
        if (c->start_holds > 0 || c->starting) {
                /* another start under way, or something of the last run
                 * still being undone */
                struct berth_pending_start *ps = xcalloc(1, sizeof(*ps)), **pp = &c->pending_starts;

                ps->cb = cb;
                ps->data = data;
                while (*pp)
                        pp = &(*pp)->next;
                *pp = ps;
                return 0;
        }
        m = xcalloc(1, sizeof(*m));
        m->d = d;
        m->next_live = d->monitors;
        d->monitors = m;
        m->c = berth_container_ref(c);
        m->pidfd = -1;
        m->spawn_status = -1;
        m->dir = xasprintf("%s/%.12s", d->cfg.exec_root, c->id);
        m->start_cb = cb;
        m->start_data = data;
        p = xcalloc(1, sizeof(*p));
        p->d = d;
        p->c = c;
        p->m = m;
        m->pending_work++;
        p->bundle = xasprintf("%s/bundle", m->dir);
        p->netns = berth_container_netns_path(d, c);
        if (join_containers(d, c, p, err) < 0 ||
            uv_queue_work(d->loop, &p->w, prep_fn, prep_done) < 0) {
                if (!err->msg[0])
                        berth_err_set(err, EIO, "cannot queue the start");
                prep_free(p);
                m->start_cb = NULL;
                monitor_close_handles(m);
                return -err->code;
        }
        c->starting = m;
        return 0;
}

/* ---- auto-remove ---- */

struct autorm {
        uv_work_t w;
        struct berth_daemon *d;
        struct berth_container *c;
};

static void autorm_fn(uv_work_t *w)
{
        struct autorm *a = container_of(w, struct autorm, w);

        (void)storage_rootfs_remove(a->d->storage, a->c->id, NULL);
        (void)storage_trash(a->d->storage, a->c->dir);
}

static void autorm_done(uv_work_t *w, int status)
{
        struct autorm *a = container_of(w, struct autorm, w);

        log_debug("container %.12s: removed", a->c->id);
        publish(a->d, a->c, "destroy", NULL);
        berth_container_unlink(a->d, a->c);
        wake_waiters(a->c, true, true);
        berth_container_unref(a->c);
        free(a);
}

void berth_container_auto_remove(struct berth_daemon *d, struct berth_container *c)
{
        struct autorm *a;

        if (c->busy)
                return;
        c->busy = true;
        c->state = CTR_REMOVING;
        a = xcalloc(1, sizeof(*a));
        a->d = d;
        a->c = berth_container_ref(c);
        if (uv_queue_work(d->loop, &a->w, autorm_fn, autorm_done) < 0) {
                c->busy = false;
                c->state = CTR_EXITED;
                berth_container_unref(c);
                free(a);
        }
}

/* ---- orphans ----
 * berthd is a child subreaper: a monitor whose launcher exited becomes our
 * child.  Watched monitors are reaped through their pidfd and launchers by
 * libuv; any other child that exited (a monitor that failed before it said
 * its pid) is reaped here, by pid, so libuv's own children are never taken. */

static bool is_known(struct berth_daemon *d, pid_t pid)
{
        for (struct berth_monitor *m = d->monitors; m; m = m->next_live)
                if ((m->proc_init && m->launcher.pid == pid) || (m->poll_init && m->pid == pid))
                        return true;
        return false;
}

/* A zombie in another session than ours: a monitor (its launcher calls
 * setsid), never one of libuv's children (uv_spawn keeps our session),
 * whose exit libuv must see itself. */
static bool is_orphaned_monitor(pid_t pid)
{
        char path[64], buf[512];
        _cleanup_close_ int fd = -1;
        ssize_t n;
        char state;
        long ppid, pgrp, session;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        const char *p = strrchr(buf, ')');
        if (!p || sscanf(p + 1, " %c %ld %ld %ld", &state, &ppid, &pgrp, &session) != 4)
                return false;
        return state == 'Z' && session != (long)getsid(0);
}

static void reap_children_of(struct berth_daemon *d, const char *path)
{
        char buf[4096];
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return;
        buf[n] = '\0';
        for (char *p = buf, *end; *p; p = end) {
                long pid = strtol(p, &end, 10);
                if (end == p)
                        break;
                siginfo_t si;
                memset(&si, 0, sizeof(si));
                if (pid > 0 && !is_known(d, (pid_t)pid) && is_orphaned_monitor((pid_t)pid))
                        (void)waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG);
        }
}

static void on_sigchld(uv_signal_t *h, int sig)
{
        struct berth_daemon *d = h->data;
        char path[300];
        DIR *dir = opendir("/proc/self/task");
        struct dirent *e;

        if (!dir)
                return;
        while ((e = readdir(dir))) {
                if (e->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/proc/self/task/%s/children", e->d_name);
                reap_children_of(d, path);
        }
        closedir(dir);
}

int berth_lifecycle_init(struct berth_daemon *d, uv_signal_t *sigchld)
{
        int r = uv_signal_init(d->loop, sigchld);

        if (r < 0)
                return r;
        sigchld->data = d;
        return uv_signal_start(sigchld, on_sigchld, SIGCHLD);
}

void berth_lifecycle_shutdown(struct berth_daemon *d)
{
        /* the monitors keep running (live restore); only our watches end */
        for (struct berth_monitor *m = d->monitors, *next; m; m = next) {
                next = m->next_live;
                if (m->c->mon == m)
                        m->c->mon = NULL;
                monitor_close_handles(m);
        }
}

/* ---- live restore ----
 * At startup every container the state files call running or paused gets
 * its monitor back: the pid in <monitor dir>/monitor.pid, checked to be a
 * berth-monitor for this container, watched through a pidfd.  A monitor
 * that is gone left exit.json: the container's real exit code and time. */

static bool monitor_alive(pid_t pid, const char *id)
{
        char path[64], buf[4096];
        _cleanup_close_ int fd = -1;
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        /* argv[0] ends in berth-monitor, and --id <id> is among the args */
        if (!strstr(buf, "berth-monitor"))
                return false;
        for (char *p = buf; p < buf + n; p += strlen(p) + 1)
                if (!strcmp(p, id))
                        return true;
        return false;
}

void berth_lifecycle_restore(struct berth_daemon *d)
{
        for (struct berth_container *c = berth_container_first(d); c; c = c->next) {
                if (c->state != CTR_RUNNING && c->state != CTR_PAUSED && c->state != CTR_RESTARTING)
                        continue;
                struct berth_monitor *m = xcalloc(1, sizeof(*m));
                m->d = d;
                m->next_live = d->monitors;
                d->monitors = m;
                m->c = berth_container_ref(c);
                m->pidfd = -1;
                m->spawn_status = 0;
                m->created = m->started = m->start_sent = true;
                m->dir = xasprintf("%s/%.12s", d->cfg.exec_root, c->id);
                c->mon = m;
                _cleanup_free_ char *pidpath = xasprintf("%s/%s", m->dir, MON_FILE_PID);
                _cleanup_free_ char *text = NULL;
                size_t len;
                int64_t pid = 0;
                if (berth_read_file(pidpath, 64, &text, &len, NULL) == 0) {
                        text[strcspn(text, "\n")] = '\0';
                        (void)berth_parse_int64(text, &pid);
                }
                if (pid > 0 && monitor_alive((pid_t)pid, c->id) && watch_pid(m, (pid_t)pid) == 0) {
                        log_info("container %.12s: monitor %lld found, still running", c->id, (long long)pid);
                        continue;
                }
                log_info("container %.12s: its monitor is gone; reading its exit status", c->id);
                monitor_gone(m);
        }
}

/* ---- running a short command (the runtime's pause/resume/ps, ps(1)) ---- */

struct cmd_run {
        uv_process_t proc;
        uv_pipe_t out;
        struct buf output;
        int open;
        int64_t status;
        berth_cmd_cb cb;
        void *data;
};

static void cmd_maybe_done(struct cmd_run *cr)
{
        if (cr->open > 0)
                return;
        if (cr->cb)
                cr->cb((int)cr->status, buf_cstr(&cr->output), cr->data);
        buf_release(&cr->output);
        free(cr);
}

static void cmd_closed(uv_handle_t *h)
{
        struct cmd_run *cr = h->data;

        cr->open--;
        cmd_maybe_done(cr);
}

static void cmd_exit(uv_process_t *p, int64_t status, int sig)
{
        struct cmd_run *cr = p->data;

        cr->status = sig ? 128 + sig : status;
        uv_close((uv_handle_t *)p, cmd_closed);
}

static void cmd_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
        b->base = xmalloc(16384);
        b->len = 16384;
}

static void cmd_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
        struct cmd_run *cr = s->data;

        if (n > 0 && cr->output.len < (4u << 20))
                buf_add(&cr->output, b->base, (size_t)n);
        free(b->base);
        if (n < 0)
                uv_close((uv_handle_t *)s, cmd_closed);
}

int berth_run_command(struct berth_daemon *d, const char *const *argv, berth_cmd_cb cb, void *data,
                      struct berth_err *err)
{
        struct cmd_run *cr = xcalloc(1, sizeof(*cr));
        uv_stdio_container_t stdio[3];
        uv_process_options_t o;
        int r;

        cr->cb = cb;
        cr->data = data;
        uv_pipe_init(d->loop, &cr->out, 0);
        cr->out.data = cr->proc.data = cr;
        memset(stdio, 0, sizeof(stdio));
        stdio[0].flags = UV_IGNORE;
        stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
        stdio[1].data.stream = (uv_stream_t *)&cr->out;
        memset(&o, 0, sizeof(o));
        o.file = argv[0];
        o.args = (char **)argv;
        o.exit_cb = cmd_exit;
        o.stdio = stdio;
        o.stdio_count = 2;
        r = uv_spawn(d->loop, &cr->proc, &o);
        if (r < 0) {
                /* cb is not called: the pipe's close frees cr quietly */
                cr->open = 1;
                cr->cb = NULL;
                uv_close((uv_handle_t *)&cr->out, cmd_closed);
                return berth_err_set(err, -r, "run %s: %s", argv[0], uv_strerror(r));
        }
        cr->open = 2;
        (void)uv_read_start((uv_stream_t *)&cr->out, cmd_alloc, cmd_read);
        return 0;
}

/* The runtime binary and its state root for a container. */
int berth_container_runtime_argv(struct berth_daemon *d, const struct berth_container *c, const char **ret_path,
                                 char **ret_root)
{
        const char *rt = runtime_for(d, c);

        if (!rt)
                return -ENOENT;
        *ret_path = rt;
        *ret_root = xasprintf("%s/runtime", d->cfg.exec_root);
        return 0;
}
