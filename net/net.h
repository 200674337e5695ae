/* SPDX-License-Identifier: Apache-2.0
 * net/net.h -- container networking: IPAM, bridges, veth pairs, macvlan,
 * nftables NAT, the userland port proxy and /etc/{hosts,hostname,resolv.conf}.
 *
 * Every fallible function returns 0 or a negative errno, fills *err on
 * failure (public errors -- bad input, conflicts -- have err->public set) and
 * never logs.
 *
 * Threads: struct net is not thread-safe; one caller at a time.  Functions
 * that touch the kernel (netlink, nftables) or the disk (state file) are
 * SYNCHRONOUS: an endpoint attach is about 2-3 ms of netlink round trips, a
 * detach 1-2 ms (the kernel unlists the links; the RCU barrier that ends
 * their deletion, tens of ms, runs on net/'s own reaper threads), plus an
 * fsync of the state file (ms to tens of ms).  They do not touch the loop,
 * so berthd runs them off the loop with net_queue() below (netns switching
 * is per thread and restored before return).  The port proxy (net_ports_publish with a
 * loop, net_proxy_*) runs on the loop thread only.
 *
 * Typical use by berthd, between container create and start:
 *
 *   net_new(&opt, &n, &err);                      at startup: loads + reconciles
 *   net_network_create(n, &cfg, &err);            docker network create
 *   net_endpoint_attach(n, "mynet", &ecfg, &info, &err);   before start
 *   net_ports_publish(n, id, maps, nmaps, &err);  before start
 *   net_files_write(dir, &fcfg, &err);            hosts/hostname/resolv.conf
 *   ... net_ports_unpublish(), net_endpoint_detach(), net_network_remove()
 */
#ifndef BERTH_NET_H
#define BERTH_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <uv.h>

#include "lib/lib.h"

#define NET_IFNAME_MAX 16       /* IFNAMSIZ */
#define NET_ADDR_MAX 46         /* INET6_ADDRSTRLEN */
#define NET_CIDR_MAX 50         /* address + "/128" */
#define NET_NAME_MAX 128

struct net;

struct net_options {
        const char *state_dir;          /* data-root/network; created; NULL: no persistence */
        const char *table;              /* nftables table name, default "berth" */
        bool no_nft;                    /* do not manage nftables at all */
        bool no_proxy;                  /* no userland proxy (only DNAT) */
        bool no_ip_forward;             /* never write net.ipv4.ip_forward */
        uv_loop_t *loop;                /* for the userland proxy; NULL: none */
        /* default address pools: "CIDR/size" strings, e.g. "172.17.0.0/16/16";
         * NULL: Docker's (172.17-31.0.0/16, then 192.168.0.0/16 split in /20) */
        const char *const *pools;
        size_t n_pools;
};

/* Open the networking state: read state_dir/networks.json if present (a
 * daemon restart), then reconcile with the kernel: bridges re-created,
 * orphaned host veths removed, the nftables table rebuilt from the state (no
 * duplicate rules).  Proxies are restarted when opt->loop is set. */
int net_new(const struct net_options *opt, struct net **ret, struct berth_err *err);
/* Close proxies and free memory.  Kernel objects stay (live restore), but
 * link deletions under way end first (a few tens of ms at most).
 * NULL-safe; returns NULL.  Loop users must run the loop once afterwards so
 * the proxy handles finish closing (net_free closes them with uv_close). */
struct net *net_free(struct net *n);

/* ---- running the blocking calls off the loop ----
 * net_queue() runs fn(n, data, err) on the libuv threadpool (opt->loop),
 * one job at a time per struct net in FIFO order, then done(data, status,
 * err) on the loop thread.  If it returns < 0, done is never called;
 * otherwise done runs exactly once, never before net_queue returns, with
 * -ECANCELED for jobs still waiting at net_free.  While a job is pending
 * (net_queue_pending() > 0) the loop thread must not call other net_*
 * functions on n except through net_queue: queue everything, or nothing.
 * Everything but net_ports_publish/unpublish with proxies (those start and
 * close uv handles: loop thread only) may run inside fn.  net_free must not
 * be called while a job is running, nor from a done callback. */
