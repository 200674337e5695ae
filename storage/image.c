/* SPDX-License-Identifier: Apache-2.0
 * storage/image.c -- image configs, the repositories index, resolve,
 * inspect/list/history, tag, remove, prune. */
#include "config.h"

#include <dirent.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "storage/storage-internal.h"

/* ---- configs ---- */

char **st_image_ids(struct storage *s)
{
        _cleanup_free_ char *dir = st_path(s, "image/imagedb/content/sha256");
        DIR *d = opendir(dir);
        struct dirent *de;
        char **v = xcalloc(1, sizeof(char *));
        size_t n = 0;

        if (!d)
                return v;
        while ((de = readdir(d))) {
                if (!st_is_hex(de->d_name, ST_HEX_LEN))
                        continue;
                v = xrealloc(v, (n + 2) * sizeof(char *));
                v[n++] = xstrdup(de->d_name);
                v[n] = NULL;
        }
        closedir(d);
        return v;
}

static int load_config_raw(struct storage *s, const char *hex, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *p = st_path(s, "image/imagedb/content/sha256/%s", hex);

        return berth_read_file(p, ST_MAX_JSON, ret, ret_len, NULL);
}

cJSON *st_config_load(struct storage *s, const char *id_hex)
{
        _cleanup_free_ char *data = NULL;
        size_t n = 0;
        cJSON *j = NULL;

        if (load_config_raw(s, id_hex, &data, &n) < 0)
                return NULL;
        if (berth_json_parse(data, n, &j, NULL) < 0)
                return NULL;
        return j;
}

int st_image_write_config(struct storage *s, const char *data, size_t len, const char *parent,
                          char **ret_id, struct berth_err *err)
{
        _cleanup_free_ char *id = storage_sha256_digest(data, len);
        _cleanup_free_ char *p = st_path(s, "image/imagedb/content/sha256/%s", id + 7);
        _cleanup_free_ char *md = st_path(s, "image/imagedb/metadata/sha256/%s", id + 7);
        _cleanup_json_ cJSON *j = NULL;
        int r;

        r = berth_json_parse(data, len, &j, err);
        if (r < 0)
                return berth_err_pub(err, EINVAL, "invalid image config: %s", err ? err->msg : "");
        if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "rootfs")))
                return berth_err_pub(err, EINVAL, "invalid image config: no rootfs");
        if (parent && *parent) {
                _cleanup_free_ char *pp = xasprintf("%s/parent", md);

                (void)berth_mkdir_p(md, 0700);
                r = st_write_str(pp, parent, err);
                if (r < 0)
                        return r;
        }
        if (access(p, F_OK) != 0) {
                r = berth_write_file_atomic(p, data, len, 0600, err);
                if (r < 0)
                        return r;
        }
        if (ret_id)
                *ret_id = TAKE_PTR(id);
        return 0;
}

static char *image_parent(struct storage *s, const char *hex)
{
        _cleanup_free_ char *p = st_path(s, "image/imagedb/metadata/sha256/%s/parent", hex);

        return st_read_str(p);
}

/* ---- repositories index: {"Refs":{"docker.io/library/x:tag":"sha256:.."}} ---- */

static cJSON *repo_load(struct storage *s)
{
        _cleanup_free_ char *p = st_path(s, "image/repositories.json");
        _cleanup_free_ char *d = NULL;
        size_t n = 0;
        cJSON *j = NULL;

        if (berth_read_file(p, ST_MAX_JSON, &d, &n, NULL) < 0 ||
            berth_json_parse(d, n, &j, NULL) < 0 || !cJSON_IsObject(j)) {
                cJSON_Delete(j);
                j = cJSON_CreateObject();
        }
        if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "Refs"))) {
                cJSON_DeleteItemFromObjectCaseSensitive(j, "Refs");
                cJSON_AddObjectToObject(j, "Refs");
        }
        return j;
}

static int repo_save(struct storage *s, cJSON *j, struct berth_err *err)
{
        _cleanup_free_ char *p = st_path(s, "image/repositories.json");
        struct buf b = BUF_INIT;
        int r;

        berth_json_append(&b, j);
        r = berth_write_file_atomic(p, b.data, b.len, 0600, err);
        buf_release(&b);
        return r;
}

/* locked by caller */
int st_repo_set(struct storage *s, const char *full_ref, const char *id, struct berth_err *err)
{
        _cleanup_json_ cJSON *j = repo_load(s);
        cJSON *refs = cJSON_GetObjectItemCaseSensitive(j, "Refs");

        cJSON_DeleteItemFromObjectCaseSensitive(refs, full_ref);
        cJSON_AddStringToObject(refs, full_ref, id);
        return repo_save(s, j, err);
}

/* Familiar names of refs pointing at id: tags (digests=false) or digests. */
static cJSON *refs_of(const cJSON *repo, const char *id, bool digests, bool null_if_empty)
{
        const cJSON *refs = cJSON_GetObjectItemCaseSensitive(repo, "Refs");
        cJSON *arr = cJSON_CreateArray();
        const cJSON *x;

        cJSON_ArrayForEach(x, refs) {
                struct storage_ref r;

                if (!cJSON_IsString(x) || strcmp(x->valuestring, id))
                        continue;
                if ((strchr(x->string, '@') != NULL) != digests)
                        continue;
                if (storage_ref_parse(x->string, &r, NULL) == 0) {
                        char *f = storage_ref_familiar(&r);

                        cJSON_AddItemToArray(arr, cJSON_CreateString(f));
                        free(f);
                        storage_ref_release(&r);
                }
        }
        if (null_if_empty && cJSON_GetArraySize(arr) == 0) {
                cJSON_Delete(arr);
                return cJSON_CreateNull();
        }
        return arr;
}

