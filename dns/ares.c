/* SPDX-License-Identifier: Apache-2.0
 * dns/ares.c -- forwarding through c-ares on the loop: its sockets watched by
 * uv_poll, its timeouts on a uv timer.  The only file that includes <ares.h>.
 * Sockets toward upstreams outside the host's loopback are re-made inside the
 * container's netns at connect time (Docker dials those from the container). */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <ares.h>

#include "dns/dns-internal.h"
#include "lib/lib.h"

struct sockw {
        struct sockw *next;
        struct dns_fwd *f;
        int fd;
        bool closing;
        uv_poll_t poll;
};

struct dns_fwd {
        uv_loop_t *loop;
        ares_channel ch;
        bool ch_ok;
        uv_timer_t timer;
        struct sockw *socks;
        struct dns_upstream ups[DNS_MAX_UPSTREAMS];
        size_t n_ups;
        int netns_fd;
        unsigned handles;       /* open uv handles: free when 0 after dns_fwd_free */
        bool freeing;
};

struct fwd_req {
        struct dns_fwd *f;
        dns_fwd_cb cb;
        void *data;
};

static _Thread_local int self_netns = -1;

int dns_netns_socket(int netns_fd, int domain, int type, int protocol)
{
        int fd, saved;

        if (netns_fd < 0) {
                fd = socket(domain, type | SOCK_CLOEXEC, protocol);
                return fd < 0 ? -errno : fd;
        }
        if (self_netns < 0) {
                self_netns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
                if (self_netns < 0)
                        return -errno;
        }
        if (setns(netns_fd, CLONE_NEWNET) < 0)
                return -errno;
        fd = socket(domain, type | SOCK_CLOEXEC, protocol);
        saved = errno;
        if (setns(self_netns, CLONE_NEWNET) < 0) {
                /* this thread would stay in a container's netns: never go on */
                berth_bug("dns: cannot return to the daemon's netns: %s", strerror(errno));
                abort();
        }
        return fd < 0 ? -saved : fd;
}

static void fwd_maybe_free(struct dns_fwd *f)
{
        if (f->freeing && f->handles == 0)
                free(f);
}

static void on_handle_closed(uv_handle_t *h)
{
        struct dns_fwd *f = h->data;

        f->handles--;
        fwd_maybe_free(f);
}

static void on_sock_closed(uv_handle_t *h)
{
        struct sockw *w = container_of((uv_poll_t *)h, struct sockw, poll);
        struct dns_fwd *f = w->f;

        free(w);
        f->handles--;
        fwd_maybe_free(f);
}

static void on_timer(uv_timer_t *t);

static void reschedule(struct dns_fwd *f)
{
        struct timeval tv, *tvp;

        if (f->freeing || !f->ch_ok)
                return;
        tvp = ares_timeout(f->ch, NULL, &tv);
        if (!tvp) {
                uv_timer_stop(&f->timer);
                return;
        }
        uv_timer_start(&f->timer, on_timer, (uint64_t)tvp->tv_sec * 1000 + (uint64_t)tvp->tv_usec / 1000 + 1, 0);
}

static void on_timer(uv_timer_t *t)
{
        struct dns_fwd *f = container_of(t, struct dns_fwd, timer);

        ares_process_fd(f->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        reschedule(f);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
        struct sockw *w = container_of(p, struct sockw, poll);
        struct dns_fwd *f = w->f;
        int fd = w->fd;

        if (w->closing)
                return;
        ares_process_fd(f->ch, (status < 0 || (events & UV_READABLE)) ? fd : ARES_SOCKET_BAD,
                        (status < 0 || (events & UV_WRITABLE)) ? fd : ARES_SOCKET_BAD);
        reschedule(f);
}

static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
        struct dns_fwd *f = data;
        struct sockw *w, **pp;

        for (pp = &f->socks; (w = *pp); pp = &w->next)
                if (w->fd == fd)
                        break;
        if (!readable && !writable) {
                if (!w)
                        return;
                *pp = w->next;
                w->closing = true;
                uv_poll_stop(&w->poll);
                uv_close((uv_handle_t *)&w->poll, on_sock_closed);
                return;
        }
        if (!w) {
                w = xcalloc(1, sizeof(*w));
                w->f = f;
                w->fd = fd;
                if (uv_poll_init_socket(f->loop, &w->poll, fd) < 0) {
                        free(w);
                        return;         /* c-ares will time the query out */
                }
                f->handles++;
                w->next = f->socks;
                f->socks = w;
        }
        uv_poll_start(&w->poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0), on_poll);
}

