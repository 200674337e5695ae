/* SPDX-License-Identifier: Apache-2.0
 * t/helper/net-tool.c -- drives net/ from shell tests: networks, endpoints,
 * published ports (with the userland proxy on a loop), /etc files.
 * Runs in the current network namespace (tests wrap it in ip netns exec).
 *
 *   net-tool [--state DIR] [--no-nft] [--no-proxy] [--table T] CMD ARGS...
 */
#include "config.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "net/net.h"

#define E_USAGE (-100000)

static const char *arg_state;
static const char *arg_table;
static bool arg_no_nft, arg_no_proxy;

static int fail(const struct berth_err *err)
{
        fprintf(stderr, "error: %s\n", err->msg[0] ? err->msg : strerror(err->code));
        return 1;
}

static int usage(void)
{
        fprintf(stderr,
                "usage: net-tool [--state DIR] [--no-nft] [--no-proxy] [--table T] CMD ...\n"
                "  net-create NAME [--driver D] [--subnet S] [--gateway G] [--ip-range R]\n"
                "             [--ipv6] [--subnet6 S] [--gateway6 G] [--internal] [--bridge B]\n"
                "             [--mtu N] [--parent P] [--mode M] [--default-bridge]\n"
                "  net-rm NAME | net-inspect NAME | net-ls\n"
                "  attach NET CID NETNS [--ip A] [--ip6 A] [--ifname N] [--mac M]\n"
                "  detach NET CID [NETNS]\n"
                "  publish CID SPEC[=CONTAINER_IP]... | unpublish CID\n"
                "  serve CID SPEC[=CONTAINER_IP]...   (proxy on a loop until SIGTERM)\n"
                "  port-parse SPEC | mac IP\n"
                "  echo IP PORT tcp|udp | ask IP PORT tcp|udp  (stdin -> answer)\n"
                "  sink IP PORT | source IP PORT MIB | bench-attach NET NETNS N\n"
                "  files DIR --hostname H [--embedded-dns] [--host-network] [--ipv6]\n"
                "        [--dns X]... [--dns-search X]... [--dns-option X]... [--add-host N:IP]...\n"
                "        [--self IP=NAMES]... [--resolv PATH]\n");
        return 2;
}

static int open_net(uv_loop_t *loop, struct net **ret, struct berth_err *err)
{
        struct net_options opt = { 0 };

        opt.state_dir = arg_state;
        opt.table = arg_table;
        opt.no_nft = arg_no_nft;
        opt.no_proxy = arg_no_proxy;
        opt.loop = loop;
        return net_new(&opt, ret, err);
}

static void print_info(const struct net_endpoint_info *i)
{
        printf("ifname=%s\nhost_ifname=%s\nmac=%s\nip=%s\nprefix=%d\ngateway=%s\n"
               "ip6=%s\nprefix6=%d\ngateway6=%s\n", i->ifname, i->host_ifname, i->mac, i->ip,
               i->prefix, i->gateway, i->ip6, i->prefix6, i->gateway6);
}

static int cmd_net_create(struct net *n, int argc, char **argv, struct berth_err *err)
{
        static const struct option opts[] = {
                { "driver", required_argument, NULL, 'd' },
                { "subnet", required_argument, NULL, 's' },
                { "gateway", required_argument, NULL, 'g' },
                { "ip-range", required_argument, NULL, 'r' },
                { "ipv6", no_argument, NULL, '6' },
                { "subnet6", required_argument, NULL, 'S' },
                { "gateway6", required_argument, NULL, 'G' },
                { "ip-range6", required_argument, NULL, 'R' },
                { "internal", no_argument, NULL, 'i' },
                { "bridge", required_argument, NULL, 'b' },
                { "mtu", required_argument, NULL, 'm' },
                { "parent", required_argument, NULL, 'p' },
                { "mode", required_argument, NULL, 'M' },
                { "default-bridge", no_argument, NULL, 'D' },
                { "id", required_argument, NULL, 'I' },
                { NULL, 0, NULL, 0 },
        };
        struct net_network_config c = { 0 };
        int o;

        optind = 1;
        while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (o) {
                case 'd':
                        if (net_driver_parse(optarg, &c.driver, err) < 0)
                                return -1;
                        break;
                case 's': c.subnet = optarg; break;
                case 'g': c.gateway = optarg; break;
                case 'r': c.ip_range = optarg; break;
                case '6': c.ipv6 = true; break;
                case 'S': c.subnet6 = optarg; break;
                case 'G': c.gateway6 = optarg; break;
                case 'R': c.ip_range6 = optarg; break;
                case 'i': c.internal = true; break;
                case 'b': c.bridge_name = optarg; break;
                case 'm': c.mtu = atoi(optarg); break;
                case 'p': c.parent = optarg; break;
                case 'M': c.macvlan_mode = optarg; break;
                case 'D': c.default_bridge = true; break;
                case 'I': c.id = optarg; break;
                default: return E_USAGE;
                }
        }
        if (optind != argc - 1)
                return E_USAGE;
        c.name = argv[optind];
        return net_network_create(n, &c, err);
}