static int count_refs(const cJSON *repo, const char *id)
{
        const cJSON *refs = cJSON_GetObjectItemCaseSensitive(repo, "Refs");
        const cJSON *x;
        int n = 0;

        cJSON_ArrayForEach(x, refs)
                if (cJSON_IsString(x) && !strcmp(x->valuestring, id))
                        n++;
        return n;
}

/* ---- resolve ---- */

static bool image_exists(struct storage *s, const char *hex)
{
        _cleanup_free_ char *p = st_path(s, "image/imagedb/content/sha256/%s", hex);

        return access(p, F_OK) == 0;
}

int storage_image_resolve(struct storage *s, const char *name, char **ret_id,
                          struct berth_err *err)
{
        struct storage_ref ref;
        const char *hex = NULL;
        size_t nl;

        if (!name || !*name)
                return berth_err_pub(err, EINVAL, "image name is empty");
        if (berth_str_has_prefix(name, "sha256:")) {
                hex = name + 7;
        } else if (st_is_hex(name, ST_HEX_LEN)) {
                hex = name;
        }
        if (hex && st_is_hex(hex, ST_HEX_LEN)) {
                if (!image_exists(s, hex))
                        return berth_err_pub(err, ENOENT, "No such image: %s", name);
                *ret_id = xasprintf("sha256:%s", hex);
                return 0;
        }
        if (storage_ref_parse(name, &ref, NULL) == 0) {
                _cleanup_free_ char *full = storage_ref_full(&ref);
                _cleanup_json_ cJSON *repo = repo_load(s);
                const char *id = berth_json_str(cJSON_GetObjectItemCaseSensitive(repo, "Refs"),
                                                full);

                if (id && st_digest_hex(id) && image_exists(s, id + 7)) {
                        *ret_id = xstrdup(id);
                        storage_ref_release(&ref);
                        return 0;
                }
                storage_ref_release(&ref);
        }
        /* a short ID prefix */
        hex = berth_str_has_prefix(name, "sha256:") ? name + 7 : name;
        nl = strlen(hex);
        if (nl > 0 && nl < ST_HEX_LEN && st_is_hex(hex, nl)) {
                char **ids = st_image_ids(s);
                const char *found = NULL;
                size_t i;
                int hits = 0;

                for (i = 0; ids[i]; i++)
                        if (!strncmp(ids[i], hex, nl)) {
                                found = ids[i];
                                hits++;
                        }
                if (hits == 1)
                        *ret_id = xasprintf("sha256:%s", found);
                st_strv_free(ids);
                if (hits == 1)
                        return 0;
                if (hits > 1)
                        return berth_err_pub(err, EINVAL,
                                             "multiple IDs found with provided prefix: %s", name);
        }
        if (storage_ref_parse(name, &ref, NULL) == 0) {
                _cleanup_free_ char *f = storage_ref_familiar(&ref);

                storage_ref_release(&ref);
                return berth_err_pub(err, ENOENT, "No such image: %s", f);
        }
        return berth_err_pub(err, ENOENT, "No such image: %s", name);
}

int storage_image_config(struct storage *s, const char *name, cJSON **ret,
                         struct berth_err *err)
{
        _cleanup_free_ char *id = NULL;
        cJSON *j;
        int r;

        r = storage_image_resolve(s, name, &id, err);
        if (r < 0)
                return r;
        j = st_config_load(s, id + 7);
        if (!j)
                return berth_err_set(err, EIO, "image %s: config unreadable", id);
        *ret = j;
        return 0;
}

/* ---- inspect, list, history ---- */

static int64_t parse_time(const char *s)
{
        struct tm tm = { 0 };
        const char *p;
        time_t t;

        if (!s)
                return 0;
        p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!p)
                return 0;
        t = timegm(&tm);
        while (*p == '.' || (*p >= '0' && *p <= '9'))
                p++;
        if ((*p == '+' || *p == '-') && strlen(p) >= 6) {
                int off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 +
                          ((p[4] - '0') * 10 + (p[5] - '0')) * 60;

                t += *p == '+' ? -off : off;
        }
        return (int64_t)t;
}

static uint64_t image_size(struct storage *s, const cJSON *cfg)
{
        size_t n = 0, i;
        char **chains = st_config_chains(cfg, &n);
        uint64_t total = 0;

        for (i = 0; i < n; i++)
                total += st_layer_size(s, chains[i]);
        st_strv_free(chains);
        return total;
}

static cJSON *dup_or(const cJSON *x, cJSON *fallback)
{
        if (x) {
                cJSON_Delete(fallback);
                return cJSON_Duplicate(x, 1);
        }
        return fallback;
}

