/* SPDX-License-Identifier: Apache-2.0
 * storage/archive.c -- every use of libarchive: unpacking layers safely
 * (openat2 RESOLVE_BENEATH, OCI whiteouts to overlay whiteouts), staging
 * outer archives for load, decompression with hashing, and tar writing
 * (save, export, commit).  Thread-safe: no chdir, no umask games. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <archive.h>
#include <archive_entry.h>

#include "storage/storage-internal.h"

#define READ_BLOCK (1 << 20)
#define WRITEBACK_STEP (8u << 20)      /* staged bytes between writeback kicks */
#define MAX_ENTRIES 1000000

static int sys_openat2(int dfd, const char *path, int flags)
{
        struct open_how how = {
                .flags = (uint64_t)(flags | O_CLOEXEC),
                .mode = 0,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
        };
        long r = syscall(SYS_openat2, dfd, path, &how, sizeof(how));

        return r < 0 ? -1 : (int)r;
}

static int ar_err(struct berth_err *err, struct archive *a, const char *what)
{
        int e = archive_errno(a);

        if (e <= 0)
                e = EINVAL;
        if (e == ENOSPC)
                return berth_err_pub(err, ENOSPC, "%s: no space left on device", what);
        return berth_err_pub(err, EINVAL, "%s: %s", what,
                             archive_error_string(a) ? archive_error_string(a) : "archive error");
}

/* Clean an entry name: drop "./" and empty components.  Absolute names and
 * ".." components are refused (-EINVAL).  "" means the root itself. */
static int clean_name(const char *in, char **ret)
{
        struct buf b = BUF_INIT;
        const char *p = in;

        if (!in)
                return -EINVAL;
        if (in[0] == '/')
                return -EINVAL;
        while (*p) {
                const char *e = strchr(p, '/');
                size_t n = e ? (size_t)(e - p) : strlen(p);

                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        buf_release(&b);
                        return -EINVAL;
                }
                if (n > 0 && !(n == 1 && p[0] == '.')) {
                        if (b.len)
                                buf_addc(&b, '/');
                        buf_add(&b, p, n);
                }
                if (!e)
                        break;
                p = e + 1;
        }
        buf_addc(&b, '\0');
        *ret = buf_detach(&b, NULL);
        return 0;
}

/* ---- unpacking ---- */

struct dirtime {
        char *name;
        struct timespec ts[2];
};

struct unpacker {
        int rootfd;
        struct dirtime *dt;
        size_t n_dt;
        uint64_t size;
        bool root;
        int flags;               /* ST_UNPACK_* */
        const char *entry;       /* current entry's original name */
        struct berth_err *err;
};

static int hostile(struct unpacker *u, const char *why)
{
        return berth_err_pub(u->err, EINVAL, "hostile archive entry \"%s\": %s", u->entry, why);
}

static int fs_err(struct unpacker *u, int e, const char *what)
{
        if (e == ENOSPC)
                return berth_err_pub(u->err, ENOSPC, "%s \"%s\": no space left on device", what,
                                     u->entry);
        return berth_err_set(u->err, e, "%s \"%s\": %s", what, u->entry, strerror(e));
}

/* Open (creating missing directories) the parent of rel, beneath root.
 * *base points into rel. */
static int open_parent(struct unpacker *u, char *rel, const char **base, bool create)
{
        char *slash = strrchr(rel, '/');
        int fd;

        if (!slash) {
                *base = rel;
                fd = fcntl(u->rootfd, F_DUPFD_CLOEXEC, 3);
                return fd < 0 ? fs_err(u, errno, "dup") : fd;
        }
        *base = slash + 1;
        *slash = '\0';
        fd = sys_openat2(u->rootfd, rel, O_RDONLY | O_DIRECTORY);
        if (fd < 0 && errno == ENOENT && create) {
                /* create the missing components one by one */
                char *p = rel;

                for (;;) {
                        char *e = strchr(p, '/');
                        int q;

                        if (e)
                                *e = '\0';
                        q = sys_openat2(u->rootfd, rel, O_RDONLY | O_DIRECTORY);
                        if (q < 0 && errno == ENOENT) {
                                char *ls = strrchr(rel, '/');
                                int pfd;

                                if (ls) {
                                        *ls = '\0';
                                        pfd = sys_openat2(u->rootfd, rel, O_PATH | O_DIRECTORY);
                                        *ls = '/';
                                } else {
                                        pfd = fcntl(u->rootfd, F_DUPFD_CLOEXEC, 3);
                                }
                                if (pfd < 0) {
                                        int e2 = errno;

                                        if (e)
                                                *e = '/';
                                        *slash = '/';
                                        return e2 == EXDEV || e2 == ELOOP
                                                       ? hostile(u, "path goes through a symlink "
                                                                    "out of the layer")
                                                       : fs_err(u, e2, "open parent of");
                                }
                                if (mkdirat(pfd, ls ? ls + 1 : rel, 0755) < 0 && errno != EEXIST) {
                                        int e2 = errno;

                                        close(pfd);
                                        if (e)
                                                *e = '/';
                                        *slash = '/';
                                        return fs_err(u, e2, "mkdir parent of");
                                }
                                close(pfd);
                        } else if (q >= 0) {
                                close(q);
                        }
                        if (!e)
                                break;
                        *e = '/';
                        p = e + 1;
                }
                fd = sys_openat2(u->rootfd, rel, O_RDONLY | O_DIRECTORY);
        }
        if (fd < 0) {
                int e = errno;

                *slash = '/';
                if (e == EXDEV || e == ELOOP)
                        return hostile(u, "path goes through a symlink out of the layer");
                if (e == ENOTDIR)
                        return hostile(u, "parent is not a directory");
                return fs_err(u, e, "open parent of");
        }
        *slash = '/';
        return fd;
}

