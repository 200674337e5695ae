/* SPDX-License-Identifier: Apache-2.0
 * t/unit/u-config.c -- daemon/: flags and daemon.json (precedence, unknown
 * keys, types, validation, reload), the events bus, metrics rendering. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "daemon/daemon.h"
#include "t/unit/tap.h"

static char dir[] = "/tmp/u-config.XXXXXX";

static char *write_cfg(const char *name, const char *text)
{
        char *p = xasprintf("%s/%s", dir, name);
        FILE *f = fopen(p, "w");

        fputs(text, f);
        fclose(f);
        return p;
}

static int parse(struct berth_config *c, struct berth_err *err, int argc, const char **argv)
{
        int r;

        berth_config_init(c);
        r = berth_config_parse_args(c, argc, (char **)argv, err);
        if (r == 0)
                r = berth_config_load_file(c, err);
        if (r == 0)
                r = berth_config_validate(c, err);
        return r;
}

static void test_config(void)
{
        struct berth_config c;
        struct berth_err err = BERTH_ERR_INIT;
        char *f;

        f = write_cfg("a.json", "{\"data-root\":\"/srv/berth\",\"debug\":true,\"labels\":[\"a=b\"],"
                                "\"runtimes\":{\"crun\":{\"path\":\"/usr/bin/crun\",\"runtimeArgs\":[\"--x\"]}},"
                                "\"hosts\":[\"unix:///tmp/file.sock\"],\"live-restore\":false}");
        const char *a1[] = { "berthd", "--config-file", f, "--data-root", "/flag/root", NULL };
        ok(parse(&c, &err, 5, a1) == 0, "file + flags parse: %s", err.msg);
        is_str(c.data_root, "/flag/root", "the flag overrides the file");
        ok(c.debug && !c.live_restore, "booleans from the file");
        ok(c.n_labels == 1 && !strcmp(c.labels[0], "a=b"), "labels");
        ok(c.n_runtimes == 1 && !strcmp(c.runtimes[0].name, "crun") && !strcmp(c.runtimes[0].args[0], "--x"),
           "runtimes with args");
        ok(c.n_hosts == 1 && !strcmp(c.hosts[0], "unix:///tmp/file.sock"), "hosts from the file");
        berth_config_release(&c);
        free(f);

        const char *a2[] = { "berthd", "-H", "unix:///a.sock", "-H", "tcp://127.0.0.1:2375", "--config-file", NULL, NULL };
        f = write_cfg("b.json", "{\"hosts\":[\"unix:///file.sock\"]}");
        a2[6] = f;
        ok(parse(&c, &err, 7, a2) == 0, "repeated -H");
        ok(c.n_hosts == 2 && !strcmp(c.hosts[1], "tcp://127.0.0.1:2375"), "both -H kept, file hosts ignored");
        berth_config_release(&c);
        free(f);

        f = write_cfg("c.json", "{\"data-root\":\"/x\",\"no-such-key\":1}");
        const char *a3[] = { "berthd", "--config-file", f, NULL };
        ok(parse(&c, &err, 3, a3) == -EINVAL, "unknown key refused");
        ok(strstr(err.msg, "unknown key 'no-such-key'") && strstr(err.msg, f), "message names key and file: %s", err.msg);
        berth_config_release(&c);
        free(f);

        f = write_cfg("d.json", "{\"debug\":\"yes\"}");
        a3[2] = f;
        ok(parse(&c, &err, 3, a3) == -EINVAL && strstr(err.msg, "'debug' must be true or false"), "wrong type refused");
        berth_config_release(&c);
        free(f);

        f = write_cfg("e.json", "{\"debug\": tru");
        a3[2] = f;
        ok(parse(&c, &err, 3, a3) == -EINVAL && strstr(err.msg, "invalid JSON"), "malformed JSON refused: %s", err.msg);
        berth_config_release(&c);
        free(f);

        f = write_cfg("f.json", "");
        a3[2] = f;
        ok(parse(&c, &err, 3, a3) == 0, "an empty file is an empty configuration");
        berth_config_release(&c);
        free(f);

        const char *a4[] = { "berthd", "--config-file", "/nonexistent/daemon.json", NULL };
        ok(parse(&c, &err, 3, a4) == -ENOENT, "an explicit missing file is an error");
        berth_config_release(&c);

        const char *a5[] = { "berthd", "--config-file", "/dev/null", "-H", "tcp://0.0.0.0:2375", NULL };
        ok(parse(&c, &err, 5, a5) == -EINVAL && strstr(err.msg, "without TLS"), "plain TCP off loopback refused");
        berth_config_release(&c);
        const char *a6[] = { "berthd", "--config-file", "/dev/null", "-H", "tcp://0.0.0.0:2375", "--tls=false", NULL };
        ok(parse(&c, &err, 6, a6) == 0, "--tls=false forces it");
        berth_config_release(&c);
        const char *a7[] = { "berthd", "--config-file", "/dev/null", "--tlsverify", "-H", "tcp://0.0.0.0:2376", NULL };
        ok(parse(&c, &err, 6, a7) == -EINVAL && strstr(err.msg, "--tlscert"), "TLS without cert refused");
        berth_config_release(&c);
        const char *a8[] = { "berthd", "--config-file", "/dev/null", "-H", "ftp://x", NULL };
        ok(parse(&c, &err, 5, a8) == -EINVAL && strstr(err.msg, "invalid host"), "bad host scheme refused");
        berth_config_release(&c);
        const char *up1[] = { "berthd", "--config-file", "/dev/null", NULL };
        ok(parse(&c, &err, 3, up1) == 0 && c.userland_proxy, "the userland proxy is on by default");
        berth_config_release(&c);
        const char *up2[] = { "berthd", "--config-file", "/dev/null", "--userland-proxy=false", NULL };
        ok(parse(&c, &err, 4, up2) == 0 && !c.userland_proxy, "--userland-proxy=false");
        berth_config_release(&c);
        f = write_cfg("up.json", "{\"userland-proxy\":false}");
        const char *up3[] = { "berthd", "--config-file", f, "--userland-proxy", NULL };
        ok(parse(&c, &err, 4, up3) == 0 && c.userland_proxy, "the flag wins over the file");
        berth_config_release(&c);
        free(f);
        const char *up4[] = { "berthd", "--config-file", "/dev/null", "--userland-proxy=maybe", NULL };
        ok(parse(&c, &err, 4, up4) == -EINVAL && strstr(err.msg, "--userland-proxy"), "a bad boolean refused: %s",
           err.msg);
        berth_config_release(&c);
        const char *a9[] = { "berthd", "--config-file", "/dev/null", "--bogus", NULL };
        ok(parse(&c, &err, 4, a9) == -EINVAL && strstr(err.msg, "unknown flag: --bogus"), "unknown flag refused");
        berth_config_release(&c);
        const char *a10[] = { "berthd", "--config-file", "/dev/null", "--log-level", "loud", NULL };
        ok(parse(&c, &err, 5, a10) == -EINVAL && strstr(err.msg, "logging level"), "bad log level refused");
        berth_config_release(&c);
        const char *a11[] = { "berthd", "--config-file", "/dev/null", "--add-runtime", "crun=/usr/bin/crun",
                              "--default-runtime", "crun", NULL };
        ok(parse(&c, &err, 7, a11) == 0 && c.n_runtimes == 1, "--add-runtime and --default-runtime");
        berth_config_release(&c);
        const char *a12[] = { "berthd", "--config-file", "/dev/null", "--default-runtime", "nope", NULL };
        ok(parse(&c, &err, 5, a12) == -EINVAL && strstr(err.msg, "not registered"), "unknown default runtime");
        berth_config_release(&c);

        /* reload: reloadable keys change, the others stay, flags still win */
        f = write_cfg("g.json", "{\"debug\":false,\"data-root\":\"/one\"}");
        const char *a13[] = { "berthd", "--config-file", f, "--label", "fromflag", NULL };
        ok(parse(&c, &err, 5, a13) == 0 && !c.debug, "before reload");
        free(write_cfg("g.json", "{\"debug\":true,\"data-root\":\"/two\",\"labels\":[\"x\"],\"shutdown-timeout\":3}"));
        cJSON *changed = NULL;
        ok(berth_config_reload(&c, &changed, &err) == 0, "reload");
        ok(c.debug && c.shutdown_timeout == 3, "reloadable keys applied");
        is_str(c.data_root, "/one", "data-root is not reloadable");
        ok(c.n_labels == 1 && !strcmp(c.labels[0], "fromflag"), "a key given as a flag is not reloaded");
        is_str(berth_json_str(changed, "debug"), "true", "changes reported for the event");
        cJSON_Delete(changed);
        free(write_cfg("g.json", "{\"debug\":false,\"oops\":1}"));
        ok(berth_config_reload(&c, &changed, &err) == -EINVAL && c.debug, "a bad file on reload changes nothing");
        berth_config_release(&c);
        free(f);
}

