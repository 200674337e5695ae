/* SPDX-License-Identifier: Apache-2.0
 * runtime/monitor-internal.h -- berth-monitor's own parts: the json-file
 * writer (monitor-log.c) and the runtime invocation (monitor-rt.c).
 * Single-threaded; nothing here logs except where said.
 */
#ifndef BERTH_MONITOR_INTERNAL_H
#define BERTH_MONITOR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/lib.h"
#include "runtime/monitor.h"

/* ---- monitor-log.c: Docker's json-file format ---- */

struct mon_log {
        int fd;                 /* -1: logging off */
        char *path;
        int64_t size;           /* bytes in the current file, pending included */
        int64_t max_size;       /* 0: no rotation */
        int max_file;
        const char *attrs;      /* raw JSON object or NULL */
        struct buf pending;     /* formatted lines not yet written */
        bool failed;            /* a write failed: reported once */
};

/* One output stream cut into lines the way Docker's copier does. */
struct mon_stream {
        const char *name;       /* "stdout" / "stderr" */
        size_t n;
        bool partial;           /* a piece of the current line was logged */
        int64_t partial_ns;     /* its time, shared by the rest of the line */
        char line[MON_LOG_LINE_MAX];
};

/* Open (append) path; size from the file's end.  max_file >= 1. */
int mon_log_open(struct mon_log *l, const char *path, int64_t max_size, int max_file,
                 const char *attrs, struct berth_err *err);
void mon_log_close(struct mon_log *l);
/* Write the pending lines (rotating first when due).  -errno on failure. */
int mon_log_flush(struct mon_log *l);

void mon_stream_init(struct mon_stream *s, const char *name);
/* Feed output bytes; complete lines (and 16K pieces) go to l's pending. */
void mon_stream_feed(struct mon_stream *s, struct mon_log *l, const char *data, size_t len);
/* End of the stream: what is left is logged without a newline. */
void mon_stream_eof(struct mon_stream *s, struct mon_log *l);

/* Append s[0..n) as a JSON string (quotes included), escaping exactly as
 * Docker's jsonlog does: <, >, & and controls as \u00XX, \n \r \" \\,
 * invalid UTF-8 bytes as \ufffd, U+2028/2029 escaped. */
void mon_json_string(struct buf *b, const char *s, size_t n);
/* Go's time.RFC3339Nano in UTC: fraction without trailing zeros. */
void mon_time_rfc3339nano(int64_t ns, char *out, size_t outlen);
/* Fixed 9 fraction digits; 0 gives "0001-01-01T00:00:00Z". */
void mon_time_rfc3339fixed(int64_t ns, char *out, size_t outlen);
/* "10m" -> 10000000 (powers of 1000, as units.FromHumanSize); -EINVAL. */
int mon_parse_size(const char *s, int64_t *ret);

/* Clock for log lines; tests replace it through mon_log_clock. */
extern int64_t (*mon_log_clock)(void);

/* ---- monitor-rt.c: running the runtime ---- */

struct mon_rt {
        const char *runtime;
        char **args;            /* global args */
        int nargs;
        const char *state_dir;
        char oom_adj[16];       /* written to the runtime child's oom_score_adj; "" none */
        int timeout_ms;
};

struct mon_rt_io {
        int in, out, err;       /* fds for the runtime's stdio (-1: /dev/null) */
        const char *cwd;        /* NULL: "/" */
        int console_listen;     /* listening console socket, or -1 */
        int console_fd;         /* out: the received pty master, or -1 */
};

/* Run RUNTIME [args] --log STATE/runtime.log --log-format json CMD...
 * (argv ends with NULL) and wait for it (bounded by timeout_ms).  Returns
 * the wait status (>= 0) or -errno when it could not run.  On failure *msg
 * gets the last error of the runtime's json log, or stays "". */
int mon_rt_run(const struct mon_rt *rt, const char *const *argv, struct mon_rt_io *io,
               char *msg, size_t msglen);
/* The last "level":"error" msg of a runtime json log (text), or -ENOENT. */
int mon_rt_log_error(const char *data, size_t len, char *msg, size_t msglen);
/* Keep the last non-empty line of text (trimmed) in msg. */
void mon_rt_last_line(const char *text, size_t len, char *msg, size_t msglen);
/* Receive one fd over SCM_RIGHTS from a unix socket; -errno. */
int mon_recv_fd(int sock);

#endif
