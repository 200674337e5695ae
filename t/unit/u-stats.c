/* SPDX-License-Identifier: Apache-2.0
 * t/unit/u-stats.c -- daemon/stats.c: a stats sample read from fake procfs
 * and cgroup v1 and v2 trees (the v2 path runs here whatever the host has),
 * the finished object's shape, Docker's update rules. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/stats.c"
#include "t/unit/tap.h"

static char dir[] = "/tmp/u-stats.XXXXXX";

static void put(const char *rel, const char *text)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);
        char *slash = strrchr(p, '/');
        FILE *f;

        *slash = '\0';
        (void)berth_mkdir_p(p, 0755);
        *slash = '/';
        f = fopen(p, "we");
        if (!f)
                return;
        fputs(text, f);
        fclose(f);
}

static double jnum(const cJSON *o, const char *path)
{
        _cleanup_free_ char *copy = xstrdup(path);
        char *save = NULL;

        for (char *k = strtok_r(copy, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
                o = cJSON_GetObjectItemCaseSensitive(o, k);
        if (cJSON_IsRaw(o))
                return strtod(o->valuestring, NULL);
        return cJSON_IsNumber(o) ? o->valuedouble : -1;
}

static const cJSON *jget(const cJSON *o, const char *path)
{
        _cleanup_free_ char *copy = xstrdup(path);
        char *save = NULL;

        for (char *k = strtok_r(copy, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
                o = cJSON_GetObjectItemCaseSensitive(o, k);
        return o;
}

static const char net_dev[] =
        "Inter-|   Receive                                                |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls "
        "carrier compressed\n"
        "    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0 "
        "      0          0\n"
        "  eth0:    1166      13    1    2    0     0          0         0      516       6    3    4    0     0 "
        "      0          0\n";

static void test_v2(void)
{
        struct stats_roots rt;
        cJSON *s = NULL;
        int r;

        _cleanup_free_ char *proc = xasprintf("%s/v2/proc", dir);
        _cleanup_free_ char *cg = xasprintf("%s/v2/cg", dir);
        rt.proc = proc;
        rt.cgroup = cg;
        put("v2/proc/42/cgroup", "0::/berth/abc\n");
        put("v2/proc/42/net/dev", net_dev);
        put("v2/proc/stat", "cpu  100 0 50 1000 0 0 0 7 0 0\ncpu0 50 0 25 500 0 0 0 0 0 0\n");
        put("v2/cg/berth/abc/cpu.stat", "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 10\n"
                                        "nr_throttled 3\nthrottled_usec 40\n");
        put("v2/cg/berth/abc/memory.current", "1048576\n");
        put("v2/cg/berth/abc/memory.max", "max\n");
        put("v2/cg/berth/abc/memory.stat", "anon 4096\nfile 8192\ninactive_file 4096\n");
        put("v2/cg/berth/abc/pids.current", "3\n");
        put("v2/cg/berth/abc/pids.max", "max\n");
        put("v2/cg/berth/abc/io.stat", "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n");

        r = stats_sample_at(&rt, 42, false, 1LL << 30, &s, NULL);
        is_int(r, 0, "v2: sample");
        if (r < 0)
                return;
        is_int((long long)jnum(s, "cpu_stats.cpu_usage.total_usage"), 2500000, "v2: total_usage in ns");
        is_int((long long)jnum(s, "cpu_stats.cpu_usage.usage_in_usermode"), 2000000, "v2: user ns");
        is_int((long long)jnum(s, "cpu_stats.cpu_usage.usage_in_kernelmode"), 500000, "v2: kernel ns");
        ok(!jget(s, "cpu_stats.cpu_usage.percpu_usage"), "v2: no percpu_usage");
        is_int((long long)jnum(s, "cpu_stats.throttling_data.throttled_periods"), 3, "v2: throttled periods");
        is_int((long long)jnum(s, "cpu_stats.throttling_data.throttled_time"), 40000, "v2: throttled ns");
        long hz = sysconf(_SC_CLK_TCK);
        is_int((long long)jnum(s, "cpu_stats.system_cpu_usage"), 1150LL * (1000000000LL / hz),
               "system_cpu_usage: user..softirq of /proc/stat");
        is_int((long long)jnum(s, "memory_stats.usage"), 1048576, "v2: memory.current");
        is_int((long long)jnum(s, "memory_stats.limit"), 1LL << 30, "v2: max reads as the host memory");
        is_int((long long)jnum(s, "memory_stats.stats.inactive_file"), 4096, "v2: memory.stat keys");
        is_int((long long)jnum(s, "pids_stats.current"), 3, "v2: pids.current");
        ok(!jget(s, "pids_stats.limit"), "v2: pids.max max: no limit");
        const cJSON *io = jget(s, "blkio_stats.io_service_bytes_recursive");
        is_int(cJSON_GetArraySize(io), 2, "v2: io.stat gives read and write");
        is_str(berth_json_str(cJSON_GetArrayItem(io, 1), "op"), "write", "v2: lowercase ops");
        is_int((long long)jnum(cJSON_GetArrayItem(io, 1), "value"), 8192, "v2: wbytes");
        ok(cJSON_IsNull(jget(s, "blkio_stats.io_serviced_recursive")), "v2: the other lists are null");
        ok(!jget(s, "networks.lo"), "networks: no lo");
        is_int((long long)jnum(s, "networks.eth0.rx_bytes"), 1166, "networks: rx_bytes");
        is_int((long long)jnum(s, "networks.eth0.rx_dropped"), 2, "networks: rx_dropped");
        is_int((long long)jnum(s, "networks.eth0.tx_errors"), 3, "networks: tx_errors");
        is_int((long long)jnum(s, "networks.eth0.tx_dropped"), 4, "networks: tx_dropped");
        cJSON_Delete(s);

        s = NULL;
        r = stats_sample_at(&rt, 42, true, 1LL << 30, &s, NULL);
        ok(r == 0 && !jget(s, "networks"), "host network: no networks");
        cJSON_Delete(s);
        s = NULL;
        r = stats_sample_at(&rt, 43, false, 1LL << 30, &s, NULL);
        ok(r < 0 && !s, "a gone process: error");
}

static void test_v1(void)
{
        struct stats_roots rt;
        cJSON *s = NULL;
        int r;

        _cleanup_free_ char *proc = xasprintf("%s/v1/proc", dir);
        _cleanup_free_ char *cg = xasprintf("%s/v1/cg", dir);
        rt.proc = proc;
        rt.cgroup = cg;
        put("v1/proc/7/cgroup", "12:pids:/berth/x\n11:blkio:/berth/x\n4:cpu,cpuacct:/berth/x\n"
                                "3:memory:/berth/x\n1:name=systemd:/\n0::/\n");
        put("v1/proc/7/net/dev", net_dev);
        put("v1/proc/stat", "cpu  1 2 3 4 5 6 7 8 0 0\n");
        put("v1/cg/cpu,cpuacct/berth/x/cpuacct.usage", "3000\n");
        put("v1/cg/cpu,cpuacct/berth/x/cpuacct.usage_percpu", "1000 2000 \n");
        put("v1/cg/cpu,cpuacct/berth/x/cpuacct.stat", "user 2\nsystem 1\n");
        put("v1/cg/cpu,cpuacct/berth/x/cpu.stat", "nr_periods 5\nnr_throttled 1\nthrottled_time 999\n");
        put("v1/cg/memory/berth/x/memory.usage_in_bytes", "2097152\n");
        put("v1/cg/memory/berth/x/memory.max_usage_in_bytes", "4194304\n");
        put("v1/cg/memory/berth/x/memory.limit_in_bytes", "9223372036854771712\n");
        put("v1/cg/memory/berth/x/memory.failcnt", "0\n");
        put("v1/cg/memory/berth/x/memory.stat", "cache 0\nrss 4096\nhierarchical_memory_limit "
                                                "9223372036854771712\ntotal_inactive_file 1024\n");
        put("v1/cg/pids/berth/x/pids.current", "2\n");
        put("v1/cg/pids/berth/x/pids.max", "50\n");
        put("v1/cg/blkio/berth/x/blkio.io_serviced_recursive", "Total 0\n");
        put("v1/cg/blkio/berth/x/blkio.throttle.io_service_bytes_recursive",
            "8:0 Read 4096\n8:0 Write 512\n8:0 Sync 0\n8:0 Async 4608\n8:0 Discard 0\n8:0 Total 4608\nTotal 4608\n");

        r = stats_sample_at(&rt, 7, false, 1LL << 30, &s, NULL);
        is_int(r, 0, "v1: sample");
        if (r < 0)
                return;
        long hz = sysconf(_SC_CLK_TCK);
        is_int((long long)jnum(s, "cpu_stats.cpu_usage.total_usage"), 3000, "v1: cpuacct.usage");
        is_int(cJSON_GetArraySize(jget(s, "cpu_stats.cpu_usage.percpu_usage")), 2, "v1: percpu_usage");
        is_int((long long)jnum(s, "cpu_stats.cpu_usage.usage_in_usermode"), 2 * (1000000000LL / hz), "v1: user ticks");
        is_int((long long)jnum(s, "cpu_stats.cpu_usage.usage_in_kernelmode"), 1 * (1000000000LL / hz),
               "v1: system ticks");
        is_int((long long)jnum(s, "cpu_stats.throttling_data.throttled_time"), 999, "v1: throttled_time");
        is_int((long long)jnum(s, "cpu_stats.system_cpu_usage"), 28 * (1000000000LL / hz), "v1: system usage");
        is_int((long long)jnum(s, "memory_stats.usage"), 2097152, "v1: usage_in_bytes");
        is_int((long long)jnum(s, "memory_stats.max_usage"), 4194304, "v1: max_usage");
        ok(!jget(s, "memory_stats.failcnt"), "v1: failcnt 0 left out");
        is_int((long long)jnum(s, "memory_stats.limit"), 1LL << 30, "v1: the huge limit reads as the host memory");
        char *text = cJSON_PrintUnformatted(s);
        ok(strstr(text, "\"hierarchical_memory_limit\":9223372036854771712"), "v1: a uint64 past 2^53 stays exact");
        free(text);
        is_int((long long)jnum(s, "pids_stats.limit"), 50, "v1: pids.max");
        const cJSON *io = jget(s, "blkio_stats.io_service_bytes_recursive");
        is_int(cJSON_GetArraySize(io), 6, "v1: throttle entries without the bare Total");
        is_str(berth_json_str(cJSON_GetArrayItem(io, 0), "op"), "Read", "v1: ops as the kernel names them");
        ok(cJSON_IsArray(jget(s, "blkio_stats.sectors_recursive")), "v1: empty lists are []");

        /* finish: the field order and precpu from the previous sample */
        _cleanup_json_ cJSON *prev = cJSON_Duplicate(s, true);
        struct berth_container c = { .name = (char *)"/web" };
        strcpy(c.id, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        cJSON *o = berth_stats_finish(&c, s, prev);
        static const char *const order[] = { "read", "preread", "pids_stats", "blkio_stats", "num_procs",
                                             "storage_stats", "cpu_stats", "precpu_stats", "memory_stats",
                                             "name", "id", "networks" };
        size_t i = 0;
        bool in_order = true;
        for (const cJSON *e = o->child; e; e = e->next, i++)
                if (i >= ARRAY_SIZE(order) || strcmp(e->string, order[i]))
                        in_order = false;
        ok(in_order && i == ARRAY_SIZE(order), "finish: Docker's field order");
        is_str(berth_json_str(o, "preread"), berth_json_str(prev, "read"), "finish: preread is the previous read");
        is_int((long long)jnum(o, "precpu_stats.cpu_usage.total_usage"), 3000, "finish: precpu_stats");
        cJSON_Delete(o);

        o = berth_stats_finish(&c, NULL, NULL);
        is_str(berth_json_str(o, "read"), "0001-01-01T00:00:00Z", "stopped: zero read");
        is_int((long long)jnum(o, "cpu_stats.cpu_usage.total_usage"), 0, "stopped: zero cpu");
        ok(cJSON_IsNull(jget(o, "blkio_stats.io_service_bytes_recursive")), "stopped: null lists");
        ok(!jget(o, "networks"), "stopped: no networks");
        is_str(berth_json_str(o, "name"), "/web", "stopped: name");
        cJSON_Delete(o);
}

