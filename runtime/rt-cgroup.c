/* SPDX-License-Identifier: Apache-2.0
 * runtime/rt-cgroup.c -- cgroups v1 (one dir per mounted hierarchy) and v2
 * (one unified dir), chosen at run time: create, enter, limits, freezer, pids,
 * destroy.  On a hybrid host the controllers live in v1 and the empty
 * unified hierarchy is left alone.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#include "runtime/runtime-internal.h"

#define CG_ROOT "/sys/fs/cgroup"

static bool cg_is_v2(void)
{
        struct statfs sf;

        return statfs(CG_ROOT, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

static int cg_write(const char *dir, const char *file, const char *val, struct berth_err *err)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
        int fd = open(p, O_WRONLY | O_CLOEXEC);
        size_t n = strlen(val);

        if (fd < 0)
                return berth_err_set(err, errno, "open %s: %s", p, strerror(errno));
        if (write(fd, val, n) != (ssize_t)n) {
                int e = errno;
                (void)close(fd);
                return berth_err_set(err, e, "write '%s' to %s: %s", val, p, strerror(e));
        }
        (void)close(fd);
        return 0;
}

static int cg_read(const char *dir, const char *file, char *out, size_t n)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        ssize_t k;

        if (fd < 0)
                return -errno;
        k = read(fd, out, n - 1);
        (void)close(fd);
        if (k < 0)
                return -EIO;
        out[k] = '\0';
        while (k > 0 && (out[k - 1] == '\n' || out[k - 1] == ' '))
                out[--k] = '\0';
        return (int)k;
}

/* Our own cgroup in the hierarchy whose /proc/self/cgroup key is key. */
static char *own_cgroup(const char *key)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        char *line, *save = NULL;

        if (berth_read_file("/proc/self/cgroup", 1 << 16, &text, &len, NULL) < 0)
                return xstrdup("/");
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *c1 = strchr(line, ':'), *c2;
                if (!c1 || !(c2 = strchr(c1 + 1, ':')))
                        continue;
                *c2 = '\0';
                /* "4:memory" or "1:cpu,cpuacct" or "9:name=systemd" or "0:" */
                char *names = c1 + 1;
                char *tok, *s2 = NULL;
                if (!*key && !*names)
                        return xstrdup(c2 + 1);
                for (tok = strtok_r(names, ",", &s2); tok; tok = strtok_r(NULL, ",", &s2))
                        if (!strcmp(tok, key))
                                return xstrdup(c2 + 1);
        }
        return xstrdup("/");
}

/* cgroupsPath: absolute, relative (to our own cgroup) or systemd "slice:prefix:name". */
static char *cg_rel_path(const char *id, const char *cgpath, bool *relative)
{
        *relative = false;
        if (!cgpath || !*cgpath)
                return xasprintf("/berth-runtime/%s", id);
        if (cgpath[0] != '/' && strchr(cgpath, ':')) {
                _cleanup_free_ char *copy = xstrdup(cgpath);
                char *slice = copy, *prefix = strchr(copy, ':'), *name;
                *prefix++ = '\0';
                name = strchr(prefix, ':');
                if (!name)
                        return xasprintf("/%s", cgpath);
                *name++ = '\0';
                if (!*slice)
                        slice = (char *)"system.slice";
                return *prefix ? xasprintf("/%s/%s-%s.scope", slice, prefix, name) : xasprintf("/%s/%s", slice, name);
        }
        if (cgpath[0] != '/')
                *relative = true;
        return xstrdup(cgpath);
}

/* Create dir and parents; for cpuset v1, copy cpus/mems from the parent. */
static int cg_mkdir(const char *base, const char *rel, bool cpuset, struct berth_err *err)
{
        _cleanup_free_ char *p = xasprintf("%s%s", base, rel);
        char *s = p + strlen(base);

        for (;;) {
                char *slash = strchr(s + 1, '/');
                if (slash)
                        *slash = '\0';
                if (mkdir(p, 0755) < 0) {
                        if (errno != EEXIST)
                                return berth_err_set(err, errno, "mkdir %s: %s", p, strerror(errno));
                } else if (cpuset) {
                        _cleanup_free_ char *parent = xstrdup(p);
                        char v[4096];
                        *strrchr(parent, '/') = '\0';
                        if (cg_read(parent, "cpuset.cpus", v, sizeof(v)) > 0)
                                (void)cg_write(p, "cpuset.cpus", v, NULL);
                        if (cg_read(parent, "cpuset.mems", v, sizeof(v)) > 0)
                                (void)cg_write(p, "cpuset.mems", v, NULL);
                }
                if (!slash)
                        break;
                *slash = '/';
                s = slash;
        }
        return 0;
}