static int seen;
static void count_cb(const struct berth_event *ev, void *data)
{
        seen++;
}

static void test_events(void)
{
        struct berth_events *e = berth_events_new(3);
        int64_t t0 = berth_now_ns();

        for (int i = 0; i < 5; i++)
                berth_events_publish(e, "daemon", "reload", "id", NULL);
        seen = 0;
        berth_events_replay(e, 0, INT64_MAX, count_cb, NULL);
        is_int(seen, 3, "history keeps the last 3");
        void *h = berth_events_subscribe(e, count_cb, NULL);
        is_int(berth_events_listeners(e), 1, "one listener");
        seen = 0;
        cJSON *attrs = cJSON_CreateObject();
        cJSON_AddStringToObject(attrs, "name", "web");
        cJSON_AddStringToObject(attrs, "image", "busybox");
        berth_events_publish(e, "container", "start", "abc", attrs);
        is_int(seen, 1, "subscriber called");
        berth_events_unsubscribe(e, h);
        is_int(berth_events_listeners(e), 0, "unsubscribed");
        seen = 0;
        berth_events_replay(e, t0, INT64_MAX, count_cb, NULL);
        is_int(seen, 3, "replay since t0");
        /* the JSON shape: int64 times as exact integers */
        struct buf b = BUF_INIT;
        cJSON *j = NULL;
        struct berth_event ev = { (char *)"container", (char *)"start", (char *)"abc", NULL, (char *)"local",
                                  1795918294505112863LL };
        ev.attributes = cJSON_Parse("{\"name\":\"web\",\"image\":\"busybox\"}");
        j = berth_event_to_json(&ev);
        berth_json_append(&b, j);
        ok(strstr(b.data, "\"timeNano\":1795918294505112863") && strstr(b.data, "\"time\":1795918294"),
           "exact int64 times: %s", b.data);
        ok(strstr(b.data, "\"status\":\"start\"") && strstr(b.data, "\"from\":\"busybox\"") &&
           strstr(b.data, "\"Actor\":{\"ID\":\"abc\",\"Attributes\":{\"name\":\"web\""), "container event shape");
        cJSON_Delete(j);
        cJSON_Delete(ev.attributes);
        buf_release(&b);
        berth_events_free(e);
}

