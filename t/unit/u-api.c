/* SPDX-License-Identifier: Apache-2.0
 * t/unit/u-api.c -- api/: version prefixes, routing, query strings, filters,
 * timestamps, stream framing, and the HTTP server end to end in-process
 * (a socketpair adopted by the server: llhttp -> router -> handler, no
 * listening socket): keep-alive, pipelining, chunked bodies, 100-continue,
 * limits, chunked responses, hijacking.
 */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "api/api-internal.h"
#include "t/unit/tap.h"

static struct berth_daemon D;

/* ---- pure functions ---- */

static void test_versions(void)
{
        int ma = 0, mi = 0;
        const char *rest = NULL;

        is_int(api_split_version("/v1.44/info", &ma, &mi, &rest), 1, "versioned path");
        ok(ma == 1 && mi == 44 && !strcmp(rest, "/info"), "1.44 and /info");
        is_int(api_split_version("/info", &ma, &mi, &rest), 0, "unversioned path");
        is_str(rest, "/info", "rest is the path");
        is_int(api_split_version("/v1.24", &ma, &mi, &rest), 1, "bare version");
        is_str(rest, "/", "bare version is the root");
        is_int(api_split_version("/v1/info", &ma, &mi, &rest), -EINVAL, "/v1/ is malformed");
        is_int(api_split_version("/v1.x/info", &ma, &mi, &rest), -EINVAL, "/v1.x/ is malformed");
        is_int(api_split_version("/v1.44x/info", &ma, &mi, &rest), -EINVAL, "/v1.44x/ is malformed");
        is_int(api_split_version("/volumes", &ma, &mi, &rest), 0, "/volumes is not a version");
        is_int(api_split_version("/v12345.1/x", &ma, &mi, &rest), -EINVAL, "absurd major");
}

static void h_dummy(struct api_req *r)
{
        api_reply_status(r, 204);
}

static const struct api_route test_table[] = {
        { "GET", "/containers/{name}/json", h_dummy, 0 },
        { "GET", "/images/{name*}/json", h_dummy, 0 },
        { "DELETE", "/images/{name*}", h_dummy, 0 },
        { "POST", "/containers/{name}/exec", h_dummy, 0 },
};

static struct api_req *fake_req(const char *method, const char *path)
{
        struct api_req *r = xcalloc(1, sizeof(*r));

        snprintf(r->method, sizeof(r->method), "%s", method);
        r->path = xstrdup(path);
        r->api_minor = BERTH_API_MINOR;
        return r;
}

static void free_fake(struct api_req *r)
{
        for (size_t i = 0; i < API_MAX_PARAMS; i++)
                free(r->params[i]);
        free(r->path);
        for (size_t i = 0; i < r->n_query; i++) {
                free(r->qkeys[i]);
                free(r->qvals[i]);
        }
        free(r->qkeys);
        free(r->qvals);
        free(r->query);
        free(r);
}

static void test_router(void)
{
        struct api_req *r;

        r = fake_req("GET", "/v1.44/containers/web/json");
        api_route_match(r, test_table, ARRAY_SIZE(test_table));
        ok(r->route == &test_table[0], "container inspect matches");
        is_str(r->params[0], "web", "name captured");
        ok(r->versioned && r->api_minor == 44 && !r->version_error, "version recorded");
        free_fake(r);

        r = fake_req("GET", "/images/docker.io/library/busybox:latest/json");
        api_route_match(r, test_table, ARRAY_SIZE(test_table));
        ok(r->route == &test_table[1], "image name with slashes matches the greedy param");
        is_str(r->params[0], "docker.io/library/busybox:latest", "greedy capture spans segments");
        free_fake(r);

        r = fake_req("DELETE", "/v1.41/images/a/b/c");
        api_route_match(r, test_table, ARRAY_SIZE(test_table));
        ok(r->route == &test_table[2] && !strcmp(r->params[0], "a/b/c"), "greedy param at the end");
        ok(r->api_minor == 41, "older client version kept for its dialect");
        free_fake(r);

        r = fake_req("GET", "/containers/web/exec");
        api_route_match(r, test_table, ARRAY_SIZE(test_table));
        ok(!r->route && r->method_mismatch, "wrong method is a mismatch, not a miss");
        free_fake(r);

        r = fake_req("GET", "/containers//json");
        api_route_match(r, test_table, ARRAY_SIZE(test_table));
        ok(!r->route && !r->method_mismatch, "empty param does not match");
        free_fake(r);

        r = fake_req("GET", "/v1.45/containers/x/json");
        api_route_match(r, test_table, ARRAY_SIZE(test_table));
        ok(r->version_error, "1.45 is a version error");
        free_fake(r);

        r = fake_req("GET", "/v1.23/containers/x/json");
        api_route_match(r, test_table, ARRAY_SIZE(test_table));
        ok(r->version_error, "1.23 is a version error");
        free_fake(r);

        r = fake_req("GET", "/containers/web/json/");
        api_route_match(r, test_table, ARRAY_SIZE(test_table));
        ok(r->route == &test_table[0], "trailing slash tolerated");
        free_fake(r);
}

