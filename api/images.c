/* SPDX-License-Identifier: Apache-2.0
 * api/images.c -- /images: list, inspect, history, tag, remove, prune,
 * load (a streamed body piped to the store's loader on the thread pool),
 * save (the store's tar writer piped back as a chunked response), import,
 * and /system/df.  Metadata calls run on the thread pool as well.
 */
#include "config.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <string.h>
#include <unistd.h>

#include "api/api-internal.h"
#include "storage/storage.h"

#define PIPE_HIGH (4u << 20)    /* pause the client above this much queued */
#define PIPE_LOW (1u << 20)
#define DL_READ (256u << 10)    /* read size from a worker's pipe */

static void publish_image(struct berth_daemon *d, const char *action, const char *id, const char *name)
{
        cJSON *attrs = cJSON_CreateObject();

        if (name)
                cJSON_AddStringToObject(attrs, "name", name);
        berth_events_publish(d->events, "image", action, id, attrs);
}

/* /info's image count, refreshed on the pool after every change */
struct recount {
        uv_work_t w;
        struct berth_daemon *d;
        int n;
};

static void recount_fn(uv_work_t *w)
{
        struct recount *rc = container_of(w, struct recount, w);
        struct storage_image_filter f = { .all = true, .filters = NULL };
        cJSON *list = NULL;

        rc->n = storage_image_list(rc->d->storage, &f, &list, NULL) == 0 ? cJSON_GetArraySize(list) : -1;
        cJSON_Delete(list);
}

static void recount_done(uv_work_t *w, int status)
{
        struct recount *rc = container_of(w, struct recount, w);

        if (status == 0 && rc->n >= 0)
                rc->d->n_images = rc->n;
        free(rc);
}

void api_images_recount(struct berth_daemon *d)
{
        struct recount *rc;

        if (!d->storage)
                return;
        rc = xcalloc(1, sizeof(*rc));
        rc->d = d;
        if (uv_queue_work(d->loop, &rc->w, recount_fn, recount_done) < 0)
                free(rc);
}

/* ---- list, inspect, history ---- */

static int list_fn(struct api_work *aw)
{
        struct storage_image_filter f = { .all = aw->b1, .filters = aw->in };

        return storage_image_list(aw->d->storage, &f, &aw->out, &aw->err);
}

/* Docker's reference filter: path.Match of the pattern against the familiar
 * "name:tag" or the familiar name alone */
static bool ref_matches(const char *pattern, const char *tagged)
{
        _cleanup_free_ char *name = xstrdup(tagged);
        char *colon = strrchr(name, ':');

        if (colon && !strchr(colon, '/'))
                *colon = '\0';
        return fnmatch(pattern, tagged, FNM_PATHNAME) == 0 || fnmatch(pattern, name, FNM_PATHNAME) == 0;
}

static void list_done(struct api_work *aw)
{
        const cJSON *refs = aw->in ? cJSON_GetObjectItemCaseSensitive(aw->in, "reference") : NULL;
        cJSON *img;

        /* an image shows only the tags the reference filter asked for */
        if (aw->rc == 0 && cJSON_GetArraySize(refs) > 0) {
                cJSON_ArrayForEach(img, aw->out) {
                        cJSON *tags = cJSON_GetObjectItemCaseSensitive(img, "RepoTags");
                        for (int i = cJSON_GetArraySize(tags) - 1; i >= 0; i--) {
                                const cJSON *t = cJSON_GetArrayItem(tags, i), *p;
                                bool keep = false;
                                cJSON_ArrayForEach(p, refs) if (cJSON_IsString(t) && ref_matches(p->valuestring, t->valuestring)) keep = true;
                                if (!keep)
                                        cJSON_DeleteItemFromArray(tags, i);
                        }
                }
        }
        api_work_reply_json(aw, 200);
}

void api_h_images_list(struct api_req *r)
{
        struct api_work *aw;
        cJSON *filters = NULL;

        if (api_need_storage(r) < 0)
                return;
        if (api_query_filters(r, NULL, &filters) < 0)
                return;
        /* the old "filter" parameter (API < 1.28) is a reference filter */
        const char *old = api_query(r, "filter");
        if (old && *old) {
                if (!filters)
                        filters = cJSON_CreateObject();
                cJSON *a = cJSON_GetObjectItemCaseSensitive(filters, "reference");
                if (!a)
                        a = cJSON_AddArrayToObject(filters, "reference");
                cJSON_AddItemToArray(a, cJSON_CreateString(old));
        }
        aw = api_work_new(r);
        aw->in = filters;
        aw->b1 = api_query_bool(r, "all", false);
        api_work_queue(aw, list_fn, list_done);
}

static int inspect_fn(struct api_work *aw)
{
        return storage_image_inspect(aw->d->storage, aw->s1, &aw->out, &aw->err);
}

