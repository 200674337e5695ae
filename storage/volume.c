/* SPDX-License-Identifier: Apache-2.0
 * storage/volume.c -- the local volume driver: <data-root>/volumes/<name>/
 * _data + meta.json (atomic), in-use refcounts, tmpfs/bind driver opts. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "storage/storage-internal.h"

#define ANON_LABEL "com.docker.volume.anonymous"

static bool valid_name(const char *n)
{
        size_t i, len = strlen(n);

        if (len < 2 || len > 255)
                return false;
        for (i = 0; i < len; i++) {
                char c = n[i];
                bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (c >= '0' && c <= '9');

                if (!(alnum || (i > 0 && (c == '_' || c == '.' || c == '-'))))
                        return false;
        }
        return true;
}

static int vref_count(struct storage *s, const char *name)
{
        size_t i;

        for (i = 0; i < s->n_vrefs; i++)
                if (!strcmp(s->vrefs[i].name, name))
                        return s->vrefs[i].count;
        return 0;
}

static cJSON *meta_load(struct storage *s, const char *name)
{
        _cleanup_free_ char *p = st_path(s, "volumes/%s/meta.json", name);
        _cleanup_free_ char *d = NULL;
        size_t n = 0;
        cJSON *j = NULL;

        if (berth_read_file(p, 1 << 20, &d, &n, NULL) < 0 || berth_json_parse(d, n, &j, NULL) < 0)
                return NULL;
        return j;
}

static cJSON *inspect_of(struct storage *s, const cJSON *meta, bool usage)
{
        cJSON *o = cJSON_CreateObject();
        const char *name = berth_json_str(meta, "Name");
        const char *v;
        const cJSON *x;
        _cleanup_free_ char *mp = st_path(s, "volumes/%s/_data", name ? name : "");

        v = berth_json_str(meta, "CreatedAt");
        cJSON_AddStringToObject(o, "CreatedAt", v ? v : "");
        cJSON_AddStringToObject(o, "Driver", "local");
        x = cJSON_GetObjectItemCaseSensitive(meta, "Labels");
        cJSON_AddItemToObject(o, "Labels", x ? cJSON_Duplicate(x, 1) : cJSON_CreateNull());
        cJSON_AddStringToObject(o, "Mountpoint", mp);
        cJSON_AddStringToObject(o, "Name", name ? name : "");
        x = cJSON_GetObjectItemCaseSensitive(meta, "Options");
        cJSON_AddItemToObject(o, "Options", x ? cJSON_Duplicate(x, 1) : cJSON_CreateNull());
        cJSON_AddStringToObject(o, "Scope", "local");
        if (usage) {
                cJSON *u = cJSON_AddObjectToObject(o, "UsageData");

                cJSON_AddNumberToObject(u, "Size", (double)st_du(mp));
                cJSON_AddNumberToObject(u, "RefCount", vref_count(s, name ? name : ""));
        }
        return o;
}

int storage_volume_create(struct storage *s, const struct storage_volume_opts *o, cJSON **ret,
                          struct berth_err *err)
{
        _cleanup_free_ char *name = NULL, *dir = NULL, *tmp = NULL, *data = NULL, *mp = NULL;
        _cleanup_json_ cJSON *meta = NULL;
        struct buf b = BUF_INIT;
        const cJSON *x;
        char ts[64];
        int64_t now = berth_now_ns();
        int r;

        if (o->driver && *o->driver && strcmp(o->driver, "local"))
                return berth_err_pub(err, ENOENT, "error looking up volume plugin %s: plugin "
                                                  "\"%s\" not found", o->driver, o->driver);
        if (o->name && *o->name) {
                if (!valid_name(o->name))
                        return berth_err_pub(err, EINVAL,
                                             "create %s: \"%s\" includes invalid characters for "
                                             "a local volume name, only "
                                             "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you "
                                             "intended to pass a host directory, use absolute path",
                                             o->name, o->name);
                name = xstrdup(o->name);
        } else {
                char hex[65];

                (void)berth_random_hex(hex, 32);
                name = xstrdup(hex);
        }
        cJSON_ArrayForEach(x, o->labels)
                if (!cJSON_IsString(x))
                        return berth_err_pub(err, EINVAL, "label %s: value must be a string",
                                             x->string);
        cJSON_ArrayForEach(x, o->driver_opts) {
                if (!cJSON_IsString(x))
                        return berth_err_pub(err, EINVAL, "driver option %s: not a string",
                                             x->string);
                if (strcmp(x->string, "type") && strcmp(x->string, "device") &&
                    strcmp(x->string, "o") && strcmp(x->string, "size"))
                        return berth_err_pub(err, EINVAL, "invalid option: \"%s\"", x->string);
        }
        dir = st_path(s, "volumes/%s", name);
        st_lock(s);
        meta = meta_load(s, name);
        if (meta) {
                *ret = inspect_of(s, meta, false);
                st_unlock(s);
                return 0;
        }
        r = st_space_check(s, 0, err);
        if (r < 0)
                goto out;
        r = st_mkdtemp(s, "vol", &tmp, err);
        if (r < 0)
                goto out;
        data = xasprintf("%s/_data", tmp);
        if (mkdir(data, 0755) < 0) {
                r = berth_err_set(err, errno, "mkdir %s: %s", data, strerror(errno));
                goto out;
        }
        meta = cJSON_CreateObject();
        berth_time_rfc3339(now / 1000000000, 0, ts, sizeof(ts));
        /* Docker prints seconds only: drop the fraction */
        {
                char *dot = strchr(ts, '.');

                if (dot) {
                        dot[0] = 'Z';
                        dot[1] = '\0';
                }
        }
        cJSON_AddStringToObject(meta, "CreatedAt", ts);
        cJSON_AddStringToObject(meta, "Driver", "local");
        cJSON_AddItemToObject(meta, "Labels", o->labels ? cJSON_Duplicate(o->labels, 1)
                                                        : cJSON_CreateObject());
        cJSON_AddStringToObject(meta, "Name", name);
        if (o->driver_opts && cJSON_GetArraySize(o->driver_opts) > 0)
                cJSON_AddItemToObject(meta, "Options", cJSON_Duplicate(o->driver_opts, 1));
        else
                cJSON_AddNullToObject(meta, "Options");
        berth_json_append(&b, meta);
        {
                _cleanup_free_ char *mpath = xasprintf("%s/meta.json", tmp);

                r = berth_write_file_atomic(mpath, b.data, b.len, 0600, err);
        }
        buf_release(&b);
        if (r < 0)
                goto out;
        if (rename(tmp, dir) < 0) {
                r = berth_err_set(err, errno, "rename %s: %s", dir, strerror(errno));
                goto out;
        }
        free(tmp);
        tmp = NULL;
        *ret = inspect_of(s, meta, false);
