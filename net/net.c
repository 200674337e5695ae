/* SPDX-License-Identifier: Apache-2.0
 * net/net.c -- networks and endpoints: the state berthd keeps about them,
 * its JSON file, and the kernel plumbing done through nl.c and nat.c. */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "net/net-internal.h"

#define STATE_FILE "networks.json"
#define STATE_MAX (64u << 20)
#define HOST_VETH_PREFIX "bveth"
#define MAX_NETWORKS 4096

struct endpoint {
        char *container_id;
        char ifname[NET_IFNAME_MAX];
        char host_ifname[NET_IFNAME_MAX];
        char mac[18];
        struct net_addr ip, ip6;        /* family 0: none */
        bool default_route;
};

struct network {
        char *name, *id;
        enum net_driver driver;
        char ifname[NET_IFNAME_MAX];    /* bridge, or macvlan parent */
        bool has_v4, ipv6;
        struct net_ipam_pool pool4, pool6;
        bool internal, default_bridge;
        int mtu;
        char *mode;                     /* macvlan */
        bool created_parent;            /* VLAN sub-interface made by us */
        struct endpoint *eps;
        size_t n_eps;
};

struct published {
        char *container_id;
        struct net_port_map map;
        char bridge[NET_IFNAME_MAX];
        struct net_proxy *proxy;
};

struct net {
        char *state_dir;
        char *table;
        bool no_nft, no_proxy, no_ip_forward;
        uv_loop_t *loop;
        struct net_default_pool *pools;
        size_t n_pools;
        struct network **nets;
        size_t n_nets;
        struct published *ports;
        size_t n_ports;
        struct net_nl *nl;              /* the daemon's own netns */
        struct net_queue queue;         /* queue.c */
        struct net_reaper *reaper;      /* queue.c: link deletions */
};

struct net_queue *net__queue_of(struct net *n)
{
        return &n->queue;
}

static const char *const default_pools[] = {
        "172.17.0.0/16/16", "172.18.0.0/16/16", "172.19.0.0/16/16", "172.20.0.0/14/16",
        "172.24.0.0/14/16", "172.28.0.0/14/16", "192.168.0.0/16/20",
};

/* ---- helpers ---- */

static void network_free(struct network *w)
{
        if (!w)
                return;
        for (size_t i = 0; i < w->n_eps; i++)
                free(w->eps[i].container_id);
        free(w->eps);
        net__ipam_pool_release(&w->pool4);
        net__ipam_pool_release(&w->pool6);
        free(w->name);
        free(w->id);
        free(w->mode);
        free(w);
}

static struct network *network_find(struct net *n, const char *name)
{
        for (size_t i = 0; i < n->n_nets; i++)
                if (!strcmp(n->nets[i]->name, name) ||
                    (n->nets[i]->id && !strcmp(n->nets[i]->id, name)))
                        return n->nets[i];
        return NULL;
}

static struct endpoint *endpoint_find(struct network *w, const char *cid)
{
        for (size_t i = 0; i < w->n_eps; i++)
                if (!strcmp(w->eps[i].container_id, cid))
                        return &w->eps[i];
        return NULL;
}

/* truncating copy; every caller checked the length where it matters */
static void copy_str(char *dst, size_t len, const char *src)
{
        size_t n = src ? strnlen(src, len - 1) : 0;

        if (n)
                memcpy(dst, src, n);
        dst[n] = '\0';
}

static int open_netns(int fd, const char *path, int *ret_fd, struct berth_err *err)
{
        if (fd >= 0) {
                *ret_fd = -1;   /* not ours */
                return fd;
        }
        if (!path)
                return berth_err_set(err, EINVAL, "no network namespace given");
        *ret_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (*ret_fd < 0)
                return berth_err_set(err, errno, "open netns '%s': %m", path);
        return *ret_fd;
}

static int write_sysctl(const char *path, const char *val, struct berth_err *err)
{
        _cleanup_free_ char *cur = NULL;
        _cleanup_close_ int fd = -1;

        if (berth_read_file(path, 64, &cur, NULL, NULL) >= 0 && !strncmp(cur, val, strlen(val)))
                return 0;
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, val, strlen(val)) < 0)
                return berth_err_set(err, errno, "write %s: %m", path);
        return 0;
}

/* ---- persistence ---- */

static void json_add_str(cJSON *o, const char *k, const char *v)
{
        if (v && *v)
                cJSON_AddStringToObject(o, k, v);
}

static void json_add_addr(cJSON *o, const char *k, const struct net_addr *a)
{
        char s[NET_ADDR_MAX];

        if (!a->family)
                return;
        net__addr_fmt(a, s, sizeof(s));
        cJSON_AddStringToObject(o, k, s);
}

static void json_add_pool(cJSON *o, const char *prefix, const struct net_ipam_pool *p)
{
        char s[NET_CIDR_MAX], k[32];

        net__prefix_fmt(&p->subnet, s, sizeof(s));
        (void)snprintf(k, sizeof(k), "%s_subnet", prefix);
        cJSON_AddStringToObject(o, k, s);
        (void)snprintf(k, sizeof(k), "%s_gateway", prefix);
        json_add_addr(o, k, &p->gateway);
        if (p->has_range) {
                net__prefix_fmt(&p->range, s, sizeof(s));
                (void)snprintf(k, sizeof(k), "%s_range", prefix);
                cJSON_AddStringToObject(o, k, s);
        }
}

static int state_save(struct net *n, struct berth_err *err)
{
        _cleanup_json_ cJSON *root = NULL;
        _cleanup_free_ char *path = NULL;
        cJSON *nets, *ports;
        struct buf b = BUF_INIT;
        int r;

        if (!n->state_dir)
                return 0;
        root = cJSON_CreateObject();
        nets = cJSON_AddArrayToObject(root, "networks");
        for (size_t i = 0; i < n->n_nets; i++) {
                struct network *w = n->nets[i];
                cJSON *o = cJSON_CreateObject(), *eps;
                cJSON_AddItemToArray(nets, o);
                json_add_str(o, "name", w->name);
                json_add_str(o, "id", w->id);
                json_add_str(o, "driver", net_driver_name(w->driver));
                json_add_str(o, "ifname", w->ifname);
                if (w->has_v4)
                        json_add_pool(o, "v4", &w->pool4);
                if (w->ipv6)
                        json_add_pool(o, "v6", &w->pool6);
                cJSON_AddBoolToObject(o, "internal", w->internal);
                cJSON_AddBoolToObject(o, "default_bridge", w->default_bridge);
                cJSON_AddBoolToObject(o, "created_parent", w->created_parent);
                cJSON_AddNumberToObject(o, "mtu", w->mtu);
                json_add_str(o, "mode", w->mode);
                eps = cJSON_AddArrayToObject(o, "endpoints");
                for (size_t j = 0; j < w->n_eps; j++) {
                        struct endpoint *e = &w->eps[j];
                        cJSON *x = cJSON_CreateObject();
                        cJSON_AddItemToArray(eps, x);
                        json_add_str(x, "container", e->container_id);
                        json_add_str(x, "ifname", e->ifname);
                        json_add_str(x, "host_ifname", e->host_ifname);
                        json_add_str(x, "mac", e->mac);
                        json_add_addr(x, "ip", &e->ip);
                        json_add_addr(x, "ip6", &e->ip6);
                        cJSON_AddBoolToObject(x, "default_route", e->default_route);
                }
        }
        ports = cJSON_AddArrayToObject(root, "ports");
        for (size_t i = 0; i < n->n_ports; i++) {
                struct published *p = &n->ports[i];
                cJSON *x = cJSON_CreateObject();
                cJSON_AddItemToArray(ports, x);
                json_add_str(x, "container", p->container_id);
                json_add_str(x, "proto", p->map.proto == IPPROTO_UDP ? "udp" : "tcp");
                json_add_str(x, "host_ip", p->map.host_ip);
                cJSON_AddNumberToObject(x, "host_port", p->map.host_port);
                json_add_str(x, "container_ip", p->map.container_ip);
                cJSON_AddNumberToObject(x, "container_port", p->map.container_port);
                json_add_str(x, "bridge", p->bridge);
        }
        berth_json_append(&b, root);
        path = xasprintf("%s/" STATE_FILE, n->state_dir);
        r = berth_write_file_atomic(path, b.data, b.len, 0600, err);
        buf_release(&b);
        return r;
}