static int cmd_inspect(struct net *n, const char *name, struct berth_err *err)
{
        struct net_network_info i;
        int r = net_network_get(n, name, &i, err);

        if (r < 0)
                return r;
        printf("name=%s\nid=%s\ndriver=%s\nifname=%s\nsubnet=%s\ngateway=%s\nip_range=%s\n"
               "ipv6=%d\nsubnet6=%s\ngateway6=%s\ninternal=%d\nmtu=%d\nendpoints=%zu\n",
               i.name, i.id, net_driver_name(i.driver), i.ifname, i.subnet, i.gateway,
               i.ip_range, i.ipv6, i.subnet6, i.gateway6, i.internal, i.mtu, i.n_endpoints);
        return 0;
}

static int cmd_attach(struct net *n, int argc, char **argv, struct berth_err *err)
{
        static const struct option opts[] = {
                { "ip", required_argument, NULL, 'a' },
                { "ip6", required_argument, NULL, 'A' },
                { "ifname", required_argument, NULL, 'n' },
                { "mac", required_argument, NULL, 'm' },
                { NULL, 0, NULL, 0 },
        };
        struct net_endpoint_config c = { 0 };
        struct net_endpoint_info info;
        int o, r;

        c.netns_fd = -1;
        optind = 1;
        while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (o) {
                case 'a': c.ip = optarg; break;
                case 'A': c.ip6 = optarg; break;
                case 'n': c.ifname = optarg; break;
                case 'm': c.mac = optarg; break;
                default: return E_USAGE;
                }
        }
        if (optind != argc - 3)
                return E_USAGE;
        c.container_id = argv[optind + 1];
        c.netns_path = argv[optind + 2];
        r = net_endpoint_attach(n, argv[optind], &c, &info, err);
        if (r >= 0)
                print_info(&info);
        return r;
}

/* SPEC[=CONTAINER_IP] arguments into one array of maps */
static int collect_maps(int argc, char **argv, struct net_port_map **ret, size_t *ret_n,
                        struct berth_err *err)
{
        struct net_port_map *all = NULL;
        size_t n = 0;

        for (int i = 0; i < argc; i++) {
                char spec[128];
                char *eq;
                struct net_port_map *v;
                size_t k;
                int r;

                (void)snprintf(spec, sizeof(spec), "%s", argv[i]);
                eq = strchr(spec, '=');
                if (eq)
                        *eq++ = '\0';
                r = net_port_spec_parse(spec, &v, &k, err);
                if (r < 0) {
                        free(all);
                        return r;
                }
                all = xrealloc(all, (n + k) * sizeof(*all));
                for (size_t j = 0; j < k; j++) {
                        if (eq)
                                (void)snprintf(v[j].container_ip, sizeof(v[j].container_ip), "%s", eq);
                        all[n++] = v[j];
                }
                free(v);
        }
        *ret = all;
        *ret_n = n;
        return 0;
}

static void print_maps(const struct net_port_map *m, size_t n)
{
        for (size_t i = 0; i < n; i++)
                printf("%s %s %u %s %u\n", m[i].proto == IPPROTO_UDP ? "udp" : "tcp",
                       m[i].host_ip[0] ? m[i].host_ip : "-", m[i].host_port,
                       m[i].container_ip[0] ? m[i].container_ip : "-", m[i].container_port);
}

static uv_signal_t sig_term, sig_int;

static void on_signal(uv_signal_t *s, int signum)
{
        (void)signum;
        uv_stop(s->loop);
}

