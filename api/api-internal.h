/* SPDX-License-Identifier: Apache-2.0
 * api/api-internal.h -- private to api/: connections, requests, the router,
 * replies, streams and hijacking.
 *
 * Invariants:
 * - one request at a time per connection: a pipelined request waits (parser
 *   paused, bytes kept in conn->in) until the previous response is done;
 * - a handler answers exactly once: api_reply*, api_stream_start..end, or
 *   api_hijack; an async handler calls api_req_defer() first and keeps a ref
 *   (api_req_ref), checks req->cancelled when it completes, then unrefs;
 * - connections are freed only from their close callbacks.
 */
#ifndef BERTH_API_INTERNAL_H
#define BERTH_API_INTERNAL_H

#include <uv.h>

#include "api/api.h"
#include "daemon/daemon.h"

struct api_req;
struct api_conn;
struct tls_ctx;
struct tls_conn;

typedef void (*api_handler_fn)(struct api_req *req);

enum api_route_flags {
        API_ROUTE_STREAM_BODY = 1 << 0, /* body may exceed the limit (load, archive) */
        API_ROUTE_NO_VERSION = 1 << 1,  /* served only without /vN.N (metrics) */
};

struct api_route {
        const char *method;     /* "GET", "HEAD", "POST", "PUT", "DELETE" */
        const char *pattern;    /* "/containers/{name}/json"; {x*} spans segments */
        api_handler_fn fn;
        unsigned flags;
};

#define API_MAX_PARAMS 4

struct api_header {
        char *name;
        char *value;
};

struct api_hijack_ops {
        /* bytes from the client (unframed) */
        void (*on_data)(struct api_req *req, const char *p, size_t n, void *data);
        /* the client half-closed: end of its input; the connection stays
         * writable */
        void (*on_eof)(struct api_req *req, void *data);
        /* the connection is gone (after api_hijack_close or a client abort);
         * called exactly once for every hijacked request */
        void (*on_close)(struct api_req *req, void *data);
};

struct api_req {
        struct api_conn *conn;
        struct api_server *srv;
        struct berth_daemon *d;
        uint64_t id;
        int refs;
        char method[12];
        struct buf url;
        char *path;             /* decoded path without the /vN.N prefix */
        char *query;            /* raw query string (no '?'), may be NULL */
        int api_minor;          /* the client's version: 1.<api_minor> */
        bool versioned;         /* the path had a /vN.N prefix */
        bool version_error;     /* too new/old, answered 400 */
        char version_str[16];
        struct api_header *headers;
        size_t n_headers;
        size_t header_bytes;
        bool last_was_value;
        struct buf body;
        bool complete;          /* the whole request (with body) arrived */
        bool dispatched;        /* the handler has run */
        bool body_stream;       /* API_ROUTE_STREAM_BODY: body goes to on_body */
        bool body_paused;
        /* streamed bodies: set by the handler when it runs (at the end of
         * the headers); on_body_end runs once the whole body arrived */
        void (*on_body)(struct api_req *req, const char *p, size_t n);
        void (*on_body_end)(struct api_req *req);
        const struct api_route *route;
        bool method_mismatch;
        char *params[API_MAX_PARAMS];
        bool keepalive;
        bool head;
        bool responded;         /* headers of the response written */
        bool streaming;         /* chunked response in progress */
        bool deferred;
        bool done;
        bool cancelled;         /* the connection died before the answer */
        bool hijacked;
        bool hj_closed;         /* hj_ops->on_close ran */
        int status;
        int64_t start_ns;
        struct buf extra_headers;
        /* decoded query pairs, parsed on first use */
        char **qkeys, **qvals;
        size_t n_query;
        bool query_parsed;
        bool query_bad;
        /* for handlers that keep state */
        void *data;
        void (*on_cancel)(struct api_req *req);
        const struct api_hijack_ops *hj_ops;
        void *hj_data;
};

/* ---- requests ---- */
const char *api_header(const struct api_req *r, const char *name);     /* case-insensitive */
const char *api_param(const struct api_req *r, size_t i);
/* Decoded query value of key, or NULL; the string lives as long as r. */
const char *api_query(struct api_req *r, const char *key);
bool api_query_bool(struct api_req *r, const char *key, bool dflt);
void api_req_defer(struct api_req *r);
void api_req_ref(struct api_req *r);
void api_req_unref(struct api_req *r);
/* Streamed request bodies: stop and restart reading the client's socket
 * (at most one read buffer more arrives after a pause). */
void api_body_pause(struct api_req *r);
void api_body_resume(struct api_req *r);
/* Bytes the client has queued for it but not yet taken (backpressure). */
size_t api_req_write_queue(const struct api_req *r);

