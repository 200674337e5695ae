/* SPDX-License-Identifier: Apache-2.0
 * t/unit/u-spec.c -- OCI spec generation: Docker's defaults and each mapping
 * of the create request.  With arguments it is also the generator the
 * t3200 scripts use:  u-spec gen BODY.json ROOTFS ID CGROUP_PARENT [DIR]
 * (DIR: where hostname/hosts/resolv.conf files are written and bound).
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/lib.h"
#include "runtime/spec.h"
#include "t/unit/tap.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* The body the docker CLI 28 sends for `docker run --rm busybox echo hello`. */
static const char run_body[] =
        "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdout\":true,"
        "\"AttachStderr\":true,\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,\"Env\":null,"
        "\"Cmd\":[\"echo\",\"hello\"],\"Image\":\"busybox\",\"Volumes\":{},\"WorkingDir\":\"\","
        "\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":{},\"HostConfig\":{\"Binds\":null,"
        "\"ContainerIDFile\":\"\",\"LogConfig\":{\"Type\":\"\",\"Config\":{}},\"NetworkMode\":\"default\","
        "\"PortBindings\":{},\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetryCount\":0},\"AutoRemove\":true,"
        "\"VolumeDriver\":\"\",\"VolumesFrom\":null,\"ConsoleSize\":[0,0],\"CapAdd\":null,\"CapDrop\":null,"
        "\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[],\"DnsSearch\":[],\"ExtraHosts\":null,"
        "\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgroup\":\"\",\"Links\":null,\"OomScoreAdj\":0,\"PidMode\":\"\","
        "\"Privileged\":false,\"PublishAllPorts\":false,\"ReadonlyRootfs\":false,\"SecurityOpt\":null,"
        "\"UTSMode\":\"\",\"UsernsMode\":\"\",\"ShmSize\":0,\"Isolation\":\"\",\"CpuShares\":0,\"Memory\":0,"
        "\"NanoCpus\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],"
        "\"BlkioDeviceReadBps\":[],\"BlkioDeviceWriteBps\":[],\"BlkioDeviceReadIOps\":[],"
        "\"BlkioDeviceWriteIOps\":[],\"CpuPeriod\":0,\"CpuQuota\":0,\"CpuRealtimePeriod\":0,"
        "\"CpuRealtimeRuntime\":0,\"CpusetCpus\":\"\",\"CpusetMems\":\"\",\"Devices\":[],"
        "\"DeviceCgroupRules\":null,\"DeviceRequests\":null,\"MemoryReservation\":0,\"MemorySwap\":0,"
        "\"MemorySwappiness\":-1,\"OomKillDisable\":false,\"PidsLimit\":0,\"Ulimits\":[],\"CpuCount\":0,"
        "\"CpuPercent\":0,\"IOMaximumIOps\":0,\"IOMaximumBandwidth\":0,\"MaskedPaths\":null,"
        "\"ReadonlyPaths\":null},\"NetworkingConfig\":{\"EndpointsConfig\":{\"default\":{}}}}";

static char rootfs[256];

static cJSON *parse(const char *s)
{
        cJSON *j = NULL;
        struct berth_err err = BERTH_ERR_INIT;

        if (berth_json_parse(s, strlen(s), &j, &err) < 0) {
                printf("# bad test JSON: %s\n", err.msg);
                abort();
        }
        return j;
}

/* The run body with HostConfig/Config fields overridden by a JSON patch:
 * {"HostConfig":{...}, ...top-level fields...}. */
static cJSON *body_with(const char *patch)
{
        cJSON *b = parse(run_body), *p = parse(patch), *e, *hc = cJSON_GetObjectItem(b, "HostConfig");

        cJSON_ArrayForEach(e, p) {
                if (!strcmp(e->string, "HostConfig")) {
                        cJSON *h;
                        cJSON_ArrayForEach(h, e) {
                                cJSON_DeleteItemFromObjectCaseSensitive(hc, h->string);
                                cJSON_AddItemToObject(hc, h->string, cJSON_Duplicate(h, 1));
                        }
                } else {
                        cJSON_DeleteItemFromObjectCaseSensitive(b, e->string);
                        cJSON_AddItemToObject(b, e->string, cJSON_Duplicate(e, 1));
                }
        }
        cJSON_Delete(p);
        return b;
}

static int gen(const char *patch, const cJSON *image, cJSON **ret, struct berth_err *err)
{
        _cleanup_json_ cJSON *b = body_with(patch ? patch : "{}");
        struct spec_input in = {
                .create_config = b, .image_config = image, .container_id = ID, .rootfs = rootfs,
                .hostname_path = "/tmp/h", .hosts_path = "/tmp/hosts", .resolv_conf_path = "/tmp/r",
                .cgroup_version = 1,
        };
        berth_err_clear(err);
        return spec_generate(&in, ret, err);
}

static cJSON *path(const cJSON *j, const char *p)
{
        char buf[256], *s, *tok, *save = NULL;

        snprintf(buf, sizeof(buf), "%s", p);
        s = buf;
        for (tok = strtok_r(s, ".", &save); tok && j; tok = strtok_r(NULL, ".", &save)) {
                if (cJSON_IsArray(j))
                        j = cJSON_GetArrayItem(j, atoi(tok));
                else
                        j = cJSON_GetObjectItemCaseSensitive(j, tok);
        }
        return (cJSON *)j;
}

static const char *pstr(const cJSON *j, const char *p)
{
        cJSON *v = path(j, p);
        return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double pnum(const cJSON *j, const char *p)
{
        cJSON *v = path(j, p);
        return cJSON_IsNumber(v) ? v->valuedouble : -12345;
}

static bool has_str(const cJSON *a, const char *s)
{
        const cJSON *e;
        cJSON_ArrayForEach(e, a)
                if (cJSON_IsString(e) && !strcmp(e->valuestring, s))
                        return true;
        return false;
}

static const cJSON *find_mount(const cJSON *spec, const char *dst)
{
        const cJSON *m;
        cJSON_ArrayForEach(m, path(spec, "mounts"))
                if (!strcmp(berth_json_str(m, "destination"), dst))
                        return m;
        return NULL;
}

/* Is syscall name allowed unconditionally (an ALLOW rule without args)? */
static bool sc_allowed(const cJSON *spec, const char *name)
{
        const cJSON *r;
        cJSON_ArrayForEach(r, path(spec, "linux.seccomp.syscalls"))
                if (!strcmp(berth_json_str(r, "action"), "SCMP_ACT_ALLOW") &&
                    !cJSON_GetObjectItem(r, "args") && has_str(cJSON_GetObjectItem(r, "names"), name))
                        return true;
        return false;
}

static const cJSON *sc_rule(const cJSON *spec, const char *name, const char *op)
{
        const cJSON *r;
        cJSON_ArrayForEach(r, path(spec, "linux.seccomp.syscalls"))
                if (has_str(cJSON_GetObjectItem(r, "names"), name) &&
                    (!op || (pstr(r, "args.0.op") && !strcmp(pstr(r, "args.0.op"), op))))
                        return r;
        return NULL;
}

static void write_file(const char *dir, const char *name, const char *text)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
        FILE *f = fopen(p, "we");
        if (!f)
                abort();
        fputs(text, f);
        fclose(f);
}

