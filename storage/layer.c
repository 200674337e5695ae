/* SPDX-License-Identifier: Apache-2.0
 * storage/layer.c -- overlay2-style layers (diff dirs, short links, lower
 * files, layerdb entries) and container root filesystems (upper/work dirs,
 * one overlay mount, changes, export, size). */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "storage/storage-internal.h"

void st_strv_free(char **v)
{
        size_t i;

        if (!v)
                return;
        for (i = 0; v[i]; i++)
                free(v[i]);
        free(v);
}

size_t st_strv_len(char *const *v)
{
        size_t n = 0;

        while (v && v[n])
                n++;
        return n;
}

char **st_config_chains(const cJSON *config, size_t *ret_n)
{
        const cJSON *rootfs = cJSON_GetObjectItemCaseSensitive(config, "rootfs");
        const cJSON *dids = cJSON_GetObjectItemCaseSensitive(rootfs, "diff_ids");
        const cJSON *x;
        char **v = xcalloc((size_t)cJSON_GetArraySize(dids) + 1, sizeof(char *));
        size_t n = 0;

        cJSON_ArrayForEach(x, dids) {
                if (!cJSON_IsString(x) || !st_digest_hex(x->valuestring))
                        continue;
                v[n] = st_chain_id(n ? v[n - 1] : NULL, x->valuestring);
                n++;
        }
        if (ret_n)
                *ret_n = n;
        return v;
}

static char *layerdb_path(struct storage *s, const char *chain, const char *file)
{
        return st_path(s, "image/layerdb/sha256/%s%s%s", chain + 7, file ? "/" : "",
                       file ? file : "");
}

bool st_layer_exists(struct storage *s, const char *chain)
{
        _cleanup_free_ char *p = NULL;

        if (!st_digest_hex(chain))
                return false;
        p = layerdb_path(s, chain, "cache-id");
        return access(p, F_OK) == 0;
}

char *st_layer_cache_id(struct storage *s, const char *chain)
{
        _cleanup_free_ char *p = NULL;

        if (!st_digest_hex(chain))
                return NULL;
        p = layerdb_path(s, chain, "cache-id");
        return st_read_str(p);
}

uint64_t st_layer_size(struct storage *s, const char *chain)
{
        _cleanup_free_ char *p = layerdb_path(s, chain, "size");
        _cleanup_free_ char *v = st_read_str(p);
        int64_t n = 0;

        if (!v || berth_parse_int64(v, &n) < 0 || n < 0)
                return 0;
        return (uint64_t)n;
}

static void random_link(char out[ST_LINK_LEN + 1])
{
        static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        char hex[2 * ST_LINK_LEN + 1];
        size_t i;

        (void)berth_random_hex(hex, ST_LINK_LEN);
        for (i = 0; i < ST_LINK_LEN; i++) {
                unsigned v = (unsigned)strtoul((char[]){ hex[2 * i], hex[2 * i + 1], 0 }, NULL, 16);

                out[i] = al[v % (sizeof(al) - 1)];
        }
        out[ST_LINK_LEN] = '\0';
}

/* The "lower" string of a layer whose parent's cache dir is pcache:
 * l/<parent link>[:parent's lower]. */
static char *lower_for_parent(struct storage *s, const char *pcache)
{
        _cleanup_free_ char *lp = NULL, *lw = NULL, *link = NULL, *lower = NULL;

        if (!pcache)
                return xstrdup("");
        lp = st_path(s, "overlay/%s/link", pcache);
        lw = st_path(s, "overlay/%s/lower", pcache);
        link = st_read_str(lp);
        lower = st_read_str(lw);
        if (!link)
                return NULL;
        if (lower && *lower)
                return xasprintf("l/%s:%s", link, lower);
        return xasprintf("l/%s", link);
}

/* Move a prepared dir (with diff/, link, lower) into overlay/<id> and make
 * its short link.  Locked by caller. */
static int adopt_overlay_dir(struct storage *s, const char *tmpdir, const char *id,
                             const char *link, struct berth_err *err)
{
        _cleanup_free_ char *dst = st_path(s, "overlay/%s", id);
        _cleanup_free_ char *lnk = st_path(s, "overlay/l/%s", link);
        _cleanup_free_ char *tgt = xasprintf("../%s/diff", id);

        (void)st_fsync_path(tmpdir);
        if (rename(tmpdir, dst) < 0)
                return berth_err_set(err, errno, "rename %s: %s", dst, strerror(errno));
        if (symlink(tgt, lnk) < 0 && errno != EEXIST)
                return berth_err_set(err, errno, "symlink %s: %s", lnk, strerror(errno));
        return 0;
}

/* A staging dir with diff/, link and lower for a layer on top of the
 * overlay dir pcache (NULL: no parent). */
static int prep_dir_cache(struct storage *s, const char *prefix, const char *pcache,
                          char **ret_tmp, char link[ST_LINK_LEN + 1], struct berth_err *err)
{
        _cleanup_free_ char *tmp = NULL, *diff = NULL, *lower = NULL;
        _cleanup_free_ char *lp = NULL, *lwp = NULL;
        int r;

        lower = lower_for_parent(s, pcache);
        if (!lower)
                return berth_err_set(err, EIO, "parent layer %s has no link", pcache);
        r = st_mkdtemp(s, prefix, &tmp, err);
        if (r < 0)
                return r;
        diff = xasprintf("%s/diff", tmp);
        if (mkdir(diff, 0755) < 0) {
                r = berth_err_set(err, errno, "mkdir %s: %s", diff, strerror(errno));
                (void)st_rm_rf(tmp);
                return r;
        }
        random_link(link);
        lp = xasprintf("%s/link", tmp);
        lwp = xasprintf("%s/lower", tmp);
        if ((r = st_write_staged(lp, link, err)) < 0 ||
            (*lower && (r = st_write_staged(lwp, lower, err)) < 0)) {
                (void)st_rm_rf(tmp);
                return r;
        }
        *ret_tmp = TAKE_PTR(tmp);
        return 0;
}