out:
        st_unlock(s);
        if (tmp)
                (void)st_rm_rf(tmp);
        return r;
}

int storage_volume_inspect(struct storage *s, const char *name, cJSON **ret,
                           struct berth_err *err)
{
        _cleanup_json_ cJSON *meta = NULL;

        if (!name || !valid_name(name) || !(meta = meta_load(s, name)))
                return berth_err_pub(err, ENOENT, "get %s: no such volume", name ? name : "");
        *ret = inspect_of(s, meta, false);
        return 0;
}

static char **fvals(const cJSON *filters, const char *k)
{
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(filters, k), *x;
        char **v = xcalloc(1, sizeof(char *));
        size_t n = 0;

        cJSON_ArrayForEach(x, f) {
                const char *val = cJSON_IsObject(f) ? x->string : cJSON_GetStringValue(x);

                if (!val || (cJSON_IsObject(f) && !cJSON_IsTrue(x)))
                        continue;
                v = xrealloc(v, (n + 2) * sizeof(char *));
                v[n++] = xstrdup(val);
                v[n] = NULL;
        }
        return v;
}

static bool label_ok(const cJSON *labels, char **want)
{
        size_t i;

        for (i = 0; want[i]; i++) {
                char *eq = strchr(want[i], '=');

                if (eq) {
                        _cleanup_free_ char *k = xstrndup(want[i], (size_t)(eq - want[i]));
                        const char *have = berth_json_str(labels, k);

                        if (!have || strcmp(have, eq + 1))
                                return false;
                } else if (!cJSON_GetObjectItemCaseSensitive(labels, want[i])) {
                        return false;
                }
        }
        return true;
}

