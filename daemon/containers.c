/* SPDX-License-Identifier: Apache-2.0
 * daemon/containers.c -- the container object model: ids and names, the
 * state machine with Docker's State fields and human Status strings, the
 * JSON shapes of inspect and list, and the state files under
 * data-root/containers/<id>/ (config.v2.json, written atomically).
 *
 * Loop thread only.  Writing a state file blocks (fsync): callers serialise
 * with berth_container_state_json() on the loop and write on the pool.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "daemon/daemon.h"

struct berth_containers {
        struct berth_container *list;
        size_t n;
        char *dir;      /* data-root/containers */
};

static const char *const state_names[] = {
        [CTR_CREATED] = "created", [CTR_RUNNING] = "running", [CTR_PAUSED] = "paused",
        [CTR_RESTARTING] = "restarting", [CTR_REMOVING] = "removing", [CTR_EXITED] = "exited",
        [CTR_DEAD] = "dead",
};

const char *berth_container_state_name(enum ctr_state s)
{
        return s <= CTR_DEAD ? state_names[s] : "dead";
}

static int parse_state(const char *s)
{
        for (size_t i = 0; i < ARRAY_SIZE(state_names); i++)
                if (s && !strcmp(state_names[i], s))
                        return (int)i;
        return -1;
}

/* ---- the table ---- */

struct berth_container *berth_container_ref(struct berth_container *c)
{
        c->refs++;
        return c;
}

static void container_free(struct berth_container *c)
{
        free(c->name);
        free(c->image_id);
        free(c->path);
        free(c->error);
        free(c->dir);
        cJSON_Delete(c->args);
        cJSON_Delete(c->config);
        cJSON_Delete(c->host_config);
        cJSON_Delete(c->networking);
        cJSON_Delete(c->network_settings);
        cJSON_Delete(c->graph_data);
        free(c);
}

void berth_container_unref(struct berth_container *c)
{
        if (c && --c->refs == 0)
                container_free(c);
}

void berth_container_add(struct berth_daemon *d, struct berth_container *c)
{
        struct berth_containers *t = d->containers;

        c->next = t->list;
        t->list = berth_container_ref(c);
        t->n++;
        berth_containers_recount(d);
}

void berth_container_unlink(struct berth_daemon *d, struct berth_container *c)
{
        struct berth_containers *t = d->containers;

        for (struct berth_container **pp = &t->list; *pp; pp = &(*pp)->next) {
                if (*pp == c) {
                        *pp = c->next;
                        c->next = NULL;
                        t->n--;
                        berth_containers_recount(d);
                        berth_container_unref(c);
                        return;
                }
        }
}

struct berth_container *berth_container_first(struct berth_daemon *d)
{
        return d->containers ? d->containers->list : NULL;
}

void berth_containers_recount(struct berth_daemon *d)
{
        d->n_containers = d->n_running = d->n_paused = d->n_stopped = 0;
        for (struct berth_container *c = berth_container_first(d); c; c = c->next) {
                if (c->creating)
                        continue;
                d->n_containers++;
                if (c->state == CTR_PAUSED)
                        d->n_paused++;
                else if (c->state == CTR_RUNNING || c->state == CTR_RESTARTING)
                        d->n_running++;
                else
                        d->n_stopped++;
        }
}

static bool is_hex(const char *s)
{
        for (; *s; s++)
                if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
                        return false;
        return true;
}

struct berth_container *berth_container_find(struct berth_daemon *d, const char *ref, struct berth_err *err)
{
        struct berth_container *match = NULL;
        size_t n = 0, len;

