/* SPDX-License-Identifier: Apache-2.0
 * api/http.c -- HTTP/1.1 on uv streams with llhttp (the only file that
 * includes it): connections, keep-alive and pipelining, Content-Length and
 * chunked bodies, Expect: 100-continue, limits, idle and request timeouts,
 * responses (plain, chunked, hijacked), graceful shutdown.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <llhttp.h>

#include "api/api-internal.h"

struct listener {
        union {
                uv_stream_t stream;
                uv_tcp_t tcp;
                uv_pipe_t pipe;
        } h;
        struct api_server *srv;
        bool tcp;
        bool tls;
        bool metrics_only;
        char *name;
        char *unlink_path;      /* unix socket we created */
        struct listener *next;
};

struct api_conn {
        union {
                uv_stream_t stream;
                uv_tcp_t tcp;
                uv_pipe_t pipe;
        } h;
        uv_timer_t timer;
        uv_shutdown_t shutdown_req;
        struct api_server *srv;
        struct listener *lst;
        llhttp_t parser;
        struct tls_conn *tls;
        struct buf in;          /* plaintext not yet parsed */
        struct buf tls_out;
        struct api_req *req;    /* being received or served */
        uint64_t id;
        int open_handles;
        int err_status;         /* set by a parser callback that failed */
        char err_msg[160];
        bool closing;
        bool eof;
        bool hijacked;
        bool processing;
        bool reading;
        bool shutting;
        struct api_conn *prev, *next;
};

struct api_server {
        struct berth_daemon *d;
        uv_loop_t *loop;
        struct listener *listeners;
        struct listener *adopted;
        const struct api_route *routes;
        size_t n_routes;
        struct api_conn *conns;
        size_t n_conns;
        uint64_t next_conn_id, next_req_id;
        struct tls_ctx *tls;
        llhttp_settings_t settings;
        char rbuf[65536];
        bool rbuf_busy;
        bool draining;
        void (*drained_cb)(void *);
        void *drained_data;
        uv_timer_t drain_timer;
        bool drain_timer_on;
        /* limits */
        size_t max_conns, max_header, max_headers, max_body;
        uint64_t idle_ms, request_ms;
};

static void conn_close(struct api_conn *c);
static void conn_process(struct api_conn *c);
static void conn_arm_timer(struct api_conn *c);
static void conn_read_start(struct api_conn *c);
static void req_finish(struct api_req *r);

/* ---- writes ---- */

struct wreq {
        uv_write_t w;
        char *data;     /* owned */
};

static void on_write(uv_write_t *w, int status)
{
        struct wreq *wr = container_of(w, struct wreq, w);

        free(wr->data);
        free(wr);
}

/* Queue b's bytes on the socket; takes b's data (b is left empty). */
static void conn_send_buf(struct api_conn *c, struct buf *b)
{
        struct wreq *w;
        uv_buf_t ub;
        size_t n;

        if (c->closing || c->shutting || b->len == 0) {
                buf_reset(b);
                return;
        }
        /* nothing queued: write now, and queue only what the socket refused */
        if (c->h.stream.write_queue_size == 0) {
                ub = uv_buf_init(b->data, (unsigned)b->len);
                int k = uv_try_write(&c->h.stream, &ub, 1);
                if (k == (int)b->len) {
                        buf_reset(b);
                        return;
                }
                if (k > 0)
                        buf_consume(b, (size_t)k);
                else if (k != UV_EAGAIN) {
                        buf_reset(b);
                        conn_close(c);
                        return;
                }
        }
        w = xmalloc(sizeof(*w));
        w->data = buf_detach(b, &n);
        ub = uv_buf_init(w->data, (unsigned)n);
        if (uv_write(&w->w, &c->h.stream, &ub, 1, on_write) < 0) {
                free(w->data);
                free(w);
                conn_close(c);
        }
}

/* Plaintext out: through TLS when the connection has it.  Takes b's data. */
static void conn_write_buf(struct api_conn *c, struct buf *b)
{
        if (!c->tls) {
                conn_send_buf(c, b);
                return;
        }
        int r = tls_conn_write(c->tls, b->data, b->len, &c->tls_out);
        buf_reset(b);
        if (r < 0) {
                conn_close(c);
                return;
        }
        conn_send_buf(c, &c->tls_out);
}

static void conn_write(struct api_conn *c, const void *p, size_t n)
{
        struct buf b = BUF_INIT;

        if (n == 0)
                return;
        buf_add(&b, p, n);
        conn_write_buf(c, &b);
        buf_release(&b);
}

static void on_shutdown(uv_shutdown_t *s, int status)
{
        struct api_conn *c = container_of(s, struct api_conn, shutdown_req);

        conn_close(c);
}

/* Close once everything queued is written. */
static void conn_close_after_writes(struct api_conn *c)
{
        if (c->closing || c->shutting)
                return;
        if (c->tls) {
                tls_conn_shutdown(c->tls, &c->tls_out);
                conn_send_buf(c, &c->tls_out);
        }
        c->shutting = true;
        if (uv_shutdown(&c->shutdown_req, &c->h.stream, on_shutdown) < 0) {
                c->shutting = false;
                conn_close(c);
        }
}

