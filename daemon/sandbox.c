/* SPDX-License-Identifier: Apache-2.0
 * daemon/sandbox.c -- a container's network sandbox: the seam between the
 * container code (daemon/lifecycle.c) and networking (daemon/networks.c over
 * net/, and dns/).
 *
 * The networks a container wants are the keys of its
 * NetworkingConfig.EndpointsConfig, normalised at create
 * (berth_sandbox_prepare): canonical network names, the HostConfig.NetworkMode
 * network first.  connect/disconnect edit that object, so the next start
 * attaches what the user last asked for, as Docker does.
 *
 * While a container runs it has a struct berth_sandbox (c->sb): the networks
 * it is attached to, its published ports, the DNS tables holding its names
 * and its resolver.  Setup runs as a chain of callbacks on the loop: one
 * attach after the other (each a net_queue job), then the ports (proxies
 * opened on the loop in the queue's turn, the nftables table committed on
 * the pool), then DNS.  Teardown runs the same way backwards; it always runs
 * in full, so it also cleans what a crash left (berth_sandbox_restore).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "dns/dns.h"
#include "net/net.h"

struct setup_job;

struct berth_sandbox {
        struct berth_daemon *d;
        struct berth_container *c;      /* ref */
        char *netns;                    /* the container's netns path, or NULL */
        char **nets;                    /* attached, in order */
        size_t n_nets;
        struct net_port_map *ports;     /* published (host ports resolved) */
        size_t n_ports;
        struct dns_resolver *resolver;
        bool resolver_up;
        char **dns_nets;                /* tables holding this container's names */
        size_t n_dns_nets;
        bool tearing;
        struct setup_job *after;        /* a setup waiting for the teardown */
};

/* ---- small helpers ---- */

static void strv_push(char ***v, size_t *n, const char *s)
{
        *v = xrealloc(*v, (*n + 1) * sizeof(**v));
        (*v)[(*n)++] = xstrdup(s);
}

static bool strv_drop(char **v, size_t *n, const char *s)
{
        for (size_t i = 0; i < *n; i++)
                if (!strcmp(v[i], s)) {
                        free(v[i]);
                        memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof(*v));
                        (*n)--;
                        return true;
                }
        return false;
}

static bool strv_has(char *const *v, size_t n, const char *s)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(v[i], s))
                        return true;
        return false;
}

static void strv_clear(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static const char *mode_of(const struct berth_container *c)
{
        const char *m = c->host_config ? berth_json_str(c->host_config, "NetworkMode") : NULL;

        return m && *m ? m : "default";
}

static bool mode_is(const struct berth_container *c, const char *what)
{
        return !strcmp(mode_of(c), what);
}

static bool mode_shares(const struct berth_container *c)
{
        return berth_str_has_prefix(mode_of(c), "container:");
}

static const cJSON *endpoints_config(const struct berth_container *c)
{
        const cJSON *ec = c->networking ? cJSON_GetObjectItemCaseSensitive(c->networking, "EndpointsConfig") : NULL;

        return cJSON_IsObject(ec) ? ec : NULL;
}

static const char *cname(const struct berth_container *c)
{
        return c->name[0] == '/' ? c->name + 1 : c->name;
}

/* DNS serves user-defined bridge and macvlan networks only (the default
 * bridge keeps legacy /etc/hosts, as Docker) */
static bool dns_network(struct berth_daemon *d, const char *name, struct berth_network_brief *b)
{
        struct berth_err err = BERTH_ERR_INIT;

        return d->dns && berth_network_brief(d, name, b, &err) == 0 && b->uses_net && !b->predefined;
}

/* ---- ports ---- */

static int parse_port_key(const char *key, uint16_t *port, int *proto, struct berth_err *err)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(key, &end, 10);
        if (end == key || errno || v < 1 || v > 65535)
                return berth_err_pub(err, EINVAL, "invalid port specification: \"%s\"", key);
        if (!*end || !strcmp(end, "/tcp"))
                *proto = IPPROTO_TCP;
        else if (!strcmp(end, "/udp"))
                *proto = IPPROTO_UDP;
        else if (!strcmp(end, "/sctp"))
                return berth_err_pub(err, EINVAL, "sctp ports are not supported: \"%s\"", key);
        else
                return berth_err_pub(err, EINVAL, "invalid port specification: \"%s\"", key);
        *port = (uint16_t)v;
        return 0;
}

static int parse_host_port(const char *s, uint16_t *ret, struct berth_err *err)
{
        char *end;
        long v;

        if (!s || !*s) {
                *ret = 0;
                return 0;
        }
        errno = 0;
        v = strtol(s, &end, 10);
        /* "8000-8010": the first port of the range */
        if (end == s || errno || v < 0 || v > 65535 || (*end && *end != '-'))
                return berth_err_pub(err, EINVAL, "invalid hostPort: %s", s);
        *ret = (uint16_t)v;
        return 0;
}

/* PortBindings, then PublishAllPorts for the exposed ports left */
static int port_maps(const cJSON *hc, const cJSON *config, struct net_port_map **ret, size_t *ret_n,
                     struct berth_err *err)
{
        const cJSON *pb = hc ? cJSON_GetObjectItemCaseSensitive(hc, "PortBindings") : NULL;
        const cJSON *ex = config ? cJSON_GetObjectItemCaseSensitive(config, "ExposedPorts") : NULL;
        bool all = hc && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(hc, "PublishAllPorts"));
        struct net_port_map *maps = NULL;
        size_t n = 0;
        const cJSON *k, *b;
        int r;

        *ret = NULL;
        *ret_n = 0;
        if (pb && !cJSON_IsObject(pb) && !cJSON_IsNull(pb))
                return berth_err_pub(err, EINVAL, "json: PortBindings must be an object");
        cJSON_ArrayForEach(k, pb) {
                uint16_t cport;
                int proto;
                r = parse_port_key(k->string, &cport, &proto, err);
                if (r < 0)
                        goto fail;
                if (!cJSON_IsArray(k) && !cJSON_IsNull(k)) {
                        r = berth_err_pub(err, EINVAL, "json: the bindings of %s must be an array", k->string);
                        goto fail;
                }
                cJSON_ArrayForEach(b, k) {
                        struct net_port_map m = { .proto = proto, .container_port = cport };
                        const char *hip = berth_json_str(b, "HostIp");
                        struct in6_addr a6;
                        if (hip && *hip) {
                                if (strlen(hip) >= sizeof(m.host_ip) ||
                                    (inet_pton(AF_INET, hip, &a6) != 1 && inet_pton(AF_INET6, hip, &a6) != 1)) {
                                        r = berth_err_pub(err, EINVAL, "invalid IP address: %s", hip);
                                        goto fail;
                                }
                                if (strcmp(hip, "0.0.0.0"))
                                        snprintf(m.host_ip, sizeof(m.host_ip), "%s", hip);
                        }
                        r = parse_host_port(berth_json_str(b, "HostPort"), &m.host_port, err);
                        if (r < 0)
                                goto fail;
                        maps = xrealloc(maps, (n + 1) * sizeof(*maps));
                        maps[n++] = m;
                }
        }
        if (all && cJSON_IsObject(ex)) {
                cJSON_ArrayForEach(k, ex) {
                        struct net_port_map m = { 0 };
                        bool bound = false;
                        r = parse_port_key(k->string, &m.container_port, &m.proto, err);
                        if (r < 0)
                                goto fail;
                        for (size_t i = 0; i < n; i++)
                                bound = bound || (maps[i].container_port == m.container_port &&
                                                  maps[i].proto == m.proto);
                        if (bound)
                                continue;
                        maps = xrealloc(maps, (n + 1) * sizeof(*maps));
                        maps[n++] = m;
                }
        }
        *ret = maps;
        *ret_n = n;
        return 0;
