/* SPDX-License-Identifier: Apache-2.0
 * t/unit/u-dns.c -- dns/: wire format (parse, bounds, compression, build),
 * the record table (names, aliases, scope, PTR) and local answers. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "dns/dns-internal.h"
#include "lib/lib.h"
#include "t/unit/tap.h"

static size_t mkquery(uint8_t *p, const char *name, uint16_t type, uint16_t id, int edns)
{
        size_t len = DNS_HDR_LEN;
        int n;

        memset(p, 0, DNS_HDR_LEN);
        dns_put16(p, id);
        dns_put16(p + 2, DNS_F_RD);
        dns_put16(p + 4, 1);
        n = dns_name_from_text(name, p + len, 300);
        len += (size_t)n;
        dns_put16(p + len, type);
        dns_put16(p + len + 2, DNS_C_IN);
        len += 4;
        if (edns) {
                p[len] = 0;
                dns_put16(p + len + 1, DNS_T_OPT);
                dns_put16(p + len + 3, (uint16_t)edns);
                dns_put32(p + len + 5, DNS_EDNS_DO);
                dns_put16(p + len + 9, 0);
                len += 11;
                dns_put16(p + 10, 1);
        }
        return len;
}

static void test_names(void)
{
        uint8_t out[DNS_MAX_NAME], pkt[600];
        char text[256];
        size_t off;
        int r;

        /* www.example.com at 12, then "a" + pointer to 12 */
        memset(pkt, 0, 12);
        memcpy(pkt + 12, "\3www\7example\3com\0", 17);
        memcpy(pkt + 29, "\1a\xc0\x0c", 4);
        off = 29;
        r = dns_name_unpack(pkt, 33, &off, out);
        is_int(r, 19, "compressed name unpacks to 19 bytes");
        is_int(off, 33, "offset moves past the pointer only");
        dns_name_to_text(out, (size_t)r, text, sizeof(text));
        is_str(text, "a.www.example.com", "text of a compressed name");

        /* pointer to itself: loop */
        memcpy(pkt + 12, "\xc0\x0c", 2);
        off = 12;
        is_int(dns_name_unpack(pkt, 14, &off, out), -EBADMSG, "self pointer is a loop");
        /* two pointers pointing at each other */
        memcpy(pkt + 12, "\1a\xc0\x10\xc0\x0c", 6);
        off = 16;
        is_int(dns_name_unpack(pkt, 18, &off, out), -EBADMSG, "pointer cycle is refused");
        /* forward pointer */
        memcpy(pkt + 12, "\xc0\x20", 2);
        off = 12;
        is_int(dns_name_unpack(pkt, 40, &off, out), -EBADMSG, "forward pointer is refused");
        /* label of 64 (0x40 type bits) */
        pkt[12] = 64;
        memset(pkt + 13, 'a', 64);
        pkt[77] = 0;
        off = 12;
        is_int(dns_name_unpack(pkt, 78, &off, out), -EBADMSG, "label over 63 is refused");
        /* name over 255: 5 labels of 63 */
        for (int i = 0; i < 5; i++) {
                pkt[12 + i * 64] = 63;
                memset(pkt + 13 + i * 64, 'b', 63);
        }
        pkt[12 + 5 * 64] = 0;
        off = 12;
        is_int(dns_name_unpack(pkt, 13 + 5 * 64, &off, out), -EBADMSG, "name over 255 is refused");
        /* 3 x 63 + 61 + 4 + 1 = 255 exactly is fine */
        off = 12;
        pkt[12 + 3 * 64] = 61;
        pkt[12 + 3 * 64 + 62] = 0;
        r = dns_name_unpack(pkt, 12 + 3 * 64 + 63, &off, out);
        is_int(r, 255, "a 255-byte name is fine");
        /* truncated */
        memcpy(pkt + 12, "\3www\7exa", 9);
        off = 12;
        is_int(dns_name_unpack(pkt, 21, &off, out), -EBADMSG, "truncated label is refused");

        is_int(dns_name_from_text("svc.dnsnet.", out, sizeof(out)), 12, "text to wire");
        ok(dns_name_from_text("a..b", out, sizeof(out)) < 0, "empty label refused");
        is_int(dns_name_from_text(".", out, sizeof(out)), 1, "root");
}

