/* SPDX-License-Identifier: Apache-2.0
 * daemon/stats.c -- a running container's resource usage in the Engine
 * API's stats shape (cgroup v1 or v2 files, /proc/PID/net/dev), `docker
 * update` (HostConfig resources and restart policy, applied through the
 * runtime's update), and the tty resize of a container's process.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "runtime/monitor.h"
#include "runtime/spec.h"

#define ZERO_TIME "0001-01-01T00:00:00Z"
#define CG_ROOT "/sys/fs/cgroup"

/* Where procfs and the cgroup hierarchies are (unit tests use fake trees). */
struct stats_roots {
        const char *proc;
        const char *cgroup;
};

/* ---- small readers (procfs and cgroupfs files are a few KiB at most) ---- */

static char *slurp(const char *dir, const char *name)
{
        char path[512];
        char *text = NULL;
        size_t len;

        if (!dir)
                return NULL;
        if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
                return NULL;
        if (berth_read_file(path, 1 << 20, &text, &len, NULL) < 0)
                return NULL;
        return text;
}

/* The first number in dir/name; false when absent or not a number ("max"). */
static bool read_u64(const char *dir, const char *name, uint64_t *ret)
{
        _cleanup_free_ char *t = slurp(dir, name);
        char *end;

        if (!t)
                return false;
        errno = 0;
        unsigned long long v = strtoull(t, &end, 10);
        if (end == t || errno)
                return false;
        *ret = v;
        return true;
}

/* "key value" lines: the value of key, or false. */
static bool kv_get(const char *text, const char *key, uint64_t *ret)
{
        size_t kl = strlen(key);

        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
                if (!strncmp(p, key, kl) && p[kl] == ' ') {
                        *ret = strtoull(p + kl + 1, NULL, 10);
                        return true;
                }
        }
        return false;
}

/* Counters are uint64: past 2^53 a double (cJSON's numbers) would print
 * as 9.2233720368547717e+18, which Go clients refuse for a uint64; those
 * go out as raw decimal text. */
static cJSON *num(uint64_t v)
{
        char text[24];

        if (v <= (1ULL << 53))
                return cJSON_CreateNumber((double)v);
        snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
        return cJSON_CreateRaw(text);
}

/* Go's RFC3339Nano: trailing zeros of the fraction trimmed. */
static void time_nano(int64_t ns, char *out, size_t outlen)
{
        berth_time_rfc3339(ns / 1000000000, (long)(ns % 1000000000), out, outlen);
        char *dot = strchr(out, '.');
        if (dot) {
                char *z = strchr(dot, 'Z');
                char *e = z;
                while (e > dot + 1 && e[-1] == '0')
                        e--;
                if (e == dot + 1)
                        e = dot;
                memmove(e, z, strlen(z) + 1);
        }
}

/* ---- where the container's cgroups are ---- */

struct cg_paths {
        bool v2;
        char *cpu, *cpuacct, *memory, *pids, *blkio;   /* v1 dirs */
        char *unified;                                  /* v2 dir */
};

static void cg_paths_release(struct cg_paths *p)
{
        free(p->cpu);
        free(p->cpuacct);
        free(p->memory);
        free(p->pids);
        free(p->blkio);
        free(p->unified);
        memset(p, 0, sizeof(*p));
}

static char *v1_dir(const struct stats_roots *rt, const char *ctrls, const char *ctrl, const char *path)
{
        /* the hierarchy is mounted under its controller list (cpu,cpuacct),
         * usually with a symlink per controller */
        char *d = xasprintf("%s/%s%s", rt->cgroup, ctrls, path);
        if (access(d, F_OK) == 0)
                return d;
        free(d);
        d = xasprintf("%s/%s%s", rt->cgroup, ctrl, path);
        if (access(d, F_OK) == 0)
                return d;
        free(d);
        return NULL;
}

/* From /proc/PID/cgroup (as this process's cgroup namespace sees it). */
static int cg_paths_find(const struct stats_roots *rt, int pid, struct cg_paths *p, struct berth_err *err)
{
        char file[PATH_MAX];
        _cleanup_free_ char *text = NULL;
        char *save = NULL, *unified_path = NULL;
        size_t len;
        int r;

        memset(p, 0, sizeof(*p));
        snprintf(file, sizeof(file), "%s/%d/cgroup", rt->proc, pid);
        r = berth_read_file(file, 1 << 16, &text, &len, err);
        if (r < 0)
                return r;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                *c2 = '\0';
                const char *ctrls = c1 + 1, *path = c2 + 1;
                if (!*ctrls) {
                        unified_path = path[0] ? (char *)path : NULL;
                        continue;
                }
                _cleanup_free_ char *copy = xstrdup(ctrls);
                char *s2 = NULL;
                for (char *ct = strtok_r(copy, ",", &s2); ct; ct = strtok_r(NULL, ",", &s2)) {
                        char **slot = !strcmp(ct, "cpu") ? &p->cpu : !strcmp(ct, "cpuacct") ? &p->cpuacct :
                                      !strcmp(ct, "memory") ? &p->memory : !strcmp(ct, "pids") ? &p->pids :
                                      !strcmp(ct, "blkio") ? &p->blkio : NULL;
                        if (slot && !*slot)
                                *slot = v1_dir(rt, ctrls, ct, path);
                }
        }
        if (!p->memory && !p->cpuacct && unified_path) {
                p->v2 = true;
                p->unified = xasprintf("%s%s", rt->cgroup, strcmp(unified_path, "/") ? unified_path : "");
        }
        if (!p->memory && !p->cpuacct && !p->unified)
                return berth_err_set(err, ENOENT, "no cgroup found for pid %d", pid);
        return 0;
}

