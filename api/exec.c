/* SPDX-License-Identifier: Apache-2.0
 * api/exec.c -- docker exec: POST /containers/{name}/exec, POST
 * /exec/{id}/start (hijacked or detached), GET /exec/{id}/json, POST
 * /exec/{id}/resize.  Each exec runs under its own berth-monitor in exec
 * mode (runtime/monitor.h): the process is the container's, from its
 * bundle, with the exec's args, env, cwd, user and terminal.
 */
#include "config.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>

#include "api/api-internal.h"
#include "runtime/monitor.h"
#include "runtime/spec.h"

struct api_exec {
        struct api_exec *next;
        struct berth_daemon *d;
        char id[65];
        struct berth_container *c;      /* ref */
        cJSON *cfg;                     /* the exec create body */
        bool tty, in, out, err;
        bool running, started, finished, detach;
        int exit_code, pid;
        char *dir;                      /* monitor state dir */
        char *error;
        /* the monitor launch */
        struct berth_child launcher;    /* berth-monitor as berthd started it */
        uv_pipe_t sync, mon;
        uv_connect_t conn;
        struct buf sync_buf, stdin_early;
        int handles;
        bool proc_init, sync_init, mon_init, mon_up, client_eof;
        struct api_req *r;              /* the start request (hijacked) */
        int refs;
};

static struct api_exec *exec_ref(struct api_exec *e)
{
        e->refs++;
        return e;
}

static void exec_unref(struct api_exec *e)
{
        if (--e->refs > 0)
                return;
        for (struct api_exec **pp = &e->d->execs; *pp; pp = &(*pp)->next)
                if (*pp == e) {
                        *pp = e->next;
                        break;
                }
        berth_container_unref(e->c);
        cJSON_Delete(e->cfg);
        buf_release(&e->sync_buf);
        buf_release(&e->stdin_early);
        free(e->dir);
        free(e->error);
        free(e);
}

static struct api_exec *exec_find(struct berth_daemon *d, const char *id)
{
        for (struct api_exec *e = d->execs; e; e = e->next)
                if (!strcmp(e->id, id))
                        return e;
        return NULL;
}

/* ---- create ---- */

static void h_exec_create(struct api_req *r)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct berth_container *c = berth_container_find(r->d, api_param(r, 0), &err);
        cJSON *body = NULL;
        int rc;

        if (!c) {
                api_reply_error(r, -err.code, &err);
                return;
        }
        rc = api_body_json(r, false, &body, &err);
        if (rc < 0) {
                api_reply_error(r, rc, &err);
                return;
        }
        const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(body, "Cmd");
        if (!cJSON_IsArray(cmd) || cJSON_GetArraySize(cmd) == 0) {
                cJSON_Delete(body);
                api_reply_msg(r, 400, "No exec command specified");
                return;
        }
        if (c->state != CTR_RUNNING || !berth_container_monitor_dir(c)) {
                cJSON_Delete(body);
                api_reply_msg(r, 409, c->state == CTR_PAUSED ? "Container %s is paused, unpause the container before exec"
                                                             : "Container %s is not running", c->id);
                return;
        }
        struct api_exec *e = xcalloc(1, sizeof(*e));
        e->refs = 1;    /* the table's */
        e->d = r->d;
        if (berth_random_hex(e->id, 32) < 0) {
                free(e);
                cJSON_Delete(body);
                api_reply_msg(r, 500, "no randomness for an exec ID");
                return;
        }
        e->c = berth_container_ref(c);
        e->cfg = body;
        e->tty = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "Tty"));
        e->in = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "AttachStdin"));
        e->out = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "AttachStdout"));
        e->err = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "AttachStderr"));
        e->next = r->d->execs;
        r->d->execs = e;
        berth_events_publish(r->d->events, "container", "exec_create", c->id, NULL);
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "Id", e->id);
        api_reply_json(r, 201, j);
}

/* ---- inspect ---- */