static char **volume_names(struct storage *s)
{
        _cleanup_free_ char *dir = st_path(s, "volumes");
        DIR *d = opendir(dir);
        struct dirent *de;
        char **v = xcalloc(1, sizeof(char *));
        size_t n = 0;

        if (!d)
                return v;
        while ((de = readdir(d))) {
                if (!valid_name(de->d_name))
                        continue;
                v = xrealloc(v, (n + 2) * sizeof(char *));
                v[n++] = xstrdup(de->d_name);
                v[n] = NULL;
        }
        closedir(d);
        return v;
}

static int list_impl(struct storage *s, const cJSON *filters, bool usage, cJSON **ret,
                     struct berth_err *err)
{
        char **names = volume_names(s);
        char **fname = fvals(filters, "name"), **flabel = fvals(filters, "label");
        char **fdang = fvals(filters, "dangling"), **fdrv = fvals(filters, "driver");
        cJSON *arr = cJSON_CreateArray();
        size_t i, j;

        (void)err;
        for (i = 0; names[i]; i++) {
                _cleanup_json_ cJSON *meta = meta_load(s, names[i]);
                bool ok = true;

                if (!meta)
                        continue;
                if (fname[0]) {
                        ok = false;
                        for (j = 0; fname[j]; j++)
                                if (strstr(names[i], fname[j]))
                                        ok = true;
                }
                if (ok && fdrv[0]) {
                        ok = false;
                        for (j = 0; fdrv[j]; j++)
                                if (!strcmp(fdrv[j], "local"))
                                        ok = true;
                }
                if (ok && flabel[0])
                        ok = label_ok(cJSON_GetObjectItemCaseSensitive(meta, "Labels"), flabel);
                if (ok && fdang[0]) {
                        st_lock(s);
                        ok = berth_parse_bool(fdang[0]) == (vref_count(s, names[i]) == 0);
                        st_unlock(s);
                }
                if (ok)
                        cJSON_AddItemToArray(arr, inspect_of(s, meta, usage));
        }
        st_strv_free(names);
        st_strv_free(fname);
        st_strv_free(flabel);
        st_strv_free(fdang);
        st_strv_free(fdrv);
        *ret = arr;
        return 0;
}

int storage_volume_list(struct storage *s, const cJSON *filters, cJSON **ret,
                        struct berth_err *err)
{
        cJSON *arr = NULL, *o;
        int r = list_impl(s, filters, false, &arr, err);

        if (r < 0)
                return r;
        o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "Volumes", arr);
        cJSON_AddNullToObject(o, "Warnings");
        *ret = o;
        return 0;
}

int storage_volume_ref(struct storage *s, const char *name, struct berth_err *err)
{
        _cleanup_json_ cJSON *meta = NULL;
        size_t i;

        if (!valid_name(name) || !(meta = meta_load(s, name)))
                return berth_err_pub(err, ENOENT, "get %s: no such volume", name);
        st_lock(s);
        for (i = 0; i < s->n_vrefs; i++)
                if (!strcmp(s->vrefs[i].name, name)) {
                        s->vrefs[i].count++;
                        st_unlock(s);
                        return 0;
                }
        s->vrefs = xrealloc(s->vrefs, (s->n_vrefs + 1) * sizeof(*s->vrefs));
        s->vrefs[s->n_vrefs].name = xstrdup(name);
        s->vrefs[s->n_vrefs].count = 1;
        s->n_vrefs++;
        st_unlock(s);
        return 0;
}