static cJSON *graphdriver_of(struct storage *s, const cJSON *cfg)
{
        size_t n = 0, i;
        char **chains = st_config_chains(cfg, &n);
        cJSON *o = cJSON_CreateObject(), *data = cJSON_AddObjectToObject(o, "Data");
        struct buf lower = BUF_INIT;

        for (i = 0; i + 1 < n; i++) {
                _cleanup_free_ char *c = st_layer_cache_id(s, chains[n - 2 - i]);
                _cleanup_free_ char *p = c ? st_path(s, "overlay/%s/diff", c) : NULL;

                if (p)
                        buf_addf(&lower, "%s%s", lower.len ? ":" : "", p);
        }
        if (lower.len)
                cJSON_AddStringToObject(data, "LowerDir", buf_cstr(&lower));
        if (n) {
                _cleanup_free_ char *c = st_layer_cache_id(s, chains[n - 1]);

                if (c) {
                        _cleanup_free_ char *m = st_path(s, "overlay/%s/merged", c);
                        _cleanup_free_ char *u = st_path(s, "overlay/%s/diff", c);
                        _cleanup_free_ char *w = st_path(s, "overlay/%s/work", c);

                        cJSON_AddStringToObject(data, "MergedDir", m);
                        cJSON_AddStringToObject(data, "UpperDir", u);
                        cJSON_AddStringToObject(data, "WorkDir", w);
                }
        }
        cJSON_AddStringToObject(o, "Name", "overlay2");
        buf_release(&lower);
        st_strv_free(chains);
        return o;
}

static char *last_tag_time(struct storage *s, const char *hex)
{
        _cleanup_free_ char *p = st_path(s, "image/imagedb/metadata/sha256/%s/lastUpdated", hex);

        return st_read_str(p);
}

static cJSON *inspect_of(struct storage *s, const cJSON *repo, const char *id, const cJSON *cfg)
{
        cJSON *o = cJSON_CreateObject(), *rootfs, *layers, *meta;
        const cJSON *x;
        _cleanup_free_ char *parent = image_parent(s, id + 7);
        _cleanup_free_ char *ltt = last_tag_time(s, id + 7);
        uint64_t size = image_size(s, cfg);
        const char *str;

        cJSON_AddStringToObject(o, "Id", id);
        cJSON_AddItemToObject(o, "RepoTags", refs_of(repo, id, false, false));
        cJSON_AddItemToObject(o, "RepoDigests", refs_of(repo, id, true, false));
        cJSON_AddStringToObject(o, "Parent", parent ? parent : "");
        str = berth_json_str(cfg, "comment");
        cJSON_AddStringToObject(o, "Comment", str ? str : "");
        str = berth_json_str(cfg, "created");
        cJSON_AddStringToObject(o, "Created", str ? str : "0001-01-01T00:00:00Z");
        str = berth_json_str(cfg, "container");
        cJSON_AddStringToObject(o, "Container", str ? str : "");
        cJSON_AddItemToObject(o, "ContainerConfig",
                              dup_or(cJSON_GetObjectItemCaseSensitive(cfg, "container_config"),
                                     cJSON_CreateObject()));
        str = berth_json_str(cfg, "docker_version");
        cJSON_AddStringToObject(o, "DockerVersion", str ? str : "");
        str = berth_json_str(cfg, "author");
        cJSON_AddStringToObject(o, "Author", str ? str : "");
        cJSON_AddItemToObject(o, "Config", dup_or(cJSON_GetObjectItemCaseSensitive(cfg, "config"),
                                                  cJSON_CreateNull()));
        str = berth_json_str(cfg, "architecture");
        cJSON_AddStringToObject(o, "Architecture", str ? str : "");
        if ((str = berth_json_str(cfg, "variant")))
                cJSON_AddStringToObject(o, "Variant", str);
        str = berth_json_str(cfg, "os");
        cJSON_AddStringToObject(o, "Os", str ? str : "");
        cJSON_AddNumberToObject(o, "Size", (double)size);
        cJSON_AddNumberToObject(o, "VirtualSize", (double)size);
        cJSON_AddItemToObject(o, "GraphDriver", graphdriver_of(s, cfg));
        rootfs = cJSON_AddObjectToObject(o, "RootFS");
        cJSON_AddStringToObject(rootfs, "Type", "layers");
        layers = cJSON_AddArrayToObject(rootfs, "Layers");
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(
                                      cJSON_GetObjectItemCaseSensitive(cfg, "rootfs"), "diff_ids"))
                if (cJSON_IsString(x))
                        cJSON_AddItemToArray(layers, cJSON_CreateString(x->valuestring));
        meta = cJSON_AddObjectToObject(o, "Metadata");
        if (ltt)
                cJSON_AddStringToObject(meta, "LastTagTime", ltt);
        else
                cJSON_AddStringToObject(meta, "LastTagTime", "0001-01-01T00:00:00Z");
        return o;
}

int storage_image_inspect(struct storage *s, const char *name, cJSON **ret,
                          struct berth_err *err)
{
        _cleanup_free_ char *id = NULL;
        _cleanup_json_ cJSON *cfg = NULL, *repo = NULL;
        int r;

        r = storage_image_resolve(s, name, &id, err);
        if (r < 0)
                return r;
        cfg = st_config_load(s, id + 7);
        if (!cfg)
                return berth_err_set(err, EIO, "image %s: config unreadable", id);
        repo = repo_load(s);
        *ret = inspect_of(s, repo, id, cfg);
        return 0;
}

