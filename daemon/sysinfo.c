/* SPDX-License-Identifier: Apache-2.0
 * daemon/sysinfo.c -- facts about the host for /info and /version, read once
 * at startup (they do not change), plus cheap per-process figures. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#include "daemon/daemon.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static bool exists(const char *p)
{
        return access(p, F_OK) == 0;
}

bool berth_sysctl_on(const char *path)
{
        char v[8] = { 0 };
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0 || read(fd, v, sizeof(v) - 1) <= 0)
                return false;
        return v[0] == '1';
}

static void os_release(struct berth_sysinfo *si)
{
        char *text = NULL;
        size_t len;

        snprintf(si->os_name, sizeof(si->os_name), "Linux");
        if (berth_read_file("/etc/os-release", 65536, &text, &len, NULL) < 0 &&
            berth_read_file("/usr/lib/os-release", 65536, &text, &len, NULL) < 0)
                return;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
                char *dst = NULL;
                size_t cap = 0;
                if (berth_str_has_prefix(line, "PRETTY_NAME="))
                        dst = si->os_name, cap = sizeof(si->os_name), line += 12;
                else if (berth_str_has_prefix(line, "VERSION_ID="))
                        dst = si->os_version, cap = sizeof(si->os_version), line += 11;
                if (!dst)
                        continue;
                size_t n = strlen(line);
                if (n >= 2 && (line[0] == '"' || line[0] == '\'') && line[n - 1] == line[0]) {
                        line++;
                        n -= 2;
                }
                if (n >= cap)
                        n = cap - 1;
                memcpy(dst, line, n);
                dst[n] = '\0';
        }
        free(text);
}

static const char *fs_name(long type)
{
        switch ((unsigned long)type) {
        case 0xEF53: return "extfs";
        case 0x58465342: return "xfs";
        case 0x9123683E: return "btrfs";
        case 0x01021994: return "tmpfs";
        case 0x794c7630: return "overlayfs";
        case 0x2FC12FC1: return "zfs";
        case 0x6969: return "nfs";
        case 0xF2F52010: return "f2fs";
        default: return "<unknown>";
        }
}

void berth_sysinfo_gather(struct berth_sysinfo *si, const char *data_root)
{
        struct utsname u;
        struct sysinfo s;
        struct statfs sf;

        memset(si, 0, sizeof(*si));
        if (uname(&u) == 0) {
                snprintf(si->kernel, sizeof(si->kernel), "%s", u.release);
                snprintf(si->arch_uname, sizeof(si->arch_uname), "%s", u.machine);
                snprintf(si->hostname, sizeof(si->hostname), "%s", u.nodename);
        }
        /* the Engine API names architectures as Go does */
        const char *go = si->arch_uname;
        if (!strcmp(go, "x86_64"))
                go = "amd64";
        else if (!strcmp(go, "aarch64"))
                go = "arm64";
        else if (!strcmp(go, "i686") || !strcmp(go, "i386"))
                go = "386";
        else if (berth_str_has_prefix(go, "armv"))
                go = "arm";
        snprintf(si->arch_go, sizeof(si->arch_go), "%s", go);
        si->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        if (sysinfo(&s) == 0)
                si->mem_total = (int64_t)s.totalram * s.mem_unit;
        os_release(si);
        si->cgroup_version = (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) ? 2 : 1;
        if (si->cgroup_version == 2) {
                char *ctrl = NULL;
                size_t len;
                if (berth_read_file("/sys/fs/cgroup/cgroup.controllers", 4096, &ctrl, &len, NULL) == 0) {
                        si->memory_limit = strstr(ctrl, "memory") != NULL;
                        si->swap_limit = si->memory_limit && exists("/sys/fs/cgroup/init.scope/memory.swap.max");
                        si->cpu_cfs_period = si->cpu_cfs_quota = si->cpu_shares = strstr(ctrl, "cpu") != NULL;
                        si->cpuset = strstr(ctrl, "cpuset") != NULL;
                        si->pids_limit = strstr(ctrl, "pids") != NULL;
                        free(ctrl);
                }
        } else {
                si->memory_limit = exists("/sys/fs/cgroup/memory/memory.limit_in_bytes");
                si->swap_limit = exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes");
                si->kernel_memory_tcp = exists("/sys/fs/cgroup/memory/memory.kmem.tcp.limit_in_bytes");
                si->oom_kill_disable = exists("/sys/fs/cgroup/memory/memory.oom_control");
                si->cpu_cfs_period = exists("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
                si->cpu_cfs_quota = exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
                si->cpu_shares = exists("/sys/fs/cgroup/cpu/cpu.shares");
                si->cpuset = exists("/sys/fs/cgroup/cpuset/cpuset.cpus");
                si->pids_limit = exists("/sys/fs/cgroup/pids");
        }
        snprintf(si->backing_fs, sizeof(si->backing_fs), "%s",
                 statfs(data_root, &sf) == 0 ? fs_name(sf.f_type) : "<unknown>");
}

int berth_count_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *e;
        int n = 0;

        if (!d)
                return -errno;
        while ((e = readdir(d)))
                if (e->d_name[0] != '.')
                        n++;
        closedir(d);
        return n - 1;   /* the directory's own fd */
}

static int64_t status_field(const char *key)
{
        char buf[4096], *p;
        _cleanup_close_ int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -1;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return -1;
        buf[n] = '\0';
        p = strstr(buf, key);
        if (!p)
                return -1;
        return strtoll(p + strlen(key), NULL, 10);
}

int64_t berth_self_rss(void)
{
        int64_t kb = status_field("VmRSS:");

        return kb < 0 ? 0 : kb * 1024;
}

int berth_self_threads(void)
{
        int64_t t = status_field("Threads:");

        return t < 0 ? 1 : (int)t;
}
