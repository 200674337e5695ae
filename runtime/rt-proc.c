/* SPDX-License-Identifier: Apache-2.0
 * runtime/rt-proc.c -- process attributes applied in the container before
 * execve: rlimits, oom_score_adj, user and groups, capabilities (libcap).
 * The only file that includes <sys/capability.h>.
 */
#include "config.h"

#include <ctype.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "runtime/runtime-internal.h"

int rt_cap_last(void)
{
        static int last = -1;

        if (last < 0) {
                char buf[16] = { 0 };
                int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                        if (read(fd, buf, sizeof(buf) - 1) > 0)
                                last = atoi(buf);
                        (void)close(fd);
                }
                if (last < 0)
                        last = CAP_LAST_CAP;
        }
        return last;
}

int rt_cap_from_name(const char *name)
{
        char lower[64];
        cap_value_t v;
        size_t i;

        for (i = 0; name[i] && i < sizeof(lower) - 1; i++)
                lower[i] = (char)tolower((unsigned char)name[i]);
        lower[i] = '\0';
        if (strncmp(lower, "cap_", 4))
                return -1;
        if (cap_from_name(lower, &v) < 0)
                return -1;
        return (int)v;
}

const char *rt_cap_name(int cap)
{
        static char buf[64];
        char *n = cap_to_name((cap_value_t)cap);

        if (!n)
                return "?";
        snprintf(buf, sizeof(buf), "%s", n);
        for (char *p = buf; *p; p++)
                *p = (char)toupper((unsigned char)*p);
        cap_free(n);
        return buf;
}

int rt_proc_rlimits(const struct rt_process *p, struct berth_err *err)
{
        for (size_t i = 0; i < p->nrlimits; i++) {
                const struct rt_rlimit *l = &p->rlimits[i];
                struct rlimit rl = { l->soft, l->hard }, cur;

                if (setrlimit(l->resource, &rl) == 0)
                        continue;
                if (errno != EPERM || getrlimit(l->resource, &cur) < 0)
                        return berth_err_set(err, errno, "setrlimit %d: %s", l->resource, strerror(errno));
                /* no CAP_SYS_RESOURCE: never raise the hard limit above the current one */
                if (rl.rlim_max > cur.rlim_max)
                        rl.rlim_max = cur.rlim_max;
                if (rl.rlim_cur > rl.rlim_max)
                        rl.rlim_cur = rl.rlim_max;
                if (setrlimit(l->resource, &rl) < 0)
                        return berth_err_set(err, errno, "setrlimit %d: %s", l->resource, strerror(errno));
        }
        return 0;
}

int rt_proc_oom(const struct rt_process *p, struct berth_err *err)
{
        char buf[32];
        int fd, n;

        if (!p->has_oom)
                return 0;
        fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_err_set(err, errno, "open oom_score_adj: %s", strerror(errno));
        n = snprintf(buf, sizeof(buf), "%d", p->oom_score_adj);
        if (write(fd, buf, (size_t)n) != n) {
                int e = errno;
                (void)close(fd);
                return berth_err_set(err, e, "set oom_score_adj to %d: %s", p->oom_score_adj, strerror(e));
        }
        (void)close(fd);
        return 0;
}

int rt_proc_identity(const struct rt_process *p, bool in_userns, struct berth_err *err)
{
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return berth_err_set(err, errno, "keepcaps: %s", strerror(errno));
        if (setgroups(p->ngids, p->gids) < 0) {
                /* in a user namespace with setgroups denied, only an empty list is refused too */
                if (!(in_userns && errno == EPERM && p->ngids == 0))
                        return berth_err_set(err, errno, "setgroups: %s", strerror(errno));
        }
        if (setresgid(p->gid, p->gid, p->gid) < 0)
                return berth_err_set(err, errno, "setgid %u: %s", (unsigned)p->gid, strerror(errno));
        if (setresuid(p->uid, p->uid, p->uid) < 0)
                return berth_err_set(err, errno, "setuid %u: %s", (unsigned)p->uid, strerror(errno));
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return berth_err_set(err, errno, "keepcaps: %s", strerror(errno));
        return 0;
}

int rt_proc_drop_bounding(const struct rt_process *p, struct berth_err *err)
{
        if (!p->has_caps)
                return 0;
        for (int c = 0; c <= rt_cap_last(); c++) {
                if (p->cap_bnd & (1ULL << c))
                        continue;
                if (cap_drop_bound((cap_value_t)c) < 0 && errno != EINVAL)
                        return berth_err_set(err, errno, "drop bounding capability %s: %s", rt_cap_name(c),
                                             strerror(errno));
        }
        return 0;
}

static void set_flag(cap_t caps, cap_flag_t flag, uint64_t mask)
{
        for (int c = 0; c <= rt_cap_last(); c++)
                if (mask & (1ULL << c)) {
                        cap_value_t v = (cap_value_t)c;
                        (void)cap_set_flag(caps, flag, 1, &v, CAP_SET);
                }
}

int rt_proc_caps(const struct rt_process *p, struct berth_err *err)
{
        cap_t caps;
        int r = 0;

        if (!p->has_caps)
                return 0;
        caps = cap_init();
        if (!caps)
                return berth_err_set(err, errno, "cap_init: %s", strerror(errno));
        set_flag(caps, CAP_EFFECTIVE, p->cap_eff);
        set_flag(caps, CAP_PERMITTED, p->cap_prm | p->cap_eff);
        set_flag(caps, CAP_INHERITABLE, p->cap_inh);
        if (cap_set_proc(caps) < 0)
                r = berth_err_set(err, errno, "apply capabilities: %s", strerror(errno));
        cap_free(caps);
        if (r < 0)
                return r;
        (void)cap_reset_ambient();
        for (int c = 0; c <= rt_cap_last(); c++)
                if (p->cap_amb & (1ULL << c)) {
                        if (cap_set_ambient((cap_value_t)c, CAP_SET) < 0)
                                rt_debug("cannot raise ambient capability %s: %s", rt_cap_name(c), strerror(errno));
                }
        return 0;
}

static const char *env_get(char **env, const char *name)
{
        size_t n = strlen(name);

        for (char **e = env; e && *e; e++)
                if (!strncmp(*e, name, n) && (*e)[n] == '=')
                        return *e + n + 1;
        return NULL;
}

int rt_proc_lookup(const struct rt_process *p, char **ret, struct berth_err *err)
{
        const char *name = p->args[0], *path;
        struct stat sb;

        if (strchr(name, '/')) {
                if (stat(name, &sb) < 0)
                        return berth_err_set(err, errno, "exec: \"%s\": stat %s: %s", name, name, strerror(errno));
                if (S_ISDIR(sb.st_mode))
                        return berth_err_set(err, EACCES, "exec: \"%s\": is a directory", name);
                *ret = xstrdup(name);
                return 0;
        }
        path = env_get(p->env, "PATH");
        if (!path)
                path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        while (*path) {
                size_t n = strcspn(path, ":");
                _cleanup_free_ char *cand = n ? xasprintf("%.*s/%s", (int)n, path, name) : xasprintf("./%s", name);

                if (stat(cand, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 0111)) {
                        *ret = TAKE_PTR(cand);
                        return 0;
                }
                path += n;
                if (*path == ':')
                        path++;
        }
        return berth_err_set(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
}