static int prep_dir(struct storage *s, const char *prefix, const char *parent_chain,
                    char **ret_tmp, char link[ST_LINK_LEN + 1], struct berth_err *err)
{
        _cleanup_free_ char *pcache = NULL;

        if (parent_chain && *parent_chain) {
                pcache = st_layer_cache_id(s, parent_chain);
                if (!pcache)
                        return berth_err_set(err, ENOENT, "parent layer %s not found",
                                             parent_chain);
        }
        return prep_dir_cache(s, prefix, pcache, ret_tmp, link, err);
}

int st_layer_create(struct storage *s, const char *parent_chain, const char *diff_id,
                    char **ret_chain, struct berth_err *err)
{
        return st_layer_create_from(s, parent_chain, diff_id, NULL, 0, ret_chain, err);
}

int st_layer_create_from(struct storage *s, const char *parent_chain, const char *diff_id,
                         const char *pre_diff, uint64_t pre_size, char **ret_chain,
                         struct berth_err *err)
{
        _cleanup_free_ char *chain = st_chain_id(parent_chain, diff_id);
        _cleanup_free_ char *tmp = NULL, *diff = NULL, *blob = NULL, *cache = NULL;
        _cleanup_free_ char *dbtmp = NULL, *dbdst = NULL;
        _cleanup_close_ int fd = -1;
        char link[ST_LINK_LEN + 1], cid[2 * 32 + 1];
        uint64_t size = 0;
        struct stat st;
        int r;

        if (st_layer_exists(s, chain))
                goto done;
        blob = st_path(s, "image/blobs/sha256/%s", diff_id + 7);
        fd = open(blob, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                return berth_err_set(err, errno, "layer blob %s: %s", diff_id, strerror(errno));
        r = st_space_check(s, pre_diff ? 0 : (uint64_t)st.st_size, err);
        if (r < 0)
                return r;
        r = prep_dir(s, "layer", parent_chain, &tmp, link, err);
        if (r < 0)
                return r;
        diff = xasprintf("%s/diff", tmp);
        if (pre_diff && rmdir(diff) == 0 && rename(pre_diff, diff) == 0) {
                size = pre_size;
        } else {
                if (pre_diff)
                        (void)mkdir(diff, 0755);
                r = st_tar_unpack(fd, diff, &size, err);
                if (r < 0) {
                        (void)st_rm_rf(tmp);
                        return berth_err_wrap(err, "layer %s", diff_id);
                }
        }
        st_crash_point("layer-unpacked");
        (void)berth_random_hex(cid, 32);
        r = st_mkdtemp(s, "layerdb", &dbtmp, err);
        if (r < 0) {
                (void)st_rm_rf(tmp);
                return r;
        }
        {
                _cleanup_free_ char *a = xasprintf("%s/diff", dbtmp);
                _cleanup_free_ char *b = xasprintf("%s/parent", dbtmp);
                _cleanup_free_ char *c = xasprintf("%s/cache-id", dbtmp);
                _cleanup_free_ char *d = xasprintf("%s/size", dbtmp);
                char sz[32];

                (void)snprintf(sz, sizeof(sz), "%llu", (unsigned long long)size);
                if ((r = st_write_staged(a, diff_id, err)) < 0 ||
                    (parent_chain && *parent_chain && (r = st_write_staged(b, parent_chain, err)) < 0) ||
                    (r = st_write_staged(c, cid, err)) < 0 || (r = st_write_staged(d, sz, err)) < 0) {
                        (void)st_rm_rf(tmp);
                        (void)st_rm_rf(dbtmp);
                        return r;
                }
        }
        dbdst = layerdb_path(s, chain, NULL);
        st_lock(s);
        if (st_layer_exists(s, chain) ||
            (parent_chain && *parent_chain && !st_layer_exists(s, parent_chain))) {
                bool lost_parent = !st_layer_exists(s, chain);

                st_unlock(s);
                (void)st_rm_rf(tmp);
                (void)st_rm_rf(dbtmp);
                if (lost_parent)
                        return berth_err_set(err, ENOENT, "parent layer %s vanished",
                                             parent_chain);
                goto done;
        }
        r = adopt_overlay_dir(s, tmp, cid, link, err);
        if (r < 0) {
                st_unlock(s);
                (void)st_rm_rf(tmp);
                (void)st_rm_rf(dbtmp);
                return r;
        }
        st_crash_point("layer-moved");
        (void)st_fsync_path(dbtmp);
        if (rename(dbtmp, dbdst) < 0) {
                r = berth_err_set(err, errno, "rename %s: %s", dbdst, strerror(errno));
                st_unlock(s);
                (void)st_rm_rf(dbtmp);
                return r;
        }
        st_unlock(s);
        st_crash_point("layer-registered");
done:
        if (ret_chain)
                *ret_chain = TAKE_PTR(chain);
        return 0;
}

/* ---- container root filesystems ---- */

static char *mount_file(struct storage *s, const char *cid, const char *f)
{
        return st_path(s, "image/layerdb/mounts/%s/%s", cid, f);
}

static bool valid_cid(const char *cid)
{
        size_t i, n = cid ? strlen(cid) : 0;

        if (n == 0 || n > 128)
                return false;
        for (i = 0; i < n; i++)
                if (!((cid[i] >= 'a' && cid[i] <= 'z') || (cid[i] >= 'A' && cid[i] <= 'Z') ||
                      (cid[i] >= '0' && cid[i] <= '9') || cid[i] == '_' || cid[i] == '-' ||
                      cid[i] == '.'))
                        return false;
        return cid[0] != '.';
}

static int mount_id(struct storage *s, const char *cid, char **ret, struct berth_err *err)
{
        _cleanup_free_ char *p = NULL;

        if (!valid_cid(cid))
                return berth_err_pub(err, EINVAL, "invalid container id '%s'", cid ? cid : "");
        p = mount_file(s, cid, "mount-id");
        *ret = st_read_str(p);
        if (!*ret)
                return berth_err_pub(err, ENOENT, "no rootfs for container %s", cid);
        return 0;
}

static char **lower_dirs_of(struct storage *s, char *lower);

/* ---- the init layer ----
 * Docker's: the mountpoints the runtime needs (and /.dockerenv), made in a
 * layer between the image and the container's upper dir, so that docker
 * diff and commit never see the stubs the runtime would otherwise leave in
 * the upper dir.  Only what the image lacks is made. */
static const struct {
        const char *path;
        char kind;      /* d dir, f file, l symlink to /proc/mounts */
} init_entries[] = {
        { "dev/pts", 'd' },         { "dev/shm", 'd' },    { "proc", 'd' },
        { "sys", 'd' },             { ".dockerenv", 'f' }, { "etc/resolv.conf", 'f' },
        { "etc/hosts", 'f' },       { "etc/hostname", 'f' }, { "dev/console", 'f' },
        { "etc/mtab", 'l' },
};

static bool is_whiteout(const struct stat *st)
{
        return S_ISCHR(st->st_mode) && st->st_rdev == 0;
}

/* Does the image (lowers, top first) have rel?  Fills *ret_st with the
 * topmost instance.  Whiteouts and opaque dirs hide what lies below. */
static bool image_has(char **lowers, const char *rel, struct stat *ret_st)
{
        size_t i;

        for (i = 0; lowers[i]; i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", lowers[i], rel);
                char *slash = p + strlen(lowers[i]) + 1;
                bool hidden = false;
                struct stat st;

                /* a parent whited out or opaque in this layer hides the rest */
                while ((slash = strchr(slash, '/'))) {
                        char x[2];

                        *slash = '\0';
                        if (lstat(p, &st) == 0 && is_whiteout(&st))
                                return false;
                        if (lgetxattr(p, "trusted.overlay.opaque", x, sizeof(x)) == 1 &&
                            x[0] == 'y')
                                hidden = true;
                        *slash++ = '/';
                }
                if (lstat(p, &st) == 0) {
                        if (is_whiteout(&st))
                                return false;
                        *ret_st = st;
                        return true;
                }
                if (hidden)
                        return false;
        }
        return false;
}

/* Make rel's parent dirs in diff, with the image's owner and mode where
 * the image has them (the init dir hides the image's attributes). */
static int init_parents(const char *diff, char **lowers, const char *rel)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", diff, rel);
        char *slash = p + strlen(diff) + 1;

