/* SPDX-License-Identifier: Apache-2.0
 * net/nl.c -- links, addresses and routes through libnl-3.  The only file
 * of berth that includes <netlink/...>: -NLE_* codes become -errno here.
 * Synchronous: each call is one or two netlink round trips on a socket
 * bound to one network namespace. */
#include "config.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/errno.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/vlan.h>
#include <netlink/route/route.h>

#include "net/net-internal.h"

struct net_nl {
        struct nl_sock *sock;
};

static int nle_to_errno(int r)
{
        switch (r < 0 ? -r : r) {
        case 0: return 0;
        case NLE_EXIST: return EEXIST;
        case NLE_OBJ_NOTFOUND: return ENOENT;
        case NLE_NODEV: return ENODEV;
        case NLE_PERM: return EPERM;
        case NLE_NOACCESS: return EACCES;
        case NLE_BUSY: return EBUSY;
        case NLE_INVAL: case NLE_RANGE: return EINVAL;
        case NLE_NOMEM: return ENOMEM;
        case NLE_OPNOTSUPP: return EOPNOTSUPP;
        case NLE_AGAIN: return EAGAIN;
        case NLE_AF_NOSUPPORT: return EAFNOSUPPORT;
        case NLE_MSGSIZE: return EMSGSIZE;
        case NLE_NOADDR: return EADDRNOTAVAIL;
        default: return EIO;
        }
}

static int nl_fail(struct berth_err *err, int r, const char *what, const char *name)
{
        return berth_err_set(err, nle_to_errno(r), "%s '%s': %s", what, name, nl_geterror(r));
}

static void link_putp(struct rtnl_link **l)
{
        if (*l)
                rtnl_link_put(*l);
}
#define _cleanup_link_ _cleanup_(link_putp)

static void nladdr_putp(struct nl_addr **a)
{
        if (*a)
                nl_addr_put(*a);
}
#define _cleanup_nladdr_ _cleanup_(nladdr_putp)

int net__nl_open(int netns_fd, struct net_nl **ret, struct berth_err *err)
{
        _cleanup_close_ int self = -1;
        struct net_nl *nl;
        int r, fd;

        if (netns_fd >= 0) {
                self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
                if (self < 0)
                        return berth_err_set(err, errno, "open own netns: %m");
                if (setns(netns_fd, CLONE_NEWNET) < 0)
                        return berth_err_set(err, errno, "enter netns: %m");
        }
        nl = xcalloc(1, sizeof(*nl));
        nl->sock = nl_socket_alloc();
        if (!nl->sock)
                berth_oom();
        r = nl_connect(nl->sock, NETLINK_ROUTE);
        if (self >= 0 && setns(self, CLONE_NEWNET) < 0) {
                /* the thread would stay in the container's netns: fatal */
                berth_bug("cannot return to own netns: %m");
                abort();
        }
        if (r < 0) {
                nl_socket_free(nl->sock);
                free(nl);
                return berth_err_set(err, nle_to_errno(r), "netlink connect: %s",
                                     nl_geterror(r));
        }
        fd = nl_socket_get_fd(nl->sock);
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        *ret = nl;
        return 0;
}

void net__nl_close(struct net_nl *nl)
{
        if (!nl)
                return;
        nl_socket_free(nl->sock);
        free(nl);
}

static int get_link(struct net_nl *nl, const char *name, struct rtnl_link **ret)
{
        int r = rtnl_link_get_kernel(nl->sock, 0, name, ret);

        if (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV)
                return -ENODEV;
        return r < 0 ? -nle_to_errno(r) : 0;
}

int net__nl_ifindex(struct net_nl *nl, const char *name)
{
        _cleanup_link_ struct rtnl_link *l = NULL;
        int r = get_link(nl, name, &l);

        return r < 0 ? r : rtnl_link_get_ifindex(l);
}

