/* SPDX-License-Identifier: Apache-2.0
 * api/system.c -- GET/HEAD /_ping, GET /version, GET /info. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "api/api-internal.h"

#ifndef BERTH_GIT_COMMIT
#define BERTH_GIT_COMMIT "unknown"
#endif
#ifndef BERTH_BUILD_TIME
#define BERTH_BUILD_TIME "unknown"
#endif

void api_h_ping(struct api_req *r)
{
        api_add_header(r, "Cache-Control", "no-cache, no-store, must-revalidate");
        api_add_header(r, "Pragma", "no-cache");
        api_add_header(r, "Swarm", "inactive");
        if (r->head)
                api_reply(r, 200, "text/plain; charset=utf-8", NULL, 0);
        else
                api_reply(r, 200, "text/plain; charset=utf-8", "OK", 2);
}

static void add_engine_details(cJSON *o, struct berth_daemon *d)
{
        cJSON_AddStringToObject(o, "ApiVersion", BERTH_API_VERSION);
        cJSON_AddStringToObject(o, "Arch", d->sys.arch_go);
        cJSON_AddStringToObject(o, "BuildTime", BERTH_BUILD_TIME);
        cJSON_AddStringToObject(o, "Experimental", d->cfg.experimental ? "true" : "false");
        cJSON_AddStringToObject(o, "GitCommit", BERTH_GIT_COMMIT);
        cJSON_AddStringToObject(o, "GoVersion", "C (" __VERSION__ ")");
        cJSON_AddStringToObject(o, "KernelVersion", d->sys.kernel);
        cJSON_AddStringToObject(o, "MinAPIVersion", BERTH_MIN_API_VERSION);
        cJSON_AddStringToObject(o, "Os", "linux");
}

void api_h_version(struct api_req *r)
{
        struct berth_daemon *d = r->d;
        cJSON *j = cJSON_CreateObject(), *comps, *c;

        cJSON_AddStringToObject(cJSON_AddObjectToObject(j, "Platform"), "Name", "berth " PACKAGE_VERSION);
        comps = cJSON_AddArrayToObject(j, "Components");
        /* "Engine" first: clients print it as the server and treat berth as a Docker engine */
        c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "Name", "Engine");
        cJSON_AddStringToObject(c, "Version", PACKAGE_VERSION);
        add_engine_details(cJSON_AddObjectToObject(c, "Details"), d);
        cJSON_AddItemToArray(comps, c);
        if (d->runtime_path) {
                c = cJSON_CreateObject();
                cJSON_AddStringToObject(c, "Name", "berth-runtime");
                cJSON_AddStringToObject(c, "Version", PACKAGE_VERSION);
                cJSON_AddStringToObject(cJSON_AddObjectToObject(c, "Details"), "GitCommit", BERTH_GIT_COMMIT);
                cJSON_AddItemToArray(comps, c);
        }
        cJSON_AddStringToObject(j, "Version", PACKAGE_VERSION);
        cJSON_AddStringToObject(j, "ApiVersion", BERTH_API_VERSION);
        cJSON_AddStringToObject(j, "MinAPIVersion", BERTH_MIN_API_VERSION);
        cJSON_AddStringToObject(j, "GitCommit", BERTH_GIT_COMMIT);
        cJSON_AddStringToObject(j, "GoVersion", "C (" __VERSION__ ")");
        cJSON_AddStringToObject(j, "Os", "linux");
        cJSON_AddStringToObject(j, "Arch", d->sys.arch_go);
        cJSON_AddStringToObject(j, "KernelVersion", d->sys.kernel);
        cJSON_AddStringToObject(j, "BuildTime", BERTH_BUILD_TIME);
        api_reply_json(r, 200, j);
}

static cJSON *strv_json(char **v, size_t n)
{
        cJSON *a = cJSON_CreateArray();

        for (size_t i = 0; i < n; i++)
                cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
        return a;
}

static cJSON *str_array(const char *const *v)
{
        cJSON *a = cJSON_CreateArray();

        for (; *v; v++)
                cJSON_AddItemToArray(a, cJSON_CreateString(*v));
        return a;
}

static void add_runtime(cJSON *rts, const char *name, const char *path, char **args)
{
        cJSON *o = cJSON_AddObjectToObject(rts, name);

        cJSON_AddStringToObject(o, "path", path);
        if (args) {
                cJSON *a = cJSON_AddArrayToObject(o, "runtimeArgs");
                for (char **p = args; *p; p++)
                        cJSON_AddItemToArray(a, cJSON_CreateString(*p));
        }
}

/* Figures read from /proc and /sys, refreshed at most once a second: a
 * client polling /info must not cost five file opens per call. */
struct volatile_facts {
        uint64_t at_ms;
        bool valid, ip_forward, nf_ip, nf_ip6;
        int nfd, threads;
};