static void test_default_run(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        _cleanup_json_ cJSON *s = NULL;
        const cJSON *caps, *m;
        int n = 0;

        is_int(gen(NULL, NULL, &s, &err), 0, "docker run --rm busybox echo hello: spec generated (%s)", err.msg);
        if (!s)
                return;
        caps = path(s, "process.capabilities");
        is_int(cJSON_GetArraySize(path(caps, "effective")), 14, "14 effective capabilities");
        is_int(cJSON_GetArraySize(path(caps, "bounding")), 14, "14 bounding capabilities");
        is_int(cJSON_GetArraySize(path(caps, "permitted")), 14, "14 permitted capabilities");
        ok(has_str(path(caps, "effective"), "CAP_NET_BIND_SERVICE") &&
           has_str(path(caps, "effective"), "CAP_AUDIT_WRITE") &&
           !has_str(path(caps, "effective"), "CAP_SYS_ADMIN") &&
           !has_str(path(caps, "effective"), "CAP_NET_ADMIN"), "default caps are Docker's");
        ok(!path(caps, "inheritable"), "no inheritable capabilities");
        is_str(pstr(s, "process.args.0"), "echo", "args[0]");
        is_str(pstr(s, "process.args.1"), "hello", "args[1]");
        is_int(cJSON_GetArraySize(path(s, "process.args")), 2, "two args");
        is_str(pstr(s, "process.env.0"), SPEC_DEFAULT_PATH, "default PATH first");
        is_str(pstr(s, "process.env.1"), "HOSTNAME=0123456789ab", "HOSTNAME is the short id");
        is_str(pstr(s, "process.env.2"), "HOME=/root", "HOME from passwd");
        is_str(pstr(s, "process.cwd"), "/", "cwd /");
        ok(cJSON_IsFalse(path(s, "process.terminal")), "no terminal");
        is_int(pnum(s, "process.user.uid"), 0, "uid 0");
        is_int(pnum(s, "process.oomScoreAdj"), 0, "oomScoreAdj 0");
        ok(!path(s, "process.noNewPrivileges"), "no noNewPrivileges by default");
        ok(!path(s, "process.rlimits"), "no rlimits by default");
        is_str(pstr(s, "hostname"), "0123456789ab", "hostname is the short id");
        is_str(pstr(s, "root.path"), rootfs, "root.path");
        ok(!path(s, "root.readonly"), "rootfs writable");
        is_str(pstr(s, "linux.cgroupsPath"), "/berth/" ID, "cgroupsPath under /berth");
        is_str(pstr(s, "linux.seccomp.defaultAction"), "SCMP_ACT_ERRNO", "seccomp on, default ERRNO");
        is_int(pnum(s, "linux.seccomp.defaultErrnoRet"), 1, "default errno EPERM");
#ifdef __x86_64__
        ok(has_str(path(s, "linux.seccomp.architectures"), "SCMP_ARCH_X86_64") &&
           has_str(path(s, "linux.seccomp.architectures"), "SCMP_ARCH_X86") &&
           has_str(path(s, "linux.seccomp.architectures"), "SCMP_ARCH_X32"), "x86_64 + x86 + x32");
        ok(sc_allowed(s, "arch_prctl") && sc_allowed(s, "modify_ldt"), "amd64-only syscalls allowed");
#endif
        ok(sc_allowed(s, "read") && sc_allowed(s, "execve") && sc_allowed(s, "io_uring_setup"),
           "ordinary syscalls allowed");
        ok(!sc_allowed(s, "mount") && !sc_allowed(s, "unshare") && !sc_allowed(s, "setns") &&
           !sc_allowed(s, "bpf") && !sc_allowed(s, "reboot") && !sc_allowed(s, "kexec_load"),
           "mount/unshare/setns/bpf/reboot denied");
        ok(sc_allowed(s, "chroot"), "chroot allowed (CAP_SYS_CHROOT is default)");
        ok(sc_allowed(s, "ptrace"), "ptrace allowed on kernel >= 4.8");
        ok(!sc_allowed(s, "arm_fadvise64_64"), "no arm-only syscalls on this arch");
        ok(sc_rule(s, "clone", "SCMP_CMP_MASKED_EQ") &&
           pnum(sc_rule(s, "clone", "SCMP_CMP_MASKED_EQ"), "args.0.value") == 2114060288,
           "clone allowed without namespace flags");
        ok(sc_rule(s, "clone3", NULL) && pnum(sc_rule(s, "clone3", NULL), "errnoRet") == 38,
           "clone3 answers ENOSYS");
        ok(sc_rule(s, "socket", "SCMP_CMP_NE") && pnum(sc_rule(s, "socket", NULL), "args.0.value") == 40,
           "socket allowed except AF_VSOCK");
        ok(has_str(path(s, "linux.maskedPaths"), "/proc/kcore") &&
           has_str(path(s, "linux.maskedPaths"), "/sys/firmware") &&
           has_str(path(s, "linux.maskedPaths"), "/proc/keys"), "masked paths");
        ok(has_str(path(s, "linux.readonlyPaths"), "/proc/sys") &&
           has_str(path(s, "linux.readonlyPaths"), "/proc/sysrq-trigger"), "read-only paths");
        is_int(cJSON_GetArraySize(path(s, "linux.namespaces")), 5, "5 namespaces (cgroup v1: host cgroupns)");
        m = find_mount(s, "/dev/shm");
        ok(m && has_str(cJSON_GetObjectItem(m, "options"), "size=67108864"), "/dev/shm 64M tmpfs");
        m = find_mount(s, "/sys");
        ok(m && has_str(cJSON_GetObjectItem(m, "options"), "ro"), "/sys read-only");
        m = find_mount(s, "/sys/fs/cgroup");
        ok(m && has_str(cJSON_GetObjectItem(m, "options"), "ro"), "/sys/fs/cgroup read-only");
        ok(find_mount(s, "/proc") && find_mount(s, "/dev") && find_mount(s, "/dev/pts") &&
           find_mount(s, "/dev/mqueue"), "proc, dev, devpts, mqueue mounted");
        m = find_mount(s, "/etc/resolv.conf");
        ok(m && !strcmp(berth_json_str(m, "source"), "/tmp/r") &&
           has_str(cJSON_GetObjectItem(m, "options"), "rbind"), "resolv.conf bound");
        ok(find_mount(s, "/etc/hosts") && find_mount(s, "/etc/hostname"), "hosts and hostname bound");
        ok(cJSON_GetObjectItem(path(s, "linux.sysctl"), "net.ipv4.ping_group_range") &&
           cJSON_GetObjectItem(path(s, "linux.sysctl"), "net.ipv4.ip_unprivileged_port_start"),
           "ping and low-port sysctls in the private netns");
        cJSON_ArrayForEach(m, path(s, "linux.resources.devices"))
                n++;
        is_int(n, 8, "default device cgroup rules");
        ok(cJSON_IsFalse(path(s, "linux.resources.devices.0.allow")) &&
           !strcmp(pstr(s, "linux.resources.devices.0.access"), "rwm"), "deny all first");
        ok(!path(s, "linux.resources.memory") && !path(s, "linux.resources.cpu") &&
           !path(s, "linux.resources.pids"), "no resource limits by default");
}