void api_h_image_inspect(struct api_req *r)
{
        struct api_work *aw;

        if (api_need_storage(r) < 0)
                return;
        aw = api_work_new(r);
        aw->s1 = xstrdup(api_param(r, 0));
        api_work_queue(aw, inspect_fn, api_work_reply_200);
}

static int history_fn(struct api_work *aw)
{
        return storage_image_history(aw->d->storage, aw->s1, &aw->out, &aw->err);
}

void api_h_image_history(struct api_req *r)
{
        struct api_work *aw;

        if (api_need_storage(r) < 0)
                return;
        aw = api_work_new(r);
        aw->s1 = xstrdup(api_param(r, 0));
        api_work_queue(aw, history_fn, api_work_reply_200);
}

/* ---- tag ---- */

static int tag_fn(struct api_work *aw)
{
        int rc = storage_image_tag(aw->d->storage, aw->s1, aw->s2, aw->in ? berth_json_str(aw->in, "tag") : NULL,
                                   &aw->err);
        if (rc == 0)
                rc = storage_image_resolve(aw->d->storage, aw->s1, (char **)&aw->n1, &aw->err);
        return rc;
}

static void tag_done(struct api_work *aw)
{
        char *id = (char *)aw->n1;

        if (aw->rc == 0) {
                const char *tag = aw->in ? berth_json_str(aw->in, "tag") : NULL;
                char *full = xasprintf("%s:%s", aw->s2, tag && *tag ? tag : "latest");
                struct storage_ref ref;
                char *name = NULL;
                if (storage_ref_parse(full, &ref, NULL) == 0) {
                        name = storage_ref_familiar(&ref);
                        storage_ref_release(&ref);
                }
                publish_image(aw->d, "tag", id ? id : aw->s1, name ? name : full);
                free(name);
                free(full);
                api_reply_status(aw->req, 201);
                api_images_recount(aw->d);
        } else {
                api_reply_error(aw->req, aw->rc, &aw->err);
        }
        free(id);
        aw->n1 = 0;
}

void api_h_image_tag(struct api_req *r)
{
        struct api_work *aw;
        const char *repo = api_query(r, "repo"), *tag = api_query(r, "tag");

        if (api_need_storage(r) < 0)
                return;
        if (!repo || !*repo) {
                api_reply_msg(r, 400, "repository name must have at least one component");
                return;
        }
        aw = api_work_new(r);
        aw->s1 = xstrdup(api_param(r, 0));
        aw->s2 = xstrdup(repo);
        if (tag && *tag) {
                aw->in = cJSON_CreateObject();
                cJSON_AddStringToObject(aw->in, "tag", tag);
        }
        api_work_queue(aw, tag_fn, tag_done);
}

/* ---- remove, prune ---- */

/* The images containers use, taken on the loop for the pool thread:
 * {"sha256:...": true when a running container uses it} */
static cJSON *images_in_use(struct berth_daemon *d)
{
        cJSON *o = cJSON_CreateObject();

        for (struct berth_container *c = d->containers ? berth_container_first(d) : NULL; c; c = c->next) {
                bool run = c->state == CTR_RUNNING || c->state == CTR_PAUSED || c->state == CTR_RESTARTING;
                cJSON *v;
                if (!c->image_id || !*c->image_id)
                        continue;
                v = cJSON_GetObjectItemCaseSensitive(o, c->image_id);
                if (!v)
                        cJSON_AddBoolToObject(o, c->image_id, run);
                else if (run && !cJSON_IsTrue(v))
                        cJSON_ReplaceItemInObjectCaseSensitive(o, c->image_id, cJSON_CreateTrue());
        }
        return o;
}

static bool in_use_cb(const char *image_id, bool *running, void *data)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive((const cJSON *)data, image_id);

        if (!v)
                return false;
        if (running)
                *running = cJSON_IsTrue(v);
        return true;
}

static int remove_fn(struct api_work *aw)
{
        struct storage_rmi_opts o = { .force = aw->b1, .noprune = aw->b2, .in_use = in_use_cb, .in_use_data = aw->in };

        return storage_image_remove(aw->d->storage, aw->s1, &o, &aw->out, &aw->err);
}

static void publish_removals(struct api_work *aw, const cJSON *list)
{
        const cJSON *e;

        cJSON_ArrayForEach(e, list) {
                const char *u = berth_json_str(e, "Untagged"), *d = berth_json_str(e, "Deleted");
                if (u)
                        publish_image(aw->d, "untag", u, u);
                if (d && berth_str_has_prefix(d, "sha256:"))
                        publish_image(aw->d, "delete", d, NULL);
        }
}

static void remove_done(struct api_work *aw)
{
        if (aw->rc == 0) {
                publish_removals(aw, aw->out);
                api_images_recount(aw->d);
        }
        api_work_reply_json(aw, 200);
}