/* ---- socket functions: non-blocking, CLOEXEC, and in the right netns ---- */
static ares_socket_t sf_socket(int domain, int type, int protocol, void *data)
{
        int fd = socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);

        return fd < 0 ? ARES_SOCKET_BAD : fd;
}

static int sf_close(ares_socket_t fd, void *data)
{
        return close(fd);
}

static bool needs_container_netns(struct dns_fwd *f, const struct sockaddr *sa)
{
        if (f->netns_fd < 0)
                return false;
        for (size_t i = 0; i < f->n_ups; i++) {
                const struct sockaddr *u = (const struct sockaddr *)&f->ups[i].addr;

                if (u->sa_family != sa->sa_family)
                        continue;
                if (sa->sa_family == AF_INET) {
                        const struct sockaddr_in *a = (const void *)sa, *b = (const void *)u;

                        if (a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port)
                                return !f->ups[i].host_netns;
                } else if (sa->sa_family == AF_INET6) {
                        const struct sockaddr_in6 *a = (const void *)sa, *b = (const void *)u;

                        if (!memcmp(&a->sin6_addr, &b->sin6_addr, 16) && a->sin6_port == b->sin6_port)
                                return !f->ups[i].host_netns;
                }
        }
        return true;    /* unknown: never from the host */
}

static int sf_connect(ares_socket_t fd, const struct sockaddr *sa, ares_socklen_t len, void *data)
{
        struct dns_fwd *f = data;

        if (needs_container_netns(f, sa)) {
                int type = 0, ns;
                socklen_t tl = sizeof(type);

                if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0)
                        return -1;
                ns = dns_netns_socket(f->netns_fd, sa->sa_family, type | SOCK_NONBLOCK, 0);
                if (ns < 0) {
                        errno = -ns;
                        return -1;
                }
                if (dup3(ns, fd, O_CLOEXEC) < 0) {
                        int e = errno;

                        close(ns);
                        errno = e;
                        return -1;
                }
                close(ns);
        }
        {
                int type = 0, one = 1;
                socklen_t tl = sizeof(type);

                if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM)
                        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
        return connect(fd, sa, len);
}

static ares_ssize_t sf_recvfrom(ares_socket_t fd, void *buf, size_t n, int flags,
                                struct sockaddr *from, ares_socklen_t *fromlen, void *data)
{
        return recvfrom(fd, buf, n, flags, from, fromlen);
}

static ares_ssize_t sf_sendv(ares_socket_t fd, const struct iovec *iov, int n, void *data)
{
        return writev(fd, iov, n);
}

static const struct ares_socket_functions sock_funcs = {
        .asocket = sf_socket,
        .aclose = sf_close,
        .aconnect = sf_connect,
        .arecvfrom = sf_recvfrom,
        .asendv = sf_sendv,
};

static int ares_to_errno(int status)
{
        switch (status) {
        case ARES_SUCCESS:
                return 0;
        case ARES_ETIMEOUT:
                return -ETIMEDOUT;
        case ARES_ECONNREFUSED:
                return -ECONNREFUSED;
        case ARES_ENOTFOUND:
                return -ENOENT;
        case ARES_ECANCELLED:
        case ARES_EDESTRUCTION:
                return -ECANCELED;
        case ARES_ENOMEM:
                return -ENOMEM;
        case ARES_EREFUSED:
                return -EACCES;
        default:
                return -EIO;
        }
}

