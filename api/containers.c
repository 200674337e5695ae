/* SPDX-License-Identifier: Apache-2.0
 * api/containers.c -- /containers: create (image lookup, rootfs, state
 * file), inspect, list with filters, rename, remove, prune.  Disk work runs
 * on the thread pool; the container table lives on the loop.
 */
#include "config.h"

#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "api/api-internal.h"
#include "runtime/spec.h"
#include "storage/storage.h"

static const char *const default_masked[] = {
        "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap", NULL,
};
static const char *const default_readonly[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static void publish(struct berth_daemon *d, const struct berth_container *c, const char *action, cJSON *extra)
{
        cJSON *attrs = extra ? extra : cJSON_CreateObject();
        const char *image = c->config ? berth_json_str(c->config, "Image") : NULL;
        const cJSON *labels = c->config ? cJSON_GetObjectItemCaseSensitive(c->config, "Labels") : NULL, *l;

        cJSON_ArrayForEach(l, labels) if (cJSON_IsString(l) && !cJSON_GetObjectItemCaseSensitive(attrs, l->string))
                cJSON_AddStringToObject(attrs, l->string, l->valuestring);
        if (image && !cJSON_GetObjectItemCaseSensitive(attrs, "image"))
                cJSON_AddStringToObject(attrs, "image", image);
        if (!cJSON_GetObjectItemCaseSensitive(attrs, "name"))
                cJSON_AddStringToObject(attrs, "name", c->name + 1);
        berth_events_publish(d->events, "container", action, c->id, attrs);
}

/* ---- create ---- */

static bool is_empty(const cJSON *j)
{
        return !j || cJSON_IsNull(j) || (cJSON_IsArray(j) && cJSON_GetArraySize(j) == 0);
}

/* Env merge: the image's, overridden by the container's for the same key */
static cJSON *merge_env(const cJSON *img, const cJSON *ctr)
{
        cJSON *out = cJSON_CreateArray();
        const cJSON *e, *f;

        cJSON_ArrayForEach(e, img) {
                if (!cJSON_IsString(e))
                        continue;
                size_t k = strcspn(e->valuestring, "=");
                bool overridden = false;
                cJSON_ArrayForEach(f, ctr) if (cJSON_IsString(f) && !strncmp(f->valuestring, e->valuestring, k) &&
                                                (f->valuestring[k] == '=' || f->valuestring[k] == '\0'))
                        overridden = true;
                if (!overridden)
                        cJSON_AddItemToArray(out, cJSON_CreateString(e->valuestring));
        }
        cJSON_ArrayForEach(f, ctr) if (cJSON_IsString(f)) cJSON_AddItemToArray(out, cJSON_CreateString(f->valuestring));
        return out;
}

static void merge_object(cJSON *into, const char *key, const cJSON *from)
{
        cJSON *dst = cJSON_GetObjectItemCaseSensitive(into, key);
        const cJSON *e;

        if (!cJSON_IsObject(from))
                return;
        if (!cJSON_IsObject(dst)) {
                cJSON_DeleteItemFromObjectCaseSensitive(into, key);
                dst = cJSON_AddObjectToObject(into, key);
        }
        cJSON_ArrayForEach(e, from) if (!cJSON_GetObjectItemCaseSensitive(dst, e->string))
                cJSON_AddItemToObject(dst, e->string, cJSON_Duplicate(e, true));
}

static void set_item(cJSON *o, const char *key, cJSON *v)
{
        if (cJSON_GetObjectItemCaseSensitive(o, key))
                cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
        else
                cJSON_AddItemToObject(o, key, v);
}

static void default_str(cJSON *o, const char *key, const char *v)
{
        const char *cur = berth_json_str(o, key);

        if (!cur || !*cur)
                set_item(o, key, cJSON_CreateString(v));
}

static cJSON *str_list(const char *const *v)
{
        cJSON *a = cJSON_CreateArray();

        for (; *v; v++)
                cJSON_AddItemToArray(a, cJSON_CreateString(*v));
        return a;
}

/* Docker's merge of the image config into the container's Config; fills
 * path/args.  -EINVAL (public) when there is nothing to run. */
static int merge_config(cJSON *cfg, const cJSON *img, char **ret_path, cJSON **ret_args, struct berth_err *err)
{
        const cJSON *ep = cJSON_GetObjectItemCaseSensitive(cfg, "Entrypoint");
        const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(cfg, "Cmd");
        const cJSON *iep = img ? cJSON_GetObjectItemCaseSensitive(img, "Entrypoint") : NULL;
        const cJSON *icmd = img ? cJSON_GetObjectItemCaseSensitive(img, "Cmd") : NULL;
        cJSON *argv;

        if (is_empty(ep) && !cJSON_IsArray(ep)) {
                /* no entrypoint given: the image's, and its Cmd unless one was given */
                if (!is_empty(iep))
                        set_item(cfg, "Entrypoint", cJSON_Duplicate(iep, true));
                if (is_empty(cmd) && !is_empty(icmd))
                        set_item(cfg, "Cmd", cJSON_Duplicate(icmd, true));
        }
        ep = cJSON_GetObjectItemCaseSensitive(cfg, "Entrypoint");
        cmd = cJSON_GetObjectItemCaseSensitive(cfg, "Cmd");
        argv = cJSON_CreateArray();
        const cJSON *e;
        cJSON_ArrayForEach(e, ep) if (cJSON_IsString(e)) cJSON_AddItemToArray(argv, cJSON_CreateString(e->valuestring));
        cJSON_ArrayForEach(e, cmd) if (cJSON_IsString(e)) cJSON_AddItemToArray(argv, cJSON_CreateString(e->valuestring));
        if (cJSON_GetArraySize(argv) == 0) {
                cJSON_Delete(argv);
                return berth_err_pub(err, EINVAL, "no command specified");
        }
        cJSON *env = merge_env(img ? cJSON_GetObjectItemCaseSensitive(img, "Env") : NULL,
                               cJSON_GetObjectItemCaseSensitive(cfg, "Env"));
        set_item(cfg, "Env", env);
        if (img) {
                static const char *const strs[] = { "WorkingDir", "User", "StopSignal", NULL };
                for (const char *const *k = strs; *k; k++) {
                        const char *v = berth_json_str(img, *k);
                        if (v && *v)
                                default_str(cfg, *k, v);
                }
                merge_object(cfg, "Labels", cJSON_GetObjectItemCaseSensitive(img, "Labels"));
                merge_object(cfg, "ExposedPorts", cJSON_GetObjectItemCaseSensitive(img, "ExposedPorts"));
                merge_object(cfg, "Volumes", cJSON_GetObjectItemCaseSensitive(img, "Volumes"));
        }
        cJSON *first = cJSON_DetachItemFromArray(argv, 0);
        *ret_path = xstrdup(first->valuestring);
        cJSON_Delete(first);
        *ret_args = argv;
        return 0;
}

static int64_t num(const cJSON *o, const char *key)
{
        const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

        return berth_json_int64(v, 0);
}

/* The checks Docker makes before it creates anything (400s). */
static int validate_host_config(struct berth_daemon *d, const cJSON *hc, struct berth_err *err)
{
        const cJSON *rp = cJSON_GetObjectItemCaseSensitive(hc, "RestartPolicy");
        const char *policy = rp ? berth_json_str(rp, "Name") : NULL;

        if (!hc)
                return 0;
        if (!cJSON_IsObject(hc))
                return berth_err_pub(err, EINVAL, "json: HostConfig must be an object");
        if (policy && *policy && strcmp(policy, "no") && strcmp(policy, "always") && strcmp(policy, "on-failure") &&
            strcmp(policy, "unless-stopped"))
                return berth_err_pub(err, EINVAL, "invalid restart policy: unknown policy '%s'; use one of 'no', "
                                     "'always', 'on-failure', or 'unless-stopped'", policy);
        if (num(rp, "MaximumRetryCount") < 0)
                return berth_err_pub(err, EINVAL, "invalid restart policy: maximum retry count cannot be negative");
        if (num(rp, "MaximumRetryCount") > 0 && (!policy || strcmp(policy, "on-failure")))
                return berth_err_pub(err, EINVAL, "invalid restart policy: maximum retry count can only be used with 'on-failure'");
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(hc, "AutoRemove")) && policy && *policy && strcmp(policy, "no"))
                return berth_err_pub(err, EINVAL, "conflicting options: cannot use restart policy '%s' with AutoRemove "
                                     "(--rm)", policy);
        int64_t mem = num(hc, "Memory"), swap = num(hc, "MemorySwap");
        if (mem != 0 && mem < 6 * 1024 * 1024)
                return berth_err_pub(err, EINVAL, "Minimum memory limit allowed is 6MB");
        if (swap > 0 && mem == 0)
                return berth_err_pub(err, EINVAL, "You should always set the Memory limit when using Memoryswap limit");
        if (swap > 0 && swap < mem)
                return berth_err_pub(err, EINVAL, "Minimum memoryswap limit should be larger than memory limit, see usage");
        if (num(hc, "CpuShares") < 0)
                return berth_err_pub(err, EINVAL, "invalid CPU shares (%lld): value must be a positive integer",
                                     (long long)num(hc, "CpuShares"));
        if (num(hc, "NanoCpus") && (num(hc, "CpuQuota") || num(hc, "CpuPeriod")))
                return berth_err_pub(err, EINVAL, "Conflicting options: Nano CPUs and CPU Period cannot both be set");
        if (num(hc, "NanoCpus") < 0 || num(hc, "NanoCpus") > d->sys.ncpu * 1000000000LL)
                return berth_err_pub(err, EINVAL, "range of CPUs is from 0.01 to %ld.00, as there are only %ld CPUs "
                                     "available", d->sys.ncpu, d->sys.ncpu);
        if (num(hc, "OomScoreAdj") < -1000 || num(hc, "OomScoreAdj") > 1000)
                return berth_err_pub(err, EINVAL, "Invalid value %lld, range for oom score adj is [-1000, 1000]",
                                     (long long)num(hc, "OomScoreAdj"));
        const char *rt = berth_json_str(hc, "Runtime");
        if (rt && *rt && strcmp(rt, "berth") && !(strcmp(rt, "runc") == 0 && d->runc_path)) {
                bool found = false;
                for (size_t i = 0; i < d->cfg.n_runtimes; i++)
                        if (!strcmp(d->cfg.runtimes[i].name, rt))
                                found = true;
                if (!found)
                        return berth_err_pub(err, EINVAL, "unknown or invalid runtime name: %s", rt);
        }
        return 0;
}

