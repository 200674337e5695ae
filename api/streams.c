/* SPDX-License-Identifier: Apache-2.0
 * api/streams.c -- the container endpoints that move a process's streams or
 * wait on it: start, wait, attach (hijacked, relayed to the container's
 * berth-monitor), kill, stop, restart, logs (the json-file log and its
 * rotated files, with follow across rotations).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/api-internal.h"
#include "runtime/monitor.h"

static bool running(const struct berth_container *c)
{
        return c->state == CTR_RUNNING || c->state == CTR_PAUSED || c->state == CTR_RESTARTING;
}

/* ---- signals ---- */

static const struct {
        const char *name;
        int sig;
} signals[] = {
        { "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL }, { "TRAP", SIGTRAP },
        { "ABRT", SIGABRT }, { "IOT", SIGIOT }, { "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
        { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },
        { "TERM", SIGTERM }, { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
        { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU }, { "URG", SIGURG }, { "XCPU", SIGXCPU },
        { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
        { "PWR", SIGPWR }, { "SYS", SIGSYS },
};

/* "SIGTERM", "TERM", "15", "RTMIN+3" -> number; -EINVAL otherwise */
int api_parse_signal(const char *s)
{
        int64_t n;

        if (!s || !*s)
                return -EINVAL;
        if (berth_parse_int64(s, &n) == 0)
                return n > 0 && n <= 64 ? (int)n : -EINVAL;
        if (!strncasecmp(s, "SIG", 3))
                s += 3;
        for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
                if (!strcasecmp(s, signals[i].name))
                        return signals[i].sig;
        if (!strncasecmp(s, "RTMIN+", 6) && berth_parse_int64(s + 6, &n) == 0 && n >= 0 && SIGRTMIN + n <= SIGRTMAX)
                return SIGRTMIN + (int)n;
        return -EINVAL;
}

/* ---- start ---- */

struct starting {
        struct api_req *r;
        struct berth_container *c;
};

static void start_done(int status, const struct berth_err *err, void *data)
{
        struct starting *st = data;
        struct api_req *r = st->r;
        struct berth_container *c = st->c;

        /* a --rm container that cannot start is removed, as dockerd does
         * (docker run waits for that before it reports the error) */
        if (status < 0 && c->host_config && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->host_config, "AutoRemove")))
                berth_container_auto_remove(r->d, c);
        berth_container_unref(c);
        free(st);

        if (!r->cancelled && !r->done) {
                if (status < 0 && status != -EIO && err && err->msg[0]) {
                        /* networks, ports, namespaces to join: their own status */
                        api_reply_error(r, status, err);
                } else if (status < 0) {
                        /* Docker's 400 with the runtime's words: the CLI maps
                         * "executable file not found" to exit 127 */
                        api_reply_msg(r, 400, "failed to create task for container: OCI runtime create failed: %s",
                                      err && err->msg[0] ? err->msg : "unknown error");
                } else {
                        api_reply_status(r, 204);
                }
        }
        api_req_unref(r);
}

static void h_start(struct api_req *r)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct berth_container *c = api_container_param(r);

        if (!c)
                return;
        if (running(c) || c->mon) {
                api_reply_status(r, 304);
                return;
        }
        c->manual_stop = false;
        struct starting *st = xcalloc(1, sizeof(*st));
        st->r = r;
        st->c = berth_container_ref(c);
        api_req_ref(r);
        api_req_defer(r);
        if (berth_container_start(r->d, c, start_done, st, &err) < 0) {
                berth_container_unref(c);
                free(st);
                api_req_unref(r);
                api_reply_error(r, -err.code, &err);
        }
}

/* ---- wait ---- */

struct waiting {
        struct api_req *r;
        struct berth_container *c;      /* ref */
};

static void wait_fired(int exit_code, const char *error, void *data)
{
        struct waiting *w = data;
        struct api_req *r = w->r;
        cJSON *j = cJSON_CreateObject();
        struct buf b = BUF_INIT;

        if (error && *error)
                cJSON_AddStringToObject(cJSON_AddObjectToObject(j, "Error"), "Message", error);
        else
                cJSON_AddNullToObject(j, "Error");
        cJSON_AddNumberToObject(j, "StatusCode", exit_code);
        berth_json_append(&b, j);
        cJSON_Delete(j);
        r->on_cancel = NULL;
        r->data = NULL;
        if (!r->cancelled && !r->done) {
                api_stream_write(r, b.data, b.len);
                api_stream_end(r);
        }
        buf_release(&b);
        berth_container_unref(w->c);
        api_req_unref(r);
        free(w);
}

static void wait_cancel(struct api_req *r)
{
        struct waiting *w = r->data;

        if (!w)
                return;
        r->data = NULL;
        r->on_cancel = NULL;
        berth_container_wait_cancel(w->c, w);
        berth_container_unref(w->c);
        api_req_unref(r);
        free(w);
}

static void h_wait(struct api_req *r)
{
        struct berth_container *c = api_container_param(r);
        const char *cond = api_query(r, "condition");
        enum berth_wait_cond wc = BERTH_WAIT_NOT_RUNNING;

        if (!c)
                return;
        if (cond && *cond) {
                if (!strcmp(cond, "next-exit"))
                        wc = BERTH_WAIT_NEXT_EXIT;
                else if (!strcmp(cond, "removed"))
                        wc = BERTH_WAIT_REMOVED;
                else if (strcmp(cond, "not-running")) {
                        api_reply_msg(r, 400, "invalid condition: \"%s\"", cond);
                        return;
                }
        }
        struct waiting *w = xcalloc(1, sizeof(*w));
        w->r = r;
        w->c = berth_container_ref(c);
        api_req_ref(r);
        r->data = w;
        r->on_cancel = wait_cancel;
        /* headers now: docker run sends start only once it has them */
        api_stream_start(r, 200, "application/json");
        if (wc == BERTH_WAIT_NOT_RUNNING && !running(c) && !c->mon) {
                wait_fired(c->exit_code, c->error, w);
                return;
        }
        berth_container_wait(r->d, c, wc, wait_fired, w);
}

/* ---- attach ---- */

struct attach {
        struct api_req *r;
        struct berth_container *c;      /* ref */
        uv_pipe_t mon;                  /* connection to the monitor's attach socket */
        uv_connect_t conn;
        uv_shutdown_t shut;
        bool mon_init, mon_up, mon_closing, client_eof, pending, begun;
        unsigned char flags;
        struct buf early_stdin;         /* client bytes before the monitor connection is up */
        int refs;
};

static void att_unref(struct attach *a)
{
        if (--a->refs > 0)
                return;
        buf_release(&a->early_stdin);
        berth_container_unref(a->c);
        api_req_unref(a->r);
        free(a);
}

static void on_mon_close(uv_handle_t *h)
{
        att_unref(h->data);
}

static void att_close_mon(struct attach *a)
{
        if (a->mon_init && !a->mon_closing) {
                a->mon_closing = true;
                uv_close((uv_handle_t *)&a->mon, on_mon_close);
        }
}

struct mwrite {
        uv_write_t w;
        struct attach *a;
        bool ready_after;
        char data[];
};

static void on_mon_write(uv_write_t *w, int status)
{
        struct mwrite *mw = container_of(w, struct mwrite, w);

        if (mw->ready_after && mw->a->begun) {
                mw->a->begun = false;
                berth_container_attach_ready(mw->a->c);
        }
        att_unref(mw->a);
        free(mw);
}

static void mon_send(struct attach *a, const void *p, size_t n, bool ready_after)
{
        struct mwrite *mw;
        uv_buf_t b;

        if (!a->mon_up || a->mon_closing)
                return;
        mw = xmalloc(sizeof(*mw) + n);
        mw->a = a;
        mw->ready_after = ready_after;
        memcpy(mw->data, p, n);
        b = uv_buf_init(mw->data, (unsigned)n);
        a->refs++;
        if (uv_write(&mw->w, (uv_stream_t *)&a->mon, &b, 1, on_mon_write) < 0) {
                a->refs--;
                free(mw);
                if (ready_after && a->begun) {
                        a->begun = false;
                        berth_container_attach_ready(a->c);
                }
        }
}

static void on_mon_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
        b->base = xmalloc(65536);
        b->len = 65536;
}

