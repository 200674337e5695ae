/* SPDX-License-Identifier: Apache-2.0
 * storage/async.c -- uv_queue_work wrappers: the blocking storage calls run
 * on the libuv thread pool; the callback runs once, on the loop, later. */
#include "config.h"

#include <string.h>

#include "storage/storage-internal.h"

enum work_kind {
        W_LOAD,
        W_SAVE,
        W_IMPORT,
        W_EXPORT,
        W_COMMIT,
        W_RMI,
        W_GC,
        W_CALL,
};

struct work {
        uv_work_t req;
        enum work_kind kind;
        struct storage *s;
        int fd;
        char *name;
        char **names;
        char *repo, *tag, *author, *comment, *message, *os, *arch;
        char **changes;
        cJSON *config;
        struct storage_rmi_opts rmi;
        storage_work_fn fn;
        void *arg;
        int status;
        void *result;
        struct berth_err err;
        storage_done_cb cb;
        void *data;
};

static char **strv_dup(const char *const *v)
{
        size_t n = 0, i;
        char **out;

        while (v && v[n])
                n++;
        out = xcalloc(n + 1, sizeof(char *));
        for (i = 0; i < n; i++)
                out[i] = xstrdup(v[i]);
        return out;
}

static char *sdup(const char *s)
{
        return s ? xstrdup(s) : NULL;
}

static void work_free(struct work *w)
{
        if (w->fd >= 0)
                close(w->fd);
        free(w->name);
        st_strv_free(w->names);
        free(w->repo);
        free(w->tag);
        free(w->author);
        free(w->comment);
        free(w->message);
        free(w->os);
        free(w->arch);
        st_strv_free(w->changes);
        cJSON_Delete(w->config);
        free(w);
}

static void work_run(uv_work_t *req)
{
        struct work *w = container_of(req, struct work, req);
        char *id = NULL;

        switch (w->kind) {
        case W_LOAD: {
                struct storage_load_result *res = xcalloc(1, sizeof(*res));

                w->status = storage_image_load(w->s, w->fd, res, &w->err);
                if (w->status < 0)
                        free(res);
                else
                        w->result = res;
                break;
        }
        case W_SAVE:
                w->status = storage_image_save(w->s, (const char *const *)w->names, w->fd, &w->err);
                break;
        case W_IMPORT: {
                struct storage_import_opts o = {
                        .repo = w->repo, .tag = w->tag, .message = w->message,
                        .changes = (const char *const *)w->changes,
                        .platform_os = w->os, .platform_arch = w->arch,
                };

                w->status = storage_image_import(w->s, w->fd, &o, &id, &w->err);
                w->result = id;
                break;
        }
        case W_EXPORT:
                w->status = storage_rootfs_export(w->s, w->name, w->fd, &w->err);
                break;
        case W_COMMIT: {
                struct storage_commit_opts o = {
                        .repo = w->repo, .tag = w->tag, .author = w->author,
                        .comment = w->comment, .changes = (const char *const *)w->changes,
                        .config = w->config,
                };

                w->status = storage_commit(w->s, w->name, &o, &id, &w->err);
                w->result = id;
                break;
        }
        case W_RMI: {
                cJSON *out = NULL;

                w->status = storage_image_remove(w->s, w->name, &w->rmi, &out, &w->err);
                w->result = out;
                break;
        }
        case W_GC:
                w->status = storage_gc(w->s, NULL, &w->err);
                break;
        case W_CALL:
                w->status = w->fn(w->s, w->arg, &w->result, &w->err);
                if (w->status > 0)
                        w->status = 0;
                break;
        }
        /* the fd is done with: close it here so the reader sees EOF now */
        if (w->fd >= 0) {
                close(w->fd);
                w->fd = -1;
        }
}

static void work_done(uv_work_t *req, int status)
{
        struct work *w = container_of(req, struct work, req);

        if (status == UV_ECANCELED) {
                w->status = -ECANCELED;
                (void)berth_err_set(&w->err, ECANCELED, "storage operation cancelled");
        }
        w->cb(w->status, w->result, &w->err, w->data);
        work_free(w);
}