        if (!ref || !*ref) {
                berth_err_pub(err, EINVAL, "no container name or ID given");
                return NULL;
        }
        /* full ID, then name, then a unique ID prefix, as Docker looks up */
        for (struct berth_container *c = berth_container_first(d); c; c = c->next)
                if (!c->creating && !strcmp(c->id, ref))
                        return c;
        for (struct berth_container *c = berth_container_first(d); c; c = c->next)
                if (!c->creating && !strcmp(c->name + 1, ref[0] == '/' ? ref + 1 : ref))
                        return c;
        len = strlen(ref);
        if (is_hex(ref) && len < 64) {
                for (struct berth_container *c = berth_container_first(d); c; c = c->next)
                        if (!c->creating && !strncmp(c->id, ref, len))
                                match = c, n++;
                if (n == 1)
                        return match;
                if (n > 1) {
                        berth_err_pub(err, EINVAL, "multiple IDs found with provided prefix: %s", ref);
                        return NULL;
                }
        }
        berth_err_pub(err, ENOENT, "No such container: %s", ref);
        return NULL;
}

/* ---- names ---- */

int berth_container_name_valid(const char *name, struct berth_err *err)
{
        const char *n = name[0] == '/' ? name + 1 : name;
        size_t len = strlen(n);

        /* ^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$ (so at least two characters) */
        bool ok = len >= 2 && len <= 253 && isalnum((unsigned char)n[0]);
        for (size_t i = 1; ok && i < len; i++)
                ok = isalnum((unsigned char)n[i]) || n[i] == '_' || n[i] == '.' || n[i] == '-';
        if (!ok)
                return berth_err_pub(err, EINVAL, "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                                     n);
        return 0;
}

int berth_container_name_free(struct berth_daemon *d, const char *name, struct berth_err *err)
{
        const char *n = name[0] == '/' ? name + 1 : name;

        for (struct berth_container *c = berth_container_first(d); c; c = c->next)
                if (!strcmp(c->name + 1, n))
                        return berth_err_pub(err, EEXIST,
                                             "Conflict. The container name \"/%s\" is already in use by container \"%s\". "
                                             "You have to remove (or rename) that container to be able to reuse that name.",
                                             n, c->id);
        return 0;
}

static const char *const adjectives[] = {
        "agile", "amber", "ample", "brave", "brisk", "calm", "clever", "cosmic", "crisp", "daring",
        "eager", "gentle", "glad", "golden", "hardy", "humble", "jolly", "keen", "lively", "loyal",
        "lucid", "merry", "mighty", "nimble", "noble", "patient", "plucky", "polite", "proud", "quiet",
        "rapid", "sharp", "shiny", "silent", "sober", "steady", "sturdy", "swift", "tender", "vivid",
        "warm", "witty", "zealous", "bold", "bright", "candid", "deft", "fond", "frank", "neat",
};
static const char *const people[] = {
        "agnesi", "babbage", "bell", "boole", "cantor", "curie", "darwin", "dijkstra", "euclid", "euler",
        "faraday", "fermat", "feynman", "gauss", "goodall", "hamilton", "hopper", "hypatia", "kepler", "knuth",
        "lamarr", "lovelace", "maxwell", "meitner", "mendel", "newton", "noether", "pascal", "planck", "ritchie",
        "shannon", "tesla", "thompson", "torvalds", "turing", "volta", "wozniak", "yalow", "franklin", "galois",
        "hawking", "herschel", "hodgkin", "johnson", "kowalevski", "liskov", "mccarthy", "payne", "ramanujan", "wiles",
};

char *berth_container_gen_name(struct berth_daemon *d)
{
        unsigned char r[4];
        char hex[9];

        for (int attempt = 0; attempt < 64; attempt++) {
                if (berth_random_hex(hex, 4) < 0)
                        memset(hex, '0', 8), hex[8] = '\0';
                for (int i = 0; i < 4; i++)
                        r[i] = (unsigned char)strtoul((char[]){ hex[2 * i], hex[2 * i + 1], 0 }, NULL, 16);
                char *name = attempt < 32
                        ? xasprintf("%s_%s", adjectives[r[0] % ARRAY_SIZE(adjectives)], people[r[1] % ARRAY_SIZE(people)])
                        : xasprintf("%s_%s%d", adjectives[r[0] % ARRAY_SIZE(adjectives)],
                                    people[r[1] % ARRAY_SIZE(people)], r[2] % 10);
                if (berth_container_name_free(d, name, NULL) == 0)
                        return name;
                free(name);
        }
        return xasprintf("berth_%s", hex);
}

/* ---- human status ---- */

static void human_duration(struct buf *b, int64_t ns)
{
        int64_t s = ns / 1000000000;

        if (s < 1)
                buf_adds(b, "Less than a second");
        else if (s == 1)
                buf_adds(b, "1 second");
        else if (s < 60)
                buf_addf(b, "%lld seconds", (long long)s);
        else if (s / 60 == 1)
                buf_adds(b, "About a minute");
        else if (s < 3600)
                buf_addf(b, "%lld minutes", (long long)(s / 60));
        else if ((s + 1800) / 3600 == 1)
                buf_adds(b, "About an hour");
        else if (s < 48 * 3600)
                buf_addf(b, "%lld hours", (long long)((s + 1800) / 3600));
        else if (s < 7 * 2 * 86400)
                buf_addf(b, "%lld days", (long long)(s / 86400));
        else if (s < 30 * 3 * 86400)
                buf_addf(b, "%lld weeks", (long long)(s / 86400 / 7));
        else if (s < 365 * 2 * 86400)
                buf_addf(b, "%lld months", (long long)(s / 86400 / 30));
        else
                buf_addf(b, "%lld years", (long long)(s / 86400 / 365));
}

char *berth_container_status(const struct berth_container *c)
{
        struct buf b = BUF_INIT;
        int64_t now = berth_now_ns();

        switch (c->state) {
        case CTR_CREATED:
                buf_adds(&b, "Created");
                break;
        case CTR_RUNNING:
        case CTR_PAUSED:
                buf_adds(&b, "Up ");
                human_duration(&b, now - c->started_ns);
                if (c->state == CTR_PAUSED)
                        buf_adds(&b, " (Paused)");
                break;
        case CTR_RESTARTING:
                buf_addf(&b, "Restarting (%d) ", c->exit_code);
                human_duration(&b, now - c->finished_ns);
                buf_adds(&b, " ago");
                break;
        case CTR_REMOVING:
                buf_adds(&b, "Removal In Progress");
                break;
        case CTR_DEAD:
                buf_adds(&b, "Dead");
                break;
        case CTR_EXITED:
                if (!c->started_ns) {
                        buf_adds(&b, "Created");
                        break;
                }
                buf_addf(&b, "Exited (%d) ", c->exit_code);
                human_duration(&b, now - c->finished_ns);
                buf_adds(&b, " ago");
                break;
        }
        return buf_detach(&b, NULL);
}

/* The first instant after now at which berth_container_status(c) may read
 * differently (INT64_MAX when it does not depend on the time).  Below a
 * minute the duration changes every second; from a minute on, every word
 * human_duration() uses (minutes, hours rounded at the half hour, days,
 * weeks, months, years, and the thresholds between them) is a function of
 * the whole minutes elapsed, so the next whole minute bounds it. */
int64_t berth_container_status_until(const struct berth_container *c, int64_t now)
{
        int64_t base, s;

        switch (c->state) {
        case CTR_RUNNING:
        case CTR_PAUSED:
                base = c->started_ns;
                break;
        case CTR_RESTARTING:
                base = c->finished_ns;
                break;
        case CTR_EXITED:
                if (!c->started_ns)
                        return INT64_MAX;
                base = c->finished_ns;
                break;
        default:
                return INT64_MAX;
        }
        s = (now - base) / 1000000000;
        if (s < 1)
                return base + 1000000000;
        if (s < 60)
                return base + (s + 1) * 1000000000;
        return base + (s / 60 + 1) * 60 * 1000000000;
}

/* ---- JSON ---- */

static void add_time(cJSON *o, const char *key, int64_t ns)
{
        char t[64];

        if (ns <= 0)
                snprintf(t, sizeof(t), "0001-01-01T00:00:00Z");
        else
                berth_time_rfc3339(ns / 1000000000, (long)(ns % 1000000000), t, sizeof(t));
        cJSON_AddStringToObject(o, key, t);
}

static int64_t parse_time(const char *s)
{
        struct tm tm;
        const char *p;
        int64_t ns = 0;

        if (!s || !strncmp(s, "0001-", 5))
                return 0;
        memset(&tm, 0, sizeof(tm));
        p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!p)
                return 0;
        if (*p == '.') {
                int digits = 0;
                for (p++; isdigit((unsigned char)*p); p++)
                        if (digits++ < 9)
                                ns = ns * 10 + (*p - '0');
                while (digits++ < 9)
                        ns *= 10;
        }
        return (int64_t)timegm(&tm) * 1000000000 + ns;
}