int rt_cgroup_create(const char *id, const char *cgpath, const cJSON *resources, struct rt_cgroup *cg,
                     struct berth_err *err)
{
        bool relative;
        _cleanup_free_ char *rel = cg_rel_path(id, cgpath, &relative);
        int r;

        cg->v2 = cg_is_v2();
        cg->paths = cJSON_CreateObject();
        if (strstr(rel, "/../") || !strncmp(rel, "../", 3))
                return berth_err_set(err, EINVAL, "invalid cgroupsPath '%s'", cgpath);
        if (cg->v2) {
                _cleanup_free_ char *own = relative ? own_cgroup("") : NULL;
                _cleanup_free_ char *full = xasprintf("%s%s/%s", own ? own : "", relative ? "" : "", rel);
                char *path;

                /* normalise "//" */
                path = xasprintf("%s%s%s", CG_ROOT, full[0] == '/' ? "" : "/", full);
                r = cg_mkdir(CG_ROOT, path + strlen(CG_ROOT), false, err);
                if (r < 0) {
                        free(path);
                        return r;
                }
                /* enable the controllers for the parent's children */
                {
                        _cleanup_free_ char *parent = xstrdup(path);
                        char ctrls[1024], buf[1100];
                        *strrchr(parent, '/') = '\0';
                        if (cg_read(parent, "cgroup.controllers", ctrls, sizeof(ctrls)) > 0) {
                                char *tok, *save = NULL;
                                for (tok = strtok_r(ctrls, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
                                        snprintf(buf, sizeof(buf), "+%s", tok);
                                        (void)cg_write(parent, "cgroup.subtree_control", buf, NULL);
                                }
                        }
                }
                cJSON_AddStringToObject(cg->paths, "", path);
                free(path);
        } else {
                _cleanup_free_ char *mi = NULL;
                char *line, *save = NULL;
                size_t len;

                r = berth_read_file("/proc/self/mountinfo", 1 << 20, &mi, &len, err);
                if (r < 0)
                        return r;
                for (line = strtok_r(mi, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        /* id parent maj:min root mountpoint opts ... - fstype source superopts */
                        char root[512], mnt[512], fstype[64], super[512];
                        const char *dash = strstr(line, " - ");
                        if (!dash || sscanf(line, "%*s %*s %*s %511s %511s", root, mnt) != 2 ||
                            sscanf(dash + 3, "%63s %*s %511s", fstype, super) != 2)
                                continue;
                        if (strcmp(fstype, "cgroup") || strncmp(mnt, CG_ROOT "/", STRLEN(CG_ROOT "/")))
                                continue;
                        const char *base = strrchr(mnt, '/') + 1;
                        /* the key in /proc/self/cgroup: controllers or name=... from the super options */
                        char key[512] = "", *tok, *s2 = NULL;
                        for (tok = strtok_r(super, ",", &s2); tok; tok = strtok_r(NULL, ",", &s2)) {
                                if (!strcmp(tok, "rw") || !strcmp(tok, "ro") || !strncmp(tok, "release_agent", 13) ||
                                    !strcmp(tok, "clone_children") || !strcmp(tok, "noprefix") || !strcmp(tok, "xattr"))
                                        continue;
                                snprintf(key, sizeof(key), "%s", tok);
                                break;
                        }
                        if (!*key || cJSON_GetObjectItemCaseSensitive(cg->paths, base))
                                continue;
                        _cleanup_free_ char *own = relative ? own_cgroup(key) : NULL;
                        _cleanup_free_ char *full = relative ? xasprintf("%s/%s", strcmp(own, "/") ? own : "", rel)
                                                             : xstrdup(rel);
                        r = cg_mkdir(mnt, full, !strcmp(key, "cpuset"), err);
                        if (r < 0)
                                return r;
                        _cleanup_free_ char *path = xasprintf("%s%s", mnt, full);
                        cJSON_AddStringToObject(cg->paths, base, path);
                }
        }
        if (resources) {
                r = rt_cgroup_apply(cg->paths, resources, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int rt_cgroup_enter(const cJSON *paths, pid_t pid, struct berth_err *err)
{
        const cJSON *it;
        char buf[32];
        int r;

        snprintf(buf, sizeof(buf), "%d", (int)pid);
        cJSON_ArrayForEach(it, paths) {
                r = cg_write(it->valuestring, "cgroup.procs", buf, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/*
 * A single-threaded process moving itself: on v1 it writes "0" to each
 * hierarchy's tasks file.  The kernel takes its global threadgroup rwsem for
 * write only when a pid or a whole thread group is named, and that write lock
 * waits for an RCU grace period (7-20 ms here) whenever nobody migrated a
 * task just before; moving the only thread of `current` skips it (0.1 ms).
 * v2 has no such file for domain cgroups: cgroup.procs there.
 */
int rt_cgroup_enter_self(const cJSON *paths, struct berth_err *err)
{
        const cJSON *it;
        int r;

        if (cJSON_GetObjectItemCaseSensitive(paths, ""))
                return rt_cgroup_enter(paths, 0, err);
        cJSON_ArrayForEach(it, paths) {
                r = cg_write(it->valuestring, "tasks", "0", err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static const char *cg_dir(const cJSON *paths, const char *ctrl)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(paths, "");

        if (v)
                return v->valuestring;
        v = cJSON_GetObjectItemCaseSensitive(paths, ctrl);
        return v ? v->valuestring : NULL;
}

static bool num(const cJSON *o, const char *key, int64_t *ret)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        if (!cJSON_IsNumber(v))
                return false;
        *ret = v->valuedouble >= 9.2e18 ? INT64_MAX : (int64_t)v->valuedouble;
        return true;
}

static int setv(const cJSON *paths, const char *ctrl, const char *file, const char *val, struct berth_err *err)
{
        const char *d = cg_dir(paths, ctrl);

        if (!d)
                return berth_err_set(err, ENOENT, "cgroup controller '%s' is not available", ctrl);
        return cg_write(d, file, val, err);
}

static int setn(const cJSON *paths, const char *ctrl, const char *file, int64_t v, struct berth_err *err)
{
        char buf[32];

        snprintf(buf, sizeof(buf), "%" PRId64, v);
        return setv(paths, ctrl, file, buf, err);
}

static int apply_devices_v1(const cJSON *paths, const cJSON *devs, struct berth_err *err)
{
        const cJSON *it;
        int r;

        cJSON_ArrayForEach(it, devs) {
                bool allow = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "allow"));
                const char *type = berth_json_str(it, "type"), *access = berth_json_str(it, "access");
                int64_t maj = -1, min = -1;
                char rule[128], smaj[24] = "*", smin[24] = "*";

                if (num(it, "major", &maj) && maj >= 0)
                        snprintf(smaj, sizeof(smaj), "%" PRId64, maj);
                if (num(it, "minor", &min) && min >= 0)
                        snprintf(smin, sizeof(smin), "%" PRId64, min);
                if (!type || !*type)
                        type = "a";
                if (!access || !*access)
                        access = "rwm";
                if (!strcmp(type, "a"))
                        snprintf(rule, sizeof(rule), "a");
                else
                        snprintf(rule, sizeof(rule), "%s %s:%s %s", type, smaj, smin, access);
                r = setv(paths, "devices", allow ? "devices.allow" : "devices.deny", rule, err);
                if (r < 0)
                        return r;
        }
        /* as runc: the default devices stay usable whatever the list says */
        static const char *const dflt[] = { "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm",
                                            "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm",
                                            "c 136:* rwm", "c 10:200 rwm" };
        for (size_t i = 0; i < ARRAY_SIZE(dflt); i++)
                (void)setv(paths, "devices", "devices.allow", dflt[i], NULL);
        return 0;
}

static int apply_v1(const cJSON *paths, const cJSON *res, struct berth_err *err)
{
        const cJSON *mem = cJSON_GetObjectItemCaseSensitive(res, "memory");
        const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(res, "cpu");
        const cJSON *pids = cJSON_GetObjectItemCaseSensitive(res, "pids");
        const cJSON *blkio = cJSON_GetObjectItemCaseSensitive(res, "blockIO");
        const cJSON *devs = cJSON_GetObjectItemCaseSensitive(res, "devices");
        const cJSON *hp = cJSON_GetObjectItemCaseSensitive(res, "hugepageLimits"), *it;
        int64_t v;
        int r;

        if (devs && cg_dir(paths, "devices") && (r = apply_devices_v1(paths, devs, err)) < 0)
                return r;
        if (mem) {
                int64_t limit = 0, swap = 0;
                bool has_limit = num(mem, "limit", &limit), has_swap = num(mem, "swap", &swap);
                /* memsw must stay >= limit: order the writes accordingly */
                if (has_swap && has_limit && swap != -1 && limit != -1) {
                        char cur[32];
                        int64_t curlim = 0;
                        if (cg_read(cg_dir(paths, "memory") ? cg_dir(paths, "memory") : "/nonexistent", "memory.limit_in_bytes", cur, sizeof(cur)) > 0)
                                curlim = strtoll(cur, NULL, 10);
                        if (swap > curlim) {
                                if ((r = setn(paths, "memory", "memory.memsw.limit_in_bytes", swap, err)) < 0 ||
                                    (r = setn(paths, "memory", "memory.limit_in_bytes", limit, err)) < 0)
                                        return r;
                        } else if ((r = setn(paths, "memory", "memory.limit_in_bytes", limit, err)) < 0 ||
                                   (r = setn(paths, "memory", "memory.memsw.limit_in_bytes", swap, err)) < 0) {
                                return r;
                        }
                } else if (has_swap && swap == -1) {
                        /* unlimited swap first: the new limit may pass the old memsw */
                        if ((r = setn(paths, "memory", "memory.memsw.limit_in_bytes", swap, err)) < 0)
                                return r;
                        if (has_limit && (r = setn(paths, "memory", "memory.limit_in_bytes", limit, err)) < 0)
                                return r;
                } else {
                        if (has_limit && (r = setn(paths, "memory", "memory.limit_in_bytes", limit, err)) < 0)
                                return r;
                        if (has_swap && (r = setn(paths, "memory", "memory.memsw.limit_in_bytes", swap, err)) < 0)
                                return r;
                }
                if (num(mem, "reservation", &v) && (r = setn(paths, "memory", "memory.soft_limit_in_bytes", v, err)) < 0)
                        return r;
                /* memory.kernel is ignored, as runc and crun do: kernels >= 6.1 drop the writes */
                if (num(mem, "kernelTCP", &v) && v &&
                    (r = setn(paths, "memory", "memory.kmem.tcp.limit_in_bytes", v, err)) < 0)
                        return r;
                if (num(mem, "swappiness", &v) && v >= 0 && v <= 100 &&
                    (r = setn(paths, "memory", "memory.swappiness", v, err)) < 0)
                        return r;
                if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(mem, "disableOOMKiller")) &&
                    (r = setv(paths, "memory", "memory.oom_control", "1", err)) < 0)
                        return r;
        }
        if (cpu) {
                const char *s;
                if (num(cpu, "shares", &v) && v && (r = setn(paths, "cpu", "cpu.shares", v, err)) < 0)
                        return r;
                if (num(cpu, "period", &v) && v && (r = setn(paths, "cpu", "cpu.cfs_period_us", v, err)) < 0)
                        return r;
                if (num(cpu, "quota", &v) && v && (r = setn(paths, "cpu", "cpu.cfs_quota_us", v, err)) < 0)
                        return r;
                if (num(cpu, "realtimePeriod", &v) && v && (r = setn(paths, "cpu", "cpu.rt_period_us", v, err)) < 0)
                        return r;
                if (num(cpu, "realtimeRuntime", &v) && v && (r = setn(paths, "cpu", "cpu.rt_runtime_us", v, err)) < 0)
                        return r;
                if ((s = berth_json_str(cpu, "cpus")) && *s && (r = setv(paths, "cpuset", "cpuset.cpus", s, err)) < 0)
                        return r;
                if ((s = berth_json_str(cpu, "mems")) && *s && (r = setv(paths, "cpuset", "cpuset.mems", s, err)) < 0)
                        return r;
        }
        if (pids && num(pids, "limit", &v)) {
                if (v > 0)
                        r = setn(paths, "pids", "pids.max", v, err);
                else
                        r = setv(paths, "pids", "pids.max", "max", err);
                if (r < 0)
                        return r;
        }
        if (blkio) {
                static const char *const thr[][2] = {
                        { "throttleReadBpsDevice", "blkio.throttle.read_bps_device" },
                        { "throttleWriteBpsDevice", "blkio.throttle.write_bps_device" },
                        { "throttleReadIOPSDevice", "blkio.throttle.read_iops_device" },
                        { "throttleWriteIOPSDevice", "blkio.throttle.write_iops_device" },
                };
                if (num(blkio, "weight", &v) && v && (r = setn(paths, "blkio", "blkio.weight", v, err)) < 0)
                        return r;
                if (num(blkio, "leafWeight", &v) && v && (r = setn(paths, "blkio", "blkio.leaf_weight", v, err)) < 0)
                        return r;
                cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(blkio, "weightDevice")) {
                        int64_t ma = 0, mi = 0, w;
                        char buf[64];
                        (void)num(it, "major", &ma);
                        (void)num(it, "minor", &mi);
                        if (num(it, "weight", &w)) {
                                snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRId64, ma, mi, w);
                                if ((r = setv(paths, "blkio", "blkio.weight_device", buf, err)) < 0)
                                        return r;
                        }
                        if (num(it, "leafWeight", &w)) {
                                snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRId64, ma, mi, w);
                                if ((r = setv(paths, "blkio", "blkio.leaf_weight_device", buf, err)) < 0)
                                        return r;
                        }
                }
                for (size_t i = 0; i < ARRAY_SIZE(thr); i++)
                        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(blkio, thr[i][0])) {
                                int64_t ma = 0, mi = 0, rate = 0;
                                char buf[96];
                                (void)num(it, "major", &ma);
                                (void)num(it, "minor", &mi);
                                (void)num(it, "rate", &rate);
                                snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRId64, ma, mi, rate);
                                if ((r = setv(paths, "blkio", thr[i][1], buf, err)) < 0)
                                        return r;
                        }
        }
        cJSON_ArrayForEach(it, hp) {
                const char *ps = berth_json_str(it, "pageSize");
                char file[96];
                if (!ps || !num(it, "limit", &v))
                        continue;
                snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes", ps);
                if ((r = setn(paths, "hugetlb", file, v, err)) < 0)
                        return r;
        }
        return 0;
}

