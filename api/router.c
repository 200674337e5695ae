/* SPDX-License-Identifier: Apache-2.0
 * api/router.c -- the route table, /vN.N version prefixes and dispatch. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "api/api-internal.h"

const struct api_route api_routes[] = {
        { "GET", "/_ping", api_h_ping, 0 },
        { "HEAD", "/_ping", api_h_ping, 0 },
        { "GET", "/version", api_h_version, 0 },
        { "GET", "/info", api_h_info, 0 },
        { "GET", "/events", api_h_events, 0 },
        { "GET", "/images/json", api_h_images_list, 0 },
        { "POST", "/images/load", api_h_images_load, API_ROUTE_STREAM_BODY },
        { "POST", "/images/create", api_h_images_create, API_ROUTE_STREAM_BODY },
        { "POST", "/images/prune", api_h_images_prune, 0 },
        { "GET", "/images/get", api_h_images_get, 0 },
        { "GET", "/images/{name*}/json", api_h_image_inspect, 0 },
        { "GET", "/images/{name*}/history", api_h_image_history, 0 },
        { "GET", "/images/{name*}/get", api_h_image_get, 0 },
        { "POST", "/images/{name*}/tag", api_h_image_tag, 0 },
        { "DELETE", "/images/{name*}", api_h_image_remove, 0 },
        { "GET", "/system/df", api_h_system_df, 0 },
        { "GET", "/volumes", api_h_volumes_list, 0 },
        { "POST", "/volumes/create", api_h_volume_create, 0 },
        { "POST", "/volumes/prune", api_h_volumes_prune, 0 },
        { "GET", "/volumes/{name}", api_h_volume_inspect, 0 },
        { "DELETE", "/volumes/{name}", api_h_volume_remove, 0 },
};
const size_t api_n_routes = ARRAY_SIZE(api_routes);

const struct api_route *api_all_routes(size_t *ret_n)
{
        static struct api_route *all;
        static size_t n;

        if (!all) {
                const struct { const struct api_route *t; size_t n; } parts[] = {
                        { api_routes, api_n_routes },
                        { api_network_routes, api_n_network_routes },
                        { api_container_routes, api_n_container_routes },
                        { api_stream_routes, api_n_stream_routes },
                        { api_exec_routes, api_n_exec_routes },
                        { api_fs_routes, api_n_fs_routes },
                        { api_stats_routes, api_n_stats_routes },
                };
                for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
                        n += parts[i].n;
                all = xcalloc(n ? n : 1, sizeof(*all));
                n = 0;
                for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
                        for (size_t k = 0; k < parts[i].n; k++)
                                all[n++] = parts[i].t[k];
        }
        *ret_n = n;
        return all;
}

const struct api_route api_metrics_routes[] = {
        { "GET", "/metrics", api_h_metrics, API_ROUTE_NO_VERSION },
};
const size_t api_n_metrics_routes = ARRAY_SIZE(api_metrics_routes);

int api_split_version(const char *path, int *major, int *minor, const char **rest)
{
        const char *p = path;
        int ma = 0, mi = 0, digits = 0;

        if (strncmp(p, "/v", 2) || !(p[2] >= '0' && p[2] <= '9')) {
                *rest = path;
                return 0;
        }
        p += 2;
        while (*p >= '0' && *p <= '9' && digits < 4)
                ma = ma * 10 + (*p++ - '0'), digits++;
        if (*p != '.' || digits == 0 || digits >= 4)
                return -EINVAL;
        p++;
        digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 4)
                mi = mi * 10 + (*p++ - '0'), digits++;
        if (digits == 0 || digits >= 4 || (*p != '/' && *p != '\0'))
                return -EINVAL;
        *major = ma;
        *minor = mi;
        *rest = *p ? p : "/";
        return 1;
}

/* Match pattern segments against path segments; {x} takes one segment,
 * {x*} one or more.  Captures go to caps[]. */