cJSON *berth_container_state_object(const struct berth_container *c)
{
        cJSON *st = cJSON_CreateObject();

        cJSON_AddStringToObject(st, "Status", berth_container_state_name(c->state));
        cJSON_AddBoolToObject(st, "Running", c->state == CTR_RUNNING || c->state == CTR_PAUSED ||
                                                     c->state == CTR_RESTARTING);
        cJSON_AddBoolToObject(st, "Paused", c->state == CTR_PAUSED);
        cJSON_AddBoolToObject(st, "Restarting", c->state == CTR_RESTARTING);
        cJSON_AddBoolToObject(st, "OOMKilled", c->oom_killed);
        cJSON_AddBoolToObject(st, "Dead", c->state == CTR_DEAD);
        cJSON_AddNumberToObject(st, "Pid", c->pid);
        cJSON_AddNumberToObject(st, "ExitCode", c->exit_code);
        cJSON_AddStringToObject(st, "Error", c->error ? c->error : "");
        add_time(st, "StartedAt", c->started_ns);
        add_time(st, "FinishedAt", c->finished_ns);
        return st;
}

static cJSON *dup_or_null(const cJSON *j)
{
        return j ? cJSON_Duplicate(j, true) : cJSON_CreateNull();
}

char *berth_container_file(const struct berth_container *c, const char *name)
{
        return xasprintf("%s/%s", c->dir, name);
}