static int link_set_up(struct net_nl *nl, struct rtnl_link *old, const char *name,
                       struct berth_err *err)
{
        _cleanup_link_ struct rtnl_link *ch = rtnl_link_alloc();
        int r;

        if (!ch)
                berth_oom();
        rtnl_link_set_flags(ch, IFF_UP);
        r = rtnl_link_change(nl->sock, old, ch, 0);
        if (r < 0)
                return nl_fail(err, r, "set link up", name);
        return 0;
}

int net__nl_link_up(struct net_nl *nl, const char *name, struct berth_err *err)
{
        _cleanup_link_ struct rtnl_link *l = NULL;
        int r = get_link(nl, name, &l);

        if (r < 0)
                return berth_err_set(err, -r, "link '%s': %s", name, strerror(-r));
        if (rtnl_link_get_flags(l) & IFF_UP)
                return 0;
        return link_set_up(nl, l, name, err);
}

int net__nl_link_up_idx(struct net_nl *nl, int idx, const char *name, struct berth_err *err)
{
        _cleanup_link_ struct rtnl_link *old = rtnl_link_alloc();

        if (!old)
                berth_oom();
        /* the change request needs only the ifindex: no RTM_GETLINK first */
        rtnl_link_set_ifindex(old, idx);
        return link_set_up(nl, old, name, err);
}

int net__nl_index_exists(struct net_nl *nl, int ifindex)
{
        _cleanup_link_ struct rtnl_link *l = NULL;
        int r = rtnl_link_get_kernel(nl->sock, ifindex, NULL, &l);

        if (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV)
                return -ENODEV;
        return r < 0 ? -nle_to_errno(r) : 0;
}

int net__nl_bridge_ensure(struct net_nl *nl, const char *name, int mtu, struct berth_err *err)
{
        _cleanup_link_ struct rtnl_link *l = rtnl_link_alloc();
        _cleanup_link_ struct rtnl_link *old = NULL;
        const char *type;
        int r;

        if (!l)
                berth_oom();
        if (strlen(name) >= IFNAMSIZ)
                return berth_err_pub(err, EINVAL, "bridge name '%s' is too long", name);
        r = rtnl_link_set_type(l, "bridge");
        if (r < 0)
                return nl_fail(err, r, "bridge type", name);
        rtnl_link_set_name(l, name);
        if (mtu > 0)
                rtnl_link_set_mtu(l, (unsigned int)mtu);
        rtnl_link_set_flags(l, IFF_UP);
        r = rtnl_link_add(nl->sock, l, NLM_F_CREATE | NLM_F_EXCL);
        if (r == 0)
                return 0;
        if (r != -NLE_EXIST)
                return nl_fail(err, r, "create bridge", name);
        r = get_link(nl, name, &old);
        if (r < 0)
                return berth_err_set(err, -r, "bridge '%s': %s", name, strerror(-r));
        type = rtnl_link_get_type(old);
        if (!type || strcmp(type, "bridge") != 0)
                return berth_err_pub(err, EEXIST, "link '%s' exists and is not a bridge", name);
        if (mtu > 0 && rtnl_link_get_mtu(old) != (unsigned int)mtu) {
                _cleanup_link_ struct rtnl_link *ch = rtnl_link_alloc();
                if (!ch)
                        berth_oom();
                rtnl_link_set_mtu(ch, (unsigned int)mtu);
                r = rtnl_link_change(nl->sock, old, ch, 0);
                if (r < 0)
                        return nl_fail(err, r, "set mtu of bridge", name);
        }
        return link_set_up(nl, old, name, err);
}

int net__nl_link_set_master(struct net_nl *nl, const char *name, const char *master,
                            struct berth_err *err)
{
        _cleanup_link_ struct rtnl_link *l = NULL, *ch = NULL;
        int midx, r;

