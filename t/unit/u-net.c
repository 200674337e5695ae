/* SPDX-License-Identifier: Apache-2.0
 * t/unit/u-net.c -- net/ without the kernel: address arithmetic, IPAM,
 * default pools, MAC derivation, -p parsing, the nftables renderer. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "net/net-internal.h"
#include "t/unit/tap.h"

static const char *fmt(const struct net_addr *a)
{
        static char s[4][NET_ADDR_MAX];
        static int i;

        i = (i + 1) % 4;
        net__addr_fmt(a, s[i], sizeof(s[i]));
        return s[i];
}

static void test_prefix(void)
{
        struct net_prefix p, q;
        struct net_addr a;
        char s[NET_CIDR_MAX];

        ok(net__prefix_parse("10.1.2.0/24", true, &p) == 0 && p.len == 24, "parse v4 prefix");
        net__prefix_fmt(&p, s, sizeof(s));
        is_str(s, "10.1.2.0/24", "format v4 prefix");
        ok(net__prefix_parse("10.1.2.3/24", true, &p) == -EINVAL, "strict refuses host bits");
        ok(net__prefix_parse("10.1.2.3/24", false, &p) == 0, "lax takes host bits");
        net__prefix_fmt(&p, s, sizeof(s));
        is_str(s, "10.1.2.0/24", "lax clears host bits");
        ok(net__prefix_parse("10.1.2/24", false, &p) < 0, "10.1.2/24 is invalid");
        ok(net__prefix_parse("10.1.2.0/33", false, &p) < 0, "/33 is invalid");
        ok(net__prefix_parse("10.1.2.0", false, &p) < 0, "no length is invalid");
        ok(net__prefix_parse("10.1.2.0/", false, &p) < 0, "empty length is invalid");
        ok(net__prefix_parse("10.1.2.0/-1", false, &p) < 0, "negative length is invalid");
        ok(net__prefix_parse("fd00:1::/64", true, &p) == 0 && p.family == AF_INET6, "v6 prefix");
        net__prefix_fmt(&p, s, sizeof(s));
        is_str(s, "fd00:1::/64", "format v6 prefix");
        ok(net__prefix_parse("fd00::/129", false, &p) < 0, "/129 is invalid");

        (void)net__prefix_parse("10.0.0.0/8", false, &p);
        (void)net__prefix_parse("10.200.0.0/16", false, &q);
        ok(net__prefix_overlaps(&p, &q) && net__prefix_overlaps(&q, &p), "overlap both ways");
        (void)net__prefix_parse("11.0.0.0/8", false, &q);
        ok(!net__prefix_overlaps(&p, &q), "no overlap");
        (void)net__prefix_parse("fd00::/8", false, &q);
        ok(!net__prefix_overlaps(&p, &q), "families never overlap");
        (void)net__addr_parse("10.255.255.255", &a);
        ok(net__prefix_contains(&p, &a), "contains last address");
        ok(net__prefix_last(&p) == a.v, "last address");
        (void)net__prefix_parse("0.0.0.0/0", false, &p);
        ok(net__prefix_contains(&p, &a), "/0 contains everything");
}

static void test_ipam_v4(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct net_ipam_pool p;
        struct net_addr a, b;

        ok(net__ipam_pool_init(&p, AF_INET, "172.17.0.0/16", NULL, NULL, &err) == 0, "pool init");
        is_str(fmt(&p.gateway), "172.17.0.1", "default gateway is the first address");
        ok(net__ipam_alloc(&p, NULL, &a, &err) == 0, "alloc");
        is_str(fmt(&a), "172.17.0.2", "first free address");
        ok(net__ipam_alloc(&p, NULL, &b, &err) == 0, "alloc 2");
        is_str(fmt(&b), "172.17.0.3", "second");
        ok(net__ipam_alloc(&p, "172.17.0.3", &b, &err) == -EEXIST && err.public,
           "static in use: -EEXIST, public");
        ok(strstr(err.msg, "already in use") != NULL, "message: %s", err.msg);
        ok(net__ipam_alloc(&p, "172.17.0.1", &b, &err) == -EEXIST, "gateway is taken");
        ok(net__ipam_alloc(&p, "172.17.0.0", &b, &err) == -EINVAL, "network address refused");
        ok(net__ipam_alloc(&p, "172.17.255.255", &b, &err) == -EINVAL, "broadcast refused");
        ok(net__ipam_alloc(&p, "172.18.0.5", &b, &err) == -EINVAL, "outside refused");
        ok(net__ipam_alloc(&p, "fd00::5", &b, &err) == -EINVAL, "wrong family refused");
        ok(net__ipam_alloc(&p, "172.17.0.5", &b, &err) == 0, "static 172.17.0.5");
        ok(net__ipam_alloc(&p, NULL, &b, &err) == 0 && !strcmp(fmt(&b), "172.17.0.4"),
           "first free skips nothing: %s", fmt(&b));
        ok(net__ipam_alloc(&p, NULL, &b, &err) == 0 && !strcmp(fmt(&b), "172.17.0.6"),
           "first free jumps over the static one: %s", fmt(&b));
        ok(net__ipam_release(&p, &a) == 0, "release .2");
        ok(net__ipam_release(&p, &a) == -ENOENT, "double release is -ENOENT");
        ok(net__ipam_release(&p, &p.gateway) == -ENOENT, "gateway cannot be released");
        ok(net__ipam_alloc(&p, NULL, &b, &err) == 0 && !strcmp(fmt(&b), "172.17.0.2"),
           "released address is reused");
        net__ipam_pool_release(&p);

        /* a /30 has two host addresses: gateway + one */
        ok(net__ipam_pool_init(&p, AF_INET, "10.0.0.0/30", NULL, NULL, &err) == 0, "/30");
        ok(net__ipam_alloc(&p, NULL, &a, &err) == 0 && !strcmp(fmt(&a), "10.0.0.2"), "/30 .2");
        ok(net__ipam_alloc(&p, NULL, &a, &err) == -ENOSPC, "/30 full: -ENOSPC");
        net__ipam_pool_release(&p);

        /* gateway at the end, allocation from an ip-range */
        ok(net__ipam_pool_init(&p, AF_INET, "10.5.0.0/16", "10.5.255.254", "10.5.7.0/30",
                               &err) == 0, "range");
        ok(net__ipam_alloc(&p, NULL, &a, &err) == 0 && !strcmp(fmt(&a), "10.5.7.0"),
           "range start: %s", fmt(&a));
        for (int i = 0; i < 3; i++)
                (void)net__ipam_alloc(&p, NULL, &a, &err);
        is_str(fmt(&a), "10.5.7.3", "range end");
        ok(net__ipam_alloc(&p, NULL, &a, &err) == -ENOSPC, "range full");
        ok(net__ipam_alloc(&p, "10.5.9.9", &a, &err) == 0, "static outside the range, in the subnet");
        net__ipam_pool_release(&p);

        /* validation */
        ok(net__ipam_pool_init(&p, AF_INET, "10.1.2/24", NULL, NULL, &err) == -EINVAL &&
           strstr(err.msg, "invalid CIDR"), "invalid CIDR: %s", err.msg);
        net__ipam_pool_release(&p);
        ok(net__ipam_pool_init(&p, AF_INET, "10.1.0.0/24", "10.2.0.1", NULL, &err) == -EINVAL &&
           strstr(err.msg, "not in subnet"), "gateway outside: %s", err.msg);
        net__ipam_pool_release(&p);
        ok(net__ipam_pool_init(&p, AF_INET, "10.1.0.0/24", "10.1.0.255", NULL, &err) == -EINVAL,
           "gateway on broadcast");
        net__ipam_pool_release(&p);
        ok(net__ipam_pool_init(&p, AF_INET, "10.1.0.0/24", NULL, "10.1.0.0/16", &err) == -EINVAL,
           "range larger than subnet");
        net__ipam_pool_release(&p);
        ok(net__ipam_pool_init(&p, AF_INET, "10.1.0.0/24", NULL, "10.3.0.0/28", &err) == -EINVAL &&
           strstr(err.msg, "not inside subnet"), "range outside: %s", err.msg);
        net__ipam_pool_release(&p);
        ok(net__ipam_pool_init(&p, AF_INET, "fd00::/64", NULL, NULL, &err) == -EINVAL,
           "v6 subnet in a v4 pool");
        net__ipam_pool_release(&p);
        ok(net__ipam_pool_init(&p, AF_INET, "10.1.0.0/31", NULL, NULL, &err) == -EINVAL,
           "/31 is too small");
        net__ipam_pool_release(&p);
        ok(net__ipam_pool_init(&p, AF_INET, "10.1.0.0/24", "banana", NULL, &err) == -EINVAL,
           "gateway not an address");
        net__ipam_pool_release(&p);
}

