/* SPDX-License-Identifier: Apache-2.0
 * lib/json.c -- cJSON with limits: bounded nesting, errors with a byte offset. */
#include "config.h"

#include <stdint.h>

#include <string.h>

#include "lib.h"

static void *json_malloc(size_t n)
{
        return xmalloc(n);
}

void berth_json_init(void)
{
        cJSON_Hooks hooks = { json_malloc, free };

        cJSON_InitHooks(&hooks);
}

int berth_json_parse(const char *data, size_t len, cJSON **ret, struct berth_err *err)
{
        const char *end = NULL;
        cJSON *j;

        *ret = NULL;
        if (len == 0)
                return berth_err_pub(err, EINVAL, "empty JSON body");
        /* cJSON limits nesting to CJSON_NESTING_LIMIT (1000) itself. */
        j = cJSON_ParseWithLengthOpts(data, len, &end, false);
        if (!j) {
                size_t off = end && end >= data ? (size_t)(end - data) : 0;
                return berth_err_pub(err, EINVAL, "invalid JSON at byte %zu", off);
        }
        /* trailing bytes other than white space are an error */
        if (end) {
                const char *p = end;
                while ((size_t)(p - data) < len && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t' || *p == '\0'))
                        p++;
                if ((size_t)(p - data) < len) {
                        cJSON_Delete(j);
                        return berth_err_pub(err, EINVAL, "invalid JSON: trailing data at byte %zu",
                                             (size_t)(p - data));
                }
        }
        *ret = j;
        return 0;
}

void berth_json_append(struct buf *b, const cJSON *j)
{
        char *s = cJSON_PrintUnformatted(j);

        if (!s)
                berth_oom();
        buf_adds(b, s);
        buf_addc(b, '\n');
        free(s);
}

int64_t berth_json_int64(const cJSON *v, int64_t dflt)
{
        double d;

        if (!cJSON_IsNumber(v))
                return dflt;
        d = v->valuedouble;
        if (d != d)
                return dflt;
        if (d >= 9223372036854775807.0)
                return INT64_MAX;
        if (d <= -9223372036854775808.0)
                return INT64_MIN;
        return (int64_t)d;
}

const char *berth_json_str(const cJSON *obj, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}
