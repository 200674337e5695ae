/* SPDX-License-Identifier: Apache-2.0
 * dns/server.c -- the resolvers on the loop: listeners opened in a container
 * netns by a short-lived thread, batched UDP (recvmmsg/sendmmsg), TCP with
 * length prefixes and idle timeouts, forwarding with a deadline and an
 * in-flight limit, and the optional positive cache. */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/dns-internal.h"
#include "lib/lib.h"

#define UDP_BATCH 64
#define UDP_ROUNDS 8            /* batches per poll wake-up before yielding */
#define SWEEP_MS 100
#define TCP_MAX_PENDING 32      /* forwarded queries per TCP connection before we stop reading */
#define TCP_MAX_WQUEUE (1u << 20)

struct dns_server {
        uv_loop_t *loop;
        struct dns_server_config cfg;
        struct dns_table *table;
        struct dns_resolver *resolvers;
        /* scratch for the UDP batches: the loop is single-threaded */
        uint8_t rx[UDP_BATCH][DNS_MAX_UDP + 1];
        uint8_t tx[UDP_BATCH][DNS_MAX_UDP];
        uint8_t big[DNS_MAX_MSG + 2];
};

struct pending;
struct tcp_conn;

struct cache_ent;

struct dns_resolver {
        struct dns_resolver *prev, *next;      /* in server->resolvers while not stopped */
        struct dns_server *s;
        uv_loop_t *loop;
        struct dns_server_config cfg;
        struct dns_table *table;
        char *name;
        int netns_fd;
        struct sockaddr_storage laddr;
        char **nets;
        size_t n_nets, cap_nets;
        struct dns_upstream ups[DNS_MAX_UPSTREAMS];
        size_t n_ups;
        bool ndots_set;
        dns_resolver_started_cb cb;
        void *cb_data;

        bool stopping, listening;
        unsigned refs;          /* work + handles + conns + forwarded queries */
        uv_work_t work;
        int work_status;
        char work_msg[160];
        int udp_fd, tcp_fd;
        uint16_t udp_port, tcp_port;
        uv_poll_t udp_poll;
        uv_tcp_t tcp;
        uv_timer_t sweep;
        bool have_handles;

        struct dns_fwd *fwd;
        struct pending *ph, *pt;        /* unanswered forwarded queries, oldest first */
        unsigned inflight;              /* queries c-ares still holds */
        struct tcp_conn *conns;
        unsigned n_conns;
        struct cache_ent *cache;        /* hash buckets */
        size_t cache_n, cache_nb;
        struct dns_resolver_stats st;
};

struct pending {
        struct pending *prev, *next;
        struct dns_resolver *r;
        struct dns_query q;
        uint64_t start;
        bool answered, linked;
        bool tcp;
        struct tcp_conn *conn;
        struct sockaddr_storage peer;
        socklen_t peerlen;
};

struct tcp_conn {
        struct tcp_conn *prev, *next;
        struct dns_resolver *r;
        uv_tcp_t h;
        uv_timer_t idle;
        struct buf in;
        unsigned refs;          /* 2 handles + forwarded queries */
        unsigned pending;
        bool closing, reading;
};

struct cache_ent {
        struct cache_ent *next;
        char key[DNS_MAX_NAME + 24];
        uint64_t expires;       /* loop ms */
        uint64_t stored;
        uint8_t *msg;
        size_t len;
};

static void resolver_unref(struct dns_resolver *r);

/* ---- server ---- */

int dns_server_new(uv_loop_t *loop, const struct dns_server_config *cfg, struct dns_server **ret,
                   struct berth_err *err)
{
        struct dns_server *s = xcalloc(1, sizeof(*s));

        s->loop = loop;
        if (cfg)
                s->cfg = *cfg;
        if (!s->cfg.max_inflight)
                s->cfg.max_inflight = 1024;
        if (!s->cfg.upstream_timeout_ms)
                s->cfg.upstream_timeout_ms = 1000;
        if (!s->cfg.upstream_tries)
                s->cfg.upstream_tries = 2;
        if (!s->cfg.forward_deadline_ms)
                s->cfg.forward_deadline_ms = 4000;
        if (!s->cfg.tcp_idle_ms)
                s->cfg.tcp_idle_ms = 8000;
        if (!s->cfg.tcp_max_conns)
                s->cfg.tcp_max_conns = 256;
        if (!s->cfg.udp_rcvbuf)
                s->cfg.udp_rcvbuf = 4u << 20;
        if (!s->cfg.cache_max_entries)
                s->cfg.cache_max_entries = 4096;
        s->table = dns_table_new();
        *ret = s;
        return 0;
}

static void resolver_release_table_refs(struct dns_server *s)
{
        for (struct dns_resolver *r = s->resolvers; r; r = r->next)
                r->table = NULL;
}

void dns_server_free(struct dns_server *s)
{
        if (!s)
                return;
        while (s->resolvers)
                dns_resolver_stop(s->resolvers);
        resolver_release_table_refs(s);
        dns_table_free(s->table);
        free(s);
}

int dns_network_add(struct dns_server *s, const struct dns_network_config *cfg,
                    struct berth_err *err)
{
        return dns_table_network_add(s->table, cfg, err);
}

int dns_network_remove(struct dns_server *s, const char *network, struct berth_err *err)
{
        return dns_table_network_remove(s->table, network, err);
}

