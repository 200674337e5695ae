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

/* ---- which containers use which volumes ----
 * image/layerdb/mounts/<container>/volumes.json, written at container
 * create next to its rootfs record and gone with it:
 *   {"AutoRemove":bool,"Volumes":[{"Name":"..","Anonymous":bool}]}
 * A volume any container (of any state) names there is in use. */

static bool plain_name(const char *n)
{
        return n && *n && n[0] != '.' && !strchr(n, '/');
}

static cJSON *uses_load(struct storage *s, const char *cid)
{
        _cleanup_free_ char *p = NULL, *d = NULL;
        size_t n = 0;
        cJSON *j = NULL;

        if (!plain_name(cid))
                return NULL;
        p = st_path(s, "image/layerdb/mounts/%s/volumes.json", cid);
        if (berth_read_file(p, ST_MAX_JSON, &d, &n, NULL) < 0 || berth_json_parse(d, n, &j, NULL) < 0)
                return NULL;
        return j;
}

static void strv_add(char ***v, size_t *n, const char *x)
{
        *v = xrealloc(*v, (*n + 2) * sizeof(char *));
        (*v)[(*n)++] = xstrdup(x);
        (*v)[*n] = NULL;
}

static bool strv_has(char **v, const char *x)
{
        for (; v && *v; v++)
                if (!strcmp(*v, x))
                        return true;
        return false;
}

/* The containers that use volume name (name NULL: the volumes in use, each
 * once).  NULL-terminated, never NULL.  Locked by caller. */
static char **volume_users(struct storage *s, const char *name)
{
        _cleanup_free_ char *dir = st_path(s, "image/layerdb/mounts");
        char **v = xcalloc(1, sizeof(char *));
        size_t n = 0;
        struct dirent *de;
        DIR *d = opendir(dir);

        if (!d)
                return v;
        while ((de = readdir(d))) {
                _cleanup_json_ cJSON *u = NULL;
                const cJSON *e;

                if (de->d_name[0] == '.')
                        continue;
                u = uses_load(s, de->d_name);
                cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(u, "Volumes")) {
                        const char *vn = berth_json_str(e, "Name");

                        if (!vn)
                                continue;
                        if (!name) {
                                if (!strv_has(v, vn))
                                        strv_add(&v, &n, vn);
                        } else if (!strcmp(vn, name)) {
                                strv_add(&v, &n, de->d_name);
                                break;
                        }
                }
        }
        closedir(d);
        return v;
}

static int vref_count(struct storage *s, const char *name);

/* Containers using it plus in-process refs.  Locked by caller. */
static int use_count(struct storage *s, const char *name)
{
        char **u = volume_users(s, name);
        int n = (int)st_strv_len(u) + vref_count(s, name);

        st_strv_free(u);
        return n;
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
                int refs;

                cJSON_AddNumberToObject(u, "Size", (double)st_du(mp));
                st_lock(s);
                refs = use_count(s, name ? name : "");
                st_unlock(s);
                cJSON_AddNumberToObject(u, "RefCount", refs);
        }
        return o;
}

/* Create volume name (valid) unless it exists; *ret (may be NULL) gets its
 * inspect object, *ret_created whether it was made here.  Locked by caller. */
static int create_locked(struct storage *s, const char *name, const struct storage_volume_opts *o,
                         cJSON **ret, bool *ret_created, struct berth_err *err)
{
        _cleanup_free_ char *dir = NULL, *tmp = NULL, *data = NULL;
        _cleanup_json_ cJSON *meta = NULL;
        struct buf b = BUF_INIT;
        char ts[64];
        int64_t now = berth_now_ns();
        int r;

        if (ret_created)
                *ret_created = false;
        dir = st_path(s, "volumes/%s", name);
        meta = meta_load(s, name);
        if (meta) {
                if (ret)
                        *ret = inspect_of(s, meta, false);
                return 0;
        }
        r = st_space_check(s, 0, err);
        if (r < 0)
                return r;
        r = st_mkdtemp(s, "vol", &tmp, err);
        if (r < 0)
                return r;
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
        if (ret)
                *ret = inspect_of(s, meta, false);
        if (ret_created)
                *ret_created = true;
out:
        if (tmp)
                (void)st_rm_rf(tmp);
        return r;
}