        while ((slash = strchr(slash, '/'))) {
                struct stat st;

                *slash = '\0';
                if (mkdir(p, 0755) == 0) {
                        if (image_has(lowers, p + strlen(diff) + 1, &st) && S_ISDIR(st.st_mode)) {
                                if (lchown(p, st.st_uid, st.st_gid) < 0 && geteuid() == 0)
                                        return -errno;
                                (void)chmod(p, st.st_mode & 07777);
                        }
                } else if (errno != EEXIST) {
                        return -errno;
                }
                *slash++ = '/';
        }
        return 0;
}

static int init_layer_fill(struct storage *s, const char *tmp, struct berth_err *err)
{
        _cleanup_free_ char *diff = xasprintf("%s/diff", tmp);
        _cleanup_free_ char *lwp = xasprintf("%s/lower", tmp);
        char *lower = st_read_str(lwp);
        char **lowers = lower_dirs_of(s, lower);
        size_t i;
        int r = 0;

        free(lower);
        for (i = 0; i < sizeof(init_entries) / sizeof(init_entries[0]) && r == 0; i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", diff, init_entries[i].path);
                struct stat st;

                if (image_has(lowers, init_entries[i].path, &st))
                        continue;
                r = init_parents(diff, lowers, init_entries[i].path);
                if (r < 0)
                        break;
                if (init_entries[i].kind == 'd') {
                        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                                r = -errno;
                } else if (init_entries[i].kind == 'f') {
                        int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0755);

                        if (fd < 0)
                                r = -errno;
                        else
                                close(fd);
                } else if (symlink("/proc/mounts", p) < 0 && errno != EEXIST) {
                        r = -errno;
                }
        }
        st_strv_free(lowers);
        if (r < 0)
                return berth_err_set(err, -r, "init layer: %s", strerror(-r));
        return 0;
}

/* The init layer depends on the image alone (what its layers lack), and
 * containers only read it: one per top layer, "<top chain hex>-init", is
 * shared by every container of the image.  Docker makes one per container:
 * 17 inodes made, synced and later deleted on every create.  A container's
 * removal keeps it; the garbage collection takes it once no container names
 * it.  Containers made before keep their own "<mount-id>-init". */
static void shared_init_id(const char *top, char *out, size_t len)
{
        const char *hex = top && !strncmp(top, "sha256:", 7) ? top + 7 : top;

        if (hex && st_is_hex(hex, ST_HEX_LEN))
                snprintf(out, len, "%s-init", hex);
        else
                snprintf(out, len, "%064d-init", 0);
}

/* Usable as it is: its link and the short link to it are there (a crash
 * between the rename and the symlink leaves the short link missing: the
 * layer is moved aside and made again).  Locked by caller. */
static bool shared_init_ok(struct storage *s, const char *init_id)
{
        _cleanup_free_ char *dir = st_path(s, "overlay/%s", init_id);
        _cleanup_free_ char *lp = NULL, *link = NULL, *lnk = NULL;
        struct stat st;

        if (lstat(dir, &st) < 0)
                return false;
        lp = st_path(s, "overlay/%s/link", init_id);
        link = st_read_str(lp);
        if (link && *link) {
                lnk = st_path(s, "overlay/l/%s", link);
                if (stat(lnk, &st) == 0)
                        return true;
        }
        (void)storage_trash(s, dir);
        return false;
}

static bool is_shared_init(const char *init_id, const char *mid)
{
        size_t n = strlen(mid);

        return strncmp(init_id, mid, n) || strcmp(init_id + n, "-init");
}

int storage_rootfs_create(struct storage *s, const char *container_id, const char *image_id,
                          struct berth_err *err)
{
        _cleanup_json_ cJSON *cfg = NULL;
        _cleanup_free_ char *id = NULL, *tmp = NULL, *mtmp = NULL, *dst = NULL, *itmp = NULL;
        char **chains = NULL;
        char link[ST_LINK_LEN + 1], ilink[ST_LINK_LEN + 1], mid[65], init_id[70];
        const char *top = NULL;
        size_t n = 0;
        int r;