static void test_seccomp_table(void)
{
        _cleanup_json_ cJSON *p = spec_seccomp_default_profile();
        const cJSON *r;
        int personality = 0, sysadmin = 0;
        bool read_ok = false, obha = false;

        is_str(pstr(p, "defaultAction"), "SCMP_ACT_ERRNO", "profile: default ERRNO");
        is_int(pnum(p, "defaultErrnoRet"), 1, "profile: EPERM");
        ok(cJSON_GetArraySize(path(p, "syscalls.0.names")) > 300, "profile: >300 allowed syscalls (%d)",
           cJSON_GetArraySize(path(p, "syscalls.0.names")));
        cJSON_ArrayForEach(r, path(p, "syscalls")) {
                const cJSON *names = cJSON_GetObjectItem(r, "names");
                if (has_str(names, "personality"))
                        personality++;
                if (has_str(names, "read") && !cJSON_GetObjectItem(r, "includes"))
                        read_ok = true;
                if (has_str(names, "open_by_handle_at") &&
                    has_str(path(r, "includes.caps"), "CAP_DAC_READ_SEARCH"))
                        obha = true;
                if (has_str(path(r, "includes.caps"), "CAP_SYS_ADMIN") && has_str(names, "mount") &&
                    has_str(names, "unshare") && has_str(names, "setns"))
                        sysadmin++;
        }
        is_int(personality, 5, "profile: 5 personality rules");
        ok(read_ok, "profile: read unconditional");
        ok(obha, "profile: open_by_handle_at needs CAP_DAC_READ_SEARCH");
        is_int(sysadmin, 1, "profile: mount/unshare/setns need CAP_SYS_ADMIN");
        ok(has_str(path(p, "archMap.0.subArchitectures"), "SCMP_ARCH_X32"), "profile: archMap");
}

static void test_caps(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        cJSON *s = NULL;

        is_int(gen("{\"HostConfig\":{\"CapAdd\":[\"SYS_ADMIN\",\"cap_net_admin\"],\"CapDrop\":[\"MKNOD\"]}}",
                   NULL, &s, &err), 0, "cap-add/cap-drop");
        ok(has_str(path(s, "process.capabilities.effective"), "CAP_SYS_ADMIN") &&
           has_str(path(s, "process.capabilities.effective"), "CAP_NET_ADMIN") &&
           !has_str(path(s, "process.capabilities.effective"), "CAP_MKNOD"), "caps added and dropped");
        ok(sc_allowed(s, "mount") && sc_allowed(s, "unshare") && sc_allowed(s, "clone"),
           "CAP_SYS_ADMIN opens mount/unshare/clone in seccomp");
        ok(!sc_rule(s, "clone3", NULL) || pnum(sc_rule(s, "clone3", NULL), "errnoRet") != 38,
           "clone3 ENOSYS rule excluded with CAP_SYS_ADMIN");
        cJSON_Delete(s);
        s = NULL;

        is_int(gen("{\"HostConfig\":{\"CapDrop\":[\"ALL\"],\"CapAdd\":[\"CAP_NET_RAW\"]}}", NULL, &s, &err), 0,
               "drop ALL add one");
        is_int(cJSON_GetArraySize(path(s, "process.capabilities.effective")), 1, "only one cap");
        ok(!sc_allowed(s, "chroot"), "chroot denied without CAP_SYS_CHROOT");
        cJSON_Delete(s);
        s = NULL;

        is_int(gen("{\"HostConfig\":{\"CapAdd\":[\"ALL\"],\"CapDrop\":[\"NET_ADMIN\"]}}", NULL, &s, &err), 0,
               "add ALL");
        ok(cJSON_GetArraySize(path(s, "process.capabilities.effective")) > 30 &&
           !has_str(path(s, "process.capabilities.effective"), "CAP_NET_ADMIN"), "ALL minus NET_ADMIN");
        cJSON_Delete(s);
        s = NULL;

        is_int(gen("{\"HostConfig\":{\"CapAdd\":[\"FOO\"]}}", NULL, &s, &err), -EINVAL, "unknown cap");
        is_str(err.msg, "unknown capability: \"CAP_FOO\"", "Docker's message");
        ok(err.public, "public error");

        is_int(gen("{\"User\":\"nobody\"}", NULL, &s, &err), 0, "non-root user");
        ok(!path(s, "process.capabilities.effective") &&
           cJSON_GetArraySize(path(s, "process.capabilities.bounding")) == 14,
           "non-root: bounding only");
        cJSON_Delete(s);
}