static void set_xattrs(struct unpacker *u, int fd, struct archive_entry *ae)
{
        const char *name;
        const void *val;
        size_t len;

        archive_entry_xattr_reset(ae);
        while (archive_entry_xattr_next(ae, &name, &val, &len) == ARCHIVE_OK) {
                /* overlay's own attributes never come from an archive */
                if (berth_str_has_prefix(name, "trusted.overlay.") ||
                    berth_str_has_prefix(name, "user.overlay."))
                        continue;
                (void)fsetxattr(fd, name, val, len, 0);
        }
        (void)u;
}

static void entry_times(struct archive_entry *ae, struct timespec ts[2])
{
        ts[0].tv_sec = archive_entry_atime_is_set(ae) ? archive_entry_atime(ae)
                                                      : archive_entry_mtime(ae);
        ts[0].tv_nsec = archive_entry_atime_is_set(ae) ? archive_entry_atime_nsec(ae)
                                                       : archive_entry_mtime_nsec(ae);
        ts[1].tv_sec = archive_entry_mtime(ae);
        ts[1].tv_nsec = archive_entry_mtime_nsec(ae);
}

static int do_chown(struct unpacker *u, int dfd, const char *name, int fd, struct archive_entry *ae)
{
        uid_t uid = (uid_t)archive_entry_uid(ae);
        gid_t gid = (gid_t)archive_entry_gid(ae);
        int r = fd >= 0 ? fchown(fd, uid, gid) : fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW);

        if (r < 0 && u->root)
                return fs_err(u, errno, "chown");
        return 0;
}

static int write_data(struct unpacker *u, struct archive *a, int fd, int64_t size)
{
        const void *blk;
        size_t len;
        la_int64_t off;
        int r;

        for (;;) {
                r = archive_read_data_block(a, &blk, &len, &off);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return ar_err(u->err, a, u->entry);
                while (len > 0) {
                        ssize_t n = pwrite(fd, blk, len, off);

                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return fs_err(u, errno, "write");
                        blk = (const char *)blk + n;
                        len -= (size_t)n;
                        off += n;
                }
        }
        if (ftruncate(fd, size) < 0)
                return fs_err(u, errno, "truncate");
        return 0;
}

