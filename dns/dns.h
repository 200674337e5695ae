/* SPDX-License-Identifier: Apache-2.0
 * dns/dns.h -- berth's embedded DNS: the record table of every network and one
 * resolver per container, listening on 127.0.0.11:53 (UDP and TCP) inside the
 * container's network namespace and served by berthd's one libuv loop.
 * Names it does not own are forwarded to the upstreams through c-ares.
 *
 * Threading: every function runs on the loop thread.  Nothing here blocks
 * (the listening sockets are opened on a short-lived thread).  Functions
 * return 0 or a negative errno and fill *err (may be NULL); they never log.
 *
 * Model:
 *   struct dns_server    one per daemon: the loop, the networks, the limits.
 *   network              a record table (names -> A/AAAA sets, addresses -> PTR)
 *                        keyed by network name; also knows its subnets.
 *   endpoint             one container on one network: its DNS names (container
 *                        name first, then aliases, short id, hostname) and its
 *                        IPv4 and/or IPv6 address.
 *   struct dns_resolver  one per container sandbox: listeners in its netns, the
 *                        list of networks it is on (its scope), its upstreams.
 * Record changes are seen by the very next query (no cache of local names).
 */
#ifndef BERTH_DNS_H
#define BERTH_DNS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

struct berth_err;
struct dns_server;
struct dns_resolver;

#define DNS_MAX_UPSTREAMS 3     /* as Docker (maxExtDNS) */
#define DNS_TTL 600             /* TTL of local answers, as Docker */

/* Daemon-wide knobs; zero fields take the defaults given. */
struct dns_server_config {
        unsigned max_inflight;          /* forwarded queries in flight per resolver (1024); REFUSED past it */
        unsigned upstream_timeout_ms;   /* c-ares timeout of a first try (1000) */
        unsigned upstream_tries;        /* c-ares tries per server (2) */
        unsigned forward_deadline_ms;   /* SERVFAIL to the client after this (4000) */
        unsigned tcp_idle_ms;           /* a TCP client idle or stuck this long is closed (8000) */
        unsigned tcp_max_conns;         /* TCP connections per resolver (256) */
        unsigned udp_rcvbuf;            /* SO_RCVBUF(FORCE) of the UDP listener (4 MiB) */
        bool cache;                     /* positive cache of upstream answers (daemon.json dns-cache) */
        unsigned cache_max_entries;     /* per resolver (4096) */
};

int dns_server_new(uv_loop_t *loop, const struct dns_server_config *cfg,
                   struct dns_server **ret, struct berth_err *err);
/* Stop every resolver, drop every record; memory is released once the loop
 * has run the close callbacks (uv_run after this).  NULL-safe. */
void dns_server_free(struct dns_server *s);

/* ---- record table ---- */

struct dns_subnet {
        int family;                     /* AF_INET or AF_INET6 */
        union {
                struct in_addr v4;
                struct in6_addr v6;
        } addr;
        unsigned prefixlen;
};

struct dns_network_config {
        const char *name;               /* network name: the suffix of name.network, PTR answers */
        bool internal;                  /* --internal: containers only on internal networks never forward */
        const struct dns_subnet *subnets;
        size_t n_subnets;               /* PTR for an unknown address in a subnet: NXDOMAIN, not forwarded */
};

/* Add a network (-EEXIST if the name is taken, -EINVAL for a bad name). */
int dns_network_add(struct dns_server *s, const struct dns_network_config *cfg,
                    struct berth_err *err);
/* Remove a network and all its endpoints; -ENOENT if unknown. */
int dns_network_remove(struct dns_server *s, const char *network, struct berth_err *err);
/* Rename a network (docker does not, but a restore may). */
int dns_network_rename(struct dns_server *s, const char *network, const char *new_name,
                       struct berth_err *err);

struct dns_endpoint_config {
        const char *id;                 /* unique in the network, e.g. the container id */
        const char *const *names;       /* names[0]: container name (PTR target); then aliases, short id, hostname */
        size_t n_names;                 /* case-insensitive, duplicates ignored */
        const struct in_addr *v4;       /* NULL if none */
        const struct in6_addr *v6;      /* NULL if none */
};