static int apply_v2(const cJSON *paths, const cJSON *res, struct berth_err *err)
{
        const cJSON *mem = cJSON_GetObjectItemCaseSensitive(res, "memory");
        const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(res, "cpu");
        const cJSON *pids = cJSON_GetObjectItemCaseSensitive(res, "pids");
        const cJSON *blkio = cJSON_GetObjectItemCaseSensitive(res, "blockIO");
        const cJSON *devs = cJSON_GetObjectItemCaseSensitive(res, "devices");
        const cJSON *unified = cJSON_GetObjectItemCaseSensitive(res, "unified"), *it;
        int64_t v;
        int r;

        if (mem) {
                int64_t limit = -1, swap;
                if (num(mem, "limit", &limit)) {
                        r = limit == -1 ? setv(paths, "memory", "memory.max", "max", err)
                                        : setn(paths, "memory", "memory.max", limit, err);
                        if (r < 0)
                                return r;
                }
                if (num(mem, "swap", &swap)) {
                        if (swap == -1)
                                r = setv(paths, "memory", "memory.swap.max", "max", err);
                        else
                                r = setn(paths, "memory", "memory.swap.max", limit > 0 && swap >= limit ? swap - limit : swap, err);
                        if (r < 0)
                                return r;
                }
                if (num(mem, "reservation", &v) && (r = setn(paths, "memory", "memory.low", v, err)) < 0)
                        return r;
        }
        if (cpu) {
                int64_t quota = 0, period = 0;
                const char *s;
                if (num(cpu, "shares", &v) && v) {
                        int64_t w = 1 + ((v - 2) * 9999) / 262142;
                        if ((r = setn(paths, "cpu", "cpu.weight", w, err)) < 0)
                                return r;
                }
                bool hq = num(cpu, "quota", &quota), hpd = num(cpu, "period", &period);
                if (hq || hpd) {
                        char buf[64];
                        if (!period)
                                period = 100000;
                        if (quota > 0)
                                snprintf(buf, sizeof(buf), "%" PRId64 " %" PRId64, quota, period);
                        else
                                snprintf(buf, sizeof(buf), "max %" PRId64, period);
                        if ((r = setv(paths, "cpu", "cpu.max", buf, err)) < 0)
                                return r;
                }
                if ((s = berth_json_str(cpu, "cpus")) && *s && (r = setv(paths, "cpuset", "cpuset.cpus", s, err)) < 0)
                        return r;
                if ((s = berth_json_str(cpu, "mems")) && *s && (r = setv(paths, "cpuset", "cpuset.mems", s, err)) < 0)
                        return r;
        }
        if (pids && num(pids, "limit", &v)) {
                r = v > 0 ? setn(paths, "pids", "pids.max", v, err) : setv(paths, "pids", "pids.max", "max", err);
                if (r < 0)
                        return r;
        }
        if (blkio && num(blkio, "weight", &v) && v) {
                int64_t w = 1 + ((v - 10) * 9999) / 990;
                if ((r = setn(paths, "io", "io.weight", w, err)) < 0)
                        return r;
        }
        if (cJSON_GetArraySize(devs) > 0 && (r = rt_devices_v2_apply(cg_dir(paths, ""), devs, err)) < 0)
                return r;
        cJSON_ArrayForEach(it, unified) {
                if (!cJSON_IsString(it) || strchr(it->string, '/'))
                        continue;
                if ((r = setv(paths, "", it->string, it->valuestring, err)) < 0)
                        return r;
        }
        return 0;
}

