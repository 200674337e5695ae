/* SPDX-License-Identifier: Apache-2.0
 * runtime/rt-cloned.c -- CVE-2019-5736: before create, run or exec, make sure
 * /proc/self/exe is not the host's writable berth-runtime binary.  Otherwise a
 * container whose program is "#!/proc/self/exe" could make the kernel execute
 * our binary inside the container and then rewrite it through /proc/<pid>/exe.
 * We re-execute once from a read-only detached bind mount of ourselves
 * (open_tree + mount_setattr), or, where that is refused, from a sealed memfd
 * copy.  The marker variable stops the loop and is removed after the re-exec;
 * the re-executed process then checks that /proc/self/exe really is read-only
 * or sealed (something between the two execs, such as a sanitizer runtime
 * re-executing itself by path, could have undone it) and tries once more.
 */
#include "config.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#include "runtime/runtime-internal.h"

#define CLONED_ENV "_BERTH_RUNTIME_CLONED"

static int bindfd(void)
{
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
        int fd = (int)syscall(SYS_open_tree, AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);

        if (fd < 0)
                return -1;
        if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
                (void)close(fd);
                return -1;
        }
        return fd;
}

static int sealed_copy(void)
{
        int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), fd;
        struct stat sb;
        off_t off = 0;

        if (src < 0)
                return -1;
        fd = memfd_create("berth-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0 || fstat(src, &sb) < 0)
                goto fail;
        while (off < sb.st_size) {
                ssize_t n = sendfile(fd, src, &off, (size_t)(sb.st_size - off));
                if (n <= 0)
                        goto fail;
        }
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
                goto fail;
        (void)close(src);
        return fd;
fail:
        (void)close(src);
        if (fd >= 0)
                (void)close(fd);
        return -1;
}

/* Is the binary we run from on a read-only mount or a write-sealed memfd? */
static bool exe_protected(void)
{
        _cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        struct statvfs sv;
        int seals;

        if (fd < 0)
                return false;
        if (fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_RDONLY))
                return true;
        seals = fcntl(fd, F_GET_SEALS);
        return seals >= 0 && (seals & F_SEAL_WRITE);
}

int rt_ensure_cloned(char **argv, struct berth_err *err)
{
        const char *marker = getenv(CLONED_ENV);
        int fd;

        if (marker) {
                bool again = !strcmp(marker, "1");
                (void)unsetenv(CLONED_ENV);
                if (exe_protected())
                        return 0;
                if (!again)
                        return berth_err_set(err, EPERM, "cannot protect the runtime binary (CVE-2019-5736): "
                                                         "/proc/self/exe is still writable after re-executing");
        } else if (exe_protected()) {
                /* started from a read-only mount already (berth-monitor does) */
                return 0;
        }
        fd = bindfd();
        if (fd < 0)
                fd = sealed_copy();
        if (fd < 0)
                return berth_err_set(err, errno, "cannot protect the runtime binary (CVE-2019-5736): %s",
                                     strerror(errno));
        if (setenv(CLONED_ENV, marker ? "2" : "1", 1) < 0)
                return berth_err_set(err, errno, "setenv: %s", strerror(errno));
        fflush(NULL);
        syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
        (void)unsetenv(CLONED_ENV);
        (void)close(fd);
        return berth_err_set(err, errno, "re-execute the runtime binary: %s", strerror(errno));
}