static void on_mon_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
        struct attach *a = s->data;

        if (n > 0 && !a->r->done)
                api_hijack_write(a->r, b->base, (size_t)n);
        free(b->base);
        if (n < 0) {
                /* the monitor closes after the output is flushed: the end */
                att_close_mon(a);
                if (!a->r->done)
                        api_hijack_close(a->r);
        }
}

static void on_mon_shutdown(uv_shutdown_t *s, int status)
{
        att_unref(s->data);
}

static void mon_stdin_eof(struct attach *a)
{
        if (!a->mon_up || a->mon_closing)
                return;
        a->shut.data = a;
        a->refs++;
        if (uv_shutdown(&a->shut, (uv_stream_t *)&a->mon, on_mon_shutdown) < 0)
                a->refs--;
}

static void on_mon_connect(uv_connect_t *cr, int status)
{
        struct attach *a = cr->data;
        unsigned char frame[MON_FRAME_HDR + 1] = { MON_FRAME_ATTACH, 0, 0, 0, 0, 0, 0, 1, 0 };

        if (status < 0 || a->mon_closing) {
                if (a->begun) {
                        a->begun = false;
                        berth_container_attach_ready(a->c);
                }
                att_close_mon(a);
                if (!a->r->done)
                        api_hijack_close(a->r);
                att_unref(a);
                return;
        }
        a->mon_up = true;
        frame[MON_FRAME_HDR] = a->flags;
        mon_send(a, frame, sizeof(frame), true);
        if (a->early_stdin.len)
                mon_send(a, a->early_stdin.data, a->early_stdin.len, false);
        buf_release(&a->early_stdin);
        if (a->client_eof)
                mon_stdin_eof(a);
        (void)uv_read_start((uv_stream_t *)&a->mon, on_mon_alloc, on_mon_read);
        att_unref(a);
}

static void att_connect(struct attach *a)
{
        const char *dir = berth_container_monitor_dir(a->c);
        char *path;

        if (!dir || a->mon_init) {
                if (!a->r->done)
                        api_hijack_close(a->r);
                return;
        }
        path = xasprintf("%s/%s", dir, MON_FILE_SOCK);
        uv_pipe_init(a->r->d->loop, &a->mon, 0);
        a->mon.data = a;
        a->mon_init = true;
        a->refs++;      /* the handle */
        a->refs++;      /* the connect request */
        a->conn.data = a;
        uv_pipe_connect(&a->conn, &a->mon, path, on_mon_connect);
        free(path);
}

