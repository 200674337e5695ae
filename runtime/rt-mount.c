/* SPDX-License-Identifier: Apache-2.0
 * runtime/rt-mount.c -- the container's root filesystem: mounts in order,
 * devices, /dev symlinks, pivot_root, masked and read-only paths.  Runs in the
 * container's init, in its new mount namespace.  Every destination is resolved
 * inside the rootfs with openat2(RESOLVE_IN_ROOT) and mounted through
 * /proc/self/fd, so a symlink in the rootfs cannot redirect a mount to the host.
 */
#include "config.h"

#include <fcntl.h>
#include <libgen.h>
#include <sched.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "runtime/runtime-internal.h"

#define RESOLVE_FLAGS (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

int rt_open_in_root(int rootfd, const char *path, int flags, struct berth_err *err)
{
        struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_FLAGS };
        int fd;

        while (*path == '/')
                path++;
        if (!*path)
                path = ".";
        fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        if (fd < 0)
                return berth_err_set(err, errno, "open '%s' in rootfs: %s", path, strerror(errno));
        return fd;
}

/* Create path (and its parents) inside root; the last component as a file
 * when file is true.  Returns an O_PATH fd of it. */
static int mkpath_in_root(int rootfd, const char *path, bool file, mode_t mode, struct berth_err *err)
{
        _cleanup_free_ char *p = xstrdup(path);
        _cleanup_close_ int parent = -1;
        char *s = p, *slash;
        int fd;

        fd = rt_open_in_root(rootfd, path, O_PATH, NULL);
        if (fd >= 0)
                return fd;
        parent = rt_open_in_root(rootfd, "/", O_PATH | O_DIRECTORY, err);
        if (parent < 0)
                return parent;
        while (*s == '/')
                s++;
        for (;;) {
                char saved;
                bool last;

                slash = strchr(s, '/');
                last = !slash || !slash[strspn(slash, "/")];
                if (slash)
                        *slash = '\0';
                if (*s) {
                        fd = rt_open_in_root(rootfd, p, O_PATH, NULL);
                        if (fd < 0) {
                                if (last && file) {
                                        int nfd = openat(parent, s, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode);
                                        if (nfd < 0 && errno != EEXIST)
                                                return berth_err_set(err, errno, "create '%s' in rootfs: %s", p, strerror(errno));
                                        if (nfd >= 0)
                                                (void)close(nfd);
                                } else if (mkdirat(parent, s, 0755) < 0 && errno != EEXIST) {
                                        return berth_err_set(err, errno, "mkdir '%s' in rootfs: %s", p, strerror(errno));
                                }
                                fd = rt_open_in_root(rootfd, p, O_PATH, err);
                                if (fd < 0)
                                        return fd;
                        }
                        if (last)
                                return fd;
                        (void)close(parent);
                        parent = fd;
                }
                if (!slash)
                        return TAKE_FD(parent);
                saved = '/';
                *slash = saved;
                s = slash + 1;
        }
}

static void fd_path(int fd, char *out, size_t n)
{
        snprintf(out, n, "/proc/self/fd/%d", fd);
}

/* Flags of the mount at path that an unprivileged remount must keep. */
static unsigned long locked_flags(const char *path)
{
        struct statvfs sv;
        unsigned long f = 0;

        if (statvfs(path, &sv) < 0)
                return 0;
        if (sv.f_flag & ST_NOSUID)
                f |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV)
                f |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC)
                f |= MS_NOEXEC;
        if (sv.f_flag & ST_RDONLY)
                f |= MS_RDONLY;
        if (sv.f_flag & ST_NOATIME)
                f |= MS_NOATIME;
        if (sv.f_flag & ST_NODIRATIME)
                f |= MS_NODIRATIME;
        if (sv.f_flag & ST_RELATIME)
                f |= MS_RELATIME;
        return f;
}

static int bind_remount(const char *target, unsigned long flags, struct berth_err *err)
{
        unsigned long f = MS_REMOUNT | MS_BIND | (flags & ~(MS_REC | MS_BIND | MS_REMOUNT));

        if (mount(NULL, target, NULL, f, NULL) == 0)
                return 0;
        if (errno == EPERM && mount(NULL, target, NULL, f | locked_flags(target), NULL) == 0)
                return 0;
        return berth_err_set(err, errno, "remount %s: %s", target, strerror(errno));
}