/* ---- requests ---- */

static struct api_req *req_new(struct api_conn *c)
{
        struct api_req *r = xcalloc(1, sizeof(*r));

        r->conn = c;
        r->srv = c->srv;
        r->d = c->srv->d;
        r->id = ++c->srv->next_req_id;
        r->refs = 1;
        r->api_minor = BERTH_API_MINOR;
        r->start_ns = berth_now_ns();
        return r;
}

static void req_free(struct api_req *r)
{
        buf_release(&r->url);
        free(r->path);
        free(r->query);
        for (size_t i = 0; i < r->n_headers; i++) {
                free(r->headers[i].name);
                free(r->headers[i].value);
        }
        free(r->headers);
        buf_release(&r->body);
        for (size_t i = 0; i < API_MAX_PARAMS; i++)
                free(r->params[i]);
        buf_release(&r->extra_headers);
        for (size_t i = 0; i < r->n_query; i++) {
                free(r->qkeys[i]);
                free(r->qvals[i]);
        }
        free(r->qkeys);
        free(r->qvals);
        free(r);
}

void api_req_ref(struct api_req *r)
{
        r->refs++;
}

void api_req_unref(struct api_req *r)
{
        if (r && --r->refs == 0)
                req_free(r);
}

void api_req_defer(struct api_req *r)
{
        r->deferred = true;
}

void api_body_pause(struct api_req *r)
{
        struct api_conn *c = r->conn;

        r->body_paused = true;
        if (c && c->reading && !c->closing) {
                (void)uv_read_stop(&c->h.stream);
                c->reading = false;
        }
}

void api_body_resume(struct api_req *r)
{
        struct api_conn *c = r->conn;

        r->body_paused = false;
        if (c && !c->reading && !c->closing && !c->shutting && !c->eof && !c->hijacked)
                conn_read_start(c);
}

size_t api_req_write_queue(const struct api_req *r)
{
        if (r->cancelled || !r->conn)
                return 0;
        return r->conn->h.stream.write_queue_size;
}

const char *api_header(const struct api_req *r, const char *name)
{
        for (size_t i = 0; i < r->n_headers; i++)
                if (!strcasecmp(r->headers[i].name, name))
                        return r->headers[i].value;
        return NULL;
}

const char *api_param(const struct api_req *r, size_t i)
{
        return i < API_MAX_PARAMS ? r->params[i] : NULL;
}

/* The connection drops its request: a handler may still hold a ref. */
static void conn_detach_req(struct api_conn *c)
{
        struct api_req *r = c->req;

        if (!r)
                return;
        c->req = NULL;
        r->conn = NULL;
        if (r->hijacked) {
                /* a hijacked stream always hears that its connection went,
                 * also after api_hijack_close: its owner frees its state there */
                if (!r->done)
                        r->cancelled = true;
                r->done = true;
                if (r->hj_ops && r->hj_ops->on_close && !r->hj_closed) {
                        r->hj_closed = true;
                        r->hj_ops->on_close(r, r->hj_data);
                }
        } else if (!r->done) {
                r->cancelled = true;
                if (r->on_cancel)
                        r->on_cancel(r);
        }
        api_req_unref(r);
}

/* ---- response writing ---- */

const char *api_status_text(int status)
{
        switch (status) {
        case 100: return "Continue";
        case 101: return "UPGRADED";
        case 200: return "OK";
        case 201: return "Created";
        case 204: return "No Content";
        case 304: return "Not Modified";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 411: return "Length Required";
        case 413: return "Request Entity Too Large";
        case 414: return "Request-URI Too Long";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        default: return "Unknown";
        }
}

void api_add_header(struct api_req *r, const char *name, const char *value)
{
        buf_addf(&r->extra_headers, "%s: %s\r\n", name, value);
}