fail:
        free(maps);
        return r;
}

/* ---- create-time checks and normalisation ---- */

static int resolve_name(struct berth_daemon *d, const char *ref, const char **ret, struct berth_err *err)
{
        const char *id, *driver;

        return berth_network_resolve(d, ref, ret, &id, &driver, err);
}

/* at create, as dockerd 20.10: an unknown network is kept by the name given
 * and fails the start (404), not the create */
static int resolve_at_create(struct berth_daemon *d, const char *ref, const char **ret, struct berth_err *err)
{
        int r = resolve_name(d, ref, ret, err);

        if (r == -ENOENT) {
                *ret = ref;
                return 0;
        }
        return r;
}

int berth_sandbox_prepare(struct berth_daemon *d, const cJSON *host_config, const cJSON *config, cJSON **networking,
                          struct berth_err *err)
{
        const char *mode = host_config ? berth_json_str(host_config, "NetworkMode") : NULL;
        const cJSON *ec = *networking ? cJSON_GetObjectItemCaseSensitive(*networking, "EndpointsConfig") : NULL;
        _cleanup_free_ struct net_port_map *maps = NULL;
        cJSON *out = NULL, *eps, *k;
        const char *name;
        size_t n;
        int r;

        if (!mode || !*mode)
                mode = "default";
        if (ec && !cJSON_IsObject(ec) && !cJSON_IsNull(ec))
                return berth_err_pub(err, EINVAL, "json: EndpointsConfig must be an object");
        r = port_maps(host_config, config, &maps, &n, err);
        if (r < 0)
                return r;
        out = cJSON_CreateObject();
        eps = cJSON_AddObjectToObject(out, "EndpointsConfig");
        if (berth_str_has_prefix(mode, "container:")) {
                struct berth_container *o = berth_container_find(d, mode + strlen("container:"), err);
                if (!o) {
                        cJSON_Delete(out);
                        return -err->code;
                }
                if (cJSON_GetArraySize(ec) > 0) {
                        cJSON_Delete(out);
                        return berth_err_pub(err, EINVAL, "conflicting options: networks and the container "
                                             "network mode cannot be combined");
                }
        } else {
                const cJSON *mine = NULL;
                r = resolve_at_create(d, mode, &name, err);
                if (r < 0) {
                        cJSON_Delete(out);
                        return r;
                }
                /* the mode's network first, with its endpoint settings */
                cJSON_ArrayForEach(k, ec) {
                        const char *kn;
                        struct berth_err e2 = BERTH_ERR_INIT;
                        if (!strcmp(k->string, mode) ||
                            (resolve_at_create(d, k->string, &kn, &e2) == 0 && !strcmp(kn, name)))
                                mine = k;
                }
                cJSON_AddItemToObject(eps, name, mine && cJSON_IsObject(mine) ? cJSON_Duplicate(mine, 1)
                                                                            : cJSON_CreateObject());
                cJSON_ArrayForEach(k, ec) {
                        const char *kn;
                        if (k == mine)
                                continue;
                        r = resolve_at_create(d, k->string, &kn, err);
                        if (r < 0) {
                                cJSON_Delete(out);
                                return r;
                        }
                        if (!strcmp(kn, "none") || !strcmp(kn, "host") || !strcmp(name, "none") ||
                            !strcmp(name, "host")) {
                                cJSON_Delete(out);
                                return berth_err_pub(err, EINVAL, "container cannot be connected to multiple "
                                                     "networks with one of the networks in %s mode",
                                                     !strcmp(kn, "host") || !strcmp(name, "host") ? "host"
                                                                                                  : "private (none)");
                        }
                        if (cJSON_GetObjectItemCaseSensitive(eps, kn))
                                continue;
                        cJSON_AddItemToObject(eps, kn, cJSON_IsObject(k) ? cJSON_Duplicate(k, 1) : cJSON_CreateObject());
                }
        }
        cJSON_Delete(*networking);
        *networking = out;
        return 0;
}

/* ---- the sandbox object ---- */

void berth_sandbox_free(struct berth_sandbox *sb)
{
        if (!sb)
                return;
        if (sb->resolver)
                dns_resolver_stop(sb->resolver);
        strv_clear(sb->nets, sb->n_nets);
        strv_clear(sb->dns_nets, sb->n_dns_nets);
        free(sb->ports);
        free(sb->netns);
        berth_container_unref(sb->c);
        free(sb);
}

static struct berth_sandbox *sandbox_new(struct berth_daemon *d, struct berth_container *c, const char *netns)
{
        struct berth_sandbox *sb = xcalloc(1, sizeof(*sb));

        sb->d = d;
        sb->c = berth_container_ref(c);
        sb->netns = netns ? xstrdup(netns) : NULL;
        c->sb = sb;
        return sb;
}

/* ---- DNS ---- */

static size_t upstreams_of(struct berth_daemon *d, const struct berth_container *c, struct dns_upstream *ups)
{
        const cJSON *dns = c->host_config ? cJSON_GetObjectItemCaseSensitive(c->host_config, "Dns") : NULL, *v;
        size_t n = 0;

        cJSON_ArrayForEach(v, dns) if (cJSON_IsString(v) && n < DNS_MAX_UPSTREAMS)
                n += dns_upstream_parse(v->valuestring, &ups[n], NULL) == 0;
        if (n)
                return n;
        for (size_t i = 0; i < d->cfg.n_dns && n < DNS_MAX_UPSTREAMS; i++)
                n += dns_upstream_parse(d->cfg.dns[i], &ups[n], NULL) == 0;
        if (n)
                return n;
        for (size_t i = 0; i < d->n_host_dns && n < DNS_MAX_UPSTREAMS; i++)
                ups[n++] = d->host_dns[i];
        return n;
}

static bool ndots_set(struct berth_daemon *d, const struct berth_container *c)
{
        const cJSON *o = c->host_config ? cJSON_GetObjectItemCaseSensitive(c->host_config, "DnsOptions") : NULL, *v;

        cJSON_ArrayForEach(v, o) if (cJSON_IsString(v) && berth_str_has_prefix(v->valuestring, "ndots:"))
                return true;
        for (size_t i = 0; i < d->cfg.n_dns_opts; i++)
                if (berth_str_has_prefix(d->cfg.dns_opts[i], "ndots:"))
                        return true;
        return false;
}

static const cJSON *ep_config(const struct berth_container *c, const char *network)
{
        const cJSON *ec = endpoints_config(c);

        return ec ? cJSON_GetObjectItemCaseSensitive(ec, network) : NULL;
}

