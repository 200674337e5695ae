/* SPDX-License-Identifier: Apache-2.0
 * daemon/networks.c -- the daemon's network objects over net/: the
 * predefined networks (bridge, host, none) and user-defined ones, with IDs,
 * labels, options and creation times, persisted in
 * <data-root>/network/objects.json next to net/'s own networks.json (which
 * holds subnets, allocations and endpoints: the source of truth for them).
 *
 * Kernel objects are made lazily.  At startup berth_networks_open() creates
 * the three predefined network *objects* only: nothing touches links or
 * nftables unless net/'s state (left by earlier runs) already has networks.
 * The predefined "bridge" (driver bridge on "berth0", from --bip,
 * --fixed-cidr, --fixed-cidr-v6, --ipv6, --mtu) is created in net/ by the
 * first berth_network_attach() to it.  User-defined networks are created in
 * net/ (bridge, addresses, NAT) by POST /networks/create.
 *
 * Every blocking step (netlink, nft, fsync of net/'s state) runs through
 * net_queue() on the thread pool; objects.json is written by a coalescing
 * saver on the pool.  Everything else is loop-thread only.
 *
 * ---- for the container code (declarations below; to move to daemon.h) ----
 *
 * berth_network_resolve(d, ref, &name, &id, &driver, err)
 *      Find a network by name, full ID or unique ID prefix ("default" means
 *      "bridge").  Borrowed strings, valid until the network goes.  -ENOENT
 *      "network x not found" (public, 404); -EINVAL ambiguous prefix.  Use it
 *      at container create to validate HostConfig.NetworkMode and each key
 *      of NetworkingConfig.EndpointsConfig.
 *
 * berth_network_attach(d, network, &req, cb, data, err)
 *      Between create and start (the container's netns exists: pass
 *      req.netns_path "/proc/PID/ns/net" or a bind-mounted netns), and for
 *      POST /networks/{id}/connect on a running container.  Bridge and
 *      macvlan: veth/macvlan plumbed into the netns by net/, addresses
 *      allocated (req.ip/ip6 static, else first free), MAC from the IPv4
 *      address unless req.mac.  The first attach to "bridge" creates berth0.
 *      host/none: only recorded (no netns needed).  Publishes network
 *      "connect".  cb(status, err, data) exactly once on the loop, never
 *      before the call returned; if the call returns < 0, cb is never
 *      called.  Errors: 404 no such network, 409 already attached or static
 *      address taken, 400 address outside the subnet.
 *
 * berth_network_detach(d, network, container_id, netns_path, cb, data, err)
 *      network disconnect, or at container stop (netns_path NULL when the
 *      netns is gone).  Releases the addresses.  -ENOENT if not attached.
 *      Publishes "disconnect".  Same callback contract.
 *
 * berth_network_release_container(d, container_id, cb, data, err)
 *      At container remove (or stop): detach the container from every
 *      network it is on; no-op (cb with 0) if none.  Same contract.
 *
 * berth_network_settings_networks(d, container_id)
 *      New cJSON object for inspect's NetworkSettings.Networks:
 *      {"<name>": {IPAMConfig, Links, Aliases, NetworkID, EndpointID,
 *      Gateway, IPAddress, IPPrefixLen, IPv6Gateway, GlobalIPv6Address,
 *      GlobalIPv6PrefixLen, MacAddress, DriverOpts, DNSNames}}; DNSNames
 *      (API 1.44: name, aliases, short id) is null on host/none.  Aliases
 *      are returned as given at attach (1.44 clients expect the short id
 *      appended there by the caller; 1.45+ do not).  Loop thread.
 *
 * Ports (net_ports_publish) and /etc files (net_files_write) are called on
 * d->net directly by the container code, through net_queue() for the
 * blocking ones.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "net/net.h"

/* ---- objects ---- */

#define OBJECTS_FILE "objects.json"
#define OBJECTS_MAX (64 << 20)
#define DEFAULT_BRIDGE "berth0"

struct endpoint {
        char container_id[65];
        char endpoint_id[65];
        char *name;
        cJSON *aliases;                 /* array or NULL */
        struct net_endpoint_info info;
        /* objects.json is written while net/ plumbs or unplumbs the
         * endpoint, not after it (two fsyncs at once, not one then the
         * other): an attach under way is saved but not shown, a detach
         * under way shown but not saved.  After a crash between the two
         * writes, reconcile() takes net/'s word. */
        bool pending, leaving;
};

struct network {
        struct network *next;
        char id[65];
        char *name;
        char *driver;                   /* bridge, macvlan, host, null */
        int64_t created_ns;
        bool predefined;
        bool internal, ipv6, attachable;
        bool in_net;                    /* net/ knows it: kernel objects made */
        bool creating, removing;
        int busy;                       /* attach/detach jobs under way */
        cJSON *labels;                  /* object of strings */
        cJSON *options;                 /* object of strings */
        cJSON *ipam_options;            /* object or NULL (null in JSON) */
        cJSON *ipam_config;             /* array */
        struct endpoint *eps;
        size_t n_eps;
};

struct save_waiter {
        struct save_waiter *next;
        berth_done_cb cb;
        void *data;
};

struct berth_networks {
        struct network *head;
        char *path;                     /* objects.json */
        /* the saver: one write at a time, later requests coalesce */
        bool saving;
        struct save_waiter *waiting, *inflight;
        uv_work_t save_w;
        char *save_text;
        int save_rc;
        struct berth_err save_err;
        struct berth_daemon *d;
};

static bool is_predefined_name(const char *s)
{
        return !strcmp(s, "bridge") || !strcmp(s, "host") || !strcmp(s, "none") || !strcmp(s, "default");
}

static void endpoint_release(struct endpoint *e)
{
        free(e->name);
        cJSON_Delete(e->aliases);
}

static struct network *network_free(struct network *w)
{
        if (!w)
                return NULL;
        free(w->name);
        free(w->driver);
        cJSON_Delete(w->labels);
        cJSON_Delete(w->options);
        cJSON_Delete(w->ipam_options);
        cJSON_Delete(w->ipam_config);
        for (size_t i = 0; i < w->n_eps; i++)
                endpoint_release(&w->eps[i]);
        free(w->eps);
        free(w);
        return NULL;
}

static struct network *network_new(const char *name, const char *driver)
{
        struct network *w = xcalloc(1, sizeof(*w));

        (void)berth_random_hex(w->id, 32);
        w->name = xstrdup(name);
        w->driver = xstrdup(driver);
        w->created_ns = berth_now_ns();
        w->labels = cJSON_CreateObject();
        w->options = cJSON_CreateObject();
        w->ipam_config = cJSON_CreateArray();
        return w;
}

static void network_link(struct berth_networks *ns, struct network *w)
{
        struct network **p = &ns->head;

        while (*p)
                p = &(*p)->next;
        *p = w;
}

static void network_unlink(struct berth_networks *ns, struct network *w)
{
        for (struct network **p = &ns->head; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        w->next = NULL;
                        return;
                }
}

static void realize_default_bridge(struct berth_daemon *d);

static struct network *by_name(struct berth_networks *ns, const char *name)
{
        for (struct network *w = ns->head; w; w = w->next)
                if (!strcmp(w->name, name))
                        return w;
        return NULL;
}

/* Docker's order: full ID, name, unique ID prefix. */
static struct network *find(struct berth_networks *ns, const char *ref, struct berth_err *err)
{
        struct network *match = NULL;
        size_t n = 0, len = strlen(ref);

        if (!strcmp(ref, "default"))
                ref = "bridge";
        for (struct network *w = ns->head; w; w = w->next)
                if (!w->creating && !strcmp(w->id, ref))
                        return w;
        for (struct network *w = ns->head; w; w = w->next)
                if (!w->creating && !strcmp(w->name, ref))
                        return w;
        if (len > 0 && len < 64)
                for (struct network *w = ns->head; w; w = w->next)
                        if (!w->creating && !strncmp(w->id, ref, len)) {
                                match = w;
                                n++;
                        }
        if (n == 1)
                return match;
        if (n > 1)
                (void)berth_err_pub(err, EINVAL, "network %s is ambiguous (%zu matches found based on ID prefix)",
                                    ref, n);
        else
                (void)berth_err_pub(err, ENOENT, "network %s not found", ref);
        return NULL;
}