static int unpack_entry(struct unpacker *u, struct archive *a, struct archive_entry *ae)
{
        _cleanup_free_ char *rel = NULL;
        _cleanup_close_ int pfd = -1, fd = -1;
        const char *base;
        mode_t type = archive_entry_filetype(ae);
        mode_t perm = archive_entry_perm(ae) & 07777;
        struct timespec ts[2];
        struct stat st;
        const char *hl = archive_entry_hardlink(ae);
        int r;

        u->entry = archive_entry_pathname(ae);
        if (!u->entry)
                return berth_err_pub(u->err, EINVAL, "archive entry without a name");
        if (clean_name(u->entry, &rel) < 0)
                return hostile(u, u->entry[0] == '/' ? "absolute path"
                                                     : "path escapes the layer (\"..\")");
        entry_times(ae, ts);
        if (!*rel) {
                /* the root itself: keep its mode and times */
                if (type == AE_IFDIR) {
                        (void)fchmod(u->rootfd, perm);
                        u->dt = xrealloc(u->dt, (u->n_dt + 1) * sizeof(*u->dt));
                        u->dt[u->n_dt].name = xstrdup(".");
                        memcpy(u->dt[u->n_dt].ts, ts, sizeof(ts));
                        u->n_dt++;
                }
                return 0;
        }
        pfd = open_parent(u, rel, &base, true);
        if (pfd < 0)
                return pfd;

        /* OCI whiteouts (layers only; docker cp copies them as files) */
        if ((u->flags & ST_UNPACK_LAYER) && berth_str_has_prefix(base, ".wh.")) {
                if (!strcmp(base, ".wh..wh..opq")) {
                        if (fsetxattr(pfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
                                return fs_err(u, errno, "set opaque xattr for");
                        return 0;
                }
                base += 4;
                if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
                        return hostile(u, "bad whiteout name");
                r = st_rm_rf_at(pfd, base);
                if (r < 0)
                        return fs_err(u, -r, "remove before whiteout");
                if (mknodat(pfd, base, S_IFCHR | 0000, makedev(0, 0)) < 0)
                        return fs_err(u, errno, "whiteout");
                if (fchownat(pfd, base, (uid_t)archive_entry_uid(ae),
                             (gid_t)archive_entry_gid(ae), AT_SYMLINK_NOFOLLOW) < 0 && u->root)
                        return fs_err(u, errno, "chown whiteout");
                return 0;
        }

        /* an existing leaf: keep directories, replace anything else */
        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                bool newdir = type == AE_IFDIR && !hl;

                if ((u->flags & ST_UNPACK_NO_DIR_NON_DIR) && S_ISDIR(st.st_mode) != newdir)
                        return berth_err_pub(u->err, EINVAL,
                                             "cannot overwrite %s \"%s\" with %s",
                                             S_ISDIR(st.st_mode) ? "directory" : "non-directory",
                                             u->entry, newdir ? "directory" : "non-directory");
                if (!(S_ISDIR(st.st_mode) && newdir)) {
                        r = st_rm_rf_at(pfd, base);
                        if (r < 0)
                                return fs_err(u, -r, "replace");
                }
        }

        if (hl) {
                _cleanup_free_ char *trel = NULL;
                _cleanup_close_ int tpfd = -1;
                const char *tbase;
                struct stat tst;

                if (clean_name(hl, &trel) < 0 || !*trel)
                        return hostile(u, "hard link target outside the layer");
                tpfd = open_parent(u, trel, &tbase, false);
                if (tpfd < 0)
                        return tpfd;
                if (fstatat(tpfd, tbase, &tst, AT_SYMLINK_NOFOLLOW) < 0)
                        return hostile(u, "hard link target does not exist in the layer");
                if (S_ISDIR(tst.st_mode))
                        return hostile(u, "hard link to a directory");
                if (linkat(tpfd, tbase, pfd, base, 0) < 0)
                        return fs_err(u, errno, "link");
                return 0;
        }

        switch (type) {
        case AE_IFDIR:
                if (mkdirat(pfd, base, 0700) < 0 && errno != EEXIST)
                        return fs_err(u, errno, "mkdir");
                fd = sys_openat2(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
                if (fd < 0)
                        return fs_err(u, errno, "open dir");
                r = do_chown(u, -1, NULL, fd, ae);
                if (r < 0)
                        return r;
                if (fchmod(fd, perm) < 0)
                        return fs_err(u, errno, "chmod");
                set_xattrs(u, fd, ae);
                u->dt = xrealloc(u->dt, (u->n_dt + 1) * sizeof(*u->dt));
                u->dt[u->n_dt].name = xstrdup(rel);
                memcpy(u->dt[u->n_dt].ts, ts, sizeof(ts));
                u->n_dt++;
                return 0;
        case AE_IFREG:
                fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0)
                        return fs_err(u, errno, "create");
                r = write_data(u, a, fd, archive_entry_size(ae));
                if (r < 0)
                        return r;
                u->size += (uint64_t)archive_entry_size(ae);
                r = do_chown(u, -1, NULL, fd, ae);
                if (r < 0)
                        return r;
                if (fchmod(fd, perm) < 0)
                        return fs_err(u, errno, "chmod");
                set_xattrs(u, fd, ae);
                (void)futimens(fd, ts);
                return 0;
        case AE_IFLNK: {
                const char *target = archive_entry_symlink(ae);

                if (!target)
                        return hostile(u, "symlink without a target");
                if (symlinkat(target, pfd, base) < 0)
                        return fs_err(u, errno, "symlink");
                r = do_chown(u, pfd, base, -1, ae);
                if (r < 0)
                        return r;
                (void)utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
                return 0;
        }
        case AE_IFCHR:
        case AE_IFBLK:
        case AE_IFIFO: {
                dev_t dev = makedev(archive_entry_rdevmajor(ae), archive_entry_rdevminor(ae));

                if (mknodat(pfd, base, type | perm, type == AE_IFIFO ? 0 : dev) < 0) {
                        if (errno == EPERM && !u->root)
                                return 0;
                        return fs_err(u, errno, "mknod");
                }
                r = do_chown(u, pfd, base, -1, ae);
                if (r < 0)
                        return r;
                if (fchmodat(pfd, base, perm, 0) < 0)
                        return fs_err(u, errno, "chmod");
                (void)utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
                return 0;
        }
        default:
                return 0; /* sockets and unknown types are skipped, as tar does */
        }
}

static void apply_dirtimes(struct unpacker *u)
{
        size_t i = u->n_dt;

        while (i-- > 0) {
                struct dirtime *d = &u->dt[i];

                if (!strcmp(d->name, ".")) {
                        (void)futimens(u->rootfd, d->ts);
                } else {
                        int fd = sys_openat2(u->rootfd, d->name, O_RDONLY | O_DIRECTORY |
                                                                         O_NOFOLLOW);

                        if (fd >= 0) {
                                (void)futimens(fd, d->ts);
                                close(fd);
                        }
                }
                free(d->name);
        }
        free(u->dt);
        u->dt = NULL;
        u->n_dt = 0;
}

static struct archive *reader_new(void)
{
        struct archive *a = archive_read_new();

        if (!a)
                berth_oom();
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_empty(a);
        return a;
}

int st_tar_unpack(int fd, const char *dest, uint64_t *ret_size, struct berth_err *err)
{
        _cleanup_close_ int dfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (dfd < 0)
                return berth_err_set(err, errno, "open %s: %s", dest, strerror(errno));
        return st_tar_unpack_at(fd, dfd, ST_UNPACK_LAYER, ret_size, err);
}

int st_tar_unpack_at(int fd, int dirfd, int flags, uint64_t *ret_size, struct berth_err *err)
{
        struct unpacker u = { .rootfd = -1, .err = err, .root = geteuid() == 0, .flags = flags };
        struct archive *a = reader_new();
        struct archive_entry *ae;
        size_t n = 0;
        int r = 0;

        u.rootfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (u.rootfd < 0) {
                r = berth_err_set(err, errno, "dup: %s", strerror(errno));
                goto out;
        }
        if (archive_read_open_fd(a, fd, READ_BLOCK) != ARCHIVE_OK) {
                r = ar_err(err, a, "layer");
                goto out;
        }
        for (;;) {
                int q = archive_read_next_header(a, &ae);

                if (q == ARCHIVE_EOF)
                        break;
                if (q < ARCHIVE_WARN) {
                        r = ar_err(err, a, "layer tar");
                        goto out;
                }
                if (++n > MAX_ENTRIES) {
                        r = berth_err_pub(err, EINVAL, "layer has more than %d entries",
                                          MAX_ENTRIES);
                        goto out;
                }
                r = unpack_entry(&u, a, ae);
                if (r < 0)
                        goto out;
        }
        apply_dirtimes(&u);
        if (ret_size)
                *ret_size = u.size;
out:
        if (u.dt) {
                size_t i;

                for (i = 0; i < u.n_dt; i++)
                        free(u.dt[i].name);
                free(u.dt);
        }
        if (u.rootfd >= 0)
                close(u.rootfd);
        archive_read_free(a);
        return r;
}

/* ---- decompression with hashing ---- */

static int write_all(int fd, const void *p, size_t n)
{
        while (n > 0) {
                ssize_t w = write(fd, p, n);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return -errno;
                p = (const char *)p + w;
                n -= (size_t)w;
        }
        return 0;
}

int st_tar_decompress(int in_fd, int out_fd, char out_hex[ST_HEX_LEN + 1], uint64_t *ret_size,
                      struct berth_err *err)
{
        struct archive *a = archive_read_new();
        struct archive_entry *ae;
        struct st_hash *h = st_hash_new();
        _cleanup_free_ char *b = xmalloc(READ_BLOCK);
        uint64_t total = 0;
        int r = 0;

        archive_read_support_filter_all(a);
        archive_read_support_format_raw(a);
        archive_read_support_format_empty(a);
        if (archive_read_open_fd(a, in_fd, READ_BLOCK) != ARCHIVE_OK) {
                r = ar_err(err, a, "decompress");
                goto out;
        }
        r = archive_read_next_header(a, &ae);
        if (r == ARCHIVE_EOF) {
                r = 0;
                goto done;
        }
        if (r < ARCHIVE_WARN) {
                r = ar_err(err, a, "decompress");
                goto out;
        }
        r = 0;
        for (;;) {
                la_ssize_t n = archive_read_data(a, b, READ_BLOCK);

                if (n == 0)
                        break;
                if (n < 0) {
                        r = ar_err(err, a, "decompress");
                        goto out;
                }
                st_hash_update(h, b, (size_t)n);
                r = write_all(out_fd, b, (size_t)n);
                if (r < 0) {
                        r = -r == ENOSPC ? berth_err_pub(err, ENOSPC, "no space left on device")
                                         : berth_err_set(err, -r, "write: %s", strerror(-r));
                        goto out;
                }
                total += (uint64_t)n;
        }
done:
        st_hash_final(h, out_hex);
        h = NULL;
        if (ret_size)
                *ret_size = total;
out:
        st_hash_free(h);
        archive_read_free(a);
        return r;
}

/* ---- staging of outer archives ---- */

void st_staged_free(struct st_staged *v, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++) {
                free(v[i].name);
                free(v[i].path);
        }
        free(v);
}