static void test_parse(void)
{
        uint8_t p[600];
        struct dns_query q;
        size_t len;

        len = mkquery(p, "SvC.Example", DNS_T_A, 0x1234, 0);
        is_int(dns_query_parse(p, len, &q), 0, "plain query parses");
        is_str(q.name, "svc.example", "name is lowercased for lookup");
        ok(q.id == 0x1234 && q.qtype == DNS_T_A && !q.edns && q.udp_size == 512, "id, type, no edns");

        len = mkquery(p, "svc", DNS_T_AAAA, 1, 1232);
        is_int(dns_query_parse(p, len, &q), 0, "query with OPT parses");
        ok(q.edns && q.udp_size == 1232 && q.do_bit, "EDNS size and DO bit");
        is_int(dns_query_udp_limit(&q), 1232, "udp limit follows EDNS");

        is_int(dns_query_parse(p, 11, &q), -1, "shorter than a header: dropped");
        is_int(dns_query_parse(p, len - 3, &q), DNS_R_FORMERR, "truncated OPT: FORMERR");
        len = mkquery(p, "svc", DNS_T_A, 1, 0);
        is_int(dns_query_parse(p, len - 2, &q), DNS_R_FORMERR, "truncated question: FORMERR");
        dns_put16(p + 4, 0);
        is_int(dns_query_parse(p, DNS_HDR_LEN, &q), DNS_R_FORMERR, "qdcount 0: FORMERR");
        dns_put16(p + 4, 10);
        is_int(dns_query_parse(p, len, &q), DNS_R_FORMERR, "qdcount 10: FORMERR");
        dns_put16(p + 4, 1);
        dns_put16(p + 2, DNS_F_QR);
        is_int(dns_query_parse(p, len, &q), -1, "a response is dropped");
        dns_put16(p + 2, 2 << 11);
        is_int(dns_query_parse(p, len, &q), DNS_R_NOTIMP, "opcode STATUS: NOTIMP");
        dns_put16(p + 2, 0);
        p[len] = 0xff;
        is_int(dns_query_parse(p, len + 1, &q), DNS_R_FORMERR, "trailing garbage: FORMERR");
        len = mkquery(p, "svc", DNS_T_A, 1, 4096);
        p[len - 11 + 6] = 1;    /* version 1 */
        is_int(dns_query_parse(p, len, &q), DNS_R_BADVERS, "EDNS version 1: BADVERS");
        {
                uint8_t out[600];
                size_t olen = dns_reply_error(out, sizeof(out), &q, DNS_R_BADVERS);

                ok(olen > 23 && (dns_get16(out + 2) & 0xf) == 0 && out[olen - 11 + 5] == 1,
                   "BADVERS goes in the OPT's extended rcode");
        }
}

static void addr4(struct in_addr *a, const char *s) { inet_pton(AF_INET, s, a); }
static void addr6(struct in6_addr *a, const char *s) { inet_pton(AF_INET6, s, a); }

static void ep(struct dns_table *t, const char *net, const char *id, const char *const *names,
               size_t n, const char *v4, const char *v6)
{
        struct in_addr a;
        struct in6_addr b;
        struct dns_endpoint_config c = { .id = id, .names = names, .n_names = n };
        struct berth_err err = BERTH_ERR_INIT;

        if (v4) {
                addr4(&a, v4);
                c.v4 = &a;
        }
        if (v6) {
                addr6(&b, v6);
                c.v6 = &b;
        }
        if (dns_table_endpoint_add(t, net, &c, &err) < 0)
                printf("# endpoint_add: %s\n", err.msg);
}