/* ---- the parts of a sample ---- */

static void add_blkio_v1(cJSON *blk, const char *dir)
{
        static const char *const keys[][2] = {
                { "io_service_bytes_recursive", "blkio.io_service_bytes_recursive" },
                { "io_serviced_recursive", "blkio.io_serviced_recursive" },
                { "io_queue_recursive", "blkio.io_queued_recursive" },
                { "io_service_time_recursive", "blkio.io_service_time_recursive" },
                { "io_wait_time_recursive", "blkio.io_wait_time_recursive" },
                { "io_merged_recursive", "blkio.io_merged_recursive" },
                { "io_time_recursive", "blkio.time_recursive" },
                { "sectors_recursive", "blkio.sectors_recursive" },
        };
        _cleanup_free_ char *probe = slurp(dir, "blkio.io_serviced_recursive");
        /* without a proportional-weight scheduler (CFQ/BFQ) those files are
         * empty or absent: the throttle files count every I/O (as containerd) */
        bool throttle = !probe || !*probe || !strncmp(probe, "Total", 5);

        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                const char *file = keys[i][1];
                _cleanup_free_ char *t = NULL;
                if (throttle && i < 2) {
                        t = slurp(dir, i == 0 ? "blkio.throttle.io_service_bytes_recursive"
                                              : "blkio.throttle.io_serviced_recursive");
                        if (!t)
                                t = slurp(dir, i == 0 ? "blkio.throttle.io_service_bytes"
                                                      : "blkio.throttle.io_serviced");
                } else if (!throttle) {
                        t = slurp(dir, file);
                }
                /* dockerd answers [] for an empty list on cgroup v1 */
                cJSON *arr = cJSON_CreateArray();
                char *save = NULL;
                for (char *line = t ? strtok_r(t, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
                        unsigned ma, mi;
                        char op[32] = "";
                        unsigned long long v;
                        int n = sscanf(line, "%u:%u %31s %llu", &ma, &mi, op, &v);
                        if (n != 4) {
                                op[0] = '\0';
                                if (sscanf(line, "%u:%u %llu", &ma, &mi, &v) != 3)
                                        continue;       /* "Total N" */
                        }
                        cJSON *e = cJSON_CreateObject();
                        cJSON_AddNumberToObject(e, "major", ma);
                        cJSON_AddNumberToObject(e, "minor", mi);
                        cJSON_AddStringToObject(e, "op", op);
                        cJSON_AddItemToObject(e, "value", num(v));
                        cJSON_AddItemToArray(arr, e);
                }
                cJSON_AddItemToObject(blk, keys[i][0], arr);
        }
}

