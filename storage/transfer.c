/* SPDX-License-Identifier: Apache-2.0
 * storage/transfer.c -- moving images in and out: docker-archive and
 * OCI-layout load, docker save, import of a rootfs tar, commit of a
 * container's upper dir, and Dockerfile-style --change lines. */
#include "config.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "storage/storage-internal.h"

#define MEDIA_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MEDIA_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MEDIA_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MEDIA_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MEDIA_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

static char *now_rfc3339(void)
{
        char ts[64];
        int64_t now = berth_now_ns();

        berth_time_rfc3339(now / 1000000000, (long)(now % 1000000000), ts, sizeof(ts));
        return xstrdup(ts);
}

void storage_load_result_release(struct storage_load_result *r)
{
        if (!r)
                return;
        st_strv_free(r->tags);
        st_strv_free(r->ids);
        r->tags = NULL;
        r->ids = NULL;
}

static void strv_push(char ***v, const char *x)
{
        size_t n = st_strv_len(*v);

        *v = xrealloc(*v, (n + 2) * sizeof(char *));
        (*v)[n] = xstrdup(x);
        (*v)[n + 1] = NULL;
}

/* ---- load ---- */

/* Speculative unpacking: while the outer archive is still being staged, a
 * worker thread unpacks each staged plain tar into <stage>/pre-N/diff (the
 * diff dir does not depend on the parent layer), so hashing/staging and
 * unpacking overlap on two cores.  A failed or skipped pre-unpack just
 * leaves the normal path to unpack (and report errors) later. */
struct pre {
        char *path;        /* staged file */
        char *diff;        /* pre-unpacked dir */
        uint64_t size;
        int status;        /* 1 pending, 0 done, <0 failed */
};

struct preworker {
        pthread_t thread;
        bool started;
        pthread_mutex_t mu;
        pthread_cond_t cond;
        struct pre **v;
        size_t n, next;
        bool closing;
        struct storage *s;
        char *dir;
};

static void *pre_main(void *arg)
{
        struct preworker *w = arg;

        pthread_mutex_lock(&w->mu);
        for (;;) {
                struct pre *p;
                int fd, r;

                while (w->next == w->n && !w->closing)
                        pthread_cond_wait(&w->cond, &w->mu);
                if (w->closing)
                        break; /* the load is over: what is left is moot */
                p = w->v[w->next++];
                pthread_mutex_unlock(&w->mu);
                r = mkdir(p->diff, 0755) < 0 ? -errno : 0;
                fd = r == 0 ? open(p->path, O_RDONLY | O_CLOEXEC) : -1;
                if (fd >= 0) {
                        struct berth_err e = BERTH_ERR_INIT;

                        r = st_tar_unpack(fd, p->diff, &p->size, &e);
                        close(fd);
                } else if (r == 0) {
                        r = -errno;
                }
                if (r < 0)
                        (void)st_rm_rf(p->diff);
                pthread_mutex_lock(&w->mu);
                p->status = r < 0 ? r : 0;
                pthread_cond_broadcast(&w->cond);
        }
        pthread_mutex_unlock(&w->mu);
        return NULL;
}

static bool looks_compressed(const char *path);

static void pre_on_file(const struct st_staged *e, void *data)
{
        struct preworker *w = data;
        struct pre *p;

        /* small files are configs and manifests; compressed layers and
         * anything that would pass the free-space bound take the slow path */
        if (e->size < 10240 || e->size % 512 != 0 || looks_compressed(e->path) ||
            st_space_check(w->s, e->size, NULL) < 0)
                return;
        p = xcalloc(1, sizeof(*p));
        p->path = xstrdup(e->path);
        p->status = 1;
        pthread_mutex_lock(&w->mu);
        p->diff = xasprintf("%s/pre-%zu", w->dir, w->n);
        w->v = xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
        w->v[w->n++] = p;
        if (!w->started)
                w->started = pthread_create(&w->thread, NULL, pre_main, w) == 0;
        if (!w->started)
                p->status = -EAGAIN, w->next = w->n;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->mu);
}

/* The pre-unpacked dir of a staged file (waits for it), or NULL. */
static struct pre *pre_find(struct preworker *w, const char *path)
{
        struct pre *p = NULL;
        size_t i;

        pthread_mutex_lock(&w->mu);
        for (i = 0; i < w->n; i++)
                if (!strcmp(w->v[i]->path, path)) {
                        p = w->v[i];
                        break;
                }
        while (p && p->status == 1)
                pthread_cond_wait(&w->cond, &w->mu);
        pthread_mutex_unlock(&w->mu);
        return p && p->status == 0 ? p : NULL;
}

static void pre_stop(struct preworker *w)
{
        size_t i;

        pthread_mutex_lock(&w->mu);
        w->closing = true;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->mu);
        if (w->started)
                pthread_join(w->thread, NULL);
        for (i = 0; i < w->n; i++) {
                free(w->v[i]->path);
                free(w->v[i]->diff);
                free(w->v[i]);
        }
        free(w->v);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cond);
}

struct load_ctx {
        struct storage *s;
        char *dir;
        struct st_staged *st;
        size_t n;
        char **pins;
        struct preworker pre;
};

static struct st_staged *staged_find(struct load_ctx *c, const char *name)
{
        _cleanup_free_ char *clean = NULL;
        size_t i;

        while (name[0] == '.' && name[1] == '/')
                name += 2;
        clean = xstrdup(name);
        for (i = 0; i < c->n; i++)
                if (!strcmp(c->st[i].name, clean) && c->st[i].path)
                        return &c->st[i];
        return NULL;
}

static struct st_staged *staged_blob(struct load_ctx *c, const char *digest,
                                     struct berth_err *err)
{
        const char *hex = st_digest_hex(digest);
        _cleanup_free_ char *name = NULL;
        struct st_staged *e;

        if (!hex) {
                berth_err_pub(err, EINVAL, "invalid digest '%s' in archive",
                              digest ? digest : "");
                return NULL;
        }
        name = xasprintf("blobs/sha256/%s", hex);
        e = staged_find(c, name);
        if (!e) {
                berth_err_pub(err, EINVAL, "blob %s is missing from the archive", digest);
                return NULL;
        }
        if (strcmp(e->hex, hex)) {
                berth_err_pub(err, EINVAL, "blob %s: content hashes to sha256:%s", digest, e->hex);
                return NULL;
        }
        return e;
}