/* Mounts as inspect and ps show them: the MountPoints storage made at
 * create (kept in HostConfig under our own key), Docker's fields only. */
static cJSON *mounts_json(const struct berth_container *c)
{
        static const char *const keys[] = { "Type", "Name", "Source", "Destination", "Driver",
                                            "Mode", "RW", "Propagation", NULL };
        cJSON *out = cJSON_CreateArray();
        const cJSON *m;

        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(c->host_config, "BerthMountPoints")) {
                cJSON *o = cJSON_CreateObject();

                for (const char *const *k = keys; *k; k++) {
                        const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, *k);
                        if (v)
                                cJSON_AddItemToObject(o, *k, cJSON_Duplicate(v, true));
                }
                cJSON_AddItemToArray(out, o);
        }
        return out;
}

static cJSON *host_config_json(const struct berth_container *c)
{
        cJSON *hc = dup_or_null(c->host_config);

        cJSON_DeleteItemFromObjectCaseSensitive(hc, "BerthMountPoints");
        return hc;
}

cJSON *berth_container_inspect_json(struct berth_daemon *d, const struct berth_container *c)
{
        cJSON *j = cJSON_CreateObject();
        char *p;

        cJSON_AddStringToObject(j, "Id", c->id);
        add_time(j, "Created", c->created_ns);
        cJSON_AddStringToObject(j, "Path", c->path ? c->path : "");
        cJSON_AddItemToObject(j, "Args", c->args ? cJSON_Duplicate(c->args, true) : cJSON_CreateArray());
        cJSON_AddItemToObject(j, "State", berth_container_state_object(c));
        cJSON_AddStringToObject(j, "Image", c->image_id ? c->image_id : "");
        p = berth_container_file(c, "resolv.conf");
        cJSON_AddStringToObject(j, "ResolvConfPath", p);
        free(p);
        p = berth_container_file(c, "hostname");
        cJSON_AddStringToObject(j, "HostnamePath", p);
        free(p);
        p = berth_container_file(c, "hosts");
        cJSON_AddStringToObject(j, "HostsPath", p);
        free(p);
        p = xasprintf("%s/%s-json.log", c->dir, c->id);
        cJSON_AddStringToObject(j, "LogPath", p);
        free(p);
        cJSON_AddStringToObject(j, "Name", c->name);
        cJSON_AddNumberToObject(j, "RestartCount", c->restart_count);
        cJSON_AddStringToObject(j, "Driver", "overlay2");
        cJSON_AddStringToObject(j, "Platform", "linux");
        cJSON_AddStringToObject(j, "MountLabel", "");
        cJSON_AddStringToObject(j, "ProcessLabel", "");
        cJSON_AddStringToObject(j, "AppArmorProfile", "");
        cJSON_AddNullToObject(j, "ExecIDs");
        cJSON_AddItemToObject(j, "HostConfig", host_config_json(c));
        /* graph_data is storage's whole GraphDriver object: {Data:{...},Name} */
        if (c->graph_data && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(c->graph_data, "Data"))) {
                cJSON_AddItemToObject(j, "GraphDriver", cJSON_Duplicate(c->graph_data, true));
        } else {
                cJSON *gd = cJSON_AddObjectToObject(j, "GraphDriver");
                cJSON_AddItemToObject(gd, "Data", cJSON_CreateObject());
                cJSON_AddStringToObject(gd, "Name", "overlay2");
        }
        cJSON_AddItemToObject(j, "Mounts", mounts_json(c));
        cJSON_AddItemToObject(j, "Config", dup_or_null(c->config));
        cJSON_AddItemToObject(j, "NetworkSettings", berth_container_network_settings(d, c));
        return j;
}