static int check_opts(const struct storage_volume_opts *o, struct berth_err *err)
{
        const cJSON *x;

        if (o->driver && *o->driver && strcmp(o->driver, "local"))
                return berth_err_pub(err, ENOENT, "error looking up volume plugin %s: plugin "
                                                  "\"%s\" not found", o->driver, o->driver);
        if (o->name && *o->name && !valid_name(o->name))
                return berth_err_pub(err, EINVAL,
                                     "create %s: \"%s\" includes invalid characters for "
                                     "a local volume name, only "
                                     "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you "
                                     "intended to pass a host directory, use absolute path",
                                     o->name, o->name);
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
        return 0;
}

int storage_volume_create(struct storage *s, const struct storage_volume_opts *o, cJSON **ret,
                          struct berth_err *err)
{
        char hex[65];
        int r;

        r = check_opts(o, err);
        if (r < 0)
                return r;
        if (!o->name || !*o->name)
                (void)berth_random_hex(hex, 32);
        st_lock(s);
        r = create_locked(s, o->name && *o->name ? o->name : hex, o, ret, NULL, err);
        st_unlock(s);
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
        char **used = NULL;
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
                        bool unused;

                        st_lock(s);
                        if (!used)
                                used = volume_users(s, NULL);
                        unused = !strv_has(used, names[i]) && vref_count(s, names[i]) == 0;
                        st_unlock(s);
                        ok = berth_parse_bool(fdang[0]) == unused;
                }
                if (ok)
                        cJSON_AddItemToArray(arr, inspect_of(s, meta, usage));
        }
        st_strv_free(names);
        st_strv_free(fname);
        st_strv_free(flabel);
        st_strv_free(fdang);
        st_strv_free(fdrv);
        st_strv_free(used);
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

/* Take volume name out of the store: unmount its data, rename its dir
 * into a staging dir (*ret_tmp, to delete once unlocked).  Locked by caller. */
static int remove_locked(struct storage *s, const char *name, char **ret_tmp, struct berth_err *err)
{
        _cleanup_free_ char *dir = NULL, *tmp = NULL, *dst = NULL;
        int r;

        if (!unmount_data(s, name))
                return berth_err_set(err, EBUSY, "remove %s: volume data is still mounted", name);
        dir = st_path(s, "volumes/%s", name);
        /* rename first: the volume is gone at once; the data goes after */
        r = st_mkdtemp(s, "rmvol", &tmp, err);
        if (r < 0)
                return r;
        dst = xasprintf("%s/v", tmp);
        if (rename(dir, dst) < 0) {
                r = berth_err_set(err, errno, "remove %s: %s", name, strerror(errno));
                (void)st_rm_rf(tmp);
                return r;
        }
        *ret_tmp = TAKE_PTR(tmp);
        return 0;
}

/* Docker answers "in use" even with force: force only forgives a missing
 * volume (and driver errors). */
int storage_volume_remove(struct storage *s, const char *name, bool force, struct berth_err *err)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_json_ cJSON *meta = NULL;
        char **users;
        int r;

        if (!name || !valid_name(name) || !(meta = meta_load(s, name))) {
                if (force)
                        return 0;
                return berth_err_pub(err, ENOENT, "get %s: no such volume", name ? name : "");
        }
        st_lock(s);
        users = volume_users(s, name);
        if (users[0] || vref_count(s, name) > 0) {
                struct buf b = BUF_INIT;
                size_t i;

                for (i = 0; users[i]; i++)
                        buf_addf(&b, "%s%s", i ? ", " : "", users[i]);
                st_unlock(s);
                if (b.len)
                        r = berth_err_pub(err, EBUSY, "remove %s: volume is in use - [%s]", name,
                                          buf_cstr(&b));
                else
                        r = berth_err_pub(err, EBUSY, "remove %s: volume is in use", name);
                buf_release(&b);
                st_strv_free(users);
                return r;
        }
        st_strv_free(users);
        r = remove_locked(s, name, &tmp, err);
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
                refs = use_count(s, names[i]);
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

/* ---- volumes of a container ---- */

/* "/a//b/" -> "/a/b" (what Docker's filepath.Clean does to plain paths) */
static char *clean_dest(const char *p)
{
        char *out = xmalloc(strlen(p) + 2), *o = out;

        for (; *p; p++) {
                if (*p == '/' && o > out && o[-1] == '/')
                        continue;
                *o++ = *p;
        }
        while (o > out + 1 && o[-1] == '/')
                o--;
        *o = '\0';
        return out;
}