static struct dns_table *fixture(void)
{
        struct dns_table *t = dns_table_new();
        struct dns_subnet sn[2] = { { .family = AF_INET, .prefixlen = 24 },
                                    { .family = AF_INET6, .prefixlen = 64 } };
        struct dns_network_config nc = { .name = "dnsnet", .subnets = sn, .n_subnets = 2 };
        struct dns_network_config nc4 = { .name = "dnsnet4" };

        addr4(&sn[0].addr.v4, "172.30.0.0");
        addr6(&sn[1].addr.v6, "fd00:1::");
        dns_table_network_add(t, &nc, NULL);
        dns_table_network_add(t, &nc4, NULL);
        ep(t, "dnsnet", "c1", (const char *[]){ "svc1", "svc", "0bc94ed780d7" }, 3, "172.30.0.2", "fd00:1::2");
        ep(t, "dnsnet", "c2", (const char *[]){ "svc2", "SVC" }, 2, "172.30.0.3", "fd00:1::3");
        ep(t, "dnsnet", "c3", (const char *[]){ "svc3", "svc", "myhost3" }, 3, "172.30.0.4", "fd00:1::4");
        ep(t, "dnsnet4", "p4", (const char *[]){ "plain4" }, 1, "172.31.0.2", NULL);
        return t;
}

static void test_table(void)
{
        struct dns_table *t = fixture();
        static struct dns_lookup lk;
        const char *scope[] = { "dnsnet" }, *scope2[] = { "dnsnet", "dnsnet4" }, *scope4[] = { "dnsnet4" };
        char out[600];
        uint8_t a[16];
        struct berth_err err = BERTH_ERR_INIT;

        dns_table_resolve(t, scope, 1, "svc", &lk);
        ok(lk.found && lk.n4 == 3 && lk.n6 == 3, "alias with 3 holders: 3 A + 3 AAAA");
        dns_table_resolve(t, scope, 1, "svc1", &lk);
        ok(lk.found && lk.n4 == 1, "container name");
        dns_table_resolve(t, scope, 1, "svc1.dnsnet", &lk);
        ok(lk.found && lk.n4 == 1, "name.network");
        dns_table_resolve(t, scope, 1, "svc.dnsnet", &lk);
        ok(lk.found && lk.n4 == 3, "alias.network");
        dns_table_resolve(t, scope, 1, "0bc94ed780d7", &lk);
        ok(lk.found, "short id");
        dns_table_resolve(t, scope, 1, "myhost3", &lk);
        ok(lk.found, "hostname");
        dns_table_resolve(t, scope, 1, "plain4", &lk);
        ok(!lk.found, "a name on another network is out of scope");
        dns_table_resolve(t, scope, 1, "plain4.dnsnet4", &lk);
        ok(!lk.found, "name.network of a network the client is not on is out of scope");
        dns_table_resolve(t, scope2, 2, "plain4.dnsnet4", &lk);
        ok(lk.found && lk.n4 == 1 && lk.n6 == 0, "after connect: found, v4 only");
        dns_table_resolve(t, scope4, 1, "svc1.dnsnet", &lk);
        ok(!lk.found, "scope follows the network list");

        dns_table_endpoint_remove(t, "dnsnet", "c3", NULL);
        dns_table_resolve(t, scope, 1, "svc", &lk);
        ok(lk.found && lk.n4 == 2, "removing a holder takes effect at once");
        dns_table_resolve(t, scope, 1, "myhost3", &lk);
        ok(!lk.found, "its own names are gone");
        /* rename = replace with the same id */
        ep(t, "dnsnet", "c2", (const char *[]){ "renamed", "svc" }, 2, "172.30.0.3", NULL);
        dns_table_resolve(t, scope, 1, "svc2", &lk);
        ok(!lk.found, "old name gone after rename");
        dns_table_resolve(t, scope, 1, "renamed", &lk);
        ok(lk.found, "new name answers after rename");

        addr4((struct in_addr *)a, "172.30.0.3");
        is_int(dns_table_reverse(t, scope, 1, AF_INET, a, out, sizeof(out)), 1, "PTR found");
        is_str(out, "renamed.dnsnet", "PTR is name.network");
        addr6((struct in6_addr *)a, "fd00:1::2");
        is_int(dns_table_reverse(t, scope, 1, AF_INET6, a, out, sizeof(out)), 1, "PTR v6 found");
        is_str(out, "svc1.dnsnet", "PTR v6 is name.network");
        addr4((struct in_addr *)a, "172.30.0.99");
        is_int(dns_table_reverse(t, scope, 1, AF_INET, a, out, sizeof(out)), 0,
               "unknown address in a berth subnet: ours (NXDOMAIN)");
        addr4((struct in_addr *)a, "10.9.9.9");
        is_int(dns_table_reverse(t, scope, 1, AF_INET, a, out, sizeof(out)), -ENOENT,
               "address outside: forward");

        is_int(dns_table_network_add(t, &(struct dns_network_config){ .name = "DNSNET" }, &err), -EEXIST,
               "network names are case-insensitive");
        is_int(dns_table_network_rename(t, "dnsnet4", "other", NULL), 0, "rename network");
        dns_table_resolve(t, (const char *[]){ "other" }, 1, "plain4.other", &lk);
        ok(lk.found, "name.newnetwork after rename");
        is_int(dns_table_network_remove(t, "dnsnet", NULL), 0, "remove network");
        dns_table_resolve(t, scope, 1, "svc", &lk);
        ok(!lk.found, "records gone with the network");
        dns_table_free(t);
}