static void test_ipam_v6(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct net_ipam_pool p;
        struct net_addr a;

        ok(net__ipam_pool_init(&p, AF_INET6, "fd00:1::/64", NULL, NULL, &err) == 0, "v6 pool");
        is_str(fmt(&p.gateway), "fd00:1::1", "v6 gateway ::1");
        ok(net__ipam_alloc(&p, NULL, &a, &err) == 0, "v6 alloc");
        is_str(fmt(&a), "fd00:1::2", "v6 first free ::2");
        ok(net__ipam_alloc(&p, "fd00:1::ffff:ffff:ffff:ffff", &a, &err) == 0,
           "v6 last address is a host address");
        ok(net__ipam_alloc(&p, "fd00:1::ffff:ffff:ffff:ffff", &a, &err) == -EEXIST, "v6 conflict");
        ok(net__ipam_alloc(&p, "fd00:2::1", &a, &err) == -EINVAL, "v6 outside");
        net__ipam_pool_release(&p);
        ok(net__ipam_pool_init(&p, AF_INET6, "fd00:1::/64", "fd00:1::abcd", "fd00:1::100/120",
                               &err) == 0, "v6 range + gateway");
        ok(net__ipam_alloc(&p, NULL, &a, &err) == 0 && !strcmp(fmt(&a), "fd00:1::100"),
           "v6 range start: %s", fmt(&a));
        net__ipam_pool_release(&p);
}