static bool has_token(const char *list, const char *tok)
{
        _cleanup_free_ char *copy = xstrdup(list ? list : "");
        char *save = NULL, *t;

        for (t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                if (!strcmp(t, tok))
                        return true;
        return false;
}

static const char *propagation_of(const char *list)
{
        static const char *const props[] = { "private", "rprivate", "shared", "rshared",
                                             "slave", "rslave", NULL };
        const char *const *p;

        for (p = props; *p; p++)
                if (has_token(list, *p))
                        return *p;
        return NULL;
}

static bool has_dest(const cJSON *mounts, const char *dest)
{
        const cJSON *m;

        cJSON_ArrayForEach(m, mounts) {
                const char *d = berth_json_str(m, "Destination");

                if (d && !strcmp(d, dest))
                        return true;
        }
        return false;
}

/* One MountPoint as Docker's inspect shows it, plus our own fields
 * (Anonymous, CopyData) that inspect leaves out. */
static cJSON *mount_point(const char *type, const char *name, const char *source,
                          const char *dest, const char *mode, bool rw, const char *prop)
{
        cJSON *m = cJSON_CreateObject();
        _cleanup_free_ char *d = clean_dest(dest);

        cJSON_AddStringToObject(m, "Type", type);
        if (name)
                cJSON_AddStringToObject(m, "Name", name);
        cJSON_AddStringToObject(m, "Source", source ? source : "");
        cJSON_AddStringToObject(m, "Destination", d);
        if (name)
                cJSON_AddStringToObject(m, "Driver", "local");
        cJSON_AddStringToObject(m, "Mode", mode ? mode : "");
        cJSON_AddBoolToObject(m, "RW", rw);
        cJSON_AddStringToObject(m, "Propagation", prop ? prop : "");
        return m;
}

/* Docker's MountPoints from HostConfig.Binds, HostConfig.Mounts and
 * Config.Volumes (in that order; an image VOLUME that a bind, mount or
 * --tmpfs already covers gets nothing).  vopts gets, for each entry, the
 * --mount VolumeOptions (or null). */
static cJSON *mount_points(const cJSON *config, const cJSON *hc, cJSON *vopts)
{
        cJSON *out = cJSON_CreateArray(), *m;
        const cJSON *e;

        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(hc, "Binds")) {
                _cleanup_free_ char *copy = NULL;
                char *f[4] = { 0 }, *p;
                size_t n = 0;

                if (!cJSON_IsString(e))
                        continue;
                copy = xstrdup(e->valuestring);
                p = copy;
                while (n < 4 && p)
                        f[n++] = strsep(&p, ":");
                if (n == 1 && f[0][0] == '/') {
                        /* "-v /path" sent as a bind: an anonymous volume */
                        m = mount_point("volume", "", "", f[0], "z", true, "");
                        cJSON_AddBoolToObject(m, "Anonymous", true);
                        cJSON_AddBoolToObject(m, "CopyData", true);
                } else if (n >= 2 && n <= 3 && !p && *f[0] && f[1][0] == '/') {
                        const char *mode = n == 3 ? f[2] : "";
                        bool rw = !has_token(mode, "ro");

                        if (f[0][0] == '/') {
                                const char *prop = propagation_of(mode);

                                m = mount_point("bind", NULL, f[0], f[1], mode, rw,
                                                prop ? prop : "rprivate");
                        } else {
                                m = mount_point("volume", f[0], "", f[1], *mode ? mode : "z",
                                                rw, "");
                                cJSON_AddBoolToObject(m, "Anonymous", false);
                                cJSON_AddBoolToObject(m, "CopyData", !has_token(mode, "nocopy"));
                        }
                } else {
                        continue;       /* spec validation words the error */
                }
                cJSON_AddItemToArray(out, m);
                cJSON_AddItemToArray(vopts, cJSON_CreateNull());
        }
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(hc, "Mounts")) {
                const char *type = berth_json_str(e, "Type");
                const char *src = berth_json_str(e, "Source");
                const char *dst = berth_json_str(e, "Target");
                bool rw = !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "ReadOnly"));
                const cJSON *vo = cJSON_GetObjectItemCaseSensitive(e, "VolumeOptions");

                if (!type || !*type)
                        type = "volume";
                if (!dst || dst[0] != '/')
                        continue;
                if (!strcmp(type, "bind")) {
                        const char *prop = berth_json_str(
                                cJSON_GetObjectItemCaseSensitive(e, "BindOptions"), "Propagation");

                        m = mount_point("bind", NULL, src, dst, "", rw,
                                        prop && *prop ? prop : "rprivate");
                } else if (!strcmp(type, "volume")) {
                        bool anon = !src || !*src;

                        m = mount_point("volume", anon ? "" : src, "", dst, "z", rw, "");
                        cJSON_AddBoolToObject(m, "Anonymous", anon);
                        cJSON_AddBoolToObject(m, "CopyData",
                                              !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(vo, "NoCopy")));
                } else if (!strcmp(type, "tmpfs")) {
                        m = mount_point("tmpfs", NULL, "", dst, "", rw, "");
                } else {
                        continue;
                }
                cJSON_AddItemToArray(out, m);
                cJSON_AddItemToArray(vopts, cJSON_IsObject(vo) ? cJSON_Duplicate(vo, true)
                                                               : cJSON_CreateNull());
        }
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(config, "Volumes")) {
                _cleanup_free_ char *d = NULL;
                const cJSON *t;
                bool tmpfs = false;

                if (!e->string || e->string[0] != '/')
                        continue;
                d = clean_dest(e->string);
                cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(hc, "Tmpfs")) {
                        _cleanup_free_ char *td = t->string ? clean_dest(t->string) : NULL;

                        if (td && !strcmp(td, d))
                                tmpfs = true;
                }
                if (tmpfs || has_dest(out, d))
                        continue;
                m = mount_point("volume", "", "", d, "", true, "");
                cJSON_AddBoolToObject(m, "Anonymous", true);
                cJSON_AddBoolToObject(m, "CopyData", true);
                cJSON_AddItemToArray(out, m);
                cJSON_AddItemToArray(vopts, cJSON_CreateNull());
        }
        return out;
}

