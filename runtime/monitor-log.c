/* SPDX-License-Identifier: Apache-2.0
 * runtime/monitor-log.c -- berth-monitor's json-file log: Docker's line
 * format, byte for byte, its 16K line pieces and its max-size/max-file
 * rotation (log, log.1, log.2 ...). */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "runtime/monitor-internal.h"

int64_t (*mon_log_clock)(void) = berth_now_ns;

/* ---- JSON string, as moby's jsonlog ffjsonWriteJSONBytesAsString ---- */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if invalid.
 * Same acceptance as Go's utf8.DecodeRune: no overlongs, no surrogates,
 * nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
        unsigned char c = s[0];
        unsigned char lo = 0x80, hi = 0xbf;
        size_t len;
        uint32_t v;

        if (c >= 0xc2 && c <= 0xdf) {
                len = 2;
                v = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
                len = 3;
                v = c & 0x0f;
                if (c == 0xe0)
                        lo = 0xa0;
                else if (c == 0xed)
                        hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
                len = 4;
                v = c & 0x07;
                if (c == 0xf0)
                        lo = 0x90;
                else if (c == 0xf4)
                        hi = 0x8f;
        } else {
                return 0;
        }
        if (n < len || s[1] < lo || s[1] > hi)
                return 0;
        v = (v << 6) | (s[1] & 0x3f);
        for (size_t i = 2; i < len; i++) {
                if (s[i] < 0x80 || s[i] > 0xbf)
                        return 0;
                v = (v << 6) | (s[i] & 0x3f);
        }
        *cp = v;
        return len;
}

void mon_json_string(struct buf *b, const char *str, size_t n)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *s = (const unsigned char *)str;
        size_t start = 0, i = 0;

        buf_grow(b, n + 2);
        buf_addc(b, '"');
        while (i < n) {
                unsigned char c = s[i];
                uint32_t cp = 0;
                size_t len;

                if (c < 0x80) {
                        if (c >= 0x20 && c != '\\' && c != '"' && c != '<' && c != '>' && c != '&') {
                                i++;
                                continue;
                        }
                        buf_add(b, s + start, i - start);
                        if (c == '\\' || c == '"') {
                                buf_addc(b, '\\');
                                buf_addc(b, (char)c);
                        } else if (c == '\n') {
                                buf_add(b, "\\n", 2);
                        } else if (c == '\r') {
                                buf_add(b, "\\r", 2);
                        } else {
                                char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf] };
                                buf_add(b, u, sizeof(u));
                        }
                        start = ++i;
                        continue;
                }
                len = utf8_seq(s + i, n - i, &cp);
                if (len == 0) {
                        buf_add(b, s + start, i - start);
                        buf_add(b, "\\ufffd", 6);
                        start = ++i;
                        continue;
                }
                if (cp == 0x2028 || cp == 0x2029) {
                        buf_add(b, s + start, i - start);
                        buf_add(b, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
                        i += len;
                        start = i;
                        continue;
                }
                i += len;
        }
        buf_add(b, s + start, n - start);
        buf_addc(b, '"');
}

/* ---- time ---- */

