/* SPDX-License-Identifier: Apache-2.0
 * daemon/helpers.c -- finding berth's helper programs: next to berthd first
 * (so a build tree works uninstalled), then libexecdir. */
#include "config.h"

#include <libgen.h>
#include <limits.h>
#include <string.h>

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