static void set_str(cJSON *o, const char *k, const char *v)
{
        cJSON_DeleteItemFromObjectCaseSensitive(o, k);
        cJSON_AddStringToObject(o, k, v);
}

int storage_container_volumes_setup(struct storage *s, const char *container_id,
                                    const cJSON *config, const cJSON *host_config,
                                    cJSON **ret_mounts, struct berth_err *err)
{
        _cleanup_json_ cJSON *vopts = cJSON_CreateArray(), *rec = NULL;
        cJSON *mounts = mount_points(config, host_config, vopts), *m, *vols;
        _cleanup_free_ char *dir = NULL;
        size_t i = 0;
        int r = 0;

        *ret_mounts = NULL;
        if (!plain_name(container_id)) {
                cJSON_Delete(mounts);
                return berth_err_pub(err, EINVAL, "invalid container id '%s'",
                                     container_id ? container_id : "");
        }
        rec = cJSON_CreateObject();
        cJSON_AddBoolToObject(rec, "AutoRemove",
                              cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(host_config, "AutoRemove")));
        vols = cJSON_AddArrayToObject(rec, "Volumes");
        dir = st_path(s, "image/layerdb/mounts/%s", container_id);
        st_lock(s);
        if (access(dir, F_OK) < 0) {
                r = berth_err_set(err, ENOENT, "no rootfs for container %s", container_id);
                goto out;
        }
        cJSON_ArrayForEach(m, mounts) {
                const cJSON *vo = cJSON_GetArrayItem(vopts, (int)i++);
                const cJSON *dc = cJSON_GetObjectItemCaseSensitive(vo, "DriverConfig");
                const char *name = berth_json_str(m, "Name");
                const cJSON *labels = cJSON_GetObjectItemCaseSensitive(vo, "Labels");
                struct storage_volume_opts o = {
                        .driver = berth_json_str(dc, "Name"),
                        .driver_opts = cJSON_GetObjectItemCaseSensitive(dc, "Options"),
                };
                _cleanup_json_ cJSON *lab = NULL;
                _cleanup_free_ char *src = NULL, *own = NULL;
                bool anon = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "Anonymous"));
                bool created = false;
                char hex[65];
                cJSON *u;

                if (strcmp(berth_json_str(m, "Type"), "volume"))
                        continue;
                lab = cJSON_IsObject(labels) ? cJSON_Duplicate(labels, true) : cJSON_CreateObject();
                if (anon) {
                        (void)berth_random_hex(hex, 32);
                        name = hex;
                        cJSON_AddStringToObject(lab, ANON_LABEL, "");
                }
                name = own = xstrdup(name ? name : "");  /* set_str frees m's copy */
                o.name = name;
                o.labels = lab;
                if (!cJSON_IsObject(o.driver_opts))
                        o.driver_opts = NULL;
                r = check_opts(&o, err);
                if (r == 0)
                        r = create_locked(s, name, &o, NULL, &created, err);
                if (r < 0)
                        break;
                src = st_path(s, "volumes/%s/_data", name);
                set_str(m, "Name", name);
                set_str(m, "Source", src);
                if (created)
                        cJSON_AddBoolToObject(m, "Created", true);
                u = cJSON_CreateObject();
                cJSON_AddStringToObject(u, "Name", name);
                cJSON_AddBoolToObject(u, "Anonymous", anon);
                cJSON_AddItemToArray(vols, u);
        }
        if (r == 0 && cJSON_GetArraySize(vols) > 0) {
                struct buf b = BUF_INIT;
                _cleanup_free_ char *p = xasprintf("%s/volumes.json", dir);

                berth_json_append(&b, rec);
                r = berth_write_file_atomic(p, b.data, b.len, 0600, err);
                buf_release(&b);
        }