static void test_update_merge(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        cJSON *hc, *body = NULL;

#define PARSE(txt) (cJSON_Delete(body), body = NULL, (void)berth_json_parse(txt, strlen(txt), &body, NULL))
        static const char start[] = "{\"Memory\":67108864,\"MemorySwap\":0,\"RestartPolicy\":{\"Name\":\"no\"}}";
        (void)berth_json_parse(start, strlen(start), &hc, NULL);
        PARSE("{\"Memory\":134217728,\"RestartPolicy\":{\"Name\":\"always\",\"MaximumRetryCount\":0}}");
        is_int(berth_update_merge("id", hc, body, &err), 0, "merge: memory up to the default memory+swap");
        is_int((long long)jnum(hc, "Memory"), 134217728, "merge: Memory");
        is_int((long long)jnum(hc, "MemorySwap"), 134217728, "merge: MemorySwap as dockerd stored it");
        is_str(berth_json_str(jget(hc, "RestartPolicy"), "Name"), "always", "merge: restart policy");
        /* a failed merge leaves its copy half-changed: the caller drops it */
#define FAILS(txt, code, title)                                                        \
        do {                                                                           \
                cJSON *copy = cJSON_Duplicate(hc, true);                               \
                PARSE(txt);                                                            \
                is_int(berth_update_merge("id", copy, body, &err), code, title);       \
                cJSON_Delete(copy);                                                    \
        } while (0)
        FAILS("{\"Memory\":268435456}", -EBUSY, "merge: memory over memory+swap is a conflict");
        FAILS("{\"Memory\":1000}", -EINVAL, "merge: 6MB minimum");
        FAILS("{\"CpusetCpus\":\"0-1,x\"}", -EINVAL, "merge: bad cpuset");
        FAILS("{\"Memory\":\"lots\"}", -EINVAL, "merge: a string for a number");
        FAILS("{\"RestartPolicy\":{\"Name\":\"on-failure\",\"MaximumRetryCount\":-1}}", -EINVAL,
              "merge: negative retry count");
        PARSE("{\"NanoCpus\":500000000}");
        is_int(berth_update_merge("id", hc, body, &err), 0, "merge: NanoCpus");
        FAILS("{\"CpuQuota\":20000}", -EBUSY, "merge: quota after NanoCpus");
        PARSE("{\"PidsLimit\":-1}");
        is_int(berth_update_merge("id", hc, body, &err), 0, "merge: PidsLimit -1");
        ok(cJSON_IsNull(jget(hc, "PidsLimit")), "merge: no pids limit is null");
        cJSON_AddTrueToObject(hc, "AutoRemove");
        FAILS("{\"RestartPolicy\":{\"Name\":\"always\"}}", -EBUSY, "merge: restart policy with AutoRemove");
        ok(cpuset_within("0-1,3", "0-3") && !cpuset_within("4", "0-3") && cpuset_within("0", "0"),
           "cpuset_within");
        cJSON_Delete(body);
        cJSON_Delete(hc);
}

int main(void)
{
        berth_json_init();
        if (!mkdtemp(dir)) {
                printf("1..0 # SKIP no temp dir\n");
                return 0;
        }
        test_v2();
        test_v1();
        test_update_merge();
        (void)berth_remove_tree(dir);
        return tap_done();
}