static int json_int(const cJSON *o, const char *k)
{
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);

        return cJSON_IsNumber(x) ? x->valueint : 0;
}

static bool json_bool(const cJSON *o, const char *k)
{
        return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static int restore_network(struct net *n, const cJSON *o, struct berth_err *err)
{
        struct network *w = xcalloc(1, sizeof(*w));
        const char *name = berth_json_str(o, "name");
        const char *driver = berth_json_str(o, "driver");
        const cJSON *eps, *x;
        int r;

        if (!name || !driver || net_driver_parse(driver, &w->driver, NULL) < 0) {
                network_free(w);
                return berth_err_set(err, EINVAL, "state: network without name or driver");
        }
        w->name = xstrdup(name);
        w->id = berth_json_str(o, "id") ? xstrdup(berth_json_str(o, "id")) : NULL;
        copy_str(w->ifname, sizeof(w->ifname), berth_json_str(o, "ifname"));
        w->internal = json_bool(o, "internal");
        w->default_bridge = json_bool(o, "default_bridge");
        w->created_parent = json_bool(o, "created_parent");
        w->mtu = json_int(o, "mtu");
        w->mode = berth_json_str(o, "mode") ? xstrdup(berth_json_str(o, "mode")) : NULL;
        if (berth_json_str(o, "v4_subnet")) {
                r = net__ipam_pool_init(&w->pool4, AF_INET, berth_json_str(o, "v4_subnet"),
                                        berth_json_str(o, "v4_gateway"),
                                        berth_json_str(o, "v4_range"), err);
                if (r < 0)
                        goto fail;
                w->has_v4 = true;
        }
        if (berth_json_str(o, "v6_subnet")) {
                r = net__ipam_pool_init(&w->pool6, AF_INET6, berth_json_str(o, "v6_subnet"),
                                        berth_json_str(o, "v6_gateway"),
                                        berth_json_str(o, "v6_range"), err);
                if (r < 0)
                        goto fail;
                w->ipv6 = true;
        }
        eps = cJSON_GetObjectItemCaseSensitive(o, "endpoints");
        cJSON_ArrayForEach(x, eps) {
                struct endpoint e = { 0 };
                const char *cid = berth_json_str(x, "container");
                if (!cid)
                        continue;
                copy_str(e.ifname, sizeof(e.ifname), berth_json_str(x, "ifname"));
                copy_str(e.host_ifname, sizeof(e.host_ifname), berth_json_str(x, "host_ifname"));
                copy_str(e.mac, sizeof(e.mac), berth_json_str(x, "mac"));
                if (berth_json_str(x, "ip") && net__addr_parse(berth_json_str(x, "ip"), &e.ip) == 0)
                        (void)net__ipam_reserve(&w->pool4, &e.ip);
                if (berth_json_str(x, "ip6") &&
                    net__addr_parse(berth_json_str(x, "ip6"), &e.ip6) == 0)
                        (void)net__ipam_reserve(&w->pool6, &e.ip6);
                e.default_route = json_bool(x, "default_route");
                e.container_id = xstrdup(cid);
                w->eps = xrealloc(w->eps, (w->n_eps + 1) * sizeof(*w->eps));
                w->eps[w->n_eps++] = e;
        }
        n->nets = xrealloc(n->nets, (n->n_nets + 1) * sizeof(*n->nets));
        n->nets[n->n_nets++] = w;
        return 0;
fail:
        network_free(w);
        return berth_err_wrap(err, "state: network '%s'", name);
}

static int state_load(struct net *n, struct berth_err *err)
{
        _cleanup_free_ char *path = NULL, *data = NULL;
        _cleanup_json_ cJSON *root = NULL;
        const cJSON *x;
        size_t len;
        int r;

        if (!n->state_dir)
                return 0;
        path = xasprintf("%s/" STATE_FILE, n->state_dir);
        r = berth_read_file(path, STATE_MAX, &data, &len, err);
        if (r == -ENOENT) {
                berth_err_clear(err);
                return 0;
        }
        if (r < 0)
                return r;
        r = berth_json_parse(data, len, &root, err);
        if (r < 0)
                return berth_err_wrap(err, "%s", path);
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(root, "networks")) {
                r = restore_network(n, x, err);
                if (r < 0)
                        return r;
        }
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(root, "ports")) {
                struct published p = { 0 };
                const char *cid = berth_json_str(x, "container");
                const char *proto = berth_json_str(x, "proto");
                if (!cid)
                        continue;
                p.map.proto = proto && !strcmp(proto, "udp") ? IPPROTO_UDP : IPPROTO_TCP;
                copy_str(p.map.host_ip, sizeof(p.map.host_ip), berth_json_str(x, "host_ip"));
                p.map.host_port = (uint16_t)json_int(x, "host_port");
                copy_str(p.map.container_ip, sizeof(p.map.container_ip),
                         berth_json_str(x, "container_ip"));
                p.map.container_port = (uint16_t)json_int(x, "container_port");
                copy_str(p.bridge, sizeof(p.bridge), berth_json_str(x, "bridge"));
                p.container_id = xstrdup(cid);
                n->ports = xrealloc(n->ports, (n->n_ports + 1) * sizeof(*n->ports));
                n->ports[n->n_ports++] = p;
        }
        return 0;
}

/* ---- nftables ---- */

