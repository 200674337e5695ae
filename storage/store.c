/* SPDX-License-Identifier: Apache-2.0
 * storage/store.c -- the store itself: open/close, paths, sha256, blobs,
 * the free-space guard, pins and garbage collection. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <openssl/evp.h>

#include "storage/storage-internal.h"

char *st_path(const struct storage *s, const char *fmt, ...)
{
        _cleanup_free_ char *rel = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&rel, fmt, ap);
        va_end(ap);
        if (n < 0)
                berth_oom();
        return xasprintf("%s/%s", s->root, rel);
}

bool st_is_hex(const char *s, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return s[n] == '\0';
}

const char *st_digest_hex(const char *digest)
{
        if (!digest || !berth_str_has_prefix(digest, "sha256:"))
                return NULL;
        if (!st_is_hex(digest + 7, ST_HEX_LEN))
                return NULL;
        return digest + 7;
}

/* ---- sha256 ---- */

struct st_hash {
        EVP_MD_CTX *ctx;
};

struct st_hash *st_hash_new(void)
{
        struct st_hash *h = xmalloc(sizeof(*h));

        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
                berth_oom();
        return h;
}

void st_hash_update(struct st_hash *h, const void *p, size_t n)
{
        if (n)
                (void)EVP_DigestUpdate(h->ctx, p, n);
}

void st_hash_free(struct st_hash *h)
{
        if (!h)
                return;
        EVP_MD_CTX_free(h->ctx);
        free(h);
}

void st_hash_final(struct st_hash *h, char out[ST_HEX_LEN + 1])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0, i;
        static const char hx[] = "0123456789abcdef";

        (void)EVP_DigestFinal_ex(h->ctx, md, &len);
        for (i = 0; i < len && i < 32; i++) {
                out[2 * i] = hx[md[i] >> 4];
                out[2 * i + 1] = hx[md[i] & 15];
        }
        out[ST_HEX_LEN] = '\0';
        st_hash_free(h);
}

char *storage_sha256_digest(const void *data, size_t len)
{
        struct st_hash *h = st_hash_new();
        char hex[ST_HEX_LEN + 1];

        st_hash_update(h, data, len);
        st_hash_final(h, hex);
        return xasprintf("sha256:%s", hex);
}

int st_hash_fd(int fd, char out[ST_HEX_LEN + 1], uint64_t *ret_size)
{
        struct st_hash *h = st_hash_new();
        _cleanup_free_ char *b = xmalloc(1 << 20);
        uint64_t total = 0;

        for (;;) {
                ssize_t n = read(fd, b, 1 << 20);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = -errno;

                        st_hash_free(h);
                        return r;
                }
                if (n == 0)
                        break;
                st_hash_update(h, b, (size_t)n);
                total += (uint64_t)n;
        }
        st_hash_final(h, out);
        if (ret_size)
                *ret_size = total;
        return 0;
}

/* ---- files ---- */

int st_rm_rf_at(int dfd, const char *name)
{
        struct stat st;
        int fd, r = 0;
        DIR *d;
        struct dirent *de;

        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode)) {
                if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
                        return -errno;
                return 0;
        }
        {
                /* never descend into a mount (a bind mount keeps st_dev) */
                struct statx sx;

                if (statx(dfd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) == 0 &&
                    (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
                    (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
                        return -EBUSY;
        }
        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        while ((de = readdir(d))) {
                int q;

                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                q = st_rm_rf_at(dirfd(d), de->d_name);
                if (q < 0 && r == 0)
                        r = q;
        }
        closedir(d);
        if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                r = -errno;
        return r;
}

int st_rm_rf(const char *path)
{
        return st_rm_rf_at(AT_FDCWD, path);
}

int st_mkdtemp(struct storage *s, const char *prefix, char **ret, struct berth_err *err)
{
        char rnd[17];
        char *p;

        if (berth_random_hex(rnd, 8) < 0)
                return berth_err_set(err, EIO, "random: %s", strerror(errno));
        p = st_path(s, "tmp/%s-%s", prefix, rnd);
        if (mkdir(p, 0700) < 0) {
                int r = errno;

                free(p);
                return berth_err_set(err, r, "mkdir tmp: %s", strerror(r));
        }
        *ret = p;
        return 0;
}

int st_fsync_path(const char *path)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        return fsync(fd) < 0 ? -errno : 0;
}

int st_write_str(const char *path, const char *str, struct berth_err *err)
{
        return berth_write_file_atomic(path, str, strlen(str), 0644, err);
}

int st_write_staged(const char *path, const char *str, struct berth_err *err)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        size_t len = strlen(str);

        if (fd < 0)
                return berth_err_set(err, errno, "create %s: %s", path, strerror(errno));
        if (write(fd, str, len) != (ssize_t)len || fsync(fd) < 0)
                return berth_err_set(err, errno ? errno : EIO, "write %s: %s", path, strerror(errno ? errno : EIO));
        return 0;
}