/* put the container's names in one network's table */
static int dns_add(struct berth_sandbox *sb, const char *network, struct berth_err *err)
{
        struct berth_daemon *d = sb->d;
        struct berth_container *c = sb->c;
        const struct net_endpoint_info *info = berth_network_endpoint(d, network, c->id);
        struct berth_network_brief b;
        struct dns_subnet subs[4];
        size_t ns = 0, nn = 0;
        const char *names[64];
        char short_id[13];
        struct in_addr v4;
        struct in6_addr v6;
        int r;

        if (!info || !dns_network(d, network, &b))
                return 0;
        for (size_t i = 0; i < b.n_subnets; i++) {
                char tmp[64];
                char *slash;
                snprintf(tmp, sizeof(tmp), "%s", b.subnets[i]);
                slash = strchr(tmp, '/');
                if (!slash)
                        continue;
                *slash = '\0';
                subs[ns].prefixlen = (unsigned)atoi(slash + 1);
                if (inet_pton(AF_INET, tmp, &subs[ns].addr.v4) == 1)
                        subs[ns++].family = AF_INET;
                else if (inet_pton(AF_INET6, tmp, &subs[ns].addr.v6) == 1)
                        subs[ns++].family = AF_INET6;
        }
        struct dns_network_config nc = { .name = network, .internal = b.internal, .subnets = subs, .n_subnets = ns };
        r = dns_network_add(d->dns, &nc, err);
        if (r < 0 && r != -EEXIST)
                return r;
        names[nn++] = cname(c);
        const cJSON *al = cJSON_GetObjectItemCaseSensitive(ep_config(c, network), "Aliases"), *a;
        cJSON_ArrayForEach(a, al) if (cJSON_IsString(a) && nn < ARRAY_SIZE(names) - 2)
                names[nn++] = a->valuestring;
        snprintf(short_id, sizeof(short_id), "%.12s", c->id);
        names[nn++] = short_id;
        const char *host = c->config ? berth_json_str(c->config, "Hostname") : NULL;
        if (host && *host)
                names[nn++] = host;
        struct dns_endpoint_config ec = {
                .id = c->id,
                .names = names,
                .n_names = nn,
                .v4 = info->ip[0] && inet_pton(AF_INET, info->ip, &v4) == 1 ? &v4 : NULL,
                .v6 = info->ip6[0] && inet_pton(AF_INET6, info->ip6, &v6) == 1 ? &v6 : NULL,
        };
        (void)dns_endpoint_remove(d->dns, network, c->id, NULL);
        r = dns_endpoint_add(d->dns, network, &ec, err);
        if (r < 0)
                return r;
        if (!strv_has(sb->dns_nets, sb->n_dns_nets, network))
                strv_push(&sb->dns_nets, &sb->n_dns_nets, network);
        return 1;
}

static void dns_del(struct berth_sandbox *sb, const char *name)
{
        _cleanup_free_ char *network = xstrdup(name);   /* name may be the entry dropped */

        if (!strv_drop(sb->dns_nets, &sb->n_dns_nets, network) || !sb->d->dns)
                return;
        (void)dns_endpoint_remove(sb->d->dns, network, sb->c->id, NULL);
        if (sb->resolver)
                (void)dns_resolver_disconnect(sb->resolver, network, NULL);
}

static void dns_clear(struct berth_sandbox *sb)
{
        if (sb->resolver) {
                dns_resolver_stop(sb->resolver);
                sb->resolver = NULL;
                sb->resolver_up = false;
        }
        while (sb->n_dns_nets > 0)
                dns_del(sb, sb->dns_nets[0]);
}

typedef void (*resolver_cb)(struct berth_sandbox *sb, int status, const char *msg, void *data);
struct resolver_wait {
        struct berth_sandbox *sb;
        resolver_cb cb;
        void *data;
};

static void on_resolver_started(struct dns_resolver *r, int status, const char *msg, void *data)
{
        struct resolver_wait *rw = data;
        struct berth_sandbox *sb = rw->sb;

        if (status < 0) {
                if (sb->resolver == r)
                        sb->resolver = NULL;
        } else {
                sb->resolver_up = true;
        }
        rw->cb(sb, status, msg, rw->data);
        free(rw);
}

/* start the resolver over the DNS networks (cb at once when none, or when it
 * runs already: then the new networks are connected) */