static int nat_apply(struct net *n, struct berth_err *err)
{
        struct net_nat_net *nets;
        struct net_nat_port *ports;
        char (*s4)[NET_CIDR_MAX], (*s6)[NET_CIDR_MAX];
        struct buf b = BUF_INIT;
        size_t k = 0;
        int r;

        if (n->no_nft)
                return 0;
        /* nothing of ours: leave nftables alone unless a table is left over
         * (a host without nf_tables can run berth with no networks) */
        if (n->n_nets == 0 && n->n_ports == 0 && net__nft_table_exists(n->table, NULL) == 0)
                return 0;
        nets = xcalloc(n->n_nets + 1, sizeof(*nets));
        s4 = xcalloc(n->n_nets + 1, sizeof(*s4));
        s6 = xcalloc(n->n_nets + 1, sizeof(*s6));
        ports = xcalloc(n->n_ports + 1, sizeof(*ports));
        for (size_t i = 0; i < n->n_nets; i++) {
                struct network *w = n->nets[i];
                if (w->driver != NET_DRIVER_BRIDGE)
                        continue;
                nets[k].bridge = w->ifname;
                nets[k].internal = w->internal;
                if (w->has_v4) {
                        net__prefix_fmt(&w->pool4.subnet, s4[k], sizeof(s4[k]));
                        nets[k].subnet = s4[k];
                }
                if (w->ipv6) {
                        net__prefix_fmt(&w->pool6.subnet, s6[k], sizeof(s6[k]));
                        nets[k].subnet6 = s6[k];
                }
                k++;
        }
        for (size_t i = 0; i < n->n_ports; i++) {
                ports[i].map = &n->ports[i].map;
                ports[i].bridge = n->ports[i].bridge[0] ? n->ports[i].bridge : NULL;
        }
        net__nat_render(&b, n->table, nets, k, ports, n->n_ports, n->no_proxy);
        r = net__nft_run(buf_cstr(&b), err);
        buf_release(&b);
        free(nets);
        free(s4);
        free(s6);
        free(ports);
        return r;
}

static int forwarding_enable(struct net *n, bool v6, struct berth_err *err)
{
        int r;

        if (n->no_ip_forward)
                return 0;
        r = write_sysctl("/proc/sys/net/ipv4/ip_forward", "1", err);
        if (r >= 0 && v6)
                r = write_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1", err);
        return r;
}

/* ---- lifecycle ---- */

static int bridge_setup(struct net *n, struct network *w, struct berth_err *err)
{
        int r = net__nl_bridge_ensure(n->nl, w->ifname, w->mtu, err);

        if (r >= 0 && w->has_v4)
                r = net__nl_addr_add(n->nl, w->ifname, &w->pool4.gateway, w->pool4.subnet.len, err);
        if (r >= 0 && w->ipv6)
                r = net__nl_addr_add(n->nl, w->ifname, &w->pool6.gateway, w->pool6.subnet.len, err);
        if (r >= 0 && !w->internal)
                r = forwarding_enable(n, w->ipv6, err);
        if (r >= 0 && !w->internal && n->no_proxy && !n->no_nft) {
                /* no userland proxy: 127.0.0.1:port is DNATed to the
                 * container, and such packets must be routed out here */
                _cleanup_free_ char *p = xasprintf("/proc/sys/net/ipv4/conf/%s/route_localnet", w->ifname);
                r = write_sysctl(p, "1", err);
        }
        return r;
}

/* A host veth of ours (by name) on one of our bridges that no endpoint
 * knows: left by a crash between plumbing and saving.  Veths on other
 * bridges may belong to another berthd sharing this netns: not touched. */
static void orphan_cb(const char *name, int master, void *data)
{
        struct net *n = data;
        bool ours = false;

        for (size_t i = 0; i < n->n_nets && !ours; i++)
                ours = master > 0 && n->nets[i]->driver == NET_DRIVER_BRIDGE &&
                       net__nl_ifindex(n->nl, n->nets[i]->ifname) == master;
        if (!ours)
                return;
        for (size_t i = 0; i < n->n_nets; i++)
                for (size_t j = 0; j < n->nets[i]->n_eps; j++)
                        if (!strcmp(n->nets[i]->eps[j].host_ifname, name))
                                return;
        (void)net__nl_link_del(n->nl, name, NULL);
}

static int reconcile(struct net *n, struct berth_err *err)
{
        int r;

        for (size_t i = 0; i < n->n_nets; i++) {
                struct network *w = n->nets[i];
                if (w->driver != NET_DRIVER_BRIDGE)
                        continue;
                r = bridge_setup(n, w, err);
                if (r < 0)
                        return berth_err_wrap(err, "network '%s'", w->name);
                /* a re-created bridge lost its ports; a veth whose container
                 * died meanwhile is gone: berthd detaches that one */
                for (size_t j = 0; j < w->n_eps; j++) {
                        struct berth_err e2 = BERTH_ERR_INIT;
                        if (w->eps[j].host_ifname[0] &&
                            net__nl_ifindex(n->nl, w->eps[j].host_ifname) >= 0)
                                (void)net__nl_link_set_master(n->nl, w->eps[j].host_ifname,
                                                              w->ifname, &e2);
                }
        }
        r = net__nl_links_foreach(n->nl, HOST_VETH_PREFIX, orphan_cb, n, err);
        if (r < 0)
                return r;
        if (n->loop && !n->no_proxy) {
                for (size_t i = 0; i < n->n_ports; i++) {
                        struct berth_err e2 = BERTH_ERR_INIT;
                        /* a port taken meanwhile keeps its DNAT rule only */
                        (void)net_proxy_start(n->loop, &n->ports[i].map, &n->ports[i].proxy, &e2);
                }
        }
        return nat_apply(n, err);
}

int net_new(const struct net_options *opt, struct net **ret, struct berth_err *err)
{
        struct net *n = xcalloc(1, sizeof(*n));
        const char *const *pools = opt->pools ? opt->pools : default_pools;
        size_t n_pools = opt->pools ? opt->n_pools : ARRAY_SIZE(default_pools);
        int r;

        n->table = xstrdup(opt->table ? opt->table : "berth");
        n->no_nft = opt->no_nft;
        n->no_proxy = opt->no_proxy;
        n->no_ip_forward = opt->no_ip_forward;
        n->loop = opt->loop;
        n->queue.loop = opt->loop;
        n->pools = xcalloc(n_pools + 1, sizeof(*n->pools));
        for (size_t i = 0; i < n_pools; i++) {
                r = net__default_pool_parse(pools[i], &n->pools[n->n_pools], err);
                if (r < 0)
                        goto fail;
                n->n_pools++;
        }
        if (opt->state_dir) {
                n->state_dir = xstrdup(opt->state_dir);
                r = berth_mkdir_p(n->state_dir, 0700);
                if (r < 0) {
                        r = berth_err_set(err, -r, "mkdir '%s': %s", n->state_dir, strerror(-r));
                        goto fail;
                }
        }
        r = state_load(n, err);
        if (r < 0)
                goto fail;
        r = net__nl_open(-1, &n->nl, err);
        if (r < 0)
                goto fail;
        r = net__reaper_new(&n->reaper, err);
        if (r < 0)
                goto fail;
        r = reconcile(n, err);
        if (r < 0)
                goto fail;
        *ret = n;
        return 0;
fail:
        net_free(n);
        return r;
}

struct net *net_free(struct net *n)
{
        if (!n)
                return NULL;
        net__queue_cancel(&n->queue);
        /* deletions already asked for end first: no link left behind */
        n->reaper = net__reaper_free(n->reaper);
        for (size_t i = 0; i < n->n_nets; i++)
                network_free(n->nets[i]);
        free(n->nets);
        for (size_t i = 0; i < n->n_ports; i++) {
                net_proxy_close(n->ports[i].proxy);
                free(n->ports[i].container_id);
        }
        free(n->ports);
        free(n->pools);
        net__nl_close(n->nl);
        free(n->state_dir);
        free(n->table);
        free(n);
        return NULL;
}