static void test_ptr_parse(void)
{
        uint8_t a[16];
        int fam;
        struct in6_addr want;

        ok(dns_ptr_parse("3.0.30.172.in-addr.arpa", &fam, a) == 0 && fam == AF_INET &&
           a[0] == 172 && a[3] == 3, "v4 reverse name");
        ok(dns_ptr_parse("0.30.172.in-addr.arpa", &fam, a) < 0, "partial v4 reverse is not an address");
        ok(dns_ptr_parse("256.0.30.172.in-addr.arpa", &fam, a) < 0, "octet over 255");
        ok(dns_ptr_parse("172.30.0.3", &fam, a) < 0, "non-arpa");
        ok(dns_ptr_parse("4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa",
                         &fam, a) == 0 && fam == AF_INET6, "v6 reverse name");
        inet_pton(AF_INET6, "fd00:1::4", &want);
        ok(!memcmp(a, &want, 16), "v6 nibbles in order");
}

static int rcode_of(const uint8_t *r) { return dns_get16(r + 2) & 0xf; }

static void test_answers(void)
{
        struct dns_table *t = fixture();
        const char *scope[] = { "dnsnet" }, *scope4[] = { "dnsnet4" };
        struct dns_scope sc = { .table = t, .nets = scope, .n_nets = 1 };
        struct dns_scope sc4 = { .table = t, .nets = scope4, .n_nets = 1 };
        static uint8_t p[600], out[DNS_MAX_MSG];
        struct dns_query q;
        size_t len, olen;
        int rc;
        char first[8] = { 0 };
        bool varied = false;

        len = mkquery(p, "SvC", DNS_T_A, 77, 0);
        is_int(dns_handle_packet(&sc, p, len, false, &q, out, &olen, &rc), DNS_ANSWERED, "svc answered");
        ok(dns_get16(out) == 77 && dns_get16(out + 6) == 3 && rcode_of(out) == 0, "3 A records, id kept");
        ok(dns_get16(out + 2) & DNS_F_RA && dns_get16(out + 2) & DNS_F_RD && !(dns_get16(out + 2) & DNS_F_TC),
           "RA, RD copied, no TC");
        is_int(olen, 12 + 9 + 3 * 16, "owner names are compressed (69 bytes, Docker 78)");
        ok(!memcmp(out + 12, "\3SvC", 4), "question echoed as typed");
        ok(dns_get32(out + 12 + 9 + 6) == DNS_TTL, "TTL 600");

        for (int i = 0; i < 30; i++) {
                len = mkquery(p, "svc", DNS_T_A, 1, 0);
                dns_handle_packet(&sc, p, len, false, &q, out, &olen, &rc);
                if (i == 0)
                        memcpy(first, out + 12 + 9 + 12, 4);
                else if (memcmp(first, out + 12 + 9 + 12, 4))
                        varied = true;
        }
        ok(varied, "round robin: the first address changes across answers");

        len = mkquery(p, "svc", DNS_T_AAAA, 2, 1232);
        dns_handle_packet(&sc, p, len, false, &q, out, &olen, &rc);
        ok(dns_get16(out + 6) == 3 && dns_get16(out + 10) == 1, "AAAA: 3 records, OPT echoed");
        ok(out[olen - 11 + 7] & 0x80, "DO bit echoed");

        len = mkquery(p, "plain4", DNS_T_AAAA, 3, 0);
        is_int(dns_handle_packet(&sc4, p, len, false, &q, out, &olen, &rc), DNS_ANSWERED, "v4-only AAAA answered");
        ok(rcode_of(out) == 0 && dns_get16(out + 6) == 0, "NODATA");

        len = mkquery(p, "svc", DNS_T_MX, 3, 0);
        dns_handle_packet(&sc, p, len, false, &q, out, &olen, &rc);
        ok(rcode_of(out) == 0 && dns_get16(out + 6) == 0, "MX of a known name: NODATA");
        len = mkquery(p, "_http._tcp.svc", DNS_T_SRV, 3, 0);
        is_int(dns_handle_packet(&sc, p, len, false, &q, out, &olen, &rc), DNS_ANSWERED, "SRV of a known name answered");
        ok(rcode_of(out) == 0 && dns_get16(out + 6) == 0, "SRV NODATA");
        len = mkquery(p, "svc", DNS_T_TXT, 3, 0);
        is_int(dns_handle_packet(&sc, p, len, false, &q, out, &olen, &rc), DNS_FORWARD, "TXT is forwarded");
        len = mkquery(p, "example.com", DNS_T_A, 3, 0);
        is_int(dns_handle_packet(&sc, p, len, false, &q, out, &olen, &rc), DNS_FORWARD, "unknown name forwarded");
        sc.ndots_set = true;
        len = mkquery(p, "nosuchhost", DNS_T_A, 3, 0);
        is_int(dns_handle_packet(&sc, p, len, false, &q, out, &olen, &rc), DNS_ANSWERED,
               "ndots set: dotless unknown answered empty");
        sc.ndots_set = false;

        len = mkquery(p, "3.0.30.172.in-addr.arpa", DNS_T_PTR, 4, 0);
        dns_handle_packet(&sc, p, len, false, &q, out, &olen, &rc);
        ok(dns_get16(out + 6) == 1 && !memcmp(out + olen - 13, "\4svc2\6dnsnet\0", 13), "PTR svc2.dnsnet.");
        len = mkquery(p, "99.0.30.172.in-addr.arpa", DNS_T_PTR, 4, 0);
        dns_handle_packet(&sc, p, len, false, &q, out, &olen, &rc);
        is_int(rcode_of(out), DNS_R_NXDOMAIN, "PTR of a free address in a berth subnet: NXDOMAIN");
        len = mkquery(p, "9.9.9.10.in-addr.arpa", DNS_T_PTR, 4, 0);
        is_int(dns_handle_packet(&sc, p, len, false, &q, out, &olen, &rc), DNS_FORWARD, "foreign PTR forwarded");

        /* many holders: truncation only when records are dropped */
        {
                struct dns_network_config nc = { .name = "big" };
                const char *bigscope[] = { "big" };
                struct dns_scope sb = { .table = t, .nets = bigscope, .n_nets = 1 };

                dns_table_network_add(t, &nc, NULL);
                for (int i = 0; i < 100; i++) {
                        char id[16], ip[32];

                        snprintf(id, sizeof(id), "b%d", i);
                        snprintf(ip, sizeof(ip), "10.1.0.%d", i + 1);
                        ep(t, "big", id, (const char *[]){ id, "many" }, 2, ip, NULL);
                }
                len = mkquery(p, "many", DNS_T_A, 5, 0);
                dns_handle_packet(&sb, p, len, false, &q, out, &olen, &rc);
                ok(olen <= 512 && (dns_get16(out + 2) & DNS_F_TC) && dns_get16(out + 6) == 30,
                   "100 A over plain UDP: 30 fit in 512, TC set");
                len = mkquery(p, "many", DNS_T_A, 5, 4096);
                dns_handle_packet(&sb, p, len, false, &q, out, &olen, &rc);
                ok(!(dns_get16(out + 2) & DNS_F_TC) && dns_get16(out + 6) == 100, "EDNS 4096: all 100, no TC");
                len = mkquery(p, "many", DNS_T_A, 5, 0);
                dns_handle_packet(&sb, p, len, true, &q, out, &olen, &rc);
                ok(!(dns_get16(out + 2) & DNS_F_TC) && dns_get16(out + 6) == 100, "TCP: all 100");
                ok(dns_msg_check(out, olen, NULL) == 0, "our reply passes the strict checker");
        }

        /* garbage answers */
        len = mkquery(p, "svc", DNS_T_A, 9, 0);
        dns_put16(p + 4, 0);
        is_int(dns_handle_packet(&sc, p, DNS_HDR_LEN, false, &q, out, &olen, &rc), DNS_ANSWERED,
               "qdcount 0 answered");
        ok(rcode_of(out) == DNS_R_FORMERR && olen == DNS_HDR_LEN && dns_get16(out) == 9, "FORMERR, id kept");
        dns_table_free(t);
}