void api_h_image_remove(struct api_req *r)
{
        struct api_work *aw;

        if (api_need_storage(r) < 0)
                return;
        aw = api_work_new(r);
        aw->s1 = xstrdup(api_param(r, 0));
        aw->b1 = api_query_bool(r, "force", false);
        aw->b2 = api_query_bool(r, "noprune", false);
        aw->in = images_in_use(r->d);
        api_work_queue(aw, remove_fn, remove_done);
}

static int prune_fn(struct api_work *aw)
{
        return storage_image_prune(aw->d->storage, aw->b1, cJSON_GetObjectItemCaseSensitive(aw->in, "filters"),
                                   in_use_cb, cJSON_GetObjectItemCaseSensitive(aw->in, "inuse"), &aw->out,
                                   &aw->err);
}

static void prune_done(struct api_work *aw)
{
        if (aw->rc == 0) {
                publish_removals(aw, cJSON_GetObjectItemCaseSensitive(aw->out, "ImagesDeleted"));
                berth_events_publish(aw->d->events, "image", "prune", "", NULL);
                api_images_recount(aw->d);
        }
        api_work_reply_json(aw, 200);
}

void api_h_images_prune(struct api_req *r)
{
        struct api_work *aw;
        cJSON *filters = NULL;

        if (api_need_storage(r) < 0)
                return;
        if (api_query_filters(r, NULL, &filters) < 0)
                return;
        aw = api_work_new(r);
        /* dangling=false means every unused image, as `docker image prune -a` */
        aw->b1 = false;
        if (filters) {
                const cJSON *dg = cJSON_GetObjectItemCaseSensitive(filters, "dangling");
                const cJSON *v = cJSON_GetArrayItem(dg, 0);
                if (v && cJSON_IsString(v))
                        aw->b1 = !berth_parse_bool(v->valuestring);
                cJSON_DeleteItemFromObjectCaseSensitive(filters, "dangling");
        }
        aw->in = cJSON_CreateObject();
        if (filters)
                cJSON_AddItemToObject(aw->in, "filters", filters);
        cJSON_AddItemToObject(aw->in, "inuse", images_in_use(r->d));
        api_work_queue(aw, prune_fn, prune_done);
}

/* ---- /system/df ---- */

static int df_fn(struct api_work *aw)
{
        return storage_df(aw->d->storage, &aw->out, &aw->err);
}

static void df_done(struct api_work *aw)
{
        if (aw->rc == 0) {
                if (!cJSON_GetObjectItemCaseSensitive(aw->out, "Containers"))
                        cJSON_AddItemToObject(aw->out, "Containers", cJSON_CreateArray());
                if (!cJSON_GetObjectItemCaseSensitive(aw->out, "BuildCache"))
                        cJSON_AddItemToObject(aw->out, "BuildCache", cJSON_CreateArray());
        }
        api_work_reply_json(aw, 200);
}

void api_h_system_df(struct api_req *r)
{
        if (api_need_storage(r) < 0)
                return;
        api_work_queue(api_work_new(r), df_fn, df_done);
}

/* ---- load and import: the request body, piped into a worker ---- */

enum upload_kind { UP_LOAD, UP_IMPORT, UP_ARCHIVE };
/* archive: a path inside the container, resolved in its root */
struct archive_arg {
        char *id, *path;
        int fd;
        bool no_overwrite;
};

static void archive_arg_free(struct archive_arg *a);
static int archive_put_work(struct storage *s, void *arg, void **result, struct berth_err *err);

struct upload {
        struct api_req *r;
        enum upload_kind kind;
        uv_pipe_t wp;           /* our end: body bytes go in */
        uv_shutdown_t shut;
        bool wp_open;           /* initialised and not yet closing */
        bool wp_closed;         /* close callback ran (or never opened) */
        bool work_done;
        bool quiet;
        char *repo, *tag;       /* import's */
        struct archive_arg *archive;    /* archive PUT's (owned until queued) */
        /* the worker finished before the body did (a tar reader stops at
         * the end-of-archive blocks): the answer waits for the body's end,
         * the rest of which is read and dropped, since answering early
         * closes the connection under a client still sending */
        bool reply_pending;
        int status;
        void *result;
        struct berth_err err;
};

struct upload_write {
        uv_write_t w;
        struct upload *u;
        char data[];
};

static void upload_reply(struct upload *u);

static void upload_maybe_free(struct upload *u)
{
        if (!u->work_done || !u->wp_closed)
                return;
        api_req_unref(u->r);
        free(u->repo);
        free(u->tag);
        free(u);
}

static void on_wp_close(uv_handle_t *h)
{
        struct upload *u = h->data;

        u->wp_closed = true;
        upload_maybe_free(u);
}

static void upload_close_pipe(struct upload *u)
{
        if (!u->wp_open)
                return;
        u->wp_open = false;
        uv_close((uv_handle_t *)&u->wp, on_wp_close);
}

static void on_upload_write(uv_write_t *w, int status)
{
        struct upload_write *uw = container_of(w, struct upload_write, w);
        struct upload *u = uw->u;

        free(uw);
        if (status < 0) {
                /* the loader stopped reading (it failed): its callback tells why */
                upload_close_pipe(u);
                return;
        }
        if (u->r->body_paused && u->wp_open && u->wp.write_queue_size < PIPE_LOW)
                api_body_resume(u->r);
}

