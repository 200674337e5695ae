/* SPDX-License-Identifier: Apache-2.0
 * daemon/config.c -- berthd's configuration: command-line flags compatible
 * with dockerd's and daemon.json with dockerd's key names.  One table
 * describes every key; flags override the file; unknown keys are errors.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "daemon/daemon.h"

enum key_type { K_STR, K_BOOL, K_INT, K_STRV, K_JSON_OBJ, K_JSON_ARR, K_RUNTIMES, K_LOGLEVEL };

struct key {
        const char *name;       /* daemon.json key */
        enum key_type type;
        size_t off;             /* offset in struct berth_config */
        size_t count_off;       /* K_STRV: offset of the size_t count */
        bool reloadable;
        int64_t min, max;       /* K_INT bounds */
};

#define OFF(f) offsetof(struct berth_config, f)
#define STRV(name, f, rel) { name, K_STRV, OFF(f), OFF(n_##f), rel, 0, 0 }

static const struct key keys[] = {
        STRV("hosts", hosts, false),
        { "data-root", K_STR, OFF(data_root), 0, false, 0, 0 },
        { "exec-root", K_STR, OFF(exec_root), 0, false, 0, 0 },
        { "pidfile", K_STR, OFF(pidfile), 0, false, 0, 0 },
        { "group", K_STR, OFF(group), 0, false, 0, 0 },
        { "metrics-addr", K_STR, OFF(metrics_addr), 0, false, 0, 0 },
        { "log-level", K_LOGLEVEL, OFF(log_level), 0, true, 0, 0 },
        { "debug", K_BOOL, OFF(debug), 0, true, 0, 0 },
        { "tls", K_BOOL, OFF(tls), 0, false, 0, 0 },
        { "tlsverify", K_BOOL, OFF(tlsverify), 0, false, 0, 0 },
        { "tlscacert", K_STR, OFF(tlscacert), 0, false, 0, 0 },
        { "tlscert", K_STR, OFF(tlscert), 0, false, 0, 0 },
        { "tlskey", K_STR, OFF(tlskey), 0, false, 0, 0 },
        { "live-restore", K_BOOL, OFF(live_restore), 0, true, 0, 0 },
        STRV("labels", labels, true),
        STRV("dns", dns, false),
        STRV("dns-opts", dns_opts, false),
        STRV("dns-search", dns_search, false),
        { "dns-cache", K_BOOL, OFF(dns_cache), 0, false, 0, 0 },
        STRV("storage-opts", storage_opts, false),
        { "storage-driver", K_STR, OFF(storage_driver), 0, false, 0, 0 },
        { "log-driver", K_STR, OFF(log_driver), 0, false, 0, 0 },
        { "log-opts", K_JSON_OBJ, OFF(log_opts), 0, false, 0, 0 },
        { "default-runtime", K_STR, OFF(default_runtime), 0, true, 0, 0 },
        { "runtimes", K_RUNTIMES, OFF(runtimes), OFF(n_runtimes), true, 0, 0 },
        { "bip", K_STR, OFF(bip), 0, false, 0, 0 },
        { "fixed-cidr", K_STR, OFF(fixed_cidr), 0, false, 0, 0 },
        { "fixed-cidr-v6", K_STR, OFF(fixed_cidr_v6), 0, false, 0, 0 },
        { "cgroup-parent", K_STR, OFF(cgroup_parent), 0, false, 0, 0 },
        { "ipv6", K_BOOL, OFF(ipv6), 0, false, 0, 0 },
        { "mtu", K_INT, OFF(mtu), 0, false, 68, 65535 },
        { "default-address-pools", K_JSON_ARR, OFF(default_address_pools), 0, false, 0, 0 },
        { "iptables", K_BOOL, OFF(iptables), 0, false, 0, 0 },
        { "ip-forward", K_BOOL, OFF(ip_forward), 0, false, 0, 0 },
        { "userland-proxy", K_BOOL, OFF(userland_proxy), 0, false, 0, 0 },
        { "shutdown-timeout", K_INT, OFF(shutdown_timeout), 0, true, 0, 86400 },
        { "experimental", K_BOOL, OFF(experimental), 0, false, 0, 0 },
        STRV("insecure-registries", insecure_registries, true),
        STRV("registry-mirrors", registry_mirrors, true),
        /* berth's own keys: limits of the API server */
        { "api-max-connections", K_INT, OFF(api_max_connections), 0, true, 1, 1000000 },
        { "api-max-header-size", K_INT, OFF(api_max_header_size), 0, true, 1024, 16 << 20 },
        { "api-max-headers", K_INT, OFF(api_max_headers), 0, true, 8, 10000 },
        { "api-max-body-size", K_INT, OFF(api_max_body_size), 0, true, 1024, (int64_t)1 << 40 },
        { "api-idle-timeout-ms", K_INT, OFF(api_idle_timeout_ms), 0, true, 10, 86400000 },
        { "api-request-timeout-ms", K_INT, OFF(api_request_timeout_ms), 0, true, 10, 86400000 },
};

