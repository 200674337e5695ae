/* SPDX-License-Identifier: Apache-2.0
 * t/helper/dns-probe.c -- raw DNS client for the dns tests: odd packets,
 * bursts, idle TCP clients.  Every wait is bounded.
 *
 *   dns-probe udp ADDR PORT HEX [MS]     send bytes, print a summary of the reply
 *   dns-probe tcp ADDR PORT HEX [MS]     send bytes as is (include the length
 *                                        prefix), print replies, then closed/timeout
 *   dns-probe burst ADDR PORT N NAME     N A queries back to back; print answered count
 *   dns-probe idle ADDR PORT MS          connect over TCP, send nothing: print
 *                                        "closed" if the server hangs up within MS */
#include "config.h"

#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "dns/dns-internal.h"
#include "lib/lib.h"

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
        size_t n = 0;

        while (s[0] && s[1] && n < cap) {
                unsigned v;

                if (s[0] == ' ' || s[0] == ':') {
                        s++;
                        continue;
                }
                if (sscanf(s, "%2x", &v) != 1)
                        break;
                out[n++] = (uint8_t)v;
                s += 2;
        }
        return n;
}

static void summary(const uint8_t *p, size_t len)
{
        if (len < DNS_HDR_LEN) {
                printf("short len=%zu\n", len);
                return;
        }
        printf("id=%u rcode=%u qd=%u an=%u ar=%u tc=%d len=%zu\n", dns_get16(p), dns_get16(p + 2) & 0xf,
               dns_get16(p + 4), dns_get16(p + 6), dns_get16(p + 10), !!(dns_get16(p + 2) & DNS_F_TC), len);
}

static int sock_to(const char *addr, const char *port, int type)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
        int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

        if (fd < 0 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
            connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                perror("dns-probe: connect");
                exit(2);
        }
        return fd;
}

static int wait_in(int fd, int ms)
{
        struct pollfd p = { .fd = fd, .events = POLLIN };

        return poll(&p, 1, ms);
}

int main(int argc, char **argv)
{
        static uint8_t buf[70000], pkt[70000];
        int fd;

        if (argc < 5) {
                fprintf(stderr, "usage: see the header of dns-probe.c\n");
                return 2;
        }
        if (!strcmp(argv[1], "udp")) {
                size_t n = unhex(argv[4], pkt, sizeof(pkt));
                int ms = argc > 5 ? atoi(argv[5]) : 2000;
                ssize_t r;

                fd = sock_to(argv[2], argv[3], SOCK_DGRAM);
                if (send(fd, pkt, n, 0) < 0)
                        return 2;
                if (wait_in(fd, ms) <= 0) {
                        printf("timeout\n");
                        return 0;
                }
                r = recv(fd, buf, sizeof(buf), 0);
                if (r < 0) {
                        printf("error %s\n", strerror(errno));
                        return 0;
                }
                summary(buf, (size_t)r);
                return 0;
        }
        if (!strcmp(argv[1], "tcp")) {
                size_t n = unhex(argv[4], pkt, sizeof(pkt)), have = 0;
                int ms = argc > 5 ? atoi(argv[5]) : 2000;
                int64_t end = now_ms() + ms;

                fd = sock_to(argv[2], argv[3], SOCK_STREAM);
                if (n && send(fd, pkt, n, MSG_NOSIGNAL) < 0)
                        return 2;
                for (;;) {
                        int64_t left = end - now_ms();
                        ssize_t r;

                        if (left <= 0 || wait_in(fd, (int)left) <= 0) {
                                printf("timeout\n");
                                return 0;
                        }
                        r = recv(fd, buf + have, sizeof(buf) - have, 0);
                        if (r <= 0) {
                                printf("closed\n");
                                return 0;
                        }
                        have += (size_t)r;
                        while (have >= 2 && have >= 2 + (size_t)dns_get16(buf)) {
                                size_t l = dns_get16(buf);

                                summary(buf + 2, l);
                                memmove(buf, buf + 2 + l, have - 2 - l);
                                have -= 2 + l;
                        }
                        fflush(stdout);
                }
        }
        if (!strcmp(argv[1], "burst") && argc > 5) {
                int n = atoi(argv[4]), got = 0;
                static bool seen[65536];
                int64_t end;
                int rb = 8 << 20;

                fd = sock_to(argv[2], argv[3], SOCK_DGRAM);
                (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof(rb));
                for (int i = 0; i < n; i++) {
                        size_t len = DNS_HDR_LEN;
                        int l;

                        memset(pkt, 0, DNS_HDR_LEN);
                        dns_put16(pkt, (uint16_t)i);
                        dns_put16(pkt + 2, DNS_F_RD);
                        dns_put16(pkt + 4, 1);
                        l = dns_name_from_text(argv[5], pkt + len, 300);
                        if (l < 0)
                                return 2;
                        len += (size_t)l;
                        dns_put16(pkt + len, DNS_T_A);
                        dns_put16(pkt + len + 2, DNS_C_IN);
                        len += 4;
                        if (send(fd, pkt, len, 0) < 0)
                                perror("dns-probe: send");
                }
                end = now_ms() + 5000;
                while (got < n) {
                        int64_t left = end - now_ms();
                        ssize_t r;

                        if (left <= 0 || wait_in(fd, (int)left) <= 0)
                                break;
                        r = recv(fd, buf, sizeof(buf), 0);
                        if (r >= DNS_HDR_LEN && !seen[dns_get16(buf)]) {
                                seen[dns_get16(buf)] = true;
                                got++;
                        }
                }
                printf("%d\n", got);
                return 0;
        }
        if (!strcmp(argv[1], "idle")) {
                int ms = atoi(argv[4]);
                ssize_t r;

                fd = sock_to(argv[2], argv[3], SOCK_STREAM);
                if (wait_in(fd, ms) <= 0) {
                        printf("open\n");
                        return 0;
                }
                r = recv(fd, buf, sizeof(buf), 0);
                printf(r <= 0 ? "closed\n" : "data\n");
                return 0;
        }
        fprintf(stderr, "dns-probe: unknown mode %s\n", argv[1]);
        return 2;
}
