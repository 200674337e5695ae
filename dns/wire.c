/* SPDX-License-Identifier: Apache-2.0
 * dns/wire.c -- DNS messages on the wire: strict parsing of queries and
 * answers (bounds, compression loops, label and name limits) and the builder
 * of our replies (compressed owner names, EDNS echo, TC only when records
 * were dropped). */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dns/dns-internal.h"
#include "lib/lib.h"

int dns_name_unpack(const uint8_t *pkt, size_t len, size_t *off, uint8_t *out)
{
        size_t pos = *off, wlen = 0, end = 0;
        size_t limit = pos;     /* a pointer must go below every earlier pointer source */
        bool jumped = false;
        unsigned hops = 0;

        for (;;) {
                uint8_t c;

                if (pos >= len)
                        return -EBADMSG;
                c = pkt[pos];
                if ((c & 0xc0) == 0xc0) {
                        size_t target;

                        if (pos + 1 >= len)
                                return -EBADMSG;
                        target = (size_t)(c & 0x3f) << 8 | pkt[pos + 1];
                        if (!jumped)
                                end = pos + 2;
                        if (target >= limit || ++hops > 127)
                                return -EBADMSG;
                        limit = target;
                        pos = target;
                        jumped = true;
                        continue;
                }
                if (c & 0xc0)
                        return -EBADMSG;        /* 0x40/0x80: extended label types */
                if (c == 0) {
                        if (wlen + 1 > DNS_MAX_NAME)
                                return -EBADMSG;
                        out[wlen++] = 0;
                        if (!jumped)
                                end = pos + 1;
                        break;
                }
                if (pos + 1 + c > len || wlen + 1 + c + 1 > DNS_MAX_NAME)
                        return -EBADMSG;
                memcpy(out + wlen, pkt + pos, 1 + (size_t)c);
                wlen += 1 + (size_t)c;
                pos += 1 + (size_t)c;
        }
        *off = end;
        return (int)wlen;
}

bool dns_name_to_text(const uint8_t *wire, size_t wlen, char *out, size_t outlen)
{
        size_t i = 0, o = 0;
        bool exact = true;

        while (i < wlen && wire[i]) {
                size_t l = wire[i++];

                if (o && o < outlen - 1)
                        out[o++] = '.';
                for (size_t k = 0; k < l && i < wlen; k++, i++) {
                        unsigned char c = wire[i];

                        if (c == '.' || c <= ' ' || c > '~')
                                exact = false;
                        if (o < outlen - 1)
                                out[o++] = (char)tolower(c);
                }
        }
        out[o] = '\0';
        return exact;
}

int dns_name_from_text(const char *s, uint8_t *out, size_t outlen)
{
        size_t o = 0, n = strlen(s);

        if (n && s[n - 1] == '.')
                n--;
        while (n) {
                const char *dot = memchr(s, '.', n);
                size_t l = dot ? (size_t)(dot - s) : n;

                if (l == 0 || l > DNS_MAX_LABEL || o + 1 + l + 1 > outlen || o + 1 + l + 1 > DNS_MAX_NAME)
                        return -EINVAL;
                out[o++] = (uint8_t)l;
                memcpy(out + o, s, l);
                o += l;
                s += l;
                n -= l;
                if (dot) {
                        s++;
                        n--;
                        if (n == 0)
                                return -EINVAL;
                }
        }
        if (o + 1 > outlen)
                return -EINVAL;
        out[o++] = 0;
        return (int)o;
}

/* Skip one resource record at *off; fills type/ttl/rdata bounds. */
static int rr_skip(const uint8_t *pkt, size_t len, size_t *off, uint16_t *type, uint16_t *class,
                   uint32_t *ttl, size_t *rdoff, uint16_t *rdlen)
{
        uint8_t name[DNS_MAX_NAME];
        int r;

        r = dns_name_unpack(pkt, len, off, name);
        if (r < 0)
                return r;
        if (*off + 10 > len)
                return -EBADMSG;
        *type = dns_get16(pkt + *off);
        *class = dns_get16(pkt + *off + 2);
        *ttl = dns_get32(pkt + *off + 4);
        *rdlen = dns_get16(pkt + *off + 8);
        *off += 10;
        if (*off + *rdlen > len)
                return -EBADMSG;
        *rdoff = *off;
        *off += *rdlen;
        /* names inside well-known rdata must be sound too */
        if (*type == DNS_T_CNAME || *type == DNS_T_NS || *type == DNS_T_PTR) {
                size_t p = *rdoff;

                r = dns_name_unpack(pkt, *rdoff + *rdlen, &p, name);
                if (r < 0 || p != *rdoff + *rdlen)
                        return -EBADMSG;
        }
        return 0;
}