int net_driver_parse(const char *s, enum net_driver *ret, struct berth_err *err)
{
        if (!s || !*s || !strcmp(s, "bridge"))
                *ret = NET_DRIVER_BRIDGE;
        else if (!strcmp(s, "macvlan"))
                *ret = NET_DRIVER_MACVLAN;
        else if (!strcmp(s, "host"))
                *ret = NET_DRIVER_HOST;
        else if (!strcmp(s, "null") || !strcmp(s, "none"))
                *ret = NET_DRIVER_NONE;
        else
                return berth_err_pub(err, EINVAL, "plugin \"%s\" not found", s);
        return 0;
}

const char *net_driver_name(enum net_driver d)
{
        switch (d) {
        case NET_DRIVER_BRIDGE: return "bridge";
        case NET_DRIVER_MACVLAN: return "macvlan";
        case NET_DRIVER_HOST: return "host";
        case NET_DRIVER_NONE: return "null";
        }
        return "bridge";
}

static int check_overlap(struct net *n, const struct net_prefix *p, struct berth_err *err)
{
        for (size_t i = 0; i < n->n_nets; i++) {
                struct network *w = n->nets[i];
                if ((w->has_v4 && net__prefix_overlaps(p, &w->pool4.subnet)) ||
                    (w->ipv6 && net__prefix_overlaps(p, &w->pool6.subnet))) {
                        char s[NET_CIDR_MAX];
                        net__prefix_fmt(p, s, sizeof(s));
                        return berth_err_pub(err, EEXIST,
                                             "invalid pool request: Pool overlaps with other one "
                                             "on this address space (%s overlaps network '%s')",
                                             s, w->name);
                }
        }
        return 0;
}

static int pick_subnet(struct net *n, char *out, size_t outlen, struct berth_err *err)
{
        _cleanup_free_ struct net_prefix *taken = NULL;
        size_t n_taken = 0;
        struct net_prefix p;
        int r;

        for (size_t i = 0; i < n->n_nets; i++) {
                if (!n->nets[i]->has_v4)
                        continue;
                taken = xrealloc(taken, (n_taken + 1) * sizeof(*taken));
                taken[n_taken++] = n->nets[i]->pool4.subnet;
        }
        (void)net__host_routes_v4(NULL, &taken, &n_taken);
        r = net__default_pool_pick(n->pools, n->n_pools, taken, n_taken, &p, err);
        if (r < 0)
                return r;
        net__prefix_fmt(&p, out, outlen);
        return 0;
}

/* "IF.ID" -> parent IF and vid; 0 if s has no numeric VLAN suffix */
static int parse_vlan_parent(const char *s, char *parent, size_t len, int *vid)
{
        const char *dot = strrchr(s, '.');
        int64_t v;

        if (!dot || dot == s || berth_parse_int64(dot + 1, &v) < 0)
                return 0;
        if (v < 1 || v > 4094)
                return -EINVAL;
        if ((size_t)(dot - s) >= len)
                return -EINVAL;
        memcpy(parent, s, (size_t)(dot - s));
        parent[dot - s] = '\0';
        *vid = (int)v;
        return 1;
}

static int macvlan_parent(struct net *n, struct network *w, const char *parent,
                          struct berth_err *err)
{
        char base[NET_IFNAME_MAX];
        int vid = 0, r;

        if (!parent || !*parent)
                return berth_err_pub(err, EINVAL, "macvlan network '%s': -o parent is required",
                                     w->name);
        if (strlen(parent) >= NET_IFNAME_MAX)
                return berth_err_pub(err, EINVAL, "invalid parent interface name: %s", parent);
        copy_str(w->ifname, sizeof(w->ifname), parent);
        if (net__nl_ifindex(n->nl, parent) >= 0)
                return 0;
        r = parse_vlan_parent(parent, base, sizeof(base), &vid);
        if (r < 0)
                return berth_err_pub(err, EINVAL, "invalid VLAN parent: %s", parent);
        if (r == 0)
                return berth_err_pub(err, ENODEV, "parent interface '%s' does not exist", parent);
        r = net__nl_vlan_create(n->nl, parent, base, vid, err);
        if (r < 0)
                return r;
        w->created_parent = true;
        return 0;
}

int net_network_create(struct net *n, const struct net_network_config *cfg,
                       struct berth_err *err)
{
        struct network *w;
        char subnet[NET_CIDR_MAX], idbuf[13];
        int r;

        if (!cfg->name || !*cfg->name || strlen(cfg->name) >= NET_NAME_MAX)
                return berth_err_pub(err, EINVAL, "invalid network name");
        if (network_find(n, cfg->name))
                return berth_err_pub(err, EEXIST, "network with name %s already exists", cfg->name);
        if (n->n_nets >= MAX_NETWORKS)
                return berth_err_pub(err, ENOSPC, "too many networks");
        if (cfg->mtu < 0 || cfg->mtu > 65535 || (cfg->mtu > 0 && cfg->mtu < 68))
                return berth_err_pub(err, EINVAL, "invalid MTU: %d", cfg->mtu);
        w = xcalloc(1, sizeof(*w));
        w->name = xstrdup(cfg->name);
        if (cfg->id) {
                w->id = xstrdup(cfg->id);
        } else {
                char hex[65];
                (void)berth_random_hex(hex, 32);
                w->id = xstrdup(hex);
        }
        w->driver = cfg->driver;
        w->internal = cfg->internal;
        w->default_bridge = cfg->default_bridge;
        w->mtu = cfg->mtu;
        if (w->driver == NET_DRIVER_HOST || w->driver == NET_DRIVER_NONE)
                goto add;

        /* IPv4 */
        if (cfg->subnet && *cfg->subnet) {
                copy_str(subnet, sizeof(subnet), cfg->subnet);
        } else {
                if ((cfg->gateway && *cfg->gateway) || (cfg->ip_range && *cfg->ip_range)) {
                        r = berth_err_pub(err, EINVAL, "gateway and ip-range need a subnet");
                        goto fail;
                }
                r = pick_subnet(n, subnet, sizeof(subnet), err);
                if (r < 0)
                        goto fail;
        }
        r = net__ipam_pool_init(&w->pool4, AF_INET, subnet, cfg->gateway, cfg->ip_range, err);
        if (r < 0)
                goto fail;
        w->has_v4 = true;
        r = check_overlap(n, &w->pool4.subnet, err);
        if (r < 0)
                goto fail;
        if (cfg->ipv6 || (cfg->subnet6 && *cfg->subnet6)) {
                if (!cfg->subnet6 || !*cfg->subnet6) {
                        r = berth_err_pub(err, EINVAL, "IPv6 network '%s' needs an IPv6 subnet",
                                          cfg->name);
                        goto fail;
                }
                r = net__ipam_pool_init(&w->pool6, AF_INET6, cfg->subnet6, cfg->gateway6,
                                        cfg->ip_range6, err);
                if (r < 0)
                        goto fail;
                w->ipv6 = true;
                r = check_overlap(n, &w->pool6.subnet, err);
                if (r < 0)
                        goto fail;
        }