static void att_on_created(struct berth_container *c, void *data)
{
        struct attach *a = data;

        a->pending = false;
        berth_container_attach_begin(c);
        a->begun = true;
        att_connect(a);
        att_unref(a);   /* the hook's ref */
}

static void att_data(struct api_req *r, const char *p, size_t n, void *data)
{
        struct attach *a = data;

        if (!(a->flags & MON_ATTACH_STDIN))
                return;
        if (a->mon_up)
                mon_send(a, p, n, false);
        else if (a->early_stdin.len < (1 << 20))
                buf_add(&a->early_stdin, p, n);
}

static void att_eof(struct api_req *r, void *data)
{
        struct attach *a = data;

        a->client_eof = true;
        if (a->mon_up && (a->flags & MON_ATTACH_STDIN))
                mon_stdin_eof(a);
}

static void att_close(struct api_req *r, void *data)
{
        struct attach *a = data;

        if (a->pending) {
                a->pending = false;
                berth_container_on_created_cancel(a->c, a);
                att_unref(a);
        }
        att_close_mon(a);
        att_unref(a);   /* the hijack's ref */
}

static const struct api_hijack_ops att_ops = { att_data, att_eof, att_close };

static void h_attach(struct api_req *r)
{
        struct berth_container *c = api_container_param(r);
        bool tty, in, out, err;

        if (!c)
                return;
        tty = c->config && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->config, "Tty"));
        in = api_query_bool(r, "stdin", false);
        out = api_query_bool(r, "stdout", false);
        err = api_query_bool(r, "stderr", false);
        if (c->state == CTR_REMOVING || c->state == CTR_DEAD) {
                api_reply_msg(r, 409, "container %s is %s", c->id, berth_container_state_name(c->state));
                return;
        }
        struct attach *a = xcalloc(1, sizeof(*a));
        a->r = r;
        a->c = berth_container_ref(c);
        a->refs = 1;    /* the hijack's */
        api_req_ref(r);
        a->flags = (out ? MON_ATTACH_STDOUT : 0) | (err ? MON_ATTACH_STDERR : 0) |
                   (in ? MON_ATTACH_STDIN | MON_ATTACH_RAW_IN : 0) | (tty ? MON_ATTACH_RAW_OUT : 0);
        /* API 1.42+: a non-tty stream says it is multiplexed */
        api_hijack(r, !tty && r->api_minor >= 42 ? "application/vnd.docker.multiplexed-stream"
                                                : "application/vnd.docker.raw-stream",
                   &att_ops, a);
        berth_events_publish(r->d->events, "container", "attach", c->id, NULL);
        if (r->done)
                return;
        if (berth_container_monitor_dir(c) && running(c)) {
                att_connect(a);
        } else {
                /* before start: connect when the monitor exists */
                a->pending = true;
                a->refs++;
                berth_container_on_created(c, att_on_created, a);
        }
}

/* ---- kill, stop, restart ---- */

static void h_kill(struct api_req *r)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct berth_container *c = api_container_param(r);
        const char *s = api_query(r, "signal");
        int sig = SIGKILL;

        if (!c)
                return;
        if (s && *s && (sig = api_parse_signal(s)) < 0) {
                api_reply_msg(r, 400, "Invalid signal: %s", s);
                return;
        }
        if (!running(c)) {
                api_reply_msg(r, 409, "Container %s is not running", c->id);
                return;
        }
        if (berth_container_kill(r->d, c, sig, &err) < 0) {
                api_reply_error(r, -err.code, &err);
                return;
        }
        cJSON *attrs = cJSON_CreateObject();
        char num[16];
        snprintf(num, sizeof(num), "%d", sig);
        cJSON_AddStringToObject(attrs, "signal", num);
        cJSON_AddStringToObject(attrs, "name", c->name + 1);
        berth_events_publish(r->d->events, "container", "kill", c->id, attrs);
        api_reply_status(r, 204);
}

struct stopping {
        struct api_req *r;
        struct berth_container *c;
        uv_timer_t timer;
        bool restart;
        bool fired;
};

static void stop_timer_closed(uv_handle_t *h)
{
        struct stopping *s = h->data;

        berth_container_unref(s->c);
        api_req_unref(s->r);
        free(s);
}

static void stop_finish(struct stopping *s)
{
        uv_timer_stop(&s->timer);
        uv_close((uv_handle_t *)&s->timer, stop_timer_closed);
}

static void restart_started(int status, const struct berth_err *err, void *data)
{
        struct api_req *r = data;

        if (!r->cancelled && !r->done) {
                /* EALREADY: a start that ran meanwhile (its restart policy) */
                if (status < 0 && status != -EALREADY)
                        api_reply_msg(r, 500, "Cannot restart container: %s", err ? err->msg : "start failed");
                else
                        api_reply_status(r, 204);
        }
        api_req_unref(r);
}