static int cmd_serve(int argc, char **argv, struct berth_err *err)
{
        uv_loop_t loop;
        struct net *n = NULL;
        struct net_port_map *maps = NULL;
        size_t nm = 0;
        int r;

        if (argc < 2)
                return E_USAGE;
        r = collect_maps(argc - 1, argv + 1, &maps, &nm, err);
        if (r < 0)
                return r;
        (void)uv_loop_init(&loop);
        r = open_net(&loop, &n, err);
        if (r >= 0)
                r = net_ports_publish(n, argv[0], maps, nm, err);
        if (r >= 0) {
                printf("ready\n");
                print_maps(maps, nm);
                fflush(stdout);
                (void)uv_signal_init(&loop, &sig_term);
                (void)uv_signal_init(&loop, &sig_int);
                (void)uv_signal_start(&sig_term, on_signal, SIGTERM);
                (void)uv_signal_start(&sig_int, on_signal, SIGINT);
                (void)uv_run(&loop, UV_RUN_DEFAULT);
                uv_close((uv_handle_t *)&sig_term, NULL);
                uv_close((uv_handle_t *)&sig_int, NULL);
                r = net_ports_unpublish(n, argv[0], err);
        }
        net_free(n);
        (void)uv_run(&loop, UV_RUN_DEFAULT);    /* finish closing handles */
        if (uv_loop_close(&loop) != 0) {
                fprintf(stderr, "error: loop not empty at exit\n");
                r = r < 0 ? r : -EBUSY;
        }
        free(maps);
        return r;
}

static int cmd_files(int argc, char **argv, struct berth_err *err)
{
        static const struct option opts[] = {
                { "hostname", required_argument, NULL, 'h' },
                { "domainname", required_argument, NULL, 'D' },
                { "embedded-dns", no_argument, NULL, 'e' },
                { "host-network", no_argument, NULL, 'H' },
                { "ipv6", no_argument, NULL, '6' },
                { "dns", required_argument, NULL, 'n' },
                { "dns-search", required_argument, NULL, 's' },
                { "dns-option", required_argument, NULL, 'o' },
                { "add-host", required_argument, NULL, 'a' },
                { "self", required_argument, NULL, 'S' },
                { "resolv", required_argument, NULL, 'r' },
                { "hosts", required_argument, NULL, 'x' },
                { NULL, 0, NULL, 0 },
        };
        const char *dns[8] = { 0 }, *search[8] = { 0 }, *options[8] = { 0 }, *hosts[8] = { 0 };
        struct net_host_entry self[4];
        char selfbuf[4][128];
        size_t nd = 0, ns = 0, no = 0, nh = 0, nself = 0;
        struct net_files_config c = { 0 };
        int o;

        optind = 1;
        while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (o) {
                case 'h': c.hostname = optarg; break;
                case 'D': c.domainname = optarg; break;
                case 'e': c.embedded_dns = true; break;
                case 'H': c.host_network = true; break;
                case '6': c.ipv6 = true; break;
                case 'n': if (nd < 7) dns[nd++] = optarg; break;
                case 's': if (ns < 7) search[ns++] = optarg; break;
                case 'o': if (no < 7) options[no++] = optarg; break;
                case 'a': if (nh < 7) hosts[nh++] = optarg; break;
                case 'S':
                        if (nself < 4) {
                                char *eq;
                                (void)snprintf(selfbuf[nself], sizeof(selfbuf[nself]), "%s", optarg);
                                eq = strchr(selfbuf[nself], '=');
                                if (eq)
                                        *eq++ = '\0';
                                self[nself].ip = selfbuf[nself];
                                self[nself].names = eq;
                                nself++;
                        }
                        break;
                case 'r': c.host_resolv_conf = optarg; break;
                case 'x': c.host_hosts = optarg; break;
                default: return E_USAGE;
                }
        }
        if (optind != argc - 1)
                return E_USAGE;
        c.dns = dns;
        c.dns_search = search;
        c.dns_options = options;
        c.extra_hosts = hosts;
        c.self = self;
        c.n_self = nself;
        return net_files_write(argv[optind], &c, err);
}

/* ---- tiny echo servers and clients, so tests need neither socat nor nc -u ---- */

static int sockaddr_of(const char *ip, const char *port, struct sockaddr_storage *ss,
                       socklen_t *len)
{
        memset(ss, 0, sizeof(*ss));
        if (strchr(ip, ':')) {
                struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
                s->sin6_family = AF_INET6;
                s->sin6_port = htons((uint16_t)atoi(port));
                *len = sizeof(*s);
                return inet_pton(AF_INET6, ip, &s->sin6_addr) == 1 ? 0 : -1;
        }
        struct sockaddr_in *s = (struct sockaddr_in *)ss;
        s->sin_family = AF_INET;
        s->sin_port = htons((uint16_t)atoi(port));
        *len = sizeof(*s);
        return inet_pton(AF_INET, ip, &s->sin_addr) == 1 ? 0 : -1;
}

