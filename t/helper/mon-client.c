/* SPDX-License-Identifier: Apache-2.0
 * t/helper/mon-client.c -- talk to a berth-monitor attach socket in tests:
 *   mon-client [-t SECONDS] SOCKET COMMAND...
 * Commands run in order:
 *   attach FLAGS      FLAGS: comma list of out,err,in,events,rawout,rawin
 *   start | stdin-eof | close-stdin
 *   kill SIGNUM | resize ROWS COLS
 *   stdin TEXT        one STDIN frame ("\n" in TEXT is a newline)
 *   raw TEXT          TEXT sent as is (after "attach ...,rawin")
 *   bytes HEX         bytes sent as is, e.g. ff00000000000000
 *   pause MS          sleep
 *   stdin-copy        our stdin as STDIN frames until its end
 *   shut              shutdown(SHUT_WR)
 *   wait-event NAME   read until an event "NAME" arrives
 *   wait-output TEXT  read until the stdout received so far contains TEXT
 *   read              read until the monitor closes the connection
 * While reading: stdout frames go to fd 1, stderr frames to fd 2, events
 * (one per line) to fd 3 when it is open; raw output goes to fd 1.
 * Exits 1 on a protocol error or EOF during a wait, killed after -t (20 s).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime/monitor.h"

static int sock = -1;
static int raw_out;
static int have_fd3;
static char *seen;               /* stdout received so far */
static size_t seen_len;
static char last_event[4096];

static void die(const char *what)
{
        fprintf(stderr, "mon-client: %s: %s\n", what, errno ? strerror(errno) : "failed");
        exit(1);
}

static void write_all(int fd, const void *p, size_t n)
{
        const char *c = p;

        while (n > 0) {
                ssize_t w = write(fd, c, n);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        die("write");
                c += w;
                n -= (size_t)w;
        }
}

static void send_frame(unsigned type, const void *data, size_t n)
{
        unsigned char h[MON_FRAME_HDR] = { (unsigned char)type, 0, 0, 0, (unsigned char)(n >> 24),
                                           (unsigned char)(n >> 16), (unsigned char)(n >> 8),
                                           (unsigned char)n };

        write_all(sock, h, sizeof(h));
        if (n)
                write_all(sock, data, n);
}

static int read_full(void *p, size_t n)
{
        size_t got = 0;

        while (got < n) {
                ssize_t r = read(sock, (char *)p + got, n - got);

                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        die("read");
                if (r == 0)
                        return got == 0 ? 0 : -1;
                got += (size_t)r;
        }
        return 1;
}

static void remember(const char *p, size_t n)
{
        seen = realloc(seen, seen_len + n + 1);
        if (!seen)
                die("realloc");
        memcpy(seen + seen_len, p, n);
        seen_len += n;
        seen[seen_len] = '\0';
}

/* One message; 0 at EOF.  Sets last_event for events. */
static int read_one(void)
{
        unsigned char h[MON_FRAME_HDR];
        static char data[1 << 16];
        uint32_t len;
        int r;

        last_event[0] = '\0';
        if (raw_out) {
                ssize_t n = read(sock, data, sizeof(data));

                if (n < 0 && errno == EINTR)
                        return 1;
                if (n < 0)
                        die("read");
                if (n == 0)
                        return 0;
                write_all(1, data, (size_t)n);
                remember(data, (size_t)n);
                return 1;
        }
        r = read_full(h, sizeof(h));
        if (r == 0)
                return 0;
        if (r < 0)
                die("short header");
        len = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
        if (len > sizeof(data) - 1)
                die("frame too long");
        if (len && read_full(data, len) != 1)
                die("short frame");
        data[len] = '\0';
        switch (h[0]) {
        case MON_FRAME_STDOUT:
                write_all(1, data, len);
                remember(data, len);
                break;
        case MON_FRAME_STDERR:
                write_all(2, data, len);
                break;
        case MON_FRAME_EVENT:
                if (have_fd3) {
                        write_all(3, data, len);
                        write_all(3, "\n", 1);
                }
                memcpy(last_event, data, len < sizeof(last_event) ? len + 1 : sizeof(last_event));
                last_event[sizeof(last_event) - 1] = '\0';
                break;
        default:
                errno = 0;
                die("unknown frame type");
        }
        return 1;
}

static unsigned parse_flags(const char *s)
{
        static const struct { const char *name; unsigned flag; } names[] = {
                { "out", MON_ATTACH_STDOUT }, { "err", MON_ATTACH_STDERR },
                { "in", MON_ATTACH_STDIN }, { "events", MON_ATTACH_EVENTS },
                { "rawout", MON_ATTACH_RAW_OUT }, { "rawin", MON_ATTACH_RAW_IN },
        };
        unsigned f = 0;
        char *copy = strdup(s), *save = NULL;

        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                size_t i;

                for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                        if (!strcmp(t, names[i].name))
                                break;
                if (i == sizeof(names) / sizeof(names[0])) {
                        fprintf(stderr, "mon-client: unknown flag '%s'\n", t);
                        exit(2);
                }
                f |= names[i].flag;
        }
        free(copy);
        return f;
}