typedef int (*net_work_fn)(struct net *n, void *data, struct berth_err *err);
typedef void (*net_done_cb)(void *data, int status, const struct berth_err *err);
int net_queue(struct net *n, net_work_fn fn, net_done_cb done, void *data,
              struct berth_err *err);
size_t net_queue_pending(struct net *n);
/* Like net_queue, but fn runs on the loop thread when its turn comes (no
 * pool job runs meanwhile): for the calls that open or close uv handles
 * (net_ports_open, net_ports_close) between queued blocking ones. */
int net_queue_loop(struct net *n, net_work_fn fn, net_done_cb done, void *data,
                   struct berth_err *err);

enum net_driver {
        NET_DRIVER_BRIDGE = 0,
        NET_DRIVER_MACVLAN,
        NET_DRIVER_HOST,
        NET_DRIVER_NONE,
};
/* "bridge", "macvlan", "host", "null"/"none" -> driver, else -EINVAL (public). */
int net_driver_parse(const char *s, enum net_driver *ret, struct berth_err *err);
const char *net_driver_name(enum net_driver d);

struct net_network_config {
        const char *name;               /* required, unique */
        const char *id;                 /* optional, stored as given */
        enum net_driver driver;
        /* IPv4: subnet NULL picks a free default pool (not overlapping other
         * networks nor routes of the host); gateway NULL = first address */
        const char *subnet, *gateway, *ip_range;
        bool ipv6;                      /* add an IPv6 subnet */
        const char *subnet6, *gateway6, *ip_range6;  /* subnet6 required if ipv6 */
        bool internal;                  /* no masquerade, no traffic off the bridge */
        bool default_bridge;            /* the predefined "bridge" network */
        const char *bridge_name;        /* com.docker.network.bridge.name; NULL: br-<id12> or berth0 */
        int mtu;                        /* 0 = kernel default (1500) */
        const char *parent;             /* macvlan: parent IF or IF.VLANID */
        const char *macvlan_mode;       /* bridge (default), private, vepa, passthru */
};

struct net_network_info {
        char name[NET_NAME_MAX];
        char id[NET_NAME_MAX];
        enum net_driver driver;
        char ifname[NET_IFNAME_MAX];    /* bridge or macvlan parent */
        char subnet[NET_CIDR_MAX], gateway[NET_ADDR_MAX], ip_range[NET_CIDR_MAX];
        bool ipv6;
        char subnet6[NET_CIDR_MAX], gateway6[NET_ADDR_MAX], ip_range6[NET_CIDR_MAX];
        bool internal;
        int mtu;
        size_t n_endpoints;
};

/* Validate, allocate the subnet, create the kernel objects (bridge with the
 * gateway addresses, up; for macvlan check/create the parent) and add NAT.
 * Errors: -EINVAL bad input (invalid CIDR, gateway outside the subnet, ...),
 * -EEXIST name taken or subnet overlapping another network (both public),
 * -ENODEV macvlan parent missing, -EOPNOTSUPP VLAN parent without 802.1Q. */
int net_network_create(struct net *n, const struct net_network_config *cfg,
                       struct berth_err *err);
/* Remove the network's kernel objects, NAT rules and state.  -ENOENT unknown,
 * -EBUSY while it has endpoints (both public). */
int net_network_remove(struct net *n, const char *name, struct berth_err *err);
/* Fill *ret; -ENOENT if unknown. */
int net_network_get(struct net *n, const char *name, struct net_network_info *ret,
                    struct berth_err *err);
/* Names of all networks, in creation order; returns the count.  The strings
 * belong to n and stay valid until the next create/remove. */
size_t net_network_list(struct net *n, const char **names, size_t max);

/* Container ids attached to a network, in attach order; returns the total
 * count (may exceed max).  Strings belong to n, valid until the next change. */
