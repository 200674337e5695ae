/* SPDX-License-Identifier: Apache-2.0
 * net/ipam.c -- address arithmetic and IP address management: subnets,
 * gateways, ip-ranges, first free / static allocation, default pools. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "net/net-internal.h"

static int family_bits(int family)
{
        return family == AF_INET ? 32 : 128;
}

static net_u128 mask_of(int family, int len)
{
        int bits = family_bits(family);
        net_u128 all = bits == 32 ? (net_u128)0xffffffffu : ~(net_u128)0;

        if (len <= 0)
                return 0;
        return all & ~((len >= bits) ? 0 : (all >> len));
}

int net__addr_parse(const char *s, struct net_addr *ret)
{
        unsigned char b[16];
        net_u128 v = 0;

        if (!s || !*s)
                return -EINVAL;
        if (inet_pton(AF_INET, s, b) == 1) {
                ret->family = AF_INET;
                ret->v = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
                         ((uint32_t)b[2] << 8) | b[3];
                return 0;
        }
        if (inet_pton(AF_INET6, s, b) == 1) {
                for (int i = 0; i < 16; i++)
                        v = (v << 8) | b[i];
                ret->family = AF_INET6;
                ret->v = v;
                return 0;
        }
        return -EINVAL;
}

void net__addr_bytes(const struct net_addr *a, unsigned char out[16])
{
        int n = a->family == AF_INET ? 4 : 16;
        net_u128 v = a->v;

        for (int i = n - 1; i >= 0; i--) {
                out[i] = (unsigned char)(v & 0xff);
                v >>= 8;
        }
}

void net__addr_fmt(const struct net_addr *a, char *out, size_t outlen)
{
        unsigned char b[16];

        if (a->family != AF_INET && a->family != AF_INET6) {
                if (outlen)
                        out[0] = '\0';
                return;
        }
        net__addr_bytes(a, b);
        if (!inet_ntop(a->family, b, out, (socklen_t)outlen) && outlen)
                out[0] = '\0';
}

int net__prefix_parse(const char *s, bool strict, struct net_prefix *ret)
{
        char tmp[NET_CIDR_MAX];
        const char *slash;
        struct net_addr a;
        int64_t len;

        if (!s)
                return -EINVAL;
        slash = strchr(s, '/');
        if (!slash || (size_t)(slash - s) >= sizeof(tmp))
                return -EINVAL;
        memcpy(tmp, s, (size_t)(slash - s));
        tmp[slash - s] = '\0';
        if (net__addr_parse(tmp, &a) < 0)
                return -EINVAL;
        if (berth_parse_int64(slash + 1, &len) < 0 || len < 0 ||
            len > family_bits(a.family))
                return -EINVAL;
        if (strict && (a.v & ~mask_of(a.family, (int)len)))
                return -EINVAL;
        ret->family = a.family;
        ret->len = (int)len;
        ret->addr = a.v & mask_of(a.family, (int)len);
        return 0;
}

void net__prefix_fmt(const struct net_prefix *p, char *out, size_t outlen)
{
        char a[NET_ADDR_MAX];
        struct net_addr x = { p->family, p->addr };

        net__addr_fmt(&x, a, sizeof(a));
        (void)snprintf(out, outlen, "%s/%d", a, p->len);
}

net_u128 net__prefix_last(const struct net_prefix *p)
{
        return p->addr | (~mask_of(p->family, p->len) &
                          (p->family == AF_INET ? (net_u128)0xffffffffu : ~(net_u128)0));
}

bool net__prefix_contains(const struct net_prefix *p, const struct net_addr *a)
{
        return a->family == p->family && (a->v & mask_of(p->family, p->len)) == p->addr;
}

bool net__prefix_overlaps(const struct net_prefix *a, const struct net_prefix *b)
{
        int len = a->len < b->len ? a->len : b->len;
        net_u128 m;

        if (a->family != b->family)
                return false;
        m = mask_of(a->family, len);
        return (a->addr & m) == (b->addr & m);
}

/* ---- pools ---- */

static size_t used_find(const struct net_ipam_pool *p, net_u128 v, bool *found)
{
        size_t lo = 0, hi = p->n_used;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (p->used[mid] < v)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *found = lo < p->n_used && p->used[lo] == v;
        return lo;
}

static int used_insert(struct net_ipam_pool *p, net_u128 v)
{
        bool found;
        size_t i = used_find(p, v, &found);

        if (found)
                return -EEXIST;
        if (p->n_used == p->cap) {
                p->cap = p->cap ? p->cap * 2 : 16;
                p->used = xrealloc(p->used, p->cap * sizeof(*p->used));
        }
        memmove(p->used + i + 1, p->used + i, (p->n_used - i) * sizeof(*p->used));
        p->used[i] = v;
        p->n_used++;
        return 0;
}

/* A host address of the subnet: for IPv4 neither the network nor the
 * broadcast address (unless /31 or /32). */
static bool is_host_addr(const struct net_prefix *s, net_u128 v)
{
        if (s->family != AF_INET || s->len >= 31)
                return true;
        return v != s->addr && v != net__prefix_last(s);
}

