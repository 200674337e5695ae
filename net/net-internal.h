/* SPDX-License-Identifier: Apache-2.0
 * net/net-internal.h -- private declarations of net/: address arithmetic and
 * IPAM (ipam.c), netlink (nl.c, the only file with libnl), nftables (nft.c,
 * the only file with libnftables) and the ruleset renderer (nat.c). */
#ifndef BERTH_NET_INTERNAL_H
#define BERTH_NET_INTERNAL_H

#include "net/net.h"

typedef unsigned __int128 net_u128;

/* An address: IPv4 lives in the low 32 bits of v. */
struct net_addr {
        int family;             /* AF_INET or AF_INET6, 0 = none */
        net_u128 v;
};

struct net_prefix {
        int family;
        net_u128 addr;          /* host bits cleared */
        int len;
};

/* ---- queue.c ---- */
struct net_job;
struct net_queue {
        uv_loop_t *loop;
        struct net_job *head, *tail;    /* waiting */
        struct net_job *running;        /* on the threadpool */
        size_t pending;                 /* waiting jobs */
};
struct net_queue *net__queue_of(struct net *n);
/* At net_free: waiting jobs get done(-ECANCELED); none may be running. */
void net__queue_cancel(struct net_queue *q);

/* ---- ipam.c ---- */
int net__addr_parse(const char *s, struct net_addr *ret);
void net__addr_fmt(const struct net_addr *a, char *out, size_t outlen);
void net__addr_bytes(const struct net_addr *a, unsigned char out[16]);
/* "A/LEN"; with strict, host bits must be zero (else -EINVAL). */
int net__prefix_parse(const char *s, bool strict, struct net_prefix *ret);
void net__prefix_fmt(const struct net_prefix *p, char *out, size_t outlen);
bool net__prefix_contains(const struct net_prefix *p, const struct net_addr *a);
bool net__prefix_overlaps(const struct net_prefix *a, const struct net_prefix *b);
net_u128 net__prefix_last(const struct net_prefix *p);

/* One address family of a network.  used[] is sorted and holds the gateway. */
struct net_ipam_pool {
        struct net_prefix subnet;
        struct net_prefix range;        /* == subnet when no ip-range */
        bool has_range;
        struct net_addr gateway;
        net_u128 *used;
        size_t n_used, cap;
};

/* Validate subnet/gateway/ip-range (strings; gateway and range may be NULL)
 * and set up the pool with the gateway reserved.  -EINVAL public errors:
 * invalid CIDR, gateway outside the subnet, range outside the subnet. */
int net__ipam_pool_init(struct net_ipam_pool *p, int family, const char *subnet,
                        const char *gateway, const char *range, struct berth_err *err);
void net__ipam_pool_release(struct net_ipam_pool *p);
/* Allocate want (a static address, may be NULL) or the first free address.
 * -EEXIST (public) if want is in use, -EINVAL (public) if outside the subnet
 * or not a host address, -ENOSPC (public) if the pool is full. */
int net__ipam_alloc(struct net_ipam_pool *p, const char *want, struct net_addr *ret,
                    struct berth_err *err);
/* Mark an address used without checks beyond duplicates (restore). */
int net__ipam_reserve(struct net_ipam_pool *p, const struct net_addr *a);
/* -ENOENT if it was not allocated. */
int net__ipam_release(struct net_ipam_pool *p, const struct net_addr *a);

/* A default address pool: base split in prefixes of length size. */
struct net_default_pool {
        struct net_prefix base;
        int size;
};
/* Parse "CIDR/size" (e.g. "172.17.0.0/16/16") or "CIDR" (size = its length). */
int net__default_pool_parse(const char *s, struct net_default_pool *ret,
                            struct berth_err *err);
/* First prefix of the pools that overlaps none of taken[] (networks and host
 * routes).  -ENOSPC (public) if all are used. */
int net__default_pool_pick(const struct net_default_pool *pools, size_t n_pools,
                           const struct net_prefix *taken, size_t n_taken,
                           struct net_prefix *ret, struct berth_err *err);
/* IPv4 routes of the current netns from /proc/net/route (not the default
 * route), appended to *v (xrealloc'd). */
int net__host_routes_v4(const char *path, struct net_prefix **v, size_t *n);

/* ---- nl.c (sync netlink through libnl-3) ---- */
struct net_nl;
/* A socket bound to the netns of netns_fd (-1: the thread's current netns). */
int net__nl_open(int netns_fd, struct net_nl **ret, struct berth_err *err);
void net__nl_close(struct net_nl *nl);
/* ifindex of name, -ENODEV if none. */
int net__nl_ifindex(struct net_nl *nl, const char *name);
/* Create a bridge unless one of that name exists; set MTU; up.  -EEXIST if
 * name exists and is not a bridge. */
int net__nl_bridge_ensure(struct net_nl *nl, const char *name, int mtu, struct berth_err *err);
/* Delete link name; a missing link is success. */
int net__nl_link_del(struct net_nl *nl, const char *name, struct berth_err *err);
/* Enslave name to bridge master and set it up (no-op if it already is). */
int net__nl_link_set_master(struct net_nl *nl, const char *name, const char *master,
                            struct berth_err *err);