static void add_blkio_v2(cJSON *blk, const char *dir)
{
        static const char *const others[] = { "io_serviced_recursive", "io_queue_recursive",
                                              "io_service_time_recursive", "io_wait_time_recursive",
                                              "io_merged_recursive", "io_time_recursive", "sectors_recursive" };
        _cleanup_free_ char *t = slurp(dir, "io.stat");
        cJSON *arr = cJSON_CreateArray();
        char *save = NULL;

        for (char *line = t ? strtok_r(t, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
                unsigned ma, mi;
                uint64_t rb = 0, wb = 0;
                if (sscanf(line, "%u:%u", &ma, &mi) != 2)
                        continue;
                for (char *f = strchr(line, ' '); f; f = strchr(f + 1, ' ')) {
                        if (!strncmp(f + 1, "rbytes=", 7))
                                rb = strtoull(f + 8, NULL, 10);
                        else if (!strncmp(f + 1, "wbytes=", 7))
                                wb = strtoull(f + 8, NULL, 10);
                }
                for (int k = 0; k < 2; k++) {
                        cJSON *e = cJSON_CreateObject();
                        cJSON_AddNumberToObject(e, "major", ma);
                        cJSON_AddNumberToObject(e, "minor", mi);
                        cJSON_AddStringToObject(e, "op", k ? "write" : "read");
                        cJSON_AddItemToObject(e, "value", num(k ? wb : rb));
                        cJSON_AddItemToArray(arr, e);
                }
        }
        cJSON_AddItemToObject(blk, "io_service_bytes_recursive", arr);
        for (size_t i = 0; i < ARRAY_SIZE(others); i++)
                cJSON_AddNullToObject(blk, others[i]);
}

/* Sum of user..softirq of the "cpu" line of /proc/stat, in nanoseconds
 * (what dockerd reports as system_cpu_usage). */
static uint64_t system_cpu_ns(const struct stats_roots *rt)
{
        _cleanup_free_ char *t = slurp(rt->proc, "stat");
        unsigned long long f[7] = { 0 };
        long hz = sysconf(_SC_CLK_TCK);
        uint64_t sum = 0;

        if (!t || strncmp(t, "cpu ", 4) ||
            sscanf(t + 4, "%llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6]) != 7)
                return 0;
        for (int i = 0; i < 7; i++)
                sum += f[i];
        return hz > 0 ? sum * (1000000000ULL / (uint64_t)hz) : 0;
}

static cJSON *cpu_stats(const struct stats_roots *rt, const struct cg_paths *p)
{
        cJSON *cs = cJSON_CreateObject(), *u = cJSON_AddObjectToObject(cs, "cpu_usage"), *th;
        uint64_t total = 0, user = 0, sys = 0, periods = 0, throttled = 0, ttime = 0;
        long hz = sysconf(_SC_CLK_TCK);
        cJSON *percpu = NULL;

        if (p->v2) {
                _cleanup_free_ char *st = slurp(p->unified, "cpu.stat");
                if (st) {
                        (void)kv_get(st, "usage_usec", &total);
                        (void)kv_get(st, "user_usec", &user);
                        (void)kv_get(st, "system_usec", &sys);
                        (void)kv_get(st, "nr_periods", &periods);
                        (void)kv_get(st, "nr_throttled", &throttled);
                        (void)kv_get(st, "throttled_usec", &ttime);
                        total *= 1000;
                        user *= 1000;
                        sys *= 1000;
                        ttime *= 1000;
                }
        } else {
                _cleanup_free_ char *pc = slurp(p->cpuacct, "cpuacct.usage_percpu");
                _cleanup_free_ char *st = slurp(p->cpuacct, "cpuacct.stat");
                _cleanup_free_ char *cst = slurp(p->cpu, "cpu.stat");
                (void)read_u64(p->cpuacct, "cpuacct.usage", &total);
                if (pc) {
                        char *s = pc, *end;
                        percpu = cJSON_CreateArray();
                        for (;;) {
                                unsigned long long v = strtoull(s, &end, 10);
                                if (end == s)
                                        break;
                                cJSON_AddItemToArray(percpu, num(v));
                                s = end;
                        }
                }
                if (st && hz > 0) {
                        (void)kv_get(st, "user", &user);
                        (void)kv_get(st, "system", &sys);
                        user *= 1000000000ULL / (uint64_t)hz;
                        sys *= 1000000000ULL / (uint64_t)hz;
                }
                if (cst) {
                        (void)kv_get(cst, "nr_periods", &periods);
                        (void)kv_get(cst, "nr_throttled", &throttled);
                        (void)kv_get(cst, "throttled_time", &ttime);
                }
        }
        cJSON_AddItemToObject(u, "total_usage", num(total));
        if (percpu)
                cJSON_AddItemToObject(u, "percpu_usage", percpu);
        cJSON_AddItemToObject(u, "usage_in_kernelmode", num(sys));
        cJSON_AddItemToObject(u, "usage_in_usermode", num(user));
        cJSON_AddItemToObject(cs, "system_cpu_usage", num(system_cpu_ns(rt)));
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        cJSON_AddNumberToObject(cs, "online_cpus", ncpu > 0 ? (double)ncpu : 1);
        th = cJSON_AddObjectToObject(cs, "throttling_data");
        cJSON_AddItemToObject(th, "periods", num(periods));
        cJSON_AddItemToObject(th, "throttled_periods", num(throttled));
        cJSON_AddItemToObject(th, "throttled_time", num(ttime));
        return cs;
}

static cJSON *memory_stats(const struct cg_paths *p, int64_t mem_total)
{
        const char *dir = p->v2 ? p->unified : p->memory;
        _cleanup_free_ char *st = slurp(dir, "memory.stat");
        cJSON *ms = cJSON_CreateObject(), *stats = NULL;
        uint64_t usage = 0, max_usage = 0, failcnt = 0, limit = 0;
        bool has_limit;

        if (p->v2) {
                (void)read_u64(dir, "memory.current", &usage);
                (void)read_u64(dir, "memory.peak", &max_usage);
                has_limit = read_u64(dir, "memory.max", &limit);        /* "max": none */
        } else {
                (void)read_u64(dir, "memory.usage_in_bytes", &usage);
                (void)read_u64(dir, "memory.max_usage_in_bytes", &max_usage);
                (void)read_u64(dir, "memory.failcnt", &failcnt);
                has_limit = read_u64(dir, "memory.limit_in_bytes", &limit);
        }
        /* no limit (or v1's huge "unlimited" value): the host's memory */
        if (mem_total > 0 && (!has_limit || limit > (uint64_t)mem_total))
                limit = (uint64_t)mem_total;
        if (usage)
                cJSON_AddItemToObject(ms, "usage", num(usage));
        if (max_usage)
                cJSON_AddItemToObject(ms, "max_usage", num(max_usage));
        char *save = NULL;
        for (char *line = st ? strtok_r(st, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
                char *sp = strchr(line, ' ');
                if (!sp)
                        continue;
                *sp = '\0';
                if (!stats)
                        stats = cJSON_AddObjectToObject(ms, "stats");
                cJSON_AddItemToObject(stats, line, num(strtoull(sp + 1, NULL, 10)));
        }
        if (failcnt)
                cJSON_AddItemToObject(ms, "failcnt", num(failcnt));
        if (limit)
                cJSON_AddItemToObject(ms, "limit", num(limit));
        return ms;
}

/* Every interface of the process's network namespace but lo. */
static cJSON *net_stats(const struct stats_roots *rt, int pid)
{
        char file[PATH_MAX];
        _cleanup_free_ char *t = NULL;
        cJSON *nets = NULL;
        char *save = NULL;
        size_t len;

        snprintf(file, sizeof(file), "%s/%d/net/dev", rt->proc, pid);
        if (berth_read_file(file, 1 << 20, &t, &len, NULL) < 0)
                return NULL;
        for (char *line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *colon = strchr(line, ':'), *name = line;
                unsigned long long f[16];
                if (!colon)
                        continue;
                *colon = '\0';
                while (*name == ' ')
                        name++;
                if (!strcmp(name, "lo") || !*name)
                        continue;
                if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
                           &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9], &f[10], &f[11],
                           &f[12], &f[13], &f[14], &f[15]) != 16)
                        continue;
                if (!nets)
                        nets = cJSON_CreateObject();
                cJSON *n = cJSON_AddObjectToObject(nets, name);
                cJSON_AddItemToObject(n, "rx_bytes", num(f[0]));
                cJSON_AddItemToObject(n, "rx_packets", num(f[1]));
                cJSON_AddItemToObject(n, "rx_errors", num(f[2]));
                cJSON_AddItemToObject(n, "rx_dropped", num(f[3]));
                cJSON_AddItemToObject(n, "tx_bytes", num(f[8]));
                cJSON_AddItemToObject(n, "tx_packets", num(f[9]));
                cJSON_AddItemToObject(n, "tx_errors", num(f[10]));
                cJSON_AddItemToObject(n, "tx_dropped", num(f[11]));
        }
        return nets;
}

static int stats_sample_at(const struct stats_roots *rt, int pid, bool host_net, int64_t mem_total, cJSON **ret,
                           struct berth_err *err)
{
        struct cg_paths p;
        char when[48];
        uint64_t cur = 0, max = 0;
        int r;

        if (pid <= 0)
                return berth_err_set(err, ESRCH, "the container has no process");
        r = cg_paths_find(rt, pid, &p, err);
        if (r < 0)
                return r;
        cJSON *s = cJSON_CreateObject();
        time_nano(berth_now_ns(), when, sizeof(when));
        cJSON_AddStringToObject(s, "read", when);
        cJSON *pids = cJSON_AddObjectToObject(s, "pids_stats");
        const char *pdir = p.v2 ? p.unified : p.pids;
        if (read_u64(pdir, "pids.current", &cur) && cur)
                cJSON_AddItemToObject(pids, "current", num(cur));
        if (read_u64(pdir, "pids.max", &max) && max)
                cJSON_AddItemToObject(pids, "limit", num(max));
        cJSON *blk = cJSON_AddObjectToObject(s, "blkio_stats");
        if (p.v2)
                add_blkio_v2(blk, p.unified);
        else
                add_blkio_v1(blk, p.blkio);
        cJSON_AddNumberToObject(s, "num_procs", 0);
        cJSON_AddObjectToObject(s, "storage_stats");
        cJSON_AddItemToObject(s, "cpu_stats", cpu_stats(rt, &p));
        cJSON_AddItemToObject(s, "memory_stats", memory_stats(&p, mem_total));
        cJSON *nets = host_net ? NULL : net_stats(rt, pid);
        if (nets)
                cJSON_AddItemToObject(s, "networks", nets);
        cg_paths_release(&p);
        /* the process may have gone while we read: its files vanish with it */
        char procdir[PATH_MAX];
        snprintf(procdir, sizeof(procdir), "%s/%d", rt->proc, pid);
        if (access(procdir, F_OK) < 0) {
                cJSON_Delete(s);
                return berth_err_set(err, ESRCH, "the container's process is gone");
        }
        *ret = s;
        return 0;
}

int berth_stats_sample(int pid, bool host_net, int64_t mem_total, cJSON **ret, struct berth_err *err)
{
        static const struct stats_roots host = { "/proc", CG_ROOT };

        return stats_sample_at(&host, pid, host_net, mem_total, ret, err);
}

static cJSON *zero_cpu(void)
{
        cJSON *cs = cJSON_CreateObject(), *u = cJSON_AddObjectToObject(cs, "cpu_usage"), *th;

        cJSON_AddNumberToObject(u, "total_usage", 0);
        cJSON_AddNumberToObject(u, "usage_in_kernelmode", 0);
        cJSON_AddNumberToObject(u, "usage_in_usermode", 0);
        th = cJSON_AddObjectToObject(cs, "throttling_data");
        cJSON_AddNumberToObject(th, "periods", 0);
        cJSON_AddNumberToObject(th, "throttled_periods", 0);
        cJSON_AddNumberToObject(th, "throttled_time", 0);
        return cs;
}

static void move_item(cJSON *to, cJSON *from, const char *key, cJSON *(*dflt)(void))
{
        cJSON *v = from ? cJSON_DetachItemFromObjectCaseSensitive(from, key) : NULL;

        if (!v && dflt)
                v = dflt();
        if (v)
                cJSON_AddItemToObject(to, key, v);
}

static cJSON *empty_blkio(void)
{
        static const char *const keys[] = { "io_service_bytes_recursive", "io_serviced_recursive",
                                            "io_queue_recursive", "io_service_time_recursive",
                                            "io_wait_time_recursive", "io_merged_recursive",
                                            "io_time_recursive", "sectors_recursive" };
        cJSON *b = cJSON_CreateObject();

        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                cJSON_AddNullToObject(b, keys[i]);
        return b;
}

static cJSON *zero_time(void)
{
        return cJSON_CreateString(ZERO_TIME);
}

static cJSON *zero_num(void)
{
        return cJSON_CreateNumber(0);
}

cJSON *berth_stats_finish(const struct berth_container *c, cJSON *cur, const cJSON *prev)
{
        cJSON *o = cJSON_CreateObject();
        const char *pre = prev ? berth_json_str(prev, "read") : NULL;
        const cJSON *pcpu = prev ? cJSON_GetObjectItemCaseSensitive(prev, "cpu_stats") : NULL;

        move_item(o, cur, "read", zero_time);
        cJSON_AddStringToObject(o, "preread", pre ? pre : ZERO_TIME);
        move_item(o, cur, "pids_stats", cJSON_CreateObject);
        move_item(o, cur, "blkio_stats", empty_blkio);
        move_item(o, cur, "num_procs", zero_num);
        move_item(o, cur, "storage_stats", cJSON_CreateObject);
        move_item(o, cur, "cpu_stats", zero_cpu);
        cJSON_AddItemToObject(o, "precpu_stats", pcpu ? cJSON_Duplicate(pcpu, true) : zero_cpu());
        move_item(o, cur, "memory_stats", cJSON_CreateObject);
        cJSON_AddStringToObject(o, "name", c->name);
        cJSON_AddStringToObject(o, "id", c->id);
        move_item(o, cur, "networks", NULL);
        cJSON_Delete(cur);
        return o;
}

/* ---- update ---- */

struct update {
        struct berth_daemon *d;
        struct berth_container *c;
        cJSON *hc;              /* the new HostConfig, installed on success */
        berth_done_cb cb;
        void *data;
        char *argv_store[40];
        size_t n_store;
};

static int64_t hc_num(const cJSON *o, const char *key)
{
        const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

        return berth_json_int64(v, 0);
}

static const char *hc_s(const cJSON *o, const char *key)
{
        const char *s = berth_json_str(o, key);

        return s ? s : "";
}

static void hc_set_num(cJSON *hc, const char *key, int64_t v)
{
        cJSON *it = cJSON_GetObjectItemCaseSensitive(hc, key);

        if (cJSON_IsNumber(it))
                cJSON_SetNumberValue(it, (double)v);
        else if (it)
                cJSON_ReplaceItemInObjectCaseSensitive(hc, key, cJSON_CreateNumber((double)v));
        else
                cJSON_AddNumberToObject(hc, key, (double)v);
}

static void hc_set_str(cJSON *hc, const char *key, const char *v)
{
        if (cJSON_GetObjectItemCaseSensitive(hc, key))
                cJSON_ReplaceItemInObjectCaseSensitive(hc, key, cJSON_CreateString(v));
        else
                cJSON_AddStringToObject(hc, key, v);
}

static const char *const num_keys[] = { "Memory", "MemorySwap", "MemoryReservation", "CpuShares", "CpuQuota",
                                        "CpuPeriod", "NanoCpus", "BlkioWeight", "KernelMemory",
                                        "CpuRealtimePeriod", "CpuRealtimeRuntime" };

/* Is every number of the list "0-2,5" in the list have?  A malformed
 * want passes (spec_validate words that error). */
static bool cpuset_within(const char *want, const char *have)
{
        const char *p = want;

        while (*p) {
                char *end;
                unsigned long a = strtoul(p, &end, 10), b = a;
                if (end == p)
                        return true;
                p = end;
                if (*p == '-') {
                        b = strtoul(p + 1, &end, 10);
                        if (end == p + 1)
                                return true;
                        p = end;
                }
                for (unsigned long x = a; x <= b && x < a + 4096; x++) {
                        bool found = false;
                        for (const char *q = have; *q && !found;) {
                                char *e2;
                                unsigned long c = strtoul(q, &e2, 10), d = c;
                                if (e2 == q)
                                        break;
                                q = e2;
                                if (*q == '-') {
                                        d = strtoul(q + 1, &e2, 10);
                                        q = e2;
                                }
                                found = x >= c && x <= d;
                                if (*q == ',')
                                        q++;
                        }
                        if (!found)
                                return false;
                }
                if (*p == ',')
                        p++;
                else if (*p)
                        return true;
        }
        return true;
}

int berth_update_merge(const char *id, cJSON *hc, const cJSON *body, struct berth_err *err)
{
        int64_t v[ARRAY_SIZE(num_keys)];
        const cJSON *it;

        if (!cJSON_IsObject(body))
                return berth_err_pub(err, EINVAL, "json: the update body must be an object");
        for (size_t i = 0; i < ARRAY_SIZE(num_keys); i++) {
                it = cJSON_GetObjectItemCaseSensitive(body, num_keys[i]);
                if (it && !cJSON_IsNull(it) && !cJSON_IsNumber(it))
                        return berth_err_pub(err, EINVAL,
                                             "json: cannot unmarshal into Go struct field UpdateConfig.%s of type int64",
                                             num_keys[i]);
                v[i] = berth_json_int64(it, 0);
        }
        static const char *const str_keys[] = { "CpusetCpus", "CpusetMems" };
        for (size_t i = 0; i < ARRAY_SIZE(str_keys); i++) {
                it = cJSON_GetObjectItemCaseSensitive(body, str_keys[i]);
                if (it && !cJSON_IsNull(it) && !cJSON_IsString(it))
                        return berth_err_pub(err, EINVAL,
                                             "json: cannot unmarshal into Go struct field UpdateConfig.%s of type string",
                                             str_keys[i]);
        }
        const cJSON *pl = cJSON_GetObjectItemCaseSensitive(body, "PidsLimit");
        if (pl && !cJSON_IsNull(pl) && !cJSON_IsNumber(pl))
                return berth_err_pub(err, EINVAL,
                                     "json: cannot unmarshal into Go struct field UpdateConfig.PidsLimit of type int64");
        const cJSON *rp = cJSON_GetObjectItemCaseSensitive(body, "RestartPolicy");
        if (rp && !cJSON_IsNull(rp) && !cJSON_IsObject(rp))
                return berth_err_pub(err, EINVAL, "json: RestartPolicy must be an object");

        int64_t mem = v[0], swap = v[1], nano = v[6], quota = v[4], period = v[5];
        /* Docker's rules (a NanoCpus limit excludes a period/quota one) */
        if (nano > 0 && hc_num(hc, "CpuPeriod") > 0)
                return berth_err_pub(err, EBUSY, "Cannot update container %s: Conflicting options: Nano CPUs cannot "
                                     "be updated as CPU Period has already been set", id);
        if (nano > 0 && hc_num(hc, "CpuQuota") > 0)
                return berth_err_pub(err, EBUSY, "Cannot update container %s: Conflicting options: Nano CPUs cannot "
                                     "be updated as CPU Quota has already been set", id);
        if (period > 0 && hc_num(hc, "NanoCpus") > 0)
                return berth_err_pub(err, EBUSY, "Cannot update container %s: Conflicting options: CPU Period cannot "
                                     "be updated as NanoCPUs has already been set", id);
        if (quota > 0 && hc_num(hc, "NanoCpus") > 0)
                return berth_err_pub(err, EBUSY, "Cannot update container %s: Conflicting options: CPU Quota cannot "
                                     "be updated as NanoCPUs has already been set", id);
        if (mem != 0) {
                /* what dockerd stored at create: twice the memory as memory+swap */
                int64_t cur_swap = hc_num(hc, "MemorySwap");
                if (cur_swap == 0 && hc_num(hc, "Memory") > 0) {
                        cur_swap = 2 * hc_num(hc, "Memory");
                        hc_set_num(hc, "MemorySwap", cur_swap);
                }
                if (cur_swap > 0 && mem > cur_swap && swap == 0)
                        return berth_err_pub(err, EBUSY, "Cannot update container %s: Memory limit should be smaller "
                                             "than already set memoryswap limit, update the memoryswap at the same "
                                             "time", id);
        }
        for (size_t i = 0; i < ARRAY_SIZE(num_keys); i++)
                if (v[i] != 0)
                        hc_set_num(hc, num_keys[i], v[i]);
        for (size_t i = 0; i < ARRAY_SIZE(str_keys); i++) {
                const char *s = berth_json_str(body, str_keys[i]);
                if (s && *s)
                        hc_set_str(hc, str_keys[i], s);
        }
        if (cJSON_IsNumber(pl)) {
                if (pl->valuedouble > 0)
                        hc_set_num(hc, "PidsLimit", berth_json_int64(pl, 0));
                else if (cJSON_GetObjectItemCaseSensitive(hc, "PidsLimit"))
                        cJSON_ReplaceItemInObjectCaseSensitive(hc, "PidsLimit", cJSON_CreateNull());
                else
                        cJSON_AddNullToObject(hc, "PidsLimit");
        }
        const char *policy = cJSON_IsObject(rp) ? berth_json_str(rp, "Name") : NULL;
        if (policy && *policy) {
                const cJSON *max = cJSON_GetObjectItemCaseSensitive(rp, "MaximumRetryCount");
                int64_t n = berth_json_int64(max, 0);
                if (strcmp(policy, "no") && strcmp(policy, "always") && strcmp(policy, "on-failure") &&
                    strcmp(policy, "unless-stopped"))
                        return berth_err_pub(err, EINVAL, "invalid restart policy: unknown policy '%s'; use one of "
                                             "'no', 'always', 'on-failure', or 'unless-stopped'", policy);
                if (n < 0)
                        return berth_err_pub(err, EINVAL, "invalid restart policy: maximum retry count cannot be "
                                             "negative");
                if (n > 0 && strcmp(policy, "on-failure"))
                        return berth_err_pub(err, EINVAL, "invalid restart policy: maximum retry count can only be "
                                             "used with 'on-failure'");
                if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(hc, "AutoRemove")) && strcmp(policy, "no"))
                        return berth_err_pub(err, EBUSY, "Cannot update container %s: Restart policy cannot be "
                                             "updated because AutoRemove is enabled for the container", id);
                cJSON *np = cJSON_CreateObject();
                cJSON_AddStringToObject(np, "Name", policy);
                cJSON_AddNumberToObject(np, "MaximumRetryCount", (double)n);
                if (cJSON_GetObjectItemCaseSensitive(hc, "RestartPolicy"))
                        cJSON_ReplaceItemInObjectCaseSensitive(hc, "RestartPolicy", np);
                else
                        cJSON_AddItemToObject(hc, "RestartPolicy", np);
        }

        /* dockerd checks the cpuset against the host's CPUs and nodes */
        static const char *const sets[][3] = { { "CpusetCpus", "/sys/devices/system/cpu/online", "CPUs" },
                                               { "CpusetMems", "/sys/devices/system/node/online", "Mems" } };
        for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
                const char *want = berth_json_str(body, sets[i][0]);
                _cleanup_free_ char *have = NULL;
                size_t len;
                if (!want || !*want || berth_read_file(sets[i][1], 4096, &have, &len, NULL) < 0)
                        continue;
                have[strcspn(have, "\n")] = '\0';
                if (!cpuset_within(want, have))
                        return berth_err_pub(err, EINVAL, "Requested %s are not available - requested %s, "
                                             "available: %s", sets[i][2], want, have);
        }

        /* the merged resources must pass the create-time checks */
        static const char *const res_keys[] = { "Memory", "MemorySwap", "MemoryReservation", "CpuShares",
                                                "CpuQuota", "CpuPeriod", "NanoCpus", "BlkioWeight",
                                                "CpusetCpus", "CpusetMems", "PidsLimit" };
        _cleanup_json_ cJSON *chk = cJSON_CreateObject(), *cfg = cJSON_CreateObject();
        cJSON_AddItemToArray(cJSON_AddArrayToObject(cfg, "Cmd"), cJSON_CreateString("true"));
        for (size_t i = 0; i < ARRAY_SIZE(res_keys); i++) {
                it = cJSON_GetObjectItemCaseSensitive(hc, res_keys[i]);
                if (it)
                        cJSON_AddItemToObject(chk, res_keys[i], cJSON_Duplicate(it, true));
        }
        cJSON_AddStringToObject(chk, "NetworkMode", "none");
        return spec_validate(cfg, chk, NULL, err);
}