int net__ipam_pool_init(struct net_ipam_pool *p, int family, const char *subnet,
                        const char *gateway, const char *range, struct berth_err *err)
{
        const char *fam = family == AF_INET ? "IPv4" : "IPv6";

        memset(p, 0, sizeof(*p));
        if (net__prefix_parse(subnet, false, &p->subnet) < 0)
                return berth_err_pub(err, EINVAL, "invalid CIDR address: %s", subnet ? subnet : "");
        if (net__prefix_parse(subnet, true, &p->subnet) < 0) {
                char s[NET_CIDR_MAX];
                net__prefix_fmt(&p->subnet, s, sizeof(s));
                return berth_err_pub(err, EINVAL, "invalid subnet %s: it should be %s", subnet, s);
        }
        if (p->subnet.family != family)
                return berth_err_pub(err, EINVAL, "subnet '%s' is not an %s subnet", subnet, fam);
        if (family == AF_INET && p->subnet.len > 30)
                return berth_err_pub(err, EINVAL, "subnet '%s' is too small", subnet);
        if (family == AF_INET6 && p->subnet.len > 126)
                return berth_err_pub(err, EINVAL, "subnet '%s' is too small", subnet);
        p->range = p->subnet;
        if (range && *range) {
                if (net__prefix_parse(range, false, &p->range) < 0)
                        return berth_err_pub(err, EINVAL, "invalid CIDR address: %s", range);
                if (p->range.family != family || p->range.len < p->subnet.len ||
                    !net__prefix_overlaps(&p->range, &p->subnet))
                        return berth_err_pub(err, EINVAL, "ip-range '%s' is not inside subnet '%s'",
                                             range, subnet);
                p->has_range = true;
        }
        if (gateway && *gateway) {
                if (net__addr_parse(gateway, &p->gateway) < 0)
                        return berth_err_pub(err, EINVAL, "invalid gateway address: %s", gateway);
                if (!net__prefix_contains(&p->subnet, &p->gateway) ||
                    !is_host_addr(&p->subnet, p->gateway.v))
                        return berth_err_pub(err, EINVAL, "gateway '%s' is not in subnet '%s'",
                                             gateway, subnet);
        } else {
                p->gateway.family = family;
                p->gateway.v = p->subnet.addr + 1;
        }
        (void)used_insert(p, p->gateway.v);
        return 0;
}

void net__ipam_pool_release(struct net_ipam_pool *p)
{
        free(p->used);
        p->used = NULL;
        p->n_used = p->cap = 0;
}

int net__ipam_reserve(struct net_ipam_pool *p, const struct net_addr *a)
{
        if (a->family != p->subnet.family || !net__prefix_contains(&p->subnet, a))
                return -EINVAL;
        return used_insert(p, a->v);
}

int net__ipam_alloc(struct net_ipam_pool *p, const char *want, struct net_addr *ret,
                    struct berth_err *err)
{
        net_u128 cand, last;
        bool found;
        size_t i;

        if (want && *want) {
                struct net_addr a;
                if (net__addr_parse(want, &a) < 0 || a.family != p->subnet.family)
                        return berth_err_pub(err, EINVAL, "invalid address: %s", want);
                if (!net__prefix_contains(&p->subnet, &a) || !is_host_addr(&p->subnet, a.v)) {
                        char s[NET_CIDR_MAX];
                        net__prefix_fmt(&p->subnet, s, sizeof(s));
                        return berth_err_pub(err, EINVAL,
                                             "address %s is not a host address of subnet %s",
                                             want, s);
                }
                if (used_insert(p, a.v) < 0)
                        return berth_err_pub(err, EEXIST, "address %s: address already in use",
                                             want);
                *ret = a;
                return 0;
        }
        cand = p->range.addr;
        last = net__prefix_last(&p->range);
        if (!is_host_addr(&p->subnet, cand))
                cand++;
        if (p->subnet.family == AF_INET && p->subnet.len < 31 && last == net__prefix_last(&p->subnet))
                last--;
        /* IPv6: skip the subnet-router anycast address as well */
        if (p->subnet.family == AF_INET6 && cand == p->subnet.addr)
                cand++;
        i = used_find(p, cand, &found);
        for (; i < p->n_used && p->used[i] == cand; i++)
                cand++;
        if (cand > last || cand < p->range.addr) {
                char s[NET_CIDR_MAX];
                net__prefix_fmt(&p->range, s, sizeof(s));
                return berth_err_pub(err, ENOSPC, "no available addresses in %s", s);
        }
        (void)used_insert(p, cand);
        ret->family = p->subnet.family;
        ret->v = cand;
        return 0;
}

int net__ipam_release(struct net_ipam_pool *p, const struct net_addr *a)
{
        bool found;
        size_t i;

        if (a->family != p->subnet.family || a->v == p->gateway.v)
                return -ENOENT;
        i = used_find(p, a->v, &found);
        if (!found)
                return -ENOENT;
        memmove(p->used + i, p->used + i + 1, (p->n_used - i - 1) * sizeof(*p->used));
        p->n_used--;
        return 0;
}