static int read_staged(struct st_staged *e, cJSON **ret, struct berth_err *err)
{
        _cleanup_free_ char *d = NULL;
        size_t n = 0;
        int r;

        r = berth_read_file(e->path, ST_MAX_JSON, &d, &n, err);
        if (r < 0)
                return r;
        r = berth_json_parse(d, n, ret, err);
        if (r < 0)
                return berth_err_pub(err, EINVAL, "%s: invalid JSON", e->name);
        return 0;
}

static bool looks_compressed(const char *path)
{
        unsigned char m[6] = { 0 };
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return false;
        n = read(fd, m, sizeof(m));
        if (n < 4)
                return false;
        return (m[0] == 0x1f && m[1] == 0x8b) ||
               (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) ||
               (m[0] == 0xfd && m[1] == '7' && m[2] == 'z' && m[3] == 'X') ||
               (m[0] == 'B' && m[1] == 'Z' && m[2] == 'h');
}

/* Put a staged layer into the blob store as its uncompressed tar; returns
 * the diff ID (pinned). */
static int layer_to_blob(struct load_ctx *c, struct st_staged *e, char **ret_diff,
                         struct berth_err *err)
{
        _cleanup_free_ char *diff = NULL, *dst = NULL;
        int r;

        if (looks_compressed(e->path)) {
                _cleanup_free_ char *out = xasprintf("%s.tar", e->path);
                _cleanup_close_ int in = open(e->path, O_RDONLY | O_CLOEXEC);
                _cleanup_close_ int o = -1;
                char hex[ST_HEX_LEN + 1];
                uint64_t size = 0;

                if (in < 0)
                        return berth_err_set(err, errno, "open %s: %s", e->path, strerror(errno));
                o = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                if (o < 0)
                        return berth_err_set(err, errno, "create %s: %s", out, strerror(errno));
                r = st_tar_decompress(in, o, hex, &size, err);
                if (r < 0)
                        return berth_err_wrap(err, "layer %s", e->name);
                diff = xasprintf("sha256:%s", hex);
                st_lock(c->s);
                st_pin(c->s, diff);
                st_unlock(c->s);
                strv_push(&c->pins, diff);
                dst = st_path(c->s, "image/blobs/sha256/%s", hex);
                if (access(dst, F_OK) != 0) {
                        r = st_blob_adopt(c->s, out, hex, err);
                        if (r < 0)
                                return r;
                }
        } else {
                diff = xasprintf("sha256:%s", e->hex);
                st_lock(c->s);
                st_pin(c->s, diff);
                st_unlock(c->s);
                strv_push(&c->pins, diff);
                dst = st_path(c->s, "image/blobs/sha256/%s", e->hex);
                if (access(dst, F_OK) != 0) {
                        /* a staged file may be named by several entries
                         * (legacy symlinked layers): link, not rename */
                        _cleanup_free_ char *ln = xasprintf("%s.blob", e->path);

                        if (link(e->path, ln) < 0 && errno != EEXIST)
                                return berth_err_set(err, errno, "link %s: %s", ln,
                                                     strerror(errno));
                        r = st_blob_adopt(c->s, ln, e->hex, err);
                        if (r < 0)
                                return r;
                }
        }
        *ret_diff = TAKE_PTR(diff);
        return 0;
}

/* Load one image: config staged entry and its layer entries. */
static int load_image(struct load_ctx *c, struct st_staged *cfg_e, struct st_staged **layers,
                      size_t nl, char **ret_id, struct berth_err *err)
{
        _cleanup_free_ char *raw = NULL, *chain = NULL;
        _cleanup_json_ cJSON *cfg = NULL;
        const cJSON *dids;
        size_t n = 0, i;
        int r;

        r = berth_read_file(cfg_e->path, ST_MAX_JSON, &raw, &n, err);
        if (r < 0)
                return r;
        r = berth_json_parse(raw, n, &cfg, err);
        if (r < 0)
                return berth_err_pub(err, EINVAL, "image config %s: invalid JSON", cfg_e->name);
        dids = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cfg, "rootfs"),
                                                "diff_ids");
        if (!cJSON_IsArray(dids) || (size_t)cJSON_GetArraySize(dids) != nl)
                return berth_err_pub(err, EINVAL,
                                     "image config %s: %d diff IDs for %zu layers", cfg_e->name,
                                     cJSON_GetArraySize(dids), nl);
        for (i = 0; i < nl; i++) {
                _cleanup_free_ char *diff = NULL;
                char *next = NULL;
                const char *want = cJSON_GetStringValue(cJSON_GetArrayItem(dids, (int)i));

                r = layer_to_blob(c, layers[i], &diff, err);
                if (r < 0)
                        return r;
                if (!want || strcmp(want, diff))
                        return berth_err_pub(err, EINVAL,
                                             "layer %s: diff ID %s does not match the config's %s",
                                             layers[i]->name, diff, want ? want : "(none)");
                {
                        _cleanup_free_ char *cid = st_chain_id(chain, diff);

                        st_lock(c->s);
                        st_pin(c->s, cid);
                        st_unlock(c->s);
                        strv_push(&c->pins, cid);
                }
                {
                        struct pre *p = pre_find(&c->pre, layers[i]->path);
                        struct stat pst;

                        /* a pre-unpacked dir is used once (it is moved) */
                        if (p && stat(p->diff, &pst) < 0)
                                p = NULL;
                        r = st_layer_create_from(c->s, chain, diff, p ? p->diff : NULL,
                                                 p ? p->size : 0, &next, err);
                }
                if (r < 0)
                        return r;
                free(chain);
                chain = next;
        }
        st_crash_point("layers-done");
        st_lock(c->s);
        r = st_image_write_config(c->s, raw, n, NULL, ret_id, err);
        st_unlock(c->s);
        return r;
}

static int tag_loaded(struct storage *s, const char *name, const char *id,
                      struct storage_load_result *res, struct berth_err *err)
{
        struct storage_ref ref;
        _cleanup_free_ char *full = NULL, *fam = NULL;
        int r;

        r = storage_ref_parse(name, &ref, err);
        if (r < 0)
                return r;
        full = storage_ref_full(&ref);
        fam = storage_ref_familiar(&ref);
        storage_ref_release(&ref);
        st_lock(s);
        r = st_repo_set(s, full, id, err);
        st_unlock(s);
        if (r < 0)
                return r;
        if (res)
                strv_push(&res->tags, fam);
        return 0;
}