/* any record of cid, an attach under way included */
static struct endpoint *ep_find_any(struct network *w, const char *cid)
{
        for (size_t i = 0; i < w->n_eps; i++)
                if (!strcmp(w->eps[i].container_id, cid))
                        return &w->eps[i];
        return NULL;
}

/* the endpoint of cid, once attached */
static struct endpoint *ep_find(struct network *w, const char *cid)
{
        struct endpoint *e = ep_find_any(w, cid);

        return e && !e->pending ? e : NULL;
}

static struct endpoint *ep_add(struct network *w, const char *cid)
{
        struct endpoint *e;

        w->eps = xrealloc(w->eps, (w->n_eps + 1) * sizeof(*w->eps));
        e = &w->eps[w->n_eps++];
        memset(e, 0, sizeof(*e));
        snprintf(e->container_id, sizeof(e->container_id), "%s", cid);
        (void)berth_random_hex(e->endpoint_id, 32);
        return e;
}

static void ep_del(struct network *w, const char *cid)
{
        for (size_t i = 0; i < w->n_eps; i++)
                if (!strcmp(w->eps[i].container_id, cid)) {
                        endpoint_release(&w->eps[i]);
                        memmove(&w->eps[i], &w->eps[i + 1], (w->n_eps - i - 1) * sizeof(*w->eps));
                        w->n_eps--;
                        return;
                }
}

static bool uses_net(const struct network *w)
{
        return !strcmp(w->driver, "bridge") || !strcmp(w->driver, "macvlan");
}

static void publish(struct berth_daemon *d, const struct network *w, const char *action, const char *cid)
{
        cJSON *a = cJSON_CreateObject();

        if (cid)
                cJSON_AddStringToObject(a, "container", cid);
        cJSON_AddStringToObject(a, "name", w->name);
        cJSON_AddStringToObject(a, "type", w->driver);
        berth_events_publish(d->events, "network", action, w->id, a);
}

/* IPAM Config from what net/ allocated. */
static void ipam_from_info(struct network *w, const struct net_network_info *in)
{
        cJSON *cfg = cJSON_CreateArray(), *o;

        if (in->subnet[0]) {
                o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "Subnet", in->subnet);
                if (in->ip_range[0] && strcmp(in->ip_range, in->subnet))
                        cJSON_AddStringToObject(o, "IPRange", in->ip_range);
                if (in->gateway[0])
                        cJSON_AddStringToObject(o, "Gateway", in->gateway);
                cJSON_AddItemToArray(cfg, o);
        }
        if (in->ipv6 && in->subnet6[0]) {
                o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "Subnet", in->subnet6);
                if (in->ip_range6[0] && strcmp(in->ip_range6, in->subnet6))
                        cJSON_AddStringToObject(o, "IPRange", in->ip_range6);
                if (in->gateway6[0])
                        cJSON_AddStringToObject(o, "Gateway", in->gateway6);
                cJSON_AddItemToArray(cfg, o);
        }
        cJSON_Delete(w->ipam_config);
        w->ipam_config = cfg;
        w->ipv6 = in->ipv6;
        w->internal = in->internal;
}

/* ---- JSON of a network ---- */

static const char *ctr_name(struct berth_daemon *d, const struct endpoint *e)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct berth_container *c = d->containers ? berth_container_find(d, e->container_id, &err) : NULL;

        if (c && c->name)
                return c->name[0] == '/' ? c->name + 1 : c->name;
        return e->name ? e->name : "";
}

static cJSON *network_json(struct berth_daemon *d, const struct network *w)
{
        cJSON *o = cJSON_CreateObject(), *ipam, *ctrs;
        char ts[48];

        berth_time_rfc3339(w->created_ns / 1000000000, (long)(w->created_ns % 1000000000), ts, sizeof(ts));
        cJSON_AddStringToObject(o, "Name", w->name);
        cJSON_AddStringToObject(o, "Id", w->id);
        cJSON_AddStringToObject(o, "Created", ts);
        cJSON_AddStringToObject(o, "Scope", "local");
        cJSON_AddStringToObject(o, "Driver", w->driver);
        cJSON_AddBoolToObject(o, "EnableIPv6", w->ipv6);
        ipam = cJSON_AddObjectToObject(o, "IPAM");
        cJSON_AddStringToObject(ipam, "Driver", "default");
        cJSON_AddItemToObject(ipam, "Options",
                              w->ipam_options ? cJSON_Duplicate(w->ipam_options, 1) : cJSON_CreateNull());
        cJSON_AddItemToObject(ipam, "Config", cJSON_Duplicate(w->ipam_config, 1));
        cJSON_AddBoolToObject(o, "Internal", w->internal);
        cJSON_AddBoolToObject(o, "Attachable", w->attachable);
        cJSON_AddBoolToObject(o, "Ingress", false);
        cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "ConfigFrom"), "Network", "");
        cJSON_AddBoolToObject(o, "ConfigOnly", false);
        ctrs = cJSON_AddObjectToObject(o, "Containers");
        for (size_t i = 0; i < w->n_eps; i++) {
                const struct endpoint *e = &w->eps[i];
                cJSON *c;
                if (e->pending)
                        continue;
                c = cJSON_AddObjectToObject(ctrs, e->container_id);
                char a[NET_CIDR_MAX + 8];
                cJSON_AddStringToObject(c, "Name", ctr_name(d, e));
                cJSON_AddStringToObject(c, "EndpointID", e->endpoint_id);
                cJSON_AddStringToObject(c, "MacAddress", e->info.mac);
                if (e->info.ip[0])
                        snprintf(a, sizeof(a), "%s/%d", e->info.ip, e->info.prefix);
                else
                        a[0] = 0;
                cJSON_AddStringToObject(c, "IPv4Address", a);
                if (e->info.ip6[0])
                        snprintf(a, sizeof(a), "%s/%d", e->info.ip6, e->info.prefix6);
                else
                        a[0] = 0;
                cJSON_AddStringToObject(c, "IPv6Address", a);
        }
        cJSON_AddItemToObject(o, "Options", cJSON_Duplicate(w->options, 1));
        cJSON_AddItemToObject(o, "Labels", cJSON_Duplicate(w->labels, 1));
        return o;
}

/* ---- persistence ---- */

static char *snapshot(struct berth_networks *ns)
{
        cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "Networks");
        char num[32];
        char *text;

        for (struct network *w = ns->head; w; w = w->next) {
                cJSON *o, *eps;
                if (w->creating)
                        continue;
                o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "Id", w->id);
                cJSON_AddStringToObject(o, "Name", w->name);
                cJSON_AddStringToObject(o, "Driver", w->driver);
                snprintf(num, sizeof(num), "%lld", (long long)w->created_ns);
                cJSON_AddStringToObject(o, "CreatedNs", num);
                cJSON_AddBoolToObject(o, "Predefined", w->predefined);
                cJSON_AddBoolToObject(o, "Internal", w->internal);
                cJSON_AddBoolToObject(o, "EnableIPv6", w->ipv6);
                cJSON_AddBoolToObject(o, "Attachable", w->attachable);
                cJSON_AddItemToObject(o, "Labels", cJSON_Duplicate(w->labels, 1));
                cJSON_AddItemToObject(o, "Options", cJSON_Duplicate(w->options, 1));
                if (w->ipam_options)
                        cJSON_AddItemToObject(o, "IPAMOptions", cJSON_Duplicate(w->ipam_options, 1));
                cJSON_AddItemToObject(o, "IPAMConfig", cJSON_Duplicate(w->ipam_config, 1));
                eps = cJSON_AddObjectToObject(o, "Endpoints");
                for (size_t i = 0; i < w->n_eps; i++) {
                        const struct endpoint *e = &w->eps[i];
                        cJSON *eo;
                        if (e->leaving)
                                continue;
                        eo = cJSON_AddObjectToObject(eps, e->container_id);
                        cJSON_AddStringToObject(eo, "EndpointID", e->endpoint_id);
                        cJSON_AddStringToObject(eo, "Name", e->name ? e->name : "");
                        if (e->aliases)
                                cJSON_AddItemToObject(eo, "Aliases", cJSON_Duplicate(e->aliases, 1));
                }
                cJSON_AddItemToArray(arr, o);
        }
        text = cJSON_PrintUnformatted(root);
        cJSON_Delete(root);
        return text;
}