/* HostConfig as inspect shows it: Docker's defaults filled in */
static void fill_host_config(struct berth_daemon *d, cJSON *hc)
{
        cJSON *lc = cJSON_GetObjectItemCaseSensitive(hc, "LogConfig");
        bool priv = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(hc, "Privileged"));

        if (!cJSON_IsObject(lc)) {
                lc = cJSON_CreateObject();
                set_item(hc, "LogConfig", lc);
        }
        default_str(lc, "Type", d->cfg.log_driver);
        if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(lc, "Config")))
                set_item(lc, "Config", cJSON_CreateObject());
        default_str(hc, "NetworkMode", "default");
        default_str(hc, "IpcMode", "private");
        default_str(hc, "CgroupnsMode", d->sys.cgroup_version == 2 ? "private" : "host");
        default_str(hc, "Runtime", d->cfg.default_runtime);
        if (num(hc, "ShmSize") <= 0)
                set_item(hc, "ShmSize", cJSON_CreateNumber(64 * 1024 * 1024));
        if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(hc, "RestartPolicy"))) {
                cJSON *rp = cJSON_CreateObject();
                cJSON_AddStringToObject(rp, "Name", "no");
                cJSON_AddNumberToObject(rp, "MaximumRetryCount", 0);
                set_item(hc, "RestartPolicy", rp);
        }
        default_str(cJSON_GetObjectItemCaseSensitive(hc, "RestartPolicy"), "Name", "no");
        if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(hc, "MaskedPaths")))
                set_item(hc, "MaskedPaths", priv ? cJSON_CreateArray() : str_list(default_masked));
        if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(hc, "ReadonlyPaths")))
                set_item(hc, "ReadonlyPaths", priv ? cJSON_CreateArray() : str_list(default_readonly));
        if (num(hc, "MemorySwappiness") < 0)
                set_item(hc, "MemorySwappiness", cJSON_CreateNull());
        if (num(hc, "PidsLimit") <= 0)
                set_item(hc, "PidsLimit", cJSON_CreateNull());
}

