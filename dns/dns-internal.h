/* SPDX-License-Identifier: Apache-2.0
 * dns/dns-internal.h -- private to dns/: wire format, record table, answers,
 * forwarding.  Unit tests and the fuzzer include it too. */
#ifndef BERTH_DNS_INTERNAL_H
#define BERTH_DNS_INTERNAL_H

#include "dns/dns.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct berth_err;

/* ---- wire format (wire.c) ---- */
#define DNS_HDR_LEN 12
#define DNS_MAX_NAME 255
#define DNS_MAX_LABEL 63
#define DNS_MAX_UDP 4096        /* what we advertise and accept over UDP */
#define DNS_MAX_MSG 65535

enum {
        DNS_T_A = 1, DNS_T_NS = 2, DNS_T_CNAME = 5, DNS_T_SOA = 6, DNS_T_PTR = 12,
        DNS_T_MX = 15, DNS_T_TXT = 16, DNS_T_AAAA = 28, DNS_T_SRV = 33, DNS_T_OPT = 41,
        DNS_T_ANY = 255,
};
enum { DNS_C_IN = 1, DNS_C_ANY = 255 };
enum {
        DNS_R_NOERROR = 0, DNS_R_FORMERR = 1, DNS_R_SERVFAIL = 2, DNS_R_NXDOMAIN = 3,
        DNS_R_NOTIMP = 4, DNS_R_REFUSED = 5, DNS_R_BADVERS = 16,
};
#define DNS_F_QR 0x8000
#define DNS_F_OPCODE 0x7800
#define DNS_F_AA 0x0400
#define DNS_F_TC 0x0200
#define DNS_F_RD 0x0100
#define DNS_F_RA 0x0080
#define DNS_F_AD 0x0020
#define DNS_F_CD 0x0010
#define DNS_F_RCODE 0x000f
#define DNS_EDNS_DO 0x8000

static inline uint16_t dns_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t dns_get32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void dns_put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static inline void dns_put32(uint8_t *p, uint32_t v)
{
        p[0] = v >> 24; p[1] = (v >> 16) & 0xff; p[2] = (v >> 8) & 0xff; p[3] = v & 0xff;
}

/* A parsed query: one question and at most one OPT. */
struct dns_query {
        uint16_t id, flags;
        uint16_t qdcount, ancount, nscount, arcount;
        uint8_t qname[DNS_MAX_NAME];    /* wire form as typed, uncompressed */
        size_t qname_len;
        char name[DNS_MAX_NAME + 1];    /* lowercase text, no trailing dot, "" = root */
        bool name_ok;                   /* text form is exact (no '.', no odd bytes in labels) */
        uint16_t qtype, qclass;
        bool edns;
        uint16_t udp_size;              /* the client's EDNS size (512 without) */
        uint8_t edns_version;
        bool do_bit;
};

/* Unpack a (possibly compressed) name at *off into wire form out[255];
 * *off moves past it.  Pointers must go strictly backwards (no loops), labels
 * <= 63, total <= 255.  Returns the wire length or -EBADMSG. */
int dns_name_unpack(const uint8_t *pkt, size_t len, size_t *off, uint8_t *out);
/* Wire name -> lowercase text without the final dot; returns false if a label
 * holds a '.' or a byte outside [!-~] (the text would be ambiguous). */
bool dns_name_to_text(const uint8_t *wire, size_t wlen, char *out, size_t outlen);
/* Text name (dots, optional final dot) -> wire; returns length or -EINVAL. */
int dns_name_from_text(const char *s, uint8_t *out, size_t outlen);

/* Parse a query.  Returns 0 if usable, a DNS rcode (> 0) to answer with
 * (FORMERR, NOTIMP, BADVERS; q->id/flags are set, and the question if it
 * parsed), or -1 to drop silently (not a query, shorter than a header). */
int dns_query_parse(const uint8_t *pkt, size_t len, struct dns_query *q);

/* Walk a whole message, checking every name and record against the bounds.
 * *ret_min_ttl gets the lowest TTL of the answer/authority records (UINT32_MAX
 * if none).  0 or -EBADMSG. */
int dns_msg_check(const uint8_t *pkt, size_t len, uint32_t *ret_min_ttl);

/* Reply builder over a caller buffer.  limit = the size the client accepts;
 * records that do not fit are dropped and TC is set (only then). */
struct dns_reply {
        uint8_t *buf;
        size_t len, limit, reserve;     /* reserve: room kept for the OPT */
        uint16_t ancount, nscount;
        bool truncated;
        const struct dns_query *q;
};
/* Header + question (if q has one) with rcode; RA set, RD/CD copied. */
void dns_reply_begin(struct dns_reply *rp, uint8_t *buf, size_t limit, const struct dns_query *q,
                     int rcode);
/* An answer RR owned by the question name (compressed as a pointer to it). */
bool dns_reply_add(struct dns_reply *rp, uint16_t type, uint32_t ttl, const void *rdata,
                   uint16_t rdlen);
/* Counts, OPT echo (if the query had EDNS), TC.  Returns the length. */
size_t dns_reply_finish(struct dns_reply *rp);
/* A whole header-only reply (FORMERR on garbage): returns the length (12, or
 * more with question and OPT). */
size_t dns_reply_error(uint8_t *buf, size_t cap, const struct dns_query *q, int rcode);