#define N_KEYS ARRAY_SIZE(keys)


/* [0]: --config-file given (2); [1 + key]: the key was set by a flag */
static unsigned char flags_seen[N_KEYS + 1];

static int key_index(const char *name)
{
        for (size_t i = 0; i < N_KEYS; i++)
                if (!strcmp(keys[i].name, name))
                        return (int)i;
        return -1;
}

static void strv_free(char **v, size_t n)
{
        if (!v)
                return;
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static void strv_push(char ***v, size_t *n, const char *s)
{
        *v = xrealloc(*v, (*n + 2) * sizeof(char *));
        (*v)[(*n)++] = xstrdup(s);
        (*v)[*n] = NULL;
}

static void runtimes_free(struct berth_runtime_cfg *r, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(r[i].name);
                free(r[i].path);
                if (r[i].args)
                        for (char **a = r[i].args; *a; a++)
                                free(*a);
                free(r[i].args);
        }
        free(r);
}

void berth_config_init(struct berth_config *c)
{
        memset(c, 0, sizeof(*c));
        c->data_root = xstrdup("/var/lib/berth");
        c->exec_root = xstrdup("/run/berth");
        c->pidfile = xstrdup("/run/berth.pid");
        c->config_file = xstrdup("/etc/berth/daemon.json");
        c->log_level = BERTH_LOG_INFO;
        c->tls = -1;
        c->live_restore = true;
        c->storage_driver = xstrdup("overlay2");
        c->log_driver = xstrdup("json-file");
        c->default_runtime = xstrdup("berth");
        c->iptables = true;
        c->ip_forward = true;
        c->userland_proxy = true;
        c->shutdown_timeout = 15;
        c->api_max_connections = 4096;
        c->api_max_header_size = 64 * 1024;
        c->api_max_headers = 100;
        c->api_max_body_size = 16 * 1024 * 1024;
        c->api_idle_timeout_ms = 120 * 1000;
        c->api_request_timeout_ms = 60 * 1000;
}

static void field_release(struct berth_config *c, const struct key *k)
{
        char *base = (char *)c;

        switch (k->type) {
        case K_STR: {
                char **p = (char **)(base + k->off);
                free(*p);
                *p = NULL;
                break;
        }
        case K_STRV: {
                char ***p = (char ***)(base + k->off);
                size_t *n = (size_t *)(base + k->count_off);
                strv_free(*p, *n);
                *p = NULL;
                *n = 0;
                break;
        }
        case K_JSON_OBJ:
        case K_JSON_ARR: {
                cJSON **p = (cJSON **)(base + k->off);
                cJSON_Delete(*p);
                *p = NULL;
                break;
        }
        case K_RUNTIMES:
                runtimes_free(c->runtimes, c->n_runtimes);
                c->runtimes = NULL;
                c->n_runtimes = 0;
                break;
        default:
                break;
        }
}

void berth_config_release(struct berth_config *c)
{
        for (size_t i = 0; i < N_KEYS; i++)
                field_release(c, &keys[i]);
        free(c->config_file);
        c->config_file = NULL;
}

