/* SPDX-License-Identifier: Apache-2.0
 * net/queue.c -- runs blocking net/ calls (netlink round trips, the state
 * file's fsync) on the libuv threadpool, one at a time per struct net, so
 * that berthd's loop never waits for the kernel or the disk; and link
 * deletions on reaper threads (below). */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

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

/* ---- the link reaper: deletions on threads of their own ----
 *
 * Deleting a veth pair or a macvlan costs the caller one RCU barrier
 * (netdev_run_todo, tens of ms on a small VM), but the kernel unlists the
 * links -- their names, addresses and bridge port are gone, the container
 * no longer sees them -- in the first milliseconds of the RTM_DELLINK, under
 * RTNL and before that barrier.  So net_endpoint_detach() hands the
 * RTM_DELLINK to a reaper thread here and only waits until the link is
 * unlisted (net.c polls the kernel for its ifindex); the barrier then runs
 * on the reaper, off the net_queue and off the API request.
 *
 * Up to REAPERS_MAX threads, started on demand, each one deletion at a time:
 * a deletion waiting for the barrier of an earlier one would otherwise wait
 * for it (concurrent rcu_barrier() calls share their grace periods).  Every
 * request ends with its status in the item.  net__reaper_free() lets the
 * threads finish what was asked and joins them, so berthd's shutdown leaves
 * no link behind. */

#define REAPERS_MAX 4

struct net_reap_item {
        char name[NET_IFNAME_MAX];
        int nsfd;                       /* owned; -1: the reaper's netns */
        int refs;                       /* the waiter and the reaper list */
        bool done;
        int status;
        struct net_reap_item *next;
};

struct net_reaper {
        uv_mutex_t mu;
        uv_cond_t cv;                   /* work for the threads */
        uv_cond_t done_cv;              /* an item is done */
        struct net_reap_item *head, *tail;
        uv_thread_t tids[REAPERS_MAX];
        size_t n_threads, idle;
        bool stop;
        int self_ns;                    /* berthd's netns, where the threads run */
};

static void item_unref_locked(struct net_reap_item *it)
{
        if (--it->refs > 0)
                return;
        if (it->nsfd >= 0)
                (void)close(it->nsfd);
        free(it);
}

static int reap_one(struct net_reaper *r, struct net_reap_item *it)
{
        struct net_nl *nl = NULL;
        int ret;

        ret = net__nl_open(it->nsfd >= 0 ? it->nsfd : r->self_ns, &nl, NULL);
        if (ret < 0)
                return ret;
        ret = net__nl_link_del(nl, it->name, NULL);
        net__nl_close(nl);
        return ret;
}

static void reaper_main(void *arg)
{
        struct net_reaper *r = arg;
        sigset_t all;

        /* signals are the loop thread's business */
        (void)sigfillset(&all);
        (void)pthread_sigmask(SIG_BLOCK, &all, NULL);
        uv_mutex_lock(&r->mu);
        for (;;) {
                struct net_reap_item *it;
                int status;

                while (!r->head && !r->stop) {
                        r->idle++;
                        uv_cond_wait(&r->cv, &r->mu);
                        r->idle--;
                }
                it = r->head;
                if (!it)
                        break;          /* stopping, nothing left */
                r->head = it->next;
                if (!r->head)
                        r->tail = NULL;
                uv_mutex_unlock(&r->mu);
                status = reap_one(r, it);
                uv_mutex_lock(&r->mu);
                it->done = true;
                it->status = status;
                uv_cond_broadcast(&r->done_cv);
                item_unref_locked(it);
        }
        uv_mutex_unlock(&r->mu);
}

int net__reaper_new(struct net_reaper **ret, struct berth_err *err)
{
        struct net_reaper *r = xcalloc(1, sizeof(*r));

        r->self_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (r->self_ns < 0) {
                int e = errno;
                free(r);
                return berth_err_set(err, e, "open own netns: %s", strerror(e));
        }
        if (uv_mutex_init(&r->mu) < 0 || uv_cond_init(&r->cv) < 0 || uv_cond_init(&r->done_cv) < 0)
                berth_oom();
        *ret = r;
        return 0;
}

struct net_reaper *net__reaper_free(struct net_reaper *r)
{
        if (!r)
                return NULL;
        uv_mutex_lock(&r->mu);
        r->stop = true;
        uv_cond_broadcast(&r->cv);
        uv_mutex_unlock(&r->mu);
        for (size_t i = 0; i < r->n_threads; i++)
                (void)uv_thread_join(&r->tids[i]);
        /* no thread ever started (or all failed): nothing may stay queued */
        while (r->head) {
                struct net_reap_item *it = r->head;
                r->head = it->next;
                it->done = true;
                it->status = reap_one(r, it);
                item_unref_locked(it);
        }
        uv_cond_destroy(&r->done_cv);
        uv_cond_destroy(&r->cv);
        uv_mutex_destroy(&r->mu);
        (void)close(r->self_ns);
        free(r);
        return NULL;
}

int net__reaper_del(struct net_reaper *r, int netns_fd, const char *name,
                    struct net_reap_item **ret, struct berth_err *err)
{
        struct net_reap_item *it;

        if (strlen(name) >= NET_IFNAME_MAX)
                return berth_err_set(err, EINVAL, "link name '%s' is too long", name);
        it = xcalloc(1, sizeof(*it));
        memcpy(it->name, name, strlen(name) + 1);
        it->nsfd = -1;
        if (netns_fd >= 0) {
                it->nsfd = fcntl(netns_fd, F_DUPFD_CLOEXEC, 3);
                if (it->nsfd < 0) {
                        int e = errno;
                        free(it);
                        return berth_err_set(err, e, "dup netns fd: %s", strerror(e));
                }
        }
        it->refs = 2;
        uv_mutex_lock(&r->mu);
        if (r->idle == 0 && r->n_threads < REAPERS_MAX &&
            uv_thread_create(&r->tids[r->n_threads], reaper_main, r) == 0)
                r->n_threads++;
        if (r->n_threads == 0) {
                uv_mutex_unlock(&r->mu);
                if (it->nsfd >= 0)
                        (void)close(it->nsfd);
                free(it);
                return berth_err_set(err, EAGAIN, "cannot start a link reaper thread");
        }
        if (r->tail)
                r->tail->next = it;
        else
                r->head = it;
        r->tail = it;
        uv_cond_signal(&r->cv);
        uv_mutex_unlock(&r->mu);
        *ret = it;
        return 0;
}

bool net__reap_item_done(struct net_reaper *r, struct net_reap_item *it, int *ret_status)
{
        bool done;

        uv_mutex_lock(&r->mu);
        done = it->done;
        if (done)
                *ret_status = it->status;
        uv_mutex_unlock(&r->mu);
        return done;
}

int net__reap_item_wait(struct net_reaper *r, struct net_reap_item *it)
{
        int status;

        uv_mutex_lock(&r->mu);
        while (!it->done)
                uv_cond_wait(&r->done_cv, &r->mu);
        status = it->status;
        uv_mutex_unlock(&r->mu);
        return status;
}

void net__reap_item_put(struct net_reaper *r, struct net_reap_item *it)
{
        if (!it)
                return;
        uv_mutex_lock(&r->mu);
        item_unref_locked(it);
        uv_mutex_unlock(&r->mu);
}