static void upload_body(struct api_req *r, const char *p, size_t n)
{
        struct upload *u = r->data;
        struct upload_write *uw;
        uv_buf_t b;

        if (!u || !u->wp_open || n == 0)
                return;
        /* straight into the pipe when it has room (nothing queued before:
         * libuv refuses a try_write then), a copy of the rest otherwise */
        b = uv_buf_init((char *)p, (unsigned)n);
        int w = uv_try_write((uv_stream_t *)&u->wp, &b, 1);
        if (w > 0) {
                p += w;
                n -= (size_t)w;
                if (n == 0)
                        return;
        }
        uw = xmalloc(sizeof(*uw) + n);
        uw->u = u;
        memcpy(uw->data, p, n);
        b = uv_buf_init(uw->data, (unsigned)n);
        if (uv_write(&uw->w, (uv_stream_t *)&u->wp, &b, 1, on_upload_write) < 0) {
                free(uw);
                upload_close_pipe(u);
                return;
        }
        if (u->wp.write_queue_size > PIPE_HIGH)
                api_body_pause(r);
}

static void on_upload_shutdown(uv_shutdown_t *s, int status)
{
        upload_close_pipe(s->data);
}

static void upload_body_end(struct api_req *r)
{
        struct upload *u = r->data;

        if (u && u->reply_pending) {
                upload_reply(u);
                return;
        }
        if (!u || !u->wp_open)
                return;
        /* EOF for the loader once everything queued is written */
        u->shut.data = u;
        if (uv_shutdown(&u->shut, (uv_stream_t *)&u->wp, on_upload_shutdown) < 0)
                upload_close_pipe(u);
}

static void upload_cancel(struct api_req *r)
{
        struct upload *u = r->data;

        if (u && u->reply_pending)
                upload_reply(u);        /* nobody to answer: release */
        else if (u)
                upload_close_pipe(u);   /* the loader sees a short archive and fails */
}

static void add_stream_line(struct buf *b, const char *key, const char *prefix, const char *arg,
                            const char *suffix)
{
        cJSON *j = cJSON_CreateObject();
        char *text = xasprintf("%s%s%s", prefix, arg, suffix);

        cJSON_AddStringToObject(j, key, text);
        free(text);
        char *s = cJSON_PrintUnformatted(j);
        buf_adds(b, s);
        buf_adds(b, "\r\n");
        free(s);
        cJSON_Delete(j);
}

static void upload_reply(struct upload *u)
{
        struct api_req *r = u->r;
        struct buf b = BUF_INIT;
        int status = u->status;
        void *result = TAKE_PTR(u->result);
        const struct berth_err *err = &u->err;

        u->reply_pending = false;
        u->work_done = true;
        if (status == 0)
                api_images_recount(r->d);
        if (!r->cancelled && !r->done) {
                if (status < 0) {
                        api_reply_error(r, status, err);
                } else if (u->kind == UP_ARCHIVE) {
                        api_reply(r, 200, NULL, NULL, 0);
                } else if (u->kind == UP_LOAD) {
                        struct storage_load_result *lr = result;
                        for (char **t = lr ? lr->tags : NULL; t && *t; t++) {
                                add_stream_line(&b, "stream", "Loaded image: ", *t, "\n");
                                publish_image(r->d, "load", *t, *t);
                        }
                        for (char **t = lr ? lr->ids : NULL; t && *t; t++) {
                                add_stream_line(&b, "stream", "Loaded image ID: ", *t, "\n");
                                publish_image(r->d, "load", *t, NULL);
                        }
                        api_reply(r, 200, "application/json", b.data, b.len);
                } else {
                        const char *id = result;
                        add_stream_line(&b, "status", "", id ? id : "", "");
                        publish_image(r->d, "import", id ? id : "", u->repo);
                        api_reply(r, 200, "application/json", b.data, b.len);
                }
        }
        buf_release(&b);
        if (u->kind == UP_LOAD && result) {
                storage_load_result_release(result);
                free(result);
        } else {
                free(result);
        }
        r->data = NULL;
        r->on_body = NULL;
        r->on_body_end = NULL;
        r->on_cancel = NULL;
        upload_close_pipe(u);
        upload_maybe_free(u);
}

static void upload_done(int status, void *result, const struct berth_err *err, void *data)
{
        struct upload *u = data;
        struct api_req *r = u->r;

        u->status = status;
        u->result = result;
        if (err)
                u->err = *err;
        if (!r->complete && !r->cancelled && !r->done) {
                u->reply_pending = true;
                upload_close_pipe(u);
                if (r->body_paused)
                        api_body_resume(r);
                return;
        }
        upload_reply(u);
}

/* A bigger pipe between the loop and a worker streaming an archive: fewer
 * wakeups of both sides per MB (64 KiB by default; best effort). */