static int fmt_base(int64_t ns, char *out, size_t outlen, long *frac)
{
        time_t sec = (time_t)(ns / 1000000000);
        struct tm tm;

        *frac = (long)(ns % 1000000000);
        if (*frac < 0) {
                *frac += 1000000000;
                sec--;
        }
        if (!gmtime_r(&sec, &tm))
                return snprintf(out, outlen, "0001-01-01T00:00:00");
        return snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void mon_time_rfc3339nano(int64_t ns, char *out, size_t outlen)
{
        long frac;
        int n = fmt_base(ns, out, outlen, &frac);
        char digits[10];
        int nd = 9;

        if (n < 0 || (size_t)n >= outlen)
                return;
        if (frac) {
                (void)snprintf(digits, sizeof(digits), "%09ld", frac);
                while (nd > 0 && digits[nd - 1] == '0')
                        nd--;
                (void)snprintf(out + n, outlen - (size_t)n, ".%.*sZ", nd, digits);
        } else {
                (void)snprintf(out + n, outlen - (size_t)n, "Z");
        }
}

void mon_time_rfc3339fixed(int64_t ns, char *out, size_t outlen)
{
        long frac;
        int n;

        if (ns == 0) {
                (void)snprintf(out, outlen, "0001-01-01T00:00:00Z");
                return;
        }
        n = fmt_base(ns, out, outlen, &frac);
        if (n < 0 || (size_t)n >= outlen)
                return;
        (void)snprintf(out + n, outlen - (size_t)n, ".%09ldZ", frac);
}

int mon_parse_size(const char *s, int64_t *ret)
{
        const char *p = s;
        double v = 0, scale = 1;
        bool digits = false;

        while (*p >= '0' && *p <= '9') {
                v = v * 10 + (*p++ - '0');
                digits = true;
        }
        if (*p == '.') {
                double f = 0.1;

                p++;
                if (!(*p >= '0' && *p <= '9'))
                        return -EINVAL;
                while (*p >= '0' && *p <= '9') {
                        v += (*p++ - '0') * f;
                        f /= 10;
                }
        }
        if (!digits)
                return -EINVAL;
        if (*p == ' ')
                p++;
        switch (*p) {
        case 'k': case 'K': scale = 1e3; p++; break;
        case 'm': case 'M': scale = 1e6; p++; break;
        case 'g': case 'G': scale = 1e9; p++; break;
        case 't': case 'T': scale = 1e12; p++; break;
        case 'p': case 'P': scale = 1e15; p++; break;
        default: break;
        }
        if (*p == 'i' || *p == 'I')
                p++;
        if (*p == 'b' || *p == 'B')
                p++;
        if (*p)
                return -EINVAL;
        v *= scale;
        if (v > 9e18)
                return -ERANGE;
        *ret = (int64_t)v;
        return 0;
}

/* ---- the file ---- */

int mon_log_open(struct mon_log *l, const char *path, int64_t max_size, int max_file,
                 const char *attrs, struct berth_err *err)
{
        struct stat st;

        memset(l, 0, sizeof(*l));
        buf_init(&l->pending);
        l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (l->fd < 0)
                return berth_err_set(err, errno, "open log '%s': %s", path, strerror(errno));
        if (fstat(l->fd, &st) < 0) {
                int e = errno;

                close(l->fd);
                l->fd = -1;
                return berth_err_set(err, e, "stat log '%s': %s", path, strerror(e));
        }
        l->path = xstrdup(path);
        l->size = st.st_size;
        l->max_size = max_size;
        l->max_file = max_file < 1 ? 1 : max_file;
        l->attrs = attrs;
        return 0;
}

void mon_log_close(struct mon_log *l)
{
        if (l->fd >= 0) {
                (void)mon_log_flush(l);
                close(l->fd);
        }
        l->fd = -1;
        buf_release(&l->pending);
        free(l->path);
        l->path = NULL;
}

static void log_failed(struct mon_log *l, const char *what, int e)
{
        if (!l->failed)
                log_error("log '%s': %s: %s (output is being dropped)", l->path, what, strerror(e));
        l->failed = true;
}

static int log_write_pending(struct mon_log *l)
{
        size_t off = 0;

        while (off < l->pending.len) {
                ssize_t n = write(l->fd, l->pending.data + off, l->pending.len - off);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int e = errno;

                        log_failed(l, "write", e);
                        buf_reset(&l->pending);
                        return -e;
                }
                off += (size_t)n;
                l->size += n;
        }
        if (l->failed) {
                log_info("log '%s': writing again", l->path);
                l->failed = false;
        }
        buf_reset(&l->pending);
        /* a burst may have grown the buffer: give the memory back */
        if (l->pending.cap > 64 * 1024)
                buf_release(&l->pending);
        return 0;
}