        midx = net__nl_ifindex(nl, master);
        if (midx < 0)
                return berth_err_set(err, -midx, "bridge '%s': %s", master, strerror(-midx));
        r = get_link(nl, name, &l);
        if (r < 0)
                return berth_err_set(err, -r, "link '%s': %s", name, strerror(-r));
        if (rtnl_link_get_master(l) == midx && (rtnl_link_get_flags(l) & IFF_UP))
                return 0;
        ch = rtnl_link_alloc();
        if (!ch)
                berth_oom();
        rtnl_link_set_master(ch, midx);
        rtnl_link_set_flags(ch, IFF_UP);
        r = rtnl_link_change(nl->sock, l, ch, 0);
        if (r < 0)
                return nl_fail(err, r, "attach to bridge", name);
        return 0;
}

int net__nl_link_del(struct net_nl *nl, const char *name, struct berth_err *err)
{
        _cleanup_link_ struct rtnl_link *l = rtnl_link_alloc();
        int r;

        if (!l)
                berth_oom();
        rtnl_link_set_name(l, name);
        r = rtnl_link_delete(nl->sock, l);
        if (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV)
                return 0;
        if (r < 0)
                return nl_fail(err, r, "delete link", name);
        return 0;
}

static int build_addr(const struct net_addr *a, int prefix, struct nl_addr **ret)
{
        unsigned char b[16];
        struct nl_addr *x;

        net__addr_bytes(a, b);
        x = nl_addr_build(a->family, b, a->family == AF_INET ? 4 : 16);
        if (!x)
                berth_oom();
        nl_addr_set_prefixlen(x, prefix);
        *ret = x;
        return 0;
}

int net__nl_addr_add(struct net_nl *nl, const char *ifname, const struct net_addr *a,
                     int prefix, struct berth_err *err)
{
        int idx = net__nl_ifindex(nl, ifname);

        if (idx < 0)
                return berth_err_set(err, -idx, "link '%s': %s", ifname, strerror(-idx));
        return net__nl_addr_add_idx(nl, idx, ifname, a, prefix, err);
}

int net__nl_addr_add_idx(struct net_nl *nl, int idx, const char *ifname, const struct net_addr *a,
                         int prefix, struct berth_err *err)
{
        _cleanup_nladdr_ struct nl_addr *local = NULL;
        struct rtnl_addr *ra;
        int r;

        ra = rtnl_addr_alloc();
        if (!ra)
                berth_oom();
        build_addr(a, prefix, &local);
        rtnl_addr_set_ifindex(ra, idx);
        rtnl_addr_set_family(ra, a->family);
        r = rtnl_addr_set_local(ra, local);
        if (r >= 0) {
                if (a->family == AF_INET6)
                        rtnl_addr_set_flags(ra, IFA_F_NODAD);
                r = rtnl_addr_add(nl->sock, ra, 0);
        }
        rtnl_addr_put(ra);
        if (r == -NLE_EXIST)
                return 0;
        if (r < 0) {
                char s[NET_ADDR_MAX];
                net__addr_fmt(a, s, sizeof(s));
                return berth_err_set(err, nle_to_errno(r), "add address %s/%d to '%s': %s",
                                     s, prefix, ifname, nl_geterror(r));
        }
        return 0;
}

int net__nl_route_default(struct net_nl *nl, const char *ifname, const struct net_addr *gw,
                          struct berth_err *err)
{
        int idx = net__nl_ifindex(nl, ifname);

        if (idx < 0)
                return berth_err_set(err, -idx, "link '%s': %s", ifname, strerror(-idx));
        return net__nl_route_default_idx(nl, idx, ifname, gw, err);
}

