/* SPDX-License-Identifier: Apache-2.0
 * api/query.c -- query strings, Docker's filters JSON and timestamps. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api-internal.h"

static int hexval(int c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        c = tolower(c);
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

char *api_url_decode(const char *s, size_t n, bool form)
{
        char *out = xmalloc(n + 1), *o = out;

        for (size_t i = 0; i < n; i++) {
                if (s[i] == '%') {
                        int hi, lo;
                        if (i + 2 >= n || (hi = hexval((unsigned char)s[i + 1])) < 0 ||
                            (lo = hexval((unsigned char)s[i + 2])) < 0) {
                                free(out);
                                return NULL;
                        }
                        char ch = (char)(hi << 4 | lo);
                        if (ch == '\0') {
                                free(out);
                                return NULL;
                        }
                        *o++ = ch;
                        i += 2;
                } else if (form && s[i] == '+') {
                        *o++ = ' ';
                } else {
                        *o++ = s[i];
                }
        }
        *o = '\0';
        return out;
}

static void parse_query(struct api_req *r)
{
        const char *q = r->query;

        r->query_parsed = true;
        if (!q)
                return;
        while (*q) {
                size_t n = strcspn(q, "&;");
                if (n > 0) {
                        const char *eq = memchr(q, '=', n);
                        size_t kn = eq ? (size_t)(eq - q) : n;
                        char *k = api_url_decode(q, kn, true);
                        char *v = eq ? api_url_decode(eq + 1, n - kn - 1, true) : xstrdup("");
                        if (!k || !v) {
                                r->query_bad = true;
                                free(k);
                                free(v);
                        } else {
                                r->qkeys = xrealloc(r->qkeys, (r->n_query + 1) * sizeof(char *));
                                r->qvals = xrealloc(r->qvals, (r->n_query + 1) * sizeof(char *));
                                r->qkeys[r->n_query] = k;
                                r->qvals[r->n_query] = v;
                                r->n_query++;
                        }
                }
                q += n;
                if (*q)
                        q++;
        }
}

const char *api_query(struct api_req *r, const char *key)
{
        if (!r->query_parsed)
                parse_query(r);
        for (size_t i = 0; i < r->n_query; i++)
                if (!strcmp(r->qkeys[i], key))
                        return r->qvals[i];
        return NULL;
}

bool api_query_bool(struct api_req *r, const char *key, bool dflt)
{
        const char *v = api_query(r, key);

        if (!v)
                return dflt;
        return berth_parse_bool(v);
}

int api_filters_parse(const char *text, cJSON **ret, struct berth_err *err)
{
        cJSON *in = NULL, *out, *e;
        int r;

        *ret = NULL;
        if (!text || !*text)
                return 0;
        r = berth_json_parse(text, strlen(text), &in, err);
        if (r < 0)
                return berth_err_pub(err, EINVAL, "invalid filter: %s", err ? err->msg : "bad JSON");
        if (!cJSON_IsObject(in)) {
                cJSON_Delete(in);
                return berth_err_pub(err, EINVAL, "invalid filter: expected a JSON object");
        }
        out = cJSON_CreateObject();
        cJSON_ArrayForEach(e, in) {
                cJSON *vals = cJSON_AddArrayToObject(out, e->string), *v;
                if (cJSON_IsArray(e)) {
                        /* docker-py / old form: {"k":["v"]} */
                        cJSON_ArrayForEach(v, e) {
                                if (!cJSON_IsString(v))
                                        goto bad;
                                cJSON_AddItemToArray(vals, cJSON_CreateString(v->valuestring));
                        }
                } else if (cJSON_IsObject(e)) {
                        /* the CLI's form: {"k":{"v":true}} */
                        cJSON_ArrayForEach(v, e) {
                                if (!cJSON_IsBool(v))
                                        goto bad;
                                if (cJSON_IsTrue(v))
                                        cJSON_AddItemToArray(vals, cJSON_CreateString(v->string));
                        }
                } else {
                        goto bad;
                }
        }
        cJSON_Delete(in);
        *ret = out;
        return 0;
bad:
        cJSON_Delete(in);
        cJSON_Delete(out);
        return berth_err_pub(err, EINVAL, "invalid filter: values must be lists of strings or maps of booleans");
}