int dns_network_rename(struct dns_server *s, const char *network, const char *new_name,
                       struct berth_err *err)
{
        int r = dns_table_network_rename(s->table, network, new_name, err);

        if (r < 0)
                return r;
        /* resolvers name their networks: follow the rename */
        for (struct dns_resolver *res = s->resolvers; res; res = res->next)
                for (size_t i = 0; i < res->n_nets; i++)
                        if (!strcasecmp(res->nets[i], network)) {
                                free(res->nets[i]);
                                res->nets[i] = xstrdup(new_name);
                        }
        return 0;
}

int dns_endpoint_add(struct dns_server *s, const char *network,
                     const struct dns_endpoint_config *cfg, struct berth_err *err)
{
        return dns_table_endpoint_add(s->table, network, cfg, err);
}

int dns_endpoint_remove(struct dns_server *s, const char *network, const char *id,
                        struct berth_err *err)
{
        return dns_table_endpoint_remove(s->table, network, id, err);
}

int dns_upstream_parse(const char *str, struct dns_upstream *ret, struct berth_err *err)
{
        char host[INET6_ADDRSTRLEN + 1];
        const char *port = NULL;
        unsigned long p = 53;

        memset(ret, 0, sizeof(*ret));
        if (str[0] == '[') {
                const char *end = strchr(str, ']');

                if (!end || (size_t)(end - str - 1) >= sizeof(host))
                        return berth_err_pub(err, EINVAL, "invalid dns server '%s'", str);
                memcpy(host, str + 1, (size_t)(end - str - 1));
                host[end - str - 1] = '\0';
                if (end[1] == ':')
                        port = end + 2;
                else if (end[1])
                        return berth_err_pub(err, EINVAL, "invalid dns server '%s'", str);
        } else {
                const char *colon = strchr(str, ':');

                if (colon && !strchr(colon + 1, ':')) {
                        if ((size_t)(colon - str) >= sizeof(host))
                                return berth_err_pub(err, EINVAL, "invalid dns server '%s'", str);
                        memcpy(host, str, (size_t)(colon - str));
                        host[colon - str] = '\0';
                        port = colon + 1;
                } else {
                        if (strlen(str) >= sizeof(host))
                                return berth_err_pub(err, EINVAL, "invalid dns server '%s'", str);
                        strcpy(host, str);
                }
        }
        if (port) {
                char *end;

                errno = 0;
                p = strtoul(port, &end, 10);
                if (errno || *end || !*port || p == 0 || p > 65535)
                        return berth_err_pub(err, EINVAL, "invalid dns server port in '%s'", str);
        }
        {
                struct sockaddr_in *a4 = (struct sockaddr_in *)&ret->addr;
                struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ret->addr;

                if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
                        a4->sin_family = AF_INET;
                        a4->sin_port = htons((uint16_t)p);
                        ret->host_netns = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
                } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
                        a6->sin6_family = AF_INET6;
                        a6->sin6_port = htons((uint16_t)p);
                        ret->host_netns = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
                } else {
                        return berth_err_pub(err, EINVAL, "invalid dns server '%s'", str);
                }
        }
        return 0;
}

size_t dns_upstreams_from_resolv_conf(const char *text, struct dns_upstream *ret, size_t max)
{
        size_t n = 0;

        while (text && *text && n < max) {
                const char *eol = strchrnul(text, '\n');
                char line[256], addr[INET6_ADDRSTRLEN + 8];
                size_t l = (size_t)(eol - text);

                if (l < sizeof(line)) {
                        memcpy(line, text, l);
                        line[l] = '\0';
                        if (sscanf(line, " nameserver %53s", addr) == 1 && !strchr(addr, '%') &&
                            strcmp(addr, "127.0.0.11") && dns_upstream_parse(addr, &ret[n], NULL) == 0) {
                                ret[n].host_netns = true;
                                n++;
                        }
                }
                text = *eol ? eol + 1 : eol;
        }
        return n;
}

/* ---- replies ---- */

static void scope_of(struct dns_resolver *r, struct dns_scope *sc)
{
        sc->table = r->table;
        sc->nets = (const char *const *)r->nets;
        sc->n_nets = r->n_nets;
        sc->ndots_set = r->ndots_set;
}

static bool may_forward(struct dns_resolver *r)
{
        if (!r->n_ups)
                return false;
        if (!r->n_nets)
                return true;
        /* --internal: forward only if the container has a way out */
        for (size_t i = 0; i < r->n_nets; i++)
                if (!dns_table_network_internal(r->table, r->nets[i]))
                        return true;
        return false;
}

static void count_rcode(struct dns_resolver *r, int rcode)
{
        if (rcode == DNS_R_SERVFAIL)
                r->st.servfail++;
        else if (rcode == DNS_R_REFUSED)
                r->st.refused++;
        else if (rcode == DNS_R_FORMERR)
                r->st.formerr++;
}

static void udp_send_one(struct dns_resolver *r, const struct sockaddr *peer, socklen_t plen,
                         const uint8_t *msg, size_t len)
{
        if (r->stopping || r->udp_fd < 0)
                return;
        (void)sendto(r->udp_fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL, peer, plen);
}

static void tcp_conn_close(struct tcp_conn *c);
static void on_tcp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b);
static void on_tcp_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b);

struct tcp_wreq {
        uv_write_t w;
        struct tcp_conn *c;
        uint8_t data[];
};

static void tcp_conn_unref(struct tcp_conn *c);