size_t net_network_endpoints(struct net *n, const char *name, const char **container_ids,
                             size_t max);

struct net_endpoint_config {
        const char *container_id;       /* required; one endpoint per (network, container) */
        int netns_fd;                   /* the container's netns (open fd) or -1 ... */
        const char *netns_path;         /* ... or a path such as /proc/PID/ns/net */
        const char *ifname;             /* NULL: first free ethN in that netns */
        const char *ip, *ip6;           /* static addresses (--ip, --ip6) or NULL */
        const char *mac;                /* NULL: derived from the IPv4 address */
};

struct net_endpoint_info {
        char ifname[NET_IFNAME_MAX];            /* inside the container */
        char host_ifname[NET_IFNAME_MAX];       /* host veth ("" for macvlan) */
        char mac[18];
        char ip[NET_ADDR_MAX];                  /* "" if none */
        int prefix;
        char gateway[NET_ADDR_MAX];
        char ip6[NET_ADDR_MAX];
        int prefix6;
        char gateway6[NET_ADDR_MAX];
};

/* Allocate addresses and plumb the container in: veth pair on the bridge
 * (or a macvlan on the parent), the peer moved into the netns and renamed,
 * MAC, addresses, lo up, default routes via the gateways (only for the
 * container's first network: later ones add no default route).
 * Errors: -ENOENT no such network, -EEXIST static address in use or container
 * already attached (public), -EINVAL address outside the subnet (public).
 * On failure nothing is left behind (addresses released, links deleted). */
int net_endpoint_attach(struct net *n, const char *network,
                        const struct net_endpoint_config *cfg,
                        struct net_endpoint_info *ret, struct berth_err *err);
/* Undo net_endpoint_attach: delete the links (the netns may be gone: pass
 * netns_fd -1 and netns_path NULL), release the addresses.  Returns once
 * the links are unlisted: the container no longer has the interface, its
 * name and addresses are free for a reconnect; the end of the kernel's
 * deletion goes on on a reaper thread, which net_free() waits for.
 * -ENOENT if the container is not attached. */
int net_endpoint_detach(struct net *n, const char *network, const char *container_id,
                        int netns_fd, const char *netns_path, struct berth_err *err);
/* Endpoint of a container on a network; -ENOENT if none. */
int net_endpoint_get(struct net *n, const char *network, const char *container_id,
                     struct net_endpoint_info *ret, struct berth_err *err);

/* ---- port publishing ---- */
struct net_port_map {
        int proto;                      /* IPPROTO_TCP or IPPROTO_UDP */
        char host_ip[NET_ADDR_MAX];     /* "" = all addresses (0.0.0.0) */
        uint16_t host_port;             /* 0 = ephemeral (chosen at publish) */
        char container_ip[NET_ADDR_MAX];
        uint16_t container_port;
};

/* Parse one docker -p spec "[IP:][HOSTPORT[-END]:]CPORT[-END][/tcp|udp]" into
 * *ret (xmalloc'd array, one entry per port of a range); container_ip is left
 * empty.  -EINVAL (public) on syntax errors, ports out of 1..65535 and
 * ranges of different lengths. */
int net_port_spec_parse(const char *spec, struct net_port_map **ret, size_t *ret_n,
                        struct berth_err *err);

/* Publish ports of a container: for each map, a userland proxy on the loop
 * (when net_options.loop is set and no_proxy is false) for loopback/hairpin,
 * and DNAT rules in the nftables table for traffic from outside.  Host ports
 * 0 are given ephemeral ports; maps[] is updated with them.  An empty
 * container_ip means the container's first IPv4 address.  A port in use (by
 * another program or another container) fails with -EADDRINUSE (public) and
 * nothing of this call is left.  Loop thread when proxies are on. */
int net_ports_publish(struct net *n, const char *container_id, struct net_port_map *maps,
                      size_t n_maps, struct berth_err *err);