static void test_query(void)
{
        struct api_req *r = fake_req("GET", "/x");
        char *d;

        r->query = xstrdup("all=1&filters=%7B%22label%22%3A%7B%22app%3Ddemo%22%3Atrue%7D%7D&a+b=c+d&empty&x=%41");
        is_str(api_query(r, "all"), "1", "plain value");
        is_str(api_query(r, "filters"), "{\"label\":{\"app=demo\":true}}", "percent-decoded JSON");
        is_str(api_query(r, "a b"), "c d", "plus is space");
        is_str(api_query(r, "empty"), "", "key without value");
        is_str(api_query(r, "x"), "A", "escape decoded");
        ok(api_query(r, "missing") == NULL, "missing key is NULL");
        ok(api_query_bool(r, "all", false), "1 is true");
        ok(!api_query_bool(r, "empty", true), "empty is false");
        ok(!r->query_bad, "query is good");
        free_fake(r);

        r = fake_req("GET", "/x");
        r->query = xstrdup("a=%zz&b=%4");
        (void)api_query(r, "a");
        ok(r->query_bad, "bad escapes are detected");
        free_fake(r);

        ok((d = api_url_decode("%00", 3, false)) == NULL, "NUL escape refused");
        free(d);
}

static void test_filters(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        cJSON *f = NULL, *labels;
        static const char *const allowed[] = { "label", "name", NULL };

        ok(api_filters_parse("{\"label\":{\"app=demo\":true,\"x\":false}}", &f, &err) == 0, "CLI form parses");
        ok(api_filters_has(f, "label", "app=demo") && !api_filters_has(f, "label", "x"), "true kept, false dropped");
        ok(api_filters_has(f, "name", "anything"), "absent key matches everything");
        ok(api_filters_check(f, allowed, &err) == 0, "allowed keys");
        labels = cJSON_Parse("{\"app\":\"demo\",\"tier\":\"web\"}");
        ok(api_filters_match_labels(f, "label", labels), "label k=v matches");
        cJSON_Delete(f);
        ok(api_filters_parse("{\"label\":[\"tier\",\"app=demo\"]}", &f, &err) == 0, "docker-py form parses");
        ok(api_filters_match_labels(f, "label", labels), "label k and k=v match");
        cJSON_Delete(f);
        ok(api_filters_parse("{\"label\":[\"app=other\"]}", &f, &err) == 0 &&
           !api_filters_match_labels(f, "label", labels), "label value mismatch");
        cJSON_Delete(f);
        cJSON_Delete(labels);
        ok(api_filters_parse("{\"bogus\":[\"x\"]}", &f, &err) == 0 && api_filters_check(f, allowed, &err) == -EINVAL,
           "unknown key refused");
        is_str(err.msg, "invalid filter 'bogus'", "message names the key");
        cJSON_Delete(f);
        ok(api_filters_parse("{\"label\":5}", &f, &err) == -EINVAL && err.public, "bad shape is 400");
        ok(api_filters_parse("{not json", &f, &err) == -EINVAL, "bad JSON is 400");
        ok(api_filters_parse("", &f, &err) == 0 && f == NULL, "empty filters");
}