/* ---- replies ---- */
void api_add_header(struct api_req *r, const char *name, const char *value);
void api_reply(struct api_req *r, int status, const char *ctype, const void *body, size_t len);
void api_reply_json(struct api_req *r, int status, cJSON *j);  /* takes j */
void api_reply_status(struct api_req *r, int status);           /* no body: 204, 304, 201 */
void api_reply_msg(struct api_req *r, int status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* The one errno -> HTTP status table (api/status.c); logs once. */
void api_reply_error(struct api_req *r, int rc, const struct berth_err *err);
int api_status_from_errno(int code, bool public);
const char *api_status_text(int status);

/* chunked stream */
void api_stream_start(struct api_req *r, int status, const char *ctype);
void api_stream_write(struct api_req *r, const void *p, size_t n);
void api_stream_end(struct api_req *r);

/* hijack: 101 UPGRADED, then raw bytes both ways */
void api_hijack(struct api_req *r, const char *ctype, const struct api_hijack_ops *ops, void *data);
void api_hijack_write(struct api_req *r, const void *p, size_t n);
/* Finish: flush what is queued, close the connection. */
void api_hijack_close(struct api_req *r);

/* ---- the 8-byte multiplexed stream framing (api/stream.c) ---- */
enum api_stream_type { API_STDIN = 0, API_STDOUT = 1, API_STDERR = 2, API_SYSTEMERR = 3 };
#define API_FRAME_HEADER 8
/* Append one frame (header + payload) to b. */
void api_frame_append(struct buf *b, enum api_stream_type t, const void *p, size_t n);
/* Incremental demultiplexer (tests, and reading framed input). */
struct api_demux {
        unsigned char hdr[API_FRAME_HEADER];
        size_t hdr_len;
        size_t remaining;
        int stream;
};
/* Feed n bytes; calls cb for each payload piece.  Returns 0 or -EBADMSG on a
 * bad stream type. */
int api_demux_feed(struct api_demux *dm, const char *p, size_t n,
                   void (*cb)(int stream, const char *p, size_t n, void *data), void *data);

/* ---- router (api/router.c) ---- */
/* Parse "/v1.44/..." into *minor and the rest.  Returns 1 if versioned, 0 if
 * not, -EINVAL when the prefix is malformed (then the path is not found). */
int api_split_version(const char *path, int *major, int *minor, const char **rest);
/* Match path against the route table; fills r->route, r->params.  With no
 * route of that method but one of another, sets r->method_mismatch. */
void api_route_match(struct api_req *r, const struct api_route *table, size_t n);
extern const struct api_route api_routes[];
extern const size_t api_n_routes;
/* Tables of the other resource files, merged with api_routes at startup. */
extern const struct api_route api_network_routes[];
extern const size_t api_n_network_routes;
extern const struct api_route api_container_routes[];
extern const size_t api_n_container_routes;
extern const struct api_route api_stream_routes[];
extern const size_t api_n_stream_routes;
extern const struct api_route api_exec_routes[];
extern const size_t api_n_exec_routes;
extern const struct api_route api_fs_routes[];
extern const size_t api_n_fs_routes;
/* stats, update, resize (api/stats.c) */
extern const struct api_route api_stats_routes[];
extern const size_t api_n_stats_routes;
/* "SIGTERM", "TERM", "15" -> the number; -EINVAL otherwise (api/streams.c) */
int api_parse_signal(const char *s);
/* The full table (built once; the first match wins, api_routes first). */
const struct api_route *api_all_routes(size_t *ret_n);
extern const struct api_route api_metrics_routes[];
extern const size_t api_n_metrics_routes;
/* Replace the route table (unit tests serve their own handlers). */
void api_server_set_routes(struct api_server *s, const struct api_route *table, size_t n);
/* Dispatch a complete request (version checks, 404/405, handler). */
void api_dispatch(struct api_req *r);

/* ---- query strings and filters (api/query.c) ---- */
/* Percent-decode (with '+' as space when form is true).  Returns a new
 * string or NULL on a bad escape. */
char *api_url_decode(const char *s, size_t n, bool form);
/* Docker filters: {"k":{"v":true}} or {"k":["v"]} -> {"k":["v",...]}.
 * Returns 0 and *ret (NULL for no filters) or -EINVAL with err. */
int api_filters_parse(const char *text, cJSON **ret, struct berth_err *err);
/* The request's `filters` parsed (and checked against allowed, when not
 * NULL); on a bad one, answers 400 and returns -1. */
int api_query_filters(struct api_req *r, const char *const *allowed, cJSON **ret);
/* 500 when the daemon has no image store; returns -1 after answering. */
int api_need_storage(struct api_req *r);
/* The container named by the path's first parameter, or NULL after a 404
 * (or 400 for an ambiguous prefix) was answered. */
struct berth_container *api_container_param(struct api_req *r);
/* Check that every key of filters is in allowed (NULL-terminated). */
int api_filters_check(const cJSON *filters, const char *const *allowed, struct berth_err *err);
/* Does filter key k hold value v?  (absent key: true) */
bool api_filters_has(const cJSON *filters, const char *k, const char *v);
bool api_filters_present(const cJSON *filters, const char *k);
/* Label filter: every "k" or "k=v" of key "label" matched by labels. */
bool api_filters_match_labels(const cJSON *filters, const char *key, const cJSON *labels);
/* Docker timestamps for since/until: "1700000000", "1700000000.123456789",
 * RFC 3339, or a duration ("10m", "1h30m") before now.  Nanoseconds. */
int api_parse_timestamp(const char *s, int64_t now_ns, int64_t *ret);

/* ---- listeners (api/listen.c) ---- */
struct api_lfd {
        int fd;
        bool tcp;
};
/* Sockets for one -H value; *ret_unlink is the unix socket path we made. */
int api_listen_fds(const char *host, const struct berth_config *cfg, struct api_lfd **ret, size_t *ret_n,
                   char **ret_unlink, struct berth_err *err);
int api_listen_tcp(const char *hostport, int *ret_fd, struct berth_err *err);
int api_split_hostport(const char *hp, char *host, size_t hostlen, char *port, size_t portlen);

/* ---- blocking steps on the thread pool (api/work.c) ---- */
struct api_work {
        uv_work_t uv;
        struct api_req *req;
        struct berth_daemon *d;
        int (*fn)(struct api_work *);   /* runs on a pool thread */
        void (*done)(struct api_work *); /* runs on the loop unless the request died */
        int rc;
        struct berth_err err;
        cJSON *in, *out;                /* owned: freed after done */
        char *s1, *s2;                  /* owned */
        bool b1, b2;
        int64_t n1;
};
struct api_work *api_work_new(struct api_req *r);
/* Defers r, holds a ref, runs fn on the pool and done on the loop. */
void api_work_queue(struct api_work *aw, int (*fn)(struct api_work *), void (*done)(struct api_work *));
/* done helper: error -> api_reply_error; else out as JSON (or 204). */
void api_work_reply_json(struct api_work *aw, int status);
/* done callback: api_work_reply_json(aw, 200) */
void api_work_reply_200(struct api_work *aw);

/* Parse the request body as a JSON object: 400 with a message otherwise
 * (empty body gives an empty object when allow_empty). */
int api_body_json(struct api_req *r, bool allow_empty, cJSON **ret, struct berth_err *err);

/* ---- handlers ---- */
void api_h_ping(struct api_req *r);
void api_h_version(struct api_req *r);
void api_h_info(struct api_req *r);
void api_h_events(struct api_req *r);
void api_h_metrics(struct api_req *r);
void api_h_images_list(struct api_req *r);
void api_h_images_load(struct api_req *r);
void api_h_images_create(struct api_req *r);
void api_h_images_prune(struct api_req *r);
void api_h_images_get(struct api_req *r);
void api_h_image_inspect(struct api_req *r);
void api_h_image_history(struct api_req *r);
void api_h_image_get(struct api_req *r);
void api_h_image_tag(struct api_req *r);
void api_h_image_remove(struct api_req *r);
void api_h_system_df(struct api_req *r);
void api_h_volumes_list(struct api_req *r);
void api_h_volume_create(struct api_req *r);
void api_h_volume_inspect(struct api_req *r);
void api_h_volume_remove(struct api_req *r);
void api_h_volumes_prune(struct api_req *r);

/* ---- TLS (api/tls.c: the only file that includes OpenSSL) ---- */
int tls_ctx_new(const char *ca, const char *cert, const char *key, bool verify, struct tls_ctx **ret,
                struct berth_err *err);
struct tls_ctx *tls_ctx_free(struct tls_ctx *t);
struct tls_conn *tls_conn_new(struct tls_ctx *t);
struct tls_conn *tls_conn_free(struct tls_conn *c);
/* Feed ciphertext; plaintext is appended to plain, bytes to send to out.
 * Returns 0, or -EPROTO (handshake or record failure, message in err). */
int tls_conn_feed(struct tls_conn *c, const char *p, size_t n, struct buf *plain, struct buf *out,
                  struct berth_err *err);
/* Encrypt plaintext; ciphertext appended to out. */
int tls_conn_write(struct tls_conn *c, const void *p, size_t n, struct buf *out);
/* close_notify into out */
void tls_conn_shutdown(struct tls_conn *c, struct buf *out);

#endif