/* echo IP PORT tcp|udp: answer every datagram / connection with its bytes */
static int cmd_echo(char **argv)
{
        struct sockaddr_storage ss, peer;
        socklen_t len, plen;
        bool udp = !strcmp(argv[2], "udp");
        char buf[65536];
        int one = 1, fd;

        if (sockaddr_of(argv[0], argv[1], &ss, &len) < 0)
                return 2;
        fd = socket(ss.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 || (!udp && listen(fd, 64) < 0)) {
                perror("echo: bind");
                return 1;
        }
        printf("ready\n");
        fflush(stdout);
        for (;;) {
                ssize_t n;
                plen = sizeof(peer);
                if (udp) {
                        n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);
                        if (n > 0)
                                (void)sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, plen);
                        continue;
                }
                int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0)
                        continue;
                while ((n = read(c, buf, sizeof(buf))) > 0)
                        if (write(c, buf, (size_t)n) != n)
                                break;
                close(c);
        }
}

/* ask IP PORT tcp|udp: send stdin (TCP: then shut down), print the answer */
static int cmd_ask(char **argv)
{
        struct sockaddr_storage ss;
        struct timeval tv = { 3, 0 };
        socklen_t len;
        bool udp = !strcmp(argv[2], "udp");
        static char buf[1 << 20];
        size_t in = 0;
        ssize_t n;
        int fd;

        if (sockaddr_of(argv[0], argv[1], &ss, &len) < 0)
                return 2;
        while (in < sizeof(buf) && (n = read(0, buf + in, sizeof(buf) - in)) > 0)
                in += (size_t)n;
        fd = socket(ss.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0) {
                perror("ask: connect");
                return 1;
        }
        if (udp) {
                if (send(fd, buf, in, 0) < 0)
                        return 1;
                n = recv(fd, buf, sizeof(buf), 0);
                if (n <= 0) {
                        fprintf(stderr, "ask: no answer\n");
                        return 1;
                }
                return fwrite(buf, 1, (size_t)n, stdout) == (size_t)n ? 0 : 1;
        }
        for (size_t off = 0; off < in; off += (size_t)n) {
                n = write(fd, buf + off, in - off);
                if (n <= 0)
                        return 1;
        }
        (void)shutdown(fd, SHUT_WR);
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
                        return 1;
        return n < 0 ? 1 : 0;
}

static double now_s(void)
{
        return (double)berth_now_ns() / 1e9;
}

/* sink IP PORT: accept connections one by one, discard until EOF, close */
static int cmd_sink(char **argv)
{
        struct sockaddr_storage ss;
        socklen_t len;
        static char buf[1 << 16];
        int one = 1, fd;

        if (sockaddr_of(argv[0], argv[1], &ss, &len) < 0)
                return 2;
        fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0) {
                perror("sink: bind");
                return 1;
        }
        printf("ready\n");
        fflush(stdout);
        for (;;) {
                int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0)
                        continue;
                while (read(c, buf, sizeof(buf)) > 0)
                        ;
                close(c);
        }
}

/* source IP PORT MIB: send MIB MiB, shut down, wait for the peer's close;
 * prints MiB/s */
static int cmd_source(char **argv)
{
        struct sockaddr_storage ss;
        socklen_t len;
        static char buf[1 << 16];
        long long total = atoll(argv[2]) << 20, sent = 0;
        double t0;
        int fd;

        if (sockaddr_of(argv[0], argv[1], &ss, &len) < 0)
                return 2;
        fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0) {
                perror("source: connect");
                return 1;
        }
        t0 = now_s();
        while (sent < total) {
                ssize_t n = write(fd, buf, sizeof(buf));
                if (n <= 0)
                        return 1;
                sent += n;
        }
        (void)shutdown(fd, SHUT_WR);
        while (read(fd, buf, sizeof(buf)) > 0)
                ;
        printf("%.1f\n", (double)sent / (1 << 20) / (now_s() - t0));
        return 0;
}

/* bench-attach NET NETNS N: N attach+detach cycles in one process; prints
 * the mean attach and detach times in ms */