char *st_read_str(const char *path)
{
        char *d = NULL;
        size_t n = 0;

        if (berth_read_file(path, 1 << 16, &d, &n, NULL) < 0)
                return NULL;
        while (n > 0 && (d[n - 1] == '\n' || d[n - 1] == ' '))
                d[--n] = '\0';
        return d;
}

static uint64_t du_at(int dfd, const char *name)
{
        struct stat st;
        uint64_t total = 0;
        DIR *d;
        struct dirent *de;
        int fd;

        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        if (!S_ISDIR(st.st_mode))
                return S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return 0;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return 0;
        }
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        total += du_at(dirfd(d), de->d_name);
        closedir(d);
        return total;
}

uint64_t st_du(const char *path)
{
        return du_at(AT_FDCWD, path);
}

void st_crash_point(const char *point)
{
        const char *want = getenv("BERTH_STORAGE_CRASH_AT");

        if (want && !strcmp(want, point))
                _exit(99);
}

/* ---- free-space guard ---- */

static int parse_min_free(const char *v, int *pct, uint64_t *bytes)
{
        size_t n = strlen(v);
        uint64_t mult = 1;
        int64_t x;
        _cleanup_free_ char *num = NULL;

        if (n == 0)
                return -EINVAL;
        if (v[n - 1] == '%') {
                num = xstrndup(v, n - 1);
                if (berth_parse_int64(num, &x) < 0 || x < 0 || x >= 100)
                        return -EINVAL;
                *pct = (int)x;
                *bytes = 0;
                return 0;
        }
        num = xstrdup(v);
        n = strlen(num);
        if (n > 1 && (num[n - 1] == 'b' || num[n - 1] == 'B'))
                num[--n] = '\0';
        if (n > 1) {
                switch (num[n - 1]) {
                case 'k': case 'K': mult = 1ULL << 10; break;
                case 'm': case 'M': mult = 1ULL << 20; break;
                case 'g': case 'G': mult = 1ULL << 30; break;
                case 't': case 'T': mult = 1ULL << 40; break;
                default: mult = 1;
                }
                if (mult != 1)
                        num[--n] = '\0';
        }
        if (berth_parse_int64(num, &x) < 0 || x < 0)
                return -EINVAL;
        *bytes = (uint64_t)x * mult;
        *pct = 0;
        return 0;
}

int storage_set_option(struct storage *s, const char *kv, struct berth_err *err)
{
        const char *eq = strchr(kv, '=');
        const char *val = kv;

        if (eq) {
                size_t kl = (size_t)(eq - kv);

                if (!((kl == STRLEN("overlay2.min_free_space") &&
                       !strncmp(kv, "overlay2.min_free_space", kl)) ||
                      (kl == STRLEN("min_free_space") && !strncmp(kv, "min_free_space", kl))))
                        return berth_err_pub(err, EINVAL, "overlay2: unknown option %.*s",
                                             (int)kl, kv);
                val = eq + 1;
        }
        if (parse_min_free(val, &s->min_free_pct, &s->min_free_bytes) < 0)
                return berth_err_pub(err, EINVAL,
                                     "overlay2: invalid min_free_space '%s' (want N%% or a size)",
                                     val);
        return 0;
}