struct create {
        struct berth_container *c;      /* not yet in the table */
        char *image_ref;
        char *state_text;
};

static int create_fn(struct api_work *aw)
{
        struct create *cr = (struct create *)aw->n1;
        struct berth_container *c = cr->c;
        _cleanup_free_ char *path = berth_container_file(c, "config.v2.json");
        cJSON *img = NULL, *inner, *mounts = NULL;
        int rc;

        rc = storage_image_resolve(aw->d->storage, cr->image_ref, &c->image_id, &aw->err);
        if (rc < 0)
                return rc;
        rc = storage_image_config(aw->d->storage, c->image_id, &img, &aw->err);
        if (rc < 0)
                return rc;
        inner = cJSON_GetObjectItemCaseSensitive(img, "config");
        rc = merge_config(c->config, cJSON_IsObject(inner) ? inner : NULL, &c->path, &c->args, &aw->err);
        cJSON_Delete(img);
        if (rc < 0)
                return rc;
        /* what the start would refuse is a 400 now (spec_validate stats
         * --mount bind sources: the pool, not the loop) */
        rc = spec_validate(c->config, c->host_config, NULL, &aw->err);
        if (rc < 0)
                return rc;
        rc = berth_mkdir_p(c->dir, 0710);
        if (rc < 0)
                return berth_err_set(&aw->err, -rc, "create '%s': %s", c->dir, strerror(-rc));
        rc = storage_rootfs_create(aw->d->storage, c->id, c->image_id, &aw->err);
        if (rc < 0)
                goto fail;
        rc = storage_rootfs_graphdriver(aw->d->storage, c->id, &c->graph_data, &aw->err);
        if (rc < 0)
                goto fail_rootfs;
        /* volumes (anonymous ones for VOLUME and -v /path), copied up from
         * the image; the MountPoints are kept in HostConfig under a key of
         * ours that inspect shows as Mounts (and leaves out of HostConfig) */
        rc = storage_container_volumes_setup(aw->d->storage, c->id, c->config, c->host_config, &mounts,
                                             &aw->err);
        if (rc < 0)
                goto fail_rootfs;
        set_item(c->host_config, "BerthMountPoints", mounts);
        cr->state_text = berth_container_state_json(c);
        rc = berth_write_file_atomic(path, cr->state_text, strlen(cr->state_text), 0600, &aw->err);
        if (rc < 0)
                goto fail_rootfs;
        return 0;
fail_rootfs:
        (void)storage_container_volumes_release(aw->d->storage, c->id, true, NULL, NULL);
        (void)storage_rootfs_remove(aw->d->storage, c->id, NULL);
fail:
        (void)berth_remove_tree(c->dir);
        return rc;
}

static void publish_volume(struct berth_daemon *d, const char *action, const char *name)
{
        cJSON *attrs = cJSON_CreateObject();

        cJSON_AddStringToObject(attrs, "driver", "local");
        berth_events_publish(d->events, "volume", action, name, attrs);
}

static void create_done(struct api_work *aw)
{
        struct create *cr = (struct create *)aw->n1;
        struct berth_container *c = cr->c;
        cJSON *m;

        if (aw->rc < 0) {
                berth_container_unlink(aw->d, c);       /* frees the reserved name */
                api_reply_error(aw->req, aw->rc, &aw->err);
        } else {
                c->creating = false;
                c->busy = false;
                berth_containers_recount(aw->d);
                /* the volumes the create made, as Docker announces them */
                cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(c->host_config, "BerthMountPoints")) {
                        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "Created")))
                                publish_volume(aw->d, "create", berth_json_str(m, "Name"));
                        cJSON_DeleteItemFromObjectCaseSensitive(m, "Created");
                }
                publish(aw->d, c, "create", NULL);
                cJSON *j = cJSON_CreateObject();
                cJSON_AddStringToObject(j, "Id", c->id);
                cJSON_AddItemToObject(j, "Warnings", cJSON_CreateArray());
                api_reply_json(aw->req, 201, j);
        }
        berth_container_unref(c);
        free(cr->image_ref);
        free(cr->state_text);
        free(cr);
        aw->n1 = 0;
}