static int apply_prop(const char *target, unsigned long prop, struct berth_err *err)
{
        static const unsigned long kinds[] = { MS_SHARED, MS_PRIVATE, MS_SLAVE, MS_UNBINDABLE };

        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
                if ((prop & kinds[i]) && mount(NULL, target, NULL, kinds[i] | (prop & MS_REC), NULL) < 0)
                        return berth_err_set(err, errno, "set propagation of %s: %s", target, strerror(errno));
        return 0;
}

static int mount_cgroup(int rootfd, const struct rt_mount *m, const cJSON *cg_paths, bool cgroupns,
                        struct berth_err *err)
{
        _cleanup_close_ int fd = -1;
        char target[64];
        const cJSON *it;
        unsigned long flags = m->flags & ~(MS_RDONLY | MS_BIND | MS_REC);
        bool v2 = cJSON_GetObjectItemCaseSensitive(cg_paths, "") != NULL;

        fd = mkpath_in_root(rootfd, m->dest, false, 0755, err);
        if (fd < 0)
                return fd;
        fd_path(fd, target, sizeof(target));
        if (v2) {
                const char *hp = cJSON_GetObjectItemCaseSensitive(cg_paths, "")->valuestring;
                if (cgroupns) {
                        if (mount("cgroup2", target, "cgroup2", m->flags & ~(MS_BIND | MS_REC), NULL) < 0)
                                return berth_err_set(err, errno, "mount cgroup2 on %s: %s", m->dest, strerror(errno));
                        return 0;
                }
                if (mount(hp, target, NULL, MS_BIND | MS_REC, NULL) < 0)
                        return berth_err_set(err, errno, "bind cgroup on %s: %s", m->dest, strerror(errno));
                closep(&fd);
                fd = rt_open_in_root(rootfd, m->dest, O_PATH, err);
                if (fd < 0)
                        return fd;
                fd_path(fd, target, sizeof(target));
                return bind_remount(target, m->flags, err);
        }
        if (mount("tmpfs", target, "tmpfs", flags, "mode=755") < 0)
                return berth_err_set(err, errno, "mount tmpfs on %s: %s", m->dest, strerror(errno));
        cJSON_ArrayForEach(it, cg_paths) {
                _cleanup_free_ char *dest = xasprintf("%s/%s", m->dest, it->string);
                _cleanup_close_ int sub = -1;
                char subt[64];

                if (!cJSON_IsString(it))
                        continue;
                sub = mkpath_in_root(rootfd, dest, false, 0755, err);
                if (sub < 0)
                        return sub;
                fd_path(sub, subt, sizeof(subt));
                if (mount(it->valuestring, subt, NULL, MS_BIND, NULL) < 0)
                        return berth_err_set(err, errno, "bind cgroup %s: %s", dest, strerror(errno));
                closep(&sub);
                sub = rt_open_in_root(rootfd, dest, O_PATH, err);
                if (sub < 0)
                        return sub;
                fd_path(sub, subt, sizeof(subt));
                if (bind_remount(subt, m->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC, err) < 0)
                        return -err->code;
        }
        if (m->flags & MS_RDONLY) {
                closep(&fd);
                fd = rt_open_in_root(rootfd, m->dest, O_PATH, err);
                if (fd < 0)
                        return fd;
                fd_path(fd, target, sizeof(target));
                if (mount(NULL, target, NULL, MS_REMOUNT | flags | MS_RDONLY, "mode=755") < 0)
                        return berth_err_set(err, errno, "remount %s read-only: %s", m->dest, strerror(errno));
        }
        return 0;
}

static int do_mount(int rootfd, const struct rt_config *c, const struct rt_mount *m, const cJSON *cg_paths,
                    struct berth_err *err)
{
        _cleanup_close_ int fd = -1;
        char target[64];

