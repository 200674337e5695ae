/* SPDX-License-Identifier: Apache-2.0
 * api/networks.c -- /networks: list, inspect, create, remove, prune,
 * connect and disconnect.  The network objects live in daemon/networks.c;
 * what blocks (netlink, nftables, fsync) runs there through net_queue(), so
 * create/remove/prune answer from a completion callback. */
#include "config.h"

#include <string.h>

#include "api/api-internal.h"

static int need_networks(struct api_req *r)
{
        if (r->d->networks)
                return 0;
        api_reply_msg(r, 500, "the network store is not available");
        return -1;
}

static bool predefined(const cJSON *n)
{
        const char *name = berth_json_str(n, "Name");

        return name && (!strcmp(name, "bridge") || !strcmp(name, "host") || !strcmp(name, "none"));
}

static bool has_containers(const cJSON *n)
{
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(n, "Containers");

        return c && cJSON_GetArraySize(c) > 0;
}

/* name: substring; id: prefix (as Docker's filters behave for these) */
static bool match_str(const cJSON *filters, const char *key, const char *val, bool prefix)
{
        const cJSON *vals = cJSON_GetObjectItemCaseSensitive(filters, key), *v;

        if (!vals || cJSON_GetArraySize(vals) == 0)
                return true;
        cJSON_ArrayForEach(v, vals) {
                if (!cJSON_IsString(v) || !val)
                        continue;
                if (prefix ? berth_str_has_prefix(val, v->valuestring) : strstr(val, v->valuestring) != NULL)
                        return true;
        }
        return false;
}

/* label!=k or label!=k=v: true when any of them matches (then excluded) */
static bool match_not_label(const cJSON *filters, const cJSON *labels)
{
        const cJSON *vals = cJSON_GetObjectItemCaseSensitive(filters, "label!"), *v;

        cJSON_ArrayForEach(v, vals) {
                cJSON *one = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(one, "l");
                bool m;
                cJSON_AddItemToArray(arr, cJSON_CreateString(v->valuestring));
                m = api_filters_match_labels(one, "l", labels);
                cJSON_Delete(one);
                if (m)
                        return true;
        }
        return false;
}

/* ---- list ---- */

void api_h_networks_list(struct api_req *r);
void api_h_networks_list(struct api_req *r)
{
        static const char *const allowed[] = { "dangling", "driver", "id", "label", "name", "scope", "type", NULL };
        struct berth_err err = BERTH_ERR_INIT;
        _cleanup_json_ cJSON *filters = NULL;
        cJSON *all, *out, *n, *next, *v;
        int dangling = -1;
        int rc;

        if (need_networks(r) < 0)
                return;
        rc = api_filters_parse(api_query(r, "filters"), &filters, &err);
        if (rc >= 0 && filters)
                rc = api_filters_check(filters, allowed, &err);
        cJSON_ArrayForEach(v, (filters ? cJSON_GetObjectItemCaseSensitive(filters, "type") : NULL))
                if (rc >= 0 && strcmp(v->valuestring, "custom") && strcmp(v->valuestring, "builtin"))
                        rc = berth_err_pub(&err, EINVAL, "invalid filter: 'type'='%s'", v->valuestring);
        cJSON_ArrayForEach(v, (filters ? cJSON_GetObjectItemCaseSensitive(filters, "dangling") : NULL)) {
                if (rc < 0)
                        break;
                if (!strcmp(v->valuestring, "true") || !strcmp(v->valuestring, "1"))
                        dangling = 1;
                else if (!strcmp(v->valuestring, "false") || !strcmp(v->valuestring, "0"))
                        dangling = 0;
                else
                        rc = berth_err_pub(&err, EINVAL, "invalid filter 'dangling=%s'", v->valuestring);
        }
        if (rc < 0) {
                api_reply_error(r, rc, &err);
                return;
        }
        all = berth_networks_list_json(r->d);
        if (!filters) {
                api_reply_json(r, 200, all);
                return;
        }
        out = cJSON_CreateArray();
        for (n = all->child; n; n = next) {
                bool pre = predefined(n);
                next = n->next;
                if (!match_str(filters, "name", berth_json_str(n, "Name"), false) ||
                    !match_str(filters, "id", berth_json_str(n, "Id"), true) ||
                    !api_filters_has(filters, "driver", berth_json_str(n, "Driver")) ||
                    !api_filters_has(filters, "scope", "local") ||
                    !api_filters_has(filters, "type", pre ? "builtin" : "custom") ||
                    !api_filters_match_labels(filters, "label", cJSON_GetObjectItemCaseSensitive(n, "Labels")))
                        continue;
                if (dangling >= 0 && dangling != (!pre && !has_containers(n)))
                        continue;
                cJSON_AddItemToArray(out, cJSON_DetachItemViaPointer(all, n));
        }
        cJSON_Delete(all);
        api_reply_json(r, 200, out);
}