static void on_tcp_written(uv_write_t *w, int status)
{
        struct tcp_wreq *wr = container_of(w, struct tcp_wreq, w);
        struct tcp_conn *c = wr->c;

        free(wr);
        if (status < 0)
                tcp_conn_close(c);
        tcp_conn_unref(c);
}

static void tcp_send(struct tcp_conn *c, const uint8_t *msg, size_t len)
{
        struct tcp_wreq *wr;
        uv_buf_t b;

        if (c->closing)
                return;
        if (uv_stream_get_write_queue_size((uv_stream_t *)&c->h) > TCP_MAX_WQUEUE) {
                tcp_conn_close(c);      /* a client that does not read */
                return;
        }
        wr = xmalloc(sizeof(*wr) + len + 2);
        wr->c = c;
        dns_put16(wr->data, (uint16_t)len);
        memcpy(wr->data + 2, msg, len);
        b = uv_buf_init((char *)wr->data, (unsigned)len + 2);
        c->refs++;
        if (uv_write(&wr->w, (uv_stream_t *)&c->h, &b, 1, on_tcp_written) < 0) {
                free(wr);
                c->refs--;
                tcp_conn_close(c);
                return;
        }
        uv_timer_again(&c->idle);
}

/* ---- positive cache (off by default) ---- */

static void cache_key(const struct dns_query *q, char *out, size_t outlen)
{
        snprintf(out, outlen, "%u/%u/%d/%s", q->qtype, q->qclass, q->do_bit ? 1 : 0, q->name);
}

static size_t cache_bucket(const struct dns_resolver *r, const char *key)
{
        uint32_t h = 2166136261u;

        for (; *key; key++)
                h = (h ^ (uint8_t)*key) * 16777619u;
        return h & (r->cache_nb - 1);
}

static void cache_free_all(struct dns_resolver *r)
{
        struct cache_ent **b = (struct cache_ent **)r->cache;

        for (size_t i = 0; b && i < r->cache_nb; i++) {
                struct cache_ent *e = b[i], *next;

                for (; e; e = next) {
                        next = e->next;
                        free(e->msg);
                        free(e);
                }
        }
        free(b);
        r->cache = NULL;
        r->cache_n = 0;
        r->cache_nb = 0;
}

static void cache_store(struct dns_resolver *r, const struct dns_query *q, const uint8_t *ans,
                        size_t alen)
{
        struct cache_ent **b, *e;
        uint32_t ttl;
        char key[sizeof(e->key)];
        size_t i;

        if (!r->cfg.cache || !q->name_ok)
                return;
        if ((dns_get16(ans + 2) & (DNS_F_RCODE | DNS_F_TC)) != 0 || dns_get16(ans + 6) == 0)
                return;         /* positive answers only */
        if (dns_msg_check(ans, alen, &ttl) < 0 || ttl == 0 || ttl == UINT32_MAX)
                return;
        if (!r->cache) {
                r->cache_nb = 1024;
                r->cache = xcalloc(r->cache_nb, sizeof(struct cache_ent *));
        }
        if (r->cache_n >= r->cfg.cache_max_entries)
                cache_free_all(r), r->cache_nb = 1024,
                                   r->cache = xcalloc(r->cache_nb, sizeof(struct cache_ent *));
        b = (struct cache_ent **)r->cache;
        cache_key(q, key, sizeof(key));
        i = cache_bucket(r, key);
        for (e = b[i]; e; e = e->next)
                if (!strcmp(e->key, key))
                        break;
        if (!e) {
                e = xcalloc(1, sizeof(*e));
                snprintf(e->key, sizeof(e->key), "%s", key);
                e->next = b[i];
                b[i] = e;
                r->cache_n++;
        } else {
                free(e->msg);
        }
        e->msg = xmalloc(alen);
        memcpy(e->msg, ans, alen);
        e->len = alen;
        e->stored = uv_now(r->loop);
        e->expires = e->stored + (uint64_t)(ttl > 86400 ? 86400 : ttl) * 1000;
}

/* Rewrite the TTLs of a cached answer to what is left (walks the records). */
static void cache_age(uint8_t *m, size_t len, uint32_t elapsed)
{
        size_t off = DNS_HDR_LEN;
        unsigned qd = dns_get16(m + 4), rr = dns_get16(m + 6) + dns_get16(m + 8) + dns_get16(m + 10);
        uint8_t name[DNS_MAX_NAME];

        for (unsigned i = 0; i < qd; i++) {
                if (dns_name_unpack(m, len, &off, name) < 0 || off + 4 > len)
                        return;
                off += 4;
        }
        for (unsigned i = 0; i < rr; i++) {
                uint32_t ttl;

                if (dns_name_unpack(m, len, &off, name) < 0 || off + 10 > len)
                        return;
                if (dns_get16(m + off) != DNS_T_OPT) {
                        ttl = dns_get32(m + off + 4);
                        dns_put32(m + off + 4, ttl > elapsed ? ttl - elapsed : 0);
                }
                off += 10 + dns_get16(m + off + 8);
        }
}

