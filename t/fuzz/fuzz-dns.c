/* SPDX-License-Identifier: Apache-2.0
 * t/fuzz/fuzz-dns.c -- libFuzzer target for dns/: the query parser and the
 * answer path (as over UDP and TCP), the strict message walker, and the
 * relay of an upstream answer.  Build: make fuzz-dns; run:
 * t/fuzz/fuzz-dns -max_total_time=60 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "dns/dns-internal.h"
#include "lib/lib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dns_table *table;
static const char *scope[] = { "dnsnet", "other" };

static void setup(void)
{
        struct dns_subnet sn = { .family = AF_INET, .prefixlen = 16 };
        struct dns_network_config nc = { .name = "dnsnet", .subnets = &sn, .n_subnets = 1 };
        struct dns_network_config oc = { .name = "other" };
        const char *n1[] = { "svc1", "svc", "0bc94ed780d7" }, *n2[] = { "svc2", "svc" };
        struct in_addr a1, a2;
        struct in6_addr b1;
        struct dns_endpoint_config e1 = { .id = "c1", .names = n1, .n_names = 3, .v4 = &a1, .v6 = &b1 };
        struct dns_endpoint_config e2 = { .id = "c2", .names = n2, .n_names = 2, .v4 = &a2 };

        inet_pton(AF_INET, "172.30.0.0", &sn.addr.v4);
        inet_pton(AF_INET, "172.30.0.2", &a1);
        inet_pton(AF_INET, "172.30.0.3", &a2);
        inet_pton(AF_INET6, "fd00::2", &b1);
        table = dns_table_new();
        dns_table_network_add(table, &nc, NULL);
        dns_table_network_add(table, &oc, NULL);
        dns_table_endpoint_add(table, "dnsnet", &e1, NULL);
        dns_table_endpoint_add(table, "dnsnet", &e2, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static uint8_t out[DNS_MAX_MSG + 2], relay[DNS_MAX_MSG + 2];
        struct dns_scope sc;
        struct dns_query q;
        size_t len = 0;
        int rcode = 0;
        uint32_t ttl;
        enum dns_verdict v;

        if (!table)
                setup();
        sc = (struct dns_scope){ .table = table, .nets = scope, .n_nets = 2, .ndots_set = size & 1 };
        for (int tcp = 0; tcp < 2; tcp++) {
                v = dns_handle_packet(&sc, data, size, tcp, &q, out, &len, &rcode);
                if (v == DNS_ANSWERED) {
                        /* whatever we answer must itself be a sound message */
                        if (dns_msg_check(out, len, NULL) < 0)
                                __builtin_trap();
                        if (!tcp && len > dns_query_udp_limit(&q) && len > 512)
                                __builtin_trap();
                }
                if (v == DNS_FORWARD) {
                        uint8_t fq[DNS_MAX_NAME + 64];
                        size_t fl = dns_forward_query_build(&q, fq, sizeof(fq));

                        if (!fl || dns_msg_check(fq, fl, NULL) < 0)
                                __builtin_trap();
                        /* the input as an upstream answer to this query */
                        len = dns_forward_reply_adapt(&q, data, size, tcp ? DNS_MAX_MSG : dns_query_udp_limit(&q),
                                                      relay, sizeof(relay));
                        if (len > (tcp ? DNS_MAX_MSG : 4096u))
                                __builtin_trap();
                }
        }
        (void)dns_msg_check(data, size, &ttl);
        if (size < 300) {
                char name[301];
                int fam;
                uint8_t addr[16];

                memcpy(name, data, size);
                name[size] = '\0';
                (void)dns_ptr_parse(name, &fam, addr);
        }
        return 0;
}