int st_space_check(struct storage *s, uint64_t need, struct berth_err *err)
{
        struct statvfs sv;
        uint64_t avail, total, bound;

        if (!s->min_free_pct && !s->min_free_bytes)
                return 0;
        if (statvfs(s->root, &sv) < 0)
                return berth_err_set(err, errno, "statvfs %s: %s", s->root, strerror(errno));
        avail = (uint64_t)sv.f_bavail * sv.f_frsize;
        total = (uint64_t)sv.f_blocks * sv.f_frsize;
        bound = s->min_free_pct ? total / 100 * (uint64_t)s->min_free_pct : s->min_free_bytes;
        if (avail < need || avail - need < bound)
                return berth_err_pub(err, ENOSPC,
                                     "no space left on device: free space on %s would fall below "
                                     "overlay2.min_free_space (%llu bytes free, %llu needed, "
                                     "%llu bytes to keep)",
                                     s->root, (unsigned long long)avail,
                                     (unsigned long long)need, (unsigned long long)bound);
        return 0;
}

/* ---- pins ---- */

void st_pin(struct storage *s, const char *digest)
{
        s->pins = xrealloc(s->pins, (s->n_pins + 1) * sizeof(*s->pins));
        s->pins[s->n_pins++] = xstrdup(digest);
}

void st_unpin(struct storage *s, const char *digest)
{
        size_t i;

        for (i = 0; i < s->n_pins; i++)
                if (!strcmp(s->pins[i], digest)) {
                        free(s->pins[i]);
                        s->pins[i] = s->pins[--s->n_pins];
                        return;
                }
}

bool st_pinned(struct storage *s, const char *digest)
{
        size_t i;

        for (i = 0; i < s->n_pins; i++)
                if (!strcmp(s->pins[i], digest))
                        return true;
        return false;
}

/* ---- blobs ---- */

static char *blob_path(struct storage *s, const char *hex)
{
        return st_path(s, "image/blobs/sha256/%s", hex);
}

int st_blob_adopt(struct storage *s, const char *tmp_path, const char *hex, struct berth_err *err)
{
        _cleanup_free_ char *dst = blob_path(s, hex);
        int r;

        r = st_fsync_path(tmp_path);
        if (r < 0)
                return berth_err_set(err, -r, "fsync %s: %s", tmp_path, strerror(-r));
        if (rename(tmp_path, dst) < 0)
                return berth_err_set(err, errno, "rename blob %s: %s", hex, strerror(errno));
        return 0;
}

int storage_blob_put(struct storage *s, const void *data, size_t len, const char *expect,
                     char **ret_digest, struct berth_err *err)
{
        _cleanup_free_ char *d = storage_sha256_digest(data, len);
        _cleanup_free_ char *path = NULL;
        int r;

        if (expect && strcmp(expect, d))
                return berth_err_pub(err, EINVAL, "blob digest mismatch: expected %s, got %s",
                                     expect, d);
        r = st_space_check(s, len, err);
        if (r < 0)
                return r;
        path = blob_path(s, d + 7);
        if (access(path, F_OK) != 0) {
                r = berth_write_file_atomic(path, data, len, 0644, err);
                if (r < 0)
                        return r;
        }
        if (ret_digest)
                *ret_digest = TAKE_PTR(d);
        return 0;
}

int storage_blob_get(struct storage *s, const char *digest, char **ret, size_t *ret_len,
                     struct berth_err *err)
{
        const char *hex = st_digest_hex(digest);
        _cleanup_free_ char *path = NULL, *data = NULL, *got = NULL;
        size_t n = 0;
        int r;

        if (!hex)
                return berth_err_pub(err, EINVAL, "invalid digest '%s'", digest ? digest : "");
        path = blob_path(s, hex);
        r = berth_read_file(path, SIZE_MAX / 2, &data, &n, err);
        if (r < 0)
                return r == -ENOENT ? berth_err_pub(err, ENOENT, "blob %s not found", digest) : r;
        got = storage_sha256_digest(data, n);
        if (strcmp(got, digest))
                return berth_err_set(err, EIO, "blob %s is corrupt (content hashes to %s)",
                                     digest, got);
        *ret = TAKE_PTR(data);
        if (ret_len)
                *ret_len = n;
        return 0;
}

bool storage_blob_exists(struct storage *s, const char *digest)
{
        const char *hex = st_digest_hex(digest);
        _cleanup_free_ char *path = NULL;

        if (!hex)
                return false;
        path = blob_path(s, hex);
        return access(path, F_OK) == 0;
}

/* ---- open / close ---- */

const char *storage_root(const struct storage *s)
{
        return s->root;
}