static void api_h_container_create(struct api_req *r)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct berth_daemon *d = r->d;
        cJSON *body = NULL;
        const char *name = api_query(r, "name");
        _cleanup_free_ char *gen = NULL;
        char id[65];
        int rc;

        if (!d->storage) {
                api_reply_msg(r, 500, "the image store is not available");
                return;
        }
        rc = api_body_json(r, false, &body, &err);
        if (rc == 0 && name && *name) {
                rc = berth_container_name_valid(name, &err);
                if (rc == 0)
                        rc = berth_container_name_free(d, name, &err);
        }
        const char *image = rc == 0 ? berth_json_str(body, "Image") : NULL;
        if (rc == 0 && (!image || !*image))
                rc = berth_err_pub(&err, EINVAL, "config cannot be empty in order to create a container: no image given");
        cJSON *hc = rc == 0 ? cJSON_DetachItemFromObjectCaseSensitive(body, "HostConfig") : NULL;
        if (rc == 0)
                rc = validate_host_config(d, hc, &err);
        if (rc < 0) {
                cJSON_Delete(hc);
                cJSON_Delete(body);
                api_reply_error(r, rc, &err);
                return;
        }
        if (!cJSON_IsObject(hc)) {
                cJSON_Delete(hc);
                hc = cJSON_CreateObject();
        }
        fill_host_config(d, hc);
        cJSON *networking = cJSON_DetachItemFromObjectCaseSensitive(body, "NetworkingConfig");
        if (cJSON_IsNull(networking)) {
                cJSON_Delete(networking);
                networking = NULL;
        }
        rc = d->networks ? berth_sandbox_prepare(d, hc, body, &networking, &err) : 0;
        if (rc < 0) {
                cJSON_Delete(networking);
                cJSON_Delete(hc);
                cJSON_Delete(body);
                api_reply_error(r, rc, &err);
                return;
        }
        if (berth_random_hex(id, 32) < 0) {
                cJSON_Delete(networking);
                cJSON_Delete(hc);
                cJSON_Delete(body);
                api_reply_msg(r, 500, "no randomness for a container ID");
                return;
        }
        struct berth_container *c = xcalloc(1, sizeof(*c));
        c->refs = 1;
        memcpy(c->id, id, sizeof(c->id));
        if (!name || !*name)
                name = gen = berth_container_gen_name(d);
        c->name = xasprintf("/%s", name[0] == '/' ? name + 1 : name);
        c->dir = xasprintf("%s/%s", berth_containers_dir(d), c->id);
        c->created_ns = berth_now_ns();
        c->state = CTR_CREATED;
        c->host_config = hc;
        c->networking = networking;
        c->config = body;
        char shortid[13];
        snprintf(shortid, sizeof(shortid), "%.12s", c->id);
        default_str(c->config, "Hostname", shortid);
        /* in the table at once, invisible to lookups: the name is reserved */
        c->creating = true;
        c->busy = true;
        berth_container_add(d, c);
        struct create *cr = xcalloc(1, sizeof(*cr));
        cr->c = c;
        cr->image_ref = xstrdup(image);
        struct api_work *aw = api_work_new(r);
        aw->n1 = (int64_t)(intptr_t)cr;
        api_work_queue(aw, create_fn, create_done);
}

/* ---- inspect, list ---- */

static void api_h_container_inspect(struct api_req *r)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct berth_container *c = berth_container_find(r->d, api_param(r, 0), &err);

        if (!c) {
                api_reply_error(r, -err.code, &err);
                return;
        }
        api_reply_json(r, 200, berth_container_inspect_json(r->d, c));
}

static bool filter_name(const cJSON *f, const struct berth_container *c)
{
        const cJSON *vals = cJSON_GetObjectItemCaseSensitive(f, "name"), *v;
        bool any = false;

        if (cJSON_GetArraySize(vals) == 0)
                return true;
        cJSON_ArrayForEach(v, vals) {
                regex_t re;
                if (regcomp(&re, v->valuestring, REG_EXTENDED | REG_NOSUB) != 0)
                        continue;
                if (regexec(&re, c->name, 0, NULL, 0) == 0 || regexec(&re, c->name + 1, 0, NULL, 0) == 0)
                        any = true;
                regfree(&re);
        }
        return any;
}

static bool filter_prefix(const cJSON *f, const char *key, const char *id)
{
        const cJSON *vals = cJSON_GetObjectItemCaseSensitive(f, key), *v;

        if (cJSON_GetArraySize(vals) == 0)
                return true;
        cJSON_ArrayForEach(v, vals) if (!strncmp(id, v->valuestring, strlen(v->valuestring))) return true;
        return false;
}

/* network=NAME|ID: the networks the container is configured on */
static bool filter_network(struct berth_daemon *d, const cJSON *f, const struct berth_container *c)
{
        const cJSON *ec = c->networking ? cJSON_GetObjectItemCaseSensitive(c->networking, "EndpointsConfig") : NULL;
        const cJSON *v;

        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(f, "network")) {
                struct berth_network_brief b;
                struct berth_err err = BERTH_ERR_INIT;
                const char *name = v->valuestring;
                if (d->networks && berth_network_brief(d, v->valuestring, &b, &err) == 0)
                        name = b.name;
                if (cJSON_GetObjectItemCaseSensitive(ec, name))
                        return true;
        }
        return false;
}

/* volume=NAME|DESTINATION: a volume or bind the container mounts */
static bool filter_volume(const cJSON *f, const struct berth_container *c)
{
        const cJSON *mps = c->host_config ? cJSON_GetObjectItemCaseSensitive(c->host_config, "BerthMountPoints") : NULL;
        const cJSON *v, *m;

        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(f, "volume")) {
                cJSON_ArrayForEach(m, mps) {
                        const char *name = berth_json_str(m, "Name"), *dst = berth_json_str(m, "Destination");
                        if ((name && !strcmp(name, v->valuestring)) || (dst && !strcmp(dst, v->valuestring)))
                                return true;
                }
        }
        return false;
}