/* net_ports_publish in two halves, for callers that keep blocking work off
 * the loop: net_ports_open() checks the maps, starts the proxies and records
 * the ports (loop thread: run it through net_queue_loop()); then
 * net_ports_commit() renders the nftables table and saves the state
 * (blocking: through net_queue()).  If the commit fails, net_ports_close()
 * (loop thread, through net_queue_loop()) drops the container's ports and a
 * second commit puts the table back.  net_ports_close() returns whether the
 * container had ports. */
int net_ports_open(struct net *n, const char *container_id, struct net_port_map *maps,
                   size_t n_maps, struct berth_err *err);
int net_ports_commit(struct net *n, struct berth_err *err);
bool net_ports_close(struct net *n, const char *container_id);
/* Published ports of a container (docker port, inspect's Ports); returns
 * the total count, fills at most max. */
size_t net_ports_get(struct net *n, const char *container_id, struct net_port_map *out,
                     size_t max);
/* Remove every proxy and rule of the container; no-op if none. */
int net_ports_unpublish(struct net *n, const char *container_id, struct berth_err *err);

/* At daemon shutdown, with the loop still running: close every proxy
 * (their handles finish closing on the loop); rules and state stay for the
 * next start.  Loop thread. */
void net_proxies_close(struct net *n);

/* ---- standalone userland proxy (what net_ports_publish uses) ---- */
struct net_proxy;
/* Listen on host_ip:host_port (proto of map), forward to container_ip:port.
 * -EADDRINUSE etc. on failure, nothing left open.  Loop thread. */
int net_proxy_start(uv_loop_t *loop, const struct net_port_map *map,
                    struct net_proxy **ret, struct berth_err *err);
/* Port actually bound (useful with host_port 0). */
uint16_t net_proxy_port(const struct net_proxy *p);
/* Close every socket; memory goes in close callbacks.  NULL-safe. */
void net_proxy_close(struct net_proxy *p);

/* ---- /etc files ---- */
struct net_host_entry {
        const char *ip;
        const char *names;              /* space-separated */
};

struct net_files_config {
        const char *hostname;           /* required */
        const char *domainname;         /* optional */
        bool host_network;              /* --network host: copy the host files */
        bool embedded_dns;              /* user-defined network: 127.0.0.11 + ndots:0 */
        const char *const *dns;         /* --dns (or daemon dns), NULL-terminated */
        const char *const *dns_search;  /* --dns-search */
        const char *const *dns_options; /* --dns-option */
        const char *const *extra_hosts; /* --add-host "name:ip" */
        const struct net_host_entry *self;  /* the container's own addresses */
        size_t n_self;
        bool ipv6;                      /* keep IPv6 host nameservers (default bridge) */
        const char *host_resolv_conf;   /* default /etc/resolv.conf */
        const char *host_hosts;         /* default /etc/hosts (host networking) */
};

/* Render one file into b (appended).  Pure functions apart from reading the
 * host resolv.conf / hosts.  -EINVAL (public) for a bad --add-host. */
int net_hosts_render(const struct net_files_config *cfg, struct buf *b, struct berth_err *err);
int net_resolv_conf_render(const struct net_files_config *cfg, struct buf *b,
                           struct berth_err *err);
/* Write dir/hosts, dir/hostname and dir/resolv.conf atomically (0644);
 * a file that already holds the same text is left alone.
 * Call again after connect/disconnect with the new self entries.  Blocking. */
int net_files_write(const char *dir, const struct net_files_config *cfg,
                    struct berth_err *err);

/* ---- addresses ---- */
/* Split "10.10.0.1/24" (--bip) into its subnet "10.10.0.0/24" and its address
 * "10.10.0.1" (the gateway).  -EINVAL (public) if not a CIDR. */
int net_cidr_split(const char *cidr, char *ret_subnet, size_t subnet_len, char *ret_addr,
                   size_t addr_len, struct berth_err *err);
/* Docker's MAC for an IPv4 address: 02:42 + the 4 bytes; out >= 18 bytes. */
int net_mac_from_ipv4(const char *ip, char *out, size_t outlen, struct berth_err *err);

#endif