static bool match(const char *pat, const char *path, char **caps, size_t *n_caps)
{
        while (*pat && *path) {
                if (*pat != '/' || *path != '/')
                        return false;
                pat++;
                path++;
                size_t pl = strcspn(pat, "/"), sl = strcspn(path, "/");
                if (pat[0] == '{') {
                        bool greedy = pl >= 3 && pat[pl - 2] == '*';
                        if (*n_caps >= API_MAX_PARAMS)
                                return false;
                        if (!greedy) {
                                if (sl == 0)
                                        return false;
                                caps[(*n_caps)++] = xstrndup(path, sl);
                                pat += pl;
                                path += sl;
                                continue;
                        }
                        /* greedy: try the longest span that lets the rest match */
                        const char *rest_pat = pat + pl;
                        size_t plen = strlen(path);
                        for (size_t end = plen; end > 0; end--) {
                                if (path[end] != '\0' && path[end] != '/')
                                        continue;
                                size_t saved = *n_caps;
                                caps[(*n_caps)++] = xstrndup(path, end);
                                if (match(rest_pat, path + end, caps, n_caps) || (!*rest_pat && !path[end]))
                                        return true;
                                while (*n_caps > saved)
                                        free(caps[--(*n_caps)]);
                        }
                        return false;
                }
                if (pl != sl || strncmp(pat, path, pl))
                        return false;
                pat += pl;
                path += sl;
        }
        /* a trailing slash on the request is tolerated */
        if (!*pat && (!*path || !strcmp(path, "/")))
                return true;
        return false;
}

void api_route_match(struct api_req *r, const struct api_route *table, size_t n)
{
        const char *rest;
        int major = 1, minor = BERTH_API_MINOR;
        int v = api_split_version(r->path, &major, &minor, &rest);

        r->route = NULL;
        r->method_mismatch = false;
        if (v < 0)
                return;         /* malformed prefix: not found */
        if (v == 1) {
                r->versioned = true;
                snprintf(r->version_str, sizeof(r->version_str), "%d.%d", major, minor);
                if (major != 1 || minor > BERTH_API_MINOR || minor < BERTH_MIN_API_MINOR)
                        r->version_error = true;
                else
                        r->api_minor = minor;
        }
        for (size_t i = 0; i < n; i++) {
                const struct api_route *rt = &table[i];
                char *caps[API_MAX_PARAMS] = { 0 };
                size_t n_caps = 0;
                if (v == 1 && (rt->flags & API_ROUTE_NO_VERSION))
                        continue;
                if (!match(rt->pattern, rest, caps, &n_caps)) {
                        for (size_t k = 0; k < n_caps; k++)
                                free(caps[k]);
                        continue;
                }
                if (strcmp(rt->method, r->method)) {
                        r->method_mismatch = true;
                        for (size_t k = 0; k < n_caps; k++)
                                free(caps[k]);
                        continue;
                }
                for (size_t k = 0; k < API_MAX_PARAMS; k++) {
                        free(r->params[k]);
                        r->params[k] = caps[k];
                }
                r->route = rt;
                r->method_mismatch = false;
                return;
        }
}

void api_dispatch(struct api_req *r)
{
        if (r->version_error) {
                int major = 0, minor = 0;
                const char *rest;
                (void)api_split_version(r->path, &major, &minor, &rest);
                if (major > 1 || (major == 1 && minor > BERTH_API_MINOR))
                        api_reply_msg(r, 400, "client version %s is too new. Maximum supported API version is %s",
                                      r->version_str, BERTH_API_VERSION);
                else
                        api_reply_msg(r, 400,
                                      "client version %s is too old. Minimum supported API version is %s, "
                                      "please upgrade your client to a newer version",
                                      r->version_str, BERTH_MIN_API_VERSION);
                return;
        }
        if (!r->route) {
                if (r->method_mismatch)
                        api_reply_msg(r, 405, "method %s not allowed for %s", r->method, r->path);
                else
                        api_reply_msg(r, 404, "page not found");
                return;
        }
        if (!r->query_parsed)
                (void)api_query(r, "");
        if (r->query_bad) {
                api_reply_msg(r, 400, "invalid query string: bad percent-encoding");
                return;
        }
        r->route->fn(r);
}