static void test_forward_format(void)
{
        uint8_t p[600], fq[600], ans[2000], out[DNS_MAX_MSG];
        struct dns_query q;
        size_t len, flen, olen;

        len = mkquery(p, "ext.test", DNS_T_A, 0xbeef, 0);
        dns_query_parse(p, len, &q);
        flen = dns_forward_query_build(&q, fq, sizeof(fq));
        ok(flen == len + 11 && dns_get16(fq + 10) == 1, "forwarded query carries our OPT");
        /* an upstream answer: copy of the forwarded query as a response + 1 A */
        memcpy(ans, fq, flen - 11);
        dns_put16(ans, 0x1111);
        dns_put16(ans + 2, DNS_F_QR | DNS_F_RD | DNS_F_RA);
        dns_put16(ans + 6, 1);
        dns_put16(ans + 10, 0);
        {
                size_t a = flen - 11;

                memcpy(ans + a, "\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4\xc0\0\2\7", 16);
                a += 16;
                olen = dns_forward_reply_adapt(&q, ans, a, 512, out, sizeof(out));
                ok(olen == a && dns_get16(out) == 0xbeef, "relayed with the client's id");
                /* too big for the client: pad with a TXT-ish blob */
                dns_put16(ans + 6, 2);
                memcpy(ans + a, "\xc0\x0c\0\x10\0\1\0\0\0\x3c\x02\x58", 12);
                memset(ans + a + 12, 'x', 600);
                olen = dns_forward_reply_adapt(&q, ans, a + 612, 512, out, sizeof(out));
                ok(olen < 512 && (dns_get16(out + 2) & DNS_F_TC) && dns_get16(out + 6) == 0 &&
                   dns_get16(out) == 0xbeef, "over the client's size: TC, empty, client retries on TCP");
                is_int(dns_msg_check(ans, a + 612, NULL), 0, "the big answer is well-formed");
        }
}