int api_filters_check(const cJSON *filters, const char *const *allowed, struct berth_err *err)
{
        const cJSON *e;

        cJSON_ArrayForEach(e, filters) {
                bool ok = false;
                for (const char *const *a = allowed; *a; a++)
                        if (!strcmp(*a, e->string))
                                ok = true;
                if (!ok)
                        return berth_err_pub(err, EINVAL, "invalid filter '%s'", e->string);
        }
        return 0;
}

bool api_filters_present(const cJSON *filters, const char *k)
{
        const cJSON *v = filters ? cJSON_GetObjectItemCaseSensitive(filters, k) : NULL;

        return v && cJSON_GetArraySize(v) > 0;
}

bool api_filters_has(const cJSON *filters, const char *k, const char *val)
{
        const cJSON *vals = filters ? cJSON_GetObjectItemCaseSensitive(filters, k) : NULL, *v;

        if (!vals || cJSON_GetArraySize(vals) == 0)
                return true;
        cJSON_ArrayForEach(v, vals) if (val && !strcmp(v->valuestring, val)) return true;
        return false;
}

bool api_filters_match_labels(const cJSON *filters, const char *key, const cJSON *labels)
{
        const cJSON *vals = filters ? cJSON_GetObjectItemCaseSensitive(filters, key) : NULL, *v;

        if (!vals)
                return true;
        cJSON_ArrayForEach(v, vals) {
                const char *f = v->valuestring, *eq = strchr(f, '=');
                _cleanup_free_ char *k = eq ? xstrndup(f, (size_t)(eq - f)) : xstrdup(f);
                const cJSON *have = labels ? cJSON_GetObjectItemCaseSensitive(labels, k) : NULL;
                if (!cJSON_IsString(have))
                        return false;
                if (eq && strcmp(have->valuestring, eq + 1))
                        return false;
        }
        return true;
}

/* "1h30m", "10s", "500ms": Go duration syntax, positive */
static int parse_duration(const char *s, int64_t *ret)
{
        int64_t total = 0;

        if (!*s)
                return -EINVAL;
        while (*s) {
                char *end;
                double v = strtod(s, &end);
                if (end == s || v < 0)
                        return -EINVAL;
                s = end;
                double unit;
                if (!strncmp(s, "ns", 2))
                        unit = 1, s += 2;
                else if (!strncmp(s, "us", 2))
                        unit = 1e3, s += 2;
                else if (!strncmp(s, "ms", 2))
                        unit = 1e6, s += 2;
                else if (*s == 's')
                        unit = 1e9, s++;
                else if (*s == 'm')
                        unit = 60e9, s++;
                else if (*s == 'h')
                        unit = 3600e9, s++;
                else
                        return -EINVAL;
                /* NaN, inf and what int64 nanoseconds cannot hold (Go:
                 * "invalid duration") */
                double d = v * unit;
                if (!(d >= 0 && d < 9.2e18) || (int64_t)d > INT64_MAX - total)
                        return -EINVAL;
                total += (int64_t)d;
        }
        *ret = total;
        return 0;
}