int dns_fwd_new(const struct dns_fwd_config *cfg, struct dns_fwd **ret, struct berth_err *err)
{
        struct ares_options o;
        struct ares_addr_port_node nodes[DNS_MAX_UPSTREAMS];
        static char lookups[] = "b";
        struct dns_fwd *f;
        int r, mask;

        if (cfg->n_ups == 0)
                return berth_err_set(err, EINVAL, "dns: no upstream servers");
        r = ares_library_init(ARES_LIB_INIT_ALL);
        if (r != ARES_SUCCESS)
                return berth_err_set(err, EIO, "c-ares init: %s", ares_strerror(r));
        f = xcalloc(1, sizeof(*f));
        f->loop = cfg->loop;
        f->netns_fd = cfg->netns_fd;
        f->n_ups = cfg->n_ups > DNS_MAX_UPSTREAMS ? DNS_MAX_UPSTREAMS : cfg->n_ups;
        memcpy(f->ups, cfg->ups, f->n_ups * sizeof(f->ups[0]));

        memset(&o, 0, sizeof(o));
        /* EDNS: our forwarded queries end in an 11-byte OPT (c-ares strips
         * exactly that on a FORMERR without OPT); 4096-byte UDP answers */
        o.flags = ARES_FLAG_EDNS | ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
        o.timeout = (int)(cfg->timeout_ms ? cfg->timeout_ms : 1000);
        o.tries = (int)(cfg->tries ? cfg->tries : 2);
        o.ednspsz = DNS_MAX_UDP;
        o.sock_state_cb = sock_state_cb;
        o.sock_state_cb_data = f;
        o.lookups = lookups;
        o.ndomains = 0;
        o.domains = NULL;
        o.nservers = 0;
        o.servers = NULL;
        o.nsort = 0;
        mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_EDNSPSZ |
               ARES_OPT_SOCK_STATE_CB | ARES_OPT_LOOKUPS | ARES_OPT_DOMAINS | ARES_OPT_SERVERS |
               ARES_OPT_SORTLIST | ARES_OPT_NOROTATE;
        r = ares_init_options(&f->ch, &o, mask);
        if (r != ARES_SUCCESS) {
                free(f);
                return berth_err_set(err, EIO, "c-ares channel: %s", ares_strerror(r));
        }
        f->ch_ok = true;
        ares_set_socket_functions(f->ch, &sock_funcs, f);
        memset(nodes, 0, sizeof(nodes));
        for (size_t i = 0; i < f->n_ups; i++) {
                const struct sockaddr *sa = (const struct sockaddr *)&f->ups[i].addr;

                nodes[i].next = i + 1 < f->n_ups ? &nodes[i + 1] : NULL;
                nodes[i].family = sa->sa_family;
                if (sa->sa_family == AF_INET) {
                        const struct sockaddr_in *a = (const void *)sa;

                        nodes[i].addr.addr4 = a->sin_addr;
                        nodes[i].udp_port = nodes[i].tcp_port = ntohs(a->sin_port);
                } else {
                        const struct sockaddr_in6 *a = (const void *)sa;

                        memcpy(&nodes[i].addr.addr6, &a->sin6_addr, 16);
                        nodes[i].udp_port = nodes[i].tcp_port = ntohs(a->sin6_port);
                }
        }
        r = ares_set_servers_ports(f->ch, nodes);
        if (r != ARES_SUCCESS) {
                ares_destroy(f->ch);
                free(f);
                return berth_err_set(err, EIO, "c-ares servers: %s", ares_strerror(r));
        }
        uv_timer_init(f->loop, &f->timer);
        f->timer.data = f;
        f->handles++;
        *ret = f;
        return 0;
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
        struct fwd_req *req = arg;

        if (status == ARES_SUCCESS && abuf && alen >= DNS_HDR_LEN)
                req->cb(req->data, 0, abuf, (size_t)alen);
        else
                req->cb(req->data, status == ARES_SUCCESS ? -EIO : ares_to_errno(status), NULL, 0);
        free(req);
}

void dns_fwd_send(struct dns_fwd *f, const uint8_t *qbuf, size_t qlen, dns_fwd_cb cb, void *data)
{
        struct fwd_req *req = xmalloc(sizeof(*req));

        req->f = f;
        req->cb = cb;
        req->data = data;
        ares_send(f->ch, qbuf, (int)qlen, on_answer, req);
        reschedule(f);
}

void dns_fwd_free(struct dns_fwd *f)
{
        if (!f || f->freeing)
                return;
        f->freeing = true;
        /* callbacks run now with ARES_EDESTRUCTION; sockets are closed through
         * sock_state_cb (their polls close below) */
        ares_destroy(f->ch);
        f->ch_ok = false;
        while (f->socks) {
                struct sockw *w = f->socks;

                f->socks = w->next;
                w->closing = true;
                uv_poll_stop(&w->poll);
                uv_close((uv_handle_t *)&w->poll, on_sock_closed);
        }
        uv_close((uv_handle_t *)&f->timer, on_handle_closed);
}