static void test_upstream(void)
{
        struct dns_upstream u;

        ok(dns_upstream_parse("127.0.0.53", &u, NULL) == 0 && u.host_netns, "loopback: host netns");
        ok(dns_upstream_parse("10.0.0.1:5353", &u, NULL) == 0 && !u.host_netns &&
           ntohs(((struct sockaddr_in *)&u.addr)->sin_port) == 5353, "address:port, container netns");
        ok(dns_upstream_parse("[::1]:54", &u, NULL) == 0 && u.host_netns, "[v6]:port");
        ok(dns_upstream_parse("2001:db8::1", &u, NULL) == 0 && !u.host_netns, "bare v6");
        ok(dns_upstream_parse("nope", &u, NULL) < 0, "garbage refused");
        ok(dns_upstream_parse("1.2.3.4:99999", &u, NULL) < 0, "port out of range");
        {
                struct dns_upstream ups[DNS_MAX_UPSTREAMS];
                size_t n = dns_upstreams_from_resolv_conf(
                        "# comment\nsearch example.test\nnameserver 10.0.0.1\nnameserver 127.0.0.11\n"
                        "nameserver fe80::1%eth0\nnameserver 2001:db8::53\nnameserver 127.0.0.53\n"
                        "nameserver 10.0.0.9\n", ups, DNS_MAX_UPSTREAMS);

                is_int(n, 3, "resolv.conf: 3 usable nameservers, at most 3");
                ok(ups[0].host_netns && ups[1].host_netns && ups[2].host_netns,
                   "host servers are dialled from the host netns");
                ok(ups[1].addr.ss_family == AF_INET6 &&
                   ntohs(((struct sockaddr_in *)&ups[2].addr)->sin_port) == 53, "v6 kept, port 53");
        }
}

