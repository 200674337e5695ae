/* SPDX-License-Identifier: Apache-2.0
 * t/helper/dns-serve.c -- berth's resolver on a uv loop, without berthd: the
 * records come from the command line, changes from lines on stdin.  Used by
 * t/t5*-dns-*.sh and bench/dns.sh.
 *
 *   dns-serve [--netns PATH] [--listen ADDR] [--port N (0: any)]
 *             [--upstream ADDR[:PORT]]... [--upstream-ctr ADDR[:PORT]]...
 *             [--net NAME[,internal][,SUBNET/LEN]...]...
 *             [--ep NET/ID/NAME,NAME.../V4/V6]...  (V4 or V6 may be empty)
 *             [--scope NET,NET...] [--ndots] [--cache] [--deadline-ms N]
 *             [--timeout-ms N] [--tcp-idle-ms N]
 * Prints "ready udp=PORT tcp=PORT" once listening.  stdin commands:
 *   ep-add NET/ID/NAMES/V4/V6 | ep-rm NET ID | connect NET | disconnect NET |
 *   net-rm NET | stats
 * SIGTERM/SIGINT or EOF on stdin: clean exit. */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "dns/dns.h"
#include "lib/lib.h"

static struct dns_server *srv;
static struct dns_resolver *res;
static uv_signal_t sigterm, sigint;
static uv_pipe_t in;
static bool in_open;
static struct buf line_buf = BUF_INIT;

static int parse_ep(const char *spec, struct berth_err *err)
{
        _cleanup_free_ char *s = xstrdup(spec);
        char *f[5] = { 0 }, *p = s, *names[64];
        size_t n = 0;
        struct in_addr a4;
        struct in6_addr a6;
        struct dns_endpoint_config c = { 0 };

        for (int i = 0; i < 5; i++) {
                f[i] = p;
                p = p ? strchr(p, '/') : NULL;
                if (p)
                        *p++ = '\0';
        }
        if (!f[0] || !f[1] || !f[2])
                return berth_err_set(err, EINVAL, "bad endpoint '%s'", spec);
        for (char *tok = strtok(f[2], ","); tok && n < ARRAY_SIZE(names); tok = strtok(NULL, ","))
                names[n++] = tok;
        c.id = f[1];
        c.names = (const char *const *)names;
        c.n_names = n;
        if (f[3] && *f[3]) {
                if (inet_pton(AF_INET, f[3], &a4) != 1)
                        return berth_err_set(err, EINVAL, "bad v4 '%s'", f[3]);
                c.v4 = &a4;
        }
        if (f[4] && *f[4]) {
                if (inet_pton(AF_INET6, f[4], &a6) != 1)
                        return berth_err_set(err, EINVAL, "bad v6 '%s'", f[4]);
                c.v6 = &a6;
        }
        return dns_endpoint_add(srv, f[0], &c, err);
}

static int parse_net(const char *spec, struct berth_err *err)
{
        _cleanup_free_ char *s = xstrdup(spec);
        struct dns_subnet sn[8];
        struct dns_network_config c = { 0 };
        char *tok = strtok(s, ",");

        c.name = tok;
        c.subnets = sn;
        while ((tok = strtok(NULL, ","))) {
                char *slash = strchr(tok, '/');

                if (!strcmp(tok, "internal")) {
                        c.internal = true;
                        continue;
                }
                if (!slash || c.n_subnets == ARRAY_SIZE(sn))
                        return berth_err_set(err, EINVAL, "bad subnet '%s'", tok);
                *slash = '\0';
                memset(&sn[c.n_subnets], 0, sizeof(sn[0]));
                sn[c.n_subnets].prefixlen = (unsigned)atoi(slash + 1);
                if (inet_pton(AF_INET, tok, &sn[c.n_subnets].addr.v4) == 1)
                        sn[c.n_subnets].family = AF_INET;
                else if (inet_pton(AF_INET6, tok, &sn[c.n_subnets].addr.v6) == 1)
                        sn[c.n_subnets].family = AF_INET6;
                else
                        return berth_err_set(err, EINVAL, "bad subnet '%s'", tok);
                c.n_subnets++;
        }
        return dns_network_add(srv, &c, err);
}