cJSON *berth_container_network_settings(struct berth_daemon *d, const struct berth_container *c)
{
        return berth_sandbox_settings_json(d, c);
}

/* "echo hello" as docker ps shows Command */
static char *command_line(const struct berth_container *c)
{
        struct buf b = BUF_INIT;
        const cJSON *a;

        buf_adds(&b, c->path ? c->path : "");
        cJSON_ArrayForEach(a, c->args) if (cJSON_IsString(a)) {
                buf_addc(&b, ' ');
                buf_adds(&b, a->valuestring);
        }
        return buf_detach(&b, NULL);
}

cJSON *berth_container_summary_json(struct berth_daemon *d, const struct berth_container *c)
{
        cJSON *j = cJSON_CreateObject(), *names = cJSON_AddArrayToObject(j, "Names");
        const char *image = c->config ? berth_json_str(c->config, "Image") : NULL;
        char *cmd = command_line(c), *status = berth_container_status(c);

        cJSON_AddStringToObject(j, "Id", c->id);
        cJSON_AddItemToArray(names, cJSON_CreateString(c->name));
        cJSON_AddStringToObject(j, "Image", image ? image : "");
        cJSON_AddStringToObject(j, "ImageID", c->image_id ? c->image_id : "");
        cJSON_AddStringToObject(j, "Command", cmd);
        cJSON_AddNumberToObject(j, "Created", (double)(c->created_ns / 1000000000));
        cJSON_AddItemToObject(j, "Ports", berth_sandbox_ports_summary(d, c));
        const cJSON *labels = c->config ? cJSON_GetObjectItemCaseSensitive(c->config, "Labels") : NULL;
        cJSON_AddItemToObject(j, "Labels", cJSON_IsObject(labels) ? cJSON_Duplicate(labels, true) : cJSON_CreateObject());
        cJSON_AddStringToObject(j, "State", berth_container_state_name(c->state));
        cJSON_AddStringToObject(j, "Status", status);
        const char *mode = c->host_config ? berth_json_str(c->host_config, "NetworkMode") : NULL;
        cJSON_AddStringToObject(cJSON_AddObjectToObject(j, "HostConfig"), "NetworkMode", mode ? mode : "default");
        cJSON_AddItemToObject(cJSON_AddObjectToObject(j, "NetworkSettings"), "Networks",
                              berth_sandbox_networks_json(d, c));
        cJSON_AddItemToObject(j, "Mounts", mounts_json(c));
        free(cmd);
        free(status);
        return j;
}

