/* SPDX-License-Identifier: Apache-2.0
 * net/proxy.c -- the userland port proxy on the libuv loop (what
 * docker-proxy does): TCP connections spliced both ways with backpressure,
 * UDP datagrams relayed through one connected socket per client address. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "net/net-internal.h"

#define PROXY_BUF (256 * 1024)
#define PROXY_HIGH_WATER (1u << 20)     /* queued bytes before we stop reading */
#define UDP_BUF 65536
#define UDP_IDLE_MS 90000               /* dockerd's UDP conntrack timeout */
#define UDP_MAX_FLOWS 4096

struct tcp_side {
        uv_tcp_t h;
        char *rbuf;                     /* read buffer, reused while nothing is queued */
        size_t queued;                  /* bytes written to this side, not yet done */
        bool eof;                       /* this side sent EOF (we read UV_EOF) */
        bool shut;                      /* we shut down writing to this side */
};

struct tcp_conn {
        struct net_proxy *p;
        struct tcp_side c, b;           /* client, backend */
        uv_connect_t creq;
        int open_handles;
        bool connected, closing;
        struct tcp_conn *prev, *next;
};

struct udp_flow {
        struct net_proxy *p;
        uv_udp_t h;
        uv_timer_t idle;
        struct sockaddr_storage client;
        int open_handles;
        bool closing;
        struct udp_flow *prev, *next;
};

struct net_proxy {
        uv_loop_t *loop;
        int proto;
        union {
                uv_tcp_t tcp;
                uv_udp_t udp;
        } l;
        struct sockaddr_storage target;
        uint16_t port;
        int refs;                       /* listener + conns/flows */
        char *ubuf;                     /* UDP: datagram buffer */
        bool closing;
        struct tcp_conn *conns;
        struct udp_flow *flows;
        size_t n_flows;
};

struct wreq {
        uv_write_t w;
        struct tcp_conn *c;
        struct tcp_side *to;
        char *data;
        size_t len;
};

static void proxy_unref(struct net_proxy *p)
{
        if (--p->refs == 0) {
                free(p->ubuf);
                free(p);
        }
}

static int make_addr(const char *ip, uint16_t port, bool any_ok, struct sockaddr_storage *ss)
{
        memset(ss, 0, sizeof(*ss));
        if (!ip || !*ip) {
                if (!any_ok)
                        return -EINVAL;
                ip = "0.0.0.0";
        }
        if (strchr(ip, ':'))
                return uv_ip6_addr(ip, port, (struct sockaddr_in6 *)ss);
        return uv_ip4_addr(ip, port, (struct sockaddr_in *)ss);
}

/* ---- TCP ---- */

static void conn_closed_cb(uv_handle_t *h)
{
        struct tcp_conn *c = h->data;
        struct net_proxy *p = c->p;

        if (--c->open_handles > 0)
                return;
        if (c->prev)
                c->prev->next = c->next;
        else
                p->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        free(c->c.rbuf);
        free(c->b.rbuf);
        free(c);
        proxy_unref(p);
}

static void conn_close(struct tcp_conn *c)
{
        if (c->closing)
                return;
        c->closing = true;
        uv_close((uv_handle_t *)&c->c.h, conn_closed_cb);
        uv_close((uv_handle_t *)&c->b.h, conn_closed_cb);
}

static struct tcp_side *other(struct tcp_conn *c, struct tcp_side *s)
{
        return s == &c->c ? &c->b : &c->c;
}

static void maybe_done(struct tcp_conn *c)
{
        /* both directions finished and flushed */
        if (c->c.shut && c->b.shut && c->c.queued == 0 && c->b.queued == 0)
                conn_close(c);
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
        struct tcp_conn *c = req->data;

        free(req);
        if (c->closing)
                return;
        if (status < 0) {
                conn_close(c);
                return;
        }
        maybe_done(c);
}