static int resolver_ensure(struct berth_sandbox *sb, resolver_cb cb, void *data, struct berth_err *err)
{
        struct berth_daemon *d = sb->d;
        struct dns_upstream ups[DNS_MAX_UPSTREAMS];
        struct resolver_wait *rw;
        int r;

        if (sb->n_dns_nets == 0 || !sb->netns || !d->dns)
                return 1;
        if (sb->resolver) {
                for (size_t i = 0; i < sb->n_dns_nets; i++)
                        (void)dns_resolver_connect(sb->resolver, sb->dns_nets[i], NULL);
                return 1;
        }
        _cleanup_close_ int fd = open(sb->netns, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_err_set(err, errno, "open the container's netns '%s': %s", sb->netns, strerror(errno));
        struct dns_resolver_config rc = {
                .name = cname(sb->c),
                .netns_fd = fd,
                .networks = (const char *const *)sb->dns_nets,
                .n_networks = sb->n_dns_nets,
                .upstreams = ups,
                .n_upstreams = upstreams_of(d, sb->c, ups),
                .ndots_set = ndots_set(d, sb->c),
        };
        rw = xcalloc(1, sizeof(*rw));
        rw->sb = sb;
        rw->cb = cb;
        rw->data = data;
        r = dns_resolver_start(d->dns, &rc, on_resolver_started, rw, &sb->resolver, err);
        if (r < 0) {
                free(rw);
                sb->resolver = NULL;
                return r;
        }
        return 0;
}

/* ---- /etc files ---- */

struct berth_files {
        char *hostname, *domainname;
        bool host_network, embedded_dns, ipv6;
        char **dns, **search, **opts, **extra;
        size_t n_dns, n_search, n_opts, n_extra;
        char **self_ip, **self_names;
        size_t n_self;
};

static void strv_from_json(const cJSON *arr, char *const *fallback, size_t n_fallback, char ***v, size_t *n)
{
        const cJSON *e;

        cJSON_ArrayForEach(e, arr) if (cJSON_IsString(e))
                strv_push(v, n, e->valuestring);
        if (*n == 0)
                for (size_t i = 0; i < n_fallback; i++)
                        strv_push(v, n, fallback[i]);
        /* NULL-terminated for net_files_config */
        *v = xrealloc(*v, (*n + 1) * sizeof(**v));
        (*v)[*n] = NULL;
}

struct berth_files *berth_sandbox_files(struct berth_daemon *d, const struct berth_container *c)
{
        struct berth_files *f = xcalloc(1, sizeof(*f));
        const cJSON *hc = c->host_config;
        const char *host = c->config ? berth_json_str(c->config, "Hostname") : NULL;
        const char *dom = c->config ? berth_json_str(c->config, "Domainname") : NULL;
        struct berth_sandbox *sb = c->sb;

        f->hostname = xstrdup(host && *host ? host : "localhost");
        f->domainname = dom && *dom ? xstrdup(dom) : NULL;
        f->host_network = mode_is(c, "host");
        strv_from_json(hc ? cJSON_GetObjectItemCaseSensitive(hc, "Dns") : NULL, d->cfg.dns, d->cfg.n_dns, &f->dns,
                       &f->n_dns);
        strv_from_json(hc ? cJSON_GetObjectItemCaseSensitive(hc, "DnsSearch") : NULL, d->cfg.dns_search,
                       d->cfg.n_dns_search, &f->search, &f->n_search);
        strv_from_json(hc ? cJSON_GetObjectItemCaseSensitive(hc, "DnsOptions") : NULL, d->cfg.dns_opts,
                       d->cfg.n_dns_opts, &f->opts, &f->n_opts);
        strv_from_json(hc ? cJSON_GetObjectItemCaseSensitive(hc, "ExtraHosts") : NULL, NULL, 0, &f->extra,
                       &f->n_extra);
        f->embedded_dns = sb && sb->n_dns_nets > 0;
        _cleanup_free_ char *names = f->domainname ? xasprintf("%s.%s %s", f->hostname, f->domainname, f->hostname)
                                                   : xstrdup(f->hostname);
        for (size_t i = 0; sb && i < sb->n_nets; i++) {
                const struct net_endpoint_info *e = berth_network_endpoint(d, sb->nets[i], c->id);
                struct berth_network_brief b;
                struct berth_err err = BERTH_ERR_INIT;
                if (!e)
                        continue;
                if (berth_network_brief(d, sb->nets[i], &b, &err) == 0 && b.ipv6)
                        f->ipv6 = true;
                for (int k = 0; k < 2; k++) {
                        const char *ip = k ? e->ip6 : e->ip;
                        if (!*ip)
                                continue;
                        f->self_ip = xrealloc(f->self_ip, (f->n_self + 1) * sizeof(char *));
                        f->self_names = xrealloc(f->self_names, (f->n_self + 1) * sizeof(char *));
                        f->self_ip[f->n_self] = xstrdup(ip);
                        f->self_names[f->n_self++] = xstrdup(names);
                }
        }
        return f;
}

void berth_sandbox_files_free(struct berth_files *f)
{
        if (!f)
                return;
        free(f->hostname);
        free(f->domainname);
        strv_clear(f->dns, f->n_dns);
        strv_clear(f->search, f->n_search);
        strv_clear(f->opts, f->n_opts);
        strv_clear(f->extra, f->n_extra);
        strv_clear(f->self_ip, f->n_self);
        strv_clear(f->self_names, f->n_self);
        free(f);
}

int berth_sandbox_files_write(const struct berth_files *f, const char *dir, struct berth_err *err)
{
        _cleanup_free_ struct net_host_entry *self = xcalloc(f->n_self + 1, sizeof(*self));
        struct net_files_config fc = {
                .hostname = f->hostname,
                .domainname = f->domainname,
                .host_network = f->host_network,
                .embedded_dns = f->embedded_dns,
                .dns = (const char *const *)f->dns,
                .dns_search = (const char *const *)f->search,
                .dns_options = (const char *const *)f->opts,
                .extra_hosts = (const char *const *)f->extra,
                .self = self,
                .n_self = f->n_self,
                .ipv6 = f->ipv6,
        };

        for (size_t i = 0; i < f->n_self; i++) {
                self[i].ip = f->self_ip[i];
                self[i].names = f->self_names[i];
        }
        return net_files_write(dir, &fc, err);
}

struct files_job {
        uv_work_t w;
        struct berth_files *f;
        char *dir;
        struct berth_err err;
        int rc;
        berth_done_cb cb;
        void *data;
};

static void files_fn(uv_work_t *w)
{
        struct files_job *j = container_of(w, struct files_job, w);

        j->rc = berth_sandbox_files_write(j->f, j->dir, &j->err);
}

static void files_done(uv_work_t *w, int status)
{
        struct files_job *j = container_of(w, struct files_job, w);

        if (j->rc == 0 && status < 0)
                j->rc = berth_err_set(&j->err, ECANCELED, "cancelled");
        if (j->rc < 0)
                log_warn("writing %s/hosts: %s", j->dir, j->err.msg);
        j->cb(j->rc, &j->err, j->data);
        berth_sandbox_files_free(j->f);
        free(j->dir);
        free(j);
}

/* rewrite a running container's /etc files (after connect/disconnect) */
static void files_rewrite(struct berth_daemon *d, struct berth_container *c, berth_done_cb cb, void *data)
{
        struct files_job *j = xcalloc(1, sizeof(*j));

        j->f = berth_sandbox_files(d, c);
        j->dir = xstrdup(c->dir);
        j->cb = cb;
        j->data = data;
        if (uv_queue_work(d->loop, &j->w, files_fn, files_done) < 0) {
                j->rc = berth_err_set(&j->err, EIO, "cannot queue the /etc files");
                files_done(&j->w, 0);
        }
}

/* ---- setup ---- */

struct setup_job {
        struct berth_daemon *d;
        struct berth_container *c;      /* ref */
        struct berth_sandbox *sb;
        char *netns;
        char **want;
        size_t n_want, i;
        struct net_port_map *maps;
        size_t n_maps;
        bool ports_changed;
        int status;
        struct berth_err err;
        berth_done_cb cb;
        void *data;
};

static void setup_job_free(struct setup_job *j)
{
        strv_clear(j->want, j->n_want);
        free(j->maps);
        free(j->netns);
        berth_container_unref(j->c);
        free(j);
}

static void setup_begin(struct setup_job *j);
static void setup_attach_next(struct setup_job *j);

static void setup_failed_done(int status, const struct berth_err *err, void *data)
{
        struct setup_job *j = data;

        (void)status;
        (void)err;
        j->cb(j->status, &j->err, j->data);
        setup_job_free(j);
}

static void setup_fail(struct setup_job *j, int status, const struct berth_err *err)
{
        j->status = status < 0 ? status : -EIO;
        if (err && err != &j->err)
                j->err = *err;
        if (!j->err.msg[0])
                berth_err_set(&j->err, -j->status, "network setup failed");
        berth_sandbox_teardown(j->d, j->c, setup_failed_done, j);
}

static void setup_finish(struct setup_job *j)
{
        j->cb(0, NULL, j->data);
        setup_job_free(j);
}

static void setup_resolver_started(struct berth_sandbox *sb, int status, const char *msg, void *data)
{
        struct setup_job *j = data;
        struct berth_err err = BERTH_ERR_INIT;

        (void)sb;
        if (status < 0) {
                berth_err_set(&err, -status, "embedded DNS: %s", msg ? msg : strerror(-status));
                setup_fail(j, status, &err);
                return;
        }
        setup_finish(j);
}

static void setup_dns(struct setup_job *j)
{
        struct berth_err err = BERTH_ERR_INIT;
        int r;

        for (size_t i = 0; i < j->sb->n_nets; i++) {
                r = dns_add(j->sb, j->sb->nets[i], &err);
                if (r < 0) {
                        setup_fail(j, r, &err);
                        return;
                }
        }
        r = resolver_ensure(j->sb, setup_resolver_started, j, &err);
        if (r < 0)
                setup_fail(j, r, &err);
        else if (r > 0)
                setup_finish(j);
}

static int ports_open_fn(struct net *n, void *data, struct berth_err *err)
{
        struct setup_job *j = data;

        return net_ports_open(n, j->c->id, j->maps, j->n_maps, err);
}

static int ports_commit_fn(struct net *n, void *data, struct berth_err *err)
{
        (void)data;
        return net_ports_commit(n, err);
}

static void ports_committed(void *data, int status, const struct berth_err *err)
{
        struct setup_job *j = data;

        if (status < 0) {
                setup_fail(j, status, err);
                return;
        }
        setup_dns(j);
}

static void ports_opened(void *data, int status, const struct berth_err *err)
{
        struct setup_job *j = data;
        struct berth_err e = BERTH_ERR_INIT;

        if (status < 0) {
                setup_fail(j, status, err);
                return;
        }
        /* recorded now: a failed commit is undone by the teardown */
        j->sb->ports = TAKE_PTR(j->maps);
        j->sb->n_ports = j->n_maps;
        j->n_maps = 0;
        if (net_queue(j->d->net, ports_commit_fn, ports_committed, j, &e) < 0)
                setup_fail(j, -e.code, &e);
}

static void setup_ports(struct setup_job *j)
{
        struct berth_err err = BERTH_ERR_INIT;
        bool has_ip = false;

        for (size_t i = 0; i < j->sb->n_nets; i++) {
                const struct net_endpoint_info *e = berth_network_endpoint(j->d, j->sb->nets[i], j->c->id);
                has_ip = has_ip || (e && e->ip[0]);
        }
        if (port_maps(j->c->host_config, j->c->config, &j->maps, &j->n_maps, &err) < 0) {
                setup_fail(j, -err.code, &err);
                return;
        }
        if (j->d->shutting_down && j->n_maps > 0) {
                berth_err_set(&err, ESHUTDOWN, "the daemon is shutting down");
                setup_fail(j, -ESHUTDOWN, &err);
                return;
        }
        /* host and none: published ports are discarded, as Docker does */
        if (j->n_maps == 0 || !has_ip || !j->d->net) {
                setup_dns(j);
                return;
        }
        if (net_queue_loop(j->d->net, ports_open_fn, ports_opened, j, &err) < 0)
                setup_fail(j, -err.code, &err);
}

static void setup_attached(int status, const struct berth_err *err, void *data)
{
        struct setup_job *j = data;

        if (status < 0) {
                setup_fail(j, status, err);
                return;
        }
        strv_push(&j->sb->nets, &j->sb->n_nets, j->want[j->i]);
        j->i++;
        setup_attach_next(j);
}

static int attach_one(struct berth_daemon *d, struct berth_container *c, const char *netns, const char *network,
                      berth_done_cb cb, void *data, struct berth_err *err)
{
        const cJSON *ec = ep_config(c, network);
        const cJSON *ipam = ec ? cJSON_GetObjectItemCaseSensitive(ec, "IPAMConfig") : NULL;
        const cJSON *aliases = ec ? cJSON_GetObjectItemCaseSensitive(ec, "Aliases") : NULL;
        struct berth_endpoint_req req = {
                .container_id = c->id,
                .container_name = cname(c),
                .netns_path = netns,
                .ip = ipam ? berth_json_str(ipam, "IPv4Address") : NULL,
                .ip6 = ipam ? berth_json_str(ipam, "IPv6Address") : NULL,
                .mac = ec ? berth_json_str(ec, "MacAddress") : NULL,
                .aliases = cJSON_IsArray(aliases) ? aliases : NULL,
        };

        return berth_network_attach(d, network, &req, cb, data, err);
}

static void setup_attach_next(struct setup_job *j)
{
        struct berth_err err = BERTH_ERR_INIT;

        if (j->i >= j->n_want) {
                setup_ports(j);
                return;
        }
        if (attach_one(j->d, j->c, j->netns, j->want[j->i], setup_attached, j, &err) < 0)
                setup_fail(j, -err.code, &err);
}

static void setup_begin(struct setup_job *j)
{
        j->sb = sandbox_new(j->d, j->c, j->netns);
        setup_attach_next(j);
}

int berth_sandbox_setup(struct berth_daemon *d, struct berth_container *c, const char *netns_path,
                        berth_done_cb cb, void *data, struct berth_err *err)
{
        const cJSON *ec = endpoints_config(c), *k;
        struct setup_job *j;

        if (c->sb && !c->sb->tearing)
                return berth_err_set(err, EALREADY, "container %.12s: its network sandbox is set up already", c->id);
        if (c->sb && c->sb->after)
                return berth_err_set(err, EBUSY, "container %.12s: a start is waiting already", c->id);
        j = xcalloc(1, sizeof(*j));
        j->d = d;
        j->c = berth_container_ref(c);
        j->netns = netns_path ? xstrdup(netns_path) : NULL;
        j->cb = cb;
        j->data = data;
        if (!mode_shares(c)) {
                cJSON_ArrayForEach(k, ec) {
                        const char *name;
                        int r = resolve_name(d, k->string, &name, err);
                        if (r < 0) {
                                setup_job_free(j);
                                return r;
                        }
                        if (!strv_has(j->want, j->n_want, name))
                                strv_push(&j->want, &j->n_want, name);
                }
        }
        if (c->sb) {
                c->sb->after = j;       /* setup_begin when the teardown ends */
                return 0;
        }
        setup_begin(j);
        return 0;
}

/* ---- teardown ---- */

struct teardown_job {
        struct berth_daemon *d;
        struct berth_sandbox *sb;
        bool changed;
        berth_done_cb cb;
        void *data;
};

static void teardown_end(int status, const struct berth_err *err, void *data)
{
        struct teardown_job *t = data;
        struct berth_sandbox *sb = t->sb;
        struct berth_container *c = sb->c;
        struct setup_job *after = TAKE_PTR(sb->after);

        if (status < 0 && status != -ECANCELED)
                log_warn("container %.12s: releasing its networks: %s", c->id, err ? err->msg : "");
        if (c->sb == sb)
                c->sb = NULL;
        berth_sandbox_free(sb);
        if (t->cb)
                t->cb(status, err, t->data);
        free(t);
        if (after)
                setup_begin(after);
}

static void teardown_endpoints(struct teardown_job *t)
{
        struct berth_err err = BERTH_ERR_INIT;

        if (berth_network_release_container(t->d, t->sb->c->id, teardown_end, t, &err) < 0)
                teardown_end(-err.code, &err, t);
}

static void teardown_committed(void *data, int status, const struct berth_err *err)
{
        struct teardown_job *t = data;

        if (status < 0)
                log_warn("container %.12s: unpublishing its ports: %s", t->sb->c->id, err->msg);
        teardown_endpoints(t);
}

static int ports_close_fn(struct net *n, void *data, struct berth_err *err)
{
        struct teardown_job *t = data;

        (void)err;
        t->changed = net_ports_close(n, t->sb->c->id);
        return 0;
}

static void ports_closed(void *data, int status, const struct berth_err *err)
{
        struct teardown_job *t = data;
        struct berth_err e = BERTH_ERR_INIT;

        (void)err;
        if (status < 0 || !t->changed || net_queue(t->d->net, ports_commit_fn, teardown_committed, t, &e) < 0)
                teardown_endpoints(t);
}

void berth_sandbox_teardown(struct berth_daemon *d, struct berth_container *c, berth_done_cb cb, void *data)
{
        struct berth_sandbox *sb = c->sb;
        struct teardown_job *t;
        struct berth_err err = BERTH_ERR_INIT;

        if (sb && sb->tearing) {
                /* one teardown at a time: this one only waits for it */
                log_debug("container %.12s: network teardown under way already", c->id);
                if (cb)
                        cb(0, NULL, data);
                return;
        }
        if (!sb)
                sb = sandbox_new(d, c, NULL);
        sb->tearing = true;
        dns_clear(sb);
        t = xcalloc(1, sizeof(*t));
        t->d = d;
        t->sb = sb;
        t->cb = cb;
        t->data = data;
        if (!d->net || net_queue_loop(d->net, ports_close_fn, ports_closed, t, &err) < 0)
                teardown_endpoints(t);
}

/* ---- restore after a daemon restart ---- */

static void restore_resolver_started(struct berth_sandbox *sb, int status, const char *msg, void *data)
{
        (void)data;
        if (status < 0)
                log_warn("container %.12s: embedded DNS not restored: %s", sb->c->id, msg ? msg : "");
}

void berth_sandbox_restore(struct berth_daemon *d)
{
        for (struct berth_container *c = berth_container_first(d); c; c = c->next) {
                bool live = c->state == CTR_RUNNING || c->state == CTR_PAUSED;
                const char *names[32];
                struct berth_err err = BERTH_ERR_INIT;
                size_t n;

                if (!live) {
                        /* a stop berthd did not see: release what is left */
                        n = berth_network_container_networks(d, c->id, names, ARRAY_SIZE(names));
                        if (d->net && net_queue_pending(d->net) == 0)
                                n += net_ports_get(d->net, c->id, NULL, 0);
                        if (n > 0 && !c->sb)
                                berth_sandbox_teardown(d, c, NULL, NULL);
                        continue;
                }
                if (c->sb || !c->mon)
                        continue;
                _cleanup_free_ char *netns = berth_container_netns_path(d, c);
                struct berth_sandbox *sb = sandbox_new(d, c, netns);
                n = berth_network_container_networks(d, c->id, names, ARRAY_SIZE(names));
                for (size_t i = 0; i < n && i < ARRAY_SIZE(names); i++) {
                        strv_push(&sb->nets, &sb->n_nets, names[i]);
                        if (dns_add(sb, names[i], &err) < 0)
                                log_warn("container %.12s: DNS names on %s: %s", c->id, names[i], err.msg);
                }
                if (d->net) {
                        struct net_port_map maps[64];
                        /* no job runs yet at startup: net/ may be read directly */
                        size_t np = net_queue_pending(d->net) == 0 ? net_ports_get(d->net, c->id, maps, ARRAY_SIZE(maps)) : 0;
                        if (np > ARRAY_SIZE(maps))
                                np = ARRAY_SIZE(maps);
                        if (np) {
                                sb->ports = xcalloc(np, sizeof(*maps));
                                memcpy(sb->ports, maps, np * sizeof(*maps));
                        }
                        sb->n_ports = np;
                }
                if (resolver_ensure(sb, restore_resolver_started, NULL, &err) < 0)
                        log_warn("container %.12s: embedded DNS not restored: %s", c->id, err.msg);
        }
}

/* ---- connect / disconnect ---- */

struct conn_job {
        struct berth_daemon *d;
        struct berth_container *c;      /* ref */
        char *network;
        bool connect;
        int status;
        struct berth_err err;
        berth_done_cb cb;
        void *data;
};

static struct conn_job *conn_job_new(struct berth_daemon *d, struct berth_container *c, const char *network,
                                     berth_done_cb cb, void *data)
{
        struct conn_job *j = xcalloc(1, sizeof(*j));

        j->d = d;
        j->c = berth_container_ref(c);
        j->network = xstrdup(network);
        j->cb = cb;
        j->data = data;
        return j;
}

static void conn_job_end(struct conn_job *j)
{
        j->cb(j->status, j->status < 0 ? &j->err : NULL, j->data);
        berth_container_unref(j->c);
        free(j->network);
        free(j);
}

/* end on a later turn of the loop: callers are never called back inside the call */
struct deferred_end {
        uv_work_t w;
        struct conn_job *j;
};

static void deferred_fn(uv_work_t *w)
{
        (void)w;
}

static void deferred_done(uv_work_t *w, int status)
{
        struct deferred_end *de = container_of(w, struct deferred_end, w);

        (void)status;
        conn_job_end(de->j);
        free(de);
}

static void conn_job_end_later(struct conn_job *j)
{
        struct deferred_end *de = xcalloc(1, sizeof(*de));

        de->j = j;
        if (uv_queue_work(j->d->loop, &de->w, deferred_fn, deferred_done) < 0) {
                free(de);
                conn_job_end(j);
        }
}

static void conn_files_done(int status, const struct berth_err *err, void *data)
{
        struct conn_job *j = data;

        (void)status;
        (void)err;      /* logged; the connect itself holds */
        conn_job_end(j);
}

static void conn_resolver_started(struct berth_sandbox *sb, int status, const char *msg, void *data)
{
        struct conn_job *j = data;

        if (status < 0)
                log_warn("container %.12s: embedded DNS: %s", sb->c->id, msg ? msg : "");
        files_rewrite(j->d, j->c, conn_files_done, j);
}

static void config_drop(struct berth_container *c, const char *network)
{
        cJSON *ec = c->networking ? cJSON_GetObjectItemCaseSensitive(c->networking, "EndpointsConfig") : NULL;

        if (ec)
                cJSON_DeleteItemFromObjectCaseSensitive(ec, network);
}

static void conn_attached(int status, const struct berth_err *err, void *data)
{
        struct conn_job *j = data;
        struct berth_sandbox *sb = j->c->sb;
        struct berth_err e = BERTH_ERR_INIT;
        int r;

        if (status < 0) {
                j->status = status;
                j->err = *err;
                config_drop(j->c, j->network);
                berth_container_save(j->d, j->c);
                conn_job_end(j);
                return;
        }
        if (!sb || sb->tearing) {
                /* it stopped meanwhile: the teardown releases this endpoint too */
                conn_job_end(j);
                return;
        }
        strv_push(&sb->nets, &sb->n_nets, j->network);
        r = dns_add(sb, j->network, &e);
        if (r < 0)
                log_warn("container %.12s: DNS names on %s: %s", j->c->id, j->network, e.msg);
        r = resolver_ensure(sb, conn_resolver_started, j, &e);
        if (r < 0)
                log_warn("container %.12s: embedded DNS: %s", j->c->id, e.msg);
        if (r != 0)
                files_rewrite(j->d, j->c, conn_files_done, j);
}

static bool running(const struct berth_container *c)
{
        return (c->state == CTR_RUNNING || c->state == CTR_PAUSED) && c->sb && !c->sb->tearing;
}

int berth_sandbox_connect(struct berth_daemon *d, struct berth_container *c, const char *network,
                          const cJSON *endpoint_config, berth_done_cb cb, void *data, struct berth_err *err)
{
        const char *name;
        cJSON *ec;
        struct conn_job *j;
        int r;

        r = resolve_name(d, network, &name, err);
        if (r < 0)
                return r;
        if (mode_shares(c))
                return berth_err_pub(err, EPERM, "container sharing network namespace with another container or "
                                     "host cannot be connected to any other network");
        if (mode_is(c, "host") || !strcmp(name, "host"))
                return berth_err_pub(err, EPERM, "container cannot be disconnected from host network or connected "
                                     "to host network");
        if (mode_is(c, "none") || !strcmp(name, "none"))
                return berth_err_pub(err, EPERM, "container cannot be connected to multiple networks with one of "
                                     "the networks in private (none) mode");
        if (endpoint_config && !cJSON_IsObject(endpoint_config) && !cJSON_IsNull(endpoint_config))
                return berth_err_pub(err, EINVAL, "json: EndpointConfig must be an object");
        if (ep_config(c, name) || berth_network_endpoint(d, name, c->id))
                return berth_err_pub(err, EEXIST, "endpoint with name %s already exists in network %s", cname(c), name);
        if (!c->networking)
                c->networking = cJSON_CreateObject();
        ec = cJSON_GetObjectItemCaseSensitive(c->networking, "EndpointsConfig");
        if (!cJSON_IsObject(ec)) {
                cJSON_DeleteItemFromObjectCaseSensitive(c->networking, "EndpointsConfig");
                ec = cJSON_AddObjectToObject(c->networking, "EndpointsConfig");
        }
        cJSON_AddItemToObject(ec, name, cJSON_IsObject(endpoint_config) ? cJSON_Duplicate(endpoint_config, 1)
                                                                       : cJSON_CreateObject());
        j = conn_job_new(d, c, name, cb, data);
        j->connect = true;
        if (!running(c)) {
                /* Compose connects before the start: the start attaches it */
                berth_container_save(d, c);
                r = berth_network_brief(d, name, &(struct berth_network_brief){ 0 }, err);
                if (r < 0) {
                        config_drop(c, name);
                        berth_container_unref(j->c);
                        free(j->network);
                        free(j);
                        return r;
                }
                conn_job_end_later(j);
                return 0;
        }
        berth_container_save(d, c);
        r = attach_one(d, c, c->sb->netns, name, conn_attached, j, err);
        if (r < 0) {
                config_drop(c, name);
                berth_container_save(d, c);
                berth_container_unref(j->c);
                free(j->network);
                free(j);
        }
        return r;
}

static void disc_detached(int status, const struct berth_err *err, void *data)
{
        struct conn_job *j = data;

        if (status < 0 && status != -ENOENT) {
                j->status = status;
                j->err = *err;
                conn_job_end(j);
                return;
        }
        if (j->c->sb)
                strv_drop(j->c->sb->nets, &j->c->sb->n_nets, j->network);
        if (running(j->c))
                files_rewrite(j->d, j->c, conn_files_done, j);
        else
                conn_job_end(j);
}

int berth_sandbox_disconnect(struct berth_daemon *d, struct berth_container *c, const char *network, bool force,
                             berth_done_cb cb, void *data, struct berth_err *err)
{
        const char *name;
        struct conn_job *j;
        bool configured, live;
        int r;

        (void)force;
        r = resolve_name(d, network, &name, err);
        if (r < 0)
                return r;
        if (mode_is(c, "host") || !strcmp(name, "host"))
                return berth_err_pub(err, EPERM, "container cannot be disconnected from host network or connected "
                                     "to host network");
        configured = ep_config(c, name) != NULL;
        live = berth_network_endpoint(d, name, c->id) != NULL;
        if (!configured && !live)
                return berth_err_pub(err, ENOENT, "container %s is not connected to network %s", cname(c), name);
        j = conn_job_new(d, c, name, cb, data);
        if (c->sb)
                dns_del(c->sb, name);
        config_drop(c, name);
        berth_container_save(d, c);
        if (!live || !c->sb || c->sb->tearing) {
                if (c->sb)
                        strv_drop(c->sb->nets, &c->sb->n_nets, name);
                conn_job_end_later(j);
                return 0;
        }
        r = berth_network_detach(d, name, c->id, c->sb->netns, disc_detached, j, err);
        if (r < 0) {
                berth_container_unref(j->c);
                free(j->network);
                free(j);
        }
        return r;
}

/* ---- rename, network removal ---- */

void berth_sandbox_renamed(struct berth_daemon *d, struct berth_container *c)
{
        struct berth_sandbox *sb = c->sb;
        struct berth_err err = BERTH_ERR_INIT;

        if (!sb || sb->tearing)
                return;
        for (size_t i = 0; i < sb->n_dns_nets; i++)
                if (dns_add(sb, sb->dns_nets[i], &err) < 0)
                        log_warn("container %.12s: DNS names after rename: %s", c->id, err.msg);
        (void)d;
}

void berth_sandbox_network_removed(struct berth_daemon *d, const char *name)
{
        if (d->dns)
                (void)dns_network_remove(d->dns, name, NULL);
}

/* ---- inspect ---- */

static void add_blank_endpoint(cJSON *o, struct berth_daemon *d, const struct berth_container *c, const char *name)
{
        const cJSON *ec = ep_config(c, name);
        struct berth_network_brief b;
        struct berth_err err = BERTH_ERR_INIT;
        cJSON *n = cJSON_AddObjectToObject(o, name);
        const cJSON *ipam = ec ? cJSON_GetObjectItemCaseSensitive(ec, "IPAMConfig") : NULL;
        const cJSON *al = ec ? cJSON_GetObjectItemCaseSensitive(ec, "Aliases") : NULL;
        const char *mac = ec ? berth_json_str(ec, "MacAddress") : NULL;

        cJSON_AddItemToObject(n, "IPAMConfig", cJSON_IsObject(ipam) ? cJSON_Duplicate(ipam, 1) : cJSON_CreateNull());
        cJSON_AddNullToObject(n, "Links");
        cJSON_AddItemToObject(n, "Aliases", cJSON_IsArray(al) ? cJSON_Duplicate(al, 1) : cJSON_CreateNull());
        cJSON_AddStringToObject(n, "MacAddress", mac ? mac : "");
        cJSON_AddStringToObject(n, "NetworkID", berth_network_brief(d, name, &b, &err) == 0 ? b.id : "");
        cJSON_AddStringToObject(n, "EndpointID", "");
        cJSON_AddStringToObject(n, "Gateway", "");
        cJSON_AddStringToObject(n, "IPAddress", "");
        cJSON_AddNumberToObject(n, "IPPrefixLen", 0);
        cJSON_AddStringToObject(n, "IPv6Gateway", "");
        cJSON_AddStringToObject(n, "GlobalIPv6Address", "");
        cJSON_AddNumberToObject(n, "GlobalIPv6PrefixLen", 0);
        cJSON_AddNullToObject(n, "DriverOpts");
        cJSON_AddNullToObject(n, "DNSNames");
}

static char *port_key(const struct net_port_map *m)
{
        return xasprintf("%u/%s", m->container_port, m->proto == IPPROTO_UDP ? "udp" : "tcp");
}

static cJSON *ports_json(const struct berth_container *c)
{
        cJSON *o = cJSON_CreateObject();
        const cJSON *ex = c->config ? cJSON_GetObjectItemCaseSensitive(c->config, "ExposedPorts") : NULL, *k;
        struct berth_sandbox *sb = c->sb;

        if (!sb || sb->tearing)
                return o;
        for (size_t i = 0; i < sb->n_ports; i++) {
                const struct net_port_map *m = &sb->ports[i];
                _cleanup_free_ char *key = port_key(m);
                char port[8];
                cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, key), *b;
                if (!arr)
                        arr = cJSON_AddArrayToObject(o, key);
                b = cJSON_CreateObject();
                cJSON_AddStringToObject(b, "HostIp", m->host_ip[0] ? m->host_ip : "0.0.0.0");
                snprintf(port, sizeof(port), "%u", m->host_port);
                cJSON_AddStringToObject(b, "HostPort", port);
                cJSON_AddItemToArray(arr, b);
        }
        cJSON_ArrayForEach(k, ex) {
                uint16_t p;
                int proto;
                if (parse_port_key(k->string, &p, &proto, NULL) < 0)
                        continue;
                struct net_port_map m = { .proto = proto, .container_port = p };
                _cleanup_free_ char *key = port_key(&m);
                if (!cJSON_GetObjectItemCaseSensitive(o, key))
                        cJSON_AddNullToObject(o, key);
        }
        return o;
}