out:
        if (r < 0) {
                /* the anonymous volumes made here go again */
                const cJSON *u;

                cJSON_ArrayForEach(u, vols) {
                        _cleanup_free_ char *tmp = NULL;

                        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "Anonymous")) &&
                            remove_locked(s, berth_json_str(u, "Name"), &tmp, NULL) == 0)
                                (void)st_rm_rf(tmp);
                }
        }
        st_unlock(s);
        if (r < 0) {
                cJSON_Delete(mounts);
                return r;
        }
        /* Docker's copy-up, once the volumes are recorded as in use */
        cJSON_ArrayForEach(m, mounts) {
                if (strcmp(berth_json_str(m, "Type"), "volume") ||
                    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "CopyData")))
                        continue;
                r = storage_volume_copy_up(s, berth_json_str(m, "Name"), container_id,
                                           berth_json_str(m, "Destination"), err);
                if (r < 0) {
                        (void)st_container_volumes_release(s, container_id, 1, NULL, NULL);
                        cJSON_Delete(mounts);
                        return r;
                }
        }
        *ret_mounts = mounts;
        return 0;
}

int st_container_volumes_release(struct storage *s, const char *container_id,
                                 int remove_anonymous, cJSON **ret_removed, struct berth_err *err)
{
        _cleanup_json_ cJSON *rec = NULL;
        _cleanup_free_ char *p = NULL;
        const cJSON *u;
        char **tmps = xcalloc(1, sizeof(char *));
        size_t n = 0, i;

        (void)err;
        if (!plain_name(container_id)) {
                free(tmps);
                return 0;
        }
        p = st_path(s, "image/layerdb/mounts/%s/volumes.json", container_id);
        st_lock(s);
        rec = uses_load(s, container_id);
        if (!rec) {
                st_unlock(s);
                free(tmps);
                return 0;
        }
        if (remove_anonymous < 0)
                remove_anonymous = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "AutoRemove"));
        (void)unlink(p);
        cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(rec, "Volumes")) {
                const char *name = berth_json_str(u, "Name");
                char *tmp = NULL;

                /* docker rm -v: anonymous volumes no other container uses */
                if (!remove_anonymous || !name || !valid_name(name) ||
                    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "Anonymous")) ||
                    use_count(s, name) > 0)
                        continue;
                if (remove_locked(s, name, &tmp, NULL) == 0) {
                        tmps = xrealloc(tmps, (n + 2) * sizeof(char *));
                        tmps[n++] = tmp;
                        tmps[n] = NULL;
                        if (ret_removed) {
                                if (!*ret_removed)
                                        *ret_removed = cJSON_CreateArray();
                                cJSON_AddItemToArray(*ret_removed, cJSON_CreateString(name));
                        }
                }
        }
        st_unlock(s);
        for (i = 0; i < n; i++)
                (void)st_rm_rf(tmps[i]);
        st_strv_free(tmps);
        return (int)n;
}

int storage_container_volumes_release(struct storage *s, const char *container_id,
                                      bool remove_anonymous, cJSON **ret_removed,
                                      struct berth_err *err)
{
        if (ret_removed)
                *ret_removed = NULL;
        return st_container_volumes_release(s, container_id, remove_anonymous ? 1 : 0,
                                            ret_removed, err);
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