static void test_pools(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct net_default_pool dp[2];
        struct net_prefix taken[3], got;
        char s[NET_CIDR_MAX];
        FILE *f;
        struct net_prefix *routes = NULL;
        size_t n_routes = 0;
        char path[] = "/tmp/u-net-route.XXXXXX";
        int fd;

        ok(net__default_pool_parse("172.17.0.0/12/16", &dp[0], &err) == 0 && dp[0].size == 16,
           "pool parse");
        ok(net__default_pool_parse("192.168.0.0/16/20", &dp[1], &err) == 0, "pool 2");
        ok(net__default_pool_parse("192.168.0.0/16/8", &dp[1], &err) == -EINVAL, "size < base");
        ok(net__default_pool_parse("192.168.0.0/16/20", &dp[1], &err) == 0, "pool 2 again");
        ok(net__default_pool_pick(dp, 2, NULL, 0, &got, &err) == 0, "pick");
        net__prefix_fmt(&got, s, sizeof(s));
        is_str(s, "172.16.0.0/16", "first of the pool");
        (void)net__prefix_parse("172.16.0.0/16", false, &taken[0]);
        (void)net__prefix_parse("172.17.5.0/24", false, &taken[1]);   /* a host route */
        (void)net__prefix_parse("172.18.0.0/15", false, &taken[2]);
        ok(net__default_pool_pick(dp, 2, taken, 3, &got, &err) == 0, "pick with taken");
        net__prefix_fmt(&got, s, sizeof(s));
        is_str(s, "172.20.0.0/16", "skips networks and routes");
        (void)net__prefix_parse("172.16.0.0/12", false, &taken[0]);
        ok(net__default_pool_pick(dp, 2, taken, 1, &got, &err) == 0, "next pool");
        net__prefix_fmt(&got, s, sizeof(s));
        is_str(s, "192.168.0.0/20", "second pool in /20");
        (void)net__prefix_parse("192.168.0.0/16", false, &taken[1]);
        ok(net__default_pool_pick(dp, 2, taken, 2, &got, &err) == -ENOSPC && err.public,
           "all taken: -ENOSPC");

        /* /proc/net/route format: little-endian hex */
        fd = mkstemp(path);
        f = fdopen(fd, "w");
        fprintf(f, "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
                   "eth0\t00000000\t0102000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
                   "eth0\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
                   "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n");
        fclose(f);
        ok(net__host_routes_v4(path, &routes, &n_routes) == 0 && n_routes == 2,
           "routes parsed without the default one (%zu)", n_routes);
        if (n_routes == 2) {
                net__prefix_fmt(&routes[0], s, sizeof(s));
                is_str(s, "10.0.0.0/24", "route 1");
                net__prefix_fmt(&routes[1], s, sizeof(s));
                is_str(s, "172.17.0.0/16", "route 2");
        }
        unlink(path);
        free(routes);
}