static void big_pipe(int fd)
{
        (void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);
}

/* Shared start of load and import: pipe, worker, body callbacks. */
static void upload_start(struct api_req *r, struct upload *u, const char *const *changes, const char *message)
{
        struct berth_err err = BERTH_ERR_INIT;
        int fds[2], rc;

        u->r = r;
        if (pipe2(fds, O_CLOEXEC) < 0) {
                api_reply_msg(r, 500, "pipe: %s", strerror(errno));
                free(u->repo);
                free(u->tag);
                free(u);
                return;
        }
        big_pipe(fds[1]);
        if (u->kind == UP_LOAD) {
                rc = storage_image_load_async(r->d->loop, r->d->storage, fds[0], upload_done, u, &err);
        } else if (u->kind == UP_ARCHIVE) {
                /* the worker takes the fd and the argument */
                u->archive->fd = fds[0];
                rc = storage_call_async(r->d->loop, r->d->storage, archive_put_work, u->archive, upload_done, u,
                                        &err);
                if (rc == 0)
                        u->archive = NULL;
        } else {
                struct storage_import_opts o = { .repo = u->repo, .tag = u->tag, .message = message,
                                                 .changes = changes, .platform_os = "linux",
                                                 .platform_arch = r->d->sys.arch_go };
                rc = storage_image_import_async(r->d->loop, r->d->storage, fds[0], &o, upload_done, u, &err);
        }
        if (rc < 0) {
                close(fds[0]);
                close(fds[1]);
                if (u->archive)
                        archive_arg_free(u->archive);
                free(u->repo);
                free(u->tag);
                free(u);
                api_reply_error(r, rc, &err);
                return;
        }
        api_req_ref(r);
        api_req_defer(r);
        uv_pipe_init(r->d->loop, &u->wp, 0);
        u->wp.data = u;
        if (uv_pipe_open(&u->wp, fds[1]) < 0) {
                close(fds[1]);
                u->wp_open = true;
                upload_close_pipe(u);   /* the loader reads EOF and fails */
        } else {
                u->wp_open = true;
        }
        r->data = u;
        r->on_body = upload_body;
        r->on_body_end = upload_body_end;
        r->on_cancel = upload_cancel;
        if (r->complete)
                upload_body_end(r);
}

void api_h_images_load(struct api_req *r)
{
        struct upload *u;

        if (api_need_storage(r) < 0)
                return;
        u = xcalloc(1, sizeof(*u));
        u->kind = UP_LOAD;
        u->quiet = api_query_bool(r, "quiet", false);
        upload_start(r, u, NULL, NULL);
}

/* POST /images/create: fromSrc=- imports the body; fromImage would pull */
void api_h_images_create(struct api_req *r)
{
        const char *src = api_query(r, "fromSrc"), *img = api_query(r, "fromImage");
        struct upload *u;

        if (api_need_storage(r) < 0)
                return;
        if (!src || !*src) {
                api_reply_msg(r, 501,
                              "pulling %s from a registry is not supported by this berth build: "
                              "bring the image with docker load or docker import",
                              img && *img ? img : "an image");
                return;
        }
        if (strcmp(src, "-")) {
                api_reply_msg(r, 501, "import from a URL (%s) is not supported: pipe the archive with fromSrc=-", src);
                return;
        }
        u = xcalloc(1, sizeof(*u));
        u->kind = UP_IMPORT;
        const char *repo = api_query(r, "repo"), *tag = api_query(r, "tag");
        u->repo = repo && *repo ? xstrdup(repo) : NULL;
        u->tag = tag && *tag ? xstrdup(tag) : NULL;
        /* changes=... may repeat */
        const char *changes[65];
        size_t n = 0;
        for (size_t i = 0; i < r->n_query && n < 64; i++)
                if (!strcmp(r->qkeys[i], "changes") && *r->qvals[i])
                        changes[n++] = r->qvals[i];
        changes[n] = NULL;
        upload_start(r, u, n ? changes : NULL, api_query(r, "message"));
}

/* ---- save: the worker writes a tar into a pipe, streamed to the client ---- */

struct download {
        struct api_req *r;
        uv_pipe_t rp;
        uv_timer_t timer;       /* re-checks backpressure while reading is stopped */
        int open_handles;
        bool rp_open;
        bool work_done;
        bool eof;
        bool started;
        int status;
        struct berth_err err;
};

static void download_maybe_finish(struct download *dl)
{
        struct api_req *r = dl->r;

        if (!dl->work_done || dl->rp_open || dl->open_handles)
                return;
        if (!r->cancelled && !r->done) {
                if (dl->status < 0 && !dl->started)
                        api_reply_error(r, dl->status, &dl->err);
                else if (dl->status < 0)
                        api_hijack_close(r), r->done = true;  /* truncated: drop the connection */
                else if (!dl->started)
                        api_stream_start(r, 200, "application/x-tar"), api_stream_end(r);
                else
                        api_stream_end(r);
        }
        r->data = NULL;
        r->on_cancel = NULL;
        api_req_unref(r);
        free(dl);
}