static int load_docker_archive(struct load_ctx *c, const cJSON *manifest,
                               struct storage_load_result *res, struct berth_err *err)
{
        const cJSON *m;
        int r;

        if (!cJSON_IsArray(manifest))
                return berth_err_pub(err, EINVAL, "manifest.json: not an array");
        cJSON_ArrayForEach(m, manifest) {
                const char *cfgname = berth_json_str(m, "Config");
                const cJSON *ls = cJSON_GetObjectItemCaseSensitive(m, "Layers");
                const cJSON *tags = cJSON_GetObjectItemCaseSensitive(m, "RepoTags"), *x;
                struct st_staged *cfg_e, **layers;
                _cleanup_free_ char *id = NULL;
                size_t nl = 0;

                if (!cfgname || !cJSON_IsArray(ls))
                        return berth_err_pub(err, EINVAL, "manifest.json: entry without Config "
                                                          "or Layers");
                cfg_e = staged_find(c, cfgname);
                if (!cfg_e)
                        return berth_err_pub(err, EINVAL, "manifest.json: %s not in the archive",
                                             cfgname);
                layers = xcalloc((size_t)cJSON_GetArraySize(ls) + 1, sizeof(*layers));
                cJSON_ArrayForEach(x, ls) {
                        const char *ln = cJSON_GetStringValue(x);
                        struct st_staged *e = ln ? staged_find(c, ln) : NULL;
                        const char *slash;

                        if (!e) {
                                free(layers);
                                return berth_err_pub(err, EINVAL,
                                                     "manifest.json: layer %s not in the archive",
                                                     ln ? ln : "?");
                        }
                        /* a layer named by its digest must hash to it */
                        slash = strrchr(ln, '/');
                        if (berth_str_has_prefix(ln, "blobs/sha256/") && slash &&
                            strcmp(slash + 1, e->hex)) {
                                free(layers);
                                return berth_err_pub(err, EINVAL,
                                                     "blob %s: content hashes to sha256:%s", ln,
                                                     e->hex);
                        }
                        layers[nl++] = e;
                }
                r = load_image(c, cfg_e, layers, nl, &id, err);
                free(layers);
                if (r < 0)
                        return r;
                if (cJSON_GetArraySize(tags) == 0 && res)
                        strv_push(&res->ids, id);
                cJSON_ArrayForEach(x, tags) {
                        if (!cJSON_IsString(x))
                                continue;
                        r = tag_loaded(c->s, x->valuestring, id, res, err);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int load_oci_manifest(struct load_ctx *c, const cJSON *desc, const char *name,
                             struct storage_load_result *res, int depth, struct berth_err *err)
{
        const char *digest = berth_json_str(desc, "digest");
        const char *mt = berth_json_str(desc, "mediaType");
        struct st_staged *me = staged_blob(c, digest, err), *cfg_e, **layers;
        _cleanup_json_ cJSON *man = NULL;
        _cleanup_free_ char *id = NULL;
        const cJSON *ls, *x;
        size_t nl = 0;
        int r;

        if (!me)
                return -err->code;
        r = read_staged(me, &man, err);
        if (r < 0)
                return r;
        if (!mt)
                mt = berth_json_str(man, "mediaType");
        if ((mt && (!strcmp(mt, MEDIA_OCI_INDEX) || !strcmp(mt, MEDIA_DOCKER_LIST))) ||
            cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(man, "manifests"))) {
                const cJSON *pick = NULL;

                if (depth > 2)
                        return berth_err_pub(err, EINVAL, "OCI index nested too deep");
                cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(man, "manifests")) {
                        const cJSON *p = cJSON_GetObjectItemCaseSensitive(x, "platform");
                        const char *os = berth_json_str(p, "os");
                        const char *arch = berth_json_str(p, "architecture");

                        if (!p || ((!os || !strcmp(os, "linux")) &&
                                   (!arch || !strcmp(arch, "amd64")))) {
                                const char *d = berth_json_str(x, "digest");
                                _cleanup_free_ char *bn = NULL;

                                if (!st_digest_hex(d))
                                        continue;
                                bn = xasprintf("blobs/sha256/%s", d + 7);
                                if (!staged_find(c, bn))
                                        continue;
                                pick = x;
                                break;
                        }
                }
                if (!pick)
                        return berth_err_pub(err, EINVAL,
                                             "no linux/amd64 manifest present in the archive");
                return load_oci_manifest(c, pick, name, res, depth + 1, err);
        }
        cfg_e = staged_blob(c, berth_json_str(cJSON_GetObjectItemCaseSensitive(man, "config"),
                                              "digest"), err);
        if (!cfg_e)
                return -err->code;
        ls = cJSON_GetObjectItemCaseSensitive(man, "layers");
        layers = xcalloc((size_t)cJSON_GetArraySize(ls) + 1, sizeof(*layers));
        cJSON_ArrayForEach(x, ls) {
                struct st_staged *e = staged_blob(c, berth_json_str(x, "digest"), err);

                if (!e) {
                        free(layers);
                        return -err->code;
                }
                layers[nl++] = e;
        }
        r = load_image(c, cfg_e, layers, nl, &id, err);
        free(layers);
        if (r < 0)
                return r;
        if (name)
                return tag_loaded(c->s, name, id, res, err);
        if (res)
                strv_push(&res->ids, id);
        return 0;
}

static int load_oci(struct load_ctx *c, const cJSON *index, struct storage_load_result *res,
                    struct berth_err *err)
{
        const cJSON *m;
        int r;

        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(index, "manifests")) {
                const cJSON *ann = cJSON_GetObjectItemCaseSensitive(m, "annotations");
                const char *name = berth_json_str(ann, "io.containerd.image.name");
                const char *refname = berth_json_str(ann, "org.opencontainers.image.ref.name");
                struct storage_ref tmp;

                /* a ref.name that is a whole reference (not just a tag) names the image */
                if (!name && refname && strpbrk(refname, "/:") &&
                    storage_ref_parse(refname, &tmp, NULL) == 0) {
                        storage_ref_release(&tmp);
                        name = refname;
                }
                r = load_oci_manifest(c, m, name, res, 0, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int storage_image_load(struct storage *s, int fd, struct storage_load_result *res,
                       struct berth_err *err)
{
        struct load_ctx c = { .s = s };
        struct st_staged *man;
        size_t i;
        int r;

        if (res)
                memset(res, 0, sizeof(*res));
        r = st_space_check(s, 0, err);
        if (r < 0)
                return r;
        r = st_mkdtemp(s, "load", &c.dir, err);
        if (r < 0)
                return r;
        pthread_mutex_init(&c.pre.mu, NULL);
        pthread_cond_init(&c.pre.cond, NULL);
        c.pre.s = s;
        c.pre.dir = c.dir;
        r = st_tar_stage(s, fd, c.dir, pre_on_file, &c.pre, &c.st, &c.n, err);
        if (r < 0)
                goto out;
        st_crash_point("load-staged");
        man = staged_find(&c, "manifest.json");
        if (man) {
                _cleanup_json_ cJSON *j = NULL;

                r = read_staged(man, &j, err);
                if (r == 0)
                        r = load_docker_archive(&c, j, res, err);
        } else if ((man = staged_find(&c, "index.json"))) {
                _cleanup_json_ cJSON *j = NULL;

                r = read_staged(man, &j, err);
                if (r == 0)
                        r = load_oci(&c, j, res, err);
        } else {
                r = berth_err_pub(err, EINVAL,
                                  "invalid archive: neither manifest.json nor index.json found");
        }
out:
        pre_stop(&c.pre);
        st_lock(s);
        for (i = 0; c.pins && c.pins[i]; i++)
                st_unpin(s, c.pins[i]);
        if (r < 0)
                (void)st_gc_locked(s, NULL, NULL, NULL);
        st_unlock(s);
        st_strv_free(c.pins);
        st_staged_free(c.st, c.n);
        (void)st_rm_rf(c.dir);
        free(c.dir);
        if (r < 0 && res)
                storage_load_result_release(res);
        return r;
}

/* ---- save ---- */

struct save_img {
        char *id;
        char **tags;    /* full refs */
};

static int add_blob_once(struct st_tar_out *o, char ***done, const char *hex, const char *path,
                         const void *data, size_t len, struct berth_err *err)
{
        _cleanup_free_ char *name = xasprintf("blobs/sha256/%s", hex);
        size_t i;

        for (i = 0; *done && (*done)[i]; i++)
                if (!strcmp((*done)[i], hex))
                        return 0;
        strv_push(done, hex);
        if (path)
                return st_tar_out_file(o, name, path, err);
        return st_tar_out_bytes(o, name, data, len, err);
}

int storage_image_save(struct storage *s, const char *const *names, int fd,
                       struct berth_err *err)
{
        struct save_img *imgs = NULL;
        size_t ni = 0, i, k;
        struct st_tar_out *o = NULL;
        cJSON *manifest = cJSON_CreateArray(), *index = cJSON_CreateObject(), *repos;
        cJSON *imans;
        char **done = NULL;
        int r = 0;

        repos = cJSON_CreateObject();
        for (k = 0; names && names[k]; k++) {
                _cleanup_free_ char *id = NULL, *full = NULL;
                struct storage_ref ref;

                r = storage_image_resolve(s, names[k], &id, err);
                if (r < 0)
                        goto out;
                /* a reference (not an ID) also saves that tag */
                if (!berth_str_has_prefix(names[k], "sha256:") &&
                    !(strlen(names[k]) <= ST_HEX_LEN && st_is_hex(names[k], strlen(names[k])) &&
                      !strncmp(id + 7, names[k], strlen(names[k]))) &&
                    storage_ref_parse(names[k], &ref, NULL) == 0) {
                        if (!ref.digest)
                                full = storage_ref_full(&ref);
                        storage_ref_release(&ref);
                }
                for (i = 0; i < ni; i++)
                        if (!strcmp(imgs[i].id, id))
                                break;
                if (i == ni) {
                        imgs = xrealloc(imgs, (ni + 1) * sizeof(*imgs));
                        imgs[ni].id = TAKE_PTR(id);
                        imgs[ni].tags = xcalloc(1, sizeof(char *));
                        ni++;
                }
                if (full) {
                        bool dup = false;

                        {
                                size_t q;

                                for (q = 0; imgs[i].tags[q]; q++)
                                        if (!strcmp(imgs[i].tags[q], full))
                                                dup = true;
                        }
                        if (!dup)
                                strv_push(&imgs[i].tags, full);
                }
        }
        if (ni == 0) {
                r = berth_err_pub(err, EINVAL, "no image names given");
                goto out;
        }
        r = st_tar_out_new(fd, &o, err);
        if (r < 0)
                goto out;
        if ((r = st_tar_out_dir(o, "blobs/", err)) < 0 ||
            (r = st_tar_out_dir(o, "blobs/sha256/", err)) < 0)
                goto out;
        cJSON_AddNumberToObject(index, "schemaVersion", 2);
        cJSON_AddStringToObject(index, "mediaType", MEDIA_OCI_INDEX);
        imans = cJSON_AddArrayToObject(index, "manifests");
        for (i = 0; i < ni; i++) {
                _cleanup_free_ char *raw = NULL, *mraw = NULL, *mdig = NULL;
                _cleanup_json_ cJSON *cfg = NULL, *man = NULL;
                cJSON *entry, *layers, *mlayers, *cd, *tagsarr;
                const cJSON *x;
                size_t n = 0;
                _cleanup_free_ char *cpath = st_path(s, "image/imagedb/content/sha256/%s",
                                                     imgs[i].id + 7);

                r = berth_read_file(cpath, ST_MAX_JSON, &raw, &n, err);
                if (r < 0)
                        goto out;
                r = berth_json_parse(raw, n, &cfg, err);
                if (r < 0)
                        goto out;
                r = add_blob_once(o, &done, imgs[i].id + 7, NULL, raw, n, err);
                if (r < 0)
                        goto out;
                man = cJSON_CreateObject();
                cJSON_AddNumberToObject(man, "schemaVersion", 2);
                cJSON_AddStringToObject(man, "mediaType", MEDIA_OCI_MANIFEST);
                cd = cJSON_AddObjectToObject(man, "config");
                cJSON_AddStringToObject(cd, "mediaType", MEDIA_OCI_CONFIG);
                cJSON_AddStringToObject(cd, "digest", imgs[i].id);
                cJSON_AddNumberToObject(cd, "size", (double)n);
                mlayers = cJSON_AddArrayToObject(man, "layers");
                entry = cJSON_CreateObject();
                {
                        _cleanup_free_ char *cn = xasprintf("blobs/sha256/%s", imgs[i].id + 7);

                        cJSON_AddStringToObject(entry, "Config", cn);
                }
                tagsarr = cJSON_AddArrayToObject(entry, "RepoTags");
                layers = cJSON_AddArrayToObject(entry, "Layers");
                cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(
                                              cJSON_GetObjectItemCaseSensitive(cfg, "rootfs"),
                                              "diff_ids")) {
                        const char *d = cJSON_GetStringValue(x);
                        _cleanup_free_ char *bp = NULL, *ln = NULL;
                        struct stat st;
                        cJSON *ld;

                        if (!st_digest_hex(d)) {
                                r = berth_err_set(err, EIO, "image %s: bad diff ID", imgs[i].id);
                                goto out;
                        }
                        bp = st_path(s, "image/blobs/sha256/%s", d + 7);
                        if (stat(bp, &st) < 0) {
                                r = berth_err_set(err, EIO, "image %s: layer blob %s missing",
                                                  imgs[i].id, d);
                                goto out;
                        }
                        r = add_blob_once(o, &done, d + 7, bp, NULL, 0, err);
                        if (r < 0)
                                goto out;
                        ln = xasprintf("blobs/sha256/%s", d + 7);
                        cJSON_AddItemToArray(layers, cJSON_CreateString(ln));
                        ld = cJSON_CreateObject();
                        cJSON_AddStringToObject(ld, "mediaType", MEDIA_OCI_LAYER);
                        cJSON_AddStringToObject(ld, "digest", d);
                        cJSON_AddNumberToObject(ld, "size", (double)st.st_size);
                        cJSON_AddItemToArray(mlayers, ld);
                }
                mraw = cJSON_PrintUnformatted(man);
                mdig = storage_sha256_digest(mraw, strlen(mraw));
                r = add_blob_once(o, &done, mdig + 7, NULL, mraw, strlen(mraw), err);
                if (r < 0)
                        goto out;
                for (k = 0; imgs[i].tags[k]; k++) {
                        struct storage_ref ref;
                        cJSON *d = cJSON_CreateObject(), *ann;

                        cJSON_AddStringToObject(d, "mediaType", MEDIA_OCI_MANIFEST);
                        cJSON_AddStringToObject(d, "digest", mdig);
                        cJSON_AddNumberToObject(d, "size", (double)strlen(mraw));
                        ann = cJSON_AddObjectToObject(d, "annotations");
                        cJSON_AddStringToObject(ann, "io.containerd.image.name", imgs[i].tags[k]);
                        if (storage_ref_parse(imgs[i].tags[k], &ref, NULL) == 0) {
                                char *fam = storage_ref_familiar(&ref);
                                char *fname = storage_ref_familiar_name(&ref);
                                cJSON *rn = cJSON_GetObjectItemCaseSensitive(repos, fname);

                                cJSON_AddStringToObject(ann, "org.opencontainers.image.ref.name",
                                                        ref.tag ? ref.tag : "latest");
                                cJSON_AddItemToArray(tagsarr, cJSON_CreateString(fam));
                                if (!rn)
                                        rn = cJSON_AddObjectToObject(repos, fname);
                                cJSON_DeleteItemFromObjectCaseSensitive(rn, ref.tag);
                                cJSON_AddStringToObject(rn, ref.tag ? ref.tag : "latest",
                                                        imgs[i].id + 7);
                                free(fam);
                                free(fname);
                                storage_ref_release(&ref);
                        }
                        cJSON_AddItemToArray(imans, d);
                }
                if (!imgs[i].tags[0]) {
                        cJSON *d = cJSON_CreateObject();

                        cJSON_AddStringToObject(d, "mediaType", MEDIA_OCI_MANIFEST);
                        cJSON_AddStringToObject(d, "digest", mdig);
                        cJSON_AddNumberToObject(d, "size", (double)strlen(mraw));
                        cJSON_AddItemToArray(imans, d);
                        cJSON_Delete(cJSON_DetachItemFromObjectCaseSensitive(entry, "RepoTags"));
                        cJSON_AddNullToObject(entry, "RepoTags");
                }
                cJSON_AddItemToArray(manifest, entry);
                free(mraw);
                mraw = NULL;
        }
        {
                static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
                char *ix = cJSON_PrintUnformatted(index);
                char *mf = cJSON_PrintUnformatted(manifest);
                char *rp = cJSON_PrintUnformatted(repos);

                if ((r = st_tar_out_bytes(o, "index.json", ix, strlen(ix), err)) == 0 &&
                    (r = st_tar_out_bytes(o, "manifest.json", mf, strlen(mf), err)) == 0 &&
                    (r = st_tar_out_bytes(o, "oci-layout", layout, STRLEN(layout), err)) == 0 &&
                    cJSON_GetArraySize(repos) > 0)
                        r = st_tar_out_bytes(o, "repositories", rp, strlen(rp), err);
                free(ix);
                free(mf);
                free(rp);
                if (r < 0)
                        goto out;
        }
        r = st_tar_out_finish(o, err);
out:
        st_tar_out_free(o);
        for (i = 0; i < ni; i++) {
                free(imgs[i].id);
                st_strv_free(imgs[i].tags);
        }
        free(imgs);
        st_strv_free(done);
        cJSON_Delete(manifest);
        cJSON_Delete(index);
        cJSON_Delete(repos);
        return r;
}

/* ---- changes (Dockerfile subset) ---- */

static cJSON *parse_cmd_value(const char *v)
{
        cJSON *j = NULL;

        while (*v == ' ' || *v == '\t')
                v++;
        if (*v == '[' && berth_json_parse(v, strlen(v), &j, NULL) == 0 && cJSON_IsArray(j)) {
                const cJSON *x;

                cJSON_ArrayForEach(x, j)
                        if (!cJSON_IsString(x)) {
                                cJSON_Delete(j);
                                return NULL;
                        }
                return j;
        }
        cJSON_Delete(j);
        j = cJSON_CreateArray();
        cJSON_AddItemToArray(j, cJSON_CreateString("/bin/sh"));
        cJSON_AddItemToArray(j, cJSON_CreateString("-c"));
        cJSON_AddItemToArray(j, cJSON_CreateString(v));
        return j;
}

static cJSON *obj_get(cJSON *o, const char *k, bool array)
{
        cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);

        if (array ? cJSON_IsArray(x) : cJSON_IsObject(x))
                return x;
        cJSON_DeleteItemFromObjectCaseSensitive(o, k);
        return array ? cJSON_AddArrayToObject(o, k) : cJSON_AddObjectToObject(o, k);
}

/* Split "k=v k2=v2" or "k v" pairs; quotes around values are removed. */
static int kv_pairs(const char *v, void (*fn)(cJSON *, const char *, const char *), cJSON *target)
{
        const char *p = v;

        while (*p == ' ')
                p++;
        if (!strchr(p, '=')) {
                const char *sp = strpbrk(p, " \t");
                _cleanup_free_ char *k = NULL;

                if (!sp)
                        return -EINVAL;
                k = xstrndup(p, (size_t)(sp - p));
                while (*sp == ' ' || *sp == '\t')
                        sp++;
                fn(target, k, sp);
                return 0;
        }
        while (*p) {
                struct buf k = BUF_INIT, val = BUF_INIT;
                char q = 0;

                while (*p == ' ' || *p == '\t')
                        p++;
                if (!*p)
                        break;
                while (*p && *p != '=' && *p != ' ')
                        buf_addc(&k, *p++);
                if (*p != '=') {
                        buf_release(&k);
                        return -EINVAL;
                }
                p++;
                while (*p && (q || (*p != ' ' && *p != '\t'))) {
                        if (!q && (*p == '"' || *p == '\'')) {
                                q = *p++;
                                continue;
                        }
                        if (q && *p == q) {
                                q = 0;
                                p++;
                                continue;
                        }
                        if (*p == '\\' && p[1])
                                p++;
                        buf_addc(&val, *p++);
                }
                buf_addc(&val, '\0');
                fn(target, buf_cstr(&k), val.data);
                buf_release(&k);
                buf_release(&val);
        }
        return 0;
}

static void set_env(cJSON *env, const char *k, const char *v)
{
        size_t kl = strlen(k);
        cJSON *x;
        _cleanup_free_ char *line = xasprintf("%s=%s", k, v);

        cJSON_ArrayForEach(x, env) {
                const char *e = cJSON_GetStringValue(x);

                if (e && !strncmp(e, k, kl) && e[kl] == '=') {
                        cJSON_SetValuestring(x, line);
                        return;
                }
        }
        cJSON_AddItemToArray(env, cJSON_CreateString(line));
}

static void set_label(cJSON *labels, const char *k, const char *v)
{
        cJSON_DeleteItemFromObjectCaseSensitive(labels, k);
        cJSON_AddStringToObject(labels, k, v);
}

int storage_apply_changes(cJSON *config, const char *const *changes, struct berth_err *err)
{
        size_t i;

        for (i = 0; changes && changes[i]; i++) {
                const char *line = changes[i], *sp;
                _cleanup_free_ char *kw = NULL;
                const char *v;
                size_t j;

                while (*line == ' ' || *line == '\t')
                        line++;
                if (!*line)
                        continue;
                sp = strpbrk(line, " \t");
                kw = sp ? xstrndup(line, (size_t)(sp - line)) : xstrdup(line);
                for (j = 0; kw[j]; j++)
                        kw[j] = (char)toupper((unsigned char)kw[j]);
                v = sp ? sp : "";
                while (*v == ' ' || *v == '\t')
                        v++;
                if (!strcmp(kw, "CMD") || !strcmp(kw, "ENTRYPOINT")) {
                        cJSON *c = parse_cmd_value(v);

                        if (!c)
                                return berth_err_pub(err, EINVAL, "%s requires a JSON array of "
                                                                  "strings or a command", kw);
                        cJSON_DeleteItemFromObjectCaseSensitive(config, !strcmp(kw, "CMD")
                                                                                ? "Cmd"
                                                                                : "Entrypoint");
                        cJSON_AddItemToObject(config, !strcmp(kw, "CMD") ? "Cmd" : "Entrypoint",
                                              c);
                } else if (!strcmp(kw, "ENV")) {
                        if (kv_pairs(v, set_env, obj_get(config, "Env", true)) < 0)
                                return berth_err_pub(err, EINVAL, "ENV names can not be blank");
                } else if (!strcmp(kw, "LABEL")) {
                        if (kv_pairs(v, set_label, obj_get(config, "Labels", false)) < 0)
                                return berth_err_pub(err, EINVAL, "LABEL requires key=value");
                } else if (!strcmp(kw, "EXPOSE")) {
                        cJSON *ports = obj_get(config, "ExposedPorts", false);
                        _cleanup_free_ char *copy = xstrdup(v);
                        char *save = NULL, *tok;

                        for (tok = strtok_r(copy, " \t", &save); tok;
                             tok = strtok_r(NULL, " \t", &save)) {
                                _cleanup_free_ char *p = strchr(tok, '/') ? xstrdup(tok)
                                                                          : xasprintf("%s/tcp", tok);

                                if (!isdigit((unsigned char)tok[0]))
                                        return berth_err_pub(err, EINVAL, "invalid port '%s'", tok);
                                cJSON_DeleteItemFromObjectCaseSensitive(ports, p);
                                cJSON_AddObjectToObject(ports, p);
                        }
                } else if (!strcmp(kw, "VOLUME")) {
                        cJSON *vols = obj_get(config, "Volumes", false);
                        cJSON *arr = NULL;
                        const cJSON *x;

                        if (*v == '[' && berth_json_parse(v, strlen(v), &arr, NULL) == 0 &&
                            cJSON_IsArray(arr)) {
                                cJSON_ArrayForEach(x, arr)
                                        if (cJSON_IsString(x)) {
                                                cJSON_DeleteItemFromObjectCaseSensitive(
                                                        vols, x->valuestring);
                                                cJSON_AddObjectToObject(vols, x->valuestring);
                                        }
                        } else {
                                _cleanup_free_ char *copy = xstrdup(v);
                                char *save = NULL, *tok;

                                for (tok = strtok_r(copy, " \t", &save); tok;
                                     tok = strtok_r(NULL, " \t", &save)) {
                                        cJSON_DeleteItemFromObjectCaseSensitive(vols, tok);
                                        cJSON_AddObjectToObject(vols, tok);
                                }
                        }
                        cJSON_Delete(arr);
                } else if (!strcmp(kw, "USER") || !strcmp(kw, "WORKDIR") ||
                           !strcmp(kw, "STOPSIGNAL")) {
                        const char *k = !strcmp(kw, "USER") ? "User"
                                        : !strcmp(kw, "WORKDIR") ? "WorkingDir" : "StopSignal";

                        cJSON_DeleteItemFromObjectCaseSensitive(config, k);
                        cJSON_AddStringToObject(config, k, v);
                } else if (!strcmp(kw, "ONBUILD")) {
                        cJSON_AddItemToArray(obj_get(config, "OnBuild", true),
                                             cJSON_CreateString(v));
                } else {
                        return berth_err_pub(err, EINVAL, "%s is not a valid change command",
                                             kw);
                }
        }
        return 0;
}

static cJSON *default_container_config(void)
{
        cJSON *c = cJSON_CreateObject();

        cJSON_AddStringToObject(c, "Hostname", "");
        cJSON_AddStringToObject(c, "Domainname", "");
        cJSON_AddStringToObject(c, "User", "");
        cJSON_AddFalseToObject(c, "AttachStdin");
        cJSON_AddFalseToObject(c, "AttachStdout");
        cJSON_AddFalseToObject(c, "AttachStderr");
        cJSON_AddFalseToObject(c, "Tty");
        cJSON_AddFalseToObject(c, "OpenStdin");
        cJSON_AddFalseToObject(c, "StdinOnce");
        cJSON_AddNullToObject(c, "Env");
        cJSON_AddNullToObject(c, "Cmd");
        cJSON_AddStringToObject(c, "Image", "");
        cJSON_AddNullToObject(c, "Volumes");
        cJSON_AddStringToObject(c, "WorkingDir", "");
        cJSON_AddNullToObject(c, "Entrypoint");
        cJSON_AddNullToObject(c, "OnBuild");
        cJSON_AddNullToObject(c, "Labels");
        return c;
}

/* Write cfg as an image and tag it; *ret_id. */
static int finish_image(struct storage *s, cJSON *cfg, const char *parent, const char *repo,
                        const char *tag, char **ret_id, struct berth_err *err)
{
        char *raw = cJSON_PrintUnformatted(cfg);
        _cleanup_free_ char *id = NULL;
        int r;

        st_lock(s);
        r = st_image_write_config(s, raw, strlen(raw), parent, &id, err);
        st_unlock(s);
        free(raw);
        if (r < 0)
                return r;
        if (repo && *repo) {
                r = storage_image_tag(s, id, repo, tag, err);
                if (r < 0)
                        return r;
        }
        if (ret_id)
                *ret_id = TAKE_PTR(id);
        return 0;
}

/* Hash a tar file into the blob store and make its layer on parent. */
static int layer_from_file(struct storage *s, const char *path, const char *hex,
                           const char *parent, char **ret_diff, char **ret_chain,
                           struct berth_err *err)
{
        _cleanup_free_ char *diff = xasprintf("sha256:%s", hex);
        _cleanup_free_ char *dst = st_path(s, "image/blobs/sha256/%s", hex);
        _cleanup_free_ char *cid = st_chain_id(parent, diff);
        int r = 0;