static cJSON *summary_of(struct storage *s, const cJSON *repo, const char *id, const cJSON *cfg)
{
        cJSON *o = cJSON_CreateObject();
        _cleanup_free_ char *parent = image_parent(s, id + 7);
        const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(cfg, "config"), "Labels");
        uint64_t size = image_size(s, cfg);

        cJSON_AddNumberToObject(o, "Containers", -1);
        cJSON_AddNumberToObject(o, "Created", (double)parse_time(berth_json_str(cfg, "created")));
        cJSON_AddStringToObject(o, "Id", id);
        cJSON_AddItemToObject(o, "Labels", dup_or(cJSON_IsObject(labels) ? labels : NULL,
                                                  cJSON_CreateNull()));
        cJSON_AddStringToObject(o, "ParentId", parent ? parent : "");
        cJSON_AddItemToObject(o, "RepoDigests", refs_of(repo, id, true, true));
        cJSON_AddItemToObject(o, "RepoTags", refs_of(repo, id, false, true));
        cJSON_AddNumberToObject(o, "SharedSize", -1);
        cJSON_AddNumberToObject(o, "Size", (double)size);
        cJSON_AddNumberToObject(o, "VirtualSize", (double)size);
        return o;
}

/* values of filter key k in both {"k":{"v":true}} and {"k":["v"]} forms */
static char **filter_values(const cJSON *filters, const char *k)
{
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(filters, k), *x;
        char **v = xcalloc(1, sizeof(char *));
        size_t n = 0;

        cJSON_ArrayForEach(x, f) {
                const char *val = cJSON_IsObject(f) ? x->string : cJSON_GetStringValue(x);

                if (cJSON_IsObject(f) && !cJSON_IsTrue(x))
                        continue;
                if (!val)
                        continue;
                v = xrealloc(v, (n + 2) * sizeof(char *));
                v[n++] = xstrdup(val);
                v[n] = NULL;
        }
        return v;
}

static bool labels_match(const cJSON *labels, char **want)
{
        size_t i;

        for (i = 0; want[i]; i++) {
                char *eq = strchr(want[i], '=');
                const char *have;

                if (eq) {
                        _cleanup_free_ char *k = xstrndup(want[i], (size_t)(eq - want[i]));

                        have = berth_json_str(labels, k);
                        if (!have || strcmp(have, eq + 1))
                                return false;
                } else if (!cJSON_GetObjectItemCaseSensitive(labels, want[i])) {
                        return false;
                }
        }
        return true;
}

/* Docker's reference filter: path.Match of the pattern against the
 * familiar name (with or without the tag). */
static bool ref_filter_match(const cJSON *tags, char **want)
{
        const cJSON *t;
        size_t i;

        if (!want[0])
                return true;
        cJSON_ArrayForEach(t, tags) {
                const char *tag = cJSON_GetStringValue(t);
                _cleanup_free_ char *name = NULL;
                char *colon;

                if (!tag)
                        continue;
                name = xstrdup(tag);
                colon = strrchr(name, ':');
                if (colon && !strchr(colon, '/'))
                        *colon = '\0';
                for (i = 0; want[i]; i++) {
                        if (!strcmp(want[i], tag) || !strcmp(want[i], name))
                                return true;
                        if (fnmatch(want[i], tag, FNM_PATHNAME) == 0 ||
                            fnmatch(want[i], name, FNM_PATHNAME) == 0)
                                return true;
                }
        }
        return false;
}

int storage_image_list(struct storage *s, const struct storage_image_filter *f, cJSON **ret,
                       struct berth_err *err)
{
        const cJSON *filters = f ? f->filters : NULL;
        char **ids = st_image_ids(s);
        char **dangling = filter_values(filters, "dangling");
        char **labels = filter_values(filters, "label");
        char **refs = filter_values(filters, "reference");
        char **before = filter_values(filters, "before");
        char **since = filter_values(filters, "since");
        _cleanup_json_ cJSON *repo = repo_load(s);
        int64_t before_t = INT64_MAX, since_t = INT64_MIN;
        cJSON *arr = cJSON_CreateArray();
        char **parents = NULL;
        size_t i, np = 0;
        int r = 0;

