/* SPDX-License-Identifier: Apache-2.0
 * api/stats.c -- GET /containers/{id}/stats (one-shot, two samples a
 * second apart, or a stream of one object a second), POST
 * /containers/{id}/update and POST /containers/{id}/resize.  Samples are
 * read on the thread pool (daemon/stats.c). */
#include "config.h"

#include <string.h>

#include "api/api-internal.h"

#define STATS_INTERVAL_MS 1000
/* a streaming client that reads nothing is dropped past this */
#define STATS_MAX_QUEUE (1024 * 1024)

static bool is_running(const struct berth_container *c)
{
        return (c->state == CTR_RUNNING || c->state == CTR_PAUSED) && c->pid > 0;
}

/* ---- stats ---- */

enum stats_mode { STATS_ONE_SHOT, STATS_TWO_SAMPLES, STATS_STREAM };

/* Freed once the request is over, the timer closed and no sample is being
 * read on the pool. */
struct stats_watch {
        uv_timer_t timer;
        uv_work_t work;
        struct api_req *req;
        struct berth_container *c;
        enum stats_mode mode;
        bool ended;
        bool timer_closed;
        bool working;
        bool waiting_removal;
        cJSON *prev;            /* the previous object sent (or sampled) */
        /* the sample on the pool */
        int pid;
        bool host_net;
        int64_t mem_total;
        int rc;
        cJSON *sample;
};

static void watch_maybe_free(struct stats_watch *w)
{
        if (!w->ended || !w->timer_closed || w->working)
                return;
        cJSON_Delete(w->prev);
        cJSON_Delete(w->sample);
        berth_container_unref(w->c);
        api_req_unref(w->req);
        free(w);
}

static void on_timer_closed(uv_handle_t *h)
{
        struct stats_watch *w = h->data;

        w->timer_closed = true;
        watch_maybe_free(w);
}

static void watch_end(struct stats_watch *w, bool end_stream)
{
        if (w->ended)
                return;
        w->ended = true;
        if (w->waiting_removal)
                berth_container_wait_cancel(w->c, w);
        w->waiting_removal = false;
        w->req->on_cancel = NULL;
        w->req->data = NULL;
        if (end_stream && !w->req->cancelled && !w->req->done)
                api_stream_end(w->req);
        uv_close((uv_handle_t *)&w->timer, on_timer_closed);
}

static void on_cancel(struct api_req *r)
{
        struct stats_watch *w = r->data;

        if (w)
                watch_end(w, false);
}

static void on_removed(int exit_code, const char *error, void *data)
{
        struct stats_watch *w = data;

        w->waiting_removal = false;
        watch_end(w, true);
}

static void send_object(struct stats_watch *w, cJSON *obj)
{
        struct buf b = BUF_INIT;

        berth_json_append(&b, obj);
        api_stream_write(w->req, b.data, b.len);
        buf_release(&b);
}

/* One finished object: the sample (NULL: the container does not run)
 * with the previous one. */
static void deliver(struct stats_watch *w, cJSON *sample)
{
        struct api_req *r = w->req;
        cJSON *obj = berth_stats_finish(w->c, sample, sample ? w->prev : NULL);

        switch (w->mode) {
        case STATS_ONE_SHOT:
                api_reply_json(r, 200, obj);
                watch_end(w, false);
                return;
        case STATS_TWO_SAMPLES:
                if (!w->prev && sample) {
                        /* prime precpu_stats: answer with the next sample */
                        w->prev = obj;
                        return;
                }
                api_reply_json(r, 200, obj);
                watch_end(w, false);
                return;
        case STATS_STREAM:
                send_object(w, obj);
                cJSON_Delete(w->prev);
                w->prev = sample ? obj : NULL;
                if (!sample)
                        cJSON_Delete(obj);
                if (api_req_write_queue(r) > STATS_MAX_QUEUE) {
                        log_warn("api: stats consumer of req %llu is too slow, closing", (unsigned long long)r->id);
                        watch_end(w, true);
                }
                return;
        }
}

/* The pool could not run the sample (shutdown): end what was asked. */
static void watch_fail(struct stats_watch *w, int rc)
{
        if (w->mode != STATS_STREAM && !w->req->cancelled && !w->req->done)
                api_reply_msg(w->req, 500, "cannot read the container's stats: %s", uv_strerror(rc));
        watch_end(w, w->mode == STATS_STREAM);
}

static void sample_fn(uv_work_t *wk)
{
        struct stats_watch *w = container_of(wk, struct stats_watch, work);

        w->sample = NULL;
        w->rc = berth_stats_sample(w->pid, w->host_net, w->mem_total, &w->sample, NULL);
}

static void take_sample(struct stats_watch *w);

static void on_tick(uv_timer_t *t)
{
        take_sample(t->data);
}