static void on_dl_close(uv_handle_t *h)
{
        struct download *dl = h->data;

        dl->open_handles--;
        download_maybe_finish(dl);
}

static void download_close(struct download *dl)
{
        if (!dl->rp_open)
                return;
        dl->rp_open = false;
        uv_close((uv_handle_t *)&dl->rp, on_dl_close);
        uv_close((uv_handle_t *)&dl->timer, on_dl_close);
}

static void dl_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
        b->base = xmalloc(DL_READ);
        b->len = DL_READ;
}

static void dl_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);

static void dl_check(uv_timer_t *t)
{
        struct download *dl = t->data;

        if (!dl->rp_open)
                return;
        if (dl->r->cancelled) {
                download_close(dl);
                return;
        }
        if (api_req_write_queue(dl->r) < PIPE_LOW)
                (void)uv_read_start((uv_stream_t *)&dl->rp, dl_alloc, dl_read);
        else
                uv_timer_start(&dl->timer, dl_check, 1, 0);
}

static void dl_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
        struct download *dl = s->data;
        struct api_req *r = dl->r;

        if (n > 0 && !r->cancelled && !r->done) {
                if (!dl->started) {
                        dl->started = true;
                        api_stream_start(r, 200, "application/x-tar");
                }
                api_stream_write(r, b->base, (size_t)n);
                if (api_req_write_queue(r) > PIPE_HIGH) {
                        (void)uv_read_stop(s);
                        uv_timer_start(&dl->timer, dl_check, 1, 0);
                }
        }
        free(b->base);
        if (n < 0 || r->cancelled)
                download_close(dl);     /* EOF or error: the worker's status decides */
}

static void download_done(int status, void *result, const struct berth_err *err, void *data)
{
        struct download *dl = data;

        dl->work_done = true;
        dl->status = status;
        if (err)
                dl->err = *err;
        free(result);
        download_maybe_finish(dl);
}

static void download_cancel(struct api_req *r)
{
        struct download *dl = r->data;

        if (dl)
                download_close(dl);     /* the worker gets EPIPE and stops */
}

/* A worker that writes a tar into wfd (it owns wfd from then on), queued
 * by the caller; its bytes stream to the client as ctype. */
typedef int (*download_queue_fn)(struct api_req *r, int wfd, void *arg, storage_done_cb cb, void *data,
                                 struct berth_err *err);

static void download_begin(struct api_req *r, download_queue_fn queue, void *arg)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct download *dl;
        int fds[2], rc;

        if (pipe2(fds, O_CLOEXEC) < 0) {
                api_reply_msg(r, 500, "pipe: %s", strerror(errno));
                return;
        }
        big_pipe(fds[1]);
        dl = xcalloc(1, sizeof(*dl));
        dl->r = r;
        rc = queue(r, fds[1], arg, download_done, dl, &err);
        if (rc < 0) {
                close(fds[0]);
                close(fds[1]);
                free(dl);
                api_reply_error(r, rc, &err);
                return;
        }
        api_req_ref(r);
        api_req_defer(r);
        r->data = dl;
        r->on_cancel = download_cancel;
        uv_pipe_init(r->d->loop, &dl->rp, 0);
        uv_timer_init(r->d->loop, &dl->timer);
        dl->rp.data = dl->timer.data = dl;
        dl->open_handles = 2;
        dl->rp_open = true;
        if (uv_pipe_open(&dl->rp, fds[0]) < 0 ||
            uv_read_start((uv_stream_t *)&dl->rp, dl_alloc, dl_read) < 0) {
                download_close(dl);
        }
}

static int queue_save(struct api_req *r, int wfd, void *arg, storage_done_cb cb, void *data, struct berth_err *err)
{
        return storage_image_save_async(r->d->loop, r->d->storage, arg, wfd, cb, data, err);
}

static void save_start(struct api_req *r, const char *const *names)
{
        download_begin(r, queue_save, (void *)names);
}

void api_h_image_get(struct api_req *r)
{
        const char *names[2] = { api_param(r, 0), NULL };

        if (api_need_storage(r) < 0)
                return;
        save_start(r, names);
}

void api_h_images_get(struct api_req *r)
{
        const char *names[129];
        size_t n = 0;

        if (api_need_storage(r) < 0)
                return;
        (void)api_query(r, "names");
        for (size_t i = 0; i < r->n_query && n < 128; i++)
                if (!strcmp(r->qkeys[i], "names") && *r->qvals[i])
                        names[n++] = r->qvals[i];
        names[n] = NULL;
        if (n == 0) {
                api_reply_msg(r, 400, "no image names given");
                return;
        }
        save_start(r, names);
}

/* ---- container filesystems: export, changes, archive (docker cp), commit ---- */