static void h_exec_inspect(struct api_req *r)
{
        struct api_exec *e = exec_find(r->d, api_param(r, 0));
        cJSON *j, *pc;
        const cJSON *cmd, *a;

        if (!e) {
                api_reply_msg(r, 404, "No such exec instance: %s", api_param(r, 0));
                return;
        }
        j = cJSON_CreateObject();
        cJSON_AddBoolToObject(j, "CanRemove", false);
        cJSON_AddStringToObject(j, "ContainerID", e->c->id);
        cJSON_AddStringToObject(j, "DetachKeys", "");
        if (e->finished)
                cJSON_AddNumberToObject(j, "ExitCode", e->exit_code);
        else
                cJSON_AddNullToObject(j, "ExitCode");
        cJSON_AddStringToObject(j, "ID", e->id);
        cJSON_AddBoolToObject(j, "OpenStderr", e->err);
        cJSON_AddBoolToObject(j, "OpenStdin", e->in);
        cJSON_AddBoolToObject(j, "OpenStdout", e->out);
        pc = cJSON_AddObjectToObject(j, "ProcessConfig");
        cmd = cJSON_GetObjectItemCaseSensitive(e->cfg, "Cmd");
        cJSON *args = cJSON_CreateArray();
        int i = 0;
        cJSON_ArrayForEach(a, cmd) {
                if (i++ == 0)
                        cJSON_AddStringToObject(pc, "entrypoint", cJSON_IsString(a) ? a->valuestring : "");
                else if (cJSON_IsString(a))
                        cJSON_AddItemToArray(args, cJSON_CreateString(a->valuestring));
        }
        cJSON_AddItemToObject(pc, "arguments", args);
        cJSON_AddBoolToObject(pc, "privileged", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e->cfg, "Privileged")));
        cJSON_AddBoolToObject(pc, "tty", e->tty);
        const char *user = berth_json_str(e->cfg, "User");
        cJSON_AddStringToObject(pc, "user", user ? user : "");
        cJSON_AddBoolToObject(j, "Running", e->running);
        cJSON_AddNumberToObject(j, "Pid", e->pid);
        api_reply_json(r, 200, j);
}

/* ---- the process.json: the container's process with the exec's changes ---- */

struct prep {
        uv_work_t w;
        struct api_exec *e;
        char *bundle_cfg;
        char *bundle_dir;
        cJSON *group_add;               /* HostConfig.GroupAdd, copied on the loop thread */
        char *process_path;
        int rc;
        struct berth_err err;
};

static void prep_free(struct prep *p)
{
        free(p->bundle_cfg);
        free(p->bundle_dir);
        cJSON_Delete(p->group_add);
        free(p->process_path);
        free(p);
}