static void key_str(struct buf *b, const char *s)
{
        buf_add(b, s ? s : "", s ? strlen(s) + 1 : 1);
}

/* cJSON tree as bytes that differ whenever the tree does (prefix-free:
 * fixed-size node headers, NUL-terminated strings, an end marker after
 * each list of siblings) */
static void json_key(const cJSON *j, struct buf *b)
{
        unsigned char hdr[1 + sizeof(int) + sizeof(double) + 1];

        for (; j; j = j->next) {
                hdr[0] = 1;
                memcpy(hdr + 1, &j->type, sizeof(int));
                memcpy(hdr + 1 + sizeof(int), &j->valuedouble, sizeof(double));
                hdr[sizeof(hdr) - 1] = j->valuestring != NULL;
                buf_add(b, hdr, sizeof(hdr));
                key_str(b, j->string);
                key_str(b, j->valuestring);
                json_key(j->child, b);
        }
        buf_add(b, "", 1);
}

void berth_container_list_key(const struct berth_container *c, struct buf *b)
{
        const int64_t v[] = {
                (int64_t)(intptr_t)c, c->creating, c->state, c->exit_code, c->pid,
                c->created_ns, c->started_ns, c->finished_ns,
                /* replaced whole when they change (update: with an event) */
                (int64_t)(intptr_t)c->config, (int64_t)(intptr_t)c->host_config,
                (int64_t)(intptr_t)c->image_id, (int64_t)(intptr_t)c->path, (int64_t)(intptr_t)c->args,
        };

        buf_add(b, v, sizeof(v));
        buf_add(b, c->id, sizeof(c->id));
        key_str(b, c->name);
        /* changed in place by network connect/disconnect */
        json_key(c->networking, b);
        berth_sandbox_list_key(c, b);
}

/* ---- state files ---- */

char *berth_container_state_json(const struct berth_container *c)
{
        cJSON *j = cJSON_CreateObject();
        char *s;

        cJSON_AddStringToObject(j, "ID", c->id);
        cJSON_AddStringToObject(j, "Name", c->name);
        add_time(j, "Created", c->created_ns);
        cJSON_AddStringToObject(j, "Image", c->image_id ? c->image_id : "");
        cJSON_AddStringToObject(j, "Path", c->path ? c->path : "");
        cJSON_AddItemToObject(j, "Args", c->args ? cJSON_Duplicate(c->args, true) : cJSON_CreateArray());
        cJSON_AddItemToObject(j, "State", berth_container_state_object(c));
        cJSON_AddNumberToObject(j, "RestartCount", c->restart_count);
        cJSON_AddItemToObject(j, "Config", dup_or_null(c->config));
        cJSON_AddItemToObject(j, "HostConfig", dup_or_null(c->host_config));
        cJSON_AddItemToObject(j, "NetworkingConfig", dup_or_null(c->networking));
        if (c->graph_data)
                cJSON_AddItemToObject(j, "GraphDriverData", cJSON_Duplicate(c->graph_data, true));
        if (c->network_settings)
                cJSON_AddItemToObject(j, "NetworkSettings", cJSON_Duplicate(c->network_settings, true));
        s = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        if (!s)
                berth_oom();
        return s;
}

static cJSON *take(cJSON *j, const char *key)
{
        cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(j, key);

        if (cJSON_IsNull(v)) {
                cJSON_Delete(v);
                return NULL;
        }
        return v;
}