static void test_mac(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        char mac[18];

        ok(net_mac_from_ipv4("172.17.0.2", mac, sizeof(mac), &err) == 0, "mac");
        is_str(mac, "02:42:ac:11:00:02", "Docker's MAC for 172.17.0.2");
        (void)net_mac_from_ipv4("10.255.1.200", mac, sizeof(mac), &err);
        is_str(mac, "02:42:0a:ff:01:c8", "MAC for 10.255.1.200");
        ok(net_mac_from_ipv4("fd00::1", mac, sizeof(mac), &err) == -EINVAL, "no MAC from v6");
}

static void test_cidr_split(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct net_ipam_pool p;
        char sub[NET_CIDR_MAX], addr[NET_ADDR_MAX];

        ok(net_cidr_split("10.10.0.1/24", sub, sizeof(sub), addr, sizeof(addr), &err) == 0, "bip");
        is_str(sub, "10.10.0.0/24", "bip subnet");
        is_str(addr, "10.10.0.1", "bip gateway");
        ok(net_cidr_split("fd00::1/64", sub, sizeof(sub), addr, sizeof(addr), &err) == 0 &&
           !strcmp(sub, "fd00::/64") && !strcmp(addr, "fd00::1"), "v6 bip");
        ok(net_cidr_split("10.10.0.1", sub, sizeof(sub), addr, sizeof(addr), &err) == -EINVAL,
           "no prefix length");
        ok(net__ipam_pool_init(&p, AF_INET, "10.10.0.1/24", NULL, NULL, &err) == -EINVAL &&
           strstr(err.msg, "it should be 10.10.0.0/24"), "subnet with host bits: %s", err.msg);
        net__ipam_pool_release(&p);
}

static void test_ports(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct net_port_map *m = NULL;
        size_t n = 0;

        ok(net_port_spec_parse("80", &m, &n, &err) == 0 && n == 1 && m[0].host_port == 0 &&
           m[0].container_port == 80 && m[0].proto == IPPROTO_TCP, "80");
        free(m);
        ok(net_port_spec_parse("8080:80/udp", &m, &n, &err) == 0 && n == 1 &&
           m[0].host_port == 8080 && m[0].proto == IPPROTO_UDP, "8080:80/udp");
        free(m);
        ok(net_port_spec_parse("127.0.0.1:8080:80", &m, &n, &err) == 0 &&
           !strcmp(m[0].host_ip, "127.0.0.1"), "ip:host:container");
        free(m);
        ok(net_port_spec_parse("127.0.0.1::80", &m, &n, &err) == 0 && m[0].host_port == 0,
           "ip::container is ephemeral");
        free(m);
        ok(net_port_spec_parse("[::1]:9000:90", &m, &n, &err) == 0 && !strcmp(m[0].host_ip, "::1") &&
           m[0].host_port == 9000, "[v6]:host:container");
        free(m);
        ok(net_port_spec_parse("7000-7002:80-82", &m, &n, &err) == 0 && n == 3 &&
           m[2].host_port == 7002 && m[2].container_port == 82, "ranges");
        free(m);
        ok(net_port_spec_parse("7000-7002:80", &m, &n, &err) == 0 && n == 1 &&
           m[0].host_port == 7000, "host range for one port");
        free(m);
        m = NULL;
        ok(net_port_spec_parse("65536", &m, &n, &err) == -EINVAL && err.public, "65536");
        ok(net_port_spec_parse("0", &m, &n, &err) == -EINVAL, "0");
        ok(net_port_spec_parse("99999:80", &m, &n, &err) == -EINVAL &&
           strstr(err.msg, "invalid hostPort"), "host port out of range: %s", err.msg);
        ok(net_port_spec_parse("80-79", &m, &n, &err) == -EINVAL, "reverse range");
        ok(net_port_spec_parse("1-3:1-2", &m, &n, &err) == -EINVAL, "range length mismatch");
        ok(net_port_spec_parse("80/icmp", &m, &n, &err) == -EINVAL, "bad proto");
        ok(net_port_spec_parse("x:80:80", &m, &n, &err) == -EINVAL, "bad ip");
        ok(net_port_spec_parse("abc", &m, &n, &err) == -EINVAL, "not a number");
        ok(net_port_spec_parse("", &m, &n, &err) == -EINVAL, "empty");
        ok(m == NULL, "nothing allocated on errors");
}

