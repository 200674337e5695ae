/* SPDX-License-Identifier: Apache-2.0
 * lib/log.c -- single-line logs on stderr: time, level, message. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib.h"

static int log_level = BERTH_LOG_INFO;

static const char *const level_names[] = {
        [BERTH_LOG_ALERT] = "alert",
        [BERTH_LOG_ERROR] = "error",
        [BERTH_LOG_WARN] = "warn",
        [BERTH_LOG_INFO] = "info",
        [BERTH_LOG_DEBUG] = "debug",
};

int berth_log_level_parse(const char *s)
{
        if (!s)
                return -EINVAL;
        if (!strcasecmp(s, "debug"))
                return BERTH_LOG_DEBUG;
        if (!strcasecmp(s, "info"))
                return BERTH_LOG_INFO;
        if (!strcasecmp(s, "warn") || !strcasecmp(s, "warning"))
                return BERTH_LOG_WARN;
        if (!strcasecmp(s, "error") || !strcasecmp(s, "fatal"))
                return BERTH_LOG_ERROR;
        if (!strcasecmp(s, "alert") || !strcasecmp(s, "panic"))
                return BERTH_LOG_ALERT;
        return -EINVAL;
}

void berth_log_set_level(int level)
{
        log_level = level;
}

int berth_log_get_level(void)
{
        return log_level;
}

void berth_log(int level, const char *fmt, ...)
{
        char line[2048], ts[64];
        struct timespec now;
        va_list ap;
        int n, m;

        if (level > log_level)
                return;
        (void)clock_gettime(CLOCK_REALTIME, &now);
        berth_time_rfc3339(now.tv_sec, now.tv_nsec, ts, sizeof(ts));
        n = snprintf(line, sizeof(line), "time=\"%s\" level=%s msg=\"", ts, level_names[level]);
        va_start(ap, fmt);
        m = vsnprintf(line + n, sizeof(line) - (size_t)n - 3, fmt, ap);
        va_end(ap);
        if (m < 0)
                m = 0;
        n += m;
        if ((size_t)n > sizeof(line) - 3)
                n = (int)sizeof(line) - 3;
        /* one line per record: fold newlines away */
        for (int i = 0; i < n; i++)
                if (line[i] == '\n' || line[i] == '\r')
                        line[i] = ' ';
        line[n++] = '"';
        line[n++] = '\n';
        (void)!write(STDERR_FILENO, line, (size_t)n);
}