        if (w->driver == NET_DRIVER_BRIDGE) {
                if (cfg->bridge_name && *cfg->bridge_name) {
                        if (strlen(cfg->bridge_name) >= NET_IFNAME_MAX) {
                                r = berth_err_pub(err, EINVAL, "bridge name '%s' is too long",
                                                  cfg->bridge_name);
                                goto fail;
                        }
                        copy_str(w->ifname, sizeof(w->ifname), cfg->bridge_name);
                } else if (cfg->default_bridge) {
                        copy_str(w->ifname, sizeof(w->ifname), "berth0");
                } else {
                        copy_str(idbuf, sizeof(idbuf), w->id);
                        (void)snprintf(w->ifname, sizeof(w->ifname), "br-%s", idbuf);
                }
                for (size_t i = 0; i < n->n_nets; i++)
                        if (n->nets[i]->driver == NET_DRIVER_BRIDGE &&
                            !strcmp(n->nets[i]->ifname, w->ifname)) {
                                r = berth_err_pub(err, EEXIST, "bridge '%s' is used by network '%s'",
                                                  w->ifname, n->nets[i]->name);
                                goto fail;
                        }
                r = bridge_setup(n, w, err);
                if (r < 0) {
                        struct berth_err e2 = BERTH_ERR_INIT;
                        (void)net__nl_link_del(n->nl, w->ifname, &e2);
                        goto fail;
                }
        } else if (w->driver == NET_DRIVER_MACVLAN) {
                w->mode = xstrdup(cfg->macvlan_mode && *cfg->macvlan_mode ? cfg->macvlan_mode : "bridge");
                if (strcmp(w->mode, "bridge") && strcmp(w->mode, "private") &&
                    strcmp(w->mode, "vepa") && strcmp(w->mode, "passthru")) {
                        r = berth_err_pub(err, EINVAL, "invalid macvlan mode: %s", w->mode);
                        goto fail;
                }
                r = macvlan_parent(n, w, cfg->parent, err);
                if (r < 0)
                        goto fail;
        }
add:
        n->nets = xrealloc(n->nets, (n->n_nets + 1) * sizeof(*n->nets));
        n->nets[n->n_nets++] = w;
        r = nat_apply(n, err);
        if (r >= 0)
                r = state_save(n, err);
        if (r < 0) {
                struct berth_err e2 = BERTH_ERR_INIT;
                (void)net_network_remove(n, cfg->name, &e2);
                return r;
        }
        return 0;
fail:
        network_free(w);
        return r;
}

int net_network_remove(struct net *n, const char *name, struct berth_err *err)
{
        struct network *w = network_find(n, name);
        size_t i;
        int r = 0;

        if (!w)
                return berth_err_pub(err, ENOENT, "network %s not found", name);
        if (w->n_eps)
                return berth_err_pub(err, EBUSY, "error while removing network: network %s id %s "
                                     "has active endpoints", w->name, w->id ? w->id : "");
        if (w->driver == NET_DRIVER_BRIDGE && w->ifname[0])
                r = net__nl_link_del(n->nl, w->ifname, err);
        else if (w->driver == NET_DRIVER_MACVLAN && w->created_parent)
                r = net__nl_link_del(n->nl, w->ifname, err);
        if (r < 0)
                return r;
        for (i = 0; i < n->n_nets && n->nets[i] != w; i++)
                ;
        memmove(n->nets + i, n->nets + i + 1, (n->n_nets - i - 1) * sizeof(*n->nets));
        n->n_nets--;
        network_free(w);
        r = nat_apply(n, err);
        if (r >= 0)
                r = state_save(n, err);
        return r < 0 ? r : 0;
}

int net_network_get(struct net *n, const char *name, struct net_network_info *ret,
                    struct berth_err *err)
{
        struct network *w = network_find(n, name);

        if (!w)
                return berth_err_pub(err, ENOENT, "network %s not found", name);
        memset(ret, 0, sizeof(*ret));
        copy_str(ret->name, sizeof(ret->name), w->name);
        copy_str(ret->id, sizeof(ret->id), w->id);
        ret->driver = w->driver;
        copy_str(ret->ifname, sizeof(ret->ifname), w->ifname);
        if (w->has_v4) {
                net__prefix_fmt(&w->pool4.subnet, ret->subnet, sizeof(ret->subnet));
                net__addr_fmt(&w->pool4.gateway, ret->gateway, sizeof(ret->gateway));
                if (w->pool4.has_range)
                        net__prefix_fmt(&w->pool4.range, ret->ip_range, sizeof(ret->ip_range));
        }
        ret->ipv6 = w->ipv6;
        if (w->ipv6) {
                net__prefix_fmt(&w->pool6.subnet, ret->subnet6, sizeof(ret->subnet6));
                net__addr_fmt(&w->pool6.gateway, ret->gateway6, sizeof(ret->gateway6));
                if (w->pool6.has_range)
                        net__prefix_fmt(&w->pool6.range, ret->ip_range6, sizeof(ret->ip_range6));
        }
        ret->internal = w->internal;
        ret->mtu = w->mtu;
        ret->n_endpoints = w->n_eps;
        return 0;
}

size_t net_network_list(struct net *n, const char **names, size_t max)
{
        size_t i;

        for (i = 0; i < n->n_nets && i < max; i++)
                names[i] = n->nets[i]->name;
        return i;
}

/* ---- endpoints ---- */

static void endpoint_info(const struct network *w, const struct endpoint *e,
                          struct net_endpoint_info *ret)
{
        memset(ret, 0, sizeof(*ret));
        copy_str(ret->ifname, sizeof(ret->ifname), e->ifname);
        copy_str(ret->host_ifname, sizeof(ret->host_ifname), e->host_ifname);
        copy_str(ret->mac, sizeof(ret->mac), e->mac);
        if (e->ip.family) {
                net__addr_fmt(&e->ip, ret->ip, sizeof(ret->ip));
                ret->prefix = w->pool4.subnet.len;
                if (w->driver == NET_DRIVER_BRIDGE || !w->internal)
                        net__addr_fmt(&w->pool4.gateway, ret->gateway, sizeof(ret->gateway));
        }
        if (e->ip6.family) {
                net__addr_fmt(&e->ip6, ret->ip6, sizeof(ret->ip6));
                ret->prefix6 = w->pool6.subnet.len;
                net__addr_fmt(&w->pool6.gateway, ret->gateway6, sizeof(ret->gateway6));
        }
}

static bool container_has_route(struct net *n, const char *cid)
{
        for (size_t i = 0; i < n->n_nets; i++) {
                struct endpoint *e = endpoint_find(n->nets[i], cid);
                if (e && e->default_route)
                        return true;
        }
        return false;
}

static int plumb(struct net *n, struct network *w, struct endpoint *e, int nsfd,
                 struct berth_err *err)
{
        struct net_nl *cnl = NULL;
        char hex[11];
        int idx, r;