        if (!valid_cid(container_id))
                return berth_err_pub(err, EINVAL, "invalid container id '%s'", container_id);
        r = storage_image_config(s, image_id, &cfg, err);
        if (r < 0)
                return r;
        r = st_space_check(s, 0, err);
        if (r < 0)
                return r;
        chains = st_config_chains(cfg, &n);
        if (n)
                top = chains[n - 1];
        dst = st_path(s, "image/layerdb/mounts/%s", container_id);
        if (access(dst, F_OK) == 0) {
                st_strv_free(chains);
                return berth_err_pub(err, EEXIST, "rootfs for container %s exists", container_id);
        }
        (void)berth_random_hex(mid, 32);
        shared_init_id(top, init_id, sizeof(init_id));
        st_lock(s);
        if (!shared_init_ok(s, init_id)) {
                r = prep_dir(s, "init", top, &itmp, ilink, err);
                if (r < 0)
                        goto out;
                r = init_layer_fill(s, itmp, err);
                if (r < 0)
                        goto out;
                r = adopt_overlay_dir(s, itmp, init_id, ilink, err);
                if (r < 0)
                        goto out;
                free(itmp);
                itmp = NULL;
        }
        r = prep_dir_cache(s, "mount", init_id, &tmp, link, err);
        if (r < 0)
                goto out;
        {
                _cleanup_free_ char *w = xasprintf("%s/work", tmp);
                _cleanup_free_ char *m = xasprintf("%s/merged", tmp);

                if (mkdir(w, 0700) < 0 || mkdir(m, 0700) < 0) {
                        r = berth_err_set(err, errno, "mkdir: %s", strerror(errno));
                        goto out;
                }
        }
        r = st_mkdtemp(s, "mnt", &mtmp, err);
        if (r < 0)
                goto out;
        {
                _cleanup_free_ char *a = xasprintf("%s/mount-id", mtmp);
                _cleanup_free_ char *b = xasprintf("%s/parent", mtmp);
                _cleanup_free_ char *c = xasprintf("%s/init-id", mtmp);

                if ((r = st_write_staged(a, mid, err)) < 0 ||
                    (r = st_write_staged(b, top ? top : "", err)) < 0 ||
                    (r = st_write_staged(c, init_id, err)) < 0)
                        goto out;
                (void)st_fsync_path(mtmp);
        }
        r = adopt_overlay_dir(s, tmp, mid, link, err);
        if (r < 0)
                goto out;
        free(tmp);
        tmp = NULL;
        if (rename(mtmp, dst) < 0) {
                r = berth_err_set(err, errno, "rename %s: %s", dst, strerror(errno));
                goto out;
        }
        free(mtmp);
        mtmp = NULL;
out:
        st_unlock(s);
        if (itmp)
                (void)st_rm_rf(itmp);
        if (tmp)
                (void)st_rm_rf(tmp);
        if (mtmp)
                (void)st_rm_rf(mtmp);
        st_strv_free(chains);
        return r;
}

static bool is_mounted(const char *merged)
{
        struct stat a, b;
        _cleanup_free_ char *parent = xasprintf("%s/..", merged);

        if (stat(merged, &a) < 0 || stat(parent, &b) < 0)
                return false;
        return a.st_dev != b.st_dev;
}

/* lowerdir paths (absolute) of a "lower" string, top first; NULL-terminated. */
static char **lower_dirs_of(struct storage *s, char *lower)
{
        char **v = xcalloc(1, sizeof(char *));
        size_t n = 0;
        char *save = NULL, *tok;

        if (!lower)
                return v;
        for (tok = strtok_r(lower, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
                v = xrealloc(v, (n + 2) * sizeof(char *));
                v[n++] = st_path(s, "overlay/%s", tok);
                v[n] = NULL;
        }
        return v;
}

static char **lower_dirs(struct storage *s, const char *mid)
{
        _cleanup_free_ char *lp = st_path(s, "overlay/%s/lower", mid);
        _cleanup_free_ char *lower = st_read_str(lp);

        return lower_dirs_of(s, lower);
}

static int do_mount(struct storage *s, const char *mid, unsigned mflags, struct berth_err *err)
{
        bool readonly = mflags & STORAGE_MOUNT_RO, vol = mflags & STORAGE_MOUNT_VOLATILE;
        _cleanup_free_ char *lp = st_path(s, "overlay/%s/lower", mid);
        _cleanup_free_ char *lower = st_read_str(lp);
        _cleanup_free_ char *merged = st_path(s, "overlay/%s/merged", mid);
        _cleanup_free_ char *ovl = st_path(s, "overlay");
        struct buf abs = BUF_INIT;
        _cleanup_free_ char *rel = NULL;
        unsigned long flags = readonly ? MS_RDONLY : 0;
        long page = sysconf(_SC_PAGESIZE);
        char *save = NULL, *tok;
        int r = 0;

        if (!lower || !*lower) {
                /* overlay wants a lower layer: an empty one */
                _cleanup_free_ char *e = st_path(s, "overlay/%s/empty", mid);

                (void)mkdir(e, 0755);
                free(lower);
                lower = xasprintf("%s/empty", mid);
        }
        {
                /* left by an earlier volatile mount: overlay refuses the
                 * work dir while it is there (nothing is mounted here now) */
                _cleanup_free_ char *v = st_path(s, "overlay/%s/work/work/incompat/volatile", mid);
                _cleanup_free_ char *i = st_path(s, "overlay/%s/work/work/incompat", mid);

                if (rmdir(v) == 0 || errno != ENOENT)
                        (void)rmdir(i);
        }
again:
        rel = xasprintf("lowerdir=%s,upperdir=%s/diff,workdir=%s/work%s", lower, mid, mid, vol ? ",volatile" : "");
        buf_adds(&abs, "lowerdir=");
        {
                _cleanup_free_ char *copy = xstrdup(lower);
                bool first = true;

                for (tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
                        buf_addf(&abs, "%s%s/%s", first ? "" : ":", ovl, tok);
                        first = false;
                }
        }
        buf_addf(&abs, ",upperdir=%s/%s/diff,workdir=%s/%s/work%s", ovl, mid, ovl, mid, vol ? ",volatile" : "");
        if ((long)abs.len < page - 1) {
                if (mount("overlay", merged, "overlay", flags, buf_cstr(&abs)) < 0)
                        r = berth_err_set(err, errno, "mount overlay at %s: %s", merged,
                                          strerror(errno));
        } else {
                /* too long for one page: relative paths from a child that
                 * chdirs (chdir is per process; the daemon is threaded) */
                pid_t pid = fork();
                int status = 0;

                if (pid < 0) {
                        r = berth_err_set(err, errno, "fork: %s", strerror(errno));
                } else if (pid == 0) {
                        if (chdir(ovl) < 0)
                                _exit(1);
                        if (mount("overlay", merged, "overlay", flags, rel) < 0)
                                _exit(errno & 0x7f);
                        _exit(0);
                } else {
                        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                                ;
                        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                                int e = WIFEXITED(status) ? WEXITSTATUS(status) : EIO;

                                r = berth_err_set(err, e ? e : EIO,
                                                  "mount overlay at %s (%zu layers): %s", merged,
                                                  (size_t)0, strerror(e ? e : EIO));
                        }
                }
        }
        buf_release(&abs);
        if (r == -EINVAL && vol) {
                /* a kernel before 5.10 has no volatile: mount it plain */
                vol = false;
                r = 0;
                berth_err_clear(err);
                free(rel);
                rel = NULL;
                goto again;
        }
        return r;
}