static void prep_fn(uv_work_t *w)
{
        struct prep *p = container_of(w, struct prep, w);
        struct api_exec *e = p->e;
        char *text = NULL;
        size_t len;
        cJSON *spec = NULL, *proc;
        const cJSON *v, *x;

        p->rc = berth_read_file(p->bundle_cfg, 4 << 20, &text, &len, &p->err);
        if (p->rc == 0)
                p->rc = berth_json_parse(text, len, &spec, &p->err);
        free(text);
        if (p->rc < 0)
                return;
        /* spec stays for its root.path until the user is resolved */
        proc = cJSON_DetachItemFromObjectCaseSensitive(spec, "process");
        if (!proc) {
                cJSON_Delete(spec);
                p->rc = berth_err_set(&p->err, EINVAL, "the container's bundle has no process");
                return;
        }
        cJSON *args = cJSON_CreateArray();
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(e->cfg, "Cmd")) if (cJSON_IsString(x))
                cJSON_AddItemToArray(args, cJSON_CreateString(x->valuestring));
        cJSON_ReplaceItemInObjectCaseSensitive(proc, "args", args);
        cJSON_DeleteItemFromObjectCaseSensitive(proc, "terminal");
        cJSON_AddBoolToObject(proc, "terminal", e->tty);
        /* env: the container's, then the exec's (same key wins) */
        cJSON *env = cJSON_GetObjectItemCaseSensitive(proc, "env");
        if (!cJSON_IsArray(env)) {
                cJSON_DeleteItemFromObjectCaseSensitive(proc, "env");
                env = cJSON_AddArrayToObject(proc, "env");
        }
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(e->cfg, "Env")) {
                if (!cJSON_IsString(x))
                        continue;
                size_t k = strcspn(x->valuestring, "=");
                for (int i = cJSON_GetArraySize(env) - 1; i >= 0; i--) {
                        const cJSON *old = cJSON_GetArrayItem(env, i);
                        if (cJSON_IsString(old) && !strncmp(old->valuestring, x->valuestring, k) &&
                            old->valuestring[k] == '=')
                                cJSON_DeleteItemFromArray(env, i);
                }
                cJSON_AddItemToArray(env, cJSON_CreateString(x->valuestring));
        }
        if ((v = cJSON_GetObjectItemCaseSensitive(e->cfg, "WorkingDir")) && cJSON_IsString(v) && *v->valuestring) {
                cJSON_DeleteItemFromObjectCaseSensitive(proc, "cwd");
                cJSON_AddStringToObject(proc, "cwd", v->valuestring);
        }
        const char *user = berth_json_str(e->cfg, "User");
        if (user && *user) {
                /* uid, uid:gid, name, name:group: resolved as at create,
                 * against the container's /etc/passwd and /etc/group, every
                 * path component kept inside its rootfs */
                struct spec_user u = { 0 };
                const char *root = berth_json_str(cJSON_GetObjectItemCaseSensitive(spec, "root"), "path");
                _cleanup_free_ char *rootfs = NULL;
                if (!root || !*root) {
                        cJSON_Delete(spec);
                        cJSON_Delete(proc);
                        p->rc = berth_err_set(&p->err, EINVAL, "the container's bundle has no root path");
                        return;
                }
                rootfs = root[0] == '/' ? xstrdup(root) : xasprintf("%s/%s", p->bundle_dir, root);
                p->rc = spec_user_resolve(rootfs, user, p->group_add, &u, &p->err);
                if (p->rc < 0) {
                        cJSON_Delete(spec);
                        cJSON_Delete(proc);
                        return;
                }
                cJSON *uo = cJSON_CreateObject();
                cJSON_AddNumberToObject(uo, "uid", u.uid);
                cJSON_AddNumberToObject(uo, "gid", u.gid);
                cJSON *gids = cJSON_AddArrayToObject(uo, "additionalGids");
                cJSON_AddItemToArray(gids, cJSON_CreateNumber(u.gid));
                for (size_t i = 0; i < u.n_gids; i++)
                        cJSON_AddItemToArray(gids, cJSON_CreateNumber(u.gids[i]));
                const cJSON *old = cJSON_GetObjectItemCaseSensitive(proc, "user");
                const cJSON *um = old ? cJSON_GetObjectItemCaseSensitive(old, "umask") : NULL;
                /* always set: berth-runtime checks a missing umask against
                 * the gid it read before (runtime/rt-config.c) */
                cJSON_AddNumberToObject(uo, "umask", cJSON_IsNumber(um) ? um->valuedouble : 022);
                if (old)
                        cJSON_ReplaceItemInObjectCaseSensitive(proc, "user", uo);
                else
                        cJSON_AddItemToObject(proc, "user", uo);
                spec_user_release(&u);
        }
        cJSON_Delete(spec);
        const cJSON *cs = cJSON_GetObjectItemCaseSensitive(e->cfg, "ConsoleSize");
        if (e->tty && cJSON_GetArraySize(cs) == 2) {
                cJSON *sz = cJSON_CreateObject();
                cJSON_AddNumberToObject(sz, "height", cJSON_GetArrayItem(cs, 0)->valuedouble);
                cJSON_AddNumberToObject(sz, "width", cJSON_GetArrayItem(cs, 1)->valuedouble);
                cJSON_DeleteItemFromObjectCaseSensitive(proc, "consoleSize");
                cJSON_AddItemToObject(proc, "consoleSize", sz);
        }
        p->rc = berth_mkdir_p(e->dir, 0700);
        if (p->rc < 0) {
                cJSON_Delete(proc);
                berth_err_set(&p->err, -p->rc, "create '%s': %s", e->dir, strerror(-p->rc));
                return;
        }
        char *json = cJSON_PrintUnformatted(proc);
        cJSON_Delete(proc);
        p->rc = berth_write_file_volatile(p->process_path, json, strlen(json), 0600, &p->err);
        free(json);
}

/* ---- the monitor in exec mode ---- */

static void on_handle_close(uv_handle_t *h)
{
        struct api_exec *e = h->data;

        e->handles--;
        exec_unref(e);
}

static void close_handle(struct api_exec *e, uv_handle_t *h, bool *init)
{
        if (*init && !uv_is_closing(h)) {
                *init = false;
                uv_close(h, on_handle_close);
        }
}