/* publish=PORT[/PROTO] and expose=PORT[/PROTO]: a container port that is
 * published (running) or exposed */
static bool filter_port(struct berth_daemon *d, const cJSON *f, const char *key, const struct berth_container *c)
{
        const cJSON *v, *p;
        bool hit = false;
        cJSON *ports = berth_sandbox_ports_summary(d, c);

        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(f, key)) {
                char want[32];
                const char *slash = strchr(v->valuestring, '/');
                snprintf(want, sizeof(want), "%s%s", v->valuestring, slash ? "" : "/tcp");
                cJSON_ArrayForEach(p, ports) {
                        char have[32];
                        const cJSON *pub = cJSON_GetObjectItemCaseSensitive(p, "PublicPort");
                        if (!strcmp(key, "publish") && !cJSON_IsNumber(pub))
                                continue;
                        snprintf(have, sizeof(have), "%d/%s",
                                 cJSON_GetObjectItemCaseSensitive(p, "PrivatePort")->valueint,
                                 berth_json_str(p, "Type"));
                        hit = hit || !strcmp(have, want);
                }
                if (!strcmp(key, "expose") && c->config &&
                    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c->config, "ExposedPorts"), want))
                        hit = true;
        }
        cJSON_Delete(ports);
        return hit;
}

static bool container_matches(struct berth_daemon *d, const cJSON *f, const struct berth_container *c,
                              int64_t before_ns, int64_t since_ns)
{
        const cJSON *labels = c->config ? cJSON_GetObjectItemCaseSensitive(c->config, "Labels") : NULL;
        const char *image = c->config ? berth_json_str(c->config, "Image") : NULL;

        if (!f)
                return true;
        if (!api_filters_has(f, "status", berth_container_state_name(c->state)))
                return false;
        if (!filter_name(f, c) || !filter_prefix(f, "id", c->id))
                return false;
        if (!api_filters_match_labels(f, "label", labels))
                return false;
        if (api_filters_present(f, "ancestor")) {
                const cJSON *v;
                bool hit = false;
                cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(f, "ancestor")) {
                        const char *a = v->valuestring;
                        if ((image && (!strcmp(a, image) || (strchr(a, ':') == NULL && !strncmp(image, a, strlen(a)) &&
                                                              image[strlen(a)] == ':'))) ||
                            (c->image_id && (!strcmp(a, c->image_id) || !strncmp(c->image_id + 7, a, strlen(a)))))
                                hit = true;
                }
                if (!hit)
                        return false;
        }
        if (api_filters_present(f, "exited")) {
                char code[16];
                snprintf(code, sizeof(code), "%d", c->exit_code);
                if (c->state != CTR_EXITED || !api_filters_has(f, "exited", code))
                        return false;
        }
        if (before_ns && c->created_ns >= before_ns)
                return false;
        if (since_ns && c->created_ns <= since_ns)
                return false;
        if (api_filters_present(f, "network") && !filter_network(d, f, c))
                return false;
        if (api_filters_present(f, "volume") && !filter_volume(f, c))
                return false;
        if (api_filters_present(f, "publish") && !filter_port(d, f, "publish", c))
                return false;
        if (api_filters_present(f, "expose") && !filter_port(d, f, "expose", c))
                return false;
        return true;
}

static int resolve_created(struct berth_daemon *d, const cJSON *f, const char *key, int64_t *ret, struct berth_err *err)
{
        const cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(f, key), 0);

        *ret = 0;
        if (!v)
                return 0;
        struct berth_container *c = berth_container_find(d, v->valuestring, err);
        if (!c)
                return -err->code;
        *ret = c->created_ns;
        return 0;
}

/* ---- the list's answer cache ----
 * GET /containers/json is polled hard (docker ps, Compose, monitoring), and
 * building it (a cJSON tree per container, then printing it) costs far more
 * than sending it.  So the body is kept per query string and sent again for
 * as long as a fresh build would give the same bytes, which holds while:
 * - no event was published since the build: every create, start, die,
 *   rename, update, destroy, and every network create, destroy, connect and
 *   disconnect goes through the events bus, whose timestamps only grow;
 * - the container fields the entries and filters read (state, times, exit
 *   code, name, network config, published ports: berth_container_list_key)
 *   are the same bytes, which catches what changes without an event (a
 *   removal in progress, a connect while stopped, a rename before its save);
 * - the clock is between the end of the build and the first instant at
 *   which any listed container's Status text ("Up 3 seconds") would read
 *   differently (berth_container_status_until).
 * Only 200 answers are kept; ?size=1 is never cached.  Loop thread only. */
#define LIST_CACHE_SLOTS 8

struct list_cache_entry {
        struct berth_daemon *d;
        char *query;            /* the raw query string, "" for none */
        struct buf key;         /* the containers' list keys at the build */
        char *body;
        size_t len;
        int64_t events_ns;      /* the newest event at the build (0: none) */
        int64_t valid_from;     /* end of the build */
        int64_t valid_until;    /* first Status change */
        uint64_t used;
};

static struct list_cache_entry list_cache[LIST_CACHE_SLOTS];
static uint64_t list_cache_tick;
static struct buf list_key_now;  /* reused: the keys of this request */

/* The newest event's time if it is after `after`, else `after`. */
static int64_t events_newest(struct berth_daemon *d, int64_t after)
{
        int64_t t = d->events ? berth_events_last_ns(d->events) : 0;

        return t > after ? t : after;
}

static void list_key(struct berth_daemon *d, struct buf *b)
{
        buf_reset(b);
        for (struct berth_container *c = berth_container_first(d); c; c = c->next)
                berth_container_list_key(c, b);
        buf_addc(b, 0);
}