int storage_rootfs_mount(struct storage *s, const char *container_id, unsigned flags,
                         char **ret_path, struct berth_err *err)
{
        _cleanup_free_ char *mid = NULL, *merged = NULL;
        int r;

        r = mount_id(s, container_id, &mid, err);
        if (r < 0)
                return r;
        merged = st_path(s, "overlay/%s/merged", mid);
        if (!is_mounted(merged)) {
                r = do_mount(s, mid, flags, err);
                if (r < 0)
                        return r;
        }
        if (ret_path)
                *ret_path = TAKE_PTR(merged);
        return 0;
}

int storage_rootfs_unmount(struct storage *s, const char *container_id, struct berth_err *err)
{
        _cleanup_free_ char *mid = NULL, *merged = NULL;
        int r;

        r = mount_id(s, container_id, &mid, err);
        if (r < 0)
                return r;
        merged = st_path(s, "overlay/%s/merged", mid);
        while (is_mounted(merged)) {
                if (umount2(merged, 0) < 0) {
                        if (errno == EBUSY && umount2(merged, MNT_DETACH) == 0)
                                break;
                        /* unmounted meanwhile by another thread */
                        if (errno == EINVAL && !is_mounted(merged))
                                break;
                        return berth_err_set(err, errno, "unmount %s: %s", merged,
                                             strerror(errno));
                }
        }
        return 0;
}

int storage_rootfs_remove(struct storage *s, const char *container_id, struct berth_err *err)
{
        _cleanup_free_ char *mid = NULL, *md = NULL, *od = NULL, *lk = NULL, *link = NULL;
        _cleanup_free_ char *ip = NULL, *init_id = NULL, *ilk = NULL, *ilink = NULL, *iod = NULL;
        int r;

        r = storage_rootfs_unmount(s, container_id, err);
        if (r < 0)
                return r;
        r = mount_id(s, container_id, &mid, err);
        if (r < 0)
                return r;
        (void)st_container_volumes_release(s, container_id, -1, NULL, NULL);
        md = st_path(s, "image/layerdb/mounts/%s", container_id);
        od = st_path(s, "overlay/%s", mid);
        lk = st_path(s, "overlay/%s/link", mid);
        link = st_read_str(lk);
        ip = mount_file(s, container_id, "init-id");
        init_id = st_read_str(ip);
        if (init_id && valid_cid(init_id) && !is_shared_init(init_id, mid)) {
                ilk = st_path(s, "overlay/%s/link", init_id);
                ilink = st_read_str(ilk);
                iod = st_path(s, "overlay/%s", init_id);
        }
        st_lock(s);
        r = st_rm_rf(md);
        if (r == 0) {
                if (link) {
                        _cleanup_free_ char *l = st_path(s, "overlay/l/%s", link);

                        (void)unlink(l);
                }
                if (ilink) {
                        _cleanup_free_ char *l = st_path(s, "overlay/l/%s", ilink);

                        (void)unlink(l);
                }
                r = storage_trash(s, od);
                if (r == 0 && iod)
                        r = storage_trash(s, iod);
        }
        st_unlock(s);
        if (r < 0)
                return berth_err_set(err, -r, "remove rootfs of %s: %s", container_id,
                                     strerror(-r));
        return 0;
}

int storage_rootfs_graphdriver(struct storage *s, const char *container_id, cJSON **ret,
                               struct berth_err *err)
{
        _cleanup_free_ char *mid = NULL;
        char **lowers;
        struct buf b = BUF_INIT;
        cJSON *o, *data;
        size_t i;
        int r;

        r = mount_id(s, container_id, &mid, err);
        if (r < 0)
                return r;
        lowers = lower_dirs(s, mid);
        for (i = 0; lowers[i]; i++) {
                char real[4096];

                if (realpath(lowers[i], real))
                        buf_addf(&b, "%s%s", i ? ":" : "", real);
        }
        st_strv_free(lowers);
        o = cJSON_CreateObject();
        data = cJSON_AddObjectToObject(o, "Data");
        cJSON_AddStringToObject(data, "LowerDir", b.len ? buf_cstr(&b) : "");
        {
                _cleanup_free_ char *m = st_path(s, "overlay/%s/merged", mid);
                _cleanup_free_ char *u = st_path(s, "overlay/%s/diff", mid);
                _cleanup_free_ char *w = st_path(s, "overlay/%s/work", mid);

                cJSON_AddStringToObject(data, "MergedDir", m);
                cJSON_AddStringToObject(data, "UpperDir", u);
                cJSON_AddStringToObject(data, "WorkDir", w);
        }
        cJSON_AddStringToObject(o, "Name", "overlay2");
        buf_release(&b);
        *ret = o;
        return 0;
}