static struct berth_container *container_from_state(struct berth_containers *t, const char *id, cJSON *j)
{
        struct berth_container *c = xcalloc(1, sizeof(*c));
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "State");
        const char *name = berth_json_str(j, "Name"), *s;

        c->refs = 1;
        snprintf(c->id, sizeof(c->id), "%s", id);
        c->dir = xasprintf("%s/%s", t->dir, id);
        c->name = xstrdup(name && name[0] == '/' ? name : "/unnamed");
        c->created_ns = parse_time(berth_json_str(j, "Created"));
        s = berth_json_str(j, "Image");
        c->image_id = s ? xstrdup(s) : NULL;
        s = berth_json_str(j, "Path");
        c->path = s ? xstrdup(s) : NULL;
        c->args = take(j, "Args");
        c->config = take(j, "Config");
        c->host_config = take(j, "HostConfig");
        c->networking = take(j, "NetworkingConfig");
        c->graph_data = take(j, "GraphDriverData");
        c->network_settings = take(j, "NetworkSettings");
        const cJSON *rc = cJSON_GetObjectItemCaseSensitive(j, "RestartCount");
        c->restart_count = cJSON_IsNumber(rc) ? rc->valueint : 0;
        int state = parse_state(berth_json_str(st, "Status"));
        c->state = state < 0 ? CTR_DEAD : (enum ctr_state)state;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(st, "ExitCode");
        c->exit_code = cJSON_IsNumber(v) ? v->valueint : 0;
        v = cJSON_GetObjectItemCaseSensitive(st, "Pid");
        c->pid = cJSON_IsNumber(v) ? v->valueint : 0;
        c->oom_killed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "OOMKilled"));
        s = berth_json_str(st, "Error");
        c->error = s && *s ? xstrdup(s) : NULL;
        c->started_ns = parse_time(berth_json_str(st, "StartedAt"));
        c->finished_ns = parse_time(berth_json_str(st, "FinishedAt"));
        return c;
}

int berth_containers_open(struct berth_daemon *d, struct berth_err *err)
{
        struct berth_containers *t = xcalloc(1, sizeof(*t));
        DIR *dir;
        struct dirent *e;
        int r;

        t->dir = xasprintf("%s/containers", d->cfg.data_root);
        d->containers = t;
        r = berth_mkdir_p(t->dir, 0710);
        if (r < 0)
                return berth_err_set(err, -r, "create '%s': %s", t->dir, strerror(-r));
        dir = opendir(t->dir);
        if (!dir)
                return berth_err_set(err, errno, "open '%s': %s", t->dir, strerror(errno));
        while ((e = readdir(dir))) {
                if (strlen(e->d_name) != 64 || !is_hex(e->d_name))
                        continue;
                _cleanup_free_ char *path = xasprintf("%s/%s/config.v2.json", t->dir, e->d_name);
                _cleanup_free_ char *text = NULL;
                size_t len;
                cJSON *j = NULL;
                struct berth_err e2 = BERTH_ERR_INIT;
                if (berth_read_file(path, 16 << 20, &text, &len, &e2) < 0 ||
                    berth_json_parse(text, len, &j, &e2) < 0) {
                        /* a container whose state is unreadable is kept out, and said so */
                        log_warn("container %.12s: %s: skipped", e->d_name, e2.msg);
                        continue;
                }
                struct berth_container *c = container_from_state(t, e->d_name, j);
                cJSON_Delete(j);
                c->next = t->list;
                t->list = c;
                t->n++;
        }
        closedir(dir);
        berth_containers_recount(d);
        return 0;
}

void berth_containers_close(struct berth_daemon *d)
{
        struct berth_containers *t = d->containers;

        if (!t)
                return;
        while (t->list) {
                struct berth_container *c = t->list;
                t->list = c->next;
                berth_container_unref(c);
        }
        free(t->dir);
        free(t);
        d->containers = NULL;
}

const char *berth_containers_dir(struct berth_daemon *d)
{
        return d->containers->dir;
}