static void side_shutdown(struct tcp_conn *c, struct tcp_side *s)
{
        uv_shutdown_t *req;

        if (s->shut)
                return;
        s->shut = true;
        req = xmalloc(sizeof(*req));
        req->data = c;
        if (uv_shutdown(req, (uv_stream_t *)&s->h, shutdown_cb) < 0) {
                free(req);
                conn_close(c);
        }
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
        struct tcp_conn *c = h->data;
        struct tcp_side *s = (uv_tcp_t *)h == &c->c.h ? &c->c : &c->b;

        (void)suggested;
        if (!s->rbuf)
                s->rbuf = xmalloc(PROXY_BUF);
        buf->base = s->rbuf;
        buf->len = PROXY_BUF;
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void write_cb(uv_write_t *w, int status)
{
        struct wreq *r = container_of(w, struct wreq, w);
        struct tcp_conn *c = r->c;
        struct tcp_side *to = r->to;

        to->queued -= r->len;
        free(r->data);
        free(r);
        if (c->closing)
                return;
        if (status < 0) {
                conn_close(c);
                return;
        }
        /* resume the reader that feeds this side */
        if (to->queued < PROXY_HIGH_WATER / 2 && !other(c, to)->eof)
                (void)uv_read_start((uv_stream_t *)&other(c, to)->h, alloc_cb, read_cb);
        if (other(c, to)->eof && to->queued == 0)
                side_shutdown(c, to);
        maybe_done(c);
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
        struct tcp_conn *c = st->data;
        struct tcp_side *from = (uv_tcp_t *)st == &c->c.h ? &c->c : &c->b;
        struct tcp_side *to = other(c, from);
        struct wreq *r;
        uv_buf_t b;
        int done = 0;

        /* buf->base is from->rbuf: it is reused, never freed here */
        if (nread == 0)
                return;
        if (nread < 0) {
                if (nread != UV_EOF) {
                        conn_close(c);
                        return;
                }
                from->eof = true;
                (void)uv_read_stop(st);
                if (to->queued == 0)
                        side_shutdown(c, to);
                maybe_done(c);
                return;
        }
        /* the common case: the kernel takes it all at once, nothing to queue */
        if (to->queued == 0) {
                b = uv_buf_init(buf->base, (unsigned int)nread);
                done = uv_try_write((uv_stream_t *)&to->h, &b, 1);
                if (done == UV_EAGAIN)
                        done = 0;
                if (done < 0) {
                        conn_close(c);
                        return;
                }
                if (done == nread)
                        return;
        }
        r = xmalloc(sizeof(*r));
        r->c = c;
        r->to = to;
        r->len = (size_t)(nread - done);
        r->data = xmalloc(r->len);
        memcpy(r->data, buf->base + done, r->len);
        b = uv_buf_init(r->data, (unsigned int)r->len);
        to->queued += r->len;
        if (uv_write(&r->w, (uv_stream_t *)&to->h, &b, 1, write_cb) < 0) {
                to->queued -= r->len;
                free(r->data);
                free(r);
                conn_close(c);
                return;
        }
        if (to->queued >= PROXY_HIGH_WATER)
                (void)uv_read_stop(st);
}

static void connect_cb(uv_connect_t *req, int status)
{
        struct tcp_conn *c = req->data;

        if (c->closing)
                return;
        if (status < 0) {
                conn_close(c);
                return;
        }
        c->connected = true;
        (void)uv_tcp_nodelay(&c->c.h, 1);
        (void)uv_tcp_nodelay(&c->b.h, 1);
        if (uv_read_start((uv_stream_t *)&c->c.h, alloc_cb, read_cb) < 0 ||
            uv_read_start((uv_stream_t *)&c->b.h, alloc_cb, read_cb) < 0)
                conn_close(c);
}

static void listen_cb(uv_stream_t *server, int status)
{
        struct net_proxy *p = server->data;
        struct tcp_conn *c;

        if (status < 0 || p->closing)
                return;
        c = xcalloc(1, sizeof(*c));
        c->p = p;
        (void)uv_tcp_init(p->loop, &c->c.h);
        (void)uv_tcp_init(p->loop, &c->b.h);
        c->c.h.data = c->b.h.data = c;
        c->open_handles = 2;
        p->refs++;
        c->next = p->conns;
        if (p->conns)
                p->conns->prev = c;
        p->conns = c;
        if (uv_accept(server, (uv_stream_t *)&c->c.h) < 0) {
                conn_close(c);
                return;
        }
        c->creq.data = c;
        if (uv_tcp_connect(&c->creq, &c->b.h, (struct sockaddr *)&p->target, connect_cb) < 0)
                conn_close(c);
}

/* ---- UDP ---- */

static void flow_closed_cb(uv_handle_t *h)
{
        struct udp_flow *f = h->data;
        struct net_proxy *p = f->p;

        if (--f->open_handles > 0)
                return;
        if (f->prev)
                f->prev->next = f->next;
        else
                p->flows = f->next;
        if (f->next)
                f->next->prev = f->prev;
        p->n_flows--;
        free(f);
        proxy_unref(p);
}

static void flow_close(struct udp_flow *f)
{
        if (f->closing)
                return;
        f->closing = true;
        uv_close((uv_handle_t *)&f->h, flow_closed_cb);
        uv_close((uv_handle_t *)&f->idle, flow_closed_cb);
}

static void flow_idle_cb(uv_timer_t *t)
{
        flow_close(t->data);
}

/* one datagram buffer per proxy: the loop is single-threaded and every
 * recv callback is done with it before the next read */
static void listener_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
        struct net_proxy *p = h->data;

        (void)suggested;
        buf->base = p->ubuf;
        buf->len = UDP_BUF;
}