/* ---- a resolver on a real loop, no netns (runs unprivileged) ---- */
static struct {
        uv_loop_t loop;
        struct dns_server *srv;
        struct dns_resolver *res;
        uv_udp_t client, upstream;
        uv_timer_t guard;
        struct sockaddr_in to;
        int step;
        uint16_t held_id;
        struct sockaddr_storage held_peer;
        uint8_t held[512];
        size_t held_len;
        char log[4][64];
} L;

static void send_q(const char *name, uint16_t id)
{
        static uint8_t p[600];
        size_t len = mkquery(p, name, DNS_T_A, id, 0);
        uv_buf_t b = uv_buf_init((char *)p, (unsigned)len);

        uv_udp_try_send(&L.client, &b, 1, (struct sockaddr *)&L.to);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
        static char mem[2][4096];

        b->base = mem[h == (uv_handle_t *)&L.upstream];
        b->len = sizeof(mem[0]);
}

static void closed_cb(uv_handle_t *h) { (void)h; }

static void finish(void)
{
        uv_close((uv_handle_t *)&L.client, closed_cb);
        uv_close((uv_handle_t *)&L.upstream, closed_cb);
        uv_close((uv_handle_t *)&L.guard, closed_cb);
        dns_server_free(L.srv);
}

/* the fake upstream: answers x.ext.test with 192.0.2.7, holds hold.ext.test */
static void on_upstream(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
                        unsigned flags)
{
        uint8_t ans[600];
        struct dns_query q;
        size_t len;

        if (n <= 0 || dns_query_parse((uint8_t *)b->base, (size_t)n, &q) != 0)
                return;
        if (!strcmp(q.name, "hold.ext.test"))
                return;         /* never answered: the deadline answers SERVFAIL */
        /* question + one A, no OPT */
        len = DNS_HDR_LEN + q.qname_len + 4;
        memcpy(ans, b->base, len);
        dns_put16(ans + 2, DNS_F_QR | DNS_F_RD | DNS_F_RA);
        dns_put16(ans + 6, 1);
        dns_put16(ans + 10, 0);
        memcpy(ans + len, "\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4\xc0\0\2\7", 16);
        len += 16;
        {
                uv_buf_t ob = uv_buf_init((char *)ans, (unsigned)len);

                uv_udp_try_send(h, &ob, 1, from);
        }
}

static void on_client(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
                      unsigned flags)
{
        const uint8_t *p = (const uint8_t *)b->base;

        if (n < DNS_HDR_LEN)
                return;
        snprintf(L.log[L.step < 4 ? L.step : 3], sizeof(L.log[0]), "id=%u rcode=%u an=%u",
                 dns_get16(p), dns_get16(p + 2) & 0xf, dns_get16(p + 6));
        switch (L.step++) {
        case 0:         /* local answer came: now a forwarded one */
                send_q("x.ext.test", 2);
                break;
        case 1:         /* forwarded answer came: fill the single in-flight slot */
                send_q("hold.ext.test", 3);
                send_q("y.ext.test", 4);
                break;
        case 2:         /* REFUSED for y (over the limit); hold gets SERVFAIL later */
                break;
        case 3:
                finish();
                break;
        }
}