static void on_closed(uv_handle_t *h) { (void)h; }

static void shutdown_all(void)
{
        dns_server_free(srv);
        srv = NULL;
        res = NULL;
        uv_close((uv_handle_t *)&sigterm, on_closed);
        uv_close((uv_handle_t *)&sigint, on_closed);
        if (in_open) {
                in_open = false;
                uv_close((uv_handle_t *)&in, on_closed);
        }
}

static void on_signal(uv_signal_t *s, int sig)
{
        if (srv)
                shutdown_all();
}

static void command(char *line)
{
        struct berth_err err = BERTH_ERR_INIT;
        char *cmd = strtok(line, " "), *a = strtok(NULL, " "), *b = strtok(NULL, " ");
        int r = 0;

        if (!cmd)
                return;
        if (!strcmp(cmd, "ep-add") && a)
                r = parse_ep(a, &err);
        else if (!strcmp(cmd, "ep-rm") && a && b)
                r = dns_endpoint_remove(srv, a, b, &err);
        else if (!strcmp(cmd, "connect") && a)
                r = dns_resolver_connect(res, a, &err);
        else if (!strcmp(cmd, "disconnect") && a)
                r = dns_resolver_disconnect(res, a, &err);
        else if (!strcmp(cmd, "net-rm") && a)
                r = dns_network_remove(srv, a, &err);
        else if (!strcmp(cmd, "stats")) {
                struct dns_resolver_stats st;

                dns_resolver_get_stats(res, &st);
                printf("stats queries=%llu local=%llu forwarded=%llu cached=%llu nodata=%llu "
                       "servfail=%llu refused=%llu formerr=%llu dropped=%llu tcp_conns=%llu "
                       "tcp_timeouts=%llu inflight=%u\n",
                       (unsigned long long)st.queries, (unsigned long long)st.local,
                       (unsigned long long)st.forwarded, (unsigned long long)st.cached,
                       (unsigned long long)st.nodata, (unsigned long long)st.servfail,
                       (unsigned long long)st.refused, (unsigned long long)st.formerr,
                       (unsigned long long)st.dropped, (unsigned long long)st.tcp_conns,
                       (unsigned long long)st.tcp_timeouts, st.inflight);
        } else
                r = berth_err_set(&err, EINVAL, "unknown command '%s'", cmd);
        if (r < 0)
                printf("error %s\n", err.msg);
        else
                printf("ok %s\n", cmd);
        fflush(stdout);
}

static void on_in_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
        buf_grow(&line_buf, 4096);
        b->base = line_buf.data + line_buf.len;
        b->len = line_buf.cap - line_buf.len - 1;
}

static void on_in_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
        char *nl;

        if (n < 0) {
                if (srv)
                        shutdown_all();
                return;
        }
        line_buf.len += (size_t)n;
        line_buf.data[line_buf.len] = '\0';
        while ((nl = memchr(line_buf.data, '\n', line_buf.len))) {
                size_t l = (size_t)(nl - line_buf.data);

                *nl = '\0';
                command(line_buf.data);
                buf_consume(&line_buf, l + 1);
        }
}

static void on_started(struct dns_resolver *r, int status, const char *msg, void *data)
{
        if (status < 0) {
                fprintf(stderr, "dns-serve: %s\n", msg);
                res = NULL;
                shutdown_all();
                *(int *)data = 1;
                return;
        }
        printf("ready udp=%u tcp=%u\n", dns_resolver_port(r, SOCK_DGRAM), dns_resolver_port(r, SOCK_STREAM));
        fflush(stdout);
}