/* ---- changes ---- */

struct change {
        char *path;
        int kind;
};

static bool in_lowers(char **lowers, const char *rel)
{
        size_t i;

        for (i = 0; lowers[i]; i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", lowers[i], rel);
                struct stat st;

                if (lstat(p, &st) == 0)
                        return !(S_ISCHR(st.st_mode) && st.st_rdev == 0);
        }
        return false;
}

static void walk_changes(const char *dir, const char *rel, char **lowers, struct change **v,
                         size_t *n)
{
        DIR *d = opendir(dir);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                _cleanup_free_ char *p = NULL, *r = NULL;
                struct stat st;
                int kind;

                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                p = xasprintf("%s/%s", dir, de->d_name);
                r = *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
                if (lstat(p, &st) < 0)
                        continue;
                if (S_ISCHR(st.st_mode) && st.st_rdev == 0)
                        kind = 2;
                else
                        kind = in_lowers(lowers, r) ? 0 : 1;
                *v = xrealloc(*v, (*n + 1) * sizeof(**v));
                (*v)[*n].path = xasprintf("/%s", r);
                (*v)[*n].kind = kind;
                (*n)++;
                if (S_ISDIR(st.st_mode))
                        walk_changes(p, r, lowers, v, n);
        }
        closedir(d);
}

static int change_cmp(const void *a, const void *b)
{
        return strcmp(((const struct change *)a)->path, ((const struct change *)b)->path);
}

int storage_rootfs_changes(struct storage *s, const char *container_id, cJSON **ret,
                           struct berth_err *err)
{
        _cleanup_free_ char *mid = NULL, *upper = NULL;
        struct change *v = NULL;
        size_t n = 0, i;
        char **lowers;
        cJSON *arr;
        int r;

        r = mount_id(s, container_id, &mid, err);
        if (r < 0)
                return r;
        upper = st_path(s, "overlay/%s/diff", mid);
        lowers = lower_dirs(s, mid);
        walk_changes(upper, "", lowers, &v, &n);
        st_strv_free(lowers);
        if (n > 1)
                qsort(v, n, sizeof(*v), change_cmp);
        arr = cJSON_CreateArray();
        for (i = 0; i < n; i++) {
                cJSON *o = cJSON_CreateObject();

                cJSON_AddStringToObject(o, "Path", v[i].path);
                cJSON_AddNumberToObject(o, "Kind", v[i].kind);
                cJSON_AddItemToArray(arr, o);
                free(v[i].path);
        }
        free(v);
        *ret = arr;
        return 0;
}

int storage_rootfs_size(struct storage *s, const char *container_id, uint64_t *ret,
                        struct berth_err *err)
{
        _cleanup_free_ char *mid = NULL, *upper = NULL;
        int r;

        r = mount_id(s, container_id, &mid, err);
        if (r < 0)
                return r;
        upper = st_path(s, "overlay/%s/diff", mid);
        *ret = st_du(upper);
        return 0;
}

int storage_rootfs_export(struct storage *s, const char *container_id, int fd,
                          struct berth_err *err)
{
        _cleanup_free_ char *mid = NULL, *merged = NULL;
        struct st_tar_out *o = NULL;
        bool we_mounted = false;
        int r;

        r = mount_id(s, container_id, &mid, err);
        if (r < 0)
                return r;
        merged = st_path(s, "overlay/%s/merged", mid);
        if (!is_mounted(merged)) {
                r = do_mount(s, mid, STORAGE_MOUNT_RO, err);
                if (r < 0)
                        return r;
                we_mounted = true;
        }
        r = st_tar_out_new(fd, &o, err);
        if (r == 0)
                r = st_tar_out_tree(o, merged, ST_TREE_PLAIN, err);
        if (r == 0)
                r = st_tar_out_finish(o, err);
        st_tar_out_free(o);
        if (we_mounted)
                (void)umount2(merged, MNT_DETACH);
        return r;
}

int st_rootfs_upper(struct storage *s, const char *container_id, char **ret_upper,
                    char **ret_parent, struct berth_err *err)
{
        _cleanup_free_ char *mid = NULL, *pp = NULL;
        int r;

        r = mount_id(s, container_id, &mid, err);
        if (r < 0)
                return r;
        pp = mount_file(s, container_id, "parent");
        *ret_parent = st_read_str(pp);
        if (!*ret_parent)
                *ret_parent = xstrdup("");
        *ret_upper = st_path(s, "overlay/%s/diff", mid);
        return 0;
}

/* ---- docker cp: /containers/{id}/archive ---- */

/* Go's os.FileMode bits, as X-Docker-Container-Path-Stat carries them */
static uint32_t go_mode(mode_t m)
{
        uint32_t g = m & 0777;

        if (S_ISDIR(m))
                g |= 1u << 31;
        else if (S_ISLNK(m))
                g |= 1u << 27;
        else if (S_ISBLK(m))
                g |= 1u << 26;
        else if (S_ISCHR(m))
                g |= (1u << 26) | (1u << 21);
        else if (S_ISFIFO(m))
                g |= 1u << 25;
        else if (S_ISSOCK(m))
                g |= 1u << 24;
        if (m & S_ISUID)
                g |= 1u << 23;
        if (m & S_ISGID)
                g |= 1u << 22;
        if (m & S_ISVTX)
                g |= 1u << 20;
        return g;
}

struct cproot {
        char *merged;
        bool we_mounted;
        int rootfd;
};

static int cproot_open(struct storage *s, const char *cid, bool rw, struct cproot *c,
                       struct berth_err *err)
{
        _cleanup_free_ char *mid = NULL;
        int r;