int dns_query_parse(const uint8_t *pkt, size_t len, struct dns_query *q)
{
        size_t off = DNS_HDR_LEN;
        int r;

        memset(q, 0, sizeof(*q));
        q->udp_size = 512;
        if (len < DNS_HDR_LEN)
                return -1;
        q->id = dns_get16(pkt);
        q->flags = dns_get16(pkt + 2);
        q->qdcount = dns_get16(pkt + 4);
        q->ancount = dns_get16(pkt + 6);
        q->nscount = dns_get16(pkt + 8);
        q->arcount = dns_get16(pkt + 10);
        if (q->flags & DNS_F_QR)
                return -1;              /* a response: never answer it (reflection loops) */
        if ((q->flags & DNS_F_OPCODE) != 0)
                return DNS_R_NOTIMP;
        if (q->qdcount != 1)
                return DNS_R_FORMERR;
        r = dns_name_unpack(pkt, len, &off, q->qname);
        if (r < 0 || off + 4 > len)
                return DNS_R_FORMERR;
        q->qname_len = (size_t)r;
        q->qtype = dns_get16(pkt + off);
        q->qclass = dns_get16(pkt + off + 2);
        off += 4;
        q->name_ok = dns_name_to_text(q->qname, q->qname_len, q->name, sizeof(q->name));
        /* answers or authority in a query: tolerated but skipped (RFC 1035 allows none) */
        for (unsigned i = 0; i < (unsigned)q->ancount + q->nscount + q->arcount; i++) {
                uint16_t type, class, rdlen;
                uint32_t ttl;
                size_t rdoff, start = off;
                uint8_t owner[DNS_MAX_NAME];

                r = rr_skip(pkt, len, &off, &type, &class, &ttl, &rdoff, &rdlen);
                if (r < 0)
                        goto formerr;
                if (type != DNS_T_OPT)
                        continue;
                /* OPT: additional section only, root owner, once */
                if (i < (unsigned)q->ancount + q->nscount || q->edns)
                        goto formerr;
                if (dns_name_unpack(pkt, len, &start, owner) != 1)
                        goto formerr;
                q->edns = true;
                q->udp_size = class < 512 ? 512 : class;
                q->edns_version = (ttl >> 16) & 0xff;
                q->do_bit = ttl & DNS_EDNS_DO;
        }
        if (off != len)
                goto formerr;   /* trailing garbage */
        if (q->edns && q->edns_version != 0)
                return DNS_R_BADVERS;
        return 0;
formerr:
        /* keep what parsed of the question for the reply, but not EDNS */
        q->edns = false;
        q->udp_size = 512;
        return DNS_R_FORMERR;
}

int dns_msg_check(const uint8_t *pkt, size_t len, uint32_t *ret_min_ttl)
{
        size_t off = DNS_HDR_LEN;
        uint32_t min_ttl = UINT32_MAX;
        unsigned qd, an, ns, ar;
        uint8_t name[DNS_MAX_NAME];

        if (len < DNS_HDR_LEN)
                return -EBADMSG;
        qd = dns_get16(pkt + 4);
        an = dns_get16(pkt + 6);
        ns = dns_get16(pkt + 8);
        ar = dns_get16(pkt + 10);
        for (unsigned i = 0; i < qd; i++) {
                if (dns_name_unpack(pkt, len, &off, name) < 0 || off + 4 > len)
                        return -EBADMSG;
                off += 4;
        }
        for (unsigned i = 0; i < an + ns + ar; i++) {
                uint16_t type, class, rdlen;
                uint32_t ttl;
                size_t rdoff;

                if (rr_skip(pkt, len, &off, &type, &class, &ttl, &rdoff, &rdlen) < 0)
                        return -EBADMSG;
                if (i < an + ns && type != DNS_T_OPT && ttl < min_ttl)
                        min_ttl = ttl;
        }
        if (off != len)
                return -EBADMSG;
        if (ret_min_ttl)
                *ret_min_ttl = min_ttl;
        return 0;
}