int storage_open(const char *data_root, const struct storage_opts *opts,
                 struct storage **ret, struct berth_err *err)
{
        static const char *const dirs[] = {
                "image/blobs/sha256", "image/imagedb/content/sha256",
                "image/imagedb/metadata/sha256", "image/layerdb/sha256",
                "image/layerdb/mounts", "overlay/l", "volumes", "tmp",
        };
        struct storage *s;
        struct stat st;
        size_t i;
        int r;

        /* storage_open empties <root>/tmp: a root that is not an absolute
         * path of its own (never "", "/" or relative) must never get there */
        if (!data_root || data_root[0] != '/' || data_root[strspn(data_root, "/")] == '\0' ||
            strstr(data_root, "/../") ||
            (strlen(data_root) >= 3 && !strcmp(data_root + strlen(data_root) - 3, "/..")))
                return berth_err_pub(err, EINVAL, "data root '%s' must be an absolute path "
                                                  "other than /", data_root ? data_root : "");
        if (lstat(data_root, &st) == 0 && !S_ISDIR(st.st_mode))
                return berth_err_pub(err, ENOTDIR, "data root '%s' is not a directory",
                                     data_root);
        s = xcalloc(1, sizeof(*s));
        s->root = xstrdup(data_root);
        pthread_mutex_init(&s->lock, NULL);
        pthread_mutex_init(&s->trash_mu, NULL);
        pthread_cond_init(&s->trash_cond, NULL);
        if (opts && opts->min_free_space) {
                r = storage_set_option(s, opts->min_free_space, err);
                if (r < 0)
                        goto fail;
        }
        for (i = 0; i < ARRAY_SIZE(dirs); i++) {
                _cleanup_free_ char *p = st_path(s, "%s", dirs[i]);

                r = berth_mkdir_p(p, 0700);
                if (r < 0) {
                        r = berth_err_set(err, -r, "mkdir %s: %s", p, strerror(-r));
                        goto fail;
                }
        }
        /* tmp/ holds staging of interrupted work: drop it */
        {
                _cleanup_free_ char *tmp = st_path(s, "tmp");
                DIR *d = opendir(tmp);
                struct dirent *de;

                static const char *const ours[] = {
                        "load-", "layer-", "layerdb-", "mount-", "mnt-", "vol-",
                        "rmvol-", "import-", "commit-", "trash-",
                };

                if (d) {
                        while ((de = readdir(d))) {
                                for (i = 0; i < ARRAY_SIZE(ours); i++)
                                        if (berth_str_has_prefix(de->d_name, ours[i]))
                                                break;
                                if (i < ARRAY_SIZE(ours))
                                        (void)st_rm_rf_at(dirfd(d), de->d_name);
                        }
                        closedir(d);
                }
        }
        st_lock(s);
        r = st_gc_locked(s, NULL, NULL, err);
        st_unlock(s);
        if (r < 0)
                goto fail;
        *ret = s;
        return 0;
fail:
        storage_free(s);
        return r;
}

/* ---- trash ---- */

static void *trash_main(void *data)
{
        struct storage *s = data;
        sigset_t all;

        sigfillset(&all);
        (void)pthread_sigmask(SIG_BLOCK, &all, NULL);
        pthread_mutex_lock(&s->trash_mu);
        for (;;) {
                while (!s->n_trash && !s->trash_stop)
                        pthread_cond_wait(&s->trash_cond, &s->trash_mu);
                if (s->trash_stop)
                        break;
                char *p = s->trash[--s->n_trash];
                pthread_mutex_unlock(&s->trash_mu);
                (void)st_rm_rf(p);
                free(p);
                pthread_mutex_lock(&s->trash_mu);
        }
        pthread_mutex_unlock(&s->trash_mu);
        return NULL;
}