/* Set name up (no change request if it is up already). */
int net__nl_link_up(struct net_nl *nl, const char *name, struct berth_err *err);
/* Add an address (EEXIST is success).  IPv6 gets IFA_F_NODAD. */
int net__nl_addr_add(struct net_nl *nl, const char *ifname, const struct net_addr *a,
                     int prefix, struct berth_err *err);
/* The same on a link known by its ifindex (ifname for messages only). */
int net__nl_addr_add_idx(struct net_nl *nl, int idx, const char *ifname, const struct net_addr *a,
                         int prefix, struct berth_err *err);
/* Default route via gw on ifname. */
int net__nl_route_default(struct net_nl *nl, const char *ifname, const struct net_addr *gw,
                          struct berth_err *err);
int net__nl_route_default_idx(struct net_nl *nl, int idx, const char *ifname,
                              const struct net_addr *gw, struct berth_err *err);
/* Set the link of ifindex idx up (name for messages only). */
int net__nl_link_up_idx(struct net_nl *nl, int idx, const char *name, struct berth_err *err);
/* 0 if a link with that ifindex exists, -ENODEV if not. */
int net__nl_index_exists(struct net_nl *nl, int ifindex);
/* veth host_name <-> peer_name: host side enslaved to master and up, peer
 * created directly in netns_fd with mac (may be NULL) and mtu (0 = default). */
int net__nl_veth_create(struct net_nl *nl, const char *host_name, const char *master,
                        const char *peer_name, int netns_fd, const char *mac, int mtu,
                        struct berth_err *err);
/* macvlan name on parent, created in netns_fd (-1: here). */
int net__nl_macvlan_create(struct net_nl *nl, const char *name, const char *parent,
                           const char *mode, int netns_fd, const char *mac, int mtu,
                           struct berth_err *err);
/* VLAN sub-interface name = parent.vid.  -EOPNOTSUPP with a message naming
 * 802.1Q when the kernel lacks VLAN support. */
int net__nl_vlan_create(struct net_nl *nl, const char *name, const char *parent, int vid,
                        struct berth_err *err);
/* Call cb for every link whose name starts with prefix, with the ifindex
 * of its master (0 if none). */
int net__nl_links_foreach(struct net_nl *nl, const char *prefix,
                          void (*cb)(const char *name, int master, void *data), void *data,
                          struct berth_err *err);
/* First "ethN" not present. */
int net__nl_free_ifname(struct net_nl *nl, const char *base, char *out, size_t outlen,
                        struct berth_err *err);

/* ---- queue.c: the link reaper (deletions off the caller's thread) ---- */
struct net_reaper;
struct net_reap_item;
/* Threads start on demand; berthd's netns is the current thread's at this call. */
int net__reaper_new(struct net_reaper **ret, struct berth_err *err);
/* Waits for every requested deletion, joins the threads.  NULL-safe. */
struct net_reaper *net__reaper_free(struct net_reaper *r);
/* Ask a reaper thread to delete link name in the netns of netns_fd (dup'd;
 * -1: berthd's own); returns at once with an item to poll or wait on and
 * to put.  A link already gone is success.  -EAGAIN if no thread runs. */
int net__reaper_del(struct net_reaper *r, int netns_fd, const char *name,
                    struct net_reap_item **ret, struct berth_err *err);
/* Whether the deletion has ended (then *ret_status is its 0/-errno). */
bool net__reap_item_done(struct net_reaper *r, struct net_reap_item *it, int *ret_status);
/* Block until it has ended; its status. */
int net__reap_item_wait(struct net_reaper *r, struct net_reap_item *it);
void net__reap_item_put(struct net_reaper *r, struct net_reap_item *it);

/* ---- nft.c (libnftables) ---- */
/* Run an nft script as one transaction. */
int net__nft_run(const char *script, struct berth_err *err);
/* 1 if table "inet name" exists, 0 if not. */
int net__nft_table_exists(const char *name, struct berth_err *err);

/* ---- nat.c ---- */
struct net_nat_net {
        const char *bridge;
        const char *subnet, *subnet6;   /* may be NULL */
        bool internal;
};
struct net_nat_port {
        const struct net_port_map *map;
        const char *bridge;             /* container's bridge, may be NULL */
};
/* Full script: replaces table inet <table> in one transaction with the
 * rules for these networks and ports (so re-applying never duplicates a
 * rule).  With nothing to do, it only deletes the table.  loopback: no
 * userland proxy, so connections to 127.0.0.0/8 are DNATed as well. */
void net__nat_render(struct buf *b, const char *table, const struct net_nat_net *nets,
                     size_t n_nets, const struct net_nat_port *ports, size_t n_ports, bool loopback);
/* Script deleting the table whether it exists or not. */
void net__nat_render_delete(struct buf *b, const char *table);

#endif