int rt_cgroup_apply(const cJSON *paths, const cJSON *resources, struct berth_err *err)
{
        if (!resources)
                return 0;
        if (cJSON_GetObjectItemCaseSensitive(paths, ""))
                return apply_v2(paths, resources, err);
        return apply_v1(paths, resources, err);
}

int rt_cgroup_destroy(const cJSON *paths, struct berth_err *err)
{
        const cJSON *it;
        int ret = 0;

        cJSON_ArrayForEach(it, paths) {
                if (!cJSON_IsString(it))
                        continue;
                for (int tries = 0; tries < 200; tries++) {
                        if (rmdir(it->valuestring) == 0 || errno == ENOENT)
                                break;
                        if (errno != EBUSY) {
                                ret = berth_err_set(err, errno, "rmdir %s: %s", it->valuestring, strerror(errno));
                                break;
                        }
                        if (tries == 199) {
                                ret = berth_err_set(err, EBUSY, "rmdir %s: %s", it->valuestring, strerror(EBUSY));
                                break;
                        }
                        struct timespec ts = { 0, 5 * 1000 * 1000 };
                        nanosleep(&ts, NULL);
                }
        }
        return ret;
}

int rt_cgroup_frozen(const cJSON *paths)
{
        char buf[64];
        const cJSON *v2 = cJSON_GetObjectItemCaseSensitive(paths, "");

        if (v2)
                return cg_read(v2->valuestring, "cgroup.freeze", buf, sizeof(buf)) > 0 && buf[0] == '1';
        if (!cg_dir(paths, "freezer"))
                return 0;
        if (cg_read(cg_dir(paths, "freezer"), "freezer.state", buf, sizeof(buf)) <= 0)
                return 0;
        return !strcmp(buf, "FROZEN") || !strcmp(buf, "FREEZING");
}

