/* SPDX-License-Identifier: Apache-2.0
 * t/fuzz/fuzz-http.c -- libFuzzer target: raw bytes into an API connection
 * (llhttp -> limits -> router -> handlers), through a socketpair adopted by
 * the real server on a real loop.  Input is split at a chosen point so
 * pieces arrive in two reads. */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>

#include "api/api-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct berth_daemon D;
static struct api_server *S;

static void setup(void)
{
        struct berth_err err = BERTH_ERR_INIT;

        signal(SIGPIPE, SIG_IGN);
        berth_json_init();
        berth_log_set_level(BERTH_LOG_ALERT);
        berth_config_init(&D.cfg);
        D.cfg.api_max_header_size = 4096;
        D.cfg.api_max_body_size = 4096;
        D.loop = uv_default_loop();
        D.events = berth_events_new(8);
        D.metrics = berth_metrics_new();
        berth_sysinfo_gather(&D.sys, "/");
        snprintf(D.id, sizeof(D.id), "fuzz");
        if (api_server_new(&D, &S, &err) < 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct berth_err err = BERTH_ERR_INIT;
        char sink[65536];
        int sv[2];

        if (!S)
                setup();
        if (size > 60000)
                return 0;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return 0;
        (void)fcntl(sv[0], F_SETFL, O_NONBLOCK);
        if (api_server_adopt(S, sv[1], &err) < 0) {
                close(sv[0]);
                return 0;
        }
        size_t cut = size ? data[0] % (size + 1) : 0, off = 0;
        for (int i = 0; i < 200; i++) {
                if (off < size) {
                        size_t end = off < cut ? cut : size;
                        ssize_t w = write(sv[0], data + off, end - off);
                        if (w > 0)
                                off += (size_t)w;
                        if (off == size)
                                shutdown(sv[0], SHUT_WR);
                } else if (size == 0 && i == 0) {
                        shutdown(sv[0], SHUT_WR);
                }
                uv_run(D.loop, UV_RUN_NOWAIT);
                ssize_t n = read(sv[0], sink, sizeof(sink));
                if (n == 0)
                        break;
                if (n < 0) {
                        struct pollfd p = { sv[0], POLLIN, 0 };
                        (void)poll(&p, 1, 0);
                }
        }
        close(sv[0]);
        for (int i = 0; i < 4 && api_server_connections(S); i++)
                uv_run(D.loop, UV_RUN_NOWAIT);
        return 0;
}