static void sample_done(uv_work_t *wk, int status)
{
        struct stats_watch *w = container_of(wk, struct stats_watch, work);
        cJSON *s = TAKE_PTR(w->sample);

        w->working = false;
        if (w->ended || w->req->cancelled || status < 0) {
                cJSON_Delete(s);
                if (!w->ended)
                        watch_fail(w, status < 0 ? status : UV_ECANCELED);
                watch_maybe_free(w);
                return;
        }
        /* a sample of a process that ended meanwhile is no sample */
        if (w->rc < 0) {
                cJSON_Delete(s);
                s = NULL;
        }
        deliver(w, s);
        if (!w->ended && !uv_is_active((uv_handle_t *)&w->timer))
                uv_timer_start(&w->timer, on_tick, STATS_INTERVAL_MS, 0);
}

static void take_sample(struct stats_watch *w)
{
        struct berth_container *c = w->c;
        int r;

        if (w->ended || w->working)
                return;
        if (!is_running(c)) {
                cJSON_Delete(w->prev);
                w->prev = NULL;
                deliver(w, NULL);
                if (!w->ended)
                        uv_timer_start(&w->timer, on_tick, STATS_INTERVAL_MS, 0);
                return;
        }
        const char *nm = c->host_config ? berth_json_str(c->host_config, "NetworkMode") : NULL;
        w->pid = c->pid;
        w->host_net = nm && !strcmp(nm, "host");
        w->mem_total = w->req->d->sys.mem_total;
        w->working = true;
        r = uv_queue_work(w->req->d->loop, &w->work, sample_fn, sample_done);
        if (r < 0) {
                w->working = false;
                watch_fail(w, r);
        }
}

static void h_stats(struct api_req *r)
{
        struct berth_container *c = api_container_param(r);
        bool stream = api_query_bool(r, "stream", true);
        bool one_shot = api_query_bool(r, "one-shot", false);

        if (!c)
                return;
        if (stream && one_shot) {
                api_reply_msg(r, 400, "cannot have stream=true and one-shot=true");
                return;
        }
        /* dockerd: a stopped container without a stream gets zeros at once */
        if (!stream && !is_running(c)) {
                api_reply_json(r, 200, berth_stats_finish(c, NULL, NULL));
                return;
        }
        struct stats_watch *w = xcalloc(1, sizeof(*w));
        w->req = r;
        w->c = berth_container_ref(c);
        w->mode = stream ? STATS_STREAM : one_shot ? STATS_ONE_SHOT : STATS_TWO_SAMPLES;
        api_req_ref(r);
        api_req_defer(r);
        uv_timer_init(r->d->loop, &w->timer);
        w->timer.data = w;
        r->data = w;
        r->on_cancel = on_cancel;
        if (stream) {
                /* headers now (the CLI waits for them); no Content-Type, as dockerd */
                api_stream_start(r, 200, NULL);
                berth_container_wait(r->d, c, BERTH_WAIT_REMOVED, on_removed, w);
                w->waiting_removal = true;
        }
        take_sample(w);
}

/* ---- update ---- */

static void update_done(int status, const struct berth_err *err, void *data)
{
        struct api_req *r = data;

        if (!r->cancelled && !r->done) {
                if (status < 0) {
                        api_reply_error(r, status, err);
                } else {
                        cJSON *j = cJSON_CreateObject();
                        cJSON_AddArrayToObject(j, "Warnings");
                        api_reply_json(r, 200, j);
                }
        }
        api_req_unref(r);
}

static void h_update(struct api_req *r)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct berth_container *c = api_container_param(r);
        _cleanup_json_ cJSON *body = NULL;

        if (!c)
                return;
        if (api_body_json(r, false, &body, &err) < 0) {
                api_reply_error(r, -err.code, &err);
                return;
        }
        api_req_ref(r);
        api_req_defer(r);
        if (berth_container_update(r->d, c, body, update_done, r, &err) < 0) {
                api_reply_error(r, -err.code, &err);
                api_req_unref(r);
        }
}

/* ---- resize ---- */

static int size_param(struct api_req *r, const char *key, unsigned *ret)
{
        const char *s = api_query(r, key);
        int64_t v;

        if (!s || berth_parse_int64(s, &v) < 0 || v < 0 || v > 65535) {
                api_reply_msg(r, 400, "invalid resize: %s must be a number from 0 to 65535, not \"%s\"",
                              !strcmp(key, "h") ? "height" : "width", s ? s : "");
                return -1;
        }
        *ret = (unsigned)v;
        return 0;
}

static void h_resize(struct api_req *r)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct berth_container *c = api_container_param(r);
        unsigned h, w;

        if (!c)
                return;
        if (size_param(r, "h", &h) < 0 || size_param(r, "w", &w) < 0)
                return;
        if (berth_container_resize(r->d, c, h, w, &err) < 0) {
                api_reply_error(r, -err.code, &err);
                return;
        }
        api_reply_status(r, 200);
}

const struct api_route api_stats_routes[] = {
        { "GET", "/containers/{name}/stats", h_stats, 0 },
        { "POST", "/containers/{name}/update", h_update, 0 },
        { "POST", "/containers/{name}/resize", h_resize, 0 },
};
const size_t api_n_stats_routes = ARRAY_SIZE(api_stats_routes);