static void add_common_headers(struct api_req *r, struct buf *b)
{
        /* the Date line changes once a second: format it once a second */
        static char date[64];
        static time_t date_at = -1;
        time_t now = time(NULL);

        if (!r->conn || !r->conn->lst->metrics_only) {
                buf_adds(b, "Api-Version: " BERTH_API_VERSION "\r\n");
                buf_adds(b, r->d->cfg.experimental ? "Docker-Experimental: true\r\n" : "Docker-Experimental: false\r\n");
                buf_adds(b, "Ostype: linux\r\n");
        }
        buf_adds(b, "Server: berth/" PACKAGE_VERSION " (linux)\r\n");
        if (now != date_at) {
                struct tm tm;
                gmtime_r(&now, &tm);
                strftime(date, sizeof(date), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
                date_at = now;
        }
        buf_adds(b, date);
}

static bool conn_keeps_alive(struct api_req *r)
{
        /* an answer before the whole body arrived ends the connection */
        return r->keepalive && r->complete && !r->srv->draining && r->conn && !r->conn->eof;
}

/* Status line, headers and (optionally) the whole body in one write. */
static void write_head(struct api_req *r, int status, const char *ctype, const char *framing,
                       const void *body, size_t len)
{
        struct buf b = BUF_INIT;

        r->status = status;
        r->responded = true;
        buf_grow(&b, 256 + len);
        buf_addf(&b, "HTTP/1.1 %d %s\r\n", status, api_status_text(status));
        add_common_headers(r, &b);
        if (ctype)
                buf_addf(&b, "Content-Type: %s\r\n", ctype);
        if (r->extra_headers.len)
                buf_add(&b, r->extra_headers.data, r->extra_headers.len);
        if (!conn_keeps_alive(r))
                buf_adds(&b, "Connection: close\r\n");
        buf_adds(&b, framing);
        buf_adds(&b, "\r\n");
        if (body && len)
                buf_add(&b, body, len);
        if (r->conn)
                conn_write_buf(r->conn, &b);
        buf_release(&b);
}

void api_reply(struct api_req *r, int status, const char *ctype, const void *body, size_t len)
{
        char cl[64];

        if (r->responded || r->done) {
                berth_bug("request %llu answered twice", (unsigned long long)r->id);
                return;
        }
        if (status == 204 || status == 304) {
                write_head(r, status, NULL, "", NULL, 0);
        } else {
                snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", len);
                write_head(r, status, ctype, cl, r->head ? NULL : body, len);
        }
        req_finish(r);
}

void api_reply_json(struct api_req *r, int status, cJSON *j)
{
        struct buf b = BUF_INIT;

        berth_json_append(&b, j);
        cJSON_Delete(j);
        api_reply(r, status, "application/json", b.data, b.len);
        buf_release(&b);
}

void api_reply_status(struct api_req *r, int status)
{
        api_reply(r, status, NULL, NULL, 0);
}

void api_reply_msg(struct api_req *r, int status, const char *fmt, ...)
{
        char msg[1024];
        va_list ap;
        cJSON *j = cJSON_CreateObject();

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        cJSON_AddStringToObject(j, "message", msg);
        api_reply_json(r, status, j);
}

void api_stream_start(struct api_req *r, int status, const char *ctype)
{
        if (r->responded || r->done) {
                berth_bug("request %llu answered twice", (unsigned long long)r->id);
                return;
        }
        r->streaming = true;
        r->deferred = true;
        write_head(r, status, ctype, "Transfer-Encoding: chunked\r\n", NULL, 0);
        /* latency counts to the first byte of a stream */
        berth_metrics_request(r->d->metrics, r->route ? r->route->pattern : "other", r->method, status,
                              (double)(berth_now_ns() - r->start_ns) / 1e9);
}

void api_stream_write(struct api_req *r, const void *p, size_t n)
{
        char hdr[32];
        int k;

        if (!r->streaming || r->done || !r->conn || n == 0)
                return;
        k = snprintf(hdr, sizeof(hdr), "%zx\r\n", n);
        struct buf b = BUF_INIT;
        buf_add(&b, hdr, (size_t)k);
        buf_add(&b, p, n);
        buf_adds(&b, "\r\n");
        conn_write_buf(r->conn, &b);
        buf_release(&b);
}

void api_stream_end(struct api_req *r)
{
        if (!r->streaming || r->done)
                return;
        if (r->conn)
                conn_write(r->conn, "0\r\n\r\n", 5);
        req_finish(r);
}

void api_hijack(struct api_req *r, const char *ctype, const struct api_hijack_ops *ops, void *data)
{
        struct api_conn *c = r->conn;
        struct buf b = BUF_INIT;

        if (r->responded || r->done || !c) {
                berth_bug("request %llu: hijack after an answer", (unsigned long long)r->id);
                return;
        }
        r->responded = true;
        r->deferred = true;
        r->hijacked = true;
        r->status = 101;
        r->hj_ops = ops;
        r->hj_data = data;
        c->hijacked = true;
        uv_timer_stop(&c->timer);
        buf_addf(&b, "HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n",
                 ctype ? ctype : "application/vnd.docker.raw-stream");
        if (r->extra_headers.len)
                buf_add(&b, r->extra_headers.data, r->extra_headers.len);
        buf_adds(&b, "\r\n");
        conn_write(c, b.data, b.len);
        buf_release(&b);
        berth_metrics_request(r->d->metrics, r->route ? r->route->pattern : "other", r->method, 101,
                              (double)(berth_now_ns() - r->start_ns) / 1e9);
        /* bytes that came right behind the request belong to the stream */
        if (c->in.len && ops && ops->on_data) {
                struct buf pending = c->in;
                buf_init(&c->in);
                ops->on_data(r, pending.data, pending.len, data);
                buf_release(&pending);
        }
        if (c->eof && ops && ops->on_eof && !r->done)
                ops->on_eof(r, data);
}

void api_hijack_write(struct api_req *r, const void *p, size_t n)
{
        if (r->hijacked && !r->done && r->conn)
                conn_write(r->conn, p, n);
}

void api_hijack_close(struct api_req *r)
{
        struct api_conn *c = r->conn;

        if (!r->hijacked || r->done)
                return;
        r->done = true;
        if (c)
                conn_close_after_writes(c);
}

static void req_finish(struct api_req *r)
{
        struct api_conn *c = r->conn;
        double secs = (double)(berth_now_ns() - r->start_ns) / 1e9;

        if (r->done)
                return;
        r->done = true;
        if (!r->streaming)
                berth_metrics_request(r->d->metrics, r->route ? r->route->pattern : "other", r->method,
                                      r->status, secs);
        log_debug("api: conn %llu req %llu %s %s -> %d (%.3f ms)", c ? (unsigned long long)c->id : 0ULL,
                  (unsigned long long)r->id, r->method, r->url.len ? r->url.data : "", r->status, secs * 1e3);
        if (!c)
                return;
        if (!conn_keeps_alive(r) || !r->complete || llhttp_get_errno(&c->parser) == HPE_PAUSED_UPGRADE) {
                conn_close_after_writes(c);
                return;
        }
        c->req = NULL;
        r->conn = NULL;
        api_req_unref(r);
        llhttp_resume(&c->parser);
        conn_arm_timer(c);
        if (!c->processing)
                conn_process(c);
}

/* An error found while parsing: answer it and close. */
static void conn_fail(struct api_conn *c, int status, const char *msg)
{
        struct api_req *r = c->req;

        if (!r) {
                r = req_new(c);
                c->req = r;
        }
        if (r->responded || r->dispatched) {
                conn_close(c);  /* a handler that runs is cancelled, not answered for */
                return;
        }
        r->keepalive = false;
        r->complete = true;
        if (!r->method[0])
                snprintf(r->method, sizeof(r->method), "-");
        log_debug("api: conn %llu: %d %s", (unsigned long long)c->id, status, msg);
        api_reply_msg(r, status, "%s", msg);
}

/* ---- llhttp callbacks ---- */

static struct api_conn *P(llhttp_t *p)
{
        return p->data;
}

static int on_message_begin(llhttp_t *p)
{
        struct api_conn *c = P(p);

        c->req = req_new(c);
        conn_arm_timer(c);
        return 0;
}

static int limit_headers(struct api_conn *c, size_t add)
{
        struct api_req *r = c->req;

        r->header_bytes += add;
        if (r->header_bytes > c->srv->max_header) {
                c->err_status = 431;
                snprintf(c->err_msg, sizeof(c->err_msg), "request headers are larger than %zu bytes",
                         c->srv->max_header);
                return -1;
        }
        return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t n)
{
        struct api_conn *c = P(p);

        if (limit_headers(c, n) < 0) {
                c->err_status = 414;
                snprintf(c->err_msg, sizeof(c->err_msg), "request URI is too long");
                return -1;
        }
        buf_add(&c->req->url, at, n);
        return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
        struct api_conn *c = P(p);
        struct api_req *r = c->req;

        if (limit_headers(c, n) < 0)
                return -1;
        if (r->n_headers == 0 || r->last_was_value) {
                if (r->n_headers >= c->srv->max_headers) {
                        c->err_status = 431;
                        snprintf(c->err_msg, sizeof(c->err_msg), "more than %zu request headers",
                                 c->srv->max_headers);
                        return -1;
                }
                r->headers = xrealloc(r->headers, (r->n_headers + 1) * sizeof(*r->headers));
                r->headers[r->n_headers].name = xstrndup(at, n);
                r->headers[r->n_headers].value = xstrdup("");
                r->n_headers++;
                r->last_was_value = false;
                return 0;
        }
        struct api_header *h = &r->headers[r->n_headers - 1];
        size_t old = strlen(h->name);
        h->name = xrealloc(h->name, old + n + 1);
        memcpy(h->name + old, at, n);
        h->name[old + n] = '\0';
        return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
        struct api_conn *c = P(p);
        struct api_req *r = c->req;

        if (limit_headers(c, n) < 0)
                return -1;
        if (r->n_headers == 0)
                return 0;
        struct api_header *h = &r->headers[r->n_headers - 1];
        size_t old = strlen(h->value);
        h->value = xrealloc(h->value, old + n + 1);
        memcpy(h->value + old, at, n);
        h->value[old + n] = '\0';
        r->last_was_value = true;
        return 0;
}

static int on_headers_complete(llhttp_t *p)
{
        struct api_conn *c = P(p);
        struct api_req *r = c->req;
        const char *url = buf_cstr(&r->url), *q;
        const struct api_route *table = c->lst->metrics_only ? api_metrics_routes : c->srv->routes;
        size_t n_table = c->lst->metrics_only ? api_n_metrics_routes : c->srv->n_routes;

        snprintf(r->method, sizeof(r->method), "%s", llhttp_method_name((llhttp_method_t)p->method));
        r->head = p->method == HTTP_HEAD;
        r->keepalive = llhttp_should_keep_alive(p);
        q = strchr(url, '?');
        r->path = api_url_decode(url, q ? (size_t)(q - url) : strlen(url), false);
        if (q)
                r->query = xstrdup(q + 1);
        if (!r->path || r->path[0] != '/') {
                free(r->path);
                r->path = xstrdup("/");
                c->err_status = 400;
                snprintf(c->err_msg, sizeof(c->err_msg), "invalid request path");
                return -1;
        }
        api_route_match(r, table, n_table);
        /* body limit, unless the endpoint streams its body */
        bool stream_body = r->route && (r->route->flags & API_ROUTE_STREAM_BODY);
        if (!stream_body && (p->flags & F_CONTENT_LENGTH) && p->content_length > c->srv->max_body) {
                c->err_status = 413;
                snprintf(c->err_msg, sizeof(c->err_msg), "request body is larger than %zu bytes",
                         c->srv->max_body);
                return -1;
        }
        const char *expect = api_header(r, "Expect");
        if (expect && !strcasecmp(expect, "100-continue") && p->http_major == 1 && p->http_minor >= 1)
                conn_write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
        if (stream_body && !r->version_error) {
                /* the handler runs now and takes the body as it comes */
                r->body_stream = true;
                return HPE_PAUSED;
        }
        return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
        struct api_conn *c = P(p);
        struct api_req *r = c->req;
        if (r->body_stream) {
                conn_arm_timer(c);      /* an upload times out when it stalls, not when it is long */
                if (r->on_body && !r->done)
                        r->on_body(r, at, n);
                return 0;
        }
        if (r->body.len + n > c->srv->max_body) {
                c->err_status = 413;
                snprintf(c->err_msg, sizeof(c->err_msg), "request body is larger than %zu bytes",
                         c->srv->max_body);
                return -1;
        }
        buf_add(&r->body, at, n);
        return 0;
}

static int on_message_complete(llhttp_t *p)
{
        struct api_conn *c = P(p);

        struct api_req *r = c->req;

        r->complete = true;
        if (r->body_stream && r->on_body_end && !r->done)
                r->on_body_end(r);
        return HPE_PAUSED;
}

/* ---- reading ---- */

static void conn_process(struct api_conn *c)
{
        c->processing = true;
        while (!c->closing && !c->shutting && !c->hijacked && c->in.len > 0 && (!c->req || !c->req->complete)) {
                llhttp_errno_t e = llhttp_execute(&c->parser, c->in.data, c->in.len);
                if (e == HPE_OK) {
                        buf_reset(&c->in);
                        break;
                }
                if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE) {
                        const char *pos = llhttp_get_error_pos(&c->parser);
                        size_t used = pos ? (size_t)(pos - c->in.data) : c->in.len;
                        buf_consume(&c->in, used);
                        struct api_req *r = c->req;
                        if (r && r->body_stream && !r->dispatched) {
                                /* end of headers of a streamed-body request */
                                r->dispatched = true;
                                api_req_ref(r);
                                llhttp_resume(&c->parser);
                                api_dispatch(r);
                                if (!r->done && !r->deferred && !r->responded) {
                                        berth_bug("handler for %s %s did not answer", r->method, r->path);
                                        api_reply_msg(r, 500, "internal error: no answer");
                                }
                                api_req_unref(r);
                                continue;
                        }
                        if (e == HPE_PAUSED_UPGRADE && (!r || !r->complete || r->dispatched)) {
                                /* an upgrade that no handler took: nothing more is HTTP here */
                                conn_close_after_writes(c);
                                break;
                        }
                        if (!r || !r->complete || r->dispatched) {
                                if (used == 0)
                                        break;  /* no progress: never spin */
                                continue;
                        }
                        r->dispatched = true;
                        uv_timer_stop(&c->timer);
                        api_req_ref(r);         /* the answer may drop the connection's ref */
                        api_dispatch(r);
                        if (!r->done && !r->deferred && !r->responded) {
                                berth_bug("handler for %s %s did not answer", r->method, r->path);
                                api_reply_msg(r, 500, "internal error: no answer");
                        }
                        api_req_unref(r);
                        continue;
                }
                /* a parse error or a limit hit in a callback */
                if (c->err_status) {
                        conn_fail(c, c->err_status, c->err_msg);
                } else {
                        char msg[160];
                        snprintf(msg, sizeof(msg), "malformed HTTP request: %s",
                                 llhttp_get_error_reason(&c->parser));
                        conn_fail(c, 400, msg);
                }
                buf_reset(&c->in);
                break;
        }
        c->processing = false;
        /* resume reading when a backlog of pipelined bytes has drained */
        if (!c->closing && !c->shutting && !c->reading && !c->eof && c->in.len < 1024 * 1024 &&
            !(c->req && c->req->body_paused))
                conn_read_start(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
        struct api_conn *c = h->data;

        if (c->srv->rbuf_busy) {
                /* never happens on one loop, but stay correct */
                b->base = NULL;
                b->len = 0;
                return;
        }
        c->srv->rbuf_busy = true;
        b->base = c->srv->rbuf;
        b->len = sizeof(c->srv->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
        struct api_conn *c = s->data;
        struct berth_err err = BERTH_ERR_INIT;

        if (b->base == c->srv->rbuf)
                c->srv->rbuf_busy = false;
        if (n == 0)
                return;
        if (n < 0) {
                (void)uv_read_stop(s);
                c->reading = false;
                if (n != UV_EOF) {
                        conn_close(c);
                        return;
                }
                c->eof = true;
                if (c->hijacked) {
                        struct api_req *r = c->req;
                        if (r && !r->done && r->hj_ops && r->hj_ops->on_eof)
                                r->hj_ops->on_eof(r, r->hj_data);
                        return;
                }
                /* half-close: answer what is in flight, then close.  A
                 * stream (events, logs -f) has no end to wait for: as Go's
                 * server does, the client's EOF cancels it. */
                if (!c->req || !c->req->complete || c->req->streaming)
                        conn_close(c);
                return;
        }
        struct buf plain = BUF_INIT;
        const char *data = b->base;
        size_t len = (size_t)n;
        if (c->tls) {
                int r = tls_conn_feed(c->tls, b->base, (size_t)n, &plain, &c->tls_out, &err);
                if (c->tls_out.len)
                        conn_send_buf(c, &c->tls_out);
                if (r < 0) {
                        log_debug("api: conn %llu: %s", (unsigned long long)c->id, err.msg);
                        buf_release(&plain);
                        conn_close_after_writes(c);
                        return;
                }
                data = plain.data;
                len = plain.len;
        }
        if (len == 0) {
                buf_release(&plain);
                return;
        }
        if (c->hijacked) {
                struct api_req *r = c->req;
                if (r && !r->done && r->hj_ops && r->hj_ops->on_data)
                        r->hj_ops->on_data(r, data, len, r->hj_data);
                buf_release(&plain);
                return;
        }
        buf_add(&c->in, data, len);
        buf_release(&plain);
        /* a client that pipelines faster than we answer: stop reading */
        if (c->in.len > 1024 * 1024 && c->req && c->req->complete) {
                (void)uv_read_stop(s);
                c->reading = false;
        }
        if (!c->processing)
                conn_process(c);
}

static void conn_read_start(struct api_conn *c)
{
        if (uv_read_start(&c->h.stream, on_alloc, on_read) == 0)
                c->reading = true;
        else
                conn_close(c);
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *t)
{
        struct api_conn *c = t->data;

        if (c->req && c->req->dispatched && !c->req->complete) {
                /* a streamed upload stalled: its handler is cancelled */
                log_debug("api: conn %llu: upload stalled, closing", (unsigned long long)c->id);
                conn_close(c);
                return;
        }
        if (c->req && !c->req->complete) {
                conn_fail(c, 408, "request not received in time");
                return;
        }
        log_debug("api: conn %llu idle, closing", (unsigned long long)c->id);
        conn_close(c);
}

static void conn_arm_timer(struct api_conn *c)
{
        if (c->closing || c->hijacked)
                return;
        /* idle between requests; a whole request must arrive within request_ms */
        uint64_t ms = c->req ? c->srv->request_ms : c->srv->idle_ms;
        (void)uv_timer_start(&c->timer, on_timer, ms, 0);
}

/* ---- connections ---- */

static void conn_free(struct api_conn *c)
{
        struct api_server *s = c->srv;

        if (c->prev)
                c->prev->next = c->next;
        else
                s->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->n_conns--;
        berth_metrics_conn(s->d->metrics, -1);
        buf_release(&c->in);
        buf_release(&c->tls_out);
        tls_conn_free(c->tls);
        log_debug("api: conn %llu closed", (unsigned long long)c->id);
        free(c);
        if (s->draining && s->n_conns == 0 && s->drained_cb) {
                void (*cb)(void *) = s->drained_cb;
                s->drained_cb = NULL;
                if (s->drain_timer_on)
                        uv_timer_stop(&s->drain_timer);
                cb(s->drained_data);
        }
}

static void on_conn_handle_close(uv_handle_t *h)
{
        struct api_conn *c = h->data;

        if (--c->open_handles == 0)
                conn_free(c);
}

static void conn_close(struct api_conn *c)
{
        if (c->closing)
                return;
        c->closing = true;
        conn_detach_req(c);
        uv_close((uv_handle_t *)&c->timer, on_conn_handle_close);
        uv_close((uv_handle_t *)&c->h.stream, on_conn_handle_close);
}

static void on_connection(uv_stream_t *ls, int status)
{
        struct listener *l = ls->data;
        struct api_server *s = l->srv;
        struct api_conn *c;
        int r;

        if (status < 0) {
                log_warn("api: accept on %s: %s", l->name, uv_strerror(status));
                return;
        }
        c = xcalloc(1, sizeof(*c));
        c->srv = s;
        c->lst = l;
        c->id = ++s->next_conn_id;
        if (l->tcp)
                r = uv_tcp_init(s->loop, &c->h.tcp);
        else
                r = uv_pipe_init(s->loop, &c->h.pipe, 0);
        if (r < 0) {
                free(c);
                return;
        }
        c->h.stream.data = c;
        c->open_handles = 1;
        /* account the connection before any close path can free it */
        c->next = s->conns;
        if (s->conns)
                s->conns->prev = c;
        s->conns = c;
        s->n_conns++;
        berth_metrics_conn(s->d->metrics, 1);
        uv_timer_init(s->loop, &c->timer);
        c->timer.data = c;
        c->open_handles++;
        r = uv_accept(ls, &c->h.stream);
        if (r < 0 || s->draining || s->n_conns > s->max_conns) {
                if (r == 0 && !s->draining)
                        log_warn("api: %zu connections open, refusing another on %s", s->n_conns - 1, l->name);
                c->closing = true;
                uv_close((uv_handle_t *)&c->timer, on_conn_handle_close);
                uv_close((uv_handle_t *)&c->h.stream, on_conn_handle_close);
                return;
        }
        if (l->tcp)
                (void)uv_tcp_nodelay(&c->h.tcp, 1);
        if (l->tls)
                c->tls = tls_conn_new(s->tls);
        llhttp_init(&c->parser, HTTP_REQUEST, &s->settings);
        c->parser.data = c;
        conn_arm_timer(c);
        conn_read_start(c);
        log_debug("api: conn %llu accepted on %s", (unsigned long long)c->id, l->name);
}

/* ---- the server ---- */

void api_server_reload(struct api_server *s)
{
        const struct berth_config *cfg = &s->d->cfg;

        s->max_conns = (size_t)cfg->api_max_connections;
        s->max_header = (size_t)cfg->api_max_header_size;
        s->max_headers = (size_t)cfg->api_max_headers;
        s->max_body = (size_t)cfg->api_max_body_size;
        s->idle_ms = (uint64_t)cfg->api_idle_timeout_ms;
        s->request_ms = (uint64_t)cfg->api_request_timeout_ms;
}

int api_server_new(struct berth_daemon *d, struct api_server **ret, struct berth_err *err)
{
        struct api_server *s = xcalloc(1, sizeof(*s));
        const struct berth_config *cfg = &d->cfg;
        int r;

        s->d = d;
        s->loop = d->loop;
        s->routes = api_all_routes(&s->n_routes);
        api_server_reload(s);
        llhttp_settings_init(&s->settings);
        s->settings.on_message_begin = on_message_begin;
        s->settings.on_url = on_url;
        s->settings.on_header_field = on_header_field;
        s->settings.on_header_value = on_header_value;
        s->settings.on_headers_complete = on_headers_complete;
        s->settings.on_body = on_body;
        s->settings.on_message_complete = on_message_complete;
        if (cfg->tls == 1 || cfg->tlsverify) {
                r = tls_ctx_new(cfg->tlscacert, cfg->tlscert, cfg->tlskey, cfg->tlsverify, &s->tls, err);
                if (r < 0) {
                        free(s);
                        return r;
                }
        }
        uv_timer_init(s->loop, &s->drain_timer);
        *ret = s;
        return 0;
}

int api_server_listen(struct api_server *s, const char *host, bool metrics_only, struct berth_err *err)
{
        _cleanup_free_ struct api_lfd *fds = NULL;
        size_t n = 0;
        char *unlink_path = NULL;
        int r;

        r = api_listen_fds(host, &s->d->cfg, &fds, &n, &unlink_path, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                bool tcp = fds[i].tcp;
                struct listener *l = xcalloc(1, sizeof(*l));
                l->srv = s;
                l->tcp = tcp;
                l->metrics_only = metrics_only;
                l->tls = tcp && s->tls && !metrics_only;
                l->name = xstrdup(host);
                if (i == 0)
                        l->unlink_path = unlink_path;
                r = tcp ? uv_tcp_init(s->loop, &l->h.tcp) : uv_pipe_init(s->loop, &l->h.pipe, 0);
                if (r == 0)
                        r = tcp ? uv_tcp_open(&l->h.tcp, fds[i].fd) : uv_pipe_open(&l->h.pipe, fds[i].fd);
                l->h.stream.data = l;
                if (r == 0)
                        r = uv_listen(&l->h.stream, 1024, on_connection);
                l->next = s->listeners;
                s->listeners = l;
                if (r < 0) {
                        for (size_t j = i + 1; j < n; j++)
                                close(fds[j].fd);
                        return berth_err_set(err, -r, "listen on '%s': %s", host, uv_strerror(r));
                }
                /* name the real address: a port 0 in the flag gets one from the kernel */
                char shown[128];
                snprintf(shown, sizeof(shown), "%s", host);
                if (tcp) {
                        struct sockaddr_storage ss;
                        int len = sizeof(ss);
                        char ip[64];
                        if (uv_tcp_getsockname(&l->h.tcp, (struct sockaddr *)&ss, &len) == 0) {
                                if (ss.ss_family == AF_INET6) {
                                        uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof(ip));
                                        snprintf(shown, sizeof(shown), "tcp://[%s]:%d", ip,
                                                 ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
                                } else {
                                        uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof(ip));
                                        snprintf(shown, sizeof(shown), "tcp://%s:%d", ip,
                                                 ntohs(((struct sockaddr_in *)&ss)->sin_port));
                                }
                        }
                }
                log_info("API listen on %s%s%s", shown, l->tls ? " (TLS)" : "", metrics_only ? " (metrics)" : "");
        }
        return 0;
}

void api_server_set_routes(struct api_server *s, const struct api_route *table, size_t n)
{
        s->routes = table;
        s->n_routes = n;
}

int api_server_adopt(struct api_server *s, int fd, struct berth_err *err)
{
        struct listener *l = s->adopted;
        struct api_conn *c;
        int r;

        if (!l) {
                /* not a listening socket: only carries the connection's settings */
                l = s->adopted = xcalloc(1, sizeof(*l));
                l->srv = s;
                l->name = xstrdup("adopted");
        }
        c = xcalloc(1, sizeof(*c));
        c->srv = s;
        c->lst = l;
        c->id = ++s->next_conn_id;
        r = uv_pipe_init(s->loop, &c->h.pipe, 0);
        if (r == 0)
                r = uv_pipe_open(&c->h.pipe, fd);
        if (r < 0) {
                free(c);
                return berth_err_set(err, -r, "adopt fd %d: %s", fd, uv_strerror(r));
        }
        c->h.stream.data = c;
        c->open_handles = 2;
        c->next = s->conns;
        if (s->conns)
                s->conns->prev = c;
        s->conns = c;
        s->n_conns++;
        berth_metrics_conn(s->d->metrics, 1);
        uv_timer_init(s->loop, &c->timer);
        c->timer.data = c;
        llhttp_init(&c->parser, HTTP_REQUEST, &s->settings);
        c->parser.data = c;
        conn_arm_timer(c);
        conn_read_start(c);
        return 0;
}

size_t api_server_connections(const struct api_server *s)
{
        return s->n_conns;
}

static void on_listener_close(uv_handle_t *h)
{
        struct listener *l = h->data;

        free(l->name);
        free(l->unlink_path);
        free(l);
}

static void on_drain_timeout(uv_timer_t *t)
{
        struct api_server *s = container_of(t, struct api_server, drain_timer);

        log_warn("api: shutdown timeout: closing %zu connections", s->n_conns);
        for (struct api_conn *c = s->conns, *next; c; c = next) {
                next = c->next;
                conn_close(c);
        }
}

static void on_drain_timer_close(uv_handle_t *h)
{
        free(container_of((uv_timer_t *)h, struct api_server, drain_timer));
}

void api_server_shutdown(struct api_server *s, void (*done)(void *), void *data)
{
        s->draining = true;
        s->drained_cb = done;
        s->drained_data = data;
        for (struct listener *l = s->listeners; l; l = l->next) {
                if (l->unlink_path)
                        (void)unlink(l->unlink_path);
                uv_close((uv_handle_t *)&l->h.stream, on_listener_close);
        }
        s->listeners = NULL;
        for (struct api_conn *c = s->conns, *next; c; c = next) {
                next = c->next;
                struct api_req *r = c->req;
                if (!r) {
                        conn_close(c);  /* idle */
                } else if (r->hijacked || (r->streaming && !r->done) || !r->complete) {
                        /* long-lived streams end now: their handlers are told */
                        if (r->streaming && r->on_cancel) {
                                r->on_cancel(r);
                                if (!r->done)
                                        api_stream_end(r);
                        } else {
                                conn_close(c);
                        }
                }
                /* a request being served finishes, then its connection closes */
        }
        if (s->n_conns == 0) {
                s->drained_cb = NULL;
                done(data);
                return;
        }
        s->drain_timer_on = true;
        uv_timer_start(&s->drain_timer, on_drain_timeout, (uint64_t)s->d->cfg.shutdown_timeout * 1000 + 1, 0);
}

struct api_server *api_server_free(struct api_server *s)
{
        if (!s)
                return NULL;
        for (struct listener *l = s->listeners; l; l = l->next) {
                if (l->unlink_path)
                        (void)unlink(l->unlink_path);
                uv_close((uv_handle_t *)&l->h.stream, on_listener_close);
        }
        s->listeners = NULL;
        for (struct api_conn *c = s->conns; c; c = c->next)
                conn_close(c);
        s->drained_cb = NULL;
        s->tls = tls_ctx_free(s->tls);
        if (s->adopted) {
                free(s->adopted->name);
                free(s->adopted);
                s->adopted = NULL;
        }
        /* freed by the timer's close callback: the caller runs the loop once more */
        uv_close((uv_handle_t *)&s->drain_timer, on_drain_timer_close);
        return NULL;
}