static void stop_exited(int exit_code, const char *error, void *data)
{
        struct stopping *s = data;
        struct api_req *r = s->r;

        s->fired = true;
        berth_events_publish(r->d->events, "container", "stop", s->c->id, NULL);
        if (s->restart && s->c->state != CTR_REMOVING) {
                struct berth_err err = BERTH_ERR_INIT;
                api_req_ref(r);
                if (berth_container_start(r->d, s->c, restart_started, r, &err) < 0) {
                        api_req_unref(r);
                        if (!r->cancelled && !r->done)
                                api_reply_error(r, -err.code, &err);
                }
        } else if (!r->cancelled && !r->done) {
                api_reply_status(r, 204);
        }
        stop_finish(s);
}

static void stop_timeout(uv_timer_t *t)
{
        struct stopping *s = t->data;

        (void)berth_container_kill(s->r->d, s->c, SIGKILL, NULL);
}

static void stop_or_restart(struct api_req *r, bool restart)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct berth_container *c = api_container_param(r);
        const char *t = api_query(r, "t"), *sigs = api_query(r, "signal");
        int64_t timeout = 10;
        int sig = SIGTERM;

        if (!c)
                return;
        const char *cfg_sig = c->config ? berth_json_str(c->config, "StopSignal") : NULL;
        if (cfg_sig && *cfg_sig && api_parse_signal(cfg_sig) > 0)
                sig = api_parse_signal(cfg_sig);
        const cJSON *st = c->config ? cJSON_GetObjectItemCaseSensitive(c->config, "StopTimeout") : NULL;
        timeout = berth_json_int64(st, timeout);
        if (t && *t && berth_parse_int64(t, &timeout) < 0) {
                api_reply_msg(r, 400, "invalid value for t: %s", t);
                return;
        }
        if (sigs && *sigs && (sig = api_parse_signal(sigs)) < 0) {
                api_reply_msg(r, 400, "Invalid signal: %s", sigs);
                return;
        }
        if (!running(c) || !berth_container_monitor_dir(c)) {
                if (!restart && c->state == CTR_RESTARTING) {
                        /* waiting out its back-off: it stays stopped now */
                        c->manual_stop = true;
                        c->state = CTR_EXITED;
                        berth_containers_recount(r->d);
                        berth_container_save(r->d, c);
                        api_reply_status(r, 204);
                        return;
                }
                if (!restart) {
                        api_reply_status(r, 304);
                        return;
                }
                api_req_ref(r);
                api_req_defer(r);
                if (berth_container_start(r->d, c, restart_started, r, &err) < 0) {
                        api_req_unref(r);
                        api_reply_error(r, -err.code, &err);
                }
                return;
        }
        struct stopping *s = xcalloc(1, sizeof(*s));
        s->r = r;
        s->c = berth_container_ref(c);
        s->restart = restart;
        c->manual_stop = !restart;      /* docker stop: the restart policy stays quiet */
        api_req_ref(r);
        api_req_defer(r);
        uv_timer_init(r->d->loop, &s->timer);
        s->timer.data = s;
        berth_container_wait(r->d, c, BERTH_WAIT_NEXT_EXIT, stop_exited, s);
        cJSON *attrs = cJSON_CreateObject();
        char num[16];
        snprintf(num, sizeof(num), "%d", sig);
        cJSON_AddStringToObject(attrs, "signal", num);
        cJSON_AddStringToObject(attrs, "name", c->name + 1);
        berth_events_publish(r->d->events, "container", "kill", c->id, attrs);
        if (berth_container_kill(r->d, c, sig, &err) < 0 || timeout == 0)
                (void)berth_container_kill(r->d, c, SIGKILL, NULL);
        else if (timeout > 0)
                uv_timer_start(&s->timer, stop_timeout, (uint64_t)timeout * 1000, 0);
}

static void h_stop(struct api_req *r)
{
        stop_or_restart(r, false);
}

static void h_restart(struct api_req *r)
{
        stop_or_restart(r, true);
}



/* ---- logs: the json-file log, read on the pool, followed with inotify ---- */

struct logs {
        struct api_req *r;
        struct berth_container *c;      /* ref */
        char *path;                     /* DIR/ID-json.log; rotated: .1 (newest) ... .N */
        const char *base;               /* its last component */
        bool tty, out, err, ts, follow;
        int64_t since, until, tail;
        /* the file being followed: only touched by the worker while
         * reading is set, and by the loop thread otherwise */
        int fd;
        uint64_t offset;                /* bytes of fd consumed (whole lines) */
        uv_fs_event_t ev;               /* on the directory: rotation makes a new file */
        bool ev_init, reading, again, exited, finished;
        int refs;
};

struct logs_read {
        uv_work_t w;
        struct logs *lg;
        struct buf out;
        bool first;
};

#define LOGS_MAX_ROTATED 100
#define LOGS_MAX_READ (64u << 20)

static void logs_unref(struct logs *lg)
{
        if (--lg->refs > 0)
                return;
        if (lg->fd >= 0)
                close(lg->fd);
        free(lg->path);
        berth_container_unref(lg->c);
        api_req_unref(lg->r);
        free(lg);
}

