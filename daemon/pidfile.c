/* SPDX-License-Identifier: Apache-2.0
 * daemon/pidfile.c -- the pidfile and the data-root lock: two daemons never
 * share a pidfile or a data-root.  Locks are held for berthd's lifetime. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>

#include "daemon/daemon.h"

static int lock_file(const char *path, struct berth_err *err, const char *what)
{
        _cleanup_close_ int fd = -1;
        int r;

        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return berth_err_set(err, errno, "open %s '%s': %s", what, path, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                r = errno;
                if (r == EWOULDBLOCK) {
                        char pid[32] = { 0 };
                        (void)!pread(fd, pid, sizeof(pid) - 1, 0);
                        pid[strcspn(pid, "\n")] = '\0';
                        return berth_err_set(err, EBUSY, "%s '%s' is locked by another berthd%s%s%s", what, path,
                                             pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "");
                }
                return berth_err_set(err, r, "lock %s '%s': %s", what, path, strerror(r));
        }
        return TAKE_FD(fd);
}

static int write_pid(int fd)
{
        char pid[32];
        int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());

        if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
                return -errno;
        return 0;
}

int berth_pidfile_acquire(const char *path, struct berth_err *err)
{
        int fd = lock_file(path, err, "pid file"), r;

        if (fd < 0)
                return fd;
        r = write_pid(fd);
        if (r < 0) {
                close(fd);
                return berth_err_set(err, -r, "write pid file '%s': %s", path, strerror(-r));
        }
        return fd;
}

int berth_dataroot_lock(const char *data_root, struct berth_err *err)
{
        _cleanup_free_ char *p = xasprintf("%s/berthd.lock", data_root);
        int fd = lock_file(p, err, "data-root lock");

        if (fd >= 0)
                (void)write_pid(fd);
        return fd;
}

int berth_daemon_load_id(struct berth_daemon *d, struct berth_err *err)
{
        _cleanup_free_ char *p = xasprintf("%s/engine-id", d->cfg.data_root);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        char hex[33];
        int r;

        if (berth_read_file(p, 128, &text, &len, NULL) == 0) {
                text[strcspn(text, "\n")] = '\0';
                if (strlen(text) == 36) {
                        snprintf(d->id, sizeof(d->id), "%s", text);
                        return 0;
                }
        }
        /* a random (version 4) UUID, as dockerd 25 keeps in engine-id */
        r = berth_random_hex(hex, 16);
        if (r < 0)
                return berth_err_set(err, -r, "random engine id: %s", strerror(-r));
        hex[12] = '4';
        hex[16] = "89ab"[hex[16] % 4];
        snprintf(d->id, sizeof(d->id), "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
        char line[64];
        int n = snprintf(line, sizeof(line), "%s\n", d->id);
        return berth_write_file_atomic(p, line, (size_t)n, 0600, err);
}