static void test_timestamps(void)
{
        int64_t v = 0, now = 1795923477LL * 1000000000;

        ok(api_parse_timestamp("1700000000", now, &v) == 0 && v == 1700000000LL * 1000000000, "seconds");
        ok(api_parse_timestamp("1700000000.5", now, &v) == 0 && v == 1700000000LL * 1000000000 + 500000000,
           "fraction");
        ok(api_parse_timestamp("1700000000.000000001", now, &v) == 0 && v % 1000000000 == 1, "nanoseconds");
        ok(api_parse_timestamp("10m", now, &v) == 0 && v == now - 600LL * 1000000000, "duration");
        ok(api_parse_timestamp("1h30m", now, &v) == 0 && v == now - 5400LL * 1000000000, "compound duration");
        ok(api_parse_timestamp("2026-11-29T02:11:34Z", now, &v) == 0 && v == 1795918294LL * 1000000000,
           "RFC 3339");
        ok(api_parse_timestamp("2026-11-29T03:11:34+01:00", now, &v) == 0 && v == 1795918294LL * 1000000000,
           "RFC 3339 with offset");
        ok(api_parse_timestamp("2026-11-29T02:11:34.25Z", now, &v) == 0 && v % 1000000000 == 250000000,
           "RFC 3339 fraction");
        ok(api_parse_timestamp("yesterday", now, &v) == -EINVAL, "garbage refused");
        ok(api_parse_timestamp("1.2.3", now, &v) == -EINVAL, "two dots refused");
        ok(api_parse_timestamp("4.44444e+22h", now, &v) == -EINVAL, "a duration past int64 refused");
        ok(api_parse_timestamp("2000000h2000000h", now, &v) == -EINVAL, "a sum past int64 refused");
        ok(api_parse_timestamp("nanh", now, &v) == -EINVAL && api_parse_timestamp("infs", now, &v) == -EINVAL,
           "nan and inf refused");
        ok(api_parse_timestamp("2000000h", now, &v) == 0 && v == now - 2000000LL * 3600 * 1000000000,
           "a long duration still fits");
}

struct demux_out {
        struct buf out, err;
};

static void demux_cb(int stream, const char *p, size_t n, void *data)
{
        struct demux_out *o = data;

        buf_add(stream == 2 ? &o->err : &o->out, p, n);
}

static void test_framing(void)
{
        struct buf b = BUF_INIT;
        struct api_demux dm = { 0 };
        struct demux_out o = { BUF_INIT, BUF_INIT };

        api_frame_append(&b, API_STDOUT, "hello\n", 6);
        ok(b.len == 14 && !memcmp(b.data, "\x01\0\0\0\0\0\0\x06hello\n", 14), "stdout frame as the trace shows");
        api_frame_append(&b, API_STDERR, "err\n", 4);
        ok(!memcmp(b.data + 14, "\x02\0\0\0\0\0\0\x04" "err\n", 12), "stderr frame");
        api_frame_append(&b, API_STDOUT, "", 0);
        ok(b.len == 34, "empty payload is a bare header");
        /* feed one byte at a time: frames split anywhere */
        int bad = 0;
        for (size_t i = 0; i < b.len; i++)
                bad += api_demux_feed(&dm, b.data + i, 1, demux_cb, &o) != 0;
        is_int(bad, 0, "byte-at-a-time feed accepted");
        is_str(buf_cstr(&o.out), "hello\n", "demux stdout");
        is_str(buf_cstr(&o.err), "err\n", "demux stderr");
        ok(api_demux_feed(&dm, "\x07\0\0\0\0\0\0\x01x", 9, demux_cb, &o) == -EBADMSG, "bad stream type refused");
        buf_release(&b);
        buf_release(&o.out);
        buf_release(&o.err);
}

/* ---- the server in-process ---- */

static struct api_server *S;

static void h_echo(struct api_req *r)
{
        cJSON *j = cJSON_CreateObject();

        cJSON_AddStringToObject(j, "method", r->method);
        cJSON_AddStringToObject(j, "path", r->path);
        cJSON_AddNumberToObject(j, "len", (double)r->body.len);
        cJSON_AddStringToObject(j, "body", r->body.len ? buf_cstr(&r->body) : "");
        cJSON_AddNumberToObject(j, "minor", r->api_minor);
        api_reply_json(r, 200, j);
}

static void h_chunks(struct api_req *r)
{
        api_stream_start(r, 200, "application/json");
        api_stream_write(r, "{\"a\":1}\n", 8);
        api_stream_write(r, "{\"b\":2}\n", 8);
        api_stream_end(r);
}