static const struct volatile_facts *volatile_facts(struct berth_daemon *d)
{
        static struct volatile_facts f;
        uint64_t now = uv_now(d->loop);

        if (!f.valid || now - f.at_ms >= 1000) {
                f.ip_forward = berth_sysctl_on("/proc/sys/net/ipv4/ip_forward");
                f.nf_ip = berth_sysctl_on("/proc/sys/net/bridge/bridge-nf-call-iptables");
                f.nf_ip6 = berth_sysctl_on("/proc/sys/net/bridge/bridge-nf-call-ip6tables");
                f.nfd = berth_count_fds();
                f.threads = berth_self_threads();
                f.at_ms = now;
                f.valid = true;
        }
        return &f;
}

void api_h_info(struct api_req *r)
{
        struct berth_daemon *d = r->d;
        const struct berth_sysinfo *si = &d->sys;
        const struct berth_config *cfg = &d->cfg;
        cJSON *j = cJSON_CreateObject(), *o, *a;
        char now[64];
        static const char *const volume_plugins[] = { "local", NULL };
        static const char *const network_plugins[] = { "bridge", "host", "macvlan", "null", NULL };
        static const char *const log_plugins[] = { "json-file", NULL };

        cJSON_AddStringToObject(j, "ID", d->id);
        cJSON_AddNumberToObject(j, "Containers", d->n_containers);
        cJSON_AddNumberToObject(j, "ContainersRunning", d->n_running);
        cJSON_AddNumberToObject(j, "ContainersPaused", d->n_paused);
        cJSON_AddNumberToObject(j, "ContainersStopped", d->n_stopped);
        cJSON_AddNumberToObject(j, "Images", d->n_images);
        cJSON_AddStringToObject(j, "Driver", cfg->storage_driver);
        a = cJSON_AddArrayToObject(j, "DriverStatus");
        const char *ds[][2] = { { "Backing Filesystem", si->backing_fs },
                                { "Supports d_type", "true" },
                                { "Using metacopy", "false" },
                                { "Native Overlay Diff", "true" },
                                { "userxattr", "false" } };
        for (size_t i = 0; i < ARRAY_SIZE(ds); i++)
                cJSON_AddItemToArray(a, cJSON_CreateStringArray(ds[i], 2));
        o = cJSON_AddObjectToObject(j, "Plugins");
        cJSON_AddItemToObject(o, "Volume", str_array(volume_plugins));
        cJSON_AddItemToObject(o, "Network", str_array(network_plugins));
        cJSON_AddNullToObject(o, "Authorization");
        cJSON_AddItemToObject(o, "Log", str_array(log_plugins));
        cJSON_AddBoolToObject(j, "MemoryLimit", si->memory_limit);
        cJSON_AddBoolToObject(j, "SwapLimit", si->swap_limit);
        cJSON_AddBoolToObject(j, "KernelMemoryTCP", si->kernel_memory_tcp);
        cJSON_AddBoolToObject(j, "CpuCfsPeriod", si->cpu_cfs_period);
        cJSON_AddBoolToObject(j, "CpuCfsQuota", si->cpu_cfs_quota);
        cJSON_AddBoolToObject(j, "CPUShares", si->cpu_shares);
        cJSON_AddBoolToObject(j, "CPUSet", si->cpuset);
        cJSON_AddBoolToObject(j, "PidsLimit", si->pids_limit);
        const struct volatile_facts *vf = volatile_facts(d);
        cJSON_AddBoolToObject(j, "IPv4Forwarding", vf->ip_forward);
        cJSON_AddBoolToObject(j, "BridgeNfIptables", vf->nf_ip);
        cJSON_AddBoolToObject(j, "BridgeNfIp6tables", vf->nf_ip6);
        cJSON_AddBoolToObject(j, "Debug", cfg->debug);
        cJSON_AddNumberToObject(j, "NFd", vf->nfd);
        cJSON_AddBoolToObject(j, "OomKillDisable", si->oom_kill_disable);
        cJSON_AddNumberToObject(j, "NGoroutines", vf->threads);
        int64_t t = berth_now_ns();
        berth_time_rfc3339(t / 1000000000, (long)(t % 1000000000), now, sizeof(now));
        cJSON_AddStringToObject(j, "SystemTime", now);
        cJSON_AddStringToObject(j, "LoggingDriver", cfg->log_driver);
        cJSON_AddStringToObject(j, "CgroupDriver", "cgroupfs");
        cJSON_AddStringToObject(j, "CgroupVersion", si->cgroup_version == 2 ? "2" : "1");
        cJSON_AddNumberToObject(j, "NEventsListener", (double)berth_events_listeners(d->events));
        cJSON_AddStringToObject(j, "KernelVersion", si->kernel);
        cJSON_AddStringToObject(j, "OperatingSystem", si->os_name);
        cJSON_AddStringToObject(j, "OSVersion", si->os_version);
        cJSON_AddStringToObject(j, "OSType", "linux");
        cJSON_AddStringToObject(j, "Architecture", si->arch_uname);
        cJSON_AddStringToObject(j, "IndexServerAddress", "https://index.docker.io/v1/");
        o = cJSON_AddObjectToObject(j, "RegistryConfig");
        cJSON_AddItemToObject(o, "AllowNondistributableArtifactsCIDRs", cJSON_CreateArray());
        cJSON_AddItemToObject(o, "AllowNondistributableArtifactsHostnames", cJSON_CreateArray());
        a = strv_json(cfg->insecure_registries, cfg->n_insecure_registries);
        cJSON_AddItemToArray(a, cJSON_CreateString("127.0.0.0/8"));
        cJSON_AddItemToObject(o, "InsecureRegistryCIDRs", a);
        cJSON *idx = cJSON_AddObjectToObject(cJSON_AddObjectToObject(o, "IndexConfigs"), "docker.io");
        cJSON_AddStringToObject(idx, "Name", "docker.io");
        cJSON_AddItemToObject(idx, "Mirrors", strv_json(cfg->registry_mirrors, cfg->n_registry_mirrors));
        cJSON_AddBoolToObject(idx, "Secure", true);
        cJSON_AddBoolToObject(idx, "Official", true);
        cJSON_AddItemToObject(o, "Mirrors", strv_json(cfg->registry_mirrors, cfg->n_registry_mirrors));
        cJSON_AddNumberToObject(j, "NCPU", (double)si->ncpu);
        cJSON_AddNumberToObject(j, "MemTotal", (double)si->mem_total);
        cJSON_AddNullToObject(j, "GenericResources");
        cJSON_AddStringToObject(j, "DockerRootDir", cfg->data_root);
        cJSON_AddStringToObject(j, "HttpProxy", getenv("HTTP_PROXY") ? getenv("HTTP_PROXY") : "");
        cJSON_AddStringToObject(j, "HttpsProxy", getenv("HTTPS_PROXY") ? getenv("HTTPS_PROXY") : "");
        cJSON_AddStringToObject(j, "NoProxy", getenv("NO_PROXY") ? getenv("NO_PROXY") : "");
        cJSON_AddStringToObject(j, "Name", si->hostname);
        cJSON_AddItemToObject(j, "Labels", strv_json(cfg->labels, cfg->n_labels));
        cJSON_AddBoolToObject(j, "ExperimentalBuild", cfg->experimental);
        cJSON_AddStringToObject(j, "ServerVersion", PACKAGE_VERSION);
        o = cJSON_AddObjectToObject(j, "Runtimes");
        if (d->runtime_path)
                add_runtime(o, "berth", d->runtime_path, NULL);
        for (size_t i = 0; i < cfg->n_runtimes; i++)
                add_runtime(o, cfg->runtimes[i].name, cfg->runtimes[i].path, cfg->runtimes[i].args);
        if (!cJSON_GetObjectItemCaseSensitive(o, "runc") && d->runc_path)
                add_runtime(o, "runc", d->runc_path, NULL);
        cJSON_AddStringToObject(j, "DefaultRuntime", cfg->default_runtime);
        o = cJSON_AddObjectToObject(j, "Swarm");
        cJSON_AddStringToObject(o, "NodeID", "");
        cJSON_AddStringToObject(o, "NodeAddr", "");
        cJSON_AddStringToObject(o, "LocalNodeState", "inactive");
        cJSON_AddBoolToObject(o, "ControlAvailable", false);
        cJSON_AddStringToObject(o, "Error", "");
        cJSON_AddNullToObject(o, "RemoteManagers");
        cJSON_AddBoolToObject(j, "LiveRestoreEnabled", cfg->live_restore);
        cJSON_AddStringToObject(j, "Isolation", "");
        cJSON_AddStringToObject(j, "InitBinary", "");
        o = cJSON_AddObjectToObject(j, "ContainerdCommit");
        cJSON_AddStringToObject(o, "ID", "");
        cJSON_AddStringToObject(o, "Expected", "");
        o = cJSON_AddObjectToObject(j, "RuncCommit");
        cJSON_AddStringToObject(o, "ID", BERTH_GIT_COMMIT);
        cJSON_AddStringToObject(o, "Expected", BERTH_GIT_COMMIT);
        o = cJSON_AddObjectToObject(j, "InitCommit");
        cJSON_AddStringToObject(o, "ID", "");
        cJSON_AddStringToObject(o, "Expected", "");
        a = cJSON_AddArrayToObject(j, "SecurityOptions");
        cJSON_AddItemToArray(a, cJSON_CreateString("name=seccomp,profile=builtin"));
        if (si->cgroup_version == 2)
                cJSON_AddItemToArray(a, cJSON_CreateString("name=cgroupns"));
        cJSON_AddItemToObject(j, "CDISpecDirs", cJSON_CreateArray());
        if (d->warnings && d->warnings[0]) {
                a = cJSON_AddArrayToObject(j, "Warnings");
                for (char **w = d->warnings; *w; w++)
                        cJSON_AddItemToArray(a, cJSON_CreateString(*w));
        } else {
                cJSON_AddNullToObject(j, "Warnings");
        }
        api_reply_json(r, 200, j);
}