/* inspect's NetworkSettings.Networks (and docker ps's): the configured
 * networks, live data where attached */
cJSON *berth_sandbox_networks_json(struct berth_daemon *d, const struct berth_container *c)
{
        cJSON *nets, *live, *k;
        const cJSON *ec = endpoints_config(c);

        live = d->networks ? berth_network_settings_networks(d, c->id) : cJSON_CreateObject();
        nets = cJSON_CreateObject();
        cJSON_ArrayForEach(k, ec) {
                cJSON *l = cJSON_DetachItemFromObjectCaseSensitive(live, k->string);
                if (l) {
                        cJSON *al = cJSON_GetObjectItemCaseSensitive(l, "Aliases");
                        struct berth_network_brief b;
                        struct berth_err err = BERTH_ERR_INIT;
                        /* API 1.44: the short id is among the aliases on user networks */
                        if (berth_network_brief(d, k->string, &b, &err) == 0 && b.uses_net && !b.predefined) {
                                char sid[13];
                                snprintf(sid, sizeof(sid), "%.12s", c->id);
                                if (!cJSON_IsArray(al)) {
                                        cJSON_DeleteItemFromObjectCaseSensitive(l, "Aliases");
                                        al = cJSON_AddArrayToObject(l, "Aliases");
                                }
                                cJSON_AddItemToArray(al, cJSON_CreateString(sid));
                        }
                        cJSON_AddItemToObject(nets, k->string, l);
                } else {
                        add_blank_endpoint(nets, d, c, k->string);
                }
        }
        /* endpoints not (or no longer) configured still show while they exist */
        while (live->child) {
                cJSON *l = cJSON_DetachItemViaPointer(live, live->child);
                cJSON_AddItemToObject(nets, l->string, l);
        }
        cJSON_Delete(live);
        return nets;
}