static void hj_data(struct api_req *r, const char *p, size_t n, void *data)
{
        struct buf b = BUF_INIT;

        api_frame_append(&b, API_STDOUT, p, n);
        api_hijack_write(r, b.data, b.len);
        buf_release(&b);
}

static void hj_eof(struct api_req *r, void *data)
{
        /* stdin closed: say so on stderr, then end the stream */
        struct buf b = BUF_INIT;

        api_frame_append(&b, API_STDERR, "eof\n", 4);
        api_hijack_write(r, b.data, b.len);
        buf_release(&b);
        api_hijack_close(r);
}

static const struct api_hijack_ops hj_ops = { hj_data, hj_eof, NULL };

static void h_hijack(struct api_req *r)
{
        api_hijack(r, NULL, &hj_ops, NULL);
}

/* a streamed body: count bytes, pause after the first piece and resume
 * from a timer, answer at the end */
static uv_timer_t resume_timer;
static int pauses;

static void on_resume(uv_timer_t *t)
{
        api_body_resume(t->data);
        api_req_unref(t->data);
}

static void up_body(struct api_req *r, const char *p, size_t n)
{
        r->body.len += n;       /* counted, not kept */
        if (pauses++ == 0) {
                api_body_pause(r);
                api_req_ref(r);
                resume_timer.data = r;
                uv_timer_start(&resume_timer, on_resume, 5, 0);
        }
}

static void up_end(struct api_req *r)
{
        char msg[64];

        snprintf(msg, sizeof(msg), "{\"bytes\":%zu}\n", r->body.len);
        r->body.len = 0;
        api_reply(r, 200, "application/json", msg, strlen(msg));
}

static void h_upload(struct api_req *r)
{
        if (api_query(r, "fail")) {
                api_reply_msg(r, 400, "refused before the body");
                return;
        }
        api_req_defer(r);
        r->on_body = up_body;
        r->on_body_end = up_end;
}

static const struct api_route srv_table[] = {
        { "POST", "/upload", h_upload, API_ROUTE_STREAM_BODY },
        { "GET", "/_ping", api_h_ping, 0 },
        { "HEAD", "/_ping", api_h_ping, 0 },
        { "GET", "/version", api_h_version, 0 },
        { "POST", "/echo", h_echo, 0 },
        { "GET", "/chunks", h_chunks, 0 },
        { "POST", "/hijack", h_hijack, 0 },
};

/* Send req on a fresh connection, optionally half-close, collect everything
 * the server sends until it closes (bounded). */
static char *roundtrip_ex(const char *req, size_t len, bool half_close, const char *after, size_t after_len)
{
        struct berth_err err = BERTH_ERR_INIT;
        int sv[2];
        struct buf out = BUF_INIT;
        char tmp[65536];
        size_t off = 0;
        bool sent_after = false;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return xstrdup("socketpair failed");
        (void)fcntl(sv[0], F_SETFL, O_NONBLOCK);
        if (api_server_adopt(S, sv[1], &err) < 0) {
                close(sv[0]);
                return xstrdup(err.msg);
        }
        for (int i = 0; i < 20000; i++) {
                if (off < len) {
                        ssize_t w = write(sv[0], req + off, len - off);
                        if (w > 0)
                                off += (size_t)w;
                        if (off == len && half_close && !after)
                                shutdown(sv[0], SHUT_WR);
                }
                uv_run(D.loop, UV_RUN_NOWAIT);
                ssize_t n = read(sv[0], tmp, sizeof(tmp));
                if (n > 0) {
                        buf_add(&out, tmp, (size_t)n);
                        /* after the 101, send the stream's bytes */
                        if (after && !sent_after && strstr(buf_cstr(&out), "\r\n\r\n")) {
                                (void)!write(sv[0], after, after_len);
                                shutdown(sv[0], SHUT_WR);
                                sent_after = true;
                        }
                        continue;
                }
                if (n == 0)
                        break;
                struct pollfd pfd = { sv[0], POLLIN, 0 };
                (void)poll(&pfd, 1, 1);
        }
        close(sv[0]);
        for (int i = 0; i < 10; i++)
                uv_run(D.loop, UV_RUN_NOWAIT);
        return buf_detach(&out, NULL);
}