static struct berth_container *find_container(struct api_req *r)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct berth_container *c = berth_container_find(r->d, api_param(r, 0), &err);

        if (!c)
                api_reply_error(r, -err.code, &err);
        return c;
}

static int queue_export(struct api_req *r, int wfd, void *arg, storage_done_cb cb, void *data, struct berth_err *err)
{
        const struct berth_container *c = arg;

        return storage_rootfs_export_async(r->d->loop, r->d->storage, c->id, wfd, cb, data, err);
}

static void h_export(struct api_req *r)
{
        struct berth_container *c;

        if (api_need_storage(r) < 0 || !(c = find_container(r)))
                return;
        berth_events_publish(r->d->events, "container", "export", c->id, NULL);
        download_begin(r, queue_export, c);
}

static int changes_fn(struct api_work *aw)
{
        return storage_rootfs_changes(aw->d->storage, aw->s1, &aw->out, &aw->err);
}

static void h_changes(struct api_req *r)
{
        struct berth_container *c;

        if (api_need_storage(r) < 0 || !(c = find_container(r)))
                return;
        struct api_work *aw = api_work_new(r);
        aw->s1 = xstrdup(c->id);
        api_work_queue(aw, changes_fn, api_work_reply_200);
}


static void archive_arg_free(struct archive_arg *a)
{
        free(a->id);
        free(a->path);
        free(a);
}

static int stat_fn(struct api_work *aw)
{
        return storage_rootfs_path_stat(aw->d->storage, aw->s1, aw->s2, &aw->out, &aw->err);
}

/* Docker's X-Docker-Container-Path-Stat: base64 of the stat JSON */
static void add_stat_header(struct api_req *r, const cJSON *st)
{
        static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char *json = cJSON_PrintUnformatted(st);
        size_t n = strlen(json);
        struct buf b = BUF_INIT;

        for (size_t i = 0; i < n; i += 3) {
                unsigned v = (unsigned char)json[i] << 16 | (i + 1 < n ? (unsigned char)json[i + 1] << 8 : 0) |
                             (i + 2 < n ? (unsigned char)json[i + 2] : 0);
                buf_addc(&b, b64[v >> 18 & 63]);
                buf_addc(&b, b64[v >> 12 & 63]);
                buf_addc(&b, i + 1 < n ? b64[v >> 6 & 63] : '=');
                buf_addc(&b, i + 2 < n ? b64[v & 63] : '=');
        }
        api_add_header(r, "X-Docker-Container-Path-Stat", buf_cstr(&b));
        buf_release(&b);
        free(json);
}

static void head_done(struct api_work *aw)
{
        if (aw->rc < 0) {
                api_reply_error(aw->req, aw->rc, &aw->err);
                return;
        }
        add_stat_header(aw->req, aw->out);
        api_reply(aw->req, 200, "application/x-tar", NULL, 0);
}

static int archive_get_work(struct storage *s, void *arg, void **result, struct berth_err *err)
{
        struct archive_arg *a = arg;
        int r = storage_rootfs_archive_get(s, a->id, a->path, a->fd, NULL, err);

        close(a->fd);
        archive_arg_free(a);
        return r;
}

static int queue_archive_get(struct api_req *r, int wfd, void *arg, storage_done_cb cb, void *data,
                             struct berth_err *err)
{
        struct archive_arg *a = arg;
        int rc;

        a->fd = wfd;
        rc = storage_call_async(r->d->loop, r->d->storage, archive_get_work, a, cb, data, err);
        if (rc < 0)
                archive_arg_free(a);
        return rc;
}

static void get_done(struct api_work *aw)
{
        if (aw->rc < 0) {
                api_reply_error(aw->req, aw->rc, &aw->err);
                return;
        }
        add_stat_header(aw->req, aw->out);
        struct archive_arg *a = xcalloc(1, sizeof(*a));
        a->id = xstrdup(aw->s1);
        a->path = xstrdup(aw->s2);
        download_begin(aw->req, queue_archive_get, a);
}

static void archive_head_or_get(struct api_req *r, bool head)
{
        struct berth_container *c;
        const char *path = api_query(r, "path");

        if (api_need_storage(r) < 0 || !(c = find_container(r)))
                return;
        if (!path || !*path) {
                api_reply_msg(r, 400, "path parameter is required");
                return;
        }
        struct api_work *aw = api_work_new(r);
        aw->s1 = xstrdup(c->id);
        aw->s2 = xstrdup(path);
        api_work_queue(aw, stat_fn, head ? head_done : get_done);
}

static void h_archive_head(struct api_req *r)
{
        archive_head_or_get(r, true);
}

static void h_archive_get(struct api_req *r)
{
        archive_head_or_get(r, false);
}

static int archive_put_work(struct storage *s, void *arg, void **result, struct berth_err *err)
{
        struct archive_arg *a = arg;
        int r = storage_rootfs_archive_put(s, a->id, a->path, a->fd, a->no_overwrite, err);

        close(a->fd);
        archive_arg_free(a);
        return r;
}

