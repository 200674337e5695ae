/* SPDX-License-Identifier: Apache-2.0
 * net/nat.c -- renders berth's nftables table from the networks and
 * published ports: masquerade for bridge subnets, DNAT for published ports,
 * isolation between bridges, internal networks kept on their bridge.  The
 * table is always replaced whole in one transaction: reconciliation after a
 * restart is re-rendering, and a rule can never be duplicated. */
#include "config.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "net/net-internal.h"

void net__nat_render_delete(struct buf *b, const char *table)
{
        /* adding an existing table is a no-op: the delete never fails */
        buf_addf(b, "table inet %s\ndelete table inet %s\n", table, table);
}

static bool is_v6(const char *ip)
{
        return ip && strchr(ip, ':') != NULL;
}

static void render_dnat(struct buf *b, const struct net_nat_port *p)
{
        const struct net_port_map *m = p->map;
        const char *proto = m->proto == IPPROTO_UDP ? "udp" : "tcp";
        bool v6 = is_v6(m->container_ip);

        if (m->host_ip[0] && strcmp(m->host_ip, "0.0.0.0") && strcmp(m->host_ip, "::")) {
                if (is_v6(m->host_ip) != v6)
                        return;
                buf_addf(b, "\t\t%s daddr %s", v6 ? "ip6" : "ip", m->host_ip);
        } else {
                buf_addf(b, "\t\tmeta nfproto %s", v6 ? "ipv6" : "ipv4");
        }
        if (p->bridge)
                buf_addf(b, " iifname != \"%s\"", p->bridge);
        if (v6)
                buf_addf(b, " %s dport %u dnat ip6 to [%s]:%u\n", proto, m->host_port,
                         m->container_ip, m->container_port);
        else
                buf_addf(b, " %s dport %u dnat ip to %s:%u\n", proto, m->host_port,
                         m->container_ip, m->container_port);
}

void net__nat_render(struct buf *b, const char *table, const struct net_nat_net *nets,
                     size_t n_nets, const struct net_nat_port *ports, size_t n_ports, bool loopback)
{
        net__nat_render_delete(b, table);
        if (n_nets == 0 && n_ports == 0)
                return;
        buf_addf(b, "table inet %s {\n", table);

        buf_adds(b, "\tchain ports {\n");
        for (size_t i = 0; i < n_ports; i++)
                render_dnat(b, &ports[i]);
        buf_adds(b, "\t}\n");

        buf_adds(b, "\tchain prerouting {\n"
                    "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
                    "\t\tfib daddr type local jump ports\n"
                    "\t}\n");
        /* loopback is the userland proxy's (as dockerd with userland-proxy);
         * without it 127.0.0.0/8 is DNATed too (the bridges then route
         * localnet, and such packets leave masqueraded); ::1 cannot be */
        buf_adds(b, "\tchain output {\n"
                    "\t\ttype nat hook output priority -100; policy accept;\n");
        buf_adds(b, loopback ? "\t\tmeta nfproto ipv4 fib daddr type local jump ports\n"
                             : "\t\tip daddr != 127.0.0.0/8 fib daddr type local jump ports\n");
        buf_adds(b, "\t\tip6 daddr != ::1 fib daddr type local jump ports\n"
                    "\t}\n");

        buf_adds(b, "\tchain postrouting {\n"
                    "\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
        for (size_t i = 0; i < n_nets; i++) {
                const struct net_nat_net *n = &nets[i];
                if (n->internal || !n->bridge)
                        continue;
                if (n->subnet)
                        buf_addf(b, "\t\tip saddr %s oifname != \"%s\" masquerade\n",
                                 n->subnet, n->bridge);
                if (n->subnet6)
                        buf_addf(b, "\t\tip6 saddr %s oifname != \"%s\" masquerade\n",
                                 n->subnet6, n->bridge);
                if (loopback && n->subnet)
                        buf_addf(b, "\t\tip saddr 127.0.0.0/8 oifname \"%s\" masquerade\n", n->bridge);
        }
        for (size_t i = 0; i < n_ports; i++) {
                const struct net_port_map *m = ports[i].map;
                const char *proto = m->proto == IPPROTO_UDP ? "udp" : "tcp";
                const char *fam = is_v6(m->container_ip) ? "ip6" : "ip";
                /* hairpin: a container reaching its own published port */
                buf_addf(b, "\t\t%s saddr %s %s daddr %s %s dport %u masquerade\n", fam,
                         m->container_ip, fam, m->container_ip, proto, m->container_port);
        }
        buf_adds(b, "\t}\n");

        buf_adds(b, "\tchain filter_forward {\n"
                    "\t\ttype filter hook forward priority filter; policy accept;\n");
        for (size_t i = 0; i < n_nets; i++) {
                const struct net_nat_net *n = &nets[i];
                if (!n->bridge)
                        continue;
                if (n->internal) {
                        buf_addf(b, "\t\tiifname \"%s\" oifname != \"%s\" drop\n", n->bridge,
                                 n->bridge);
                        buf_addf(b, "\t\toifname \"%s\" iifname != \"%s\" drop\n", n->bridge,
                                 n->bridge);
                }
                for (size_t j = 0; j < n_nets; j++) {
                        if (j == i || !nets[j].bridge || !strcmp(nets[j].bridge, n->bridge))
                                continue;
                        buf_addf(b, "\t\tiifname \"%s\" oifname \"%s\" drop\n", n->bridge,
                                 nets[j].bridge);
                }
        }
        buf_adds(b, "\t}\n}\n");
}