static size_t cache_lookup(struct dns_resolver *r, const struct dns_query *q, uint8_t *out,
                           size_t cap)
{
        struct cache_ent **b = (struct cache_ent **)r->cache, *e, **pp;
        char key[sizeof(e->key)];
        uint64_t now = uv_now(r->loop);

        if (!b || !q->name_ok)
                return 0;
        cache_key(q, key, sizeof(key));
        for (pp = &b[cache_bucket(r, key)]; (e = *pp); pp = &e->next) {
                if (strcmp(e->key, key))
                        continue;
                if (e->expires <= now) {
                        *pp = e->next;
                        free(e->msg);
                        free(e);
                        r->cache_n--;
                        return 0;
                }
                if (e->len > cap)
                        return 0;
                memcpy(out, e->msg, e->len);
                cache_age(out, e->len, (uint32_t)((now - e->stored) / 1000));
                return e->len;
        }
        return 0;
}

/* ---- forwarding ---- */

static void pending_unlink(struct pending *p)
{
        struct dns_resolver *r = p->r;

        if (!p->linked)
                return;
        if (p->prev)
                p->prev->next = p->next;
        else
                r->ph = p->next;
        if (p->next)
                p->next->prev = p->prev;
        else
                r->pt = p->prev;
        p->linked = false;
}

static void pending_reply(struct pending *p, const uint8_t *msg, size_t len)
{
        struct dns_resolver *r = p->r;

        if (p->answered)
                return;
        p->answered = true;
        pending_unlink(p);
        if (r->stopping)
                return;
        if (p->tcp)
                tcp_send(p->conn, msg, len);
        else
                udp_send_one(r, (struct sockaddr *)&p->peer, p->peerlen, msg, len);
}

static void pending_fail(struct pending *p, int rcode)
{
        uint8_t buf[DNS_MAX_UDP];
        size_t len;

        if (p->answered)
                return;
        count_rcode(p->r, rcode);
        len = dns_reply_error(buf, sizeof(buf), &p->q, rcode);
        pending_reply(p, buf, len);
}

static void on_forwarded(void *data, int status, const uint8_t *abuf, size_t alen)
{
        struct pending *p = data;
        struct dns_resolver *r = p->r;

        r->inflight--;
        if (!p->answered && !r->stopping) {
                size_t limit = p->tcp ? DNS_MAX_MSG : dns_query_udp_limit(&p->q);
                size_t len = 0;

                if (status == 0) {
                        cache_store(r, &p->q, abuf, alen);
                        len = dns_forward_reply_adapt(&p->q, abuf, alen, limit, r->s->big,
                                                      sizeof(r->s->big));
                }
                if (len)
                        pending_reply(p, r->s->big, len);
                else
                        pending_fail(p, status == -EACCES ? DNS_R_REFUSED : DNS_R_SERVFAIL);
        }
        pending_unlink(p);
        if (p->tcp) {
                p->conn->pending--;
                if (!p->conn->closing && !p->conn->reading && p->conn->pending < TCP_MAX_PENDING / 2)
                        p->conn->reading = uv_read_start((uv_stream_t *)&p->conn->h, on_tcp_alloc,
                                                         on_tcp_read) == 0;
                tcp_conn_unref(p->conn);
        }
        free(p);
        resolver_unref(r);
}

static void on_sweep(uv_timer_t *t)
{
        struct dns_resolver *r = container_of(t, struct dns_resolver, sweep);
        uint64_t now = uv_now(r->loop);

        while (r->ph && now - r->ph->start >= r->cfg.forward_deadline_ms)
                pending_fail(r->ph, DNS_R_SERVFAIL);    /* unlinks the head */
        if (!r->ph)
                uv_timer_stop(&r->sweep);
}

/* Forward q; the reply goes to the UDP peer or the TCP conn. */
static void forward(struct dns_resolver *r, const struct dns_query *q, struct tcp_conn *conn,
                    const struct sockaddr *peer, socklen_t plen)
{
        uint8_t qbuf[DNS_MAX_NAME + 64];
        struct pending *p;
        size_t qlen;

        if (r->cfg.cache) {
                size_t limit = conn ? DNS_MAX_MSG : dns_query_udp_limit(q);
                size_t len = cache_lookup(r, q, r->s->big, sizeof(r->s->big));

                if (len) {
                        uint8_t *tmp = xmalloc(len);

                        memcpy(tmp, r->s->big, len);
                        len = dns_forward_reply_adapt(q, tmp, len, limit, r->s->big, sizeof(r->s->big));
                        free(tmp);
                        if (len) {
                                r->st.cached++;
                                if (conn)
                                        tcp_send(conn, r->s->big, len);
                                else
                                        udp_send_one(r, peer, plen, r->s->big, len);
                                return;
                        }
                }
        }
        p = xcalloc(1, sizeof(*p));
        p->r = r;
        p->q = *q;
        p->start = uv_now(r->loop);
        if (conn) {
                p->tcp = true;
                p->conn = conn;
        } else {
                memcpy(&p->peer, peer, plen);
                p->peerlen = plen;
        }
        if (!may_forward(r)) {
                p->answered = false;
                pending_fail(p, DNS_R_SERVFAIL);
                free(p);
                return;
        }
        if (r->inflight >= r->cfg.max_inflight) {
                pending_fail(p, DNS_R_REFUSED);
                free(p);
                return;
        }
        if (!r->fwd) {
                struct dns_fwd_config fc = {
                        .loop = r->loop, .ups = r->ups, .n_ups = r->n_ups, .netns_fd = r->netns_fd,
                        .timeout_ms = r->cfg.upstream_timeout_ms, .tries = r->cfg.upstream_tries,
                };

                if (dns_fwd_new(&fc, &r->fwd, NULL) < 0) {
                        r->fwd = NULL;
                        pending_fail(p, DNS_R_SERVFAIL);
                        free(p);
                        return;
                }
        }
        qlen = dns_forward_query_build(q, qbuf, sizeof(qbuf));
        if (!qlen) {
                pending_fail(p, DNS_R_SERVFAIL);
                free(p);
                return;
        }
        r->st.forwarded++;
        /* link (oldest first) for the deadline sweep */
        p->linked = true;
        p->prev = r->pt;
        if (r->pt)
                r->pt->next = p;
        else
                r->ph = p;
        r->pt = p;
        if (!uv_is_active((uv_handle_t *)&r->sweep))
                uv_timer_start(&r->sweep, on_sweep, SWEEP_MS, SWEEP_MS);
        r->refs++;
        r->inflight++;
        if (conn) {
                conn->refs++;
                conn->pending++;
        }
        dns_fwd_send(r->fwd, qbuf, qlen, on_forwarded, p);     /* may call back at once */
}