static cJSON *dup_kind(const cJSON *o, const char *key, bool array)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        if (array ? cJSON_IsArray(v) : cJSON_IsObject(v))
                return cJSON_Duplicate(v, 1);
        return array ? cJSON_CreateArray() : cJSON_CreateObject();
}

static bool is_hex64(const char *s)
{
        size_t i;

        for (i = 0; s && s[i]; i++)
                if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
                        return false;
        return i == 64;
}

static int load_objects(struct berth_networks *ns, struct berth_err *err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ cJSON *root = NULL;
        const cJSON *o;
        size_t len;
        int r;

        r = berth_read_file(ns->path, OBJECTS_MAX, &text, &len, err);
        if (r == -ENOENT) {
                berth_err_clear(err);
                return 0;
        }
        if (r < 0)
                return r;
        r = berth_json_parse(text, len, &root, err);
        if (r < 0)
                return berth_err_wrap(err, "%s", ns->path);
        cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(root, "Networks")) {
                const char *id = berth_json_str(o, "Id"), *name = berth_json_str(o, "Name"),
                           *driver = berth_json_str(o, "Driver"), *cr = berth_json_str(o, "CreatedNs");
                const cJSON *eps, *eo, *v;
                struct network *w;
                int64_t ns_created;
                if (!is_hex64(id) || !name || !driver || by_name(ns, name)) {
                        log_warn("networks: %s: skipping a bad entry", ns->path);
                        continue;
                }
                w = network_new(name, driver);
                snprintf(w->id, sizeof(w->id), "%s", id);
                if (cr && berth_parse_int64(cr, &ns_created) == 0)
                        w->created_ns = ns_created;
                w->predefined = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "Predefined"));
                w->internal = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "Internal"));
                w->ipv6 = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "EnableIPv6"));
                w->attachable = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "Attachable"));
                cJSON_Delete(w->labels);
                w->labels = dup_kind(o, "Labels", false);
                cJSON_Delete(w->options);
                w->options = dup_kind(o, "Options", false);
                v = cJSON_GetObjectItemCaseSensitive(o, "IPAMOptions");
                if (cJSON_IsObject(v))
                        w->ipam_options = cJSON_Duplicate(v, 1);
                cJSON_Delete(w->ipam_config);
                w->ipam_config = dup_kind(o, "IPAMConfig", true);
                eps = cJSON_GetObjectItemCaseSensitive(o, "Endpoints");
                cJSON_ArrayForEach(eo, eps) {
                        struct endpoint *e;
                        const char *eid = berth_json_str(eo, "EndpointID"), *en = berth_json_str(eo, "Name");
                        if (!eo->string || strlen(eo->string) > 64)
                                continue;
                        e = ep_add(w, eo->string);
                        if (is_hex64(eid))
                                snprintf(e->endpoint_id, sizeof(e->endpoint_id), "%s", eid);
                        e->name = en ? xstrdup(en) : NULL;
                        v = cJSON_GetObjectItemCaseSensitive(eo, "Aliases");
                        if (cJSON_IsArray(v))
                                e->aliases = cJSON_Duplicate(v, 1);
                }
                network_link(ns, w);
        }
        return 0;
}

static void save_work(uv_work_t *w)
{
        struct berth_networks *ns = container_of(w, struct berth_networks, save_w);

        berth_err_clear(&ns->save_err);
        ns->save_rc = berth_write_file_atomic(ns->path, ns->save_text, strlen(ns->save_text), 0600,
                                              &ns->save_err);
}

static void save_start(struct berth_networks *ns);

static void save_after(uv_work_t *w, int status)
{
        struct berth_networks *ns = container_of(w, struct berth_networks, save_w);
        struct save_waiter *list = ns->inflight, *next;

        if (status == UV_ECANCELED && ns->save_rc == 0)
                ns->save_rc = berth_err_set(&ns->save_err, ECANCELED, "cancelled");
        if (ns->save_rc < 0)
                log_error("networks: saving %s: %s", ns->path, ns->save_err.msg);
        free(ns->save_text);
        ns->save_text = NULL;
        ns->inflight = NULL;
        ns->saving = false;
        for (; list; list = next) {
                next = list->next;
                if (list->cb)
                        list->cb(ns->save_rc, &ns->save_err, list->data);
                free(list);
        }
        if (ns->waiting)
                save_start(ns);
}

static void save_start(struct berth_networks *ns)
{
        int r;

        ns->saving = true;
        ns->inflight = ns->waiting;
        ns->waiting = NULL;
        ns->save_text = snapshot(ns);
        ns->save_rc = 0;
        r = uv_queue_work(ns->d->loop, &ns->save_w, save_work, save_after);
        if (r < 0) {
                /* cannot happen with a live loop: write inline */
                save_work(&ns->save_w);
                save_after(&ns->save_w, 0);
        }
}

/* Persist objects.json; cb (may be NULL) on the loop once written. */
static void networks_save(struct berth_daemon *d, berth_done_cb cb, void *data)
{
        struct berth_networks *ns = d->networks;
        struct save_waiter *sw = xcalloc(1, sizeof(*sw)), **p = &ns->waiting;

        sw->cb = cb;
        sw->data = data;
        while (*p)
                p = &(*p)->next;
        *p = sw;
        if (!ns->saving)
                save_start(ns);
}

/* ---- open / close ---- */

static void add_predefined(struct berth_daemon *d, bool *changed)
{
        struct berth_networks *ns = d->networks;
        static const char *const names[][2] = { { "bridge", "bridge" }, { "host", "host" }, { "none", "null" } };
        struct network *w;

        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                w = by_name(ns, names[i][0]);
                if (!w) {
                        w = network_new(names[i][0], names[i][1]);
                        network_link(ns, w);
                        *changed = true;
                }
                w->predefined = true;
                if (strcmp(w->driver, names[i][1])) {
                        free(w->driver);
                        w->driver = xstrdup(names[i][1]);
                }
        }
        /* the default bridge's view follows the daemon's configuration */
        w = by_name(ns, "bridge");
        cJSON_Delete(w->options);
        w->options = cJSON_CreateObject();
        cJSON_AddStringToObject(w->options, "com.docker.network.bridge.default_bridge", "true");
        cJSON_AddStringToObject(w->options, "com.docker.network.bridge.enable_icc", "true");
        cJSON_AddStringToObject(w->options, "com.docker.network.bridge.enable_ip_masquerade", "true");
        cJSON_AddStringToObject(w->options, "com.docker.network.bridge.host_binding_ipv4", "0.0.0.0");
        cJSON_AddStringToObject(w->options, "com.docker.network.bridge.name", DEFAULT_BRIDGE);
        {
                char mtu[16];
                snprintf(mtu, sizeof(mtu), "%d", d->cfg.mtu > 0 ? d->cfg.mtu : 1500);
                cJSON_AddStringToObject(w->options, "com.docker.network.driver.mtu", mtu);
        }
        if (!w->in_net) {
                cJSON *cfg = cJSON_CreateArray();
                char sub[NET_CIDR_MAX], gw[NET_ADDR_MAX];
                struct berth_err e2 = BERTH_ERR_INIT;
                if (d->cfg.bip && net_cidr_split(d->cfg.bip, sub, sizeof(sub), gw, sizeof(gw), &e2) == 0) {
                        cJSON *o = cJSON_CreateObject();
                        cJSON_AddStringToObject(o, "Subnet", sub);
                        if (d->cfg.fixed_cidr)
                                cJSON_AddStringToObject(o, "IPRange", d->cfg.fixed_cidr);
                        cJSON_AddStringToObject(o, "Gateway", gw);
                        cJSON_AddItemToArray(cfg, o);
                }
                if (d->cfg.ipv6 && d->cfg.fixed_cidr_v6) {
                        cJSON *o = cJSON_CreateObject();
                        cJSON_AddStringToObject(o, "Subnet", d->cfg.fixed_cidr_v6);
                        cJSON_AddItemToArray(cfg, o);
                }
                cJSON_Delete(w->ipam_config);
                w->ipam_config = cfg;
                w->ipv6 = d->cfg.ipv6;
        }
}