        r = net__nl_open(nsfd, &cnl, err);
        if (r < 0)
                return r;
        if (!e->ifname[0]) {
                r = net__nl_free_ifname(cnl, "eth", e->ifname, sizeof(e->ifname), err);
                if (r < 0)
                        goto out;
        }
        if (w->driver == NET_DRIVER_BRIDGE) {
                (void)berth_random_hex(hex, 5);
                (void)snprintf(e->host_ifname, sizeof(e->host_ifname), HOST_VETH_PREFIX "%s", hex);
                r = net__nl_veth_create(n->nl, e->host_ifname, w->ifname, e->ifname, nsfd, e->mac,
                                        w->mtu, err);
                if (r < 0) {
                        e->host_ifname[0] = '\0';
                        goto out;
                }
        } else {
                r = net__nl_macvlan_create(n->nl, e->ifname, w->ifname, w->mode, nsfd, e->mac,
                                           w->mtu, err);
                if (r < 0)
                        goto out;
        }
        /* one lookup of the new link; the calls below address it by ifindex */
        idx = net__nl_ifindex(cnl, e->ifname);
        if (idx < 0)
                r = berth_err_set(err, -idx, "link '%s': %s", e->ifname, strerror(-idx));
        if (r >= 0 && e->ip.family)
                r = net__nl_addr_add_idx(cnl, idx, e->ifname, &e->ip, w->pool4.subnet.len, err);
        if (r >= 0 && e->ip6.family)
                r = net__nl_addr_add_idx(cnl, idx, e->ifname, &e->ip6, w->pool6.subnet.len, err);
        if (r >= 0)
                r = net__nl_link_up(cnl, "lo", err);
        if (r >= 0)
                r = net__nl_link_up_idx(cnl, idx, e->ifname, err);
        if (r >= 0 && e->default_route && e->ip.family)
                r = net__nl_route_default_idx(cnl, idx, e->ifname, &w->pool4.gateway, err);
        if (r >= 0 && e->default_route && e->ip6.family)
                r = net__nl_route_default_idx(cnl, idx, e->ifname, &w->pool6.gateway, err);
        if (r < 0) {
                struct berth_err e2 = BERTH_ERR_INIT;
                if (e->host_ifname[0])
                        (void)net__nl_link_del(n->nl, e->host_ifname, &e2);
                else
                        (void)net__nl_link_del(cnl, e->ifname, &e2);
        }
out:
        net__nl_close(cnl);
        return r;
}

int net_endpoint_attach(struct net *n, const char *network, const struct net_endpoint_config *cfg,
                        struct net_endpoint_info *ret, struct berth_err *err)
{
        struct network *w = network_find(n, network);
        struct endpoint e = { 0 };
        _cleanup_close_ int own_fd = -1;
        int nsfd = -1, r;

        if (!w)
                return berth_err_pub(err, ENOENT, "network %s not found", network);
        if (!cfg->container_id || !*cfg->container_id)
                return berth_err_pub(err, EINVAL, "container id is required");
        if (endpoint_find(w, cfg->container_id))
                return berth_err_pub(err, EEXIST, "endpoint with name %s already exists in network %s",
                                     cfg->container_id, w->name);
        if (w->driver == NET_DRIVER_HOST || w->driver == NET_DRIVER_NONE) {
                if ((cfg->ip && *cfg->ip) || (cfg->ip6 && *cfg->ip6))
                        return berth_err_pub(err, EINVAL, "network %s does not take addresses",
                                             w->name);
                goto add;
        }
        if (cfg->ifname && strlen(cfg->ifname) >= NET_IFNAME_MAX)
                return berth_err_pub(err, EINVAL, "interface name '%s' is too long", cfg->ifname);
        if (cfg->ip6 && *cfg->ip6 && !w->ipv6)
                return berth_err_pub(err, EINVAL, "network %s has no IPv6 subnet", w->name);
        nsfd = open_netns(cfg->netns_fd, cfg->netns_path, &own_fd, err);
        if (nsfd < 0)
                return nsfd;
        if (w->has_v4) {
                r = net__ipam_alloc(&w->pool4, cfg->ip, &e.ip, err);
                if (r < 0)
                        return r;
        }
        if (w->ipv6) {
                r = net__ipam_alloc(&w->pool6, cfg->ip6, &e.ip6, err);
                if (r < 0)
                        goto release;
        }
        if (cfg->mac && *cfg->mac) {
                copy_str(e.mac, sizeof(e.mac), cfg->mac);
        } else if (e.ip.family) {
                char s[NET_ADDR_MAX];
                net__addr_fmt(&e.ip, s, sizeof(s));
                (void)net_mac_from_ipv4(s, e.mac, sizeof(e.mac), NULL);
        }
        copy_str(e.ifname, sizeof(e.ifname), cfg->ifname);
        e.default_route = !w->internal && !container_has_route(n, cfg->container_id);
        r = plumb(n, w, &e, nsfd, err);
        if (r < 0)
                goto release;
add:
        e.container_id = xstrdup(cfg->container_id);
        w->eps = xrealloc(w->eps, (w->n_eps + 1) * sizeof(*w->eps));
        w->eps[w->n_eps++] = e;
        if (ret)
                endpoint_info(w, &w->eps[w->n_eps - 1], ret);
        r = state_save(n, err);
        if (r < 0) {
                struct berth_err e2 = BERTH_ERR_INIT;
                (void)net_endpoint_detach(n, network, cfg->container_id, nsfd, NULL, &e2);
                return r;
        }
        return 0;
release:
        if (e.ip.family)
                (void)net__ipam_release(&w->pool4, &e.ip);
        if (e.ip6.family)
                (void)net__ipam_release(&w->pool6, &e.ip6);
        return berth_err_wrap(err, "attach to network '%s'", w->name);
}

/* Delete link del_name of del_nl (the netns of del_nsfd, -1: ours) and
 * return once the kernel has unlisted it, with watch_name of watch_nl (the
 * container end of a veth, deleted with it; NULL: del_name itself): the
 * RTM_DELLINK runs on a reaper thread, and the RCU barrier that ends it
 * (tens of ms) goes on there after this returns.  Names, addresses and the
 * bridge port are gone with the unlisting, so a reconnect right after
 * cannot collide with them. */
static int link_del_unlisted(struct net *n, int del_nsfd, struct net_nl *del_nl,
                             const char *del_name, struct net_nl *watch_nl,
                             const char *watch_name, struct berth_err *err)
{
        struct net_reap_item *it = NULL;
        long waited_us = 0, step_us = 50;
        int idx = -ENODEV, r;

        if (watch_nl && watch_name)
                idx = net__nl_ifindex(watch_nl, watch_name);
        if (idx < 0) {
                watch_nl = del_nl;
                idx = net__nl_ifindex(del_nl, del_name);
                if (idx == -ENODEV)
                        return 0;
        }
        if (idx < 0 || !n->reaper || net__reaper_del(n->reaper, del_nsfd, del_name, &it, NULL) < 0)
                return net__nl_link_del(del_nl, del_name, err);
        for (;;) {
                struct timespec ts = { 0, step_us * 1000 };
                if (net__reap_item_done(n->reaper, it, &r))
                        break;
                if (net__nl_index_exists(watch_nl, idx) == -ENODEV) {
                        r = 0;
                        break;
                }
                if (waited_us > 10L * 1000 * 1000) {
                        /* unlisting is not slow; the deletion is: wait for it */
                        r = net__reap_item_wait(n->reaper, it);
                        break;
                }
                (void)nanosleep(&ts, NULL);
                waited_us += step_us;
                if (step_us < 500)
                        step_us *= 2;
        }
        net__reap_item_put(n->reaper, it);
        if (r < 0)
                return berth_err_set(err, -r, "delete link '%s': %s", del_name, strerror(-r));
        return 0;
}