size_t dns_query_udp_limit(const struct dns_query *q)
{
        if (!q->edns)
                return 512;
        return q->udp_size > DNS_MAX_UDP ? DNS_MAX_UDP : q->udp_size;
}

#define OPT_LEN 11

static size_t put_opt(uint8_t *p, bool do_bit)
{
        p[0] = 0;                               /* root owner */
        dns_put16(p + 1, DNS_T_OPT);
        dns_put16(p + 3, DNS_MAX_UDP);          /* our UDP payload size */
        dns_put32(p + 5, do_bit ? DNS_EDNS_DO : 0);
        dns_put16(p + 9, 0);
        return OPT_LEN;
}

void dns_reply_begin(struct dns_reply *rp, uint8_t *buf, size_t limit, const struct dns_query *q,
                     int rcode)
{
        uint16_t flags = DNS_F_QR | DNS_F_RA | (q->flags & (DNS_F_OPCODE | DNS_F_RD | DNS_F_CD));

        memset(rp, 0, sizeof(*rp));
        rp->buf = buf;
        rp->limit = limit;
        rp->q = q;
        rp->reserve = q->edns ? OPT_LEN : 0;
        dns_put16(buf, q->id);
        dns_put16(buf + 2, flags | (rcode & DNS_F_RCODE));
        memset(buf + 4, 0, 8);
        rp->len = DNS_HDR_LEN;
        if (q->qname_len && DNS_HDR_LEN + q->qname_len + 4 + rp->reserve <= limit) {
                dns_put16(buf + 4, 1);
                memcpy(buf + rp->len, q->qname, q->qname_len);
                rp->len += q->qname_len;
                dns_put16(buf + rp->len, q->qtype);
                dns_put16(buf + rp->len + 2, q->qclass);
                rp->len += 4;
        }
}

bool dns_reply_add(struct dns_reply *rp, uint16_t type, uint32_t ttl, const void *rdata,
                   uint16_t rdlen)
{
        size_t need = 2 + 10 + (size_t)rdlen;

        if (rp->truncated || rp->len + need + rp->reserve > rp->limit) {
                rp->truncated = true;
                return false;
        }
        dns_put16(rp->buf + rp->len, 0xc000 | DNS_HDR_LEN);    /* the question name */
        dns_put16(rp->buf + rp->len + 2, type);
        dns_put16(rp->buf + rp->len + 4, DNS_C_IN);
        dns_put32(rp->buf + rp->len + 6, ttl);
        dns_put16(rp->buf + rp->len + 10, rdlen);
        memcpy(rp->buf + rp->len + 12, rdata, rdlen);
        rp->len += need;
        rp->ancount++;
        return true;
}

size_t dns_reply_finish(struct dns_reply *rp)
{
        uint16_t flags = dns_get16(rp->buf + 2);

        dns_put16(rp->buf + 6, rp->ancount);
        dns_put16(rp->buf + 8, 0);
        dns_put16(rp->buf + 10, 0);
        if (rp->truncated)
                flags |= DNS_F_TC;
        if (rp->q->edns) {
                int rcode = rp->q->edns_version ? DNS_R_BADVERS : 0;

                rp->len += put_opt(rp->buf + rp->len, rp->q->do_bit);
                if (rcode) {
                        /* extended rcode: upper 8 bits in the OPT TTL, low 4 in the header */
                        rp->buf[rp->len - OPT_LEN + 5] = (uint8_t)(rcode >> 4);
                        flags = (flags & ~DNS_F_RCODE) | (rcode & 0xf);
                }
                dns_put16(rp->buf + 10, 1);
        }
        dns_put16(rp->buf + 2, flags);
        return rp->len;
}

size_t dns_reply_error(uint8_t *buf, size_t cap, const struct dns_query *q, int rcode)
{
        struct dns_reply rp;

        if (cap < DNS_HDR_LEN + OPT_LEN)
                return 0;
        dns_reply_begin(&rp, buf, cap > 512 ? 512 : cap, q, rcode);
        return dns_reply_finish(&rp);
}