static void exec_end_stream(struct api_exec *e)
{
        struct api_req *r = e->r;

        close_handle(e, (uv_handle_t *)&e->mon, &e->mon_init);
        if (r) {
                e->r = NULL;
                if (!r->done && r->hijacked)
                        api_hijack_close(r);
                else if (!r->done && !r->cancelled)
                        api_reply_msg(r, 500, "exec %s could not be started", e->id);   /* detached */
                api_req_unref(r);
        }
}

static void exec_finished(struct api_exec *e, const cJSON *ev)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, "exit_code");

        if (e->finished)
                return;
        e->finished = true;
        e->running = false;
        e->exit_code = cJSON_IsNumber(v) && v->valueint >= 0 ? v->valueint : 126;
        cJSON *attrs = cJSON_CreateObject();
        char code[16];
        snprintf(code, sizeof(code), "%d", e->exit_code);
        cJSON_AddStringToObject(attrs, "exitCode", code);
        cJSON_AddStringToObject(attrs, "execID", e->id);
        berth_events_publish(e->d->events, "container", "exec_die", e->c->id, attrs);
}

static void send_frame(struct api_exec *e, unsigned char type, const void *p, uint32_t n);

static void on_sync_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
        b->base = xmalloc(4096);
        b->len = 4096;
}

static void exec_connect(struct api_exec *e);

static void on_sync_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
        struct api_exec *e = s->data;
        char *nl;

        if (n > 0 && e->sync_buf.len < (1 << 20))
                buf_add(&e->sync_buf, b->base, (size_t)n);
        free(b->base);
        while (e->sync_buf.len && (nl = memchr(e->sync_buf.data, '\n', e->sync_buf.len))) {
                size_t len = (size_t)(nl - e->sync_buf.data);
                cJSON *ev = NULL;
                if (berth_json_parse(e->sync_buf.data, len, &ev, NULL) == 0) {
                        const char *type = berth_json_str(ev, "event");
                        if (type && !strcmp(type, "ready")) {
                                exec_connect(e);
                        } else if (type && !strcmp(type, "started")) {
                                const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, "pid");
                                e->started = e->running = true;
                                e->pid = cJSON_IsNumber(v) ? v->valueint : 0;
                                berth_events_publish(e->d->events, "container", "exec_start", e->c->id, NULL);
                        } else if (type && !strcmp(type, "error")) {
                                const char *msg = berth_json_str(ev, "message");
                                free(e->error);
                                e->error = xstrdup(msg ? msg : "exec failed");
                                /* Docker: the error goes to the client's stream, the code is 126/127 */
                                cJSON *ex = cJSON_CreateObject();
                                cJSON_AddNumberToObject(ex, "exit_code",
                                                        msg && (strstr(msg, "not found") || strstr(msg, "no such file")) ? 127 : 126);
                                exec_finished(e, ex);
                                cJSON_Delete(ex);
                                if (e->r && !e->r->done) {
                                        struct buf f = BUF_INIT;
                                        char *line = xasprintf("OCI runtime exec failed: %s\r\n", e->error);
                                        if (e->tty)
                                                buf_adds(&f, line);
                                        else
                                                api_frame_append(&f, API_STDOUT, line, strlen(line));
                                        api_hijack_write(e->r, f.data, f.len);
                                        buf_release(&f);
                                        free(line);
                                }
                                exec_end_stream(e);
                        } else if (type && !strcmp(type, "exited")) {
                                exec_finished(e, ev);
                        }
                }
                cJSON_Delete(ev);
                buf_consume(&e->sync_buf, len + 1);
        }
        if (n < 0) {
                /* the monitor is gone: nothing more comes */
                if (!e->finished) {
                        cJSON *ex = cJSON_CreateObject();
                        cJSON_AddNumberToObject(ex, "exit_code", 126);
                        exec_finished(e, ex);
                        cJSON_Delete(ex);
                }
                close_handle(e, (uv_handle_t *)&e->sync, &e->sync_init);
                if (!e->mon_up)
                        exec_end_stream(e);
        }
}

struct mwrite {
        uv_write_t w;
        struct api_exec *e;
        char data[];
};

static void on_mwrite(uv_write_t *w, int status)
{
        struct mwrite *mw = container_of(w, struct mwrite, w);

        exec_unref(mw->e);
        free(mw);
}