static void test_nat_render(void)
{
        struct net_nat_net nets[2] = {
                { "br-a", "10.1.0.0/24", "fd00:a::/64", false },
                { "br-b", "10.2.0.0/24", NULL, true },
        };
        struct net_port_map pm[2] = {
                { IPPROTO_TCP, "", 8080, "10.1.0.2", 80 },
                { IPPROTO_UDP, "127.0.0.1", 53, "10.1.0.2", 5353 },
        };
        struct net_nat_port ports[2] = { { &pm[0], "br-a" }, { &pm[1], NULL } };
        struct buf b = BUF_INIT;
        const char *s;

        net__nat_render(&b, "berth", nets, 2, ports, 2, false);
        s = buf_cstr(&b);
        ok(berth_str_has_prefix(s, "table inet berth\ndelete table inet berth\n"),
           "replaces the table in one transaction");
        ok(strstr(s, "ip saddr 10.1.0.0/24 oifname != \"br-a\" masquerade") != NULL, "masq v4");
        ok(strstr(s, "ip6 saddr fd00:a::/64 oifname != \"br-a\" masquerade") != NULL, "masq v6");
        ok(strstr(s, "10.2.0.0/24") == NULL, "no masquerade for an internal network");
        ok(strstr(s, "iifname \"br-b\" oifname != \"br-b\" drop") != NULL, "internal stays");
        ok(strstr(s, "iifname \"br-a\" oifname \"br-b\" drop") != NULL, "isolation a->b");
        ok(strstr(s, "iifname \"br-b\" oifname \"br-a\" drop") != NULL, "isolation b->a");
        ok(strstr(s, "meta nfproto ipv4 iifname != \"br-a\" tcp dport 8080 dnat ip to 10.1.0.2:80"),
           "dnat all addresses");
        ok(strstr(s, "ip daddr 127.0.0.1 udp dport 53 dnat ip to 10.1.0.2:5353"), "dnat one ip");
        ok(strstr(s, "ip saddr 10.1.0.2 ip daddr 10.1.0.2 tcp dport 80 masquerade"), "hairpin");
        ok(strstr(s, "ip daddr != 127.0.0.0/8 fib daddr type local jump ports"),
           "with the userland proxy, loopback is not DNATed");
        ok(!strstr(s, "ip saddr 127.0.0.0/8"), "nor masqueraded");
        buf_reset(&b);
        net__nat_render(&b, "berth", nets, 2, ports, 2, true);
        s = buf_cstr(&b);
        ok(strstr(s, "meta nfproto ipv4 fib daddr type local jump ports") &&
           !strstr(s, "ip daddr != 127.0.0.0/8"), "without it, loopback is DNATed too");
        ok(strstr(s, "ip6 daddr != ::1 fib daddr type local jump ports"), "but never ::1");
        ok(strstr(s, "ip saddr 127.0.0.0/8 oifname \"br-a\" masquerade") &&
           !strstr(s, "oifname \"br-b\" masquerade"), "loopback masqueraded onto non-internal bridges");
        buf_reset(&b);
        net__nat_render(&b, "berth", NULL, 0, NULL, 0, false);
        is_str(buf_cstr(&b), "table inet berth\ndelete table inet berth\n",
               "nothing left: the table is only deleted");
        buf_release(&b);
}

