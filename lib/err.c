/* SPDX-License-Identifier: Apache-2.0
 * lib/err.c -- struct berth_err: an errno plus a message, carried up to the API. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "lib.h"

static int err_vset(struct berth_err *err, int code, bool pub, const char *fmt, va_list ap)
{
        if (code <= 0)
                code = EIO;
        if (err) {
                err->code = code;
                err->public = pub;
                (void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        }
        return -code;
}

int berth_err_set(struct berth_err *err, int code, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = err_vset(err, code, false, fmt, ap);
        va_end(ap);
        return r;
}

int berth_err_pub(struct berth_err *err, int code, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = err_vset(err, code, true, fmt, ap);
        va_end(ap);
        return r;
}

int berth_err_wrap(struct berth_err *err, const char *fmt, ...)
{
        char prefix[BERTH_ERR_MSG_MAX], old[BERTH_ERR_MSG_MAX];
        va_list ap;

        if (!err)
                return -EIO;
        va_start(ap, fmt);
        (void)vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof(old));
        old[sizeof(old) - 1] = '\0';
        /* prefix, then ": ", then as much of the old message as fits */
        size_t n = strlen(prefix), m = strlen(old), cap = sizeof(err->msg) - 1;
        if (n > cap)
                n = cap;
        memcpy(err->msg, prefix, n);
        if (n + 2 <= cap) {
                memcpy(err->msg + n, ": ", 2);
                n += 2;
        }
        if (m > cap - n)
                m = cap - n;
        memcpy(err->msg + n, old, m);
        err->msg[n + m] = '\0';
        return -(err->code > 0 ? err->code : EIO);
}

void berth_err_clear(struct berth_err *err)
{
        if (err) {
                err->code = 0;
                err->public = false;
                err->msg[0] = '\0';
        }
}
