/* SPDX-License-Identifier: Apache-2.0
 * api/volumes.c -- /volumes: list, create, inspect, remove, prune.  The
 * store's calls block on disk (fsync), so each runs on the thread pool. */
#include "config.h"

#include <string.h>

#include "api/api-internal.h"
#include "storage/storage.h"

static void publish(struct api_work *aw, const char *action, const char *name)
{
        cJSON *attrs = cJSON_CreateObject();

        cJSON_AddStringToObject(attrs, "driver", "local");
        berth_events_publish(aw->d->events, "volume", action, name, attrs);
}

/* ---- list ---- */

static int list_fn(struct api_work *aw)
{
        return storage_volume_list(aw->d->storage, aw->in, &aw->out, &aw->err);
}

void api_h_volumes_list(struct api_req *r)
{
        struct api_work *aw;
        cJSON *filters = NULL;

        if (api_need_storage(r) < 0)
                return;
        if (api_query_filters(r, NULL, &filters) < 0)
                return;
        aw = api_work_new(r);
        aw->in = filters;
        api_work_queue(aw, list_fn, api_work_reply_200);
}

/* ---- create ---- */

static int create_fn(struct api_work *aw)
{
        const cJSON *b = aw->in;
        struct storage_volume_opts o = {
                .name = berth_json_str(b, "Name"),
                .driver = berth_json_str(b, "Driver"),
                .labels = cJSON_GetObjectItemCaseSensitive(b, "Labels"),
                .driver_opts = cJSON_GetObjectItemCaseSensitive(b, "DriverOpts"),
        };

        if (cJSON_IsNull(o.labels))
                o.labels = NULL;
        if (cJSON_IsNull(o.driver_opts))
                o.driver_opts = NULL;
        return storage_volume_create(aw->d->storage, &o, &aw->out, &aw->err);
}

static void create_done(struct api_work *aw)
{
        if (aw->rc == 0) {
                const char *name = berth_json_str(aw->out, "Name");
                publish(aw, "create", name ? name : "");
        }
        api_work_reply_json(aw, 201);
}

static int check_string_map(const cJSON *b, const char *key, struct berth_err *err)
{
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(b, key), *e;

        if (!m || cJSON_IsNull(m))
                return 0;
        if (!cJSON_IsObject(m))
                return berth_err_pub(err, EINVAL, "json: %s must be an object of strings", key);
        cJSON_ArrayForEach(e, m) if (!cJSON_IsString(e)) return berth_err_pub(
                err, EINVAL, "json: %s: value of '%s' must be a string", key, e->string);
        return 0;
}

void api_h_volume_create(struct api_req *r)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct api_work *aw;
        cJSON *body = NULL, *v;
        int rc;

        if (api_need_storage(r) < 0)
                return;
        rc = api_body_json(r, true, &body, &err);
        if (rc == 0) {
                static const char *const str_keys[] = { "Name", "Driver", NULL };
                for (const char *const *k = str_keys; *k && rc == 0; k++) {
                        v = cJSON_GetObjectItemCaseSensitive(body, *k);
                        if (v && !cJSON_IsString(v) && !cJSON_IsNull(v))
                                rc = berth_err_pub(&err, EINVAL, "json: %s must be a string", *k);
                }
        }
        if (rc == 0)
                rc = check_string_map(body, "Labels", &err);
        if (rc == 0)
                rc = check_string_map(body, "DriverOpts", &err);
        if (rc < 0) {
                cJSON_Delete(body);
                api_reply_error(r, rc, &err);
                return;
        }
        aw = api_work_new(r);
        aw->in = body;
        api_work_queue(aw, create_fn, create_done);
}

/* ---- inspect ---- */

static int inspect_fn(struct api_work *aw)
{
        return storage_volume_inspect(aw->d->storage, aw->s1, &aw->out, &aw->err);
}

void api_h_volume_inspect(struct api_req *r)
{
        struct api_work *aw;

        if (api_need_storage(r) < 0)
                return;
        aw = api_work_new(r);
        aw->s1 = xstrdup(api_param(r, 0));
        api_work_queue(aw, inspect_fn, api_work_reply_200);
}

/* ---- remove ---- */

static int remove_fn(struct api_work *aw)
{
        return storage_volume_remove(aw->d->storage, aw->s1, aw->b1, &aw->err);
}

static void remove_done(struct api_work *aw)
{
        if (aw->rc == 0) {
                publish(aw, "destroy", aw->s1);
                api_reply_status(aw->req, 204);
                return;
        }
        api_reply_error(aw->req, aw->rc, &aw->err);
}

void api_h_volume_remove(struct api_req *r)
{
        struct api_work *aw;

        if (api_need_storage(r) < 0)
                return;
        aw = api_work_new(r);
        aw->s1 = xstrdup(api_param(r, 0));
        aw->b1 = api_query_bool(r, "force", false);
        api_work_queue(aw, remove_fn, remove_done);
}

/* ---- prune ---- */

static int prune_fn(struct api_work *aw)
{
        return storage_volume_prune(aw->d->storage, aw->b1, aw->in, &aw->out, &aw->err);
}

static void prune_done(struct api_work *aw)
{
        const cJSON *del = aw->out ? cJSON_GetObjectItemCaseSensitive(aw->out, "VolumesDeleted") : NULL, *e;

        if (aw->rc == 0) {
                cJSON_ArrayForEach(e, del) if (cJSON_IsString(e)) publish(aw, "destroy", e->valuestring);
                berth_events_publish(aw->d->events, "volume", "prune", "", NULL);
        }
        api_work_reply_json(aw, 200);
}

void api_h_volumes_prune(struct api_req *r)
{
        struct api_work *aw;
        cJSON *filters = NULL;

        if (api_need_storage(r) < 0)
                return;
        if (api_query_filters(r, NULL, &filters) < 0)
                return;
        /* API 1.42+: only anonymous volumes unless filter all=true */
        aw = api_work_new(r);
        aw->b1 = r->api_minor < 42;
        if (filters && api_filters_present(filters, "all")) {
                const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(filters, "all"), 0);
                aw->b1 = a && cJSON_IsString(a) && berth_parse_bool(a->valuestring);
                cJSON_DeleteItemFromObjectCaseSensitive(filters, "all");
        }
        aw->in = filters;
        api_work_queue(aw, prune_fn, prune_done);
}
