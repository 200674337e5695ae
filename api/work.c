/* SPDX-License-Identifier: Apache-2.0
 * api/work.c -- run a blocking step of a request (disk, fsync, tar) on the
 * libuv thread pool and answer on the loop.  The request is held by a ref;
 * if its connection died meanwhile, the answer is dropped. */
#include "config.h"

#include <string.h>

#include "api/api-internal.h"

static void on_work(uv_work_t *w)
{
        struct api_work *aw = container_of(w, struct api_work, uv);

        aw->rc = aw->fn(aw);
}

static void on_after(uv_work_t *w, int status)
{
        struct api_work *aw = container_of(w, struct api_work, uv);
        struct api_req *r = aw->req;

        if (status == UV_ECANCELED && aw->rc == 0)
                aw->rc = berth_err_set(&aw->err, ECANCELED, "cancelled: the daemon is shutting down");
        if (!r->cancelled)
                aw->done(aw);
        cJSON_Delete(aw->in);
        cJSON_Delete(aw->out);
        free(aw->s1);
        free(aw->s2);
        free(aw);
        api_req_unref(r);
}

struct api_work *api_work_new(struct api_req *r)
{
        struct api_work *aw = xcalloc(1, sizeof(*aw));

        aw->req = r;
        aw->d = r->d;
        return aw;
}

void api_work_queue(struct api_work *aw, int (*fn)(struct api_work *), void (*done)(struct api_work *))
{
        struct api_req *r = aw->req;
        int rc;

        aw->fn = fn;
        aw->done = done;
        api_req_defer(r);
        api_req_ref(r);
        rc = uv_queue_work(r->d->loop, &aw->uv, on_work, on_after);
        if (rc < 0) {
                api_req_unref(r);
                free(aw->s1);
                free(aw->s2);
                cJSON_Delete(aw->in);
                free(aw);
                api_reply_msg(r, 500, "cannot queue work: %s", uv_strerror(rc));
        }
}

void api_work_reply_200(struct api_work *aw)
{
        api_work_reply_json(aw, 200);
}

/* The usual completion: the error, or the JSON result with status. */
void api_work_reply_json(struct api_work *aw, int status)
{
        if (aw->rc < 0) {
                api_reply_error(aw->req, aw->rc, &aw->err);
                return;
        }
        if (!aw->out) {
                api_reply_status(aw->req, status == 200 ? 204 : status);
                return;
        }
        api_reply_json(aw->req, status, aw->out);
        aw->out = NULL;
}

int api_need_storage(struct api_req *r)
{
        if (r->d->storage)
                return 0;
        api_reply_msg(r, 500, "the image and volume store is not available");
        return -1;
}

struct berth_container *api_container_param(struct api_req *r)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct berth_container *c = berth_container_find(r->d, api_param(r, 0), &err);

        if (!c)
                api_reply_error(r, -err.code, &err);
        return c;
}