int net_endpoint_detach(struct net *n, const char *network, const char *container_id,
                        int netns_fd, const char *netns_path, struct berth_err *err)
{
        struct network *w = network_find(n, network);
        struct endpoint *e;
        _cleanup_close_ int own_fd = -1;
        size_t i;
        int r = 0;

        if (!w)
                return berth_err_pub(err, ENOENT, "network %s not found", network);
        e = endpoint_find(w, container_id);
        if (!e)
                return berth_err_pub(err, ENOENT, "container %s is not connected to network %s",
                                     container_id, w->name);
        if (e->host_ifname[0] || w->driver == NET_DRIVER_MACVLAN) {
                int nsfd = netns_fd;
                struct net_nl *cnl = NULL;

                if (nsfd < 0 && netns_path)
                        nsfd = own_fd = open(netns_path, O_RDONLY | O_CLOEXEC);
                /* a netns already gone took the container end with it */
                if (nsfd >= 0 && net__nl_open(nsfd, &cnl, NULL) < 0)
                        cnl = NULL;
                if (e->host_ifname[0])
                        r = link_del_unlisted(n, -1, n->nl, e->host_ifname, cnl, e->ifname, err);
                else if (cnl)
                        r = link_del_unlisted(n, nsfd, cnl, e->ifname, cnl, e->ifname, err);
                net__nl_close(cnl);
        }
        if (r < 0)
                return r;
        if (e->ip.family)
                (void)net__ipam_release(&w->pool4, &e->ip);
        if (e->ip6.family)
                (void)net__ipam_release(&w->pool6, &e->ip6);
        free(e->container_id);
        i = (size_t)(e - w->eps);
        memmove(w->eps + i, w->eps + i + 1, (w->n_eps - i - 1) * sizeof(*w->eps));
        w->n_eps--;
        return state_save(n, err);
}

int net_endpoint_get(struct net *n, const char *network, const char *container_id,
                     struct net_endpoint_info *ret, struct berth_err *err)
{
        struct network *w = network_find(n, network);
        struct endpoint *e;

        if (!w)
                return berth_err_pub(err, ENOENT, "network %s not found", network);
        e = endpoint_find(w, container_id);
        if (!e)
                return berth_err_pub(err, ENOENT, "container %s is not connected to network %s",
                                     container_id, w->name);
        endpoint_info(w, e, ret);
        return 0;
}

/* ---- ports ---- */

static const char *container_bridge(struct net *n, const char *cid, const char *ip)
{
        struct net_addr a;

        if (net__addr_parse(ip, &a) < 0)
                return NULL;
        for (size_t i = 0; i < n->n_nets; i++) {
                struct network *w = n->nets[i];
                struct endpoint *e = endpoint_find(w, cid);
                if (e && w->driver == NET_DRIVER_BRIDGE &&
                    ((e->ip.family && e->ip.v == a.v && a.family == AF_INET) ||
                     (e->ip6.family && e->ip6.v == a.v && a.family == AF_INET6)))
                        return w->ifname;
        }
        return NULL;
}

static const char *container_first_ip(struct net *n, const char *cid, char *out, size_t len)
{
        for (size_t i = 0; i < n->n_nets; i++) {
                struct endpoint *e = endpoint_find(n->nets[i], cid);
                if (e && e->ip.family) {
                        net__addr_fmt(&e->ip, out, len);
                        return out;
                }
        }
        return NULL;
}