int rt_cgroup_freeze(const cJSON *paths, bool freeze, struct berth_err *err)
{
        const cJSON *v2 = cJSON_GetObjectItemCaseSensitive(paths, "");
        const char *d;
        char buf[64];
        int r;

        if (v2)
                return cg_write(v2->valuestring, "cgroup.freeze", freeze ? "1" : "0", err);
        d = cg_dir(paths, "freezer");
        if (!d)
                return berth_err_set(err, ENOTSUP, "the freezer cgroup controller is not available");
        for (int i = 0; i < 1000; i++) {
                r = cg_write(d, "freezer.state", freeze ? "FROZEN" : "THAWED", err);
                if (r < 0)
                        return r;
                if (cg_read(d, "freezer.state", buf, sizeof(buf)) > 0 && !strcmp(buf, freeze ? "FROZEN" : "THAWED"))
                        return 0;
                struct timespec ts = { 0, 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
        return berth_err_set(err, ETIMEDOUT, "freezer did not reach its state");
}

int rt_cgroup_pids(const cJSON *paths, pid_t **ret, size_t *ret_n, struct berth_err *err)
{
        const char *d = cg_dir(paths, "pids");
        _cleanup_free_ char *text = NULL, *p = NULL;
        const cJSON *first;
        size_t len, n = 0;
        pid_t *v;
        char *line, *save = NULL;
        int r;

        if (!d) {
                first = paths ? paths->child : NULL;
                if (!first)
                        return berth_err_set(err, ENOENT, "container has no cgroup");
                d = first->valuestring;
        }
        p = xasprintf("%s/cgroup.procs", d);
        r = berth_read_file(p, 16 << 20, &text, &len, err);
        if (r < 0)
                return r;
        v = xcalloc(len / 2 + 1, sizeof(pid_t));
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                v[n++] = (pid_t)atoi(line);
        *ret = v;
        *ret_n = n;
        return 0;
}