/* Reconcile our objects with net/'s networks and endpoints (startup). */
static void reconcile(struct berth_daemon *d, bool *changed)
{
        struct berth_networks *ns = d->networks;
        const char *names[1024];
        size_t n = net_network_list(d->net, names, ARRAY_SIZE(names));
        _cleanup_free_ char **copy = xcalloc(n + 1, sizeof(*copy));

        for (size_t i = 0; i < n && i < ARRAY_SIZE(names); i++)
                copy[i] = xstrdup(names[i]);
        for (size_t i = 0; copy[i]; i++) {
                struct net_network_info info;
                struct berth_err err = BERTH_ERR_INIT;
                struct network *w = by_name(ns, copy[i]);
                const char **cids;
                size_t ne;
                if (net_network_get(d->net, copy[i], &info, &err) < 0) {
                        free(copy[i]);
                        continue;
                }
                if (!w) {
                        /* made by net/ but never recorded here (a crash): adopt */
                        w = network_new(copy[i], net_driver_name(info.driver));
                        if (is_hex64(info.id)) {
                                memcpy(w->id, info.id, 64);
                                w->id[64] = 0;
                        }
                        network_link(ns, w);
                        *changed = true;
                }
                w->in_net = true;
                ipam_from_info(w, &info);
                ne = net_network_endpoints(d->net, copy[i], NULL, 0);
                cids = xcalloc(ne + 1, sizeof(*cids));
                ne = net_network_endpoints(d->net, copy[i], cids, ne);
                /* endpoints: net/ is the truth */
                for (size_t j = 0; j < ne; j++) {
                        struct endpoint *e = ep_find(w, cids[j]);
                        if (!e) {
                                e = ep_add(w, cids[j]);
                                *changed = true;
                        }
                        (void)net_endpoint_get(d->net, copy[i], cids[j], &e->info, &err);
                }
                for (size_t j = 0; j < w->n_eps;) {
                        bool found = false;
                        for (size_t k = 0; k < ne; k++)
                                found = found || !strcmp(cids[k], w->eps[j].container_id);
                        if (found) {
                                j++;
                                continue;
                        }
                        ep_del(w, w->eps[j].container_id);
                        *changed = true;
                }
                free(cids);
                free(copy[i]);
        }
        /* user-defined networks net/ does not have: lost in a crash */
        for (struct network *w = ns->head, *next; w; w = next) {
                next = w->next;
                if (w->predefined || w->in_net || !uses_net(w))
                        continue;
                log_warn("networks: network '%s' is missing from the networking state: dropped", w->name);
                network_unlink(ns, w);
                network_free(w);
                *changed = true;
        }
}

static const char **pools_from_cfg(const cJSON *arr, size_t *ret_n)
{
        const cJSON *p;
        const char **out;
        size_t n = 0;

        *ret_n = 0;
        if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
                return NULL;
        out = xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*out));
        cJSON_ArrayForEach(p, arr) {
                const char *base = berth_json_str(p, "base");
                const cJSON *size = cJSON_GetObjectItemCaseSensitive(p, "size");
                if (base && cJSON_IsNumber(size))
                        out[n++] = xasprintf("%s/%d", base, size->valueint);
        }
        *ret_n = n;
        return out;
}

