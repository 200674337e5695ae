/* SPDX-License-Identifier: Apache-2.0
 * net/files.c -- a container's /etc/hosts, /etc/hostname and
 * /etc/resolv.conf, as dockerd writes them (see shared/reference/dns.md). */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "net/net-internal.h"

#define MAX_NAMESERVERS 3

static bool is_loopback(const char *ip)
{
        return berth_str_has_prefix(ip, "127.") || !strcmp(ip, "::1");
}

static bool valid_ip(const char *ip)
{
        struct net_addr a;

        return net__addr_parse(ip, &a) == 0;
}

int net_hosts_render(const struct net_files_config *cfg, struct buf *b, struct berth_err *err)
{
        if (cfg->host_network) {
                _cleanup_free_ char *data = NULL;
                size_t len = 0;
                int r = berth_read_file(cfg->host_hosts ? cfg->host_hosts : "/etc/hosts",
                                        1 << 20, &data, &len, NULL);
                if (r >= 0) {
                        buf_add(b, data, len);
                        return 0;
                }
        }
        buf_adds(b, "127.0.0.1\tlocalhost\n"
                    "::1\tlocalhost ip6-localhost ip6-loopback\n"
                    "fe00::0\tip6-localnet\n"
                    "ff00::0\tip6-mcastprefix\n"
                    "ff02::1\tip6-allnodes\n"
                    "ff02::2\tip6-allrouters\n");
        for (const char *const *h = cfg->extra_hosts; h && *h; h++) {
                /* "name:ip"; the ip may be IPv6 and hold colons */
                const char *colon = strchr(*h, ':');
                const char *ip;
                if (!colon || colon == *h)
                        return berth_err_pub(err, EINVAL, "invalid extra host: %s", *h);
                ip = colon + 1;
                if (!strcmp(ip, "host-gateway") || !valid_ip(ip))
                        return berth_err_pub(err, EINVAL, "invalid IP address in add-host: \"%s\"",
                                             ip);
                buf_addf(b, "%s\t%.*s\n", ip, (int)(colon - *h), *h);
        }
        for (size_t i = 0; i < cfg->n_self; i++) {
                if (!cfg->self[i].ip || !*cfg->self[i].ip)
                        continue;
                buf_addf(b, "%s\t%s\n", cfg->self[i].ip,
                         cfg->self[i].names ? cfg->self[i].names : cfg->hostname);
        }
        return 0;
}

/* the host's file split into its nameserver/search/options lines */
struct host_resolv {
        char *data;
        const char *ns[16];
        size_t n_ns;
        const char *search;
        const char *options;
};