/* Set key k from a JSON value.  Type errors name the key. */
static int field_set_json(struct berth_config *c, const struct key *k, const cJSON *v,
                          struct berth_err *err)
{
        char *base = (char *)c;

        switch (k->type) {
        case K_STR:
                if (!cJSON_IsString(v))
                        return berth_err_set(err, EINVAL, "'%s' must be a string", k->name);
                field_release(c, k);
                *(char **)(base + k->off) = xstrdup(v->valuestring);
                return 0;
        case K_LOGLEVEL: {
                if (!cJSON_IsString(v))
                        return berth_err_set(err, EINVAL, "'%s' must be a string", k->name);
                int l = berth_log_level_parse(v->valuestring);
                if (l < 0)
                        return berth_err_set(err, EINVAL, "unable to parse logging level: %s", v->valuestring);
                *(int *)(base + k->off) = l;
                return 0;
        }
        case K_BOOL:
                if (!cJSON_IsBool(v))
                        return berth_err_set(err, EINVAL, "'%s' must be true or false", k->name);
                if (k->off == OFF(tls))
                        *(int *)(base + k->off) = cJSON_IsTrue(v) ? 1 : 0;
                else
                        *(bool *)(base + k->off) = cJSON_IsTrue(v);
                return 0;
        case K_INT: {
                if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble)
                        return berth_err_set(err, EINVAL, "'%s' must be an integer", k->name);
                int64_t x = (int64_t)v->valuedouble;
                if (x < k->min || x > k->max)
                        return berth_err_set(err, ERANGE, "'%s' must be between %lld and %lld", k->name,
                                             (long long)k->min, (long long)k->max);
                if (k->off == OFF(mtu))
                        *(int *)(base + k->off) = (int)x;
                else
                        *(int64_t *)(base + k->off) = x;
                return 0;
        }
        case K_STRV: {
                if (!cJSON_IsArray(v))
                        return berth_err_set(err, EINVAL, "'%s' must be an array of strings", k->name);
                const cJSON *e;
                cJSON_ArrayForEach(e, v) if (!cJSON_IsString(e)) return berth_err_set(
                        err, EINVAL, "'%s' must be an array of strings", k->name);
                field_release(c, k);
                char ***p = (char ***)(base + k->off);
                size_t *n = (size_t *)(base + k->count_off);
                cJSON_ArrayForEach(e, v) strv_push(p, n, e->valuestring);
                return 0;
        }
        case K_JSON_OBJ:
        case K_JSON_ARR:
                if (k->type == K_JSON_OBJ ? !cJSON_IsObject(v) : !cJSON_IsArray(v))
                        return berth_err_set(err, EINVAL, "'%s' must be an %s", k->name,
                                             k->type == K_JSON_OBJ ? "object" : "array");
                if (k->type == K_JSON_OBJ) {
                        const cJSON *e;
                        cJSON_ArrayForEach(e, v) if (!cJSON_IsString(e)) return berth_err_set(
                                err, EINVAL, "'%s': value of '%s' must be a string", k->name, e->string);
                }
                field_release(c, k);
                *(cJSON **)(base + k->off) = cJSON_Duplicate(v, true);
                return 0;
        case K_RUNTIMES: {
                if (!cJSON_IsObject(v))
                        return berth_err_set(err, EINVAL, "'runtimes' must be an object");
                const cJSON *e;
                cJSON_ArrayForEach(e, v) {
                        const cJSON *path = cJSON_GetObjectItemCaseSensitive(e, "path");
                        const cJSON *args = cJSON_GetObjectItemCaseSensitive(e, "runtimeArgs");
                        if (!cJSON_IsObject(e) || !cJSON_IsString(path) || !path->valuestring[0])
                                return berth_err_set(err, EINVAL, "runtime '%s': 'path' must be a non-empty string",
                                                     e->string);
                        const cJSON *f;
                        cJSON_ArrayForEach(f, e) if (strcmp(f->string, "path") && strcmp(f->string, "runtimeArgs"))
                                return berth_err_set(err, EINVAL, "runtime '%s': unknown key '%s'", e->string,
                                                     f->string);
                        if (args && !cJSON_IsArray(args))
                                return berth_err_set(err, EINVAL, "runtime '%s': 'runtimeArgs' must be an array",
                                                     e->string);
                        cJSON_ArrayForEach(f, args) if (!cJSON_IsString(f)) return berth_err_set(
                                err, EINVAL, "runtime '%s': 'runtimeArgs' must hold strings", e->string);
                        if (!strcmp(e->string, "berth"))
                                return berth_err_set(err, EINVAL,
                                                     "runtime name 'berth' is reserved for the built-in runtime");
                }
                field_release(c, k);
                cJSON_ArrayForEach(e, v) {
                        c->runtimes = xrealloc(c->runtimes, (c->n_runtimes + 1) * sizeof(*c->runtimes));
                        struct berth_runtime_cfg *r = &c->runtimes[c->n_runtimes++];
                        const cJSON *args = cJSON_GetObjectItemCaseSensitive(e, "runtimeArgs"), *f;
                        size_t na = 0;
                        r->name = xstrdup(e->string);
                        r->path = xstrdup(berth_json_str(e, "path"));
                        r->args = NULL;
                        if (args) {
                                r->args = xcalloc((size_t)cJSON_GetArraySize(args) + 1, sizeof(char *));
                                cJSON_ArrayForEach(f, args) r->args[na++] = xstrdup(f->valuestring);
                        }
                }
                return 0;
        }
        }
        return berth_err_set(err, EINVAL, "'%s': unsupported", k->name);
}