static int probe_port(const struct net_port_map *m, uint16_t *ret, struct berth_err *err)
{
        struct sockaddr_storage ss = { 0 };
        socklen_t len;
        const char *ip = m->host_ip[0] ? m->host_ip : "0.0.0.0";
        _cleanup_close_ int fd = -1;
        bool v6 = strchr(ip, ':') != NULL;

        fd = socket(v6 ? AF_INET6 : AF_INET,
                    (m->proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return berth_err_set(err, errno, "socket: %m");
        if (v6) {
                struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
                s->sin6_family = AF_INET6;
                (void)inet_pton(AF_INET6, ip, &s->sin6_addr);
                len = sizeof(*s);
        } else {
                struct sockaddr_in *s = (struct sockaddr_in *)&ss;
                s->sin_family = AF_INET;
                (void)inet_pton(AF_INET, ip, &s->sin_addr);
                len = sizeof(*s);
        }
        if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
            getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
                return berth_err_set(err, errno, "probe ephemeral port: %m");
        *ret = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
                          ((struct sockaddr_in *)&ss)->sin_port);
        return 0;
}

static void ports_drop_from(struct net *n, size_t first)
{
        for (size_t i = first; i < n->n_ports; i++) {
                net_proxy_close(n->ports[i].proxy);
                free(n->ports[i].container_id);
        }
        n->n_ports = first;
}

int net_ports_open(struct net *n, const char *container_id, struct net_port_map *maps,
                   size_t n_maps, struct berth_err *err)
{
        size_t first = n->n_ports;
        int r = 0;

        if (!container_id || !*container_id)
                return berth_err_pub(err, EINVAL, "container id is required");
        for (size_t i = 0; i < n_maps && r >= 0; i++) {
                struct net_port_map *m = &maps[i];
                struct published p = { 0 };
                const char *br;

                if (m->proto != IPPROTO_TCP && m->proto != IPPROTO_UDP) {
                        r = berth_err_pub(err, EINVAL, "invalid protocol for port %u",
                                          m->container_port);
                        break;
                }
                if (m->container_port == 0) {
                        r = berth_err_pub(err, EINVAL, "invalid container port 0");
                        break;
                }
                if (!m->container_ip[0] &&
                    !container_first_ip(n, container_id, m->container_ip, sizeof(m->container_ip))) {
                        r = berth_err_pub(err, EINVAL, "container %s has no IPv4 address to publish to",
                                          container_id);
                        break;
                }
                if (m->host_ip[0]) {
                        struct net_addr a;
                        if (net__addr_parse(m->host_ip, &a) < 0) {
                                r = berth_err_pub(err, EINVAL, "invalid host IP: %s", m->host_ip);
                                break;
                        }
                }
                for (size_t j = 0; j < n->n_ports; j++) {
                        const struct net_port_map *o = &n->ports[j].map;
                        if (o->proto == m->proto && m->host_port && o->host_port == m->host_port &&
                            (!o->host_ip[0] || !m->host_ip[0] || !strcmp(o->host_ip, m->host_ip))) {
                                r = berth_err_pub(err, EADDRINUSE,
                                                  "cannot publish %s port %s:%u: already "
                                                  "published by container %s",
                                                  m->proto == IPPROTO_UDP ? "udp" : "tcp",
                                                  m->host_ip[0] ? m->host_ip : "0.0.0.0",
                                                  m->host_port, n->ports[j].container_id);
                                break;
                        }
                }
                if (r < 0)
                        break;
                p.map = *m;
                if (n->loop && !n->no_proxy) {
                        r = net_proxy_start(n->loop, &p.map, &p.proxy, err);
                        if (r < 0)
                                break;
                        p.map.host_port = m->host_port = net_proxy_port(p.proxy);
                } else if (m->host_port == 0) {
                        r = probe_port(m, &m->host_port, err);
                        if (r < 0)
                                break;
                        p.map.host_port = m->host_port;
                }
                br = container_bridge(n, container_id, m->container_ip);
                copy_str(p.bridge, sizeof(p.bridge), br);
                p.container_id = xstrdup(container_id);
                n->ports = xrealloc(n->ports, (n->n_ports + 1) * sizeof(*n->ports));
                n->ports[n->n_ports++] = p;
        }
        if (r < 0) {
                ports_drop_from(n, first);
                return r;
        }
        return 0;
}

int net_ports_commit(struct net *n, struct berth_err *err)
{
        int r = nat_apply(n, err);

        return r < 0 ? r : state_save(n, err);
}

int net_ports_publish(struct net *n, const char *container_id, struct net_port_map *maps,
                      size_t n_maps, struct berth_err *err)
{
        size_t first = n->n_ports;
        int r = net_ports_open(n, container_id, maps, n_maps, err);

        if (r < 0)
                return r;
        r = net_ports_commit(n, err);
        if (r < 0) {
                struct berth_err e2 = BERTH_ERR_INIT;
                ports_drop_from(n, first);
                (void)nat_apply(n, &e2);
        }
        return r;
}

void net_proxies_close(struct net *n)
{
        for (size_t i = 0; n && i < n->n_ports; i++) {
                net_proxy_close(n->ports[i].proxy);
                n->ports[i].proxy = NULL;
        }
}

bool net_ports_close(struct net *n, const char *container_id)
{
        size_t k = 0;
        bool changed = false;

        for (size_t i = 0; i < n->n_ports; i++) {
                if (!strcmp(n->ports[i].container_id, container_id)) {
                        net_proxy_close(n->ports[i].proxy);
                        free(n->ports[i].container_id);
                        changed = true;
                        continue;
                }
                n->ports[k++] = n->ports[i];
        }
        n->n_ports = k;
        return changed;
}

int net_ports_unpublish(struct net *n, const char *container_id, struct berth_err *err)
{
        size_t k = 0;
        bool changed = false;

        for (size_t i = 0; i < n->n_ports; i++) {
                if (!strcmp(n->ports[i].container_id, container_id)) {
                        net_proxy_close(n->ports[i].proxy);
                        free(n->ports[i].container_id);
                        changed = true;
                        continue;
                }
                n->ports[k++] = n->ports[i];
        }
        n->n_ports = k;
        if (!changed)
                return 0;
        if (nat_apply(n, err) < 0)
                return -err->code;
        return state_save(n, err);
}

size_t net_ports_get(struct net *n, const char *container_id, struct net_port_map *out,
                     size_t max)
{
        size_t k = 0;

        for (size_t i = 0; i < n->n_ports; i++) {
                if (strcmp(n->ports[i].container_id, container_id))
                        continue;
                if (k < max)
                        out[k] = n->ports[i].map;
                k++;
        }
        return k;
}

size_t net_network_endpoints(struct net *n, const char *name, const char **container_ids,
                             size_t max)
{
        struct network *w = network_find(n, name);
        size_t i;

        if (!w)
                return 0;
        for (i = 0; i < w->n_eps && i < max; i++)
                container_ids[i] = w->eps[i].container_id;
        return w->n_eps;
}

/* ---- -p parsing ---- */

static int parse_range(const char *s, size_t len, uint16_t *lo, uint16_t *hi)
{
        char tmp[16];
        const char *dash;
        int64_t a, b;

        if (len == 0 || len >= sizeof(tmp))
                return -EINVAL;
        memcpy(tmp, s, len);
        tmp[len] = '\0';
        dash = strchr(tmp, '-');
        if (dash) {
                tmp[dash - tmp] = '\0';
                if (berth_parse_int64(tmp, &a) < 0 || berth_parse_int64(dash + 1, &b) < 0)
                        return -EINVAL;
        } else {
                if (berth_parse_int64(tmp, &a) < 0)
                        return -EINVAL;
                b = a;
        }
        if (a < 1 || a > 65535 || b < a || b > 65535)
                return -ERANGE;
        *lo = (uint16_t)a;
        *hi = (uint16_t)b;
        return 0;
}

int net_port_spec_parse(const char *spec, struct net_port_map **ret, size_t *ret_n,
                        struct berth_err *err)
{
        char buf[128], ip[NET_ADDR_MAX] = "";
        char *proto, *cport, *hport = NULL, *p;
        uint16_t clo, chi, hlo = 0, hhi = 0;
        struct net_port_map *v;
        int kind = IPPROTO_TCP, r;
        size_t count;

        if (!spec || strlen(spec) >= sizeof(buf))
                return berth_err_pub(err, EINVAL, "invalid port specification: \"%s\"",
                                     spec ? spec : "");
        strcpy(buf, spec);
        proto = strchr(buf, '/');
        if (proto) {
                *proto++ = '\0';
                if (!strcmp(proto, "udp"))
                        kind = IPPROTO_UDP;
                else if (strcmp(proto, "tcp"))
                        return berth_err_pub(err, EINVAL, "invalid proto: %s", proto);
        }
        /* container port is after the last ':'; an IPv6 host IP is in [] */
        cport = strrchr(buf, ':');
        if (cport) {
                *cport++ = '\0';
                p = buf;
                if (*p == '[') {
                        char *close = strchr(p, ']');
                        if (!close || (close[1] != ':' && close[1] != '\0'))
                                return berth_err_pub(err, EINVAL, "invalid port specification: \"%s\"", spec);
                        *close = '\0';
                        copy_str(ip, sizeof(ip), p + 1);
                        hport = close[1] == ':' ? close + 2 : close + 1;
                } else {
                        char *c = strrchr(p, ':');
                        if (c) {
                                *c = '\0';
                                copy_str(ip, sizeof(ip), p);
                                hport = c + 1;
                        } else {
                                hport = p;
                        }
                }
        } else {
                cport = buf;
        }
        if (ip[0]) {
                struct net_addr a;
                if (net__addr_parse(ip, &a) < 0)
                        return berth_err_pub(err, EINVAL, "invalid IP address: %s", ip);
        }
        r = parse_range(cport, strlen(cport), &clo, &chi);
        if (r < 0)
                return berth_err_pub(err, EINVAL, "invalid containerPort: %s", cport);
        if (hport && *hport) {
                r = parse_range(hport, strlen(hport), &hlo, &hhi);
                if (r < 0)
                        return berth_err_pub(err, EINVAL, "invalid hostPort: %s", hport);
                if (chi - clo != hhi - hlo && !(chi == clo))
                        return berth_err_pub(err, EINVAL,
                                             "invalid ranges specified for container and host "
                                             "ports: %s", spec);
        }
        count = (size_t)(chi - clo) + 1;
        v = xcalloc(count, sizeof(*v));
        for (size_t i = 0; i < count; i++) {
                v[i].proto = kind;
                copy_str(v[i].host_ip, sizeof(v[i].host_ip), ip);
                v[i].container_port = (uint16_t)(clo + i);
                /* one container port with a host range: first port of the range */
                v[i].host_port = hlo ? (uint16_t)(hlo + (chi == clo ? 0 : i)) : 0;
        }
        *ret = v;
        *ret_n = count;
        return 0;
}