cJSON *berth_sandbox_settings_json(struct berth_daemon *d, const struct berth_container *c)
{
        cJSON *ns = cJSON_CreateObject(), *nets;
        bool run = c->state == CTR_RUNNING || c->state == CTR_PAUSED;
        _cleanup_free_ char *key = run ? berth_container_netns_path(d, c) : NULL;
        const cJSON *br;

        cJSON_AddStringToObject(ns, "Bridge", "");
        cJSON_AddStringToObject(ns, "SandboxID", run && key ? c->id : "");
        cJSON_AddBoolToObject(ns, "HairpinMode", false);
        cJSON_AddStringToObject(ns, "LinkLocalIPv6Address", "");
        cJSON_AddNumberToObject(ns, "LinkLocalIPv6PrefixLen", 0);
        cJSON_AddItemToObject(ns, "Ports", ports_json(c));
        cJSON_AddStringToObject(ns, "SandboxKey", key ? key : "");
        cJSON_AddNullToObject(ns, "SecondaryIPAddresses");
        cJSON_AddNullToObject(ns, "SecondaryIPv6Addresses");
        nets = berth_sandbox_networks_json(d, c);
        br = cJSON_GetObjectItemCaseSensitive(nets, "bridge");
        static const char *const top[] = { "EndpointID", "Gateway", "GlobalIPv6Address", "GlobalIPv6PrefixLen",
                                           "IPAddress", "IPPrefixLen", "IPv6Gateway", "MacAddress" };
        for (size_t i = 0; i < ARRAY_SIZE(top); i++) {
                const cJSON *v = br ? cJSON_GetObjectItemCaseSensitive(br, top[i]) : NULL;
                if (v)
                        cJSON_AddItemToObject(ns, top[i], cJSON_Duplicate(v, 1));
                else if (strstr(top[i], "PrefixLen"))
                        cJSON_AddNumberToObject(ns, top[i], 0);
                else
                        cJSON_AddStringToObject(ns, top[i], "");
        }
        cJSON_AddItemToObject(ns, "Networks", nets);
        return ns;
}

