/* SPDX-License-Identifier: Apache-2.0
 * lib/file.c -- atomic writes and bounded reads of state files. */
#include "config.h"

#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lib.h"

static int fsync_dir_of(const char *path)
{
        _cleanup_free_ char *copy = xstrdup(path);
        _cleanup_close_ int dfd = -1;

        dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if (fsync(dfd) < 0)
                return -errno;
        return 0;
}

static int write_file(const char *path, const void *data, size_t len, int mode, bool durable,
                      struct berth_err *err)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        char rnd[17];
        const char *p = data;
        int r;

        if (berth_random_hex(rnd, 8) < 0)
                (void)snprintf(rnd, sizeof(rnd), "%ld", (long)getpid());
        tmp = xasprintf("%s.tmp-%s", path, rnd);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0)
                return berth_err_set(err, errno, "create '%s': %s", tmp, strerror(errno));
        while (len > 0) {
                ssize_t n = write(fd, p, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = errno;
                        (void)unlink(tmp);
                        return berth_err_set(err, r, "write '%s': %s", tmp, strerror(r));
                }
                p += n;
                len -= (size_t)n;
        }
        int noreplace = 0;
        if (durable) {
                if (fsync(fd) < 0) {
                        r = errno;
                        (void)unlink(tmp);
                        return berth_err_set(err, r, "fsync '%s': %s", tmp, strerror(r));
                }
                /* A new name must reach the disk with its directory; a
                 * replaced one is the old or the new file after a crash,
                 * both whole. */
                if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) < 0 &&
                    (noreplace = errno) != EEXIST && noreplace != EINVAL && noreplace != ENOSYS) {
                        (void)unlink(tmp);
                        return berth_err_set(err, noreplace, "rename '%s': %s", path, strerror(noreplace));
                }
        }
        if ((!durable || noreplace) && rename(tmp, path) < 0) {
                r = errno;
                (void)unlink(tmp);
                return berth_err_set(err, r, "rename '%s': %s", path, strerror(r));
        }
        /* the directory too, unless a file was replaced (without
         * RENAME_NOREPLACE we cannot tell) */
        if (durable && noreplace != EEXIST) {
                r = fsync_dir_of(path);
                if (r < 0)
                        return berth_err_set(err, -r, "fsync directory of '%s': %s", path, strerror(-r));
        }
        return 0;
}

int berth_write_file_atomic(const char *path, const void *data, size_t len, int mode,
                            struct berth_err *err)
{
        return write_file(path, data, len, mode, true, err);
}

int berth_write_file_volatile(const char *path, const void *data, size_t len, int mode,
                              struct berth_err *err)
{
        return write_file(path, data, len, mode, false, err);
}

int berth_read_file(const char *path, size_t max, char **ret, size_t *ret_len,
                    struct berth_err *err)
{
        _cleanup_close_ int fd = -1;
        struct buf b = BUF_INIT;
        char tmp[8192];

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_err_set(err, errno, "open '%s': %s", path, strerror(errno));
        for (;;) {
                ssize_t n = read(fd, tmp, sizeof(tmp));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int e = errno;
                        buf_release(&b);
                        return berth_err_set(err, e, "read '%s': %s", path, strerror(e));
                }
                if (n == 0)
                        break;
                if (b.len + (size_t)n > max) {
                        buf_release(&b);
                        return berth_err_set(err, EFBIG, "'%s' is larger than %zu bytes", path, max);
                }
                buf_add(&b, tmp, (size_t)n);
        }
        buf_cstr(&b);
        *ret = buf_detach(&b, ret_len);
        return 0;
}

int berth_mkdir_p(const char *path, int mode)
{
        _cleanup_free_ char *p = xstrdup(path);
        size_t len = strlen(p);

        if (len == 0)
                return -EINVAL;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)ftw;
        if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT)
                return -1;
        return 0;
}

int berth_remove_tree(const char *path)
{
        if (nftw(path, remove_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}
