/* SPDX-License-Identifier: Apache-2.0
 * api/status.c -- the one errno -> HTTP status table.  It applies only to
 * errors raised on purpose (err->public); anything else is a 500, so an
 * ENOENT from a missing cgroup file never becomes a 404. */
#include "config.h"

#include "api/api-internal.h"

int api_status_from_errno(int code, bool public)
{
        if (!public)
                return 500;
        switch (code) {
        case EINVAL:
        case EBADMSG:
        case E2BIG:
        case ERANGE:
                return 400;
        case EPERM:
        case EACCES:
                return 403;
        case ENOENT:
        case ENODEV:
                return 404;
        case EEXIST:
        case EBUSY:
        case EADDRINUSE:
                return 409;
        case EMSGSIZE:
        case EFBIG:
                return 413;
        case EALREADY:
                return 304;
        case ETIMEDOUT:
                return 504;
        case ENOSYS:
        case EOPNOTSUPP:
                return 501;
        default:
                return 500;
        }
}

void api_reply_error(struct api_req *r, int rc, const struct berth_err *err)
{
        int code = err && err->code ? err->code : (rc < 0 ? -rc : EIO);
        int status = api_status_from_errno(code, err && err->public);
        const char *msg = err && err->msg[0] ? err->msg : "internal error";

        if (status >= 500)
                log_warn("api: req %llu %s %s: %d %s", (unsigned long long)r->id, r->method, r->path, status, msg);
        else
                log_debug("api: req %llu %s %s: %d %s", (unsigned long long)r->id, r->method, r->path, status, msg);
        if (status == 304) {
                api_reply_status(r, 304);
                return;
        }
        api_reply_msg(r, status, "%s", msg);
}