        if (!strcmp(m->type, "cgroup") && !m->bind)
                return mount_cgroup(rootfd, m, cg_paths,
                                    rt_ns_has(c, CLONE_NEWCGROUP), err);
        if (m->bind) {
                struct stat sb;

                if (stat(m->source, &sb) < 0)
                        return berth_err_set(err, errno, "mount source '%s': %s", m->source, strerror(errno));
                fd = mkpath_in_root(rootfd, m->dest, !S_ISDIR(sb.st_mode), 0644, err);
                if (fd < 0)
                        return fd;
                fd_path(fd, target, sizeof(target));
                if (mount(m->source, target, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0)
                        return berth_err_set(err, errno, "bind mount '%s' on '%s': %s", m->source, m->dest,
                                             strerror(errno));
                closep(&fd);
                fd = rt_open_in_root(rootfd, m->dest, O_PATH, err);
                if (fd < 0)
                        return fd;
                fd_path(fd, target, sizeof(target));
                if ((m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT)) && bind_remount(target, m->flags, err) < 0)
                        return -err->code;
        } else {
                fd = mkpath_in_root(rootfd, m->dest, false, 0755, err);
                if (fd < 0)
                        return fd;
                fd_path(fd, target, sizeof(target));
                if (mount(m->source, target, m->type, m->flags & ~MS_REC, m->data) < 0) {
                        /* mqueue or sysfs in a user namespace: fall back to a bind of the host's */
                        if (errno == EPERM && c->has_userns && (!strcmp(m->type, "sysfs") || !strcmp(m->type, "mqueue"))) {
                                const char *hp = !strcmp(m->type, "sysfs") ? "/sys" : "/dev/mqueue";
                                if (mount(hp, target, NULL, MS_BIND | MS_REC, NULL) == 0)
                                        goto propagation;
                        }
                        return berth_err_set(err, errno, "mount %s on '%s': %s", m->type, m->dest, strerror(errno));
                }
        }
propagation:
        if (m->prop) {
                closep(&fd);
                fd = rt_open_in_root(rootfd, m->dest, O_PATH, err);
                if (fd < 0)
                        return fd;
                fd_path(fd, target, sizeof(target));
                return apply_prop(target, m->prop, err);
        }
        return 0;
}