int storage_trash(struct storage *s, const char *path)
{
        char rnd[17];
        char *dst;

        if (berth_random_hex(rnd, 8) < 0)
                return st_rm_rf(path);
        dst = st_path(s, "tmp/trash-%s", rnd);
        if (rename(path, dst) < 0) {
                int e = errno;
                free(dst);
                return e == ENOENT ? 0 : st_rm_rf(path);
        }
        pthread_mutex_lock(&s->trash_mu);
        if (!s->trash_thread_on && !s->trash_stop) {
                if (pthread_create(&s->trash_thread, NULL, trash_main, s) == 0)
                        s->trash_thread_on = true;
        }
        if (!s->trash_thread_on) {
                pthread_mutex_unlock(&s->trash_mu);
                int r = st_rm_rf(dst);
                free(dst);
                return r;
        }
        s->trash = xrealloc(s->trash, (s->n_trash + 1) * sizeof(*s->trash));
        s->trash[s->n_trash++] = dst;
        pthread_cond_signal(&s->trash_cond);
        pthread_mutex_unlock(&s->trash_mu);
        return 0;
}

struct storage *storage_free(struct storage *s)
{
        size_t i;

        if (!s)
                return NULL;
        /* what the thread has not removed yet stays in tmp/ for the next start */
        pthread_mutex_lock(&s->trash_mu);
        s->trash_stop = true;
        pthread_cond_signal(&s->trash_cond);
        pthread_mutex_unlock(&s->trash_mu);
        if (s->trash_thread_on)
                (void)pthread_join(s->trash_thread, NULL);
        for (i = 0; i < s->n_trash; i++)
                free(s->trash[i]);
        free(s->trash);
        pthread_mutex_destroy(&s->trash_mu);
        pthread_cond_destroy(&s->trash_cond);
        for (i = 0; i < s->n_pins; i++)
                free(s->pins[i]);
        free(s->pins);
        for (i = 0; i < s->n_vrefs; i++)
                free(s->vrefs[i].name);
        free(s->vrefs);
        pthread_mutex_destroy(&s->lock);
        free(s->root);
        free(s);
        return NULL;
}

/* ---- garbage collection ---- */

struct strset {
        char **v;
        size_t n;
};

static void strset_add(struct strset *ss, const char *x)
{
        ss->v = xrealloc(ss->v, (ss->n + 1) * sizeof(char *));
        ss->v[ss->n++] = xstrdup(x);
}

static bool strset_has(const struct strset *ss, const char *x)
{
        size_t i;

        for (i = 0; i < ss->n; i++)
                if (!strcmp(ss->v[i], x))
                        return true;
        return false;
}

static void strset_free(struct strset *ss)
{
        size_t i;

        for (i = 0; i < ss->n; i++)
                free(ss->v[i]);
        free(ss->v);
}