int berth_networks_open(struct berth_daemon *d, struct berth_err *err)
{
        struct berth_networks *ns = xcalloc(1, sizeof(*ns));
        _cleanup_free_ char *dir = xasprintf("%s/network", d->cfg.data_root);
        struct berth_err e2 = BERTH_ERR_INIT;
        struct net_options opt = { 0 };
        const char **pools;
        size_t n_pools;
        bool changed = false;
        int r;

        ns->d = d;
        ns->path = xasprintf("%s/" OBJECTS_FILE, dir);
        d->networks = ns;
        r = berth_mkdir_p(dir, 0700);
        if (r < 0)
                return berth_err_set(err, -r, "mkdir '%s': %s", dir, strerror(-r));
        r = load_objects(ns, err);
        if (r < 0)
                return r;
        pools = pools_from_cfg(d->cfg.default_address_pools, &n_pools);
        opt.state_dir = dir;
        opt.no_nft = !d->cfg.iptables;
        opt.no_proxy = !d->cfg.userland_proxy;
        opt.no_ip_forward = !d->cfg.ip_forward;
        opt.loop = d->loop;
        opt.pools = pools;
        opt.n_pools = n_pools;
        r = net_new(&opt, &d->net, &e2);
        for (size_t i = 0; i < n_pools; i++)
                free((char *)pools[i]);
        free(pools);
        if (r < 0) {
                /* berthd still serves everything else; network calls answer 500 */
                log_error("networks: networking unavailable: %s", e2.msg);
                d->net = NULL;
        } else {
                reconcile(d, &changed);
        }
        add_predefined(d, &changed);
        if (changed || access(ns->path, F_OK) < 0) {
                _cleanup_free_ char *text = snapshot(ns);
                r = berth_write_file_atomic(ns->path, text, strlen(text), 0600, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

void berth_networks_close(struct berth_daemon *d)
{
        struct berth_networks *ns = d->networks;

        /* the loop has stopped: no job is running */
        d->net = net_free(d->net);
        if (!ns)
                return;
        for (struct network *w = ns->head, *next; w; w = next) {
                next = w->next;
                network_free(w);
        }
        while (ns->waiting) {
                struct save_waiter *sw = ns->waiting;
                ns->waiting = sw->next;
                free(sw);
        }
        free(ns->save_text);
        free(ns->path);
        free(ns);
        d->networks = NULL;
}

/* ---- lookups and JSON for the API ---- */

int berth_network_resolve(struct berth_daemon *d, const char *ref, const char **ret_name,
                          const char **ret_id, const char **ret_driver, struct berth_err *err)
{
        struct network *w = find(d->networks, ref, err);

        if (!w)
                return -err->code;
        if (ret_name)
                *ret_name = w->name;
        if (ret_id)
                *ret_id = w->id;
        if (ret_driver)
                *ret_driver = w->driver;
        return 0;
}

int berth_network_inspect_json(struct berth_daemon *d, const char *ref, cJSON **ret, struct berth_err *err)
{
        struct network *w = find(d->networks, ref, err);

        if (!w)
                return -err->code;
        *ret = network_json(d, w);
        return 0;
}

/* Every network (filters are applied by api/networks.c on the JSON). */
cJSON *berth_networks_list_json(struct berth_daemon *d)
{
        cJSON *arr = cJSON_CreateArray();

        for (struct network *w = d->networks->head; w; w = w->next)
                if (!w->creating)
                        cJSON_AddItemToArray(arr, network_json(d, w));
        return arr;
}

/* ---- completion helpers ---- */

static int need_net(struct berth_daemon *d, struct berth_err *err)
{
        if (d->net)
                return 0;
        return berth_err_set(err, EIO, "networking is unavailable (see the daemon log)");
}

/* ---- create ---- */

struct create_job {
        struct berth_daemon *d;
        struct network *w;
        char id[65];
        struct net_network_config cfg;
        char *s[10];                    /* owned strings of cfg */
        struct net_network_info info;
        berth_net_created_cb cb;
        void *data;
        int status;
        struct berth_err err;
};

static void create_job_free(struct create_job *j)
{
        for (size_t i = 0; i < ARRAY_SIZE(j->s); i++)
                free(j->s[i]);
        free(j);
}

static int create_fn(struct net *n, void *data, struct berth_err *err)
{
        struct create_job *j = data;
        int r = net_network_create(n, &j->cfg, err);

        if (r >= 0)
                r = net_network_get(n, j->cfg.name, &j->info, err);
        return r;
}

static void create_saved(int status, const struct berth_err *err, void *data)
{
        struct create_job *j = data;

        (void)status;
        j->cb(0, err, j->id, j->data);
        create_job_free(j);
}

static void create_done(void *data, int status, const struct berth_err *err)
{
        struct create_job *j = data;
        struct berth_networks *ns = j->d->networks;
        struct network *w = j->w;

        if (status < 0) {
                struct berth_err e = *err;
                network_unlink(ns, w);
                network_free(w);
                /* the name was checked: EEXIST from net/ is a subnet overlap
                 * or a bridge name in use, which Docker reports as bad input */
                if (e.code == EEXIST)
                        e.code = EINVAL;
                j->cb(status == -EEXIST ? -EINVAL : status, &e, NULL, j->data);
                create_job_free(j);
                return;
        }
        w->creating = false;
        w->in_net = true;
        ipam_from_info(w, &j->info);
        publish(j->d, w, "create", NULL);
        networks_save(j->d, create_saved, j);
}

static char *jstr(struct create_job *j, size_t slot, const char *s)
{
        if (!s || !*s)
                return NULL;
        j->s[slot] = xstrdup(s);
        return j->s[slot];
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

static int check_bool(const cJSON *b, const char *key, bool *ret, struct berth_err *err)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, key);

        *ret = false;
        if (!v || cJSON_IsNull(v))
                return 0;
        if (!cJSON_IsBool(v))
                return berth_err_pub(err, EINVAL, "json: %s must be a boolean", key);
        *ret = cJSON_IsTrue(v);
        return 0;
}

static bool valid_name(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 128 || !isalnum((unsigned char)s[0]))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
                        return false;
        return true;
}

/* IPAM.Config entries into cfg (one IPv4 and one IPv6 subnet at most). */
static int parse_ipam(struct create_job *j, const cJSON *ipam, struct network *w, struct berth_err *err)
{
        const cJSON *cfgs, *c, *v;
        const char *drv;
        bool have4 = false, have6 = false;

        if (!ipam || cJSON_IsNull(ipam))
                return 0;
        if (!cJSON_IsObject(ipam))
                return berth_err_pub(err, EINVAL, "json: IPAM must be an object");
        drv = berth_json_str(ipam, "Driver");
        if (drv && *drv && strcmp(drv, "default"))
                return berth_err_pub(err, EINVAL, "IPAM driver '%s' is not supported (only 'default')", drv);
        if (check_string_map(ipam, "Options", err) < 0)
                return -EINVAL;
        v = cJSON_GetObjectItemCaseSensitive(ipam, "Options");
        if (cJSON_IsObject(v))
                w->ipam_options = cJSON_Duplicate(v, 1);
        cfgs = cJSON_GetObjectItemCaseSensitive(ipam, "Config");
        if (cfgs && !cJSON_IsNull(cfgs) && !cJSON_IsArray(cfgs))
                return berth_err_pub(err, EINVAL, "json: IPAM.Config must be an array");
        cJSON_ArrayForEach(c, cfgs) {
                const char *sub = berth_json_str(c, "Subnet"), *gw = berth_json_str(c, "Gateway"),
                           *range = berth_json_str(c, "IPRange");
                bool v6;
                if (!cJSON_IsObject(c))
                        return berth_err_pub(err, EINVAL, "json: IPAM.Config entries must be objects");
                if (!sub || !*sub) {
                        if ((gw && *gw) || (range && *range))
                                return berth_err_pub(err, EINVAL,
                                                     "invalid pool request: a gateway or an IP range needs a subnet");
                        continue;
                }
                v6 = strchr(sub, ':') != NULL;
                if (v6 ? have6 : have4)
                        return berth_err_pub(err, EINVAL, "only one IPv%d subnet per network is supported",
                                             v6 ? 6 : 4);
                if (v6) {
                        have6 = true;
                        j->cfg.subnet6 = jstr(j, 3, sub);
                        j->cfg.gateway6 = jstr(j, 4, gw);
                        j->cfg.ip_range6 = jstr(j, 5, range);
                } else {
                        have4 = true;
                        j->cfg.subnet = jstr(j, 0, sub);
                        j->cfg.gateway = jstr(j, 1, gw);
                        j->cfg.ip_range = jstr(j, 2, range);
                }
        }
        if (have6)
                j->cfg.ipv6 = true;
        return 0;
}

int berth_network_create(struct berth_daemon *d, const cJSON *body, berth_net_created_cb cb, void *data,
                         struct berth_err *err)
{
        struct berth_networks *ns = d->networks;
        const char *name = berth_json_str(body, "Name"), *driver = berth_json_str(body, "Driver"), *s;
        const cJSON *opts, *v;
        struct create_job *j;
        struct network *w;
        bool b;
        int r;

        v = cJSON_GetObjectItemCaseSensitive(body, "Name");
        if (v && !cJSON_IsString(v))
                return berth_err_pub(err, EINVAL, "json: Name must be a string");
        if (!name || !*name)
                return berth_err_pub(err, EINVAL, "network name must not be empty");
        if (is_predefined_name(name))
                return berth_err_pub(err, EPERM, "operation is not permitted on predefined %s network", name);
        if (!valid_name(name))
                return berth_err_pub(err, EINVAL,
                                     "invalid network name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed (128 at most)",
                                     name);
        if (by_name(ns, name))
                return berth_err_pub(err, EEXIST, "network with name %s already exists", name);
        v = cJSON_GetObjectItemCaseSensitive(body, "Driver");
        if (v && !cJSON_IsString(v) && !cJSON_IsNull(v))
                return berth_err_pub(err, EINVAL, "json: Driver must be a string");
        if (!driver || !*driver)
                driver = "bridge";
        if (!strcmp(driver, "host") || !strcmp(driver, "null"))
                return berth_err_pub(err, EPERM, "only one instance of \"%s\" network is allowed", driver);
        if (strcmp(driver, "bridge") && strcmp(driver, "macvlan"))
                return berth_err_pub(err, ENOENT, "plugin \"%s\" not found", driver);
        if (check_string_map(body, "Options", err) < 0 || check_string_map(body, "Labels", err) < 0)
                return -EINVAL;
        if (check_bool(body, "ConfigOnly", &b, err) < 0)
                return -EINVAL;
        if (b)
                return berth_err_pub(err, EINVAL, "config-only networks are not supported");
        if (check_bool(body, "Ingress", &b, err) < 0)
                return -EINVAL;
        if (b)
                return berth_err_pub(err, EINVAL, "ingress networks need swarm mode, which berth does not have");
        v = cJSON_GetObjectItemCaseSensitive(body, "ConfigFrom");
        if (cJSON_IsObject(v) && (s = berth_json_str(v, "Network")) && *s)
                return berth_err_pub(err, EINVAL, "config-only networks are not supported");
        r = need_net(d, err);
        if (r < 0)
                return r;

        w = network_new(name, driver);
        j = xcalloc(1, sizeof(*j));
        j->d = d;
        j->w = w;
        j->cb = cb;
        j->data = data;
        snprintf(j->id, sizeof(j->id), "%s", w->id);
        j->cfg.name = w->name;
        j->cfg.id = w->id;
        j->cfg.driver = !strcmp(driver, "macvlan") ? NET_DRIVER_MACVLAN : NET_DRIVER_BRIDGE;
        r = check_bool(body, "Internal", &w->internal, err);
        if (r >= 0)
                r = check_bool(body, "Attachable", &w->attachable, err);
        if (r >= 0)
                r = check_bool(body, "EnableIPv6", &b, err);
        j->cfg.internal = w->internal;
        j->cfg.ipv6 = b;
        if (r >= 0)
                r = parse_ipam(j, cJSON_GetObjectItemCaseSensitive(body, "IPAM"), w, err);
        if (r >= 0 && j->cfg.ipv6 && !j->cfg.subnet6)
                r = berth_err_pub(err, EINVAL, "an IPv6 network needs an IPv6 subnet (--subnet with an IPv6 CIDR)");
        opts = cJSON_GetObjectItemCaseSensitive(body, "Options");
        if (r >= 0 && cJSON_IsObject(opts)) {
                cJSON_Delete(w->options);
                w->options = cJSON_Duplicate(opts, 1);
                j->cfg.bridge_name = jstr(j, 6, berth_json_str(opts, "com.docker.network.bridge.name"));
                j->cfg.parent = jstr(j, 7, berth_json_str(opts, "parent"));
                j->cfg.macvlan_mode = jstr(j, 8, berth_json_str(opts, "macvlan_mode"));
                s = berth_json_str(opts, "com.docker.network.driver.mtu");
                if (s && *s) {
                        int64_t mtu;
                        if (berth_parse_int64(s, &mtu) < 0 || mtu < 68 || mtu > 65535)
                                r = berth_err_pub(err, EINVAL, "invalid MTU '%s': must be a number in 68..65535", s);
                        else
                                j->cfg.mtu = (int)mtu;
                }
                if (r >= 0 && j->cfg.bridge_name && strlen(j->cfg.bridge_name) >= NET_IFNAME_MAX)
                        r = berth_err_pub(err, EINVAL, "bridge name '%s' is too long (15 characters at most)",
                                          j->cfg.bridge_name);
                s = berth_json_str(opts, "com.docker.network.internal");
                if (r >= 0 && s && berth_parse_bool(s))
                        j->cfg.internal = w->internal = true;
        }
        if (r >= 0 && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(body, "Labels"))) {
                cJSON_Delete(w->labels);
                w->labels = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(body, "Labels"), 1);
        }
        if (r >= 0) {
                w->creating = true;
                network_link(ns, w);
                realize_default_bridge(d);
                r = net_queue(d->net, create_fn, create_done, j, err);
                if (r < 0)
                        network_unlink(ns, w);
        }
        if (r < 0) {
                network_free(w);
                create_job_free(j);
                return r;
        }
        return 0;
}