static struct list_cache_entry *list_cache_find(struct berth_daemon *d, const char *query)
{
        for (size_t i = 0; i < LIST_CACHE_SLOTS; i++)
                if (list_cache[i].d == d && list_cache[i].query && !strcmp(list_cache[i].query, query))
                        return &list_cache[i];
        return NULL;
}

static bool list_cache_valid(struct berth_daemon *d, const struct list_cache_entry *e, int64_t now)
{
        return now >= e->valid_from && now < e->valid_until && e->key.len == list_key_now.len &&
               !memcmp(e->key.data, list_key_now.data, e->key.len) &&
               events_newest(d, e->events_ns) == e->events_ns;
}

/* Keep body (taken) for query; the keys are list_key_now's. */
static struct list_cache_entry *list_cache_store(struct berth_daemon *d, const char *query, char *body, size_t len,
                                                 int64_t events_ns, int64_t from, int64_t until)
{
        struct list_cache_entry *e = list_cache_find(d, query);

        if (!e) {
                e = &list_cache[0];
                for (size_t i = 1; i < LIST_CACHE_SLOTS; i++)
                        if (list_cache[i].used < e->used)
                                e = &list_cache[i];
                free(e->query);
                e->query = xstrdup(query);
                e->d = d;
        }
        free(e->body);
        e->body = body;
        e->len = len;
        buf_reset(&e->key);
        buf_add(&e->key, list_key_now.data, list_key_now.len);
        e->events_ns = events_ns;
        e->valid_from = from;
        e->valid_until = until;
        e->used = ++list_cache_tick;
        return e;
}

static void api_h_containers_list(struct api_req *r)
{
        static const char *const allowed[] = { "ancestor", "before", "expose", "exited", "health", "id", "isolation",
                                               "is-task", "label", "name", "network", "publish", "since", "status",
                                               "volume", NULL };
        struct berth_err err = BERTH_ERR_INIT;
        cJSON *filters = NULL, *out;
        const char *query = r->query ? r->query : "";
        bool cacheable = !api_query_bool(r, "size", false);
        struct list_cache_entry *hit = NULL;
        int64_t now = berth_now_ns(), until = INT64_MAX, events_ns = 0;
        int rc;

        if (cacheable) {
                list_key(r->d, &list_key_now);
                hit = list_cache_find(r->d, query);
                if (hit && list_cache_valid(r->d, hit, now)) {
                        hit->used = ++list_cache_tick;
                        api_reply(r, 200, "application/json", hit->body, hit->len);
                        return;
                }
                events_ns = events_newest(r->d, 0);
        }

        bool all = api_query_bool(r, "all", false);
        int64_t limit = -1, before = 0, since = 0;
        const char *l = api_query(r, "limit");

        rc = api_filters_parse(api_query(r, "filters"), &filters, &err);
        if (rc == 0)
                rc = api_filters_check(filters, allowed, &err);
        if (rc == 0)
                rc = resolve_created(r->d, filters, "before", &before, &err);
        if (rc == 0)
                rc = resolve_created(r->d, filters, "since", &since, &err);
        if (rc == 0 && l && *l && (berth_parse_int64(l, &limit) < 0))
                rc = berth_err_pub(&err, EINVAL, "invalid limit: %s", l);
        if (rc < 0) {
                cJSON_Delete(filters);
                api_reply_error(r, rc, &err);
                return;
        }
        /* newest first, as Docker lists */
        size_t n = 0;
        for (struct berth_container *c = berth_container_first(r->d); c; c = c->next)
                n++;
        struct berth_container **v = xcalloc(n ? n : 1, sizeof(*v));
        n = 0;
        for (struct berth_container *c = berth_container_first(r->d); c; c = c->next)
                v[n++] = c;
        for (size_t i = 1; i < n; i++)
                for (size_t k = i; k > 0 && v[k]->created_ns > v[k - 1]->created_ns; k--) {
                        struct berth_container *t = v[k];
                        v[k] = v[k - 1];
                        v[k - 1] = t;
                }
        out = cJSON_CreateArray();
        bool explicit_status = api_filters_present(filters, "status");
        int64_t shown = 0;
        for (size_t i = 0; i < n; i++) {
                struct berth_container *c = v[i];
                if (c->creating)
                        continue;
                bool running = c->state == CTR_RUNNING || c->state == CTR_PAUSED || c->state == CTR_RESTARTING;
                if (!all && !running && !explicit_status && limit < 0 && !before && !since)
                        continue;
                if (!container_matches(r->d, filters, c, before, since))
                        continue;
                if (limit > 0 && shown >= limit)
                        break;
                /* the Status text is read after now: what it says holds
                 * from now until the first change */
                int64_t u = berth_container_status_until(c, now);
                if (u < until)
                        until = u;
                cJSON_AddItemToArray(out, berth_container_summary_json(r->d, c));
                shown++;
        }
        free(v);
        cJSON_Delete(filters);

        struct buf b = BUF_INIT;
        berth_json_append(&b, out);
        cJSON_Delete(out);
        int64_t built = berth_now_ns();
        if (cacheable && built >= now && built < until) {
                size_t len;
                char *body = buf_detach(&b, &len);
                hit = list_cache_store(r->d, query, body, len, events_ns, built, until);
                api_reply(r, 200, "application/json", hit->body, hit->len);
        } else {
                api_reply(r, 200, "application/json", b.data, b.len);
        }
        buf_release(&b);
}

/* ---- rename ---- */

struct save {
        struct berth_container *c;
        char *text;
        char *old_name;
};

static int save_fn(struct api_work *aw)
{
        struct save *sv = (struct save *)aw->n1;
        _cleanup_free_ char *path = berth_container_file(sv->c, "config.v2.json");

        return berth_write_file_atomic(path, sv->text, strlen(sv->text), 0600, &aw->err);
}