/* One json-file line into the output (framed unless tty). */
static void emit_line(const struct logs *lg, const char *line, size_t len, struct buf *out)
{
        cJSON *j = NULL;
        const char *log, *stream, *t;
        int64_t tns = 0;

        if (berth_json_parse(line, len, &j, NULL) < 0)
                return;
        log = berth_json_str(j, "log");
        stream = berth_json_str(j, "stream");
        t = berth_json_str(j, "time");
        if (!log || !stream || (!strcmp(stream, "stdout") && !lg->out) || (!strcmp(stream, "stderr") && !lg->err)) {
                cJSON_Delete(j);
                return;
        }
        if ((lg->since || lg->until) && t && api_parse_timestamp(t, 0, &tns) == 0) {
                if ((lg->since && tns < lg->since) || (lg->until && tns > lg->until)) {
                        cJSON_Delete(j);
                        return;
                }
        }
        struct buf payload = BUF_INIT;
        if (lg->ts && t)
                buf_addf(&payload, "%s ", t);
        buf_adds(&payload, log);
        if (lg->tty)
                buf_add(out, payload.data, payload.len);
        else
                api_frame_append(out, strcmp(stream, "stderr") ? API_STDOUT : API_STDERR, payload.data, payload.len);
        buf_release(&payload);
        cJSON_Delete(j);
}

/* Read fd from its position to the end (at most LOGS_MAX_READ bytes). */
static void read_rest(int fd, struct buf *raw)
{
        char tmp[65536];

        for (;;) {
                ssize_t n = read(fd, tmp, sizeof(tmp));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0 || raw->len > LOGS_MAX_READ)
                        break;
                buf_add(raw, tmp, (size_t)n);
        }
}

/* Whole lines of raw[0..len) into out, the first skip of them left out.
 * Returns the bytes consumed: a partial last line is not. */
static size_t emit_lines(const struct logs *lg, const char *raw, size_t len, int64_t skip, struct buf *out)
{
        size_t i = 0;

        for (;;) {
                const char *nl = memchr(raw + i, '\n', len - i);
                if (!nl)
                        return i;
                size_t n = (size_t)(nl - (raw + i));
                if (skip > 0)
                        skip--;
                else
                        emit_line(lg, raw + i, n, out);
                i += n + 1;
                if (i >= len)
                        return i;
        }
}

static int64_t count_lines(const char *p, size_t len)
{
        int64_t n = 0;

        for (const char *e = p + len; p < e && (p = memchr(p, '\n', (size_t)(e - p))); p++)
                n++;
        return n;
}