static void upd_free(struct update *u)
{
        for (size_t i = 0; i < u->n_store; i++)
                free(u->argv_store[i]);
        cJSON_Delete(u->hc);
        berth_container_unref(u->c);
        free(u);
}

/* A start being prepared on the pool reads c->host_config there: the
 * HostConfig an update replaces stays allocated for a while (loop only). */
struct retired {
        struct retired *next;
        cJSON *j;
        int64_t at_ns;
};
static struct retired *retired_list;

static void retire(cJSON *j)
{
        int64_t now = berth_now_ns();
        struct retired **pp = &retired_list, *r;

        while ((r = *pp)) {
                if (now - r->at_ns > 60LL * 1000000000) {
                        *pp = r->next;
                        cJSON_Delete(r->j);
                        free(r);
                } else {
                        pp = &r->next;
                }
        }
        if (!j)
                return;
        r = xcalloc(1, sizeof(*r));
        r->j = j;
        r->at_ns = now;
        r->next = retired_list;
        retired_list = r;
}

static void upd_install(struct update *u)
{
        struct berth_container *c = u->c;
        cJSON *attrs = cJSON_CreateObject();
        const char *image = c->config ? berth_json_str(c->config, "Image") : NULL;
        const cJSON *labels = c->config ? cJSON_GetObjectItemCaseSensitive(c->config, "Labels") : NULL, *l;

        retire(c->host_config);
        c->host_config = TAKE_PTR(u->hc);
        berth_container_save(u->d, c);
        cJSON_ArrayForEach(l, labels) if (cJSON_IsString(l))
                cJSON_AddStringToObject(attrs, l->string, l->valuestring);
        if (image)
                cJSON_AddStringToObject(attrs, "image", image);
        cJSON_AddStringToObject(attrs, "name", c->name + 1);
        berth_events_publish(u->d->events, "container", "update", c->id, attrs);
}