static char *roundtrip(const char *req)
{
        return roundtrip_ex(req, strlen(req), true, NULL, 0);
}

static int count(const char *hay, const char *needle)
{
        int n = 0;

        for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

static void test_server(void)
{
        char *o;

        o = roundtrip("HEAD /_ping HTTP/1.1\r\nHost: x\r\n\r\n");
        ok(berth_str_has_prefix(o, "HTTP/1.1 200 OK\r\n"), "HEAD /_ping is 200");
        ok(strstr(o, "Api-Version: 1.44\r\n") && strstr(o, "Ostype: linux\r\n") &&
           strstr(o, "Docker-Experimental: false\r\n") && strstr(o, "Server: berth/"), "engine headers");
        ok(strstr(o, "Cache-Control: no-cache, no-store, must-revalidate\r\n") && strstr(o, "Pragma: no-cache"),
           "cache headers");
        ok(strstr(o, "Content-Length: 0\r\n") && !strstr(o, "\r\n\r\nOK"), "HEAD has no body");
        free(o);

        o = roundtrip("GET /_ping HTTP/1.1\r\nHost: x\r\n\r\nGET /v1.44/_ping HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /v1.41/version HTTP/1.1\r\nHost: x\r\n\r\n");
        is_int(count(o, "HTTP/1.1 200 OK"), 3, "three pipelined requests answered");
        ok(strstr(o, "\r\n\r\nOK") != NULL, "GET /_ping body is OK");
        ok(strstr(o, "\"ApiVersion\":\"1.44\"") && strstr(o, "\"Name\":\"Engine\""), "version answered in order");
        free(o);

        o = roundtrip("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n");
        ok(strstr(o, "\"len\":7") && strstr(o, "\"body\":\"abcdefg\""), "chunked request body reassembled");
        free(o);

        o = roundtrip("POST /v1.30/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello");
        ok(berth_str_has_prefix(o, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK"), "100-continue before the answer");
        ok(strstr(o, "\"body\":\"hello\"") && strstr(o, "\"minor\":30"), "body and client version");
        free(o);

        o = roundtrip("GET /chunks HTTP/1.1\r\nHost: x\r\n\r\n");
        ok(strstr(o, "Transfer-Encoding: chunked\r\n") && strstr(o, "8\r\n{\"a\":1}\n\r\n8\r\n{\"b\":2}\n\r\n0\r\n\r\n"),
           "chunked response framing");
        free(o);

        o = roundtrip("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
        ok(berth_str_has_prefix(o, "HTTP/1.1 404 ") && strstr(o, "{\"message\":\"page not found\"}"), "404 JSON");
        free(o);

        o = roundtrip("DELETE /_ping HTTP/1.1\r\nHost: x\r\n\r\n");
        ok(berth_str_has_prefix(o, "HTTP/1.1 405 "), "405 for a wrong method");
        free(o);

        o = roundtrip("GET /v1.99/_ping HTTP/1.1\r\nHost: x\r\n\r\n");
        ok(berth_str_has_prefix(o, "HTTP/1.1 400 ") &&
           strstr(o, "client version 1.99 is too new. Maximum supported API version is 1.44"), "too new");
        free(o);

        o = roundtrip("GARBAGE\r\n\r\n");
        ok(berth_str_has_prefix(o, "HTTP/1.1 400 ") && strstr(o, "malformed HTTP request"), "garbage is 400");
        ok(strstr(o, "Connection: close\r\n") != NULL, "and the connection closes");
        free(o);

        o = roundtrip("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
        ok(berth_str_has_prefix(o, "HTTP/1.1 400 "), "bad chunk size is 400");
        free(o);

        o = roundtrip("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n");
        ok(berth_str_has_prefix(o, "HTTP/1.1 413 "), "oversized Content-Length is 413");
        free(o);

        {
                struct buf big = BUF_INIT;
                buf_adds(&big, "GET /_ping HTTP/1.1\r\nHost: x\r\nX-Big: ");
                for (int i = 0; i < 70000; i++)
                        buf_addc(&big, 'a');
                buf_adds(&big, "\r\n\r\n");
                o = roundtrip_ex(big.data, big.len, true, NULL, 0);
                ok(berth_str_has_prefix(o, "HTTP/1.1 431 "), "a 70 KB header is 431");
                free(o);
                buf_reset(&big);
                buf_adds(&big, "GET /_ping HTTP/1.1\r\n");
                for (int i = 0; i < 200; i++)
                        buf_addf(&big, "X-H%d: v\r\n", i);
                buf_adds(&big, "\r\n");
                o = roundtrip_ex(big.data, big.len, true, NULL, 0);
                ok(berth_str_has_prefix(o, "HTTP/1.1 431 ") && strstr(o, "more than 100 request headers"),
                   "200 headers is 431");
                free(o);
                buf_release(&big);
        }

        o = roundtrip("GET /_ping HTTP/1.0\r\n\r\n");
        ok(berth_str_has_prefix(o, "HTTP/1.1 200 OK") && strstr(o, "Connection: close"), "HTTP/1.0 closes");
        free(o);

        {
                const char *req = "POST /hijack HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                                  "Content-Length: 0\r\n\r\n";
                o = roundtrip_ex(req, strlen(req), false, "stdin!", 6);
                ok(berth_str_has_prefix(o, "HTTP/1.1 101 UPGRADED\r\n"), "hijack answers 101 UPGRADED");
                ok(strstr(o, "Content-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n") != NULL,
                   "raw-stream headers");
                ok(!strstr(o, "Api-Version"), "101 carries no engine headers");
                const char *body = strstr(o, "\r\n\r\n");
                ok(body && !memcmp(body + 4, "\x01\0\0\0\0\0\0\x06stdin!", 14), "client bytes echoed in a stdout frame");
                ok(body && !memcmp(body + 18, "\x02\0\0\0\0\0\0\x04" "eof\n", 12),
                   "half-close reaches the stream as end of input, and the stream still writes");
                free(o);
        }
        {
                /* 3 MiB chunked: three times the body limit of this server */
                struct buf up = BUF_INIT;
                buf_adds(&up, "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
                for (int i = 0; i < 48; i++) {
                        buf_addf(&up, "%x\r\n", 65536);
                        for (int k = 0; k < 65536; k++)
                                buf_addc(&up, 'z');
                        buf_adds(&up, "\r\n");
                }
                buf_adds(&up, "0\r\n\r\n");
                uv_timer_init(D.loop, &resume_timer);
                o = roundtrip_ex(up.data, up.len, true, NULL, 0);
                ok(berth_str_has_prefix(o, "HTTP/1.1 200 OK") && strstr(o, "{\"bytes\":3145728}"),
                   "a 3 MiB streamed body past the body limit, with pause and resume");
                ok(pauses > 1, "the body came in pieces (%d)", pauses);
                free(o);
                o = roundtrip("POST /upload?fail=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789");
                ok(berth_str_has_prefix(o, "HTTP/1.1 400 ") && strstr(o, "Connection: close"),
                   "a streamed-body handler may refuse before the body");
                free(o);
                buf_release(&up);
                uv_close((uv_handle_t *)&resume_timer, NULL);
        }
        is_int(api_server_connections(S), 0, "every connection closed");
}

int main(void)
{
        struct berth_err err = BERTH_ERR_INIT;

        signal(SIGPIPE, SIG_IGN);
        berth_json_init();
        berth_log_set_level(BERTH_LOG_ERROR);
        test_versions();
        test_router();
        test_query();
        test_filters();
        test_timestamps();
        test_framing();

        berth_config_init(&D.cfg);
        D.cfg.api_max_body_size = 1024 * 1024;
        D.loop = uv_default_loop();
        D.events = berth_events_new(16);
        D.metrics = berth_metrics_new();
        berth_sysinfo_gather(&D.sys, "/");
        ok(api_server_new(&D, &S, &err) == 0, "server created");
        api_server_set_routes(S, srv_table, ARRAY_SIZE(srv_table));
        test_server();
        S = api_server_free(S);
        uv_run(D.loop, UV_RUN_DEFAULT);
        ok(uv_loop_close(D.loop) == 0, "loop closes clean: no handle leaked");
        D.events = berth_events_free(D.events);
        D.metrics = berth_metrics_free(D.metrics);
        berth_config_release(&D.cfg);
        return tap_done();
}