/* ---- remove and prune ---- */

struct remove_job {
        struct berth_daemon *d;
        struct network **ws;
        char **names;
        int *rc;
        size_t n;
        bool prune;
        berth_done_cb cb;
        berth_net_pruned_cb pcb;
        void *data;
        cJSON *deleted;
        struct berth_err first;
};

static void remove_job_free(struct remove_job *j)
{
        for (size_t i = 0; i < j->n; i++)
                free(j->names[i]);
        free(j->names);
        free(j->ws);
        free(j->rc);
        cJSON_Delete(j->deleted);
        free(j);
}

static int remove_fn(struct net *n, void *data, struct berth_err *err)
{
        struct remove_job *j = data;
        int ret = 0;

        for (size_t i = 0; i < j->n; i++) {
                struct berth_err e = BERTH_ERR_INIT;
                if (!j->names[i]) {
                        j->rc[i] = 0;
                        continue;
                }
                j->rc[i] = net_network_remove(n, j->names[i], &e);
                if (j->rc[i] == -ENOENT)
                        j->rc[i] = 0;   /* already gone from net/ */
                if (j->rc[i] < 0 && ret == 0) {
                        ret = j->rc[i];
                        *err = e;
                }
        }
        return j->prune ? 0 : ret;
}

static void remove_saved(int status, const struct berth_err *err, void *data)
{
        struct remove_job *j = data;

        (void)status;
        if (j->prune)
                j->pcb(0, err, TAKE_PTR(j->deleted), j->data);
        else
                j->cb(0, err, j->data);
        remove_job_free(j);
}

static void remove_done(void *data, int status, const struct berth_err *err)
{
        struct remove_job *j = data;
        struct berth_networks *ns = j->d->networks;

        for (size_t i = 0; i < j->n; i++) {
                struct network *w = j->ws[i];
                if (status == -ECANCELED || j->rc[i] < 0) {
                        w->removing = false;
                        if (j->rc[i] < 0)
                                log_warn("networks: removing '%s': %s", w->name, err->msg);
                        continue;
                }
                publish(j->d, w, "destroy", NULL);
                berth_sandbox_network_removed(j->d, w->name);
                cJSON_AddItemToArray(j->deleted, cJSON_CreateString(w->name));
                network_unlink(ns, w);
                network_free(w);
        }
        if (!j->prune && status < 0) {
                j->cb(status, err, j->data);
                remove_job_free(j);
                return;
        }
        if (j->prune)
                berth_events_publish(j->d->events, "network", "prune", "", NULL);
        networks_save(j->d, remove_saved, j);
}

static int remove_check(struct network *w, struct berth_err *err)
{
        if (w->predefined)
                return berth_err_pub(err, EPERM, "%s is a pre-defined network and cannot be removed", w->name);
        if (w->n_eps > 0 || w->busy > 0)
                return berth_err_pub(err, EBUSY, "error while removing network: network %s id %s has active endpoints",
                                     w->name, w->id);
        if (w->removing)
                return berth_err_pub(err, EBUSY, "network %s is already being removed", w->name);
        return 0;
}

static int remove_queue(struct berth_daemon *d, struct remove_job *j, struct berth_err *err)
{
        int r;

        j->deleted = cJSON_CreateArray();
        for (size_t i = 0; i < j->n; i++)
                j->ws[i]->removing = true;
        if (!d->net) {
                /* nothing of these is in net/ (it never opened) */
                remove_done(j, 0, err);
                return 0;
        }
        r = net_queue(d->net, remove_fn, remove_done, j, err);
        if (r < 0)
                for (size_t i = 0; i < j->n; i++)
                        j->ws[i]->removing = false;
        return r;
}

int berth_network_remove(struct berth_daemon *d, const char *ref, berth_done_cb cb, void *data,
                         struct berth_err *err)
{
        struct network *w = find(d->networks, ref, err);
        struct remove_job *j;
        int r;

        if (!w)
                return -err->code;
        r = remove_check(w, err);
        if (r < 0)
                return r;
        if (!d->net && w->in_net)
                return need_net(d, err);
        j = xcalloc(1, sizeof(*j));
        j->d = d;
        j->cb = cb;
        j->data = data;
        j->n = 1;
        j->ws = xcalloc(1, sizeof(*j->ws));
        j->names = xcalloc(1, sizeof(*j->names));
        j->rc = xcalloc(1, sizeof(*j->rc));
        j->ws[0] = w;
        j->names[0] = w->in_net ? xstrdup(w->name) : NULL;
        r = remove_queue(d, j, err);
        if (r < 0)
                remove_job_free(j);
        return r;
}

/* Remove the unused user-defined networks among ids (the API selects them
 * with the filters); cb gets the array of removed names. */
int berth_networks_prune(struct berth_daemon *d, const cJSON *ids, berth_net_pruned_cb cb, void *data,
                         struct berth_err *err)
{
        struct remove_job *j = xcalloc(1, sizeof(*j));
        size_t max = (size_t)cJSON_GetArraySize(ids);
        const cJSON *v;
        int r;

        j->d = d;
        j->prune = true;
        j->pcb = cb;
        j->data = data;
        j->ws = xcalloc(max + 1, sizeof(*j->ws));
        j->names = xcalloc(max + 1, sizeof(*j->names));
        j->rc = xcalloc(max + 1, sizeof(*j->rc));
        cJSON_ArrayForEach(v, ids) {
                struct berth_err e = BERTH_ERR_INIT;
                struct network *w = cJSON_IsString(v) ? find(d->networks, v->valuestring, &e) : NULL;
                bool dup = false;
                if (!w || remove_check(w, &e) < 0 || (!d->net && w->in_net))
                        continue;
                for (size_t i = 0; i < j->n; i++)
                        dup = dup || j->ws[i] == w;
                if (dup)
                        continue;
                j->ws[j->n] = w;
                j->names[j->n] = w->in_net ? xstrdup(w->name) : NULL;
                j->n++;
        }
        r = remove_queue(d, j, err);
        if (r < 0)
                remove_job_free(j);
        return r;
}

/* ---- endpoints ---- */

struct ep_job {
        struct berth_daemon *d;
        size_t n;
        struct network **ws;            /* busy held on each */
        char **names;                   /* net/ names, NULL: not in net/ */
        int *rc;
        char cid[65];
        char *cname, *netns, *ip, *ip6, *mac;
        cJSON *aliases;
        bool attach;
        /* the first attach to the default bridge creates it */
        bool realize;
        struct net_network_config rcfg;
        char subnet[NET_CIDR_MAX], gateway[NET_ADDR_MAX];
        char *range, *subnet6;          /* copies of the daemon's config */
        struct net_network_info ninfo;
        struct net_endpoint_info info;
        /* net/'s job and the objects.json save run at once: cb after both */
        int waits;
        int status;
        struct berth_err err;
        berth_done_cb cb;
        void *data;
};

static void ep_job_free(struct ep_job *j)
{
        for (size_t i = 0; i < j->n; i++) {
                j->ws[i]->busy--;
                free(j->names[i]);
        }
        free(j->ws);
        free(j->names);
        free(j->rc);
        free(j->cname);
        free(j->netns);
        free(j->ip);
        free(j->ip6);
        free(j->mac);
        free(j->range);
        free(j->subnet6);
        cJSON_Delete(j->aliases);
        free(j);
}

static struct ep_job *ep_job_new(struct berth_daemon *d, size_t n, const char *cid, berth_done_cb cb, void *data)
{
        struct ep_job *j = xcalloc(1, sizeof(*j));

        j->d = d;
        j->ws = xcalloc(n + 1, sizeof(*j->ws));
        j->names = xcalloc(n + 1, sizeof(*j->names));
        j->rc = xcalloc(n + 1, sizeof(*j->rc));
        snprintf(j->cid, sizeof(j->cid), "%s", cid);
        j->cb = cb;
        j->data = data;
        return j;
}