int net__nl_route_default_idx(struct net_nl *nl, int idx, const char *ifname,
                              const struct net_addr *gw, struct berth_err *err)
{
        _cleanup_nladdr_ struct nl_addr *dst = NULL, *via = NULL;
        struct net_addr zero = { gw->family, 0 };
        struct rtnl_route *rt;
        struct rtnl_nexthop *nh;
        int r;

        build_addr(&zero, 0, &dst);
        build_addr(gw, gw->family == AF_INET ? 32 : 128, &via);
        rt = rtnl_route_alloc();
        nh = rtnl_route_nh_alloc();
        if (!rt || !nh)
                berth_oom();
        rtnl_route_set_family(rt, (uint8_t)gw->family);
        rtnl_route_set_table(rt, RT_TABLE_MAIN);
        rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
        rtnl_route_set_protocol(rt, RTPROT_BOOT);
        rtnl_route_set_type(rt, RTN_UNICAST);
        r = rtnl_route_set_dst(rt, dst);
        rtnl_route_nh_set_ifindex(nh, idx);
        rtnl_route_nh_set_gateway(nh, via);
        rtnl_route_add_nexthop(rt, nh);
        if (r >= 0)
                r = rtnl_route_add(nl->sock, rt, NLM_F_CREATE | NLM_F_EXCL);
        rtnl_route_put(rt);
        if (r == -NLE_EXIST)
                return 0;
        if (r < 0) {
                char s[NET_ADDR_MAX];
                net__addr_fmt(gw, s, sizeof(s));
                return berth_err_set(err, nle_to_errno(r), "add default route via %s dev '%s': %s",
                                     s, ifname, nl_geterror(r));
        }
        return 0;
}

static int set_mac(struct rtnl_link *l, const char *mac, struct berth_err *err)
{
        _cleanup_nladdr_ struct nl_addr *a = NULL;
        int r;

        if (!mac || !*mac)
                return 0;
        r = nl_addr_parse(mac, AF_LLC, &a);
        if (r < 0 || nl_addr_get_len(a) != 6)
                return berth_err_pub(err, EINVAL, "invalid MAC address: %s", mac);
        rtnl_link_set_addr(l, a);
        return 0;
}

int net__nl_veth_create(struct net_nl *nl, const char *host_name, const char *master,
                        const char *peer_name, int netns_fd, const char *mac, int mtu,
                        struct berth_err *err)
{
        struct rtnl_link *l, *peer;
        int midx, r;

        midx = net__nl_ifindex(nl, master);
        if (midx < 0)
                return berth_err_set(err, -midx, "bridge '%s': %s", master, strerror(-midx));
        l = rtnl_link_veth_alloc();
        if (!l)
                berth_oom();
        peer = rtnl_link_veth_get_peer(l);
        rtnl_link_set_name(l, host_name);
        rtnl_link_set_master(l, midx);
        rtnl_link_set_flags(l, IFF_UP);
        rtnl_link_set_name(peer, peer_name);
        if (netns_fd >= 0)
                rtnl_link_set_ns_fd(peer, netns_fd);
        if (mtu > 0) {
                rtnl_link_set_mtu(l, (unsigned int)mtu);
                rtnl_link_set_mtu(peer, (unsigned int)mtu);
        }
        r = set_mac(peer, mac, err);
        if (r >= 0) {
                r = rtnl_link_add(nl->sock, l, NLM_F_CREATE | NLM_F_EXCL);
                if (r < 0)
                        r = berth_err_set(err, nle_to_errno(r), "create veth pair '%s'/'%s': %s",
                                          host_name, peer_name, nl_geterror(r));
        }
        rtnl_link_put(peer);
        rtnl_link_veth_release(l);
        return r < 0 ? r : 0;
}

int net__nl_macvlan_create(struct net_nl *nl, const char *name, const char *parent,
                           const char *mode, int netns_fd, const char *mac, int mtu,
                           struct berth_err *err)
{
        _cleanup_link_ struct rtnl_link *l = NULL;
        int pidx, m, r;