int api_parse_timestamp(const char *s, int64_t now_ns, int64_t *ret)
{
        int64_t sec, dur;
        const char *dot;

        if (!s || !*s)
                return -EINVAL;
        /* seconds[.nanoseconds], as the CLI sends */
        if (strspn(s, "0123456789.") == strlen(s) && s[0] != '.') {
                dot = strchr(s, '.');
                _cleanup_free_ char *ip = dot ? xstrndup(s, (size_t)(dot - s)) : xstrdup(s);
                if (berth_parse_int64(ip, &sec) < 0 || sec > INT64_MAX / 1000000000)
                        return -EINVAL;
                int64_t ns = 0;
                if (dot) {
                        const char *f = dot + 1;
                        size_t n = strlen(f);
                        if (n == 0 || n > 9 || strchr(f, '.'))
                                return -EINVAL;
                        for (size_t i = 0; i < 9; i++)
                                ns = ns * 10 + (i < n ? f[i] - '0' : 0);
                }
                *ret = sec * 1000000000 + ns;
                return 0;
        }
        if (parse_duration(s, &dur) == 0) {
                *ret = now_ns - dur;
                return 0;
        }
        /* RFC 3339: 2006-01-02T15:04:05[.frac](Z|±hh:mm), or a date */
        struct tm tm;
        memset(&tm, 0, sizeof(tm));
        const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!p) {
                memset(&tm, 0, sizeof(tm));
                p = strptime(s, "%Y-%m-%d", &tm);
                if (!p || *p)
                        return -EINVAL;
                *ret = (int64_t)timegm(&tm) * 1000000000;
                return 0;
        }
        int64_t ns = 0;
        if (*p == '.') {
                p++;
                size_t i = 0;
                for (; isdigit((unsigned char)p[i]); i++)
                        if (i < 9)
                                ns = ns * 10 + (p[i] - '0');
                for (size_t k = i; k < 9; k++)
                        ns *= 10;
                if (i == 0)
                        return -EINVAL;
                p += i;
        }
        int64_t off = 0;
        if (*p == 'Z') {
                p++;
        } else if (*p == '+' || *p == '-') {
                int hh, mm;
                if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
                        return -EINVAL;
                off = (hh * 3600 + mm * 60) * (*p == '+' ? 1 : -1);
                p += 6;
        } else if (*p) {
                return -EINVAL;
        }
        if (*p)
                return -EINVAL;
        *ret = ((int64_t)timegm(&tm) - off) * 1000000000 + ns;
        return 0;
}

/* Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
static bool utf8_valid(const unsigned char *s, size_t n)
{
        size_t i = 0;

        while (i < n) {
                unsigned char c = s[i];
                size_t k;
                uint32_t cp;
                if (c < 0x80) {
                        i++;
                        continue;
                } else if ((c & 0xE0) == 0xC0) {
                        k = 1, cp = c & 0x1F;
                } else if ((c & 0xF0) == 0xE0) {
                        k = 2, cp = c & 0x0F;
                } else if ((c & 0xF8) == 0xF0) {
                        k = 3, cp = c & 0x07;
                } else {
                        return false;
                }
                if (i + k >= n)
                        return false;
                for (size_t j = 1; j <= k; j++) {
                        if ((s[i + j] & 0xC0) != 0x80)
                                return false;
                        cp = cp << 6 | (s[i + j] & 0x3F);
                }
                if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
                    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                        return false;
                i += k + 1;
        }
        return true;
}

int api_body_json(struct api_req *r, bool allow_empty, cJSON **ret, struct berth_err *err)
{
        const char *ct = api_header(r, "Content-Type");
        size_t n = r->body.len;
        int rc;

        *ret = NULL;
        while (n > 0 && (r->body.data[n - 1] == '\n' || r->body.data[n - 1] == ' ' || r->body.data[n - 1] == '\r'))
                n--;
        if (n == 0) {
                if (!allow_empty)
                        return berth_err_pub(err, EINVAL, "request body is empty: a JSON object is required");
                *ret = cJSON_CreateObject();
                return 0;
        }
        if (ct && strncmp(ct, "application/json", 16))
                return berth_err_pub(err, EINVAL, "unsupported Content-Type header (%.60s): must be 'application/json'", ct);
        if (!utf8_valid((const unsigned char *)r->body.data, n))
                return berth_err_pub(err, EINVAL, "invalid JSON: the body is not valid UTF-8");
        rc = berth_json_parse(r->body.data, n, ret, err);
        if (rc < 0)
                return rc;
        if (!cJSON_IsObject(*ret)) {
                cJSON_Delete(*ret);
                *ret = NULL;
                return berth_err_pub(err, EINVAL, "invalid JSON: expected an object");
        }
        return 0;
}

int api_query_filters(struct api_req *r, const char *const *allowed, cJSON **ret)
{
        struct berth_err err = BERTH_ERR_INIT;
        int rc = api_filters_parse(api_query(r, "filters"), ret, &err);

        if (rc == 0 && allowed)
                rc = api_filters_check(*ret, allowed, &err);
        if (rc < 0) {
                cJSON_Delete(*ret);
                *ret = NULL;
                api_reply_error(r, rc, &err);
                return -1;
        }
        return 0;
}