static void rename_done(struct api_work *aw)
{
        struct save *sv = (struct save *)aw->n1;

        if (aw->rc < 0) {
                api_reply_error(aw->req, aw->rc, &aw->err);
        } else {
                cJSON *attrs = cJSON_CreateObject();
                cJSON_AddStringToObject(attrs, "oldName", sv->old_name);
                publish(aw->d, sv->c, "rename", attrs);
                berth_sandbox_renamed(aw->d, sv->c);
                api_reply_status(aw->req, 204);
        }
        berth_container_unref(sv->c);
        free(sv->text);
        free(sv->old_name);
        free(sv);
        aw->n1 = 0;
}

static void api_h_container_rename(struct api_req *r)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct berth_container *c = berth_container_find(r->d, api_param(r, 0), &err);
        const char *name = api_query(r, "name");
        int rc = c ? 0 : -err.code;

        if (rc == 0 && (!name || !*name))
                rc = berth_err_pub(&err, EINVAL, "Neither old nor new names may be empty");
        if (rc == 0)
                rc = berth_container_name_valid(name, &err);
        if (rc == 0 && !strcmp(c->name + 1, name[0] == '/' ? name + 1 : name))
                rc = berth_err_pub(&err, EINVAL, "Renaming a container with the same name as its current name");
        if (rc == 0)
                rc = berth_container_name_free(r->d, name, &err);
        if (rc < 0) {
                api_reply_error(r, rc, &err);
                return;
        }
        struct save *sv = xcalloc(1, sizeof(*sv));
        sv->c = berth_container_ref(c);
        sv->old_name = c->name;
        c->name = xasprintf("/%s", name[0] == '/' ? name + 1 : name);
        sv->text = berth_container_state_json(c);
        struct api_work *aw = api_work_new(r);
        aw->n1 = (int64_t)(intptr_t)sv;
        api_work_queue(aw, save_fn, rename_done);
}

/* ---- remove, prune ---- */

struct removal {
        struct berth_container *c;
        struct api_req *r;      /* force: the request waiting for the exit */
        uint64_t reclaimed;
        bool volumes;           /* ?v=1: its anonymous volumes go too */
        cJSON *removed_volumes; /* names, for the events */
};

static int remove_fn(struct api_work *aw)
{
        struct removal *rm = (struct removal *)aw->n1;
        uint64_t size = 0;
        int rc;

        (void)storage_rootfs_size(aw->d->storage, rm->c->id, &size, NULL);
        (void)storage_container_volumes_release(aw->d->storage, rm->c->id, rm->volumes, &rm->removed_volumes,
                                                NULL);
        rc = storage_rootfs_remove(aw->d->storage, rm->c->id, &aw->err);
        if (rc < 0 && rc != -ENOENT)
                return rc;
        /* moved aside at once (a save still under way cannot refill it),
         * its files removed in the background */
        rc = storage_trash(aw->d->storage, rm->c->dir);
        if (rc < 0)
                return berth_err_set(&aw->err, -rc, "remove '%s': %s", rm->c->dir, strerror(-rc));
        rm->reclaimed = size;
        return 0;
}

static void remove_done(struct api_work *aw)
{
        struct removal *rm = (struct removal *)aw->n1;
        struct berth_container *c = rm->c;

        c->busy = false;
        if (aw->rc < 0) {
                c->state = CTR_DEAD;
                free(c->error);
                c->error = xstrdup(aw->err.msg);
                api_reply_error(aw->req, aw->rc, &aw->err);
        } else {
                publish(aw->d, c, "destroy", NULL);
                const cJSON *v;
                cJSON_ArrayForEach(v, rm->removed_volumes) publish_volume(aw->d, "destroy", v->valuestring);
                berth_container_unlink(aw->d, c);
                berth_container_removed(aw->d, c);
                api_reply_status(aw->req, 204);
        }
        berth_container_unref(c);
        cJSON_Delete(rm->removed_volumes);
        free(rm);
        aw->n1 = 0;
}

static bool is_running(const struct berth_container *c)
{
        return c->state == CTR_RUNNING || c->state == CTR_PAUSED || c->state == CTR_RESTARTING;
}

static void remove_start(struct api_req *r, struct berth_container *c)
{
        c->busy = true;
        c->state = CTR_REMOVING;
        struct removal *rm = xcalloc(1, sizeof(*rm));
        rm->c = berth_container_ref(c);
        rm->volumes = api_query_bool(r, "v", false);
        struct api_work *aw = api_work_new(r);
        aw->n1 = (int64_t)(intptr_t)rm;
        api_work_queue(aw, remove_fn, remove_done);
}

static void remove_after_exit(int exit_code, const char *error, void *data)
{
        struct removal *rm = data;
        struct api_req *r = rm->r;
        struct berth_container *c = rm->c;

        if (!r->cancelled && !r->done) {
                if (c->busy || c->state == CTR_REMOVING)
                        /* an auto-remove took it: that is the removal asked for */
                        api_reply_status(r, 204);
                else
                        remove_start(r, c);
        }
        berth_container_unref(c);
        api_req_unref(r);
        free(rm);
}

