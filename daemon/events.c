/* SPDX-License-Identifier: Apache-2.0
 * daemon/events.c -- the events bus: every state change of every object goes
 * through here, kept in a bounded history ring for `since` and handed to the
 * live subscribers (GET /events streams).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "daemon/daemon.h"

struct sub {
        struct sub *next;
        berth_event_cb cb;
        void *data;
        bool dead;
};

struct berth_events {
        struct berth_event *ring;
        size_t cap, start, len;
        struct sub *subs;
        size_t n_subs;
        int publishing;         /* >0 while calling subscribers */
        int64_t last_ns;
};

static void event_release(struct berth_event *ev)
{
        free(ev->type);
        free(ev->action);
        free(ev->actor_id);
        free(ev->scope);
        cJSON_Delete(ev->attributes);
        memset(ev, 0, sizeof(*ev));
}

struct berth_events *berth_events_new(size_t history)
{
        struct berth_events *e = xcalloc(1, sizeof(*e));

        e->cap = history ? history : 1;
        e->ring = xcalloc(e->cap, sizeof(*e->ring));
        return e;
}

struct berth_events *berth_events_free(struct berth_events *e)
{
        if (!e)
                return NULL;
        for (size_t i = 0; i < e->len; i++)
                event_release(&e->ring[(e->start + i) % e->cap]);
        free(e->ring);
        while (e->subs) {
                struct sub *s = e->subs;
                e->subs = s->next;
                free(s);
        }
        free(e);
        return NULL;
}

static void reap_dead(struct berth_events *e)
{
        struct sub **pp = &e->subs;

        while (*pp) {
                struct sub *s = *pp;
                if (s->dead) {
                        *pp = s->next;
                        free(s);
                } else {
                        pp = &s->next;
                }
        }
}

void berth_events_publish(struct berth_events *e, const char *type, const char *action,
                          const char *actor_id, cJSON *attributes)
{
        struct berth_event *ev;
        int64_t now = berth_now_ns();

        /* strictly increasing timestamps keep since/until replay exact */
        if (now <= e->last_ns)
                now = e->last_ns + 1;
        e->last_ns = now;
        if (e->len == e->cap) {
                event_release(&e->ring[e->start]);
                e->start = (e->start + 1) % e->cap;
                e->len--;
        }
        ev = &e->ring[(e->start + e->len) % e->cap];
        e->len++;
        ev->type = xstrdup(type);
        ev->action = xstrdup(action);
        ev->actor_id = xstrdup(actor_id ? actor_id : "");
        ev->attributes = attributes ? attributes : cJSON_CreateObject();
        ev->scope = xstrdup("local");
        ev->time_ns = now;
        e->publishing++;
        for (struct sub *s = e->subs; s; s = s->next)
                if (!s->dead)
                        s->cb(ev, s->data);
        if (--e->publishing == 0)
                reap_dead(e);
}

int64_t berth_events_last_ns(const struct berth_events *e)
{
        return e->last_ns;
}

void berth_events_replay(struct berth_events *e, int64_t since_ns, int64_t until_ns,
                         berth_event_cb cb, void *data)
{
        for (size_t i = 0; i < e->len; i++) {
                const struct berth_event *ev = &e->ring[(e->start + i) % e->cap];
                if (ev->time_ns >= since_ns && ev->time_ns <= until_ns)
                        cb(ev, data);
        }
}

void *berth_events_subscribe(struct berth_events *e, berth_event_cb cb, void *data)
{
        struct sub *s = xcalloc(1, sizeof(*s));

        s->cb = cb;
        s->data = data;
        s->next = e->subs;
        e->subs = s;
        e->n_subs++;
        return s;
}

void berth_events_unsubscribe(struct berth_events *e, void *handle)
{
        struct sub *s = handle;

        if (!s || s->dead)
                return;
        s->dead = true;
        e->n_subs--;
        if (!e->publishing)
                reap_dead(e);
}

size_t berth_events_listeners(const struct berth_events *e)
{
        return e->n_subs;
}

cJSON *berth_event_to_json(const struct berth_event *ev)
{
        cJSON *j = cJSON_CreateObject(), *actor;

        /* the deprecated status/id/from triple is still sent for containers
         * and images (API 1.44 keeps them; the CLI's formatter reads Actor) */
        if (!strcmp(ev->type, "container") || !strcmp(ev->type, "image")) {
                cJSON_AddStringToObject(j, "status", ev->action);
                cJSON_AddStringToObject(j, "id", ev->actor_id);
                const char *img = berth_json_str(ev->attributes, "image");
                if (img)
                        cJSON_AddStringToObject(j, "from", img);
        }
        cJSON_AddStringToObject(j, "Type", ev->type);
        cJSON_AddStringToObject(j, "Action", ev->action);
        actor = cJSON_AddObjectToObject(j, "Actor");
        cJSON_AddStringToObject(actor, "ID", ev->actor_id);
        cJSON_AddItemToObject(actor, "Attributes", cJSON_Duplicate(ev->attributes, true));
        cJSON_AddStringToObject(j, "scope", ev->scope);
        /* int64 values beyond 2^53: raw digits, never a lossy double */
        char num[32];
        (void)snprintf(num, sizeof(num), "%lld", (long long)(ev->time_ns / 1000000000));
        cJSON_AddRawToObject(j, "time", num);
        (void)snprintf(num, sizeof(num), "%lld", (long long)ev->time_ns);
        cJSON_AddRawToObject(j, "timeNano", num);
        return j;
}