/* ---- one packet ---- */

/* Returns the reply length written to out (0: nothing to send now). */
static size_t handle(struct dns_resolver *r, const uint8_t *pkt, size_t len, bool tcp, uint8_t *out,
                     struct tcp_conn *conn, const struct sockaddr *peer, socklen_t plen)
{
        struct dns_scope sc;
        struct dns_query q;
        size_t olen = 0;
        int rcode = 0;
        enum dns_verdict v;

        r->st.queries++;
        scope_of(r, &sc);
        v = dns_handle_packet(&sc, pkt, len, tcp, &q, out, &olen, &rcode);
        switch (v) {
        case DNS_DROP:
                r->st.dropped++;
                return 0;
        case DNS_ANSWERED:
                r->st.local++;
                count_rcode(r, rcode);
                if (rcode == DNS_R_NOERROR && dns_get16(out + 6) == 0)
                        r->st.nodata++;
                return olen;
        case DNS_FORWARD:
                forward(r, &q, conn, peer, plen);
                return 0;
        }
        return 0;
}

/* ---- UDP ---- */

static void on_udp(uv_poll_t *h, int status, int events)
{
        struct dns_resolver *r = container_of(h, struct dns_resolver, udp_poll);
        struct dns_server *s = r->s;
        struct mmsghdr in[UDP_BATCH], out[UDP_BATCH];
        struct iovec iin[UDP_BATCH], iout[UDP_BATCH];
        struct sockaddr_storage peers[UDP_BATCH];

        if (status < 0 || r->stopping)
                return;
        for (int round = 0; round < UDP_ROUNDS; round++) {
                int n, nout = 0;

                for (int i = 0; i < UDP_BATCH; i++) {
                        iin[i].iov_base = s->rx[i];
                        iin[i].iov_len = sizeof(s->rx[i]);
                        memset(&in[i].msg_hdr, 0, sizeof(in[i].msg_hdr));
                        in[i].msg_hdr.msg_iov = &iin[i];
                        in[i].msg_hdr.msg_iovlen = 1;
                        in[i].msg_hdr.msg_name = &peers[i];
                        in[i].msg_hdr.msg_namelen = sizeof(peers[i]);
                }
                n = recvmmsg(r->udp_fd, in, UDP_BATCH, MSG_DONTWAIT, NULL);
                if (n <= 0)
                        break;
                for (int i = 0; i < n; i++) {
                        size_t len = in[i].msg_len, olen;

                        if (in[i].msg_hdr.msg_flags & MSG_TRUNC)
                                len = sizeof(s->rx[i]);
                        olen = handle(r, s->rx[i], len, false, s->tx[nout], NULL,
                                      (struct sockaddr *)&peers[i], in[i].msg_hdr.msg_namelen);
                        if (r->stopping)
                                return;
                        if (!olen)
                                continue;
                        iout[nout].iov_base = s->tx[nout];
                        iout[nout].iov_len = olen;
                        memset(&out[nout].msg_hdr, 0, sizeof(out[nout].msg_hdr));
                        out[nout].msg_hdr.msg_iov = &iout[nout];
                        out[nout].msg_hdr.msg_iovlen = 1;
                        out[nout].msg_hdr.msg_name = &peers[i];
                        out[nout].msg_hdr.msg_namelen = in[i].msg_hdr.msg_namelen;
                        nout++;
                }
                for (int sent = 0; sent < nout;) {
                        int k = sendmmsg(r->udp_fd, out + sent, (unsigned)(nout - sent), MSG_DONTWAIT);

                        if (k <= 0) {
                                if (k < 0 && errno == EINTR)
                                        continue;
                                /* EAGAIN or a bad peer: skip that one datagram */
                                sent++;
                                continue;
                        }
                        sent += k;
                }
                if (n < UDP_BATCH)
                        break;
        }
}

/* ---- TCP ---- */

static void tcp_conn_unref(struct tcp_conn *c)
{
        struct dns_resolver *r = c->r;

        if (--c->refs)
                return;
        buf_release(&c->in);
        free(c);
        resolver_unref(r);
}

static void on_conn_handle_closed(uv_handle_t *h)
{
        tcp_conn_unref(h->data);
}

static void tcp_conn_close(struct tcp_conn *c)
{
        struct dns_resolver *r = c->r;

        if (c->closing)
                return;
        c->closing = true;
        if (c->prev)
                c->prev->next = c->next;
        else
                r->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        r->n_conns--;
        uv_close((uv_handle_t *)&c->h, on_conn_handle_closed);
        uv_close((uv_handle_t *)&c->idle, on_conn_handle_closed);
}