static void ep_job_add(struct ep_job *j, struct network *w)
{
        j->ws[j->n] = w;
        j->names[j->n] = uses_net(w) && w->in_net ? xstrdup(w->name) : NULL;
        j->n++;
        w->busy++;
}

/* The predefined bridge's net/ config (berth0 from --bip, --fixed-cidr,
 * --fixed-cidr-v6, --mtu); *range and *subnet6 are new strings. */
static int default_bridge_config(struct berth_daemon *d, const struct network *w, struct net_network_config *cfg,
                                 char subnet[NET_CIDR_MAX], char gateway[NET_ADDR_MAX], char **range,
                                 char **subnet6, struct berth_err *err)
{
        const struct berth_config *c = &d->cfg;

        memset(cfg, 0, sizeof(*cfg));
        cfg->name = w->name;
        cfg->id = w->id;
        cfg->driver = NET_DRIVER_BRIDGE;
        cfg->default_bridge = true;
        cfg->bridge_name = DEFAULT_BRIDGE;
        cfg->mtu = c->mtu > 0 ? c->mtu : 0;
        if (c->bip) {
                if (net_cidr_split(c->bip, subnet, NET_CIDR_MAX, gateway, NET_ADDR_MAX, err) < 0)
                        return berth_err_wrap(err, "bip");
                cfg->subnet = subnet;
                cfg->gateway = gateway;
        }
        *range = c->fixed_cidr ? xstrdup(c->fixed_cidr) : NULL;
        *subnet6 = c->ipv6 && c->fixed_cidr_v6 ? xstrdup(c->fixed_cidr_v6) : NULL;
        cfg->ip_range = *range;
        cfg->ipv6 = *subnet6 != NULL;
        cfg->subnet6 = *subnet6;
        return 0;
}

/* The default bridge is made before the first user network, so that it
 * gets its subnet (172.17.0.0/16 unless --bip) as Docker's docker0 does,
 * rather than the first user network taking it. */
struct realize_job {
        struct berth_daemon *d;
        struct net_network_config cfg;
        char subnet[NET_CIDR_MAX], gateway[NET_ADDR_MAX];
        char *range, *subnet6;
        struct net_network_info info;
};

static int realize_fn(struct net *n, void *data, struct berth_err *err)
{
        struct realize_job *j = data;
        struct berth_err e = BERTH_ERR_INIT;
        int r;

        if (net_network_get(n, j->cfg.name, &j->info, &e) == 0)
                return 0;
        r = net_network_create(n, &j->cfg, err);
        if (r < 0)
                return berth_err_wrap(err, "default bridge network");
        return net_network_get(n, j->cfg.name, &j->info, err);
}

static void realize_done(void *data, int status, const struct berth_err *err)
{
        struct realize_job *j = data;
        struct network *w = by_name(j->d->networks, "bridge");

        if (status < 0)
                log_warn("networks: the default bridge: %s", err->msg);
        else if (w && !w->in_net) {
                w->in_net = true;
                ipam_from_info(w, &j->info);
        }
        if (w)
                w->busy--;
        free(j->range);
        free(j->subnet6);
        free(j);
}

static void realize_default_bridge(struct berth_daemon *d)
{
        struct network *w = by_name(d->networks, "bridge");
        struct realize_job *j;
        struct berth_err err = BERTH_ERR_INIT;

        if (!w || w->in_net || w->busy > 0 || !d->net)
                return;
        j = xcalloc(1, sizeof(*j));
        j->d = d;
        if (default_bridge_config(d, w, &j->cfg, j->subnet, j->gateway, &j->range, &j->subnet6, &err) < 0 ||
            net_queue(d->net, realize_fn, realize_done, j, &err) < 0) {
                log_warn("networks: the default bridge: %s", err.msg);
                free(j->range);
                free(j->subnet6);
                free(j);
                return;
        }
        w->busy++;
}

static int attach_fn(struct net *n, void *data, struct berth_err *err)
{
        struct ep_job *j = data;
        struct net_endpoint_config c = {
                .container_id = j->cid,
                .netns_fd = -1,
                .netns_path = j->netns,
                .ip = j->ip,
                .ip6 = j->ip6,
                .mac = j->mac,
        };
        int r;

        if (j->realize) {
                struct berth_err e = BERTH_ERR_INIT;
                if (net_network_get(n, j->rcfg.name, &j->ninfo, &e) < 0) {
                        r = net_network_create(n, &j->rcfg, err);
                        if (r < 0)
                                return berth_err_wrap(err, "default bridge network");
                        r = net_network_get(n, j->rcfg.name, &j->ninfo, err);
                        if (r < 0)
                                return r;
                }
        }
        return net_endpoint_attach(n, j->ws[0]->name, &c, &j->info, err);
}

static void ep_saved(int status, const struct berth_err *err, void *data)
{
        struct ep_job *j = data;

        (void)status;
        j->cb(0, err, j->data);
        ep_job_free(j);
}

static void attach_record(struct ep_job *j)
{
        struct network *w = j->ws[0];
        struct endpoint *e = ep_add(w, j->cid);

        e->info = j->info;
        e->name = j->cname ? xstrdup(j->cname) : NULL;
        e->aliases = TAKE_PTR(j->aliases);
        publish(j->d, w, "connect", j->cid);
        networks_save(j->d, ep_saved, j);
}

/* one of the two halves of an attach or detach ended */
static void ep_job_join(struct ep_job *j)
{
        if (--j->waits > 0)
                return;
        j->cb(j->status, &j->err, j->data);
        ep_job_free(j);
}

static void ep_job_saved(int status, const struct berth_err *err, void *data)
{
        (void)status;
        (void)err;              /* logged by the saver; net/ holds the truth */
        ep_job_join(data);
}

static void attach_done(void *data, int status, const struct berth_err *err)
{
        struct ep_job *j = data;
        struct network *w = j->ws[0];
        struct endpoint *e = ep_find_any(w, j->cid);

        if (j->realize && j->ninfo.name[0]) {
                w->in_net = true;
                ipam_from_info(w, &j->ninfo);
        }
        if (status < 0) {
                j->status = status;
                j->err = *err;
                if (e && e->pending) {
                        ep_del(w, j->cid);
                        networks_save(j->d, NULL, NULL);
                }
        } else if (e) {
                e->info = j->info;
                e->pending = false;
                publish(j->d, w, "connect", j->cid);
        }
        ep_job_join(j);
}

int berth_network_attach(struct berth_daemon *d, const char *network, const struct berth_endpoint_req *req,
                         berth_done_cb cb, void *data, struct berth_err *err)
{
        struct network *w = find(d->networks, network, err);
        struct ep_job *j;
        int r;

        if (!w)
                return -err->code;
        if (!req || !req->container_id || !*req->container_id || strlen(req->container_id) > 64)
                return berth_err_set(err, EINVAL, "attach: a container id is needed");
        if (w->removing)
                return berth_err_pub(err, ENOENT, "network %s not found", network);
        if (ep_find_any(w, req->container_id))
                return berth_err_pub(err, EEXIST, "endpoint with name %s already exists in network %s",
                                     req->container_name ? req->container_name : req->container_id, w->name);
        if (req->aliases && !cJSON_IsArray(req->aliases))
                return berth_err_set(err, EINVAL, "attach: aliases must be an array");
        if (uses_net(w)) {
                r = need_net(d, err);
                if (r < 0)
                        return r;
                if (!req->netns_path)
                        return berth_err_set(err, EINVAL, "attach to '%s': the container has no network namespace",
                                             w->name);
        }
        j = ep_job_new(d, 1, req->container_id, cb, data);
        j->attach = true;
        j->cname = req->container_name ? xstrdup(req->container_name) : NULL;
        j->netns = req->netns_path ? xstrdup(req->netns_path) : NULL;
        j->ip = req->ip && *req->ip ? xstrdup(req->ip) : NULL;
        j->ip6 = req->ip6 && *req->ip6 ? xstrdup(req->ip6) : NULL;
        j->mac = req->mac && *req->mac ? xstrdup(req->mac) : NULL;
        j->aliases = req->aliases ? cJSON_Duplicate(req->aliases, 1) : NULL;
        ep_job_add(j, w);
        if (!uses_net(w)) {
                /* host / none: nothing to plumb; recorded after a save */
                attach_record(j);
                return 0;
        }
        if (w->predefined && !w->in_net) {
                j->realize = true;
                r = default_bridge_config(d, w, &j->rcfg, j->subnet, j->gateway, &j->range, &j->subnet6, err);
                if (r < 0) {
                        ep_job_free(j);
                        return r;
                }
        }
        r = net_queue(d->net, attach_fn, attach_done, j, err);
        if (r < 0) {
                ep_job_free(j);
                return r;
        }
        /* objects.json gets the endpoint while net/ plumbs it */
        {
                struct endpoint *e = ep_add(w, j->cid);
                e->pending = true;
                e->name = j->cname ? xstrdup(j->cname) : NULL;
                e->aliases = TAKE_PTR(j->aliases);
        }
        j->waits = 2;
        networks_save(d, ep_job_saved, j);
        return 0;
}