/* Add or replace (same id) an endpoint: its names answer at once. */
int dns_endpoint_add(struct dns_server *s, const char *network,
                     const struct dns_endpoint_config *cfg, struct berth_err *err);
/* Remove an endpoint (stop, disconnect, rm); -ENOENT if unknown. */
int dns_endpoint_remove(struct dns_server *s, const char *network, const char *id,
                        struct berth_err *err);

/* ---- resolvers ---- */

struct dns_upstream {
        struct sockaddr_storage addr;   /* AF_INET or AF_INET6, with port (53 if 0) */
        bool host_netns;                /* dial from the host netns (host loopback), else from the container's */
};

/* Parse "1.2.3.4", "1.2.3.4:5353", "::1", "[::1]:5353"; host_netns is set
 * for loopback addresses (Docker's HostLoopback). */
int dns_upstream_parse(const char *s, struct dns_upstream *ret, struct berth_err *err);

/* The nameservers of a resolv.conf text (the host's), in order, at most max
 * (use DNS_MAX_UPSTREAMS); every one is dialled from the host netns, as moby
 * >= 28 does for the host's servers.  127.0.0.11 and scoped (%) addresses
 * are skipped.  Returns the count. */
size_t dns_upstreams_from_resolv_conf(const char *text, struct dns_upstream *ret, size_t max);

struct dns_resolver_config {
        const char *name;               /* for messages: container name or id */
        int netns_fd;                   /* container netns (dup'ed); -1: the caller's netns (tests) */
        const char *listen_addr;        /* NULL: "127.0.0.11" */
        uint16_t port;                  /* 0: 53 */
        bool any_port;                  /* bind port 0, the kernel picks (tests) */
        const char *const *networks;    /* networks the container is on, in lookup order */
        size_t n_networks;
        const struct dns_upstream *upstreams;
        size_t n_upstreams;             /* at most DNS_MAX_UPSTREAMS are used */
        bool ndots_set;                 /* user set ndots: dotless unknown A/AAAA answer NODATA (Docker) */
};

/* Called once when the resolver listens (status 0) or failed to (status <0,
 * msg says why; the resolver is stopped and r must not be used after cb).  Never called
 * synchronously from dns_resolver_start, nor after dns_resolver_stop. */
typedef void (*dns_resolver_started_cb)(struct dns_resolver *r, int status, const char *msg,
                                        void *data);

/* Start a resolver: the sockets are opened on a short-lived thread that
 * enters cfg->netns_fd, then served on the loop.  *ret is valid at once (for
 * connect/disconnect/stop) even before cb runs. */
int dns_resolver_start(struct dns_server *s, const struct dns_resolver_config *cfg,
                       dns_resolver_started_cb cb, void *data, struct dns_resolver **ret,
                       struct berth_err *err);
/* Change the scope: the container joined / left a network. */
int dns_resolver_connect(struct dns_resolver *r, const char *network, struct berth_err *err);
int dns_resolver_disconnect(struct dns_resolver *r, const char *network, struct berth_err *err);
/* Replace the upstreams (SIGHUP reload, --dns change). */
int dns_resolver_set_upstreams(struct dns_resolver *r, const struct dns_upstream *ups, size_t n,
                               struct berth_err *err);
/* Close the listeners, answer nothing more, free when the handles are
 * closed; the started cb is not called after this.  NULL-safe. */
void dns_resolver_stop(struct dns_resolver *r);

struct dns_resolver_stats {
        uint64_t queries, local, forwarded, cached, nodata, servfail, refused, formerr, dropped;
        uint64_t tcp_conns, tcp_timeouts;
        unsigned inflight;
};
void dns_resolver_get_stats(const struct dns_resolver *r, struct dns_resolver_stats *ret);

/* The bound UDP/TCP ports (useful with port 0 in tests); 0 before started. */
uint16_t dns_resolver_port(const struct dns_resolver *r, int socktype);

#endif