        c->merged = NULL;
        c->we_mounted = false;
        c->rootfd = -1;
        r = mount_id(s, cid, &mid, err);
        if (r < 0)
                return r;
        c->merged = st_path(s, "overlay/%s/merged", mid);
        if (!is_mounted(c->merged)) {
                r = do_mount(s, mid, rw ? 0 : STORAGE_MOUNT_RO, err);
                if (r < 0) {
                        free(c->merged);
                        c->merged = NULL;
                        return r;
                }
                c->we_mounted = true;
        }
        c->rootfd = open(c->merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c->rootfd < 0)
                return berth_err_set(err, errno, "open %s: %s", c->merged, strerror(errno));
        return 0;
}

static void cproot_close(struct cproot *c)
{
        if (c->rootfd >= 0)
                close(c->rootfd);
        if (c->we_mounted)
                (void)umount2(c->merged, MNT_DETACH);
        free(c->merged);
}

/* Resolve path's parent inside the container root (symlinks resolved as
 * if chrooted, never leaving it); *base is the last component ("." for /). */
static int cp_parent(struct cproot *c, const char *cid, const char *path, char **base,
                     struct berth_err *err)
{
        _cleanup_free_ char *p = xstrdup(path && *path ? path : "/");
        struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        size_t n = strlen(p);
        char *slash;
        long fd;

        while (n > 1 && p[n - 1] == '/')
                p[--n] = '\0';
        slash = strrchr(p, '/');
        if (!strcmp(p, "/") || !strcmp(p, ".")) {
                *base = xstrdup(".");
                return fcntl(c->rootfd, F_DUPFD_CLOEXEC, 3);
        }
        *base = xstrdup(slash ? slash + 1 : p);
        if (slash)
                slash[1] = '\0';
        fd = syscall(SYS_openat2, c->rootfd, slash ? p : ".", &how, sizeof(how));
        if (fd < 0) {
                int e = errno;

                free(*base);
                *base = NULL;
                if (e == ENOENT || e == ENOTDIR)
                        return berth_err_pub(err, ENOENT, "Could not find the file %s in container %s",
                                             path, cid);
                return berth_err_set(err, e, "resolve %s: %s", path, strerror(e));
        }
        return (int)fd;
}

static cJSON *stat_json(const char *name, const struct stat *st, const char *link)
{
        cJSON *o = cJSON_CreateObject();
        char ts[64];

        berth_time_rfc3339(st->st_mtim.tv_sec, st->st_mtim.tv_nsec, ts, sizeof(ts));
        cJSON_AddStringToObject(o, "name", name);
        cJSON_AddNumberToObject(o, "size", (double)st->st_size);
        cJSON_AddNumberToObject(o, "mode", (double)go_mode(st->st_mode));
        cJSON_AddStringToObject(o, "mtime", ts);
        cJSON_AddStringToObject(o, "linkTarget", link ? link : "");
        return o;
}

static int cp_stat(struct cproot *c, const char *cid, const char *path, int *ret_pfd,
                   char **ret_base, cJSON **ret, struct berth_err *err)
{
        _cleanup_free_ char *base = NULL;
        int pfd = cp_parent(c, cid, path, &base, err);
        struct stat st;
        char link[4096] = "";

        if (pfd < 0)
                return pfd;
        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                int e = errno;

                close(pfd);
                if (e == ENOENT)
                        return berth_err_pub(err, ENOENT, "Could not find the file %s in container %s",
                                             path, cid);
                return berth_err_set(err, e, "stat %s: %s", path, strerror(e));
        }
        if (S_ISLNK(st.st_mode)) {
                ssize_t n = readlinkat(pfd, base, link, sizeof(link) - 1);

                link[n < 0 ? 0 : n] = '\0';
        }
        if (ret)
                *ret = stat_json(!strcmp(base, ".") ? "/" : base, &st, link);
        if (ret_pfd)
                *ret_pfd = pfd;
        else
                close(pfd);
        if (ret_base)
                *ret_base = TAKE_PTR(base);
        return 0;
}

int storage_rootfs_path_stat(struct storage *s, const char *container_id, const char *path,
                             cJSON **ret, struct berth_err *err)
{
        struct cproot c;
        int r = cproot_open(s, container_id, false, &c, err);

        if (r == 0)
                r = cp_stat(&c, container_id, path, NULL, NULL, ret, err);
        cproot_close(&c);
        return r;
}

int storage_rootfs_archive_get(struct storage *s, const char *container_id, const char *path,
                               int fd, cJSON **ret_stat, struct berth_err *err)
{
        _cleanup_free_ char *base = NULL, *hp = NULL;
        struct st_tar_out *o = NULL;
        struct cproot c;
        cJSON *stat = NULL;
        int pfd = -1, r;

        r = cproot_open(s, container_id, false, &c, err);
        if (r == 0)
                r = cp_stat(&c, container_id, path, &pfd, &base, &stat, err);
        if (r == 0) {
                /* the resolved parent through its fd: no symlink outside */
                hp = xasprintf("/proc/self/fd/%d/%s", pfd, base);
                r = st_tar_out_new(fd, &o, err);
                if (r == 0)
                        r = st_tar_out_path(o, hp, base, err);
                if (r == 0)
                        r = st_tar_out_finish(o, err);
                st_tar_out_free(o);
        }
        if (pfd >= 0)
                close(pfd);
        cproot_close(&c);
        if (r == 0 && ret_stat)
                *ret_stat = stat;
        else
                cJSON_Delete(stat);
        return r;
}

int storage_rootfs_archive_put(struct storage *s, const char *container_id, const char *path,
                               int fd, bool no_overwrite_dir_non_dir, struct berth_err *err)
{
        struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        struct cproot c;
        long dfd = -1;
        int r;

        r = cproot_open(s, container_id, true, &c, err);
        if (r == 0)
                r = st_space_check(s, 0, err);
        if (r == 0) {
                dfd = syscall(SYS_openat2, c.rootfd, path && *path ? path : "/", &how,
                              sizeof(how));
                if (dfd < 0)
                        r = errno == ENOTDIR
                                    ? berth_err_pub(err, EINVAL,
                                                    "extraction point is not a directory")
                                    : errno == ENOENT
                                              ? berth_err_pub(err, ENOENT,
                                                              "Could not find the file %s in "
                                                              "container %s",
                                                              path, container_id)
                                              : berth_err_set(err, errno, "resolve %s: %s",
                                                              path, strerror(errno));
        }
        if (r == 0)
                r = st_tar_unpack_at(fd, (int)dfd,
                                     no_overwrite_dir_non_dir ? ST_UNPACK_NO_DIR_NON_DIR : 0,
                                     NULL, err);
        if (dfd >= 0)
                close((int)dfd);
        cproot_close(&c);
        return r;
}