cJSON *berth_sandbox_ports_summary(struct berth_daemon *d, const struct berth_container *c)
{
        cJSON *arr = cJSON_CreateArray();
        const cJSON *ex = c->config ? cJSON_GetObjectItemCaseSensitive(c->config, "ExposedPorts") : NULL, *k;
        struct berth_sandbox *sb = c->sb;
        bool live = sb && !sb->tearing;

        (void)d;
        for (size_t i = 0; live && i < sb->n_ports; i++) {
                const struct net_port_map *m = &sb->ports[i];
                cJSON *p = cJSON_CreateObject();
                cJSON_AddStringToObject(p, "IP", m->host_ip[0] ? m->host_ip : "0.0.0.0");
                cJSON_AddNumberToObject(p, "PrivatePort", m->container_port);
                cJSON_AddNumberToObject(p, "PublicPort", m->host_port);
                cJSON_AddStringToObject(p, "Type", m->proto == IPPROTO_UDP ? "udp" : "tcp");
                cJSON_AddItemToArray(arr, p);
        }
        cJSON_ArrayForEach(k, ex) {
                uint16_t port;
                int proto;
                bool pub = false;
                if (parse_port_key(k->string, &port, &proto, NULL) < 0)
                        continue;
                for (size_t i = 0; live && i < sb->n_ports; i++)
                        pub = pub || (sb->ports[i].container_port == port && sb->ports[i].proto == proto);
                if (pub)
                        continue;
                cJSON *p = cJSON_CreateObject();
                cJSON_AddNumberToObject(p, "PrivatePort", port);
                cJSON_AddStringToObject(p, "Type", proto == IPPROTO_UDP ? "udp" : "tcp");
                cJSON_AddItemToArray(arr, p);
        }
        return arr;
}