static void upd_ran(int status, const char *output, void *data)
{
        struct update *u = data;
        struct berth_err err = BERTH_ERR_INIT;
        int rc = 0;

        if (status != 0) {
                size_t n = strlen(output);
                while (n && (output[n - 1] == '\n' || output[n - 1] == ' '))
                        n--;
                if (n == 0) {
                        output = "the runtime's update failed";
                        n = strlen(output);
                }
                rc = berth_err_set(&err, EIO, "Cannot update container %s: %.*s", u->c->id, (int)n, output);
        } else {
                upd_install(u);
        }
        u->cb(rc, rc < 0 ? &err : NULL, u->data);
        upd_free(u);
}

static void upd_arg(struct update *u, const char **argv, size_t *n, const char *flag, char *val)
{
        if (*n + 3 >= 42 || u->n_store >= ARRAY_SIZE(u->argv_store)) {
                free(val);
                return;
        }
        argv[(*n)++] = flag;
        argv[(*n)++] = val;
        u->argv_store[u->n_store++] = val;
}

/* Deferred answer for a stopped container (never call back synchronously). */
struct upd_defer {
        uv_idle_t idle;
        struct update *u;
};

static void upd_defer_closed(uv_handle_t *h)
{
        free(h->data);
}

static void upd_idle(uv_idle_t *h)
{
        struct upd_defer *df = h->data;
        struct update *u = df->u;

        uv_idle_stop(h);
        uv_close((uv_handle_t *)h, upd_defer_closed);
        upd_install(u);
        u->cb(0, NULL, u->data);
        upd_free(u);
}