        if (before[0] || since[0]) {
                for (i = 0; i < 2; i++) {
                        char **v = i ? since : before;
                        _cleanup_free_ char *bid = NULL;
                        _cleanup_json_ cJSON *bc = NULL;

                        if (!v[0])
                                continue;
                        r = storage_image_resolve(s, v[0], &bid, err);
                        if (r < 0)
                                goto out;
                        bc = st_config_load(s, bid + 7);
                        if (i)
                                since_t = parse_time(berth_json_str(bc, "created"));
                        else
                                before_t = parse_time(berth_json_str(bc, "created"));
                }
        }
        /* intermediate images (parents of others, untagged) hide without all */
        for (i = 0; ids[i]; i++) {
                char *p = image_parent(s, ids[i]);

                if (p) {
                        parents = xrealloc(parents, (np + 1) * sizeof(char *));
                        parents[np++] = p;
                }
        }
        for (i = 0; ids[i]; i++) {
                _cleanup_json_ cJSON *cfg = st_config_load(s, ids[i]);
                _cleanup_free_ char *id = xasprintf("sha256:%s", ids[i]);
                cJSON *sum;
                int nrefs;
                int64_t created;
                size_t j;
                bool is_parent = false;

                if (!cfg)
                        continue;
                nrefs = count_refs(repo, id);
                for (j = 0; j < np; j++)
                        if (!strcmp(parents[j], id))
                                is_parent = true;
                if (!(f && f->all) && nrefs == 0 && is_parent)
                        continue;
                if (dangling[0]) {
                        bool want = berth_parse_bool(dangling[0]);

                        if (want != (nrefs == 0))
                                continue;
                }
                created = parse_time(berth_json_str(cfg, "created"));
                if (created >= before_t || created <= since_t)
                        continue;
                if (labels[0] &&
                    !labels_match(cJSON_GetObjectItemCaseSensitive(
                                          cJSON_GetObjectItemCaseSensitive(cfg, "config"), "Labels"),
                                  labels))
                        continue;
                sum = summary_of(s, repo, id, cfg);
                if (!ref_filter_match(cJSON_GetObjectItemCaseSensitive(sum, "RepoTags"), refs)) {
                        cJSON_Delete(sum);
                        continue;
                }
                cJSON_AddItemToArray(arr, sum);
        }
        /* newest first, as Docker sorts (stable).  Rebuilt rather than
         * moved in place: cJSON 1.7.15's InsertItemInArray loses items. */
        {
                size_t n = (size_t)cJSON_GetArraySize(arr), k = 0, a;
                cJSON **v = xcalloc(n + 1, sizeof(*v));

                while (arr->child && k < n)
                        v[k++] = cJSON_DetachItemViaPointer(arr, arr->child);
                for (a = 1; a < k; a++) {
                        cJSON *y = v[a];
                        double cy = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(y, "Created"));
                        size_t b = a;

                        while (b > 0 && cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
                                                v[b - 1], "Created")) < cy) {
                                v[b] = v[b - 1];
                                b--;
                        }
                        v[b] = y;
                }
                for (a = 0; a < k; a++)
                        cJSON_AddItemToArray(arr, v[a]);
                free(v);
        }
out:
        for (i = 0; i < np; i++)
                free(parents[i]);
        free(parents);
        st_strv_free(ids);
        st_strv_free(dangling);
        st_strv_free(labels);
        st_strv_free(refs);
        st_strv_free(before);
        st_strv_free(since);
        if (r < 0) {
                cJSON_Delete(arr);
                return r;
        }
        *ret = arr;
        return 0;
}

int storage_image_history(struct storage *s, const char *name, cJSON **ret,
                          struct berth_err *err)
{
        _cleanup_free_ char *id = NULL;
        _cleanup_json_ cJSON *cfg = NULL, *repo = NULL;
        const cJSON *hist, *h;
        char **chains;
        size_t nchains = 0, li = 0;
        cJSON *arr;
        int r, n;

        r = storage_image_resolve(s, name, &id, err);
        if (r < 0)
                return r;
        cfg = st_config_load(s, id + 7);
        if (!cfg)
                return berth_err_set(err, EIO, "image %s: config unreadable", id);
        repo = repo_load(s);
        chains = st_config_chains(cfg, &nchains);
        hist = cJSON_GetObjectItemCaseSensitive(cfg, "history");
        arr = cJSON_CreateArray();
        n = cJSON_GetArraySize(hist);
        cJSON_ArrayForEach(h, hist) {
                cJSON *o = cJSON_CreateObject();
                const char *v;
                uint64_t size = 0;

                if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(h, "empty_layer"))) {
                        if (li < nchains)
                                size = st_layer_size(s, chains[li]);
                        li++;
                }
                cJSON_AddStringToObject(o, "Id", "<missing>");
                cJSON_AddNumberToObject(o, "Created",
                                        (double)parse_time(berth_json_str(h, "created")));
                v = berth_json_str(h, "created_by");
                cJSON_AddStringToObject(o, "CreatedBy", v ? v : "");
                cJSON_AddNullToObject(o, "Tags");
                cJSON_AddNumberToObject(o, "Size", (double)size);
                v = berth_json_str(h, "comment");
                cJSON_AddStringToObject(o, "Comment", v ? v : "");
                cJSON_InsertItemInArray(arr, 0, o);
        }
        if (n == 0) {
                cJSON *o = cJSON_CreateObject();

                cJSON_AddStringToObject(o, "Id", id);
                cJSON_AddNumberToObject(o, "Created",
                                        (double)parse_time(berth_json_str(cfg, "created")));
                cJSON_AddStringToObject(o, "CreatedBy", "");
                cJSON_AddNullToObject(o, "Tags");
                cJSON_AddNumberToObject(o, "Size", (double)image_size(s, cfg));
                cJSON_AddStringToObject(o, "Comment", "");
                cJSON_AddItemToArray(arr, o);
        }
        {
                cJSON *top = cJSON_GetArrayItem(arr, 0);

                cJSON_ReplaceItemInObjectCaseSensitive(top, "Id", cJSON_CreateString(id));
                cJSON_ReplaceItemInObjectCaseSensitive(top, "Tags", refs_of(repo, id, false, true));
        }
        /* the parent chain's IDs, where we know them */
        {
                _cleanup_free_ char *p = image_parent(s, id + 7);
                int idx = 1;

                while (p && idx < cJSON_GetArraySize(arr)) {
                        cJSON *e = cJSON_GetArrayItem(arr, idx);
                        _cleanup_json_ cJSON *pc = st_config_load(s, p + 7);
                        char *next;

                        if (!pc)
                                break;
                        /* the parent's top history entry sits where its
                         * history ends in ours */
                        idx = n - cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pc, "history"));
                        if (idx <= 0 || idx >= cJSON_GetArraySize(arr))
                                break;
                        e = cJSON_GetArrayItem(arr, idx);
                        cJSON_ReplaceItemInObjectCaseSensitive(e, "Id", cJSON_CreateString(p));
                        cJSON_ReplaceItemInObjectCaseSensitive(e, "Tags",
                                                               refs_of(repo, p, false, true));
                        next = image_parent(s, p + 7);
                        free(p);
                        p = next;
                }
        }
        st_strv_free(chains);
        *ret = arr;
        return 0;
}