int main(int argc, char **argv)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct dns_server_config scfg = { 0 };
        struct dns_resolver_config rc = { .name = "test", .netns_fd = -1 };
        struct dns_upstream ups[8];
        const char *nets[16];
        size_t n_ups = 0, n_nets = 0;
        const char *netns = NULL, *scope = NULL;
        int netns_fd = -1, failed = 0, i;
        _cleanup_free_ char *scope_copy = NULL;
        uv_loop_t *loop = uv_default_loop();

        signal(SIGPIPE, SIG_IGN);
        /* first pass: server options */
        for (i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--cache"))
                        scfg.cache = true;
                else if (!strcmp(argv[i], "--deadline-ms") && i + 1 < argc)
                        scfg.forward_deadline_ms = (unsigned)atoi(argv[++i]);
                else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc)
                        scfg.upstream_timeout_ms = (unsigned)atoi(argv[++i]);
                else if (!strcmp(argv[i], "--tcp-idle-ms") && i + 1 < argc)
                        scfg.tcp_idle_ms = (unsigned)atoi(argv[++i]);
                else if (!strcmp(argv[i], "--max-inflight") && i + 1 < argc)
                        scfg.max_inflight = (unsigned)atoi(argv[++i]);
        }
        dns_server_new(loop, &scfg, &srv, &err);
        for (i = 1; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
                int r = 0;

                if (!strcmp(a, "--cache") || !strcmp(a, "--ndots")) {
                        rc.ndots_set = rc.ndots_set || !strcmp(a, "--ndots");
                        continue;
                }
                if (!v) {
                        fprintf(stderr, "dns-serve: %s needs a value\n", a);
                        return 2;
                }
                i++;
                if (!strcmp(a, "--netns"))
                        netns = v;
                else if (!strcmp(a, "--listen"))
                        rc.listen_addr = v;
                else if (!strcmp(a, "--port")) {
                        rc.port = (uint16_t)atoi(v);
                        rc.any_port = rc.port == 0;
                }
                else if ((!strcmp(a, "--upstream") || !strcmp(a, "--upstream-ctr")) && n_ups < ARRAY_SIZE(ups)) {
                        r = dns_upstream_parse(v, &ups[n_ups], &err);
                        if (!r && !strcmp(a, "--upstream-ctr"))
                                ups[n_ups].host_netns = false;
                        n_ups += r == 0;
                } else if (!strcmp(a, "--net"))
                        r = parse_net(v, &err);
                else if (!strcmp(a, "--ep"))
                        r = parse_ep(v, &err);
                else if (!strcmp(a, "--scope"))
                        scope = v;
                else if (strcmp(a, "--deadline-ms") && strcmp(a, "--timeout-ms") &&
                         strcmp(a, "--tcp-idle-ms") && strcmp(a, "--max-inflight"))
                        r = berth_err_set(&err, EINVAL, "unknown option %s", a);
                if (r < 0) {
                        fprintf(stderr, "dns-serve: %s\n", err.msg);
                        return 2;
                }
        }
        if (scope) {
                scope_copy = xstrdup(scope);
                for (char *t = strtok(scope_copy, ","); t && n_nets < ARRAY_SIZE(nets); t = strtok(NULL, ","))
                        nets[n_nets++] = t;
        }
        if (netns) {
                netns_fd = open(netns, O_RDONLY | O_CLOEXEC);
                if (netns_fd < 0) {
                        fprintf(stderr, "dns-serve: open %s: %s\n", netns, strerror(errno));
                        return 2;
                }
        }
        rc.netns_fd = netns_fd;
        rc.networks = nets;
        rc.n_networks = n_nets;
        rc.upstreams = ups;
        rc.n_upstreams = n_ups;
        if (dns_resolver_start(srv, &rc, on_started, &failed, &res, &err) < 0) {
                fprintf(stderr, "dns-serve: %s\n", err.msg);
                return 2;
        }
        if (netns_fd >= 0)
                close(netns_fd);
        uv_signal_init(loop, &sigterm);
        uv_signal_start(&sigterm, on_signal, SIGTERM);
        uv_signal_init(loop, &sigint);
        uv_signal_start(&sigint, on_signal, SIGINT);
        if (uv_guess_handle(0) == UV_NAMED_PIPE && uv_pipe_init(loop, &in, 0) == 0 && uv_pipe_open(&in, 0) == 0 &&
            uv_read_start((uv_stream_t *)&in, on_in_alloc, on_in_read) == 0)
                in_open = true;
        else if (in.loop && !uv_is_closing((uv_handle_t *)&in))
                uv_close((uv_handle_t *)&in, on_closed);
        uv_run(loop, UV_RUN_DEFAULT);
        buf_release(&line_buf);
        if (uv_loop_close(loop) != 0) {
                fprintf(stderr, "dns-serve: handles left open at exit\n");
                return 3;
        }
        return failed;
}
