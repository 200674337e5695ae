/* SPDX-License-Identifier: Apache-2.0
 * daemon/helpers.c -- finding berth's helper programs: next to berthd first
 * (so a build tree works uninstalled), then libexecdir. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "daemon/daemon.h"

#ifndef BERTH_LIBEXECDIR
#define BERTH_LIBEXECDIR "/usr/local/libexec/berth"
#endif

static char *try(const char *dir, const char *sub, const char *name)
{
        char *p = sub ? xasprintf("%s/%s/%s", dir, sub, name) : xasprintf("%s/%s", dir, name);

        if (access(p, X_OK) == 0)
                return p;
        free(p);
        return NULL;
}

char *berth_find_helper(const char *name)
{
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        char *p;

        if (n > 0) {
                exe[n] = '\0';
                char *dir = dirname(exe);
                if ((p = try(dir, NULL, name)) || (p = try(dir, "runtime", name)))
                        return p;
        }
        return try(BERTH_LIBEXECDIR, NULL, name);
}

char *berth_find_in_path(const char *name)
{
        const char *path = getenv("PATH");
        _cleanup_free_ char *copy = NULL;
        char *save = NULL;

        if (strchr(name, '/'))
                return access(name, X_OK) == 0 ? xstrdup(name) : NULL;
        copy = xstrdup(path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
                char *p = try(dir, NULL, name);
                if (p)
                        return p;
        }
        return NULL;
}

/* CVE-2019-5736: a container whose program is "#!/proc/self/exe" must never
 * get at a writable runtime binary.  Rather than a detached read-only bind
 * mount of the binary for every exec (its release waits for an RCU grace
 * period each time), one read-only bind mount at <exec-root>/bin/<name>,
 * made once and kept for the monitors that outlive berthd.  A mount there
 * from an earlier berthd is replaced when the binary changed. */
char *berth_protected_helper(const char *src, const char *exec_root)
{
        char *dir = xasprintf("%s/bin", exec_root);
        char *src_copy = xstrdup(src);
        char *dst = xasprintf("%s/%s", dir, basename(src_copy));
        struct stat a, b;
        struct statvfs sv;
        int fd;

        free(src_copy);
        if (stat(src, &a) < 0)
                goto fail;
        if (stat(dst, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino &&
            statvfs(dst, &sv) == 0 && (sv.f_flag & ST_RDONLY)) {
                free(dir);
                return dst;     /* ours, from an earlier berthd */
        }
        while (umount2(dst, MNT_DETACH) == 0)
                ;
        if (berth_mkdir_p(dir, 0755) < 0)
                goto fail;
        fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0755);
        if (fd < 0)
                goto fail;
        (void)close(fd);
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
                goto fail;
        if (mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0) {
                (void)umount2(dst, MNT_DETACH);
                goto fail;
        }
        free(dir);
        return dst;
fail:
        log_debug("no read-only bind mount of %s at %s: %s; each exec makes its own", src, dst, strerror(errno));
        free(dir);
        free(dst);
        return NULL;
}