static void on_guard(uv_timer_t *t)
{
        printf("# loop test timed out at step %d\n", L.step);
        finish();
}

static void on_started(struct dns_resolver *r, int status, const char *msg, void *data)
{
        *(int *)data = status;
        if (status < 0) {
                printf("# resolver: %s\n", msg);
                finish();
                return;
        }
        uv_ip4_addr("127.0.0.1", dns_resolver_port(r, SOCK_DGRAM), &L.to);
        send_q("SVC", 1);
}

static void test_loop(void)
{
        struct dns_server_config cfg = { .max_inflight = 1, .forward_deadline_ms = 300 };
        struct dns_network_config nc = { .name = "n" };
        const char *nets[] = { "n" }, *names[] = { "svc" };
        struct in_addr a;
        struct dns_endpoint_config ec = { .id = "e", .names = names, .n_names = 1, .v4 = &a };
        struct dns_upstream up;
        struct dns_resolver_config rc = { .name = "u", .netns_fd = -1, .listen_addr = "127.0.0.1",
                                          .any_port = true, .networks = nets, .n_networks = 1,
                                          .upstreams = &up, .n_upstreams = 1 };
        struct sockaddr_in any;
        struct sockaddr_storage ss;
        int namelen = sizeof(ss), started = 1, r;
        char upstr[32];

        memset(&L, 0, sizeof(L));
        uv_loop_init(&L.loop);
        inet_pton(AF_INET, "10.0.0.2", &a);
        dns_server_new(&L.loop, &cfg, &L.srv, NULL);
        dns_network_add(L.srv, &nc, NULL);
        dns_endpoint_add(L.srv, "n", &ec, NULL);
        uv_ip4_addr("127.0.0.1", 0, &any);
        uv_udp_init(&L.loop, &L.upstream);
        uv_udp_bind(&L.upstream, (struct sockaddr *)&any, 0);
        uv_udp_getsockname(&L.upstream, (struct sockaddr *)&ss, &namelen);
        snprintf(upstr, sizeof(upstr), "127.0.0.1:%u", ntohs(((struct sockaddr_in *)&ss)->sin_port));
        dns_upstream_parse(upstr, &up, NULL);
        uv_udp_recv_start(&L.upstream, alloc_cb, on_upstream);
        uv_udp_init(&L.loop, &L.client);
        uv_udp_bind(&L.client, (struct sockaddr *)&any, 0);
        uv_udp_recv_start(&L.client, alloc_cb, on_client);
        uv_timer_init(&L.loop, &L.guard);
        uv_timer_start(&L.guard, on_guard, 10000, 0);
        r = dns_resolver_start(L.srv, &rc, on_started, &started, &L.res, NULL);
        is_int(r, 0, "resolver starts on 127.0.0.1:0 without a netns");
        uv_run(&L.loop, UV_RUN_DEFAULT);
        is_int(started, 0, "started callback with status 0");
        is_str(L.log[0], "id=1 rcode=0 an=1", "loop: local answer over UDP");
        is_str(L.log[1], "id=2 rcode=0 an=1", "loop: forwarded through c-ares, client id restored");
        is_str(L.log[2], "id=4 rcode=5 an=0", "loop: over the in-flight limit: REFUSED");
        is_str(L.log[3], "id=3 rcode=2 an=0", "loop: silent upstream: SERVFAIL at the deadline");
        is_int(uv_loop_close(&L.loop), 0, "every handle closed after dns_server_free");
}

int main(void)
{
        test_names();
        test_parse();
        test_table();
        test_ptr_parse();
        test_answers();
        test_forward_format();
        test_upstream();
        test_loop();
        return tap_done();
}