static int cmd_bench_attach(struct net *n, char **argv, struct berth_err *err)
{
        struct net_endpoint_config c = { 0 };
        int count = atoi(argv[2]);
        double ta = 0, td = 0, t;

        c.netns_fd = -1;
        c.netns_path = argv[1];
        c.container_id = "bench";
        for (int i = 0; i < count; i++) {
                t = now_s();
                if (net_endpoint_attach(n, argv[0], &c, NULL, err) < 0)
                        return -1;
                ta += now_s() - t;
                t = now_s();
                if (net_endpoint_detach(n, argv[0], "bench", -1, argv[1], err) < 0)
                        return -1;
                td += now_s() - t;
        }
        printf("attach_ms=%.3f\ndetach_ms=%.3f\n", ta * 1000 / count, td * 1000 / count);
        return 0;
}

int main(int argc, char **argv)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct net *n = NULL;
        const char *cmd;
        int r = 0, i = 1;

        signal(SIGPIPE, SIG_IGN);
        berth_json_init();
        for (; i < argc && argv[i][0] == '-'; i++) {
                if (!strcmp(argv[i], "--state") && i + 1 < argc)
                        arg_state = argv[++i];
                else if (!strcmp(argv[i], "--table") && i + 1 < argc)
                        arg_table = argv[++i];
                else if (!strcmp(argv[i], "--no-nft"))
                        arg_no_nft = true;
                else if (!strcmp(argv[i], "--no-proxy"))
                        arg_no_proxy = true;
                else
                        return usage();
        }
        if (i >= argc)
                return usage();
        cmd = argv[i];
        argc -= i;
        argv += i;

        if (!strcmp(cmd, "echo") && argc == 4)
                return cmd_echo(argv + 1);
        if (!strcmp(cmd, "ask") && argc == 4)
                return cmd_ask(argv + 1);
        if (!strcmp(cmd, "sink") && argc == 3)
                return cmd_sink(argv + 1);
        if (!strcmp(cmd, "source") && argc == 4)
                return cmd_source(argv + 1);
        if (!strcmp(cmd, "port-parse") && argc == 2) {
                struct net_port_map *m;
                size_t k;
                r = net_port_spec_parse(argv[1], &m, &k, &err);
                if (r >= 0) {
                        print_maps(m, k);
                        free(m);
                }
        } else if (!strcmp(cmd, "mac") && argc == 2) {
                char mac[18];
                r = net_mac_from_ipv4(argv[1], mac, sizeof(mac), &err);
                if (r >= 0)
                        printf("%s\n", mac);
        } else if (!strcmp(cmd, "files")) {
                r = cmd_files(argc, argv, &err);
        } else if (!strcmp(cmd, "serve")) {
                r = cmd_serve(argc - 1, argv + 1, &err);
        } else {
                r = open_net(NULL, &n, &err);
                if (r < 0)
                        return fail(&err);
                if (!strcmp(cmd, "net-create"))
                        r = cmd_net_create(n, argc, argv, &err);
                else if (!strcmp(cmd, "net-rm") && argc == 2)
                        r = net_network_remove(n, argv[1], &err);
                else if (!strcmp(cmd, "net-inspect") && argc == 2)
                        r = cmd_inspect(n, argv[1], &err);
                else if (!strcmp(cmd, "net-ls") && argc == 1) {
                        const char *names[256];
                        size_t k = net_network_list(n, names, ARRAY_SIZE(names));
                        for (size_t j = 0; j < k; j++)
                                printf("%s\n", names[j]);
                } else if (!strcmp(cmd, "attach"))
                        r = cmd_attach(n, argc, argv, &err);
                else if (!strcmp(cmd, "detach") && (argc == 3 || argc == 4))
                        r = net_endpoint_detach(n, argv[1], argv[2], -1, argc == 4 ? argv[3] : NULL,
                                                &err);
                else if (!strcmp(cmd, "publish") && argc >= 3) {
                        struct net_port_map *m = NULL;
                        size_t k = 0;
                        r = collect_maps(argc - 2, argv + 2, &m, &k, &err);
                        if (r >= 0)
                                r = net_ports_publish(n, argv[1], m, k, &err);
                        if (r >= 0)
                                print_maps(m, k);
                        free(m);
                } else if (!strcmp(cmd, "unpublish") && argc == 2)
                        r = net_ports_unpublish(n, argv[1], &err);
                else if (!strcmp(cmd, "bench-attach") && argc == 4)
                        r = cmd_bench_attach(n, argv + 1, &err);
                else
                        r = E_USAGE;
                net_free(n);
        }
        if (r == E_USAGE)
                return usage();
        if (r < 0)
                return fail(&err);
        return 0;
}