static void test_files(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        const char *dns[] = { "10.0.0.1", NULL };
        const char *none[] = { NULL };
        const char *hosts[] = { "a:1.2.3.4", NULL };
        struct net_host_entry self = { "172.17.0.2", "abc" };
        struct net_files_config c = { 0 };
        struct buf b = BUF_INIT;

        c.hostname = "abc";
        c.dns = dns;
        c.dns_search = none;
        c.dns_options = none;
        c.extra_hosts = hosts;
        c.self = &self;
        c.n_self = 1;
        c.host_resolv_conf = "/nonexistent/resolv.conf";
        ok(net_resolv_conf_render(&c, &b, &err) == 0, "render resolv.conf");
        is_str(buf_cstr(&b), "nameserver 10.0.0.1\n", "--dns on the default bridge");
        buf_reset(&b);
        c.embedded_dns = true;
        ok(net_resolv_conf_render(&c, &b, &err) == 0, "render embedded");
        is_str(buf_cstr(&b), "nameserver 127.0.0.11\noptions ndots:0\n",
               "user-defined network: 127.0.0.11, ndots:0, v4 --dns goes upstream");
        buf_reset(&b);
        ok(net_hosts_render(&c, &b, &err) == 0, "render hosts");
        ok(strstr(buf_cstr(&b), "1.2.3.4\ta\n172.17.0.2\tabc\n") != NULL, "add-host then self");
        buf_release(&b);
}

/* ---- net_queue: jobs on the threadpool, in order, done on the loop ---- */

static pthread_t main_thread;
static int job_order[8], done_order[8], n_jobs, n_done, done_status[8];
static bool off_loop[8];

static int job_fn(struct net *n, void *data, struct berth_err *err)
{
        int i = (int)(intptr_t)data;
        struct net_network_info info;

        job_order[n_jobs++] = i;        /* jobs never overlap: no race */
        off_loop[i] = !pthread_equal(pthread_self(), main_thread);
        if (i == 2)
                return net_network_get(n, "nosuch", &info, err);
        return 0;
}

static void done_cb(void *data, int status, const struct berth_err *err)
{
        int i = (int)(intptr_t)data;

        done_order[n_done++] = i;
        done_status[i] = status;
        if (i == 2)
                ok(strstr(err->msg, "network nosuch not found") != NULL, "job error message: %s",
                   err->msg);
}

static void test_queue(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct net_options opt = { 0 };
        struct net *n = NULL;
        uv_loop_t loop;

        main_thread = pthread_self();
        (void)uv_loop_init(&loop);
        opt.no_nft = true;
        opt.no_ip_forward = true;
        opt.loop = &loop;
        if (net_new(&opt, &n, &err) < 0) {
                ok(0, "net_new: %s", err.msg);
                return;
        }
        for (int i = 0; i < 4; i++)
                ok(net_queue(n, job_fn, done_cb, (void *)(intptr_t)i, &err) == 0, "queue %d", i);
        ok(n_done == 0, "done never runs before net_queue returns");
        is_int(net_queue_pending(n), 4, "4 pending");
        (void)uv_run(&loop, UV_RUN_DEFAULT);
        is_int(n_done, 4, "every done ran once");
        ok(job_order[0] == 0 && job_order[1] == 1 && job_order[2] == 2 && job_order[3] == 3,
           "jobs in FIFO order");
        ok(done_order[0] == 0 && done_order[3] == 3, "done in order");
        ok(off_loop[0] && off_loop[3], "jobs ran off the loop thread");
        is_int(done_status[2], -ENOENT, "job status reaches done");
        is_int(net_queue_pending(n), 0, "nothing pending");
        ok(net_queue(n, NULL, done_cb, NULL, &err) == -EINVAL, "fn required");
        net_free(n);
        ok(uv_loop_close(&loop) == 0, "loop empty");
}

int main(void)
{
        berth_json_init();
        test_prefix();
        test_ipam_v4();
        test_ipam_v6();
        test_pools();
        test_mac();
        test_cidr_split();
        test_ports();
        test_nat_render();
        test_files();
        test_queue();
        return tap_done();
}