/* The UDP size a reply to q may take. */
size_t dns_query_udp_limit(const struct dns_query *q);

/* Build the query we forward: the client's header flags (RD, CD, AD), its
 * question, and a plain OPT (our 4096 bytes, the client's DO bit) as the last
 * 11 bytes.  Returns the length. */
size_t dns_forward_query_build(const struct dns_query *q, uint8_t *out, size_t cap);

/* An upstream answer for the client: the ID set back to the client's, and if
 * it does not fit limit, cut to header + question with TC.  Returns the
 * length written to out (cap >= len of ans), or 0 if ans is unusable. */
size_t dns_forward_reply_adapt(const struct dns_query *q, const uint8_t *ans, size_t alen,
                               size_t limit, uint8_t *out, size_t cap);

/* "3.0.30.172.in-addr.arpa" / nibbles ".ip6.arpa" (lowercase text) -> address.
 * 0 and *family set, or -EINVAL if the name is no full reverse name. */
int dns_ptr_parse(const char *name, int *family, uint8_t addr[16]);

/* ---- record table (table.c) ---- */
struct dns_table;
struct dns_table *dns_table_new(void);
void dns_table_free(struct dns_table *t);
int dns_table_network_add(struct dns_table *t, const struct dns_network_config *cfg,
                          struct berth_err *err);
int dns_table_network_remove(struct dns_table *t, const char *network, struct berth_err *err);
int dns_table_network_rename(struct dns_table *t, const char *network, const char *new_name,
                             struct berth_err *err);
int dns_table_endpoint_add(struct dns_table *t, const char *network,
                           const struct dns_endpoint_config *cfg, struct berth_err *err);
int dns_table_endpoint_remove(struct dns_table *t, const char *network, const char *id,
                              struct berth_err *err);
bool dns_table_network_exists(struct dns_table *t, const char *network);
bool dns_table_network_internal(struct dns_table *t, const char *network);

/* A lookup's result: the addresses are copied (shuffled by the caller). */
#define DNS_MAX_ADDRS 1024
struct dns_lookup {
        bool found;
        size_t n4, n6;
        struct in_addr v4[DNS_MAX_ADDRS];
        struct in6_addr v6[DNS_MAX_ADDRS];
};
/* Docker's ResolveName: the whole name on every network of the scope, then
 * "a.b" on network "c", "a" on network "b.c", ...  name is lowercase text. */
void dns_table_resolve(struct dns_table *t, const char *const *nets, size_t n_nets,
                       const char *name, struct dns_lookup *ret);
/* PTR: "name.network" text for the address if an endpoint of a scope network
 * has it (returns 1); 0 if the address lies in a subnet of any berth network
 * (NXDOMAIN); -ENOENT if it is not ours (forward). */
int dns_table_reverse(struct dns_table *t, const char *const *nets, size_t n_nets, int family,
                      const uint8_t *addr, char *out, size_t outlen);

/* ---- answering (answer.c) ---- */
struct dns_scope {
        struct dns_table *table;
        const char *const *nets;
        size_t n_nets;
        bool ndots_set;
};
enum dns_verdict { DNS_ANSWERED, DNS_FORWARD, DNS_DROP };
/* Answer q locally if the name is ours.  out gets the reply (limit = what the
 * client accepts: dns_query_udp_limit or 65535 over TCP).  DNS_FORWARD: not
 * ours.  *ret_rcode for statistics. */
enum dns_verdict dns_answer(const struct dns_scope *sc, const struct dns_query *q, uint8_t *out,
                            size_t limit, size_t *ret_len, int *ret_rcode);
/* Parse + answer: what the listeners and the fuzzer call. */
enum dns_verdict dns_handle_packet(const struct dns_scope *sc, const uint8_t *pkt, size_t len,
                                   bool tcp, struct dns_query *q, uint8_t *out,
                                   size_t *ret_len, int *ret_rcode);

/* Random numbers for the shuffle (xoshiro-like, seeded by getrandom). */
uint32_t dns_rand(void);

/* ---- forwarding through c-ares (ares.c) ---- */
struct dns_fwd;
typedef void (*dns_fwd_cb)(void *data, int status, const uint8_t *abuf, size_t alen);
struct dns_fwd_config {
        uv_loop_t *loop;
        const struct dns_upstream *ups;
        size_t n_ups;
        int netns_fd;                   /* for !host_netns upstreams; -1: current */
        unsigned timeout_ms, tries;
};
int dns_fwd_new(const struct dns_fwd_config *cfg, struct dns_fwd **ret, struct berth_err *err);
/* Send a query; cb runs exactly once, later (status 0 with the answer, or
 * -errno: -ETIMEDOUT, -ECONNREFUSED, -EIO, -ECANCELED at free). */
void dns_fwd_send(struct dns_fwd *f, const uint8_t *qbuf, size_t qlen, dns_fwd_cb cb, void *data);
/* Cancel everything (callbacks get -ECANCELED synchronously), close the
 * handles; memory goes when they are closed. */
void dns_fwd_free(struct dns_fwd *f);

/* A socket in the netns netns_fd, made from the calling thread (setns there
 * and back).  -errno on failure. */
int dns_netns_socket(int netns_fd, int domain, int type, int protocol);

#endif