/* open PATH.k (k > 0) or PATH (k == 0) */
static int open_rotated(const struct logs *lg, int k)
{
        char name[PATH_MAX];

        if (k == 0)
                return open(lg->path, O_RDONLY | O_CLOEXEC);
        if (snprintf(name, sizeof(name), "%s.%d", lg->path, k) >= (int)sizeof(name))
                return -1;
        return open(name, O_RDONLY | O_CLOEXEC);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
        return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The first read: the rotated files, oldest first (PATH.N ... PATH.1),
 * then the live file, which stays open for follow.  With tail, older
 * files are read only as far back as the lines asked for reach. */
static void logs_read_first(struct logs *lg, struct buf *out)
{
        struct buf files[LOGS_MAX_ROTATED + 1];
        struct stat cur, st;
        size_t n = 0, total = 0;
        int64_t lines = 0;

        lg->fd = open(lg->path, O_RDONLY | O_CLOEXEC);
        if (lg->fd >= 0 && fstat(lg->fd, &cur) < 0) {
                close(lg->fd);
                lg->fd = -1;
        }
        /* newest first: files[0] is the live file, files[k] is PATH.k */
        files[n] = (struct buf)BUF_INIT;
        if (lg->fd >= 0)
                read_rest(lg->fd, &files[n]);
        /* whole lines only: a partial last line waits for the next read */
        size_t live_end = files[0].len;
        while (live_end > 0 && files[0].data[live_end - 1] != '\n')
                live_end--;
        files[0].len = live_end;
        lg->offset = live_end;
        total = live_end;
        lines = count_lines(files[0].data, files[0].len);
        n = 1;
        for (int k = 1; k <= LOGS_MAX_ROTATED; k++) {
                if (lg->tail >= 0 && lines >= lg->tail)
                        break;
                if (total > LOGS_MAX_READ)
                        break;
                _cleanup_close_ int fd = open_rotated(lg, k);
                if (fd < 0)
                        break;
                /* rotated while we looked: the live file we hold is read already */
                if (lg->fd >= 0 && fstat(fd, &st) == 0 && same_file(&st, &cur))
                        continue;
                files[n] = (struct buf)BUF_INIT;
                read_rest(fd, &files[n]);
                total += files[n].len;
                lines += count_lines(files[n].data, files[n].len);
                n++;
        }
        int64_t skip = lg->tail >= 0 && lines > lg->tail ? lines - lg->tail : 0;
        for (size_t i = n; i-- > 0;) {
                int64_t here = count_lines(files[i].data, files[i].len);
                int64_t s = skip < here ? skip : here;
                skip -= s;
                if (s < here)
                        (void)emit_lines(lg, files[i].data, files[i].len, s, out);
                buf_release(&files[i]);
        }
}

/* The next read while following: the rest of the file held open; when
 * the monitor rotated it away, the rest of it and then each newer file in
 * turn (PATH.k-1 ... PATH.1, PATH), holding the newest open. */
static void logs_read_more(struct logs *lg, struct buf *out)
{
        for (int hop = 0; hop <= LOGS_MAX_ROTATED + 1; hop++) {
                struct stat mine, st;
                struct buf raw = BUF_INIT;
                int next = -1;

                if (lg->fd < 0) {
                        lg->fd = open(lg->path, O_RDONLY | O_CLOEXEC);
                        lg->offset = 0;
                        if (lg->fd < 0)
                                return;
                }
                if (fstat(lg->fd, &mine) < 0 || lseek(lg->fd, (off_t)lg->offset, SEEK_SET) < 0)
                        return;
                read_rest(lg->fd, &raw);
                lg->offset += emit_lines(lg, raw.data ? raw.data : "", raw.len, 0, out);
                buf_release(&raw);
                if (stat(lg->path, &st) == 0 && same_file(&st, &mine))
                        return;         /* still the live file */
                /* rotated: the monitor renamed it after its last write, so
                 * what is in it now is all there will be */
                if (lseek(lg->fd, (off_t)lg->offset, SEEK_SET) < 0)
                        return;
                read_rest(lg->fd, &raw);
                (void)emit_lines(lg, raw.data ? raw.data : "", raw.len, 0, out);
                buf_release(&raw);
                /* where did it go?  PATH.k: the next newer is PATH.k-1 */
                for (int k = 1; k <= LOGS_MAX_ROTATED && next < 0; k++) {
                        char name[PATH_MAX];
                        if (snprintf(name, sizeof(name), "%s.%d", lg->path, k) >= (int)sizeof(name) ||
                            stat(name, &st) < 0)
                                break;
                        if (same_file(&st, &mine))
                                next = k - 1;
                }
                close(lg->fd);
                lg->fd = open_rotated(lg, next < 0 ? 0 : next);
                lg->offset = 0;
                if (lg->fd < 0)
                        return;
        }
}

static void logs_read_fn(uv_work_t *w)
{
        struct logs_read *rd = container_of(w, struct logs_read, w);

        if (rd->first)
                logs_read_first(rd->lg, &rd->out);
        else
                logs_read_more(rd->lg, &rd->out);
}

static void logs_schedule(struct logs *lg, bool first);

static void logs_ev_closed(uv_handle_t *h)
{
        logs_unref(h->data);
}

static void logs_finish(struct logs *lg)
{
        if (lg->finished)
                return;
        lg->finished = true;
        berth_container_wait_cancel(lg->c, lg);
        lg->r->on_cancel = NULL;
        lg->r->data = NULL;
        if (!lg->r->cancelled && !lg->r->done)
                api_stream_end(lg->r);
        if (lg->ev_init) {
                lg->ev_init = false;
                (void)uv_fs_event_stop(&lg->ev);
                /* the handle is embedded: lg lives until its close ran */
                lg->refs++;
                uv_close((uv_handle_t *)&lg->ev, logs_ev_closed);
        }
        logs_unref(lg);
}

static void logs_read_done(uv_work_t *w, int status)
{
        struct logs_read *rd = container_of(w, struct logs_read, w);
        struct logs *lg = rd->lg;

        lg->reading = false;
        if (!lg->finished && rd->out.len && !lg->r->cancelled && !lg->r->done)
                api_stream_write(lg->r, rd->out.data, rd->out.len);
        buf_release(&rd->out);
        free(rd);
        if (!lg->finished) {
                if (lg->again)
                        logs_schedule(lg, false);
                else if (!lg->follow || lg->exited)
                        logs_finish(lg);
        }
        logs_unref(lg);
}

static void logs_schedule(struct logs *lg, bool first)
{
        struct logs_read *rd;

        if (lg->reading) {
                lg->again = true;
                return;
        }
        lg->again = false;
        lg->reading = true;
        rd = xcalloc(1, sizeof(*rd));
        rd->lg = lg;
        rd->first = first;
        lg->refs++;
        if (uv_queue_work(lg->r->d->loop, &rd->w, logs_read_fn, logs_read_done) < 0) {
                lg->reading = false;
                free(rd);
                logs_unref(lg);
                logs_finish(lg);
        }
}

static void logs_changed(uv_fs_event_t *h, const char *name, int events, int status)
{
        struct logs *lg = h->data;

        /* the container's directory holds other files too: only the log
         * and its rotated siblings matter (no name: look anyway) */
        if (name && strncmp(name, lg->base, strlen(lg->base)))
                return;
        if (!lg->finished)
                logs_schedule(lg, false);
}

static void logs_exited(int exit_code, const char *error, void *data)
{
        struct logs *lg = data;

        /* one last read for what the monitor flushed, then the end */
        lg->exited = true;
        if (!lg->finished)
                logs_schedule(lg, false);
}

static void logs_cancel(struct api_req *r)
{
        struct logs *lg = r->data;

        if (lg)
                logs_finish(lg);
}

static void h_logs(struct api_req *r)
{
        struct berth_container *c = api_container_param(r);
        const char *s;

        if (!c)
                return;
        struct logs *lg = xcalloc(1, sizeof(*lg));
        lg->r = r;
        lg->c = berth_container_ref(c);
        lg->refs = 1;
        api_req_ref(r);
        lg->fd = -1;
        lg->path = xasprintf("%s/%s-json.log", c->dir, c->id);
        lg->base = strrchr(lg->path, '/') + 1;
        lg->tty = c->config && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->config, "Tty"));
        lg->out = api_query_bool(r, "stdout", false);
        lg->err = api_query_bool(r, "stderr", false);
        lg->ts = api_query_bool(r, "timestamps", false);
        lg->follow = api_query_bool(r, "follow", false);
        lg->tail = -1;
        if ((s = api_query(r, "tail")) && *s && strcmp(s, "all") && (berth_parse_int64(s, &lg->tail) < 0 || lg->tail < 0))
                lg->tail = -1;
        int64_t now = berth_now_ns();
        if ((s = api_query(r, "since")) && *s && strcmp(s, "0") && api_parse_timestamp(s, now, &lg->since) < 0) {
                logs_unref(lg);
                api_reply_msg(r, 400, "invalid value for since: %s", s);
                return;
        }
        if ((s = api_query(r, "until")) && *s && strcmp(s, "0") && api_parse_timestamp(s, now, &lg->until) < 0) {
                logs_unref(lg);
                api_reply_msg(r, 400, "invalid value for until: %s", s);
                return;
        }
        if (!lg->out && !lg->err) {
                logs_unref(lg);
                api_reply_msg(r, 400, "You must choose at least one stream");
                return;
        }
        r->data = lg;
        r->on_cancel = logs_cancel;
        /* Docker: raw-stream, and from API 1.42 multiplexed-stream when the
         * frames are there (no tty) */
        api_stream_start(r, 200, !lg->tty && r->api_minor >= 42 ? "application/vnd.docker.multiplexed-stream"
                                                               : "application/vnd.docker.raw-stream");
        if (lg->follow && (running(c) || berth_container_monitor_dir(c))) {
                berth_container_wait(r->d, c, BERTH_WAIT_NEXT_EXIT, logs_exited, lg);
                if (uv_fs_event_init(r->d->loop, &lg->ev) == 0) {
                        lg->ev.data = lg;
                        lg->ev_init = true;
                        /* the directory, not the file: a rotation renames
                         * the file away and makes a new one */
                        (void)uv_fs_event_start(&lg->ev, logs_changed, c->dir, 0);
                }
        } else {
                lg->follow = false;
        }
        logs_schedule(lg, true);
}