static void api_h_container_remove(struct api_req *r)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct berth_container *c = berth_container_find(r->d, api_param(r, 0), &err);

        if (!c) {
                api_reply_error(r, -err.code, &err);
                return;
        }
        if (c->busy || c->state == CTR_REMOVING) {
                api_reply_msg(r, 409, "removal of container %s is already in progress", c->id);
                return;
        }
        if (is_running(c) || berth_container_monitor_dir(c)) {
                if (!api_query_bool(r, "force", false)) {
                        api_reply_msg(r, 409, "You cannot remove a running container %s. Stop the container before "
                                      "attempting removal or force remove", c->id);
                        return;
                }
                /* force: SIGKILL, then remove once it exited */
                struct removal *rm = xcalloc(1, sizeof(*rm));
                rm->c = berth_container_ref(c);
                rm->r = r;
                api_req_ref(r);
                api_req_defer(r);
                berth_container_wait(r->d, c, BERTH_WAIT_NEXT_EXIT, remove_after_exit, rm);
                if (berth_container_kill(r->d, c, SIGKILL, &err) < 0 && !berth_container_monitor_dir(c)) {
                        berth_container_wait_cancel(c, rm);
                        remove_after_exit(c->exit_code, NULL, rm);
                }
                return;
        }
        remove_start(r, c);
}

struct prune {
        struct berth_container **v;
        size_t n;
        uint64_t reclaimed;
        bool *removed;
};

static int prune_fn(struct api_work *aw)
{
        struct prune *p = (struct prune *)aw->n1;

        for (size_t i = 0; i < p->n; i++) {
                uint64_t size = 0;
                (void)storage_rootfs_size(aw->d->storage, p->v[i]->id, &size, NULL);
                (void)storage_container_volumes_release(aw->d->storage, p->v[i]->id, false, NULL, NULL);
                int rc = storage_rootfs_remove(aw->d->storage, p->v[i]->id, NULL);
                if ((rc == 0 || rc == -ENOENT) && storage_trash(aw->d->storage, p->v[i]->dir) == 0) {
                        p->removed[i] = true;
                        p->reclaimed += size;
                }
        }
        return 0;
}

static void prune_done(struct api_work *aw)
{
        struct prune *p = (struct prune *)aw->n1;
        cJSON *j = cJSON_CreateObject(), *del = cJSON_CreateArray();

        for (size_t i = 0; i < p->n; i++) {
                struct berth_container *c = p->v[i];
                c->busy = false;
                if (p->removed[i]) {
                        cJSON_AddItemToArray(del, cJSON_CreateString(c->id));
                        publish(aw->d, c, "destroy", NULL);
                        berth_container_unlink(aw->d, c);
                        berth_container_removed(aw->d, c);
                } else {
                        c->state = CTR_DEAD;
                }
                berth_container_unref(c);
        }
        if (cJSON_GetArraySize(del) == 0) {
                cJSON_Delete(del);
                cJSON_AddNullToObject(j, "ContainersDeleted");
        } else {
                cJSON_AddItemToObject(j, "ContainersDeleted", del);
        }
        cJSON_AddNumberToObject(j, "SpaceReclaimed", (double)p->reclaimed);
        berth_events_publish(aw->d->events, "container", "prune", "", NULL);
        api_reply_json(aw->req, 200, j);
        free(p->v);
        free(p->removed);
        free(p);
        aw->n1 = 0;
}

static void api_h_containers_prune(struct api_req *r)
{
        static const char *const allowed[] = { "label", "label!", "until", NULL };
        struct berth_err err = BERTH_ERR_INIT;
        cJSON *filters = NULL;
        int64_t until = INT64_MAX;
        int rc;

        rc = api_filters_parse(api_query(r, "filters"), &filters, &err);
        if (rc == 0)
                rc = api_filters_check(filters, allowed, &err);
        const cJSON *u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(filters, "until"), 0);
        if (rc == 0 && u && api_parse_timestamp(u->valuestring, berth_now_ns(), &until) < 0)
                rc = berth_err_pub(&err, EINVAL, "invalid filter 'until=%s'", u->valuestring);
        if (rc < 0) {
                cJSON_Delete(filters);
                api_reply_error(r, rc, &err);
                return;
        }
        struct prune *p = xcalloc(1, sizeof(*p));
        size_t n = 0;
        for (struct berth_container *c = berth_container_first(r->d); c; c = c->next)
                n++;
        p->v = xcalloc(n ? n : 1, sizeof(*p->v));
        p->removed = xcalloc(n ? n : 1, sizeof(bool));
        for (struct berth_container *c = berth_container_first(r->d); c; c = c->next) {
                const cJSON *labels = c->config ? cJSON_GetObjectItemCaseSensitive(c->config, "Labels") : NULL;
                if (is_running(c) || c->busy || c->created_ns > until)
                        continue;
                if (!api_filters_match_labels(filters, "label", labels))
                        continue;
                if (api_filters_present(filters, "label!")) {
                        const cJSON *neg = cJSON_GetObjectItemCaseSensitive(filters, "label!"), *v;
                        bool excluded = false;
                        cJSON_ArrayForEach(v, neg) {
                                cJSON *one = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(one, "label");
                                cJSON_AddItemToArray(arr, cJSON_CreateString(v->valuestring));
                                if (api_filters_match_labels(one, "label", labels))
                                        excluded = true;
                                cJSON_Delete(one);
                        }
                        if (excluded)
                                continue;
                }
                c->busy = true;
                p->v[p->n++] = berth_container_ref(c);
        }
        cJSON_Delete(filters);
        struct api_work *aw = api_work_new(r);
        aw->n1 = (int64_t)(intptr_t)p;
        api_work_queue(aw, prune_fn, prune_done);
}

const struct api_route api_container_routes[] = {
        { "POST", "/containers/create", api_h_container_create, 0 },
        { "GET", "/containers/json", api_h_containers_list, 0 },
        { "POST", "/containers/prune", api_h_containers_prune, 0 },
        { "GET", "/containers/{name}/json", api_h_container_inspect, 0 },
        { "POST", "/containers/{name}/rename", api_h_container_rename, 0 },
        { "DELETE", "/containers/{name}", api_h_container_remove, 0 },
};
const size_t api_n_container_routes = ARRAY_SIZE(api_container_routes);