static char *join_link(const char *entry, const char *target)
{
        const char *slash = strrchr(entry, '/');
        _cleanup_free_ char *j = NULL;
        char *out = NULL;
        struct buf b = BUF_INIT;
        char *save = NULL, *tok, *copy;
        char **parts = NULL;
        size_t n = 0, i;

        if (target[0] == '/')
                j = xstrdup(target + 1);
        else if (slash)
                j = xasprintf("%.*s/%s", (int)(slash - entry), entry, target);
        else
                j = xstrdup(target);
        copy = j;
        for (tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
                if (!strcmp(tok, "."))
                        continue;
                if (!strcmp(tok, "..")) {
                        if (n > 0)
                                n--;
                        continue;
                }
                parts = xrealloc(parts, (n + 1) * sizeof(char *));
                parts[n++] = tok;
        }
        for (i = 0; i < n; i++) {
                if (i)
                        buf_addc(&b, '/');
                buf_adds(&b, parts[i]);
        }
        buf_addc(&b, '\0');
        out = buf_detach(&b, NULL);
        free(parts);
        return out;
}

int st_tar_stage(struct storage *s, int fd, const char *dir, st_staged_fn on_file, void *data,
                 struct st_staged **ret, size_t *ret_n, struct berth_err *err)
{
        struct archive *a = reader_new();
        struct archive_entry *ae;
        struct st_staged *v = NULL;
        char **links = NULL;   /* per entry: link target name, or NULL */
        size_t n = 0, i, j;
        _cleanup_free_ char *b = xmalloc(READ_BLOCK);
        int r = 0;