/* ---- volume copy-up ---- */

static int copy_tree(int sfd, int dfd, int depth)
{
        DIR *d;
        struct dirent *de;
        int r = 0, fd2;

        if (depth > 128)
                return -ELOOP;
        fd2 = fcntl(sfd, F_DUPFD_CLOEXEC, 3);
        if (fd2 < 0)
                return -errno;
        d = fdopendir(fd2);
        if (!d) {
                close(fd2);
                return -errno;
        }
        while (r == 0 && (de = readdir(d))) {
                struct stat st;
                struct timespec ts[2];

                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (fstatat(sfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                ts[0] = st.st_atim;
                ts[1] = st.st_mtim;
                if (S_ISDIR(st.st_mode)) {
                        int a, b;

                        if (mkdirat(dfd, de->d_name, 0700) < 0 && errno != EEXIST) {
                                r = -errno;
                                break;
                        }
                        a = openat(sfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                                            O_CLOEXEC);
                        b = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                                            O_CLOEXEC);
                        if (a >= 0 && b >= 0) {
                                r = copy_tree(a, b, depth + 1);
                                if (fchown(b, st.st_uid, st.st_gid) < 0 && geteuid() == 0)
                                        r = r ? r : -errno;
                                (void)fchmod(b, st.st_mode & 07777);
                                (void)futimens(b, ts);
                        } else {
                                r = -errno;
                        }
                        if (a >= 0)
                                close(a);
                        if (b >= 0)
                                close(b);
                } else if (S_ISREG(st.st_mode)) {
                        int a = openat(sfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                        int b = openat(dfd, de->d_name,
                                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                        off_t left = st.st_size;
                        bool plain = false;

                        if (a < 0 || b < 0)
                                r = -errno;
                        while (r == 0 && left > 0) {
                                char buf[65536];
                                ssize_t n;

                                /* overlay -> another fs: EXDEV, fall back */
                                n = plain ? -1 : copy_file_range(a, NULL, b, NULL, (size_t)left, 0);
                                if (!plain && n < 0 && (errno == EXDEV || errno == EINVAL ||
                                                        errno == EOPNOTSUPP || errno == ENOSYS)) {
                                        plain = true;
                                        continue;
                                }
                                if (plain) {
                                        n = read(a, buf, sizeof(buf));
                                        if (n > 0 && write(b, buf, (size_t)n) != n)
                                                n = -1;
                                }
                                if (n < 0 && errno == EINTR)
                                        continue;
                                if (n <= 0) {
                                        r = n < 0 ? -errno : -EIO;
                                        break;
                                }
                                left -= n;
                        }
                        if (r == 0) {
                                if (fchown(b, st.st_uid, st.st_gid) < 0 && geteuid() == 0)
                                        r = -errno;
                                (void)fchmod(b, st.st_mode & 07777);
                                (void)futimens(b, ts);
                        }
                        if (a >= 0)
                                close(a);
                        if (b >= 0)
                                close(b);
                } else if (S_ISLNK(st.st_mode)) {
                        char t[4096];
                        ssize_t n = readlinkat(sfd, de->d_name, t, sizeof(t) - 1);

                        if (n >= 0) {
                                t[n] = '\0';
                                if (symlinkat(t, dfd, de->d_name) < 0)
                                        r = -errno;
                                else if (fchownat(dfd, de->d_name, st.st_uid, st.st_gid,
                                                  AT_SYMLINK_NOFOLLOW) < 0 && geteuid() == 0)
                                        r = -errno;
                        }
                } else if (!(S_ISCHR(st.st_mode) && st.st_rdev == 0)) {
                        if (mknodat(dfd, de->d_name, st.st_mode, st.st_rdev) < 0 && geteuid() == 0)
                                r = -errno;
                }
        }
        closedir(d);
        return r;
}

int storage_volume_copy_up(struct storage *s, const char *name, const char *container_id,
                           const char *path, struct berth_err *err)
{
        struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        _cleanup_free_ char *data = NULL;
        _cleanup_close_ int dfd = -1;
        struct cproot c;
        struct dirent *de;
        struct stat st;
        long sfd = -1;
        bool empty = true;
        DIR *d;
        int r;

        r = storage_volume_path(s, name, &data, err);
        if (r < 0)
                return r;
        dfd = open(data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return berth_err_set(err, errno, "open %s: %s", data, strerror(errno));
        d = opendir(data);
        while (d && (de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        empty = false;
        if (d)
                closedir(d);
        if (!empty)
                return 0; /* Docker copies only into an empty volume */
        r = cproot_open(s, container_id, false, &c, err);
        if (r == 0) {
                sfd = syscall(SYS_openat2, c.rootfd, path && *path ? path : "/", &how,
                              sizeof(how));
                if (sfd >= 0) {
                        r = copy_tree((int)sfd, dfd, 0);
                        if (r < 0)
                                r = berth_err_set(err, -r, "copy %s into volume %s: %s", path,
                                                  name, strerror(-r));
                        else if (fstat((int)sfd, &st) == 0) {
                                if (fchown(dfd, st.st_uid, st.st_gid) < 0 && geteuid() == 0)
                                        r = berth_err_set(err, errno, "chown volume %s: %s", name,
                                                          strerror(errno));
                                (void)fchmod(dfd, st.st_mode & 07777);
                        }
                        close((int)sfd);
                }
                /* nothing at path in the image: nothing to copy */
        }
        cproot_close(&c);
        return r;
}