static int detach_fn(struct net *n, void *data, struct berth_err *err)
{
        struct ep_job *j = data;
        int ret = 0;

        for (size_t i = 0; i < j->n; i++) {
                struct berth_err e = BERTH_ERR_INIT;
                if (!j->names[i])
                        continue;
                j->rc[i] = net_endpoint_detach(n, j->names[i], j->cid, -1, j->netns, &e);
                if (j->rc[i] == -ENOENT)
                        j->rc[i] = 0;   /* net/ never had it: drop our record too */
                if (j->rc[i] < 0 && ret == 0) {
                        ret = j->rc[i];
                        *err = e;
                }
        }
        return ret;
}

static void detach_done(void *data, int status, const struct berth_err *err)
{
        struct ep_job *j = data;
        bool resave = false;

        for (size_t i = 0; i < j->n; i++) {
                struct network *w = j->ws[i];
                struct endpoint *e = ep_find(w, j->cid);
                if (!e)
                        continue;
                if (status == -ECANCELED || j->rc[i] < 0) {
                        /* still attached: back into objects.json */
                        resave = resave || e->leaving;
                        e->leaving = false;
                        continue;
                }
                ep_del(w, j->cid);
                publish(j->d, w, "disconnect", j->cid);
        }
        if (resave)
                networks_save(j->d, NULL, NULL);
        if (status < 0) {
                j->status = status;
                j->err = *err;
        }
        ep_job_join(j);
}

/* objects.json loses the endpoints while net/ unplumbs them */
static void detach_save(struct berth_daemon *d, struct ep_job *j)
{
        for (size_t i = 0; i < j->n; i++) {
                struct endpoint *e = ep_find(j->ws[i], j->cid);
                if (e)
                        e->leaving = true;
        }
        j->waits = 2;
        networks_save(d, ep_job_saved, j);
}

static int detach_queue(struct berth_daemon *d, struct ep_job *j, struct berth_err *err)
{
        bool any = false;
        int r;

        for (size_t i = 0; i < j->n; i++)
                any = any || j->names[i];
        if (!any) {
                detach_save(d, j);
                detach_done(j, 0, err);
                return 0;
        }
        r = need_net(d, err);
        if (r >= 0)
                r = net_queue(d->net, detach_fn, detach_done, j, err);
        if (r >= 0)
                detach_save(d, j);
        return r;
}

int berth_network_detach(struct berth_daemon *d, const char *network, const char *container_id,
                         const char *netns_path, berth_done_cb cb, void *data, struct berth_err *err)
{
        struct network *w = find(d->networks, network, err);
        struct ep_job *j;
        int r;

        if (!w)
                return -err->code;
        if (!ep_find(w, container_id))
                return berth_err_pub(err, ENOENT, "container %s is not connected to network %s", container_id,
                                     w->name);
        j = ep_job_new(d, 1, container_id, cb, data);
        j->netns = netns_path ? xstrdup(netns_path) : NULL;
        ep_job_add(j, w);
        r = detach_queue(d, j, err);
        if (r < 0)
                ep_job_free(j);
        return r;
}

int berth_network_release_container(struct berth_daemon *d, const char *container_id, berth_done_cb cb,
                                    void *data, struct berth_err *err)
{
        size_t n = 0;
        struct ep_job *j;
        int r;

        for (struct network *w = d->networks->head; w; w = w->next)
                n += ep_find(w, container_id) != NULL;
        j = ep_job_new(d, n, container_id, cb, data);
        for (struct network *w = d->networks->head; w; w = w->next)
                if (ep_find(w, container_id))
                        ep_job_add(j, w);
        r = detach_queue(d, j, err);
        if (r < 0)
                ep_job_free(j);
        return r;
}

cJSON *berth_network_settings_networks(struct berth_daemon *d, const char *container_id)
{
        cJSON *o = cJSON_CreateObject();

        for (struct network *w = d->networks->head; w; w = w->next) {
                const struct endpoint *e = ep_find(w, container_id);
                cJSON *n;
                if (!e)
                        continue;
                n = cJSON_AddObjectToObject(o, w->name);
                cJSON_AddNullToObject(n, "IPAMConfig");
                cJSON_AddNullToObject(n, "Links");
                cJSON_AddItemToObject(n, "Aliases", e->aliases ? cJSON_Duplicate(e->aliases, 1) : cJSON_CreateNull());
                cJSON_AddStringToObject(n, "NetworkID", w->id);
                cJSON_AddStringToObject(n, "EndpointID", e->endpoint_id);
                cJSON_AddStringToObject(n, "Gateway", e->info.gateway);
                cJSON_AddStringToObject(n, "IPAddress", e->info.ip);
                cJSON_AddNumberToObject(n, "IPPrefixLen", e->info.ip[0] ? e->info.prefix : 0);
                cJSON_AddStringToObject(n, "IPv6Gateway", e->info.gateway6);
                cJSON_AddStringToObject(n, "GlobalIPv6Address", e->info.ip6);
                cJSON_AddNumberToObject(n, "GlobalIPv6PrefixLen", e->info.ip6[0] ? e->info.prefix6 : 0);
                cJSON_AddStringToObject(n, "MacAddress", e->info.mac);
                cJSON_AddNullToObject(n, "DriverOpts");
                if (uses_net(w)) {
                        /* API 1.44: the names the container resolves by */
                        cJSON *dn = cJSON_AddArrayToObject(n, "DNSNames"), *a;
                        char short_id[13];
                        const char *cn = ctr_name(d, e);
                        if (*cn)
                                cJSON_AddItemToArray(dn, cJSON_CreateString(cn));
                        cJSON_ArrayForEach(a, e->aliases) if (cJSON_IsString(a))
                                cJSON_AddItemToArray(dn, cJSON_CreateString(a->valuestring));
                        snprintf(short_id, sizeof(short_id), "%.12s", e->container_id);
                        cJSON_AddItemToArray(dn, cJSON_CreateString(short_id));
                } else {
                        cJSON_AddNullToObject(n, "DNSNames");
                }
        }
        return o;
}

int berth_network_brief(struct berth_daemon *d, const char *ref, struct berth_network_brief *ret,
                        struct berth_err *err)
{
        struct network *w = find(d->networks, ref, err);
        const cJSON *o;

        if (!w)
                return -err->code;
        memset(ret, 0, sizeof(*ret));
        ret->name = w->name;
        ret->id = w->id;
        ret->driver = w->driver;
        ret->predefined = w->predefined;
        ret->internal = w->internal;
        ret->ipv6 = w->ipv6;
        ret->uses_net = uses_net(w);
        cJSON_ArrayForEach(o, w->ipam_config) {
                const char *s = berth_json_str(o, "Subnet");
                if (s && *s && ret->n_subnets < ARRAY_SIZE(ret->subnets))
                        ret->subnets[ret->n_subnets++] = s;
        }
        return 0;
}

const struct net_endpoint_info *berth_network_endpoint(struct berth_daemon *d, const char *network,
                                                       const char *container_id)
{
        struct network *w = by_name(d->networks, network);
        const struct endpoint *e = w ? ep_find(w, container_id) : NULL;

        return e ? &e->info : NULL;
}

size_t berth_network_container_networks(struct berth_daemon *d, const char *container_id, const char **names,
                                        size_t max)
{
        size_t n = 0;

        for (struct network *w = d->networks->head; w; w = w->next)
                if (ep_find(w, container_id)) {
                        if (n < max)
                                names[n] = w->name;
                        n++;
                }
        return n;
}