static void flow_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
        struct udp_flow *f = h->data;

        listener_alloc_cb((uv_handle_t *)&f->p->l.udp, suggested, buf);
}

static void flow_recv_cb(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                         const struct sockaddr *addr, unsigned flags)
{
        struct udp_flow *f = h->data;
        uv_buf_t b;

        (void)addr;
        (void)flags;
        if (nread > 0 && !f->closing && !f->p->closing) {
                b = uv_buf_init(buf->base, (unsigned int)nread);
                (void)uv_udp_try_send(&f->p->l.udp, &b, 1, (struct sockaddr *)&f->client);
                (void)uv_timer_again(&f->idle);
        }
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr *b)
{
        if (a->ss_family != b->sa_family)
                return false;
        if (b->sa_family == AF_INET)
                return !memcmp(a, b, sizeof(struct sockaddr_in));
        return !memcmp(a, b, sizeof(struct sockaddr_in6));
}

static struct udp_flow *flow_get(struct net_proxy *p, const struct sockaddr *addr)
{
        struct udp_flow *f;

        for (f = p->flows; f; f = f->next)
                if (!f->closing && same_addr(&f->client, addr))
                        return f;
        if (p->n_flows >= UDP_MAX_FLOWS)
                return NULL;
        f = xcalloc(1, sizeof(*f));
        f->p = p;
        memcpy(&f->client, addr,
               addr->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
        (void)uv_udp_init(p->loop, &f->h);
        (void)uv_timer_init(p->loop, &f->idle);
        f->h.data = f->idle.data = f;
        f->open_handles = 2;
        p->refs++;
        p->n_flows++;
        f->next = p->flows;
        if (p->flows)
                p->flows->prev = f;
        p->flows = f;
        if (uv_udp_connect(&f->h, (struct sockaddr *)&p->target) < 0 ||
            uv_udp_recv_start(&f->h, flow_alloc_cb, flow_recv_cb) < 0) {
                flow_close(f);
                return NULL;
        }
        (void)uv_timer_start(&f->idle, flow_idle_cb, UDP_IDLE_MS, UDP_IDLE_MS);
        return f;
}

static void listener_recv_cb(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                             const struct sockaddr *addr, unsigned flags)
{
        struct net_proxy *p = h->data;
        struct udp_flow *f;
        uv_buf_t b;

        (void)flags;
        if (nread > 0 && addr && !p->closing && (f = flow_get(p, addr))) {
                b = uv_buf_init(buf->base, (unsigned int)nread);
                (void)uv_udp_try_send(&f->h, &b, 1, NULL);
                (void)uv_timer_again(&f->idle);
        }
}

/* ---- lifecycle ---- */

static void listener_closed_cb(uv_handle_t *h)
{
        proxy_unref(h->data);
}

int net_proxy_start(uv_loop_t *loop, const struct net_port_map *map, struct net_proxy **ret,
                    struct berth_err *err)
{
        struct sockaddr_storage local;
        struct net_proxy *p;
        const char *proto = map->proto == IPPROTO_UDP ? "udp" : "tcp";
        const char *hip = map->host_ip[0] ? map->host_ip :
                          (strchr(map->container_ip, ':') ? "::" : "0.0.0.0");
        int r, len;