static void test_metrics(void)
{
        struct berth_metrics *m = berth_metrics_new();
        struct buf b = BUF_INIT;

        berth_metrics_request(m, "/_ping", "GET", 200, 0.0002);
        berth_metrics_request(m, "/_ping", "GET", 200, 0.003);
        berth_metrics_request(m, "/info", "GET", 500, 2.0);
        berth_metrics_conn(m, 1);
        berth_metrics_render(m, &b, 12.5);
        ok(strstr(b.data, "berth_api_requests_total{route=\"/_ping\",method=\"GET\",code=\"200\"} 2\n") != NULL,
           "request counter");
        ok(strstr(b.data, "berth_api_request_duration_seconds_bucket{le=\"0.0005\"} 1\n") &&
           strstr(b.data, "berth_api_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"), "histogram buckets");
        ok(strstr(b.data, "berth_api_connections_open 1\n") && strstr(b.data, "berth_uptime_seconds 12.500\n"),
           "gauges");
        ok(strstr(b.data, "process_resident_memory_bytes ") && strstr(b.data, "process_open_fds "), "process figures");
        buf_release(&b);
        berth_metrics_free(m);
}

int main(void)
{
        berth_json_init();
        if (!mkdtemp(dir))
                return 1;
        test_config();
        test_events();
        test_metrics();
        char *cmd = xasprintf("rm -rf %s", dir);
        (void)!system(cmd);
        free(cmd);
        return tap_done();
}