static const struct {
        const char *path;
        unsigned int maj, min;
} default_devs[] = {
        { "/dev/null", 1, 3 }, { "/dev/zero", 1, 5 }, { "/dev/full", 1, 7 },
        { "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

static int make_dev(int rootfd, const char *path, mode_t type, unsigned int maj, unsigned int min, mode_t mode,
                    uid_t uid, gid_t gid, bool bind, struct berth_err *err)
{
        _cleanup_free_ char *copy = xstrdup(path), *dcopy = xstrdup(path);
        _cleanup_close_ int dirfd = -1, fd = -1;
        const char *name = basename(copy);
        char target[64];

        if (strstr(path, "/../") || !strcmp(name, ".."))
                return berth_err_set(err, EINVAL, "device path '%s' is invalid", path);
        fd = mkpath_in_root(rootfd, dirname(dcopy), false, 0755, err);
        if (fd < 0)
                return fd;
        dirfd = rt_open_in_root(rootfd, dcopy, O_PATH | O_DIRECTORY, err);
        if (dirfd < 0)
                return dirfd;
        closep(&fd);
        if (bind) {
                struct stat sb;
                fd = openat(dirfd, name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (fd < 0 && errno != EEXIST)
                        return berth_err_set(err, errno, "create %s: %s", path, strerror(errno));
                closep(&fd);
                if (stat(path, &sb) < 0)
                        return berth_err_set(err, errno, "device %s: %s", path, strerror(errno));
                fd = rt_open_in_root(rootfd, path, O_PATH, err);
                if (fd < 0)
                        return fd;
                fd_path(fd, target, sizeof(target));
                if (mount(path, target, NULL, MS_BIND, NULL) < 0)
                        return berth_err_set(err, errno, "bind device %s: %s", path, strerror(errno));
                return 0;
        }
        (void)unlinkat(dirfd, name, 0);
        if (mknodat(dirfd, name, type | (mode & 07777), makedev(maj, min)) < 0)
                return berth_err_set(err, errno, "mknod %s: %s", path, strerror(errno));
        if (fchmodat(dirfd, name, mode & 07777, 0) < 0 ||
            fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return berth_err_set(err, errno, "chown %s: %s", path, strerror(errno));
        return 0;
}

static int setup_devices(int rootfd, const struct rt_config *c, struct berth_err *err)
{
        const cJSON *it;
        bool bind = c->has_userns;
        int r;

        for (size_t i = 0; i < ARRAY_SIZE(default_devs); i++) {
                bool dup = false;
                cJSON_ArrayForEach(it, c->devices) {
                        const char *p = berth_json_str(it, "path");
                        if (p && !strcmp(p, default_devs[i].path))
                                dup = true;
                }
                if (dup)
                        continue;
                r = make_dev(rootfd, default_devs[i].path, S_IFCHR, default_devs[i].maj, default_devs[i].min,
                             0666, 0, 0, bind, err);
                if (r < 0)
                        return r;
        }
        cJSON_ArrayForEach(it, c->devices) {
                const char *p = berth_json_str(it, "path"), *t = berth_json_str(it, "type");
                const cJSON *v;
                mode_t type, mode = 0666;
                unsigned int maj = 0, min = 0;
                uid_t uid = 0;
                gid_t gid = 0;

                if (!p || !t || p[0] != '/')
                        return berth_err_set(err, EINVAL, "linux.devices: entry needs an absolute path and a type");
                if (!strcmp(t, "c") || !strcmp(t, "u"))
                        type = S_IFCHR;
                else if (!strcmp(t, "b"))
                        type = S_IFBLK;
                else if (!strcmp(t, "p"))
                        type = S_IFIFO;
                else
                        return berth_err_set(err, EINVAL, "linux.devices: unknown type '%s' for %s", t, p);
                if ((v = cJSON_GetObjectItemCaseSensitive(it, "major")) && cJSON_IsNumber(v))
                        maj = (unsigned int)v->valuedouble;
                if ((v = cJSON_GetObjectItemCaseSensitive(it, "minor")) && cJSON_IsNumber(v))
                        min = (unsigned int)v->valuedouble;
                if ((v = cJSON_GetObjectItemCaseSensitive(it, "fileMode")) && cJSON_IsNumber(v))
                        mode = (mode_t)v->valuedouble;
                if ((v = cJSON_GetObjectItemCaseSensitive(it, "uid")) && cJSON_IsNumber(v))
                        uid = (uid_t)v->valuedouble;
                if ((v = cJSON_GetObjectItemCaseSensitive(it, "gid")) && cJSON_IsNumber(v))
                        gid = (gid_t)v->valuedouble;
                r = make_dev(rootfd, p, type, maj, min, mode, uid, gid, bind && type != S_IFIFO, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int dev_symlinks(int rootfd, struct berth_err *err)
{
        static const char *const links[][2] = {
                { "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
                { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
        };
        _cleanup_close_ int dev = rt_open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY, err);

        if (dev < 0)
                return dev;
        for (size_t i = 0; i < ARRAY_SIZE(links); i++)
                if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
                        return berth_err_set(err, errno, "symlink /dev/%s: %s", links[i][1], strerror(errno));
        if (access("/proc/kcore", F_OK) == 0)
                (void)!symlinkat("/proc/kcore", dev, "core");
        /* /dev/ptmx -> pts/ptmx when devpts is mounted on /dev/pts */
        {
                _cleanup_close_ int pts = rt_open_in_root(rootfd, "/dev/pts/ptmx", O_PATH, NULL);
                if (pts >= 0) {
                        (void)unlinkat(dev, "ptmx", 0);
                        if (symlinkat("pts/ptmx", dev, "ptmx") < 0)
                                return berth_err_set(err, errno, "symlink /dev/ptmx: %s", strerror(errno));
                }
        }
        return 0;
}

int rt_rootfs_prepare(const struct rt_config *c, const cJSON *cg_paths, struct berth_err *err)
{
        _cleanup_close_ int rootfd = -1;
        bool setup_dev = true;
        int r;

        /* shared or unbindable would make the rootfs bind or pivot_root fail:
         * those are applied to the new root after pivot_root */
        unsigned long prop = c->rootfs_prop & (MS_PRIVATE | MS_SLAVE) ? c->rootfs_prop : MS_SLAVE | MS_REC;

        if (mount(NULL, "/", NULL, prop, NULL) < 0)
                return berth_err_set(err, errno, "set propagation of /: %s", strerror(errno));
        if (mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                return berth_err_set(err, errno, "bind rootfs %s: %s", c->rootfs, strerror(errno));
        rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return berth_err_set(err, errno, "open rootfs %s: %s", c->rootfs, strerror(errno));
        for (size_t i = 0; i < c->nmounts; i++) {
                const struct rt_mount *m = &c->mounts[i];
                r = do_mount(rootfd, c, m, cg_paths, err);
                if (r < 0)
                        return r;
                if (!strcmp(m->dest, "/dev") && m->bind)
                        setup_dev = false;
        }
        if (setup_dev) {
                r = setup_devices(rootfd, c, err);
                if (r < 0)
                        return r;
                r = dev_symlinks(rootfd, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int rt_rootfs_pivot(const struct rt_config *c, bool no_pivot, struct berth_err *err)
{
        _cleanup_close_ int oldroot = -1, newroot = -1;

        if (no_pivot) {
                if (chdir(c->rootfs) < 0)
                        return berth_err_set(err, errno, "chdir %s: %s", c->rootfs, strerror(errno));
                if (mount(c->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
                        return berth_err_set(err, errno, "move rootfs to /: %s", strerror(errno));
                if (chroot(".") < 0)
                        return berth_err_set(err, errno, "chroot: %s", strerror(errno));
                if (chdir("/") < 0)
                        return berth_err_set(err, errno, "chdir /: %s", strerror(errno));
                return 0;
        }
        oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        newroot = open(c->rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (oldroot < 0 || newroot < 0)
                return berth_err_set(err, errno, "open roots: %s", strerror(errno));
        if (fchdir(newroot) < 0)
                return berth_err_set(err, errno, "chdir rootfs: %s", strerror(errno));
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return berth_err_set(err, errno, "pivot_root %s: %s", c->rootfs, strerror(errno));
        if (fchdir(oldroot) < 0)
                return berth_err_set(err, errno, "chdir old root: %s", strerror(errno));
        if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                return berth_err_set(err, errno, "make old root slave: %s", strerror(errno));
        if (umount2(".", MNT_DETACH) < 0)
                return berth_err_set(err, errno, "unmount old root: %s", strerror(errno));
        if (chdir("/") < 0)
                return berth_err_set(err, errno, "chdir /: %s", strerror(errno));
        return 0;
}

static int mask_path(const char *p, struct berth_err *err)
{
        struct stat sb;

        if (lstat(p, &sb) < 0)
                return errno == ENOENT ? 0 : berth_err_set(err, errno, "mask %s: %s", p, strerror(errno));
        if (S_ISDIR(sb.st_mode)) {
                if (mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL) < 0)
                        return berth_err_set(err, errno, "mask %s: %s", p, strerror(errno));
                return 0;
        }
        if (mount("/dev/null", p, NULL, MS_BIND, NULL) < 0 && errno != ENOENT)
                return berth_err_set(err, errno, "mask %s: %s", p, strerror(errno));
        return 0;
}

static int readonly_path(const char *p, struct berth_err *err)
{
        if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
                return errno == ENOENT ? 0 : berth_err_set(err, errno, "bind %s: %s", p, strerror(errno));
        return bind_remount(p, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, err);
}

int rt_rootfs_finish(const struct rt_config *c, struct berth_err *err)
{
        const cJSON *it;
        int r;

        if ((c->rootfs_prop & (MS_SHARED | MS_UNBINDABLE)) && apply_prop("/", c->rootfs_prop, err) < 0)
                return -err->code;

        cJSON_ArrayForEach(it, c->ro_paths) {
                if (!cJSON_IsString(it))
                        continue;
                r = readonly_path(it->valuestring, err);
                if (r < 0)
                        return r;
        }
        cJSON_ArrayForEach(it, c->masked) {
                if (!cJSON_IsString(it))
                        continue;
                r = mask_path(it->valuestring, err);
                if (r < 0)
                        return r;
        }
        if (c->readonly && bind_remount("/", MS_RDONLY, err) < 0)
                return -err->code;
        return 0;
}