static struct work *work_new(struct storage *s, enum work_kind k, int fd, storage_done_cb cb,
                             void *data)
{
        struct work *w = xcalloc(1, sizeof(*w));

        w->kind = k;
        w->s = s;
        w->fd = fd;
        w->cb = cb;
        w->data = data;
        return w;
}

static int work_queue(uv_loop_t *loop, struct work *w, struct berth_err *err)
{
        int r = uv_queue_work(loop, &w->req, work_run, work_done);

        if (r < 0) {
                w->fd = -1; /* the caller keeps its fd when we fail */
                work_free(w);
                return berth_err_set(err, -r, "uv_queue_work: %s", uv_strerror(r));
        }
        return 0;
}

int storage_image_load_async(uv_loop_t *loop, struct storage *s, int fd, storage_done_cb cb,
                             void *data, struct berth_err *err)
{
        return work_queue(loop, work_new(s, W_LOAD, fd, cb, data), err);
}

int storage_image_save_async(uv_loop_t *loop, struct storage *s, const char *const *names,
                             int fd, storage_done_cb cb, void *data, struct berth_err *err)
{
        struct work *w = work_new(s, W_SAVE, fd, cb, data);

        w->names = strv_dup(names);
        return work_queue(loop, w, err);
}

int storage_image_import_async(uv_loop_t *loop, struct storage *s, int fd,
                               const struct storage_import_opts *o, storage_done_cb cb,
                               void *data, struct berth_err *err)
{
        struct work *w = work_new(s, W_IMPORT, fd, cb, data);

        if (o) {
                w->repo = sdup(o->repo);
                w->tag = sdup(o->tag);
                w->message = sdup(o->message);
                w->changes = strv_dup(o->changes);
                w->os = sdup(o->platform_os);
                w->arch = sdup(o->platform_arch);
        }
        return work_queue(loop, w, err);
}

int storage_rootfs_export_async(uv_loop_t *loop, struct storage *s, const char *container_id,
                                int fd, storage_done_cb cb, void *data, struct berth_err *err)
{
        struct work *w = work_new(s, W_EXPORT, fd, cb, data);

        w->name = xstrdup(container_id);
        return work_queue(loop, w, err);
}

int storage_commit_async(uv_loop_t *loop, struct storage *s, const char *container_id,
                         const struct storage_commit_opts *o, storage_done_cb cb, void *data,
                         struct berth_err *err)
{
        struct work *w = work_new(s, W_COMMIT, -1, cb, data);

        w->name = xstrdup(container_id);
        if (o) {
                w->repo = sdup(o->repo);
                w->tag = sdup(o->tag);
                w->author = sdup(o->author);
                w->comment = sdup(o->comment);
                w->changes = strv_dup(o->changes);
                w->config = o->config ? cJSON_Duplicate(o->config, 1) : NULL;
        }
        return work_queue(loop, w, err);
}

int storage_image_remove_async(uv_loop_t *loop, struct storage *s, const char *name,
                               const struct storage_rmi_opts *o, storage_done_cb cb, void *data,
                               struct berth_err *err)
{
        struct work *w = work_new(s, W_RMI, -1, cb, data);

        w->name = xstrdup(name);
        if (o)
                w->rmi = *o;
        return work_queue(loop, w, err);
}

int storage_gc_async(uv_loop_t *loop, struct storage *s, storage_done_cb cb, void *data,
                     struct berth_err *err)
{
        return work_queue(loop, work_new(s, W_GC, -1, cb, data), err);
}

int storage_call_async(uv_loop_t *loop, struct storage *s, storage_work_fn fn, void *arg,
                       storage_done_cb cb, void *data, struct berth_err *err)
{
        struct work *w = work_new(s, W_CALL, -1, cb, data);

        w->fn = fn;
        w->arg = arg;
        return work_queue(loop, w, err);
}