static void host_resolv_read(const char *path, struct host_resolv *h)
{
        char *line, *save = NULL;

        memset(h, 0, sizeof(*h));
        if (berth_read_file(path ? path : "/etc/resolv.conf", 1 << 20, &h->data, NULL, NULL) < 0)
                return;
        for (line = strtok_r(h->data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *p = line + strspn(line, " \t");
                char *v;
                if (*p == '#' || *p == ';')
                        continue;
                v = p + strcspn(p, " \t");
                if (*v)
                        *v++ = '\0';
                v += strspn(v, " \t");
                v[strcspn(v, "#;")] = '\0';
                for (size_t n = strlen(v); n && (v[n - 1] == ' ' || v[n - 1] == '\t' ||
                                                 v[n - 1] == '\r'); n--)
                        v[n - 1] = '\0';
                if (!strcmp(p, "nameserver") && *v && h->n_ns < ARRAY_SIZE(h->ns))
                        h->ns[h->n_ns++] = v;
                else if ((!strcmp(p, "search") || !strcmp(p, "domain")) && *v)
                        h->search = v;
                else if (!strcmp(p, "options") && *v)
                        h->options = v;
        }
}

int net_resolv_conf_render(const struct net_files_config *cfg, struct buf *b,
                           struct berth_err *err)
{
        struct host_resolv h;
        bool have_dns = cfg->dns && cfg->dns[0];
        bool have_search = cfg->dns_search && cfg->dns_search[0];
        bool have_opts = cfg->dns_options && cfg->dns_options[0];
        bool ndots = false;
        size_t n = 0;

        for (const char *const *d = cfg->dns; d && *d; d++)
                if (!valid_ip(*d))
                        return berth_err_pub(err, EINVAL, "invalid DNS server address: %s", *d);
        host_resolv_read(cfg->host_resolv_conf, &h);
        if (cfg->host_network && !have_dns && !have_search && !have_opts) {
                _cleanup_free_ char *data = NULL;
                size_t len = 0;
                if (berth_read_file(cfg->host_resolv_conf ? cfg->host_resolv_conf :
                                    "/etc/resolv.conf", 1 << 20, &data, &len, NULL) >= 0)
                        buf_add(b, data, len);
                free(h.data);
                return 0;
        }
        /* search */
        if (have_search) {
                buf_adds(b, "search");
                for (const char *const *s = cfg->dns_search; *s; s++)
                        if (strcmp(*s, "."))    /* "." means: no search */
                                buf_addf(b, " %s", *s);
                buf_addc(b, '\n');
                if (b->len >= 7 && !memcmp(b->data + b->len - 7, "search\n", 7))
                        b->len -= 7, b->data[b->len] = '\0';
        } else if (h.search) {
                buf_addf(b, "search %s\n", h.search);
        }
        /* nameservers */
        if (cfg->embedded_dns) {
                buf_adds(b, "nameserver 127.0.0.11\n");
                /* IPv6 servers are kept: the resolver only forwards to IPv4 ones */
                if (have_dns) {
                        for (const char *const *d = cfg->dns; *d; d++)
                                if (strchr(*d, ':'))
                                        buf_addf(b, "nameserver %s\n", *d);
                } else {
                        for (size_t i = 0; i < h.n_ns; i++)
                                if (strchr(h.ns[i], ':') && !is_loopback(h.ns[i]))
                                        buf_addf(b, "nameserver %s\n", h.ns[i]);
                }
        } else if (have_dns) {
                for (const char *const *d = cfg->dns; *d; d++)
                        buf_addf(b, "nameserver %s\n", *d);
        } else {
                for (size_t i = 0; i < h.n_ns && n < MAX_NAMESERVERS; i++) {
                        if (is_loopback(h.ns[i]) || (!cfg->ipv6 && strchr(h.ns[i], ':')))
                                continue;
                        buf_addf(b, "nameserver %s\n", h.ns[i]);
                        n++;
                }
                if (n == 0) {
                        buf_adds(b, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
                        if (cfg->ipv6)
                                buf_adds(b, "nameserver 2001:4860:4860::8888\n"
                                            "nameserver 2001:4860:4860::8844\n");
                }
        }
        /* options */
        if (have_opts || h.options || cfg->embedded_dns) {
                struct buf o = BUF_INIT;
                if (have_opts) {
                        for (const char *const *s = cfg->dns_options; *s; s++) {
                                buf_addf(&o, " %s", *s);
                                if (berth_str_has_prefix(*s, "ndots:"))
                                        ndots = true;
                        }
                } else if (h.options) {
                        buf_addf(&o, " %s", h.options);
                        ndots = strstr(h.options, "ndots:") != NULL;
                }
                if (cfg->embedded_dns && !ndots)
                        buf_adds(&o, " ndots:0");
                if (o.len)
                        buf_addf(b, "options%s\n", buf_cstr(&o));
                buf_release(&o);
        }
        free(h.data);
        return 0;
}

/* Write path (0644) unless it holds exactly data already: on a connect or
 * disconnect only hosts changes, and reading a small file costs far less
 * than creating and renaming one. */
static int write_if_changed(const char *path, const char *data, size_t len, struct berth_err *err)
{
        _cleanup_free_ char *cur = NULL;
        size_t cur_len = 0;

        if (berth_read_file(path, len + 1, &cur, &cur_len, NULL) == 0 && cur_len == len &&
            memcmp(cur, data, len) == 0)
                return 0;
        return berth_write_file_volatile(path, data, len, 0644, err);
}

int net_files_write(const char *dir, const struct net_files_config *cfg, struct berth_err *err)
{
        struct buf b = BUF_INIT;
        _cleanup_free_ char *p = NULL;
        int r;

        if (!cfg->hostname || !*cfg->hostname)
                return berth_err_pub(err, EINVAL, "hostname is required");
        r = berth_mkdir_p(dir, 0755);
        if (r < 0)
                return berth_err_set(err, -r, "mkdir '%s': %s", dir, strerror(-r));

        r = net_hosts_render(cfg, &b, err);
        if (r >= 0) {
                p = xasprintf("%s/hosts", dir);
                r = write_if_changed(p, b.data ? b.data : "", b.len, err);
        }
        if (r >= 0) {
                buf_reset(&b);
                /* dockerd writes the bare hostname; the domain goes to UTS */
                buf_addf(&b, "%s\n", cfg->hostname);
                free(p);
                p = xasprintf("%s/hostname", dir);
                r = write_if_changed(p, b.data, b.len, err);
        }
        if (r >= 0) {
                buf_reset(&b);
                r = net_resolv_conf_render(cfg, &b, err);
        }
        if (r >= 0) {
                free(p);
                p = xasprintf("%s/resolv.conf", dir);
                r = write_if_changed(p, b.data ? b.data : "", b.len, err);
        }
        buf_release(&b);
        return r < 0 ? r : 0;
}