static void log_rotate(struct mon_log *l)
{
        char from[PATH_MAX], to[PATH_MAX];

        close(l->fd);
        if (l->max_file >= 2) {
                (void)snprintf(to, sizeof(to), "%s.%d", l->path, l->max_file - 1);
                if (unlink(to) < 0 && errno != ENOENT)
                        log_warn("rotate: remove '%s': %s", to, strerror(errno));
                for (int i = l->max_file - 1; i > 1; i--) {
                        (void)snprintf(to, sizeof(to), "%s.%d", l->path, i);
                        (void)snprintf(from, sizeof(from), "%s.%d", l->path, i - 1);
                        if (rename(from, to) < 0 && errno != ENOENT)
                                log_warn("rotate: rename '%s': %s", from, strerror(errno));
                }
                (void)snprintf(to, sizeof(to), "%s.1", l->path);
                if (rename(l->path, to) < 0 && errno != ENOENT)
                        log_warn("rotate: rename '%s': %s", l->path, strerror(errno));
        } else if (unlink(l->path) < 0 && errno != ENOENT) {
                log_warn("rotate: remove '%s': %s", l->path, strerror(errno));
        }
        l->fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        if (l->fd < 0) {
                log_failed(l, "reopen after rotation", errno);
                l->fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        }
        l->size = 0;
}

int mon_log_flush(struct mon_log *l)
{
        if (l->fd < 0 || l->pending.len == 0)
                return 0;
        return log_write_pending(l);
}

/* Docker checks before each entry: rotate when the file has reached
 * max-size, then write the entry whole. */
static void log_entry(struct mon_log *l, const char *stream, const char *text, size_t n,
                      bool newline, int64_t ns)
{
        char ts[48];

        if (l->max_size > 0 && l->size + (int64_t)l->pending.len >= l->max_size) {
                (void)log_write_pending(l);
                log_rotate(l);
        }
        buf_add(&l->pending, "{\"log\":", 7);
        if (newline) {
                /* the "\n" goes inside the string: escape text, then add it */
                mon_json_string(&l->pending, text, n);
                l->pending.len--;       /* drop the closing quote */
                buf_add(&l->pending, "\\n\"", 3);
        } else {
                mon_json_string(&l->pending, text, n);
        }
        buf_addf(&l->pending, ",\"stream\":\"%s\"", stream);
        if (l->attrs) {
                buf_adds(&l->pending, ",\"attrs\":");
                buf_adds(&l->pending, l->attrs);
        }
        mon_time_rfc3339nano(ns, ts, sizeof(ts));
        buf_addf(&l->pending, ",\"time\":\"%s\"}\n", ts);
}

void mon_stream_init(struct mon_stream *s, const char *name)
{
        s->name = name;
        s->n = 0;
        s->partial = false;
        s->partial_ns = 0;
}

static void stream_line(struct mon_stream *s, struct mon_log *l, const char *p, size_t n)
{
        int64_t ns = s->partial ? s->partial_ns : mon_log_clock();

        log_entry(l, s->name, p, n, true, ns);
        s->partial = false;
}

static void stream_piece(struct mon_stream *s, struct mon_log *l, const char *p, size_t n)
{
        if (!s->partial) {
                s->partial = true;
                s->partial_ns = mon_log_clock();
        }
        log_entry(l, s->name, p, n, false, s->partial_ns);
}

void mon_stream_feed(struct mon_stream *s, struct mon_log *l, const char *data, size_t len)
{
        while (len > 0) {
                size_t take = sizeof(s->line) - s->n;
                size_t p = 0;
                char *nl;

                if (take > len)
                        take = len;
                memcpy(s->line + s->n, data, take);
                s->n += take;
                data += take;
                len -= take;
                while ((nl = memchr(s->line + p, '\n', s->n - p))) {
                        size_t q = (size_t)(nl - (s->line + p));

                        stream_line(s, l, s->line + p, q);
                        p += q + 1;
                }
                if (p == 0 && s->n == sizeof(s->line)) {
                        stream_piece(s, l, s->line, s->n);
                        s->n = 0;
                } else if (p > 0) {
                        memmove(s->line, s->line + p, s->n - p);
                        s->n -= p;
                }
        }
}

void mon_stream_eof(struct mon_stream *s, struct mon_log *l)
{
        if (s->n > 0)
                stream_piece(s, l, s->line, s->n);
        s->n = 0;
        s->partial = false;
}