static void unescape(char *s)
{
        char *o = s;

        for (; *s; s++) {
                if (s[0] == '\\' && s[1] == 'n') {
                        *o++ = '\n';
                        s++;
                } else {
                        *o++ = *s;
                }
        }
        *o = '\0';
}

static void be32(unsigned char *p, uint32_t v)
{
        p[0] = (unsigned char)(v >> 24);
        p[1] = (unsigned char)(v >> 16);
        p[2] = (unsigned char)(v >> 8);
        p[3] = (unsigned char)v;
}

int main(int argc, char **argv)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int i = 1, timeout = 20;

        if (argc > 2 && !strcmp(argv[1], "-t")) {
                timeout = atoi(argv[2]);
                i = 3;
        }
        if (i >= argc || strlen(argv[i]) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "usage: mon-client [-t SECONDS] SOCKET COMMAND...\n");
                return 2;
        }
        alarm((unsigned)timeout);
        have_fd3 = fcntl(3, F_GETFD) >= 0;
        strcpy(sa.sun_path, argv[i++]);
        sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                die("connect");
        for (; i < argc; i++) {
                const char *cmd = argv[i];
                unsigned char b[4];

#define NEED(k) do { if (i + (k) >= argc) { fprintf(stderr, "mon-client: %s: missing argument\n", cmd); return 2; } } while (0)
                if (!strcmp(cmd, "attach")) {
                        unsigned char f;

                        NEED(1);
                        f = (unsigned char)parse_flags(argv[++i]);
                        raw_out = !!(f & MON_ATTACH_RAW_OUT);
                        send_frame(MON_FRAME_ATTACH, &f, 1);
                } else if (!strcmp(cmd, "start")) {
                        send_frame(MON_FRAME_START, NULL, 0);
                } else if (!strcmp(cmd, "stdin-eof")) {
                        send_frame(MON_FRAME_STDIN_EOF, NULL, 0);
                } else if (!strcmp(cmd, "close-stdin")) {
                        send_frame(MON_FRAME_CLOSE_STDIN, NULL, 0);
                } else if (!strcmp(cmd, "kill")) {
                        NEED(1);
                        be32(b, (uint32_t)atoi(argv[++i]));
                        send_frame(MON_FRAME_KILL, b, 4);
                } else if (!strcmp(cmd, "resize")) {
                        unsigned r, c;

                        NEED(2);
                        r = (unsigned)atoi(argv[++i]);
                        c = (unsigned)atoi(argv[++i]);
                        b[0] = (unsigned char)(r >> 8);
                        b[1] = (unsigned char)r;
                        b[2] = (unsigned char)(c >> 8);
                        b[3] = (unsigned char)c;
                        send_frame(MON_FRAME_RESIZE, b, 4);
                } else if (!strcmp(cmd, "stdin") || !strcmp(cmd, "raw")) {
                        char *t;

                        NEED(1);
                        t = strdup(argv[++i]);
                        unescape(t);
                        if (cmd[0] == 's')
                                send_frame(MON_FRAME_STDIN, t, strlen(t));
                        else
                                write_all(sock, t, strlen(t));
                        free(t);
                } else if (!strcmp(cmd, "bytes")) {
                        const char *h;
                        unsigned char out[512];
                        size_t n = 0;

                        NEED(1);
                        for (h = argv[++i]; h[0] && h[1] && n < sizeof(out); h += 2) {
                                unsigned v;

                                if (sscanf(h, "%2x", &v) != 1)
                                        return 2;
                                out[n++] = (unsigned char)v;
                        }
                        write_all(sock, out, n);
                } else if (!strcmp(cmd, "pause")) {
                        NEED(1);
                        usleep((useconds_t)atoi(argv[++i]) * 1000);
                } else if (!strcmp(cmd, "stdin-copy")) {
                        char buf[4096];
                        ssize_t n;

                        while ((n = read(0, buf, sizeof(buf))) > 0)
                                send_frame(MON_FRAME_STDIN, buf, (size_t)n);
                } else if (!strcmp(cmd, "shut")) {
                        if (shutdown(sock, SHUT_WR) < 0)
                                die("shutdown");
                } else if (!strcmp(cmd, "wait-event")) {
                        char want[128];

                        NEED(1);
                        snprintf(want, sizeof(want), "\"event\":\"%s\"", argv[++i]);
                        for (;;) {
                                if (!read_one()) {
                                        fprintf(stderr, "mon-client: EOF before event %s\n", argv[i]);
                                        return 1;
                                }
                                if (strstr(last_event, want))
                                        break;
                        }
                } else if (!strcmp(cmd, "wait-output")) {
                        NEED(1);
                        char *t = strdup(argv[++i]);

                        unescape(t);
                        while (!seen || !strstr(seen, t)) {
                                if (!read_one()) {
                                        fprintf(stderr, "mon-client: EOF before output '%s'\n", t);
                                        return 1;
                                }
                        }
                        free(t);
                } else if (!strcmp(cmd, "read")) {
                        while (read_one())
                                ;
                } else {
                        fprintf(stderr, "mon-client: unknown command '%s'\n", cmd);
                        return 2;
                }
        }
        free(seen);
        close(sock);
        return 0;
}