static void mon_write(struct api_exec *e, const void *p, size_t n)
{
        struct mwrite *mw;
        uv_buf_t b;

        if (!e->mon_up || !e->mon_init)
                return;
        mw = xmalloc(sizeof(*mw) + n);
        mw->e = exec_ref(e);
        memcpy(mw->data, p, n);
        b = uv_buf_init(mw->data, (unsigned)n);
        if (uv_write(&mw->w, (uv_stream_t *)&e->mon, &b, 1, on_mwrite) < 0) {
                exec_unref(e);
                free(mw);
        }
}

static void send_frame(struct api_exec *e, unsigned char type, const void *p, uint32_t n)
{
        unsigned char hdr[MON_FRAME_HDR] = { type, 0, 0, 0, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
                                             (unsigned char)(n >> 8), (unsigned char)n };
        struct buf b = BUF_INIT;

        buf_add(&b, hdr, sizeof(hdr));
        if (n)
                buf_add(&b, p, n);
        mon_write(e, b.data, b.len);
        buf_release(&b);
}

static void on_mon_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
        b->base = xmalloc(65536);
        b->len = 65536;
}

static void on_mon_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
        struct api_exec *e = s->data;

        if (n > 0 && e->r && !e->r->done)
                api_hijack_write(e->r, b->base, (size_t)n);
        free(b->base);
        if (n < 0) {
                /* EOF: exit.json is final; the exited event came before it */
                e->mon_up = false;
                exec_end_stream(e);
        }
}

static void send_stdin(struct api_exec *e, const char *p, size_t n)
{
        while (n > 0) {
                uint32_t k = n > 65536 ? 65536 : (uint32_t)n;
                send_frame(e, MON_FRAME_STDIN, p, k);
                p += k;
                n -= k;
        }
}

static void mon_stdin_eof(struct api_exec *e)
{
        if (e->mon_up)
                send_frame(e, MON_FRAME_STDIN_EOF, NULL, 0);
}

static void on_connect(uv_connect_t *cr, int status)
{
        struct api_exec *e = cr->data;
        unsigned char flags;

        if (status < 0) {
                exec_end_stream(e);
                exec_unref(e);
                return;
        }
        e->mon_up = true;
        /* stdin goes in STDIN frames on this one connection, so the START
         * frame after the ATTACH is not taken for input */
        flags = (e->out ? MON_ATTACH_STDOUT : 0) | (e->err ? MON_ATTACH_STDERR : 0) |
                (e->in ? MON_ATTACH_STDIN : 0) | (e->tty ? MON_ATTACH_RAW_OUT : 0);
        send_frame(e, MON_FRAME_ATTACH, &flags, 1);
        send_frame(e, MON_FRAME_START, NULL, 0);
        if (e->stdin_early.len)
                send_stdin(e, e->stdin_early.data, e->stdin_early.len);
        buf_release(&e->stdin_early);
        if (e->client_eof || !e->in)
                mon_stdin_eof(e);
        (void)uv_read_start((uv_stream_t *)&e->mon, on_mon_alloc, on_mon_read);
        exec_unref(e);
}

static void exec_connect(struct api_exec *e)
{
        char *path;

        if (e->mon_init)
                return;
        path = xasprintf("%s/%s", e->dir, MON_FILE_SOCK);
        uv_pipe_init(e->d->loop, &e->mon, 0);
        e->mon.data = e;
        e->mon_init = true;
        e->handles++;
        exec_ref(e);            /* the handle */
        e->conn.data = exec_ref(e);
        uv_pipe_connect(&e->conn, &e->mon, path, on_connect);
        free(path);
}

static void close_launcher(struct api_exec *e)
{
        if (e->proc_init && !uv_is_closing((uv_handle_t *)&e->launcher.poll)) {
                e->proc_init = false;
                berth_child_close(&e->launcher, on_handle_close);
        }
}

static void on_launcher_exit(struct berth_child *ch, int64_t status, int sig)
{
        (void)status;
        (void)sig;
        close_launcher(ch->data);
}