static void on_tcp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
        struct tcp_conn *c = h->data;

        buf_grow(&c->in, 4096);
        b->base = c->in.data + c->in.len;
        b->len = c->in.cap - c->in.len - 1;
}

static void on_idle(uv_timer_t *t)
{
        struct tcp_conn *c = t->data;

        c->r->st.tcp_timeouts++;
        tcp_conn_close(c);
}

static void on_tcp_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
        struct tcp_conn *c = st->data;
        struct dns_resolver *r = c->r;
        size_t off = 0;

        if (n < 0) {
                tcp_conn_close(c);
                return;
        }
        c->in.len += (size_t)n;
        c->refs++;      /* handle() may close c */
        while (!c->closing && c->in.len - off >= 2) {
                size_t flen = dns_get16((uint8_t *)c->in.data + off), olen;

                if (flen < DNS_HDR_LEN) {
                        tcp_conn_close(c);      /* garbage: nothing to answer */
                        break;
                }
                if (c->in.len - off < 2 + flen)
                        break;
                uv_timer_again(&c->idle);
                olen = handle(r, (uint8_t *)c->in.data + off + 2, flen, true, r->s->big, c, NULL, 0);
                off += 2 + flen;
                if (olen)
                        tcp_send(c, r->s->big, olen);
                if (c->pending >= TCP_MAX_PENDING && c->reading) {
                        uv_read_stop((uv_stream_t *)&c->h);
                        c->reading = false;
                }
        }
        if (!c->closing)
                buf_consume(&c->in, off);
        tcp_conn_unref(c);
}

static void on_tcp_conn(uv_stream_t *srv, int status)
{
        struct dns_resolver *r = container_of((uv_tcp_t *)srv, struct dns_resolver, tcp);
        struct tcp_conn *c;

        if (status < 0 || r->stopping)
                return;
        c = xcalloc(1, sizeof(*c));
        c->r = r;
        buf_init(&c->in);
        uv_tcp_init(r->loop, &c->h);
        uv_timer_init(r->loop, &c->idle);
        c->h.data = c;
        c->idle.data = c;
        c->refs = 2;
        r->refs++;
        c->next = r->conns;
        if (r->conns)
                r->conns->prev = c;
        r->conns = c;
        r->n_conns++;
        r->st.tcp_conns++;
        if (uv_accept(srv, (uv_stream_t *)&c->h) < 0 || r->n_conns > r->cfg.tcp_max_conns) {
                tcp_conn_close(c);
                return;
        }
        uv_timer_start(&c->idle, on_idle, r->cfg.tcp_idle_ms, r->cfg.tcp_idle_ms);
        c->reading = uv_read_start((uv_stream_t *)&c->h, on_tcp_alloc, on_tcp_read) == 0;
        if (!c->reading)
                tcp_conn_close(c);
}

/* ---- opening the listeners in the netns ---- */

struct open_job {
        int netns_fd;
        struct sockaddr_storage laddr;
        unsigned rcvbuf;
        int udp_fd, tcp_fd;
        int status;
        char msg[160];
};