/* ---- default pools ---- */

int net__default_pool_parse(const char *s, struct net_default_pool *ret, struct berth_err *err)
{
        char tmp[NET_CIDR_MAX];
        const char *last = strrchr(s, '/');
        const char *first = strchr(s, '/');
        int64_t size;

        if (first && last != first) {
                if ((size_t)(last - s) >= sizeof(tmp))
                        return berth_err_pub(err, EINVAL, "invalid address pool: %s", s);
                memcpy(tmp, s, (size_t)(last - s));
                tmp[last - s] = '\0';
                if (net__prefix_parse(tmp, false, &ret->base) < 0 ||
                    berth_parse_int64(last + 1, &size) < 0 || size < ret->base.len ||
                    size > family_bits(ret->base.family))
                        return berth_err_pub(err, EINVAL, "invalid address pool: %s", s);
                ret->size = (int)size;
                return 0;
        }
        if (net__prefix_parse(s, false, &ret->base) < 0)
                return berth_err_pub(err, EINVAL, "invalid address pool: %s", s);
        ret->size = ret->base.len;
        return 0;
}

int net__default_pool_pick(const struct net_default_pool *pools, size_t n_pools,
                           const struct net_prefix *taken, size_t n_taken,
                           struct net_prefix *ret, struct berth_err *err)
{
        for (size_t i = 0; i < n_pools; i++) {
                const struct net_default_pool *dp = &pools[i];
                int bits = family_bits(dp->base.family);
                net_u128 step = (net_u128)1 << (bits - dp->size);
                net_u128 count = (net_u128)1 << (dp->size - dp->base.len);

                if (dp->size - dp->base.len > 24)
                        count = (net_u128)1 << 24;      /* bound the search */
                for (net_u128 k = 0; k < count; k++) {
                        struct net_prefix c = { dp->base.family, dp->base.addr + k * step,
                                                dp->size };
                        bool busy = false;
                        for (size_t t = 0; t < n_taken && !busy; t++)
                                busy = net__prefix_overlaps(&c, &taken[t]);
                        if (!busy) {
                                *ret = c;
                                return 0;
                        }
                }
        }
        return berth_err_pub(err, ENOSPC,
                             "could not find an available, non-overlapping IPv4 address pool "
                             "among the defaults to assign to the network");
}

int net__host_routes_v4(const char *path, struct net_prefix **v, size_t *n)
{
        _cleanup_free_ char *data = NULL;
        char *line, *save = NULL;
        int r;

        r = berth_read_file(path ? path : "/proc/net/route", 1 << 22, &data, NULL, NULL);
        if (r < 0)
                return r;
        line = strtok_r(data, "\n", &save);     /* header */
        while (line && (line = strtok_r(NULL, "\n", &save))) {
                char ifname[64];
                unsigned int dst, gw, flags, refcnt, use, metric, mask;
                struct net_prefix p;
                uint32_t m;
                int len = 0;

                if (sscanf(line, "%63s %x %x %x %u %u %u %x", ifname, &dst, &gw, &flags,
                           &refcnt, &use, &metric, &mask) != 8)
                        continue;
                /* the file holds network byte order read as host (little endian) */
                m = ntohl(mask);
                while (len < 32 && (m & (0x80000000u >> len)))
                        len++;
                if (len == 0)
                        continue;       /* default route */
                p.family = AF_INET;
                p.len = len;
                p.addr = ntohl(dst) & mask_of(AF_INET, len);
                *v = xrealloc(*v, (*n + 1) * sizeof(**v));
                (*v)[(*n)++] = p;
        }
        return 0;
}

int net_cidr_split(const char *cidr, char *ret_subnet, size_t subnet_len, char *ret_addr,
                   size_t addr_len, struct berth_err *err)
{
        char tmp[NET_CIDR_MAX];
        struct net_prefix p;
        size_t n;

        if (!cidr || net__prefix_parse(cidr, false, &p) < 0)
                return berth_err_pub(err, EINVAL, "invalid CIDR address: %s", cidr ? cidr : "");
        n = strcspn(cidr, "/");
        if (n >= sizeof(tmp))
                return berth_err_pub(err, EINVAL, "invalid CIDR address: %s", cidr);
        memcpy(tmp, cidr, n);
        tmp[n] = '\0';
        net__prefix_fmt(&p, ret_subnet, subnet_len);
        (void)snprintf(ret_addr, addr_len, "%s", tmp);
        return 0;
}

int net_mac_from_ipv4(const char *ip, char *out, size_t outlen, struct berth_err *err)
{
        struct net_addr a;
        uint32_t v;

        if (net__addr_parse(ip, &a) < 0 || a.family != AF_INET)
                return berth_err_pub(err, EINVAL, "invalid IPv4 address: %s", ip ? ip : "");
        v = (uint32_t)a.v;
        (void)snprintf(out, outlen, "02:42:%02x:%02x:%02x:%02x", (v >> 24) & 0xff,
                       (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
        return 0;
}