static int exec_spawn(struct api_exec *e, const char *process_path, struct berth_err *err)
{
        struct berth_daemon *d = e->d;
        _cleanup_free_ char *monitor = berth_find_helper("berth-monitor");
        _cleanup_free_ char *root = NULL, *rootarg = NULL;
        const char *rt = NULL;
        const char *args[24];
        size_t n = 0;
        int r;

        /* the same runtime and state root the container was started with */
        if (!monitor || berth_container_runtime_argv(d, e->c, &rt, &root) < 0)
                return berth_err_set(err, ENOENT, "berth-monitor or the container's runtime is missing");
        rootarg = xasprintf("--runtime-arg=%s", root);
        args[n++] = monitor;
        args[n++] = "--runtime";
        args[n++] = rt;
        args[n++] = "--runtime-arg=--root";
        args[n++] = rootarg;
        args[n++] = "--id";
        args[n++] = e->c->id;
        args[n++] = "--state-dir";
        args[n++] = e->dir;
        args[n++] = "--exec";
        args[n++] = process_path;
        if (e->tty)
                args[n++] = "--tty";
        if (e->in) {
                args[n++] = "--stdin";
                args[n++] = "--stdin-once";
        }
        args[n++] = "--sync-fd";
        args[n++] = "3";
        args[n] = NULL;
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                return berth_err_set(err, errno, "start berth-monitor: %s", strerror(errno));
        uv_pipe_init(d->loop, &e->sync, 0);
        e->sync.data = e;
        e->sync_init = true;
        e->handles++;
        exec_ref(e);
        if (uv_pipe_open(&e->sync, sp[0]) < 0)
                close(sp[0]);
        /* stdio /dev/null, the sync fd ours */
        const int fds[4] = { -1, -1, -1, sp[1] };
        r = berth_child_spawn(d->loop, &e->launcher, monitor, args, fds, 4, on_launcher_exit, err);
        close(sp[1]);
        if (r < 0) {
                close_handle(e, (uv_handle_t *)&e->sync, &e->sync_init);
                return r;
        }
        e->launcher.data = e->launcher.poll.data = e;
        e->proc_init = true;
        e->handles++;
        exec_ref(e);
        (void)uv_read_start((uv_stream_t *)&e->sync, on_sync_alloc, on_sync_read);
        return 0;
}

static void prep_done(uv_work_t *w, int status)
{
        struct prep *p = container_of(w, struct prep, w);
        struct api_exec *e = p->e;
        struct berth_err err = BERTH_ERR_INIT;

        if (p->rc < 0 || exec_spawn(e, p->process_path, &err) < 0) {
                const struct berth_err *why = p->rc < 0 ? &p->err : &err;
                cJSON *ex = cJSON_CreateObject();
                cJSON_AddNumberToObject(ex, "exit_code", 126);
                free(e->error);
                e->error = xstrdup(why->msg);
                exec_finished(e, ex);
                cJSON_Delete(ex);
                struct api_req *r = e->r;
                if (r && !r->done && !r->hijacked) {
                        api_reply_error(r, -why->code, why);
                        e->r = NULL;
                        api_req_unref(r);
                } else {
                        /* Docker writes the error into the stream (as
                         * stdout) and the exit code is 126 */
                        if (r && !r->done && why->msg[0]) {
                                struct buf f = BUF_INIT;
                                char *line = xasprintf("%s\r\n", why->msg);
                                if (e->tty)
                                        buf_adds(&f, line);
                                else
                                        api_frame_append(&f, API_STDOUT, line, strlen(line));
                                api_hijack_write(r, f.data, f.len);
                                buf_release(&f);
                                free(line);
                        }
                        exec_end_stream(e);
                }
        } else if (e->r && e->detach) {
                /* detached: the answer once the process is on its way */
                struct api_req *r = e->r;
                e->r = NULL;
                if (!r->cancelled && !r->done)
                        api_reply_status(r, 200);
                api_req_unref(r);
        }
        prep_free(p);
        exec_unref(e);
}

/* hijacked client side */
static void hj_data(struct api_req *r, const char *p, size_t n, void *data)
{
        struct api_exec *e = data;

        if (!e->in)
                return;
        if (e->mon_up)
                send_stdin(e, p, n);
        else if (e->stdin_early.len < (1 << 20))
                buf_add(&e->stdin_early, p, n);
}

static void hj_eof(struct api_req *r, void *data)
{
        struct api_exec *e = data;

        e->client_eof = true;
        if (e->in)
                mon_stdin_eof(e);
}