/* ---- inspect ---- */

void api_h_network_inspect(struct api_req *r);
void api_h_network_inspect(struct api_req *r)
{
        struct berth_err err = BERTH_ERR_INIT;
        cJSON *out = NULL;
        int rc;

        if (need_networks(r) < 0)
                return;
        rc = berth_network_inspect_json(r->d, api_param(r, 0), &out, &err);
        if (rc < 0) {
                api_reply_error(r, rc, &err);
                return;
        }
        api_reply_json(r, 200, out);
}

/* ---- create ---- */

static void create_cb(int status, const struct berth_err *err, const char *id, void *data)
{
        struct api_req *r = data;

        if (!r->cancelled) {
                if (status < 0) {
                        api_reply_error(r, status, err);
                } else {
                        cJSON *o = cJSON_CreateObject();
                        cJSON_AddStringToObject(o, "Id", id);
                        cJSON_AddStringToObject(o, "Warning", "");
                        api_reply_json(r, 201, o);
                }
        }
        api_req_unref(r);
}

void api_h_network_create(struct api_req *r);
void api_h_network_create(struct api_req *r)
{
        struct berth_err err = BERTH_ERR_INIT;
        _cleanup_json_ cJSON *body = NULL;
        int rc;

        if (need_networks(r) < 0)
                return;
        rc = api_body_json(r, false, &body, &err);
        if (rc < 0) {
                api_reply_error(r, rc, &err);
                return;
        }
        api_req_defer(r);
        api_req_ref(r);
        rc = berth_network_create(r->d, body, create_cb, r, &err);
        if (rc < 0) {
                api_reply_error(r, rc, &err);
                api_req_unref(r);
        }
}

/* ---- remove ---- */

static void remove_cb(int status, const struct berth_err *err, void *data)
{
        struct api_req *r = data;

        if (!r->cancelled) {
                if (status < 0)
                        api_reply_error(r, status, err);
                else
                        api_reply_status(r, 204);
        }
        api_req_unref(r);
}

void api_h_network_remove(struct api_req *r);
void api_h_network_remove(struct api_req *r)
{
        struct berth_err err = BERTH_ERR_INIT;
        int rc;

        if (need_networks(r) < 0)
                return;
        api_req_defer(r);
        api_req_ref(r);
        rc = berth_network_remove(r->d, api_param(r, 0), remove_cb, r, &err);
        if (rc < 0) {
                api_reply_error(r, rc, &err);
                api_req_unref(r);
        }
}

/* ---- prune ---- */

static void prune_cb(int status, const struct berth_err *err, cJSON *deleted, void *data)
{
        struct api_req *r = data;

        if (!r->cancelled) {
                if (status < 0) {
                        api_reply_error(r, status, err);
                } else {
                        cJSON *o = cJSON_CreateObject();
                        cJSON_AddItemToObject(o, "NetworksDeleted", deleted ? deleted : cJSON_CreateArray());
                        deleted = NULL;
                        api_reply_json(r, 200, o);
                }
        }
        cJSON_Delete(deleted);
        api_req_unref(r);
}