/* A bind mount of the same filesystem keeps st_dev: ask statx. */
static bool is_mountpoint(const char *path)
{
        struct statx sx;

        if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) < 0)
                return false;
        return (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
               (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* Unmount whatever is stacked on _data; false if something stays. */
static bool unmount_data(struct storage *s, const char *name)
{
        _cleanup_free_ char *data = st_path(s, "volumes/%s/_data", name);
        int i;

        for (i = 0; i < 16 && is_mountpoint(data); i++)
                if (umount2(data, MNT_DETACH) < 0)
                        break;
        return !is_mountpoint(data);
}

int storage_volume_unref(struct storage *s, const char *name)
{
        size_t i;
        int left = 0;

        st_lock(s);
        for (i = 0; i < s->n_vrefs; i++)
                if (!strcmp(s->vrefs[i].name, name)) {
                        left = --s->vrefs[i].count;
                        if (left <= 0) {
                                free(s->vrefs[i].name);
                                s->vrefs[i] = s->vrefs[--s->n_vrefs];
                                left = 0;
                        }
                        break;
                }
        st_unlock(s);
        if (left == 0)
                (void)unmount_data(s, name);
        return left;
}

int storage_volume_path(struct storage *s, const char *name, char **ret, struct berth_err *err)
{
        _cleanup_json_ cJSON *meta = NULL;
        _cleanup_free_ char *data = NULL;
        const cJSON *opts;
        const char *type, *dev, *o;
        if (!valid_name(name) || !(meta = meta_load(s, name)))
                return berth_err_pub(err, ENOENT, "get %s: no such volume", name);
        data = st_path(s, "volumes/%s/_data", name);
        opts = cJSON_GetObjectItemCaseSensitive(meta, "Options");
        type = berth_json_str(opts, "type");
        dev = berth_json_str(opts, "device");
        o = berth_json_str(opts, "o");
        if ((type || dev) && !is_mountpoint(data)) {
                unsigned long flags = 0;
                struct buf rest = BUF_INIT;
                _cleanup_free_ char *copy = o ? xstrdup(o) : NULL;
                char *save = NULL, *tok;
                int r = 0;

                for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok;
                     tok = strtok_r(NULL, ",", &save)) {
                        if (!strcmp(tok, "bind") || !strcmp(tok, "rbind"))
                                flags |= MS_BIND | (tok[0] == 'r' ? MS_REC : 0);
                        else if (!strcmp(tok, "ro"))
                                flags |= MS_RDONLY;
                        else if (!strcmp(tok, "nosuid"))
                                flags |= MS_NOSUID;
                        else if (!strcmp(tok, "nodev"))
                                flags |= MS_NODEV;
                        else if (!strcmp(tok, "noexec"))
                                flags |= MS_NOEXEC;
                        else
                                buf_addf(&rest, "%s%s", rest.len ? "," : "", tok);
                }
                if (mount(dev ? dev : (type ? type : "none"), data, type ? type : "none",
                          flags & ~MS_RDONLY, rest.len ? buf_cstr(&rest) : NULL) < 0)
                        r = berth_err_set(err, errno, "error while mounting volume '%s': %s", data,
                                          strerror(errno));
                else if ((flags & MS_BIND) && (flags & MS_RDONLY))
                        (void)mount(NULL, data, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
                buf_release(&rest);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(data);
        return 0;
}

int storage_volume_remove(struct storage *s, const char *name, bool force, struct berth_err *err)
{
        _cleanup_free_ char *dir = NULL, *tmp = NULL;
        _cleanup_json_ cJSON *meta = NULL;
        int r;

        if (!name || !valid_name(name) || !(meta = meta_load(s, name))) {
                if (force)
                        return 0;
                return berth_err_pub(err, ENOENT, "get %s: no such volume", name ? name : "");
        }
        st_lock(s);
        if (vref_count(s, name) > 0 && !force) {
                st_unlock(s);
                return berth_err_pub(err, EBUSY, "remove %s: volume is in use", name);
        }
        if (!unmount_data(s, name)) {
                st_unlock(s);
                return berth_err_set(err, EBUSY, "remove %s: volume data is still mounted",
                                     name);
        }
        dir = st_path(s, "volumes/%s", name);
        /* rename first: the volume is gone at once; the data goes after */
        r = st_mkdtemp(s, "rmvol", &tmp, err);
        if (r == 0) {
                _cleanup_free_ char *dst = xasprintf("%s/v", tmp);

                if (rename(dir, dst) < 0)
                        r = berth_err_set(err, errno, "remove %s: %s", name, strerror(errno));
        }
        st_unlock(s);
        if (tmp)
                (void)st_rm_rf(tmp);
        return r;
}

int storage_volume_prune(struct storage *s, bool all, const cJSON *filters, cJSON **ret,
                         struct berth_err *err)
{
        char **names = volume_names(s);
        char **flabel = fvals(filters, "label");
        char **fall = fvals(filters, "all");
        cJSON *del = cJSON_CreateArray(), *o;
        uint64_t reclaimed = 0;
        size_t i;

        if (fall[0] && berth_parse_bool(fall[0]))
                all = true;
        for (i = 0; names[i]; i++) {
                _cleanup_json_ cJSON *meta = meta_load(s, names[i]);
                const cJSON *labels;
                int refs;

                if (!meta)
                        continue;
                labels = cJSON_GetObjectItemCaseSensitive(meta, "Labels");
                if (!all && !cJSON_GetObjectItemCaseSensitive(labels, ANON_LABEL))
                        continue;
                if (flabel[0] && !label_ok(labels, flabel))
                        continue;
                st_lock(s);
                refs = vref_count(s, names[i]);
                st_unlock(s);
                if (refs > 0)
                        continue;
                {
                        _cleanup_free_ char *dp = st_path(s, "volumes/%s/_data", names[i]);
                        uint64_t sz = st_du(dp);

                        if (storage_volume_remove(s, names[i], false, NULL) == 0) {
                                reclaimed += sz;
                                cJSON_AddItemToArray(del, cJSON_CreateString(names[i]));
                        }
                }
        }
        st_strv_free(names);
        st_strv_free(flabel);
        st_strv_free(fall);
        (void)err;
        o = cJSON_CreateObject();
        if (cJSON_GetArraySize(del) == 0) {
                cJSON_Delete(del);
                cJSON_AddNullToObject(o, "VolumesDeleted");
        } else {
                cJSON_AddItemToObject(o, "VolumesDeleted", del);
        }
        cJSON_AddNumberToObject(o, "SpaceReclaimed", (double)reclaimed);
        *ret = o;
        return 0;
}

int storage_df(struct storage *s, cJSON **ret, struct berth_err *err)
{
        struct storage_image_filter f = { .all = true };
        cJSON *o, *imgs = NULL, *vols = NULL;
        _cleanup_free_ char *ov = st_path(s, "overlay");
        int r;

        r = storage_image_list(s, &f, &imgs, err);
        if (r < 0)
                return r;
        r = list_impl(s, NULL, true, &vols, err);
        if (r < 0) {
                cJSON_Delete(imgs);
                return r;
        }
        o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "LayersSize", (double)st_du(ov));
        cJSON_AddItemToObject(o, "Images", imgs);
        cJSON_AddItemToObject(o, "Volumes", vols);
        *ret = o;
        return 0;
}