        if (map->proto != IPPROTO_TCP && map->proto != IPPROTO_UDP)
                return berth_err_pub(err, EINVAL, "invalid protocol");
        if (make_addr(hip, map->host_port, true, &local) < 0)
                return berth_err_pub(err, EINVAL, "invalid host IP: %s", hip);
        p = xcalloc(1, sizeof(*p));
        if (make_addr(map->container_ip, map->container_port, false, &p->target) < 0) {
                free(p);
                return berth_err_pub(err, EINVAL, "invalid container IP: %s", map->container_ip);
        }
        p->loop = loop;
        p->proto = map->proto;
        p->refs = 1;
        if (map->proto == IPPROTO_TCP) {
                (void)uv_tcp_init(loop, &p->l.tcp);
                p->l.tcp.data = p;
                r = uv_tcp_bind(&p->l.tcp, (struct sockaddr *)&local,
                                local.ss_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
                if (r == 0)
                        r = uv_listen((uv_stream_t *)&p->l.tcp, 4096, listen_cb);
        } else {
                (void)uv_udp_init(loop, &p->l.udp);
                p->l.udp.data = p;
                p->ubuf = xmalloc(UDP_BUF);
                r = uv_udp_bind(&p->l.udp, (struct sockaddr *)&local,
                                local.ss_family == AF_INET6 ? UV_UDP_IPV6ONLY : 0);
                if (r == 0)
                        r = uv_udp_recv_start(&p->l.udp, listener_alloc_cb, listener_recv_cb);
        }
        if (r < 0) {
                p->closing = true;
                uv_close((uv_handle_t *)&p->l, listener_closed_cb);
                return berth_err_pub(err, -r == EADDRINUSE ? EADDRINUSE : -r,
                                     "cannot publish %s port %s:%u: %s", proto, hip,
                                     map->host_port, uv_strerror(r));
        }
        len = sizeof(local);
        if (map->proto == IPPROTO_TCP)
                (void)uv_tcp_getsockname(&p->l.tcp, (struct sockaddr *)&local, &len);
        else
                (void)uv_udp_getsockname(&p->l.udp, (struct sockaddr *)&local, &len);
        p->port = ntohs(local.ss_family == AF_INET ? ((struct sockaddr_in *)&local)->sin_port :
                                                     ((struct sockaddr_in6 *)&local)->sin6_port);
        *ret = p;
        return 0;
}

uint16_t net_proxy_port(const struct net_proxy *p)
{
        return p->port;
}

void net_proxy_close(struct net_proxy *p)
{
        struct tcp_conn *c, *cn;
        struct udp_flow *f, *fn;

        if (!p || p->closing)
                return;
        p->closing = true;
        for (c = p->conns; c; c = cn) {
                cn = c->next;
                conn_close(c);
        }
        for (f = p->flows; f; f = fn) {
                fn = f->next;
                flow_close(f);
        }
        uv_close((uv_handle_t *)&p->l, listener_closed_cb);
}