        st_lock(s);
        st_pin(s, diff);
        st_pin(s, cid);
        st_unlock(s);
        if (access(dst, F_OK) != 0)
                r = st_blob_adopt(s, path, hex, err);
        if (r == 0)
                r = st_layer_create(s, parent, diff, ret_chain, err);
        if (r == 0 && ret_diff)
                *ret_diff = TAKE_PTR(diff);
        return r;
}

static void unpin2(struct storage *s, const char *parent, const char *hex)
{
        _cleanup_free_ char *diff = xasprintf("sha256:%s", hex);
        _cleanup_free_ char *cid = st_chain_id(parent, diff);

        st_lock(s);
        st_unpin(s, diff);
        st_unpin(s, cid);
        st_unlock(s);
}

int storage_image_import(struct storage *s, int fd, const struct storage_import_opts *o,
                         char **ret_id, struct berth_err *err)
{
        static const struct storage_import_opts none = { 0 };
        _cleanup_free_ char *dir = NULL, *tarp = NULL, *diff = NULL, *chain = NULL;
        _cleanup_free_ char *now = now_rfc3339();
        _cleanup_json_ cJSON *cfg = NULL;
        _cleanup_close_ int out = -1;
        char hex[ST_HEX_LEN + 1] = "";
        cJSON *c, *rootfs, *hist, *h;
        uint64_t size = 0;
        int r;

        if (!o)
                o = &none;
        if (o->repo && *o->repo) {
                /* validate the name before reading anything */
                struct storage_ref ref;
                _cleanup_free_ char *in = o->tag && *o->tag ? xasprintf("%s:%s", o->repo, o->tag)
                                                            : xstrdup(o->repo);

                r = storage_ref_parse(in, &ref, err);
                if (r < 0)
                        return r;
                storage_ref_release(&ref);
        }
        cfg = cJSON_CreateObject();
        c = default_container_config();
        r = storage_apply_changes(c, o->changes, err);
        if (r < 0) {
                cJSON_Delete(c);
                return r;
        }
        r = st_space_check(s, 0, err);
        if (r < 0) {
                cJSON_Delete(c);
                return r;
        }
        r = st_mkdtemp(s, "import", &dir, err);
        if (r < 0) {
                cJSON_Delete(c);
                return r;
        }
        tarp = xasprintf("%s/layer.tar", dir);
        out = open(tarp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (out < 0) {
                r = berth_err_set(err, errno, "create %s: %s", tarp, strerror(errno));
                cJSON_Delete(c);
                goto done;
        }
        r = st_tar_decompress(fd, out, hex, &size, err);
        if (r < 0) {
                cJSON_Delete(c);
                goto done;
        }
        r = layer_from_file(s, tarp, hex, NULL, &diff, &chain, err);
        if (r < 0) {
                cJSON_Delete(c);
                goto done;
        }
        cJSON_AddStringToObject(cfg, "architecture", o->platform_arch ? o->platform_arch : "amd64");
        if (o->message && *o->message)
                cJSON_AddStringToObject(cfg, "comment", o->message);
        cJSON_AddItemToObject(cfg, "config", c);
        cJSON_AddStringToObject(cfg, "created", now);
        cJSON_AddStringToObject(cfg, "docker_version", PACKAGE_VERSION);
        hist = cJSON_AddArrayToObject(cfg, "history");
        h = cJSON_CreateObject();
        cJSON_AddStringToObject(h, "created", now);
        cJSON_AddStringToObject(h, "comment", o->message && *o->message ? o->message
                                                                        : "Imported from -");
        cJSON_AddItemToArray(hist, h);
        cJSON_AddStringToObject(cfg, "os", o->platform_os ? o->platform_os : "linux");
        rootfs = cJSON_AddObjectToObject(cfg, "rootfs");
        cJSON_AddStringToObject(rootfs, "type", "layers");
        cJSON_AddItemToArray(cJSON_AddArrayToObject(rootfs, "diff_ids"), cJSON_CreateString(diff));
        r = finish_image(s, cfg, NULL, o->repo, o->tag, ret_id, err);
done:
        if (hex[0])
                unpin2(s, NULL, hex);
        (void)st_rm_rf(dir);
        return r;
}

/* ---- commit ---- */

int storage_commit(struct storage *s, const char *container_id,
                   const struct storage_commit_opts *o, char **ret_id, struct berth_err *err)
{
        static const struct storage_commit_opts none = { 0 };
        _cleanup_free_ char *upper = NULL, *parent = NULL, *dir = NULL, *tarp = NULL;
        _cleanup_free_ char *diff = NULL, *chain = NULL, *parent_img = NULL;
        _cleanup_free_ char *now = now_rfc3339();
        _cleanup_json_ cJSON *cfg = NULL;
        _cleanup_close_ int out = -1;
        struct st_tar_out *t = NULL;
        char hex[ST_HEX_LEN + 1] = "";
        cJSON *c, *h;
        uint64_t size = 0;
        int r;

        if (!o)
                o = &none;
        r = st_rootfs_upper(s, container_id, &upper, &parent, err);
        if (r < 0)
                return r;
        r = st_space_check(s, st_du(upper) * 2, err);
        if (r < 0)
                return r;
        /* the image the container was made from: the one whose top chain is
         * the mount's parent (newest such) */
        {
                char **ids = st_image_ids(s);
                size_t i;

                for (i = 0; ids[i] && !cfg; i++) {
                        _cleanup_json_ cJSON *ic = st_config_load(s, ids[i]);
                        size_t n = 0;
                        char **ch = ic ? st_config_chains(ic, &n) : NULL;

                        if (ic && ((n && !strcmp(ch[n - 1], parent)) || (!n && !*parent))) {
                                cfg = TAKE_PTR(ic);
                                parent_img = xasprintf("sha256:%s", ids[i]);
                        }
                        st_strv_free(ch);
                }
                st_strv_free(ids);
        }
        if (!cfg)
                return berth_err_set(err, ENOENT, "image of container %s not found",
                                     container_id);
        r = st_mkdtemp(s, "commit", &dir, err);
        if (r < 0)
                return r;
        tarp = xasprintf("%s/layer.tar", dir);
        out = open(tarp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (out < 0) {
                r = berth_err_set(err, errno, "create %s: %s", tarp, strerror(errno));
                goto done;
        }
        r = st_tar_out_new(out, &t, err);
        if (r == 0)
                r = st_tar_out_tree(t, upper, ST_TREE_UPPER, err);
        if (r == 0)
                r = st_tar_out_finish(t, err);
        st_tar_out_free(t);
        if (r < 0)
                goto done;
        if (lseek(out, 0, SEEK_SET) < 0 || (r = st_hash_fd(out, hex, &size)) < 0) {
                r = berth_err_set(err, errno, "hash layer: %s", strerror(errno));
                hex[0] = '\0';
                goto done;
        }
        r = layer_from_file(s, tarp, hex, *parent ? parent : NULL, &diff, &chain, err);
        if (r < 0)
                goto done;
        /* new config: container config (or the image's) + changes */
        c = o->config ? cJSON_Duplicate(o->config, 1)
                      : cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(cfg, "config"), 1);
        if (!c)
                c = default_container_config();
        r = storage_apply_changes(c, o->changes, err);
        if (r < 0) {
                cJSON_Delete(c);
                goto done;
        }
        if (o->config) {
                cJSON_DeleteItemFromObjectCaseSensitive(cfg, "container_config");
                cJSON_AddItemToObject(cfg, "container_config", cJSON_Duplicate(o->config, 1));
        }
        cJSON_ReplaceItemInObjectCaseSensitive(cfg, "config", c);
        if (!cJSON_GetObjectItemCaseSensitive(cfg, "config"))
                cJSON_AddItemToObject(cfg, "config", c);
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "created");
        cJSON_AddStringToObject(cfg, "created", now);
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "container");
        cJSON_AddStringToObject(cfg, "container", container_id);
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "comment");
        if (o->comment && *o->comment)
                cJSON_AddStringToObject(cfg, "comment", o->comment);
        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "author");
        if (o->author && *o->author)
                cJSON_AddStringToObject(cfg, "author", o->author);
        h = cJSON_CreateObject();
        cJSON_AddStringToObject(h, "created", now);
        if (o->author && *o->author)
                cJSON_AddStringToObject(h, "author", o->author);
        if (o->comment && *o->comment)
                cJSON_AddStringToObject(h, "comment", o->comment);
        {
                cJSON *hist = cJSON_GetObjectItemCaseSensitive(cfg, "history");

                if (!cJSON_IsArray(hist)) {
                        cJSON_DeleteItemFromObjectCaseSensitive(cfg, "history");
                        hist = cJSON_AddArrayToObject(cfg, "history");
                }
                cJSON_AddItemToArray(hist, h);
        }
        {
                cJSON *rootfs = cJSON_GetObjectItemCaseSensitive(cfg, "rootfs");
                cJSON *dids = cJSON_GetObjectItemCaseSensitive(rootfs, "diff_ids");

                cJSON_AddItemToArray(dids, cJSON_CreateString(diff));
        }
        r = finish_image(s, cfg, parent_img, o->repo, o->tag, ret_id, err);
done:
        if (hex[0])
                unpin2(s, *parent ? parent : NULL, hex);
        (void)st_rm_rf(dir);
        return r;
}
