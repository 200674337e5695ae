/* SPDX-License-Identifier: Apache-2.0
 * net/queue.c -- runs blocking net/ calls (netlink round trips, the state
 * file's fsync) on the libuv threadpool, one at a time per struct net, so
 * that berthd's loop never waits for the kernel or the disk. */
#include "config.h"

#include <string.h>

#include "net/net-internal.h"

struct net_job {
        uv_work_t w;
        struct net *n;
        net_work_fn fn;
        net_done_cb done;
        void *data;
        int status;
        bool on_loop;                   /* fn runs in after_work_cb */
        struct berth_err err;
        struct net_job *next;
};

static void job_start(struct net_queue *q);

static void work_cb(uv_work_t *w)
{
        struct net_job *j = container_of(w, struct net_job, w);

        if (j->on_loop)
                return;
        j->status = j->fn(j->n, j->data, &j->err);
        if (j->status > 0)
                j->status = 0;
}

static void after_work_cb(uv_work_t *w, int status)
{
        struct net_job *j = container_of(w, struct net_job, w);
        struct net_queue *q = net__queue_of(j->n);

        if (status == UV_ECANCELED) {
                j->status = berth_err_set(&j->err, ECANCELED, "cancelled");
        } else if (j->on_loop) {
                j->status = j->fn(j->n, j->data, &j->err);
                if (j->status > 0)
                        j->status = 0;
        }
        q->running = NULL;
        j->done(j->data, j->status, &j->err);
        free(j);
        job_start(q);
}

static void job_start(struct net_queue *q)
{
        struct net_job *j = q->head;

        if (q->running || !j)
                return;
        q->head = j->next;
        if (!q->head)
                q->tail = NULL;
        q->running = j;
        q->pending--;
        if (uv_queue_work(q->loop, &j->w, work_cb, after_work_cb) < 0) {
                /* cannot happen with a valid loop: run it inline, report later */
                work_cb(&j->w);
                after_work_cb(&j->w, 0);
        }
}

static int queue_job(struct net *n, net_work_fn fn, net_done_cb done, void *data, bool on_loop,
                     struct berth_err *err)
{
        struct net_queue *q = net__queue_of(n);
        struct net_job *j;

        if (!q->loop)
                return berth_err_set(err, EINVAL, "net_queue needs net_options.loop");
        if (!fn || !done)
                return berth_err_set(err, EINVAL, "net_queue needs fn and done");
        j = xcalloc(1, sizeof(*j));
        j->n = n;
        j->fn = fn;
        j->done = done;
        j->data = data;
        j->on_loop = on_loop;
        if (q->tail)
                q->tail->next = j;
        else
                q->head = j;
        q->tail = j;
        q->pending++;
        /* never calls done before returning: uv_queue_work defers to the loop */
        job_start(q);
        return 0;
}

int net_queue(struct net *n, net_work_fn fn, net_done_cb done, void *data,
              struct berth_err *err)
{
        return queue_job(n, fn, done, data, false, err);
}

int net_queue_loop(struct net *n, net_work_fn fn, net_done_cb done, void *data,
                   struct berth_err *err)
{
        return queue_job(n, fn, done, data, true, err);
}

size_t net_queue_pending(struct net *n)
{
        struct net_queue *q = net__queue_of(n);

        return q->pending + (q->running ? 1 : 0);
}

void net__queue_cancel(struct net_queue *q)
{
        struct net_job *j;

        if (q->running)
                berth_bug("net_free with a net_queue job running");
        while ((j = q->head)) {
                q->head = j->next;
                (void)berth_err_set(&j->err, ECANCELED, "cancelled");
                j->done(j->data, -ECANCELED, &j->err);
                free(j);
        }
        q->tail = NULL;
        q->pending = 0;
}