int st_gc_locked(struct storage *s, cJSON *deleted, uint64_t *reclaimed, struct berth_err *err)
{
        struct strset chains = { 0 }, diffs = { 0 }, caches = { 0 };
        char **ids = st_image_ids(s);
        _cleanup_free_ char *ldb = st_path(s, "image/layerdb/sha256");
        _cleanup_free_ char *mnt = st_path(s, "image/layerdb/mounts");
        _cleanup_free_ char *ovl = st_path(s, "overlay");
        _cleanup_free_ char *blobs = st_path(s, "image/blobs/sha256");
        uint64_t freed = 0;
        struct dirent *de;
        DIR *d;
        size_t i, j;

        (void)err;
        /* roots: every image's chain, every container mount's parent */
        for (i = 0; ids && ids[i]; i++) {
                cJSON *cfg = st_config_load(s, ids[i]);
                const cJSON *rootfs, *dids, *x;
                size_t n = 0;
                char **cv;

                if (!cfg)
                        continue;
                rootfs = cJSON_GetObjectItemCaseSensitive(cfg, "rootfs");
                dids = cJSON_GetObjectItemCaseSensitive(rootfs, "diff_ids");
                cJSON_ArrayForEach(x, dids)
                        if (cJSON_IsString(x))
                                strset_add(&diffs, x->valuestring);
                cv = st_config_chains(cfg, &n);
                for (j = 0; j < n; j++)
                        strset_add(&chains, cv[j]);
                st_strv_free(cv);
                cJSON_Delete(cfg);
        }
        st_strv_free(ids);
        d = opendir(mnt);
        if (d) {
                while ((de = readdir(d))) {
                        _cleanup_free_ char *p = NULL, *m = NULL, *parent = NULL;

                        if (de->d_name[0] == '.')
                                continue;
                        p = xasprintf("%s/%s/parent", mnt, de->d_name);
                        m = xasprintf("%s/%s/mount-id", mnt, de->d_name);
                        parent = st_read_str(p);
                        if (parent && *parent)
                                strset_add(&chains, parent);
                        free(parent);
                        parent = st_read_str(m);
                        if (parent) {
                                _cleanup_free_ char *ip = NULL, *init = NULL;

                                strset_add(&caches, parent);
                                /* its init layer (storage_rootfs_create) */
                                ip = xasprintf("%s/%s/init-id", mnt, de->d_name);
                                init = st_read_str(ip);
                                if (init)
                                        strset_add(&caches, init);
                        } else {
                                /* a mount dir without mount-id is a torn create */
                                (void)st_rm_rf_at(dirfd(d), de->d_name);
                        }
                }
                closedir(d);
        }
        /* layers no root reaches: drop the layerdb entry first (commit
         * point), the overlay dir after, so a crash leaves only an orphan
         * overlay dir that the next pass collects */
        d = opendir(ldb);
        if (d) {
                while ((de = readdir(d))) {
                        _cleanup_free_ char *chain = NULL, *cp = NULL, *cache = NULL;

                        if (de->d_name[0] == '.')
                                continue;
                        chain = xasprintf("sha256:%s", de->d_name);
                        cp = xasprintf("%s/%s/cache-id", ldb, de->d_name);
                        cache = st_read_str(cp);
                        if (cache && (strset_has(&chains, chain) || st_pinned(s, chain))) {
                                strset_add(&caches, cache);
                                continue;
                        }
                        if (!st_is_hex(de->d_name, ST_HEX_LEN) && strstr(de->d_name, ".tmp")) {
                                (void)st_rm_rf_at(dirfd(d), de->d_name);
                                continue;
                        }
                        (void)st_rm_rf_at(dirfd(d), de->d_name);
                        if (cache) {
                                _cleanup_free_ char *op = xasprintf("%s/%s", ovl, cache);

                                freed += st_du(op);
                                (void)st_rm_rf(op);
                        }
                        if (deleted)
                                cJSON_AddItemToArray(deleted, cJSON_CreateString(chain));
                }
                closedir(d);
        }
        /* overlay dirs no layer or mount names */
        d = opendir(ovl);
        if (d) {
                while ((de = readdir(d))) {
                        if (de->d_name[0] == '.' || !strcmp(de->d_name, "l"))
                                continue;
                        if (strset_has(&caches, de->d_name))
                                continue;
                        {
                                _cleanup_free_ char *op = xasprintf("%s/%s", ovl, de->d_name);
                                _cleanup_free_ char *merged = xasprintf("%s/merged", op);

                                /* never delete below a live mount */
                                (void)umount2(merged, MNT_DETACH);
                                freed += st_du(op);
                                (void)st_rm_rf(op);
                        }
                }
                closedir(d);
        }
        /* short links whose target is gone */
        {
                _cleanup_free_ char *lp = xasprintf("%s/l", ovl);

                d = opendir(lp);
                if (d) {
                        while ((de = readdir(d))) {
                                struct stat st;

                                if (de->d_name[0] == '.')
                                        continue;
                                if (fstatat(dirfd(d), de->d_name, &st, 0) < 0)
                                        (void)unlinkat(dirfd(d), de->d_name, 0);
                        }
                        closedir(d);
                }
        }
        /* blobs no image names */
        d = opendir(blobs);
        if (d) {
                while ((de = readdir(d))) {
                        _cleanup_free_ char *dg = NULL;
                        struct stat st;

                        if (de->d_name[0] == '.')
                                continue;
                        dg = xasprintf("sha256:%s", de->d_name);
                        if (st_is_hex(de->d_name, ST_HEX_LEN) &&
                            (strset_has(&diffs, dg) || st_pinned(s, dg)))
                                continue;
                        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                                freed += (uint64_t)st.st_size;
                        (void)unlinkat(dirfd(d), de->d_name, 0);
                }
                closedir(d);
        }
        strset_free(&chains);
        strset_free(&diffs);
        strset_free(&caches);
        if (reclaimed)
                *reclaimed = freed;
        return 0;
}

int storage_gc(struct storage *s, uint64_t *ret_reclaimed, struct berth_err *err)
{
        int r;

        st_lock(s);
        r = st_gc_locked(s, NULL, ret_reclaimed, err);
        st_unlock(s);
        return r;
}