void api_h_networks_prune(struct api_req *r);
void api_h_networks_prune(struct api_req *r)
{
        static const char *const allowed[] = { "label", "label!", "until", NULL };
        struct berth_err err = BERTH_ERR_INIT;
        _cleanup_json_ cJSON *filters = NULL, *all = NULL, *ids = NULL;
        const cJSON *n, *u;
        int64_t until = INT64_MAX, now = berth_now_ns();
        int rc;

        if (need_networks(r) < 0)
                return;
        rc = api_filters_parse(api_query(r, "filters"), &filters, &err);
        if (rc >= 0 && filters)
                rc = api_filters_check(filters, allowed, &err);
        u = filters ? cJSON_GetObjectItemCaseSensitive(filters, "until") : NULL;
        if (rc >= 0 && cJSON_GetArraySize(u) > 1)
                rc = berth_err_pub(&err, EINVAL, "more than one until filter specified");
        if (rc >= 0 && cJSON_GetArraySize(u) == 1 &&
            api_parse_timestamp(cJSON_GetArrayItem(u, 0)->valuestring, now, &until) < 0)
                rc = berth_err_pub(&err, EINVAL, "invalid until filter '%s'", cJSON_GetArrayItem(u, 0)->valuestring);
        if (rc < 0) {
                api_reply_error(r, rc, &err);
                return;
        }
        all = berth_networks_list_json(r->d);
        ids = cJSON_CreateArray();
        cJSON_ArrayForEach(n, all) {
                const cJSON *labels = cJSON_GetObjectItemCaseSensitive(n, "Labels");
                const char *created = berth_json_str(n, "Created");
                int64_t cns = 0;
                if (predefined(n) || has_containers(n))
                        continue;
                if (!api_filters_match_labels(filters, "label", labels) || match_not_label(filters, labels))
                        continue;
                if (until != INT64_MAX && (!created || api_parse_timestamp(created, now, &cns) < 0 || cns >= until))
                        continue;
                cJSON_AddItemToArray(ids, cJSON_CreateString(berth_json_str(n, "Id")));
        }
        api_req_defer(r);
        api_req_ref(r);
        rc = berth_networks_prune(r->d, ids, prune_cb, r, &err);
        if (rc < 0) {
                api_reply_error(r, rc, &err);
                api_req_unref(r);
        }
}

/* ---- connect / disconnect ----
 * The container's NetworkingConfig records the endpoint (Compose connects
 * before start); on a running container it is attached or detached at once
 * (daemon/sandbox.c). */

static void conn_cb(int status, const struct berth_err *err, void *data)
{
        struct api_req *r = data;

        if (!r->cancelled) {
                if (status < 0)
                        api_reply_error(r, status, err);
                else
                        api_reply_status(r, 200);
        }
        api_req_unref(r);
}

static void connect_common(struct api_req *r, bool connect)
{
        struct berth_err err = BERTH_ERR_INIT;
        _cleanup_json_ cJSON *body = NULL;
        struct berth_container *c;
        const char *ctr;
        const cJSON *v;
        int rc;

        if (need_networks(r) < 0)
                return;
        rc = berth_network_resolve(r->d, api_param(r, 0), NULL, NULL, NULL, &err);
        if (rc >= 0)
                rc = api_body_json(r, false, &body, &err);
        if (rc >= 0) {
                v = cJSON_GetObjectItemCaseSensitive(body, "Container");
                if (!cJSON_IsString(v) || !*v->valuestring)
                        rc = berth_err_pub(&err, EINVAL, "a container name or ID is required");
        }
        if (rc < 0) {
                api_reply_error(r, rc, &err);
                return;
        }
        ctr = berth_json_str(body, "Container");
        c = r->d->containers ? berth_container_find(r->d, ctr, &err) : NULL;
        if (!c) {
                if (!err.msg[0])
                        (void)berth_err_pub(&err, ENOENT, "No such container: %s", ctr);
                api_reply_error(r, -err.code, &err);
                return;
        }
        if (c->state == CTR_REMOVING) {
                api_reply_msg(r, 409, "container %s is marked for removal and cannot be connected or disconnected",
                              c->id);
                return;
        }
        api_req_defer(r);
        api_req_ref(r);
        if (connect)
                rc = berth_sandbox_connect(r->d, c, api_param(r, 0),
                                           cJSON_GetObjectItemCaseSensitive(body, "EndpointConfig"), conn_cb, r, &err);
        else
                rc = berth_sandbox_disconnect(r->d, c, api_param(r, 0),
                                              cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "Force")), conn_cb, r,
                                              &err);
        if (rc < 0) {
                api_reply_error(r, rc, &err);
                api_req_unref(r);
        }
}

void api_h_network_connect(struct api_req *r);
void api_h_network_connect(struct api_req *r)
{
        connect_common(r, true);
}

void api_h_network_disconnect(struct api_req *r);
void api_h_network_disconnect(struct api_req *r)
{
        connect_common(r, false);
}

const struct api_route api_network_routes[] = {
        { "GET", "/networks", api_h_networks_list, 0 },
        { "POST", "/networks/create", api_h_network_create, 0 },
        { "POST", "/networks/prune", api_h_networks_prune, 0 },
        { "GET", "/networks/{id}", api_h_network_inspect, 0 },
        { "DELETE", "/networks/{id}", api_h_network_remove, 0 },
        { "POST", "/networks/{id}/connect", api_h_network_connect, 0 },
        { "POST", "/networks/{id}/disconnect", api_h_network_disconnect, 0 },
};
const size_t api_n_network_routes = ARRAY_SIZE(api_network_routes);