/* ---- pause, unpause, top: the runtime's pause/resume/ps ---- */

struct rtcmd {
        struct api_req *r;
        struct berth_container *c;
        bool pause;
        char *root;
        char *ps_args;
};

static void rtcmd_free(struct rtcmd *rc)
{
        berth_container_unref(rc->c);
        api_req_unref(rc->r);
        free(rc->root);
        free(rc->ps_args);
        free(rc);
}

static void pause_done(int status, const char *output, void *data)
{
        struct rtcmd *rc = data;
        struct api_req *r = rc->r;

        if (status == 0) {
                rc->c->state = rc->pause ? CTR_PAUSED : CTR_RUNNING;
                berth_containers_recount(r->d);
                berth_container_save(r->d, rc->c);
                berth_events_publish(r->d->events, "container", rc->pause ? "pause" : "unpause", rc->c->id, NULL);
        }
        if (!r->cancelled && !r->done) {
                if (status == 0)
                        api_reply_status(r, 204);
                else
                        api_reply_msg(r, 500, "cannot %s container %s: the runtime failed (%d): %s",
                                      rc->pause ? "pause" : "unpause", rc->c->id, status, output);
        }
        rtcmd_free(rc);
}

static void pause_or_unpause(struct api_req *r, bool pause)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct berth_container *c = api_container_param(r);
        const char *rt;
        char *root;

        if (!c)
                return;
        if (c->state != CTR_RUNNING && c->state != CTR_PAUSED) {
                api_reply_msg(r, 409, "Container %s is not running", c->id);
                return;
        }
        if (pause && c->state == CTR_PAUSED) {
                api_reply_msg(r, 409, "Container %s is already paused", c->id);
                return;
        }
        if (!pause && c->state != CTR_PAUSED) {
                api_reply_msg(r, 409, "Container %s is not paused", c->id);
                return;
        }
        if (berth_container_runtime_argv(r->d, c, &rt, &root) < 0) {
                api_reply_msg(r, 500, "the container's runtime is not available");
                return;
        }
        struct rtcmd *rc = xcalloc(1, sizeof(*rc));
        rc->r = r;
        rc->c = berth_container_ref(c);
        rc->pause = pause;
        rc->root = root;
        api_req_ref(r);
        api_req_defer(r);
        const char *argv[] = { rt, "--root", root, pause ? "pause" : "resume", c->id, NULL };
        if (berth_run_command(r->d, argv, pause_done, rc, &err) < 0) {
                rtcmd_free(rc);
                api_reply_error(r, -err.code, &err);
        }
}

static void h_pause(struct api_req *r)
{
        pause_or_unpause(r, true);
}

static void h_unpause(struct api_req *r)
{
        pause_or_unpause(r, false);
}

/* top: ps(1) with ps_args, the lines of the container's pids (from the
 * runtime's ps --format json), as dockerd answers */