/* ---- tag ---- */

static void touch_tag_time(struct storage *s, const char *id)
{
        _cleanup_free_ char *md = st_path(s, "image/imagedb/metadata/sha256/%s", id + 7);
        _cleanup_free_ char *p = xasprintf("%s/lastUpdated", md);
        char ts[64];
        int64_t now = berth_now_ns();

        berth_time_rfc3339(now / 1000000000, (long)(now % 1000000000), ts, sizeof(ts));
        (void)berth_mkdir_p(md, 0700);
        (void)st_write_str(p, ts, NULL);
}

int storage_image_tag(struct storage *s, const char *name, const char *repo, const char *tag,
                      struct berth_err *err)
{
        _cleanup_free_ char *id = NULL, *in = NULL, *full = NULL;
        struct storage_ref ref;
        int r;

        r = storage_image_resolve(s, name, &id, err);
        if (r < 0)
                return r;
        if (!repo || !*repo)
                return berth_err_pub(err, EINVAL, "repository name must have at least one component");
        if (tag && *tag && strchr(repo, '@'))
                return berth_err_pub(err, EINVAL, "refusing to create a tag with a digest reference");
        in = tag && *tag ? xasprintf("%s:%s", repo, tag) : xstrdup(repo);
        r = storage_ref_parse(in, &ref, err);
        if (r < 0)
                return r;
        if (ref.digest) {
                storage_ref_release(&ref);
                return berth_err_pub(err, EINVAL, "refusing to create a tag with a digest reference");
        }
        full = storage_ref_full(&ref);
        storage_ref_release(&ref);
        st_lock(s);
        r = st_repo_set(s, full, id, err);
        st_unlock(s);
        if (r == 0)
                touch_tag_time(s, id);
        return r;
}

/* ---- remove and prune ---- */

static bool has_children(struct storage *s, const char *id)
{
        char **ids = st_image_ids(s);
        bool found = false;
        size_t i;

        for (i = 0; ids[i] && !found; i++) {
                _cleanup_free_ char *p = image_parent(s, ids[i]);

                if (p && !strcmp(p, id))
                        found = true;
        }
        st_strv_free(ids);
        return found;
}

static void delete_image_files(struct storage *s, const char *id)
{
        _cleanup_free_ char *c = st_path(s, "image/imagedb/content/sha256/%s", id + 7);
        _cleanup_free_ char *m = st_path(s, "image/imagedb/metadata/sha256/%s", id + 7);

        (void)unlink(c);
        (void)st_rm_rf(m);
}

static void add_msg(cJSON *arr, const char *k, const char *v)
{
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, k, v);
        cJSON_AddItemToArray(arr, o);
}

/* Delete id and, unless noprune, its untagged childless parents; layers
 * freed by that are reported as Deleted too.  Locked by caller. */
static int delete_chain(struct storage *s, const char *id0, bool noprune, cJSON *out,
                        struct berth_err *err)
{
        _cleanup_free_ char *id = xstrdup(id0);
        cJSON *layers = cJSON_CreateArray();
        const cJSON *x;
        int r;

        for (;;) {
                _cleanup_json_ cJSON *repo = repo_load(s);
                char *parent = image_parent(s, id + 7);

                delete_image_files(s, id);
                add_msg(out, "Deleted", id);
                if (noprune || !parent || count_refs(repo, parent) > 0 ||
                    has_children(s, parent) || !image_exists(s, parent + 7)) {
                        free(parent);
                        break;
                }
                free(id);
                id = parent;
        }
        r = st_gc_locked(s, layers, NULL, err);
        cJSON_ArrayForEach(x, layers)
                add_msg(out, "Deleted", x->valuestring);
        cJSON_Delete(layers);
        return r;
}