        pidx = net__nl_ifindex(nl, parent);
        if (pidx == -ENODEV)
                return berth_err_pub(err, ENODEV, "parent interface '%s' does not exist", parent);
        if (pidx < 0)
                return berth_err_set(err, -pidx, "parent '%s': %s", parent, strerror(-pidx));
        m = rtnl_link_macvlan_str2mode(mode && *mode ? mode : "bridge");
        if (m < 0)
                return berth_err_pub(err, EINVAL, "invalid macvlan mode: %s", mode);
        l = rtnl_link_macvlan_alloc();
        if (!l)
                berth_oom();
        rtnl_link_set_name(l, name);
        rtnl_link_set_link(l, pidx);
        r = rtnl_link_macvlan_set_mode(l, (uint32_t)m);
        if (r < 0)
                return nl_fail(err, r, "macvlan mode", mode);
        if (netns_fd >= 0)
                rtnl_link_set_ns_fd(l, netns_fd);
        if (mtu > 0)
                rtnl_link_set_mtu(l, (unsigned int)mtu);
        r = set_mac(l, mac, err);
        if (r < 0)
                return r;
        r = rtnl_link_add(nl->sock, l, NLM_F_CREATE | NLM_F_EXCL);
        if (r < 0)
                return berth_err_set(err, nle_to_errno(r), "create macvlan '%s' on '%s': %s",
                                     name, parent, nl_geterror(r));
        return 0;
}

int net__nl_vlan_create(struct net_nl *nl, const char *name, const char *parent, int vid,
                        struct berth_err *err)
{
        _cleanup_link_ struct rtnl_link *l = NULL;
        int pidx, r;

        pidx = net__nl_ifindex(nl, parent);
        if (pidx == -ENODEV)
                return berth_err_pub(err, ENODEV, "parent interface '%s' does not exist", parent);
        if (pidx < 0)
                return berth_err_set(err, -pidx, "parent '%s': %s", parent, strerror(-pidx));
        l = rtnl_link_vlan_alloc();
        if (!l)
                berth_oom();
        rtnl_link_set_name(l, name);
        rtnl_link_set_link(l, pidx);
        r = rtnl_link_vlan_set_id(l, (uint16_t)vid);
        if (r < 0)
                return nl_fail(err, r, "vlan id", name);
        r = rtnl_link_add(nl->sock, l, NLM_F_CREATE | NLM_F_EXCL);
        if (r == -NLE_OPNOTSUPP || r == -NLE_NOATTR || r == -NLE_AF_NOSUPPORT)
                return berth_err_pub(err, EOPNOTSUPP,
                                     "create VLAN sub-interface '%s': the kernel has no 802.1Q "
                                     "VLAN support (CONFIG_VLAN_8021Q / module 8021q): %s",
                                     name, nl_geterror(r));
        if (r < 0)
                return berth_err_set(err, nle_to_errno(r), "create VLAN sub-interface '%s': %s",
                                     name, nl_geterror(r));
        return net__nl_link_up(nl, name, err);
}

int net__nl_links_foreach(struct net_nl *nl, const char *prefix,
                          void (*cb)(const char *name, int master, void *data), void *data,
                          struct berth_err *err)
{
        struct nl_cache *cache = NULL;
        struct nl_object *o;
        size_t plen = strlen(prefix);
        int r;

        r = rtnl_link_alloc_cache(nl->sock, AF_UNSPEC, &cache);
        if (r < 0)
                return berth_err_set(err, nle_to_errno(r), "list links: %s", nl_geterror(r));
        for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
                const char *name = rtnl_link_get_name((struct rtnl_link *)o);
                if (name && strncmp(name, prefix, plen) == 0)
                        cb(name, rtnl_link_get_master((struct rtnl_link *)o), data);
        }
        nl_cache_free(cache);
        return 0;
}

int net__nl_free_ifname(struct net_nl *nl, const char *base, char *out, size_t outlen,
                        struct berth_err *err)
{
        for (int i = 0; i < 1000; i++) {
                int r;
                (void)snprintf(out, outlen, "%s%d", base, i);
                r = net__nl_ifindex(nl, out);
                if (r == -ENODEV)
                        return 0;
                if (r < 0)
                        return berth_err_set(err, -r, "link '%s': %s", out, strerror(-r));
        }
        return berth_err_set(err, ENOSPC, "no free interface name %sN", base);
}