        if (archive_read_open_fd(a, fd, READ_BLOCK) != ARCHIVE_OK) {
                r = ar_err(err, a, "archive");
                goto out;
        }
        for (;;) {
                _cleanup_free_ char *name = NULL;
                int q = archive_read_next_header(a, &ae);
                mode_t type;
                const char *hl, *sl;

                if (q == ARCHIVE_EOF)
                        break;
                if (q < ARCHIVE_WARN) {
                        r = ar_err(err, a, "archive");
                        goto out;
                }
                if (n >= 100000) {
                        r = berth_err_pub(err, EINVAL, "archive has too many entries");
                        goto out;
                }
                if (clean_name(archive_entry_pathname(ae), &name) < 0) {
                        r = berth_err_pub(err, EINVAL,
                                          "hostile archive entry \"%s\": path escapes the archive",
                                          archive_entry_pathname(ae));
                        goto out;
                }
                type = archive_entry_filetype(ae);
                hl = archive_entry_hardlink(ae);
                sl = type == AE_IFLNK ? archive_entry_symlink(ae) : NULL;
                if (type != AE_IFREG && !hl && !sl)
                        continue;
                v = xrealloc(v, (n + 1) * sizeof(*v));
                links = xrealloc(links, (n + 1) * sizeof(*links));
                memset(&v[n], 0, sizeof(v[n]));
                links[n] = NULL;
                v[n].name = TAKE_PTR(name);
                if (hl) {
                        _cleanup_free_ char *t = NULL;

                        if (clean_name(hl, &t) == 0)
                                links[n] = TAKE_PTR(t);
                        n++;
                        continue;
                }
                if (sl) {
                        links[n] = join_link(v[n].name, sl);
                        n++;
                        continue;
                }
                {
                        _cleanup_close_ int out = -1;
                        struct st_hash *h;
                        uint64_t total = 0, synced = 0;

                        r = st_space_check(s, (uint64_t)archive_entry_size(ae), err);
                        if (r < 0) {
                                n++;
                                goto out;
                        }
                        v[n].path = xasprintf("%s/%zu", dir, n);
                        n++;
                        out = open(v[n - 1].path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                        if (out < 0) {
                                r = berth_err_set(err, errno, "create %s: %s", v[n - 1].path,
                                                  strerror(errno));
                                goto out;
                        }
                        h = st_hash_new();
                        for (;;) {
                                la_ssize_t got = archive_read_data(a, b, READ_BLOCK);

                                if (got == 0)
                                        break;
                                if (got < 0) {
                                        st_hash_free(h);
                                        r = ar_err(err, a, v[n - 1].name);
                                        goto out;
                                }
                                st_hash_update(h, b, (size_t)got);
                                r = write_all(out, b, (size_t)got);
                                if (r < 0) {
                                        st_hash_free(h);
                                        r = -r == ENOSPC ? berth_err_pub(err, ENOSPC,
                                                                         "no space left on device")
                                                         : berth_err_set(err, -r, "write: %s",
                                                                         strerror(-r));
                                        goto out;
                                }
                                total += (uint64_t)got;
                                /* start the writeback now: the fsync when the
                                 * blob is adopted then finds it (mostly) done,
                                 * the disk having worked while we read on */
                                if (total - synced >= WRITEBACK_STEP) {
                                        (void)sync_file_range(out, (off_t)synced,
                                                              (off_t)(total - synced),
                                                              SYNC_FILE_RANGE_WRITE);
                                        synced = total;
                                }
                        }
                        (void)sync_file_range(out, (off_t)synced, 0, SYNC_FILE_RANGE_WRITE);
                        st_hash_final(h, v[n - 1].hex);
                        v[n - 1].size = total;
                        if (on_file)
                                on_file(&v[n - 1], data);
                }
        }
        /* resolve links to the staged file they name */
        for (i = 0; i < n; i++) {
                const char *t = links[i];
                int hops;

                for (hops = 0; t && hops < 8; hops++) {
                        for (j = 0; j < n; j++)
                                if (j != i && !strcmp(v[j].name, t))
                                        break;
                        if (j == n)
                                break;
                        if (v[j].path) {
                                v[i].path = xstrdup(v[j].path);
                                memcpy(v[i].hex, v[j].hex, sizeof(v[i].hex));
                                v[i].size = v[j].size;
                                break;
                        }
                        t = links[j];
                }
        }
out:
        if (links) {
                for (i = 0; i < n; i++)
                        free(links[i]);
                free(links);
        }
        archive_read_free(a);
        if (r < 0) {
                st_staged_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* ---- writing ---- */

struct st_tar_out {
        struct archive *a;
        struct archive_entry_linkresolver *lr;
        char *buf;
};

static int aw_err(struct berth_err *err, struct archive *a, const char *what)
{
        int e = archive_errno(a);

        if (e <= 0)
                e = EIO;
        return berth_err_set(err, e, "%s: %s", what,
                             archive_error_string(a) ? archive_error_string(a) : strerror(e));
}

int st_tar_out_new(int fd, struct st_tar_out **ret, struct berth_err *err)
{
        struct st_tar_out *o = xcalloc(1, sizeof(*o));

        o->a = archive_write_new();
        if (!o->a)
                berth_oom();
        archive_write_set_format_pax_restricted(o->a);
        archive_write_set_bytes_per_block(o->a, 256 * 1024);   /* fewer, bigger writes */
        archive_write_set_bytes_in_last_block(o->a, 1);
        if (archive_write_open_fd(o->a, fd) != ARCHIVE_OK) {
                int r = aw_err(err, o->a, "tar");

                st_tar_out_free(o);
                return r;
        }
        o->lr = archive_entry_linkresolver_new();
        archive_entry_linkresolver_set_strategy(o->lr, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
        o->buf = xmalloc(READ_BLOCK);
        *ret = o;
        return 0;
}

void st_tar_out_free(struct st_tar_out *o)
{
        if (!o)
                return;
        if (o->a)
                archive_write_free(o->a);
        if (o->lr)
                archive_entry_linkresolver_free(o->lr);
        free(o->buf);
        free(o);
}

int st_tar_out_finish(struct st_tar_out *o, struct berth_err *err)
{
        if (archive_write_close(o->a) != ARCHIVE_OK)
                return aw_err(err, o->a, "tar");
        return 0;
}

int st_tar_out_bytes(struct st_tar_out *o, const char *name, const void *data, size_t len,
                     struct berth_err *err)
{
        struct archive_entry *ae = archive_entry_new();
        int r = 0;

        archive_entry_set_pathname(ae, name);
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, 0644);
        archive_entry_set_size(ae, (la_int64_t)len);
        archive_entry_set_mtime(ae, 0, 0);
        if (archive_write_header(o->a, ae) != ARCHIVE_OK ||
            (len && archive_write_data(o->a, data, len) < 0))
                r = aw_err(err, o->a, name);
        archive_entry_free(ae);
        return r;
}

int st_tar_out_dir(struct st_tar_out *o, const char *name, struct berth_err *err)
{
        struct archive_entry *ae = archive_entry_new();
        int r = 0;

        archive_entry_set_pathname(ae, name);
        archive_entry_set_filetype(ae, AE_IFDIR);
        archive_entry_set_perm(ae, 0755);
        archive_entry_set_mtime(ae, 0, 0);
        if (archive_write_header(o->a, ae) != ARCHIVE_OK)
                r = aw_err(err, o->a, name);
        archive_entry_free(ae);
        return r;
}

static int copy_fd_data(struct st_tar_out *o, int fd, const char *name, struct berth_err *err)
{
        for (;;) {
                ssize_t n = read(fd, o->buf, READ_BLOCK);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berth_err_set(err, errno, "read %s: %s", name, strerror(errno));
                if (n == 0)
                        return 0;
                if (archive_write_data(o->a, o->buf, (size_t)n) < 0)
                        return aw_err(err, o->a, name);
        }
}

int st_tar_out_file(struct st_tar_out *o, const char *name, const char *path,
                    struct berth_err *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct archive_entry *ae;
        struct stat st;
        int r = 0;

        if (fd < 0 || fstat(fd, &st) < 0)
                return berth_err_set(err, errno, "open %s: %s", path, strerror(errno));
        ae = archive_entry_new();
        archive_entry_set_pathname(ae, name);
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, 0644);
        archive_entry_set_size(ae, st.st_size);
        archive_entry_set_mtime(ae, 0, 0);
        if (archive_write_header(o->a, ae) != ARCHIVE_OK)
                r = aw_err(err, o->a, name);
        else
                r = copy_fd_data(o, fd, name, err);
        archive_entry_free(ae);
        return r;
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_xattrs(struct archive_entry *ae, const char *path)
{
        char list[4096];
        ssize_t n = llistxattr(path, list, sizeof(list));
        ssize_t i;

        if (n <= 0)
                return;
        for (i = 0; i < n; i += (ssize_t)strlen(list + i) + 1) {
                const char *k = list + i;
                char val[4096];
                ssize_t vl;

                if (berth_str_has_prefix(k, "trusted.overlay.") ||
                    berth_str_has_prefix(k, "user.overlay."))
                        continue;
                vl = lgetxattr(path, k, val, sizeof(val));
                if (vl >= 0)
                        archive_entry_xattr_add_entry(ae, k, val, (size_t)vl);
        }
}

static int write_entry(struct st_tar_out *o, struct archive_entry *ae, const char *path,
                       struct berth_err *err)
{
        struct archive_entry *sparse = NULL;
        const char *name = archive_entry_pathname(ae);
        int r = 0;

        archive_entry_linkify(o->lr, &ae, &sparse);
        if (!ae)
                return 0;
        if (archive_write_header(o->a, ae) != ARCHIVE_OK)
                return aw_err(err, o->a, name);
        if (archive_entry_filetype(ae) == AE_IFREG && archive_entry_size(ae) > 0 &&
            !archive_entry_hardlink(ae)) {
                _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

                if (fd < 0)
                        return berth_err_set(err, errno, "open %s: %s", path, strerror(errno));
                r = copy_fd_data(o, fd, path, err);
        }
        return r;
}

static int tree_walk(struct st_tar_out *o, const char *dir, const char *prefix, int mode,
                     struct berth_err *err)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        char **names = NULL;
        size_t n = 0, i;
        int r = 0;

        if (!d)
                return berth_err_set(err, errno, "opendir %s: %s", dir, strerror(errno));
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                names = xrealloc(names, (n + 1) * sizeof(char *));
                names[n++] = xstrdup(de->d_name);
        }
        closedir(d);
        if (n > 1)
                qsort(names, n, sizeof(char *), name_cmp);
        for (i = 0; i < n && r == 0; i++) {
                _cleanup_free_ char *path = xasprintf("%s/%s", dir, names[i]);
                _cleanup_free_ char *rel = *prefix ? xasprintf("%s/%s", prefix, names[i])
                                                   : xstrdup(names[i]);
                struct archive_entry *ae;
                struct stat st;

                if (lstat(path, &st) < 0)
                        continue;
                ae = archive_entry_new();
                if (mode == ST_TREE_UPPER && S_ISCHR(st.st_mode) && st.st_rdev == 0) {
                        _cleanup_free_ char *wh = *prefix ? xasprintf("%s/.wh.%s", prefix, names[i])
                                                          : xasprintf(".wh.%s", names[i]);

                        archive_entry_set_pathname(ae, wh);
                        archive_entry_set_filetype(ae, AE_IFREG);
                        archive_entry_set_perm(ae, 0);
                        archive_entry_set_size(ae, 0);
                        archive_entry_set_mtime(ae, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
                        if (archive_write_header(o->a, ae) != ARCHIVE_OK)
                                r = aw_err(err, o->a, wh);
                        archive_entry_free(ae);
                        continue;
                }
                archive_entry_copy_stat(ae, &st);
                archive_entry_set_pathname(ae, rel);
                archive_entry_unset_atime(ae);
                archive_entry_unset_ctime(ae);
                if (S_ISLNK(st.st_mode)) {
                        char t[4096];
                        ssize_t tl = readlink(path, t, sizeof(t) - 1);

                        if (tl < 0)
                                tl = 0;
                        t[tl] = '\0';
                        archive_entry_set_symlink(ae, t);
                        archive_entry_set_size(ae, 0);
                } else if (S_ISDIR(st.st_mode)) {
                        archive_entry_set_size(ae, 0);
                        add_xattrs(ae, path);
                } else if (S_ISREG(st.st_mode)) {
                        add_xattrs(ae, path);
                } else {
                        archive_entry_set_size(ae, 0);
                }
                r = write_entry(o, ae, path, err);
                archive_entry_free(ae);
                if (r < 0)
                        break;
                if (S_ISDIR(st.st_mode)) {
                        if (mode == ST_TREE_UPPER) {
                                char v[4];
                                ssize_t vl = lgetxattr(path, "trusted.overlay.opaque", v, sizeof(v));

                                if (vl == 1 && v[0] == 'y') {
                                        _cleanup_free_ char *wh =
                                                xasprintf("%s/.wh..wh..opq", rel);
                                        struct archive_entry *oe = archive_entry_new();

                                        archive_entry_set_pathname(oe, wh);
                                        archive_entry_set_filetype(oe, AE_IFREG);
                                        archive_entry_set_perm(oe, 0);
                                        archive_entry_set_size(oe, 0);
                                        if (archive_write_header(o->a, oe) != ARCHIVE_OK)
                                                r = aw_err(err, o->a, wh);
                                        archive_entry_free(oe);
                                        if (r < 0)
                                                break;
                                }
                        }
                        r = tree_walk(o, path, rel, mode, err);
                }
        }
        for (i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}

int st_tar_out_tree(struct st_tar_out *o, const char *dir, int mode, struct berth_err *err)
{
        return tree_walk(o, dir, "", mode, err);
}

int st_tar_out_path(struct st_tar_out *o, const char *path, const char *name,
                    struct berth_err *err)
{
        struct archive_entry *ae;
        struct stat st;
        int r;

        if (lstat(path, &st) < 0)
                return berth_err_set(err, errno, "lstat %s: %s", name, strerror(errno));
        ae = archive_entry_new();
        archive_entry_copy_stat(ae, &st);
        archive_entry_set_pathname(ae, name);
        archive_entry_unset_atime(ae);
        archive_entry_unset_ctime(ae);
        if (S_ISLNK(st.st_mode)) {
                char t[4096];
                ssize_t tl = readlink(path, t, sizeof(t) - 1);

                t[tl < 0 ? 0 : tl] = '\0';
                archive_entry_set_symlink(ae, t);
                archive_entry_set_size(ae, 0);
        } else if (!S_ISREG(st.st_mode)) {
                archive_entry_set_size(ae, 0);
        }
        if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
                add_xattrs(ae, path);
        r = write_entry(o, ae, path, err);
        archive_entry_free(ae);
        if (r == 0 && S_ISDIR(st.st_mode))
                r = tree_walk(o, path, name, ST_TREE_PLAIN, err);
        return r;
}