void berth_sandbox_list_key(const struct berth_container *c, struct buf *b)
{
        const struct berth_sandbox *sb = c->sb;
        int64_t v[3];

        v[0] = (int64_t)(intptr_t)sb;
        v[1] = sb ? sb->tearing : 0;
        v[2] = sb ? (int64_t)sb->n_ports : 0;
        buf_add(b, v, sizeof(v));
        for (size_t i = 0; sb && i < sb->n_ports; i++) {
                const struct net_port_map *m = &sb->ports[i];
                v[0] = m->proto;
                v[1] = m->host_port;
                v[2] = m->container_port;
                buf_add(b, v, sizeof(v));
                buf_adds(b, m->host_ip);
                buf_addc(b, '\0');
        }
}

/* ---- daemon start and stop ---- */

int berth_sandbox_init(struct berth_daemon *d, struct berth_err *err)
{
        struct dns_server_config sc = { .cache = d->cfg.dns_cache };
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = dns_server_new(d->loop, &sc, &d->dns, err);
        if (r < 0)
                return r;
        d->host_dns = xcalloc(DNS_MAX_UPSTREAMS, sizeof(*d->host_dns));
        if (berth_read_file("/etc/resolv.conf", 1 << 20, &text, &len, NULL) == 0)
                d->n_host_dns = dns_upstreams_from_resolv_conf(text, d->host_dns, DNS_MAX_UPSTREAMS);
        return 0;
}

/* SIGTERM, the loop still running: stop serving DNS and proxying ports
 * (containers keep running; the next berthd takes over) */
void berth_sandbox_shutdown(struct berth_daemon *d)
{
        for (struct berth_container *c = d->containers ? berth_container_first(d) : NULL; c; c = c->next)
                if (c->sb && c->sb->resolver) {
                        dns_resolver_stop(c->sb->resolver);
                        c->sb->resolver = NULL;
                }
        dns_server_free(d->dns);
        d->dns = NULL;
        if (d->net)
                net_proxies_close(d->net);
}

/* after the loop: every job has ended */
void berth_sandbox_fini(struct berth_daemon *d)
{
        for (struct berth_container *c = d->containers ? berth_container_first(d) : NULL; c; c = c->next) {
                struct berth_sandbox *sb = c->sb;
                c->sb = NULL;
                berth_sandbox_free(sb);
        }
        dns_server_free(d->dns);
        d->dns = NULL;
        free(d->host_dns);
        d->host_dns = NULL;
        d->n_host_dns = 0;
}
