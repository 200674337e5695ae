/* SPDX-License-Identifier: Apache-2.0
 * dns/answer.c -- what a resolver answers from the record table, and what it
 * leaves to the upstreams (Docker's ServeDNS, with its defects fixed: always
 * an answer, EDNS echo, compression, TC only when records were dropped). */
#include "config.h"

#include <string.h>
#include <sys/random.h>

#include "dns/dns-internal.h"
#include "lib/lib.h"

static uint64_t rng_state[2];

static uint64_t splitmix(uint64_t *x)
{
        uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

uint32_t dns_rand(void)
{
        uint64_t s0, s1, r;

        if (!rng_state[0] && !rng_state[1]) {
                uint64_t seed = 0;

                if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
                        seed = (uint64_t)berth_now_ns() ^ (uint64_t)getpid();
                rng_state[0] = splitmix(&seed);
                rng_state[1] = splitmix(&seed) | 1;
        }
        /* xoroshiro128+ */
        s0 = rng_state[0];
        s1 = rng_state[1];
        r = s0 + s1;
        s1 ^= s0;
        rng_state[0] = ((s0 << 24) | (s0 >> 40)) ^ s1 ^ (s1 << 16);
        rng_state[1] = (s1 << 37) | (s1 >> 27);
        return (uint32_t)(r >> 32);
}

static uint32_t rand_below(uint32_t n)
{
        return (uint32_t)(((uint64_t)dns_rand() * n) >> 32);
}

/* Fisher-Yates over n elements of size sz */
static void shuffle(void *base, size_t n, size_t sz)
{
        uint8_t *a = base, tmp[16];

        for (size_t i = n; i > 1; i--) {
                size_t j = rand_below((uint32_t)i);

                if (j != i - 1) {
                        memcpy(tmp, a + j * sz, sz);
                        memcpy(a + j * sz, a + (i - 1) * sz, sz);
                        memcpy(a + (i - 1) * sz, tmp, sz);
                }
        }
}

/* 20 KiB: not on the stack, and the loop is single-threaded */
static _Thread_local struct dns_lookup lookup_storage;

static bool has_dot(const char *s)
{
        return strchr(s, '.') != NULL;
}

enum dns_verdict dns_answer(const struct dns_scope *sc, const struct dns_query *q, uint8_t *out,
                            size_t limit, size_t *ret_len, int *ret_rcode)
{
        struct dns_reply rp;
        struct dns_lookup *lk;
        enum dns_verdict v = DNS_FORWARD;

        *ret_rcode = DNS_R_NOERROR;
        if (!q->name_ok || (q->qclass != DNS_C_IN && q->qclass != DNS_C_ANY))
                return DNS_FORWARD;

        if (q->qtype == DNS_T_PTR) {
                char target[2 * DNS_MAX_NAME + 2];
                uint8_t addr[16], wire[DNS_MAX_NAME];
                int family, r, wl;

                if (dns_ptr_parse(q->name, &family, addr) < 0)
                        return DNS_FORWARD;     /* moby >= 24: forwarded, not dropped */
                r = dns_table_reverse(sc->table, sc->nets, sc->n_nets, family, addr, target,
                                      sizeof(target));
                if (r < 0)
                        return DNS_FORWARD;
                if (r == 0) {
                        /* in a berth subnet but nobody there: ours to deny */
                        dns_reply_begin(&rp, out, limit, q, DNS_R_NXDOMAIN);
                        *ret_rcode = DNS_R_NXDOMAIN;
                        *ret_len = dns_reply_finish(&rp);
                        return DNS_ANSWERED;
                }
                dns_reply_begin(&rp, out, limit, q, DNS_R_NOERROR);
                wl = dns_name_from_text(target, wire, sizeof(wire));
                if (wl > 0)
                        dns_reply_add(&rp, DNS_T_PTR, DNS_TTL, wire, (uint16_t)wl);
                *ret_len = dns_reply_finish(&rp);
                return DNS_ANSWERED;
        }

        if (q->qtype != DNS_T_A && q->qtype != DNS_T_AAAA && q->qtype != DNS_T_MX &&
            q->qtype != DNS_T_SRV)
                return DNS_FORWARD;

        lk = &lookup_storage;
        if (q->qtype == DNS_T_SRV) {
                /* _service._proto.name: NODATA if name is ours (we hold no SRV) */
                const char *n = q->name;

                if (n[0] == '_' && (n = strchr(n, '.')) && n[1] == '_' && (n = strchr(n + 1, '.')))
                        dns_table_resolve(sc->table, sc->nets, sc->n_nets, n + 1, lk);
                else
                        dns_table_resolve(sc->table, sc->nets, sc->n_nets, q->name, lk);
        } else {
                dns_table_resolve(sc->table, sc->nets, sc->n_nets, q->name, lk);
        }

        if (lk->found) {
                dns_reply_begin(&rp, out, limit, q, DNS_R_NOERROR);
                if (q->qtype == DNS_T_A) {
                        shuffle(lk->v4, lk->n4, sizeof(lk->v4[0]));
                        for (size_t i = 0; i < lk->n4; i++)
                                if (!dns_reply_add(&rp, DNS_T_A, DNS_TTL, &lk->v4[i], 4))
                                        break;
                } else if (q->qtype == DNS_T_AAAA) {
                        shuffle(lk->v6, lk->n6, sizeof(lk->v6[0]));
                        for (size_t i = 0; i < lk->n6; i++)
                                if (!dns_reply_add(&rp, DNS_T_AAAA, DNS_TTL, &lk->v6[i], 16))
                                        break;
                }
                /* MX, SRV, or no address of the asked family: NODATA */
                *ret_len = dns_reply_finish(&rp);
                v = DNS_ANSWERED;
        } else if (sc->ndots_set && (q->qtype == DNS_T_A || q->qtype == DNS_T_AAAA) &&
                   !has_dot(q->name) && q->name[0]) {
                /* Docker (libnetwork #1441): with the user's ndots, a dotless
                 * unknown name is not sent upstream */
                dns_reply_begin(&rp, out, limit, q, DNS_R_NOERROR);
                *ret_len = dns_reply_finish(&rp);
                v = DNS_ANSWERED;
        }
        return v;
}

enum dns_verdict dns_handle_packet(const struct dns_scope *sc, const uint8_t *pkt, size_t len,
                                   bool tcp, struct dns_query *q, uint8_t *out,
                                   size_t *ret_len, int *ret_rcode)
{
        int r = dns_query_parse(pkt, len, q);

        if (r < 0)
                return DNS_DROP;
        if (r > 0) {
                *ret_rcode = r;
                *ret_len = dns_reply_error(out, DNS_MAX_MSG, q, r);
                return *ret_len ? DNS_ANSWERED : DNS_DROP;
        }
        return dns_answer(sc, q, out, tcp ? DNS_MAX_MSG : dns_query_udp_limit(q), ret_len,
                          ret_rcode);
}