int berth_container_update(struct berth_daemon *d, struct berth_container *c, const cJSON *body, berth_done_cb cb,
                           void *data, struct berth_err *err)
{
        struct update *u;
        cJSON *hc;
        int r;

        if (c->state == CTR_REMOVING || c->state == CTR_DEAD)
                return berth_err_pub(err, EBUSY, "Cannot update container %s: container is marked for removal and "
                                     "cannot be \"update\"", c->id);
        hc = c->host_config ? cJSON_Duplicate(c->host_config, true) : cJSON_CreateObject();
        r = berth_update_merge(c->id, hc, body, err);
        if (r < 0) {
                cJSON_Delete(hc);
                return r;
        }
        u = xcalloc(1, sizeof(*u));
        u->d = d;
        u->c = berth_container_ref(c);
        u->hc = hc;
        u->cb = cb;
        u->data = data;

        /* a stopped container takes the new values at its next start */
        if ((c->state != CTR_RUNNING && c->state != CTR_PAUSED) || c->pid <= 0) {
                struct upd_defer *df = xcalloc(1, sizeof(*df));
                df->u = u;
                uv_idle_init(d->loop, &df->idle);
                df->idle.data = df;
                uv_idle_start(&df->idle, upd_idle);
                return 0;
        }

        const char *rt, *argv[44];
        _cleanup_free_ char *root = NULL;
        size_t n = 0;
        if (berth_container_runtime_argv(d, c, &rt, &root) < 0) {
                upd_free(u);
                return berth_err_set(err, ENOENT, "the container's runtime is not available");
        }
        /* the runtime's error goes to its stderr: fold it into the output */
        argv[n++] = "/bin/sh";
        argv[n++] = "-c";
        argv[n++] = "exec \"$0\" \"$@\" 2>&1";
        argv[n++] = rt;
        argv[n++] = "--root";
        argv[n++] = root;
        argv[n++] = "update";
        int64_t mem = hc_num(hc, "Memory"), swap = hc_num(hc, "MemorySwap"), resv = hc_num(hc, "MemoryReservation");
        int64_t shares = hc_num(hc, "CpuShares"), quota = hc_num(hc, "CpuQuota"), period = hc_num(hc, "CpuPeriod");
        int64_t nano = hc_num(hc, "NanoCpus"), weight = hc_num(hc, "BlkioWeight");
        const cJSON *pl = cJSON_GetObjectItemCaseSensitive(hc, "PidsLimit");
        if (mem > 0) {
                upd_arg(u, argv, &n, "--memory", xasprintf("%" PRId64, mem));
                /* v1 without swap accounting has no memsw file to write */
                if (swap != 0 && (d->sys.cgroup_version == 2 ||
                                  access(CG_ROOT "/memory/memory.memsw.limit_in_bytes", F_OK) == 0))
                        upd_arg(u, argv, &n, "--memory-swap", xasprintf("%" PRId64, swap));
        }
        if (resv > 0)
                upd_arg(u, argv, &n, "--memory-reservation", xasprintf("%" PRId64, resv));
        if (shares > 0)
                upd_arg(u, argv, &n, "--cpu-shares", xasprintf("%" PRId64, shares < 2 ? 2 : shares > 262144 ? 262144 : shares));
        if (nano > 0) {
                period = 100000;
                quota = nano * period / 1000000000LL;
                if (quota < 1000)
                        quota = 1000;
        }
        if (period > 0)
                upd_arg(u, argv, &n, "--cpu-period", xasprintf("%" PRId64, period));
        if (quota != 0)
                upd_arg(u, argv, &n, "--cpu-quota", xasprintf("%" PRId64, quota));
        if (*hc_s(hc, "CpusetCpus"))
                upd_arg(u, argv, &n, "--cpuset-cpus", xstrdup(hc_s(hc, "CpusetCpus")));
        if (*hc_s(hc, "CpusetMems"))
                upd_arg(u, argv, &n, "--cpuset-mems", xstrdup(hc_s(hc, "CpusetMems")));
        if (cJSON_GetObjectItemCaseSensitive(body, "PidsLimit"))
                upd_arg(u, argv, &n, "--pids-limit",
                        xasprintf("%" PRId64, cJSON_IsNumber(pl) && pl->valuedouble > 0 ? berth_json_int64(pl, -1) : -1));
        if (weight > 0)
                upd_arg(u, argv, &n, "--blkio-weight", xasprintf("%" PRId64, weight));
        argv[n++] = c->id;
        argv[n] = NULL;
        r = berth_run_command(d, argv, upd_ran, u, err);
        if (r < 0)
                upd_free(u);
        return r;
}

