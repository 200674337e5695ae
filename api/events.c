/* SPDX-License-Identifier: Apache-2.0
 * api/events.c -- GET /events: history since `since`, then live events until
 * `until` (or forever), filtered like Docker's.  Headers go out at once. */
#include "config.h"

#include <string.h>

#include "api/api-internal.h"

struct watch {
        uv_timer_t timer;       /* ends the stream at `until` */
        struct api_req *req;
        void *sub;
        cJSON *filters;
        bool ended;
};

static const char *const allowed[] = { "config", "container", "daemon", "event", "image", "label",
                                       "network", "node", "plugin", "scope", "secret", "service",
                                       "type", "volume", NULL };

/* Docker's events filter (moby daemon/events/filter.go) */
static bool event_matches(const cJSON *f, const struct berth_event *ev)
{
        const char *name = berth_json_str(ev->attributes, "name");
        char action[64];

        if (!f)
                return true;
        /* "exec_start: sh" also matches event=exec_start */
        snprintf(action, sizeof(action), "%.*s", (int)strcspn(ev->action, ":"), ev->action);
        if (!api_filters_has(f, "event", ev->action) && !api_filters_has(f, "event", action))
                return false;
        if (!api_filters_has(f, "type", ev->type))
                return false;
        if (!api_filters_has(f, "scope", ev->scope))
                return false;
        if (!api_filters_match_labels(f, "label", ev->attributes))
                return false;
        static const char *const kinds[] = { "container", "daemon", "image", "network", "volume", "plugin",
                                             "node", "service", "secret", "config", NULL };
        for (const char *const *k = kinds; *k; k++) {
                if (!api_filters_present(f, *k))
                        continue;
                if (strcmp(ev->type, *k))
                        return false;
                bool by_id = api_filters_has(f, *k, ev->actor_id);
                bool by_name = name && api_filters_has(f, *k, name);
                /* images also match by their reference in `from` */
                const char *img = berth_json_str(ev->attributes, "image");
                if (!by_id && !by_name && !(img && api_filters_has(f, *k, img)))
                        return false;
        }
        return true;
}

static void on_timer_close(uv_handle_t *h)
{
        struct watch *w = h->data;

        cJSON_Delete(w->filters);
        api_req_unref(w->req);
        free(w);
}

static void watch_end(struct watch *w, bool send_terminator)
{
        if (w->ended)
                return;
        w->ended = true;
        if (w->sub)
                berth_events_unsubscribe(w->req->d->events, w->sub);
        w->sub = NULL;
        w->req->on_cancel = NULL;
        w->req->data = NULL;
        if (send_terminator)
                api_stream_end(w->req);
        uv_close((uv_handle_t *)&w->timer, on_timer_close);
}

static void send_event(const struct berth_event *ev, void *data)
{
        struct watch *w = data;
        struct buf b = BUF_INIT;
        cJSON *j;

        if (w->ended || !event_matches(w->filters, ev))
                return;
        /* a consumer that reads nothing while we queue megabytes is dropped */
        if (api_req_write_queue(w->req) > 16 * 1024 * 1024) {
                log_warn("api: events consumer of req %llu is too slow, closing", (unsigned long long)w->req->id);
                watch_end(w, true);
                return;
        }
        j = berth_event_to_json(ev);
        berth_json_append(&b, j);
        cJSON_Delete(j);
        api_stream_write(w->req, b.data, b.len);
        buf_release(&b);
}

static void on_until(uv_timer_t *t)
{
        watch_end(t->data, true);
}

static void on_cancel(struct api_req *r)
{
        struct watch *w = r->data;

        if (w)
                watch_end(w, false);
}

void api_h_events(struct api_req *r)
{
        struct berth_err err = BERTH_ERR_INIT;
        int64_t now = berth_now_ns(), since = -1, until = -1;
        const char *s;
        cJSON *filters = NULL;
        int rc;

        if ((s = api_query(r, "since")) && *s && api_parse_timestamp(s, now, &since) < 0) {
                api_reply_msg(r, 400, "invalid value for since: '%s'", s);
                return;
        }
        if ((s = api_query(r, "until")) && *s && api_parse_timestamp(s, now, &until) < 0) {
                api_reply_msg(r, 400, "invalid value for until: '%s'", s);
                return;
        }
        if (since >= 0 && until >= 0 && until < since) {
                api_reply_msg(r, 400, "`since` time (%s) cannot be after `until` time", api_query(r, "since"));
                return;
        }
        rc = api_filters_parse(api_query(r, "filters"), &filters, &err);
        if (rc == 0)
                rc = api_filters_check(filters, allowed, &err);
        if (rc < 0) {
                cJSON_Delete(filters);
                api_reply_error(r, rc, &err);
                return;
        }
        struct watch *w = xcalloc(1, sizeof(*w));
        w->req = r;
        w->filters = filters;
        api_req_ref(r);
        uv_timer_init(r->d->loop, &w->timer);
        w->timer.data = w;
        r->data = w;
        r->on_cancel = on_cancel;
        api_stream_start(r, 200, "application/json");
        if (since >= 0)
                berth_events_replay(r->d->events, since, until >= 0 ? until : INT64_MAX, send_event, w);
        if (w->ended)
                return;
        if (until >= 0 && until <= now) {
                watch_end(w, true);
                return;
        }
        w->sub = berth_events_subscribe(r->d->events, send_event, w);
        if (until >= 0)
                uv_timer_start(&w->timer, on_until, (uint64_t)((until - now) / 1000000) + 1, 0);
}