static void test_privileged_security(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        cJSON *s = NULL;
        const cJSON *m;

        is_int(gen("{\"HostConfig\":{\"Privileged\":true}}", NULL, &s, &err), 0, "privileged");
        ok(!path(s, "linux.seccomp"), "privileged: no seccomp");
        ok(!path(s, "linux.maskedPaths") && !path(s, "linux.readonlyPaths"), "privileged: no masked paths");
        m = find_mount(s, "/sys");
        ok(m && has_str(cJSON_GetObjectItem(m, "options"), "rw"), "privileged: /sys rw");
        is_str(pstr(s, "linux.resources.devices.0.type"), "a", "privileged: all devices allowed");
        ok(cJSON_GetArraySize(path(s, "linux.devices")) > 3, "privileged: host devices listed");
        ok(cJSON_GetArraySize(path(s, "process.capabilities.effective")) > 30, "privileged: all caps");
        cJSON_Delete(s);
        s = NULL;

        is_int(gen("{\"HostConfig\":{\"SecurityOpt\":[\"seccomp=unconfined\",\"no-new-privileges\"]}}",
                   NULL, &s, &err), 0, "seccomp=unconfined no-new-privileges");
        ok(!path(s, "linux.seccomp"), "unconfined: no seccomp");
        ok(cJSON_IsTrue(path(s, "process.noNewPrivileges")), "noNewPrivileges");
        cJSON_Delete(s);
        s = NULL;

        is_int(gen("{\"HostConfig\":{\"SecurityOpt\":[\"no-new-privileges=false\",\"systempaths=unconfined\"]}}",
                   NULL, &s, &err), 0, "no-new-privileges=false systempaths=unconfined");
        ok(!path(s, "process.noNewPrivileges") && !path(s, "linux.maskedPaths"), "both applied");
        cJSON_Delete(s);
        s = NULL;

        is_int(gen("{\"HostConfig\":{\"SecurityOpt\":[\"seccomp={\\\"defaultAction\\\":\\\"SCMP_ACT_ALLOW\\\","
                   "\\\"syscalls\\\":[{\\\"names\\\":[\\\"mkdir\\\"],\\\"action\\\":\\\"SCMP_ACT_ERRNO\\\"}]}\"]}}",
                   NULL, &s, &err), 0, "seccomp=FILE profile (%s)", err.msg);
        is_str(pstr(s, "linux.seccomp.defaultAction"), "SCMP_ACT_ALLOW", "custom profile default");
        is_str(pstr(s, "linux.seccomp.syscalls.0.names.0"), "mkdir", "custom profile rule");
        cJSON_Delete(s);
        s = NULL;

        is_int(gen("{\"HostConfig\":{\"SecurityOpt\":[\"seccomp={not json\"]}}", NULL, &s, &err), -EINVAL,
               "bad seccomp JSON");
        ok(berth_str_has_prefix(err.msg, "Decoding seccomp profile failed: ") && err.public, "message: %s", err.msg);
        is_int(gen("{\"HostConfig\":{\"SecurityOpt\":[\"bogus=1\"]}}", NULL, &s, &err), -EINVAL, "bad opt");
        is_str(err.msg, "invalid --security-opt 2: \"bogus=1\"", "Docker's message");
        is_int(gen("{\"HostConfig\":{\"SecurityOpt\":[\"bogus\"]}}", NULL, &s, &err), -EINVAL, "bad opt 1");
        is_str(err.msg, "invalid --security-opt 1: \"bogus\"", "Docker's message");

        is_int(gen("{\"HostConfig\":{\"ReadonlyRootfs\":true,\"MaskedPaths\":[\"/proc/cpuinfo\"]}}", NULL, &s, &err),
               0, "read-only rootfs, custom masked paths");
        ok(cJSON_IsTrue(path(s, "root.readonly")), "root.readonly");
        m = find_mount(s, "/etc/hosts");
        ok(m && has_str(cJSON_GetObjectItem(m, "options"), "ro"), "/etc/hosts ro with read-only rootfs");
        is_int(cJSON_GetArraySize(path(s, "linux.maskedPaths")), 1, "MaskedPaths override");
        cJSON_Delete(s);
}