static void h_archive_put(struct api_req *r)
{
        struct berth_container *c;
        const char *path = api_query(r, "path");

        if (api_need_storage(r) < 0 || !(c = find_container(r)))
                return;
        if (!path || !*path) {
                api_reply_msg(r, 400, "path parameter is required");
                return;
        }
        struct upload *u = xcalloc(1, sizeof(*u));
        u->kind = UP_ARCHIVE;
        u->archive = xcalloc(1, sizeof(*u->archive));
        u->archive->id = xstrdup(c->id);
        u->archive->path = xstrdup(path);
        u->archive->no_overwrite = api_query_bool(r, "noOverwriteDirNonDir", false);
        upload_start(r, u, NULL, NULL);
}

struct commit_arg {
        char *container, *repo, *tag, *author, *comment;
        char *changes[65];
        cJSON *config;
};

static void commit_free(struct commit_arg *a)
{
        free(a->container);
        free(a->repo);
        free(a->tag);
        free(a->author);
        free(a->comment);
        for (size_t i = 0; a->changes[i]; i++)
                free(a->changes[i]);
        cJSON_Delete(a->config);
        free(a);
}

static void commit_done(int status, void *result, const struct berth_err *err, void *data)
{
        struct api_req *r = data;
        struct commit_arg *a = r->data;

        r->data = NULL;
        if (!r->cancelled && !r->done) {
                if (status < 0) {
                        api_reply_error(r, status, err);
                } else {
                        cJSON *j = cJSON_CreateObject();
                        cJSON_AddStringToObject(j, "Id", result ? result : "");
                        cJSON *attrs = cJSON_CreateObject();
                        cJSON_AddStringToObject(attrs, "imageID", result ? result : "");
                        berth_events_publish(r->d->events, "container", "commit", a->container, attrs);
                        api_images_recount(r->d);
                        api_reply_json(r, 201, j);
                }
        }
        free(result);
        commit_free(a);
        api_req_unref(r);
}

static void h_commit(struct api_req *r)
{
        struct berth_err err = BERTH_ERR_INIT;
        const char *name = api_query(r, "container");
        struct berth_container *c;
        cJSON *body = NULL;
        size_t n = 0;

        if (api_need_storage(r) < 0)
                return;
        if (!name || !*name || !(c = berth_container_find(r->d, name, &err))) {
                if (!name || !*name)
                        api_reply_msg(r, 400, "the container parameter is required");
                else
                        api_reply_error(r, -err.code, &err);
                return;
        }
        if (api_body_json(r, true, &body, &err) < 0) {
                api_reply_error(r, -err.code, &err);
                return;
        }
        struct commit_arg *a = xcalloc(1, sizeof(*a));
        const char *v;
        a->container = xstrdup(c->id);
        a->repo = (v = api_query(r, "repo")) && *v ? xstrdup(v) : NULL;
        a->tag = (v = api_query(r, "tag")) && *v ? xstrdup(v) : NULL;
        a->author = xstrdup((v = api_query(r, "author")) ? v : "");
        a->comment = xstrdup((v = api_query(r, "comment")) ? v : "");
        for (size_t i = 0; i < r->n_query && n < 64; i++)
                if (!strcmp(r->qkeys[i], "changes") && *r->qvals[i])
                        a->changes[n++] = xstrdup(r->qvals[i]);
        /* the container's config, with the body's fields over it */
        a->config = c->config ? cJSON_Duplicate(c->config, true) : cJSON_CreateObject();
        const cJSON *e;
        cJSON_ArrayForEach(e, body) {
                cJSON_DeleteItemFromObjectCaseSensitive(a->config, e->string);
                cJSON_AddItemToObject(a->config, e->string, cJSON_Duplicate(e, true));
        }
        cJSON_Delete(body);
        struct storage_commit_opts o = { .repo = a->repo, .tag = a->tag, .author = a->author,
                                         .comment = a->comment, .changes = (const char *const *)a->changes,
                                         .config = a->config };
        api_req_ref(r);
        api_req_defer(r);
        r->data = a;
        if (storage_commit_async(r->d->loop, r->d->storage, c->id, &o, commit_done, r, &err) < 0) {
                r->data = NULL;
                commit_free(a);
                api_req_unref(r);
                api_reply_error(r, -err.code, &err);
        }
}

const struct api_route api_fs_routes[] = {
        { "GET", "/containers/{name}/export", h_export, 0 },
        { "GET", "/containers/{name}/changes", h_changes, 0 },
        { "HEAD", "/containers/{name}/archive", h_archive_head, 0 },
        { "GET", "/containers/{name}/archive", h_archive_get, 0 },
        { "PUT", "/containers/{name}/archive", h_archive_put, API_ROUTE_STREAM_BODY },
        { "POST", "/commit", h_commit, 0 },
};
const size_t api_n_fs_routes = ARRAY_SIZE(api_fs_routes);