int berth_config_apply_json(struct berth_config *c, const char *text, size_t len,
                            const unsigned char *seen, struct berth_err *err)
{
        _cleanup_json_ cJSON *root = NULL;
        const cJSON *v;
        int r;

        r = berth_json_parse(text, len, &root, err);
        if (r < 0)
                return r;
        if (!cJSON_IsObject(root))
                return berth_err_set(err, EINVAL, "the configuration must be a JSON object");
        /* every key known, none twice, each of the right type (checked on a
         * scratch copy, so a bad file applies nothing) */
        cJSON_ArrayForEach(v, root) {
                if (key_index(v->string) < 0)
                        return berth_err_set(err, EINVAL, "unknown key '%s'", v->string);
                for (const cJSON *w = v->next; w; w = w->next)
                        if (!strcmp(w->string, v->string))
                                return berth_err_set(err, EINVAL, "key '%s' given twice", v->string);
        }
        struct berth_config scratch;
        berth_config_init(&scratch);
        cJSON_ArrayForEach(v, root) {
                r = field_set_json(&scratch, &keys[key_index(v->string)], v, err);
                if (r < 0) {
                        berth_config_release(&scratch);
                        return r;
                }
        }
        berth_config_release(&scratch);
        cJSON_ArrayForEach(v, root) {
                int i = key_index(v->string);
                if (seen && seen[i])
                        continue;       /* the flag wins */
                r = field_set_json(c, &keys[i], v, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int berth_config_load_file(struct berth_config *c, struct berth_err *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r;
        bool explicit_file = flags_seen[0] == 2; /* see parse_args: marker */

        r = berth_read_file(c->config_file, 4 << 20, &text, &len, err);
        if (r == -ENOENT && !explicit_file)
                return 0;
        if (r < 0)
                return berth_err_wrap(err, "unable to read configuration file");
        /* an empty file is an empty configuration, as dockerd has it */
        size_t i = 0;
        while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r'))
                i++;
        if (i == len)
                return 0;
        r = berth_config_apply_json(c, text, len, flags_seen + 1, err);
        if (r < 0)
                return berth_err_wrap(err, "configuration file '%s'", c->config_file);
        return 0;
}

int berth_config_reload(struct berth_config *live, cJSON **changed, struct berth_err *err)
{
        _cleanup_free_ char *text = NULL;
        struct berth_config next;
        size_t len = 0;
        int r;

        *changed = NULL;
        berth_config_init(&next);
        r = berth_read_file(live->config_file, 4 << 20, &text, &len, err);
        if (r == -ENOENT)
                r = 0, len = 0;
        if (r < 0) {
                berth_config_release(&next);
                return berth_err_wrap(err, "reload");
        }
        if (len > 0) {
                r = berth_config_apply_json(&next, text, len, flags_seen + 1, err);
                if (r < 0) {
                        berth_config_release(&next);
                        return berth_err_wrap(err, "reload of '%s'", live->config_file);
                }
        }
        cJSON *out = cJSON_CreateObject();
        for (size_t i = 0; i < N_KEYS; i++) {
                const struct key *k = &keys[i];
                char *lb = (char *)live, *nb = (char *)&next;
                if (!k->reloadable || flags_seen[i + 1])
                        continue;
                switch (k->type) {
                case K_STR:
                        field_release(live, k);
                        *(char **)(lb + k->off) = TAKE_PTR(*(char **)(nb + k->off));
                        if (*(char **)(lb + k->off))
                                cJSON_AddStringToObject(out, k->name, *(char **)(lb + k->off));
                        break;
                case K_BOOL:
                        *(bool *)(lb + k->off) = *(bool *)(nb + k->off);
                        cJSON_AddStringToObject(out, k->name, *(bool *)(lb + k->off) ? "true" : "false");
                        break;
                case K_LOGLEVEL:
                        *(int *)(lb + k->off) = *(int *)(nb + k->off);
                        break;
                case K_INT: {
                        char tmp[32];
                        *(int64_t *)(lb + k->off) = *(int64_t *)(nb + k->off);
                        (void)snprintf(tmp, sizeof(tmp), "%lld", (long long)*(int64_t *)(lb + k->off));
                        cJSON_AddStringToObject(out, k->name, tmp);
                        break;
                }
                case K_STRV: {
                        field_release(live, k);
                        *(char ***)(lb + k->off) = TAKE_PTR(*(char ***)(nb + k->off));
                        *(size_t *)(lb + k->count_off) = *(size_t *)(nb + k->count_off);
                        *(size_t *)(nb + k->count_off) = 0;
                        struct buf b = BUF_INIT;
                        buf_addc(&b, '[');
                        for (size_t j = 0; j < *(size_t *)(lb + k->count_off); j++)
                                buf_addf(&b, "%s%s", j ? " " : "", (*(char ***)(lb + k->off))[j]);
                        buf_addc(&b, ']');
                        cJSON_AddStringToObject(out, k->name, buf_cstr(&b));
                        buf_release(&b);
                        break;
                }
                case K_RUNTIMES: {
                        field_release(live, k);
                        live->runtimes = TAKE_PTR(next.runtimes);
                        live->n_runtimes = next.n_runtimes;
                        next.n_runtimes = 0;
                        struct buf b = BUF_INIT;
                        for (size_t j = 0; j < live->n_runtimes; j++)
                                buf_addf(&b, "%s%s", j ? " " : "", live->runtimes[j].name);
                        cJSON_AddStringToObject(out, k->name, buf_cstr(&b));
                        buf_release(&b);
                        break;
                }
                default:
                        break;
                }
        }
        if (live->debug && !flags_seen[1 + key_index("log-level")])
                live->log_level = BERTH_LOG_DEBUG;
        berth_config_release(&next);
        *changed = out;
        return 0;
}

static void mark_seen(const char *key)
{
        int i = key_index(key);

        if (i >= 0)
                flags_seen[i + 1] = 1;
}

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: berthd [OPTIONS]\n\n"
                "A Docker-compatible container engine.\n\n"
                "Options:\n"
                "      --add-runtime NAME=PATH   Register an additional OCI runtime\n"
                "      --config-file PATH        Daemon configuration file (default /etc/berth/daemon.json)\n"
                "      --data-root PATH          Root of persistent state (default /var/lib/berth)\n"
                "  -D, --debug                   Enable debug mode\n"
                "      --default-runtime NAME    Default OCI runtime for containers (default berth)\n"
                "      --dns IP                  DNS server for containers\n"
                "      --exec-root PATH          Root of execution state (default /run/berth)\n"
                "  -G, --group GROUP             Group for the unix socket (mode 0660)\n"
                "  -H, --host SOCKET             Daemon socket(s): unix://PATH, tcp://ADDR:PORT, fd://[NAME]\n"
                "      --live-restore            Keep containers alive while berthd is down (default true)\n"
                "      --userland-proxy[=BOOL]   Proxy published ports in userland (default true);\n"
                "                                false: DNAT alone, loopback included\n"
                "  -l, --log-level LEVEL         debug, info, warn, error, fatal (default info)\n"
                "      --metrics-addr ADDR:PORT  Serve Prometheus metrics on this TCP address\n"
                "  -p, --pidfile PATH            Pid file (default /run/berth.pid)\n"
                "  -s, --storage-driver NAME     Storage driver (default overlay2)\n"
                "      --storage-opt OPT         Storage driver option\n"
                "      --tls[=false]             Use TLS (implied by --tlsverify); --tls=false allows\n"
                "                                plain TCP on a non-loopback address\n"
                "      --tlscacert PATH          Trust certs signed only by this CA\n"
                "      --tlscert PATH            TLS certificate\n"
                "      --tlskey PATH             TLS key\n"
                "      --tlsverify               Use TLS and verify the client certificate\n"
                "  -v, --version                 Print version information and quit\n"
                "  -h, --help                    Print this help\n");
}

enum {
        OPT_DATA_ROOT = 256, OPT_EXEC_ROOT, OPT_CONFIG_FILE, OPT_METRICS, OPT_TLS, OPT_TLSVERIFY,
        OPT_TLSCACERT, OPT_TLSCERT, OPT_TLSKEY, OPT_LIVE_RESTORE, OPT_DNS, OPT_STORAGE_OPT,
        OPT_DEFAULT_RUNTIME, OPT_ADD_RUNTIME, OPT_BIP, OPT_LABEL, OPT_USERLAND_PROXY,
};

int berth_config_parse_args(struct berth_config *c, int argc, char **argv, struct berth_err *err)
{
        static const struct option opts[] = {
                { "host", required_argument, NULL, 'H' },
                { "data-root", required_argument, NULL, OPT_DATA_ROOT },
                { "exec-root", required_argument, NULL, OPT_EXEC_ROOT },
                { "pidfile", required_argument, NULL, 'p' },
                { "config-file", required_argument, NULL, OPT_CONFIG_FILE },
                { "log-level", required_argument, NULL, 'l' },
                { "group", required_argument, NULL, 'G' },
                { "metrics-addr", required_argument, NULL, OPT_METRICS },
                { "tls", optional_argument, NULL, OPT_TLS },
                { "tlsverify", optional_argument, NULL, OPT_TLSVERIFY },
                { "tlscacert", required_argument, NULL, OPT_TLSCACERT },
                { "tlscert", required_argument, NULL, OPT_TLSCERT },
                { "tlskey", required_argument, NULL, OPT_TLSKEY },
                { "debug", no_argument, NULL, 'D' },
                { "live-restore", optional_argument, NULL, OPT_LIVE_RESTORE },
                { "userland-proxy", optional_argument, NULL, OPT_USERLAND_PROXY },
                { "dns", required_argument, NULL, OPT_DNS },
                { "storage-driver", required_argument, NULL, 's' },
                { "storage-opt", required_argument, NULL, OPT_STORAGE_OPT },
                { "default-runtime", required_argument, NULL, OPT_DEFAULT_RUNTIME },
                { "add-runtime", required_argument, NULL, OPT_ADD_RUNTIME },
                { "bip", required_argument, NULL, OPT_BIP },
                { "label", required_argument, NULL, OPT_LABEL },
                { "version", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        int o, l;

        memset(flags_seen, 0, sizeof(flags_seen));
        optind = 1;
        opterr = 0;
        while ((o = getopt_long(argc, argv, ":H:p:l:G:Ds:vh", opts, NULL)) != -1) {
                const char *bool_arg = optarg;
                switch (o) {
                case 'H':
                        if (!flags_seen[1 + key_index("hosts")]) {
                                strv_free(c->hosts, c->n_hosts);
                                c->hosts = NULL;
                                c->n_hosts = 0;
                        }
                        strv_push(&c->hosts, &c->n_hosts, optarg);
                        mark_seen("hosts");
                        break;
#define SET_STR(field, key)                      \
        free(c->field);                          \
        c->field = xstrdup(optarg);              \
        mark_seen(key);                          \
        break
                case OPT_DATA_ROOT: SET_STR(data_root, "data-root");
                case OPT_EXEC_ROOT: SET_STR(exec_root, "exec-root");
                case 'p': SET_STR(pidfile, "pidfile");
                case 'G': SET_STR(group, "group");
                case OPT_METRICS: SET_STR(metrics_addr, "metrics-addr");
                case OPT_TLSCACERT: SET_STR(tlscacert, "tlscacert");
                case OPT_TLSCERT: SET_STR(tlscert, "tlscert");
                case OPT_TLSKEY: SET_STR(tlskey, "tlskey");
                case 's': SET_STR(storage_driver, "storage-driver");
                case OPT_DEFAULT_RUNTIME: SET_STR(default_runtime, "default-runtime");
                case OPT_BIP: SET_STR(bip, "bip");
#undef SET_STR
                case OPT_CONFIG_FILE:
                        free(c->config_file);
                        c->config_file = xstrdup(optarg);
                        flags_seen[0] = 2;
                        break;
                case 'l':
                        l = berth_log_level_parse(optarg);
                        if (l < 0)
                                return berth_err_set(err, EINVAL, "unable to parse logging level: %s", optarg);
                        c->log_level = l;
                        mark_seen("log-level");
                        break;
                case 'D':
                        c->debug = true;
                        mark_seen("debug");
                        break;
                case OPT_TLS:
                case OPT_TLSVERIFY:
                case OPT_LIVE_RESTORE:
                case OPT_USERLAND_PROXY: {
                        bool v = true;
                        if (bool_arg) {
                                if (!strcasecmp(bool_arg, "true") || !strcmp(bool_arg, "1"))
                                        v = true;
                                else if (!strcasecmp(bool_arg, "false") || !strcmp(bool_arg, "0"))
                                        v = false;
                                else
                                        return berth_err_set(err, EINVAL, "invalid boolean value '%s' for --%s",
                                                             bool_arg, o == OPT_TLS ? "tls" : o == OPT_TLSVERIFY ? "tlsverify" :
                                                             o == OPT_USERLAND_PROXY ? "userland-proxy" : "live-restore");
                        }
                        if (o == OPT_TLS) {
                                c->tls = v;
                                mark_seen("tls");
                        } else if (o == OPT_TLSVERIFY) {
                                c->tlsverify = v;
                                mark_seen("tlsverify");
                        } else if (o == OPT_USERLAND_PROXY) {
                                c->userland_proxy = v;
                                mark_seen("userland-proxy");
                        } else {
                                c->live_restore = v;
                                mark_seen("live-restore");
                        }
                        break;
                }
                case OPT_DNS:
                        if (!flags_seen[1 + key_index("dns")]) {
                                strv_free(c->dns, c->n_dns);
                                c->dns = NULL;
                                c->n_dns = 0;
                        }
                        strv_push(&c->dns, &c->n_dns, optarg);
                        mark_seen("dns");
                        break;
                case OPT_STORAGE_OPT:
                        strv_push(&c->storage_opts, &c->n_storage_opts, optarg);
                        mark_seen("storage-opts");
                        break;
                case OPT_LABEL:
                        strv_push(&c->labels, &c->n_labels, optarg);
                        mark_seen("labels");
                        break;
                case OPT_ADD_RUNTIME: {
                        const char *eq = strchr(optarg, '=');
                        if (!eq || eq == optarg || !eq[1])
                                return berth_err_set(err, EINVAL, "--add-runtime: expected NAME=PATH, got '%s'", optarg);
                        if (!strncmp(optarg, "berth=", 6))
                                return berth_err_set(err, EINVAL, "runtime name 'berth' is reserved for the built-in runtime");
                        c->runtimes = xrealloc(c->runtimes, (c->n_runtimes + 1) * sizeof(*c->runtimes));
                        struct berth_runtime_cfg *r = &c->runtimes[c->n_runtimes++];
                        r->name = xstrndup(optarg, (size_t)(eq - optarg));
                        r->path = xstrdup(eq + 1);
                        r->args = NULL;
                        mark_seen("runtimes");
                        break;
                }
                case 'v':
                        printf("berthd version %s, API %s\n", PACKAGE_VERSION, BERTH_API_VERSION);
                        return 1;
                case 'h':
                        usage(stdout);
                        return 1;
                case ':':
                        return berth_err_set(err, EINVAL, "flag needs an argument: %s", argv[optind - 1]);
                default:
                        return berth_err_set(err, EINVAL, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return berth_err_set(err, EINVAL, "berthd takes no arguments, got '%s'", argv[optind]);
        return 0;
}

static bool host_is_loopback(const char *hostport)
{
        return berth_str_has_prefix(hostport, "127.") || berth_str_has_prefix(hostport, "localhost:") ||
               berth_str_has_prefix(hostport, "[::1]:");
}

int berth_config_validate(const struct berth_config *c, struct berth_err *err)
{
        bool tls = c->tls == 1 || c->tlsverify;

        for (size_t i = 0; i < c->n_hosts; i++) {
                const char *h = c->hosts[i];
                if (berth_str_has_prefix(h, "unix://")) {
                        if (strlen(h + 7) == 0 || strlen(h + 7) >= 108)
                                return berth_err_set(err, EINVAL, "invalid unix socket path in '%s'", h);
                } else if (berth_str_has_prefix(h, "tcp://")) {
                        const char *hp = h + 6;
                        if (!strrchr(hp, ':'))
                                return berth_err_set(err, EINVAL, "tcp address '%s' needs a port", h);
                        if (!tls && !host_is_loopback(hp) && c->tls != 0)
                                return berth_err_set(err, EINVAL,
                                        "refusing to listen on '%s' without TLS: anyone who can reach it controls the host; "
                                        "use --tlsverify, or --tls=false to force it", h);
                } else if (berth_str_has_prefix(h, "fd://")) {
                        ;
                } else {
                        return berth_err_set(err, EINVAL, "invalid host '%s': use unix://PATH, tcp://ADDR:PORT or fd://[NAME]", h);
                }
        }
        if (tls) {
                if (!c->tlscert || !c->tlskey)
                        return berth_err_set(err, EINVAL, "TLS needs --tlscert and --tlskey");
                if (c->tlsverify && !c->tlscacert)
                        return berth_err_set(err, EINVAL, "--tlsverify needs --tlscacert");
        }
        if (c->default_runtime && strcmp(c->default_runtime, "berth") && strcmp(c->default_runtime, "runc")) {
                bool found = false;
                for (size_t i = 0; i < c->n_runtimes; i++)
                        if (!strcmp(c->runtimes[i].name, c->default_runtime))
                                found = true;
                if (!found)
                        return berth_err_set(err, EINVAL, "default runtime '%s' is not registered", c->default_runtime);
        }
        if (c->storage_driver && strcmp(c->storage_driver, "overlay2"))
                return berth_err_set(err, EINVAL, "storage driver '%s' is not supported (berth has overlay2)",
                                     c->storage_driver);
        if (c->log_driver && strcmp(c->log_driver, "json-file"))
                return berth_err_set(err, EINVAL, "log driver '%s' is not supported (berth has json-file)",
                                     c->log_driver);
        if (c->data_root[0] != '/' || c->exec_root[0] != '/')
                return berth_err_set(err, EINVAL, "data-root and exec-root must be absolute paths");
        return 0;
}