static void test_resources(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        cJSON *s = NULL;

        is_int(gen("{\"HostConfig\":{\"Memory\":67108864,\"MemoryReservation\":33554432,\"NanoCpus\":1500000000,"
                   "\"CpuShares\":512,\"CpusetCpus\":\"0-1\",\"PidsLimit\":100,\"OomKillDisable\":true,"
                   "\"BlkioWeight\":300,\"MemorySwappiness\":10,\"OomScoreAdj\":500,"
                   "\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":512,\"Hard\":1024}]}}", NULL, &s, &err),
               0, "resources (%s)", err.msg);
        is_int(pnum(s, "linux.resources.memory.limit"), 67108864, "memory limit");
        is_int(pnum(s, "linux.resources.memory.reservation"), 33554432, "memory reservation");
        ok(pnum(s, "linux.resources.memory.swap") == 134217728 || !path(s, "linux.resources.memory.swap"),
           "swap twice memory (or no swap accounting)");
        is_int(pnum(s, "linux.resources.memory.swappiness"), 10, "swappiness");
        ok(cJSON_IsTrue(path(s, "linux.resources.memory.disableOOMKiller")), "oom killer disabled");
        is_int(pnum(s, "linux.resources.cpu.quota"), 150000, "--cpus 1.5: quota");
        is_int(pnum(s, "linux.resources.cpu.period"), 100000, "--cpus 1.5: period");
        is_int(pnum(s, "linux.resources.cpu.shares"), 512, "cpu shares");
        is_str(pstr(s, "linux.resources.cpu.cpus"), "0-1", "cpuset");
        is_int(pnum(s, "linux.resources.pids.limit"), 100, "pids limit");
        is_int(pnum(s, "linux.resources.blockIO.weight"), 300, "blkio weight");
        is_int(pnum(s, "process.oomScoreAdj"), 500, "oom score adj");
        is_str(pstr(s, "process.rlimits.0.type"), "RLIMIT_NOFILE", "ulimit type");
        is_int(pnum(s, "process.rlimits.0.soft"), 512, "ulimit soft");
        is_int(pnum(s, "process.rlimits.0.hard"), 1024, "ulimit hard");
        cJSON_Delete(s);
        s = NULL;

        static const struct {
                const char *patch, *msg;
        } bad[] = {
                { "{\"HostConfig\":{\"Memory\":1000}}", "Minimum memory limit allowed is 6MB" },
                { "{\"HostConfig\":{\"Memory\":67108864,\"MemorySwap\":1000000}}",
                  "Minimum memoryswap limit should be larger than memory limit, see usage" },
                { "{\"HostConfig\":{\"MemorySwap\":67108864}}",
                  "You should always set the Memory limit when using Memoryswap limit, see usage" },
                { "{\"HostConfig\":{\"NanoCpus\":1000000000,\"CpuPeriod\":50000}}",
                  "Conflicting options: Nano CPUs and CPU Period cannot both be set" },
                { "{\"HostConfig\":{\"NanoCpus\":1000000000,\"CpuQuota\":50000}}",
                  "Conflicting options: Nano CPUs and CPU Quota cannot both be set" },
                { "{\"HostConfig\":{\"CpuShares\":-5}}",
                  "invalid CPU shares (-5): value must be a positive integer" },
                { "{\"HostConfig\":{\"CpusetCpus\":\"0-x\"}}", "Invalid value 0-x for cpuset cpus" },
                { "{\"HostConfig\":{\"BlkioWeight\":5}}", "Range of blkio weight is from 10 to 1000" },
                { "{\"HostConfig\":{\"MemorySwappiness\":200}}",
                  "Invalid value: 200, valid memory swappiness range is 0-100" },
                { "{\"HostConfig\":{\"OomScoreAdj\":2000}}",
                  "Invalid value 2000, range for oom score adj is [-1000, 1000]" },
                { "{\"HostConfig\":{\"Ulimits\":[{\"Name\":\"bogus\",\"Soft\":1,\"Hard\":1}]}}",
                  "invalid ulimit type: bogus" },
                { "{\"HostConfig\":{\"ShmSize\":-1}}", "SHM size can not be less than 0" },
                { "{\"HostConfig\":{\"Sysctls\":{\"vm.swappiness\":\"1\"}}}", "sysctl 'vm.swappiness' is not allowed" },
                { "{\"HostConfig\":{\"NetworkMode\":\"host\",\"Sysctls\":{\"net.ipv4.ip_forward\":\"1\"}}}",
                  "sysctl 'net.ipv4.ip_forward' is not allowed in host network namespace" },
                { "{\"HostConfig\":{\"Binds\":[\"/tmp:/x:bogus\"]}}", "invalid mode: bogus" },
                { "{\"HostConfig\":{\"Binds\":[\"/tmp\"]}}", "invalid volume specification: '/tmp'" },
                { "{\"HostConfig\":{\"Devices\":[{\"PathOnHost\":\"/dev/null\",\"PathInContainer\":\"/dev/n\",\"CgroupPermissions\":\"rwx\"}]}}",
                  "invalid device mode: rwx" },
                { "{\"WorkingDir\":\"rel\"}",
                  "the working directory 'rel' is invalid, it needs to be an absolute path" },
                { "{\"User\":\"nosuchuser\"}", "unable to find user nosuchuser: no matching entries in passwd file" },
                { "{\"Cmd\":null}", "no command specified" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                s = NULL;
                is_int(gen(bad[i].patch, NULL, &s, &err), -EINVAL, "rejected: %s", bad[i].patch);
                is_str(err.msg, bad[i].msg, "message");
                ok(err.public, "public");
                cJSON_Delete(s);
        }
}

static int resolver(void *ctx, const char *name, char **ret, struct berth_err *err)
{
        (void)ctx;
        (void)err;
        *ret = xasprintf("/var/lib/berth/volumes/%s/_data", name);
        return 0;
}

static void test_mounts(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        _cleanup_json_ cJSON *b = body_with(
                "{\"HostConfig\":{\"Binds\":[\"/tmp:/data/sub:ro,rslave\",\"vol1:/data\"],"
                "\"Tmpfs\":{\"/run\":\"size=1m,exec\"},\"ShmSize\":1048576,"
                "\"Mounts\":[{\"Type\":\"tmpfs\",\"Target\":\"/scratch\",\"TmpfsOptions\":{\"SizeBytes\":2097152}},"
                "{\"Type\":\"bind\",\"Source\":\"/tmp\",\"Target\":\"/etc/hosts2\",\"ReadOnly\":true}]}}");
        struct spec_input in = { .create_config = b, .container_id = ID, .rootfs = rootfs,
                                 .resolve_volume = resolver, .cgroup_parent = "/mytest" };
        _cleanup_json_ cJSON *s = NULL;
        const cJSON *m, *o;
        int i = 0, i_data = -1, i_sub = -1;

        is_int(spec_generate(&in, &s, &err), 0, "binds/tmpfs/mounts (%s)", err.msg);
        m = find_mount(s, "/data/sub");
        o = m ? cJSON_GetObjectItem(m, "options") : NULL;
        ok(m && has_str(o, "rbind") && has_str(o, "ro") && has_str(o, "rslave") &&
           !strcmp(berth_json_str(m, "source"), "/tmp"), "bind ro rslave");
        m = find_mount(s, "/data");
        ok(m && !strcmp(berth_json_str(m, "source"), "/var/lib/berth/volumes/vol1/_data"), "named volume");
        cJSON_ArrayForEach(m, path(s, "mounts")) {
                if (!strcmp(berth_json_str(m, "destination"), "/data"))
                        i_data = i;
                if (!strcmp(berth_json_str(m, "destination"), "/data/sub"))
                        i_sub = i;
                i++;
        }
        ok(i_data >= 0 && i_sub > i_data, "parent mounted before child");
        m = find_mount(s, "/run");
        o = m ? cJSON_GetObjectItem(m, "options") : NULL;
        ok(m && has_str(o, "size=1m") && !has_str(o, "noexec") && has_str(o, "nosuid"), "--tmpfs /run:size=1m,exec");
        m = find_mount(s, "/scratch");
        ok(m && has_str(cJSON_GetObjectItem(m, "options"), "size=2097152"), "--mount type=tmpfs");
        m = find_mount(s, "/dev/shm");
        ok(m && has_str(cJSON_GetObjectItem(m, "options"), "size=1048576"), "--shm-size");
        is_str(pstr(s, "linux.rootfsPropagation"), "rslave", "rootfs propagation follows rslave bind");
        is_str(pstr(s, "linux.cgroupsPath"), "/mytest/" ID, "cgroup parent from input");
        ok(!find_mount(s, "/etc/hosts"), "no hosts mount without a hosts file");
}

static void test_namespaces(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        cJSON *s = NULL;
        const cJSON *n;
        bool net = false, uts = false;

        is_int(gen("{\"HostConfig\":{\"NetworkMode\":\"host\",\"UTSMode\":\"host\",\"PidMode\":\"host\",\"IpcMode\":\"host\"}}",
                   NULL, &s, &err), 0, "host namespaces");
        cJSON_ArrayForEach(n, path(s, "linux.namespaces")) {
                net |= !strcmp(berth_json_str(n, "type"), "network");
                uts |= !strcmp(berth_json_str(n, "type"), "uts");
        }
        ok(!net && !uts && cJSON_GetArraySize(path(s, "linux.namespaces")) == 1, "only a mount namespace");
        ok(!path(s, "hostname"), "no hostname with host UTS");
        ok(!path(s, "linux.sysctl"), "no netns sysctls with host network");
        is_str(pstr(s, "mounts.6.source"), "/dev/shm", "host IPC binds /dev/shm");
        cJSON_Delete(s);
        s = NULL;

        is_int(gen("{\"HostConfig\":{\"NetworkMode\":\"container:abc\"}}", NULL, &s, &err), -EINVAL,
               "container: network needs a path");
        is_int(gen("{\"HostConfig\":{\"CgroupnsMode\":\"private\",\"IpcMode\":\"none\"},\"Hostname\":\"web\","
                   "\"Tty\":true,\"Env\":[\"PATH=/bin\",\"A=1\"],\"WorkingDir\":\"/tmp/../srv/\"}", NULL, &s, &err),
               0, "cgroupns private, hostname, tty, env");
        is_int(cJSON_GetArraySize(path(s, "linux.namespaces")), 6, "cgroup namespace added");
        is_str(pstr(s, "hostname"), "web", "--hostname");
        ok(cJSON_IsTrue(path(s, "process.terminal")), "terminal");
        is_str(pstr(s, "process.env.0"), "HOSTNAME=web", "no default PATH when given");
        is_str(pstr(s, "process.env.1"), "TERM=xterm", "TERM with a tty");
        is_str(pstr(s, "process.env.2"), "PATH=/bin", "user PATH");
        is_str(pstr(s, "process.cwd"), "/srv", "cwd cleaned");
        ok(!find_mount(s, "/dev/shm"), "IpcMode none: no /dev/shm");
        cJSON_Delete(s);
}

static void test_user(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct spec_user u = { 0 };
        _cleanup_json_ cJSON *ga = parse("[\"audio\",\"4242\"]");
        _cleanup_free_ char *evil = xasprintf("%s/evil", rootfs);
        _cleanup_free_ char *evil_etc = xasprintf("%s/evil/etc", rootfs);

        is_int(spec_user_resolve(rootfs, "nobody", NULL, &u, &err), 0, "user by name");
        is_int(u.uid, 65534, "nobody uid");
        is_int(u.gid, 65534, "nobody gid");
        is_str(u.home, "/nonexistent", "nobody home");
        spec_user_release(&u);
        is_int(spec_user_resolve(rootfs, "app", ga, &u, &err), 0, "user with groups");
        is_int(u.uid, 1000, "app uid");
        is_int(u.n_gids, 3, "supplementary (wheel) + GroupAdd audio + 4242");
        ok(u.n_gids == 3 && u.gids[0] == 10 && u.gids[1] == 29 && u.gids[2] == 4242, "gids in order");
        spec_user_release(&u);
        is_int(spec_user_resolve(rootfs, "1234:5678", NULL, &u, &err), 0, "numeric user not in passwd");
        ok(u.uid == 1234 && u.gid == 5678 && !strcmp(u.home, "/"), "numeric uid:gid, home /");
        spec_user_release(&u);
        is_int(spec_user_resolve(rootfs, "app:nogroup", NULL, &u, &err), 0, "name:group");
        is_int(u.gid, 65534, "group by name");
        spec_user_release(&u);
        is_int(spec_user_resolve(rootfs, "app:nosuch", NULL, &u, &err), -EINVAL, "unknown group");
        is_str(err.msg, "unable to find group nosuch: no matching entries in group file", "message");

        /* a rootfs whose /etc/passwd is an absolute symlink resolves inside it */
        mkdir(evil, 0755);
        mkdir(evil_etc, 0755);
        {
                _cleanup_free_ char *l = xasprintf("%s/evil/etc/passwd", rootfs);
                if (symlink("/../../../../etc/passwd-real", l) < 0)
                        abort();
                write_file(evil, "passwd-real", "x");
                write_file(evil_etc, "passwd-real", "inside:x:777:777::/in:/bin/sh\n");
        }
        is_int(spec_user_resolve(evil, "inside", NULL, &u, &err), 0, "symlinked passwd stays in the rootfs");
        is_int(u.uid, 777, "read the rootfs's file");
        spec_user_release(&u);
        is_int(spec_user_resolve(evil, "root", NULL, &u, &err), -EINVAL, "host passwd never read");
}

static void test_merge(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        _cleanup_json_ cJSON *img = parse("{\"Env\":[\"PATH=/img/bin\",\"A=img\",\"B=img\"],\"Cmd\":[\"sh\"],"
                                          "\"Entrypoint\":[\"/entry\"],\"WorkingDir\":\"/w\",\"User\":\"nobody\","
                                          "\"Labels\":{\"l\":\"img\"},\"StopSignal\":\"SIGQUIT\"}");
        _cleanup_json_ cJSON *c1 = parse("{\"Env\":[\"A=ct\"],\"Cmd\":null,\"Entrypoint\":null,\"Labels\":{\"m\":\"ct\"}}");
        _cleanup_json_ cJSON *c2 = parse("{\"Cmd\":null,\"Entrypoint\":[\"/bin/echo\"]}");
        cJSON *m = NULL, *s = NULL;

        is_int(spec_merge_image_config(c1, img, &m, &err), 0, "merge");
        is_str(pstr(m, "Env.0"), "PATH=/img/bin", "image env kept");
        is_str(pstr(m, "Env.1"), "A=ct", "container env wins");
        is_str(pstr(m, "Cmd.0"), "sh", "image cmd");
        is_str(pstr(m, "Entrypoint.0"), "/entry", "image entrypoint");
        is_str(pstr(m, "WorkingDir"), "/w", "image workdir");
        is_str(pstr(m, "StopSignal"), "SIGQUIT", "image stop signal");
        ok(pstr(m, "Labels.l") && pstr(m, "Labels.m"), "labels merged");
        cJSON_Delete(m);
        is_int(spec_merge_image_config(c2, img, &m, &err), 0, "merge with entrypoint");
        ok(cJSON_IsNull(path(m, "Cmd")), "client entrypoint drops image cmd");
        cJSON_Delete(m);

        is_int(gen("{\"Cmd\":null}", img, &s, &err), 0, "generate with image config");
        is_str(pstr(s, "process.args.0"), "/entry", "entrypoint");
        is_str(pstr(s, "process.args.1"), "sh", "then cmd");
        is_int(pnum(s, "process.user.uid"), 65534, "image user");
        is_str(pstr(s, "process.cwd"), "/w", "image workdir");
        cJSON_Delete(s);
        s = NULL;
        is_int(gen("{\"Entrypoint\":[\"\"],\"Cmd\":[\"true\"]}", img, &s, &err), 0, "--entrypoint \"\"");
        is_str(pstr(s, "process.args.0"), "true", "empty entrypoint resets it");
        is_int(cJSON_GetArraySize(path(s, "process.args")), 1, "one arg");
        cJSON_Delete(s);
}

static void test_parsers(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        int64_t v = 0, soft, hard;
        char name[32];
        cJSON *d = NULL;
        const char *ns = NULL;

        is_int(spec_parse_signal("SIGTERM"), 15, "SIGTERM");
        is_int(spec_parse_signal("TERM"), 15, "TERM");
        is_int(spec_parse_signal("15"), 15, "15");
        is_int(spec_parse_signal("sigkill"), 9, "sigkill");
        is_int(spec_parse_signal("SIGRTMIN+3"), SIGRTMIN + 3, "SIGRTMIN+3");
        is_int(spec_parse_signal("SIGFOO"), -EINVAL, "SIGFOO");
        is_int(spec_parse_signal("0"), -EINVAL, "0");
        ok(spec_parse_bytes("64m", &v) == 0 && v == 64LL << 20, "64m");
        ok(spec_parse_bytes("1.5g", &v) == 0 && v == 3LL << 29, "1.5g");
        ok(spec_parse_bytes("512KiB", &v) == 0 && v == 512LL << 10, "512KiB");
        ok(spec_parse_bytes("100", &v) == 0 && v == 100, "100");
        ok(spec_parse_bytes("x", &v) < 0 && spec_parse_bytes("10q", &v) < 0, "bad sizes");
        ok(spec_parse_ulimit("nofile=1024:2048", name, sizeof(name), &soft, &hard, &err) == 0 &&
           !strcmp(name, "nofile") && soft == 1024 && hard == 2048, "ulimit soft:hard");
        ok(spec_parse_ulimit("nproc=512", name, sizeof(name), &soft, &hard, &err) == 0 && soft == 512 &&
           hard == 512, "ulimit single");
        is_int(spec_parse_ulimit("nofile=10:5", name, sizeof(name), &soft, &hard, &err), -EINVAL, "soft > hard");
        is_str(err.msg, "ulimit soft limit must be less than or equal to hard limit: 10 > 5", "message");
        is_int(spec_parse_ulimit("foo=1", name, sizeof(name), &soft, &hard, &err), -EINVAL, "bad type");
        is_int(spec_parse_device("/dev/fuse", &d, &err), 0, "device");
        ok(!strcmp(pstr(d, "PathInContainer"), "/dev/fuse") && !strcmp(pstr(d, "CgroupPermissions"), "rwm"),
           "device defaults");
        cJSON_Delete(d);
        is_int(spec_parse_device("/dev/sda:/dev/xvda:r", &d, &err), 0, "device full");
        ok(!strcmp(pstr(d, "PathInContainer"), "/dev/xvda") && !strcmp(pstr(d, "CgroupPermissions"), "r"),
           "device mapping and mode");
        cJSON_Delete(d);
        is_int(spec_parse_device("/dev/sda:/dev/xvda:rwx", &d, &err), -EINVAL, "bad device mode");
        ok(spec_sysctl_namespaced("net.core.somaxconn", &ns) && !strcmp(ns, "net"), "net.* namespaced");
        ok(spec_sysctl_namespaced("kernel.shmmax", &ns) && !strcmp(ns, "ipc"), "kernel.shmmax ipc");
        ok(spec_sysctl_namespaced("fs.mqueue.msg_max", &ns), "fs.mqueue.*");
        ok(!spec_sysctl_namespaced("kernel.pid_max", &ns) && !spec_sysctl_namespaced("vm.swappiness", &ns),
           "global sysctls refused");
        is_int(spec_cap_from_name("net_admin"), 12, "cap by name without prefix");
        is_int(spec_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40, "last cap");
}

static void test_extra(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        _cleanup_json_ cJSON *b = body_with(
                "{\"User\":\"app\",\"HostConfig\":{\"Init\":true,\"Ulimits\":[{\"Name\":\"nproc\",\"Soft\":10,\"Hard\":20}],"
                "\"Devices\":[{\"PathOnHost\":\"/dev/null\",\"PathInContainer\":\"/dev/mynull\",\"CgroupPermissions\":\"rw\"}],"
                "\"DeviceCgroupRules\":[\"c 42:* rmw\"],\"Sysctls\":{\"net.core.somaxconn\":\"1024\",\"kernel.shmmax\":\"1000000\"},"
                "\"NetworkMode\":\"container:abc\",\"Binds\":[\"/tmp:/mnt\"]}}");
        _cleanup_json_ cJSON *defaults = parse("[{\"Name\":\"nproc\",\"Soft\":1,\"Hard\":1},{\"Name\":\"core\",\"Soft\":0,\"Hard\":0}]");
        struct spec_input in = { .create_config = b, .container_id = ID, .rootfs = rootfs,
                                 .netns_path = "/proc/1/ns/net", .init_path = "/usr/bin/docker-init",
                                 .default_ulimits = defaults, .seccomp_disabled = true };
        _cleanup_json_ cJSON *s = NULL;
        const cJSON *m, *n, *d;
        bool joined = false;
        int i = 0;

        is_int(spec_generate(&in, &s, &err), 0, "init, devices, sysctls, joined netns (%s)", err.msg);
        is_str(pstr(s, "process.args.0"), "/sbin/docker-init", "--init runs docker-init");
        is_str(pstr(s, "process.args.1"), "--", "then --");
        is_str(pstr(s, "process.args.2"), "echo", "then the command");
        m = find_mount(s, "/sbin/docker-init");
        ok(m && !strcmp(berth_json_str(m, "source"), "/usr/bin/docker-init") &&
           has_str(cJSON_GetObjectItem(m, "options"), "ro"), "init bound read-only");
        is_int(pnum(s, "process.user.additionalGids.0"), 1000, "primary gid first in additionalGids");
        is_int(pnum(s, "process.user.additionalGids.1"), 10, "then supplementary groups");
        is_int(cJSON_GetArraySize(path(s, "process.rlimits")), 2, "container ulimit + one daemon default");
        is_str(pstr(s, "process.rlimits.0.type"), "RLIMIT_NPROC", "container's nproc wins");
        is_int(pnum(s, "process.rlimits.0.soft"), 10, "soft from container");
        is_str(pstr(s, "process.rlimits.1.type"), "RLIMIT_CORE", "daemon default core");
        is_str(pstr(s, "linux.devices.0.path"), "/dev/mynull", "--device mapped path");
        is_int(pnum(s, "linux.devices.0.major"), 1, "major of /dev/null");
        is_int(pnum(s, "linux.devices.0.minor"), 3, "minor of /dev/null");
        cJSON_ArrayForEach(d, path(s, "linux.resources.devices"))
                i++;
        is_int(i, 10, "device rules: defaults + device + cgroup rule");
        d = path(s, "linux.resources.devices.8");
        ok(cJSON_IsTrue(cJSON_GetObjectItem(d, "allow")) && !strcmp(pstr(d, "access"), "rw") &&
           pnum(d, "major") == 1 && pnum(d, "minor") == 3, "device permission rule");
        d = path(s, "linux.resources.devices.9");
        ok(d && pnum(d, "major") == 42 && !cJSON_GetObjectItem(d, "minor") && !strcmp(pstr(d, "access"), "rmw"),
           "--device-cgroup-rule with a wildcard minor");
        ok(cJSON_GetObjectItem(path(s, "linux.sysctl"), "net.core.somaxconn") &&
           cJSON_GetObjectItem(path(s, "linux.sysctl"), "kernel.shmmax"), "namespaced sysctls kept");
        ok(!cJSON_GetObjectItem(path(s, "linux.sysctl"), "net.ipv4.ping_group_range"),
           "no default sysctls in a joined netns");
        cJSON_ArrayForEach(n, path(s, "linux.namespaces"))
                if (!strcmp(berth_json_str(n, "type"), "network") &&
                    !strcmp(berth_json_str(n, "path"), "/proc/1/ns/net"))
                        joined = true;
        ok(joined, "container: network joins the given netns");
        ok(!path(s, "linux.seccomp"), "no seccomp on a host without it");
        m = find_mount(s, "/mnt");
        ok(m && cJSON_GetArraySize(cJSON_GetObjectItem(m, "options")) == 2 &&
           has_str(cJSON_GetObjectItem(m, "options"), "rbind") &&
           has_str(cJSON_GetObjectItem(m, "options"), "rprivate"), "-v bind: rbind + rprivate");
}

static void test_more(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        cJSON *s = NULL;

        is_int(gen("{\"Domainname\":\"example.org\",\"HostConfig\":{\"Annotations\":{\"a.b\":\"c\"},"
                   "\"Binds\":[\"/tmp:/dev\"]}}", NULL, &s, &err), 0, "domainname, annotations, /dev bind");
        is_str(cJSON_GetObjectItem(path(s, "linux.sysctl"), "kernel.domainname")->valuestring, "example.org",
               "Domainname as kernel.domainname");
        is_str(cJSON_GetObjectItem(path(s, "annotations"), "a.b")->valuestring, "c", "annotations");
        ok(!find_mount(s, "/dev/pts") && !find_mount(s, "/dev/shm") && !find_mount(s, "/dev/mqueue"),
           "a user /dev drops the default mounts under /dev");
        cJSON_Delete(s);
}

static void test_validate(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        _cleanup_free_ char *patch = xasprintf("{\"HostConfig\":{\"Binds\":[\"%s/notyet:/x\"],"
                                               "\"Devices\":[{\"PathOnHost\":\"/dev/nosuchdev\"}],"
                                               "\"NetworkMode\":\"container:abc\",\"IpcMode\":\"container:abc\"}}",
                                               rootfs);
        _cleanup_free_ char *notyet = xasprintf("%s/notyet", rootfs);
        _cleanup_json_ cJSON *good = body_with(patch);
        _cleanup_json_ cJSON *bad = body_with("{\"HostConfig\":{\"Memory\":4096}}");
        _cleanup_json_ cJSON *bad2 = body_with("{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/nonexistent-src\",\"Target\":\"/x\"}]}}");
        struct stat st;

        is_int(spec_validate(good, NULL, NULL, &err), 0, "validate: a good body (%s)", err.msg);
        ok(stat(notyet, &st) < 0, "validate creates no bind source");
        is_int(spec_validate(bad, NULL, NULL, &err), -EINVAL, "validate: memory too low");
        is_str(err.msg, "Minimum memory limit allowed is 6MB", "validate message");
        is_int(spec_validate(bad2, NULL, NULL, &err), -EINVAL, "validate: --mount bind source missing");
        is_str(err.msg, "invalid mount config for type \"bind\": bind source path does not exist: /nonexistent-src",
               "validate message");
}

/* u-spec gen BODY ROOTFS ID CGPARENT [DIR] */
static int cmd_gen(int argc, char **argv)
{
        struct berth_err err = BERTH_ERR_INIT;
        _cleanup_free_ char *text = NULL, *h = NULL, *hs = NULL, *r = NULL;
        _cleanup_json_ cJSON *body = NULL, *spec = NULL;
        size_t len;
        char *out;

        if (argc < 6)
                return 2;
        if (berth_read_file(argv[2], 1 << 20, &text, &len, &err) < 0 ||
            berth_json_parse(text, len, &body, &err) < 0) {
                fprintf(stderr, "u-spec: %s\n", err.msg);
                return 1;
        }
        if (argc > 6) {
                const char *host = berth_json_str(body, "Hostname");
                _cleanup_free_ char *hline = xasprintf("%s\n", host && *host ? host : "spectest");
                h = xasprintf("%s/hostname", argv[6]);
                hs = xasprintf("%s/hosts", argv[6]);
                r = xasprintf("%s/resolv.conf", argv[6]);
                write_file(argv[6], "hostname", hline);
                write_file(argv[6], "hosts", "127.0.0.1\tlocalhost\n");
                write_file(argv[6], "resolv.conf", "nameserver 127.0.0.1\n");
        }
        struct spec_input in = { .create_config = body, .container_id = argv[4], .rootfs = argv[3],
                                 .cgroup_parent = argv[5], .hostname_path = h, .hosts_path = hs,
                                 .resolv_conf_path = r, .cgroup_version = 1 };
        if (spec_generate(&in, &spec, &err) < 0) {
                fprintf(stderr, "u-spec: %s\n", err.msg);
                return 1;
        }
        out = cJSON_Print(spec);
        puts(out);
        free(out);
        return 0;
}

int main(int argc, char **argv)
{
        char tmpl[] = "/tmp/u-spec.XXXXXX";
        _cleanup_free_ char *etc = NULL, *cmd = NULL;

        berth_json_init();
        if (argc > 1 && !strcmp(argv[1], "gen"))
                return cmd_gen(argc, argv);
        if (!mkdtemp(tmpl))
                return 1;
        snprintf(rootfs, sizeof(rootfs), "%s", tmpl);
        etc = xasprintf("%s/etc", rootfs);
        mkdir(etc, 0755);
        write_file(etc, "passwd", "root:x:0:0:root:/root:/bin/sh\n"
                                  "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
                                  "app:x:1000:1000::/home/app:/bin/sh\n");
        write_file(etc, "group", "root:x:0:\nwheel:x:10:app\naudio:x:29:\nnogroup:x:65534:\n");

        test_default_run();
        test_seccomp_table();
        test_caps();
        test_privileged_security();
        test_resources();
        test_mounts();
        test_namespaces();
        test_user();
        test_merge();
        test_parsers();
        test_extra();
        test_more();
        test_validate();

        cmd = xasprintf("rm -rf -- '%s'", rootfs);
        if (system(cmd) != 0)
                printf("# could not remove %s\n", rootfs);
        return tap_done();
}