size_t dns_forward_query_build(const struct dns_query *q, uint8_t *out, size_t cap)
{
        size_t len = DNS_HDR_LEN;

        if (cap < DNS_HDR_LEN + q->qname_len + 4 + OPT_LEN)
                return 0;
        dns_put16(out, q->id);
        dns_put16(out + 2, q->flags & (DNS_F_RD | DNS_F_CD | DNS_F_AD));
        dns_put16(out + 4, 1);
        dns_put16(out + 6, 0);
        dns_put16(out + 8, 0);
        dns_put16(out + 10, 1);
        memcpy(out + len, q->qname, q->qname_len);
        len += q->qname_len;
        dns_put16(out + len, q->qtype);
        dns_put16(out + len + 2, q->qclass);
        len += 4;
        len += put_opt(out + len, q->do_bit);
        return len;
}

size_t dns_forward_reply_adapt(const struct dns_query *q, const uint8_t *ans, size_t alen,
                               size_t limit, uint8_t *out, size_t cap)
{
        bool strip = false;

        if (alen < DNS_HDR_LEN || alen > cap)
                return 0;
        /* the client did not ask for EDNS: drop the OPT the upstream added
         * for us, if it is the last record (it answers our 11-byte OPT) */
        if (!q->edns && dns_get16(ans + 10) > 0 && alen >= DNS_HDR_LEN + OPT_LEN &&
            ans[alen - OPT_LEN] == 0 && dns_get16(ans + alen - OPT_LEN + 1) == DNS_T_OPT &&
            dns_get16(ans + alen - 2) == 0)
                strip = true;
        if (alen - (strip ? OPT_LEN : 0) <= limit) {
                if (strip)
                        alen -= OPT_LEN;
                memcpy(out, ans, alen);
                dns_put16(out, q->id);
                if (strip)
                        dns_put16(out + 10, dns_get16(out + 10) - 1);
                return alen;
        } else {
                /* too big for this client over UDP: header + question + TC,
                 * the client retries over TCP (RFC 2181 9) */
                struct dns_reply rp;
                uint16_t flags = dns_get16(ans + 2);

                dns_reply_begin(&rp, out, limit, q, flags & DNS_F_RCODE);
                rp.truncated = true;
                dns_put16(out + 2, flags | DNS_F_QR);
                return dns_reply_finish(&rp);
        }
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

int dns_ptr_parse(const char *name, int *family, uint8_t addr[16])
{
        size_t n = strlen(name);
        static const char v4s[] = ".in-addr.arpa", v6s[] = ".ip6.arpa";

        memset(addr, 0, 16);
        if (n > STRLEN(v4s) && !strcmp(name + n - STRLEN(v4s), v4s)) {
                const char *p = name, *stop = name + n - STRLEN(v4s);
                int k = 0;

                for (;;) {
                        unsigned v = 0, digits = 0;

                        while (p < stop && *p >= '0' && *p <= '9') {
                                v = v * 10 + (unsigned)(*p - '0');
                                p++;
                                if (++digits > 3)
                                        return -EINVAL;
                        }
                        if (!digits || v > 255 || k >= 4)
                                return -EINVAL;
                        addr[3 - k++] = (uint8_t)v;
                        if (p == stop)
                                break;
                        if (*p++ != '.')
                                return -EINVAL;
                }
                if (k != 4)
                        return -EINVAL;
                *family = AF_INET;
                return 0;
        }
        if (n == 64 + STRLEN(v6s) - 1 && !strcmp(name + n - STRLEN(v6s), v6s)) {
                /* 32 nibbles "x." = 64 chars, then "ip6.arpa" */
                for (int i = 0; i < 32; i++) {
                        int v = hexval(name[2 * i]);

                        if (v < 0 || name[2 * i + 1] != '.')
                                return -EINVAL;
                        if (i % 2 == 0)
                                addr[15 - i / 2] |= (uint8_t)v;
                        else
                                addr[15 - i / 2] |= (uint8_t)(v << 4);
                }
                *family = AF_INET6;
                return 0;
        }
        return -EINVAL;
}