/* ---- resize ---- */

int berth_container_resize(struct berth_daemon *d, struct berth_container *c, unsigned h, unsigned w,
                           struct berth_err *err)
{
        const char *dir = berth_container_monitor_dir(c);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        unsigned char frame[MON_FRAME_HDR + 4] = { MON_FRAME_RESIZE, 0, 0, 0, 0, 0, 0, 4 };
        _cleanup_close_ int fd = -1;

        (void)d;
        if (c->state != CTR_RUNNING && c->state != CTR_PAUSED)
                return berth_err_pub(err, EBUSY, "Container %s is not running", c->id);
        if (h > 65535 || w > 65535)
                return berth_err_pub(err, EINVAL, "invalid resize: h and w must be numbers from 0 to 65535");
        if (!dir || snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, MON_FILE_SOCK) >= (int)sizeof(sa.sun_path))
                return berth_err_pub(err, EBUSY, "Container %s is not running", c->id);
        frame[MON_FRAME_HDR + 0] = (unsigned char)(h >> 8);
        frame[MON_FRAME_HDR + 1] = (unsigned char)h;
        frame[MON_FRAME_HDR + 2] = (unsigned char)(w >> 8);
        frame[MON_FRAME_HDR + 3] = (unsigned char)w;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return berth_err_set(err, errno, "resize: socket: %s", strerror(errno));
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return berth_err_set(err, errno, "resize: cannot reach the container's monitor: %s", strerror(errno));
        if (send(fd, frame, sizeof(frame), MSG_NOSIGNAL) != (ssize_t)sizeof(frame))
                return berth_err_set(err, errno ? errno : EIO, "resize: %s", strerror(errno ? errno : EIO));
        return 0;
}