static void hj_close(struct api_req *r, void *data)
{
        struct api_exec *e = data;

        if (e->r == r) {
                e->r = NULL;
                api_req_unref(r);
        }
        close_handle(e, (uv_handle_t *)&e->mon, &e->mon_init);
        exec_unref(e);  /* the hijack's */
}

static const struct api_hijack_ops exec_ops = { hj_data, hj_eof, hj_close };

static void h_exec_start(struct api_req *r)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct api_exec *e = exec_find(r->d, api_param(r, 0));
        cJSON *body = NULL;
        bool detach;

        if (!e) {
                api_reply_msg(r, 404, "No such exec instance: %s", api_param(r, 0));
                return;
        }
        if (api_body_json(r, true, &body, &err) < 0) {
                api_reply_error(r, -err.code, &err);
                return;
        }
        detach = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "Detach"));
        cJSON_Delete(body);
        if (e->started || e->dir) {
                api_reply_msg(r, 409, "Exec %s has already been started", e->id);
                return;
        }
        const char *cdir = berth_container_monitor_dir(e->c);
        if (!cdir || e->c->state != CTR_RUNNING) {
                api_reply_msg(r, 409, "Container %s is not running", e->c->id);
                return;
        }
        e->dir = xasprintf("%s/x%.12s", cdir, e->id);
        struct prep *p = xcalloc(1, sizeof(*p));
        p->e = exec_ref(e);
        p->bundle_cfg = xasprintf("%s/bundle/config.json", cdir);
        p->bundle_dir = xasprintf("%s/bundle", cdir);
        if (e->c->host_config)
                p->group_add = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(e->c->host_config, "GroupAdd"), true);
        p->process_path = xasprintf("%s/process.json", e->dir);
        if (detach) {
                e->out = e->err = e->in = false;
                e->detach = true;
                e->r = r;
                api_req_ref(r);
                api_req_defer(r);
        } else {
                e->r = r;
                api_req_ref(r);
                exec_ref(e);    /* the hijack's */
                api_hijack(r, !e->tty && r->api_minor >= 42 ? "application/vnd.docker.multiplexed-stream"
                                                           : "application/vnd.docker.raw-stream",
                           &exec_ops, e);
        }
        if (uv_queue_work(r->d->loop, &p->w, prep_fn, prep_done) < 0) {
                prep_free(p);
                exec_unref(e);
                exec_end_stream(e);
        }
}

static void h_exec_resize(struct api_req *r)
{
        struct api_exec *e = exec_find(r->d, api_param(r, 0));
        int64_t h = 0, w = 0;
        const char *hs = api_query(r, "h"), *ws = api_query(r, "w");

        if (!e) {
                api_reply_msg(r, 404, "No such exec instance: %s", api_param(r, 0));
                return;
        }
        if (!hs || !ws || berth_parse_int64(hs, &h) < 0 || berth_parse_int64(ws, &w) < 0 || h < 0 || w < 0 ||
            h > 65535 || w > 65535) {
                api_reply_msg(r, 400, "invalid resize: h and w must be numbers from 0 to 65535");
                return;
        }
        if (!e->running || !e->mon_up) {
                api_reply_msg(r, 500, "cannot resize a stopped container: unknown");
                return;
        }
        unsigned char sz[4] = { (unsigned char)(h >> 8), (unsigned char)h, (unsigned char)(w >> 8), (unsigned char)w };
        send_frame(e, MON_FRAME_RESIZE, sz, 4);
        api_reply_status(r, 200);
}

const struct api_route api_exec_routes[] = {
        { "POST", "/containers/{name}/exec", h_exec_create, 0 },
        { "POST", "/exec/{id}/start", h_exec_start, 0 },
        { "GET", "/exec/{id}/json", h_exec_inspect, 0 },
        { "POST", "/exec/{id}/resize", h_exec_resize, 0 },
};
const size_t api_n_exec_routes = ARRAY_SIZE(api_exec_routes);

void api_exec_shutdown(struct berth_daemon *d)
{
        /* the exec processes keep running; berthd stops watching them */
        for (struct api_exec *e = d->execs, *next; e; e = next) {
                next = e->next;
                exec_ref(e);
                close_handle(e, (uv_handle_t *)&e->sync, &e->sync_init);
                close_handle(e, (uv_handle_t *)&e->mon, &e->mon_init);
                close_launcher(e);
                exec_unref(e);
        }
}