static void top_ps_done(int status, const char *output, void *data)
{
        struct rtcmd *rc = data;
        struct api_req *r = rc->r;
        cJSON *pids = NULL;

        (void)berth_json_parse(rc->root ? rc->root : "[]", strlen(rc->root ? rc->root : "[]"), &pids, NULL);
        if (!r->cancelled && !r->done) {
                if (status != 0) {
                        api_reply_msg(r, 500, "ps: %s", output);
                } else {
                        cJSON *j = cJSON_CreateObject(), *titles = cJSON_AddArrayToObject(j, "Titles");
                        cJSON *procs = cJSON_AddArrayToObject(j, "Processes");
                        _cleanup_free_ char *copy = xstrdup(output);
                        char *save = NULL, *line = strtok_r(copy, "\n", &save);
                        int pid_col = -1, ncols = 0;
                        /* header: the titles and where PID is */
                        if (line) {
                                char *s2 = NULL;
                                for (char *t = strtok_r(line, " \t", &s2); t; t = strtok_r(NULL, " \t", &s2)) {
                                        if (!strcmp(t, "PID"))
                                                pid_col = ncols;
                                        cJSON_AddItemToArray(titles, cJSON_CreateString(t));
                                        ncols++;
                                }
                        }
                        while (pid_col >= 0 && (line = strtok_r(NULL, "\n", &save))) {
                                cJSON *row = cJSON_CreateArray();
                                char *p = line;
                                bool mine = false;
                                for (int col = 0; col < ncols && *p; col++) {
                                        while (*p == ' ' || *p == '\t')
                                                p++;
                                        size_t n = col == ncols - 1 ? strlen(p) : strcspn(p, " \t");
                                        char *field = xstrndup(p, n);
                                        if (col == pid_col) {
                                                const cJSON *e;
                                                cJSON_ArrayForEach(e, pids) if (cJSON_IsNumber(e) && e->valueint == atoi(field))
                                                        mine = true;
                                        }
                                        cJSON_AddItemToArray(row, cJSON_CreateString(field));
                                        free(field);
                                        p += n;
                                }
                                if (mine)
                                        cJSON_AddItemToArray(procs, row);
                                else
                                        cJSON_Delete(row);
                        }
                        if (pid_col < 0) {
                                cJSON_Delete(j);
                                api_reply_msg(r, 500, "Couldn't find PID field in ps output");
                        } else {
                                api_reply_json(r, 200, j);
                        }
                }
        }
        cJSON_Delete(pids);
        rtcmd_free(rc);
}

static void top_pids_done(int status, const char *output, void *data)
{
        struct rtcmd *rc = data;
        struct api_req *r = rc->r;
        struct berth_err err = BERTH_ERR_INIT;
        const char *argv[34];
        size_t n = 0;

        if (status != 0 || r->cancelled || r->done) {
                if (!r->cancelled && !r->done)
                        api_reply_msg(r, 500, "the runtime's ps failed (%d): %s", status, output);
                rtcmd_free(rc);
                return;
        }
        /* keep the pid list (JSON) for the second step */
        free(rc->root);
        rc->root = xstrdup(output);
        _cleanup_free_ char *ps = berth_find_in_path("ps");
        _cleanup_free_ char *args = xstrdup(rc->ps_args ? rc->ps_args : "-ef");
        argv[n++] = ps ? ps : "/bin/ps";
        char *save = NULL;
        for (char *t = strtok_r(args, " ", &save); t && n < 32; t = strtok_r(NULL, " ", &save))
                argv[n++] = t;
        argv[n] = NULL;
        if (berth_run_command(r->d, argv, top_ps_done, rc, &err) < 0) {
                api_reply_error(r, -err.code, &err);
                rtcmd_free(rc);
        }
}

static void h_top(struct api_req *r)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct berth_container *c = api_container_param(r);
        const char *rt, *ps_args = api_query(r, "ps_args");
        char *root;

        if (!c)
                return;
        if (c->state != CTR_RUNNING && c->state != CTR_PAUSED) {
                api_reply_msg(r, 409, "Container %s is not running", c->id);
                return;
        }
        if (berth_container_runtime_argv(r->d, c, &rt, &root) < 0) {
                api_reply_msg(r, 500, "the container's runtime is not available");
                return;
        }
        struct rtcmd *rc = xcalloc(1, sizeof(*rc));
        rc->r = r;
        rc->c = berth_container_ref(c);
        rc->root = root;
        rc->ps_args = ps_args && *ps_args ? xstrdup(ps_args) : NULL;
        api_req_ref(r);
        api_req_defer(r);
        const char *argv[] = { rt, "--root", root, "ps", "--format", "json", c->id, NULL };
        if (berth_run_command(r->d, argv, top_pids_done, rc, &err) < 0) {
                rtcmd_free(rc);
                api_reply_error(r, -err.code, &err);
        }
}

const struct api_route api_stream_routes[] = {
        { "POST", "/containers/{name}/pause", h_pause, 0 },
        { "POST", "/containers/{name}/unpause", h_unpause, 0 },
        { "GET", "/containers/{name}/top", h_top, 0 },
        { "POST", "/containers/{name}/start", h_start, 0 },
        { "POST", "/containers/{name}/wait", h_wait, 0 },
        { "POST", "/containers/{name}/attach", h_attach, 0 },
        { "POST", "/containers/{name}/kill", h_kill, 0 },
        { "POST", "/containers/{name}/stop", h_stop, 0 },
        { "POST", "/containers/{name}/restart", h_restart, 0 },
        { "GET", "/containers/{name}/logs", h_logs, 0 },
};
const size_t api_n_stream_routes = ARRAY_SIZE(api_stream_routes);
