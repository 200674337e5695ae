/* SPDX-License-Identifier: Apache-2.0
 * lib/util.c -- small string, number and time helpers. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "lib.h"

bool berth_str_has_prefix(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool berth_parse_bool(const char *s)
{
        char v[8];
        size_t n;

        if (!s)
                return false;
        while (isspace((unsigned char)*s))
                s++;
        n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1]))
                n--;
        if (n >= sizeof(v))
                return true;
        memcpy(v, s, n);
        v[n] = '\0';
        return !(n == 0 || !strcasecmp(v, "0") || !strcasecmp(v, "no") || !strcasecmp(v, "false") ||
                 !strcasecmp(v, "none"));
}

int berth_parse_int64(const char *s, int64_t *ret)
{
        char *end;
        long long v;

        if (!s || !*s || isspace((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end)
                return -EINVAL;
        *ret = v;
        return 0;
}

void berth_time_rfc3339(int64_t sec, long nsec, char *out, size_t outlen)
{
        struct tm tm;
        time_t t = (time_t)sec;
        char base[32];

        if (!gmtime_r(&t, &tm)) {
                (void)snprintf(out, outlen, "0001-01-01T00:00:00Z");
                return;
        }
        (void)strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
        if (nsec)
                (void)snprintf(out, outlen, "%s.%09ldZ", base, nsec);
        else
                (void)snprintf(out, outlen, "%sZ", base);
}

int64_t berth_now_ns(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int berth_random_hex(char *out, size_t n)
{
        static const char hex[] = "0123456789abcdef";
        unsigned char raw[64];

        if (n > sizeof(raw))
                return -EINVAL;
        if (getrandom(raw, n, 0) != (ssize_t)n)
                return -errno;
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = hex[raw[i] >> 4];
                out[2 * i + 1] = hex[raw[i] & 15];
        }
        out[2 * n] = '\0';
        return 0;
}