static void *open_thread(void *arg)
{
        struct open_job *j = arg;
        socklen_t alen = j->laddr.ss_family == AF_INET ? sizeof(struct sockaddr_in)
                                                       : sizeof(struct sockaddr_in6);
        int one = 1, rb = (int)j->rcvbuf;

        /* this thread only: it dies right after */
        if (j->netns_fd >= 0 && setns(j->netns_fd, CLONE_NEWNET) < 0) {
                j->status = -errno;
                snprintf(j->msg, sizeof(j->msg), "enter netns: %s", strerror(errno));
                return NULL;
        }
        j->udp_fd = socket(j->laddr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (j->udp_fd < 0)
                goto fail;
        if (setsockopt(j->udp_fd, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof(rb)) < 0)
                (void)setsockopt(j->udp_fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
        if (bind(j->udp_fd, (struct sockaddr *)&j->laddr, alen) < 0)
                goto fail;
        j->tcp_fd = socket(j->laddr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (j->tcp_fd < 0)
                goto fail;
        (void)setsockopt(j->tcp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(j->tcp_fd, (struct sockaddr *)&j->laddr, alen) < 0)
                goto fail;
        if (listen(j->tcp_fd, 4096) < 0)
                goto fail;
        return NULL;
fail:
        j->status = -errno;
        snprintf(j->msg, sizeof(j->msg), "listen on port %u: %s",
                 ntohs(((struct sockaddr_in *)&j->laddr)->sin_port), strerror(errno));
        return NULL;
}

static void on_open_work(uv_work_t *w)
{
        struct dns_resolver *r = container_of(w, struct dns_resolver, work);
        struct open_job j = { .netns_fd = r->netns_fd, .laddr = r->laddr,
                              .rcvbuf = r->cfg.udp_rcvbuf, .udp_fd = -1, .tcp_fd = -1 };
        pthread_t t;
        int e;

        /* a thread of its own: a pool thread never changes netns */
        e = pthread_create(&t, NULL, open_thread, &j);
        if (e) {
                j.status = -e;
                snprintf(j.msg, sizeof(j.msg), "thread: %s", strerror(e));
        } else {
                pthread_join(t, NULL);
        }
        if (j.status < 0) {
                if (j.udp_fd >= 0)
                        close(j.udp_fd);
                if (j.tcp_fd >= 0)
                        close(j.tcp_fd);
                j.udp_fd = j.tcp_fd = -1;
        }
        r->work_status = j.status;
        snprintf(r->work_msg, sizeof(r->work_msg), "%s", j.msg);
        r->udp_fd = j.udp_fd;
        r->tcp_fd = j.tcp_fd;
}

static uint16_t sock_port(int fd)
{
        struct sockaddr_storage ss;
        socklen_t l = sizeof(ss);

        if (getsockname(fd, (struct sockaddr *)&ss, &l) < 0)
                return 0;
        return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                             : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void on_handle_closed(uv_handle_t *h)
{
        resolver_unref(h->data);
}

static void on_udp_closed(uv_handle_t *h)
{
        struct dns_resolver *r = h->data;

        if (r->udp_fd >= 0)
                close(r->udp_fd);
        r->udp_fd = -1;
        resolver_unref(r);
}

static void on_open_done(uv_work_t *w, int status)
{
        struct dns_resolver *r = container_of(w, struct dns_resolver, work);
        int e = r->work_status;

        if (status < 0 && !e) {
                e = status;
                snprintf(r->work_msg, sizeof(r->work_msg), "cancelled");
        }
        if (!e && !r->stopping) {
                r->udp_port = sock_port(r->udp_fd);
                r->tcp_port = sock_port(r->tcp_fd);
                uv_poll_init_socket(r->loop, &r->udp_poll, r->udp_fd);
                uv_tcp_init(r->loop, &r->tcp);
                uv_timer_init(r->loop, &r->sweep);
                r->udp_poll.data = r->tcp.data = r->sweep.data = r;
                r->refs += 3;
                r->have_handles = true;
                e = uv_tcp_open(&r->tcp, r->tcp_fd);
                if (!e) {
                        r->tcp_fd = -1; /* the handle owns it */
                        e = uv_listen((uv_stream_t *)&r->tcp, 4096, on_tcp_conn);
                }
                if (!e)
                        e = uv_poll_start(&r->udp_poll, UV_READABLE, on_udp);
                if (e)
                        snprintf(r->work_msg, sizeof(r->work_msg), "serve: %s", uv_strerror(e));
                else
                        r->listening = true;
        }
        if (!r->have_handles) {
                if (r->udp_fd >= 0)
                        close(r->udp_fd);
                r->udp_fd = -1;
        }
        if (r->tcp_fd >= 0)
                close(r->tcp_fd);
        r->tcp_fd = -1;
        if (!r->stopping && r->cb) {
                dns_resolver_started_cb cb = r->cb;

                r->cb = NULL;
                if (e) {
                        r->refs++;      /* keep r alive across the stop for the callback */
                        dns_resolver_stop(r);
                        cb(r, e, r->work_msg, r->cb_data);
                        resolver_unref(r);
                } else {
                        cb(r, 0, NULL, r->cb_data);
                }
        }
        resolver_unref(r);      /* the work's reference */
}

static void resolver_free(struct dns_resolver *r)
{
        for (size_t i = 0; i < r->n_nets; i++)
                free(r->nets[i]);
        free(r->nets);
        if (r->netns_fd >= 0)
                close(r->netns_fd);
        cache_free_all(r);
        free(r->name);
        free(r);
}

static void resolver_unref(struct dns_resolver *r)
{
        if (--r->refs == 0)
                resolver_free(r);
}

static int set_upstreams(struct dns_resolver *r, const struct dns_upstream *ups, size_t n,
                         struct berth_err *err)
{
        size_t k = 0;

        for (size_t i = 0; i < n && k < DNS_MAX_UPSTREAMS; i++) {
                const struct sockaddr *sa = (const struct sockaddr *)&ups[i].addr;

                if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
                        return berth_err_set(err, EINVAL, "dns upstream %zu: bad address family", i);
                /* never forward to ourselves (moby #47744) */
                if (!ups[i].host_netns && sa->sa_family == r->laddr.ss_family &&
                    sa->sa_family == AF_INET &&
                    ((const struct sockaddr_in *)sa)->sin_addr.s_addr ==
                            ((const struct sockaddr_in *)&r->laddr)->sin_addr.s_addr)
                        continue;
                r->ups[k] = ups[i];
                if (sa->sa_family == AF_INET && !((struct sockaddr_in *)&r->ups[k].addr)->sin_port)
                        ((struct sockaddr_in *)&r->ups[k].addr)->sin_port = htons(53);
                if (sa->sa_family == AF_INET6 && !((struct sockaddr_in6 *)&r->ups[k].addr)->sin6_port)
                        ((struct sockaddr_in6 *)&r->ups[k].addr)->sin6_port = htons(53);
                k++;
        }
        r->n_ups = k;
        return 0;
}

int dns_resolver_start(struct dns_server *s, const struct dns_resolver_config *cfg,
                       dns_resolver_started_cb cb, void *data, struct dns_resolver **ret,
                       struct berth_err *err)
{
        struct dns_resolver *r;
        const char *la = cfg->listen_addr ? cfg->listen_addr : "127.0.0.11";
        uint16_t port = cfg->any_port ? 0 : cfg->port ? cfg->port : 53;
        int e;

        r = xcalloc(1, sizeof(*r));
        r->s = s;
        r->loop = s->loop;
        r->cfg = s->cfg;
        r->table = s->table;
        r->name = xstrdup(cfg->name ? cfg->name : "?");
        r->udp_fd = r->tcp_fd = -1;
        r->netns_fd = -1;
        if (inet_pton(AF_INET, la, &((struct sockaddr_in *)&r->laddr)->sin_addr) == 1) {
                r->laddr.ss_family = AF_INET;
                ((struct sockaddr_in *)&r->laddr)->sin_port = htons(port);
        } else if (inet_pton(AF_INET6, la, &((struct sockaddr_in6 *)&r->laddr)->sin6_addr) == 1) {
                r->laddr.ss_family = AF_INET6;
                ((struct sockaddr_in6 *)&r->laddr)->sin6_port = htons(port);
        } else {
                resolver_free(r);
                return berth_err_set(err, EINVAL, "dns: bad listen address '%s'", la);
        }
        e = set_upstreams(r, cfg->upstreams, cfg->n_upstreams, err);
        if (e < 0) {
                resolver_free(r);
                return e;
        }
        if (cfg->netns_fd >= 0) {
                r->netns_fd = fcntl(cfg->netns_fd, F_DUPFD_CLOEXEC, 3);
                if (r->netns_fd < 0) {
                        e = -errno;
                        resolver_free(r);
                        return berth_err_set(err, -e, "dns: dup netns fd: %s", strerror(-e));
                }
        }
        for (size_t i = 0; i < cfg->n_networks; i++) {
                e = dns_resolver_connect(r, cfg->networks[i], err);
                if (e < 0) {
                        resolver_free(r);
                        return e;
                }
        }
        r->ndots_set = cfg->ndots_set;
        r->cb = cb;
        r->cb_data = data;
        r->refs = 1;    /* the open work */
        e = uv_queue_work(r->loop, &r->work, on_open_work, on_open_done);
        if (e < 0) {
                resolver_free(r);
                return berth_err_set(err, -e, "dns: queue work: %s", uv_strerror(e));
        }
        r->next = s->resolvers;
        if (s->resolvers)
                s->resolvers->prev = r;
        s->resolvers = r;
        *ret = r;
        return 0;
}

int dns_resolver_connect(struct dns_resolver *r, const char *network, struct berth_err *err)
{
        for (size_t i = 0; i < r->n_nets; i++)
                if (!strcasecmp(r->nets[i], network))
                        return 0;
        if (!network || !*network)
                return berth_err_set(err, EINVAL, "dns: empty network name");
        if (r->n_nets == r->cap_nets) {
                r->cap_nets = r->cap_nets ? r->cap_nets * 2 : 4;
                r->nets = xrealloc(r->nets, r->cap_nets * sizeof(char *));
        }
        r->nets[r->n_nets++] = xstrdup(network);
        return 0;
}

int dns_resolver_disconnect(struct dns_resolver *r, const char *network, struct berth_err *err)
{
        for (size_t i = 0; i < r->n_nets; i++)
                if (!strcasecmp(r->nets[i], network)) {
                        free(r->nets[i]);
                        memmove(r->nets + i, r->nets + i + 1, (r->n_nets - i - 1) * sizeof(char *));
                        r->n_nets--;
                        return 0;
                }
        return berth_err_set(err, ENOENT, "dns: resolver '%s' is not on network '%s'", r->name,
                             network);
}

int dns_resolver_set_upstreams(struct dns_resolver *r, const struct dns_upstream *ups, size_t n,
                               struct berth_err *err)
{
        int e = set_upstreams(r, ups, n, err);

        if (e < 0)
                return e;
        /* queries in flight get SERVFAIL (cancelled); new ones use the new list */
        if (r->fwd) {
                struct dns_fwd *f = r->fwd;

                r->fwd = NULL;
                dns_fwd_free(f);
        }
        cache_free_all(r);
        return 0;
}

void dns_resolver_stop(struct dns_resolver *r)
{
        struct dns_server *s;

        if (!r || r->stopping)
                return;
        s = r->s;
        r->stopping = true;
        r->cb = NULL;
        if (r->prev)
                r->prev->next = r->next;
        else if (s->resolvers == r)
                s->resolvers = r->next;
        if (r->next)
                r->next->prev = r->prev;
        r->prev = r->next = NULL;
        r->refs++;
        if (r->fwd) {
                struct dns_fwd *f = r->fwd;

                r->fwd = NULL;
                dns_fwd_free(f);        /* pending callbacks run now: no replies (stopping) */
        }
        while (r->ph)
                pending_unlink(r->ph);
        while (r->conns)
                tcp_conn_close(r->conns);
        if (r->have_handles) {
                r->have_handles = false;
                uv_poll_stop(&r->udp_poll);
                uv_close((uv_handle_t *)&r->udp_poll, on_udp_closed);
                uv_close((uv_handle_t *)&r->tcp, on_handle_closed);
                uv_close((uv_handle_t *)&r->sweep, on_handle_closed);
        }
        r->listening = false;
        r->table = NULL;
        r->s = NULL;
        resolver_unref(r);
}

void dns_resolver_get_stats(const struct dns_resolver *r, struct dns_resolver_stats *ret)
{
        *ret = r->st;
        ret->inflight = r->inflight;
}

uint16_t dns_resolver_port(const struct dns_resolver *r, int socktype)
{
        if (!r->listening)
                return 0;
        return socktype == SOCK_STREAM ? r->tcp_port : r->udp_port;
}