int storage_image_remove(struct storage *s, const char *name, const struct storage_rmi_opts *o,
                         cJSON **ret, struct berth_err *err)
{
        static const struct storage_rmi_opts none = { 0 };
        _cleanup_free_ char *id = NULL, *full = NULL;
        _cleanup_json_ cJSON *repo = NULL;
        struct storage_ref ref = { 0 };
        bool by_ref = false, running = false, used;
        cJSON *out;
        int r, nrefs;

        if (!o)
                o = &none;
        r = storage_image_resolve(s, name, &id, err);
        if (r < 0)
                return r;
        /* a name that parses as a reference and is in the index is a tag */
        if (storage_ref_parse(name, &ref, NULL) == 0) {
                full = storage_ref_full(&ref);
                storage_ref_release(&ref);
        }
        st_lock(s);
        repo = repo_load(s);
        if (full) {
                const char *v = berth_json_str(cJSON_GetObjectItemCaseSensitive(repo, "Refs"),
                                               full);

                by_ref = v && !strcmp(v, id);
        }
        nrefs = count_refs(repo, id);
        used = o->in_use && o->in_use(id, &running, o->in_use_data);
        out = cJSON_CreateArray();
        if (by_ref) {
                cJSON *refs = cJSON_GetObjectItemCaseSensitive(repo, "Refs");
                struct storage_ref fr;

                if (nrefs == 1 && used && !o->force) {
                        r = berth_err_pub(err, EEXIST,
                                          "conflict: unable to remove repository reference \"%s\" "
                                          "(must force) - container is using its referenced image "
                                          "%.12s", name, id + 7);
                        goto fail;
                }
                cJSON_DeleteItemFromObjectCaseSensitive(refs, full);
                r = repo_save(s, repo, err);
                if (r < 0)
                        goto fail;
                if (storage_ref_parse(full, &fr, NULL) == 0) {
                        char *f = storage_ref_familiar(&fr);

                        add_msg(out, "Untagged", f);
                        free(f);
                        storage_ref_release(&fr);
                }
                if (nrefs > 1 || used || has_children(s, id))
                        goto done;
        } else {
                if (running) {
                        r = berth_err_pub(err, EEXIST,
                                          "conflict: unable to delete %.12s (cannot be forced) - "
                                          "image is being used by running container", id + 7);
                        goto fail;
                }
                if (nrefs > 1 && !o->force) {
                        r = berth_err_pub(err, EEXIST,
                                          "conflict: unable to delete %.12s (must be forced) - "
                                          "image is referenced in multiple repositories", id + 7);
                        goto fail;
                }
                if (used && !o->force) {
                        r = berth_err_pub(err, EEXIST,
                                          "conflict: unable to delete %.12s (must be forced) - "
                                          "image is being used by stopped container", id + 7);
                        goto fail;
                }
                if (has_children(s, id)) {
                        r = berth_err_pub(err, EEXIST,
                                          "conflict: unable to delete %.12s (cannot be forced) - "
                                          "image has dependent child images", id + 7);
                        goto fail;
                }
                {
                        cJSON *refs = cJSON_GetObjectItemCaseSensitive(repo, "Refs");
                        cJSON *x = refs ? refs->child : NULL;

                        while (x) {
                                cJSON *next = x->next;

                                if (cJSON_IsString(x) && !strcmp(x->valuestring, id)) {
                                        struct storage_ref fr;

                                        if (storage_ref_parse(x->string, &fr, NULL) == 0) {
                                                char *f = storage_ref_familiar(&fr);

                                                add_msg(out, "Untagged", f);
                                                free(f);
                                                storage_ref_release(&fr);
                                        }
                                        cJSON_DeleteItemFromObjectCaseSensitive(refs, x->string);
                                }
                                x = next;
                        }
                        r = repo_save(s, repo, err);
                        if (r < 0)
                                goto fail;
                }
                if (used)
                        goto done;
        }
        r = delete_chain(s, id, o->noprune, out, err);
        if (r < 0)
                goto fail;
done:
        st_unlock(s);
        *ret = out;
        return 0;
fail:
        st_unlock(s);
        cJSON_Delete(out);
        return r;
}

int storage_image_prune(struct storage *s, bool all, const cJSON *filters,
                        storage_image_in_use_fn in_use, void *in_use_data, cJSON **ret,
                        struct berth_err *err)
{
        char **labels = filter_values(filters, "label");
        char **until = filter_values(filters, "until");
        cJSON *deleted = cJSON_CreateArray(), *o;
        uint64_t before = 0, after = 0, reclaimed = 0;
        int64_t until_t = INT64_MAX;
        bool progress = true;
        int r = 0;

