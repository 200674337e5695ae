/* SPDX-License-Identifier: Apache-2.0
 * lib/lib.h -- what every berth folder shares: the error type, logging,
 * cleanup macros, allocation that aborts on OOM, growable buffers, JSON and
 * atomic-file helpers.  Depends on libc, libuv and cJSON only.
 *
 * Conventions: fallible functions return 0 (or a count) on success and a
 * negative errno on failure, filling *err when one is passed.  Library code
 * does not log; the caller that decides the outcome logs once.
 */
#ifndef BERTH_LIB_H
#define BERTH_LIB_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define BERTH_ERR_MSG_MAX 256

/* An error with context.  Lives on the stack, never allocates. */
struct berth_err {
        int code;               /* positive errno */
        bool public;            /* raised on purpose: api maps code to a status */
        char msg[BERTH_ERR_MSG_MAX];
};

#define BERTH_ERR_INIT { 0, false, { 0 } }

/* Set *err (may be NULL) and return -code.  code is a positive errno. */
int berth_err_set(struct berth_err *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Like berth_err_set() but marks the error public (validation errors whose
 * errno decides the HTTP status). */
int berth_err_pub(struct berth_err *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Prefix the message with "context: "; returns -err->code. */
int berth_err_wrap(struct berth_err *err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
void berth_err_clear(struct berth_err *err);

/* ---- allocation: abort on OOM ---- */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void berth_oom(void);

/* ---- cleanup ---- */
static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                (void)close(*fd);
                errno = saved;
        }
}
static inline void json_deletep(cJSON **j) { cJSON_Delete(*j); }
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_json_ _cleanup_(json_deletep)
#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -1; _t; })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#ifndef container_of
#define container_of(ptr, type, member) \
        ((type *)((char *)(ptr) - offsetof(type, member)))
#endif
#define STRLEN(s) (sizeof(s) - 1)

/* ---- logging ---- */
enum berth_log_level {
        BERTH_LOG_ALERT = 0,    /* broken invariant */
        BERTH_LOG_ERROR,
        BERTH_LOG_WARN,
        BERTH_LOG_INFO,
        BERTH_LOG_DEBUG,
};
/* Parse "debug|info|warn|error|fatal|alert" (dockerd names); -EINVAL otherwise. */
int berth_log_level_parse(const char *s);
void berth_log_set_level(int level);
int berth_log_get_level(void);
void berth_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_alert(...) berth_log(BERTH_LOG_ALERT, __VA_ARGS__)
#define log_error(...) berth_log(BERTH_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) berth_log(BERTH_LOG_WARN, __VA_ARGS__)
#define log_info(...) berth_log(BERTH_LOG_INFO, __VA_ARGS__)
#define log_debug(...) berth_log(BERTH_LOG_DEBUG, __VA_ARGS__)
#define berth_bug(...) berth_log(BERTH_LOG_ALERT, "BUG: " __VA_ARGS__)

/* ---- growable byte buffer ---- */
struct buf {
        char *data;     /* always NUL-terminated when len > 0 or after buf_cstr */
        size_t len;
        size_t cap;
};
#define BUF_INIT { NULL, 0, 0 }
void buf_init(struct buf *b);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);
void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap);
/* Drop the first n bytes. */
void buf_consume(struct buf *b, size_t n);
const char *buf_cstr(struct buf *b);
/* Hand the data out; the buffer is left empty. */
char *buf_detach(struct buf *b, size_t *ret_len);

/* ---- files ---- */
/* Write data to path atomically: temp file in the same dir, fsync, rename,
 * fsync of the directory when the name is new (a replaced file is whole
 * either way).  Blocking: call from a worker or at startup. */
int berth_write_file_atomic(const char *path, const void *data, size_t len, int mode,
                            struct berth_err *err);
/* The same without fsync: readers never see a partial file, but a power
 * loss may lose it.  For files rebuilt at every use (bundles, /etc files
 * of a start, files under the exec-root, which lives on tmpfs). */
int berth_write_file_volatile(const char *path, const void *data, size_t len, int mode,
                              struct berth_err *err);
/* Read a whole file (at most max bytes, else -EFBIG).  *ret is NUL-terminated. */
int berth_read_file(const char *path, size_t max, char **ret, size_t *ret_len,
                    struct berth_err *err);
/* rm -rf that never crosses a mount point nor follows symlinks.  Blocking. */
int berth_remove_tree(const char *path);
/* mkdir -p with mode. */
int berth_mkdir_p(const char *path, int mode);

/* ---- JSON (cJSON) ---- */
/* Parse bytes (not necessarily NUL-terminated).  Depth and size are checked.
 * On error returns -EINVAL and a message with the byte offset. */
int berth_json_parse(const char *data, size_t len, cJSON **ret, struct berth_err *err);
/* Compact JSON of j followed by '\n', appended to b. */
void berth_json_append(struct buf *b, const cJSON *j);
const char *berth_json_str(const cJSON *obj, const char *key);  /* NULL if absent/not string */
/* A JSON number as int64, clamped to its range (a cast of 1e30 or NaN is
 * undefined); dflt when v is not a number or NaN. */
int64_t berth_json_int64(const cJSON *v, int64_t dflt);
/* cJSON's creators abort on OOM through cJSON_InitHooks (berth_json_init). */
void berth_json_init(void);

/* ---- strings and time ---- */
bool berth_str_has_prefix(const char *s, const char *prefix);
/* Docker's boolean query values: false iff "", "0", "no", "false", "none". */
bool berth_parse_bool(const char *s);
/* Strict decimal parsing into *ret; -EINVAL or -ERANGE. */
int berth_parse_int64(const char *s, int64_t *ret);
/* RFC 3339 with nanoseconds in UTC: "2026-11-29T02:11:34.505112863Z". out >= 40 bytes. */
void berth_time_rfc3339(int64_t sec, long nsec, char *out, size_t outlen);
/* Realtime clock in nanoseconds. */
int64_t berth_now_ns(void);
/* Random bytes from getrandom(2) as lowercase hex (2*n chars + NUL in out). */
int berth_random_hex(char *out, size_t n);

#endif