        if (until[0]) {
                int64_t v;

                if (berth_parse_int64(until[0], &v) == 0)
                        until_t = v;
                else
                        until_t = parse_time(until[0]);
        }
        {
                _cleanup_free_ char *ov = st_path(s, "overlay");

                before = st_du(ov);
        }
        st_lock(s);
        /* repeat: deleting a child may make its parent prunable */
        while (progress) {
                char **ids = st_image_ids(s);
                _cleanup_json_ cJSON *repo = repo_load(s);
                size_t i;

                progress = false;
                for (i = 0; ids[i]; i++) {
                        _cleanup_free_ char *id = xasprintf("sha256:%s", ids[i]);
                        _cleanup_json_ cJSON *cfg = st_config_load(s, ids[i]);
                        bool running = false;

                        if (!cfg)
                                continue;
                        if (!all && count_refs(repo, id) > 0)
                                continue;
                        if (has_children(s, id))
                                continue;
                        if (in_use && in_use(id, &running, in_use_data))
                                continue;
                        if (parse_time(berth_json_str(cfg, "created")) >= until_t)
                                continue;
                        if (labels[0] &&
                            !labels_match(cJSON_GetObjectItemCaseSensitive(
                                                  cJSON_GetObjectItemCaseSensitive(cfg, "config"),
                                                  "Labels"),
                                          labels))
                                continue;
                        {
                                cJSON *refs = cJSON_GetObjectItemCaseSensitive(repo, "Refs");
                                cJSON *x = refs ? refs->child : NULL;
                                bool changed = false;

                                while (x) {
                                        cJSON *next = x->next;

                                        if (cJSON_IsString(x) && !strcmp(x->valuestring, id)) {
                                                struct storage_ref fr;

                                                if (storage_ref_parse(x->string, &fr, NULL) == 0) {
                                                        char *f = storage_ref_familiar(&fr);

                                                        add_msg(deleted, "Untagged", f);
                                                        free(f);
                                                        storage_ref_release(&fr);
                                                }
                                                cJSON_DeleteItemFromObjectCaseSensitive(refs,
                                                                                        x->string);
                                                changed = true;
                                        }
                                        x = next;
                                }
                                if (changed && (r = repo_save(s, repo, err)) < 0)
                                        break;
                        }
                        delete_image_files(s, id);
                        add_msg(deleted, "Deleted", id);
                        progress = true;
                }
                st_strv_free(ids);
                if (r < 0)
                        break;
        }
        if (r == 0) {
                cJSON *layers = cJSON_CreateArray();
                const cJSON *x;

                r = st_gc_locked(s, layers, &reclaimed, err);
                cJSON_ArrayForEach(x, layers)
                        add_msg(deleted, "Deleted", x->valuestring);
                cJSON_Delete(layers);
        }
        st_unlock(s);
        st_strv_free(labels);
        st_strv_free(until);
        if (r < 0) {
                cJSON_Delete(deleted);
                return r;
        }
        {
                _cleanup_free_ char *ov = st_path(s, "overlay");

                after = st_du(ov);
        }
        o = cJSON_CreateObject();
        if (cJSON_GetArraySize(deleted) == 0) {
                cJSON_Delete(deleted);
                cJSON_AddNullToObject(o, "ImagesDeleted");
        } else {
                cJSON_AddItemToObject(o, "ImagesDeleted", deleted);
        }
        cJSON_AddNumberToObject(o, "SpaceReclaimed",
                                (double)(before > after ? before - after : reclaimed));
        *ret = o;
        return 0;
}

/* ---- check ---- */

int storage_check(struct storage *s, struct buf *report, struct berth_err *err)
{
        _cleanup_json_ cJSON *repo = repo_load(s);
        const cJSON *x;
        char **ids = st_image_ids(s);
        int problems = 0;
        size_t i, j;

        (void)err;
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(repo, "Refs")) {
                const char *id = cJSON_GetStringValue(x);

                if (!id || !st_digest_hex(id) || !image_exists(s, id + 7)) {
                        problems++;
                        if (report)
                                buf_addf(report, "tag %s names missing image %s\n", x->string,
                                         id ? id : "?");
                }
        }
        for (i = 0; ids[i]; i++) {
                _cleanup_free_ char *raw = NULL;
                size_t n = 0, nc = 0;
                char **chains;
                _cleanup_json_ cJSON *cfg = NULL;
                const cJSON *dids;

                if (load_config_raw(s, ids[i], &raw, &n) < 0 ||
                    berth_json_parse(raw, n, &cfg, NULL) < 0) {
                        problems++;
                        if (report)
                                buf_addf(report, "image %s: config unreadable\n", ids[i]);
                        continue;
                }
                {
                        _cleanup_free_ char *d = storage_sha256_digest(raw, n);

                        if (strcmp(d + 7, ids[i])) {
                                problems++;
                                if (report)
                                        buf_addf(report, "image %s: config hashes to %s\n", ids[i],
                                                 d);
                        }
                }
                chains = st_config_chains(cfg, &nc);
                dids = cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(cfg, "rootfs"), "diff_ids");
                for (j = 0; j < nc; j++) {
                        _cleanup_free_ char *c = st_layer_cache_id(s, chains[j]);
                        _cleanup_free_ char *dp = c ? st_path(s, "overlay/%s/diff", c) : NULL;
                        const char *did = cJSON_GetStringValue(cJSON_GetArrayItem(dids, (int)j));
                        struct stat st;

                        if (!c || stat(dp, &st) < 0 || !S_ISDIR(st.st_mode)) {
                                problems++;
                                if (report)
                                        buf_addf(report, "image %s: layer %s missing\n", ids[i],
                                                 chains[j]);
                        }
                        if (c) {
                                _cleanup_free_ char *lp = st_path(s, "overlay/%s/link", c);
                                _cleanup_free_ char *link = st_read_str(lp);
                                _cleanup_free_ char *l = link ? st_path(s, "overlay/l/%s", link)
                                                              : NULL;

                                if (!l || stat(l, &st) < 0) {
                                        problems++;
                                        if (report)
                                                buf_addf(report, "layer %s: short link broken\n",
                                                         chains[j]);
                                }
                        }
                        if (did && !storage_blob_exists(s, did)) {
                                problems++;
                                if (report)
                                        buf_addf(report, "image %s: blob %s missing\n", ids[i],
                                                 did);
                        }
                }
                st_strv_free(chains);
        }
        st_strv_free(ids);
        return problems;
}
